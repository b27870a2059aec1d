//! `fhirreg package list|show|install` and `fhirreg resolve`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fhirreg::package_client::{InstallStatus, PackageClient};
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

/// How `package install` talks to the package registry.
#[derive(clap::Args)]
pub struct DownloadArgs {
    /// Package registry (npm protocol) [default: $FHIRREG_PACKAGE_REGISTRY,
    /// else https://packages.fhir.org; https://packages2.fhir.org/packages
    /// is the secondary one].
    #[arg(long, value_name = "URL")]
    registry: Option<String>,
    /// Install the packages asked for only, not their dependencies.
    #[arg(long)]
    no_deps: bool,
    /// Also install the dependencies fhirreg has built in (hl7.fhir.r4.core,
    /// hl7.terminology.r4, ...), for other tools sharing the cache.
    #[arg(long)]
    include_embedded: bool,
    /// Largest tarball to download: bytes, or with a K, M or G suffix.
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    max_tarball_size: u64,
    /// Seconds one request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    timeout: u64,
    /// Install versions for which the registry gives no shasum or integrity
    /// (a digest that is given is always checked).
    #[arg(long)]
    allow_unverified: bool,
}

fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let scale: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => {
            return Err(format!(
                "'{text}': expected bytes, or a number with K, M or G"
            ))
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("'{text}': expected bytes, or a number with K, M or G"))
}

/// Install packages into the cache: .tgz files as they are, registry
/// references with their dependencies.
pub fn install(
    cache: Option<PathBuf>,
    packages: &[String],
    download: &DownloadArgs,
) -> Result<(), String> {
    let dir = cache_dir(cache)?;
    let mut client = PackageClient::new(&dir)
        .dependencies(!download.no_deps)
        .include_embedded(download.include_embedded)
        .max_tarball_size(download.max_tarball_size)
        .timeout(Duration::from_secs(download.timeout.max(1)))
        .allow_unverified(download.allow_unverified);
    if let Some(registry) = &download.registry {
        client = client.registry(registry);
    }
    for package in packages {
        let path = Path::new(package);
        if path.exists() || package.ends_with(".tgz") {
            install_file(&dir, package)?;
            continue;
        }
        client
            .install_with_progress(package, |step| {
                let id = format!("{}#{}", step.name, step.version);
                let line = match step.status {
                    InstallStatus::Installed => format!("installed {id} into {}", dir.display()),
                    InstallStatus::AlreadyInstalled => format!("already installed {id}"),
                    InstallStatus::Embedded => format!("skipped {id} (built into fhirreg)"),
                };
                match &step.required_by {
                    Some(parent) => crate::emit(format!("{line} (dependency of {parent})")),
                    None => crate::emit(line),
                }
            })
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn install_file(dir: &Path, tgz: &str) -> Result<(), String> {
    let bytes = std::fs::read(tgz).map_err(|e| format!("{tgz}: {e}"))?;
    let info = install_package(&bytes, dir).map_err(|e| e.to_string())?;
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
