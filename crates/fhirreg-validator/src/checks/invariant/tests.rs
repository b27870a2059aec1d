//! Invariants over the embedded R4 core definitions.

use crate::tests::{tree, validator};
use crate::{BestPracticeLevel, Validator, ValidatorOptions};
use fhirreg_element::{Issue, IssueType, Msg, Severity};
use fhirreg_registry::Registry;
use serde_json::{json, Value};

fn run(v: &Validator, resource: Value, profiles: &[String]) -> Vec<Issue> {
    v.validate(tree(&resource).root(), profiles)
}

/// `id: message @ location` of the invariant failures with this severity.
fn failures(issues: &[Issue], severity: Severity) -> Vec<String> {
    issues
        .iter()
        .filter(|i| i.code == IssueType::Invariant && i.severity == severity)
        .map(|i| format!("{}: {} @ {}", i.message_id(), i.message(), i.expression))
        .collect()
}

const DIV: &str = "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>";

#[test]
fn patient_contact_without_details_fails_pat_1() {
    let Some(v) = validator() else { return };
    let issues = run(
        &v,
        json!({"resourceType": "Patient", "text": {"status": "generated", "div": DIV},
            "contact": [{"name": {"family": "A"}}, {"gender": "male"}]}),
        &[],
    );
    let errors = failures(&issues, Severity::Error);
    assert_eq!(
        errors,
        vec!["invariant-failed: Constraint pat-1 is not met: SHALL at least contain a contact's details or a reference to an organization @ Patient.contact[1]"],
        "{issues:?}"
    );
}

#[test]
fn valid_patient_has_no_invariant_issues() {
    let Some(v) = validator() else { return };
    let issues = run(
        &v,
        json!({"resourceType": "Patient", "text": {"status": "generated", "div": DIV},
            "contact": [{"telecom": [{"system": "phone", "value": "1"}]}],
            "telecom": [{"system": "phone", "value": "12345"}]}),
        &[],
    );
    let inv: Vec<&Issue> = issues
        .iter()
        .filter(|i| i.code == IssueType::Invariant || i.code == IssueType::Processing)
        .collect();
    assert!(inv.is_empty(), "{inv:?}");
}

#[test]
fn period_end_before_start_fails_per_1() {
    let Some(v) = validator() else { return };
    let issues = run(
        &v,
        json!({"resourceType": "Observation", "text": {"status": "generated", "div": DIV},
            "status": "final", "code": {"text": "x"},
            "effectivePeriod": {"start": "2020-02-01", "end": "2020-01-01"}}),
        &[],
    );
    let errors = failures(&issues, Severity::Error);
    assert_eq!(
        errors,
        vec!["invariant-failed: Constraint per-1 is not met: If present, start SHALL have a lower value than end @ Observation.effective.ofType(Period)"],
        "{issues:?}"
    );
    // In order: no failure.
    let issues = run(
        &v,
        json!({"resourceType": "Observation", "text": {"status": "generated", "div": DIV},
            "status": "final", "code": {"text": "x"},
            "effectivePeriod": {"start": "2020-01-01", "end": "2020-01-01T10:00:00Z"}}),
        &[],
    );
    assert!(failures(&issues, Severity::Error).is_empty(), "{issues:?}");
}

#[test]
fn quantity_code_without_system_fails_qty_3() {
    let Some(v) = validator() else { return };
    let issues = run(
        &v,
        json!({"resourceType": "Observation", "text": {"status": "generated", "div": DIV},
            "status": "final", "code": {"text": "x"},
            "valueQuantity": {"value": 1, "code": "mg"}}),
        &[],
    );
    let errors = failures(&issues, Severity::Error);
    assert_eq!(errors.len(), 1, "{issues:?}");
    assert!(
        errors[0].starts_with("invariant-failed: Constraint qty-3 is not met: "),
        "{errors:?}"
    );
    assert!(
        errors[0].ends_with(" @ Observation.value.ofType(Quantity)"),
        "{errors:?}"
    );
}

