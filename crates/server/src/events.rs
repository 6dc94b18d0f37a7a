//! The server's side of event notifications (`crates/events`): settings,
//! the trace context of requests, endpoints and routes handed to the
//! dispatcher, telemetry events, and the store wrapper that tells the
//! dispatcher when log entries are durable.

use crate::api_error::ApiError;
use crate::state::World;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use clap::Args;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use twinscape_events::trace::TraceParent;
use twinscape_events::{DispatchConfig, Endpoint, Events, Filter, RetryPolicy, Route, Routing};
use twinscape_graph::{GraphError, Timestamp};
use twinscape_protocol::ErrorCode;
use twinscape_store::{CommitFuture, LogEntry, Snapshot, Store, StoreError, Table, WriteBatch};

/// `twinscape serve` flags for event delivery.
#[derive(Debug, Args, Clone)]
pub struct EventArgs {
    /// The `source` of event notifications: this instance's host name (ADT
    /// uses `<instance>.api.<region>.digitaltwins.azure.net`). Defaults to
    /// the address the server listens on.
    #[arg(long, env = "TWINSCAPE_EVENT_SOURCE")]
    pub event_source: Option<String>,
    /// Delivery attempts per event before it becomes a dead letter.
    #[arg(long, env = "TWINSCAPE_EVENT_MAX_ATTEMPTS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub event_max_attempts: u32,
    /// Wait after a failed delivery, in milliseconds; doubles after each
    /// further failure.
    #[arg(long, env = "TWINSCAPE_EVENT_RETRY_MS", default_value_t = 1000)]
    pub event_retry_ms: u64,
    /// Longest wait between two delivery attempts, in milliseconds.
    #[arg(long, env = "TWINSCAPE_EVENT_RETRY_MAX_MS", default_value_t = 60_000)]
    pub event_retry_max_ms: u64,
    /// Time limit of one delivery attempt, in milliseconds.
    #[arg(long, env = "TWINSCAPE_EVENT_TIMEOUT_MS", default_value_t = 10_000)]
    pub event_timeout_ms: u64,
}

impl EventArgs {
    pub fn dispatch_config(&self, listening: std::net::SocketAddr) -> DispatchConfig {
        DispatchConfig {
            source: self
                .event_source
                .clone()
                .unwrap_or_else(|| listening.to_string()),
            retry: RetryPolicy {
                max_attempts: self.event_max_attempts.max(1),
                initial_backoff: Duration::from_millis(self.event_retry_ms.max(1)),
                max_backoff: Duration::from_millis(
                    self.event_retry_max_ms.max(self.event_retry_ms).max(1),
                ),
                attempt_timeout: Duration::from_millis(self.event_timeout_ms.max(1)),
            },
            ..DispatchConfig::default()
        }
    }
}

/// Runs each request in its trace context: notifications it causes carry its
/// `traceparent`'s trace id (or a new trace's).
pub async fn trace_context(req: Request, next: Next) -> Response {
    let parent = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse);
    twinscape_events::trace::scope(parent, next.run(req)).await
}

/// Endpoints as stored.
pub fn load_endpoints(snapshot: &dyn Snapshot) -> anyhow::Result<BTreeMap<String, Endpoint>> {
    let mut out = BTreeMap::new();
    for row in snapshot.entries(Table::Endpoints)? {
        let (name, bytes) = row?;
        let endpoint = Endpoint::from_row(&name, &bytes)
            .map_err(|e| anyhow::anyhow!("stored endpoint {name} does not load: {e}"))?;
        out.insert(name, endpoint);
    }
    Ok(out)
}

