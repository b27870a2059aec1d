//! Search result bundles (bundle.html#searchset, search.html): a
//! searchset says which search it answers (a `self` link; a warning when
//! absent); its entries hold resources; once entries say why they are
//! there (`search.mode`), all of them do (a warning); included resources
//! have ids, as matches do.

use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

impl<'v> Walk<'v> {
    /// The rules above for searchset `bundle` (at the current path).
    pub(crate) fn search_bundle_rules(&mut self, bundle: Element<'v>) {
        if bundle.child_value("type") != Some("searchset") {
            return;
        }
        let has_self = bundle
            .children_named("link")
            .any(|l| l.child_value("relation") == Some("self"));
        if !has_self {
            self.report(Msg::SearchNoSelfLink, args![], bundle);
        }
        let mode_of = |e: Element<'v>| e.child("search").and_then(|s| s.child_value("mode"));
        let some_modes = bundle.children_named("entry").any(|e| mode_of(e).is_some());
        let len = self.path.len();
        for (i, entry) in bundle.children_named("entry").enumerate() {
            self.path.push_str(&format!(".entry[{i}]"));
            if some_modes && mode_of(entry).is_none() {
                self.report(Msg::SearchEntryNoMode, args![], entry);
            }
            match entry.child("resource") {
                None => self.report(Msg::SearchEntryNoResource, args![], entry),
                Some(res) => {
                    if mode_of(entry) == Some("include") && res.child_value("id").is_none() {
                        self.path.push_str(".resource");
                        self.report(Msg::SearchMatchNoId, args![], res);
                    }
                }
            }
            self.path.truncate(len);
        }
    }
}
