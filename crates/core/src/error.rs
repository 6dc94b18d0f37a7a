//! The domain's errors. `twinscape-api` turns them into ADT's codes,
//! messages and HTTP statuses; nothing here knows HTTP.

use twinscape_dtdl::{ModelErrors, RegistryError};
use twinscape_graph::GraphError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A twin or relationship write the graph refused.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A model operation the registry refused (unknown, in use, …).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// An upload named models that are already registered.
    #[error("models already exist: {}", .0.join(", "))]
    ModelsExist(Vec<String>),
    /// An upload whose models do not parse or validate (none was added).
    #[error("{0}")]
    InvalidModels(ModelErrors),
    /// Telemetry without a `Message-Id`.
    #[error("the Message-Id header is required for telemetry")]
    MissingMessageId,
    /// The store failed this write: memory and disk may now differ, so the
    /// state refuses every later write until the server restarts.
    #[error("the write could not be made durable: {0}")]
    NotDurable(String),
    /// An earlier write failed to become durable (see `NotDurable`).
    #[error(
        "a previous write could not be made durable; restart the server to reload the durable state"
    )]
    Poisoned,
}
