//! Canonical store of FHIR conformance resources.
//!
//! Holds StructureDefinitions, ValueSets, CodeSystems, ConceptMaps,
//! NamingSystems, Questionnaires ... from the embedded FHIR R4 core, from
//! FHIR NPM packages (.tgz, folders, the `~/.fhir/packages` cache) and from
//! single files or bytes, and resolves them by canonical URL and version.
//! Embedded definitions are decoded lazily: a validation pays only for the
//! definitions it touches.
//!
//! ```
//! use fhirreg_registry::Registry;
//! let registry = Registry::builder().build().unwrap();
//! let patient = registry.type_definition("Patient").unwrap();
//! assert_eq!(patient.json["kind"], "resource");
//! let gender = registry
//!     .resolve("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1")
//!     .unwrap();
//! assert_eq!(gender.resource_type, "ValueSet");
//! ```
//!
//! Resolution rules ([`Registry::resolve`]): resources loaded through the
//! [`RegistryBuilder`] take precedence over the embedded layers for the same
//! url; `url` alone picks the latest version ([`compare_versions`]);
//! `url|version` picks the latest version matching `version` exactly or as a
//! leading part (`1.0` matches `1.0.3`, see [`version_matches`]). Between
//! the embedded layers the latest version wins, except that the R4 core's
//! copies of what the HL7 terminology package defines (the
//! `http://terminology.hl7.org/...` code systems and value sets, versioned
//! `4.0.1` or `2.9` in the core, `1.0.0`... in the terminology package) rank
//! below the terminology package's, whatever the versions, as in the HL7
//! validator; `url|version` still finds them.
//!
//! Beyond resolution:
//!
//! * summaries without decoding: [`Registry::structure_definitions`],
//!   [`Registry::resources_of_type`], [`Registry::type_summary`],
//!   [`Registry::type_ancestors`] / [`Registry::is_subtype_of`];
//! * snapshot generation for profiles that ship only a differential:
//!   [`Registry::generate_snapshot`], [`Registry::resolve_with_snapshot`];
//! * the typing pass that makes a tree read from XML writable as FHIR JSON:
//!   [`Registry::annotate_types`];
//! * the local package cache: [`default_package_cache`],
//!   [`list_package_cache`], [`install_package`], [`install_package_as`].
//!
//! Cargo features (all on by default): `json-definitions` (the embedded
//! resources' full JSON: without it, [`Registry::resolve`] gives no JSON
//! for the embedded StructureDefinitions, CodeSystems and ValueSets, which
//! are still found as summaries and compiled definitions, and profiles
//! without a snapshot cannot be generated over core bases),
//! `concept-definitions` (the definitions of the embedded CodeSystems'
//! concepts, documentation that only `$lookup` reports), `fs` (files,
//! folders and the package cache). The Wasm build switches all three off.
//!
//! Two embedded layers, compressed per resource and decoded lazily:
//!
//! * the FHIR 4.0.1 core (package `hl7.fhir.r4.examples#4.0.1`, narrative
//!   removed): every StructureDefinition (resources, datatypes, primitives,
//!   extensions, core profiles, logical models), ValueSet, CodeSystem,
//!   ConceptMap and NamingSystem. Regenerate it with `scripts/gen-r4-core.py`;
//! * HL7 Terminology (THO, package `hl7.terminology.r4#7.0.1`, narrative
//!   removed): its ValueSets, CodeSystems and NamingSystems (the latter
//!   found by [`Registry::naming_system`]). Regenerate it with
//!   `scripts/gen-hl7-terminology.py`; switch it off with
//!   [`RegistryBuilder::hl7_terminology`].

mod builder;
#[cfg(feature = "fs")]
mod cache;
mod embedded;
mod fhirpath_model;
mod snapshot;
mod typing;
mod version;

use std::borrow::Cow;
use std::collections::HashMap;

/// Maps keyed by canonical URLs and ids (trusted definition content): a
/// fast non-cryptographic hasher.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;
use std::sync::{Arc, OnceLock};

pub use builder::{PackageInfo, RegistryBuilder, DEFAULT_MAX_PACKAGE_SIZE};
#[cfg(feature = "fs")]
pub use cache::{
    default_package_cache, install_package, install_package_as, list_package_cache,
    package_download_url, CachedPackage,
};
pub use snapshot::{GeneratedSnapshot, SnapshotError};
pub use version::{compare_versions, version_matches};

/// The definition model (see the `fhirreg-model` crate), and FHIRPath's
/// type information over it.
pub mod model {
    pub use crate::fhirpath_model::FhirPathModel;
    pub use fhirreg_model::*;
}

/// The canonical URL prefix of the core FHIR StructureDefinitions.
pub const CORE_SD_PREFIX: &str = "http://hl7.org/fhir/StructureDefinition/";

/// Resource types that define things (profiles, terminology, operations,
/// capabilities) rather than record them: what a package holds for a
/// validator, as opposed to instance data. Tools use it to pick the
/// instance examples out of a package such as hl7.fhir.r4.examples.
pub const DEFINITION_RESOURCE_TYPES: &[&str] = &[
    "StructureDefinition",
    "ValueSet",
    "CodeSystem",
    "ConceptMap",
    "SearchParameter",
    "OperationDefinition",
    "CapabilityStatement",
    "NamingSystem",
    "ImplementationGuide",
    "CompartmentDefinition",
    "StructureMap",
    "GraphDefinition",
    "MessageDefinition",
    "TerminologyCapabilities",
    "ExampleScenario",
];

