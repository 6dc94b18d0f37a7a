//! The dispatcher against an in-memory store and a local webhook: routing,
//! order, retries, dead letters, cursors that survive a restart, truncation.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value as Json, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use twinscape_events::{
    DispatchConfig, Endpoint, EndpointConfig, Events, Filter, RetryPolicy, Route, Routing,
    Telemetry, dispatcher,
};
use twinscape_graph::{Change, ChangeKind, Timestamp};
use twinscape_store::{MemoryStore, Store, Table, WriteBatch};

#[derive(Default)]
struct Hook {
    received: Mutex<Vec<Json>>,
    content_types: Mutex<Vec<String>>,
    /// Answer 503 to this many requests first.
    fail_first: AtomicUsize,
    /// Answer this status to every request (0: accept).
    always: AtomicUsize,
}

async fn hook(State(h): State<Arc<Hook>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let always = h.always.load(Ordering::SeqCst);
    if always != 0 {
        return StatusCode::from_u16(always as u16).unwrap_or(StatusCode::IM_A_TEAPOT);
    }
    if h.fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    h.content_types.lock().unwrap().push(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
    );
    h.received
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap());
    StatusCode::OK
}

async fn start_hook() -> (Arc<Hook>, String) {
    let h = Arc::new(Hook::default());
    let app = Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(h.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (h, url)
}

fn created(id: &str) -> Change {
    Change {
        seq: 1,
        kind: ChangeKind::TwinCreated {
            id: id.into(),
            twin: json!({"$dtId": id, "$metadata": {"$model": "dtmi:x:Room;1"}}),
        },
    }
}

/// Commits one twin-created event per id, as the server's write path does.
async fn write(store: &Arc<dyn Store>, events: &Events, ids: &[&str]) {
    for id in ids {
        let mut batch = WriteBatch::new();
        batch.put(Table::Twins, *id, "{}");
        events.log_change(&created(id), Timestamp(0), &mut batch);
        let info = store.commit(batch).await.unwrap();
        events.committed(info.log_seqs.end);
    }
}

fn config(retry: RetryPolicy) -> DispatchConfig {
    DispatchConfig {
        source: "twins.example".into(),
        retry,
        checkpoint_interval: Duration::from_millis(20),
        truncate_interval: Duration::from_millis(50),
        ..DispatchConfig::default()
    }
}

fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        attempt_timeout: Duration::from_secs(2),
    }
}

fn webhook(name: &str, url: &str, since: u64) -> Endpoint {
    Endpoint {
        name: name.into(),
        config: EndpointConfig::Webhook { url: url.into() },
        retry: Default::default(),
        since,
    }
}

fn route(id: &str, endpoint: &str, filter: &str) -> Route {
    Route {
        id: id.into(),
        endpoint: endpoint.into(),
        filter: Filter::parse(filter).unwrap(),
    }
}

fn set_routing(events: &Events, endpoints: Vec<Endpoint>, routes: Vec<Route>) {
    events.update_routing(|_| {
        (
            Routing {
                endpoints: endpoints.into_iter().map(|e| (e.name.clone(), e)).collect(),
                routes,
            },
            (),
        )
    });
}

async fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn subjects(h: &Hook) -> Vec<String> {
    h.received
        .lock()
        .unwrap()
        .iter()
        .map(|e| e["subject"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn delivers_matching_events_in_order_then_truncates() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let events = Events::new(store.load().unwrap().next_log_seq());
    let (h, url) = start_hook().await;
    set_routing(
        &events,
        vec![webhook("ep", &url, events.head())],
        vec![route("r", "ep", "STARTS_WITH(subject, 'keep')")],
    );
    let task = events.start(store.clone(), config(fast_retry(3)));
    write(
        &store,
        &events,
        &["keep1", "drop1", "keep2", "keep3", "drop2"],
    )
    .await;
    let mut batch = WriteBatch::new();
    events.log_telemetry(
        Telemetry {
            twin_id: "keep4",
            component: None,
            message_id: "m-1",
            model_id: Some("dtmi:x:Room;1"),
            time: Timestamp(0),
            payload: json!({"t": 1}),
        },
        &mut batch,
    );
    let info = store.commit(batch).await.unwrap();
    events.committed(info.log_seqs.end);
    wait_until("three events", || subjects(&h).len() == 3).await;
    assert_eq!(subjects(&h), ["keep1", "keep2", "keep3"]);
    let first = h.received.lock().unwrap()[0].clone();
    assert_eq!(first["source"], "twins.example");
    assert_eq!(first["type"], "Microsoft.DigitalTwins.Twin.Create");
    assert!(
        h.content_types
            .lock()
            .unwrap()
            .iter()
            .all(|c| c.starts_with("application/cloudevents+json"))
    );
    // Every endpoint is past everything: the log empties.
    wait_until("log truncated", || {
        store.read_log(0, 10).unwrap().is_empty()
    })
    .await;
    let status = events.status("ep").unwrap();
    assert_eq!(status.delivered, 3);
    assert_eq!(status.backlog, 0);
    task.abort();
}

#[tokio::test]
async fn retries_keep_order_and_exhausted_events_become_dead_letters() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let events = Events::new(store.load().unwrap().next_log_seq());
    let (h, url) = start_hook().await;
    let ep = webhook("ep", &url, events.head());
    set_routing(&events, vec![ep.clone()], vec![route("r", "ep", "true")]);
    let task = events.start(store.clone(), config(fast_retry(3)));

    // Two failures, then success: nothing lost, order kept.
    h.fail_first.store(2, Ordering::SeqCst);
    write(&store, &events, &["a", "b"]).await;
    wait_until("a and b", || subjects(&h).len() == 2).await;
    assert_eq!(subjects(&h), ["a", "b"]);

    // The endpoint refuses everything: after 3 attempts each event is a
    // dead letter and the next one is tried.
    h.always.store(500, Ordering::SeqCst);
    write(&store, &events, &["c", "d"]).await;
    wait_until("two dead letters", || {
        events.status("ep").is_some_and(|s| s.dead_lettered == 2)
    })
    .await;
    let dead = dispatcher::dead_letters(&*store, &ep).unwrap();
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0]["event"]["subject"], "c");
    assert_eq!(dead[0]["attempts"], 3);
    assert_eq!(dead[0]["routes"], json!(["r"]));
    assert!(
        dead[0]["error"].as_str().unwrap().contains("500"),
        "{}",
        dead[0]
    );

    // 400 is not retried.
    h.always.store(400, Ordering::SeqCst);
    write(&store, &events, &["e"]).await;
    wait_until("third dead letter", || {
        events.status("ep").is_some_and(|s| s.dead_lettered == 3)
    })
    .await;
    assert_eq!(
        dispatcher::dead_letters(&*store, &ep).unwrap()[2]["attempts"],
        1
    );

    h.always.store(0, Ordering::SeqCst);
    write(&store, &events, &["f"]).await;
    wait_until("f", || subjects(&h).len() == 3).await;
    assert_eq!(subjects(&h), ["a", "b", "f"]);
    assert_eq!(
        dispatcher::purge_dead_letters(store.clone(), &ep).await,
        Ok(3)
    );
    assert!(dispatcher::dead_letters(&*store, &ep).unwrap().is_empty());
    task.abort();
}

