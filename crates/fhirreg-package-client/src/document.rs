//! The registry's package document (`GET {registry}/{id}`, npm's
//! "packument") and the choice of a version in it.

use std::cmp::Ordering;

use nodejs_semver::{Range, Version};
use serde_json::Value;

/// What a package registry says about one package: its versions and
/// distribution tags.
///
/// ```
/// use fhirreg_package_client::PackageDocument;
/// let doc = PackageDocument::from_json(br#"{
///     "name": "example.fhir.pkg",
///     "dist-tags": {"latest": "1.1.0"},
///     "versions": {
///         "1.0.0": {"dist": {"tarball": "https://example.org/example.fhir.pkg/1.0.0"}},
///         "1.1.0": {"dist": {"tarball": "https://example.org/example.fhir.pkg/1.1.0"}},
///         "2.0.0-ballot": {}
///     }
/// }"#).unwrap();
/// assert_eq!(doc.select("latest").unwrap().version, "1.1.0");
/// assert_eq!(doc.select("~1.0.0").unwrap().version, "1.0.0");
/// assert_eq!(doc.select("2.0.0-ballot").unwrap().version, "2.0.0-ballot");
/// assert!(doc.select("^3").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageDocument {
    /// `name` (empty when the registry leaves it out).
    pub name: String,
    /// `versions`, in the document's order.
    pub versions: Vec<VersionEntry>,
    /// `dist-tags`: (tag, version), `latest` among them.
    pub dist_tags: Vec<(String, String)>,
}

/// One entry of a package document's `versions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionEntry {
    /// The version (the key in `versions`).
    pub version: String,
    /// `dist.tarball`: where the .tgz is.
    pub tarball: Option<String>,
    /// `dist.shasum`: SHA-1 of the .tgz, hex.
    pub shasum: Option<String>,
    /// `dist.integrity`: Subresource Integrity (`sha512-<base64>`).
    pub integrity: Option<String>,
}

/// Why no version of a package document fits a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// Not a version, a tag or an npm range of this package.
    #[error("'{wanted}' is no version, tag or version range of this package")]
    Unknown {
        /// What was asked for.
        wanted: String,
    },
    /// A valid range that no published version satisfies.
    #[error("no version satisfies '{wanted}'")]
    NoneSatisfies {
        /// The range.
        wanted: String,
    },
    /// The document lists no versions at all.
    #[error("the registry lists no versions")]
    NoVersions,
}

