//! The embedded backend: one redb file, one writer thread, group commit.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redb::{
    Builder, Database, DatabaseError, Durability, ReadTransaction, ReadableDatabase, ReadableTable,
    ReadableTableMetadata, TableDefinition,
};

use crate::{
    CommitCompleter, CommitFuture, CommitInfo, Entries, Limits, LogEntries, LogEntry, Op, Snapshot,
    Store, StoreError, Table, WriteBatch,
};

/// The store's file inside the data directory.
pub const DATABASE_FILE: &str = "twinscape.redb";

/// Version of the layout below; bumped on any incompatible change.
const FORMAT_VERSION: u64 = 1;

/// The store's own bookkeeping (format version, counters).
const STATE: TableDefinition<&str, u64> = TableDefinition::new("_store");
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
const KEY_FORMAT: &str = "format";
const KEY_BATCH_SEQ: &str = "batch_seq";
const KEY_NEXT_LOG_SEQ: &str = "next_log_seq";

const fn table_def(table: Table) -> TableDefinition<'static, &'static str, &'static [u8]> {
    TableDefinition::new(table.name())
}

/// Tuning of [`RedbStore`]. The defaults suit the server.
#[derive(Clone, Debug)]
pub struct RedbOptions {
    /// redb's page cache, in bytes.
    pub cache_size: usize,
    /// Save the allocator state with every commit, with a two-phase commit
    /// (two fsyncs), so that reopening after a crash needs no repair. Off by
    /// default: it costs up to half the durable commits/s (most with few
    /// committers), while the repair it saves (a walk of the whole file, only
    /// after a crash) takes seconds at a million twins; see
    /// `docs/benchmarks.md`.
    pub quick_repair: bool,
    /// At most this many batches go into one group commit.
    pub max_group_batches: usize,
    /// A group stops taking batches once it carries this many bytes.
    pub max_group_bytes: usize,
    /// What a batch may hold.
    pub limits: Limits,
    /// When opening an existing file, read it front to back on a background
    /// thread, so that a repair after a crash and the startup
    /// [`Store::load`] (both visit pages in key order, scattered over the
    /// file) find them in the OS page cache instead of waiting on one random
    /// read each. Costs nothing but a core while it runs when the file is
    /// already cached.
    pub prefetch_on_open: bool,
    /// When the last group commit took at least this long, the writer waits
    /// up to a quarter of that time (at most `max_linger`) for as many
    /// batches as the larger of the last two groups had, before committing.
    pub linger_threshold: Duration,
    /// Upper bound of that wait; zero turns lingering off.
    pub max_linger: Duration,
}

impl Default for RedbOptions {
    fn default() -> Self {
        Self {
            cache_size: 256 * 1024 * 1024,
            quick_repair: false,
            max_group_batches: 4096,
            max_group_bytes: 64 * 1024 * 1024,
            limits: Limits::default(),
            prefetch_on_open: true,
            linger_threshold: Duration::from_millis(1),
            max_linger: Duration::from_millis(1),
        }
    }
}

/// Counters of the writer, for benchmarks and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// redb write transactions committed (or tried).
    pub groups: u64,
    /// Batches acknowledged as durable.
    pub batches: u64,
    /// Batches that failed in the writer (invalid batches rejected at
    /// [`Store::commit`] are not counted).
    pub failed_batches: u64,
    /// Time spent in redb, applying and committing groups.
    pub write_time: Duration,
    /// Groups for which the writer waited for more batches (see
    /// [`RedbOptions::max_linger`]).
    pub lingered: u64,
}

#[derive(Default)]
struct Counters {
    groups: AtomicU64,
    batches: AtomicU64,
    failed_batches: AtomicU64,
    write_nanos: AtomicU64,
    lingered: AtomicU64,
}

struct Request {
    batch: WriteBatch,
    bytes: usize,
    completer: CommitCompleter,
}

