//! The one write path: every change to the [`World`] goes through a [`Txn`],
//! which derives, in one place ([`Txn::record`]), what the change means for
//! the store (rows), the live feed (replica ops) and the event routes (log
//! entries). [`crate::AppState::write`] opens a transaction under the write
//! lock, commits its [`ChangeSet`] and answers once it is durable, so no
//! caller can change the graph without its durability, delta and events.

use crate::error::CoreError;
use crate::relationship_key;
use crate::world::{EventRoute, Job, World};
use serde_json::{Value as Json, json};
use twinscape_engine::Engine;
use twinscape_events::{Endpoint, Events};
use twinscape_graph::{Change, ChangeKind, Precondition, Timestamp};
use twinscape_protocol::live::DeltaOp;
use twinscape_store::{Table, WriteBatch};

/// What one transaction changed: its store rows (including the event log
/// entries of its notifications) and its live-feed ops, in the order the
/// changes were made.
#[derive(Default)]
pub struct ChangeSet {
    pub(crate) rows: WriteBatch,
    pub(crate) ops: Vec<DeltaOp>,
}

impl ChangeSet {
    /// The store rows (and log entries) of the change set.
    pub fn rows(&self) -> &WriteBatch {
        &self.rows
    }

    /// The live-feed ops of the change set.
    pub fn ops(&self) -> &[DeltaOp] {
        &self.ops
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.ops.is_empty()
    }
}

/// A write in progress, under the world's write lock.
pub struct Txn<'a> {
    world: &'a mut World,
    events: &'a Events,
    now: Timestamp,
    set: ChangeSet,
}

/// The stored form of a model: the model and what ADT reports about it.
pub(crate) fn model_row(model: &Json, upload_time: Timestamp, decommissioned: bool) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "model": model,
        "uploadTime": upload_time.to_string(),
        "decommissioned": decommissioned,
    }))
    .unwrap_or_default()
}

