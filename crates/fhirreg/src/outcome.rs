//! The result of validating one resource, and its OperationOutcome form.

use std::io::{self, Write};

use fhirreg_element::{args, Issue, Lang, Msg, Severity};
use serde::{Serialize, Serializer};

use crate::json_out::JsonOut;
use serde_json::Value;

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
/// Extension on an OperationOutcome naming the validated file
/// (`valueString`), as the HL7 Java validator writes it for several inputs.
pub const FILE_EXTENSION: &str = "http://hl7.org/fhir/StructureDefinition/operationoutcome-file";
/// Extension on an OperationOutcome giving the 1-based line of an NDJSON
/// input the outcome is about (`valueInteger`). The issues' own
/// line/column extensions are positions inside that line (their line is
/// always 1).
pub const NDJSON_LINE_EXTENSION: &str =
    "https://github.com/fhirreg/fhirreg/StructureDefinition/operationoutcome-ndjson-line";

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

    /// The outcome of an input that cannot be read (malformed, not JSON or
    /// XML, over a limit): one fatal `parse-error` issue with the reason,
    /// as [`Validator::validate`](crate::Validator::validate) gives for
    /// such input. For layers that read input themselves (a binding
    /// converting its own objects to JSON).
    ///
    /// ```
    /// let outcome = fhirreg::Outcome::unreadable("nested too deep", None);
    /// assert!(!outcome.is_valid());
    /// assert_eq!(outcome.issues[0].severity, fhirreg::Severity::Fatal);
    /// assert_eq!(outcome.issues[0].message_id(), "parse-error");
    /// ```
    pub fn unreadable(
        message: impl Into<String>,
        pos: Option<fhirreg_element::Position>,
    ) -> Outcome {
        Outcome {
            issues: vec![Issue::new(Msg::ParseError, args![message.into()], "", pos)],
        }
    }

    /// The issue saying that the input is not a FHIR resource at all, if
    /// there is one: a JSON object without a `resourceType`, an XML root
    /// element outside the FHIR namespace, or a resource type that FHIR R4
    /// does not define. For callers that treat such input as an error
    /// rather than an outcome (the Wasm binding).
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// let outcome = validator.validate(br#"{"name":"not FHIR"}"#);
    /// assert_eq!(outcome.not_a_resource().unwrap().message_id(), "json-no-resource-type");
    /// let banana = validator.validate(br#"{"resourceType":"Banana"}"#);
    /// assert!(banana.not_a_resource().is_some());
    /// let patient = validator.validate(br#"{"resourceType":"Patient","active":"yes"}"#);
    /// assert!(patient.not_a_resource().is_none());
    /// ```
    pub fn not_a_resource(&self) -> Option<&Issue> {
        const NOT_A_RESOURCE: &[Msg] = &[
            Msg::JsonNoResourceType,
            Msg::JsonResourceTypeInvalid,
            Msg::XmlRootNamespace,
            Msg::XmlRootNoNamespace,
            // Reported for the top-level resource only.
            Msg::UnknownResourceType,
        ];
        self.issues.iter().find(|i| NOT_A_RESOURCE.contains(&i.msg))
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
    ///
    /// This builds a JSON tree; to write the outcome, [`Outcome::operation_outcome`]
    /// serialises the same JSON straight to a writer, with no tree (an
    /// outcome can have 100,000s of issues).
    pub fn to_operation_outcome(&self) -> Value {
        self.operation_outcome().to_value()
    }

    /// A serialisable view of the outcome as an OperationOutcome, with
    /// optional resource-level extensions; the same JSON as
    /// [`Outcome::to_operation_outcome`], written without building it.
    ///
    /// ```
    /// let outcome = fhirreg::Outcome::default();
    /// let mut out = Vec::new();
    /// outcome
    ///     .operation_outcome()
    ///     .extension_string(fhirreg::FILE_EXTENSION, "a.json")
    ///     .write_json(&mut out, false)
    ///     .unwrap();
    /// let text = String::from_utf8(out).unwrap();
    /// assert!(text.starts_with(r#"{"resourceType":"OperationOutcome","issue":[{"extension":"#));
    /// assert!(text.contains(r#""valueCode":"no-issues""#));
    /// assert!(text.ends_with(r#""valueString":"a.json"}]}"#));
    /// ```
    pub fn operation_outcome(&self) -> OperationOutcome<'_> {
        OperationOutcome {
            issues: &self.issues,
            extensions: Vec::new(),
            lang: Lang::En,
        }
    }

    /// Keep at most `max` issues (at least 1), the most severe first (in
    /// document order within a severity, so an invalid outcome stays
    /// invalid), and add one `information` issue saying how many were left
    /// out. Does nothing when there are `max` issues or fewer.
    ///
    /// ```
    /// use fhirreg::{args, Issue, Msg, Outcome, Severity};
    /// let issue = |s| Issue::new(Msg::UnknownProperty, args!["x"], "", None).with_severity(s);
    /// let mut outcome = Outcome { issues: vec![issue(Severity::Warning), issue(Severity::Error), issue(Severity::Warning)] };
    /// outcome.truncate(1);
    /// assert_eq!(outcome.issues.len(), 2);
    /// assert_eq!(outcome.issues[0].severity, Severity::Error);
    /// assert_eq!(outcome.issues[1].msg, Msg::TooManyIssues);
    /// assert!(outcome.issues[1].message().starts_with("2 more issues"));
    /// ```
    pub fn truncate(&mut self, max: usize) {
        let max = max.max(1);
        if self.issues.len() <= max {
            return;
        }
        let mut order: Vec<usize> = (0..self.issues.len()).collect();
        order.sort_by_key(|&i| (self.issues[i].severity, i));
        let mut keep = vec![false; self.issues.len()];
        for &i in order.iter().take(max) {
            keep[i] = true;
        }
        let mut left_out = [0usize; 4];
        let mut keep = keep.into_iter();
        self.issues.retain(|issue| {
            let kept = keep.next().unwrap_or(true);
            if !kept {
                left_out[severity_rank(issue.severity)] += 1;
            }
            kept
        });
        self.issues.push(issues_left_out(max, left_out));
    }
}

