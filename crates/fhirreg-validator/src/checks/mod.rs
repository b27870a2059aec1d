//! Checks of rules the walk did not have, one module per family of rules
//! (see `docs/rules.md` for the catalogue of rules and where each is
//! checked).

pub(crate) mod binding_rules;
pub(crate) mod bundle_links;
pub(crate) mod bundle_search;
pub(crate) mod coding_system;
pub(crate) mod element_order;
pub(crate) mod extension_url;
pub(crate) mod narrative_rules;
pub(crate) mod qr_structure;
pub(crate) mod sd_rules;
pub(crate) mod slice_order;
pub(crate) mod value_rules;
