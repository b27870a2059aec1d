//! `fhirreg package list|show|install` and `fhirreg resolve`.

use std::path::PathBuf;

use fhirreg::registry::{default_package_cache, install_package, list_package_cache};
use fhirreg::Registry;

fn cache_dir(explicit: Option<PathBuf>) -> Result<PathBuf, String> {
    explicit.or_else(default_package_cache).ok_or_else(|| {
        "no package cache: set FHIR_PACKAGE_CACHE or HOME, or pass --cache".to_string()
    })
}

/// Print `ID#VERSION  PATH` for each cached package.
pub fn list(cache: Option<PathBuf>) -> Result<(), String> {
    let dir = cache_dir(cache)?;
    let packages = list_package_cache(&dir).map_err(|e| e.to_string())?;
    if packages.is_empty() {
        eprintln!("no packages in {}", dir.display());
    }
    for package in packages {
        crate::emit(format!("{}\t{}", package.id(), package.path.display()));
    }
    Ok(())
}

/// Print a cached package's manifest and what it holds.
pub fn show(cache: Option<PathBuf>, id_version: &str) -> Result<(), String> {
    let dir = cache_dir(cache)?;
    let registry = Registry::builder()
        .core(false)
        .package_cache_dir(&dir)
        .with_dependencies(false)
        .add_package_cache(id_version)
        .build()
        .map_err(|e| e.to_string())?;
    for package in registry.packages() {
        crate::emit(format!("{}#{}", package.name, package.version));
        if let Some(title) = &package.title {
            crate::emit(format!("  title: {title}"));
        }
        if let Some(canonical) = &package.canonical {
            crate::emit(format!("  canonical: {canonical}"));
        }
        crate::emit(format!(
            "  fhirVersions: {}",
            package.fhir_versions.join(", ")
        ));
        for (name, version) in &package.dependencies {
            crate::emit(format!("  depends on: {name}#{version}"));
        }
    }
    let mut counts = std::collections::BTreeMap::new();
    for summary in registry.summaries() {
        *counts
            .entry(summary.resource_type().to_string())
            .or_insert(0usize) += 1;
    }
    for (resource_type, count) in counts {
        crate::emit(format!("  {count:>5} {resource_type}"));
    }
    Ok(())
}

/// Install a package tarball into the cache.
pub fn install(cache: Option<PathBuf>, tgz: &str) -> Result<(), String> {
    let dir = cache_dir(cache)?;
    let bytes = std::fs::read(tgz).map_err(|e| format!("{tgz}: {e}"))?;
    let info = install_package(&bytes, &dir).map_err(|e| e.to_string())?;
    crate::emit(format!(
        "installed {}#{} into {}",
        info.name,
        info.version,
        dir.display()
    ));
    Ok(())
}

/// Print the resource a canonical resolves to (with where it came from on stderr).
pub fn resolve(registry: &Registry, canonical: &str) -> Result<bool, String> {
    let Some(summary) = registry.resolve_summary(canonical) else {
        // A system URI that is no canonical URL: an identifier system's
        // NamingSystem, a Volven OID's CodeSystem.
        if let Some(resource) = registry.resolve_system(canonical) {
            eprintln!(
                "{} {} (for the system {canonical})",
                resource.resource_type,
                resource.id.as_deref().unwrap_or_default()
            );
            crate::emit(serde_json::to_string_pretty(&resource.json).map_err(|e| e.to_string())?);
            return Ok(true);
        }
        eprintln!("{canonical}: not found");
        return Ok(false);
    };
    let origin = match (summary.embedded_package(), summary.origin()) {
        (Some(package), _) => format!("embedded {package}"),
        (None, fhirreg::registry::Origin::Loaded(from)) => from.to_string(),
        (None, fhirreg::registry::Origin::Core) => "embedded definitions".to_string(),
    };
    eprintln!(
        "{} {} (from {origin})",
        summary.resource_type(),
        summary.canonical().unwrap_or_default()
    );
    let resource = registry
        .resolve(canonical)
        .ok_or_else(|| format!("{canonical}: could not be decoded"))?;
    crate::emit(serde_json::to_string_pretty(&resource.json).map_err(|e| e.to_string())?);
    Ok(true)
}
