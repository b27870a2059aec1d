//! Invariants: the `constraint`s of the ElementDefinitions a walk applies
//! (resource, backbone and datatype elements, datatype roots, profiles,
//! extension definitions), evaluated with FHIRPath.
//!
//! Constraints are read into the compiled plans ([`Constraint`] on each
//! element); each distinct expression is compiled once per [`Validator`]
//! (a cache shared by all threads). The walk queues one job per element
//! and definition; the jobs run after the walk, when the whole tree (the
//! containing resource, the outermost resource) is at hand.
//!
//! A failure is reported as the HL7 Java validator reports it (where and
//! how seriously) with the message `invariant-failed` (the constraint's key
//! and human text), or `invariant-failed-from` naming the definition when
//! the constraint comes from another definition than the one applied, with
//! the constraint's severity (best-practice constraints: per
//! [`BestPracticeLevel`]) and the location of the element. An expression
//! that cannot be compiled or evaluated is never reported as a failure,
//! only as information (`invariant-not-compiled`, `invariant-not-evaluated`).
//!
//! [`Validator`]: crate::Validator

use crate::plan::{Constraint, Plan};
use crate::walk::Walk;
use crate::{Inner, CORE};
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element, Issue, NodeId, Severity};
use fhirreg_fhirpath::{
    ElementType, EvalContext, Expression, Limits, ReferenceResolver, TerminologyHook,
    Value as FpValue,
};
use fhirreg_terminology::{CodingRef, Terminology};
// foldhash in the maps looked up per node and constraint (keys can come
// from the validated resource: seeded per process).
use foldhash::{HashMap, HashSet, HashSetExt};
use std::sync::{Arc, OnceLock, RwLock};

/// How best-practice constraints (`elementdefinition-bestpractice`, like
/// `dom-6`) are reported when they fail.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BestPracticeLevel {
    /// Not evaluated.
    Ignore,
    /// As information.
    Hint,
    /// As warnings (the default).
    #[default]
    Warning,
    /// As errors.
    Error,
}

/// Keys the walk checks by hand, never evaluated here so that they are not
/// reported twice: ele-1 and ext-1 (same messages), dom-3 (as the HL7 Java
/// validator reports it), txt-1/txt-2 (narrative XHTML, `checks::primitive::xhtml`).
const HAND_CHECKED: &[&str] = &["ele-1", "ext-1", "dom-3", "txt-1", "txt-2"];

fn evaluated(c: &Constraint) -> bool {
    !HAND_CHECKED.contains(&c.key.as_str())
}

/// `prop.matches('regex')` (the `xxx-0` name rules, `eld-19`, `eld-20`),
/// evaluated directly with a regular expression compiled once: the
/// FHIRPath engine compiles the pattern at each call, and these bounded
/// repetitions are costly to compile.
struct FastMatch {
    prop: String,
    re: regex::Regex,
}

fn fast_match(expr: &str) -> Option<Arc<FastMatch>> {
    static CACHE: OnceLock<RwLock<HashMap<String, Option<Arc<FastMatch>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Ok(map) = cache.read() {
        if let Some(f) = map.get(expr) {
            return f.clone();
        }
    }
    let f = parse_fast_match(expr).map(Arc::new);
    if let Ok(mut map) = cache.write() {
        map.entry(expr.to_string()).or_insert_with(|| f.clone());
    }
    f
}

fn parse_fast_match(expr: &str) -> Option<FastMatch> {
    // Constraints come with whole-string matching (`matchesFull`, see
    // `fhirreg_registry::model::fix_expression`).
    let (prop, rest) = expr
        .split_once(".matchesFull(")
        .or_else(|| expr.split_once(".matches("))?;
    if !prop.starts_with(|c: char| c.is_ascii_lowercase())
        || !prop.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    // The pattern literal, unescaped by the FHIRPath parser.
    let literal = Expression::compile(rest.strip_suffix(')')?).ok()?;
    let value = literal.evaluate(&EvalContext::empty()).ok()?;
    let [FpValue::String(pattern)] = value.as_slice() else {
        return None;
    };
    let re = regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .dot_matches_new_line(true)
        .size_limit(1 << 20)
        .build()
        .ok()?;
    Some(FastMatch {
        prop: prop.to_string(),
        re,
    })
}

impl FastMatch {
    /// The result, or `None` when the engine must decide (several values,
    /// a complex value).
    fn eval(&self, focus: Element<'_>) -> Option<Option<bool>> {
        let mut values = focus.children_named(&self.prop);
        match (values.next(), values.next()) {
            (None, _) => Some(None),
            (Some(v), None) => match v.value() {
                Some(s) => Some(Some(self.re.is_match(s))),
                None if v
                    .children()
                    .all(|c| c.name() == "extension" || c.name() == "id") =>
                {
                    Some(None)
                }
                None => None,
            },
            _ => None,
        }
    }
}

