//! FHIR resource validation against StructureDefinitions.
//!
//! A [`Validator`] compiles each StructureDefinition snapshot it needs (the
//! core resource and datatype definitions, profiles) once into a plan and
//! keeps it in a cache shared by all threads, so validating many resources
//! never re-reads definition JSON. The walk over an
//! [`Element`](fhirreg_element::Element) tree checks, following
//! <https://hl7.org/fhir/R4/validation.html>:
//!
//! * known resource types and known properties (`Unrecognized property`),
//! * cardinality (`minimum required` / `max allowed`) and JSON array vs
//!   object form,
//! * types, including choice elements (`valueQuantity`) and resources inside
//!   `contained`, `Bundle.entry.resource` and `Parameters.parameter.resource`,
//! * the lexical rules of the primitive types and JSON value kinds,
//! * extensions (url present and without a version, value or children,
//!   known definition, allowed value types, modifier use, the contexts
//!   where the definition allows it (see `ext_context.rs`), the extension's
//!   own definition including sub-extension slices),
//! * narrative XHTML (allowed elements and attributes, namespace, links),
//! * resource ids, duplicate element ids, reference formats and target
//!   types, canonical urls, Bundle fullUrls and searchset entries,
//! * bindings (required/extensible/preferred, additional bindings, value
//!   sets contained in a profile) and codings in their code systems,
//!   through `fhirreg-terminology`,
//! * the content rules of CodeSystem, ValueSet and ConceptMap resources
//!   (see `txres.rs`),
//! * profiles given by the caller or in `meta.profile` (with or without a
//!   snapshot: a differential is applied to its base): cardinality, fixed
//!   primitive values, min/max values, type profiles, slicing (value,
//!   pattern, type, profile and exists discriminators; closed slicing),
//! * QuestionnaireResponses against their Questionnaire (linkIds, required
//!   items, answer types and options, enableWhen, value limits),
//! * invariants: the `constraint`s of every element definition applied
//!   (resources, backbone elements, datatypes, profiles, extensions),
//!   evaluated with FHIRPath (see `invariants.rs`).
//!
//! Issues are messages of the shared catalogue
//! ([`fhirreg_element::message`]: our own words, with the HL7 Java
//! validator's message keys kept as cross-references) located with the
//! FHIRPath-like expressions the HL7 Java validator uses
//! (`Patient.identifier[0].value`, `Observation.value.ofType(Quantity)`,
//! `Bundle.entry[0].resource/*Observation/1*/.code`).

mod base64_binary;
mod bundle;
mod checks;
mod ext_context;
mod fixed;
mod invariants;
mod logical;
mod measure;
mod plan;
mod primitive;
mod questionnaire;
mod sdef;
mod search_param;
mod sink;
mod slicing;
mod txres;
mod vitals;
mod xhtml;

use fhirreg_element::message::{Arg, Args, Msg};
use fhirreg_element::{args, Element, Issue, NodeId, Severity, ValueKind};
use fhirreg_registry::{Registry, Resource};
use fhirreg_terminology::{BindingStrength, BoundValue, CodingRef, IssueKind, Terminology};
use plan::{Binding, CompiledPlan, Dispatch, ElemDef, Kind, Mode, Plan, StructureDef, TypeRef};
use sink::Sink;
// The maps and sets here are looked up per validated node (ids, bindings,
// compiled expressions, issue de-duplication): foldhash, seeded per process
// (keys can come from the validated resource), instead of SipHash.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::sync::{Arc, RwLock};

pub use invariants::BestPracticeLevel;

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
        let mut walk = Walk {
            v: &self.inner,
            issues: sink,
            json: root.read_from_json() || looks_like_json(root),
            path: String::new(),
            contained_ids: Vec::new(),
            contained_types: Vec::new(),
            element_ids: Vec::new(),
            inv: invariants::WalkInvariants::new(root),
            root,
            bundle_refs: Vec::new(),
            bundle_reported: HashSet::new(),
            containers: 0,
            target_checks: Vec::new(),
            entry_indexes: HashMap::new(),
            target_results: HashMap::new(),
            base_bindings: HashMap::new(),
            superseded_bindings: HashMap::new(),
            accepted_displays: HashSet::new(),
            deferred: Vec::new(),
            anchors: Vec::new(),
        };
        let Some(rt) = root.resource_type().filter(|r| !r.is_empty()) else {
            // Not a resource: the reader reports it (no resourceType).
            return walk.issues;
        };
        walk.path.push_str(rt);
        walk.resource(root, true);
        walk.enter_resource_scope(root);
        for p in profiles {
            if walk.issues.stopped() {
                break;
            }
            walk.profile(root, p, true);
        }
        walk.leave_resource_scope();
        // Checks that wait until every plan that applies has been seen:
        // base bindings a profile may rebind, displays a profile's value
        // set may accept, then the invariants.
        walk.run_deferred();
        if !walk.issues.stopped() {
            walk.run_invariants();
        }
        walk.issues
    }
}

/// A JSON-read tree marks arrays and non-string values; an XML-read tree
/// never does. Array/kind checks only apply to JSON.
fn looks_like_json(e: Element<'_>) -> bool {
    e.in_array() || e.value_kind() != ValueKind::String || e.children().any(looks_like_json)
}

