//! fhirreg: a fast, offline, embeddable FHIR R4 validator and conformance
//! registry.
//!
//! This facade is the public Rust API; the CLI and the Python and Wasm
//! bindings are thin layers over it. Build a [`Validator`] once (it compiles
//! and caches what it needs per profile) and validate many resources with it,
//! from any number of threads.
//!
//! ```
//! let validator = fhirreg::Validator::builder().build().unwrap();
//! let outcome = validator.validate(br#"{"resourceType":"Patient","active":true}"#);
//! assert!(outcome.is_valid(), "{:?}", outcome.issues);
//!
//! let bad = validator.validate(br#"{"resourceType":"Patient","active":"yes"}"#);
//! assert!(!bad.is_valid());
//! println!("{}", serde_json::to_string_pretty(&bad.to_operation_outcome()).unwrap());
//! ```
//!
//! Many resources at once use all cores (through `rayon`) and keep the
//! input order: [`Validator::validate_many`] for resources in memory,
//! [`Validator::validate_ndjson`] for an NDJSON stream (one resource per
//! line, as bulk-data exports are written) read with bounded memory.
//! [`ValidatorBuilder::threads`] and [`ValidatorBuilder::thread_pool`]
//! choose the threads; [`ValidatorBuilder::max_issues`] caps the issues
//! reported per resource.
//!
//! Besides validation the facade evaluates FHIRPath ([`FhirPath`]) and runs
//! the terminology operations ([`Validator::expand`], [`Validator::lookup`],
//! [`Validator::validate_code`], [`Validator::translate`],
//! [`Validator::subsumes`]) with results as JSON (`serde_json::Value`), so
//! callers (the CLI, the Python binding) need no types of the crates below.
//!
//! # Cargo features
//!
//! All on by default:
//! * `parallel`: the batch methods on all cores (rayon). Off, they run in
//!   the calling thread (WebAssembly has no threads).
//! * `fs`: definitions from files, folders and the FHIR package cache
//!   ([`ValidatorBuilder::load_path`], [`ValidatorBuilder::package`]). Off,
//!   definitions come as bytes ([`ValidatorBuilder::load_bytes`]).
//! * `json-definitions`: the full JSON of the embedded R4 core and HL7
//!   terminology, for [`Registry::resolve`] of their StructureDefinitions,
//!   CodeSystems and ValueSets and for snapshots of loaded profiles that
//!   have none (differential only) over core bases. Validation does not
//!   read it (it reads the compiled model); the Wasm build leaves it out.
//! * `concept-definitions`: the definitions of the embedded CodeSystems'
//!   concepts (documentation text), which [`Validator::lookup`] reports.
//!   Validation does not read them; the Wasm build leaves them out.
//!
//! Off by default:
//! * `package-client`: `fhirreg::package_client`, downloading packages
//!   and their dependencies from a FHIR package registry into the package
//!   cache (HTTP and TLS: the CLI switches it on, the Python and Wasm
//!   bindings do not).

use std::io::BufRead;
#[cfg(feature = "fs")]
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[cfg(feature = "parallel")]
use rayon::prelude::*;

pub use fhirreg_element::{args, message};
pub use fhirreg_element::{json, parse, xml};
pub use fhirreg_element::{
    Document, Element, Format, Issue, IssueType, Lang, Msg, ParseError, ParseOptions, Position,
    Severity,
};
pub use fhirreg_registry::{Registry, RegistryError};
pub use fhirreg_validator::ValidatorOptions;

/// The FHIRPath engine.
pub use fhirreg_fhirpath as fhirpath;
/// Norwegian national identifiers: `fhirreg::no::fnr::validate("...")`,
/// [`no::system_kind`], and [`no_id_message`] for a check's message.
pub use fhirreg_no as no;
/// Installing packages from a FHIR package registry (feature
/// `package-client`): `fhirreg::package_client::PackageClient`.
#[cfg(feature = "package-client")]
pub use fhirreg_package_client as package_client;
/// The registry crate: packages, the package cache, canonical resolution.
pub use fhirreg_registry as registry;
/// The terminology engine: lookup, validate-code, expand, subsumes, translate.
pub use fhirreg_terminology as terminology;
pub use fhirreg_validator::identifier_no::message as no_id_message;

