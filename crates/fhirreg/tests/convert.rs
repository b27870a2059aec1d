//! JSON -> XML -> JSON through the facade's converter (the typing pass
//! decides arrays, JSON numbers and booleans and `_name` primitives) is
//! identical for every R4 example, numbers compared as written.
//! Needs `$FHIRREG_R4_EXAMPLES` (scripts/fetch-r4-examples.sh); skipped
//! with a message otherwise.

use fhirreg::{Format, Validator};
use serde_json::Value;

/// Equal as JSON, numbers compared by their text (never through f64).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.to_string() == y.to_string(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// `fhir_comments` is not FHIR content (the readers drop it).
fn strip_comments(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("fhir_comments");
            m.values_mut().for_each(strip_comments);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_comments),
        _ => {}
    }
}

#[test]
fn r4_examples_convert_json_xml_json_identically() {
    let Some(dir) = std::env::var_os("FHIRREG_R4_EXAMPLES") else {
        println!("skipped: FHIRREG_R4_EXAMPLES is not set (scripts/fetch-r4-examples.sh)");
        return;
    };
    let validator = Validator::builder().build().expect("embedded core");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n == "package.json" || n == ".index.json")
        })
        .collect();
    files.sort();
    let (mut n, mut failures) = (0, Vec::new());
    for f in &files {
        let Ok(src) = std::fs::read(f) else { continue };
        let Ok(mut original) = serde_json::from_slice::<Value>(&src) else {
            continue;
        };
        strip_comments(&mut original);
        n += 1;
        let back = validator
            .convert(&src, Format::Xml, false)
            .and_then(|xml| validator.convert(xml.as_bytes(), Format::Json, false));
        match back.map(|j| serde_json::from_str::<Value>(&j)) {
            Ok(Ok(v)) if same_json(&original, &v) => {}
            Ok(Ok(_)) => failures.push(format!("{}: differs", f.display())),
            Ok(Err(e)) => failures.push(format!("{}: output is not JSON: {e}", f.display())),
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
    }
    println!("{n} examples converted JSON -> XML -> JSON");
    assert!(n > 500, "only {n} examples");
    assert!(
        failures.is_empty(),
        "{} of {n} differ: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
}

/// The fast verdict (`is_valid`, which stops at the first error) is the
/// verdict of the full validation, on every R4 example.
#[test]
fn is_valid_agrees_with_validate_on_r4_examples() {
    let Some(dir) = std::env::var_os("FHIRREG_R4_EXAMPLES") else {
        println!("skipped: FHIRREG_R4_EXAMPLES is not set (scripts/fetch-r4-examples.sh)");
        return;
    };
    let validator = Validator::builder().build().expect("embedded core");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n == "package.json" || n == ".index.json")
        })
        .collect();
    files.sort();
    let (mut n, mut invalid, mut differ) = (0, 0, Vec::new());
    for f in files.iter().step_by(3) {
        let Ok(src) = std::fs::read(f) else { continue };
        let full = validator.validate(&src).is_valid();
        n += 1;
        invalid += usize::from(!full);
        if validator.is_valid(&src) != full {
            differ.push(f.display().to_string());
        }
    }
    println!("{n} examples, {invalid} invalid");
    assert!(n > 1000 && invalid > 10, "{n} examples, {invalid} invalid");
    assert!(
        differ.is_empty(),
        "is_valid differs from validate: {differ:?}"
    );
}
