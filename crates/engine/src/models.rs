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
        let expanded = self.0.expanded(model);
        let mut doc = Map::with_capacity(members.len() + 1);
        let mut meta = Map::with_capacity(1);
        meta.insert("$model".into(), Value::String(model.to_string()));
        doc.insert("$metadata".into(), Value::Object(meta));
        for (k, v) in members {
            if k.starts_with('$') {
                continue;
            }
            let is_component = expanded.is_some_and(|m| m.components.contains_key(k));
            match v {
                Value::Object(o) if is_component && !o.contains_key("$metadata") => {
                    let mut with_meta = Map::with_capacity(o.len() + 1);
                    with_meta.insert("$metadata".into(), Value::Object(Map::new()));
                    with_meta.extend(o.iter().map(|(k, v)| (k.clone(), v.clone())));
                    doc.insert(k.clone(), Value::Object(with_meta));
                }
                _ => {
                    doc.insert(k.clone(), v.clone());
                }
            }
        }
        self.0
            .validate_twin(&Value::Object(doc))
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
            .validate_relationship(
                source_model,
                name,
                Some(target_model),
                &Value::Object(properties.clone()),
            )
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
