//! Tests of Bundle reference resolution, documents and target profiles.

use crate::tests::{tree, validator};
use crate::{Registry, Validator, ValidatorOptions};
use serde_json::{json, Value};

fn errors_of(v: &Validator, doc: &Value) -> Vec<String> {
    v.validate(tree(doc).root(), &[])
        .iter()
        .filter(|i| i.severity.is_error())
        .map(|i| format!("{}: {} @ {}", i.message_id(), i.message(), i.expression))
        .collect()
}

fn has(e: &[String], s: &str) -> bool {
    e.iter().any(|m| m.contains(s))
}

fn composition(subject: &str) -> Value {
    json!({"resourceType": "Composition", "id": "c1", "status": "final",
        "type": {"text": "x"}, "date": "2024-01-01", "title": "t",
        "author": [{"display": "me"}], "subject": {"reference": subject}})
}

fn document(entries: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": "document", "timestamp": "2024-01-01T00:00:00Z",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"},
        "entry": entries})
}

#[test]
fn document_references_resolve_by_full_url_rules() {
    let Some(v) = validator() else { return };
    // Patient/p1 exists, but under a urn fullUrl: the relative reference
    // from a urn-identified Composition does not match it.
    let doc = document(vec![
        json!({"fullUrl": "urn:uuid:6b1b0ac4-3b42-4e28-9f41-8e3d6f6b1b01", "resource": composition("Patient/p1")}),
        json!({"fullUrl": "urn:uuid:6b1b0ac4-3b42-4e28-9f41-8e3d6f6b1b02",
            "resource": {"resourceType": "Patient", "id": "p1"}}),
    ]);
    let e = errors_of(&v, &doc);
    assert!(
        has(&e, "bundle-entry-same-id-no-base: 'Patient/p1' (Composition.subject) matches no entry of the bundle: an entry has the same type and id ('urn:uuid:6b1b0ac4-3b42-4e28-9f41-8e3d6f6b1b02'), but the fullUrl 'urn:uuid:6b1b0ac4-3b42-4e28-9f41-8e3d6f6b1b01' of the referring entry gives no base to resolve the reference against @ Bundle.entry[0].resource.subject"),
        "{e:?}"
    );
    assert!(
        has(&e, "document-entry-orphan: Entry 'urn:uuid:6b1b0ac4-3b42-4e28-9f41-8e3d6f6b1b02' cannot be reached from the Composition by following references either way @ Bundle.entry[1]"),
        "{e:?}"
    );
    // RESTful fullUrls on the same server: resolves, and is reachable.
    let doc = document(vec![
        json!({"fullUrl": "http://example.org/fhir/Composition/c1", "resource": composition("Patient/p1")}),
        json!({"fullUrl": "http://example.org/fhir/Patient/p1",
            "resource": {"resourceType": "Patient", "id": "p1"}}),
    ]);
    let e = errors_of(&v, &doc);
    assert!(
        !has(&e, "bundle-entry-") && !has(&e, "document-entry-"),
        "{e:?}"
    );
    // A reference to the wrong type of entry.
    let mut c = composition("urn:uuid:6b1b0ac4-3b42-4e28-9f41-8e3d6f6b1b03");
    c["encounter"] = json!({"reference": "urn:uuid:6b1b0ac4-3b42-4e28-9f41-8e3d6f6b1b03"});
    let doc = document(vec![
        json!({"fullUrl": "urn:uuid:6b1b0ac4-3b42-4e28-9f41-8e3d6f6b1b01", "resource": c}),
        json!({"fullUrl": "urn:uuid:6b1b0ac4-3b42-4e28-9f41-8e3d6f6b1b03",
            "resource": {"resourceType": "Patient", "id": "p3"}}),
    ]);
    let e = errors_of(&v, &doc);
    assert!(
        has(&e, "reference-target-type: The target is of type Patient, but only these types are allowed: Encounter @ Bundle.entry[0].resource/*Composition/c1*/.encounter"),
        "{e:?}"
    );
}

