//! Slices of profiles: which slice an element belongs to (by the
//! discriminators: value, pattern, type, profile, exists), slice
//! cardinality, closed slicing, and the slice's own constraints.

pub(crate) mod order;

use crate::plan::{Plan, Slicing};
use crate::upper_first;
use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};
use serde_json::Value;
use std::sync::Arc;

/// Does the element match the value (a fixed value or a pattern)?
pub(crate) fn matches_value(e: Element<'_>, v: &Value) -> bool {
    match v {
        Value::String(s) => e.value() == Some(s.as_str()),
        Value::Bool(b) => e.value() == Some(if *b { "true" } else { "false" }),
        Value::Number(n) => e
            .value()
            .is_some_and(|x| x == n.to_string() || x.parse::<f64>().ok() == n.as_f64()),
        Value::Object(map) => map.iter().all(|(k, want)| {
            let mut kids = e.children().filter(|c| c.name() == *k);
            match want {
                Value::Array(items) => {
                    let kids: Vec<Element<'_>> = kids.collect();
                    items
                        .iter()
                        .all(|w| kids.iter().any(|c| matches_value(*c, w)))
                }
                _ => kids.any(|c| matches_value(c, want)),
            }
        }),
        Value::Array(items) => items.iter().all(|w| matches_value(e, w)),
        Value::Null => true,
    }
}

/// The elements at a discriminator path below `e`.
fn navigate<'a>(e: Element<'a>, path: &str) -> Vec<Element<'a>> {
    let mut cur = vec![e];
    if path == "$this" {
        return cur;
    }
    for seg in split_path(path) {
        if seg == "$this" {
            continue;
        }
        let mut next = Vec::new();
        if let Some(url) = seg
            .strip_prefix("extension('")
            .and_then(|r| r.strip_suffix("')"))
        {
            for c in &cur {
                next.extend(
                    c.children_named("extension")
                        .filter(|x| x.child_value("url") == Some(url)),
                );
            }
        } else if let Some(t) = seg
            .strip_prefix("ofType(")
            .and_then(|r| r.strip_suffix(')'))
        {
            // keep the current nodes whose choice name ends with the type
            next.extend(
                cur.iter()
                    .copied()
                    .filter(|c| c.name().ends_with(&upper_first(t))),
            );
        } else if seg == "resolve()" {
            next.extend(cur.iter().copied()); // contained/bundled resources are inline
        } else {
            let name = seg.strip_suffix("[x]").unwrap_or(seg);
            for c in &cur {
                next.extend(c.children().filter(|x| {
                    x.name() == name
                        || (x.name().starts_with(name)
                            && x.name()[name.len()..]
                                .starts_with(|ch: char| ch.is_ascii_uppercase()))
                }));
            }
        }
        cur = next;
    }
    cur
}

/// Split `a.extension('http://x.y/z').b` on the dots outside parentheses.
fn split_path(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, ch) in path.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            '.' if depth == 0 => {
                out.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&path[start..]);
    out
}

/// The definition at a discriminator path below slice `s`.
fn def_at(plan: &Plan, s: usize, path: &str) -> Option<usize> {
    let mut cur = s;
    if path == "$this" {
        return Some(cur);
    }
    for seg in split_path(path) {
        if seg == "$this" || seg == "resolve()" || seg.starts_with("ofType(") {
            continue;
        }
        let content = plan.content_of(cur);
        let name = seg.strip_suffix("[x]").unwrap_or(seg);
        cur = *plan.elements[content]
            .children
            .iter()
            .find(|&&c| plan.elements[c].name == name)?;
    }
    Some(cur)
}

/// The part of a fixed value or pattern at a discriminator path (plain
/// element names; the first item of a list).
fn value_at(v: &Value, path: &str) -> Option<Value> {
    let mut cur = v;
    for seg in split_path(path) {
        if seg == "$this" {
            continue;
        }
        if !seg.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        cur = cur.get(seg)?;
        if let Value::Array(a) = cur {
            cur = a.first()?;
        }
    }
    Some(cur.clone())
}

/// The fixed code of a required `Observation.code.coding` slice of a core
/// (vital-signs) profile.
fn magic_code(plan: &Plan, s: usize) -> Option<String> {
    let sd = &plan.elements[s];
    if !plan.url.starts_with(crate::CORE) || sd.path != "Observation.code.coding" {
        return None;
    }
    let code = sd
        .children
        .iter()
        .map(|&c| &plan.elements[c])
        .find(|c| c.name == "code")?;
    code.fixed
        .as_ref()
        .or(code.pattern.as_ref())
        .and_then(Value::as_str)
        .map(String::from)
}

