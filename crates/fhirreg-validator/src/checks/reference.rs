//! References: the format of a reference, its target type (named by the
//! URL or resolved), `Reference.type`, canonical references, and the
//! targets that resolve inside the resource (contained), its Bundle or its
//! Parameters: their types, target profiles and aggregation modes.

use crate::checks::bundle::{element_path, entry_of, entry_path, At};
use crate::plan::{Mode, TypeRef};
use crate::walk::Walk;
use crate::{has_scheme, CORE};
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element, Severity};

/// How a reference resolved (`ReferenceDestinationType`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Destination {
    Contained,
    Bundled,
}

impl<'v> Walk<'v> {
    /// Reference format and target type.
    pub(crate) fn reference(&mut self, node: Element<'v>, t: &TypeRef) {
        let Some(r) = node.child("reference").and_then(|c| c.value()) else {
            self.reference_without_target(node);
            return;
        };
        if r.is_empty() {
            return;
        }
        self.collect_bundle_ref(node, r);
        let resolved = self.reference_target(node, t, Mode::Base);
        let ft = resolved.clone().or_else(|| self.type_in_reference(r));
        self.reference_declared_type(node, t, ft.as_deref());
        if resolved.is_some() || r.starts_with('#') {
            // (a resolved target's own type was checked)
            return;
        }
        let target_type: Option<&str> = if has_scheme(r) {
            // Absolute: [base]/Type/id(/_history/v) (not resolved, so `ft`
            // is the type the URL names)
            ft.as_deref().filter(|_| r.starts_with("http"))
        } else {
            let path = r.split('?').next().unwrap_or(r);
            let parts: Vec<&str> = path.split('/').collect();
            // Like the Java validator: a relative reference needs at least
            // `Type/id` (a search `Type?params` is allowed too).
            if parts.len() < 2 && !r.contains('?') {
                self.report(Msg::ReferenceFormat, args![r], node);
                return;
            }
            parts
                .first()
                .copied()
                .filter(|t| parts.len() >= 2 && self.v.is_resource_type(t))
        };
        let Some(ty) = target_type else { return };
        if t.targets.is_empty() || t.targets.iter().any(|x| x == "Resource" || x == ty) {
            return;
        }
        let args = args![ty, r, t.targets.join(", ")];
        self.report(Msg::ReferenceTypeNotAllowed, args, node);
    }

    /// A Reference without a reference or an identifier can only say
    /// what it refers to by its display (R4 Reference: at least one of
    /// the three). A pattern is a partial value and is exempt.
    fn reference_without_target(&mut self, node: Element<'v>) {
        let identified = node
            .child("identifier")
            .is_some_and(|i| i.child_value("system").is_some() || i.child_value("value").is_some());
        if !identified && node.child("display").is_none() && !self.path.contains(".pattern") {
            self.report(Msg::ReferenceNoDisplay, args![], node);
        }
    }

    /// Canonical references: absolute unless a fragment, and of the
    /// target type when the registry has the target.
    pub(crate) fn canonical(&mut self, node: Element<'v>, t: &TypeRef, v: &str) {
        if !v.starts_with('#') && !has_scheme(v) {
            // An error, as the HL7 Java validator reports it.
            self.report(Msg::CanonicalNotAbsolute, args![v], node);
            return;
        }
        if t.targets.is_empty() || t.targets.iter().any(|x| x == "Resource") {
            return;
        }
        if let Some(r) = self.v.summary(v) {
            if !t.targets.iter().any(|x| x == r.resource_type()) {
                let args = args![v, r.resource_type(), t.targets.join(", ")];
                self.report(Msg::CanonicalWrongType, args, node);
            }
        }
    }
}

