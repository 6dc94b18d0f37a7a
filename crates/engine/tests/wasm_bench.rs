//! The engine in the browser (issue 5): a 100,000-twin snapshot loaded and
//! queried in headless Chromium, with the queries of `benches/query.rs`.
//! A benchmark, not a test: it runs only for wasm32, through
//! `scripts/bench-browser` (wasm-bindgen-test-runner + chromedriver), and
//! prints its timings. `TWINSCAPE_BENCH_TWINS` at build time sets the size.
//!
//! The snapshot is what a replica receives from the server: the models, the
//! twins and the relationships as stored ADT JSON, one JSON document. It is
//! built here (the browser has no server to ask), then timed from the text:
//! parse, then load into a fresh engine. Timings use `performance.now()`,
//! whose resolution the browser coarsens (to 100 µs without cross-origin
//! isolation), so fast operations are timed in batches and reported per
//! operation.
#![cfg(target_arch = "wasm32")]

use serde_json::Value as Json;
use twinscape_demo::synthetic::{self, Item, Synthetic};
use twinscape_engine::{Engine, EngineConfig, QueryOptions};
use twinscape_graph::{Precondition, Timestamp};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Milliseconds as text with a sensible unit.
fn fmt_ms(ms: f64) -> String {
    if ms < 0.01 {
        format!("{:.0} ns", ms * 1e6)
    } else if ms < 10.0 {
        format!("{:.1} µs", ms * 1e3)
    } else {
        format!("{ms:.1} ms")
    }
}

/// `samples` timings of `batch` calls each; prints the median and p99 per
/// call.
fn time(name: &str, samples: usize, batch: usize, mut f: impl FnMut(usize)) {
    let mut per_call: Vec<f64> = Vec::with_capacity(samples);
    let mut i = 0;
    for _ in 0..samples {
        let t = now_ms();
        for _ in 0..batch {
            f(i);
            i += 1;
        }
        per_call.push((now_ms() - t) / batch as f64);
    }
    per_call.sort_by(f64::total_cmp);
    let q = |p: f64| per_call[((per_call.len() - 1) as f64 * p).round() as usize];
    console_log!(
        "{name:<58} median {:>9}  p99 {:>9}  ({samples} × {batch})",
        fmt_ms(q(0.5)),
        fmt_ms(q(0.99))
    );
}

/// Runs a query to its end (pages of 1,000) as JSON text; rows returned.
fn run(engine: &Engine, text: &str) -> usize {
    let mut opts = QueryOptions {
        page_size: Some(1_000),
        continuation: None,
    };
    let mut rows = 0;
    loop {
        let page = match engine.query_json(text, &opts) {
            Ok(p) => p,
            Err(e) => panic!("{text}: {e}"),
        };
        rows += page.count;
        match page.continuation {
            Some(c) => opts.continuation = Some(c),
            None => return rows,
        }
    }
}

fn wasm_memory_mib() -> f64 {
    (core::arch::wasm32::memory_size(0) * 65_536) as f64 / (1024.0 * 1024.0)
}

