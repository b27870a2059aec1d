//! Primitive values: the lexical rules of the FHIR R4 primitive types
//! (<https://hl7.org/fhir/R4/datatypes.html#primitive>), the JSON value
//! kind of each, empty primitives, narrative XHTML ([`xhtml`]) and base64
//! ([`base64_binary`]). A valid value then gets the checks that need a
//! value: `maxLength` and limits (`checks::limits`), the binding
//! (`checks::binding`), canonical references (`checks::reference`).

pub(crate) mod base64_binary;
pub(crate) mod narrative;
pub(crate) mod xhtml;

use crate::plan::{self, ElemDef, Mode, TypeRef};
use crate::walk::Walk;
use fhirreg_element::args;
use fhirreg_element::message::{Args, Message, Msg};
use fhirreg_element::{Element, ValueKind};
use fhirreg_fhirpath::days_in_month;
use foldhash::{HashSet, HashSetExt};

/// The outcome of a primitive check: a message (its severity says whether
/// it is only a warning).
pub(crate) type Problem = Message;

fn problem(msg: Msg, args: Args) -> Problem {
    Message::new(msg, args)
}

/// Maximum length of a string value: R4 says 1 MB, "1024*1024
/// characters" (datatypes.html#string).
pub(crate) const MAX_STRING_CHARS: usize = 1024 * 1024;

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_integer_lexical(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    all_digits(body) && (body == "0" || !body.starts_with('0'))
}

/// R4 decimal: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub(crate) fn is_decimal(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if let Some(e) = exp {
        if !all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)) {
            return false;
        }
    }
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    if !all_digits(int) || (int.len() > 1 && int.starts_with('0')) {
        return false;
    }
    frac.map_or(true, all_digits)
}

