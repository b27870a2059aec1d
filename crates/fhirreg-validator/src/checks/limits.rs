//! Value limits: `minValue[x]` / `maxValue[x]`, `maxLength`, and the value
//! controls (`mustHaveValue`, `valueAlternatives`) of a primitive.

pub(crate) mod profile;

use crate::plan::ElemDef;
use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

impl<'v> Walk<'v> {
    /// The definition's `minValue[x]` / `maxValue[x]` on an element with a
    /// value (a profile's, of a single-typed element).
    pub(crate) fn declared_value_limits(&mut self, node: Element<'v>, def: &ElemDef) {
        if let (Some(v), Some(t)) = (node.value(), def.types.first()) {
            self.value_limits(node, &t.code, def, v);
        }
    }

    /// `maxLength` of the definition.
    pub(crate) fn max_length(&mut self, node: Element<'v>, def: &ElemDef, v: &str) {
        if let Some(max) = def.max_length {
            if v.chars().count() as u64 > max {
                self.report(Msg::ValueTooLong, args![max], node);
            }
        }
    }

    /// `minValue[x]` / `maxValue[x]` of the definition.
    pub(crate) fn value_limits(&mut self, node: Element<'v>, code: &str, def: &ElemDef, v: &str) {
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
}

impl<'v> Walk<'v> {
    /// A primitive without a value: `mustHaveValue` forbids it, and
    /// `valueAlternatives` names the extensions that must stand in for it.
    pub(crate) fn value_controls(
        &mut self,
        node: Element<'v>,
        plan: &crate::plan::Plan,
        def: &crate::plan::ElemDef,
        ti: Option<usize>,
    ) {
        if node.value().is_some() || (!def.must_have_value && def.value_alternatives.is_empty()) {
            return;
        }
        let primitive = ti
            .and_then(|i| def.types.get(i))
            .or(def.types.first())
            .is_some_and(|t| crate::plan::is_primitive_code(&t.code));
        if !primitive {
            return;
        }
        if def.must_have_value {
            self.report(Msg::ValueRequired, args![&def.path, &plan.url], node);
        } else {
            let present = node.children_named("extension").any(|e| {
                e.child_value("url")
                    .is_some_and(|u| def.value_alternatives.iter().any(|a| a == u))
            });
            if !present {
                let args = args![&def.path, &plan.url, def.value_alternatives.join(", ")];
                self.report(Msg::ValueOrAlternativeRequired, args, node);
            }
        }
    }
}
