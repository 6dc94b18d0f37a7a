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

use crate::error::CoreError;
use crate::feed::LiveFeed;
use crate::txn::Txn;
use crate::world::{EventRoute, Job, JobError, JobStatus, World};
use parking_lot::{RwLock, RwLockReadGuard};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use twinscape_engine::{Engine, EngineConfig};
use twinscape_graph::{GraphError, Timestamp};
use twinscape_protocol::live::DeltaOp;
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
    /// Largest 3D file upload (`PUT /3d/{name}`), in bytes.
    pub max_asset_bytes: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_twin_bytes: 32 * 1024,
            max_models_per_upload: 250,
            max_models_bytes: 32 * 1024 * 1024,
            max_models_page: 100,
            max_event_routes: 6,
            max_asset_bytes: 256 * 1024 * 1024,
        }
    }
}

pub struct AppState {
    world: RwLock<World>,
    pub store: Arc<dyn Store>,
    pub limits: ApiLimits,
    /// Event delivery: routes and endpoints for the dispatcher, its status.
    pub events: twinscape_events::Events,
    /// Where import files and job logs live (`<data-dir>/jobs`).
    pub files_dir: std::path::PathBuf,
    /// Committed change sets, in store order, for the live feed.
    pub feed: Arc<LiveFeed>,
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
            let route: EventRoute = serde_json::from_slice(&bytes)
                .map_err(|e| anyhow::anyhow!("stored event route {id} does not load: {e}"))?;
            event_routes.insert(id, route);
        }
        let mut jobs = std::collections::BTreeMap::new();
        for row in snapshot.entries(Table::Jobs)? {
            let (key, bytes) = row?;
            let mut job: Job = serde_json::from_slice(&bytes)
                .map_err(|e| anyhow::anyhow!("stored job {key} does not load: {e}"))?;
            // A job that was running when the server stopped cannot resume.
            if matches!(
                job.status,
                JobStatus::NotStarted | JobStatus::Running | JobStatus::Cancelling
            ) {
                job.status = JobStatus::Failed;
                job.error = Some(JobError {
                    code: "JobInterrupted".into(),
                    message: "The server stopped while the job ran; what it had imported or deleted stays.".into(),
                });
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
        let scenes = match snapshot.entries(Table::Scenes)?.find_map(|row| match row {
            Ok((key, bytes)) if key == crate::SCENES_KEY => Some(Ok(bytes)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        }) {
            None => twinscape_scene::ScenesConfig::new(),
            Some(bytes) => {
                let value: Json = serde_json::from_slice(&bytes?)?;
                twinscape_scene::config::from_value(&value)
                    .map_err(|e| anyhow::anyhow!("the stored scenes do not load: {e}"))?
            }
        };
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
                scenes,
            }),
            store,
            limits,
            events,
            files_dir,
            feed: Arc::new(LiveFeed::new(format!("{:016x}", random_u128() as u64))),
            running_job: parking_lot::Mutex::new(None),
            poisoned: AtomicBool::new(false),
        })
    }

    /// The world, for reading. Hold the guard briefly: writers wait for it.
    pub fn world(&self) -> RwLockReadGuard<'_, World> {
        self.world.read()
    }

    /// Runs a write: `f` changes the world through a [`Txn`] under the
    /// write lock; its change set goes to the store and the feed in lock
    /// order, and the answer comes back once the batch is durable. A closure
    /// that fails after some changes (a bulk write) still commits what it
    /// made, so memory never runs ahead of disk for long.
    pub async fn write<R, E: From<CoreError>>(
        &self,
        f: impl FnOnce(&mut Txn<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(CoreError::Poisoned.into());
        }
        let (result, commit, staged) = {
            let mut world = self.world.write();
            if self.poisoned.load(Ordering::Acquire) {
                return Err(CoreError::Poisoned.into());
            }
            let mut txn = Txn::new(&mut world, &self.events, now());
            let result = f(&mut txn);
            let set = txn.finish();
            if set.is_empty() {
                return result;
            }
            let staged = self.feed.stage(set.ops);
            (result, self.store.commit(set.rows), staged)
        };
        let outcome = commit.await;
        if let Some(s) = staged {
            self.feed.committed(s, outcome.is_ok());
        }
        match outcome {
            Ok(_) => result,
            Err(err) => Err(self.not_durable(err).into()),
        }
    }

    /// Takes telemetry (`POST …/telemetry`, later MQTT): checked under the
    /// read lock (the twin, and the component when given, exist), published
    /// on the live feed, and its event logged when some endpoint exists.
    /// Never takes the write lock; concurrent posts share the store's group
    /// commit, and nothing is written at all while no endpoint exists.
    pub async fn telemetry(&self, t: TelemetryIn<'_>) -> Result<(), CoreError> {
        if self.poisoned.load(Ordering::Acquire) {
            return Err(CoreError::Poisoned);
        }
        if t.message_id.trim().is_empty() {
            return Err(CoreError::MissingMessageId);
        }
        let time = t.source_time.unwrap_or_else(now);
        let (commit, staged) = {
            let world = self.world.read();
            let graph = world.engine().graph();
            let twin = graph
                .twin(t.twin_id)
                .ok_or_else(|| GraphError::TwinNotFound(t.twin_id.to_string()))?;
            let twin_model = graph.symbols().name(twin.model).to_string();
            let model_id = match t.component {
                None => Some(twin_model),
                Some(c) => {
                    graph.component_json(t.twin_id, c)?;
                    world
                        .engine()
                        .registry()
                        .expanded(&twin_model)
                        .and_then(|m| m.components.get(c).map(|d| d.schema.clone()))
                }
            };
            let mut batch = WriteBatch::new();
            self.events.log_telemetry(
                twinscape_events::Telemetry {
                    twin_id: t.twin_id,
                    component: t.component,
                    message_id: t.message_id,
                    model_id: model_id.as_deref(),
                    time,
                    payload: t.payload.clone(),
                },
                &mut batch,
            );
            let staged = self.feed.stage(vec![DeltaOp::Telemetry {
                twin: t.twin_id.to_string(),
                component: t.component.map(str::to_string),
                time: time.to_string(),
                payload: t.payload,
            }]);
            // Reserved, then queued, in this order under the read lock: no
            // writer is between them (it would need the write lock).
            let commit = (!batch.is_empty()).then(|| self.store.commit(batch));
            (commit, staged)
        };
        let outcome = match commit {
            Some(commit) => commit.await.map(|_| ()),
            None => Ok(()),
        };
        if let Some(s) = staged {
            self.feed.committed(s, outcome.is_ok());
        }
        outcome.map_err(|err| self.not_durable(err))
    }

    /// A commit failed: memory and disk may differ from now on, so every
    /// later write is refused until a restart reloads the durable state.
    fn not_durable(&self, err: twinscape_store::StoreError) -> CoreError {
        tracing::error!("store write failed; refusing further writes until restart: {err}");
        self.poisoned.store(true, Ordering::Release);
        CoreError::NotDurable(err.to_string())
    }
}

/// Telemetry as it arrives, checked for shape by the caller.
pub struct TelemetryIn<'a> {
    pub twin_id: &'a str,
    pub component: Option<&'a str>,
    /// The client's `Message-Id` (the event's `id`).
    pub message_id: &'a str,
    /// `Telemetry-Source-Time`, if the client sent one.
    pub source_time: Option<Timestamp>,
    pub payload: Json,
}

/// A random number from the OS (ids, the feed's epoch, keys); the clock
/// if the OS has none to give.
pub fn random_u128() -> u128 {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        return t;
    }
    u128::from_le_bytes(b)
}
