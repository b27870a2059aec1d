//! CodeSystems and ValueSets in typed form: what the terminology engine
//! reads to look codes up, test membership and expand, compiled once from
//! FHIR JSON ([`CodeSystemDef::from_json`], [`ValueSetDef::from_json`]) or,
//! for the embedded layers, at build time and stored in the compact binary
//! form ([`CodeSystemDef::to_bytes`]).
//!
//! Kept: what validation and the terminology operations use (codes,
//! displays, designations, properties, the hierarchy, concept definitions
//! for `$lookup`, compose rules, stored expansions). Not kept: narrative,
//! descriptions, contacts, copyright.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ModelError;

/// `CodeSystem.content`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Content {
    /// All concepts are present.
    Complete,
    /// Only some concepts are present; absent codes may still be valid.
    Fragment,
    /// Example concepts only.
    Example,
    /// No concepts are present.
    NotPresent,
    /// A supplement: designations and properties for another system.
    Supplement,
}

impl Content {
    /// From the FHIR code (absent or unknown: `complete`, as the element
    /// is required and the common case).
    pub fn parse(s: Option<&str>) -> Content {
        match s {
            Some("fragment") => Content::Fragment,
            Some("example") => Content::Example,
            Some("not-present") => Content::NotPresent,
            Some("supplement") => Content::Supplement,
            _ => Content::Complete,
        }
    }

    /// Whether a code absent from the concept list is definitely invalid.
    pub fn is_complete(self) -> bool {
        matches!(self, Content::Complete)
    }

    /// The FHIR code.
    pub fn code(self) -> &'static str {
        match self {
            Content::Complete => "complete",
            Content::Fragment => "fragment",
            Content::Example => "example",
            Content::NotPresent => "not-present",
            Content::Supplement => "supplement",
        }
    }
}

/// A designation (alternative display) of a concept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Designation {
    /// Language tag.
    pub language: Option<String>,
    /// `use.system`.
    pub use_system: Option<String>,
    /// `use.code`.
    pub use_code: Option<String>,
    /// The text.
    pub value: String,
}

/// A concept property value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PropertyValue {
    /// valueCode
    Code(String),
    /// valueString
    String(String),
    /// valueBoolean
    Boolean(bool),
    /// valueInteger
    Integer(i64),
    /// valueDecimal (as written)
    Decimal(String),
    /// valueDateTime
    DateTime(String),
    /// valueCoding
    Coding {
        /// system
        system: Option<String>,
        /// code
        code: String,
        /// display
        display: Option<String>,
    },
}

impl PropertyValue {
    /// The value as text (code of a Coding, `true`/`false`, digits ...).
    pub fn as_text(&self) -> String {
        match self {
            PropertyValue::Code(s)
            | PropertyValue::String(s)
            | PropertyValue::Decimal(s)
            | PropertyValue::DateTime(s) => s.clone(),
            PropertyValue::Boolean(b) => b.to_string(),
            PropertyValue::Integer(i) => i.to_string(),
            PropertyValue::Coding { code, .. } => code.clone(),
        }
    }
}

/// One concept of a code system, with its place in the hierarchy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConceptDef {
    pub code: String,
    pub display: Option<String>,
    pub definition: Option<String>,
    pub designations: Vec<Designation>,
    /// `(property code, value)`, in document order.
    pub properties: Vec<(String, PropertyValue)>,
    /// Indexes (into [`CodeSystemDef::concepts`]) of the parents: by
    /// nesting and by the `parent`/`subsumedBy`/`child` properties.
    pub parents: Vec<usize>,
    /// Indexes of the children.
    pub children: Vec<usize>,
}

impl ConceptDef {
    /// `notSelectable` or `abstract` is true.
    pub fn is_abstract(&self) -> bool {
        self.properties.iter().any(|(k, v)| {
            (k == "notSelectable" || k == "abstract") && matches!(v, PropertyValue::Boolean(true))
        })
    }

