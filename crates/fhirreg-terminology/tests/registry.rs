//! Terminology over the embedded R4 core registry.

use std::sync::OnceLock;

use fhirreg_element::Msg;
use fhirreg_registry::Registry;
use fhirreg_terminology::{
    CodingRef, ExpandParams, IssueKind, Severity, Subsumption, Terminology, TxError,
};

fn tx() -> &'static Terminology {
    static TX: OnceLock<Terminology> = OnceLock::new();
    TX.get_or_init(|| {
        let registry = Registry::builder()
            .add_bytes(
                "test-resources.json",
                include_bytes!("data/test-resources.json"),
            )
            .build()
            .expect("registry builds");
        Terminology::new(registry)
    })
}

const GENDER: &str = "http://hl7.org/fhir/ValueSet/administrative-gender";

#[test]
fn administrative_gender_bare_codes() {
    let ok = tx()
        .validate_code(GENDER, &CodingRef::code("male"))
        .unwrap();
    assert!(ok.valid && !ok.unknown, "{ok:?}");
    assert_eq!(
        ok.system.as_deref(),
        Some("http://hl7.org/fhir/administrative-gender")
    );
    assert_eq!(ok.display.as_deref(), Some("Male"));
    assert_eq!(
        ok.valueset.as_deref(),
        Some("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1")
    );
    assert_eq!(ok.valueset_name.as_deref(), Some("AdministrativeGender"));

    let bad = tx()
        .validate_code(GENDER, &CodingRef::code("invalid"))
        .unwrap();
    assert!(!bad.valid && !bad.unknown);
    // no system for the bare code, and not in the value set
    let msgs: Vec<Msg> = bad.issues.iter().map(|i| i.message.msg).collect();
    assert_eq!(msgs, [Msg::TxSystemUndetermined, Msg::TxNotInValueSet]);
    assert_eq!(
        bad.message().unwrap(),
        "The value set 'http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1' does not tell which code system the code 'invalid' is from; The code '#invalid' is not in the value set 'http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1'"
    );
    // case sensitive
    assert!(
        !tx()
            .validate_code(GENDER, &CodingRef::code("Male"))
            .unwrap()
            .valid
    );
}

#[test]
fn coding_with_system_and_display() {
    let sys = "http://hl7.org/fhir/administrative-gender";
    let ok = tx()
        .validate_code(
            GENDER,
            &CodingRef::new(sys, "female").with_display("Female"),
        )
        .unwrap();
    assert!(ok.valid && ok.issues.is_empty(), "{ok:?}");
    let wrong = tx()
        .validate_code(GENDER, &CodingRef::new(sys, "female").with_display("Woman"))
        .unwrap();
    assert!(wrong.valid);
    assert_eq!(wrong.severity(), Some(Severity::Warning));
    assert_eq!(
        wrong.message().unwrap(),
        "The display 'Woman' is not right for http://hl7.org/fhir/administrative-gender#female: it should be 'Female' (language: en-US)"
    );
    let unknown = tx()
        .validate_code(GENDER, &CodingRef::new(sys, "nope"))
        .unwrap();
    assert!(!unknown.valid);
    assert_eq!(
        unknown.message().unwrap(),
        "The code 'http://hl7.org/fhir/administrative-gender#nope' is not in the value set 'http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1'; The code 'nope' is not defined in version '4.0.1' of the code system 'http://hl7.org/fhir/administrative-gender'"
    );
    let other_system = tx()
        .validate_code(GENDER, &CodingRef::new("http://example.org/x", "male"))
        .unwrap();
    assert!(!other_system.valid);
    assert!(other_system.has(IssueKind::NotInValueSet));
}

