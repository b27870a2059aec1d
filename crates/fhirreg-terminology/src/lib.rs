//! Local FHIR terminology over the registry: `$lookup`, `$validate-code`,
//! `$expand`, `$subsumes`, `$translate`, with no network.
//!
//! [`Terminology`] works on the CodeSystems, ValueSets and ConceptMaps a
//! [`ResourceSource`] (normally the [`fhirreg_registry::Registry`]) holds,
//! plus the code systems implemented in code ([`GrammarSystem`]: UCUM,
//! BCP-47, MIME types, ISO 3166, ISO 4217). Codes from systems that are
//! neither (SNOMED CT, LOINC, ICD-10, anything not loaded) are reported as
//! *not checked* ([`ValidateResult::unknown`]), never as errors, except
//! SNOMED CT and LOINC codes that break their identifier syntax (SCTID
//! check digit, LOINC mod-10 check digit: see [`external`]).
//!
//! Each CodeSystem and ValueSet is compiled once on first use (concept
//! index, hierarchy, membership index) and cached, so repeated
//! validations against the same ValueSet are hash lookups.
//!
//! What is covered:
//!
//! - CodeSystems: nested and `parent`/`child`/`subsumedBy` hierarchies,
//!   properties, designations, `caseSensitive`, versions, supplements,
//!   `content` (codes missing from a `fragment`/`example` are warnings,
//!   `not-present` systems are not checked).
//! - ValueSets: include/exclude by system (+version), concept lists,
//!   filters (`=`, `is-a`, `descendent-of`, `is-not-a`, `generalizes`,
//!   `child-of`, `regex`, `in`, `not-in`, `exists`), cycle-safe imports,
//!   stored expansions, `$expand` with text filter, paging, designations,
//!   `system-version` pins and a size limit ([`TxError::TooCostly`]).
//! - Findings are messages of the shared catalogue
//!   ([`fhirreg_element::message`]); [`ValidateResult::binding_issues`]
//!   reports a binding failure by strength and element kind.
//! - Code systems in code: [`ucum`] (a real parser with canonical units),
//!   BCP-47, MIME types, ISO 3166, ISO 4217 ([`grammar`]).
//!
//! ```
//! use fhirreg_terminology::{CodingRef, MemorySource, Terminology};
//! use serde_json::json;
//!
//! let mut src = MemorySource::new();
//! src.add(json!({"resourceType": "CodeSystem", "url": "http://example.org/cs", "version": "1",
//!     "content": "complete", "caseSensitive": true,
//!     "concept": [{"code": "a", "display": "Alpha"}, {"code": "b", "display": "Beta"}]}))?;
//! src.add(json!({"resourceType": "ValueSet", "url": "http://example.org/vs", "version": "1",
//!     "name": "Example", "compose": {"include": [{"system": "http://example.org/cs"}]}}))?;
//! let tx = Terminology::with_source(src);
//! let ok = tx.validate_code("http://example.org/vs", &CodingRef::new("http://example.org/cs", "a"))?;
//! assert!(ok.valid);
//! let bad = tx.validate_code("http://example.org/vs", &CodingRef::code("z"))?;
//! assert!(!bad.valid);
//! assert_eq!(bad.message().as_deref(), Some("The value set 'http://example.org/vs|1' does not tell which code system the code 'z' is from; The code '#z' is not in the value set 'http://example.org/vs|1'"));
//! assert_eq!(bad.issues[0].message.msg, fhirreg_element::Msg::TxSystemUndetermined);
//! # Ok::<(), fhirreg_terminology::TxError>(())
//! ```

#![warn(missing_docs)]

use fhirreg_element::message::{Lang, Message};

mod binding;
mod codesystem;
mod conceptmap;
mod data;
pub mod external;
pub mod grammar;
pub mod parameters;
mod source;
mod validate;
mod valueset;

// The caches here are looked up per validated code (by value set and code
// system url): foldhash, seeded per process, instead of SipHash.
use foldhash::{HashMap, HashMapExt};
use std::sync::{Arc, OnceLock, RwLock};

