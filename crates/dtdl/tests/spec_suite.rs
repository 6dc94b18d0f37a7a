//! Runs the DTDL specification test suite (Azure/opendigitaltwins-dtdl,
//! vendored under tests/dtdl-spec) in each case's option mode.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use twinscape_dtdl::{ParseOptions, validate_batch};

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/dtdl-spec")
}

struct Outcome {
    id: String,
    passed: bool,
    detail: String,
}

fn run_version(
    version: &str,
    counts: &mut BTreeMap<(String, String), (usize, usize)>,
) -> Vec<Outcome> {
    let dir = suite_dir().join(version);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let cases: Vec<Value> = serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        for (i, case) in cases.iter().enumerate() {
            let valid = case["valid"].as_bool().unwrap();
            let mode = case["options"][0].as_str().unwrap().to_string();
            let options = ParseOptions {
                allow_undefined_extensions: mode == "AllowUndefinedExtensions",
            };
            let input = case["input"].as_array().unwrap();
            let result = validate_batch(input, options);
            let passed = result.is_ok() == valid;
            let entry = counts.entry((version.to_string(), mode)).or_default();
            entry.1 += 1;
            if passed {
                entry.0 += 1;
            }
            let detail = match &result {
                Ok(_) => "accepted".to_string(),
                Err(e) => e
                    .iter()
                    .map(|e| format!("{} {}: {}", e.code, e.path, e.message))
                    .collect::<Vec<_>>()
                    .join(" | "),
            };
            out.push(Outcome {
                id: format!("{version}/{name}#{i}"),
                passed,
                detail,
            });
        }
    }
    out
}

#[test]
fn dtdl_spec_suite() {
    let known: BTreeSet<String> = std::fs::read_to_string(suite_dir().join("known-failures.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let mut counts = BTreeMap::new();
    let mut outcomes = run_version("v2", &mut counts);
    outcomes.extend(run_version("v3", &mut counts));
    let (mut total_pass, mut total) = (0, 0);
    for ((v, mode), (pass, n)) in &counts {
        println!("DTDL spec suite {v} {mode}: {pass}/{n} passed");
        total_pass += pass;
        total += n;
    }
    println!("DTDL spec suite total: {total_pass}/{total} passed");
    let unexpected: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !o.passed && !known.contains(&o.id))
        .collect();
    let fixed: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.passed && known.contains(&o.id))
        .collect();
    if std::env::var_os("DTDL_SPEC_WRITE_FAILURES").is_some() {
        let list: Vec<&str> = outcomes
            .iter()
            .filter(|o| !o.passed)
            .map(|o| o.id.as_str())
            .collect();
        std::fs::write(
            suite_dir().join("known-failures.txt"),
            list.join("\n") + "\n",
        )
        .unwrap();
    }
    if std::env::var_os("DTDL_SPEC_SHOW").is_some() {
        for o in outcomes.iter().filter(|o| !o.passed) {
            println!("FAIL {}: {}", o.id, o.detail);
        }
    }
    for o in &fixed {
        println!("now passing (remove from known-failures.txt): {}", o.id);
    }
    for o in unexpected.iter().take(50) {
        println!("unexpected failure {}: {}", o.id, o.detail);
    }
    assert!(
        unexpected.is_empty(),
        "{} case(s) failed that are not in tests/dtdl-spec/known-failures.txt",
        unexpected.len()
    );
    assert!(
        fixed.is_empty(),
        "{} known failure(s) now pass: remove them from tests/dtdl-spec/known-failures.txt",
        fixed.len()
    );
}