/// A conformance resource held by the registry.
#[derive(Debug, Clone)]
pub struct Resource {
    /// `resourceType` (`StructureDefinition`, `ValueSet`, ...).
    pub resource_type: String,
    /// `id`.
    pub id: Option<String>,
    /// `url` (the canonical URL).
    pub url: Option<String>,
    /// `version` (the business version).
    pub version: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// The resource as FHIR JSON.
    pub json: serde_json::Value,
}

impl Resource {
    /// Build a resource from its FHIR JSON; `None` when `json` is not an
    /// object with a string `resourceType`.
    ///
    /// ```
    /// let r = fhirreg_registry::Resource::from_json(serde_json::json!(
    ///     {"resourceType": "ValueSet", "id": "x", "url": "http://example.org/vs"}
    /// )).unwrap();
    /// assert_eq!(r.url.as_deref(), Some("http://example.org/vs"));
    /// ```
    pub fn from_json(json: serde_json::Value) -> Option<Resource> {
        let s = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        Some(Resource {
            resource_type: json.get("resourceType")?.as_str()?.to_owned(),
            id: s("id"),
            url: s("url"),
            version: s("version"),
            name: s("name"),
            json,
        })
    }

    /// A top-level string property (`kind`, `type`, `status`, ...).
    pub fn str(&self, key: &str) -> Option<&str> {
        self.json.get(key).and_then(|v| v.as_str())
    }

    /// `url|version`, or `url` when there is no version.
    pub fn canonical(&self) -> Option<String> {
        Some(canonical(self.url.as_deref()?, self.version.as_deref()))
    }
}

fn canonical(url: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{url}|{v}"),
        None => url.to_owned(),
    }
}

/// Errors loading definitions. `path` names the file (or the name given to
/// [`RegistryBuilder::add_bytes`], or the package); the message names the
/// resource when one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{path}: {message}")]
    Load { path: String, message: String },
    /// A package asked for by `ID#VERSION`
    /// ([`RegistryBuilder::add_package_cache`]) is not in the package cache.
    #[error("{package}: package not found in the package cache {cache}")]
    PackageNotFound { package: String, cache: String },
}

impl RegistryError {
    pub(crate) fn load(path: impl Into<String>, message: impl Into<String>) -> Self {
        RegistryError::Load {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Where a resource came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Embedded: the FHIR R4 core or the HL7 terminology package
    /// ([`Summary::embedded_package`] tells which).
    Core,
    /// Loaded through the builder: the file, package or name it came from.
    Loaded(Arc<str>),
}

type Str = Cow<'static, str>;

/// What the registry knows about a resource without decoding it.
///
/// The StructureDefinition fields (`type_name`, `kind`, `derivation`,
/// `base_definition`, `is_abstract`) are empty for other resource types.
#[derive(Debug, Clone)]
pub struct Summary {
    resource_type: Str,
    id: Option<Str>,
    url: Option<Str>,
    version: Option<Str>,
    name: Option<Str>,
    type_name: Option<Str>,
    kind: Option<Str>,
    derivation: Option<Str>,
    base_definition: Option<Str>,
    is_abstract: bool,
    origin: Origin,
    /// The package id of the embedded layer it comes from.
    embedded: Option<&'static str>,
}

impl Summary {
    /// `resourceType`.
    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }
    /// `id`.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    /// `url`.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
    /// `version`.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
    /// `name`.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// StructureDefinition.type (`Patient`, `Extension`, or a URL for some
    /// logical models).
    pub fn type_name(&self) -> Option<&str> {
        self.type_name.as_deref()
    }
    /// StructureDefinition.kind (`primitive-type`, `complex-type`,
    /// `resource`, `logical`).
    pub fn kind(&self) -> Option<&str> {
        self.kind.as_deref()
    }
    /// StructureDefinition.derivation (`specialization`, `constraint`).
    pub fn derivation(&self) -> Option<&str> {
        self.derivation.as_deref()
    }
    /// StructureDefinition.baseDefinition.
    pub fn base_definition(&self) -> Option<&str> {
        self.base_definition.as_deref()
    }
    /// StructureDefinition.abstract.
    pub fn is_abstract(&self) -> bool {
        self.is_abstract
    }
    /// Where the resource came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }
    /// True for an embedded resource (of the R4 core or of the HL7
    /// terminology package).
    pub fn is_core(&self) -> bool {
        self.origin == Origin::Core
    }
    /// The package an embedded resource comes from
    /// (`hl7.fhir.r4.examples#4.0.1`, `hl7.terminology.r4#7.0.1`); `None`
    /// for a loaded one.
    pub fn embedded_package(&self) -> Option<&'static str> {
        self.embedded
    }
    /// `url|version`, or `url` when there is no version.
    pub fn canonical(&self) -> Option<String> {
        Some(canonical(self.url()?, self.version()))
    }

