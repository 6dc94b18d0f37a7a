//! The DTDL registry as the graph's [`Models`].

use serde_json::{Map, Value};
use twinscape_dtdl::ModelRegistry;
use twinscape_graph::{ModelUnusable, Models};

/// Borrowed view of a registry that answers the graph's questions.
pub struct RegistryModels<'a>(pub &'a ModelRegistry);

impl Models for RegistryModels<'_> {
    fn usable(&self, model: &str) -> Result<(), ModelUnusable> {
        match self.0.get(model) {
            None => Err(ModelUnusable::NotFound),
            Some(e) if e.decommissioned => Err(ModelUnusable::Decommissioned),
            Some(_) => Ok(()),
        }
    }

    fn is_component(&self, model: &str, member: &str) -> bool {
        self.0
            .expanded(model)
            .is_some_and(|m| m.components.contains_key(member))
    }

    fn validate_twin(&self, model: &str, members: &Map<String, Value>) -> Result<(), Vec<String>> {
        self.0
            .validate_members(model, members)
            .map_err(|errs| errs.iter().map(ToString::to_string).collect())
    }

    fn validate_relationship(
        &self,
        source_model: &str,
        name: &str,
        target_model: &str,
        properties: &Map<String, Value>,
    ) -> Result<(), Vec<String>> {
        self.0
            .validate_relationship_properties(source_model, name, Some(target_model), properties)
            .map(|_| ())
            .map_err(|errs| errs.iter().map(ToString::to_string).collect())
    }

    fn max_relationships(&self, source_model: &str, name: &str) -> Option<usize> {
        self.0
            .expanded(source_model)
            .and_then(|m| m.relationships.get(name))
            .and_then(|r| r.max_multiplicity)
            .map(|m| m as usize)
    }

    fn is_subtype_of(&self, model: &str, base: &str) -> bool {
        self.0.is_subtype_of(model, base)
    }
}
