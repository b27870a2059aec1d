//! The rule catalogue and the defect corpus.
//!
//! `tests/defects/rules.txt` lists every instance rule of FHIR R4 (and of
//! the HL7 Java validator's list of checks) with our message id, the Java
//! message key it corresponds to and its status: checked, open (with the
//! reason) or not applicable (with the reason). `tests/defects/cases/*.json`
//! holds the defect corpus: each case takes a valid resource (an example
//! of the R4 examples package, `$FHIRREG_R4_EXAMPLES`, or a resource of
//! its own), applies exactly one mutation that breaks one rule and expects
//! exactly that rule's message at the expected location, then applies a
//! boundary mutation that must stay valid. A case with `"operation":
//! "validate-code"` runs the `$validate-code` operation instead: its
//! resource is the operation's input `Parameters` (`url`, `system`,
//! `version`, `code`, `display`, `codeableConcept`; without `url` the
//! CodeSystem operation), and its expected issues have no location (the
//! expression `""`; a message explaining another, as why membership is
//! undecided, has `in ID` of that message). The profiles, value sets and
//! questionnaires the cases validate against are ours, in
//! `tests/defects/profiles/`.
//!
//! The test also renders `docs/rules.md` from the catalogue, the cases and
//! the sources (where each message is reported) and fails when the file
//! is stale: `FHIRREG_BLESS=1` rewrites it.
//!
//! A case:
//!
//! ```json
//! {"rule": "ed-max-length", "name": "string-one-over",
//!  "resource": {"resourceType": "Patient", ...} | "example": "Patient-example.json",
//!  "profile": "http://fhirreg.test/StructureDefinition/...",   (optional)
//!  "format": "xml",                                           (optional)
//!  "break": [["set", "/name/0/family", "abcdef"]],
//!  "expect": [["value-too-long", "Patient.name[0].family"]],
//!  "keep": [["set", "/name/0/family", "abcde"]]}
//! ```
//!
//! `"options": {"no-synthetic-ids": true}` validates with the option that
//! makes a synthetic Norwegian test number an error.
//!
//! Mutations are JSON pointers: `["set", PTR, VALUE]` (replace or add a
//! property, `-` appends to an array), `["set-repeated", PTR, TEXT, N]` (sets
//! TEXT repeated N times: values too long to write out), `["remove", PTR]`,
//! `["move-last", PTR]`
//! (the property goes after its siblings: element order, XML),
//! `["text", FROM, TO]` (replaces text of the serialized resource, JSON or
//! XML: syntax the JSON value cannot express). An expected
//! issue is `[id, expression]` (an error) or `[id, expression, severity]`.
//! The errors of the broken resource must be exactly the expected errors;
//! for a warning or information, the issues of that severity that the
//! base does not have must be exactly the expected ones. The kept
//! (boundary) resource has no error, and no issue of the expected
//! severities that the base does not have.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use fhirreg::{Format, Msg, Severity, Validator};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn defects_dir() -> PathBuf {
    root().join("tests/defects")
}

/// The R4 examples package folder, when present.
fn examples_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FHIRREG_R4_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/r4-examples/package"));
    dir.is_dir().then_some(dir)
}

#[derive(Clone, Debug, PartialEq)]
enum Status {
    Checked,
    Open(String),
    NotApplicable(String),
}

/// One row of the catalogue.
#[derive(Clone, Debug)]
struct Rule {
    key: String,
    group: String,
    id: Option<String>,
    java: Option<String>,
    status: Status,
    text: String,
    line: usize,
}

fn dash(s: &str) -> Option<String> {
    let s = s.trim();
    (s != "-" && !s.is_empty()).then(|| s.to_string())
}

