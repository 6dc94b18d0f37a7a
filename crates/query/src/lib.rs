//! The front end of Azure Digital Twins' query language.
//!
//! Owns: the lexer, the recursive-descent parser, the AST ([`ast`]) that the
//! planner/executor evaluates, name resolution (every property path points
//! at a [`ast::BindingId`]), ADT's semantic rules and documented limits
//! ([`Limits`]), precise errors with positions ([`QueryError`]), the
//! canonical text of a query (`Display`), and the continuation-token format
//! ([`ContinuationToken`]) shared by the server and the browser.
//!
//! Must not: evaluate queries, know the twin graph or DTDL models, do I/O,
//! spawn threads, panic on any input, or depend on anything that cannot
//! compile to `wasm32-unknown-unknown`.
//!
//! ```
//! let query = twinscape_query::parse(
//!     "SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE T.$dtId = 'ABC'",
//! )?;
//! assert_eq!(query.joins().len(), 1);
//! assert_eq!(query.to_string(), "SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE T.$dtId = 'ABC'");
//!
//! let err = twinscape_query::parse("SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:a;1' WHERE").unwrap_err();
//! assert_eq!(err.to_string(), "expected `)` after the arguments of IS_OF_MODEL, found `WHERE` (line 1, column 57)");
//! # Ok::<(), twinscape_query::QueryError>(())
//! ```

pub mod ast;
mod continuation;
mod display;
mod error;
mod keywords;
mod lexer;
mod limits;
mod parser;

pub use ast::Query;
pub use continuation::{ContinuationToken, MAX_TOKEN_LENGTH, TokenError, TokenKey};
pub use error::{ErrorKind, Position, QueryError};
pub use keywords::{RESERVED, is_reserved};
pub use limits::{Limits, PageSizeError};

/// Parses and checks a query with ADT's default [`Limits`].
pub fn parse(query: &str) -> Result<Query, QueryError> {
    parse_with_limits(query, &Limits::default())
}

/// Parses and checks a query with the given limits.
pub fn parse_with_limits(query: &str, limits: &Limits) -> Result<Query, QueryError> {
    parser::parse(query, limits)
}
