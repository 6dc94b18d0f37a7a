//! Store benchmark: `cargo bench -p twinscape-store --bench store [-- SECTION...]`
//!
//! Sections (all by default):
//! - `fsync`: the disk's own fsync latency (4 KiB write + fdatasync), the floor
//!   under any durable commit.
//! - `commits`: durable commits/s of single ~500-byte puts (a twin PATCH) with
//!   1, 8 and 64 concurrent committers, p50/p99 latency, group sizes; with
//!   quick-repair on (the default) and off.
//! - `load`: a store of `TWINS` twin-sized rows (~500 B) and 3×`TWINS`
//!   relationship-sized rows (~200 B), written in big batches; then the time to
//!   open and `load()` everything after a clean close and after `kill -9` of a
//!   writer (with quick-repair on and off).
//!
//! Environment: `TWINSCAPE_BENCH_TWINS` (default 1000000),
//! `TWINSCAPE_BENCH_SECS` (seconds per commit run, default 5),
//! `TWINSCAPE_BENCH_DIR` (where temp dirs go; default the system temp dir).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use twinscape_store::{RedbOptions, RedbStore, Store, Table, WriteBatch};

const CHILD_DIR: &str = "TWINSCAPE_STORE_BENCH_CHILD_DIR";
const CHILD_QUICK_REPAIR: &str = "TWINSCAPE_STORE_BENCH_CHILD_QUICK_REPAIR";
const CHILD_TWINS: &str = "TWINSCAPE_STORE_BENCH_CHILD_TWINS";

fn main() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        crash_child(Path::new(&dir));
        return;
    }
    let sections: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |s: &str| sections.is_empty() || sections.iter().any(|x| x == s);
    let twins: usize = env_or("TWINSCAPE_BENCH_TWINS", 1_000_000);
    let secs: u64 = env_or("TWINSCAPE_BENCH_SECS", 5);

    println!(
        "store bench: {} cores, redb store, release={}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        !cfg!(debug_assertions)
    );
    if wants("fsync") {
        bench_fsync();
    }
    if wants("commits") {
        let defaults = RedbOptions::default();
        let runs = [
            ("defaults", defaults.clone()),
            (
                "no linger",
                RedbOptions {
                    max_linger: Duration::ZERO,
                    ..defaults.clone()
                },
            ),
            (
                "quick_repair",
                RedbOptions {
                    quick_repair: true,
                    ..defaults.clone()
                },
            ),
        ];
        for (label, options) in runs {
            bench_commits(label, options, Duration::from_secs(secs));
        }
    }
    if wants("load") {
        bench_load(twins);
    }
    println!("peak RSS of this process: {} MiB", peak_rss_kib() / 1024);
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn temp_dir() -> tempfile::TempDir {
    match std::env::var("TWINSCAPE_BENCH_DIR") {
        Ok(base) => tempfile::tempdir_in(base).expect("temp dir"),
        Err(_) => tempfile::tempdir().expect("temp dir"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn bench_fsync() {
    let dir = temp_dir();
    let lat = fsync_latencies(dir.path(), 2000);
    println!(
        "fsync: 4 KiB write + fdatasync x2000: p50 {}  p99 {}  => at most {:.0} fsyncs/s",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        1.0 / percentile(&lat, 0.5).as_secs_f64()
    );
}

/// Sorted latencies of `count` (4 KiB write + fdatasync) in `dir`.
fn fsync_latencies(dir: &Path, count: u64) -> Vec<Duration> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).expect("create");
    let page = vec![7u8; 4096];
    let mut lat = Vec::with_capacity(count as usize);
    for i in 0..count {
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start((i % 256) * 4096))
            .expect("seek");
        file.write_all(&page).expect("write");
        let t = Instant::now();
        file.sync_data().expect("fdatasync");
        lat.push(t.elapsed());
    }
    lat.sort();
    drop(file);
    let _ = std::fs::remove_file(path);
    lat
}

fn twin_value(i: u64) -> Vec<u8> {
    let mut v = format!(
        "{{\"$dtId\":\"twin-{i:08}\",\"$etag\":\"W/\\\"{i:x}\\\"\",\"$metadata\":{{\"$model\":\"dtmi:com:example:Room;1\"}},\"temperature\":{}.5,\"name\":\"",
        i % 40
    )
    .into_bytes();
    v.resize(496, b'x');
    v.extend_from_slice(b"\"}}");
    v.truncate(500);
    v
}

fn rel_value(i: u64) -> Vec<u8> {
    let mut v = format!("{{\"$relationshipId\":\"rel-{i}\",\"$relationshipName\":\"contains\",\"$targetId\":\"twin-{:08}\"", i / 3).into_bytes();
    v.resize(198, b' ');
    v.extend_from_slice(b"}}");
    v
}

