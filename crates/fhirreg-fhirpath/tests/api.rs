//! Behaviour of the public API on small resources.

use std::sync::{Arc, OnceLock};

use fhirreg_element::{json, Document, ParseOptions};
use fhirreg_fhirpath::{
    EvalContext, Expression, Limits, ReferenceResolver, TerminologyHook, Value,
};
use fhirreg_registry::model::FhirPathModel;

fn parse(src: &str) -> Document {
    json::parse(src.as_bytes(), &ParseOptions::default()).expect("valid JSON")
}

fn model() -> &'static FhirPathModel {
    static M: OnceLock<FhirPathModel> = OnceLock::new();
    M.get_or_init(|| {
        FhirPathModel::new(fhirreg_registry::Registry::builder().build().expect("core"))
    })
}

const PATIENT: &str = r##"{
  "resourceType": "Patient",
  "id": "p1",
  "contained": [{"resourceType": "Organization", "id": "org1", "name": "Acme"}],
  "extension": [{"url": "http://example.org/ext", "valueString": "x"}],
  "active": true,
  "name": [
    {"use": "official", "family": "Chalmers", "given": ["Peter", "James"]},
    {"use": "usual", "given": ["Jim"]}
  ],
  "birthDate": "1974-12-25",
  "managingOrganization": {"reference": "#org1"},
  "contact": [{"name": {"family": "du Marché"}}]
}"##;

fn eval_texts(expr: &str, root: &Document) -> Vec<String> {
    let e = Expression::compile(expr).unwrap_or_else(|err| panic!("{expr}: {err}"));
    let ctx = EvalContext::new(root.root()).with_model(model());
    e.evaluate(&ctx)
        .unwrap_or_else(|err| panic!("{expr}: {err}"))
        .iter()
        .map(|v| {
            v.to_text()
                .map(|t| t.into_owned())
                .unwrap_or_else(|| "<node>".into())
        })
        .collect()
}

fn eval_bool(expr: &str, root: &Document) -> Option<bool> {
    let e = Expression::compile(expr).unwrap_or_else(|err| panic!("{expr}: {err}"));
    let ctx = EvalContext::new(root.root()).with_model(model());
    e.evaluate_bool(&ctx)
        .unwrap_or_else(|err| panic!("{expr}: {err}"))
}

#[test]
fn navigation_and_filtering() {
    let p = parse(PATIENT);
    assert_eq!(
        eval_texts("Patient.name.where(use='official').given.first()", &p),
        ["Peter"]
    );
    assert_eq!(eval_texts("name.given", &p), ["Peter", "James", "Jim"]);
    assert_eq!(eval_texts("name.select(given.count())", &p), ["2", "1"]);
    assert_eq!(eval_texts("Patient.contact.name.family", &p), ["du Marché"]);
    assert_eq!(eval_texts("name[1].given", &p), ["Jim"]);
    assert!(eval_texts("Encounter.status", &p).is_empty());
}

#[test]
fn typed_values_from_the_model() {
    let p = parse(PATIENT);
    assert_eq!(eval_bool("Patient.birthDate = @1974-12-25", &p), Some(true));
    assert_eq!(eval_bool("Patient.birthDate < @1975", &p), Some(true));
    assert_eq!(eval_bool("Patient.birthDate.is(date)", &p), Some(true));
    assert_eq!(eval_bool("Patient.active.is(boolean)", &p), Some(true));
    assert_eq!(
        eval_bool("Patient.name.first().is(HumanName)", &p),
        Some(true)
    );
    assert_eq!(eval_bool("Patient.is(DomainResource)", &p), Some(true));
    assert_eq!(
        eval_bool("Patient.contact.first().is(BackboneElement)", &p),
        Some(true)
    );
    assert_eq!(
        eval_bool("Patient.birthDate + 1 year = @1975-12-25", &p),
        Some(true)
    );
}

