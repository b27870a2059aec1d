//! FHIRPath's type information ([`ModelInfo`]) read from the definition
//! model: which FHIR type each property of a type has.

use crate::Registry;
use fhirreg_fhirpath::{ElementType, ModelInfo};
use fhirreg_model::{StructureDef, TypeRef};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;
type FastSet<K> = HashSet<K, foldhash::fast::FixedState>;

/// The properties of one element path (`Patient`, `Patient.contact`).
#[derive(Debug, Default)]
struct PathModel {
    /// Property name (`name`, `valueQuantity`) -> type.
    children: FastMap<String, Arc<ElementType>>,
    /// Choice property names without `[x]` (`value`).
    choices: FastSet<String>,
    /// Names in `children` that are typed forms of a choice
    /// (`valueQuantity`), not elements of their own.
    expansions: FastSet<String>,
}

#[derive(Debug, Default)]
struct TypeModel {
    /// Parent path (`Patient.contact`) -> its properties; two levels so
    /// lookups need no allocation.
    paths: FastMap<String, PathModel>,
    base: Option<String>,
    this: Option<Arc<ElementType>>,
}

impl TypeModel {
    fn insert(&mut self, path: &str, ty: Arc<ElementType>) {
        if let Some((parent, name)) = path.rsplit_once('.') {
            let pm = self.paths.entry(parent.to_string()).or_default();
            pm.expansions.remove(name);
            pm.children.insert(name.to_string(), ty);
        }
    }

    /// A typed form of a choice; an element of the same name wins.
    fn insert_expansion(&mut self, path: &str, ty: Arc<ElementType>) {
        if let Some((parent, name)) = path.rsplit_once('.') {
            let pm = self.paths.entry(parent.to_string()).or_default();
            if !pm.children.contains_key(name) {
                pm.children.insert(name.to_string(), ty);
                pm.expansions.insert(name.to_string());
            }
        }
    }

    fn path(&self, path: &str) -> Option<&PathModel> {
        self.paths.get(path)
    }
}

/// FHIRPath's [`ModelInfo`] over the registry's definitions: the core
/// types (and types defined by loaded packages), cached per type. Cheap
/// to share (`Send + Sync`).
///
/// ```
/// use fhirreg_fhirpath::{ElementType, ModelInfo};
/// let registry = fhirreg_registry::Registry::builder().build().unwrap();
/// let model = fhirreg_registry::model::FhirPathModel::new(registry);
/// let name = model.child_type(&ElementType::of_type("Patient"), "name").unwrap();
/// assert_eq!(name.type_name, "HumanName");
/// assert!(model.is_subtype("Age", "Quantity"));
/// ```
pub struct FhirPathModel {
    registry: Registry,
    cache: RwLock<FastMap<String, Option<Arc<TypeModel>>>>,
}

