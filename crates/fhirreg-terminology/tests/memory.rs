//! Terminology over hand-built resources in a MemorySource (no registry).

use fhirreg_terminology::{
    CodingRef, ExpandParams, IssueKind, MemorySource, Options, Terminology, TxError,
};
use serde_json::json;

fn big_code_system(n: usize) -> serde_json::Value {
    let concepts: Vec<_> = (0..n)
        .map(|i| json!({"code": format!("c{i}"), "display": format!("Concept {i}")}))
        .collect();
    json!({"resourceType": "CodeSystem", "url": "http://example.org/big", "version": "1",
        "content": "complete", "concept": concepts})
}

#[test]
fn explosion_is_refused_with_the_limit_named() {
    let mut src = MemorySource::new();
    src.add(big_code_system(5000)).unwrap();
    src.add(
        json!({"resourceType": "ValueSet", "url": "http://example.org/vs-big",
        "compose": {"include": [{"system": "http://example.org/big"}]}}),
    )
    .unwrap();
    let tx = Terminology::with_options(
        src,
        Options {
            max_index_size: 1000,
            ..Options::default()
        },
    );
    let err = tx
        .validate_code("http://example.org/vs-big", &CodingRef::code("c1"))
        .unwrap_err();
    assert_eq!(
        err,
        TxError::TooCostly {
            valueset: "http://example.org/vs-big".into(),
            limit: 1000
        }
    );
    assert!(err.to_string().contains("too costly"), "{err}");
}

