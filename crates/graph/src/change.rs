//! The change every successful mutation produces. Later stages turn changes
//! into durable writes, notifications, live deltas and history.

use serde_json::Value as Json;

/// One committed change to the graph, numbered in commit order.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Position in the graph's change sequence (starts at 1, no gaps).
    pub seq: u64,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    TwinCreated {
        id: String,
        /// The twin as stored (ADT JSON).
        twin: Json,
    },
    /// A PATCH, or a PUT that replaced an existing twin (the patch is then
    /// the difference between the two).
    TwinUpdated {
        id: String,
        model_id: String,
        /// JSON Patch (RFC 6902) operations, as applied.
        patch: Json,
        before_etag: String,
        after_etag: String,
        /// The twin after the change.
        twin: Json,
    },
    TwinDeleted {
        id: String,
        /// The twin as it was.
        twin: Json,
    },
    RelationshipCreated {
        source_id: String,
        relationship_id: String,
        relationship: Json,
    },
    RelationshipUpdated {
        source_id: String,
        relationship_id: String,
        /// The source twin's model (notifications carry it).
        model_id: String,
        patch: Json,
        before_etag: String,
        after_etag: String,
        relationship: Json,
    },
    RelationshipDeleted {
        source_id: String,
        relationship_id: String,
        relationship: Json,
    },
}

impl Change {
    /// The twin whose document changed (for relationships: the source twin).
    pub fn twin_id(&self) -> &str {
        match &self.kind {
            ChangeKind::TwinCreated { id, .. }
            | ChangeKind::TwinUpdated { id, .. }
            | ChangeKind::TwinDeleted { id, .. } => id,
            ChangeKind::RelationshipCreated { source_id, .. }
            | ChangeKind::RelationshipUpdated { source_id, .. }
            | ChangeKind::RelationshipDeleted { source_id, .. } => source_id,
        }
    }
}
