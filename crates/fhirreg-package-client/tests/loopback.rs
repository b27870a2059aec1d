//! The package client against a registry served by the test itself on
//! 127.0.0.1: the real HL7 Norway packages of ../shared/packages (skipped
//! with a message when absent) and packages built on the fly. Package
//! documents and their digests are computed from the tarballs here; every
//! install goes into a temporary cache folder.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fhirreg_package_client::{
    npm_dist_digests, InstallStatus, PackageClient, PackageClientError, SelectError,
};
use fhirreg_registry::list_package_cache;
use serde_json::json;

// ---------------------------------------------------------------- server

/// What the server answers for one path.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: Vec<u8>,
    /// Send `Content-Length` (else the body ends when the connection closes).
    length_header: bool,
    /// Wait this long before answering.
    delay: Duration,
}

impl Reply {
    fn ok(body: Vec<u8>) -> Self {
        Reply {
            status: 200,
            body,
            length_header: true,
            delay: Duration::ZERO,
        }
    }
}

struct Server {
    base: String,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, q) = (routes.clone(), requests.clone());
        // Ends with the test process; each connection on its own thread so
        // that a slow reply holds up nothing else.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, q) = (r.clone(), q.clone());
                std::thread::spawn(move || answer(stream, &r, &q));
            }
        });
        Server {
            base,
            routes,
            requests,
        }
    }

    fn route(&self, path: &str, reply: Reply) {
        self.routes
            .lock()
            .expect("routes")
            .insert(path.to_owned(), reply);
    }

    /// Serve package `id`: a document listing `versions` (version, tgz,
    /// how the digests are given), tarballs at `/ID/VERSION` (FHIR
    /// registry style).
    fn publish(&self, id: &str, latest: Option<&str>, versions: &[(&str, &[u8], Digests)]) {
        let mut entries = serde_json::Map::new();
        for (version, tgz, digests) in versions {
            let path = format!("/{id}/{version}");
            let (shasum, integrity) = npm_dist_digests(tgz);
            let (wrong_shasum, wrong_integrity) = npm_dist_digests(b"another tarball");
            let mut dist = json!({ "tarball": format!("{}{path}", self.base) });
            match digests {
                Digests::Both => {
                    dist["shasum"] = json!(shasum);
                    dist["integrity"] = json!(integrity);
                }
                Digests::Shasum => dist["shasum"] = json!(shasum),
                Digests::Integrity => dist["integrity"] = json!(integrity),
                Digests::WrongShasum => {
                    dist["shasum"] = json!(wrong_shasum);
                    dist["integrity"] = json!(integrity);
                }
                Digests::WrongIntegrity => {
                    dist["shasum"] = json!(shasum);
                    dist["integrity"] = json!(wrong_integrity);
                }
                Digests::None => {}
            }
            entries.insert(
                (*version).to_owned(),
                json!({ "name": id, "version": version, "dist": dist }),
            );
            self.route(&path, Reply::ok(tgz.to_vec()));
        }
        let mut document = json!({ "_id": id, "name": id, "versions": entries });
        if let Some(latest) = latest {
            document["dist-tags"] = json!({ "latest": latest });
        }
        self.route(
            &format!("/{id}"),
            Reply::ok(serde_json::to_vec(&document).expect("json")),
        );
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }

    fn client(&self, cache: &Path) -> PackageClient {
        PackageClient::new(cache)
            .registry(&self.base)
            .timeout(Duration::from_secs(20))
    }
}

#[derive(Clone, Copy)]
enum Digests {
    Both,
    Shasum,
    Integrity,
    WrongShasum,
    WrongIntegrity,
    None,
}

fn answer(
    mut stream: TcpStream,
    routes: &Mutex<HashMap<String, Reply>>,
    requests: &Mutex<Vec<String>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
    if let Ok(mut log) = requests.lock() {
        log.push(path.clone());
    }
    let reply = routes.lock().ok().and_then(|r| r.get(&path).cloned());
    let reply = reply.unwrap_or(Reply {
        status: 404,
        body: b"{\"error\":\"not found\"}".to_vec(),
        length_header: true,
        delay: Duration::ZERO,
    });
    std::thread::sleep(reply.delay);
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n",
        reply.status
    );
    if reply.length_header {
        out.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    out.push_str("\r\n");
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&reply.body);
    let _ = stream.flush();
}

