//! What can go wrong in a graph operation. The server maps each variant to an
//! ADT error code and HTTP status in one place.

/// A graph operation was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    #[error(
        "There is no digital twin instance that exists with the ID {0}. Please verify that the twin ID is valid and ensure that the twin is not deleted."
    )]
    TwinNotFound(String),
    #[error("A digital twin with the ID {0} already exists.")]
    TwinAlreadyExists(String),
    #[error("There is no relationship {relationship} on the digital twin {twin}.")]
    RelationshipNotFound { twin: String, relationship: String },
    #[error("A relationship with the ID {relationship} already exists on the digital twin {twin}.")]
    RelationshipAlreadyExists { twin: String, relationship: String },
    #[error("There is no component {component} on the digital twin {twin}.")]
    ComponentNotFound { twin: String, component: String },
    /// A precondition (`If-Match` / `If-None-Match`) failed; the message says which.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("The model {0} does not exist. Upload it before creating twins of it.")]
    ModelNotFound(String),
    #[error("The model {0} is decommissioned: no new twins can be created with it.")]
    ModelDecommissioned(String),
    #[error(
        "The digital twin {0} has relationships. Delete its incoming and outgoing relationships before deleting it."
    )]
    TwinHasRelationships(String),
    #[error("Invalid twin: {0}")]
    InvalidTwin(String),
    #[error("Invalid relationship: {0}")]
    InvalidRelationship(String),
    #[error("The target twin {0} of the relationship does not exist.")]
    TargetTwinNotFound(String),
    #[error("Invalid JSON Patch: {0}")]
    InvalidPatch(String),
    #[error("The patch's test operation failed: {0}")]
    PatchTestFailed(String),
    /// The change does not conform to the model: every problem found.
    #[error("{}", .0.join("; "))]
    ValidationFailed(Vec<String>),
}
