//! `/digitaltwins`: twins, components, relationships and telemetry.

use super::{
    Params, State, absolute_link, api_version, etag_header, json_body, list_page_ordered,
    page_size_header, page_state, param, precondition,
};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use twinscape_core::{CoreError, TelemetryIn};
use twinscape_graph::{Change, ChangeKind, GraphError};
use twinscape_protocol::ErrorCode;
use twinscape_protocol::routes::segment_encode;

/// Relationships per page (ADT's default; `max-items-per-page` may ask for up to 1,000).
const RELATIONSHIPS_PAGE: usize = 10;

fn after_etag(change: &Change) -> String {
    match &change.kind {
        ChangeKind::TwinCreated { twin, .. } | ChangeKind::TwinUpdated { twin, .. } => twin
            .get("$etag")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        ChangeKind::RelationshipCreated { relationship, .. }
        | ChangeKind::RelationshipUpdated { relationship, .. } => relationship
            .get("$etag")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

fn document(change: &Change) -> Json {
    match &change.kind {
        ChangeKind::TwinCreated { twin, .. } | ChangeKind::TwinUpdated { twin, .. } => twin.clone(),
        ChangeKind::RelationshipCreated { relationship, .. }
        | ChangeKind::RelationshipUpdated { relationship, .. } => relationship.clone(),
        _ => Json::Null,
    }
}

fn twin_not_found(id: &str) -> ApiError {
    GraphError::TwinNotFound(id.to_string()).into()
}

/// `GET /digitaltwins/{id}`
pub async fn get(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    // Written straight to JSON text under the read lock.
    let mut body = Vec::with_capacity(512);
    let etag = {
        let world = state.world();
        let graph = world.engine().graph();
        let etag = graph
            .twin(&id)
            .map(|t| t.etag.to_string())
            .ok_or_else(|| twin_not_found(&id))?;
        graph.write_twin_json(&id, &mut body);
        etag
    };
    let mut resp = (etag_header(&etag), body).into_response();
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

/// `PUT /digitaltwins/{id}`
pub async fn put(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let doc = json_body(&body, state.limits.max_twin_bytes)?;
    if !doc.is_object() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            "Payload is invalid.",
        ));
    }
    let pre = precondition(&headers);
    let change = state
        .write(|txn| txn.create_or_replace_twin(&id, &doc, &pre))
        .await?;
    Ok((
        StatusCode::OK,
        etag_header(&after_etag(&change)),
        axum::Json(document(&change)),
    )
        .into_response())
}

/// `PATCH /digitaltwins/{id}`
pub async fn patch(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let patch = json_body(&body, state.limits.max_twin_bytes)?;
    let pre = precondition(&headers);
    let change = state
        .write(|txn| txn.update_twin(&id, &patch, &pre))
        .await?;
    Ok((StatusCode::NO_CONTENT, etag_header(&after_etag(&change))).into_response())
}