mod fhirpath_json;
mod json_out;
mod ndjson;
mod outcome;
mod tx;
pub use fhirpath_json::{evaluate_fhirpath, FhirPath};
pub use ndjson::{NdjsonResult, NdjsonResults};
pub use outcome::{
    write_outcome_bundle, OperationOutcome, Outcome, COL_EXTENSION, FILE_EXTENSION, LINE_EXTENSION,
    MESSAGE_ID_EXTENSION, NDJSON_LINE_EXTENSION,
};
/// The rayon version the validator runs on, to build a pool for
/// [`ValidatorBuilder::thread_pool`].
#[cfg(feature = "parallel")]
pub use rayon;
pub use tx::ExpandOptions;

/// The FHIR versions this build validates.
pub const SUPPORTED_FHIR_VERSIONS: &[&str] = &["4.0.1", "4.0"];

/// Errors building a [`Validator`], reading a document, evaluating
/// FHIRPath or running a terminology operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("FHIR version {0} is not supported (supported: 4.0.1)")]
    UnsupportedVersion(String),
    /// The language of [`ValidatorBuilder::language`] has no messages.
    #[error("language {0:?} is not supported (supported: {langs})", langs = supported_languages())]
    UnsupportedLanguage(String),
    /// Definitions could not be loaded (a file, a folder, a package).
    #[error(transparent)]
    Registry(RegistryError),
    /// A package asked for by `ID#VERSION` ([`ValidatorBuilder::package`])
    /// is not in the FHIR package cache.
    #[error("{0}")]
    UnknownPackage(RegistryError),
    /// A profile canonical names no StructureDefinition of the registry
    /// ([`Validator::check_profile`], [`Validator::try_validate`]).
    #[error("unknown profile {0:?}: no StructureDefinition with this canonical URL is loaded")]
    UnknownProfile(String),
    /// The document cannot be read: malformed, or over the
    /// [`ParseOptions`] limits (with the position).
    #[error("{0}")]
    Parse(#[from] ParseError),
    #[error("cannot tell whether the input is JSON or XML")]
    UnknownFormat,
    #[error("cannot start the validation threads: {0}")]
    ThreadPool(String),
    /// A FHIRPath expression that does not compile (with its position).
    #[error("FHIRPath syntax: {0}")]
    FhirPathSyntax(#[from] fhirreg_fhirpath::CompileError),
    /// A FHIRPath evaluation failed (a type error, a collection where one
    /// item is needed, a limit), or a variable could not be used.
    #[error("FHIRPath evaluation: {0}")]
    FhirPathEvaluation(String),
    /// A terminology operation failed (an unknown value set, code system,
    /// concept map or code; an expansion too large).
    #[error(transparent)]
    Terminology(#[from] fhirreg_terminology::TxError),
    /// A bug: the operation panicked. The validator is still usable.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<RegistryError> for Error {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::PackageNotFound { .. } => Error::UnknownPackage(e),
            e => Error::Registry(e),
        }
    }
}

