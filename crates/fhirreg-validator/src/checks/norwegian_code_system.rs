//! Norwegian code systems whose codes are not here: a Coding whose system
//! is a Volven OID (`urn:oid:2.16.578.1.12.4.1.1.NNNN`) or one of HL7
//! Norway's kodeverk CodeSystems (`http://helsedir.no/fhir/CodeSystem/...`)
//! gets an information issue when the code system is not held or is held
//! with `content: not-present` (many Volven lists are published that way):
//! the code is not checked, and never judged invalid. Other code systems
//! stay quiet when unavailable, as before.

use fhirreg_element::{args, Element, Msg};
use fhirreg_terminology::Content;

use crate::walk::Walk;

/// Does `system` name a Norwegian (Volven / kodeverk) code system?
fn norwegian(system: &str) -> bool {
    system.starts_with("urn:oid:2.16.578.1.12.4.1.1.")
        || system.starts_with("http://helsedir.no/fhir/CodeSystem/")
}

impl<'v> Walk<'v> {
    /// The information for a Coding of a Norwegian code system without
    /// codes here; `true` when it was given (the code is not checked).
    pub(crate) fn norwegian_code_system(
        &mut self,
        node: Element<'v>,
        system: &str,
        code: &str,
    ) -> bool {
        if !norwegian(system) {
            return false;
        }
        match self.v.registry.code_system(system) {
            Some(cs) if cs.content == Content::NotPresent => {
                let name = cs
                    .title
                    .clone()
                    .or_else(|| cs.name.clone())
                    .unwrap_or_default();
                self.at_child(
                    node,
                    "code",
                    Msg::NoCodeSystemNotPresent,
                    args![system, name, code],
                );
                true
            }
            Some(_) => false,
            None => {
                self.at_child(node, "code", Msg::NoCodeSystemNotHeld, args![system, code]);
                true
            }
        }
    }
}
