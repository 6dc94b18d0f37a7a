//! Command-line interface: `twinscape serve` and (later) the `az dt`-like client.

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
    /// Work with DTDL models (validate them).
    #[command(subcommand)]
    Model(crate::model_cli::ModelCommand),
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
        Command::Model(cmd) => crate::model_cli::run(cmd),
    }
}
