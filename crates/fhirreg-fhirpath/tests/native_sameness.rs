//! The native evaluation of common invariant shapes (`Expression::compile`)
//! gives exactly the interpreter's results (`Expression::compile_interpreted`),
//! errors included, on the R4 examples (`$FHIRREG_R4_EXAMPLES`, see
//! scripts/fetch-r4-examples.sh):
//!
//! * every example, every element of it, every invariant of the core
//!   definitions that applies there (those of its element definition and
//!   of its type) that has a native form;
//! * every element of a sample of the examples (one in 100), every native
//!   invariant of the core definitions whether it applies or not, and the
//!   shapes below;
//!
//! each in four contexts: with the definition model (the focus type given,
//! as the validator gives it, and computed by the engine), without it, and
//! with a limit of two items per collection (where the native forms must
//! leave the decision to the interpreter).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use fhirreg_element::{Element, ParseOptions};
use fhirreg_fhirpath::{ElementType, EvalContext, EvalError, Expression, Limits, ModelInfo, Value};
use fhirreg_registry::model::FhirPathModel;
use fhirreg_registry::{Registry, Resource};

/// Shapes the core invariants may not have, or not on the elements they
/// apply to: choice types, several items, deep paths, comparisons.
const SHAPES: &[&str] = &[
    "value.exists()",
    "value.empty() or extension.exists()",
    "extension.exists() != value.exists()",
    "hasValue() or (children().count() > id.count())",
    "children().count() >= 3 and extension.count() < 2",
    "extension.count() = 1 or modifierExtension.count() != 0",
    "id.hasValue() and url.hasValue().not()",
    "name.given.exists() xor name.family.exists()",
    "contained.meta.versionId.empty() implies text.div.exists()",
    "entry.resource.meta.lastUpdated.exists() or entry.request.exists()",
    "code.coding.system.hasValue()",
    "effective.exists() or issued.empty()",
    "onset.empty() or abatement.empty()",
    "valueQuantity.exists() or valueString.empty()",
    "reference.startsWith('#').not() or reference.contains('/')",
    "url.startsWith('http') and url.endsWith('/') = false",
    "system.contains(':') or system.empty()",
    "status = 'active' or status != 'draft'",
    "resourceType = 'Patient' or id = 'example'",
    "use = 'official' implies value.exists()",
    "`div`.exists() implies status.exists()",
    "id.startsWith('a') or hasValue()",
    "(code.exists() and system.empty()).not()",
    "text.exists() or text.empty().not()",
    "given.startsWith('J')",
    "type = 'batch' or type = 'transaction'",
];

fn core_expressions(registry: &Registry) -> BTreeMap<String, Vec<String>> {
    // Expressions by snapshot element path (a type name for the roots).
    let mut by_path: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let urls: Vec<String> = registry
        .structure_definitions()
        .filter(|s| s.derivation() != Some("constraint"))
        .filter_map(|s| s.url().map(str::to_owned))
        .collect();
    for url in urls {
        let Some(sd): Option<Arc<Resource>> = registry.resolve(&url) else {
            continue;
        };
        let Some(elements) = sd
            .json
            .pointer("/snapshot/element")
            .and_then(|e| e.as_array())
        else {
            continue;
        };
        for e in elements {
            let path = e["path"].as_str().unwrap_or_default();
            for c in e["constraint"]
                .as_array()
                .map(|v| v.as_slice())
                .unwrap_or(&[])
            {
                if let Some(expr) = c["expression"].as_str() {
                    let list = by_path.entry(path.to_string()).or_default();
                    if !list.iter().any(|x| x == expr) {
                        list.push(expr.to_string());
                    }
                }
            }
        }
    }
    by_path
}

struct Pair {
    native: Expression,
    interpreted: Expression,
}

/// A result to compare: the boolean, or the error, and `evaluate`'s items
/// (`None` for an item that is not a boolean).
type Outcome = (
    Result<Option<bool>, EvalError>,
    Result<Vec<Option<bool>>, EvalError>,
);

fn outcome(e: &Expression, ctx: &EvalContext<'_>) -> Outcome {
    let items = e.evaluate(ctx).map(|v| {
        v.iter()
            .map(|x| match x {
                Value::Boolean(b) => Some(*b),
                _ => None,
            })
            .collect()
    });
    (e.evaluate_bool(ctx), items)
}

/// The nearest resource at or above `e`.
fn resource_of(e: Element<'_>) -> Element<'_> {
    let mut cur = e;
    loop {
        if cur.is_resource() {
            return cur;
        }
        match cur.parent() {
            Some(p) => cur = p,
            None => return cur,
        }
    }
}

struct Checker<'m> {
    model: &'m FhirPathModel,
    evaluations: AtomicUsize,
    native_checked: AtomicUsize,
    mismatches: Mutex<Vec<String>>,
}

