//! Narrative rules beyond the XHTML subset (narrative.html):
//!
//! * the narrative has some content: text that is not only whitespace,
//!   or an image (constraint txt-2, which the HL7 validator evaluates as
//!   this content check);
//! * entity references are those XML predefines or HTML 4 defines: the
//!   narrative is XHTML without a DTD, and readers know no others;
//! * a paragraph holds text and inline elements, not blocks (HTML: a `p`
//!   ends where a block starts, so a block inside it breaks the structure).

use crate::walk::Walk;
use fhirreg_element::message::Msg;
use fhirreg_element::{args, Element};

/// The named entities of HTML 4.01 (Latin-1, symbols and Greek, special)
/// and of XML.
const ENTITIES: &[&str] = &[
    // XML
    "amp", "lt", "gt", "quot", "apos", // HTML 4 Latin-1
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
    // HTML 4 symbols, mathematical symbols and Greek letters
    "fnof", "Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa",
    "Lambda", "Mu", "Nu", "Xi", "Omicron", "Pi", "Rho", "Sigma", "Tau", "Upsilon", "Phi", "Chi",
    "Psi", "Omega", "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota",
    "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigmaf", "sigma", "tau",
    "upsilon", "phi", "chi", "psi", "omega", "thetasym", "upsih", "piv", "bull", "hellip", "prime",
    "Prime", "oline", "frasl", "weierp", "image", "real", "trade", "alefsym", "larr", "uarr",
    "rarr", "darr", "harr", "crarr", "lArr", "uArr", "rArr", "dArr", "hArr", "forall", "part",
    "exist", "empty", "nabla", "isin", "notin", "ni", "prod", "sum", "minus", "lowast", "radic",
    "prop", "infin", "ang", "and", "or", "cap", "cup", "int", "there4", "sim", "cong", "asymp",
    "ne", "equiv", "le", "ge", "sub", "sup", "nsub", "sube", "supe", "oplus", "otimes", "perp",
    "sdot", "lceil", "rceil", "lfloor", "rfloor", "lang", "rang", "loz", "spades", "clubs",
    "hearts", "diams", // HTML 4 special
    "OElig", "oelig", "Scaron", "scaron", "Yuml", "circ", "tilde", "ensp", "emsp", "thinsp",
    "zwnj", "zwj", "lrm", "rlm", "ndash", "mdash", "lsquo", "rsquo", "sbquo", "ldquo", "rdquo",
    "bdquo", "dagger", "Dagger", "permil", "lsaquo", "rsaquo", "euro",
];

/// What the rules find in a narrative that parses.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct NarrativeFacts {
    /// Some text that is not whitespace, or an image.
    pub has_content: bool,
    /// Entity names neither XML nor HTML 4 defines, in order, once each.
    pub unknown_entities: Vec<String>,
    /// Block elements inside a paragraph, in order, once each.
    pub blocks_in_paragraph: Vec<String>,
    /// The root div's `lang` and `xml:lang` attributes.
    pub root_lang: Option<String>,
    pub root_xml_lang: Option<String>,
}

/// The HTML block elements of the narrative subset.
const BLOCKS: &[&str] = &[
    "address",
    "blockquote",
    "div",
    "dl",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "ol",
    "p",
    "pre",
    "table",
    "ul",
];

impl NarrativeFacts {
    /// An element named `local` starts (or is empty), inside a paragraph
    /// or not.
    pub(crate) fn element(&mut self, local: &str, in_paragraph: bool) {
        if local == "img" {
            self.has_content = true;
        }
        if in_paragraph
            && BLOCKS.contains(&local)
            && !self.blocks_in_paragraph.iter().any(|b| b == local)
        {
            self.blocks_in_paragraph.push(local.to_string());
        }
    }

