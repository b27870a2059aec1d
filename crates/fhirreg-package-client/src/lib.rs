//! Download FHIR packages from a package registry into the FHIR package
//! cache, with their dependencies.
//!
//! FHIR package registries speak npm's protocol: `GET {registry}/{id}`
//! answers a JSON document listing the package's `versions` (each with
//! `dist.tarball`, the .tgz's URL, and `dist.shasum` and/or
//! `dist.integrity`, its digests) and `dist-tags` (`latest`). The
//! [`PackageClient`] picks a version ([`PackageDocument::select`]: exact
//! versions, tags, npm ranges), downloads the tarball, checks its digests,
//! installs it into the cache (`~/.fhir/packages/ID#VERSION/package/...`,
//! the layout the HL7 Java validator and SUSHI share, through
//! [`fhirreg_registry::install_package_as`], which refuses paths escaping
//! the package), then does the same for the `dependencies` of its
//! `package.json`, recursively.
//!
//! ```no_run
//! use fhirreg_package_client::{InstallStatus, PackageClient};
//!
//! let cache = fhirreg_registry::default_package_cache().ok_or("no HOME")?;
//! let client = PackageClient::new(cache); // $FHIRREG_PACKAGE_REGISTRY or packages.fhir.org
//! for step in client.install("hl7.fhir.no.basis#2.2.2")?.steps {
//!     if step.status == InstallStatus::Installed {
//!         println!("installed {}#{}", step.name, step.version);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Limits: the tarball ([`DEFAULT_MAX_TARBALL_SIZE`], 256 MiB, as
//! downloaded), the package document ([`DEFAULT_MAX_DOCUMENT_SIZE`]), the
//! time of one request ([`DEFAULT_TIMEOUT`]; connecting and each read are
//! bounded more tightly), and the number of packages one install may bring
//! in ([`MAX_PACKAGES_PER_INSTALL`]). The unpacked size of a package is
//! bounded by the registry crate (1 GiB).
//!
//! Dependencies that fhirreg has built in (`hl7.fhir.r4.core` and the
//! other core packages, `hl7.terminology.r4`) are not downloaded unless
//! [`PackageClient::include_embedded`] says so: the registry's loader
//! skips them in favour of the embedded copies anyway. A dependency
//! already in the cache (the exact version, or for a range the highest
//! cached version satisfying it) is not fetched again, and its own
//! dependencies are still checked.

mod digest;
mod document;

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Duration;

use fhirreg_registry::{install_package_as, list_package_cache, RegistryError};

pub use document::{PackageDocument, SelectError, VersionEntry};

/// The primary FHIR package registry. The secondary one, holding the HL7
/// publications as well, is `https://packages2.fhir.org/packages`.
pub const DEFAULT_REGISTRY: &str = "https://packages.fhir.org";

/// The environment variable naming the registry when none is set
/// explicitly.
pub const REGISTRY_ENV: &str = "FHIRREG_PACKAGE_REGISTRY";

/// Default bound on a downloaded tarball: 256 MiB (`hl7.fhir.r4.core` is
/// under 10 MiB; the largest terminology packages are well below this).
pub const DEFAULT_MAX_TARBALL_SIZE: u64 = 256 * 1024 * 1024;

/// Default bound on a package document: 32 MiB (npm-style documents
/// repeat each version's manifest; FHIR's largest have a few hundred
/// versions).
pub const DEFAULT_MAX_DOCUMENT_SIZE: u64 = 32 * 1024 * 1024;

/// Default bound on one request, connection to last byte: 5 minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Connecting gives up after this long (or the whole timeout, if shorter).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A server that sends nothing for this long is given up on (or the whole
/// timeout, if shorter).
const STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Bound on the packages one install resolves: a registry cannot make an
/// install run forever by inventing dependencies.
pub const MAX_PACKAGES_PER_INSTALL: usize = 1000;

