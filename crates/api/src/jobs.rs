//! Bulk jobs: imports of ADT's ndjson format (`/jobs/imports`) and deletion
//! of every model, twin and relationship (`/jobs/deletions`).
//!
//! ADT reads and writes job files in Azure blob storage. Twinscape keeps them
//! in `<data-dir>/jobs/`: upload an input with `PUT /jobs/files/{name}`, name
//! it in `inputBlobUri` (a bare name, or any URL whose path ends in
//! `/jobs/files/{name}`), and read the output log at `GET /jobs/files/{name}`.
//! Jobs run one at a time in the background and, as in ADT, are not atomic.

use super::{Params, State, api_version, json_body, list_page, page_state};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use twinscape_client::ndjson::{self, Problem};
use twinscape_core::{Job, JobError, JobStatus, now};
use twinscape_graph::{Precondition, Timestamp};
use twinscape_protocol::ErrorCode;

/// How many twins or relationships one write (one lock, one commit) imports.
const CHUNK: usize = 500;
/// Days a finished job is kept (ADT: 30).
const PURGE_DAYS: i64 = 30;

/// ADT's job time format: UTC `Z`, trailing zeros trimmed.
fn job_time(t: Timestamp) -> String {
    let s = t.to_string();
    match s.trim_end_matches('Z').split_once('.') {
        Some((secs, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                format!("{secs}Z")
            } else {
                format!("{secs}.{frac}Z")
            }
        }
        None => s,
    }
}

fn job_not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::JobNotFound,
        format!(
            "There is no job available that matches the provided id {id}. Check that the Job ID provided is valid by doing a Jobs_List API call."
        ),
    )
}

fn valid_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// The file a blob URI names: a bare name, or a URL ending in `/jobs/files/{name}`.
fn file_of(uri: &str) -> Result<String, ApiError> {
    let name = match uri.rsplit_once("/jobs/files/") {
        Some((_, n)) => n.split(['?', '#']).next().unwrap_or_default(),
        None => uri,
    };
    if valid_file_name(name) {
        Ok(name.to_string())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!(
                "Blob URI '{uri}' failed validation: give the name of a file uploaded with PUT /jobs/files/{{name}} (letters, digits, '.', '-', '_'), or a URL ending in /jobs/files/{{name}}."
            ),
        ))
    }
}

fn valid_job_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Updates a job's status (and times) durably.
async fn set_status(state: &State, key: &str, status: JobStatus, error: Option<JobError>) {
    let key = key.to_string();
    let _ = state
        .write(move |txn| -> Result<(), ApiError> {
            if let Some(mut job) = txn.world().jobs().get(&key).cloned() {
                let t = job_time(now());
                job.status = status;
                // ADT's delete jobs have no `lastActionDateTime`.
                if key.starts_with("imports/") {
                    job.last_action_date_time = Some(t.clone());
                }
                if status.is_final() {
                    job.finished_date_time = Some(t);
                }
                if error.is_some() {
                    job.error = error;
                }
                txn.put_job(&key, job);
            }
            Ok(())
        })
        .await;
}

/// Claims the one job slot. A job whose stored status is already final
/// frees it, even before its runner lets go: a client that saw
/// `succeeded` may start the next job at once.
fn claim_job(state: &State, key: &str) -> Result<Arc<AtomicBool>, ApiError> {
    let mut running = state.running_job.lock();
    let busy = running.as_ref().is_some_and(|(job, _)| {
        !state
            .world()
            .jobs()
            .get(job)
            .is_some_and(|j| j.status.is_final())
    });
    if busy {
        return Err(ApiError::new(
            ErrorCode::TooManyRequests,
            "Cannot start another job while one is in progress. Please wait for it to complete before starting another one.",
        ));
    }
    let cancel = Arc::new(AtomicBool::new(false));
    *running = Some((key.to_string(), cancel.clone()));
    Ok(cancel)
}

// ----- files ------------------------------------------------------------------

/// `PUT /jobs/files/{name}`: stores an import input (raw ndjson).
pub async fn put_file(
    AxState(state): AxState<State>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !valid_file_name(&name) {
        return Err(file_of(&name)
            .err()
            .unwrap_or_else(|| ApiError::new(ErrorCode::InvalidArgument, "Invalid file name.")));
    }
    let path = state.files_dir.join(&name);
    tokio::fs::write(&path, &body).await.map_err(|e| {
        ApiError::new(
            ErrorCode::InternalServerError,
            format!("Could not store {name}: {e}"),
        )
    })?;
    Ok(StatusCode::CREATED.into_response())
}

