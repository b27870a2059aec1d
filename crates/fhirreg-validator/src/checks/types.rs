//! Types: known properties, choice types, the complex datatype's own plan
//! and its type-specific rules, datatype profiles, and resources of the
//! type (and profiles) an element allows.

use crate::plan::{Dispatch, ElemDef, Plan, TypeRef};
use crate::walk::Walk;
use crate::CORE;
use fhirreg_element::message::{Arg, Msg};
use fhirreg_element::{args, Element, Issue, IssueType};
use std::sync::Arc;

impl<'v> Walk<'v> {
    /// A Reference (or resource) whose parts a profile constrains (expanded
    /// inline): its targets (type) still apply.
    pub(crate) fn inline_target(&mut self, node: Element<'v>, plan: &Plan, def: &ElemDef) {
        if let Some(t) = def.types.first() {
            if t.code == "Reference" {
                self.reference_target(node, t, plan.mode);
            } else if node.is_resource() {
                self.resource_of_type(node, t);
            }
        }
    }

    /// A property the element's definition does not have.
    pub(crate) fn unknown_property(&mut self, child: Element<'v>) {
        self.report(Msg::UnknownProperty, args![&child.name()], child);
    }

    /// A complex datatype's own plan (its children and invariants), then
    /// the type-specific rules.
    pub(crate) fn complex(&mut self, node: Element<'v>, t: &TypeRef, dispatch: &Dispatch) {
        let code = t.code.as_str();
        let Some(tp) = self.v.dispatch_plan(dispatch, code) else {
            return;
        };
        self.anchors.push((self.path.len(), Some(tp.clone()), None));
        self.children(node, &tp, 0);
        self.anchors.pop();
        self.element_invariants(node, &tp, 0, None);
        match code {
            "Extension" => self.extension(node),
            "Reference" => self.reference(node, t),
            "Coding" => self.coding(node),
            "Quantity" | "Age" | "Count" | "Distance" | "Duration" | "MoneyQuantity"
            | "SimpleQuantity" => self.quantity_unit_code(node),
            "Identifier" => self.identifier(node),
            "Attachment" => self.attachment(node),
            "SampledData" => self.sampled_data(node),
            "Range" => self.range(node),
            "Meta" => self.meta(node),
            _ => {}
        }
    }

    /// The datatype profiles a profile gives an element: the element must
    /// conform to its one profile, or to one of several.
    pub(crate) fn type_profiles(&mut self, node: Element<'v>, t: &TypeRef) {
        // Datatype profiles on the element are validated; the core
        // datatypes were checked by the base walk.
        let mut plans: Vec<Arc<Plan>> = Vec::new();
        for p in t.profiles.iter().filter(|p| !p.starts_with(CORE)) {
            match self.v.plan(p) {
                Some(plan) => plans.push(plan),
                // A datatype profile that cannot be found cannot be
                // checked: the element is not known to conform.
                None => self.report(Msg::UnknownProfile, args![p.as_str()], node),
            }
        }
        if plans.len() == 1 {
            self.children(node, &plans[0], 0);
            self.element_invariants(node, &plans[0], 0, None);
        } else if plans.len() > 1 {
            // The element must conform to one of the profiles.
            let mut ok = false;
            // Without a match, the HL7 Java validator also reports each
            // profile's errors, naming the profile (the same error from
            // several profiles once, naming them all).
            let mut found: Vec<(Issue, Vec<String>)> = Vec::new();
            for p in &plans {
                let errs: Vec<Issue> = self
                    .trial(|w| {
                        w.children(node, p, 0);
                        w.element_invariants(node, p, 0, None);
                    })
                    .into_iter()
                    .filter(|i| i.severity.is_error())
                    .collect();
                ok |= errs.is_empty();
                for i in errs {
                    let same = |f: &Issue| {
                        f.expression == i.expression && f.msg == i.msg && f.args == i.args
                    };
                    match found.iter_mut().find(|(f, _)| same(f)) {
                        Some((_, from)) => from.push(p.versioned_url()),
                        None => found.push((i, vec![p.versioned_url()])),
                    }
                }
            }
            if !ok {
                let list: Vec<String> = plans.iter().map(|p| p.url.clone()).collect();
                self.report(Msg::NoProfileMatches, args![list.join(", ")], node);
                self.issues.extend(found.into_iter().map(|(i, from)| {
                    let finding = Arg::from(i.to_message());
                    Issue {
                        msg: Msg::FoundAgainstProfiles,
                        args: args![finding, from.join(", ")],
                        ..i
                    }
                }));
            }
        }
    }
}