    /// Text, as written (entity references not yet replaced).
    pub(crate) fn text(&mut self, raw: &[u8]) {
        if raw.contains(&b'&') {
            let raw = String::from_utf8_lossy(raw);
            for name in entity_names(&raw) {
                if !ENTITIES.contains(&name) && !self.unknown_entities.iter().any(|e| e == name) {
                    self.unknown_entities.push(name.to_string());
                }
            }
        }
        // An entity or character reference is content too. (ASCII is
        // decided byte by byte; other text by its characters.)
        if !self.has_content {
            self.has_content = raw
                .iter()
                .any(|&b| b.is_ascii() && !char::from(b).is_whitespace())
                || (!raw.is_ascii()
                    && String::from_utf8_lossy(raw)
                        .chars()
                        .any(|c| !c.is_whitespace()));
        }
    }

    /// A CDATA section.
    pub(crate) fn cdata(&mut self, raw: &[u8]) {
        if raw.iter().any(|b| !b.is_ascii_whitespace()) {
            self.has_content = true;
        }
    }
}

/// The names of the named entity references (`&name;`) of raw text
/// (character references `&#...;` are not named).
fn entity_names(raw: &str) -> impl Iterator<Item = &str> {
    raw.split('&').skip(1).filter_map(|rest| {
        let (name, _) = rest.split_once(';')?;
        (!name.is_empty()
            && !name.starts_with('#')
            && name.chars().all(|c| c.is_ascii_alphanumeric()))
        .then_some(name)
    })
}

impl<'v> Walk<'v> {
    /// The content and entity rules of a narrative at `node`, from what the
    /// XHTML reading found (see [`NarrativeFacts`]).
    pub(crate) fn narrative_content(&mut self, node: Element<'v>, facts: &NarrativeFacts) {
        for e in &facts.unknown_entities {
            self.report(Msg::XhtmlEntity, args![e.as_str()], node);
        }
        for b in &facts.blocks_in_paragraph {
            self.report(Msg::XhtmlBlockInParagraph, args![b.as_str()], node);
        }
        self.narrative_language(node, facts);
        if !facts.has_content {
            let human = "The narrative SHALL have some non-whitespace content";
            self.report(Msg::InvariantFailed, args!["txt-2", human], node);
        }
    }
}

impl<'v> Walk<'v> {
    /// A resource with a language states it on its narrative's div, as
    /// both `lang` (HTML) and `xml:lang` (XML) (R4 narrative.html and the
    /// W3C advice on declaring the language of XHTML).
    fn narrative_language(&mut self, div: Element<'v>, facts: &NarrativeFacts) {
        let resource = div
            .parent()
            .filter(|t| t.name() == "text")
            .and_then(|t| t.parent())
            .filter(|r| r.is_resource());
        let Some(language) = resource.and_then(|r| r.child_value("language")) else {
            return;
        };
        let missing = match (&facts.root_lang, &facts.root_xml_lang) {
            (Some(_), Some(_)) => return,
            (None, None) => "lang and xml:lang",
            (None, Some(_)) => "lang",
            (Some(_), None) => "xml:lang",
        };
        self.report(Msg::NarrativeLangMissing, args![language, missing], div);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(div: &str) -> NarrativeFacts {
        let report = super::super::xhtml::check(div, &foldhash::HashSet::default());
        report.facts.expect("parses")
    }

    #[test]
    fn content_is_text_or_an_image() {
        let ns = r#"xmlns="http://www.w3.org/1999/xhtml""#;
        assert!(!facts(&format!("<div {ns}> <p>  </p></div>")).has_content);
        assert!(facts(&format!("<div {ns}><p>x</p></div>")).has_content);
        assert!(facts(&format!("<div {ns}><img src=\"#a\"/></div>")).has_content);
        assert!(facts(&format!("<div {ns}>&nbsp;</div>")).has_content);
    }

    #[test]
    fn paragraphs_hold_no_blocks() {
        let f = facts(
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>a<ul><li>b</li></ul></p><div><p>c</p></div></div>"#,
        );
        assert_eq!(f.blocks_in_paragraph, ["ul"]);
    }

    #[test]
    fn entities_are_xml_or_html() {
        let f = facts(
            r#"<div xmlns="http://www.w3.org/1999/xhtml">&amp; &nbsp; &#160; &foo; &foo;</div>"#,
        );
        assert_eq!(f.unknown_entities, ["foo"]);
    }
}
