//! FHIR JSON reader and writer.
//!
//! The reader is a hand-written single-pass tokenizer (no serde): it keeps
//! the 1-based line:column of every node and the exact text of numbers, and
//! applies the FHIR JSON rules (<https://hl7.org/fhir/R4/json.html>) while it
//! builds the [`Element`] tree:
//!
//! * `resourceType` marks a resource (the root, `contained`,
//!   `Bundle.entry.resource`, ...) and is not a child;
//! * `_name` siblings are merged into the `name` elements (arrays aligned by
//!   index with `null` placeholders);
//! * duplicate keys, empty strings/objects/arrays and stray `null`s are
//!   reported as error [`Issue`]s in [`Document::issues`] (the first of
//!   duplicated keys wins, as in the HL7 validator);
//! * `fhir_comments` is ignored.
//!
//! Like the HL7 validator, some broken syntax is read anyway and reported
//! as an error issue: `//` and `/* */` comments (once per document, unless
//! [`ParseOptions::allow_json_comments`]), an extra comma before `]`/`}`, a
//! missing comma between items, unquoted property names and unquoted values
//! (read as strings).
//!
//! Issue messages (the `Json*` messages of [`Msg`], severity error;
//! [`Msg::JsonNoResourceType`] is fatal, at expression `$`, and then only
//! the syntax findings are kept): no or an invalid `resourceType`,
//! duplicate properties, empty strings, objects and arrays, `null`s,
//! nested arrays, `_name` arrays out of line with `name`, `_name` of the
//! wrong shape or next to a complex property, and the lenient syntax
//! (comments, extra and missing commas, unquoted names and values).
//! Their `expression` is syntactic (`Patient.name[0].given[1]`: an index
//! only for array items) and `pos` is the offending key or value.
//!
//! Malformed JSON (bad syntax, invalid UTF-8, invalid escapes, trailing
//! garbage, nesting deeper than [`ParseOptions::max_depth`], input larger
//! than [`ParseOptions::max_size`]) is a [`ParseError`] with a position.
//!
//! ```
//! use fhirreg_element::{json, ParseOptions, Position};
//! let src = br#"{"resourceType":"Patient","name":[{"given":["Ann",null],"_given":[null,{"id":"g2"}]}]}"#;
//! let doc = json::parse(src, &ParseOptions::default()).unwrap();
//! assert!(doc.issues.is_empty());
//! let name = doc.root().child("name").unwrap();
//! let given: Vec<_> = name.children_named("given").collect();
//! assert_eq!(given[0].value(), Some("Ann"));
//! assert_eq!(given[1].value(), None);
//! assert_eq!(given[1].child_value("id"), Some("g2"));
//! assert_eq!(name.pos(), Position::new(1, 35)); // array items: the item itself
//! // And back:
//! assert_eq!(json::write(doc.root(), false), std::str::from_utf8(src).unwrap());
//! ```

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use crate::locate::Locator;
use crate::message::{Args, Msg};
use crate::tree::{flags, StrRef};
use crate::{args, Document, Element, Issue, ParseError, ParseOptions, Position, ValueKind};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A JSON value as read, before the FHIR conversion of its parent object.
/// Strings are already in the document's buffer; objects are already
/// nodes' children (node ids).
enum JVal {
    Str(StrRef, bool),
    Num(StrRef),
    /// `true` or `false` (the word in the document's buffer).
    Bool(StrRef),
    Null,
    Obj(Obj),
    Arr(Vec<(Position, JVal)>),
}

/// An object already converted to FHIR children (node ids).
struct Obj {
    children: Vec<u32>,
    resource_type: Option<StrRef>,
}

struct Prop<'a> {
    key: Cow<'a, str>,
    key_pos: Position,
    /// Byte offset of the value (its position is only needed for an
    /// issue, so it is computed then).
    val_at: usize,
    val: JVal,
}

struct Parser<'a> {
    b: &'a [u8],
    /// `b` as text (checked to be UTF-8).
    text: &'a str,
    i: usize,
    /// The tree being built.
    doc: Document,
    loc: Locator<'a>,
    issues: Vec<Issue>,
    /// Syntactic path of the current node, without the root resource type
    /// (prefixed at the end, when the root's `resourceType` is known).
    path: String,
    depth: usize,
    max_depth: usize,
    /// Address of a local of [`parse`]: the reader recurses, and stops when
    /// it has used [`STACK_BUDGET`] bytes below it, whatever `max_depth` says.
    stack_base: usize,
    allow_comments: bool,
    comment_reported: bool,
}

/// Stack the JSON reader may use for nesting (it recurses, about 0.5 to
/// 2 KiB per level depending on the build), small enough for 1 MiB wasm
/// stacks and 2 MiB test threads.
const STACK_BUDGET: usize = 512 * 1024;

