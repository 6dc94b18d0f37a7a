//! Engine benchmark (issue 5): bulk load with DTDL validation, memory, get
//! by id, validated patch and queries on a synthetic building graph
//! (1,000,000 twins and ~3,000,000 relationships by default; set
//! `TWINSCAPE_BENCH_TWINS` for another size), with the same data and
//! queries in SQLite (JSON documents, indexes where they help) as the
//! baseline in the same run.
//!
//! Run: `cargo bench -p twinscape-engine --bench query`
//!
//! Every query is timed to its whole answer as JSON bytes: the engine's
//! pages of 1,000 rows (`Engine::query_json`, following continuation
//! tokens), SQLite's rows of JSON text collected. The two sides are checked
//! to return the same number of rows.

#[path = "common/mod.rs"]
mod common;

use common::{Rng, Stats, fmt, mib, rss_bytes};
use rusqlite::{Connection, params};
use serde_json::{Value as Json, json};
use std::time::{Duration, Instant};
use twinscape_demo::synthetic::{self, Item, Synthetic};
use twinscape_engine::{Engine, EngineConfig, QueryOptions};
use twinscape_graph::{Precondition, Timestamp};

/// One line of the final table.
struct Row {
    name: String,
    target: String,
    engine: Stats,
    sqlite: Option<Stats>,
}