/// The message languages, as BCP 47 tags joined with `, `.
fn supported_languages() -> String {
    Lang::ALL
        .iter()
        .map(|l| l.code())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where extra definitions come from.
enum Source {
    Bytes(String, Vec<u8>),
    #[cfg(feature = "fs")]
    Path(PathBuf),
    #[cfg(feature = "fs")]
    CachedPackage(String),
}

/// How the builder was told to run several validations.
enum Threads {
    /// The current rayon pool (the global one: all cores).
    Current,
    // Without `parallel` the count is not used: one thread.
    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    Count(usize),
    #[cfg(feature = "parallel")]
    Pool(Arc<rayon::ThreadPool>),
}

/// Configures a [`Validator`]: FHIR version, extra packages and
/// conformance resources, default profiles, limits, threads.
pub struct ValidatorBuilder {
    fhir_version: String,
    sources: Vec<Source>,
    profiles: Vec<String>,
    parse_options: ParseOptions,
    options: ValidatorOptions,
    max_issues: Option<usize>,
    threads: Threads,
    language: String,
}

impl Default for ValidatorBuilder {
    fn default() -> Self {
        ValidatorBuilder {
            fhir_version: "4.0.1".to_string(),
            sources: Vec::new(),
            profiles: Vec::new(),
            parse_options: ParseOptions::default(),
            options: ValidatorOptions::default(),
            max_issues: None,
            threads: Threads::Current,
            language: Lang::default().code().to_string(),
        }
    }
}

impl ValidatorBuilder {
    /// The FHIR version to validate against (only 4.0.x for now).
    pub fn fhir_version(mut self, version: impl Into<String>) -> Self {
        self.fhir_version = version.into();
        self
    }

    /// Add conformance resources from bytes: a JSON or XML resource, a
    /// Bundle of them, or a FHIR NPM package (.tgz). `name` is used in
    /// error messages. Needs no filesystem (works in Wasm).
    pub fn load_bytes(mut self, name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        self.sources.push(Source::Bytes(name.into(), bytes.into()));
        self
    }

    /// Add conformance resources from a file (.json, .xml, .tgz) or a
    /// directory. (Feature `fs`.)
    #[cfg(feature = "fs")]
    pub fn load_path(mut self, path: impl AsRef<Path>) -> Self {
        self.sources.push(Source::Path(path.as_ref().to_path_buf()));
        self
    }

    /// Add a package from the FHIR package cache (`~/.fhir/packages`), as
    /// `ID#VERSION`. (Feature `fs`.)
    #[cfg(feature = "fs")]
    pub fn package(mut self, id_and_version: impl Into<String>) -> Self {
        self.sources
            .push(Source::CachedPackage(id_and_version.into()));
        self
    }

    /// Validate every resource against this profile too (canonical URL,
    /// optionally `|version`).
    pub fn profile(mut self, canonical: impl Into<String>) -> Self {
        self.profiles.push(canonical.into());
        self
    }

    /// Reader limits (nesting depth, document size).
    pub fn parse_options(mut self, options: ParseOptions) -> Self {
        self.parse_options = options;
        self
    }

    /// Validation switches.
    pub fn options(mut self, options: ValidatorOptions) -> Self {
        self.options = options;
        self
    }

    /// Norwegian synthetic test numbers (Test Norge/Tenor: month + 80,
    /// NAV: month + 40) in identifiers with a national system are errors
    /// (`no-id-synthetic-not-allowed`), not information (`no-id-synthetic`):
    /// for production. Sets [`ValidatorOptions::no_synthetic_ids`] (so
    /// call it after [`Self::options`]).
    ///
    /// ```
    /// let patient = br#"{"resourceType":"Patient","identifier":[
    ///     {"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":"01859000009"}]}"#;
    /// let test = fhirreg::Validator::builder().build().unwrap();
    /// assert!(test.validate(patient).is_valid());
    /// let production = fhirreg::Validator::builder().no_synthetic_ids(true).build().unwrap();
    /// let outcome = production.validate(patient);
    /// assert!(!outcome.is_valid());
    /// assert_eq!(outcome.issues[0].expression, "Patient.identifier[0].value");
    /// ```
    pub fn no_synthetic_ids(mut self, yes: bool) -> Self {
        self.options.no_synthetic_ids = yes;
        self
    }

    /// Report at most `n` issues per resource (at least 1): the most
    /// severe are kept (so an invalid resource stays invalid) and one
    /// `information` issue (`too-many-issues`) says how many were left out
    /// ([`Outcome::truncate`]). The validation itself still runs in full.
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().max_issues(1).build().unwrap();
    /// let outcome = validator.validate(br#"{"resourceType":"Patient","active":"yes","gender":"x"}"#);
    /// assert_eq!(outcome.issues.len(), 2);
    /// assert!(outcome.issues[0].severity.is_error());
    /// assert_eq!(outcome.issues[1].msg, fhirreg::Msg::TooManyIssues);
    /// ```
    pub fn max_issues(mut self, n: usize) -> Self {
        self.max_issues = Some(n);
        self
    }

    /// The number of threads [`Validator::validate_many`] and
    /// [`Validator::validate_ndjson`] use: `1` validates in the calling
    /// thread, `n > 1` on a pool of `n` threads of this validator's own,
    /// `0` (the default) on the current rayon pool: the global one, which
    /// has a thread per core, or the pool whose `install` the call runs in.
    /// Without the `parallel` feature every value means the calling thread.
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().threads(2).build().unwrap();
    /// let outcomes = validator.validate_many(&[br#"{"resourceType":"Patient"}"#, b"x"]);
    /// assert!(outcomes[0].is_valid() && !outcomes[1].is_valid());
    /// ```
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Threads::Count(n);
        self
    }

    /// Run the parallel methods on this rayon pool (shared with the rest
    /// of a program). Same as calling them inside `pool.install(..)`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use fhirreg::rayon::ThreadPoolBuilder;
    /// let pool = Arc::new(ThreadPoolBuilder::new().num_threads(2).build().unwrap());
    /// let validator = fhirreg::Validator::builder().thread_pool(pool).build().unwrap();
    /// assert_eq!(validator.validate_many(&[br#"{"resourceType":"Patient"}"#]).len(), 1);
    /// ```
    #[cfg(feature = "parallel")]
    pub fn thread_pool(mut self, pool: Arc<rayon::ThreadPool>) -> Self {
        self.threads = Threads::Pool(pool);
        self
    }

    /// The language of the messages, as a BCP 47 tag (`en`, `en-GB`,
    /// `nb`: norsk bokmål, also for `no` and `nn`; the primary subtag
    /// decides). Default `en`. [`Validator::build`] fails
    /// with [`Error::UnsupportedLanguage`] for a language without messages
    /// ([`Lang::ALL`] lists those there are). The language is used where
    /// the validator renders text: [`Validator::operation_outcome`] and
    /// [`Validator::message`].
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().language("en-GB").build().unwrap();
    /// assert_eq!(validator.lang(), fhirreg::Lang::En);
    /// let norsk = fhirreg::Validator::builder().language("nb").build().unwrap();
    /// let outcome = norsk.validate(br#"{"resourceType":"Patient","active":"ja"}"#);
    /// let lexical = outcome.errors().find(|i| i.message_id() == "boolean-invalid");
    /// let text = norsk.message(lexical.unwrap());
    /// assert_eq!(text, "En boolean er enten 'true' eller 'false'");
    /// let err = fhirreg::Validator::builder().language("tlh").build().err().unwrap();
    /// assert!(matches!(err, fhirreg::Error::UnsupportedLanguage(_)));
    /// ```
    ///
    /// [`Validator::build`]: ValidatorBuilder::build
    pub fn language(mut self, tag: impl Into<String>) -> Self {
        self.language = tag.into();
        self
    }

    /// Load everything and produce the validator.
    pub fn build(self) -> Result<Validator, Error> {
        if !SUPPORTED_FHIR_VERSIONS.contains(&self.fhir_version.as_str()) {
            return Err(Error::UnsupportedVersion(self.fhir_version));
        }
        let lang = Lang::parse(&self.language).ok_or(Error::UnsupportedLanguage(self.language))?;
        #[cfg(feature = "parallel")]
        let pool = match self.threads {
            Threads::Current | Threads::Count(0) => Pool::Current,
            Threads::Count(1) => Pool::Sequential,
            Threads::Count(n) => Pool::Own(Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .thread_name(|i| format!("fhirreg-{i}"))
                    .build()
                    .map_err(|e| Error::ThreadPool(e.to_string()))?,
            )),
            Threads::Pool(pool) => Pool::Own(pool),
        };
        #[cfg(not(feature = "parallel"))]
        let pool = match self.threads {
            Threads::Current | Threads::Count(_) => Pool::Sequential,
        };
        let mut registry = Registry::builder();
        for source in self.sources {
            registry = match source {
                Source::Bytes(name, bytes) => registry.add_bytes(&name, &bytes),
                #[cfg(feature = "fs")]
                Source::Path(path) => registry.add_path(&path),
                #[cfg(feature = "fs")]
                Source::CachedPackage(id) => registry.add_package_cache(&id),
            };
        }
        let registry = registry.build()?;
        Ok(Validator {
            inner: fhirreg_validator::Validator::new(registry.clone(), self.options),
            terminology: fhirreg_terminology::Terminology::new(registry.clone()),
            fhirpath_model: Arc::new(fhirreg_registry::model::FhirPathModel::new(
                registry.clone(),
            )),
            registry,
            profiles: self.profiles,
            parse_options: self.parse_options,
            max_issues: self.max_issues,
            pool,
            lang,
        })
    }
}