/// A constraint of a plan element made ready to evaluate, once per plan
/// element: whether it is evaluated here, its `matches()` fast form, its
/// compiled expression.
pub(crate) struct Prepared {
    evaluated: bool,
    fast: Option<Arc<FastMatch>>,
    /// `None`: the expression does not compile.
    expr: Option<Arc<Expression>>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("evaluated", &self.evaluated)
            .field("compiled", &self.expr.is_some())
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// The constraints of element `idx` of `plan`, prepared (aligned with
    /// `plan.elements[idx].constraints`).
    fn prepared<'p>(&self, plan: &'p Plan, idx: usize) -> &'p [Prepared] {
        let Some(node) = self.node(plan, idx) else {
            return &[];
        };
        node.constraints.get_or_init(|| {
            plan.elements
                .get(idx)
                .map(|e| e.constraints.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    let evaluated = evaluated(c);
                    Prepared {
                        evaluated,
                        fast: (evaluated && c.expression.contains(".matches("))
                            .then(|| fast_match(&c.expression))
                            .flatten(),
                        expr: if evaluated { self.expression(c) } else { None },
                    }
                })
                .collect()
        })
    }

    /// The type of element `idx` of `plan` as the focus of its constraints
    /// (`ti`: the chosen type of a choice element), made once per plan
    /// element.
    fn focus_type(&self, plan: &Plan, idx: usize, ti: Option<usize>) -> Option<Arc<ElementType>> {
        let slot = ti.map_or(0, |i| i + 1);
        let Some(node) = self.node(plan, idx) else {
            return focus_type_of(plan, idx, ti);
        };
        let types = node.focus_types.get_or_init(|| {
            let n = plan.elements.get(idx).map_or(0, |d| d.types.len());
            std::iter::once(None)
                .chain((0..n).map(Some))
                .map(|ti| focus_type_of(plan, idx, ti))
                .collect()
        });
        types.get(slot).cloned().flatten()
    }

    /// The compiled expression of a constraint (`None`: does not compile),
    /// compiled once per validator.
    fn expression(&self, c: &Constraint) -> Option<Arc<Expression>> {
        if let Ok(map) = self.expressions.read() {
            if let Some(e) = map.get(&c.expression) {
                return e.clone();
            }
        }
        let e = Expression::compile(&c.expression).ok().map(Arc::new);
        if let Ok(mut map) = self.expressions.write() {
            map.entry(c.expression.clone()).or_insert_with(|| e.clone());
        }
        e
    }

    /// True when `url` is the definition of a core resource or datatype
    /// (not a profile such as `vitalsigns`).
    fn is_core_type_definition(&self, url: &str) -> bool {
        url.strip_prefix(CORE).is_some_and(|name| {
            self.type_plan(name)
                .is_some_and(|p| p.type_name == name && p.url == url)
        })
    }

    /// True when constraint `c` of element `idx` of the profile `plan` is
    /// one of the core type's own (the walk over the core definitions
    /// evaluated it on the same element already).
    fn inherited_from_core(&self, plan: &Plan, idx: usize, c: &Constraint) -> bool {
        if let Some(src) = &c.source {
            return self.is_core_type_definition(src.split('|').next().unwrap_or(src));
        }
        let Some(core) = self.type_plan(&plan.type_name) else {
            return false;
        };
        if core.url == plan.url {
            return false;
        }
        let path = &plan.elements[idx].path;
        core.elements
            .iter()
            .find(|e| e.path == *path && e.slice_name.is_none())
            .is_some_and(|e| {
                e.constraints
                    .iter()
                    .any(|x| x.key == c.key && x.expression == c.expression)
            })
    }
}

/// A queued evaluation: the constraints of element `idx` of `plan` on a node.
pub(crate) struct Job {
    node: NodeId,
    plan: Arc<Plan>,
    idx: usize,
    /// The element's path, in [`WalkInvariants::paths`].
    path: std::ops::Range<usize>,
    profile: bool,
    focus_type: Option<Arc<ElementType>>,
}

/// The invariant state of one walk over the tree of `root`.
pub(crate) struct WalkInvariants<'t> {
    pub(crate) jobs: Vec<Job>,
    /// Extension context checks that need the tree.
    pub(crate) ext_jobs: Vec<crate::checks::extension::context::ExtJob>,
    /// The paths of the queued jobs, one after another (read only for a
    /// failed constraint: no string per job).
    paths: String,
    root: Element<'t>,
}

