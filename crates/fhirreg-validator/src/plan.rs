//! Compiled form of a StructureDefinition snapshot: the element tree with
//! everything the walk needs, read from JSON once.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Upper bound of a cardinality (`*` is `None`).
pub(crate) type Max = Option<u32>;

/// One allowed type of an element.
#[derive(Debug, Clone)]
pub(crate) struct TypeRef {
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
    /// `type.targetProfile`); empty means any.
    pub targets: Vec<String>,
    /// `type.targetProfile` canonicals as written.
    pub target_profiles: Vec<String>,
    /// `type.aggregation` codes (`contained`, `referenced`, `bundled`).
    pub aggregation: Vec<String>,
}

/// `ElementDefinition.slicing`.
#[derive(Debug, Clone)]
pub(crate) struct Slicing {
    /// (type, path) of each discriminator.
    pub discriminators: Vec<(String, String)>,
    /// `rules = closed`.
    pub closed: bool,
}

fn slicing_of(ed: &Value) -> Option<Slicing> {
    let s = ed.get("slicing")?;
    let discriminators = s
        .get("discriminator")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| {
                    Some((
                        str_of(d, "type")?.to_string(),
                        str_of(d, "path")?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Slicing {
        discriminators,
        closed: str_of(s, "rules") == Some("closed"),
    })
}

/// A compiled ElementDefinition.
#[derive(Debug, Clone)]
pub(crate) struct ElemDef {
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
    /// `fixed[x]` value, if any (for profiles; kept for later checks).
    pub fixed: Option<Value>,
    /// `pattern[x]` value, if any.
    #[allow(dead_code)]
    pub pattern: Option<Value>,
    /// `maxLength`, if any.
    pub max_length: Option<u64>,
    /// `binding`: strength and value set canonical.
    pub binding: Option<Binding>,
    /// Invariants to evaluate on the element.
    pub constraints: Vec<Constraint>,
    /// `minValue[x]`, if any.
    pub min_value: Option<Value>,
    /// `maxValue[x]`, if any.
    pub max_value: Option<Value>,
    /// R5 `mustHaveValue` (R4: its cross-version extension): a primitive
    /// here needs a value, extensions alone do not do.
    pub must_have_value: bool,
    /// R5 `valueAlternatives` (R4: its cross-version extension): the
    /// extensions that may stand in for an absent primitive value.
    pub value_alternatives: Vec<String>,
}

const MUST_HAVE_VALUE: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.mustHaveValue";
const VALUE_ALTERNATIVES: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.valueAlternatives";

fn extensions_of<'a>(ed: &'a Value, url: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    ed.get("extension")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |e| str_of(e, "url") == Some(url))
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

/// An ElementDefinition.constraint (invariant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Constraint {
    pub key: String,
    /// `severity = error`.
    pub error: bool,
    pub human: String,
    pub expression: String,
    /// The StructureDefinition that defined it.
    pub source: Option<String>,
    /// Marked as best practice (`elementdefinition-bestpractice`).
    pub best_practice: bool,
}

fn constraints_of(ed: &Value) -> Vec<Constraint> {
    ed.get("constraint")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some(Constraint {
                key: str_of(c, "key")?.to_string(),
                error: str_of(c, "severity") == Some("error"),
                human: str_of(c, "human").unwrap_or_default().to_string(),
                expression: str_of(c, "expression")?.to_string(),
                source: str_of(c, "source").map(String::from),
                best_practice: c.get("extension").and_then(Value::as_array).is_some_and(|x| {
                    x.iter().any(|e| {
                        str_of(e, "url")
                            == Some("http://hl7.org/fhir/StructureDefinition/elementdefinition-bestpractice")
                            && e.get("valueBoolean").and_then(Value::as_bool) == Some(true)
                    })
                }),
            })
        })
        .collect()
}

/// An ElementDefinition.binding with a value set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Binding {
    pub strength: String,
    pub value_set: String,
    /// Additional bindings (R5 `binding.additional`, carried in R4 by an
    /// extension): (purpose, value set canonical).
    pub additional: Vec<(String, String)>,
    /// The value set when `value_set` is `#id`: a ValueSet contained in the
    /// profile (set by [`Plan::resolve_contained_bindings`]).
    pub contained: Option<std::sync::Arc<Value>>,
}

