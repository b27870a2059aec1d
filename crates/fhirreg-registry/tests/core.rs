//! The embedded R4 core: resolution, summaries, lazy decoding (with the
//! embedded HL7 terminology switched off; tests/terminology.rs has both).

use std::time::Instant;

use fhirreg_registry::{Registry, CORE_SD_PREFIX};

fn core() -> Registry {
    Registry::builder()
        .hl7_terminology(false)
        .norwegian(false)
        .build()
        .expect("core registry builds")
}

#[test]
fn the_norwegian_layer() {
    let r = Registry::builder()
        .hl7_terminology(false)
        .build()
        .expect("builds");
    let ours: Vec<_> = r
        .summaries()
        .filter(|s| s.embedded_package() == Some("fhirreg.codesystems.no#0.6.0"))
        .collect();
    let count = |t: &str| ours.iter().filter(|s| s.resource_type() == t).count();
    assert_eq!(count("NamingSystem"), 11);
    assert_eq!(count("CodeSystem"), 34);
    assert_eq!(ours.len(), 45);
    for s in &ours {
        let resource = match s.canonical() {
            Some(c) => r.resolve(&c),
            None => r.by_id(s.resource_type(), s.id().unwrap_or_default()),
        };
        let resource = resource.unwrap_or_else(|| panic!("{:?} does not decode", s.id()));
        if resource.resource_type == "CodeSystem" {
            let oid = resource.json["identifier"][0]["value"]
                .as_str()
                .expect("oid");
            assert!(oid.starts_with("urn:oid:2.16.578.1.12.4.1.1."), "{oid}");
            let cs = r.code_system(oid).expect("by its OID");
            assert_eq!(Some(cs.url.as_str()), resource.url.as_deref());
        }
    }
    assert_eq!(
        r.embedded_packages(),
        ["hl7.fhir.r4.examples#4.0.1", "fhirreg.codesystems.no#0.6.0"]
    );
}

