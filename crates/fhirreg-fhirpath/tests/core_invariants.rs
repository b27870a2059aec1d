//! The invariants of the R4 core StructureDefinitions: all compile, and on
//! the R4 examples (`$FHIRREG_R4_EXAMPLES`, see scripts/fetch-r4-examples.sh)
//! they evaluate without errors.

use std::collections::BTreeMap;
use std::sync::Arc;

use fhirreg_element::{Element, ParseOptions};
use fhirreg_fhirpath::{EvalContext, Expression};
use fhirreg_registry::model::FhirPathModel;
use fhirreg_registry::{Registry, Resource};

/// (SD type, element path, key, expression) of every core invariant.
fn core_invariants(registry: &Registry) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    let urls: Vec<String> = registry
        .structure_definitions()
        .filter(|s| s.derivation() != Some("constraint"))
        .filter_map(|s| s.url().map(str::to_owned))
        .collect();
    for url in urls {
        let Some(sd): Option<Arc<Resource>> = registry.resolve(&url) else {
            continue;
        };
        let ty = sd.json["type"].as_str().unwrap_or_default().to_string();
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
                    let key = c["key"].as_str().unwrap_or_default().to_string();
                    out.push((ty.clone(), path.to_string(), key, expr.to_string()));
                }
            }
        }
    }
    out
}

#[test]
fn all_core_invariants_compile() {
    let registry = Registry::builder().build().expect("embedded core");
    let invariants = core_invariants(&registry);
    assert!(
        invariants.len() > 500,
        "only {} invariants found",
        invariants.len()
    );
    let failures: Vec<String> = invariants
        .iter()
        .filter_map(|(_, path, key, expr)| {
            Expression::compile(expr)
                .err()
                .map(|e| format!("{path} {key}: {expr}: {e}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} invariants do not compile:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn core_invariants_evaluate_on_r4_examples() {
    let Ok(dir) = std::env::var("FHIRREG_R4_EXAMPLES") else {
        println!("skipped: FHIRREG_R4_EXAMPLES is not set (scripts/fetch-r4-examples.sh)");
        return;
    };
    let registry = Registry::builder().build().expect("embedded core");
    let model = FhirPathModel::new(registry.clone());
    let mut by_type: BTreeMap<String, Vec<(String, String, Expression)>> = BTreeMap::new();
    for (ty, path, key, expr) in core_invariants(&registry) {
        if ty.starts_with(|c: char| c.is_ascii_uppercase()) {
            if let Ok(e) = Expression::compile(&expr) {
                by_type.entry(ty).or_default().push((path, key, e));
            }
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("package.json"))
        .collect();
    files.sort();
    // A sample keeps the debug-build run short; every 40th example.
    let files: Vec<_> = files.into_iter().step_by(40).collect();
    let (mut evaluated, mut falses) = (0usize, 0usize);
    let mut errors = Vec::new();
    for f in &files {
        let Ok(bytes) = std::fs::read(f) else {
            continue;
        };
        let Ok(doc) = fhirreg_element::json::parse(&bytes, &ParseOptions::default()) else {
            continue;
        };
        let root = doc.root();
        let Some(rt) = root.resource_type().map(str::to_string) else {
            continue;
        };
        let Some(invs) = by_type.get(&rt) else {
            continue;
        };
        for (path, key, expr) in invs {
            // Find the focus elements: the path as a FHIRPath expression.
            let nav = path.replace("[x]", "");
            let Ok(nav_expr) = Expression::compile(&nav) else {
                continue;
            };
            let ctx = EvalContext::new(root).with_model(&model);
            let Ok(foci) = nav_expr.evaluate(&ctx) else {
                continue;
            };
            let foci: Vec<Element> = foci.iter().filter_map(|v| v.as_element()).collect();
            for focus in foci {
                let ctx = EvalContext::new(root)
                    .with_focus(focus, None)
                    .with_model(&model);
                evaluated += 1;
                match expr.evaluate_bool(&ctx) {
                    Ok(Some(false)) => {
                        falses += 1;
                        if std::env::var("FHIRPATH_SHOW_FALSE").is_ok() {
                            println!("FALSE {}: {path} {key}", f.display());
                        }
                    }
                    Ok(_) => {}
                    Err(e) => errors.push(format!(
                        "{}: {path} {key}: {}: {e}",
                        f.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
                        expr.source()
                    )),
                }
            }
        }
    }
    println!(
        "{evaluated} invariant evaluations on {} files, {falses} false, {} errors",
        files.len(),
        errors.len()
    );
    for e in errors.iter().take(40) {
        println!("ERROR {e}");
    }
    assert!(evaluated > 500, "too few evaluations: {evaluated}");
    assert!(
        errors.is_empty(),
        "{} invariant evaluations failed",
        errors.len()
    );
}
