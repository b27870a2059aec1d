//! Operation parameters from a query string and/or a Parameters body, as
//! one list.

use fhirreg::terminology::CodingRef;
use serde_json::{json, Value};

use crate::http::ApiError;

/// The parameters of one operation call, in the order given (query first,
/// then body). Each is kept as a Parameters `parameter` object; query
/// values become `valueString`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params {
    items: Vec<Value>,
}

/// A coding taken out of the parameters.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Coding {
    pub system: Option<String>,
    pub version: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
}

impl Coding {
    fn from_json(value: &Value) -> Coding {
        let s = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
        Coding {
            system: s("system"),
            version: s("version"),
            code: s("code"),
            display: s("display"),
        }
    }

    pub fn as_ref(&self) -> CodingRef<'_> {
        CodingRef {
            system: self.system.as_deref(),
            version: self.version.as_deref(),
            code: self.code.as_deref(),
            display: self.display.as_deref(),
        }
    }
}

impl Params {
    /// Parse `a=b&c=d` (percent-decoded, `+` as space).
    pub fn from_query(query: &str) -> Params {
        let mut params = Params::default();
        params.add_query(query);
        params
    }

    pub fn add_query(&mut self, query: &str) {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            self.items
                .push(json!({"name": name.as_ref(), "valueString": value.as_ref()}));
        }
    }

    /// Add the `parameter` list of a Parameters resource.
    pub fn add_parameters(&mut self, resource: &Value) -> Result<(), ApiError> {
        if resource.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
            return Err(ApiError::bad_request(format!(
                "The body must be a Parameters resource, not {}",
                resource
                    .get("resourceType")
                    .and_then(Value::as_str)
                    .unwrap_or("a JSON value without resourceType")
            )));
        }
        match resource.get("parameter") {
            None => Ok(()),
            Some(Value::Array(list)) => {
                for p in list {
                    if p.get("name").and_then(Value::as_str).is_none() {
                        return Err(ApiError::bad_request(
                            "Every Parameters.parameter needs a name",
                        ));
                    }
                    self.items.push(p.clone());
                }
                Ok(())
            }
            Some(_) => Err(ApiError::bad_request(
                "Parameters.parameter must be an array",
            )),
        }
    }

    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.items
            .iter()
            .filter(move |p| p.get("name").and_then(Value::as_str) == Some(name))
    }

    /// Every primitive value of this name, as text.
    pub fn texts(&self, name: &str) -> Vec<String> {
        self.named(name).filter_map(primitive_text).collect()
    }

    /// The first primitive value of this name, as text.
    pub fn text(&self, name: &str) -> Option<String> {
        self.named(name).find_map(primitive_text)
    }

    /// The first value of this name as a boolean (`true`/`false`).
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.text(name).as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::bad_request(format!(
                "Parameter '{name}' must be true or false, not '{other}'"
            ))),
        }
    }

    /// The first value of this name as a non-negative integer.
    pub fn count(&self, name: &str) -> Result<Option<usize>, ApiError> {
        match self.text(name) {
            None => Ok(None),
            Some(text) => text.trim().parse::<usize>().map(Some).map_err(|_| {
                ApiError::bad_request(format!(
                    "Parameter '{name}' must be a non-negative integer, not '{text}'"
                ))
            }),
        }
    }

    /// The first `valueCoding` of this name.
    pub fn coding(&self, name: &str) -> Option<Coding> {
        self.named(name)
            .find_map(|p| p.get("valueCoding"))
            .map(Coding::from_json)
    }

    /// The codings of the first `valueCodeableConcept` of this name.
    pub fn codeable_concept(&self, name: &str) -> Option<Vec<Coding>> {
        let cc = self
            .named(name)
            .find_map(|p| p.get("valueCodeableConcept"))?;
        Some(
            cc.get("coding")
                .and_then(Value::as_array)
                .map(|list| list.iter().map(Coding::from_json).collect())
                .unwrap_or_default(),
        )
    }

    /// The first `resource` of this name.
    pub fn resource<'a>(&'a self, name: &str) -> Option<&'a Value> {
        self.items
            .iter()
            .filter(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .find_map(|p| p.get("resource"))
    }

    /// Every `resource` of this name.
    pub fn resources<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.named(name).filter_map(|p| p.get("resource"))
    }
}

/// The text of a primitive `value[x]` (string, uri, code, boolean,
/// integer ...).
fn primitive_text(param: &Value) -> Option<String> {
    let object = param.as_object()?;
    object.iter().find_map(|(key, value)| {
        if !key.starts_with("value") {
            return None;
        }
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_body_merge() {
        let mut p = Params::from_query("url=http%3A%2F%2Fx%2Fvs&count=2&filter=a+b");
        p.add_parameters(&json!({"resourceType": "Parameters", "parameter": [
            {"name": "coding", "valueCoding": {"system": "s", "code": "c"}},
            {"name": "activeOnly", "valueBoolean": true},
            {"name": "valueSet", "resource": {"resourceType": "ValueSet"}}
        ]}))
        .unwrap();
        assert_eq!(p.text("url").as_deref(), Some("http://x/vs"));
        assert_eq!(p.text("filter").as_deref(), Some("a b"));
        assert_eq!(p.count("count").unwrap(), Some(2));
        assert_eq!(p.boolean("activeOnly").unwrap(), Some(true));
        assert_eq!(p.coding("coding").unwrap().code.as_deref(), Some("c"));
        assert!(p.resource("valueSet").is_some());
        assert!(p.count("filter").is_err());
    }

    #[test]
    fn non_parameters_body_is_refused() {
        let mut p = Params::default();
        let err = p
            .add_parameters(&json!({"resourceType": "Patient"}))
            .unwrap_err();
        assert_eq!(err.status, axum::http::StatusCode::BAD_REQUEST);
    }
}
