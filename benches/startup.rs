//! Server startup with a large stored graph: fills a data dir with N twins
//! (default 1,000,000) and their ~3N relationships from the synthetic
//! generator, then times `twinscape serve` (this build, release) from spawn
//! to "listening", which includes opening the store and loading every model,
//! twin and relationship into the engine.
//!
//! Run: `cargo bench -p twinscape --bench startup` (`TWINSCAPE_BENCH_TWINS` for another size).

#[path = "common/mod.rs"]
mod common;
#[path = "common/data.rs"]
mod data;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;
use twinscape_demo::synthetic::Synthetic;
use twinscape_graph::Timestamp;

fn main() {
    let n = common::twins_from_env(1_000_000);
    let synth = Synthetic::with_twins(n, 7);
    let dir = tempfile::tempdir().expect("temp dir");
    // `TWINSCAPE_BENCH_KEEP=1`: leave the data dir behind (for profiling a start).
    let keep = std::env::var_os("TWINSCAPE_BENCH_KEEP").is_some();
    let now = Timestamp::parse("2025-01-01T00:00:00Z").unwrap_or(Timestamp(0));

    data::fill(dir.path(), &synth, now);

    // Start the server on it, twice: the second start finds the file in the page cache.
    // `TWINSCAPE_STARTUP_BIN`: another build (say, of an earlier commit) to compare with.
    let bin_env = std::env::var("TWINSCAPE_STARTUP_BIN");
    let bin = bin_env
        .as_deref()
        .unwrap_or(env!("CARGO_BIN_EXE_twinscape"));
    let help = Command::new(bin)
        .args(["serve", "--help"])
        .output()
        .expect("twinscape");
    let auth: &[&str] = if String::from_utf8_lossy(&help.stdout).contains("--auth") {
        &["--auth", "none"]
    } else {
        &[]
    };
    for run in ["first start", "second start"] {
        let t = Instant::now();
        let mut child = Command::new(bin)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(auth)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let stderr = child.stderr.take().expect("stderr");
        let loaded = std::thread::spawn(move || {
            BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .find(|l| l.contains("loaded ") && l.contains(" twins"))
        });
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        while out.read_line(&mut line).unwrap_or(0) > 0 && !line.contains("listening on") {
            line.clear();
        }
        let elapsed = t.elapsed();
        let _ = child.kill();
        let _ = child.wait();
        let detail = loaded.join().ok().flatten().unwrap_or_default();
        println!(
            "{run}: spawn → listening in {:.2} s  [{}]",
            elapsed.as_secs_f64(),
            detail
                .split("loaded")
                .nth(1)
                .map(|d| format!("loaded{d}"))
                .unwrap_or_default()
        );
    }
    if keep {
        let kept = dir.keep();
        println!("kept the data dir: {}", kept.display());
    }
}
