//! The local FHIR package cache (`~/.fhir/packages`, the layout the HL7
//! tools share): locate, list and install packages.

use std::path::{Path, PathBuf};

use crate::builder::{read_manifest, read_tgz, DEFAULT_MAX_PACKAGE_SIZE};
use crate::{PackageInfo, RegistryError};

/// The default package cache folder: `$FHIR_PACKAGE_CACHE` when set, else
/// `$HOME/.fhir/packages` (`%USERPROFILE%\.fhir\packages` on Windows).
/// `None` when neither variable is set.
pub fn default_package_cache() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FHIR_PACKAGE_CACHE").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .filter(|d| !d.is_empty())
        .map(|home| PathBuf::from(home).join(".fhir").join("packages"))
}

/// A package present in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPackage {
    /// Package name (`hl7.fhir.no.basis`).
    pub name: String,
    /// Package version (`2.2.3`).
    pub version: String,
    /// The `ID#VERSION` folder (holding `package/`).
    pub path: PathBuf,
}

impl CachedPackage {
    /// `name#version`.
    pub fn id(&self) -> String {
        format!("{}#{}", self.name, self.version)
    }
}

/// The packages in a cache folder (`ID#VERSION/package/package.json`),
/// sorted by name, then version (oldest first). A missing folder is an
/// empty cache.
///
/// ```
/// let dir = std::env::temp_dir().join("fhirreg-doc-empty-cache");
/// assert!(fhirreg_registry::list_package_cache(&dir).unwrap().is_empty());
/// ```
pub fn list_package_cache(dir: &Path) -> Result<Vec<CachedPackage>, RegistryError> {
    let read = match std::fs::read_dir(dir) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(RegistryError::load(
                dir.display().to_string(),
                e.to_string(),
            ))
        }
    };
    let mut out = Vec::new();
    for entry in read.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some((name, version)) = file_name.split_once('#') else {
            continue;
        };
        let path = entry.path();
        if path.join("package").join("package.json").is_file() {
            out.push(CachedPackage {
                name: name.to_owned(),
                version: version.to_owned(),
                path,
            });
        }
    }
    out.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| crate::compare_versions(&a.version, &b.version))
    });
    Ok(out)
}

/// Locate `ID#VERSION` (or `ID@VERSION`, or the latest `ID#*`) in `root`:
/// the `ID#VERSION` folder holding `package/package.json`. A version that
/// is no folder but an npm range (`^1.0.0`, `1.0.x`, `>=2 <3`, as package
/// registries allow in `dependencies`) finds the highest cached version
/// satisfying it.
pub(crate) fn find_in_cache(root: &Path, id_version: &str) -> Option<PathBuf> {
    let (id, version) = match id_version.split_once(['#', '@']) {
        Some((id, v)) => (id, Some(v)),
        None => (id_version, None),
    };
    if !safe_segment(id) {
        return None;
    }
    match version {
        Some(v) => {
            let dir = root.join(format!("{id}#{v}"));
            if safe_segment(v) && dir.join("package").join("package.json").is_file() {
                return Some(dir);
            }
            let range = nodejs_semver::Range::parse(v).ok()?;
            list_package_cache(root)
                .ok()?
                .into_iter()
                .filter(|p| p.name == id)
                .filter_map(|p| Some((nodejs_semver::Version::parse(&p.version).ok()?, p.path)))
                .filter(|(version, _)| range.satisfies(version))
                .max_by(|(a, _), (b, _)| a.cmp(b))
                .map(|(_, path)| path)
        }
        // Sorted oldest first: the last is the latest.
        None => list_package_cache(root)
            .ok()?
            .into_iter()
            .rfind(|p| p.name == id)
            .map(|p| p.path),
    }
}

/// Where the FHIR package registry serves `id#version` as a .tgz
/// (`https://packages.fhir.org/ID/VERSION`). Fetching is up to the caller
/// (this crate does no network access: the `fhirreg-package-client` crate
/// does it); pass the bytes to [`install_package`].
pub fn package_download_url(id: &str, version: &str) -> String {
    format!("https://packages.fhir.org/{id}/{version}")
}

