//! [`RegistryBuilder`]: loading files, bytes, folders and FHIR NPM packages.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Read;
use std::path::Component;
#[cfg(feature = "fs")]
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use serde_json::Value;

use crate::{Data, Origin, Registry, RegistryError, Resource, Summary};

/// Default bound on the uncompressed size of one package .tgz: 1 GiB.
pub const DEFAULT_MAX_PACKAGE_SIZE: u64 = 1024 * 1024 * 1024;

/// A FHIR NPM package loaded into the registry (from its `package.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageInfo {
    /// `name` (`hl7.fhir.no.basis`).
    pub name: String,
    /// `version` (`2.2.3`).
    pub version: String,
    /// `dependencies`: (package name, version), sorted by name.
    pub dependencies: Vec<(String, String)>,
    /// `fhirVersions` (or `fhir-version-list`).
    pub fhir_versions: Vec<String>,
    /// `canonical`.
    pub canonical: Option<String>,
    /// `title` or `description`.
    pub title: Option<String>,
    /// The .tgz file, folder or name it was loaded from.
    pub source: String,
    /// Number of resources loaded from it.
    pub resources: usize,
}

impl PackageInfo {
    /// `name#version`.
    pub fn id(&self) -> String {
        format!("{}#{}", self.name, self.version)
    }
}

enum Source {
    Bytes(String, Vec<u8>),
    #[cfg(feature = "fs")]
    Path(PathBuf),
    #[cfg(feature = "fs")]
    Cache(String),
}

/// Configures and builds a [`Registry`].
///
/// Sources are read by [`RegistryBuilder::build`], in the order they were
/// added; for the same url and version the later one wins, and anything
/// loaded wins over the embedded core.
///
/// ```no_run
/// use fhirreg_registry::Registry;
/// let registry = Registry::builder()
///     .add_path("profiles/my-ig")                 // folder of .json/.xml files
///     .add_path("hl7.fhir.no.basis-2.2.3.tgz")    // an NPM package
///     .add_package_cache("hl7.fhir.no.kodeverk#0.6.0")
///     .build()?;
/// # Ok::<(), fhirreg_registry::RegistryError>(())
/// ```
pub struct RegistryBuilder {
    core: bool,
    /// `None`: as `core`.
    terminology: Option<bool>,
    /// `None`: as `core`.
    norwegian: Option<bool>,
    sources: Vec<Source>,
    #[cfg(feature = "fs")]
    cache_dir: Option<PathBuf>,
    max_package_size: u64,
    #[cfg(feature = "fs")]
    dependencies: bool,
}

impl Default for RegistryBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RegistryBuilder {
    /// A builder with the embedded layers (R4 core, HL7 terminology, the
    /// Norwegian code systems) on and nothing else.
    pub fn new() -> Self {
        RegistryBuilder {
            core: true,
            terminology: None,
            norwegian: None,
            sources: Vec::new(),
            #[cfg(feature = "fs")]
            cache_dir: None,
            max_package_size: DEFAULT_MAX_PACKAGE_SIZE,
            #[cfg(feature = "fs")]
            dependencies: false,
        }
    }

    /// Include the embedded FHIR R4 core (default: on). Off, the embedded
    /// HL7 terminology is off too unless [`RegistryBuilder::hl7_terminology`]
    /// switches it on: `.core(false)` alone gives a registry holding only
    /// what is loaded.
    pub fn core(mut self, on: bool) -> Self {
        self.core = on;
        self
    }

    /// Include the embedded HL7 terminology package (`hl7.terminology.r4`:
    /// the `http://terminology.hl7.org` code systems and value sets, and
    /// NamingSystems mapping OIDs and URIs to systems) (default: on when
    /// the core is).
    ///
    /// ```
    /// use fhirreg_registry::Registry;
    /// let url = "http://terminology.hl7.org/CodeSystem/v2-0203";
    /// let with = Registry::builder().build().unwrap();
    /// assert_eq!(with.resolve(url).unwrap().version.as_deref(), Some("5.0.0"));
    /// let without = Registry::builder().hl7_terminology(false).build().unwrap();
    /// assert_eq!(without.resolve(url).unwrap().version.as_deref(), Some("2.9"));
    /// ```
    pub fn hl7_terminology(mut self, on: bool) -> Self {
        self.terminology = Some(on);
        self
    }