impl Inner {
    fn resolve(&self, canonical: &str) -> Option<Arc<Resource>> {
        self.registry.resolve(canonical)
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
        let def = self.registry.type_structure(type_name)?;
        Some(self.compiled(def, Mode::Base))
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

/// State of one validation walk.
struct Walk<'v> {
    v: &'v Inner,
    issues: Sink,
    /// The tree came from JSON (array and value-kind checks apply).
    json: bool,
    /// The expression of the node being visited.
    path: String,
    /// Ids of the contained resources of the enclosing resources.
    contained_ids: Vec<HashSet<String>>,
    /// Resource types of the contained resources by id, per enclosing resource.
    contained_types: Vec<HashMap<String, String>>,
    /// Element ids seen in each enclosing resource (must be unique).
    element_ids: Vec<HashSet<String>>,
    /// Invariants queued for evaluation after the walk.
    inv: invariants::WalkInvariants<'v>,
    /// The validated tree.
    root: Element<'v>,
    /// References met in each enclosing Bundle (collected for documents and
    /// messages only).
    bundle_refs: Vec<Option<Vec<bundle::BundleRef>>>,
    /// Reference elements whose Bundle resolution problem was reported
    /// (reported once, as the Java validator does).
    bundle_reported: HashSet<NodeId>,
    /// Enclosing Bundle and Parameters resources (references can resolve
    /// among their resources).
    containers: usize,
    /// (target, profile) conformance checks under way (cycle guard).
    target_checks: Vec<(NodeId, String)>,
    /// Entry indexes of the Bundles of the tree, by node.
    entry_indexes: HashMap<NodeId, std::rc::Rc<bundle::EntryIndex<'v>>>,
    /// Results of (target, profile) conformance checks.
    target_results: HashMap<(NodeId, String), bool>,
    /// The value set each binding of the base walk checked, by path.
    base_bindings: HashMap<String, String>,
    /// Paths whose base binding (value set) a profile's binding replaced.
    superseded_bindings: HashMap<String, String>,
    /// `.display` paths whose display the profile's value set accepts.
    accepted_displays: HashSet<String>,
    /// The type boundaries above the node being visited (base walk), for
    /// the logical paths of extension contexts.
    anchors: Vec<ext_context::Anchor>,
    /// Terminology checks of the type's own plans that wait for the
    /// profiles (see [`Deferred`]).
    deferred: Vec<Deferred>,
}

/// A check of a type's own plan that waits until every plan applying to
/// the resource has run: a profile that binds the element to another
/// value set replaces the base binding (the HL7 validator validates
/// against the profile's snapshot), and a display the profile's value set
/// accepts is not wrong.
enum Deferred {
    /// The membership of a coded value in its base binding.
    Binding {
        node: NodeId,
        path: String,
        code: String,
        binding: Binding,
        strength: BindingStrength,
    },
    /// A display that is not the code system's, at `path` (of the
    /// `display`).
    Display {
        node: NodeId,
        path: String,
        issue: fhirreg_terminology::TxIssue,
    },
}

impl<'v> Walk<'v> {
    /// Report `msg` at `node` (at the current path), with the message's
    /// default severity and issue type.
    fn report(&mut self, msg: Msg, args: Args, node: Element<'v>) {
        let issue = Issue::new(msg, args, self.path.clone(), Some(node.pos()));
        self.issues.push(issue);
    }

    /// [`Self::report`] with another severity.
    fn report_as(&mut self, severity: Severity, msg: Msg, args: Args, node: Element<'v>) {
        let issue = Issue::new(msg, args, self.path.clone(), Some(node.pos()));
        self.issues.push(issue.with_severity(severity));
    }

