//! Extension contexts: where an extension definition allows itself to be
//! used (`StructureDefinition.context` of type `element`, `extension` or
//! `fhirpath`, then its `contextInvariant`s), checked as the HL7 Java
//! validator does.
//!
//! The element the extension is on (the container) is described by its
//! "logical paths": its literal path without indices, and for each type
//! boundary above it (the resource, each datatype, backbone element) the
//! path from that type (`HumanName.family`, `Extension.value.ofType(boolean)`,
//! `boolean`). An `element` context matches one of these paths, directly,
//! through a base type (`DomainResource.text` for `Patient.text`) or with a
//! choice (`Observation.value[x]`). These are decided during the walk;
//! `extension` and `fhirpath` contexts and the invariants need the tree, so
//! they are queued and decided after the walk, with the constraints.

use crate::checks::invariant::{invariant_limits, resource_above, root_resource_of, Resolver};
use crate::plan::{ExtContext, Plan};
use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element, Issue, NodeId};
use fhirreg_fhirpath::{EvalContext, Expression, Value as FpValue};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A type boundary of the walk: where (a length of the literal path) an
/// element of a type starts, the type's plan (`None`: a backbone element),
/// and for a backbone element defined by a `contentReference` the path of
/// the element it reuses (nested `PlanDefinition.action`s are all
/// `PlanDefinition.action`, as the definition's path says).
pub(crate) type Anchor = (usize, Option<Arc<Plan>>, Option<String>);

/// A context check that needs the tree: decided after the walk.
pub(crate) struct ExtJob {
    /// The extension element.
    ext: NodeId,
    /// Already allowed by an `element` context (only the invariants remain).
    ok: bool,
    /// The extension's url as shown in messages.
    url: String,
    /// `url vVERSION` when the definition has a version.
    shown: String,
    /// The contexts (after the corrections of [`fix_contexts`]).
    contexts: Vec<(String, String)>,
    ctx: Arc<ExtContext>,
    /// The container's logical paths (sorted).
    plist: Vec<String>,
    /// The literal path of the container.
    path: String,
    modifier: bool,
}

/// The bound of the logical paths of one container: each choice element on
/// the way triples them.
const MAX_VARIANTS: usize = 64;

/// Extension definitions whose published contexts are wrong, corrected as
/// the HL7 Java validator does (R4).
fn fix_contexts(url: &str, list: &[(String, String)]) -> Vec<(String, String)> {
    let mut list = list.to_vec();
    let set_first = |list: &mut Vec<(String, String)>, expr: &str| {
        if let Some(first) = list.first_mut() {
            first.1 = expr.to_string();
        }
    };
    match url {
        "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type" => {
            set_first(&mut list, "ElementDefinition.type")
        }
        // Used on ElementDefinition.type in practice (FHIR-13328).
        "http://hl7.org/fhir/StructureDefinition/regex" => {
            list.push(("element".into(), "ElementDefinition.type".into()))
        }
        // Allowed in too many places to list.
        "http://hl7.org/fhir/StructureDefinition/structuredefinition-normative-version"
        | "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation"
        | "http://hl7.org/fhir/StructureDefinition/capabilitystatement-prohibited" => {
            set_first(&mut list, "Element")
        }
        _ => {}
    }
    list
}

