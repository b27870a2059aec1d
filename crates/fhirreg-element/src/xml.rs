//! FHIR XML reader and writer.
//!
//! The reader (on quick-xml) maps FHIR XML onto the same [`Element`] tree as
//! the JSON reader:
//!
//! * the root element must be in the `http://hl7.org/fhir` namespace and is
//!   named after the resource type;
//! * primitives carry their value in the `value` attribute; the `id`
//!   attribute (element ids) and the `url` attribute of extensions become
//!   `id`/`url` child primitives;
//! * a resource inside an element (`<contained><Patient>`,
//!   `<resource><Observation>`) is folded into that element, which gets
//!   `resource_type` set;
//! * the narrative `<div xmlns="http://www.w3.org/1999/xhtml">` becomes a
//!   primitive whose value is the exact source text of the whole element;
//! * comments and processing instructions are ignored.
//!
//! Security: a DOCTYPE is a [`ParseError`] (so no external entity or entity
//! expansion attack is possible); only the five predefined XML entities and
//! character references are expanded, any other entity is a [`ParseError`].
//! [`ParseOptions::max_depth`] and [`ParseOptions::max_size`] are enforced;
//! the reader is iterative, so deep nesting cannot overflow the stack.
//!
//! Issue expressions are paths of element names (`Patient.name.given`):
//! XML cannot tell which elements repeat, so they carry no indexes.
//! Issue messages (the `Xml*` messages of [`Msg`], all severity error):
//! elements outside the FHIR namespace, unknown attributes, empty `value`
//! attributes, text and CDATA content, empty elements, resource elements
//! that are not the only content of their parent.
//!
//! ```
//! use fhirreg_element::{xml, ParseOptions, Position};
//! let src = br#"<Patient xmlns="http://hl7.org/fhir">
//!   <name id="n1"><given value="Ann"/></name>
//! </Patient>"#;
//! let doc = xml::parse(src, &ParseOptions::default()).unwrap();
//! assert!(doc.issues.is_empty());
//! let name = doc.root().child("name").unwrap();
//! assert_eq!(name.pos(), Position::new(2, 3));
//! assert_eq!(name.child_value("id"), Some("n1"));
//! assert_eq!(name.child("given").and_then(|g| g.value()), Some("Ann"));
//! ```

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

use crate::locate::Locator;
use crate::message::{Args, Msg};
use crate::{args, Document, Element, Issue, ParseError, ParseOptions, Position, ValueKind};

/// The messages of an element outside the FHIR namespace: a document with
/// one of them is not FHIR XML.
pub const WRONG_NAMESPACE: &[Msg] = &[
    Msg::XmlRootNamespace,
    Msg::XmlRootNoNamespace,
    Msg::XmlElementNamespace,
    Msg::XmlDivNamespace,
];

/// The FHIR XML namespace.
pub const FHIR_NS: &str = "http://hl7.org/fhir";
/// The XHTML namespace of the narrative `div`.
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";
const XSI_NS: &[u8] = b"http://www.w3.org/2001/XMLSchema-instance";

enum Frame {
    /// An element being built: its node, and where its children start in
    /// the reader's `pending` list.
    Elem { id: u32, kids_from: usize },
    /// The inner resource element of `<contained><Patient>`: its content
    /// goes to the wrapper below it.
    Fold,
}

struct Reader<'a> {
    b: &'a [u8],
    loc: Locator<'a>,
    issues: Vec<Issue>,
    stack: Vec<Frame>,
    /// The tree being built.
    doc: Document,
    /// Children of the open elements, innermost last.
    pending: Vec<u32>,
    /// The root's namespace when it is not FHIR's (reported once there, not
    /// again on every child in the same namespace).
    root_ns: Option<Option<Vec<u8>>>,
}

