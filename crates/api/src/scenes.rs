//! `/scenes`: the 3D scenes, in 3D Scenes Studio's configuration format
//! (`twinscape-scene`), stored with the twins through the one write path.
//!
//! - `GET /scenes`: `{"value": [scene, …], "nextLink": null}`, each scene an
//!   `IScene` as the configuration holds it.
//! - `GET | PUT | DELETE /scenes/{id}`: one scene, with an `ETag` and
//!   `If-Match` / `If-None-Match`. A PUT body is the `IScene`, or a whole
//!   configuration holding that scene: its behaviors and layers are then
//!   merged in by id (a builder saves a scene and its rules in one write).
//! - `GET /scenes/$configuration`: the whole configuration (export);
//!   `PUT` replaces it, `POST` merges one in by id (import).
//! - `GET /scenes/{id}/states?layers=ID,…`: the scene evaluated on the
//!   current twins, one state per (element, behavior, expression visual).
//!
//! A configuration that breaks Scenes Studio's schema is refused with every
//! problem and its JSON pointer in `error.details`, and nothing changes;
//! consistency problems Scenes Studio tolerates (a behavior naming a missing
//! element) are stored as they are.

use super::{Params, State, etag_header, json_body, param};
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use twinscape_protocol::ErrorCode;
use twinscape_scene::config::{self, ConfigErrors, Scene, ScenesConfig};
use twinscape_scene::{SceneEvaluator, Twins};

/// The `{id}` of a `/scenes/{id}…` path. Read by name: the server routes
/// `/scenes/{*rest}` to this router (shared with the app's pages), so the
/// request carries that capture too.
pub struct SceneId(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for SceneId {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::new(ErrorCode::BadRequest, e.body_text()))?;
        params
            .get("id")
            .cloned()
            .map(SceneId)
            .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "The path names no scene."))
    }
}

/// The path segment of the whole configuration (no scene id starts with `$`).
pub const CONFIGURATION: &str = "$configuration";

/// Largest configuration body accepted.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A weak ETag from the content (FNV-1a over the JSON text): any change to
/// what it covers changes it, and equal content has equal tags.
pub fn content_etag(value: &Json) -> String {
    let text = serde_json::to_vec(value).unwrap_or_default();
    format!("W/\"{:016x}\"", crate::fnv1a(&text))
}

fn scene_json(scene: &Scene) -> Json {
    serde_json::to_value(scene).unwrap_or(Json::Null)
}

/// A scene's ETag: its content and its behaviors', so that a builder saving
/// a scene with its rules sees another save of either as a change.
fn scene_etag(config: &ScenesConfig, scene: &Scene) -> String {
    let behaviors: Vec<Json> = config
        .scene_behaviors(scene, None)
        .into_iter()
        .map(|b| serde_json::to_value(b).unwrap_or(Json::Null))
        .collect();
    content_etag(&json!([scene_json(scene), behaviors]))
}

fn scene_not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorCode::SceneNotFound,
        format!("There is no scene with id '{id}'."),
    )
}

fn invalid(errors: ConfigErrors, strip: &str) -> ApiError {
    let n = errors.0.len();
    let details = errors
        .0
        .into_iter()
        .map(|mut e| {
            if let Some(rest) = e.path.strip_prefix(strip) {
                e.path = rest.to_string();
            }
            e.to_string()
        })
        .collect();
    ApiError {
        code: ErrorCode::ValidationFailed,
        message: format!(
            "The scene configuration is not valid ({n} problem{}); each is in details with its JSON pointer.",
            if n == 1 { "" } else { "s" }
        ),
        details,
    }
}

/// Checks a precondition against the current ETag (`None`: absent).
fn check_precondition(headers: &HeaderMap, current: Option<&str>) -> Result<(), ApiError> {
    let h = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let failed = |message: &str| Err(ApiError::new(ErrorCode::PreconditionFailed, message));
    if h(header::IF_NONE_MATCH) == Some("*") && current.is_some() {
        return failed("The scene already exists (If-None-Match: *).");
    }
    match (h(header::IF_MATCH), current) {
        (None, _) | (Some(""), _) => Ok(()),
        (Some(_), None) => failed("The scene does not exist (If-Match)."),
        (Some("*"), Some(_)) => Ok(()),
        (Some(tag), Some(now)) if tag == now => Ok(()),
        (Some(_), Some(_)) => failed("The scene has changed: its ETag no longer matches If-Match."),
    }
}

