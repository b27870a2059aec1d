//! Runs the official FHIRPath R4 suite (`shared/fhirpath/tests-fhir-r4.xml`)
//! and compares with the committed snapshot `tests/fhirpath/official-suite.snap`
//! and the expected-failures list `tests/fhirpath/expected-failures.txt`.
//! `FHIRREG_UPDATE_SNAPSHOT=1` rewrites the snapshot.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use fhirreg_element::{Document, ParseOptions};
use fhirreg_fhirpath::{EvalContext, Expression, ModelInfo, Value};
use fhirreg_registry::model::FhirPathModel;
use quick_xml::events::Event;

#[derive(Debug, Default, Clone)]
struct Case {
    group: String,
    name: String,
    input: Option<String>,
    strict: bool,
    predicate: bool,
    unordered: bool,
    expression: String,
    invalid: bool,
    outputs: Vec<(String, String)>,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn read_cases(xml: &str) -> Vec<Case> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut cases = Vec::new();
    let mut group = String::new();
    let mut cur: Option<Case> = None;
    let mut text = String::new();
    let mut out_type = String::new();
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &str| -> Option<String> {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name.as_bytes())
            .and_then(|a| {
                a.decode_and_unescape_value(reader_decoder())
                    .ok()
                    .map(|v| v.into_owned())
            })
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => match e.name().as_ref() {
                b"group" => group = attr(&e, "name").unwrap_or_default(),
                b"test" => {
                    cur = Some(Case {
                        group: group.clone(),
                        name: attr(&e, "name").unwrap_or_default(),
                        input: attr(&e, "inputfile"),
                        strict: attr(&e, "mode").as_deref() == Some("strict"),
                        predicate: attr(&e, "predicate").as_deref() == Some("true"),
                        unordered: attr(&e, "ordered").as_deref() == Some("false"),
                        ..Default::default()
                    })
                }
                b"expression" => {
                    text.clear();
                    if let Some(c) = cur.as_mut() {
                        c.invalid = attr(&e, "invalid").is_some();
                        if attr(&e, "mode").as_deref() == Some("strict") {
                            c.strict = true;
                        }
                    }
                }
                b"output" => {
                    text.clear();
                    out_type = attr(&e, "type").unwrap_or_default();
                }
                _ => {}
            },
            Ok(Event::Empty(e)) if e.name().as_ref() == b"output" => {
                if let Some(c) = cur.as_mut() {
                    c.outputs
                        .push((attr(&e, "type").unwrap_or_default(), String::new()));
                }
            }
            Ok(Event::Text(t)) => {
                text.push_str(&t.unescape().map(|s| s.into_owned()).unwrap_or_default())
            }
            Ok(Event::CData(t)) => text.push_str(&String::from_utf8_lossy(&t)),
            Ok(Event::End(e)) => match e.name().as_ref() {
                b"expression" => {
                    if let Some(c) = cur.as_mut() {
                        c.expression = text.clone();
                    }
                }
                b"output" => {
                    if let Some(c) = cur.as_mut() {
                        c.outputs.push((out_type.clone(), text.clone()));
                    }
                }
                b"test" => {
                    if let Some(c) = cur.take() {
                        cases.push(c);
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) => break,
            Err(e) => panic!("cannot read the suite: {e}"),
            _ => {}
        }
    }
    cases
}

fn reader_decoder() -> quick_xml::encoding::Decoder {
    quick_xml::Reader::from_str("").decoder()
}

fn type_name_of(v: &Value<'_>) -> String {
    match v {
        Value::Boolean(_) => "boolean".into(),
        Value::Integer(_) => "integer".into(),
        Value::Decimal(_) => "decimal".into(),
        Value::String(_) => "string".into(),
        Value::Date(_) => "date".into(),
        Value::DateTime(_) => "dateTime".into(),
        Value::Time(_) => "time".into(),
        Value::Quantity(_) => "Quantity".into(),
        Value::Node(n) => n.type_name().unwrap_or("?").to_string(),
        Value::Type(_) => "TypeInfo".into(),
    }
}

