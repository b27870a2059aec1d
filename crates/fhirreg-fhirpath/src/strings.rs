//! encode/decode/escape/unescape and a basic narrative XHTML check.

use crate::functions::Func;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8], url: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let c = B64[((n >> (18 - 6 * i)) & 63) as usize];
                out.push(match (url, c) {
                    (true, b'+') => '-',
                    (true, b'/') => '_',
                    _ => c as char,
                });
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => continue,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Apply encode/decode/escape/unescape with the given format.
pub(crate) fn transform(f: Func, s: &str, kind: &str) -> Option<String> {
    match (f, kind) {
        (Func::Encode, "base64") => Some(base64_encode(s.as_bytes(), false)),
        (Func::Encode, "urlbase64") => Some(base64_encode(s.as_bytes(), true)),
        (Func::Encode, "hex") => Some(s.bytes().map(|b| format!("{b:02x}")).collect()),
        (Func::Decode, "base64" | "urlbase64") => String::from_utf8(base64_decode(s)?).ok(),
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
        (Func::Unescape, "json") => {
            let mut out = String::with_capacity(s.len());
            let mut chars = s.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some(o) => out.push(o),
                    None => out.push('\\'),
                }
            }
            Some(out)
        }
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
    fn base64_round_trip() {
        assert_eq!(base64_encode(b"test", false), "dGVzdA==");
        assert_eq!(base64_decode("dGVzdA==").unwrap(), b"test");
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