#[test]
fn observation_status_and_code_system_validation() {
    let vs = "http://hl7.org/fhir/ValueSet/observation-status";
    assert!(
        tx().validate_code(vs, &CodingRef::code("final"))
            .unwrap()
            .valid
    );
    assert!(
        !tx()
            .validate_code(vs, &CodingRef::code("Final"))
            .unwrap()
            .valid
    );
    let r = tx()
        .validate_code_in_system("http://hl7.org/fhir/observation-status", "amended", None)
        .unwrap();
    assert!(r.valid);
    let r = tx()
        .validate_code_in_system("http://hl7.org/fhir/observation-status", "x", None)
        .unwrap();
    assert!(!r.valid);
    assert_eq!(
        r.message().unwrap(),
        "The code 'x' is not defined in version '4.0.1' of the code system 'http://hl7.org/fhir/observation-status'"
    );
}

#[test]
fn unknown_and_unshippable_systems_are_not_checked() {
    let r = tx()
        .validate_code_in_system("http://snomed.info/sct", "27113001", None)
        .unwrap();
    assert!(r.valid && r.unknown);
    assert_eq!(r.severity(), Some(Severity::Information));
    let r = tx()
        .validate_code_in_system("http://example.org/unknown", "x", None)
        .unwrap();
    assert!(r.valid && r.unknown);
    assert_eq!(
        r.message().unwrap(),
        "The code system 'http://example.org/unknown' is not available here, so the code was not checked"
    );
    // a SNOMED is-a value set: not checked, not an error
    let r = tx()
        .validate_code(
            "http://hl7.org/fhir/ValueSet/clinical-findings",
            &CodingRef::new("http://snomed.info/sct", "22298006"),
        )
        .unwrap();
    assert!(r.valid && r.unknown, "{r:?}");
    // but a system the value set does not include at all is an error
    let r = tx()
        .validate_code(
            "http://hl7.org/fhir/ValueSet/clinical-findings",
            &CodingRef::new("http://loinc.org", "1234-5"),
        )
        .unwrap();
    assert!(!r.valid && !r.unknown);
    // version that does not exist
    let r = tx()
        .validate_code_in_system("http://hl7.org/fhir/administrative-gender", "male", None)
        .unwrap();
    assert!(r.valid);
    let c = CodingRef::new("http://hl7.org/fhir/administrative-gender", "male").with_version("9.9");
    let r = tx().validate_code(GENDER, &c).unwrap();
    // the value set enumerates the code, so membership is known; the version is flagged
    assert!(
        r.valid && !r.unknown && r.has(IssueKind::UnknownVersion),
        "{r:?}"
    );
    assert_eq!(r.severity(), Some(Severity::Warning));
    assert_eq!(
        r.message().unwrap(),
        "Version '9.9' of the code system 'http://hl7.org/fhir/administrative-gender' is not available here, so the code was not checked (versions available: 4.0.1)"
    );
    let r = tx()
        .validate_code_in_system("http://hl7.org/fhir/administrative-gender", "male", None)
        .unwrap();
    assert!(!r.unknown);
}

