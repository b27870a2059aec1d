//! WebAssembly bindings of fhirreg, through wasm-bindgen: the low-level
//! layer of the npm package `fhirreg`. JavaScript users call the wrapper
//! in `js/fhirreg.js` (the package's entry point), which turns the errors
//! thrown here into `FhirRegError`s, accepts objects as resources and
//! recovers from a WebAssembly trap.
//!
//! Only the facade crate is called: no validation logic lives here. Results
//! cross the boundary as JSON text (one `JSON.parse` on the JavaScript side
//! is faster than building objects property by property through the glue).
//!
//! WebAssembly aborts on a panic (no unwinding), so `catch_unwind` guards
//! nothing here: inputs are checked before they reach the facade (sizes,
//! formats, profiles), and the panic hook keeps the message of a panic for
//! the wrapper to report if one happens anyway.

use std::sync::{Mutex, OnceLock};

use serde_json::{json, Map, Value};
use wasm_bindgen::prelude::*;

/// Default bound on the size of one resource: 64 MiB (the module's memory
/// is at most 4 GiB, and a resource's tree takes several times its size).
const DEFAULT_MAX_SIZE: usize = 64 * 1024 * 1024;

/// Bound on the size of one package (.tgz) given at construction: 256 MiB.
const MAX_PACKAGE_SIZE: usize = 256 * 1024 * 1024;

/// The message of the last panic, for the wrapper to read after a trap.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Runs when the module is instantiated: keeps panic messages.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(info.to_string());
        }
    }));
}

/// The message of the panic that ended the last call, if one did (the
/// module must then be instantiated again: its state is unknown).
#[wasm_bindgen(js_name = takePanicMessage)]
pub fn take_panic_message() -> Option<String> {
    LAST_PANIC.lock().ok().and_then(|mut last| last.take())
}

/// The crate version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The message languages, as BCP 47 tags.
#[wasm_bindgen]
pub fn languages() -> Vec<String> {
    fhirreg::Lang::ALL
        .iter()
        .map(|l| l.code().to_string())
        .collect()
}

/// The FHIR versions this build validates.
#[wasm_bindgen(js_name = fhirVersions)]
pub fn fhir_versions() -> Vec<String> {
    fhirreg::SUPPORTED_FHIR_VERSIONS
        .iter()
        .map(|v| v.to_string())
        .collect()
}

/// A JavaScript `Error` carrying `kind` (and, where known, `line`,
/// `column`, `profile`): the wrapper turns it into a `FhirRegError`.
fn error(kind: &str, message: impl AsRef<str>) -> JsValue {
    let e = js_sys::Error::new(message.as_ref());
    e.set_name("FhirRegError");
    set(&e, "kind", &JsValue::from_str(kind));
    e.into()
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property of a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), value);
}

fn with_position(e: JsValue, line: u32, column: u32) -> JsValue {
    set(&e, "line", &JsValue::from(line));
    set(&e, "column", &JsValue::from(column));
    e
}

/// A facade error as a JavaScript error with its kind.
fn to_js(e: fhirreg::Error) -> JsValue {
    use fhirreg::Error as E;
    let message = e.to_string();
    match e {
        E::Parse(p) => with_position(error("parse", p.message), p.pos.line, p.pos.col),
        E::UnknownFormat => {
            with_position(error("parse", "the input is neither JSON nor XML"), 1, 1)
        }
        E::UnknownProfile(profile) => {
            let e = error("unknown-profile", message);
            set(&e, "profile", &JsValue::from_str(&profile));
            e
        }
        E::Registry(_) | E::UnknownPackage(_) => error("load", message),
        E::UnsupportedVersion(_) | E::UnsupportedLanguage(_) | E::ThreadPool(_) => {
            error("configuration", message)
        }
        E::FhirPathSyntax(s) => with_position(
            error("fhirpath-syntax", message),
            s.line as u32,
            s.col as u32,
        ),
        E::FhirPathEvaluation(_) => error("fhirpath", message),
        E::Terminology(_) => error("terminology", message),
        E::Internal(_) => error("internal", message),
        _ => error("internal", message),
    }
}