/// The embedded store: `<data-dir>/twinscape.redb`, written by one thread
/// that commits everything queued in one durable redb transaction.
pub struct RedbStore {
    db: Arc<Database>,
    file: PathBuf,
    options: RedbOptions,
    queue: Option<mpsc::Sender<Request>>,
    writer: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
    repaired: bool,
    _prefetch: Option<Prefetch>,
    /// Held by tests to make the writer wait, so that a queue builds up.
    #[cfg(test)]
    pause: Arc<std::sync::Mutex<()>>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Open (or create) the store in `data_dir` with default options.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(data_dir, RedbOptions::default())
    }

    /// Open (or create) the store in `data_dir`, creating the directory as
    /// needed. Fails with [`StoreError::Locked`] when another process or
    /// handle has it open.
    pub fn open_with(data_dir: impl AsRef<Path>, options: RedbOptions) -> Result<Self, StoreError> {
        let dir = data_dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::CreateDir {
            dir: dir.clone(),
            source: Arc::new(source),
        })?;
        let file = dir.join(DATABASE_FILE);
        let started = Instant::now();
        // An empty file holds nothing (it can only be left by a creation cut
        // short outside this code); it is created anew like a missing one.
        let exists = match std::fs::metadata(&file) {
            Ok(meta) => meta.len() > 0,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => false,
            Err(err) => {
                return Err(StoreError::Open {
                    file: file.clone(),
                    source: Arc::new(err),
                });
            }
        };
        if !exists {
            create_atomically(&dir, &file, &options)?;
        }
        let prefetch = options.prefetch_on_open.then(|| Prefetch::start(&file));
        let repaired = Arc::new(AtomicBool::new(false));
        let db = builder(&options, &file, &repaired)
            .open(&file)
            .map_err(|err| match err {
                DatabaseError::DatabaseAlreadyOpen => StoreError::Locked {
                    dir: dir.clone(),
                    file: file.clone(),
                },
                other => StoreError::Open {
                    file: file.clone(),
                    source: Arc::new(other),
                },
            })?;
        Self::start(
            db,
            file,
            options,
            repaired.load(Ordering::Relaxed),
            prefetch,
            started,
        )
    }

    /// Open a store on any redb storage backend (tests simulate power cuts
    /// with one that loses unsynced writes).
    #[cfg(test)]
    pub(crate) fn open_backend(
        backend: impl redb::StorageBackend,
        options: RedbOptions,
    ) -> Result<Self, StoreError> {
        let file = PathBuf::from("<test backend>");
        let started = Instant::now();
        let repaired = Arc::new(AtomicBool::new(false));
        let db = builder(&options, &file, &repaired)
            .create_with_backend(backend)
            .map_err(|err| StoreError::Open {
                file: file.clone(),
                source: Arc::new(err),
            })?;
        Self::start(
            db,
            file,
            options,
            repaired.load(Ordering::Relaxed),
            None,
            started,
        )
    }

    fn start(
        db: Database,
        file: PathBuf,
        options: RedbOptions,
        repaired: bool,
        prefetch: Option<Prefetch>,
        started: Instant,
    ) -> Result<Self, StoreError> {
        let db = Arc::new(db);
        let (batch_seq, next_log_seq) = init(&db, &file, options.quick_repair)?;
        tracing::info!(
            file = %file.display(),
            repaired,
            batch_seq,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "store opened"
        );

        let (tx, rx) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        #[cfg(test)]
        let pause = Arc::new(std::sync::Mutex::new(()));
        let writer = Writer {
            #[cfg(test)]
            pause: pause.clone(),
            db: db.clone(),
            rx,
            batch_seq,
            next_log_seq,
            options: options.clone(),
            counters: counters.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("twinscape-store-writer".into())
            .spawn(move || writer.run())
            .map_err(|source| StoreError::backend("starting the writer thread", source))?;
        Ok(Self {
            db,
            file,
            options,
            queue: Some(tx),
            writer: Some(handle),
            counters,
            repaired,
            _prefetch: prefetch,
            #[cfg(test)]
            pause,
        })
    }

    /// The database file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Whether opening had to repair the file (it was not closed cleanly).
    pub fn was_repaired(&self) -> bool {
        self.repaired
    }

    pub fn options(&self) -> &RedbOptions {
        &self.options
    }

    /// The writer's counters so far.
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            groups: self.counters.groups.load(Ordering::Relaxed),
            batches: self.counters.batches.load(Ordering::Relaxed),
            failed_batches: self.counters.failed_batches.load(Ordering::Relaxed),
            write_time: Duration::from_nanos(self.counters.write_nanos.load(Ordering::Relaxed)),
            lingered: self.counters.lingered.load(Ordering::Relaxed),
        }
    }

    fn read_txn(&self) -> Result<ReadTransaction, StoreError> {
        self.db
            .begin_read()
            .map_err(|e| StoreError::backend("starting a read transaction", e))
    }
}

