//! Narrative XHTML checks (<https://hl7.org/fhir/R4/narrative.html>): the
//! restricted XHTML subset, the `div` root in the XHTML namespace, internal
//! hyperlinks that resolve and hyperlink schemes that browsers can follow.

use fhirreg_element::args;
use fhirreg_element::message::{Args, Message, Msg};
use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::narrative::{self, NarrativeFacts};
// foldhash: the element ids of lib.rs (see there).
use foldhash::HashSet;

/// The XHTML namespace.
pub(crate) const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// The elements of the XHTML subset narratives may use (a `match`: it is
/// asked for every element of every narrative).
fn is_allowed_element(name: &str) -> bool {
    matches!(
        name,
        "p" | "br"
            | "div"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "a"
            | "span"
            | "b"
            | "em"
            | "i"
            | "strong"
            | "small"
            | "big"
            | "tt"
            | "dfn"
            | "q"
            | "var"
            | "abbr"
            | "acronym"
            | "cite"
            | "blockquote"
            | "hr"
            | "address"
            | "bdo"
            | "kbd"
            | "sub"
            | "sup"
            | "ul"
            | "ol"
            | "li"
            | "dl"
            | "dt"
            | "dd"
            | "pre"
            | "table"
            | "caption"
            | "colgroup"
            | "col"
            | "thead"
            | "tr"
            | "tfoot"
            | "tbody"
            | "th"
            | "td"
            | "code"
            | "samp"
            | "img"
            | "map"
            | "area"
    )
}

const COMMON_ATTRS: &[&str] = &[
    "title",
    "style",
    "class",
    "id",
    "lang",
    "xml:lang",
    "dir",
    "accesskey",
    "tabindex",
    "xmlns",
    "xmlns:xhtml",
    "xml:space",
];

fn attr_allowed(element: &str, attr: &str) -> bool {
    if COMMON_ATTRS.contains(&attr) || attr.starts_with("xmlns:") {
        return true;
    }
    let specific: &[&str] = match element {
        "a" => &[
            "href", "name", "rel", "rev", "shape", "coords", "charset", "type", "hreflang",
            "target",
        ],
        "img" => &[
            "src", "alt", "longdesc", "height", "width", "border", "hspace", "vspace", "align",
            "usemap",
        ],
        "table" => &[
            "summary",
            "width",
            "border",
            "frame",
            "rules",
            "cellspacing",
            "cellpadding",
            "align",
            "bgcolor",
        ],
        "td" | "th" => &[
            "abbr", "axis", "headers", "scope", "rowspan", "colspan", "align", "char", "charoff",
            "valign", "width", "height", "nowrap", "bgcolor",
        ],
        "tr" | "thead" | "tbody" | "tfoot" => &["align", "char", "charoff", "valign", "bgcolor"],
        "col" | "colgroup" => &["span", "width", "align", "char", "charoff", "valign"],
        "ol" | "ul" | "li" => &["type", "value", "start", "compact"],
        "blockquote" | "q" | "ins" | "del" => &["cite", "datetime"],
        "area" => &["shape", "coords", "href", "nohref", "alt"],
        "map" => &["name"],
        "font" => &["size", "color", "face"],
        "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "hr" | "caption" => {
            &["align", "size", "width", "noshade"]
        }
        "pre" => &["width"],
        "br" => &["clear"],
        "time" => &["datetime"],
        _ => &[],
    };
    specific.contains(&attr)
}

/// A finding in a narrative.
pub(crate) type XhtmlProblem = Message;

fn problem(msg: Msg, args: Args) -> XhtmlProblem {
    Message::new(msg, args)
}

struct Link {
    href: String,
    path: String,
    text: String,
}

/// What one reading of a narrative finds.
pub(crate) struct XhtmlReport {
    /// The findings of the XHTML subset rules.
    pub problems: Vec<XhtmlProblem>,
    /// What the content rules read (`narrative`), when the `div` parses.
    pub facts: Option<NarrativeFacts>,
}

