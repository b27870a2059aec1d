//! The results of the terminology operations as FHIR `Parameters`
//! resources, shaped as the R4 OperationDefinitions specify
//! (`CodeSystem-lookup`, `ValueSet-validate-code`, `CodeSystem-subsumes`,
//! `ConceptMap-translate`). One rendering shared by the CLI and the server.

use serde_json::{json, Value};

use crate::{LookupResult, PropertyValue, Subsumption, Translation, ValidateResult};

fn parameters(parameter: Vec<Value>) -> Value {
    json!({"resourceType": "Parameters", "parameter": parameter})
}

fn string_part(name: &str, value: &str) -> Value {
    json!({"name": name, "valueString": value})
}

fn code_part(name: &str, value: &str) -> Value {
    json!({"name": name, "valueCode": value})
}

fn uri_part(name: &str, value: &str) -> Value {
    json!({"name": name, "valueUri": value})
}

fn property_value(value: &PropertyValue) -> (&'static str, Value) {
    match value {
        PropertyValue::Code(code) => ("valueCode", json!(code)),
        PropertyValue::String(text) => ("valueString", json!(text)),
        PropertyValue::Boolean(b) => ("valueBoolean", json!(b)),
        PropertyValue::Integer(i) => ("valueInteger", json!(i)),
        // Decimals travel as written; a string keeps them exact.
        PropertyValue::Decimal(text) => ("valueDecimal", json!(text)),
        PropertyValue::DateTime(text) => ("valueDateTime", json!(text)),
        PropertyValue::Coding {
            system,
            code,
            display,
        } => {
            let mut coding = json!({"code": code});
            if let Some(system) = system {
                coding["system"] = json!(system);
            }
            if let Some(display) = display {
                coding["display"] = json!(display);
            }
            ("valueCoding", coding)
        }
    }
}

/// `$lookup` output: name, version, display, definition, designations,
/// properties (incl. `parent`/`child`/`inactive`).
///
/// ```
/// let result = fhirreg_terminology::LookupResult {
///     system: "http://hl7.org/fhir/administrative-gender".into(),
///     name: "AdministrativeGender".into(),
///     code: "male".into(),
///     display: Some("Male".into()),
///     ..Default::default()
/// };
/// let p = fhirreg_terminology::parameters::lookup(&result);
/// assert_eq!(p["parameter"][0]["valueString"], "AdministrativeGender");
/// ```
pub fn lookup(result: &LookupResult) -> Value {
    let mut out = vec![string_part("name", &result.name)];
    if let Some(version) = &result.version {
        out.push(string_part("version", version));
    }
    if let Some(display) = &result.display {
        out.push(string_part("display", display));
    }
    if let Some(definition) = &result.definition {
        out.push(string_part("definition", definition));
    }
    if result.abstract_ {
        out.push(json!({"name": "abstract", "valueBoolean": true}));
    }
    for designation in &result.designations {
        let mut part = Vec::new();
        if let Some(language) = &designation.language {
            part.push(code_part("language", language));
        }
        if let Some(code) = &designation.use_code {
            let mut coding = json!({"code": code});
            if let Some(system) = &designation.use_system {
                coding["system"] = json!(system);
            }
            part.push(json!({"name": "use", "valueCoding": coding}));
        }
        part.push(string_part("value", &designation.value));
        out.push(json!({"name": "designation", "part": part}));
    }
    let property = |code: &str, value: Value| json!({"name": "property", "part": [code_part("code", code), value]});
    for (code, value) in &result.properties {
        let (key, value) = property_value(value);
        let mut part = json!({"name": "value"});
        part[key] = value;
        out.push(property(code, part));
    }
    for parent in &result.parents {
        out.push(property("parent", code_part("value", parent)));
    }
    for child in &result.children {
        out.push(property("child", code_part("value", child)));
    }
    if result.inactive {
        out.push(property(
            "inactive",
            json!({"name": "value", "valueBoolean": true}),
        ));
    }
    parameters(out)
}

