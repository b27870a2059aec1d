//! The HTTP side: one dispatcher over the FHIR paths, body limits, the
//! time limit, the panic guard, errors as OperationOutcomes, batches.

use std::any::Any;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use fhirreg::Format;
use serde_json::{json, Value};
use tower_http::catch_panic::CatchPanicLayer;

use crate::params::Params;
use crate::{conformance, ops, ServerState};

/// The FHIR JSON media type.
pub(crate) const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";
const FHIR_XML: &str = "application/fhir+xml; charset=utf-8";

/// A request error, answered as an OperationOutcome with `status`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status}: {message}")]
pub(crate) struct ApiError {
    pub status: StatusCode,
    /// The FHIR `IssueType` code.
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn operation_outcome(&self) -> Value {
        operation_outcome("error", self.code, &self.message)
    }
}

pub(crate) fn operation_outcome(severity: &str, code: &str, message: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "details": {"text": message}}]
    })
}

/// A successful answer: a resource and its status.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub resource: Value,
}

impl Answer {
    pub fn ok(resource: Value) -> Answer {
        Answer {
            status: StatusCode::OK,
            resource,
        }
    }
}

pub(crate) fn router(state: ServerState) -> Router {
    Router::new()
        .fallback(dispatch)
        .with_state(state)
        .layer(CatchPanicLayer::custom(panic_response))
}

fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    fhir_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        &operation_outcome(
            "fatal",
            "exception",
            "Internal error: the request handler panicked",
        ),
        OutputFormat::Json,
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutputFormat {
    Json,
    JsonPretty,
    Xml,
}

fn output_format(query: &str, headers: &HeaderMap) -> OutputFormat {
    let params = Params::from_query(query);
    let pretty = params.text("_pretty").as_deref() == Some("true");
    let wants_xml = match params.text("_format") {
        Some(f) => f.contains("xml"),
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("xml") && !a.contains("json")),
    };
    match (wants_xml, pretty) {
        (true, _) => OutputFormat::Xml,
        (false, true) => OutputFormat::JsonPretty,
        (false, false) => OutputFormat::Json,
    }
}

fn fhir_response(status: StatusCode, resource: &Value, format: OutputFormat) -> Response {
    let json = match format {
        OutputFormat::JsonPretty => serde_json::to_string_pretty(resource),
        _ => serde_json::to_string(resource),
    }
    .unwrap_or_else(|_| String::from("{}"));
    (status, [(header::CONTENT_TYPE, FHIR_JSON)], json).into_response()
}

async fn dispatch(State(state): State<ServerState>, request: Request) -> Response {
    let format = output_format(request.uri().query().unwrap_or(""), request.headers());
    let timeout = state.limits().request_timeout;
    let validator = state.validator().clone();
    let result = match tokio::time::timeout(timeout, handle(state, request)).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!(
                "The request took longer than the server's limit of {} s",
                timeout.as_secs_f64()
            ),
        )),
    };
    let (status, resource) = match result {
        Ok(answer) => (answer.status, answer.resource),
        Err(error) => (error.status, error.operation_outcome()),
    };
    if format == OutputFormat::Xml {
        let json = serde_json::to_vec(&resource).unwrap_or_default();
        if let Ok(xml) = validator.convert(&json, Format::Xml, false) {
            return (status, [(header::CONTENT_TYPE, FHIR_XML)], xml).into_response();
        }
    }
    fhir_response(status, &resource, format)
}

async fn handle(state: ServerState, request: Request) -> Result<Answer, ApiError> {
    let (parts, body) = request.into_parts();
    let limit = state.limits().max_body_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let body = read_body(body, limit).await?;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let lang = parts
        .headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(accept_language)
        .unwrap_or_else(|| state.validator().lang());
    let call = Call {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        content_type,
        body,
        lang,
    };
    // The work is CPU-bound: run it on the blocking pool, so slow
    // expansions or validations do not stall the reactor.
    // One slot per computation, held until it really ends (even past a
    // time-out), so abandoned work cannot pile up.
    let permit = state.slots().acquire_owned().await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "transient",
            "The server is shutting down",
        )
    })?;
    blocking(move || {
        let _permit = permit;
        route(&state, &call, true)
    })
    .await
}