/// The open elements of the narrative, as a path.
#[derive(Default)]
struct OpenElements {
    /// `div/p/a`.
    path: String,
    /// Where each open element's segment starts in `path` (at its `/`),
    /// and what closing it means.
    open: Vec<(usize, Closed)>,
}

/// What closing an element means for the checks.
#[derive(Clone, Copy)]
enum Closed {
    A,
    P,
    Other,
}

impl OpenElements {
    fn push(&mut self, local: &str) {
        let kind = match local {
            "a" => Closed::A,
            "p" => Closed::P,
            _ => Closed::Other,
        };
        self.open.push((self.path.len(), kind));
        if !self.path.is_empty() {
            self.path.push('/');
        }
        self.path.push_str(local);
    }

    fn pop(&mut self) -> Closed {
        let Some((start, kind)) = self.open.pop() else {
            return Closed::Other;
        };
        self.path.truncate(start);
        kind
    }
}

/// An attribute as written: its name and its value between the quotes
/// (not yet unescaped).
type RawAttribute<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Check a narrative `div`, reading it once for both the XHTML subset
/// rules and the content facts. `external_ids` are the ids that `#id`
/// links may point to outside the XHTML (contained resources).
///
/// Most narratives are plain, well-formed markup: elements, attributes
/// in quotes and text. [`read_plain`] reads those with a scanner of its
/// own, several times faster than a general XML reader; anything else
/// (comments, CDATA, DOCTYPE, processing instructions, unusual attribute
/// syntax, markup that is not well-formed) is read by quick-xml, whose
/// error messages the findings quote. Both give the same events, in the
/// same order, to the same [`Reading`] (the tests compare the two).
pub(crate) fn check(div: &str, external_ids: &HashSet<String>) -> XhtmlReport {
    check_with(div, external_ids, false)
}

/// [`check`], with the facts about the parts of the root div (their
/// language sections and source classes) that only profiles with
/// narrative controls ask for.
pub(crate) fn check_parts(div: &str) -> XhtmlReport {
    check_with(div, &HashSet::default(), true)
}

fn check_with(div: &str, external_ids: &HashSet<String>, parts: bool) -> XhtmlReport {
    match read_plain(div, parts) {
        Some(reading) => reading.finish(external_ids),
        None => read_any(div, external_ids, parts),
    }
}

/// What the events of a narrative add up to.
#[derive(Default)]
struct Reading {
    out: Vec<XhtmlProblem>,
    facts: NarrativeFacts,
    open_paragraphs: usize,
    // The open elements as `a/b/c`, with where each one starts: no
    // string per element.
    stack: OpenElements,
    ids: HashSet<String>,
    links: Vec<Link>,
    open_links: Vec<usize>,
    seen_root: bool,
    /// Whether to collect the parts of the root div ([`check_parts`]).
    parts: bool,
}

/// An attribute value with its character and entity references replaced
/// (empty when one is malformed), as quick-xml unescapes it.
fn unescaped(raw: &str) -> String {
    quick_xml::escape::unescape(raw)
        .map(Cow::into_owned)
        .unwrap_or_default()
}

