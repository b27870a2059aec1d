//! Loading files, bytes, Bundles, folders and packages; version picking.

use std::io::Write;
use std::path::{Path, PathBuf};

use fhirreg_registry::{Origin, Registry, RegistryError};

fn vs(url: &str, version: &str, id: &str) -> String {
    format!(
        r#"{{"resourceType":"ValueSet","id":"{id}","url":"{url}","version":"{version}","status":"active"}}"#
    )
}

fn message(e: RegistryError) -> String {
    e.to_string()
}

/// The error message of loading these bytes alone (with the core).
fn load_error(name: &str, bytes: &[u8]) -> String {
    message(
        Registry::builder()
            .add_bytes(name, bytes)
            .build()
            .unwrap_err(),
    )
}

/// A package .tgz with the given (path in archive, content) members.
fn tgz(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        // Write the name raw: `set_path` refuses `..`, which we want to test.
        let name = &mut header.as_old_mut().name;
        name.fill(0);
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_cksum();
        builder.append(&header, *data).unwrap();
    }
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

const MANIFEST: &[u8] = br#"{"name":"example.fhir.test","version":"1.2.3","fhirVersions":["4.0.1"],
  "dependencies":{"hl7.fhir.r4.core":"4.0.1","example.fhir.dep":"0.1.0"},"canonical":"http://example.org"}"#;

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fhirreg-registry-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn version_picking() {
    let url = "http://example.org/ValueSet/v";
    let mut b = Registry::builder().core(false);
    for (n, v) in ["1.0.0", "1.10.0", "1.0.3", "1.2.0", "1.0.3-ballot"]
        .iter()
        .enumerate()
    {
        b = b.add_bytes(
            format!("vs{n}.json"),
            vs(url, v, &format!("v{n}")).as_bytes(),
        );
    }
    let r = b.build().unwrap();
    let pick = |c: &str| r.resolve(c).and_then(|x| x.version.clone());
    assert_eq!(pick(url).as_deref(), Some("1.10.0"));
    assert_eq!(pick(&format!("{url}|1.0")).as_deref(), Some("1.0.3"));
    assert_eq!(pick(&format!("{url}|1.0.0")).as_deref(), Some("1.0.0"));
    assert_eq!(pick(&format!("{url}|1.0.3")).as_deref(), Some("1.0.3"));
    assert_eq!(pick(&format!("{url}|1.2")).as_deref(), Some("1.2.0"));
    assert_eq!(pick(&format!("{url}|1")).as_deref(), Some("1.10.0"));
    assert_eq!(pick(&format!("{url}|1.1")), None);
    assert_eq!(pick(&format!("{url}|2")), None);
    assert_eq!(pick(&format!("{url}|")).as_deref(), Some("1.10.0"));
    assert_eq!(r.versions_of(url).count(), 5);
    assert_eq!(
        r.resolve_summary(url).unwrap().origin(),
        &Origin::Loaded("vs1.json".into())
    );
}

#[test]
fn loaded_wins_over_core() {
    let patient = r#"{"resourceType":"StructureDefinition","id":"Patient","url":"http://hl7.org/fhir/StructureDefinition/Patient",
        "version":"4.0.0","name":"MyPatient","kind":"resource","type":"Patient","derivation":"specialization","abstract":false}"#;
    let r = Registry::builder()
        .add_bytes("patient.json", patient.as_bytes())
        .build()
        .unwrap();
    let p = r.type_definition("Patient").unwrap();
    assert_eq!(
        p.name.as_deref(),
        Some("MyPatient"),
        "loaded one wins even with a lower version"
    );
    let core = r
        .resolve("http://hl7.org/fhir/StructureDefinition/Patient|4.0.1")
        .unwrap();
    assert_eq!(
        core.name.as_deref(),
        Some("Patient"),
        "an explicit version reaches the core"
    );
    let listed: Vec<_> = r
        .structure_definitions()
        .filter(|s| s.type_name() == Some("Patient"))
        .collect();
    assert_eq!(
        listed.len(),
        1,
        "the shadowed core definition is not listed"
    );
    assert!(!listed[0].is_core());
    assert_eq!(
        r.by_id("StructureDefinition", "Patient")
            .unwrap()
            .name
            .as_deref(),
        Some("MyPatient")
    );
    // Equal versions: the later loaded wins.
    let r = Registry::builder()
        .core(false)
        .add_bytes("a.json", vs("http://x/vs", "1", "a").as_bytes())
        .add_bytes("b.json", vs("http://x/vs", "1", "b").as_bytes())
        .build()
        .unwrap();
    assert_eq!(r.resolve("http://x/vs").unwrap().id.as_deref(), Some("b"));
}