#[test]
fn choice_types_and_of_type() {
    let obs = parse(
        r#"{"resourceType":"Observation","status":"final","code":{"text":"w"},
            "valueQuantity":{"value":185,"unit":"lbs","system":"http://unitsofmeasure.org","code":"[lb_av]"}}"#,
    );
    assert_eq!(
        eval_bool("Observation.value.is(Quantity)", &obs),
        Some(true)
    );
    assert_eq!(
        eval_bool("Observation.value.is(FHIR.Quantity)", &obs),
        Some(true)
    );
    assert_eq!(
        eval_texts("Observation.value.ofType(Quantity).value", &obs),
        ["185"]
    );
    assert!(eval_texts("Observation.value.ofType(string)", &obs).is_empty());
    assert_eq!(
        eval_bool("Observation.value > 180 '[lb_av]'", &obs),
        Some(true)
    );
    // Navigating by the full choice name is an error per spec.
    let e = Expression::compile("Observation.valueQuantity").unwrap();
    assert!(e
        .evaluate(&EvalContext::new(obs.root()).with_model(model()))
        .is_err());
}

#[test]
fn fhir_functions() {
    let p = parse(PATIENT);
    assert_eq!(
        eval_texts("Patient.extension('http://example.org/ext').value", &p),
        ["x"]
    );
    assert_eq!(
        eval_texts("Patient.managingOrganization.resolve().name", &p),
        ["Acme"]
    );
    assert_eq!(eval_bool("Patient.birthDate.hasValue()", &p), Some(true));
    assert_eq!(
        eval_bool("Patient.name.first().hasValue()", &p),
        Some(false)
    );
    assert_eq!(
        eval_texts("Patient.birthDate.getValue()", &p),
        ["1974-12-25"]
    );
    assert_eq!(
        eval_bool("%`ext-patient-birthPlace`.endsWith('birthPlace')", &p),
        Some(true)
    );
    assert_eq!(
        eval_bool(
            "%\"vs-administrative-gender\" = 'http://hl7.org/fhir/ValueSet/administrative-gender'",
            &p
        ),
        Some(true)
    );
    assert_eq!(
        eval_bool(
            "Patient.children().count() > 5 and descendants().count() > 10",
            &p
        ),
        Some(true)
    );
}

#[test]
fn bundle_references_resolve_by_full_url_and_relative_reference() {
    let b = parse(
        r#"{"resourceType":"Bundle","type":"collection","entry":[
            {"fullUrl":"http://x.org/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1","gender":"male"}},
            {"fullUrl":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0","resource":{"resourceType":"Observation","id":"o","status":"final",
              "code":{"text":"x"},"subject":{"reference":"Patient/1"},
              "performer":[{"reference":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"}]}}]}"#,
    );
    assert_eq!(
        eval_texts(
            "Bundle.entry.resource.ofType(Observation).subject.resolve().gender",
            &b
        ),
        ["male"]
    );
    assert_eq!(
        eval_texts("Bundle.entry[1].resource.performer.resolve().status", &b),
        ["final"]
    );
}

struct Hooks(Document);

impl ReferenceResolver for Hooks {
    fn resolve(&self, reference: &str) -> Option<fhirreg_element::Element<'_>> {
        (reference == "Organization/ext").then(|| self.0.root())
    }
}

impl TerminologyHook for Hooks {
    fn member_of(&self, value: &Value<'_>, value_set: &str) -> Option<bool> {
        Some(value_set == "http://example.org/vs" && value.to_text().as_deref() == Some("male"))
    }
}

#[test]
fn hooks_answer_resolve_and_member_of() {
    let p = parse(
        r#"{"resourceType":"Patient","gender":"male","managingOrganization":{"reference":"Organization/ext"}}"#,
    );
    let hooks = Hooks(parse(
        r#"{"resourceType":"Organization","name":"External"}"#,
    ));
    let ctx = EvalContext::new(p.root())
        .with_resolver(&hooks)
        .with_terminology(&hooks);
    let e = Expression::compile("managingOrganization.resolve().name").unwrap();
    let out = e.evaluate(&ctx).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to_text().as_deref(), Some("External"));
    let m = Expression::compile("gender.memberOf('http://example.org/vs')").unwrap();
    assert_eq!(m.evaluate_bool(&ctx).unwrap(), Some(true));
    let n = Expression::compile("gender.memberOf('http://example.org/other')").unwrap();
    assert_eq!(n.evaluate_bool(&ctx).unwrap(), Some(false));
}

