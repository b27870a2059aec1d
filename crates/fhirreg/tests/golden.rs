//! The golden cases of `tests/golden/` (shared with the Python package's
//! tests) through the facade: validation outcomes and FHIRPath results.
//! `FHIRREG_BLESS=1` rewrites the expectations from what the facade gives
//! now (review the diff).

use std::path::{Path, PathBuf};

use fhirreg::{Error, FhirPath, Outcome, Validator, ValidatorOptions};
use serde_json::{json, Map, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(name: &str) -> Vec<Value> {
    let path = root().join("tests/golden").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn save(name: &str, cases: &[Value]) {
    let path = root().join("tests/golden").join(name);
    let mut text = serde_json::to_string_pretty(cases).expect("json");
    text.push('\n');
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
}

fn bless() -> bool {
    std::env::var_os("FHIRREG_BLESS").is_some_and(|v| v == "1")
}

/// The resource of a case: `file` (from the repository root) or `resource`.
fn input(case: &Value) -> Vec<u8> {
    match (case.get("file"), case.get("resource")) {
        (Some(Value::String(file)), _) => {
            std::fs::read(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
        }
        (_, Some(Value::String(text))) => text.as_bytes().to_vec(),
        _ => panic!("case without file or resource: {case}"),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// The expected-result part of a validation case, as the facade gives it.
fn validation_result(validator: &Validator, result: Result<Outcome, Error>) -> Value {
    match result {
        Err(Error::Parse(e)) => {
            json!({"error": "parse", "line": e.pos.line, "column": e.pos.col})
        }
        Err(Error::UnknownFormat) => json!({"error": "parse", "line": 1, "column": 1}),
        Err(Error::UnknownProfile(_)) => json!({"error": "unknown-profile"}),
        Err(e) => panic!("unexpected error {e}"),
        Ok(outcome) => {
            let issues: Vec<Value> = outcome
                .issues
                .iter()
                .map(|i| {
                    json!({
                        "severity": i.severity.code(),
                        "code": i.code.code(),
                        "message_id": i.message_id(),
                        "message": validator.message(i),
                        "expression": i.expression,
                        "line": i.pos.map(|p| p.line),
                        "column": i.pos.map(|p| p.col),
                    })
                })
                .collect();
            json!({"valid": outcome.is_valid(), "issues": issues})
        }
    }
}

#[test]
fn validation_cases() {
    let mut cases = load("validate.json");
    let mut failures = Vec::new();
    for case in &mut cases {
        let options = ValidatorOptions {
            extension_domains: strings(case.pointer("/options/extensions")),
            ..Default::default()
        };
        let validator = Validator::builder().options(options).build().expect("core");
        let profiles = strings(case.get("profiles"));
        let got = validation_result(&validator, validator.try_validate(&input(case), &profiles));
        let name = case["name"].as_str().unwrap_or("?").to_string();
        let map = case.as_object_mut().expect("case object");
        if bless() {
            map.insert("expected".into(), got);
        } else if map.get("expected") != Some(&got) {
            failures.push(format!(
                "{name}:\n  expected {}\n  got      {got}",
                map.get("expected").unwrap_or(&Value::Null)
            ));
        }
    }
    if bless() {
        save("validate.json", &cases);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fhirpath_cases() {
    let validator = Validator::builder().build().expect("core");
    let mut cases = load("fhirpath.json");
    let mut failures = Vec::new();
    for case in &mut cases {
        let expression = case["expression"].as_str().expect("expression").to_string();
        let expression = expression.as_str();
        let variables = case
            .get("variables")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_else(Map::new);
        let got = match FhirPath::compile(expression)
            .and_then(|p| p.evaluate(&validator, &input(case), &variables))
        {
            Ok(result) => json!({"result": result}),
            Err(Error::FhirPathSyntax(e)) => {
                json!({"error": "syntax", "line": e.line, "column": e.col})
            }
            Err(Error::FhirPathEvaluation(_)) => json!({"error": "evaluation"}),
            Err(e) => panic!("{expression}: unexpected error {e}"),
        };
        let map = case.as_object_mut().expect("case object");
        if bless() {
            map.insert("expected".into(), got);
        } else if map.get("expected") != Some(&got) {
            failures.push(format!(
                "{expression}:\n  expected {}\n  got      {got}",
                map.get("expected").unwrap_or(&Value::Null)
            ));
        }
    }
    if bless() {
        save("fhirpath.json", &cases);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