impl<'a> Txn<'a> {
    pub(crate) fn new(world: &'a mut World, events: &'a Events, now: Timestamp) -> Txn<'a> {
        Txn {
            world,
            events,
            now,
            set: ChangeSet::default(),
        }
    }

    pub(crate) fn finish(self) -> ChangeSet {
        self.set
    }

    pub fn world(&self) -> &World {
        self.world
    }

    pub fn engine(&self) -> &Engine {
        &self.world.engine
    }

    /// The transaction's time: every change it makes carries it.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The one place a graph change becomes store rows, a live-feed op and
    /// events.
    fn record(&mut self, change: &Change) {
        let bytes = |v: &Json| serde_json::to_vec(v).unwrap_or_default();
        let rows = &mut self.set.rows;
        match &change.kind {
            ChangeKind::TwinCreated { id, twin } | ChangeKind::TwinUpdated { id, twin, .. } => {
                rows.put(Table::Twins, id.clone(), bytes(twin));
                self.set.ops.push(DeltaOp::PutTwin { twin: twin.clone() });
            }
            ChangeKind::TwinDeleted { id, .. } => {
                rows.delete(Table::Twins, id.clone());
                self.set.ops.push(DeltaOp::DeleteTwin { id: id.clone() });
            }
            ChangeKind::RelationshipCreated {
                source_id,
                relationship_id,
                relationship,
            }
            | ChangeKind::RelationshipUpdated {
                source_id,
                relationship_id,
                relationship,
                ..
            } => {
                rows.put(
                    Table::Relationships,
                    relationship_key(source_id, relationship_id),
                    bytes(relationship),
                );
                self.set.ops.push(DeltaOp::PutRelationship {
                    relationship: relationship.clone(),
                });
            }
            ChangeKind::RelationshipDeleted {
                source_id,
                relationship_id,
                ..
            } => {
                rows.delete(
                    Table::Relationships,
                    relationship_key(source_id, relationship_id),
                );
                self.set.ops.push(DeltaOp::DeleteRelationship {
                    source: source_id.clone(),
                    id: relationship_id.clone(),
                });
            }
        }
        rows.put(Table::Meta, "graph_seq", change.seq.to_be_bytes().to_vec());
        // The change's notifications, durable with it (delivered by crates/events).
        self.events.log_change(change, self.now, rows);
    }

    fn recorded(
        &mut self,
        change: Result<Change, twinscape_graph::GraphError>,
    ) -> Result<Change, CoreError> {
        let change = change?;
        self.record(&change);
        Ok(change)
    }

    // ----- twins and relationships ----------------------------------------

    pub fn create_or_replace_twin(
        &mut self,
        id: &str,
        doc: &Json,
        pre: &Precondition,
    ) -> Result<Change, CoreError> {
        let now = self.now;
        let change = self.world.engine.create_or_replace_twin(id, doc, pre, now);
        self.recorded(change)
    }

    pub fn update_twin(
        &mut self,
        id: &str,
        patch: &Json,
        pre: &Precondition,
    ) -> Result<Change, CoreError> {
        let now = self.now;
        let change = self.world.engine.update_twin(id, patch, pre, now);
        self.recorded(change)
    }

    pub fn update_component(
        &mut self,
        id: &str,
        component: &str,
        patch: &Json,
        pre: &Precondition,
    ) -> Result<Change, CoreError> {
        let now = self.now;
        let change = self
            .world
            .engine
            .update_component(id, component, patch, pre, now);
        self.recorded(change)
    }

    pub fn delete_twin(&mut self, id: &str, pre: &Precondition) -> Result<Change, CoreError> {
        let change = self.world.engine.delete_twin(id, pre);
        self.recorded(change)
    }

    pub fn create_or_replace_relationship(
        &mut self,
        source: &str,
        rel_id: &str,
        doc: &Json,
        pre: &Precondition,
    ) -> Result<Change, CoreError> {
        let now = self.now;
        let change = self
            .world
            .engine
            .create_or_replace_relationship(source, rel_id, doc, pre, now);
        self.recorded(change)
    }

    pub fn update_relationship(
        &mut self,
        source: &str,
        rel_id: &str,
        patch: &Json,
        pre: &Precondition,
    ) -> Result<Change, CoreError> {
        let now = self.now;
        let change = self
            .world
            .engine
            .update_relationship(source, rel_id, patch, pre, now);
        self.recorded(change)
    }

    pub fn delete_relationship(
        &mut self,
        source: &str,
        rel_id: &str,
        pre: &Precondition,
    ) -> Result<Change, CoreError> {
        let change = self.world.engine.delete_relationship(source, rel_id, pre);
        self.recorded(change)
    }

    // ----- models -----------------------------------------------------------

    /// Registers a batch of models (all or nothing); returns their ids in
    /// batch order. Models of one upload get distinct upload times, in order.
    pub fn add_models(&mut self, batch: &[Json]) -> Result<Vec<String>, CoreError> {
        let existing: Vec<String> = top_level_ids(batch)
            .into_iter()
            .filter(|id| self.world.engine.registry().get(id).is_some())
            .collect();
        if !existing.is_empty() {
            return Err(CoreError::ModelsExist(existing));
        }
        let ids = self
            .world
            .engine
            .add_models(batch)
            .map_err(CoreError::InvalidModels)?;
        for (i, id) in ids.iter().enumerate() {
            let t = Timestamp(self.now.0 + i as i64);
            self.world.upload_times.insert(id.clone(), t);
            if let Some(entry) = self.world.engine.registry().get(id) {
                self.set
                    .rows
                    .put(Table::Models, id.clone(), model_row(&entry.model, t, false));
                self.set.ops.push(DeltaOp::PutModel {
                    model: entry.model.clone(),
                    decommissioned: false,
                });
            }
        }
        Ok(ids)
    }

    pub fn decommission_model(&mut self, id: &str) -> Result<(), CoreError> {
        self.world.engine.decommission_model(id)?;
        if let Some(entry) = self.world.engine.registry().get(id) {
            let t = self.world.upload_times.get(id).copied().unwrap_or(self.now);
            self.set.rows.put(
                Table::Models,
                id.to_string(),
                model_row(&entry.model, t, true),
            );
            self.set.ops.push(DeltaOp::PutModel {
                model: entry.model.clone(),
                decommissioned: true,
            });
        }
        Ok(())
    }

    pub fn delete_model(&mut self, id: &str) -> Result<(), CoreError> {
        self.world.engine.delete_model(id)?;
        self.world.upload_times.remove(id);
        self.set.rows.delete(Table::Models, id.to_string());
        self.set
            .ops
            .push(DeltaOp::DeleteModel { id: id.to_string() });
        Ok(())
    }

    // ----- event routes and endpoints ----------------------------------------

    /// Creates or replaces a route (the caller checked its filter and endpoint).
    pub fn put_route(&mut self, route: EventRoute) {
        self.set.rows.put(
            Table::EventRoutes,
            route.id.clone(),
            serde_json::to_vec(&route).unwrap_or_default(),
        );
        self.world.event_routes.insert(route.id.clone(), route);
        self.publish_routing();
    }

    pub fn delete_route(&mut self, id: &str) -> Option<EventRoute> {
        let route = self.world.event_routes.remove(id)?;
        self.set.rows.delete(Table::EventRoutes, id.to_string());
        self.publish_routing();
        Some(route)
    }

    /// Creates or replaces an endpoint. A new one receives the events from
    /// the log's current end on (its `since`, set under the dispatcher's
    /// routing lock); a replaced one keeps its `since`.
    pub fn put_endpoint(&mut self, name: &str, endpoint: Endpoint) -> Endpoint {
        let existing = self.world.endpoints.get(name).map(|e| e.since);
        let world = &mut *self.world;
        let rows = &mut self.set.rows;
        self.events.update_routing(|head| {
            let endpoint = Endpoint {
                since: existing.unwrap_or(head),
                ..endpoint
            };
            rows.put(Table::Endpoints, name.to_string(), endpoint.to_row());
            world.endpoints.insert(name.to_string(), endpoint.clone());
            (
                crate::events::routing(&world.event_routes, &world.endpoints),
                endpoint,
            )
        })
    }

    /// Deletes an endpoint (the caller checked no route uses it); its cursor
    /// and dead letters go with it (the dispatcher deletes them).
    pub fn delete_endpoint(&mut self, name: &str) -> Option<Endpoint> {
        let endpoint = self.world.endpoints.remove(name)?;
        self.set.rows.delete(Table::Endpoints, name.to_string());
        self.publish_routing();
        Some(endpoint)
    }

    fn publish_routing(&self) {
        let world = &*self.world;
        self.events.update_routing(|_| {
            (
                crate::events::routing(&world.event_routes, &world.endpoints),
                (),
            )
        });
    }

    // ----- 3D scenes -----------------------------------------------------------

    /// Replaces the scenes configuration (the caller checked it valid).
    pub fn put_scenes(&mut self, config: twinscape_scene::ScenesConfig) {
        let json = twinscape_scene::config::to_json(&config);
        self.set.rows.put(
            Table::Scenes,
            crate::SCENES_KEY.to_string(),
            serde_json::to_vec(&json).unwrap_or_default(),
        );
        self.set.ops.push(DeltaOp::Scenes {
            configuration: json,
        });
        self.world.scenes = config;
    }

    // ----- jobs ---------------------------------------------------------------

    /// Creates or replaces a job.
    pub fn put_job(&mut self, key: &str, job: Job) {
        self.set.rows.put(
            Table::Jobs,
            key.to_string(),
            serde_json::to_vec(&job).unwrap_or_default(),
        );
        self.world.jobs.insert(key.to_string(), job);
    }

    pub fn delete_job(&mut self, key: &str) -> Option<Job> {
        let job = self.world.jobs.remove(key)?;
        self.set.rows.delete(Table::Jobs, key.to_string());
        Some(job)
    }
}

fn top_level_ids(batch: &[Json]) -> Vec<String> {
    batch
        .iter()
        .flat_map(|d| match d {
            Json::Array(items) => items.iter().collect::<Vec<_>>(),
            other => vec![other],
        })
        .filter_map(|d| d.get("@id").and_then(Json::as_str).map(str::to_string))
        .collect()
}