    /// A few resources carry their version in the url
    /// (`http://terminology.hl7.org/CodeSystem/v2-0006|2.1` in R4): index
    /// them under the plain url with that version.
    fn split_versioned_url(&mut self) {
        let split = match &self.url {
            Some(Cow::Borrowed(u)) => u
                .split_once('|')
                .map(|(a, b)| (Cow::Borrowed(a), Cow::Borrowed(b))),
            Some(Cow::Owned(u)) => u
                .split_once('|')
                .map(|(a, b)| (Cow::Owned(a.to_owned()), Cow::Owned(b.to_owned()))),
            None => None,
        };
        if let Some((url, version)) = split {
            self.url = Some(url);
            if !version.is_empty() {
                self.version = Some(version);
            }
        }
    }
}

enum Data {
    /// A resource of an embedded layer.
    Embedded(&'static embedded::Layer, &'static embedded::IndexLine),
    /// Already parsed.
    Ready(Arc<Resource>),
    /// JSON text checked to be well formed, parsed on first use.
    Json(Box<[u8]>),
}

/// Precedence of an entry for the same url, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Loaded,
    Embedded,
    /// An R4 core copy of a resource the HL7 terminology layer defines.
    EmbeddedCopy,
}

struct Entry {
    summary: Summary,
    rank: Rank,
    data: Data,
    cell: OnceLock<Option<Arc<Resource>>>,
    /// The StructureDefinition with a generated snapshot, on first use.
    snapshot: OnceLock<Option<Arc<Resource>>>,
    /// The compiled definition model of a StructureDefinition, on first use.
    model: OnceLock<Option<Arc<model::StructureDef>>>,
    /// The compiled CodeSystem or ValueSet, on first use.
    terminology: OnceLock<Option<TerminologyDef>>,
}

/// A compiled terminology resource.
#[derive(Clone)]
enum TerminologyDef {
    CodeSystem(Arc<model::CodeSystemDef>),
    ValueSet(Arc<model::ValueSetDef>),
}

impl Entry {
    /// Apply `f` to the resource's JSON without caching a decoded copy
    /// (uses the cached one when there is one).
    fn with_json<R>(&self, f: impl FnOnce(&serde_json::Value) -> R) -> Option<R> {
        if let Some(cached) = self.cell.get() {
            return cached.as_ref().map(|r| f(&r.json));
        }
        match &self.data {
            Data::Ready(r) => Some(f(&r.json)),
            Data::Embedded(layer, line) => layer.decode(line).map(|v| f(&v)),
            Data::Json(bytes) => serde_json::from_slice(bytes).ok().map(|v| f(&v)),
        }
    }

    fn resource(&self) -> Option<Arc<Resource>> {
        match &self.data {
            Data::Ready(r) => Some(Arc::clone(r)),
            Data::Embedded(layer, line) => self
                .cell
                .get_or_init(|| {
                    layer
                        .decode(line)
                        .and_then(Resource::from_json)
                        .map(Arc::new)
                })
                .clone(),
            Data::Json(bytes) => self
                .cell
                .get_or_init(|| {
                    serde_json::from_slice(bytes)
                        .ok()
                        .and_then(Resource::from_json)
                        .map(Arc::new)
                })
                .clone(),
        }
    }
}

/// The canonical store. Cheap to clone (shared), `Send + Sync`.
///
/// Build one with [`Registry::builder`]; [`Registry::default`] is an empty
/// registry (no core).
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: Vec<Entry>,
    /// url -> entry indices, in load order (core first).
    by_url: FastMap<Str, Vec<usize>>,
    /// "Type/id" -> entry indices, built on first use.
    by_id: OnceLock<HashMap<String, Vec<usize>>>,
    /// StructureDefinition.type -> defining (non-constraint) SDs, on first use.
    by_type: OnceLock<HashMap<String, Vec<usize>>>,
    /// NamingSystem.uniqueId.value -> entry, on first use.
    by_unique_id: OnceLock<HashMap<String, usize>>,
    /// Volven OID (`urn:oid:2.16.578.1.12.4.1.1.NNNN`) of a
    /// CodeSystem.identifier -> entries, on first use.
    by_volven_oid: OnceLock<HashMap<String, Vec<usize>>>,
    /// The value sets "every code of the code system" of Volven OIDs
    /// bound as value set URLs (see [`Registry::value_set`]).
    volven_value_sets: std::sync::Mutex<HashMap<String, Option<Arc<model::ValueSetDef>>>>,
    packages: Vec<PackageInfo>,
    core_package: Option<&'static str>,
    embedded_packages: Vec<&'static str>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("resources", &self.inner.entries.len())
            .field("packages", &self.inner.packages)
            .finish()
    }
}