    /// Include the embedded Norwegian code systems (default: on when the
    /// core is): the NamingSystems of the national identifiers and HL7
    /// Norway's kodeverk CodeSystems (`codesystems/` in the source tree).
    /// A coding whose system is a Volven OID
    /// (`urn:oid:2.16.578.1.12.4.1.1.NNNN`) finds the CodeSystem carrying
    /// that OID in `CodeSystem.identifier` (see [`crate::Registry::code_system`]).
    ///
    /// ```
    /// use fhirreg_registry::Registry;
    /// let with = Registry::builder().build().unwrap();
    /// let kategori = with.code_system("urn:oid:2.16.578.1.12.4.1.1.9060").unwrap();
    /// assert!(kategori.concepts.iter().any(|c| c.code == "LE"));
    /// assert!(with.naming_system("urn:oid:2.16.578.1.12.4.1.4.1").is_some());
    /// let without = Registry::builder().norwegian(false).build().unwrap();
    /// assert!(without.code_system("urn:oid:2.16.578.1.12.4.1.1.9060").is_none());
    /// ```
    pub fn norwegian(mut self, on: bool) -> Self {
        self.norwegian = Some(on);
        self
    }

    /// Add a JSON or XML conformance resource, a Bundle of them (each
    /// `entry.resource` is loaded, not the Bundle), or a FHIR package .tgz
    /// (recognised by the gzip magic). `name` is used in error messages and
    /// as the [`crate::Origin`].
    pub fn add_bytes(mut self, name: impl Into<String>, bytes: &[u8]) -> Self {
        self.sources
            .push(Source::Bytes(name.into(), bytes.to_vec()));
        self
    }

    /// Add a file (`.json`, `.xml`, or a package `.tgz`, recognised by
    /// content) or a folder: a package folder (holding `package.json`, or
    /// `package/package.json`) is loaded as a package, any other folder
    /// loads every `.json`/`.xml` file directly in it (files that are not
    /// FHIR resources are skipped).
    ///
    /// A package (.tgz or folder) contributes the `.json` and `.xml` files
    /// directly in `package/` (not its subfolders: examples, `other/`,
    /// `xml/`); with an `.index.json`, only the `.json` files it lists. An
    /// `.xml` file beside a `.json` file of the same name is skipped (the
    /// same resource in both formats). (Feature `fs`.)
    #[cfg(feature = "fs")]
    pub fn add_path(mut self, path: impl AsRef<Path>) -> Self {
        self.sources.push(Source::Path(path.as_ref().to_path_buf()));
        self
    }

    /// Add a package from the local FHIR package cache: `ID#VERSION`
    /// (or `ID@VERSION`; `ID` alone takes the latest version present; an
    /// npm range such as `ID#^1.2.0`, which package dependencies may give,
    /// the highest version present that satisfies it).
    ///
    /// The cache folder is, in order: [`RegistryBuilder::package_cache_dir`],
    /// `$FHIR_PACKAGE_CACHE`, `$HOME/.fhir/packages` (`%USERPROFILE%` on
    /// Windows): the layout the HL7 tools use (`ID#VERSION/package/...`).
    /// (Feature `fs`.)
    #[cfg(feature = "fs")]
    pub fn add_package_cache(mut self, id_version: &str) -> Self {
        self.sources.push(Source::Cache(id_version.to_owned()));
        self
    }

