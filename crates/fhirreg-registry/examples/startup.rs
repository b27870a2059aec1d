//! Start-up figures: build the core registry and resolve a few definitions.
//!
//! `cargo run --release -p fhirreg-registry --example startup [CANONICAL...]`

use std::time::Instant;

fn main() {
    let t = Instant::now();
    let registry = match fhirreg_registry::Registry::builder().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let build = t.elapsed();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names = if args.is_empty() {
        ["Patient", "HumanName", "string", "Extension", "Identifier"]
            .map(String::from)
            .to_vec()
    } else {
        args
    };
    for name in &names {
        let t = Instant::now();
        let found = registry.type_definition(name).is_some() || registry.resolve(name).is_some();
        println!("resolve {name}: {found} in {:?}", t.elapsed());
    }
    println!("build: {build:?} ({} resources)", registry.len());
}
