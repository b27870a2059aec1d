//! Narrative XHTML checks (<https://hl7.org/fhir/R4/narrative.html>): the
//! restricted XHTML subset, the `div` root in the XHTML namespace, internal
//! hyperlinks that resolve and hyperlink schemes that browsers can follow.

use fhirreg_element::args;
use fhirreg_element::message::{Args, Message, Msg};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
// foldhash: the element ids of lib.rs (see there).
use foldhash::{HashSet, HashSetExt};

/// The XHTML namespace.
pub(crate) const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

const ELEMENTS: &[&str] = &[
    "p",
    "br",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "span",
    "b",
    "em",
    "i",
    "strong",
    "small",
    "big",
    "tt",
    "dfn",
    "q",
    "var",
    "abbr",
    "acronym",
    "cite",
    "blockquote",
    "hr",
    "address",
    "bdo",
    "kbd",
    "sub",
    "sup",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "pre",
    "table",
    "caption",
    "colgroup",
    "col",
    "thead",
    "tr",
    "tfoot",
    "tbody",
    "th",
    "td",
    "code",
    "samp",
    "img",
    "map",
    "area",
];

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

/// Check a narrative `div`. `external_ids` are the ids that `#id` links may
/// point to outside the XHTML (contained resources).
pub(crate) fn check(div: &str, external_ids: &HashSet<String>) -> Vec<XhtmlProblem> {
    let mut out = Vec::new();
    let mut reader = Reader::from_str(div);
    let config = reader.config_mut();
    config.check_end_names = true;
    let mut stack: Vec<String> = Vec::new();
    let mut ids: HashSet<String> = HashSet::new();
    let mut links: Vec<Link> = Vec::new();
    let mut open_links: Vec<usize> = Vec::new();
    let mut seen_root = false;
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                out.push(problem(Msg::XhtmlParse, args![e.to_string()]));
                return out;
            }
        };
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                let empty = matches!(event, Event::Empty(_));
                let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
                let local = name.rsplit(':').next().unwrap_or(&name).to_string();
                if !seen_root {
                    seen_root = true;
                    if local != "div" {
                        out.push(problem(Msg::XhtmlRootName, args![&name]));
                    }
                    let ns = namespace_of(s, &name);
                    if ns.as_deref() != Some(XHTML_NS) {
                        out.push(problem(
                            Msg::XhtmlNamespace,
                            args![ns.unwrap_or_default(), XHTML_NS],
                        ));
                    }
                } else if !ELEMENTS.contains(&local.as_str()) {
                    out.push(problem(Msg::XhtmlElement, args![&local]));
                }
                let mut href = None;
                for attr in s.attributes().with_checks(false).flatten() {
                    let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
                    let value = attr
                        .unescape_value()
                        .map(|v| v.into_owned())
                        .unwrap_or_default();
                    if !attr_allowed(&local, &key) {
                        out.push(problem(Msg::XhtmlAttribute, args![&key, &local]));
                    }
                    if key == "id" || (key == "name" && local == "a") {
                        ids.insert(value.clone());
                    }
                    if key == "href" && local == "a" {
                        href = Some(value);
                    }
                }
                stack.push(local.clone());
                if let Some(h) = href {
                    links.push(Link {
                        href: h,
                        path: stack.join("/"),
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
            Event::End(_) => {
                if stack.last().map(String::as_str) == Some("a") {
                    open_links.pop();
                }
                stack.pop();
            }
            Event::Text(t) => {
                let text = t.unescape().map(|c| c.into_owned()).unwrap_or_default();
                for &l in &open_links {
                    if let Some(link) = links.get_mut(l) {
                        link.text.push_str(&text);
                    }
                }
            }
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
    out
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
        check(div, &HashSet::new())
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
