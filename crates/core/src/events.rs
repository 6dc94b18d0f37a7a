//! The state's side of event notifications (`crates/events`): endpoints and
//! routes handed to the dispatcher, and the store wrapper that tells the
//! dispatcher when log entries are durable.

use crate::world::EventRoute;
use std::collections::BTreeMap;
use std::sync::Arc;
use twinscape_events::{Endpoint, Events, Filter, Route, Routing};
use twinscape_store::{CommitFuture, LogEntry, Snapshot, Store, StoreError, Table, WriteBatch};

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
pub fn routing(
    routes: &BTreeMap<String, EventRoute>,
    endpoints: &BTreeMap<String, Endpoint>,
) -> Routing {
    let routes = routes
        .values()
        .filter_map(|r| {
            let (id, endpoint, filter) = (&r.id, &r.endpoint_name, &r.filter);
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
    routes: &BTreeMap<String, EventRoute>,
    endpoints: &BTreeMap<String, Endpoint>,
) -> Events {
    let events = Events::new(next_log_seq);
    events.update_routing(|_| (routing(routes, endpoints), ()));
    events
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