    /// Set the package cache folder (the one holding `ID#VERSION` folders).
    /// (Feature `fs`.)
    #[cfg(feature = "fs")]
    pub fn package_cache_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cache_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Also load the dependencies of every package (from its
    /// `package.json`) from the package cache, recursively (default: off).
    /// FHIR core packages (`hl7.fhir.r4.core`, ...) are skipped while the
    /// embedded core is on, HL7 terminology (`hl7.terminology.r4`,
    /// `hl7.terminology`) while the embedded terminology is on. (Feature
    /// `fs`.)
    #[cfg(feature = "fs")]
    pub fn with_dependencies(mut self, on: bool) -> Self {
        self.dependencies = on;
        self
    }

    /// Bound on the uncompressed size of one package .tgz (default
    /// [`DEFAULT_MAX_PACKAGE_SIZE`]).
    pub fn max_package_size(mut self, bytes: u64) -> Self {
        self.max_package_size = bytes;
        self
    }

    /// Read every source and build the registry. The first bad input stops
    /// the build with an error naming it.
    pub fn build(self) -> Result<Registry, RegistryError> {
        let mut loader = Loader {
            builder: &self,
            out: Vec::new(),
            packages: Vec::new(),
            seen_packages: HashSet::new(),
            typer: OnceLock::new(),
        };
        for source in &self.sources {
            match source {
                Source::Bytes(name, bytes) => loader.bytes(name, bytes, true)?,
                #[cfg(feature = "fs")]
                Source::Path(path) => loader.path(path)?,
                #[cfg(feature = "fs")]
                Source::Cache(id) => loader.cache(id)?,
            }
        }
        let Loader { out, packages, .. } = loader;
        Ok(Registry::from_parts(
            self.core,
            self.terminology(),
            self.norwegian.unwrap_or(self.core),
            out,
            packages,
        ))
    }

    fn terminology(&self) -> bool {
        self.terminology.unwrap_or(self.core)
    }

    #[cfg(feature = "fs")]
    fn cache_root(&self) -> Option<PathBuf> {
        self.cache_dir
            .clone()
            .or_else(crate::cache::default_package_cache)
    }
}

struct Loader<'a> {
    builder: &'a RegistryBuilder,
    out: Vec<(Summary, Data)>,
    packages: Vec<PackageInfo>,
    seen_packages: HashSet<String>,
    /// The embedded core, for typing XML resources.
    typer: OnceLock<Registry>,
}

/// The summary fields of a resource, read without building a JSON tree.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "resourceType")]
    resource_type: Option<Value>,
    id: Option<Value>,
    url: Option<Value>,
    version: Option<Value>,
    name: Option<Value>,
    #[serde(rename = "type")]
    type_name: Option<Value>,
    kind: Option<Value>,
    derivation: Option<Value>,
    #[serde(rename = "baseDefinition")]
    base_definition: Option<Value>,
    #[serde(rename = "abstract")]
    is_abstract: Option<Value>,
}

fn owned(v: Option<Value>) -> Option<Cow<'static, str>> {
    match v {
        Some(Value::String(s)) => Some(Cow::Owned(s)),
        _ => None,
    }
}

impl Head {
    fn is_bundle(&self) -> bool {
        matches!(&self.resource_type, Some(Value::String(rt)) if rt == "Bundle")
    }

    /// `None` without a (non-empty, string) `resourceType`.
    fn into_summary(self, origin: Origin) -> Option<Summary> {
        let resource_type = match self.resource_type {
            Some(Value::String(rt)) if !rt.is_empty() => rt,
            _ => return None,
        };
        let sd = resource_type == "StructureDefinition";
        let sd_only = |v: Option<Value>| if sd { owned(v) } else { None };
        Some(Summary {
            id: owned(self.id),
            url: owned(self.url),
            version: owned(self.version),
            name: owned(self.name),
            type_name: sd_only(self.type_name),
            kind: sd_only(self.kind),
            derivation: sd_only(self.derivation),
            base_definition: sd_only(self.base_definition),
            is_abstract: sd && self.is_abstract == Some(Value::Bool(true)),
            resource_type: Cow::Owned(resource_type),
            origin,
            embedded: None,
        })
    }
}

