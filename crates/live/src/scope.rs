//! Live-feed sessions limited to a query (the hello's `query`): the replica
//! holds the twins the query selects, the relationships between them, and
//! every model.
//!
//! The scope is the set of twins bound in the query's rows (the SELECT
//! clause does not narrow it; see `Engine::scope_twins`). A delta is filtered
//! per session against the graph as it is when the session reads the delta
//! (never older): a twin that enters the scope is sent whole with its
//! relationships inside the scope, one that leaves it is sent as deleted
//! (the replica drops its relationships with it). A query over one collection
//! is checked per changed twin; one with JOINs or MATCH is re-run whenever a
//! delta changes twins or relationships, once per batch of queued deltas
//! (the session merges them into one delta with the last sequence number).
//! Deltas with nothing in scope are not sent, so a scoped session sees gaps. A scoped session does not resume from history: it starts with
//! a fresh snapshot.

use serde_json::Value as Json;
use std::collections::HashSet;
use twinscape_core::World;
use twinscape_engine::Engine;
use twinscape_protocol::live::{DeltaOp, ServerMessage};
use twinscape_query::ast::{FromClause, Query};

/// Why a hello's query cannot scope a session.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error("{0}")]
    Query(#[from] twinscape_query::QueryError),
    #[error("a live scope selects twins: use FROM DIGITALTWINS or MATCH, not FROM RELATIONSHIPS")]
    Relationships,
}

/// A session's scope: its query and the twins its replica holds.
pub struct Scope {
    query: Query,
    local: bool,
    twins: HashSet<String>,
}

impl Scope {
    pub fn parse(text: &str, world: &World) -> Result<Scope, ScopeError> {
        let query = twinscape_query::parse_with_limits(text, &world.engine().config().limits)?;
        if matches!(query.from, FromClause::Relationships { .. }) {
            return Err(ScopeError::Relationships);
        }
        Ok(Scope {
            local: Engine::scope_is_local(&query),
            query,
            twins: HashSet::new(),
        })
    }

    /// Computes the scope afresh: the twins and the relationships between
    /// them, as stored documents (for a snapshot).
    pub fn reset(&mut self, world: &World) -> (Vec<Json>, Vec<Json>) {
        let ids = world.engine().scope_twins(&self.query, None);
        self.twins = ids.iter().cloned().collect();
        let graph = world.engine().graph();
        let twins = ids.iter().filter_map(|id| graph.twin_json(id)).collect();
        let mut rels = Vec::new();
        for id in &ids {
            rels.extend(self.relationships_from(world, id));
        }
        (twins, rels)
    }

    /// The outgoing relationships of `id` whose target is in the scope.
    fn relationships_from(&self, world: &World, id: &str) -> Vec<Json> {
        let graph = world.engine().graph();
        let Some(slot) = graph.slot_of(id) else {
            return Vec::new();
        };
        graph
            .outgoing(slot)
            .filter(|r| {
                graph
                    .twin_at(r.target)
                    .is_some_and(|t| self.twins.contains(&*t.id))
            })
            .map(|r| graph.relationship_json(r))
            .collect()
    }

    /// The incoming relationships of `id` whose source is in the scope.
    fn relationships_to(&self, world: &World, id: &str) -> Vec<Json> {
        let graph = world.engine().graph();
        let Some(slot) = graph.slot_of(id) else {
            return Vec::new();
        };
        graph
            .incoming(slot)
            .filter(|r| {
                graph
                    .twin_at(r.source)
                    .is_some_and(|t| self.twins.contains(&*t.id) && *t.id != *id)
            })
            .map(|r| graph.relationship_json(r))
            .collect()
    }

    /// Twins that entered the scope: their documents, then the relationships
    /// between them and the rest of the scope (call after they are added).
    fn entered(&self, world: &World, ids: &[String], out: &mut Vec<DeltaOp>) {
        let graph = world.engine().graph();
        for id in ids {
            if let Some(twin) = graph.twin_json(id) {
                out.push(DeltaOp::PutTwin { twin });
            }
        }
        let new: HashSet<&str> = ids.iter().map(String::as_str).collect();
        for id in ids {
            for relationship in self.relationships_from(world, id) {
                out.push(DeltaOp::PutRelationship { relationship });
            }
            for relationship in self.relationships_to(world, id) {
                // Between two new twins it was sent as outgoing already.
                let source = relationship["$sourceId"].as_str().unwrap_or_default();
                if !new.contains(source) {
                    out.push(DeltaOp::PutRelationship { relationship });
                }
            }
        }
    }

