//! XML element order (xml.html): the elements of a resource or datatype
//! appear in the order their definitions list them. JSON has no order
//! (its properties are read by name), so this is checked on trees read
//! from XML only.

use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

/// The furthest definition met so far among a node's children.
#[derive(Default)]
pub(crate) struct ElementOrder {
    /// (position of the definition among the parent's children, name).
    furthest: Option<(usize, String)>,
}

impl<'v> Walk<'v> {
    /// `child` (at the current path) is defined at position `slot` among
    /// its parent's children, under the name `name`.
    pub(crate) fn element_order(
        &mut self,
        order: &mut ElementOrder,
        slot: usize,
        name: &str,
        child: Element<'v>,
    ) {
        match &order.furthest {
            Some((f, after)) if *f > slot => {
                let after = after.clone();
                self.report(Msg::ElementOutOfOrder, args![name, after], child);
            }
            _ => order.furthest = Some((slot, name.to_string())),
        }
    }
}
