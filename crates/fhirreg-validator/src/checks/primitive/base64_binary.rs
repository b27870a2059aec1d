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

/// What one pass over a base64Binary value finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scan {
    /// The first byte that is neither a base64 character nor ASCII
    /// whitespace: the value is then not base64.
    pub(crate) first_invalid: Option<u8>,
    /// How many ASCII whitespace bytes the value holds (allowed, with a
    /// warning); counted in full only when `first_invalid` is `None`.
    pub(crate) whitespace: usize,
    /// How many `=` end the value (whitespace ignored).
    pub(crate) padding: usize,
}

impl Scan {
    /// Whether the base64 characters make whole groups of four.
    pub(crate) fn whole_groups(&self, value: &str) -> bool {
        (value.len() - self.whitespace) % 4 == 0
    }

    /// How many bytes the value decodes to: three for every four
    /// characters, less the padding (a partial group at the end counts
    /// nothing). Counted without decoding or copying.
    pub(crate) fn decoded_len(&self, value: &str) -> usize {
        ((value.len() - self.whitespace) / 4 * 3).saturating_sub(self.padding)
    }
}

/// Classify every byte of `value` in one pass: values run to megabytes
/// (an embedded PDF) and are scanned on every validation, so the loop
/// works on 64-byte blocks with byte-wide accumulators, which vectorize.
pub(crate) fn scan(value: &str) -> Scan {
    let bytes = value.as_bytes();
    let padding = bytes
        .iter()
        .rev()
        .filter(|&&b| !is_whitespace(b))
        .take_while(|&&b| b == b'=')
        .count();
    let mut whitespace = 0usize;
    let mut chunks = bytes.chunks_exact(64);
    let find = |c: &[u8]| c.iter().copied().find(|&b| not_base64(b));
    for c in chunks.by_ref() {
        let mut bad = false;
        let mut spaces = 0u8; // at most 64
        for &b in c {
            bad |= not_base64(b);
            spaces += u8::from(is_whitespace(b));
        }
        whitespace += usize::from(spaces);
        if bad {
            return Scan {
                first_invalid: find(c),
                whitespace,
                padding,
            };
        }
    }
    let rest = chunks.remainder();
    whitespace += rest.iter().filter(|&&b| is_whitespace(b)).count();
    Scan {
        first_invalid: find(rest),
        whitespace,
        padding,
    }
}

/// The first byte of `value` that is neither a base64 character nor ASCII
/// whitespace: the value is then not base64.
#[cfg(test)]
fn first_invalid_byte(value: &str) -> Option<u8> {
    scan(value).first_invalid
}

/// Whether the base64 characters of `value` make whole groups of four.
pub(crate) fn whole_groups(value: &str) -> bool {
    scan(value).whole_groups(value)
}

/// How many bytes base64 `value` decodes to (see [`Scan::decoded_len`]).
pub(crate) fn decoded_len(value: &str) -> usize {
    scan(value).decoded_len(value)
}

/// The characters a decoder reads: `value` without its ASCII whitespace.
fn compact(value: &str) -> Vec<u8> {
    value.bytes().filter(|&b| !is_whitespace(b)).collect()
}

/// The bytes of standard base64 (whitespace ignored, padding optional);
/// `None` when it is not base64.
pub(crate) fn decode(value: &str) -> Option<Vec<u8>> {
    LENIENT.decode(compact(value)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_whitespace(v: &str) -> bool {
        scan(v).whitespace > 0
    }

    #[test]
    fn block_and_remainder_agree_with_a_byte_at_a_time() {
        // Values longer than one block, with whitespace and an invalid
        // byte in the block and in the remainder.
        let base = "QUJD".repeat(40);
        for at in [0usize, 63, 64, 100, 159] {
            let mut v = base.clone().into_bytes();
            v[at] = b' ';
            let v = String::from_utf8(v).unwrap();
            let s = scan(&v);
            assert_eq!((s.first_invalid, s.whitespace), (None, 1), "{at}");
            let bad = v.replacen(' ', "!", 1);
            assert_eq!(scan(&bad).first_invalid, Some(b'!'), "{at}");
        }
    }

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