    /// `inactive` is true, or the `status` is retired or inactive.
    pub fn is_inactive(&self) -> bool {
        self.properties.iter().any(|(k, v)| match (k.as_str(), v) {
            ("inactive", PropertyValue::Boolean(true)) => true,
            ("status", PropertyValue::Code(s)) => s == "retired" || s == "inactive",
            _ => false,
        })
    }

    /// The values of a property, as text.
    pub fn property_strings<'a>(&'a self, name: &'a str) -> impl Iterator<Item = String> + 'a {
        self.properties
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_text())
    }
}

/// `CodeSystem.filter`: a filter the system defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterDecl {
    pub code: String,
    pub operators: Vec<String>,
}

/// `CodeSystem.property`: a property the system defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyDecl {
    pub code: String,
    /// `code`, `Coding`, `string`, `integer`, `boolean`, `dateTime`, `decimal`.
    pub type_name: Option<String>,
}

/// A CodeSystem: its identity, declared filters and properties, and the
/// concepts flattened in document order with the hierarchy as indexes.
/// A code that occurs more than once in the nesting is one concept with
/// several parents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeSystemDef {
    pub id: Option<String>,
    pub url: String,
    pub version: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub case_sensitive: bool,
    pub content: Content,
    /// `supplements`: the canonical of the system this one supplements.
    pub supplements: Option<String>,
    /// `language` (for a supplement: the language of its displays).
    pub language: Option<String>,
    pub hierarchy_meaning: Option<String>,
    pub filters: Vec<FilterDecl>,
    pub properties: Vec<PropertyDecl>,
    pub concepts: Vec<ConceptDef>,
    /// Concepts without a parent, in document order.
    pub roots: Vec<usize>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The `designation`s of a concept (or expansion entry) in JSON.
pub fn designations_from_json(c: &Value) -> Vec<Designation> {
    array(c, "designation")
        .iter()
        .filter_map(|d| {
            Some(Designation {
                language: text(d, "language"),
                use_system: d
                    .pointer("/use/system")
                    .and_then(Value::as_str)
                    .map(Into::into),
                use_code: d
                    .pointer("/use/code")
                    .and_then(Value::as_str)
                    .map(Into::into),
                value: text(d, "value")?,
            })
        })
        .collect()
}

/// The `property` values of a concept in JSON.
pub fn properties_from_json(c: &Value) -> Vec<(String, PropertyValue)> {
    let mut out = Vec::new();
    for p in array(c, "property") {
        let Some(code) = p.get("code").and_then(Value::as_str) else {
            continue;
        };
        let Some(obj) = p.as_object() else { continue };
        for (k, v) in obj {
            let Some(ty) = k.strip_prefix("value") else {
                continue;
            };
            let pv = match (ty, v) {
                ("Code", Value::String(s)) => PropertyValue::Code(s.clone()),
                ("String", Value::String(s)) => PropertyValue::String(s.clone()),
                ("Boolean", Value::Bool(b)) => PropertyValue::Boolean(*b),
                ("Integer", Value::Number(n)) => PropertyValue::Integer(n.as_i64().unwrap_or(0)),
                ("Decimal", Value::Number(n)) => PropertyValue::Decimal(n.to_string()),
                ("DateTime", Value::String(s)) => PropertyValue::DateTime(s.clone()),
                ("Coding", Value::Object(_)) => PropertyValue::Coding {
                    system: text(v, "system"),
                    code: text(v, "code").unwrap_or_default(),
                    display: text(v, "display"),
                },
                (_, other) => PropertyValue::String(match other {
                    Value::String(s) => s.clone(),
                    o => o.to_string(),
                }),
            };
            out.push((code.to_owned(), pv));
        }
    }
    out
}

