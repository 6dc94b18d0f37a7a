//! Durable delivery: from the store's log to the endpoints.
//!
//! Writers append each notification to the log in the batch of the change
//! itself ([`Events::log_change`], [`Events::log_telemetry`]), so an event is
//! durable exactly when its change is, and a write never waits for delivery.
//! After each durable commit the server tells [`Events::committed`] where
//! the log ends (the *head*).
//!
//! One worker task per endpoint reads the log from that endpoint's cursor, a
//! page at a time (memory stays bounded however far behind it is), evaluates
//! the routes that name the endpoint and delivers the events that pass, one
//! at a time and in log order, retrying with exponential backoff. An event
//! that exhausts its attempts (or that the endpoint rejects as malformed) is
//! stored in [`Table::DeadLetters`] with the cursor moved past it in the same
//! batch. Cursors are persisted in [`Table::Meta`] (`event_cursor/<name>@<since>`)
//! every few events and whenever the worker catches up; after a crash the
//! worker resumes from the last persisted cursor, so delivery is at least
//! once (events after that cursor may arrive twice) and never lost.
//!
//! A supervisor task starts, restarts (new configuration) and stops
//! workers as endpoints change, and truncates the log up to the smallest
//! persisted cursor of all endpoints (the whole log when there are none).

use crate::endpoint::{Endpoint, Sender};
use crate::filter::Filter;
use crate::notification::{CloudEvent, LoggedEvent, Telemetry};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use twinscape_graph::{Change, Timestamp};
use twinscape_store::{Store, StoreError, Table, WriteBatch};

/// How failed deliveries are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per event before it goes to the dead letters (at least 1).
    pub max_attempts: u32,
    /// Wait after the first failure; doubles after each further failure.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
    /// Time limit of one attempt (connect, send, acknowledgement).
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 30,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            attempt_timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// This policy with an endpoint's own settings.
    pub fn with(&self, o: &crate::endpoint::RetryOverrides) -> RetryPolicy {
        let ms = Duration::from_millis;
        let initial_backoff = o.backoff_ms.map(ms).unwrap_or(self.initial_backoff);
        RetryPolicy {
            max_attempts: o.max_attempts.unwrap_or(self.max_attempts).max(1),
            initial_backoff,
            max_backoff: o
                .max_backoff_ms
                .map(ms)
                .unwrap_or(self.max_backoff)
                .max(initial_backoff),
            attempt_timeout: o.timeout_ms.map(ms).unwrap_or(self.attempt_timeout),
        }
    }

    /// The wait after failed attempt number `attempt` (1-based):
    /// `initial * 2^(attempt-1)`, at most `max_backoff`, less up to a fifth
    /// at random so that endpoints that failed together do not retry in step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let mut r = [0u8; 1];
        crate::trace::random_bytes(&mut r);
        base.saturating_sub(base.mul_f64(f64::from(r[0]) / 255.0 / 5.0))
    }
}

/// The dispatcher's settings.
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// The instance host name: the `source` of notifications.
    pub source: String,
    pub retry: RetryPolicy,
    /// Log entries a worker reads at a time.
    pub page_size: usize,
    /// A worker persists its cursor after this many entries...
    pub checkpoint_every: u64,
    /// ...or after this long, whichever comes first, and when it catches up.
    pub checkpoint_interval: Duration,
    /// How often the log is truncated.
    pub truncate_interval: Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            source: "twinscape.local".into(),
            retry: RetryPolicy::default(),
            page_size: 64,
            checkpoint_every: 64,
            checkpoint_interval: Duration::from_millis(250),
            truncate_interval: Duration::from_secs(1),
        }
    }
}

/// An event route, parsed.
#[derive(Debug, Clone)]
pub struct Route {
    pub id: String,
    pub endpoint: String,
    pub filter: Filter,
}

/// What the dispatcher delivers where: the endpoints and the routes to them.
#[derive(Debug, Clone, Default)]
pub struct Routing {
    pub endpoints: BTreeMap<String, Endpoint>,
    pub routes: Vec<Route>,
}

