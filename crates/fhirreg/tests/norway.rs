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

/// (message id, expression) of each error.
fn errors_of(outcome: &Outcome) -> Vec<(&'static str, String)> {
    outcome
        .errors()
        .map(|i| (i.msg.id(), i.expression.clone()))
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

/// The Norwegian layer of the embedded registry: no package loaded.
#[test]
fn norwegian_code_systems_are_offline() {
    let v = validator();
    let registry = v.registry();
    let fnr = registry
        .resolve_system("urn:oid:2.16.578.1.12.4.1.4.1")
        .expect("FNR NamingSystem");
    assert_eq!(fnr.resource_type, "NamingSystem");
    for kind in fhirreg::no::IdKind::ALL {
        if let Some(oid) = kind.oid() {
            let ns = registry
                .naming_system(oid)
                .unwrap_or_else(|| panic!("no NamingSystem for {oid}"));
            assert_eq!(ns.resource_type, "NamingSystem");
        }
    }
    let kategori = registry
        .code_system("urn:oid:2.16.578.1.12.4.1.1.9060")
        .expect("9060");
    let lege = kategori
        .concepts
        .iter()
        .find(|c| c.code == "LE")
        .expect("LE");
    assert_eq!(lege.display.as_deref(), Some("Lege"));
    // a binding to the OID as a value set: every code of the code system
    let tx = v.terminology();
    let coding = |system, code| fhirreg::terminology::CodingRef {
        system: Some(system),
        version: None,
        code: Some(code),
        display: None,
    };
    let oid = "urn:oid:2.16.578.1.12.4.1.1.9060";
    assert!(
        tx.validate_code(oid, &coding(oid, "LE"))
            .expect("validate")
            .valid
    );
    assert!(
        !tx.validate_code(oid, &coding(oid, "QQ"))
            .expect("validate")
            .valid
    );
    assert!(registry
        .value_set("urn:oid:2.16.578.1.12.4.1.1.3402")
        .is_none());
}

#[test]
fn volven_codes_in_resources() {
    let v = validator();
    let practitioner = r#"{"resourceType":"Practitioner","qualification":[
        {"code":{"coding":[{"system":"urn:oid:2.16.578.1.12.4.1.1.9060","code":"LE","display":"Lege"}]}},
        {"code":{"coding":[{"system":"urn:oid:2.16.578.1.12.4.1.1.9060","code":"QQ"}]}},
        {"code":{"coding":[{"system":"urn:oid:2.16.578.1.12.4.1.1.3108","code":"1"}]}},
        {"code":{"coding":[{"system":"urn:oid:2.16.578.1.12.4.1.1.3402","code":"0301"}]}}]}"#;
    let outcome = v.validate(practitioner.as_bytes());
    let f = found(&outcome);
    assert_eq!(
        f,
        [
            (
                "tx-unknown-code-version",
                Severity::Error,
                "Practitioner.qualification[1].code.coding[0].code".to_string()
            ),
            (
                "no-code-system-not-present",
                Severity::Information,
                "Practitioner.qualification[2].code.coding[0].code".to_string()
            ),
            (
                "no-code-system-not-held",
                Severity::Information,
                "Practitioner.qualification[3].code.coding[0].code".to_string()
            ),
        ],
        "{f:?}"
    );
}

/// The shared test data folder (`../shared` beside the checkout), as the
/// conformance tests find it; `None` (and a printed reason) when absent.
fn shared_package(name: &str) -> Option<std::path::PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/packages")
        .join(name);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipped: {} is absent (../shared test data)",
            path.display()
        );
        None
    }
}

/// A validator with the shared packages `names` loaded (None, with the
/// reason printed, when one is absent).
fn validator_with(names: &[&str]) -> Option<Validator> {
    let mut builder = Validator::builder();
    for name in names {
        builder = builder.load_path(shared_package(name)?);
    }
    Some(builder.build().expect("the shared packages load"))
}

/// The examples of a package `.tgz`: (file name, JSON text).
fn package_examples(tgz: &Path) -> Vec<(String, String)> {
    use std::io::Read;
    let file = std::fs::File::open(tgz).expect("open package");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for entry in archive.entries().expect("tar") {
        let mut entry = entry.expect("tar entry");
        let path = entry.path().expect("path").to_string_lossy().into_owned();
        if let Some(name) = path
            .strip_prefix("package/example/")
            .filter(|n| n.ends_with(".json"))
        {
            let mut text = String::new();
            entry.read_to_string(&mut text).expect("utf-8 example");
            out.push((name.to_string(), text));
        }
    }
    out.sort();
    out
}

