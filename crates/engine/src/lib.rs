//! The twin engine: models, the twin graph and queries, kept consistent.
//!
//! Owns: the [`Engine`] that puts the DTDL registry ([`twinscape_dtdl`]),
//! the graph ([`twinscape_graph`]) and the query language
//! ([`twinscape_query`]) together: writes validated against models, property
//! indexes kept in step with every write, and query planning and execution.
//! Must not: do I/O, read the clock (callers pass `now`), or know about HTTP.
//! Compiles for `wasm32-unknown-unknown`: the browser runs the same engine on
//! its replica.

mod exec;
mod index;
mod models;

pub use exec::{QueryFailure, QueryOptions, QueryPage, QueryPageJson};
pub use index::{IndexKey, PropertyIndex};
pub use models::RegistryModels;

use serde_json::Value as Json;
use twinscape_dtdl::{ModelErrors, ModelRegistry, ParseOptions, RegistryError};
use twinscape_graph::{Change, Ctx, GraphError, Precondition, Timestamp, TwinGraph};
use twinscape_query::{Limits, TokenKey};

/// How an engine is set up.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Top-level twin properties to index (equality and range lookups).
    pub indexed_properties: Vec<String>,
    /// Query limits (ADT's by default).
    pub limits: Limits,
    /// How DTDL extensions are treated.
    pub parse_options: ParseOptions,
    /// Key of the continuation tokens' tags.
    pub token_key: TokenKey,
    /// Seed of the graph's ETags.
    pub etag_seed: u64,
}

/// Models, twins and relationships, with their indexes.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) registry: ModelRegistry,
    pub(crate) graph: TwinGraph,
    pub(crate) index: PropertyIndex,
    pub(crate) config: EngineConfig,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(EngineConfig::default())
    }
}

impl Engine {
    pub fn new(config: EngineConfig) -> Self {
        Engine {
            registry: ModelRegistry::new(),
            graph: TwinGraph::new(config.etag_seed),
            index: PropertyIndex::new(&config.indexed_properties),
            config,
        }
    }

    pub fn registry(&self) -> &ModelRegistry {
        &self.registry
    }