impl<'v> Walk<'v> {
    /// A choice element (`valueString`) whose type the profile's choice
    /// (`value[x]`) does not allow, reported as the HL7 Java validator
    /// does: with one allowed type, on the element; with several, the type
    /// cannot be determined (on the parent).
    pub(crate) fn profile_choice_type(
        &mut self,
        plan: &crate::plan::Plan,
        ci: usize,
        child: Element<'v>,
    ) {
        if plan.type_name == "Extension" {
            return; // extension values: reported by the extension checks
        }
        let def = &plan.elements[ci];
        let suffix = child.name().get(def.name.len()..).unwrap_or_default();
        if let [t] = def.types.as_slice() {
            let found = crate::lower_first_if_primitive(suffix);
            let len = self.path.len();
            self.path.push('.');
            self.path.push_str(&def.name);
            self.path.push_str(&format!(".ofType({found})"));
            let args = args![plan.versioned_url(), &t.code, found];
            self.report(Msg::ProfileChoiceType, args, child);
            self.path.truncate(len);
        } else {
            let types: Vec<&str> = def.types.iter().map(|t| t.code.as_str()).collect();
            let args = args![&child.name(), types.join(", ")];
            self.report(Msg::ChoiceTypeNotAllowed, args, child);
        }
    }

    /// Profiles a profile puts on a resource-typed element
    /// (`Bundle.entry.resource` with `type.profile`): the resource there is
    /// validated against them too (their constraints included).
    pub(crate) fn resource_type_profiles(&mut self, node: Element<'v>, t: &TypeRef) {
        let Some(rt) = node.resource_type() else {
            return;
        };
        let profiles: Vec<&String> = t.profiles.iter().filter(|p| !p.starts_with(CORE)).collect();
        if profiles.is_empty() {
            return;
        }
        let len = self.path.len();
        let id = node.child_value("id").unwrap_or("null");
        self.path.push_str(&format!("/*{rt}/{id}*/"));
        if let [p] = profiles.as_slice() {
            self.profile(node, p, false);
        } else {
            // The resource conforms to one of the profiles.
            let mut ok = false;
            for p in &profiles {
                ok |= self.sandbox(|w| w.profile(node, p, false));
            }
            if !ok {
                let list: Vec<&str> = profiles.iter().map(|p| p.as_str()).collect();
                self.report(Msg::NoProfileMatches, args![list.join(", ")], node);
            }
        }
        self.path.truncate(len);
    }

    /// A resource in a Resource-typed element (entry, contained, parameter)
    /// is of the type the profile allows there: the type itself, or the
    /// type of its single profile.
    pub(crate) fn resource_of_type(&mut self, node: Element<'v>, t: &crate::plan::TypeRef) {
        let Some(rt) = node.resource_type() else {
            return;
        };
        let want = if t.code == "Resource" || t.code == "DomainResource" {
            match t.profiles.as_slice() {
                [p] => match self.v.plan(p) {
                    Some(plan) if plan.kind == crate::plan::Kind::Resource => {
                        plan.type_name.clone()
                    }
                    Some(_) => return,
                    None => {
                        self.unknown_resource_profile(node, rt, p);
                        return;
                    }
                },
                _ => return,
            }
        } else {
            if let [p] = t.profiles.as_slice() {
                if t.code == rt && self.v.plan(p).is_none() {
                    self.unknown_resource_profile(node, rt, p);
                }
            }
            t.code.clone()
        };
        if want == rt {
            return;
        }
        let len = self.path.len();
        let id = node.child_value("id").unwrap_or("null");
        self.path.push_str(&format!("/*{rt}/{id}*/"));
        self.report(Msg::EntryResourceType, args![rt, want], node);
        self.path.truncate(len);
    }

    /// The single profile of a Resource-typed element is unknown: reported
    /// on the element and on the resource (as the HL7 validator).
    pub(crate) fn unknown_resource_profile(&mut self, node: Element<'v>, rt: &str, profile: &str) {
        let issue = Issue::new(
            Msg::UnknownProfile,
            args![profile],
            self.path.clone(),
            Some(node.pos()),
        );
        self.issues.push(issue.with_code(IssueType::Structure));
        // What holds the resource: entry, parameter, contained, outcome.
        let holder = {
            let p = self.path.as_str();
            let head = p.rsplit_once('.').unwrap_or(("", p));
            if head.1.starts_with("contained") {
                "contained".to_string()
            } else {
                let seg = head.0.rsplit('.').next().unwrap_or("");
                seg.split('[').next().unwrap_or(seg).to_string()
            }
        };
        let len = self.path.len();
        let id = node.child_value("id").unwrap_or("null");
        self.path.push_str(&format!("/*{rt}/{id}*/"));
        self.report(Msg::EntryProfileUnknown, args![profile, holder], node);
        self.path.truncate(len);
    }
}