pub use binding::{BindingStrength, BoundValue};
/// Issue severity: the one of the element tree (a terminology issue is an
/// error, a warning or information, never fatal).
pub use fhirreg_element::Severity;
pub use fhirreg_model::{CodeSystemDef, Content, Designation, PropertyValue, ValueSetDef};
pub use fhirreg_registry::{Registry, Resource};
/// UCUM, the unit engine of the workspace (its own crate).
pub use fhirreg_ucum as ucum;
pub use grammar::GrammarSystem;
pub use source::{Layered, MemorySource, ResourceSource};

/// The current UTC time as a FHIR dateTime with seconds precision
/// (`2026-12-03T07:00:00Z`): the expansion timestamp, and the date the
/// server puts on its CapabilityStatement.
pub fn now_datetime() -> String {
    let mut now = fhirreg_fhirpath::now_utc();
    now.precision = fhirreg_fhirpath::Precision::Second;
    now.to_string()
}

use codesystem::CompiledCodeSystem;
use valueset::VsIndex;

/// Errors of terminology operations (distinct from a negative validation
/// result, which is a [`ValidateResult`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// The ValueSet is not in the registry.
    #[error("Unable to resolve the value set '{0}'")]
    ValueSetNotFound(String),
    /// The CodeSystem is not available (not loaded and not implemented in code).
    #[error("A definition for CodeSystem '{0}' could not be found")]
    CodeSystemNotFound(String),
    /// The ConceptMap is not in the registry.
    #[error("Unable to resolve the concept map '{0}'")]
    ConceptMapNotFound(String),
    /// The code is not in the code system.
    #[error("Unknown code '{code}' in the CodeSystem '{system}'")]
    UnknownCode {
        /// The system.
        system: String,
        /// The code.
        code: String,
    },
    /// An expansion would exceed the size limit.
    #[error(
        "The value set '{valueset}' expansion has too many codes to display (>{limit}): too costly"
    )]
    TooCostly {
        /// The ValueSet.
        valueset: String,
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The ValueSet cannot be expanded locally (e.g. it includes all of SNOMED CT).
    #[error("The value set '{valueset}' cannot be expanded: {reason}")]
    NotExpandable {
        /// The ValueSet.
        valueset: String,
        /// Why.
        reason: String,
    },
    /// ValueSets import each other in a cycle.
    #[error("The value set '{0}' imports itself (cycle)")]
    Cycle(String),
    /// A resource is malformed for the operation.
    #[error("Invalid {what}: {message}")]
    Invalid {
        /// Which resource or parameter.
        what: String,
        /// What is wrong.
        message: String,
    },
}

/// A coding to validate, borrowed from the instance being validated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodingRef<'a> {
    /// `Coding.system`.
    pub system: Option<&'a str>,
    /// `Coding.version`.
    pub version: Option<&'a str>,
    /// `Coding.code` (or a bare `code` value).
    pub code: Option<&'a str>,
    /// `Coding.display`.
    pub display: Option<&'a str>,
}

impl<'a> CodingRef<'a> {
    /// A coding with a system and a code.
    pub fn new(system: &'a str, code: &'a str) -> Self {
        CodingRef {
            system: Some(system),
            code: Some(code),
            ..Default::default()
        }
    }

    /// A bare code (a FHIR `code` element) with no system.
    pub fn code(code: &'a str) -> Self {
        CodingRef {
            code: Some(code),
            ..Default::default()
        }
    }

    /// The same coding with a display.
    pub fn with_display(mut self, display: &'a str) -> Self {
        self.display = Some(display);
        self
    }

    /// The same coding with a version.
    pub fn with_version(mut self, version: &'a str) -> Self {
        self.version = Some(version);
        self
    }

    /// `system#code` as the HL7 validator prints it.
    pub fn to_token(&self) -> String {
        format!("{}#{}", self.system.unwrap_or(""), self.code.unwrap_or(""))
    }
}

