//! encode/decode/escape/unescape and a basic narrative XHTML check.

use crate::functions::Func;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD, URL_SAFE};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};

/// A decoder of one alphabet that takes the text with or without padding
/// and ignores bits left over in the last character.
const fn lenient(alphabet: &alphabet::Alphabet) -> GeneralPurpose {
    GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

const DECODE_STANDARD: GeneralPurpose = lenient(&alphabet::STANDARD);
const DECODE_URL_SAFE: GeneralPurpose = lenient(&alphabet::URL_SAFE);

/// Apply encode/decode/escape/unescape with the given format.
pub(crate) fn transform(f: Func, s: &str, kind: &str) -> Option<String> {
    match (f, kind) {
        (Func::Encode, "base64") => Some(STANDARD.encode(s)),
        (Func::Encode, "urlbase64") => Some(URL_SAFE.encode(s)),
        (Func::Encode, "hex") => Some(s.bytes().map(|b| format!("{b:02x}")).collect()),
        (Func::Decode, "base64") => String::from_utf8(DECODE_STANDARD.decode(s).ok()?).ok(),
        (Func::Decode, "urlbase64") => String::from_utf8(DECODE_URL_SAFE.decode(s).ok()?).ok(),
        (Func::Decode, "hex") => {
            if !s.len().is_multiple_of(2) || !s.is_ascii() {
                return None;
            }
            let bytes: Option<Vec<u8>> = (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
                .collect();
            String::from_utf8(bytes?).ok()
        }
        (Func::Escape, "html") => Some(
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#39;"),
        ),
        (Func::Unescape, "html") => Some(
            s.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        ),
        (Func::Escape, "json") => Some(
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
                .replace('\r', "\\r")
                .replace('\t', "\\t"),
        ),
        // JSON's escapes are FHIRPath's (a lone backslash or a bad \u is not JSON)
        (Func::Unescape, "json") => crate::parser::resolve_escapes(s).ok(),
        _ => None,
    }
}

/// A basic check of narrative XHTML: no script, no event handlers, no
/// forbidden elements, and not empty.
pub(crate) fn html_ok(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    if lower.trim().is_empty() {
        return false;
    }
    let forbidden = [
        "<script",
        "<object",
        "<applet",
        "<embed",
        "<form",
        "<iframe",
        "<frame",
        "<base",
        "<link",
        "<meta",
        "javascript:",
    ];
    if forbidden.iter().any(|f| lower.contains(f)) {
        return false;
    }
    // Event handler attributes such as onclick=
    let bytes = lower.as_bytes();
    for (i, w) in bytes.windows(3).enumerate() {
        if w[0].is_ascii_whitespace() && w[1] == b'o' && w[2] == b'n' {
            let rest = &lower[i + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            if name.len() > 2 && rest[name.len()..].trim_start().starts_with('=') {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_unescape() {
        let u = |s: &str| transform(Func::Unescape, s, "json");
        assert_eq!(u(r#"\"1<2\""#).as_deref(), Some("\"1<2\""));
        assert_eq!(u(r"a\nb\tc\\d\/").as_deref(), Some("a\nb\tc\\d/"));
        assert_eq!(u(r"\u0041\f").as_deref(), Some("A\u{c}"));
        assert_eq!(u("plain").as_deref(), Some("plain"));
        assert_eq!(u(r"dangling\"), None);
        assert_eq!(u(r"\uZZZZ"), None);
    }

    #[test]
    fn base64_round_trip() {
        let t = |kind: &str, s: &str| transform(Func::Encode, s, kind);
        let d = |kind: &str, s: &str| transform(Func::Decode, s, kind);
        assert_eq!(t("base64", "test").as_deref(), Some("dGVzdA=="));
        assert_eq!(
            t("base64", "subjects?_d").as_deref(),
            Some("c3ViamVjdHM/X2Q=")
        );
        assert_eq!(
            t("urlbase64", "subjects?_d").as_deref(),
            Some("c3ViamVjdHM_X2Q=")
        );
        assert_eq!(d("base64", "dGVzdA==").as_deref(), Some("test"));
        assert_eq!(d("base64", "dGVzdA").as_deref(), Some("test"));
        assert_eq!(
            d("urlbase64", "c3ViamVjdHM_X2Q=").as_deref(),
            Some("subjects?_d")
        );
        assert_eq!(d("base64", "c3ViamVjdHM_X2Q="), None);
        assert_eq!(d("base64", "a.b"), None);
        assert_eq!(d("base64", "/w=="), None, "not UTF-8");
    }

    #[test]
    fn html_checks_reject_scripts() {
        assert!(html_ok(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\">hi</div>"
        ));
        assert!(!html_ok("<div><script>x</script></div>"));
        assert!(!html_ok("<div onclick=\"x\">a</div>"));
    }
}