fn safe_segment(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('.') && !s.contains(['/', '\\', '#', ':', '\0'])
}

/// Unpack a package .tgz into the cache folder as `NAME#VERSION/` (name
/// and version from its `package.json`) and return its manifest. Paths
/// escaping the archive are rejected and the uncompressed size is bounded
/// (1 GiB); the files are written to a temporary folder first and moved
/// into place, so a failed install leaves nothing behind. An already
/// installed package is left as it is.
///
/// ```no_run
/// let tgz = std::fs::read("hl7.fhir.no.basis-2.2.3.tgz")?;
/// let cache = fhirreg_registry::default_package_cache().unwrap();
/// let info = fhirreg_registry::install_package(&tgz, &cache)?;
/// println!("installed {}", info.id());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn install_package(tgz: &[u8], cache_dir: &Path) -> Result<PackageInfo, RegistryError> {
    install(tgz, cache_dir, None)
}

/// [`install_package`] for a tarball downloaded as `name#version` (from a
/// package registry): one whose `package.json` names another package
/// (ASCII case aside) or another version is refused before anything is
/// written, so a registry cannot place a package under a name that was not
/// asked for.
///
/// ```
/// let dir = std::env::temp_dir().join("fhirreg-doc-install-as");
/// // Not a package at all: refused, nothing installed.
/// assert!(fhirreg_registry::install_package_as(b"not a tgz", &dir, "a.b", "1.0.0").is_err());
/// assert!(fhirreg_registry::list_package_cache(&dir).unwrap().is_empty());
/// ```
pub fn install_package_as(
    tgz: &[u8],
    cache_dir: &Path,
    name: &str,
    version: &str,
) -> Result<PackageInfo, RegistryError> {
    install(tgz, cache_dir, Some((name, version)))
}

fn install(
    tgz: &[u8],
    cache_dir: &Path,
    expected: Option<(&str, &str)>,
) -> Result<PackageInfo, RegistryError> {
    let err = |m: String| RegistryError::load(cache_dir.display().to_string(), m);
    let files = read_tgz(tgz, DEFAULT_MAX_PACKAGE_SIZE, |_| true).map_err(err)?;
    let manifest = files
        .iter()
        .find(|(p, _)| matches!(p.as_slice(), [top, file] if top == "package" && file == "package.json"))
        .ok_or_else(|| err("not a FHIR package: no package/package.json".into()))?;
    let mut info = read_manifest("package/package.json", &manifest.1)?;
    if !safe_segment(&info.name) || !safe_segment(&info.version) {
        return Err(err(format!(
            "unusable package name or version: {}",
            info.id()
        )));
    }
    if let Some((name, version)) = expected {
        if !info.name.eq_ignore_ascii_case(name) || info.version != version {
            return Err(err(format!(
                "the tarball of {name}#{version} holds {}",
                info.id()
            )));
        }
    }
    let target = cache_dir.join(info.id());
    info.source = target.display().to_string();
    info.resources = files
        .iter()
        .filter(|(p, _)| {
            matches!(p.as_slice(), [top, file] if top == "package" && file.ends_with(".json")
                && file != "package.json" && !file.starts_with('.'))
        })
        .count();
    if target.join("package").join("package.json").is_file() {
        return Ok(info);
    }
    let tmp = cache_dir.join(format!(".install-{}-{}", info.id(), std::process::id()));
    let io = |e: std::io::Error| err(format!("{}: {e}", tmp.display()));
    let write_all = || -> Result<(), RegistryError> {
        std::fs::create_dir_all(&tmp).map_err(io)?;
        for (parts, data) in &files {
            let path = parts.iter().fold(tmp.clone(), |p, s| p.join(s));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            std::fs::write(&path, data).map_err(io)?;
        }
        std::fs::rename(&tmp, &target).map_err(|e| err(format!("{}: {e}", target.display())))
    };
    let result = write_all();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result.map(|()| info)
}
