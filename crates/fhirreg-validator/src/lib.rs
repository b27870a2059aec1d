//! FHIR resource validation against StructureDefinitions, following
//! <https://hl7.org/fhir/R4/validation.html>.
//!
//! A [`Validator`] compiles each StructureDefinition it needs (the core
//! resource and datatype definitions, profiles, extension definitions) once
//! into a plan and keeps it in a cache shared by all threads, so validating
//! many resources never re-reads definitions.
//!
//! # How it is built
//!
//! * `plan`: a definition compiled for one mode (a type's own definition:
//!   every rule of the type; a profile, extension or type profile: only
//!   what it adds). Each element becomes a node listing its checks
//!   (`plan::Check`), worked out once.
//! * `walk`: the walker. It visits the [`Element`]
//!   tree, keeps the path and the scopes (enclosing resources, Bundles,
//!   contained ids), and runs the checks of each node; `walk::profiles`
//!   decides which profiles apply besides those the caller names
//!   (`meta.profile`, implied vital-signs profiles, implementation guide
//!   globals).
//! * `checks`: one module per kind of check (below).
//! * `sink`: where findings go. The same checks serve
//!   [`Validator::validate`] (every finding, each once) and
//!   [`Validator::is_valid`] (a sink that stops the walk at the first
//!   error).
//!
//! | kind of check | module | what it checks |
//! |---|---|---|
//! | cardinality | `checks::cardinality` | `min`/`max` of each child definition; JSON arrays for repeating elements only; objects for complex elements |
//! | type and choice | `checks::types` | known properties; choice types a profile allows; a complex datatype's own plan and its type-specific rules; datatype profiles (one of several); resources of the type and profile an element allows |
//! | primitive format | `checks::primitive` | lexical rules of the primitive types, JSON value kinds, empty primitives, narrative XHTML (`primitive::xhtml`) and its content, entities and language (`primitive::narrative`), base64 (`primitive::base64_binary`); beyond the grammar of a valid value: bi-directional controls closed, no whitespace around a string, plausible years (`primitive::value_rules`) |
//! | fixed and pattern | `checks::fixed` | `fixed[x]` (exact) and `pattern[x]` (contained) values, complex values included |
//! | value limits | `checks::limits` | `minValue[x]`/`maxValue[x]`, `maxLength`, `mustHaveValue`/`valueAlternatives`; a profile's `minLength`, `regex`, `maxDecimalPlaces`, `maxSize` and UCUM-converted Quantity limits (`limits::profile`); a profile's narrative language and source controls (`primitive::narrative`) |
//! | binding | `checks::binding` | value set membership (required, extensible, preferred; additional bindings; value sets contained in a profile), codes and displays in their code systems; base bindings deferred until the profiles have run; a code present where the strength asks for one, and `maxValueSet` (`binding::beyond_membership`) |
//! | invariant | `checks::invariant` | the `constraint`s of every element definition applied, evaluated with FHIRPath after the walk (ele-1 natively) |
//! | slicing | `checks::slicing` | which slice an element belongs to (value, pattern, type, profile and exists discriminators), slice cardinality, closed slicing, the slice's own constraints; ordered and openAtEnd slicing (`slicing::order`) |
//! | extension | `checks::extension` | url, value or children (ext-1), known definition, value types, modifier use, sub-extension urls, the contexts a definition allows (`extension::context`); absolute urls outside complex extensions (`extension::url`) |
//! | reference | `checks::reference` | reference format and target type, a display when there is neither reference nor identifier, `Reference.type`, canonical references, targets resolved in the resource, Bundle or Parameters (their types, target profiles, aggregation) |
//! | contained | `checks::contained` | the scope of `#id` references; dom-3 (contained resources are referenced) |
//! | Bundle | `checks::bundle` | fullUrls, searchset entries, references resolved among the entries, documents and messages (first entry, every entry reachable), link relations (`bundle::links`), search result bundles (`bundle::search`), a canonical url that is the fullUrl only at its RESTful address |
//! | identity | `checks::ids` | resource id format and length, unique element ids, absolute canonical `url` |
//! | datatype rules | `checks::datatypes` | Identifier (absolute system, URI values, Norwegian national identifiers via `identifier_no`) Attachment (base64 data, size, something said of missing content) and Meta (a security label once) |
//! | code system URLs | `checks::coding_system` | a Coding.system is the code system's canonical URL, not its https: form, a page of the specification or the build server |
//! | XML element order | `checks::element_order` | elements of a tree read from XML in the order of their definitions |
//! | Norwegian code systems | `checks::norwegian_code_system` | Volven and kodeverk codes whose code system is not held, or held without concepts: information, never an error |
//! | resource-specific | `checks::resources` | Questionnaire and QuestionnaireResponse (`questionnaire`; a response's item structure against its Questionnaire in `questionnaire::response_structure`), Measure and MeasureReport (`measure`), CodeSystem (concept properties as declared, among others), ValueSet and ConceptMap (`terminology`), SearchParameter (`search_parameter`), OperationDefinition (its input and output profiles against its parameters: `operation_definition`), StructureDefinition (`structure_definition`) |
//!
//! Issues are messages of the shared catalogue
//! ([`fhirreg_element::message`]: our own words, with the HL7 Java
//! validator's message keys kept as cross-references) located with the
//! FHIRPath-like expressions the HL7 Java validator uses
//! (`Patient.identifier[0].value`, `Observation.value.ofType(Quantity)`,
//! `Bundle.entry[0].resource/*Observation/1*/.code`).

