//! Load generator: a real `twinscape serve` (this build, release) on
//! loopback, 64 concurrent keep-alive connections, GET twin and PATCH twin
//! requests per second with p50/p99 latency.
//!
//! Run: `cargo bench -p twinscape --bench load`
//! (`TWINSCAPE_LOAD_SECS`, `TWINSCAPE_LOAD_CONNS`, `TWINSCAPE_LOAD_TWINS` tune it;
//! `TWINSCAPE_LOAD_BIN` measures another `twinscape` binary).

#[path = "common/mod.rs"]
mod common;
#[allow(dead_code)] // shared with the tests
#[path = "../tests/harness/http.rs"]
mod http;
#[allow(dead_code)] // shared with the other benches
#[path = "common/server.rs"]
mod server;

use common::fmt;
use http::Conn;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Phase {
    name: &'static str,
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

async fn run_phase(
    name: &'static str,
    addr: &str,
    conns: usize,
    secs: u64,
    twins: usize,
    make: fn(usize, u64) -> (String, String, Vec<u8>),
) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (addr, stop) = (addr.to_string(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&addr).await.expect("connect");
            let mut lat = Vec::new();
            let (mut n, mut errors) = (0u64, 0u64);
            let mut rng = 0x9E37_79B9u64 ^ c as u64;
            while !stop.load(Ordering::Relaxed) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let (method, path, body) = make((rng as usize) % twins, n);
                let ct = if method == "PATCH" {
                    "application/json-patch+json"
                } else {
                    "application/json"
                };
                let t = Instant::now();
                match conn
                    .call(&method, &path, ct, &body)
                    .await
                    .map(|(status, _)| status)
                {
                    Ok(s) if (200..300).contains(&s) => {}
                    Ok(_) => errors += 1,
                    Err(_) => {
                        errors += 1;
                        conn = Conn::open(&addr).await.expect("reconnect");
                    }
                }
                lat.push(t.elapsed());
                n += 1;
            }
            (n, errors, lat)
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut phase = Phase {
        name,
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for t in tasks {
        if let Ok((n, e, lat)) = t.await {
            phase.requests += n;
            phase.errors += e;
            phase.latencies.extend(lat);
        }
    }
    phase.elapsed = start.elapsed();
    phase.latencies.sort_unstable();
    phase
}

fn get_twin(i: usize, _n: u64) -> (String, String, Vec<u8>) {
    (
        "GET".into(),
        format!("/digitaltwins/t{i}?api-version=2023-10-31"),
        Vec::new(),
    )
}

fn patch_twin(i: usize, n: u64) -> (String, String, Vec<u8>) {
    let body = format!(
        "[{{\"op\":\"replace\",\"path\":\"/temperature\",\"value\":{}.5}}]",
        n % 40
    );
    (
        "PATCH".into(),
        format!("/digitaltwins/t{i}?api-version=2023-10-31"),
        body.into_bytes(),
    )
}

fn main() {
    let secs = env_or("TWINSCAPE_LOAD_SECS", 10) as u64;
    let conns = env_or("TWINSCAPE_LOAD_CONNS", 64);
    let twins = env_or("TWINSCAPE_LOAD_TWINS", 10_000);
    let data = tempfile::tempdir().expect("temp dir");
    // `TWINSCAPE_LOAD_BIN`: another build (say, of an earlier commit) to compare with.
    let bin = std::env::var("TWINSCAPE_LOAD_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_twinscape").to_string());
    let (mut child, addr) = server::start_server(&bin, data.path());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut c = Conn::open(&addr).await.expect("connect");
        let model = serde_json::json!([{
            "@id": "dtmi:twinscape:load:Room;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3",
            "contents": [{"@type": "Property", "name": "temperature", "schema": "double"},
                         {"@type": "Property", "name": "name", "schema": "string"}]
        }]);
        let s = c.call("POST", "/models?api-version=2023-10-31", "application/json", model.to_string().as_bytes()).await.expect("models").0;
        assert_eq!(s, 201);
        let t = Instant::now();
        for i in 0..twins {
            let doc = format!("{{\"$metadata\":{{\"$model\":\"dtmi:twinscape:load:Room;1\"}},\"name\":\"Room {i}\",\"temperature\":20.5}}");
            let s = c.call("PUT", &format!("/digitaltwins/t{i}?api-version=2023-10-31"), "application/json", doc.as_bytes()).await.expect("put").0;
            assert_eq!(s, 200);
        }
        println!("created {twins} twins over one connection in {:.2} s", t.elapsed().as_secs_f64());
        println!("{conns} connections, {secs} s per phase, server on {addr}");
        for (name, make) in [("GET twin", get_twin as fn(usize, u64) -> _), ("PATCH twin (durable)", patch_twin)] {
            let p = run_phase(name, &addr, conns, secs, twins, make).await;
            let q = |f: f64| p.latencies.get(((p.latencies.len() as f64 - 1.0) * f) as usize).copied().unwrap_or_default();
            println!(
                "{:<22} {:>9.0} req/s  p50 {:>9}  p99 {:>9}  errors {}",
                p.name,
                p.requests as f64 / p.elapsed.as_secs_f64(),
                fmt(q(0.5)),
                fmt(q(0.99)),
                p.errors
            );
        }
        println!("ADT's documented per-instance limits: 1,000 twin reads/s and 1,000 patches/s (docs/adt-api.md §4)");
    });
    let _ = child.kill();
    let _ = child.wait();
}