/// Run CPU-bound work on the blocking pool; a panic in it becomes a 500.
async fn blocking(
    work: impl FnOnce() -> Result<Answer, ApiError> + Send + 'static,
) -> Result<Answer, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "exception",
            "Internal error: the request handler panicked",
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "transient",
            "The server is shutting down",
        )),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-costly",
        format!("The request body is larger than the server's limit of {limit} bytes"),
    )
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let inner = e.into_inner();
        if inner
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some()
        {
            too_large(limit)
        } else {
            ApiError::bad_request(format!("Cannot read the request body: {inner}"))
        }
    })
}

/// One request, from the socket or from a batch entry.
pub(crate) struct Call {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub content_type: Option<String>,
    pub body: Bytes,
    /// The language of the messages (`Accept-Language`; the server's
    /// default otherwise). Batch entries take the batch's.
    pub lang: fhirreg::Lang,
}

/// The supported language an `Accept-Language` header prefers most
/// (`nb-NO,nb;q=0.9,en;q=0.8`): the highest `q` among the languages
/// with messages, the first of equal ones; `None` when it names none
/// (`*` included: the server's default stays).
pub(crate) fn accept_language(header: &str) -> Option<fhirreg::Lang> {
    let mut best: Option<(f32, fhirreg::Lang)> = None;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim();
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let Some(lang) = fhirreg::Lang::parse(tag) else {
            continue;
        };
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

impl Call {
    /// The query parameters plus, for a body, its Parameters (JSON, XML
    /// or form-encoded).
    pub fn params(&self, state: &ServerState) -> Result<Params, ApiError> {
        let mut params = Params::from_query(&self.query);
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(params);
        }
        if self
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
        {
            params.add_query(&String::from_utf8_lossy(&self.body));
            return Ok(params);
        }
        let resource = body_json(state, &self.body)?;
        params.add_parameters(&resource)?;
        Ok(params)
    }
}

/// The body as FHIR JSON (an XML body is converted).
pub(crate) fn body_json(state: &ServerState, body: &[u8]) -> Result<Value, ApiError> {
    match Format::sniff(body) {
        Some(Format::Json) => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("The body is not valid JSON: {e}"))),
        Some(Format::Xml) => {
            let json = state
                .validator()
                .convert(body, Format::Json, false)
                .map_err(|e| {
                    ApiError::bad_request(format!("The body is not valid FHIR XML: {e}"))
                })?;
            serde_json::from_str(&json)
                .map_err(|e| ApiError::bad_request(format!("The body is not valid FHIR XML: {e}")))
        }
        None => Err(ApiError::bad_request(
            "The body is neither FHIR JSON nor FHIR XML",
        )),
    }
}

