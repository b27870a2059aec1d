//! Compiled plans: a definition of the registry's model ([`StructureDef`])
//! compiled for one way of running it.
//!
//! A [`CompiledPlan`] is made once per (definition, [`Mode`]) and shared by
//! every validation. Its [`Mode`] decides which checks its nodes carry:
//! the plan of a type's own definition checks everything an instance of
//! the type must satisfy (structure, types, primitive formats, bindings,
//! invariants); the plan of a profile, an extension definition or a type
//! profile checks only what that definition adds to its type (its
//! cardinalities, fixed and pattern values, value limits, bindings, slices,
//! type profiles and invariants), since the type's own plan runs anyway.
//! The walk reads the mode from the plan it runs: nothing about it is
//! walker state.
//!
//! Each element's [`Dispatch`] (what kind of value the element holds:
//! a backbone element, a resource, a primitive and how JSON writes it, a
//! complex datatype and its own plan) is worked out on first use and kept,
//! so the walk does not look types up by name per node.

use std::ops::Deref;
use std::sync::{Arc, OnceLock};

pub(crate) use fhirreg_registry::model::{
    Binding, Constraint, ElementDef as ElemDef, ExtContext, Kind, Slicing, StructureDef, TypeRef,
};

use fhirreg_element::ValueKind;

/// Which checks a plan runs (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Mode {
    /// A type's own definition: every rule of the type.
    Base,
    /// A profile, an extension definition or a type profile: only what it
    /// adds to its type.
    Profile,
}

impl Mode {
    pub(crate) fn is_profile(self) -> bool {
        self == Mode::Profile
    }
}

/// A definition compiled for one [`Mode`]. Dereferences to the definition.
pub(crate) struct CompiledPlan {
    def: Arc<StructureDef>,
    pub mode: Mode,
    /// What the walk over an element's children checks.
    child_rules: ChildRules,
    /// Per element, on first use.
    nodes: Vec<OnceLock<Node>>,
}

/// The definition the validator reads, by its historical name.
pub(crate) type Plan = CompiledPlan;

impl Deref for CompiledPlan {
    type Target = StructureDef;

    fn deref(&self) -> &StructureDef {
        &self.def
    }
}

impl std::fmt::Debug for CompiledPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledPlan")
            .field("url", &self.def.url)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// What the walk over the children of an element checks besides running
/// each child's node, decided by the plan's [`Mode`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChildRules {
    /// A child the definition does not know is reported (base plans; a
    /// profile only meets choice types it does not allow).
    pub unknown_properties: bool,
    /// JSON array or not, as the child repeats or not (base plans).
    pub json_form: bool,
    /// Element ids are unique in their resource (base plans; not in an
    /// ElementDefinition, whose ids are paths repeated between snapshot
    /// and differential).
    pub element_ids: bool,
    /// Slices of sliced children (profiles).
    pub slices: bool,
    /// The type boundaries for extension contexts are tracked (base plans).
    pub anchors: bool,
}

/// What an element holds, worked out once per element (and choice type).
#[derive(Debug)]
pub(crate) enum Dispatch {
    /// No type to check against (several types, none chosen).
    None,
    /// A resource (`Resource`, `DomainResource` or a resource type).
    Resource,
    /// A FHIR primitive.
    Primitive,
    /// A complex datatype: its own (base) plan, resolved on first use.
    Complex {
        plan: OnceLock<Option<Arc<CompiledPlan>>>,
    },
}