fn is_upper_start(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// Read a FHIR XML document.
///
/// ```
/// use fhirreg_element::{xml, ParseOptions};
/// let err = xml::parse(br#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"/>"#,
///                      &ParseOptions::default()).unwrap_err();
/// assert!(err.message.contains("DOCTYPE is not allowed"));
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
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rd = Reader {
        b,
        loc: Locator::new(b),
        issues: Vec::new(),
        stack: Vec::new(),
        doc: Document::with_capacity(b.len() / 40 + 4, b.len() / 4 + 16),
        pending: Vec::new(),
        root_ns: None,
    };
    if let Err(e) = std::str::from_utf8(b) {
        let pos = rd.loc.pos(e.valid_up_to());
        return Err(ParseError::new("invalid UTF-8", pos));
    }
    let mut r = NsReader::from_reader(b);
    let mut root: Option<u32> = None;
    loop {
        let start = usize::try_from(r.buffer_position()).unwrap_or(usize::MAX);
        let (ns, ev) = match r.read_resolved_event() {
            Ok(x) => x,
            Err(e) => {
                let at = usize::try_from(r.error_position()).unwrap_or(start);
                return Err(ParseError::new(
                    format!("malformed XML: {e}"),
                    rd.loc.pos(at),
                ));
            }
        };
        let ns: Option<Vec<u8>> = match ns {
            ResolveResult::Bound(n) => Some(n.0.to_vec()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(p) => {
                let pos = rd.loc.pos(start);
                return Err(ParseError::new(
                    format!("unknown namespace prefix '{}'", String::from_utf8_lossy(&p)),
                    pos,
                ));
            }
        };
        match ev {
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                let _ = e;
                let pos = rd.loc.pos(start);
                return Err(ParseError::new("content after the root element", pos));
            }
            Event::Start(e) => {
                let pos = rd.loc.pos(start);
                if rd.stack.len() >= options.max_depth {
                    return Err(ParseError::new(
                        format!(
                            "XML nesting is deeper than the limit of {}",
                            options.max_depth
                        ),
                        pos,
                    ));
                }
                if ns.as_deref() == Some(XHTML_NS.as_bytes()) && e.local_name().as_ref() == b"div" {
                    // Skip to the matching end tag through the namespace-aware
                    // reader, so that its namespace scopes stay balanced.
                    let mut depth = 1usize;
                    while depth > 0 {
                        match r.read_event() {
                            Ok(Event::Start(_)) => depth += 1,
                            Ok(Event::End(_)) => depth -= 1,
                            Ok(Event::Eof) => {
                                let at = b.len();
                                return Err(ParseError::new(
                                    "unexpected end of the document inside the narrative div",
                                    rd.loc.pos(at),
                                ));
                            }
                            Ok(Event::DocType(_)) => {
                                return Err(ParseError::new("DOCTYPE is not allowed", pos))
                            }
                            Ok(_) => {}
                            Err(err) => {
                                let at = usize::try_from(r.error_position()).unwrap_or(start);
                                return Err(ParseError::new(
                                    format!("malformed XML: {err}"),
                                    rd.loc.pos(at),
                                ));
                            }
                        }
                    }
                    let end = usize::try_from(r.buffer_position()).unwrap_or(usize::MAX);
                    rd.div(start, end, pos)?;
                } else {
                    rd.open(ns.as_deref(), &e, pos)?;
                }
            }
            Event::Empty(e) => {
                let pos = rd.loc.pos(start);
                if rd.stack.len() >= options.max_depth {
                    return Err(ParseError::new(
                        format!(
                            "XML nesting is deeper than the limit of {}",
                            options.max_depth
                        ),
                        pos,
                    ));
                }
                if ns.as_deref() == Some(XHTML_NS.as_bytes()) && e.local_name().as_ref() == b"div" {
                    let end = usize::try_from(r.buffer_position()).unwrap_or(usize::MAX);
                    rd.div(start, end, pos)?;
                } else {
                    rd.open(ns.as_deref(), &e, pos)?;
                    if let Some(done) = rd.close() {
                        root = Some(done);
                    }
                }
            }
            Event::End(_) => {
                if let Some(done) = rd.close() {
                    root = Some(done);
                }
            }
            Event::Text(t) => {
                let text = match t.unescape() {
                    Ok(s) => s,
                    Err(e) => {
                        let pos = rd.loc.pos(start);
                        return Err(ParseError::new(format!("invalid character data: {e}"), pos));
                    }
                };
                if !text.trim().is_empty() {
                    let pos = rd.loc.pos(start + (t.len() - t.trim_ascii_start().len()));
                    if rd.stack.is_empty() {
                        return Err(ParseError::new("text outside the root element", pos));
                    }
                    rd.issue(Msg::XmlText, args![], pos);
                }
            }
            Event::CData(_) => {
                let pos = rd.loc.pos(start);
                if rd.stack.is_empty() {
                    return Err(ParseError::new("CDATA outside the root element", pos));
                }
                rd.issue(Msg::XmlCdata, args![], pos);
            }
            Event::DocType(_) => {
                let pos = rd.loc.pos(start);
                return Err(ParseError::new(
                    "DOCTYPE is not allowed in FHIR XML (no entity declarations are processed)",
                    pos,
                ));
            }
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::Eof => break,
        }
    }
    match root {
        Some(root) => {
            let mut doc = rd.doc;
            doc.set_root(root);
            doc.issues = rd.issues;
            Ok(doc)
        }
        None => {
            let pos = rd.loc.pos(b.len());
            Err(ParseError::new(
                if rd.stack.is_empty() {
                    "no root element"
                } else {
                    "unexpected end of the document: unclosed elements"
                },
                pos,
            ))
        }
    }
}