#[test]
fn logical_model_by_url_type() {
    let model = r#"{"resourceType":"StructureDefinition","id":"Thing","url":"http://example.org/StructureDefinition/Thing",
        "name":"Thing","kind":"logical","abstract":false,"type":"http://example.org/StructureDefinition/Thing","derivation":"specialization"}"#;
    let other = r#"{"resourceType":"StructureDefinition","id":"Gadget","url":"http://example.org/sd/Gadget",
        "name":"Gadget","kind":"logical","abstract":false,"type":"Gadget"}"#;
    let r = Registry::builder()
        .add_bytes("m.json", model.as_bytes())
        .add_bytes("g.json", other.as_bytes())
        .build()
        .unwrap();
    let t = r
        .type_definition("http://example.org/StructureDefinition/Thing")
        .unwrap();
    assert_eq!(t.id.as_deref(), Some("Thing"));
    assert_eq!(
        r.type_definition("Gadget").unwrap().id.as_deref(),
        Some("Gadget")
    );
    assert_eq!(r.type_summary("Gadget").unwrap().kind(), Some("logical"));
}

#[test]
fn bundle_of_resources() {
    let bundle = format!(
        r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"resource":{}}},{{"resource":{}}},{{"fullUrl":"x"}}]}}"#,
        vs("http://x/a", "1", "a"),
        r#"{"resourceType":"Questionnaire","id":"q","url":"http://x/q","status":"draft"}"#
    );
    let r = Registry::builder()
        .core(false)
        .add_bytes("b.json", bundle.as_bytes())
        .build()
        .unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(
        r.resolve("http://x/q").unwrap().resource_type,
        "Questionnaire"
    );
    assert_eq!(r.resources_of_type("ValueSet").count(), 1);
    assert_eq!(r.resources_of_type("Bundle").count(), 0);

    let bad = r#"{"resourceType":"Bundle","entry":[{"resource":{"id":"x"}}]}"#;
    let e = load_error("bad-bundle.json", bad.as_bytes());
    assert!(
        e.contains("bad-bundle.json") && e.contains("entry[0]"),
        "{e}"
    );
}

