//! `twinscape import FILE.ndjson`: ADT's bulk-import format sent through the
//! REST API: the models in one batch, then the twins, then the
//! relationships, each with a few requests in flight. Not atomic (neither is
//! ADT's import job): every line that fails is reported, the rest stays.
//!
//! The format: `{"Section": "Header"}` and a header object, then optional
//! `Models` (one Interface per line), `Twins` (twins with `$dtId` and
//! `$metadata.$model`) and `Relationships` (with `$dtId` as the source,
//! `$relationshipId`, `$targetId`, `$relationshipName`) sections, in that order.
//! The file is read by [`crate::ndjson::parse`], the parser the server's import
//! job uses too; a file with any problem is reported whole and nothing is sent.

use super::api::{Api, Body, ClientError};
use super::ndjson::{self, Problem, Section};
use super::output::print_json;
use super::{Connection, Output, block_on};
use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;
use tokio::task::JoinSet;

/// Most models per upload (ADT's limit per `POST /models`).
const MODELS_PER_BATCH: usize = 250;

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub conn: Connection,
    /// The file, in ADT's import format (ndjson).
    pub file: PathBuf,
    /// Requests in flight at once for twins and relationships.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

/// One thing to create, from one line.
#[derive(Debug, Clone)]
struct Item {
    line: usize,
    /// Twin id, model id, or `source/relationship` for display.
    label: String,
    /// Path segments of the PUT (twins and relationships).
    path: Vec<String>,
    body: Json,
}

#[derive(Debug, Default)]
struct Parsed {
    models: Vec<Item>,
    twins: Vec<Item>,
    relationships: Vec<Item>,
}

/// The file's items, ready to send, or every problem with its line.
fn plan(text: &str) -> Result<Parsed, Vec<Problem>> {
    let file = ndjson::parse(text)?;
    Ok(Parsed {
        models: file
            .models
            .into_iter()
            .map(|m| Item {
                line: m.line,
                label: m.id,
                path: vec![],
                body: m.value,
            })
            .collect(),
        twins: file
            .twins
            .into_iter()
            .map(|t| Item {
                line: t.line,
                path: vec!["digitaltwins".into(), t.id.clone()],
                label: t.id,
                body: t.value,
            })
            .collect(),
        relationships: file
            .relationships
            .into_iter()
            .map(|r| Item {
                line: r.line,
                label: format!("{}/{}", r.source, r.id),
                body: r.body(),
                path: vec![
                    "digitaltwins".into(),
                    r.source,
                    "relationships".into(),
                    r.id,
                ],
            })
            .collect(),
    })
}