#[test]
fn invariant_style_focus_inside_a_resource() {
    let b = parse(
        r#"{"resourceType":"Bundle","type":"collection","entry":[
            {"fullUrl":"http://x.org/Patient/1","resource":{"resourceType":"Patient","id":"1",
              "name":[{"family":"A","period":{"start":"2020-01-01","end":"2019-01-01"}}]}}]}"#,
    );
    let patient = b
        .root()
        .children_named("entry")
        .next()
        .and_then(|e| e.child("resource"))
        .unwrap();
    let name = patient.child("name").unwrap();
    let period = name.child("period").unwrap();
    // per-1 from the R4 core
    let per1 =
        Expression::compile("start.hasValue().not() or end.hasValue().not() or (start <= end)")
            .unwrap();
    let ctx = EvalContext::new(patient)
        .with_focus(period, None)
        .with_root_resource(b.root())
        .with_model(model());
    assert_eq!(per1.evaluate_bool(&ctx).unwrap(), Some(false));
    let which =
        Expression::compile("%resource.id & '/' & %rootResource.type & '/' & %context.start")
            .unwrap();
    let out = which.evaluate(&ctx).unwrap();
    assert_eq!(out[0].to_text().as_deref(), Some("1/collection/2020-01-01"));
    // The focus type is found from %resource: start is a dateTime.
    let is_dt = Expression::compile("start.is(dateTime)").unwrap();
    assert_eq!(is_dt.evaluate_bool(&ctx).unwrap(), Some(true));
}

#[test]
fn user_variables_and_three_valued_logic() {
    let ctx = EvalContext::empty().with_variable("limit", vec![Value::Integer(3)]);
    let cases = [
        ("%limit + 1 = 4", Some(true)),
        ("{} and false", Some(false)),
        ("{} and true", None),
        ("{} or true", Some(true)),
        ("true xor true", Some(false)),
        ("false implies {}", Some(true)),
        ("{} implies true", Some(true)),
        ("(1 | 2 | 3).aggregate($this + $total, 0) = 6", Some(true)),
        ("@2015-02 = @2015-02-01", None),
        (
            "@2015-02-04T10:00:00+02:00 = @2015-02-04T08:00:00Z",
            Some(true),
        ),
        ("1.0 'g' = 1000 'mg'", Some(true)),
        ("1.10 ~ 1.1", Some(true)),
        ("'a  B' ~ 'A b'", Some(true)),
        ("10 div 3 = 3 and 10 mod 3 = 1 and 10 / 4 = 2.5", Some(true)),
        ("(0.1 + 0.2) = 0.3", Some(true)),
        (
            "'abc'.matches('b') and 'abc'.replaceMatches('[ac]', 'x') = 'xbx'",
            Some(true),
        ),
        (
            "today() = now().toDate() and now().is(DateTime)",
            Some(true),
        ),
    ];
    for (src, want) in cases {
        let e = Expression::compile(src).unwrap_or_else(|err| panic!("{src}: {err}"));
        assert_eq!(
            e.evaluate_bool(&ctx)
                .unwrap_or_else(|err| panic!("{src}: {err}")),
            want,
            "{src}"
        );
    }
    assert!(Expression::compile("%nope")
        .unwrap()
        .evaluate(&ctx)
        .is_err());
}

