//! The server's state: the engine behind one lock, the durable store, and
//! the write path that keeps them in step.
//!
//! Write path: take the engine's write lock, apply the change in memory
//! (validated, atomic), queue the store batch (the store applies batches in
//! the order they are queued, so disk order = lock order), release the lock,
//! and only then wait for durability. The client is answered after the batch
//! is durable. If the store ever fails a write, memory and disk may differ:
//! the server then refuses further writes (fail-stop) until restarted, which
//! reloads the durable state.

use crate::api_error::ApiError;
use parking_lot::RwLock;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use twinscape_engine::{Engine, EngineConfig};
use twinscape_graph::{Change, ChangeKind, Timestamp};
use twinscape_protocol::ErrorCode;
use twinscape_store::{Store, Table, WriteBatch};

/// Limits of the API (ADT's defaults, configurable).
#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Largest twin, relationship or patch body, in bytes. ADT: 32 KB.
    pub max_twin_bytes: usize,
    /// Most models in one upload. ADT: 250.
    pub max_models_per_upload: usize,
    /// Largest model upload body, in bytes.
    pub max_models_bytes: usize,
    /// Most models per page of `GET /models`. ADT: 100.
    pub max_models_page: usize,
    /// Most event routes. ADT: 6.
    pub max_event_routes: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_twin_bytes: 32 * 1024,
            max_models_per_upload: 250,
            max_models_bytes: 32 * 1024 * 1024,
            max_models_page: 100,
            max_event_routes: 6,
        }
    }
}

/// What lives behind the lock: the engine and the API's own bookkeeping.
pub struct World {
    pub engine: Engine,
    /// When each model was uploaded.
    pub upload_times: HashMap<String, Timestamp>,
    /// Event routes by id: `{"id", "endpointName", "filter"}`.
    pub event_routes: std::collections::BTreeMap<String, Json>,
    /// Import and delete jobs by store key (`imports/{id}`, `deletions/{id}`).
    pub jobs: std::collections::BTreeMap<String, Json>,
    /// Event endpoints by name.
    pub endpoints: std::collections::BTreeMap<String, twinscape_events::Endpoint>,
}

pub struct AppState {
    pub world: RwLock<World>,
    pub store: Arc<dyn Store>,
    pub limits: ApiLimits,
    /// Event delivery: routes and endpoints for the dispatcher, its status.
    pub events: twinscape_events::Events,
    /// Where import files and job logs live (`<data-dir>/jobs`).
    pub files_dir: std::path::PathBuf,
    /// The live feed's fan-out of committed changes.
    pub hub: crate::live::Hub,
    /// The bulk job running now (one at a time), with its cancel flag.
    pub running_job: parking_lot::Mutex<Option<(String, Arc<AtomicBool>)>>,
    poisoned: AtomicBool,
}

pub fn now() -> Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    Timestamp::from_unix_nanos(nanos)
}

/// Store key of a relationship: source twin id and relationship id.
pub fn relationship_key(source: &str, rel_id: &str) -> String {
    format!("{source}\u{1f}{rel_id}")
}

/// The store rows a graph change writes.
pub fn change_batch(change: &Change, batch: &mut WriteBatch) {
    let bytes = |v: &Json| serde_json::to_vec(v).unwrap_or_default();
    match &change.kind {
        ChangeKind::TwinCreated { id, twin } | ChangeKind::TwinUpdated { id, twin, .. } => {
            batch.put(Table::Twins, id.clone(), bytes(twin));
        }
        ChangeKind::TwinDeleted { id, .. } => {
            batch.delete(Table::Twins, id.clone());
        }
        ChangeKind::RelationshipCreated {
            source_id,
            relationship_id,
            relationship,
        }
        | ChangeKind::RelationshipUpdated {
            source_id,
            relationship_id,
            relationship,
            ..
        } => {
            batch.put(
                Table::Relationships,
                relationship_key(source_id, relationship_id),
                bytes(relationship),
            );
        }
        ChangeKind::RelationshipDeleted {
            source_id,
            relationship_id,
            ..
        } => {
            batch.delete(
                Table::Relationships,
                relationship_key(source_id, relationship_id),
            );
        }
    }
    batch.put(Table::Meta, "graph_seq", change.seq.to_be_bytes().to_vec());
    // The change's notifications, durable with it (delivered by crates/events).
    twinscape_events::log_change(change, now(), batch);
}