fn severity_rank(severity: Severity) -> usize {
    match severity {
        Severity::Fatal => 0,
        Severity::Error => 1,
        Severity::Warning => 2,
        Severity::Information => 3,
    }
}

/// The summary issue of a cut outcome ([`Outcome::truncate`]): the only
/// place that writes it.
fn issues_left_out(max: usize, [fatal, error, warning, information]: [usize; 4]) -> Issue {
    let total = fatal + error + warning + information;
    Issue::new(
        Msg::TooManyIssues,
        args![
            total.to_string(),
            max.to_string(),
            (fatal + error).to_string(),
            warning.to_string(),
            information.to_string()
        ],
        "",
        None,
    )
}

/// The value of a resource-level extension of an [`OperationOutcome`].
#[derive(Clone, Debug)]
enum ExtensionValue<'a> {
    String(&'a str),
    Integer(u64),
}

/// An [`Outcome`] as an OperationOutcome, ready to serialise (with serde or
/// [`OperationOutcome::write_json`]). Made by [`Outcome::operation_outcome`].
#[derive(Clone, Debug)]
pub struct OperationOutcome<'a> {
    issues: &'a [Issue],
    extensions: Vec<(&'a str, ExtensionValue<'a>)>,
    lang: Lang,
}

impl<'a> OperationOutcome<'a> {
    /// Write the messages (`details.text`) in `lang` (default English).
    pub fn lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    /// The OperationOutcome as a JSON tree.
    pub fn to_value(&self) -> Value {
        let mut text = Vec::new();
        let written = self.write_json(&mut text, false);
        written
            .ok()
            .and_then(|()| serde_json::from_slice(&text).ok())
            .unwrap_or(Value::Null)
    }

    /// Add an extension with a `valueString` (e.g. [`FILE_EXTENSION`]).
    pub fn extension_string(mut self, url: &'a str, value: &'a str) -> Self {
        self.extensions.push((url, ExtensionValue::String(value)));
        self
    }

    /// Add an extension with a `valueInteger` (e.g. [`NDJSON_LINE_EXTENSION`]).
    pub fn extension_integer(mut self, url: &'a str, value: u64) -> Self {
        self.extensions.push((url, ExtensionValue::Integer(value)));
        self
    }

    /// Write the OperationOutcome as JSON: pretty (two-space indent, as
    /// `serde_json::to_string_pretty`) or on one line. Nothing is built in
    /// memory besides the writer's buffer.
    pub fn write_json(&self, out: impl Write, pretty: bool) -> io::Result<()> {
        let mut json = JsonOut::new(out, pretty);
        self.write(&mut json)?;
        json.finish()
    }

