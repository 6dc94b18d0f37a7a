//! The live feed over WebSocket (`/live`): a snapshot, then ordered deltas.
//!
//! Deltas come from the store batches themselves: every write's batch holds
//! the documents it stores (twins, relationships, models), so the delta is
//! exactly what became durable. A sequence number is reserved under the world
//! lock (so sequence order = commit order) and the delta is released to
//! clients only once durable, strictly in order ([`Hub::committed`]). Fan-out
//! uses a bounded broadcast channel: a client that falls behind by more than
//! its capacity is reset with a fresh snapshot; writers never wait.

use crate::auth::Auth;
use crate::state::{AppState, World};
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use serde_json::Value as Json;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use tokio::sync::broadcast;
use twinscape_protocol::live::{ClientMessage, DeltaOp, ServerMessage};
use twinscape_store::{Op, Table, WriteBatch};

mod scope;
use scope::Scope;

/// Deltas kept for reconnecting clients.
const HISTORY: usize = 10_000;
/// Deltas a client may fall behind before it is reset.
const CHANNEL: usize = 8_192;
/// Documents per snapshot message.
const SNAPSHOT_CHUNK: usize = 1_000;
/// Deltas already queued for a client that go out in one socket write.
const MAX_BATCH: usize = 64;
/// The read buffer of a session. Clients send only small messages (hello,
/// ping), and tungstenite zero-fills its whole read buffer on every read
/// attempt, which is every turn of the session loop: at the default 128 KiB
/// that was most of the fan-out's CPU.
const READ_BUFFER: usize = 4 * 1024;

/// A released delta, serialized once for every client: `text` is shared
/// (reference-counted bytes), never copied per client.
#[derive(Debug)]
pub struct Frame {
    pub seq: u64,
    pub text: Utf8Bytes,
}

struct Inner {
    /// Last sequence number reserved.
    reserved: u64,
    /// Last sequence number released.
    released: u64,
    /// Reserved but not yet released: the frame once durable.
    pending: BTreeMap<u64, Option<Arc<Frame>>>,
    history: VecDeque<Arc<Frame>>,
}

pub struct Hub {
    epoch: String,
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Frame>>,
}

/// A delta reserved under the world lock, waiting for its batch to be durable.
pub struct Staged {
    seq: u64,
    frame: Arc<Frame>,
}

impl Hub {
    pub fn new(epoch: String) -> Hub {
        let (tx, _) = broadcast::channel(CHANNEL);
        Hub {
            epoch,
            inner: Mutex::new(Inner {
                reserved: 0,
                released: 0,
                pending: BTreeMap::new(),
                history: VecDeque::new(),
            }),
            tx,
        }
    }

    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The last sequence number reserved (call under the world lock).
    pub fn reserved(&self) -> u64 {
        self.inner.lock().reserved
    }

    /// Reserves the next sequence number for `batch`'s documents, if it has any.
    /// Call under the world write lock.
    pub fn stage(&self, world: &World, batch: &WriteBatch) -> Option<Staged> {
        let ops = delta_ops(world, batch);
        if ops.is_empty() {
            return None;
        }
        let mut inner = self.inner.lock();
        inner.reserved += 1;
        let seq = inner.reserved;
        inner.pending.insert(seq, None);
        let text = serde_json::to_string(&ServerMessage::Delta { seq, ops }).unwrap_or_default();
        Some(Staged {
            seq,
            frame: Arc::new(Frame {
                seq,
                text: text.into(),
            }),
        })
    }

