//! `/endpoints`: where event routes deliver (webhook, MQTT, NATS). ADT
//! manages endpoints in its control plane; Twinscape serves them beside the
//! routes, in the data plane's style (api-version, ADT error bodies).
//!
//! `PUT /endpoints/{name}` creates or replaces (200, the endpoint);
//! `GET /endpoints/{name}` adds the delivery `status`; `GET /endpoints`
//! lists; `DELETE /endpoints/{name}` (204) is refused while routes use the
//! endpoint (409 `EndpointInUse`). Dead letters: `GET` and `DELETE`
//! `/endpoints/{name}/deadletters`.

use super::{Params, State, api_version, json_body, list_page, page_state};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use twinscape_events::{Endpoint, endpoint};
use twinscape_protocol::ErrorCode;

/// Most endpoints per instance (ADT's limit).
pub const MAX_ENDPOINTS: usize = 6;

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::EndpointNotFound,
        format!("There is no endpoint named {name}. List the endpoints with GET /endpoints."),
    )
}

/// The endpoint called `name`, or ADT's not-found error.
fn endpoint_named(state: &State, name: &str) -> Result<Endpoint, ApiError> {
    state
        .world()
        .endpoints()
        .get(name)
        .cloned()
        .ok_or_else(|| not_found(name))
}

fn with_status(state: &State, e: &Endpoint) -> Json {
    let mut v = e.to_json();
    let status = state.events.status(&e.name).unwrap_or_default().to_json();
    if let Some(m) = v.as_object_mut() {
        m.insert("status".into(), status);
    }
    v
}

pub async fn list(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let params = params.0;
    let page = page_state(&params, &headers, 100, Json::Null)?;
    let endpoints: Vec<Endpoint> = state.world().endpoints().values().cloned().collect();
    let items = endpoints.iter().map(|e| with_status(&state, e)).collect();
    Ok(list_page(
        &headers,
        "/endpoints",
        items,
        &page,
        api_version(&params),
    ))
}

pub async fn get(
    AxState(state): AxState<State>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let endpoint = endpoint_named(&state, &name)?;
    Ok(axum::Json(with_status(&state, &endpoint)).into_response())
}

pub async fn put(
    AxState(state): AxState<State>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !endpoint::valid_name(&name) {
        return Err(ApiError::new(
            ErrorCode::EndpointInvalid,
            format!(
                "The endpoint name '{name}' is invalid: use 1 to 50 letters, digits, '-' or '_'."
            ),
        ));
    }
    let doc = json_body(&body, 64 * 1024)?;
    // Validated now; `since` is set under the lock.
    let parsed = Endpoint::from_json(&name, 0, &doc)
        .map_err(|e| ApiError::new(ErrorCode::EndpointInvalid, e.0))?;
    let endpoint = state
        .write(|txn| {
            let world = txn.world();
            if !world.endpoints().contains_key(&name) && world.endpoints().len() >= MAX_ENDPOINTS {
                return Err(ApiError::new(
                    ErrorCode::LimitExceeded,
                    format!("An instance can have at most {MAX_ENDPOINTS} endpoints."),
                ));
            }
            Ok(txn.put_endpoint(&name, parsed))
        })
        .await?;
    Ok((StatusCode::OK, axum::Json(with_status(&state, &endpoint))).into_response())
}

pub async fn delete(
    AxState(state): AxState<State>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    state
        .write(|txn| {
            let world = txn.world();
            if !world.endpoints().contains_key(&name) {
                return Err(not_found(&name));
            }
            let users: Vec<&str> = world
                .event_routes()
                .values()
                .filter(|r| r.endpoint_name == name)
                .map(|r| r.id.as_str())
                .collect();
            if !users.is_empty() {
                return Err(ApiError::new(
                    ErrorCode::EndpointInUse,
                    format!(
                        "The endpoint {name} is used by the event route(s) {}. Delete those routes or point them to another endpoint first.",
                        users.join(", ")
                    ),
                ));
            }
            // Its cursor and dead letters go with it (the dispatcher deletes them).
            txn.delete_endpoint(&name);
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /endpoints/{name}/deadletters`: events that exhausted their
/// retries, oldest first, each `{seq, time, attempts, error, routes, event}`.
pub async fn dead_letters(
    AxState(state): AxState<State>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let endpoint = endpoint_named(&state, &name)?;
    let store = state.store.clone();
    let items = tokio::task::spawn_blocking(move || {
        twinscape_events::dispatcher::dead_letters(&*store, &endpoint)
    })
    .await
    .map_err(|e| ApiError::new(ErrorCode::InternalServerError, e.to_string()))?
    .map_err(|e| {
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            format!("The dead letters could not be read: {e}"),
        )
    })?;
    Ok(axum::Json(json!({ "value": items, "nextLink": null })).into_response())
}

/// `DELETE /endpoints/{name}/deadletters`: forgets them (204).
pub async fn purge_dead_letters(
    AxState(state): AxState<State>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let endpoint = endpoint_named(&state, &name)?;
    twinscape_events::dispatcher::purge_dead_letters(state.store.clone(), &endpoint)
        .await
        .map_err(|e| {
            ApiError::new(
                ErrorCode::ServiceUnavailable,
                format!("The dead letters could not be deleted: {e}"),
            )
        })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
