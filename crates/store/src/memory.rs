//! An in-memory backend: the same contract as [`RedbStore`](crate::RedbStore)
//! minus durability. For tests of code above the store, and a second
//! implementation that keeps the trait honest.

use std::collections::BTreeMap;
use std::ops::{Bound, ControlFlow};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::{
    CommitFuture, CommitInfo, Entries, Limits, LogEntries, LogEntry, Op, Snapshot, Store,
    StoreError, Table, WriteBatch,
};

#[derive(Clone, Debug)]
struct State {
    tables: [BTreeMap<String, Vec<u8>>; Table::ALL.len()],
    log: BTreeMap<u64, Vec<u8>>,
    batch_seq: u64,
    next_log_seq: u64,
}

impl Default for State {
    fn default() -> Self {
        Self {
            tables: Default::default(),
            log: BTreeMap::new(),
            batch_seq: 0,
            next_log_seq: 1,
        }
    }
}

/// Everything in memory, nothing on disk: lost when dropped. Commits apply
/// atomically, in call order, and resolve at once. Snapshots are O(1) (the
/// next commit copies the state if a snapshot still holds it).
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<Arc<State>>,
    limits: Limits,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_limits(limits: Limits) -> Self {
        Self {
            state: Mutex::default(),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Arc<State>> {
        // Nothing that runs under the lock can fail halfway (batches are
        // validated first), so a poisoned lock still guards whole batches.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Store for MemoryStore {
    fn commit(&self, batch: WriteBatch) -> CommitFuture {
        if let Err(err) = batch.validate(&self.limits) {
            return CommitFuture::ready(Err(err));
        }
        let mut guard = self.lock();
        // Copies the state only while a snapshot still shares it.
        let next = Arc::make_mut(&mut guard);
        next.batch_seq += 1;
        let first_log_seq = next.next_log_seq;
        for op in batch.into_ops() {
            match op {
                Op::Put { table, key, value } => {
                    next.tables[table.index()].insert(key, value);
                }
                Op::Delete { table, key } => {
                    next.tables[table.index()].remove(&key);
                }
                Op::AppendLog { payload } => {
                    next.log.insert(next.next_log_seq, payload);
                    next.next_log_seq += 1;
                }
                Op::TruncateLog { up_to_seq } => next.log.retain(|seq, _| *seq > up_to_seq),
            }
        }
        CommitFuture::ready(Ok(CommitInfo {
            batch_seq: next.batch_seq,
            log_seqs: first_log_seq..next.next_log_seq,
        }))
    }

    fn limits(&self) -> Limits {
        self.limits.clone()
    }

    fn load(&self) -> Result<Box<dyn Snapshot>, StoreError> {
        Ok(Box::new(MemorySnapshot {
            state: self.lock().clone(),
        }))
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().tables[table.index()].get(key).cloned())
    }

    fn read_log(&self, from_seq: u64, limit: usize) -> Result<Vec<LogEntry>, StoreError> {
        Ok(self
            .lock()
            .log
            .range(from_seq..)
            .take(limit)
            .map(|(seq, payload)| LogEntry {
                seq: *seq,
                payload: payload.clone(),
            })
            .collect())
    }
}

struct MemorySnapshot {
    state: Arc<State>,
}

impl Snapshot for MemorySnapshot {
    fn len(&self, table: Table) -> Result<u64, StoreError> {
        Ok(self.state.tables[table.index()].len() as u64)
    }

    fn entries(&self, table: Table) -> Result<Entries, StoreError> {
        let state = self.state.clone();
        let mut after: Option<String> = None;
        Ok(Box::new(std::iter::from_fn(move || {
            let rows = &state.tables[table.index()];
            let lower = match &after {
                Some(key) => Bound::Excluded(key.as_str()),
                None => Bound::Unbounded,
            };
            let (key, value) = rows.range::<str, _>((lower, Bound::Unbounded)).next()?;
            after = Some(key.clone());
            Some(Ok((key.clone(), value.clone())))
        })))
    }

    fn for_each(
        &self,
        table: Table,
        visit: &mut dyn FnMut(&str, &[u8]) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        for (key, value) in &self.state.tables[table.index()] {
            if visit(key, value).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn log(&self, from_seq: u64) -> Result<LogEntries, StoreError> {
        let state = self.state.clone();
        let mut next = from_seq;
        Ok(Box::new(std::iter::from_fn(move || {
            let (seq, payload) = state.log.range(next..).next()?;
            next = seq.checked_add(1)?;
            Some(Ok(LogEntry {
                seq: *seq,
                payload: payload.clone(),
            }))
        })))
    }

    fn last_batch_seq(&self) -> u64 {
        self.state.batch_seq
    }

    fn next_log_seq(&self) -> u64 {
        self.state.next_log_seq
    }
}