impl<'t> WalkInvariants<'t> {
    pub(crate) fn new(root: Element<'t>) -> Self {
        WalkInvariants {
            jobs: Vec::new(),
            ext_jobs: Vec::new(),
            paths: String::new(),
            root,
        }
    }
}

/// A resource in the tree: the root, or the value of a Resource-typed
/// element (`contained`, `Bundle.entry.resource`,
/// `Bundle.entry.response.outcome`, `Parameters.parameter.resource`).
fn is_resource(e: Element<'_>, root: Element<'_>) -> bool {
    e == root || (e.is_resource() && matches!(e.name(), "contained" | "resource" | "outcome"))
}

/// The nearest resource strictly above `e` (the root for the root).
pub(crate) fn resource_above<'t>(e: Element<'t>, root: Element<'t>) -> Element<'t> {
    let mut cur = e.parent();
    while let Some(p) = cur {
        if is_resource(p, root) {
            return p;
        }
        cur = p.parent();
    }
    root
}

/// `%rootResource` for the resource `r`: the container's for a contained
/// resource, else the resource itself (Bundle entries are their own root).
pub(crate) fn root_resource_of<'t>(r: Element<'t>, root: Element<'t>) -> Element<'t> {
    let mut r = r;
    while r != root && r.name() == "contained" && is_resource(r, root) {
        r = resource_above(r, root);
    }
    r
}

/// Bounds of one invariant evaluation. Collections are kept to
/// [`MAX_ITEMS`] so that an expression that walks a collection for each of
/// its items (sdf-8: `element.tail().all(... %resource.snapshot.element
/// ...)`) stays below 10^8 steps on hostile input; a larger collection
/// makes the evaluation fail, which is reported as information, never as a
/// failed constraint.
pub(crate) fn invariant_limits() -> Limits {
    Limits {
        max_items: MAX_ITEMS,
        ..Limits::default()
    }
}

/// See [`invariant_limits`].
const MAX_ITEMS: usize = 10_000;

/// The type of element `idx` of `plan` as the focus of its constraints:
/// the plan's type at the root; a backbone element's path within its type;
/// the chosen (`ti`) or only type otherwise.
fn focus_type_of(plan: &Plan, idx: usize, ti: Option<usize>) -> Option<Arc<ElementType>> {
    if idx == 0 {
        return Some(Arc::new(ElementType::of_type(&plan.type_name)));
    }
    let def = plan.elements.get(idx)?;
    let content = plan.content_of(idx);
    let t = match ti {
        Some(i) => def.types.get(i),
        None if def.types.len() == 1 => def.types.first(),
        None => None,
    }?;
    let inline = plan
        .elements
        .get(content)
        .is_some_and(|c| !c.children.is_empty());
    Some(Arc::new(
        if (t.code == "BackboneElement" || t.code == "Element") && inline {
            ElementType {
                type_name: t.code.clone(),
                path: plan.elements[content].path.clone(),
            }
        } else {
            ElementType::of_type(&t.code)
        },
    ))
}

/// True for the plan of a core resource or datatype definition (not a profile).
fn is_core_plan(plan: &Plan) -> bool {
    plan.url.strip_prefix(CORE) == Some(plan.type_name.as_str())
}

impl<'v> Walk<'v> {
    /// Queue the constraints of the root of `plan` (a resource or profile
    /// definition) for the resource `node`.
    pub(crate) fn invariants(&mut self, node: Element<'v>, plan: &Arc<Plan>) {
        self.element_invariants(node, plan, 0, None);
        if !plan.mode.is_profile() && is_core_plan(plan) {
            self.contained_referenced(node);
        }
    }

    /// Queue the constraints of element `idx` of `plan` for `node` (at
    /// `self.path`); `ti` is the chosen type of a choice element.
    pub(crate) fn element_invariants(
        &mut self,
        node: Element<'v>,
        plan: &Arc<Plan>,
        idx: usize,
        ti: Option<usize>,
    ) {
        let Some(def) = plan.elements.get(idx) else {
            return;
        };
        if idx != 0 && !plan.mode.is_profile() {
            self.ele_1(node, plan, idx, ti);
        }
        if !def.constraints.iter().any(evaluated) {
            return;
        }
        let focus_type = self.v.focus_type(plan, idx, ti);
        let start = self.inv.paths.len();
        self.inv.paths.push_str(&self.path);
        self.inv.jobs.push(Job {
            node: node.id(),
            plan: plan.clone(),
            idx,
            path: start..self.inv.paths.len(),
            profile: plan.mode.is_profile() || !is_core_plan(plan),
            focus_type,
        });
    }

