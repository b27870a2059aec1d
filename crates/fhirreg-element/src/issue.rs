//! Issues: what readers and validators report, shaped like an
//! OperationOutcome.issue so every layer speaks the same vocabulary.

use crate::message::{Args, Lang, Message, Msg};
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

/// One finding about a document: a message of the catalogue with its
/// arguments, where it is, and how serious it is. The text is rendered on
/// demand ([`Issue::message`], [`Issue::message_in`]).
///
/// ```
/// use fhirreg_element::message::{Lang, Msg};
/// use fhirreg_element::{args, Issue, Position, Severity};
/// let issue = Issue::new(
///     Msg::JsonDuplicateProperty,
///     args!["active"],
///     "Patient.active",
///     Some(Position::new(1, 30)),
/// );
/// assert_eq!(issue.severity, Severity::Error);
/// assert_eq!(issue.message_id(), "json-duplicate-property");
/// assert_eq!(issue.java_key(), None);
/// assert_eq!(issue.arg("name"), Some("active"));
/// assert_eq!(issue.message(), issue.message_in(Lang::En));
/// assert!(issue.message().contains("'active'"));
/// // A report may change the default severity:
/// let warning = issue.clone().with_severity(Severity::Warning);
/// assert!(!warning.severity.is_error());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Issue {
    pub severity: Severity,
    pub code: IssueType,
    /// What the issue says.
    pub msg: Msg,
    /// The arguments of [`Self::msg`], in the order of its placeholders.
    pub args: Args,
    /// FHIRPath-like location as the HL7 Java validator writes it:
    /// `Patient.identifier[0].value`. Empty when it is about the whole document.
    pub expression: String,
    /// Where in the source, when known.
    pub pos: Option<Position>,
}

impl Issue {
    /// An issue with the message's default severity and issue type.
    pub fn new(msg: Msg, args: Args, expression: impl Into<String>, pos: Option<Position>) -> Self {
        Issue {
            severity: msg.severity(),
            code: msg.issue_type(),
            msg,
            args,
            expression: expression.into(),
            pos,
        }
    }

    /// The same issue with another severity.
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The same issue with another issue type.
    pub fn with_code(mut self, code: IssueType) -> Self {
        self.code = code;
        self
    }

    /// The text, in English.
    pub fn message(&self) -> String {
        self.msg.render(Lang::En, &self.args)
    }

    /// The text in `lang`.
    pub fn message_in(&self, lang: Lang) -> String {
        self.msg.render(lang, &self.args)
    }

    /// Our stable id of the message (`unknown-property`).
    pub fn message_id(&self) -> &'static str {
        self.msg.id()
    }

    /// The HL7 Java validator's key for the message, when it has one.
    pub fn java_key(&self) -> Option<&'static str> {
        self.msg.java_key()
    }

    /// The value of the argument `name` (a placeholder of the message).
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.msg.arg(&self.args, name)
    }

    /// The message and its arguments (to quote inside another message).
    pub fn to_message(&self) -> Message {
        Message::new(self.msg, self.args.clone())
    }
}
