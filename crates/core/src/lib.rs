//! Twinscape's server state and its one write path.
//!
//! Owns: the [`World`] (the engine and the API's typed resources: model
//! upload times, event routes, endpoints, jobs, the 3D scenes configuration) behind one lock in
//! [`AppState`]; loading it from the store at start; [`Txn`], the only way
//! to change it, which records for every change its store rows, its
//! live-feed ops and its events in one [`ChangeSet`]; the [`LiveFeed`] that
//! numbers change sets in store order and releases them once durable (the
//! [`ChangeFeed`] seam its subscribers read); telemetry ingestion off the
//! write lock; [`CoreError`], the domain's errors.
//!
//! Must not: know HTTP (no axum: errors become ADT responses in
//! `twinscape-api`), WebSocket sessions (`twinscape-live`), auth or the
//! command line; keep process globals (two states in one process are
//! independent).

mod error;
pub mod events;
mod feed;
mod state;
mod txn;
mod world;

pub use error::CoreError;
pub use feed::{ChangeFeed, Frame, LiveFeed, Staged};
pub use state::{ApiLimits, AppState, TelemetryIn, now, random_u128};
pub use txn::{ChangeSet, Txn};
pub use world::{EventRoute, Job, JobError, JobStatus, World};

/// Store key (in `Table::Scenes`) of the one scenes configuration.
pub const SCENES_KEY: &str = "configuration";

/// Store key of a relationship: source twin id and relationship id.
pub fn relationship_key(source: &str, rel_id: &str) -> String {
    format!("{source}\u{1f}{rel_id}")
}