#[test]
fn resources_without_url() {
    let r = Registry::builder()
        .core(false)
        .add_bytes("p.json", br#"{"resourceType":"Patient","id":"p1"}"#)
        .build()
        .unwrap();
    assert_eq!(r.by_id("Patient", "p1").unwrap().resource_type, "Patient");
    assert_eq!(r.resources_of_type("Patient").count(), 1);
}

#[test]
fn malformed_json_is_an_error_naming_the_file() {
    for (name, bytes, want) in [
        (
            "trunc.json",
            &br#"{"resourceType": "ValueSet", "#[..],
            "invalid JSON",
        ),
        (
            "dup.json",
            br#"{"resourceType":"ValueSet","url":"a","url":"b"}"#,
            "duplicate",
        ),
        ("nort.json", br#"{"id":"x"}"#, "no resourceType"),
        ("array.json", b"[1,2]", "not a FHIR resource"),
        ("junk.bin", b"\x00\x01", "not a FHIR resource"),
        ("empty.json", b"", "not a FHIR resource"),
    ] {
        let e = load_error(name, bytes);
        assert!(e.starts_with(name) && e.contains(want), "{name}: {e}");
    }
}

#[test]
fn package_tgz() {
    let sd = br#"{"resourceType":"StructureDefinition","id":"p","url":"http://example.org/StructureDefinition/p","version":"1.2.3",
        "name":"P","kind":"resource","type":"Patient","derivation":"constraint","baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient","abstract":false}"#;
    let bytes = tgz(&[
        ("package/package.json", MANIFEST),
        ("package/StructureDefinition-p.json", sd),
        (
            "package/ValueSet-v.json",
            vs("http://example.org/vs", "1.2.3", "v").as_bytes(),
        ),
        (
            "package/other/ValueSet-ignored.json",
            vs("http://example.org/ignored", "1", "i").as_bytes(),
        ),
        (
            "package/example/Patient-ex.json",
            br#"{"resourceType":"Patient","id":"ex"}"#,
        ),
        ("package/openapi.json", br#"{"openapi":"3.0"}"#),
    ]);
    let r = Registry::builder()
        .add_bytes("test.tgz", &bytes)
        .build()
        .unwrap();
    assert_eq!(
        r.resolve("http://example.org/StructureDefinition/p|1.2")
            .unwrap()
            .id
            .as_deref(),
        Some("p")
    );
    assert!(r.resolve("http://example.org/vs").is_some());
    assert!(
        r.resolve("http://example.org/ignored").is_none(),
        "subfolders are not loaded"
    );
    assert!(
        r.by_id("Patient", "ex").is_none(),
        "examples are not loaded"
    );
    let pkg = &r.packages()[0];
    assert_eq!(pkg.id(), "example.fhir.test#1.2.3");
    assert_eq!(pkg.resources, 2);
    assert_eq!(pkg.fhir_versions, ["4.0.1"]);
    assert_eq!(pkg.canonical.as_deref(), Some("http://example.org"));
    assert_eq!(
        pkg.dependencies,
        [
            ("example.fhir.dep".to_owned(), "0.1.0".to_owned()),
            ("hl7.fhir.r4.core".to_owned(), "4.0.1".to_owned())
        ]
    );
    let s = r
        .resolve_summary("http://example.org/StructureDefinition/p")
        .unwrap();
    assert_eq!(
        s.origin(),
        &Origin::Loaded("example.fhir.test#1.2.3".into())
    );
    assert_eq!(s.derivation(), Some("constraint"));
    assert_eq!(
        s.base_definition(),
        Some("http://hl7.org/fhir/StructureDefinition/Patient")
    );

    // With an .index.json only the listed files are loaded.
    let index = br#"{"index-version":1,"files":[{"filename":"ValueSet-v.json","resourceType":"ValueSet"}]}"#;
    let bytes = tgz(&[
        ("package/package.json", MANIFEST),
        ("package/.index.json", index),
        ("package/StructureDefinition-p.json", sd),
        (
            "package/ValueSet-v.json",
            vs("http://example.org/vs", "1.2.3", "v").as_bytes(),
        ),
    ]);
    let r = Registry::builder()
        .core(false)
        .add_bytes("idx.tgz", &bytes)
        .build()
        .unwrap();
    assert_eq!(r.len(), 1);
    assert!(r.resolve("http://example.org/vs").is_some());
}

#[test]
fn malformed_packages() {
    let check = |name: &str, bytes: &[u8], want: &str| {
        let e = load_error(name, bytes);
        assert!(e.starts_with(name) && e.contains(want), "{name}: {e}");
    };
    check(
        "garbage.tgz",
        b"\x1f\x8b\x08\x00garbage",
        "bad package archive",
    );
    let good = tgz(&[("package/package.json", MANIFEST)]);
    check("truncated.tgz", &good[..good.len() / 2], "");
    check(
        "escape.tgz",
        &tgz(&[("package/../../evil.json", b"{}")]),
        "escapes",
    );
    check("abs.tgz", &tgz(&[("/etc/evil.json", b"{}")]), "escapes");
    check(
        "nomanifest.tgz",
        &tgz(&[("package/ValueSet-v.json", b"{}")]),
        "package.json",
    );
    check(
        "badjson.tgz",
        &tgz(&[
            ("package/package.json", MANIFEST),
            ("package/ValueSet-v.json", b"{\"resourceType\":"),
        ]),
        "package/ValueSet-v.json: invalid JSON",
    );
    check(
        "badmanifest.tgz",
        &tgz(&[("package/package.json", b"{\"name\":1}")]),
        "package.json",
    );
    // Size bound.
    let big = vec![b' '; 100_000];
    let e = message(
        Registry::builder()
            .max_package_size(50_000)
            .add_bytes(
                "big.tgz",
                &tgz(&[("package/package.json", MANIFEST), ("package/x.json", &big)]),
            )
            .build()
            .unwrap_err(),
    );
    assert!(e.contains("larger than 50000"), "{e}");
}

#[test]
fn folders_and_package_cache() {
    // A plain folder: every .json file (non-resources skipped), not subfolders.
    let dir = temp_dir("folder");
    std::fs::write(dir.join("a.json"), vs("http://x/a", "1", "a")).unwrap();
    std::fs::write(dir.join("b.json"), vs("http://x/b", "1", "b")).unwrap();
    std::fs::write(dir.join("fhirpkg.lock.json"), br#"{"dependencies":{}}"#).unwrap();
    std::fs::write(dir.join("notes.txt"), b"hello").unwrap();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/c.json"), vs("http://x/c", "1", "c")).unwrap();
    let r = Registry::builder()
        .core(false)
        .add_path(&dir)
        .build()
        .unwrap();
    assert_eq!(r.len(), 2);
    // A single file.
    let r = Registry::builder()
        .core(false)
        .add_path(dir.join("a.json"))
        .build()
        .unwrap();
    assert_eq!(r.len(), 1);
    std::fs::write(dir.join("list.json"), b"[1, 2]").unwrap();
    assert_eq!(
        Registry::builder()
            .core(false)
            .add_path(&dir)
            .build()
            .unwrap()
            .len(),
        2
    );
    std::fs::write(
        dir.join("dup.json"),
        br#"{"resourceType":"ValueSet","url":"a","url":"b"}"#,
    )
    .unwrap();
    let e = message(Registry::builder().add_path(&dir).build().unwrap_err());
    assert!(e.contains("dup.json") && e.contains("duplicate"), "{e}");
    std::fs::remove_file(dir.join("dup.json")).unwrap();
    std::fs::write(dir.join("bad.json"), b"{").unwrap();
    let e = message(Registry::builder().add_path(&dir).build().unwrap_err());
    assert!(e.contains("bad.json"), "{e}");
    let e = message(
        Registry::builder()
            .add_path(dir.join("missing.json"))
            .build()
            .unwrap_err(),
    );
    assert!(e.contains("missing.json"), "{e}");

    // A package cache with a package and its dependency.
    let cache = temp_dir("cache");
    let write_pkg = |id: &str, manifest: &[u8], files: &[(&str, String)]| {
        let p = cache.join(id).join("package");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("package.json"), manifest).unwrap();
        for (n, c) in files {
            std::fs::write(p.join(n), c).unwrap();
        }
    };
    write_pkg(
        "example.fhir.test#1.2.3",
        MANIFEST,
        &[("ValueSet-t.json", vs("http://x/t", "1.2.3", "t"))],
    );
    write_pkg(
        "example.fhir.test#1.0.0",
        br#"{"name":"example.fhir.test","version":"1.0.0"}"#,
        &[],
    );
    write_pkg(
        "example.fhir.dep#0.1.0",
        br#"{"name":"example.fhir.dep","version":"0.1.0"}"#,
        &[("ValueSet-d.json", vs("http://x/d", "0.1.0", "d"))],
    );
    let r = Registry::builder()
        .core(false)
        .package_cache_dir(&cache)
        .add_package_cache("example.fhir.test#1.2.3")
        .build()
        .unwrap();
    assert!(r.resolve("http://x/t").is_some());
    assert!(r.resolve("http://x/d").is_none());
    let r = Registry::builder()
        .package_cache_dir(&cache)
        .with_dependencies(true)
        .add_package_cache("example.fhir.test")
        .build()
        .unwrap();
    let ids: Vec<String> = r.packages().iter().map(|p| p.id()).collect();
    assert_eq!(ids, ["example.fhir.test#1.2.3", "example.fhir.dep#0.1.0"]);
    assert!(r.resolve("http://x/d").is_some());
    // A package folder given by path.
    let r = Registry::builder()
        .core(false)
        .add_path(cache.join("example.fhir.dep#0.1.0"))
        .build()
        .unwrap();
    assert_eq!(r.packages()[0].name, "example.fhir.dep");
    for bad in [
        "example.fhir.nope#1.0.0",
        "../x#1",
        "example.fhir.test#../1",
    ] {
        let e = message(
            Registry::builder()
                .package_cache_dir(&cache)
                .add_package_cache(bad)
                .build()
                .unwrap_err(),
        );
        assert!(e.contains("not found"), "{e}");
    }
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(cache);
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.is_dir() {
        Some(p)
    } else {
        println!("skipped: test data folder {} absent", p.display());
        None
    }
}

#[test]
fn shared_packages() {
    let Some(shared) = shared() else { return };
    let mut tgzs: Vec<PathBuf> = std::fs::read_dir(shared.join("packages"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tgz"))
        .collect();
    tgzs.sort();
    if tgzs.is_empty() {
        println!(
            "skipped: no packages in {}",
            shared.join("packages").display()
        );
        return;
    }
    let mut b = Registry::builder();
    for p in &tgzs {
        let t = std::time::Instant::now();
        let r = Registry::builder()
            .add_path(p)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let pkg = &r.packages()[0];
        println!(
            "{}: {} resources, {:?}",
            pkg.id(),
            pkg.resources,
            t.elapsed()
        );
        assert!(pkg.resources > 0, "{}", p.display());
        for s in r.summaries().filter(|s| !s.is_core()) {
            let id = s.id().unwrap_or_default();
            assert!(
                r.by_id(s.resource_type(), id).is_some(),
                "{} {}/{id} decodes",
                p.display(),
                s.resource_type()
            );
        }
        b = b.add_path(p);
    }
    let r = b.build().unwrap();
    if let Some(basis) = r.packages().iter().find(|p| p.name == "hl7.fhir.no.basis") {
        assert!(basis
            .dependencies
            .iter()
            .any(|(n, _)| n == "hl7.fhir.r4.core"));
        let sd = r
            .resolve("http://hl7.no/fhir/ig/StructureDefinition/no-basis-Patient")
            .unwrap();
        assert_eq!(sd.str("type"), Some("Patient"));
        assert_eq!(
            sd.str("baseDefinition"),
            Some("http://hl7.org/fhir/StructureDefinition/Patient")
        );
    }
}

#[test]
fn xml_resources() {
    let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<ValueSet xmlns="http://hl7.org/fhir">
  <id value="x"/>
  <url value="http://example.org/ValueSet/x"/>
  <version value="2.0.0"/>
  <status value="active"/>
  <experimental value="false"/>
  <compose>
    <include>
      <system value="http://example.org/cs"/>
      <concept><code value="a"/></concept>
    </include>
  </compose>
</ValueSet>"#;
    let r = Registry::builder()
        .core(false)
        .add_bytes("vs.xml", xml)
        .build()
        .unwrap();
    let vs = r.resolve("http://example.org/ValueSet/x|2").unwrap();
    assert_eq!(vs.json["experimental"], serde_json::json!(false));
    assert_eq!(vs.json["compose"]["include"][0]["concept"][0]["code"], "a");
    let e = load_error("bad.xml", b"<ValueSet");
    assert!(e.starts_with("bad.xml"), "{e}");
}

#[test]
fn install_list_and_load_from_cache() {
    use fhirreg_registry::{install_package, list_package_cache};
    let cache = temp_dir("install");
    assert!(list_package_cache(&cache.join("missing"))
        .unwrap()
        .is_empty());
    let bytes = tgz(&[
        ("package/package.json", MANIFEST),
        (
            "package/ValueSet-v.json",
            vs("http://example.org/vs", "1.2.3", "v").as_bytes(),
        ),
        (
            "package/example/Patient-ex.json",
            br#"{"resourceType":"Patient","id":"ex"}"#,
        ),
        ("package/other/readme.txt", b"hi"),
    ]);
    let info = install_package(&bytes, &cache).unwrap();
    assert_eq!(info.id(), "example.fhir.test#1.2.3");
    assert_eq!(info.resources, 1);
    assert!(cache
        .join("example.fhir.test#1.2.3/package/example/Patient-ex.json")
        .is_file());
    assert!(cache
        .join("example.fhir.test#1.2.3/package/other/readme.txt")
        .is_file());
    // Installing again leaves it as it is.
    assert_eq!(
        install_package(&bytes, &cache).unwrap().id(),
        "example.fhir.test#1.2.3"
    );
    let older = tgz(&[(
        "package/package.json",
        br#"{"name":"example.fhir.test","version":"1.10.0-ballot"}"#,
    )]);
    install_package(&older, &cache).unwrap();
    let listed: Vec<String> = list_package_cache(&cache)
        .unwrap()
        .iter()
        .map(|p| p.id())
        .collect();
    assert_eq!(
        listed,
        ["example.fhir.test#1.2.3", "example.fhir.test#1.10.0-ballot"]
    );
    let r = Registry::builder()
        .core(false)
        .package_cache_dir(&cache)
        .add_package_cache("example.fhir.test#1.2.3")
        .build()
        .unwrap();
    assert!(r.resolve("http://example.org/vs").is_some());
    assert!(r.by_id("Patient", "ex").is_none());
    // npm ranges (as package dependencies give them) pick the highest
    // cached version satisfying them; pre-releases only when the range
    // names one.
    for (range, found) in [
        ("^1.2.0", Some("1.2.3")),
        ("1.x", Some("1.2.3")),
        ("~1.2", Some("1.2.3")),
        (">=1.10.0-0 <2", Some("1.10.0-ballot")),
        ("^2", None),
        ("nonsense", None),
    ] {
        let loaded = Registry::builder()
            .core(false)
            .package_cache_dir(&cache)
            .add_package_cache(&format!("example.fhir.test#{range}"))
            .build();
        assert_eq!(
            loaded
                .ok()
                .and_then(|r| r.packages().first().map(|p| p.version.clone())),
            found.map(str::to_owned),
            "{range}"
        );
    }
    // A download of another package than the one asked for is refused.
    let e =
        fhirreg_registry::install_package_as(&older, &cache, "example.fhir.other", "1.10.0-ballot")
            .unwrap_err();
    assert!(
        e.to_string()
            .contains("holds example.fhir.test#1.10.0-ballot"),
        "{e}"
    );
    assert!(
        fhirreg_registry::install_package_as(&older, &cache, "example.fhir.test", "1.10.0")
            .is_err()
    );

    // Hostile or broken archives install nothing.
    for bad in [
        tgz(&[
            ("package/package.json", MANIFEST),
            ("package/../../evil.json", b"{}"),
        ]),
        tgz(&[(
            "package/package.json",
            br#"{"name":"../evil","version":"1"}"#,
        )]),
        tgz(&[("package/x.json", b"{}")]),
        b"\x1f\x8bnope".to_vec(),
    ] {
        let e = install_package(&bad, &cache).unwrap_err();
        assert!(
            e.to_string().starts_with(&cache.display().to_string()),
            "{e}"
        );
    }
    let names: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(!cache.parent().unwrap().join("evil.json").exists());
    let _ = std::fs::remove_dir_all(cache);
}

/// Corrupted packages and documents give errors or partial loads, never a
/// panic (deterministic pseudo-random mutations).
#[test]
fn mutated_inputs_never_panic() {
    let sd = br#"{"resourceType":"StructureDefinition","id":"p","url":"http://example.org/sd/p","version":"1.0.0","kind":"resource","type":"Patient"}"#;
    let bundle = format!(
        r#"{{"resourceType":"Bundle","entry":[{{"resource":{}}}]}}"#,
        vs("http://x/a", "1", "a")
    );
    let package = tgz(&[
        ("package/package.json", MANIFEST),
        ("package/StructureDefinition-p.json", sd),
    ]);
    // The uncompressed tar, to mutate below the gzip layer too.
    let mut tar = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&package[..]), &mut tar).unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut outcomes = [0usize; 2];
    for round in 0..600 {
        let base: Vec<u8> = match round % 4 {
            0 => package.clone(),
            1 => tar.clone(),
            2 => sd.to_vec(),
            _ => bundle.clone().into_bytes(),
        };
        let mut bytes = base;
        for _ in 0..(1 + next() % 4) {
            if bytes.is_empty() {
                break;
            }
            let i = (next() % bytes.len() as u64) as usize;
            match next() % 3 {
                0 => bytes[i] = next() as u8,
                1 => bytes.truncate(i),
                _ => bytes.insert(i, next() as u8),
            }
        }
        if round % 4 == 1 {
            // Re-wrap the mutated tar in gzip.
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&bytes).unwrap();
            bytes = gz.finish().unwrap();
        }
        let result = Registry::builder()
            .core(false)
            .add_bytes("m", &bytes)
            .build();
        outcomes[usize::from(result.is_ok())] += 1;
        if let Ok(r) = result {
            for s in r.summaries() {
                let _ = s.canonical().map(|c| r.resolve(&c));
            }
        }
    }
    println!(
        "mutations: {} rejected, {} loaded",
        outcomes[0], outcomes[1]
    );
    assert!(outcomes[0] > 0);
}

/// Core resources written as XML (by the element crate's writer) and loaded
/// back give the original JSON: XML reading plus the typing pass.
#[test]
fn xml_round_trip_of_core_resources() {
    let core = Registry::builder().build().unwrap();
    let mut b = Registry::builder().core(false);
    let mut originals = Vec::new();
    for s in core.summaries().step_by(11) {
        let Some(c) = s.canonical() else { continue };
        let res = core.resolve(&c).unwrap();
        let text = serde_json::to_vec(&res.json).unwrap();
        let doc = fhirreg_element::json::parse(&text, &Default::default()).unwrap();
        let xml = fhirreg_element::xml::write(doc.root(), false);
        b = b.add_bytes(format!("{c}.xml"), xml.as_bytes());
        originals.push((c, res));
    }
    let loaded = b.build().unwrap();
    let mut differ = Vec::new();
    for (c, original) in &originals {
        let back = loaded.resolve(c).unwrap();
        if back.json != original.json {
            differ.push(c.clone());
        }
    }
    assert!(originals.len() > 250);
    assert!(
        differ.is_empty(),
        "{} of {}: {:?}",
        differ.len(),
        originals.len(),
        &differ[..differ.len().min(5)]
    );
}

/// The test-case packages (made on macOS: AppleDouble `._*.json` files and
/// pax headers) load, and versions of the same package coexist.
#[test]
fn test_case_packages() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("fhir-test-cases/packages");
    let Ok(read) = std::fs::read_dir(&dir) else {
        println!("skipped: {} absent", dir.display());
        return;
    };
    let mut tgzs: Vec<PathBuf> = read.flatten().map(|e| e.path()).collect();
    tgzs.sort();
    let mut b = Registry::builder();
    for t in &tgzs {
        b = b.add_path(t);
    }
    let r = b.build().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.packages().len(), tgzs.len());
    for p in r.packages() {
        assert!(p.resources > 0, "{}", p.id());
    }
    // verA 1.0.0 and 2.0.0 both hold the same canonicals: the latest wins,
    // each stays reachable by version.
    let by_version: Vec<(String, usize)> = r
        .packages()
        .iter()
        .filter(|p| p.name == "hl7.fhir.test.verA")
        .map(|p| (p.version.clone(), p.resources))
        .collect();
    assert_eq!(by_version.len(), 2);
    let urls: Vec<String> = r
        .summaries()
        .filter(|s| s.origin() == &Origin::Loaded("hl7.fhir.test.verA#1.0.0".into()))
        .filter_map(|s| s.url().map(str::to_owned))
        .collect();
    assert!(!urls.is_empty());
    for url in urls {
        let versions: Vec<_> = r.versions_of(&url).filter_map(|s| s.version()).collect();
        let latest = r
            .resolve_summary(&url)
            .unwrap()
            .version()
            .map(str::to_owned);
        let max = versions
            .iter()
            .copied()
            .max_by(|a, b| fhirreg_registry::compare_versions(a, b));
        assert_eq!(latest.as_deref(), max, "{url}: {versions:?}");
    }
}

