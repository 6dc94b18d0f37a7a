//! `/eventroutes`: routes from twin changes to endpoints (delivery is the
//! events pipeline's work).

use super::{Params, State, api_version, json_body, list_page, page_state};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value as Json;
use twinscape_core::EventRoute;
use twinscape_protocol::ErrorCode;

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::EventRouteNotFound,
        format!("There is no event route with id {id}."),
    )
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 50
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub async fn list(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let params = params.0;
    let page = page_state(&params, &headers, 100, Json::Null)?;
    let items: Vec<Json> = state
        .world()
        .event_routes()
        .values()
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect();
    Ok(list_page(
        &headers,
        "/eventroutes",
        items,
        &page,
        api_version(&params),
    ))
}

pub async fn get(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let world = state.world();
    world
        .event_routes()
        .get(&id)
        .map(|r| axum::Json(r.clone()).into_response())
        .ok_or_else(|| not_found(&id))
}

pub async fn put(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !valid_id(&id) {
        return Err(ApiError::new(
            ErrorCode::EventRouteIdInvalid,
            format!(
                "The event route id '{id}' is invalid: use 1 to 50 letters, digits, '-' or '_'."
            ),
        ));
    }
    let doc = json_body(&body, 64 * 1024)?;
    let endpoint = doc
        .get("endpointName")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let filter = doc
        .get("filter")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    if endpoint.is_empty() {
        return Err(ApiError::new(
            ErrorCode::EventRouteEndpointInvalid,
            "An event route needs an endpointName.",
        ));
    }
    if filter.trim().is_empty() {
        return Err(ApiError::new(
            ErrorCode::EventRouteFilterInvalid,
            "An event route needs a filter (use 'true' for every event).",
        ));
    }
    if let Err(e) = twinscape_events::Filter::parse(&filter) {
        return Err(ApiError::new(
            ErrorCode::EventRouteFilterInvalid,
            format!(
                "The provided filter is invalid. {e}. See event route documentation for supported values and structure (https://aka.ms/ADTv2Routes)."
            ),
        ));
    }
    let max = state.limits.max_event_routes;
    state
        .write(|txn| {
            let world = txn.world();
            if !world.endpoints().contains_key(&endpoint) {
                return Err(ApiError::new(
                    ErrorCode::EventRouteEndpointInvalid,
                    "The endpoint provided does not exist or is not active. Check that your endpoint is provisioned correctly. See event route documentation (https://aka.ms/ADTv2Routes).",
                ));
            }
            if !world.event_routes().contains_key(&id) && world.event_routes().len() >= max {
                return Err(ApiError::new(
                    ErrorCode::LimitExceeded,
                    format!("An instance can have at most {max} event routes."),
                ));
            }
            txn.put_route(EventRoute {
                id: id.clone(),
                endpoint_name: endpoint.clone(),
                filter: filter.clone(),
            });
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state
        .write(|txn| match txn.delete_route(&id) {
            Some(_) => Ok(()),
            None => Err(not_found(&id)),
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
