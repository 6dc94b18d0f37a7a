//! Runs the pytest suite in `tests/sdk/` with the official Python SDK
//! (`azure-digitaltwins-core`, pinned in `tests/sdk/requirements.txt`)
//! against this build's `twinscape` binary. The virtualenv lives in
//! `target/sdk-venv` and is created on first use (needs PyPI).

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

fn run(cmd: &mut Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed: {status}");
}

#[test]
fn the_official_python_sdk_works_against_twinscape() {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let venv = target.join("sdk-venv");
    let python = venv.join("bin").join("python");
    let requirements = root().join("tests/sdk/requirements.txt");
    let stamp = venv.join("requirements.installed");
    let wanted = std::fs::read_to_string(&requirements).unwrap();
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements));
        std::fs::write(&stamp, &wanted).unwrap();
    }
    run(Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(root().join("tests/sdk"))
        .env("TWINSCAPE_BIN", env!("CARGO_BIN_EXE_twinscape")));
}