fn configuration(message: impl AsRef<str>) -> JsValue {
    error("configuration", message)
}

/// What a `Validator` is built from (the JavaScript options, as JSON).
struct Config {
    profiles: Vec<String>,
    fhir_version: String,
    lang: String,
    extensions: Vec<String>,
    max_issues: Option<usize>,
    max_size: usize,
    max_depth: Option<usize>,
}

impl Config {
    fn from_json(text: &str) -> Result<Config, JsValue> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| configuration(format!("options are not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(configuration("options must be an object"));
        };
        const KNOWN: &[&str] = &[
            "profiles",
            "fhirVersion",
            "lang",
            "extensions",
            "maxIssues",
            "maxSize",
            "maxDepth",
        ];
        if let Some(unknown) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(configuration(format!(
                "unknown option {unknown:?} (options: {})",
                KNOWN.join(", ")
            )));
        }
        Ok(Config {
            profiles: strings(&map, "profiles")?,
            fhir_version: string(&map, "fhirVersion")?.unwrap_or_else(|| "4.0.1".to_string()),
            lang: string(&map, "lang")?.unwrap_or_else(|| "en".to_string()),
            extensions: strings(&map, "extensions")?,
            max_issues: count(&map, "maxIssues")?,
            max_size: count(&map, "maxSize")?.unwrap_or(DEFAULT_MAX_SIZE),
            max_depth: count(&map, "maxDepth")?,
        })
    }
}

fn string(map: &Map<String, Value>, key: &str) -> Result<Option<String>, JsValue> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(configuration(format!("{key} must be a string"))),
    }
}

fn strings(map: &Map<String, Value>, key: &str) -> Result<Vec<String>, JsValue> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(configuration(format!("{key} must be an array of strings"))),
            })
            .collect(),
        Some(_) => Err(configuration(format!("{key} must be an array of strings"))),
    }
}

/// A positive whole number option.
fn count(map: &Map<String, Value>, key: &str) -> Result<Option<usize>, JsValue> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64().filter(|n| *n > 0) {
            Some(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
            None => Err(configuration(format!("{key} must be a positive integer"))),
        },
    }
}

/// Collects the packages of a `Validator` before it is built.
#[wasm_bindgen]
pub struct ValidatorBuilder {
    packages: Vec<(String, Vec<u8>)>,
}

#[wasm_bindgen]
impl ValidatorBuilder {
    #[wasm_bindgen(constructor)]
    pub fn new() -> ValidatorBuilder {
        ValidatorBuilder {
            packages: Vec::new(),
        }
    }

    /// Add definitions: a FHIR package (.tgz), a resource or a Bundle of
    /// them (JSON or XML). `name` names it in error messages.
    #[wasm_bindgen(js_name = addPackage)]
    pub fn add_package(&mut self, name: String, bytes: Vec<u8>) -> Result<(), JsValue> {
        if bytes.len() > MAX_PACKAGE_SIZE {
            return Err(error(
                "too-large",
                format!(
                    "{name}: {} bytes is over the limit of {MAX_PACKAGE_SIZE} bytes for a package",
                    bytes.len()
                ),
            ));
        }
        self.packages.push((name, bytes));
        Ok(())
    }

    /// Build the validator from the options (JSON text: `profiles`,
    /// `fhirVersion`, `lang`, `extensions`, `maxIssues`, `maxSize`,
    /// `maxDepth`).
    pub fn build(self, options: &str) -> Result<Validator, JsValue> {
        let config = Config::from_json(options)?;
        let mut parse_options = fhirreg::ParseOptions {
            max_size: config.max_size,
            ..Default::default()
        };
        if let Some(depth) = config.max_depth {
            parse_options.max_depth = depth;
        }
        let options =
            fhirreg::ValidatorOptions::default().with_extensions(config.extensions.iter().cloned());
        let mut builder = fhirreg::Validator::builder()
            .fhir_version(config.fhir_version.clone())
            .language(config.lang.clone())
            .options(options)
            .parse_options(parse_options);
        for (name, bytes) in self.packages {
            builder = builder.load_bytes(name, bytes);
        }
        for profile in &config.profiles {
            builder = builder.profile(profile.clone());
        }
        if let Some(n) = config.max_issues {
            builder = builder.max_issues(n);
        }
        let inner = builder.build().map_err(to_js)?;
        for profile in &config.profiles {
            inner.check_profile(profile).map_err(to_js)?;
        }
        Ok(Validator {
            inner,
            max_size: config.max_size,
        })
    }
}