    /// Validate a resource node; `self.path` is its expression.
    fn resource(&mut self, node: Element<'v>, top: bool) {
        let rt = node.resource_type().unwrap_or(node.name());
        let plan = match self.v.type_plan(rt) {
            Some(p) if p.kind == Kind::Resource && !rt.is_empty() => p,
            _ => {
                let msg = if top {
                    Msg::UnknownResourceType
                } else {
                    Msg::UnknownContainedResourceType
                };
                self.report(msg, args![rt], node);
                return;
            }
        };
        self.enter_resource_scope(node);
        self.element_ids.push(HashSet::new());
        if let Some(id) = node.child("id") {
            if let Some(v) = id.value() {
                let len = self.path.len();
                self.path.push_str(".id");
                if v.chars().count() > 64 {
                    self.report(Msg::ResourceIdTooLong, args![v.chars().count()], id);
                } else if !primitive::is_id(v) {
                    self.report(Msg::ResourceIdInvalid, args![v], id);
                }
                self.path.truncate(len);
            }
        }
        let container = matches!(rt, "Bundle" | "Parameters");
        if container {
            self.containers += 1;
        }
        if rt == "Bundle" {
            self.enter_bundle(node);
        }
        self.anchors
            .push((self.path.len(), Some(plan.clone()), None));
        self.children(node, &plan, 0);
        self.anchors.pop();
        self.invariants(node, &plan);
        match rt {
            "Bundle" => {
                self.bundle(node);
                self.bundle_graph(node);
            }
            "QuestionnaireResponse" => self.questionnaire_response(node),
            "StructureDefinition" => {
                self.structure_definition(node);
                self.structure_type_rules(node);
            }
            "Questionnaire" => self.questionnaire(node),
            "CodeSystem" => self.codesystem_rules(node),
            "ValueSet" => self.valueset_rules(node),
            "ConceptMap" => self.conceptmap_rules(node),
            "Measure" => self.measure(node),
            "MeasureReport" => self.measure_report(node),
            "SearchParameter" => self.search_parameter(node),
            _ => {}
        }
        if !self.v.options.ignore_meta_profiles {
            let metas: Vec<String> = node
                .child("meta")
                .map(|m| {
                    m.children_named("profile")
                        .filter_map(|p| p.value().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            for p in &metas {
                self.profile(node, p, false);
            }
            if rt == "Observation" {
                self.vital_signs(node, &metas);
            }
            self.global_profiles(node, rt, &metas);
        } else if rt == "Observation" {
            self.vital_signs(node, &[]);
        }
        self.canonical_url(node, &plan, top);
        self.leave_resource_scope();
        self.element_ids.pop();
        if container {
            self.containers -= 1;
        }
    }

    /// Make the contained resources of `node` the targets of `#id`
    /// references until [`Self::leave_resource_scope`].
    fn enter_resource_scope(&mut self, node: Element<'v>) {
        let ids: HashSet<String> = node
            .children_named("contained")
            .filter_map(|c| c.child_value("id").map(str::to_string))
            .collect();
        self.contained_ids.push(ids);
        self.contained_types.push(
            node.children_named("contained")
                .filter_map(|c| {
                    Some((
                        c.child_value("id")?.to_string(),
                        c.resource_type().map(str::to_string)?,
                    ))
                })
                .collect(),
        );
    }

    fn leave_resource_scope(&mut self) {
        self.contained_ids.pop();
        self.contained_types.pop();
    }

    /// The resource type of contained resource `id`: a contained resource
    /// has no contained resources of its own, so `#id` inside it names a
    /// sibling in its container (the nearest scope that knows the id).
    pub(crate) fn contained_type(&self, id: &str) -> Option<String> {
        self.contained_types
            .iter()
            .rev()
            .find_map(|scope| scope.get(id))
            .cloned()
    }

    /// The `url` of a canonical resource is absolute.
    fn canonical_url(&mut self, node: Element<'v>, plan: &Plan, top: bool) {
        let Some(u) = node.child("url") else { return };
        let Some(v) = u.value() else { return };
        let is_uri = plan
            .find_child(0, "url")
            .and_then(|(i, _)| plan.elements[i].types.first())
            .is_some_and(|t| t.code == "uri");
        if !is_uri || v.starts_with('#') || has_scheme(v) {
            return;
        }
        let msg = if !top && node.name() == "contained" {
            Msg::ContainedCanonicalNotAbsolute
        } else {
            Msg::CanonicalNotAbsolute
        };
        let len = self.path.len();
        self.path.push_str(".url");
        self.report(msg, args![v], u);
        self.path.truncate(len);
    }

    /// Validate `node` against the profile `canonical`.
    fn profile(&mut self, node: Element<'v>, canonical: &str, explicit: bool) {
        let rt = node.resource_type().unwrap_or(node.name());
        if canonical.split('|').next() == Some(&format!("{CORE}{rt}")) {
            return; // the core definition was checked already
        }
        let Some(plan) = self.v.plan(canonical) else {
            if explicit {
                self.report(Msg::UnknownProfile, args![canonical], node);
            } else {
                self.report(Msg::MetaProfileUnknown, args![canonical], node);
            }
            return;
        };
        if plan.type_name != rt {
            return;
        }
        self.children(node, &plan, 0);
        self.invariants(node, &plan);
    }

    /// Check the children of `node` against the children of element `idx`.
    fn children(&mut self, node: Element<'v>, plan: &Arc<Plan>, idx: usize) {
        let content = plan.content_of(idx);
        let Some(parent) = plan.elements.get(content) else {
            return;
        };
        // Occurrences per child definition (index into parent.children).
        let mut counts: Vec<u32> = vec![0; parent.children.len()];
        let mut first: Vec<Option<Element<'v>>> = vec![None; parent.children.len()];
        if node.resource_type().is_some() {
            // A `resourceType` property of a non-resource (for example
            // ExampleScenario.instance.resourceType) is read as a resource
            // type by format readers that do not know the definitions.
            if let Some((ci, _)) = plan.find_child(content, "resourceType") {
                if let Some(slot) = parent.children.iter().position(|&c| c == ci) {
                    counts[slot] += 1;
                }
            }
        }
        // Instances of sliced elements, for the slice pass (profiles).
        let mut sliced: Vec<(usize, Element<'v>, String)> = Vec::new();
        let mut order = checks::element_order::ElementOrder::default();
        for child in node.children() {
            // Element ids are unique within a resource (ElementDefinition
            // ids are paths, repeated between snapshot and differential).
            if child.name() == "id"
                && node.resource_type().is_none()
                && !plan.mode.is_profile()
                && plan.type_name != "ElementDefinition"
            {
                if let Some(id) = child.value() {
                    let fresh = match self.element_ids.last_mut() {
                        Some(set) => set.insert(id.to_string()),
                        None => true,
                    };
                    if !fresh {
                        self.report(Msg::DuplicateElementId, args![id], child);
                    }
                }
            }
            let found = plan.find_child(content, child.name());
            let Some((ci, ti)) = found else {
                if !plan.mode.is_profile() {
                    self.unknown_property(node, plan, content, child);
                } else if let Some(ci) = plan.is_bad_choice(content, child.name()) {
                    // A choice type the profile does not allow: the
                    // element still counts as the choice element.
                    if let Some(slot) = parent.children.iter().position(|&c| c == ci) {
                        counts[slot] += 1;
                        first[slot].get_or_insert(child);
                    }
                    self.profile_choice_type(plan, ci, child);
                }
                continue;
            };
            let slot = parent.children.iter().position(|&c| c == ci).unwrap_or(0);
            let n = counts.get(slot).copied().unwrap_or(0);
            if let Some(c) = counts.get_mut(slot) {
                *c += 1;
            }
            if let Some(f) = first.get_mut(slot) {
                f.get_or_insert(child);
            }
            let def = &plan.elements[ci];
            let len = self.path.len();
            self.path.push('.');
            self.path.push_str(&def.name);
            if let Some(t) = ti.and_then(|i| def.types.get(i)) {
                self.path.push_str(".ofType(");
                self.path.push_str(&t.code);
                self.path.push(')');
            }
            if def.repeats() {
                self.path.push('[');
                self.path.push_str(&n.to_string());
                self.path.push(']');
            }
            if self.json && !plan.mode.is_profile() {
                self.array_form(node, def, child);
            } else if !self.json && !plan.mode.is_profile() && def.path != "Extension.url" {
                // (an extension's url is an XML attribute: it has no place)
                self.element_order(&mut order, slot, &def.name, child);
            }
            self.element(child, plan, ci, ti);
            if plan.mode.is_profile() && !def.slices.is_empty() {
                sliced.push((ci, child, self.path[len..].to_string()));
            }
            self.path.truncate(len);
        }
        let mut done: Vec<usize> = Vec::new();
        for &(ci, _, _) in &sliced {
            if done.contains(&ci) {
                continue;
            }
            done.push(ci);
            let items: Vec<(Element<'v>, &str)> = sliced
                .iter()
                .filter(|(c, _, _)| *c == ci)
                .map(|(_, e, p)| (*e, p.as_str()))
                .collect();
            self.slices(node, plan, ci, &items);
        }
        if plan.mode.is_profile() {
            // Required slices of elements that are absent.
            for &ci in &parent.children {
                let def = &plan.elements[ci];
                if !def.slices.is_empty() && !done.contains(&ci) {
                    self.slices(node, plan, ci, &[]);
                }
            }
        }
        for (slot, &ci) in parent.children.iter().enumerate() {
            let def = &plan.elements[ci];
            let n = counts.get(slot).copied().unwrap_or(0);
            if n < def.min {
                let args = args![&def.id, def.min, n, plan.versioned_url()];
                self.report(Msg::TooFewOccurrences, args, node);
            }
            if let Some(max) = def.max {
                if n > max {
                    let args = args![&def.id, max, n, plan.versioned_url()];
                    let at = first.get(slot).copied().flatten().unwrap_or(node);
                    self.report(Msg::TooManyOccurrences, args, at);
                }
            }
        }
    }

    fn unknown_property(
        &mut self,
        node: Element<'v>,
        plan: &Plan,
        content: usize,
        child: Element<'v>,
    ) {
        let _ = plan.is_bad_choice(content, child.name());
        self.report(Msg::UnknownProperty, args![&child.name()], child);
        let _ = node;
    }

    /// JSON: repeating elements are arrays, others are not.
    fn array_form(&mut self, node: Element<'v>, def: &ElemDef, child: Element<'v>) {
        let parent = self.parent_path();
        if def.repeats() && !child.in_array() {
            self.report(Msg::JsonArrayExpected, args![&child.name(), parent], child);
        } else if !def.repeats() && child.in_array() {
            self.report(
                Msg::JsonArrayUnexpected,
                args![&child.name(), parent],
                child,
            );
        }
        let _ = node;
    }

    /// The expression of the parent of the current node.
    fn parent_path(&self) -> String {
        let p = self.path.as_str();
        match p.rfind('.') {
            Some(i) => p[..i].to_string(),
            None => p.to_string(),
        }
    }

    /// Check one element against its definition: run the checks its plan
    /// node carries (see [`plan::Check`]).
    fn element(&mut self, node: Element<'v>, plan: &Arc<Plan>, idx: usize, ti: Option<usize>) {
        if self.issues.stopped() {
            return; // (the verdict is known: is_valid)
        }
        let Some(compiled) = self.v.node(plan, idx) else {
            return;
        };
        let Some(def) = plan.elements.get(idx) else {
            return;
        };
        let content = compiled.content;
        for check in compiled.checks(ti) {
            match check {
                plan::Check::Invariants => self.element_invariants(node, plan, idx, ti),
                plan::Check::Fixed => {
                    if let Some(fixed) = &def.fixed {
                        self.fixed_value(node, fixed, false, &plan.versioned_url());
                    }
                }
                plan::Check::Pattern => {
                    if let Some(pattern) = &def.pattern {
                        self.fixed_value(node, pattern, true, &plan.versioned_url());
                    }
                }
                plan::Check::ValueControls => {
                    if node.value().is_none() {
                        self.value_controls(node, plan, def, ti);
                    }
                }
                plan::Check::ValueRules => {
                    self.value_rules(node, def, plan.type_of(idx, ti));
                }
                plan::Check::ValueLimits => {
                    if let (Some(v), Some(t)) = (node.value(), def.types.first()) {
                        self.value_limits(node, &t.code, def, v);
                    }
                }
                plan::Check::Binding => {
                    let t = ti.and_then(|i| def.types.get(i)).or(def.types.first());
                    if let (Some(b), Some(t)) = (&def.binding, t) {
                        self.binding(node, &t.code, b, plan.mode);
                    }
                }
                plan::Check::ObjectForm => {
                    if node.value().is_some() {
                        self.report(Msg::ObjectExpected, args![&node.name()], node);
                    }
                }
                plan::Check::Children => {
                    if plan.mode.is_profile() {
                        self.children(node, plan, content);
                    } else {
                        let reused = (content != idx).then(|| plan.elements[content].path.clone());
                        self.anchors.push((self.path.len(), None, reused));
                        self.children(node, plan, content);
                        self.anchors.pop();
                    }
                }
                plan::Check::InlineTarget => {
                    // A Reference (or resource) whose parts the profile
                    // constrains (expanded inline): its targets (type) still apply.
                    if let Some(t) = def.types.first() {
                        if t.code == "Reference" {
                            self.reference_target(node, t, plan.mode);
                        } else if node.is_resource() {
                            self.resource_of_type(node, t);
                        }
                    }
                }
                plan::Check::Resource => match node.resource_type() {
                    Some(rt) => {
                        let id = node.child_value("id").unwrap_or("null");
                        let len = self.path.len();
                        self.path.push_str("/*");
                        self.path.push_str(rt);
                        self.path.push('/');
                        self.path.push_str(id);
                        self.path.push_str("*/");
                        self.resource(node, false);
                        self.path.truncate(len);
                    }
                    None => self.report(Msg::ResourceTypeMissing, args![], node),
                },
                plan::Check::Primitive => {
                    if let (Some(t), Some(cdef)) =
                        (plan.type_of(idx, ti), plan.elements.get(content))
                    {
                        self.primitive(node, t, cdef);
                    }
                }
                plan::Check::ResourceType => {
                    if let Some(t) = plan.type_of(idx, ti) {
                        self.resource_of_type(node, t);
                        self.resource_type_profiles(node, t);
                    }
                }
                plan::Check::ReferenceTarget => {
                    if let Some(t) = plan.type_of(idx, ti) {
                        // The profile's target profiles and aggregation modes.
                        self.reference_target(node, t, plan.mode);
                    }
                }
                plan::Check::TypeProfiles => {
                    if let Some(t) = plan.type_of(idx, ti) {
                        self.type_profiles(node, t);
                    }
                }
                plan::Check::Complex => {
                    if let Some(t) = plan.type_of(idx, ti) {
                        self.complex(node, t, compiled.dispatch(ti));
                    }
                }
                plan::Check::ComplexBinding => {
                    let b = plan.elements.get(content).and_then(|c| c.binding.as_ref());
                    if let (Some(t), Some(b)) = (plan.type_of(idx, ti), b) {
                        self.binding(node, &t.code, b, plan.mode);
                    }
                }
            }
        }
    }

    /// The datatype profiles a profile gives an element: the element must
    /// conform to its one profile, or to one of several.
    fn type_profiles(&mut self, node: Element<'v>, t: &TypeRef) {
        // Datatype profiles on the element are validated; the core
        // datatypes were checked by the base walk.
        let mut plans: Vec<Arc<Plan>> = Vec::new();
        for p in t.profiles.iter().filter(|p| !p.starts_with(CORE)) {
            match self.v.plan(p) {
                Some(plan) => plans.push(plan),
                // A datatype profile that cannot be found cannot be
                // checked: the element is not known to conform.
                None => self.report(Msg::UnknownProfile, args![p.as_str()], node),
            }
        }
        if plans.len() == 1 {
            self.children(node, &plans[0], 0);
            self.element_invariants(node, &plans[0], 0, None);
        } else if plans.len() > 1 {
            // The element must conform to one of the profiles.
            let saved = std::mem::take(&mut self.issues);
            let mark = self.invariant_mark();
            let mut ok = false;
            // Without a match, the HL7 Java validator also reports each
            // profile's errors, naming the profile (the same error from
            // several profiles once, naming them all).
            let mut found: Vec<(Issue, Vec<String>)> = Vec::new();
            for p in &plans {
                self.children(node, p, 0);
                self.element_invariants(node, p, 0, None);
                self.flush_invariants(mark);
                let errs: Vec<Issue> = self
                    .issues
                    .take()
                    .into_iter()
                    .filter(|i| i.severity.is_error())
                    .collect();
                ok |= errs.is_empty();
                for i in errs {
                    let same = |f: &Issue| {
                        f.expression == i.expression && f.msg == i.msg && f.args == i.args
                    };
                    match found.iter_mut().find(|(f, _)| same(f)) {
                        Some((_, from)) => from.push(p.versioned_url()),
                        None => found.push((i, vec![p.versioned_url()])),
                    }
                }
            }
            self.issues = saved;
            self.invariant_rollback(mark);
            if !ok {
                let list: Vec<String> = plans.iter().map(|p| p.url.clone()).collect();
                self.report(Msg::NoProfileMatches, args![list.join(", ")], node);
                self.issues.extend(found.into_iter().map(|(i, from)| {
                    let finding = Arg::from(i.to_message());
                    Issue {
                        msg: Msg::FoundAgainstProfiles,
                        args: args![finding, from.join(", ")],
                        ..i
                    }
                }));
            }
        }
    }

    /// A complex datatype's own plan (its children and invariants), then
    /// the type-specific rules.
    fn complex(&mut self, node: Element<'v>, t: &TypeRef, dispatch: &Dispatch) {
        let code = t.code.as_str();
        let Some(tp) = self.v.dispatch_plan(dispatch, code) else {
            return;
        };
        self.anchors.push((self.path.len(), Some(tp.clone()), None));
        self.children(node, &tp, 0);
        self.anchors.pop();
        self.element_invariants(node, &tp, 0, None);
        match code {
            "Extension" => self.extension(node),
            "Reference" => self.reference(node, t),
            "Coding" => self.coding(node),
            "Identifier" => self.identifier(node),
            "Attachment" => self.attachment(node),
            _ => {}
        }
    }

    fn primitive(&mut self, node: Element<'v>, t: &TypeRef, def: &ElemDef) {
        let code = t.code.as_str();
        if let Some(v) = node.value() {
            if self.json {
                let want = plan::json_kind(code);
                if node.value_kind() != want {
                    let msg = match want {
                        ValueKind::Boolean => Msg::JsonValueNotBoolean,
                        ValueKind::Number => Msg::JsonValueNotNumber,
                        ValueKind::String => Msg::JsonValueNotString,
                    };
                    self.report(msg, args![], node);
                }
            }
            if code == "xhtml" {
                self.narrative(node, v);
            } else if let Some(p) = primitive::check(code, v) {
                // (an invalid value is not looked up in its value set)
                if p.msg.severity().is_error() && def.path == "Attachment.data" {
                    // reported on the Attachment (see `attachment`)
                    return;
                }
                self.report(p.msg, p.args, node);
            } else {
                if let Some(max) = def.max_length {
                    if v.chars().count() as u64 > max {
                        self.report(Msg::ValueTooLong, args![max], node);
                    }
                }
                if let Some(b) = &def.binding {
                    self.binding(node, code, b, Mode::Base);
                }
                self.value_limits(node, code, def, v);
                if code == "canonical" {
                    self.canonical(node, t, v);
                }
                if (code == "uri" || code == "url") && node.name() != "system" {
                    // uris that may point at entries: reachability in documents
                    const NOT_LINKS: &[&str] = &[
                        "Bundle.entry.fullUrl",
                        "Coding.system",
                        "Identifier.system",
                        "Meta.profile",
                        "Extension.url",
                        "Quantity.system",
                        "MessageHeader.source.endpoint",
                        "MessageHeader.destination.endpoint",
                        "Endpoint.address",
                    ];
                    if !NOT_LINKS.contains(&def.path.as_str()) {
                        self.collect_bundle_ref(node, v);
                    }
                }
            }
        } else if !node
            .children()
            .any(|c| c.name() == "extension" || c.name() == "id")
        {
            // (with only an id, ele-1 reports it, as the HL7 Java validator does)
            self.report(Msg::PrimitiveEmpty, args![], node);
        }
        if node.has_children() {
            if let Some(tp) = self.v.type_plan(code) {
                self.anchors.push((self.path.len(), Some(tp.clone()), None));
                self.children(node, &tp, 0);
                self.anchors.pop();
            }
        }
    }

    /// `minValue[x]` / `maxValue[x]` of the definition.
    fn value_limits(&mut self, node: Element<'v>, code: &str, def: &ElemDef, v: &str) {
        use std::cmp::Ordering;
        let cmp = |limit: &serde_json::Value| -> Option<(Ordering, String)> {
            let l = match limit {
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s.clone(),
                _ => return None,
            };
            let ord = match code {
                "integer" | "positiveInt" | "unsignedInt" | "decimal" => v
                    .parse::<f64>()
                    .ok()?
                    .partial_cmp(&l.parse::<f64>().ok()?)?,
                "date" | "dateTime" | "instant" | "time" => {
                    let n = v.len().min(l.len());
                    v.get(..n)?.cmp(l.get(..n)?)
                }
                _ => return None,
            };
            Some((ord, l))
        };
        if let Some((Ordering::Less, l)) = def.min_value.as_ref().and_then(cmp) {
            self.report(Msg::ValueBelowMinimum, args![l], node);
        }
        if let Some((Ordering::Greater, l)) = def.max_value.as_ref().and_then(cmp) {
            self.report(Msg::ValueAboveMaximum, args![l], node);
        }
    }

    /// Canonical references: absolute unless a fragment, and of the
    /// target type when the registry has the target.
    fn canonical(&mut self, node: Element<'v>, t: &TypeRef, v: &str) {
        if !v.starts_with('#') && !has_scheme(v) {
            // An error, as the HL7 Java validator reports it.
            self.report(Msg::CanonicalNotAbsolute, args![v], node);
            return;
        }
        if t.targets.is_empty() || t.targets.iter().any(|x| x == "Resource") {
            return;
        }
        if let Some(r) = self.v.resolve(v) {
            if !t.targets.iter().any(|x| *x == r.resource_type) {
                let args = args![v, &r.resource_type, t.targets.join(", ")];
                self.report(Msg::CanonicalWrongType, args, node);
            }
        }
    }

    fn push_tx(&mut self, i: &fhirreg_terminology::TxIssue, sub: &str, node: Element<'v>) {
        let len = self.path.len();
        self.path.push_str(sub);
        let m = &i.message;
        self.report_as(i.severity, m.msg, m.args.clone(), node);
        self.path.truncate(len);
    }

    fn at_child(&mut self, node: Element<'v>, name: &str, msg: Msg, args: Args) {
        let at = node.child(name).unwrap_or(node);
        let len = self.path.len();
        self.path.push('.');
        self.path.push_str(name);
        self.report(msg, args, at);
        self.path.truncate(len);
    }

    /// A stated Attachment.size matches the decoded data.
    fn attachment(&mut self, node: Element<'v>) {
        if let Some(data) = node.child_value("data") {
            // The HL7 validator decodes the data and reports a failure on
            // the Attachment, in the decoder's words.
            if let Some(b) = base64_binary::first_invalid_byte(data) {
                self.report(Msg::AttachmentDataNotBase64, args![format!("{b:x}")], node);
                return;
            }
        }
        let (Some(data), Some(size)) = (node.child_value("data"), node.child_value("size")) else {
            return;
        };
        let Ok(stated) = size.parse::<u64>() else {
            return;
        };
        if !base64_binary::whole_groups(data) {
            return; // not valid base64: reported on Attachment.data
        }
        let actual = base64_binary::decoded_len(data) as u64;
        if actual != stated {
            self.report(Msg::AttachmentSizeMismatch, args![stated, actual], node);
        }
    }

    fn identifier(&mut self, node: Element<'v>) {
        let Some(system) = node.child_value("system") else {
            return;
        };
        if !has_scheme(system) {
            self.at_child(node, "system", Msg::IdentifierSystemRelative, args![]);
        } else if system == "urn:ietf:rfc:3986" {
            if let Some(v) = node.child_value("value") {
                if !has_scheme(v) {
                    self.report(Msg::IdentifierValueNotUri, args![v], node);
                }
            }
        }
    }

    /// A Coding's code (and display) in its code system, when the code
    /// system is available.
    fn coding(&mut self, node: Element<'v>) {
        if let Some(system) = node.child_value("system") {
            if !has_scheme(system) {
                self.at_child(node, "system", Msg::CodingSystemRelative, args![]);
                return;
            }
            if self.https_coding_system(node, system) || self.page_coding_system(node, system) {
                return;
            }
            let summary = self.v.registry.resolve_summary(system);
            if summary.is_some_and(|s| s.resource_type() == "ValueSet") {
                self.at_child(node, "system", Msg::CodingSystemIsValueSet, args![system]);
                return;
            }
            let supplement = summary.is_some_and(|s| s.resource_type() == "CodeSystem")
                && self.v.registry.code_system(system).is_some_and(|cs| {
                    cs.content == fhirreg_terminology::Content::Supplement
                        || cs.supplements.is_some()
                });
            if supplement {
                self.at_child(node, "system", Msg::CodingSystemIsSupplement, args![system]);
                return;
            }
        }
        let (Some(system), Some(code)) = (node.child_value("system"), node.child_value("code"))
        else {
            return;
        };
        let Ok(r) = self
            .v
            .tx
            .validate_code_in_system(system, code, node.child_value("display"))
        else {
            return;
        };
        for i in &r.issues {
            let sub = match i.kind {
                IssueKind::UnknownCode | IssueKind::CaseDifference => ".code",
                IssueKind::InvalidDisplay => {
                    // (a profile's value set may accept it: decided later)
                    let at = node.child("display").unwrap_or(node);
                    self.deferred.push(Deferred::Display {
                        node: at.id(),
                        path: format!("{}.display", self.path),
                        issue: i.clone(),
                    });
                    continue;
                }
                _ => continue, // system not available, not checked: quiet
            };
            let at = node.child(sub.trim_start_matches('.')).unwrap_or(node);
            self.push_tx(i, sub, at);
        }
    }

    /// Membership of a coded value in the value set of its binding.
    fn binding(&mut self, node: Element<'v>, code: &str, b: &Binding, mode: Mode) {
        if !b.additional.is_empty() {
            self.additional_bindings(node, code, b);
        }
        let strength = b.strength;
        if strength == BindingStrength::Example || b.value_set.is_empty() {
            return;
        }
        let vs = b.value_set.as_str();
        if !mode.is_profile() {
            // Checked once the profiles have run (see `Deferred`).
            self.base_bindings.insert(self.path.clone(), vs.to_string());
            self.deferred.push(Deferred::Binding {
                node: node.id(),
                path: self.path.clone(),
                code: code.to_string(),
                binding: b.clone(),
                strength,
            });
            return;
        }
        // A profile that binds the element to another value set replaces
        // the base binding there, and the displays its value set accepts
        // are not wrong.
        let superseded = self
            .base_bindings
            .get(&self.path)
            .filter(|base| base.as_str() != vs)
            .cloned();
        let supersedes = superseded.is_some();
        self.membership(node, code, b, strength, supersedes);
        if let Some(base) = superseded {
            self.superseded_bindings.insert(self.path.clone(), base);
        }
    }

    /// The membership of a coded value (code, Coding, Quantity,
    /// CodeableConcept) in the value set of a binding; `supersedes`: the
    /// binding replaces the base binding here, so the displays it accepts
    /// are recorded.
    fn membership(
        &mut self,
        node: Element<'v>,
        code: &str,
        b: &Binding,
        strength: BindingStrength,
        supersedes: bool,
    ) {
        let tx = &self.v.tx;
        let vs = b.value_set.as_str();
        fn coding_of(c: Element<'_>) -> Option<CodingRef<'_>> {
            Some(CodingRef {
                system: c.child_value("system"),
                version: c.child_value("version"),
                code: Some(c.child_value("code")?),
                display: c.child_value("display"),
            })
        }
        let one = |cr: &CodingRef<'_>| match &b.contained {
            Some(json) => tx.validate_code_with(vs, json, cr),
            None => tx.validate_code(vs, cr),
        };
        let issues = match code {
            "code" => {
                let Some(v) = node.value() else {
                    return;
                };
                let Ok(r) = one(&CodingRef::code(v)) else {
                    return;
                };
                r.binding_issues(strength, BoundValue::Code(v))
            }
            "Coding" | "Quantity" => {
                let Some(mut cr) = coding_of(node) else {
                    return;
                };
                if code == "Quantity" {
                    cr.display = None;
                }
                let Ok(r) = one(&cr) else {
                    return;
                };
                if supersedes
                    && !r.has(IssueKind::InvalidDisplay)
                    && !r.has(IssueKind::NotInValueSet)
                {
                    self.accepted_displays
                        .insert(format!("{}.display", self.path));
                }
                r.binding_issues(strength, BoundValue::Coding(cr))
                    .into_iter()
                    .filter(|i| i.kind == IssueKind::NotInValueSet)
                    .collect()
            }
            "CodeableConcept" => {
                let refs: Vec<CodingRef<'_>> = node
                    .children_named("coding")
                    .filter_map(coding_of)
                    .collect();
                if refs.is_empty() {
                    self.binding_without_code(node, b, strength);
                    return;
                }
                let r = match &b.contained {
                    Some(json) => tx.validate_codeable_concept_with(vs, json, &refs),
                    None => tx.validate_codeable_concept(vs, &refs),
                };
                let Ok(r) = r else {
                    return;
                };
                if supersedes {
                    for (n, c) in node.children_named("coding").enumerate() {
                        let Some(cr) = coding_of(c) else { continue };
                        if let Ok(one) = one(&cr) {
                            if !one.has(IssueKind::InvalidDisplay)
                                && !one.has(IssueKind::NotInValueSet)
                            {
                                self.accepted_displays
                                    .insert(format!("{}.coding[{n}].display", self.path));
                            }
                        }
                    }
                }
                r.binding_issues(strength, BoundValue::CodeableConcept(&refs))
                    .into_iter()
                    .filter(|i| i.kind == IssueKind::NotInValueSet)
                    .collect()
            }
            _ => return,
        };
        for i in &issues {
            self.push_tx(i, "", node);
        }
        if strength == BindingStrength::Extensible
            && issues.iter().any(|i| i.kind == IssueKind::NotInValueSet)
        {
            self.max_value_set(node, code, b);
        }
    }

    /// Run the deferred checks (see [`Deferred`]) in the order they were
    /// met, except those a profile made moot.
    fn run_deferred(&mut self) {
        let jobs = std::mem::take(&mut self.deferred);
        let doc = self.root.document();
        for job in jobs {
            if self.issues.stopped() {
                return;
            }
            match job {
                Deferred::Binding {
                    node,
                    path,
                    code,
                    binding,
                    strength,
                } => {
                    let replaced = self.superseded_bindings.get(&path).is_some_and(|base| {
                        let url = |v: &str| v.split('|').next().unwrap_or(v).to_string();
                        url(base) == url(&binding.value_set)
                    });
                    let Some(node) = doc.get(node) else { continue };
                    if replaced {
                        continue;
                    }
                    let saved = std::mem::replace(&mut self.path, path);
                    self.membership(node, &code, &binding, strength, false);
                    self.path = saved;
                }
                Deferred::Display { node, path, issue } => {
                    if self.accepted_displays.contains(&path) {
                        continue;
                    }
                    let Some(node) = doc.get(node) else { continue };
                    let saved = std::mem::replace(&mut self.path, path);
                    self.push_tx(&issue, "", node);
                    self.path = saved;
                }
            }
        }
    }

    fn narrative(&mut self, node: Element<'v>, div: &str) {
        let empty = HashSet::new();
        let ids = self.contained_ids.last().unwrap_or(&empty);
        let problems = xhtml::check(div, ids);
        let parsed = !problems.iter().any(|p| p.msg == Msg::XhtmlParse);
        for p in problems {
            self.report(p.msg, p.args, node);
        }
        if parsed {
            self.narrative_rules(node, div);
        }
    }

    /// Extension rules: url, value or children, known definition.
    fn extension(&mut self, node: Element<'v>) {
        let url = node.child_value("url");
        let value = node.children().find(|c| c.name().starts_with("value"));
        let has_ext = node.children().any(|c| c.name() == "extension");
        if url.is_none() {
            self.report(Msg::ExtensionUrlMissing, args![], node);
        }
        if value.is_some() == has_ext {
            // ext-1, checked directly (the constraint's words are the
            // specification's).
            let args = args![
                "ext-1",
                "Must have either extensions or value[x], not both",
                "http://hl7.org/fhir/StructureDefinition/Extension"
            ];
            self.report(Msg::InvariantFailedFrom, args, node);
        }
        let Some(url) = url else { return };
        if !url.contains(':') {
            // a sub-extension of a complex extension (elsewhere an error)
            self.relative_extension_url(node, url);
            return;
        }
        let ext = self.extension_definition(node, url);
        let Some(ext) = ext else {
            if self.v.resolve(url).is_none() && !self.unknown_extension_allowed(url) {
                self.report(Msg::ExtensionUnknown, args![url], node);
            }
            return;
        };
        let modifier_slot = node.name() == "modifierExtension";
        let is_modifier = ext.elements.first().is_some_and(|e| e.is_modifier);
        if is_modifier && !modifier_slot {
            self.error_at_url(url, Msg::ModifierUsedAsExtension, args![url], node);
        } else if !is_modifier && modifier_slot {
            self.error_at_url(url, Msg::ExtensionUsedAsModifier, args![url], node);
        }
        self.extension_context(node, &ext, modifier_slot);
        // The extension's own definition: cardinality, fixed values and
        // slices (sub-extensions) of complex extensions.
        // (`ext` is the definition's profile plan.)
        self.children(node, &ext, 0);
        self.element_invariants(node, &ext, 0, None);
        self.sub_extension_urls(node, &ext);
        if let Some(value) = value {
            let Some(vdef) = ext.elements.first().and_then(|root| {
                root.children
                    .iter()
                    .map(|&c| &ext.elements[c])
                    .find(|d| d.choice && d.name == "value")
            }) else {
                return;
            };
            let suffix = &value.name()["value".len()..];
            if vdef.max == Some(0) {
                return;
            }
            if !vdef.types.iter().any(|t| t.suffix == suffix) {
                let allowed: Vec<&str> = vdef.types.iter().map(|t| t.code.as_str()).collect();
                let found = self
                    .v
                    .type_plan(suffix)
                    .map(|p| p.type_name.clone())
                    .unwrap_or_else(|| lower_first(suffix));
                let args = args![url, allowed.join(", "), found];
                self.report(Msg::ExtensionValueType, args, node);
            }
        }
    }

    /// The definition of an extension url. A version in the url
    /// (`url|version`) is an error: the definition without it is used, as
    /// the HL7 Java validator does.
    fn extension_definition(&mut self, node: Element<'v>, url: &str) -> Option<Arc<Plan>> {
        let Some((base, _)) = url.split_once('|') else {
            return self.v.plan(url);
        };
        match self.v.plan(base) {
            Some(ext) => {
                let (msg, args) = if url == ext.versioned_url() {
                    (Msg::ExtensionUrlVersion, args![])
                } else {
                    (Msg::ExtensionUrlOtherVersion, args![&ext.version])
                };
                self.error_at_url(url, msg, args, node);
                Some(ext)
            }
            None => {
                let ext = self.v.plan(url);
                let len = self.path.len();
                self.path.push_str(&format!("[url='{url}']"));
                if ext.is_some() {
                    self.report(Msg::ExtensionUrlVersionUsed, args![], node);
                } else {
                    self.report(Msg::ExtensionUrlVersionUnknown, args![], node);
                }
                self.path.truncate(len);
                ext
            }
        }
    }

    /// An error about an extension at `path[url='URL']` (as the HL7 Java
    /// validator locates the issues about an extension's url).
    fn error_at_url(&mut self, url: &str, msg: Msg, args: Args, node: Element<'v>) {
        let len = self.path.len();
        self.path.push_str(&format!("[url='{url}']"));
        self.report(msg, args, node);
        self.path.truncate(len);
    }

    /// Sub-extensions (relative urls) must be slices the definition names.
    fn sub_extension_urls(&mut self, node: Element<'v>, ext: &Plan) {
        let Some(root) = ext.elements.first() else {
            return;
        };
        let Some(&slot) = root
            .children
            .iter()
            .find(|&&c| ext.elements[c].name == "extension")
        else {
            return;
        };
        let names: Vec<&str> = ext.elements[slot]
            .slices
            .iter()
            .filter_map(|&s| {
                let sd = &ext.elements[s];
                // the url fixed on the slice, else its name
                ext.elements[s]
                    .children
                    .iter()
                    .map(|&c| &ext.elements[c])
                    .find(|c| c.name == "url")
                    .and_then(|c| c.fixed.as_ref())
                    .and_then(|f| f.as_str())
                    .or(sd.slice_name.as_deref())
            })
            .collect();
        if names.is_empty() {
            return;
        }
        let len = self.path.len();
        for (i, sub) in node.children_named("extension").enumerate() {
            let Some(u) = sub.child_value("url") else {
                continue;
            };
            if u.contains(':') || names.contains(&u) {
                continue;
            }
            self.path.push_str(&format!(".extension[{i}][url='{u}']"));
            let args = args![u, ext.versioned_url()];
            self.report(Msg::SubExtensionUnknown, args, sub);
            self.path.truncate(len);
        }
    }

    fn unknown_extension_allowed(&self, url: &str) -> bool {
        let o = &self.v.options;
        o.any_extensions_allowed
            || url.contains("example.org")
            || url.contains("acme.com")
            || url.contains("nema.org")
            || url.starts_with("http://hl7.org/fhir/tools/StructureDefinition/")
            || is_cross_version_extension(url)
            || o.extension_domains
                .iter()
                .any(|d| url.starts_with(d.as_str()))
    }

    /// Reference format and target type.
    fn reference(&mut self, node: Element<'v>, t: &TypeRef) {
        let Some(r) = node.child("reference").and_then(|c| c.value()) else {
            return;
        };
        if r.is_empty() {
            return;
        }
        self.collect_bundle_ref(node, r);
        let resolved = self.reference_target(node, t, Mode::Base);
        let ft = resolved.clone().or_else(|| self.type_in_reference(r));
        self.reference_declared_type(node, t, ft.as_deref());
        if resolved.is_some() || r.starts_with('#') {
            // (a resolved target's own type was checked)
            return;
        }
        let target_type: Option<&str> = if has_scheme(r) {
            // Absolute: [base]/Type/id(/_history/v)
            let parts: Vec<&str> = r.split('/').collect();
            let n = parts.len();
            let ty = if n >= 4 && parts[n - 2] == "_history" {
                parts.get(n - 4).copied()
            } else if n >= 2 {
                parts.get(n - 2).copied()
            } else {
                None
            };
            ty.filter(|t| r.starts_with("http") && self.v.is_resource_type(t))
        } else {
            let path = r.split('?').next().unwrap_or(r);
            let parts: Vec<&str> = path.split('/').collect();
            // Like the Java validator: a relative reference needs at least
            // `Type/id` (a search `Type?params` is allowed too).
            if parts.len() < 2 && !r.contains('?') {
                self.report(Msg::ReferenceFormat, args![r], node);
                return;
            }
            parts
                .first()
                .copied()
                .filter(|t| parts.len() >= 2 && self.v.is_resource_type(t))
        };
        let Some(ty) = target_type else { return };
        if t.targets.is_empty() || t.targets.iter().any(|x| x == "Resource" || x == ty) {
            return;
        }
        let args = args![ty, r, t.targets.join(", ")];
        self.report(Msg::ReferenceTypeNotAllowed, args, node);
    }

    /// Bundle rules: fullUrl present and absolute, RESTful fullUrls match
    /// the resource.
    fn bundle(&mut self, node: Element<'v>) {
        self.bundle_link_relations(node);
        self.search_bundle_rules(node);
        let btype = node.child_value("type").unwrap_or("");
        let search_types = if btype == "searchset" {
            self.search_types(node)
        } else {
            Vec::new()
        };
        let len = self.path.len();
        for (i, entry) in node.children_named("entry").enumerate() {
            self.path.push_str(".entry[");
            self.path.push_str(&i.to_string());
            self.path.push(']');
            let resource = entry.child("resource");
            match entry.child_value("fullUrl") {
                Some(u) if !has_scheme(u) => {
                    self.report(Msg::FullUrlNotAbsolute, args![u], entry);
                }
                Some(u) => {
                    if let Some(res) = resource {
                        self.restful_full_url(entry, u, res);
                    }
                }
                None => {
                    // Search outcome entries (OperationOutcome in a
                    // searchset) are not resources with an identity.
                    let outcome = btype == "searchset"
                        && resource.and_then(|r| r.resource_type()) == Some("OperationOutcome");
                    let exempt = outcome
                        || matches!(
                            btype,
                            "transaction" | "batch" | "transaction-response" | "batch-response"
                        );
                    if resource.is_some() && !exempt {
                        self.report(Msg::FullUrlMissing, args![], entry);
                    }
                }
            }
            if btype == "searchset" {
                if let Some(res) = resource {
                    self.search_entry(entry, res, &search_types);
                }
            }
            self.path.truncate(len);
        }
    }

    /// The resource types a searchset's self link searches for.
    fn search_types(&self, bundle: Element<'v>) -> Vec<String> {
        let Some(url) = bundle
            .children_named("link")
            .find(|l| l.child_value("relation") == Some("self"))
            .and_then(|l| l.child_value("url"))
        else {
            return Vec::new();
        };
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        if let Some(t) = query.split('&').find_map(|p| p.strip_prefix("_type=")) {
            return t.split(',').map(String::from).collect();
        }
        let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        if self.v.is_resource_type(last) {
            vec![last.to_string()]
        } else {
            Vec::new()
        }
    }

    /// Searchset entries: matches have ids and the searched type, outcomes
    /// are OperationOutcomes.
    fn search_entry(&mut self, entry: Element<'v>, res: Element<'v>, types: &[String]) {
        let mode = entry.child("search").and_then(|s| s.child_value("mode"));
        let rt = res.resource_type().unwrap_or("");
        let len = self.path.len();
        self.path.push_str(".resource");
        if mode == Some("outcome") {
            if rt != "OperationOutcome" {
                self.report(Msg::SearchOutcomeNotOutcome, args![rt], res);
            }
        } else if mode == Some("match") {
            if res.child_value("id").is_none() {
                self.report(Msg::SearchMatchNoId, args![], res);
            }
            if !types.is_empty() && !types.iter().any(|t| t == rt) {
                let args = args![rt, types.join(", ")];
                self.report(Msg::SearchMatchWrongType, args, res);
            }
        }
        self.path.truncate(len);
    }

    fn restful_full_url(&mut self, entry: Element<'v>, url: &str, res: Element<'v>) {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return;
        }
        let parts: Vec<&str> = url.split('/').collect();
        let n = parts.len();
        if n < 5 || !self.v.is_resource_type(parts[n - 2]) {
            return;
        }
        let rt = res.resource_type().unwrap_or("");
        match res.child_value("id") {
            None => self.report(Msg::FullUrlRestfulNoId, args![url], entry),
            Some(id) => {
                let tail = format!("/{rt}/{id}");
                if !url.ends_with(&tail) {
                    self.report(Msg::FullUrlRestfulMismatch, args![url, tail], entry);
                }
            }
        }
    }
}

/// `http://hl7.org/fhir/5.0/StructureDefinition/extension-...`: the
/// cross-version extensions, defined implicitly by the FHIR specification.
fn is_cross_version_extension(url: &str) -> bool {
    url.strip_prefix("http://hl7.org/fhir/")
        .and_then(|rest| rest.split_once("/StructureDefinition/extension-"))
        .is_some_and(|(ver, _)| {
            !ver.is_empty() && ver.chars().all(|c| c.is_ascii_digit() || c == '.')
        })
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
