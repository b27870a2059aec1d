//! `Outcome` and `Issue`: the result of validating one resource.

use std::fmt::Write as _;

use fhirreg::{Lang, Severity};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::convert;

/// One finding about a resource.
#[pyclass(module = "fhirreg", name = "Issue", frozen, eq, get_all)]
#[derive(Clone, PartialEq)]
pub struct PyIssue {
    /// `fatal`, `error`, `warning` or `information`.
    severity: &'static str,
    /// The FHIR issue type (`structure`, `code-invalid`, ...).
    code: &'static str,
    /// The text, in the validator's language.
    message: String,
    /// Our stable message id (`unknown-property`).
    message_id: &'static str,
    /// Where, as the HL7 Java validator writes it (`Patient.name[0].given`),
    /// or None for the whole document.
    expression: Option<String>,
    /// 1-based line in the source (None when unknown).
    line: Option<u32>,
    /// 1-based column in the source (None when unknown).
    column: Option<u32>,
    /// The HL7 Java validator's key for the same finding, when it has one.
    java_key: Option<&'static str>,
}

impl PyIssue {
    fn new(issue: &fhirreg::Issue, lang: Lang) -> Self {
        PyIssue {
            severity: issue.severity.code(),
            code: issue.code.code(),
            message: issue.message_in(lang),
            message_id: issue.message_id(),
            expression: (!issue.expression.is_empty()).then(|| issue.expression.clone()),
            line: issue.pos.map(|p| p.line),
            column: issue.pos.map(|p| p.col),
            java_key: issue.java_key(),
        }
    }

    fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{l}:{c}"),
            _ => String::new(),
        }
    }
}

#[pymethods]
impl PyIssue {
    /// True for `fatal` and `error`: the resource is not valid.
    #[getter]
    fn is_error(&self) -> bool {
        matches!(self.severity, "fatal" | "error")
    }

    fn __repr__(&self) -> String {
        let mut s = format!("<Issue {} {}", self.severity, self.message_id);
        if let Some(e) = &self.expression {
            let _ = write!(s, " at {e}");
        }
        let location = self.location();
        if !location.is_empty() {
            let _ = write!(s, " ({location})");
        }
        let _ = write!(s, ": {:?}>", self.message);
        s
    }

    fn __str__(&self) -> String {
        let mut s = String::new();
        let location = self.location();
        if !location.is_empty() {
            let _ = write!(s, "{location}: ");
        }
        let _ = write!(s, "{}: {}", self.severity, self.message);
        if let Some(e) = &self.expression {
            let _ = write!(s, " [{e}]");
        }
        s
    }
}

/// The result of validating one resource: `valid`, the `issues`, and the
/// OperationOutcome (`to_dict()`).
#[pyclass(module = "fhirreg", name = "Outcome", frozen)]
pub struct PyOutcome {
    outcome: fhirreg::Outcome,
    lang: Lang,
    /// The 1-based line of an NDJSON stream the outcome is about.
    line: Option<u64>,
}

impl PyOutcome {
    pub fn new(outcome: fhirreg::Outcome, lang: Lang, line: Option<u64>) -> Self {
        PyOutcome {
            outcome,
            lang,
            line,
        }
    }

