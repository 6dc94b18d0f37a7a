//! `twinscape scene import|export|list|show|delete|states` and
//! `twinscape asset upload|list|delete`: the 3D scenes (Scenes Studio's
//! `3DScenesConfiguration.json`) and their glTF files.

use super::api::{Api, Body};
use super::output::{print_json, table};
use super::{Connection, Output, block_on};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use reqwest::Method;
use serde_json::Value as Json;
use std::path::PathBuf;
use twinscape_scene::config;

/// The path segment of the whole configuration on the server.
const CONFIGURATION: &str = "$configuration";

#[derive(Debug, Args)]
pub struct SceneArgs {
    #[command(flatten)]
    pub conn: Connection,
    #[command(subcommand)]
    pub command: SceneCommand,
}

#[derive(Debug, Subcommand)]
pub enum SceneCommand {
    /// Import a Scenes Studio configuration (`3DScenesConfiguration.json`):
    /// all its scenes, behaviors and layers, ids kept, merged into what the
    /// server has (same ids are replaced).
    Import(ImportArgs),
    /// Export the whole configuration (to FILE, or standard output).
    Export(ExportArgs),
    /// List the scenes.
    List,
    /// Show one scene.
    Show(IdArgs),
    /// Delete a scene (its behaviors and layers stay).
    Delete(IdArgs),
    /// A scene's state on the server's current twins: one entry per
    /// (element, behavior, expression visual).
    States(StatesArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The configuration file.
    pub file: PathBuf,
    /// Replace everything the server has instead of merging.
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where to write it (standard output when left out).
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The scene's id.
    pub id: String,
    /// Only if the scene's ETag is this one (`If-Match`).
    #[arg(long)]
    pub etag: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatesArgs {
    /// The scene's id.
    pub scene_id: String,
    /// Only these layers (comma-separated layer ids; Scenes Studio's
    /// `scene-layer-dropdown-unlayered-behaviors` names the behaviors in no layer).
    #[arg(long, value_delimiter = ',')]
    pub layers: Option<Vec<String>>,
}

pub fn run_scene(args: SceneArgs) -> anyhow::Result<()> {
    let conn = args.conn;
    block_on(async move {
        let api = Api::new(&conn)?;
        match args.command {
            SceneCommand::Import(a) => import(&api, conn.output, a).await,
            SceneCommand::Export(a) => export(&api, a).await,
            SceneCommand::List => list(&api, conn.output).await,
            SceneCommand::Show(a) => {
                let reply = api.call(Method::GET, &["scenes", &a.id], &[], None).await?;
                print_json(&reply.body);
                Ok(())
            }
            SceneCommand::Delete(a) => {
                let url = api.url(&["scenes", &a.id], &[]);
                let headers: Vec<(&str, String)> =
                    a.etag.map(|e| vec![("If-Match", e)]).unwrap_or_default();
                api.send(Method::DELETE, url, &headers, None).await?;
                if conn.output == Output::Human {
                    eprintln!("Scene {} deleted.", a.id);
                }
                Ok(())
            }
            SceneCommand::States(a) => states(&api, conn.output, a).await,
        }
    })
}

/// Reads and checks a configuration file: schema problems stop the import
/// (all listed), consistency problems are warnings (Scenes Studio accepts them).
pub fn read_config_file(file: &std::path::Path) -> anyhow::Result<Json> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let text = text.trim_start_matches('\u{feff}');
    let parsed = config::parse(text).map_err(|errors| {
        let lines: Vec<String> = errors.0.iter().map(|e| format!("  {e}")).collect();
        anyhow::anyhow!(
            "{} is not a valid Scenes Studio configuration ({} problem{}):\n{}",
            file.display(),
            lines.len(),
            if lines.len() == 1 { "" } else { "s" },
            lines.join("\n")
        )
    })?;
    for problem in parsed.problems() {
        eprintln!("warning: {}: {problem}", file.display());
    }
    serde_json::from_str(text).with_context(|| format!("{} is not JSON", file.display()))
}

async fn import(api: &Api, output: Output, args: ImportArgs) -> anyhow::Result<()> {
    let body = read_config_file(&args.file)?;
    let count = |key: &str| body["configuration"][key].as_array().map_or(0, Vec::len);
    let (scenes, behaviors, layers) = (count("scenes"), count("behaviors"), count("layers"));
    let method = if args.replace {
        Method::PUT
    } else {
        Method::POST
    };
    let reply = api
        .call(
            method,
            &["scenes", CONFIGURATION],
            &[],
            Some(&Body::Json(body)),
        )
        .await?;
    match output {
        Output::Json => print_json(&reply.body),
        Output::Human => eprintln!(
            "Imported {scenes} scene(s), {behaviors} behavior(s) and {layers} layer(s) from {}{}.",
            args.file.display(),
            if args.replace {
                " (replacing everything)"
            } else {
                ""
            }
        ),
    }
    Ok(())
}

async fn export(api: &Api, args: ExportArgs) -> anyhow::Result<()> {
    let reply = api
        .call(Method::GET, &["scenes", CONFIGURATION], &[], None)
        .await?;
    let text = serde_json::to_string_pretty(&reply.body)? + "\n";
    match args.file {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("Exported the scenes configuration to {}.", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

async fn list(api: &Api, output: Output) -> anyhow::Result<()> {
    let scenes = api.get_all(&["scenes"], &[]).await?;
    if output == Output::Json {
        print_json(&Json::Array(scenes));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = scenes
        .iter()
        .map(|s| {
            let n = |k: &str| s[k].as_array().map_or(0, Vec::len).to_string();
            vec![
                s["id"].as_str().unwrap_or_default().to_string(),
                s["displayName"].as_str().unwrap_or_default().to_string(),
                n("elements"),
                n("behaviorIDs"),
                s["assets"][0]["url"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ]
        })
        .collect();
    let headers = ["id", "name", "elements", "behaviors", "model"].map(String::from);
    print!("{}", table(&headers, &rows));
    Ok(())
}

async fn states(api: &Api, output: Output, args: StatesArgs) -> anyhow::Result<()> {
    let layers = args.layers.map(|l| l.join(","));
    let query: Vec<(&str, &str)> = layers
        .as_deref()
        .map(|l| vec![("layers", l)])
        .unwrap_or_default();
    let reply = api
        .call(
            Method::GET,
            &["scenes", &args.scene_id, "states"],
            &query,
            None,
        )
        .await?;
    let states = reply
        .body
        .get("value")
        .cloned()
        .unwrap_or(Json::Array(vec![]));
    if output == Output::Json {
        print_json(&states);
        return Ok(());
    }
    let cell = |v: &Json| match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    let rows: Vec<Vec<String>> = states
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            [
                "element", "twin", "behavior", "visual", "value", "range", "color", "icon", "label",
            ]
            .iter()
            .map(|k| cell(&s[*k]))
            .collect()
        })
        .collect();
    let headers = [
        "element", "twin", "behavior", "visual", "value", "range", "color", "icon", "label",
    ]
    .map(String::from);
    print!("{}", table(&headers, &rows));
    Ok(())
}

// ------------------------------------------------------------------ assets

#[derive(Debug, Args)]
pub struct AssetArgs {
    #[command(flatten)]
    pub conn: Connection,
    #[command(subcommand)]
    pub command: AssetCommand,
}

#[derive(Debug, Subcommand)]
pub enum AssetCommand {
    /// Upload a .glb or .gltf file (a scene's asset URL `/3d/NAME` then uses it).
    Upload(UploadArgs),
    /// List the uploaded files.
    List,
    /// Delete an uploaded file.
    Delete(NameArgs),
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The file.
    pub file: PathBuf,
    /// Its name on the server (default: the file's name).
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct NameArgs {
    /// The file's name on the server.
    pub name: String,
}

pub fn run_asset(args: AssetArgs) -> anyhow::Result<()> {
    let conn = args.conn;
    block_on(async move {
        let api = Api::new(&conn)?;
        match args.command {
            AssetCommand::Upload(a) => {
                let name = match a.name {
                    Some(n) => n,
                    None => a
                        .file
                        .file_name()
                        .and_then(|n| n.to_str())
                        .map(str::to_string)
                        .context("the file has no name; pass --name")?,
                };
                let bytes = std::fs::read(&a.file)
                    .with_context(|| format!("reading {}", a.file.display()))?;
                let content_type = if name.to_ascii_lowercase().ends_with(".gltf") {
                    "model/gltf+json"
                } else if name.to_ascii_lowercase().ends_with(".glb") {
                    "model/gltf-binary"
                } else {
                    bail!("only .glb and .gltf files can be uploaded (got {name})");
                };
                let size = bytes.len();
                let reply = api
                    .call(
                        Method::PUT,
                        &["3d", &name],
                        &[],
                        Some(&Body::Bytes(bytes, content_type)),
                    )
                    .await?;
                match conn.output {
                    Output::Json => print_json(&reply.body),
                    Output::Human => eprintln!(
                        "Uploaded {} ({size} bytes) as {}.",
                        a.file.display(),
                        reply.body["url"].as_str().unwrap_or_default()
                    ),
                }
                Ok(())
            }
            AssetCommand::List => {
                let items = api.get_all(&["3d"], &[]).await?;
                if conn.output == Output::Json {
                    print_json(&Json::Array(items));
                    return Ok(());
                }
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|i| {
                        vec![
                            i["url"].as_str().unwrap_or_default().to_string(),
                            i["size"].to_string(),
                            i["lastModified"].as_str().unwrap_or_default().to_string(),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    table(&["url", "bytes", "modified"].map(String::from), &rows)
                );
                Ok(())
            }
            AssetCommand::Delete(a) => {
                api.call(Method::DELETE, &["3d", &a.name], &[], None)
                    .await?;
                if conn.output == Output::Human {
                    eprintln!("Deleted /3d/{}.", a.name);
                }
                Ok(())
            }
        }
    })
}
