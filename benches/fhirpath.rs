//! FHIRPath evaluation speed, alone and side by side with fhirpath.js
//! (npm `fhirpath`, run by benches/fhirpath-js/bench.js; the whole
//! comparison is scripts/bench-fhirpath.sh).
//!
//! Two workloads, generated here and written to a JSON file that the node
//! side reads, so that both engines run the same thing:
//!
//! * (a) `Patient.name.where(use='official').given.first()` over a small
//!   patient, [`ITERATIONS_A`] times;
//! * (b) for every instance example of hl7.fhir.r4.examples (set
//!   `FHIRREG_R4_EXAMPLES`, default `target/r4-examples/package`) and every
//!   constraint (element path `P`, expression `E`) of its resource type's
//!   core StructureDefinition snapshot: `P.all(E)` on the resource, with
//!   `%resource` the resource. Each distinct expression is compiled once.
//!
//! Modes (arguments after `cargo bench -p fhirreg-benches --bench fhirpath --`):
//!
//! * none: criterion for (a), then (a) and (b) timed with `Instant`;
//! * `prepare DIR`: write `DIR/workload.json` and `DIR/rust-results.json`
//!   (one result code per evaluation: `t`rue, `f`alse, `n` empty,
//!   `e` evaluation error, `c` compile error);
//! * `report DIR`: read `DIR/node.json` (written by bench.js), keep the
//!   evaluations both engines compiled and evaluated, count disagreements,
//!   time fhirreg on that common set, run criterion for (a) and print the
//!   side-by-side table with the ratios (best pass of each side; medians
//!   in parentheses: the machine may be shared);
//! * `breakdown [no-bundles]`: the costliest invariants of (b);
//! * `loop SECONDS [no-bundles]`, `loop-a SECONDS`: (b) or (a) in a loop,
//!   for `perf record`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{black_box, Criterion};
use fhirreg::registry::DEFINITION_RESOURCE_TYPES as DEFINITION_TYPES;
use fhirreg_element::Document;
use fhirreg_fhirpath::{EvalContext, Expression, Value};
use fhirreg_registry::model::FhirPathModel;
use fhirreg_registry::Registry;
use serde_json::{json, Value as Json};

const EXPRESSION_A: &str = "Patient.name.where(use='official').given.first()";
const ITERATIONS_A: usize = 100_000;
const PATIENT_A: &str = r#"{
  "resourceType": "Patient",
  "id": "small",
  "active": true,
  "name": [
    { "use": "usual", "given": ["Jim"] },
    { "use": "official", "family": "Chalmers", "given": ["Peter", "James"] },
    { "use": "maiden", "family": "Windsor", "given": ["Peter", "James"] }
  ],
  "gender": "male",
  "birthDate": "1974-12-25"
}"#;

struct Case {
    file: String,
    resource_type: String,
    root: Document,
}

struct Workload {
    examples_dir: PathBuf,
    patient: Document,
    expressions: Vec<String>,
    /// Resource type -> indices into `expressions`, in snapshot order.
    by_type: BTreeMap<String, Vec<usize>>,
    cases: Vec<Case>,
    skipped_unreadable: usize,
}

impl Workload {
    fn exprs_of(&self, case: &Case) -> &[usize] {
        self.by_type
            .get(&case.resource_type)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    fn to_json(&self) -> Json {
        let patient: Json = serde_json::from_str(PATIENT_A).expect("patient json");
        json!({
            "a": {
                "expression": EXPRESSION_A,
                "resource": patient,
                "iterations": ITERATIONS_A,
            },
            "b": {
                "examples_dir": self.examples_dir.display().to_string(),
                "expressions": self.expressions,
                "types": self.by_type,
                "cases": self.cases.iter().map(|c| json!({
                    "file": c.file,
                    "type": c.resource_type,
                })).collect::<Vec<_>>(),
            }
        })
    }
}

fn examples_dir() -> PathBuf {
    std::env::var_os("FHIRREG_R4_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/r4-examples/package")
        })
}

fn parse_json(bytes: &[u8]) -> Option<Document> {
    fhirreg_element::json::parse(bytes, &Default::default()).ok()
}