fn num(s: &str, len: usize) -> Option<u32> {
    if s.len() == len && all_digits(s) {
        s.parse().ok()
    } else {
        None
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` with a real calendar date.
fn is_date(s: &str) -> bool {
    let mut parts = s.split('-');
    let Some(year) = parts.next().and_then(|y| num(y, 4)) else {
        return false;
    };
    if year == 0 {
        return false;
    }
    let month = match parts.next() {
        None => return true,
        Some(m) => match num(m, 2) {
            Some(m) if (1..=12).contains(&m) => m,
            _ => return false,
        },
    };
    let day_ok = match parts.next() {
        None => true,
        // (four digits and 1-12: both fit)
        Some(d) => matches!(num(d, 2), Some(d) if d >= 1
            && d <= u32::from(days_in_month(year as i32, month as u8))),
    };
    day_ok && parts.next().is_none()
}

/// `hh:mm:ss(.f+)?`.
fn is_time(s: &str) -> bool {
    let (hms, frac) = match s.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (s, None),
    };
    let mut p = hms.split(':');
    let ok = matches!(p.next().and_then(|h| num(h, 2)), Some(h) if h < 24)
        && matches!(p.next().and_then(|m| num(m, 2)), Some(m) if m < 60)
        && matches!(p.next().and_then(|x| num(x, 2)), Some(x) if x <= 60)
        && p.next().is_none();
    ok && frac.map_or(true, all_digits)
}

fn is_tz(s: &str) -> bool {
    if s == "Z" {
        return true;
    }
    let Some(rest) = s.strip_prefix(['+', '-']) else {
        return false;
    };
    match rest.split_once(':') {
        Some((h, m)) => {
            matches!(num(h, 2), Some(h) if h <= 14) && matches!(num(m, 2), Some(m) if m < 60)
        }
        None => false,
    }
}

/// Split `...Thh:mm:ss(.fff)(tz)` into time and timezone parts.
fn split_tz(t: &str) -> (&str, &str) {
    match t.find(['Z', '+', '-']) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    }
}

fn check_date_time(value: &str, instant: bool) -> Option<Problem> {
    let msg = if instant {
        Msg::InstantInvalid
    } else {
        Msg::DateTimeInvalid
    };
    let bad = || Some(problem(msg, args![value]));
    let (date, time) = match value.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (value, None),
    };
    if !is_date(date) {
        return bad();
    }
    match time {
        None => {
            if instant {
                return bad();
            }
            None
        }
        Some(t) => {
            if date.len() != 10 {
                return bad();
            }
            let (clock, tz) = split_tz(t);
            if !is_time(clock) {
                return bad();
            }
            if tz.is_empty() {
                return Some(problem(Msg::DateTimeNoTimezone, args![]));
            }
            if !is_tz(tz) {
                return bad();
            }
            None
        }
    }
}

fn is_uuid_body(s: &str) -> bool {
    let groups = [8, 4, 4, 4, 12];
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().zip(groups).all(|(p, n)| {
            p.len() == n
                && p.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

fn is_oid_body(s: &str) -> bool {
    let mut parts = s.split('.');
    let first_ok = matches!(parts.next(), Some("0" | "1" | "2"));
    let mut n = 0;
    let rest_ok = parts.all(|p| {
        n += 1;
        all_digits(p) && (p == "0" || !p.starts_with('0'))
    });
    first_ok && rest_ok && n >= 1
}

fn check_uri(value: &str, type_code: &str) -> Option<Problem> {
    if value.chars().any(char::is_whitespace) {
        return Some(problem(Msg::UriWhitespace, args![value]));
    }
    if value.starts_with("oid:") {
        return Some(problem(Msg::UriOidPrefix, args![]));
    }
    if value.starts_with("uuid:") {
        return Some(problem(Msg::UriUuidPrefix, args![]));
    }
    if let Some(u) = value
        .strip_prefix("urn:uuid:")
        .map(|u| u.split('#').next().unwrap_or(u))
    {
        if !is_uuid_body(u) {
            return Some(problem(Msg::UuidInvalid, args![u]));
        }
    }
    if let Some(o) = value.strip_prefix("urn:oid:") {
        if !is_oid_body(o) {
            return Some(problem(Msg::OidInvalid, args![o]));
        }
    }
    match type_code {
        "oid" if !value.starts_with("urn:oid:") => Some(problem(Msg::OidPrefix, args![])),
        "uuid" if !value.starts_with("urn:uuid:") => Some(problem(Msg::UuidPrefix, args![])),
        _ => None,
    }
}

/// R4 `id`: 1-64 of `[A-Za-z0-9\-\.]`.
pub(crate) fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Check a primitive value of the given FHIR type; `None` when it is fine.
pub(crate) fn check(type_code: &str, value: &str) -> Option<Problem> {
    if value.is_empty() && type_code != "xhtml" {
        return Some(problem(Msg::ValueEmpty, args![]));
    }
    // (counted in characters, as the specification has it; only a string
    // of more bytes than that can have too many)
    if value.len() > MAX_STRING_CHARS && value.chars().count() > MAX_STRING_CHARS {
        return Some(problem(Msg::StringTooLong, args![]));
    }
    match type_code {
        "boolean" => {
            (value != "true" && value != "false").then(|| problem(Msg::BooleanInvalid, args![]))
        }
        "integer" | "positiveInt" | "unsignedInt" => {
            if !is_integer_lexical(value) {
                return Some(problem(Msg::IntegerInvalid, args![value]));
            }
            let Ok(n) = value.parse::<i64>() else {
                return Some(problem(Msg::IntegerInvalid, args![value]));
            };
            if n > i64::from(i32::MAX) {
                return Some(problem(Msg::IntegerTooLarge, args![i32::MAX]));
            }
            if n < i64::from(i32::MIN) {
                return Some(problem(Msg::IntegerTooSmall, args![i32::MIN]));
            }
            match type_code {
                "positiveInt" if n < 1 => Some(problem(Msg::PositiveIntTooSmall, args![])),
                "unsignedInt" if n < 0 => Some(problem(Msg::UnsignedIntNegative, args![])),
                _ => None,
            }
        }
        "decimal" => (!is_decimal(value)).then(|| problem(Msg::DecimalInvalid, args![value])),
        "date" => (!is_date(value)).then(|| problem(Msg::DateInvalid, args![value])),
        "dateTime" => check_date_time(value, false),
        "instant" => {
            if !value.contains('T') {
                return Some(problem(Msg::InstantInvalid, args![value]));
            }
            check_date_time(value, true)
        }
        "time" => (!is_time(value)).then(|| problem(Msg::TimeInvalid, args![value])),
        "uri" | "url" | "canonical" | "oid" | "uuid" => check_uri(value, type_code),
        "id" => (!is_id(value)).then(|| problem(Msg::IdInvalid, args![value])),
        "code" => {
            // The R4 regex `[^\s]+(\s[^\s]+)*`, with `\s` as in Java
            // regular expressions (ASCII whitespace only).
            let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r');
            let bad = value.starts_with(ws)
                || value.ends_with(ws)
                || value
                    .chars()
                    .zip(value.chars().skip(1))
                    .any(|(a, b)| ws(a) && ws(b));
            bad.then(|| problem(Msg::CodeWhitespace, args![value]))
        }
        "base64Binary" => {
            let scan = base64_binary::scan(value);
            if scan.first_invalid.is_some() {
                return Some(problem(Msg::Base64Invalid, args![snip(value)]));
            }
            (scan.whitespace > 0).then(|| problem(Msg::Base64Whitespace, args![]))
        }
        "string" | "markdown" => value
            .trim()
            .is_empty()
            .then(|| problem(Msg::WhitespaceOnly, args![])),
        _ => None,
    }
}

/// The rules a lexically valid value is held to beyond its type's
/// grammar: bi-directional control characters are closed (an error), a
/// string has no whitespace around its content and a date's year is
/// plausible (warnings: the HL7 Java validator's severities).
pub(crate) fn value_rules(type_code: &str, value: &str) -> Vec<Problem> {
    let mut found = Vec::new();
    if !bidi_balanced(value) {
        found.push(problem(Msg::BidiUnterminated, args![snip(value)]));
    }
    match type_code {
        // (R4 datatypes: leading and trailing whitespace SHOULD be removed;
        // like Java's trim(), every character up to U+0020 counts)
        "string" if value.trim_matches(|c: char| c <= ' ') != value => {
            found.push(problem(Msg::StringWhitespace, args![snip(value)]));
        }
        "date" | "dateTime" | "instant" if !year_plausible(value) => {
            found.push(problem(Msg::DateYearUnreasonable, args![value]));
        }
        "markdown" => {
            if let Some(tag) = html_tag(value) {
                found.push(problem(Msg::MarkdownHtml, args![tag]));
            }
        }
        _ => {}
    }
    found
}

/// The first thing in markdown that looks like an HTML tag: `<` then a
/// letter (or `/` and a letter, or `!--`), up to the next `>` or space.
/// Markdown autolinks (`<https://x>`, `<a@b.org>`) are not tags. HTML in
/// markdown is shown escaped by FHIR readers (security.html), so it is
/// worth a look, not an error.
fn html_tag(value: &str) -> Option<&str> {
    let bytes = value.as_bytes();
    let mut from = 0;
    while let Some(i) = value[from..].find('<').map(|i| from + i) {
        from = i + 1;
        let rest = &value[i + 1..];
        let tag_like = rest.starts_with("!--")
            || rest.starts_with(|c: char| c.is_ascii_alphabetic())
            || (rest.starts_with('/') && rest[1..].starts_with(|c: char| c.is_ascii_alphabetic()));
        if !tag_like {
            continue;
        }
        let end = rest
            .find(|c: char| c == '>' || c.is_whitespace())
            .unwrap_or(rest.len());
        let inner = &rest[..end];
        let closed = rest[end..].starts_with('>');
        if closed && (inner.contains(':') || inner.contains('@')) {
            continue; // an autolink
        }
        let stop = (i + 1 + end + usize::from(closed)).min(bytes.len());
        return value.get(i..stop);
    }
    None
}

/// Bi-directional embeddings and overrides (U+202A, U+202B, U+202D,
/// U+202E) are closed by U+202C, isolates (U+2066 to U+2068) by U+2069,
/// innermost first (Unicode UAX #9); text that leaves one open or closes
/// one it never opened can hide what it says (CVE-2021-42574).
fn bidi_balanced(value: &str) -> bool {
    #[derive(PartialEq)]
    enum Open {
        Embedding,
        Isolate,
    }
    // Every bidi control is U+202x or U+206x: three bytes in UTF-8, the
    // first 0xE2. Most values (narratives, base64) have no such byte: a
    // byte search, not a character decode, settles them.
    if !value.as_bytes().contains(&0xE2)
        || !value
            .chars()
            .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return true;
    }
    let mut open = Vec::new();
    for c in value.chars() {
        match c {
            '\u{202A}' | '\u{202B}' | '\u{202D}' | '\u{202E}' => open.push(Open::Embedding),
            '\u{2066}'..='\u{2068}' => open.push(Open::Isolate),
            '\u{202C}' if open.pop() != Some(Open::Embedding) => return false,
            '\u{2069}' => {
                // (closing an isolate closes the embeddings opened inside it)
                loop {
                    match open.pop() {
                        Some(Open::Isolate) => break,
                        Some(Open::Embedding) => {}
                        None => return false,
                    }
                }
            }
            _ => {}
        }
    }
    open.is_empty()
}

/// The first year that is plausible in health data; later years up to a
/// century ahead of now are plausible too (the HL7 Java validator's range).
const FIRST_PLAUSIBLE_YEAR: u32 = 1800;

fn year_plausible(value: &str) -> bool {
    let Some(year) = value.get(..4).and_then(|y| num(y, 4)) else {
        return true; // (not a date: reported by `check`)
    };
    // The clock is read once per process (a year off at new year does not
    // matter to a century's margin), through FHIRPath's clock, which also
    // works in the browser (std has no clock on wasm32-unknown-unknown).
    static THIS_YEAR: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let this_year = *THIS_YEAR.get_or_init(|| i64::from(fhirreg_fhirpath::now_utc().year));
    year >= FIRST_PLAUSIBLE_YEAR && i64::from(year) <= this_year + 100
}

fn snip(v: &str) -> &str {
    if v.len() > 100 {
        "(snip)"
    } else {
        v
    }
}

impl<'v> Walk<'v> {
    pub(crate) fn primitive(&mut self, node: Element<'v>, t: &TypeRef, def: &ElemDef) {
        let code = t.code.as_str();
        if let Some(v) = node.value() {
            if self.json {
                let want = plan::json_kind(code);
                if node.value_kind() != want {
                    let msg = match want {
                        ValueKind::Boolean => Msg::JsonValueNotBoolean,
                        ValueKind::Number => Msg::JsonValueNotNumber,
                        ValueKind::String => Msg::JsonValueNotString,
                    };
                    self.report(msg, args![], node);
                }
            }
            if code == "xhtml" {
                self.narrative(node, v);
            } else if let Some(p) = check(code, v) {
                // (an invalid value is not looked up in its value set)
                if p.msg.severity().is_error() && def.path == "Attachment.data" {
                    // reported on the Attachment (see `attachment`)
                    return;
                }
                self.report(p.msg, p.args, node);
            } else {
                for p in value_rules(code, v) {
                    self.report(p.msg, p.args, node);
                }
                self.max_length(node, def, v);
                if let Some(b) = &def.binding {
                    self.binding(node, code, b, Mode::Base);
                }
                self.value_limits(node, code, def, v);
                if code == "canonical" {
                    self.canonical(node, t, v);
                }
                if (code == "uri" || code == "url") && node.name() != "system" {
                    // uris that may point at entries: reachability in documents
                    const NOT_LINKS: &[&str] = &[
                        "Bundle.entry.fullUrl",
                        "Coding.system",
                        "Identifier.system",
                        "Meta.profile",
                        "Extension.url",
                        "Quantity.system",
                        "MessageHeader.source.endpoint",
                        "MessageHeader.destination.endpoint",
                        "Endpoint.address",
                    ];
                    if !NOT_LINKS.contains(&def.path.as_str()) {
                        self.collect_bundle_ref(node, v);
                    }
                }
            }
        } else if !node
            .children()
            .any(|c| c.name() == "extension" || c.name() == "id")
        {
            // (with only an id, ele-1 reports it, as the HL7 Java validator does)
            self.report(Msg::PrimitiveEmpty, args![], node);
        }
        if node.has_children() {
            if let Some(tp) = self.v.type_plan(code) {
                self.anchors.push((self.path.len(), Some(tp.clone()), None));
                self.children(node, &tp, 0);
                self.anchors.pop();
            }
        }
    }

    fn narrative(&mut self, node: Element<'v>, div: &str) {
        let empty = HashSet::new();
        let ids = self.contained_ids.last().unwrap_or(&empty);
        let report = xhtml::check(div, ids);
        for p in report.problems {
            self.report(p.msg, p.args, node);
        }
        if let Some(facts) = &report.facts {
            self.narrative_content(node, facts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(t: &str, v: &str) -> bool {
        check(t, v).map_or(true, |p| !p.msg.severity().is_error())
    }

    #[test]
    fn dates() {
        assert!(ok("date", "2020"));
        assert!(ok("date", "2020-02-29"));
        assert!(!ok("date", "2019-02-29"));
        assert!(!ok("date", "2020-13"));
        assert!(!ok("date", "not a date"));
        assert!(ok("dateTime", "2015-02-07T13:28:17.239+02:00"));
        assert!(ok("dateTime", "2015-02-07T13:28:17Z"));
        assert!(!ok("dateTime", "2015-02-07T13:28:17"));
        assert!(!ok("dateTime", "2015-02T13:28:17Z"));
        assert!(ok("instant", "2015-02-07T13:28:17.239+02:00"));
        assert!(!ok("instant", "2015-02-07"));
        assert!(ok("time", "23:59:60"));
        assert!(!ok("time", "24:00:00"));
    }

    #[test]
    fn numbers() {
        assert!(ok("integer", "-12"));
        assert!(!ok("integer", "012"));
        assert!(!ok("integer", "2147483648"));
        assert!(!ok("positiveInt", "0"));
        assert!(ok("unsignedInt", "0"));
        assert!(ok("decimal", "1.50"));
        assert!(ok("decimal", "-0.5e10"));
        assert!(!ok("decimal", "01.5"));
        assert!(!ok("decimal", "1."));
    }

    #[test]
    fn strings() {
        assert!(is_id("a-b.C1"));
        assert!(!is_id("bad id"));
        assert!(!is_id(&"x".repeat(65)));
        assert!(!ok("code", " a"));
        assert!(!ok("code", "a  b"));
        assert!(ok("code", "a b"));
        assert!(ok("uri", "urn:uuid:6a2ee390-978e-42c6-8f88-c17dff3bd8a1"));
        assert!(!ok("uri", "urn:uuid:6a2ee390-978e-42c6-8f88-c17dff3bd8a"));
        assert!(!ok("oid", "1.2.3"));
        assert!(ok("oid", "urn:oid:1.2.3"));
        assert!(!ok("base64Binary", "abc.def"));
        assert!(!ok("string", ""));
    }

    #[test]
    fn value_rules_of_valid_values() {
        let ids = |t: &str, v: &str| -> Vec<Msg> {
            value_rules(t, v).into_iter().map(|p| p.msg).collect()
        };
        assert_eq!(ids("string", " a"), [Msg::StringWhitespace]);
        assert_eq!(ids("string", "a\n"), [Msg::StringWhitespace]);
        assert!(ids("string", "a b").is_empty());
        assert!(ids("markdown", "a\n").is_empty());
        assert_eq!(ids("date", "1799-12-31"), [Msg::DateYearUnreasonable]);
        assert!(ids("date", "1800").is_empty());
        assert_eq!(
            ids("dateTime", "3020-01-01T00:00:00Z"),
            [Msg::DateYearUnreasonable]
        );
        assert!(ids("string", "a\u{202E}b\u{202C}").is_empty());
        assert!(ids("string", "\u{2067}a\u{202B}b\u{2069}").is_empty());
        assert_eq!(ids("string", "a\u{202E}b"), [Msg::BidiUnterminated]);
        assert_eq!(ids("string", "a\u{202C}b"), [Msg::BidiUnterminated]);
        assert_eq!(
            ids("string", "\u{2066}a\u{202C}\u{2069}"),
            [Msg::BidiUnterminated]
        );
    }
}