mod checks;
pub mod identifier_no;
mod plan;
mod sink;
mod walk;

use fhirreg_element::{Element, Issue, Severity};
use fhirreg_registry::{Registry, Resource};
use fhirreg_terminology::Terminology;
use plan::{CompiledPlan, Kind, Mode, Plan, StructureDef};
use sink::Sink;
use walk::Walk;
// The maps and sets here are looked up per validated node (ids, bindings,
// compiled expressions, issue de-duplication): foldhash, seeded per process
// (keys can come from the validated resource), instead of SipHash.
use foldhash::{HashMap, HashMapExt};
use std::sync::{Arc, RwLock};

pub use checks::invariant::BestPracticeLevel;

/// The R4 canonical resources: those with a canonical `url` (the
/// `CanonicalResource` extension context; an absolute reference to one need
/// not be in its Bundle).
pub(crate) const CANONICAL_RESOURCES: &[&str] = &[
    "ActivityDefinition",
    "CapabilityStatement",
    "ChargeItemDefinition",
    "CodeSystem",
    "CompartmentDefinition",
    "ConceptMap",
    "EffectEvidenceSynthesis",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "GraphDefinition",
    "ImplementationGuide",
    "Library",
    "Measure",
    "MessageDefinition",
    "NamingSystem",
    "OperationDefinition",
    "PlanDefinition",
    "Questionnaire",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "RiskEvidenceSynthesis",
    "SearchParameter",
    "StructureDefinition",
    "StructureMap",
    "TerminologyCapabilities",
    "TestScript",
    "ValueSet",
];

/// Switches for a [`Validator`].
#[derive(Clone, Debug, Default)]
pub struct ValidatorOptions {
    /// Report best-practice recommendations as warnings.
    pub best_practice: bool,
    /// Accept extensions whose definition cannot be found (otherwise an
    /// error, as the HL7 Java validator does).
    pub any_extensions_allowed: bool,
    /// URL prefixes of extensions accepted without a definition.
    pub extension_domains: Vec<String>,
    /// Do not validate against the profiles listed in `meta.profile`.
    pub ignore_meta_profiles: bool,
    /// How failed best-practice invariants (`dom-6`) are reported.
    pub best_practice_level: BestPracticeLevel,
    /// Norwegian synthetic test numbers (Test Norge/Tenor, NAV) are
    /// errors, not information (for production; see [`identifier_no`]).
    pub no_synthetic_ids: bool,
}

impl ValidatorOptions {
    /// Accept extensions without a definition as the HL7 Java validator's
    /// `-extension` options name them: `any` for every extension, anything
    /// else a URL prefix (added to [`extension_domains`](Self::extension_domains)).
    ///
    /// ```
    /// use fhirreg_validator::ValidatorOptions;
    /// let options = ValidatorOptions::default().with_extensions(["any", "http://example.org/"]);
    /// assert!(options.any_extensions_allowed);
    /// assert_eq!(options.extension_domains, ["http://example.org/"]);
    /// ```
    pub fn with_extensions<S: Into<String>>(
        mut self,
        extensions: impl IntoIterator<Item = S>,
    ) -> Self {
        for e in extensions {
            let e = e.into();
            if e == "any" {
                self.any_extensions_allowed = true;
            } else {
                self.extension_domains.push(e);
            }
        }
        self
    }
}