    /// The staged delta's batch is durable (or failed: then it is released
    /// empty, keeping the sequence without gaps). Releases every delta that
    /// is now next in order.
    pub fn committed(&self, staged: Staged, ok: bool) {
        let mut inner = self.inner.lock();
        let frame = if ok {
            staged.frame
        } else {
            let text = serde_json::to_string(&ServerMessage::Delta {
                seq: staged.seq,
                ops: vec![],
            })
            .unwrap_or_default();
            Arc::new(Frame {
                seq: staged.seq,
                text: text.into(),
            })
        };
        inner.pending.insert(staged.seq, Some(frame));
        loop {
            let next = inner.released + 1;
            let Some(Some(frame)) = inner.pending.get(&next).cloned() else {
                break;
            };
            inner.pending.remove(&next);
            inner.released = next;
            inner.history.push_back(frame.clone());
            if inner.history.len() > HISTORY {
                inner.history.pop_front();
            }
            // No receivers is fine.
            let _ = self.tx.send(frame);
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Frame>> {
        self.tx.subscribe()
    }

    /// Released frames after `seq`, if the history still has all of them.
    fn since(&self, seq: u64) -> Option<Vec<Arc<Frame>>> {
        let inner = self.inner.lock();
        if seq > inner.released {
            return None;
        }
        let oldest = inner
            .history
            .front()
            .map(|f| f.seq)
            .unwrap_or(inner.released + 1);
        if seq + 1 < oldest {
            return None;
        }
        Some(
            inner
                .history
                .iter()
                .filter(|f| f.seq > seq)
                .cloned()
                .collect(),
        )
    }
}

/// The documents a batch stores, as replica operations.
fn delta_ops(world: &World, batch: &WriteBatch) -> Vec<DeltaOp> {
    let parse = |v: &[u8]| serde_json::from_slice::<Json>(v).ok();
    let mut ops = Vec::new();
    for op in batch.ops() {
        match op {
            Op::Put {
                table: Table::Twins,
                value,
                ..
            } => {
                if let Some(twin) = parse(value) {
                    ops.push(DeltaOp::PutTwin { twin });
                }
            }
            Op::Delete {
                table: Table::Twins,
                key,
            } => ops.push(DeltaOp::DeleteTwin { id: key.clone() }),
            Op::Put {
                table: Table::Relationships,
                value,
                ..
            } => {
                if let Some(relationship) = parse(value) {
                    ops.push(DeltaOp::PutRelationship { relationship });
                }
            }
            Op::Delete {
                table: Table::Relationships,
                key,
            } => {
                let (source, id) = key.split_once('\u{1f}').unwrap_or((key.as_str(), ""));
                ops.push(DeltaOp::DeleteRelationship {
                    source: source.into(),
                    id: id.into(),
                });
            }
            Op::Put {
                table: Table::Models,
                key,
                value,
            } => {
                if let Some(row) = parse(value) {
                    let decommissioned = row["decommissioned"].as_bool().unwrap_or(false);
                    ops.push(DeltaOp::PutModel {
                        model: row["model"].clone(),
                        decommissioned,
                    });
                } else if let Some(entry) = world.engine.registry().get(key) {
                    ops.push(DeltaOp::PutModel {
                        model: entry.model.clone(),
                        decommissioned: entry.decommissioned,
                    });
                }
            }
            Op::Delete {
                table: Table::Models,
                key,
            } => ops.push(DeltaOp::DeleteModel { id: key.clone() }),
            _ => {}
        }
    }
    ops
}

/// `GET /live`: upgrades to the live feed.
/// The bearer token comes in the hello (browsers cannot set headers on a
/// WebSocket) or, from other clients, in the `Authorization` header; either
/// role may read the feed.
pub async fn upgrade(
    State((state, auth)): State<(Arc<AppState>, Arc<Auth>)>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let header_token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::to_string);
    ws.max_message_size(64 * 1024)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| session(state, auth, header_token, socket))
}

/// The sending half of a session's socket.
type Tx = SplitSink<WebSocket, Message>;

