//! The live feed: the WebSocket protocol that keeps a replica of the graph
//! (in the browser, or any client) in step with the server.
//!
//! ```text
//! client → server  Hello { resume, query }
//! server → client  Snapshot chunks (seq S) … SnapshotEnd { seq: S }
//!                  Delta { seq: S+1 } Delta { seq: S+2 } …
//! ```
//! Deltas carry the stored documents after the change, in commit order, with
//! no gaps in `seq`. A client that reconnects sends the epoch and last seq it
//! applied; the server replays what it missed from a bounded history, or
//! starts over with a fresh snapshot (`Reset`). A client that falls too far
//! behind is sent `Reset` and a fresh snapshot; it never slows writers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The WebSocket path of the live feed.
pub const LIVE_PATH: &str = "/live";

/// Where a reconnecting client left off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The server's epoch (changes at every server start).
    pub epoch: String,
    /// The last sequence number the client applied.
    pub seq: u64,
}

/// Messages from the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ClientMessage {
    /// The first message. `resume` continues an earlier session; `query`
    /// (`SELECT … FROM DIGITALTWINS …`, JOINs and MATCH allowed) limits the
    /// replica to the twins bound in its rows and the relationships between
    /// them (models are always sent in full): twins that enter or leave the
    /// scope arrive as put/delete ops, deltas with nothing in scope are
    /// skipped and queued deltas may be merged into one (so `seq` has gaps), and a scoped session always starts with a
    /// snapshot instead of resuming. `token` is the bearer token when the
    /// server requires one.
    Hello {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<Resume>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        query: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    Ping,
}

/// One change, as the replica applies it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum DeltaOp {
    /// A twin was created or changed: its whole stored document.
    PutTwin {
        twin: Value,
    },
    DeleteTwin {
        id: String,
    },
    /// A relationship was created or changed: its stored document.
    PutRelationship {
        relationship: Value,
    },
    DeleteRelationship {
        source: String,
        id: String,
    },
    /// A model was uploaded or changed (decommissioned).
    PutModel {
        model: Value,
        #[serde(default)]
        decommissioned: bool,
    },
    DeleteModel {
        id: String,
    },
    /// The 3D scenes configuration changed: all of it, in Scenes Studio's
    /// format (`{"$schema", "configuration": {scenes, behaviors, layers}}`).
    Scenes {
        configuration: Value,
    },
    /// Telemetry a twin (or one of its components) sent. Not part of the
    /// graph: a replica passes it on (charts, scene rules) and keeps nothing.
    Telemetry {
        twin: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        component: Option<String>,
        /// `Telemetry-Source-Time`, or when it arrived (RFC 3339).
        time: String,
        payload: Value,
    },
}

/// Messages from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ServerMessage {
    /// Sent first: who the server is.
    Welcome {
        epoch: String,
        server: String,
    },
    /// Drop the replica: a fresh snapshot follows.
    Reset {
        reason: String,
    },
    /// Part of a snapshot taken at `seq` (models first, then twins, then relationships).
    Snapshot {
        seq: u64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        models: Vec<Value>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        twins: Vec<Value>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        relationships: Vec<Value>,
        /// The 3D scenes configuration (with the first chunk).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scenes: Option<Value>,
    },
    /// The snapshot is complete: the replica now equals the graph at `seq`.
    SnapshotEnd {
        seq: u64,
    },
    /// Changes committed at `seq` (one write's changes share a message).
    Delta {
        seq: u64,
        ops: Vec<DeltaOp>,
    },
    Pong,
    /// The session cannot continue (bad hello, auth); the socket closes.
    Error {
        code: String,
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_have_stable_json_shapes() {
        let hello: ClientMessage =
            serde_json::from_value(json!({"type": "hello", "resume": {"epoch": "e1", "seq": 7}}))
                .unwrap();
        assert_eq!(
            hello,
            ClientMessage::Hello {
                resume: Some(Resume {
                    epoch: "e1".into(),
                    seq: 7
                }),
                query: None,
                token: None
            }
        );
        let d = ServerMessage::Delta {
            seq: 3,
            ops: vec![DeltaOp::DeleteRelationship {
                source: "a".into(),
                id: "r".into(),
            }],
        };
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({"type": "delta", "seq": 3, "ops": [{"op": "deleteRelationship", "source": "a", "id": "r"}]})
        );
        let s = ServerMessage::Snapshot {
            seq: 1,
            models: vec![],
            twins: vec![json!({"$dtId": "x"})],
            relationships: vec![],
            scenes: None,
        };
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"type": "snapshot", "seq": 1, "twins": [{"$dtId": "x"}]})
        );
    }
}