impl Checker<'_> {
    fn check(&self, file: &str, pair: &Pair, el: Element<'_>, ty: Option<&Arc<ElementType>>) {
        let resource = resource_of(el);
        let root = el.document().root();
        let tight = Limits {
            max_items: 2,
            ..Limits::default()
        };
        let base = || {
            EvalContext::new(resource)
                .with_root_resource(root)
                .with_focus(el, None)
        };
        let contexts = [
            ("model", base().with_model(self.model)),
            (
                "model+type",
                EvalContext::new(resource)
                    .with_root_resource(root)
                    .with_focus(el, ty.cloned())
                    .with_model(self.model),
            ),
            ("no model", base()),
            (
                "max_items 2",
                base().with_model(self.model).with_limits(tight),
            ),
        ];
        for (name, ctx) in &contexts {
            let a = outcome(&pair.native, ctx);
            let b = outcome(&pair.interpreted, ctx);
            self.evaluations.fetch_add(1, Ordering::Relaxed);
            if a != b {
                let mut m = self.mismatches.lock().unwrap();
                if m.len() < 1000 {
                    m.push(format!(
                        "{file} {} ({name}) `{}`: native {a:?}, interpreter {b:?}",
                        el.name(),
                        pair.native.source()
                    ));
                }
            }
        }
    }
}

/// The type of each element of the tree (as navigation types it).
fn typed<'d>(
    model: &FhirPathModel,
    root: Element<'d>,
) -> Vec<(Element<'d>, Option<Arc<ElementType>>)> {
    let mut out = Vec::new();
    let mut stack = vec![(root, root.resource_type().and_then(|t| model.type_named(t)))];
    while let Some((e, t)) = stack.pop() {
        for c in e.children() {
            let ct = match c.resource_type() {
                Some(rt) => model.type_named(rt),
                None => t.as_ref().and_then(|p| model.child_type(p, c.name())),
            };
            stack.push((c, ct));
        }
        out.push((e, t));
    }
    out
}

#[test]
fn native_forms_match_the_interpreter_on_r4_examples() {
    let Ok(dir) = std::env::var("FHIRREG_R4_EXAMPLES") else {
        println!("skipped: FHIRREG_R4_EXAMPLES is not set (scripts/fetch-r4-examples.sh)");
        return;
    };
    let registry = Registry::builder().build().expect("embedded core");
    let model = FhirPathModel::new(registry.clone());
    let compile = |src: &str| -> Option<Arc<Pair>> {
        let native = Expression::compile(src).ok()?;
        native.is_native().then(|| {
            Arc::new(Pair {
                interpreted: Expression::compile_interpreted(src).expect("compiles"),
                native,
            })
        })
    };
    let mut pairs: HashMap<String, Arc<Pair>> = HashMap::new();
    let mut by_path: HashMap<String, Vec<Arc<Pair>>> = HashMap::new();
    let (mut core, mut core_native) = (BTreeSet::new(), 0usize);
    for (path, exprs) in core_expressions(&registry) {
        for src in exprs {
            if core.insert(src.clone()) {
                if let Some(p) = compile(&src) {
                    pairs.insert(src.clone(), p);
                    core_native += 1;
                }
            }
            if let Some(p) = pairs.get(&src) {
                by_path.entry(path.clone()).or_default().push(p.clone());
            }
        }
    }
    let mut all: Vec<Arc<Pair>> = pairs.values().cloned().collect();
    for src in SHAPES {
        all.push(compile(src).unwrap_or_else(|| panic!("no native form: {src}")));
    }
    println!(
        "{} distinct core invariants, {core_native} with a native form",
        core.len()
    );
    assert!(core_native > 100, "only {core_native} native forms");
    for key in ["contained.contained.empty()", "text.`div`.exists()"] {
        assert!(pairs.contains_key(key), "no native form for {key}");
    }

    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("package.json"))
        .collect();
    files.sort();
    let checker = Checker {
        model: &model,
        evaluations: AtomicUsize::new(0),
        native_checked: AtomicUsize::new(0),
        mismatches: Mutex::new(Vec::new()),
    };
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(f) = files.get(i) else { break };
                let Ok(bytes) = std::fs::read(f) else {
                    continue;
                };
                let Ok(doc) = fhirreg_element::json::parse(&bytes, &ParseOptions::default()) else {
                    continue;
                };
                let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("?");
                let sample = i.is_multiple_of(100);
                for (el, ty) in typed(&model, doc.root()) {
                    if sample {
                        for p in &all {
                            checker.check(name, p, el, ty.as_ref());
                        }
                        continue;
                    }
                    let Some(t) = &ty else { continue };
                    // The element's own path, then its type's (once when they are the same).
                    let keys: &[&String] = if t.path == t.type_name {
                        &[&t.path]
                    } else {
                        &[&t.path, &t.type_name]
                    };
                    for key in keys {
                        for p in by_path.get(key.as_str()).into_iter().flatten() {
                            checker.check(name, p, el, ty.as_ref());
                            checker.native_checked.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    let mismatches = checker.mismatches.into_inner().unwrap();
    println!(
        "{} files, {} evaluations ({} of applicable invariants, x4 contexts), {} mismatches",
        files.len(),
        checker.evaluations.load(Ordering::Relaxed),
        checker.native_checked.load(Ordering::Relaxed),
        mismatches.len()
    );
    for m in mismatches.iter().take(40) {
        println!("MISMATCH {m}");
    }
    assert!(
        checker.native_checked.load(Ordering::Relaxed) > 100_000,
        "too few evaluations"
    );
    assert!(mismatches.is_empty(), "{} mismatches", mismatches.len());
}