// -------------------------------------------------------------- packages

/// A .tgz of raw (path, bytes) entries: the path goes into the header as
/// it is, `..` and absolute paths included (the tar crate's own path
/// setter refuses those).
fn raw_tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    for (path, data) in entries {
        let mut header = tar::Header::new_old();
        let name = &mut header.as_old_mut().name;
        assert!(path.len() < name.len(), "short test paths");
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append(&header, *data).expect("tar entry");
    }
    builder
        .into_inner()
        .and_then(|gz| gz.finish())
        .expect("tgz")
}

/// A small FHIR package: package.json with `dependencies`, one CodeSystem,
/// and `padding` bytes of incompressible data (for the size limits).
fn package(name: &str, version: &str, dependencies: &[(&str, &str)], padding: usize) -> Vec<u8> {
    let deps: serde_json::Map<String, serde_json::Value> = dependencies
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let manifest = json!({
        "name": name, "version": version, "fhirVersions": ["4.0.1"],
        "dependencies": deps,
    });
    let code_system = json!({
        "resourceType": "CodeSystem", "id": "cs",
        "url": format!("http://example.org/{name}/CodeSystem/cs"),
        "version": version, "status": "active", "content": "complete",
        "concept": [{"code": "a"}],
    });
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..padding)
        .map(|_| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 56) as u8
        })
        .collect();
    let manifest = serde_json::to_vec(&manifest).expect("json");
    let code_system = serde_json::to_vec(&code_system).expect("json");
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("package/package.json", &manifest),
        ("package/CodeSystem-cs.json", &code_system),
    ];
    if padding > 0 {
        entries.push(("package/other/noise.bin", &noise));
    }
    raw_tgz(&entries)
}

/// A tarball of ../shared/packages, or `None` (with the reason printed).
fn shared(file: &str) -> Option<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/packages")
        .join(file);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            eprintln!(
                "skipped: {} is absent (../shared test data): {e}",
                path.display()
            );
            None
        }
    }
}

/// A fresh temporary cache folder, removed when dropped.
struct TempCache(PathBuf);

