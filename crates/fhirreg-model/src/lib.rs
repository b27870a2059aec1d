//! The definition model: every StructureDefinition compiled once into one
//! typed form that the validator, FHIRPath's type information, the typing
//! pass of the format converters and the server all read; and every
//! CodeSystem and ValueSet into the typed form the terminology engine reads
//! ([`terminology`]).
//!
//! A [`StructureDef`] holds the snapshot as an element tree (element 0 is
//! the root; each element lists its children and its slices by index),
//! with everything an instance check needs already typed: cardinality,
//! types and choice suffixes, slicing and discriminators, bindings with
//! their strength, fixed and pattern values, value limits, constraints and
//! the extension contexts. Documentation (definitions, comments, mappings)
//! is not kept.
//!
//! Get one from the registry (`fhirreg_registry::Registry::structure` by
//! canonical, `type_structure` by type name), which compiles each
//! definition on first use and caches it; the embedded R4 core is compiled
//! at build time. This crate is the only reader of StructureDefinition
//! elements ([`StructureDef::from_json`]); a profile that has only a
//! differential gets its snapshot from the registry's snapshot generator
//! first.
//!
//! ```
//! use fhirreg_model::{BindingStrength, StructureDef};
//! let sd = serde_json::json!({
//!     "resourceType": "StructureDefinition", "url": "http://example.org/sd/Thing",
//!     "type": "Thing", "kind": "logical", "abstract": false,
//!     "snapshot": {"element": [
//!         {"id": "Thing", "path": "Thing", "min": 0, "max": "*"},
//!         {"id": "Thing.status", "path": "Thing.status", "min": 1, "max": "1",
//!          "type": [{"code": "code"}],
//!          "binding": {"strength": "required", "valueSet": "http://example.org/vs"}}
//!     ]}
//! });
//! let def = StructureDef::from_json(&sd, &|_| None).unwrap();
//! let (status, _) = def.find_child(0, "status").unwrap();
//! assert_eq!(def.elements[status].min, 1);
//! assert_eq!(def.elements[status].binding.as_ref().unwrap().strength, BindingStrength::Required);
//! // The compact binary form the embedded core is stored in:
//! let back = StructureDef::from_bytes(&def.to_bytes().unwrap()).unwrap();
//! assert_eq!(back.find_child(0, "status"), Some((status, None)));
//! ```

mod compile;
mod serde_json_text;
pub mod terminology;

use serde::{Deserialize, Serialize};
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

pub use compile::ModelError;
pub use terminology::{
    CodeSystemDef, ConceptDef, Content, Designation, PropertyValue, ValueSetDef,
};

/// Upper bound of a cardinality (`*` is `None`).
pub type Max = Option<u32>;

/// `StructureDefinition.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    PrimitiveType,
    ComplexType,
    Resource,
    Logical,
}

impl Kind {
    /// Parse the FHIR code.
    pub fn parse(code: &str) -> Option<Kind> {
        Some(match code {
            "primitive-type" => Kind::PrimitiveType,
            "complex-type" => Kind::ComplexType,
            "resource" => Kind::Resource,
            "logical" => Kind::Logical,
            _ => return None,
        })
    }

    /// The FHIR code.
    pub fn code(self) -> &'static str {
        match self {
            Kind::PrimitiveType => "primitive-type",
            Kind::ComplexType => "complex-type",
            Kind::Resource => "resource",
            Kind::Logical => "logical",
        }
    }
}

/// `StructureDefinition.derivation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Derivation {
    Specialization,
    Constraint,
}

/// `ElementDefinition.binding.strength`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BindingStrength {
    Required,
    Extensible,
    Preferred,
    Example,
}

impl BindingStrength {
    /// Parse the FHIR code.
    pub fn parse(code: &str) -> Option<BindingStrength> {
        Some(match code {
            "required" => BindingStrength::Required,
            "extensible" => BindingStrength::Extensible,
            "preferred" => BindingStrength::Preferred,
            "example" => BindingStrength::Example,
            _ => return None,
        })
    }

