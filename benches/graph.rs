//! Twin graph benchmark: bulk load, memory, get by id, validated patch, on a
//! synthetic building graph (1,000,000 twins by default; set
//! `TWINSCAPE_BENCH_TWINS` for another size).
//!
//! Run: `cargo bench -p twinscape-graph --bench graph`

#[path = "common/mod.rs"]
mod common;

use common::{Rng, Stats, mib, rss_bytes};
use serde_json::json;
use std::time::Instant;
use twinscape_demo::synthetic::{Item, Synthetic};
use twinscape_graph::{AnyModel, Ctx, Precondition, Timestamp, TwinGraph};

fn main() {
    let n = common::twins_from_env(1_000_000);
    let synth = Synthetic::with_twins(n, 42);
    println!(
        "generating {} twins in {} buildings…",
        synth.twin_count(),
        synth.buildings
    );
    let items: Vec<Item> = synth.items().collect();
    let twin_ids: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            Item::Twin { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect();
    let room_ids: Vec<String> = twin_ids
        .iter()
        .filter(|id| id.matches('-').count() == 2 && id.contains("-r"))
        .cloned()
        .collect();

    let now = Timestamp::parse("2025-01-01T00:00:00Z").unwrap_or(Timestamp(0));
    let ctx = Ctx {
        models: &AnyModel,
        now,
    };
    let rss0 = rss_bytes();
    let mut g = TwinGraph::new(1);
    let t = Instant::now();
    let (mut tw, mut rl) = (0usize, 0usize);
    let (mut t_twins, mut t_rels) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for item in &items {
        let t0 = Instant::now();
        match item {
            Item::Twin { id, doc } => {
                g.create_or_replace_twin(&ctx, id, doc, &Precondition::None)
                    .expect("twin");
                tw += 1;
                t_twins += t0.elapsed();
            }
            Item::Relationship { source, id, doc } => {
                g.create_or_replace_relationship(&ctx, source, id, doc, &Precondition::None)
                    .expect("relationship");
                rl += 1;
                t_rels += t0.elapsed();
            }
        }
    }
    let load = t.elapsed();
    println!(
        "create path: {:.0} twins/s, {:.0} relationships/s",
        tw as f64 / t_twins.as_secs_f64(),
        rl as f64 / t_rels.as_secs_f64()
    );
    let rss1 = rss_bytes();
    drop(items);
    println!(
        "bulk load: {tw} twins + {rl} relationships in {:.2} s = {:.0} items/s ({:.0} twins/s counting twins only)",
        load.as_secs_f64(),
        (tw + rl) as f64 / load.as_secs_f64(),
        tw as f64 / load.as_secs_f64()
    );
    println!(
        "graph memory: {} resident for the graph (process {} )",
        mib(rss1.saturating_sub(rss0)),
        mib(rss1)
    );

    // The startup path: twins and relationships from their stored JSON.
    let stored_twins: Vec<serde_json::Value> =
        g.twins().map(|(_, t)| t.to_json(g.symbols())).collect();
    let stored_rels: Vec<serde_json::Value> =
        g.relationships().map(|r| g.relationship_json(r)).collect();
    let mut h = TwinGraph::new(2);
    let t = Instant::now();
    for doc in &stored_twins {
        h.load_twin(&AnyModel, doc).expect("load twin");
    }
    let t_load_twins = t.elapsed();
    for doc in &stored_rels {
        h.load_relationship(doc).expect("load relationship");
    }
    let t_load_all = t.elapsed();
    println!(
        "restore from stored JSON: {:.0} twins/s, all {} items in {:.2} s",
        stored_twins.len() as f64 / t_load_twins.as_secs_f64(),
        stored_twins.len() + stored_rels.len(),
        t_load_all.as_secs_f64()
    );
    drop((h, stored_twins, stored_rels));

    let mut rng = Rng(0x1234_5678);
    let picks: Vec<&String> = (0..200_000)
        .map(|_| &twin_ids[rng.below(twin_ids.len())])
        .collect();
    let s = Stats::measure(picks.iter(), |id| {
        std::hint::black_box(g.twin(id));
    });
    println!("{}", s.line("get twin by id (lookup)"));
    let s = Stats::measure(picks.iter().take(100_000), |id| {
        let json = g
            .twin_json(id)
            .map(|v| serde_json::to_vec(&v).unwrap_or_default());
        std::hint::black_box(json);
    });
    println!("{}", s.line("get twin by id as JSON bytes"));

    let patches: Vec<(String, serde_json::Value)> = (0..100_000)
        .map(|i| {
            let id = room_ids[rng.below(room_ids.len())].clone();
            (id, json!([{"op": "replace", "path": "/temperature", "value": 20.0 + (i % 100) as f64 / 10.0}]))
        })
        .collect();
    let s = Stats::measure(patches.iter(), |(id, p)| {
        g.update_twin(&ctx, id, p, &Precondition::None)
            .expect("patch");
    });
    println!("{}", s.line("patch twin (JSON Patch, no model checks)"));
}