    pub fn graph(&self) -> &TwinGraph {
        &self.graph
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Indexes these top-level properties from now on (replacing the
    /// configured set) and builds the indexes from the twins already there.
    pub fn set_indexed_properties(&mut self, properties: &[String]) {
        self.config.indexed_properties = properties.to_vec();
        self.index = PropertyIndex::new(properties);
        self.index.rebuild(&self.graph);
    }

    // ----- models --------------------------------------------------------

    /// Adds a batch of models (all or none).
    pub fn add_models(&mut self, batch: &[Json]) -> Result<Vec<String>, ModelErrors> {
        self.registry.add_models(batch, self.config.parse_options)
    }

    pub fn decommission_model(&mut self, id: &str) -> Result<(), RegistryError> {
        self.registry.decommission(id)
    }

    pub fn delete_model(&mut self, id: &str) -> Result<(), RegistryError> {
        self.registry.delete(id).map(|_| ())
    }

    // ----- twins and relationships ----------------------------------------

    fn write(
        &mut self,
        twin_id: &str,
        now: Timestamp,
        f: impl FnOnce(&mut TwinGraph, &Ctx<'_>) -> Result<Change, GraphError>,
    ) -> Result<Change, GraphError> {
        let before = self
            .graph
            .slot_of(twin_id)
            .map(|s| (s, self.index.keys_of(&self.graph, s)));
        let models = RegistryModels(&self.registry);
        let ctx = Ctx {
            models: &models,
            now,
        };
        let change = f(&mut self.graph, &ctx)?;
        match before {
            Some((slot, keys)) => self.index.update(&self.graph, slot, &keys),
            None => {
                if let Some(slot) = self.graph.slot_of(twin_id) {
                    self.index.update(&self.graph, slot, &[]);
                }
            }
        }
        Ok(change)
    }

    pub fn create_or_replace_twin(
        &mut self,
        id: &str,
        doc: &Json,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<Change, GraphError> {
        self.write(id, now, |g, ctx| {
            g.create_or_replace_twin(ctx, id, doc, pre)
        })
    }

    pub fn update_twin(
        &mut self,
        id: &str,
        patch: &Json,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<Change, GraphError> {
        self.write(id, now, |g, ctx| g.update_twin(ctx, id, patch, pre))
    }

    pub fn update_component(
        &mut self,
        id: &str,
        component: &str,
        patch: &Json,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<Change, GraphError> {
        self.write(id, now, |g, ctx| {
            g.update_component(ctx, id, component, patch, pre)
        })
    }

    pub fn delete_twin(&mut self, id: &str, pre: &Precondition) -> Result<Change, GraphError> {
        self.write(id, Timestamp(0), |g, _| g.delete_twin(id, pre))
    }

    pub fn create_or_replace_relationship(
        &mut self,
        source_id: &str,
        rel_id: &str,
        doc: &Json,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<Change, GraphError> {
        let models = RegistryModels(&self.registry);
        self.graph.create_or_replace_relationship(
            &Ctx {
                models: &models,
                now,
            },
            source_id,
            rel_id,
            doc,
            pre,
        )
    }

    pub fn update_relationship(
        &mut self,
        source_id: &str,
        rel_id: &str,
        patch: &Json,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<Change, GraphError> {
        let models = RegistryModels(&self.registry);
        self.graph.update_relationship(
            &Ctx {
                models: &models,
                now,
            },
            source_id,
            rel_id,
            patch,
            pre,
        )
    }

    pub fn delete_relationship(
        &mut self,
        source_id: &str,
        rel_id: &str,
        pre: &Precondition,
    ) -> Result<Change, GraphError> {
        self.graph.delete_relationship(source_id, rel_id, pre)
    }

    /// Makes room for a bulk load of about this many twins and
    /// relationships (optional; it saves regrowing the large tables).
    pub fn reserve(&mut self, twins: usize, relationships: usize) {
        self.graph.reserve(twins, relationships);
    }

    /// Bulk import of a new twin (ADT's import jobs): validated against its
    /// model like [`Engine::create_or_replace_twin`], but it fails if the
    /// twin exists and builds no change document, which makes loading a
    /// large graph several times faster.
    pub fn import_twin(&mut self, id: &str, doc: &Json, now: Timestamp) -> Result<(), GraphError> {
        let models = RegistryModels(&self.registry);
        let slot = self.graph.import_twin(
            &Ctx {
                models: &models,
                now,
            },
            id,
            doc,
        )?;
        self.index.update(&self.graph, slot, &[]);
        Ok(())
    }

    /// Bulk import of a new relationship, validated like
    /// [`Engine::create_or_replace_relationship`]; fails if it exists.
    pub fn import_relationship(
        &mut self,
        source_id: &str,
        rel_id: &str,
        doc: &Json,
        now: Timestamp,
    ) -> Result<(), GraphError> {
        let models = RegistryModels(&self.registry);
        self.graph
            .import_relationship(
                &Ctx {
                    models: &models,
                    now,
                },
                source_id,
                rel_id,
                doc,
            )
            .map(|_| ())
    }

    // ----- restoring ------------------------------------------------------

    /// Continue numbering changes after `seq` (after loading a stored graph).
    pub fn set_seq(&mut self, seq: u64) {
        self.graph.set_seq(seq);
    }

    /// Adds a stored twin without validation (startup).
    pub fn load_twin(&mut self, doc: &Json) -> Result<(), GraphError> {
        let models = RegistryModels(&self.registry);
        let slot = self.graph.load_twin(&models, doc)?;
        self.index.update(&self.graph, slot, &[]);
        Ok(())
    }

    /// Puts a twin as the server stored it, replacing one with the same id
    /// (replicas applying deltas).
    pub fn restore_twin(&mut self, doc: &Json) -> Result<(), GraphError> {
        let id = doc.get("$dtId").and_then(Json::as_str).unwrap_or_default();
        let before = self
            .graph
            .slot_of(id)
            .map(|s| (s, self.index.keys_of(&self.graph, s)));
        let models = RegistryModels(&self.registry);
        let slot = self.graph.restore_twin(&models, doc)?;
        let keys = before.map(|(_, k)| k).unwrap_or_default();
        self.index.update(&self.graph, slot, &keys);
        Ok(())
    }

    /// Removes a twin and its relationships (replicas applying deltas).
    pub fn forget_twin(&mut self, id: &str) -> bool {
        let Some(slot) = self.graph.slot_of(id) else {
            return false;
        };
        let keys = self.index.keys_of(&self.graph, slot);
        let gone = self.graph.forget_twin(id);
        self.index.update(&self.graph, slot, &keys);
        gone
    }

    /// Puts a relationship as the server stored it (replicas).
    pub fn restore_relationship(&mut self, doc: &Json) -> Result<(), GraphError> {
        self.graph.restore_relationship(doc).map(|_| ())
    }

    /// Removes a relationship (replicas).
    pub fn forget_relationship(&mut self, source_id: &str, rel_id: &str) -> bool {
        self.graph.forget_relationship(source_id, rel_id)
    }

    /// Removes every twin, relationship and model (replicas before a fresh snapshot).
    pub fn clear(&mut self) {
        self.graph.clear();
        self.registry = ModelRegistry::new();
        self.index = PropertyIndex::new(&self.config.indexed_properties);
    }

    /// Adds a stored relationship without validation (startup).
    pub fn load_relationship(&mut self, doc: &Json) -> Result<(), GraphError> {
        self.graph.load_relationship(doc).map(|_| ())
    }

    /// Registers stored models without re-checking their dependents (startup);
    /// the batch is still parsed and resolved.
    pub fn load_models(&mut self, batch: &[Json]) -> Result<Vec<String>, ModelErrors> {
        self.add_models(batch)
    }
}

#[cfg(test)]
mod tests;