    /// The part of a delta inside the scope, as the message to send; `None`
    /// when nothing of it is.
    pub fn filter(&mut self, world: &World, seq: u64, ops: Vec<DeltaOp>) -> Option<ServerMessage> {
        let graph_changed = ops.iter().any(|op| {
            !matches!(
                op,
                DeltaOp::PutModel { .. }
                    | DeltaOp::DeleteModel { .. }
                    | DeltaOp::Telemetry { .. }
                    | DeltaOp::Scenes { .. }
            )
        });
        let mut out = Vec::new();
        if !graph_changed {
            for op in ops {
                self.pass_relationship_or_model(op, &mut out);
            }
        } else if self.local {
            // Check each changed twin alone.
            let changed: Vec<String> = ops
                .iter()
                .filter_map(|op| match op {
                    DeltaOp::PutTwin { twin } => twin["$dtId"].as_str().map(str::to_string),
                    _ => None,
                })
                .collect();
            let inside: HashSet<String> = world
                .engine()
                .scope_twins(&self.query, Some(&changed))
                .into_iter()
                .collect();
            for op in ops {
                match op {
                    DeltaOp::PutTwin { twin } => {
                        let id = twin["$dtId"].as_str().unwrap_or_default().to_string();
                        let was = self.twins.contains(&id);
                        if inside.contains(&id) {
                            if was {
                                out.push(DeltaOp::PutTwin { twin });
                            } else {
                                self.twins.insert(id.clone());
                                self.entered(world, &[id], &mut out);
                            }
                        } else if was {
                            self.twins.remove(&id);
                            out.push(DeltaOp::DeleteTwin { id });
                        }
                    }
                    DeltaOp::DeleteTwin { id } => {
                        if self.twins.remove(&id) {
                            out.push(DeltaOp::DeleteTwin { id });
                        }
                    }
                    other => self.pass_relationship_or_model(other, &mut out),
                }
            }
        } else {
            // JOINs or MATCH: any change may move the scope; run it again.
            let now: HashSet<String> = world
                .engine()
                .scope_twins(&self.query, None)
                .into_iter()
                .collect();
            let mut left: Vec<String> = self.twins.difference(&now).cloned().collect();
            let mut entered: Vec<String> = now.difference(&self.twins).cloned().collect();
            left.sort_unstable();
            entered.sort_unstable();
            for id in &left {
                out.push(DeltaOp::DeleteTwin { id: id.clone() });
            }
            self.twins = now;
            self.entered(world, &entered, &mut out);
            let fresh: HashSet<&String> = entered.iter().collect();
            for op in ops {
                match op {
                    DeltaOp::PutTwin { twin } => {
                        let id = twin["$dtId"].as_str().unwrap_or_default().to_string();
                        if self.twins.contains(&id) && !fresh.contains(&id) {
                            out.push(DeltaOp::PutTwin { twin });
                        }
                    }
                    // Sent above, as leaving the scope, if it was in it.
                    DeltaOp::DeleteTwin { .. } => {}
                    other => self.pass_relationship_or_model(other, &mut out),
                }
            }
        }
        // A relationship sent with a twin that entered may also be in the
        // delta: send it once (the first is read from the graph, as new).
        let mut seen: HashSet<(String, String)> = HashSet::new();
        out.retain(|op| match op {
            DeltaOp::PutRelationship { relationship } => {
                let key = |k: &str| relationship[k].as_str().unwrap_or_default().to_string();
                seen.insert((key("$sourceId"), key("$relationshipId")))
            }
            _ => true,
        });
        (!out.is_empty()).then_some(ServerMessage::Delta { seq, ops: out })
    }

    /// Relationship changes inside the scope (both ends in it), telemetry
    /// of twins in it, and models.
    fn pass_relationship_or_model(&self, op: DeltaOp, out: &mut Vec<DeltaOp>) {
        let keep = match &op {
            DeltaOp::PutRelationship { relationship } => {
                ["$sourceId", "$targetId"].iter().all(|k| {
                    relationship[*k]
                        .as_str()
                        .is_some_and(|id| self.twins.contains(id))
                })
            }
            DeltaOp::DeleteRelationship { source, .. } => self.twins.contains(source),
            DeltaOp::Telemetry { twin, .. } => self.twins.contains(twin),
            _ => true,
        };
        if keep {
            out.push(op);
        }
    }
}