#[test]
fn hierarchy_is_a_filters_and_subsumes() {
    let cs = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    let vs = "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode";
    assert!(
        tx().validate_code(vs, &CodingRef::new(cs, "AMB"))
            .unwrap()
            .valid
    );
    assert!(
        tx().validate_code(vs, &CodingRef::new(cs, "EMER"))
            .unwrap()
            .valid
    );
    // the root is excluded
    assert!(
        !tx()
            .validate_code(vs, &CodingRef::new(cs, "_ActEncounterCode"))
            .unwrap()
            .valid
    );
    // in the code system, but not under _ActEncounterCode
    let r = tx()
        .validate_code(vs, &CodingRef::new(cs, "_ActCoverageTypeCode"))
        .unwrap();
    assert!(!r.valid);
    assert_eq!(
        r.message().unwrap(),
        "The code 'http://terminology.hl7.org/CodeSystem/v3-ActCode#_ActCoverageTypeCode' is not in the value set 'http://terminology.hl7.org/ValueSet/v3-ActEncounterCode|3.0.0'"
    );
    let exp = tx().expand(vs, &ExpandParams::default()).unwrap();
    let codes: Vec<&str> = exp["expansion"]["contains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"AMB") && codes.contains(&"VR"), "{codes:?}");
    assert!(!codes.contains(&"_ActEncounterCode"));
    assert_eq!(exp["expansion"]["total"].as_u64(), Some(codes.len() as u64));

    assert_eq!(
        tx().subsumes(cs, "_ActEncounterCode", "AMB").unwrap(),
        Subsumption::Subsumes
    );
    assert_eq!(
        tx().subsumes(cs, "AMB", "_ActEncounterCode").unwrap(),
        Subsumption::SubsumedBy
    );
    assert_eq!(
        tx().subsumes(cs, "AMB", "AMB").unwrap(),
        Subsumption::Equivalent
    );
    assert_eq!(
        tx().subsumes(cs, "AMB", "EMER").unwrap(),
        Subsumption::NotSubsumed
    );
    assert!(matches!(
        tx().subsumes(cs, "AMB", "nope"),
        Err(TxError::UnknownCode { .. })
    ));

    let l = tx().lookup(cs, None, "AMB").unwrap();
    assert_eq!(l.parents, vec!["_ActEncounterCode".to_string()]);
    assert_eq!(l.display.as_deref(), Some("ambulatory"));
    let root = tx().lookup(cs, None, "_ActEncounterCode").unwrap();
    assert!(root.abstract_);
    assert!(root.children.contains(&"AMB".to_string()));
}

#[test]
fn ucum_value_sets() {
    let all = "http://hl7.org/fhir/ValueSet/ucum-units";
    for good in ["mg/dL", "mm[Hg]", "kg/m2", "/min", "10*9/L", "{beats}/min"] {
        let r = tx()
            .validate_code(all, &CodingRef::new("http://unitsofmeasure.org", good))
            .unwrap();
        assert!(r.valid && !r.unknown, "{good}: {r:?}");
    }
    let r = tx()
        .validate_code(all, &CodingRef::new("http://unitsofmeasure.org", "mgg"))
        .unwrap();
    assert!(!r.valid);
    assert!(r.has(IssueKind::UnknownCode));
    assert_eq!(
        r.message().unwrap(),
        "The code 'http://unitsofmeasure.org#mgg' is not in the value set 'http://hl7.org/fhir/ValueSet/ucum-units|4.0.1'; The unit 'mgg' is not valid UCUM: The unit 'mgg' is unknown at character 1"
    );
    // an enumerated UCUM value set
    let vitals = "http://hl7.org/fhir/ValueSet/ucum-vitals-common";
    assert!(
        tx().validate_code(vitals, &CodingRef::new("http://unitsofmeasure.org", "kg"))
            .unwrap()
            .valid
    );
    let r = tx()
        .validate_code(
            vitals,
            &CodingRef::new("http://unitsofmeasure.org", "L/min"),
        )
        .unwrap();
    assert!(!r.valid);
    assert_eq!(
        r.message().unwrap(),
        "The code 'http://unitsofmeasure.org#L/min' is not in the value set 'http://hl7.org/fhir/ValueSet/ucum-vitals-common|4.0.1'"
    );
    assert!(matches!(
        tx().expand(all, &ExpandParams::default()),
        Err(TxError::NotExpandable { .. })
    ));
}

#[test]
fn every_common_ucum_code_parses() {
    let exp = tx()
        .expand(
            "http://hl7.org/fhir/ValueSet/ucum-common",
            &ExpandParams::default(),
        )
        .unwrap();
    let contains = exp["expansion"]["contains"].as_array().unwrap();
    assert!(contains.len() > 1000, "{}", contains.len());
    let failures: Vec<String> = contains
        .iter()
        .filter_map(|c| {
            let code = c["code"].as_str()?;
            fhirreg_terminology::ucum::parse(code)
                .err()
                .map(|e| format!("{code}: {e}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures: {failures:#?}",
        failures.len()
    );
}

#[test]
fn languages_mime_and_countries() {
    let all = "http://hl7.org/fhir/ValueSet/all-languages";
    let bcp47 = "urn:ietf:bcp:47";
    assert!(
        tx().validate_code(all, &CodingRef::new(bcp47, "nb-NO"))
            .unwrap()
            .valid
    );
    assert!(
        tx().validate_code(all, &CodingRef::code("en-US"))
            .unwrap()
            .valid
    );
    let r = tx()
        .validate_code(all, &CodingRef::new(bcp47, "xx-123456789"))
        .unwrap();
    assert!(!r.valid);
    // the common-languages value set lists codes, with designations
    let common = "http://hl7.org/fhir/ValueSet/languages";
    assert!(
        tx().validate_code(common, &CodingRef::new(bcp47, "en-US"))
            .unwrap()
            .valid
    );
    assert!(
        !tx()
            .validate_code(common, &CodingRef::new(bcp47, "nb-NO"))
            .unwrap()
            .valid
    );

    let mime = "http://hl7.org/fhir/ValueSet/mimetypes";
    assert!(
        tx().validate_code(mime, &CodingRef::code("application/fhir+json"))
            .unwrap()
            .valid
    );
    assert!(
        !tx()
            .validate_code(mime, &CodingRef::new("urn:ietf:bcp:13", "fhir"))
            .unwrap()
            .valid
    );

    let countries = "http://hl7.org/fhir/ValueSet/iso3166-1-2";
    let r = tx()
        .validate_code(countries, &CodingRef::code("D"))
        .unwrap();
    assert!(!r.valid);
    assert_eq!(
        r.message().unwrap(),
        "The value set 'http://hl7.org/fhir/ValueSet/iso3166-1-2|4.0.1' does not tell which code system the code 'D' is from; The code '#D' is not in the value set 'http://hl7.org/fhir/ValueSet/iso3166-1-2|4.0.1'"
    );
    let r = tx()
        .validate_code(
            countries,
            &CodingRef::new("urn:iso:std:iso:3166", "BD").with_display("Australia"),
        )
        .unwrap();
    assert!(r.valid);
    assert_eq!(
        r.message().unwrap(),
        "The display 'Australia' is not right for urn:iso:std:iso:3166#BD: it should be 'Bangladesh' (language: en-US)"
    );
    let us = CodingRef::new("urn:iso:std:iso:3166", "US").with_display("United States of America");
    assert!(tx()
        .validate_code(countries, &us)
        .unwrap()
        .issues
        .is_empty());
    let r = tx()
        .validate_code_in_system("urn:iso:std:iso:4217", "NOK", None)
        .unwrap();
    assert!(r.valid && !r.unknown);
}

#[test]
fn codeable_concepts() {
    let vs = "http://hl7.org/fhir/ValueSet/observation-category";
    let cat = "http://terminology.hl7.org/CodeSystem/observation-category";
    let r = tx()
        .validate_codeable_concept(
            vs,
            &[
                CodingRef::new("http://example.org", "x"),
                CodingRef::new(cat, "vital-signs"),
            ],
        )
        .unwrap();
    assert!(r.valid && !r.unknown, "{r:?}");
    let r = tx()
        .validate_codeable_concept(vs, &[CodingRef::new(cat, "nope")])
        .unwrap();
    assert!(!r.valid);
    assert!(r.message().unwrap().starts_with(
        "None of the codings (http://terminology.hl7.org/CodeSystem/observation-category#nope) is in the value set 'Observation Category Codes' (http://hl7.org/fhir/ValueSet/observation-category|4.0.1)"
    ), "{:?}", r.message());
    let r = tx()
        .validate_codeable_concept(vs, &[CodingRef::new("http://snomed.info/sct", "123")])
        .unwrap();
    assert!(!r.valid, "{r:?}");
}

#[test]
fn expansion_paging_filter_and_limits() {
    let vs = "http://hl7.org/fhir/ValueSet/observation-status";
    let full = tx().expand(vs, &ExpandParams::default()).unwrap();
    let total = full["expansion"]["total"].as_u64().unwrap();
    assert_eq!(total, 8);
    let page = tx()
        .expand(
            vs,
            &ExpandParams {
                offset: 2,
                count: Some(3),
                ..Default::default()
            },
        )
        .unwrap();
    let codes: Vec<&str> = page["expansion"]["contains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    let all: Vec<&str> = full["expansion"]["contains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, all[2..5].to_vec());
    assert_eq!(page["expansion"]["offset"], 2);
    assert_eq!(page["expansion"]["total"], 8);
    let filtered = tx()
        .expand(
            vs,
            &ExpandParams {
                filter: Some("entered".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(filtered["expansion"]["total"], 1);
    assert_eq!(
        filtered["expansion"]["contains"][0]["code"],
        "entered-in-error"
    );

    let big = "http://hl7.org/fhir/ValueSet/ucum-common";
    match tx().expand(
        big,
        &ExpandParams {
            max_size: Some(100),
            ..Default::default()
        },
    ) {
        Err(TxError::TooCostly { limit, .. }) => assert_eq!(limit, 100),
        other => panic!("expected too costly, got {other:?}"),
    }
    let err = tx()
        .expand(
            big,
            &ExpandParams {
                max_size: Some(100),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("(>100)"), "{err}");
}

#[test]
fn translate_with_concept_map() {
    let t = tx()
        .translate(
            "http://hl7.org/fhir/ConceptMap/cm-administrative-gender-v2",
            "http://hl7.org/fhir/administrative-gender",
            "other",
            None,
        )
        .unwrap();
    let codes: Vec<(&str, &str)> = t
        .iter()
        .map(|x| (x.code.as_deref().unwrap_or(""), x.equivalence.as_str()))
        .collect();
    assert_eq!(codes, vec![("A", "wider"), ("O", "wider")]);
    assert_eq!(
        t[0].system.as_deref(),
        Some("http://terminology.hl7.org/CodeSystem/v2-0001")
    );
    let none = tx()
        .translate(
            "http://hl7.org/fhir/ConceptMap/cm-administrative-gender-v2",
            "http://hl7.org/fhir/administrative-gender",
            "male",
            Some("http://example.org/other-target"),
        )
        .unwrap();
    assert!(none.is_empty());
    assert!(matches!(
        tx().translate("http://example.org/none", "a", "b", None),
        Err(TxError::ConceptMapNotFound(_))
    ));
}

#[test]
fn hand_built_resources_through_the_registry() {
    let vs = "http://example.org/fhir/ValueSet/animals";
    let cs = "http://example.org/fhir/CodeSystem/animals";
    // is-a with nesting and parent properties, plus an import and a regex
    assert!(
        tx().validate_code(vs, &CodingRef::new(cs, "dog"))
            .unwrap()
            .valid
    );
    assert!(
        tx().validate_code(vs, &CodingRef::new(cs, "puppy"))
            .unwrap()
            .valid
    );
    assert!(
        !tx()
            .validate_code(vs, &CodingRef::new(cs, "rock"))
            .unwrap()
            .valid
    );
    // case insensitive system
    let r = tx().validate_code(vs, &CodingRef::new(cs, "DOG")).unwrap();
    assert!(r.valid, "{r:?}");
    assert!(r.has(IssueKind::CaseDifference));
    assert_eq!(r.code.as_deref(), Some("dog"));
    // supplement-free designation match
    let r = tx()
        .validate_code(vs, &CodingRef::new(cs, "dog").with_display("Hund"))
        .unwrap();
    assert!(r.issues.is_empty(), "{r:?}");
    let r = tx()
        .validate_code(vs, &CodingRef::new(cs, "dog").with_display("Cat"))
        .unwrap();
    assert_eq!(
        r.message().unwrap(),
        "The display 'Cat' is not right for http://example.org/fhir/CodeSystem/animals#dog: it should be 'Dog' (language: en-US)"
    );
    // a fragment code system: unknown codes are warnings
    let r = tx()
        .validate_code_in_system("http://example.org/fhir/CodeSystem/fragment", "zzz", None)
        .unwrap();
    assert!(r.valid);
    assert_eq!(r.severity(), Some(Severity::Warning));
    // import cycle is reported, not a stack overflow
    assert!(matches!(
        tx().validate_code(
            "http://example.org/fhir/ValueSet/cycle-a",
            &CodingRef::code("x")
        ),
        Err(TxError::Cycle(_))
    ));
    // filters on properties
    let exp = tx()
        .expand(
            "http://example.org/fhir/ValueSet/filters",
            &ExpandParams::default(),
        )
        .unwrap();
    let codes: Vec<&str> = exp["expansion"]["contains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["cat", "kitten"]);
}

#[test]
fn every_core_value_set_compiles_and_expands_or_says_why() {
    let registry = Registry::builder().build().expect("registry builds");
    let urls: Vec<String> = registry
        .resources_of_type("ValueSet")
        .filter_map(|s| s.url().map(str::to_owned))
        .collect();
    assert!(urls.len() > 1000, "{}", urls.len());
    let tx = Terminology::new(registry);
    let (mut expanded, mut open, mut other) = (0, 0, Vec::new());
    let mut largest = (0usize, String::new());
    for url in &urls {
        let params = ExpandParams {
            max_size: Some(1_000_000),
            ..Default::default()
        };
        match tx.expand(url, &params) {
            Ok(v) => {
                expanded += 1;
                let n = v["expansion"]["total"].as_u64().unwrap_or(0) as usize;
                if n > largest.0 {
                    largest = (n, url.clone());
                }
            }
            Err(TxError::NotExpandable { .. }) => open += 1,
            Err(e) => other.push(format!("{url}: {e}")),
        }
    }
    println!(
        "{} value sets: {expanded} expanded, {open} not expandable locally (external or grammar systems), {} failed; largest {largest:?}",
        urls.len(),
        other.len()
    );
    assert!(expanded > 900, "{expanded}");
    assert!(other.is_empty(), "{other:#?}");
    // a value set importing one that is not available: not checked, not an error
    let r = tx
        .validate_code(
            "http://hl7.org/fhir/ValueSet/use-context",
            &CodingRef::new("https://www.usps.com/", "NY"),
        )
        .unwrap();
    assert!(r.valid && r.unknown, "{r:?}");
}

#[test]
fn binding_issues_by_strength_and_kind() {
    use fhirreg_terminology::{BindingStrength, BoundValue};
    let r = tx()
        .validate_code(GENDER, &CodingRef::code("invalid"))
        .unwrap();
    let issues = r.binding_issues(BindingStrength::Required, BoundValue::Code("invalid"));
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].severity, Severity::Error);
    assert_eq!(
        issues[0].message.to_string(),
        "The code 'invalid' is not in the value set 'AdministrativeGender' (http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1), and the binding requires a code from it (The value set 'http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1' does not tell which code system the code 'invalid' is from; The code '#invalid' is not in the value set 'http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1')"
    );
    assert_eq!(issues[0].message.msg, Msg::TxBindingCodeRequired);
    assert_eq!(
        issues[0].message.arg("valueset"),
        Some("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1")
    );
    let age = "http://hl7.org/fhir/ValueSet/age-units";
    let m = CodingRef::new("http://unitsofmeasure.org", "m");
    let r = tx().validate_code(age, &m).unwrap();
    let issues = r.binding_issues(BindingStrength::Required, BoundValue::Coding(m));
    assert_eq!(
        issues[0].message.to_string(),
        "The coding http://unitsofmeasure.org#m is not in the value set 'Common UCUM Codes for Age' (http://hl7.org/fhir/ValueSet/age-units|4.0.1), and the binding requires a code from it: The code 'http://unitsofmeasure.org#m' is not in the value set 'http://hl7.org/fhir/ValueSet/age-units|4.0.1'"
    );
    let vitals = "http://hl7.org/fhir/ValueSet/ucum-vitals-common";
    let lmin = CodingRef::new("http://unitsofmeasure.org", "L/min");
    let r = tx().validate_code(vitals, &lmin).unwrap();
    let issues = r.binding_issues(BindingStrength::Extensible, BoundValue::Coding(lmin));
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].severity, Severity::Warning);
    assert_eq!(
        issues[0].message.to_string(),
        "The coding http://unitsofmeasure.org#L/min is not in the value set 'Vital Signs Units' (http://hl7.org/fhir/ValueSet/ucum-vitals-common|4.0.1); the binding is extensible, so a code from it should be used unless none fits"
    );
    let cc = [CodingRef::new("urn:iso:std:iso:11073:10101", "150588")];
    let r = tx().validate_codeable_concept(vitals, &cc).unwrap();
    let issues = r.binding_issues(
        BindingStrength::Extensible,
        BoundValue::CodeableConcept(&cc),
    );
    assert_eq!(
        issues[0].message.to_string(),
        "None of the codings (urn:iso:std:iso:11073:10101#150588) is in the value set 'Vital Signs Units' (http://hl7.org/fhir/ValueSet/ucum-vitals-common|4.0.1); the binding is extensible, so one from it should be used unless none fits"
    );
    // valid: nothing to report
    let ok = tx()
        .validate_code(GENDER, &CodingRef::code("male"))
        .unwrap();
    assert!(ok
        .binding_issues(BindingStrength::Required, BoundValue::Code("male"))
        .is_empty());
    // example bindings never report membership
    let r = tx().validate_code(GENDER, &CodingRef::code("x")).unwrap();
    assert!(r
        .binding_issues(BindingStrength::Example, BoundValue::Code("x"))
        .is_empty());
}

#[test]
fn supplements_and_inactive_concepts() {
    // the R4 core example supplement adds a `legacy` property
    let l = tx()
        .lookup("http://hl7.org/fhir/CodeSystem/example", None, "chol-mass")
        .unwrap();
    assert!(
        l.properties
            .iter()
            .any(|(k, v)| k == "legacy" && v.as_text() == "true"),
        "{:?}",
        l.properties
    );
    let r = tx()
        .validate_code_in_system(
            "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "FFS",
            None,
        )
        .unwrap();
    assert!(r.valid);
    assert!(r.has(IssueKind::Inactive), "{r:?}");
    assert_eq!(
        r.message().unwrap(),
        "The concept 'FFS' is inactive; its use should be reviewed"
    );
}

#[test]
fn shared_across_threads() {
    let registry = Registry::builder().build().expect("registry builds");
    let tx = Terminology::new(registry);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut valid = 0;
                for i in 0..200 {
                    let code = if (i + t) % 2 == 0 { "male" } else { "nope" };
                    if tx
                        .validate_code(GENDER, &CodingRef::code(code))
                        .unwrap()
                        .valid
                    {
                        valid += 1;
                    }
                    let vs = "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode";
                    let c =
                        CodingRef::new("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB");
                    assert!(tx.validate_code(vs, &c).unwrap().valid);
                }
                valid
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 100);
    }
}

#[test]
fn implicit_value_sets() {
    let cs = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    let isa = format!("{cs}?fhir_vs=isa/_ActEncounterCode");
    assert!(
        tx().validate_code(&isa, &CodingRef::new(cs, "AMB"))
            .unwrap()
            .valid
    );
    assert!(
        !tx()
            .validate_code(&isa, &CodingRef::new(cs, "CASH"))
            .unwrap()
            .valid
    );
    let all = format!("{cs}?fhir_vs");
    assert!(
        tx().validate_code(&all, &CodingRef::new(cs, "CASH"))
            .unwrap()
            .valid
    );
    let snomed = "http://snomed.info/sct?fhir_vs=isa/404684003";
    let r = tx()
        .validate_code(
            snomed,
            &CodingRef::new("http://snomed.info/sct", "22298006"),
        )
        .unwrap();
    assert!(r.valid && r.unknown, "{r:?}");
    assert!(matches!(
        tx().validate_code(
            "http://snomed.info/sct?fhir_vs=bogus",
            &CodingRef::code("x")
        ),
        Err(TxError::ValueSetNotFound(_))
    ));
}
