//! StructureDefinition JSON -> [`StructureDef`]: the only place that reads
//! the elements of a StructureDefinition.

use super::{
    Binding, BindingStrength, Constraint, Derivation, ElementDef, ExtContext, Kind, Slicing,
    StructureDef, TypeRef, ValueRules,
};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A StructureDefinition that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("StructureDefinition {0} has no snapshot")]
    NoSnapshot(String),
    #[error("StructureDefinition {0} has no valid kind")]
    NoKind(String),
    #[error("compiled definition cannot be encoded or decoded: {0}")]
    Encoding(String),
}

const CORE_PREFIX: &str = "http://hl7.org/fhir/StructureDefinition/";
const MUST_HAVE_VALUE: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.mustHaveValue";
const VALUE_ALTERNATIVES: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.valueAlternatives";
const BEST_PRACTICE: &str =
    "http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice";
const FHIR_TYPE: &str = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type";
const PROFILE_ELEMENT: &str =
    "http://hl7.org/fhir/StructureDefinition/elementdefinition-profile-element";
const MAX_VALUE_SET: &str = "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet";
const MIN_LENGTH: &str = "http://hl7.org/fhir/StructureDefinition/minLength";
const REGEX: &str = "http://hl7.org/fhir/StructureDefinition/regex";
const MAX_DECIMAL_PLACES: &str = "http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces";
const MAX_SIZE: &str = "http://hl7.org/fhir/StructureDefinition/maxSize";
const NARRATIVE_LANGUAGE: &str =
    "http://hl7.org/fhir/StructureDefinition/narrative-language-control";
const NARRATIVE_SOURCE: &str = "http://hl7.org/fhir/StructureDefinition/narrative-source-control";
/// The extensions that carry R5 additional bindings in R4.
const ADDITIONAL_BINDING_URLS: [&str; 2] = [
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.binding.additional",
    "http://hl7.org/fhir/tools/StructureDefinition/additional-binding",
];

pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn array<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> + 'a {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn extensions_of<'a>(ed: &'a Value, url: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    array(ed, "extension").filter(move |e| str_of(e, "url") == Some(url))
}

fn slicing_of(ed: &Value) -> Option<Slicing> {
    let s = ed.get("slicing")?;
    let discriminators = array(s, "discriminator")
        .filter_map(|d| {
            Some((
                str_of(d, "type")?.to_string(),
                str_of(d, "path")?.to_string(),
            ))
        })
        .collect();
    Some(Slicing {
        discriminators,
        closed: str_of(s, "rules") == Some("closed"),
        ordered: s.get("ordered").and_then(Value::as_bool) == Some(true),
        open_at_end: str_of(s, "rules") == Some("openAtEnd"),
    })
}

/// The value limits of an element's own extensions (not those on its
/// types: the R4 type regexes are the lexical rules of the primitives).
fn value_rules_of(ed: &Value) -> Option<Box<ValueRules>> {
    let number = |url: &str| {
        extensions_of(ed, url).find_map(|e| {
            [
                "valueInteger",
                "valueUnsignedInt",
                "valuePositiveInt",
                "valueDecimal",
            ]
            .iter()
            .find_map(|k| e.get(*k).and_then(Value::as_u64))
        })
    };
    let rules = ValueRules {
        min_length: number(MIN_LENGTH),
        regex: extensions_of(ed, REGEX)
            .find_map(|e| str_of(e, "valueString"))
            .map(String::from),
        max_decimal_places: number(MAX_DECIMAL_PLACES),
        max_size: number(MAX_SIZE),
        narrative_language: extensions_of(ed, NARRATIVE_LANGUAGE)
            .filter_map(|e| str_of(e, "valueCode"))
            .map(String::from)
            .collect(),
        narrative_source: extensions_of(ed, NARRATIVE_SOURCE)
            .find_map(|e| str_of(e, "valueCode"))
            .map(String::from),
    };
    (!rules.is_empty()).then(|| Box::new(rules))
}