impl PackageDocument {
    /// Read a package document. Only `versions` (an object) is required;
    /// entries that are not objects are skipped, missing `dist` fields are
    /// `None`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let versions = value
            .get("versions")
            .and_then(Value::as_object)
            .ok_or("no 'versions' object")?;
        let text = |v: &Value, key: &str| {
            v.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let versions = versions
            .iter()
            .filter(|(_, entry)| entry.is_object())
            .map(|(version, entry)| {
                let dist = entry.get("dist").unwrap_or(&Value::Null);
                VersionEntry {
                    version: version.clone(),
                    tarball: text(dist, "tarball"),
                    shasum: text(dist, "shasum"),
                    integrity: text(dist, "integrity"),
                }
            })
            .collect();
        let dist_tags = value
            .get("dist-tags")
            .and_then(Value::as_object)
            .map(|tags| {
                tags.iter()
                    .filter_map(|(tag, v)| Some((tag.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(PackageDocument {
            name: text(&value, "name").unwrap_or_default(),
            versions,
            dist_tags,
        })
    }

    /// The entry of exactly `version`.
    pub fn version(&self, version: &str) -> Option<&VersionEntry> {
        self.versions.iter().find(|v| v.version == version)
    }

    /// The version `wanted` stands for, tried in this order:
    ///
    /// 1. a published version, exactly (`2.2.3-test`, also when it is no
    ///    semantic version);
    /// 2. a distribution tag (`latest`, `current`, ... when the registry
    ///    has one by that name); `latest` or nothing without such a tag
    ///    means the highest release (the highest pre-release when there is
    ///    no release);
    /// 3. an npm range (`^1.2.0`, `~1.2`, `1.x`, `*`, `>=1.0.0 <2`,
    ///    `1.0.0 - 1.2.0`, `^1 || ^2`): the highest version satisfying it,
    ///    with npm's rule that pre-releases count only for ranges that name
    ///    a pre-release of the same `major.minor.patch`.
    pub fn select(&self, wanted: &str) -> Result<&VersionEntry, SelectError> {
        let wanted = wanted.trim();
        if self.versions.is_empty() {
            return Err(SelectError::NoVersions);
        }
        if let Some(entry) = self.version(wanted) {
            return Ok(entry);
        }
        let tag = if wanted.is_empty() { "latest" } else { wanted };
        if let Some(entry) = self
            .dist_tags
            .iter()
            .find(|(t, _)| t == tag)
            .and_then(|(_, v)| self.version(v))
        {
            return Ok(entry);
        }
        if tag == "latest" {
            let highest = |releases_only: bool| {
                self.versions
                    .iter()
                    .filter(|v| !releases_only || !is_prerelease(&v.version))
                    .max_by(|a, b| compare(&a.version, &b.version))
            };
            return highest(true)
                .or_else(|| highest(false))
                .ok_or(SelectError::NoVersions);
        }
        let range = parse_range(wanted).ok_or_else(|| SelectError::Unknown {
            wanted: wanted.to_owned(),
        })?;
        self.versions
            .iter()
            .filter_map(|v| Some((Version::parse(&v.version).ok()?, v)))
            .filter(|(parsed, _)| range.satisfies(parsed))
            .max_by(|(a, _), (b, _)| a.cmp(b))
            .map(|(_, entry)| entry)
            .ok_or_else(|| SelectError::NoneSatisfies {
                wanted: wanted.to_owned(),
            })
    }

    /// The versions, highest first, for messages.
    pub fn version_list(&self) -> Vec<&str> {
        let mut versions: Vec<&str> = self.versions.iter().map(|v| v.version.as_str()).collect();
        versions.sort_by(|a, b| compare(b, a));
        versions
    }
}

/// An npm range; `None` for what npm would not read as one (a tag name).
pub(crate) fn parse_range(text: &str) -> Option<Range> {
    Range::parse(text).ok()
}

/// Does `version` satisfy `wanted` (an exact version or an npm range)?
pub(crate) fn satisfies(version: &str, wanted: &str) -> bool {
    version == wanted
        || match (Version::parse(version), parse_range(wanted)) {
            (Ok(v), Some(range)) => range.satisfies(&v),
            _ => false,
        }
}

fn is_prerelease(version: &str) -> bool {
    match Version::parse(version) {
        Ok(v) => v.is_prerelease(),
        Err(_) => version.contains('-'),
    }
}

/// Semantic versions by precedence; others (`R4`, `2019May`) by the
/// registry crate's business-version order.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    match (Version::parse(a), Version::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => fhirreg_registry::compare_versions(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(versions: &[&str], latest: Option<&str>) -> PackageDocument {
        PackageDocument {
            name: "p".into(),
            versions: versions
                .iter()
                .map(|v| VersionEntry {
                    version: (*v).to_owned(),
                    tarball: None,
                    shasum: None,
                    integrity: None,
                })
                .collect(),
            dist_tags: latest
                .map(|l| vec![("latest".to_owned(), l.to_owned())])
                .unwrap_or_default(),
        }
    }

    fn pick(d: &PackageDocument, wanted: &str) -> Option<String> {
        d.select(wanted).ok().map(|e| e.version.clone())
    }

    #[test]
    fn npm_ranges_pick_the_highest_match() {
        let d = doc(
            &[
                "0.5.0",
                "0.6.0",
                "0.6.2",
                "0.7.0-ballot",
                "1.0.0",
                "1.2.0",
                "1.10.1",
                "2.0.0-snapshot1",
            ],
            None,
        );
        let cases = [
            ("^0.6.0", Some("0.6.2")),
            ("~0.6", Some("0.6.2")),
            ("0.6.x", Some("0.6.2")),
            ("0.x", Some("0.6.2")),
            ("^1", Some("1.10.1")),
            ("~1.2.0", Some("1.2.0")),
            ("1.x || 0.5.x", Some("1.10.1")),
            ("0.5.x || ^0.7.0-0", Some("0.7.0-ballot")),
            (">=0.6.0 <1.0.0", Some("0.6.2")),
            ("1.0.0 - 1.5.0", Some("1.2.0")),
            ("*", Some("1.10.1")),
            ("x", Some("1.10.1")),
            ("", Some("1.10.1")),
            ("latest", Some("1.10.1")),
            ("^2", None),
            ("^3.0.0", None),
            ("0.7.0-ballot", Some("0.7.0-ballot")),
            ("current", None),
            ("dev", None),
        ];
        for (wanted, expected) in cases {
            assert_eq!(pick(&d, wanted).as_deref(), expected, "{wanted}");
        }
    }

    #[test]
    fn tags_and_non_semantic_versions() {
        let d = doc(&["1.0", "2.0.0", "3.0.0-ballot"], Some("1.0"));
        assert_eq!(pick(&d, "latest").as_deref(), Some("1.0"));
        assert_eq!(pick(&d, "").as_deref(), Some("1.0"));
        assert_eq!(pick(&d, "1.0").as_deref(), Some("1.0"));
        // A tag naming no listed version falls back to the highest release.
        let d = doc(&["1.0.0", "1.1.0", "2.0.0-ballot"], Some("9.9.9"));
        assert_eq!(pick(&d, "latest").as_deref(), Some("1.1.0"));
        let d = doc(&["2.0.0-ballot", "2.0.0-snapshot"], None);
        assert_eq!(pick(&d, "latest").as_deref(), Some("2.0.0-snapshot"));
        assert_eq!(
            doc(&[], None).select("latest"),
            Err(SelectError::NoVersions)
        );
        let mut d = doc(&["1.0.0", "1.1.0-cibuild"], None);
        d.dist_tags.push(("current".into(), "1.1.0-cibuild".into()));
        assert_eq!(pick(&d, "current").as_deref(), Some("1.1.0-cibuild"));
    }

    #[test]
    fn document_parsing_is_tolerant() {
        let d = PackageDocument::from_json(
            br#"{"versions":{"1.0.0":{"dist":{"shasum":"ab","tarball":""}},"x":3}}"#,
        )
        .expect("parses");
        assert_eq!(d.versions.len(), 1);
        assert_eq!(d.versions[0].shasum.as_deref(), Some("ab"));
        assert_eq!(d.versions[0].tarball, None);
        assert!(PackageDocument::from_json(b"{}").is_err());
        assert!(PackageDocument::from_json(b"<html>").is_err());
        assert!(PackageDocument::from_json(br#"{"versions":[]}"#).is_err());
    }

    #[test]
    fn satisfies_exact_and_ranges() {
        assert!(satisfies("2.2.3-test", "2.2.3-test"));
        assert!(satisfies("0.6.0", "^0.6.0"));
        assert!(!satisfies("2.2.3-test", "^2.2.0"));
        assert!(!satisfies("R4", "^1"));
        assert!(satisfies("R4", "R4"));
    }
}