#[inline(always)]
fn stack_addr() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Read a FHIR JSON document.
///
/// Returns the element tree plus the FHIR JSON rule violations as issues;
/// a document that is not JSON (or exceeds the limits in `options`) is a
/// [`ParseError`]. A UTF-8 byte order mark is skipped.
///
/// ```
/// use fhirreg_element::{json, ParseOptions};
/// let doc = json::parse(br#"{"resourceType":"Observation","valueQuantity":{"value":1.50}}"#,
///                       &ParseOptions::default()).unwrap();
/// let q = doc.root().child("valueQuantity").unwrap();
/// assert_eq!(q.child_value("value"), Some("1.50"));
///
/// let err = json::parse(b"{\"resourceType\":\"Patient\"", &ParseOptions::default()).unwrap_err();
/// assert_eq!(err.pos.line, 1);
/// ```
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Document, ParseError> {
    if bytes.len() > options.max_size {
        return Err(ParseError::new(
            format!(
                "the document is {} bytes, more than the limit of {} bytes",
                bytes.len(),
                options.max_size
            ),
            Position::new(1, 1),
        ));
    }
    let b = bytes.strip_prefix(BOM).unwrap_or(bytes);
    // The whole input is checked to be UTF-8 once (fast, vectorised);
    // strings are then slices of it, not checked again one by one.
    let text = match std::str::from_utf8(b) {
        Ok(t) => t,
        Err(e) => {
            let pos = Locator::new(b).pos(e.valid_up_to());
            return Err(ParseError::new("invalid UTF-8", pos));
        }
    };
    let mut p = Parser {
        b,
        text,
        i: 0,
        // A node per ~40 bytes, in practice. Names and values are spans of
        // the source text; an unescaped string is shorter than its source,
        // so all of them fit in as much again (the buffer never moves).
        doc: Document::over_source(text, b.len() / 40 + 4, b.len() + 16),
        // Line starts are told by `skip_ws` and `comment`, the only places
        // a newline can be in a document that reads (one in a string is an
        // error at that byte, on the line before it).
        loc: Locator::fed(b),
        issues: Vec::new(),
        path: String::new(),
        depth: 0,
        max_depth: options.max_depth,
        stack_base: stack_addr(),
        allow_comments: options.allow_json_comments,
        comment_reported: false,
    };
    p.skip_ws();
    let root_pos = p.here();
    match p.peek() {
        None => {
            return Err(ParseError::new(
                "empty document: expected a JSON object",
                root_pos,
            ))
        }
        Some(b'{') => {}
        Some(_) => {
            return Err(ParseError::new(
                "the root of a FHIR JSON document must be an object",
                root_pos,
            ))
        }
    }
    let obj = p.parse_object()?;
    p.skip_ws();
    if p.i < p.b.len() {
        let pos = p.here();
        return Err(ParseError::new(
            "unexpected content after the end of the JSON document",
            pos,
        ));
    }
    let mut doc = p.doc;
    let name = obj.resource_type.unwrap_or_else(|| doc.push_str(""));
    let root = doc.new_node(name, root_pos);
    doc.set_children(root, &obj.children);
    if let Some(rt) = obj.resource_type {
        doc.set_resource_type_span(root, rt);
    }
    doc.set_root(root);
    doc.mark_read_from_json();
    let mut issues = p.issues;
    if obj.resource_type.is_none() {
        // Not a FHIR resource: the FHIR JSON rules (empty arrays, nulls,
        // `_name` shapes) do not apply to it, only the syntax findings do.
        // One fatal issue at `$`, as the HL7 validator reports it.
        issues.retain(|i| SYNTAX_ISSUES.contains(&i.msg));
        let fatal = Issue::new(Msg::JsonNoResourceType, args![], "$", Some(root_pos));
        issues.insert(0, fatal);
    }
    let root_name = doc.root().name().to_string();
    if !root_name.is_empty() {
        for issue in &mut issues {
            issue.expression = if issue.expression.is_empty() {
                root_name.clone()
            } else {
                format!("{root_name}.{}", issue.expression)
            };
        }
    }
    doc.issues = issues;
    Ok(doc)
}

/// Findings about the JSON syntax itself (read anyway, like the HL7
/// validator), as opposed to the FHIR rules for resources.
const SYNTAX_ISSUES: &[Msg] = &[
    Msg::JsonDuplicateProperty,
    Msg::JsonComment,
    Msg::JsonExtraCommaArray,
    Msg::JsonExtraCommaObject,
    Msg::JsonMissingComma,
    Msg::JsonUnquotedName,
    Msg::JsonUnquotedValue,
];

