//! Binding rules beyond membership (terminology-binding.html):
//!
//! * a CodeableConcept under a required binding has a coding: text alone
//!   does not say which code of the value set is meant (under an
//!   extensible binding this is a warning, an error when the binding has a
//!   maxValueSet);
//! * a coded value outside an extensible or preferred binding's value set
//!   is still in the binding's maxValueSet (extension
//!   `elementdefinition-maxValueSet`, "for use when the binding strength is
//!   'extensible' or 'preferred'").

use crate::plan::Binding;
use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};
use fhirreg_terminology::{BindingStrength, CodingRef, IssueKind};

impl<'v> Walk<'v> {
    /// A CodeableConcept without codings under the binding `b`.
    pub(crate) fn binding_without_code(
        &mut self,
        node: Element<'v>,
        b: &Binding,
        strength: BindingStrength,
    ) {
        let vs = b.value_set.as_str();
        match strength {
            BindingStrength::Required => self.report(Msg::BindingNoCode, args![vs], node),
            BindingStrength::Extensible if b.max_value_set.is_some() => {
                let max = b.max_value_set.as_deref().unwrap_or(vs);
                self.report(Msg::BindingNoCode, args![max], node);
            }
            BindingStrength::Extensible => {
                self.report(Msg::BindingNoCodeExtensible, args![vs], node)
            }
            _ => {}
        }
    }

    /// A coded value (`code`: its type) that is not in its extensible or
    /// preferred binding's value set: it must still be in the maxValueSet, when the
    /// binding has one. Only a definite answer is reported.
    pub(crate) fn max_value_set(&mut self, node: Element<'v>, code: &str, b: &Binding) {
        let Some(max) = b.max_value_set.as_deref() else {
            return;
        };
        let coding_of = |c: Element<'v>| -> Option<CodingRef<'v>> {
            Some(CodingRef {
                system: c.child_value("system"),
                version: c.child_value("version"),
                code: Some(c.child_value("code")?),
                display: None,
            })
        };
        let tx = &self.v.tx;
        let (result, shown) = match code {
            "code" => {
                let Some(v) = node.value() else { return };
                (tx.validate_code(max, &CodingRef::code(v)), v.to_string())
            }
            "Coding" | "Quantity" => {
                let Some(cr) = coding_of(node) else { return };
                let shown = format!(
                    "{}#{}",
                    cr.system.unwrap_or_default(),
                    cr.code.unwrap_or_default()
                );
                (tx.validate_code(max, &cr), shown)
            }
            "CodeableConcept" => {
                let refs: Vec<CodingRef<'v>> = node
                    .children_named("coding")
                    .filter_map(coding_of)
                    .collect();
                if refs.is_empty() {
                    return;
                }
                let shown = refs
                    .iter()
                    .map(|c| {
                        format!(
                            "{}#{}",
                            c.system.unwrap_or_default(),
                            c.code.unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                (tx.validate_codeable_concept(max, &refs), shown)
            }
            _ => return,
        };
        let Ok(r) = result else { return };
        if !r.valid && !r.unknown && r.has(IssueKind::NotInValueSet) {
            self.report(Msg::BindingMaxValueSet, args![max, shown], node);
        }
    }
}
