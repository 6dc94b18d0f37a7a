//! The 3D scenes API and the 3D files, in process (`twinscape::http::router`
//! with the app's pages, auth on): storage through the write path, ETags,
//! Scenes Studio import/export unchanged, validation that changes nothing,
//! states over the current twins, the page/API split on `/scenes`, uploads.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;
use twinscape_auth::{Auth, LocalKey, Role};
use twinscape_core::{ApiLimits, AppState, ChangeFeed, CoreError};
use twinscape_engine::EngineConfig;
use twinscape_graph::Precondition;
use twinscape_protocol::live::DeltaOp;
use twinscape_scene::{SceneEvaluator, config};
use twinscape_store::{MemoryStore, Store};

const V: &str = "api-version=2023-10-31";
const INDEX: &str = "<!doctype html><title>app</title>";

struct App {
    router: axum::Router,
    state: Arc<AppState>,
    store: Arc<dyn Store>,
    owner: String,
    reader: String,
    dir: tempfile::TempDir,
}

fn load(store: Arc<dyn Store>, dir: &std::path::Path) -> Arc<AppState> {
    let limits = ApiLimits {
        max_asset_bytes: 64 * 1024,
        ..ApiLimits::default()
    };
    Arc::new(AppState::load(store, EngineConfig::default(), limits, dir.join("jobs")).unwrap())
}

fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), INDEX).unwrap();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let state = load(store.clone(), dir.path());
    let key = LocalKey::load_or_create(dir.path()).unwrap();
    let ttl = std::time::Duration::from_secs(600);
    let owner = key.issue(Role::Owner, "test", ttl).unwrap();
    let reader = key.issue(Role::Reader, "test", ttl).unwrap();
    let auth = Arc::new(Auth::local(key));
    let router = twinscape::http::router(dir.path(), Some(&web), state.clone(), auth);
    App {
        router,
        state,
        store,
        owner,
        reader,
        dir,
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    bytes: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Json {
        serde_json::from_slice(&self.bytes).unwrap_or(Json::Null)
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
    fn code(&self) -> Json {
        self.json()["error"]["code"].clone()
    }
}

impl App {
    /// A request as sent (`uri` with its own query string).
    async fn raw(
        &self,
        token: Option<&str>,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "twins.test");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = body.map_or_else(Body::empty, Body::from);
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = to_bytes(resp.into_body(), 1 << 24).await.unwrap().to_vec();
        Reply {
            status,
            headers,
            bytes,
        }
    }

    /// An API call with `api-version` and a JSON body.
    async fn call(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Json>,
    ) -> Reply {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut h = headers.to_vec();
        if body.is_some() {
            h.push(("content-type", "application/json"));
        }
        self.raw(
            token,
            method,
            &format!("{path}{sep}{V}"),
            &h,
            body.map(|b| b.to_string().into_bytes()),
        )
        .await
    }

    fn etag(&self) -> String {
        config::to_json(self.state.world().scenes()).to_string()
    }
}

fn scene(id: &str, name: &str) -> Json {
    json!({
        "id": id, "displayName": name,
        "assets": [{"type": "3DAsset", "url": "/3d/demo-building.glb"}],
        "elements": [], "behaviorIDs": []
    })
}