impl std::fmt::Debug for FhirPathModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FhirPathModel").finish_non_exhaustive()
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The name FHIRPath uses for a type code (`System.String`, `HumanName`;
/// the last segment of a URL).
fn fhirpath_code(t: &TypeRef) -> String {
    match &t.system_type {
        Some(s) => s.clone(),
        None => t.code.rsplit('/').next().unwrap_or(&t.code).to_string(),
    }
}

impl FhirPathModel {
    /// A model over the registry's StructureDefinitions.
    pub fn new(registry: Registry) -> FhirPathModel {
        FhirPathModel {
            registry,
            cache: RwLock::new(FastMap::default()),
        }
    }

    /// Answer from the model of a type, under the read lock (no `Arc`
    /// traffic on the hot path); `None` when the type is unknown.
    fn with_model<T>(&self, type_name: &str, f: impl FnOnce(&TypeModel) -> Option<T>) -> Option<T> {
        if let Ok(c) = self.cache.read() {
            if let Some(m) = c.get(type_name) {
                return f(m.as_deref()?);
            }
        }
        f(&*self.model(type_name)?)
    }

    fn model(&self, type_name: &str) -> Option<Arc<TypeModel>> {
        if let Ok(c) = self.cache.read() {
            if let Some(m) = c.get(type_name) {
                return m.clone();
            }
        }
        let built = self
            .registry
            .type_structure_by_name(type_name)
            .map(|sd| Arc::new(build(&sd)));
        if let Ok(mut c) = self.cache.write() {
            c.insert(type_name.to_string(), built.clone());
        }
        built
    }
}

fn build(sd: &StructureDef) -> TypeModel {
    let mut m = TypeModel {
        this: (!sd.type_name.is_empty()).then(|| Arc::new(ElementType::of_type(&sd.type_name))),
        base: (!sd.base.is_empty())
            .then(|| sd.base.rsplit('/').next().unwrap_or(&sd.base).to_string()),
        ..Default::default()
    };
    let is_resource = sd.is_resource();
    // Slices share the path of their sliced element: only the tree of
    // children (from the root) is walked.
    let mut stack: Vec<usize> = vec![0];
    let mut seen: HashSet<usize> = HashSet::new();
    while let Some(i) = stack.pop() {
        if !seen.insert(i) {
            continue;
        }
        let Some(e) = sd.elements.get(i) else {
            continue;
        };
        stack.extend(e.children.iter().rev());
        if i == 0 || !e.path.contains('.') {
            continue;
        }
        let path = e.path.as_str();
        if let Some(target) = e.content_ref.and_then(|c| sd.elements.get(c)) {
            let target_type = target
                .types
                .first()
                .map(fhirpath_code)
                .unwrap_or_else(|| "BackboneElement".to_string());
            m.insert(
                path,
                Arc::new(ElementType {
                    type_name: target_type,
                    path: target.path.clone(),
                }),
            );
            continue;
        }
        let codes: Vec<String> = e.types.iter().map(fhirpath_code).collect();
        if let Some(base) = path.strip_suffix("[x]") {
            if let Some((parent, name)) = base.rsplit_once('.') {
                m.paths
                    .entry(parent.to_string())
                    .or_default()
                    .choices
                    .insert(name.to_string());
            }
            for c in &codes {
                m.insert_expansion(
                    &format!("{base}{}", upper_first(c)),
                    Arc::new(ElementType::of_type(c)),
                );
            }
            continue;
        }
        let Some(code) = codes.first() else { continue };
        // R4 declares Resource.id as System.String with FHIR type `string`;
        // FHIRPath engines type it as `id`.
        if is_resource && path.matches('.').count() == 1 && path.ends_with(".id") {
            m.insert(path, Arc::new(ElementType::of_type("id")));
            continue;
        }
        let et = if (code == "BackboneElement" || code == "Element") && !e.children.is_empty() {
            ElementType {
                type_name: code.clone(),
                path: path.to_string(),
            }
        } else {
            ElementType::of_type(code)
        };
        m.insert(path, Arc::new(et));
    }
    m
}

fn root_of(path: &str) -> &str {
    path.split_once('.').map_or(path, |(r, _)| r)
}

impl ModelInfo for FhirPathModel {
    fn child_type(&self, parent: &ElementType, name: &str) -> Option<Arc<ElementType>> {
        self.with_model(root_of(&parent.path), |m| {
            m.path(&parent.path)?.children.get(name).cloned()
        })
    }

    fn is_choice(&self, parent: &ElementType, name: &str) -> bool {
        self.with_model(root_of(&parent.path), |m| {
            Some(m.path(&parent.path)?.choices.contains(name))
        })
        .unwrap_or(false)
    }

    fn is_choice_expansion(&self, parent: &ElementType, name: &str) -> bool {
        self.with_model(root_of(&parent.path), |m| {
            Some(m.path(&parent.path)?.expansions.contains(name))
        })
        .unwrap_or(false)
    }

    fn type_named(&self, name: &str) -> Option<Arc<ElementType>> {
        self.with_model(name, |m| {
            Some(
                m.this
                    .clone()
                    .unwrap_or_else(|| Arc::new(ElementType::of_type(name))),
            )
        })
    }

    fn base_type(&self, name: &str) -> Option<String> {
        self.with_model(name, |m| m.base.clone())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn model_is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::FhirPathModel>();
    }
}
