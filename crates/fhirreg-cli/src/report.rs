//! Writing validation results: text, OperationOutcome JSON (single, Bundle,
//! ndjson), SARIF 2.1.0 and JUnit XML.
//!
//! Text and ndjson are written as results arrive (a result is dropped once
//! written); json, SARIF and JUnit need every result first (a Bundle of one
//! outcome is not a Bundle; JUnit counts come first) and are written at
//! the end. All JSON is serialised straight to the output, never built as
//! a tree: an outcome can have 100,000s of issues.

use std::borrow::Cow;
use std::io::{self, Write};

use fhirreg::{args, Issue, Lang, Msg, Outcome, Severity, FILE_EXTENSION, NDJSON_LINE_EXTENSION};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::json;

use crate::{FileResult, OutputFormat};

/// Receives the results in input order and writes them in one format.
pub struct Reporter<W: Write> {
    out: W,
    format: OutputFormat,
    /// The language of the messages.
    lang: Lang,
    /// Results kept for the formats written at the end.
    held: Vec<FileResult>,
    unreadable: bool,
    invalid: bool,
}

impl<W: Write> Reporter<W> {
    pub fn new(out: W, format: OutputFormat, lang: Lang) -> Self {
        Reporter {
            out,
            format,
            lang,
            held: Vec::new(),
            unreadable: false,
            invalid: false,
        }
    }

    /// The next result, in input order.
    pub fn add(&mut self, result: FileResult) -> io::Result<()> {
        match &result.outcome {
            None => self.unreadable = true,
            Some(outcome) => self.invalid |= !outcome.is_valid(),
        }
        match self.format {
            OutputFormat::Text => write_text(&mut self.out, &result, self.lang),
            OutputFormat::Ndjson => {
                write_operation_outcome(&mut self.out, &result, false, self.lang)?;
                writeln!(self.out)
            }
            OutputFormat::Json | OutputFormat::Sarif | OutputFormat::Junit => {
                self.held.push(result);
                Ok(())
            }
        }
    }

    /// Push what was written so far to the output (streaming formats).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Write what the format writes at the end, and flush.
    pub fn finish(&mut self) -> io::Result<()> {
        let held = std::mem::take(&mut self.held);
        match self.format {
            OutputFormat::Text | OutputFormat::Ndjson => {}
            OutputFormat::Json => {
                if let [single] = held.as_slice() {
                    write_operation_outcome(&mut self.out, single, true, self.lang)?;
                } else {
                    let outcomes: Vec<Cow<'_, Outcome>> = held.iter().map(outcome_of).collect();
                    let views = outcomes
                        .iter()
                        .zip(&held)
                        .map(|(outcome, result)| with_source(outcome, result, self.lang));
                    fhirreg::write_outcome_bundle(&mut self.out, views, true)?;
                }
                writeln!(self.out)?;
            }
            OutputFormat::Sarif => {
                serde_json::to_writer_pretty(&mut self.out, &Sarif(&held, self.lang))?;
                writeln!(self.out)?;
            }
            OutputFormat::Junit => write_junit(&mut self.out, &held, self.lang)?,
        }
        self.out.flush()
    }

    /// Some input could not be read (or validated at all).
    pub fn unreadable(&self) -> bool {
        self.unreadable
    }

    /// Some input has an error.
    pub fn invalid(&self) -> bool {
        self.invalid
    }
}

/// The outcome of one input, with unreadable input as a fatal issue so that
/// every run yields an OperationOutcome.
fn outcome_of(result: &FileResult) -> Cow<'_, Outcome> {
    match (&result.outcome, &result.error) {
        (Some(outcome), _) => Cow::Borrowed(outcome),
        (None, error) => Cow::Owned(Outcome {
            issues: vec![Issue::new(
                Msg::InputUnreadable,
                args![error.as_deref().unwrap_or("unreadable input")],
                "",
                None,
            )],
        }),
    }
}

/// The OperationOutcome of one input: the file as an extension, and the
/// line for a line of an NDJSON input.
fn with_source<'a>(
    outcome: &'a Outcome,
    result: &'a FileResult,
    lang: Lang,
) -> fhirreg::OperationOutcome<'a> {
    let view = outcome
        .operation_outcome()
        .lang(lang)
        .extension_string(FILE_EXTENSION, &result.name);
    match result.line {
        Some(line) => view.extension_integer(NDJSON_LINE_EXTENSION, line),
        None => view,
    }
}