    /// `1 error, 2 warnings` (information only when there is some).
    fn summary(&self) -> String {
        let (errors, warnings, information) = self.counts();
        let mut s = format!(
            "{}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        );
        if information > 0 {
            s.push_str(&format!(", {information} information"));
        }
        s
    }

    fn counts(&self) -> (usize, usize, usize) {
        let errors = self.outcome.errors().count();
        let warnings = self.outcome.count(Severity::Warning);
        let information = self.outcome.count(Severity::Information);
        (errors, warnings, information)
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Issues shown by `repr` (all are in `.issues`).
const REPR_ISSUES: usize = 10;
/// Rows of the notebook table.
const HTML_ISSUES: usize = 200;

#[pymethods]
impl PyOutcome {
    /// True when no issue is an error or fatal.
    #[getter]
    fn valid(&self) -> bool {
        self.outcome.is_valid()
    }

    /// Every issue, in document order (most severe first when the issues
    /// were capped with `max_issues`).
    #[getter]
    fn issues<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let issues = self
            .outcome
            .issues
            .iter()
            .map(|i| PyIssue::new(i, self.lang));
        PyList::new(py, issues)
    }

    /// The number of error and fatal issues.
    #[getter]
    fn error_count(&self) -> usize {
        self.counts().0
    }

    /// The number of warnings.
    #[getter]
    fn warning_count(&self) -> usize {
        self.counts().1
    }

    /// The line of the NDJSON stream this outcome is about
    /// (`Validator.validate_ndjson`), else None.
    #[getter]
    fn line(&self) -> Option<u64> {
        self.line
    }

    /// The outcome as a FHIR OperationOutcome (a dict). Each issue has
    /// `severity`, `code`, `details.text`, `expression` and the line,
    /// column and message-id extensions; a valid resource without issues
    /// gives one `information` issue saying so. An NDJSON outcome carries
    /// its line in an extension.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut oo = self.outcome.operation_outcome().lang(self.lang);
        if let Some(line) = self.line {
            oo = oo.extension_integer(fhirreg::NDJSON_LINE_EXTENSION, line);
        }
        convert::to_python(py, &oo.to_value())
    }

    /// The OperationOutcome as JSON text.
    #[pyo3(signature = (pretty = false))]
    fn to_json(&self, pretty: bool) -> String {
        let mut oo = self.outcome.operation_outcome().lang(self.lang);
        if let Some(line) = self.line {
            oo = oo.extension_integer(fhirreg::NDJSON_LINE_EXTENSION, line);
        }
        let mut out = Vec::new();
        let _ = oo.write_json(&mut out, pretty);
        String::from_utf8(out).unwrap_or_default()
    }

    fn __len__(&self) -> usize {
        self.outcome.issues.len()
    }

    fn __repr__(&self) -> String {
        let mut s = format!(
            "<Outcome {}{}: {}>",
            if self.valid() { "valid" } else { "invalid" },
            self.line
                .map(|l| format!(" (line {l})"))
                .unwrap_or_default(),
            self.summary(),
        );
        for issue in self.outcome.issues.iter().take(REPR_ISSUES) {
            let _ = write!(s, "\n  {}", PyIssue::new(issue, self.lang).__str__());
        }
        if self.outcome.issues.len() > REPR_ISSUES {
            let _ = write!(
                s,
                "\n  ... {} more",
                self.outcome.issues.len() - REPR_ISSUES
            );
        }
        s
    }

    /// A compact table for notebooks (Jupyter calls this).
    fn _repr_html_(&self) -> String {
        let (mark, colour) = if self.valid() {
            ("&#10004; valid", "#1a7f37")
        } else {
            ("&#10008; invalid", "#cf222e")
        };
        let mut s =
            format!(
            "<div class=\"fhirreg-outcome\"><p><b style=\"color:{colour}\">{mark}</b>{}: {}</p>",
            self.line.map(|l| format!(" (line {l})")).unwrap_or_default(),
            self.summary(),
        );
        if self.outcome.issues.is_empty() {
            s.push_str("</div>");
            return s;
        }
        s.push_str(
            "<table><thead><tr><th>severity</th><th>line:col</th><th>expression</th>\
             <th>message</th><th>id</th></tr></thead><tbody>",
        );
        for issue in self.outcome.issues.iter().take(HTML_ISSUES) {
            let i = PyIssue::new(issue, self.lang);
            let colour = match i.severity {
                "fatal" | "error" => "#cf222e",
                "warning" => "#9a6700",
                _ => "#57606a",
            };
            let _ = write!(
                s,
                "<tr><td style=\"color:{colour}\">{}</td><td>{}</td><td><code>{}</code></td>\
                 <td style=\"text-align:left\">{}</td><td><code>{}</code></td></tr>",
                i.severity,
                i.location(),
                escape(i.expression.as_deref().unwrap_or("")),
                escape(&i.message),
                i.message_id,
            );
        }
        s.push_str("</tbody></table>");
        if self.outcome.issues.len() > HTML_ISSUES {
            let _ = write!(
                s,
                "<p>... {} more issues</p>",
                self.outcome.issues.len() - HTML_ISSUES
            );
        }
        s.push_str("</div>");
        s
    }
}