#[test]
fn parse_errors_carry_positions() {
    let cases = [
        ("Patient.name.", 1, 14),
        ("1 +", 1, 4),
        ("Patient.name\n  .where(use = )", 2, 16),
        ("'unterminated", 1, 1),
        ("foo(1)", 1, 1),
        ("substring()", 1, 1),
    ];
    for (src, line, col) in cases {
        let e = Expression::compile(src).expect_err(src);
        assert_eq!((e.line, e.col), (line, col), "{src}: {e}");
    }
    let deep = "(".repeat(5000) + &")".repeat(5000);
    assert!(Expression::compile(&deep).is_err());
}

#[test]
fn limits_stop_runaway_evaluations() {
    let p = parse(PATIENT);
    let small = Limits {
        max_items: 20,
        ..Limits::default()
    };
    let ctx = EvalContext::new(p.root()).with_limits(small);
    let e = Expression::compile("descendants().select(descendants())").unwrap();
    let err = e.evaluate(&ctx).unwrap_err();
    assert!(err.message.contains("limit"), "{err}");
    let ctx = EvalContext::empty().with_limits(Limits {
        max_string: 1000,
        ..Limits::default()
    });
    let big = Expression::compile(
        "(1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10).aggregate($total & $total & 'xxxxxxxxxx', '')",
    )
    .unwrap();
    assert!(big.evaluate(&ctx).is_err());
    let chain = format!("1{}", ".first()".repeat(500));
    let c = Expression::compile(&chain).unwrap();
    assert!(c.evaluate(&EvalContext::empty()).is_err(), "depth limit");
}

#[test]
fn compiled_expressions_are_shared_across_threads() {
    let e = Arc::new(Expression::compile("name.given.count()").unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let e = Arc::clone(&e);
            std::thread::spawn(move || {
                let p = parse(&PATIENT.replace("Jim", &format!("Jim{i}")));
                let out = e.evaluate(&EvalContext::new(p.root())).unwrap();
                matches!(out.as_slice(), [Value::Integer(3)])
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap());
    }
}

#[test]
fn long_operator_chains_do_not_overflow_the_stack() {
    let minus = format!("{}1", "-".repeat(1450));
    let chain = format!("1{}", ".not()".repeat(600));
    let sum = format!("1{}", " + 1".repeat(3900));
    let members = format!("a{}", ".b".repeat(3900));
    let parens = format!("{}1{}", "(".repeat(199), ")".repeat(199));
    let calls = format!("{}1{}", "(-".repeat(190), ")".repeat(190));
    let iifs = format!("{}1{}", "iif(true, ".repeat(190), ")".repeat(190));
    for src in [minus, chain, sum, members, parens, calls, iifs] {
        // Either a compile error or an evaluation error; never a crash.
        if let Ok(e) = Expression::compile(&src) {
            let _ = e.evaluate(&EvalContext::empty());
        }
    }
}

/// `studyEffectiveDescription` is an element of its own in R4, beside the
/// choice `studyEffective[x]`; `studyEffectiveDateTime` is the choice by
/// its typed name and stays an error.
#[test]
fn element_named_like_a_choice_is_not_a_choice() {
    let red = parse(
        r#"{"resourceType": "ResearchElementDefinition", "status": "draft", "type": "population",
            "characteristic": [{"definitionCodeableConcept": {"text": "x"},
              "studyEffectiveDescription": "the first year",
              "studyEffectiveDateTime": "2020-01-01"}]}"#,
    );
    assert_eq!(
        eval_texts(
            "ResearchElementDefinition.characteristic.studyEffectiveDescription",
            &red
        ),
        ["the first year"]
    );
    assert_eq!(
        eval_bool(
            "ResearchElementDefinition.characteristic.studyEffectiveDescription.all(hasValue() or (children().count() > id.count()))",
            &red
        ),
        Some(true)
    );
    assert_eq!(
        eval_texts(
            "ResearchElementDefinition.characteristic.studyEffective",
            &red
        ),
        ["2020-01-01"]
    );
    let e = Expression::compile("ResearchElementDefinition.characteristic.studyEffectiveDateTime")
        .expect("compiles");
    let err = e
        .evaluate(&EvalContext::new(red.root()).with_model(model()))
        .expect_err("a choice by its typed name");
    assert!(err.message.contains("choice type"), "{err}");
}