/// `$validate-code` output: result, message, display, system, code,
/// version, `x-caused-by-unknown-system` when the code system was not
/// available, plus the individual issues as an OperationOutcome
/// (`issues`), as current terminology servers return it.
pub fn validate_code(result: &ValidateResult) -> Value {
    let mut out = vec![json!({"name": "result", "valueBoolean": result.valid})];
    if let Some(message) = result.message() {
        out.push(string_part("message", &message));
    }
    if let Some(display) = &result.display {
        out.push(string_part("display", display));
    }
    if let Some(system) = &result.system {
        out.push(uri_part("system", system));
    }
    if let Some(code) = &result.code {
        out.push(code_part("code", code));
    }
    if let Some(version) = &result.version {
        out.push(string_part("version", version));
    }
    // As the HL7 tools read it: the canonical of the system that was not available.
    if let (true, Some(system)) = (result.unknown, &result.system) {
        out.push(json!({"name": "x-caused-by-unknown-system", "valueCanonical": system}));
    }
    if !result.issues.is_empty() {
        let issues: Vec<Value> = result
            .issues
            .iter()
            .map(|issue| {
                let msg = issue.message.msg;
                let mut details = json!({"text": issue.message.to_string()});
                if let Some(key) = msg.java_key() {
                    details["coding"] = json!([{
                        "system": "http://hl7.org/fhir/java-core-messageId",
                        "code": key,
                    }]);
                }
                json!({
                    "extension": [{
                        "url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id",
                        "valueCode": msg.id(),
                    }],
                    "severity": issue.severity.code(),
                    "code": if issue.severity == crate::Severity::Information { "informational" } else { "code-invalid" },
                    "details": details,
                })
            })
            .collect();
        out.push(json!({
            "name": "issues",
            "resource": {"resourceType": "OperationOutcome", "issue": issues}
        }));
    }
    parameters(out)
}

/// `$subsumes` output.
pub fn subsumes(outcome: Subsumption) -> Value {
    parameters(vec![code_part("outcome", outcome.code())])
}

/// `$translate` output: result, message when nothing matched, one `match`
/// per translation.
pub fn translate(translations: &[Translation]) -> Value {
    let matched = translations.iter().any(|t| t.code.is_some());
    let mut out = vec![json!({"name": "result", "valueBoolean": matched})];
    if !matched {
        out.push(string_part("message", "No matches found"));
    }
    for translation in translations {
        let mut part = vec![code_part("equivalence", &translation.equivalence)];
        if let Some(code) = &translation.code {
            let mut coding = json!({"code": code});
            if let Some(system) = &translation.system {
                coding["system"] = json!(system);
            }
            if let Some(version) = &translation.version {
                coding["version"] = json!(version);
            }
            if let Some(display) = &translation.display {
                coding["display"] = json!(display);
            }
            part.push(json!({"name": "concept", "valueCoding": coding}));
        }
        if let Some(comment) = &translation.comment {
            part.push(string_part("comment", comment));
        }
        out.push(json!({"name": "match", "part": part}));
    }
    parameters(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_code_carries_result_and_message() {
        let result = ValidateResult {
            valid: false,
            issues: vec![crate::TxIssue {
                severity: crate::Severity::Error,
                kind: crate::IssueKind::UnknownCode,
                message: fhirreg_element::message::Message::new(
                    fhirreg_element::Msg::TxUnknownCode,
                    fhirreg_element::args!["x", "http://x/cs"],
                ),
            }],
            ..Default::default()
        };
        let p = validate_code(&result);
        assert_eq!(p["parameter"][0]["valueBoolean"], false);
        assert_eq!(
            p["parameter"][1]["valueString"],
            "The code 'x' is not defined in the code system 'http://x/cs'"
        );
        let issue = &p["parameter"][2]["resource"]["issue"][0];
        assert_eq!(issue["extension"][0]["valueCode"], "tx-unknown-code");
        assert_eq!(
            issue["details"]["coding"][0]["code"],
            "UNKNOWN_CODE_IN_CODESYSTEM"
        );
        assert_eq!(
            p["parameter"][2]["resource"]["issue"][0]["severity"],
            "error"
        );
    }

    #[test]
    fn translate_without_match_says_so() {
        let p = translate(&[]);
        assert_eq!(p["parameter"][0]["valueBoolean"], false);
        assert_eq!(p["parameter"][1]["name"], "message");
    }
}