#[test]
fn contained_resources_dom_3_4_5() {
    let Some(v) = validator() else { return };
    let issues = run(
        &v,
        json!({"resourceType": "Patient", "text": {"status": "generated", "div": DIV},
            "contained": [{"resourceType": "Organization", "id": "o1", "name": "x",
                "meta": {"versionId": "1", "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]}}]}),
        &[],
    );
    let errors = failures(&issues, Severity::Error);
    for key in ["dom-4", "dom-5"] {
        assert!(
            errors.iter().any(|e| e.starts_with(&format!(
                "invariant-failed-from: Constraint {key} is not met: "
            )) && e.ends_with(
                "(defined in http://hl7.org/fhir/StructureDefinition/DomainResource) @ Patient"
            )),
            "{key}: {errors:?}"
        );
    }
    assert_eq!(errors.len(), 2, "{errors:?}");
    // dom-3 is checked directly (contained-not-referenced), where the HL7
    // Java validator reports it.
    let dom3: Vec<String> = issues
        .iter()
        .filter(|i| i.severity == Severity::Error && i.msg == Msg::ContainedNotReferenced)
        .map(|i| format!("{}: {} @ {}", i.message_id(), i.message(), i.expression))
        .collect();
    assert_eq!(dom3, vec!["contained-not-referenced: The contained resource 'o1' is neither referenced from the rest of the resource nor refers to it (dom-3) @ Patient.contained[0]"]);
    // A contained resource that refers to its container is fine.
    let issues = run(
        &v,
        json!({"resourceType": "Patient", "text": {"status": "generated", "div": DIV},
            "contained": [{"resourceType": "Provenance", "id": "pv", "recorded": "2020-01-01T00:00:00Z",
                "target": [{"reference": "#"}], "agent": [{"who": {"display": "x"}}]}]}),
        &[],
    );
    assert!(!issues.iter().any(|i| i.severity.is_error()), "{issues:?}");
    // Referenced and without meta: valid.
    let issues = run(
        &v,
        json!({"resourceType": "Patient", "text": {"status": "generated", "div": DIV},
            "contained": [{"resourceType": "Organization", "id": "o1", "name": "x"}],
            "managingOrganization": {"reference": "#o1"}}),
        &[],
    );
    assert!(failures(&issues, Severity::Error).is_empty(), "{issues:?}");
}

#[test]
fn contained_resource_is_its_own_resource() {
    let Some(v) = validator() else { return };
    let issues = run(
        &v,
        json!({"resourceType": "Observation", "text": {"status": "generated", "div": DIV},
            "status": "final", "code": {"text": "x"}, "subject": {"reference": "#p"},
            "contained": [{"resourceType": "Patient", "id": "p", "contact": [{"gender": "male"}]}]}),
        &[],
    );
    let errors = failures(&issues, Severity::Error);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].ends_with("@ Observation.contained[0]/*Patient/p*/.contact[0]"),
        "{errors:?}"
    );
}

#[test]
fn bundle_entries_and_root() {
    let Some(v) = validator() else { return };
    let issues = run(
        &v,
        json!({"resourceType": "Bundle", "type": "document", "timestamp": "2020-01-01T00:00:00Z",
            "entry": [{"fullUrl": "urn:uuid:7f2f4d2e-1d4b-4a53-8f3a-3f1e5c2b9a01",
                "resource": {"resourceType": "Composition", "status": "final", "type": {"text": "x"},
                    "date": "2020-01-01", "title": "t", "author": [{"display": "a"}],
                    "text": {"status": "generated", "div": DIV}}},
              {"fullUrl": "urn:uuid:7f2f4d2e-1d4b-4a53-8f3a-3f1e5c2b9a02",
                "resource": {"resourceType": "Patient", "text": {"status": "generated", "div": DIV},
                    "contact": [{"gender": "male"}]}}]}),
        &[],
    );
    let errors = failures(&issues, Severity::Error);
    assert!(
        errors.iter().any(
            |e| e.starts_with("invariant-failed: Constraint bdl-9 is not met: ")
                && e.ends_with(" @ Bundle")
        ),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(
            |e| e.starts_with("invariant-failed: Constraint pat-1 is not met: ")
                && e.ends_with(" @ Bundle.entry[1].resource/*Patient/null*/.contact[0]")
        ),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
}

#[test]
fn best_practice_is_a_warning_by_default_and_can_be_ignored() {
    let Some(v) = validator() else { return };
    let patient = json!({"resourceType": "Patient", "active": true});
    let dom6 = "invariant-failed-from: Constraint dom-6 is not met: A resource should have narrative for robust management (defined in http://hl7.org/fhir/StructureDefinition/DomainResource) @ Patient";
    let issues = run(&v, patient.clone(), &[]);
    assert_eq!(
        failures(&issues, Severity::Warning),
        vec![dom6],
        "{issues:?}"
    );
    assert!(failures(&issues, Severity::Error).is_empty());

    let Ok(registry) = Registry::builder().build() else {
        return;
    };
    for (level, severity) in [
        (BestPracticeLevel::Ignore, None),
        (BestPracticeLevel::Hint, Some(Severity::Information)),
        (BestPracticeLevel::Error, Some(Severity::Error)),
    ] {
        let options = ValidatorOptions {
            best_practice_level: level,
            ..Default::default()
        };
        let v = Validator::new(registry.clone(), options);
        let issues = run(&v, patient.clone(), &[]);
        let dom: Vec<&Issue> = issues
            .iter()
            .filter(|i| i.arg("key") == Some("dom-6"))
            .collect();
        match severity {
            None => assert!(dom.is_empty(), "{level:?}: {dom:?}"),
            Some(s) => assert!(dom.len() == 1 && dom[0].severity == s, "{level:?}: {dom:?}"),
        }
    }
}

#[test]
fn profile_invariants_and_expression_problems() {
    let profile = json!({"resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/inv-test", "name": "InvTest",
        "status": "active", "kind": "resource", "abstract": false, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint",
        "differential": {"element": [
            {"id": "Patient", "path": "Patient", "constraint": [
                {"key": "tst-1", "severity": "error", "human": "needs a family name",
                 "expression": "name.family.exists()"},
                {"key": "tst-2", "severity": "error", "human": "evaluation error",
                 "expression": "name.given"},
                {"key": "tst-3", "severity": "error", "human": "syntax error",
                 "expression": "name.where("},
                {"key": "tst-4", "severity": "warning", "human": "should be active",
                 "expression": "active = true"}]},
            {"id": "Patient.name", "path": "Patient.name", "constraint": [
                {"key": "tst-5", "severity": "error", "human": "given or text",
                 "expression": "given.exists() or text.exists()"}]}]}});
    let Ok(registry) = Registry::builder()
        .add_bytes("inv-test.json", profile.to_string().as_bytes())
        .build()
    else {
        return;
    };
    let v = Validator::new(registry, ValidatorOptions::default());
    let patient = json!({"resourceType": "Patient", "text": {"status": "generated", "div": DIV},
        "active": false, "name": [{"given": ["A", "B"]}, {"family": "C"}]});
    let url = "http://example.org/StructureDefinition/inv-test".to_string();
    let issues = run(&v, patient, &[url]);
    let errors = failures(&issues, Severity::Error);
    assert_eq!(
        errors,
        vec!["invariant-failed: Constraint tst-5 is not met: given or text @ Patient.name[1]"],
        "{issues:?}"
    );
    assert_eq!(
        failures(&issues, Severity::Warning),
        vec!["invariant-failed: Constraint tst-4 is not met: should be active @ Patient"],
        "{issues:?}"
    );
    // Expressions that cannot be evaluated or compiled: information only.
    let problems: Vec<&Issue> = issues
        .iter()
        .filter(|i| {
            matches!(
                i.msg,
                Msg::InvariantNotEvaluated | Msg::InvariantNotCompiled
            )
        })
        .collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems.iter().all(|i| i.severity == Severity::Information));
    assert!(!issues
        .iter()
        .any(|i| i.severity.is_error() && i.arg("key") == Some("tst-2")));
    assert!(!issues
        .iter()
        .any(|i| i.severity.is_error() && i.arg("key") == Some("tst-3")));
}

#[test]
fn bundle_entries_are_their_own_root_resource() {
    let Some(v) = validator() else { return };
    let entry = |subject: &str| {
        json!({"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": "urn:uuid:7f2f4d2e-1d4b-4a53-8f3a-3f1e5c2b9a03",
                "resource": {"resourceType": "Observation", "text": {"status": "generated", "div": DIV},
                    "status": "final", "code": {"text": "x"}, "subject": {"reference": subject},
                    "contained": [{"resourceType": "Patient", "id": "p"}]}}]})
    };
    let ref1 = |issues: &[Issue]| {
        failures(issues, Severity::Error)
            .into_iter()
            .filter(|e| e.contains("ref-1"))
            .collect::<Vec<_>>()
    };
    let issues = run(&v, entry("#p"), &[]);
    assert!(ref1(&issues).is_empty(), "{issues:?}");
    let issues = run(&v, entry("#q"), &[]);
    assert_eq!(
        ref1(&issues),
        vec!["invariant-failed: Constraint ref-1 is not met: SHALL have a contained resource if a local reference is provided @ Bundle.entry[0].resource/*Observation/null*/.subject"],
        "{issues:?}"
    );
}

#[test]
fn constraint_on_an_element_holding_a_resource_has_the_outer_resource() {
    let profile = json!({"resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/bundle-vars", "name": "BundleVars",
        "status": "active", "kind": "resource", "abstract": false, "type": "Bundle",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Bundle",
        "derivation": "constraint",
        "differential": {"element": [
            {"id": "Bundle.entry.resource", "path": "Bundle.entry.resource", "constraint": [
                {"key": "vars-1", "severity": "error", "human": "variables",
                 "expression": "%context.type().name = 'Patient' and %resource.type().name = 'Bundle' and %rootResource.type().name = 'Bundle'"},
                {"key": "vars-2", "severity": "error", "human": "always fails on patients",
                 "expression": "gender.exists().not()"}]}]}});
    let Ok(registry) = Registry::builder()
        .add_bytes("bundle-vars.json", profile.to_string().as_bytes())
        .build()
    else {
        return;
    };
    let v = Validator::new(registry, ValidatorOptions::default());
    let bundle = json!({"resourceType": "Bundle", "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:7f2f4d2e-1d4b-4a53-8f3a-3f1e5c2b9a04",
            "resource": {"resourceType": "Patient", "gender": "male", "text": {"status": "generated", "div": DIV}}}]});
    let url = "http://example.org/StructureDefinition/bundle-vars".to_string();
    let issues = run(&v, bundle, &[url]);
    assert_eq!(
        failures(&issues, Severity::Error),
        vec!["invariant-failed: Constraint vars-2 is not met: always fails on patients @ Bundle.entry[0].resource"],
        "{issues:?}"
    );
}

