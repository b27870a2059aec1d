//! `Validator`: built once from its configuration, then validating any
//! number of resources from any number of threads (the GIL is released
//! while Rust works).

use std::io::BufRead;
use std::sync::Mutex;

use pyo3::exceptions::{PyOSError, PyStopIteration};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::convert::{self, Limits, Resource};
use crate::errors::{self, detached, guarded};
use crate::outcome::PyOutcome;

/// Definitions to load: a path, or bytes with a name.
#[derive(Clone)]
enum Load {
    Path(String),
    Bytes(String, Vec<u8>),
}

/// Everything a Validator is built from: what it pickles as.
#[derive(Clone)]
struct Config {
    packages: Vec<String>,
    load: Vec<Load>,
    profiles: Vec<String>,
    fhir_version: String,
    lang: String,
    extensions: Vec<String>,
    max_issues: Option<usize>,
    threads: Option<usize>,
    max_depth: usize,
    max_size: usize,
}

impl Config {
    fn build(&self) -> Result<fhirreg::Validator, fhirreg::Error> {
        let options =
            fhirreg::ValidatorOptions::default().with_extensions(self.extensions.iter().cloned());
        let mut builder = fhirreg::Validator::builder()
            .fhir_version(self.fhir_version.clone())
            .language(self.lang.clone())
            .options(options)
            .parse_options(fhirreg::ParseOptions {
                max_depth: self.max_depth,
                max_size: self.max_size,
                ..Default::default()
            });
        for load in &self.load {
            builder = match load {
                Load::Path(path) => builder.load_path(path),
                Load::Bytes(name, bytes) => builder.load_bytes(name.clone(), bytes.clone()),
            };
        }
        for package in &self.packages {
            builder = builder.package(package.clone());
        }
        for profile in &self.profiles {
            builder = builder.profile(profile.clone());
        }
        if let Some(n) = self.max_issues {
            builder = builder.max_issues(n);
        }
        if let Some(n) = self.threads {
            builder = builder.threads(n);
        }
        let validator = builder.build()?;
        for profile in &self.profiles {
            validator.check_profile(profile)?;
        }
        Ok(validator)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        dict.set_item("packages", &self.packages)?;
        let load = PyList::empty(py);
        for item in &self.load {
            match item {
                Load::Path(path) => load.append(path)?,
                Load::Bytes(name, bytes) => {
                    load.append((name, PyBytes::new(py, bytes)))?;
                }
            }
        }
        dict.set_item("load", load)?;
        dict.set_item("profiles", &self.profiles)?;
        dict.set_item("fhir_version", &self.fhir_version)?;
        dict.set_item("lang", &self.lang)?;
        dict.set_item("extensions", &self.extensions)?;
        dict.set_item("max_issues", self.max_issues)?;
        dict.set_item("threads", self.threads)?;
        dict.set_item("max_depth", self.max_depth)?;
        dict.set_item("max_size", self.max_size)?;
        Ok(dict)
    }
}

/// A list of strings (a lone str is refused, not split into characters).
fn strings(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<String>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    let py = obj.py();
    if obj.is_instance_of::<PyString>() {
        return Err(errors::input_type_error(
            py,
            format!("{what} must be a list of str, not a str"),
        ));
    }
    let items = obj
        .try_iter()
        .map_err(|_| errors::input_type_error(py, format!("{what} must be a list of str")))?;
    items
        .map(|item| {
            let item = item?;
            item.extract::<String>().map_err(|_| {
                errors::input_type_error(
                    py,
                    format!(
                        "{what} must be a list of str, not containing {}",
                        type_of(&item)
                    ),
                )
            })
        })
        .collect()
}

