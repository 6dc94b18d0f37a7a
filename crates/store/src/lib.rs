//! Twinscape's durable store.
//!
//! Owns: the bytes on disk under `--data-dir`, in a fixed set of named tables
//! ([`Table`]) of string keys and opaque values, plus one ordered log (the
//! outbox) keyed by a `u64` sequence. Writes arrive as [`WriteBatch`]es that are
//! applied atomically and acknowledged only once durable (fsync'd); the
//! embedded backend ([`RedbStore`]) applies them from a single writer thread
//! with group commit. Everything is reached through the [`Store`] trait, which
//! names no backend type, so another backend (PostgreSQL) can implement it;
//! [`MemoryStore`] implements it without durability, for tests.
//!
//! Must not: know what a twin, model or relationship is (values are opaque
//! bytes; the server owns their encoding and the in-memory graph), depend on
//! the server or the HTTP layer, or acknowledge a write before it is durable.
//!
//! ```no_run
//! # async fn demo() -> Result<(), twinscape_store::StoreError> {
//! use std::ops::ControlFlow;
//! use std::sync::Arc;
//! use twinscape_store::{RedbStore, Store, Table, WriteBatch};
//!
//! let store: Arc<dyn Store> = Arc::new(RedbStore::open("data")?);
//!
//! // Write through: one atomic batch per change, plus its event.
//! let mut batch = WriteBatch::new();
//! batch
//!     .put(Table::Twins, "room-1", br#"{"$dtId":"room-1"}"#.to_vec())
//!     .append_log(br#"{"type":"twin.create","id":"room-1"}"#.to_vec());
//! let info = store.commit(batch).await?; // durable once this resolves
//! println!("batch {} gave event seq {}", info.batch_seq, info.log_seqs.start);
//!
//! // Startup: stream everything back.
//! let snapshot = store.load()?;
//! snapshot.for_each(Table::Twins, &mut |id, json| {
//!     println!("{id}: {} bytes", json.len());
//!     ControlFlow::Continue(())
//! })?;
//! let events = store.read_log(0, 100)?;
//! if let Some(last) = events.last() {
//!     store.truncate_log(last.seq).await?;
//! }
//! # Ok(())
//! # }
//! ```

mod batch;
mod error;
mod future;
mod memory;
#[cfg(test)]
mod power_cut;
mod redb_store;

use std::ops::{ControlFlow, Range};

pub use batch::{Limits, Op, WriteBatch};
pub use error::StoreError;
pub use future::{CommitCompleter, CommitFuture};
pub use memory::MemoryStore;
pub use redb_store::{DATABASE_FILE, RedbOptions, RedbStore, StoreStats};

/// The named tables of string keys. The set is fixed: a backend creates all of
/// them when it opens, so every table can be read even before its first write.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Models,
    Twins,
    Relationships,
    EventRoutes,
    Endpoints,
    Jobs,
    Meta,
    /// Events that could not be delivered (`crates/events`).
    DeadLetters,
    /// 3D scene configurations (`crates/scene`).
    Scenes,
}

impl Table {
    /// Every table, in a stable order.
    pub const ALL: [Table; 9] = [
        Table::Models,
        Table::Twins,
        Table::Relationships,
        Table::EventRoutes,
        Table::Endpoints,
        Table::Jobs,
        Table::Meta,
        Table::DeadLetters,
        Table::Scenes,
    ];

    /// The table's stable name (also its name on disk).
    pub const fn name(self) -> &'static str {
        match self {
            Table::Models => "models",
            Table::Twins => "twins",
            Table::Relationships => "relationships",
            Table::EventRoutes => "event_routes",
            Table::Endpoints => "endpoints",
            Table::Jobs => "jobs",
            Table::Meta => "meta",
            Table::DeadLetters => "dead_letters",
            Table::Scenes => "scenes",
        }
    }

    /// Position in [`Table::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a durable commit reports back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    /// The batch's position in the store's total commit order: strictly
    /// increasing across commits and restarts (starts at 1).
    pub batch_seq: u64,
    /// The log sequence numbers given to this batch's [`WriteBatch::append_log`]
    /// entries, in order; empty when it appended none. A batch's entries are
    /// contiguous, and later batches get higher numbers.
    pub log_seqs: Range<u64>,
}