/// `DELETE /digitaltwins/{id}`
pub async fn delete(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pre = precondition(&headers);
    state
        .write(|txn| txn.delete_twin(&id, &pre).map(|_| ()))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /digitaltwins/{id}/components/{component}`
pub async fn get_component(
    AxState(state): AxState<State>,
    Path((id, component)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let world = state.world();
    let graph = world.engine().graph();
    let etag = graph
        .twin(&id)
        .map(|t| t.etag.to_string())
        .ok_or_else(|| twin_not_found(&id))?;
    let comp = graph.component_json(&id, &component)?;
    Ok((etag_header(&etag), axum::Json(comp)).into_response())
}

/// `PATCH /digitaltwins/{id}/components/{component}`
pub async fn patch_component(
    AxState(state): AxState<State>,
    Path((id, component)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let patch = json_body(&body, state.limits.max_twin_bytes)?;
    let pre = precondition(&headers);
    let change = state
        .write(|txn| {
            txn.update_component(&id, &component, &patch, &pre)
                .map_err(|e| match e {
                    // ADT answers a patch of a missing component as an invalid patch.
                    CoreError::Graph(GraphError::ComponentNotFound { .. }) => ApiError::new(
                        ErrorCode::JsonPatchInvalid,
                        format!("/{component} was not found. Please provide a valid patch document. See section on update apis in the documentation https://aka.ms/adtv2twins."),
                    ),
                    other => other.into(),
                })
        })
        .await?;
    Ok((StatusCode::NO_CONTENT, etag_header(&after_etag(&change))).into_response())
}

/// Telemetry's headers and body, checked for shape; then handed to the
/// state (`AppState::telemetry`: no write lock, published on the live feed).
async fn take_telemetry(
    state: &State,
    id: &str,
    component: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(), ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let message_id = header("message-id").unwrap_or("");
    if message_id.trim().is_empty() {
        return Err(CoreError::MissingMessageId.into());
    }
    let source_time = match header("telemetry-source-time") {
        None => None,
        Some(t) => Some(twinscape_graph::Timestamp::parse(t).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                "Telemetry-Source-Time must be an RFC 3339 date-time.",
            )
        })?),
    };
    let payload = json_body(body, state.limits.max_twin_bytes)?;
    // The event is durable before the client hears 204 (crates/events delivers it).
    state
        .telemetry(TelemetryIn {
            twin_id: id,
            component,
            message_id,
            source_time,
            payload,
        })
        .await?;
    Ok(())
}

/// `POST /digitaltwins/{id}/telemetry`
pub async fn telemetry(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    take_telemetry(&state, &id, None, &headers, &body).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /digitaltwins/{id}/components/{component}/telemetry`
pub async fn component_telemetry(
    AxState(state): AxState<State>,
    Path((id, component)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    take_telemetry(&state, &id, Some(&component), &headers, &body).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ----- relationships --------------------------------------------------------

/// `GET /digitaltwins/{id}/relationships/{rel}`
pub async fn get_relationship(
    AxState(state): AxState<State>,
    Path((id, rel_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let world = state.world();
    let graph = world.engine().graph();
    if graph.twin(&id).is_none() {
        return Err(twin_not_found(&id));
    }
    let rel = graph.relationship(&id, &rel_id).ok_or_else(|| {
        ApiError::from(GraphError::RelationshipNotFound {
            twin: id.clone(),
            relationship: rel_id.clone(),
        })
    })?;
    let json = graph.relationship_json(rel);
    Ok((etag_header(&rel.etag.to_string()), axum::Json(json)).into_response())
}

/// `PUT /digitaltwins/{id}/relationships/{rel}`
pub async fn put_relationship(
    AxState(state): AxState<State>,
    Path((id, rel_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let doc = json_body(&body, state.limits.max_twin_bytes)?;
    if doc.get("$targetId").and_then(Json::as_str) == Some(id.as_str()) {
        return Err(ApiError::new(
            ErrorCode::OperationNotAllowed,
            "A relationship cannot connect a digital twin to itself.",
        ));
    }
    let pre = precondition(&headers);
    let change = state
        .write(|txn| txn.create_or_replace_relationship(&id, &rel_id, &doc, &pre))
        .await?;
    Ok((
        StatusCode::OK,
        etag_header(&after_etag(&change)),
        axum::Json(document(&change)),
    )
        .into_response())
}

/// `PATCH /digitaltwins/{id}/relationships/{rel}`
pub async fn patch_relationship(
    AxState(state): AxState<State>,
    Path((id, rel_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let patch = json_body(&body, state.limits.max_twin_bytes)?;
    let pre = precondition(&headers);
    let change = state
        .write(|txn| txn.update_relationship(&id, &rel_id, &patch, &pre))
        .await?;
    Ok((StatusCode::NO_CONTENT, etag_header(&after_etag(&change))).into_response())
}

/// `DELETE /digitaltwins/{id}/relationships/{rel}`
pub async fn delete_relationship(
    AxState(state): AxState<State>,
    Path((id, rel_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pre = precondition(&headers);
    state
        .write(|txn| txn.delete_relationship(&id, &rel_id, &pre).map(|_| ()))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /digitaltwins/{id}/relationships[?relationshipName=…]`
pub async fn list_relationships(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let params = params.0;
    let name = param(&params, "relationshipName").map(str::to_string);
    let page = page_state(&params, &headers, 1000, json!({ "name": name }))?;
    let page = default_size(page, &headers);
    let name = page.extra["name"].as_str().map(str::to_string);
    let world = state.world();
    let graph = world.engine().graph();
    let slot = graph.slot_of(&id).ok_or_else(|| twin_not_found(&id))?;
    let syms = graph.symbols();
    let mut rels: Vec<&twinscape_graph::Relationship> = graph
        .outgoing(slot)
        .filter(|r| name.as_deref().is_none_or(|n| syms.name(r.name) == n))
        .collect();
    // ADT pages outgoing relationships in ordinal order of their ids.
    rels.sort_by(|a, b| a.id.cmp(&b.id));
    let items: Vec<Json> = rels
        .into_iter()
        .map(|r| graph.relationship_json(r))
        .collect();
    let path = format!("/digitaltwins/{}/relationships", segment_encode(&id));
    Ok(list_page_ordered(
        &headers,
        &path,
        items,
        &page,
        api_version(&params),
        true,
    ))
}

/// `GET /digitaltwins/{id}/incomingrelationships`
pub async fn list_incoming(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let params = params.0;
    let page = page_state(&params, &headers, 1000, Json::Null)?;
    let page = default_size(page, &headers);
    let version = api_version(&params).to_string();
    let world = state.world();
    let graph = world.engine().graph();
    let slot = graph.slot_of(&id).ok_or_else(|| twin_not_found(&id))?;
    let syms = graph.symbols();
    let items: Vec<Json> = graph
        .incoming(slot)
        .filter_map(|r| {
            let source = graph.twin_at(r.source)?;
            let link = format!(
                "/digitaltwins/{}/relationships/{}?api-version={version}",
                segment_encode(&source.id),
                segment_encode(&r.id)
            );
            Some(json!({
                "$relationshipId": &*r.id,
                "$sourceId": &*source.id,
                "$relationshipName": syms.name(r.name),
                "$relationshipLink": absolute_link(&headers, &link),
            }))
        })
        .collect();
    let path = format!(
        "/digitaltwins/{}/incomingrelationships",
        segment_encode(&id)
    );
    Ok(list_page_ordered(
        &headers, &path, items, &page, &version, true,
    ))
}

/// Relationship lists default to ADT's 10 per page unless the client asked.
fn default_size(mut page: super::PageState, headers: &HeaderMap) -> super::PageState {
    if page.offset == 0 && matches!(page_size_header(headers), Ok(None)) {
        page.size = RELATIONSHIPS_PAGE;
    }
    page
}