impl CodeSystemDef {
    /// Compile a CodeSystem resource given as JSON. Never fails: what is
    /// missing or malformed is left out (a concept without a code) or
    /// defaulted (`caseSensitive` true, `content` complete).
    ///
    /// ```
    /// use fhirreg_model::CodeSystemDef;
    /// let cs = CodeSystemDef::from_json(&serde_json::json!({
    ///     "resourceType": "CodeSystem", "url": "http://example.org/cs", "content": "complete",
    ///     "concept": [{"code": "animal", "concept": [{"code": "dog", "display": "Dog"}]}]
    /// }));
    /// assert_eq!(cs.concepts[1].code, "dog");
    /// assert_eq!(cs.concepts[1].parents, [0]);
    /// assert_eq!(cs.roots, [0]);
    /// ```
    pub fn from_json(json: &Value) -> CodeSystemDef {
        let mut cs = CodeSystemDef {
            id: text(json, "id"),
            url: text(json, "url").unwrap_or_default(),
            version: text(json, "version"),
            name: text(json, "name"),
            title: text(json, "title"),
            status: text(json, "status"),
            case_sensitive: json
                .get("caseSensitive")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            content: Content::parse(json.get("content").and_then(Value::as_str)),
            supplements: text(json, "supplements"),
            language: text(json, "language"),
            hierarchy_meaning: text(json, "hierarchyMeaning"),
            filters: array(json, "filter")
                .iter()
                .filter_map(|f| {
                    Some(FilterDecl {
                        code: text(f, "code")?,
                        operators: array(f, "operator")
                            .iter()
                            .filter_map(|o| o.as_str().map(str::to_owned))
                            .collect(),
                    })
                })
                .collect(),
            properties: array(json, "property")
                .iter()
                .filter_map(|p| {
                    Some(PropertyDecl {
                        code: text(p, "code")?,
                        type_name: text(p, "type"),
                    })
                })
                .collect(),
            concepts: Vec::new(),
            roots: Vec::new(),
        };
        let mut index: HashMap<String, usize> = HashMap::new();
        // Nested concepts, iteratively (no recursion on input depth), in
        // document order.
        let mut stack: Vec<(Option<usize>, &Value)> = array(json, "concept")
            .iter()
            .rev()
            .map(|c| (None, c))
            .collect();
        let mut order = Vec::new();
        while let Some((parent, c)) = stack.pop() {
            let Some(code) = c.get("code").and_then(Value::as_str) else {
                continue;
            };
            let idx = match index.get(code) {
                Some(&i) => i,
                None => {
                    let i = cs.concepts.len();
                    cs.concepts.push(ConceptDef {
                        code: code.to_owned(),
                        display: text(c, "display"),
                        definition: text(c, "definition"),
                        designations: designations_from_json(c),
                        properties: properties_from_json(c),
                        parents: Vec::new(),
                        children: Vec::new(),
                    });
                    index.insert(code.to_owned(), i);
                    order.push(i);
                    i
                }
            };
            if let Some(p) = parent {
                cs.link(p, idx);
            }
            for child in array(c, "concept").iter().rev() {
                stack.push((Some(idx), child));
            }
        }
        // The hierarchy stated by properties.
        for i in 0..cs.concepts.len() {
            let links: Vec<(bool, usize)> = cs.concepts[i]
                .properties
                .iter()
                .filter(|(k, _)| k == "parent" || k == "subsumedBy" || k == "child")
                .filter_map(|(k, v)| Some((k == "child", *index.get(&v.as_text())?)))
                .collect();
            for (is_child, other) in links {
                if is_child {
                    cs.link(i, other);
                } else {
                    cs.link(other, i);
                }
            }
        }
        cs.roots = order
            .into_iter()
            .filter(|&i| cs.concepts[i].parents.is_empty())
            .collect();
        cs
    }

    fn link(&mut self, parent: usize, child: usize) {
        if parent == child {
            return;
        }
        if let Some(c) = self.concepts.get_mut(child) {
            if !c.parents.contains(&parent) {
                c.parents.push(parent);
            }
        }
        if let Some(p) = self.concepts.get_mut(parent) {
            if !p.children.contains(&child) {
                p.children.push(child);
            }
        }
    }

    /// `url|version` (or the url).
    pub fn versioned_url(&self) -> String {
        match &self.version {
            Some(v) => format!("{}|{v}", self.url),
            None => self.url.clone(),
        }
    }

    /// The name messages use: title, name or url.
    pub fn display_name(&self) -> &str {
        self.title
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or(&self.url)
    }