/// `GET /jobs/files/{name}`: an input or an output log.
pub async fn get_file(
    AxState(state): AxState<State>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let missing = || {
        ApiError::new(
            ErrorCode::NotFound,
            format!("There is no job file named {name}."),
        )
    };
    if !valid_file_name(&name) {
        return Err(missing());
    }
    let bytes = tokio::fs::read(state.files_dir.join(&name))
        .await
        .map_err(|_| missing())?;
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], bytes).into_response())
}

// ----- imports ----------------------------------------------------------------

pub async fn list_imports(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    list_jobs(state, headers, params, "imports/", "/jobs/imports")
}

pub async fn list_deletions(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    list_jobs(state, headers, params, "deletions/", "/jobs/deletions")
}

fn list_jobs(
    state: State,
    headers: HeaderMap,
    params: Params,
    prefix: &str,
    path: &str,
) -> Result<Response, ApiError> {
    let params = params.0;
    let page = page_state(&params, &headers, 100, Json::Null)?;
    let world = state.world();
    let mut jobs: Vec<&Job> = world
        .jobs()
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(_, v)| v)
        .collect();
    // Oldest first.
    jobs.sort_by(|a, b| a.created_date_time.cmp(&b.created_date_time));
    let jobs: Vec<Json> = jobs
        .into_iter()
        .filter_map(|j| serde_json::to_value(j).ok())
        .collect();
    Ok(list_page(&headers, path, jobs, &page, api_version(&params)))
}

pub async fn get_import(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let world = state.world();
    world
        .jobs()
        .get(&format!("imports/{id}"))
        .map(|j| axum::Json(j.clone()).into_response())
        .ok_or_else(|| job_not_found(&id))
}

/// `PUT /jobs/imports/{id}`: starts an import.
pub async fn put_import(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !valid_job_id(&id) {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!("The job id '{id}' is invalid: use 1 to 128 letters, digits, '-', '_' or '.'."),
        ));
    }
    let spec = json_body(&body, 64 * 1024)?;
    let input = spec
        .get("inputBlobUri")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let output = spec
        .get("outputBlobUri")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let (input_file, output_file) = (file_of(&input)?, file_of(&output)?);
    let key = format!("imports/{id}");
    if state.world().jobs().contains_key(&key) {
        return Err(ApiError::new(
            ErrorCode::JobIdAlreadyExists,
            format!(
                "Provided Job ID already exists: {id}. Use Jobs_List API to view jobs that already exist."
            ),
        ));
    }
    let cancel = claim_job(&state, &key)?;
    let created = now();
    let job = Job {
        id: id.clone(),
        input_blob_uri: Some(input),
        output_blob_uri: Some(output),
        created_date_time: job_time(created),
        last_action_date_time: Some(job_time(created)),
        finished_date_time: None,
        purge_date_time: job_time(Timestamp(created.0 + PURGE_DAYS * 86_400 * 10_000_000)),
        status: JobStatus::NotStarted,
        error: None,
    };
    let stored = job.clone();
    let key2 = key.clone();
    let result = state
        .write(move |txn| -> Result<(), ApiError> {
            txn.put_job(&key2, stored);
            Ok(())
        })
        .await;
    if let Err(e) = result {
        *state.running_job.lock() = None;
        return Err(e);
    }
    let runner = state.clone();
    tokio::spawn(async move {
        run_import(&runner, &key, &id, &input_file, &output_file, &cancel).await;
        *runner.running_job.lock() = None;
    });
    Ok((StatusCode::CREATED, axum::Json(job)).into_response())
}

/// `POST /jobs/imports/{id}/cancel`
pub async fn cancel_import(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let key = format!("imports/{id}");
    let job = state
        .world()
        .jobs()
        .get(&key)
        .cloned()
        .ok_or_else(|| job_not_found(&id))?;
    if let Some((running, flag)) = state.running_job.lock().as_ref()
        && *running == key
    {
        flag.store(true, Ordering::Release);
    }
    Ok(axum::Json(job).into_response())
}