impl<'v> Walk<'v> {
    /// The target of `reference` (on Reference element `node`) when it is
    /// contained, in the enclosing Bundle or among the Parameters
    /// resources; issues the Bundle resolution rules raise on the way.
    pub(crate) fn resolve_local(
        &mut self,
        node: Element<'v>,
        reference: &str,
    ) -> Option<(Element<'v>, Destination)> {
        if let Some(id) = reference.strip_prefix('#') {
            return self
                .resolve_contained(node, id)
                .map(|t| (t, Destination::Contained));
        }
        if self.containers == 0 && !self.in_container(node) {
            return None;
        }
        let mut cur = Some(node);
        // The fullUrl of the nearest entry (outer None: no entry passed).
        let mut full_url: Option<Option<&'v str>> = None;
        let mut steps = 0;
        while let Some(f) = cur {
            steps += 1;
            if steps > 100_000 {
                return None;
            }
            if full_url.is_none() {
                if let Some((entry, bundle)) = entry_of(f) {
                    let fu = entry.child_value("fullUrl");
                    full_url = Some(fu);
                    let btype = bundle.child_value("type").unwrap_or("");
                    if fu.is_none() && !matches!(btype, "batch-response" | "transaction-response") {
                        let ep = element_path(&self.path);
                        let p = entry_path(&ep);
                        self.issue_at(
                            Severity::Error,
                            Msg::EntryNoFullUrl,
                            args![],
                            &At {
                                path: &p,
                                node: entry,
                            },
                        );
                    }
                }
            }
            if f.resource_type() == Some("Bundle") {
                return self
                    .get_from_bundle(f, reference, full_url.flatten(), node)
                    .map(|t| (t, Destination::Bundled));
            }
            if f.resource_type().is_some()
                && f.parent()
                    .is_some_and(|p| p.name() == "parameter" || p.name() == "part")
            {
                let mut params = f.parent();
                while let Some(p) = params {
                    if p.resource_type() == Some("Parameters") {
                        break;
                    }
                    params = p.parent();
                }
                if let Some(t) = params.and_then(|p| find_in_params(p, reference)) {
                    return Some((t, Destination::Bundled));
                }
            }
            cur = f.parent();
        }
        None
    }

    /// Is `node` inside a Bundle or Parameters resource (profile walks run
    /// after the base walk left them)?
    pub(crate) fn in_container(&mut self, node: Element<'v>) -> bool {
        if !matches!(self.root.resource_type(), Some("Bundle" | "Parameters")) {
            return false;
        }
        let mut cur = node.parent();
        let mut steps = 0;
        while let Some(f) = cur {
            steps += 1;
            if steps > 100_000 {
                return false;
            }
            if matches!(f.resource_type(), Some("Bundle" | "Parameters")) {
                return true;
            }
            cur = f.parent();
        }
        false
    }

