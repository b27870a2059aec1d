//! Terminology benches: repeated validate-code against one value set (a
//! hash lookup once the index is built) and expansion of the largest
//! embedded value set.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use fhirreg_registry::Registry;
use fhirreg_terminology::{CodingRef, ExpandParams, Terminology};

fn terminology() -> Option<Terminology> {
    match Registry::builder().build() {
        Ok(r) => Some(Terminology::new(r)),
        Err(e) => {
            eprintln!("skipping terminology benches: registry failed to build: {e}");
            None
        }
    }
}

fn benches(c: &mut Criterion) {
    let Some(tx) = terminology() else { return };
    let gender = "http://hl7.org/fhir/ValueSet/administrative-gender";
    c.bench_function("validate_code administrative-gender (cached)", |b| {
        b.iter(|| {
            let r = tx.validate_code(
                gender,
                &CodingRef::new(
                    "http://hl7.org/fhir/administrative-gender",
                    black_box("female"),
                ),
            );
            black_box(r.map(|r| r.valid).unwrap_or(false))
        })
    });
    c.bench_function("validate_code bare code administrative-gender", |b| {
        b.iter(|| black_box(tx.validate_code(gender, &CodingRef::code(black_box("other")))))
    });
    c.bench_function("validate UCUM unit mg/dL", |b| {
        b.iter(|| {
            black_box(tx.validate_code_in_system(
                "http://unitsofmeasure.org",
                black_box("mg/dL"),
                None,
            ))
        })
    });
    // c80-doc-typecodes: 6401 LOINC codes, the largest embedded value set
    // that expands locally (ucum-common, ~1360 codes, is next)
    let largest = "http://hl7.org/fhir/ValueSet/c80-doc-typecodes";
    let params = ExpandParams::default();
    c.bench_function("expand c80-doc-typecodes (cached index)", |b| {
        b.iter(|| {
            black_box(
                tx.expand(largest, &params)
                    .map(|v| v["expansion"]["total"].clone()),
            )
        })
    });
    c.bench_function("expand c80-doc-typecodes cold (new engine)", |b| {
        b.iter_batched(
            terminology,
            |t| t.map(|t| t.expand(largest, &params).is_ok()),
            criterion::BatchSize::LargeInput,
        )
    });
}

criterion_group!(terminology_benches, benches);
criterion_main!(terminology_benches);
