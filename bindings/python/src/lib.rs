//! The native part of the `fhirreg` Python package (`fhirreg._fhirreg`).
//!
//! Every call goes to the `fhirreg` facade crate; this crate only converts
//! between Python objects and the facade's types (bytes in; outcomes and
//! JSON values out), releases the GIL while Rust works, and maps errors to
//! the exceptions of `fhirreg.errors`. No Rust panic reaches Python: each
//! entry point turns one into `InternalError`.

use pyo3::prelude::*;

/// mimalloc for the Rust side of the extension (see Cargo.toml): a
/// validation allocates many small, short-lived values.
#[global_allocator]
static GLOBAL: fhirreg_alloc::MiMalloc = fhirreg_alloc::MiMalloc;

mod convert;
mod errors;
mod fhirpath;
mod outcome;
mod validator;

/// For the tests: panics inside the guards, with and without the GIL
/// released, to show that a panic arrives as `fhirreg.InternalError`.
#[pyfunction]
fn _panic_for_tests(py: Python<'_>, released: bool) -> PyResult<()> {
    if released {
        errors::detached(py, || panic!("test panic (GIL released)"))
    } else {
        errors::guarded(py, || panic!("test panic"))
    }
}

#[pymodule]
fn _fhirreg(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add_class::<validator::PyValidator>()?;
    m.add_class::<validator::NdjsonIterator>()?;
    m.add_class::<outcome::PyOutcome>()?;
    m.add_class::<outcome::PyIssue>()?;
    m.add_class::<fhirpath::PyExpression>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "SUPPORTED_FHIR_VERSIONS",
        fhirreg::SUPPORTED_FHIR_VERSIONS.to_vec(),
    )?;
    m.add(
        "LANGUAGES",
        fhirreg::Lang::ALL
            .iter()
            .map(|l| l.code())
            .collect::<Vec<_>>(),
    )?;
    Ok(())
}