/// Check that entity references in `s` are predefined or character references.
/// Returns the byte offset of the first bad one.
fn bad_entity(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'&', s.get(i..)?) {
        let at = i + k;
        let rest = s.get(at + 1..)?;
        let Some(end) = memchr::memchr(b';', rest) else {
            return Some(at);
        };
        let name = rest.get(..end)?;
        let ok = match name {
            b"lt" | b"gt" | b"amp" | b"quot" | b"apos" => true,
            [b'#', b'x', hex @ ..] => !hex.is_empty() && hex.iter().all(u8::is_ascii_hexdigit),
            [b'#', dec @ ..] => !dec.is_empty() && dec.iter().all(u8::is_ascii_digit),
            _ => false,
        };
        if !ok {
            return Some(at);
        }
        i = at + 1 + end;
    }
    None
}

impl<'a> Reader<'a> {
    fn path(&self) -> String {
        let mut p = String::new();
        for f in &self.stack {
            if let Frame::Elem { id, .. } = f {
                if !p.is_empty() {
                    p.push('.');
                }
                p.push_str(self.doc.node_name(*id));
            }
        }
        p
    }

    fn issue(&mut self, msg: Msg, args: Args, pos: Position) {
        let expr = self.path();
        self.issues.push(Issue::new(msg, args, expr, Some(pos)));
    }

    /// Is there an element to receive children (the top `Elem`, below any
    /// `Fold`)?
    fn has_current(&self) -> bool {
        self.stack.iter().any(|f| matches!(f, Frame::Elem { .. }))
    }

    /// A new node with a string value (marked primitive).
    fn leaf(&mut self, name: &str, value: &str, pos: Position) -> u32 {
        let n = self.doc.push_str(name);
        let id = self.doc.new_node(n, pos);
        let v = self.doc.push_str(value);
        self.doc.set_value_span(id, v, ValueKind::String);
        id
    }

    fn div(&mut self, start: usize, end: usize, pos: Position) -> Result<(), ParseError> {
        let raw = self.b.get(start..end).unwrap_or_default();
        if let Some(k) = bad_entity(raw) {
            let p = self.loc.pos(start + k);
            return Err(ParseError::new(
                "unknown entity: only &lt; &gt; &amp; &quot; &apos; and character references are allowed",
                p,
            ));
        }
        if !self.has_current() {
            return Err(ParseError::new(
                "the root element must be a FHIR resource, not an XHTML div",
                pos,
            ));
        }
        let text = String::from_utf8_lossy(raw);
        let el = self.leaf("div", &text, pos);
        self.pending.push(el);
        Ok(())
    }

