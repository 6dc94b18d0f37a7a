//! `twinscape query "SELECT …"`: runs a query and follows its continuation
//! tokens; a table by default.

use super::api::{Api, Body, header};
use super::output::{object_table, print_json};
use super::{Connection, Output, block_on};
use clap::Args;
use reqwest::Method;
use serde_json::{Map, Value as Json, json};

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The query, in ADT's query language.
    pub query: String,
    /// Ask for pages of at most this many items (`max-items-per-page`).
    #[arg(long)]
    pub page_size: Option<u32>,
    /// Stop after this many items.
    #[arg(long)]
    pub max_items: Option<usize>,
}

pub fn run(args: QueryArgs) -> anyhow::Result<()> {
    block_on(query(args))
}

/// The results of a query, all pages.
pub struct Results {
    pub items: Vec<Json>,
    pub pages: usize,
    pub charge: f64,
}

pub async fn run_query(
    api: &Api,
    text: &str,
    page_size: Option<u32>,
    max_items: Option<usize>,
) -> anyhow::Result<Results> {
    let mut results = Results {
        items: Vec::new(),
        pages: 0,
        charge: 0.0,
    };
    let mut token: Option<String> = None;
    let headers: Vec<(&str, String)> = page_size
        .map(|n| vec![("max-items-per-page", n.to_string())])
        .unwrap_or_default();
    loop {
        let mut body = json!({ "query": text });
        if let Some(t) = &token {
            body["continuationToken"] = json!(t);
        }
        let reply = api
            .send(
                Method::POST,
                api.url(&["query"], &[]),
                &headers,
                Some(&Body::Json(body)),
            )
            .await?;
        results.pages += 1;
        if let Some(c) = header(&reply, "query-charge").and_then(|c| c.parse::<f64>().ok()) {
            results.charge += c;
        }
        let mut page = reply.body;
        if let Some(Json::Array(items)) = page.get_mut("value").map(Json::take) {
            results.items.extend(items);
        }
        if max_items.is_some_and(|m| results.items.len() >= m) {
            if let Some(m) = max_items {
                results.items.truncate(m);
            }
            break;
        }
        match page.get("continuationToken").and_then(Json::as_str) {
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(results)
}

/// One row of the human table: twins show `$dtId`, `$model` and their
/// properties; relationships their ends; projections their columns.
fn row(item: &Json) -> Map<String, Json> {
    let Some(obj) = item.as_object() else {
        let mut m = Map::new();
        m.insert("value".into(), item.clone());
        return m;
    };
    let mut out = Map::new();
    if obj.contains_key("$dtId") {
        out.insert("$dtId".into(), obj["$dtId"].clone());
        if let Some(model) = obj.get("$metadata").and_then(|m| m.get("$model")) {
            out.insert("$model".into(), model.clone());
        }
    }
    for (k, v) in obj {
        if matches!(k.as_str(), "$dtId" | "$etag" | "$metadata") {
            continue;
        }
        out.insert(k.clone(), v.clone());
    }
    out
}

async fn query(args: QueryArgs) -> anyhow::Result<()> {
    let api = Api::new(&args.conn)?;
    let results = run_query(&api, &args.query, args.page_size, args.max_items).await?;
    match args.conn.output {
        Output::Json => print_json(&json!({ "value": results.items })),
        Output::Human => {
            if !results.items.is_empty() {
                let rows: Vec<Map<String, Json>> = results.items.iter().map(row).collect();
                print!("{}", object_table(&rows));
            }
            println!(
                "{} result(s) in {} page(s){}.",
                results.items.len(),
                results.pages,
                if results.charge > 0.0 {
                    format!(", {} query unit(s)", results.charge)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(())
}