    /// ele-1 (`hasValue() or (children().count() > id.count())`), checked
    /// directly: a primitive with neither a value nor extensions; an XML
    /// element of a complex type without content (an empty JSON object is
    /// reported by the reader).
    fn ele_1(&mut self, node: Element<'v>, plan: &Plan, idx: usize, ti: Option<usize>) {
        if node.value().is_some() || node.children().any(|c| c.name() != "id") {
            return;
        }
        let def = &plan.elements[idx];
        let t = match ti {
            Some(i) => def.types.get(i),
            None => def.types.first(),
        };
        let primitive = t.is_some_and(|t| t.code.starts_with(|c: char| c.is_ascii_lowercase()))
            && plan.elements[plan.content_of(idx)].children.is_empty();
        if !primitive && (self.json || node.resource_type().is_some()) {
            return;
        }
        // (the constraint's words are the specification's)
        let args = args![
            "ele-1",
            "All FHIR elements must have a @value or children",
            "http://hl7.org/fhir/StructureDefinition/Element"
        ];
        self.report(Msg::InvariantFailedFrom, args, node);
    }

    /// The number of queued jobs, to drop those of a sandboxed walk.
    pub(crate) fn invariant_mark(&self) -> usize {
        self.inv.jobs.len()
    }

    pub(crate) fn invariant_rollback(&mut self, mark: usize) {
        if let Some(first) = self.inv.jobs.get(mark) {
            self.inv.paths.truncate(first.path.start);
        }
        self.inv.jobs.truncate(mark);
    }

    /// Evaluate the queued constraints (after the walk).
    pub(crate) fn run_invariants(&mut self) {
        let jobs = std::mem::take(&mut self.inv.jobs);
        self.evaluate_invariants(jobs);
        self.inv.paths.clear();
        let ext_jobs = std::mem::take(&mut self.inv.ext_jobs);
        if !ext_jobs.is_empty() {
            let root = self.inv.root;
            self.evaluate_ext_jobs(&ext_jobs, root);
        }
    }

    /// Evaluate the constraints queued since `mark` now (in a sandboxed
    /// walk, whose issues decide a slice or a profile choice).
    pub(crate) fn flush_invariants(&mut self, mark: usize) {
        if mark < self.inv.jobs.len() {
            let jobs = self.inv.jobs.split_off(mark);
            let start = jobs.first().map_or(self.inv.paths.len(), |j| j.path.start);
            self.evaluate_invariants(jobs);
            self.inv.paths.truncate(start);
        }
    }

    fn evaluate_invariants(&mut self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        let root = self.inv.root;
        self.evaluate_with(&jobs, root);
    }

