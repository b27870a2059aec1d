//! Rules on StructureDefinition resources that the HL7 Java validator
//! finds when it generates the snapshot of a constraint from its base:
//! no slicing on the root element, fixed values the base fixes cannot be
//! changed, each differential element names an element of the base, and
//! a type's profile profiles that type.
//!
//! StructureDefinition rules about the type a structure defines, as the
//! HL7 Java validator's `StructureDefinitionValidator` checks them: a
//! logical model's type is a FHIR type or namespaced (a URL); a
//! specialization defines a type other than its base's; element paths
//! start with the structure's type.

use crate::json_primitive_text;
use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

impl<'v> Walk<'v> {
    /// Check the differential of a constraint StructureDefinition `node`
    /// (at `self.path`) against its base.
    pub(crate) fn structure_definition(&mut self, node: Element<'v>) {
        self.sd_derivation(node);
        if node.child_value("type") == Some("Extension") {
            self.extension_context_review(node);
        }
        if node.child_value("derivation") != Some("constraint") {
            return;
        }
        let Some(diff) = node.child("differential") else {
            return;
        };
        let base = node
            .child_value("baseDefinition")
            .and_then(|b| self.v.plan(b));
        let len = self.path.len();
        for (i, ed) in diff.children_named("element").enumerate() {
            let Some(path) = ed.child_value("path") else {
                continue;
            };
            self.path.push_str(&format!(".differential.element[{i}]"));
            self.type_profiles_of_type(ed, path);
            self.path.truncate(len);
            if let Some(base) = &base {
                if !path_in_base(base, path) {
                    self.report(Msg::SdPathUnknown, args![path, &base.url], node);
                }
            }
            if !path.contains('.') && ed.child("slicing").is_some() {
                self.path.push_str(&format!(".differential.element[{i}]"));
                self.report(Msg::SdRootSlicing, args![], ed);
                self.path.truncate(len);
                if base.is_some() && node.child("snapshot").is_none() {
                    // The snapshot cannot be generated.
                    self.report(Msg::SnapshotRootSlicing, args![path], node);
                }
            }
            // A primitive value fixed by the base cannot change (reported,
            // as the snapshot generator does, at the element's path).
            let Some(base) = &base else { continue };
            let Some(fixed) = ed
                .children()
                .find(|c| c.name().starts_with("fixed") && c.name().len() > "fixed".len())
            else {
                continue;
            };
            let Some(value) = fixed.value() else {
                continue;
            };
            let id = ed.child_value("id").unwrap_or(path);
            let Some(bdef) = base.element_by_id(id).and_then(|b| base.elements.get(b)) else {
                continue;
            };
            let Some(want) = bdef.fixed.as_ref().and_then(json_primitive_text) else {
                continue;
            };
            if want != value {
                let args = args![value, want, &base.url];
                let saved = std::mem::replace(&mut self.path, path.to_string());
                self.report(Msg::SdFixedBaseChanged, args, fixed);
                self.path = saved;
            }
        }
    }

    /// An extension usable on any element is rarely intended: a warning.
    fn extension_context_review(&mut self, node: Element<'v>) {
        let id = node.child_value("id").unwrap_or_default().to_string();
        let len = self.path.len();
        for (i, c) in node.children_named("context").enumerate() {
            if c.child_value("type") == Some("element")
                && c.child_value("expression") == Some("Element")
            {
                self.path.push_str(&format!(".context[{i}]"));
                self.report(Msg::SdContextElement, args![&id], c);
                self.path.truncate(len);
            }
        }
    }

    /// A definition with a baseDefinition says how it derives from it
    /// (`derivation`: constraint or specialization), since the two are
    /// read differently.
    pub(crate) fn sd_derivation(&mut self, sd: Element<'v>) {
        if sd.child("baseDefinition").is_some() && sd.child("derivation").is_none() {
            let url = sd.child_value("url").unwrap_or_default();
            self.report(Msg::SdNoDerivation, args![url], sd);
        }
    }
}

impl<'v> Walk<'v> {
    pub(crate) fn structure_type_rules(&mut self, sd: Element<'v>) {
        let Some(ty) = sd.child_value("type").filter(|t| !t.is_empty()) else {
            return;
        };
        let specialization = sd.child_value("derivation") == Some("specialization");
        if sd.child_value("kind") == Some("logical")
            && specialization
            && !ty.contains(':')
            && self.v.type_plan(ty).is_none()
        {
            let len = self.path.len();
            self.path.push_str(".type");
            let at = sd.child("type").unwrap_or(sd);
            self.report(Msg::SdTypeNotLegal, args![ty], at);
            self.path.truncate(len);
        }
        if specialization {
            if let Some(base) = sd.child_value("baseDefinition") {
                let base_type = self
                    .v
                    .summary(base)
                    .filter(|s| s.resource_type() == "StructureDefinition")
                    .and_then(|s| s.type_name().map(String::from));
                if base_type.as_deref() == Some(ty) {
                    self.report(Msg::SdSpecializationSameType, args![ty, base], sd);
                }
            }
        }
        // The name paths start with: the type, or the tail of its URL.
        let name = ty.rsplit('/').next().unwrap_or(ty);
        for part in ["differential", "snapshot"] {
            let Some(list) = sd.child(part) else { continue };
            for (i, ed) in list.children_named("element").enumerate() {
                let Some(path) = ed.child_value("path") else {
                    continue;
                };
                let ok = path == name
                    || path
                        .strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with('.'));
                if !ok {
                    let len = self.path.len();
                    self.path.push_str(&format!(".{part}.element[{i}]"));
                    self.report(Msg::SdPathType, args![path, name], ed);
                    self.path.truncate(len);
                }
            }
        }
    }
}

