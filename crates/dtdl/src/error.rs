//! Errors: every problem found in a batch of models, a registry operation that
//! cannot be done, and a twin that does not conform to its model.

use std::fmt;

/// One problem in a model, located by the DTMI of the model (or element) it
/// concerns and a JSON path inside the uploaded document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModelError {
    /// Index of the document in the batch, when the error is about one.
    pub document: Option<usize>,
    /// The DTMI of the top-level model the error is in (or the referenced
    /// model for batch-level errors), when known.
    pub dtmi: Option<String>,
    /// JSON path inside the document, e.g. `$.contents[2].schema`.
    pub path: String,
    /// A stable, machine-readable code, e.g. `invalidId`, `unresolvedReference`.
    pub code: &'static str,
    /// What is wrong and what is allowed, for a modeller.
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.dtmi.as_deref().unwrap_or("-"),
            self.path,
            self.message
        )
    }
}

/// All problems found in a batch of models. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s) in the models: {}", .0.len(), first_message(.0))]
pub struct ModelErrors(pub Vec<ModelError>);

fn first_message(errors: &[ModelError]) -> String {
    errors.first().map(ToString::to_string).unwrap_or_default()
}

impl ModelErrors {
    pub fn iter(&self) -> impl Iterator<Item = &ModelError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A registry operation that cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("no model with id '{0}'")]
    NotFound(String),
    #[error("model '{id}' cannot be deleted: {} depend(s) on it ({})", dependents.len(), dependents.join(", "))]
    HasDependents { id: String, dependents: Vec<String> },
    #[error(transparent)]
    Invalid(#[from] ModelErrors),
}

/// One way a twin, a property value or a relationship does not conform to its model.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TwinValidationError {
    /// JSON path inside the twin (or patch value), e.g. `/thermostat/setPoint`.
    pub path: String,
    /// A stable, machine-readable code, e.g. `unknownProperty`, `wrongType`.
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for TwinValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for TwinValidationError {}
