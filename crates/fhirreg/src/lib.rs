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

use std::path::{Path, PathBuf};

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
/// The registry crate: packages, the package cache, canonical resolution.
pub use fhirreg_registry as registry;
/// The terminology engine: lookup, validate-code, expand, subsumes, translate.
pub use fhirreg_terminology as terminology;

mod outcome;
pub use outcome::Outcome;

/// The FHIR versions this build validates.
pub const SUPPORTED_FHIR_VERSIONS: &[&str] = &["4.0.1", "4.0"];

/// Errors building a [`Validator`] or converting a document.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("FHIR version {0} is not supported (supported: 4.0.1)")]
    UnsupportedVersion(String),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{0}")]
    Parse(#[from] ParseError),
    #[error("cannot tell whether the input is JSON or XML")]
    UnknownFormat,
}

/// Where extra definitions come from.
enum Source {
    Bytes(String, Vec<u8>),
    Path(PathBuf),
    CachedPackage(String),
}

/// Configures a [`Validator`]: FHIR version, extra packages and
/// conformance resources, default profiles, limits.
pub struct ValidatorBuilder {
    fhir_version: String,
    sources: Vec<Source>,
    profiles: Vec<String>,
    parse_options: ParseOptions,
    options: ValidatorOptions,
}

impl Default for ValidatorBuilder {
    fn default() -> Self {
        ValidatorBuilder {
            fhir_version: "4.0.1".to_string(),
            sources: Vec::new(),
            profiles: Vec::new(),
            parse_options: ParseOptions::default(),
            options: ValidatorOptions::default(),
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
    /// directory.
    pub fn load_path(mut self, path: impl AsRef<Path>) -> Self {
        self.sources.push(Source::Path(path.as_ref().to_path_buf()));
        self
    }

    /// Add a package from the FHIR package cache (`~/.fhir/packages`), as
    /// `ID#VERSION`.
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

    /// Load everything and produce the validator.
    pub fn build(self) -> Result<Validator, Error> {
        if !SUPPORTED_FHIR_VERSIONS.contains(&self.fhir_version.as_str()) {
            return Err(Error::UnsupportedVersion(self.fhir_version));
        }
        let mut registry = Registry::builder();
        for source in self.sources {
            registry = match source {
                Source::Bytes(name, bytes) => registry.add_bytes(&name, &bytes),
                Source::Path(path) => registry.add_path(&path),
                Source::CachedPackage(id) => registry.add_package_cache(&id),
            };
        }
        let registry = registry.build()?;
        Ok(Validator {
            inner: fhirreg_validator::Validator::new(registry.clone(), self.options),
            registry,
            profiles: self.profiles,
            parse_options: self.parse_options,
        })
    }
}

/// A configured validator. Cheap to clone, `Send + Sync`: share one across
/// threads; definitions are compiled once and cached inside.
#[derive(Clone)]
pub struct Validator {
    inner: fhirreg_validator::Validator,
    registry: Registry,
    profiles: Vec<String>,
    parse_options: ParseOptions,
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
        let document = match self.parse(bytes) {
            Ok(document) => document,
            Err(issue) => {
                return Outcome {
                    issues: vec![issue],
                }
            }
        };
        let mut all_profiles = self.profiles.clone();
        all_profiles.extend(profiles.iter().cloned());
        let mut issues = document.issues;
        issues.extend(self.inner.validate(&document.root, &all_profiles));
        Outcome { issues }
    }

    /// True when the resource has no error or fatal issue.
    pub fn is_valid(&self, bytes: &[u8]) -> bool {
        self.validate(bytes).is_valid()
    }

    /// Convert a resource between FHIR JSON and XML. Types from the
    /// definitions decide arrays and JSON number/boolean values.
    pub fn convert(&self, bytes: &[u8], to: Format, pretty: bool) -> Result<String, Error> {
        let format = Format::sniff(bytes).ok_or(Error::UnknownFormat)?;
        let mut document = fhirreg_element::parse(bytes, format, &self.parse_options)?;
        self.registry.annotate_types(&mut document.root);
        Ok(match to {
            Format::Json => fhirreg_element::json::write(&document.root, pretty),
            Format::Xml => fhirreg_element::xml::write(&document.root, pretty),
        })
    }

    /// A terminology engine over this validator's registry.
    pub fn terminology(&self) -> fhirreg_terminology::Terminology {
        fhirreg_terminology::Terminology::new(self.registry.clone())
    }

    /// The registry of conformance resources this validator uses.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn parse(&self, bytes: &[u8]) -> Result<Document, Issue> {
        let format = Format::sniff(bytes).ok_or_else(|| {
            Issue::new(Msg::UnknownFormat, args![], "", Some(Position::new(1, 1)))
        })?;
        fhirreg_element::parse(bytes, format, &self.parse_options)
            .map_err(|e| Issue::new(Msg::ParseError, args![e.message], "", Some(e.pos)))
    }
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

    #[test]
    fn garbage_gives_fatal_issue() {
        let validator = Validator::builder().build().unwrap();
        let outcome = validator.validate(b"hello");
        assert!(!outcome.is_valid());
        assert_eq!(outcome.issues[0].severity, Severity::Fatal);
    }
}
