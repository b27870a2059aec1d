//! Hostile input: every file of `tests/hostile/` (see its README.md) and
//! generated pathological documents must give a `ParseError` or an issue
//! with a position — never a panic, never a long run.

use fhirreg_element::{json, xml, Format, Msg, ParseError, ParseOptions, Position};
use std::path::PathBuf;
use std::time::{Duration, Instant};

enum Expect {
    /// A ParseError at this line:col whose message contains the text.
    Error(u32, u32, &'static str),
    /// Read, with an issue of this message at this line:col.
    Issue(Msg, u32, u32),
}
use Expect::*;

const CASES: &[(&str, Expect)] = &[
    ("truncated.json", Error(1, 45, "unterminated string")),
    ("invalid-utf8.json", Error(1, 48, "invalid UTF-8")),
    (
        "duplicate-keys.json",
        Issue(Msg::JsonDuplicateProperty, 4, 3),
    ),
    ("array-root.json", Error(1, 1, "must be an object")),
    ("not-fhir.json", Issue(Msg::JsonNoResourceType, 1, 1)),
    ("bom-only.json", Error(1, 1, "empty document")),
    ("empty.json", Error(1, 1, "empty document")),
    ("trailing-garbage.json", Error(1, 28, "after the end")),
    ("invalid-escape.json", Error(1, 34, "invalid escape")),
    ("lone-surrogate.json", Error(1, 33, "surrogate")),
    ("control-char.json", Error(1, 34, "control character")),
    ("bad-literal.json", Issue(Msg::JsonUnquotedValue, 1, 36)),
    ("bad-char.json", Error(1, 36, "unexpected character '@'")),
    ("leading-zero.json", Error(1, 56, "invalid number")),
    ("empty-values.json", Issue(Msg::JsonEmptyString, 1, 32)),
    ("empty-values.json", Issue(Msg::JsonEmptyArray, 1, 42)),
    ("empty-values.json", Issue(Msg::JsonEmptyObject, 1, 52)),
    ("empty-values.json", Issue(Msg::JsonNull, 1, 64)),
    ("empty.xml", Error(1, 1, "no root element")),
    ("xxe.xml", Error(2, 1, "DOCTYPE is not allowed")),
    ("billion-laughs.xml", Error(2, 1, "DOCTYPE is not allowed")),
    ("unknown-entity.xml", Error(2, 9, "entit")),
    ("wrong-namespace.xml", Issue(Msg::XmlRootNamespace, 1, 1)),
    ("no-namespace.xml", Issue(Msg::XmlRootNoNamespace, 1, 1)),
    ("unclosed.xml", Error(4, 1, "")),
    ("two-roots.xml", Error(1, 70, "after the root")),
    ("invalid-utf8.xml", Error(1, 50, "invalid UTF-8")),
];

fn hostile_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/hostile")
}

fn read(bytes: &[u8], name: &str) -> Result<fhirreg_element::Document, ParseError> {
    let opts = ParseOptions::default();
    if name.ends_with(".xml") {
        xml::parse(bytes, &opts)
    } else {
        json::parse(bytes, &opts)
    }
}

