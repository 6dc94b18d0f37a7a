//! Power-cut simulation (tests only). kill -9 (`tests/crash.rs`) keeps
//! everything the process had written, synced or not, in the OS page cache;
//! a power cut keeps only what was synced, plus any subset of the rest, in any
//! order, with torn sectors. This runs the real `RedbStore` on a simulated
//! disk that records every write since the last `sync_data`, captures the
//! disk at random moments of a write load, builds the images a power cut
//! could leave from each capture, and opens each of them: every batch
//! acknowledged before the capture must be there, whole, and no batch may be
//! there in part.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::{RedbOptions, RedbStore, Store, Table, WriteBatch};

const SECTOR: usize = 512;
const TWIN_KEYS: usize = 3;

#[derive(Clone, Debug)]
enum Pending {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

/// The disk at one moment: what is synced, what is not yet, and which
/// batches had been acknowledged by then.
#[derive(Clone, Debug)]
struct Capture {
    durable: Vec<u8>,
    pending: Vec<Pending>,
    acked: Vec<u32>,
}

#[derive(Debug, Default)]
struct DiskState {
    durable: Vec<u8>,
    current: Vec<u8>,
    pending: Vec<Pending>,
    ops: u64,
    capture_at: BTreeSet<u64>,
    captures: Vec<Capture>,
}

#[derive(Clone, Debug, Default)]
struct SimDisk {
    state: Arc<Mutex<DiskState>>,
    acked: Arc<Mutex<Vec<u32>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SimDisk {
    fn with_image(image: Vec<u8>) -> Self {
        let disk = SimDisk::default();
        {
            let mut s = lock(&disk.state);
            s.durable = image.clone();
            s.current = image;
        }
        disk
    }

    /// Count an operation; capture the disk if this one was picked.
    fn tick(&self, s: &mut DiskState) {
        s.ops += 1;
        if s.capture_at.contains(&s.ops) {
            let capture = Capture {
                durable: s.durable.clone(),
                pending: s.pending.clone(),
                acked: lock(&self.acked).clone(),
            };
            s.captures.push(capture);
        }
    }
}

fn apply(image: &mut Vec<u8>, pending: &Pending) {
    match pending {
        Pending::Write { offset, data } => {
            let offset = *offset as usize;
            if image.len() < offset + data.len() {
                image.resize(offset + data.len(), 0);
            }
            image[offset..offset + data.len()].copy_from_slice(data);
        }
        Pending::SetLen(len) => image.resize(*len as usize, 0),
    }
}

impl redb::StorageBackend for SimDisk {
    fn len(&self) -> Result<u64, std::io::Error> {
        Ok(lock(&self.state).current.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        let s = lock(&self.state);
        let start = offset as usize;
        let end = start + out.len();
        if end > s.current.len() {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        }
        out.copy_from_slice(&s.current[start..end]);
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        let mut s = lock(&self.state);
        self.tick(&mut s);
        let pending = Pending::SetLen(len);
        apply(&mut s.current, &pending);
        s.pending.push(pending);
        Ok(())
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        let mut s = lock(&self.state);
        self.tick(&mut s);
        s.durable = s.current.clone();
        s.pending.clear();
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        let mut s = lock(&self.state);
        self.tick(&mut s);
        let pending = Pending::Write {
            offset,
            data: data.to_vec(),
        };
        apply(&mut s.current, &pending);
        s.pending.push(pending);
        Ok(())
    }
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// An image a power cut at `capture` could leave. `mode` 0: only what was
/// synced; 1: everything written; otherwise a random subset of the unsynced
/// writes, in a random order, some torn at sector boundaries.
fn power_cut_image(capture: &Capture, mode: u32, rng: &mut Rng) -> Vec<u8> {
    let mut image = capture.durable.clone();
    match mode {
        0 => {}
        1 => capture.pending.iter().for_each(|p| apply(&mut image, p)),
        _ => {
            let mut order: Vec<&Pending> = capture.pending.iter().collect();
            // Fisher-Yates: the disk may persist unsynced writes in any order.
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
            for pending in order {
                if rng.below(2) == 0 {
                    continue;
                }
                match pending {
                    Pending::Write { offset, data } if rng.below(4) == 0 => {
                        // Torn: only some of the sectors reached the disk.
                        let sectors = data.len().div_ceil(SECTOR);
                        let keep = rng.below(sectors as u64) as usize;
                        let torn = Pending::Write {
                            offset: *offset,
                            data: data[..(keep * SECTOR).min(data.len())].to_vec(),
                        };
                        apply(&mut image, &torn);
                    }
                    other => apply(&mut image, other),
                }
            }
        }
    }
    image
}

fn batch(id: u32) -> WriteBatch {
    let mut batch = WriteBatch::new();
    for j in 0..TWIN_KEYS {
        batch.put(Table::Twins, format!("b{id:05}/k{j}"), format!("{id}:{j}"));
    }
    batch
        .put(Table::Relationships, format!("b{id:05}"), id.to_string())
        .append_log(id.to_string());
    batch
}

/// Check one recovered store: acknowledged batches whole, nothing partial.
fn check(store: &RedbStore, acked: &[u32], label: &str) {
    let snapshot = store.load().expect("load");
    let mut twins: BTreeMap<u32, usize> = BTreeMap::new();
    for row in snapshot.entries(Table::Twins).expect("entries") {
        let (key, value) = row.expect("row");
        let id: u32 = key[1..6].parse().expect("id");
        let j = &key[8..];
        assert_eq!(value, format!("{id}:{j}").into_bytes(), "{label}: {key}");
        *twins.entry(id).or_default() += 1;
    }
    let rels: BTreeSet<u32> = snapshot
        .entries(Table::Relationships)
        .expect("entries")
        .map(|row| row.expect("row").1)
        .map(|v| String::from_utf8(v).expect("utf8").parse().expect("id"))
        .collect();
    let log: BTreeSet<u32> = snapshot
        .log(0)
        .expect("log")
        .map(|e| String::from_utf8(e.expect("entry").payload).expect("utf8"))
        .map(|s| s.parse().expect("id"))
        .collect();
    for (id, n) in &twins {
        assert_eq!(*n, TWIN_KEYS, "{label}: batch {id} is partial");
    }
    let twin_ids: BTreeSet<u32> = twins.keys().copied().collect();
    assert_eq!(twin_ids, rels, "{label}: twins and relationships disagree");
    assert_eq!(log, rels, "{label}: log and tables disagree");
    // One committer, batches applied in order: what is there is a prefix.
    let present: Vec<u32> = rels.iter().copied().collect();
    let want: Vec<u32> = (0..present.len() as u32).collect();
    assert_eq!(present, want, "{label}: not a prefix");
    for id in acked {
        assert!(rels.contains(id), "{label}: acknowledged batch {id} lost");
    }
}

fn run(quick_repair: bool, seed: u64) {
    let options = RedbOptions {
        quick_repair,
        prefetch_on_open: false,
        ..RedbOptions::default()
    };
    let mut rng = Rng(seed);
    // A new store is created beside its final name and renamed into place
    // once durable (see `create_atomically`), so power cuts only matter from
    // the first open of a whole file on.
    let created = SimDisk::default();
    drop(RedbStore::open_backend(created.clone(), options.clone()).expect("create"));
    let image = lock(&created.state).durable.clone();
    let disk = SimDisk::with_image(image);
    {
        let mut s = lock(&disk.state);
        for _ in 0..40 {
            let at = 1 + rng.below(1500);
            s.capture_at.insert(at);
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    {
        let store = RedbStore::open_backend(disk.clone(), options.clone()).expect("open");
        let mut next = 0u32;
        runtime.block_on(async {
            while next < 400 {
                // Queue a few at once so that some share a group commit.
                let n = 1 + rng.below(4) as u32;
                let futures: Vec<_> = (next..next + n)
                    .map(|id| (id, store.commit(batch(id))))
                    .collect();
                for (id, fut) in futures {
                    fut.await.expect("commit");
                    lock(&disk.acked).push(id);
                }
                next += n;
            }
        });
    }
    let captures = std::mem::take(&mut lock(&disk.state).captures);
    eprintln!(
        "{} disk operations, {} captures",
        lock(&disk.state).ops,
        captures.len()
    );
    assert!(captures.len() > 20, "too few captures: {}", captures.len());
    let mut recovered = 0;
    for (c, capture) in captures.iter().enumerate() {
        for mode in 0..5 {
            let label = format!(
                "seed {seed}, quick_repair {quick_repair}, capture {c} ({} acked, {} unsynced writes), mode {mode}",
                capture.acked.len(),
                capture.pending.len()
            );
            let image = power_cut_image(capture, mode, &mut rng);
            let store = RedbStore::open_backend(SimDisk::with_image(image), options.clone())
                .unwrap_or_else(|e| panic!("{label}: reopen failed: {e}"));
            check(&store, &capture.acked, &label);
            recovered += 1;
        }
    }
    assert!(recovered >= 50);
}

/// A fresh seed, or `TWINSCAPE_STORE_POWER_CUT_SEED` to replay a failure.
fn seed() -> u64 {
    let seed = std::env::var("TWINSCAPE_STORE_POWER_CUT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(7, |d| d.as_nanos() as u64)
        })
        | 1;
    eprintln!("power-cut seed {seed}");
    seed
}

#[test]
fn a_power_cut_keeps_acknowledged_batches_and_no_partial_one() {
    run(false, seed());
}

#[test]
fn a_power_cut_with_quick_repair_keeps_acknowledged_batches() {
    run(true, seed());
}