/// A literal path without `[n]` indices and `/*Type/id*/` comments.
fn strip_indexes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = match rest[i..].find("*/") {
            Some(j) => &rest[i + j + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    let mut clean = String::with_capacity(out.len());
    let mut skip = false;
    for c in out.chars() {
        match c {
            '[' => skip = true,
            ']' if skip => skip = false,
            _ if !skip => clean.push(c),
            _ => {}
        }
    }
    clean
}

/// The steps of a literal path below a type boundary: (name, chosen type
/// of a choice element).
fn steps(rest: &str) -> Vec<(&str, Option<&str>)> {
    let mut out: Vec<(&str, Option<&str>)> = Vec::new();
    for seg in rest.split('.').filter(|s| !s.is_empty()) {
        let seg = seg.split('[').next().unwrap_or(seg);
        if let Some(t) = seg
            .strip_prefix("ofType(")
            .and_then(|t| t.strip_suffix(')'))
        {
            if let Some(last) = out.last_mut() {
                last.1 = Some(t);
            }
            continue;
        }
        out.push((seg, None));
    }
    out
}

/// Java's `hasElementName`: `en` names one of the paths, an `[x]` step of
/// `en` matching a step `name.ofType(T)`.
fn has_element_name(plist: &[String], en: &str) -> bool {
    plist.iter().any(|s| s == en || same_steps(s, en))
}

/// `path` and `name` have the same steps, an `[x]` step of `name`
/// matching `step.ofType(T)` in `path` (compared step by step, without
/// collecting them: this runs per extension and context path).
fn same_steps(path: &str, name: &str) -> bool {
    let mut ps = path.split('.').peekable();
    let mut ns = name.split('.');
    loop {
        match (ps.next(), ns.next()) {
            (None, None) => return true,
            (Some(p), Some(n)) if p != n => match n.strip_suffix("[x]") {
                Some(base) if p == base && ps.peek().is_some_and(|t| t.starts_with("ofType(")) => {
                    ps.next();
                }
                _ => return false,
            },
            (Some(_), Some(_)) => {}
            _ => return false,
        }
    }
}

impl<'v> Walk<'v> {
    /// The logical paths of the element whose literal path is
    /// `self.path[..cut]`, sorted (as the Java validator lists them).
    fn logical_paths(&self, cut: usize) -> Vec<String> {
        let mut set = BTreeSet::new();
        set.insert(strip_indexes(&self.path[..cut]));
        for (start, plan, reused) in &self.anchors {
            let Some(rest) = self.path.get(*start..cut) else {
                continue;
            };
            let name = plan
                .as_ref()
                .map_or("BackboneElement", |p| p.type_name.as_str());
            let mut variants = vec![name.to_string()];
            variants.extend(reused.iter().cloned());
            for (step, chosen) in steps(&strip_indexes(rest)) {
                let mut next = Vec::with_capacity(variants.len() * 3);
                for v in &variants {
                    next.push(format!("{v}.{step}"));
                    if let Some(t) = chosen {
                        next.push(format!("{v}.{step}.ofType({t})"));
                        next.push(format!("{v}.{step}{t}"));
                    }
                }
                next.truncate(MAX_VARIANTS);
                variants = next;
            }
            set.extend(variants);
        }
        set.into_iter().collect()
    }

    /// An `element` context (`Patient.name`, `DomainResource`, `url#path`)
    /// against the container's logical paths.
    fn element_context(&self, expr: &str, plist: &[String], container_is_resource: bool) -> bool {
        // `profile#path`: the path is matched (conformance of the resource
        // to the profile is not checked).
        let (profile, en) = match expr.split_once('#') {
            Some((p, e)) => (Some(p), e),
            None => (None, expr),
        };
        if en == "Element" || en == "Any" || (en == "Resource" && container_is_resource) {
            return true;
        }
        if en == "CanonicalResource"
            && plist
                .iter()
                .any(|p| crate::CANONICAL_RESOURCES.contains(&p.as_str()))
        {
            return true;
        }
        if profile.is_none() && has_element_name(plist, en) {
            return true;
        }
        plist.iter().any(|p| {
            if p == en {
                return true;
            }
            // The path from a base type: `DomainResource.text` for `Patient.text`.
            let (pn, pt) = match p.find('.') {
                Some(i) => (&p[..i], &p[i..]),
                None => (p.as_str(), ""),
            };
            if pn.contains(':') {
                return false;
            }
            let mut sd = self.v.type_plan(pn);
            let mut depth = 0;
            while let Some(plan) = sd {
                if en.strip_suffix(pt) == Some(plan.type_name.as_str()) {
                    return true;
                }
                depth += 1;
                if depth > 16 || plan.base.is_empty() {
                    break;
                }
                sd = self.v.plan(&plan.base);
            }
            false
        })
    }

    /// Check the context of the extension `node` (at `self.path`) defined
    /// by `ext`: `element` contexts now, the others after the walk.
    pub(crate) fn extension_context(&mut self, node: Element<'v>, ext: &Plan, modifier: bool) {
        let Some(ctx) = ext.ext_context.clone() else {
            return;
        };
        let Some(cut) = self.path.rfind('.') else {
            return;
        };
        let contexts = fix_contexts(&ext.url, &ctx.contexts);
        let anywhere = contexts
            .iter()
            .any(|(t, e)| t == "element" && (e == "Element" || e == "Any"));
        if anywhere && ctx.invariants.is_empty() {
            return;
        }
        let plist = self.logical_paths(cut);
        let container_is_resource = self.anchors.last().is_some_and(|(start, plan, _)| {
            *start == cut
                && plan
                    .as_ref()
                    .is_some_and(|p| p.kind == crate::plan::Kind::Resource)
        });
        let ok = anywhere
            || contexts.iter().any(|(t, e)| {
                t == "element" && self.element_context(e, &plist, container_is_resource)
            });
        if ok && ctx.invariants.is_empty() {
            return;
        }
        let shown = if ext.version.is_empty() {
            ext.url.clone()
        } else {
            format!("{} v{}", ext.url, ext.version)
        };
        self.inv.ext_jobs.push(ExtJob {
            ext: node.id(),
            ok,
            url: ext.url.clone(),
            shown,
            contexts,
            ctx,
            plist,
            path: self.path[..cut].to_string(),
            modifier,
        });
    }

    /// Decide the queued context checks (after the walk).
    pub(crate) fn evaluate_ext_jobs(&mut self, jobs: &[ExtJob], root: Element<'v>) {
        let inner = self.v;
        let resolver = Resolver { root };
        for job in jobs {
            let Some(ext) = root.document().get(job.ext) else {
                continue;
            };
            let resource = resource_above(ext, root);
            let Some(container) = ext.parent() else {
                continue;
            };
            let root_resource = root_resource_of(resource, root);
            let ctx = |focus| eval_context(inner, &resolver, resource, root_resource, focus);
            let mut ok = job.ok;
            let mut plist = job.plist.clone();
            if !ok {
                for (t, e) in &job.contexts {
                    match t.as_str() {
                        "extension" => {
                            // The extension the container is (a complex
                            // extension) or whose value it is.
                            let url = if container.name().starts_with("value") {
                                container
                                    .parent()
                                    .filter(|p| {
                                        matches!(p.name(), "extension" | "modifierExtension")
                                    })
                                    .and_then(|p| p.child_value("url"))
                            } else {
                                container.child_value("url")
                            };
                            if url == Some(e.as_str()) {
                                ok = true;
                            } else if let Some(u) = url {
                                plist.push(u.to_string());
                            }
                        }
                        "fhirpath" => {
                            let Some(expr) = inner.compiled_text(e) else {
                                continue;
                            };
                            let found = expr.evaluate(&ctx(resource)).is_ok_and(|items| {
                                items.iter().any(
                                    |v| matches!(v, FpValue::Node(n) if n.element == container),
                                )
                            });
                            ok |= found;
                        }
                        _ => {}
                    }
                    if ok {
                        break;
                    }
                }
            }
            let (msg, args) = if !ok {
                let allowed: Vec<String> = job
                    .contexts
                    .iter()
                    .map(|(t, e)| {
                        let tag = match t.as_str() {
                            "extension" => "x",
                            "fhirpath" => "p",
                            _ => "e",
                        };
                        format!("{tag}:{e}")
                    })
                    .collect();
                let msg = if job.modifier {
                    Msg::ModifierExtensionContext
                } else {
                    Msg::ExtensionContext
                };
                (msg, args![&job.shown, plist.join(", "), allowed.join(", ")])
            } else {
                // The invariants, on the container; an empty result fails
                // (Java's evaluateToBoolean), one that cannot be evaluated
                // does not.
                let failed = job.ctx.invariants.iter().find(|inv| {
                    inner.compiled_text(inv).is_some_and(|expr| {
                        match expr.evaluate(&ctx(container)) {
                            Ok(items) => !truthy(&items),
                            Err(_) => false,
                        }
                    })
                });
                let Some(inv) = failed else { continue };
                (Msg::ExtensionContextInvariant, args![&job.url, inv])
            };
            self.issues.push(Issue::new(
                msg,
                args,
                job.path.clone(),
                Some(container.pos()),
            ));
        }
    }
}

fn eval_context<'a>(
    inner: &'a crate::Inner,
    resolver: &'a Resolver<'a>,
    resource: Element<'a>,
    root_resource: Element<'a>,
    focus: Element<'a>,
) -> EvalContext<'a> {
    EvalContext::new(resource)
        .with_focus(focus, None)
        .with_root_resource(root_resource)
        .with_model(&inner.model)
        .with_resolver(resolver)
        .with_limits(invariant_limits())
}

