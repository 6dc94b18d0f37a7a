//! Command-line interface: `twinscape serve`, `twinscape token`, and the
//! `az dt`-like client (`model`, `twin`, `relationship`, `query`, `import`).

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "twinscape",
    version,
    about = "Open, self-hostable digital twins"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: REST API, live feed and the browser app.
    Serve(ServeArgs),
    /// Print a bearer token signed by the server's local key (`--auth local`).
    Token(twinscape_auth::TokenArgs),
    /// DTDL models: validate locally; create, list, show, decommission, delete.
    Model(twinscape_client::models::ModelArgs),
    /// Digital twins: create, show, update (JSON Patch), delete.
    Twin(twinscape_client::twins::TwinArgs),
    /// Relationships between twins: create, list, show, delete.
    Relationship(twinscape_client::relationships::RelationshipArgs),
    /// Run a query (all pages); a table by default.
    Query(twinscape_client::query::QueryArgs),
    /// Import an ndjson file in ADT's import format, with a progress bar.
    Import(twinscape_client::import::ImportArgs),
    /// Event endpoints (webhook, MQTT, NATS): create, list, show, delete, dead letters.
    Endpoint(twinscape_client::events::EndpointArgs),
    /// Event routes (which events go to which endpoint): create, list, show, delete.
    Route(twinscape_client::events::RouteArgs),
    /// 3D scenes (Scenes Studio's configuration): import, export, list, show, delete, states.
    Scene(twinscape_client::scenes::SceneArgs),
    /// 3D files (.glb, .gltf) for scenes: upload, list, delete.
    Asset(twinscape_client::scenes::AssetArgs),
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on. Port 0 picks a free port (printed at start).
    #[arg(long, env = "TWINSCAPE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory of the embedded store and uploaded 3D files; created if missing.
    #[arg(long, env = "TWINSCAPE_DATA_DIR", default_value = "./twinscape-data")]
    pub data_dir: PathBuf,
    /// Load the demo building on first start (an empty store) and keep its
    /// rooms' temperatures changing, so the app shows something live at once.
    #[arg(long, env = "TWINSCAPE_DEMO")]
    pub demo: bool,
    /// Directory of the built browser app (trunk's `dist/`). Defaults to `./dist`,
    /// then the `dist/` of the source tree the binary was built in.
    #[arg(long, env = "TWINSCAPE_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// A web page origin (`https://example.com`, `http://localhost:3000`)
    /// allowed to call the API and the live feed from its pages, e.g. with
    /// the embeddable scene component. Repeatable; none by default.
    #[arg(
        long = "cors-origin",
        value_name = "URL",
        env = "TWINSCAPE_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    #[command(flatten)]
    pub events: crate::events::EventArgs,
    #[command(flatten)]
    pub auth: twinscape_auth::AuthArgs,
    #[command(flatten)]
    pub tls: twinscape_auth::tls::TlsArgs,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(args) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            rt.block_on(crate::http::serve(args))
        }
        Command::Token(args) => twinscape_auth::token_command(&args),
        Command::Model(args) => twinscape_client::models::run(args),
        Command::Twin(args) => twinscape_client::twins::run(args),
        Command::Relationship(args) => twinscape_client::relationships::run(args),
        Command::Query(args) => twinscape_client::query::run(args),
        Command::Import(args) => twinscape_client::import::run(args),
        Command::Endpoint(args) => twinscape_client::events::run_endpoint(args),
        Command::Route(args) => twinscape_client::events::run_route(args),
        Command::Scene(args) => twinscape_client::scenes::run_scene(args),
        Command::Asset(args) => twinscape_client::scenes::run_asset(args),
    }
}
