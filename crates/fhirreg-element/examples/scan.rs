//! Read every .json/.xml file under the given directories and summarise
//! parse errors and issues: `cargo run -p fhirreg-element --example scan -- DIR...`.

use fhirreg_element::{json, xml, ParseOptions};
use std::path::Path;

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "json" || x == "xml") {
            out.push(p);
        }
    }
}

fn main() {
    let mut files = Vec::new();
    for d in std::env::args().skip(1) {
        walk(Path::new(&d), &mut files);
    }
    files.sort();
    let opts = ParseOptions::default();
    let (mut ok, mut errs, mut with_issues) = (0, 0, 0);
    for f in &files {
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        let r = if f.extension().is_some_and(|x| x == "xml") {
            xml::parse(&bytes, &opts)
        } else {
            json::parse(&bytes, &opts)
        };
        match r {
            Ok(d) if d.issues.is_empty() => ok += 1,
            Ok(d) => {
                with_issues += 1;
                for i in d.issues.iter().take(3) {
                    println!(
                        "ISSUE {} {} {} {:?} {}",
                        f.display(),
                        i.message_id(),
                        i.expression,
                        i.pos,
                        i.message()
                    );
                }
            }
            Err(e) => {
                errs += 1;
                println!("ERROR {} {e}", f.display());
            }
        }
    }
    println!(
        "{} files: {ok} clean, {with_issues} with issues, {errs} parse errors",
        files.len()
    );
}