/// One entry of the ordered log (outbox).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub seq: u64,
    pub payload: Vec<u8>,
}

/// A row of a keyed table, as read back.
pub type Entry = (String, Vec<u8>);

/// A streaming iterator over a table's rows in key order.
pub type Entries = Box<dyn Iterator<Item = Result<Entry, StoreError>> + Send>;

/// A streaming iterator over log entries in sequence order.
pub type LogEntries = Box<dyn Iterator<Item = Result<LogEntry, StoreError>> + Send>;

/// A consistent, point-in-time view of everything in the store, for loading
/// it at startup. Iterators stream from disk: nothing is read until asked for.
/// Commits made after the snapshot was taken are not visible in it.
pub trait Snapshot: Send {
    /// Number of rows in `table`.
    fn len(&self, table: Table) -> Result<u64, StoreError>;

    /// Every row of `table`, in key order.
    fn entries(&self, table: Table) -> Result<Entries, StoreError>;

    /// Call `visit` with every row of `table`, in key order, lending the key
    /// and value instead of allocating them (the fastest way to load). Stops
    /// early when `visit` returns `ControlFlow::Break`; keep your own error in
    /// the closure.
    fn for_each(
        &self,
        table: Table,
        visit: &mut dyn FnMut(&str, &[u8]) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        for row in self.entries(table)? {
            let (key, value) = row?;
            if visit(&key, &value).is_break() {
                break;
            }
        }
        Ok(())
    }

    /// Log entries with `seq >= from_seq`, in sequence order.
    fn log(&self, from_seq: u64) -> Result<LogEntries, StoreError>;

    /// The `batch_seq` of the last batch committed before the snapshot (0 if none).
    fn last_batch_seq(&self) -> u64;

    /// The sequence number the next log append will get.
    fn next_log_seq(&self) -> u64;
}

/// The durable store, as the server sees it. Object safe: use it as
/// `Arc<dyn Store>`.
///
/// Ordering: batches are applied in the order [`Store::commit`] was *called*
/// (the batch is queued before `commit` returns), so a caller that calls
/// `commit` while holding its own lock gets its lock order on disk. Awaiting
/// the returned future only waits for durability; dropping it does not cancel
/// the write.
///
/// Reads (`load`, `get`, `read_log`) may block on disk I/O; from async code
/// call them through `tokio::task::spawn_blocking` when they may be large.
pub trait Store: Send + Sync {
    /// Queue `batch` to be applied atomically. The future resolves once the
    /// batch is durable, or with the error that kept it from being applied (in
    /// which case none of it was applied).
    fn commit(&self, batch: WriteBatch) -> CommitFuture;

    /// A consistent snapshot of every table and the log.
    fn load(&self) -> Result<Box<dyn Snapshot>, StoreError>;

    /// One row of `table`, as of the last durable commit.
    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Up to `limit` log entries with `seq >= from_seq`, in order.
    fn read_log(&self, from_seq: u64, limit: usize) -> Result<Vec<LogEntry>, StoreError>;

    /// What a batch may hold here. A caller that changes its own state
    /// before committing can check `batch.validate(&store.limits())` first,
    /// so that an invalid batch never leaves memory and disk apart.
    fn limits(&self) -> Limits {
        Limits::default()
    }

    /// Delete every log entry with `seq <= up_to_seq`, durably. Sequence
    /// numbers are never reused, even when the log becomes empty.
    fn truncate_log(&self, up_to_seq: u64) -> CommitFuture {
        let mut batch = WriteBatch::new();
        batch.truncate_log(up_to_seq);
        self.commit(batch)
    }
}