/// The extensions that carry R5 additional bindings in R4.
const ADDITIONAL_BINDING_URLS: [&str; 2] = [
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.binding.additional",
    "http://hl7.org/fhir/tools/StructureDefinition/additional-binding",
];

fn additional_bindings(b: &Value) -> Vec<(String, String)> {
    let sub = |ext: &Value, name: &str| -> Option<String> {
        ext.get("extension")?
            .as_array()?
            .iter()
            .find(|e| str_of(e, "url") == Some(name))
            .and_then(|e| {
                ["valueCode", "valueCanonical", "valueUri", "valueString"]
                    .iter()
                    .find_map(|k| str_of(e, k))
            })
            .map(str::to_string)
    };
    b.get("extension")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
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
        strength: str_of(b, "strength")?.to_string(),
        value_set,
        additional,
        contained: None,
    })
}

impl ElemDef {
    /// The last path segment as written (`value[x]` for choices).
    pub fn name_in_path(&self) -> String {
        if self.choice {
            format!("{}[x]", self.name)
        } else {
            self.name.clone()
        }
    }

    fn from_json(path: &str, ed: &Value) -> ElemDef {
        let last = path.rsplit('.').next().unwrap_or(path);
        let (name, choice) = match last.strip_suffix("[x]") {
            Some(n) => (n.to_string(), true),
            None => (last.to_string(), false),
        };
        let min = ed.get("min").and_then(Value::as_u64).unwrap_or(0) as u32;
        let max = match str_of(ed, "max") {
            Some("*") | None => None,
            Some(m) => m.parse::<u32>().ok(),
        };
        let types = ed
            .get("type")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(type_ref).collect())
            .unwrap_or_default();
        let slice_name = str_of(ed, "sliceName").map(String::from);
        let id = match (str_of(ed, "id"), &slice_name) {
            (Some(id), _) => id.to_string(),
            (None, Some(sn)) => format!("{path}:{sn}"),
            (None, None) => path.to_string(),
        };
        ElemDef {
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
        }
    }

    /// Apply the constraints a differential element states.
    fn constrain(&mut self, ed: &Value) {
        if let Some(m) = ed.get("min").and_then(Value::as_u64) {
            self.min = m as u32;
        }
        match str_of(ed, "max") {
            Some("*") => self.max = None,
            Some(m) => {
                if let Ok(m) = m.parse::<u32>() {
                    self.max = Some(m);
                }
            }
            None => {}
        }
        if let Some(types) = ed.get("type").and_then(Value::as_array) {
            let types: Vec<TypeRef> = types.iter().filter_map(type_ref).collect();
            if !types.is_empty() {
                self.types = types;
            }
        }
        if let Some(f) = first_with_prefix(ed, "fixed") {
            self.fixed = Some(f);
        }
        if let Some(p) = first_with_prefix(ed, "pattern") {
            self.pattern = Some(p);
        }
        if let Some(l) = ed.get("maxLength").and_then(Value::as_u64) {
            self.max_length = Some(l);
        }
        if let Some(b) = binding_of(ed) {
            self.binding = Some(b);
        }
        if let Some(v) = first_with_prefix(ed, "minValue") {
            self.min_value = Some(v);
        }
        if let Some(v) = first_with_prefix(ed, "maxValue") {
            self.max_value = Some(v);
        }
        if let Some(sl) = slicing_of(ed) {
            self.slicing = Some(sl);
        }
        if let Some(m) = must_have_value_of(ed) {
            self.must_have_value = m;
        }
        let alternatives = value_alternatives_of(ed);
        if !alternatives.is_empty() {
            self.value_alternatives = alternatives;
        }
        for c in constraints_of(ed) {
            if !self.constraints.iter().any(|x| x.key == c.key) {
                self.constraints.push(c);
            }
        }
    }

    /// True when the element repeats (`max != 1`), so expressions index it.
    pub fn repeats(&self) -> bool {
        self.max != Some(1)
    }
}

/// A compiled StructureDefinition.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub url: String,
    pub version: String,
    /// The type this definition constrains (`Patient`, `HumanName`, `string`).
    pub type_name: String,
    /// `primitive-type`, `complex-type`, `resource`, `logical`.
    pub kind: String,
    /// Element 0 is the root.
    pub elements: Vec<ElemDef>,
    /// Child lookup: (parent index, child name without `[x]`) -> child index.
    by_name: HashMap<(usize, String), usize>,
    /// `baseDefinition` (empty for the roots of the type hierarchy).
    pub base: String,
    /// Where an extension definition may be used (`context` and
    /// `contextInvariant`); `None` for other definitions.
    pub ext_context: Option<Arc<ExtContext>>,
}