    /// The FHIR code.
    pub fn code(self) -> &'static str {
        match self {
            BindingStrength::Required => "required",
            BindingStrength::Extensible => "extensible",
            BindingStrength::Preferred => "preferred",
            BindingStrength::Example => "example",
        }
    }
}

/// One allowed type of an element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeRef {
    /// FHIR type code (`string`, `Quantity`, `Reference`, `Resource`); the
    /// FHIRPath system types are mapped to their FHIR primitive.
    pub code: String,
    /// Suffix used in choice element names (`Quantity`, `DateTime`).
    pub suffix: String,
    /// `type.profile` canonicals.
    pub profiles: Vec<String>,
    /// The element of the profile the type points at
    /// (elementdefinition-profile-element extension), if any.
    pub profile_element: Option<String>,
    /// Resource type names allowed as reference targets (from
    /// `type.targetProfile`), only when every target is a core type;
    /// empty means any (or: see `target_profiles`).
    pub targets: Vec<String>,
    /// `type.targetProfile` canonicals as written.
    pub target_profiles: Vec<String>,
    /// `type.aggregation` codes (`contained`, `referenced`, `bundled`).
    pub aggregation: Vec<String>,
    /// For elements typed with a FHIRPath System type and no FHIR type
    /// (`string.value`, `Element.id`): that type (`System.String`), which is
    /// what FHIRPath sees; `code` then holds the nearest FHIR primitive.
    pub system_type: Option<String>,
}

impl TypeRef {
    /// A FHIR primitive type (`string`, `dateTime`): its code starts with a
    /// lower-case letter.
    pub fn is_primitive(&self) -> bool {
        self.code.starts_with(|c: char| c.is_ascii_lowercase())
    }
}

/// `ElementDefinition.slicing`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slicing {
    /// (type, path) of each discriminator.
    pub discriminators: Vec<(String, String)>,
    /// `rules = closed`.
    pub closed: bool,
    /// `ordered`: the items come in the order of the slices.
    #[serde(default)]
    pub ordered: bool,
    /// `rules = openAtEnd`: items that match no slice come after them.
    #[serde(default)]
    pub open_at_end: bool,
}

/// An `ElementDefinition.constraint` (invariant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub key: String,
    /// `severity = error`.
    pub error: bool,
    pub human: String,
    /// The FHIRPath expression, with the corrections the HL7 validator
    /// applies to published R4 expressions (see [`fix_expression`]).
    pub expression: String,
    /// The StructureDefinition that defined it.
    pub source: Option<String>,
    /// Marked as best practice (`elementdefinition-bestpractice`).
    pub best_practice: bool,
}

/// An `ElementDefinition.binding` with a value set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    pub strength: BindingStrength,
    /// The value set canonical; for `#id` bindings to a ValueSet contained
    /// in the profile, `profile-url#id` (see `contained`).
    pub value_set: String,
    /// Additional bindings (R5 `binding.additional`, carried in R4 by an
    /// extension): (purpose, value set canonical).
    pub additional: Vec<(String, String)>,
    /// The value set when the binding names a ValueSet contained in the
    /// profile.
    #[serde(with = "serde_json_text::arc_option")]
    pub contained: Option<Arc<serde_json::Value>>,
    /// The value set no coded value may go beyond (extension
    /// `elementdefinition-maxValueSet`).
    #[serde(default)]
    pub max_value_set: Option<String>,
}