#[test]
fn resolves_core_types() {
    let r = core();
    for (name, kind) in [
        ("Patient", "resource"),
        ("HumanName", "complex-type"),
        ("string", "primitive-type"),
        ("Extension", "complex-type"),
        ("Definition", "logical"),
    ] {
        let sd = r
            .type_definition(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(sd.resource_type, "StructureDefinition");
        assert_eq!(
            sd.url.as_deref(),
            Some(format!("{CORE_SD_PREFIX}{name}").as_str())
        );
        assert_eq!(sd.str("kind"), Some(kind), "{name}");
        assert_eq!(sd.version.as_deref(), Some("4.0.1"));
        assert!(sd.json.get("snapshot").is_some(), "{name} has a snapshot");
        assert!(sd.json.get("text").is_none(), "narrative stripped");
    }
    let patient = r.type_definition("Patient").unwrap();
    assert!(patient.json.get("differential").is_some());
    assert_eq!(patient.json["snapshot"]["element"][0]["path"], "Patient");
    // Same Arc on the second call: decoded once, cached.
    let again = r.resolve(&format!("{CORE_SD_PREFIX}Patient")).unwrap();
    assert!(std::sync::Arc::ptr_eq(&patient, &again));
    // A type name given as its URL.
    assert!(r
        .type_definition(&format!("{CORE_SD_PREFIX}HumanName"))
        .is_some());
    assert!(r.type_definition("NoSuchType").is_none());
}

#[test]
fn resolves_core_extensions_and_terminology() {
    let r = core();
    let ext = r
        .resolve("http://hl7.org/fhir/StructureDefinition/patient-birthPlace")
        .unwrap();
    assert_eq!(ext.str("type"), Some("Extension"));
    assert_eq!(ext.str("derivation"), Some("constraint"));

    let vs = r
        .resolve("http://hl7.org/fhir/ValueSet/administrative-gender")
        .unwrap();
    assert_eq!(vs.resource_type, "ValueSet");
    assert_eq!(vs.id.as_deref(), Some("administrative-gender"));
    assert!(vs.json["compose"]["include"][0]["system"].is_string());
    assert!(r
        .resolve("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1")
        .is_some());
    assert!(r
        .resolve("http://hl7.org/fhir/ValueSet/administrative-gender|4.0")
        .is_some());
    assert!(r
        .resolve("http://hl7.org/fhir/ValueSet/administrative-gender|3.0.2")
        .is_none());

    let cs = r
        .resolve("http://hl7.org/fhir/administrative-gender")
        .unwrap();
    assert_eq!(cs.resource_type, "CodeSystem");
    let codes: Vec<&str> = cs.json["concept"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    assert_eq!(codes, ["male", "female", "other", "unknown"]);

    assert!(r
        .by_id("ConceptMap", "cm-administrative-gender-v2")
        .is_some());
    assert!(r.by_id("StructureDefinition", "Patient").is_some());
    // Versioned urls in R4 v2 tables: held under the plain url.
    let v21 = r
        .resolve("http://terminology.hl7.org/CodeSystem/v2-0006|2.1")
        .unwrap();
    assert_eq!(v21.id.as_deref(), Some("v2-2.1-0006"));
    let latest = r
        .resolve("http://terminology.hl7.org/CodeSystem/v2-0006")
        .unwrap();
    assert_eq!(latest.id.as_deref(), Some("v2-2.4-0006"));
    assert!(r.by_id("StructureDefinition", "nope").is_none());
}

#[test]
fn summaries_without_decoding() {
    let r = core();
    let patient = r
        .structure_definitions()
        .find(|s| s.url() == Some("http://hl7.org/fhir/StructureDefinition/Patient"))
        .unwrap();
    assert_eq!(patient.type_name(), Some("Patient"));
    assert_eq!(patient.kind(), Some("resource"));
    assert_eq!(patient.derivation(), Some("specialization"));
    assert_eq!(
        patient.base_definition(),
        Some("http://hl7.org/fhir/StructureDefinition/DomainResource")
    );
    assert!(!patient.is_abstract());
    assert!(patient.is_core());
    assert!(r.type_summary("Resource").unwrap().is_abstract());

    let count = |t: &str| r.resources_of_type(t).count();
    assert_eq!(count("StructureDefinition"), 655);
    assert_eq!(count("ValueSet"), 1316);
    assert_eq!(count("CodeSystem"), 1062);
    assert_eq!(count("ConceptMap"), 80);
    assert_eq!(count("NamingSystem"), 2);
    assert_eq!(count("SearchParameter"), 0);
    assert_eq!(r.len(), 3115);
    assert_eq!(r.core_package(), Some("hl7.fhir.r4.examples#4.0.1"));
    assert_eq!(r.embedded_packages(), ["hl7.fhir.r4.examples#4.0.1"]);
    assert_eq!(patient.embedded_package(), r.core_package());
    // Every primitive type has a definition.
    let primitives: Vec<&str> = r
        .structure_definitions()
        .filter(|s| s.kind() == Some("primitive-type"))
        .filter_map(|s| s.type_name())
        .collect();
    assert_eq!(primitives.len(), 20);
    assert!(primitives.contains(&"dateTime"));
}

#[test]
fn every_core_resource_decodes() {
    let r = core();
    let mut n = 0;
    for s in r.summaries() {
        let Some(canonical) = s.canonical() else {
            // R4 NamingSystems have no url.
            assert_eq!(s.resource_type(), "NamingSystem");
            assert!(r.by_id("NamingSystem", s.id().unwrap()).is_some());
            continue;
        };
        let res = r
            .resolve(&canonical)
            .unwrap_or_else(|| panic!("{canonical} does not decode"));
        // Same url+version could be held twice; the picked one must agree on type.
        assert_eq!(
            res.url.as_deref().map(|u| u.split('|').next()),
            Some(s.url())
        );
        n += 1;
    }
    assert_eq!(n, 3113);
}

#[test]
fn no_core() {
    let r = Registry::builder().core(false).build().unwrap();
    assert!(r.is_empty());
    assert!(r.type_definition("Patient").is_none());
    assert_eq!(r.core_package(), None);
    assert!(r.embedded_packages().is_empty());
    // The terminology layer alone.
    let r = Registry::builder()
        .core(false)
        .hl7_terminology(true)
        .build()
        .unwrap();
    assert_eq!(r.embedded_packages(), ["hl7.terminology.r4#7.0.1"]);
    assert_eq!(r.core_package(), None);
    assert!(r.type_definition("Patient").is_none());
    assert!(r
        .resolve("http://terminology.hl7.org/CodeSystem/v2-0203")
        .is_some());
}

#[test]
fn timing_build_and_first_resolve() {
    // Prints figures; no assertion on time (machines differ).
    let t = Instant::now();
    let r = core();
    let build = t.elapsed();
    let t = Instant::now();
    let p = r.type_definition("Patient");
    let first = t.elapsed();
    let t = Instant::now();
    let _ = r.type_definition("Patient");
    let second = t.elapsed();
    let t = Instant::now();
    let all: usize = r
        .summaries()
        .filter_map(|s| s.canonical())
        .filter(|c| r.resolve(c).is_some())
        .count();
    let everything = t.elapsed();
    let bmi = r
        .resolve("http://hl7.org/fhir/StructureDefinition/bmi")
        .unwrap();
    let mut stripped = bmi.json.clone();
    stripped.as_object_mut().unwrap().remove("snapshot");
    let t = Instant::now();
    let generated = r.generate_snapshot(&stripped).unwrap();
    let snapshot = t.elapsed();
    println!(
        "build {build:?}; first resolve Patient {first:?}; cached {second:?}; decode all {all} {everything:?}; \
         bmi snapshot (on vitalsigns, Observation) {snapshot:?}"
    );
    assert!(generated.warnings.is_empty());
    assert!(p.is_some());
}

#[test]
fn shared_across_threads_decodes_once() {
    let r = core();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let r = r.clone();
            std::thread::spawn(move || r.type_definition("Observation").unwrap())
        })
        .collect();
    let got: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for g in &got[1..] {
        assert!(std::sync::Arc::ptr_eq(&got[0], g));
    }
}

