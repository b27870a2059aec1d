//! Tests of profile validation: implied vital-signs profiles, slicing,
//! fixed and pattern values, type profiles, aggregation.

use crate::tests::{tree, validator};
use fhirreg_element::{Issue, Msg};
use serde_json::{json, Value};

fn run(v: Value, profiles: &[String]) -> Option<Vec<Issue>> {
    let Some(val) = validator() else {
        eprintln!("skipped: the registry could not be built");
        return None;
    };
    Some(val.validate(tree(&v).root(), profiles))
}

fn errors_at(issues: &[Issue]) -> Vec<(String, String)> {
    issues
        .iter()
        .filter(|i| i.severity.is_error())
        .map(|i| {
            (
                i.expression.clone(),
                format!("{}: {}", i.message_id(), i.message()),
            )
        })
        .collect()
}

#[test]
fn vital_sign_code_implies_its_core_profile() {
    // A SNOMED CT body temperature code: the bodytemp profile applies and
    // its LOINC coding slice is required.
    let obs = json!({
        "resourceType": "Observation", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "276885007"}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": "2020-06-30",
        "valueQuantity": {"value": 36.0, "unit": "Cel", "system": "http://unitsofmeasure.org", "code": "Cel"}
    });
    let Some(issues) = run(obs.clone(), &[]) else {
        return;
    };
    let errs = errors_at(&issues);
    assert!(
        errs.iter().any(|(at, m)| at == "Observation.code"
            && m.starts_with(
                "slice-magic-code-missing: BodyTempCode: the LOINC code 8310-5 is required"
            )),
        "{errs:?}"
    );
    assert!(issues
        .iter()
        .any(|i| i.msg == Msg::VitalSignsProfile && i.arg("name") == Some("Body temperature")));
    // With the LOINC code as well, the profile is met.
    let mut ok = obs;
    if let Some(a) = ok["code"]["coding"].as_array_mut() {
        a.push(json!({"system": "http://loinc.org", "code": "8310-5"}));
    }
    let Some(issues) = run(ok, &[]) else {
        return;
    };
    assert!(errors_at(&issues).is_empty(), "{:?}", errors_at(&issues));
}

#[test]
fn vital_signs_component_units_are_extensible() {
    // As the HL7 Java validator loads the core vital-signs profiles, a unit
    // outside ucum-vitals-common in a component is a warning only; a
    // component without value or dataAbsentReason breaks vs-3.
    let obs = json!({
        "resourceType": "Observation", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "59408-5"}, {"system": "http://loinc.org", "code": "2708-6"}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": "2020-06-30",
        "valueQuantity": {"value": 95, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
        "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "3150-0"}]}},
            {"code": {"coding": [{"system": "http://loinc.org", "code": "3151-8"}]},
             "valueQuantity": {"value": 6, "unit": "L/min", "system": "http://unitsofmeasure.org", "code": "L/min"}}
        ]
    });
    let Some(issues) = run(obs, &[]) else {
        return;
    };
    let errs = errors_at(&issues);
    assert_eq!(
        errs.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(),
        vec!["Observation.component[0]"],
        "{errs:?}"
    );
    assert!(issues.iter().any(|i| i.expression
        == "Observation.component[1].value.ofType(Quantity)"
        && !i.severity.is_error()));
}

fn validator_with(files: &[(&str, Value)]) -> Option<crate::Validator> {
    let mut b = fhirreg_registry::Registry::builder();
    for (name, json) in files {
        b = b.add_bytes(*name, json.to_string().as_bytes());
    }
    Some(crate::Validator::new(
        b.build().ok()?,
        crate::ValidatorOptions::default(),
    ))
}

fn profile(url: &str, ty: &str, elements: Value) -> Value {
    json!({
        "resourceType": "StructureDefinition", "url": url, "name": "P",
        "status": "active", "kind": "resource", "abstract": false, "type": ty,
        "baseDefinition": format!("http://hl7.org/fhir/StructureDefinition/{ty}"),
        "derivation": "constraint",
        "differential": {"element": elements}
    })
}