    /// The compact binary form (postcard).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        postcard::to_allocvec(self).map_err(|e| ModelError::Encoding(e.to_string()))
    }

    /// A code system from its binary form ([`CodeSystemDef::to_bytes`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<CodeSystemDef, ModelError> {
        postcard::from_bytes(bytes).map_err(|e| ModelError::Encoding(e.to_string()))
    }
}

/// A concept listed in `compose.include.concept`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposeConcept {
    pub code: String,
    pub display: Option<String>,
    pub designations: Vec<Designation>,
}

/// A `compose.include.filter` (absent parts are empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposeFilter {
    pub property: String,
    pub op: String,
    pub value: String,
}

/// One `compose.include` or `compose.exclude`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConceptSet {
    pub system: Option<String>,
    pub version: Option<String>,
    /// The listed concepts; `None` when there is no `concept` list (the
    /// whole system, or what the filters select).
    pub concepts: Option<Vec<ComposeConcept>>,
    pub filters: Vec<ComposeFilter>,
    /// Imported value sets (canonicals).
    pub value_sets: Vec<String>,
}

/// `ValueSet.compose`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Compose {
    /// `compose.inactive` (absent: inactive concepts are included).
    pub inactive: Option<bool>,
    pub include: Vec<ConceptSet>,
    pub exclude: Vec<ConceptSet>,
}

/// One entry of a stored `expansion.contains` (nested ones flattened).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpansionEntry {
    pub system: String,
    pub version: Option<String>,
    pub code: String,
    pub display: Option<String>,
    pub designations: Vec<Designation>,
    pub is_abstract: bool,
    pub inactive: bool,
}

/// A ValueSet: identity, compose rules and a stored expansion.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ValueSetDef {
    pub id: Option<String>,
    pub url: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub compose: Option<Compose>,
    /// The entries of `expansion.contains` in document order (entries
    /// without a system or code left out); `None` when there is no
    /// `expansion.contains` list.
    pub expansion: Option<Vec<ExpansionEntry>>,
}

impl ConceptSet {
    fn from_json(v: &Value) -> ConceptSet {
        ConceptSet {
            system: text(v, "system"),
            version: text(v, "version"),
            concepts: v.get("concept").and_then(Value::as_array).map(|list| {
                list.iter()
                    .filter_map(|c| {
                        Some(ComposeConcept {
                            code: text(c, "code")?,
                            display: text(c, "display"),
                            designations: designations_from_json(c),
                        })
                    })
                    .collect()
            }),
            filters: array(v, "filter")
                .iter()
                .map(|f| {
                    let part = |k| text(f, k).unwrap_or_default();
                    ComposeFilter {
                        property: part("property"),
                        op: part("op"),
                        value: part("value"),
                    }
                })
                .collect(),
            value_sets: array(v, "valueSet")
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
        }
    }
}

impl ValueSetDef {
    /// Compile a ValueSet resource given as JSON. Never fails: what is
    /// missing or malformed is left out.
    ///
    /// ```
    /// use fhirreg_model::ValueSetDef;
    /// let vs = ValueSetDef::from_json(&serde_json::json!({
    ///     "resourceType": "ValueSet", "url": "http://example.org/vs",
    ///     "compose": {"include": [{"system": "http://example.org/cs",
    ///         "filter": [{"property": "concept", "op": "is-a", "value": "animal"}]}]}
    /// }));
    /// let include = &vs.compose.unwrap().include[0];
    /// assert_eq!(include.filters[0].op, "is-a");
    /// assert!(include.concepts.is_none());
    /// ```
    pub fn from_json(json: &Value) -> ValueSetDef {
        let compose = json.get("compose").map(|c| Compose {
            inactive: c.get("inactive").and_then(Value::as_bool),
            include: array(c, "include")
                .iter()
                .map(ConceptSet::from_json)
                .collect(),
            exclude: array(c, "exclude")
                .iter()
                .map(ConceptSet::from_json)
                .collect(),
        });
        let expansion = json
            .pointer("/expansion/contains")
            .and_then(Value::as_array)
            .map(|contains| {
                let mut out = Vec::new();
                let mut stack: Vec<&Value> = contains.iter().rev().collect();
                while let Some(c) = stack.pop() {
                    stack.extend(array(c, "contains").iter().rev());
                    let (Some(system), Some(code)) = (text(c, "system"), text(c, "code")) else {
                        continue;
                    };
                    let flag = |k| c.get(k).and_then(Value::as_bool).unwrap_or(false);
                    out.push(ExpansionEntry {
                        system,
                        version: text(c, "version"),
                        code,
                        display: text(c, "display"),
                        designations: designations_from_json(c),
                        is_abstract: flag("abstract"),
                        inactive: flag("inactive"),
                    });
                }
                out
            });
        ValueSetDef {
            id: text(json, "id"),
            url: text(json, "url"),
            version: text(json, "version"),
            name: text(json, "name"),
            title: text(json, "title"),
            status: text(json, "status"),
            compose,
            expansion,
        }
    }