/// What a [`TxIssue`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueKind {
    /// The code is not in the value set.
    NotInValueSet,
    /// The code is not in its code system.
    UnknownCode,
    /// The code system is not available; the code was not checked.
    UnknownSystem,
    /// The code system is known but not in the requested version.
    UnknownVersion,
    /// The display does not match the concept.
    InvalidDisplay,
    /// The code matched only ignoring case.
    CaseDifference,
    /// Membership could not be decided (e.g. a filter on an unavailable system).
    NotChecked,
    /// The concept is inactive (retired, deprecated).
    Inactive,
    /// No system was given and none could be inferred.
    NoSystem,
    /// The coding has no code.
    NoCode,
}

/// One finding of a validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxIssue {
    /// How serious.
    pub severity: Severity,
    /// What about.
    pub kind: IssueKind,
    /// What it says: a message of the catalogue
    /// ([`fhirreg_element::message`]) with its arguments.
    pub message: Message,
}

/// The outcome of `$validate-code`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidateResult {
    /// False only when the code is definitely not valid (an error).
    pub valid: bool,
    /// True when the answer could not be determined (code system not
    /// available, e.g. SNOMED CT): `valid` is then true and the issues say
    /// why the code was not checked.
    pub unknown: bool,
    /// Findings, errors first.
    pub issues: Vec<TxIssue>,
    /// The system of the matched concept (inferred when not given).
    pub system: Option<String>,
    /// The code system version used.
    pub version: Option<String>,
    /// The matched code (as defined: may differ by case from the input).
    pub code: Option<String>,
    /// The preferred display of the matched concept.
    pub display: Option<String>,
    /// The value set as `url|version` (when validating against one).
    pub valueset: Option<String>,
    /// The value set's title or name.
    pub valueset_name: Option<String>,
}

impl ValidateResult {
    /// The messages that sum the result up: those of the errors, or else
    /// the first message (none when there is no issue).
    pub fn messages(&self) -> Vec<Message> {
        let errors: Vec<Message> = self
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| i.message.clone())
            .collect();
        if !errors.is_empty() {
            return errors;
        }
        self.issues
            .iter()
            .take(1)
            .map(|i| i.message.clone())
            .collect()
    }

    /// [`Self::messages`] as English text, joined with `"; "`.
    pub fn message(&self) -> Option<String> {
        self.message_in(Lang::En)
    }

    /// [`Self::messages`] as text in `lang`, joined with `"; "`.
    pub fn message_in(&self, lang: Lang) -> Option<String> {
        let texts: Vec<String> = self.messages().iter().map(|m| m.render(lang)).collect();
        (!texts.is_empty()).then(|| texts.join("; "))
    }

    /// The most serious severity among the issues.
    pub fn severity(&self) -> Option<Severity> {
        self.issues.iter().map(|i| i.severity).min()
    }

    /// Whether any issue is of this kind.
    pub fn has(&self, kind: IssueKind) -> bool {
        self.issues.iter().any(|i| i.kind == kind)
    }
}

/// The outcome of `$lookup`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LookupResult {
    /// The code system URL.
    pub system: String,
    /// The code system's name.
    pub name: String,
    /// The code system version.
    pub version: Option<String>,
    /// The code as defined.
    pub code: String,
    /// Preferred display.
    pub display: Option<String>,
    /// Definition text.
    pub definition: Option<String>,
    /// Designations (including those from supplements).
    pub designations: Vec<Designation>,
    /// Properties as (code, value).
    pub properties: Vec<(String, PropertyValue)>,
    /// Codes of the direct parents.
    pub parents: Vec<String>,
    /// Codes of the direct children.
    pub children: Vec<String>,
    /// notSelectable / abstract.
    pub abstract_: bool,
    /// inactive / retired.
    pub inactive: bool,
}

