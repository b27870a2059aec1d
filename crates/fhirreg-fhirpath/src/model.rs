//! Type information: which FHIR type a property of a type has.
//!
//! [`ModelInfo`] is the question FHIRPath asks while navigating; [`SdModel`]
//! answers it from StructureDefinition snapshots (from the
//! [`fhirreg_registry::Registry`] or any other [`SdSource`]), cached per type.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// The FHIR type of an element, and where its children are defined.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ElementType {
    /// The FHIR type name: `HumanName`, `date`, `BackboneElement`, `Patient`,
    /// or `System.String` for the few System-typed elements (`Element.id`).
    pub type_name: String,
    /// Where the element's own properties are defined: a type name
    /// (`HumanName`) or, for backbone elements, the element path inside its
    /// type (`Patient.contact`).
    pub path: String,
}

impl ElementType {
    /// A type whose properties are those of the type itself.
    pub fn of_type(name: &str) -> ElementType {
        ElementType {
            type_name: name.to_string(),
            path: name.to_string(),
        }
    }
}

/// Answers FHIRPath's questions about the FHIR model. `Send + Sync` so that
/// one instance serves all threads.
pub trait ModelInfo: Send + Sync {
    /// The type of property `name` (as named in the tree, e.g. `valueQuantity`)
    /// of an element of type `parent`. `None` when there is no such property.
    fn child_type(&self, parent: &ElementType, name: &str) -> Option<Arc<ElementType>>;
    /// True when `name` is a choice property (`value[x]`) of `parent`.
    fn is_choice(&self, parent: &ElementType, name: &str) -> bool;
    /// True when `name` is a choice property written with its type suffix
    /// (`valueQuantity` for `value[x]`) rather than a property of its own.
    /// The default: `name` is a choice name followed by the name of a type
    /// and `parent` has no property of that exact name.
    fn is_choice_expansion(&self, parent: &ElementType, name: &str) -> bool {
        name.char_indices().any(|(i, c)| {
            i > 0
                && c.is_ascii_uppercase()
                && self.is_choice(parent, &name[..i])
                && self.child_type(parent, name).is_none()
                && {
                    let suffix = &name[i..];
                    let lower = suffix[..1].to_ascii_lowercase() + &suffix[1..];
                    self.type_named(suffix).is_some() || self.type_named(&lower).is_some()
                }
        })
    }
    /// The type of a resource or data type by name, if it exists.
    fn type_named(&self, name: &str) -> Option<Arc<ElementType>>;
    /// The base type of a type (`Patient` -> `DomainResource`, `Age` -> `Quantity`).
    fn base_type(&self, name: &str) -> Option<String>;

    /// True when `ty` is `base` or derives from it.
    fn is_subtype(&self, ty: &str, base: &str) -> bool {
        let mut cur = ty.to_string();
        for _ in 0..16 {
            if cur == base {
                return true;
            }
            match self.base_type(&cur) {
                Some(b) => cur = b,
                None => return false,
            }
        }
        false
    }
}

/// Where [`SdModel`] finds StructureDefinitions (as FHIR JSON) by type name.
pub trait SdSource: Send + Sync {
    fn structure_definition(&self, type_name: &str) -> Option<serde_json::Value>;
}

impl SdSource for fhirreg_registry::Registry {
    fn structure_definition(&self, type_name: &str) -> Option<serde_json::Value> {
        self.type_definition(type_name).map(|r| r.json.clone())
    }
}

/// Reads `StructureDefinition-{type}.json` files from an unpacked package folder.
#[derive(Clone, Debug)]
pub struct PackageDirSource(pub PathBuf);

impl SdSource for PackageDirSource {
    fn structure_definition(&self, type_name: &str) -> Option<serde_json::Value> {
        if !type_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return None;
        }
        let p = self.0.join(format!("StructureDefinition-{type_name}.json"));
        let bytes = std::fs::read(p).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

type FastMap<K, V> = HashMap<K, V, crate::distinct::FastHasher>;

/// The properties of one element path (`Patient`, `Patient.contact`).
#[derive(Debug, Default)]
struct PathModel {
    /// Property name (`name`, `valueQuantity`) -> type.
    children: FastMap<String, Arc<ElementType>>,
    /// Choice property names without `[x]` (`value`).
    choices: HashSet<String, crate::distinct::FastHasher>,
    /// Names in `children` that are typed forms of a choice
    /// (`valueQuantity`), not elements of their own.
    expansions: HashSet<String, crate::distinct::FastHasher>,
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

/// A [`ModelInfo`] built from StructureDefinition snapshots, cached per type.
pub struct SdModel {
    source: Box<dyn SdSource>,
    cache: RwLock<FastMap<String, Option<Arc<TypeModel>>>>,
}

impl std::fmt::Debug for SdModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdModel").finish_non_exhaustive()
    }
}

