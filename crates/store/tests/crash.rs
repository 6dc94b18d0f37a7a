//! kill -9 test: a child process commits batches from many tasks and prints
//! each batch's id only after its commit resolved; the parent SIGKILLs it at a
//! random moment, reopens the store and checks that every acknowledged batch
//! is fully there and that no batch is partly there. Several rounds on one
//! data dir, so each round also reopens a store that was killed before.
//!
//! The child is this test binary itself, re-run with `CHILD_DIR` set.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use twinscape_store::{RedbOptions, RedbStore, Store, StoreError, Table, WriteBatch};

const CHILD_DIR: &str = "TWINSCAPE_STORE_CRASH_DIR";
const CHILD_ROUND: &str = "TWINSCAPE_STORE_CRASH_ROUND";
const CHILD_QUICK_REPAIR: &str = "TWINSCAPE_STORE_CRASH_QUICK_REPAIR";
const SEED: &str = "TWINSCAPE_STORE_CRASH_SEED";
/// Rounds per run; `TWINSCAPE_STORE_CRASH_ROUNDS` overrides.
const ROUNDS: u32 = 8;
const TASKS: u32 = 32;
const TWIN_KEYS: usize = 4;
const BIG_KEYS: usize = 1000;

/// Task 0 writes a big batch every `BIG_EVERY` batches, so that some kills
/// land while a large transaction is being written.
const BIG_EVERY: u32 = 10;

fn batch_id(round: u32, task: u32, n: u32) -> String {
    format!("r{round}-t{task}-n{n}")
}

fn is_big(task: u32, n: u32) -> bool {
    task == 0 && n % BIG_EVERY == BIG_EVERY - 1
}

fn twin_value(key: &str) -> Vec<u8> {
    let mut value = key.as_bytes().to_vec();
    value.resize(300, b'.');
    value
}

/// The child: runs only when the parent re-invokes this binary.
#[test]
fn crash_child_process() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let round: u32 = std::env::var(CHILD_ROUND)
        .ok()
        .and_then(|r| r.parse().ok())
        .expect("round");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let quick_repair = std::env::var(CHILD_QUICK_REPAIR).is_ok_and(|v| v == "1");
        let options = RedbOptions {
            quick_repair,
            ..RedbOptions::default()
        };
        let store: Arc<dyn Store> =
            Arc::new(RedbStore::open_with(&dir, options).expect("open store"));
        println_flush("READY");
        let mut tasks = Vec::new();
        for task in 0..TASKS {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0.. {
                    let id = batch_id(round, task, n);
                    let mut batch = WriteBatch::new();
                    for j in 0..TWIN_KEYS {
                        let key = format!("{id}/k{j}");
                        batch.put(Table::Twins, key.clone(), twin_value(&key));
                    }
                    if is_big(task, n) {
                        for j in 0..BIG_KEYS {
                            let key = format!("{id}/big{j}");
                            batch.put(Table::Twins, key.clone(), twin_value(&key));
                        }
                    }
                    batch
                        .put(Table::Relationships, format!("{id}/rel"), id.clone())
                        .put(Table::Meta, format!("head/r{round}-t{task}"), n.to_string())
                        .put(Table::Jobs, format!("pending/{id}"), "1")
                        .append_log(id.clone());
                    if n > 0 {
                        batch.delete(
                            Table::Jobs,
                            format!("pending/{}", batch_id(round, task, n - 1)),
                        );
                    }
                    store.commit(batch).await.expect("commit");
                    println_flush(&format!("ACK {id}"));
                }
            }));
        }
        // Killed long before this; the timeout only guards a lost parent.
        let _ = tokio::time::timeout(Duration::from_secs(120), futures_all(tasks)).await;
    });
}

async fn futures_all(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for task in tasks {
        let _ = task.await;
    }
}

fn println_flush(line: &str) {
    let mut out = std::io::stdout().lock();
    // The parent reads these; a failed write means the parent is gone.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

#[test]
fn kill_9_keeps_every_acknowledged_batch_and_no_partial_one() {
    if std::env::var(CHILD_DIR).is_ok() {
        return;
    }
    let seed = std::env::var(SEED)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("crash test seed: {seed} (rerun with {SEED}={seed})");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let mut acked_all: BTreeSet<String> = BTreeSet::new();

    let rounds = std::env::var("TWINSCAPE_STORE_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    for round in 0..rounds {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_child_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_ROUND, round.to_string())
            // Both commit modes: with quick-repair off, reopening walks the
            // whole file to repair it.
            .env(CHILD_QUICK_REPAIR, if round % 2 == 0 { "1" } else { "0" })
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });

        // Wait for the first acknowledgement, then kill at a random moment.
        let mut acked: BTreeSet<String> = BTreeSet::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while acked.is_empty() {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("child acknowledged nothing within 60 s");
            if let Some(id) = line.strip_prefix("ACK ") {
                acked.insert(id.to_string());
            }
        }
        if round == 0 {
            // Two servers cannot open one data dir, across processes too.
            match RedbStore::open(dir.path()) {
                Err(StoreError::Locked { .. }) => {}
                other => panic!("a second process opened a store in use: {other:?}"),
            }
        }
        let delay = Duration::from_millis(20 + rng.below(600));
        std::thread::sleep(delay);
        child.kill().expect("SIGKILL the child");
        let status = child.wait().expect("wait");
        // Acknowledgements printed before the kill still count.
        reader.join().expect("reader");
        for line in rx.try_iter() {
            if let Some(id) = line.strip_prefix("ACK ") {
                acked.insert(id.to_string());
            }
        }
        eprintln!(
            "round {round}: killed after {delay:?} ({status}), {} batches acknowledged",
            acked.len()
        );
        acked_all.extend(acked);

        let store = RedbStore::open(dir.path()).expect("reopen after kill -9");
        eprintln!(
            "round {round}: reopened, repaired: {}",
            store.was_repaired()
        );
        check(&store, &acked_all, round);
    }
}

