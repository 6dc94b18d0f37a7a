//! DTDL benchmark: `cargo bench -p twinscape-dtdl --bench dtdl`
//!
//! - parse + resolve the whole RealEstateCore ontology (767 Interfaces, one
//!   batch) into a fresh `ModelRegistry` (validation, reference resolution,
//!   expanded models), and `validate_batch` alone;
//! - the registry's memory: resident-set growth of building 20 registries,
//!   divided by 20 (Linux `/proc/self/status`);
//! - twin validation: a property patch value and a whole twin.

use criterion::Criterion;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use twinscape_dtdl::{ModelRegistry, ParseOptions, validate_batch};

fn load_tree(dir: &Path, out: &mut Vec<Value>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("ontology dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            load_tree(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&p).expect("read");
            out.push(serde_json::from_str(text.trim_start_matches('\u{feff}')).expect("json"));
        }
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/ontologies/realestatecore/Ontology");
    let mut batch = Vec::new();
    load_tree(&dir, &mut batch);
    let json_bytes: usize = batch.iter().map(|v| v.to_string().len()).sum();
    println!(
        "RealEstateCore: {} files, {} KiB of JSON",
        batch.len(),
        json_bytes / 1024
    );
    // Warm the embedded metamodel and standard elements once.
    let _ = validate_batch(&batch[..1], ParseOptions::default());

    let mut c = Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(8))
        .configure_from_args();
    c.bench_function(
        "dtdl/realestatecore/add_models (parse+resolve+expand)",
        |b| {
            b.iter(|| {
                let mut reg = ModelRegistry::new();
                reg.add_models(&batch, ParseOptions::default())
                    .expect("valid");
                reg
            })
        },
    );
    c.bench_function("dtdl/realestatecore/validate_batch", |b| {
        b.iter(|| validate_batch(&batch, ParseOptions::default()).expect("valid"))
    });

    let mut reg = ModelRegistry::new();
    reg.add_models(&batch, ParseOptions::default())
        .expect("valid");
    let room = "dtmi:digitaltwins:rec_3_3:core:Room;1";
    let value = json!("Meeting room 4");
    c.bench_function("dtdl/validate_property (patch /name)", |b| {
        b.iter(|| {
            reg.validate_property(room, "/name", Some(&value))
                .expect("valid")
        })
    });
    let mut twin = json!({"$dtId": "r1", "$metadata": {"$model": room}, "name": "Room 1", "personCapacity": 8, "customTags": {"a": true}});
    if let Some(m) = reg.expanded(room) {
        for comp in m.components.keys() {
            twin[comp] = json!({"$metadata": {}});
        }
    }
    c.bench_function("dtdl/validate_twin (Room, 3 properties)", |b| {
        b.iter(|| reg.validate_twin(&twin).expect("valid"))
    });
    c.final_summary();

    // Memory: resident growth per registry.
    const N: u64 = 20;
    let before = rss_kib();
    let regs: Vec<ModelRegistry> = (0..N)
        .map(|_| {
            let mut r = ModelRegistry::new();
            r.add_models(&batch, ParseOptions::default())
                .expect("valid");
            r
        })
        .collect();
    let after = rss_kib();
    println!(
        "registry memory (RealEstateCore, {} models): ~{} KiB per registry (RSS growth of {N} registries / {N}); JSON input {} KiB",
        regs[0].len(),
        after.saturating_sub(before) / N,
        json_bytes / 1024
    );
}
