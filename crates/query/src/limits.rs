//! ADT's documented query limits, configurable.

use serde::{Deserialize, Serialize};

/// Limits checked while parsing, and the paging limits of the Query API.
///
/// `Limits::default()` is ADT's documented defaults (service limits page and
/// the query language reference). ADT lets some be raised on request, so a
/// self-hosted server may configure them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Limits {
    /// Most characters (Unicode scalar values) in a query. ADT: 8,000.
    pub max_query_length: usize,
    /// Most `JOIN`s in a query. ADT: 5.
    pub max_joins: usize,
    /// Most hops a MATCH pattern may span, summed over its relationship
    /// conditions (each counts its largest hop count). ADT: 10.
    pub max_match_hops: u32,
    /// Most values in one `IN` / `NIN` list. ADT's operator reference says
    /// 100 (its service-limits table says 50 for `IN` / `NOT IN`).
    pub max_in_items: usize,
    /// Most `AND` / `OR` operators in a query. ADT: 50.
    pub max_and_or: usize,
    /// Largest `TOP(n)`; ADT documents none, so `None`.
    pub max_top: Option<u64>,
    /// Deepest nesting of parentheses and `NOT` in WHERE. Not an ADT limit:
    /// it bounds the recursion of the parser and of `Display` (about 4 KiB
    /// of stack per level in a release build, 16 KiB unoptimised; wasm has
    /// 1 MiB), so values above 64 count as 64.
    pub max_nesting: usize,
    /// Whether a JOIN or MATCH query must filter on a twin's `$dtId` in
    /// WHERE, as ADT requires.
    pub require_dt_id_filter: bool,
    /// Page size when the client asks for none.
    pub default_page_size: u32,
    /// Most items in one page. ADT: 1,000 (larger requests are capped).
    pub max_page_size: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_query_length: 8_000,
            max_joins: 5,
            max_match_hops: 10,
            max_in_items: 100,
            max_and_or: 50,
            max_top: None,
            max_nesting: 32,
            require_dt_id_filter: true,
            default_page_size: 100,
            max_page_size: 1_000,
        }
    }
}

/// A page size a client asked for that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the page size must be a whole number from 1 to {max}, got {requested}")]
pub struct PageSizeError {
    /// What was asked for.
    pub requested: i64,
    /// The largest page size.
    pub max: u32,
}

impl Limits {
    /// The page size to use for a request (`max-items-per-page`): the
    /// default when none is asked for, the maximum when more is asked for
    /// (ADT caps it), an error for zero or a negative number.
    pub fn page_size(&self, requested: Option<i64>) -> Result<u32, PageSizeError> {
        let max = self.max_page_size.max(1);
        match requested {
            None => Ok(self.default_page_size.clamp(1, max)),
            Some(n) if n < 1 => Err(PageSizeError { requested: n, max }),
            Some(n) => Ok(u32::try_from(n).unwrap_or(u32::MAX).min(max)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_defaults_caps_and_rejects() {
        let limits = Limits::default();
        assert_eq!(limits.page_size(None), Ok(100));
        assert_eq!(limits.page_size(Some(7)), Ok(7));
        assert_eq!(limits.page_size(Some(5_000)), Ok(1_000));
        assert_eq!(limits.page_size(Some(i64::MAX)), Ok(1_000));
        let err = limits.page_size(Some(0)).unwrap_err();
        assert!(err.to_string().contains("from 1 to 1000"), "{err}");
        assert!(limits.page_size(Some(-3)).is_err());
    }

    #[test]
    fn limits_deserialize_with_defaults() {
        let limits: Limits = serde_json::from_str(r#"{"maxJoins": 7}"#).unwrap();
        assert_eq!(limits.max_joins, 7);
        assert_eq!(limits.max_query_length, 8_000);
    }
}
