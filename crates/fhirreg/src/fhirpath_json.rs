//! FHIRPath over resources given as bytes, results as JSON: the FHIRPath
//! API of the facade, which exposes no element tree and no FHIRPath value
//! type (both are internal and may change).

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use fhirreg_element::{Document, Element, Format};
use fhirreg_fhirpath::{EvalContext, Expression, Node, Value as PathValue};
use rust_decimal::Decimal;
use serde_json::{Map, Number, Value};

use crate::{Error, Validator};

/// A compiled FHIRPath expression, evaluated over resources given as bytes
/// (JSON or XML), with the result collection as JSON values. Compile once,
/// evaluate often, from any thread (`Send + Sync`, cheap to clone).
///
/// The results are, item by item:
///
/// * booleans, integers and decimals as JSON booleans and numbers
///   (decimals through `f64`), strings as strings;
/// * dates, date-times and times as strings (as written, `2020-01`);
/// * quantities as `{"value": 5.4, "unit": "mg"}`;
/// * FHIR primitives as their JSON value (`Patient.active` gives `true`,
///   `Patient.birthDate` gives `"1974-12-25"`);
/// * complex elements and resources as their FHIR JSON
///   (`Patient.name` gives `{"family": "Chalmers", ...}`);
/// * the result of `type()` as `{"namespace": "FHIR", "name": "Patient"}`.
///
/// ```
/// use fhirreg::{FhirPath, Validator};
/// use serde_json::json;
/// let validator = Validator::builder().build().unwrap();
/// let patient = br#"{"resourceType":"Patient","active":true,"name":[{"family":"Chalmers","given":["Peter","James"]}]}"#;
///
/// let given = FhirPath::compile("Patient.name.given").unwrap();
/// let result = given.evaluate(&validator, patient, &Default::default()).unwrap();
/// assert_eq!(result, [json!("Peter"), json!("James")]);
///
/// let name = FhirPath::compile("name.first()").unwrap();
/// let result = name.evaluate(&validator, patient, &Default::default()).unwrap();
/// assert_eq!(result, [json!({"family": "Chalmers", "given": ["Peter", "James"]})]);
///
/// // Variables are JSON values: scalars, lists (a collection) or resources.
/// let mut variables = serde_json::Map::new();
/// variables.insert("wanted".into(), json!(["James", "Jim"]));
/// let expr = FhirPath::compile("name.given.where($this in %wanted).count()").unwrap();
/// assert_eq!(expr.evaluate(&validator, patient, &variables).unwrap(), [json!(1)]);
///
/// // Errors are typed: a syntax error has its position.
/// match FhirPath::compile("name.given.where(") {
///     Err(fhirreg::Error::FhirPathSyntax(e)) => assert_eq!(e.line, 1),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Clone, Debug)]
pub struct FhirPath {
    expression: Arc<Expression>,
}

impl FhirPath {
    /// Compile an expression ([`Error::FhirPathSyntax`] when it is not
    /// FHIRPath, with the line and column).
    pub fn compile(expression: &str) -> Result<FhirPath, Error> {
        Ok(FhirPath {
            expression: Arc::new(Expression::compile(expression)?),
        })
    }

    /// The expression's text.
    pub fn source(&self) -> &str {
        self.expression.source()
    }

    /// Evaluate over one resource (JSON or XML bytes, read with the
    /// validator's [`ParseOptions`](crate::ParseOptions); types from its
    /// definitions) with `variables` available as `%name`.
    ///
    /// A variable's value is a JSON scalar (string, boolean, number: an
    /// integer or a decimal), `null` (empty), an array of those (a
    /// collection), or a FHIR resource as a JSON object (with
    /// `resourceType`).
    ///
    /// Errors: [`Error::UnknownFormat`] / [`Error::Parse`] for a resource
    /// that cannot be read, [`Error::FhirPathEvaluation`] when the
    /// evaluation fails or a variable cannot be used, [`Error::Internal`]
    /// for a bug.
    pub fn evaluate(
        &self,
        validator: &Validator,
        resource: &[u8],
        variables: &Map<String, Value>,
    ) -> Result<Vec<Value>, Error> {
        let format = Format::sniff(resource).ok_or(Error::UnknownFormat)?;
        let mut document = fhirreg_element::parse(resource, format, &validator.parse_options)?;
        crate::catch(|| {
            validator.registry.annotate_types(&mut document);
            self.evaluate_tree(validator, document.root(), variables)
        })?
    }