impl Reading {
    /// A start tag (`empty` for `<x/>`), named `name` as written.
    fn start(&mut self, name: &str, empty: bool, attributes: &[RawAttribute<'_>]) {
        let local = match name.rfind(':') {
            Some(colon) => name.get(colon + 1..).unwrap_or_default(),
            None => name,
        };
        self.facts.element(local, self.open_paragraphs > 0);
        if local == "p" && !empty {
            self.open_paragraphs += 1;
        }
        let is_root = !self.seen_root;
        if is_root {
            self.seen_root = true;
            if local != "div" {
                self.out.push(problem(Msg::XhtmlRootName, args![name]));
            }
            let ns = namespace_of(attributes, name);
            if ns != Some(XHTML_NS) {
                self.out.push(problem(
                    Msg::XhtmlNamespace,
                    args![ns.unwrap_or_default(), XHTML_NS],
                ));
            }
        } else if !is_allowed_element(local) {
            self.out.push(problem(Msg::XhtmlElement, args![local]));
        }
        let mut href = None;
        // (only the root div is open: a part of the narrative, for the
        // language and source controls of profiles)
        let top_level = self.parts && self.stack.open.len() == 1;
        let (mut section, mut source) = (None, false);
        for (key, raw) in attributes {
            let key: &str = key;
            if top_level {
                match key {
                    "lang" | "xml:lang" if section.is_none() => section = Some(unescaped(raw)),
                    "class" => source |= narrative::is_source_class(raw),
                    _ => {}
                }
            }
            if !attr_allowed(local, key) {
                self.out
                    .push(problem(Msg::XhtmlAttribute, args![key, local]));
            }
            if is_root && (key == "lang" || key == "xml:lang") {
                let value = unescaped(raw);
                if key == "lang" {
                    self.facts.root_lang = Some(value);
                } else {
                    self.facts.root_xml_lang = Some(value);
                }
            }
            let is_id = key == "id" || (key == "name" && local == "a");
            let is_href = key == "href" && local == "a";
            if is_href {
                href = Some(unescaped(raw));
            } else if is_id {
                self.ids.insert(unescaped(raw));
            }
        }
        if top_level {
            self.facts.part(local, section, source);
        }
        self.stack.push(local);
        if let Some(h) = href {
            self.links.push(Link {
                href: h,
                path: self.stack.path.clone(),
                text: String::new(),
            });
            if !empty {
                self.open_links.push(self.links.len() - 1);
            }
        }
        if empty {
            self.stack.pop();
        }
    }

    fn end(&mut self) {
        match self.stack.pop() {
            Closed::A => {
                self.open_links.pop();
            }
            Closed::P => self.open_paragraphs = self.open_paragraphs.saturating_sub(1),
            Closed::Other => {}
        }
    }

    /// Text as written (references not yet replaced).
    fn text(&mut self, raw: &str) {
        self.facts.text(raw.as_bytes());
        if self.parts && self.stack.open.len() == 1 {
            self.facts.top_level_text(raw);
        }
        if !self.open_links.is_empty() {
            let text = quick_xml::escape::unescape(raw).unwrap_or_default();
            for &l in &self.open_links {
                if let Some(link) = self.links.get_mut(l) {
                    link.text.push_str(&text);
                }
            }
        }
    }

    /// The findings once every event is read.
    fn finish(mut self, external_ids: &HashSet<String>) -> XhtmlReport {
        if !self.seen_root {
            self.out.push(problem(Msg::XhtmlRootName, args![""]));
        }
        for link in self.links {
            let text = link.text.trim();
            if let Some(target) = link.href.strip_prefix('#') {
                if !target.is_empty()
                    && !self.ids.contains(target)
                    && !external_ids.contains(target)
                {
                    self.out.push(problem(
                        Msg::XhtmlLinkUnresolved,
                        args![&link.href, &link.path, text],
                    ));
                }
            } else if let Some(scheme) = scheme_of(&link.href) {
                let ok = matches!(
                    scheme.to_ascii_lowercase().as_str(),
                    "http" | "https" | "ftp" | "ftps" | "mailto" | "tel" | "data" | "sms" | "file"
                );
                if !ok {
                    self.out.push(problem(
                        Msg::XhtmlLinkScheme,
                        args![scheme, &link.href, &link.path, text],
                    ));
                }
            }
        }
        XhtmlReport {
            problems: self.out,
            facts: Some(self.facts),
        }
    }
}

/// XML white space, as quick-xml tells names and attributes apart.
fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Where the markup that starts at `from` ends: the first `>` outside
/// quotes (as quick-xml finds it, attributes may hold `>`).
fn markup_end(b: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for (i, &c) in b.iter().enumerate().skip(from) {
        match (quote, c) {
            (None, b'>') => return Some(i),
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            _ => {}
        }
    }
    None
}

/// The attributes after an element's name, when each is `name="value"` or
/// `name='value'` (white space around `=` allowed); `None` for anything
/// else, which quick-xml reads with its own recovery.
fn plain_attributes<'a>(s: &'a str, out: &mut Vec<RawAttribute<'a>>) -> Option<()> {
    let b = s.as_bytes();
    let skip_space = |mut i: usize| {
        while b.get(i).copied().is_some_and(is_xml_space) {
            i += 1;
        }
        i
    };
    let mut i = 0;
    loop {
        i = skip_space(i);
        if i >= b.len() {
            return Some(());
        }
        let key_start = i;
        while b.get(i).is_some_and(|&c| c != b'=' && !is_xml_space(c)) {
            i += 1;
        }
        let key = s.get(key_start..i)?;
        i = skip_space(i);
        if b.get(i) != Some(&b'=') {
            return None;
        }
        i = skip_space(i + 1);
        let quote = *b.get(i).filter(|&&c| c == b'"' || c == b'\'')?;
        let value_start = i + 1;
        let len = b.get(value_start..)?.iter().position(|&c| c == quote)?;
        out.push((
            Cow::Borrowed(key),
            Cow::Borrowed(s.get(value_start..value_start + len)?),
        ));
        i = value_start + len + 1;
    }
}

