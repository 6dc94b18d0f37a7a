//! The one error type of the query front end.

use serde::Serialize;

use crate::ast::Span;

/// What went wrong, as a stable code a client can branch on.
///
/// The server maps every kind to ADT's `BadRequest`-style error body; the
/// kinds only refine it for tests, logs and UIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The query text is empty or only white space.
    EmptyQuery,
    /// A character the language has no use for (`#`, `{`, a lone `$`, …).
    InvalidCharacter,
    /// A string literal without its closing quote.
    UnterminatedString,
    /// A `\` escape in a string that the language does not define.
    InvalidEscape,
    /// A malformed number (`1e`, `2abc`).
    InvalidNumber,
    /// A `[[` escaped name without `]]`, or an empty one.
    InvalidEscapedName,
    /// The grammar expected something else here.
    UnexpectedToken,
    /// A reserved word used as a name without `[[…]]` escaping.
    ReservedWord,
    /// A name that is not a collection declared by the query.
    UnknownAlias,
    /// The same collection name declared twice.
    DuplicateAlias,
    /// A collection must be named here (FROM before a JOIN).
    AliasRequired,
    /// A name that is not one of ADT's query functions.
    UnknownFunction,
    /// A function called with the wrong number or kind of arguments.
    InvalidArgument,
    /// A bad MATCH hop count or range (`*0`, `*3..3`, `*2..`).
    InvalidHops,
    /// Syntax that ADT's query language does not support (subqueries,
    /// `ORDER BY`, `SELECT *` with `JOIN`, parameters, …).
    Unsupported,
    /// A documented ADT limit was exceeded (length, JOINs, hops, IN items, …).
    LimitExceeded,
    /// A JOIN or MATCH query without a `$dtId` filter on one of its twins.
    MissingDtIdFilter,
}

impl ErrorKind {
    /// The code as text, e.g. `"UnknownAlias"`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::EmptyQuery => "EmptyQuery",
            ErrorKind::InvalidCharacter => "InvalidCharacter",
            ErrorKind::UnterminatedString => "UnterminatedString",
            ErrorKind::InvalidEscape => "InvalidEscape",
            ErrorKind::InvalidNumber => "InvalidNumber",
            ErrorKind::InvalidEscapedName => "InvalidEscapedName",
            ErrorKind::UnexpectedToken => "UnexpectedToken",
            ErrorKind::ReservedWord => "ReservedWord",
            ErrorKind::UnknownAlias => "UnknownAlias",
            ErrorKind::DuplicateAlias => "DuplicateAlias",
            ErrorKind::AliasRequired => "AliasRequired",
            ErrorKind::UnknownFunction => "UnknownFunction",
            ErrorKind::InvalidArgument => "InvalidArgument",
            ErrorKind::InvalidHops => "InvalidHops",
            ErrorKind::Unsupported => "Unsupported",
            ErrorKind::LimitExceeded => "LimitExceeded",
            ErrorKind::MissingDtIdFilter => "MissingDtIdFilter",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Where in the query text a problem is, ready for a UI to underline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Position {
    /// Byte offset of the first byte of the offending text.
    pub offset: usize,
    /// Length in bytes of the offending text (0 at the end of the query).
    pub length: usize,
    /// 1-based line number (lines end at `\n`).
    pub line: u32,
    /// 1-based column, counted in Unicode scalar values (`char`s) from the
    /// start of the line.
    pub column: u32,
}

impl Position {
    /// The position of `span` in `source`. Offsets past the end or inside a
    /// multi-byte character are clamped to a character boundary.
    pub fn of(source: &str, span: Span) -> Position {
        let mut offset = span.start.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let mut end = span.end.clamp(offset, source.len());
        while !source.is_char_boundary(end) {
            end += 1;
        }
        let before = &source[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.matches('\n').count() + 1;
        let column = source[line_start..offset].chars().count() + 1;
        Position {
            offset,
            length: end - offset,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }

    /// The span this position covers.
    pub fn span(&self) -> Span {
        Span::new(self.offset, self.offset + self.length)
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A query that cannot be run, with what, why and where.
///
/// `Display` gives `message (line L, column C)`; the fields give the parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message} ({position})")]
pub struct QueryError {
    /// The kind of problem, a stable code.
    pub kind: ErrorKind,
    /// A sentence for the person who wrote the query, e.g.
    /// "expected `)` after the arguments of IS_OF_MODEL, found `WHERE`".
    pub message: String,
    /// Where the problem is.
    pub position: Position,
}

impl QueryError {
    /// An error of `kind` about the text `span` of `source`; also for an
    /// executor that reports a problem at a node of the AST.
    pub fn new(kind: ErrorKind, message: impl Into<String>, source: &str, span: Span) -> Self {
        QueryError {
            kind,
            message: message.into(),
            position: Position::of(source, span),
        }
    }
}