fn bench_commits(label: &str, options: RedbOptions, duration: Duration) {
    const KEYS: u64 = 100_000;
    let dir = temp_dir();
    let store = Arc::new(RedbStore::open_with(dir.path(), options).expect("open"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // Existing twins to PATCH.
        for chunk in 0..(KEYS / 10_000) {
            let mut batch = WriteBatch::new();
            for i in chunk * 10_000..(chunk + 1) * 10_000 {
                batch.put(Table::Twins, format!("twin-{i:08}"), twin_value(i));
            }
            store.commit(batch).await.expect("prefill");
        }
    });
    println!(
        "commits ({label}): single ~500 B put per commit, {KEYS} existing twins, {duration:?} per run"
    );
    let file_len = |store: &RedbStore| std::fs::metadata(store.file()).map_or(0, |m| m.len());
    let prefilled = file_len(&store);
    for committers in [1usize, 8, 64] {
        // The disk's fsync latency right now: this machine is shared, and
        // it swings between ~0.1 ms and ~4 ms with other builds' writes.
        let fsync_p50 = percentile(&fsync_latencies(dir.path(), 200), 0.5);
        let before = store.stats();
        let written_before = io_written_bytes();
        let started = Instant::now();
        let deadline = started + duration;
        let latencies = runtime.block_on(async {
            let mut tasks = Vec::new();
            for c in 0..committers {
                let store: Arc<dyn Store> = store.clone();
                tasks.push(tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ (c as u64 + 1);
                    while Instant::now() < deadline {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let i = x % KEYS;
                        let mut batch = WriteBatch::with_capacity(1);
                        batch.put(Table::Twins, format!("twin-{i:08}"), twin_value(i));
                        let t = Instant::now();
                        store.commit(batch).await.expect("commit");
                        lat.push(t.elapsed());
                    }
                    lat
                }));
            }
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.expect("task"));
            }
            all
        });
        let elapsed = started.elapsed();
        let mut latencies = latencies;
        latencies.sort();
        let after = store.stats();
        let written = io_written_bytes().saturating_sub(written_before);
        let groups = after.groups - before.groups;
        let batches = after.batches - before.batches;
        let write = after.write_time - before.write_time;
        println!(
            "  committers {committers:>2}: {:>8.0} commits/s  p50 {}  p99 {}  ({} commits, {} groups, {:.1} batches/group, {} per group in redb, {:.1} KiB written per commit; fsync p50 just before: {})",
            latencies.len() as f64 / elapsed.as_secs_f64(),
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99)),
            latencies.len(),
            groups,
            batches as f64 / groups.max(1) as f64,
            ms(write / groups.max(1) as u32),
            written as f64 / 1024.0 / latencies.len().max(1) as f64,
            ms(fsync_p50),
        );
    }
    println!(
        "  file: {} MiB after the prefill, {} MiB after all runs (updates reuse freed pages)",
        prefilled / (1024 * 1024),
        file_len(&store) / (1024 * 1024)
    );
}

/// Bench child: opens the store, commits continuously, is killed by the parent.
fn crash_child(dir: &Path) {
    let quick_repair = std::env::var(CHILD_QUICK_REPAIR).map_or(true, |v| v != "0");
    let twins: u64 = env_or(CHILD_TWINS, 1_000_000);
    let store = RedbStore::open_with(
        dir,
        RedbOptions {
            quick_repair,
            ..RedbOptions::default()
        },
    )
    .expect("open");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for n in 0u64.. {
            let mut batch = WriteBatch::new();
            for i in 0..100 {
                let k = (n * 100 + i) * 7919 % twins;
                batch.put(Table::Twins, format!("twin-{k:08}"), twin_value(k));
            }
            store.commit(batch).await.expect("commit");
            if n == 10 {
                println!("READY");
                let _ = std::io::stdout().flush();
            }
        }
    });
}

fn bench_load(twins: usize) {
    let dir = temp_dir();
    let n = twins as u64;
    let rels = 3 * n;
    println!("load: {n} twins (~500 B) + {rels} relationships (~200 B)");
    {
        let started = Instant::now();
        let store = RedbStore::open(dir.path()).expect("open");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        // Insert in a scattered order, as a live server would, not sorted.
        let scatter = |i: u64, n: u64| (i.wrapping_mul(999_983)) % n;
        runtime.block_on(async {
            const CHUNK: u64 = 20_000;
            let mut i = 0;
            while i < n {
                let mut batch = WriteBatch::with_capacity(CHUNK as usize);
                for j in i..(i + CHUNK).min(n) {
                    let k = scatter(j, n);
                    batch.put(Table::Twins, format!("twin-{k:08}"), twin_value(k));
                }
                store.commit(batch).await.expect("write twins");
                i += CHUNK;
            }
            let mut i = 0;
            while i < rels {
                let mut batch = WriteBatch::with_capacity(CHUNK as usize);
                for j in i..(i + CHUNK).min(rels) {
                    let k = scatter(j, rels);
                    batch.put(
                        Table::Relationships,
                        format!("twin-{:08}/rel-{k}", k / 3),
                        rel_value(k),
                    );
                }
                store.commit(batch).await.expect("write relationships");
                i += CHUNK;
            }
        });
        let file_len = std::fs::metadata(store.file()).map_or(0, |m| m.len());
        println!(
            "  write: {:.1} s in batches of 20000 rows; file {} MiB",
            started.elapsed().as_secs_f64(),
            file_len / (1024 * 1024)
        );
    }
    time_open_and_load(dir.path(), "after a clean close", n, rels, true);
    // A process restart: the file is in the page cache.
    time_open_and_load(dir.path(), "after a clean close", n, rels, false);
    time_parallel_load(dir.path(), n + rels);
    time_visit_load(dir.path(), n + rels);
    for quick_repair in [true, false] {
        kill_writer(dir.path(), quick_repair, n);
        let label = format!("after kill -9 of a writer (quick_repair={quick_repair})");
        time_open_and_load(dir.path(), &label, n, rels, false);
    }
    // A power cut with quick-repair off: repair from a cold page cache.
    kill_writer(dir.path(), false, n);
    let label = "after kill -9 of a writer (quick_repair=false)";
    time_open_and_load(dir.path(), label, n, rels, true);
}