/// FHIRPath results as a boolean, as the Java validator's
/// `evaluateToBoolean`: a single boolean is itself, empty is false, other
/// results are true.
fn truthy(items: &[FpValue<'_>]) -> bool {
    match items {
        [] => false,
        [v] => match v.to_primitive() {
            Some(FpValue::Boolean(b)) => b,
            _ => true,
        },
        _ => true,
    }
}

impl crate::Inner {
    /// A compiled expression by text (extension contexts and their
    /// invariants), compiled once per validator.
    pub(crate) fn compiled_text(&self, text: &str) -> Option<Arc<Expression>> {
        // Keyed apart from the constraints (whose text may be corrected).
        let key = format!("\u{0}context:{text}");
        if let Ok(map) = self.expressions.read() {
            if let Some(e) = map.get(&key) {
                return e.clone();
            }
        }
        let e = Expression::compile(text).ok().map(Arc::new);
        if let Ok(mut map) = self.expressions.write() {
            map.entry(key).or_insert_with(|| e.clone());
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::tests::{tree, validator};
    use crate::{Validator, ValidatorOptions};
    use fhirreg_registry::Registry;
    use serde_json::Value;

    fn errors(issues: &[Issue]) -> Vec<String> {
        issues
            .iter()
            .filter(|i| i.severity.is_error())
            .map(|i| format!("{}: {} @ {}", i.message_id(), i.message(), i.expression))
            .collect()
    }

    fn validator_with(files: &[(&str, Value)]) -> Option<Validator> {
        let mut b = Registry::builder();
        for (name, json) in files {
            b = b.add_bytes(*name, json.to_string().as_bytes());
        }
        Some(Validator::new(b.build().ok()?, ValidatorOptions::default()))
    }

    fn run(json: Value) -> Option<Vec<Issue>> {
        let Some(v) = validator() else {
            eprintln!("skipped: the registry could not be built");
            return None;
        };
        Some(v.validate(tree(&json).root(), &[]))
    }

    #[test]
    fn strip_and_steps() {
        assert_eq!(
            strip_indexes("Bundle.entry[0].resource/*Patient/a.b*/.name[1]"),
            "Bundle.entry.resource.name"
        );
        assert_eq!(
            steps(".extension[0].value.ofType(boolean)"),
            vec![("extension", None), ("value", Some("boolean"))]
        );
    }

    #[test]
    fn element_names_with_choices() {
        let plist = vec!["Observation.value.ofType(Quantity)".to_string()];
        assert!(has_element_name(&plist, "Observation.value[x]"));
        assert!(!has_element_name(&plist, "Observation.code"));
        let plain = vec!["Observation.value".to_string()];
        assert!(!has_element_name(&plain, "Observation.value[x]"));
    }

    #[test]
    fn corrected_contexts() {
        let list = vec![("element".to_string(), "StructureDefinition".to_string())];
        let fixed = fix_contexts(
            "http://hl7.org/fhir/StructureDefinition/structuredefinition-normative-version",
            &list,
        );
        assert_eq!(fixed[0].1, "Element");
        assert_eq!(fix_contexts("http://x.org/y", &list), list);
    }

    #[test]
    fn extension_contexts() {
        let ext = |id: &str, contexts: Value, invariants: Value| {
            serde_json::json!({
                "resourceType": "StructureDefinition", "url": format!("http://example.org/sd/{id}"),
                "name": id, "status": "active", "kind": "complex-type", "abstract": false,
                "type": "Extension", "context": contexts, "contextInvariant": invariants,
                "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
                "derivation": "constraint",
                "differential": {"element": [
                    {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
                    {"id": "Extension.url", "path": "Extension.url", "fixedUri": format!("http://example.org/sd/{id}")},
                    {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": [{"code": "boolean"}]}
                ]}
            })
        };
        let e = |t: &str, x: &str| serde_json::json!({"type": t, "expression": x});
        let Some(v) = validator_with(&[
            (
                "a.json",
                ext(
                    "a",
                    serde_json::json!([
                        e("element", "Patient.name"),
                        e("element", "DomainResource.text"),
                        e("element", "Observation.value[x]"),
                        e(
                            "extension",
                            "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
                        ),
                        e("fhirpath", "Patient.address.where(use = 'home')")
                    ]),
                    serde_json::json!([]),
                ),
            ),
            (
                "b.json",
                ext(
                    "b",
                    serde_json::json!([e("element", "Patient")]),
                    serde_json::json!(["Patient.active.not()"]),
                ),
            ),
        ]) else {
            eprintln!("skipped: the registry could not be built");
            return;
        };
        let a =
            |b: bool| serde_json::json!([{"url": "http://example.org/sd/a", "valueBoolean": b}]);
        let b = serde_json::json!([{"url": "http://example.org/sd/b", "valueBoolean": true}]);
        let good = tree(&serde_json::json!({
            "resourceType": "Patient",
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>", "extension": a(true)},
            "name": [{"family": "F", "extension": a(true)}],
            "address": [{"use": "home", "city": "O", "extension": a(true)}],
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired",
                           "valueBoolean": true, "_valueBoolean": {"extension": a(true)}}]
        }));
        assert!(
            errors(&v.validate(good.root(), &[])).is_empty(),
            "{:?}",
            errors(&v.validate(good.root(), &[]))
        );
        let bad = tree(&serde_json::json!({
            "resourceType": "Patient", "active": true, "extension": b,
            "address": [{"use": "work", "city": "O", "extension": a(true)}],
            "telecom": [{"system": "phone", "value": "1", "extension": a(false)}]
        }));
        let e = errors(&v.validate(bad.root(), &[]));
        let has = |s: &str| e.iter().any(|m| m.contains(s));
        assert!(has("extension-context: The extension http://example.org/sd/a cannot be used here (this element: Address, Patient.address; allowed: e:Patient.name, e:DomainResource.text, e:Observation.value[x], x:http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired, p:Patient.address.where(use = 'home')) @ Patient.address[0]"), "{e:?}");
        assert!(has("@ Patient.telecom[0]"), "{e:?}");
        assert!(has("extension-context-invariant: The extension http://example.org/sd/b cannot be used here: its context invariant 'Patient.active.not()' is not met @ Patient"), "{e:?}");
        let obs = tree(&serde_json::json!({
            "resourceType": "Observation", "status": "final", "code": {"text": "x"},
            "valueQuantity": {"value": 1, "extension": a(true)},
            "extension": a(true)
        }));
        let e = errors(&v.validate(obs.root(), &[]));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].ends_with("@ Observation"), "{e:?}");
    }

    /// An element defined by a `contentReference` (nested
    /// `Questionnaire.item`) has the path of the element it reuses, so a
    /// context on that element allows the extension at every depth.
    #[test]
    fn context_on_an_element_reused_by_content_reference() {
        let ext = serde_json::json!({
            "resourceType": "StructureDefinition", "url": "http://example.org/sd/item-ext",
            "name": "ItemExt", "status": "active", "kind": "complex-type", "abstract": false,
            "type": "Extension", "context": [{"type": "element", "expression": "Questionnaire.item"}],
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
            "derivation": "constraint",
            "differential": {"element": [
                {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
                {"id": "Extension.url", "path": "Extension.url", "fixedUri": "http://example.org/sd/item-ext"},
                {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": [{"code": "boolean"}]}
            ]}
        });
        let Some(v) = validator_with(&[("item-ext.json", ext)]) else {
            eprintln!("skipped: the registry could not be built");
            return;
        };
        let flag =
            serde_json::json!([{"url": "http://example.org/sd/item-ext", "valueBoolean": true}]);
        let q = tree(&serde_json::json!({
            "resourceType": "Questionnaire", "status": "active",
            "item": [{"linkId": "1", "type": "group", "extension": flag,
                "item": [{"linkId": "1.1", "type": "group", "extension": flag,
                    "item": [{"linkId": "1.1.1", "type": "boolean", "extension": flag}]}]}]
        }));
        let e = errors(&v.validate(q.root(), &[]));
        assert!(e.is_empty(), "{e:?}");
        let misplaced = tree(&serde_json::json!({
            "resourceType": "Questionnaire", "status": "active",
            "item": [{"linkId": "1", "type": "group",
                "item": [{"linkId": "1.1", "type": "boolean", "code": [{"code": "x", "extension": flag}]}]}]
        }));
        let e = errors(&v.validate(misplaced.root(), &[]));
        assert!(
            e.iter().any(|m| m.starts_with("extension-context: ")),
            "{e:?}"
        );
    }

    #[test]
    fn extension_url_with_version() {
        let Some(issues) = run(serde_json::json!({
            "resourceType": "Patient",
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-congregation|4.0.0", "valueString": "x"}],
            "modifierExtension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-congregation", "valueString": "x"}]
        })) else {
            return;
        };
        let e = errors(&issues);
        let has = |s: &str| e.iter().any(|m| m.contains(s));
        assert!(has("extension-url-other-version: An extension url must not have a version; the extension was checked against its version 4.0.1 @ Patient.extension[0][url='http://hl7.org/fhir/StructureDefinition/patient-congregation|4.0.0']"), "{e:?}");
        assert!(
            has("fixes it to 'http://hl7.org/fhir/StructureDefinition/patient-congregation'"),
            "{e:?}"
        );
        assert!(!has("extension-unknown"), "{e:?}");
        assert!(has("extension-used-as-modifier: The extension 'http://hl7.org/fhir/StructureDefinition/patient-congregation' is not a modifier extension, so it cannot go in modifierExtension @ Patient.modifierExtension[0][url='http://hl7.org/fhir/StructureDefinition/patient-congregation']"), "{e:?}");
    }
}