/// Parameters of `$expand`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExpandParams {
    /// Text filter: keep concepts whose code or display (or designation)
    /// contains every word of this, case-insensitively.
    pub filter: Option<String>,
    /// Paging: skip this many concepts.
    pub offset: usize,
    /// Paging: return at most this many concepts.
    pub count: Option<usize>,
    /// Include designations in `contains`.
    pub include_designations: bool,
    /// Leave out inactive concepts.
    pub active_only: bool,
    /// `system-version`: the version of a system to use when the compose does not say.
    pub system_versions: Vec<(String, String)>,
    /// Refuse (with [`TxError::TooCostly`]) expansions larger than this
    /// (before paging); `None` takes the [`Options::max_expansion_size`].
    pub max_size: Option<usize>,
}

/// `$subsumes` outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subsumption {
    /// Same concept.
    Equivalent,
    /// A subsumes B.
    Subsumes,
    /// A is subsumed by B.
    SubsumedBy,
    /// Neither.
    NotSubsumed,
}

impl Subsumption {
    /// The FHIR `concept-subsumption-outcome` code.
    pub fn code(self) -> &'static str {
        match self {
            Subsumption::Equivalent => "equivalent",
            Subsumption::Subsumes => "subsumes",
            Subsumption::SubsumedBy => "subsumed-by",
            Subsumption::NotSubsumed => "not-subsumed",
        }
    }
}

/// One `$translate` match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// R4 `ConceptMapEquivalence` (`equivalent`, `wider`, `unmatched` ...).
    pub equivalence: String,
    /// Target system.
    pub system: Option<String>,
    /// Target system version.
    pub version: Option<String>,
    /// Target code (absent for `unmatched`).
    pub code: Option<String>,
    /// Target display.
    pub display: Option<String>,
    /// Comment of the mapping.
    pub comment: Option<String>,
}

/// Engine options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Largest `$expand` allowed when [`ExpandParams::max_size`] is not set.
    pub max_expansion_size: usize,
    /// Largest membership index built for one ValueSet; larger value sets
    /// fail with [`TxError::TooCostly`].
    pub max_index_size: usize,
    /// Severity of a wrong display (the HL7 validator uses error; default warning).
    pub display_mismatch: Severity,
    /// Language named in display messages.
    pub display_language: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_expansion_size: 10_000,
            max_index_size: 500_000,
            display_mismatch: Severity::Warning,
            display_language: "en-US".to_owned(),
        }
    }
}

/// `system|version`, the cache key of a code system version (built
/// without the formatting machinery: it is asked for every versioned
/// coding).
fn versioned_key(system: &str, version: &str) -> String {
    let mut key = String::with_capacity(system.len() + 1 + version.len());
    key.push_str(system);
    key.push('|');
    key.push_str(version);
    key
}

type CsCache = RwLock<HashMap<String, Option<Arc<CompiledCodeSystem>>>>;
type VsCache = RwLock<HashMap<String, Result<Arc<VsIndex>, TxError>>>;

struct Inner {
    source: Box<dyn ResourceSource>,
    /// Supplements by the system they supplement, listed on first use.
    supplements: OnceLock<HashMap<String, Vec<Arc<CodeSystemDef>>>>,
    options: Options,
    codesystems: CsCache,
    valuesets: VsCache,
}

/// The terminology engine. `Send + Sync`; cloning shares the caches.
#[derive(Clone)]
pub struct Terminology {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Terminology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminology")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

/// What a system resolves to.
pub(crate) enum SystemDef {
    /// A CodeSystem resource.
    Resource(Arc<CompiledCodeSystem>),
    /// Implemented in code.
    Grammar(GrammarSystem),
    /// Known, but not in the requested version.
    WrongVersion(Vec<String>),
    /// Not available.
    Missing,
}

impl Terminology {
    /// An engine over a registry.
    pub fn new(registry: Registry) -> Terminology {
        Terminology::with_source(registry)
    }

    /// An engine over any resource source (a registry, a [`MemorySource`] ...).
    pub fn with_source(source: impl ResourceSource + 'static) -> Terminology {
        Terminology::with_options(source, Options::default())
    }

