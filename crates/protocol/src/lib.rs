//! Wire types spoken between the Twinscape server, its clients and the browser app.
//!
//! Owns: REST bodies (starting with ADT's error shape), the error codes ADT uses,
//! the small status documents the server publishes, and the live feed's
//! messages ([`live`]).
//! Must not: carry logic, do I/O, or depend on anything that cannot compile to
//! `wasm32-unknown-unknown`.

use serde::{Deserialize, Serialize};

mod error;
pub mod live;
pub mod routes;

pub use error::{ErrorBody, ErrorCode, ErrorDetail, ErrorItem};

/// Body of `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `"ok"` when the server is serving.
    pub status: String,
    /// The server's crate version.
    pub version: String,
}

/// Where the demo building's glTF model is served.
pub const DEMO_MODEL_PATH: &str = "/3d/demo-building.glb";
