//! The embedded HL7 terminology package (hl7.terminology.r4) next to the
//! embedded R4 core: precedence, NamingSystems, the builder switch.

use std::io::Write;

use fhirreg_registry::Registry;

const THO: &str = "hl7.terminology.r4#7.0.1";
const CORE: &str = "hl7.fhir.r4.examples#4.0.1";

fn both() -> Registry {
    Registry::builder().build().expect("registry builds")
}

fn codes(r: &fhirreg_registry::Resource) -> Vec<String> {
    r.json["concept"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["code"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn latest_version_comes_from_the_terminology_package() {
    let r = both();
    assert_eq!(
        r.embedded_packages(),
        [CORE, THO, "fhirreg.codesystems.no#0.6.0"]
    );
    let url = "http://terminology.hl7.org/CodeSystem/v2-0203";
    let latest = r.resolve(url).unwrap();
    assert_eq!(latest.version.as_deref(), Some("5.0.0"));
    assert_eq!(
        r.resolve_summary(url).unwrap().embedded_package(),
        Some(THO)
    );
    assert!(latest.json.get("text").is_none(), "narrative stripped");
    // GKV was added to v2 table 0203 after the R4 core's 2.9.
    assert!(codes(&latest).iter().any(|c| c == "GKV"));
    // The core's older version is still there by version.
    let old = r.resolve(&format!("{url}|2.9")).unwrap();
    assert_eq!(old.version.as_deref(), Some("2.9"));
    assert!(!codes(&old).iter().any(|c| c == "GKV"));
    assert!(codes(&old).iter().any(|c| c == "MR"));
    let versions: Vec<_> = r.versions_of(url).filter_map(|s| s.version()).collect();
    assert_eq!(versions, ["2.9", "5.0.0"]);

    // Only in the terminology package.
    let cs = r
        .resolve("http://terminology.hl7.org/CodeSystem/accepting-patients")
        .unwrap();
    assert_eq!(codes(&cs), ["nopt", "newpt", "existptonly", "existptfam"]);
    let off = Registry::builder()
        .hl7_terminology(false)
        .norwegian(false)
        .build()
        .unwrap();
    assert!(off
        .resolve("http://terminology.hl7.org/CodeSystem/accepting-patients")
        .is_none());
    assert_eq!(off.embedded_packages(), [CORE]);
    assert_eq!(off.resolve(url).unwrap().version.as_deref(), Some("2.9"));
}

#[test]
fn core_copies_rank_below_the_terminology_package() {
    let r = both();
    // The R4 core versions its copy 4.0.1, THO 1.0.1: THO still wins.
    let url = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification";
    let s = r.resolve_summary(url).unwrap();
    assert_eq!(
        (s.version(), s.embedded_package()),
        (Some("1.0.1"), Some(THO))
    );
    let s = r.resolve_summary(&format!("{url}|4.0.1")).unwrap();
    assert_eq!(
        (s.version(), s.embedded_package()),
        (Some("4.0.1"), Some(CORE))
    );
    // Listings leave the core copies out, as they leave out core resources
    // shadowed by loaded ones.
    let listed: Vec<_> = r.summaries().filter(|s| s.url() == Some(url)).collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].embedded_package(), Some(THO));
    // Core resources THO does not define are unaffected.
    let s = r
        .resolve_summary("http://hl7.org/fhir/ValueSet/administrative-gender")
        .unwrap();
    assert_eq!(s.embedded_package(), Some(CORE));
    assert!(r.type_definition("Patient").is_some());
}

#[test]
fn loaded_resources_win_over_the_terminology_package() {
    let cs = br#"{"resourceType":"CodeSystem","id":"v2-0203","url":"http://terminology.hl7.org/CodeSystem/v2-0203",
        "version":"1.0.0","status":"active","content":"complete","concept":[{"code":"X"}]}"#;
    let r = Registry::builder()
        .add_bytes("cs.json", cs)
        .build()
        .unwrap();
    let url = "http://terminology.hl7.org/CodeSystem/v2-0203";
    let got = r.resolve(url).unwrap();
    assert_eq!(codes(&got), ["X"]);
    assert_eq!(r.resolve_summary(url).unwrap().embedded_package(), None);
    assert_eq!(
        r.resolve(&format!("{url}|5.0.0"))
            .unwrap()
            .version
            .as_deref(),
        Some("5.0.0")
    );
    assert_eq!(
        r.by_id("CodeSystem", "v2-0203").unwrap().version.as_deref(),
        Some("1.0.0")
    );
    let listed = r.summaries().filter(|s| s.url() == Some(url)).count();
    assert_eq!(listed, 1);
}

#[test]
fn naming_systems_map_oids_and_uris_to_systems() {
    let r = both();
    let loinc = r.naming_system("2.16.840.1.113883.6.1").unwrap();
    assert_eq!(loinc.id.as_deref(), Some("v3-loinc"));
    let by_uri = r.naming_system("http://loinc.org").unwrap();
    assert!(std::sync::Arc::ptr_eq(&loinc, &by_uri));
    // The core's two example NamingSystems are still found.
    assert!(r.naming_system("1.2.36.1.2001.1003.0").is_some());
    let off = Registry::builder().hl7_terminology(false).build().unwrap();
    assert!(off.naming_system("2.16.840.1.113883.6.1").is_none());
}

#[test]
fn every_terminology_resource_decodes() {
    let r = Registry::builder()
        .core(false)
        .hl7_terminology(true)
        .build()
        .unwrap();
    let count = |t: &str| r.resources_of_type(t).count();
    assert_eq!(count("CodeSystem"), 897);
    assert_eq!(count("ValueSet"), 2499);
    assert_eq!(count("NamingSystem"), 660);
    assert_eq!(r.len(), 897 + 2499 + 660);
    for s in r.summaries() {
        assert_eq!(s.embedded_package(), Some(THO));
        assert!(s.is_core());
        let id = s.id().unwrap();
        let res = r
            .by_id(s.resource_type(), id)
            .unwrap_or_else(|| panic!("{}/{id} does not decode", s.resource_type()));
        assert_eq!(res.url.as_deref(), s.url());
        assert!(res.json.get("text").is_none());
    }
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("fhirreg-tho-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn terminology_dependencies_are_skipped_while_embedded() {
    // A cached package depending on hl7.terminology.r4, which the cache
    // does not hold.
    let cache = temp_dir("cache");
    let pkg = cache.join("example.ig#1.0.0").join("package");
    std::fs::create_dir_all(&pkg).unwrap();
    let mut f = std::fs::File::create(pkg.join("package.json")).unwrap();
    f.write_all(
        br#"{"name":"example.ig","version":"1.0.0","fhirVersions":["4.0.1"],
        "dependencies":{"hl7.fhir.r4.core":"4.0.1","hl7.terminology.r4":"6.0.2"}}"#,
    )
    .unwrap();
    let build = |tho: bool| {
        Registry::builder()
            .hl7_terminology(tho)
            .package_cache_dir(&cache)
            .with_dependencies(true)
            .add_package_cache("example.ig#1.0.0")
            .build()
    };
    let r = build(true).unwrap();
    assert_eq!(r.packages().len(), 1);
    let e = build(false).unwrap_err().to_string();
    assert!(e.contains("hl7.terminology.r4#6.0.2"), "{e}");
    let _ = std::fs::remove_dir_all(&cache);
}
