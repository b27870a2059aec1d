//! End-to-end tests of the `fhirreg` binary: exit codes, output formats,
//! the hostile-input corpus, conversion.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fhirreg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fhirreg"))
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::null())
        .output()
        .expect("run fhirreg")
}

fn json_stdout(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn valid_example_exits_0() {
    let output = fhirreg(&["validate", "tests/data/patient-example.json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn invalid_example_exits_1_with_located_issues() {
    let output = fhirreg(&[
        "validate",
        "tests/data/patient-invalid.json",
        "--output-format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let outcome = json_stdout(&output);
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    let issues = outcome["issue"].as_array().expect("issues");
    let expressions: Vec<&str> = issues
        .iter()
        .filter(|i| i["severity"] == "error")
        .filter_map(|i| i["expression"][0].as_str())
        .collect();
    for expected in ["Patient.active", "Patient.birthDate", "Patient.id"] {
        assert!(
            expressions.contains(&expected),
            "{expected} not in {expressions:?}"
        );
    }
    // Every error carries line and column extensions.
    for issue in issues.iter().filter(|i| i["severity"] == "error") {
        let urls: Vec<&str> = issue["extension"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["url"].as_str())
            .collect();
        assert!(
            urls.iter()
                .any(|u| u.ends_with("operationoutcome-issue-line")),
            "{issue}"
        );
        assert!(
            urls.iter()
                .any(|u| u.ends_with("operationoutcome-issue-col")),
            "{issue}"
        );
    }
}

#[test]
fn text_output_has_file_line_col() {
    let output = fhirreg(&["validate", "tests/data/patient-invalid.json"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("tests/data/patient-invalid.json:4:") && l.contains(": error: ")),
        "{text}"
    );
}

#[test]
fn several_inputs_give_a_bundle_of_outcomes() {
    let output = fhirreg(&[
        "validate",
        "tests/data/patient-example.json",
        "tests/data/patient-invalid.json",
        "--output-format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let bundle = json_stdout(&output);
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["entry"].as_array().map(Vec::len), Some(2));
}

#[test]
fn sarif_and_junit_outputs_are_well_formed() {
    let output = fhirreg(&[
        "validate",
        "tests/data/patient-invalid.json",
        "--output-format",
        "sarif",
    ]);
    let sarif = json_stdout(&output);
    assert_eq!(sarif["version"], "2.1.0");
    assert!(!sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .is_empty());

    let output = fhirreg(&[
        "validate",
        "tests/data/patient-invalid.json",
        "--output-format",
        "junit",
    ]);
    let xml = String::from_utf8_lossy(&output.stdout);
    assert!(
        xml.contains("<testsuite") && xml.contains("<failure"),
        "{xml}"
    );
}

#[test]
fn missing_file_and_bad_usage_exit_2() {
    assert_eq!(
        fhirreg(&["validate", "no/such/file.json"]).status.code(),
        Some(2)
    );
    assert_eq!(fhirreg(&["validate"]).status.code(), Some(2));
    assert_eq!(
        fhirreg(&[
            "validate",
            "tests/data/patient-example.json",
            "--fhir-version",
            "5.0.0"
        ])
        .status
        .code(),
        Some(2)
    );
}

/// Every file of the hostile corpus gives exit 2 or an error issue with a
/// location, quickly, without a panic.
#[test]
fn hostile_corpus() {
    let dir = repo().join("tests/hostile");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/hostile")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x != "md"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let start = Instant::now();
        let output = fhirreg(&[
            "validate",
            file.to_str().expect("utf-8 path"),
            "--output-format",
            "json",
        ]);
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} too slow",
            file.display()
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", file.display());
        match output.status.code() {
            Some(1) => {
                let outcome = json_stdout(&output);
                let located = outcome["issue"].as_array().into_iter().flatten().any(|i| {
                    matches!(i["severity"].as_str(), Some("error" | "fatal"))
                        && i["extension"].as_array().into_iter().flatten().any(|e| {
                            e["url"]
                                .as_str()
                                .is_some_and(|u| u.ends_with("operationoutcome-issue-line"))
                        })
                });
                assert!(
                    located,
                    "{}: error without location: {outcome}",
                    file.display()
                );
            }
            Some(2) => {}
            other => panic!("{}: exit {other:?}", file.display()),
        }
    }
}

#[test]
fn convert_json_to_xml_and_back() {
    let dir = std::env::temp_dir().join(format!("fhirreg-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let xml = dir.join("patient.xml");
    let json = dir.join("patient.json");
    let out = fhirreg(&[
        "convert",
        "tests/data/patient-example.json",
        xml.to_str().expect("path"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = fhirreg(&[
        "convert",
        xml.to_str().expect("path"),
        json.to_str().expect("path"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let original: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo().join("tests/data/patient-example.json")).expect("read"),
    )
    .expect("json");
    let round_trip: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).expect("read")).expect("json");
    assert_eq!(original, round_trip);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fhirpath_prints_one_json_line_per_file() {
    let output = fhirreg(&[
        "fhirpath",
        "Patient.name.where(use='official').given.first() | Patient.birthDate | %who",
        "--var",
        "who=meg",
        "tests/data/patient-example.json",
        "tests/data/patient-invalid.json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [r#"["Kari","1985-05-13","meg"]"#, r#"["1985-13-45","meg"]"#]
    );
}

#[test]
fn fhirpath_complex_values_are_fhir_json_and_errors_are_located() {
    let output = fhirreg(&[
        "fhirpath",
        "Patient.name",
        "tests/data/patient-example.json",
    ]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(value[0]["given"][0], "Kari");
    let output = fhirreg(&[
        "fhirpath",
        "Patient.name.where(",
        "tests/data/patient-example.json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(
        value["error"].as_str().is_some_and(|e| e.contains("1:")),
        "{value}"
    );
}

#[test]
fn resolve_finds_core_and_loaded_definitions() {
    let output = fhirreg(&[
        "resolve",
        "http://hl7.org/fhir/StructureDefinition/Patient|4.0.1",
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(json_stdout(&output)["type"], "Patient");
    assert_eq!(
        fhirreg(&["resolve", "http://example.org/nothing"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn package_install_list_show() {
    let cache = std::env::temp_dir().join(format!("fhirreg-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let cache_arg = cache.to_str().expect("path").to_string();
    // A tiny package built on the fly: package.json plus one profile.
    let tgz = cache.with_extension("tgz");
    let staging = cache.with_extension("staging");
    std::fs::create_dir_all(staging.join("package")).expect("staging");
    std::fs::write(
        staging.join("package/package.json"),
        r#"{"name":"example.fhir.test","version":"1.0.0","fhirVersions":["4.0.1"],"dependencies":{"hl7.fhir.r4.core":"4.0.1"}}"#,
    )
    .expect("write");
    std::fs::write(
        staging.join("package/CodeSystem-colours.json"),
        r#"{"resourceType":"CodeSystem","id":"colours","url":"http://example.org/CodeSystem/colours","version":"1.0.0","status":"active","content":"complete","concept":[{"code":"red"}]}"#,
    )
    .expect("write");
    let status = Command::new("tar")
        .args([
            "czf",
            tgz.to_str().expect("path"),
            "-C",
            staging.to_str().expect("path"),
            "package",
        ])
        .status()
        .expect("tar");
    assert!(status.success());

    let out = fhirreg(&[
        "package",
        "install",
        tgz.to_str().expect("path"),
        "--cache",
        &cache_arg,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = fhirreg(&["package", "list", "--cache", &cache_arg]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("example.fhir.test#1.0.0"));
    let out = fhirreg(&[
        "package",
        "show",
        "example.fhir.test#1.0.0",
        "--cache",
        &cache_arg,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("depends on: hl7.fhir.r4.core#4.0.1") && text.contains("1 CodeSystem"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&cache);
    let _ = std::fs::remove_dir_all(&staging);
    let _ = std::fs::remove_file(&tgz);
}

/// A package .tgz made by `tar` from a package.json (and one CodeSystem).
fn package_tgz(dir: &Path, name: &str, version: &str, dependencies: &str) -> Vec<u8> {
    let staging = dir.join(format!("{name}-{version}"));
    std::fs::create_dir_all(staging.join("package")).expect("staging");
    std::fs::write(
        staging.join("package/package.json"),
        format!(r#"{{"name":"{name}","version":"{version}","dependencies":{dependencies}}}"#),
    )
    .expect("write");
    std::fs::write(
        staging.join("package/CodeSystem-cs.json"),
        format!(
            r#"{{"resourceType":"CodeSystem","id":"cs","url":"http://example.org/{name}","status":"active","content":"complete"}}"#
        ),
    )
    .expect("write");
    let tgz = staging.with_extension("tgz");
    let status = Command::new("tar")
        .args(["czf", tgz.to_str().expect("path"), "-C"])
        .arg(&staging)
        .arg("package")
        .status()
        .expect("tar");
    assert!(status.success());
    std::fs::read(&tgz).expect("tgz")
}

/// A package's published versions: (version, tgz).
type Versions<'a> = Vec<(&'a str, Vec<u8>)>;

/// A package registry on 127.0.0.1 serving `packages` (id, versions) the
/// way FHIR registries do; ends with the test process.
fn loopback_registry(packages: &[(&str, Versions)]) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let mut routes = std::collections::HashMap::new();
    for (id, versions) in packages {
        let mut entries = serde_json::Map::new();
        for (version, tgz) in versions {
            let (shasum, integrity) = fhirreg::package_client::npm_dist_digests(tgz);
            entries.insert(
                (*version).to_owned(),
                serde_json::json!({"dist": {
                    "tarball": format!("{base}/{id}/{version}"),
                    "shasum": shasum, "integrity": integrity}}),
            );
            routes.insert(format!("/{id}/{version}"), tgz.clone());
        }
        let document = serde_json::json!({"name": id, "versions": entries});
        routes.insert(format!("/{id}"), document.to_string().into_bytes());
    }
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request_line = String::new();
            let mut reader = BufReader::new(&stream);
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // The rest of the head, up to the empty line.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line.split(' ').nth(1).unwrap_or("/");
            let (status, body) = match routes.get(path) {
                Some(body) => ("200 OK", body.clone()),
                None => ("404 Not Found", Vec::new()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    base
}

#[test]
fn package_install_from_a_registry() {
    let work = std::env::temp_dir().join(format!("fhirreg-cli-registry-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let cache = work.join("cache");
    let cache_arg = cache.to_str().expect("path").to_string();
    let app = package_tgz(
        &work,
        "example.fhir.cliapp",
        "1.0.0",
        r#"{"example.fhir.clidep":"~2.1.0","hl7.fhir.r4.core":"4.0.1"}"#,
    );
    let deps: Vec<(&str, Vec<u8>)> = ["2.1.0", "2.1.5", "2.2.0"]
        .into_iter()
        .map(|v| (v, package_tgz(&work, "example.fhir.clidep", v, "{}")))
        .collect();
    let registry = loopback_registry(&[
        ("example.fhir.cliapp", vec![("1.0.0", app)]),
        ("example.fhir.clidep", deps),
    ]);

    let out = fhirreg(&[
        "package",
        "install",
        "example.fhir.cliapp",
        "--registry",
        &registry,
        "--cache",
        &cache_arg,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            format!("installed example.fhir.cliapp#1.0.0 into {cache_arg}"),
            format!("installed example.fhir.clidep#2.1.5 into {cache_arg} (dependency of example.fhir.cliapp#1.0.0)"),
            "skipped hl7.fhir.r4.core#4.0.1 (built into fhirreg) (dependency of example.fhir.cliapp#1.0.0)".to_string(),
        ]
    );
    // The registry from the environment; a version asked for exactly.
    let out = Command::new(env!("CARGO_BIN_EXE_fhirreg"))
        .args([
            "package",
            "install",
            "example.fhir.clidep#2.2.0",
            "--cache",
            &cache_arg,
        ])
        .env("FHIRREG_PACKAGE_REGISTRY", &registry)
        .stdin(Stdio::null())
        .output()
        .expect("run fhirreg");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = fhirreg(&["package", "list", "--cache", &cache_arg]);
    let listed = String::from_utf8_lossy(&out.stdout);
    let ids: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert_eq!(
        ids,
        [
            "example.fhir.cliapp#1.0.0",
            "example.fhir.clidep#2.1.5",
            "example.fhir.clidep#2.2.0"
        ]
    );
    // A range given to --package finds the highest cached version in it.
    let out = Command::new(env!("CARGO_BIN_EXE_fhirreg"))
        .args([
            "resolve",
            "http://example.org/example.fhir.clidep",
            "--package",
            "example.fhir.clidep#~2.1.0",
        ])
        .env("FHIR_PACKAGE_CACHE", &cache)
        .stdin(Stdio::null())
        .output()
        .expect("run fhirreg");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("example.fhir.clidep#2.1.5"), "{stderr}");

    // Errors exit 2 with a message: an unknown package, the size limit.
    for (args, expected) in [
        (vec!["example.fhir.nothing"], "no such package"),
        (
            vec!["example.fhir.clidep#2.1.0", "--max-tarball-size", "100"],
            "larger than the limit of 100 bytes",
        ),
        (vec!["example.fhir.clidep#9"], "no version satisfies '9'"),
    ] {
        let mut all = vec![
            "package",
            "install",
            "--registry",
            &registry,
            "--cache",
            &cache_arg,
        ];
        all.extend(args);
        let out = fhirreg(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn terminology_commands() {
    let gender_vs = "http://hl7.org/fhir/ValueSet/administrative-gender";
    let gender_cs = "http://hl7.org/fhir/administrative-gender";

    let out = fhirreg(&["expand", gender_vs, "--filter", "fem"]);
    assert_eq!(out.status.code(), Some(0));
    let expansion = &json_stdout(&out)["expansion"];
    assert_eq!(expansion["total"], 1, "{expansion}");
    assert_eq!(expansion["contains"][0]["code"], "female");

    let out = fhirreg(&["lookup", gender_cs, "male"]);
    let params = json_stdout(&out);
    assert!(params["parameter"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["name"] == "display" && p["valueString"] == "Male"));

    let out = fhirreg(&["validate-code", gender_vs, gender_cs, "female"]);
    assert_eq!(out.status.code(), Some(0));
    let out = fhirreg(&["validate-code", gender_vs, gender_cs, "kvinne"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_stdout(&out)["parameter"][0]["valueBoolean"], false);

    let out = fhirreg(&[
        "translate",
        "http://hl7.org/fhir/ConceptMap/cm-administrative-gender-v2",
        gender_cs,
        "male",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"M\""));

    let out = fhirreg(&[
        "subsumes",
        "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "_ActAccountCode",
        "CASH",
    ]);
    assert_eq!(json_stdout(&out)["parameter"][0]["valueCode"], "subsumes");

    // An unknown value set is a run error, not a verdict.
    assert_eq!(
        fhirreg(&["expand", "http://example.org/none"])
            .status
            .code(),
        Some(2)
    );
}

/// `fhirreg serve --port 0` binds a free loopback port, says where, and
/// answers FHIR requests there.
#[test]
fn serve_answers_metadata_on_loopback() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_fhirreg"))
        .args(["serve", "--host", "127.0.0.1", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    let mut first_line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut first_line)
        .expect("read");
    let addr = first_line
        .trim()
        .rsplit("http://")
        .next()
        .unwrap_or_default()
        .to_string();
    let response = (|| -> std::io::Result<String> {
        let mut stream = std::net::TcpStream::connect(&addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "GET /metadata HTTP/1.1\r\nHost: {addr}\r\nAccept: application/fhir+json\r\nConnection: close\r\n\r\n"
        )?;
        let mut text = String::new();
        stream.read_to_string(&mut text)?;
        Ok(text)
    })();
    let _ = child.kill();
    let _ = child.wait();
    let response = response.expect("HTTP exchange");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("CapabilityStatement"), "{response}");
}

#[test]
fn extension_domains_accept_unknown_extensions() {
    let path = std::env::temp_dir().join(format!("fhirreg-ext-domain-{}.json", std::process::id()));
    std::fs::write(
        &path,
        r#"{"resourceType": "Patient", "extension": [{"url": "http://acme.org/x", "valueString": "a"}]}"#,
    )
    .expect("write temp file");
    let file = path.to_string_lossy().into_owned();
    let code = |extra: &[&str]| {
        let mut args = vec!["validate", file.as_str()];
        args.extend_from_slice(extra);
        fhirreg(&args).status.code()
    };
    assert_eq!(code(&[]), Some(1), "an unknown extension is an error");
    assert_eq!(code(&["--extension", "http://acme.org/"]), Some(0));
    assert_eq!(code(&["--extension", "any"]), Some(0));
    assert_eq!(code(&["--extension", "http://other.org/"]), Some(1));
    let _ = std::fs::remove_file(&path);
}

/// A fresh temporary folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fhirreg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn patient(active: &str) -> String {
    format!(r#"{{"resourceType":"Patient","active":{active}}}"#)
}

fn stdout_text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Many inputs, valid and invalid mixed (and an unreadable one): the
/// output is the same, in input order, on one thread and on several.
#[test]
fn threads_do_not_change_the_output() {
    let dir = temp_dir("threads");
    let mut ndjson = String::new();
    for i in 0..40 {
        let body = if i % 3 == 0 {
            patient("\"yes\"")
        } else {
            patient("true")
        };
        std::fs::write(dir.join(format!("p{i:02}.json")), &body).expect("write");
        ndjson.push_str(&body);
        ndjson.push('\n');
    }
    std::fs::write(dir.join("bulk.ndjson"), &ndjson).expect("write");
    let dir_arg = dir.to_str().expect("path");
    for format in ["text", "json", "ndjson", "sarif", "junit"] {
        let run = |threads: &str| {
            fhirreg(&[
                "validate",
                dir_arg,
                "no/such/file.json",
                "--output-format",
                format,
                "--threads",
                threads,
            ])
        };
        let one = run("1");
        let two = run("2");
        let default = run("0");
        assert_eq!(one.status.code(), Some(2), "{format}");
        assert!(!one.stdout.is_empty());
        assert_eq!(stdout_text(&one), stdout_text(&two), "{format}");
        assert_eq!(stdout_text(&one), stdout_text(&default), "{format}");
        assert_eq!(one.stderr, two.stderr, "{format}");
    }
    // Input order: the files (sorted), the NDJSON lines, the missing file.
    let output = fhirreg(&[
        "validate",
        dir_arg,
        "--output-format",
        "json",
        "--threads",
        "2",
    ]);
    let bundle = json_stdout(&output);
    let sources: Vec<String> = bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let ext = e["resource"]["extension"].as_array().expect("extension");
            let file = ext[0]["valueString"].as_str().unwrap_or_default();
            let file = Path::new(file)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned());
            match ext.get(1) {
                Some(line) => format!("{}:{}", file.unwrap_or_default(), line["valueInteger"]),
                None => file.unwrap_or_default(),
            }
        })
        .collect();
    let mut expected: Vec<String> = vec![];
    for i in 0..40 {
        expected.push(format!("bulk.ndjson:{}", i + 1));
    }
    for i in 0..40 {
        expected.push(format!("p{i:02}.json"));
    }
    assert_eq!(sources, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn max_issues_cuts_the_issues_and_says_so() {
    let dir = temp_dir("max-issues");
    let file = dir.join("bad.json");
    std::fs::write(
        &file,
        r#"{"resourceType":"Patient","active":"yes","gender":"x","birthDate":"1985-13"}"#,
    )
    .expect("write");
    let file = file.to_str().expect("path");
    let all = json_stdout(&fhirreg(&["validate", file, "--output-format", "json"]));
    let all_issues = all["issue"].as_array().expect("issues").len();
    assert!(all_issues >= 4, "{all}");
    let output = fhirreg(&[
        "validate",
        file,
        "--output-format",
        "json",
        "--max-issues",
        "2",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let cut = json_stdout(&output);
    let issues = cut["issue"].as_array().expect("issues");
    assert_eq!(issues.len(), 3, "{cut}");
    assert_eq!(issues[..2], all["issue"].as_array().expect("issues")[..2]);
    assert_eq!(issues[2]["severity"], "information");
    assert_eq!(issues[2]["code"], "too-costly");
    let message_id = issues[2]["extension"]
        .as_array()
        .and_then(|x| {
            x.iter()
                .find(|e| e["url"].as_str().is_some_and(|u| u.ends_with("message-id")))
        })
        .map(|e| e["valueCode"].clone());
    assert_eq!(
        message_id,
        Some(serde_json::json!("too-many-issues")),
        "{cut}"
    );
    let text = issues[2]["details"]["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with(&format!("{} more issues", all_issues - 2)) && text.contains("at most 2"),
        "{text}"
    );
    // The limit must be at least 1.
    assert_eq!(
        fhirreg(&["validate", file, "--max-issues", "0"])
            .status
            .code(),
        Some(2)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ndjson_is_validated_line_by_line() {
    let dir = temp_dir("ndjson");
    let file = dir.join("bulk.ndjson");
    let content = format!(
        "{}\n\n{}\r\nnot json\n   \n{}",
        patient("true"),
        patient("\"yes\""),
        patient("false")
    );
    std::fs::write(&file, content).expect("write");
    let name = file.to_str().expect("path");

    // ndjson output: one OperationOutcome per non-blank line, with file and line.
    let output = fhirreg(&["validate", name, "--output-format", "ndjson"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout_text(&output);
    let outcomes: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON per line"))
        .collect();
    let summary: Vec<(String, u64, bool)> = outcomes
        .iter()
        .map(|o| {
            assert_eq!(o["resourceType"], "OperationOutcome");
            let ext = o["extension"].as_array().expect("extension");
            assert!(ext[0]["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("operationoutcome-file")));
            assert!(ext[1]["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("operationoutcome-ndjson-line")));
            let bad = o["issue"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|i| matches!(i["severity"].as_str(), Some("error" | "fatal")));
            (
                ext[0]["valueString"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                ext[1]["valueInteger"].as_u64().unwrap_or_default(),
                bad,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (name.to_string(), 1, false),
            (name.to_string(), 3, true),
            (name.to_string(), 4, true),
            (name.to_string(), 6, false),
        ]
    );
    assert_eq!(outcomes[2]["issue"][0]["severity"], "fatal");

    // Text output names each line as an input.
    let output = fhirreg(&["validate", name]);
    let text = stdout_text(&output);
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{name}:3:1:27: error: "))),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{name}:4:1:1: fatal: "))),
        "{text}"
    );
    assert!(!text.contains(&format!("{name}:2:")), "{text}");

    // Several lines with json output: a Bundle of them.
    let bundle = json_stdout(&fhirreg(&["validate", name, "--output-format", "json"]));
    assert_eq!(bundle["entry"].as_array().map(Vec::len), Some(4));

    // A directory picks the .ndjson file up; only valid lines: exit 0.
    std::fs::write(
        &file,
        format!("{}\n{}\n", patient("true"), patient("false")),
    )
    .expect("write");
    let output = fhirreg(&["validate", dir.to_str().expect("path")]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout_text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bulk.ndjson:2: valid"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Standard input as NDJSON: results are written as each batch is done (one
/// line per batch on one thread), before the input ends.
#[test]
fn ndjson_from_stdin_streams() {
    use std::io::{BufRead, BufReader, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_fhirreg"))
        .args([
            "validate",
            "-",
            "--input-format",
            "ndjson",
            "--output-format",
            "ndjson",
            "--threads",
            "1",
        ])
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fhirreg");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    writeln!(stdin, "{}", patient("\"yes\"")).expect("write");
    stdin.flush().expect("flush");
    // The first outcome arrives while standard input is still open.
    let first = receiver.recv_timeout(Duration::from_secs(60));
    writeln!(stdin, "{}", patient("true")).expect("write");
    drop(stdin);
    let second = receiver.recv_timeout(Duration::from_secs(60));
    let status = child.wait().expect("wait");
    let _ = reader.join();
    let first: serde_json::Value =
        serde_json::from_str(&first.expect("first outcome before the input ended")).expect("json");
    assert_eq!(first["extension"][0]["valueString"], "-");
    assert_eq!(first["extension"][1]["valueInteger"], 1);
    assert_eq!(first["issue"][0]["severity"], "error");
    let second: serde_json::Value = serde_json::from_str(&second.expect("second")).expect("json");
    assert_eq!(second["extension"][1]["valueInteger"], 2);
    assert_eq!(status.code(), Some(1));
}

#[test]
fn lang_nb_prints_bokmal() {
    let output = fhirreg(&[
        "validate",
        "--lang",
        "nb",
        "tests/data/patient-invalid.json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("En boolean er enten 'true' eller 'false'"),
        "{text}"
    );
    assert!(text.contains("er ikke en dato"), "{text}");
    // the global option also goes after the inputs, and as a region tag
    let output = fhirreg(&[
        "validate",
        "tests/data/patient-invalid.json",
        "--output-format",
        "json",
        "--lang",
        "nb-NO",
    ]);
    let oo = json_stdout(&output);
    let texts: Vec<&str> = oo["issue"]
        .as_array()
        .expect("issues")
        .iter()
        .filter_map(|i| i["details"]["text"].as_str())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("er ikke definert her")),
        "{texts:?}"
    );
    let english = fhirreg(&["validate", "tests/data/patient-invalid.json"]);
    assert!(String::from_utf8_lossy(&english.stdout).contains("A boolean is either"));
    assert_eq!(
        fhirreg(&[
            "validate",
            "--lang",
            "xx",
            "tests/data/patient-invalid.json"
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn check_id_reports_each_number() {
    let output = fhirreg(&["check-id", "--type", "fnr", "01019000083", "13858510087"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("01019000083: A valid fødselsnummer, birth date 1990-01-01"),
        "{text}"
    );
    assert!(text.contains("Test Norge"), "{text}");
    let output = fhirreg(&[
        "check-id",
        "--type",
        "fnr",
        "--no-synthetic-ids",
        "13858510087",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let output = fhirreg(&["check-id", "--type", "orgnr", "--lang", "nb", "974760672"]);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("kontrollsifferet (siffer 9)"), "{text}");
    let output = fhirreg(&[
        "check-id",
        "--type",
        "dnr",
        "--output-format",
        "json",
        "41127000059",
    ]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(value["valid"], true);
    assert_eq!(value["birthDate"], "1970-12-01");
    assert_eq!(
        fhirreg(&["check-id", "--type", "ssn", "1"]).status.code(),
        Some(2)
    );
}
