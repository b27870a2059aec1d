//! FHIR `base64Binary`: the lexical rule the validator applies to a value
//! (as the HL7 validator does: base64 characters, ASCII whitespace allowed
//! but warned about) and decoding through the `base64` crate.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

/// Standard alphabet; padding optional, and bits left over in the last
/// character ignored, as lenient decoders (and the HL7 validator's) do.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// ASCII whitespace (allowed in base64Binary, with a warning).
#[inline(always)]
fn is_whitespace(b: u8) -> bool {
    (b == b' ') | (b == b'\t') | (b == b'\n') | (b == b'\r') | (b == 0x0C)
}

/// A byte a base64Binary value may not hold: anything but `A-Z a-z 0-9 + /
/// =` and ASCII whitespace. Written as comparisons without branches or
/// tables so that scans vectorize: values run to megabytes (an embedded
/// PDF) and are scanned on every validation.
#[inline(always)]
fn not_base64(b: u8) -> bool {
    let letter = (b | 0x20).wrapping_sub(b'a') < 26;
    let digit = b.wrapping_sub(b'0') < 10;
    !(letter | digit | (b == b'+') | (b == b'/') | (b == b'=') | is_whitespace(b))
}

/// The first byte of `value` that is neither a base64 character nor ASCII
/// whitespace: the value is then not base64.
pub(crate) fn first_invalid_byte(value: &str) -> Option<u8> {
    let bytes = value.as_bytes();
    let find = |c: &[u8]| c.iter().copied().find(|&b| not_base64(b));
    // One branch per 64 bytes on the (usual) valid path.
    let mut chunks = bytes.chunks_exact(64);
    for c in chunks.by_ref() {
        if c.iter().fold(false, |bad, &b| bad | not_base64(b)) {
            return find(c);
        }
    }
    find(chunks.remainder())
}

/// Whether `value` holds ASCII whitespace (allowed, with a warning).
pub(crate) fn has_whitespace(value: &str) -> bool {
    whitespace_count(value) > 0
}

/// How many ASCII whitespace bytes `value` holds.
fn whitespace_count(value: &str) -> usize {
    value.bytes().map(|b| usize::from(is_whitespace(b))).sum()
}

/// The characters a decoder reads: `value` without its ASCII whitespace.
fn compact(value: &str) -> Vec<u8> {
    value.bytes().filter(|&b| !is_whitespace(b)).collect()
}

/// The number of base64 characters in `value` (whitespace not counted).
fn char_count(value: &str) -> usize {
    value.len() - whitespace_count(value)
}

/// Whether the base64 characters of `value` make whole groups of four.
pub(crate) fn whole_groups(value: &str) -> bool {
    char_count(value) % 4 == 0
}

/// How many bytes base64 `value` decodes to (whitespace ignored): three for
/// every four characters, less the padding (a partial group at the end
/// counts nothing). Counted without decoding or copying.
pub(crate) fn decoded_len(value: &str) -> usize {
    let pad = value
        .bytes()
        .rev()
        .filter(|&b| !is_whitespace(b))
        .take_while(|&b| b == b'=')
        .count();
    (char_count(value) / 4 * 3).saturating_sub(pad)
}

/// The bytes of standard base64 (whitespace ignored, padding optional);
/// `None` when it is not base64.
pub(crate) fn decode(value: &str) -> Option<Vec<u8>> {
    LENIENT.decode(compact(value)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_classes_are_the_alphabet_and_ascii_whitespace() {
        for b in 0..=255u8 {
            let allowed = b.is_ascii_alphanumeric()
                || matches!(b, b'+' | b'/' | b'=')
                || b.is_ascii_whitespace();
            assert_eq!(not_base64(b), !allowed, "{b:#x}");
            assert_eq!(is_whitespace(b), b.is_ascii_whitespace(), "{b:#x}");
        }
    }

    #[test]
    fn lexical_rule() {
        assert_eq!(first_invalid_byte("aGVs bG8=\n"), None);
        assert_eq!(first_invalid_byte("abc.def"), Some(b'.'));
        assert_eq!(first_invalid_byte("ab-c"), Some(b'-'));
        assert_eq!(first_invalid_byte("ab_c"), Some(b'_'));
        assert!(has_whitespace("aGVs\tbG8="));
        assert!(!has_whitespace("aGVsbG8="));
    }

    #[test]
    fn decoded_length_from_length_and_padding() {
        assert_eq!(decoded_len("aGVs bG8="), 5);
        assert_eq!(decoded_len("aGk="), 2);
        assert_eq!(decoded_len("aA=="), 1);
        assert_eq!(decoded_len("aA=\n= "), 1);
        assert_eq!(decoded_len("aGVsbG8h"), 6);
        // a partial group counts nothing
        assert_eq!(decoded_len("aGVsbG"), 3);
        assert!(!whole_groups("aGVsbG"));
        assert!(whole_groups("aGVs\nbG8="));
        assert_eq!(decoded_len(""), 0);
    }

    #[test]
    fn long_values_are_scanned_whole() {
        let mut v = "QUJD".repeat(40);
        assert_eq!(first_invalid_byte(&v), None);
        v.push('!');
        assert_eq!(first_invalid_byte(&v), Some(b'!'));
        v.insert(37, '-');
        assert_eq!(first_invalid_byte(&v), Some(b'-'));
    }

    #[test]
    fn decodes() {
        assert_eq!(decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(decode("aGk").as_deref(), Some(&b"hi"[..]));
        assert_eq!(decode(" aGVs\r\n bG8= ").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode("a.b"), None);
        assert_eq!(decode("a"), None);
        assert_eq!(decode("c3ViamVjdHM_X2Q="), None, "not the URL alphabet");
    }
}
