//! Start-up figures: build the default registry (R4 core + HL7 terminology)
//! and the core alone, resolve a few definitions, index the NamingSystems.
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
    let t = Instant::now();
    let loinc = registry.naming_system("2.16.840.1.113883.6.1").is_some();
    println!(
        "first naming_system (indexes all): {loinc} in {:?}",
        t.elapsed()
    );
    println!("build: {build:?} ({} resources)", registry.len());
    let t = Instant::now();
    let core_only = fhirreg_registry::Registry::builder()
        .hl7_terminology(false)
        .build()
        .map(|r| r.len())
        .unwrap_or(0);
    println!("build core only: {:?} ({core_only} resources)", t.elapsed());
}
