//! Unit tests over the embedded R4 core definitions.

use super::*;
use fhirreg_element::Msg;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A validator over the embedded R4 core (built once per test binary).
pub(crate) fn validator() -> Option<Validator> {
    static V: OnceLock<Option<Validator>> = OnceLock::new();
    V.get_or_init(|| {
        let registry = Registry::builder().build().ok()?;
        Some(Validator::new(registry, ValidatorOptions::default()))
    })
    .clone()
}

/// Read FHIR JSON with the element crate's reader.
pub(crate) fn parse(bytes: &[u8]) -> Option<fhirreg_element::Document> {
    fhirreg_element::json::parse(bytes, &fhirreg_element::ParseOptions::default()).ok()
}

pub(crate) fn tree(json: &Value) -> fhirreg_element::Document {
    let text = json.to_string();
    parse(text.as_bytes()).unwrap_or_default()
}

fn run(json: Value) -> Option<Vec<Issue>> {
    let Some(v) = validator() else {
        eprintln!("skipped: the registry could not be built");
        return None;
    };
    Some(v.validate(tree(&json).root(), &[]))
}

fn errors(issues: &[Issue]) -> Vec<String> {
    issues
        .iter()
        .filter(|i| i.severity.is_error())
        .map(|i| format!("{}: {} @ {}", i.message_id(), i.message(), i.expression))
        .collect()
}

#[test]
fn validator_is_send_sync_clone() {
    fn assert<T: Send + Sync + Clone>() {}
    assert::<Validator>();
}

#[test]
fn valid_patient() {
    let Some(issues) = run(serde_json::json!({
        "resourceType": "Patient", "id": "p1", "active": true,
        "name": [{"family": "Nordmann", "given": ["Ola"]}],
        "birthDate": "1970-01-01",
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Ola</div>"}
    })) else {
        return;
    };
    assert!(errors(&issues).is_empty(), "{:?}", errors(&issues));
}

#[test]
fn structural_errors() {
    let Some(issues) = run(serde_json::json!({
        "resourceType": "Patient", "id": "bad id", "active": "yes", "foo": 1,
        "name": {"family": "x"},
        "birthDate": "1970-13-01",
        "identifier": [{"value": "1", "period": {"start": "2020-01-01T10:00:00"}}]
    })) else {
        return;
    };
    let e = errors(&issues);
    let has = |s: &str| e.iter().any(|m| m.contains(s));
    assert!(
        has("resource-id-invalid: The resource id 'bad id' has characters an id cannot have (only A-Z, a-z, 0-9, '-' and '.') @ Patient.id"),
        "{e:?}"
    );
    assert!(
        has("unknown-property: The property 'foo' is not defined here"),
        "{e:?}"
    );
    assert!(
        has("json-value-not-boolean: In JSON this value has to be true or false @ Patient.active"),
        "{e:?}"
    );
    assert!(
        has("json-array-expected: The property name repeats, so in JSON it has to be an array (in Patient) @ Patient.name[0]"),
        "{e:?}"
    );
    assert!(
        has("date-invalid: '1970-13-01' is not a date (YYYY, YYYY-MM or YYYY-MM-DD) @ Patient.birthDate"),
        "{e:?}"
    );
    assert!(
        has("date-time-no-timezone: A date with a time needs a time zone @ Patient.identifier[0].period.start"),
        "{e:?}"
    );
}

#[test]
fn cardinality_and_choice() {
    let Some(issues) = run(serde_json::json!({
        "resourceType": "Observation", "status": "final",
        "valueQuantity": {"value": "12"},
        "valueFoo": 1
    })) else {
        return;
    };
    let e = errors(&issues);
    let has = |s: &str| e.iter().any(|m| m.contains(s));
    assert!(has("too-few-occurrences: Observation.code: at least 1 required, but 0 found (profile http://hl7.org/fhir/StructureDefinition/Observation|4.0.1) @ Observation"), "{e:?}");
    assert!(
        has("json-value-not-number: In JSON this value has to be a number @ Observation.value.ofType(Quantity).value"),
        "{e:?}"
    );
    assert!(
        has("unknown-property: The property 'valueFoo' is not defined here"),
        "{e:?}"
    );
}

#[test]
fn bundle_and_contained() {
    let Some(issues) = run(serde_json::json!({
        "resourceType": "Bundle", "type": "collection",
        "entry": [{"fullUrl": "Observation/1", "resource": {
            "resourceType": "Observation", "id": "1", "status": "final",
            "code": {"text": "x"},
            "contained": [{"resourceType": "Patient", "id": "p", "gender": 3}],
            "subject": {"reference": "nonsense"}
        }}]
    })) else {
        return;
    };
    let e = errors(&issues);
    let has = |s: &str| e.iter().any(|m| m.contains(s));
    assert!(
        has("full-url-not-absolute: A fullUrl has to be an absolute URL, not 'Observation/1' @ Bundle.entry[0]"),
        "{e:?}"
    );
    assert!(
        has("@ Bundle.entry[0].resource/*Observation/1*/.contained[0]/*Patient/p*/.gender"),
        "{e:?}"
    );
    assert!(has("reference-format: A relative reference has the form Type/id; 'nonsense' does not @ Bundle.entry[0].resource/*Observation/1*/.subject"), "{e:?}");
}

