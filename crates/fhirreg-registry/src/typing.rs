//! The typing pass: sets [`Element::in_array`], [`Element::value_kind`] and
//! [`Element::primitive`] from the definition model, so that a tree read
//! from XML can be written as correct FHIR JSON (arrays where `max` > 1,
//! JSON numbers and booleans where the FHIR type says so, `_name` for a
//! primitive with only `id`/`extension`).

use fhirreg_element::{Document, Element, NodeId, ValueKind};
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

/// What the typing pass decided for one node.
struct Typed {
    id: NodeId,
    in_array: bool,
    /// Set `primitive` (never cleared).
    primitive: bool,
    kind: Option<ValueKind>,
}

impl Registry {
    /// The typing pass for a tree read from XML (or built by hand): sets
    /// `in_array` on every element whose definition allows more than one,
    /// `primitive` on every element of a FHIR primitive type (with or
    /// without a value) and `value_kind` on every boolean and numeric
    /// primitive, using the definitions of the resource types (core or
    /// loaded). Elements without a definition are left as they are.
    ///
    /// ```
    /// use fhirreg_element::{Document, Position, ValueKind};
    /// let registry = fhirreg_registry::Registry::builder().build().unwrap();
    /// let mut doc = Document::new("Patient");
    /// let root = doc.root().id();
    /// let active = doc.add_child(root, "active", Position::default());
    /// doc.set_value(active, "true", ValueKind::String);
    /// doc.add_child(root, "name", Position::default());
    /// registry.annotate_types(&mut doc);
    /// let patient = doc.root();
    /// assert_eq!(patient.child("active").unwrap().value_kind(), ValueKind::Boolean);
    /// assert!(patient.child("name").unwrap().in_array());
    /// ```
    pub fn annotate_types(&self, doc: &mut Document) {
        let mut out = Vec::new();
        let root = doc.root();
        if let Some(rt) = root.resource_type() {
            if let Some(sd) = self.type_structure_by_name(rt) {
                self.type_children(root, &sd, 0, 0, &mut out);
            }
        }
        for t in out {
            doc.set_in_array(t.id, t.in_array);
            if t.primitive {
                doc.set_primitive(t.id, true);
            }
            if let Some(k) = t.kind {
                doc.set_value_kind(t.id, k);
            }
        }
    }