/// Packages whose content fhirreg has built in (the FHIR R4 core and HL7
/// terminology layers), which the registry loader skips as dependencies.
const EMBEDDED_PACKAGES: [&str; 6] = [
    "hl7.fhir.r4.core",
    "hl7.fhir.r4.examples",
    "hl7.fhir.r4.expansions",
    "hl7.fhir.r4.elements",
    "hl7.terminology.r4",
    "hl7.terminology",
];

/// What went wrong talking to the registry or installing a download.
#[derive(Debug, thiserror::Error)]
pub enum PackageClientError {
    /// `ID`, `ID#VERSION` or `ID@RANGE` was expected.
    #[error("'{0}' is not a package reference (ID, ID#VERSION or ID@RANGE; ids are letters, digits, '.', '-' and '_')")]
    BadReference(String),
    /// The registry URL is not `http://` or `https://`.
    #[error("'{0}' is not an http:// or https:// registry URL")]
    BadRegistry(String),
    /// The registry does not know the package (HTTP 404).
    #[error("{id}: no such package in the registry {registry}")]
    NotFound {
        /// The package id.
        id: String,
        /// The registry asked.
        registry: String,
    },
    /// An HTTP status other than success (and 404 for the document).
    #[error("{url}: the server answered HTTP {status}")]
    Status {
        /// The URL fetched.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A download exceeds its bound (see the `max_*` setters).
    #[error("{url}: the {what} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The URL fetched.
        url: String,
        /// `package document` or `tarball`.
        what: &'static str,
        /// The bound.
        limit: u64,
    },
    /// A request took longer than its timeout.
    #[error("{url}: timed out ({message})")]
    Timeout {
        /// The URL fetched.
        url: String,
        /// Which timeout.
        message: String,
    },
    /// Connection, TLS, protocol errors.
    #[error("{url}: {message}")]
    Http {
        /// The URL fetched.
        url: String,
        /// What the HTTP client said.
        message: String,
    },
    /// The package document is not what the protocol describes.
    #[error("{url}: not a package document: {message}")]
    BadDocument {
        /// The URL fetched.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// No version of the package fits what was asked for.
    #[error("{id}: {reason} (the registry has: {available})")]
    NoVersion {
        /// The package id.
        id: String,
        /// Why.
        reason: SelectError,
        /// The versions listed, highest first (the first 20).
        available: String,
    },
    /// The registry gives neither `dist.shasum` nor a known
    /// `dist.integrity` for the version, and unverified downloads are not
    /// allowed ([`PackageClient::allow_unverified`]).
    #[error(
        "{id}#{version}: the registry gives no shasum or integrity to check the download against"
    )]
    NoChecksum {
        /// The package id.
        id: String,
        /// The version.
        version: String,
    },
    /// The download does not match the registry's digest: nothing is
    /// installed.
    #[error("{id}#{version}: the download does not match the registry's {algorithm}: expected {expected}, got {actual}; nothing installed")]
    ChecksumMismatch {
        /// The package id.
        id: String,
        /// The version.
        version: String,
        /// `shasum (SHA-1)`, `sha512`, ...
        algorithm: &'static str,
        /// The registry's value.
        expected: String,
        /// The download's.
        actual: String,
    },
    /// The install would bring in more than [`MAX_PACKAGES_PER_INSTALL`]
    /// packages.
    #[error("more than {0} packages to install: stopped")]
    TooManyPackages(usize),
    /// Unpacking or writing the package into the cache failed (a path
    /// escaping the package, a package that is no FHIR package, a tarball
    /// of another package, the disk).
    #[error("{package}: {source}")]
    Install {
        /// `ID#VERSION`.
        package: String,
        /// The registry crate's error.
        source: RegistryError,
    },
    /// Reading the cache folder failed.
    #[error("package cache: {0}")]
    Cache(RegistryError),
}

/// What happened to one package of an install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallStatus {
    /// Downloaded, checked and installed.
    Installed,
    /// Already in the cache: nothing downloaded.
    AlreadyInstalled,
    /// A dependency fhirreg has built in (`hl7.fhir.r4.core`, ...): not
    /// downloaded; `version` is the version or range asked for.
    Embedded,
}

