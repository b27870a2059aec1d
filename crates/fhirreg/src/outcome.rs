//! The result of validating one resource, and its OperationOutcome form.

use fhirreg_element::{Issue, Severity};
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
    /// gives one `information` issue saying so, as OperationOutcome
    /// needs at least one issue.
    pub fn to_operation_outcome(&self) -> Value {
        let issues: Vec<Value> = if self.issues.is_empty() {
            vec![json!({
                "severity": "information",
                "code": "informational",
                "details": {"text": "All OK"}
            })]
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