impl<'a> Parser<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn here(&mut self) -> Position {
        self.loc.pos(self.i)
    }

    #[inline(never)]
    fn err<T>(&mut self, at: usize, msg: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError::new(msg, self.loc.pos(at)))
    }

    #[inline(never)]
    fn issue(&mut self, msg: Msg, args: Args, expr: String, pos: Position) {
        self.issues.push(Issue::new(msg, args, expr, Some(pos)));
    }

    #[inline]
    fn skip_ws(&mut self) {
        loop {
            while let Some(&c @ (b' ' | b'\t' | b'\n' | b'\r')) = self.b.get(self.i) {
                self.i += 1;
                if c == b'\n' {
                    self.loc.line_start(self.i);
                }
                // Indentation (a fifth of pretty-printed FHIR JSON) eight
                // spaces at a time.
                while let Some(w) = self.b.get(self.i..self.i + 8) {
                    if w != b"        " {
                        break;
                    }
                    self.i += 8;
                }
            }
            if self.peek() != Some(b'/') || !self.comment() {
                return;
            }
        }
    }

    /// At a `/`: skip a `//` or `/* */` comment (JSON5-style, which some
    /// FHIR tools write) and report it once unless allowed. Returns false
    /// when this is not a complete comment (the caller then reports the
    /// unexpected character).
    #[inline(never)]
    fn comment(&mut self) -> bool {
        let start = self.i;
        let rest = self.b.get(start + 2..).unwrap_or_default();
        let end = match self.b.get(start + 1) {
            Some(b'/') => memchr::memchr(b'\n', rest).map_or(self.b.len(), |k| start + 2 + k),
            Some(b'*') => match memchr::memmem::find(rest, b"*/") {
                Some(k) => start + 2 + k + 2,
                None => return false,
            },
            _ => return false,
        };
        if !self.allow_comments && !self.comment_reported {
            self.comment_reported = true;
            let pos = self.loc.pos(start);
            let expr = self.path.clone();
            self.issues
                .push(Issue::new(Msg::JsonComment, args![], expr, Some(pos)));
        }
        for k in memchr::memchr_iter(b'\n', self.b.get(start..end).unwrap_or_default()) {
            self.loc.line_start(start + k + 1);
        }
        self.i = end;
        true
    }

    #[inline(never)]
    fn unexpected<T>(&mut self, expected: &str) -> Result<T, ParseError> {
        let at = self.i;
        match self.peek() {
            None => self.err(at, format!("unexpected end of input: expected {expected}")),
            Some(c) if c.is_ascii_graphic() => self.err(
                at,
                format!("unexpected character '{}': expected {expected}", c as char),
            ),
            Some(c) => self.err(
                at,
                format!("unexpected byte 0x{c:02X}: expected {expected}"),
            ),
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.stack_base.abs_diff(stack_addr()) > STACK_BUDGET {
            let at = self.i;
            return self.err(
                at,
                "JSON nesting is deeper than the reader's stack budget allows",
            );
        }
        if self.depth > self.max_depth {
            let at = self.i;
            let max = self.max_depth;
            return self.err(
                at,
                format!("JSON nesting is deeper than the limit of {max}"),
            );
        }
        Ok(())
    }

    fn parse_value(&mut self) -> Result<JVal, ParseError> {
        match self.peek() {
            Some(b'{') => Ok(JVal::Obj(self.parse_object()?)),
            Some(b'[') => Ok(JVal::Arr(self.parse_array()?)),
            Some(b'"') => {
                let s = self.parse_string()?;
                let empty = s.is_empty();
                Ok(JVal::Str(self.intern(&s), empty))
            }
            Some(b'-' | b'0'..=b'9') => {
                let n = self.parse_number()?;
                Ok(JVal::Num(self.intern(n)))
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                let word = self.bare_word();
                match word {
                    "true" | "false" => Ok(JVal::Bool(self.intern(word))),
                    "null" => Ok(JVal::Null),
                    _ => {
                        // Like the HL7 validator: an error, read as a string,
                        // reported on the array item ('item') or on the object
                        // that holds the property.
                        let word = word.to_string();
                        let (key, expr) = if self.path.ends_with(']') {
                            ("item".to_string(), self.path.clone())
                        } else {
                            match self.path.rsplit_once('.') {
                                Some((parent, key)) => (key.to_string(), parent.to_string()),
                                None => (self.path.clone(), String::new()),
                            }
                        };
                        let pos = self.loc.pos(start);
                        self.issue(Msg::JsonUnquotedValue, args![key, &word], expr, pos);
                        Ok(JVal::Str(self.doc.push_str(&word), word.is_empty()))
                    }
                }
            }
            _ => self.unexpected("a JSON value"),
        }
    }

    /// A run of `[A-Za-z0-9_.-]` (an unquoted name or value, or a literal).
    fn bare_word(&mut self) -> &'a str {
        let (b, text): (&'a [u8], &'a str) = (self.b, self.text);
        let start = self.i;
        while let Some(c) = b.get(self.i) {
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-') {
                self.i += 1;
            } else {
                break;
            }
        }
        // ASCII by construction.
        text.get(start..self.i).unwrap_or_default()
    }

    /// Report a lenient-syntax problem (extra or missing comma) at the
    /// current byte; the reader goes on, like the HL7 validator.
    #[inline(never)]
    fn syntax_issue(&mut self, msg: Msg) {
        let pos = self.here();
        let expr = self.path.clone();
        self.issues.push(Issue::new(msg, args![], expr, Some(pos)));
    }

    #[inline(never)]
    fn parse_number(&mut self) -> Result<&'a str, ParseError> {
        let start = self.i;
        let mut j = start;
        let digits = |b: &[u8], mut j: usize| {
            while let Some(b'0'..=b'9') = b.get(j) {
                j += 1;
            }
            j
        };
        if self.b.get(j) == Some(&b'-') {
            j += 1;
        }
        match self.b.get(j) {
            Some(b'0') => j += 1,
            Some(b'1'..=b'9') => j = digits(self.b, j + 1),
            _ => return self.err(start, "invalid number"),
        }
        if self.b.get(j) == Some(&b'.') {
            let k = digits(self.b, j + 1);
            if k == j + 1 {
                return self.err(start, "invalid number: no digits after the decimal point");
            }
            j = k;
        }
        if let Some(b'e' | b'E') = self.b.get(j) {
            j += 1;
            if let Some(b'+' | b'-') = self.b.get(j) {
                j += 1;
            }
            let k = digits(self.b, j);
            if k == j {
                return self.err(start, "invalid number: no digits in the exponent");
            }
            j = k;
        }
        if let Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') = self.b.get(j) {
            return self.err(start, "invalid number");
        }
        self.i = j;
        // The slice is ASCII by construction.
        let text: &'a str = self.text;
        Ok(text.get(start..j).unwrap_or_default())
    }

    fn utf8(&mut self, from: usize, to: usize) -> Result<&'a str, ParseError> {
        let text: &'a str = self.text;
        match text.get(from..to) {
            Some(s) => Ok(s),
            // Slices end at ASCII delimiters, so this is a reader bug.
            None => self.err(from, "string does not end on a character boundary"),
        }
    }

    /// At the opening quote; returns the unescaped string (borrowed from
    /// the input when it has no escapes).
    #[inline(never)]
    fn parse_string(&mut self) -> Result<Cow<'a, str>, ParseError> {
        let open = self.i;
        let start = open + 1;
        // Fast path: skip plain bytes eight at a time, then no escapes.
        let mut j = start + plain_run(self.b.get(start..).unwrap_or_default());
        loop {
            match self.b.get(j) {
                None => return self.err(open, "unterminated string"),
                Some(b'"') => {
                    let s = self.utf8(start, j)?;
                    self.i = j + 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(&c) if c < 0x20 => {
                    return self.err(j, "control character in a string (must be escaped)")
                }
                Some(_) => j += 1,
            }
        }
        let mut out = String::with_capacity(j - start + 16);
        let mut seg = start;
        loop {
            // (escaped strings are mostly narratives: plain runs between
            // the escapes are long)
            j += plain_run(self.b.get(j..).unwrap_or_default());
            match self.b.get(j) {
                None => return self.err(open, "unterminated string"),
                Some(b'"') => {
                    out.push_str(self.utf8(seg, j)?);
                    self.i = j + 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    out.push_str(self.utf8(seg, j)?);
                    let esc = j;
                    let c = match self.b.get(j + 1) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hi = self.hex4(j + 2)?;
                            j += 6;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                let lo = if self.b.get(j) == Some(&b'\\')
                                    && self.b.get(j + 1) == Some(&b'u')
                                {
                                    self.hex4(j + 2)?
                                } else {
                                    0
                                };
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return self
                                        .err(esc, "unpaired UTF-16 surrogate in \\u escape");
                                }
                                j += 6;
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return self.err(esc, "unpaired UTF-16 surrogate in \\u escape");
                            } else {
                                hi
                            };
                            match char::from_u32(cp) {
                                Some(c) => out.push(c),
                                None => return self.err(esc, "invalid \\u escape"),
                            }
                            seg = j;
                            continue;
                        }
                        _ => return self.err(esc, "invalid escape sequence in a string"),
                    };
                    out.push(c);
                    j += 2;
                    seg = j;
                }
                Some(&c) if c < 0x20 => {
                    return self.err(j, "control character in a string (must be escaped)")
                }
                Some(_) => j += 1,
            }
        }
    }

    fn hex4(&mut self, at: usize) -> Result<u32, ParseError> {
        let mut v = 0u32;
        for k in 0..4 {
            let d = match self.b.get(at + k) {
                Some(&c @ b'0'..=b'9') => c - b'0',
                Some(&c @ b'a'..=b'f') => c - b'a' + 10,
                Some(&c @ b'A'..=b'F') => c - b'A' + 10,
                _ => {
                    return self.err(
                        at.saturating_sub(2),
                        "invalid \\u escape: expected 4 hex digits",
                    )
                }
            };
            v = v * 16 + u32::from(d);
        }
        Ok(v)
    }

    fn parse_array(&mut self) -> Result<Vec<(Position, JVal)>, ParseError> {
        self.enter()?;
        self.i += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
        } else {
            loop {
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.syntax_issue(Msg::JsonExtraCommaArray);
                    self.i += 1;
                    break;
                }
                let pos = self.here();
                let base = self.path.len();
                crate::push_index(&mut self.path, items.len());
                let v = self.parse_value()?;
                self.path.truncate(base);
                items.push((pos, v));
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b']') => {
                        self.i += 1;
                        break;
                    }
                    Some(b'"' | b'{' | b'[' | b'-' | b'0'..=b'9') => {
                        self.syntax_issue(Msg::JsonMissingComma);
                    }
                    Some(c) if c.is_ascii_alphabetic() => {
                        self.syntax_issue(Msg::JsonMissingComma);
                    }
                    _ => return self.unexpected("',' or ']'"),
                }
            }
        }
        self.depth -= 1;
        Ok(items)
    }

    fn parse_object(&mut self) -> Result<Obj, ParseError> {
        let open_pos = self.here();
        self.enter()?;
        self.i += 1;
        let mut props: Vec<Prop<'a>> = Vec::new();
        let mut resource_type = None;
        let mut any_key = false;
        let mut seen_rt = false;
        let mut seen: Option<HashSet<Cow<'a, str>>> = None;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            loop {
                self.skip_ws();
                let key_pos = self.here();
                let key = match self.peek() {
                    Some(b'"') => self.parse_string()?,
                    Some(b'}') if any_key => {
                        self.syntax_issue(Msg::JsonExtraCommaObject);
                        self.i += 1;
                        break;
                    }
                    Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                        let word = self.bare_word();
                        let expr = self.path.clone();
                        self.issue(Msg::JsonUnquotedName, args![word], expr, key_pos);
                        Cow::Borrowed(word)
                    }
                    _ => return self.unexpected("a property name in double quotes"),
                };
                self.skip_ws();
                if self.peek() != Some(b':') {
                    return self.unexpected("':'");
                }
                self.i += 1;
                self.skip_ws();
                let val_at = self.i;
                let base = self.path.len();
                if base > 0 {
                    self.path.push('.');
                }
                self.path.push_str(&key);
                let val = self.parse_value()?;
                any_key = true;
                let dup = if key == "resourceType" {
                    std::mem::replace(&mut seen_rt, true)
                } else if let Some(set) = &mut seen {
                    !set.insert(key.clone())
                } else {
                    let d = props.iter().any(|p| p.key == key);
                    if props.len() >= 16 {
                        seen = Some(props.iter().map(|p| p.key.clone()).collect());
                    }
                    d
                };
                if dup {
                    let expr = self.path.clone();
                    self.issue(Msg::JsonDuplicateProperty, args![&*key], expr, key_pos);
                } else if key == "resourceType" {
                    match val {
                        JVal::Str(s, false) => resource_type = Some(s),
                        _ => {
                            let expr = self.path.clone();
                            let pos = self.loc.pos(val_at);
                            self.issue(Msg::JsonResourceTypeInvalid, args![], expr, pos);
                        }
                    }
                } else if key != "fhir_comments" {
                    props.push(Prop {
                        key,
                        key_pos,
                        val_at,
                        val,
                    });
                }
                self.path.truncate(base);
                self.skip_ws();
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b'}') => {
                        self.i += 1;
                        break;
                    }
                    Some(b'"') => {
                        self.syntax_issue(Msg::JsonMissingComma);
                    }
                    _ => return self.unexpected("',' or '}'"),
                }
            }
        }
        self.depth -= 1;
        if !any_key {
            let expr = self.path.clone();
            self.issue(Msg::JsonEmptyObject, args![], expr, open_pos);
        }
        let children = self.build_children(props);
        Ok(Obj {
            children,
            resource_type,
        })
    }

    /// Convert an object's properties into FHIR children (node ids),
    /// merging `_name` siblings into `name`.
    #[inline(never)]
    fn build_children(&mut self, mut props: Vec<Prop<'a>>) -> Vec<u32> {
        let n = props.len();
        // For a normal property the index of its `_` sibling; for a `_`
        // property the index of its base.
        // (empty, no allocation, when there is no `_` property)
        let mut partner: Vec<Option<usize>> = Vec::new();
        if props.iter().any(|p| p.key.starts_with('_')) {
            partner.resize(n, None);
            let pairs: Vec<(usize, usize)> = if n <= 12 {
                props
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| {
                        let base = p.key.strip_prefix('_')?;
                        props.iter().position(|q| q.key == base).map(|j| (i, j))
                    })
                    .collect()
            } else {
                let idx: HashMap<&str, usize> = props
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (&*p.key, i))
                    .collect();
                props
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| {
                        let base = p.key.strip_prefix('_')?;
                        idx.get(base).map(|&j| (i, j))
                    })
                    .collect()
            };
            for (i, j) in pairs {
                if let Some(s) = partner.get_mut(i) {
                    *s = Some(j);
                }
                if let Some(s) = partner.get_mut(j) {
                    *s = Some(i);
                }
            }
        }
        let mut children = Vec::with_capacity(n);
        for i in 0..n {
            let pt = partner.get(i).copied().flatten();
            let Some(p) = props.get_mut(i) else { break };
            let is_under = p.key.starts_with('_');
            if is_under && pt.is_some() {
                continue; // merged when its base is handled
            }
            let key = std::mem::take(&mut p.key);
            let val = std::mem::replace(&mut p.val, JVal::Null);
            let (key_pos, val_pos) = (p.key_pos, At::Byte(p.val_at));
            if let Some(base) = key.strip_prefix('_') {
                self.emit(
                    &mut children,
                    base,
                    key_pos,
                    Slot::Absent,
                    Some((key_pos, val_pos, val)),
                );
            } else {
                let under = pt.and_then(|k| props.get_mut(k)).map(|u| {
                    (
                        u.key_pos,
                        At::Byte(u.val_at),
                        std::mem::replace(&mut u.val, JVal::Null),
                    )
                });
                self.emit(
                    &mut children,
                    &key,
                    key_pos,
                    Slot::Present(val_pos, val),
                    under,
                );
            }
        }
        children
    }

    /// The syntactic path of `key` (or `_key`), optionally indexed, built
    /// only when an issue needs it.
    fn at(&self, l: Loc) -> String {
        let mut e = String::with_capacity(self.path.len() + l.key.len() + 8);
        e.push_str(&self.path);
        if !e.is_empty() {
            e.push('.');
        }
        if l.under {
            e.push('_');
        }
        e.push_str(l.key);
        if let Some(i) = l.idx {
            crate::push_index(&mut e, i);
        }
        e
    }

    #[inline(never)]
    fn issue_at(&mut self, msg: Msg, args: Args, l: Loc, at: impl Into<At>) {
        let expr = self.at(l);
        let pos = match at.into() {
            At::Pos(p) => p,
            At::Byte(b) => self.loc.pos(b),
        };
        self.issue(msg, args, expr, pos);
    }

    /// A new node named `key` (its children are given when complete).
    fn node(&mut self, key: &str, pos: Position) -> u32 {
        let name = self.intern(key);
        self.doc.new_node(name, pos)
    }

    /// `s` in the document's buffer: a span of the source text when `s` is
    /// a slice of it (no copy), else a copy (an unescaped string).
    fn intern(&mut self, s: &str) -> StrRef {
        let base = self.text.as_ptr() as usize;
        let at = (s.as_ptr() as usize).wrapping_sub(base);
        if at
            .checked_add(s.len())
            .is_some_and(|end| end <= self.text.len())
        {
            if let Some(span) = self.doc.source_span(at, s.len()) {
                return span;
            }
        }
        self.doc.push_str(s)
    }

    #[inline(never)]
    fn emit(
        &mut self,
        out: &mut Vec<u32>,
        key: &str,
        key_pos: Position,
        prim: Slot,
        under: Option<(Position, At, JVal)>,
    ) {
        let base = Loc::new(key, false, None);
        let ubase = Loc::new(key, true, None);
        match prim {
            Slot::Present(val_pos, JVal::Arr(items)) => {
                if items.is_empty() {
                    self.issue_at(Msg::JsonEmptyArray, args![], base, val_pos);
                }
                let under_items = match under {
                    None => Vec::new(),
                    Some((under_key_pos, _, JVal::Arr(u))) => {
                        if u.len() != items.len() {
                            self.issue_at(
                                Msg::JsonArrayAlignment,
                                args![key, items.len(), u.len()],
                                ubase,
                                under_key_pos,
                            );
                        }
                        u
                    }
                    Some((_, under_val_pos, _)) => {
                        self.issue_at(
                            Msg::JsonUnderscoreNotArray,
                            args![key],
                            ubase,
                            under_val_pos,
                        );
                        Vec::new()
                    }
                };
                self.emit_items(out, key, items, under_items);
            }
            Slot::Absent => match under {
                Some((_, under_val_pos, JVal::Arr(u))) => {
                    if u.is_empty() {
                        self.issue_at(Msg::JsonEmptyArray, args![], ubase, under_val_pos);
                    }
                    self.emit_items(out, key, Vec::new(), u);
                }
                Some((under_key_pos, under_val_pos, v)) => {
                    let el = self.node(key, under_key_pos);
                    let mut kids = Vec::new();
                    self.merge_under(el, &mut kids, v, ubase, under_val_pos);
                    self.doc.set_children(el, &kids);
                    out.push(el);
                }
                None => {}
            },
            Slot::Present(val_pos, v) => {
                let complex = matches!(v, JVal::Obj(_));
                let el = self.node(key, key_pos);
                let mut kids = Vec::new();
                let keep = self.fill(el, &mut kids, v, base, val_pos, false);
                if let Some((under_key_pos, under_val_pos, uv)) = under {
                    if complex {
                        self.issue_at(Msg::JsonUnderscoreComplex, args![key], ubase, under_key_pos);
                    } else {
                        self.merge_under(el, &mut kids, uv, ubase, under_val_pos);
                    }
                }
                if keep || !kids.is_empty() {
                    self.doc.set_children(el, &kids);
                    out.push(el);
                }
            }
        }
    }

    #[inline(never)]
    fn emit_items(
        &mut self,
        out: &mut Vec<u32>,
        key: &str,
        items: Vec<(Position, JVal)>,
        under_items: Vec<(Position, JVal)>,
    ) {
        let n = items.len().max(under_items.len());
        out.reserve(n);
        let mut items = items.into_iter();
        let mut under_items = under_items.into_iter();
        for i in 0..n {
            let item = items.next();
            let under = under_items.next();
            let pos = match (&item, &under) {
                (Some((p, _)), _) | (None, Some((p, _))) => *p,
                (None, None) => break,
            };
            let el = self.node(key, pos);
            self.doc.node_flags(el, flags::IN_ARRAY);
            let mut kids = Vec::new();
            let here = Loc::new(key, false, Some(i));
            let mut has_prim = false;
            let mut complex = false;
            if let Some((p, v)) = item {
                complex = matches!(v, JVal::Obj(_));
                has_prim = self.fill(el, &mut kids, v, here, p, true);
            }
            let mut has_under = false;
            if let Some((p, v)) = under {
                if !matches!(v, JVal::Null) {
                    has_under = true;
                    let uhere = Loc::new(key, true, Some(i));
                    if complex {
                        self.issue_at(Msg::JsonUnderscoreComplex, args![key], uhere, p);
                        has_under = false;
                    } else {
                        self.merge_under(el, &mut kids, v, uhere, p);
                    }
                }
            }
            if !has_prim && !has_under && kids.is_empty() {
                self.issue_at(Msg::JsonNullItem, args![], here, pos);
                continue;
            }
            self.doc.set_children(el, &kids);
            out.push(el);
        }
    }

    /// Fill node `el` from a base value (its object children go to
    /// `kids`). Returns whether the value was a real (non-null) value.
    fn fill(
        &mut self,
        el: u32,
        kids: &mut Vec<u32>,
        v: JVal,
        l: Loc,
        pos: impl Into<At>,
        in_array: bool,
    ) -> bool {
        match v {
            JVal::Str(s, empty) => {
                if empty {
                    self.issue_at(Msg::JsonEmptyString, args![], l, pos);
                }
                self.doc.set_value_span(el, s, ValueKind::String);
                true
            }
            JVal::Num(s) => {
                self.doc.set_value_span(el, s, ValueKind::Number);
                true
            }
            JVal::Bool(s) => {
                self.doc.set_value_span(el, s, ValueKind::Boolean);
                true
            }
            JVal::Obj(o) => {
                if kids.is_empty() {
                    *kids = o.children;
                } else {
                    kids.extend(o.children);
                }
                if let Some(rt) = o.resource_type {
                    self.doc.set_resource_type_span(el, rt);
                }
                true
            }
            JVal::Null => {
                if !in_array {
                    self.issue_at(Msg::JsonNull, args![], l, pos);
                }
                false
            }
            JVal::Arr(_) => {
                self.issue_at(Msg::JsonNestedArray, args![], l, pos);
                false
            }
        }
    }

    /// Merge the content of a `_name` value into primitive node `el`.
    /// (Null array items are placeholders and never reach here.)
    fn merge_under(&mut self, el: u32, kids: &mut Vec<u32>, v: JVal, l: Loc, pos: impl Into<At>) {
        match v {
            JVal::Obj(o) => {
                self.doc.node_flags(el, flags::PRIMITIVE);
                if kids.is_empty() {
                    *kids = o.children;
                } else {
                    kids.extend(o.children);
                }
            }
            JVal::Null => self.issue_at(Msg::JsonNull, args![], l, pos),
            _ => self.issue_at(Msg::JsonUnderscoreShape, args![], l, pos),
        }
    }
}

