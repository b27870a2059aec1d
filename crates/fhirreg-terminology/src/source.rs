//! Where CodeSystems, ValueSets and ConceptMaps come from.

// foldhash in the store, looked up per resolved canonical (see lib.rs).
use foldhash::HashMap;
use std::sync::Arc;

use fhirreg_model::{CodeSystemDef, ValueSetDef};
use fhirreg_registry::{Registry, Resource};
use serde_json::Value;

use crate::TxError;

/// A store of conformance resources resolvable by canonical URL.
///
/// The engine reads CodeSystems and ValueSets in typed form
/// ([`ResourceSource::code_system`], [`ResourceSource::value_set`]); the
/// default methods compile them from [`ResourceSource::resolve`]'s JSON on
/// each call (the engine caches what it builds from them), and a registry
/// gives its cached, precompiled ones.
pub trait ResourceSource: Send + Sync {
    /// Resolve `url` or `url|version`.
    fn resolve(&self, canonical: &str) -> Option<Arc<Resource>>;

    /// The CodeSystem `url` or `url|version`, typed.
    fn code_system(&self, canonical: &str) -> Option<Arc<CodeSystemDef>> {
        self.resolve(canonical)
            .filter(|r| r.resource_type == "CodeSystem")
            .map(|r| Arc::new(CodeSystemDef::from_json(&r.json)))
    }

    /// The ValueSet `url` or `url|version`, typed.
    fn value_set(&self, canonical: &str) -> Option<Arc<ValueSetDef>> {
        self.resolve(canonical)
            .filter(|r| r.resource_type == "ValueSet")
            .map(|r| Arc::new(ValueSetDef::from_json(&r.json)))
    }

    /// Every CodeSystem supplement held (`CodeSystem.supplements` set).
    /// Asked once per [`crate::Terminology`]; sources that cannot list
    /// return none.
    fn supplements(&self) -> Vec<Arc<CodeSystemDef>> {
        Vec::new()
    }

    /// The versions held of `url` (for "valid versions" messages).
    fn versions(&self, url: &str) -> Vec<String> {
        self.resolve(url)
            .and_then(|r| r.version.clone())
            .into_iter()
            .collect()
    }
}

impl ResourceSource for Registry {
    fn resolve(&self, canonical: &str) -> Option<Arc<Resource>> {
        Registry::resolve(self, canonical)
    }

    fn code_system(&self, canonical: &str) -> Option<Arc<CodeSystemDef>> {
        Registry::code_system(self, canonical)
    }

    fn value_set(&self, canonical: &str) -> Option<Arc<ValueSetDef>> {
        Registry::value_set(self, canonical)
    }

    /// Supplements among the loaded (non-core) CodeSystems plus the core
    /// ones (the R4 core holds a single example supplement).
    fn supplements(&self) -> Vec<Arc<CodeSystemDef>> {
        let canonicals: Vec<String> = self
            .resources_of_type("CodeSystem")
            .filter(|s| !s.is_core() || s.id() == Some("example-supplement"))
            .filter_map(|s| s.canonical())
            .collect();
        canonicals
            .iter()
            .filter_map(|c| Registry::code_system(self, c))
            .filter(|cs| cs.supplements.is_some())
            .collect()
    }