/// One check a plan node runs on an instance of its element. The list of a
/// node is made once, for the plan's [`Mode`]; the walk only runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Queue the element's invariants (a base plan also checks ele-1).
    Invariants,
    /// The element's `fixed[x]` value.
    Fixed,
    /// The element's `pattern[x]` value.
    Pattern,
    /// `mustHaveValue` / `valueAlternatives`, when the instance has no value.
    ValueControls,
    /// `minValue[x]` / `maxValue[x]`, when the instance has a value.
    ValueLimits,
    /// A profile's other value limits: `maxLength`, the extensions
    /// `minLength`, `regex`, `maxDecimalPlaces`, `maxSize`, and Quantity
    /// limits (see `checks/limits/profile.rs`).
    ValueRules,
    /// The element's binding (profiles: the element definition's own).
    Binding,
    /// A JSON value where the element is an object.
    ObjectForm,
    /// The children of the content element (inline backbone elements).
    Children,
    /// A profile's inline Reference: its targets still apply; an inline
    /// resource: its type.
    InlineTarget,
    /// A resource inside the element (contained, entry, parameter).
    Resource,
    /// A primitive value's format.
    Primitive,
    /// A profile's resource-typed element: the resource's type and the
    /// type's profiles.
    ResourceType,
    /// A profile's Reference: target profiles and aggregation modes.
    ReferenceTarget,
    /// A profile's datatype profiles.
    TypeProfiles,
    /// A complex datatype's own plan (children, invariants) and its
    /// type-specific rules (Extension, Reference, Coding, Identifier,
    /// Attachment).
    Complex,
    /// The binding of a complex-typed element (base plans: after the
    /// datatype's own checks).
    ComplexBinding,
}

/// The compiled facts of one element.
#[derive(Debug)]
pub(crate) struct Node {
    /// The element whose children describe the content (a content
    /// reference followed).
    pub content: usize,
    /// Dispatch without a chosen type (a single type) ...
    pub single: Dispatch,
    /// ... and per type of a choice element.
    pub per_type: Vec<Dispatch>,
    /// The checks without a chosen type ...
    checks: Vec<Check>,
    /// ... and per type of a choice element.
    checks_per_type: Vec<Vec<Check>>,
    /// The element's constraints made ready to evaluate (compiled
    /// expressions), on first evaluation.
    pub constraints: OnceLock<Vec<crate::checks::invariant::Prepared>>,
    /// The FHIRPath type of the element as the focus of its constraints:
    /// `[0]` without a chosen type, `[i + 1]` for type `i` of a choice
    /// (made once, shared by every evaluation).
    pub focus_types: OnceLock<Vec<Option<Arc<fhirreg_fhirpath::ElementType>>>>,
}

/// How FHIR JSON writes a primitive of this type.
pub(crate) fn json_kind(code: &str) -> ValueKind {
    match code {
        "boolean" => ValueKind::Boolean,
        "integer" | "decimal" | "positiveInt" | "unsignedInt" | "integer64" => ValueKind::Number,
        _ => ValueKind::String,
    }
}

/// FHIR primitive type names start in lower case (`string`, `dateTime`).
pub(crate) fn is_primitive_code(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_lowercase())
}

impl CompiledPlan {
    pub(crate) fn new(def: Arc<StructureDef>, mode: Mode) -> CompiledPlan {
        let nodes = (0..def.elements.len()).map(|_| OnceLock::new()).collect();
        let base = !mode.is_profile();
        let child_rules = ChildRules {
            unknown_properties: base,
            json_form: base,
            element_ids: base && def.type_name != "ElementDefinition",
            slices: !base,
            anchors: base,
        };
        CompiledPlan {
            def,
            mode,
            child_rules,
            nodes,
        }
    }

    /// What the walk over an element's children checks (see [`ChildRules`]).
    pub(crate) fn child_rules(&self) -> ChildRules {
        self.child_rules
    }

    /// The compiled facts of element `idx` (`is_resource_type` tells which
    /// type names are resource types).
    pub(crate) fn node(
        &self,
        idx: usize,
        is_resource_type: &dyn Fn(&str) -> bool,
    ) -> Option<&Node> {
        let cell = self.nodes.get(idx)?;
        Some(cell.get_or_init(|| self.compile_node(idx, is_resource_type)))
    }