fn must_have_value_of(ed: &Value) -> Option<bool> {
    extensions_of(ed, MUST_HAVE_VALUE)
        .find_map(|e| e.get("valueBoolean").and_then(Value::as_bool))
        .or_else(|| ed.get("mustHaveValue").and_then(Value::as_bool))
}

fn value_alternatives_of(ed: &Value) -> Vec<String> {
    extensions_of(ed, VALUE_ALTERNATIVES)
        .filter_map(|e| str_of(e, "valueCanonical").map(String::from))
        .collect()
}

fn constraints_of(ed: &Value) -> Vec<Constraint> {
    array(ed, "constraint")
        .filter_map(|c| {
            let key = str_of(c, "key")?;
            Some(Constraint {
                key: key.to_string(),
                error: str_of(c, "severity") == Some("error"),
                human: str_of(c, "human").unwrap_or_default().to_string(),
                expression: super::fix_expression(key, str_of(c, "expression")?),
                source: str_of(c, "source").map(String::from),
                best_practice: extensions_of(c, BEST_PRACTICE)
                    .any(|e| e.get("valueBoolean").and_then(Value::as_bool) == Some(true)),
            })
        })
        .collect()
}

fn additional_bindings(b: &Value) -> Vec<(String, String)> {
    let sub = |ext: &Value, name: &str| -> Option<String> {
        array(ext, "extension")
            .find(|e| str_of(e, "url") == Some(name))
            .and_then(|e| {
                ["valueCode", "valueCanonical", "valueUri", "valueString"]
                    .iter()
                    .find_map(|k| str_of(e, k))
            })
            .map(str::to_string)
    };
    array(b, "extension")
        .filter(|e| str_of(e, "url").is_some_and(|u| ADDITIONAL_BINDING_URLS.contains(&u)))
        .filter_map(|e| Some((sub(e, "purpose")?, sub(e, "valueSet")?)))
        .collect()
}

fn binding_of(ed: &Value) -> Option<Binding> {
    let b = ed.get("binding")?;
    let additional = additional_bindings(b);
    // A binding with only additional bindings still binds.
    let value_set = match str_of(b, "valueSet") {
        Some(v) => v.to_string(),
        None if !additional.is_empty() => String::new(),
        None => return None,
    };
    Some(Binding {
        strength: BindingStrength::parse(str_of(b, "strength")?)?,
        value_set,
        additional,
        contained: None,
        max_value_set: extensions_of(b, MAX_VALUE_SET)
            .find_map(|e| str_of(e, "valueCanonical").or_else(|| str_of(e, "valueUri")))
            .map(String::from),
    })
}

fn first_with_prefix(ed: &Value, prefix: &str) -> Option<Value> {
    ed.as_object()?
        .iter()
        .find(|(k, _)| k.starts_with(prefix) && k.len() > prefix.len())
        .map(|(_, v)| v.clone())
}

