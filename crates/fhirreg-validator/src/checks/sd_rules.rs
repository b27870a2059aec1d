//! StructureDefinition rules beyond the base checks of `sdef.rs`: a
//! definition with a baseDefinition says how it derives from it
//! (`derivation`: constraint or specialization), since the two are read
//! differently.

use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

impl<'v> Walk<'v> {
    pub(crate) fn sd_derivation(&mut self, sd: Element<'v>) {
        if sd.child("baseDefinition").is_some() && sd.child("derivation").is_none() {
            let url = sd.child_value("url").unwrap_or_default();
            self.report(Msg::SdNoDerivation, args![url], sd);
        }
    }
}
