//! FHIR JSON reader and writer (to be implemented).
use crate::{Document, Element, ParseError, ParseOptions};

/// Read a FHIR JSON document.
pub fn parse(_bytes: &[u8], _options: &ParseOptions) -> Result<Document, ParseError> {
    Err(ParseError::new("not implemented", Default::default()))
}

/// Write an element tree as FHIR JSON (pretty when `pretty`).
pub fn write(_root: &Element, _pretty: bool) -> String {
    String::new()
}
