//! DTDL v2 and v3: parser, validator, model registry and twin validation.
//!
//! Owns the Digital Twins Definition Language: parsing and validating batches
//! of models against the language rules (derived from the DTDL metamodel),
//! the registry of models with their dependencies and expanded contents, and
//! checking twins, property patches and relationships against their models.
//!
//! Must not do I/O, spawn threads or depend on an async runtime: it compiles
//! for `wasm32-unknown-unknown` and runs in the browser as on the server. It
//! never panics on any input; every problem is returned as a typed error.

mod checks;
pub mod dtmi;
mod error;
mod metamodel;
pub mod model;
mod parser;
mod registry;
mod standard;
mod twin;

pub use dtmi::{Dtmi, DtmiError};
pub use error::{ModelError, ModelErrors, RegistryError, TwinValidationError};
pub use model::{
    CommandDef, ComponentDef, ContentInfo, EnumLiteral, EnumValueDef, EnumValueSchema,
    ExpandedModel, FieldDef, LocalizedString, PayloadDef, PropertyDef, RelationshipDef, Schema,
    TelemetryDef,
};
pub use parser::ParseOptions;
pub use registry::{ModelEntry, ModelRegistry, validate_batch};
