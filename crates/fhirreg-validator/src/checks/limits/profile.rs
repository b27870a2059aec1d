//! The value limits a profile puts on an element beyond its type's: its
//! `maxLength`, the limits R4 carries in ElementDefinition extensions
//! (`minLength`, `regex`, `maxDecimalPlaces`, `maxSize`), and
//! `minValueQuantity` / `maxValueQuantity`, compared after UCUM conversion.
//!
//! The base walk checks the type's own rules (a string's 1 MB, the
//! lexical forms); these run with the profile's plan (see
//! [`plan::Check::ValueRules`](crate::plan::Check::ValueRules)).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use crate::checks::primitive::base64_binary;
use crate::plan::{ElemDef, TypeRef};
use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};
use rust_decimal::Decimal;
use serde_json::Value;

const UCUM: &str = "http://unitsofmeasure.org";

/// Whether element `def` (with the type `t` chosen) has limits this module
/// checks, so that the plan carries the check.
pub(crate) fn applies(def: &ElemDef, t: Option<&TypeRef>) -> bool {
    let quantity_limit = t.is_some_and(|t| is_quantity(&t.code))
        && (def.min_value.is_some() || def.max_value.is_some());
    def.max_length.is_some() || def.value_rules.is_some() || quantity_limit
}

/// Quantity and the types that specialise it in R4.
fn is_quantity(code: &str) -> bool {
    matches!(
        code,
        "Quantity" | "Age" | "Count" | "Distance" | "Duration" | "MoneyQuantity" | "SimpleQuantity"
    )
}

impl<'v> Walk<'v> {
    /// The limits of a profile's element `def` on `node` (of type `t`);
    /// `profile` is the profile's url.
    pub(crate) fn value_rules(
        &mut self,
        node: Element<'v>,
        def: &ElemDef,
        t: Option<&TypeRef>,
        profile: &str,
    ) {
        let code = t.map(|t| t.code.as_str()).unwrap_or_default();
        if let Some(v) = node.value() {
            self.primitive_rules(node, def, code, v);
        } else if code == "Attachment" {
            self.attachment_size_rule(node, def);
        } else if code == "Narrative" {
            if let Some(rules) = def.value_rules.as_deref() {
                self.narrative_controls(node, rules, profile);
            }
        }
        if is_quantity(code) {
            // (units that do not convert are reported once)
            let comparable = match &def.min_value {
                Some(min) => self.quantity_limit(node, min, Ordering::Less),
                None => true,
            };
            if let (true, Some(max)) = (comparable, &def.max_value) {
                self.quantity_limit(node, max, Ordering::Greater);
            }
        }
    }

    fn primitive_rules(&mut self, node: Element<'v>, def: &ElemDef, code: &str, v: &str) {
        self.max_length(node, def, v);
        let Some(rules) = def.value_rules.as_deref() else {
            return;
        };
        if let Some(min) = rules.min_length {
            if (v.chars().count() as u64) < min {
                self.report(Msg::ValueTooShort, args![min], node);
            }
        }
        if let Some(re) = &rules.regex {
            // (a regex that does not compile constrains nothing we can check)
            if let Some(rx) = whole_match(re) {
                if !rx.is_match(v) {
                    self.report(Msg::ValueRegex, args![v, re.as_str()], node);
                }
            }
        }
        if let (Some(max), "decimal") = (rules.max_decimal_places, code) {
            let places = decimal_places(v);
            if places > max {
                self.report(Msg::DecimalTooManyPlaces, args![places, max], node);
            }
        }
        if let (Some(max), "base64Binary") = (rules.max_size, code) {
            if base64_binary::whole_groups(v) {
                let size = base64_binary::decoded_len(v) as u64;
                if size > max {
                    self.report(Msg::Base64TooLarge, args![size, max], node);
                }
            }
        }
    }

