//! The server over HTTP: most tests drive the router in process
//! (`tower::ServiceExt::oneshot`); `real_socket` goes through a loopback
//! TCP connection.

use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use fhirreg_server::{router, Limits, ServerState};
use serde_json::{json, Value};
use tower::ServiceExt;

const GENDER_VS: &str = "http://hl7.org/fhir/ValueSet/administrative-gender";
const GENDER_CS: &str = "http://hl7.org/fhir/administrative-gender";

fn validator() -> fhirreg::Validator {
    static VALIDATOR: OnceLock<fhirreg::Validator> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| fhirreg::Validator::builder().build().expect("validator"))
        .clone()
}

fn state() -> ServerState {
    static STATE: OnceLock<ServerState> = OnceLock::new();
    STATE.get_or_init(|| ServerState::new(validator())).clone()
}

struct Reply {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

async fn send_to(state: ServerState, request: Request<Body>) -> Reply {
    let response = router(state).oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    Reply {
        status,
        content_type,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(uri: &str) -> Reply {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    send_to(state(), request).await
}

async fn post(uri: &str, body: impl Into<Body>) -> Reply {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/fhir+json")
        .body(body.into())
        .expect("request");
    send_to(state(), request).await
}

async fn post_json(uri: &str, body: &Value) -> Reply {
    post(uri, body.to_string()).await
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The value of the first parameter `name` (its `value[x]` or `part`).
fn param<'a>(parameters: &'a Value, name: &str) -> Option<&'a Value> {
    parameters["parameter"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| {
            p.as_object()?
                .iter()
                .find(|(k, _)| k.starts_with("value") || *k == "part" || *k == "resource")
                .map(|(_, v)| v)
        })
}

fn codes(expansion: &Value) -> Vec<String> {
    expansion["expansion"]["contains"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|c| c["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn assert_outcome(reply: &Reply, status: StatusCode, text: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert!(reply.content_type.starts_with("application/fhir+json"));
    let oo = reply.json();
    assert_eq!(oo["resourceType"], "OperationOutcome", "{oo}");
    let message = oo["issue"][0]["details"]["text"].as_str().unwrap_or("");
    assert!(message.contains(text), "{message:?} lacks {text:?}");
}

#[tokio::test]
async fn metadata_is_a_capability_statement() {
    let reply = get("/metadata").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type.starts_with("application/fhir+json"));
    let cs = reply.json();
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    let resources = cs["rest"][0]["resource"].as_array().expect("resources");
    let vs = resources
        .iter()
        .find(|r| r["type"] == "ValueSet")
        .expect("ValueSet");
    assert!(vs["operation"]
        .as_array()
        .expect("ops")
        .iter()
        .any(|o| o["name"] == "expand"));
}

#[tokio::test]
async fn metadata_terminology_mode_lists_code_systems() {
    let tc = get("/metadata?mode=terminology").await.json();
    assert_eq!(tc["resourceType"], "TerminologyCapabilities");
    let uris: Vec<&str> = tc["codeSystem"]
        .as_array()
        .expect("codeSystem")
        .iter()
        .filter_map(|c| c["uri"].as_str())
        .collect();
    assert!(uris.contains(&GENDER_CS));
    assert!(uris.contains(&"http://unitsofmeasure.org"));
    // SNOMED CT's stub (content not-present) is not offered.
    assert!(!uris.contains(&"http://snomed.info/sct"));
}

#[tokio::test]
async fn metadata_as_xml() {
    let reply = get("/metadata?_format=xml").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type.starts_with("application/fhir+xml"));
    assert!(
        reply.text.contains("<CapabilityStatement"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn expand_administrative_gender() {
    let reply = get(&format!("/ValueSet/$expand?url={}", enc(GENDER_VS))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let vs = reply.json();
    assert_eq!(vs["resourceType"], "ValueSet");
    assert_eq!(vs["expansion"]["total"], 4);
    assert_eq!(codes(&vs), ["male", "female", "other", "unknown"]);

    let filtered = get(&format!(
        "/ValueSet/$expand?url={}&filter=fem",
        enc(GENDER_VS)
    ))
    .await
    .json();
    assert_eq!(codes(&filtered), ["female"]);

    let page = get(&format!(
        "/ValueSet/$expand?url={}&offset=1&count=2",
        enc(GENDER_VS)
    ))
    .await
    .json();
    assert_eq!(codes(&page), ["female", "other"]);

    let by_id = get("/fhir/ValueSet/administrative-gender/$expand").await;
    assert_eq!(codes(&by_id.json()).len(), 4, "{}", by_id.text);
}

#[tokio::test]
async fn expand_inline_value_set_by_post() {
    let body = json!({"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "resource": {"resourceType": "ValueSet", "status": "active",
            "compose": {"include": [{"system": GENDER_CS,
                "concept": [{"code": "male"}, {"code": "unknown"}]}]}}},
        {"name": "count", "valueInteger": 10}
    ]});
    let reply = post_json("/ValueSet/$expand", &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(codes(&reply.json()), ["male", "unknown"]);
}

#[tokio::test]
async fn validate_code_good_and_bad() {
    let good = get(&format!(
        "/ValueSet/$validate-code?url={}&system={}&code=male",
        enc(GENDER_VS),
        enc(GENDER_CS)
    ))
    .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.text);
    let good = good.json();
    assert_eq!(param(&good, "result"), Some(&json!(true)), "{good}");
    assert_eq!(param(&good, "display"), Some(&json!("Male")));

    let bad = get(&format!(
        "/ValueSet/$validate-code?url={}&system={}&code=xyz",
        enc(GENDER_VS),
        enc(GENDER_CS)
    ))
    .await;
    assert_eq!(bad.status, StatusCode::OK);
    let bad = bad.json();
    assert_eq!(param(&bad, "result"), Some(&json!(false)), "{bad}");
    let message = param(&bad, "message").and_then(Value::as_str).unwrap_or("");
    assert!(message.contains("xyz"), "{message}");
}

#[tokio::test]
async fn validate_code_by_post_with_codeable_concept_and_coding() {
    let cc = json!({"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": GENDER_VS},
        {"name": "codeableConcept", "valueCodeableConcept": {"coding": [
            {"system": "http://example.org/other", "code": "x"},
            {"system": GENDER_CS, "code": "female"}]}}
    ]});
    let reply = post_json("/ValueSet/$validate-code", &cc).await.json();
    assert_eq!(param(&reply, "result"), Some(&json!(true)), "{reply}");

    let wrong_display = json!({"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": GENDER_VS},
        {"name": "coding", "valueCoding": {"system": GENDER_CS, "code": "female", "display": "Woman"}}
    ]});
    let reply = post_json("/ValueSet/$validate-code", &wrong_display)
        .await
        .json();
    let message = param(&reply, "message")
        .and_then(Value::as_str)
        .unwrap_or("");
    assert!(message.contains("Woman"), "{reply}");
}

