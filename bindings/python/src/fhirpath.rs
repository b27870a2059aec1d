//! `fhirreg.fhirpath`: compiled FHIRPath expressions over resources, with
//! results as Python values (through the facade's JSON results).

use std::sync::OnceLock;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::{self, Limits};
use crate::errors::{self, detached, guarded};
use crate::validator::PyValidator;

/// The validator used when none is given: the FHIR R4 core, built once.
fn core(py: Python<'_>) -> PyResult<&'static fhirreg::Validator> {
    static CORE: OnceLock<Result<fhirreg::Validator, String>> = OnceLock::new();
    let built = match CORE.get() {
        Some(built) => built,
        None => {
            let built = detached(py, || {
                fhirreg::Validator::builder()
                    .build()
                    .map_err(|e| e.to_string())
            })?;
            CORE.get_or_init(|| built)
        }
    };
    built
        .as_ref()
        .map_err(|e| errors::internal_error(py, e.clone()))
}

/// A compiled FHIRPath expression: compile once, evaluate over many
/// resources, from any thread.
#[pyclass(module = "fhirreg.fhirpath", name = "Expression", frozen)]
pub struct PyExpression {
    inner: fhirreg::FhirPath,
}

#[pymethods]
impl PyExpression {
    /// Compile `expression` (FhirPathSyntaxError, with line and column, when
    /// it is not FHIRPath).
    #[new]
    fn new(py: Python<'_>, expression: &str) -> PyResult<Self> {
        guarded(py, || {
            let inner = fhirreg::FhirPath::compile(expression).map_err(|e| errors::to_py(py, e))?;
            Ok(PyExpression { inner })
        })
    }

    /// The expression's text.
    #[getter]
    fn source(&self) -> &str {
        self.inner.source()
    }

    /// Evaluate over one resource (a dict, or JSON or XML as str or bytes)
    /// with `variables` (a dict: name -> value, used as %name). Returns the
    /// result collection as a list of Python values.
    #[pyo3(signature = (resource, variables = None, validator = None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        resource: &Bound<'py, PyAny>,
        variables: Option<&Bound<'py, PyDict>>,
        validator: Option<&Bound<'py, PyValidator>>,
    ) -> PyResult<Bound<'py, PyList>> {
        guarded(py, || {
            let validator = match validator {
                Some(v) => v.get().inner(),
                None => core(py)?,
            };
            let limits = Limits {
                max_depth: fhirreg::ParseOptions::default().max_depth,
                max_size: fhirreg::ParseOptions::default().max_size,
            };
            let vars = match variables {
                None => serde_json::Map::new(),
                Some(dict) => match convert::to_value(dict.as_any(), limits, "variables")? {
                    serde_json::Value::Object(map) => map,
                    _ => serde_json::Map::new(),
                },
            };
            let resource = convert::resource(resource, limits, "resource")?;
            let bytes = resource.bytes();
            let result = detached(py, || self.inner.evaluate(validator, bytes, &vars))?
                .map_err(|e| errors::to_py(py, e))?;
            let list = PyList::empty(py);
            for value in &result {
                list.append(convert::to_python(py, value)?)?;
            }
            Ok(list)
        })
    }

    fn __repr__(&self) -> String {
        format!("Expression({:?})", self.inner.source())
    }
}