/// Read a narrative of plain markup (see [`check`]); `None` when it holds
/// anything else, or is not well-formed.
fn read_plain(div: &str, parts: bool) -> Option<Reading> {
    let b = div.as_bytes();
    if b.starts_with(b"\xEF\xBB\xBF") {
        return None;
    }
    let mut reading = Reading {
        parts,
        ..Reading::default()
    };
    // The open elements' names as written, for the end tags.
    let mut open: Vec<&str> = Vec::new();
    let mut attributes: Vec<RawAttribute<'_>> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let rest = b.get(i..)?;
        let lt = i + rest.iter().position(|&c| c == b'<').unwrap_or(rest.len());
        if lt > i {
            reading.text(div.get(i..lt)?);
        }
        if lt >= b.len() {
            break;
        }
        let markup = lt + 1;
        match *b.get(markup)? {
            b'!' | b'?' => return None,
            b'/' => {
                let gt = markup_end(b, markup)?;
                let name = div
                    .get(markup + 1..gt)?
                    .trim_end_matches([' ', '\t', '\r', '\n']);
                if open.pop() != Some(name) {
                    return None;
                }
                reading.end();
                i = gt + 1;
            }
            _ => {
                let gt = markup_end(b, markup)?;
                let content = div.get(markup..gt)?;
                let (content, empty) = match content.strip_suffix('/') {
                    Some(c) => (c, true),
                    None => (content, false),
                };
                let name_len = content
                    .bytes()
                    .position(is_xml_space)
                    .unwrap_or(content.len());
                let name = content.get(..name_len)?;
                if name.is_empty() {
                    return None;
                }
                attributes.clear();
                plain_attributes(content.get(name_len..)?, &mut attributes)?;
                reading.start(name, empty, &attributes);
                if !empty {
                    open.push(name);
                }
                i = gt + 1;
            }
        }
    }
    // Elements left open: quick-xml's reading decides.
    open.is_empty().then_some(reading)
}

/// Read any narrative with quick-xml (see [`check`]).
fn read_any(div: &str, external_ids: &HashSet<String>, parts: bool) -> XhtmlReport {
    let mut reading = Reading {
        parts,
        ..Reading::default()
    };
    let mut reader = Reader::from_str(div);
    let config = reader.config_mut();
    config.check_end_names = true;
    let mut attributes: Vec<RawAttribute<'_>> = Vec::new();
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                reading
                    .out
                    .push(problem(Msg::XhtmlParse, args![e.to_string()]));
                return XhtmlReport {
                    problems: reading.out,
                    facts: None,
                };
            }
        };
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                let empty = matches!(event, Event::Empty(_));
                let qname = s.name();
                let name = String::from_utf8_lossy(qname.as_ref());
                attributes.clear();
                for attr in s.attributes().with_checks(false).flatten() {
                    let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
                    let value = String::from_utf8_lossy(&attr.value).into_owned();
                    attributes.push((Cow::Owned(key), Cow::Owned(value)));
                }
                reading.start(&name, empty, &attributes);
            }
            Event::End(_) => reading.end(),
            Event::Text(t) => reading.text(&String::from_utf8_lossy(t.as_ref())),
            Event::CData(c) => reading.facts.cdata(c.as_ref()),
            Event::DocType(_) => reading.out.push(problem(Msg::XhtmlDoctype, args![])),
            Event::PI(_) => reading
                .out
                .push(problem(Msg::XhtmlProcessingInstruction, args![])),
            Event::Eof => break,
            _ => {}
        }
    }
    reading.finish(external_ids)
}

