//! Server startup with a large stored graph: fills a data dir with N twins
//! (default 1,000,000) and their ~3N relationships from the synthetic
//! generator, then times `twinscape serve` (this build, release) from spawn
//! to "listening", which includes opening the store and loading every model,
//! twin and relationship into the engine.
//!
//! Run: `cargo bench -p twinscape --bench startup` (`TWINSCAPE_BENCH_TWINS` for another size).

#[path = "common/mod.rs"]
mod common;

use serde_json::{Value as Json, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;
use twinscape_demo::synthetic::{Item, Synthetic, models};
use twinscape_engine::Engine;
use twinscape_graph::Timestamp;
use twinscape_store::{RedbStore, Store, Table, WriteBatch};

fn main() {
    let n = common::twins_from_env(1_000_000);
    let synth = Synthetic::with_twins(n, 7);
    let dir = tempfile::tempdir().expect("temp dir");
    // `TWINSCAPE_BENCH_KEEP=1`: leave the data dir behind (for profiling a start).
    let keep = std::env::var_os("TWINSCAPE_BENCH_KEEP").is_some();
    let now = Timestamp::parse("2025-01-01T00:00:00Z").unwrap_or(Timestamp(0));

    // Build the graph once with the engine's bulk path to get stored documents.
    let t = Instant::now();
    let mut engine = Engine::default();
    engine.add_models(&models()).expect("synthetic models");
    for item in synth.items() {
        match item {
            Item::Twin { id, doc } => engine.import_twin(&id, &doc, now).expect("twin"),
            Item::Relationship { source, id, doc } => engine
                .import_relationship(&source, &id, &doc, now)
                .expect("relationship"),
        }
    }
    println!(
        "generated {} twins + {} relationships in {:.1} s",
        engine.graph().twin_count(),
        engine.graph().relationship_count(),
        t.elapsed().as_secs_f64()
    );

    // Write them into a data dir exactly as the server stores them.
    let t = Instant::now();
    {
        let store = RedbStore::open(dir.path()).expect("open store");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let mut batch = WriteBatch::new();
        for m in models() {
            let id = m["@id"].as_str().unwrap_or_default().to_string();
            let row = json!({"model": m, "uploadTime": now.to_string(), "decommissioned": false});
            batch.put(
                Table::Models,
                id,
                serde_json::to_vec(&row).unwrap_or_default(),
            );
        }
        let flush = |batch: &mut WriteBatch| {
            let b = std::mem::take(batch);
            rt.block_on(store.commit(b)).expect("commit");
        };
        let graph = engine.graph();
        for (i, (_, twin)) in graph.twins().enumerate() {
            let doc: Json = twin.to_json(graph.symbols());
            batch.put(
                Table::Twins,
                twin.id.to_string(),
                serde_json::to_vec(&doc).unwrap_or_default(),
            );
            if i % 20_000 == 19_999 {
                flush(&mut batch);
            }
        }
        for (i, rel) in graph.relationships().enumerate() {
            let doc = graph.relationship_json(rel);
            let key = format!(
                "{}\u{1f}{}",
                doc["$sourceId"].as_str().unwrap_or_default(),
                doc["$relationshipId"].as_str().unwrap_or_default()
            );
            batch.put(
                Table::Relationships,
                key,
                serde_json::to_vec(&doc).unwrap_or_default(),
            );
            if i % 50_000 == 49_999 {
                flush(&mut batch);
            }
        }
        flush(&mut batch);
    }
    drop(engine);
    println!("wrote the data dir in {:.1} s", t.elapsed().as_secs_f64());

    // Start the server on it, twice: the second start finds the file in the page cache.
    let bin = env!("CARGO_BIN_EXE_twinscape");
    let help = Command::new(bin)
        .args(["serve", "--help"])
        .output()
        .expect("twinscape");
    let auth: &[&str] = if String::from_utf8_lossy(&help.stdout).contains("--auth") {
        &["--auth", "none"]
    } else {
        &[]
    };
    for run in ["first start", "second start"] {
        let t = Instant::now();
        let mut child = Command::new(bin)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(auth)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let stderr = child.stderr.take().expect("stderr");
        let loaded = std::thread::spawn(move || {
            BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .find(|l| l.contains("loaded ") && l.contains(" twins"))
        });
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        while out.read_line(&mut line).unwrap_or(0) > 0 && !line.contains("listening on") {
            line.clear();
        }
        let elapsed = t.elapsed();
        let _ = child.kill();
        let _ = child.wait();
        let detail = loaded.join().ok().flatten().unwrap_or_default();
        println!(
            "{run}: spawn → listening in {:.2} s  [{}]",
            elapsed.as_secs_f64(),
            detail
                .split("loaded")
                .nth(1)
                .map(|d| format!("loaded{d}"))
                .unwrap_or_default()
        );
    }
    if keep {
        let kept = dir.keep();
        println!("kept the data dir: {}", kept.display());
    }
}
