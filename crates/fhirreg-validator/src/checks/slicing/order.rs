//! The order of sliced items (profiling.html#slicing): with
//! `slicing.ordered`, the items come in the order the slices are defined;
//! with `slicing.rules = openAtEnd`, items that match no slice come after
//! all the sliced ones.

use crate::plan::Plan;
use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

impl<'v> Walk<'v> {
    /// `matched[i]`: the slice (index into the sliced element's slices)
    /// item `i` matched; `items`: the items with their path suffixes.
    pub(crate) fn slice_order(
        &mut self,
        plan: &Plan,
        base: usize,
        items: &[(Element<'v>, &str)],
        matched: &[Option<usize>],
    ) {
        let Some(def) = plan.elements.get(base) else {
            return;
        };
        let Some(slicing) = &def.slicing else {
            return;
        };
        if !slicing.ordered && !slicing.open_at_end {
            return;
        }
        let slice_name = |k: usize| -> String {
            def.slices
                .get(k)
                .and_then(|&s| plan.elements.get(s))
                .and_then(|s| s.slice_name.clone())
                .unwrap_or_default()
        };
        let mut latest: Option<usize> = None;
        let mut unmatched_seen = false;
        for ((item, suffix), m) in items.iter().zip(matched) {
            let Some(k) = *m else {
                unmatched_seen = true;
                continue;
            };
            let len = self.path.len();
            self.path.push_str(suffix);
            if slicing.ordered && latest.is_some_and(|l| l > k) {
                self.report(
                    Msg::SliceOutOfOrder,
                    args![slice_name(k), plan.versioned_url()],
                    *item,
                );
            } else if slicing.open_at_end && unmatched_seen {
                self.report(
                    Msg::SliceOpenAtEnd,
                    args![slice_name(k), plan.versioned_url()],
                    *item,
                );
            }
            self.path.truncate(len);
            latest = Some(latest.map_or(k, |l| l.max(k)));
        }
    }
}