#[tokio::test]
async fn codesystem_validate_code() {
    let good = get(&format!(
        "/CodeSystem/$validate-code?url={}&code=other",
        enc(GENDER_CS)
    ))
    .await
    .json();
    assert_eq!(param(&good, "result"), Some(&json!(true)), "{good}");
    let bad = get("/CodeSystem/administrative-gender/$validate-code?code=Male")
        .await
        .json();
    assert_eq!(param(&bad, "result"), Some(&json!(false)), "{bad}");
}

#[tokio::test]
async fn lookup_known_and_unknown() {
    let reply = get(&format!(
        "/CodeSystem/$lookup?system={}&code=male",
        enc(GENDER_CS)
    ))
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let p = reply.json();
    assert_eq!(
        param(&p, "name"),
        Some(&json!("AdministrativeGender")),
        "{p}"
    );
    assert_eq!(param(&p, "display"), Some(&json!("Male")));
    assert_eq!(param(&p, "version"), Some(&json!("4.0.1")));

    let missing = get(&format!(
        "/CodeSystem/$lookup?system={}&code=nope",
        enc(GENDER_CS)
    ))
    .await;
    assert_outcome(&missing, StatusCode::NOT_FOUND, "nope");

    let ucum = post_json(
        "/CodeSystem/$lookup",
        &json!({"resourceType": "Parameters", "parameter": [
            {"name": "coding", "valueCoding": {"system": "http://unitsofmeasure.org", "code": "mg/dL"}}]}),
    )
    .await
    .json();
    assert_eq!(
        param(&ucum, "display"),
        Some(&json!("milligram / deciliter"))
    );
}

