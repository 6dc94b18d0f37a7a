//! The one write path, in process: every change reaches the store, the
//! live feed and (with an endpoint) the event log together; telemetry goes
//! around the write lock; two states in one process are independent.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

use serde_json::{Value as Json, json};
use std::sync::Arc;
use std::time::Duration;
use twinscape_core::{
    ApiLimits, AppState, ChangeFeed, CoreError, EventRoute, TelemetryIn, relationship_key,
};
use twinscape_engine::EngineConfig;
use twinscape_graph::{GraphError, Precondition};
use twinscape_protocol::live::DeltaOp;
use twinscape_store::{MemoryStore, Store, Table};

const ROOM: &str = "dtmi:test:Room;1";

fn models() -> Vec<Json> {
    vec![json!({
        "@context": "dtmi:dtdl:context;3",
        "@id": ROOM,
        "@type": "Interface",
        "contents": [
            {"@type": "Property", "name": "temperature", "schema": "double"},
            {"@type": "Telemetry", "name": "reading", "schema": "double"},
            {"@type": "Relationship", "name": "next", "target": ROOM}
        ]
    })]
}

fn room(t: f64) -> Json {
    json!({"$metadata": {"$model": ROOM}, "temperature": t})
}

fn state() -> (Arc<AppState>, Arc<dyn Store>) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let dir = std::env::temp_dir();
    let state = AppState::load(
        store.clone(),
        EngineConfig::default(),
        ApiLimits::default(),
        dir,
    )
    .unwrap();
    (Arc::new(state), store)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_write_reaches_the_store_and_the_feed_together() {
    let (state, store) = state();
    let mut rx = state.feed.subscribe();
    rt().block_on(async {
        state
            .write(|txn| -> Result<(), CoreError> {
                txn.add_models(&models())?;
                txn.create_or_replace_twin("a", &room(20.0), &Precondition::None)?;
                txn.create_or_replace_twin("b", &room(21.0), &Precondition::None)?;
                txn.create_or_replace_relationship(
                    "a",
                    "r1",
                    &json!({"$targetId": "b", "$relationshipName": "next"}),
                    &Precondition::None,
                )?;
                Ok(())
            })
            .await
            .unwrap();
    });
    // Durable: the rows are in the store.
    let twin: Json =
        serde_json::from_slice(&store.get(Table::Twins, "a").unwrap().unwrap()).unwrap();
    assert_eq!(twin["temperature"], json!(20.0));
    assert!(store.get(Table::Models, ROOM).unwrap().is_some());
    assert!(
        store
            .get(Table::Relationships, &relationship_key("a", "r1"))
            .unwrap()
            .is_some()
    );
    // Published: one frame with the same changes, in order.
    let frame = rx.try_recv().unwrap();
    assert_eq!(frame.seq, 1);
    let kinds: Vec<&str> = frame
        .ops()
        .iter()
        .map(|op| match op {
            DeltaOp::PutModel { .. } => "model",
            DeltaOp::PutTwin { .. } => "twin",
            DeltaOp::PutRelationship { .. } => "relationship",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["model", "twin", "twin", "relationship"]);
    match &frame.ops()[1] {
        DeltaOp::PutTwin { twin } => assert_eq!(
            twin,
            &state.world().engine().graph().twin_json("a").unwrap()
        ),
        other => panic!("{other:?}"),
    }
    // No endpoint: no events were logged.
    assert!(store.read_log(0, 10).unwrap().is_empty());
}

#[test]
fn a_rejected_write_changes_nothing_and_publishes_nothing() {
    let (state, store) = state();
    let rt = rt();
    rt.block_on(async {
        state
            .write(|txn| txn.add_models(&models()).map(|_| ()))
            .await
            .unwrap();
    });
    let mut rx = state.feed.subscribe();
    let before = state.feed.last_seq();
    let err = rt
        .block_on(state.write(|txn| txn.update_twin("missing", &json!([]), &Precondition::None)))
        .unwrap_err();
    assert!(
        matches!(err, CoreError::Graph(GraphError::TwinNotFound(_))),
        "{err:?}"
    );
    assert_eq!(state.feed.last_seq(), before);
    assert!(rx.try_recv().is_err());
    assert!(store.get(Table::Twins, "missing").unwrap().is_none());
}

#[test]
fn a_bulk_write_that_fails_midway_commits_what_it_made() {
    let (state, store) = state();
    let rt = rt();
    let result: Result<(), CoreError> = rt.block_on(state.write(|txn| {
        txn.add_models(&models())?;
        txn.create_or_replace_twin("a", &room(20.0), &Precondition::None)?;
        // Fails: no such model.
        txn.create_or_replace_twin(
            "b",
            &json!({"$metadata": {"$model": "dtmi:test:Nope;1"}}),
            &Precondition::None,
        )?;
        Ok(())
    }));
    assert!(result.is_err());
    // Memory and disk agree: `a` is in both.
    assert!(state.world().engine().graph().twin("a").is_some());
    assert!(store.get(Table::Twins, "a").unwrap().is_some());
}

#[test]
fn events_are_logged_with_their_change_once_an_endpoint_exists() {
    let (state, store) = state();
    let (other, other_store) = self::state();
    let rt = rt();
    rt.block_on(async {
        for s in [&state, &other] {
            s.write(|txn| txn.add_models(&models()).map(|_| ()))
                .await
                .unwrap();
        }
        state
            .write(|txn| -> Result<(), CoreError> {
                let ep = twinscape_events::Endpoint::from_json(
                    "hook",
                    0,
                    &json!({"type": "webhook", "url": "http://127.0.0.1:9/"}),
                )
                .unwrap();
                txn.put_endpoint("hook", ep);
                txn.put_route(EventRoute {
                    id: "all".into(),
                    endpoint_name: "hook".into(),
                    filter: "true".into(),
                });
                Ok(())
            })
            .await
            .unwrap();
        for s in [&state, &other] {
            s.write(|txn| txn.create_or_replace_twin("a", &room(20.0), &Precondition::None))
                .await
                .unwrap();
        }
    });
    let log = store.read_log(0, 10).unwrap();
    assert_eq!(log.len(), 1, "one Twin.Create event");
    let event: Json = serde_json::from_slice(&log[0].payload).unwrap();
    assert_eq!(
        event["event"]["type"], "Microsoft.DigitalTwins.Twin.Create",
        "{event}"
    );
    // The route is stored typed, in ADT's shape.
    let route: Json =
        serde_json::from_slice(&store.get(Table::EventRoutes, "all").unwrap().unwrap()).unwrap();
    assert_eq!(
        route,
        json!({"id": "all", "endpointName": "hook", "filter": "true"})
    );
    // The other state in this process has no endpoint: it logs nothing.
    assert!(other_store.read_log(0, 10).unwrap().is_empty());
}

#[test]
fn telemetry_is_published_without_the_write_lock() {
    let (state, store) = state();
    let rt = rt();
    rt.block_on(async {
        state
            .write(|txn| -> Result<(), CoreError> {
                txn.add_models(&models())?;
                txn.create_or_replace_twin("a", &room(20.0), &Precondition::None)?;
                Ok(())
            })
            .await
            .unwrap();
    });
    let mut rx = state.feed.subscribe();
    // A reader holds the world; telemetry still goes through (a writer
    // would wait for the reader).
    let reader = state.world();
    let (tx, done) = std::sync::mpsc::channel();
    let s = state.clone();
    std::thread::spawn(move || {
        let result = rt.block_on(s.telemetry(TelemetryIn {
            twin_id: "a",
            component: None,
            message_id: "m1",
            source_time: None,
            payload: json!({"reading": 21.5}),
        }));
        let _ = tx.send(result);
    });
    let result = done
        .recv_timeout(Duration::from_secs(10))
        .expect("telemetry waited for the world lock");
    drop(reader);
    result.unwrap();
    let frame = rx.try_recv().unwrap();
    match frame.ops() {
        [
            DeltaOp::Telemetry {
                twin,
                component,
                payload,
                ..
            },
        ] => {
            assert_eq!((twin.as_str(), component), ("a", &None));
            assert_eq!(payload, &json!({"reading": 21.5}));
        }
        other => panic!("{other:?}"),
    }
    // Nothing to make durable while no endpoint exists.
    assert!(store.read_log(0, 10).unwrap().is_empty());
    // Telemetry for a twin that does not exist is refused, and not published.
    let err = rt_block(state.telemetry(TelemetryIn {
        twin_id: "nope",
        component: None,
        message_id: "m2",
        source_time: None,
        payload: json!({}),
    }))
    .unwrap_err();
    assert!(
        matches!(err, CoreError::Graph(GraphError::TwinNotFound(_))),
        "{err:?}"
    );
    let err = rt_block(state.telemetry(TelemetryIn {
        twin_id: "a",
        component: None,
        message_id: " ",
        source_time: None,
        payload: json!({}),
    }))
    .unwrap_err();
    assert!(matches!(err, CoreError::MissingMessageId), "{err:?}");
    assert!(rx.try_recv().is_err());
}

fn rt_block<T>(f: impl std::future::Future<Output = T>) -> T {
    rt().block_on(f)
}

#[test]
fn the_state_loads_back_what_it_wrote() {
    let (state, store) = state();
    rt().block_on(async {
        state
            .write(|txn| -> Result<(), CoreError> {
                txn.add_models(&models())?;
                txn.create_or_replace_twin("a", &room(20.0), &Precondition::None)?;
                txn.decommission_model(ROOM)?;
                // A job that was running when the server stopped.
                txn.put_job(
                    "imports/j1",
                    serde_json::from_value(json!({
                        "id": "j1",
                        "inputBlobUri": "in.ndjson",
                        "outputBlobUri": "out.ndjson",
                        "createdDateTime": "2026-01-01T00:00:00.0000000Z",
                        "lastActionDateTime": "2026-01-01T00:00:00.0000000Z",
                        "purgeDateTime": "2026-01-02T00:00:00.0000000Z",
                        "status": "running",
                    }))
                    .unwrap(),
                );
                Ok(())
            })
            .await
            .unwrap();
    });
    let again = AppState::load(
        store,
        EngineConfig::default(),
        ApiLimits::default(),
        std::env::temp_dir(),
    )
    .unwrap();
    let world = again.world();
    assert_eq!(
        world.engine().graph().twin_json("a"),
        state.world().engine().graph().twin_json("a")
    );
    assert!(world.engine().registry().get(ROOM).unwrap().decommissioned);
    assert_eq!(world.upload_time(ROOM), state.world().upload_time(ROOM));
    // It comes back failed, in ADT's shape and key order.
    let job = serde_json::to_string(&world.jobs()["imports/j1"]).unwrap();
    assert_eq!(
        job,
        r#"{"id":"j1","inputBlobUri":"in.ndjson","outputBlobUri":"out.ndjson","createdDateTime":"2026-01-01T00:00:00.0000000Z","lastActionDateTime":"2026-01-01T00:00:00.0000000Z","purgeDateTime":"2026-01-02T00:00:00.0000000Z","status":"failed","error":{"code":"JobInterrupted","message":"The server stopped while the job ran; what it had imported or deleted stays."}}"#
    );
}