/// Forget what only JSON tells (arrays, numbers, booleans), as an XML
/// reader would.
/// Forget what the typing pass sets (arrays, JSON value kinds).
fn untype(doc: &mut fhirreg_element::Document) {
    let ids: Vec<fhirreg_element::NodeId> = doc.root().descendants().map(|e| e.id()).collect();
    for id in ids {
        doc.set_in_array(id, false);
        doc.set_value_kind(id, fhirreg_element::ValueKind::String);
    }
}

/// JSON -> element tree -> forget types -> annotate_types -> JSON must give
/// back the original. Ok(true) when the untyped tree alone would not have
/// (proves the check has teeth).
fn round_trip(r: &Registry, name: &str, json: &serde_json::Value) -> Result<bool, String> {
    let text = serde_json::to_vec(json).unwrap();
    let mut doc = match fhirreg_element::json::parse(&text, &Default::default()) {
        Ok(d) => d,
        Err(e) => return Err(format!("{name}: {e}")),
    };
    untype(&mut doc);
    let untyped: serde_json::Value =
        serde_json::from_str(&fhirreg_element::json::write(doc.root(), false))
            .map_err(|e| format!("{name}: writer output: {e}"))?;
    r.annotate_types(&mut doc);
    let back: serde_json::Value =
        serde_json::from_str(&fhirreg_element::json::write(doc.root(), false))
            .map_err(|e| format!("{name}: writer output: {e}"))?;
    if &back != json {
        return Err(format!("{name}: typed tree differs from the original"));
    }
    Ok(&untyped != json)
}

#[test]
fn typing_pass_restores_json_of_core_resources() {
    let r = core();
    let probe = fhirreg_element::json::parse(br#"{"resourceType":"Basic"}"#, &Default::default());
    if probe.is_err() {
        println!("skipped: fhirreg_element::json::parse not available");
        return;
    }
    let mut failures = Vec::new();
    let mut n = 0;
    let mut needed_typing = 0;
    // Every 7th core resource: all kinds of conformance resources.
    for s in r.summaries().step_by(7) {
        let Some(c) = s.canonical() else { continue };
        let res = r.resolve(&c).unwrap();
        n += 1;
        match round_trip(&r, &c, &res.json) {
            Ok(differed) => needed_typing += usize::from(differed),
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(needed_typing > n / 2, "{needed_typing} of {n}");
}

#[test]
fn typing_pass_restores_json_of_r4_examples() {
    let Some(dir) = std::env::var_os("FHIRREG_R4_EXAMPLES").map(std::path::PathBuf::from) else {
        println!("skipped: FHIRREG_R4_EXAMPLES not set (scripts/fetch-r4-examples.sh prints it)");
        return;
    };
    let r = core();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut n = 0;
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.starts_with('.') || name == "package.json" {
            continue;
        }
        // Conformance resources are covered by the core test.
        if [
            "StructureDefinition-",
            "ValueSet-",
            "CodeSystem-",
            "SearchParameter-",
        ]
        .iter()
        .any(|p| name.starts_with(p))
        {
            continue;
        }
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        n += 1;
        if let Err(e) = round_trip(&r, &name, &json) {
            failures.push(e);
        }
    }
    println!(
        "typing pass: {} of {n} examples round-trip",
        n - failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {n} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
}

#[test]
fn type_hierarchy_and_naming_systems() {
    let r = core();
    let chain: Vec<&str> = r
        .type_ancestors("Age")
        .filter_map(|s| s.type_name())
        .collect();
    assert_eq!(chain, ["Age", "Quantity", "Element"]);
    // A constraint (profile) chain ends at the type it constrains.
    let chain: Vec<&str> = r
        .type_ancestors("http://hl7.org/fhir/StructureDefinition/bmi")
        .filter_map(|s| s.name())
        .collect();
    assert_eq!(chain.first(), Some(&"observation-bmi"));
    assert!(
        chain.contains(&"Observation") && chain.ends_with(&["Resource"]),
        "{chain:?}"
    );
    assert!(r.is_subtype_of("Patient", "DomainResource"));
    assert!(r.is_subtype_of("Patient", "Patient"));
    assert!(r.is_subtype_of("MoneyQuantity", "Quantity"));
    assert!(!r.is_subtype_of("Patient", "Element"));
    assert!(!r.is_subtype_of("Nope", "Resource"));
    assert_eq!(r.type_ancestors("Nope").count(), 0);
    assert_eq!(r.type_ancestors("Resource").count(), 1);

    let ns = r.naming_system("1.2.36.1.2001.1003.0").unwrap();
    assert_eq!(ns.id.as_deref(), Some("example-id"));
    assert!(r.naming_system("urn:oid:0.0").is_none());
}