/// One package of an install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallStep {
    /// Package id.
    pub name: String,
    /// The version installed or found (for [`InstallStatus::Embedded`],
    /// the version or range asked for).
    pub version: String,
    /// What happened.
    pub status: InstallStatus,
    /// The package whose `dependencies` asked for this one (`ID#VERSION`);
    /// `None` for the package asked for.
    pub required_by: Option<String>,
}

/// The packages an install went through, the one asked for first, then
/// its dependencies breadth first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallReport {
    /// One step per package.
    pub steps: Vec<InstallStep>,
}

impl InstallReport {
    /// The steps that downloaded something.
    pub fn installed(&self) -> impl Iterator<Item = &InstallStep> {
        self.steps
            .iter()
            .filter(|s| s.status == InstallStatus::Installed)
    }
}

/// Downloads packages from a registry into a package cache folder.
/// Cheap to build; settings by the builder-style methods.
#[derive(Debug, Clone)]
pub struct PackageClient {
    registry: String,
    cache_dir: PathBuf,
    max_tarball_size: u64,
    max_document_size: u64,
    timeout: Duration,
    include_embedded: bool,
    dependencies: bool,
    allow_unverified: bool,
}

impl PackageClient {
    /// A client installing into `cache_dir` (see
    /// [`fhirreg_registry::default_package_cache`]) from the registry named
    /// by `$FHIRREG_PACKAGE_REGISTRY`, else [`DEFAULT_REGISTRY`].
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        let registry = std::env::var(REGISTRY_ENV)
            .ok()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_REGISTRY.to_owned());
        PackageClient {
            registry,
            cache_dir: cache_dir.into(),
            max_tarball_size: DEFAULT_MAX_TARBALL_SIZE,
            max_document_size: DEFAULT_MAX_DOCUMENT_SIZE,
            timeout: DEFAULT_TIMEOUT,
            include_embedded: false,
            dependencies: true,
            allow_unverified: false,
        }
    }

    /// The registry's base URL (`https://packages.fhir.org`,
    /// `https://packages2.fhir.org/packages`, an npm registry, a mirror).
    pub fn registry(mut self, url: impl Into<String>) -> Self {
        self.registry = url.into();
        self
    }

    /// The registry this client asks.
    pub fn registry_url(&self) -> &str {
        &self.registry
    }

    /// The cache folder this client installs into.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// Bound on a tarball's size as downloaded (default
    /// [`DEFAULT_MAX_TARBALL_SIZE`]).
    pub fn max_tarball_size(mut self, bytes: u64) -> Self {
        self.max_tarball_size = bytes;
        self
    }

    /// Bound on a package document's size (default
    /// [`DEFAULT_MAX_DOCUMENT_SIZE`]).
    pub fn max_document_size(mut self, bytes: u64) -> Self {
        self.max_document_size = bytes;
        self
    }

    /// Bound on each request, connection to last byte (default
    /// [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Also download the dependencies fhirreg has built in
    /// (`hl7.fhir.r4.core`, `hl7.terminology.r4`, ...), for other tools
    /// sharing the cache (default: off).
    pub fn include_embedded(mut self, on: bool) -> Self {
        self.include_embedded = on;
        self
    }

    /// Install the dependencies too (default: on).
    pub fn dependencies(mut self, on: bool) -> Self {
        self.dependencies = on;
        self
    }

    /// Install a version for which the registry gives no digest (default:
    /// off: such a download is refused). A digest that is given is always
    /// checked.
    pub fn allow_unverified(mut self, on: bool) -> Self {
        self.allow_unverified = on;
        self
    }

    /// Fetch a package's document from the registry.
    pub fn package_document(&self, id: &str) -> Result<PackageDocument, PackageClientError> {
        let session = self.session()?;
        session.document(id)
    }

    /// Install `reference` (`ID`, `ID#VERSION` or `ID@RANGE`; no version
    /// means `dist-tags.latest`) and its dependencies. A package already
    /// in the cache is not downloaded again. On an error, the packages
    /// installed before it stay (each one complete).
    pub fn install(&self, reference: &str) -> Result<InstallReport, PackageClientError> {
        let mut report = InstallReport::default();
        self.install_with_progress(reference, |step| report.steps.push(step.clone()))?;
        Ok(report)
    }

    /// [`PackageClient::install`], telling `progress` about each package as
    /// it is done.
    pub fn install_with_progress(
        &self,
        reference: &str,
        mut progress: impl FnMut(&InstallStep),
    ) -> Result<(), PackageClientError> {
        let (id, wanted) = parse_reference(reference)?;
        let mut session = self.session()?;
        // (id, version or range, asked for by).
        let mut queue = VecDeque::from([(id.to_owned(), wanted.to_owned(), None::<String>)]);
        // Each (id, request) is resolved once, each ID#VERSION installed
        // once: dependency cycles end here.
        let mut asked: HashSet<(String, String)> = HashSet::new();
        let mut done: HashSet<String> = HashSet::new();
        while let Some((id, wanted, required_by)) = queue.pop_front() {
            if !asked.insert((id.clone(), wanted.clone())) {
                continue;
            }
            if asked.len() > MAX_PACKAGES_PER_INSTALL {
                return Err(PackageClientError::TooManyPackages(
                    MAX_PACKAGES_PER_INSTALL,
                ));
            }
            if required_by.is_some()
                && !self.include_embedded
                && EMBEDDED_PACKAGES.contains(&id.as_str())
            {
                progress(&InstallStep {
                    name: id,
                    version: wanted,
                    status: InstallStatus::Embedded,
                    required_by,
                });
                continue;
            }
            let (name, version, status, dependencies) = session.fetch(&id, &wanted)?;
            let package = format!("{name}#{version}");
            if !done.insert(package.clone()) {
                continue;
            }
            progress(&InstallStep {
                name,
                version,
                status,
                required_by,
            });
            if self.dependencies {
                for (dep, range) in dependencies {
                    queue.push_back((dep, range, Some(package.clone())));
                }
            }
        }
        Ok(())
    }

    fn session(&self) -> Result<Session<'_>, PackageClientError> {
        let registry = self.registry.trim().trim_end_matches('/');
        if !(registry.starts_with("http://") || registry.starts_with("https://")) {
            return Err(PackageClientError::BadRegistry(self.registry.clone()));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .timeout_connect(Some(self.timeout.min(CONNECT_TIMEOUT)))
            .timeout_per_read(Some(self.timeout.min(STALL_TIMEOUT)))
            // Statuses are answers to read (404 = unknown package).
            .http_status_as_error(false)
            .user_agent(concat!("fhirreg/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Session {
            client: self,
            registry: registry.to_owned(),
            agent,
            documents: HashMap::new(),
        })
    }
}

