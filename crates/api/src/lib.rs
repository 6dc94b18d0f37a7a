//! ADT's data plane (api-version 2023-10-31): models, twins, components,
//! relationships, telemetry, query, event routes, endpoints and bulk jobs, in
//! ADT's shapes, codes and messages (`docs/adt-api.md`,
//! `docs/adt-recorded-behaviour.md`), plus the 3D files under `/3d/`.
//!
//! Owns: the axum handlers, paging and continuation links, [`ApiError`]
//! (the one place errors become ADT's `{"error":{"code","message"}}` with
//! its HTTP status). Must not: change the world except through
//! `twinscape_core::Txn` (via `AppState::write`); hold engine logic.

pub mod assets;
mod endpoints;
mod error;
mod jobs;
mod models;
mod query;
mod routes;
pub mod scenes;
mod twins;

pub use error::ApiError;
pub use models::upload_time_text;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query as UrlQuery, Request};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::Value as Json;
use std::sync::Arc;
use twinscape_core::AppState;
use twinscape_graph::Precondition;
use twinscape_protocol::ErrorCode;

/// API versions this server answers (ADT's stable ones and recent previews).
pub const API_VERSIONS: &[&str] = &[
    "2020-10-31",
    "2021-06-30-preview",
    "2022-05-31",
    "2023-06-30",
    "2023-07-31-preview",
    "2023-10-31",
];

pub type State = Arc<AppState>;

pub fn router(state: State) -> Router {
    Router::new()
        .route("/models", get(models::list).post(models::add))
        .route(
            "/models/{id}",
            get(models::get)
                .patch(models::update)
                .delete(models::delete),
        )
        .route(
            "/digitaltwins/{id}",
            get(twins::get)
                .put(twins::put)
                .patch(twins::patch)
                .delete(twins::delete),
        )
        .route(
            "/digitaltwins/{id}/components/{component}",
            get(twins::get_component).patch(twins::patch_component),
        )
        .route(
            "/digitaltwins/{id}/components/{component}/telemetry",
            post(twins::component_telemetry),
        )
        .route("/digitaltwins/{id}/telemetry", post(twins::telemetry))
        .route(
            "/digitaltwins/{id}/relationships",
            get(twins::list_relationships),
        )
        .route(
            "/digitaltwins/{id}/relationships/{rel}",
            get(twins::get_relationship)
                .put(twins::put_relationship)
                .patch(twins::patch_relationship)
                .delete(twins::delete_relationship),
        )
        .route(
            "/digitaltwins/{id}/incomingrelationships",
            get(twins::list_incoming),
        )
        .route("/query", post(query::query))
        .route("/jobs/imports", get(jobs::list_imports))
        .route(
            "/jobs/imports/{id}",
            get(jobs::get_import)
                .put(jobs::put_import)
                .delete(jobs::delete_import),
        )
        .route("/jobs/imports/{id}/cancel", post(jobs::cancel_import))
        .route(
            "/jobs/deletions",
            get(jobs::list_deletions).post(jobs::start_deletion),
        )
        .route("/jobs/deletions/{id}", get(jobs::get_deletion))
        // ADT's spec also names the path `/jobs/delete`.
        .route(
            "/jobs/delete",
            get(jobs::list_deletions).post(jobs::start_deletion),
        )
        .route("/jobs/delete/{id}", get(jobs::get_deletion))
        .route(
            "/jobs/files/{name}",
            get(jobs::get_file)
                .put(jobs::put_file)
                .layer(axum::extract::DefaultBodyLimit::max(512 * 1024 * 1024)),
        )
        .route("/eventroutes", get(routes::list))
        .route(
            "/eventroutes/{id}",
            get(routes::get).put(routes::put).delete(routes::delete),
        )
        .route("/endpoints", get(endpoints::list))
        .route(
            "/endpoints/{name}",
            get(endpoints::get)
                .put(endpoints::put)
                .delete(endpoints::delete),
        )
        .route(
            "/endpoints/{name}/deadletters",
            get(endpoints::dead_letters).delete(endpoints::purge_dead_letters),
        )
        // Notifications continue the trace of the request that caused them.
        .layer(middleware::from_fn(trace_context))
        .layer(middleware::from_fn(require_api_version))
        .with_state(state)
}

/// The `/scenes` API (see [`scenes`]), apart from [`router`]: the browser
/// app's pages share its paths (a request with `api-version` is an API
/// call, one without is the page), so the server puts it in front of them
/// (with the server's own 404/405 answers as its fallbacks).
pub fn scenes_router(state: State) -> Router {
    Router::new()
        .route("/scenes", get(scenes::list))
        .route(
            "/scenes/{id}",
            get(scenes::get)
                .put(scenes::put)
                .post(scenes::post)
                .delete(scenes::delete),
        )
        .route("/scenes/{id}/states", get(scenes::states))
        .layer(middleware::from_fn(trace_context))
        .layer(middleware::from_fn(require_api_version))
        .with_state(state)
}

/// Runs each request in its trace context: notifications it causes carry its
/// `traceparent`'s trace id (or a new trace's).
async fn trace_context(req: Request, next: Next) -> Response {
    let parent = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(twinscape_events::trace::TraceParent::parse);
    twinscape_events::trace::scope(parent, next.run(req)).await
}