    /// `maxSize` on an Attachment: the size of its data (or its stated
    /// size when the data is elsewhere).
    fn attachment_size_rule(&mut self, node: Element<'v>, def: &ElemDef) {
        let Some(max) = def.value_rules.as_deref().and_then(|r| r.max_size) else {
            return;
        };
        let size = match node.child_value("data") {
            Some(data) => {
                if !base64_binary::whole_groups(data) {
                    return; // not base64: reported as such
                }
                base64_binary::decoded_len(data) as u64
            }
            None => match node.child_value("size").and_then(|s| s.parse::<u64>().ok()) {
                Some(s) => s,
                None => return,
            },
        };
        if size > max {
            self.report(Msg::AttachmentTooLarge, args![size, max], node);
        }
    }

    /// A Quantity against one limit (`bad`: the ordering that breaks it).
    /// Quantities in UCUM are compared in the limit's unit; a unit that
    /// does not convert to the limit's breaks it too. With other systems
    /// the units must be the same to compare; otherwise nothing is known.
    /// False when the units do not convert (reported).
    fn quantity_limit(&mut self, node: Element<'v>, limit: &Value, bad: Ordering) -> bool {
        let Some(limit_value) = limit.get("value").and_then(json_decimal) else {
            return true;
        };
        let Some(value) = node.child_value("value").and_then(parse_decimal) else {
            return true;
        };
        let limit_system = limit.get("system").and_then(Value::as_str);
        let limit_code = limit.get("code").and_then(Value::as_str);
        let system = node.child_value("system");
        let code = node.child_value("code");
        let shown = |v: &str, c: Option<&str>| match c {
            Some(c) => format!("{v} {c}"),
            None => v.to_string(),
        };
        let value_text = shown(node.child_value("value").unwrap_or_default(), code);
        let limit_text = shown(&limit_value.normalize().to_string(), limit_code);
        let compared = match (limit_code, code) {
            (None, _) => Some(value),
            (Some(lc), Some(c)) if lc == c && limit_system == system => Some(value),
            (Some(lc), Some(c)) if limit_system == Some(UCUM) && system == Some(UCUM) => {
                match fhirreg_ucum::convert(value, c, lc) {
                    Some(v) => Some(v),
                    None => {
                        self.report(
                            Msg::QuantityLimitNotComparable,
                            args![value_text, limit_text],
                            node,
                        );
                        return false;
                    }
                }
            }
            _ => None,
        };
        let Some(v) = compared else {
            return true;
        };
        if v.cmp(&limit_value) == bad {
            let msg = if bad == Ordering::Less {
                Msg::QuantityBelowMinimum
            } else {
                Msg::QuantityAboveMaximum
            };
            self.report(msg, args![value_text, limit_text], node);
        }
        true
    }
}

/// The places after the decimal point of a decimal's text.
fn decimal_places(v: &str) -> u64 {
    let mantissa = v.split(['e', 'E']).next().unwrap_or(v);
    mantissa.split_once('.').map_or(0, |(_, frac)| {
        frac.chars().filter(char::is_ascii_digit).count() as u64
    })
}

fn parse_decimal(s: &str) -> Option<Decimal> {
    s.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(s).ok())
}

fn json_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => parse_decimal(&n.to_string()),
        Value::String(s) => parse_decimal(s),
        _ => None,
    }
}

/// The regular expression of a `regex` extension, anchored to match the
/// whole value; compiled once per process.
fn whole_match(re: &str) -> Option<Arc<regex::Regex>> {
    static CACHE: OnceLock<RwLock<HashMap<String, Option<Arc<regex::Regex>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| RwLock::new(HashMap::new()));
    if let Some(hit) = cache.read().ok().and_then(|c| c.get(re).cloned()) {
        return hit;
    }
    let compiled = regex::Regex::new(&format!("^(?:{re})$")).ok().map(Arc::new);
    if let Ok(mut c) = cache.write() {
        c.insert(re.to_string(), compiled.clone());
    }
    compiled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_places_count_the_fraction() {
        assert_eq!(decimal_places("70"), 0);
        assert_eq!(decimal_places("70.25"), 2);
        assert_eq!(decimal_places("-0.125e3"), 3);
    }

    #[test]
    fn regex_matches_the_whole_value() {
        let rx = whole_match("[0-9]{6}").expect("compiles");
        assert!(rx.is_match("123456"));
        assert!(!rx.is_match("1234567"));
        assert!(whole_match("[").is_none());
    }
}