/// Where the parallel methods run.
#[derive(Clone)]
enum Pool {
    /// The current rayon pool.
    #[cfg(feature = "parallel")]
    Current,
    /// The calling thread, one input after the other.
    Sequential,
    #[cfg(feature = "parallel")]
    Own(Arc<rayon::ThreadPool>),
}

/// A configured validator. Cheap to clone, `Send + Sync`: share one across
/// threads; definitions are compiled once and cached inside.
#[derive(Clone)]
pub struct Validator {
    inner: fhirreg_validator::Validator,
    /// The terminology operations' engine (its caches live as long as the
    /// validator).
    terminology: fhirreg_terminology::Terminology,
    /// FHIRPath's type information for [`FhirPath`] (cached per type).
    fhirpath_model: Arc<fhirreg_registry::model::FhirPathModel>,
    registry: Registry,
    profiles: Vec<String>,
    parse_options: ParseOptions,
    max_issues: Option<usize>,
    pool: Pool,
    lang: Lang,
}

impl Validator {
    /// Start configuring a validator (embedded FHIR R4 core included).
    pub fn builder() -> ValidatorBuilder {
        ValidatorBuilder::default()
    }

    /// Validate one resource (JSON or XML, detected from the content)
    /// against its core type, its `meta.profile`s and the builder's
    /// profiles. Never panics: unreadable input gives an outcome with a
    /// fatal issue.
    pub fn validate(&self, bytes: &[u8]) -> Outcome {
        self.validate_with_profiles(bytes, &[])
    }

