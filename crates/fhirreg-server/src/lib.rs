//! fhirreg-server: an HTTP FHIR R4 terminology server and `$validate`
//! endpoint over the same registry the `fhirreg` validator uses (the
//! embedded R4 core plus whatever packages and resources were loaded).
//!
//! It is what `fhirreg serve` runs. Everything is FHIR JSON in and out
//! (`application/fhir+json`); XML request bodies are accepted, and XML
//! responses are given for `_format=xml` or an `Accept` naming XML.
//!
//! # Endpoints
//!
//! | Request | Does |
//! | --- | --- |
//! | `GET /metadata` | CapabilityStatement (`?mode=terminology`: TerminologyCapabilities listing every code system it can check) |
//! | `GET`/`POST /ValueSet/$expand`, `/ValueSet/{id}/$expand` | `url`, `valueSet` (inline), `valueSetVersion`, `filter`, `offset`, `count`, `includeDesignations`, `activeOnly`, `system-version` |
//! | `GET`/`POST /ValueSet/$validate-code`, `/ValueSet/{id}/$validate-code` | `url`, `valueSet`, `valueSetVersion`, `system`, `code`, `display`, `version`, `coding`, `codeableConcept` |
//! | `GET`/`POST /CodeSystem/$lookup`, `/CodeSystem/{id}/$lookup` | `system`, `code`, `version`, `coding`, `property` |
//! | `GET`/`POST /CodeSystem/$validate-code`, `/CodeSystem/{id}/$validate-code` | `url`, `code`, `display`, `coding`, `codeableConcept` |
//! | `GET`/`POST /CodeSystem/$subsumes`, `/CodeSystem/{id}/$subsumes` | `system`, `codeA`, `codeB`, `codingA`, `codingB` |
//! | `GET`/`POST /ConceptMap/$translate`, `/ConceptMap/{id}/$translate` | `url`, `system`, `code`, `coding`, `codeableConcept`, `source`, `target`, `targetsystem` (without `url`, every ConceptMap whose groups fit is used) |
//! | `POST /$validate`, `/{type}/$validate`, `/{type}/{id}/$validate` | a whole resource (JSON or XML) or a Parameters with `resource` (and `profile`); `?profile=` too |
//! | `GET /{type}/{id}` | read a conformance resource the registry holds (ValueSet, CodeSystem, ConceptMap, StructureDefinition, ...) |
//! | `GET /{type}?url=&version=&name=&_id=&_count=` | search: a `searchset` Bundle |
//! | `POST /` | a `batch` Bundle of the requests above; answers a `batch-response` Bundle |
//!
//! Operation results are Parameters shaped as the R4 OperationDefinitions
//! say (`result`, `message`, `display` ...; `$lookup`: `name`, `version`,
//! `display`, `designation`, `property`; `$translate`: `result`,
//! `match` with `equivalence` and `concept`); `$expand` returns the
//! ValueSet with its `expansion`. Resources passed as `tx-resource`
//! parameters (and an inline `valueSet`) are used for that request only.
//! The server answers under any base path made of lowercase segments, so
//! `http://host:port/fhir/ValueSet/$expand` works as well.
//!
//! # Errors and limits
//!
//! Every error is an OperationOutcome with an HTTP status: 400 for bad or
//! missing parameters and unreadable bodies, 404 for unknown resources,
//! value sets, code systems, codes (in `$lookup`/`$subsumes`) and paths,
//! 405 for a wrong method, 413 for a body over the limit, 422 when the
//! input is well-formed but cannot be processed (an expansion too large,
//! a `$validate` body that is not FHIR at all), 408 when a request takes
//! longer than the time limit, 500 if a handler panics (the panic is
//! caught; the server keeps running). `$validate` follows the FHIR spec:
//! 200 with the OperationOutcome whether or not the resource is valid.
//! `$validate-code` likewise answers 200 with `result` false for a bad code.
//!
//! The limits are in [`Limits`]: request bodies up to 10 MiB
//! ([`Limits::max_body_bytes`], checked on `Content-Length` and while
//! reading), 30 seconds per request ([`Limits::request_timeout`]: the
//! client gets a 408 then, though a computation already running finishes
//! in the background), 1000 entries per batch Bundle, and 32 requests
//! computing at once ([`Limits::max_concurrent`]; others wait their turn
//! within their time limit).
//!
//! # Performance
//!
//! Each request's work runs on tokio's blocking pool; the terminology
//! engine compiles each CodeSystem and ValueSet once and keeps it for the
//! server's lifetime, so repeated `$validate-code` calls are hash lookups.
//! `examples/load.rs` (a bounded load generator on loopback) measured, on
//! a shared 2-core machine with client and server on the same cores, a
//! release build and a mix of `$validate-code`, `$expand`, `$lookup` and
//! `$validate` of a small Patient: 15 000-32 000 requests/s over 8
//! keep-alive connections (p50 0.2-0.3 ms, p99 0.7-5 ms) and 13 000-24 000
//! requests/s over 64 connections (p99 8-17 ms), varying with what else
//! the machine runs. The first
//! `metadata?mode=terminology` takes about 0.2 s (it reads every
//! CodeSystem once: about 1200 with the embedded terminology layer) and is
//! cached after that.
//!
//! # Pointing the HL7 Java validator at it
//!
//! Start `fhirreg serve --port 8080` and run the Java validator with
//! `-tx http://127.0.0.1:8080`. The validator calls `GET /metadata`
//! (`?_summary=true`) and `GET /metadata?mode=terminology` to learn which
//! code systems the server has, then `POST /ValueSet/$validate-code` (with
//! the value set inline as `valueSet` or by `url`, codings as `coding` or
//! `codeableConcept`, extra resources as `tx-resource`), `POST
//! /ValueSet/$expand`, `POST /CodeSystem/$lookup`, and batch Bundles of
//! `$validate-code` requests on `POST /`: all of these are served. Its
//! other parameters (`cache-id`, `profile`, `diagnostics`,
//! `default-to-latest-version`, ...) are accepted and ignored. Codes from
//! systems the registry does not hold (SNOMED CT, LOINC ...) come back as
//! valid but *not checked* (`x-caused-by-unknown-system`).
//!
//! # Use
//!
//! ```no_run
//! let validator = fhirreg::Validator::builder().build()?;
//! fhirreg_server::run("127.0.0.1:8080", validator)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Or inside an existing tokio runtime:
//!
//! ```no_run
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let validator = fhirreg::Validator::builder().build()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! fhirreg_server::serve(listener, fhirreg_server::ServerState::new(validator)).await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod conformance;
mod http;
mod ops;
mod params;

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use fhirreg::terminology::Terminology;
use fhirreg::Validator;
use serde_json::Value;

