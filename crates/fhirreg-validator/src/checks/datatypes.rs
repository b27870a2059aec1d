//! Rules of particular complex datatypes beyond their definitions:
//! Identifier (system absolute, `urn:ietf:rfc:3986` values are URIs) and
//! Attachment (data is base64, a stated size matches the data, a hash is
//! its SHA-1; one without data or url says what is missing), Range (low
//! and high in the same units), SampledData (its data
//! points and their number), Meta (a security label once).

use crate::checks::primitive::{base64_binary, is_decimal};
use crate::has_scheme;
use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

impl<'v> Walk<'v> {
    /// A stated Attachment.size matches the decoded data. An Attachment
    /// with neither data nor url asserts that no content of its
    /// contentType or language is available (R4 Attachment notes), so it
    /// should name at least one of them.
    pub(crate) fn attachment(&mut self, node: Element<'v>) {
        let has = |name: &str| node.child(name).is_some();
        if !has("data") && !has("url") && !has("contentType") && !has("language") {
            self.report(Msg::AttachmentNoContent, args![], node);
        }
        if let Some(hash) = node.child_value("hash") {
            self.attachment_hash(node, hash);
        }
        let Some(data) = node.child_value("data") else {
            return;
        };
        // The HL7 validator decodes the data and reports a failure on the
        // Attachment, in the decoder's words.
        let scan = base64_binary::scan(data);
        if let Some(b) = scan.first_invalid {
            self.report(Msg::AttachmentDataNotBase64, args![format!("{b:x}")], node);
            return;
        }
        let Some(size) = node.child_value("size") else {
            return;
        };
        let Ok(stated) = size.parse::<u64>() else {
            return;
        };
        if !scan.whole_groups(data) {
            return; // not valid base64: reported on Attachment.data
        }
        let actual = scan.decoded_len(data) as u64;
        if actual != stated {
            self.report(Msg::AttachmentSizeMismatch, args![stated, actual], node);
        }
    }

    /// Attachment.hash is "the calculated hash of the data using SHA-1,
    /// represented using base64" (R4 datatypes.html#Attachment): 20 bytes,
    /// and with the data present, its SHA-1. R4 states no SHALL here, and
    /// the HL7 validator does not check it: warnings.
    fn attachment_hash(&mut self, node: Element<'v>, hash: &str) {
        use sha1::Digest;
        let Some(stated) = base64_binary::decode(hash) else {
            return; // not base64: reported by the primitive rules
        };
        if stated.len() != 20 {
            let args = args![stated.len()];
            self.at_child(node, "hash", Msg::AttachmentHashNotSha1, args);
            return;
        }
        let Some(data) = node.child_value("data").and_then(base64_binary::decode) else {
            return;
        };
        if sha1::Sha1::digest(&data).as_slice() != stated.as_slice() {
            self.at_child(node, "hash", Msg::AttachmentHashMismatch, args![]);
        }
    }

    /// "The unit and code/system elements of the low or high elements
    /// SHALL match" (R4 datatypes.html#Range). Compared where both give
    /// the element: one that leaves it out states nothing to differ.
    pub(crate) fn range(&mut self, node: Element<'v>) {
        let (Some(low), Some(high)) = (node.child("low"), node.child("high")) else {
            return;
        };
        for name in ["unit", "system", "code"] {
            if let (Some(l), Some(h)) = (low.child_value(name), high.child_value(name)) {
                if l != h {
                    self.report(Msg::RangeUnitsDiffer, args![name, l, h], node);
                }
            }
        }
    }

    /// SampledData.data (R4 datatypes.html#SampledData) is a series of
    /// decimal values separated by a single space, where E (error), L
    /// (below the detection limit) and U (above the upper limit) can stand
    /// in place of a value. With more than one dimension the points are
    /// interlaced, all the points of a time point together, so there is a
    /// whole number of time points: a multiple of `dimensions`. Only the
    /// first bad point is reported (a long series would flood the outcome).
    pub(crate) fn sampled_data(&mut self, node: Element<'v>) {
        let Some(data) = node.child_value("data").filter(|d| !d.is_empty()) else {
            return; // (an empty value is reported by the primitive rules)
        };
        let mut count = 0usize;
        for point in data.split(' ') {
            count += 1;
            if !matches!(point, "E" | "L" | "U") && !is_decimal(point) {
                let args = args![count, point];
                self.at_child(node, "data", Msg::SampledDataPointInvalid, args);
                return;
            }
        }
        let dimensions = node
            .child_value("dimensions")
            .and_then(|d| d.parse::<usize>().ok())
            .filter(|d| *d > 0);
        if let Some(dimensions) = dimensions {
            if count % dimensions != 0 {
                let args = args![count, dimensions];
                self.at_child(node, "data", Msg::SampledDataDimensions, args);
            }
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

    /// A security label appears once in `meta.security` (same system
    /// and code).
    pub(crate) fn meta(&mut self, node: Element<'v>) {
        let labels: Vec<Element<'v>> = node.children_named("security").collect();
        for (i, label) in labels.iter().enumerate() {
            let key = (label.child_value("system"), label.child_value("code"));
            if key.1.is_none() {
                continue;
            }
            let seen = labels[..i]
                .iter()
                .any(|l| (l.child_value("system"), l.child_value("code")) == key);
            if seen {
                let sub = format!(".security[{i}]");
                let args = args![key.0.unwrap_or(""), key.1.unwrap_or("")];
                self.report_sub(&sub, Msg::MetaSecurityDuplicate, args, *label);
            }
        }
    }
}
