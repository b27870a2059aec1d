//! The evaluation environment: resources, focus, variables, hooks, limits.

use std::collections::HashMap;
use std::sync::Arc;

use fhirreg_element::Element;

use crate::model::{ElementType, ModelInfo};
use crate::value::{PartialDateTime, Value};

/// Terminology questions asked by `memberOf()`, `subsumes()` and `subsumedBy()`.
pub trait TerminologyHook {
    /// Is the code/Coding/CodeableConcept `value` in the value set? `None` if unknown.
    fn member_of(&self, value: &Value<'_>, value_set: &str) -> Option<bool>;
    /// Does `a` subsume `b` (both codes/Codings)? `None` if unknown.
    fn subsumes(&self, _a: &Value<'_>, _b: &Value<'_>) -> Option<bool> {
        None
    }
}

/// Resolves references that are not inside the document (`resolve()`).
pub trait ReferenceResolver {
    /// The resource a reference (`Patient/123`, an absolute URL) points at
    /// (borrowed from the resolver, which holds or borrows the documents).
    fn resolve(&self, reference: &str) -> Option<Element<'_>>;
}

/// Answers `conformsTo(profile)`.
pub trait ConformanceHook {
    /// `Some(true/false)` when the resource was checked, `None` if the profile is unknown.
    fn conforms_to(&self, resource: Element<'_>, profile: &str) -> Option<bool>;
}

/// Receives `trace(name)` calls.
pub trait TraceHook {
    fn trace(&self, name: &str, values: &[Value<'_>]);
}

/// Bounds on one evaluation; exceeding one is an [`crate::EvalError`].
#[derive(Clone, Debug)]
pub struct Limits {
    /// Maximum nesting of expression evaluation (including `repeat`/`descendants` levels).
    pub max_depth: usize,
    /// Maximum number of items in any intermediate collection.
    pub max_items: usize,
    /// Maximum length in bytes of a string built during evaluation.
    pub max_string: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 200,
            max_items: 1_000_000,
            max_string: 16 * 1024 * 1024,
        }
    }
}

/// Everything an evaluation needs besides the expression.
///
/// `focus` is the input of the expression (and `%context`), `resource` the
/// resource containing it (`%resource`), `root_resource` the outermost
/// resource (`%rootResource`, e.g. the Bundle).
pub struct EvalContext<'a> {
    pub(crate) focus: Option<Element<'a>>,
    pub(crate) focus_type: Option<Arc<ElementType>>,
    pub(crate) resource: Option<Element<'a>>,
    pub(crate) root_resource: Option<Element<'a>>,
    pub(crate) variables: HashMap<String, Vec<Value<'a>>>,
    pub(crate) model: Option<&'a dyn ModelInfo>,
    pub(crate) terminology: Option<&'a dyn TerminologyHook>,
    pub(crate) resolver: Option<&'a dyn ReferenceResolver>,
    pub(crate) conformance: Option<&'a dyn ConformanceHook>,
    pub(crate) tracer: Option<&'a dyn TraceHook>,
    pub(crate) limits: Limits,
    pub(crate) strict: bool,
    pub(crate) now: Option<PartialDateTime>,
}

impl<'a> EvalContext<'a> {
    /// Evaluate against a resource: it is the focus, `%resource` and `%rootResource`.
    pub fn new(resource: Element<'a>) -> Self {
        EvalContext {
            focus: Some(resource),
            resource: Some(resource),
            root_resource: Some(resource),
            ..EvalContext::empty()
        }
    }

    /// A context without any input (for expressions over literals only).
    pub fn empty() -> Self {
        EvalContext {
            focus: None,
            focus_type: None,
            resource: None,
            root_resource: None,
            variables: HashMap::new(),
            model: None,
            terminology: None,
            resolver: None,
            conformance: None,
            tracer: None,
            limits: Limits::default(),
            strict: false,
            now: None,
        }
    }

    /// Set the focus (an element inside `%resource`) and, when known, its type.
    /// Without a type, the type is found by walking from `%resource` when a
    /// model is set.
    pub fn with_focus(mut self, focus: Element<'a>, focus_type: Option<Arc<ElementType>>) -> Self {
        self.focus = Some(focus);
        self.focus_type = focus_type;
        self
    }

    /// Set `%resource` (the resource containing the focus).
    pub fn with_resource(mut self, resource: Element<'a>) -> Self {
        self.resource = Some(resource);
        self
    }

    /// Set `%rootResource` (the outermost resource, e.g. a Bundle).
    pub fn with_root_resource(mut self, root: Element<'a>) -> Self {
        self.root_resource = Some(root);
        self
    }

    /// Define `%name`.
    pub fn with_variable(mut self, name: impl Into<String>, value: Vec<Value<'a>>) -> Self {
        self.variables.insert(name.into(), value);
        self
    }

    /// Use type information (FHIR types of properties, choice types, subtypes).
    pub fn with_model(mut self, model: &'a dyn ModelInfo) -> Self {
        self.model = Some(model);
        self
    }

    /// Answer `memberOf()` / `subsumes()`.
    pub fn with_terminology(mut self, hook: &'a dyn TerminologyHook) -> Self {
        self.terminology = Some(hook);
        self
    }

    /// Resolve references not found in the document.
    pub fn with_resolver(mut self, hook: &'a dyn ReferenceResolver) -> Self {
        self.resolver = Some(hook);
        self
    }

    /// Answer `conformsTo()`.
    pub fn with_conformance(mut self, hook: &'a dyn ConformanceHook) -> Self {
        self.conformance = Some(hook);
        self
    }

    /// Receive `trace()` output.
    pub fn with_tracer(mut self, hook: &'a dyn TraceHook) -> Self {
        self.tracer = Some(hook);
        self
    }

    /// Set evaluation bounds.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Strict mode: navigating to a property the model does not define is an
    /// error (instead of an empty result). Needs a model.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Fix the clock used by `now()`, `today()` and `timeOfDay()`.
    pub fn with_now(mut self, now: PartialDateTime) -> Self {
        self.now = Some(now);
        self
    }
}