impl Default for ValidatorBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// A configured validator (low level: use the wrapper's `Validator`).
#[wasm_bindgen]
pub struct Validator {
    inner: fhirreg::Validator,
    max_size: usize,
}

impl Validator {
    fn check_size(&self, len: usize) -> Result<(), JsValue> {
        if len > self.max_size {
            return Err(error(
                "too-large",
                format!(
                    "the resource is {len} bytes, over the limit of {} bytes (option maxSize)",
                    self.max_size
                ),
            ));
        }
        Ok(())
    }

    fn validate_bytes(&self, bytes: &[u8], profiles: &[String]) -> Result<Outcome, JsValue> {
        self.check_size(bytes.len())?;
        let outcome = self.inner.try_validate(bytes, profiles).map_err(to_js)?;
        if let Some(issue) = outcome.not_a_resource() {
            let e = error("not-fhir", self.inner.message(issue));
            return Err(match issue.pos {
                Some(p) => with_position(e, p.line, p.col),
                None => e,
            });
        }
        Ok(Outcome {
            inner: outcome,
            lang: self.inner.lang(),
        })
    }

    fn check_profiles(&self, profiles: &[String]) -> Result<(), JsValue> {
        for profile in profiles {
            self.inner.check_profile(profile).map_err(to_js)?;
        }
        Ok(())
    }
}

#[wasm_bindgen]
impl Validator {
    /// Validate one resource (JSON or XML, as UTF-8 bytes) against its
    /// type, its `meta.profile`s, the validator's profiles and
    /// `profiles`. Throws `parse` for input that is neither JSON nor XML or
    /// is malformed, `not-fhir` for a document that is not a FHIR
    /// resource, `unknown-profile`, `too-large`.
    pub fn validate(&self, bytes: &[u8], profiles: Vec<String>) -> Result<Outcome, JsValue> {
        self.validate_bytes(bytes, &profiles)
    }

    /// True when the resource has no error; false for input that cannot
    /// be read. Throws `unknown-profile`, `too-large`.
    #[wasm_bindgen(js_name = isValid)]
    pub fn is_valid(&self, bytes: &[u8], profiles: Vec<String>) -> Result<bool, JsValue> {
        self.check_size(bytes.len())?;
        self.check_profiles(&profiles)?;
        Ok(if profiles.is_empty() {
            self.inner.is_valid(bytes)
        } else {
            self.inner
                .validate_with_profiles(bytes, &profiles)
                .is_valid()
        })
    }

    /// The profiles a resource can be validated against, as JSON: an
    /// array of `{url, version, name, type, package}` for every
    /// constraint StructureDefinition that is not an extension (the
    /// core's, then the loaded ones).
    #[wasm_bindgen(js_name = listProfiles)]
    pub fn list_profiles(&self) -> String {
        let registry = self.inner.registry();
        let profiles: Vec<Value> = registry
            .structure_definitions()
            .filter(|s| s.derivation() == Some("constraint"))
            .filter(|s| s.type_name() != Some("Extension"))
            .filter_map(|s| {
                let package = match s.origin() {
                    fhirreg::registry::Origin::Core => s.embedded_package().map(str::to_string),
                    fhirreg::registry::Origin::Loaded(from) => Some(from.to_string()),
                };
                Some(json!({
                    "url": s.url()?,
                    "version": s.version(),
                    "name": s.name(),
                    "type": s.type_name(),
                    "package": package,
                    "core": s.is_core(),
                }))
            })
            .collect();
        Value::Array(profiles).to_string()
    }

