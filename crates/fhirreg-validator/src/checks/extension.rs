//! Extensions: url present and without a version, value or children
//! (ext-1), a known definition, allowed value types, modifier use, the
//! contexts the definition allows (see [`context`]), and the extension's
//! own definition including its sub-extension slices.

pub(crate) mod context;
pub(crate) mod url;

use crate::lower_first;
use crate::plan::Plan;
use crate::walk::Walk;
use fhirreg_element::message::{Args, Msg};
use fhirreg_element::{args, Element};
use std::sync::Arc;

impl<'v> Walk<'v> {
    /// Extension rules: url, value or children, known definition.
    pub(crate) fn extension(&mut self, node: Element<'v>) {
        let url = node.child_value("url");
        let value = node.children().find(|c| c.name().starts_with("value"));
        let has_ext = node.children().any(|c| c.name() == "extension");
        if url.is_none() {
            self.report(Msg::ExtensionUrlMissing, args![], node);
        }
        if value.is_some() == has_ext {
            // ext-1, checked directly (the constraint's words are the
            // specification's).
            let args = args![
                "ext-1",
                "Must have either extensions or value[x], not both",
                "http://hl7.org/fhir/StructureDefinition/Extension"
            ];
            self.report(Msg::InvariantFailedFrom, args, node);
        }
        let Some(url) = url else { return };
        if !url.contains(':') {
            // a sub-extension of a complex extension (elsewhere an error)
            self.relative_extension_url(node, url);
            return;
        }
        let ext = self.extension_definition(node, url);
        let Some(ext) = ext else {
            if self.v.summary(url).is_none() && !self.unknown_extension_allowed(url) {
                self.report(Msg::ExtensionUnknown, args![url], node);
            }
            return;
        };
        let modifier_slot = node.name() == "modifierExtension";
        let is_modifier = ext.elements.first().is_some_and(|e| e.is_modifier);
        if is_modifier && !modifier_slot {
            self.error_at_url(url, Msg::ModifierUsedAsExtension, args![url], node);
        } else if !is_modifier && modifier_slot {
            self.error_at_url(url, Msg::ExtensionUsedAsModifier, args![url], node);
        }
        self.extension_context(node, &ext, modifier_slot);
        // The extension's own definition: cardinality, fixed values and
        // slices (sub-extensions) of complex extensions.
        // (`ext` is the definition's profile plan.)
        self.children(node, &ext, 0);
        self.element_invariants(node, &ext, 0, None);
        self.sub_extension_urls(node, &ext);
        if let Some(value) = value {
            let Some(vdef) = ext.elements.first().and_then(|root| {
                root.children
                    .iter()
                    .map(|&c| &ext.elements[c])
                    .find(|d| d.choice && d.name == "value")
            }) else {
                return;
            };
            let suffix = &value.name()["value".len()..];
            if vdef.max == Some(0) {
                return;
            }
            if !vdef.types.iter().any(|t| t.suffix == suffix) {
                let allowed: Vec<&str> = vdef.types.iter().map(|t| t.code.as_str()).collect();
                let found = self
                    .v
                    .type_plan(suffix)
                    .map(|p| p.type_name.clone())
                    .unwrap_or_else(|| lower_first(suffix));
                let args = args![url, allowed.join(", "), found];
                self.report(Msg::ExtensionValueType, args, node);
            }
        }
    }

    /// The definition of an extension url. A version in the url
    /// (`url|version`) is an error: the definition without it is used, as
    /// the HL7 Java validator does.
    pub(crate) fn extension_definition(
        &mut self,
        node: Element<'v>,
        url: &str,
    ) -> Option<Arc<Plan>> {
        let Some((base, _)) = url.split_once('|') else {
            return self.v.plan(url);
        };
        match self.v.plan(base) {
            Some(ext) => {
                let (msg, args) = if url == ext.versioned_url() {
                    (Msg::ExtensionUrlVersion, args![])
                } else {
                    (Msg::ExtensionUrlOtherVersion, args![&ext.version])
                };
                self.error_at_url(url, msg, args, node);
                Some(ext)
            }
            None => {
                let ext = self.v.plan(url);
                let len = self.path.len();
                self.path.push_str(&format!("[url='{url}']"));
                if ext.is_some() {
                    self.report(Msg::ExtensionUrlVersionUsed, args![], node);
                } else {
                    self.report(Msg::ExtensionUrlVersionUnknown, args![], node);
                }
                self.path.truncate(len);
                ext
            }
        }
    }

    /// An error about an extension at `path[url='URL']` (as the HL7 Java
    /// validator locates the issues about an extension's url).
    pub(crate) fn error_at_url(&mut self, url: &str, msg: Msg, args: Args, node: Element<'v>) {
        self.report_sub(&format!("[url='{url}']"), msg, args, node);
    }

    /// Sub-extensions (relative urls) must be slices the definition names.
    pub(crate) fn sub_extension_urls(&mut self, node: Element<'v>, ext: &Plan) {
        let Some(root) = ext.elements.first() else {
            return;
        };
        let Some(&slot) = root
            .children
            .iter()
            .find(|&&c| ext.elements[c].name == "extension")
        else {
            return;
        };
        let names: Vec<&str> = ext.elements[slot]
            .slices
            .iter()
            .filter_map(|&s| {
                let sd = &ext.elements[s];
                // the url fixed on the slice, else its name
                ext.elements[s]
                    .children
                    .iter()
                    .map(|&c| &ext.elements[c])
                    .find(|c| c.name == "url")
                    .and_then(|c| c.fixed.as_ref())
                    .and_then(|f| f.as_str())
                    .or(sd.slice_name.as_deref())
            })
            .collect();
        if names.is_empty() {
            return;
        }
        let len = self.path.len();
        for (i, sub) in node.children_named("extension").enumerate() {
            let Some(u) = sub.child_value("url") else {
                continue;
            };
            if u.contains(':') || names.contains(&u) {
                continue;
            }
            self.path.push_str(&format!(".extension[{i}][url='{u}']"));
            let args = args![u, ext.versioned_url()];
            self.report(Msg::SubExtensionUnknown, args, sub);
            self.path.truncate(len);
        }
    }

    pub(crate) fn unknown_extension_allowed(&self, url: &str) -> bool {
        let o = &self.v.options;
        o.any_extensions_allowed
            || url.contains("example.org")
            || url.contains("acme.com")
            || url.contains("nema.org")
            || url.starts_with("http://hl7.org/fhir/tools/StructureDefinition/")
            || is_cross_version_extension(url)
            || o.extension_domains
                .iter()
                .any(|d| url.starts_with(d.as_str()))
    }
}

/// `http://hl7.org/fhir/5.0/StructureDefinition/extension-...`: the
/// cross-version extensions, defined implicitly by the FHIR specification.
fn is_cross_version_extension(url: &str) -> bool {
    url.strip_prefix("http://hl7.org/fhir/")
        .and_then(|rest| rest.split_once("/StructureDefinition/extension-"))
        .is_some_and(|(ver, _)| {
            !ver.is_empty() && ver.chars().all(|c| c.is_ascii_digit() || c == '.')
        })
}
