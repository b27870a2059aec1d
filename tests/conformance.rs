//! Conformance runner: every case of `../shared/fhir-test-cases/manifest.json`
//! through the library, scored against the HL7 Java validator's recorded
//! outcomes the same way `../shared/tools/conformance.py` scores the CLI
//! (verdict, error count, exact error locations, per module).
//!
//! The figures and each run's result are kept in
//! `tests/conformance/snapshot.txt`. The run fails when a run that passed
//! (verdict or exact) in the snapshot now fails. `FHIRREG_UPDATE_SNAPSHOT=1`
//! rewrites the snapshot. Skips, with a reason, when ../shared is absent.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

const SNAPSHOT: &str = "conformance/snapshot.txt";

/// One scored run: a case against its base type, or against its profile.
struct Run {
    name: String,
    module: String,
    file: String,
    loads: Vec<String>,
    profile: Option<String>,
    java: Vec<String>,
}

#[derive(Clone, Debug, Default)]
struct Score {
    verdict: bool,
    count: bool,
    exact: bool,
    got: Vec<String>,
}

fn main() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = manifest_dir.join("../../shared/fhir-test-cases");
    if !cases.join("manifest.json").is_file() {
        println!("conformance: skipped: {} is absent", cases.display());
        return;
    }
    let runs = collect_runs(&cases);
    let scores = score_all(&cases, &runs);
    let report = render(&runs, &scores);
    print!("{}", report.table);

    if let Some(path) = std::env::var_os("FHIRREG_CONFORMANCE_JSON") {
        // Same shape as conformance.py --json, to compare the two run by run.
        let rows: Vec<Value> = runs
            .iter()
            .zip(&scores)
            .map(|(run, score)| {
                serde_json::json!({"run": run.name, "module": run.module, "got": score.got,
                    "verdict": score.verdict, "count": score.count, "exact": score.exact})
            })
            .collect();
        if let Err(e) = std::fs::write(&path, Value::Array(rows).to_string()) {
            println!("cannot write {}: {e}", Path::new(&path).display());
        }
    }
    let snapshot_path = manifest_dir.join(SNAPSHOT);
    let previous = std::fs::read_to_string(&snapshot_path).unwrap_or_default();
    if std::env::var_os("FHIRREG_UPDATE_SNAPSHOT").is_some() {
        std::fs::write(&snapshot_path, &report.snapshot).expect("write snapshot");
        println!("snapshot written to {}", snapshot_path.display());
        return;
    }
    let regressions = regressions(&previous, &report.snapshot);
    if !regressions.is_empty() {
        println!("regressions against {}:", snapshot_path.display());
        for line in &regressions {
            println!("  {line}");
        }
    }
    if previous != report.snapshot && regressions.is_empty() {
        println!(
            "note: results differ from the snapshot without regressions; \
             rerun with FHIRREG_UPDATE_SNAPSHOT=1 and commit the snapshot"
        );
    }
    let exact = scores.iter().filter(|s| s.exact).count();
    println!(
        "conformance: {} passed, {} failed",
        runs.len() - regressions.len(),
        regressions.len()
    );
    println!("(exact agreement with Java: {exact}/{})", runs.len());
    if !regressions.is_empty() {
        std::process::exit(1);
    }
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The recorded outcome: a path under outcomes/ or an inline object.
fn load_outcome(cases: &Path, reference: &Value) -> Option<Value> {
    match reference {
        Value::String(path) => read_json(&cases.join("outcomes").join(path)),
        Value::Object(_) => Some(reference.clone()),
        _ => None,
    }
}

