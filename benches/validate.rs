//! Parse + structural validation throughput over the instance examples of
//! hl7.fhir.r4.examples (fetched by scripts/fetch-r4-examples.sh; set
//! FHIRREG_R4_EXAMPLES to its folder). Prints resources/s.
//!
//! `profile-vs-core`: one Patient validated against the core Patient and
//! against a profile of it (identifier slices by system, cardinalities, a
//! fixed value, a required binding), in the same run: the cost of a
//! compiled profile relative to the core type (issue target: at most 2x).

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

/// A profile with the usual national-profile shape: identifier slices
/// told apart by system, cardinalities, a fixed value and a binding.
const PROFILE: &str = r#"{
  "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/bench-patient",
  "name": "BenchPatient", "status": "active", "kind": "resource", "abstract": false, "type": "Patient",
  "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
  "differential": {"element": [
    {"id": "Patient.identifier", "path": "Patient.identifier", "min": 1,
     "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "open"}},
    {"id": "Patient.identifier:fnr", "path": "Patient.identifier", "sliceName": "fnr", "max": "1"},
    {"id": "Patient.identifier:fnr.system", "path": "Patient.identifier.system", "min": 1,
     "fixedUri": "urn:oid:2.16.578.1.12.4.1.4.1"},
    {"id": "Patient.identifier:fnr.value", "path": "Patient.identifier.value", "min": 1},
    {"id": "Patient.identifier:dnr", "path": "Patient.identifier", "sliceName": "dnr", "max": "1"},
    {"id": "Patient.identifier:dnr.system", "path": "Patient.identifier.system", "min": 1,
     "fixedUri": "urn:oid:2.16.578.1.12.4.1.4.2"},
    {"id": "Patient.name", "path": "Patient.name", "min": 1},
    {"id": "Patient.name.family", "path": "Patient.name.family", "min": 1},
    {"id": "Patient.gender", "path": "Patient.gender", "min": 1,
     "binding": {"strength": "required", "valueSet": "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1"}},
    {"id": "Patient.address.country", "path": "Patient.address.country", "fixedString": "NO"}
  ]}
}"#;

const PATIENT: &[u8] = br#"{
  "resourceType": "Patient", "id": "p1",
  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Kari Nordmann</div>"},
  "identifier": [
    {"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "13031353453"},
    {"system": "http://example.org/mrn", "value": "123"}
  ],
  "name": [{"family": "Nordmann", "given": ["Kari"]}],
  "gender": "female", "birthDate": "2013-03-13",
  "address": [{"line": ["Storgata 1"], "city": "Oslo", "postalCode": "0150", "country": "NO"}]
}"#;

fn bench_profile(c: &mut Criterion) {
    let validator = fhirreg::Validator::builder()
        .load_bytes("bench-patient.json", PROFILE.as_bytes())
        .build()
        .expect("validator");
    let profiles = ["http://example.org/fhir/StructureDefinition/bench-patient".to_string()];
    // Both must be valid, or the comparison measures error reporting.
    assert!(validator.validate(PATIENT).is_valid());
    assert!(validator
        .validate_with_profiles(PATIENT, &profiles)
        .is_valid());
    let mut group = c.benchmark_group("profile-vs-core");
    group.throughput(Throughput::Elements(1));
    group.bench_function("core", |b| b.iter(|| validator.validate(PATIENT)));
    group.bench_function("profile", |b| {
        b.iter(|| validator.validate_with_profiles(PATIENT, &profiles))
    });
    group.finish();
}

criterion_group!(benches, bench, bench_profile);
criterion_main!(benches);