/// Models ordered so that each comes after the models of the batch it
/// names (extends, components, schemas); ties keep the file's order.
fn dependency_order(models: Vec<Item>) -> Vec<Item> {
    let ids: HashSet<String> = models.iter().map(|m| m.label.clone()).collect();
    fn refs(v: &Json, ids: &HashSet<String>, own: &str, out: &mut HashSet<String>) {
        match v {
            Json::String(s) if s != own && ids.contains(s) => {
                out.insert(s.clone());
            }
            Json::Array(a) => a.iter().for_each(|x| refs(x, ids, own, out)),
            Json::Object(o) => o.values().for_each(|x| refs(x, ids, own, out)),
            _ => {}
        }
    }
    let deps: Vec<HashSet<String>> = models
        .iter()
        .map(|m| {
            let mut out = HashSet::new();
            refs(&m.body, &ids, &m.label, &mut out);
            out
        })
        .collect();
    let mut done: HashSet<String> = HashSet::new();
    let mut placed = vec![false; models.len()];
    let mut order = Vec::with_capacity(models.len());
    loop {
        let mut progressed = false;
        for (i, m) in models.iter().enumerate() {
            if !placed[i] && deps[i].iter().all(|d| done.contains(d)) {
                placed[i] = true;
                done.insert(m.label.clone());
                order.push(i);
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    // A cycle: the rest in file order (the server will say what is wrong).
    order.extend((0..models.len()).filter(|i| !placed[*i]));
    let mut slots: Vec<Option<Item>> = models.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

#[derive(Debug, Default, Serialize)]
struct Counts {
    total: usize,
    created: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    existing: Option<usize>,
    failed: usize,
}

#[derive(Debug, Serialize)]
struct Failure {
    line: usize,
    section: &'static str,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    code: String,
    message: String,
}

#[derive(Debug, Serialize)]
struct Report {
    file: String,
    models: Counts,
    twins: Counts,
    relationships: Counts,
    failures: Vec<Failure>,
    /// Set when the server refused the token and the import stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped: Option<String>,
}

impl Report {
    fn fail(&mut self, pb: &ProgressBar, section: Section, item: &Item, err: &ClientError) {
        let (status, code, message) = match err {
            ClientError::Api {
                status,
                code,
                message,
            } => (Some(status.as_u16()), code.clone(), message.clone()),
            other => (None, "RequestFailed".to_string(), other.to_string()),
        };
        pb.suspend(|| {
            eprintln!(
                "{}:{}: {} {}: {err}",
                self.file,
                item.line,
                section.name().to_ascii_lowercase().trim_end_matches('s'),
                item.label
            );
        });
        self.failures.push(Failure {
            line: item.line,
            section: section.name(),
            id: item.label.clone(),
            status,
            code,
            message,
        });
    }

    fn failed(&self) -> usize {
        self.models.failed + self.twins.failed + self.relationships.failed
    }
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    block_on(import(args))
}

fn progress_bar(total: u64) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} {prefix:>13} [{bar:30}] {pos}/{len} ({eta} left) {msg}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

/// The token was refused: nothing else will work either.
fn is_fatal(e: &ClientError) -> bool {
    matches!(
        e.status(),
        Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
    )
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let shown = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {shown}"))?;
    let parsed = match plan(&text) {
        Ok(p) => p,
        Err(problems) => {
            for Problem { line, kind } in &problems {
                eprintln!("{shown}:{line}: {kind}");
            }
            bail!(
                "{} problem(s) in {shown}; nothing was imported",
                problems.len()
            );
        }
    };
    let api = Api::new(&args.conn)?;
    let mut report = Report {
        file: shown.clone(),
        models: Counts {
            total: parsed.models.len(),
            existing: Some(0),
            ..Counts::default()
        },
        twins: Counts {
            total: parsed.twins.len(),
            ..Counts::default()
        },
        relationships: Counts {
            total: parsed.relationships.len(),
            ..Counts::default()
        },
        failures: Vec::new(),
        stopped: None,
    };
    eprintln!(
        "Importing {shown}: {} model(s), {} twin(s), {} relationship(s)",
        parsed.models.len(),
        parsed.twins.len(),
        parsed.relationships.len()
    );
    let total = parsed.models.len() + parsed.twins.len() + parsed.relationships.len();
    let pb = progress_bar(total as u64);

    // Models: those already there are skipped; the rest go up in one batch
    // (several only past ADT's 250 per upload), dependencies first.
    if !parsed.models.is_empty() {
        pb.set_prefix("models");
        let existing: HashSet<String> = api
            .get_all(&["models"], &[("includeModelDefinition", "false")])
            .await
            .map_err(|e| {
                pb.finish_and_clear();
                anyhow::anyhow!("listing the server's models: {e}")
            })?
            .iter()
            .filter_map(|m| m.get("id").and_then(Json::as_str).map(str::to_string))
            .collect();
        let (old, new): (Vec<Item>, Vec<Item>) = parsed
            .models
            .into_iter()
            .partition(|m| existing.contains(&m.label));
        report.models.existing = Some(old.len());
        pb.inc(old.len() as u64);
        let new = dependency_order(new);
        for batch in new.chunks(MODELS_PER_BATCH) {
            let body = Json::Array(batch.iter().map(|m| m.body.clone()).collect());
            match api
                .call(Method::POST, &["models"], &[], Some(&Body::Json(body)))
                .await
            {
                Ok(_) => report.models.created += batch.len(),
                Err(e) => {
                    report.models.failed += batch.len();
                    for m in batch {
                        report.fail(&pb, Section::Models, m, &e);
                    }
                    if is_fatal(&e) {
                        report.stopped = Some(e.to_string());
                    }
                }
            }
            pb.inc(batch.len() as u64);
            if report.stopped.is_some() {
                break;
            }
        }
    }
    let concurrency = usize::from(args.concurrency);
    for (section, items) in [
        (Section::Twins, parsed.twins),
        (Section::Relationships, parsed.relationships),
    ] {
        if report.stopped.is_some() || items.is_empty() {
            continue;
        }
        pb.set_prefix(section.name().to_ascii_lowercase());
        put_all(&api, section, items, concurrency, &pb, &mut report).await;
    }
    pb.finish_and_clear();
    if let Some(why) = &report.stopped {
        let attempted: usize = report.failures.len()
            + report.models.created
            + report.twins.created
            + report.relationships.created
            + report.models.existing.unwrap_or(0);
        eprintln!(
            "Stopped: the server refused the token ({why}); {} item(s) not attempted",
            total.saturating_sub(attempted)
        );
    }
    match args.conn.output {
        Output::Json => print_json(
            &serde_json::to_value(&report).unwrap_or_else(|e| json!({"error": e.to_string()})),
        ),
        Output::Human => {
            println!("Import of {shown}:");
            println!(
                "  models:        {} created, {} already there, {} failed",
                report.models.created,
                report.models.existing.unwrap_or(0),
                report.models.failed
            );
            println!(
                "  twins:         {} created, {} failed",
                report.twins.created, report.twins.failed
            );
            println!(
                "  relationships: {} created, {} failed",
                report.relationships.created, report.relationships.failed
            );
        }
    }
    let failed = report.failed();
    if failed > 0 || report.stopped.is_some() {
        bail!("{failed} of {total} item(s) failed to import");
    }
    Ok(())
}

/// PUTs every item, `concurrency` at a time; retries 429/503 and lost
/// connections a few times (a PUT can be repeated).
async fn put_all(
    api: &Api,
    section: Section,
    items: Vec<Item>,
    concurrency: usize,
    pb: &ProgressBar,
    report: &mut Report,
) {
    let mut set: JoinSet<(usize, Result<(), ClientError>)> = JoinSet::new();
    let mut by_index: HashMap<usize, Item> = HashMap::new();
    let mut queue = items.into_iter().enumerate();
    loop {
        while report.stopped.is_none() && set.len() < concurrency {
            let Some((i, item)) = queue.next() else { break };
            let segments: Vec<&str> = item.path.iter().map(String::as_str).collect();
            let url = api.url(&segments, &[]);
            let body = item.body.clone();
            let api = api.clone();
            by_index.insert(i, item);
            set.spawn(async move { (i, put_with_retry(&api, url, body).await) });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let (i, result) = match joined {
            Ok(r) => r,
            Err(e) => {
                pb.suspend(|| eprintln!("internal error: a request task failed: {e}"));
                continue;
            }
        };
        let Some(item) = by_index.remove(&i) else {
            continue;
        };
        let counts = match section {
            Section::Twins => &mut report.twins,
            _ => &mut report.relationships,
        };
        match result {
            Ok(()) => counts.created += 1,
            Err(e) => {
                counts.failed += 1;
                if is_fatal(&e) && report.stopped.is_none() {
                    report.stopped = Some(e.to_string());
                }
                report.fail(pb, section, &item, &e);
            }
        }
        pb.inc(1);
    }
    // Tasks that ended without an answer (a panic) count as failures.
    for (_, item) in by_index {
        let counts = match section {
            Section::Twins => &mut report.twins,
            _ => &mut report.relationships,
        };
        counts.failed += 1;
        report.fail(
            pb,
            section,
            &item,
            &ClientError::Other("the request was lost".into()),
        );
    }
}

async fn put_with_retry(api: &Api, url: Url, body: Json) -> Result<(), ClientError> {
    let body = Body::Json(body);
    let mut attempt = 0u32;
    loop {
        match api.send(Method::PUT, url.clone(), &[], Some(&body)).await {
            Ok(_) => return Ok(()),
            Err(e)
                if attempt < 4
                    && (e.is_transient() || matches!(e, ClientError::Transport { .. })) =>
            {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{"Section": "Header"}
{"fileVersion": "1.0.0", "author": "t", "organization": "o"}
{"Section": "Models"}
{"@id": "dtmi:t:B;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3", "extends": "dtmi:t:A;1"}
{"@id": "dtmi:t:A;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3"}

{"Section": "Twins"}
{"$dtId": "a", "$metadata": {"$model": "dtmi:t:A;1"}}
{"Section": "Relationships"}
{"$dtId": "a", "$relationshipId": "r", "$targetId": "b", "$relationshipName": "x", "p": 1}
"#;

    #[test]
    fn plans_the_sections_in_order() {
        let p = plan(FILE).expect("parses");
        assert_eq!(p.models.len(), 2);
        assert_eq!(p.models[0].line, 4);
        assert_eq!(p.twins[0].path, ["digitaltwins", "a"]);
        assert_eq!(p.twins[0].line, 8);
        assert_eq!(p.twins[0].body["$dtId"], "a");
        let r = &p.relationships[0];
        assert_eq!(r.label, "a/r");
        assert_eq!(r.line, 10);
        assert_eq!(r.path, ["digitaltwins", "a", "relationships", "r"]);
        assert_eq!(
            r.body,
            json!({"$relationshipId": "r", "$targetId": "b", "$relationshipName": "x", "p": 1})
        );
        let ordered = dependency_order(p.models);
        assert_eq!(ordered[0].label, "dtmi:t:A;1");
        assert_eq!(ordered[1].label, "dtmi:t:B;1");
    }

    #[test]
    fn reports_every_problem_with_its_line() {
        // The rules themselves are tested beside the parser (`ndjson.rs`).
        let bad = "{\"Section\": \"Twins\"}\nnot json\n{\"$dtId\": \"a\"}\n{\"Section\": \"Models\"}\n{\"Section\": \"Nope\"}\n";
        let problems = plan(bad).expect_err("problems");
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5]);
        assert!(plan("").is_err());
        assert!(plan("{\"a\": 1}").is_err());
    }
}
