//! Printing: readable tables and JSON for people, the API's JSON for scripts.

use clap::ValueEnum;
use serde_json::Value as Json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Tables and readable JSON.
    Human,
    /// The API's JSON, unchanged (paged lists are joined into `{"value": [...]}`).
    Json,
}

/// Pretty JSON on stdout.
pub fn print_json(v: &Json) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(_) => println!("{v}"),
    }
}

/// The widest a table cell gets before it is cut with `…`.
const MAX_CELL: usize = 60;

/// A value as a table cell: strings as they are, twins by `$dtId`, other
/// values as compact JSON, cut to a readable width.
pub fn cell(v: &Json) -> String {
    let s = match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        Json::Object(o) if o.get("$dtId").is_some_and(Json::is_string) => o
            .get("$dtId")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        other => other.to_string(),
    };
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() > MAX_CELL {
        let mut cut: String = s.chars().take(MAX_CELL - 1).collect();
        cut.push('…');
        cut
    } else {
        s
    }
}

/// A plain-text table: a header row, a rule, the rows; columns padded.
pub fn table(headers: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, w) in widths.iter().enumerate() {
            let c = cells.get(i).map(String::as_str).unwrap_or("");
            if i + 1 == widths.len() {
                out.push_str(c);
            } else {
                out.push_str(c);
                out.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = line(headers);
    out.push('\n');
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&line(&rule));
    out.push('\n');
    for row in rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

/// A table of JSON objects: one column per key (in order of first
/// appearance), one row per object.
pub fn object_table(items: &[serde_json::Map<String, Json>]) -> String {
    let mut headers: Vec<String> = Vec::new();
    for item in items {
        for k in item.keys() {
            if !headers.contains(k) {
                headers.push(k.clone());
            }
        }
    }
    if headers.is_empty() {
        headers.push("value".into());
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            headers
                .iter()
                .map(|h| item.get(h).map(cell).unwrap_or_default())
                .collect()
        })
        .collect();
    table(&headers, &rows)
}

/// A language map (`{"en": "…"}`) or a string, as one string.
pub fn localized(v: Option<&Json>) -> String {
    match v {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Object(m)) => m
            .get("en")
            .or_else(|| m.values().next())
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_pad_columns_and_cut_long_cells() {
        let t = table(
            &["A".into(), "LONGER".into()],
            &[vec!["xyz".into(), "1".into()], vec!["".into(), "2".into()]],
        );
        assert_eq!(t, "A    LONGER\n---  ------\nxyz  1\n     2\n");
        let long = "x".repeat(100);
        assert_eq!(cell(&json!(long)).chars().count(), MAX_CELL);
        assert_eq!(cell(&json!({"$dtId": "t1", "a": 1})), "t1");
        assert_eq!(cell(&json!(3)), "3");
        assert_eq!(localized(Some(&json!({"de": "x", "en": "y"}))), "y");
    }
}
