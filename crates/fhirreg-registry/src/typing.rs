//! The typing pass: sets [`Element::in_array`], [`Element::value_kind`] and
//! [`Element::primitive`] from the definition model, so that a tree read
//! from XML can be written as correct FHIR JSON (arrays where `max` > 1,
//! JSON numbers and booleans where the FHIR type says so, `_name` for a
//! primitive with only `id`/`extension`).

use fhirreg_element::{Element, ValueKind};
use fhirreg_model::StructureDef;

use crate::Registry;

fn kind_of(type_code: &str) -> ValueKind {
    match type_code {
        "boolean" => ValueKind::Boolean,
        "integer" | "decimal" | "positiveInt" | "unsignedInt" | "integer64" => ValueKind::Number,
        _ => ValueKind::String,
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
    /// primitive, using the definitions of the resource types (core or
    /// loaded). Elements without a definition are left as they are.
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
        if let Some(rt) = root.resource_type.clone() {
            if let Some(sd) = self.type_structure_by_name(&rt) {
                self.type_children(root, &sd, 0, 0);
            }
        }
    }

    /// Type the children of `node`, an instance of element `idx` of `sd`.
    fn type_children(&self, node: &mut Element, sd: &StructureDef, idx: usize, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let content = sd.content_of(idx);
        for child in &mut node.children {
            let Some((ci, ti)) = sd.find_child(content, &child.name) else {
                continue;
            };
            let Some(def) = sd.elements.get(ci) else {
                continue;
            };
            child.in_array = !matches!(def.max, Some(0) | Some(1));
            if let Some(rt) = child.resource_type.clone() {
                if let Some(tp) = self.type_structure_by_name(&rt) {
                    self.type_children(child, &tp, 0, depth + 1);
                }
                continue;
            }
            let cc = sd.content_of(ci);
            let Some(content_def) = sd.elements.get(cc) else {
                continue;
            };
            if !content_def.children.is_empty() {
                // A backbone element (or a reused one): children inline.
                self.type_children(child, sd, cc, depth + 1);
                continue;
            }
            let t = match ti {
                Some(i) => def.types.get(i),
                None => content_def.types.first(),
            };
            let Some(t) = t else { continue };
            if t.system_type.is_some() {
                continue;
            }
            let primitive = t.is_primitive();
            child.primitive |= primitive;
            if child.value.is_some() || primitive {
                child.value_kind = kind_of(&t.code);
            }
            if !child.children.is_empty() {
                if let Some(tp) = self.type_structure_by_name(&t.code) {
                    self.type_children(child, &tp, 0, depth + 1);
                }
            }
        }
    }
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