/// Errors starting or running the server (request errors never end up
/// here: they are answered with an OperationOutcome).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The tokio runtime could not be built.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// Accepting or serving connections failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Request limits. The defaults are 10 MiB bodies, 30 s per request,
/// 1000 entries per batch Bundle and 32 requests computing at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted (larger ones get 413).
    pub max_body_bytes: usize,
    /// Longest a request may take, reading its body included (then 408).
    pub request_timeout: Duration,
    /// Most entries in a batch Bundle on `POST /` (more get 413).
    pub max_batch_entries: usize,
    /// Most requests computing at once; more wait for a slot (within
    /// their time limit). A request that timed out keeps its slot until
    /// its computation really ends, so abandoned work stays bounded too.
    pub max_concurrent: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 10 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_batch_entries: 1000,
            max_concurrent: 32,
        }
    }
}

/// What the handlers share: the validator, its terminology engine (whose
/// caches live as long as the server) and the limits. Cheap to clone.
#[derive(Clone)]
pub struct ServerState {
    inner: Arc<Inner>,
}

struct Inner {
    validator: Validator,
    terminology: Terminology,
    limits: Limits,
    slots: Arc<tokio::sync::Semaphore>,
    capability: OnceLock<Value>,
    terminology_capabilities: OnceLock<Value>,
}

impl ServerState {
    /// State over a validator, with the default [`Limits`].
    pub fn new(validator: Validator) -> ServerState {
        ServerState::with_limits(validator, Limits::default())
    }

    /// State over a validator, with these limits.
    pub fn with_limits(validator: Validator, limits: Limits) -> ServerState {
        ServerState {
            inner: Arc::new(Inner {
                terminology: validator.terminology(),
                validator,
                slots: Arc::new(tokio::sync::Semaphore::new(limits.max_concurrent.max(1))),
                limits,
                capability: OnceLock::new(),
                terminology_capabilities: OnceLock::new(),
            }),
        }
    }

    /// The validator (and through it the registry) the server answers from.
    pub fn validator(&self) -> &Validator {
        &self.inner.validator
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub(crate) fn terminology(&self) -> &Terminology {
        &self.inner.terminology
    }

    pub(crate) fn slots(&self) -> Arc<tokio::sync::Semaphore> {
        self.inner.slots.clone()
    }

    pub(crate) fn registry(&self) -> &fhirreg::Registry {
        self.inner.validator.registry()
    }
}

/// The HTTP application: every route, the time limit and the panic guard.
/// Serve it with `axum::serve`, or drive it in tests with
/// `tower::ServiceExt::oneshot`.
pub fn router(state: ServerState) -> axum::Router {
    http::router(state)
}

/// Serve on an already bound listener until accepting fails. Runs in
/// any tokio runtime; the work of each request runs on its blocking pool,
/// so a multi-thread runtime serves several requests at once.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ServerState,
) -> Result<(), ServerError> {
    axum::serve(listener, router(state)).await?;
    Ok(())
}

/// Like [`serve`], stopping gracefully (in-flight requests finish) when
/// `shutdown` completes.
pub async fn serve_with_shutdown(
    listener: tokio::net::TcpListener,
    state: ServerState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Build a small multi-thread runtime, bind `addr` (`host:port`; port 0
/// picks a free one), print `fhirreg server listening on http://ADDR` on
/// stdout and serve until Ctrl-C. This is what `fhirreg serve` calls.
pub fn run(addr: &str, validator: Validator) -> Result<(), ServerError> {
    run_with_limits(addr, validator, Limits::default())
}

/// [`run`] with explicit [`Limits`].
pub fn run_with_limits(
    addr: &str,
    validator: Validator,
    limits: Limits,
) -> Result<(), ServerError> {
    let workers = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(2)
        .clamp(1, 4);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .max_blocking_threads(workers * 8)
        .thread_name("fhirreg-server")
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind {
                addr: addr.to_owned(),
                source,
            })?;
        let bound = listener.local_addr()?;
        let mut stdout = std::io::stdout();
        // A closed stdout must not stop the server.
        let _ = writeln!(stdout, "fhirreg server listening on http://{bound}");
        let _ = stdout.flush();
        let state = ServerState::with_limits(validator, limits);
        serve_with_shutdown(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    })
}