/// Every acknowledged batch is fully there; every batch that is there at all
/// is complete; each task's batches form a prefix (call order); the log and
/// the bookkeeping keys agree.
fn check(store: &RedbStore, acked: &BTreeSet<String>, round: u32) {
    let snapshot = store.load().expect("load");
    let ids_of = |table: Table| -> BTreeMap<String, Vec<(String, Vec<u8>)>> {
        let mut by_id: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
        for row in snapshot.entries(table).expect("entries") {
            let (key, value) = row.expect("row");
            let id = key.split('/').next().expect("id").to_string();
            by_id.entry(id).or_default().push((key, value));
        }
        by_id
    };

    // A batch counts as present by its relationship row.
    let rels = ids_of(Table::Relationships);
    let present: BTreeSet<String> = rels.keys().cloned().collect();
    for (id, rows) in &rels {
        assert_eq!(rows, &vec![(format!("{id}/rel"), id.as_bytes().to_vec())]);
    }

    let missing: Vec<&String> = acked.difference(&present).collect();
    assert!(
        missing.is_empty(),
        "round {round}: {} acknowledged batches lost, e.g. {:?}",
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>()
    );

    // Twins: all keys of a present batch, none of an absent one.
    let twins = ids_of(Table::Twins);
    let twin_ids: BTreeSet<String> = twins.keys().cloned().collect();
    assert_eq!(
        twin_ids, present,
        "round {round}: twins and relationships disagree"
    );
    for (id, rows) in &twins {
        let (task, n) = parse(id);
        let want = TWIN_KEYS + if is_big(task, n) { BIG_KEYS } else { 0 };
        assert_eq!(rows.len(), want, "round {round}: batch {id} is partial");
        for (key, value) in rows {
            assert_eq!(
                value,
                &twin_value(key),
                "round {round}: {key} has a wrong value"
            );
        }
    }

    // The log holds exactly the present batches, in per-task order.
    let mut log_ids = BTreeSet::new();
    let mut last_n: BTreeMap<(u32, u32), u32> = BTreeMap::new();
    let mut last_seq = 0;
    for entry in snapshot.log(0).expect("log") {
        let entry = entry.expect("log entry");
        assert!(entry.seq > last_seq);
        last_seq = entry.seq;
        let id = String::from_utf8(entry.payload).expect("utf8");
        let (task, n) = parse(&id);
        let round_of = id_round(&id);
        if let Some(prev) = last_n.insert((round_of, task), n) {
            assert_eq!(n, prev + 1, "round {round}: log out of order at {id}");
        }
        log_ids.insert(id);
    }
    assert_eq!(log_ids, present, "round {round}: log and tables disagree");
    assert!(snapshot.next_log_seq() > last_seq);

    // Per (round, task): batches 0..=head are present, the head is recorded,
    // and only the head's pending marker is left.
    let mut heads: BTreeMap<(u32, u32), u32> = BTreeMap::new();
    for id in &present {
        let (task, n) = parse(id);
        let key = (id_round(id), task);
        let head = heads.entry(key).or_insert(n);
        *head = (*head).max(n);
    }
    let count_per_task = present.iter().fold(BTreeMap::new(), |mut m, id| {
        *m.entry((id_round(id), parse(id).0)).or_insert(0u32) += 1;
        m
    });
    let mut pending_want = BTreeSet::new();
    for (&(r, task), &head) in &heads {
        assert_eq!(
            count_per_task[&(r, task)],
            head + 1,
            "round {round}: r{r}-t{task} has a gap"
        );
        let recorded = store
            .get(Table::Meta, &format!("head/r{r}-t{task}"))
            .expect("get")
            .expect("head recorded");
        assert_eq!(recorded, head.to_string().into_bytes());
        pending_want.insert(format!("pending/{}", batch_id(r, task, head)));
    }
    let pending: BTreeSet<String> = snapshot
        .entries(Table::Jobs)
        .expect("entries")
        .map(|row| row.expect("row").0)
        .collect();
    assert_eq!(pending, pending_want, "round {round}: pending markers");
}

fn parse(id: &str) -> (u32, u32) {
    let mut parts = id.split('-');
    let _round = parts.next();
    let task = parts.next().and_then(|t| t.strip_prefix('t')?.parse().ok());
    let n = parts.next().and_then(|n| n.strip_prefix('n')?.parse().ok());
    (task.expect("task"), n.expect("n"))
}

fn id_round(id: &str) -> u32 {
    id.split('-')
        .next()
        .and_then(|r| r.strip_prefix('r')?.parse().ok())
        .expect("round")
}