/// The stored form of a model: the model and what ADT reports about it.
pub fn model_row(model: &Json, upload_time: Timestamp, decommissioned: bool) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "model": model,
        "uploadTime": upload_time.to_string(),
        "decommissioned": decommissioned,
    }))
    .unwrap_or_default()
}

/// A batch of stored twins or relationships, as read or already parsed.
struct Rows {
    relationships: bool,
    rows: RowsOf,
}

enum RowsOf {
    Read(Vec<twinscape_store::Entry>),
    Parsed(Vec<(String, Json)>),
}

/// Batches sent and not yet taken by the loader.
type Queued = std::sync::atomic::AtomicUsize;

/// Reads the twins, then the relationships, in batches; stops at the first
/// error (sent on) or when the loader hangs up. The work is shared with the
/// loader as it goes: while the loader keeps up (few batches queued), a
/// batch goes out as read, for the loader to parse; while it falls behind,
/// this thread parses the batch itself first.
fn read_rows(
    twins: twinscape_store::Entries,
    rels: twinscape_store::Entries,
    tx: &std::sync::mpsc::SyncSender<anyhow::Result<Rows>>,
    queued: &Queued,
) {
    use std::sync::atomic::Ordering;
    const BATCH: usize = 1_024;
    /// Queued batches above which this thread parses.
    const BEHIND: usize = 2;
    let send = |relationships: bool, batch: Vec<twinscape_store::Entry>| -> bool {
        let rows = if queued.load(Ordering::Relaxed) > BEHIND {
            let parsed: anyhow::Result<Vec<(String, Json)>> = batch
                .into_iter()
                .map(|(key, bytes)| Ok((key, serde_json::from_slice::<Json>(&bytes)?)))
                .collect();
            match parsed {
                Ok(rows) => RowsOf::Parsed(rows),
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return false;
                }
            }
        } else {
            RowsOf::Read(batch)
        };
        queued.fetch_add(1, Ordering::Relaxed);
        tx.send(Ok(Rows {
            relationships,
            rows,
        }))
        .is_ok()
    };
    for (relationships, entries) in [(false, twins), (true, rels)] {
        let mut batch = Vec::with_capacity(BATCH);
        for row in entries {
            match row {
                Ok(row) => batch.push(row),
                Err(e) => {
                    let _ = tx.send(Err(e.into()));
                    return;
                }
            }
            if batch.len() == BATCH
                && !send(
                    relationships,
                    std::mem::replace(&mut batch, Vec::with_capacity(BATCH)),
                )
            {
                return;
            }
        }
        if !batch.is_empty() && !send(relationships, batch) {
            return;
        }
    }
}