    /// The compact binary form (postcard).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        postcard::to_allocvec(self).map_err(|e| ModelError::Encoding(e.to_string()))
    }

    /// A value set from its binary form ([`ValueSetDef::to_bytes`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<ValueSetDef, ModelError> {
        postcard::from_bytes(bytes).map_err(|e| ModelError::Encoding(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hierarchy_from_nesting_and_properties() {
        let cs = CodeSystemDef::from_json(&json!({
            "url": "http://x/cs", "caseSensitive": false, "content": "fragment",
            "property": [{"code": "parent", "type": "code"}],
            "filter": [{"code": "concept", "operator": ["is-a", "="]}],
            "concept": [
                {"code": "a", "concept": [{"code": "b"}, {"code": "c"}]},
                {"code": "d", "property": [{"code": "parent", "valueCode": "b"}]},
                {"code": "c"},
                {"display": "no code"}
            ]
        }));
        let codes: Vec<&str> = cs.concepts.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["a", "b", "c", "d"]);
        assert_eq!(cs.concepts[0].children, [1, 2]);
        assert_eq!(cs.concepts[3].parents, [1]);
        assert_eq!(cs.roots, [0]);
        assert!(!cs.case_sensitive);
        assert_eq!(cs.content, Content::Fragment);
        assert_eq!(cs.filters[0].operators, ["is-a", "="]);
        assert_eq!(cs.properties[0].type_name.as_deref(), Some("code"));
        assert_eq!(
            CodeSystemDef::from_bytes(&cs.to_bytes().unwrap()).unwrap(),
            cs
        );
    }

    #[test]
    fn value_set_parts() {
        let vs = ValueSetDef::from_json(&json!({
            "url": "http://x/vs", "version": "1", "title": "X",
            "compose": {"inactive": false,
                "include": [{"system": "http://x/cs", "concept": []},
                            {"valueSet": ["http://x/other", 5]}],
                "exclude": [{"system": "http://x/cs", "concept": [{"code": "z"}, {"display": "none"}]}]},
            "expansion": {"contains": [
                {"system": "s", "code": "1", "contains": [{"system": "s", "code": "2", "abstract": true}]},
                {"code": "no system"},
                {"system": "s", "code": "3"}
            ]}
        }));
        let compose = vs.compose.as_ref().unwrap();
        assert_eq!(compose.inactive, Some(false));
        assert_eq!(compose.include[0].concepts.as_deref(), Some(&[][..]));
        assert_eq!(compose.include[1].value_sets, ["http://x/other"]);
        assert_eq!(compose.exclude[0].concepts.as_ref().unwrap().len(), 1);
        let codes: Vec<&str> = vs
            .expansion
            .iter()
            .flatten()
            .map(|e| e.code.as_str())
            .collect();
        assert_eq!(codes, ["1", "2", "3"]);
        assert!(vs.expansion.as_ref().unwrap()[1].is_abstract);
        assert_eq!(
            ValueSetDef::from_bytes(&vs.to_bytes().unwrap()).unwrap(),
            vs
        );
    }
}
