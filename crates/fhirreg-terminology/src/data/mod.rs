//! Shipped code lists.

pub(crate) mod iso;