/// The use contexts of an extension definition.
#[derive(Debug, Default)]
pub(crate) struct ExtContext {
    /// `context`: (type `element` / `extension` / `fhirpath`, expression).
    pub contexts: Vec<(String, String)>,
    /// `contextInvariant` expressions.
    pub invariants: Vec<String>,
}

/// Read `context` and `contextInvariant` of an Extension definition.
fn ext_context_of(sd: &Value) -> Option<Arc<ExtContext>> {
    if str_of(sd, "type") != Some("Extension") {
        return None;
    }
    let contexts = sd
        .get("context")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some((
                str_of(c, "type")?.to_string(),
                str_of(c, "expression")?.to_string(),
            ))
        })
        .collect();
    let invariants = sd
        .get("contextInvariant")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    Some(Arc::new(ExtContext {
        contexts,
        invariants,
    }))
}

/// Errors compiling a definition.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CompileError {
    #[error("StructureDefinition {0} has no snapshot")]
    NoSnapshot(String),
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Map an ElementDefinition.type to a [`TypeRef`].
fn type_ref(t: &Value) -> Option<TypeRef> {
    let raw = str_of(t, "code")?;
    let code = if let Some(sys) = raw.strip_prefix("http://hl7.org/fhirpath/System.") {
        // The FHIR type is given by the structuredefinition-fhir-type extension.
        let ext = t
            .get("extension")
            .and_then(Value::as_array)
            .and_then(|exts| {
                exts.iter().find(|e| {
                    str_of(e, "url")
                        == Some(
                            "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type",
                        )
                })
            })
            .and_then(|e| str_of(e, "valueUrl").or_else(|| str_of(e, "valueUri")));
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
    let list = |key: &str| -> Vec<String> {
        t.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    // Target type names, only when every target is a core type (a profile
    // target needs the profile's type, which is checked elsewhere).
    let target_urls = list("targetProfile");
    let core: Vec<String> = target_urls
        .iter()
        .filter_map(|p| {
            p.strip_prefix("http://hl7.org/fhir/StructureDefinition/")
                .map(|s| s.split('|').next().unwrap_or(s).to_string())
        })
        .collect();
    let targets = if core.len() == target_urls.len() {
        core
    } else {
        Vec::new()
    };
    let aggregation = list("aggregation");
    let profile_element = t
        .get("_profile")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("extension").and_then(Value::as_array))
        .flatten()
        .find(|e| {
            str_of(e, "url")
                == Some("http://hl7.org/fhir/StructureDefinition/elementdefinition-profile-element")
        })
        .and_then(|e| str_of(e, "valueString"))
        .map(String::from);
    Some(TypeRef {
        code,
        suffix,
        profile_element,
        profiles: list("profile"),
        targets,
        target_profiles: target_urls,
        aggregation,
    })
}

fn first_with_prefix(ed: &Value, prefix: &str) -> Option<Value> {
    ed.as_object()?
        .iter()
        .find(|(k, _)| k.starts_with(prefix) && k.len() > prefix.len())
        .map(|(_, v)| v.clone())
}

impl Plan {
    /// Bindings to `#id` name a ValueSet contained in the profile: attach it,
    /// with the binding keyed `profile-url#id` for the terminology cache.
    pub fn resolve_contained_bindings(&mut self, sd: &Value) {
        let contained = sd.get("contained").and_then(Value::as_array);
        let Some(contained) = contained else { return };
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
                b.contained = Some(std::sync::Arc::new(vs.clone()));
                b.value_set = format!("{}#{id}", self.url);
            }
        }
    }

    /// Compile a StructureDefinition (FHIR JSON with a snapshot).
    pub fn compile(sd: &Value) -> Result<Plan, CompileError> {
        let url = str_of(sd, "url").unwrap_or_default().to_string();
        let version = str_of(sd, "version").unwrap_or_default().to_string();
        let type_name = str_of(sd, "type").unwrap_or_default().to_string();
        let kind = str_of(sd, "kind").unwrap_or_default().to_string();
        let elems = sd
            .get("snapshot")
            .and_then(|s| s.get("element"))
            .and_then(Value::as_array)
            .ok_or_else(|| CompileError::NoSnapshot(url.clone()))?;
        let mut elements: Vec<ElemDef> = Vec::with_capacity(elems.len());
        let mut by_path: HashMap<String, usize> = HashMap::new();
        let mut by_name = HashMap::new();
        let mut pending_refs: Vec<(usize, String)> = Vec::new();
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for ed in elems {
            let Some(path) = str_of(ed, "path") else {
                continue;
            };
            let idx = elements.len();
            let def = ElemDef::from_json(path, ed);
            if def.id.ends_with(":@default") {
                continue;
            }
            let name = def.name.clone();
            let id = def.id.clone();
            let slice = def.slice_name.is_some();
            if let Some(cr) = str_of(ed, "contentReference") {
                let target = cr.split('#').nth(1).unwrap_or(cr).to_string();
                pending_refs.push((idx, target));
            }
            // Attach: a slice to its sliced element, others to their parent.
            let attach = if slice {
                id.rsplit_once(':')
                    .and_then(|(base, _)| by_id.get(base).copied())
                    .map(|b| (b, true))
            } else {
                id.rsplit_once('.')
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
            elements.push(def);
            match attach {
                Some((b, true)) => elements[b].slices.push(idx),
                Some((p, false)) => {
                    elements[p].children.push(idx);
                    by_name.entry((p, name)).or_insert(idx);
                }
                None => {}
            }
            by_id.insert(id, idx);
            if !slice && !path.contains(':') {
                by_path.entry(path.to_string()).or_insert(idx);
            }
        }
        for (idx, target) in pending_refs {
            // contentReference targets are ids (`Questionnaire.item`), which
            // equal the path for unsliced elements.
            elements[idx].content_ref = by_path.get(&target).copied();
        }
        let mut plan = Plan {
            url,
            version,
            type_name,
            kind,
            elements,
            by_name,
            base: str_of(sd, "baseDefinition").unwrap_or_default().to_string(),
            ext_context: ext_context_of(sd),
        };
        plan.load_fixes(sd);
        Ok(plan)
    }

    /// Corrections the HL7 Java validator applies to definitions when it
    /// loads them (its PackageHackerR5): the core vital-signs profiles bind
    /// `Observation.component.value[x]` to the vital-signs units
    /// extensibly (the published 4.0.1 snapshots say required).
    fn load_fixes(&mut self, sd: &Value) {
        const VITALS: &str = "http://hl7.org/fhir/StructureDefinition/vitalsigns";
        let base = str_of(sd, "baseDefinition").unwrap_or_default();
        if !(self
            .url
            .starts_with("http://hl7.org/fhir/StructureDefinition/")
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
                b.strength = "extensible".to_string();
            }
        }
    }

    /// A profile without a snapshot: its base's plan with the differential
    /// applied. Elements inside datatypes are expanded from the datatype's
    /// plan (`type_plan`) when the differential constrains them. Slices are
    /// not handled (yet).
    pub fn derive(
        base: &Plan,
        sd: &Value,
        type_plan: &dyn Fn(&str) -> Option<Arc<Plan>>,
    ) -> Option<Plan> {
        let diff = sd
            .get("differential")
            .and_then(|d| d.get("element"))
            .and_then(Value::as_array)?;
        let mut plan = base.clone();
        // Recursive elements (contentReference) point at a pristine copy of
        // their target, so that constraints on the first level do not apply
        // at every level of the recursion.
        let refs: Vec<(usize, usize)> = plan
            .elements
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.content_ref.map(|t| (i, t)))
            .collect();
        let mut copies: HashMap<usize, usize> = HashMap::new();
        for (i, t) in refs {
            let root = match copies.get(&t) {
                Some(&r) => r,
                None => {
                    let r = plan.copy_detached(t);
                    copies.insert(t, r);
                    r
                }
            };
            plan.elements[i].content_ref = Some(root);
        }
        plan.url = str_of(sd, "url").unwrap_or_default().to_string();
        plan.version = str_of(sd, "version").unwrap_or_default().to_string();
        plan.base = str_of(sd, "baseDefinition").unwrap_or_default().to_string();
        plan.ext_context = ext_context_of(sd);
        // Differential elements without ids belong to the slice last
        // opened on their path or a parent path (the ids a snapshot
        // generator gives them).
        let mut open_slices: Vec<(String, String)> = Vec::new();
        for ed in diff {
            let Some(path) = str_of(ed, "path") else {
                continue;
            };
            let id = match (str_of(ed, "id"), str_of(ed, "sliceName")) {
                (Some(id), _) => id.to_string(),
                (None, slice) => {
                    // Close slices on this path or below it: a new element
                    // (or slice) of the path starts.
                    open_slices.retain(|(p, _)| !(p == path || p.starts_with(&format!("{path}."))));
                    let mut id = path.to_string();
                    // Longest open slice path that prefixes this path.
                    if let Some((p, sid)) = open_slices
                        .iter()
                        .filter(|(p, _)| path.starts_with(&format!("{p}.")))
                        .max_by_key(|(p, _)| p.len())
                    {
                        id = format!("{sid}{}", &path[p.len()..]);
                    }
                    if let Some(sn) = slice {
                        id = format!("{id}:{sn}");
                        open_slices.push((path.to_string(), id.clone()));
                    }
                    id
                }
            };
            if id.contains("@default") {
                continue;
            }
            if let Some(idx) = plan.locate(&id, base, type_plan) {
                plan.elements[idx].constrain(ed);
            }
        }
        Some(plan)
    }

    /// Find (expanding datatypes as needed, creating slices named in the
    /// id) the element of an id (`Observation.component:sys.code`). `base`
    /// is the plan the profile derives from: a new slice starts from its
    /// element, not from the sliced element as this profile constrains it.
    fn locate(
        &mut self,
        id: &str,
        base: &Plan,
        type_plan: &dyn Fn(&str) -> Option<Arc<Plan>>,
    ) -> Option<usize> {
        let mut segs = id.split('.');
        let root = segs.next()?;
        if self.elements.first()?.path != root {
            return None;
        }
        let mut cur = 0usize;
        for seg in segs {
            self.materialize(cur);
            let (name, slice) = match seg.split_once(':') {
                Some((n, s)) => (n, Some(s)),
                None => (seg, None),
            };
            let name = name.strip_suffix("[x]").unwrap_or(name);
            let content = self.content_of(cur);
            if self.elements[content].children.is_empty() {
                let def = &self.elements[content];
                let [t] = def.types.as_slice() else {
                    return None;
                };
                let tp = type_plan(&t.code)?;
                self.expand(content, &tp);
            }
            let content = self.content_of(cur);
            let child = match self.find_child(content, name) {
                Some((c, _)) => c,
                None => *self.by_name.get(&(content, name.to_string()))?,
            };
            cur = match slice {
                None => child,
                Some(sn) => self.slice_of(child, sn, cur, base),
            };
        }
        Some(cur)
    }

    /// Give a recursive element (contentReference) its own copy of the
    /// target's children, so that a profile can constrain them here only.
    fn materialize(&mut self, at: usize) {
        let Some(t) = self.elements[at].content_ref else {
            return;
        };
        self.elements[at].content_ref = None;
        let kids = self.elements[t].children.clone();
        for k in kids {
            self.copy_within(at, k, usize::MAX, usize::MAX);
        }
    }

    /// The slice `name` of element `base`, created (as a copy of the base
    /// element) when the profile introduces it. As in the HL7 snapshot
    /// generator, a new slice has the cardinality the element had in the
    /// base profile (`original`), not the one this profile gives the
    /// sliced element: `identifier` 1..* with an optional slice `dnr` keeps
    /// `dnr` 0..*.
    fn slice_of(&mut self, base: usize, name: &str, parent: usize, original: &Plan) -> usize {
        if let Some(&s) = self.elements[base]
            .slices
            .iter()
            .find(|&&s| self.elements[s].slice_name.as_deref() == Some(name))
        {
            return s;
        }
        let mut def = self.elements[base].clone();
        def.id = format!(
            "{}.{}:{name}",
            self.elements[parent].id,
            self.elements[base].name_in_path()
        );
        if let Some(before) = original.elements.get(base) {
            def.min = before.min;
            def.max = before.max;
        }
        def.slice_name = Some(name.to_string());
        def.slicing = None;
        def.slices = Vec::new();
        def.children = Vec::new();
        let idx = self.elements.len();
        self.elements.push(def);
        self.elements[base].slices.push(idx);
        let kids = self.elements[base].children.clone();
        for k in kids {
            self.copy_within(idx, k, usize::MAX, usize::MAX);
        }
        idx
    }

    /// Copy the subtree of element `t` to new, unattached indices; inside
    /// the copy, references to `t` point at the copy. Returns the copy's root.
    fn copy_detached(&mut self, t: usize) -> usize {
        let root = self.elements.len();
        let mut def = self.elements[t].clone();
        def.children = Vec::new();
        self.elements.push(def);
        let kids = self.elements[t].children.clone();
        for k in kids {
            self.copy_within(root, k, t, root);
        }
        root
    }

    fn copy_within(&mut self, parent: usize, src: usize, from: usize, to: usize) {
        let mut def = self.elements[src].clone();
        def.children = Vec::new();
        def.slices = Vec::new();
        def.id = format!("{}.{}", self.elements[parent].id, def.name_in_path());
        if def.content_ref == Some(from) {
            def.content_ref = Some(to);
        }
        let name = def.name.clone();
        let idx = self.elements.len();
        self.elements.push(def);
        self.elements[parent].children.push(idx);
        self.by_name.insert((parent, name), idx);
        let kids = self.elements[src].children.clone();
        for k in kids {
            self.copy_within(idx, k, from, to);
        }
    }

    /// Copy the element tree of a datatype under element `at`.
    fn expand(&mut self, at: usize, tp: &Plan) {
        let Some(root) = tp.elements.first() else {
            return;
        };
        let prefix = self.elements[at].path.clone();
        let kids = root.children.clone();
        for c in kids {
            self.copy_subtree(at, &prefix, tp, c);
        }
    }

    fn copy_subtree(&mut self, parent: usize, prefix: &str, tp: &Plan, src: usize) {
        let mut def = tp.elements[src].clone();
        let last = if def.choice {
            format!("{}[x]", def.name)
        } else {
            def.name.clone()
        };
        def.path = format!("{prefix}.{last}");
        def.id = format!("{}.{last}", self.elements[parent].id);
        def.children = Vec::new();
        def.slices = Vec::new();
        def.content_ref = None;
        let kids = tp.elements[src].children.clone();
        let path = def.path.clone();
        let name = def.name.clone();
        let idx = self.elements.len();
        self.elements.push(def);
        self.elements[parent].children.push(idx);
        self.by_name.insert((parent, name), idx);
        for k in kids {
            self.copy_subtree(idx, &path, tp, k);
        }
    }

    /// The element with this id.
    pub fn element_by_id(&self, id: &str) -> Option<usize> {
        self.elements.iter().position(|e| e.id == id)
    }

    /// `url|version` as the Java validator prints it in messages.
    pub fn versioned_url(&self) -> String {
        if self.version.is_empty() {
            self.url.clone()
        } else {
            format!("{}|{}", self.url, self.version)
        }
    }

    /// The element whose children describe the content of `idx`
    /// (follows a contentReference).
    pub fn content_of(&self, idx: usize) -> usize {
        self.elements
            .get(idx)
            .and_then(|e| e.content_ref)
            .unwrap_or(idx)
    }

    /// Find the child definition for a property name: an exact name, or a
    /// choice element whose name plus a type suffix equals `prop`. Returns the
    /// child index and, for choices, the index into its types.
    pub fn find_child(&self, parent: usize, prop: &str) -> Option<(usize, Option<usize>)> {
        if let Some(&i) = self.by_name.get(&(parent, prop.to_string())) {
            if !self.elements[i].choice {
                return Some((i, None));
            }
        }
        let parent_def = self.elements.get(parent)?;
        for &c in &parent_def.children {
            let def = &self.elements[c];
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

    /// True when `prop` names a choice element of `parent` but with a type
    /// suffix that is not allowed.
    pub fn is_bad_choice(&self, parent: usize, prop: &str) -> Option<usize> {
        let parent_def = self.elements.get(parent)?;
        parent_def.children.iter().copied().find(|&c| {
            let def = &self.elements[c];
            def.choice
                && prop
                    .strip_prefix(def.name.as_str())
                    .is_some_and(|s| s.starts_with(|ch: char| ch.is_ascii_uppercase()))
        })
    }
}
