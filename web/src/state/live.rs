//! The live replica: a copy of the server's graph in this page, kept in step
//! over the live feed (`/live`), with fine-grained signals for components.
//!
//! The replica is a real [`twinscape_engine::Engine`]: queries run here with
//! no round trip. Components read one twin with [`Live::twin`]; only the
//! signals of twins a delta touches are notified. The 3D scenes
//! configuration comes with the snapshot and its changes as deltas
//! ([`Live::scenes`]).

use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{Message, futures::WebSocket};
use leptos::prelude::*;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Arc;
use twinscape_engine::{Engine, QueryOptions};
use twinscape_protocol::live::{ClientMessage, DeltaOp, Resume, ServerMessage};
use twinscape_scene::ScenesConfig;

use super::Config;

/// Where the replica stands.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveStatus {
    Connecting,
    /// Receiving a snapshot.
    Syncing,
    /// In step with the server at this sequence number.
    Live(u64),
    /// The connection dropped; retrying.
    Disconnected(String),
}

impl LiveStatus {
    pub fn label(&self) -> String {
        match self {
            LiveStatus::Connecting => "connecting".into(),
            LiveStatus::Syncing => "syncing".into(),
            LiveStatus::Live(_) => "live".into(),
            LiveStatus::Disconnected(_) => "disconnected".into(),
        }
    }
}

/// The replica and its signals. Cheap to copy; provided as context.
///
/// Per-twin signals are reference-counted ([`ArcRwSignal`]) and owned by the
/// replica, not by whichever component first asked for them: a component
/// that goes away (the panel of twin A when B is selected) leaves them
/// alive for the next one.
#[derive(Clone, Copy)]
pub struct Live {
    engine: StoredValue<Engine, LocalStorage>,
    twins: StoredValue<HashMap<String, ArcRwSignal<Option<Json>>>, LocalStorage>,
    /// Bumped after every snapshot and delta: for views over the whole graph.
    pub version: RwSignal<u64>,
    pub status: RwSignal<LiveStatus>,
    /// Last applied sequence number.
    pub seq: RwSignal<u64>,
    /// The 3D scenes configuration (`None` until the first snapshot).
    pub scenes: RwSignal<Option<Arc<ScenesConfig>>>,
    epoch: StoredValue<Option<String>, LocalStorage>,
}

/// A configuration from the feed; one that does not read is dropped (the
/// server only stores valid ones).
fn read_scenes(value: Option<&Json>) -> Arc<ScenesConfig> {
    Arc::new(
        value
            .and_then(|v| twinscape_scene::config::from_value(v).ok())
            .unwrap_or_default(),
    )
}

impl Live {
    fn new() -> Live {
        Live {
            engine: StoredValue::new_local(Engine::default()),
            twins: StoredValue::new_local(HashMap::new()),
            version: RwSignal::new(0),
            status: RwSignal::new(LiveStatus::Connecting),
            seq: RwSignal::new(0),
            scenes: RwSignal::new(None),
            epoch: StoredValue::new_local(None),
        }
    }

    /// The twin `id` as a signal (`None` while it does not exist).
    pub fn twin(&self, id: &str) -> Signal<Option<Json>> {
        let existing = self.twins.with_value(|m| m.get(id).cloned());
        let sig = match existing {
            Some(s) => s,
            None => {
                let current = self.engine.with_value(|e| e.graph().twin_json(id));
                let s = ArcRwSignal::new(current);
                self.twins.update_value(|m| {
                    m.insert(id.to_string(), s.clone());
                });
                s
            }
        };
        sig.into()
    }

    /// Runs a query on the replica (all pages).
    pub fn query(&self, text: &str) -> Result<Vec<Json>, String> {
        self.engine.with_value(|e| {
            let mut out = Vec::new();
            let mut opts = QueryOptions {
                page_size: Some(1000),
                continuation: None,
            };
            loop {
                let page = e.query(text, &opts).map_err(|err| err.to_string())?;
                out.extend(page.items);
                match page.continuation {
                    Some(c) => opts.continuation = Some(c),
                    None => return Ok(out),
                }
            }
        })
    }

    /// Reads the replica's engine.
    pub fn with_engine<R>(&self, f: impl FnOnce(&Engine) -> R) -> R {
        self.engine.with_value(f)
    }

    fn notify(&self, id: &str) {
        if let Some(sig) = self.twins.with_value(|m| m.get(id).cloned()) {
            let doc = self.engine.with_value(|e| e.graph().twin_json(id));
            sig.set(doc);
        }
    }