#[tokio::test]
async fn subsumes() {
    let same = get(&format!(
        "/CodeSystem/$subsumes?system={}&codeA=male&codeB=male",
        enc(GENDER_CS)
    ))
    .await
    .json();
    assert_eq!(
        param(&same, "outcome"),
        Some(&json!("equivalent")),
        "{same}"
    );
    let apart = get(&format!(
        "/CodeSystem/$subsumes?system={}&codeA=male&codeB=female",
        enc(GENDER_CS)
    ))
    .await
    .json();
    assert_eq!(param(&apart, "outcome"), Some(&json!("not-subsumed")));

    // A hierarchy: v3 ActCode's _ActEncounterCode has AMB below it.
    let actcode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    let down = get(&format!(
        "/CodeSystem/$subsumes?system={}&codeA=_ActEncounterCode&codeB=AMB",
        enc(actcode)
    ))
    .await;
    assert_eq!(
        param(&down.json(), "outcome"),
        Some(&json!("subsumes")),
        "{}",
        down.text
    );
    let up = get(&format!(
        "/CodeSystem/$subsumes?system={}&codeA=AMB&codeB=_ActEncounterCode",
        enc(actcode)
    ))
    .await
    .json();
    assert_eq!(param(&up, "outcome"), Some(&json!("subsumed-by")));
}

#[tokio::test]
async fn translate_with_a_core_concept_map() {
    let cm = "http://hl7.org/fhir/ConceptMap/cm-administrative-gender-v2";
    let reply = get(&format!(
        "/ConceptMap/$translate?url={}&system={}&code=male",
        enc(cm),
        enc(GENDER_CS)
    ))
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let p = reply.json();
    assert_eq!(param(&p, "result"), Some(&json!(true)), "{p}");
    let matched = param(&p, "match").expect("match");
    let concept = matched
        .as_array()
        .and_then(|parts| parts.iter().find(|x| x["name"] == "concept"))
        .expect("concept");
    assert_eq!(concept["valueCoding"]["code"], "M");
    assert_eq!(
        concept["valueCoding"]["system"],
        "http://terminology.hl7.org/CodeSystem/v2-0001"
    );

    // Without a url, the maps from the system to the target system are used.
    let found = get(&format!(
        "/ConceptMap/$translate?system={}&code=female&targetsystem={}",
        enc(GENDER_CS),
        enc("http://terminology.hl7.org/CodeSystem/v2-0001")
    ))
    .await
    .json();
    assert_eq!(param(&found, "result"), Some(&json!(true)), "{found}");

    let none = get(&format!(
        "/ConceptMap/cm-administrative-gender-v2/$translate?system={}&code=nope",
        enc(GENDER_CS)
    ))
    .await
    .json();
    assert_eq!(param(&none, "result"), Some(&json!(false)), "{none}");
}

#[tokio::test]
async fn validate_answers_in_the_accept_language() {
    let body = r#"{"resourceType":"Patient","active":"yes",
        "identifier":[{"system":"urn:oid:2.16.578.1.12.4.1.4.1","value":"01019000084"}]}"#;
    let texts = |reply: Reply| -> Vec<String> {
        reply.json()["issue"]
            .as_array()
            .expect("issues")
            .iter()
            .filter_map(|i| i["details"]["text"].as_str().map(str::to_owned))
            .collect()
    };
    let ask = |lang: Option<&'static str>| {
        let mut request = Request::post("/Patient/$validate")
            .header(header::CONTENT_TYPE, "application/fhir+json");
        if let Some(lang) = lang {
            request = request.header(header::ACCEPT_LANGUAGE, lang);
        }
        send_to(state(), request.body(Body::from(body)).expect("request"))
    };
    let nb = texts(ask(Some("nb-NO,nb;q=0.9,en;q=0.5")).await);
    assert!(
        nb.iter().any(|t| t.contains("kontrollsifferet"))
            && nb.iter().any(|t| t.contains("boolean er enten")),
        "{nb:?}"
    );
    let en = texts(ask(Some("de, en;q=0.8")).await);
    assert!(en.iter().any(|t| t.contains("control digit")), "{en:?}");
    let default = texts(ask(None).await);
    assert_eq!(default, en);
}