#[tokio::test]
async fn a_dead_endpoint_holds_its_events_and_others_go_on() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let events = Events::new(store.load().unwrap().next_log_seq());
    let (good, good_url) = start_hook().await;
    // Nothing listens on the dead endpoint's port.
    let dead_url = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let head = events.head();
    set_routing(
        &events,
        vec![
            webhook("good", &good_url, head),
            webhook("dead", &dead_url, head),
        ],
        vec![route("r1", "good", "true"), route("r2", "dead", "true")],
    );
    let mut retry = fast_retry(1000);
    retry.max_backoff = Duration::from_millis(20);
    let task = events.start(store.clone(), config(retry));
    write(&store, &events, &["a", "b", "c"]).await;
    wait_until("good endpoint", || subjects(&good).len() == 3).await;
    // The dead endpoint holds the log: nothing it has not had is truncated.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.read_log(0, 10).unwrap().len(), 3);
    assert!(events.status("dead").unwrap().retrying);
    assert!(events.status("dead").unwrap().last_error.is_some());

    // Deleting the dead endpoint lets the log go.
    set_routing(
        &events,
        vec![webhook("good", &good_url, head)],
        vec![route("r1", "good", "true")],
    );
    wait_until("log truncated", || {
        store.read_log(0, 10).unwrap().is_empty()
    })
    .await;
    task.abort();
}

#[tokio::test]
async fn cursors_survive_a_restart() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (h, url) = start_hook().await;
    let events = Events::new(store.load().unwrap().next_log_seq());
    let ep = webhook("ep", &url, events.head());
    set_routing(&events, vec![ep.clone()], vec![route("r", "ep", "true")]);
    let task = events.start(store.clone(), config(fast_retry(3)));
    write(&store, &events, &["a", "b"]).await;
    wait_until("a, b", || subjects(&h).len() == 2).await;
    wait_until("cursor saved", || {
        events.status("ep").and_then(|s| s.persisted) == Some(events.head())
    })
    .await;
    task.abort();

    // Events written while nothing delivers wait in the log.
    write(&store, &events, &["c", "d"]).await;
    let events = Events::new(store.load().unwrap().next_log_seq());
    set_routing(&events, vec![ep.clone()], vec![route("r", "ep", "true")]);
    let task = events.start(store.clone(), config(fast_retry(3)));
    wait_until("c, d", || subjects(&h).len() == 4).await;
    assert_eq!(subjects(&h), ["a", "b", "c", "d"]);
    task.abort();
}

#[tokio::test]
async fn routes_added_later_and_disabled_routes() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let events = Events::new(store.load().unwrap().next_log_seq());
    let (h, url) = start_hook().await;
    let ep = webhook("ep", &url, events.head());
    set_routing(&events, vec![ep.clone()], vec![route("r", "ep", "false")]);
    let task = events.start(store.clone(), config(fast_retry(3)));
    write(&store, &events, &["a"]).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(subjects(&h).is_empty());
    // Two routes to one endpoint: each event arrives once.
    set_routing(
        &events,
        vec![ep.clone()],
        vec![route("r", "ep", "true"), route("r2", "ep", "subject = 'b'")],
    );
    write(&store, &events, &["b"]).await;
    wait_until("b", || subjects(&h).len() == 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(subjects(&h), ["b"]);
    task.abort();
}