/// Validates FHIR resources against the definitions of a registry.
///
/// Cheap to clone; `Send + Sync`: one validator serves many threads and its
/// compiled plans are shared.
///
/// ```
/// use fhirreg_validator::{Validator, ValidatorOptions};
/// let registry = fhirreg_registry::Registry::builder().build().unwrap();
/// let validator = Validator::new(registry, ValidatorOptions::default());
/// let doc = fhirreg_element::json::parse(
///     br#"{"resourceType": "Patient", "gender": "unknownish", "active": true}"#,
///     &Default::default(),
/// )
/// .unwrap();
/// let issues = validator.validate(doc.root(), &[]);
/// // gender is bound (required) to AdministrativeGender
/// assert!(issues
///     .iter()
///     .any(|i| i.severity.is_error() && i.expression == "Patient.gender"));
/// assert!(!issues.iter().any(|i| i.expression == "Patient.active"));
/// ```
#[derive(Clone)]
pub struct Validator {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    /// Terminology over the same registry (bindings, codings).
    tx: Terminology,
    options: ValidatorOptions,
    /// FHIRPath type model over the registry (for invariants).
    model: fhirreg_registry::model::FhirPathModel,
    /// Compiled invariant expressions by source text.
    expressions: RwLock<HashMap<String, Option<Arc<fhirreg_fhirpath::Expression>>>>,
    /// `ImplementationGuide.global` of the loaded guides: (resource type,
    /// profile, guide url), read on first use.
    globals: std::sync::OnceLock<Vec<(String, String, String)>>,
    /// Compiled plans by (definition, mode). The key is the definition's
    /// address: the plan holds the definition, so it cannot be reused.
    plans: RwLock<PlanCache>,
    /// The base plans of the types found by name so far (a type name
    /// costs a URL, a registry lookup and a plan lookup otherwise; the
    /// walk asks per reference and per element). Only found types are
    /// kept: names read from instances do not grow it.
    type_plans: RwLock<HashMap<String, Arc<CompiledPlan>>>,
}

type PlanCache =
    std::collections::HashMap<(usize, Mode), Arc<CompiledPlan>, foldhash::fast::FixedState>;

const CORE: &str = "http://hl7.org/fhir/StructureDefinition/";

