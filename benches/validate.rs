//! Parse + structural validation throughput over the instance examples of
//! hl7.fhir.r4.examples (fetched by scripts/fetch-r4-examples.sh; set
//! FHIRREG_R4_EXAMPLES to its folder). Prints resources/s.

use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fhirreg::registry::DEFINITION_RESOURCE_TYPES as DEFINITION_TYPES;

fn examples() -> Vec<Vec<u8>> {
    let dir = std::env::var_os("FHIRREG_R4_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/r4-examples/package")
        });
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "benches: skipped: no examples at {} (run scripts/fetch-r4-examples.sh)",
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
    let validator = fhirreg::Validator::builder().build().expect("validator");
    // Warm the plan cache once: compile once, validate many.
    let start = Instant::now();
    for bytes in &examples {
        validator.validate(bytes);
    }
    eprintln!(
        "first pass (compiling plans): {} resources in {:.1} ms",
        examples.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
    let mut group = c.benchmark_group("r4-examples");
    group.throughput(Throughput::Elements(examples.len() as u64));
    group.sample_size(10);
    group.bench_function("parse", |b| {
        b.iter(|| {
            for bytes in &examples {
                let _ = fhirreg_element::json::parse(bytes, &Default::default());
            }
        })
    });
    group.bench_function("parse+validate", |b| {
        b.iter(|| {
            for bytes in &examples {
                validator.validate(bytes);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
