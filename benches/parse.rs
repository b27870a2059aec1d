//! Parsing alone, as MB/s: the fhirreg JSON reader (element tree with
//! positions and the FHIR JSON rules) next to `serde_json::from_slice` into
//! a `serde_json::Value`, on the same files: the instance examples of
//! hl7.fhir.r4.examples (FHIRREG_R4_EXAMPLES, see
//! scripts/fetch-r4-examples.sh), split into the resources of at most 1 MB
//! (`small`) and the large Bundles (`large`).

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use fhirreg::registry::DEFINITION_RESOURCE_TYPES as DEFINITION_TYPES;

const LARGE: usize = 1 << 20;

fn examples() -> Vec<Vec<u8>> {
    let dir = std::env::var_os("FHIRREG_R4_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/r4-examples/package")
        });
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "parse bench: skipped: no examples at {} (run scripts/fetch-r4-examples.sh)",
            dir.display()
        );
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let resource_type = name.split('-').next().unwrap_or("");
            !DEFINITION_TYPES.contains(&resource_type)
                && !name.starts_with("package")
                && !name.starts_with('.')
        })
        .collect();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn bench(c: &mut Criterion) {
    let examples = examples();
    if examples.is_empty() {
        return;
    }
    let options = fhirreg::ParseOptions::default();
    let (small, large): (Vec<Vec<u8>>, Vec<Vec<u8>>) =
        examples.into_iter().partition(|b| b.len() <= LARGE);
    for (name, files) in [("small", small), ("large", large)] {
        if files.is_empty() {
            continue;
        }
        // Both readers must accept every file, or the comparison is unfair.
        let files: Vec<Vec<u8>> = files
            .into_iter()
            .filter(|b| {
                fhirreg::json::parse(b, &options).is_ok()
                    && serde_json::from_slice::<serde_json::Value>(b).is_ok()
            })
            .collect();
        let bytes: usize = files.iter().map(Vec::len).sum();
        eprintln!(
            "parse/{name}: {} files, {:.1} MB",
            files.len(),
            bytes as f64 / 1e6
        );
        let mut group = c.benchmark_group(format!("parse/{name}"));
        group.throughput(Throughput::Bytes(bytes as u64));
        group.sample_size(10);
        group.bench_function("fhirreg-json", |b| {
            b.iter(|| {
                for file in &files {
                    let _ = black_box(fhirreg::json::parse(file, &options));
                }
            })
        });
        group.bench_function("serde_json-value", |b| {
            b.iter(|| {
                for file in &files {
                    let _ = black_box(serde_json::from_slice::<serde_json::Value>(file));
                }
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