/// Create and initialise a new database beside `file`, make it durable, and
/// rename it into place, so that a power cut while creating leaves either
/// no database or a whole one (redb's first writes are not crash-safe until
/// its first commit: a file cut short there does not open).
fn create_atomically(dir: &Path, file: &Path, options: &RedbOptions) -> Result<(), StoreError> {
    let tmp = dir.join(format!("{DATABASE_FILE}.creating"));
    let io = |source: std::io::Error| StoreError::Open {
        file: file.to_path_buf(),
        source: Arc::new(source),
    };
    // Left by a creation that was cut short: it never held data.
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(io(err)),
    }
    {
        let unused = Arc::new(AtomicBool::new(false));
        let db = builder(options, &tmp, &unused)
            .create(&tmp)
            .map_err(|err| StoreError::Open {
                file: tmp.clone(),
                source: Arc::new(err),
            })?;
        init(&db, &tmp, options.quick_repair)?;
    }
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&tmp, file).map_err(io)?;
    // Make the rename itself durable.
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(())
}

fn builder(options: &RedbOptions, file: &Path, repaired: &Arc<AtomicBool>) -> Builder {
    let repair_flag = repaired.clone();
    let repair_file = file.to_path_buf();
    let mut builder = Builder::new();
    builder
        .set_cache_size(options.cache_size)
        .set_repair_callback(move |session| {
            if !repair_flag.swap(true, Ordering::Relaxed) {
                tracing::warn!(file = %repair_file.display(), "store was not closed cleanly; repairing");
            }
            tracing::debug!(progress = session.progress(), "store repair");
        });
    builder
}

/// Create every table, check the format, and read the counters.
fn init(db: &Database, file: &Path, quick_repair: bool) -> Result<(u64, u64), StoreError> {
    let ctx = "initialising the store";
    let mut txn = db.begin_write().map_err(|e| StoreError::backend(ctx, e))?;
    txn.set_quick_repair(quick_repair);
    let counters = {
        for table in Table::ALL {
            txn.open_table(table_def(table))
                .map_err(|e| StoreError::backend(ctx, e))?;
        }
        txn.open_table(LOG)
            .map_err(|e| StoreError::backend(ctx, e))?;
        let mut state = txn
            .open_table(STATE)
            .map_err(|e| StoreError::backend(ctx, e))?;
        let format = state
            .get(KEY_FORMAT)
            .map_err(|e| StoreError::backend(ctx, e))?
            .map(|g| g.value());
        match format {
            None => {
                state
                    .insert(KEY_FORMAT, FORMAT_VERSION)
                    .map_err(|e| StoreError::backend(ctx, e))?;
            }
            Some(FORMAT_VERSION) => {}
            Some(found) => {
                return Err(StoreError::UnsupportedFormat {
                    file: file.to_path_buf(),
                    found,
                    supported: FORMAT_VERSION,
                });
            }
        }
        read_counters(&state)?
    };
    txn.commit().map_err(|e| StoreError::backend(ctx, e))?;
    Ok(counters)
}

fn read_counters(state: &impl ReadableTable<&'static str, u64>) -> Result<(u64, u64), StoreError> {
    let ctx = "reading the store's counters";
    let batch_seq = state
        .get(KEY_BATCH_SEQ)
        .map_err(|e| StoreError::backend(ctx, e))?
        .map_or(0, |g| g.value());
    let next_log_seq = state
        .get(KEY_NEXT_LOG_SEQ)
        .map_err(|e| StoreError::backend(ctx, e))?
        .map_or(1, |g| g.value());
    Ok((batch_seq, next_log_seq))
}

impl Drop for RedbStore {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish what is queued, then exit.
        drop(self.queue.take());
        if let Some(handle) = self.writer.take()
            && handle.join().is_err()
        {
            tracing::error!("the store writer thread panicked");
        }
    }
}

impl Store for RedbStore {
    fn commit(&self, batch: WriteBatch) -> CommitFuture {
        let bytes = match batch.validate(&self.options.limits) {
            Ok(bytes) => bytes,
            Err(err) => return CommitFuture::ready(Err(err)),
        };
        let Some(queue) = &self.queue else {
            return CommitFuture::ready(Err(StoreError::Closed));
        };
        let (completer, future) = CommitFuture::channel();
        match queue.send(Request {
            batch,
            bytes,
            completer,
        }) {
            Ok(()) => future,
            // The writer is gone; the completer was dropped with the request.
            Err(_) => CommitFuture::ready(Err(StoreError::Closed)),
        }
    }