impl TempCache {
    fn new(name: &str) -> TempCache {
        let dir = std::env::temp_dir().join(format!(
            "fhirreg-package-client-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp cache");
        TempCache(dir)
    }

    fn installed(&self) -> Vec<String> {
        list_package_cache(&self.0)
            .expect("list")
            .iter()
            .map(|p| p.id())
            .collect()
    }

    /// Everything in the folder (nothing left behind by a failed install).
    fn entries(&self) -> Vec<String> {
        std::fs::read_dir(&self.0)
            .expect("read cache")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }
}

impl Drop for TempCache {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn steps(report: &fhirreg_package_client::InstallReport) -> Vec<(String, InstallStatus)> {
    report
        .steps
        .iter()
        .map(|s| (format!("{}#{}", s.name, s.version), s.status))
        .collect()
}

// ----------------------------------------------------------------- tests

#[test]
fn installs_real_packages_with_dependencies_resolved_by_range() {
    let (Some(basis), Some(kodeverk)) = (
        shared("hl7.fhir.no.basis#2.2.3-test.tgz"),
        shared("hl7.fhir.no.kodeverk#0.6.0.tgz"),
    ) else {
        return;
    };
    let server = Server::start();
    // The application asks for no-basis and kodeverk by range; the real
    // packages sit among generated neighbours that the ranges must pass
    // over (a lower release, a higher pre-release excluded by npm's rule,
    // the next major).
    let app = package(
        "example.fhir.app",
        "1.0.0",
        &[
            ("hl7.fhir.no.basis", ">=2.2.3-test <3"),
            ("hl7.fhir.no.kodeverk", "^0.6.0"),
            ("hl7.fhir.r4.core", "4.0.1"),
        ],
        0,
    );
    let app_next = package("example.fhir.app", "1.1.0-snapshot", &[], 0);
    server.publish(
        "example.fhir.app",
        Some("1.0.0"),
        &[
            ("1.0.0", &app, Digests::Both),
            ("1.1.0-snapshot", &app_next, Digests::Both),
        ],
    );
    let basis_222 = package("hl7.fhir.no.basis", "2.2.2", &[], 0);
    let basis_230 = package("hl7.fhir.no.basis", "2.3.0-ballot", &[], 0);
    let basis_300 = package("hl7.fhir.no.basis", "3.0.0", &[], 0);
    server.publish(
        "hl7.fhir.no.basis",
        Some("3.0.0"),
        &[
            ("2.2.2", &basis_222, Digests::Both),
            ("2.2.3-test", &basis, Digests::Shasum),
            ("2.3.0-ballot", &basis_230, Digests::Both),
            ("3.0.0", &basis_300, Digests::Both),
        ],
    );
    let kodeverk_050 = package("hl7.fhir.no.kodeverk", "0.5.0", &[], 0);
    let kodeverk_070 = package("hl7.fhir.no.kodeverk", "0.7.0", &[], 0);
    server.publish(
        "hl7.fhir.no.kodeverk",
        None,
        &[
            ("0.5.0", &kodeverk_050, Digests::Both),
            ("0.6.0", &kodeverk, Digests::Integrity),
            ("0.7.0", &kodeverk_070, Digests::Both),
        ],
    );
    // Both real packages depend on hl7.fhir.uv.extensions.r4#5.2.0 (not in
    // ../shared): a generated stand-in.
    let extensions = package("hl7.fhir.uv.extensions.r4", "5.2.0", &[], 0);
    let extensions_next = package("hl7.fhir.uv.extensions.r4", "5.3.0", &[], 0);
    server.publish(
        "hl7.fhir.uv.extensions.r4",
        Some("5.3.0"),
        &[
            ("5.2.0", &extensions, Digests::Both),
            ("5.3.0", &extensions_next, Digests::Both),
        ],
    );

    let cache = TempCache::new("ranges");
    let report = server
        .client(&cache.0)
        .install("example.fhir.app")
        .expect("install");
    use InstallStatus::*;
    // Breadth first; each (id, range) once: hl7.fhir.r4.core#4.0.1 is asked
    // for by all three, hl7.fhir.uv.extensions.r4#5.2.0 by both real ones.
    let expected = [
        ("example.fhir.app#1.0.0", Installed),
        ("hl7.fhir.no.basis#2.2.3-test", Installed),
        ("hl7.fhir.no.kodeverk#0.6.0", Installed),
        ("hl7.fhir.r4.core#4.0.1", Embedded),
        ("hl7.fhir.uv.extensions.r4#5.2.0", Installed),
        ("hl7.terminology.r4#7.0.0", Embedded),
        ("hl7.terminology.r4#6.5.0", Embedded),
    ];
    assert_eq!(
        steps(&report),
        expected.map(|(id, status)| (id.to_owned(), status))
    );
    assert_eq!(
        cache.installed(),
        [
            "example.fhir.app#1.0.0",
            "hl7.fhir.no.basis#2.2.3-test",
            "hl7.fhir.no.kodeverk#0.6.0",
            "hl7.fhir.uv.extensions.r4#5.2.0",
        ]
    );
    // The whole real package is there, files below package/ too.
    let basis_dir = cache.0.join("hl7.fhir.no.basis#2.2.3-test/package");
    for file in [
        "package.json",
        "StructureDefinition-no-basis-Patient.json",
        "example/Patient-JanniceSoreng.json",
        "xml/StructureDefinition-no-basis-Patient.sch",
    ] {
        assert!(basis_dir.join(file).is_file(), "{file}");
    }
    // The registry's loader reads the installed cache.
    let registry = fhirreg_registry::Registry::builder()
        .package_cache_dir(&cache.0)
        .add_package_cache("example.fhir.app#1.0.0")
        .with_dependencies(true)
        .build()
        .expect("load the installed packages");
    assert!(registry
        .resolve("http://hl7.no/fhir/ig/StructureDefinition/no-basis-Patient")
        .is_some());

    // Again: only the document of the package asked for without a version
    // is fetched; every dependency comes from the cache.
    let before = server.requests().len();
    let again = server
        .client(&cache.0)
        .install("example.fhir.app")
        .expect("install again");
    assert!(again.installed().next().is_none(), "{again:?}");
    assert_eq!(server.requests()[before..], ["/example.fhir.app"]);
}

#[test]
fn a_real_package_by_exact_version_and_its_missing_dependency() {
    let Some(nilar) = shared("diagnostic.report.nilar#1.5.0.tgz") else {
        return;
    };
    let server = Server::start();
    server.publish(
        "diagnostic.report.nilar",
        Some("1.5.0"),
        &[("1.5.0", &nilar, Digests::Both)],
    );
    // NILAR needs no-basis 2.2.2, which this registry does not have.
    let cache = TempCache::new("nilar");
    let err = server
        .client(&cache.0)
        .install("diagnostic.report.nilar#1.5.0")
        .expect_err("no-basis is missing");
    assert!(
        matches!(&err, PackageClientError::NotFound { id, .. } if id == "hl7.fhir.no.basis"),
        "{err}"
    );
    assert!(err.to_string().contains("hl7.fhir.no.basis"), "{err}");
    // What was installed before the failure stays, complete.
    assert_eq!(cache.installed(), ["diagnostic.report.nilar#1.5.0"]);
    assert!(cache
        .0
        .join("diagnostic.report.nilar#1.5.0/package/package.json")
        .is_file());
    // Without dependencies, the package alone.
    let alone = TempCache::new("nilar-alone");
    let report = server
        .client(&alone.0)
        .dependencies(false)
        .install("diagnostic.report.nilar@1.5.0")
        .expect("install");
    assert_eq!(report.steps.len(), 1);
    assert_eq!(alone.installed(), ["diagnostic.report.nilar#1.5.0"]);
}

#[test]
fn a_shasum_or_integrity_mismatch_installs_nothing() {
    let server = Server::start();
    let good = package("example.fhir.sum", "1.0.0", &[], 0);
    server.publish(
        "example.fhir.sum",
        None,
        &[
            ("1.0.0", &good, Digests::WrongShasum),
            ("1.0.1", &good, Digests::WrongIntegrity),
        ],
    );
    let cache = TempCache::new("mismatch");
    for (version, algorithm) in [("1.0.0", "shasum (SHA-1)"), ("1.0.1", "sha512")] {
        let err = server
            .client(&cache.0)
            .install(&format!("example.fhir.sum#{version}"))
            .expect_err("mismatch");
        match &err {
            PackageClientError::ChecksumMismatch {
                id,
                version: v,
                algorithm: a,
                ..
            } => {
                assert_eq!(
                    (id.as_str(), v.as_str(), *a),
                    ("example.fhir.sum", version, algorithm)
                )
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("nothing installed"), "{err}");
    }
    assert!(cache.entries().is_empty(), "{:?}", cache.entries());
}

#[test]
fn a_download_without_digest_needs_consent() {
    let server = Server::start();
    let tgz = package("example.fhir.nodigest", "1.0.0", &[], 0);
    server.publish(
        "example.fhir.nodigest",
        None,
        &[("1.0.0", &tgz, Digests::None)],
    );
    let cache = TempCache::new("nodigest");
    let err = server
        .client(&cache.0)
        .install("example.fhir.nodigest")
        .expect_err("no digest");
    assert!(
        matches!(err, PackageClientError::NoChecksum { .. }),
        "{err}"
    );
    assert!(cache.entries().is_empty());
    server
        .client(&cache.0)
        .allow_unverified(true)
        .install("example.fhir.nodigest")
        .expect("allowed");
    assert_eq!(cache.installed(), ["example.fhir.nodigest#1.0.0"]);
}

#[test]
fn unknown_packages_and_versions_are_clear_errors() {
    let server = Server::start();
    let tgz = package("example.fhir.known", "1.0.0", &[], 0);
    server.publish(
        "example.fhir.known",
        None,
        &[("1.0.0", &tgz, Digests::Both)],
    );
    let cache = TempCache::new("unknown");
    let err = server
        .client(&cache.0)
        .install("example.fhir.unknown#1.0.0")
        .expect_err("404");
    assert!(
        matches!(&err, PackageClientError::NotFound { id, registry }
            if id == "example.fhir.unknown" && *registry == server.base),
        "{err}"
    );
    let err = server
        .client(&cache.0)
        .install("example.fhir.known#^2.0.0")
        .expect_err("no such version");
    assert!(
        matches!(&err, PackageClientError::NoVersion { reason: SelectError::NoneSatisfies { .. }, available, .. }
            if available == "1.0.0"),
        "{err}"
    );
    let err = server
        .client(&cache.0)
        .install("example.fhir.known#current")
        .expect_err("no such tag");
    assert!(
        matches!(
            &err,
            PackageClientError::NoVersion {
                reason: SelectError::Unknown { .. },
                ..
            }
        ),
        "{err}"
    );
    // A tarball the document points at but the server does not have.
    server.route(
        "/example.fhir.gone",
        Reply::ok(
            serde_json::to_vec(&json!({"versions": {"1.0.0": {"dist": {
                "tarball": format!("{}/nowhere.tgz", server.base), "shasum": "00"}}}}))
            .expect("json"),
        ),
    );
    let err = server
        .client(&cache.0)
        .install("example.fhir.gone")
        .expect_err("tarball 404");
    assert!(
        matches!(err, PackageClientError::Status { status: 404, .. }),
        "{err}"
    );
    // Not a package document.
    server.route("/example.fhir.html", Reply::ok(b"<html></html>".to_vec()));
    let err = server
        .client(&cache.0)
        .install("example.fhir.html")
        .expect_err("html");
    assert!(
        matches!(err, PackageClientError::BadDocument { .. }),
        "{err}"
    );
    assert!(cache.entries().is_empty());
}

#[test]
fn downloads_over_the_size_limits_are_refused() {
    let server = Server::start();
    // 100 kB of incompressible data: the tarball is larger than 64 KiB.
    let big = package("example.fhir.big", "1.0.0", &[], 100_000);
    assert!(big.len() > 64 * 1024);
    server.publish("example.fhir.big", None, &[("1.0.0", &big, Digests::Both)]);
    // As large, served without Content-Length: the limit is enforced
    // while reading.
    let streamed = package("example.fhir.streamed", "1.0.0", &[], 100_000);
    server.publish(
        "example.fhir.streamed",
        None,
        &[("1.0.0", &streamed, Digests::Both)],
    );
    server.route(
        "/example.fhir.streamed/1.0.0",
        Reply {
            length_header: false,
            ..Reply::ok(streamed.clone())
        },
    );
    let cache = TempCache::new("limits");
    for id in ["example.fhir.big", "example.fhir.streamed"] {
        let err = server
            .client(&cache.0)
            .max_tarball_size(64 * 1024)
            .install(id)
            .expect_err("too large");
        assert!(
            matches!(
                &err,
                PackageClientError::TooLarge {
                    what: "tarball",
                    limit: 65536,
                    ..
                }
            ),
            "{id}: {err}"
        );
    }
    let err = server
        .client(&cache.0)
        .max_document_size(100)
        .install("example.fhir.big")
        .expect_err("document too large");
    assert!(
        matches!(
            &err,
            PackageClientError::TooLarge {
                what: "package document",
                ..
            }
        ),
        "{err}"
    );
    assert!(cache.entries().is_empty());
    // Under the limit, the same package installs (the streamed one too).
    server
        .client(&cache.0)
        .max_tarball_size(256 * 1024)
        .install("example.fhir.streamed")
        .expect("within the limit");
    assert_eq!(cache.installed(), ["example.fhir.streamed#1.0.0"]);
}

#[test]
fn hostile_tarballs_are_refused() {
    let server = Server::start();
    let cache = TempCache::new("hostile");
    let outside = std::env::temp_dir().join(format!("fhirreg-hostile-{}.json", std::process::id()));
    let manifest = br#"{"name":"example.fhir.evil","version":"1.0.0"}"#;
    let absolute = outside.to_string_lossy().into_owned();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "1.0.0",
            raw_tgz(&[
                ("package/package.json", manifest),
                ("package/../../evil.json", b"{}"),
            ]),
        ),
        (
            "1.0.1",
            raw_tgz(&[
                ("package/package.json", manifest),
                ("../../../../../../../../tmp/evil.json", b"{}"),
            ]),
        ),
        (
            "1.0.2",
            raw_tgz(&[("package/package.json", manifest), (&absolute, b"{}")]),
        ),
        // A tarball of another package than the one asked for.
        ("1.0.3", package("example.fhir.other", "1.0.3", &[], 0)),
        // Not a gzip at all.
        ("1.0.4", b"this is not a tarball".to_vec()),
    ];
    let published: Vec<(&str, &[u8], Digests)> = cases
        .iter()
        .map(|(v, tgz)| (*v, tgz.as_slice(), Digests::Both))
        .collect();
    server.publish("example.fhir.evil", None, &published);
    for (version, _) in &cases {
        let err = server
            .client(&cache.0)
            .install(&format!("example.fhir.evil#{version}"))
            .expect_err("hostile");
        assert!(
            matches!(err, PackageClientError::Install { .. }),
            "{version}: {err}"
        );
        if *version < "1.0.3" {
            assert!(err.to_string().contains("escapes"), "{version}: {err}");
        }
    }
    assert!(cache.entries().is_empty(), "{:?}", cache.entries());
    assert!(!outside.exists());
    assert!(!cache.0.parent().expect("parent").join("evil.json").exists());
}

#[test]
fn dependency_cycles_end() {
    let server = Server::start();
    let a = package("example.fhir.a", "1.0.0", &[("example.fhir.b", "^1")], 0);
    let b = package("example.fhir.b", "1.2.0", &[("example.fhir.a", "1.x")], 0);
    server.publish("example.fhir.a", None, &[("1.0.0", &a, Digests::Both)]);
    server.publish("example.fhir.b", None, &[("1.2.0", &b, Digests::Both)]);
    let cache = TempCache::new("cycle");
    let report = server
        .client(&cache.0)
        .install("example.fhir.a")
        .expect("install");
    assert_eq!(
        steps(&report),
        [
            ("example.fhir.a#1.0.0".to_owned(), InstallStatus::Installed),
            ("example.fhir.b#1.2.0".to_owned(), InstallStatus::Installed),
        ]
    );
    assert_eq!(
        report.steps[1].required_by.as_deref(),
        Some("example.fhir.a#1.0.0")
    );
}

#[test]
fn embedded_dependencies_on_request() {
    let server = Server::start();
    let app = package(
        "example.fhir.app2",
        "1.0.0",
        &[("hl7.fhir.r4.core", "4.0.1")],
        0,
    );
    let core = package("hl7.fhir.r4.core", "4.0.1", &[], 0);
    server.publish("example.fhir.app2", None, &[("1.0.0", &app, Digests::Both)]);
    server.publish("hl7.fhir.r4.core", None, &[("4.0.1", &core, Digests::Both)]);
    let cache = TempCache::new("embedded");
    server
        .client(&cache.0)
        .install("example.fhir.app2")
        .expect("install");
    assert_eq!(cache.installed(), ["example.fhir.app2#1.0.0"]);
    server
        .client(&cache.0)
        .include_embedded(true)
        .install("example.fhir.app2")
        .expect("install");
    assert_eq!(
        cache.installed(),
        ["example.fhir.app2#1.0.0", "hl7.fhir.r4.core#4.0.1"]
    );
}

#[test]
fn a_silent_server_times_out() {
    let server = Server::start();
    server.route(
        "/example.fhir.slow",
        Reply {
            delay: Duration::from_secs(8),
            ..Reply::ok(b"{\"versions\":{}}".to_vec())
        },
    );
    let cache = TempCache::new("timeout");
    let started = Instant::now();
    let err = server
        .client(&cache.0)
        .timeout(Duration::from_millis(500))
        .install("example.fhir.slow")
        .expect_err("timeout");
    assert!(matches!(err, PackageClientError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