    /// The one description of the OperationOutcome's JSON.
    fn write<W: Write>(&self, out: &mut JsonOut<W>) -> io::Result<()> {
        out.begin_object();
        out.entry_str("resourceType", "OperationOutcome");
        out.key("issue");
        out.begin_array();
        if self.issues.is_empty() {
            // OperationOutcome needs at least one issue.
            let no_issues = Issue::new(Msg::NoIssues, args![], "", None);
            write_issue(out, &no_issues, self.lang)?;
        }
        for issue in self.issues {
            write_issue(out, issue, self.lang)?;
        }
        out.end_array()?;
        if !self.extensions.is_empty() {
            out.key("extension");
            out.begin_array();
            for (url, value) in &self.extensions {
                out.item();
                match value {
                    ExtensionValue::String(s) => write_extension(out, url, "valueString", s)?,
                    ExtensionValue::Integer(n) => {
                        out.begin_object();
                        out.entry_str("url", url);
                        out.entry_u64("valueInteger", *n);
                        out.end_object()?;
                    }
                }
            }
            out.end_array()?;
        }
        out.end_object()
    }
}

/// Serialised through its JSON text (the shape is described once, in
/// [`OperationOutcome::write_json`]).
impl Serialize for OperationOutcome<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

/// `{"url": url, key: "value"}`.
fn write_extension<W: Write>(
    out: &mut JsonOut<W>,
    url: &str,
    key: &str,
    value: &str,
) -> io::Result<()> {
    out.begin_object();
    out.entry_str("url", url);
    out.entry_str(key, value);
    out.end_object()
}

/// One OperationOutcome.issue: line/col/message-id extensions, severity,
/// code, details (the text, and the Java key as a coding), expression.
fn write_issue<W: Write>(out: &mut JsonOut<W>, issue: &Issue, lang: Lang) -> io::Result<()> {
    out.item();
    out.begin_object();
    out.key("extension");
    out.begin_array();
    if let Some(pos) = issue.pos {
        for (url, n) in [(LINE_EXTENSION, pos.line), (COL_EXTENSION, pos.col)] {
            out.item();
            out.begin_object();
            out.entry_str("url", url);
            out.entry_u64("valueInteger", u64::from(n));
            out.end_object()?;
        }
    }
    out.item();
    write_extension(out, MESSAGE_ID_EXTENSION, "valueCode", issue.message_id())?;
    out.end_array()?;
    out.entry_str("severity", issue.severity.code());
    out.entry_str("code", issue.code.code());
    out.key("details");
    out.begin_object();
    out.entry_str("text", &issue.message_in(lang));
    if let Some(key) = issue.java_key() {
        out.key("coding");
        out.begin_array();
        out.item();
        out.begin_object();
        out.entry_str("system", JAVA_MESSAGE_KEY_SYSTEM);
        out.entry_str("code", key);
        out.end_object()?;
        out.end_array()?;
    }
    out.end_object()?;
    if !issue.expression.is_empty() {
        out.key("expression");
        out.begin_array();
        out.item();
        out.string(&issue.expression);
        out.end_array()?;
    }
    out.end_object()
}