impl<'v> Walk<'v> {
    /// The slices of the sliced child definitions of an element: the
    /// instances of each (`sliced`: definition, instance, path below the
    /// element), and the slices of definitions without instances (their
    /// required slices).
    pub(crate) fn slice_pass(
        &mut self,
        node: Element<'v>,
        plan: &Arc<Plan>,
        children: &[usize],
        sliced: &[(usize, Element<'v>, String)],
    ) {
        let mut done: Vec<usize> = Vec::new();
        for &(ci, _, _) in sliced {
            if done.contains(&ci) {
                continue;
            }
            done.push(ci);
            let items: Vec<(Element<'v>, &str)> = sliced
                .iter()
                .filter(|(c, _, _)| *c == ci)
                .map(|(_, e, p)| (*e, p.as_str()))
                .collect();
            self.slices(node, plan, ci, &items);
        }
        // Required slices of elements that are absent.
        for &ci in children {
            let def = &plan.elements[ci];
            if !def.slices.is_empty() && !done.contains(&ci) {
                self.slices(node, plan, ci, &[]);
            }
        }
    }

    /// The element of another profile a slice's type points at
    /// (`type.profile` with the profile-element extension).
    fn profile_element(&self, plan: &Plan, s: usize) -> Option<(Arc<Plan>, usize)> {
        let t = plan.elements[s].types.first()?;
        let id = t.profile_element.as_deref()?;
        let other = self.v.plan(t.profiles.first()?)?;
        let idx = other.element_by_id(id)?;
        Some((other, idx))
    }

    /// The resource type a Reference points at (contained, relative or
    /// RESTful absolute reference).
    fn referenced_type(&self, reference: Element<'v>) -> Option<String> {
        let r = reference.child_value("reference")?;
        if let Some(id) = r.strip_prefix('#') {
            return self.contained_type(id);
        }
        self.type_in_reference(r)
    }

    fn slice_type_index(plan: &Plan, s: usize, item: Element<'v>) -> Option<usize> {
        let def = &plan.elements[s];
        if !def.choice {
            return None;
        }
        let suffix = item.name().get(def.name.len()..)?;
        def.types.iter().position(|t| t.suffix == suffix)
    }

    /// The element at `path` in slice `s` has a required binding to a
    /// value set that is not held here.
    fn binding_not_held(&self, plan: &Plan, s: usize, path: &str) -> bool {
        let Some(b) = def_at(plan, s, path).and_then(|d| plan.elements[d].binding.as_ref()) else {
            return false;
        };
        b.strength == fhirreg_terminology::BindingStrength::Required
            && b.contained.is_none()
            && !b.value_set.is_empty()
            && self.v.registry.value_set(&b.value_set).is_none()
    }

    /// Does `item` belong to slice `s`?
    fn slice_matches(
        &mut self,
        item: Element<'v>,
        plan: &Arc<Plan>,
        s: usize,
        slicing: Option<&Slicing>,
    ) -> bool {
        let discriminators = slicing
            .map(|sl| sl.discriminators.clone())
            .unwrap_or_default();
        if discriminators.is_empty() {
            let ti = Self::slice_type_index(plan, s, item);
            return self.sandbox(|w| w.element(item, plan, s, ti));
        }
        for (kind, path) in &discriminators {
            let ok = match kind.as_str() {
                "value" | "pattern" => {
                    let d = def_at(plan, s, path);
                    let expected = d.and_then(|d| {
                        let e = &plan.elements[d];
                        e.fixed.clone().or_else(|| e.pattern.clone())
                    });
                    let expected = expected.or_else(|| {
                        // Inside a fixed value or pattern of the slice itself
                        // (a fixedContactPoint sliced by `use`).
                        let e = &plan.elements[s];
                        value_at(e.fixed.as_ref().or(e.pattern.as_ref())?, path)
                    });
                    let expected = expected.or_else(|| {
                        let (other, idx) = self.profile_element(plan, s)?;
                        let d = def_at(&other, idx, path)?;
                        let e = &other.elements[d];
                        e.fixed.clone().or_else(|| e.pattern.clone())
                    });
                    let expected = expected.or_else(|| {
                        // Extension slices: the url is the extension's profile.
                        let sd = &plan.elements[s];
                        (path == "url")
                            .then(|| sd.types.first().and_then(|t| t.profiles.first()))
                            .flatten()
                            .map(|p| Value::String(p.clone()))
                    });
                    match expected {
                        Some(v) => navigate(item, path).iter().any(|e| matches_value(*e, &v)),
                        None if self.binding_not_held(plan, s, path) => {
                            // A required binding to a value set that is
                            // not held cannot show membership: the item is
                            // not the slice's (as memberOf() is false for an
                            // unknown value set in the HL7 validator).
                            false
                        }
                        None => {
                            // No fixed value or pattern: the slice's own
                            // constraints decide (e.g. a required binding).
                            let ti = Self::slice_type_index(plan, s, item);
                            self.sandbox(|w| w.element(item, plan, s, ti))
                        }
                    }
                }
                "type" => {
                    let d = def_at(plan, s, path);
                    let resolve = path.ends_with("resolve()");
                    let want: Vec<String> = d
                        .map(|d| {
                            let types = &plan.elements[d].types;
                            if resolve {
                                types.iter().flat_map(|t| t.targets.clone()).collect()
                            } else {
                                types.iter().map(|t| t.code.clone()).collect()
                            }
                        })
                        .unwrap_or_default();
                    let prefix = d.map(|d| plan.elements[d].name.clone()).unwrap_or_default();
                    let found = navigate(item, path);
                    want.is_empty()
                        || found.iter().any(|e| {
                            let ty = if resolve {
                                self.referenced_type(*e)
                            } else {
                                e.resource_type().map(str::to_string).or_else(|| {
                                    e.name()
                                        .strip_prefix(prefix.as_str())
                                        .filter(|x| !x.is_empty())
                                        .map(crate::lower_first_if_primitive)
                                })
                            };
                            // `is`: a resource is a Resource (and, but for
                            // the three that are not, a DomainResource).
                            let resource = e.resource_type().is_some() && !resolve;
                            ty.is_some_and(|t| {
                                want.contains(&t)
                                    || (resource
                                        && want.iter().any(|w| {
                                            w == "Resource"
                                                || (w == "DomainResource"
                                                    && !matches!(
                                                        t.as_str(),
                                                        "Bundle" | "Binary" | "Parameters"
                                                    ))
                                        }))
                            })
                        })
                }
                "profile" => {
                    let profiles: Vec<String> = def_at(plan, s, path)
                        .and_then(|d| plan.elements[d].types.first())
                        .map(|t| t.profiles.clone())
                        .unwrap_or_default();
                    let found = navigate(item, path);
                    profiles.is_empty()
                        || found.iter().any(|e| {
                            profiles.iter().any(|p| match self.v.plan(p) {
                                Some(pp) => {
                                    let rt = e.resource_type().unwrap_or("");
                                    (rt.is_empty() || pp.type_name == rt)
                                        && self.sandbox(|w| w.children(*e, &pp, 0))
                                }
                                None => false,
                            })
                        })
                }
                "exists" => {
                    let present = !navigate(item, path).is_empty();
                    match def_at(plan, s, path).map(|d| &plan.elements[d]) {
                        Some(d) if d.max == Some(0) => !present,
                        Some(d) if d.min > 0 => present,
                        _ => true,
                    }
                }
                _ => true,
            };
            if !ok {
                return false;
            }
        }
        true
    }

    /// Assign the instances of sliced element `base` to its slices and
    /// check them. `items` are the instances with their path suffixes.
    pub(crate) fn slices(
        &mut self,
        node: Element<'v>,
        plan: &Arc<Plan>,
        base: usize,
        items: &[(Element<'v>, &str)],
    ) {
        let def = &plan.elements[base];
        let slicing = def.slicing.clone();
        let slices = def.slices.clone();
        let mut counts = vec![0u32; slices.len()];
        let mut matches: Vec<Option<usize>> = Vec::with_capacity(items.len());
        for (item, suffix) in items {
            let mut matched = None;
            for (k, &s) in slices.iter().enumerate() {
                if self.slice_matches(*item, plan, s, slicing.as_ref()) {
                    matched = Some(k);
                    break;
                }
            }
            matches.push(matched);
            let len = self.path.len();
            self.path.push_str(suffix);
            match matched {
                Some(k) => {
                    counts[k] += 1;
                    let ti = Self::slice_type_index(plan, slices[k], *item);
                    self.element(*item, plan, slices[k], ti);
                    if let Some((other, idx)) = self.profile_element(plan, slices[k]) {
                        self.element(*item, &other, idx, ti);
                    }
                }
                None => {
                    if slicing.as_ref().is_some_and(|s| s.closed) {
                        let args = args![plan.versioned_url()];
                        self.report(Msg::SliceNoMatchClosed, args, *item);
                    }
                }
            }
            self.path.truncate(len);
        }
        self.slice_order(plan, base, items, &matches);
        for (k, &s) in slices.iter().enumerate() {
            let sd = &plan.elements[s];
            let n = counts[k];
            if n < sd.min {
                let open = !slicing.as_ref().is_some_and(|s| s.closed);
                let profile = plan.versioned_url();
                let (msg, args) = if let Some(code) = magic_code(plan, s).filter(|_| n == 0) {
                    // The core vital-signs profiles: their required LOINC code.
                    let slice = sd.slice_name.as_deref().unwrap_or_default();
                    (Msg::SliceMagicCodeMissing, args![slice, code, profile])
                } else if n == 0 && open {
                    (Msg::SliceMissingOpen, args![&sd.id, profile])
                } else if n == 0 {
                    (Msg::SliceMissing, args![&sd.id, profile])
                } else {
                    (Msg::TooFewOccurrences, args![&sd.id, sd.min, n, profile])
                };
                self.report(msg, args, node);
            }
            if let Some(max) = sd.max {
                if n > max {
                    let args = args![&sd.id, max, n, plan.versioned_url()];
                    self.report(Msg::TooManyOccurrences, args, node);
                }
            }
        }
    }
}