#[wasm_bindgen_test]
fn browser_benchmark() {
    let n: usize = option_env!("TWINSCAPE_BENCH_TWINS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let at = Timestamp::parse("2025-01-01T00:00:00Z").unwrap_or(Timestamp(0));
    let synth = Synthetic::with_twins(n, 42);
    let buildings = synth.buildings;

    // The server side, to produce the snapshot.
    let t = now_ms();
    let mut source = Engine::default();
    if let Err(e) = source.add_models(&synthetic::models()) {
        panic!("models: {e}");
    }
    let mut twins = 0;
    for item in synth.items() {
        let r = match &item {
            Item::Twin { id, doc } => {
                twins += 1;
                source.import_twin(id, doc, at)
            }
            Item::Relationship { source: s, id, doc } => source.import_relationship(s, id, doc, at),
        };
        if let Err(e) = r {
            panic!("{e}");
        }
    }
    let import_ms = now_ms() - t;
    console_log!(
        "twinscape engine in the browser: {twins} twins, {} relationships, {buildings} buildings",
        source.graph().relationship_count()
    );
    console_log!(
        "bulk import with DTDL validation (generator included): {:.0} ms = {:.0} twins/s",
        import_ms,
        twins as f64 / (import_ms / 1000.0)
    );
    let mut snapshot: Vec<u8> = Vec::with_capacity(twins * 700);
    snapshot.extend_from_slice(b"{\"models\":");
    snapshot.extend_from_slice(Json::Array(synthetic::models()).to_string().as_bytes());
    snapshot.extend_from_slice(b",\"twins\":[");
    for (i, (_, twin)) in source.graph().twins().enumerate() {
        if i > 0 {
            snapshot.push(b',');
        }
        twin.write_json(source.graph().symbols(), &mut snapshot);
    }
    snapshot.extend_from_slice(b"],\"relationships\":[");
    for (i, rel) in source.graph().relationships().enumerate() {
        if i > 0 {
            snapshot.push(b',');
        }
        source.graph().write_relationship_json(rel, &mut snapshot);
    }
    snapshot.extend_from_slice(b"]}");
    drop(source);

    // The replica: parse the snapshot, load it.
    let mem0 = wasm_memory_mib();
    let t = now_ms();
    let doc: Json = match serde_json::from_slice(&snapshot) {
        Ok(d) => d,
        Err(e) => panic!("snapshot: {e}"),
    };
    let parse_ms = now_ms() - t;
    let t = now_ms();
    let mut engine = Engine::new(EngineConfig::default());
    let empty = Vec::new();
    let list = |k: &str| doc.get(k).and_then(Json::as_array).unwrap_or(&empty);
    if let Err(e) = engine.load_models(list("models")) {
        panic!("models: {e}");
    }
    for t in list("twins") {
        if let Err(e) = engine.load_twin(t) {
            panic!("{e}");
        }
    }
    for r in list("relationships") {
        if let Err(e) = engine.load_relationship(r) {
            panic!("{e}");
        }
    }
    let load_ms = now_ms() - t;
    drop(doc);
    console_log!(
        "snapshot {:.1} MiB: parse {:.0} ms + load {:.0} ms = {:.0} ms ({:.0} twins/s); wasm memory {:.0} MiB (was {:.0} MiB before the snapshot was parsed)",
        snapshot.len() as f64 / (1024.0 * 1024.0),
        parse_ms,
        load_ms,
        parse_ms + load_ms,
        twins as f64 / ((parse_ms + load_ms) / 1000.0),
        wasm_memory_mib(),
        mem0
    );
    drop(snapshot);

    // Reads and queries, as benches/query.rs runs them natively.
    let id = |i: usize| {
        let b = (i * 7919) % buildings;
        match i % 4 {
            0 => format!("b{b}-f{}", i % 10),
            1 => format!("b{b}-f{}-r{}", i % 10, (i / 10) % 20),
            2 => format!("b{b}-f{}-r{}-s{}", i % 10, (i / 10) % 20, i % 2),
            _ => format!("b{b}-k{}-srv{}", i % 4, (i / 4) % 20),
        }
    };
    let ids: Vec<String> = (0..10_000).map(id).collect();
    let mut buf = Vec::with_capacity(1024);
    time("get twin by id (lookup)", 50, 1000, |i| {
        std::hint::black_box(engine.graph().twin(&ids[i % ids.len()]));
    });
    time("get twin by id as JSON bytes", 50, 1000, |i| {
        buf.clear();
        std::hint::black_box(
            engine
                .graph()
                .write_twin_json(&ids[i % ids.len()], &mut buf),
        );
    });
    let rooms: Vec<String> = (0..10_000)
        .map(|i| format!("b{}-f{}-r{}", (i * 31) % buildings, i % 10, (i / 10) % 20))
        .collect();
    let patches: Vec<Json> = (0..100)
        .map(|i| {
            serde_json::json!([{"op": "replace", "path": "/temperature", "value": 20.0 + i as f64 / 10.0}])
        })
        .collect();
    let room = synthetic::ROOM;
    let range = format!(
        "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '{room}') AND T.temperature > 29.5"
    );
    let range_rows = run(&engine, &range);
    time(
        &format!("IS_OF_MODEL(Room) AND temperature > 29.5, unindexed ({range_rows} rows)"),
        20,
        1,
        |_| {
            std::hint::black_box(run(&engine, &range));
        },
    );
    let count = format!("SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('{room}')");
    time("COUNT() IS_OF_MODEL(Room)", 20, 100, |_| {
        std::hint::black_box(run(&engine, &count));
    });
    let floors: Vec<String> = (0..1000)
        .map(|i| format!("b{}-f{}", (i * 13) % buildings, i % 10))
        .collect();
    time("2-hop JOIN from a floor (40 sensors)", 50, 20, |i| {
        let q = format!(
            "SELECT S FROM DIGITALTWINS F JOIN R RELATED F.hasRoom JOIN S RELATED R.hasSensor WHERE F.$dtId = '{}'",
            floors[i % floors.len()]
        );
        std::hint::black_box(run(&engine, &q));
    });
    time("2-hop MATCH from a floor (40 sensors)", 50, 20, |i| {
        let q = format!(
            "SELECT S FROM DIGITALTWINS MATCH (F)-[:hasRoom]->(R)-[:hasSensor]->(S) WHERE F.$dtId = '{}'",
            floors[i % floors.len()]
        );
        std::hint::black_box(run(&engine, &q));
    });
    let t = now_ms();
    engine.set_indexed_properties(&["temperature".to_string(), "name".to_string()]);
    console_log!(
        "indexes on temperature and name built in {:.0} ms",
        now_ms() - t
    );
    time("  same range query, temperature indexed", 20, 5, |_| {
        std::hint::black_box(run(&engine, &range));
    });
    time(
        "indexed equality T.name = 'srv-…' (1 row)",
        50,
        100,
        |i| {
            let q = format!(
                "SELECT * FROM DIGITALTWINS T WHERE T.name = 'srv-{}-{}-{}'",
                (i * 17) % buildings,
                i % 4,
                i % 20
            );
            std::hint::black_box(run(&engine, &q));
        },
    );
    // Replicas apply deltas rather than validated patches; the validated
    // path is timed as well since the same engine runs it.
    time(
        "validated patch (replace /temperature of a Room)",
        50,
        100,
        |i| {
            if let Err(e) = engine.update_twin(
                &rooms[i % rooms.len()],
                &patches[i % patches.len()],
                &Precondition::None,
                at,
            ) {
                panic!("{e}");
            }
        },
    );
    console_log!("wasm memory at the end: {:.0} MiB", wasm_memory_mib());
}