#[test]
fn matches_is_a_whole_string_match() {
    let Some(v) = validator() else { return };
    let measure = |name: &str| {
        json!({"resourceType": "Measure", "text": {"status": "generated", "div": DIV},
            "status": "draft", "name": name})
    };
    let mea0 = |issues: &[Issue]| {
        failures(issues, Severity::Warning)
            .into_iter()
            .filter(|e| e.contains("mea-0"))
            .collect::<Vec<_>>()
    };
    let issues = run(&v, measure("ICU Total Ventilators"), &[]);
    assert_eq!(
        mea0(&issues),
        vec!["invariant-failed: Constraint mea-0 is not met: Name should be usable as an identifier for the module by machine processing applications such as code generation @ Measure"],
        "{issues:?}"
    );
    assert!(mea0(&run(&v, measure("IcuTotalVentilators"), &[])).is_empty());
    assert!(mea0(&run(&v, measure(&"A".repeat(256)), &[])).len() == 1);
}

#[test]
fn profiles_on_resource_typed_elements_apply_with_their_invariants() {
    let org = json!({"resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/org-named", "name": "OrgNamed",
        "status": "active", "kind": "resource", "abstract": false, "type": "Organization",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Organization",
        "derivation": "constraint",
        "differential": {"element": [{"id": "Organization", "path": "Organization", "constraint": [
            {"key": "org-named", "severity": "error", "human": "an organization has a name",
             "expression": "name.exists()"}]}]}});
    let bundle = json!({"resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/bundle-orgs", "name": "BundleOrgs",
        "status": "active", "kind": "resource", "abstract": false, "type": "Bundle",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Bundle",
        "derivation": "constraint",
        "differential": {"element": [{"id": "Bundle.entry.resource", "path": "Bundle.entry.resource",
            "type": [{"code": "Organization",
                "profile": ["http://example.org/StructureDefinition/org-named"]}]}]}});
    let Ok(registry) = Registry::builder()
        .add_bytes("org.json", org.to_string().as_bytes())
        .add_bytes("bundle.json", bundle.to_string().as_bytes())
        .build()
    else {
        return;
    };
    let v = Validator::new(registry, ValidatorOptions::default());
    let instance = |name: Option<&str>| {
        let mut org = json!({"resourceType": "Organization", "id": "o1",
            "identifier": [{"system": "http://example.org/ids", "value": "1"}],
            "text": {"status": "generated", "div": DIV}});
        if let Some(n) = name {
            org["name"] = json!(n);
        }
        json!({"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": "http://example.org/fhir/Organization/o1", "resource": org}]})
    };
    let url = "http://example.org/StructureDefinition/bundle-orgs".to_string();
    let issues = run(&v, instance(None), std::slice::from_ref(&url));
    assert_eq!(
        failures(&issues, Severity::Error),
        vec!["invariant-failed: Constraint org-named is not met: an organization has a name @ Bundle.entry[0].resource/*Organization/o1*/"],
        "{issues:?}"
    );
    let issues = run(&v, instance(Some("Acme")), &[url]);
    assert!(failures(&issues, Severity::Error).is_empty(), "{issues:?}");
}