impl<'v> Walk<'v> {
    /// Each `type.profile` of a differential element (at `self.path`)
    /// profiles that type (ElementDefinition.type.profile: a profile "of
    /// the datatype this element refers to"); on `Resource` and
    /// `DomainResource`, a profile of any resource type.
    fn type_profiles_of_type(&mut self, ed: Element<'v>, path: &str) {
        let len = self.path.len();
        for (j, t) in ed.children_named("type").enumerate() {
            let Some(code) = t.child_value("code") else {
                continue;
            };
            for (k, p) in t.children_named("profile").enumerate() {
                let Some(url) = p.value() else { continue };
                let Some(plan) = self.v.plan(url) else {
                    continue;
                };
                let ty = plan.type_name.as_str();
                let fits = ty == code
                    || (matches!(code, "Resource" | "DomainResource")
                        && self.v.is_resource_type(ty));
                if !fits {
                    self.path.push_str(&format!(".type[{j}].profile[{k}]"));
                    self.report(Msg::SdTypeProfileWrongType, args![url, ty, path, code], p);
                    self.path.truncate(len);
                }
            }
        }
    }
}

/// Does `path` name an element of `base` (or the child of one)? A choice
/// element may be named by its renamed form (`valueQuantity`); below an
/// element of a datatype (no children in `base`) any path is accepted,
/// that is the datatype's business.
fn path_in_base(base: &crate::plan::Plan, path: &str) -> bool {
    let Some(root) = base.elements.first() else {
        return true;
    };
    let mut segs = path.split('.');
    if segs.next() != Some(root.path.as_str()) {
        return true; // (sd-path-type reports it)
    }
    let mut at = 0usize;
    for seg in segs {
        let Some(cur) = base.elements.get(at) else {
            return true;
        };
        let cur = match cur.content_ref.and_then(|r| base.elements.get(r)) {
            Some(target) if cur.children.is_empty() => target,
            _ => cur,
        };
        if cur.children.is_empty() {
            return true;
        }
        let name = seg.trim_end_matches("[x]");
        let found = cur.children.iter().copied().find(|&c| {
            base.elements.get(c).is_some_and(|d| {
                d.name == name
                    || (d.choice
                        && seg
                            .strip_prefix(d.name.as_str())
                            .is_some_and(|sfx| d.types.iter().any(|t| t.suffix == sfx)))
            })
        });
        match found {
            Some(c) => at = c,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use crate::tests::{tree, validator};

    #[test]
    fn root_slicing_and_changed_fixed_values() {
        let Some(v) = validator() else {
            eprintln!("skipped: the registry could not be built");
            return;
        };
        let sd = tree(&serde_json::json!({
            "resourceType": "StructureDefinition", "id": "x", "url": "http://example.org/sd/x",
            "name": "X", "status": "draft", "kind": "complex-type", "abstract": false,
            "context": [{"type": "element", "expression": "Element"}],
            "type": "Extension", "derivation": "constraint",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/patient-animal",
            "differential": {"element": [
                {"id": "Extension", "path": "Extension",
                 "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"}},
                {"id": "Extension.url", "path": "Extension.url", "fixedUri": "http://example.org/sd/x"}
            ]}
        }));
        let issues = v.validate(sd.root(), &[]);
        let has = |sev: bool, s: &str| {
            issues.iter().any(|i| {
                i.severity.is_error() == sev
                    && format!("{}: {} @ {}", i.message_id(), i.message(), i.expression).contains(s)
            })
        };
        assert!(has(true, "sd-root-slicing: A profile cannot slice its root element @ StructureDefinition.differential.element[0]"), "{issues:?}");
        assert!(
            has(true, "snapshot-root-slicing: No snapshot can be generated: the differential slices the root ('Extension')"),
            "{issues:?}"
        );
        assert!(has(true, "sd-fixed-base-changed: The value 'http://example.org/sd/x' differs from 'http://hl7.org/fhir/StructureDefinition/patient-animal', the value the base definition 'http://hl7.org/fhir/StructureDefinition/patient-animal' fixes @ Extension.url"), "{issues:?}");
        assert!(
            has(
                false,
                "sd-context-element: The extension x may be used on any element"
            ),
            "{issues:?}"
        );
    }
}
