//! Type information: which FHIR type a property of a type has.
//!
//! [`ModelInfo`] is the question FHIRPath asks while navigating; the
//! registry answers it from its definition model
//! (`fhirreg_registry::model::FhirPathModel`).

use std::sync::Arc;

/// The FHIR type of an element, and where its children are defined.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ElementType {
    /// The FHIR type name: `HumanName`, `date`, `BackboneElement`, `Patient`,
    /// or `System.String` for the few System-typed elements (`Element.id`).
    pub type_name: String,
    /// Where the element's own properties are defined: a type name
    /// (`HumanName`) or, for backbone elements, the element path inside its
    /// type (`Patient.contact`).
    pub path: String,
}

impl ElementType {
    /// A type whose properties are those of the type itself.
    pub fn of_type(name: &str) -> ElementType {
        ElementType {
            type_name: name.to_string(),
            path: name.to_string(),
        }
    }
}

/// Answers FHIRPath's questions about the FHIR model. `Send + Sync` so that
/// one instance serves all threads.
pub trait ModelInfo: Send + Sync {
    /// The type of property `name` (as named in the tree, e.g. `valueQuantity`)
    /// of an element of type `parent`. `None` when there is no such property.
    fn child_type(&self, parent: &ElementType, name: &str) -> Option<Arc<ElementType>>;
    /// True when `name` is a choice property (`value[x]`) of `parent`.
    fn is_choice(&self, parent: &ElementType, name: &str) -> bool;
    /// True when `name` is a choice property written with its type suffix
    /// (`valueQuantity` for `value[x]`) rather than a property of its own.
    /// The default: `name` is a choice name followed by the name of a type
    /// and `parent` has no property of that exact name.
    fn is_choice_expansion(&self, parent: &ElementType, name: &str) -> bool {
        name.char_indices().any(|(i, c)| {
            i > 0
                && c.is_ascii_uppercase()
                && self.is_choice(parent, &name[..i])
                && self.child_type(parent, name).is_none()
                && {
                    let suffix = &name[i..];
                    let lower = suffix[..1].to_ascii_lowercase() + &suffix[1..];
                    self.type_named(suffix).is_some() || self.type_named(&lower).is_some()
                }
        })
    }
    /// The type of a resource or data type by name, if it exists.
    fn type_named(&self, name: &str) -> Option<Arc<ElementType>>;
    /// The base type of a type (`Patient` -> `DomainResource`, `Age` -> `Quantity`).
    fn base_type(&self, name: &str) -> Option<String>;

    /// True when `ty` is `base` or derives from it.
    fn is_subtype(&self, ty: &str, base: &str) -> bool {
        let mut cur = ty.to_string();
        for _ in 0..16 {
            if cur == base {
                return true;
            }
            match self.base_type(&cur) {
                Some(b) => cur = b,
                None => return false,
            }
        }
        false
    }
}