fn write_operation_outcome(
    out: &mut impl Write,
    result: &FileResult,
    pretty: bool,
    lang: Lang,
) -> io::Result<()> {
    let outcome = outcome_of(result);
    with_source(&outcome, result, lang).write_json(out, pretty)
}

fn write_text(out: &mut impl Write, result: &FileResult, lang: Lang) -> io::Result<()> {
    let outcome = outcome_of(result);
    let name = result.display_name();
    for issue in &outcome.issues {
        let (line, col) = issue.pos.map_or((0, 0), |p| (p.line, p.col));
        write!(
            out,
            "{}:{}:{}: {}: {}",
            name,
            line,
            col,
            issue.severity.code(),
            issue.message_in(lang)
        )?;
        if !issue.expression.is_empty() {
            write!(out, " [{}]", issue.expression)?;
        }
        writeln!(out)?;
    }
    let errors = outcome.errors().count();
    let warnings = outcome.count(Severity::Warning);
    eprintln!(
        "{}: {} ({errors} errors, {warnings} warnings)",
        name,
        if errors == 0 { "valid" } else { "invalid" }
    );
    Ok(())
}

/// SARIF 2.1.0: one run, one result per issue of every input.
struct Sarif<'a>(&'a [FileResult], Lang);

impl Serialize for Sarif<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Runs<'a>(&'a [FileResult], Lang);
        impl Serialize for Runs<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut seq = serializer.serialize_seq(Some(1))?;
                seq.serialize_element(&Run(self.0, self.1))?;
                seq.end()
            }
        }
        struct Run<'a>(&'a [FileResult], Lang);
        impl Serialize for Run<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry(
                    "tool",
                    &json!({"driver": {
                        "name": "fhirreg",
                        "version": env!("CARGO_PKG_VERSION"),
                        "informationUri": "https://github.com/fhirreg/fhirreg",
                    }}),
                )?;
                map.serialize_entry("results", &SarifResults(self.0, self.1))?;
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("$schema", "https://json.schemastore.org/sarif-2.1.0.json")?;
        map.serialize_entry("version", "2.1.0")?;
        map.serialize_entry("runs", &Runs(self.0, self.1))?;
        map.end()
    }
}

struct SarifResults<'a>(&'a [FileResult], Lang);

impl Serialize for SarifResults<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for result in self.0 {
            let outcome = outcome_of(result);
            let name = result.display_name();
            for issue in &outcome.issues {
                // One small tree per issue, written and dropped at once.
                seq.serialize_element(&sarif_result(&name, issue, self.1))?;
            }
        }
        seq.end()
    }
}

fn sarif_result(name: &str, issue: &Issue, lang: Lang) -> serde_json::Value {
    let level = match issue.severity {
        Severity::Fatal | Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Information => "note",
    };
    let mut location = json!({
        "physicalLocation": {"artifactLocation": {"uri": name}}
    });
    if let Some(pos) = issue.pos {
        location["physicalLocation"]["region"] =
            json!({"startLine": pos.line, "startColumn": pos.col});
    }
    if !issue.expression.is_empty() {
        location["logicalLocations"] = json!([{"fullyQualifiedName": issue.expression}]);
    }
    json!({
        "ruleId": issue.message_id(),
        "level": level,
        "message": {"text": issue.message_in(lang)},
        "locations": [location],
    })
}

fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn write_junit(out: &mut impl Write, results: &[FileResult], lang: Lang) -> io::Result<()> {
    let failures = results.iter().filter(|r| !outcome_of(r).is_valid()).count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuite name="fhirreg validate" tests="{}" failures="{failures}">"#,
        results.len()
    )?;
    for result in results {
        let outcome = outcome_of(result);
        let errors: Vec<&Issue> = outcome.errors().collect();
        write!(
            out,
            r#"  <testcase classname="fhirreg" name="{}""#,
            xml_escape(&result.display_name())
        )?;
        if errors.is_empty() {
            writeln!(out, "/>")?;
            continue;
        }
        writeln!(out, ">")?;
        let body: Vec<String> = errors
            .iter()
            .map(|i| {
                let pos = i.pos.map(|p| p.to_string()).unwrap_or_default();
                format!("{pos} {} [{}]", i.message_in(lang), i.expression)
            })
            .collect();
        writeln!(
            out,
            r#"    <failure message="{} error(s)">{}</failure>"#,
            errors.len(),
            xml_escape(&body.join("\n"))
        )?;
        writeln!(out, "  </testcase>")?;
    }
    writeln!(out, "</testsuite>")
}
