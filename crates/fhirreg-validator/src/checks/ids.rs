//! Identity: a resource's id (format and length), element ids unique in
//! their resource, and the `url` of a canonical resource absolute.

use crate::checks::primitive::is_id;
use crate::has_scheme;
use crate::plan::Plan;
use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

impl<'v> Walk<'v> {
    /// An element id (`id` of a non-resource) is unique within its
    /// resource.
    pub(crate) fn unique_element_id(&mut self, child: Element<'v>) {
        if child.name() != "id" {
            return;
        }
        if let Some(id) = child.value() {
            let fresh = match self.element_ids.last_mut() {
                Some(set) => set.insert(id.to_string()),
                None => true,
            };
            if !fresh {
                self.report(Msg::DuplicateElementId, args![id], child);
            }
        }
    }

    /// A resource's id: at most 64 characters of the `id` type.
    pub(crate) fn resource_id(&mut self, node: Element<'v>) {
        let Some(id) = node.child("id") else { return };
        let Some(v) = id.value() else { return };
        let len = self.path.len();
        self.path.push_str(".id");
        if v.chars().count() > 64 {
            self.report(Msg::ResourceIdTooLong, args![v.chars().count()], id);
        } else if !is_id(v) {
            self.report(Msg::ResourceIdInvalid, args![v], id);
        }
        self.path.truncate(len);
    }

    /// The `url` of a canonical resource is absolute.
    pub(crate) fn canonical_url(&mut self, node: Element<'v>, plan: &Plan, top: bool) {
        let Some(u) = node.child("url") else { return };
        let Some(v) = u.value() else { return };
        let is_uri = plan
            .find_child(0, "url")
            .and_then(|(i, _)| plan.elements[i].types.first())
            .is_some_and(|t| t.code == "uri");
        if !is_uri || v.starts_with('#') || has_scheme(v) {
            return;
        }
        let msg = if !top && node.name() == "contained" {
            Msg::ContainedCanonicalNotAbsolute
        } else {
            Msg::CanonicalNotAbsolute
        };
        let len = self.path.len();
        self.path.push_str(".url");
        self.report(msg, args![v], u);
        self.path.truncate(len);
    }
}
