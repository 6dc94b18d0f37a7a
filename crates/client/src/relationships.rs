//! `twinscape relationship create|list|show|delete`.

use super::api::{Api, Body};
use super::output::{cell, print_json, table};
use super::{Connection, Output, block_on, json_arg};
use anyhow::bail;
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value as Json, json};

#[derive(Debug, Args)]
pub struct RelationshipArgs {
    #[command(flatten)]
    pub conn: Connection,
    #[command(subcommand)]
    pub command: RelationshipCommand,
}

#[derive(Debug, Subcommand)]
pub enum RelationshipCommand {
    /// Create (or replace) a relationship from SOURCE.
    Create(CreateArgs),
    /// List the relationships of a twin (outgoing, or --incoming).
    List(ListArgs),
    /// Show one relationship.
    Show(ShowArgs),
    /// Delete a relationship.
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The source twin's id.
    pub source: String,
    /// The relationship's id (unique per source twin).
    pub id: String,
    /// The relationship's name, as its model declares it.
    #[arg(long, short = 'n')]
    pub name: String,
    /// The target twin's id.
    #[arg(long, short = 't')]
    pub target: String,
    /// Property values as a JSON object (or @FILE).
    #[arg(long, short = 'p')]
    pub properties: Option<String>,
    /// Fail if the relationship already exists (`If-None-Match: *`).
    #[arg(long)]
    pub if_none_match: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The twin's id.
    pub source: String,
    /// Only relationships with this name.
    #[arg(long, short = 'n', conflicts_with = "incoming")]
    pub name: Option<String>,
    /// List the relationships that point at the twin instead.
    #[arg(long)]
    pub incoming: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The source twin's id.
    pub source: String,
    /// The relationship's id.
    pub id: String,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The source twin's id.
    pub source: String,
    /// The relationship's id.
    pub id: String,
    /// Only if the relationship's ETag is this one (`If-Match`).
    #[arg(long)]
    pub etag: Option<String>,
}

pub fn run(args: RelationshipArgs) -> anyhow::Result<()> {
    let conn = args.conn;
    block_on(async move {
        let api = Api::new(&conn)?;
        match args.command {
            RelationshipCommand::Create(c) => create(&api, conn.output, c).await,
            RelationshipCommand::List(l) => list(&api, conn.output, l).await,
            RelationshipCommand::Show(s) => show(&api, s).await,
            RelationshipCommand::Delete(d) => delete(&api, conn.output, d).await,
        }
    })
}

async fn create(api: &Api, output: Output, args: CreateArgs) -> anyhow::Result<()> {
    let mut body = match &args.properties {
        Some(p) => json_arg("--properties", p)?,
        None => json!({}),
    };
    let Some(obj) = body.as_object_mut() else {
        bail!("--properties must be a JSON object");
    };
    obj.insert("$targetId".into(), json!(args.target));
    obj.insert("$relationshipName".into(), json!(args.name));
    let url = api.url(
        &["digitaltwins", &args.source, "relationships", &args.id],
        &[],
    );
    let headers: Vec<(&str, String)> = if args.if_none_match {
        vec![("If-None-Match", "*".into())]
    } else {
        vec![]
    };
    let reply = api
        .send(Method::PUT, url, &headers, Some(&Body::Json(body)))
        .await?;
    print_json(&reply.body);
    if output == Output::Human {
        eprintln!(
            "Relationship {} ({} → {}) saved.",
            args.id, args.source, args.target
        );
    }
    Ok(())
}

/// Relationship properties: everything but the `$` fields.
fn properties(r: &Json) -> Json {
    match r.as_object() {
        Some(o) => Json::Object(
            o.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => Json::Null,
    }
}

async fn list(api: &Api, output: Output, args: ListArgs) -> anyhow::Result<()> {
    let (path, query): (Vec<&str>, Vec<(&str, &str)>) = if args.incoming {
        (
            vec!["digitaltwins", &args.source, "incomingrelationships"],
            vec![],
        )
    } else {
        (
            vec!["digitaltwins", &args.source, "relationships"],
            args.name
                .as_deref()
                .map(|n| vec![("relationshipName", n)])
                .unwrap_or_default(),
        )
    };
    let items = api.get_all(&path, &query).await?;
    if output == Output::Json {
        print_json(&json!({ "value": items }));
        return Ok(());
    }
    let field = |r: &Json, k: &str| {
        r.get(k)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (headers, rows): (Vec<&str>, Vec<Vec<String>>) = if args.incoming {
        (
            vec!["ID", "NAME", "SOURCE"],
            items
                .iter()
                .map(|r| {
                    vec![
                        field(r, "$relationshipId"),
                        field(r, "$relationshipName"),
                        field(r, "$sourceId"),
                    ]
                })
                .collect(),
        )
    } else {
        (
            vec!["ID", "NAME", "TARGET", "PROPERTIES"],
            items
                .iter()
                .map(|r| {
                    let props = properties(r);
                    vec![
                        field(r, "$relationshipId"),
                        field(r, "$relationshipName"),
                        field(r, "$targetId"),
                        if props.as_object().is_some_and(|o| o.is_empty()) {
                            String::new()
                        } else {
                            cell(&props)
                        },
                    ]
                })
                .collect(),
        )
    };
    let headers: Vec<String> = headers.into_iter().map(String::from).collect();
    print!("{}", table(&headers, &rows));
    println!("{} relationship(s).", items.len());
    Ok(())
}

async fn show(api: &Api, args: ShowArgs) -> anyhow::Result<()> {
    let reply = api
        .call(
            Method::GET,
            &["digitaltwins", &args.source, "relationships", &args.id],
            &[],
            None,
        )
        .await?;
    print_json(&reply.body);
    Ok(())
}

async fn delete(api: &Api, output: Output, args: DeleteArgs) -> anyhow::Result<()> {
    let url = api.url(
        &["digitaltwins", &args.source, "relationships", &args.id],
        &[],
    );
    let headers: Vec<(&str, String)> = args.etag.iter().map(|e| ("If-Match", e.clone())).collect();
    api.send(Method::DELETE, url, &headers, None).await?;
    if output == Output::Human {
        println!("Deleted relationship {} of {}.", args.id, args.source);
    }
    Ok(())
}