/// A collection Bundle with one OperationOutcome per entry (`entry.resource`),
/// as the CLI reports several inputs; written as it goes, pretty or on one
/// line.
///
/// ```
/// let (a, b) = (fhirreg::Outcome::default(), fhirreg::Outcome::default());
/// let mut out = Vec::new();
/// fhirreg::write_outcome_bundle(
///     &mut out,
///     [a.operation_outcome(), b.operation_outcome()],
///     false,
/// )
/// .unwrap();
/// let bundle: serde_json::Value = serde_json::from_slice(&out).unwrap();
/// assert_eq!(bundle["type"], "collection");
/// assert_eq!(bundle["entry"][1]["resource"]["resourceType"], "OperationOutcome");
/// ```
pub fn write_outcome_bundle<'a>(
    out: impl Write,
    outcomes: impl IntoIterator<Item = OperationOutcome<'a>>,
    pretty: bool,
) -> io::Result<()> {
    let mut json = JsonOut::new(out, pretty);
    json.begin_object();
    json.entry_str("resourceType", "Bundle");
    json.entry_str("type", "collection");
    json.key("entry");
    json.begin_array();
    for outcome in outcomes {
        json.item();
        json.begin_object();
        json.key("resource");
        outcome.write(&mut json)?;
        json.end_object()?;
    }
    json.end_array()?;
    json.end_object()?;
    json.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhirreg_element::Position;
    use serde_json::json;

    /// The JSON the outcome had before it was serialised without a tree
    /// (built with `json!`): the streaming writer must give the same bytes.
    fn reference(outcome: &Outcome) -> Value {
        let no_issues = [Issue::new(Msg::NoIssues, args![], "", None)];
        let issues: Vec<Value> = {
            let list: &[Issue] = if outcome.issues.is_empty() {
                &no_issues
            } else {
                &outcome.issues
            };
            list.iter()
                .map(|issue| {
                    let mut extensions = Vec::new();
                    if let Some(pos) = issue.pos {
                        extensions.push(json!({"url": LINE_EXTENSION, "valueInteger": pos.line}));
                        extensions.push(json!({"url": COL_EXTENSION, "valueInteger": pos.col}));
                    }
                    extensions.push(
                        json!({"url": MESSAGE_ID_EXTENSION, "valueCode": issue.message_id()}),
                    );
                    let mut details = json!({"text": issue.message()});
                    if let Some(key) = issue.java_key() {
                        details["coding"] =
                            json!([{"system": JAVA_MESSAGE_KEY_SYSTEM, "code": key}]);
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
                })
                .collect()
        };
        json!({"resourceType": "OperationOutcome", "issue": issues})
    }

    fn sample() -> Outcome {
        Outcome {
            issues: vec![
                // With a Java key (coding) and characters that need escaping.
                Issue::new(
                    Msg::UnknownProperty,
                    args!["bad \"value\"\n"],
                    "Patient.active",
                    Some(Position::new(3, 14)),
                ),
                Issue::new(Msg::InternalError, args![], "", None).with_severity(Severity::Warning),
            ],
        }
    }

    #[test]
    fn streamed_json_is_byte_identical_to_the_tree() {
        for outcome in [Outcome::default(), sample()] {
            let tree = reference(&outcome);
            for pretty in [false, true] {
                let mut out = Vec::new();
                outcome
                    .operation_outcome()
                    .write_json(&mut out, pretty)
                    .unwrap();
                let expected = if pretty {
                    serde_json::to_string_pretty(&tree).unwrap()
                } else {
                    tree.to_string()
                };
                assert_eq!(String::from_utf8(out).unwrap(), expected);
            }
            assert_eq!(outcome.to_operation_outcome(), tree);
        }
    }

    #[test]
    fn extensions_follow_the_issues() {
        let outcome = sample();
        let value = serde_json::to_value(
            outcome
                .operation_outcome()
                .extension_string(FILE_EXTENSION, "x.ndjson")
                .extension_integer(NDJSON_LINE_EXTENSION, 7),
        )
        .unwrap();
        let mut expected = reference(&outcome);
        expected["extension"] = json!([
            {"url": FILE_EXTENSION, "valueString": "x.ndjson"},
            {"url": NDJSON_LINE_EXTENSION, "valueInteger": 7},
        ]);
        assert_eq!(value, expected);
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["resourceType", "issue", "extension"]);
    }

    #[test]
    fn truncate_keeps_the_most_severe_in_order_and_counts_the_rest() {
        // Each issue names itself in its (only) argument.
        let issue =
            |s, id: &str| Issue::new(Msg::UnknownProperty, args![id], "", None).with_severity(s);
        let names = |o: &Outcome| -> Vec<String> {
            o.issues
                .iter()
                .map(|i| match i.msg {
                    Msg::UnknownProperty => i.args[0].as_text().unwrap_or_default().to_string(),
                    other => other.id().to_string(),
                })
                .collect()
        };
        let mut outcome = Outcome {
            issues: vec![
                issue(Severity::Warning, "w1"),
                issue(Severity::Error, "e1"),
                issue(Severity::Information, "i1"),
                issue(Severity::Fatal, "f1"),
                issue(Severity::Error, "e2"),
                issue(Severity::Warning, "w2"),
            ],
        };
        outcome.truncate(3);
        assert_eq!(names(&outcome), ["e1", "f1", "e2", "too-many-issues"]);
        let summary = &outcome.issues[3];
        assert_eq!(summary.msg, Msg::TooManyIssues);
        let args: Vec<String> = summary
            .args
            .iter()
            .map(|a| a.as_text().unwrap_or_default().to_string())
            .collect();
        // left out, max, errors, warnings, information
        assert_eq!(args, ["3", "3", "0", "2", "1"]);
        assert_eq!(summary.severity, Severity::Information);
        assert!(
            summary.message().starts_with("3 more issues"),
            "{}",
            summary.message()
        );
        assert!(!outcome.is_valid());

        // At the limit: unchanged.
        let mut small = Outcome {
            issues: vec![issue(Severity::Warning, "w")],
        };
        small.truncate(1);
        assert_eq!(small.issues.len(), 1);

        // 0 means 1: an invalid outcome keeps an error.
        let mut zero = Outcome {
            issues: vec![issue(Severity::Warning, "w"), issue(Severity::Error, "e")],
        };
        zero.truncate(0);
        assert_eq!(names(&zero), ["e", "too-many-issues"]);
        let args: Vec<String> = zero.issues[1]
            .args
            .iter()
            .map(|a| a.as_text().unwrap_or_default().to_string())
            .collect();
        assert_eq!(args, ["1", "1", "0", "1", "0"]);
    }
}