#[tokio::test]
async fn validate_patients() {
    let valid = post(
        "/Patient/$validate",
        r#"{"resourceType":"Patient","active":true}"#,
    )
    .await;
    assert_eq!(valid.status, StatusCode::OK, "{}", valid.text);
    let oo = valid.json();
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert!(
        oo["issue"]
            .as_array()
            .expect("issues")
            .iter()
            .all(|i| i["severity"] != "error"),
        "{oo}"
    );

    let invalid = post(
        "/$validate",
        r#"{"resourceType":"Patient","active":"yes","gender":"man"}"#,
    )
    .await;
    assert_eq!(invalid.status, StatusCode::OK);
    let oo = invalid.json();
    let errors: Vec<&Value> = oo["issue"]
        .as_array()
        .expect("issues")
        .iter()
        .filter(|i| i["severity"] == "error")
        .collect();
    assert!(errors.len() >= 2, "{oo}");

    let wrapped = post_json(
        "/Patient/$validate",
        &json!({"resourceType": "Parameters", "parameter": [
            {"name": "resource", "resource": {"resourceType": "Patient", "gender": "man"}}]}),
    )
    .await
    .json();
    assert!(
        wrapped["issue"]
            .as_array()
            .expect("issues")
            .iter()
            .any(|i| i["severity"] == "error"),
        "{wrapped}"
    );

    let xml = post(
        "/Patient/$validate",
        r#"<Patient xmlns="http://hl7.org/fhir"><active value="true"/></Patient>"#,
    )
    .await;
    assert_eq!(xml.status, StatusCode::OK, "{}", xml.text);
    assert!(!xml.text.contains("\"error\""), "{}", xml.text);

    let mismatch = post("/Observation/$validate", r#"{"resourceType":"Patient"}"#).await;
    assert_outcome(&mismatch, StatusCode::BAD_REQUEST, "Patient");

    let garbage = post("/$validate", "hello").await;
    assert_eq!(
        garbage.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        garbage.text
    );
}

#[tokio::test]
async fn bad_requests_are_operation_outcomes() {
    assert_outcome(
        &get("/ValueSet/$expand").await,
        StatusCode::BAD_REQUEST,
        "needs a value set",
    );
    assert_outcome(
        &get(&format!(
            "/ValueSet/$expand?url={}&count=many",
            enc(GENDER_VS)
        ))
        .await,
        StatusCode::BAD_REQUEST,
        "count",
    );
    assert_outcome(
        &get("/ValueSet/$expand?url=http%3A%2F%2Fexample.org%2Fnone").await,
        StatusCode::NOT_FOUND,
        "http://example.org/none",
    );
    assert_outcome(
        &post("/ValueSet/$validate-code", "{not json").await,
        StatusCode::BAD_REQUEST,
        "JSON",
    );
    assert_outcome(
        &post_json("/CodeSystem/$lookup", &json!({"resourceType": "Patient"})).await,
        StatusCode::BAD_REQUEST,
        "Parameters",
    );
    assert_outcome(
        &get("/ValueSet/$frobnicate").await,
        StatusCode::NOT_FOUND,
        "not supported",
    );
    assert_outcome(
        &get("/$validate").await,
        StatusCode::METHOD_NOT_ALLOWED,
        "$validate",
    );
    assert_outcome(&get("/ValueSet/nope").await, StatusCode::NOT_FOUND, "nope");
    assert_outcome(
        &get("/Frobnicate/x").await,
        StatusCode::NOT_FOUND,
        "Frobnicate",
    );
}

#[tokio::test]
async fn read_and_search() {
    let vs = get("/ValueSet/administrative-gender").await;
    assert_eq!(vs.status, StatusCode::OK);
    assert_eq!(vs.json()["url"], GENDER_VS);

    let bundle = get(&format!("/ValueSet?url={}", enc(GENDER_VS)))
        .await
        .json();
    assert_eq!(bundle["type"], "searchset");
    assert_eq!(bundle["total"], 1, "{bundle}");
    assert_eq!(
        bundle["entry"][0]["resource"]["id"],
        "administrative-gender"
    );

    let sd =
        get("/StructureDefinition?url=http%3A%2F%2Fhl7.org%2Ffhir%2FStructureDefinition%2FPatient")
            .await
            .json();
    assert_eq!(sd["entry"][0]["resource"]["type"], "Patient");

    let capped = get("/CodeSystem?_count=3").await.json();
    assert_eq!(capped["entry"].as_array().map(Vec::len), Some(3));
    assert!(capped["total"].as_u64().unwrap_or(0) > 3);
}

#[tokio::test]
async fn batch_of_validate_code() {
    let entry = |code: &str| {
        json!({
            "request": {"method": "POST", "url": "ValueSet/$validate-code"},
            "resource": {"resourceType": "Parameters", "parameter": [
                {"name": "url", "valueUri": GENDER_VS},
                {"name": "coding", "valueCoding": {"system": GENDER_CS, "code": code}}]}
        })
    };
    let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        entry("male"),
        entry("bogus"),
        {"request": {"method": "GET", "url": "ValueSet/$expand?url=http://example.org/none"}}
    ]});
    let reply = post_json("/", &bundle).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let out = reply.json();
    assert_eq!(out["type"], "batch-response");
    let entries = out["entry"].as_array().expect("entries");
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["response"]["status"], "200 OK");
    assert_eq!(param(&entries[0]["resource"], "result"), Some(&json!(true)));
    assert_eq!(
        param(&entries[1]["resource"], "result"),
        Some(&json!(false))
    );
    assert_eq!(entries[2]["response"]["status"], "404 Not Found");
    assert_eq!(entries[2]["resource"]["resourceType"], "OperationOutcome");

    let transaction = json!({"resourceType": "Bundle", "type": "transaction"});
    assert_eq!(
        post_json("/", &transaction).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

fn small_state(limits: Limits) -> ServerState {
    ServerState::with_limits(validator(), limits)
}

#[tokio::test]
async fn oversize_body_is_413() {
    let state = small_state(Limits {
        max_body_bytes: 1000,
        ..Limits::default()
    });
    let big = format!(
        r#"{{"resourceType":"Patient","text":{{"div":"{}"}}}}"#,
        "x".repeat(2000)
    );
    // No Content-Length: the limit bites while reading.
    let request = Request::post("/$validate")
        .body(Body::from(big.clone()))
        .expect("request");
    let reply = send_to(state.clone(), request).await;
    assert_outcome(&reply, StatusCode::PAYLOAD_TOO_LARGE, "1000 bytes");

    // Declared too large: refused before reading.
    let request = Request::post("/$validate")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big))
        .expect("request");
    let reply = send_to(state.clone(), request).await;
    assert_outcome(&reply, StatusCode::PAYLOAD_TOO_LARGE, "1000 bytes");

    // Under the limit is fine.
    let request = Request::post("/$validate")
        .body(Body::from(r#"{"resourceType":"Patient"}"#))
        .expect("request");
    assert_eq!(send_to(state, request).await.status, StatusCode::OK);
}

#[tokio::test]
async fn slow_request_times_out_with_408() {
    let state = small_state(Limits {
        request_timeout: Duration::from_millis(200),
        ..Limits::default()
    });
    // A body that never finishes: reading it runs into the time limit.
    let (sender, body) = http_body_util::channel::Channel::<axum::body::Bytes>::new(1);
    let request = Request::post("/$validate")
        .body(Body::new(body))
        .expect("request");
    let reply = send_to(state, request).await;
    drop(sender);
    assert_outcome(&reply, StatusCode::REQUEST_TIMEOUT, "limit");
}

/// Through a real TCP connection on 127.0.0.1 (ephemeral port), with a
/// plain hyper HTTP/1.1 client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_socket() {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper_util::rt::TokioIo;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = small_state(Limits {
        max_body_bytes: 4096,
        ..Limits::default()
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(fhirreg_server::serve_with_shutdown(
        listener,
        state,
        async {
            let _ = stopped.await;
        },
    ));

    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    let driver = tokio::spawn(connection);

    // hyper refuses a request until the connection is ready for it.
    async fn send(
        sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
        request: hyper::Request<Full<Bytes>>,
    ) -> hyper::Result<hyper::Response<hyper::body::Incoming>> {
        sender.ready().await?;
        sender.send_request(request).await
    }
    let response = send(
        &mut sender,
        hyper::Request::get(format!("http://{addr}/metadata"))
            .header("host", addr.to_string())
            .body(Full::new(Bytes::new()))
            .expect("request"),
    )
    .await
    .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let cs: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(cs["resourceType"], "CapabilityStatement");

    // Same connection (keep-alive): validate-code, then an oversize body.
    let response = send(
        &mut sender,
        hyper::Request::get(format!(
            "/ValueSet/$validate-code?url={}&code=female",
            enc(GENDER_VS)
        ))
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .expect("request"),
    )
    .await
    .expect("response");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let p: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(param(&p, "result"), Some(&json!(true)), "{p}");

    let response = send(
        &mut sender,
        hyper::Request::post("/$validate")
            .header("host", addr.to_string())
            .body(Full::new(Bytes::from(vec![b' '; 10_000])))
            .expect("request"),
    )
    .await
    .expect("response");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let oo: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(oo["resourceType"], "OperationOutcome");

    let _ = stop.send(());
    driver.abort();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stops")
        .expect("join")
        .expect("serve");
}