/// The summary of a parsed resource (`None` without a `resourceType`).
fn summary_of(value: &Value, origin: &Origin) -> Option<Summary> {
    Head::deserialize(value).ok()?.into_summary(origin.clone())
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

#[cfg(feature = "fs")]
fn display(path: &Path) -> String {
    path.display().to_string()
}

impl Loader<'_> {
    fn typer(&self) -> &Registry {
        self.typer
            .get_or_init(|| Registry::from_parts(true, false, false, Vec::new(), Vec::new()))
    }

    /// Bytes of unknown kind: package .tgz, JSON or XML. `strict`: a
    /// document that is not a FHIR resource is an error (else skipped, as
    /// for the files of a folder).
    fn bytes(&mut self, name: &str, bytes: &[u8], strict: bool) -> Result<(), RegistryError> {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            return self.tgz(name, bytes);
        }
        let origin = Origin::Loaded(Arc::from(name));
        match fhirreg_element::Format::sniff(bytes) {
            Some(fhirreg_element::Format::Json) => self.json(name, "", bytes, strict, &origin),
            Some(fhirreg_element::Format::Xml) => self.xml(name, "", bytes, strict, &origin),
            None if !strict => Ok(()),
            None => Err(RegistryError::load(
                name,
                "not a FHIR resource (JSON or XML) nor a package (.tgz)",
            )),
        }
    }

    /// One JSON document; `member` names it inside a package ("" otherwise).
    fn json(
        &mut self,
        name: &str,
        member: &str,
        bytes: &[u8],
        strict: bool,
        origin: &Origin,
    ) -> Result<(), RegistryError> {
        let at = |m: String| {
            if member.is_empty() {
                RegistryError::load(name, m)
            } else {
                RegistryError::load(name, format!("{member}: {m}"))
            }
        };
        let bytes = strip_bom(bytes);
        // Not an object (an array, a number): not a resource.
        if !strict && fhirreg_element::Format::sniff(bytes) != Some(fhirreg_element::Format::Json) {
            return Ok(());
        }
        let head: Head =
            serde_json::from_slice(bytes).map_err(|e| at(format!("invalid JSON: {e}")))?;
        if head.is_bundle() {
            let value: Value =
                serde_json::from_slice(bytes).map_err(|e| at(format!("invalid JSON: {e}")))?;
            return self.value(name, member, value, origin);
        }
        let Some(summary) = head.into_summary(origin.clone()) else {
            return match strict {
                true => Err(at("not a FHIR resource: no resourceType".into())),
                false => Ok(()),
            };
        };
        self.out.push((summary, Data::Json(bytes.into())));
        Ok(())
    }

    /// One XML document, read through the element tree and the typing
    /// pass; `member` names it inside a package ("" otherwise). Not
    /// `strict`: a document whose root is not a resource in the FHIR
    /// namespace is skipped.
    fn xml(
        &mut self,
        name: &str,
        member: &str,
        bytes: &[u8],
        strict: bool,
        origin: &Origin,
    ) -> Result<(), RegistryError> {
        let at = |m: String| match member {
            "" => RegistryError::load(name, m),
            _ => RegistryError::load(name, format!("{member}: {m}")),
        };
        let mut doc = fhirreg_element::xml::parse(bytes, &fhirreg_element::ParseOptions::default())
            .map_err(|e| at(format!("invalid XML: {e}")))?;
        let not_fhir = !doc.root().is_resource()
            || doc
                .issues
                .iter()
                .any(|i| fhirreg_element::xml::WRONG_NAMESPACE.contains(&i.msg));
        if !strict && not_fhir {
            return Ok(());
        }
        self.typer().annotate_types(&mut doc);
        let text = fhirreg_element::json::write(doc.root(), false);
        let value = serde_json::from_str(&text)
            .map_err(|e| at(format!("XML resource could not be converted to JSON: {e}")))?;
        self.value(name, member, value, origin)
    }

    /// A parsed resource; a Bundle contributes its entries' resources.
    fn value(
        &mut self,
        name: &str,
        member: &str,
        value: Value,
        origin: &Origin,
    ) -> Result<(), RegistryError> {
        let prefix = if member.is_empty() {
            String::new()
        } else {
            format!("{member}: ")
        };
        if value.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
            let Value::Object(mut bundle) = value else {
                return Ok(());
            };
            let entries = match bundle.remove("entry") {
                Some(Value::Array(entries)) => entries,
                None => Vec::new(),
                Some(_) => {
                    return Err(RegistryError::load(
                        name,
                        format!("{prefix}Bundle.entry is not an array"),
                    ));
                }
            };
            for (n, mut entry) in entries.into_iter().enumerate() {
                let resource = entry.get_mut("resource").map(Value::take);
                let Some(resource) = resource else {
                    continue;
                };
                let Some(summary) = summary_of(&resource, origin) else {
                    return Err(RegistryError::load(
                        name,
                        format!("{prefix}Bundle.entry[{n}].resource has no resourceType"),
                    ));
                };
                let Some(res) = Resource::from_json(resource) else {
                    continue;
                };
                self.out.push((summary, Data::Ready(Arc::new(res))));
            }
            return Ok(());
        }
        let Some(summary) = summary_of(&value, origin) else {
            return Err(RegistryError::load(
                name,
                format!("{prefix}not a FHIR resource: no resourceType"),
            ));
        };
        if let Some(res) = Resource::from_json(value) {
            self.out.push((summary, Data::Ready(Arc::new(res))));
        }
        Ok(())
    }

    #[cfg(feature = "fs")]
    fn path(&mut self, path: &Path) -> Result<(), RegistryError> {
        let meta = std::fs::metadata(path)
            .map_err(|e| RegistryError::load(display(path), e.to_string()))?;
        if meta.is_dir() {
            if path.join("package").join("package.json").is_file() {
                return self.package_dir(&path.join("package"), &display(path));
            }
            if path.join("package.json").is_file() && path.file_name() == Some("package".as_ref()) {
                return self.package_dir(path, &display(path));
            }
            return self.dir(path);
        }
        let bytes =
            std::fs::read(path).map_err(|e| RegistryError::load(display(path), e.to_string()))?;
        self.bytes(&display(path), &bytes, true)
    }

    /// Every .json/.xml file directly in `dir`, in name order.
    #[cfg(feature = "fs")]
    fn dir(&mut self, dir: &Path) -> Result<(), RegistryError> {
        let mut files = list_dir(dir)?;
        files.retain(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            ext.eq_ignore_ascii_case("json") || ext.eq_ignore_ascii_case("xml")
        });
        for file in files {
            let name = display(&file);
            let bytes =
                std::fs::read(&file).map_err(|e| RegistryError::load(&name, e.to_string()))?;
            self.bytes(&name, &bytes, false)?;
        }
        Ok(())
    }

    /// A package folder (the one holding package.json).
    #[cfg(feature = "fs")]
    fn package_dir(&mut self, dir: &Path, source: &str) -> Result<(), RegistryError> {
        let manifest_path = dir.join("package.json");
        let manifest = std::fs::read(&manifest_path)
            .map_err(|e| RegistryError::load(display(&manifest_path), e.to_string()))?;
        let mut info = read_manifest(&display(&manifest_path), &manifest)?;
        info.source = source.to_owned();
        if !self.seen_packages.insert(info.id()) {
            return Ok(());
        }
        let listed = match std::fs::read(dir.join(".index.json")) {
            Ok(bytes) => index_files(&bytes),
            Err(_) => None,
        };
        let present: Vec<String> = list_dir(dir)?
            .into_iter()
            .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
            .collect();
        let xml_files = package_xml_files(present.iter().map(String::as_str));
        let files: Vec<String> = match listed.clone() {
            Some(files) => files,
            None => present
                .into_iter()
                .filter(|n| is_package_resource_file(n))
                .collect(),
        };
        let origin = Origin::Loaded(Arc::from(info.id().as_str()));
        let before = self.out.len();
        for file in files {
            let path = dir.join(&file);
            let bytes = std::fs::read(&path)
                .map_err(|e| RegistryError::load(display(&path), e.to_string()))?;
            self.json(source, &file, &bytes, false, &origin)?;
        }
        for file in xml_files {
            let path = dir.join(&file);
            let bytes = std::fs::read(&path)
                .map_err(|e| RegistryError::load(display(&path), e.to_string()))?;
            self.xml(source, &file, &bytes, false, &origin)?;
        }
        if listed.is_none() {
            self.type_folders(dir, source, &origin)?;
        }
        info.resources = self.out.len() - before;
        self.finish_package(info)
    }

    /// A package folder laid out as a source repository keeps its
    /// conformance resources in one subfolder per resource type
    /// (`package/StructureDefinition/*.xml`, ...), with no `.index.json`:
    /// those are read too (not `example/`, `xml/`, `other/`).
    #[cfg(feature = "fs")]
    fn type_folders(
        &mut self,
        dir: &Path,
        source: &str,
        origin: &Origin,
    ) -> Result<(), RegistryError> {
        const TYPES: &[&str] = &[
            "StructureDefinition",
            "ValueSet",
            "CodeSystem",
            "NamingSystem",
            "ConceptMap",
            "SearchParameter",
            "OperationDefinition",
            "CapabilityStatement",
            "StructureMap",
            "Questionnaire",
        ];
        for ty in TYPES {
            let sub = dir.join(ty);
            if !sub.is_dir() {
                continue;
            }
            let names: Vec<String> = list_dir(&sub)?
                .into_iter()
                .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
                .filter(|n| !n.starts_with('.'))
                .collect();
            let xml_files = package_xml_files(names.iter().map(String::as_str));
            for name in &names {
                let path = sub.join(name);
                let file = format!("{ty}/{name}");
                if name.ends_with(".json") {
                    let bytes = std::fs::read(&path)
                        .map_err(|e| RegistryError::load(display(&path), e.to_string()))?;
                    self.json(source, &file, &bytes, false, origin)?;
                } else if xml_files.contains(name) {
                    let bytes = std::fs::read(&path)
                        .map_err(|e| RegistryError::load(display(&path), e.to_string()))?;
                    self.xml(source, &file, &bytes, false, origin)?;
                }
            }
        }
        Ok(())
    }

    fn tgz(&mut self, name: &str, bytes: &[u8]) -> Result<(), RegistryError> {
        let files = read_package_files(bytes, self.builder.max_package_size)
            .map_err(|m| RegistryError::load(name, m))?;
        let manifest = files
            .iter()
            .find(|(n, _)| n == "package.json")
            .ok_or_else(|| {
                RegistryError::load(name, "not a FHIR package: no package/package.json")
            })?;
        let mut info = read_manifest(&format!("{name}: package/package.json"), &manifest.1)?;
        info.source = name.to_owned();
        if !self.seen_packages.insert(info.id()) {
            return Ok(());
        }
        let listed: Option<HashSet<String>> = files
            .iter()
            .find(|(n, _)| n == ".index.json")
            .and_then(|(_, b)| index_files(b))
            .map(|v| v.into_iter().collect());
        let origin = Origin::Loaded(Arc::from(info.id().as_str()));
        let before = self.out.len();
        let xml_files: HashSet<String> = package_xml_files(files.iter().map(|(n, _)| n.as_str()))
            .into_iter()
            .collect();
        for (file, data) in &files {
            let wanted = match &listed {
                Some(set) => set.contains(file),
                None => is_package_resource_file(file),
            };
            if wanted {
                self.json(name, &format!("package/{file}"), data, false, &origin)?;
            } else if xml_files.contains(file) {
                self.xml(name, &format!("package/{file}"), data, false, &origin)?;
            }
        }
        info.resources = self.out.len() - before;
        self.finish_package(info)
    }

    fn finish_package(&mut self, info: PackageInfo) -> Result<(), RegistryError> {
        #[cfg(feature = "fs")]
        let deps = info.dependencies.clone();
        self.packages.push(info);
        #[cfg(feature = "fs")]
        if self.builder.dependencies {
            for (dep, version) in deps {
                if self.builder.core && is_core_package(&dep) {
                    continue;
                }
                if self.builder.terminology() && is_terminology_package(&dep) {
                    continue;
                }
                if self.packages.iter().any(|p| p.name == dep) {
                    continue;
                }
                self.cache(&format!("{dep}#{version}"))?;
            }
        }
        Ok(())
    }

    #[cfg(feature = "fs")]
    fn cache(&mut self, id_version: &str) -> Result<(), RegistryError> {
        let root = self.builder.cache_root().ok_or_else(|| {
            RegistryError::load(
                id_version,
                "no package cache folder (set FHIR_PACKAGE_CACHE or HOME)",
            )
        })?;
        let dir = crate::cache::find_in_cache(&root, id_version).ok_or_else(|| {
            RegistryError::PackageNotFound {
                package: id_version.to_owned(),
                cache: root.display().to_string(),
            }
        })?;
        self.package_dir(&dir.join("package"), &display(&dir))
    }
}