/// One install's connection pool and the documents fetched so far.
struct Session<'a> {
    client: &'a PackageClient,
    registry: String,
    agent: ureq::Agent,
    documents: HashMap<String, PackageDocument>,
}

/// (name, version, status, dependencies as (id, range)).
type Fetched = (String, String, InstallStatus, Vec<(String, String)>);

impl Session<'_> {
    fn cache(&self) -> &Path {
        &self.client.cache_dir
    }

    fn document(&self, id: &str) -> Result<PackageDocument, PackageClientError> {
        if !valid_id(id) {
            return Err(PackageClientError::BadReference(id.to_owned()));
        }
        let url = format!("{}/{id}", self.registry);
        let bytes = self
            .get(
                &url,
                self.client.max_document_size,
                "package document",
                "application/json",
            )
            .map_err(|e| match e {
                PackageClientError::Status { status: 404, .. } => PackageClientError::NotFound {
                    id: id.to_owned(),
                    registry: self.registry.clone(),
                },
                e => e,
            })?;
        PackageDocument::from_json(&bytes)
            .map_err(|message| PackageClientError::BadDocument { url, message })
    }

    /// Resolve `id` at `wanted` from the cache or the registry; install it
    /// when it is not in the cache.
    fn fetch(&mut self, id: &str, wanted: &str) -> Result<Fetched, PackageClientError> {
        if let Some(version) = self.in_cache(id, wanted)? {
            let dependencies = cached_dependencies(self.cache(), id, &version);
            return Ok((
                id.to_owned(),
                version,
                InstallStatus::AlreadyInstalled,
                dependencies,
            ));
        }
        if !self.documents.contains_key(id) {
            let document = self.document(id)?;
            self.documents.insert(id.to_owned(), document);
        }
        let Some(document) = self.documents.get(id) else {
            return Err(PackageClientError::NotFound {
                id: id.to_owned(),
                registry: self.registry.clone(),
            });
        };
        let entry = document
            .select(wanted)
            .map_err(|reason| PackageClientError::NoVersion {
                id: id.to_owned(),
                reason,
                available: available(document),
            })?
            .clone();
        let version = entry.version.clone();
        // A tag or range resolved to a version the cache already holds.
        if cache_has(self.cache(), id, &version) {
            let dependencies = cached_dependencies(self.cache(), id, &version);
            return Ok((
                id.to_owned(),
                version,
                InstallStatus::AlreadyInstalled,
                dependencies,
            ));
        }
        if !valid_version(&version) {
            return Err(PackageClientError::BadDocument {
                url: format!("{}/{id}", self.registry),
                message: format!("unusable version '{version}'"),
            });
        }
        let url = entry
            .tarball
            .clone()
            .unwrap_or_else(|| format!("{}/{id}/{version}", self.registry));
        if entry.shasum.is_none() && entry.integrity.is_none() && !self.client.allow_unverified {
            return Err(PackageClientError::NoChecksum {
                id: id.to_owned(),
                version,
            });
        }
        let tgz = self.get(
            &url,
            self.client.max_tarball_size,
            "tarball",
            "application/gzip, application/octet-stream, */*",
        )?;
        let checked = digest::verify(&tgz, entry.shasum.as_deref(), entry.integrity.as_deref())
            .map_err(|m| PackageClientError::ChecksumMismatch {
                id: id.to_owned(),
                version: version.clone(),
                algorithm: m.algorithm,
                expected: m.expected,
                actual: m.actual,
            })?;
        if checked.is_empty() && !self.client.allow_unverified {
            return Err(PackageClientError::NoChecksum {
                id: id.to_owned(),
                version,
            });
        }
        let info = install_package_as(&tgz, self.cache(), id, &version).map_err(|source| {
            PackageClientError::Install {
                package: format!("{id}#{version}"),
                source,
            }
        })?;
        Ok((
            info.name,
            info.version,
            InstallStatus::Installed,
            info.dependencies,
        ))
    }

    /// The cached version that serves `wanted`: the exact version, or the
    /// highest cached one satisfying a range. Tags (and no version) need
    /// the registry.
    fn in_cache(&self, id: &str, wanted: &str) -> Result<Option<String>, PackageClientError> {
        if cache_has(self.cache(), id, wanted) {
            return Ok(Some(wanted.to_owned()));
        }
        if wanted.trim().is_empty() || document::parse_range(wanted).is_none() {
            return Ok(None);
        }
        let cached = list_package_cache(self.cache()).map_err(PackageClientError::Cache)?;
        Ok(cached
            .into_iter()
            .filter(|p| p.name == id && document::satisfies(&p.version, wanted))
            .map(|p| p.version)
            .max_by(|a, b| document::compare(a, b)))
    }

    fn get(
        &self,
        url: &str,
        limit: u64,
        what: &'static str,
        accept: &str,
    ) -> Result<Vec<u8>, PackageClientError> {
        let too_large = || PackageClientError::TooLarge {
            url: url.to_owned(),
            what,
            limit,
        };
        let mut response = self
            .agent
            .get(url)
            .header("Accept", accept)
            .call()
            .map_err(|e| http_error(url, e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(PackageClientError::Status {
                url: url.to_owned(),
                status,
            });
        }
        // Refuse early when the server announces the size.
        if response.body().content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => too_large(),
                e => http_error(url, e),
            })
    }
}