    fn open(&mut self, ns: Option<&[u8]>, e: &BytesStart, pos: Position) -> Result<(), ParseError> {
        let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        let in_fhir = ns == Some(FHIR_NS.as_bytes());
        let is_root = self.stack.is_empty();
        if is_root {
            if !in_fhir {
                self.root_ns = Some(ns.map(<[u8]>::to_vec));
                let got = ns.map(|n| String::from_utf8_lossy(n).into_owned());
                let (msg, args) = match got {
                    Some(n) => (Msg::XmlRootNamespace, args![FHIR_NS, n]),
                    None => (Msg::XmlRootNoNamespace, args![FHIR_NS]),
                };
                self.issues
                    .push(Issue::new(msg, args, local.clone(), Some(pos)));
            }
        } else if !in_fhir && self.root_ns.as_ref().map(|r| r.as_deref()) != Some(ns) {
            if local == "div" {
                self.issue(Msg::XmlDivNamespace, args![FHIR_NS], pos);
            } else {
                self.issue(Msg::XmlElementNamespace, args![&local, FHIR_NS], pos);
            }
        }
        let resource = is_upper_start(&local);
        let name = self.doc.push_str(&local);
        let el = self.doc.new_node(name, pos);
        // Attributes that become children (`id`, `url`), in attribute order.
        let mut attr_kids: Vec<u32> = Vec::new();
        for attr in e.attributes() {
            let attr = match attr {
                Ok(a) => a,
                Err(err) => {
                    return Err(ParseError::new(format!("malformed attribute: {err}"), pos))
                }
            };
            let key = attr.key;
            if key.as_ref() == b"xmlns" || key.prefix().is_some_and(|p| p.as_ref() == b"xmlns") {
                continue;
            }
            let value = match attr.unescape_value() {
                Ok(v) => v,
                Err(err) => {
                    return Err(ParseError::new(
                        format!("invalid attribute value (only the predefined XML entities are allowed): {err}"),
                        pos,
                    ))
                }
            };
            if let Some(prefix) = key.prefix() {
                // xsi:schemaLocation and friends are tolerated.
                let p = prefix.as_ref();
                let xsi = e.attributes().flatten().any(|a| {
                    a.key.as_ref() == [b"xmlns:", p].concat().as_slice() && &*a.value == XSI_NS
                });
                if !xsi {
                    let name = String::from_utf8_lossy(key.as_ref()).into_owned();
                    self.issue_at_child(&local, Msg::XmlUnknownAttribute, args![name], pos);
                }
                continue;
            }
            let name = key.as_ref();
            if resource {
                let name = String::from_utf8_lossy(name).into_owned();
                self.issue_at_child(&local, Msg::XmlResourceAttribute, args![name], pos);
                continue;
            }
            match name {
                b"value" => {
                    if value.is_empty() {
                        self.issue_at_child(&local, Msg::XmlEmptyValue, args![], pos);
                    }
                    let v = self.doc.push_str(&value);
                    self.doc.set_value_span(el, v, ValueKind::String);
                }
                b"id" | b"url" => {
                    let n = if name == b"id" { "id" } else { "url" };
                    let c = self.leaf(n, &value, pos);
                    attr_kids.push(c);
                }
                _ => {
                    let name = String::from_utf8_lossy(name).into_owned();
                    self.issue_at_child(&local, Msg::XmlUnknownAttribute, args![name], pos);
                }
            }
        }
        if resource && !is_root {
            // Fold into the wrapper (`<contained><Patient>`): a wrapper with
            // nothing in it yet.
            let wrapper = match self.stack.last() {
                Some(Frame::Elem { id, kids_from })
                    if self.pending.len() == *kids_from
                        && !self.doc.has_value(*id)
                        && self
                            .doc
                            .get(crate::NodeId::from_raw(*id))
                            .is_some_and(|w| !w.is_resource()) =>
                {
                    Some(*id)
                }
                _ => None,
            };
            match wrapper {
                Some(w) => {
                    let rt = self.doc.push_str(&local);
                    self.doc.set_resource_type_span(w, rt);
                    self.stack.push(Frame::Fold);
                }
                None => {
                    self.issue(Msg::XmlUnexpectedResource, args![&local], pos);
                    // Keep it as an ordinary element so nothing is lost.
                    self.doc.set_resource_type_span(el, name);
                    self.stack.push(Frame::Elem {
                        id: el,
                        kids_from: self.pending.len(),
                    });
                }
            }
            return Ok(());
        }
        if is_root {
            self.doc.set_resource_type_span(el, name);
        }
        self.stack.push(Frame::Elem {
            id: el,
            kids_from: self.pending.len(),
        });
        self.pending.extend(attr_kids);
        Ok(())
    }

    fn issue_at_child(&mut self, local: &str, msg: Msg, args: Args, pos: Position) {
        let mut expr = self.path();
        if !expr.is_empty() {
            expr.push('.');
        }
        expr.push_str(local);
        self.issues.push(Issue::new(msg, args, expr, Some(pos)));
    }