/// The length of the leading run of bytes that need no attention inside a
/// JSON string (not `"`, not `\\`, not a control character), found eight
/// bytes at a time: a multiple of 8, so the caller looks at the bytes after
/// it one by one. Long values (base64 attachments, narratives) are most of
/// a document's bytes; the reader skips them with it, and a writer can
/// copy them without escaping.
///
/// ```
/// use fhirreg_element::json::plain_run;
/// assert_eq!(plain_run(b"0123456789abcdef\"0123"), 16);
/// assert_eq!(plain_run(b"01234\n6789abcdef"), 0);
/// assert_eq!(plain_run(b"short"), 0);
/// ```
pub fn plain_run(b: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut n = 0;
    for chunk in b.chunks_exact(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let x = u64::from_le_bytes(w);
        // A byte below 0x20: (x - 0x20..) borrows into its high bit when
        // the byte itself has no high bit.
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
        let quote = has_zero(x ^ (ONES * u64::from(b'"')));
        let backslash = has_zero(x ^ (ONES * u64::from(b'\\')));
        if control | quote | backslash != 0 {
            break;
        }
        n += 8;
    }
    n
}

/// Where an issue is, relative to the current object's path.
#[derive(Clone, Copy)]
struct Loc<'k> {
    key: &'k str,
    under: bool,
    idx: Option<usize>,
}

