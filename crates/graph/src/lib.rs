//! The twin graph: twins and relationships typed by models.
//!
//! Owns: the in-memory graph (twins, relationships, components), indexes by id
//! and by model, JSON Patch (RFC 6902) applied with ADT's rules, ETags and
//! preconditions, `$metadata` timestamps, and the [`Change`] each mutation
//! produces.
//! Must not: do I/O, know about HTTP or storage, or read the clock (callers
//! pass `now`). Compiles for `wasm32-unknown-unknown`; the browser holds a
//! replica built from the same code.

mod change;
mod error;
mod etag;
mod graph;
mod json_out;
mod models;
mod timestamp;
mod twin;
mod value;

pub use change::{Change, ChangeKind};
pub use error::GraphError;
pub use etag::{Etag, Precondition};
pub use graph::{Ctx, MAX_ID_BYTES, TwinGraph};
pub use json_out::write_json_str;
pub use models::{AnyModel, ModelUnusable, Models};
pub use timestamp::Timestamp;
pub use twin::{MemberMeta, PropMeta, Relationship, Twin};
pub use value::{Sym, Symbols, Value};

#[cfg(test)]
mod tests;