/// The namespace `name` is in, from the element's own `xmlns` or
/// `xmlns:prefix` attribute (as written).
fn namespace_of<'a>(attributes: &'a [RawAttribute<'_>], name: &str) -> Option<&'a str> {
    let prefix = name.split_once(':').map(|(p, _)| p);
    attributes.iter().find_map(|(key, value)| {
        let matches = match prefix {
            Some(p) => key.strip_prefix("xmlns:") == Some(p),
            None => key == "xmlns",
        };
        matches.then_some(&**value)
    })
}

/// The URI scheme of a link, if it has one.
fn scheme_of(href: &str) -> Option<&str> {
    let (scheme, _) = href.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;
    use foldhash::HashSetExt;

    /// The scanner's reading of `div` (when it reads it) is quick-xml's.
    fn same_reading(div: &str) -> bool {
        let ids: HashSet<String> = ["c1".to_string()].into_iter().collect();
        let Some(plain) = read_plain(div, true) else {
            return false;
        };
        let plain = plain.finish(&ids);
        let any = read_any(div, &ids, true);
        assert_eq!(plain.problems, any.problems, "{div}");
        assert_eq!(plain.facts, any.facts, "{div}");
        true
    }

    #[test]
    fn the_scanner_reads_plain_markup_as_quick_xml_does() {
        let plain = [
            r##"<div xmlns="http://www.w3.org/1999/xhtml"><p id="x">Hi <a href="#x">x</a> <a href="http://a.b">b</a></p></div>"##,
            r#"<div xmlns="http://www.w3.org/1999/xhtml" lang="nb" xml:lang='nb-NO'>Kari &amp; Ola &eacute; &#x41;</div>"#,
            r#"<xhtml:div xmlns:xhtml="http://www.w3.org/1999/xhtml"><xhtml:p>x</xhtml:p></xhtml:div>"#,
            "<div xmlns=\"http://www.w3.org/1999/xhtml\">\n  <table border = \"1\"><tr><td colspan='2'>a&gt;b</td></tr></table>\n  <br/><br /><img src=\"x.png\" alt=\"a > b\"/>\n</div>",
            r##"<div xmlns="http://www.w3.org/1999/xhtml"><script>x</script><p onclick="y">z<div>block</div></p><a href="#c1">c</a><a href="#nowhere">n &amp; m</a><a href="javascript:x">j</a><a name="t"/></div>"##,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><a href="http://x?a=1&amp;b=2">q</a><p title='a "q"'>t</p></div >"#,
            r#"<p xmlns="http://example.org">not a div</p>"#,
            r#"<div>no namespace</div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"/>"#,
            r#"text before <div xmlns="http://www.w3.org/1999/xhtml">x</div> after <p>second root</p>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><br/ ></br/ ></div>"#,
            r##"<div xmlns="http://www.w3.org/1999/xhtml"><a href="#x&bad;">x</a><p id="&#xZZ;">&unknown; &nbsp;</p></div>"##,
            "",
            "just text",
        ];
        for div in plain {
            assert!(same_reading(div), "not read by the scanner: {div}");
        }
        // What the scanner leaves to quick-xml.
        let other = [
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><!-- c --></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><![CDATA[x]]></div>"#,
            r#"<!DOCTYPE div><div xmlns="http://www.w3.org/1999/xhtml"/>"#,
            r#"<?xml version="1.0"?><div xmlns="http://www.w3.org/1999/xhtml"/>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>x</b></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>x</div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml">x</div></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p class=x>y</p></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><input disabled/></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p title="open>x</p></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml">< p>x</p></div>"#,
            "\u{feff}<div xmlns=\"http://www.w3.org/1999/xhtml\"/>",
        ];
        for div in other {
            assert!(
                read_plain(div, true).is_none(),
                "read by the scanner: {div}"
            );
            // And the result is quick-xml's, whatever it is.
            let ids = HashSet::new();
            let report = check_parts(div);
            let any = read_any(div, &ids, true);
            assert_eq!(report.problems, any.problems);
            assert_eq!(report.facts, any.facts);
        }
    }

    /// Every narrative of the R4 examples (`FHIRREG_R4_EXAMPLES`): the
    /// scanner reads nearly all of them, exactly as quick-xml does.
    #[test]
    fn the_scanner_reads_the_r4_narratives_as_quick_xml_does() {
        let Ok(dir) = std::env::var("FHIRREG_R4_EXAMPLES") else {
            eprintln!(
                "skipped: set FHIRREG_R4_EXAMPLES to an unpacked hl7.fhir.r4.examples folder"
            );
            return;
        };
        fn divs(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(div) = m.get("div").and_then(|d| d.as_str()) {
                        out.push(div.to_string());
                    }
                    m.values().for_each(|x| divs(x, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| divs(x, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        let entries = std::fs::read_dir(&dir).expect("the examples folder");
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read(&path).expect("readable");
                if let Ok(json) = serde_json::from_slice::<serde_json::Value>(&text) {
                    divs(&json, &mut all);
                }
            }
        }
        let read = all.iter().filter(|d| same_reading(d)).count();
        eprintln!("{read} of {} narratives read by the scanner", all.len());
        assert!(
            all.len() > 1000 && read * 10 >= all.len() * 9,
            "{read} of {}",
            all.len()
        );
    }

    fn msgs(div: &str) -> Vec<Message> {
        check(div, &HashSet::new()).problems
    }

    fn has(m: &[Message], msg: Msg, arg: &str, value: &str) -> bool {
        m.iter().any(|p| p.msg == msg && p.arg(arg) == Some(value))
    }

    #[test]
    fn good_div() {
        let d = r##"<div xmlns="http://www.w3.org/1999/xhtml"><p id="x">Hi <a href="#x">x</a> <a href="http://a.b">b</a></p></div>"##;
        assert!(msgs(d).is_empty(), "{:?}", msgs(d));
    }

    #[test]
    fn bad_divs() {
        let d = r#"<div xmlns="http://www.w3.org/1999/xhtml"><script>x</script><p onclick="y">z</p></div>"#;
        let m = msgs(d);
        assert!(has(&m, Msg::XhtmlElement, "name", "script"), "{m:?}");
        assert!(has(&m, Msg::XhtmlAttribute, "name", "onclick"), "{m:?}");
        assert!(has(&m, Msg::XhtmlAttribute, "element", "p"), "{m:?}");
        let m = msgs(r#"<p xmlns="http://www.w3.org/1999/xhtml">x</p>"#);
        assert!(has(&m, Msg::XhtmlRootName, "name", "p"), "{m:?}");
        let m = msgs(r#"<div>x</div>"#);
        assert!(has(&m, Msg::XhtmlNamespace, "found", ""), "{m:?}");
        let m = msgs(
            r##"<div xmlns="http://www.w3.org/1999/xhtml"><a href="#nowhere">t</a><a href="urn:uuid:1">u</a></div>"##,
        );
        let unresolved = m.iter().find(|p| p.msg == Msg::XhtmlLinkUnresolved);
        assert_eq!(
            unresolved.map(|p| (p.arg("href"), p.arg("path"), p.arg("text"))),
            Some((Some("#nowhere"), Some("div/a"), Some("t"))),
            "{m:?}"
        );
        assert!(has(&m, Msg::XhtmlLinkScheme, "scheme", "urn"), "{m:?}");
    }
}