/// Route one call. `top` is false inside a batch (no nested batches).
pub(crate) fn route(state: &ServerState, call: &Call, top: bool) -> Result<Answer, ApiError> {
    let segments: Vec<&str> = call
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .skip_while(|s| {
            // Tolerate a base path such as /fhir or /r4.
            *s != "metadata" && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        })
        .collect();
    let method = &call.method;
    let is_get = *method == Method::GET || *method == Method::HEAD;
    let is_post = *method == Method::POST;
    let operation = |ty: Option<&str>, id: Option<&str>, op: &str| -> Result<Answer, ApiError> {
        if op == "$validate" {
            if !is_post {
                return Err(method_not_allowed(method, "$validate"));
            }
            return ops::validate(state, call, ty);
        }
        if !is_get && !is_post {
            return Err(method_not_allowed(method, op));
        }
        let params = call.params(state)?;
        match (ty, op) {
            (Some("ValueSet"), "$expand") => ops::expand(state, &params, id),
            (Some("ValueSet"), "$validate-code") => ops::validate_code_vs(state, &params, id),
            (Some("CodeSystem"), "$lookup") => ops::lookup(state, &params, id),
            (Some("CodeSystem"), "$validate-code") => ops::validate_code_cs(state, &params, id),
            (Some("CodeSystem"), "$subsumes") => ops::subsumes(state, &params, id),
            (Some("ConceptMap"), "$translate") => ops::translate(state, &params, id),
            _ => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not-supported",
                format!(
                    "The operation {}{op} is not supported by this server",
                    ty.map(|t| format!("{t}/")).unwrap_or_default()
                ),
            )),
        }
    };
    match segments.as_slice() {
        [] if is_get => Ok(Answer::ok(conformance::capability_statement(state))),
        [] if is_post && top => batch(state, call),
        [] if is_post => Err(ApiError::bad_request(
            "A batch entry cannot itself be a batch",
        )),
        [] => Err(method_not_allowed(method, "/")),
        ["metadata"] if is_get => {
            let params = Params::from_query(&call.query);
            Ok(Answer::ok(match params.text("mode").as_deref() {
                Some("terminology") => conformance::terminology_capabilities(state),
                _ => conformance::capability_statement(state),
            }))
        }
        ["metadata"] => Err(method_not_allowed(method, "metadata")),
        [op] if op.starts_with('$') => operation(None, None, op),
        [ty, op] if op.starts_with('$') => operation(Some(ty), None, op),
        [ty, id, op] if op.starts_with('$') => operation(Some(ty), Some(id), op),
        [ty] if is_get => conformance::search(state, ty, &Params::from_query(&call.query)),
        [ty, id] if is_get => conformance::read(state, ty, id),
        [_] | [_, _] => Err(method_not_allowed(method, &call.path)),
        _ => Err(ApiError::not_found(format!(
            "No such resource or operation: {}",
            call.path
        ))),
    }
}

fn method_not_allowed(method: &Method, what: &str) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "not-supported",
        format!("{method} is not supported on {what}"),
    )
}

/// `POST /` with a batch Bundle: each entry routed as its own request.
fn batch(state: &ServerState, call: &Call) -> Result<Answer, ApiError> {
    let bundle = body_json(state, &call.body)?;
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err(ApiError::bad_request("POST / takes a Bundle of type batch"));
    }
    match bundle.get("type").and_then(Value::as_str) {
        Some("batch") => {}
        Some("transaction") => {
            return Err(ApiError::unprocessable(
                "not-supported",
                "Transactions are not supported (this server stores nothing); send a batch",
            ))
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "POST / takes a Bundle of type batch, not {}",
                other.unwrap_or("(none)")
            )))
        }
    }
    let entries = bundle
        .get("entry")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let max = state.limits().max_batch_entries;
    if entries.len() > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-costly",
            format!(
                "The batch has {} entries, more than the server's limit of {max}",
                entries.len()
            ),
        ));
    }
    let responses: Vec<Value> = entries
        .iter()
        .map(|e| batch_entry(state, e, call.lang))
        .collect();
    Ok(Answer::ok(json!({
        "resourceType": "Bundle",
        "type": "batch-response",
        "entry": responses
    })))
}

fn batch_entry(state: &ServerState, entry: &Value, lang: fhirreg::Lang) -> Value {
    let result = entry_call(entry, lang).and_then(|call| route(state, &call, false));
    let (status, resource) = match result {
        Ok(answer) => (answer.status, answer.resource),
        Err(error) => (error.status, error.operation_outcome()),
    };
    let status_text = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let mut response = json!({"status": status_text.trim_end()});
    if !status.is_success() {
        response["outcome"] = resource.clone();
    }
    json!({"resource": resource, "response": response})
}