    /// Close the top frame; returns the root when it was closed.
    fn close(&mut self) -> Option<u32> {
        let (id, kids_from) = match self.stack.pop()? {
            Frame::Fold => return None,
            Frame::Elem { id, kids_from } => (id, kids_from),
        };
        let kids: Vec<u32> = self
            .pending
            .drain(kids_from.min(self.pending.len())..)
            .collect();
        self.doc.set_children(id, &kids);
        let node = self.doc.get(crate::NodeId::from_raw(id))?;
        if node.value().is_none() && kids.is_empty() && !node.is_resource() {
            let pos = node.pos();
            let name = node.name().to_string();
            self.issue_at_child(&name, Msg::XmlEmptyElement, args![&name], pos);
        }
        if self.has_current() {
            self.pending.push(id);
            None
        } else {
            Some(id)
        }
    }
}

// ---------------------------------------------------------------- writer

/// Write an element tree as FHIR XML (pretty when `pretty`: two-space
/// indentation, one element per line).
///
/// Primitives are written with `value` attributes, element ids (`id`
/// children of non-resources) and extension urls as attributes, the
/// narrative `div` raw, and nested resources wrapped
/// (`<contained><Patient>...</Patient></contained>`).
///
/// ```
/// use fhirreg_element::{json, xml, ParseOptions};
/// let doc = json::parse(br#"{"resourceType":"Patient","active":true,"name":[{"family":"O'Neil & <Co>"}]}"#,
///                       &ParseOptions::default()).unwrap();
/// assert_eq!(xml::write(doc.root(), false),
///     r#"<Patient xmlns="http://hl7.org/fhir"><active value="true"/><name><family value="O&apos;Neil &amp; &lt;Co&gt;"/></name></Patient>"#);
/// ```
pub fn write(root: Element<'_>, pretty: bool) -> String {
    let mut w = XmlWriter {
        out: String::with_capacity(1024),
        pretty,
    };
    let name = root.resource_type().unwrap_or(root.name());
    let name = if xml_name_ok(name) { name } else { "Resource" };
    w.resource(name, root, 0, true);
    if pretty {
        w.out.push('\n');
    }
    w.out
}