impl<'k> Loc<'k> {
    fn new(key: &'k str, under: bool, idx: Option<usize>) -> Self {
        Loc { key, under, idx }
    }
}

enum Slot {
    Absent,
    Present(At, JVal),
}

/// Where a value is, for an issue: its position, or its byte offset when
/// the position has not been needed yet.
#[derive(Clone, Copy)]
enum At {
    Pos(Position),
    Byte(usize),
}

impl From<Position> for At {
    fn from(p: Position) -> At {
        At::Pos(p)
    }
}

// ---------------------------------------------------------------- writer

/// Write an element tree as FHIR JSON (pretty when `pretty`: two-space
/// indentation, one property per line).
///
/// Resources start with `resourceType`; children with the same name are
/// grouped into one property (an array when there are several or when
/// `in_array` is set); primitives are written as string, number or boolean
/// according to [`ValueKind`], and their `id`/`extension` children go to
/// the `_name` sibling (arrays aligned with `null`).
///
/// An element with no value is written as a primitive (`_name` only) when
/// [`Element::primitive`] is set and its children are all `id`/`extension`;
/// otherwise as an object.
///
/// ```
/// use fhirreg_element::{json, Document, Position, ValueKind};
/// let mut doc = Document::new("Patient");
/// let active = doc.add_child(doc.root().id(), "active", Position::default());
/// doc.set_value(active, "true", ValueKind::Boolean);
/// assert_eq!(json::write(doc.root(), false), r#"{"resourceType":"Patient","active":true}"#);
/// ```
pub fn write(root: Element<'_>, pretty: bool) -> String {
    let mut w = Writer {
        out: String::with_capacity(1024),
        pretty,
        indent: 0,
    };
    w.object(root);
    if pretty {
        w.out.push('\n');
    }
    w.out
}

