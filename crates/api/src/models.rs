//! `/models`: upload, list, get, decommission, delete.

use super::{Params, State, api_version, json_body, list_page, page_state, param};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeSet;
use twinscape_core::{Txn, World};
use twinscape_graph::Timestamp;
use twinscape_protocol::ErrorCode;

/// ADT's `DigitalTwinsModelData` for a registered model.
fn model_data(world: &World, id: &str, include_model: bool) -> Option<Json> {
    let entry = world.engine().registry().get(id)?;
    // ADT's key order: id, description, displayName, decommissioned, uploadTime.
    let mut m = Map::new();
    m.insert("id".into(), json!(entry.id));
    m.insert("description".into(), json!(entry.description));
    m.insert("displayName".into(), json!(entry.display_name));
    m.insert("decommissioned".into(), json!(entry.decommissioned));
    if let Some(t) = world.upload_time(id) {
        m.insert("uploadTime".into(), json!(upload_time_text(t)));
    }
    if include_model {
        m.insert("model".into(), entry.model.clone());
    }
    Some(Json::Object(m))
}

/// ADT writes model upload times with an offset and no trailing zeros:
/// `2023-06-01T20:30:51.597969+00:00`.
pub fn upload_time_text(t: Timestamp) -> String {
    let s = t.to_string();
    let body = s.trim_end_matches('Z');
    let body = match body.split_once('.') {
        Some((secs, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                secs.to_string()
            } else {
                format!("{secs}.{frac}")
            }
        }
        None => body.to_string(),
    };
    format!("{body}+00:00")
}

/// Whether a path's model id is a DTMI at all.
fn check_model_id(id: &str) -> Result<(), ApiError> {
    if twinscape_dtdl::Dtmi::parse(id).is_err() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!(
                "The format of the Model ID {id} provided is not supported. See model documentation(https://aka.ms/ADTv2Models) for supported format."
            ),
        ));
    }
    Ok(())
}

/// `POST /models`
pub async fn add(AxState(state): AxState<State>, body: Bytes) -> Result<Response, ApiError> {
    let doc = json_body(&body, state.limits.max_models_bytes)?;
    let Json::Array(batch) = doc else {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            "The request body must be a JSON array of models.",
        ));
    };
    if batch.is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            "Operation failed as models provided was empty or of a type that is not supported.. Check that your Model Array contains at least one item and it is of a supported type. See link(https://aka.ms/ADTv2Models) for details.",
        ));
    }
    if batch.len() > state.limits.max_models_per_upload {
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!(
                "At most {} models can be uploaded in one request; this one has {}.",
                state.limits.max_models_per_upload,
                batch.len()
            ),
        ));
    }
    let items = state.write(|txn| upload_models(txn, &batch)).await?;
    Ok((StatusCode::CREATED, axum::Json(Json::Array(items))).into_response())
}

/// Registers a batch of models (all or nothing); ADT's model data of each.
pub fn upload_models(txn: &mut Txn<'_>, batch: &[Json]) -> Result<Vec<Json>, ApiError> {
    let ids = txn.add_models(batch)?;
    Ok(ids
        .iter()
        .filter_map(|id| model_data(txn.world(), id, false))
        .collect())
}

fn model_not_found(id: &str) -> ApiError {
    twinscape_dtdl::RegistryError::NotFound(id.to_string()).into()
}

/// `GET /models?dependenciesFor=…&includeModelDefinition=…`
pub async fn list(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, ApiError> {
    let params = params.0;
    let deps: Vec<String> = params
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("dependenciesFor"))
        .map(|(_, v)| v.clone())
        .collect();
    let include =
        param(&params, "includeModelDefinition").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let page = page_state(
        &params,
        &headers,
        state.limits.max_models_page,
        json!({"deps": deps, "include": include}),
    )?;
    let deps: Vec<String> = serde_json::from_value(page.extra["deps"].clone()).unwrap_or_default();
    let include = page.extra["include"].as_bool().unwrap_or(false);
    let world = state.world();
    let registry = world.engine().registry();
    let mut ids: Vec<String> = if deps.is_empty() {
        registry.models().map(|m| m.id.clone()).collect()
    } else {
        // The named models and everything they depend on, transitively.
        let mut seen = BTreeSet::new();
        let mut stack = Vec::new();
        for d in &deps {
            if registry.get(d).is_none() {
                return Err(model_not_found(d));
            }
            stack.push(d.clone());
        }
        while let Some(id) = stack.pop() {
            if seen.insert(id.clone())
                && let Some(e) = registry.get(&id)
            {
                stack.extend(e.dependencies.iter().cloned());
            }
        }
        seen.into_iter().collect()
    };
    // Upload order, as ADT lists them.
    ids.sort_by_key(|id| (world.upload_time(id), id.clone()));
    let items: Vec<Json> = ids
        .iter()
        .filter_map(|id| model_data(&world, id, include))
        .collect();
    Ok(list_page(
        &headers,
        "/models",
        items,
        &page,
        api_version(&params),
    ))
}

/// `GET /models/{id}?includeModelDefinition=…`
pub async fn get(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    check_model_id(&id)?;
    let include =
        param(&params.0, "includeModelDefinition").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let world = state.world();
    model_data(&world, &id, include)
        .map(|d| axum::Json(d).into_response())
        .ok_or_else(|| model_not_found(&id))
}

/// `PATCH /models/{id}`: only `[{"op":"replace","path":"/decommissioned","value":true}]`.
pub async fn update(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_model_id(&id)?;
    let patch = json_body(&body, state.limits.max_twin_bytes)?;
    let ops = patch.as_array().ok_or_else(|| {
        ApiError::new(
            ErrorCode::JsonPatchInvalid,
            "A JSON Patch is an array of operations.",
        )
    })?;
    let valid = !ops.is_empty()
        && ops.iter().all(|op| {
            op.get("op").and_then(Json::as_str) == Some("replace")
                && op.get("path").and_then(Json::as_str) == Some("/decommissioned")
                && op.get("value") == Some(&Json::Bool(true))
        });
    if !valid {
        return Err(ApiError::new(
            ErrorCode::JsonPatchInvalid,
            "Only [{\"op\": \"replace\", \"path\": \"/decommissioned\", \"value\": true}] can be applied to a model.",
        ));
    }
    state.write(|txn| txn.decommission_model(&id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /models/{id}`
pub async fn delete(
    AxState(state): AxState<State>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    check_model_id(&id)?;
    state.write(|txn| txn.delete_model(&id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