    fn evaluate_with(&mut self, jobs: &[Job], root: Element<'v>) {
        let inner: &Inner = self.v;
        let tx = TxHook(&inner.tx);
        let resolver = Resolver { root };
        // A node queued twice with the same plan element (by two routes to
        // the same definition) has its constraints evaluated once.
        let mut done: HashSet<(NodeId, *const Plan, usize)> = HashSet::with_capacity(jobs.len());
        for job in jobs {
            if !done.insert((job.node, Arc::as_ptr(&job.plan), job.idx)) {
                continue;
            }
            let Some(node) = root.document().get(job.node) else {
                continue;
            };
            // The resource whose definition is applied: the node itself for
            // the root of a resource's definition, else the resource above
            // (for `Bundle.entry.resource`, the Bundle).
            let resource = if job.idx == 0 && is_resource(node, root) {
                node
            } else {
                resource_above(node, root)
            };
            let root_resource = root_resource_of(resource, root);
            let prepared = inner.prepared(&job.plan, job.idx);
            for (c, ready) in job.plan.elements[job.idx].constraints.iter().zip(prepared) {
                if !ready.evaluated {
                    continue;
                }
                if job.profile && inner.inherited_from_core(&job.plan, job.idx, c) {
                    continue;
                }
                let severity = if c.best_practice {
                    match inner.options.best_practice_level {
                        BestPracticeLevel::Ignore => continue,
                        BestPracticeLevel::Hint => Severity::Information,
                        BestPracticeLevel::Warning => Severity::Warning,
                        BestPracticeLevel::Error => Severity::Error,
                    }
                } else if c.error {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                let fast = ready.fast.as_ref().and_then(|f| f.eval(node));
                let result = match fast {
                    Some(r) => Ok(r),
                    None => {
                        let Some(expr) = &ready.expr else {
                            self.invariant_problem(c, None, job, node);
                            continue;
                        };
                        let ctx = EvalContext::new(resource)
                            .with_focus(node, job.focus_type.clone())
                            .with_root_resource(root_resource)
                            .with_model(&inner.model)
                            .with_terminology(&tx)
                            .with_resolver(&resolver)
                            .with_limits(invariant_limits());
                        expr.evaluate_bool(&ctx).map_err(|e| e.message)
                    }
                };
                match result {
                    Ok(Some(false)) => {
                        let (msg, args) = match &c.source {
                            Some(src) if src.split('|').next() != Some(job.plan.url.as_str()) => {
                                (Msg::InvariantFailedFrom, args![&c.key, &c.human, src])
                            }
                            _ => (Msg::InvariantFailed, args![&c.key, &c.human]),
                        };
                        let path = self.inv.paths.get(job.path.clone()).unwrap_or_default();
                        let issue = Issue::new(msg, args, path, Some(node.pos()));
                        self.issues.push(issue.with_severity(severity));
                    }
                    Ok(_) => {}
                    Err(e) => self.invariant_problem(c, Some(&e), job, node),
                }
            }
        }
    }

    /// A constraint that could not be checked: its expression does not
    /// compile (`why` is `None`), or its evaluation failed (`why`).
    fn invariant_problem(
        &mut self,
        c: &Constraint,
        why: Option<&str>,
        job: &Job,
        node: Element<'v>,
    ) {
        let from = c.source.as_deref().unwrap_or(&job.plan.url);
        let (msg, args) = match why {
            None => (
                Msg::InvariantNotCompiled,
                args![&c.key, &c.expression, from],
            ),
            Some(why) => (
                Msg::InvariantNotEvaluated,
                args![&c.key, &c.expression, from, why],
            ),
        };
        let path = self.inv.paths.get(job.path.clone()).unwrap_or_default();
        let issue = Issue::new(msg, args, path, Some(node.pos()));
        self.issues.push(issue);
    }
}

/// `memberOf()` through fhirreg-terminology.
struct TxHook<'t>(&'t Terminology);

fn coding_of(e: Element<'_>) -> CodingRef<'_> {
    CodingRef {
        system: e.child_value("system"),
        version: e.child_value("version"),
        code: e.child_value("code"),
        display: None,
    }
}

impl TerminologyHook for TxHook<'_> {
    fn member_of(&self, value: &FpValue<'_>, value_set: &str) -> Option<bool> {
        let result = match value {
            FpValue::String(s) => self.0.validate_code(value_set, &CodingRef::code(s)),
            FpValue::Node(n) => {
                let e = n.element;
                if let Some(v) = e.value() {
                    self.0.validate_code(value_set, &CodingRef::code(v))
                } else if e.child("coding").is_some() || e.child("text").is_some() {
                    let codings: Vec<CodingRef<'_>> =
                        e.children_named("coding").map(coding_of).collect();
                    if codings.is_empty() {
                        return None;
                    }
                    self.0.validate_codeable_concept(value_set, &codings)
                } else if e.child("code").is_some() {
                    self.0.validate_code(value_set, &coding_of(e))
                } else {
                    return None;
                }
            }
            _ => return None,
        };
        let r = result.ok()?;
        if r.unknown {
            None
        } else {
            Some(r.valid)
        }
    }
}

/// `resolve()` of references the FHIRPath engine does not find itself (in
/// `%resource` and `%rootResource`): entries of Bundles nested deeper.
pub(crate) struct Resolver<'a> {
    pub(crate) root: Element<'a>,
}

impl ReferenceResolver for Resolver<'_> {
    fn resolve(&self, reference: &str) -> Option<Element<'_>> {
        if reference.starts_with('#') {
            return None;
        }
        let mut stack = vec![self.root];
        let mut seen = 0usize;
        while let Some(e) = stack.pop() {
            seen += 1;
            if seen > 100_000 {
                return None;
            }
            if e.resource_type() == Some("Bundle") {
                for entry in e.children_named("entry") {
                    let Some(res) = entry.child("resource") else {
                        continue;
                    };
                    let full = entry.child_value("fullUrl");
                    let local = match (res.resource_type(), res.child_value("id")) {
                        (Some(t), Some(id)) => Some(format!("{t}/{id}")),
                        _ => None,
                    };
                    if full == Some(reference)
                        || local.as_deref() == Some(reference)
                        || local
                            .as_deref()
                            .is_some_and(|l| reference.ends_with(&format!("/{l}")))
                    {
                        return Some(res);
                    }
                    stack.push(res);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests;