fn type_of(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// `profile=`: None, a str, or a list of str.
fn profiles(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    match obj {
        Some(o) if o.is_instance_of::<PyString>() => Ok(vec![o.extract()?]),
        other => strings(other, "profile"),
    }
}

/// `load=`: paths (str or os.PathLike) and (name, bytes) pairs.
fn loads(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Load>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    let py = obj.py();
    if obj.is_instance_of::<PyString>() {
        return Err(errors::input_type_error(
            py,
            "load must be a list of paths, not a str".to_string(),
        ));
    }
    let os = py.import("os")?;
    let mut out = Vec::new();
    for (i, item) in obj.try_iter()?.enumerate() {
        let item = item?;
        if let Ok(pair) = item.cast::<PyTuple>() {
            if let Ok((name, bytes)) = pair.extract::<(String, Vec<u8>)>() {
                out.push(Load::Bytes(name, bytes));
                continue;
            }
        }
        if let Ok(bytes) = item.cast::<PyBytes>() {
            out.push(Load::Bytes(format!("load[{i}]"), bytes.as_bytes().to_vec()));
            continue;
        }
        let path: String = os
            .call_method1("fspath", (&item,))
            .and_then(|p| p.extract())
            .map_err(|_| {
                errors::input_type_error(
                    py,
                    format!(
                        "load[{i}] must be a path (str or os.PathLike) or a (name, bytes) pair, not {}",
                        type_of(&item)
                    ),
                )
            })?;
        // Absolute, so that a pickled validator finds it from another folder.
        let absolute = std::path::absolute(&path)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or(path);
        out.push(Load::Path(absolute));
    }
    Ok(out)
}

/// A configured FHIR validator: build it once, use it for many resources
/// (it compiles and caches each profile once), from any number of threads.
#[pyclass(module = "fhirreg", name = "Validator", frozen)]
pub struct PyValidator {
    config: Config,
    inner: fhirreg::Validator,
}

impl PyValidator {
    fn limits(&self) -> Limits {
        Limits {
            max_depth: self.config.max_depth,
            max_size: self.config.max_size,
        }
    }

    fn lang(&self) -> fhirreg::Lang {
        self.inner.lang()
    }

    /// Fail with UnknownProfileError for a profile that is not loaded.
    fn check_profiles(&self, py: Python<'_>, profiles: &[String]) -> PyResult<()> {
        for profile in profiles {
            self.inner
                .check_profile(profile)
                .map_err(|e| errors::to_py(py, e))?;
        }
        Ok(())
    }

    pub fn inner(&self) -> &fhirreg::Validator {
        &self.inner
    }
}

#[pymethods]
impl PyValidator {
    #[new]
    #[pyo3(signature = (
        packages = None,
        load = None,
        profiles = None,
        fhir_version = "4.0.1".to_string(),
        lang = "en".to_string(),
        extensions = None,
        *,
        max_issues = None,
        threads = None,
        max_depth = None,
        max_size = None,
    ), text_signature = "(packages=None, load=None, profiles=None, fhir_version='4.0.1', lang='en', \
        extensions=None, *, max_issues=None, threads=None, max_depth=None, max_size=None)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        packages: Option<&Bound<'_, PyAny>>,
        load: Option<&Bound<'_, PyAny>>,
        profiles: Option<&Bound<'_, PyAny>>,
        fhir_version: String,
        lang: String,
        extensions: Option<&Bound<'_, PyAny>>,
        max_issues: Option<usize>,
        threads: Option<usize>,
        max_depth: Option<usize>,
        max_size: Option<usize>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let defaults = fhirreg::ParseOptions::default();
            let config = Config {
                packages: strings(packages, "packages")?,
                load: loads(load)?,
                profiles: strings(profiles, "profiles")?,
                fhir_version,
                lang,
                extensions: strings(extensions, "extensions")?,
                max_issues,
                threads,
                max_depth: max_depth.unwrap_or(defaults.max_depth),
                max_size: max_size.unwrap_or(defaults.max_size),
            };
            let built = detached(py, || config.build())?;
            let inner = built.map_err(|e| errors::to_py(py, e))?;
            Ok(PyValidator { config, inner })
        })
    }

    /// Validate one resource (a dict, or JSON or XML as str or bytes)
    /// against its core type, its meta.profile, the validator's profiles
    /// and `profile` (a canonical URL or a list of them).
    #[pyo3(signature = (resource, profile = None))]
    fn validate(
        &self,
        py: Python<'_>,
        resource: &Bound<'_, PyAny>,
        profile: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyOutcome> {
        guarded(py, || {
            let profiles = profiles(profile)?;
            let resource = convert::resource(resource, self.limits(), "resource")?;
            let bytes = resource.bytes();
            let outcome = detached(py, || self.inner.try_validate(bytes, &profiles))?
                .map_err(|e| errors::to_py(py, e))?;
            Ok(PyOutcome::new(outcome, self.lang(), None))
        })
    }

    /// True when the resource has no error (a resource that cannot be read
    /// is not valid: False, not an exception).
    #[pyo3(signature = (resource, profile = None))]
    fn is_valid(
        &self,
        py: Python<'_>,
        resource: &Bound<'_, PyAny>,
        profile: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        guarded(py, || {
            let profiles = profiles(profile)?;
            self.check_profiles(py, &profiles)?;
            let resource = match convert::resource(resource, self.limits(), "resource") {
                Ok(r) => r,
                Err(e) if e.is_instance(py, &py.get_type::<pyo3::exceptions::PyTypeError>()) => {
                    return Err(e)
                }
                // Content that is not JSON (too deep, NaN): not valid.
                Err(_) => return Ok(false),
            };
            let bytes = resource.bytes();
            detached(py, || {
                self.inner
                    .validate_with_profiles(bytes, &profiles)
                    .is_valid()
            })
        })
    }

    /// Validate many resources on all cores (the GIL is released); the
    /// outcomes are in input order. A resource that cannot be read gets an
    /// outcome with a fatal issue (the batch goes on); a Python object that
    /// is not a resource (an int, a set) raises InputTypeError before
    /// anything is validated.
    #[pyo3(signature = (resources, profile = None))]
    fn validate_many(
        &self,
        py: Python<'_>,
        resources: &Bound<'_, PyAny>,
        profile: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<PyOutcome>> {
        guarded(py, || {
            let profiles = profiles(profile)?;
            self.check_profiles(py, &profiles)?;
            if resources.is_instance_of::<PyString>()
                || resources.is_instance_of::<PyBytes>()
                || resources.is_instance_of::<PyDict>()
            {
                return Err(errors::input_type_error(
                    py,
                    format!(
                        "resources must be a list of resources, not a {} (use validate for one)",
                        type_of(resources)
                    ),
                ));
            }
            let items = resources.try_iter().map_err(|_| {
                errors::input_type_error(
                    py,
                    format!("resources must be a list, not {}", type_of(resources)),
                )
            })?;
            let mut converted: Vec<Resource<'_>> = Vec::new();
            let mut failed: Vec<(usize, String)> = Vec::new();
            for (i, item) in items.enumerate() {
                let item = item?;
                match convert::resource(&item, self.limits(), &format!("resources[{i}]")) {
                    Ok(r) => converted.push(r),
                    Err(e)
                        if e.is_instance(py, &py.get_type::<pyo3::exceptions::PyTypeError>()) =>
                    {
                        return Err(e)
                    }
                    // Too deep, too big, NaN: this resource's fatal issue.
                    Err(e) => {
                        failed.push((i, e.value(py).to_string()));
                        converted.push(Resource::Owned(Vec::new()));
                    }
                }
            }
            let slices: Vec<&[u8]> = converted.iter().map(Resource::bytes).collect();
            let outcomes = detached(py, || {
                self.inner.validate_many_with_profiles(&slices, &profiles)
            })?;
            let lang = self.lang();
            let mut outcomes: Vec<PyOutcome> = outcomes
                .into_iter()
                .map(|o| PyOutcome::new(o, lang, None))
                .collect();
            for (i, message) in failed {
                outcomes[i] =
                    PyOutcome::new(fhirreg::Outcome::unreadable(message, None), lang, None);
            }
            Ok(outcomes)
        })
    }

    /// Validate an NDJSON stream (one resource per line, as bulk-data
    /// exports are written): a path (str or os.PathLike) or the content as
    /// bytes. Yields an Outcome per non-blank line, with `.line` set, as
    /// the stream is read (in batches, on all cores; memory stays bounded).
    fn validate_ndjson(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
    ) -> PyResult<NdjsonIterator> {
        guarded(py, || {
            let reader: Box<dyn BufRead + Send> = if let Ok(bytes) = source.cast::<PyBytes>() {
                Box::new(std::io::Cursor::new(bytes.as_bytes().to_vec()))
            } else if let Ok(array) = source.cast::<pyo3::types::PyByteArray>() {
                Box::new(std::io::Cursor::new(array.to_vec()))
            } else {
                let path: String = py
                    .import("os")?
                    .call_method1("fspath", (source,))
                    .and_then(|p| p.extract())
                    .map_err(|_| {
                        errors::input_type_error(
                            py,
                            format!(
                                "validate_ndjson takes a path (str or os.PathLike) or bytes, not {}",
                                type_of(source)
                            ),
                        )
                    })?;
                let file = std::fs::File::open(&path).map_err(|e| {
                    // OSError(errno, text, filename) is FileNotFoundError etc.
                    PyOSError::new_err((e.raw_os_error().unwrap_or(0), e.to_string(), path.clone()))
                })?;
                Box::new(std::io::BufReader::with_capacity(1 << 16, file))
            };
            Ok(NdjsonIterator {
                results: Mutex::new(self.inner.clone().validate_ndjson_owned(reader)),
                lang: self.lang(),
            })
        })
    }

    /// Convert a resource between FHIR JSON and XML (`to`: "json" or
    /// "xml"); returns the text.
    #[pyo3(signature = (resource, to = "json", pretty = false))]
    fn convert(
        &self,
        py: Python<'_>,
        resource: &Bound<'_, PyAny>,
        to: &str,
        pretty: bool,
    ) -> PyResult<String> {
        guarded(py, || {
            let format = match to {
                "json" => fhirreg::Format::Json,
                "xml" => fhirreg::Format::Xml,
                other => {
                    return Err(errors::configuration_error(
                        py,
                        format!("to must be 'json' or 'xml', not {other:?}"),
                    ))
                }
            };
            let resource = convert::resource(resource, self.limits(), "resource")?;
            let bytes = resource.bytes();
            detached(py, || self.inner.convert(bytes, format, pretty))?
                .map_err(|e| errors::to_py(py, e))
        })
    }

    /// ValueSet $expand: the value set with its expansion (a dict).
    #[pyo3(signature = (url, filter = None, *, offset = 0, count = None, active_only = false))]
    fn expand<'py>(
        &self,
        py: Python<'py>,
        url: &str,
        filter: Option<String>,
        offset: usize,
        count: Option<usize>,
        active_only: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let mut options = fhirreg::ExpandOptions::default();
            options.filter = filter;
            options.offset = offset;
            options.count = count;
            options.active_only = active_only;
            let value = detached(py, || self.inner.expand(url, &options))?
                .map_err(|e| errors::to_py(py, e))?;
            convert::to_python(py, &value)
        })
    }

    /// CodeSystem $lookup: a Parameters dict (name, display, designation,
    /// property).
    #[pyo3(signature = (system, code, version = None))]
    fn lookup<'py>(
        &self,
        py: Python<'py>,
        system: &str,
        code: &str,
        version: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let value = detached(py, || self.inner.lookup(system, code, version))?
                .map_err(|e| errors::to_py(py, e))?;
            convert::to_python(py, &value)
        })
    }

    /// $validate-code: is system#code in the value set `url` (or, with
    /// url=None, in the code system)? A Parameters dict whose `result`
    /// parameter says.
    #[pyo3(signature = (url, system, code, display = None))]
    fn validate_code<'py>(
        &self,
        py: Python<'py>,
        url: Option<&str>,
        system: &str,
        code: &str,
        display: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let value = detached(py, || self.inner.validate_code(url, system, code, display))?
                .map_err(|e| errors::to_py(py, e))?;
            convert::to_python(py, &value)
        })
    }

    /// ConceptMap $translate: a Parameters dict (`result`, a `match` per
    /// mapping).
    #[pyo3(signature = (conceptmap, system, code, target = None))]
    fn translate<'py>(
        &self,
        py: Python<'py>,
        conceptmap: &str,
        system: &str,
        code: &str,
        target: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let value = detached(py, || {
                self.inner.translate(conceptmap, system, code, target)
            })?
            .map_err(|e| errors::to_py(py, e))?;
            convert::to_python(py, &value)
        })
    }

    /// CodeSystem $subsumes: a Parameters dict with the `outcome`.
    fn subsumes<'py>(
        &self,
        py: Python<'py>,
        system: &str,
        code_a: &str,
        code_b: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let value = detached(py, || self.inner.subsumes(system, code_a, code_b))?
                .map_err(|e| errors::to_py(py, e))?;
            convert::to_python(py, &value)
        })
    }

    /// The configuration the validator was built from (the keyword
    /// arguments of `Validator(...)`).
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.config.to_dict(py)
    }

    #[getter]
    fn profiles(&self) -> Vec<String> {
        self.config.profiles.clone()
    }

    #[getter]
    fn packages(&self) -> Vec<String> {
        self.config.packages.clone()
    }

    #[getter]
    fn fhir_version(&self) -> String {
        self.config.fhir_version.clone()
    }

    /// The language of the messages (`en`).
    #[getter(lang)]
    fn lang_tag(&self) -> &'static str {
        self.lang().code()
    }

    /// Pickled as its configuration: unpickling builds a new validator.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let rebuild = py
            .import("fhirreg._pickle")?
            .getattr("_rebuild_validator")?;
        let args = PyTuple::new(py, [self.config.to_dict(py)?])?;
        PyTuple::new(py, [rebuild, args.into_any()])
    }

    fn __repr__(&self) -> String {
        let c = &self.config;
        let mut parts = vec![format!("fhir_version={}", py_str(&c.fhir_version))];
        if !c.packages.is_empty() {
            parts.push(format!("packages={}", py_list(&c.packages)));
        }
        if !c.load.is_empty() {
            let names: Vec<&str> = c
                .load
                .iter()
                .map(|l| match l {
                    Load::Path(p) => p.as_str(),
                    Load::Bytes(n, _) => n.as_str(),
                })
                .collect();
            parts.push(format!("load={}", py_list(&names)));
        }
        if !c.profiles.is_empty() {
            parts.push(format!("profiles={}", py_list(&c.profiles)));
        }
        if !c.extensions.is_empty() {
            parts.push(format!("extensions={}", py_list(&c.extensions)));
        }
        format!("Validator({})", parts.join(", "))
    }
}

/// A str as Python writes it (`'a'`).
fn py_str(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn py_list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|s| py_str(s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// The iterator of `Validator.validate_ndjson`.
#[pyclass(module = "fhirreg", name = "NdjsonOutcomes")]
pub struct NdjsonIterator {
    results: Mutex<fhirreg::NdjsonResults<'static, Box<dyn BufRead + Send>>>,
    lang: fhirreg::Lang,
}

#[pymethods]
impl NdjsonIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<PyOutcome> {
        let (next, error) = detached(py, || {
            let mut results = self.results.lock().unwrap_or_else(|p| p.into_inner());
            let next = results.next();
            let error = match &next {
                None => results
                    .read_error()
                    .map(|e| format!("reading line {}: {e}", results.lines_read() + 1)),
                Some(_) => None,
            };
            (next, error)
        })?;
        match (next, error) {
            (Some(result), _) => Ok(PyOutcome::new(result.outcome, self.lang, Some(result.line))),
            (None, Some(error)) => Err(PyOSError::new_err(error)),
            (None, None) => Err(PyStopIteration::new_err(())),
        }
    }
}