    /// Like [`Validator::validate`], with extra profiles for this call.
    pub fn validate_with_profiles(&self, bytes: &[u8], profiles: &[String]) -> Outcome {
        self.validate_parsed(self.parse(bytes), profiles)
    }

    /// Like [`Validator::validate_with_profiles`], but input that cannot be
    /// read and profiles that cannot be found are errors instead of fatal
    /// issues: [`Error::UnknownFormat`] (neither JSON nor XML),
    /// [`Error::Parse`] (malformed, or over the [`ParseOptions`] limits;
    /// with the position), [`Error::UnknownProfile`] (one of `profiles` is
    /// not in the registry). A panic (a bug) is [`Error::Internal`].
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// let outcome = validator.try_validate(br#"{"resourceType":"Patient","active":"yes"}"#, &[]).unwrap();
    /// assert!(!outcome.is_valid());
    /// match validator.try_validate(b"{\"resourceType\":", &[]) {
    ///     Err(fhirreg::Error::Parse(e)) => assert_eq!((e.pos.line, e.pos.col), (1, 17)),
    ///     other => panic!("{other:?}"),
    /// }
    /// let profile = ["http://example.org/no-such-profile".to_string()];
    /// let unknown = validator.try_validate(br#"{"resourceType":"Patient"}"#, &profile);
    /// assert!(matches!(unknown, Err(fhirreg::Error::UnknownProfile(_))));
    /// ```
    pub fn try_validate(&self, bytes: &[u8], profiles: &[String]) -> Result<Outcome, Error> {
        for profile in profiles {
            self.check_profile(profile)?;
        }
        let format = Format::sniff(bytes).ok_or(Error::UnknownFormat)?;
        let document = fhirreg_element::parse(bytes, format, &self.parse_options)?;
        catch(|| self.validate_parsed(Ok(document), profiles))
    }

    /// `Ok` when `canonical` (`url` or `url|version`) names a
    /// StructureDefinition of the registry, [`Error::UnknownProfile`]
    /// otherwise. Validating against an unknown profile is not an error
    /// but an issue of each resource (`unknown-profile`); this checks a
    /// configuration up front.
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// assert!(validator.check_profile("http://hl7.org/fhir/StructureDefinition/vitalsigns").is_ok());
    /// assert!(validator.check_profile("http://hl7.org/fhir/StructureDefinition/vitalsigns|4.0.1").is_ok());
    /// assert!(validator.check_profile("http://hl7.org/fhir/ValueSet/administrative-gender").is_err());
    /// ```
    pub fn check_profile(&self, canonical: &str) -> Result<(), Error> {
        match self.registry.resolve_summary(canonical) {
            Some(summary) if summary.resource_type() == "StructureDefinition" => Ok(()),
            _ => Err(Error::UnknownProfile(canonical.to_string())),
        }
    }

    /// The profiles every resource is validated against
    /// ([`ValidatorBuilder::profile`]).
    pub fn profiles(&self) -> &[String] {
        &self.profiles
    }

    /// The language of the messages ([`ValidatorBuilder::language`]).
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The text of an issue in this validator's language.
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// let outcome = validator.validate(br#"{"resourceType":"Patient","colour":"red"}"#);
    /// assert!(validator.message(&outcome.issues[0]).contains("colour"));
    /// ```
    pub fn message(&self, issue: &Issue) -> String {
        issue.message_in(self.lang)
    }

