//! The checks a compiled plan's nodes run, one module per kind of check
//! (see the table in the crate documentation).
//!
//! A check is a method of the [`Walk`](crate::walk::Walk) that reports
//! into the walk's [`Sink`](crate::sink::Sink): the same code serves both
//! paths. `Validator::validate` runs it with a collecting sink (every
//! finding); `Validator::is_valid` runs it with a first-error sink, which
//! marks itself stopped at the first error, and the walk then runs no
//! further nodes.

pub(crate) mod binding;
pub(crate) mod bundle;
pub(crate) mod cardinality;
pub(crate) mod coding_system;
pub(crate) mod contained;
pub(crate) mod datatypes;
pub(crate) mod element_order;
pub(crate) mod extension;
pub(crate) mod fixed;
pub(crate) mod ids;
pub(crate) mod invariant;
pub(crate) mod limits;
pub(crate) mod norwegian_code_system;
pub(crate) mod primitive;
pub(crate) mod reference;
pub(crate) mod resources;
pub(crate) mod slicing;
pub(crate) mod types;
