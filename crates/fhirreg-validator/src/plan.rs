//! The validator reads definitions only through the registry's definition
//! model ([`fhirreg_registry::model`]); these are its names here.

pub(crate) use fhirreg_registry::model::{
    Binding, Constraint, ElementDef as ElemDef, ExtContext, Kind, Slicing, StructureDef as Plan,
    TypeRef,
};
