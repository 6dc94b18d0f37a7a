//! `twinscape model validate <files or directories>`: validates DTDL models
//! as one batch, like Azure's DTDL validator sample.

use anyhow::bail;
use clap::Args;
use std::path::{Path, PathBuf};
use twinscape_dtdl::{ParseOptions, validate_batch};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Model files (one Interface, or a JSON array of Interfaces) or directories.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Accept undefined extension contexts and co-types instead of rejecting them.
    #[arg(long)]
    pub allow_undefined_extensions: bool,
}

/// Adds `path` (a file) or the `*.json` files under it (a directory) to `out`.
pub fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            if e.is_dir()
                || e.extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("json"))
            {
                collect(&e, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

pub fn validate(args: &ValidateArgs) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for p in &args.paths {
        if !p.exists() {
            bail!("{}: no such file or directory", p.display());
        }
        collect(p, &mut files)?;
    }
    if files.is_empty() {
        bail!(
            "no *.json files found in {}",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut batch = Vec::with_capacity(files.len());
    let mut batch_files = Vec::with_capacity(files.len());
    let mut problems = 0usize;
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                println!("{}: -: $: cannot read the file: {e}", f.display());
                problems += 1;
                continue;
            }
        };
        match serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}')) {
            Ok(v) => {
                batch.push(v);
                batch_files.push(f);
            }
            Err(e) => {
                println!("{}: -: $: not valid JSON: {e}", f.display());
                problems += 1;
            }
        }
    }
    let options = ParseOptions {
        allow_undefined_extensions: args.allow_undefined_extensions,
    };
    let mut valid_models = 0;
    match validate_batch(&batch, options) {
        Ok(ids) => valid_models = ids.len(),
        Err(errors) => {
            for e in errors.iter() {
                let file = e
                    .document
                    .and_then(|d| batch_files.get(d))
                    .map_or_else(|| "-".to_string(), |f| f.display().to_string());
                println!(
                    "{file}: {}: {}: {}",
                    e.dtmi.as_deref().unwrap_or("-"),
                    e.path,
                    e.message
                );
            }
            problems += errors.len();
        }
    }
    if problems > 0 {
        bail!(
            "{problems} problem(s) found in {} file(s); the models are not valid",
            files.len()
        );
    }
    println!(
        "{valid_models} model(s) in {} file(s) are valid",
        files.len()
    );
    Ok(())
}