    fn evaluate_tree(
        &self,
        validator: &Validator,
        root: Element<'_>,
        variables: &Map<String, Value>,
    ) -> Result<Vec<Value>, Error> {
        // Resources given as variables: parsed first, borrowed by the context.
        let mut resources = Vec::new();
        for (name, value) in variables {
            for item in items(value) {
                if item.is_object() {
                    resources.push(variable_resource(validator, name, item)?);
                }
            }
        }
        let mut resources = resources.iter().map(Document::root);
        let mut context = EvalContext::new(root).with_model(&*validator.fhirpath_model);
        for (name, value) in variables {
            let mut collection = Vec::new();
            for item in items(value) {
                collection.push(match item {
                    Value::Null => continue,
                    Value::Bool(b) => PathValue::Boolean(*b),
                    Value::String(s) => PathValue::String(Cow::Owned(s.clone())),
                    Value::Number(n) => number(name, n)?,
                    Value::Object(_) => match resources.next() {
                        Some(element) => PathValue::Node(Node {
                            element,
                            element_type: None,
                        }),
                        None => return Err(variable_error(name, "internal: resource missing")),
                    },
                    Value::Array(_) => {
                        return Err(variable_error(
                            name,
                            "a list inside a list (a collection is flat)",
                        ))
                    }
                });
            }
            context = context.with_variable(name.clone(), collection);
        }
        let result = self
            .expression
            .evaluate(&context)
            .map_err(|e| Error::FhirPathEvaluation(e.message))?;
        Ok(result.iter().map(to_json).collect())
    }
}

/// Compile and evaluate `expression` over one resource (JSON or XML)
/// against the FHIR R4 core definitions, with no variables: for one-off
/// use. A [`FhirPath`] compiled once is faster for many resources.
///
/// ```
/// let active = fhirreg::evaluate_fhirpath("Patient.active", br#"{"resourceType":"Patient","active":true}"#).unwrap();
/// assert_eq!(active, [serde_json::json!(true)]);
/// ```
pub fn evaluate_fhirpath(expression: &str, resource: &[u8]) -> Result<Vec<Value>, Error> {
    static CORE: OnceLock<Result<Validator, String>> = OnceLock::new();
    let validator = CORE
        .get_or_init(|| Validator::builder().build().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::Internal(e.clone()))?;
    FhirPath::compile(expression)?.evaluate(validator, resource, &Map::new())
}

/// The items of a variable's value: an array's, or the value itself.
fn items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

fn variable_error(name: &str, message: &str) -> Error {
    Error::FhirPathEvaluation(format!("variable %{name}: {message}"))
}

/// A JSON number as a FHIRPath Integer (when it is one) or Decimal.
fn number(name: &str, n: &Number) -> Result<PathValue<'static>, Error> {
    if let Some(i) = n.as_i64() {
        return Ok(PathValue::Integer(i));
    }
    let text = n.to_string();
    Decimal::from_str_exact(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .or_else(|_| Decimal::from_str(&text))
        .map(PathValue::Decimal)
        .map_err(|_| variable_error(name, &format!("{text} is not a FHIRPath decimal")))
}

/// A resource given as a variable, read as the validator reads resources.
fn variable_resource(validator: &Validator, name: &str, value: &Value) -> Result<Document, Error> {
    if !value.get("resourceType").is_some_and(Value::is_string) {
        return Err(variable_error(
            name,
            "an object must be a FHIR resource (with a resourceType)",
        ));
    }
    let bytes = serde_json::to_vec(value).map_err(|e| variable_error(name, &e.to_string()))?;
    let mut document = fhirreg_element::json::parse(&bytes, &validator.parse_options)
        .map_err(|e| variable_error(name, &e.to_string()))?;
    validator.registry.annotate_types(&mut document);
    Ok(document)
}

/// One FHIRPath value as JSON (see [`FhirPath`]).
fn to_json(value: &PathValue) -> Value {
    match value {
        PathValue::Boolean(b) => Value::Bool(*b),
        PathValue::Integer(i) => Value::from(*i),
        PathValue::Decimal(d) => decimal(d),
        PathValue::String(s) => Value::String(s.to_string()),
        PathValue::Date(d) | PathValue::DateTime(d) | PathValue::Time(d) => {
            Value::String(d.to_string())
        }
        PathValue::Quantity(q) => {
            let mut map = Map::new();
            map.insert("value".into(), decimal(&q.value));
            map.insert("unit".into(), Value::String(q.unit.clone()));
            Value::Object(map)
        }
        PathValue::Type(t) => {
            let mut map = Map::new();
            map.insert("namespace".into(), Value::String(t.namespace.clone()));
            map.insert("name".into(), Value::String(t.name.clone()));
            Value::Object(map)
        }
        PathValue::Node(node) => {
            let element = node.element;
            let complex = element
                .children()
                .any(|c| c.name() != "id" && c.name() != "extension");
            if let Some(text) = element.value().filter(|_| !complex) {
                match value.to_primitive() {
                    Some(primitive) if primitive.is_system() => to_json(&primitive),
                    _ => Value::String(text.to_owned()),
                }
            } else {
                let text = fhirreg_element::json::write(element, false);
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            }
        }
    }
}

