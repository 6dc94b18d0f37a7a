//! What lives behind the state's lock: the engine and the API's own
//! resources. Readable by anyone holding the lock; changed only through a
//! [`crate::Txn`], which records every change for the store, the live feed
//! and the events.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use twinscape_engine::Engine;
use twinscape_events::Endpoint;
use twinscape_graph::Timestamp;

/// An event route: which events go to which endpoint. Serialized as ADT's
/// `{"id", "endpointName", "filter"}` (also its stored form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRoute {
    pub id: String,
    #[serde(rename = "endpointName")]
    pub endpoint_name: String,
    pub filter: String,
}

pub struct World {
    pub(crate) engine: Engine,
    /// When each model was uploaded.
    pub(crate) upload_times: HashMap<String, Timestamp>,
    pub(crate) event_routes: BTreeMap<String, EventRoute>,
    /// Import and delete jobs by store key (`imports/{id}`, `deletions/{id}`),
    /// as ADT's job documents.
    pub(crate) jobs: BTreeMap<String, Json>,
    pub(crate) endpoints: BTreeMap<String, Endpoint>,
}

impl World {
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// When the model `id` was uploaded.
    pub fn upload_time(&self, id: &str) -> Option<Timestamp> {
        self.upload_times.get(id).copied()
    }

    pub fn event_routes(&self) -> &BTreeMap<String, EventRoute> {
        &self.event_routes
    }

    pub fn jobs(&self) -> &BTreeMap<String, Json> {
        &self.jobs
    }

    pub fn endpoints(&self) -> &BTreeMap<String, Endpoint> {
        &self.endpoints
    }
}
