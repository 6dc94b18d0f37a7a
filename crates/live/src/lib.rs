//! The live feed over WebSocket (`/live`): a snapshot, then ordered deltas.
//!
//! Owns: sessions (hello, auth, resume from the feed's history or a
//! snapshot, fan-out of released frames, lag → reset, ping), and scoped
//! sessions ([`scope`]). Deltas come from `twinscape_core`'s change feed,
//! serialized once per frame for every session. Must not: change the world
//! or hold its lock across an await; make a writer wait for a slow client.

use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value as Json;
use std::sync::Arc;
use tokio::sync::broadcast;
use twinscape_auth::Auth;
use twinscape_core::{AppState, ChangeFeed, Frame};
use twinscape_protocol::live::{ClientMessage, DeltaOp, ServerMessage};

mod scope;
use scope::Scope;

/// Documents per snapshot message.
const SNAPSHOT_CHUNK: usize = 1_000;
/// Deltas already queued for a client that go out in one socket write.
const MAX_BATCH: usize = 64;
/// The read buffer of a session. Clients send only small messages (hello,
/// ping), and tungstenite zero-fills its whole read buffer on every read
/// attempt, which is every turn of the session loop: at the default 128 KiB
/// that was most of the fan-out's CPU.
const READ_BUFFER: usize = 4 * 1024;

/// A frame's text as a WebSocket message (shares the frame's bytes).
fn text(frame: &Frame) -> Message {
    match Utf8Bytes::try_from(frame.text.clone()) {
        Ok(t) => Message::Text(t),
        // Serialized JSON is UTF-8; never taken.
        Err(_) => Message::Text(String::from_utf8_lossy(&frame.text).into_owned().into()),
    }
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
///
/// The whole graph is read a chunk at a time, each under the read lock
/// and sent after releasing it, so a writer waits for at most one chunk
/// however big the graph. Chunks read after the snapshot's `seq` may show
/// later states; the session was subscribed before `seq` was read, so every
/// frame after `seq` follows the snapshot and the replica converges (puts
/// replace, deletes of what is absent do nothing).
async fn snapshot(state: &AppState, socket: &mut Tx, scope: Option<&mut Scope>) -> Option<u64> {
    let (seq, models, decommissioned, scenes, scoped) = {
        let world = state.world();
        let scenes = (!world.scenes().configuration.scenes.is_empty()
            || !world.scenes().configuration.behaviors.is_empty())
        .then(|| twinscape_scene::config::to_json(world.scenes()));
        let seq = state.feed.last_seq();
        let registry = world.engine().registry();
        let models: Vec<Json> = registry.models().map(|m| m.model.clone()).collect();
        let decommissioned: Vec<Json> = registry
            .models()
            .filter(|m| m.decommissioned)
            .map(|m| m.model.clone())
            .collect();
        let scoped = scope.map(|scope| scope.reset(&world));
        (seq, models, decommissioned, scenes, scoped)
    };
    let chunk = |twins: Vec<Json>, relationships: Vec<Json>| ServerMessage::Snapshot {
        seq,
        models: vec![],
        twins,
        relationships,
        scenes: None,
    };
    if !send(
        socket,
        &ServerMessage::Snapshot {
            seq,
            models,
            twins: vec![],
            relationships: vec![],
            scenes,
        },
    )
    .await
    {
        return None;
    }
    match scoped {
        Some((twins, rels)) => {
            for c in twins.chunks(SNAPSHOT_CHUNK) {
                if !send(socket, &chunk(c.to_vec(), vec![])).await {
                    return None;
                }
            }
            for c in rels.chunks(SNAPSHOT_CHUNK) {
                if !send(socket, &chunk(vec![], c.to_vec())).await {
                    return None;
                }
            }
        }
        None => {
            for part in [Part::Twins, Part::Relationships] {
                let mut from = 0;
                loop {
                    let docs = read_chunk(state, part, &mut from);
                    if docs.is_empty() {
                        break;
                    }
                    let msg = match part {
                        Part::Twins => chunk(docs, vec![]),
                        Part::Relationships => chunk(vec![], docs),
                    };
                    if !send(socket, &msg).await {
                        return None;
                    }
                }
            }
        }
    }
    for model in decommissioned {
        let msg = ServerMessage::Delta {
            seq,
            ops: vec![DeltaOp::PutModel {
                model,
                decommissioned: true,
            }],
        };
        if !send(socket, &msg).await {
            return None;
        }
    }
    send(socket, &ServerMessage::SnapshotEnd { seq })
        .await
        .then_some(seq)
}

#[derive(Clone, Copy)]
enum Part {
    Twins,
    Relationships,
}

/// The next chunk of the whole graph's twins or relationships, read under
/// the read lock from slot `from` on (which moves past the chunk).
fn read_chunk(state: &AppState, part: Part, from: &mut u32) -> Vec<Json> {
    let world = state.world();
    let graph = world.engine().graph();
    match part {
        Part::Twins => graph
            .twins_from(*from)
            .take(SNAPSHOT_CHUNK)
            .map(|(slot, t)| {
                *from = slot + 1;
                t.to_json(graph.symbols())
            })
            .collect(),
        Part::Relationships => graph
            .relationships_from(*from)
            .take(SNAPSHOT_CHUNK)
            .map(|(slot, r)| {
                *from = slot + 1;
                graph.relationship_json(r)
            })
            .collect(),
    }
}

/// The client fell too far behind: `Reset`, then a fresh snapshot; returns
/// its sequence number.
async fn restart(
    state: &AppState,
    socket: &mut Tx,
    rx: &mut broadcast::Receiver<Arc<Frame>>,
    scope: Option<&mut Scope>,
) -> Option<u64> {
    *rx = state.feed.subscribe();
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
    let mut scope = match scope_text.map(|text| Scope::parse(text, &state.world())) {
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
    let mut rx = state.feed.subscribe();
    if !send(
        &mut socket,
        &ServerMessage::Welcome {
            epoch: state.feed.epoch().to_string(),
            server: format!("twinscape {}", env!("CARGO_PKG_VERSION")),
        },
    )
    .await
    {
        return;
    }
    // Resume from the history, or start with a snapshot.
    let mut last = match resume
        .filter(|r| scope.is_none() && r.epoch == state.feed.epoch())
        .and_then(|r| state.feed.since(r.seq).map(|f| (r.seq, f)))
    {
        Some((seq, frames)) => {
            let mut last = seq;
            for f in frames {
                if socket.feed(text(&f)).await.is_err() {
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
                            } else if socket.feed(text(&f)).await.is_err() {
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
    let ops: Vec<DeltaOp> = frames
        .iter()
        .flat_map(|f| f.ops().iter().cloned())
        .collect();
    let msg = scope.filter(&state.world(), seq, ops)?;
    serde_json::to_string(&msg).ok().map(Into::into)
}

/// Aborts a task when dropped (a session's reader ends with the session).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