fn strip_indexes(expression: &str) -> String {
    let mut out = String::with_capacity(expression.len());
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            continue;
        }
        if c == '[' {
            let rest: String = chars.clone().take_while(|c| *c != ']').collect();
            if !rest.is_empty()
                && rest.chars().all(|c| c.is_ascii_digit())
                && chars.clone().nth(rest.len()) == Some(']')
            {
                for _ in 0..=rest.len() {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Error locations of an OperationOutcome (as conformance.py computes them).
fn error_locations(outcome: &Value) -> Option<Vec<String>> {
    let outcome = outcome.get("outcome").unwrap_or(outcome);
    if outcome.get("resourceType")?.as_str()? != "OperationOutcome" {
        return None;
    }
    let mut locations = Vec::new();
    let no_issues = Vec::new();
    let issues = outcome
        .get("issue")
        .and_then(Value::as_array)
        .unwrap_or(&no_issues);
    for issue in issues {
        let severity = issue.get("severity").and_then(Value::as_str);
        if matches!(severity, Some("error" | "fatal")) {
            let expression = issue
                .get("expression")
                .or_else(|| issue.get("location"))
                .and_then(|e| e.get(0))
                .and_then(Value::as_str)
                .unwrap_or("");
            locations.push(strip_indexes(expression));
        }
    }
    Some(locations)
}

/// The canonical URL of a StructureDefinition file (JSON or XML).
fn canonical_url(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let format = fhirreg_element::Format::sniff(&bytes)?;
    let document =
        fhirreg_element::parse(&bytes, format, &fhirreg_element::ParseOptions::default()).ok()?;
    document.root().child_value("url").map(str::to_string)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn collect_runs(cases: &Path) -> Vec<Run> {
    let manifest = read_json(&cases.join("manifest.json")).unwrap_or(Value::Null);
    let mut runs = Vec::new();
    for case in manifest["test-cases"].as_array().into_iter().flatten() {
        let (Some(name), Some(file)) = (case["name"].as_str(), case["file"].as_str()) else {
            continue;
        };
        if !cases.join(file).is_file() || case.get("use-test") == Some(&Value::Bool(false)) {
            continue;
        }
        let packages = strings(case.get("packages"));
        // Packages named by id#version live on a registry server: not offline.
        if packages.iter().any(|p| !p.ends_with(".tgz")) {
            continue;
        }
        let module = case["module"].as_str().unwrap_or("general").to_string();
        let mut loads = strings(case.get("supporting"));
        loads.extend(strings(case.get("profiles")));
        loads.extend(packages);
        if let Some(java) = case.get("java").and_then(|r| load_outcome(cases, r)) {
            if let Some(expected) = error_locations(&java) {
                runs.push(Run {
                    name: name.to_string(),
                    module: module.clone(),
                    file: file.to_string(),
                    loads: loads.clone(),
                    profile: None,
                    java: expected,
                });
            }
        }
        let Some(profile) = case.get("profile").filter(|p| p.is_object()) else {
            continue;
        };
        let (Some(source), Some(java_ref)) = (profile["source"].as_str(), profile.get("java"))
        else {
            continue;
        };
        let mut extra = strings(profile.get("supporting"));
        let url = if source.starts_with("http:") || source.starts_with("https:") {
            Some(source.to_string())
        } else {
            extra.insert(0, source.to_string());
            canonical_url(&cases.join(source))
        };
        let Some(expected) = load_outcome(cases, java_ref).and_then(|o| error_locations(&o)) else {
            continue;
        };
        let mut profile_loads = loads.clone();
        profile_loads.extend(extra);
        runs.push(Run {
            name: format!("{name}#profile"),
            module,
            file: file.to_string(),
            loads: profile_loads,
            profile: url,
            java: expected,
        });
    }
    runs
}

fn score(cases: &Path, run: &Run) -> Score {
    let mut builder = fhirreg::Validator::builder();
    let mut seen = Vec::new();
    for load in &run.loads {
        if !seen.contains(load) {
            builder = builder.load_path(cases.join(load));
            seen.push(load.clone());
        }
    }
    if let Some(profile) = &run.profile {
        builder = builder.profile(profile.clone());
    }
    // As the CLI does: a validator that cannot be built is a fatal outcome.
    let outcome = match builder.build() {
        Ok(validator) => match std::fs::read(cases.join(&run.file)) {
            Ok(bytes) => validator.validate(&bytes),
            Err(e) => fatal(e.to_string()),
        },
        Err(e) => fatal(e.to_string()),
    };
    let got = error_locations(&outcome.to_operation_outcome()).unwrap_or_default();
    let mut got_set = got.clone();
    got_set.sort();
    got_set.dedup();
    let mut want_set = run.java.clone();
    want_set.sort();
    want_set.dedup();
    Score {
        verdict: got.is_empty() == run.java.is_empty(),
        count: got.len() == run.java.len(),
        exact: got_set == want_set,
        got,
    }
}

fn fatal(message: String) -> fhirreg::Outcome {
    fhirreg::Outcome {
        issues: vec![fhirreg::Issue::new(
            fhirreg::Msg::InputUnreadable,
            fhirreg::args![message],
            "",
            None,
        )],
    }
}

/// Score every run, spread over the available cores.
fn score_all(cases: &Path, runs: &[Run]) -> Vec<Score> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = runs.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|run| {
                            std::panic::catch_unwind(|| score(cases, run)).unwrap_or_else(|_| {
                                eprintln!("PANIC in run {}", run.name);
                                Score::default()
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

struct Report {
    table: String,
    snapshot: String,
}

fn percent(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

fn render(runs: &[Run], scores: &[Score]) -> Report {
    let mut by_module: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for (run, score) in runs.iter().zip(scores) {
        let row = by_module.entry(&run.module).or_default();
        row[0] += 1;
        row[1] += score.verdict as usize;
        row[2] += score.count as usize;
        row[3] += score.exact as usize;
    }
    let mut rows: Vec<_> = by_module.into_iter().collect();
    rows.sort_by(|a, b| b.1[0].cmp(&a.1[0]).then(a.0.cmp(b.0)));
    let mut table = format!(
        "{:<20} {:>5} {:>8} {:>8} {:>8}\n",
        "module", "runs", "verdict", "count", "exact"
    );
    for (module, [runs, verdict, count, exact]) in &rows {
        table += &format!(
            "{:<20} {:>5} {:>7.1}% {:>7.1}% {:>7.1}%\n",
            module,
            runs,
            percent(*verdict, *runs),
            percent(*count, *runs),
            percent(*exact, *runs)
        );
    }
    let n = runs.len();
    let total = |f: fn(&Score) -> bool| scores.iter().filter(|s| f(s)).count();
    let (verdict, count, exact) = (total(|s| s.verdict), total(|s| s.count), total(|s| s.exact));
    table += &format!(
        "{:<20} {:>5} {:>7.1}% {:>7.1}% {:>7.1}%\n",
        "TOTAL",
        n,
        percent(verdict, n),
        percent(count, n),
        percent(exact, n)
    );
    let mut snapshot = String::from(
        "# fhirreg conformance against the HL7 Java validator's recorded outcomes\n\
         # (cargo test -p fhirreg-tests --test conformance; FHIRREG_UPDATE_SNAPSHOT=1 rewrites)\n",
    );
    snapshot += &format!("Verdict: {verdict}/{n}\nCount: {count}/{n}\nExact: {exact}/{n}\n\n");
    snapshot += &table;
    snapshot += "\n";
    let mut lines: Vec<String> = runs
        .iter()
        .zip(scores)
        .map(|(run, score)| {
            format!(
                "{} verdict:{} exact:{}",
                run.name,
                if score.verdict { "ok" } else { "FAIL" },
                if score.exact { "ok" } else { "FAIL" }
            )
        })
        .collect();
    lines.sort();
    for line in lines {
        snapshot += &line;
        snapshot += "\n";
    }
    if std::env::var_os("FHIRREG_CONFORMANCE_VERBOSE").is_some() {
        for (run, score) in runs.iter().zip(scores) {
            if !score.exact {
                table += &format!(
                    "MISS {:<50} java={:?} got={:?}\n",
                    run.name, run.java, score.got
                );
            }
        }
    }
    Report { table, snapshot }
}

/// Runs whose verdict or exact flag was `ok` in the old snapshot and is not now.
fn regressions(previous: &str, current: &str) -> Vec<String> {
    let parse = |text: &str| -> HashMap<String, (bool, bool)> {
        text.lines()
            .filter_map(|line| {
                let mut parts = line.rsplitn(3, ' ');
                let exact = parts.next()?.strip_prefix("exact:")?;
                let verdict = parts.next()?.strip_prefix("verdict:")?;
                Some((parts.next()?.to_string(), (verdict == "ok", exact == "ok")))
            })
            .collect()
    };
    let (before, now) = (parse(previous), parse(current));
    let mut lost = Vec::new();
    for (name, (verdict, exact)) in &before {
        let (verdict_now, exact_now) = now.get(name).copied().unwrap_or((false, false));
        if *verdict && !verdict_now {
            lost.push(format!("{name}: verdict no longer agrees with Java"));
        }
        if *exact && !exact_now {
            lost.push(format!("{name}: error locations no longer match Java"));
        }
    }
    lost.sort();
    lost
}
