//! DTDLParser's own test cases (digitaltwinconsortium/DTDLParser `test-cases/`,
//! vendored under tests/dtdlparser-cases): the v2 and v3 cases without
//! parser quirks, each `{valid, options, input, expect?}`.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use twinscape_dtdl::{ParseOptions, validate_batch};

#[test]
fn dtdlparser_cases() {
    let root = common::repo_root().join("tests/dtdlparser-cases");
    let known: BTreeSet<String> = std::fs::read_to_string(root.join("known-failures.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let (mut passed, mut total) = (0, 0);
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    let mut failing = Vec::new();
    for (path, case) in common::load_json_tree(&root) {
        let id = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let valid = case["valid"].as_bool().unwrap();
        let is_v2 = id.ends_with("V2.json");
        // No option means DTDLParser's default: undefined extensions are
        // allowed in DTDL v2 and not in v3.
        let allow = match case["options"]
            .as_array()
            .and_then(|o| o.first())
            .and_then(|o| o.as_str())
        {
            Some("AllowUndefinedExtensions") => true,
            Some(_) => false,
            None => is_v2,
        };
        let result = validate_batch(
            case["input"].as_array().unwrap(),
            ParseOptions {
                allow_undefined_extensions: allow,
            },
        );
        total += 1;
        let ok = result.is_ok() == valid;
        if ok {
            passed += 1;
            if known.contains(&id) {
                fixed.push(id);
            }
        } else {
            let detail = match &result {
                Ok(_) => "accepted".to_string(),
                Err(e) => e
                    .iter()
                    .map(|e| format!("{} {}: {}", e.code, e.path, e.message))
                    .collect::<Vec<_>>()
                    .join(" | "),
            };
            if std::env::var_os("DTDL_SPEC_SHOW").is_some() {
                println!("FAIL {id}: {detail}");
            }
            failing.push(id.clone());
            if !known.contains(&id) {
                unexpected.push(format!("{id}: {detail}"));
            }
        }
    }
    println!("DTDLParser test cases (v2, v3): {passed}/{total} passed");
    if std::env::var_os("DTDL_SPEC_WRITE_FAILURES").is_some() {
        let mut text = String::from(
            "# DTDLParser cases this parser still gets wrong; the list may only shrink.\n",
        );
        for f in &failing {
            text.push_str(f);
            text.push('\n');
        }
        std::fs::write(root.join("known-failures.txt"), text).unwrap();
    }
    for u in unexpected.iter().take(40) {
        println!("unexpected failure {u}");
    }
    for f in &fixed {
        println!("now passing (remove from known-failures.txt): {f}");
    }
    assert!(
        unexpected.is_empty(),
        "{} unexpected failure(s)",
        unexpected.len()
    );
    assert!(
        fixed.is_empty(),
        "{} known failure(s) now pass",
        fixed.len()
    );
}