fn http_error(url: &str, error: ureq::Error) -> PackageClientError {
    match error {
        ureq::Error::Timeout(which) => PackageClientError::Timeout {
            url: url.to_owned(),
            message: which.to_string(),
        },
        e => PackageClientError::Http {
            url: url.to_owned(),
            message: e.to_string(),
        },
    }
}

/// Split `ID`, `ID#VERSION` or `ID@VERSION` (the version may be a range or
/// a tag).
pub fn parse_reference(reference: &str) -> Result<(&str, &str), PackageClientError> {
    let reference = reference.trim();
    let (id, version) = match reference.split_once(['#', '@']) {
        Some((id, version)) => (id, version.trim()),
        None => (reference, ""),
    };
    if !valid_id(id) || version.chars().any(char::is_control) {
        return Err(PackageClientError::BadReference(reference.to_owned()));
    }
    Ok((id, version))
}

/// Package ids as FHIR registries use them; nothing that could leave the
/// URL path segment or the cache folder.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 214
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn valid_version(version: &str) -> bool {
    !version.is_empty()
        && !version.starts_with('.')
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'))
}

fn cache_has(cache: &Path, id: &str, version: &str) -> bool {
    valid_version(version)
        && cache
            .join(format!("{id}#{version}"))
            .join("package")
            .join("package.json")
            .is_file()
}