    fn limits(&self) -> Limits {
        self.options.limits.clone()
    }

    fn load(&self) -> Result<Box<dyn Snapshot>, StoreError> {
        let txn = self.read_txn()?;
        let state = txn
            .open_table(STATE)
            .map_err(|e| StoreError::backend("opening the state table", e))?;
        let (batch_seq, next_log_seq) = read_counters(&state)?;
        drop(state);
        Ok(Box::new(RedbSnapshot {
            txn,
            batch_seq,
            next_log_seq,
        }))
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let ctx = "reading a row";
        let txn = self.read_txn()?;
        let t = txn
            .open_table(table_def(table))
            .map_err(|e| StoreError::backend(ctx, e))?;
        Ok(t.get(key)
            .map_err(|e| StoreError::backend(ctx, e))?
            .map(|g| g.value().to_vec()))
    }

    fn read_log(&self, from_seq: u64, limit: usize) -> Result<Vec<LogEntry>, StoreError> {
        let ctx = "reading the log";
        let txn = self.read_txn()?;
        let log = txn
            .open_table(LOG)
            .map_err(|e| StoreError::backend(ctx, e))?;
        let range = log
            .range(from_seq..)
            .map_err(|e| StoreError::backend(ctx, e))?;
        range
            .take(limit)
            .map(|row| {
                let (k, v) = row.map_err(|e| StoreError::backend(ctx, e))?;
                Ok(LogEntry {
                    seq: k.value(),
                    payload: v.value().to_vec(),
                })
            })
            .collect()
    }
}

struct RedbSnapshot {
    txn: ReadTransaction,
    batch_seq: u64,
    next_log_seq: u64,
}

/// Reads a file front to back on a background thread, only to pull it into
/// the OS page cache; stops early when dropped. Best effort: errors end it.
struct Prefetch {
    stop: Arc<AtomicBool>,
}

impl Prefetch {
    fn start(file: &Path) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let file = file.to_path_buf();
        let spawned = std::thread::Builder::new()
            .name("twinscape-store-prefetch".into())
            .spawn(move || {
                use std::io::Read;
                let Ok(mut f) = std::fs::File::open(&file) else {
                    return;
                };
                // Pointless (it would evict itself) when the file does not
                // fit in the memory the OS has to spare.
                let len = f.metadata().map_or(0, |m| m.len());
                if let Some(available) = mem_available()
                    && len > available / 2
                {
                    tracing::debug!(len, available, "store file too big to prefetch");
                    return;
                }
                let mut buf = vec![0u8; 4 * 1024 * 1024];
                while !flag.load(Ordering::Relaxed) {
                    match f.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            });
        if let Err(err) = spawned {
            tracing::debug!(error = %err, "no prefetch thread");
        }
        Self { stop }
    }
}

/// `MemAvailable` from `/proc/meminfo`, in bytes (Linux; `None` elsewhere).
fn mem_available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Snapshot for RedbSnapshot {
    fn len(&self, table: Table) -> Result<u64, StoreError> {
        let ctx = "counting rows";
        self.txn
            .open_table(table_def(table))
            .map_err(|e| StoreError::backend(ctx, e))?
            .len()
            .map_err(|e| StoreError::backend(ctx, e))
    }

    fn entries(&self, table: Table) -> Result<Entries, StoreError> {
        let ctx = "scanning a table";
        let t = self
            .txn
            .open_table(table_def(table))
            .map_err(|e| StoreError::backend(ctx, e))?;
        let range = t
            .range::<&str>(..)
            .map_err(|e| StoreError::backend(ctx, e))?;
        Ok(Box::new(range.map(|row| {
            let (k, v) = row.map_err(|e| StoreError::backend("scanning a table", e))?;
            Ok((k.value().to_owned(), v.value().to_vec()))
        })))
    }

    fn for_each(
        &self,
        table: Table,
        visit: &mut dyn FnMut(&str, &[u8]) -> ControlFlow<()>,
    ) -> Result<(), StoreError> {
        let ctx = "scanning a table";
        let t = self
            .txn
            .open_table(table_def(table))
            .map_err(|e| StoreError::backend(ctx, e))?;
        for row in t
            .range::<&str>(..)
            .map_err(|e| StoreError::backend(ctx, e))?
        {
            let (k, v) = row.map_err(|e| StoreError::backend(ctx, e))?;
            if visit(k.value(), v.value()).is_break() {
                break;
            }
        }
        Ok(())
    }

    fn log(&self, from_seq: u64) -> Result<LogEntries, StoreError> {
        let ctx = "scanning the log";
        let log = self
            .txn
            .open_table(LOG)
            .map_err(|e| StoreError::backend(ctx, e))?;
        let range = log
            .range(from_seq..)
            .map_err(|e| StoreError::backend(ctx, e))?;
        Ok(Box::new(range.map(|row| {
            let (k, v) = row.map_err(|e| StoreError::backend("scanning the log", e))?;
            Ok(LogEntry {
                seq: k.value(),
                payload: v.value().to_vec(),
            })
        })))
    }

    fn last_batch_seq(&self) -> u64 {
        self.batch_seq
    }

    fn next_log_seq(&self) -> u64 {
        self.next_log_seq
    }
}

