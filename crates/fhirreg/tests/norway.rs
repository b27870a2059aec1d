//! Norwegian national identifiers in validation: every Identifier with a
//! national system, wherever it is (no profile, contained resources,
//! Bundle entries, extensions, the no-basis profiles).

use std::path::Path;

use fhirreg::{Msg, Outcome, Severity, Validator};

const FNR: &str = "urn:oid:2.16.578.1.12.4.1.4.1";

fn validator() -> Validator {
    Validator::builder().build().expect("core")
}

/// (message id, severity, expression) of each issue but the best-practice
/// warning dom-6 (no narrative), which these small resources all get.
fn found(outcome: &Outcome) -> Vec<(&'static str, Severity, String)> {
    outcome
        .issues
        .iter()
        .filter(|i| i.arg("key") != Some("dom-6"))
        .map(|i| (i.msg.id(), i.severity, i.expression.clone()))
        .collect()
}

fn patient(identifiers: &str) -> String {
    format!(r#"{{"resourceType":"Patient","identifier":[{identifiers}]}}"#)
}

fn ident(system: &str, value: &str) -> String {
    format!(r#"{{"system":"{system}","value":"{value}"}}"#)
}

#[test]
fn valid_numbers_give_no_issue() {
    let v = validator();
    let p = patient(
        &[
            ident(FNR, "01019000083"),
            ident("urn:oid:2.16.578.1.12.4.1.4.2", "41127000059"),
            ident("http://hl7.no/fhir/NamingSystem/FHNR", "80000000098"),
            ident("urn:oid:2.16.578.1.12.4.1.4.5", "201012345610"),
            ident("http://example.org/mrn", "01019000084"),
        ]
        .join(","),
    );
    let outcome = v.validate(p.as_bytes());
    assert!(found(&outcome).is_empty(), "{:?}", found(&outcome));
}

#[test]
fn an_invalid_number_is_an_error_at_the_value() {
    let v = validator();
    let p = patient(&[ident(FNR, "01019000083"), ident(FNR, "01019000084")].join(","));
    let outcome = v.validate(p.as_bytes());
    assert_eq!(
        found(&outcome),
        [(
            "no-id-control-digit",
            Severity::Error,
            "Patient.identifier[1].value".to_string()
        )]
    );
    let text = outcome
        .issues
        .iter()
        .find(|i| i.msg == Msg::NoIdControlDigit)
        .map(|i| i.message())
        .unwrap_or_default();
    assert!(
        text.contains("fødselsnummer") && text.contains("digit 11"),
        "{text}"
    );
    assert!(!outcome.is_valid());
}

#[test]
fn what_is_wrong_is_named() {
    let v = validator();
    let cases = [
        (FNR, "0101900008", Msg::NoIdLength),
        (FNR, "210377xxxxx", Msg::NoIdNotDigit),
        (FNR, "29020000064", Msg::NoIdDate),
        (FNR, "41127000059", Msg::NoIdWrongKind),
        (
            "http://hl7.no/fhir/NamingSystem/DNR",
            "01019000083",
            Msg::NoIdWrongKind,
        ),
        (
            "urn:oid:2.16.578.1.12.4.1.4.101",
            "974760672",
            Msg::NoIdControlDigit,
        ),
        (
            "urn:oid:2.16.578.1.12.4.1.4.3",
            "01019000083",
            Msg::NoIdWrongKind,
        ),
        (
            "http://hl7.no/fhir/NamingSystem/kommunenummer",
            "301",
            Msg::NoIdLength,
        ),
        ("urn:oid:2.16.578.1.12.4.1.4.4", "HPR-1", Msg::NoIdNotDigit),
    ];
    for (system, value, msg) in cases {
        let outcome = v.validate(patient(&ident(system, value)).as_bytes());
        let ours: Vec<_> = outcome
            .issues
            .iter()
            .filter(|i| i.msg.id().starts_with("no-id-"))
            .collect();
        assert_eq!(
            found(&outcome).len(),
            1,
            "{system} {value}: {:?}",
            found(&outcome)
        );
        assert_eq!(ours.len(), 1, "{system} {value}: {:?}", found(&outcome));
        let issue = ours[0];
        assert_eq!(issue.msg, msg, "{system} {value}");
        assert_eq!(issue.expression, "Patient.identifier[0].value");
        assert!(issue.severity.is_error());
    }
    let wrong = v.validate(patient(&ident(FNR, "41127000059")).as_bytes());
    let wrong = wrong
        .issues
        .iter()
        .find(|i| i.msg == Msg::NoIdWrongKind)
        .expect("no-id-wrong-kind");
    assert_eq!(wrong.arg("system"), Some("urn:oid:2.16.578.1.12.4.1.4.2"));
}

#[test]
fn synthetic_numbers_are_information_or_errors_by_option() {
    let p = patient(&[ident(FNR, "01859000009"), ident(FNR, "01459000026")].join(","));
    let outcome = validator().validate(p.as_bytes());
    assert_eq!(
        found(&outcome),
        [
            (
                "no-id-synthetic",
                Severity::Information,
                "Patient.identifier[0].value".to_string()
            ),
            (
                "no-id-synthetic",
                Severity::Information,
                "Patient.identifier[1].value".to_string()
            ),
        ]
    );
    assert!(outcome.is_valid());
    let texts: Vec<String> = outcome
        .issues
        .iter()
        .filter(|i| i.msg == Msg::NoIdSynthetic)
        .map(|i| i.message())
        .collect();
    assert!(
        texts[0].contains("Test Norge") && texts[1].contains("NAV"),
        "{texts:?}"
    );
    let strict = Validator::builder().no_synthetic_ids(true).build().unwrap();
    let outcome = strict.validate(p.as_bytes());
    assert!(!outcome.is_valid());
    assert_eq!(
        found(&outcome),
        [
            (
                "no-id-synthetic-not-allowed",
                Severity::Error,
                "Patient.identifier[0].value".to_string()
            ),
            (
                "no-id-synthetic-not-allowed",
                Severity::Error,
                "Patient.identifier[1].value".to_string()
            ),
        ]
    );
}

#[test]
fn contained_resources_bundles_and_extensions() {
    let v = validator();
    let bad = ident(FNR, "01019000084");
    let contained = format!(
        r##"{{"resourceType":"Observation","status":"final","code":{{"text":"x"}},
            "subject":{{"reference":"#p"}},
            "contained":[{{"resourceType":"Patient","id":"p","identifier":[{bad}]}}]}}"##
    );
    let outcome = v.validate(contained.as_bytes());
    let f = found(&outcome);
    assert!(
        f.iter().any(|(id, _, e)| *id == "no-id-control-digit"
            && e == "Observation.contained[0]/*Patient/p*/.identifier[0].value"),
        "{f:?}"
    );
    let bundle = format!(
        r#"{{"resourceType":"Bundle","type":"collection","entry":[
            {{"fullUrl":"urn:uuid:2b4b6a2e-1f4e-4d7e-9d1a-2f0b6f1d2c3a","resource":{}}}]}}"#,
        patient(&bad)
    );
    let outcome = v.validate(bundle.as_bytes());
    let f = found(&outcome);
    assert!(
        f.iter().any(|(id, _, e)| *id == "no-id-control-digit"
            && e.ends_with(".identifier[0].value")
            && e.starts_with("Bundle.entry[0].resource")),
        "{f:?}"
    );
    // an Identifier anywhere: Organization identifiers, Reference.identifier
    let org = r#"{"resourceType":"Encounter","status":"finished",
        "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
        "serviceProvider":{"identifier":{"system":"urn:oid:2.16.578.1.12.4.1.4.101","value":"974760672"}}}"#;
    let outcome = v.validate(org.as_bytes());
    assert_eq!(
        found(&outcome),
        [(
            "no-id-control-digit",
            Severity::Error,
            "Encounter.serviceProvider.identifier.value".to_string()
        )]
    );
}

#[test]
fn the_no_basis_profiles_apply_the_rules_too() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/packages/hl7.fhir.no.basis#2.2.3-test.tgz");
    if !package.exists() {
        eprintln!(
            "skipped: {} is absent (../shared test data)",
            package.display()
        );
        return;
    }
    let v = Validator::builder()
        .load_path(&package)
        .build()
        .expect("no-basis");
    let p = r#"{"resourceType":"Patient",
        "meta":{"profile":["http://hl7.no/fhir/ig/StructureDefinition/no-basis-Patient"]},
        "identifier":[{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":"01019000084"}]}"#;
    let outcome = v.validate(p.as_bytes());
    let f = found(&outcome);
    let ours: Vec<_> = f
        .iter()
        .filter(|(id, _, _)| id.starts_with("no-id-"))
        .collect();
    assert_eq!(
        ours,
        [&(
            "no-id-control-digit",
            Severity::Error,
            "Patient.identifier[0].value".to_string()
        )],
        "{f:?}"
    );
}