/// What the dispatcher needs from the routes and endpoints the API holds.
/// Routes whose filter no longer parses, or whose endpoint is gone, deliver
/// nothing (the API refuses to create such routes).
pub fn routing(routes: &BTreeMap<String, Json>, endpoints: &BTreeMap<String, Endpoint>) -> Routing {
    let routes = routes
        .values()
        .filter_map(|r| {
            let id = r.get("id")?.as_str()?;
            let endpoint = r.get("endpointName")?.as_str()?;
            let filter = r.get("filter")?.as_str()?;
            if !endpoints.contains_key(endpoint) {
                return None;
            }
            match Filter::parse(filter) {
                Ok(filter) => Some(Route {
                    id: id.to_string(),
                    endpoint: endpoint.to_string(),
                    filter,
                }),
                Err(e) => {
                    tracing::warn!("event route {id} delivers nothing: its filter {e}");
                    None
                }
            }
        })
        .collect();
    Routing {
        endpoints: endpoints.clone(),
        routes,
    }
}

/// The events handle at startup, with the stored routes and endpoints.
pub fn new_events(
    next_log_seq: u64,
    routes: &BTreeMap<String, Json>,
    endpoints: &BTreeMap<String, Endpoint>,
) -> Events {
    let events = Events::new(next_log_seq);
    events.update_routing(|_| (routing(routes, endpoints), ()));
    events
}

/// Hands the world's routes and endpoints to the dispatcher (call under the
/// world lock, after changing them).
pub fn publish_routing(events: &Events, world: &World) {
    events.update_routing(|_| (routing(&world.event_routes, &world.endpoints), ()));
}

/// The store, telling `events` when a batch with log entries is durable.
pub fn notify_commits(store: Arc<dyn Store>, events: &Events) -> Arc<dyn Store> {
    Arc::new(NotifyingStore {
        inner: store,
        events: events.clone(),
    })
}

struct NotifyingStore {
    inner: Arc<dyn Store>,
    events: Events,
}

impl Store for NotifyingStore {
    fn commit(&self, batch: WriteBatch) -> CommitFuture {
        let appends = batch.log_appends() > 0;
        let fut = self.inner.commit(batch);
        if !appends {
            return fut;
        }
        let events = self.events.clone();
        CommitFuture::from_future(async move {
            let outcome = fut.await;
            if let Ok(info) = &outcome {
                events.committed(info.log_seqs.end);
            }
            outcome
        })
    }

    fn load(&self) -> Result<Box<dyn Snapshot>, StoreError> {
        self.inner.load()
    }

    fn get(&self, table: Table, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(table, key)
    }

    fn read_log(&self, from_seq: u64, limit: usize) -> Result<Vec<LogEntry>, StoreError> {
        self.inner.read_log(from_seq, limit)
    }

    fn limits(&self) -> twinscape_store::Limits {
        self.inner.limits()
    }

    fn truncate_log(&self, up_to_seq: u64) -> CommitFuture {
        self.inner.truncate_log(up_to_seq)
    }
}

/// Queues the telemetry event of `POST …/telemetry` (checked: the twin, and
/// the component when given, exist) in `batch`.
pub fn telemetry(
    world: &World,
    batch: &mut WriteBatch,
    twin_id: &str,
    component: Option<&str>,
    headers: &HeaderMap,
    payload: Json,
) -> Result<(), ApiError> {
    let graph = world.engine.graph();
    let twin = graph
        .twin(twin_id)
        .ok_or_else(|| ApiError::from(GraphError::TwinNotFound(twin_id.to_string())))?;
    let twin_model = graph.symbols().name(twin.model).to_string();
    let model_id = match component {
        None => Some(twin_model),
        Some(c) => {
            graph.component_json(twin_id, c)?;
            world
                .engine
                .registry()
                .expanded(&twin_model)
                .and_then(|m| m.components.get(c).map(|d| d.schema.clone()))
        }
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let message_id = header("message-id").unwrap_or_default();
    if message_id.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            "The Message-Id header is required for telemetry.",
        ));
    }
    let time = header("telemetry-source-time")
        .and_then(Timestamp::parse)
        .unwrap_or_else(crate::state::now);
    twinscape_events::log_telemetry(
        twinscape_events::Telemetry {
            twin_id,
            component,
            message_id,
            model_id: model_id.as_deref(),
            time,
            payload,
        },
        batch,
    );
    Ok(())
}