fn string_list(t: &Value, key: &str) -> Vec<String> {
    array(t, key)
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

/// Map an ElementDefinition.type to a [`TypeRef`].
fn type_ref(t: &Value) -> Option<TypeRef> {
    let raw = str_of(t, "code")?;
    let mut system_type = None;
    let code = if let Some(sys) = raw.strip_prefix("http://hl7.org/fhirpath/System.") {
        // The FHIR type is given by the structuredefinition-fhir-type extension.
        let ext = extensions_of(t, FHIR_TYPE)
            .next()
            .and_then(|e| str_of(e, "valueUrl").or_else(|| str_of(e, "valueUri")));
        if ext.is_none() {
            system_type = Some(format!("System.{sys}"));
        }
        match ext {
            Some(x) => x.to_string(),
            None => match sys {
                "Boolean" => "boolean".into(),
                "Integer" => "integer".into(),
                "Decimal" => "decimal".into(),
                "Date" => "date".into(),
                "DateTime" => "dateTime".into(),
                "Time" => "time".into(),
                _ => "string".into(),
            },
        }
    } else {
        raw.to_string()
    };
    let mut suffix = code.clone();
    if let Some(first) = suffix.get(0..1) {
        let up = first.to_ascii_uppercase();
        suffix.replace_range(0..1, &up);
    }
    // Target type names, only when every target is a core type (a profile
    // target needs the profile's type, which is checked elsewhere).
    let target_profiles = string_list(t, "targetProfile");
    let core: Vec<String> = target_profiles
        .iter()
        .filter_map(|p| {
            p.strip_prefix(CORE_PREFIX)
                .map(|s| s.split('|').next().unwrap_or(s).to_string())
        })
        .collect();
    let targets = if core.len() == target_profiles.len() {
        core
    } else {
        Vec::new()
    };
    let profile_element = array(t, "_profile")
        .flat_map(|p| array(p, "extension"))
        .find(|e| str_of(e, "url") == Some(PROFILE_ELEMENT))
        .and_then(|e| str_of(e, "valueString"))
        .map(String::from);
    Some(TypeRef {
        code,
        suffix,
        profile_element,
        profiles: string_list(t, "profile"),
        targets,
        target_profiles,
        aggregation: string_list(t, "aggregation"),
        system_type,
    })
}

impl ElementDef {
    /// An element definition read from its JSON (snapshot or differential).
    pub(crate) fn from_json(path: &str, ed: &Value) -> ElementDef {
        let last = path.rsplit('.').next().unwrap_or(path);
        let (name, choice) = match last.strip_suffix("[x]") {
            Some(n) => (n.to_string(), true),
            None => (last.to_string(), false),
        };
        let min = ed
            .get("min")
            .and_then(Value::as_u64)
            .map_or(0, |m| u32::try_from(m).unwrap_or(u32::MAX));
        let max = match str_of(ed, "max") {
            Some("*") | None => None,
            Some(m) => m.parse::<u32>().ok(),
        };
        let types = array(ed, "type").filter_map(type_ref).collect();
        let slice_name = str_of(ed, "sliceName").map(String::from);
        let id = match (str_of(ed, "id"), &slice_name) {
            (Some(id), _) => id.to_string(),
            (None, Some(sn)) => format!("{path}:{sn}"),
            (None, None) => path.to_string(),
        };
        ElementDef {
            id,
            slice_name,
            slicing: slicing_of(ed),
            slices: Vec::new(),
            path: path.to_string(),
            name,
            choice,
            min,
            max,
            types,
            content_ref: None,
            children: Vec::new(),
            is_modifier: ed
                .get("isModifier")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            fixed: first_with_prefix(ed, "fixed"),
            pattern: first_with_prefix(ed, "pattern"),
            max_length: ed.get("maxLength").and_then(Value::as_u64),
            binding: binding_of(ed),
            constraints: constraints_of(ed),
            min_value: first_with_prefix(ed, "minValue"),
            max_value: first_with_prefix(ed, "maxValue"),
            must_have_value: must_have_value_of(ed).unwrap_or(false),
            value_alternatives: value_alternatives_of(ed),
            value_rules: value_rules_of(ed),
        }
    }
}

/// Read `context` and `contextInvariant` of an Extension definition.
fn ext_context_of(sd: &Value) -> Option<Arc<ExtContext>> {
    if str_of(sd, "type") != Some("Extension") {
        return None;
    }
    let contexts = array(sd, "context")
        .filter_map(|c| {
            Some((
                str_of(c, "type")?.to_string(),
                str_of(c, "expression")?.to_string(),
            ))
        })
        .collect();
    let invariants = array(sd, "contextInvariant")
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    Some(Arc::new(ExtContext {
        contexts,
        invariants,
    }))
}

impl StructureDef {
    /// A definition with the header of `sd` and no elements.
    pub(crate) fn header(sd: &Value) -> Result<StructureDef, ModelError> {
        let url = str_of(sd, "url").unwrap_or_default().to_string();
        let kind = str_of(sd, "kind")
            .and_then(Kind::parse)
            .ok_or_else(|| ModelError::NoKind(url.clone()))?;
        Ok(StructureDef {
            version: str_of(sd, "version").unwrap_or_default().to_string(),
            type_name: str_of(sd, "type").unwrap_or_default().to_string(),
            kind,
            derivation: match str_of(sd, "derivation") {
                Some("constraint") => Some(Derivation::Constraint),
                Some("specialization") => Some(Derivation::Specialization),
                _ => None,
            },
            is_abstract: sd.get("abstract").and_then(Value::as_bool) == Some(true),
            base: str_of(sd, "baseDefinition").unwrap_or_default().to_string(),
            elements: Vec::new(),
            ext_context: ext_context_of(sd),
            index: Default::default(),
            url,
        })
    }

    /// Compile a StructureDefinition with a snapshot. `external` gives the
    /// compiled definition of another canonical, for content references
    /// to other definitions (`http://hl7.org/fhir/StructureDefinition/Bundle#Bundle.link`).
    pub fn from_json(
        sd: &Value,
        external: &dyn Fn(&str) -> Option<Arc<StructureDef>>,
    ) -> Result<StructureDef, ModelError> {
        let mut def = StructureDef::header(sd)?;
        let elems = sd
            .get("snapshot")
            .and_then(|s| s.get("element"))
            .and_then(Value::as_array)
            .ok_or_else(|| ModelError::NoSnapshot(def.url.clone()))?;
        let mut elements: Vec<ElementDef> = Vec::with_capacity(elems.len());
        let mut by_path: HashMap<&str, usize> = HashMap::new();
        let mut pending_refs: Vec<(usize, &str)> = Vec::new();
        let mut by_id: HashMap<String, usize> = HashMap::new();
        let mut tree: Vec<(usize, usize, bool)> = Vec::new();
        for ed in elems {
            let Some(path) = str_of(ed, "path") else {
                continue;
            };
            let idx = elements.len();
            let el = ElementDef::from_json(path, ed);
            if el.id.ends_with(":@default") {
                continue;
            }
            let slice = el.slice_name.is_some();
            // Attach: a slice to its sliced element, others to their parent.
            let attach = if slice {
                el.id
                    .rsplit_once(':')
                    .and_then(|(base, _)| by_id.get(base).copied())
                    .map(|b| (b, true))
            } else {
                el.id
                    .rsplit_once('.')
                    .and_then(|(parent, _)| by_id.get(parent).copied())
                    .or_else(|| {
                        path.rsplit_once('.')
                            .and_then(|(parent, _)| by_path.get(parent).copied())
                    })
                    .map(|p| (p, false))
            };
            if idx > 0 && attach.is_none() {
                continue; // orphan (a slice of something unknown)
            }
            if let Some(cr) = str_of(ed, "contentReference") {
                pending_refs.push((idx, cr));
            }
            if let Some((to, is_slice)) = attach {
                tree.push((to, idx, is_slice));
            }
            by_id.insert(el.id.clone(), idx);
            if !slice && !path.contains(':') {
                by_path.entry(path).or_insert(idx);
            }
            elements.push(el);
        }
        def.elements = elements;
        for (to, idx, is_slice) in tree {
            if is_slice {
                if let Some(e) = def.elements.get_mut(to) {
                    e.slices.push(idx);
                }
            } else if let Some(e) = def.elements.get_mut(to) {
                e.children.push(idx);
            }
        }
        def.reindex();
        let mut copies: HashMap<String, usize> = HashMap::new();
        for (idx, cr) in pending_refs {
            // Local references (`#Questionnaire.item`) name an element of
            // this snapshot by id (= path for unsliced elements); a
            // reference with a url names an element of another definition
            // (as snapshot generators write it for profiles: constraints of
            // the profile on the target do not apply at the recursion).
            let (url, target) = cr.split_once('#').unwrap_or(("", cr));
            let resolved = if url.is_empty() || url == def.url {
                by_path.get(target).copied()
            } else if let Some(&c) = copies.get(cr) {
                Some(c)
            } else {
                let copy = external(url).and_then(|other| {
                    let at = other.elements.iter().position(|e| e.id == target)?;
                    Some(def.copy_from(&other, at))
                });
                if let Some(c) = copy {
                    copies.insert(cr.to_string(), c);
                }
                copy
            };
            // An element whose children the snapshot spells out uses them.
            if let Some(e) = def.elements.get_mut(idx).filter(|e| e.children.is_empty()) {
                e.content_ref = resolved;
            }
        }
        def.resolve_contained_bindings(sd);
        def.load_fixes(sd);
        Ok(def)
    }

    /// Copy element `at` of `other` with its subtree into this definition,
    /// unattached; content references inside the copy are followed in
    /// `other` and kept inside the copy. Returns the index of the copy.
    fn copy_from(&mut self, other: &StructureDef, at: usize) -> usize {
        let mut map: HashMap<usize, usize> = HashMap::new();
        let mut order = vec![at];
        let mut i = 0;
        while let Some(&src) = order.get(i) {
            i += 1;
            if map.contains_key(&src) {
                continue;
            }
            map.insert(src, self.elements.len());
            let Some(e) = other.elements.get(src) else {
                continue;
            };
            let mut copy = e.clone();
            copy.slices.clear();
            self.elements.push(copy);
            order.extend(e.children.iter().copied());
            order.extend(e.content_ref);
        }
        for (&src, &dst) in &map {
            let Some(e) = self.elements.get_mut(dst) else {
                continue;
            };
            e.children = other
                .elements
                .get(src)
                .map(|o| {
                    o.children
                        .iter()
                        .filter_map(|c| map.get(c).copied())
                        .collect()
                })
                .unwrap_or_default();
            e.content_ref = e.content_ref.and_then(|c| map.get(&c).copied());
        }
        self.reindex();
        map.get(&at).copied().unwrap_or(0)
    }

    /// Bindings to `#id` name a ValueSet contained in the profile: attach it,
    /// with the binding keyed `profile-url#id` for the terminology cache.
    pub(crate) fn resolve_contained_bindings(&mut self, sd: &Value) {
        let contained: Vec<&Value> = array(sd, "contained").collect();
        if contained.is_empty() {
            return;
        }
        let url = self.url.clone();
        for e in &mut self.elements {
            let Some(b) = e.binding.as_mut() else {
                continue;
            };
            let Some(id) = b.value_set.strip_prefix('#') else {
                continue;
            };
            if let Some(vs) = contained.iter().find(|r| {
                str_of(r, "id") == Some(id) && str_of(r, "resourceType") == Some("ValueSet")
            }) {
                b.contained = Some(Arc::new((*vs).clone()));
                b.value_set = format!("{url}#{id}");
            }
        }
    }

    /// Corrections the HL7 Java validator applies to definitions when it
    /// loads them (its PackageHackerR5): the core vital-signs profiles bind
    /// `Observation.component.value[x]` to the vital-signs units
    /// extensibly (the published 4.0.1 snapshots say required).
    fn load_fixes(&mut self, sd: &Value) {
        const VITALS: &str = "http://hl7.org/fhir/StructureDefinition/vitalsigns";
        let base = str_of(sd, "baseDefinition").unwrap_or_default();
        if !(self.url.starts_with(CORE_PREFIX)
            && self.type_name == "Observation"
            && (self.url == VITALS || base == VITALS))
        {
            return;
        }
        for e in &mut self.elements {
            if e.path != "Observation.component.value[x]" {
                continue;
            }
            if let Some(b) = e
                .binding
                .as_mut()
                .filter(|b| b.value_set == "http://hl7.org/fhir/ValueSet/ucum-vitals-common|4.0.1")
            {
                b.strength = BindingStrength::Extensible;
            }
        }
    }
}