/// Merges `incoming` into `base` by id: items with an id already present
/// replace it in place, new ones are appended in their order. Merging into
/// an empty configuration gives `incoming` unchanged.
pub fn merge(base: &ScenesConfig, incoming: ScenesConfig) -> ScenesConfig {
    let b = &base.configuration;
    if b.scenes.is_empty() && b.behaviors.is_empty() && b.layers.is_empty() {
        return incoming;
    }
    fn upsert<T>(into: &mut Vec<T>, items: Vec<T>, id: impl Fn(&T) -> &str) {
        for item in items {
            match into.iter().position(|x| id(x) == id(&item)) {
                Some(i) => into[i] = item,
                None => into.push(item),
            }
        }
    }
    let mut out = base.clone();
    let c = incoming.configuration;
    upsert(&mut out.configuration.scenes, c.scenes, |s| &s.id);
    upsert(&mut out.configuration.behaviors, c.behaviors, |b| &b.id);
    upsert(&mut out.configuration.layers, c.layers, |l| &l.id);
    out.configuration.extra.extend(c.extra);
    out.extra.extend(incoming.extra);
    out
}

/// Reads a configuration body, refusing schema problems; `strip` is the
/// pointer prefix of a bare scene wrapped in a configuration, so that its
/// problems are reported relative to the scene.
fn read_config(value: &Json, strip: &str) -> Result<ScenesConfig, ApiError> {
    config::from_value(value).map_err(|e| invalid(e, strip))
}

/// `GET /scenes`
pub async fn list(AxState(state): AxState<State>) -> Response {
    let world = state.world();
    let value: Vec<Json> = world
        .scenes()
        .configuration
        .scenes
        .iter()
        .map(scene_json)
        .collect();
    axum::Json(json!({ "value": value, "nextLink": null })).into_response()
}

/// `GET /scenes/{id}`
pub async fn get(
    AxState(state): AxState<State>,
    SceneId(id): SceneId,
) -> Result<Response, ApiError> {
    if id == CONFIGURATION {
        let value = config::to_json(state.world().scenes());
        let etag = content_etag(&value);
        return Ok((etag_header(&etag), axum::Json(value)).into_response());
    }
    let (value, etag) = {
        let world = state.world();
        let config = world.scenes();
        let scene = config.scene(&id).ok_or_else(|| scene_not_found(&id))?;
        (scene_json(scene), scene_etag(config, scene))
    };
    Ok((etag_header(&etag), axum::Json(value)).into_response())
}

/// `PUT /scenes/{id}`
pub async fn put(
    AxState(state): AxState<State>,
    SceneId(id): SceneId,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&body, MAX_BODY)?;
    if id == CONFIGURATION {
        let incoming = read_config(&body, "")?;
        return import(state, headers, incoming, false).await;
    }
    if id.is_empty() || id.starts_with('$') {
        return Err(ApiError::new(
            ErrorCode::InvalidArgument,
            format!("'{id}' is not a scene id: scene ids are not empty and do not start with '$'."),
        ));
    }
    let whole = body.get("configuration").is_some();
    let incoming = if whole {
        let incoming = read_config(&body, "")?;
        let ids: Vec<&str> = incoming
            .configuration
            .scenes
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        if ids != [id.as_str()] {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!(
                    "A configuration sent to /scenes/{id} must hold exactly the scene '{id}'; it holds {ids:?}."
                ),
            ));
        }
        incoming
    } else {
        let mut scene = body;
        match scene.get("id") {
            None => {
                if let Some(o) = scene.as_object_mut() {
                    o.insert("id".into(), Json::String(id.clone()));
                }
            }
            Some(Json::String(s)) if *s == id => {}
            Some(other) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidArgument,
                    format!("The scene's id {other} does not match the path's '{id}'."),
                ));
            }
        }
        let wrapped = json!({
            "$schema": config::SCHEMA_URL,
            "configuration": {"scenes": [scene], "behaviors": [], "layers": []},
        });
        read_config(&wrapped, "/configuration/scenes/0")?
    };
    let response = state
        .write(|txn| -> Result<Response, ApiError> {
            let current = txn.world().scenes();
            let before = current.scene(&id).map(|s| scene_etag(current, s));
            check_precondition(&headers, before.as_deref())?;
            let next = merge(current, incoming);
            let value = next.scene(&id).map(scene_json).unwrap_or(Json::Null);
            let etag = next
                .scene(&id)
                .map(|s| scene_etag(&next, s))
                .unwrap_or_default();
            txn.put_scenes(next);
            let status = if before.is_some() {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok((status, etag_header(&etag), axum::Json(value)).into_response())
        })
        .await?;
    Ok(response)
}

/// `POST /scenes/$configuration`: merges a configuration in.
pub async fn post(
    AxState(state): AxState<State>,
    SceneId(id): SceneId,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if id != CONFIGURATION {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("POST is not allowed on /scenes/{id}; use PUT."),
        ));
    }
    let body = json_body(&body, MAX_BODY)?;
    let incoming = read_config(&body, "")?;
    import(state, headers, incoming, true).await
}