#[test]
fn invariants_decide_between_type_profiles() {
    let name_profile = |id: &str, expr: &str| {
        json!({"resourceType": "StructureDefinition",
            "url": format!("http://example.org/StructureDefinition/{id}"), "name": id,
            "status": "active", "kind": "complex-type", "abstract": false, "type": "HumanName",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/HumanName",
            "derivation": "constraint",
            "differential": {"element": [{"id": "HumanName", "path": "HumanName", "constraint": [
                {"key": format!("{id}-1"), "severity": "error", "human": "rule", "expression": expr}]}]}})
    };
    let patient_profile = |url: &str, names: &[&str]| {
        let profiles: Vec<String> = names
            .iter()
            .map(|n| format!("http://example.org/StructureDefinition/{n}"))
            .collect();
        json!({"resourceType": "StructureDefinition", "url": url, "name": "P",
            "status": "active", "kind": "resource", "abstract": false, "type": "Patient",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
            "derivation": "constraint",
            "differential": {"element": [{"id": "Patient.name", "path": "Patient.name",
                "type": [{"code": "HumanName", "profile": profiles}]}]}})
    };
    let Ok(registry) = Registry::builder()
        .add_bytes(
            "n1.json",
            name_profile("fam", "family.exists()")
                .to_string()
                .as_bytes(),
        )
        .add_bytes(
            "n2.json",
            name_profile("text", "text.exists()").to_string().as_bytes(),
        )
        .add_bytes(
            "p.json",
            patient_profile(
                "http://example.org/StructureDefinition/pat",
                &["fam", "text"],
            )
            .to_string()
            .as_bytes(),
        )
        .build()
    else {
        return;
    };
    let v = Validator::new(registry, ValidatorOptions::default());
    let url = "http://example.org/StructureDefinition/pat".to_string();
    let patient = |name: Value| json!({"resourceType": "Patient", "text": {"status": "generated", "div": DIV}, "name": [name]});
    let errors = |issues: &[Issue]| -> Vec<String> {
        issues
            .iter()
            .filter(|i| i.severity.is_error())
            .map(|i| format!("{}: {} @ {}", i.message_id(), i.message(), i.expression))
            .collect()
    };
    // Matches the second profile only: fine.
    let issues = run(
        &v,
        patient(json!({"text": "Jane Doe"})),
        std::slice::from_ref(&url),
    );
    assert!(errors(&issues).is_empty(), "{issues:?}");
    // Matches neither.
    let issues = run(&v, patient(json!({"given": ["Jane"]})), &[url]);
    let e = errors(&issues);
    // The no-match error, then each profile's own errors (as the HL7 Java
    // validator reports them, tagged with the profile).
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(
        e[0].starts_with("no-profile-matches: ") && e[0].ends_with("@ Patient.name[0]"),
        "{e:?}"
    );
    assert!(
        e[1..]
            .iter()
            .all(|m| m.starts_with("found-against-profiles: ")
                && m.contains("(checking against http://example.org/StructureDefinition/")),
        "{e:?}"
    );
}

