//! Writing validation results: text, OperationOutcome JSON (single, Bundle,
//! ndjson), SARIF 2.1.0 and JUnit XML.

use std::io::{self, Write};

use fhirreg::{args, Issue, Msg, Severity};
use serde_json::{json, Value};

use crate::{FileResult, OutputFormat};

/// Extension naming the validated file on each OperationOutcome of a Bundle.
const FILE_EXTENSION: &str = "http://hl7.org/fhir/StructureDefinition/operationoutcome-file";

pub fn write(out: &mut impl Write, format: OutputFormat, results: &[FileResult]) -> io::Result<()> {
    match format {
        OutputFormat::Text => write_text(out, results),
        OutputFormat::Json => {
            let value = if let [single] = results {
                operation_outcome(single)
            } else {
                json!({
                    "resourceType": "Bundle",
                    "type": "collection",
                    "entry": results.iter().map(|r| json!({"resource": operation_outcome(r)})).collect::<Vec<_>>(),
                })
            };
            writeln!(out, "{}", pretty(&value))
        }
        OutputFormat::Ndjson => {
            for result in results {
                writeln!(out, "{}", operation_outcome(result))?;
            }
            Ok(())
        }
        OutputFormat::Sarif => writeln!(out, "{}", pretty(&sarif(results))),
        OutputFormat::Junit => write_junit(out, results),
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// The issues of one input, with unreadable input as a fatal issue so that
/// every run yields an OperationOutcome.
fn issues_of(result: &FileResult) -> Vec<Issue> {
    match (&result.outcome, &result.error) {
        (Some(outcome), _) => outcome.issues.clone(),
        (None, error) => vec![Issue::new(
            Msg::InputUnreadable,
            args![error.as_deref().unwrap_or("unreadable input")],
            "",
            None,
        )],
    }
}

fn operation_outcome(result: &FileResult) -> Value {
    let outcome = fhirreg::Outcome {
        issues: issues_of(result),
    };
    let mut value = outcome.to_operation_outcome();
    value["extension"] = json!([{"url": FILE_EXTENSION, "valueString": result.name}]);
    value
}

fn write_text(out: &mut impl Write, results: &[FileResult]) -> io::Result<()> {
    for result in results {
        let issues = issues_of(result);
        for issue in &issues {
            let (line, col) = issue.pos.map_or((0, 0), |p| (p.line, p.col));
            write!(
                out,
                "{}:{}:{}: {}: {}",
                result.name,
                line,
                col,
                issue.severity.code(),
                issue.message()
            )?;
            if !issue.expression.is_empty() {
                write!(out, " [{}]", issue.expression)?;
            }
            writeln!(out)?;
        }
        let errors = issues.iter().filter(|i| i.severity.is_error()).count();
        let warnings = issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
            .count();
        eprintln!(
            "{}: {} ({errors} errors, {warnings} warnings)",
            result.name,
            if errors == 0 { "valid" } else { "invalid" }
        );
    }
    Ok(())
}

fn sarif(results: &[FileResult]) -> Value {
    let mut sarif_results = Vec::new();
    for result in results {
        for issue in issues_of(result) {
            let level = match issue.severity {
                Severity::Fatal | Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Information => "note",
            };
            let mut location = json!({
                "physicalLocation": {"artifactLocation": {"uri": result.name}}
            });
            if let Some(pos) = issue.pos {
                location["physicalLocation"]["region"] =
                    json!({"startLine": pos.line, "startColumn": pos.col});
            }
            if !issue.expression.is_empty() {
                location["logicalLocations"] = json!([{"fullyQualifiedName": issue.expression}]);
            }
            sarif_results.push(json!({
                "ruleId": issue.message_id(),
                "level": level,
                "message": {"text": issue.message()},
                "locations": [location],
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "fhirreg",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/fhirreg/fhirreg",
            }},
            "results": sarif_results,
        }]
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

fn write_junit(out: &mut impl Write, results: &[FileResult]) -> io::Result<()> {
    let failures = results
        .iter()
        .filter(|r| issues_of(r).iter().any(|i| i.severity.is_error()))
        .count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuite name="fhirreg validate" tests="{}" failures="{failures}">"#,
        results.len()
    )?;
    for result in results {
        let issues = issues_of(result);
        let errors: Vec<&Issue> = issues.iter().filter(|i| i.severity.is_error()).collect();
        write!(
            out,
            r#"  <testcase classname="fhirreg" name="{}""#,
            xml_escape(&result.name)
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
                format!("{pos} {} [{}]", i.message(), i.expression)
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