/// `DELETE /jobs/imports/{id}`: forgets a job (it does not stop one).
pub async fn delete_import(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let key = format!("imports/{id}");
    state
        .write(move |txn| match txn.delete_job(&key) {
            Some(_) => Ok(()),
            None => Err(job_not_found(&id)),
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Appends one record to a job's output log.
fn log_line(out: &mut Vec<u8>, id: &str, job_type: &str, log_type: &str, details: Json) {
    let line = json!({
        "timestamp": now().to_string(),
        "jobId": id,
        "jobType": job_type,
        "logType": log_type,
        "details": details,
    });
    out.extend_from_slice(line.to_string().as_bytes());
    out.push(b'\n');
}

/// At most this many of an input file's problems go in the job's error.
const PROBLEMS_SHOWN: usize = 5;

/// A bad input file's problems, for the job's error message: the first few,
/// each with its line.
fn problems_message(problems: &[Problem]) -> String {
    let shown: Vec<String> = problems
        .iter()
        .take(PROBLEMS_SHOWN)
        .map(Problem::to_string)
        .collect();
    let more = problems.len().saturating_sub(PROBLEMS_SHOWN);
    format!(
        "The input file has {} problem(s); nothing was imported: {}{}",
        problems.len(),
        shown.join("; "),
        if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        }
    )
}

async fn run_import(
    state: &State,
    key: &str,
    id: &str,
    input: &str,
    output: &str,
    cancel: &AtomicBool,
) {
    set_status(state, key, JobStatus::Running, None).await;
    let mut log = Vec::new();
    log_line(&mut log, id, "Import", "Info", json!({"status": "Started"}));
    let outcome = import_sections(state, id, input, cancel, &mut log).await;
    let (status, error) = match outcome {
        Ok(true) => {
            log_line(
                &mut log,
                id,
                "Import",
                "Info",
                json!({"status": "Succeeded"}),
            );
            (JobStatus::Succeeded, None)
        }
        Ok(false) => {
            log_line(
                &mut log,
                id,
                "Import",
                "Info",
                json!({"status": "Cancelled"}),
            );
            (JobStatus::Cancelled, None)
        }
        Err((code, message)) => {
            log_line(
                &mut log,
                id,
                "Import",
                "Error",
                json!({"status": "Failed", "code": code, "message": &message}),
            );
            (
                JobStatus::Failed,
                Some(JobError {
                    code: code.to_string(),
                    message,
                }),
            )
        }
    };
    if let Err(e) = tokio::fs::write(state.files_dir.join(output), &log).await {
        tracing::warn!("job {id}: could not write its output log {output}: {e}");
    }
    if status == JobStatus::Cancelled {
        set_status(state, key, JobStatus::Cancelling, None).await;
    }
    set_status(state, key, status, error).await;
}

/// A twin or relationship to write: its line, id, source (relationships) and body.
type Entry = (usize, String, String, Json);

/// Runs the sections; `Ok(false)` when cancelled.
async fn import_sections(
    state: &State,
    id: &str,
    input: &str,
    cancel: &AtomicBool,
    log: &mut Vec<u8>,
) -> Result<bool, (&'static str, String)> {
    let text = tokio::fs::read_to_string(state.files_dir.join(input))
        .await
        .map_err(|e| {
            (
                "InvalidArgument",
                format!("cannot read the input file {input}: {e}"),
            )
        })?;
    let file = ndjson::parse(&text).map_err(|p| ("ValidationFailed", problems_message(&p)))?;

    if !file.models.is_empty() {
        log_line(
            log,
            id,
            "Import",
            "Info",
            json!({"section": "Models", "status": "Started"}),
        );
        let models: Vec<Json> = file.models.into_iter().map(|m| m.value).collect();
        let n = models.len();
        state
            .write(move |txn| super::models::upload_models(txn, &models))
            .await
            .map_err(|e| ("ValidationFailed", format!("Models: {}", e.message)))?;
        log_line(
            log,
            id,
            "Import",
            "Info",
            json!({"section": "Models", "status": "Succeeded", "count": n}),
        );
    }
    // Each twin or relationship as (line, id, source, body); a twin's source is empty.
    let twins: Vec<Entry> = file
        .twins
        .into_iter()
        .map(|t| (t.line, t.id, String::new(), t.value))
        .collect();
    let relationships: Vec<Entry> = file
        .relationships
        .into_iter()
        .map(|r| {
            let body = r.body();
            (r.line, r.id, r.source, body)
        })
        .collect();
    for (section, items) in [("Twins", twins), ("Relationships", relationships)] {
        if items.is_empty() {
            continue;
        }
        log_line(
            log,
            id,
            "Import",
            "Info",
            json!({"section": section, "status": "Started"}),
        );
        let count = items.len();
        for chunk in items.chunks(CHUNK) {
            if cancel.load(Ordering::Acquire) {
                return Ok(false);
            }
            let chunk: Vec<Entry> = chunk.to_vec();
            let is_twins = section == "Twins";
            state
                .write(move |txn| -> Result<(), ApiError> {
                    for (line, item_id, source, body) in &chunk {
                        let at = |e: ApiError| {
                            ApiError::new(e.code, format!("line {line}: {}", e.message))
                        };
                        let _created = if is_twins {
                            txn.create_or_replace_twin(item_id, body, &Precondition::None)
                        } else {
                            txn.create_or_replace_relationship(
                                source,
                                item_id,
                                body,
                                &Precondition::None,
                            )
                        }
                        .map_err(|e| at(e.into()))?;
                    }
                    Ok(())
                })
                .await
                .map_err(|e| ("ValidationFailed", format!("{section}: {}", e.message)))?;
        }
        log_line(
            log,
            id,
            "Import",
            "Info",
            json!({"section": section, "status": "Succeeded", "count": count}),
        );
    }
    Ok(true)
}

// ----- deletions --------------------------------------------------------------

pub async fn get_deletion(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let world = state.world();
    world
        .jobs()
        .get(&format!("deletions/{id}"))
        .map(|j| axum::Json(j.clone()).into_response())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::DeleteJobNotFound,
                format!("There is no delete job with id {id}."),
            )
        })
}

