//! `Patient.name.where(use='official').given.first()` on a small patient:
//! compile once, evaluate many times.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use fhirreg_element::{json, ParseOptions};
use fhirreg_fhirpath::{EvalContext, Expression};
use fhirreg_registry::model::FhirPathModel;

const PATIENT: &str = r#"{
  "resourceType": "Patient",
  "id": "example",
  "active": true,
  "name": [
    {"use": "official", "family": "Chalmers", "given": ["Peter", "James"]},
    {"use": "usual", "given": ["Jim"]},
    {"use": "maiden", "family": "Windsor", "given": ["Peter", "James"]}
  ],
  "gender": "male",
  "birthDate": "1974-12-25"
}"#;

fn bench(c: &mut Criterion) {
    let patient_doc = json::parse(PATIENT.as_bytes(), &ParseOptions::default()).expect("patient");
    let patient = patient_doc.root();
    let src = "Patient.name.where(use='official').given.first()";
    let expr = Expression::compile(src).expect("compiles");
    c.bench_function("compile", |b| {
        b.iter(|| Expression::compile(black_box(src)))
    });
    c.bench_function("evaluate (untyped)", |b| {
        b.iter(|| {
            let ctx = EvalContext::new(black_box(patient));
            expr.evaluate(&ctx).map(|v| v.len())
        })
    });
    let model = FhirPathModel::new(fhirreg_registry::Registry::builder().build().expect("core"));
    c.bench_function("evaluate (typed)", |b| {
        b.iter(|| {
            let ctx = EvalContext::new(black_box(patient)).with_model(&model);
            expr.evaluate(&ctx).map(|v| v.len())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
