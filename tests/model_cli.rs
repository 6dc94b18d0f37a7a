//! `twinscape model validate`: exit codes and output on valid and invalid models.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

use std::path::Path;
use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_twinscape"))
        .arg("model")
        .arg("validate")
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("run twinscape");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

const BASE: &str = r#"{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:test:Base;1", "@type": "Interface",
  "contents": [{"@type": "Property", "name": "label", "schema": "string"}]}"#;
const DERIVED: &str = r#"[{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:test:Derived;1", "@type": "Interface",
  "extends": "dtmi:test:Base;1"},
 {"@context": "dtmi:dtdl:context;2", "@id": "dtmi:test:Other;1", "@type": "Interface"}]"#;

#[test]
fn valid_models_across_files_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "models/base.json", BASE);
    write(dir.path(), "models/sub/derived.json", DERIVED);
    write(dir.path(), "models/notes.txt", "not a model");
    let (code, stdout, stderr) = run(&[dir.path().join("models").to_str().unwrap()]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains("3 model(s) in 2 file(s) are valid"),
        "{stdout}"
    );
}

#[test]
fn invalid_models_print_each_error_and_exit_one() {
    let dir = tempfile::tempdir().unwrap();
    let derived = write(dir.path(), "derived.json", DERIVED);
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:test:Bad;1", "@type": "Interface",
            "contents": [{"@type": "Property", "name": "bad name", "schema": "double"},
                         {"@type": "Telemetry", "name": "t", "schema": "dtmi:test:Missing;1"}]}"#,
    );
    // Base is not given: Derived's extends cannot resolve.
    let (code, stdout, stderr) = run(&[&derived, &bad]);
    assert_eq!(code, 1, "stdout: {stdout}\nstderr: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines.iter().any(|l| l
            .starts_with(&format!("{derived}: dtmi:test:Derived;1: $[0].extends: "))
            && l.contains("dtmi:test:Base;1")),
        "{stdout}"
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with(&format!("{bad}: dtmi:test:Bad;1: $.contents[0].name: "))
            && l.contains("bad name")),
        "{stdout}"
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with(&format!("{bad}: dtmi:test:Bad;1: $.contents[1].schema: "))
            && l.contains("dtmi:test:Missing;1")),
        "{stdout}"
    );
    assert!(
        stderr.contains("3 problem(s) found in 2 file(s)"),
        "{stderr}"
    );
}

#[test]
fn undefined_extensions_are_strict_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "ext.json",
        r#"{"@context": ["dtmi:dtdl:context;3", "dtmi:com:example:ext;1"], "@id": "dtmi:test:Ext;1", "@type": ["Interface", "Special"]}"#,
    );
    let (code, stdout, _) = run(&[&f]);
    assert_eq!(code, 1);
    assert!(stdout.contains("dtmi:com:example:ext;1"), "{stdout}");
    let (code, stdout, stderr) = run(&[&f, "--allow-undefined-extensions"]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
}

#[test]
fn broken_json_and_missing_paths_fail() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "broken.json", "{ not json");
    let (code, stdout, _) = run(&[&f]);
    assert_eq!(code, 1);
    assert!(stdout.contains("not valid JSON"), "{stdout}");
    let (code, _, stderr) = run(&[dir.path().join("nope").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no such file or directory"), "{stderr}");
}