    /// The OperationOutcome of an outcome, in this validator's language
    /// (see [`Outcome::operation_outcome`]).
    pub fn operation_outcome<'a>(&self, outcome: &'a Outcome) -> OperationOutcome<'a> {
        outcome.operation_outcome().lang(self.lang)
    }

    /// Validate several resources (each JSON or XML), in parallel (see
    /// [`ValidatorBuilder::threads`]); the outcomes are in input order.
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// let inputs: [&[u8]; 3] = [
    ///     br#"{"resourceType":"Patient"}"#,
    ///     br#"{"resourceType":"Patient","active":"yes"}"#,
    ///     br#"<Patient xmlns="http://hl7.org/fhir"/>"#,
    /// ];
    /// let valid: Vec<bool> = validator.validate_many(&inputs).iter().map(|o| o.is_valid()).collect();
    /// assert_eq!(valid, [true, false, true]);
    /// ```
    pub fn validate_many(&self, inputs: &[&[u8]]) -> Vec<Outcome> {
        self.validate_many_with_profiles(inputs, &[])
    }

    /// [`Validator::validate_many`] with extra profiles for this call (as
    /// [`Validator::validate_with_profiles`]).
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// let vitals = ["http://hl7.org/fhir/StructureDefinition/vitalsigns".to_string()];
    /// let inputs: [&[u8]; 1] = [br#"{"resourceType":"Observation","status":"final","code":{"text":"x"}}"#];
    /// assert!(validator.validate_many(&inputs)[0].is_valid());
    /// assert!(!validator.validate_many_with_profiles(&inputs, &vitals)[0].is_valid());
    /// ```
    pub fn validate_many_with_profiles(
        &self,
        inputs: &[&[u8]],
        profiles: &[String],
    ) -> Vec<Outcome> {
        self.map_ordered(inputs, |bytes| {
            self.guarded(|| self.validate_with_profiles(bytes, profiles))
        })
    }

    /// Run one validation; a panic (a bug, whatever the input) becomes a
    /// fatal issue of that input instead of ending the whole batch.
    fn guarded(&self, validate: impl FnOnce() -> Outcome) -> Outcome {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(validate)).unwrap_or_else(|_| {
            Outcome {
                issues: vec![internal_error()],
            }
        })
    }

    /// Validate an NDJSON stream: one JSON resource per line, as bulk-data
    /// exports are written. Returns an iterator of [`NdjsonResult`]s (the
    /// 1-based line number and its outcome) in line order.
    ///
    /// Lines are read and validated in batches (in parallel, see
    /// [`ValidatorBuilder::threads`]) while the iterator is consumed, so
    /// memory is bounded by the largest line and one batch of lines (at most
    /// 1,024 lines or 8 MiB, or the one line when it is larger) with their
    /// outcomes, whatever the stream's size. Blank lines are skipped (but
    /// counted); a line that is not a JSON resource gets a fatal issue; a
    /// line longer than [`ParseOptions::max_size`] gets a fatal issue
    /// without being held in memory. A read error ends the iteration:
    /// [`NdjsonResults::read_error`] then tells it.
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// let input = "{\"resourceType\":\"Patient\"}\n\n{\"resourceType\":\"Patient\",\"active\":1}\nnot json\n";
    /// let results: Vec<_> = validator.validate_ndjson(input.as_bytes()).collect();
    /// let lines: Vec<(u64, bool)> = results.iter().map(|r| (r.line, r.outcome.is_valid())).collect();
    /// assert_eq!(lines, [(1, true), (3, false), (4, false)]);
    /// ```
    pub fn validate_ndjson<R: BufRead>(&self, reader: R) -> NdjsonResults<'_, R> {
        NdjsonResults::new(ndjson::ValidatorRef::Borrowed(self), reader)
    }

    /// [`Validator::validate_ndjson`] taking the validator (clone it: that
    /// is cheap), so that the iterator borrows nothing and can be kept in
    /// another structure, sent to another thread or handed to another
    /// language.
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// let input = std::io::Cursor::new(b"{\"resourceType\":\"Patient\"}\n".to_vec());
    /// let results = validator.clone().validate_ndjson_owned(input);
    /// let handle = std::thread::spawn(move || results.map(|r| r.line).collect::<Vec<_>>());
    /// assert_eq!(handle.join().unwrap(), [1]);
    /// ```
    pub fn validate_ndjson_owned<R: BufRead>(self, reader: R) -> NdjsonResults<'static, R> {
        NdjsonResults::new(ndjson::ValidatorRef::Owned(Box::new(self)), reader)
    }

    /// Apply `f` to every item on this validator's threads; results in
    /// item order.
    fn map_ordered<T: Sync, U: Send>(
        &self,
        items: &[T],
        f: impl Fn(&T) -> U + Sync + Send,
    ) -> Vec<U> {
        match &self.pool {
            Pool::Sequential => items.iter().map(f).collect(),
            #[cfg(feature = "parallel")]
            Pool::Current => items.par_iter().map(f).collect(),
            #[cfg(feature = "parallel")]
            Pool::Own(pool) => pool.install(|| items.par_iter().map(f).collect()),
        }
    }

    /// True when the parallel methods run in the calling thread.
    fn is_sequential(&self) -> bool {
        matches!(self.pool, Pool::Sequential)
    }

    /// Validate a parsed document (or report why it could not be read)
    /// and apply the issue limit.
    fn validate_parsed(&self, parsed: Result<Document, Issue>, profiles: &[String]) -> Outcome {
        let mut outcome = match parsed {
            Err(issue) => Outcome {
                issues: vec![issue],
            },
            Ok(mut document) => {
                let mut issues = std::mem::take(&mut document.issues);
                if profiles.is_empty() {
                    issues.extend(self.inner.validate(document.root(), &self.profiles));
                } else {
                    let mut all_profiles = self.profiles.clone();
                    all_profiles.extend(profiles.iter().cloned());
                    issues.extend(self.inner.validate(document.root(), &all_profiles));
                }
                Outcome { issues }
            }
        };
        if let Some(max) = self.max_issues {
            outcome.truncate(max);
        }
        outcome
    }

    /// True when the resource has no error or fatal issue: the verdict
    /// of [`Validator::validate`], found faster (the validation stops at
    /// the first error and lists nothing).
    ///
    /// ```
    /// let validator = fhirreg::Validator::builder().build().unwrap();
    /// assert!(validator.is_valid(br#"{"resourceType":"Patient","active":true}"#));
    /// assert!(!validator.is_valid(br#"{"resourceType":"Patient","active":"yes"}"#));
    /// assert!(!validator.is_valid(b"not FHIR"));
    /// ```
    pub fn is_valid(&self, bytes: &[u8]) -> bool {
        let Ok(document) = self.parse(bytes) else {
            return false;
        };
        if document.issues.iter().any(|i| i.severity.is_error()) {
            return false;
        }
        // A panic (a bug) is no verdict of validity.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.inner.is_valid(document.root(), &self.profiles)
        }))
        .unwrap_or(false)
    }

    /// Convert a resource between FHIR JSON and XML. Types from the
    /// definitions decide arrays and JSON number/boolean values.
    pub fn convert(&self, bytes: &[u8], to: Format, pretty: bool) -> Result<String, Error> {
        let format = Format::sniff(bytes).ok_or(Error::UnknownFormat)?;
        let mut document = fhirreg_element::parse(bytes, format, &self.parse_options)?;
        self.registry.annotate_types(&mut document);
        Ok(match to {
            Format::Json => fhirreg_element::json::write(document.root(), pretty),
            Format::Xml => fhirreg_element::xml::write(document.root(), pretty),
        })
    }

    /// A terminology engine over this validator's registry (a handle on
    /// the validator's own: caches are shared).
    pub fn terminology(&self) -> fhirreg_terminology::Terminology {
        self.terminology.clone()
    }

    /// The registry of conformance resources this validator uses.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn parse(&self, bytes: &[u8]) -> Result<Document, Issue> {
        let format = Format::sniff(bytes).ok_or_else(|| {
            Issue::new(Msg::UnknownFormat, args![], "", Some(Position::new(1, 1)))
        })?;
        fhirreg_element::parse(bytes, format, &self.parse_options).map_err(parse_error)
    }
}