#[tokio::test]
async fn tx_resources_are_used_for_the_request_only() {
    let cs = json!({"resourceType": "CodeSystem", "url": "http://example.org/cs/colour",
        "version": "1", "status": "active", "content": "complete",
        "concept": [{"code": "red", "display": "Red"}, {"code": "blue", "display": "Blue"}]});
    let vs = json!({"resourceType": "ValueSet", "url": "http://example.org/vs/colour",
        "status": "active", "compose": {"include": [{"system": "http://example.org/cs/colour"}]}});
    let body = |code: &str| {
        json!({"resourceType": "Parameters", "parameter": [
            {"name": "url", "valueUri": "http://example.org/vs/colour"},
            {"name": "coding", "valueCoding": {"system": "http://example.org/cs/colour", "code": code}},
            {"name": "tx-resource", "resource": cs},
            {"name": "tx-resource", "resource": vs}
        ]})
    };
    let red = post_json("/ValueSet/$validate-code", &body("red"))
        .await
        .json();
    assert_eq!(param(&red, "result"), Some(&json!(true)), "{red}");
    assert_eq!(param(&red, "display"), Some(&json!("Red")));
    let green = post_json("/ValueSet/$validate-code", &body("green"))
        .await
        .json();
    assert_eq!(param(&green, "result"), Some(&json!(false)), "{green}");
    // Not kept: without the tx-resources the value set is unknown.
    let later =
        get("/ValueSet/$validate-code?url=http%3A%2F%2Fexample.org%2Fvs%2Fcolour&code=red").await;
    assert_eq!(later.status, StatusCode::NOT_FOUND, "{}", later.text);
}