/// The only code that writes: owns the redb write side.
struct Writer {
    db: Arc<Database>,
    rx: mpsc::Receiver<Request>,
    batch_seq: u64,
    next_log_seq: u64,
    options: RedbOptions,
    counters: Arc<Counters>,
    #[cfg(test)]
    pause: Arc<std::sync::Mutex<()>>,
}

impl Writer {
    fn run(mut self) {
        let max_batches = self.options.max_group_batches.max(1);
        let max_bytes = self.options.max_group_bytes;
        let mut group: Vec<Request> = Vec::new();
        // Sizes and duration of the last two groups, for lingering.
        let mut last_sizes = [0usize; 2];
        let mut last_time = Duration::ZERO;
        // recv() fails only once every sender is gone and the queue is empty.
        while let Ok(first) = self.rx.recv() {
            #[cfg(test)]
            drop(self.pause.lock());
            let mut bytes = first.bytes;
            group.push(first);
            while group.len() < max_batches && bytes < max_bytes {
                match self.rx.try_recv() {
                    Ok(next) => {
                        bytes = bytes.saturating_add(next.bytes);
                        group.push(next);
                    }
                    Err(_) => break,
                }
            }
            // Linger: when commits are slow (a slow fsync) and several
            // committers are active, wait briefly for the committers just
            // acknowledged to send their next batch, so that they join this
            // group instead of waiting a whole commit for the next one.
            let expected = last_sizes[0].max(last_sizes[1]).min(max_batches);
            let linger = self.linger(last_time);
            if expected > 1 && group.len() < expected && !linger.is_zero() {
                self.counters.lingered.fetch_add(1, Ordering::Relaxed);
                let deadline = Instant::now() + linger;
                while group.len() < expected && bytes < max_bytes {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match self.rx.recv_timeout(left) {
                        Ok(next) => {
                            bytes = bytes.saturating_add(next.bytes);
                            group.push(next);
                        }
                        Err(_) => break,
                    }
                }
            }
            last_sizes = [last_sizes[1], group.len()];
            let started = Instant::now();
            self.commit_group(&mut group);
            last_time = started.elapsed();
        }
    }

    /// How long to wait for more batches, given how long the last group
    /// took: a fraction of it, so that it costs little next to the commit.
    fn linger(&self, last_group_time: Duration) -> Duration {
        if last_group_time < self.options.linger_threshold {
            return Duration::ZERO;
        }
        (last_group_time / 4).min(self.options.max_linger)
    }

    fn commit_group(&mut self, group: &mut Vec<Request>) {
        let result = {
            let batches: Vec<&WriteBatch> = group.iter().map(|r| &r.batch).collect();
            self.apply(&batches)
        };
        match result {
            Ok(infos) => {
                self.counters
                    .batches
                    .fetch_add(infos.len() as u64, Ordering::Relaxed);
                for (request, info) in group.drain(..).zip(infos) {
                    request.completer.complete(Ok(info));
                }
            }
            Err(err) if group.len() > 1 => {
                // Something in the group failed in redb; retry each batch
                // alone so that one bad batch fails alone.
                tracing::warn!(error = %err, batches = group.len(), "group commit failed; retrying batches one by one");
                for request in group.drain(..) {
                    let outcome = self.apply(&[&request.batch]).and_then(|infos| {
                        infos.into_iter().next().ok_or(StoreError::Corrupt(
                            "a committed batch got no commit info".into(),
                        ))
                    });
                    self.count_outcome(&outcome);
                    request.completer.complete(outcome);
                }
            }
            Err(err) => {
                self.counters.failed_batches.fetch_add(1, Ordering::Relaxed);
                for request in group.drain(..) {
                    request.completer.complete(Err(err.clone()));
                }
            }
        }
    }