/// The limits on an element's values that R4 carries in extensions of the
/// ElementDefinition (`minLength`, `regex`, `maxDecimalPlaces`,
/// `maxSize`, and for a Narrative `narrative-language-control` and
/// `narrative-source-control`); most elements have none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueRules {
    /// Extension `minLength`: the fewest characters of a string value.
    pub min_length: Option<u64>,
    /// Extension `regex`: the whole value matches this regular expression.
    pub regex: Option<String>,
    /// Extension `maxDecimalPlaces`: the most places after the point.
    pub max_decimal_places: Option<u64>,
    /// Extension `maxSize`: the most bytes of Attachment data or a
    /// base64Binary value.
    pub max_size: Option<u64>,
    /// Extension `narrative-language-control` (a Narrative's language
    /// sections): `_no` (none allowed), `_yes` (required), `_resource` (one
    /// for the resource's language), or language codes that each need a
    /// section.
    #[serde(default)]
    pub narrative_language: Vec<String>,
    /// Extension `narrative-source-control`: the level (`error`,
    /// `warning`, ...) at which the parts of a Narrative without a source
    /// class (`boilerplate`, `generated`, ...) are reported.
    #[serde(default)]
    pub narrative_source: Option<String>,
}

impl ValueRules {
    /// No rule at all.
    pub fn is_empty(&self) -> bool {
        *self == ValueRules::default()
    }
}

/// A compiled ElementDefinition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementDef {
    /// The element id, e.g. `Observation.category:VSCat` (the path when the
    /// definition has no id).
    pub id: String,
    /// `sliceName`, for a slice.
    pub slice_name: Option<String>,
    /// `slicing`, for a sliced element.
    pub slicing: Option<Slicing>,
    /// The slices of this element (not among any element's children).
    pub slices: Vec<usize>,
    /// The full path, e.g. `Observation.value[x]`.
    pub path: String,
    /// The last path segment without `[x]`.
    pub name: String,
    /// True for `[x]` elements.
    pub choice: bool,
    pub min: u32,
    pub max: Max,
    pub types: Vec<TypeRef>,
    /// Index of the element a `contentReference` points to.
    pub content_ref: Option<usize>,
    /// Indices of the child elements (inline children: backbone elements).
    pub children: Vec<usize>,
    /// `isModifier`.
    pub is_modifier: bool,
    /// `fixed[x]` value, if any.
    #[serde(with = "serde_json_text::option")]
    pub fixed: Option<serde_json::Value>,
    /// `pattern[x]` value, if any.
    #[serde(with = "serde_json_text::option")]
    pub pattern: Option<serde_json::Value>,
    /// `maxLength`, if any.
    pub max_length: Option<u64>,
    /// `binding`, when it names a value set.
    pub binding: Option<Binding>,
    /// Invariants to evaluate on the element.
    pub constraints: Vec<Constraint>,
    /// `minValue[x]`, if any.
    #[serde(with = "serde_json_text::option")]
    pub min_value: Option<serde_json::Value>,
    /// `maxValue[x]`, if any.
    #[serde(with = "serde_json_text::option")]
    pub max_value: Option<serde_json::Value>,
    /// R5 `mustHaveValue` (R4: its cross-version extension): a primitive
    /// here needs a value, extensions alone do not do.
    pub must_have_value: bool,
    /// R5 `valueAlternatives` (R4: its cross-version extension): the
    /// extensions that may stand in for an absent primitive value.
    pub value_alternatives: Vec<String>,
    /// Value limits given by extensions ([`ValueRules`]), when any.
    #[serde(default)]
    pub value_rules: Option<Box<ValueRules>>,
}

impl ElementDef {
    /// The last path segment as written (`value[x]` for choices).
    pub fn name_in_path(&self) -> String {
        if self.choice {
            format!("{}[x]", self.name)
        } else {
            self.name.clone()
        }
    }

    /// True when the element repeats (`max != 1`), so expressions index it.
    pub fn repeats(&self) -> bool {
        self.max != Some(1)
    }
}

/// The use contexts of an extension definition.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtContext {
    /// `context`: (type `element` / `extension` / `fhirpath`, expression).
    pub contexts: Vec<(String, String)>,
    /// `contextInvariant` expressions.
    pub invariants: Vec<String>,
}