fn build_workload(registry: &Registry) -> Workload {
    let examples_dir = examples_dir();
    let patient = parse_json(PATIENT_A.as_bytes()).expect("small patient");
    let mut files: Vec<String> = match std::fs::read_dir(&examples_dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json") && !n.starts_with("package") && !n.starts_with('.'))
            .filter(|n| !DEFINITION_TYPES.contains(&n.split('-').next().unwrap_or("")))
            .collect(),
        Err(_) => {
            eprintln!(
                "fhirpath bench: no examples at {} (run scripts/fetch-r4-examples.sh); (b) is empty",
                examples_dir.display()
            );
            Vec::new()
        }
    };
    files.sort();

    let mut expressions = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut by_type: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut cases = Vec::new();
    let mut skipped_unreadable = 0;
    for file in files {
        let Some(root) = std::fs::read(examples_dir.join(&file))
            .ok()
            .and_then(|b| parse_json(&b))
        else {
            skipped_unreadable += 1;
            continue;
        };
        let Some(resource_type) = root.root().resource_type().map(str::to_string) else {
            skipped_unreadable += 1;
            continue;
        };
        if DEFINITION_TYPES.contains(&resource_type.as_str()) {
            continue;
        }
        if !by_type.contains_key(&resource_type) {
            let mut list = Vec::new();
            if let Some(sd) = registry.type_definition(&resource_type) {
                let elements = sd.json["snapshot"]["element"].as_array().cloned();
                for element in elements.unwrap_or_default() {
                    let Some(path) = element["path"].as_str() else {
                        continue;
                    };
                    for constraint in element["constraint"].as_array().into_iter().flatten() {
                        let Some(e) = constraint["expression"].as_str() else {
                            continue;
                        };
                        let text = format!("{path}.all({e})");
                        let next = expressions.len();
                        let i = *index.entry(text.clone()).or_insert(next);
                        if i == next {
                            expressions.push(text);
                        }
                        if !list.contains(&i) {
                            list.push(i);
                        }
                    }
                }
            }
            by_type.insert(resource_type.clone(), list);
        }
        cases.push(Case {
            file,
            resource_type,
            root,
        });
    }
    Workload {
        examples_dir,
        patient,
        expressions,
        by_type,
        cases,
        skipped_unreadable,
    }
}

struct Engine {
    model: FhirPathModel,
    compiled: Vec<Option<Expression>>,
    compile_errors: Vec<(usize, String)>,
    expr_a: Expression,
}

fn compile_all(registry: &Registry, w: &Workload) -> Engine {
    let mut compile_errors = Vec::new();
    let compiled = w
        .expressions
        .iter()
        .enumerate()
        .map(|(i, e)| match Expression::compile(e) {
            Ok(x) => Some(x),
            Err(err) => {
                compile_errors.push((i, err.to_string()));
                None
            }
        })
        .collect();
    Engine {
        model: FhirPathModel::new(registry.clone()),
        compiled,
        compile_errors,
        expr_a: Expression::compile(EXPRESSION_A).expect("expression (a)"),
    }
}

fn eval_a(engine: &Engine, patient: &Document) -> Vec<String> {
    let ctx = EvalContext::new(patient.root()).with_model(&engine.model);
    match engine.expr_a.evaluate(&ctx) {
        Ok(values) => values
            .iter()
            .map(|v| match v.to_primitive() {
                Some(Value::String(s)) => s.into_owned(),
                other => format!("{other:?}"),
            })
            .collect(),
        Err(e) => vec![format!("error: {e}")],
    }
}

/// One result code per (case, expression of its type), as a string per case.
fn results(engine: &Engine, w: &Workload) -> (Vec<String>, Vec<(usize, usize, String)>) {
    let mut eval_errors = Vec::new();
    let out = w
        .cases
        .iter()
        .enumerate()
        .map(|(ci, case)| {
            w.exprs_of(case)
                .iter()
                .map(|&ei| match &engine.compiled[ei] {
                    None => 'c',
                    Some(expr) => {
                        let ctx = EvalContext::new(case.root.root()).with_model(&engine.model);
                        match expr.evaluate_bool(&ctx) {
                            Ok(Some(true)) => 't',
                            Ok(Some(false)) => 'f',
                            Ok(None) => 'n',
                            Err(e) => {
                                eval_errors.push((ci, ei, e.to_string()));
                                'e'
                            }
                        }
                    }
                })
                .collect()
        })
        .collect();
    (out, eval_errors)
}