async fn require_api_version(req: Request, next: Next) -> Response {
    let version = req.uri().query().and_then(|q| {
        url_pairs(q)
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("api-version"))
            .map(|(_, v)| v)
    });
    match version {
        None => ApiError::new(
            ErrorCode::MissingApiVersionParameter,
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
        .into_response(),
        Some(v) if !API_VERSIONS.contains(&v.as_str()) => ApiError::new(
            ErrorCode::InvalidApiVersionParameter,
            format!(
                "The api-version '{v}' is invalid. The supported versions are '{}'.",
                API_VERSIONS.join(",")
            ),
        )
        .into_response(),
        Some(_) => next.run(req).await,
    }
}

/// Decoded `key=value` pairs of a query string, in order (repeats kept).
pub fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `If-Match` / `If-None-Match` precondition of a request.
pub fn precondition(headers: &HeaderMap) -> Precondition {
    let h = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    Precondition::from_headers(h(header::IF_MATCH), h(header::IF_NONE_MATCH))
}

/// Parses a JSON request body no larger than `max` bytes.
pub fn json_body(body: &Bytes, max: usize) -> Result<Json, ApiError> {
    if body.len() > max {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "The request body is {} bytes; the limit is {max} bytes.",
                body.len()
            ),
        ));
    }
    if body.is_empty() {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "A non-empty request body is required.",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidArgument,
            format!("The request body is not valid JSON: {e}."),
        )
    })
}

/// FNV-1a (64-bit) of `bytes`: the content hash behind the ETags of scenes
/// and 3D files (equal content, equal tag; any change, a new one).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `ETag: <etag>` header value.
pub fn etag_header(etag: &str) -> [(header::HeaderName, HeaderValue); 1] {
    [(
        header::ETAG,
        HeaderValue::from_str(etag).unwrap_or_else(|_| HeaderValue::from_static("")),
    )]
}

/// The value of `max-items-per-page`, if sent.
pub fn page_size_header(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    match headers.get("max-items-per-page") {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidArgument,
                    "max-items-per-page must be an integer.",
                )
            }),
    }
}

/// Paging state of a GET list, carried in its `nextLink`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PageState {
    /// Items already returned.
    pub offset: usize,
    /// Page size.
    pub size: usize,
    /// Filters of the first request (e.g. `dependenciesFor`).
    #[serde(default)]
    pub extra: Json,
}

pub fn encode_page_state(state: &PageState) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(state).unwrap_or_default())
}

pub fn decode_page_state(token: &str) -> Result<PageState, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::BadRequest,
                "The continuation token in the link is not valid.",
            )
        })
}

/// The absolute URL of `path_and_query` on the server the client called.
pub fn absolute_link(headers: &HeaderMap, path_and_query: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    // A TLS listener sets `x-forwarded-proto: https` on what it receives.
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("http");
    format!("{scheme}://{host}{path_and_query}")
}

/// A page of a list: `{value, nextLink}`.
pub fn list_page(
    headers: &HeaderMap,
    path: &str,
    items: Vec<Json>,
    state: &PageState,
    api_version: &str,
) -> Response {
    list_page_ordered(headers, path, items, state, api_version, false)
}

/// A page of a list; `next_link_first` puts `nextLink` before `value`, as
/// ADT's relationship lists do.
pub fn list_page_ordered(
    headers: &HeaderMap,
    path: &str,
    items: Vec<Json>,
    state: &PageState,
    api_version: &str,
    next_link_first: bool,
) -> Response {
    let total = items.len();
    let page: Vec<Json> = items
        .into_iter()
        .skip(state.offset)
        .take(state.size)
        .collect();
    let next = state.offset + page.len();
    let link = if next < total {
        let token = encode_page_state(&PageState {
            offset: next,
            size: state.size,
            extra: state.extra.clone(),
        });
        Json::String(absolute_link(
            headers,
            &format!("{path}?continuationToken={token}&api-version={api_version}"),
        ))
    } else {
        Json::Null
    };
    let mut body = serde_json::Map::new();
    if next_link_first {
        body.insert("nextLink".into(), link);
        body.insert("value".into(), Json::Array(page));
    } else {
        body.insert("value".into(), Json::Array(page));
        body.insert("nextLink".into(), link);
    }
    axum::Json(Json::Object(body)).into_response()
}

/// Query parameters as a multi-map.
pub type Params = UrlQuery<Vec<(String, String)>>;

pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

pub fn api_version(params: &[(String, String)]) -> &str {
    param(params, "api-version").unwrap_or("2023-10-31")
}

/// Page state from a `continuationToken` parameter, or a fresh one.
pub fn page_state(
    params: &[(String, String)],
    headers: &HeaderMap,
    max: usize,
    extra: Json,
) -> Result<PageState, ApiError> {
    if let Some(token) = param(params, "continuationToken") {
        return decode_page_state(token);
    }
    let size = match page_size_header(headers)? {
        None => max,
        Some(n) if n < 1 => {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("max-items-per-page must be from 1 to {max}."),
            ));
        }
        Some(n) => (n as usize).min(max),
    };
    Ok(PageState {
        offset: 0,
        size,
        extra,
    })
}