impl Validator {
    /// A validator over the definitions in `registry`.
    pub fn new(registry: Registry, options: ValidatorOptions) -> Self {
        Validator {
            inner: Arc::new(Inner {
                tx: Terminology::with_options(
                    registry.clone(),
                    fhirreg_terminology::Options {
                        // The HL7 Java validator reports a wrong display as an error.
                        display_mismatch: Severity::Error,
                        ..Default::default()
                    },
                ),
                model: fhirreg_registry::model::FhirPathModel::new(registry.clone()),
                expressions: RwLock::new(HashMap::new()),
                registry,
                options,
                globals: std::sync::OnceLock::new(),
                plans: RwLock::new(PlanCache::default()),
                type_plans: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// The options this validator was built with.
    pub fn options(&self) -> &ValidatorOptions {
        &self.inner.options
    }

    /// Validate a parsed resource against its core type definition and
    /// against each profile canonical in `profiles` (and those in its
    /// `meta.profile`). Returns the validation issues only (the caller adds
    /// the parse issues of the document).
    ///
    /// ```
    /// use fhirreg_validator::{Validator, ValidatorOptions};
    /// use fhirreg_element::Document;
    /// let v = Validator::new(fhirreg_registry::Registry::default(), ValidatorOptions::default());
    /// let doc = Document::new("Chicken");
    /// let issues = v.validate(doc.root(), &[]);
    /// assert!(issues.iter().any(|i| i.severity.is_error()));
    /// ```
    pub fn validate(&self, root: Element<'_>, profiles: &[String]) -> Vec<Issue> {
        self.run(root, profiles, Sink::default()).into_issues()
    }

    /// True when the resource has no error (the same verdict as
    /// [`Validator::validate`]), found faster: the walk stops at the first
    /// error.
    ///
    /// ```
    /// use fhirreg_validator::{Validator, ValidatorOptions};
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let validator = Validator::new(registry, ValidatorOptions::default());
    /// let parse = |s: &[u8]| fhirreg_element::json::parse(s, &Default::default()).unwrap();
    /// let good = parse(br#"{"resourceType": "Patient", "active": true}"#);
    /// let bad = parse(br#"{"resourceType": "Patient", "active": "yes"}"#);
    /// assert!(validator.is_valid(good.root(), &[]));
    /// assert!(!validator.is_valid(bad.root(), &[]));
    /// ```
    pub fn is_valid(&self, root: Element<'_>, profiles: &[String]) -> bool {
        !self.run(root, profiles, Sink::first_error()).has_error()
    }

    fn run(&self, root: Element<'_>, profiles: &[String], sink: Sink) -> Sink {
        Walk::new(&self.inner, root, sink).run(profiles)
    }
}

impl Inner {
    fn resolve(&self, canonical: &str) -> Option<Arc<Resource>> {
        self.registry.resolve(canonical)
    }

    /// What the registry knows of a canonical without its JSON (which the
    /// embedded definitions may not carry: the `json-definitions` feature).
    fn summary(&self, canonical: &str) -> Option<&fhirreg_registry::Summary> {
        self.registry.resolve_summary(canonical)
    }

    /// The compiled definition of a canonical (compiled once, by the
    /// registry).
    /// The plan of a definition run as a profile (what it adds to its
    /// type): profiles, extension definitions, type profiles.
    fn plan(&self, canonical: &str) -> Option<Arc<Plan>> {
        let def = self.registry.structure(canonical)?;
        Some(self.compiled(def, Mode::Profile))
    }

    /// The plan of a type's own definition (every rule of the type).
    fn type_plan(&self, type_name: &str) -> Option<Arc<Plan>> {
        if let Ok(known) = self.type_plans.read() {
            if let Some(p) = known.get(type_name) {
                return Some(p.clone());
            }
        }
        let def = self.registry.type_structure(type_name)?;
        let plan = self.compiled(def, Mode::Base);
        if let Ok(mut known) = self.type_plans.write() {
            known.insert(type_name.to_string(), plan.clone());
        }
        Some(plan)
    }

    fn compiled(&self, def: Arc<StructureDef>, mode: Mode) -> Arc<CompiledPlan> {
        let key = (Arc::as_ptr(&def) as usize, mode);
        if let Ok(plans) = self.plans.read() {
            if let Some(p) = plans.get(&key) {
                return p.clone();
            }
        }
        let plan = Arc::new(CompiledPlan::new(def, mode));
        match self.plans.write() {
            Ok(mut plans) => plans.entry(key).or_insert(plan).clone(),
            Err(_) => plan,
        }
    }

    /// The compiled facts of element `idx` of `plan`.
    fn node<'p>(&self, plan: &'p CompiledPlan, idx: usize) -> Option<&'p plan::Node> {
        plan.node(idx, &|name| self.is_resource_type(name))
    }

    /// The base plan of the complex type of a dispatch (resolved once).
    fn dispatch_plan(&self, dispatch: &plan::Dispatch, code: &str) -> Option<Arc<Plan>> {
        match dispatch {
            plan::Dispatch::Complex { plan } => plan.get_or_init(|| self.type_plan(code)).clone(),
            _ => self.type_plan(code),
        }
    }

    fn is_resource_type(&self, name: &str) -> bool {
        name.starts_with(|c: char| c.is_ascii_uppercase())
            && self
                .type_plan(name)
                .is_some_and(|p| p.kind == Kind::Resource && p.type_name == name)
    }
}

fn has_scheme(u: &str) -> bool {
    match u.split_once(':') {
        Some((s, _)) => {
            !s.is_empty()
                && s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// The text of a JSON string, boolean or number (a FHIR primitive value as
/// a definition holds it).
fn json_primitive_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// A choice suffix as a type code: `Quantity`, `string`, `dateTime`.
fn lower_first_if_primitive(suffix: &str) -> String {
    const PRIMITIVES: &[&str] = &[
        "Boolean",
        "Integer",
        "String",
        "Decimal",
        "Uri",
        "Url",
        "Canonical",
        "Base64Binary",
        "Instant",
        "Date",
        "DateTime",
        "Time",
        "Code",
        "Oid",
        "Id",
        "Markdown",
        "UnsignedInt",
        "PositiveInt",
        "Uuid",
    ];
    if PRIMITIVES.contains(&suffix) {
        lower_first(suffix)
    } else {
        suffix.to_string()
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod bundle_tests;
#[cfg(test)]
mod profile_tests;
#[cfg(test)]
mod tests;
