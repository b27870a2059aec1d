//! Python objects to JSON text (resources, FHIRPath variables) and JSON
//! values to Python objects (OperationOutcomes, FHIRPath results,
//! terminology resources). Input marshalling only: what the JSON means is
//! the facade's business.

use std::borrow::Cow;
use std::io::Write;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple,
    PyType,
};
use serde_json::Value;

use crate::errors;

/// A resource handed in from Python, as bytes for the facade.
pub enum Resource<'py> {
    /// A `bytes` object: borrowed (immutable, kept alive by the caller).
    Borrowed(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Resource<'_> {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Resource::Borrowed(b) => b.as_bytes(),
            Resource::Owned(v) => v,
        }
    }
}

/// Limits of the conversion of a dict.
#[derive(Clone, Copy)]
pub struct Limits {
    /// Nesting depth (objects and arrays both count, as in the reader).
    pub max_depth: usize,
    /// Size of the JSON text in bytes.
    pub max_size: usize,
}

/// Why a Python object is not JSON, with where (`resource['name'][0]`).
struct ConvertError {
    kind: Kind,
    message: String,
    /// Path segments, innermost first (pushed while unwinding).
    path: Vec<String>,
}

enum Kind {
    /// A Python type that has no JSON form: InputTypeError.
    Type,
    /// JSON that cannot be written (too deep, too big, NaN, a lone
    /// surrogate): ParseError.
    Content,
    /// A Python exception raised while reading the object.
    Python(PyErr),
}

impl ConvertError {
    fn new(kind: Kind, message: impl Into<String>) -> Self {
        ConvertError {
            kind,
            message: message.into(),
            path: Vec::new(),
        }
    }

    fn at(mut self, segment: String) -> Self {
        self.path.push(segment);
        self
    }

    fn into_py(self, py: Python<'_>, what: &str) -> PyErr {
        // Deep paths are cut in the middle: the first and last segments.
        let mut path = what.to_string();
        let segments: Vec<&String> = self.path.iter().rev().collect();
        if segments.len() > 12 {
            for segment in &segments[..6] {
                path.push_str(segment);
            }
            path.push_str(&format!("...({} more)...", segments.len() - 9));
            for segment in &segments[segments.len() - 3..] {
                path.push_str(segment);
            }
        } else {
            for segment in segments {
                path.push_str(segment);
            }
        }
        let message = format!("{path}: {}", self.message);
        match self.kind {
            Kind::Type => errors::input_type_error(py, message),
            Kind::Content => errors::parse_error(py, message, None, None),
            Kind::Python(err) => err,
        }
    }
}

/// The resource argument of the validating methods: a dict (written as
/// JSON), a str or bytes (JSON or XML).
pub fn resource<'py>(
    obj: &Bound<'py, PyAny>,
    limits: Limits,
    what: &str,
) -> PyResult<Resource<'py>> {
    let py = obj.py();
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return Ok(Resource::Borrowed(bytes.clone()));
    }
    if let Ok(text) = obj.cast::<PyString>() {
        return match text.to_cow() {
            Ok(Cow::Borrowed(s)) => Ok(Resource::Owned(s.as_bytes().to_vec())),
            Ok(Cow::Owned(s)) => Ok(Resource::Owned(s.into_bytes())),
            Err(_) => Err(errors::parse_error(
                py,
                format!("{what}: the string is not valid Unicode (a lone surrogate)"),
                None,
                None,
            )),
        };
    }
    if obj.is_instance_of::<PyDict>() {
        let mut out = Vec::with_capacity(1024);
        write_json(obj, limits, 1, &mut out).map_err(|e| e.into_py(py, what))?;
        return Ok(Resource::Owned(out));
    }
    if let Ok(array) = obj.cast::<PyByteArray>() {
        return Ok(Resource::Owned(array.to_vec()));
    }
    if obj.is_instance_of::<PyMemoryView>() {
        let bytes: Vec<u8> = obj.call_method0("tobytes")?.extract()?;
        return Ok(Resource::Owned(bytes));
    }
    Err(errors::input_type_error(
        py,
        format!(
            "{what} must be a dict, str or bytes (JSON or XML), not {}",
            type_name(obj)
        ),
    ))
}

/// A Python object (FHIRPath variables) as a JSON value.
pub fn to_value(obj: &Bound<'_, PyAny>, limits: Limits, what: &str) -> PyResult<Value> {
    let mut out = Vec::new();
    write_json(obj, limits, 1, &mut out).map_err(|e| e.into_py(obj.py(), what))?;
    serde_json::from_slice(&out)
        .map_err(|e| errors::parse_error(obj.py(), format!("{what}: {e}"), None, None))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_string())
}

