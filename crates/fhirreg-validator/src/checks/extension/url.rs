//! An extension's url is an absolute URL (extensibility.html): only the
//! sub-extensions of a complex extension are named by a relative url (the
//! name of the slice in the extension's definition).

use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

impl<'v> Walk<'v> {
    /// `url` (without a scheme) of the extension `node`: an error unless
    /// the extension is inside another extension.
    pub(crate) fn relative_extension_url(&mut self, node: Element<'v>, url: &str) {
        let in_extension = node.parent().is_some_and(|p| {
            matches!(p.name(), "extension" | "modifierExtension") && p.child("url").is_some()
        });
        if !in_extension {
            self.at_child(node, "url", Msg::ExtensionUrlNotAbsolute, args![url]);
        }
    }
}
