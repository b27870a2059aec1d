//! Cardinality and the JSON form of elements: each child definition's
//! `min`/`max` counted over the instance's children, arrays for repeating
//! elements only, objects where the element is complex.

use crate::plan::{ElemDef, Plan};
use crate::walk::{Occurrences, Walk};
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

impl<'v> Walk<'v> {
    /// Each child definition of an element occurs between its `min` and
    /// `max` times (`counts`, made by the walk over the children).
    pub(crate) fn cardinality(
        &mut self,
        node: Element<'v>,
        plan: &Plan,
        children: &[usize],
        counts: &Occurrences<'v>,
    ) {
        for (slot, &ci) in children.iter().enumerate() {
            let def = &plan.elements[ci];
            let n = counts.counts.get(slot).copied().unwrap_or(0);
            if n < def.min {
                let args = args![&def.id, def.min, n, plan.versioned_url()];
                self.report(Msg::TooFewOccurrences, args, node);
            }
            if let Some(max) = def.max {
                if n > max {
                    let args = args![&def.id, max, n, plan.versioned_url()];
                    let at = counts.first.get(slot).copied().flatten().unwrap_or(node);
                    self.report(Msg::TooManyOccurrences, args, at);
                }
            }
        }
    }

    /// A complex element written as a JSON value.
    pub(crate) fn object_form(&mut self, node: Element<'v>) {
        if node.value().is_some() {
            self.report(Msg::ObjectExpected, args![&node.name()], node);
        }
    }

    /// JSON: repeating elements are arrays, others are not.
    pub(crate) fn array_form(&mut self, def: &ElemDef, child: Element<'v>) {
        // (the parent's expression is built only for a report)
        if def.repeats() && !child.in_array() {
            let parent = self.parent_path();
            self.report(Msg::JsonArrayExpected, args![&child.name(), parent], child);
        } else if !def.repeats() && child.in_array() {
            let parent = self.parent_path();
            self.report(
                Msg::JsonArrayUnexpected,
                args![&child.name(), parent],
                child,
            );
        }
    }
}