#[test]
fn entry_references_multiple_matches_and_missing_full_url() {
    let Some(v) = validator() else { return };
    let obs = |id: &str| {
        json!({"resourceType": "Observation", "id": id, "status": "final",
        "code": {"text": "x"}, "subject": {"reference": "Patient/p1"}})
    };
    let doc = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "http://example.org/fhir/Observation/o1", "resource": obs("o1")},
        {"fullUrl": "http://example.org/fhir/Patient/p1", "resource": {"resourceType": "Patient", "id": "p1"}},
        {"fullUrl": "http://example.org/fhir/Patient/p1", "resource": {"resourceType": "Patient", "id": "p1"}},
        {"resource": obs("o2")}
    ]});
    let e = errors_of(&v, &doc);
    assert!(
        has(&e, "bundle-multiple-matches: More than one entry of the bundle matches the reference Patient/p1 @ Bundle.entry[0].resource/*Observation/o1*/.subject"),
        "{e:?}"
    );
    assert!(
        has(
            &e,
            "entry-no-full-url: This Bundle entry has no fullUrl @ Bundle.entry[3]"
        ),
        "{e:?}"
    );
    assert!(
        has(&e, "relative-reference-no-full-url: A relative reference in a Bundle entry without a fullUrl cannot be resolved @ Bundle.entry[3].resource/*Observation/o2*/.subject"),
        "{e:?}"
    );
}

#[test]
fn message_entries_and_document_links() {
    let Some(v) = validator() else { return };
    let doc = json!({"resourceType": "Bundle", "type": "message", "entry": [
        {"fullUrl": "urn:uuid:6b1b0ac4-3b42-4e28-9f41-8e3d6f6b1b01",
         "resource": {"resourceType": "Patient", "id": "p1"}}
    ]});
    let e = errors_of(&v, &doc);
    assert!(
        has(
            &e,
            "message-first-not-header: The first entry of a message has to be a MessageHeader @ Bundle.entry[0].resource"
        ),
        "{e:?}"
    );
    let mut d = document(vec![
        json!({"fullUrl": "urn:uuid:6b1b0ac4-3b42-4e28-9f41-8e3d6f6b1b01",
        "resource": composition("urn:uuid:6b1b0ac4-3b42-4e28-9f41-8e3d6f6b1b01")}),
    ]);
    d["link"] = json!([{"relation": "stylesheet", "url": "Binary/css"}]);
    let e = errors_of(&v, &d);
    assert!(
        has(
            &e,
            "stylesheet-not-found: The stylesheet is not an entry of this bundle @ Bundle.link[0].url"
        ),
        "{e:?}"
    );
}

fn profiles() -> Vec<(&'static str, Value)> {
    let patient = json!({"resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/IdPatient", "name": "IdPatient",
        "status": "active", "kind": "resource", "abstract": false, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
        "differential": {"element": [{"id": "Patient.identifier", "path": "Patient.identifier", "min": 1}]}});
    let obs = json!({"resourceType": "StructureDefinition",
    "url": "http://example.org/StructureDefinition/IdObs", "name": "IdObs",
    "status": "active", "kind": "resource", "abstract": false, "type": "Observation",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation", "derivation": "constraint",
    "differential": {"element": [
        {"id": "Observation.subject", "path": "Observation.subject",
         "type": [{"code": "Reference",
            "targetProfile": ["http://example.org/StructureDefinition/IdPatient"]}]},
        {"id": "Observation.performer", "path": "Observation.performer",
         "type": [{"code": "Reference",
            "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Practitioner"],
            "aggregation": ["bundled"]}]}
    ]}});
    vec![("p.json", patient), ("o.json", obs)]
}

#[test]
fn target_profiles_and_aggregation() {
    let mut b = Registry::builder();
    for (name, json) in profiles() {
        b = b.add_bytes(name, json.to_string().as_bytes());
    }
    let Ok(reg) = b.build() else { return };
    let v = Validator::new(reg, ValidatorOptions::default());
    let bundle = |patient: Value| {
        json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "http://example.org/fhir/Observation/o1", "resource": {
                "resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "x"},
                "meta": {"profile": ["http://example.org/StructureDefinition/IdObs"]},
                "subject": {"reference": "Patient/p1"},
                "performer": [{"reference": "Practitioner/gone"}]}},
            {"fullUrl": "http://example.org/fhir/Patient/p1", "resource": patient}
        ]})
    };
    let e = errors_of(&v, &bundle(json!({"resourceType": "Patient", "id": "p1"})));
    assert!(
        has(&e, "reference-no-profile-match: The target of Patient/p1 conforms to none of the allowed profiles: http://example.org/StructureDefinition/IdPatient @ Bundle.entry[0].resource/*Observation/o1*/.subject"),
        "{e:?}"
    );
    assert!(
        has(&e, "reference-not-local: The reference Practitioner/gone has to be to a bundled or contained resource, but it is neither in the bundle nor contained @ Bundle.entry[0].resource/*Observation/o1*/.performer[0]"),
        "{e:?}"
    );
    let e = errors_of(
        &v,
        &bundle(json!({"resourceType": "Patient", "id": "p1",
            "identifier": [{"system": "http://example.org/ids", "value": "1"}]})),
    );
    assert!(!has(&e, "reference-no-profile-match"), "{e:?}");
}

