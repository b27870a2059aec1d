//! The walk: runs compiled plans over an element tree.
//!
//! The walker visits each node once per plan that applies to it (the
//! type's own plan, then the profiles), keeps the path and the scopes
//! (enclosing resources, Bundles, contained ids), counts the children for
//! cardinality, and runs the checks its plan node lists
//! ([`plan::Check`](crate::plan::Check)); the checks themselves live in
//! [`crate::checks`]. Nothing here decides what a rule is: the plan says
//! which checks a node has, the check modules say what they mean.

mod profiles;

use crate::checks::binding::Deferred;
use crate::checks::{bundle, extension, invariant};
use crate::plan::{Check, Kind, Plan};
use crate::sink::Sink;
use crate::Inner;
use crate::CORE;
use fhirreg_element::message::{Args, Msg};
use fhirreg_element::{args, Element, Issue, NodeId, Severity, ValueKind};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::sync::Arc;

/// State of one validation walk.
pub(crate) struct Walk<'v> {
    pub(crate) v: &'v Inner,
    pub(crate) issues: Sink,
    /// The tree came from JSON (array and value-kind checks apply).
    pub(crate) json: bool,
    /// The expression of the node being visited.
    pub(crate) path: String,
    /// Ids of the contained resources of the enclosing resources.
    pub(crate) contained_ids: Vec<HashSet<String>>,
    /// Resource types of the contained resources by id, per enclosing resource.
    pub(crate) contained_types: Vec<HashMap<String, String>>,
    /// Element ids seen in each enclosing resource (must be unique).
    pub(crate) element_ids: Vec<HashSet<String>>,
    /// Invariants queued for evaluation after the walk.
    pub(crate) inv: invariant::WalkInvariants<'v>,
    /// The validated tree.
    pub(crate) root: Element<'v>,
    /// References met in each enclosing Bundle (collected for documents and
    /// messages only).
    pub(crate) bundle_refs: Vec<Option<Vec<bundle::BundleRef>>>,
    /// Reference elements whose Bundle resolution problem was reported
    /// (reported once, as the Java validator does).
    pub(crate) bundle_reported: HashSet<NodeId>,
    /// Enclosing Bundle and Parameters resources (references can resolve
    /// among their resources).
    pub(crate) containers: usize,
    /// (target, profile) conformance checks under way (cycle guard).
    pub(crate) target_checks: Vec<(NodeId, String)>,
    /// Entry indexes of the Bundles of the tree, by node.
    pub(crate) entry_indexes: HashMap<NodeId, std::rc::Rc<bundle::EntryIndex<'v>>>,
    /// Results of (target, profile) conformance checks.
    pub(crate) target_results: HashMap<(NodeId, String), bool>,
    /// The value set each binding of the base walk checked, by path.
    pub(crate) base_bindings: HashMap<String, String>,
    /// Paths whose base binding (value set) a profile's binding replaced.
    pub(crate) superseded_bindings: HashMap<String, String>,
    /// `.display` paths whose display the profile's value set accepts.
    pub(crate) accepted_displays: HashSet<String>,
    /// The type boundaries above the node being visited (base walk), for
    /// the logical paths of extension contexts.
    pub(crate) anchors: Vec<extension::context::Anchor>,
    /// Terminology checks of the type's own plans that wait for the
    /// profiles (see [`Deferred`]).
    pub(crate) deferred: Vec<Deferred>,
    /// Spare occurrence counters (one per element being walked, reused:
    /// no allocation per element).
    spare_counts: Vec<Occurrences<'v>>,
}

impl<'v> Walk<'v> {
    /// A walk over the tree of `root`, reporting into `sink`.
    pub(crate) fn new(v: &'v Inner, root: Element<'v>, sink: Sink) -> Self {
        Walk {
            v,
            issues: sink,
            json: root.read_from_json() || looks_like_json(root),
            path: String::new(),
            contained_ids: Vec::new(),
            contained_types: Vec::new(),
            element_ids: Vec::new(),
            inv: invariant::WalkInvariants::new(root),
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
            spare_counts: Vec::new(),
        }
    }

