//! A bounded load test: N requests over K keep-alive connections to a
//! server on 127.0.0.1, printing requests/s and latency percentiles.
//!
//! ```text
//! cargo run --release -p fhirreg-server --example load -- [N] [K] [ADDR]
//! ```
//!
//! N defaults to 5000 (at most 200000), K to 8 (at most 256). Without
//! ADDR it starts its own server in process on an ephemeral loopback
//! port; with ADDR (`127.0.0.1:8080`) it loads a running `fhirreg serve`
//! (loopback addresses only). The requests cycle through a mix:
//! `ValueSet/$validate-code` (GET), `ValueSet/$expand` (GET),
//! `CodeSystem/$lookup` (GET) and `$validate` of a Patient (POST). The
//! whole run stops after 120 s whatever N is.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

const MAX_REQUESTS: usize = 200_000;
const MAX_CONNECTIONS: usize = 256;
const DEADLINE: Duration = Duration::from_secs(120);

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p1","active":true,"gender":"female","birthDate":"1970-01-01","name":[{"family":"Nordmann","given":["Kari"]}]}"#;

fn request(i: usize, addr: SocketAddr) -> hyper::Request<Full<Bytes>> {
    let vs = "http%3A%2F%2Fhl7.org%2Ffhir%2FValueSet%2Fadministrative-gender";
    let cs = "http%3A%2F%2Fhl7.org%2Ffhir%2Fadministrative-gender";
    let (method, uri, body) = match i % 4 {
        0 => (
            "GET",
            format!("/ValueSet/$validate-code?url={vs}&system={cs}&code=female"),
            "",
        ),
        1 => ("GET", format!("/ValueSet/$expand?url={vs}"), ""),
        2 => (
            "GET",
            format!("/CodeSystem/$lookup?system={cs}&code=male"),
            "",
        ),
        _ => ("POST", "/Patient/$validate".to_owned(), PATIENT),
    };
    hyper::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", addr.to_string())
        .header("content-type", "application/fhir+json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

async fn connection(
    addr: SocketAddr,
    requests: Vec<usize>,
    deadline: Instant,
) -> Result<Vec<Duration>, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let driver = tokio::spawn(conn);
    let mut latencies = Vec::with_capacity(requests.len());
    for i in requests {
        if Instant::now() > deadline {
            break;
        }
        let start = Instant::now();
        // hyper refuses a request until the connection is ready for it.
        sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let response = sender
            .send_request(request(i, addr))
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        if !status.is_success() {
            return Err(format!(
                "request {i}: HTTP {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        latencies.push(start.elapsed());
    }
    driver.abort();
    Ok(latencies)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().map_or(Ok(5000), |a| a.parse())?;
    let k: usize = args.get(1).map_or(Ok(8), |a| a.parse())?;
    let n = n.clamp(1, MAX_REQUESTS);
    let k = k.clamp(1, MAX_CONNECTIONS.min(n));
    let external: Option<SocketAddr> = args.get(2).map(|a| a.parse()).transpose()?;
    if external.is_some_and(|a| !a.ip().is_loopback()) {
        return Err("only loopback addresses may be loaded".into());
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let addr = match external {
            Some(addr) => addr,
            None => {
                let validator = fhirreg::Validator::builder().build()?;
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let addr = listener.local_addr()?;
                let state = fhirreg_server::ServerState::new(validator);
                tokio::spawn(fhirreg_server::serve(listener, state));
                addr
            }
        };
        // Warm up: compile the value set, the code system and the Patient plan.
        let warm = connection(addr, (0..4).collect(), Instant::now() + DEADLINE).await?;
        println!(
            "warm-up (first use of each request kind): {:?}",
            warm.iter()
                .map(|d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
                .collect::<Vec<_>>()
        );

        let deadline = Instant::now() + DEADLINE;
        let start = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..k {
            let share: Vec<usize> = (c..n).step_by(k).collect();
            tasks.push(tokio::spawn(connection(addr, share, deadline)));
        }
        let mut latencies = Vec::with_capacity(n);
        for task in tasks {
            latencies.extend(task.await??);
        }
        let elapsed = start.elapsed();
        latencies.sort();
        let done = latencies.len();
        println!(
            "{done} requests over {k} connections to http://{addr} in {:.2} s: {:.0} requests/s",
            elapsed.as_secs_f64(),
            done as f64 / elapsed.as_secs_f64()
        );
        println!(
            "latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(&latencies, 50.0).as_secs_f64() * 1e3,
            percentile(&latencies, 90.0).as_secs_f64() * 1e3,
            percentile(&latencies, 99.0).as_secs_f64() * 1e3,
            latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
        );
        if done < n {
            println!(
                "stopped at the {} s deadline: {done} of {n} done",
                DEADLINE.as_secs()
            );
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
