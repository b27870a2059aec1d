//! Issues: what readers and validators report, shaped like an
//! OperationOutcome.issue so every layer speaks the same vocabulary.

use crate::Position;

/// OperationOutcome.issue.severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Fatal,
    Error,
    Warning,
    Information,
}

impl Severity {
    /// The FHIR code (`error`, ...).
    pub fn code(self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }

    /// Fatal or error: makes the resource invalid.
    pub fn is_error(self) -> bool {
        matches!(self, Severity::Fatal | Severity::Error)
    }
}

/// OperationOutcome.issue.code (the IssueType value set), the subset the
/// validator uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IssueType {
    Invalid,
    Structure,
    Required,
    Value,
    Invariant,
    Security,
    Processing,
    NotSupported,
    Duplicate,
    NotFound,
    CodeInvalid,
    Extension,
    TooLong,
    TooCostly,
    BusinessRule,
    Conflict,
    Incomplete,
    Informational,
    Exception,
}

impl IssueType {
    /// The FHIR code (`structure`, `code-invalid`, ...).
    pub fn code(self) -> &'static str {
        match self {
            IssueType::Invalid => "invalid",
            IssueType::Structure => "structure",
            IssueType::Required => "required",
            IssueType::Value => "value",
            IssueType::Invariant => "invariant",
            IssueType::Security => "security",
            IssueType::Processing => "processing",
            IssueType::NotSupported => "not-supported",
            IssueType::Duplicate => "duplicate",
            IssueType::NotFound => "not-found",
            IssueType::CodeInvalid => "code-invalid",
            IssueType::Extension => "extension",
            IssueType::TooLong => "too-long",
            IssueType::TooCostly => "too-costly",
            IssueType::BusinessRule => "business-rule",
            IssueType::Conflict => "conflict",
            IssueType::Incomplete => "incomplete",
            IssueType::Informational => "informational",
            IssueType::Exception => "exception",
        }
    }
}

/// One finding about a document.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub severity: Severity,
    pub code: IssueType,
    /// A stable identifier of the message kind (e.g. `UNKNOWN_ELEMENT`),
    /// used for translation and filtering.
    pub message_id: &'static str,
    /// The human-readable message (English).
    pub message: String,
    /// FHIRPath-like location as the HL7 Java validator writes it:
    /// `Patient.identifier[0].value`. Empty when it is about the whole document.
    pub expression: String,
    /// Where in the source, when known.
    pub pos: Option<Position>,
}

impl Issue {
    pub fn new(
        severity: Severity,
        code: IssueType,
        message_id: &'static str,
        message: impl Into<String>,
        expression: impl Into<String>,
        pos: Option<Position>,
    ) -> Self {
        Issue {
            severity,
            code,
            message_id,
            message: message.into(),
            expression: expression.into(),
            pos,
        }
    }

    /// An error.
    pub fn error(
        code: IssueType,
        message_id: &'static str,
        message: impl Into<String>,
        expression: impl Into<String>,
        pos: Option<Position>,
    ) -> Self {
        Issue::new(Severity::Error, code, message_id, message, expression, pos)
    }
}