#[test]
fn reference_type_element() {
    let Some(v) = validator() else { return };
    let p = json!({"resourceType": "Patient", "id": "p1",
        "managingOrganization": {"reference": "Organization/o1", "type": "organization"}});
    let e = errors_of(&v, &p);
    assert!(
        has(&e, "reference-type-not-target: Reference.type 'organization' is not an allowed target here (allowed: http://hl7.org/fhir/StructureDefinition/Organization|4.0.1) @ Patient.managingOrganization"),
        "{e:?}"
    );
    assert!(
        has(&e, "reference-declared-type-mismatch: Reference.type says 'organization', but the target is of type Organization @ Patient.managingOrganization"),
        "{e:?}"
    );
    let p = json!({"resourceType": "Patient", "id": "p1",
        "managingOrganization": {"reference": "Organization/o1", "type": "Organization"}});
    let e = errors_of(&v, &p);
    assert!(!has(&e, "managingOrganization"), "{e:?}");
}

#[test]
fn unknown_target_profile_of_a_resolved_reference() {
    let obs = json!({"resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/ObsX", "name": "ObsX",
        "status": "active", "kind": "resource", "abstract": false, "type": "Observation",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Observation.subject", "path": "Observation.subject",
             "type": [{"code": "Reference",
                "targetProfile": ["http://example.org/StructureDefinition/NotLoaded"]}]}]}});
    let Ok(reg) = Registry::builder()
        .add_bytes("o.json", obs.to_string().as_bytes())
        .build()
    else {
        return;
    };
    let v = Validator::new(reg, ValidatorOptions::default());
    let doc = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "http://example.org/fhir/Observation/o1", "resource": {
            "resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "x"},
            "meta": {"profile": ["http://example.org/StructureDefinition/ObsX"]},
            "subject": {"reference": "Patient/p1"}}},
        {"fullUrl": "http://example.org/fhir/Patient/p1", "resource": {"resourceType": "Patient", "id": "p1"}}
    ]});
    let e = errors_of(&v, &doc);
    assert!(
        has(&e, "reference-profile-unknown: The target profile 'http://example.org/StructureDefinition/NotLoaded' is not known @ Bundle.entry[0].resource/*Observation/o1*/.subject"),
        "{e:?}"
    );
}

#[test]
fn entry_resource_types_of_profiles_and_slices_without_ids() {
    let only_encounters = json!({"resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/EncBundle", "name": "EncBundle",
        "status": "active", "kind": "resource", "abstract": false, "type": "Bundle",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Bundle", "derivation": "constraint",
        "differential": {"element": [{"path": "Bundle.entry.resource",
            "type": [{"code": "Resource", "profile": ["http://hl7.org/fhir/StructureDefinition/Encounter"]}]}]}});
    // Slices without element ids: each `Bundle.entry.resource` belongs to
    // the slice opened before it.
    let sliced = json!({"resourceType": "StructureDefinition",
    "url": "http://example.org/StructureDefinition/PatObsBundle", "name": "PatObsBundle",
    "status": "active", "kind": "resource", "abstract": false, "type": "Bundle",
    "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Bundle", "derivation": "constraint",
    "differential": {"element": [
        {"path": "Bundle.entry", "slicing": {"discriminator": [{"type": "profile", "path": "resource"}], "rules": "closed"}},
        {"path": "Bundle.entry", "sliceName": "pat", "min": 1, "max": "1"},
        {"path": "Bundle.entry.resource", "type": [{"code": "Resource", "profile": ["http://hl7.org/fhir/StructureDefinition/Patient"]}]},
        {"path": "Bundle.entry", "sliceName": "obs", "min": 0, "max": "1"},
        {"path": "Bundle.entry.resource", "type": [{"code": "Resource", "profile": ["http://hl7.org/fhir/StructureDefinition/Observation"]}]}
    ]}});
    let Ok(reg) = Registry::builder()
        .add_bytes("e.json", only_encounters.to_string().as_bytes())
        .add_bytes("s.json", sliced.to_string().as_bytes())
        .build()
    else {
        return;
    };
    let v = Validator::new(reg, ValidatorOptions::default());
    let errs = |doc: Value, profile: &str| -> Vec<String> {
        v.validate(tree(&doc).root(), &[profile.to_string()])
            .iter()
            .filter(|i| i.severity.is_error())
            .map(|i| format!("{}: {} @ {}", i.message_id(), i.message(), i.expression))
            .collect()
    };
    let doc = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "http://example.org/fhir/Patient/p1", "resource": {"resourceType": "Patient", "id": "p1"}},
        {"fullUrl": "http://example.org/fhir/Observation/o1", "resource": {
            "resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "x"}}}
    ]});
    let e = errs(
        doc.clone(),
        "http://example.org/StructureDefinition/EncBundle",
    );
    assert!(
        has(&e, "entry-resource-type: The resource type Patient is not allowed here: it has to be Encounter @ Bundle.entry[0].resource/*Patient/p1*/"),
        "{e:?}"
    );
    let e = errs(doc, "http://example.org/StructureDefinition/PatObsBundle");
    assert!(e.is_empty(), "{e:?}");
}