    /// Validate the resource at the root against its type, then against
    /// the `profiles` the caller names; the findings are in the sink.
    pub(crate) fn run(mut self, profiles: &[String]) -> Sink {
        let root = self.root;
        let Some(rt) = root.resource_type().filter(|r| !r.is_empty()) else {
            // Not a resource: the reader reports it (no resourceType).
            return self.issues;
        };
        self.path.push_str(rt);
        self.resource(root, true);
        self.enter_resource_scope(root);
        for p in profiles {
            if self.issues.stopped() {
                break;
            }
            self.profile(root, p, true);
        }
        self.leave_resource_scope();
        // Checks that wait until every plan that applies has been seen:
        // base bindings a profile may rebind, displays a profile's value
        // set may accept, then the invariants.
        self.run_deferred();
        if !self.issues.stopped() {
            self.run_invariants();
        }
        self.issues
    }
}

/// A JSON-read tree marks arrays and non-string values; an XML-read tree
/// never does. Array/kind checks only apply to JSON.
fn looks_like_json(e: Element<'_>) -> bool {
    e.in_array() || e.value_kind() != ValueKind::String || e.children().any(looks_like_json)
}

impl<'v> Walk<'v> {
    /// Report `msg` at `node` (at the current path), with the message's
    /// default severity and issue type.
    pub(crate) fn report(&mut self, msg: Msg, args: Args, node: Element<'v>) {
        let issue = Issue::new(msg, args, self.path.clone(), Some(node.pos()));
        self.issues.push(issue);
    }

    /// [`Self::report`] at `path` instead of the current path, with
    /// another severity.
    pub(crate) fn report_at(
        &mut self,
        severity: Severity,
        msg: Msg,
        args: Args,
        path: &str,
        node: Element<'_>,
    ) {
        let issue = Issue::new(msg, args, path.to_string(), Some(node.pos()));
        self.issues.push(issue.with_severity(severity));
    }

    /// [`Self::report`] at the current path followed by `sub` (`.code`,
    /// `[url='...']`).
    pub(crate) fn report_sub(&mut self, sub: &str, msg: Msg, args: Args, node: Element<'v>) {
        let len = self.path.len();
        self.path.push_str(sub);
        self.report(msg, args, node);
        self.path.truncate(len);
    }

    /// [`Self::report`] at child `name` of `node` (at `node` when absent).
    pub(crate) fn at_child(&mut self, node: Element<'v>, name: &str, msg: Msg, args: Args) {
        let at = node.child(name).unwrap_or(node);
        self.report_sub(&format!(".{name}"), msg, args, at);
    }

    /// Run `f` on the side: its findings (with the invariants it queued,
    /// evaluated) are returned instead of reported, and nothing it queued
    /// stays. For the checks that try alternatives: slices, one of several
    /// profiles.
    pub(crate) fn trial(&mut self, f: impl FnOnce(&mut Self)) -> Vec<Issue> {
        let saved = std::mem::take(&mut self.issues);
        let mark = self.invariant_mark();
        f(self);
        self.flush_invariants(mark);
        let found = std::mem::replace(&mut self.issues, saved).into_issues();
        self.invariant_rollback(mark);
        found
    }

    /// Run `f` on the side (see [`Self::trial`]): true when it found no
    /// error.
    pub(crate) fn sandbox(&mut self, f: impl FnOnce(&mut Self)) -> bool {
        !self.trial(f).iter().any(|i| i.severity.is_error())
    }

    /// Validate a resource node; `self.path` is its expression.
    pub(crate) fn resource(&mut self, node: Element<'v>, top: bool) {
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
        self.resource_id(node);
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
        self.resource_rules(node, rt);
        self.applicable_profiles(node, rt);
        self.canonical_url(node, &plan, top);
        self.leave_resource_scope();
        self.element_ids.pop();
        if container {
            self.containers -= 1;
        }
    }

