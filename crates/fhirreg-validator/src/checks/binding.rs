//! Bindings: the membership of a coded value (code, Coding, Quantity,
//! CodeableConcept) in the value set of its binding, additional bindings,
//! and a Coding's code and display in its code system, through
//! `fhirreg-terminology`. The base bindings of a type wait until the
//! profiles have run (see [`Deferred`]).

pub(crate) mod beyond_membership;

use crate::has_scheme;
use crate::plan::{Binding, ElemDef, Mode, Plan};
use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element, NodeId, Severity};
use fhirreg_terminology::{BindingStrength, BoundValue, CodingRef, IssueKind};

/// A check of a type's own plan that waits until every plan applying to
/// the resource has run: a profile that binds the element to another
/// value set replaces the base binding (the HL7 validator validates
/// against the profile's snapshot), and a display the profile's value set
/// accepts is not wrong.
pub(crate) enum Deferred {
    /// The membership of a coded value in its base binding.
    Binding {
        node: NodeId,
        path: String,
        code: String,
        binding: Binding,
        strength: BindingStrength,
    },
    /// A display that is not the code system's, at `path` (of the
    /// `display`).
    Display {
        node: NodeId,
        path: String,
        issue: fhirreg_terminology::TxIssue,
    },
}

impl<'v> Walk<'v> {
    /// The binding of element `def` (of `plan`) on an instance of its
    /// chosen type `ti` (else its first type).
    pub(crate) fn element_binding(
        &mut self,
        node: Element<'v>,
        plan: &Plan,
        def: &ElemDef,
        ti: Option<usize>,
    ) {
        let t = ti.and_then(|i| def.types.get(i)).or(def.types.first());
        if let (Some(b), Some(t)) = (&def.binding, t) {
            self.binding(node, &t.code, b, plan.mode);
        }
    }

    /// Membership of a coded value in the value set of its binding.
    pub(crate) fn binding(&mut self, node: Element<'v>, code: &str, b: &Binding, mode: Mode) {
        if !b.additional.is_empty() {
            self.additional_bindings(node, code, b);
        }
        let strength = b.strength;
        if strength == BindingStrength::Example || b.value_set.is_empty() {
            return;
        }
        let vs = b.value_set.as_str();
        if !mode.is_profile() {
            // Checked once the profiles have run (see `Deferred`).
            self.base_bindings.insert(self.path.clone(), vs.to_string());
            self.deferred.push(Deferred::Binding {
                node: node.id(),
                path: self.path.clone(),
                code: code.to_string(),
                binding: b.clone(),
                strength,
            });
            return;
        }
        // A profile that binds the element to another value set replaces
        // the base binding there, and the displays its value set accepts
        // are not wrong.
        let superseded = self
            .base_bindings
            .get(&self.path)
            .filter(|base| base.as_str() != vs)
            .cloned();
        let supersedes = superseded.is_some();
        self.membership(node, code, b, strength, supersedes);
        if let Some(base) = superseded {
            self.superseded_bindings.insert(self.path.clone(), base);
        }
    }