/// `decimal.Decimal`, imported once.
fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    DECIMAL.import(py, "decimal", "Decimal")
}

/// Write `obj` as JSON text. `depth` is the nesting depth of `obj` if it is
/// a container (the resource object itself is 1).
fn write_json(
    obj: &Bound<'_, PyAny>,
    limits: Limits,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), ConvertError> {
    if out.len() > limits.max_size {
        return Err(ConvertError::new(
            Kind::Content,
            format!(
                "the resource is more than the limit of {} bytes",
                limits.max_size
            ),
        ));
    }
    let too_deep = || {
        ConvertError::new(
            Kind::Content,
            format!(
                "nested deeper than the depth limit ({} levels)",
                limits.max_depth
            ),
        )
    };
    if obj.is_none() {
        out.extend_from_slice(b"null");
    } else if let Ok(b) = obj.cast::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
    } else if let Ok(s) = obj.cast::<PyString>() {
        let text = s.to_cow().map_err(|_| {
            ConvertError::new(
                Kind::Content,
                "the string is not valid Unicode (a lone surrogate)",
            )
        })?;
        serde_json::to_writer(&mut *out, text.as_ref())
            .map_err(|e| ConvertError::new(Kind::Content, e.to_string()))?;
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        if depth > limits.max_depth {
            return Err(too_deep());
        }
        out.push(b'{');
        for (i, (key, value)) in dict.iter().enumerate() {
            let Ok(key) = key.cast::<PyString>() else {
                return Err(ConvertError::new(
                    Kind::Type,
                    format!("a key must be a str, not {}", type_name(&key)),
                ));
            };
            let key = key
                .to_cow()
                .map_err(|_| ConvertError::new(Kind::Content, "a key is not valid Unicode"))?;
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, key.as_ref())
                .map_err(|e| ConvertError::new(Kind::Content, e.to_string()))?;
            out.push(b':');
            write_json(&value, limits, depth + 1, out).map_err(|e| e.at(format!("[{key:?}]")))?;
        }
        out.push(b'}');
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        if depth > limits.max_depth {
            return Err(too_deep());
        }
        out.push(b'[');
        let items = obj
            .try_iter()
            .map_err(|e| ConvertError::new(Kind::Python(e), ""))?;
        for (i, item) in items.enumerate() {
            let item = item.map_err(|e| ConvertError::new(Kind::Python(e), ""))?;
            if i > 0 {
                out.push(b',');
            }
            write_json(&item, limits, depth + 1, out).map_err(|e| e.at(format!("[{i}]")))?;
        }
        out.push(b']');
    } else if obj.is_instance_of::<PyInt>() {
        match obj.extract::<i64>() {
            Ok(n) => {
                let _ = write!(out, "{n}");
            }
            // Larger than 64 bits: Python's own digits.
            Err(_) => {
                let digits = obj
                    .str()
                    .map_err(|e| ConvertError::new(Kind::Python(e), ""))?;
                out.extend_from_slice(digits.to_string().as_bytes());
            }
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        let value = f.value();
        if !value.is_finite() {
            return Err(ConvertError::new(
                Kind::Content,
                format!("{value} is not a JSON number"),
            ));
        }
        serde_json::to_writer(&mut *out, &value)
            .map_err(|e| ConvertError::new(Kind::Content, e.to_string()))?;
    } else if decimal_type(obj.py())
        .map(|t| obj.is_instance(t.as_any()).unwrap_or(false))
        .unwrap_or(false)
    {
        // decimal.Decimal keeps its digits (FHIR decimals have precision).
        let finite = obj
            .call_method0("is_finite")
            .and_then(|f| f.extract::<bool>())
            .unwrap_or(false);
        let text = obj
            .str()
            .map_err(|e| ConvertError::new(Kind::Python(e), ""))?
            .to_string();
        if !finite {
            return Err(ConvertError::new(
                Kind::Content,
                format!("{text} is not a JSON number"),
            ));
        }
        out.extend_from_slice(text.as_bytes());
    } else {
        return Err(ConvertError::new(
            Kind::Type,
            format!(
                "a {} has no JSON form (use dict, list, str, int, float, bool, None or decimal.Decimal)",
                type_name(obj)
            ),
        ));
    }
    Ok(())
}

/// A JSON value as Python objects (dict, list, str, int, float, bool, None).
pub fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_python(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_python(py, v)?)?;
            }
            dict.into_any()
        }
    })
}
