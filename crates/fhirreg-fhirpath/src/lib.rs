//! FHIRPath (R4, normative N1): pest grammar -> AST -> compiled program, evaluated over the fhirreg element tree.
