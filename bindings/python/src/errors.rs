//! The facade's errors as the exceptions of `fhirreg.errors` (defined in
//! Python, rooted at `FhirRegError(ValueError)`), and the guard that keeps
//! every Rust panic from reaching Python.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// An exception class of `fhirreg.errors`.
fn class<'py>(py: Python<'py>, name: &'static str) -> PyResult<Bound<'py, PyType>> {
    // One cache per class name.
    macro_rules! cached {
        ($($n:literal),*) => {
            match name {
                $($n => {
                    static CELL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
                    return CELL.import(py, "fhirreg.errors", $n).map(|t| t.clone());
                })*
                _ => {}
            }
        };
    }
    cached!(
        "FhirRegError",
        "ParseError",
        "InputTypeError",
        "UnknownProfileError",
        "UnknownPackageError",
        "LoadError",
        "ConfigurationError",
        "FhirPathError",
        "FhirPathSyntaxError",
        "TerminologyError",
        "InternalError"
    );
    py.import("fhirreg.errors")?
        .getattr(name)?
        .cast_into::<PyType>()
        .map_err(Into::into)
}

/// `fhirreg.errors.<name>(*args)` as a PyErr (a RuntimeError naming the
/// problem if the package's Python part cannot be imported).
fn raise<'py>(
    py: Python<'py>,
    name: &'static str,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyErr {
    match class(py, name).and_then(|cls| cls.call1(args)) {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => PyRuntimeError::new_err(format!("fhirreg.errors.{name} is not available: {e}")),
    }
}

pub fn parse_error(
    py: Python<'_>,
    message: String,
    line: Option<u32>,
    column: Option<u32>,
) -> PyErr {
    raise(py, "ParseError", (message, line, column))
}

pub fn input_type_error(py: Python<'_>, message: String) -> PyErr {
    raise(py, "InputTypeError", (message,))
}

pub fn configuration_error(py: Python<'_>, message: String) -> PyErr {
    raise(py, "ConfigurationError", (message,))
}

pub fn internal_error(py: Python<'_>, message: String) -> PyErr {
    raise(py, "InternalError", (message,))
}

/// A facade error as the matching exception.
pub fn to_py(py: Python<'_>, error: fhirreg::Error) -> PyErr {
    use fhirreg::Error as E;
    let message = error.to_string();
    match error {
        E::Parse(e) => parse_error(py, e.message, Some(e.pos.line), Some(e.pos.col)),
        E::UnknownFormat => parse_error(
            py,
            "the input is neither JSON nor XML".to_string(),
            Some(1),
            Some(1),
        ),
        E::UnknownProfile(profile) => raise(py, "UnknownProfileError", (message, profile)),
        E::UnknownPackage(_) => raise(py, "UnknownPackageError", (message,)),
        E::Registry(_) => raise(py, "LoadError", (message,)),
        E::UnsupportedVersion(_) | E::UnsupportedLanguage(_) | E::ThreadPool(_) => {
            configuration_error(py, message)
        }
        E::FhirPathSyntax(e) => raise(
            py,
            "FhirPathSyntaxError",
            (message, e.line as u32, e.col as u32),
        ),
        E::FhirPathEvaluation(_) => raise(py, "FhirPathError", (message,)),
        E::Terminology(_) => raise(py, "TerminologyError", (message,)),
        E::Internal(_) => internal_error(py, message),
        _ => raise(py, "FhirRegError", (message,)),
    }
}

/// Run `f` with the GIL released (other Python threads go on); a panic
/// (a bug) becomes InternalError instead of reaching Python.
pub fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)))
        .map_err(|payload| internal_error(py, panic_text(payload)))
}

/// Run `f` (holding the GIL); a panic becomes InternalError.
pub fn guarded<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(internal_error(py, panic_text(payload))))
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string());
    format!("internal error (a bug in fhirreg, please report it): {text}")
}