/// `POST /jobs/deletions`: deletes every relationship, twin and model.
pub async fn start_deletion(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let id = headers
        .get("operation-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{:032x}", twinscape_core::random_u128()));
    if !valid_job_id(&id) {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!("The operation id '{id}' is invalid."),
        ));
    }
    let key = format!("deletions/{id}");
    if state.world().jobs().contains_key(&key) {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!("Operation-Id already exists: {id}."),
        ));
    }
    let _cancel = claim_job(&state, &key)?;
    let created = now();
    let job = Job {
        id: id.clone(),
        input_blob_uri: None,
        output_blob_uri: None,
        created_date_time: job_time(created),
        last_action_date_time: None,
        finished_date_time: None,
        purge_date_time: job_time(Timestamp(created.0 + PURGE_DAYS * 86_400 * 10_000_000)),
        status: JobStatus::NotStarted,
        error: None,
    };
    let stored = job.clone();
    let key2 = key.clone();
    if let Err(e) = state
        .write(move |txn| -> Result<(), ApiError> {
            txn.put_job(&key2, stored);
            Ok(())
        })
        .await
    {
        *state.running_job.lock() = None;
        return Err(e);
    }
    let runner = state.clone();
    let job_key = key.clone();
    tokio::spawn(async move {
        set_status(&runner, &job_key, JobStatus::Running, None).await;
        let result = delete_everything(&runner).await;
        match result {
            Ok(()) => set_status(&runner, &job_key, JobStatus::Succeeded, None).await,
            Err(e) => {
                set_status(
                    &runner,
                    &job_key,
                    JobStatus::Failed,
                    Some(JobError {
                        code: e.code.as_str().to_string(),
                        message: e.message,
                    }),
                )
                .await
            }
        }
        *runner.running_job.lock() = None;
    });
    let location = super::absolute_link(
        &headers,
        &format!(
            "/jobs/deletions/{id}?api-version={}",
            api_version(&params.0)
        ),
    );
    let mut resp = (StatusCode::ACCEPTED, axum::Json(job)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert("operation-location", v);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("operation-id", v);
    }
    Ok(resp)
}