impl Registry {
    /// A builder with the embedded R4 core switched on.
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder()
    ///     .add_bytes("vs.json", br#"{"resourceType":"ValueSet","url":"http://example.org/vs","version":"1.0.0"}"#)
    ///     .build()
    ///     .unwrap();
    /// assert!(registry.resolve("http://example.org/vs|1.0").is_some());
    /// assert!(registry.type_definition("HumanName").is_some());
    /// ```
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::new()
    }

    /// `core`, `terminology`, `norwegian`: which embedded layers to include.
    fn from_parts(
        core: bool,
        terminology: bool,
        norwegian: bool,
        loaded: Vec<(Summary, Data)>,
        packages: Vec<PackageInfo>,
    ) -> Registry {
        let mut layers: Vec<&'static embedded::Layer> = Vec::new();
        if core {
            layers.push(&embedded::R4_CORE);
        }
        if terminology {
            layers.push(&embedded::HL7_TERMINOLOGY);
        }
        if norwegian {
            layers.push(&embedded::NORWAY);
        }
        let capacity = layers.iter().map(|l| l.len()).sum::<usize>() + loaded.len();
        let mut entries = Vec::with_capacity(capacity);
        for &layer in &layers {
            entries.extend(layer.entries().map(|(summary, line)| Entry {
                summary,
                rank: Rank::Embedded,
                data: Data::Embedded(layer, line),
                cell: OnceLock::new(),
                snapshot: OnceLock::new(),
                model: OnceLock::new(),
                terminology: OnceLock::new(),
            }));
        }
        entries.extend(loaded.into_iter().map(|(summary, data)| Entry {
            summary,
            rank: Rank::Loaded,
            data,
            cell: OnceLock::new(),
            snapshot: OnceLock::new(),
            model: OnceLock::new(),
            terminology: OnceLock::new(),
        }));
        // (The build step split the embedded ones.)
        for e in entries.iter_mut().filter(|e| e.rank == Rank::Loaded) {
            e.summary.split_versioned_url();
        }
        let mut by_url: FastMap<Str, Vec<usize>> =
            FastMap::with_capacity_and_hasher(entries.len(), Default::default());
        for (i, e) in entries.iter().enumerate() {
            if let Some(url) = &e.summary.url {
                by_url.entry(url.clone()).or_default().push(i);
            }
        }
        if core && terminology {
            demote_core_copies(&mut entries, &by_url);
        }
        Registry {
            inner: Arc::new(Inner {
                entries,
                by_url,
                by_id: OnceLock::new(),
                by_type: OnceLock::new(),
                by_unique_id: OnceLock::new(),
                by_volven_oid: OnceLock::new(),
                volven_value_sets: Default::default(),
                packages,
                core_package: core.then(|| embedded::R4_CORE.package_id()),
                embedded_packages: layers.iter().map(|l| l.package_id()).collect(),
            }),
        }
    }

    /// Resolve `url` or `url|version` (see the crate documentation for the
    /// rules). Decodes the resource on first use.
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let ext = registry
    ///     .resolve("http://hl7.org/fhir/StructureDefinition/patient-birthPlace")
    ///     .unwrap();
    /// assert_eq!(ext.json["type"], "Extension");
    /// ```
    pub fn resolve(&self, canonical: &str) -> Option<Arc<Resource>> {
        self.inner.entries.get(self.find(canonical)?)?.resource()
    }

    /// The summary of what [`Registry::resolve`] would return, without
    /// decoding it.
    pub fn resolve_summary(&self, canonical: &str) -> Option<&Summary> {
        Some(&self.inner.entries.get(self.find(canonical)?)?.summary)
    }

    fn find(&self, canonical: &str) -> Option<usize> {
        let (url, version) = match canonical.split_once('|') {
            Some((u, v)) if !v.is_empty() => (u, Some(v)),
            Some((u, _)) => (u, None),
            None => (canonical, None),
        };
        let candidates = self.inner.by_url.get(url)?;
        self.pick(candidates, version)
    }

    /// The latest of `candidates` matching `version`, loaded ones before
    /// embedded ones (and R4 core copies of terminology resources last); on
    /// equal versions the later loaded wins.
    fn pick(&self, candidates: &[usize], version: Option<&str>) -> Option<usize> {
        let entries = &self.inner.entries;
        for pass in [Rank::Loaded, Rank::Embedded, Rank::EmbeddedCopy] {
            let mut best: Option<(usize, Option<&str>)> = None;
            for &i in candidates {
                let Some(e) = entries.get(i) else { continue };
                if e.rank != pass {
                    continue;
                }
                let v = e.summary.version();
                if let Some(want) = version {
                    if !v.is_some_and(|v| version_matches(v, want)) {
                        continue;
                    }
                }
                let better = match best {
                    None => true,
                    Some((_, bv)) => match (v, bv) {
                        (Some(a), Some(b)) => compare_versions(a, b).is_ge(),
                        (Some(_), None) => true,
                        (None, Some(_)) => false,
                        (None, None) => true,
                    },
                };
                if better {
                    best = Some((i, v));
                }
            }
            if let Some((i, _)) = best {
                return Some(i);
            }
        }
        None
    }

    /// Every version held for `url` (loaded and core), in load order.
    pub fn versions_of(&self, url: &str) -> impl Iterator<Item = &Summary> + '_ {
        self.inner
            .by_url
            .get(url)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.inner.entries.get(i).map(|e| &e.summary))
    }

    /// The StructureDefinition of a FHIR type or resource by its name
    /// (`Patient`, `HumanName`, `string`), or by its URL when the type name
    /// is one (logical models: `http://example.org/StructureDefinition/X`).
    ///
    /// A name that is not a core type is looked up among the loaded
    /// StructureDefinitions that define it (`derivation` specialization or
    /// none, `type` equal to the name).
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// assert_eq!(registry.type_definition("string").unwrap().json["kind"], "primitive-type");
    /// ```
    pub fn type_definition(&self, type_name: &str) -> Option<Arc<Resource>> {
        self.inner
            .entries
            .get(self.find_type(type_name)?)?
            .resource()
    }

    /// The summary of [`Registry::type_definition`] without decoding it.
    pub fn type_summary(&self, type_name: &str) -> Option<&Summary> {
        Some(&self.inner.entries.get(self.find_type(type_name)?)?.summary)
    }

    /// The compiled definition model of the StructureDefinition `canonical`
    /// (`url` or `url|version`), compiled on first use and cached. A
    /// profile without a snapshot is compiled from its base with its
    /// differential applied. `None` when not found, not a
    /// StructureDefinition, or not compilable.
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let bp = registry.structure("http://hl7.org/fhir/StructureDefinition/bp").unwrap();
    /// assert_eq!(bp.type_name, "Observation");
    /// assert!(bp.elements.iter().any(|e| e.slice_name.as_deref() == Some("SystolicBP")));
    /// ```
    pub fn structure(&self, canonical: &str) -> Option<Arc<model::StructureDef>> {
        self.structure_at(self.find(canonical)?, 0)
    }

    /// The compiled model of the core definition of a type by name
    /// (`Patient`, `HumanName`, `string`), or of a definition by URL when
    /// the name contains `:`.
    pub fn type_structure(&self, type_name: &str) -> Option<Arc<model::StructureDef>> {
        self.type_structure_at(type_name, 0)
    }

    /// The compiled model of a type by name as [`Registry::type_definition`]
    /// finds it (core types, then types defined by loaded
    /// StructureDefinitions; a URL for logical models).
    pub fn type_structure_by_name(&self, type_name: &str) -> Option<Arc<model::StructureDef>> {
        self.structure_at(self.find_type(type_name)?, 0)
    }

    fn type_structure_at(&self, type_name: &str, depth: usize) -> Option<Arc<model::StructureDef>> {
        let i = if type_name.contains(':') {
            self.find(type_name)?
        } else {
            let mut url = String::with_capacity(CORE_SD_PREFIX.len() + type_name.len());
            url.push_str(CORE_SD_PREFIX);
            url.push_str(type_name);
            self.find(&url)?
        };
        self.structure_at(i, depth)
    }

    /// Bound on the chains of definitions compiled for one (bases,
    /// datatypes, content references): also stops cycles.
    const MAX_MODEL_DEPTH: usize = 16;

    fn structure_at(&self, i: usize, depth: usize) -> Option<Arc<model::StructureDef>> {
        let entry = self.inner.entries.get(i)?;
        if let Some(done) = entry.model.get() {
            return done.clone();
        }
        if depth > Self::MAX_MODEL_DEPTH || entry.summary.resource_type() != "StructureDefinition" {
            return None;
        }
        // Compiled outside the cell: compiling may need other definitions
        // (and, through a cycle, this one: it then gets `None` at the depth bound).
        let built = self.compile_structure(entry, depth);
        entry.model.get_or_init(|| built).clone()
    }

    fn compile_structure(&self, entry: &Entry, depth: usize) -> Option<Arc<model::StructureDef>> {
        if let Data::Embedded(layer, line) = &entry.data {
            if let Some(def) = layer.precompiled(line, model::StructureDef::from_bytes) {
                return Some(Arc::new(def));
            }
        }
        let resource = entry.resource()?;
        let external = |url: &str| self.find(url).and_then(|j| self.structure_at(j, depth + 1));
        let mut def = match model::StructureDef::from_json(&resource.json, &external) {
            Ok(def) => def,
            Err(model::ModelError::NoSnapshot(_)) => {
                // The one snapshot generator (see `snapshot.rs`).
                let generated = self.generate_at(&resource.json, depth).ok()?;
                model::StructureDef::from_json(&generated.structure_definition, &external).ok()?
            }
            Err(_) => return None,
        };
        if def.derivation == Some(model::Derivation::Constraint) {
            // A constraint cannot change what kind of thing its type is
            // (some profiles in the wild say `complex-type` for a resource).
            if let Some(base) = external(&def.base) {
                def.kind = base.kind;
            }
        }
        Some(Arc::new(def))
    }

    /// The CodeSystem `canonical` (`url` or `url|version`) in typed form,
    /// compiled on first use and cached (the embedded ones at build time:
    /// no JSON is read).
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let gender = registry.code_system("http://hl7.org/fhir/administrative-gender").unwrap();
    /// assert!(gender.concepts.iter().any(|c| c.code == "female"));
    /// ```
    ///
    /// A Volven OID (`urn:oid:2.16.578.1.12.4.1.1.NNNN`, the form HL7
    /// Norway's profiles and Norwegian data use as `Coding.system`) that is
    /// no CodeSystem's url finds the CodeSystem carrying it in
    /// `CodeSystem.identifier` (loaded ones first, then the embedded
    /// Norwegian kodeverk):
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let cs = registry.code_system("urn:oid:2.16.578.1.12.4.1.1.9060").unwrap();
    /// assert_eq!(cs.url, "http://helsedir.no/fhir/CodeSystem/no-kodeverk-9060");
    /// ```
    pub fn code_system(&self, canonical: &str) -> Option<Arc<model::CodeSystemDef>> {
        let found = self
            .find(canonical)
            .or_else(|| self.find_by_volven_oid(canonical));
        match self.terminology_at(found?)? {
            TerminologyDef::CodeSystem(cs) => Some(cs),
            TerminologyDef::ValueSet(_) => None,
        }
    }

    /// The CodeSystem entry whose `identifier` is the Volven OID
    /// `canonical` (`urn:oid:2.16.578.1.12.4.1.1.NNNN`, `|version` allowed).
    /// Only the Volven arc: elsewhere FHIR names a code system by its
    /// canonical URL, and an OID in `Coding.system` is a different system.
    fn find_by_volven_oid(&self, canonical: &str) -> Option<usize> {
        let (oid, version) = match canonical.split_once('|') {
            Some((u, v)) if !v.is_empty() => (u, Some(v)),
            Some((u, _)) => (u, None),
            None => (canonical, None),
        };
        if !oid.starts_with(VOLVEN_OID_PREFIX) {
            return None;
        }
        let index = self.inner.by_volven_oid.get_or_init(|| {
            let mut map: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, e) in self.inner.entries.iter().enumerate() {
                // The other embedded layers hold no Volven code system:
                // not decoding them keeps the first use cheap.
                let candidate = e.summary.resource_type() == "CodeSystem"
                    && (e.rank == Rank::Loaded
                        || e.summary.embedded == Some(embedded::NORWAY.package_id()));
                if !candidate {
                    continue;
                }
                let oids = e.with_json(|json| {
                    json.get("identifier")
                        .and_then(serde_json::Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|id| id.get("value")?.as_str())
                        .filter(|v| v.starts_with(VOLVEN_OID_PREFIX))
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                });
                for oid in oids.into_iter().flatten() {
                    map.entry(oid).or_default().push(i);
                }
            }
            map
        });
        self.pick(index.get(oid)?, version)
    }

    /// The ValueSet `canonical` in typed form, as for
    /// [`Registry::code_system`].
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let vs = registry.value_set("http://hl7.org/fhir/ValueSet/administrative-gender").unwrap();
    /// assert_eq!(vs.name.as_deref(), Some("AdministrativeGender"));
    /// ```
    ///
    /// A Volven OID bound as a value set URL (`urn:oid:2.16.578.1.12.4.1.1.NNNN`,
    /// as the no-basis profiles bind) that is no ValueSet's url means every
    /// code of the code system with that OID: a value set including the
    /// whole code system (by the OID and by its url), when the code system
    /// is held.
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let vs = registry.value_set("urn:oid:2.16.578.1.12.4.1.1.9060").unwrap();
    /// let include = &vs.compose.as_ref().unwrap().include;
    /// assert_eq!(include[0].system.as_deref(), Some("urn:oid:2.16.578.1.12.4.1.1.9060"));
    /// assert!(registry.value_set("urn:oid:2.16.578.1.12.4.1.1.3402").is_none()); // not held
    /// ```
    pub fn value_set(&self, canonical: &str) -> Option<Arc<model::ValueSetDef>> {
        let Some(found) = self.find(canonical) else {
            return self.volven_value_set(canonical);
        };
        match self.terminology_at(found)? {
            TerminologyDef::ValueSet(vs) => Some(vs),
            TerminologyDef::CodeSystem(_) => None,
        }
    }

    /// The implicit value set of a Volven OID bound as a value set URL.
    fn volven_value_set(&self, canonical: &str) -> Option<Arc<model::ValueSetDef>> {
        if !canonical.starts_with(VOLVEN_OID_PREFIX) {
            return None;
        }
        let oid = canonical.split('|').next().unwrap_or(canonical);
        let mut cache = self
            .inner
            .volven_value_sets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(done) = cache.get(oid) {
            return done.clone();
        }
        let made = self.code_system(oid).map(|cs| {
            let mut include = vec![serde_json::json!({"system": oid})];
            if cs.url != oid {
                include.push(serde_json::json!({"system": cs.url}));
            }
            let json = serde_json::json!({
                "resourceType": "ValueSet",
                "url": oid,
                "name": cs.name.clone().unwrap_or_else(|| oid.to_owned()),
                "title": cs.title,
                "status": cs.status.clone().unwrap_or_else(|| "active".into()),
                "description": format!("Every code of {} (the Volven OID {oid} bound as a value set)", cs.url),
                "compose": {"include": include},
            });
            Arc::new(model::ValueSetDef::from_json(&json))
        });
        cache.insert(oid.to_owned(), made.clone());
        made
    }

    fn terminology_at(&self, i: usize) -> Option<TerminologyDef> {
        let entry = self.inner.entries.get(i)?;
        entry
            .terminology
            .get_or_init(|| {
                let code_system = match entry.summary.resource_type() {
                    "CodeSystem" => true,
                    "ValueSet" => false,
                    _ => return None,
                };
                if let Data::Embedded(layer, line) = &entry.data {
                    let precompiled = if code_system {
                        layer
                            .precompiled(line, model::CodeSystemDef::from_bytes)
                            .map(|cs| TerminologyDef::CodeSystem(Arc::new(cs)))
                    } else {
                        layer
                            .precompiled(line, model::ValueSetDef::from_bytes)
                            .map(|vs| TerminologyDef::ValueSet(Arc::new(vs)))
                    };
                    if precompiled.is_some() {
                        return precompiled;
                    }
                }
                // Compiled from the JSON without keeping a decoded copy.
                entry.with_json(|json| {
                    if code_system {
                        TerminologyDef::CodeSystem(Arc::new(model::CodeSystemDef::from_json(json)))
                    } else {
                        TerminologyDef::ValueSet(Arc::new(model::ValueSetDef::from_json(json)))
                    }
                })
            })
            .clone()
    }

    fn find_type(&self, type_name: &str) -> Option<usize> {
        if type_name.contains('/') {
            return self.find(type_name);
        }
        if let Some(i) = self.find(&format!("{CORE_SD_PREFIX}{type_name}")) {
            return Some(i);
        }
        let by_type = self.inner.by_type.get_or_init(|| {
            let mut map: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, e) in self.inner.entries.iter().enumerate() {
                let s = &e.summary;
                if s.resource_type() == "StructureDefinition"
                    && s.derivation() != Some("constraint")
                {
                    if let Some(t) = s.type_name() {
                        map.entry(t.to_owned()).or_default().push(i);
                    }
                }
            }
            map
        });
        let candidates = by_type.get(type_name)?;
        self.pick(candidates, None)
    }

    /// The chain of StructureDefinitions from `type_name` (a type name,
    /// or a URL as for [`Registry::type_definition`]) up its
    /// `baseDefinition`s: `Patient`, `DomainResource`, `Resource`. Summaries
    /// only, nothing is decoded. Stops at a missing base or a cycle.
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let chain: Vec<_> = registry.type_ancestors("Patient").filter_map(|s| s.type_name()).collect();
    /// assert_eq!(chain, ["Patient", "DomainResource", "Resource"]);
    /// assert!(registry.is_subtype_of("Age", "Quantity"));
    /// assert!(!registry.is_subtype_of("Quantity", "Age"));
    /// ```
    pub fn type_ancestors(&self, type_name: &str) -> impl Iterator<Item = &Summary> + '_ {
        let mut next = self.type_summary(type_name);
        let mut seen: Vec<*const Summary> = Vec::new();
        std::iter::from_fn(move || {
            let current = next?;
            if seen.contains(&(current as *const Summary)) {
                return None;
            }
            seen.push(current);
            next = current
                .base_definition()
                .and_then(|b| self.resolve_summary(b));
            Some(current)
        })
    }

    /// True when `type_name` is `ancestor` or derives from it (by type
    /// name: `is_subtype_of("Patient", "Resource")`, `("Age", "Quantity")`;
    /// `ancestor` may also be a StructureDefinition URL).
    pub fn is_subtype_of(&self, type_name: &str, ancestor: &str) -> bool {
        self.type_ancestors(type_name).any(|s| {
            (s.type_name() == Some(ancestor) && s.derivation() != Some("constraint"))
                || s.url() == Some(ancestor)
        })
    }

    /// The NamingSystem with this `uniqueId` value (an identifier system
    /// URI or OID, e.g. `urn:oid:2.16.578.1.12.4.1.4.1`,
    /// `urn:oid:2.16.840.1.113883.6.1` for LOINC); a loaded one wins over
    /// the embedded ones (the HL7 terminology package's over the R4
    /// core's), the last loaded over earlier ones. The first call decodes
    /// every NamingSystem and indexes them.
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let loinc = registry.naming_system("2.16.840.1.113883.6.1").unwrap();
    /// assert_eq!(loinc.id.as_deref(), Some("v3-loinc"));
    /// let fnr = registry.naming_system("urn:oid:2.16.578.1.12.4.1.4.1").unwrap();
    /// assert_eq!(fnr.id.as_deref(), Some("no-fnr"));
    /// ```
    pub fn naming_system(&self, unique_id: &str) -> Option<Arc<Resource>> {
        let index = self.inner.by_unique_id.get_or_init(|| {
            let mut map: HashMap<String, usize> = HashMap::new();
            // Lowest precedence first, in load order: later inserts win.
            let mut order: Vec<(usize, &Entry)> = self
                .inner
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.summary.resource_type() == "NamingSystem")
                .collect();
            order.sort_by_key(|(i, e)| (std::cmp::Reverse(e.rank), *i));
            for (i, e) in order {
                // Not cached: most are never asked for.
                let ids = e.with_json(|json| {
                    let ids = json.get("uniqueId").and_then(serde_json::Value::as_array);
                    ids.into_iter()
                        .flatten()
                        .filter_map(|u| u.get("value")?.as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                });
                for v in ids.into_iter().flatten() {
                    map.insert(v, i);
                }
            }
            map
        });
        // An OID is given bare in `uniqueId` (type oid) and as `urn:oid:`
        // in Identifier.system and Coding.system: either finds it.
        let found = index
            .get(unique_id)
            .or_else(|| match unique_id.strip_prefix("urn:oid:") {
                Some(bare) => index.get(bare),
                None => index.get(&format!("urn:oid:{unique_id}")),
            });
        self.inner.entries.get(*found?)?.resource()
    }

    /// The resource a system URI that is no canonical URL stands for: the
    /// CodeSystem carrying a Volven OID in its `identifier` (see
    /// [`Registry::code_system`]), else the NamingSystem with that
    /// `uniqueId` (an identifier system such as the fødselsnummer's).
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let fnr = registry.resolve_system("urn:oid:2.16.578.1.12.4.1.4.1").unwrap();
    /// assert_eq!(fnr.resource_type, "NamingSystem");
    /// let cs = registry.resolve_system("urn:oid:2.16.578.1.12.4.1.1.9060").unwrap();
    /// assert_eq!(cs.resource_type, "CodeSystem");
    /// ```
    pub fn resolve_system(&self, uri: &str) -> Option<Arc<Resource>> {
        if let Some(i) = self.find_by_volven_oid(uri) {
            return self.inner.entries.get(i)?.resource();
        }
        self.naming_system(uri)
    }

    /// Summaries of every StructureDefinition, without decoding any. Core
    /// definitions shadowed by a loaded one with the same url are left out.
    pub fn structure_definitions(&self) -> impl Iterator<Item = &Summary> + '_ {
        self.resources_of_type("StructureDefinition")
    }

    /// Summaries of every resource of `resource_type` (`ValueSet`,
    /// `CodeSystem`, `Questionnaire`, ...), without decoding any. Core
    /// resources shadowed by a loaded one with the same url are left out.
    pub fn resources_of_type<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a Summary> + 'a {
        // The type first: the shadow check is a lookup per entry.
        self.inner
            .entries
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.summary.resource_type() == resource_type)
            .filter(|(i, _)| !self.is_shadowed(*i))
            .map(|(_, e)| &e.summary)
    }

    /// Summaries of every resource held (core first, then in load order).
    /// Core resources shadowed by a loaded one with the same url are left
    /// out.
    pub fn summaries(&self) -> impl Iterator<Item = &Summary> + '_ {
        self.inner
            .entries
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.is_shadowed(*i))
            .map(|(_, e)| &e.summary)
    }

    /// An embedded resource with a loaded one of the same url, or an R4
    /// core copy of a terminology resource.
    fn is_shadowed(&self, i: usize) -> bool {
        let Some(e) = self.inner.entries.get(i) else {
            return false;
        };
        if e.rank == Rank::Loaded {
            return false;
        }
        let Some(url) = e.summary.url() else {
            return false;
        };
        self.inner.by_url.get(url).is_some_and(|c| {
            c.iter()
                .any(|&j| self.inner.entries.get(j).is_some_and(|o| o.rank < e.rank))
        })
    }

    /// The resource with this `resourceType` and `id`; a loaded one wins
    /// over the core, the last loaded over earlier ones.
    ///
    /// ```
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let vs = registry.by_id("ValueSet", "administrative-gender").unwrap();
    /// assert_eq!(vs.url.as_deref(), Some("http://hl7.org/fhir/ValueSet/administrative-gender"));
    /// ```
    pub fn by_id(&self, resource_type: &str, id: &str) -> Option<Arc<Resource>> {
        let map = self.inner.by_id.get_or_init(|| {
            let mut map: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, e) in self.inner.entries.iter().enumerate() {
                if let Some(id) = e.summary.id() {
                    map.entry(format!("{}/{}", e.summary.resource_type(), id))
                        .or_default()
                        .push(i);
                }
            }
            map
        });
        let candidates = map.get(&format!("{resource_type}/{id}"))?;
        let entries = &self.inner.entries;
        let best = candidates
            .iter()
            .rev()
            .filter_map(|&i| Some((i, entries.get(i)?.rank)))
            .min_by_key(|(_, rank)| *rank)?;
        entries.get(best.0)?.resource()
    }

    /// The packages loaded (name, version, dependencies), in load order.
    pub fn packages(&self) -> &[PackageInfo] {
        &self.inner.packages
    }

    /// The package id of the embedded core (`hl7.fhir.r4.examples#4.0.1`),
    /// or `None` when the core is off.
    pub fn core_package(&self) -> Option<&'static str> {
        self.inner.core_package
    }

    /// The package ids of the embedded layers switched on, core first
    /// (`hl7.fhir.r4.examples#4.0.1`, `hl7.terminology.r4#7.0.1`).
    pub fn embedded_packages(&self) -> &[&'static str] {
        &self.inner.embedded_packages
    }

    /// Number of resources held (including shadowed embedded ones).
    pub fn len(&self) -> usize {
        self.inner.entries.len()
    }

    /// True when the registry holds nothing.
    pub fn is_empty(&self) -> bool {
        self.inner.entries.is_empty()
    }
}

