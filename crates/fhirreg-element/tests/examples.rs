//! Round trips over a directory of FHIR R4 JSON examples
//! (`$FHIRREG_R4_EXAMPLES`, e.g. the unpacked `hl7.fhir.r4.examples`
//! package). Skipped with a message when the variable is unset.

use fhirreg_element::{json, xml, Element, ParseOptions, ValueKind};
use std::path::PathBuf;

fn examples() -> Option<Vec<PathBuf>> {
    let Some(dir) = std::env::var_os("FHIRREG_R4_EXAMPLES") else {
        eprintln!("skipping: FHIRREG_R4_EXAMPLES is not set");
        return None;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n == "package.json" || n == ".index.json")
        })
        .collect();
    files.sort();
    Some(files)
}

/// An element tree as plain data, for comparisons.
#[derive(Clone, Debug, PartialEq)]
struct Node {
    name: String,
    value: Option<String>,
    value_kind: ValueKind,
    resource_type: Option<String>,
    in_array: bool,
    primitive: bool,
    children: Vec<Node>,
}

/// Positions left out; `in_array`, `value_kind` and `primitive` (without a
/// value) too unless `kinds`: XML cannot carry them, a typing pass sets them.
///
/// Also: in extensions the `id` and `url` children are moved first, since
/// XML carries them as attributes (JSON writes `url` before or after the
/// nested `extension`s; both occur in the HL7 examples).
fn normalise(e: Element<'_>, kinds: bool) -> Node {
    let mut children: Vec<Node> = e.children().map(|c| normalise(c, kinds)).collect();
    if !kinds && (e.name() == "extension" || e.name() == "modifierExtension") {
        children.sort_by_key(|c| match c.name.as_str() {
            "id" => 0,
            "url" => 1,
            _ => 2,
        });
    }
    Node {
        name: e.name().to_string(),
        value: e.value().map(str::to_string),
        value_kind: if kinds {
            e.value_kind()
        } else {
            ValueKind::String
        },
        children,
        resource_type: e.resource_type().map(str::to_string),
        in_array: kinds && e.in_array(),
        primitive: (kinds && e.primitive()) || e.value().is_some(),
    }
}

/// Where two trees first differ (for failure messages).
fn first_diff(a: &Node, b: &Node, path: &str) -> String {
    let here = format!("{path}.{}", a.name);
    if a.name != b.name || a.value != b.value || a.resource_type != b.resource_type {
        return format!(
            "{here}: {:?}/{:?} vs {:?}/{:?}",
            a.name, a.value, b.name, b.value
        );
    }
    for (x, y) in a.children.iter().zip(&b.children) {
        if x != y {
            return first_diff(x, y, &here);
        }
    }
    format!(
        "{here}: children {:?} vs {:?}",
        a.children.iter().map(|c| &c.name).collect::<Vec<_>>(),
        b.children.iter().map(|c| &c.name).collect::<Vec<_>>()
    )
}

/// serde_json values equal, numbers compared by their text.
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Number(x), Number(y)) => x.to_string() == y.to_string(),
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_json(p, q)),
        (Object(x), Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Drop `fhir_comments` (ignored by the reader).
fn strip_comments(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.remove("fhir_comments");
            m.values_mut().for_each(strip_comments);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_comments),
        _ => {}
    }
}

