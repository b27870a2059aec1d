//! Checking a download against the registry's `dist.shasum` (SHA-1, hex)
//! and `dist.integrity` (Subresource Integrity: `sha512-<base64>`, several
//! separated by spaces).

use base64::Engine as _;
use sha1::Digest as _;

/// A failed check: the algorithm, what the registry says, what the
/// download has (both as the registry writes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch {
    pub algorithm: &'static str,
    pub expected: String,
    pub actual: String,
}

/// Check `bytes` against every digest given. `Ok(names)` lists the checks
/// made (`shasum`, `sha512`, ...): empty when the registry gave no digest
/// this crate knows.
pub(crate) fn verify(
    bytes: &[u8],
    shasum: Option<&str>,
    integrity: Option<&str>,
) -> Result<Vec<&'static str>, Mismatch> {
    let mut checked = Vec::new();
    if let Some(expected) = shasum.map(str::trim).filter(|s| !s.is_empty()) {
        let actual = hex(&sha1::Sha1::digest(bytes));
        if !actual.eq_ignore_ascii_case(expected) {
            return Err(Mismatch {
                algorithm: "shasum (SHA-1)",
                expected: expected.to_owned(),
                actual,
            });
        }
        checked.push("shasum");
    }
    if let Some(integrity) = integrity {
        if let Some(algorithm) = check_integrity(bytes, integrity)? {
            checked.push(algorithm);
        }
    }
    Ok(checked)
}

/// Subresource Integrity: of the known algorithms present, the strongest
/// decides, and one of its values must match (a list may carry several
/// values per algorithm). `Ok(None)` when no algorithm is known.
fn check_integrity(bytes: &[u8], integrity: &str) -> Result<Option<&'static str>, Mismatch> {
    const ALGORITHMS: [&str; 4] = ["sha512", "sha384", "sha256", "sha1"];
    let values: Vec<(&str, &str)> = integrity
        .split_whitespace()
        .filter_map(|token| {
            let (algorithm, rest) = token.split_once('-')?;
            // Options after '?' are reserved by the SRI specification.
            let value = rest.split_once('?').map_or(rest, |(v, _)| v);
            Some((algorithm, value))
        })
        .collect();
    let Some(algorithm) = ALGORITHMS
        .into_iter()
        .find(|a| values.iter().any(|(b, _)| b.eq_ignore_ascii_case(a)))
    else {
        return Ok(None);
    };
    let actual = match algorithm {
        "sha512" => sha2::Sha512::digest(bytes).to_vec(),
        "sha384" => sha2::Sha384::digest(bytes).to_vec(),
        "sha256" => sha2::Sha256::digest(bytes).to_vec(),
        _ => sha1::Sha1::digest(bytes).to_vec(),
    };
    let expected: Vec<&str> = values
        .iter()
        .filter(|(a, _)| a.eq_ignore_ascii_case(algorithm))
        .map(|(_, v)| *v)
        .collect();
    let matches = |value: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(value)
            .is_ok_and(|decoded| decoded == actual)
    };
    if expected.iter().any(|v| matches(v)) {
        Ok(Some(algorithm))
    } else {
        Err(Mismatch {
            algorithm,
            expected: expected.join(" "),
            actual: base64::engine::general_purpose::STANDARD.encode(&actual),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `sha512-<base64>` of `bytes` and their SHA-1 in hex, as npm writes
/// `dist.integrity` and `dist.shasum`.
pub(crate) fn npm_digests(bytes: &[u8]) -> (String, String) {
    let integrity = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))
    );
    (hex(&sha1::Sha1::digest(bytes)), integrity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // SHA-1 and SHA-512 of "abc" (FIPS 180 examples).
        let (shasum, integrity) = npm_digests(b"abc");
        assert_eq!(shasum, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert!(integrity.starts_with("sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="));
        assert_eq!(
            verify(b"abc", Some(&shasum.to_uppercase()), Some(&integrity)),
            Ok(vec!["shasum", "sha512"])
        );
        assert_eq!(verify(b"abc", None, None), Ok(vec![]));
        assert_eq!(
            verify(b"abc", None, Some("md5-kAFQmDzST7DWlj99KOF/cg==")),
            Ok(vec![])
        );
    }

    #[test]
    fn mismatches() {
        let (shasum, integrity) = npm_digests(b"abc");
        let err = verify(b"abd", Some(&shasum), None).expect_err("sha1");
        assert_eq!(err.expected, shasum);
        assert!(verify(b"abd", None, Some(&integrity)).is_err());
        // The strongest algorithm decides: a right sha1 does not excuse a wrong sha512.
        let (_, other) = npm_digests(b"xyz");
        let sha1_sri = format!(
            "sha1-{}",
            base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(b"abc"))
        );
        assert!(verify(b"abc", None, Some(&format!("{sha1_sri} {other}"))).is_err());
        assert!(verify(b"abc", None, Some(&format!("{other} {integrity}"))).is_ok());
        assert!(verify(b"abc", None, Some("sha512-not*base64")).is_err());
    }
}