    /// Type the children of `node`, an instance of element `idx` of `sd`.
    fn type_children(
        &self,
        node: Element<'_>,
        sd: &StructureDef,
        idx: usize,
        depth: usize,
        out: &mut Vec<Typed>,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let content = sd.content_of(idx);
        for child in node.children() {
            let Some((ci, ti)) = sd.find_child(content, child.name()) else {
                continue;
            };
            let Some(def) = sd.elements.get(ci) else {
                continue;
            };
            let mut typed = Typed {
                id: child.id(),
                in_array: !matches!(def.max, Some(0) | Some(1)),
                primitive: false,
                kind: None,
            };
            if let Some(rt) = child.resource_type() {
                out.push(typed);
                if let Some(tp) = self.type_structure_by_name(rt) {
                    self.type_children(child, &tp, 0, depth + 1, out);
                }
                continue;
            }
            let cc = sd.content_of(ci);
            let Some(content_def) = sd.elements.get(cc) else {
                out.push(typed);
                continue;
            };
            if !content_def.children.is_empty() {
                // A backbone element (or a reused one): children inline.
                out.push(typed);
                self.type_children(child, sd, cc, depth + 1, out);
                continue;
            }
            let t = match ti {
                Some(i) => def.types.get(i),
                None => content_def.types.first(),
            };
            let Some(t) = t.filter(|t| t.system_type.is_none()) else {
                out.push(typed);
                continue;
            };
            let primitive = t.is_primitive();
            typed.primitive = primitive;
            if child.value().is_some() || primitive {
                typed.kind = Some(kind_of(&t.code));
            }
            out.push(typed);
            if child.has_children() {
                if let Some(tp) = self.type_structure_by_name(&t.code) {
                    self.type_children(child, &tp, 0, depth + 1, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use fhirreg_element::{Document, Element, ValueKind};

    use crate::Registry;

    fn typed_xml(xml: &str) -> Document {
        let r = Registry::builder().build().unwrap();
        let mut doc = fhirreg_element::xml::parse(xml.as_bytes(), &Default::default()).unwrap();
        r.annotate_types(&mut doc);
        doc
    }

    fn c<'d>(e: Element<'d>, n: &str) -> Element<'d> {
        e.child(n).unwrap()
    }

    #[test]
    fn types_an_xml_structure_definition() {
        let doc = typed_xml(
            r#"<StructureDefinition xmlns="http://hl7.org/fhir">
  <url value="http://x/sd"/>
  <abstract value="false"/>
  <contact><telecom><rank value="1"/></telecom></contact>
  <differential>
    <element>
      <path value="Patient.name"/>
      <min value="1"/>
      <max value="*"/>
      <fixedBoolean value="true"/>
      <constraint><key value="x-1"/></constraint>
      <type>
        <code value="HumanName">
          <extension url="http://x/e"><valueInteger value="3"/></extension>
        </code>
      </type>
    </element>
  </differential>
  <contained><ValueSet><useContext><code><code value="x"/></code></useContext></ValueSet></contained>
</StructureDefinition>"#,
        );
        let sd = doc.root();
        assert!(!c(sd, "url").in_array());
        assert_eq!(c(sd, "abstract").value_kind(), ValueKind::Boolean);
        let contact = c(sd, "contact");
        assert!(contact.in_array());
        let telecom = c(contact, "telecom");
        assert!(telecom.in_array());
        assert_eq!(c(telecom, "rank").value_kind(), ValueKind::Number);
        let diff = c(sd, "differential");
        assert!(!diff.in_array());
        let element = c(diff, "element");
        assert!(element.in_array());
        assert_eq!(c(element, "min").value_kind(), ValueKind::Number);
        assert_eq!(c(element, "max").value_kind(), ValueKind::String);
        assert_eq!(c(element, "fixedBoolean").value_kind(), ValueKind::Boolean);
        assert!(c(element, "constraint").in_array());
        let ty = c(element, "type");
        assert!(ty.in_array());
        let code = c(ty, "code");
        assert!(!code.in_array());
        let ext = c(code, "extension");
        assert!(ext.in_array());
        assert_eq!(c(ext, "valueInteger").value_kind(), ValueKind::Number);
        let contained = c(sd, "contained");
        assert!(contained.in_array());
        assert!(c(contained, "useContext").in_array());
    }

    #[test]
    fn content_reference_and_unknown_elements() {
        let doc = typed_xml(
            r#"<Questionnaire xmlns="http://hl7.org/fhir">
  <item>
    <required value="true"/>
    <item><repeats value="false"/><answerOption><valueString value="a"/></answerOption></item>
    <nonsense value="1"/>
  </item>
</Questionnaire>"#,
        );
        let item = c(doc.root(), "item");
        assert!(item.in_array());
        assert_eq!(c(item, "required").value_kind(), ValueKind::Boolean);
        let inner = c(item, "item");
        assert!(inner.in_array());
        assert_eq!(c(inner, "repeats").value_kind(), ValueKind::Boolean);
        assert!(c(inner, "answerOption").in_array());
        let nonsense = c(item, "nonsense");
        assert!(!nonsense.in_array());
        assert_eq!(nonsense.value_kind(), ValueKind::String);
    }

    /// XML -> element tree -> typing pass -> FHIR JSON.
    fn xml_to_json(xml: &str) -> serde_json::Value {
        let r = Registry::builder().build().unwrap();
        let mut doc = fhirreg_element::xml::parse(xml.as_bytes(), &Default::default()).unwrap();
        r.annotate_types(&mut doc);
        serde_json::from_str(&fhirreg_element::json::write(doc.root(), false)).unwrap()
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