fn main() {
    let n = common::twins_from_env(1_000_000);
    let synth = Synthetic::with_twins(n, 42);
    let buildings = synth.buildings;
    let t = Instant::now();
    let items: Vec<Item> = synth.items().collect();
    let (twin_count, rel_count) = items.iter().fold((0, 0), |(t, r), i| match i {
        Item::Twin { .. } => (t + 1, r),
        Item::Relationship { .. } => (t, r + 1),
    });
    println!(
        "generated {twin_count} twins + {rel_count} relationships in {buildings} buildings ({:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let now = Timestamp::parse("2025-01-01T00:00:00Z").unwrap_or(Timestamp(0));
    let mut rows: Vec<Row> = Vec::new();

    // ----- bulk load (import) with DTDL validation ---------------------------
    let rss0 = rss_bytes();
    let mut engine = Engine::new(EngineConfig::default());
    engine
        .add_models(&synthetic::models())
        .expect("synthetic models");
    let t = Instant::now();
    engine.reserve(twin_count, rel_count);
    let (mut t_twins, mut t_rels) = (Duration::ZERO, Duration::ZERO);
    for item in &items {
        let t0 = Instant::now();
        match item {
            Item::Twin { id, doc } => {
                engine.import_twin(id, doc, now).expect("twin");
                t_twins += t0.elapsed();
            }
            Item::Relationship { source, id, doc } => {
                engine
                    .import_relationship(source, id, doc, now)
                    .expect("relationship");
                t_rels += t0.elapsed();
            }
        }
    }
    let load = t.elapsed();
    let rss1 = rss_bytes();
    let engine_mem = rss1.saturating_sub(rss0);
    println!(
        "engine bulk import (validated): twins {:.0}/s, relationships {:.0}/s, all {} items in {:.1} s ({:.0} twins/s over the whole load)",
        twin_count as f64 / t_twins.as_secs_f64(),
        rel_count as f64 / t_rels.as_secs_f64(),
        twin_count + rel_count,
        load.as_secs_f64(),
        twin_count as f64 / load.as_secs_f64()
    );
    println!(
        "engine memory: {} resident for twins + relationships + indexes (process {})",
        mib(engine_mem),
        mib(rss1)
    );

    // ----- the create path (PUT twin / relationship, with change documents) --
    let sample = items.len().min(400_000);
    let mut created = Engine::new(EngineConfig::default());
    created
        .add_models(&synthetic::models())
        .expect("synthetic models");
    let (mut c_twins, mut c_rels, mut ct, mut cr) = (Duration::ZERO, Duration::ZERO, 0, 0);
    for item in &items[..sample] {
        let t0 = Instant::now();
        match item {
            Item::Twin { id, doc } => {
                let change = created
                    .create_or_replace_twin(id, doc, &Precondition::None, now)
                    .expect("twin");
                std::hint::black_box(change);
                c_twins += t0.elapsed();
                ct += 1;
            }
            Item::Relationship { source, id, doc } => {
                let change = created
                    .create_or_replace_relationship(source, id, doc, &Precondition::None, now)
                    .expect("relationship");
                std::hint::black_box(change);
                c_rels += t0.elapsed();
                cr += 1;
            }
        }
    }
    drop(created);
    drop(items);
    println!(
        "create path (validated, with change documents), first {sample} items: twins {:.0}/s, relationships {:.0}/s",
        ct as f64 / c_twins.as_secs_f64(),
        cr as f64 / c_rels.as_secs_f64(),
    );

    if std::env::var_os("TWINSCAPE_BENCH_LOAD_ONLY").is_some() {
        return;
    }

    // Ids to pick from.
    let b = |i: usize| format!("b{}", i % buildings);
    let mut rng = Rng(0x5eed_1234);
    let twin_ids: Vec<String> = (0..20_000)
        .map(|_| {
            let bi = rng.below(buildings);
            match rng.below(4) {
                0 => format!("b{bi}-f{}", rng.below(10)),
                1 => format!("b{bi}-f{}-r{}", rng.below(10), rng.below(20)),
                2 => format!(
                    "b{bi}-f{}-r{}-s{}",
                    rng.below(10),
                    rng.below(20),
                    rng.below(2)
                ),
                _ => format!("b{bi}-k{}-srv{}", rng.below(4), rng.below(20)),
            }
        })
        .collect();
    let room_ids: Vec<String> = (0..20_000)
        .map(|_| {
            format!(
                "{}-f{}-r{}",
                b(rng.below(buildings)),
                rng.below(10),
                rng.below(20)
            )
        })
        .collect();
    let floor_ids: Vec<String> = (0..2_000)
        .map(|_| format!("{}-f{}", b(rng.below(buildings)), rng.below(10)))
        .collect();
    let building_ids: Vec<String> = (0..500).map(|_| b(rng.below(buildings))).collect();
    let server_names: Vec<String> = (0..2_000)
        .map(|_| {
            format!(
                "srv-{}-{}-{}",
                rng.below(buildings),
                rng.below(4),
                rng.below(20)
            )
        })
        .collect();

    // ----- engine: reads and queries ----------------------------------------
    let get = Stats::measure(twin_ids.iter().cycle().take(200_000), |id| {
        std::hint::black_box(engine.graph().twin(id));
    });
    rows.push(Row {
        name: "get twin by id (lookup)".into(),
        target: String::new(),
        engine: get,
        sqlite: None,
    });
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let get_json = Stats::measure(twin_ids.iter().cycle().take(200_000), |id| {
        buf.clear();
        std::hint::black_box(engine.graph().write_twin_json(id, &mut buf));
    });
    let json_bytes: usize = twin_ids
        .iter()
        .take(10_000)
        .map(|id| {
            buf.clear();
            engine.graph().write_twin_json(id, &mut buf);
            buf.len()
        })
        .sum();
    println!(
        "get by id: {} bytes of JSON per twin on average",
        json_bytes / 10_000
    );
    let get_value = Stats::measure(twin_ids.iter().cycle().take(100_000), |id| {
        let bytes = engine
            .graph()
            .twin_json(id)
            .map(|v| serde_json::to_vec(&v).unwrap_or_default());
        std::hint::black_box(bytes);
    });

    let room_model = synthetic::ROOM;
    let q_range = format!(
        "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, '{room_model}') AND T.temperature > 29.5"
    );
    let q_count = format!("SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('{room_model}')");
    let q_count_space = format!(
        "SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('{}')",
        synthetic::SPACE
    );
    let q_join = |f: &str| {
        format!(
            "SELECT S FROM DIGITALTWINS F JOIN R RELATED F.hasRoom JOIN S RELATED R.hasSensor WHERE F.$dtId = '{f}'"
        )
    };
    let q_match = |f: &str| {
        format!(
            "SELECT S FROM DIGITALTWINS MATCH (F)-[:hasRoom]->(R)-[:hasSensor]->(S) WHERE F.$dtId = '{f}'"
        )
    };
    let q_join_building = |bid: &str| {
        format!(
            "SELECT R FROM DIGITALTWINS B JOIN F RELATED B.hasFloor JOIN R RELATED F.hasRoom WHERE B.$dtId = '{bid}'"
        )
    };
    let q_name = |name: &str| format!("SELECT * FROM DIGITALTWINS T WHERE T.name = '{name}'");

    if let Ok(q) = std::env::var("TWINSCAPE_BENCH_PROFILE_QUERY") {
        // For profilers: one query over and over.
        if q == "indexed" {
            engine.set_indexed_properties(&["temperature".to_string(), "name".to_string()]);
        }
        let q = if q.starts_with("SELECT") {
            q
        } else {
            q_range.clone()
        };
        let s = Stats::measure(0..200, |_| {
            std::hint::black_box(run(&engine, &q));
        });
        println!("{}", s.line("the query"));
        return;
    }
    let range_rows = run(&engine, &q_range).0;
    let range_unindexed = Stats::measure(0..30, |_| {
        std::hint::black_box(run(&engine, &q_range));
    });
    let first_page = Stats::measure(0..30, |_| {
        let page = engine
            .query_json(
                &q_range,
                &QueryOptions {
                    page_size: None,
                    continuation: None,
                },
            )
            .expect("query");
        std::hint::black_box(page.items);
    });
    let count_rows = run_count(&engine, &q_count);
    let count = Stats::measure(0..200, |_| {
        std::hint::black_box(run(&engine, &q_count));
    });
    let count_space = Stats::measure(0..200, |_| {
        std::hint::black_box(run(&engine, &q_count_space));
    });
    let name_unindexed = Stats::measure(server_names.iter().take(10), |s| {
        std::hint::black_box(run(&engine, &q_name(s)));
    });
    let join = Stats::measure(floor_ids.iter(), |f| {
        std::hint::black_box(run(&engine, &q_join(f)));
    });
    let mtch = Stats::measure(floor_ids.iter(), |f| {
        std::hint::black_box(run(&engine, &q_match(f)));
    });
    let join_b = Stats::measure(building_ids.iter(), |bid| {
        std::hint::black_box(run(&engine, &q_join_building(bid)));
    });
    let join_rows = run(&engine, &q_join(&floor_ids[0])).0;
    let match_rows = run(&engine, &q_match(&floor_ids[0])).0;
    assert_eq!(join_rows, match_rows, "JOIN and MATCH agree");

    // Property indexes, built over the loaded graph.
    let t = Instant::now();
    engine.set_indexed_properties(&["temperature".to_string(), "name".to_string()]);
    let index_build = t.elapsed();
    println!(
        "engine: indexes on temperature and name built in {:.2} s (process {})",
        index_build.as_secs_f64(),
        mib(rss_bytes())
    );
    assert_eq!(run(&engine, &q_range).0, range_rows, "indexed = unindexed");
    let range_indexed = Stats::measure(0..100, |_| {
        std::hint::black_box(run(&engine, &q_range));
    });
    let name_indexed = Stats::measure(server_names.iter(), |s| {
        std::hint::black_box(run(&engine, &q_name(s)));
    });
    let name_rows = run(&engine, &q_name(&server_names[0])).0;
    let parse_only = Stats::measure(server_names.iter(), |s| {
        std::hint::black_box(twinscape_query::parse(&q_name(s)).is_ok());
    });

    // ----- SQLite ----------------------------------------------------------
    println!("loading SQLite (in memory)…");
    let rss_before_sqlite = rss_bytes();
    let db = Connection::open_in_memory().expect("sqlite");
    db.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -4000000;
         CREATE TABLE twins (id TEXT PRIMARY KEY, model TEXT NOT NULL, doc TEXT NOT NULL);
         CREATE TABLE relationships (source TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,
             target TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (source, id));",
    )
    .expect("schema");
    let t = Instant::now();
    {
        let tx = db.unchecked_transaction().expect("tx");
        {
            let mut ins = tx
                .prepare("INSERT INTO twins (id, model, doc) VALUES (?1, ?2, ?3)")
                .expect("prepare");
            let g = engine.graph();
            for (_, twin) in g.twins() {
                let doc = twin.to_json(g.symbols());
                ins.execute(params![
                    &*twin.id,
                    g.symbols().name(twin.model),
                    doc.to_string()
                ])
                .expect("insert twin");
            }
        }
        let t_twins = t.elapsed();
        {
            let mut ins = tx
                .prepare("INSERT INTO relationships (source, id, name, target, doc) VALUES (?1, ?2, ?3, ?4, ?5)")
                .expect("prepare");
            let g = engine.graph();
            for rel in g.relationships() {
                let doc = g.relationship_json(rel);
                ins.execute(params![
                    doc["$sourceId"].as_str().unwrap_or(""),
                    &*rel.id,
                    doc["$relationshipName"].as_str().unwrap_or(""),
                    doc["$targetId"].as_str().unwrap_or(""),
                    doc.to_string()
                ])
                .expect("insert relationship");
            }
        }
        tx.commit().expect("commit");
        println!(
            "sqlite insert: twins {:.0}/s, everything in {:.1} s",
            twin_count as f64 / t_twins.as_secs_f64(),
            t.elapsed().as_secs_f64()
        );
    }
    let t_idx = Instant::now();
    db.execute_batch(
        "CREATE INDEX twins_model ON twins (model);
         CREATE INDEX rel_source_name ON relationships (source, name);
         CREATE INDEX rel_target_name ON relationships (target, name);
         ANALYZE;",
    )
    .expect("indexes");
    let sqlite_load = t.elapsed();
    let page_count: i64 = db
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap_or(0);
    let page_size: i64 = db
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap_or(0);
    println!(
        "sqlite load: {:.1} s with indexes ({:.1} s for the indexes), {:.0} twins/s; database {} (process grew {})",
        sqlite_load.as_secs_f64(),
        t_idx.elapsed().as_secs_f64(),
        twin_count as f64 / sqlite_load.as_secs_f64(),
        mib((page_count * page_size) as u64),
        mib(rss_bytes().saturating_sub(rss_before_sqlite))
    );

    let sql_docs = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> usize {
        let mut st = db.prepare_cached(sql).expect("prepare");
        let docs: Vec<String> = st
            .query_map(args, |r| r.get::<_, String>(0))
            .expect("query")
            .filter_map(Result::ok)
            .collect();
        docs.len()
    };
    let s_get = Stats::measure(twin_ids.iter().cycle().take(100_000), |id| {
        std::hint::black_box(sql_docs("SELECT doc FROM twins WHERE id = ?1", &[id]));
    });
    let range_sql =
        "SELECT doc FROM twins WHERE model = ?1 AND json_extract(doc, '$.temperature') > 29.5";
    assert_eq!(
        sql_docs(range_sql, &[&room_model]),
        range_rows,
        "same rows in SQLite"
    );
    let s_range = Stats::measure(0..10, |_| {
        std::hint::black_box(sql_docs(range_sql, &[&room_model]));
    });
    let count_sql = "SELECT COUNT(*) FROM twins WHERE model = ?1";
    let s_count_n: i64 = db
        .query_row(count_sql, [room_model], |r| r.get(0))
        .unwrap_or(-1);
    assert_eq!(s_count_n as usize, count_rows, "same count in SQLite");
    let s_count = Stats::measure(0..200, |_| {
        let mut st = db.prepare_cached(count_sql).expect("prepare");
        let c: i64 = st.query_row([room_model], |r| r.get(0)).unwrap_or(0);
        std::hint::black_box(c);
    });
    let count_space_sql = "SELECT COUNT(*) FROM twins WHERE model IN (?1, ?2)";
    let s_count_space = Stats::measure(0..200, |_| {
        let mut st = db.prepare_cached(count_space_sql).expect("prepare");
        let c: i64 = st
            .query_row([synthetic::SPACE, room_model], |r| r.get(0))
            .unwrap_or(0);
        std::hint::black_box(c);
    });
    let name_sql = "SELECT doc FROM twins WHERE json_extract(doc, '$.name') = ?1";
    let s_name_unindexed = Stats::measure(server_names.iter().take(3), |s| {
        std::hint::black_box(sql_docs(name_sql, &[s]));
    });
    let join_sql = "SELECT s.doc FROM relationships r1
        JOIN relationships r2 ON r2.source = r1.target AND r2.name = 'hasSensor'
        JOIN twins s ON s.id = r2.target
        WHERE r1.source = ?1 AND r1.name = 'hasRoom'";
    assert_eq!(
        sql_docs(join_sql, &[&floor_ids[0]]),
        join_rows,
        "same JOIN rows in SQLite"
    );
    let s_join = Stats::measure(floor_ids.iter(), |f| {
        std::hint::black_box(sql_docs(join_sql, &[f]));
    });
    let join_b_sql = "SELECT r.doc FROM relationships r1
        JOIN relationships r2 ON r2.source = r1.target AND r2.name = 'hasRoom'
        JOIN twins r ON r.id = r2.target
        WHERE r1.source = ?1 AND r1.name = 'hasFloor'";
    let s_join_b = Stats::measure(building_ids.iter(), |bid| {
        std::hint::black_box(sql_docs(join_b_sql, &[bid]));
    });
    let t = Instant::now();
    db.execute_batch(
        "CREATE INDEX twins_temperature ON twins (json_extract(doc, '$.temperature'));
         CREATE INDEX twins_name ON twins (json_extract(doc, '$.name'));
         ANALYZE;",
    )
    .expect("expression indexes");
    println!(
        "sqlite: expression indexes on temperature and name built in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let s_range_indexed = Stats::measure(0..100, |_| {
        std::hint::black_box(sql_docs(range_sql, &[&room_model]));
    });
    assert_eq!(
        sql_docs(name_sql, &[&server_names[0]]),
        name_rows,
        "same name rows in SQLite"
    );
    let s_name = Stats::measure(server_names.iter(), |s| {
        std::hint::black_box(sql_docs(name_sql, &[s]));
    });
    // Validated patches, last on both sides: they change temperatures.
    let patches: Vec<(String, Json)> = room_ids
        .iter()
        .cycle()
        .take(50_000)
        .enumerate()
        .map(|(i, id)| {
            (
                id.clone(),
                json!([{"op": "replace", "path": "/temperature", "value": 20.0 + (i % 100) as f64 / 10.0}]),
            )
        })
        .collect();
    let patch = Stats::measure(patches.iter(), |(id, p)| {
        engine
            .update_twin(id, p, &Precondition::None, now)
            .expect("patch");
    });

    let s_patch = Stats::measure(patches.iter().take(20_000), |(id, p)| {
        let value = p[0]["value"].as_f64().unwrap_or(0.0);
        let mut st = db
            .prepare_cached(
                "UPDATE twins SET doc = json_set(doc, '$.temperature', ?1) WHERE id = ?2",
            )
            .expect("prepare");
        st.execute(params![value, id]).expect("update");
    });

    // ----- report ------------------------------------------------------------
    rows.push(Row {
        name: "get twin by id as JSON bytes".into(),
        target: "≤ 5 µs".into(),
        engine: get_json,
        sqlite: Some(s_get),
    });
    rows.push(Row {
        name: "  same, through serde_json::Value".into(),
        target: String::new(),
        engine: get_value,
        sqlite: None,
    });
    rows.push(Row {
        name: "validated patch (replace /temperature of a Room)".into(),
        target: "≤ 10 µs".into(),
        engine: patch,
        sqlite: Some(s_patch),
    });
    rows.push(Row {
        name: format!("IS_OF_MODEL(Room) AND temperature > 29.5, unindexed ({range_rows} rows)"),
        target: "≤ 50 ms".into(),
        engine: range_unindexed,
        sqlite: Some(s_range),
    });
    rows.push(Row {
        name: "  same, first page only (100 rows)".into(),
        target: String::new(),
        engine: first_page,
        sqlite: None,
    });
    rows.push(Row {
        name: "  same, temperature indexed".into(),
        target: String::new(),
        engine: range_indexed,
        sqlite: Some(s_range_indexed),
    });
    rows.push(Row {
        name: format!("indexed equality T.name = 'srv-…' ({name_rows} row)"),
        target: "≤ 1 ms".into(),
        engine: name_indexed,
        sqlite: Some(s_name),
    });
    rows.push(Row {
        name: "  of which parsing the query text".into(),
        target: String::new(),
        engine: parse_only,
        sqlite: None,
    });
    rows.push(Row {
        name: "  same, unindexed".into(),
        target: String::new(),
        engine: name_unindexed,
        sqlite: Some(s_name_unindexed),
    });
    rows.push(Row {
        name: format!("COUNT() IS_OF_MODEL(Room) ({count_rows})"),
        target: "≤ 5 ms".into(),
        engine: count,
        sqlite: Some(s_count),
    });
    rows.push(Row {
        name: "COUNT() IS_OF_MODEL(Space), via extends".into(),
        target: "≤ 5 ms".into(),
        engine: count_space,
        sqlite: Some(s_count_space),
    });
    rows.push(Row {
        name: format!("2-hop JOIN from a floor ({join_rows} sensors)"),
        target: "≤ 100 µs".into(),
        engine: join,
        sqlite: Some(s_join.clone_stats()),
    });
    rows.push(Row {
        name: format!("2-hop MATCH from a floor ({match_rows} sensors)"),
        target: "≤ 100 µs".into(),
        engine: mtch,
        sqlite: Some(s_join),
    });
    rows.push(Row {
        name: "2-hop JOIN from a building (200 rooms)".into(),
        target: String::new(),
        engine: join_b,
        sqlite: Some(s_join_b),
    });
    println!();
    println!(
        "{:<62} {:>9} {:>22} {:>22} {:>8}",
        "operation", "target", "engine median / p99", "sqlite median / p99", "ratio"
    );
    for r in &rows {
        let e = format!("{} / {}", fmt(r.engine.median()), fmt(r.engine.p99()));
        let (s, ratio) = match &r.sqlite {
            Some(s) => (
                format!("{} / {}", fmt(s.median()), fmt(s.p99())),
                format!(
                    "{:.1}×",
                    s.median().as_secs_f64() / r.engine.median().as_secs_f64().max(1e-12)
                ),
            ),
            None => (String::new(), String::new()),
        };
        println!(
            "{:<62} {:>9} {:>22} {:>22} {:>8}",
            r.name, r.target, e, s, ratio
        );
    }
}

trait CloneStats {
    fn clone_stats(&self) -> Stats;
}

impl CloneStats for Stats {
    fn clone_stats(&self) -> Stats {
        Stats {
            samples: self.samples.clone(),
        }
    }
}

/// Runs a query to its end (pages of 1,000) and serialises every page, as a
/// server answers; returns the number of rows and of bytes.
fn run(engine: &Engine, text: &str) -> (usize, usize) {
    let mut opts = QueryOptions {
        page_size: Some(1_000),
        continuation: None,
    };
    let (mut rows, mut bytes) = (0, 0);
    loop {
        let page = engine.query_json(text, &opts).expect("query");
        rows += page.count;
        bytes += page.items.len();
        match page.continuation {
            Some(c) => opts.continuation = Some(c),
            None => return (rows, bytes),
        }
    }
}

fn run_count(engine: &Engine, text: &str) -> usize {
    let page = engine.query(text, &QueryOptions::default()).expect("count");
    page.items
        .first()
        .and_then(|r| r["COUNT"].as_u64())
        .unwrap_or(0) as usize
}
