//! `twinscape`: the server and the command-line client in one binary.
//!
//! Owns: the HTTP surface (axum), serving the built web app, process
//! lifecycle and the CLI. Must not: hold engine logic; twin, model and query
//! semantics live in the wasm-safe engine crates.

/// mimalloc instead of glibc's allocator: loading and serving JSON is many
/// small allocations, often freed on another thread than the one that made
/// them (the store reader, tokio workers).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod api;
mod api_error;
mod assets;
mod auth;
mod cli;
mod client;
mod demo;
mod events;
mod http;
mod live;
mod model_cli;
mod state;
mod tls;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