    /// The packages loaded, as JSON: `[{name, version, resources}]`.
    #[wasm_bindgen(js_name = listPackages)]
    pub fn list_packages(&self) -> String {
        let packages: Vec<Value> = self
            .inner
            .registry()
            .packages()
            .iter()
            .map(|p| json!({"name": p.name, "version": p.version, "resources": p.resources}))
            .collect();
        Value::Array(packages).to_string()
    }

    /// The language of the messages.
    #[wasm_bindgen(getter)]
    pub fn lang(&self) -> String {
        self.inner.lang().code().to_string()
    }

    /// ValueSet $expand (options as JSON: `filter`, `offset`, `count`,
    /// `activeOnly`): the expanded ValueSet as JSON.
    pub fn expand(&self, url: &str, options: &str) -> Result<String, JsValue> {
        let value: Value = serde_json::from_str(options)
            .map_err(|e| configuration(format!("expand options are not valid JSON: {e}")))?;
        let mut expand = fhirreg::ExpandOptions::default();
        if let Some(filter) = value.get("filter").and_then(Value::as_str) {
            expand.filter = Some(filter.to_string());
        }
        if let Some(offset) = value.get("offset").and_then(Value::as_u64) {
            expand.offset = usize::try_from(offset).unwrap_or(usize::MAX);
        }
        if let Some(count) = value.get("count").and_then(Value::as_u64) {
            expand.count = Some(usize::try_from(count).unwrap_or(usize::MAX));
        }
        expand.active_only = value.get("activeOnly").and_then(Value::as_bool) == Some(true);
        expand.include_designations =
            value.get("includeDesignations").and_then(Value::as_bool) == Some(true);
        let result = self.inner.expand(url, &expand).map_err(to_js)?;
        Ok(result.to_string())
    }

    /// CodeSystem $lookup: a Parameters resource as JSON.
    pub fn lookup(
        &self,
        system: &str,
        code: &str,
        version: Option<String>,
    ) -> Result<String, JsValue> {
        let result = self
            .inner
            .lookup(system, code, version.as_deref())
            .map_err(to_js)?;
        Ok(result.to_string())
    }

    /// $validate-code against the value set `url` (or, without one, the
    /// code system): a Parameters resource as JSON.
    #[wasm_bindgen(js_name = validateCode)]
    pub fn validate_code(
        &self,
        url: Option<String>,
        system: &str,
        code: &str,
        display: Option<String>,
    ) -> Result<String, JsValue> {
        let result = self
            .inner
            .validate_code(url.as_deref(), system, code, display.as_deref())
            .map_err(to_js)?;
        Ok(result.to_string())
    }

    /// ConceptMap $translate: a Parameters resource as JSON.
    pub fn translate(
        &self,
        conceptmap: &str,
        system: &str,
        code: &str,
        target: Option<String>,
    ) -> Result<String, JsValue> {
        let result = self
            .inner
            .translate(conceptmap, system, code, target.as_deref())
            .map_err(to_js)?;
        Ok(result.to_string())
    }

    /// CodeSystem $subsumes: a Parameters resource as JSON.
    pub fn subsumes(&self, system: &str, code_a: &str, code_b: &str) -> Result<String, JsValue> {
        let result = self.inner.subsumes(system, code_a, code_b).map_err(to_js)?;
        Ok(result.to_string())
    }

    /// Evaluate a compiled FHIRPath expression over a resource with
    /// variables (JSON object text): the result collection as JSON.
    #[wasm_bindgen(js_name = evaluateFhirPath)]
    pub fn evaluate_fhirpath(
        &self,
        expression: &Expression,
        resource: &[u8],
        variables: &str,
    ) -> Result<String, JsValue> {
        self.check_size(resource.len())?;
        let variables: Map<String, Value> = serde_json::from_str(variables)
            .map_err(|e| configuration(format!("variables must be a JSON object: {e}")))?;
        let result = expression
            .inner
            .evaluate(&self.inner, resource, &variables)
            .map_err(to_js)?;
        Ok(Value::Array(result).to_string())
    }
}

