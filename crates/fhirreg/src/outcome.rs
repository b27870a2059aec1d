//! The result of validating one resource, and its OperationOutcome form.

use fhirreg_element::{args, Issue, Msg, Severity};
use serde_json::{json, Value};

/// Extension URLs put on each issue: where it is (line, column) and which
/// message of the catalogue it is (our id, `unknown-property`).
pub const LINE_EXTENSION: &str =
    "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line";
pub const COL_EXTENSION: &str =
    "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col";
pub const MESSAGE_ID_EXTENSION: &str =
    "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id";
/// The code system of the HL7 Java validator's message keys, as that
/// validator writes them in `issue.details.coding`; the key of the same
/// finding is given there, when it has one, for cross-reference.
pub const JAVA_MESSAGE_KEY_SYSTEM: &str = "http://hl7.org/fhir/java-core-messageId";

/// Every issue found in one resource.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub issues: Vec<Issue>,
}

impl Outcome {
    /// No error or fatal issue.
    pub fn is_valid(&self) -> bool {
        !self.issues.iter().any(|i| i.severity.is_error())
    }

    /// The number of issues of this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.issues
            .iter()
            .filter(|i| i.severity == severity)
            .count()
    }

    /// The error and fatal issues.
    pub fn errors(&self) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(|i| i.severity.is_error())
    }

    /// The outcome as a FHIR OperationOutcome (JSON). A valid resource
    /// gives one `information` issue saying so ([`Msg::NoIssues`]), as
    /// OperationOutcome needs at least one issue.
    pub fn to_operation_outcome(&self) -> Value {
        let issues: Vec<Value> = if self.issues.is_empty() {
            vec![issue_json(&Issue::new(Msg::NoIssues, args![], "", None))]
        } else {
            self.issues.iter().map(issue_json).collect()
        };
        json!({"resourceType": "OperationOutcome", "issue": issues})
    }
}

fn issue_json(issue: &Issue) -> Value {
    let mut extensions = Vec::new();
    if let Some(pos) = issue.pos {
        extensions.push(json!({"url": LINE_EXTENSION, "valueInteger": pos.line}));
        extensions.push(json!({"url": COL_EXTENSION, "valueInteger": pos.col}));
    }
    extensions.push(json!({"url": MESSAGE_ID_EXTENSION, "valueCode": issue.message_id()}));
    let mut details = json!({"text": issue.message()});
    if let Some(key) = issue.java_key() {
        details["coding"] = json!([{"system": JAVA_MESSAGE_KEY_SYSTEM, "code": key}]);
    }
    let mut value = json!({
        "extension": extensions,
        "severity": issue.severity.code(),
        "code": issue.code.code(),
        "details": details,
    });
    if !issue.expression.is_empty() {
        value["expression"] = json!([issue.expression]);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhirreg_element::Position;

    #[test]
    fn issue_carries_our_id_and_the_java_key() {
        let issue = Issue::new(
            Msg::UnknownProperty,
            args!["foo"],
            "Patient",
            Some(Position::new(1, 30)),
        );
        let oo = Outcome {
            issues: vec![issue],
        }
        .to_operation_outcome();
        let i = &oo["issue"][0];
        assert_eq!(i["severity"], "error");
        assert_eq!(i["code"], "structure");
        assert_eq!(
            i["details"]["text"],
            "The property 'foo' is not defined here"
        );
        assert_eq!(i["details"]["coding"][0]["system"], JAVA_MESSAGE_KEY_SYSTEM);
        assert_eq!(i["details"]["coding"][0]["code"], "UNRECOGNIZED_PROPERTY");
        let ext = i["extension"].as_array().cloned().unwrap_or_default();
        assert!(ext
            .iter()
            .any(|e| e["url"] == MESSAGE_ID_EXTENSION && e["valueCode"] == "unknown-property"));
        assert!(ext
            .iter()
            .any(|e| e["url"] == LINE_EXTENSION && e["valueInteger"] == 1));
        // A message without a Java key has no coding.
        let oo = Outcome {
            issues: vec![Issue::new(Msg::JsonComment, args![], "", None)],
        }
        .to_operation_outcome();
        assert!(oo["issue"][0]["details"].get("coding").is_none());
        // No issues: one information issue saying so.
        let oo = Outcome::default().to_operation_outcome();
        assert_eq!(oo["issue"][0]["severity"], "information");
        assert_eq!(oo["issue"][0]["details"]["coding"][0]["code"], "ALL_OK");
    }
}
