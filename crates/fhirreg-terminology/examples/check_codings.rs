//! Validate `system<TAB>code<TAB>display` lines (from a file argument) against
//! the code systems of the embedded R4 core and print every finding.
//!
//! `cargo run -p fhirreg-terminology --example check_codings -- codings.tsv`

use fhirreg_registry::Registry;
use fhirreg_terminology::Terminology;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: check_codings FILE.tsv")?;
    let text = std::fs::read_to_string(path)?;
    let tx = Terminology::new(Registry::builder().build()?);
    let (mut ok, mut unknown, mut bad) = (0, 0, 0);
    for line in text.lines() {
        let mut f = line.split('\t');
        let (Some(system), Some(code)) = (f.next(), f.next()) else {
            continue;
        };
        let display = f.next().filter(|d| !d.is_empty());
        let r = tx.validate_code_in_system(system, code, display)?;
        if r.unknown {
            unknown += 1;
        } else if r.valid {
            ok += 1;
        } else {
            bad += 1;
        }
        for i in &r.issues {
            if !r.unknown {
                println!("{:?}\t{}", i.severity, i.message);
            }
        }
    }
    println!("valid {ok}, invalid {bad}, not checked {unknown}");
    Ok(())
}