    /// An engine with options.
    pub fn with_options(source: impl ResourceSource + 'static, options: Options) -> Terminology {
        Terminology {
            inner: Arc::new(Inner {
                source: Box::new(source),
                supplements: OnceLock::new(),
                options,
                codesystems: RwLock::default(),
                valuesets: RwLock::default(),
            }),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    pub(crate) fn source(&self) -> &dyn ResourceSource {
        self.inner.source.as_ref()
    }

    fn supplements_of(&self, system: &str) -> &[Arc<CodeSystemDef>] {
        let index = self.inner.supplements.get_or_init(|| {
            let mut map: HashMap<String, Vec<Arc<CodeSystemDef>>> = HashMap::new();
            for cs in self.source().supplements() {
                if let Some(target) = &cs.supplements {
                    let base = target.split('|').next().unwrap_or(target).to_owned();
                    map.entry(base).or_default().push(cs);
                }
            }
            map
        });
        index.get(system).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Resolve a code system by URL and optional version (cached).
    pub(crate) fn system(&self, system: &str, version: Option<&str>) -> SystemDef {
        let cached = self
            .inner
            .codesystems
            .read()
            .ok()
            .and_then(|m| match version {
                None => m.get(system).cloned(),
                Some(v) => m.get(&versioned_key(system, v)).cloned(),
            });
        let found = match cached {
            Some(c) => c,
            None => {
                let key = match version {
                    Some(v) => versioned_key(system, v),
                    None => system.to_owned(),
                };
                let compiled = self.source().code_system(&key).map(|def| {
                    Arc::new(CompiledCodeSystem::compile(
                        def,
                        self.supplements_of(system),
                    ))
                });
                if let Ok(mut m) = self.inner.codesystems.write() {
                    m.insert(key, compiled.clone());
                }
                compiled
            }
        };
        if let Some(cs) = found {
            if cs.content != Content::Supplement {
                return SystemDef::Resource(cs);
            }
        }
        if let Some(g) = GrammarSystem::for_url(system) {
            return SystemDef::Grammar(g);
        }
        if version.is_some() {
            if let SystemDef::Resource(_) = self.system(system, None) {
                return SystemDef::WrongVersion(self.source().versions(system));
            }
        }
        SystemDef::Missing
    }

    pub(crate) fn cached_valueset(&self, key: &str) -> Option<Result<Arc<VsIndex>, TxError>> {
        self.inner
            .valuesets
            .read()
            .ok()
            .and_then(|m| m.get(key).cloned())
    }

    pub(crate) fn cache_valueset(&self, key: &str, value: Result<Arc<VsIndex>, TxError>) {
        if let Ok(mut m) = self.inner.valuesets.write() {
            m.insert(key.to_owned(), value);
        }
    }

    /// The compiled index of a value set (cached per canonical and pins).
    pub(crate) fn valueset_index(
        &self,
        canonical: &str,
        pins: &[(String, String)],
    ) -> Result<Arc<VsIndex>, TxError> {
        // (asked for every bound code: no allocation without pins)
        let key: std::borrow::Cow<'_, str> = if pins.is_empty() {
            std::borrow::Cow::Borrowed(canonical)
        } else {
            let mut key = canonical.to_owned();
            for (s, v) in pins {
                key.push('\u{1}');
                key.push_str(s);
                key.push('|');
                key.push_str(v);
            }
            std::borrow::Cow::Owned(key)
        };
        if let Some(hit) = self.cached_valueset(&key) {
            return hit;
        }
        let mut stack = Vec::new();
        let built = valueset::build(self, canonical, pins, &mut stack);
        self.cache_valueset(&key, built.clone());
        built
    }

    /// Whether `code` is an abstract concept of the code system (`notSelectable`
    /// or the system's abstract property): `None` when the system or the code
    /// is not known here. The part of [`lookup`](Self::lookup) a binding
    /// check needs, without copying the concept's details.
    ///
    /// ```
    /// # use fhirreg_terminology::{MemorySource, Terminology};
    /// # use serde_json::json;
    /// let mut src = MemorySource::new();
    /// src.add(json!({"resourceType": "CodeSystem", "url": "http://example.org/cs", "content": "complete",
    ///   "property": [{"code": "notSelectable", "type": "boolean"}],
    ///   "concept": [{"code": "animal", "property": [{"code": "notSelectable", "valueBoolean": true}],
    ///     "concept": [{"code": "dog"}]}]}))?;
    /// let tx = Terminology::with_source(src);
    /// assert_eq!(tx.is_abstract("http://example.org/cs", None, "animal"), Some(true));
    /// assert_eq!(tx.is_abstract("http://example.org/cs", None, "dog"), Some(false));
    /// assert_eq!(tx.is_abstract("http://example.org/cs", None, "cat"), None);
    /// # Ok::<(), fhirreg_terminology::TxError>(())
    /// ```
    pub fn is_abstract(&self, system: &str, version: Option<&str>, code: &str) -> Option<bool> {
        match self.system(system, version) {
            SystemDef::Resource(cs) => {
                let (i, _) = cs.find(code)?;
                cs.concept(i).map(|c| c.is_abstract())
            }
            // Grammar-defined systems (UCUM, BCP-47, ...) have no abstract codes.
            SystemDef::Grammar(g) => g.check(code).ok().map(|_| false),
            SystemDef::WrongVersion(_) | SystemDef::Missing => None,
        }
    }

    /// `CodeSystem/$lookup`: display, definition, designations, properties,
    /// parents and children of a code.
    ///
    /// ```
    /// # use fhirreg_terminology::{MemorySource, Terminology};
    /// # use serde_json::json;
    /// let mut src = MemorySource::new();
    /// src.add(json!({"resourceType": "CodeSystem", "url": "http://example.org/cs", "content": "complete",
    ///   "concept": [{"code": "animal", "display": "Animal", "concept": [{"code": "dog", "display": "Dog"}]}]}))?;
    /// let tx = Terminology::with_source(src);
    /// let r = tx.lookup("http://example.org/cs", None, "dog")?;
    /// assert_eq!(r.display.as_deref(), Some("Dog"));
    /// assert_eq!(r.parents, vec!["animal".to_string()]);
    /// assert_eq!(tx.lookup("urn:iso:std:iso:3166", None, "NO")?.display.as_deref(), Some("Norway"));
    /// let unit = tx.lookup("http://unitsofmeasure.org", None, "mg/dL")?;
    /// assert_eq!(unit.display.as_deref(), Some("milligram / deciliter"));
    /// assert_eq!(unit.properties[0].1.as_text(), "g.m-3");
    /// # Ok::<(), fhirreg_terminology::TxError>(())
    /// ```
    pub fn lookup(
        &self,
        system: &str,
        version: Option<&str>,
        code: &str,
    ) -> Result<LookupResult, TxError> {
        match self.system(system, version) {
            SystemDef::Resource(cs) => {
                let (i, _) = cs.find(code).ok_or_else(|| TxError::UnknownCode {
                    system: system.to_owned(),
                    code: code.to_owned(),
                })?;
                let c = cs.concept(i).ok_or_else(|| TxError::UnknownCode {
                    system: system.to_owned(),
                    code: code.to_owned(),
                })?;
                let codes = |ix: &[usize]| {
                    ix.iter()
                        .filter_map(|&j| cs.concept(j).map(|c| c.code.clone()))
                        .collect()
                };
                Ok(LookupResult {
                    system: cs.url.clone(),
                    name: cs.display_name().to_owned(),
                    version: cs.version.clone(),
                    code: c.code.clone(),
                    display: c.display.clone(),
                    definition: c.definition.clone(),
                    designations: c.designations.clone(),
                    properties: c.properties.clone(),
                    parents: codes(&c.parents),
                    children: codes(&c.children),
                    abstract_: c.is_abstract(),
                    inactive: c.is_inactive(),
                })
            }
            SystemDef::Grammar(g) => match g.check(code) {
                Ok(display) => Ok(LookupResult {
                    system: system.to_owned(),
                    name: g.name().to_owned(),
                    code: code.to_owned(),
                    display: Some(display),
                    properties: match (g, ucum::parse(code)) {
                        (GrammarSystem::Ucum, Ok(u)) => vec![
                            ("canonical".to_owned(), PropertyValue::String(u.canonical())),
                            (
                                "factor".to_owned(),
                                PropertyValue::Decimal(u.factor.to_string()),
                            ),
                        ],
                        _ => Vec::new(),
                    },
                    ..Default::default()
                }),
                Err(_) => Err(TxError::UnknownCode {
                    system: system.to_owned(),
                    code: code.to_owned(),
                }),
            },
            SystemDef::WrongVersion(_) | SystemDef::Missing => {
                Err(TxError::CodeSystemNotFound(match version {
                    Some(v) => format!("{system}|{v}"),
                    None => system.to_owned(),
                }))
            }
        }
    }

    /// `CodeSystem/$validate-code`: is `code` defined in `system` (and does
    /// the display match)? Systems that are not available give
    /// [`ValidateResult::unknown`].
    ///
    /// ```
    /// # use fhirreg_terminology::{MemorySource, Terminology};
    /// let tx = Terminology::with_source(MemorySource::new());
    /// assert!(tx.validate_code_in_system("http://unitsofmeasure.org", "mg/dL", None)?.valid);
    /// assert!(!tx.validate_code_in_system("http://unitsofmeasure.org", "mgg", None)?.valid);
    /// let snomed = tx.validate_code_in_system("http://snomed.info/sct", "27113001", None)?;
    /// assert!(snomed.valid && snomed.unknown);
    /// # Ok::<(), fhirreg_terminology::TxError>(())
    /// ```
    pub fn validate_code_in_system(
        &self,
        system: &str,
        code: &str,
        display: Option<&str>,
    ) -> Result<ValidateResult, TxError> {
        let coding = CodingRef {
            system: Some(system),
            version: None,
            code: Some(code),
            display,
        };
        Ok(validate::in_system(self, &coding))
    }

    /// CodeSystem `$validate-code` for a coding, honouring its `version`.
    pub fn validate_coding_in_system(&self, coding: &CodingRef<'_>) -> ValidateResult {
        validate::in_system(self, coding)
    }

    /// `ValueSet/$validate-code` for one coding (or a bare code: leave
    /// `system` empty and the system is inferred from the value set).
    /// Errors only when the value set itself cannot be used.
    pub fn validate_code(
        &self,
        valueset_canonical: &str,
        coding: &CodingRef<'_>,
    ) -> Result<ValidateResult, TxError> {
        let vs = self.valueset_index(valueset_canonical, &[])?;
        Ok(validate::against_valueset(self, &vs, coding))
    }

    /// `ValueSet/$validate-code` for a CodeableConcept: valid when any
    /// coding is in the value set.
    pub fn validate_codeable_concept(
        &self,
        valueset: &str,
        codings: &[CodingRef<'_>],
    ) -> Result<ValidateResult, TxError> {
        let vs = self.valueset_index(valueset, &[])?;
        Ok(validate::codeable_concept(self, &vs, codings))
    }

    /// `ValueSet/$validate-code` for a CodeableConcept against a value set
    /// given as a resource (e.g. contained in a profile), compiled once and
    /// cached under `key` (which must identify it, e.g. `container#id`).
    pub fn validate_codeable_concept_with(
        &self,
        key: &str,
        valueset: &serde_json::Value,
        codings: &[CodingRef<'_>],
    ) -> Result<ValidateResult, TxError> {
        let vs = self.valueset_index_json(key, valueset)?;
        Ok(validate::codeable_concept(self, &vs, codings))
    }

    /// `ValueSet/$validate-code` for one coding against a value set given
    /// as a resource (see [`Self::validate_codeable_concept_with`]).
    pub fn validate_code_with(
        &self,
        key: &str,
        valueset: &serde_json::Value,
        coding: &CodingRef<'_>,
    ) -> Result<ValidateResult, TxError> {
        let vs = self.valueset_index_json(key, valueset)?;
        Ok(validate::against_valueset(self, &vs, coding))
    }

    fn valueset_index_json(
        &self,
        key: &str,
        json: &serde_json::Value,
    ) -> Result<Arc<VsIndex>, TxError> {
        // (a separate key space from canonicals)
        let cache_key = format!("\u{2}{key}");
        if let Some(hit) = self.cached_valueset(&cache_key) {
            return hit;
        }
        let built = valueset::build_json(self, key, json);
        self.cache_valueset(&cache_key, built.clone());
        built
    }

    /// `ValueSet/$expand`: a ValueSet resource with an `expansion`
    /// (`total`, `offset`, `parameter`, `contains`).
    ///
    /// ```
    /// # use fhirreg_terminology::{ExpandParams, MemorySource, Terminology, TxError};
    /// # use serde_json::json;
    /// let mut src = MemorySource::new();
    /// src.add(json!({"resourceType": "ValueSet", "url": "http://example.org/vs",
    ///   "compose": {"include": [{"system": "http://example.org/cs",
    ///     "concept": [{"code": "a"}, {"code": "b"}, {"code": "c"}]}]}}))?;
    /// let tx = Terminology::with_source(src);
    /// let page = tx.expand("http://example.org/vs", &ExpandParams { offset: 1, count: Some(1), ..Default::default() })?;
    /// assert_eq!(page["expansion"]["total"], 3);
    /// assert_eq!(page["expansion"]["contains"][0]["code"], "b");
    /// let limited = tx.expand("http://example.org/vs", &ExpandParams { max_size: Some(2), ..Default::default() });
    /// assert!(matches!(limited, Err(TxError::TooCostly { limit: 2, .. })));
    /// # Ok::<(), fhirreg_terminology::TxError>(())
    /// ```
    pub fn expand(
        &self,
        valueset: &str,
        params: &ExpandParams,
    ) -> Result<serde_json::Value, TxError> {
        let vs = self.valueset_index(valueset, &params.system_versions)?;
        valueset::expand(self, &vs, params)
    }

    /// `CodeSystem/$subsumes`: how code `a` relates to code `b` in the
    /// hierarchy of `system`.
    pub fn subsumes(&self, system: &str, a: &str, b: &str) -> Result<Subsumption, TxError> {
        let cs = match self.system(system, None) {
            SystemDef::Resource(cs) => cs,
            SystemDef::Grammar(g) => {
                for c in [a, b] {
                    if g.check(c).is_err() {
                        return Err(TxError::UnknownCode {
                            system: system.to_owned(),
                            code: c.to_owned(),
                        });
                    }
                }
                return Ok(if a == b {
                    Subsumption::Equivalent
                } else {
                    Subsumption::NotSubsumed
                });
            }
            _ => return Err(TxError::CodeSystemNotFound(system.to_owned())),
        };
        let find = |c: &str| {
            cs.find(c).map(|x| x.0).ok_or_else(|| TxError::UnknownCode {
                system: system.to_owned(),
                code: c.to_owned(),
            })
        };
        let (ia, ib) = (find(a)?, find(b)?);
        Ok(if ia == ib {
            Subsumption::Equivalent
        } else if cs.descendants_or_self(ia).contains(&ib) {
            Subsumption::Subsumes
        } else if cs.descendants_or_self(ib).contains(&ia) {
            Subsumption::SubsumedBy
        } else {
            Subsumption::NotSubsumed
        })
    }

    /// `ConceptMap/$translate`: the mappings of `system#code` in a concept
    /// map, optionally only those to the `target` system.
    pub fn translate(
        &self,
        conceptmap: &str,
        system: &str,
        code: &str,
        target: Option<&str>,
    ) -> Result<Vec<Translation>, TxError> {
        let cm = self
            .source()
            .resolve(conceptmap)
            .filter(|r| r.resource_type == "ConceptMap")
            .ok_or_else(|| TxError::ConceptMapNotFound(conceptmap.to_owned()))?;
        Ok(conceptmap::translate(&cm.json, system, code, target))
    }
}

#[cfg(test)]
mod send_sync {
    #[test]
    fn terminology_is_send_sync() {
        fn check<T: Send + Sync + Clone>() {}
        check::<super::Terminology>();
    }
}