#[test]
fn complex_fixed_values_and_patterns() {
    let sd = profile(
        "http://example.org/sd/prac",
        "Practitioner",
        json!([
            {"id": "Practitioner.telecom", "path": "Practitioner.telecom",
             "slicing": {"discriminator": [{"type": "value", "path": "use"}], "rules": "open"}},
            {"id": "Practitioner.telecom:home", "path": "Practitioner.telecom", "sliceName": "home",
             "min": 1, "max": "1", "fixedContactPoint": {"use": "home"}},
            {"id": "Practitioner.address", "path": "Practitioner.address",
             "patternAddress": {"country": "NO", "line": ["Storgata 1"]}}
        ]),
    );
    let Some(v) = validator_with(&[("p.json", sd)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let p = ["http://example.org/sd/prac".to_string()];
    let bad = tree(&json!({
        "resourceType": "Practitioner",
        "telecom": [{"system": "phone", "value": "555", "use": "home"}],
        "address": [{"line": ["Lillegata 2"], "city": "Oslo"}]
    }));
    let e = errors_at(&v.validate(bad.root(), &p));
    let at = |x: &str| e.iter().any(|(a, _)| a == x);
    // the slice matched through its fixed value; the other content is not allowed
    assert!(at("Practitioner.telecom[0].system"), "{e:?}");
    assert!(at("Practitioner.telecom[0].value"), "{e:?}");
    assert!(
        !e.iter().any(|(_, m)| m.starts_with("slice-missing")),
        "{e:?}"
    );
    // the pattern's country is missing and its line is not there
    assert!(at("Practitioner.address[0].country"), "{e:?}");
    assert!(at("Practitioner.address[0]"), "{e:?}");
    let good = tree(&json!({
        "resourceType": "Practitioner",
        "telecom": [{"use": "home"}, {"system": "email", "value": "a@b.no", "use": "work"}],
        "address": [{"line": ["Storgata 1", "3. etg"], "city": "Oslo", "country": "NO"}]
    }));
    let e = errors_at(&v.validate(good.root(), &p));
    assert!(e.is_empty(), "{e:?}");
}

#[test]
fn entry_resource_must_have_the_type_of_its_profile() {
    let sd = json!({
        "resourceType": "StructureDefinition", "url": "http://example.org/sd/b", "name": "B",
        "status": "active", "kind": "resource", "abstract": false, "type": "Bundle",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Bundle",
        "derivation": "constraint",
        "differential": {"element": [
            {"id": "Bundle.entry.resource", "path": "Bundle.entry.resource",
             "type": [{"code": "Resource", "profile": ["http://hl7.org/fhir/StructureDefinition/DocumentManifest"]}]}
        ]}
    });
    let Some(v) = validator_with(&[("b.json", sd)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let p = ["http://example.org/sd/b".to_string()];
    let bundle = |rt: &str| {
        tree(&json!({
            "resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": "urn:uuid:0b1c4e3e-4f43-4d39-9c43-0c7d3c6b6f01",
                       "resource": {"resourceType": rt, "id": "x", "status": "current",
                                    "content": [{"reference": "Binary/1"}]}}]
        }))
    };
    let e = errors_at(&v.validate(bundle("Patient").root(), &p));
    assert!(
        e.iter()
            .any(|(a, m)| a == "Bundle.entry[0].resource/*Patient/x*/"
                && m.starts_with("entry-resource-type: The resource type Patient is not allowed here: it has to be DocumentManifest")),
        "{e:?}"
    );
    let e = errors_at(&v.validate(bundle("DocumentManifest").root(), &p));
    assert!(
        !e.iter().any(|(_, m)| m.starts_with("entry-resource-type:")),
        "{e:?}"
    );
}

#[test]
fn must_have_value_and_value_alternatives() {
    let xver = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.";
    let present = profile(
        "http://example.org/sd/present",
        "Patient",
        json!([{"id": "Patient.active", "path": "Patient.active",
                "extension": [{"url": format!("{xver}mustHaveValue"), "valueBoolean": true}]}]),
    );
    let alternative = profile(
        "http://example.org/sd/alt",
        "Patient",
        json!([{"id": "Patient.active", "path": "Patient.active",
                "extension": [{"url": format!("{xver}valueAlternatives"),
                               "valueCanonical": "http://hl7.org/fhir/StructureDefinition/data-absent-reason"}]}]),
    );
    let Some(v) = validator_with(&[("a.json", present), ("b.json", alternative)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let with_ext = |url: &str| {
        tree(
            &json!({"resourceType": "Patient", "_active": {"extension": [
            {"url": url, "valueCode": "unknown"}]}}),
        )
    };
    let dar = with_ext("http://hl7.org/fhir/StructureDefinition/data-absent-reason");
    let nf = with_ext("http://hl7.org/fhir/StructureDefinition/iso21090-nullFlavor");
    let run =
        |p: &str, e: &fhirreg_element::Document| errors_at(&v.validate(e.root(), &[p.to_string()]));
    let e = run("http://example.org/sd/present", &dar);
    assert!(
        e.iter()
            .any(|(a, m)| a == "Patient.active" && m.starts_with("value-required: ")),
        "{e:?}"
    );
    let e = run("http://example.org/sd/alt", &dar);
    assert!(e.is_empty(), "{e:?}");
    let e = run("http://example.org/sd/alt", &nf);
    assert!(
        e.iter()
            .any(|(a, m)| a == "Patient.active" && m.starts_with("value-or-alternative-required: ")),
        "{e:?}"
    );
    let valued = tree(&json!({"resourceType": "Patient", "active": true}));
    assert!(run("http://example.org/sd/present", &valued).is_empty());
}

#[test]
fn choice_types_a_profile_does_not_allow() {
    let one = profile(
        "http://example.org/sd/q",
        "Observation",
        json!([{"id": "Observation.value[x]", "path": "Observation.value[x]", "min": 1,
                "type": [{"code": "Quantity"}]}]),
    );
    let two = profile(
        "http://example.org/sd/qc",
        "Observation",
        json!([{"id": "Observation.value[x]", "path": "Observation.value[x]", "min": 1,
                "type": [{"code": "Quantity"}, {"code": "CodeableConcept"}]}]),
    );
    let Some(v) = validator_with(&[("a.json", one), ("b.json", two)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let obs = tree(&json!({"resourceType": "Observation", "status": "final",
        "code": {"text": "age"}, "valueString": "12"}));
    let e = errors_at(&v.validate(obs.root(), &["http://example.org/sd/q".to_string()]));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "Observation.value.ofType(string)");
    assert!(e[0].1.contains("allows the type Quantity here, not string"));
    let e = errors_at(&v.validate(obs.root(), &["http://example.org/sd/qc".to_string()]));
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "Observation");
    assert!(e[0]
        .1
        .contains("none of the types allowed here (Quantity, CodeableConcept)"));
}

#[test]
fn global_profiles_of_loaded_guides_apply() {
    let sd = profile(
        "http://example.org/sd/named",
        "Patient",
        json!([{"id": "Patient.name", "path": "Patient.name", "min": 1}]),
    );
    let ig = json!({
        "resourceType": "ImplementationGuide", "url": "http://example.org/ig", "name": "IG",
        "status": "active", "packageId": "example.ig", "fhirVersion": ["4.0.1"],
        "global": [{"type": "Patient", "profile": "http://example.org/sd/named"}]
    });
    let Some(v) = validator_with(&[("sd.json", sd), ("ig.json", ig)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let p = tree(&json!({"resourceType": "Patient", "active": true}));
    let e = errors_at(&v.validate(p.root(), &[]));
    assert!(
        e.iter().any(|(a, m)| a == "Patient"
            && m.starts_with("too-few-occurrences: Patient.name: at least 1 required")),
        "{e:?}"
    );
    let o = tree(&json!({"resourceType": "Organization", "name": "Org"}));
    assert!(errors_at(&v.validate(o.root(), &[])).is_empty());
}

#[test]
fn no_matching_type_profile_reports_each_profiles_errors() {
    let name_profile = |url: &str, key: &str| {
        json!({
            "resourceType": "StructureDefinition", "url": url, "name": "N", "version": "1",
            "status": "active", "kind": "complex-type", "abstract": false, "type": "HumanName",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/HumanName",
            "derivation": "constraint",
            "differential": {"element": [{"id": "HumanName.given", "path": "HumanName.given",
                "constraint": [{"key": key, "severity": "error", "human": "Always fail",
                                "expression": "false"}]}]}
        })
    };
    let patient = profile(
        "http://example.org/sd/pn",
        "Patient",
        json!([{"id": "Patient.name", "path": "Patient.name", "type": [{"code": "HumanName",
            "profile": ["http://example.org/sd/n1", "http://example.org/sd/n2"]}]}]),
    );
    let Some(v) = validator_with(&[
        ("n1.json", name_profile("http://example.org/sd/n1", "t1")),
        ("n2.json", name_profile("http://example.org/sd/n2", "t1")),
        ("p.json", patient),
    ]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let p = tree(&json!({"resourceType": "Patient", "name": [{"given": ["A"]}]}));
    let e = errors_at(&v.validate(p.root(), &["http://example.org/sd/pn".to_string()]));
    assert!(
        e.iter()
            .any(|(a, m)| a == "Patient.name[0]" && m.starts_with("no-profile-matches: ")),
        "{e:?}"
    );
    let inv: Vec<_> = e
        .iter()
        .filter(|(a, _)| a == "Patient.name[0].given[0]")
        .collect();
    assert_eq!(inv.len(), 1, "{e:?}");
    assert!(
        inv[0].1.contains("sd/n1|1") && inv[0].1.contains("sd/n2|1"),
        "{e:?}"
    );
}

#[test]
fn unknown_datatype_profiles_are_errors_on_the_element() {
    let sd = profile(
        "http://example.org/sd/org",
        "Organization",
        json!([
            {"id": "Organization.identifier", "path": "Organization.identifier",
             "type": [{"code": "Identifier", "profile": ["http://example.org/sd/missing-identifier"]}]}
        ]),
    );
    let Some(v) = validator_with(&[("p.json", sd)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let p = ["http://example.org/sd/org".to_string()];
    let with = tree(&json!({"resourceType": "Organization", "identifier": [{"value": "1"}]}));
    let issues = v.validate(with.root(), &p);
    let errors: Vec<&Issue> = issues.iter().filter(|i| i.severity.is_error()).collect();
    assert_eq!(errors.len(), 1, "{:?}", errors_at(&issues));
    assert_eq!(errors[0].msg, fhirreg_element::Msg::UnknownProfile);
    assert_eq!(errors[0].expression, "Organization.identifier[0]");
    assert_eq!(
        errors[0].args[0].as_text(),
        Some("http://example.org/sd/missing-identifier")
    );
    // Nothing to report where the element is absent.
    let without = tree(&json!({"resourceType": "Organization", "name": "x"}));
    assert!(errors_at(&v.validate(without.root(), &p)).is_empty());
}
