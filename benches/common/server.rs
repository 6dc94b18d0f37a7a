//! Starting the server under test for the benches that drive it over HTTP.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

/// Runs `bin serve --listen 127.0.0.1:0 --data-dir DATA` plus `extra`;
/// returns the child and its address once it listens. Its later output is
/// drained.
fn serve(bin: &str, data: &std::path::Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the server");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let addr = loop {
        line.clear();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("the server exited");
        }
        if let Some(rest) = line.strip_prefix("Twinscape listening on http://") {
            break rest.split('/').next().unwrap_or_default().to_string();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, addr)
}

/// Starts `bin serve` on a free loopback port with a data dir (and
/// `--auth none` when the build has auth, so older builds run too).
pub fn start_server(bin: &str, data: &std::path::Path) -> (Child, String) {
    let help = Command::new(bin)
        .args(["serve", "--help"])
        .output()
        .expect("twinscape");
    let has_auth = String::from_utf8_lossy(&help.stdout).contains("--auth");
    serve(bin, data, if has_auth { &["--auth", "none"] } else { &[] })
}

/// Starts `bin serve` with local auth (the default) on `data`; returns the
/// child, its address and an owner token.
pub fn start_with_auth(bin: &str, data: &std::path::Path) -> (Child, String, String) {
    let token = Command::new(bin)
        .args(["token", "--role", "owner", "--data-dir"])
        .arg(data)
        .output()
        .expect("twinscape token");
    let token = String::from_utf8_lossy(&token.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string();
    let (child, addr) = serve(bin, data, &[]);
    (child, addr, token)
}