#[test]
fn corpus_files() {
    let dir = hostile_dir();
    let mut failures = Vec::new();
    for (name, expect) in CASES {
        let bytes = match std::fs::read(dir.join(name)) {
            Ok(b) => b,
            Err(e) => {
                failures.push(format!("{name}: cannot read: {e}"));
                continue;
            }
        };
        let t = Instant::now();
        let got = read(&bytes, name);
        assert!(t.elapsed() < Duration::from_secs(1), "{name} too slow");
        match (expect, &got) {
            (Error(line, col, text), Err(e)) => {
                if e.pos != Position::new(*line, *col) || !e.message.contains(text) {
                    failures.push(format!("{name}: got error {e}"));
                }
            }
            (Issue(id, line, col), Ok(doc)) => {
                let want = Some(Position::new(*line, *col));
                if !doc.issues.iter().any(|i| i.msg == *id && i.pos == want) {
                    failures.push(format!("{name}: issues {:?}", doc.issues));
                }
            }
            (_, Ok(doc)) => failures.push(format!("{name}: read, issues {:?}", doc.issues)),
            (_, Err(e)) => failures.push(format!("{name}: got error {e}")),
        }
    }
    // Every file of the corpus is covered by a case.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n != "README.md" && !CASES.iter().any(|(c, _)| *c == n) {
                failures.push(format!("{n}: no test case"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn timed<T>(what: &str, limit: Duration, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    let took = t.elapsed();
    eprintln!("{what}: {took:?}");
    assert!(took < limit, "{what} took {took:?}");
    r
}

#[test]
fn deep_json_nesting() {
    let n = 100_000;
    let mut arrays = br#"{"resourceType":"Basic","a":"#.to_vec();
    arrays.extend(std::iter::repeat_n(b'[', n));
    let e = timed("100k [", Duration::from_secs(2), || {
        json::parse(&arrays, &ParseOptions::default())
    })
    .expect_err("too deep");
    assert!(e.message.contains("deeper than"), "{e}");
    assert_eq!(e.pos.line, 1);

    let mut objects = br#"{"resourceType":"Basic""#.to_vec();
    for _ in 0..n {
        objects.extend_from_slice(br#","a":{"b":1"#);
    }
    let e = json::parse(&objects, &ParseOptions::default()).expect_err("too deep");
    assert!(e.message.contains("deeper than"), "{e}");
}

/// Whatever `max_depth` says, the JSON reader (which recurses) stops before
/// the stack runs out, even on a small thread stack.
#[test]
fn deep_json_nesting_without_depth_limit() {
    let run = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(|| {
            let mut doc = br#"{"resourceType":"Basic","a":"#.to_vec();
            for _ in 0..100_000 {
                doc.extend_from_slice(br#"[{"a":"#);
            }
            let opts = ParseOptions {
                max_depth: usize::MAX,
                ..ParseOptions::default()
            };
            json::parse(&doc, &opts).map(|_| ()).map_err(|e| e.message)
        })
        .map(|h| h.join());
    match run {
        Ok(Ok(Err(msg))) => assert!(msg.contains("deeper than"), "{msg}"),
        other => panic!("expected a ParseError, got {other:?}"),
    }
}

#[test]
fn deep_xml_nesting() {
    let n = 100_000;
    let mut doc = br#"<Basic xmlns="http://hl7.org/fhir">"#.to_vec();
    for _ in 0..n {
        doc.extend_from_slice(b"<a>");
    }
    let e = timed("100k <a>", Duration::from_secs(2), || {
        xml::parse(&doc, &ParseOptions::default())
    })
    .expect_err("too deep");
    assert!(e.message.contains("deeper than"), "{e}");
    assert_eq!(e.pos.line, 1);
}

#[test]
fn huge_string_value() {
    let n = 50 * 1024 * 1024;
    let mut doc = br#"{"resourceType":"Basic","a":""#.to_vec();
    doc.extend(std::iter::repeat_n(b'x', n));
    doc.extend_from_slice(b"\"}");
    let d = timed("50 MB string", Duration::from_secs(10), || {
        json::parse(&doc, &ParseOptions::default())
    })
    .expect("valid");
    assert_eq!(d.root().child_value("a").map(str::len), Some(n));
    // The size limit applies before any work.
    let small = ParseOptions {
        max_size: 1024 * 1024,
        ..ParseOptions::default()
    };
    let e = json::parse(&doc, &small).expect_err("too big");
    assert!(e.message.contains("limit"), "{e}");
    let e = xml::parse(&doc, &small).expect_err("too big");
    assert!(e.message.contains("limit"), "{e}");
}

#[test]
fn million_item_array() {
    let n = 1_000_000;
    let mut doc = br#"{"resourceType":"Basic","a":["#.to_vec();
    for i in 0..n {
        if i > 0 {
            doc.push(b',');
        }
        doc.push(b'1');
    }
    doc.extend_from_slice(b"]}");
    let d = timed("1M items", Duration::from_secs(10), || {
        json::parse(&doc, &ParseOptions::default())
    })
    .expect("valid");
    assert_eq!(d.root().child_count(), n);
    assert!(d.root().children().all(|c| c.in_array()));
    // One line: the column of the last item is computed incrementally.
    assert_eq!(
        d.root().children().next_back().map(|c| c.pos()),
        Some(Position::new(1, 30 + 2 * (n as u32 - 1)))
    );
    // A million nulls: one issue each, still fast.
    let mut nulls = br#"{"resourceType":"Basic","a":["#.to_vec();
    for i in 0..n {
        if i > 0 {
            nulls.push(b',');
        }
        nulls.extend_from_slice(b"null");
    }
    nulls.extend_from_slice(b"]}");
    let d = timed("1M nulls", Duration::from_secs(10), || {
        json::parse(&nulls, &ParseOptions::default())
    })
    .expect("readable");
    assert_eq!(d.issues.len(), n);
}

#[test]
fn sniffed_formats() {
    assert_eq!(Format::sniff(b"\xEF\xBB\xBF {"), Some(Format::Json));
    assert_eq!(Format::sniff(b"  <Patient/>"), Some(Format::Xml));
    assert_eq!(Format::sniff(b""), None);
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    const VALID_JSON: &str = r#"{"resourceType":"Patient","id":"p1","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"name":[{"family":"Ø","given":["a",null],"_given":[null,{"id":"g"}]}],"birthDate":"1970-01-01","multipleBirthInteger":2,"active":true,"contained":[{"resourceType":"Basic","code":{"text":"t\u00e9"}}]}"#;

    fn valid_xml() -> String {
        let doc = json::parse(VALID_JSON.as_bytes(), &ParseOptions::default())
            .map(|d| xml::write(d.root(), true))
            .unwrap_or_default();
        assert!(!doc.is_empty());
        doc
    }

    /// (position, byte, kind): 0 replace, 1 insert, 2 delete.
    fn mutations() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
        proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8)
    }

    fn mutate(src: &[u8], muts: &[(usize, u8, u8)]) -> Vec<u8> {
        let mut v = src.to_vec();
        for &(at, byte, kind) in muts {
            let at = at % (v.len() + 1);
            match kind {
                0 if at < v.len() => {
                    if let Some(b) = v.get_mut(at) {
                        *b = byte;
                    }
                }
                2 if at < v.len() => {
                    v.remove(at);
                }
                _ => v.insert(at, byte),
            }
        }
        v
    }

    fn check(bytes: &[u8]) {
        let opts = ParseOptions::default();
        for r in [json::parse(bytes, &opts), xml::parse(bytes, &opts)] {
            match r {
                // Positions are 1-based and inside the document.
                Err(e) => assert!(e.pos.line >= 1 && e.pos.col >= 1, "{e}"),
                Ok(d) => {
                    for i in &d.issues {
                        assert!(i.pos.is_some_and(|p| p.line >= 1 && p.col >= 1), "{i:?}");
                    }
                    // Writers accept whatever the readers produce.
                    let _ = json::write(d.root(), true);
                    let _ = xml::write(d.root(), false);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            check(&bytes);
        }

        #[test]
        fn mutated_json_never_panics(muts in mutations()) {
            check(&mutate(VALID_JSON.as_bytes(), &muts));
        }

        #[test]
        fn mutated_xml_never_panics(muts in mutations()) {
            check(&mutate(valid_xml().as_bytes(), &muts));
        }
    }
}
