//! The committed `profiles/r4-core` matches what `scripts/gen-r4-core.py`
//! makes of the examples package (same index, same JSON per resource; the
//! deflate bytes may differ between zlib builds). Skips when python3 or the
//! package .tgz is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

fn package_tgz() -> Option<PathBuf> {
    let name = "hl7.fhir.r4.examples-4.0.1.tgz";
    let candidates = [
        std::env::var_os("FHIRREG_R4_EXAMPLES_TGZ").map(PathBuf::from),
        // scripts/fetch-r4-examples.sh keeps the .tgz beside `package/`.
        std::env::var_os("FHIRREG_R4_EXAMPLES")
            .map(PathBuf::from)
            .and_then(|p| p.parent().map(|d| d.join(name))),
        Some(Path::new("/tmp/npm").join(name)),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

/// (index line without offset/length, inflated JSON) per resource.
fn read(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let index = std::fs::read_to_string(dir.join("index.tsv")).unwrap();
    let blob = std::fs::read(dir.join("core.bin")).unwrap();
    index
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 12, "{line}");
            let offset: usize = f[10].parse().unwrap();
            let length: usize = f[11].parse().unwrap();
            let json =
                miniz_oxide::inflate::decompress_to_vec(&blob[offset..offset + length]).unwrap();
            (f[..10].join("\t"), json)
        })
        .collect()
}

#[test]
fn committed_core_matches_generator() {
    let Some(tgz) = package_tgz() else {
        println!("skipped: hl7.fhir.r4.examples-4.0.1.tgz not found (set FHIRREG_R4_EXAMPLES_TGZ, or FHIRREG_R4_EXAMPLES from scripts/fetch-r4-examples.sh)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::env::temp_dir().join(format!("fhirreg-gen-{}", std::process::id()));
    let status = Command::new("python3")
        .arg(root.join("scripts/gen-r4-core.py"))
        .arg(&tgz)
        .arg("--out")
        .arg(&out)
        .status();
    match status {
        Ok(s) => assert!(s.success(), "generator failed: {s}"),
        Err(e) => {
            println!("skipped: cannot run python3: {e}");
            return;
        }
    }
    let committed = read(&root.join("profiles/r4-core"));
    let generated = read(&out);
    let _ = std::fs::remove_dir_all(&out);
    assert_eq!(committed.len(), generated.len());
    for (c, g) in committed.iter().zip(&generated) {
        assert_eq!(c.0, g.0);
        assert!(c.1 == g.1, "content differs: {}", c.0);
    }
}