fn entry_call(entry: &Value, lang: fhirreg::Lang) -> Result<Call, ApiError> {
    let request = entry
        .get("request")
        .ok_or_else(|| ApiError::bad_request("The batch entry has no request"))?;
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .ok_or_else(|| ApiError::bad_request("The batch entry has no valid request.method"))?;
    let url = request
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("The batch entry has no request.url"))?;
    // Entries carry relative URLs; strip a scheme and host if given.
    let absolute = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    let url = match absolute {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    };
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let body = match entry.get("resource") {
        Some(resource) => Bytes::from(serde_json::to_vec(resource).unwrap_or_default()),
        None => Bytes::new(),
    };
    Ok(Call {
        method,
        path: format!("/{}", path.trim_start_matches('/')),
        query: query.to_owned(),
        content_type: Some(FHIR_JSON.to_owned()),
        body,
        lang,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_gives_a_500_outcome() {
        let app = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("boom");
                    }
                    "unreachable"
                }),
            )
            .layer(CatchPanicLayer::custom(panic_response));
        let request = Request::get("/boom").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let oo: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(oo["resourceType"], "OperationOutcome");
        assert_eq!(oo["issue"][0]["severity"], "fatal");
    }

    #[tokio::test]
    async fn a_panic_on_the_blocking_pool_gives_a_500() {
        let result = blocking(|| {
            if std::hint::black_box(true) {
                panic!("boom");
            }
            Err(ApiError::bad_request("unreachable"))
        })
        .await;
        let error = result.err().unwrap();
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        let ok = blocking(|| Ok(Answer::ok(json!({"resourceType": "Parameters"})))).await;
        assert_eq!(ok.ok().unwrap().status, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_request_waits_for_a_free_slot_within_its_time_limit() {
        let validator = fhirreg::Validator::builder().build().unwrap();
        let limits = crate::Limits {
            max_concurrent: 1,
            request_timeout: std::time::Duration::from_millis(200),
            ..crate::Limits::default()
        };
        let state = ServerState::with_limits(validator, limits);
        let app = router(state.clone());
        let request = || Request::get("/metadata").body(Body::empty()).unwrap();
        // The only slot is taken: the request times out waiting.
        let taken = state.slots().acquire_owned().await.unwrap();
        let response = app.clone().oneshot(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
        // Freed: the same request goes through.
        drop(taken);
        let response = app.oneshot(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[test]
    fn batch_entry_urls() {
        let entry = json!({"request": {"method": "GET",
            "url": "https://tx.example.org/r4/ValueSet/$expand?url=http://x/vs"}});
        let call = entry_call(&entry, fhirreg::Lang::En).unwrap();
        assert_eq!(call.path, "/r4/ValueSet/$expand");
        assert_eq!(call.query, "url=http://x/vs");
        let relative =
            json!({"request": {"method": "POST", "url": "CodeSystem/$lookup?x=http://y"}});
        let call = entry_call(&relative, fhirreg::Lang::En).unwrap();
        assert_eq!(call.path, "/CodeSystem/$lookup");
        assert_eq!(call.method, Method::POST);
        assert!(entry_call(&json!({"request": {"method": "GET"}}), fhirreg::Lang::En).is_err());
    }

    #[test]
    fn output_format_from_query_and_accept() {
        let mut headers = HeaderMap::new();
        assert_eq!(output_format("", &headers), OutputFormat::Json);
        assert_eq!(output_format("_format=xml", &headers), OutputFormat::Xml);
        assert_eq!(
            output_format("_pretty=true", &headers),
            OutputFormat::JsonPretty
        );
        headers.insert(header::ACCEPT, "application/fhir+xml".parse().unwrap());
        assert_eq!(output_format("", &headers), OutputFormat::Xml);
        assert_eq!(output_format("_format=json", &headers), OutputFormat::Json);
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        use fhirreg::Lang;
        assert_eq!(accept_language("nb-NO,nb;q=0.9,en;q=0.8"), Some(Lang::Nb));
        assert_eq!(accept_language("sv, no;q=0.5, en;q=0.7"), Some(Lang::En));
        assert_eq!(accept_language("en;q=0.2, nn"), Some(Lang::Nb));
        assert_eq!(accept_language("nb;q=0, en;q=0.1"), Some(Lang::En));
        assert_eq!(accept_language("*"), None);
        assert_eq!(accept_language("de-DE"), None);
        assert_eq!(accept_language(""), None);
    }
}
