//! Rules of particular complex datatypes beyond their definitions:
//! Identifier (system absolute, `urn:ietf:rfc:3986` values are URIs) and
//! Attachment (data is base64, a stated size matches the data).

use crate::checks::primitive::base64_binary;
use crate::has_scheme;
use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

impl<'v> Walk<'v> {
    /// A stated Attachment.size matches the decoded data.
    pub(crate) fn attachment(&mut self, node: Element<'v>) {
        if let Some(data) = node.child_value("data") {
            // The HL7 validator decodes the data and reports a failure on
            // the Attachment, in the decoder's words.
            if let Some(b) = base64_binary::first_invalid_byte(data) {
                self.report(Msg::AttachmentDataNotBase64, args![format!("{b:x}")], node);
                return;
            }
        }
        let (Some(data), Some(size)) = (node.child_value("data"), node.child_value("size")) else {
            return;
        };
        let Ok(stated) = size.parse::<u64>() else {
            return;
        };
        if !base64_binary::whole_groups(data) {
            return; // not valid base64: reported on Attachment.data
        }
        let actual = base64_binary::decoded_len(data) as u64;
        if actual != stated {
            self.report(Msg::AttachmentSizeMismatch, args![stated, actual], node);
        }
    }

    pub(crate) fn identifier(&mut self, node: Element<'v>) {
        let Some(system) = node.child_value("system") else {
            return;
        };
        self.norwegian_identifier(node, system);
        if !has_scheme(system) {
            self.at_child(node, "system", Msg::IdentifierSystemRelative, args![]);
        } else if system == "urn:ietf:rfc:3986" {
            if let Some(v) = node.child_value("value") {
                if !has_scheme(v) {
                    self.report(Msg::IdentifierValueNotUri, args![v], node);
                }
            }
        }
    }
}