/// A compiled StructureDefinition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StructureDef {
    pub url: String,
    /// `version` (empty when absent).
    pub version: String,
    /// The type this definition constrains (`Patient`, `HumanName`,
    /// `string`, or a URL for some logical models).
    pub type_name: String,
    pub kind: Kind,
    pub derivation: Option<Derivation>,
    /// `abstract`.
    pub is_abstract: bool,
    /// `baseDefinition` (empty for the roots of the type hierarchy).
    pub base: String,
    /// Element 0 is the root.
    pub elements: Vec<ElementDef>,
    /// Where an extension definition may be used (`context` and
    /// `contextInvariant`); `None` for other definitions.
    pub ext_context: Option<Arc<ExtContext>>,
    /// Child lookup, rebuilt after loading.
    #[serde(skip)]
    index: ChildIndex,
}

/// (parent index, child name without `[x]`) -> child index.
#[derive(Debug, Clone, Default)]
struct ChildIndex {
    map: hashbrown::HashMap<(u32, Box<str>), u32, foldhash::fast::FixedState>,
}

/// A borrowed key of [`ChildIndex`], hashed as the owned key is.
#[derive(Hash)]
struct ChildKey<'a>(u32, &'a str);

impl hashbrown::Equivalent<(u32, Box<str>)> for ChildKey<'_> {
    fn equivalent(&self, key: &(u32, Box<str>)) -> bool {
        self.0 == key.0 && self.1 == &*key.1
    }
}

impl ChildIndex {
    fn get(&self, parent: usize, name: &str) -> Option<usize> {
        let parent = u32::try_from(parent).ok()?;
        let key = ChildKey(parent, name);
        debug_assert_eq!(
            self.map.hasher().hash_one(&key),
            self.map.hasher().hash_one((parent, Box::<str>::from(name)))
        );
        self.map.get(&key).map(|&i| i as usize)
    }

    fn insert(&mut self, parent: usize, name: &str, child: usize, replace: bool) {
        let (Ok(p), Ok(c)) = (u32::try_from(parent), u32::try_from(child)) else {
            return;
        };
        let key = (p, Box::<str>::from(name));
        if replace {
            self.map.insert(key, c);
        } else {
            self.map.entry(key).or_insert(c);
        }
    }
}

impl StructureDef {
    /// The compact binary form (postcard) of this definition.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        postcard::to_allocvec(self).map_err(|e| ModelError::Encoding(e.to_string()))
    }

    /// A definition from its binary form ([`StructureDef::to_bytes`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<StructureDef, ModelError> {
        let mut def: StructureDef =
            postcard::from_bytes(bytes).map_err(|e| ModelError::Encoding(e.to_string()))?;
        def.reindex();
        Ok(def)
    }

    /// `url|version` as messages print it.
    pub fn versioned_url(&self) -> String {
        if self.version.is_empty() {
            self.url.clone()
        } else {
            format!("{}|{}", self.url, self.version)
        }
    }

    /// True for the definition of a resource type (or a profile of one).
    pub fn is_resource(&self) -> bool {
        self.kind == Kind::Resource
    }

    /// The element whose children describe the content of `idx`
    /// (follows a contentReference).
    pub fn content_of(&self, idx: usize) -> usize {
        self.elements
            .get(idx)
            .and_then(|e| e.content_ref)
            .unwrap_or(idx)
    }

    /// The element with this id.
    pub fn element_by_id(&self, id: &str) -> Option<usize> {
        self.elements.iter().position(|e| e.id == id)
    }

    /// Find the child definition for a property name: an exact name, or a
    /// choice element whose name plus a type suffix equals `prop`. Returns the
    /// child index and, for choices, the index into its types.
    pub fn find_child(&self, parent: usize, prop: &str) -> Option<(usize, Option<usize>)> {
        if let Some(i) = self.index.get(parent, prop) {
            if !self.elements.get(i)?.choice {
                return Some((i, None));
            }
        }
        let parent_def = self.elements.get(parent)?;
        for &c in &parent_def.children {
            let def = self.elements.get(c)?;
            if !def.choice {
                continue;
            }
            if let Some(suffix) = prop.strip_prefix(def.name.as_str()) {
                if let Some(ti) = def.types.iter().position(|t| t.suffix == suffix) {
                    return Some((c, Some(ti)));
                }
            }
        }
        None
    }

    /// The child of `parent` named `name` (without `[x]`), whatever its
    /// type suffix.
    pub fn child_named(&self, parent: usize, name: &str) -> Option<usize> {
        self.index.get(parent, name)
    }

    /// True when `prop` names a choice element of `parent` but with a type
    /// suffix that is not allowed.
    pub fn is_bad_choice(&self, parent: usize, prop: &str) -> Option<usize> {
        let parent_def = self.elements.get(parent)?;
        parent_def.children.iter().copied().find(|&c| {
            self.elements.get(c).is_some_and(|def| {
                def.choice
                    && prop
                        .strip_prefix(def.name.as_str())
                        .is_some_and(|s| s.starts_with(|ch: char| ch.is_ascii_uppercase()))
            })
        })
    }

    /// Add `child` under `parent` (index kept up to date).
    pub fn attach_child(&mut self, parent: usize, child: usize) {
        let Some(name) = self.elements.get(child).map(|c| c.name.clone()) else {
            return;
        };
        if let Some(p) = self.elements.get_mut(parent) {
            p.children.push(child);
            self.index.insert(parent, &name, child, true);
        }
    }

    /// Rebuild the child index from the element tree (after loading).
    pub fn reindex(&mut self) {
        let mut index = ChildIndex::default();
        for (p, e) in self.elements.iter().enumerate() {
            for &c in &e.children {
                if let Some(child) = self.elements.get(c) {
                    index.insert(p, &child.name, c, false);
                }
            }
        }
        self.index = index;
    }
}

