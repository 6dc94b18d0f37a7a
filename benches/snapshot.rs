//! Writers while a live client loads a snapshot of a big graph (issue 11):
//! a real `twinscape serve` (this build, release, auth on, durable store)
//! on a data dir with N twins (default 1,000,000) and ~3N relationships; a
//! writer PATCHes twins at a steady rate over one keep-alive connection and
//! records each PATCH's latency (when it was due → 204 read), first with no
//! live client (the baseline, same process, same server), then while a
//! WebSocket client on `/live` reads a full snapshot as fast as it can.
//! Target: PATCH p99 under 20 ms during the snapshot.
//!
//! Run: `cargo bench -p twinscape --bench snapshot`
//! (`TWINSCAPE_BENCH_TWINS` graph size; `TWINSCAPE_SNAPSHOT_RATE` PATCHes/s,
//! default 200; `TWINSCAPE_SNAPSHOT_BIN` another `twinscape` binary, measured
//! after this one on the same data dir, e.g. a build of an earlier commit).

#[path = "common/mod.rs"]
mod common;
#[path = "common/data.rs"]
mod data;
#[allow(dead_code)] // shared with the tests
#[path = "../tests/harness/http.rs"]
mod http;
#[allow(dead_code)] // shared with the other benches
#[path = "common/server.rs"]
mod server;

use common::{Stats, fmt};
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use twinscape_demo::synthetic::Synthetic;
use twinscape_graph::Timestamp;

/// PATCHes the `temperature` of `twins` in turn at `rate`/s until `stop`;
/// returns each latency.
async fn writer(
    addr: String,
    token: String,
    twins: Arc<Vec<String>>,
    rate: u64,
    stop: Arc<AtomicBool>,
) -> Vec<Duration> {
    let mut conn = http::Conn::open(&addr)
        .await
        .expect("connect")
        .with_token(&token);
    let period = Duration::from_micros(1_000_000 / rate.max(1));
    let mut next = Instant::now();
    let mut out = Vec::new();
    let mut k = 0u64;
    while !stop.load(Ordering::Relaxed) {
        // Latency counts from when the PATCH was due, not from when it was
        // sent: a writer held up by the server sends late, and that wait is
        // part of what a client at this rate would see (no coordinated
        // omission).
        let due = next;
        let now = Instant::now();
        if due > now {
            tokio::time::sleep(due - now).await;
        }
        next += period;
        let id = &twins[(k as usize * 7919) % twins.len()];
        let body = format!(
            r#"[{{"op":"replace","path":"/temperature","value":{}}}]"#,
            15 + k % 10
        );
        let (status, _) = conn
            .call(
                "PATCH",
                &format!("/digitaltwins/{id}?api-version=2023-10-31"),
                "application/json-patch+json",
                body.as_bytes(),
            )
            .await
            .expect("patch");
        assert_eq!(status, 204, "PATCH {id}");
        out.push(due.elapsed());
        k += 1;
    }
    out
}

/// Reads a whole snapshot over `/live`; returns (twins, relationships, time).
async fn load_snapshot(addr: &str, token: &str) -> (usize, usize, Duration) {
    let t = Instant::now();
    let config = WebSocketConfig::default().max_message_size(Some(256 << 20));
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(
        format!("ws://{addr}/live"),
        Some(config),
        false,
    )
    .await
    .expect("websocket");
    let hello = serde_json::json!({"type": "hello", "token": token}).to_string();
    ws.send(Message::Text(hello.into())).await.expect("hello");
    let (mut twins, mut rels) = (0, 0);
    while let Some(msg) = ws.next().await {
        let Ok(Message::Text(text)) = msg else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        match v["type"].as_str() {
            Some("snapshot") => {
                twins += v["twins"].as_array().map_or(0, Vec::len);
                rels += v["relationships"].as_array().map_or(0, Vec::len);
            }
            Some("snapshotEnd") => break,
            Some("error") => panic!("live feed: {v}"),
            _ => {}
        }
    }
    (twins, rels, t.elapsed())
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let s = Stats { samples };
    println!(
        "{label:<24} {:>6} patches  p50 {:>9}  p99 {:>9}  max {:>9}",
        s.samples.len(),
        fmt(s.median()),
        fmt(s.p99()),
        fmt(s.quantile(1.0))
    );
}

fn main() {
    let n = common::twins_from_env(1_000_000);
    let rate: u64 = std::env::var("TWINSCAPE_SNAPSHOT_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().expect("temp dir");
    let now = Timestamp::parse("2025-01-01T00:00:00Z").unwrap_or(Timestamp(0));
    let warm = Arc::new(data::fill(dir.path(), &Synthetic::with_twins(n, 7), now));
    assert!(!warm.is_empty(), "the synthetic graph has rooms");
    // This build, then (if named) another one on the same data dir.
    let mut bins = vec![env!("CARGO_BIN_EXE_twinscape").to_string()];
    bins.extend(std::env::var("TWINSCAPE_SNAPSHOT_BIN"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for bin in bins {
        let t = Instant::now();
        let (mut child, addr, token) = server::start_with_auth(&bin, dir.path());
        println!("server up in {:.1} s ({bin})", t.elapsed().as_secs_f64());
        rt.block_on(measure(&addr, &token, &warm, rate));
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The writer alone, then while a client loads three snapshots in a row.
async fn measure(addr: &str, token: &str, warm: &Arc<Vec<String>>, rate: u64) {
    let start_writer = || {
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(writer(
            addr.to_string(),
            token.to_string(),
            warm.clone(),
            rate,
            stop.clone(),
        ));
        (stop, task)
    };
    let (stop, w) = start_writer();
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    report("no live client", w.await.expect("writer"));
    for round in 1..=3 {
        let (stop, w) = start_writer();
        let (twins, rels, took) = load_snapshot(addr, token).await;
        stop.store(true, Ordering::Relaxed);
        let during = w.await.expect("writer");
        println!(
            "snapshot {round}: {twins} twins + {rels} relationships in {:.2} s",
            took.as_secs_f64()
        );
        report(&format!("during snapshot {round}"), during);
    }
}
