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

/// A byte a base64Binary value may hold besides whitespace: `A-Z a-z 0-9 + / =`.
fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

/// A byte a base64Binary value may hold: a base64 character or ASCII
/// whitespace.
fn is_allowed(b: u8) -> bool {
    is_base64_char(b) || b.is_ascii_whitespace()
}

/// Bytes checked at a time in long values (attachments run to megabytes):
/// a block is checked without an early exit, which the compiler turns into
/// SIMD compares; only a failing block is searched byte by byte.
const BLOCK: usize = 64;

/// The first byte of `bytes` for which `hit` holds.
fn find_by_blocks(bytes: &[u8], hit: impl Fn(u8) -> bool) -> Option<u8> {
    let mut blocks = bytes.chunks_exact(BLOCK);
    for block in blocks.by_ref() {
        if block.iter().fold(false, |any, &b| any | hit(b)) {
            return block.iter().copied().find(|&b| hit(b));
        }
    }
    blocks.remainder().iter().copied().find(|&b| hit(b))
}

/// The first byte of `value` that is neither a base64 character nor ASCII
/// whitespace: the value is then not base64.
pub(crate) fn first_invalid_byte(value: &str) -> Option<u8> {
    find_by_blocks(value.as_bytes(), |b| !is_allowed(b))
}

/// Whether `value` holds ASCII whitespace (allowed, with a warning).
pub(crate) fn has_whitespace(value: &str) -> bool {
    find_by_blocks(value.as_bytes(), |b| b.is_ascii_whitespace()).is_some()
}

/// The characters a decoder reads: `value` without its ASCII whitespace.
pub(crate) fn compact(value: &str) -> Vec<u8> {
    value.bytes().filter(|b| !b.is_ascii_whitespace()).collect()
}

/// How many bytes the compacted base64 `chars` decode to: three for every
/// four characters, less the padding (a partial group at the end counts
/// nothing).
pub(crate) fn decoded_len(chars: &[u8]) -> usize {
    let pad = chars.iter().rev().take_while(|&&b| b == b'=').count();
    (chars.len() / 4 * 3).saturating_sub(pad)
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
    fn lexical_rule() {
        assert_eq!(first_invalid_byte("aGVs bG8=\n"), None);
        assert_eq!(first_invalid_byte("abc.def"), Some(b'.'));
        assert_eq!(first_invalid_byte("ab-c"), Some(b'-'));
        assert_eq!(first_invalid_byte("ab_c"), Some(b'_'));
        assert!(has_whitespace("aGVs\tbG8="));
        assert!(!has_whitespace("aGVsbG8="));
    }

    #[test]
    fn long_values_are_checked_block_by_block() {
        let good = "QUJD".repeat(100);
        assert_eq!(first_invalid_byte(&good), None);
        // In a block, on a block's edges, in the remainder; a later bad byte
        // does not hide the first.
        for at in [0, 63, 64, 130, 383, 384, 399] {
            let mut bad = good.clone().into_bytes();
            bad[at] = b'.';
            if at + 5 < bad.len() {
                bad[at + 5] = b'-';
            }
            let bad = String::from_utf8(bad).unwrap();
            assert_eq!(first_invalid_byte(&bad), Some(b'.'), "at {at}");
        }
        let mut spaced = good.clone();
        spaced.insert(250, '\n');
        assert!(has_whitespace(&spaced));
        assert_eq!(first_invalid_byte(&spaced), None);
        assert!(!has_whitespace(&good));
    }

    #[test]
    fn decoded_length_from_length_and_padding() {
        assert_eq!(decoded_len(&compact("aGVs bG8=")), 5);
        assert_eq!(decoded_len(&compact("aGk=")), 2);
        assert_eq!(decoded_len(&compact("aA==")), 1);
        assert_eq!(decoded_len(&compact("aGVsbG8h")), 6);
        // a partial group counts nothing
        assert_eq!(decoded_len(&compact("aGVsbG")), 3);
        assert_eq!(decoded_len(b""), 0);
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