    fn count_outcome(&self, outcome: &Result<CommitInfo, StoreError>) {
        let counter = if outcome.is_ok() {
            &self.counters.batches
        } else {
            &self.counters.failed_batches
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Apply `batches` in one durable write transaction: all or nothing.
    fn apply(&mut self, batches: &[&WriteBatch]) -> Result<Vec<CommitInfo>, StoreError> {
        let started = Instant::now();
        let (batch_seq, next_log_seq) = (self.batch_seq, self.next_log_seq);
        let result = self.apply_inner(batches);
        if result.is_err() {
            // Nothing was committed: hand out the same numbers again.
            self.batch_seq = batch_seq;
            self.next_log_seq = next_log_seq;
        }
        self.counters.groups.fetch_add(1, Ordering::Relaxed);
        self.counters
            .write_nanos
            .fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        result
    }

    fn apply_inner(&mut self, batches: &[&WriteBatch]) -> Result<Vec<CommitInfo>, StoreError> {
        let ctx = "writing a batch";
        let err = |e: redb::Error| StoreError::backend(ctx, e);
        let mut txn = self.db.begin_write().map_err(|e| err(e.into()))?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| StoreError::backend(ctx, e))?;
        txn.set_quick_repair(self.options.quick_repair);
        let mut infos = Vec::with_capacity(batches.len());
        {
            let mut tables: [Option<redb::Table<&str, &[u8]>>; Table::ALL.len()] =
                std::array::from_fn(|_| None);
            let mut log: Option<redb::Table<u64, &[u8]>> = None;
            for batch in batches {
                self.batch_seq += 1;
                let first_log_seq = self.next_log_seq;
                for op in batch.ops() {
                    match op {
                        Op::Put { table, key, value } => {
                            #[cfg(test)]
                            if key == tests::FAULT_KEY {
                                return Err(StoreError::Corrupt("injected fault".into()));
                            }
                            open_slot(&txn, &mut tables[table.index()], table_def(*table))?
                                .insert(key.as_str(), value.as_slice())
                                .map_err(|e| err(e.into()))?;
                        }
                        Op::Delete { table, key } => {
                            open_slot(&txn, &mut tables[table.index()], table_def(*table))?
                                .remove(key.as_str())
                                .map_err(|e| err(e.into()))?;
                        }
                        Op::AppendLog { payload } => {
                            open_slot(&txn, &mut log, LOG)?
                                .insert(self.next_log_seq, payload.as_slice())
                                .map_err(|e| err(e.into()))?;
                            self.next_log_seq += 1;
                        }
                        Op::TruncateLog { up_to_seq } => {
                            open_slot(&txn, &mut log, LOG)?
                                .retain_in(..=*up_to_seq, |_, _| false)
                                .map_err(|e| err(e.into()))?;
                        }
                    }
                }
                infos.push(CommitInfo {
                    batch_seq: self.batch_seq,
                    log_seqs: first_log_seq..self.next_log_seq,
                });
            }
            let mut state = txn.open_table(STATE).map_err(|e| err(e.into()))?;
            state
                .insert(KEY_BATCH_SEQ, self.batch_seq)
                .map_err(|e| err(e.into()))?;
            state
                .insert(KEY_NEXT_LOG_SEQ, self.next_log_seq)
                .map_err(|e| err(e.into()))?;
        }
        txn.commit().map_err(|e| err(e.into()))?;
        Ok(infos)
    }
}

fn open_slot<'s, 'txn, K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &'txn redb::WriteTransaction,
    slot: &'s mut Option<redb::Table<'txn, K, V>>,
    def: TableDefinition<K, V>,
) -> Result<&'s mut redb::Table<'txn, K, V>, StoreError> {
    if slot.is_none() {
        let table = txn
            .open_table(def)
            .map_err(|e| StoreError::backend("opening a table", e))?;
        *slot = Some(table);
    }
    slot.as_mut()
        .ok_or(StoreError::Corrupt("table slot empty after opening".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A put of this key fails inside the write transaction (test builds only).
    pub(super) const FAULT_KEY: &str = "__injected_fault__";

    #[tokio::test]
    async fn a_batch_failing_inside_a_group_fails_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = RedbStore::open(dir.path()).expect("open");
        // Hold the writer while the batches queue up, so that they are
        // committed as one group.
        let paused = store.pause.lock().expect("pause");
        let futures: Vec<_> = (0..50)
            .map(|i| {
                let mut batch = WriteBatch::new();
                batch
                    .put(Table::Twins, format!("small{i}"), "v")
                    .append_log(format!("e{i}"));
                if i == 25 {
                    batch.put(Table::Twins, FAULT_KEY, "boom");
                }
                store.commit(batch)
            })
            .collect();
        drop(paused);
        let mut seqs = Vec::new();
        for (i, fut) in futures.into_iter().enumerate() {
            let outcome = fut.await;
            if i == 25 {
                assert!(
                    matches!(outcome, Err(StoreError::Corrupt(_))),
                    "{outcome:?}"
                );
            } else {
                let info = outcome.expect("the other batches commit");
                seqs.push((info.batch_seq, info.log_seqs));
            }
        }
        // Sequence numbers are dense: the failed batch consumed none.
        for (n, (batch_seq, log_seqs)) in (1u64..).zip(&seqs) {
            assert_eq!(*batch_seq, n);
            assert_eq!(*log_seqs, n..n + 1);
        }
        // One group of 50 failed, then each batch was tried alone.
        assert_eq!(
            store.stats(),
            StoreStats {
                groups: 51,
                batches: 49,
                failed_batches: 1,
                write_time: store.stats().write_time,
                lingered: 0,
            }
        );
        assert_eq!(store.get(Table::Twins, "small25").expect("get"), None);
        assert_eq!(
            store.get(Table::Twins, "small24").expect("get"),
            Some(b"v".to_vec())
        );
        let log = store.read_log(0, 100).expect("log");
        assert_eq!(log.len(), 49);
        assert!(log.iter().all(|e| e.payload != b"e25"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_writer_lingers_only_while_several_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = RedbOptions {
            linger_threshold: Duration::ZERO,
            max_linger: Duration::from_millis(50),
            ..RedbOptions::default()
        };
        let store = RedbStore::open_with(dir.path(), options).expect("open");
        // Several committers at once (queued while the writer is paused):
        // one group, no waiting.
        let paused = store.pause.lock().expect("pause");
        let futures: Vec<_> = (0..8)
            .map(|t| {
                let mut batch = WriteBatch::new();
                batch.put(Table::Twins, format!("t{t}"), "v");
                store.commit(batch)
            })
            .collect();
        drop(paused);
        for fut in futures {
            fut.await.expect("commit");
        }
        let busy = store.stats();
        assert_eq!((busy.groups, busy.lingered), (1, 0), "{busy:?}");
        // Then a lone committer: the writer expects company after a group
        // of eight, so it waits briefly; after at most two groups of one it
        // stops waiting.
        for i in 0..20 {
            let mut batch = WriteBatch::new();
            batch.put(Table::Twins, format!("lone{i}"), "v");
            store.commit(batch).await.expect("commit");
        }
        let lone = store.stats();
        assert!(
            (1..=2).contains(&(lone.lingered - busy.lingered)),
            "{busy:?} then {lone:?}"
        );
        assert_eq!(lone.groups - busy.groups, 20);
    }

    #[tokio::test]
    async fn queued_batches_share_one_transaction() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = RedbStore::open(dir.path()).expect("open");
        let paused = store.pause.lock().expect("pause");
        let futures: Vec<_> = (0..100)
            .map(|i| {
                let mut batch = WriteBatch::new();
                batch.put(Table::Twins, format!("k{i}"), "v");
                store.commit(batch)
            })
            .collect();
        drop(paused);
        for fut in futures {
            fut.await.expect("commit");
        }
        let stats = store.stats();
        assert_eq!((stats.groups, stats.batches), (1, 100), "{stats:?}");
    }
}