/// Reads `rules.txt`: `## group` headings, then rows
/// `key | message id | Java key | status | what the rule says`.
fn read_catalogue(problems: &mut Vec<String>) -> Vec<Rule> {
    let path = defects_dir().join("rules.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut group = String::new();
    let mut rules = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') && !line.starts_with("## ") {
            continue;
        }
        if let Some(g) = line.strip_prefix("## ") {
            group = g.trim().to_string();
            continue;
        }
        let parts: Vec<&str> = line.splitn(5, " | ").collect();
        if parts.len() != 5 {
            problems.push(format!(
                "rules.txt:{line_no}: not `key | id | java | status | text`"
            ));
            continue;
        }
        let status = match parts[3].trim() {
            "checked" => Status::Checked,
            s => match (s.strip_prefix("open: "), s.strip_prefix("n/a: ")) {
                (Some(r), _) => Status::Open(r.to_string()),
                (_, Some(r)) => Status::NotApplicable(r.to_string()),
                _ => {
                    problems.push(format!("rules.txt:{line_no}: unknown status `{s}`"));
                    continue;
                }
            },
        };
        rules.push(Rule {
            key: parts[0].trim().to_string(),
            group: group.clone(),
            id: dash(parts[1]),
            java: dash(parts[2]),
            status,
            text: parts[4].trim().to_string(),
            line: line_no,
        });
    }
    rules
}

/// One case of the corpus.
struct Case {
    file: String,
    rule: String,
    name: String,
    value: Value,
}