/// How delivery to one endpoint is going (since the server started).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointStatus {
    /// The next log position to look at.
    pub cursor: u64,
    /// The last cursor known durable.
    pub persisted: Option<u64>,
    /// Log entries not yet looked at.
    pub backlog: u64,
    pub delivered: u64,
    pub dead_lettered: u64,
    /// An event is failing and waits for its next attempt.
    pub retrying: bool,
    pub last_error: Option<String>,
    pub last_error_time: Option<String>,
    /// The generation (`since`) these numbers belong to.
    since: u64,
}

impl EndpointStatus {
    pub fn to_json(&self) -> Json {
        json!({
            "backlog": self.backlog,
            "delivered": self.delivered,
            "deadLettered": self.dead_lettered,
            "retrying": self.retrying,
            "lastError": self.last_error,
            "lastErrorTime": self.last_error_time,
        })
    }
}

struct Shared {
    /// Serializes routing changes with the truncator's reading of
    /// (routing, head), so that a new endpoint's `since` is never behind a
    /// truncation that did not know it.
    routing_lock: Mutex<()>,
    head: watch::Sender<u64>,
    routing: watch::Sender<Arc<Routing>>,
    status: Mutex<HashMap<String, EndpointStatus>>,
    /// Whether the routing has at least one endpoint. While it has none,
    /// notifications are not even built ([`Events::log_change`] returns at
    /// once): an event logged before an endpoint exists is never delivered
    /// to it (an endpoint starts at the log's head), so nothing is lost, and
    /// a server without endpoints pays nothing for events.
    with_endpoints: std::sync::atomic::AtomicBool,
}

