//! Link options of the WebAssembly module.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_FAMILY").as_deref() == Ok("wasm") {
        // An 8 MiB stack instead of Rust's 1 MiB for wasm32: the validator
        // and the FHIRPath engine recurse over resources nested up to the
        // parse limit (512 levels) and expressions nested up to 200, and
        // stacker (which grows the stack on native targets) has no wasm32
        // support. The stack is placed first in memory, so an overflow
        // traps instead of overwriting data.
        println!("cargo:rustc-cdylib-link-arg=-zstack-size=8388608");
    }
}
