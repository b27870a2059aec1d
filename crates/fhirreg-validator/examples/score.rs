//! Scores the validator against the HL7 Java validator's recorded outcomes
//! in a fhir-test-cases folder (manifest.json + outcomes/java).
//!
//! ```text
//! cargo run --release -p fhirreg-validator --example score -- [CASES_DIR] [--verbose] [--filter NAME]
//! ```
//!
//! Prints verdict agreement (valid/invalid as Java) and exact-location
//! agreement (set of error expressions, indices removed), like
//! `shared/tools/conformance.py` does for the CLI.

use fhirreg_element::{Format, Issue, IssueType, ParseOptions, Severity};
use fhirreg_registry::Registry;
use fhirreg_validator::{Validator, ValidatorOptions};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn norm(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut skip = false;
    for c in expr.chars() {
        match c {
            '[' => skip = true,
            ']' if skip => skip = false,
            ' ' => {}
            _ if skip && c.is_ascii_digit() => {}
            _ => {
                if skip {
                    // not an index: keep what was skipped
                    skip = false;
                    out.push('[');
                }
                out.push(c);
            }
        }
    }
    out
}

fn java_errors(outcome: &Value) -> Option<Vec<(String, String)>> {
    let oo = outcome.get("outcome").unwrap_or(outcome);
    if oo.get("resourceType").and_then(Value::as_str) != Some("OperationOutcome") {
        return None;
    }
    let mut out = Vec::new();
    for issue in oo
        .get("issue")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let sev = issue.get("severity").and_then(Value::as_str).unwrap_or("");
        if sev == "error" || sev == "fatal" {
            let expr = issue
                .get("expression")
                .or_else(|| issue.get("location"))
                .and_then(|e| e.get(0))
                .and_then(Value::as_str)
                .unwrap_or("");
            let text = issue
                .pointer("/details/text")
                .and_then(Value::as_str)
                .unwrap_or("");
            out.push((norm(expr), text.to_string()));
        }
    }
    Some(out)
}

