//! The `twinscape` binary: see the `twinscape` library.

/// mimalloc instead of glibc's allocator: loading and serving JSON is many
/// small allocations, often freed on another thread than the one that made
/// them (the store reader, tokio workers).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = twinscape::cli::Cli::parse();
    match twinscape::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