async fn delete_everything(state: &State) -> Result<(), ApiError> {
    // Relationships, then twins, in chunks; then models, dependents first.
    loop {
        let done = state
            .write(|txn| -> Result<bool, ApiError> {
                let graph = txn.engine().graph();
                let rels: Vec<(String, String)> = graph
                    .relationships()
                    .take(CHUNK)
                    .filter_map(|r| {
                        Some((graph.twin_at(r.source)?.id.to_string(), r.id.to_string()))
                    })
                    .collect();
                for (source, rel) in &rels {
                    txn.delete_relationship(source, rel, &Precondition::None)?;
                }
                Ok(rels.is_empty())
            })
            .await?;
        if done {
            break;
        }
    }
    loop {
        let done = state
            .write(|txn| -> Result<bool, ApiError> {
                let ids: Vec<String> = txn
                    .engine()
                    .graph()
                    .twins()
                    .take(CHUNK)
                    .map(|(_, t)| t.id.to_string())
                    .collect();
                for id in &ids {
                    txn.delete_twin(id, &Precondition::None)?;
                }
                Ok(ids.is_empty())
            })
            .await?;
        if done {
            break;
        }
    }
    state
        .write(|txn| {
            loop {
                let ids: Vec<String> = txn
                    .engine()
                    .registry()
                    .models()
                    .map(|m| m.id.clone())
                    .collect();
                if ids.is_empty() {
                    break;
                }
                let mut progressed = false;
                for id in ids {
                    if txn.engine().registry().dependents(&id).is_empty()
                        && txn.delete_model(&id).is_ok()
                    {
                        progressed = true;
                    }
                }
                if !progressed {
                    return Err(ApiError::new(
                        ErrorCode::InternalServerError,
                        "Some models could not be deleted.",
                    ));
                }
            }
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_input_file_names_its_first_problems_with_their_lines() {
        // The parser's rules are tested beside it (twinscape_client::ndjson).
        let message = |text: &str| problems_message(&ndjson::parse(text).unwrap_err());
        let m = message("{\"Section\": \"Twins\"}\n");
        assert!(m.contains("1 problem(s)"), "{m}");
        assert!(m.contains("line 1:") && m.contains("Header"), "{m}");
        let m = message(
            "{\"Section\": \"Header\"}\n{\"Section\": \"Twins\"}\n{\"Section\": \"Models\"}\n",
        );
        assert!(m.contains("line 3: section Models is out of order"), "{m}");
        assert!(
            message("{\"Section\": \"Header\"}\nnot json\n").contains("line 2: not valid JSON")
        );
        assert!(message("").contains("line 1:"));
        // Many problems: the first few, and how many more.
        let mut text = String::from("{\"Section\": \"Header\"}\n{\"Section\": \"Twins\"}\n");
        for _ in 0..8 {
            text.push_str("{\"$dtId\": \"a\"}\n");
        }
        let m = message(&text);
        assert!(m.starts_with("The input file has 8 problem(s)"), "{m}");
        assert!(m.contains("line 3: a twin needs `$metadata.$model`"), "{m}");
        assert!(m.contains("line 7:") && !m.contains("line 8:"), "{m}");
        assert!(m.ends_with("; and 3 more"), "{m}");
    }

    #[test]
    fn import_files_are_split_into_sections_in_order() {
        let text = r#"{"Section": "Header"}
{"fileVersion": "1.0.0", "author": "a", "organization": "o"}
{"Section": "Models"}
{"@id": "dtmi:a;1"}
{"Section": "Twins"}
{"$dtId": "t1", "$metadata": {"$model": "dtmi:a;1"}}

{"Section": "Relationships"}
{"$dtId": "t1", "$relationshipId": "r", "$targetId": "t2", "$relationshipName": "x"}
"#;
        let f = ndjson::parse(text).unwrap();
        assert_eq!(f.models.len(), 1);
        assert_eq!(f.twins.len(), 1);
        assert_eq!(f.twins[0].line, 6);
        assert_eq!(f.relationships[0].line, 9);
        assert_eq!(f.relationships[0].source, "t1");
        assert!(f.relationships[0].body().get("$dtId").is_none());
    }

    #[test]
    fn blob_uris_name_job_files() {
        assert_eq!(file_of("in.ndjson").unwrap(), "in.ndjson");
        assert_eq!(
            file_of("https://host/jobs/files/in.ndjson?sig=x").unwrap(),
            "in.ndjson"
        );
        assert!(file_of("../etc/passwd").is_err());
        assert!(file_of("invalidUri/x").is_err());
        assert_eq!(
            job_time(Timestamp::parse("2023-05-31T22:17:55.1753610Z").unwrap()),
            "2023-05-31T22:17:55.175361Z"
        );
    }
}