/// Run `f`; a panic (a bug) becomes [`Error::Internal`] with its message.
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        Error::Internal(text)
    })
}

/// The fatal issue of an input whose validation panicked: the only place
/// that writes it.
fn internal_error() -> Issue {
    Issue::new(Msg::InternalError, args![], "", None)
}

fn parse_error(e: ParseError) -> Issue {
    Issue::new(Msg::ParseError, args![e.message], "", Some(e.pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validator_is_send_sync_clone() {
        fn assert_traits<T: Send + Sync + Clone>() {}
        assert_traits::<Validator>();
    }

    #[test]
    fn unsupported_version_is_an_error() {
        assert!(matches!(
            Validator::builder().fhir_version("5.0.0").build(),
            Err(Error::UnsupportedVersion(_))
        ));
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn validate_many_keeps_the_input_order_on_any_number_of_threads() {
        let valid: &[u8] = br#"{"resourceType":"Patient","active":true}"#;
        let invalid: &[u8] = br#"{"resourceType":"Patient","active":"yes"}"#;
        let inputs: Vec<&[u8]> = (0..200)
            .map(|i| if i % 3 == 0 { invalid } else { valid })
            .collect();
        let expected: Vec<bool> = (0..200).map(|i| i % 3 != 0).collect();
        for threads in [0, 1, 2, 3] {
            let validator = Validator::builder().threads(threads).build().unwrap();
            let got: Vec<bool> = validator
                .validate_many(&inputs)
                .iter()
                .map(Outcome::is_valid)
                .collect();
            assert_eq!(got, expected, "threads {threads}");
        }
        let pool = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap(),
        );
        let validator = Validator::builder().thread_pool(pool).build().unwrap();
        assert_eq!(validator.validate_many(&inputs).len(), 200);
        assert!(validator.validate_many(&[]).is_empty());
    }

    #[test]
    fn max_issues_cuts_every_path_and_keeps_the_verdict() {
        // Three errors (active, gender, birthDate).
        let bad: &[u8] =
            br#"{"resourceType":"Patient","active":"yes","gender":"x","birthDate":"1985-13"}"#;
        let full = Validator::builder().build().unwrap().validate(bad);
        assert!(full.issues.len() >= 3, "{:?}", full.issues);
        let validator = Validator::builder().max_issues(2).build().unwrap();
        let mut line = bad.to_vec();
        line.push(b'\n');
        let outcomes = [
            validator.validate(bad),
            validator.validate_many(&[bad]).remove(0),
            validator
                .validate_ndjson(&line[..])
                .next()
                .map(|r| r.outcome)
                .unwrap_or_default(),
        ];
        for outcome in outcomes {
            assert_eq!(outcome.issues.len(), 3, "{:?}", outcome.issues);
            assert_eq!(outcome.issues[..2], full.issues[..2]);
            let summary = &outcome.issues[2];
            assert_eq!(summary.msg, Msg::TooManyIssues);
            let left_out = (full.issues.len() - 2).to_string();
            assert_eq!(summary.args[0].as_text(), Some(left_out.as_str()));
            assert_eq!(summary.args[1].as_text(), Some("2"));
            assert!(!outcome.is_valid());
        }
        // Under the limit nothing changes.
        let roomy = Validator::builder().max_issues(100).build().unwrap();
        assert_eq!(roomy.validate(bad).issues, full.issues);
    }

    #[cfg(feature = "fs")]
    #[test]
    fn configuration_errors_are_typed() {
        let dir = std::env::temp_dir().join(format!("fhirreg-empty-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::env::set_var("FHIR_PACKAGE_CACHE", &dir);
        let missing = Validator::builder()
            .package("no.such.package#1.0.0")
            .build();
        assert!(
            matches!(&missing, Err(Error::UnknownPackage(_))),
            "{:?}",
            missing.err()
        );
        let unreadable = Validator::builder()
            .load_path(dir.join("nothing-here.json"))
            .build();
        assert!(matches!(unreadable, Err(Error::Registry(_))));
        assert!(matches!(
            Validator::builder().language("xx").build(),
            Err(Error::UnsupportedLanguage(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_operation_outcome_is_written_in_the_validators_language() {
        let validator = Validator::builder().language("en").build().unwrap();
        let outcome = validator.validate(br#"{"resourceType":"Patient","active":"yes"}"#);
        let value = validator.operation_outcome(&outcome).to_value();
        assert_eq!(value, outcome.to_operation_outcome());
        assert_eq!(
            value["issue"][0]["details"]["text"],
            validator.message(&outcome.issues[0])
        );
    }

    #[test]
    fn try_validate_agrees_with_validate_on_readable_input() {
        let validator = Validator::builder().build().unwrap();
        let profile = ["http://hl7.org/fhir/StructureDefinition/vitalsigns".to_string()];
        let input: &[u8] =
            br#"{"resourceType":"Observation","status":"final","code":{"text":"x"}}"#;
        let tried = validator.try_validate(input, &profile).unwrap();
        assert_eq!(
            tried.issues,
            validator.validate_with_profiles(input, &profile).issues
        );
        assert!(!tried.is_valid());
        assert!(matches!(
            validator.try_validate(b"  ", &[]),
            Err(Error::UnknownFormat)
        ));
    }

    #[test]
    fn garbage_gives_fatal_issue() {
        let validator = Validator::builder().build().unwrap();
        let outcome = validator.validate(b"hello");
        assert!(!outcome.is_valid());
        assert_eq!(outcome.issues[0].severity, Severity::Fatal);
    }
}