    fn notify_all(&self) {
        let sigs: Vec<(String, ArcRwSignal<Option<Json>>)> = self
            .twins
            .with_value(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        for (id, sig) in sigs {
            let doc = self.engine.with_value(|e| e.graph().twin_json(&id));
            sig.set(doc);
        }
    }

    fn apply(&self, ops: Vec<DeltaOp>) {
        let mut touched = Vec::new();
        let mut scenes = None;
        self.engine.update_value(|e| {
            for op in ops {
                match op {
                    DeltaOp::PutTwin { twin } => {
                        if let Some(id) = twin.get("$dtId").and_then(Json::as_str) {
                            touched.push(id.to_string());
                        }
                        let _ = e.restore_twin(&twin);
                    }
                    DeltaOp::DeleteTwin { id } => {
                        e.forget_twin(&id);
                        touched.push(id);
                    }
                    DeltaOp::PutRelationship { relationship } => {
                        let _ = e.restore_relationship(&relationship);
                    }
                    DeltaOp::DeleteRelationship { source, id } => {
                        e.forget_relationship(&source, &id);
                    }
                    DeltaOp::PutModel {
                        model,
                        decommissioned,
                    } => {
                        let id = model
                            .get("@id")
                            .and_then(Json::as_str)
                            .unwrap_or_default()
                            .to_string();
                        if e.registry().get(&id).is_none() {
                            let _ = e.add_models(std::slice::from_ref(&model));
                        }
                        if decommissioned {
                            let _ = e.decommission_model(&id);
                        }
                    }
                    DeltaOp::DeleteModel { id } => {
                        let _ = e.delete_model(&id);
                    }
                    DeltaOp::Scenes { configuration } => {
                        scenes = Some(read_scenes(Some(&configuration)));
                    }
                    // Telemetry is not part of the graph.
                    DeltaOp::Telemetry { .. } => {}
                }
            }
        });
        for id in touched {
            self.notify(&id);
        }
        if let Some(config) = scenes {
            self.scenes.set(Some(config));
        }
    }

    fn handle(&self, msg: ServerMessage) {
        match msg {
            ServerMessage::Welcome { epoch, .. } => {
                if self.epoch.get_value().as_deref() != Some(epoch.as_str()) {
                    self.epoch.set_value(Some(epoch));
                }
            }
            ServerMessage::Reset { .. } => {
                self.engine.update_value(Engine::clear);
                self.status.set(LiveStatus::Syncing);
            }
            ServerMessage::Snapshot {
                models,
                twins,
                relationships,
                scenes,
                ..
            } => {
                if self.status.get_untracked() != LiveStatus::Syncing {
                    // The first chunk of a new snapshot: start from empty.
                    self.engine.update_value(Engine::clear);
                    self.status.set(LiveStatus::Syncing);
                    self.scenes.set(Some(read_scenes(scenes.as_ref())));
                } else if scenes.is_some() {
                    self.scenes.set(Some(read_scenes(scenes.as_ref())));
                }
                self.engine.update_value(|e| {
                    if !models.is_empty() {
                        let _ = e.load_models(&models);
                    }
                    for t in &twins {
                        let _ = e.restore_twin(t);
                    }
                    for r in &relationships {
                        let _ = e.restore_relationship(r);
                    }
                });
            }
            ServerMessage::SnapshotEnd { seq } => {
                self.seq.set(seq);
                self.status.set(LiveStatus::Live(seq));
                self.notify_all();
                self.version.update(|v| *v += 1);
            }
            ServerMessage::Delta { seq, ops } => {
                self.apply(ops);
                self.seq.set(seq);
                self.status.set(LiveStatus::Live(seq));
                self.version.update(|v| *v += 1);
            }
            ServerMessage::Pong => {}
            ServerMessage::Error { message, .. } => {
                self.status.set(LiveStatus::Disconnected(message))
            }
        }
    }
}

/// Connects (and reconnects, resuming where it left off) until the page closes.
async fn run(live: Live, config: Config) {
    let mut backoff_ms = 500u32;
    loop {
        let Some(url) = config.live_url() else { return };
        live.status.set(LiveStatus::Connecting);
        match WebSocket::open(&url) {
            Ok(ws) => {
                let (mut tx, mut rx) = ws.split();
                let resume = live.epoch.get_value().map(|epoch| Resume {
                    epoch,
                    seq: live.seq.get_untracked(),
                });
                let hello = ClientMessage::Hello {
                    resume,
                    query: config.scope.clone(),
                    token: config.token.clone(),
                };
                let text = serde_json::to_string(&hello).unwrap_or_default();
                if tx.send(Message::Text(text)).await.is_ok() {
                    backoff_ms = 500;
                    while let Some(msg) = rx.next().await {
                        let text = match msg {
                            Ok(Message::Text(t)) => t,
                            Ok(Message::Bytes(b)) => String::from_utf8_lossy(&b).into_owned(),
                            Err(_) => break,
                        };
                        if let Ok(m) = serde_json::from_str::<ServerMessage>(&text) {
                            live.handle(m);
                        }
                    }
                }
                live.status
                    .set(LiveStatus::Disconnected("the connection closed".into()));
            }
            Err(e) => live.status.set(LiveStatus::Disconnected(e.to_string())),
        }
        gloo_timers::future::TimeoutFuture::new(backoff_ms).await;
        backoff_ms = (backoff_ms * 2).min(10_000);
    }
}

/// Starts the replica (connected as `config` says) and provides it as context.
pub fn provide_live(config: &Config) -> Live {
    let live = Live::new();
    provide_context(live);
    wasm_bindgen_futures::spawn_local(run(live, config.clone()));
    live
}

/// The replica from context.
pub fn use_live() -> Live {
    expect_context::<Live>()
}