async fn import(
    state: State,
    headers: HeaderMap,
    incoming: ScenesConfig,
    merging: bool,
) -> Result<Response, ApiError> {
    state
        .write(|txn| -> Result<Response, ApiError> {
            let current = txn.world().scenes();
            let before = content_etag(&config::to_json(current));
            check_precondition(&headers, Some(&before))?;
            let next = if merging {
                merge(current, incoming)
            } else {
                incoming
            };
            let value = config::to_json(&next);
            let etag = content_etag(&value);
            txn.put_scenes(next);
            Ok((etag_header(&etag), axum::Json(value)).into_response())
        })
        .await
}

/// `DELETE /scenes/{id}` (its behaviors and layers stay, as in Scenes
/// Studio's behavior library).
pub async fn delete(
    AxState(state): AxState<State>,
    SceneId(id): SceneId,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state
        .write(|txn| -> Result<Response, ApiError> {
            let current = txn.world().scenes();
            let before = current
                .scene(&id)
                .map(|s| scene_etag(current, s))
                .ok_or_else(|| scene_not_found(&id))?;
            check_precondition(&headers, Some(&before))?;
            let mut next = current.clone();
            next.configuration.scenes.retain(|s| s.id != id);
            txn.put_scenes(next);
            Ok(StatusCode::NO_CONTENT.into_response())
        })
        .await
}

/// Twins read for one evaluation, copied out under the read lock.
struct Copied(HashMap<String, Json>);

impl Twins for Copied {
    fn twin(&self, id: &str) -> Option<&Json> {
        self.0.get(id)
    }
}

/// `GET /scenes/{id}/states?layers=ID,…`
pub async fn states(
    AxState(state): AxState<State>,
    SceneId(id): SceneId,
    params: Params,
) -> Result<Response, ApiError> {
    let layers: Option<Vec<String>> = param(&params, "layers").map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    });
    let (evaluator, twins) = {
        let world = state.world();
        let scenes = world.scenes();
        let names: Option<Vec<&str>> = layers
            .as_ref()
            .map(|l| l.iter().map(String::as_str).collect());
        if let Some(names) = &names
            && let Some(unknown) = names
                .iter()
                .find(|n| **n != twinscape_scene::DEFAULT_LAYER_ID && scenes.layer(n).is_none())
        {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("There is no layer with id '{unknown}'."),
            ));
        }
        let evaluator = SceneEvaluator::new(scenes, &id, names.as_deref())
            .ok_or_else(|| scene_not_found(&id))?;
        let graph = world.engine().graph();
        let twins: HashMap<String, Json> = evaluator
            .twin_ids()
            .filter_map(|t| Some((t.to_string(), graph.twin_json(t)?)))
            .collect();
        (evaluator, Copied(twins))
    };
    let states = evaluator.evaluate(&twins);
    Ok(axum::Json(json!({ "value": states })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_etags_follow_content() {
        let a = content_etag(&json!({"id": "a"}));
        assert_eq!(a, content_etag(&json!({"id": "a"})));
        assert_ne!(a, content_etag(&json!({"id": "b"})));
        assert!(a.starts_with("W/\"") && a.ends_with('"') && a.len() == 20);
    }

    fn with(scenes: &[&str], behaviors: &[&str]) -> ScenesConfig {
        let value = json!({
            "$schema": config::SCHEMA_URL,
            "configuration": {
                "scenes": scenes.iter().map(|id| json!({
                    "id": id, "displayName": format!("scene {id}"), "assets": [],
                    "elements": [], "behaviorIDs": []
                })).collect::<Vec<_>>(),
                "behaviors": behaviors.iter().map(|id| json!({
                    "id": id, "displayName": id, "datasources": [], "visuals": []
                })).collect::<Vec<_>>(),
                "layers": []
            }
        });
        config::from_value(&value).expect("valid")
    }

    #[test]
    fn merge_replaces_by_id_in_place_and_appends_new_items() {
        let base = with(&["a", "b"], &["x"]);
        let mut incoming = with(&["b", "c"], &["y"]);
        incoming.configuration.scenes[0].display_name = "new b".into();
        let merged = merge(&base, incoming);
        let ids: Vec<&str> = merged
            .configuration
            .scenes
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(merged.configuration.scenes[1].display_name, "new b");
        assert_eq!(merged.configuration.behaviors.len(), 2);
    }

    #[test]
    fn merging_into_nothing_keeps_the_import_exactly() {
        let incoming = with(&["a"], &["x"]);
        let merged = merge(&ScenesConfig::new(), incoming.clone());
        assert_eq!(config::to_json(&merged), config::to_json(&incoming));
    }
}