    /// `#id`: a contained resource of the enclosing resource (from a
    /// contained resource: of its container); `#` alone is the container.
    pub(crate) fn resolve_contained(&mut self, node: Element<'v>, id: &str) -> Option<Element<'v>> {
        let mut cur = Some(node);
        let mut was_contained = false;
        let mut steps = 0;
        while let Some(f) = cur {
            steps += 1;
            if steps > 100_000 {
                return None;
            }
            if f.resource_type().is_some() {
                let contained = f.name() == "contained";
                if id.is_empty() && !contained && was_contained {
                    return Some(f);
                }
                was_contained |= contained;
                if !id.is_empty() {
                    if let Some(c) = f
                        .children_named("contained")
                        .find(|c| c.child_value("id") == Some(id))
                    {
                        return Some(c);
                    }
                }
                // (no resolution across an entry or parameter boundary)
                let boundary = f
                    .parent()
                    .is_some_and(|p| matches!(p.name(), "entry" | "parameter" | "part"));
                if boundary {
                    return None;
                }
            }
            cur = f.parent();
        }
        None
    }

    /// Checks of a Reference against its type that need the target: the
    /// target's type and target profiles, and the aggregation modes.
    /// Returns the target's type when the reference resolved locally.
    pub(crate) fn reference_target(
        &mut self,
        node: Element<'v>,
        t: &crate::plan::TypeRef,
        mode: crate::plan::Mode,
    ) -> Option<String> {
        let r = node.child_value("reference").filter(|r| !r.is_empty())?;
        let profiles_needed = t.target_profiles.iter().any(|p| !p.starts_with(CORE));
        // A contained target is always at hand: its type is checked
        // against the target types wherever the resource is.
        if !profiles_needed
            && t.aggregation.is_empty()
            && self.containers == 0
            && !mode.is_profile()
            && !r.starts_with('#')
        {
            return None;
        }
        let resolved = if mode.is_profile() {
            // (the base walk reported the resolution problems)
            let mark = self.issues.len();
            let x = self.resolve_local(node, r);
            self.issues.truncate(mark);
            x
        } else {
            self.resolve_local(node, r)
        };
        let Some((target, dest)) = resolved else {
            // (outside a Bundle the Java validator does not enforce the
            // aggregation modes by default)
            let in_container = self.containers > 0 || self.in_container(node);
            if in_container
                && !t.aggregation.is_empty()
                && !t.aggregation.iter().any(|a| a == "referenced")
            {
                self.report(Msg::ReferenceNotLocal, args![r], node);
            }
            return None;
        };
        let ft = target
            .resource_type()
            .map(str::to_string)
            .unwrap_or_default();
        let any =
            t.target_profiles.is_empty() || t.target_profiles.iter().any(|p| is_any_resource(p));
        if !any {
            let mut types: Vec<String> = Vec::new();
            let mut matching: Vec<String> = Vec::new();
            for p in &t.target_profiles {
                let ty = match p.strip_prefix(CORE) {
                    Some(core) => Some(core.split('|').next().unwrap_or(core).to_string()),
                    None => self.v.plan(p).map(|pl| pl.type_name.clone()),
                };
                let Some(ty) = ty else {
                    self.report(Msg::ReferenceProfileUnknown, args![p], node);
                    continue;
                };
                if ty == ft {
                    matching.push(p.clone());
                }
                if !types.contains(&ty) {
                    types.push(ty);
                }
            }
            let own: Vec<&String> = matching.iter().filter(|p| !p.starts_with(CORE)).collect();
            if !own.is_empty() && !matching.iter().any(|p| p.starts_with(CORE)) {
                let good = own.iter().any(|p| self.conforms(target, p));
                if !good {
                    let mut all = t.target_profiles.clone();
                    all.sort();
                    self.report(Msg::ReferenceNoProfileMatch, args![r, all.join(", ")], node);
                }
            }
            // (a target of no known resource type is reported where it is)
            if !types.is_empty() && !types.contains(&ft) && self.v.is_resource_type(&ft) {
                types.sort();
                self.report(Msg::ReferenceTargetType, args![&ft, types.join(", ")], node);
            }
        }
        if !t.aggregation.is_empty() {
            let ok = t.aggregation.iter().any(|a| match a.as_str() {
                "contained" => dest == Destination::Contained,
                "bundled" => dest == Destination::Bundled,
                "referenced" => dest != Destination::Contained,
                _ => false,
            });
            if !ok {
                let what = match dest {
                    Destination::Contained => "contained",
                    Destination::Bundled => "bundled",
                };
                let args = args![what, t.aggregation.join(", ")];
                self.report(Msg::ReferenceAggregation, args, node);
            }
        }
        Some(ft)
    }

    /// Does the resource `target` conform to `profile` (its constraints,
    /// fixed values, slices and invariants)? A (target, profile) pair met
    /// again while being checked counts as conforming (reference cycles).
    pub(crate) fn conforms(&mut self, target: Element<'v>, profile: &str) -> bool {
        let key = (target.id(), profile.to_string());
        if let Some(&known) = self.target_results.get(&key) {
            return known;
        }
        if self.target_checks.contains(&key) || self.target_checks.len() > 16 {
            return true;
        }
        let Some(plan) = self.v.plan(profile) else {
            return false;
        };
        if target.resource_type() != Some(plan.type_name.as_str()) {
            return false;
        }
        self.target_checks.push(key);
        let saved_path = std::mem::replace(
            &mut self.path,
            target
                .resource_type()
                .map(str::to_string)
                .unwrap_or_default(),
        );
        self.enter_resource_scope(target);
        let ok = self.sandbox(|w| {
            w.children(target, &plan, 0);
            w.invariants(target, &plan);
        });
        self.leave_resource_scope();
        self.path = saved_path;
        if let Some(key) = self.target_checks.pop() {
            // (a target is checked against a profile once per validation)
            self.target_results.insert(key, ok);
        }
        ok
    }

    /// The resource type a reference URL names (`Type/id`,
    /// `[base]/Type/id[/_history/v]`), if it is a known type.
    pub(crate) fn type_in_reference(&self, r: &str) -> Option<String> {
        let parts: Vec<&str> = r.split('/').collect();
        let n = parts.len();
        let ty = match n {
            0 | 1 => return None,
            2 => parts[0],
            _ if n >= 4 && parts[n - 2] == "_history" => parts[n - 4],
            _ => parts[n - 2],
        };
        self.v.is_resource_type(ty).then(|| ty.to_string())
    }

    /// `Reference.type`: one of the element's target types, and the type of
    /// the target (`ft`: resolved, else named by the URL).
    pub(crate) fn reference_declared_type(
        &mut self,
        node: Element<'v>,
        t: &crate::plan::TypeRef,
        ft: Option<&str>,
    ) {
        let Some(declared) = node.child_value("type") else {
            return;
        };
        let tu = if has_scheme(declared) {
            declared.to_string()
        } else {
            format!("{CORE}{declared}")
        };
        let any = t
            .target_profiles
            .iter()
            .any(|p| is_any_resource(p) || *p == tu);
        if !any && !t.target_profiles.is_empty() {
            let mut listed = Vec::new();
            let mut matching = false;
            for p in &t.target_profiles {
                let plan = self.v.plan(p);
                if let Some(pl) = &plan {
                    matching |= tu.strip_prefix(CORE) == Some(pl.type_name.as_str());
                }
                let pinned = match &plan {
                    Some(pl) if !p.contains('|') && !pl.version.is_empty() => {
                        format!("{p}|{}", pl.version)
                    }
                    _ => p.clone(),
                };
                listed.push(pinned);
            }
            if !matching {
                let args = args![declared, listed.join(", ")];
                self.report(Msg::ReferenceTypeNotTarget, args, node);
            }
        }
        if let Some(ft) = ft {
            if ft != declared {
                self.report(
                    Msg::ReferenceDeclaredTypeMismatch,
                    args![declared, ft],
                    node,
                );
            }
        }
    }
}

/// A target profile that allows any resource: the core `Resource`
/// definition, of any version.
fn is_any_resource(profile: &str) -> bool {
    let url = profile.split('|').next().unwrap_or(profile);
    url.strip_prefix(CORE) == Some("Resource")
}

/// A resource among the parameters (and their parts) with `Type/id` equal
/// to `reference`.
fn find_in_params<'t>(params: Element<'t>, reference: &str) -> Option<Element<'t>> {
    let mut stack: Vec<Element<'_>> = params.children_named("parameter").collect();
    stack.reverse();
    while let Some(p) = stack.pop() {
        if let Some(res) = p.child("resource") {
            if entry_rel_of(res).as_deref() == Some(reference) {
                return Some(res);
            }
        }
        let mut parts: Vec<Element<'_>> = p.children_named("part").collect();
        parts.reverse();
        stack.extend(parts);
    }
    None
}

fn entry_rel_of(res: Element<'_>) -> Option<String> {
    Some(format!(
        "{}/{}",
        res.resource_type()?,
        res.child_value("id").unwrap_or("null")
    ))
}