fn kill_writer(dir: &Path, quick_repair: bool, twins: u64) {
    let exe = std::env::current_exe().expect("bench binary");
    let mut child = Command::new(exe)
        .env(CHILD_DIR, dir)
        .env(CHILD_QUICK_REPAIR, if quick_repair { "1" } else { "0" })
        .env(CHILD_TWINS, twins.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn writer");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read");
    assert_eq!(line.trim(), "READY");
    std::thread::sleep(Duration::from_millis(300));
    child.kill().expect("kill -9");
    let _ = child.wait();
}

fn time_open_and_load(dir: &Path, label: &str, twins: u64, rels: u64, cold: bool) {
    let cold = cold && drop_page_cache();
    let started = Instant::now();
    let store = RedbStore::open(dir).expect("open");
    let opened = started.elapsed();
    let snapshot = store.load().expect("load");
    let mut rows = [0u64; 2];
    let mut bytes = 0u64;
    for (slot, table) in [Table::Twins, Table::Relationships].into_iter().enumerate() {
        for row in snapshot.entries(table).expect("entries") {
            let (key, value) = row.expect("row");
            rows[slot] += 1;
            bytes += (key.len() + value.len()) as u64;
        }
    }
    let total = started.elapsed();
    assert_eq!(rows[0], twins);
    assert_eq!(rows[1], rels);
    println!(
        "  startup {label}, {} page cache: open {} (repaired: {}), load {} rows / {} MiB in {} => total {:.2} s ({:.0} rows/s)",
        if cold { "cold" } else { "warm" },
        ms(opened),
        store.was_repaired(),
        rows[0] + rows[1],
        bytes / (1024 * 1024),
        ms(total - opened),
        total.as_secs_f64(),
        (rows[0] + rows[1]) as f64 / (total - opened).as_secs_f64()
    );
}

/// Warm page cache; the two big tables scanned on two threads (the entry
/// iterators are `Send`), as a server could load twins and relationships.
fn time_parallel_load(dir: &Path, want_rows: u64) {
    let started = Instant::now();
    let store = RedbStore::open(dir).expect("open");
    let snapshot = store.load().expect("load");
    let scan = |entries: twinscape_store::Entries| {
        let mut rows = 0u64;
        for row in entries {
            row.expect("row");
            rows += 1;
        }
        rows
    };
    let twins = snapshot.entries(Table::Twins).expect("entries");
    let rels = snapshot.entries(Table::Relationships).expect("entries");
    let other = std::thread::spawn(move || scan(rels));
    let rows = scan(twins) + other.join().expect("scan thread");
    assert_eq!(rows, want_rows);
    println!(
        "  startup after a clean close, warm page cache, twins and relationships scanned on 2 threads: {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

/// Warm page cache; `Snapshot::for_each`, which lends each row instead of
/// allocating a key and a value.
fn time_visit_load(dir: &Path, want_rows: u64) {
    let started = Instant::now();
    let store = RedbStore::open(dir).expect("open");
    let snapshot = store.load().expect("load");
    let mut rows = 0u64;
    let mut bytes = 0u64;
    for table in [Table::Twins, Table::Relationships] {
        snapshot
            .for_each(table, &mut |k, v| {
                rows += 1;
                bytes += (k.len() + v.len()) as u64;
                std::ops::ControlFlow::Continue(())
            })
            .expect("for_each");
    }
    assert_eq!(rows, want_rows);
    println!(
        "  startup after a clean close, warm page cache, for_each (no allocation per row): {:.2} s for {} MiB",
        started.elapsed().as_secs_f64(),
        bytes / (1024 * 1024)
    );
}

/// Best effort: ask the kernel to drop clean cached pages so that a load reads
/// from disk, as after a reboot (works only as root). Returns whether it did.
fn drop_page_cache() -> bool {
    std::fs::write("/proc/sys/vm/drop_caches", "1").is_ok()
}

/// Bytes this process handed to write(2) and friends so far (`wchar`).
fn io_written_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("wchar:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
