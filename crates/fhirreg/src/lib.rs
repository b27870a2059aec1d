//! fhirreg: the public Rust API.