#[test]
fn ele_1_on_a_primitive_with_only_an_id() {
    let Some(v) = validator() else { return };
    let issues = run(
        &v,
        json!({"resourceType": "Patient", "text": {"status": "generated", "div": DIV},
            "_birthDate": {"id": "b1"}, "active": true}),
        &[],
    );
    let errors: Vec<String> = issues
        .iter()
        .filter(|i| i.severity.is_error())
        .map(|i| format!("{}: {} @ {}", i.message_id(), i.message(), i.expression))
        .collect();
    assert_eq!(
        errors,
        vec!["invariant-failed-from: Constraint ele-1 is not met: All FHIR elements must have a @value or children (defined in http://hl7.org/fhir/StructureDefinition/Element) @ Patient.birthDate"]
    );
    // With an extension, the element has content.
    let issues = run(
        &v,
        json!({"resourceType": "Patient", "text": {"status": "generated", "div": DIV},
            "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]}}),
        &[],
    );
    assert!(!issues.iter().any(|i| i.severity.is_error()), "{issues:?}");
}

#[test]
fn huge_collections_stop_an_evaluation_without_a_failure() {
    let Some(v) = validator() else { return };
    // sdf-8 walks the snapshot for each of its elements: on 12,000
    // elements the evaluation stops at the item limit (information).
    let mut elements = vec![json!({"id": "Patient", "path": "Patient"})];
    for i in 0..12_000 {
        elements.push(json!({"id": format!("Patient.x{i}"), "path": format!("Patient.x{i}")}));
    }
    let sd = json!({"resourceType": "StructureDefinition", "url": "http://example.org/big",
        "name": "Big", "status": "draft", "kind": "resource", "abstract": false, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint", "snapshot": {"element": elements},
        "text": {"status": "generated", "div": DIV}});
    let issues = run(&v, sd, &[]);
    assert!(
        issues.iter().any(|i| i.severity == Severity::Information
            && i.msg == Msg::InvariantNotEvaluated
            && i.arg("key") == Some("sdf-8")),
        "{:?}",
        issues.iter().map(|i| i.message()).collect::<Vec<_>>()
    );
    assert!(!issues
        .iter()
        .any(|i| i.arg("key") == Some("sdf-8") && i.severity.is_error()));
}
