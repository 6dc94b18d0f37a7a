//! What the graph needs to know about models. The DTDL registry implements it;
//! [`AnyModel`] accepts everything (for tools and tests that have no models).

/// Why a model cannot be used for a new twin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelUnusable {
    NotFound,
    Decommissioned,
}

/// Model knowledge the graph consults on every write.
pub trait Models {
    /// Whether new twins may be created with this model.
    fn usable(&self, model: &str) -> Result<(), ModelUnusable>;

    /// Whether `member` of `model` is a Component (its value is an object with
    /// its own `$metadata`).
    fn is_component(&self, model: &str, member: &str) -> bool;

    /// Checks a twin's members against `model`: `members` holds the twin's
    /// properties and components (keys starting with `$`, such as `$dtId` or
    /// `$metadata`, may be present and are not members; a component's object
    /// may or may not carry its own `$metadata`). Each error is a sentence.
    fn validate_twin(
        &self,
        model: &str,
        members: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), Vec<String>>;

    /// Checks a relationship `name` from a twin of `source_model` to a twin of
    /// `target_model`, with its own properties.
    fn validate_relationship(
        &self,
        source_model: &str,
        name: &str,
        target_model: &str,
        properties: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), Vec<String>>;

    /// The most relationships `name` a twin of `source_model` may have.
    fn max_relationships(&self, source_model: &str, name: &str) -> Option<usize>;

    /// Whether `model` is `base` or extends it, directly or not.
    fn is_subtype_of(&self, model: &str, base: &str) -> bool;
}

/// Accepts every model, twin and relationship; nothing is a component.
#[derive(Debug, Default, Clone, Copy)]
pub struct AnyModel;

impl Models for AnyModel {
    fn usable(&self, _model: &str) -> Result<(), ModelUnusable> {
        Ok(())
    }
    fn is_component(&self, _model: &str, _member: &str) -> bool {
        false
    }
    fn validate_twin(
        &self,
        _model: &str,
        _members: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), Vec<String>> {
        Ok(())
    }
    fn validate_relationship(
        &self,
        _source_model: &str,
        _name: &str,
        _target_model: &str,
        _properties: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), Vec<String>> {
        Ok(())
    }
    fn max_relationships(&self, _source_model: &str, _name: &str) -> Option<usize> {
        None
    }
    fn is_subtype_of(&self, model: &str, base: &str) -> bool {
        model == base
    }
}