/// Every example of no-basis against its meta.profile. What the IG
/// publisher would report too is expected here; docs/norway.md explains
/// each expected error (errors of the examples themselves, and
/// fhirreg's national identifier rules, which the publisher lacks).
#[test]
fn no_basis_examples_validate_against_their_profiles() {
    const BASIS: &str = "hl7.fhir.no.basis#2.2.3-test.tgz";
    let (Some(basis), Some(v)) = (
        shared_package(BASIS),
        validator_with(&[BASIS, "hl7.fhir.no.kodeverk#0.6.0.tgz"]),
    ) else {
        return;
    };
    // (example, message id, expression) of each expected error.
    let expected: &[(&str, &str, &str)] = &[
        // the invariant names another extension url and is not an implication
        (
            "AppointmentResponse-PatientAppointmentResponseExample.json",
            "invariant-failed",
            "AppointmentResponse",
        ),
        // placeholder numbers: fhirreg's identifier rules
        (
            "HealthcareService-no-basis-HealthcareService-example.json",
            "no-id-length",
            "HealthcareService.providedBy.identifier.value",
        ),
        (
            "Patient-EspenEksempel.json",
            "no-id-not-digit",
            "Patient.identifier[0].value",
        ),
        (
            "Patient-Pasient-Middle-Name-1.json",
            "no-id-control-digit",
            "Patient.identifier[0].value",
        ),
    ];
    let examples = package_examples(&basis);
    assert!(examples.len() >= 14, "{} examples", examples.len());
    let mut got = Vec::new();
    for (name, text) in &examples {
        let outcome = v.validate(text.as_bytes());
        for i in outcome.errors() {
            got.push((name.clone(), i.msg.id(), i.expression.clone()));
        }
        let profiles: Vec<_> = serde_json::from_str::<serde_json::Value>(text).expect("json")
            ["meta"]["profile"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        // every profile this build defines was applied (the published
        // canonical base of the second HealthcareService profile is not
        // this build's: a warning)
        for p in profiles.iter().filter_map(|p| p.as_str()) {
            let known = v.registry().resolve(p).is_some();
            let warned = outcome
                .issues
                .iter()
                .any(|i| i.msg == Msg::MetaProfileUnknown);
            assert!(known || warned, "{name}: {p}");
        }
    }
    let want: Vec<_> = expected
        .iter()
        .map(|(n, id, e)| (n.to_string(), *id, e.to_string()))
        .collect();
    assert_eq!(got, want);
}

/// The municipality, urban-district and address extensions of no-basis on
/// an Address, right and wrong.
#[test]
fn no_basis_address_extensions() {
    let Some(basis) = shared_package("hl7.fhir.no.basis#2.2.3-test.tgz") else {
        return;
    };
    let v = Validator::builder()
        .load_path(&basis)
        .build()
        .expect("no-basis");
    let patient = |district_ext: &str, official: &str| {
        format!(
            r#"{{"resourceType":"Patient",
            "meta":{{"profile":["http://hl7.no/fhir/ig/StructureDefinition/no-basis-Patient"]}},
            "address":[{{"extension":[
                {{"url":"http://hl7.no/fhir/StructureDefinition/no-basis-address-official","valueBoolean":{official}}},
                {{"url":"http://hl7.no/fhir/ig/StructureDefinition/no-basis-urban-district",
                  "valueCoding":{{"system":"urn:oid:2.16.578.1.12.4.1.1.3403","code":"030101"}}}}],
              "city":"Oslo","district":"Oslo",
              "_district":{{"extension":[{district_ext}]}}}}]}}"#
        )
    };
    let municipality = r#"{"url":"http://hl7.no/fhir/StructureDefinition/no-basis-municipalitycode",
        "valueCoding":{"system":"urn:oid:2.16.578.1.12.4.1.1.3402","code":"0301"}}"#;
    let outcome = v.validate(patient(municipality, "true").as_bytes());
    let errors = errors_of(&outcome);
    assert!(errors.is_empty(), "{errors:?}");
    // the kommune and bydel lists are not held: information, not errors
    assert!(
        outcome
            .issues
            .iter()
            .any(|i| i.msg == Msg::NoCodeSystemNotHeld),
        "{:?}",
        found(&outcome)
    );
    // a string where the extension takes a Coding, a boolean that is not
    let wrong = r#"{"url":"http://hl7.no/fhir/StructureDefinition/no-basis-municipalitycode","valueString":"0301"}"#;
    let outcome = v.validate(patient(wrong, "\"ja\"").as_bytes());
    let errors: Vec<_> = outcome.errors().map(|i| i.msg.id()).collect();
    assert!(errors.contains(&"extension-value-type"), "{errors:?}");
    assert!(
        errors.contains(&"boolean-invalid") || errors.contains(&"json-value-not-boolean"),
        "{errors:?}"
    );
}