    fn compile_node(&self, idx: usize, is_resource_type: &dyn Fn(&str) -> bool) -> Node {
        let content = self.content_of(idx);
        let inline = self
            .elements
            .get(content)
            .is_some_and(|c| !c.children.is_empty());
        let dispatch = |t: Option<&TypeRef>| match t {
            None => Dispatch::None,
            Some(t) => {
                let code = t.code.as_str();
                if code == "Resource" || code == "DomainResource" || is_resource_type(code) {
                    Dispatch::Resource
                } else if is_primitive_code(code) {
                    Dispatch::Primitive
                } else {
                    Dispatch::Complex {
                        plan: OnceLock::new(),
                    }
                }
            }
        };
        let own = self.elements.get(idx);
        let content_def = self.elements.get(content);
        let single = dispatch(content_def.and_then(|d| match d.types.as_slice() {
            [t] => Some(t),
            _ => None,
        }));
        let per_type: Vec<Dispatch> = own
            .map(|d| d.types.iter().map(|t| dispatch(Some(t))).collect())
            .unwrap_or_default();
        let checks = self.checks(idx, None, inline, &single);
        let checks_per_type = per_type
            .iter()
            .enumerate()
            .map(|(i, d)| self.checks(idx, Some(i), inline, d))
            .collect();
        Node {
            content,
            single,
            per_type,
            checks,
            checks_per_type,
            constraints: OnceLock::new(),
            focus_types: OnceLock::new(),
        }
    }

    /// The checks of element `idx` (with chosen type `ti`) in this plan's
    /// mode.
    fn checks(
        &self,
        idx: usize,
        ti: Option<usize>,
        inline: bool,
        dispatch: &Dispatch,
    ) -> Vec<Check> {
        let mut out = vec![Check::Invariants];
        let Some(def) = self.elements.get(idx) else {
            return out;
        };
        match self.mode {
            Mode::Profile => {
                if def.fixed.is_some() {
                    out.push(Check::Fixed);
                }
                if def.pattern.is_some() {
                    out.push(Check::Pattern);
                }
                out.push(Check::ValueControls);
                if ti.is_none()
                    && def.types.len() == 1
                    && (def.min_value.is_some() || def.max_value.is_some())
                {
                    out.push(Check::ValueLimits);
                }
                if crate::checks::limits::profile::applies(def, self.type_of(idx, ti)) {
                    out.push(Check::ValueRules);
                }
                if def.binding.is_some() && !def.types.is_empty() {
                    out.push(Check::Binding);
                }
                if inline {
                    out.extend([Check::Children, Check::InlineTarget]);
                    return out;
                }
                match dispatch {
                    Dispatch::None | Dispatch::Primitive => {}
                    Dispatch::Resource => out.push(Check::ResourceType),
                    Dispatch::Complex { .. } => {
                        if self.type_of(idx, ti).is_some_and(|t| t.code == "Reference") {
                            out.push(Check::ReferenceTarget);
                        }
                        out.push(Check::TypeProfiles);
                    }
                }
            }
            Mode::Base => {
                if inline {
                    out.extend([Check::ObjectForm, Check::Children]);
                    return out;
                }
                match dispatch {
                    Dispatch::None => {}
                    Dispatch::Resource => out.push(Check::Resource),
                    Dispatch::Primitive => out.push(Check::Primitive),
                    Dispatch::Complex { .. } => {
                        out.extend([Check::ObjectForm, Check::Complex]);
                        let content = self.content_of(idx);
                        if self
                            .elements
                            .get(content)
                            .is_some_and(|c| c.binding.is_some())
                        {
                            out.push(Check::ComplexBinding);
                        }
                    }
                }
            }
        }
        out
    }
}

impl CompiledPlan {
    /// The type an instance of element `idx` has: the chosen type `ti` of a
    /// choice, else the content element's single type.
    pub(crate) fn type_of(&self, idx: usize, ti: Option<usize>) -> Option<&TypeRef> {
        match ti {
            Some(i) => self.elements.get(idx)?.types.get(i),
            None => match self.elements.get(self.content_of(idx))?.types.as_slice() {
                [t] => Some(t),
                _ => None,
            },
        }
    }
}

impl Node {
    /// The dispatch for the chosen type `ti` (or the single type).
    pub(crate) fn dispatch(&self, ti: Option<usize>) -> &Dispatch {
        match ti {
            Some(i) => self.per_type.get(i).unwrap_or(&Dispatch::None),
            None => &self.single,
        }
    }

    /// The checks for the chosen type `ti` (or the single type).
    pub(crate) fn checks(&self, ti: Option<usize>) -> &[Check] {
        match ti {
            Some(i) => self.checks_per_type.get(i).map_or(&[], Vec::as_slice),
            None => &self.checks,
        }
    }
}