struct Writer {
    out: String,
    pretty: bool,
    indent: usize,
}

fn is_meta(e: Element<'_>) -> bool {
    matches!(e.name(), "id" | "extension")
}

impl Writer {
    fn newline(&mut self) {
        if self.pretty {
            self.out.push('\n');
            for _ in 0..self.indent {
                self.out.push_str("  ");
            }
        }
    }

    fn key(&mut self, first: &mut bool, k: &str) {
        if !*first {
            self.out.push(',');
        }
        *first = false;
        self.newline();
        push_json_string(&mut self.out, k);
        self.out.push(':');
        if self.pretty {
            self.out.push(' ');
        }
    }

    fn object(&mut self, e: Element<'_>) {
        self.out.push('{');
        self.indent += 1;
        let mut first = true;
        if let Some(rt) = e.resource_type() {
            self.key(&mut first, "resourceType");
            push_json_string(&mut self.out, rt);
        }
        self.members(e, &mut first);
        self.indent -= 1;
        if !first {
            self.newline();
        }
        self.out.push('}');
    }

    fn members<'d>(&mut self, parent: Element<'d>, first: &mut bool) {
        // Group by name in order of first appearance.
        let count = parent.child_count();
        let mut groups: Vec<(&'d str, Vec<Element<'d>>)> = Vec::new();
        let mut index: HashMap<&'d str, usize> = HashMap::new();
        for c in parent.children() {
            let slot = if count > 8 {
                index.get(c.name()).copied()
            } else {
                groups.iter().position(|(n, _)| *n == c.name())
            };
            match slot.and_then(|i| groups.get_mut(i)) {
                Some((_, g)) => g.push(c),
                None => {
                    if count > 8 {
                        index.insert(c.name(), groups.len());
                    }
                    groups.push((c.name(), vec![c]));
                }
            }
        }
        for (name, items) in groups {
            let array = items.len() > 1 || items.iter().any(|e| e.in_array());
            let primitive = |e: &Element<'_>| {
                !e.is_resource()
                    && (e.value().is_some() || (e.primitive() && e.children().all(is_meta)))
            };
            if items.iter().all(primitive) {
                self.primitive_group(name, &items, array, first);
            } else {
                self.key(first, name);
                if array {
                    self.out.push('[');
                    self.indent += 1;
                    for (i, e) in items.iter().enumerate() {
                        if i > 0 {
                            self.out.push(',');
                        }
                        self.newline();
                        self.object(*e);
                    }
                    self.indent -= 1;
                    self.newline();
                    self.out.push(']');
                } else if let Some(e) = items.first() {
                    self.object(*e);
                }
            }
        }
    }

    fn primitive_group(
        &mut self,
        name: &str,
        items: &[Element<'_>],
        array: bool,
        first: &mut bool,
    ) {
        let any_value = items.iter().any(|e| e.value().is_some());
        let any_meta = items.iter().any(|e| e.has_children());
        if any_value {
            self.key(first, name);
            if array {
                self.out.push('[');
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                        if self.pretty {
                            self.out.push(' ');
                        }
                    }
                    self.value(*e);
                }
                self.out.push(']');
            } else if let Some(e) = items.first() {
                self.value(*e);
            }
        }
        if any_meta {
            self.key(first, &format!("_{name}"));
            let meta_obj = |w: &mut Writer, e: Element<'_>| {
                if !e.has_children() {
                    w.out.push_str("null");
                } else {
                    w.out.push('{');
                    w.indent += 1;
                    let mut f = true;
                    w.members(e, &mut f);
                    w.indent -= 1;
                    w.newline();
                    w.out.push('}');
                }
            };
            if array {
                self.out.push('[');
                self.indent += 1;
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline();
                    meta_obj(self, *e);
                }
                self.indent -= 1;
                self.newline();
                self.out.push(']');
            } else if let Some(e) = items.first() {
                meta_obj(self, *e);
            }
        }
    }

    fn value(&mut self, e: Element<'_>) {
        match (e.value(), e.value_kind()) {
            (None, _) => self.out.push_str("null"),
            (Some(v), ValueKind::Number) if is_json_number(v) => self.out.push_str(v),
            (Some(v), ValueKind::Boolean) if v == "true" || v == "false" => self.out.push_str(v),
            (Some(v), _) => push_json_string(&mut self.out, v),
        }
    }
}

fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut j = 0;
    let digits = |mut j: usize| {
        while let Some(b'0'..=b'9') = b.get(j) {
            j += 1;
        }
        j
    };
    if b.first() == Some(&b'-') {
        j = 1;
    }
    match b.get(j) {
        Some(b'0') => j += 1,
        Some(b'1'..=b'9') => j = digits(j + 1),
        _ => return false,
    }
    if b.get(j) == Some(&b'.') {
        let k = digits(j + 1);
        if k == j + 1 {
            return false;
        }
        j = k;
    }
    if let Some(b'e' | b'E') = b.get(j) {
        j += 1;
        if let Some(b'+' | b'-') = b.get(j) {
            j += 1;
        }
        let k = digits(j);
        if k == j {
            return false;
        }
        j = k;
    }
    j == b.len()
}

/// Append `s` as a JSON string literal.
/// Append `s` as a JSON string: quoted, with `"`, `\\` and the control
/// characters escaped (the short forms where JSON has them, else
/// `\u00xx`), everything else as is: what `serde_json` writes. Plain runs
/// are copied eight bytes at a time ([`plain_run`]). The resource writer
/// and the OperationOutcome writer of the `fhirreg` crate both use it.
///
/// ```
/// let mut out = String::new();
/// fhirreg_element::json::push_json_string(&mut out, "a \"b\"\n\u{1}ø");
/// assert_eq!(out, r#""a \"b\"\n\u0001ø""#);
/// ```
pub fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let (mut seg, mut i) = (0, 0);
    while let Some(rest) = bytes.get(i..) {
        i += plain_run(rest);
        let Some(&b) = bytes.get(i) else { break };
        i += 1;
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            0..=0x1F => "",
            _ => continue,
        };
        // (escapes are ASCII: `i - 1` is a character boundary)
        out.push_str(s.get(seg..i - 1).unwrap_or_default());
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        } else {
            out.push_str(esc);
        }
        seg = i;
    }
    out.push_str(s.get(seg..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Document {
        match parse(s.as_bytes(), &ParseOptions::default()) {
            Ok(d) => d,
            Err(e) => panic!("parse failed: {e}"),
        }
    }

    fn perr(s: &[u8]) -> ParseError {
        match parse(s, &ParseOptions::default()) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    #[test]
    fn positions_and_nested_resources() {
        let d = p("{\n  \"resourceType\": \"Bundle\",\n  \"entry\": [\n    {\"resource\": {\"resourceType\": \"Patient\", \"id\": \"p\"}}\n  ]\n}");
        assert!(d.issues.is_empty(), "{:?}", d.issues);
        assert_eq!(d.root().name(), "Bundle");
        assert_eq!(d.root().pos(), Position::new(1, 1));
        let entry = d.root().child("entry").unwrap();
        assert!(entry.in_array());
        assert_eq!(entry.pos(), Position::new(4, 5));
        let res = entry.child("resource").unwrap();
        assert_eq!(res.pos(), Position::new(4, 6));
        assert_eq!(res.resource_type(), Some("Patient"));
        assert_eq!(res.child_count(), 1);
        assert_eq!(res.child_value("id"), Some("p"));
    }

    #[test]
    fn primitive_siblings_merge() {
        let d = p(
            r#"{"resourceType":"Patient","birthDate":"1970","_birthDate":{"id":"b","extension":[{"url":"u","valueString":"x"}]},"_gender":{"extension":[{"url":"v","valueCode":"y"}]}}"#,
        );
        assert!(d.issues.is_empty(), "{:?}", d.issues);
        let bd = d.root().child("birthDate").unwrap();
        assert_eq!(bd.value(), Some("1970"));
        assert_eq!(bd.child_value("id"), Some("b"));
        assert_eq!(bd.child_count(), 2);
        let g = d.root().child("gender").unwrap();
        assert_eq!(g.value(), None);
        assert_eq!(g.child_count(), 1);
        assert_eq!(d.root().child_count(), 2);
    }

    #[test]
    fn rule_violations_are_issues() {
        let d = p(
            r#"{"resourceType":"Patient","active":true,"active":false,"id":"","name":[],"text":{},"gender":null,"x":[1,[2]],"given":["a"],"_given":[null,null]}"#,
        );
        let ids: Vec<_> = d
            .issues
            .iter()
            .map(|i| (i.msg, i.expression.as_str()))
            .collect();
        assert!(
            ids.contains(&(Msg::JsonDuplicateProperty, "Patient.active")),
            "{ids:?}"
        );
        assert!(
            ids.contains(&(Msg::JsonEmptyString, "Patient.id")),
            "{ids:?}"
        );
        assert!(
            ids.contains(&(Msg::JsonEmptyArray, "Patient.name")),
            "{ids:?}"
        );
        assert!(
            ids.contains(&(Msg::JsonEmptyObject, "Patient.text")),
            "{ids:?}"
        );
        assert!(ids.contains(&(Msg::JsonNull, "Patient.gender")), "{ids:?}");
        assert!(
            ids.contains(&(Msg::JsonNestedArray, "Patient.x[1]")),
            "{ids:?}"
        );
        assert!(
            ids.contains(&(Msg::JsonArrayAlignment, "Patient._given")),
            "{ids:?}"
        );
        assert!(
            ids.contains(&(Msg::JsonNullItem, "Patient.given[1]")),
            "{ids:?}"
        );
        assert_eq!(d.root().child_value("active"), Some("true"));
        let dup = d
            .issues
            .iter()
            .find(|i| i.msg == Msg::JsonDuplicateProperty)
            .unwrap();
        assert_eq!(dup.pos, Some(Position::new(1, 41)));
    }

    #[test]
    fn plain_runs_stop_before_special_bytes() {
        assert_eq!(plain_run(b"abcdefgh"), 8);
        assert_eq!(plain_run(b"abcdefghij"), 8);
        assert_eq!(plain_run(b"abc\"defghijklmnop"), 0);
        assert_eq!(plain_run(b"abcdefgh\\ijklmnop"), 8);
        assert_eq!(plain_run(b"abcdefghijklmno\n"), 8);
        assert_eq!(plain_run("éééééééé\"".as_bytes()), 16);
        for special in [b'"', b'\\', b'\n', 0x1f] {
            for i in 0..80 {
                let mut v = vec![b'x'; 80];
                v[i] = special;
                assert!(plain_run(&v) <= i, "{i}");
                assert!(plain_run(&v) + 8 > i, "{i}");
            }
        }
        assert_eq!(plain_run(&[b'x'; 80]), 80);
    }

    #[test]
    fn strings_and_numbers() {
        let d = p(
            r#"{"resourceType":"Basic","a":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","n":-1.50e+3,"z":0}"#,
        );
        assert_eq!(d.root().child_value("a"), Some("\"\\/\u{8}\u{c}\n\r\té😀"));
        let n = d.root().child("n").unwrap();
        assert_eq!(n.value(), Some("-1.50e+3"));
        assert_eq!(n.value_kind(), ValueKind::Number);
        assert_eq!(perr(br#"{"a":"\x"}"#).pos, Position::new(1, 7));
        assert_eq!(perr(br#"{"a":"\ud800"}"#).pos, Position::new(1, 7));
        assert_eq!(perr(br#"{"a":01}"#).pos, Position::new(1, 6));
        assert_eq!(perr(b"{\"a\":\"\xff\"}").pos, Position::new(1, 7));
        assert_eq!(perr(br#"{"a":1} x"#).pos, Position::new(1, 9));
        assert_eq!(perr(b"").pos, Position::new(1, 1));
        assert_eq!(perr(b"[1,2]").pos, Position::new(1, 1));
    }

    #[test]
    fn bom_missing_resource_type_and_limits() {
        let d = parse(b"\xEF\xBB\xBF{\"a\":1}", &ParseOptions::default()).unwrap();
        assert_eq!(d.issues.len(), 1);
        assert_eq!(d.issues[0].msg, Msg::JsonNoResourceType);
        assert_eq!(d.issues[0].pos, Some(Position::new(1, 1)));
        assert_eq!(d.issues[0].severity, crate::Severity::Fatal);
        assert_eq!(d.issues[0].expression, "$");
        // The FHIR rules are not applied to a document that is no resource;
        // syntax findings still are.
        let d = parse(
            br#"{"a":[],"b":null,"c":1,"c":2}"#,
            &ParseOptions::default(),
        )
        .unwrap();
        let ids: Vec<Msg> = d.issues.iter().map(|i| i.msg).collect();
        assert_eq!(ids, [Msg::JsonNoResourceType, Msg::JsonDuplicateProperty]);
        let opts = ParseOptions {
            max_depth: 3,
            max_size: 100,
            ..ParseOptions::default()
        };
        assert!(parse(br#"{"a":{"b":{"c":1}}}"#, &opts).is_ok());
        assert!(parse(br#"{"a":{"b":{"c":[1]}}}"#, &opts).is_err());
        assert!(parse(&[b' '; 101], &opts).is_err());
    }

    #[test]
    fn lenient_syntax_is_reported_and_read() {
        let d =
            p("{resourceType:\"Patient\",\"name\":[{\"given\":[Sarah,\"B\",]\"family\":\"S\",}]}");
        let got: Vec<_> = d
            .issues
            .iter()
            .map(|i| (i.msg, i.expression.as_str(), i.pos.map(|p| p.col)))
            .collect();
        assert_eq!(
            got,
            [
                (Msg::JsonUnquotedName, "Patient", Some(2)),
                (Msg::JsonUnquotedValue, "Patient.name[0].given[0]", Some(43)),
                (Msg::JsonExtraCommaArray, "Patient.name[0].given", Some(53)),
                (Msg::JsonMissingComma, "Patient.name[0]", Some(54)),
                (Msg::JsonExtraCommaObject, "Patient.name[0]", Some(67)),
            ]
        );
        let name = d.root().child("name").unwrap();
        assert_eq!(name.children_named("given").count(), 2);
        assert_eq!(name.child_value("family"), Some("S"));
        // An unquoted property value: reported on the object holding it;
        // an unquoted array item names 'item'.
        let d = p("{\"resourceType\":\"Patient\",\"address\":[{\"city\":Strahan}]}");
        assert_eq!(d.issues.len(), 1);
        assert_eq!(d.issues[0].expression, "Patient.address[0]");
        assert_eq!(d.issues[0].msg, Msg::JsonUnquotedValue);
        assert_eq!(d.issues[0].arg("name"), Some("city"));
        assert_eq!(d.issues[0].arg("value"), Some("Strahan"));
        assert!(d.issues[0].message().contains("'city'"));
        let d = p("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[Sarah]}]}");
        assert_eq!(d.issues[0].expression, "Patient.name[0].given[0]");
        assert_eq!(d.issues[0].arg("name"), Some("item"));
        assert!(perr(b"{\"a\":1 \"b\" 2}").message.contains("':'"));
        assert!(perr(b"{\"a\":[1 }").message.contains("']'"));
    }

    #[test]
    fn comments_are_read_and_reported() {
        let src = "// head\n{\"resourceType\":\"Patient\", /* c */ \"active\":true // t\n}";
        let d = p(src);
        assert_eq!(d.root().child_value("active"), Some("true"));
        assert_eq!(d.issues.len(), 1, "{:?}", d.issues);
        assert_eq!(d.issues[0].msg, Msg::JsonComment);
        assert_eq!(d.issues[0].expression, "Patient");
        assert_eq!(d.issues[0].pos, Some(Position::new(1, 1)));
        let opts = ParseOptions {
            allow_json_comments: true,
            ..ParseOptions::default()
        };
        assert!(parse(src.as_bytes(), &opts).unwrap().issues.is_empty());
        assert!(parse(b"{\"a\":1 /* open", &opts).is_err());
    }

    #[test]
    fn write_round_trip() {
        let src = r#"{"resourceType":"Patient","id":"x","extension":[{"url":"u","valueDecimal":1.00}],"name":[{"given":["a",null,"c"],"_given":[null,{"id":"g"},null]}],"_gender":{"extension":[{"url":"d","valueCode":"unknown"}]},"gender":"other","contained":[{"resourceType":"Basic","code":{"text":"t\n\"q\""}}]}"#;
        let d = p(src);
        assert!(d.issues.is_empty(), "{:?}", d.issues);
        let out = write(d.root(), false);
        let d2 = p(&out);
        assert_eq!(d2.root().child_count(), d.root().child_count());
        assert!(d.root().same_content(d2.root()));
        let pretty = write(d.root(), true);
        assert!(p(&pretty).root().same_content(d.root()));
        assert!(pretty.contains("\n  \"id\": \"x\""));
    }
}