/// A decimal as a JSON number (through `f64`), or its text when it has no
/// `f64` form.
fn decimal(d: &Decimal) -> Value {
    let text = d.to_string();
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .unwrap_or(Value::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(expr: &str, resource: &[u8], vars: Value) -> Result<Vec<Value>, Error> {
        let validator = Validator::builder().build().unwrap();
        let Value::Object(vars) = vars else {
            panic!("variables must be an object")
        };
        FhirPath::compile(expr)?.evaluate(&validator, resource, &vars)
    }

    const PATIENT: &[u8] = br#"{"resourceType":"Patient","id":"p1","active":true,
        "birthDate":"1974-12-25","multipleBirthInteger":2,
        "name":[{"use":"official","family":"Chalmers","given":["Peter","James"]}]}"#;

    #[test]
    fn results_are_json_of_every_kind() {
        let cases = [
            ("active", json!([true])),
            ("multipleBirth", json!([2])),
            ("birthDate", json!(["1974-12-25"])),
            ("name.given", json!(["Peter", "James"])),
            ("1.5 + 1", json!([2.5])),
            ("@2020-01", json!(["2020-01"])),
            ("5.4 'mg'", json!([{"value": 5.4, "unit": "mg"}])),
            ("type()", json!([{"namespace": "FHIR", "name": "Patient"}])),
            ("name.family.exists() and id = 'p1'", json!([true])),
            ("telecom", json!([])),
        ];
        for (expr, expected) in cases {
            let got = eval(expr, PATIENT, json!({})).unwrap();
            assert_eq!(Value::Array(got), expected, "{expr}");
        }
        let name = eval("name", PATIENT, json!({})).unwrap();
        assert_eq!(name[0]["given"], json!(["Peter", "James"]));
    }

    #[test]
    fn xml_resources_are_read_too() {
        let xml = br#"<Patient xmlns="http://hl7.org/fhir"><active value="true"/><name><given value="Ann"/></name></Patient>"#;
        assert_eq!(eval("active", xml, json!({})).unwrap(), [json!(true)]);
        // Typed by the definitions: name is a list in JSON.
        assert_eq!(
            eval("name", xml, json!({})).unwrap(),
            [json!({"given": ["Ann"]})]
        );
    }

    #[test]
    fn variables_of_every_kind() {
        let vars = json!({
            "s": "Peter", "i": 2, "d": 2.5, "b": true, "n": null,
            "list": ["James", "Jim"],
            "other": {"resourceType": "Patient", "active": false},
        });
        let cases = [
            ("%s in name.given", json!([true])),
            ("%i = multipleBirth", json!([true])),
            ("%d > 2", json!([true])),
            ("%b", json!([true])),
            ("%n.empty()", json!([true])),
            ("name.given.where($this in %list)", json!(["James"])),
            ("%other.active", json!([false])),
        ];
        for (expr, expected) in cases {
            let got = eval(expr, PATIENT, vars.clone()).unwrap();
            assert_eq!(Value::Array(got), expected, "{expr}");
        }
    }

    #[test]
    fn errors_are_typed() {
        assert!(matches!(
            FhirPath::compile("name.(("),
            Err(Error::FhirPathSyntax(_))
        ));
        assert!(matches!(
            eval("name", b"not a resource", json!({})),
            Err(Error::UnknownFormat)
        ));
        assert!(matches!(
            eval("name", b"{\"resourceType\":", json!({})),
            Err(Error::Parse(_))
        ));
        // A collection of two where one item is needed.
        assert!(matches!(
            eval("name.given + 'x'", PATIENT, json!({})),
            Err(Error::FhirPathEvaluation(_))
        ));
        for bad in [json!({"v": [[1]]}), json!({"v": {"a": 1}})] {
            let err = eval("%v", PATIENT, bad).unwrap_err();
            assert!(
                matches!(&err, Error::FhirPathEvaluation(m) if m.contains("%v")),
                "{err}"
            );
        }
    }

    #[test]
    fn one_shot_uses_the_core() {
        assert_eq!(
            evaluate_fhirpath("name.given.count()", PATIENT).unwrap(),
            [json!(2)]
        );
    }
}
