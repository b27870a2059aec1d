//! Contained resources: the scope in which `#id` references (and narrative
//! links) resolve, and dom-3 (each contained resource is referenced).

use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};
use foldhash::{HashSet, HashSetExt};

impl<'v> Walk<'v> {
    /// Make the contained resources of `node` the targets of `#id`
    /// references until [`Self::leave_resource_scope`].
    pub(crate) fn enter_resource_scope(&mut self, node: Element<'v>) {
        let ids: HashSet<String> = node
            .children_named("contained")
            .filter_map(|c| c.child_value("id").map(str::to_string))
            .collect();
        self.contained_ids.push(ids);
        self.contained_types.push(
            node.children_named("contained")
                .filter_map(|c| {
                    Some((
                        c.child_value("id")?.to_string(),
                        c.resource_type().map(str::to_string)?,
                    ))
                })
                .collect(),
        );
    }

    pub(crate) fn leave_resource_scope(&mut self) {
        self.contained_ids.pop();
        self.contained_types.pop();
    }

    /// The resource type of contained resource `id`: a contained resource
    /// has no contained resources of its own, so `#id` inside it names a
    /// sibling in its container (the nearest scope that knows the id).
    pub(crate) fn contained_type(&self, id: &str) -> Option<String> {
        self.contained_types
            .iter()
            .rev()
            .find_map(|scope| scope.get(id))
            .cloned()
    }
}

impl<'v> Walk<'v> {
    /// dom-3, checked directly (like the HL7 Java validator does, with its
    /// message and location): each contained resource is referenced from
    /// elsewhere in the resource (`#id`), or refers to the container (`#`).
    pub(crate) fn contained_referenced(&mut self, node: Element<'v>) {
        if node.child("contained").is_none() {
            return;
        }
        // `#id` values in the resource (references, canonicals, uris).
        let mut refs: HashSet<&str> = HashSet::new();
        let mut stack = vec![node];
        while let Some(e) = stack.pop() {
            if let Some(v) = e.value() {
                if v.starts_with('#') && e.name() != "div" {
                    refs.insert(&v[1..]);
                }
            }
            stack.extend(e.children());
        }
        let len = self.path.len();
        for (i, c) in node.children_named("contained").enumerate() {
            let Some(id) = c.child_value("id") else {
                continue;
            };
            if refs.contains(id) || refers_to_container(c) {
                continue;
            }
            self.path.push_str(&format!(".contained[{i}]"));
            self.report(Msg::ContainedNotReferenced, args![id], c);
            self.path.truncate(len);
        }
    }
}

/// True when a contained resource has a reference to its container (`#`).
fn refers_to_container(e: Element<'_>) -> bool {
    e.value() == Some("#") || e.children().any(refers_to_container)
}