/// The `dependencies` of a cached package's `package.json` (none when it
/// cannot be read: the package is there, its manifest is the loader's
/// business).
fn cached_dependencies(cache: &Path, id: &str, version: &str) -> Vec<(String, String)> {
    let path = cache
        .join(format!("{id}#{version}"))
        .join("package")
        .join("package.json");
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Vec::new();
    };
    let mut dependencies: Vec<(String, String)> = manifest
        .get("dependencies")
        .and_then(serde_json::Value::as_object)
        .map(|deps| {
            deps.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    // In name order, as the registry crate gives an installed package's.
    dependencies.sort();
    dependencies
}

fn available(document: &PackageDocument) -> String {
    let versions = document.version_list();
    let mut text = versions
        .iter()
        .take(20)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if versions.len() > 20 {
        text.push_str(&format!(", ... ({} in all)", versions.len()));
    }
    if text.is_empty() {
        text.push_str("none");
    }
    text
}

/// `dist.shasum` (SHA-1, hex) and `dist.integrity` (`sha512-<base64>`) of
/// a tarball, as npm writes them: for serving packages (a mirror, a test
/// registry).
///
/// ```
/// let (shasum, integrity) = fhirreg_package_client::npm_dist_digests(b"abc");
/// assert_eq!(shasum, "a9993e364706816aba3e25717850c26c9cd0d89d");
/// assert!(integrity.starts_with("sha512-3a81oZNherrMQXNJ"));
/// ```
pub fn npm_dist_digests(tgz: &[u8]) -> (String, String) {
    digest::npm_digests(tgz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(
            parse_reference("hl7.fhir.no.basis").ok(),
            Some(("hl7.fhir.no.basis", ""))
        );
        assert_eq!(
            parse_reference("hl7.fhir.no.basis#2.2.3-test").ok(),
            Some(("hl7.fhir.no.basis", "2.2.3-test"))
        );
        assert_eq!(
            parse_reference("a.b@^1.0.0 || ^2").ok(),
            Some(("a.b", "^1.0.0 || ^2"))
        );
        for bad in ["", "#1.0.0", "../x", "a/b", "a b", ".hidden", "a#1\u{0}2"] {
            assert!(parse_reference(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn registry_must_be_http() {
        let client = PackageClient::new("/nonexistent").registry("file:///etc");
        assert!(matches!(
            client.install("a.b"),
            Err(PackageClientError::BadRegistry(_))
        ));
    }

    #[test]
    fn versions_usable_as_folder_names() {
        assert!(valid_version("2.2.3-test"));
        assert!(valid_version("1.0.0+build.5"));
        assert!(!valid_version("../1"));
        assert!(!valid_version("1/2"));
        assert!(!valid_version(""));
    }
}