#[cfg(feature = "fs")]
fn is_core_package(name: &str) -> bool {
    matches!(
        name,
        "hl7.fhir.r4.core"
            | "hl7.fhir.r4.examples"
            | "hl7.fhir.r4.expansions"
            | "hl7.fhir.r4.elements"
    )
}

#[cfg(feature = "fs")]
fn is_terminology_package(name: &str) -> bool {
    matches!(name, "hl7.terminology.r4" | "hl7.terminology")
}

/// A top-level package file that may hold a resource.
fn is_package_resource_file(name: &str) -> bool {
    name.ends_with(".json") && name != "package.json" && !name.starts_with('.')
}

/// The `.xml` files among the top-level files of a package that may hold a
/// resource: not hidden, and without a `.json` file of the same stem (a
/// package publishing both formats holds each resource once).
fn package_xml_files<'a>(names: impl Iterator<Item = &'a str> + Clone) -> Vec<String> {
    let json: HashSet<&str> = names
        .clone()
        .filter_map(|n| n.strip_suffix(".json"))
        .collect();
    names
        .filter(|n| !n.starts_with('.'))
        .filter(|n| {
            n.strip_suffix(".xml")
                .is_some_and(|stem| !json.contains(stem))
        })
        .map(str::to_owned)
        .collect()
}

