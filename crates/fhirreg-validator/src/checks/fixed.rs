//! `fixed[x]` and `pattern[x]` of profiles, complex values included, the
//! way the HL7 Java validator checks them (`checkFixedValue`): a fixed value
//! is matched exactly (content the fixed value does not have is not
//! allowed; repeating elements match item by item), a pattern only needs
//! its own content to be present (each repeated item somewhere).

use crate::checks::slicing::matches_value;
use crate::json_primitive_text;
use crate::plan::{ElemDef, Plan};
use crate::walk::Walk;
use fhirreg_element::message::{Args, Msg};
use fhirreg_element::{args, Element};
use serde_json::Value;

/// Nesting bound for fixed values (they are finite JSON, this only guards
/// against pathological definitions).
const MAX_DEPTH: usize = 32;

/// A primitive instance value equals a fixed primitive (decimals compare
/// by value: `1.0` and `1.00` are different in FHIR, but JSON numbers lose
/// their text, so the number is compared as the reader kept it).
fn same_primitive(have: &str, want: &Value) -> bool {
    match want {
        Value::Number(n) => {
            have == n.to_string()
                || (have
                    .parse::<f64>()
                    .ok()
                    .is_some_and(|h| Some(h) == n.as_f64()))
        }
        _ => json_primitive_text(want).is_some_and(|w| w == have),
    }
}

impl<'v> Walk<'v> {
    /// The element's `fixed[x]` (or, with `pattern`, its `pattern[x]`).
    pub(crate) fn fixed_or_pattern(
        &mut self,
        node: Element<'v>,
        plan: &Plan,
        def: &ElemDef,
        pattern: bool,
    ) {
        let want = if pattern { &def.pattern } else { &def.fixed };
        if let Some(want) = want {
            self.fixed_value(node, want, pattern, &plan.versioned_url());
        }
    }

    /// Check `node` (at `self.path`) against the fixed value or pattern
    /// `want` of a profile element. `source` names the profile.
    pub(crate) fn fixed_value(
        &mut self,
        node: Element<'v>,
        want: &Value,
        pattern: bool,
        source: &str,
    ) {
        self.fixed_at(node, want, pattern, source, 0);
    }

    fn fixed_at(
        &mut self,
        node: Element<'v>,
        want: &Value,
        pattern: bool,
        source: &str,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(w) = json_primitive_text(want) {
            let have = node.value();
            if !have.is_some_and(|h| same_primitive(h, want)) {
                let args = args![have.unwrap_or("null"), w, source];
                self.report(Msg::FixedValueMismatch, args, node);
            }
            // (extensions on a primitive with a fixed value: checked below)
            if want.is_string() || want.is_number() || want.is_boolean() {
                self.fixed_extensions(node, None, pattern, source, depth);
            }
            return;
        }
        let Value::Object(map) = want else { return };
        // Content the fixed value does not have.
        if !pattern {
            let mut seen: Vec<&str> = Vec::new();
            for child in node.children() {
                let name = child.name();
                if matches!(name, "extension" | "modifierExtension" | "id") || seen.contains(&name)
                {
                    continue;
                }
                seen.push(name);
                if !map.contains_key(name) {
                    let len = self.path.len();
                    self.path.push('.');
                    self.path.push_str(name);
                    self.report(Msg::FixedValueExtraElement, args![name], child);
                    self.path.truncate(len);
                }
            }
        }
        for (key, w) in map {
            if key.starts_with('_')
                || key == "extension"
                || key == "modifierExtension"
                || key == "id"
            {
                continue;
            }
            let kids: Vec<Element<'v>> = node.children_named(key).collect();
            let len = self.path.len();
            self.path.push('.');
            self.path.push_str(key);
            match w {
                Value::Array(items) => {
                    self.fixed_list(node, key, &kids, items, pattern, source, depth)
                }
                _ => match kids.first() {
                    None => {
                        self.report(Msg::FixedValueMissingElement, args![key, source], node);
                    }
                    Some(k) => self.fixed_at(*k, w, pattern, source, depth + 1),
                },
            }
            self.path.truncate(len);
        }
        self.fixed_extensions(node, map.get("extension"), pattern, source, depth);
    }

    /// A repeating element of a fixed value or pattern; `self.path` ends
    /// with its name.
    #[allow(clippy::too_many_arguments)]
    fn fixed_list(
        &mut self,
        parent: Element<'v>,
        key: &str,
        kids: &[Element<'v>],
        items: &[Value],
        pattern: bool,
        source: &str,
        depth: usize,
    ) {
        let count_ok = if pattern {
            kids.len() >= items.len()
        } else {
            kids.len() == items.len()
        };
        // Issues about the list are reported on its parent.
        let base = self.path.len();
        let parent_len = base.saturating_sub(key.len() + 1);
        if !count_ok {
            let tail = self.path.split_off(parent_len);
            let args = args![items.len(), kids.len(), key];
            self.report(Msg::FixedValueCount, args, parent);
            self.path.push_str(&tail);
            return;
        }
        for (i, w) in items.iter().enumerate() {
            if pattern {
                // Each item of the pattern is somewhere in the instance.
                if !kids.iter().any(|k| matches_value(*k, w)) {
                    let tail = self.path.split_off(parent_len);
                    let (msg, args) = pattern_not_found(key, w, source);
                    self.report(msg, args, parent);
                    self.path.push_str(&tail);
                }
            } else if let Some(k) = kids.get(i) {
                self.path.push_str(&format!("[{i}]"));
                self.fixed_at(*k, w, pattern, source, depth + 1);
                self.path.truncate(base);
            }
        }
    }

    /// Extensions of a fixed value: with none fixed, none are allowed; the
    /// fixed ones must be present (by url) with their value.
    fn fixed_extensions(
        &mut self,
        node: Element<'v>,
        want: Option<&Value>,
        pattern: bool,
        source: &str,
        depth: usize,
    ) {
        let have: Vec<Element<'v>> = node.children_named("extension").collect();
        let want: &[Value] = want
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if want.is_empty() {
            if !pattern && !have.is_empty() {
                self.report(Msg::FixedExtensionsNotAllowed, args![], node);
            }
            return;
        }
        if !pattern && have.len() != want.len() {
            let args = args![want.len(), have.len()];
            self.report(Msg::FixedExtensionCount, args, node);
            return;
        }
        for w in want {
            let Some(url) = w.get("url").and_then(Value::as_str) else {
                continue;
            };
            match have.iter().find(|e| e.child_value("url") == Some(url)) {
                None => self.report(Msg::FixedExtensionMissing, args![url], node),
                Some(e) => self.fixed_at(*e, w, pattern, source, depth + 1),
            }
        }
    }
}

/// A pattern item not found (Coding items name their system, code and
/// display).
fn pattern_not_found(key: &str, w: &Value, source: &str) -> (Msg, Args) {
    let s = |k: &str| w.get(k).and_then(Value::as_str).unwrap_or("");
    if key == "coding" {
        (
            Msg::PatternCodingNotFound,
            args![s("system"), s("code"), s("display"), source],
        )
    } else {
        (Msg::PatternNotFound, args![key, source])
    }
}

impl<'v> Walk<'v> {}

impl<'v> Walk<'v> {}