#[test]
fn naming_systems_by_unique_id() {
    let ns = |id: &str, oid: &str| {
        format!(
            r#"{{"resourceType":"NamingSystem","id":"{id}","name":"N","status":"active","kind":"identifier","date":"2020",
            "uniqueId":[{{"type":"oid","value":"{oid}"}},{{"type":"uri","value":"urn:oid:{oid}"}}]}}"#
        )
    };
    let r = Registry::builder()
        .add_bytes("a.json", ns("fnr", "2.16.578.1.12.4.1.4.1").as_bytes())
        .add_bytes(
            "b.json",
            ns("fnr-newer", "2.16.578.1.12.4.1.4.1").as_bytes(),
        )
        .add_bytes(
            "c.json",
            ns("override-core", "1.2.36.1.2001.1003.0").as_bytes(),
        )
        .build()
        .unwrap();
    let found = r.naming_system("urn:oid:2.16.578.1.12.4.1.4.1").unwrap();
    assert_eq!(found.id.as_deref(), Some("fnr-newer"));
    assert_eq!(
        r.naming_system("1.2.36.1.2001.1003.0")
            .unwrap()
            .id
            .as_deref(),
        Some("override-core")
    );
    assert!(r.naming_system("urn:oid:9.9").is_none());
}

#[test]
fn package_xml_resources() {
    let cs = br#"<?xml version="1.0" encoding="UTF-8"?>
<CodeSystem xmlns="http://hl7.org/fhir">
  <id value="x"/>
  <url value="http://example.org/CodeSystem/x"/>
  <version value="1.0.0"/>
  <status value="active"/>
  <caseSensitive value="true"/>
  <content value="complete"/>
  <count value="2"/>
  <concept><code value="a"/><display><extension url="http://example.org/t"><valueString value="A"/></extension></display></concept>
  <concept><code value="b"/></concept>
</CodeSystem>"#;
    // Same stem as a .json file: the package holds the resource once.
    let vs_xml = br#"<ValueSet xmlns="http://hl7.org/fhir"><url value="http://example.org/vs"/><version value="9.0.0"/><status value="active"/></ValueSet>"#;
    let sub = br#"<ValueSet xmlns="http://hl7.org/fhir"><url value="http://example.org/sub"/><status value="active"/></ValueSet>"#;
    let vs_json = vs("http://example.org/vs", "1.2.3", "v");
    let members: Vec<(&str, &[u8])> = vec![
        ("package/package.json", MANIFEST),
        ("package/CodeSystem-x.xml", cs),
        ("package/ValueSet-v.json", vs_json.as_bytes()),
        ("package/ValueSet-v.xml", vs_xml),
        ("package/xml/ValueSet-sub.xml", sub),
        ("package/.hidden.xml", b"<broken"),
        ("package/notes.xml", b"<notes>not a resource</notes>"),
    ];
    let check = |r: &Registry| {
        let cs = r.resolve("http://example.org/CodeSystem/x|1").unwrap();
        assert_eq!(cs.json["caseSensitive"], serde_json::json!(true));
        assert_eq!(cs.json["count"], serde_json::json!(2));
        assert_eq!(cs.json["concept"][1]["code"], "b");
        assert_eq!(
            cs.json["concept"][0]["_display"]["extension"][0]["valueString"],
            "A"
        );
        assert_eq!(
            r.resolve_summary("http://example.org/CodeSystem/x")
                .unwrap()
                .origin(),
            &Origin::Loaded("example.fhir.test#1.2.3".into())
        );
        let versions: Vec<_> = r
            .versions_of("http://example.org/vs")
            .filter_map(|s| s.version())
            .collect();
        assert_eq!(versions, ["1.2.3"]);
        assert!(r.resolve("http://example.org/sub").is_none());
        assert_eq!(r.packages()[0].resources, 2);
    };
    let r = Registry::builder()
        .add_bytes("xml.tgz", &tgz(&members))
        .build()
        .unwrap();
    check(&r);

    // An .index.json lists JSON files only: the XML ones are still loaded.
    let index = br#"{"index-version":1,"files":[{"filename":"ValueSet-v.json","resourceType":"ValueSet"}]}"#;
    let mut indexed = members.clone();
    indexed.push(("package/.index.json", index));
    let r = Registry::builder()
        .add_bytes("xml.tgz", &tgz(&indexed))
        .build()
        .unwrap();
    check(&r);

    // The same as a package folder.
    let dir = temp_dir("xml-package");
    for (path, data) in &members {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    let r = Registry::builder().add_path(&dir).build().unwrap();
    check(&r);
    let _ = std::fs::remove_dir_all(&dir);

    // A malformed XML resource is an error naming the package and file.
    let mut bad = members.clone();
    bad.push((
        "package/ValueSet-bad.xml",
        b"<ValueSet xmlns=\"http://hl7.org/fhir\"><url value=\"x\">",
    ));
    let e = load_error("bad.tgz", &tgz(&bad));
    assert!(
        e.starts_with("bad.tgz: package/ValueSet-bad.xml: invalid XML"),
        "{e}"
    );
}