    /// The membership of a coded value (code, Coding, Quantity,
    /// CodeableConcept) in the value set of a binding; `supersedes`: the
    /// binding replaces the base binding here, so the displays it accepts
    /// are recorded.
    pub(crate) fn membership(
        &mut self,
        node: Element<'v>,
        code: &str,
        b: &Binding,
        strength: BindingStrength,
        supersedes: bool,
    ) {
        let tx = &self.v.tx;
        let vs = b.value_set.as_str();
        let one = |cr: &CodingRef<'_>| match &b.contained {
            Some(json) => tx.validate_code_with(vs, json, cr),
            None => tx.validate_code(vs, cr),
        };
        let issues = match code {
            "code" => {
                let Some(v) = node.value() else {
                    return;
                };
                let Ok(r) = one(&CodingRef::code(v)) else {
                    return;
                };
                if strength == BindingStrength::Required && r.valid {
                    if let Some(system) = r.system.as_deref() {
                        self.abstract_code(node, system, r.version.as_deref(), v);
                    }
                }
                r.binding_issues(strength, BoundValue::Code(v))
            }
            "Coding" | "Quantity" => {
                let Some(mut cr) = coding_of(node) else {
                    return;
                };
                if code == "Quantity" {
                    cr.display = None;
                }
                let Ok(r) = one(&cr) else {
                    return;
                };
                if strength == BindingStrength::Required && r.valid {
                    if let (Some(system), Some(c)) = (cr.system, cr.code) {
                        self.abstract_code(node, system, cr.version, c);
                    }
                }
                if supersedes
                    && !r.has(IssueKind::InvalidDisplay)
                    && !r.has(IssueKind::NotInValueSet)
                {
                    self.accepted_displays
                        .insert(format!("{}.display", self.path));
                }
                r.binding_issues(strength, BoundValue::Coding(cr))
                    .into_iter()
                    .filter(|i| i.kind == IssueKind::NotInValueSet)
                    .collect()
            }
            "CodeableConcept" => {
                let refs: Vec<CodingRef<'_>> = node
                    .children_named("coding")
                    .filter_map(coding_of)
                    .collect();
                if refs.is_empty() {
                    self.binding_without_code(node, b, strength);
                    return;
                }
                let r = match &b.contained {
                    Some(json) => tx.validate_codeable_concept_with(vs, json, &refs),
                    None => tx.validate_codeable_concept(vs, &refs),
                };
                let Ok(r) = r else {
                    return;
                };
                if strength == BindingStrength::Required && r.valid {
                    // (only the codings the value set has: others may be
                    // translations)
                    for (n, c) in node.children_named("coding").enumerate() {
                        let Some(cr) = coding_of(c) else { continue };
                        let (Some(system), Some(code)) = (cr.system, cr.code) else {
                            continue;
                        };
                        if one(&cr).is_ok_and(|x| x.valid) {
                            let len = self.path.len();
                            self.path.push_str(&format!(".coding[{n}]"));
                            self.abstract_code(c, system, cr.version, code);
                            self.path.truncate(len);
                        }
                    }
                }
                if supersedes {
                    for (n, c) in node.children_named("coding").enumerate() {
                        let Some(cr) = coding_of(c) else { continue };
                        if let Ok(one) = one(&cr) {
                            if !one.has(IssueKind::InvalidDisplay)
                                && !one.has(IssueKind::NotInValueSet)
                            {
                                self.accepted_displays
                                    .insert(format!("{}.coding[{n}].display", self.path));
                            }
                        }
                    }
                }
                r.binding_issues(strength, BoundValue::CodeableConcept(&refs))
                    .into_iter()
                    .filter(|i| i.kind == IssueKind::NotInValueSet)
                    .collect()
            }
            _ => return,
        };
        for i in &issues {
            self.push_tx(i, "", node);
        }
        // (the maxValueSet extension is "for use when the binding strength
        // is 'extensible' or 'preferred'": a required binding over it)
        if matches!(
            strength,
            BindingStrength::Extensible | BindingStrength::Preferred
        ) && issues.iter().any(|i| i.kind == IssueKind::NotInValueSet)
        {
            self.max_value_set(node, code, b);
        }
    }

    /// Run the deferred checks (see [`Deferred`]) in the order they were
    /// met, except those a profile made moot.
    pub(crate) fn run_deferred(&mut self) {
        let jobs = std::mem::take(&mut self.deferred);
        let doc = self.root.document();
        for job in jobs {
            if self.issues.stopped() {
                return;
            }
            match job {
                Deferred::Binding {
                    node,
                    path,
                    code,
                    binding,
                    strength,
                } => {
                    let replaced = self.superseded_bindings.get(&path).is_some_and(|base| {
                        let url = |v: &str| v.split('|').next().unwrap_or(v).to_string();
                        url(base) == url(&binding.value_set)
                    });
                    let Some(node) = doc.get(node) else { continue };
                    if replaced {
                        continue;
                    }
                    let saved = std::mem::replace(&mut self.path, path);
                    self.membership(node, &code, &binding, strength, false);
                    self.path = saved;
                }
                Deferred::Display { node, path, issue } => {
                    if self.accepted_displays.contains(&path) {
                        continue;
                    }
                    let Some(node) = doc.get(node) else { continue };
                    let saved = std::mem::replace(&mut self.path, path);
                    self.push_tx(&issue, "", node);
                    self.path = saved;
                }
            }
        }
    }

    pub(crate) fn push_tx(
        &mut self,
        i: &fhirreg_terminology::TxIssue,
        sub: &str,
        node: Element<'v>,
    ) {
        let m = &i.message;
        let path = format!("{}{sub}", self.path);
        self.report_at(i.severity, m.msg, m.args.clone(), &path, node);
    }

    /// A Coding's code (and display) in its code system, when the code
    /// system is available.
    pub(crate) fn coding(&mut self, node: Element<'v>) {
        if let Some(system) = node.child_value("system") {
            if !has_scheme(system) {
                self.at_child(node, "system", Msg::CodingSystemRelative, args![]);
                return;
            }
            if self.https_coding_system(node, system) || self.page_coding_system(node, system) {
                return;
            }
            let summary = self.v.registry.resolve_summary(system);
            if summary.is_some_and(|s| s.resource_type() == "ValueSet") {
                self.at_child(node, "system", Msg::CodingSystemIsValueSet, args![system]);
                return;
            }
            let supplement = summary.is_some_and(|s| s.resource_type() == "CodeSystem")
                && self.v.registry.code_system(system).is_some_and(|cs| {
                    cs.content == fhirreg_terminology::Content::Supplement
                        || cs.supplements.is_some()
                });
            if supplement {
                self.at_child(node, "system", Msg::CodingSystemIsSupplement, args![system]);
                return;
            }
        }
        let (Some(system), Some(code)) = (node.child_value("system"), node.child_value("code"))
        else {
            return;
        };
        if self.norwegian_code_system(node, system, code) {
            return;
        }
        let Ok(r) = self
            .v
            .tx
            .validate_code_in_system(system, code, node.child_value("display"))
        else {
            return;
        };
        for i in &r.issues {
            let sub = match i.kind {
                IssueKind::UnknownCode | IssueKind::CaseDifference => ".code",
                IssueKind::InvalidDisplay => {
                    // (a profile's value set may accept it: decided later)
                    let at = node.child("display").unwrap_or(node);
                    self.deferred.push(Deferred::Display {
                        node: at.id(),
                        path: format!("{}.display", self.path),
                        issue: i.clone(),
                    });
                    continue;
                }
                _ => continue, // system not available, not checked: quiet
            };
            let at = node.child(sub.trim_start_matches('.')).unwrap_or(node);
            self.push_tx(i, sub, at);
        }
    }
}

