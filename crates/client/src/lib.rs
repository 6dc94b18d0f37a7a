//! The `az dt`-like command-line client: `twinscape model|twin|relationship|
//! query|import|endpoint|route|scene|asset …` against a Twinscape (or ADT-compatible) endpoint over its
//! REST API.
//!
//! Owns: the commands' arguments, HTTP calls (reqwest with rustls), paging,
//! human and JSON output, the ndjson importer and its file parser
//! ([`ndjson`], which the server's import job uses too). Must not: reach into the
//! server's state; everything goes through the public API.

pub mod api;
pub mod events;
pub mod import;
pub mod model_cli;
pub mod models;
pub mod ndjson;
pub mod output;
pub mod query;
pub mod relationships;
pub mod scenes;
pub mod twins;

use anyhow::Context;
use clap::Args;
pub use output::Output;

/// Options shared by every client command.
#[derive(Debug, Args, Clone)]
pub struct Connection {
    /// The server's URL.
    #[arg(
        long,
        global = true,
        env = "TWINSCAPE_ENDPOINT",
        default_value = "http://127.0.0.1:8080"
    )]
    pub endpoint: String,
    /// Bearer token (`twinscape token --role owner` prints one for a local server).
    #[arg(long, global = true, env = "TWINSCAPE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Accept any TLS certificate (for `serve --tls-self-signed`). Unsafe
    /// beyond local testing.
    #[arg(long, global = true)]
    pub insecure: bool,
    /// `human` (tables, readable JSON) or `json` (the API's JSON as is).
    #[arg(long, short = 'o', global = true, value_enum, default_value = "human")]
    pub output: Output,
}

/// Runs an async client command on a small runtime of its own.
pub fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(f: F) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(f)
}

/// A JSON argument: inline JSON, or `@FILE` to read it from a file.
pub fn json_arg(what: &str, text: &str) -> anyhow::Result<serde_json::Value> {
    let (source, text) = match text.strip_prefix('@') {
        Some(path) => (
            path.to_string(),
            std::fs::read_to_string(path).with_context(|| format!("reading {what} from {path}"))?,
        ),
        None => ("the command line".to_string(), text.to_string()),
    };
    serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .with_context(|| format!("{what} from {source} is not valid JSON"))
}