impl AppState {
    /// Opens the state: loads everything the store holds into a new engine.
    pub fn load(
        store: Arc<dyn Store>,
        config: EngineConfig,
        limits: ApiLimits,
        files_dir: std::path::PathBuf,
    ) -> anyhow::Result<AppState> {
        let snapshot = store.load()?;
        let mut engine = Engine::new(config);
        let mut upload_times = HashMap::new();
        let mut decommissioned = Vec::new();
        let mut models = Vec::new();
        for row in snapshot.entries(Table::Models)? {
            let (id, bytes) = row?;
            let v: Json = serde_json::from_slice(&bytes)?;
            if let Some(t) = v["uploadTime"].as_str().and_then(Timestamp::parse) {
                upload_times.insert(id.clone(), t);
            }
            if v["decommissioned"].as_bool() == Some(true) {
                decommissioned.push(id);
            }
            models.push(v["model"].clone());
        }
        if !models.is_empty() {
            engine
                .load_models(&models)
                .map_err(|e| anyhow::anyhow!("stored models do not load: {e}"))?;
        }
        for id in decommissioned {
            let _ = engine.decommission_model(&id);
        }
        // Twins, then relationships (which need their twins): read on a
        // thread of their own, parsed there or here (see `read_rows`), and
        // loaded into the engine here.
        engine.reserve(
            snapshot.len(Table::Twins)? as usize,
            snapshot.len(Table::Relationships)? as usize,
        );
        let twins = snapshot.entries(Table::Twins)?;
        let rels = snapshot.entries(Table::Relationships)?;
        let queued = Queued::new(0);
        let queued = &queued;
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<anyhow::Result<Rows>>(16);
            scope.spawn(move || read_rows(twins, rels, &tx, queued));
            for batch in rx {
                queued.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                let batch = batch?;
                let mut load = |key: &str, doc: &Json| -> anyhow::Result<()> {
                    if batch.relationships {
                        engine.load_relationship(doc).map_err(|e| {
                            anyhow::anyhow!("stored relationship {key} does not load: {e}")
                        })
                    } else {
                        engine
                            .load_twin(doc)
                            .map_err(|e| anyhow::anyhow!("stored twin {key} does not load: {e}"))
                    }
                };
                match &batch.rows {
                    RowsOf::Read(rows) => {
                        for (key, bytes) in rows {
                            load(key, &serde_json::from_slice(bytes)?)?;
                        }
                    }
                    RowsOf::Parsed(rows) => {
                        for (key, doc) in rows {
                            load(key, doc)?;
                        }
                    }
                }
            }
            Ok(())
        })?;
        let mut event_routes = std::collections::BTreeMap::new();
        for row in snapshot.entries(Table::EventRoutes)? {
            let (id, bytes) = row?;
            event_routes.insert(id, serde_json::from_slice(&bytes)?);
        }
        let mut jobs = std::collections::BTreeMap::new();
        for row in snapshot.entries(Table::Jobs)? {
            let (key, bytes) = row?;
            let mut job: Json = serde_json::from_slice(&bytes)?;
            // A job that was running when the server stopped cannot resume.
            if matches!(
                job["status"].as_str(),
                Some("notstarted" | "running" | "cancelling")
            ) {
                job["status"] = json!("failed");
                job["error"] = json!({"code": "JobInterrupted", "message": "The server stopped while the job ran; what it had imported or deleted stays."});
            }
            jobs.insert(key, job);
        }
        let mut seq = 0u64;
        for row in snapshot.entries(Table::Meta)? {
            let (key, bytes) = row?;
            if key == "graph_seq"
                && let Ok(b) = <[u8; 8]>::try_from(bytes.as_slice())
            {
                seq = u64::from_be_bytes(b);
            }
        }
        engine.set_seq(seq);
        let endpoints = crate::events::load_endpoints(snapshot.as_ref())?;
        let events = crate::events::new_events(snapshot.next_log_seq(), &event_routes, &endpoints);
        let store = crate::events::notify_commits(store, &events);
        Ok(AppState {
            world: RwLock::new(World {
                engine,
                upload_times,
                event_routes,
                jobs,
                endpoints,
            }),
            store,
            limits,
            events,
            files_dir,
            hub: crate::live::Hub::new(format!("{:016x}", crate::http::random_u128() as u64)),
            running_job: parking_lot::Mutex::new(None),
            poisoned: AtomicBool::new(false),
        })
    }

    /// Runs a write: `f` changes the world and fills the batch under the
    /// lock; the answer comes back once the batch is durable.
    pub async fn write<R>(
        &self,
        f: impl FnOnce(&mut World, &mut WriteBatch) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(self.unavailable());
        }
        let (result, commit, staged) = {
            let mut world = self.world.write();
            if self.poisoned.load(Ordering::Acquire) {
                return Err(self.unavailable());
            }
            let mut batch = WriteBatch::new();
            // A closure that fails after some changes (a bulk write) still
            // leaves those changes in memory: commit what it queued either way.
            let result = f(&mut world, &mut batch);
            if batch.is_empty() {
                return result;
            }
            let staged = self.hub.stage(&world, &batch);
            (result, self.store.commit(batch), staged)
        };
        let outcome = commit.await;
        if let Some(s) = staged {
            self.hub.committed(s, outcome.is_ok());
        }
        match outcome {
            Ok(_) => result,
            Err(err) => {
                tracing::error!("store write failed; refusing further writes until restart: {err}");
                self.poisoned.store(true, Ordering::Release);
                Err(ApiError::new(
                    ErrorCode::ServiceUnavailable,
                    format!("The write could not be made durable: {err}"),
                ))
            }
        }
    }

    fn unavailable(&self) -> ApiError {
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            "A previous write could not be made durable; restart the server to reload the durable state.",
        )
    }
}