fn load(cases: &Path, r: &Value) -> Option<Value> {
    match r {
        Value::String(s) => {
            let text = std::fs::read_to_string(cases.join("outcomes").join(s)).ok()?;
            serde_json::from_str(&text).ok()
        }
        Value::Object(_) => Some(r.clone()),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn canonical_url(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let doc =
        fhirreg_element::parse(&bytes, Format::sniff(&bytes)?, &ParseOptions::default()).ok()?;
    doc.root.child_value("url").map(String::from)
}

fn run(
    cases: &Path,
    file: &str,
    loads: &[String],
    profile: Option<&str>,
    options: ValidatorOptions,
) -> Vec<Issue> {
    let mut b = Registry::builder();
    for l in loads {
        b = b.add_path(cases.join(l));
    }
    let registry = match b.build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("  registry: {e}");
            Registry::builder().build().unwrap_or_default()
        }
    };
    let validator = Validator::new(registry, options);
    let Ok(bytes) = std::fs::read(cases.join(file)) else {
        return Vec::new();
    };
    let fatal = |m: String| {
        vec![Issue::new(
            Severity::Fatal,
            IssueType::Structure,
            "PARSE",
            m,
            "",
            None,
        )]
    };
    let Some(format) = Format::sniff(&bytes) else {
        return fatal("not JSON or XML".into());
    };
    match fhirreg_element::parse(&bytes, format, &ParseOptions::default()) {
        Err(e) => fatal(e.to_string()),
        Ok(doc) => {
            let mut issues = doc.issues;
            let profiles: Vec<String> = profile.into_iter().map(String::from).collect();
            issues.extend(validator.validate(&doc.root, &profiles));
            issues
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut cases = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fhir-test-cases"
    ));
    let mut verbose = false;
    let mut filter = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--verbose" => verbose = true,
            "--filter" => filter = args.next(),
            _ => cases = PathBuf::from(a),
        }
    }
    let Ok(text) = std::fs::read_to_string(cases.join("manifest.json")) else {
        eprintln!("skipped: no manifest.json in {}", cases.display());
        return;
    };
    let Ok(manifest) = serde_json::from_str::<Value>(&text) else {
        eprintln!("manifest.json is not JSON");
        std::process::exit(2);
    };
    let (mut total, mut verdict, mut exact, mut fp, mut fneg) = (0, 0, 0, 0, 0);
    let start = std::time::Instant::now();
    for case in manifest
        .get("test-cases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = case.get("name").and_then(Value::as_str).unwrap_or("");
        let file = case.get("file").and_then(Value::as_str).unwrap_or("");
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        if case.get("use-test").and_then(Value::as_bool) == Some(false)
            || !cases.join(file).is_file()
        {
            continue;
        }
        let packages = strings(case.get("packages"));
        if packages.iter().any(|p| !p.ends_with(".tgz")) {
            continue;
        }
        let mut loads = strings(case.get("supporting"));
        loads.extend(strings(case.get("profiles")));
        loads.extend(packages);
        let mut runs = vec![(
            name.to_string(),
            loads.clone(),
            None,
            case.get("java").cloned(),
        )];
        if let Some(p) = case.get("profile").filter(|p| p.is_object()) {
            if let (Some(src), Some(java)) =
                (p.get("source").and_then(Value::as_str), p.get("java"))
            {
                let mut l = loads.clone();
                let url = if src.starts_with("http:") || src.starts_with("https:") {
                    Some(src.to_string())
                } else {
                    l.push(src.to_string());
                    canonical_url(&cases.join(src))
                };
                l.extend(strings(p.get("supporting")));
                runs.push((format!("{name}#profile"), l, url, Some(java.clone())));
            }
        }
        for (run_name, loads, url, java) in runs {
            let Some(want) = java
                .as_ref()
                .and_then(|j| load(&cases, j))
                .and_then(|o| java_errors(&o))
            else {
                continue;
            };
            let mut options = ValidatorOptions::default();
            if let Some(d) = case.get("allowed-extension-domain").and_then(Value::as_str) {
                options.extension_domains.push(d.to_string());
            }
            options
                .extension_domains
                .extend(strings(case.get("allowed-extension-domains")));
            let issues = run(&cases, file, &loads, url.as_deref(), options);
            let got: Vec<&Issue> = issues.iter().filter(|i| i.severity.is_error()).collect();
            total += 1;
            let v_ok = got.is_empty() == want.is_empty();
            let got_set: BTreeSet<String> = got.iter().map(|i| norm(&i.expression)).collect();
            let want_set: BTreeSet<String> = want.iter().map(|w| w.0.clone()).collect();
            let e_ok = got_set == want_set;
            verdict += usize::from(v_ok);
            exact += usize::from(e_ok);
            if !v_ok {
                if want.is_empty() {
                    fp += 1;
                } else {
                    fneg += 1;
                }
            }
            if verbose && (!v_ok || !e_ok) {
                println!("{} {run_name}", if v_ok { "LOC " } else { "FAIL" });
                for w in &want {
                    println!(
                        "   java: {} | {}",
                        w.0,
                        w.1.chars().take(150).collect::<String>()
                    );
                }
                for g in &got {
                    println!(
                        "   ours: {} | {}",
                        norm(&g.expression),
                        g.message.chars().take(150).collect::<String>()
                    );
                }
            }
        }
    }
    let pct = |n: usize| n as f64 * 100.0 / total.max(1) as f64;
    println!(
        "runs: {total}  verdict: {verdict} ({:.1}%)  exact: {exact} ({:.1}%)  false-invalid: {fp}  missed-invalid: {fneg}  ({:.1}s)",
        pct(verdict),
        pct(exact),
        start.elapsed().as_secs_f64()
    );
}