    fn versions(&self, url: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .versions_of(url)
            .filter_map(|s| s.version().map(str::to_owned))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

impl<T: ResourceSource + ?Sized> ResourceSource for Arc<T> {
    fn resolve(&self, canonical: &str) -> Option<Arc<Resource>> {
        (**self).resolve(canonical)
    }

    fn code_system(&self, canonical: &str) -> Option<Arc<CodeSystemDef>> {
        (**self).code_system(canonical)
    }

    fn value_set(&self, canonical: &str) -> Option<Arc<ValueSetDef>> {
        (**self).value_set(canonical)
    }

    fn supplements(&self) -> Vec<Arc<CodeSystemDef>> {
        (**self).supplements()
    }

    fn versions(&self, url: &str) -> Vec<String> {
        (**self).versions(url)
    }
}

/// A simple in-memory source, e.g. for tests or for resources that are not
/// in a registry. The plain URL resolves to the last added version.
///
/// ```
/// use fhirreg_terminology::{MemorySource, ResourceSource};
/// let mut src = MemorySource::new();
/// src.add(serde_json::json!({"resourceType": "ValueSet", "url": "http://x/vs", "version": "2"}))?;
/// assert!(src.resolve("http://x/vs|2").is_some());
/// assert!(src.resolve("http://x/vs|3").is_none());
/// # Ok::<(), fhirreg_terminology::TxError>(())
/// ```
#[derive(Debug, Default, Clone)]
pub struct MemorySource {
    by_canonical: HashMap<String, Arc<Resource>>,
    supplements: HashMap<String, Vec<Arc<Resource>>>,
}

impl MemorySource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a resource given as FHIR JSON (it needs `resourceType` and `url`).
    pub fn add(&mut self, json: Value) -> Result<(), TxError> {
        let text = |k: &str| json.get(k).and_then(Value::as_str).map(str::to_owned);
        let invalid = |m: &str| TxError::Invalid {
            what: "resource".into(),
            message: m.into(),
        };
        let resource_type = text("resourceType").ok_or_else(|| invalid("no resourceType"))?;
        let url = text("url").ok_or_else(|| invalid("no url"))?;
        let version = text("version");
        let supplements = text("supplements");
        let r = Arc::new(Resource {
            resource_type,
            id: text("id"),
            url: Some(url.clone()),
            version: version.clone(),
            name: text("name"),
            json,
        });
        if let Some(base) = supplements {
            let base = base.split('|').next().unwrap_or_default().to_owned();
            self.supplements.entry(base).or_default().push(r.clone());
        }
        if let Some(v) = version {
            self.by_canonical.insert(format!("{url}|{v}"), r.clone());
        }
        self.by_canonical.insert(url, r);
        Ok(())
    }

    /// Add a resource from JSON bytes.
    pub fn add_bytes(&mut self, bytes: &[u8]) -> Result<(), TxError> {
        let json = serde_json::from_slice(bytes).map_err(|e| TxError::Invalid {
            what: "resource".into(),
            message: e.to_string(),
        })?;
        self.add(json)
    }
}

impl ResourceSource for MemorySource {
    fn resolve(&self, canonical: &str) -> Option<Arc<Resource>> {
        self.by_canonical.get(canonical).cloned()
    }

    fn supplements(&self) -> Vec<Arc<CodeSystemDef>> {
        self.supplements
            .values()
            .flatten()
            .map(|r| Arc::new(CodeSystemDef::from_json(&r.json)))
            .collect()
    }
}

/// A source that asks a first source, then a second (e.g. test resources over a registry).
#[derive(Debug, Clone)]
pub struct Layered<A, B>(pub A, pub B);

impl<A: ResourceSource, B: ResourceSource> ResourceSource for Layered<A, B> {
    fn resolve(&self, canonical: &str) -> Option<Arc<Resource>> {
        self.0
            .resolve(canonical)
            .or_else(|| self.1.resolve(canonical))
    }

    fn code_system(&self, canonical: &str) -> Option<Arc<CodeSystemDef>> {
        self.0
            .code_system(canonical)
            .or_else(|| self.1.code_system(canonical))
    }

    fn value_set(&self, canonical: &str) -> Option<Arc<ValueSetDef>> {
        self.0
            .value_set(canonical)
            .or_else(|| self.1.value_set(canonical))
    }

    fn supplements(&self) -> Vec<Arc<CodeSystemDef>> {
        let mut v = self.0.supplements();
        v.extend(self.1.supplements());
        v
    }

    fn versions(&self, url: &str) -> Vec<String> {
        let mut v = self.0.versions(url);
        v.extend(self.1.versions(url));
        v
    }
}