async fn send(socket: &mut Tx, msg: &ServerMessage) -> bool {
    match serde_json::to_string(msg) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

/// Sends a snapshot of the whole graph, or of the session's scope; returns
/// its sequence number.
async fn snapshot(state: &AppState, socket: &mut Tx, scope: Option<&mut Scope>) -> Option<u64> {
    // Serialize under the read lock, send after releasing it.
    let (seq, messages) = {
        let world = state.world.read();
        let seq = state.hub.reserved();
        let models: Vec<Json> = world
            .engine
            .registry()
            .models()
            .map(|m| m.model.clone())
            .collect();
        let decommissioned: Vec<String> = world
            .engine
            .registry()
            .models()
            .filter(|m| m.decommissioned)
            .map(|m| m.id.clone())
            .collect();
        let graph = world.engine.graph();
        let (twins, rels) = match scope {
            Some(scope) => scope.reset(&world),
            None => (
                graph
                    .twins()
                    .map(|(_, t)| t.to_json(graph.symbols()))
                    .collect(),
                graph
                    .relationships()
                    .map(|r| graph.relationship_json(r))
                    .collect(),
            ),
        };
        let mut messages = Vec::new();
        messages.push(ServerMessage::Snapshot {
            seq,
            models,
            twins: vec![],
            relationships: vec![],
        });
        for chunk in twins.chunks(SNAPSHOT_CHUNK) {
            messages.push(ServerMessage::Snapshot {
                seq,
                models: vec![],
                twins: chunk.to_vec(),
                relationships: vec![],
            });
        }
        for chunk in rels.chunks(SNAPSHOT_CHUNK) {
            messages.push(ServerMessage::Snapshot {
                seq,
                models: vec![],
                twins: vec![],
                relationships: chunk.to_vec(),
            });
        }
        for id in decommissioned {
            messages.push(ServerMessage::Delta {
                seq,
                ops: vec![DeltaOp::PutModel {
                    model: world
                        .engine
                        .registry()
                        .get(&id)
                        .map(|m| m.model.clone())
                        .unwrap_or(Json::Null),
                    decommissioned: true,
                }],
            });
        }
        (seq, messages)
    };
    for m in &messages {
        if !send(socket, m).await {
            return None;
        }
    }
    send(socket, &ServerMessage::SnapshotEnd { seq })
        .await
        .then_some(seq)
}

/// The client fell too far behind: `Reset`, then a fresh snapshot; returns
/// its sequence number.
async fn restart(
    state: &AppState,
    socket: &mut Tx,
    rx: &mut broadcast::Receiver<Arc<Frame>>,
    scope: Option<&mut Scope>,
) -> Option<u64> {
    *rx = state.hub.subscribe();
    let reset = ServerMessage::Reset {
        reason: "the client fell too far behind".into(),
    };
    if !send(socket, &reset).await {
        return None;
    }
    snapshot(state, socket, scope).await
}

async fn session(
    state: Arc<AppState>,
    auth: Arc<Auth>,
    header_token: Option<String>,
    socket: WebSocket,
) {
    let (mut socket, mut incoming) = socket.split();
    // The first message must be a hello.
    let hello = match incoming.next().await {
        Some(Ok(Message::Text(t))) => serde_json::from_str::<ClientMessage>(&t).ok(),
        _ => None,
    };
    let Some(ClientMessage::Hello {
        resume,
        token,
        query,
    }) = hello
    else {
        let _ = send(
            &mut socket,
            &ServerMessage::Error {
                code: "BadRequest".into(),
                message: "the first message must be {\"type\":\"hello\"}".into(),
            },
        )
        .await;
        return;
    };
    let token = token.or(header_token).unwrap_or_default();
    if let Err(e) = auth.verify_token(&token).await {
        let _ = send(
            &mut socket,
            &ServerMessage::Error {
                code: "Unauthorized".into(),
                message: e.to_string(),
            },
        )
        .await;
        return;
    }
    // A query limits the replica to the twins it selects.
    let scope_text = query.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let mut scope = match scope_text.map(|text| Scope::parse(text, &state.world.read())) {
        None => None,
        Some(Ok(scope)) => Some(scope),
        Some(Err(e)) => {
            let _ = send(
                &mut socket,
                &ServerMessage::Error {
                    code: "BadRequest".into(),
                    message: format!("invalid live scope: {e}"),
                },
            )
            .await;
            return;
        }
    };
    // The client's later messages are read by a task of their own, so that
    // sending a delta does not also poll the socket for reading.
    let (pings, mut ping_rx) = tokio::sync::mpsc::channel::<()>(4);
    let _reader = AbortOnDrop(tokio::spawn(async move {
        while let Some(Ok(msg)) = incoming.next().await {
            match msg {
                Message::Text(t) => {
                    if let Ok(ClientMessage::Ping) = serde_json::from_str::<ClientMessage>(&t)
                        && pings.send(()).await.is_err()
                    {
                        return;
                    }
                }
                Message::Close(_) => return,
                _ => {}
            }
        }
        // Dropping `pings` ends the session.
    }));
    let mut rx = state.hub.subscribe();
    if !send(
        &mut socket,
        &ServerMessage::Welcome {
            epoch: state.hub.epoch().to_string(),
            server: format!("twinscape {}", env!("CARGO_PKG_VERSION")),
        },
    )
    .await
    {
        return;
    }
    // Resume from the history, or start with a snapshot.
    let mut last = match resume
        .filter(|r| scope.is_none() && r.epoch == state.hub.epoch())
        .and_then(|r| state.hub.since(r.seq).map(|f| (r.seq, f)))
    {
        Some((seq, frames)) => {
            let mut last = seq;
            for f in frames {
                if socket.feed(Message::Text(f.text.clone())).await.is_err() {
                    return;
                }
                last = f.seq;
            }
            if socket.flush().await.is_err() {
                return;
            }
            last
        }
        None => match snapshot(&state, &mut socket, scope.as_mut()).await {
            Some(seq) => seq,
            None => return,
        },
    };
    loop {
        tokio::select! {
            frame = rx.recv() => match frame {
                Ok(f) => {
                    // This delta and those already queued behind it go out
                    // in one write (at most MAX_BATCH of them).
                    let mut next = Some(f);
                    let mut lagged = false;
                    let mut fed = 0;
                    let mut for_scope: Vec<Arc<Frame>> = Vec::new();
                    while let Some(f) = next.take() {
                        if f.seq > last {
                            last = f.seq;
                            fed += 1;
                            if scope.is_some() {
                                for_scope.push(f);
                            } else if socket.feed(Message::Text(f.text.clone())).await.is_err() {
                                return;
                            }
                        }
                        if fed == MAX_BATCH {
                            break;
                        }
                        next = match rx.try_recv() {
                            Ok(f) => Some(f),
                            Err(broadcast::error::TryRecvError::Lagged(_)) => {
                                lagged = true;
                                None
                            }
                            Err(_) => None,
                        };
                    }
                    // A scoped session filters the batch as one delta (a
                    // JOIN or MATCH scope is re-run once per batch).
                    if let Some(scope) = scope.as_mut()
                        && let Some(text) = scoped(&state, scope, &for_scope)
                        && socket.feed(Message::Text(text)).await.is_err()
                    {
                        return;
                    }
                    if socket.flush().await.is_err() {
                        return;
                    }
                    if lagged {
                        match restart(&state, &mut socket, &mut rx, scope.as_mut()).await {
                            Some(seq) => last = seq,
                            None => return,
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    match restart(&state, &mut socket, &mut rx, scope.as_mut()).await {
                        Some(seq) => last = seq,
                        None => return,
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            ping = ping_rx.recv() => match ping {
                Some(()) => {
                    if !send(&mut socket, &ServerMessage::Pong).await {
                        return;
                    }
                }
                // The client closed the socket, or it failed.
                None => return,
            },
        }
    }
}

/// Deltas as a scoped session sees them, merged into one delta with the
/// last one's sequence number (`None`: nothing of them is in scope).
fn scoped(state: &AppState, scope: &mut Scope, frames: &[Arc<Frame>]) -> Option<Utf8Bytes> {
    let seq = frames.last()?.seq;
    let mut ops = Vec::new();
    for f in frames {
        if let Ok(ServerMessage::Delta { ops: o, .. }) = serde_json::from_str(f.text.as_str()) {
            ops.extend(o);
        }
    }
    let msg = scope.filter(&state.world.read(), seq, ops)?;
    serde_json::to_string(&msg).ok().map(Into::into)
}

/// Aborts a task when dropped (a session's reader ends with the session).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(hub: &Hub, seq_text: &str) -> Staged {
        let mut inner = hub.inner.lock();
        inner.reserved += 1;
        let seq = inner.reserved;
        inner.pending.insert(seq, None);
        Staged {
            seq,
            frame: Arc::new(Frame {
                seq,
                text: seq_text.into(),
            }),
        }
    }

    #[test]
    fn deltas_are_released_in_sequence_order_whatever_the_commit_order() {
        let hub = Hub::new("e".into());
        let mut rx = hub.subscribe();
        let (a, b, c) = (staged(&hub, "a"), staged(&hub, "b"), staged(&hub, "c"));
        hub.committed(c, true);
        hub.committed(b, true);
        assert!(rx.try_recv().is_err(), "nothing before 1 is durable");
        hub.committed(a, true);
        let got: Vec<u64> = std::iter::from_fn(|| rx.try_recv().ok())
            .map(|f| f.seq)
            .collect();
        assert_eq!(got, [1, 2, 3]);
        // A failed write keeps the sequence without a gap, as an empty delta.
        let d = staged(&hub, "d");
        hub.committed(d, false);
        let f = rx.try_recv().unwrap();
        assert_eq!(f.seq, 4);
        assert!(f.text.contains("\"ops\":[]"), "{}", f.text);
    }

    #[test]
    fn history_answers_resumes_until_it_is_too_old() {
        let hub = Hub::new("e".into());
        for i in 0..(HISTORY + 5) {
            let s = staged(&hub, &i.to_string());
            hub.committed(s, true);
        }
        let last = (HISTORY + 5) as u64;
        assert_eq!(hub.since(last).map(|v| v.len()), Some(0));
        assert_eq!(
            hub.since(last - 3)
                .map(|v| v.iter().map(|f| f.seq).collect::<Vec<_>>()),
            Some(vec![last - 2, last - 1, last])
        );
        assert!(
            hub.since(1).is_none(),
            "older than the history: a snapshot is needed"
        );
        assert!(
            hub.since(last + 1).is_none(),
            "ahead of the server: a snapshot is needed"
        );
    }
}