/// The OID arc of Helsedirektoratet's Volven code systems.
const VOLVEN_OID_PREFIX: &str = "urn:oid:2.16.578.1.12.4.1.1.";

/// Rank the R4 core's copies of resources the HL7 terminology layer also
/// defines below the terminology layer's (the HL7 validator drops them:
/// "special case logic for UTG support prior to version 5").
fn demote_core_copies(entries: &mut [Entry], by_url: &FastMap<Str, Vec<usize>>) {
    let terminology = embedded::HL7_TERMINOLOGY.package_id();
    let core = embedded::R4_CORE.package_id();
    for candidates in by_url.values() {
        let in_terminology = candidates.iter().any(|&i| {
            entries
                .get(i)
                .is_some_and(|e| e.summary.embedded == Some(terminology))
        });
        if !in_terminology {
            continue;
        }
        for &i in candidates {
            if let Some(e) = entries.get_mut(i) {
                if e.summary.embedded == Some(core) {
                    e.rank = Rank::EmbeddedCopy;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_send_sync_and_cheap_to_clone() {
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Registry>();
        assert_send_sync::<Arc<Resource>>();
        let r = Registry::builder().build().unwrap();
        let c = r.clone();
        assert!(Arc::ptr_eq(&r.inner, &c.inner));
    }
}