fn read_cases(problems: &mut Vec<String>) -> Vec<Case> {
    let dir = defects_dir().join("cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|f| f.extension().is_some_and(|e| e == "json"));
    files.sort();
    let mut cases = Vec::new();
    for f in files {
        let name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{f:?}: {e}"));
        let items: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        for item in items.as_array().into_iter().flatten() {
            let rule = item["rule"].as_str().unwrap_or_default().to_string();
            let case_name = item["name"].as_str().unwrap_or_default().to_string();
            if rule.is_empty() || case_name.is_empty() {
                problems.push(format!("{name}: a case without rule or name: {item}"));
                continue;
            }
            cases.push(Case {
                file: name.clone(),
                rule,
                name: case_name,
                value: item.clone(),
            });
        }
    }
    cases
}

/// Applies one mutation. Errors name what went wrong.
fn apply(doc: &mut Value, op: &Value) -> Result<(), String> {
    let parts = op.as_array().ok_or("a mutation is an array")?;
    let verb = parts.first().and_then(Value::as_str).ok_or("no verb")?;
    let ptr = parts.get(1).and_then(Value::as_str).ok_or("no pointer")?;
    let (parent_ptr, last) = ptr.rsplit_once('/').ok_or("a pointer starts with /")?;
    let last = last.replace("~1", "/").replace("~0", "~");
    let parent = doc
        .pointer_mut(parent_ptr)
        .ok_or_else(|| format!("no {parent_ptr}"))?;
    match verb {
        "set" | "set-repeated" => {
            let value = if verb == "set" {
                parts.get(2).cloned().ok_or("set needs a value")?
            } else {
                let text = parts.get(2).and_then(Value::as_str).ok_or("no text")?;
                let n = parts.get(3).and_then(Value::as_u64).ok_or("no count")?;
                let n = usize::try_from(n).map_err(|e| e.to_string())?;
                Value::String(text.repeat(n))
            };
            match parent {
                Value::Object(map) => {
                    map.insert(last, value);
                }
                Value::Array(items) if last == "-" => items.push(value),
                Value::Array(items) => {
                    let i: usize = last.parse().map_err(|_| format!("bad index {last}"))?;
                    *items.get_mut(i).ok_or_else(|| format!("no {ptr}"))? = value;
                }
                _ => return Err(format!("{parent_ptr} holds no properties")),
            }
        }
        "remove" => match parent {
            Value::Object(map) => {
                map.shift_remove(&last).ok_or_else(|| format!("no {ptr}"))?;
            }
            Value::Array(items) => {
                let i: usize = last.parse().map_err(|_| format!("bad index {last}"))?;
                if i >= items.len() {
                    return Err(format!("no {ptr}"));
                }
                items.remove(i);
            }
            _ => return Err(format!("{parent_ptr} holds no properties")),
        },
        "move-last" => {
            let map = parent.as_object_mut().ok_or("move-last needs an object")?;
            let value = map.shift_remove(&last).ok_or_else(|| format!("no {ptr}"))?;
            map.insert(last, value);
        }
        _ => return Err(format!("unknown mutation {verb}")),
    }
    Ok(())
}

/// `["text", FROM, TO]`: replaces the first FROM of the serialized
/// resource (JSON or XML) with TO, for what a JSON value cannot express
/// (syntax, order of XML elements).
fn replace_text(bytes: &[u8], op: &Value) -> Result<Vec<u8>, String> {
    let from = op.get(1).and_then(Value::as_str).ok_or("text needs FROM")?;
    let to = op.get(2).and_then(Value::as_str).ok_or("text needs TO")?;
    let text = String::from_utf8_lossy(bytes);
    if !text.contains(from) {
        return Err(format!("text mutation: {from:?} is not in {text}"));
    }
    Ok(text.replacen(from, to, 1).into_bytes())
}

/// (message id, expression, severity)
type Found = (String, String, Severity);

fn severity(s: &str) -> Option<Severity> {
    match s {
        "error" => Some(Severity::Error),
        "fatal" => Some(Severity::Fatal),
        "warning" => Some(Severity::Warning),
        "information" => Some(Severity::Information),
        _ => None,
    }
}

fn expected(case: &Value) -> Result<Vec<Found>, String> {
    let mut out = Vec::new();
    for e in case["expect"].as_array().ok_or("no expect")? {
        let e = e.as_array().ok_or("an expected issue is an array")?;
        let id = e.first().and_then(Value::as_str).ok_or("no id")?;
        if Msg::from_id(id).is_none() {
            return Err(format!("unknown message id {id}"));
        }
        let at = e.get(1).and_then(Value::as_str).ok_or("no expression")?;
        let sev = match e.get(2).and_then(Value::as_str) {
            Some(s) => severity(s).ok_or_else(|| format!("unknown severity {s}"))?,
            None => Severity::Error,
        };
        out.push((id.to_string(), at.to_string(), sev));
    }
    Ok(out)
}

fn found(validator: &Validator, bytes: &[u8], profiles: &[String]) -> Vec<Found> {
    let mut out: Vec<Found> = validator
        .validate_with_profiles(bytes, profiles)
        .issues
        .iter()
        .map(|i| {
            let sev = if i.severity == Severity::Fatal {
                Severity::Error
            } else {
                i.severity
            };
            (i.message_id().to_string(), i.expression.clone(), sev)
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

/// The issues of `severity` in `after` that `before` does not have
/// (as multisets).
fn added(before: &[Found], after: &[Found], severity: Severity) -> Vec<Found> {
    let mut left: Vec<&Found> = before.iter().filter(|f| f.2 == severity).collect();
    let mut out = Vec::new();
    for f in after.iter().filter(|f| f.2 == severity) {
        match left.iter().position(|l| *l == f) {
            Some(i) => {
                left.remove(i);
            }
            None => out.push(f.clone()),
        }
    }
    out
}

fn show(list: &[Found]) -> String {
    if list.is_empty() {
        return "nothing".to_string();
    }
    list.iter()
        .map(|(id, at, sev)| format!("{id} at {at} ({})", sev.code()))
        .collect::<Vec<_>>()
        .join("; ")
}

enum Outcome {
    Passed,
    Skipped,
    Failed(String),
}

fn run_case(validator: &Validator, examples: Option<&Path>, case: &Value) -> Outcome {
    match try_case(validator, examples, case) {
        Ok(true) => Outcome::Passed,
        Ok(false) => Outcome::Skipped,
        Err(e) => Outcome::Failed(e),
    }
}

fn serialize(validator: &Validator, doc: &Value, xml: bool) -> Result<Vec<u8>, String> {
    let json = serde_json::to_vec(doc).map_err(|e| e.to_string())?;
    if !xml {
        return Ok(json);
    }
    validator
        .convert(&json, Format::Xml, false)
        .map(String::into_bytes)
        .map_err(|e| format!("to XML: {e}"))
}

/// The issues `$validate-code` finds for its input `Parameters` (see the
/// module documentation).
fn operation_found(validator: &Validator, params: &Value) -> Result<Vec<Found>, String> {
    use fhirreg::message::{Arg, Message};
    use fhirreg::terminology::CodingRef;
    let value_of = |p: &Value| -> Option<Value> {
        p.as_object()?
            .iter()
            .find(|(k, _)| k.starts_with("value"))
            .map(|(_, v)| v.clone())
    };
    let mut named: BTreeMap<String, Value> = BTreeMap::new();
    for p in params["parameter"].as_array().ok_or("no parameter")? {
        let name = p["name"].as_str().ok_or("a parameter without a name")?;
        named.insert(
            name.to_string(),
            value_of(p).ok_or("a parameter without a value")?,
        );
    }
    let text = |k: &str| named.get(k).and_then(Value::as_str);
    fn coding_ref(c: &Value) -> CodingRef<'_> {
        CodingRef {
            system: c["system"].as_str(),
            version: c["version"].as_str(),
            code: c["code"].as_str(),
            display: c["display"].as_str(),
        }
    }
    let tx = validator.terminology();
    let single = CodingRef {
        system: text("system"),
        version: text("version"),
        code: text("code"),
        display: text("display"),
    };
    let result = match (text("url"), named.get("codeableConcept")) {
        (Some(url), Some(cc)) => {
            let codings: Vec<CodingRef<'_>> = cc["coding"]
                .as_array()
                .into_iter()
                .flatten()
                .map(coding_ref)
                .collect();
            tx.validate_codeable_concept(url, &codings)
                .map_err(|e| e.to_string())?
        }
        (Some(url), None) => tx.validate_code(url, &single).map_err(|e| e.to_string())?,
        (None, _) => tx.validate_coding_in_system(&single),
    };
    fn nested(m: &Message, sev: Severity, out: &mut Vec<Found>) {
        for arg in m.args.iter() {
            if let Arg::Msgs(inner) = arg {
                for i in inner.iter() {
                    out.push((i.msg.id().to_string(), format!("in {}", m.msg.id()), sev));
                    nested(i, sev, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    for i in &result.issues {
        let sev = if i.severity == Severity::Fatal {
            Severity::Error
        } else {
            i.severity
        };
        out.push((i.message.msg.id().to_string(), String::new(), sev));
        nested(&i.message, sev, &mut out);
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Ok(out)
}

/// Runs one case: Ok(false) when its base example is not available.
fn try_case(validator: &Validator, examples: Option<&Path>, case: &Value) -> Result<bool, String> {
    let base: Value = if let Some(r) = case.get("resource") {
        r.clone()
    } else if let Some(name) = case["example"].as_str() {
        let Some(dir) = examples else {
            return Ok(false);
        };
        let text = std::fs::read_to_string(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?
    } else {
        return Err("no resource or example".into());
    };
    let xml = case["format"].as_str() == Some("xml");
    let profiles: Vec<String> = case["profile"]
        .as_str()
        .map(|p| vec![p.to_string()])
        .unwrap_or_default();
    let expect = expected(case)?;
    let operation = match case["operation"].as_str() {
        None => false,
        Some("validate-code") => true,
        Some(other) => return Err(format!("unknown operation {other}")),
    };
    let base_found = if operation {
        operation_found(validator, &base)?
    } else {
        found(validator, &serialize(validator, &base, xml)?, &profiles)
    };
    let base_errors: Vec<Found> = base_found
        .iter()
        .filter(|f| f.2 == Severity::Error)
        .cloned()
        .collect();
    if !base_errors.is_empty() {
        return Err(format!("the base is not valid: {}", show(&base_errors)));
    }
    let mutate = |ops: &Value| -> Result<Vec<Found>, String> {
        let mut doc = base.clone();
        let mut text_ops = Vec::new();
        for op in ops.as_array().ok_or("mutations are an array")? {
            if op.get(0).and_then(Value::as_str) == Some("text") {
                text_ops.push(op);
            } else {
                apply(&mut doc, op)?;
            }
        }
        if operation {
            if !text_ops.is_empty() {
                return Err("an operation's input takes no text mutations".into());
            }
            return operation_found(validator, &doc);
        }
        let mut bytes = serialize(validator, &doc, xml)?;
        for op in text_ops {
            bytes = replace_text(&bytes, op)?;
        }
        Ok(found(validator, &bytes, &profiles))
    };
    // The severities compared: errors always, and those of the expected issues.
    let mut severities = vec![Severity::Error];
    for e in &expect {
        if !severities.contains(&e.2) {
            severities.push(e.2);
        }
    }
    let broken = mutate(&case["break"])?;
    let mut problems = Vec::new();
    for &sev in &severities {
        let mut want: Vec<Found> = expect.iter().filter(|e| e.2 == sev).cloned().collect();
        want.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let got = added(&base_found, &broken, sev);
        if want != got {
            problems.push(format!(
                "{}: expected {}, found {}",
                sev.code(),
                show(&want),
                show(&got)
            ));
        }
    }
    match case.get("keep") {
        Some(keep) => {
            let kept = mutate(keep)?;
            for &sev in &severities {
                let got = added(&base_found, &kept, sev);
                if !got.is_empty() {
                    problems.push(format!("boundary: {} found", show(&got)));
                }
            }
        }
        None => problems.push("no boundary mutation (keep)".to_string()),
    }
    if problems.is_empty() {
        Ok(true)
    } else {
        Err(problems.join("; "))
    }
}

/// Where each message variant is reported: the source files (outside
/// tests) that name `Msg::Variant`.
fn reported_in() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    collect_sources(&root().join("crates"), &mut files);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let texts: Vec<(String, String)> = files
        .iter()
        .filter_map(|f| {
            let rel = f
                .strip_prefix(root().join("crates"))
                .ok()?
                .to_string_lossy()
                .into_owned();
            Some((rel, std::fs::read_to_string(f).ok()?))
        })
        .collect();
    for msg in Msg::ALL {
        let variant = format!("Msg::{msg:?}");
        for (rel, text) in &texts {
            let mut rest = text.as_str();
            while let Some(i) = rest.find(&variant) {
                let after = rest[i + variant.len()..].chars().next();
                if !after.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    out.entry(msg.id().to_string())
                        .or_default()
                        .insert(rel.clone());
                    break;
                }
                rest = &rest[i + variant.len()..];
            }
        }
    }
    out
}

fn collect_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if p.is_dir() {
            if name != "tests" && name != "target" && name != "benches" && name != "examples" {
                collect_sources(&p, out);
            }
        } else if name.ends_with(".rs")
            && !name.contains("test")
            && name != "catalogue.rs"
            && !p.to_string_lossy().contains("/build.rs")
        {
            out.push(p);
        }
    }
}

fn render(
    rules: &[Rule],
    tests: &BTreeMap<String, Vec<String>>,
    where_: &BTreeMap<String, BTreeSet<String>>,
) -> String {
    let checked = rules.iter().filter(|r| r.status == Status::Checked).count();
    let open = rules
        .iter()
        .filter(|r| matches!(r.status, Status::Open(_)))
        .count();
    let na = rules
        .iter()
        .filter(|r| matches!(r.status, Status::NotApplicable(_)))
        .count();
    let tested = rules.iter().filter(|r| tests.contains_key(&r.key)).count();
    let cases: usize = tests.values().map(Vec::len).sum();
    let mut s = String::new();
    s.push_str("# Rule catalogue\n\n");
    s.push_str(
        "Every instance rule of FHIR R4 that a validator can check, and the HL7 Java \
         validator's list of checks (its message keys), with what fhirreg does about \
         each. Generated by `crates/fhirreg/tests/defects.rs` from \
         `tests/defects/rules.txt` (the catalogue), `tests/defects/cases/` (the defect \
         corpus) and the sources (where each message is reported); do not edit: \
         `FHIRREG_BLESS=1 cargo test --release -p fhirreg --test defects` rewrites it.\n\n",
    );
    s.push_str(
        "A defect test takes a valid resource, breaks the rule with one mutation and \
         expects exactly that message at that location, then applies a boundary \
         mutation that must stay valid.\n\n",
    );
    s.push_str(&format!(
        "{} rules: {} checked ({} with a defect test), {} open, {} not applicable. \
         {} defect cases.\n\n",
        rules.len(),
        checked,
        tested,
        open,
        na,
        cases
    ));
    s.push_str(
        "Invariant semantics: a constraint fails when its FHIRPath expression does not \
         evaluate to the single boolean `true`: `false`, an empty result and a result \
         that is not one boolean all fail (as the HL7 Java validator has it). Date/time \
         comparisons of different precision follow FHIRPath: the result is empty \
         (so the constraint fails) when the common precision cannot decide.\n\n",
    );
    let mut groups: Vec<&str> = Vec::new();
    for r in rules {
        if !groups.contains(&r.group.as_str()) {
            groups.push(&r.group);
        }
    }
    for g in groups {
        s.push_str(&format!("## {g}\n\n"));
        s.push_str("| Rule | What it says | Message id | HL7 key | Checked in | Defect tests |\n");
        s.push_str("|---|---|---|---|---|---|\n");
        for r in rules.iter().filter(|r| r.group == g) {
            let checked_in = match &r.status {
                Status::Checked => {
                    r.id.as_ref()
                        .and_then(|id| where_.get(id))
                        .map(|w| {
                            w.iter()
                                .map(|f| format!("`{f}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default()
                }
                Status::Open(reason) => format!("open: {reason}"),
                Status::NotApplicable(reason) => format!("not applicable: {reason}"),
            };
            let t = tests
                .get(&r.key)
                .map(|t| t.join(", "))
                .unwrap_or_else(|| "-".to_string());
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                r.key,
                r.text.replace('|', "\\|"),
                r.id.as_deref()
                    .map(|i| format!("`{i}`"))
                    .unwrap_or_else(|| "-".into()),
                r.java
                    .as_deref()
                    .or_else(|| r
                        .id
                        .as_deref()
                        .and_then(Msg::from_id)
                        .and_then(Msg::java_key))
                    .unwrap_or("-"),
                checked_in,
                t
            ));
        }
        s.push('\n');
    }
    s
}

#[test]
fn defect_corpus() {
    let mut problems = Vec::new();
    let rules = read_catalogue(&mut problems);
    let cases = read_cases(&mut problems);

    // The catalogue: unique keys, known message ids whose Java keys agree.
    let mut keys = BTreeSet::new();
    for r in &rules {
        if !keys.insert(r.key.clone()) {
            problems.push(format!("rules.txt:{}: key {} twice", r.line, r.key));
        }
        if let Some(id) = &r.id {
            match Msg::from_id(id) {
                // (an open rule may name the id it is going to have)
                None if r.status != Status::Checked => {}
                None => problems.push(format!("rules.txt:{}: unknown message id {id}", r.line)),
                Some(m) => {
                    if let (Some(ours), Some(theirs)) = (m.java_key(), &r.java) {
                        if !ours.eq_ignore_ascii_case(theirs) {
                            problems.push(format!(
                                "rules.txt:{}: {id} carries the Java key {ours}, the row says {theirs}",
                                r.line
                            ));
                        }
                    }
                }
            }
        }
        if r.status == Status::Checked && r.id.is_none() {
            problems.push(format!(
                "rules.txt:{}: a checked rule needs a message id",
                r.line
            ));
        }
    }
    // Every message of the catalogue is some rule's.
    let ids: BTreeSet<&str> = rules.iter().filter_map(|r| r.id.as_deref()).collect();
    for m in Msg::ALL {
        if !ids.contains(m.id()) {
            problems.push(format!("message {} is in no rule of rules.txt", m.id()));
        }
    }

    // The corpus.
    let validator = Validator::builder()
        .load_path(defects_dir().join("profiles"))
        .build()
        .expect("the defect profiles load");
    let examples = examples_dir();
    let strict_validator: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
    let by_key: BTreeMap<&str, &Rule> = rules.iter().map(|r| (r.key.as_str(), r)).collect();
    let mut tests: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut names = BTreeSet::new();
    let (mut passed, mut skipped) = (0usize, 0usize);
    for case in &cases {
        let Some(rule) = by_key.get(case.rule.as_str()) else {
            problems.push(format!(
                "{}: case {}: unknown rule {}",
                case.file, case.name, case.rule
            ));
            continue;
        };
        if !names.insert(case.name.clone()) {
            problems.push(format!("{}: case name {} twice", case.file, case.name));
        }
        tests
            .entry(case.rule.clone())
            .or_default()
            .push(case.name.clone());
        if rule.status != Status::Checked {
            problems.push(format!(
                "{}: case {} tests rule {}, which is not marked checked",
                case.file, case.name, case.rule
            ));
        }
        if let Some(id) = &rule.id {
            let ids: Vec<String> = expected(&case.value)
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.0)
                .collect();
            if !ids.contains(id) {
                problems.push(format!(
                    "{}: case {} does not expect its rule's message {id}",
                    case.file, case.name
                ));
            }
        }
        // (a case may ask for the option that refuses synthetic test
        // numbers: a validator of its own, built when first needed)
        let strict = case.value["options"]["no-synthetic-ids"] == Value::Bool(true);
        let validator = if strict {
            strict_validator.get_or_init(|| {
                Validator::builder()
                    .load_path(defects_dir().join("profiles"))
                    .no_synthetic_ids(true)
                    .build()
                    .expect("the defect profiles load")
            })
        } else {
            &validator
        };
        match run_case(validator, examples.as_deref(), &case.value) {
            Outcome::Passed => passed += 1,
            Outcome::Skipped => skipped += 1,
            Outcome::Failed(e) => {
                problems.push(format!("{}: {} ({}): {e}", case.file, case.name, case.rule))
            }
        }
    }
    // Checked rules without a defect case yet: counted and listed (in the
    // output and in docs/rules.md), not failures.
    let untested: Vec<&str> = rules
        .iter()
        .filter(|r| r.status == Status::Checked && !tests.contains_key(&r.key))
        .map(|r| r.key.as_str())
        .collect();
    let checked = rules.iter().filter(|r| r.status == Status::Checked).count();
    let open = rules
        .iter()
        .filter(|r| matches!(r.status, Status::Open(_)))
        .count();
    let na = rules.len() - checked - open;
    println!(
        "defects: {} catalogue rows ({checked} checked, {open} open, {na} not applicable); \
         {} cases: {passed} passed, {skipped} skipped (no R4 examples), {} failed; \
         {} checked rules without a defect case: {}",
        rules.len(),
        cases.len(),
        cases.len() - passed - skipped,
        untested.len(),
        untested.join(", ")
    );

    // docs/rules.md
    let doc = render(&rules, &tests, &reported_in());
    let doc_path = root().join("docs/rules.md");
    if std::env::var_os("FHIRREG_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&doc_path, &doc).expect("write docs/rules.md");
    } else if std::fs::read_to_string(&doc_path).unwrap_or_default() != doc {
        problems.push(
            "docs/rules.md is stale: FHIRREG_BLESS=1 cargo test --release -p fhirreg --test defects"
                .to_string(),
        );
    }
    if !problems.is_empty() {
        for p in &problems {
            println!("  {p}");
        }
        panic!(
            "{} problems in the rule catalogue and defect corpus",
            problems.len()
        );
    }
}
