//! Format-neutral FHIR element tree.
//!
//! Every FHIR document (JSON or XML) is read into one [`Document`]: an
//! arena holding the element tree (nodes with their parent, their
//! children, their line:column, so that validation issues can point at the
//! exact place in the source) with all names and values in one buffer.
//! [`Element`] is a copyable handle on one node. [`json::write`] and
//! [`xml::write`] serialise a tree back. The readers enforce the FHIR
//! serialisation rules (JSON: `_name` primitive siblings, no duplicate keys,
//! no empty values, decimals kept as written; XML: FHIR namespace, `value`
//! attributes, no DOCTYPE or entities) and report violations as [`Issue`]s,
//! whose messages come from one catalogue ([`message`]).
//! Malformed input gives a [`ParseError`] with a position; it never panics.
//! Limits against hostile input: [`ParseOptions`], [`DEFAULT_MAX_DEPTH`],
//! [`DEFAULT_MAX_SIZE`].
//!
//! ```
//! use fhirreg_element::{json, ParseOptions};
//! let doc = json::parse(br#"{"resourceType":"Patient","active":true}"#, &ParseOptions::default()).unwrap();
//! assert_eq!(doc.root().resource_type(), Some("Patient"));
//! assert_eq!(doc.root().child_value("active"), Some("true"));
//! ```

pub mod issue;
pub mod json;
mod locate;
pub mod message;
pub mod tree;
pub mod xml;

pub use issue::{Issue, IssueType, Severity};
pub use message::{Lang, Msg};
pub use tree::{Children, Document, Element, NodeId};

/// Append the index step `[n]` to an expression (`Patient.name[2]`)
/// without formatting machinery: readers and the validator write one per
/// array item.
///
/// ```
/// let mut path = String::from("Patient.name");
/// fhirreg_element::push_index(&mut path, 12);
/// assert_eq!(path, "Patient.name[12]");
/// ```
pub fn push_index(path: &mut String, n: usize) {
    path.push('[');
    push_decimal(path, n as u64);
    path.push(']');
}

/// Append the decimal digits of `n` without formatting machinery (index
/// steps, line and column numbers of written outcomes).
///
/// ```
/// let mut s = String::from("line ");
/// fhirreg_element::push_decimal(&mut s, 1_024);
/// fhirreg_element::push_decimal(&mut s, 0);
/// assert_eq!(s, "line 10240");
/// ```
pub fn push_decimal(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    while let Some(next) = at.checked_sub(1) {
        at = next;
        // (a decimal digit: always ASCII)
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &d in digits.get(at..).unwrap_or_default() {
        out.push(char::from(d));
    }
}

/// A 1-based line and column in the source document (columns count
/// Unicode scalar values, as editors do).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub line: u32,
    pub col: u32,
}

impl Position {
    pub const fn new(line: u32, col: u32) -> Self {
        Position { line, col }
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// How a primitive value was written in JSON. XML values are read as
/// [`ValueKind::String`] until a typing pass (which knows the FHIR type)
/// sets the right kind for JSON output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ValueKind {
    #[default]
    String,
    /// A JSON number; the text is kept exactly as written (never through f64).
    Number,
    Boolean,
}

/// Limits and switches for the readers. The limits exist so that hostile
/// input cannot exhaust the stack or memory; exceeding one is a
/// [`ParseError`] (with the position where the limit was hit), never a
/// panic or an abort.
///
/// ```
/// use fhirreg_element::{json, xml, ParseOptions};
/// let opts = ParseOptions { max_depth: 4, ..ParseOptions::default() };
/// let deep = br#"{"resourceType":"Basic","a":[[[[1]]]]}"#;
/// let err = json::parse(deep, &opts).unwrap_err();
/// assert!(err.message.contains("deeper than"));
/// let big = ParseOptions { max_size: 10, ..ParseOptions::default() };
/// assert!(xml::parse(br#"<Basic xmlns="http://hl7.org/fhir"/>"#, &big).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// Maximum nesting depth: objects and arrays both count in JSON (so
    /// `{"a":[{"b":1}]}` is 3 deep), elements in XML (the XHTML inside a
    /// narrative `div` does not count: it is skipped iteratively).
    ///
    /// The XML reader is iterative. The JSON reader recurses, and also stops
    /// when it has used 512 KiB of stack, whatever this says (in optimised
    /// builds that is well over 512 levels, in debug builds about 250).
    pub max_depth: usize,
    /// Maximum document size in bytes, checked before anything is read.
    /// Memory use is a small multiple of the size (the element tree).
    pub max_size: usize,
    /// JSON: accept `//` and `/* */` comments silently. When false (the
    /// default) comments are still skipped, and reported once as an error
    /// issue [`Msg::JsonComment`].
    pub allow_json_comments: bool,
}

/// Default maximum nesting depth (512): far deeper than any real FHIR
/// resource (the deepest core paths are ~20 levels), far shallower than the
/// stack.
pub const DEFAULT_MAX_DEPTH: usize = 512;
/// Default maximum document size: 256 MiB.
pub const DEFAULT_MAX_SIZE: usize = 256 * 1024 * 1024;

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_depth: DEFAULT_MAX_DEPTH,
            max_size: DEFAULT_MAX_SIZE,
            allow_json_comments: false,
        }
    }
}

/// A document that cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at {pos}")]
pub struct ParseError {
    pub message: String,
    pub pos: Position,
}

impl ParseError {
    pub fn new(message: impl Into<String>, pos: Position) -> Self {
        ParseError {
            message: message.into(),
            pos,
        }
    }
}

/// The serialisation format of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Guess the format from the first non-whitespace byte (after a BOM).
    /// `//` and `/* */` comments before it are skipped: JSON with comments
    /// is read (and the comments reported) by the JSON reader, as the HL7
    /// validator does.
    ///
    /// ```
    /// use fhirreg_element::Format;
    /// assert_eq!(Format::sniff(b"// note\n{}"), Some(Format::Json));
    /// assert_eq!(Format::sniff(b"/* a */ <x/>"), Some(Format::Xml));
    /// assert_eq!(Format::sniff(b"/ {}"), None);
    /// ```
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        let mut rest = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        // Each round removes at least one byte: bounded by the input length.
        loop {
            let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
            rest = rest.get(start..)?;
            if let Some(after) = rest.strip_prefix(b"//") {
                let end = after.iter().position(|&b| b == b'\n')?;
                rest = after.get(end..)?;
            } else if let Some(after) = rest.strip_prefix(b"/*") {
                let end = after.windows(2).position(|w| w == b"*/")?;
                rest = after.get(end + 2..)?;
            } else {
                break;
            }
        }
        match rest.first()? {
            b'{' => Some(Format::Json),
            b'<' => Some(Format::Xml),
            _ => None,
        }
    }
}

/// Parse a document in the given format.
pub fn parse(bytes: &[u8], format: Format, options: &ParseOptions) -> Result<Document, ParseError> {
    match format {
        Format::Json => json::parse(bytes, options),
        Format::Xml => xml::parse(bytes, options),
    }
}
