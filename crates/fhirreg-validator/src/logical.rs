//! StructureDefinition rules about the type a structure defines, as the
//! HL7 Java validator's `StructureDefinitionValidator` checks them: a
//! logical model's type is a FHIR type or namespaced (a URL); a
//! specialization defines a type other than its base's; element paths
//! start with the structure's type.

use crate::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

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