#[test]
fn examples_round_trip() {
    let Some(files) = examples() else { return };
    let opts = ParseOptions::default();
    let (mut n, mut bytes, mut failures) = (0usize, 0usize, Vec::new());
    let mut parse_time = std::time::Duration::ZERO;
    for f in &files {
        let Ok(src) = std::fs::read(f) else { continue };
        let t = std::time::Instant::now();
        let doc = match json::parse(&src, &opts) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: parse error {e}", f.display()));
                continue;
            }
        };
        parse_time += t.elapsed();
        n += 1;
        bytes += src.len();
        if !doc.issues.is_empty() {
            failures.push(format!("{}: issues {:?}", f.display(), doc.issues));
        }
        // JSON -> Element -> JSON, value-identical.
        let out = json::write(doc.root(), true);
        let mut a: serde_json::Value = match serde_json::from_slice(&src) {
            Ok(v) => v,
            Err(_) => continue,
        };
        strip_comments(&mut a);
        match serde_json::from_str::<serde_json::Value>(&out) {
            Ok(b) if same_json(&a, &b) => {}
            _ => {
                if std::env::var_os("FHIRREG_DUMP").is_some() {
                    let _ = std::fs::write(
                        PathBuf::from("/tmp/rt").join(f.file_name().unwrap_or_default()),
                        &out,
                    );
                }
                failures.push(format!("{}: JSON round trip differs", f.display()))
            }
        }
        match json::parse(out.as_bytes(), &opts) {
            Ok(d2) if normalise(d2.root(), true) == normalise(doc.root(), true) => {}
            _ => failures.push(format!("{}: JSON re-read differs", f.display())),
        }
        // JSON -> Element -> XML -> Element.
        let x = xml::write(doc.root(), true);
        match xml::parse(x.as_bytes(), &opts) {
            Ok(d3) => {
                let (a, b) = (normalise(doc.root(), false), normalise(d3.root(), false));
                if a != b {
                    let at = first_diff(&a, &b, "");
                    failures.push(format!("{}: XML round trip differs at {at}", f.display()));
                }
                if !d3.issues.is_empty() {
                    failures.push(format!("{}: XML issues {:?}", f.display(), d3.issues));
                }
            }
            Err(e) => failures.push(format!("{}: XML re-read error {e}", f.display())),
        }
    }
    let mbs = bytes as f64 / 1e6 / parse_time.as_secs_f64().max(1e-9);
    eprintln!("{n} examples, {bytes} bytes, JSON parse {mbs:.0} MB/s");
    for f in failures.iter().take(30) {
        eprintln!("{f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}

/// JSON -> Element -> XML -> Element and JSON -> Element -> JSON on a few
/// hand-written resources (runs without the examples directory).
#[test]
fn hand_written_round_trip() {
    let resources = [
        r#"{"resourceType":"Patient","id":"p","meta":{"profile":["http://example.org/p"]},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Ann &amp; Bob</p></div>"},"extension":[{"url":"http://example.org/ext","extension":[{"url":"a","valueString":"x"}]}],"modifierExtension":[{"url":"http://example.org/mod","valueBoolean":false}],"active":true,"name":[{"use":"official","family":"Ó'Brien <&>","given":["Ann",null,"Bo"],"_given":[null,{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},{"id":"g3"}]}],"_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"masked"}]},"multipleBirthInteger":3}"#,
        r#"{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Observation","status":"final","code":{"text":"weight"},"valueQuantity":{"value":72.50,"unit":"kg"},"contained":[{"resourceType":"Patient","id":"c1"}]}},{"fullUrl":"urn:uuid:2","resource":{"resourceType":"Basic","id":"b","code":{"extension":[{"url":"http://example.org/only-ext","valueString":"complex with only an extension"}]}}}]}"#,
        r#"{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"decimal","initial":[{"valueDecimal":1e3}]},{"linkId":"1.2","type":"string","text":"tab\there\nnew line \"q\" \\ \u0001"}]}]}"#,
    ];
    let opts = ParseOptions::default();
    for src in resources {
        let doc = json::parse(src.as_bytes(), &opts).expect("valid");
        assert!(doc.issues.is_empty(), "{:?}", doc.issues);
        let out = json::write(doc.root(), false);
        let a: serde_json::Value = serde_json::from_str(src).expect("json");
        let b: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert!(same_json(&a, &b), "{src}\n{out}");
        let again = json::parse(out.as_bytes(), &opts).expect("valid");
        assert_eq!(normalise(again.root(), true), normalise(doc.root(), true));
        for pretty in [false, true] {
            let x = xml::write(doc.root(), pretty);
            let back = xml::parse(x.as_bytes(), &opts).expect("own XML");
            assert!(back.issues.is_empty(), "{:?}\n{x}", back.issues);
            let (p, q) = (normalise(doc.root(), false), normalise(back.root(), false));
            assert!(p == q, "{}\n{x}", first_diff(&p, &q, ""));
        }
    }
}
