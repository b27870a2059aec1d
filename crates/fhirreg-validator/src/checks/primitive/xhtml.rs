//! Narrative XHTML checks (<https://hl7.org/fhir/R4/narrative.html>): the
//! restricted XHTML subset, the `div` root in the XHTML namespace, internal
//! hyperlinks that resolve and hyperlink schemes that browsers can follow.

use fhirreg_element::args;
use fhirreg_element::message::{Args, Message, Msg};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::narrative::NarrativeFacts;
// foldhash: the element ids of lib.rs (see there).
use foldhash::{HashSet, HashSetExt};

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

/// Check a narrative `div`, reading it once for both the XHTML subset
/// rules and the content facts. `external_ids` are the ids that `#id`
/// links may point to outside the XHTML (contained resources).
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

pub(crate) fn check(div: &str, external_ids: &HashSet<String>) -> XhtmlReport {
    let mut out = Vec::new();
    let mut facts = NarrativeFacts::default();
    let mut open_paragraphs = 0usize;
    let mut reader = Reader::from_str(div);
    let config = reader.config_mut();
    config.check_end_names = true;
    // The open elements as `a/b/c`, with where each one starts: no
    // string per element.
    let mut stack = OpenElements::default();
    let mut ids: HashSet<String> = HashSet::new();
    let mut links: Vec<Link> = Vec::new();
    let mut open_links: Vec<usize> = Vec::new();
    let mut seen_root = false;
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                out.push(problem(Msg::XhtmlParse, args![e.to_string()]));
                return XhtmlReport {
                    problems: out,
                    facts: None,
                };
            }
        };
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                let empty = matches!(event, Event::Empty(_));
                let qname = s.name();
                let name = String::from_utf8_lossy(qname.as_ref());
                let local = match name.bytes().rposition(|b| b == b':') {
                    Some(colon) => name.get(colon + 1..).unwrap_or_default(),
                    None => &name,
                };
                facts.element(local, open_paragraphs > 0);
                if local == "p" && !empty {
                    open_paragraphs += 1;
                }
                let is_root = !seen_root;
                if !seen_root {
                    seen_root = true;
                    if local != "div" {
                        out.push(problem(Msg::XhtmlRootName, args![&*name]));
                    }
                    let ns = namespace_of(s, &name);
                    if ns.as_deref() != Some(XHTML_NS) {
                        out.push(problem(
                            Msg::XhtmlNamespace,
                            args![ns.unwrap_or_default(), XHTML_NS],
                        ));
                    }
                } else if !is_allowed_element(local) {
                    out.push(problem(Msg::XhtmlElement, args![local]));
                }
                let mut href = None;
                for attr in s.attributes().with_checks(false).flatten() {
                    let key = String::from_utf8_lossy(attr.key.as_ref());
                    if !attr_allowed(local, &key) {
                        out.push(problem(Msg::XhtmlAttribute, args![&*key, local]));
                    }
                    if is_root && (key == "lang" || key == "xml:lang") {
                        let value = attr
                            .unescape_value()
                            .map(|v| v.into_owned())
                            .unwrap_or_default();
                        if key == "lang" {
                            facts.root_lang = Some(value);
                        } else {
                            facts.root_xml_lang = Some(value);
                        }
                    }
                    let is_id = key == "id" || (key == "name" && local == "a");
                    let is_href = key == "href" && local == "a";
                    if is_id || is_href {
                        let value = attr
                            .unescape_value()
                            .map(|v| v.into_owned())
                            .unwrap_or_default();
                        if is_href {
                            href = Some(value);
                        } else {
                            ids.insert(value);
                        }
                    }
                }
                stack.push(local);
                if let Some(h) = href {
                    links.push(Link {
                        href: h,
                        path: stack.path.clone(),
                        text: String::new(),
                    });
                    if !empty {
                        open_links.push(links.len() - 1);
                    }
                }
                if empty {
                    stack.pop();
                }
            }
            Event::End(_) => match stack.pop() {
                Closed::A => {
                    open_links.pop();
                }
                Closed::P => open_paragraphs = open_paragraphs.saturating_sub(1),
                Closed::Other => {}
            },
            Event::Text(t) => {
                facts.text(t.as_ref());
                if !open_links.is_empty() {
                    let text = t.unescape().unwrap_or_default();
                    for &l in &open_links {
                        if let Some(link) = links.get_mut(l) {
                            link.text.push_str(&text);
                        }
                    }
                }
            }
            Event::CData(c) => facts.cdata(c.as_ref()),
            Event::DocType(_) => out.push(problem(Msg::XhtmlDoctype, args![])),
            Event::PI(_) => out.push(problem(Msg::XhtmlProcessingInstruction, args![])),
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        out.push(problem(Msg::XhtmlRootName, args![""]));
    }
    for link in links {
        let text = link.text.trim();
        if let Some(target) = link.href.strip_prefix('#') {
            if !target.is_empty() && !ids.contains(target) && !external_ids.contains(target) {
                out.push(problem(
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
                out.push(problem(
                    Msg::XhtmlLinkScheme,
                    args![scheme, &link.href, &link.path, text],
                ));
            }
        }
    }
    XhtmlReport {
        problems: out,
        facts: Some(facts),
    }
}

fn namespace_of(s: &BytesStart<'_>, name: &str) -> Option<String> {
    let prefix = name.split_once(':').map(|(p, _)| p);
    let wanted = match prefix {
        Some(p) => format!("xmlns:{p}"),
        None => "xmlns".to_string(),
    };
    s.attributes().with_checks(false).flatten().find_map(|a| {
        (a.key.as_ref() == wanted.as_bytes())
            .then(|| String::from_utf8_lossy(&a.value).into_owned())
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