impl<'v> Walk<'v> {
    /// A code its code system marks abstract (`notSelectable`) under a
    /// required binding: a value set may include such a code to group
    /// others, but it is not a value (valueset.html, `contains.abstract`:
    /// not selectable as a proper value).
    fn abstract_code(
        &mut self,
        node: Element<'v>,
        system: &str,
        version: Option<&str>,
        code: &str,
    ) {
        let abstract_ = self.v.tx.is_abstract(system, version, code) == Some(true);
        if abstract_ {
            self.report(Msg::BindingCodeAbstract, args![system, code], node);
        }
    }

    /// A Quantity's unit code in UCUM is valid UCUM (datatypes.html#Quantity:
    /// `code` is the unit in the `system`'s representation, and UCUM is a
    /// grammar every code of which can be checked offline). Other unit
    /// systems are not checked here: their codes need their terminology.
    pub(crate) fn quantity_unit_code(&mut self, node: Element<'v>) {
        const UCUM: &str = "http://unitsofmeasure.org";
        let (Some(UCUM), Some(code)) = (node.child_value("system"), node.child_value("code"))
        else {
            return;
        };
        let Ok(r) = self.v.tx.validate_code_in_system(UCUM, code, None) else {
            return;
        };
        for i in r.issues.iter().filter(|i| i.kind == IssueKind::UnknownCode) {
            let at = node.child("code").unwrap_or(node);
            self.push_tx(i, ".code", at);
        }
    }
}

impl<'v> Walk<'v> {
    /// Additional bindings of an element (R5 `binding.additional`): a
    /// `required`/`maximum` one must be met (error), an `extensible` one
    /// should be (warning), a `current`/`preferred` one is recommended.
    pub(crate) fn additional_bindings(
        &mut self,
        node: Element<'v>,
        code: &str,
        b: &crate::plan::Binding,
    ) {
        // (additional bindings check codes, not displays)
        let code_only = |c: Element<'v>| {
            coding_of(c).map(|cr| CodingRef {
                display: None,
                ..cr
            })
        };
        let codings: Vec<CodingRef<'_>> = match code {
            "code" => node.value().map(CodingRef::code).into_iter().collect(),
            "Coding" => code_only(node).into_iter().collect(),
            "CodeableConcept" => node
                .children_named("coding")
                .filter_map(code_only)
                .collect(),
            _ => return,
        };
        if codings.is_empty() {
            return;
        }
        for (purpose, vs) in &b.additional {
            let msg = match purpose.as_str() {
                "required" | "maximum" => Msg::AdditionalBindingRequired,
                "extensible" => Msg::AdditionalBindingExtensible,
                "current" | "preferred" => Msg::AdditionalBindingPreferred,
                _ => continue,
            };
            let Ok(r) = self.v.tx.validate_codeable_concept(vs, &codings) else {
                continue;
            };
            // Only a definite "not in the value set" counts (codes that
            // could not be checked are not reported here).
            let missing = r
                .issues
                .iter()
                .any(|i| i.kind == IssueKind::NotInValueSet && i.severity == Severity::Error);
            if !missing || r.unknown {
                continue;
            }
            let name = r.valueset_name.clone().unwrap_or_else(|| vs.clone());
            let versioned = r.valueset.clone().unwrap_or_else(|| vs.clone());
            let codes: Vec<String> = codings.iter().map(CodingRef::to_token).collect();
            self.report(msg, args![name, versioned, codes.join(", ")], node);
        }
    }
}

/// A Coding-like element (Coding, Quantity) as a coded value, when it has
/// a code.
fn coding_of(c: Element<'_>) -> Option<CodingRef<'_>> {
    Some(CodingRef {
        system: c.child_value("system"),
        version: c.child_value("version"),
        code: Some(c.child_value("code")?),
        display: c.child_value("display"),
    })
}