fn matches_output(v: &Value<'_>, ty: &str, expected: &str) -> bool {
    if !ty.is_empty() && type_name_of(v) != ty {
        return false;
    }
    let Some(text) = v.to_text() else {
        return false;
    };
    let exp = expected.strip_prefix('@').unwrap_or(expected);
    let exp = if matches!(v, Value::Time(_)) {
        exp.strip_prefix('T').unwrap_or(exp)
    } else {
        exp
    };
    if text == exp {
        return true;
    }
    // Numbers: compare by value.
    match (
        text.parse::<rust_decimal::Decimal>(),
        exp.parse::<rust_decimal::Decimal>(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn run_case(
    c: &Case,
    model: &dyn ModelInfo,
    inputs: &HashMap<String, Document>,
) -> Result<(), String> {
    let expr = match Expression::compile(&c.expression) {
        Ok(e) => e,
        Err(e) => {
            return if c.invalid {
                Ok(())
            } else {
                Err(format!("compile error: {e}"))
            };
        }
    };
    let root = match &c.input {
        Some(f) => Some(
            inputs
                .get(f)
                .ok_or_else(|| format!("input {f} not readable"))?,
        ),
        None => None,
    };
    let ctx = match root {
        Some(r) => EvalContext::new(r.root()),
        None => EvalContext::empty(),
    }
    .with_model(model)
    .strict(c.strict);
    let result = expr.evaluate(&ctx);
    let out = match result {
        Err(e) => {
            return if c.invalid {
                Ok(())
            } else {
                Err(format!("evaluation error: {e}"))
            }
        }
        Ok(_) if c.invalid => return Err("expected an error".into()),
        Ok(v) => v,
    };
    let out = if c.predicate {
        vec![Value::Boolean(!out.is_empty())]
    } else {
        out
    };
    let show = || {
        out.iter()
            .map(|v| format!("{}:{}", type_name_of(v), v.to_text().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if out.len() != c.outputs.len() {
        return Err(format!("expected {:?}, got [{}]", c.outputs, show()));
    }
    let ok = if c.unordered {
        let mut used = vec![false; out.len()];
        c.outputs.iter().all(|(t, x)| {
            out.iter().enumerate().any(|(i, v)| {
                if !used[i] && matches_output(v, t, x) {
                    used[i] = true;
                    true
                } else {
                    false
                }
            })
        })
    } else {
        out.iter()
            .zip(&c.outputs)
            .all(|(v, (t, x))| matches_output(v, t, x))
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {:?}, got [{}]", c.outputs, show()))
    }
}

fn load_input(dir: &Path, name: &str) -> Option<Document> {
    let bytes = std::fs::read(dir.join(name)).ok()?;
    let opts = ParseOptions::default();
    let doc = if name.ends_with(".json") {
        fhirreg_element::json::parse(&bytes, &opts)
    } else {
        fhirreg_element::xml::parse(&bytes, &opts)
    };
    match doc {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("cannot read {name}: {e}");
            None
        }
    }
}

fn model() -> FhirPathModel {
    let registry = fhirreg_registry::Registry::builder()
        .build()
        .expect("embedded core");
    FhirPathModel::new(registry)
}

#[test]
fn official_suite() {
    let dir = shared().join("fhirpath");
    let suite = dir.join("tests-fhir-r4.xml");
    let Ok(xml) = std::fs::read_to_string(&suite) else {
        println!("skipped: {} is absent", suite.display());
        return;
    };
    let cases = read_cases(&xml);
    assert!(
        cases.len() > 900,
        "suite read incompletely: {} cases",
        cases.len()
    );
    let mut inputs = HashMap::new();
    for c in &cases {
        if let Some(f) = &c.input {
            if !inputs.contains_key(f) {
                if let Some(e) = load_input(&dir, f) {
                    inputs.insert(f.clone(), e);
                }
            }
        }
    }
    let model = model();
    let only = std::env::var("FHIRPATH_TEST").ok();
    let mut groups: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    for c in &cases {
        if only.as_deref().is_some_and(|o| !c.name.contains(o)) {
            continue;
        }
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_case(c, &model, &inputs)
        }))
        .unwrap_or_else(|_| Err("PANIC".into()));
        let g = groups.entry(c.group.clone()).or_default();
        g.1 += 1;
        match r {
            Ok(()) => g.0 += 1,
            Err(e) => {
                failures.insert(c.name.clone(), format!("{}  =>  {e}", c.expression.trim()));
            }
        }
    }
    for (n, why) in &failures {
        println!("FAIL {n}: {why}");
    }
    let passed: usize = groups.values().map(|g| g.0).sum();
    let total: usize = groups.values().map(|g| g.1).sum();
    println!("Passed: {passed}/{total}");
    if only.is_some() {
        return;
    }
    assert!(
        !failures.values().any(|f| f.ends_with("PANIC")),
        "a test panicked"
    );

    let mut snap = String::from(
        "# FHIRPath R4 official suite (generated by crates/fhirreg-fhirpath/tests/official.rs)\n",
    );
    for (g, (p, t)) in &groups {
        snap.push_str(&format!("{g}: {p}/{t}\n"));
    }
    for n in failures.keys() {
        snap.push_str(&format!("FAIL {n}\n"));
    }
    snap.push_str(&format!("Passed: {passed}/{total}\n"));
    let snap_path = repo_root().join("tests/fhirpath/official-suite.snap");
    if std::env::var("FHIRREG_UPDATE_SNAPSHOT").as_deref() == Ok("1") {
        std::fs::write(&snap_path, &snap).expect("write snapshot");
        println!("snapshot written to {}", snap_path.display());
        return;
    }
    let old = std::fs::read_to_string(&snap_path).unwrap_or_default();
    let old_failing: HashSet<&str> = old
        .lines()
        .filter_map(|l| l.strip_prefix("FAIL "))
        .collect();
    let regressions: Vec<&String> = failures
        .keys()
        .filter(|n| !old_failing.contains(n.as_str()))
        .collect();
    assert!(
        regressions.is_empty(),
        "tests that passed in the snapshot now fail: {regressions:?} (FHIRREG_UPDATE_SNAPSHOT=1 to accept)"
    );
    let expected =
        std::fs::read_to_string(repo_root().join("tests/fhirpath/expected-failures.txt"))
            .unwrap_or_default();
    let reasons: HashMap<&str, &str> = expected
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(n, r)| (n.trim(), r.trim()))
        .collect();
    let unexplained: Vec<&String> = failures
        .keys()
        .filter(|n| reasons.get(n.as_str()).is_none_or(|r| r.is_empty()))
        .collect();
    assert!(
        unexplained.is_empty(),
        "failures without a reason in expected-failures.txt: {unexplained:?}"
    );
    for n in reasons.keys() {
        if !failures.contains_key(*n) {
            println!("note: expected failure {n} now passes; remove it from expected-failures.txt");
        }
    }
    if old != snap {
        println!("note: the snapshot is out of date (improvements); FHIRREG_UPDATE_SNAPSHOT=1 rewrites it");
    }
}
