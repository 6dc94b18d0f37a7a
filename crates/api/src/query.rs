//! `POST /query`

use super::{State, json_body, page_size_header};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use twinscape_engine::QueryOptions;
use twinscape_protocol::ErrorCode;

/// Largest query request body.
const MAX_QUERY_BODY: usize = 64 * 1024;

pub async fn query(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let spec = json_body(&body, MAX_QUERY_BODY)?;
    let text = spec
        .get("query")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let continuation = spec
        .get("continuationToken")
        .and_then(Json::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    if text.trim().is_empty() && continuation.is_none() {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "The request must give a query (\"query\") or a continuation token.",
        ));
    }
    let options = QueryOptions {
        page_size: page_size_header(&headers)?,
        continuation,
    };
    // Rows are written straight to JSON text under the read lock.
    let page = {
        let world = state.world();
        world.engine().query_json(&text, &options)?
    };
    let mut body = Vec::with_capacity(page.items.len() + 64);
    body.extend_from_slice(b"{\"value\":");
    body.extend_from_slice(&page.items);
    body.extend_from_slice(b",\"continuationToken\":");
    body.extend_from_slice(json!(page.continuation).to_string().as_bytes());
    body.push(b'}');
    let charge = HeaderValue::from_str(&format!("{:.2}", page.charge))
        .unwrap_or_else(|_| HeaderValue::from_static("1"));
    Ok((
        [
            ("query-charge", charge),
            ("content-type", HeaderValue::from_static("application/json")),
        ],
        body,
    )
        .into_response())
}
