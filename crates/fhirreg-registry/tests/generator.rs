//! The committed embedded layers match what their generators make of the
//! packages: `profiles/r4-core` from `scripts/gen-r4-core.py` and the
//! examples package, `profiles/hl7-terminology` from
//! `scripts/gen-hl7-terminology.py` and hl7.terminology.r4 (same index, same
//! JSON per resource; the deflate bytes may differ between zlib builds).
//! Each skips when python3 or its package .tgz is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

fn find(env: &str, name: &str, extra: Option<PathBuf>) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os(env).map(PathBuf::from),
        extra,
        Some(Path::new("/tmp/npm").join(name)),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

/// (index line without offset/length, inflated JSON) per resource.
fn read(dir: &Path, blob_name: &str) -> Vec<(String, Vec<u8>)> {
    let index = std::fs::read_to_string(dir.join("index.tsv")).unwrap();
    let blob = std::fs::read(dir.join(blob_name)).unwrap();
    let mut lines = index.lines();
    let header = lines.next().unwrap();
    let mut out = vec![(header.to_owned(), Vec::new())];
    out.extend(lines.map(|line| {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 12, "{line}");
        let offset: usize = f[10].parse().unwrap();
        let length: usize = f[11].parse().unwrap();
        let json = miniz_oxide::inflate::decompress_to_vec(&blob[offset..offset + length]).unwrap();
        (f[..10].join("\t"), json)
    }));
    out
}

/// Run `script` on `tgz` into a temporary folder and compare with the
/// committed `profiles/<layer>`.
fn check(script: &str, tgz: &Path, layer: &str, blob_name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::env::temp_dir().join(format!("fhirreg-gen-{layer}-{}", std::process::id()));
    let status = Command::new("python3")
        .arg(root.join("scripts").join(script))
        .arg(tgz)
        .arg("--out")
        .arg(&out)
        .status();
    match status {
        Ok(s) => assert!(s.success(), "{script} failed: {s}"),
        Err(e) => {
            println!("skipped: cannot run python3: {e}");
            return;
        }
    }
    let committed = read(&root.join("profiles").join(layer), blob_name);
    let generated = read(&out, blob_name);
    let _ = std::fs::remove_dir_all(&out);
    assert_eq!(committed.len(), generated.len());
    assert!(committed.len() > 1000, "{layer}: {}", committed.len());
    for (c, g) in committed.iter().zip(&generated) {
        assert_eq!(c.0, g.0);
        assert!(c.1 == g.1, "content differs: {}", c.0);
    }
}

#[test]
fn committed_core_matches_generator() {
    let name = "hl7.fhir.r4.examples-4.0.1.tgz";
    // scripts/fetch-r4-examples.sh keeps the .tgz beside `package/`.
    let beside = std::env::var_os("FHIRREG_R4_EXAMPLES")
        .map(PathBuf::from)
        .and_then(|p| p.parent().map(|d| d.join(name)));
    let Some(tgz) = find("FHIRREG_R4_EXAMPLES_TGZ", name, beside) else {
        println!("skipped: {name} not found (set FHIRREG_R4_EXAMPLES_TGZ, or FHIRREG_R4_EXAMPLES from scripts/fetch-r4-examples.sh)");
        return;
    };
    check("gen-r4-core.py", &tgz, "r4-core", "core.bin");
}

#[test]
fn committed_terminology_matches_generator() {
    let name = "hl7.terminology.r4-7.0.1.tgz";
    let Some(tgz) = find("FHIRREG_HL7_TERMINOLOGY_TGZ", name, None) else {
        println!("skipped: {name} not found (set FHIRREG_HL7_TERMINOLOGY_TGZ; `npm pack hl7.terminology.r4@7.0.1` fetches it)");
        return;
    };
    check(
        "gen-hl7-terminology.py",
        &tgz,
        "hl7-terminology",
        "resources.bin",
    );
}
