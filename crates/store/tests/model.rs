//! Property test: random sequences of batches (puts, deletes, log appends
//! and truncations, some invalid), queued several at a time, with reopens in
//! between, against a naive in-memory model. After every step the whole
//! store must equal the model.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use twinscape_store::{
    CommitInfo, MemoryStore, Op, RedbStore, Store, StoreError, Table, WriteBatch,
};

#[derive(Clone, Debug)]
enum Step {
    /// Batches queued back to back (one group commit or several), then awaited.
    Commit(Vec<Vec<Op>>),
    /// Close and reopen the store.
    Reopen,
}

fn table() -> impl Strategy<Value = Table> {
    prop::sample::select(Table::ALL.to_vec())
}

fn key() -> impl Strategy<Value = String> {
    // A small key space, so that puts and deletes collide; rarely invalid.
    prop_oneof![
        20 => (0u8..6).prop_map(|k| format!("k{k}")),
        1 => Just(String::new()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (table(), key(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(table, key, value)| Op::Put { table, key, value }),
        3 => (table(), key()).prop_map(|(table, key)| Op::Delete { table, key }),
        3 => prop::collection::vec(any::<u8>(), 0..20).prop_map(|payload| Op::AppendLog { payload }),
        1 => (0u64..12).prop_map(|up_to_seq| Op::TruncateLog { up_to_seq }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => prop::collection::vec(prop::collection::vec(op(), 0..6), 1..5).prop_map(Step::Commit),
        1 => Just(Step::Reopen),
    ]
}

#[derive(Default)]
struct Model {
    rows: BTreeMap<(Table, String), Vec<u8>>,
    log: BTreeMap<u64, Vec<u8>>,
    batch_seq: u64,
    next_log_seq: u64,
}

impl Model {
    /// Apply a batch the way the store must: all of it, or none if invalid.
    fn apply(&mut self, ops: &[Op]) -> Option<CommitInfo> {
        let invalid = ops.iter().any(|op| match op {
            Op::Put { key, .. } | Op::Delete { key, .. } => key.is_empty(),
            _ => false,
        });
        if invalid {
            return None;
        }
        self.batch_seq += 1;
        let first = self.next_log_seq;
        for op in ops {
            match op {
                Op::Put { table, key, value } => {
                    self.rows.insert((*table, key.clone()), value.clone());
                }
                Op::Delete { table, key } => {
                    self.rows.remove(&(*table, key.clone()));
                }
                Op::AppendLog { payload } => {
                    self.log.insert(self.next_log_seq, payload.clone());
                    self.next_log_seq += 1;
                }
                Op::TruncateLog { up_to_seq } => self.log.retain(|seq, _| seq > up_to_seq),
            }
        }
        Some(CommitInfo {
            batch_seq: self.batch_seq,
            log_seqs: first..self.next_log_seq,
        })
    }
}

fn assert_matches(store: &dyn Store, model: &Model) -> Result<(), TestCaseError> {
    let snapshot = store.load().expect("load");
    let mut rows = BTreeMap::new();
    for table in Table::ALL {
        for row in snapshot.entries(table).expect("entries") {
            let (key, value) = row.expect("row");
            rows.insert((table, key), value);
        }
    }
    prop_assert_eq!(&rows, &model.rows);
    let log: BTreeMap<u64, Vec<u8>> = snapshot
        .log(0)
        .expect("log")
        .map(|e| e.map(|e| (e.seq, e.payload)).expect("entry"))
        .collect();
    prop_assert_eq!(&log, &model.log);
    prop_assert_eq!(snapshot.last_batch_seq(), model.batch_seq);
    prop_assert_eq!(snapshot.next_log_seq(), model.next_log_seq);
    for ((table, key), value) in &model.rows {
        let got = store.get(*table, key).expect("get");
        prop_assert_eq!(got.as_ref(), Some(value));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_store_behaves_like_a_map_and_a_log(steps in prop::collection::vec(step(), 1..25)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut redb: Arc<dyn Store> = Arc::new(RedbStore::open(dir.path()).expect("open"));
        // The in-memory backend must keep the same contract (but a reopen).
        let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let mut model = Model { next_log_seq: 1, ..Model::default() };
        for step in steps {
            match step {
                Step::Commit(batches) => {
                    let queued: Vec<_> = batches
                        .iter()
                        .map(|ops| {
                            let batch = WriteBatch::from(ops.clone());
                            (redb.commit(batch.clone()), memory.commit(batch))
                        })
                        .collect();
                    for (ops, (from_redb, from_memory)) in batches.iter().zip(queued) {
                        let want = model.apply(ops);
                        for outcome in [runtime.block_on(from_redb), runtime.block_on(from_memory)] {
                            match (&want, outcome) {
                                (Some(want), Ok(got)) => prop_assert_eq!(&got, want),
                                (None, Err(StoreError::EmptyKey { .. })) => {}
                                (want, got) => prop_assert!(false, "model {:?}, store {:?}", want, got),
                            }
                        }
                    }
                }
                Step::Reopen => {
                    drop(redb);
                    redb = Arc::new(RedbStore::open(dir.path()).expect("reopen"));
                }
            }
            assert_matches(&*redb, &model)?;
            assert_matches(&*memory, &model)?;
        }
    }
}
