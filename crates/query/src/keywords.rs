//! Reserved words and the other words the grammar gives a meaning.

use crate::lexer::{is_name_continue, is_name_start};

/// ADT's reserved keywords (query language reference, "Reserved keywords").
/// They cannot name anything unless escaped as `[[word]]`.
pub const RESERVED: &[&str] = &[
    "ALL",
    "AND",
    "AS",
    "ASC",
    "AVG",
    "BY",
    "COUNT",
    "DESC",
    "DEVICES_JOBS",
    "DEVICES_MODULES",
    "DEVICES",
    "ENDS_WITH",
    "FALSE",
    "FROM",
    "GROUP",
    "IN",
    "IS_BOOL",
    "IS_DEFINED",
    "IS_NULL",
    "IS_NUMBER",
    "IS_OBJECT",
    "IS_PRIMITIVE",
    "IS_STRING",
    "MAX",
    "MIN",
    "NOT",
    "NOT_IN",
    "NULL",
    "OR",
    "ORDER",
    "SELECT",
    "STARTS_WITH",
    "SUM",
    "TOP",
    "TRUE",
    "WHERE",
    "IS_OF_MODEL",
];

/// Words of the grammar that ADT does not list as reserved but that cannot
/// name a collection without escaping, because they would be read as the
/// next clause.
pub const CLAUSE_WORDS: &[&str] = &[
    "JOIN",
    "RELATED",
    "MATCH",
    "DIGITALTWINS",
    "RELATIONSHIPS",
    "NIN",
];

/// Whether `word` is one of ADT's reserved keywords (any case).
pub fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// Whether `word` is reserved or a clause word (any case).
pub(crate) fn is_keyword(word: &str) -> bool {
    is_reserved(word) || CLAUSE_WORDS.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// Whether `name` can be written as a plain word (else it needs `[[…]]`).
pub(crate) fn is_plain_name(name: &str) -> bool {
    let body = name.strip_prefix('$').unwrap_or(name);
    let mut chars = body.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_continue) && !is_keyword(name)
}