#[test]
fn extensions() {
    let Some(issues) = run(serde_json::json!({
        "resourceType": "Patient",
        "extension": [
            {"valueString": "x"},
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueString": "x"},
            {"url": "http://unknown.org/ext", "valueString": "x"},
            {"url": "http://example.org/ext", "valueString": "x", "extension": [{"url": "a", "valueCode": "b"}]}
        ]
    })) else {
        return;
    };
    let e = errors(&issues);
    let has = |s: &str| e.iter().any(|m| m.contains(s));
    assert!(
        has("extension-url-missing: An extension needs a url"),
        "{e:?}"
    );
    assert!(
        has("takes values of type Address, not string @ Patient.extension[1]"),
        "{e:?}"
    );
    assert!(
        has("extension-unknown: The extension http://unknown.org/ext is not known, so it is not allowed here"),
        "{e:?}"
    );
    assert!(
        has("invariant-failed-from: Constraint ext-1 is not met"),
        "{e:?}"
    );
}

/// Every example instance of the R4 package is meant to be valid:
/// `FHIRREG_R4_EXAMPLES=/tmp/npm/package cargo test -p fhirreg-validator r4_examples -- --nocapture`
#[test]
fn r4_examples() {
    let Ok(dir) = std::env::var("FHIRREG_R4_EXAMPLES") else {
        eprintln!("skipped: set FHIRREG_R4_EXAMPLES to an unpacked hl7.fhir.r4.examples folder");
        return;
    };
    let Some(v) = validator() else {
        eprintln!("skipped: R4 definitions not found");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut total = 0usize;
    let mut bytes_total = 0usize;
    let mut flagged = Vec::new();
    let mut trees: Vec<(String, fhirreg_element::Document)> = Vec::new();
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.ends_with(".json") || name.starts_with('.') || name == "package.json" {
            continue;
        }
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        bytes_total += bytes.len();
        let Some(doc) = parse(&bytes) else {
            flagged.push((name, vec!["could not be parsed".to_string()], Vec::new()));
            total += 1;
            continue;
        };
        let rt = doc.root().resource_type().unwrap_or_default().to_string();
        if fhirreg_registry::DEFINITION_RESOURCE_TYPES.contains(&rt.as_str()) {
            continue;
        }
        trees.push((name, doc));
    }
    // First pass compiles the plans and value sets; the second is timed.
    for (_, doc) in &trees {
        let _ = v.validate(doc.root(), &[]);
    }
    let start = std::time::Instant::now();
    for (name, doc) in &trees {
        total += 1;
        let mut issues = doc.issues.clone();
        issues.extend(v.validate(doc.root(), &[]));
        let errs = errors(&issues);
        if !errs.is_empty() {
            let kinds: Vec<Msg> = issues
                .iter()
                .filter(|i| i.severity.is_error())
                .map(|i| i.msg)
                .collect();
            flagged.push((name.clone(), errs, kinds));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    for (n, e, _) in &flagged {
        println!("FLAGGED {n}: {}", e.join(" | "));
    }
    // Kinds of defect that many examples share (each reviewed): an example
    // whose errors are all of these kinds is explained.
    let relative_canonicals = "relative canonicals ('Library/x', 'Questionnaire/x'): a \
         canonical is an absolute URL or a '#' fragment; the HL7 Java validator and Firely \
         both report them";
    let not_ucum = "Quantity units with the UCUM system that are no UCUM codes ('ea', \
         'mcg', 'TAB', 'tbl', 'drop', 'mEq', 'ml/hr', 'month'; UCUM writes ug, meq, h, mo and \
         has no tablet or each): datatypes.html#Quantity, the code is in the system";
    let known_kinds: &[(Msg, &str)] = &[
        (Msg::CanonicalNotAbsolute, relative_canonicals),
        (Msg::TxUcumInvalid, not_ucum),
        (Msg::ContainedCanonicalNotAbsolute, relative_canonicals),
    ];
    // Examples with real defects (reviewed one by one), which the HL7 Java
    // validator reports too.
    let known: &[(&str, &str)] = &[
        (
            "Bundle-10bb101f-a121-4264-a920-67be9cb82c74.json",
            "fullUrl Patient/pat12 for resource id pat2",
        ),
        (
            "Bundle-3a0707d3-549e-4467-b8b8-5a2ab3800efe.json",
            "fullUrl Patient/pat12 for resource id pat2",
        ),
        (
            "Bundle-lri-example.json",
            "fullUrls do not end with the resource ids",
        ),
        (
            "Bundle-v3-valuesets.json",
            "narrative links to anchors that are not in the narrative",
        ),
        (
            "Bundle-valueset-expansions.json",
            "extension valueset-definition does not exist in R4",
        ),
        (
            "Bundle-resources.json",
            "'xml' is not a MIME type (required binding)",
        ),
        (
            "Bundle-hla-1.json",
            "sub-extension 'uri' where hla-genotyping-results-glstring defines 'url'",
        ),
        (
            "Bundle-dataelements.json",
            "identifier with system urn:ietf:rfc:3986 and a value that is no URI",
        ),
        (
            "Organization-2.16.840.1.113883.19.5.json",
            "identifier with system urn:ietf:rfc:3986 and an OID value without urn:oid:",
        ),
        (
            "DeviceMetric-example.json",
            "parent references a DeviceDefinition, only Device allowed",
        ),
        (
            "DeviceUseStatement-example.json",
            "reasonReference to a Procedure is not allowed",
        ),
        (
            "Library-zika-virus-intervention-logic.json",
            "urn:oid:X.Y.Z is not an OID",
        ),
        (
            "MedicationRequest-medrx0301.json",
            "dispenseRequest.performer references a Practitioner",
        ),
        (
            "Observation-clinical-gender.json",
            "performer references an Encounter",
        ),
        (
            "Observation-example-genetics-brcapat.json",
            "us-core-ethnicity is not an R4 core extension",
        ),
        ("Questionnaire-qs1.json", "items without linkId"),
        (
            "ActivityDefinition-blood-tubes-supply.json",
            "empty narrative (only whitespace): txt-2",
        ),
        (
            "ActivityDefinition-heart-valve-replacement.json",
            "empty narrative (only whitespace): txt-2",
        ),
        (
            "EventDefinition-example.json",
            "empty narrative (only whitespace): txt-2",
        ),
        (
            "AdverseEvent-example.json",
            "codes of the R4 core edition of adverse-event-category/-seriousness that the \
             HL7 terminology edition (ranked first) no longer has",
        ),
        (
            "Immunization-subpotent.json",
            "'partial': R4 core edition code, not in the HL7 terminology edition",
        ),
        (
            "ImmunizationEvaluation-notValid.json",
            "'outsidesched': R4 core edition code, not in the HL7 terminology edition",
        ),
        (
            "Bundle-b0a5e4277-83c4-4adb-87e2-e3efe3369b6f.json",
            "MIME parameter values with spaces ('variant=DICOM WADO-RS') unquoted",
        ),
        (
            "Bundle-conceptmaps.json",
            "ConceptMap target 'UNK' is not a v3-AdministrativeGender code",
        ),
        (
            "Bundle-father.json",
            "relative reference that the fullUrl rules do not resolve (the entry with that \
             type and id has another base)",
        ),
        ("Bundle-ussg-fht.json", "'[lb_i]' is not a UCUM unit"),
        (
            "Bundle-valuesets.json",
            "relative compose.include.system, ConceptMap targets not in v3-ActReason, \
             valueset-concept-comments used on CodeSystem.concept (its context is \
             ValueSet.compose.include.concept)",
        ),
        (
            "ImagingStudy-example-xr.json",
            "'T-15460' (SNOMED RT) is not a SNOMED CT concept id",
        ),
        (
            "NutritionOrder-enteralcontinuous.json",
            "'6547210000124112' fails the SNOMED CT identifier check digit",
        ),
        (
            "Observation-f202.json",
            "a body temperature without effective[x], which the vital-signs profile the HL7 \
             validator applies by code requires",
        ),
        (
            "Measure-hiv-indicators.json",
            "CQL criteria whose Library is not in the package (the HL7 validator reports it)",
        ),
        (
            "Measure-measure-cms146-example.json",
            "CQL criteria whose Library is not in the package, and relative canonicals",
        ),
        (
            "TerminologyCapabilities-example.json",
            "url is an upper-case urn:uuid",
        ),
        (
            "TestScript-testscript-example-history.json",
            "'json' is not a MIME type",
        ),
        (
            "TestScript-testscript-example-multisystem.json",
            "'xml' is not a MIME type",
        ),
        (
            "TestScript-testscript-example-readtest.json",
            "'xml' is not a MIME type",
        ),
        (
            "TestScript-testscript-example-search.json",
            "'xml' is not a MIME type",
        ),
        (
            "TestScript-testscript-example-update.json",
            "'xml' is not a MIME type",
        ),
        (
            "TestScript-testscript-example.json",
            "'json' is not a MIME type",
        ),
    ];
    let unexplained: Vec<&String> = flagged
        .iter()
        .filter(|(_, _, kinds)| {
            kinds.is_empty()
                || !kinds
                    .iter()
                    .all(|k| known_kinds.iter().any(|(m, _)| m == k))
        })
        .map(|(n, _, _)| n)
        .filter(|n| !known.iter().any(|(k, _)| k == n))
        .collect();
    let rate = flagged.len() as f64 * 100.0 / total.max(1) as f64;
    let unexplained_rate = unexplained.len() as f64 * 100.0 / total.max(1) as f64;
    println!("unexplained: {unexplained:?} ({unexplained_rate:.2}%)");
    println!(
        "r4 examples: {total} validated, {} with errors ({rate:.2}%), {:.0} resources/s, {:.1} MB/s (warm, one thread)",
        flagged.len(),
        trees.len() as f64 / secs.max(1e-9),
        bytes_total as f64 / 1e6 / secs.max(1e-9)
    );
    assert!(total > 0);
    assert!(
        unexplained_rate <= 2.0,
        "error rate {unexplained_rate:.2}% above 2% without the known defects"
    );
}

fn validator_with(files: &[(&str, Value)]) -> Option<Validator> {
    let mut b = Registry::builder();
    for (name, json) in files {
        b = b.add_bytes(*name, json.to_string().as_bytes());
    }
    Some(Validator::new(b.build().ok()?, ValidatorOptions::default()))
}

#[test]
fn questionnaire_response_against_questionnaire() {
    let q = serde_json::json!({
        "resourceType": "Questionnaire", "url": "http://example.org/Questionnaire/q", "status": "active",
        "item": [
            {"linkId": "name", "type": "string", "required": true},
            {"linkId": "age", "type": "integer",
             "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 18}]},
            {"linkId": "colour", "type": "choice", "answerOption": [
                {"valueCoding": {"system": "http://example.org/c", "code": "red"}}]}
        ]
    });
    let Some(v) = validator_with(&[("q.json", q)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let qr = tree(&serde_json::json!({
        "resourceType": "QuestionnaireResponse", "status": "completed",
        "questionnaire": "http://example.org/Questionnaire/q",
        "item": [
            {"linkId": "age", "answer": [{"valueInteger": 12}]},
            {"linkId": "colour", "answer": [{"valueCoding": {"system": "http://example.org/c", "code": "blue"}}]},
            {"linkId": "shoe", "answer": [{"valueString": "x"}]}
        ]
    }));
    let e = errors(&v.validate(qr.root(), &[]));
    let has = |s: &str| e.iter().any(|m| m.contains(s));
    assert!(
        has("qr-required-missing: The required item 'name' has no answer @ QuestionnaireResponse"),
        "{e:?}"
    );
    assert!(has("qr-below-minimum: The answer 12 is below the minimum 18 @ QuestionnaireResponse.item[0].answer[0].value.ofType(integer)"), "{e:?}");
    assert!(has("qr-coding-not-an-option: The code http://example.org/c#blue is not one of the answer options @ QuestionnaireResponse.item[1].answer[0]"), "{e:?}");
    assert!(
        has("qr-link-id-unknown: The linkId 'shoe' is not an item of the questionnaire"),
        "{e:?}"
    );
}

#[test]
fn profile_without_snapshot_is_derived_from_its_base() {
    let sd = serde_json::json!({
        "resourceType": "StructureDefinition", "url": "http://example.org/sd/p", "name": "P",
        "status": "active", "kind": "resource", "abstract": false, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Patient.name", "path": "Patient.name", "min": 1},
            {"id": "Patient.name.family", "path": "Patient.name.family", "min": 1},
            {"id": "Patient.gender", "path": "Patient.gender", "fixedCode": "female"}
        ]}
    });
    let Some(v) = validator_with(&[("p.json", sd)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let p = ["http://example.org/sd/p".to_string()];
    let no_name = tree(&serde_json::json!({"resourceType": "Patient", "gender": "male"}));
    let e = errors(&v.validate(no_name.root(), &p));
    let has = |e: &[String], s: &str| e.iter().any(|m| m.contains(s));
    assert!(has(&e, "too-few-occurrences: Patient.name: at least 1 required, but 0 found (profile http://example.org/sd/p) @ Patient"), "{e:?}");
    assert!(has(&e, "fixed-value-mismatch: The value is 'male', but the profile http://example.org/sd/p fixes it to 'female'"), "{e:?}");
    let given_only =
        tree(&serde_json::json!({"resourceType": "Patient", "name": [{"given": ["A"]}]}));
    let e = errors(&v.validate(given_only.root(), &p));
    assert!(has(&e, "too-few-occurrences: Patient.name.family: at least 1 required, but 0 found (profile http://example.org/sd/p) @ Patient.name[0]"), "{e:?}");
    let good = tree(
        &serde_json::json!({"resourceType": "Patient", "gender": "female", "name": [{"family": "F"}]}),
    );
    assert!(errors(&v.validate(good.root(), &p)).is_empty());
    // Without the profile the same instance is valid against the core.
    assert!(errors(&v.validate(no_name.root(), &[])).is_empty());
}

#[test]
fn required_bindings_and_codings() {
    let Some(issues) = run(serde_json::json!({
        "resourceType": "Patient", "gender": "unknownish",
        "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "ZZZ"}]},
        "identifier": [{"system": "local-system", "value": "1"}]
    })) else {
        return;
    };
    let e = errors(&issues);
    let has = |s: &str| e.iter().any(|m| m.contains(s));
    assert!(has("tx-binding-code-required: The code 'unknownish' is not in the value set 'AdministrativeGender'"), "{e:?}");
    assert!(has("@ Patient.gender"), "{e:?}");
    assert!(has("identifier-system-relative: Identifier.system has to be an absolute URI, not a local reference @ Patient.identifier[0].system"), "{e:?}");
}

#[test]
fn narrative_and_duplicate_ids() {
    let Some(issues) = run(serde_json::json!({
        "resourceType": "Patient",
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></div>"},
        "name": [{"id": "n1", "family": "A"}, {"id": "n1", "family": "B"}]
    })) else {
        return;
    };
    let e = errors(&issues);
    let has = |s: &str| e.iter().any(|m| m.contains(s));
    assert!(
        has("xhtml-element: The element 'script' is not allowed in a narrative @ Patient.text.div"),
        "{e:?}"
    );
    assert!(has("duplicate-element-id: The element id 'n1' is used more than once in this resource @ Patient.name[1]"), "{e:?}");
}

#[test]
fn questionnaire_response_enable_when() {
    let q = serde_json::json!({
        "resourceType": "Questionnaire", "url": "http://example.org/Questionnaire/ew", "status": "active",
        "item": [{"linkId": "g", "type": "group", "repeats": true, "item": [
            {"linkId": "smoker", "type": "boolean"},
            {"linkId": "packs", "type": "integer", "required": true,
             "enableWhen": [{"question": "smoker", "operator": "=", "answerBoolean": true}]}
        ]}]
    });
    let Some(v) = validator_with(&[("ew.json", q)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    // The condition is looked up in the same group instance.
    let qr = tree(&serde_json::json!({
        "resourceType": "QuestionnaireResponse", "status": "completed",
        "questionnaire": "http://example.org/Questionnaire/ew",
        "item": [
            {"linkId": "g", "item": [
                {"linkId": "smoker", "answer": [{"valueBoolean": true}]},
                {"linkId": "packs", "answer": [{"valueInteger": 2}]}]},
            {"linkId": "g", "item": [
                {"linkId": "smoker", "answer": [{"valueBoolean": false}]},
                {"linkId": "packs", "answer": [{"valueInteger": 3}]}]}
        ]
    }));
    let e = errors(&v.validate(qr.root(), &[]));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("qr-answer-not-enabled: The item 'packs' has an answer although it is not enabled @ QuestionnaireResponse.item[1].item[1]"), "{e:?}");
    // A required item is missing only where it is enabled.
    let qr = tree(&serde_json::json!({
        "resourceType": "QuestionnaireResponse", "status": "completed",
        "questionnaire": "http://example.org/Questionnaire/ew",
        "item": [
            {"linkId": "g", "item": [{"linkId": "smoker", "answer": [{"valueBoolean": true}]}]},
            {"linkId": "g", "item": [{"linkId": "smoker", "answer": [{"valueBoolean": false}]}]}
        ]
    }));
    let e = errors(&v.validate(qr.root(), &[]));
    assert_eq!(
        e,
        ["qr-required-missing: The required item 'packs' has no answer @ QuestionnaireResponse.item[0]"],
        "{e:?}"
    );
}

#[test]
fn deep_nesting_does_not_overflow() {
    let Some(v) = validator() else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    // As deep as the JSON reader allows (its depth limit): nested extensions.
    let nested = |levels: usize| {
        let mut ext = serde_json::json!({"url": "http://example.org/x", "valueString": "leaf"});
        for _ in 0..levels {
            ext = serde_json::json!({"url": "http://example.org/x", "extension": [ext]});
        }
        serde_json::json!({"resourceType": "Patient", "extension": [ext]})
    };
    let Some(doc) = (1..300)
        .rev()
        .step_by(10)
        .find_map(|n| parse(nested(n).to_string().as_bytes()))
    else {
        eprintln!("skipped: the reader refuses nested extensions");
        return;
    };
    let issues = v.validate(doc.root(), &[]);
    assert!(errors(&issues).is_empty(), "{:?}", errors(&issues));
}

/// A type discriminator through `resolve()` sees the contained resources
/// when the profile is named explicitly (it is checked after the core walk
/// of the resource has left its scope).
#[test]
fn type_slices_resolve_contained_references() {
    let sd = serde_json::json!({
        "resourceType": "StructureDefinition", "url": "http://example.org/sd/l", "name": "L",
        "status": "active", "kind": "resource", "abstract": false, "type": "List",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/List", "derivation": "constraint",
        "differential": {"element": [
            {"id": "List.entry", "path": "List.entry",
             "slicing": {"discriminator": [{"type": "type", "path": "item.resolve()"}], "rules": "closed"}},
            {"id": "List.entry:cond", "path": "List.entry", "sliceName": "cond", "min": 1, "max": "1"},
            {"id": "List.entry:cond.item", "path": "List.entry.item",
             "type": [{"code": "Reference", "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Condition"]}]}
        ]}
    });
    let Some(v) = validator_with(&[("l.json", sd)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let list = |contained: Value| {
        tree(&serde_json::json!({
            "resourceType": "List", "status": "current", "mode": "working",
            "contained": [contained],
            "entry": [{"item": {"reference": "#x"}}]
        }))
    };
    let p = ["http://example.org/sd/l".to_string()];
    let condition = serde_json::json!(
        {"resourceType": "Condition", "id": "x", "subject": {"reference": "Patient/1"}});
    let e = errors(&v.validate(list(condition).root(), &p));
    assert!(e.is_empty(), "{e:?}");
    let observation = serde_json::json!(
        {"resourceType": "Observation", "id": "x", "status": "final", "code": {"text": "x"}});
    let e = errors(&v.validate(list(observation).root(), &p));
    assert!(
        e.iter().any(|m| m.starts_with("slice-no-match-closed: ")),
        "{e:?}"
    );
}

fn error_paths(json: Value) -> Option<Vec<String>> {
    let issues = run(json)?;
    Some(
        issues
            .iter()
            .filter(|i| i.severity.is_error())
            .map(|i| i.expression.clone())
            .collect(),
    )
}

#[test]
fn codesystem_content_rules() {
    let Some(paths) = error_paths(serde_json::json!({
        "resourceType": "CodeSystem", "url": "http://example.org/cs", "status": "active",
        "content": "complete", "count": 3, "caseSensitive": true,
        "concept": [{"code": "a"}, {"code": "b"}]
    })) else {
        return;
    };
    assert_eq!(paths, vec!["CodeSystem.count"]);
    let Some(paths) = error_paths(serde_json::json!({
        "resourceType": "CodeSystem", "url": "http://example.org/cs", "status": "active",
        "content": "not-present", "caseSensitive": true, "concept": [{"code": "a"}]
    })) else {
        return;
    };
    assert_eq!(paths, vec!["CodeSystem.concept[0]"]);
    let Some(paths) = error_paths(serde_json::json!({
        "resourceType": "CodeSystem", "url": "http://example.org/supp", "status": "active",
        "content": "complete", "supplements": "http://snomed.info/sct",
        "concept": [{"code": "73211009"}, {"code": "nonsense"}]
    })) else {
        return;
    };
    assert_eq!(paths, vec!["CodeSystem.content", "CodeSystem.concept[1]"]);
}

#[test]
fn valueset_compose_rules() {
    let Some(paths) = error_paths(serde_json::json!({
        "resourceType": "ValueSet", "url": "http://example.org/vs", "status": "active",
        "extension": [{"url": "http://hl7.org/fhir/tools/StructureDefinition/valueset-parameter",
            "extension": [{"url": "name", "valueCode": "p-a"}]}],
        "compose": {"include": [
            {"system": "#local"},
            {"system": "http://snomed.info/sct", "concept": [{"code": "73211009"}, {"code": "12"}]},
            {"system": "http://snomed.info/sct", "filter": [
                {"property": "constraint", "op": "=", "value": "<< 73211009"},
                {"property": "constraint", "op": "=", "value": "73211009 << 73211009"},
                {"property": "363698007", "op": "is-a", "value": "39057004"},
                {"property": "inactive", "op": "=", "_value": {"extension": [{
                    "url": "http://hl7.org/fhir/StructureDefinition/cqf-expression",
                    "valueExpression": {"language": "text/fhirpath", "expression": "%p-a or %p-b"}}]}}]},
            {"system": "http://hl7.org/fhir/administrative-gender", "filter": [
                {"property": "concept", "op": "is-a", "value": "male"},
                {"property": "concept", "op": "is-a", "value": "nobody"},
                {"property": "notSelectable", "op": "=", "value": "yes"}]}
        ]}
    })) else {
        return;
    };
    assert_eq!(
        paths,
        vec![
            "ValueSet.compose.include[0]",
            "ValueSet.compose.include[1].concept[1]",
            "ValueSet.compose.include[2].filter[1]",
            "ValueSet.compose.include[2].filter[2]",
            "ValueSet.compose.include[2].filter[3].extension[0].value.ofType(Expression)",
            "ValueSet.compose.include[3].filter[1]",
            "ValueSet.compose.include[3].filter[2]",
        ]
    );
}

#[test]
fn profile_bindings_additional_and_contained() {
    let vs = serde_json::json!({
        "resourceType": "ValueSet", "url": "http://example.org/vs/genders", "version": "1",
        "name": "Genders", "status": "active",
        "compose": {"include": [{"system": "http://hl7.org/fhir/administrative-gender",
            "concept": [{"code": "male"}]}]}
    });
    let sd = serde_json::json!({
        "resourceType": "StructureDefinition", "url": "http://example.org/sd/pat",
        "name": "Pat", "status": "active", "kind": "resource", "abstract": false, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
        "contained": [{"resourceType": "ValueSet", "id": "rel", "status": "active",
            "expansion": {"timestamp": "2020-01-01T00:00:00Z", "contains": [
                {"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "C",
                 "designation": [{"value": "local name"}]}]}}],
        "differential": {"element": [
            {"id": "Patient", "path": "Patient"},
            {"id": "Patient.contact.relationship", "path": "Patient.contact.relationship",
             "binding": {"strength": "required", "valueSet": "#rel"}},
            {"id": "Patient.maritalStatus", "path": "Patient.maritalStatus",
             "binding": {"strength": "example", "valueSet": "http://hl7.org/fhir/ValueSet/marital-status",
                "extension": [{"url": "http://hl7.org/fhir/tools/StructureDefinition/additional-binding",
                    "extension": [{"url": "purpose", "valueCode": "required"},
                        {"url": "valueSet", "valueCanonical": "http://example.org/vs/genders"}]}]}}
        ]}
    });
    let Some(v) = validator_with(&[("vs.json", vs), ("sd.json", sd)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let pat = tree(&serde_json::json!({
        "resourceType": "Patient",
        "maritalStatus": {"coding": [{"system": "http://hl7.org/fhir/administrative-gender", "code": "female"}]},
        "contact": [{"relationship": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "C", "display": "local name"}]},
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N", "display": "local name"}]}
        ]}]
    }));
    let base = errors(&v.validate(pat.root(), &[]));
    assert!(
        base.iter()
            .any(|e| e.contains("@ Patient.contact[0].relationship[0].coding[0].display")),
        "{base:?}"
    );
    let e = errors(&v.validate(pat.root(), &["http://example.org/sd/pat".to_string()]));
    let at = |p: &str| e.iter().filter(|m| m.ends_with(&format!("@ {p}"))).count();
    // the profile's value set gives the display: accepted there only
    assert_eq!(
        at("Patient.contact[0].relationship[0].coding[0].display"),
        0,
        "{e:?}"
    );
    assert_eq!(
        at("Patient.contact[0].relationship[1].coding[0].display"),
        1,
        "{e:?}"
    );
    // N is not in the contained value set (required)
    assert_eq!(at("Patient.contact[0].relationship[1]"), 1, "{e:?}");
    assert_eq!(at("Patient.contact[0].relationship[0]"), 0, "{e:?}");
    assert!(
        e.iter()
            .any(|m| m.starts_with("additional-binding-required: ")
                && m.ends_with("@ Patient.maritalStatus")),
        "{e:?}"
    );
}

#[test]
fn attachment_data_not_base64_is_reported_on_the_attachment() {
    let Some(paths) = error_paths(serde_json::json!({
        "resourceType": "Parameters",
        "parameter": [{"name": "a", "valueAttachment": {"contentType": "text/plain", "data": "ab.d"}},
                      {"name": "b", "valueBase64Binary": "ab.d"}]
    })) else {
        return;
    };
    assert_eq!(
        paths,
        vec![
            "Parameters.parameter[0].value.ofType(Attachment)",
            "Parameters.parameter[1].value.ofType(base64Binary)"
        ]
    );
}

#[test]
fn coding_system_that_is_a_value_set() {
    let Some(paths) = error_paths(serde_json::json!({
        "resourceType": "Basic",
        "code": {"coding": [{"system": "http://hl7.org/fhir/ValueSet/administrative-gender", "code": "male"}]}
    })) else {
        return;
    };
    assert_eq!(paths, vec!["Basic.code.coding[0].system"]);
}

#[test]
fn measure_report_against_measure() {
    let pop = |code: &str| {
        serde_json::json!({"code": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": code}]}})
    };
    let m = serde_json::json!({
        "resourceType": "Measure", "url": "http://example.org/Measure/m", "status": "active",
        "scoring": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring", "code": "cohort"}]},
        "group": [{"population": [pop("initial-population")]}]
    });
    let Some(v) = validator_with(&[("m.json", m)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let mr = tree(&serde_json::json!({
        "resourceType": "MeasureReport", "status": "complete", "type": "summary",
        "measure": "http://example.org/Measure/m",
        "period": {"start": "2020-01-01", "end": "2020-12-31"},
        "group": [{"population": [pop("initial-population"), pop("numerator")],
                   "measureScore": {"value": 1}}]
    }));
    let e = errors(&v.validate(mr.root(), &[]));
    assert_eq!(
        e,
        [
            "report-population-unknown-code: The population's code matches no population of the measure's group @ MeasureReport.group[0].population[1]",
            "score-not-for-cohort: A measure scored 'cohort' has no measureScore @ MeasureReport.group[0].measureScore",
        ],
        "{e:?}"
    );
    // A Measure whose CQL criteria have no Library to resolve against.
    let m = tree(&serde_json::json!({
        "resourceType": "Measure", "url": "http://example.org/Measure/m2", "status": "active",
        "group": [{"population": [{"code": {"text": "ip"},
                       "criteria": {"language": "text/fhirpath", "expression": "true"}}],
                   "stratifier": [{"criteria": {"language": "text/cql", "expression": "Lib.Strat"}}]}]
    }));
    let e = errors(&v.validate(m.root(), &[]));
    assert_eq!(
        e,
        ["measure-cql-no-library: The measure has no library for its CQL expressions @ Measure.group[0].stratifier[0].criteria"],
        "{e:?}"
    );
}

#[test]
fn search_parameter_rules() {
    let Some(issues) = run(serde_json::json!({
        "resourceType": "SearchParameter", "url": "http://example.org/SearchParameter/x",
        "name": "X", "status": "active", "description": "x", "code": "x",
        "base": ["Patient"], "type": "composite",
        "expression": "Patient.name | Organization.alias"
    })) else {
        return;
    };
    let e = errors(&issues);
    assert_eq!(
        e,
        [
            "search-param-components: A composite search parameter needs two or more components @ SearchParameter",
            "search-param-expression-type: In the search expression 'Patient.name | Organization.alias', 'Organization' (at character 16) is none of the base types http://hl7.org/fhir/StructureDefinition/Patient @ SearchParameter.expression",
        ],
        "{e:?}"
    );
}

#[test]
fn questionnaire_enable_when_targets() {
    let Some(issues) = run(serde_json::json!({
        "resourceType": "Questionnaire", "url": "http://example.org/Questionnaire/ew",
        "status": "draft",
        "item": [
            {"linkId": "g", "type": "group",
             "enableWhen": [{"question": "c", "operator": "=", "answerBoolean": true}],
             "item": [{"linkId": "c", "type": "boolean"}]},
            {"linkId": "d", "type": "boolean",
             "enableWhen": [{"question": "nowhere", "operator": "exists", "answerBoolean": true}]},
            {"linkId": "e", "type": "boolean",
             "enableWhen": [{"question": "c", "operator": "=", "answerBoolean": true}]}
        ]
    })) else {
        return;
    };
    let e = errors(&issues);
    assert_eq!(
        e,
        [
            "q-enable-when-inner: An enableWhen cannot depend on an item inside its own item @ Questionnaire.item[0]",
            "q-enable-when-unknown-question: The enableWhen of 'd' depends on the question 'nowhere', which is not an item of the questionnaire @ Questionnaire.item[1]",
        ],
        "{e:?}"
    );
}

#[test]
fn logical_model_types_and_paths() {
    let Some(issues) = run(serde_json::json!({
        "resourceType": "StructureDefinition", "url": "http://example.org/StructureDefinition/Boo",
        "name": "Boo", "status": "draft", "kind": "logical", "abstract": false, "type": "Boo",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Base",
        "derivation": "specialization",
        "differential": {"element": [{"id": "Boo", "path": "Boo"}, {"id": "Foo.a", "path": "Foo.a"}]}
    })) else {
        return;
    };
    let e = errors(&issues);
    assert_eq!(
        e,
        [
            "sd-type-not-legal: The type Boo is not a FHIR type, so it needs a namespace (an absolute URL) @ StructureDefinition.type",
            "sd-path-type: The path Foo.a does not start with the type Boo of the structure @ StructureDefinition.differential.element[1]",
            "invariant-failed: Constraint sdf-8a is not met: In any differential, all the elements must start with the StructureDefinition's specified type for non-logical models, or with the same type name for logical models @ StructureDefinition.differential",
        ],
        "{e:?}"
    );
}

/// A new slice starts from the base profile's cardinality of the sliced
/// element, not from this profile's (`identifier` 1..* does not make each
/// slice required), as in the HL7 snapshot generator.
#[test]
fn new_slices_keep_the_base_cardinality() {
    let sd = serde_json::json!({
        "resourceType": "StructureDefinition", "url": "http://example.org/sd/ids", "name": "Ids",
        "status": "active", "kind": "resource", "abstract": false, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Patient.identifier", "path": "Patient.identifier", "min": 1,
             "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "open"}},
            {"id": "Patient.identifier:a", "path": "Patient.identifier", "sliceName": "a", "max": "1"},
            {"id": "Patient.identifier:a.system", "path": "Patient.identifier.system", "min": 1,
             "fixedUri": "http://example.org/a"},
            {"id": "Patient.identifier:b", "path": "Patient.identifier", "sliceName": "b", "max": "1"},
            {"id": "Patient.identifier:b.system", "path": "Patient.identifier.system", "min": 1,
             "fixedUri": "http://example.org/b"}
        ]}
    });
    let Some(v) = validator_with(&[("ids.json", sd)]) else {
        eprintln!("skipped: the registry could not be built");
        return;
    };
    let p = ["http://example.org/sd/ids".to_string()];
    let only_a = tree(&serde_json::json!({"resourceType": "Patient",
        "identifier": [{"system": "http://example.org/a", "value": "1"}]}));
    let e = errors(&v.validate(only_a.root(), &p));
    assert!(e.is_empty(), "{e:?}");
    let none = tree(&serde_json::json!({"resourceType": "Patient", "active": true}));
    let e = errors(&v.validate(none.root(), &p));
    assert!(
        e.iter()
            .any(|m| m.starts_with("too-few-occurrences: Patient.identifier: at least 1 required")),
        "{e:?}"
    );
}