/// Literal patterns are compiled with the expression; computed ones go
/// through a cache; both behave the same, invalid ones fail when evaluated.
#[test]
fn regex_patterns_literal_and_computed() {
    let p = parse(PATIENT);
    for (expr, want) in [
        ("Patient.name.family.matches('^Ch.*s$')", Some(true)),
        ("Patient.name.family.matches('^Ch' + '.*s$')", Some(true)),
        ("Patient.name.family.matchesFull('Ch.*')", Some(true)),
        ("Patient.name.family.matchesFull('Ch')", Some(false)),
        ("Patient.name.family.matchesFull('C' + 'h')", Some(false)),
        ("Patient.name.family.matches('')", Some(true)),
    ] {
        assert_eq!(eval_bool(expr, &p), want, "{expr}");
    }
    assert_eq!(
        eval_texts("Patient.name.family.replaceMatches('a(.)', '<$1>')", &p),
        ["Ch<l>mers"]
    );
    assert_eq!(
        eval_texts(
            "Patient.name.family.replaceMatches('a' + '(.)', '<$1>')",
            &p
        ),
        ["Ch<l>mers"]
    );
    let ctx = EvalContext::new(p.root()).with_model(model());
    for expr in [
        "Patient.name.family.matches('(')",
        "Patient.name.family.matches('(' + '')",
    ] {
        let e = Expression::compile(expr).expect("compiles");
        let err = e.evaluate(&ctx).expect_err(expr);
        assert!(err.message.contains("invalid regular expression"), "{err}");
    }
    // Over the size limit.
    let e = Expression::compile("Patient.name.family.matches('(((a{100}){100}){100})')")
        .expect("compiles");
    assert!(e.evaluate(&ctx).is_err());
}

/// A path from a `%constant` inside `where()`/`all()`/`select()` is
/// evaluated once per evaluation and reused for every item: the results are
/// those of evaluating it each time, in nested bodies, with several such
/// paths, and when the first items never reach it (short-circuit).
#[test]
fn constant_paths_in_bodies_give_the_same_results() {
    let doc = parse(
        r#"{"resourceType": "Bundle", "type": "batch", "entry": [
          {"fullUrl": "urn:a", "request": {"method": "GET", "url": "Patient/1"}},
          {"fullUrl": "urn:b"},
          {"fullUrl": "urn:c", "request": {"method": "POST", "url": "Patient"}}
        ]}"#,
    );
    let cases: &[(&str, &[&str])] = &[
        (
            "entry.all(request.exists() = (%resource.type = 'batch'))",
            &["false"],
        ),
        (
            "entry.where(request.exists() = (%resource.type = 'batch')).fullUrl",
            &["urn:a", "urn:c"],
        ),
        (
            "entry.select(%resource.type & '-' & fullUrl)",
            &["batch-urn:a", "batch-urn:b", "batch-urn:c"],
        ),
        (
            "entry.where(fullUrl = 'urn:b' or %resource.type = 'x').fullUrl",
            &["urn:b"],
        ),
        (
            "entry.where(%resource.entry.where(fullUrl != %resource.type).count() = 3).count()",
            &["3"],
        ),
        (
            "entry.select(%resource.entry.fullUrl.count() + %resource.type.length())",
            &["8", "8", "8"],
        ),
        ("entry.where(%context.type = 'batch').count()", &["3"]),
    ];
    for (expr, expected) in cases {
        assert_eq!(&eval_texts(expr, &doc), expected, "{expr}");
    }
}