/// The validator of the FHIR R4 core alone, for FHIRPath without one.
#[wasm_bindgen(js_name = coreValidator)]
pub fn core_validator() -> Result<Validator, JsValue> {
    static CORE: OnceLock<fhirreg::Validator> = OnceLock::new();
    let inner = match CORE.get() {
        Some(v) => v.clone(),
        None => {
            let v = fhirreg::Validator::builder().build().map_err(to_js)?;
            CORE.get_or_init(|| v).clone()
        }
    };
    Ok(Validator {
        inner,
        max_size: DEFAULT_MAX_SIZE,
    })
}

/// The result of validating one resource.
#[wasm_bindgen]
pub struct Outcome {
    inner: fhirreg::Outcome,
    lang: fhirreg::Lang,
}

#[wasm_bindgen]
impl Outcome {
    /// True when no issue is an error or fatal.
    #[wasm_bindgen(getter)]
    pub fn valid(&self) -> bool {
        self.inner.is_valid()
    }

    /// The issues as JSON: `[{severity, code, message, messageId,
    /// expression, line, column}]`, in document order. `positions` false
    /// (a resource given as an object, whose text the caller never saw):
    /// `line` and `column` are null.
    #[wasm_bindgen(js_name = issuesJson)]
    pub fn issues_json(&self, positions: bool) -> String {
        let issues: Vec<IssueJson<'_>> = self
            .inner
            .issues
            .iter()
            .map(|issue| {
                let pos = issue.pos.filter(|_| positions);
                IssueJson {
                    severity: issue.severity.code(),
                    code: issue.code.code(),
                    message: issue.message_in(self.lang),
                    message_id: issue.message_id(),
                    expression: (!issue.expression.is_empty()).then_some(issue.expression.as_str()),
                    line: pos.map(|p| p.line),
                    column: pos.map(|p| p.col),
                }
            })
            .collect();
        // Strings and numbers only: serialising cannot fail.
        serde_json::to_string(&issues).unwrap_or_else(|_| "[]".to_string())
    }

    /// The outcome as a FHIR OperationOutcome (JSON text), in the
    /// validator's language.
    #[wasm_bindgen(js_name = operationOutcomeJson)]
    pub fn operation_outcome_json(&self, pretty: bool) -> String {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self
            .inner
            .operation_outcome()
            .lang(self.lang)
            .write_json(&mut out, pretty);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// One issue as JavaScript sees it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct IssueJson<'a> {
    severity: &'static str,
    code: &'static str,
    message: String,
    message_id: &'static str,
    expression: Option<&'a str>,
    line: Option<u32>,
    column: Option<u32>,
}

/// A compiled FHIRPath expression.
#[wasm_bindgen]
pub struct Expression {
    inner: fhirreg::FhirPath,
}

#[wasm_bindgen]
impl Expression {
    /// Compile; throws `fhirpath-syntax` with the line and column.
    #[wasm_bindgen(constructor)]
    pub fn new(expression: &str) -> Result<Expression, JsValue> {
        // The facade bounds nesting; this bounds the work of compiling.
        const MAX_EXPRESSION: usize = 1024 * 1024;
        if expression.len() > MAX_EXPRESSION {
            return Err(error(
                "too-large",
                format!("a FHIRPath expression is at most {MAX_EXPRESSION} bytes"),
            ));
        }
        Ok(Expression {
            inner: fhirreg::FhirPath::compile(expression).map_err(to_js)?,
        })
    }

    /// The expression's text.
    #[wasm_bindgen(getter)]
    pub fn source(&self) -> String {
        self.inner.source().to_string()
    }
}

/// For the tests: a panic, as a bug in the core would raise (WebAssembly
/// aborts: the wrapper must report it and start a new instance).
#[wasm_bindgen(js_name = _panicForTests)]
pub fn panic_for_tests() {
    panic!("a panic for the tests");
}