fn sample() -> Json {
    let text = include_str!("../crates/scene/tests/data/3DScenesConfiguration.json");
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn a_scene_is_created_read_listed_guarded_by_its_etag_and_deleted() {
    let app = app();
    let owner = Some(app.owner.as_str());
    let created = app
        .call(
            owner,
            "PUT",
            "/scenes/lobby",
            &[],
            Some(scene("lobby", "Lobby")),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json());
    assert_eq!(created.json()["displayName"], "Lobby");
    let etag = created.header("etag").unwrap();
    assert!(etag.starts_with("W/\""));

    let read = app
        .call(Some(&app.reader), "GET", "/scenes/lobby", &[], None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.header("etag").as_deref(), Some(etag.as_str()));
    assert_eq!(read.json(), created.json());

    // A stale If-Match and If-None-Match: * on an existing scene change nothing.
    let before = app.etag();
    for (h, v) in [
        ("if-match", "W/\"0000000000000000\""),
        ("if-none-match", "*"),
    ] {
        let refused = app
            .call(
                owner,
                "PUT",
                "/scenes/lobby",
                &[(h, v)],
                Some(scene("lobby", "X")),
            )
            .await;
        assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(refused.code(), "PreconditionFailed");
    }
    assert_eq!(app.etag(), before);

    let updated = app
        .call(
            owner,
            "PUT",
            "/scenes/lobby",
            &[("if-match", &etag)],
            Some(scene("lobby", "Hall")),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_ne!(updated.header("etag").unwrap(), etag);

    // Readers read, owners write; no token is 401 on the API.
    let forbidden = app
        .call(
            Some(&app.reader),
            "PUT",
            "/scenes/x",
            &[],
            Some(scene("x", "X")),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let anonymous = app.call(None, "GET", "/scenes", &[], None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let list = app
        .call(Some(&app.reader), "GET", "/scenes", &[], None)
        .await;
    assert_eq!(list.json()["value"].as_array().unwrap().len(), 1);
    assert_eq!(list.json()["value"][0]["displayName"], "Hall");

    // The path's id wins over nothing and must agree with the body's.
    let mismatch = app
        .call(owner, "PUT", "/scenes/a", &[], Some(scene("b", "B")))
        .await;
    assert_eq!(
        (mismatch.status, mismatch.code()),
        (StatusCode::BAD_REQUEST, json!("InvalidArgument"))
    );

    let deleted = app
        .call(
            owner,
            "DELETE",
            "/scenes/lobby",
            &[("if-match", &etag)],
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::PRECONDITION_FAILED);
    let deleted = app.call(owner, "DELETE", "/scenes/lobby", &[], None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = app.call(owner, "GET", "/scenes/lobby", &[], None).await;
    assert_eq!(
        (gone.status, gone.code()),
        (StatusCode::NOT_FOUND, json!("SceneNotFound"))
    );
}

#[tokio::test]
async fn a_scenes_studio_configuration_imports_and_exports_unchanged_and_survives_a_restart() {
    let app = app();
    let owner = Some(app.owner.as_str());
    let mut feed = app.state.feed.subscribe();
    let imported = app
        .call(owner, "POST", "/scenes/$configuration", &[], Some(sample()))
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.json());
    let exported = app
        .call(
            Some(&app.reader),
            "GET",
            "/scenes/$configuration",
            &[],
            None,
        )
        .await;
    // Byte for byte the same JSON: key order and unknown properties kept.
    assert_eq!(
        serde_json::to_string(&exported.json()).unwrap(),
        serde_json::to_string(&sample()).unwrap()
    );
    // Other browsers hear of it.
    let frame = tokio::time::timeout(std::time::Duration::from_secs(5), feed.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        frame.ops().first(),
        Some(DeltaOp::Scenes { configuration }) if *configuration == sample()
    ));

    // Merging adds the demo scene and keeps the sample's.
    let demo = twinscape_demo::scene::scenes_config();
    let merged = app
        .call(
            owner,
            "POST",
            "/scenes/$configuration",
            &[],
            Some(demo.clone()),
        )
        .await;
    let n = |r: &Json, k: &str| r["configuration"][k].as_array().unwrap().len();
    assert_eq!(
        n(&merged.json(), "scenes"),
        n(&sample(), "scenes") + n(&demo, "scenes")
    );

    // A restart loads the same configuration from the store.
    let again = load(app.store.clone(), app.dir.path());
    assert_eq!(config::to_json(again.world().scenes()), merged.json());

    // PUT replaces everything.
    let replaced = app
        .call(
            owner,
            "PUT",
            "/scenes/$configuration",
            &[],
            Some(demo.clone()),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK);
    assert_eq!(replaced.json(), demo);
}

#[tokio::test]
async fn an_invalid_configuration_is_refused_with_every_problem_and_changes_nothing() {
    let app = app();
    let owner = Some(app.owner.as_str());
    app.call(owner, "POST", "/scenes/$configuration", &[], Some(sample()))
        .await;
    let before = app.etag();
    let mut bad = sample();
    bad["configuration"]["scenes"][0]["displayName"] = json!(7);
    bad["configuration"]["behaviors"][0]["visuals"][0]["type"] = json!("Hologram");
    bad["configuration"]["layers"][0]["behaviorIDs"] = json!("nope");
    for method in ["POST", "PUT"] {
        let refused = app
            .call(
                owner,
                method,
                "/scenes/$configuration",
                &[],
                Some(bad.clone()),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.code(), "ValidationFailed");
        let details: Vec<String> = refused.json()["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["message"].as_str().unwrap().to_string())
            .collect();
        for path in [
            "/configuration/scenes/0/displayName",
            "/configuration/behaviors/0/visuals/0",
            "/configuration/layers/0/behaviorIDs",
        ] {
            assert!(
                details.iter().any(|d| d.starts_with(path)),
                "{path} not in {details:?}"
            );
        }
    }
    let not_json = app
        .raw(
            owner,
            "PUT",
            &format!("/scenes/s?{V}"),
            &[],
            Some(b"{".to_vec()),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.etag(), before);
}

/// The demo building's models, twins and scene, written through the core.
async fn demo(app: &App) {
    let config = config::from_value(&twinscape_demo::scene::scenes_config()).unwrap();
    app.state
        .write(|txn| -> Result<(), CoreError> {
            txn.add_models(&twinscape_demo::twins::models())?;
            for t in twinscape_demo::twins::twins() {
                txn.create_or_replace_twin(&t.id, &t.doc, &Precondition::None)?;
            }
            txn.put_scenes(config);
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn states_evaluate_the_scene_on_the_current_twins() {
    let app = app();
    demo(&app).await;
    let id = twinscape_demo::scene::SCENE_ID;
    let reply = app
        .call(
            Some(&app.reader),
            "GET",
            &format!("/scenes/{id}/states"),
            &[],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
    let states = reply.json()["value"].clone();
    // The same as evaluating the scene locally over the demo twins.
    let twins: HashMap<String, Json> = twinscape_demo::twins::twins()
        .into_iter()
        .map(|t| {
            (
                t.id.clone(),
                app.state.world().engine().graph().twin_json(&t.id).unwrap(),
            )
        })
        .collect();
    let config = config::from_value(&twinscape_demo::scene::scenes_config()).unwrap();
    let local = SceneEvaluator::new(&config, id, None)
        .unwrap()
        .evaluate(&twins);
    assert_eq!(states, serde_json::to_value(&local).unwrap());
    assert!(!local.is_empty());
    for s in states.as_array().unwrap() {
        let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "scene", "element", "twin", "behavior", "visual", "value", "range", "color",
                "icon", "label"
            ]
        );
    }

    // A patch changes the room's state.
    let room = "Room101";
    let patch = json!([{"op": "replace", "path": "/temperature", "value": 30.5}]);
    let patched = app
        .call(
            Some(&app.owner),
            "PATCH",
            &format!("/digitaltwins/{room}"),
            &[],
            Some(patch),
        )
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT);
    let after = app
        .call(
            Some(&app.reader),
            "GET",
            &format!("/scenes/{id}/states?layers=comfort"),
            &[],
            None,
        )
        .await
        .json()["value"]
        .clone();
    let temp = after
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["element"] == room && s["behavior"] == "room-temperature")
        .unwrap();
    assert_eq!(temp["value"], json!(30.5));
    assert_eq!(temp["range"], json!("hot"));
    // Only the comfort layer's behaviors.
    assert!(
        after
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["behavior"] != "equipment-status")
    );

    let unknown = app
        .call(
            Some(&app.reader),
            "GET",
            &format!("/scenes/{id}/states?layers=nope"),
            &[],
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let missing = app
        .call(Some(&app.reader), "GET", "/scenes/none/states", &[], None)
        .await;
    assert_eq!(missing.code(), "SceneNotFound");
}

#[tokio::test]
async fn scenes_paths_are_pages_without_an_api_version_and_api_calls_with_one() {
    let app = app();
    demo(&app).await;
    for path in [
        "/scenes",
        "/scenes/demo-building",
        "/scenes/demo-building?layers=comfort",
    ] {
        let page = app.raw(None, "GET", path, &[], None).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(String::from_utf8_lossy(&page.bytes), INDEX, "{path}");
    }
    let api = app
        .raw(
            Some(&app.reader),
            "GET",
            &format!("/scenes/demo-building?{V}"),
            &[],
            None,
        )
        .await;
    assert_eq!(api.json()["id"], "demo-building");
    let refused = app
        .raw(
            None,
            "GET",
            &format!("/scenes/demo-building?{V}"),
            &[],
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let write = app
        .raw(
            Some(&app.owner),
            "DELETE",
            "/scenes/demo-building",
            &[],
            None,
        )
        .await;
    // Without api-version it is the page, which only reads: nothing is deleted.
    assert_eq!(
        (write.status, write.code()),
        (StatusCode::METHOD_NOT_ALLOWED, json!("MethodNotAllowed"))
    );
    assert!(app.state.world().scenes().scene("demo-building").is_some());
    let deep = app
        .raw(
            Some(&app.reader),
            "GET",
            &format!("/scenes/a/b/c?{V}"),
            &[],
            None,
        )
        .await;
    assert_eq!(
        (deep.status, deep.code()),
        (StatusCode::NOT_FOUND, json!("NotFound"))
    );
}

#[tokio::test]
async fn uploaded_3d_files_are_checked_listed_cached_and_deleted() {
    let app = app();
    let glb = twinscape_demo::building_glb();
    let put = |token: Option<String>, name: &'static str, bytes: Vec<u8>| {
        let app = &app;
        async move {
            app.raw(
                token.as_deref(),
                "PUT",
                &format!("/3d/{name}"),
                &[("content-type", "model/gltf-binary")],
                Some(bytes),
            )
            .await
        }
    };
    assert_eq!(
        put(None, "b.glb", glb.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        put(Some(app.reader.clone()), "b.glb", glb.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let created = put(Some(app.owner.clone()), "b.glb", glb.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json());
    let replaced = put(Some(app.owner.clone()), "b.glb", glb.clone()).await;
    assert_eq!(replaced.status, StatusCode::OK);

    let bad = put(
        Some(app.owner.clone()),
        "c.glb",
        b"glTF but not really".to_vec(),
    )
    .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, json!("AssetInvalid"))
    );
    let big = put(Some(app.owner.clone()), "d.glb", vec![0u8; 64 * 1024 + 1]).await;
    assert_eq!(
        (big.status, big.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, json!("PayloadTooLarge"))
    );
    assert!(!app.dir.path().join("3d/c.glb").exists() && !app.dir.path().join("3d/d.glb").exists());

    // Public to read, with a validator that answers 304 while unchanged.
    let got = app.raw(None, "GET", "/3d/b.glb", &[], None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.bytes, glb);
    let etag = got.header("etag").unwrap();
    assert_eq!(got.header("cache-control").as_deref(), Some("no-cache"));
    let again = app
        .raw(None, "GET", "/3d/b.glb", &[("if-none-match", &etag)], None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.bytes.is_empty());

    let list = app.raw(Some(&app.reader), "GET", "/3d", &[], None).await;
    let names: Vec<&str> = list.json()["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string().leak() as &str)
        .collect();
    assert_eq!(names, ["b.glb", "demo-building.glb"]);
    assert_eq!(
        app.raw(None, "GET", "/3d", &[], None).await.status,
        StatusCode::UNAUTHORIZED
    );

    let deleted = app
        .raw(Some(&app.owner), "DELETE", "/3d/b.glb", &[], None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = app.raw(None, "GET", "/3d/b.glb", &[], None).await;
    assert_eq!(
        (gone.status, gone.code()),
        (StatusCode::NOT_FOUND, json!("AssetNotFound"))
    );
}

#[tokio::test]
async fn a_scenes_etag_changes_with_its_behaviors_so_a_stale_builder_save_is_refused() {
    let app = app();
    let owner = Some(app.owner.as_str());
    let with_rule = |color: &str| {
        json!({
            "$schema": config::SCHEMA_URL,
            "configuration": {
                "scenes": [{
                    "id": "lobby", "displayName": "Lobby",
                    "assets": [{"type": "3DAsset", "url": "/3d/demo-building.glb"}],
                    "elements": [{"type": "TwinToObjectMapping", "id": "e1", "displayName": "E1",
                        "primaryTwinID": "t1", "objectIDs": ["m1"]}],
                    "behaviorIDs": ["b1"]
                }],
                "behaviors": [{"id": "b1", "displayName": "B1",
                    "datasources": [{"type": "ElementTwinToObjectMappingDataSource", "elementIDs": ["e1"]}],
                    "visuals": [{"type": "ExpressionRangeVisual", "valueExpression": "PrimaryTwin.t",
                        "expressionType": "NumericRange", "objectIDs": {"expression": "objectIDs"},
                        "valueRanges": [{"id": "r", "values": [0, 10], "visual": {"color": color}}]}]}],
                "layers": []
            }
        })
    };
    let first = app
        .call(
            owner,
            "PUT",
            "/scenes/lobby",
            &[],
            Some(with_rule("#00FF00")),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json());
    let etag = first.header("etag").unwrap();
    // Another tab changes only the rule: the scene's own JSON is the same…
    let other = app
        .call(
            owner,
            "PUT",
            "/scenes/lobby",
            &[("if-match", &etag)],
            Some(with_rule("#FF0000")),
        )
        .await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.json());
    assert_eq!(other.json(), first.json());
    // …but its ETag moved, and a save on the old one is refused.
    let now = other.header("etag").unwrap();
    assert_ne!(now, etag);
    let read = app.call(owner, "GET", "/scenes/lobby", &[], None).await;
    assert_eq!(read.header("etag").as_deref(), Some(now.as_str()));
    let stale = app
        .call(
            owner,
            "PUT",
            "/scenes/lobby",
            &[("if-match", &etag)],
            Some(with_rule("#0000FF")),
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.json()
    );
    assert_eq!(
        app.state.world().scenes().behavior("b1").map(|b| {
            serde_json::to_value(b).unwrap()["visuals"][0]["valueRanges"][0]["visual"]["color"]
                .clone()
        }),
        Some(json!("#FF0000"))
    );
}