#[test]
fn paging_over_a_large_expansion() {
    let mut src = MemorySource::new();
    src.add(big_code_system(3000)).unwrap();
    src.add(
        json!({"resourceType": "ValueSet", "url": "http://example.org/vs-big",
        "compose": {"include": [{"system": "http://example.org/big"}]}}),
    )
    .unwrap();
    let tx = Terminology::with_source(src);
    let page = tx
        .expand(
            "http://example.org/vs-big",
            &ExpandParams {
                offset: 2990,
                count: Some(20),
                ..Default::default()
            },
        )
        .unwrap();
    let contains = page["expansion"]["contains"].as_array().unwrap();
    assert_eq!(contains.len(), 10);
    assert_eq!(contains[0]["code"], "c2990");
    assert_eq!(page["expansion"]["total"], 3000);
    // the text filter applies before paging and before the size limit
    let filtered = tx
        .expand(
            "http://example.org/vs-big",
            &ExpandParams {
                filter: Some("concept 299".into()),
                max_size: Some(100),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(filtered["expansion"]["total"], 13); // 299, 1299, 2299, 2990..2999
    assert!(matches!(
        tx.expand(
            "http://example.org/vs-big",
            &ExpandParams {
                max_size: Some(2999),
                ..Default::default()
            }
        ),
        Err(TxError::TooCostly { limit: 2999, .. })
    ));
    // membership in a big value set is a lookup
    assert!(
        tx.validate_code(
            "http://example.org/vs-big",
            &CodingRef::new("http://example.org/big", "c2999")
        )
        .unwrap()
        .valid
    );
}

#[test]
fn supplements_version_pins_and_stored_expansions() {
    let mut src = MemorySource::new();
    src.add(
        json!({"resourceType": "CodeSystem", "url": "http://example.org/cs", "version": "1",
        "content": "complete", "concept": [{"code": "a", "display": "A one"}]}),
    )
    .unwrap();
    src.add(json!({"resourceType": "CodeSystem", "url": "http://example.org/cs", "version": "2",
        "content": "complete", "concept": [{"code": "a", "display": "A two"}, {"code": "b", "display": "B"}]}))
        .unwrap();
    src.add(json!({"resourceType": "CodeSystem", "url": "http://example.org/cs-nb", "content": "supplement",
        "supplements": "http://example.org/cs", "language": "nb",
        "concept": [{"code": "a", "display": "A på norsk"}]}))
        .unwrap();
    src.add(json!({"resourceType": "CodeSystem", "url": "http://example.org/status", "content": "complete",
        "concept": [{"code": "on"}, {"code": "off", "property": [{"code": "status", "valueCode": "retired"}]}]}))
        .unwrap();
    src.add(
        json!({"resourceType": "ValueSet", "url": "http://example.org/active",
        "compose": {"inactive": false, "include": [{"system": "http://example.org/status"}]}}),
    )
    .unwrap();
    src.add(
        json!({"resourceType": "ValueSet", "url": "http://example.org/vs",
        "compose": {"include": [{"system": "http://example.org/cs"}]}}),
    )
    .unwrap();
    src.add(json!({"resourceType": "ValueSet", "url": "http://example.org/vs-expanded",
        "expansion": {"contains": [{"system": "http://example.org/other", "code": "x", "display": "X"}]}}))
        .unwrap();
    let tx = Terminology::with_source(src);
    // latest version by default (the last added), the supplement's display accepted
    let r = tx
        .validate_code(
            "http://example.org/vs",
            &CodingRef::new("http://example.org/cs", "a").with_display("A på norsk"),
        )
        .unwrap();
    assert!(r.valid && r.issues.is_empty(), "{r:?}");
    let l = tx.lookup("http://example.org/cs", Some("1"), "a").unwrap();
    assert_eq!(l.display.as_deref(), Some("A one"));
    // version pin through system-version
    let pinned = tx
        .expand(
            "http://example.org/vs",
            &ExpandParams {
                system_versions: vec![("http://example.org/cs".into(), "1".into())],
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(pinned["expansion"]["total"], 1);
    assert_eq!(pinned["expansion"]["contains"][0]["display"], "A one");
    let latest = tx
        .expand("http://example.org/vs", &ExpandParams::default())
        .unwrap();
    assert_eq!(latest["expansion"]["total"], 2);
    // a stored expansion is used as is
    let r = tx
        .validate_code("http://example.org/vs-expanded", &CodingRef::code("x"))
        .unwrap();
    assert!(r.valid);
    assert_eq!(r.system.as_deref(), Some("http://example.org/other"));
    // compose.inactive = false
    let active = tx
        .expand("http://example.org/active", &ExpandParams::default())
        .unwrap();
    assert_eq!(active["expansion"]["total"], 1);
    assert!(
        !tx.validate_code("http://example.org/active", &CodingRef::code("off"))
            .unwrap()
            .valid
    );
    // an unknown value set is an error, not a result
    assert!(matches!(
        tx.validate_code("http://example.org/none", &CodingRef::code("x")),
        Err(TxError::ValueSetNotFound(_))
    ));
    // no code at all
    let r = tx
        .validate_code("http://example.org/vs", &CodingRef::default())
        .unwrap();
    assert!(!r.valid && r.has(IssueKind::NoCode));
}

#[test]
fn hostile_inputs_do_not_panic() {
    let mut src = MemorySource::new();
    // deep nesting, self-parent cycles, bad regex, odd property values
    let mut concept = json!({"code": "leaf"});
    for i in 0..100 {
        concept = json!({"code": format!("n{i}"), "concept": [concept]});
    }
    src.add(json!({"resourceType": "CodeSystem", "url": "http://example.org/deep", "content": "complete",
        "concept": [concept, {"code": "x", "property": [{"code": "parent", "valueCode": "x"}, {"code": "child", "valueCode": "y"}]},
                    {"code": "y", "property": [{"code": "parent", "valueCode": "x"}, {"code": "weird", "valueQuantity": {"value": 1}}]}]}))
        .unwrap();
    src.add(json!({"resourceType": "ValueSet", "url": "http://example.org/deep-vs",
        "compose": {"include": [{"system": "http://example.org/deep", "filter": [{"property": "concept", "op": "is-a", "value": "n99"}]}]}}))
        .unwrap();
    src.add(json!({"resourceType": "ValueSet", "url": "http://example.org/bad-regex",
        "compose": {"include": [{"system": "http://example.org/deep", "filter": [{"property": "code", "op": "regex", "value": "(("}]}]}}))
        .unwrap();
    let tx = Terminology::with_source(src);
    let exp = tx
        .expand("http://example.org/deep-vs", &ExpandParams::default())
        .unwrap();
    assert_eq!(exp["expansion"]["total"], 101);
    assert!(matches!(
        tx.expand("http://example.org/bad-regex", &ExpandParams::default()),
        Err(TxError::Invalid { .. })
    ));
    assert_eq!(
        tx.subsumes("http://example.org/deep", "n99", "leaf")
            .unwrap(),
        fhirreg_terminology::Subsumption::Subsumes
    );
    assert!(tx.lookup("http://example.org/deep", None, "y").is_ok());
    for unit in [
        "((((((((((((((((((((",
        "{",
        "[",
        "10*",
        "m-",
        "m+2",
        "/",
        "..",
        "m.",
        "%[",
        "\u{e9}",
    ] {
        let _ = fhirreg_terminology::ucum::parse(unit);
    }
    let deep_unit = "(".repeat(500) + "m" + &")".repeat(500);
    assert!(fhirreg_terminology::ucum::parse(&deep_unit).is_err());
}
