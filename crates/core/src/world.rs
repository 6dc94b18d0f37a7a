//! What lives behind the state's lock: the engine and the API's own
//! resources. Readable by anyone holding the lock; changed only through a
//! [`crate::Txn`], which records every change for the store, the live feed
//! and the events.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use twinscape_engine::Engine;
use twinscape_events::Endpoint;
use twinscape_graph::Timestamp;
use twinscape_scene::ScenesConfig;

/// An event route: which events go to which endpoint. Serialized as ADT's
/// `{"id", "endpointName", "filter"}` (also its stored form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRoute {
    pub id: String,
    #[serde(rename = "endpointName")]
    pub endpoint_name: String,
    pub filter: String,
}

/// A bulk job's state, as ADT names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    NotStarted,
    Running,
    Failed,
    Succeeded,
    Cancelling,
    Cancelled,
}

impl JobStatus {
    /// Whether the job has ended (it gets a `finishedDateTime`).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Failed | JobStatus::Succeeded | JobStatus::Cancelled
        )
    }
}

/// Why a job failed: `{"code", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    pub code: String,
    pub message: String,
}

/// An import or delete job, serialized as ADT's `ImportJob` / `DeleteJob`
/// (also its stored form), in ADT's key order. Times are ADT's job time text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    /// Imports only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_blob_uri: Option<String>,
    /// Imports only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_blob_uri: Option<String>,
    pub created_date_time: String,
    /// Imports only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_action_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_date_time: Option<String>,
    pub purge_date_time: String,
    pub status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
}

pub struct World {
    pub(crate) engine: Engine,
    /// When each model was uploaded.
    pub(crate) upload_times: HashMap<String, Timestamp>,
    pub(crate) event_routes: BTreeMap<String, EventRoute>,
    /// Import and delete jobs by store key (`imports/{id}`, `deletions/{id}`).
    pub(crate) jobs: BTreeMap<String, Job>,
    pub(crate) endpoints: BTreeMap<String, Endpoint>,
    /// The 3D scenes: one Scenes Studio configuration, checked valid.
    pub(crate) scenes: ScenesConfig,
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

    pub fn jobs(&self) -> &BTreeMap<String, Job> {
        &self.jobs
    }

    pub fn endpoints(&self) -> &BTreeMap<String, Endpoint> {
        &self.endpoints
    }

    pub fn scenes(&self) -> &ScenesConfig {
        &self.scenes
    }
}