fn ok(code: u8) -> bool {
    matches!(code, b't' | b'f' | b'n')
}

/// Nanoseconds per evaluation over timed passes (after one warm-up pass):
/// the best pass and the median pass. The machine may be shared, so the
/// best pass is the figure least disturbed by other work.
#[derive(Clone, Copy)]
struct Timing {
    best: f64,
    median: f64,
}

fn time_passes(
    evals: usize,
    min_passes: usize,
    min_time: Duration,
    mut pass: impl FnMut(),
) -> Timing {
    if evals == 0 {
        return Timing {
            best: 0.0,
            median: 0.0,
        };
    }
    pass();
    let mut samples = Vec::new();
    let start = Instant::now();
    while samples.len() < min_passes || start.elapsed() < min_time {
        let t = Instant::now();
        pass();
        samples.push(t.elapsed().as_nanos() as f64 / evals as f64);
        if samples.len() >= 50 {
            break;
        }
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    Timing {
        best: samples[0],
        median: samples[samples.len() / 2],
    }
}

fn time_a(engine: &Engine, patient: &Document) -> Timing {
    time_passes(ITERATIONS_A, 5, Duration::from_secs(1), || {
        for _ in 0..ITERATIONS_A {
            let ctx = EvalContext::new(patient.root()).with_model(&engine.model);
            black_box(engine.expr_a.evaluate(&ctx).map(|v| v.len()).ok());
        }
    })
}

fn time_b(engine: &Engine, w: &Workload, pairs: &[(usize, usize)]) -> Timing {
    time_passes(pairs.len(), 3, Duration::from_secs(2), || {
        for &(ci, ei) in pairs {
            let root = &w.cases[ci].root;
            let expr = engine.compiled[ei].as_ref().expect("compiled");
            let ctx = EvalContext::new(root.root()).with_model(&engine.model);
            black_box(expr.evaluate_bool(&ctx).ok());
        }
    })
}

fn criterion_a(engine: &Engine, patient: &Document) {
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    c.bench_function(
        "fhirpath/a: Patient.name.where(use='official').given.first()",
        |b| {
            b.iter(|| {
                let ctx = EvalContext::new(patient.root()).with_model(&engine.model);
                black_box(engine.expr_a.evaluate(&ctx).map(|v| v.len()).ok())
            })
        },
    );
    c.final_summary();
}

fn write_json(path: &Path, value: &Json) {
    let text = serde_json::to_string(value).expect("json");
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn read_json(path: &Path) -> Json {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

fn distinct_exprs(errors: &[(usize, usize, String)]) -> usize {
    let mut v: Vec<usize> = errors.iter().map(|e| e.1).collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let registry = Registry::builder().build().expect("registry");
    let start = Instant::now();
    let w = build_workload(&registry);
    let engine = compile_all(&registry, &w);
    let (rust_results, rust_eval_errors) = results(&engine, &w);
    let evaluations: usize = w.cases.iter().map(|c| w.exprs_of(c).len()).sum();
    eprintln!(
        "workload: {} examples ({} unreadable skipped), {} resource types, {} distinct expressions, {} evaluations; fhirreg: {} compile errors, {} evaluation errors; built in {:.1} s",
        w.cases.len(),
        w.skipped_unreadable,
        w.by_type.len(),
        w.expressions.len(),
        evaluations,
        engine.compile_errors.len(),
        rust_eval_errors.len(),
        start.elapsed().as_secs_f64()
    );
    match args.first().map(String::as_str) {
        Some("prepare") => {
            let dir = PathBuf::from(args.get(1).expect("prepare DIR"));
            std::fs::create_dir_all(&dir).expect("create DIR");
            write_json(&dir.join("workload.json"), &w.to_json());
            write_json(
                &dir.join("rust-results.json"),
                &json!({
                    "compile_failed": engine.compile_errors.iter().map(|e| e.0).collect::<Vec<_>>(),
                    "results": rust_results,
                    "a_result": eval_a(&engine, &w.patient),
                }),
            );
            eprintln!(
                "wrote {}/workload.json and rust-results.json",
                dir.display()
            );
        }
        Some("report") => {
            let dir = PathBuf::from(args.get(1).expect("report DIR"));
            report(&dir, &w, &engine, &rust_results, &rust_eval_errors);
        }
        Some("breakdown") => breakdown(
            &w,
            &engine,
            &rust_results,
            args.get(1).map(String::as_str) == Some("no-bundles"),
        ),
        Some("loop-a") => {
            // For profilers: (a) over and over for the given number of seconds.
            let secs: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10.0);
            let t = Instant::now();
            while t.elapsed().as_secs_f64() < secs {
                for _ in 0..ITERATIONS_A {
                    let ctx = EvalContext::new(w.patient.root()).with_model(&engine.model);
                    black_box(engine.expr_a.evaluate(&ctx).map(|v| v.len()).ok());
                }
            }
        }
        Some("loop") => {
            // For profilers: (b) over and over for the given number of seconds.
            let secs: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10.0);
            let mut pairs = pairs_where(&w, &rust_results, |r, _| ok(r), None);
            if args.get(2).map(String::as_str) == Some("no-bundles") {
                pairs.retain(|&(ci, _)| w.cases[ci].resource_type != "Bundle");
            }
            let t = Instant::now();
            while t.elapsed().as_secs_f64() < secs {
                time_passes(pairs.len(), 1, Duration::ZERO, || {
                    for &(ci, ei) in &pairs {
                        let ctx =
                            EvalContext::new(w.cases[ci].root.root()).with_model(&engine.model);
                        let expr = engine.compiled[ei].as_ref().expect("compiled");
                        black_box(expr.evaluate_bool(&ctx).ok());
                    }
                });
            }
        }
        Some(other) => {
            eprintln!(
                "usage: fhirpath [prepare DIR | report DIR | breakdown [no-bundles] | loop SECONDS [no-bundles] | loop-a SECONDS] (got {other:?})"
            );
            std::process::exit(2);
        }
        None => {
            criterion_a(&engine, &w.patient);
            let a = time_a(&engine, &w.patient);
            let pairs: Vec<(usize, usize)> = pairs_where(&w, &rust_results, |r, _| ok(r), None);
            let b = time_b(&engine, &w, &pairs);
            println!(
                "(a) {EXPRESSION_A}: best {:.0} ns/eval, median {:.0}",
                a.best, a.median
            );
            println!(
                "(b) core invariants x r4 examples: {} evaluations, best {:.0} ns/eval, median {:.0}, {:.1} ms/pass",
                pairs.len(),
                b.best,
                b.median,
                b.best * pairs.len() as f64 / 1e6
            );
        }
    }
}

/// Where (b) spends its time: the costliest expressions (and invariant
/// texts, across the paths they are repeated on) over all evaluations.
fn breakdown(w: &Workload, engine: &Engine, rust_results: &[String], no_bundles: bool) {
    let mut pairs = pairs_where(w, rust_results, |r, _| ok(r), None);
    if no_bundles {
        pairs.retain(|&(ci, _)| w.cases[ci].resource_type != "Bundle");
    }
    let mut per_expr: HashMap<usize, (f64, usize)> = HashMap::new();
    let mut total = 0.0;
    for _ in 0..3 {
        for &(ci, ei) in &pairs {
            let expr = engine.compiled[ei].as_ref().expect("compiled");
            let t = Instant::now();
            let ctx = EvalContext::new(w.cases[ci].root.root()).with_model(&engine.model);
            black_box(expr.evaluate_bool(&ctx).ok());
            let ns = t.elapsed().as_nanos() as f64 / 3.0;
            total += ns;
            let e = per_expr.entry(ei).or_default();
            e.0 += ns;
            e.1 += 1;
        }
    }
    // Group by the invariant (the text inside the outer all(...)).
    let mut per_invariant: HashMap<&str, (f64, usize)> = HashMap::new();
    for (&ei, &(ns, n)) in &per_expr {
        let text = &w.expressions[ei];
        let inner = text.split_once(".all(").map_or(text.as_str(), |x| x.1);
        let e = per_invariant.entry(inner).or_default();
        e.0 += ns;
        e.1 += n / 3;
    }
    let mut inv: Vec<_> = per_invariant.into_iter().collect();
    inv.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
    println!(
        "(b) {} evaluations, {:.1} ms per pass; costliest invariants:",
        pairs.len(),
        total / 1e6
    );
    for (text, (ns, n)) in inv.iter().take(15) {
        let short: String = text.chars().take(110).collect();
        println!(
            "  {:5.1}%  {:>6} evals  {:>9.0} ns/eval  {short}",
            100.0 * ns / total,
            n,
            ns / *n as f64
        );
    }
}

/// The (case, expression) pairs whose result codes satisfy `keep(rust, node)`.
fn pairs_where(
    w: &Workload,
    rust: &[String],
    keep: impl Fn(u8, u8) -> bool,
    node: Option<&[String]>,
) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for (ci, case) in w.cases.iter().enumerate() {
        let r = rust[ci].as_bytes();
        let n = node.map(|n| n[ci].as_bytes());
        for (k, &ei) in w.exprs_of(case).iter().enumerate() {
            if keep(r[k], n.map_or(b't', |n| n[k])) {
                pairs.push((ci, ei));
            }
        }
    }
    pairs
}

