//! A data dir holding a large synthetic graph, stored exactly as the server
//! stores it (for the benches that start a server on a big graph).

use serde_json::{Value as Json, json};
use std::time::Instant;
use twinscape_demo::synthetic::{Item, Synthetic, models};
use twinscape_engine::Engine;
use twinscape_graph::Timestamp;
use twinscape_store::{RedbStore, Store, Table, WriteBatch};

/// Writes `synth`'s models, twins and relationships into `dir`'s store;
/// returns the ids of (at most 10,000) twins with a `temperature`.
pub fn fill(dir: &std::path::Path, synth: &Synthetic, now: Timestamp) -> Vec<String> {
    let mut warm = Vec::new();
    // Build the graph once with the engine's bulk path to get stored documents.
    let t = Instant::now();
    let mut engine = Engine::default();
    engine.add_models(&models()).expect("synthetic models");
    for item in synth.items() {
        match item {
            Item::Twin { id, doc } => {
                if warm.len() < 10_000 && doc.get("temperature").is_some() {
                    warm.push(id.clone());
                }
                engine.import_twin(&id, &doc, now).expect("twin")
            }
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
        let store = RedbStore::open(dir).expect("open store");
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
    warm
}
