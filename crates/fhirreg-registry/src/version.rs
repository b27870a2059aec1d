//! Version comparison and matching for canonical references.

use std::cmp::Ordering;

/// Compare two business versions.
///
/// Semantic versions (`1.2.3`, `1.0.0-ballot`, `2.2.3-test`, `4.0`) compare
/// numerically part by part; a release sorts after its pre-releases
/// (`1.0.0-ballot < 1.0.0`) and build metadata (`+...`) is ignored. When
/// either side is not made of dot-separated numbers (`2019-05`, `R4`), the
/// plain strings are compared.
///
/// ```
/// use std::cmp::Ordering;
/// use fhirreg_registry::compare_versions;
/// assert_eq!(compare_versions("1.10.0", "1.9.2"), Ordering::Greater);
/// assert_eq!(compare_versions("1.0.0-ballot", "1.0.0"), Ordering::Less);
/// assert_eq!(compare_versions("b", "a"), Ordering::Greater);
/// ```
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x
            .core
            .iter()
            .map(Some)
            .chain(std::iter::repeat(None))
            .zip(y.core.iter().map(Some).chain(std::iter::repeat(None)))
            .take(x.core.len().max(y.core.len()))
            .map(|(p, q)| p.cmp(&q))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
            .then_with(|| compare_pre(x.pre, y.pre))
            .then_with(|| a.cmp(b)),
        _ => a.cmp(b),
    }
}

struct Parsed<'a> {
    core: Vec<u64>,
    pre: Option<&'a str>,
}

fn parse(v: &str) -> Option<Parsed<'_>> {
    let v = v.split_once('+').map_or(v, |(head, _)| head);
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    let core = core
        .split('.')
        .map(|p| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                p.parse::<u64>().ok()
            }
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Parsed { core, pre })
}

fn compare_pre(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => {
            let mut xs = a.split('.');
            let mut ys = b.split('.');
            loop {
                match (xs.next(), ys.next()) {
                    (None, None) => return Ordering::Equal,
                    (None, Some(_)) => return Ordering::Less,
                    (Some(_), None) => return Ordering::Greater,
                    (Some(x), Some(y)) => {
                        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                            (Ok(p), Ok(q)) => p.cmp(&q),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            (Err(_), Err(_)) => x.cmp(y),
                        };
                        if o.is_ne() {
                            return o;
                        }
                    }
                }
            }
        }
    }
}

/// Does the resource version `have` satisfy the requested `want`? Exact
/// match, or `want` is a leading part of `have` (`1.0` matches `1.0.3`,
/// not `1.01`).
///
/// ```
/// use fhirreg_registry::version_matches;
/// assert!(version_matches("1.0.3", "1.0"));
/// assert!(version_matches("1.0.3", "1.0.3"));
/// assert!(!version_matches("1.01", "1.0"));
/// ```
pub fn version_matches(have: &str, want: &str) -> bool {
    have == want
        || (have.len() > want.len()
            && have.starts_with(want)
            && matches!(have.as_bytes().get(want.len()), Some(b'.') | Some(b'-')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering() {
        assert_eq!(compare_versions("1.0.0", "1.0.0"), Ordering::Equal);
        assert_eq!(compare_versions("1.0", "1.0.1"), Ordering::Less);
        assert_eq!(compare_versions("2.0.0", "10.0.0"), Ordering::Less);
        assert_eq!(
            compare_versions("1.0.0-alpha", "1.0.0-alpha.1"),
            Ordering::Less
        );
        assert_eq!(
            compare_versions("1.0.0-alpha.2", "1.0.0-alpha.10"),
            Ordering::Less
        );
        assert_eq!(compare_versions("1.0.0-2", "1.0.0-beta"), Ordering::Less);
        assert_eq!(compare_versions("2.2.3-test", "2.2.3"), Ordering::Less);
        assert_eq!(compare_versions("2.2.3-test", "2.2.2"), Ordering::Greater);
        assert_eq!(compare_versions("20190501", "2019"), Ordering::Greater);
        assert_eq!(compare_versions("R4", "R5"), Ordering::Less);
    }

    #[test]
    fn matching() {
        assert!(version_matches("4.0.1", "4.0"));
        assert!(version_matches("4.0.1", "4"));
        assert!(!version_matches("4.0.1", "4.0.2"));
        assert!(!version_matches("4.0", "4.0.1"));
        assert!(version_matches("1.0.0-ballot", "1.0.0"));
    }
}