#[test]
fn unknown_profile_of_an_entry_resource() {
    let sd = json!({"resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/PB", "name": "PB",
        "status": "active", "kind": "resource", "abstract": false, "type": "Bundle",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Bundle", "derivation": "constraint",
        "differential": {"element": [{"id": "Bundle.entry.resource", "path": "Bundle.entry.resource",
            "type": [{"code": "Patient", "profile": ["http://example.org/StructureDefinition/Missing"]}]}]}});
    let Ok(reg) = Registry::builder()
        .add_bytes("pb.json", sd.to_string().as_bytes())
        .build()
    else {
        return;
    };
    let v = Validator::new(reg, ValidatorOptions::default());
    let doc = tree(
        &json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "http://example.org/fhir/Patient/p1", "resource": {"resourceType": "Patient", "id": "p1"}}]}),
    );
    let e: Vec<String> = v
        .validate(
            doc.root(),
            &["http://example.org/StructureDefinition/PB".to_string()],
        )
        .iter()
        .filter(|i| i.severity.is_error())
        .map(|i| format!("{}: {} @ {}", i.message_id(), i.message(), i.expression))
        .collect();
    assert!(
        has(&e, "unknown-profile: The profile http://example.org/StructureDefinition/Missing is not known, so nothing was checked against it @ Bundle.entry[0].resource"),
        "{e:?}"
    );
    assert!(
        has(&e, "entry-profile-unknown: The profile http://example.org/StructureDefinition/Missing given for the entry resource is not known @ Bundle.entry[0].resource/*Patient/p1*/"),
        "{e:?}"
    );
}

#[test]
fn target_profile_cycles_terminate() {
    let sd = json!({"resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/Linked", "name": "Linked",
        "status": "active", "kind": "resource", "abstract": false, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Patient.identifier", "path": "Patient.identifier", "min": 1},
            {"id": "Patient.link.other", "path": "Patient.link.other",
             "type": [{"code": "Reference", "targetProfile": ["http://example.org/StructureDefinition/Linked"]}]}]}});
    let Ok(reg) = Registry::builder()
        .add_bytes("l.json", sd.to_string().as_bytes())
        .build()
    else {
        return;
    };
    let v = Validator::new(reg, ValidatorOptions::default());
    let patient = |id: &str, other: &str, identified: bool| {
        let mut p = json!({"resourceType": "Patient", "id": id,
            "meta": {"profile": ["http://example.org/StructureDefinition/Linked"]},
            "link": [{"other": {"reference": format!("Patient/{other}")}, "type": "seealso"}]});
        if identified {
            p["identifier"] = json!([{"system": "http://example.org/ids", "value": id}]);
        }
        json!({"fullUrl": format!("http://example.org/fhir/Patient/{id}"), "resource": p})
    };
    let doc = json!({"resourceType": "Bundle", "type": "collection",
        "entry": [patient("a", "b", true), patient("b", "a", true)]});
    let e = errors_of(&v, &doc);
    assert!(e.is_empty(), "{e:?}");
    let doc = json!({"resourceType": "Bundle", "type": "collection",
        "entry": [patient("a", "b", true), patient("b", "a", false)]});
    let e = errors_of(&v, &doc);
    assert!(
        has(&e, "reference-no-profile-match: The target of Patient/b conforms to none of the allowed profiles: http://example.org/StructureDefinition/Linked @ Bundle.entry[0].resource/*Patient/a*/.link[0].other"),
        "{e:?}"
    );
}