    /// Validate `node` against the profile `canonical`.
    pub(crate) fn profile(&mut self, node: Element<'v>, canonical: &str, explicit: bool) {
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

    /// Check the children of `node` against the children of element `idx`:
    /// each child's element node, then the slices and the cardinalities.
    pub(crate) fn children(&mut self, node: Element<'v>, plan: &Arc<Plan>, idx: usize) {
        let content = plan.content_of(idx);
        let Some(parent) = plan.elements.get(content) else {
            return;
        };
        let rules = plan.child_rules();
        // Occurrences per child definition (index into parent.children).
        let mut counts = self.spare_counts.pop().unwrap_or_default();
        counts.reset(parent.children.len());
        if node.resource_type().is_some() {
            // A `resourceType` property of a non-resource (for example
            // ExampleScenario.instance.resourceType) is read as a resource
            // type by format readers that do not know the definitions.
            if let Some((ci, _)) = plan.find_child(content, "resourceType") {
                counts.count(slot_of(&parent.children, ci), None);
            }
        }
        // Instances of sliced elements, for the slice pass (profiles).
        let mut sliced: Vec<(usize, Element<'v>, String)> = Vec::new();
        let mut order = crate::checks::element_order::ElementOrder::default();
        for child in node.children() {
            if rules.element_ids && node.resource_type().is_none() {
                self.unique_element_id(child);
            }
            // (a primitive's value is its value, never a child element:
            // `<valueInteger><value value="1"/></valueInteger>` in XML)
            let found = plan
                .find_child(content, child.name())
                .filter(|&(ci, _)| !(content == 0 && is_primitive_value(plan, ci)));
            let Some((ci, ti)) = found else {
                if rules.unknown_properties {
                    self.unknown_property(child);
                } else if let Some(ci) = plan.is_bad_choice(content, child.name()) {
                    // A choice type the profile does not allow: the
                    // element still counts as the choice element.
                    counts.count(slot_of(&parent.children, ci), Some(child));
                    self.profile_choice_type(plan, ci, child);
                }
                continue;
            };
            // (an element the index finds is one of the children)
            let slot = slot_of(&parent.children, ci).unwrap_or(0);
            let n = counts.count(Some(slot), Some(child));
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
                fhirreg_element::push_index(&mut self.path, n as usize);
            }
            if self.json && rules.json_form {
                self.array_form(def, child);
            } else if !self.json && rules.json_form && def.path != "Extension.url" {
                // XML: the order of the elements (an extension's url is an
                // attribute: it has no place)
                self.element_order(&mut order, slot, &def.name, child);
            }
            self.element(child, plan, ci, ti);
            if rules.slices && !def.slices.is_empty() {
                sliced.push((ci, child, self.path[len..].to_string()));
            }
            self.path.truncate(len);
        }
        if rules.slices {
            self.slice_pass(node, plan, &parent.children, &sliced);
        }
        self.cardinality(node, plan, &parent.children, &counts);
        self.spare_counts.push(counts);
    }

    /// The children of an inline element (a backbone element, or an
    /// element a profile constrains inline) against its content element.
    fn inline_children(&mut self, node: Element<'v>, plan: &Arc<Plan>, idx: usize, content: usize) {
        if !plan.child_rules().anchors {
            self.children(node, plan, content);
        } else {
            let reused = (content != idx).then(|| plan.elements[content].path.clone());
            self.anchors.push((self.path.len(), None, reused));
            self.children(node, plan, content);
            self.anchors.pop();
        }
    }

    /// A resource inside an element (contained, entry, parameter): walked
    /// as a resource of its own, at `path/*Type/id*/`.
    fn nested_resource(&mut self, node: Element<'v>) {
        let Some(rt) = node.resource_type() else {
            self.report(Msg::ResourceTypeMissing, args![], node);
            return;
        };
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

    /// The expression of the parent of the current node.
    pub(crate) fn parent_path(&self) -> String {
        let p = self.path.as_str();
        match p.rfind('.') {
            Some(i) => p[..i].to_string(),
            None => p.to_string(),
        }
    }

    /// Check one element against its definition: run the checks its plan
    /// node carries (see [`Check`]), each in its module of
    /// [`crate::checks`].
    pub(crate) fn element(
        &mut self,
        node: Element<'v>,
        plan: &Arc<Plan>,
        idx: usize,
        ti: Option<usize>,
    ) {
        let Some(compiled) = self.v.node(plan, idx) else {
            return;
        };
        let Some(def) = plan.elements.get(idx) else {
            return;
        };
        let content = compiled.content;
        // The type of the instance: the chosen type, else the single type.
        let ty = plan.type_of(idx, ti);
        for check in compiled.checks(ti) {
            if self.issues.stopped() {
                return; // (the verdict is known: is_valid)
            }
            match check {
                Check::Invariants => self.element_invariants(node, plan, idx, ti),
                Check::Fixed => self.fixed_or_pattern(node, plan, def, false),
                Check::Pattern => self.fixed_or_pattern(node, plan, def, true),
                Check::ValueControls => self.value_controls(node, plan, def, ti),
                Check::ValueLimits => self.declared_value_limits(node, def),
                Check::ValueRules => self.value_rules(node, def, plan.type_of(idx, ti), &plan.url),
                Check::Binding => self.element_binding(node, plan, def, ti),
                Check::ObjectForm => self.object_form(node),
                Check::Children => self.inline_children(node, plan, idx, content),
                Check::InlineTarget => self.inline_target(node, plan, def),
                Check::Resource => self.nested_resource(node),
                Check::Primitive => {
                    if let (Some(t), Some(cdef)) = (ty, plan.elements.get(content)) {
                        self.primitive(node, t, cdef);
                    }
                }
                Check::ResourceType => {
                    if let Some(t) = ty {
                        self.resource_of_type(node, t);
                        self.resource_type_profiles(node, t);
                    }
                }
                Check::ReferenceTarget => {
                    if let Some(t) = ty {
                        // The profile's target profiles and aggregation modes.
                        self.reference_target(node, t, plan.mode);
                    }
                }
                Check::TypeProfiles => {
                    if let Some(t) = ty {
                        self.type_profiles(node, t);
                    }
                }
                Check::Complex => {
                    if let Some(t) = ty {
                        self.complex(node, t, compiled.dispatch(ti));
                    }
                }
                Check::ComplexBinding => {
                    let b = plan.elements.get(content).and_then(|c| c.binding.as_ref());
                    if let (Some(t), Some(b)) = (ty, b) {
                        self.binding(node, &t.code, b, plan.mode);
                    }
                }
            }
        }
    }
}

/// How often each child definition of an element occurs in an instance,
/// and the first instance of each (where a `max` problem is reported).
#[derive(Default)]
pub(crate) struct Occurrences<'v> {
    pub(crate) counts: Vec<u32>,
    pub(crate) first: Vec<Option<Element<'v>>>,
}

impl<'v> Occurrences<'v> {
    /// Zero counters for `n` child definitions.
    fn reset(&mut self, n: usize) {
        self.counts.clear();
        self.counts.resize(n, 0);
        self.first.clear();
        self.first.resize(n, None);
    }

    /// Count an instance of the child definition in `slot` (its index in
    /// the parent's children); returns how many came before it.
    fn count(&mut self, slot: Option<usize>, instance: Option<Element<'v>>) -> u32 {
        let Some(slot) = slot else { return 0 };
        let n = self.counts.get(slot).copied().unwrap_or(0);
        if let Some(c) = self.counts.get_mut(slot) {
            *c += 1;
        }
        if let (Some(f), Some(i)) = (self.first.get_mut(slot), instance) {
            f.get_or_insert(i);
        }
        n
    }
}

/// The index of child definition `ci` among `children`.
fn slot_of(children: &[usize], ci: usize) -> Option<usize> {
    children.iter().position(|&c| c == ci)
}

/// Whether element `ci` of a primitive type's plan is the primitive's own
/// value (`integer.value`, typed as the primitive itself).
fn is_primitive_value(plan: &Plan, ci: usize) -> bool {
    plan.elements.get(ci).is_some_and(|d| {
        d.name == "value" && d.types.first().is_some_and(|t| t.code == plan.type_name)
    })
}