/// An XML name the writer may emit: ASCII letter or `_`, then letters,
/// digits, `_`, `-`, `.` (every FHIR name and resource type is one).
fn xml_name_ok(name: &str) -> bool {
    let mut b = name.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

/// Whether `v` is exactly one well-formed `<div ...>...</div>` element
/// (no DOCTYPE, only predefined entities), safe to write raw.
fn is_single_div(v: &str) -> bool {
    if !v.starts_with("<div") || bad_entity(v.as_bytes()).is_some() {
        return false;
    }
    let mut r = quick_xml::Reader::from_str(v);
    let mut depth = 0usize;
    loop {
        match r.read_event() {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return usize::try_from(r.buffer_position()).ok() == Some(v.len());
                }
            }
            Ok(Event::Empty(_)) if depth == 0 => {
                return usize::try_from(r.buffer_position()).ok() == Some(v.len());
            }
            Ok(Event::Eof) | Ok(Event::DocType(_)) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

fn text_escape(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

struct XmlWriter {
    out: String,
    pretty: bool,
}

fn is_attr(parent: Element<'_>, c: Element<'_>, name: &str) -> bool {
    c.name() == name && c.value().is_some() && !c.has_children() && !parent.is_resource()
}

impl XmlWriter {
    fn indent(&mut self, depth: usize) {
        if self.pretty {
            if !self.out.is_empty() {
                self.out.push('\n');
            }
            for _ in 0..depth {
                self.out.push_str("  ");
            }
        }
    }

    fn resource(&mut self, rt: &str, e: Element<'_>, depth: usize, root: bool) {
        self.indent(depth);
        self.out.push('<');
        self.out.push_str(rt);
        if root {
            self.out.push_str(" xmlns=\"");
            self.out.push_str(FHIR_NS);
            self.out.push('"');
        }
        if !e.has_children() {
            self.out.push_str("/>");
            return;
        }
        self.out.push('>');
        for c in e.children() {
            self.element(c, depth + 1);
        }
        self.indent(depth);
        self.out.push_str("</");
        self.out.push_str(rt);
        self.out.push('>');
    }

    fn element(&mut self, e: Element<'_>, depth: usize) {
        let name = e.name();
        if !xml_name_ok(name) {
            return; // cannot be written as XML (only from odd JSON keys)
        }
        if let Some(rt) = e.resource_type().filter(|rt| xml_name_ok(rt)) {
            self.indent(depth);
            self.out.push('<');
            self.out.push_str(name);
            self.out.push('>');
            self.resource(rt, e, depth + 1, false);
            self.indent(depth);
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
            return;
        }
        if name == "div" && !e.has_children() {
            if let Some(v) = e.value() {
                self.indent(depth);
                if is_single_div(v) {
                    self.out.push_str(v);
                } else {
                    // Not one well-formed element: written as text, so that
                    // it cannot change the structure of the document.
                    self.out.push('<');
                    self.out.push_str("div xmlns=\"");
                    self.out.push_str(XHTML_NS);
                    self.out.push_str("\">");
                    text_escape(&mut self.out, v);
                    self.out.push_str("</div>");
                }
                return;
            }
        }
        self.indent(depth);
        self.out.push('<');
        self.out.push_str(name);
        let url_ok = name == "extension" || name == "modifierExtension";
        let id_idx = e.children().position(|c| is_attr(e, c, "id"));
        let url_idx = if url_ok {
            e.children().position(|c| is_attr(e, c, "url"))
        } else {
            None
        };
        for (k, n) in [(id_idx, "id"), (url_idx, "url")] {
            if let Some(v) = k.and_then(|k| e.children().nth(k)).and_then(|c| c.value()) {
                self.attr(n, v);
            }
        }
        if let Some(v) = e.value() {
            self.attr("value", v);
        }
        let mut any = false;
        for (k, c) in e.children().enumerate() {
            if Some(k) == id_idx || Some(k) == url_idx {
                continue;
            }
            if !any {
                self.out.push('>');
                any = true;
            }
            self.element(c, depth + 1);
        }
        if any {
            self.indent(depth);
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        } else {
            self.out.push_str("/>");
        }
    }

    fn attr(&mut self, name: &str, v: &str) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        let mut seg = 0;
        for (i, b) in v.bytes().enumerate() {
            let esc = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&apos;",
                b'\n' => "&#10;",
                b'\r' => "&#13;",
                b'\t' => "&#9;",
                _ => continue,
            };
            self.out.push_str(v.get(seg..i).unwrap_or_default());
            self.out.push_str(esc);
            seg = i + 1;
        }
        self.out.push_str(v.get(seg..).unwrap_or_default());
        self.out.push('"');
    }
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
    fn folds_resources_and_reads_div() {
        let src = "<Bundle xmlns=\"http://hl7.org/fhir\">\n <entry>\n  <resource>\n   <Patient>\n    <id value=\"p1\"/>\n    <text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Hi &amp; <b>bye</b></p></div></text>\n   </Patient>\n  </resource>\n </entry>\n</Bundle>";
        let d = p(src);
        assert!(d.issues.is_empty(), "{:?}", d.issues);
        assert_eq!(d.root().resource_type(), Some("Bundle"));
        let res = d.root().child("entry").unwrap().child("resource").unwrap();
        assert_eq!(res.resource_type(), Some("Patient"));
        assert_eq!(res.pos(), Position::new(3, 3));
        assert_eq!(res.child_value("id"), Some("p1"));
        let div = res.child("text").unwrap().child("div").unwrap();
        assert_eq!(
            div.value(),
            Some("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Hi &amp; <b>bye</b></p></div>")
        );
    }

    #[test]
    fn attributes_become_children_in_attribute_order() {
        let d = p(
            r#"<Patient xmlns="http://hl7.org/fhir"><extension url="u" id="e"><extension url="a"><valueString value="x"/></extension><valueCode value="c"/></extension></Patient>"#,
        );
        let ext = d.root().child("extension").unwrap();
        let names: Vec<_> = ext.children().map(|c| c.name()).collect();
        assert_eq!(names, ["url", "id", "extension", "valueCode"]);
    }

    #[test]
    fn rejects_hostile_and_reports_rule_violations() {
        assert!(
            perr(b"<!DOCTYPE Patient><Patient xmlns=\"http://hl7.org/fhir\"/>")
                .message
                .contains("DOCTYPE")
        );
        let e = perr(b"<Patient xmlns=\"http://hl7.org/fhir\">\n<name><family value=\"&xxe;\"/></name></Patient>");
        assert_eq!(e.pos.line, 2);
        assert!(
            perr(b"<Patient xmlns=\"http://hl7.org/fhir\">&foo;</Patient>")
                .pos
                .line
                == 1
        );
        assert_eq!(
            perr(b"<Patient xmlns=\"http://hl7.org/fhir\">\n<a>\xff</a></Patient>").pos,
            Position::new(2, 4)
        );
        assert!(parse(
            b"<Patient xmlns=\"http://hl7.org/fhir\"><x></Patient>",
            &ParseOptions::default()
        )
        .is_err());
        let d = p("<Patient><active value=\"\"/>text</Patient>");
        let wrong_ns: Vec<_> = d
            .issues
            .iter()
            .filter(|i| WRONG_NAMESPACE.contains(&i.msg))
            .collect();
        assert_eq!(wrong_ns.len(), 1, "reported at the root only: {wrong_ns:?}");
        let ids: Vec<_> = d.issues.iter().map(|i| i.msg).collect();
        assert!(ids.contains(&Msg::XmlRootNoNamespace), "{ids:?}");
        assert!(ids.contains(&Msg::XmlEmptyValue), "{ids:?}");
        assert!(ids.contains(&Msg::XmlText), "{ids:?}");
        let opts = ParseOptions {
            max_depth: 2,
            max_size: 1000,
            ..ParseOptions::default()
        };
        assert!(parse(
            b"<a xmlns=\"http://hl7.org/fhir\"><b value=\"1\"/></a>",
            &opts
        )
        .is_ok());
        assert!(parse(
            b"<a xmlns=\"http://hl7.org/fhir\"><b><c value=\"1\"/></b></a>",
            &opts
        )
        .is_err());
    }

    #[test]
    fn writer_cannot_be_injected() {
        let src = br#"{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div><active value=\"false\"/>"},"a b":"c","x\"y":"z","active":true}"#;
        let doc = crate::json::parse(src, &ParseOptions::default()).unwrap();
        let x = write(doc.root(), false);
        let back = p(&x);
        let names: Vec<_> = back.root().children().map(|c| c.name()).collect();
        assert_eq!(names, ["text", "active"], "{x}");
        assert_eq!(back.root().child_value("active"), Some("true"));
        let div = back.root().child("text").unwrap().child("div").unwrap();
        assert!(div.value().unwrap().contains("&lt;active"), "{x}");
        // A well-formed div is written raw.
        assert!(is_single_div(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a<br/></p></div>"
        ));
        assert!(!is_single_div("<div>a</div><div>b</div>"));
        assert!(!is_single_div("<div>&nbsp;</div>"));
        assert!(!xml_name_ok("a b") && !xml_name_ok("") && xml_name_ok("valueQuantity"));
    }

    #[test]
    fn write_and_read_back() {
        let src = br#"{"resourceType":"Patient","id":"x","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">a &lt; b</div>"},"extension":[{"url":"u","valueString":"a\"b\nc"}],"name":[{"id":"n","given":["a",null],"_given":[null,{"extension":[{"url":"z","valueBoolean":true}]}]}],"contained":[{"resourceType":"Basic","id":"b"}]}"#;
        let doc = crate::json::parse(src, &ParseOptions::default()).unwrap();
        for pretty in [false, true] {
            let x = write(doc.root(), pretty);
            let back = p(&x);
            assert!(back.issues.is_empty(), "{:?}\n{x}", back.issues);
            // XML carries no array or JSON value-kind marks: compare the rest.
            fn same(a: Element<'_>, b: Element<'_>) -> bool {
                a.name() == b.name()
                    && a.value() == b.value()
                    && a.resource_type() == b.resource_type()
                    && a.child_count() == b.child_count()
                    && a.children().zip(b.children()).all(|(x, y)| same(x, y))
            }
            assert!(same(back.root(), doc.root()), "{x}");
        }
    }
}