/// Published R4 expressions that are wrong, corrected before use (as the
/// HL7 Java validator does).
pub fn fix_expression(key: &str, expr: &str) -> String {
    if key == "que-12" && expr == "enableWhen.count() > 2 implies enableBehavior.exists()" {
        // "more than one enableWhen" (R4 says > 2)
        return "enableWhen.count() > 1 implies enableBehavior.exists()".to_string();
    }
    if key == "que-7" && expr == "operator = 'exists' implies (answer is Boolean)" {
        // The answer is a FHIR boolean, not a System.Boolean.
        return "operator = 'exists' implies (answer is boolean)".to_string();
    }
    let mut out = expr.to_string();
    if out.contains("descendants().as(") {
        // dom-3: as() is for single items; ofType() filters a collection.
        out = out.replace("descendants().as(", "descendants().ofType(");
    }
    if out.contains("matches(") {
        out = anchor_matches(&out);
    }
    out
}

/// Invariants are written for whole-string `matches()` (as the HL7 Java
/// validator evaluates them: `sdf-0` requires the whole name to be
/// `[A-Z]([A-Za-z0-9_]){0,254}`): `matches(` becomes `matchesFull(`.
fn anchor_matches(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len() + 8);
    let mut rest = expr;
    while let Some(i) = rest.find("matches(") {
        let word_before = rest[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        out.push_str(&rest[..i]);
        out.push_str(if word_before {
            "matches("
        } else {
            "matchesFull("
        });
        rest = &rest[i + "matches(".len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_index_finds_by_borrowed_name() {
        let mut index = ChildIndex::default();
        index.insert(3, "name", 7, false);
        assert_eq!(index.get(3, "name"), Some(7));
        assert_eq!(index.get(3, "nam"), None);
        assert_eq!(index.get(2, "name"), None);
    }

    #[test]
    fn anchoring_matches() {
        assert_eq!(
            anchor_matches("name.matches('a') and x.all(matches('b')) and replaceMatches('c', 'd').matchesFull('e')"),
            "name.matchesFull('a') and x.all(matchesFull('b')) and replaceMatches('c', 'd').matchesFull('e')"
        );
    }

    #[test]
    fn fixes_published_expressions() {
        assert_eq!(
            fix_expression("x", "name.matches('[A-Z]')"),
            "name.matchesFull('[A-Z]')"
        );
        assert_eq!(
            fix_expression("dom-3", "contained.descendants().as(Reference)"),
            "contained.descendants().ofType(Reference)"
        );
    }
}