/// NILAR (laboratory results) on no-basis 2.2.2 from its source folder
/// (differentials only: snapshots generated): the DiagnosticReport →
/// Observation chain of tests/data/norway/nilar-report.json, and the same
/// Bundle broken four ways.
#[test]
fn nilar_report_chain() {
    let Some(v) = validator_with(&["no-basis-r4-src", "diagnostic.report.nilar#1.5.0.tgz"]) else {
        return;
    };
    for url in [
        "http://hl7.no/fhir/StructureDefinition/no-basis-Patient",
        "http://hl7.no/fhir/StructureDefinition/no-basis-PractitionerRole",
        "http://nhn.no/fhir/nilar/StructureDefinition/nilar-practitioner-role",
    ] {
        assert!(v.registry().structure(url).is_some(), "{url}: no snapshot");
    }
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/norway/nilar-report.json");
    let text = std::fs::read_to_string(path).expect("nilar-report.json");
    let outcome = v.validate(text.as_bytes());
    let errors = errors_of(&outcome);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        outcome
            .issues
            .iter()
            .all(|i| i.msg != Msg::MetaProfileUnknown),
        "{:?}",
        found(&outcome)
    );

    let mut bundle: serde_json::Value = serde_json::from_str(&text).expect("json");
    let entry = |n: usize| format!("Bundle.entry[{n}].resource");
    bundle["entry"][0]["resource"]["category"][0]["coding"][0]["code"] = "XYZ".into();
    bundle["entry"][1]["resource"]["extension"] = serde_json::json!([]);
    bundle["entry"][1]["resource"]
        .as_object_mut()
        .expect("object")
        .remove("extension");
    bundle["entry"][2]["resource"]["identifier"][0]["value"] = "13858510088".into();
    let outcome = v.validate(bundle.to_string().as_bytes());
    let mut errors = errors_of(&outcome);
    errors.sort();
    let at = |n: usize, rest: &str| {
        let ty = ["DiagnosticReport", "Observation", "Patient"][n];
        format!("{}/*{ty}/null*/{rest}", entry(n))
    };
    assert_eq!(
        errors,
        [
            ("no-id-control-digit", at(2, ".identifier[0].value")),
            ("slice-missing-open", at(1, "")),
            ("too-few-occurrences", at(1, "")),
            ("tx-binding-concept-required", at(0, ".category")),
        ]
    );
}

/// Kommunenummer: the format always; membership once a complete list
/// (a CodeSystem carrying OID 3402) is loaded.
#[test]
fn kommunenummer_against_a_loaded_list() {
    let system = "http://hl7.no/fhir/NamingSystem/kommunenummer";
    let p = patient(
        &[
            ident(system, "0301"),
            ident(system, "9999"),
            ident(system, "301"),
        ]
        .join(","),
    );
    let without = validator().validate(p.as_bytes());
    assert_eq!(
        found(&without),
        [(
            "no-id-length",
            Severity::Error,
            "Patient.identifier[2].value".to_string()
        )]
    );
    let list = br#"{"resourceType":"CodeSystem","url":"http://example.org/kommune",
        "identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:oid:2.16.578.1.12.4.1.1.3402"}],
        "status":"active","content":"complete",
        "concept":[{"code":"0301","display":"Oslo"},{"code":"4601","display":"Bergen"}]}"#;
    let v = Validator::builder()
        .load_bytes("kommune.json", list.to_vec())
        .build()
        .expect("list");
    let with = v.validate(p.as_bytes());
    assert_eq!(
        found(&with),
        [
            (
                "no-id-not-in-list",
                Severity::Error,
                "Patient.identifier[1].value".to_string()
            ),
            (
                "no-id-length",
                Severity::Error,
                "Patient.identifier[2].value".to_string()
            ),
        ]
    );
    assert_eq!(
        with.issues
            .iter()
            .find(|i| i.msg == Msg::NoIdNotInList)
            .and_then(|i| i.arg("list")),
        Some("http://example.org/kommune")
    );
}