fn type_code(code: &str) -> String {
    match code.strip_prefix("http://hl7.org/fhirpath/") {
        Some(sys) => sys.to_string(),
        None => code.rsplit('/').next().unwrap_or(code).to_string(),
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

impl SdModel {
    /// A model over any source of StructureDefinitions.
    pub fn new(source: impl SdSource + 'static) -> SdModel {
        SdModel {
            source: Box::new(source),
            cache: RwLock::new(FastMap::default()),
        }
    }

    /// A model over the registry's StructureDefinitions.
    pub fn from_registry(registry: fhirreg_registry::Registry) -> SdModel {
        SdModel::new(registry)
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
            .source
            .structure_definition(type_name)
            .map(|sd| Arc::new(build(&sd)));
        if let Ok(mut c) = self.cache.write() {
            c.insert(type_name.to_string(), built.clone());
        }
        built
    }
}

fn build(sd: &serde_json::Value) -> TypeModel {
    let mut m = TypeModel {
        this: sd
            .get("type")
            .and_then(|t| t.as_str())
            .map(|t| Arc::new(ElementType::of_type(t))),
        base: sd
            .get("baseDefinition")
            .and_then(|b| b.as_str())
            .map(|b| b.rsplit('/').next().unwrap_or(b).to_string()),
        ..Default::default()
    };
    let elements = sd
        .pointer("/snapshot/element")
        .and_then(|e| e.as_array())
        .map(|v| v.as_slice())
        .unwrap_or(&[]);
    // Paths that have children defined inline (backbone elements).
    let paths: HashSet<&str> = elements
        .iter()
        .filter_map(|e| e.get("path").and_then(|p| p.as_str()))
        .collect();
    let has_children = |p: &str| {
        let prefix = format!("{p}.");
        paths.iter().any(|q| q.starts_with(&prefix))
    };
    for e in elements {
        let Some(path) = e.get("path").and_then(|p| p.as_str()) else {
            continue;
        };
        if !path.contains('.') {
            continue;
        }
        if let Some(cr) = e.get("contentReference").and_then(|c| c.as_str()) {
            let target = cr.rsplit('#').next().unwrap_or(cr).to_string();
            let target_type = elements
                .iter()
                .find(|x| x.get("path").and_then(|p| p.as_str()) == Some(target.as_str()))
                .and_then(|x| x.pointer("/type/0/code"))
                .and_then(|c| c.as_str())
                .map(type_code)
                .unwrap_or_else(|| "BackboneElement".to_string());
            m.insert(
                path,
                Arc::new(ElementType {
                    type_name: target_type,
                    path: target,
                }),
            );
            continue;
        }
        let codes: Vec<String> = e
            .get("type")
            .and_then(|t| t.as_array())
            .map(|ts| {
                ts.iter()
                    .filter_map(|t| {
                        let fhir_type = t
                            .get("extension")
                            .and_then(|x| x.as_array())
                            .and_then(|xs| {
                                xs.iter().find(|x| {
                                    x.get("url").and_then(|u| u.as_str()).is_some_and(|u| {
                                        u.ends_with("structuredefinition-fhir-type")
                                    })
                                })
                            })
                            .and_then(|x| x.get("valueUrl").or_else(|| x.get("valueUri")))
                            .and_then(|v| v.as_str());
                        fhir_type.or_else(|| t.get("code").and_then(|c| c.as_str()))
                    })
                    .map(type_code)
                    .collect()
            })
            .unwrap_or_default();
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
        let is_resource = sd.get("kind").and_then(|k| k.as_str()) == Some("resource");
        if is_resource && path.matches('.').count() == 1 && path.ends_with(".id") {
            m.insert(path, Arc::new(ElementType::of_type("id")));
            continue;
        }
        let et = if (code == "BackboneElement" || code == "Element") && has_children(path) {
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

impl ModelInfo for SdModel {
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
