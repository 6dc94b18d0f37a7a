//! `twinscape twin create|show|update|delete`.

use super::api::{Api, Body, header};
use super::output::print_json;
use super::{Connection, Output, block_on, json_arg};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value as Json, json};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct TwinArgs {
    #[command(flatten)]
    pub conn: Connection,
    #[command(subcommand)]
    pub command: TwinCommand,
}

#[derive(Debug, Subcommand)]
pub enum TwinCommand {
    /// Create (or replace) a twin.
    Create(CreateArgs),
    /// Show a twin.
    Show(ShowArgs),
    /// Change a twin with a JSON Patch (RFC 6902).
    Update(UpdateArgs),
    /// Delete a twin (its relationships must be deleted first).
    Delete(IdArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The twin's id.
    pub id: String,
    /// The twin's model (DTMI); may be left out when --file names one in `$metadata.$model`.
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    /// Property values as a JSON object (or @FILE).
    #[arg(long, short = 'p', conflicts_with = "file")]
    pub properties: Option<String>,
    /// A file with the whole twin body (properties, `$metadata`).
    #[arg(long, short = 'f')]
    pub file: Option<PathBuf>,
    /// Fail if the twin already exists (`If-None-Match: *`).
    #[arg(long)]
    pub if_none_match: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The twin's id.
    pub id: String,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The twin's id.
    pub id: String,
    /// Only if the twin's ETag is this one (`If-Match`).
    #[arg(long)]
    pub etag: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The twin's id.
    pub id: String,
    /// The patch: a JSON array of operations, or one operation (or @FILE).
    #[arg(long)]
    pub json_patch: String,
    /// Only if the twin's ETag is this one (`If-Match`).
    #[arg(long)]
    pub etag: Option<String>,
}

pub fn run(args: TwinArgs) -> anyhow::Result<()> {
    let conn = args.conn;
    block_on(async move {
        let api = Api::new(&conn)?;
        match args.command {
            TwinCommand::Create(c) => create(&api, conn.output, c).await,
            TwinCommand::Show(s) => show(&api, conn.output, s).await,
            TwinCommand::Update(u) => update(&api, conn.output, u).await,
            TwinCommand::Delete(d) => delete(&api, conn.output, d).await,
        }
    })
}

/// A JSON Patch from the command line: an array, or one operation.
pub fn patch_arg(text: &str) -> anyhow::Result<Json> {
    match json_arg("--json-patch", text)? {
        Json::Array(ops) => Ok(Json::Array(ops)),
        op @ Json::Object(_) => Ok(json!([op])),
        _ => bail!("--json-patch must be a JSON array of operations or one operation object"),
    }
}

async fn create(api: &Api, output: Output, args: CreateArgs) -> anyhow::Result<()> {
    let mut body = match (&args.file, &args.properties) {
        (Some(f), _) => {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            serde_json::from_str(text.trim_start_matches('\u{feff}'))
                .with_context(|| format!("{} is not valid JSON", f.display()))?
        }
        (None, Some(p)) => json_arg("--properties", p)?,
        (None, None) => json!({}),
    };
    let Some(obj) = body.as_object_mut() else {
        bail!("the twin's properties must be a JSON object");
    };
    let metadata = obj
        .entry("$metadata")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .context("`$metadata` must be an object")?;
    if let Some(model) = &args.model {
        metadata.insert("$model".into(), json!(model));
    } else if !metadata.get("$model").is_some_and(Json::is_string) {
        bail!("--model is required (or a file whose $metadata.$model names the model)");
    }
    let url = api.url(&["digitaltwins", &args.id], &[]);
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
        eprintln!("Twin {} saved.", args.id);
    }
    Ok(())
}

async fn show(api: &Api, _output: Output, args: ShowArgs) -> anyhow::Result<()> {
    let reply = api
        .call(Method::GET, &["digitaltwins", &args.id], &[], None)
        .await?;
    print_json(&reply.body);
    Ok(())
}

async fn update(api: &Api, output: Output, args: UpdateArgs) -> anyhow::Result<()> {
    let patch = patch_arg(&args.json_patch)?;
    let url = api.url(&["digitaltwins", &args.id], &[]);
    let headers: Vec<(&str, String)> = args.etag.iter().map(|e| ("If-Match", e.clone())).collect();
    let reply = api
        .send(Method::PATCH, url, &headers, Some(&Body::Patch(patch)))
        .await?;
    if output == Output::Human {
        match header(&reply, "etag") {
            Some(etag) => println!("Updated twin {} (ETag {etag}).", args.id),
            None => println!("Updated twin {}.", args.id),
        }
    }
    Ok(())
}

async fn delete(api: &Api, output: Output, args: IdArgs) -> anyhow::Result<()> {
    let url = api.url(&["digitaltwins", &args.id], &[]);
    let headers: Vec<(&str, String)> = args.etag.iter().map(|e| ("If-Match", e.clone())).collect();
    api.send(Method::DELETE, url, &headers, None).await?;
    if output == Output::Human {
        println!("Deleted twin {}.", args.id);
    }
    Ok(())
}
