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
use fhirreg_element::{args, Element, Severity};
use fhirreg_registry::model::ValueRules;

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
    /// The languages of the language sections: the root div's child
    /// elements with a `lang` or `xml:lang`, in order, once each.
    pub sections: Vec<String>,
    /// The parts directly in the root div (child elements, and text that
    /// is not whitespace) whose class does not say where they come from
    /// (`boilerplate`, `generated`, ...): the element name or the text.
    pub unsourced: Vec<String>,
}

/// The classes that say where a part of a narrative comes from (the
/// narrative-source-control extension: boilerplate, generated,
/// extensions, additional; and original, written by hand).
const SOURCE_CLASSES: &[&str] = &[
    "boilerplate",
    "generated",
    "extensions",
    "additional",
    "original",
];

/// Whether a class attribute (as written) names a source class.
pub(crate) fn is_source_class(raw: &str) -> bool {
    raw.split_ascii_whitespace()
        .any(|c| SOURCE_CLASSES.contains(&c))
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

    /// A child element `local` of the root div: its language section
    /// (`lang`), and whether its class names its source.
    pub(crate) fn part(&mut self, local: &str, lang: Option<String>, sourced: bool) {
        if let Some(lang) = lang {
            if !self.sections.contains(&lang) {
                self.sections.push(lang);
            }
        }
        if !sourced {
            self.unsourced.push(format!("<{local}>"));
        }
    }

    /// Text directly in the root div (a part without a class, unless it is
    /// whitespace).
    pub(crate) fn top_level_text(&mut self, raw: &str) {
        let text = raw.trim();
        if !text.is_empty() {
            let shown: String = text.chars().take(60).collect();
            self.unsourced.push(shown);
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

impl<'v> Walk<'v> {
    /// The controls a profile puts on a Narrative (`node`) with the
    /// extensions `narrative-language-control` (its language sections:
    /// none, some, one for the resource's language, or one for each
    /// language named) and `narrative-source-control` (each part directly
    /// in the div has a class saying where it comes from, reported at the
    /// issue severity the extension's value gives; `success` checks
    /// nothing). Reported on the Narrative.
    pub(crate) fn narrative_controls(
        &mut self,
        node: Element<'v>,
        rules: &ValueRules,
        profile: &str,
    ) {
        if rules.narrative_language.is_empty() && rules.narrative_source.is_none() {
            return;
        }
        let Some(div) = node.child_value("div") else {
            return; // (a missing div is the cardinality rule's)
        };
        let Some(facts) = super::xhtml::check_parts(div).facts else {
            return; // (XHTML that does not parse is reported as such)
        };
        for control in &rules.narrative_language {
            match control.as_str() {
                "_no" => {
                    if !facts.sections.is_empty() {
                        let mut languages = facts.sections.clone();
                        languages.sort();
                        let args = args![languages.join(", "), profile];
                        self.report(Msg::NarrativeSectionsProhibited, args, node);
                    }
                }
                "_yes" => {
                    if facts.sections.is_empty() {
                        self.report(Msg::NarrativeSectionsRequired, args![profile], node);
                    }
                }
                language => {
                    let wanted = if language == "_resource" {
                        let resource = node.parent().filter(|r| r.is_resource());
                        match resource.and_then(|r| r.child_value("language")) {
                            Some(l) => l,
                            None => continue, // (no language to look for)
                        }
                    } else {
                        language
                    };
                    if !facts.sections.iter().any(|s| s == wanted) {
                        let args = args![wanted, profile];
                        self.report(Msg::NarrativeSectionMissing, args, node);
                    }
                }
            }
        }
        // (the value is an issue severity; `success` asks for no check)
        if let Some(level) = rules
            .narrative_source
            .as_deref()
            .filter(|l| *l != "success")
        {
            let severity = match level {
                "error" | "fatal" => Severity::Error,
                "warning" => Severity::Warning,
                _ => Severity::Information,
            };
            let path = self.path.clone();
            for part in &facts.unsourced {
                let args = args![part.as_str(), profile];
                self.report_at(severity, Msg::NarrativeSourceMissing, args, &path, node);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(div: &str) -> NarrativeFacts {
        let report = super::super::xhtml::check_parts(div);
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
    fn sections_and_sources_are_the_parts_of_the_root_div() {
        let f = facts(
            r#"<div xmlns="http://www.w3.org/1999/xhtml" lang="en"> loose <div lang="nb" class="generated"><p lang="de">x</p></div><p class="a original">y</p><p xml:lang="en">z</p></div>"#,
        );
        // (the root's own lang and nested ones are not sections)
        assert_eq!(f.sections, ["nb", "en"]);
        assert_eq!(f.unsourced, ["loose", "<p>"]);
        assert!(is_source_class("x  boilerplate"));
        assert!(!is_source_class("generatedx"));
    }

    #[test]
    fn entities_are_xml_or_html() {
        let f = facts(
            r#"<div xmlns="http://www.w3.org/1999/xhtml">&amp; &nbsp; &#160; &foo; &foo;</div>"#,
        );
        assert_eq!(f.unknown_entities, ["foo"]);
    }
}