/// The server's handle on event delivery. Cheap to clone.
#[derive(Clone)]
pub struct Events {
    shared: Arc<Shared>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Events {
    /// `head`: the next log sequence number (the store's `next_log_seq` at
    /// startup).
    pub fn new(head: u64) -> Events {
        Events {
            shared: Arc::new(Shared {
                routing_lock: Mutex::new(()),
                head: watch::Sender::new(head),
                routing: watch::Sender::new(Arc::new(Routing::default())),
                status: Mutex::new(HashMap::new()),
                with_endpoints: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// A commit that appended log entries up to (not including) `log_end`
    /// is durable.
    pub fn committed(&self, log_end: u64) {
        self.shared.head.send_if_modified(|h| {
            let moved = log_end > *h;
            *h = (*h).max(log_end);
            moved
        });
    }

    /// The log position after the last entry known durable.
    pub fn head(&self) -> u64 {
        *self.shared.head.borrow()
    }

    /// Replaces the routing. `build` gets the head, the `since` of an
    /// endpoint created now.
    pub fn update_routing<R>(&self, build: impl FnOnce(u64) -> (Routing, R)) -> R {
        let _guard = lock(&self.shared.routing_lock);
        let (routing, out) = build(self.head());
        // Call under the same lock as the writes that log events (the
        // server's world lock), so that they agree on whether to log.
        self.shared.with_endpoints.store(
            !routing.endpoints.is_empty(),
            std::sync::atomic::Ordering::Release,
        );
        self.shared.routing.send_replace(Arc::new(routing));
        out
    }

    /// Whether notifications should be logged now (some endpoint exists).
    pub fn logging(&self) -> bool {
        self.shared
            .with_endpoints
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Appends the notifications of `change` to `batch`'s log entries, so
    /// that they are durable together with the change. `time` is when it
    /// happened. Does nothing while no endpoint exists ([`Events::logging`]).
    pub fn log_change(&self, change: &Change, time: Timestamp, batch: &mut WriteBatch) {
        if !self.logging() {
            return;
        }
        for event in crate::notification::from_change(change, time) {
            batch.append_log(LoggedEvent::encode(event));
        }
    }

    /// Appends a telemetry event to `batch`'s log entries (nothing while no
    /// endpoint exists).
    pub fn log_telemetry(&self, telemetry: Telemetry<'_>, batch: &mut WriteBatch) {
        if !self.logging() {
            return;
        }
        batch.append_log(LoggedEvent::encode(crate::notification::from_telemetry(
            telemetry,
        )));
    }

    pub fn routing(&self) -> Arc<Routing> {
        self.shared.routing.borrow().clone()
    }

    fn routing_and_head(&self) -> (Arc<Routing>, u64) {
        let _guard = lock(&self.shared.routing_lock);
        (self.routing(), self.head())
    }

    /// Delivery status of an endpoint, when its worker has started.
    pub fn status(&self, endpoint: &str) -> Option<EndpointStatus> {
        let mut s = lock(&self.shared.status).get(endpoint).cloned()?;
        s.backlog = self.head().saturating_sub(s.cursor);
        Some(s)
    }

    fn set_status(&self, endpoint: &Endpoint, f: impl FnOnce(&mut EndpointStatus)) {
        let mut map = lock(&self.shared.status);
        let s = map.entry(endpoint.name.clone()).or_default();
        if s.since != endpoint.since {
            *s = EndpointStatus {
                since: endpoint.since,
                ..Default::default()
            };
        }
        f(s);
    }

    /// Starts delivering: the supervisor and a worker per endpoint. Call
    /// from within a tokio runtime.
    pub fn start(&self, store: Arc<dyn Store>, config: DispatchConfig) -> JoinHandle<()> {
        let sup = Supervisor {
            events: self.clone(),
            store,
            config: Arc::new(config),
            workers: HashMap::new(),
            truncated: None,
        };
        tokio::spawn(sup.run())
    }
}

// ----- store keys -----------------------------------------------------------

fn cursor_key(e: &Endpoint) -> String {
    format!("event_cursor/{}@{}", e.name, e.since)
}

const CURSOR_PREFIX: &str = "event_cursor/";

fn dead_letter_prefix(name: &str, since: u64) -> String {
    format!("{name}\u{1f}{since:020}\u{1f}")
}

fn dead_letter_key(e: &Endpoint, seq: u64) -> String {
    format!("{}{seq:020}", dead_letter_prefix(&e.name, e.since))
}

/// A persisted cursor: the next log position, big-endian.
fn cursor_row(cursor: u64) -> Vec<u8> {
    cursor.to_be_bytes().to_vec()
}

/// The dead letters of `endpoint`, oldest first: `{seq, time, attempts,
/// error, routes, event}`.
pub fn dead_letters(store: &dyn Store, endpoint: &Endpoint) -> Result<Vec<Json>, StoreError> {
    let prefix = dead_letter_prefix(&endpoint.name, endpoint.since);
    let snapshot = store.load()?;
    let mut out = Vec::new();
    for row in snapshot.entries(Table::DeadLetters)? {
        let (key, value) = row?;
        if key.starts_with(&prefix)
            && let Ok(v) = serde_json::from_slice::<Json>(&value)
        {
            out.push(v);
        }
    }
    Ok(out)
}

/// Deletes the dead letters of `endpoint`; returns how many there were.
pub async fn purge_dead_letters(
    store: Arc<dyn Store>,
    endpoint: &Endpoint,
) -> Result<usize, String> {
    let prefix = dead_letter_prefix(&endpoint.name, endpoint.since);
    let keys = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || -> Result<Vec<String>, StoreError> {
            let snapshot = store.load()?;
            let mut keys = Vec::new();
            for row in snapshot.entries(Table::DeadLetters)? {
                let (key, _) = row?;
                if key.starts_with(&prefix) {
                    keys.push(key);
                }
            }
            Ok(keys)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?
    };
    let n = keys.len();
    if n > 0 {
        let mut batch = WriteBatch::new();
        for k in keys {
            batch.delete(Table::DeadLetters, k);
        }
        store.commit(batch).await.map_err(|e| e.to_string())?;
    }
    Ok(n)
}

// ----- supervisor -------------------------------------------------------------

struct WorkerHandle {
    endpoint: Endpoint,
    task: JoinHandle<()>,
}

/// Workers end with their supervisor (and so with the task `start` returned).
impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Supervisor {
    events: Events,
    store: Arc<dyn Store>,
    config: Arc<DispatchConfig>,
    workers: HashMap<String, WorkerHandle>,
    truncated: Option<u64>,
}

impl Supervisor {
    async fn run(mut self) {
        let mut routing_rx = self.events.shared.routing.subscribe();
        let mut swept = false;
        let mut tick = tokio::time::interval(self.config.truncate_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let routing = routing_rx.borrow_and_update().clone();
            let removed = self.reconcile(&routing);
            if !removed.is_empty() || !swept {
                // Forget what deleted (or, at startup, long gone) endpoints
                // left behind: cursors and dead letters.
                swept = self.sweep().await;
            }
            tokio::select! {
                changed = routing_rx.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
                _ = tick.tick() => {
                    self.refresh_head().await;
                    self.truncate().await;
                }
            }
        }
        self.workers.clear();
    }

    /// Starts, restarts and stops workers to match `routing`; returns the
    /// endpoints that went away.
    fn reconcile(&mut self, routing: &Routing) -> Vec<Endpoint> {
        let mut removed = Vec::new();
        let names: Vec<String> = self.workers.keys().cloned().collect();
        for name in names {
            let keep = routing
                .endpoints
                .get(&name)
                .is_some_and(|e| self.workers.get(&name).is_some_and(|w| w.endpoint == *e));
            if !keep && let Some(w) = self.workers.remove(&name) {
                let endpoint = w.endpoint.clone();
                drop(w);
                let replaced_same_generation = routing
                    .endpoints
                    .get(&name)
                    .is_some_and(|e| e.since == endpoint.since);
                if !replaced_same_generation {
                    lock(&self.events.shared.status).remove(&name);
                    removed.push(endpoint);
                }
            }
        }
        for (name, endpoint) in &routing.endpoints {
            if self.workers.contains_key(name) {
                continue;
            }
            // A new configuration of the same endpoint goes on from where the
            // last worker was (what it was sending may be sent again).
            let resume = self
                .events
                .status(name)
                .filter(|s| s.since == endpoint.since && s.persisted.is_some())
                .map(|s| s.cursor);
            let worker = Worker {
                events: self.events.clone(),
                store: self.store.clone(),
                config: self.config.clone(),
                endpoint: endpoint.clone(),
            };
            let task = tokio::spawn(worker.run(resume));
            self.workers.insert(
                name.clone(),
                WorkerHandle {
                    endpoint: endpoint.clone(),
                    task,
                },
            );
        }
        removed
    }

    /// Deletes cursors and dead letters of endpoint generations that are
    /// not in the routing. Returns whether it could look.
    async fn sweep(&self) -> bool {
        let store = self.store.clone();
        let live: Vec<(String, String)> = self
            .events
            .routing()
            .endpoints
            .values()
            .map(|e| (cursor_key(e), dead_letter_prefix(&e.name, e.since)))
            .collect();
        let found = tokio::task::spawn_blocking(move || -> Result<WriteBatch, StoreError> {
            let snapshot = store.load()?;
            let mut batch = WriteBatch::new();
            for row in snapshot.entries(Table::Meta)? {
                let (key, _) = row?;
                if key.starts_with(CURSOR_PREFIX) && !live.iter().any(|(c, _)| *c == key) {
                    batch.delete(Table::Meta, key);
                }
            }
            for row in snapshot.entries(Table::DeadLetters)? {
                let (key, _) = row?;
                if !live.iter().any(|(_, p)| key.starts_with(p.as_str())) {
                    batch.delete(Table::DeadLetters, key);
                }
            }
            Ok(batch)
        })
        .await;
        match found {
            Ok(Ok(batch)) if batch.is_empty() => true,
            Ok(Ok(batch)) => match self.store.commit(batch).await {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!("events: could not delete what removed endpoints left: {e}");
                    false
                }
            },
            Ok(Err(e)) => {
                tracing::warn!("events: could not read the store: {e}");
                false
            }
            Err(e) => {
                tracing::warn!("events: sweep task failed: {e}");
                false
            }
        }
    }

    /// Catches the head up with the store, in case a commit's notice was
    /// missed (its future dropped before it resolved).
    async fn refresh_head(&self) {
        let store = self.store.clone();
        let next = tokio::task::spawn_blocking(move || store.load().map(|s| s.next_log_seq()));
        if let Ok(Ok(next)) = next.await {
            self.events.committed(next);
        }
    }

    /// Deletes the log entries every endpoint is done with.
    async fn truncate(&mut self) {
        let (routing, head) = self.events.routing_and_head();
        let mut upto = head;
        for e in routing.endpoints.values() {
            let persisted = self
                .events
                .status(&e.name)
                .filter(|s| s.since == e.since)
                .and_then(|s| s.persisted)
                .unwrap_or(e.since);
            upto = upto.min(persisted);
        }
        // Entries below `upto` are done; the first log sequence is 1.
        let Some(last_done) = upto.checked_sub(1).filter(|l| *l > 0) else {
            return;
        };
        if self.truncated.is_some_and(|t| t >= last_done) {
            return;
        }
        match self.store.truncate_log(last_done).await {
            Ok(_) => self.truncated = Some(last_done),
            Err(e) => tracing::warn!("events: could not truncate the log: {e}"),
        }
    }
}

// ----- workers ---------------------------------------------------------------

struct Worker {
    events: Events,
    store: Arc<dyn Store>,
    config: Arc<DispatchConfig>,
    endpoint: Endpoint,
}

enum Outcome {
    Delivered,
    DeadLettered,
}

impl Worker {
    async fn run(self, resume: Option<u64>) {
        let cursor = match resume {
            Some(c) => c,
            None => self.load_cursor().await,
        };
        let mut persisted = cursor;
        self.events.set_status(&self.endpoint, |s| {
            s.cursor = cursor;
            persisted = s.persisted.unwrap_or(cursor).min(cursor);
            s.persisted = Some(persisted);
        });
        let mut head_rx = self.events.shared.head.subscribe();
        let policy = self.config.retry.with(&self.endpoint.retry);
        let mut sender = Sender::new(&self.endpoint, policy.attempt_timeout);
        let mut cursor = cursor;
        let mut unpersisted = 0u64;
        let mut last_persist = Instant::now();
        loop {
            let head = *head_rx.borrow_and_update();
            if cursor >= head {
                if cursor != persisted {
                    self.persist(cursor, &mut persisted).await;
                    unpersisted = 0;
                    last_persist = Instant::now();
                }
                if head_rx.changed().await.is_err() {
                    return;
                }
                continue;
            }
            if !self.routing_here(&self.events.routing()) {
                // Nothing routes here: skip what is in the log.
                cursor = head;
                self.events
                    .set_status(&self.endpoint, |s| s.cursor = cursor);
                continue;
            }
            let page = {
                let store = self.store.clone();
                let (from, limit) = (cursor, self.config.page_size.max(1));
                tokio::task::spawn_blocking(move || store.read_log(from, limit)).await
            };
            let entries = match page {
                Ok(Ok(entries)) => entries,
                Ok(Err(e)) => {
                    tracing::warn!("events: reading the log for {}: {e}", self.endpoint.name);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!("events: log reader failed: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if entries.is_empty() {
                // Everything up to the head was truncated (or never was).
                cursor = head;
                continue;
            }
            for entry in entries {
                let routing = self.events.routing();
                if let Some(event) = LoggedEvent::decode(&entry.payload, &self.config.source) {
                    let matched: Vec<&str> = self
                        .routes(&routing)
                        .filter(|r| r.filter.matches(&event))
                        .map(|r| r.id.as_str())
                        .collect();
                    if !matched.is_empty() {
                        match self.deliver(&mut sender, entry.seq, &event, &matched).await {
                            Outcome::Delivered => {}
                            // The dead letter's batch moved the cursor too.
                            Outcome::DeadLettered => persisted = entry.seq + 1,
                        }
                    }
                }
                cursor = entry.seq + 1;
                unpersisted += 1;
                self.events
                    .set_status(&self.endpoint, |s| s.cursor = cursor);
                if unpersisted >= self.config.checkpoint_every
                    || last_persist.elapsed() >= self.config.checkpoint_interval
                {
                    self.persist(cursor, &mut persisted).await;
                    unpersisted = 0;
                    last_persist = Instant::now();
                }
            }
        }
    }

    /// The routes to this endpoint (disabled ones left out).
    fn routes<'a>(&'a self, routing: &'a Routing) -> impl Iterator<Item = &'a Route> + 'a {
        routing
            .routes
            .iter()
            .filter(|r| r.endpoint == self.endpoint.name && !r.filter.is_false())
    }

    fn routing_here(&self, routing: &Routing) -> bool {
        self.routes(routing).next().is_some()
    }

    async fn load_cursor(&self) -> u64 {
        let store = self.store.clone();
        let key = cursor_key(&self.endpoint);
        let row = tokio::task::spawn_blocking(move || store.get(Table::Meta, &key)).await;
        let stored = match row {
            Ok(Ok(Some(bytes))) => <[u8; 8]>::try_from(bytes.get(..8).unwrap_or_default())
                .ok()
                .map(u64::from_be_bytes),
            Ok(Ok(None)) => None,
            Ok(Err(e)) => {
                tracing::warn!("events: reading the cursor of {}: {e}", self.endpoint.name);
                None
            }
            Err(e) => {
                tracing::warn!("events: cursor reader failed: {e}");
                None
            }
        };
        stored
            .unwrap_or(self.endpoint.since)
            .max(self.endpoint.since)
    }

    async fn persist(&self, cursor: u64, persisted: &mut u64) {
        if cursor <= *persisted {
            return;
        }
        let mut batch = WriteBatch::new();
        batch.put(Table::Meta, cursor_key(&self.endpoint), cursor_row(cursor));
        match self.store.commit(batch).await {
            Ok(_) => {
                *persisted = cursor;
                self.events
                    .set_status(&self.endpoint, |s| s.persisted = Some(cursor));
            }
            Err(e) => tracing::warn!(
                "events: could not save the cursor of {}: {e}",
                self.endpoint.name
            ),
        }
    }

    async fn deliver(
        &self,
        sender: &mut Sender,
        seq: u64,
        event: &CloudEvent,
        routes: &[&str],
    ) -> Outcome {
        let body = event.to_json_bytes();
        let policy = self.config.retry.with(&self.endpoint.retry);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match sender.send(event, &body).await {
                Ok(()) => {
                    self.events.set_status(&self.endpoint, |s| {
                        s.delivered += 1;
                        s.retrying = false;
                    });
                    return Outcome::Delivered;
                }
                Err(err) => {
                    let now = now().to_string();
                    self.events.set_status(&self.endpoint, |s| {
                        s.last_error = Some(err.message.clone());
                        s.last_error_time = Some(now.clone());
                        s.retrying = true;
                    });
                    if err.permanent || attempt >= policy.max_attempts.max(1) {
                        tracing::warn!(
                            "events: {} gave up on event {} after {attempt} attempt(s): {}",
                            self.endpoint.name,
                            event.id,
                            err.message
                        );
                        self.dead_letter(seq, event, routes, attempt, &err.message)
                            .await;
                        return Outcome::DeadLettered;
                    }
                    tracing::debug!(
                        "events: {} attempt {attempt} for event {} failed: {}",
                        self.endpoint.name,
                        event.id,
                        err.message
                    );
                    tokio::time::sleep(policy.backoff(attempt)).await;
                }
            }
        }
    }

    async fn dead_letter(
        &self,
        seq: u64,
        event: &CloudEvent,
        routes: &[&str],
        attempts: u32,
        error: &str,
    ) {
        let row = json!({
            "seq": seq,
            "time": now().to_string(),
            "attempts": attempts,
            "error": error,
            "routes": routes,
            "event": event,
        });
        let mut batch = WriteBatch::new();
        batch
            .put(
                Table::DeadLetters,
                dead_letter_key(&self.endpoint, seq),
                serde_json::to_vec(&row).unwrap_or_default(),
            )
            .put(Table::Meta, cursor_key(&self.endpoint), cursor_row(seq + 1));
        // Keep trying: moving on without the dead letter would lose the event.
        let mut wait = Duration::from_millis(100);
        loop {
            match self.store.commit(batch.clone()).await {
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(
                        "events: could not store a dead letter for {}: {e}",
                        self.endpoint.name
                    );
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(30));
                }
            }
        }
        self.events.set_status(&self.endpoint, |s| {
            s.dead_lettered += 1;
            s.retrying = false;
            s.persisted = Some(seq + 1);
        });
    }
}

fn now() -> Timestamp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    Timestamp::from_unix_nanos(nanos)
}