#[cfg(feature = "fs")]
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, RegistryError> {
    let read =
        std::fs::read_dir(dir).map_err(|e| RegistryError::load(display(dir), e.to_string()))?;
    let mut files = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| RegistryError::load(display(dir), e.to_string()))?;
        let path = entry.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The file names listed in a package `.index.json` (`None` if unreadable).
fn index_files(bytes: &[u8]) -> Option<Vec<String>> {
    let index: Value = serde_json::from_slice(strip_bom(bytes)).ok()?;
    let files = index.get("files")?.as_array()?;
    Some(
        files
            .iter()
            .filter_map(|f| f.get("filename")?.as_str())
            .filter(|n| !n.contains(['/', '\\']) && is_package_resource_file(n))
            .map(str::to_owned)
            .collect(),
    )
}

pub(crate) fn read_manifest(name: &str, bytes: &[u8]) -> Result<PackageInfo, RegistryError> {
    let v: Value = serde_json::from_slice(strip_bom(bytes))
        .map_err(|e| RegistryError::load(name, format!("invalid package.json: {e}")))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let pkg_name =
        s("name").ok_or_else(|| RegistryError::load(name, "package.json has no name"))?;
    let version =
        s("version").ok_or_else(|| RegistryError::load(name, "package.json has no version"))?;
    let mut dependencies: Vec<(String, String)> = v
        .get("dependencies")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    dependencies.sort();
    let fhir_versions = v
        .get("fhirVersions")
        .or_else(|| v.get("fhir-version-list"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(PackageInfo {
        name: pkg_name,
        version,
        dependencies,
        fhir_versions,
        canonical: s("canonical"),
        title: s("title").or_else(|| s("description")),
        source: String::new(),
        resources: 0,
    })
}

/// A file read from a package .tgz: path components and bytes.
pub(crate) type TarFile = (Vec<String>, Vec<u8>);

/// The regular files of a package .tgz for which `keep(path components)`
/// holds, as (components, bytes). Rejects paths escaping the archive
/// (`..`, absolute); bounds the total uncompressed size by `max`; skips
/// links and other special entries.
pub(crate) fn read_tgz(
    bytes: &[u8],
    max: u64,
    keep: impl Fn(&[String]) -> bool,
) -> Result<Vec<TarFile>, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut total: u64 = 0;
    let mut files = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| format!("bad package archive: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("bad package archive: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| format!("bad package archive: {e}"))?
            .into_owned();
        let mut parts = Vec::new();
        for c in path.components() {
            match c {
                Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
                Component::CurDir => {}
                _ => {
                    return Err(format!(
                        "{}: path escapes the package folder",
                        path.display()
                    ))
                }
            }
        }
        let size = entry
            .header()
            .size()
            .map_err(|e| format!("bad package archive: {e}"))?;
        total = total.saturating_add(size).saturating_add(512);
        if total > max {
            return Err(format!("package larger than {max} bytes uncompressed"));
        }
        if !entry.header().entry_type().is_file() || parts.is_empty() || !keep(&parts) {
            continue;
        }
        let mut data = Vec::with_capacity(usize::try_from(size.min(1 << 24)).unwrap_or(0));
        (&mut entry)
            .take(size)
            .read_to_end(&mut data)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        files.push((parts, data));
    }
    Ok(files)
}

/// The `.json` and `.xml` files directly in `package/`, as (file name,
/// bytes).
fn read_package_files(bytes: &[u8], max: u64) -> Result<Vec<(String, Vec<u8>)>, String> {
    let files = read_tgz(
        bytes,
        max,
        |parts| matches!(parts, [top, file] if top == "package" && (file.ends_with(".json") || file.ends_with(".xml"))),
    )?;
    Ok(files
        .into_iter()
        .filter_map(|(mut parts, data)| Some((parts.pop()?, data)))
        .collect())
}