fn report(
    dir: &Path,
    w: &Workload,
    engine: &Engine,
    rust_results: &[String],
    rust_eval_errors: &[(usize, usize, String)],
) {
    let workload = read_json(&dir.join("workload.json"));
    let same = workload["b"]["expressions"].as_array().map(Vec::len) == Some(w.expressions.len())
        && workload["b"]["cases"].as_array().map(Vec::len) == Some(w.cases.len());
    assert!(
        same,
        "workload.json is not the workload this binary builds; run prepare again"
    );
    let node = read_json(&dir.join("node.json"));
    let node_results: Vec<String> = node["results"]
        .as_array()
        .expect("node.json results")
        .iter()
        .map(|r| r.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        node_results.len(),
        w.cases.len(),
        "node.json: one result string per case"
    );
    for (ci, case) in w.cases.iter().enumerate() {
        assert_eq!(
            node_results[ci].len(),
            w.exprs_of(case).len(),
            "node.json: case {ci}"
        );
    }

    // Failures by engine.
    let node_compile: Vec<usize> = node["compile_failed"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_u64())
                .map(|v| v as usize)
                .collect()
        })
        .unwrap_or_default();
    let mut node_eval_errors = Vec::new();
    for (ci, case) in w.cases.iter().enumerate() {
        for (k, &ei) in w.exprs_of(case).iter().enumerate() {
            if node_results[ci].as_bytes()[k] == b'e' {
                node_eval_errors.push((ci, ei, String::new()));
            }
        }
    }
    let common = pairs_where(w, rust_results, |r, n| ok(r) && ok(n), Some(&node_results));
    let mut disagreements = Vec::new();
    for (ci, case) in w.cases.iter().enumerate() {
        let (r, n) = (rust_results[ci].as_bytes(), node_results[ci].as_bytes());
        for (k, &ei) in w.exprs_of(case).iter().enumerate() {
            if ok(r[k]) && ok(n[k]) && r[k] != n[k] {
                disagreements.push((ci, ei, r[k] as char, n[k] as char));
            }
        }
    }
    let rust_a = eval_a(engine, &w.patient);
    let node_a: Vec<String> = node["a"]["result"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect()
        })
        .unwrap_or_default();

    criterion_a(engine, &w.patient);
    let rust_a_ns = time_a(engine, &w.patient);
    let rust_b_ns = time_b(engine, w, &common);
    let common_nb: Vec<(usize, usize)> = common
        .iter()
        .copied()
        .filter(|&(ci, _)| w.cases[ci].resource_type != "Bundle")
        .collect();
    let rust_nb_ns = time_b(engine, w, &common_nb);
    let node_nb_ns = node_timing(&node["b_without_bundles"]);
    let node_a_ns = node_timing(&node["a"]);
    let node_b_ns = node_timing(&node["b"]);
    let node_b_evals = node["b"]["evaluations"].as_u64().unwrap_or(0) as usize;

    let total: usize = rust_results.iter().map(String::len).sum();
    println!();
    println!(
        "fhirpath.js {} (node {}) vs fhirreg-fhirpath",
        node["fhirpath_version"].as_str().unwrap_or("?"),
        node["node_version"].as_str().unwrap_or("?")
    );
    println!(
        "(b) {} examples, {} distinct expressions, {} evaluations in all",
        w.cases.len(),
        w.expressions.len(),
        total
    );
    println!(
        "    dropped: compile errors: fhirreg {} expressions, fhirpath.js {} expressions",
        engine.compile_errors.len(),
        node_compile.len()
    );
    println!(
        "    dropped: evaluation errors: fhirreg {} evaluations ({} expressions), fhirpath.js {} evaluations ({} expressions)",
        rust_eval_errors.len(),
        distinct_exprs(rust_eval_errors),
        node_eval_errors.len(),
        distinct_exprs(&node_eval_errors)
    );
    println!(
        "    common set: {} evaluations; disagreements: {}",
        common.len(),
        disagreements.len()
    );
    for (ci, ei, r, n) in disagreements.iter().take(10) {
        println!(
            "      {}: {} -> fhirreg {r}, fhirpath.js {n}",
            w.cases[*ci].file, w.expressions[*ei]
        );
    }
    for (i, e) in engine.compile_errors.iter().take(5) {
        println!("      fhirreg compile error: {}: {e}", w.expressions[*i]);
    }
    let mut shown = 0;
    let mut last = usize::MAX;
    for (ci, ei, e) in rust_eval_errors {
        if *ei != last && shown < 5 {
            let text: String = w.expressions[*ei].chars().take(100).collect();
            println!(
                "      fhirreg eval error: {text}... on {}: {e}",
                w.cases[*ci].file
            );
            shown += 1;
            last = *ei;
        }
    }
    if node_b_evals != common.len() {
        println!(
            "    WARNING: fhirpath.js timed {node_b_evals} evaluations, fhirreg {}",
            common.len()
        );
    }
    println!(
        "(a) result: fhirreg {rust_a:?}, fhirpath.js {node_a:?}{}",
        if rust_a == node_a { "" } else { "  DIFFERENT" }
    );
    println!();
    println!(
        "{:<54} {:>7} {:>22} {:>22} {:>7}",
        "workload", "evals", "fhirpath.js ns (med)", "fhirreg ns (med)", "ratio"
    );
    let row = |name: &str, evals: usize, js: Timing, rs: Timing| {
        let ratio = js.best / rs.best;
        println!(
            "{:<54} {:>7} {:>13.0} ({:>6.0}) {:>13.0} ({:>6.0}) {:>6.1}x  {}",
            name,
            evals,
            js.best,
            js.median,
            rs.best,
            rs.median,
            ratio,
            if ratio >= 10.0 {
                "(10x target met)"
            } else {
                "(below the 10x target)"
            }
        );
    };
    row(
        "(a) Patient.name.where(use='official').given.first()",
        ITERATIONS_A,
        node_a_ns,
        rust_a_ns,
    );
    row(
        "(b) every core invariant x every r4 instance example",
        common.len(),
        node_b_ns,
        rust_b_ns,
    );
    row(
        "(b') the same without the Bundle examples",
        common_nb.len(),
        node_nb_ns,
        rust_nb_ns,
    );
    println!("(ns per evaluation: best pass, median pass in parentheses; ratio = fhirpath.js / fhirreg, best passes)");
}

fn node_timing(v: &Json) -> Timing {
    Timing {
        best: v["best_ns_per_eval"].as_f64().unwrap_or(f64::NAN),
        median: v["ns_per_eval"].as_f64().unwrap_or(f64::NAN),
    }
}
