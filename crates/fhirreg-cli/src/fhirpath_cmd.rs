//! `fhirreg fhirpath EXPRESSION FILE...`: evaluate one compiled expression
//! over each file; one JSON line per file.

use std::borrow::Cow;

use fhirreg::fhirpath::{EvalContext, Expression, Value};
use fhirreg::registry::model::FhirPathModel;
use fhirreg::{Element, Format, ParseOptions, Registry};
use serde_json::json;

/// Evaluate `expression` over every file. Returns true when every file
/// produced a result (no error line).
pub fn run(
    registry: &Registry,
    expression: &str,
    files: &[String],
    vars: &[(String, String)],
) -> Result<bool, String> {
    let compiled = match Expression::compile(expression) {
        Ok(compiled) => compiled,
        Err(error) => {
            // The contract is one line per file, also when the expression is bad.
            let line = json!({ "error": format!("expression: {error}") });
            for _ in files {
                crate::emit(&line);
            }
            return Ok(false);
        }
    };
    let model = FhirPathModel::new(registry.clone());
    let mut all_ok = true;
    for file in files {
        let line = match evaluate_file(registry, &compiled, &model, file, vars) {
            Ok(line) => line,
            Err(error) => {
                all_ok = false;
                json!({ "error": error }).to_string()
            }
        };
        crate::emit(line);
    }
    Ok(all_ok)
}

fn evaluate_file(
    registry: &Registry,
    compiled: &Expression,
    model: &FhirPathModel,
    file: &str,
    vars: &[(String, String)],
) -> Result<String, String> {
    let bytes = crate::read_input(file)?;
    let format = Format::sniff(&bytes).ok_or_else(|| format!("{file}: neither JSON nor XML"))?;
    let mut document = fhirreg::parse(&bytes, format, &ParseOptions::default())
        .map_err(|e| format!("{file}: {e}"))?;
    // Typed arrays and JSON kinds so complex results print as proper FHIR JSON.
    registry.annotate_types(&mut document);
    let mut context = EvalContext::new(document.root()).with_model(model);
    for (name, value) in vars {
        context =
            context.with_variable(name.clone(), vec![Value::String(Cow::Owned(value.clone()))]);
    }
    let result = compiled
        .evaluate(&context)
        .map_err(|e| format!("{file}: {e}"))?;
    let items: Vec<String> = result.iter().map(value_json).collect();
    Ok(format!("[{}]", items.join(",")))
}

/// One FHIRPath value as JSON text: System primitives as JSON scalars
/// (decimals exactly as computed), dates and times as strings, nodes as
/// their FHIR JSON.
fn value_json(value: &Value) -> String {
    match value {
        Value::Boolean(b) => b.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::String(s) => json!(s).to_string(),
        Value::Date(d) | Value::DateTime(d) | Value::Time(d) => json!(d.to_string()).to_string(),
        Value::Quantity(q) => format!("{{\"value\":{},\"unit\":{}}}", q.value, json!(q.unit)),
        Value::Type(t) => json!({"namespace": t.namespace, "name": t.name}).to_string(),
        Value::Node(node) => {
            if node.element.value().is_some() && !has_complex_children(node.element) {
                match value.to_primitive() {
                    Some(primitive) if primitive.is_system() => value_json(&primitive),
                    _ => json!(node.element.value()).to_string(),
                }
            } else {
                fhirreg::json::write(node.element, false)
            }
        }
    }
}

fn has_complex_children(element: Element<'_>) -> bool {
    element
        .children()
        .any(|c| c.name() != "id" && c.name() != "extension")
}
