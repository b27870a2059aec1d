//! Bundle links (bundle.html, http.html#paging): the paging relations
//! `first`, `previous`, `next` and `last` belong to search and history
//! bundles; in those each paging relation and `self` is given at most
//! once, elsewhere `self` at most once.

use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

const PAGING: &[&str] = &["first", "previous", "next", "last"];

impl<'v> Walk<'v> {
    pub(crate) fn bundle_link_relations(&mut self, bundle: Element<'v>) {
        let paged = matches!(bundle.child_value("type"), Some("searchset" | "history"));
        let mut seen: Vec<&str> = Vec::new();
        for (i, link) in bundle.children_named("link").enumerate() {
            let Some(rel) = link.child_value("relation") else {
                continue;
            };
            let once = rel == "self" || PAGING.contains(&rel);
            let repeated = once && seen.contains(&rel);
            seen.push(rel);
            let len = self.path.len();
            self.path.push_str(&format!(".link[{i}]"));
            if paged {
                if repeated {
                    self.report(Msg::BundleLinkDuplicate, args![rel], link);
                }
            } else if let Some(relation) = link.child("relation") {
                self.path.push_str(".relation");
                if PAGING.contains(&rel) {
                    let ty = bundle.child_value("type").unwrap_or_default();
                    self.report(Msg::BundleLinkNotAllowed, args![rel, ty], relation);
                } else if repeated {
                    self.report(Msg::BundleLinkDuplicate, args![rel], relation);
                }
            }
            self.path.truncate(len);
        }
    }
}