#[tokio::test]
async fn form_encoded_post_is_read_as_parameters() {
    let request = Request::post("/CodeSystem/$lookup")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("system={}&code=female", enc(GENDER_CS))))
        .expect("request");
    let reply = send_to(state(), request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(param(&reply.json(), "display"), Some(&json!("Female")));
}

#[tokio::test]
async fn unknown_system_is_not_checked_and_named() {
    let reply = get(&format!(
        "/CodeSystem/$validate-code?url={}&code=27113001",
        enc("http://snomed.info/sct")
    ))
    .await
    .json();
    assert_eq!(param(&reply, "result"), Some(&json!(true)), "{reply}");
    let unknown = reply["parameter"]
        .as_array()
        .and_then(|l| l.iter().find(|p| p["name"] == "x-caused-by-unknown-system"))
        .expect("x-caused-by-unknown-system");
    assert_eq!(
        unknown["valueCanonical"], "http://snomed.info/sct",
        "{reply}"
    );
}

/// Several loopback connections at once on a multi-thread runtime:
/// every answer is right (bounded: 4 connections x 25 requests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_connections() {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper_util::rt::TokioIo;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(fhirreg_server::serve(listener, state()));
    let mut clients = Vec::new();
    for c in 0..4 {
        clients.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .expect("handshake");
            let driver = tokio::spawn(connection);
            let mut results = Vec::new();
            for i in 0..25 {
                let code = if (c + i) % 2 == 0 { "male" } else { "nonsense" };
                let request = hyper::Request::get(format!(
                    "/ValueSet/$validate-code?url={}&system={}&code={code}",
                    enc(GENDER_VS),
                    enc(GENDER_CS)
                ))
                .header("host", addr.to_string())
                .body(Full::new(Bytes::new()))
                .expect("request");
                sender.ready().await.expect("ready");
                let response = sender.send_request(request).await.expect("response");
                assert_eq!(response.status(), StatusCode::OK);
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .expect("body")
                    .to_bytes();
                let p: Value = serde_json::from_slice(&body).expect("json");
                results.push((code == "male", param(&p, "result") == Some(&json!(true))));
            }
            driver.abort();
            results
        }));
    }
    let mut answered = 0;
    for client in clients {
        let results = tokio::time::timeout(Duration::from_secs(60), client)
            .await
            .expect("in time")
            .expect("join");
        for (expected, got) in results {
            assert_eq!(expected, got);
            answered += 1;
        }
    }
    assert_eq!(answered, 100);
    server.abort();
}
