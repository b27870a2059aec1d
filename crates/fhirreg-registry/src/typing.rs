//! The typing pass: sets [`Element::in_array`], [`Element::value_kind`] and
//! [`Element::primitive`] from the StructureDefinitions, so that a tree read
//! from XML can be written as correct FHIR JSON (arrays where `max` > 1,
//! JSON numbers and booleans where the FHIR type says so, `_name` for a
//! primitive with only `id`/`extension`).

use std::collections::HashMap;
use std::sync::Arc;

use fhirreg_element::{Element, ValueKind};
use serde_json::Value;

use crate::Registry;

/// What the typing pass needs of one element definition.
#[derive(Debug)]
pub(crate) struct ElementInfo {
    many: bool,
    types: Vec<String>,
    /// `contentReference` target path (without `#` and url).
    content_ref: Option<String>,
}

/// Element definitions of one type's snapshot by path.
#[derive(Debug)]
pub(crate) struct ElementIndex {
    /// The path of the root element (the type name; for logical models
    /// given by URL, the name used in the snapshot paths).
    root: Option<String>,
    map: HashMap<String, ElementInfo>,
}

impl ElementIndex {
    fn get(&self, path: &str) -> Option<&ElementInfo> {
        self.map.get(path)
    }
}

fn index_of(sd: &Value) -> ElementIndex {
    let mut index = HashMap::new();
    let mut root = None;
    let elements = sd
        .get("snapshot")
        .and_then(|s| s.get("element"))
        .and_then(Value::as_array);
    for e in elements.into_iter().flatten() {
        let Some(path) = e.get("path").and_then(Value::as_str) else {
            continue;
        };
        if root.is_none() && !path.contains('.') {
            root = Some(path.to_owned());
        }
        // Slices repeat the path of the sliced element: keep the first.
        if index.contains_key(path) {
            continue;
        }
        let max = e.get("max").and_then(Value::as_str).unwrap_or("1");
        let types = e
            .get("type")
            .and_then(Value::as_array)
            .map(|ts| {
                ts.iter()
                    .filter_map(|t| t.get("code").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let content_ref = e
            .get("contentReference")
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit_once('#'))
            .map(|(_, p)| p.to_owned());
        index.insert(
            path.to_owned(),
            ElementInfo {
                many: max != "1" && max != "0",
                types,
                content_ref,
            },
        );
    }
    ElementIndex { root, map: index }
}

fn kind_of(type_code: &str) -> ValueKind {
    match type_code {
        "boolean" => ValueKind::Boolean,
        "integer" | "decimal" | "positiveInt" | "unsignedInt" | "integer64" => ValueKind::Number,
        _ => ValueKind::String,
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Depth bound: far deeper than any FHIR resource; guards recursive
/// structures built by hand.
const MAX_DEPTH: usize = 256;

impl Registry {
    /// The typing pass for a tree read from XML (or built by hand): sets
    /// `in_array` on every element whose definition allows more than one,
    /// `primitive` on every element of a FHIR primitive type (with or
    /// without a value) and `value_kind` on every boolean and numeric
    /// primitive, using the
    /// StructureDefinitions of the resource types (core or loaded). Elements
    /// without a definition are left as they are.
    ///
    /// ```
    /// use fhirreg_element::{Element, Position, ValueKind};
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let mut patient = Element::new("Patient", Position::default());
    /// patient.resource_type = Some("Patient".into());
    /// let mut active = Element::new("active", Position::default());
    /// active.value = Some("true".into());
    /// patient.children.push(active);
    /// patient.children.push(Element::new("name", Position::default()));
    /// registry.annotate_types(&mut patient);
    /// assert_eq!(patient.children[0].value_kind, ValueKind::Boolean);
    /// assert!(patient.children[1].in_array);
    /// ```
    pub fn annotate_types(&self, root: &mut Element) {
        let mut cache: HashMap<String, Option<Arc<ElementIndex>>> = HashMap::new();
        if let Some(rt) = root.resource_type.clone() {
            self.walk_type(root, &rt, &mut cache, 0);
        }
    }

    fn element_index(
        &self,
        type_name: &str,
        cache: &mut HashMap<String, Option<Arc<ElementIndex>>>,
    ) -> Option<Arc<ElementIndex>> {
        if let Some(hit) = cache.get(type_name) {
            return hit.clone();
        }
        let index = self
            .type_definition(type_name)
            .map(|sd| Arc::new(index_of(&sd.json)));
        cache.insert(type_name.to_owned(), index.clone());
        index
    }

    /// Type the children of `node`, an instance of `type_name`.
    fn walk_type(
        &self,
        node: &mut Element,
        type_name: &str,
        cache: &mut HashMap<String, Option<Arc<ElementIndex>>>,
        depth: usize,
    ) {
        let Some(index) = self.element_index(type_name, cache) else {
            return;
        };
        // The root path of a type is its name as written in the snapshot
        // (for logical models given by URL: the last path segment).
        let root = index.root.as_deref().unwrap_or(type_name);
        self.walk(node, &index, root, cache, depth);
    }

    fn walk(
        &self,
        node: &mut Element,
        index: &ElementIndex,
        path: &str,
        cache: &mut HashMap<String, Option<Arc<ElementIndex>>>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        for child in &mut node.children {
            let direct = format!("{path}.{}", child.name);
            let (info, type_code, child_path) = match index.get(&direct) {
                Some(info) => (info, info.types.first().cloned(), direct),
                None => match choice(index, path, &child.name) {
                    Some((info, t, p)) => (info, Some(t), p),
                    None => continue,
                },
            };
            child.in_array = info.many;
            // A contentReference reuses another element's children.
            let (child_path, type_code) = match &info.content_ref {
                Some(target) => (
                    target.clone(),
                    index.get(target).and_then(|i| i.types.first().cloned()),
                ),
                None => (child_path, type_code),
            };
            if let Some(rt) = child.resource_type.clone() {
                self.walk_type(child, &rt, cache, depth + 1);
                continue;
            }
            let Some(code) = type_code else { continue };
            if code.starts_with("http://hl7.org/fhirpath/System.") {
                continue;
            }
            if code == "BackboneElement" || code == "Element" {
                self.walk(child, index, &child_path, cache, depth + 1);
                continue;
            }
            // FHIR primitive type names start in lower case (`string`,
            // `dateTime`, `xhtml`), complex types in upper case.
            let primitive = code.starts_with(|c: char| c.is_ascii_lowercase());
            child.primitive |= primitive;
            if child.value.is_some() || primitive {
                child.value_kind = kind_of(&code);
            }
            if !child.children.is_empty() {
                self.walk_type(child, &code, cache, depth + 1);
            }
        }
    }
}

/// Match `name` (`valueQuantity`) against a choice element `path.value[x]`;
/// gives its definition, the chosen type and the definition's path.
fn choice<'a>(
    index: &'a ElementIndex,
    path: &str,
    name: &str,
) -> Option<(&'a ElementInfo, String, String)> {
    // The type suffix starts at an upper-case letter; try every split.
    for (i, c) in name.char_indices().skip(1) {
        if !c.is_ascii_uppercase() {
            continue;
        }
        let (base, suffix) = name.split_at(i);
        let p = format!("{path}.{base}[x]");
        if let Some(info) = index.get(&p) {
            let t = info.types.iter().find(|t| upper_first(t) == suffix)?;
            return Some((info, t.clone(), p));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use fhirreg_element::{Element, Position, ValueKind};

    use crate::Registry;

    fn el(name: &str, value: Option<&str>, children: Vec<Element>) -> Element {
        let mut e = Element::new(name, Position::default());
        e.value = value.map(str::to_owned);
        e.children = children;
        e
    }

    fn resource(rt: &str, children: Vec<Element>) -> Element {
        let mut e = el(rt, None, children);
        e.resource_type = Some(rt.to_owned());
        e
    }

    #[test]
    fn types_an_xml_structure_definition() {
        let r = Registry::builder().build().unwrap();
        let mut sd = resource(
            "StructureDefinition",
            vec![
                el("url", Some("http://x/sd"), vec![]),
                el("abstract", Some("false"), vec![]),
                el(
                    "contact",
                    None,
                    vec![el("telecom", None, vec![el("rank", Some("1"), vec![])])],
                ),
                el(
                    "differential",
                    None,
                    vec![el(
                        "element",
                        None,
                        vec![
                            el("path", Some("Patient.name"), vec![]),
                            el("min", Some("1"), vec![]),
                            el("max", Some("*"), vec![]),
                            el("fixedBoolean", Some("true"), vec![]),
                            el("constraint", None, vec![el("key", Some("x-1"), vec![])]),
                            el(
                                "type",
                                None,
                                vec![el(
                                    "code",
                                    Some("HumanName"),
                                    vec![el(
                                        "extension",
                                        None,
                                        vec![
                                            el("url", Some("http://x/e"), vec![]),
                                            el("valueInteger", Some("3"), vec![]),
                                        ],
                                    )],
                                )],
                            ),
                        ],
                    )],
                ),
                resource_child(
                    "contained",
                    resource("ValueSet", vec![el("useContext", None, vec![])]),
                ),
            ],
        );
        r.annotate_types(&mut sd);
        let c = |e: &Element, n: &str| e.child(n).cloned().unwrap();
        assert!(!c(&sd, "url").in_array);
        assert_eq!(c(&sd, "abstract").value_kind, ValueKind::Boolean);
        let contact = c(&sd, "contact");
        assert!(contact.in_array);
        let telecom = c(&contact, "telecom");
        assert!(telecom.in_array);
        assert_eq!(c(&telecom, "rank").value_kind, ValueKind::Number);
        let diff = c(&sd, "differential");
        assert!(!diff.in_array);
        let element = c(&diff, "element");
        assert!(element.in_array);
        assert_eq!(c(&element, "min").value_kind, ValueKind::Number);
        assert_eq!(c(&element, "max").value_kind, ValueKind::String);
        assert_eq!(c(&element, "fixedBoolean").value_kind, ValueKind::Boolean);
        assert!(c(&element, "constraint").in_array);
        let ty = c(&element, "type");
        assert!(ty.in_array);
        let code = c(&ty, "code");
        assert!(!code.in_array);
        let ext = c(&code, "extension");
        assert!(ext.in_array);
        assert_eq!(c(&ext, "valueInteger").value_kind, ValueKind::Number);
        let contained = c(&sd, "contained");
        assert!(contained.in_array);
        assert!(c(&contained, "useContext").in_array);
    }

    fn resource_child(name: &str, mut r: Element) -> Element {
        r.name = name.to_owned();
        r
    }

    #[test]
    fn content_reference_and_unknown_elements() {
        let r = Registry::builder().build().unwrap();
        let mut q = resource(
            "Questionnaire",
            vec![el(
                "item",
                None,
                vec![
                    el("required", Some("true"), vec![]),
                    el(
                        "item",
                        None,
                        vec![
                            el("repeats", Some("false"), vec![]),
                            el("answerOption", None, vec![]),
                        ],
                    ),
                    el("nonsense", Some("1"), vec![]),
                ],
            )],
        );
        r.annotate_types(&mut q);
        let item = &q.children[0];
        assert!(item.in_array);
        assert_eq!(item.children[0].value_kind, ValueKind::Boolean);
        let inner = &item.children[1];
        assert!(inner.in_array);
        assert_eq!(inner.children[0].value_kind, ValueKind::Boolean);
        assert!(inner.children[1].in_array);
        assert!(!item.children[2].in_array);
        assert_eq!(item.children[2].value_kind, ValueKind::String);
    }

    /// XML -> element tree -> typing pass -> FHIR JSON.
    fn xml_to_json(xml: &str) -> serde_json::Value {
        let r = Registry::builder().build().unwrap();
        let mut doc = fhirreg_element::xml::parse(xml.as_bytes(), &Default::default()).unwrap();
        r.annotate_types(&mut doc.root);
        serde_json::from_str(&fhirreg_element::json::write(&doc.root, false)).unwrap()
    }

    #[test]
    fn value_less_primitives_are_written_as_underscore_properties() {
        let json = xml_to_json(
            r#"<Patient xmlns="http://hl7.org/fhir">
  <active id="a1"/>
  <name>
    <given><extension url="http://example.org/g"><valueCode value="x"/></extension></given>
    <given value="B"/>
  </name>
  <birthDate><extension url="http://example.org/e"><valueString value="x"/></extension></birthDate>
  <deceasedBoolean value="false"/>
  <maritalStatus><extension url="http://example.org/m"><valueInteger value="1"/></extension></maritalStatus>
</Patient>"#,
        );
        let expected = serde_json::json!({
            "resourceType": "Patient",
            "_active": {"id": "a1"},
            "name": [{
                "given": [null, "B"],
                "_given": [{"extension": [{"url": "http://example.org/g", "valueCode": "x"}]}, null]
            }],
            "_birthDate": {"extension": [{"url": "http://example.org/e", "valueString": "x"}]},
            "deceasedBoolean": false,
            // A complex type with only an extension stays an object.
            "maritalStatus": {"extension": [{"url": "http://example.org/m", "valueInteger": 1}]}
        });
        assert_eq!(json, expected);
    }
}
