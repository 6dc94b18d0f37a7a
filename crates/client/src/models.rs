//! `twinscape model …`: validate locally, or create, list, show, decommission
//! and delete models on a server.

use super::api::{Api, Body};
use super::output::{localized, print_json, table};
use super::{Connection, Output, block_on};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::{Value as Json, json};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ModelArgs {
    #[command(flatten)]
    pub conn: Connection,
    #[command(subcommand)]
    pub command: ModelCommand,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Validate DTDL models locally (no server): all files given (directories
    /// are searched for *.json) form one batch, so references across files
    /// resolve. Prints every problem and exits with 1 when any model is invalid.
    Validate(crate::model_cli::ValidateArgs),
    /// Upload models: all files given (directories are searched for *.json;
    /// a file holds one Interface or an array) go up as one batch.
    Create(CreateArgs),
    /// List the server's models.
    List(ListArgs),
    /// Show one model.
    Show(ShowArgs),
    /// Decommission a model: existing twins keep working, no new twins use it.
    Decommission(IdArg),
    /// Delete a model (models that extend or use it must be deleted first).
    Delete(IdArg),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Model files or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Include each model's DTDL definition.
    #[arg(long)]
    pub definition: bool,
    /// Only these models and what they depend on (repeatable).
    #[arg(long = "dependencies-for")]
    pub dependencies_for: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The model's DTMI.
    pub id: String,
    /// Include the DTDL definition.
    #[arg(long)]
    pub definition: bool,
}

#[derive(Debug, Args)]
pub struct IdArg {
    /// The model's DTMI.
    pub id: String,
}

pub fn run(args: ModelArgs) -> anyhow::Result<()> {
    let conn = args.conn;
    match args.command {
        ModelCommand::Validate(v) => crate::model_cli::validate(&v),
        ModelCommand::Create(c) => block_on(create(conn, c)),
        ModelCommand::List(l) => block_on(list(conn, l)),
        ModelCommand::Show(s) => block_on(show(conn, s)),
        ModelCommand::Decommission(i) => block_on(decommission(conn, i)),
        ModelCommand::Delete(i) => block_on(delete(conn, i)),
    }
}

/// Reads model files (or directories of them) into one list of Interfaces.
pub fn read_models(paths: &[PathBuf]) -> anyhow::Result<Vec<Json>> {
    let mut files = Vec::new();
    for p in paths {
        if !p.exists() {
            bail!("{}: no such file or directory", p.display());
        }
        crate::model_cli::collect(p, &mut files)
            .with_context(|| format!("reading {}", p.display()))?;
    }
    let mut models = Vec::new();
    for f in &files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let v: Json = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .with_context(|| format!("{} is not valid JSON", f.display()))?;
        match v {
            Json::Array(items) => models.extend(items),
            other => models.push(other),
        }
    }
    if models.is_empty() {
        bail!("no models found in the files given");
    }
    Ok(models)
}

fn model_rows(models: &[Json]) -> Vec<Vec<String>> {
    models
        .iter()
        .map(|m| {
            vec![
                m.get("id")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string(),
                localized(m.get("displayName")),
                m.get("uploadTime")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string(),
                if m.get("decommissioned").and_then(Json::as_bool) == Some(true) {
                    "yes".into()
                } else {
                    "no".into()
                },
            ]
        })
        .collect()
}

fn headers() -> Vec<String> {
    ["ID", "DISPLAY NAME", "UPLOADED", "DECOMMISSIONED"]
        .map(String::from)
        .to_vec()
}

async fn create(conn: Connection, args: CreateArgs) -> anyhow::Result<()> {
    let models = read_models(&args.paths)?;
    let api = Api::new(&conn)?;
    let reply = api
        .call(
            Method::POST,
            &["models"],
            &[],
            Some(&Body::Json(Json::Array(models))),
        )
        .await?;
    match conn.output {
        Output::Json => print_json(&reply.body),
        Output::Human => {
            let created = reply.body.as_array().cloned().unwrap_or_default();
            print!("{}", table(&headers(), &model_rows(&created)));
            println!("Created {} model(s).", created.len());
        }
    }
    Ok(())
}

async fn list(conn: Connection, args: ListArgs) -> anyhow::Result<()> {
    let api = Api::new(&conn)?;
    let mut query: Vec<(&str, &str)> = vec![(
        "includeModelDefinition",
        if args.definition { "true" } else { "false" },
    )];
    for d in &args.dependencies_for {
        query.push(("dependenciesFor", d));
    }
    let models = api.get_all(&["models"], &query).await?;
    match conn.output {
        Output::Json => print_json(&json!({ "value": models })),
        Output::Human if args.definition => print_json(&Json::Array(models)),
        Output::Human => {
            print!("{}", table(&headers(), &model_rows(&models)));
            println!("{} model(s).", models.len());
        }
    }
    Ok(())
}

async fn show(conn: Connection, args: ShowArgs) -> anyhow::Result<()> {
    let api = Api::new(&conn)?;
    let reply = api
        .call(
            Method::GET,
            &["models", &args.id],
            &[(
                "includeModelDefinition",
                if args.definition { "true" } else { "false" },
            )],
            None,
        )
        .await?;
    let m = &reply.body;
    match conn.output {
        Output::Json => print_json(m),
        Output::Human => {
            let field = |k: &str| m.get(k).and_then(Json::as_str).unwrap_or_default();
            println!("ID:             {}", field("id"));
            println!("Display name:   {}", localized(m.get("displayName")));
            let description = localized(m.get("description"));
            if !description.is_empty() {
                println!("Description:    {description}");
            }
            println!("Uploaded:       {}", field("uploadTime"));
            println!(
                "Decommissioned: {}",
                if m.get("decommissioned").and_then(Json::as_bool) == Some(true) {
                    "yes"
                } else {
                    "no"
                }
            );
            if let Some(def) = m.get("model") {
                println!("Definition:");
                print_json(def);
            }
        }
    }
    Ok(())
}

async fn decommission(conn: Connection, args: IdArg) -> anyhow::Result<()> {
    let api = Api::new(&conn)?;
    let patch = json!([{"op": "replace", "path": "/decommissioned", "value": true}]);
    api.call(
        Method::PATCH,
        &["models", &args.id],
        &[],
        Some(&Body::Patch(patch)),
    )
    .await?;
    if conn.output == Output::Human {
        println!("Decommissioned model {}.", args.id);
    }
    Ok(())
}

async fn delete(conn: Connection, args: IdArg) -> anyhow::Result<()> {
    let api = Api::new(&conn)?;
    api.call(Method::DELETE, &["models", &args.id], &[], None)
        .await?;
    if conn.output == Output::Human {
        println!("Deleted model {}.", args.id);
    }
    Ok(())
}
