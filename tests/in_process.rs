//! The app as a library, in process: `twinscape::http::router` over a state
//! on an in-memory store, called through tower without a socket. Auth is on
//! (a local signing key in a temp dir), as users run it.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::{Value as Json, json};
use std::sync::Arc;
use tower::ServiceExt;
use twinscape_auth::{Auth, LocalKey, Role};
use twinscape_core::{ApiLimits, AppState, ChangeFeed};
use twinscape_engine::EngineConfig;
use twinscape_protocol::live::DeltaOp;
use twinscape_store::{MemoryStore, Store};

struct App {
    router: axum::Router,
    state: Arc<AppState>,
    owner: String,
    reader: String,
    _dir: tempfile::TempDir,
}

fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let state = Arc::new(
        AppState::load(
            store,
            EngineConfig::default(),
            ApiLimits::default(),
            dir.path().join("jobs"),
        )
        .unwrap(),
    );
    let key = LocalKey::load_or_create(dir.path()).unwrap();
    let ttl = std::time::Duration::from_secs(600);
    let owner = key.issue(Role::Owner, "test", ttl).unwrap();
    let reader = key.issue(Role::Reader, "test", ttl).unwrap();
    let auth = Arc::new(Auth::local(key));
    let router = twinscape::http::router(dir.path(), None, state.clone(), auth);
    App {
        router,
        state,
        owner,
        reader,
        _dir: dir,
    }
}

impl App {
    async fn call(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Json>,
    ) -> (StatusCode, Json) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{path}{sep}api-version=2023-10-31"))
            .header("host", "twins.test");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
        (status, json)
    }
}

#[tokio::test]
async fn the_router_serves_the_api_in_process() {
    let app = app();
    let mut feed = app.state.feed.subscribe();
    let model = json!([{
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:test:Room;1",
        "@type": "Interface",
        "contents": [{"@type": "Property", "name": "temperature", "schema": "double"}]
    }]);
    let (status, _) = app
        .call(Some(&app.owner), "POST", "/models", Some(model))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let twin = json!({"$metadata": {"$model": "dtmi:test:Room;1"}, "temperature": 20.5});
    let (status, body) = app
        .call(Some(&app.owner), "PUT", "/digitaltwins/r1", Some(twin))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["temperature"], json!(20.5));
    // The reader may read and query, not write.
    let (status, body) = app
        .call(Some(&app.reader), "GET", "/digitaltwins/r1", None)
        .await;
    assert_eq!((status, &body["$dtId"]), (StatusCode::OK, &json!("r1")));
    let (status, body) = app
        .call(Some(&app.reader), "DELETE", "/digitaltwins/r1", None)
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("Forbidden"))
    );
    let (status, body) = app.call(None, "GET", "/digitaltwins/r1", None).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::UNAUTHORIZED, &json!("Unauthorized"))
    );
    let (status, body) = app
        .call(
            Some(&app.reader),
            "POST",
            "/query",
            Some(json!({"query": "SELECT T.temperature FROM DIGITALTWINS T"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["value"], json!([{"temperature": 20.5}]));
    // Telemetry reaches the live feed (after the model and the twin).
    let mut req = Request::builder()
        .method("POST")
        .uri("/digitaltwins/r1/telemetry?api-version=2023-10-31")
        .header("authorization", format!("Bearer {}", app.owner))
        .header("content-type", "application/json")
        .header("message-id", "m1");
    req = req.header("host", "twins.test");
    let resp = app
        .router
        .clone()
        .oneshot(req.body(Body::from(r#"{"reading": 1}"#)).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let ops: Vec<DeltaOp> = std::iter::from_fn(|| feed.try_recv().ok())
        .flat_map(|f| f.ops().to_vec())
        .collect();
    assert!(
        matches!(ops.first(), Some(DeltaOp::PutModel { .. })),
        "{ops:?}"
    );
    assert!(
        matches!(ops.get(1), Some(DeltaOp::PutTwin { .. })),
        "{ops:?}"
    );
    assert!(
        matches!(ops.get(2), Some(DeltaOp::Telemetry { twin, .. }) if twin == "r1"),
        "{ops:?}"
    );
    // Telemetry for a twin that does not exist: 404, as ADT answers.
    let resp = app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/digitaltwins/nope/telemetry?api-version=2023-10-31")
                .header("host", "twins.test")
                .header("authorization", format!("Bearer {}", app.owner))
                .header("content-type", "application/json")
                .header("message-id", "m2")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        resp.headers().get("x-ms-error-code").unwrap(),
        "DigitalTwinNotFound"
    );
    assert!(feed.try_recv().is_err(), "nothing published for it");
    // Unknown paths answer in ADT's error shape.
    let (status, body) = app.call(None, "GET", "/nowhere", None).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("NotFound"))
    );
}
