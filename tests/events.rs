//! Event notifications end to end, against a real `twinscape serve`:
//! endpoints and routes over REST; real brokers (mosquitto, nats-server) and
//! a local webhook receiving every ADT event type with its body; filters;
//! writes that do not wait for a dead endpoint, whose events arrive in order
//! once it is back, across a SIGKILL of the server; dead letters.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

#[path = "harness/mod.rs"]
mod harness;

#[path = "harness/brokers.rs"]
mod brokers;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use brokers::Broker;
use harness::Server;
use serde_json::{Value as Json, json};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FLOOR: &str = "dtmi:test:events:Floor;1";
const ROOM: &str = "dtmi:test:events:Room;1";
const THERMOSTAT: &str = "dtmi:test:events:Thermostat;1";

fn models() -> Json {
    json!([
        {"@id": THERMOSTAT, "@type": "Interface", "@context": "dtmi:dtdl:context;2",
         "contents": [{"@type": "Property", "name": "setpoint", "schema": "double"}]},
        {"@id": ROOM, "@type": "Interface", "@context": "dtmi:dtdl:context;2",
         "contents": [{"@type": "Property", "name": "temperature", "schema": "double"},
                      {"@type": "Component", "name": "thermostat", "schema": THERMOSTAT}]},
        {"@id": FLOOR, "@type": "Interface", "@context": "dtmi:dtdl:context;2",
         "contents": [{"@type": "Property", "name": "name", "schema": "string"},
                      {"@type": "Relationship", "name": "hasRoom", "target": ROOM,
                       "properties": [{"@type": "Property", "name": "note", "schema": "string"}]}]}
    ])
}

fn setup_models(s: &Server) {
    let r = s.api("POST", "/models", Some(&models()), &[]);
    assert_eq!(r.status, 201, "{}", r.text());
}

fn room(temperature: f64) -> Json {
    json!({"$metadata": {"$model": ROOM}, "temperature": temperature,
           "thermostat": {"$metadata": {}, "setpoint": 21.0}})
}

fn put_endpoint(s: &Server, name: &str, body: Json) -> Json {
    let r = s.api("PUT", &format!("/endpoints/{name}"), Some(&body), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn put_route(s: &Server, id: &str, endpoint: &str, filter: &str) {
    let r = s.api(
        "PUT",
        &format!("/eventroutes/{id}"),
        Some(&json!({"endpointName": endpoint, "filter": filter})),
        &[],
    );
    assert_eq!(r.status, 204, "{}", r.text());
}

fn ok(r: harness::Response, status: u16) -> harness::Response {
    assert_eq!(r.status, status, "{}", r.text());
    r
}

// ----- subscribers ---------------------------------------------------------------

/// A received body and its `Content-Type` (webhooks only).
type Received = (Json, Option<String>);

/// What a subscriber received, in order.
#[derive(Clone, Default)]
struct Inbox(Arc<Mutex<Vec<Received>>>);

impl Inbox {
    fn push(&self, bytes: &[u8], content_type: Option<String>) {
        let body = serde_json::from_slice(bytes)
            .unwrap_or_else(|_| json!({"unparsable": String::from_utf8_lossy(bytes)}));
        self.0.lock().unwrap().push((body, content_type));
    }

    fn events(&self) -> Vec<Json> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(b, _)| b.clone())
            .collect()
    }

    fn content_types(&self) -> Vec<Option<String>> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// Waits until `n` events arrived (at most `timeout`).
    fn wait(&self, n: usize, timeout: Duration, what: &str) -> Vec<Json> {
        let got = harness::wait_for(timeout, || {
            let e = self.events();
            (e.len() >= n).then_some(e)
        });
        got.unwrap_or_else(|| {
            panic!(
                "{what}: expected {n} events within {timeout:?}, got {}: {:#?}",
                self.events().len(),
                self.events()
            )
        })
    }
}

/// Subscribers and webhook receivers run here; the tests speak blocking HTTP.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn subscribe_mqtt(rt: &tokio::runtime::Runtime, port: u16, topic: &str) -> Inbox {
    use rumqttc::{Event, Packet, QoS};
    let inbox = Inbox::default();
    let (ready, subscribed) = std::sync::mpsc::channel();
    let (sink, topic) = (inbox.clone(), topic.to_string());
    rt.spawn(async move {
        let mut options = rumqttc::MqttOptions::new("events-test", "127.0.0.1", port);
        options
            .set_keep_alive(Duration::from_secs(5))
            .set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 16);
        client.subscribe(&topic, QoS::AtLeastOnce).await.unwrap();
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    let _ = ready.send(());
                }
                Ok(Event::Incoming(Packet::Publish(p))) => sink.push(&p.payload, None),
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    subscribed
        .recv_timeout(Duration::from_secs(10))
        .expect("MQTT subscription acknowledged");
    inbox
}

fn subscribe_nats(rt: &tokio::runtime::Runtime, url: &str, subject: &str) -> Inbox {
    use futures::StreamExt;
    let inbox = Inbox::default();
    let (client, mut sub) = rt.block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let sub = client.subscribe(subject.to_string()).await.unwrap();
        // The server has the subscription once it answers a flush.
        client.flush().await.unwrap();
        (client, sub)
    });
    let sink = inbox.clone();
    rt.spawn(async move {
        let _client = client;
        while let Some(msg) = sub.next().await {
            sink.push(&msg.payload, None);
        }
    });
    inbox
}

/// A webhook receiver: records each POST and answers `status`.
struct Webhook {
    inbox: Inbox,
    status: Arc<AtomicU16>,
    url: String,
}

#[derive(Clone)]
struct HookState {
    inbox: Inbox,
    status: Arc<AtomicU16>,
}

async fn receive(State(h): State<HookState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let status = StatusCode::from_u16(h.status.load(Ordering::SeqCst)).unwrap();
    if status.is_success() {
        let ct = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        h.inbox.push(&body, ct);
    }
    status
}

/// Starts a webhook receiver on 127.0.0.1:`port` (0: any free port).
fn webhook(rt: &tokio::runtime::Runtime, port: u16) -> Webhook {
    let state = HookState {
        inbox: Inbox::default(),
        status: Arc::new(AtomicU16::new(200)),
    };
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
        .unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(state.clone());
    rt.spawn(async move { axum::serve(listener, app).await });
    Webhook {
        inbox: state.inbox,
        status: state.status,
        url,
    }
}

// ----- tests -----------------------------------------------------------------------

/// Finds the one event of `type` (and `subject`, when given).
fn find<'a>(events: &'a [Json], event_type: &str, subject: Option<&str>) -> &'a Json {
    let hits: Vec<&Json> = events
        .iter()
        .filter(|e| e["type"] == event_type && subject.is_none_or(|s| e["subject"] == s))
        .collect();
    assert_eq!(hits.len(), 1, "one {event_type} {subject:?} in {events:#?}");
    hits[0]
}

fn is_adt_time(t: &Json) -> bool {
    t.as_str().is_some_and(|t| {
        t.len() == 28 && t.ends_with('Z') && t.as_bytes()[10] == b'T' && t.as_bytes()[19] == b'.'
    })
}

#[test]
fn every_event_type_reaches_mqtt_nats_and_a_webhook_with_adt_bodies() {
    let rt = runtime();
    let mqtt = Broker::mosquitto();
    let nats = Broker::nats();
    let mqtt_inbox = subscribe_mqtt(&rt, mqtt.port, "twins/events");
    let nats_inbox = subscribe_nats(&rt, &nats.url("nats"), "twins.events");
    let hook = webhook(&rt, 0);

    let s = Server::start(None);
    setup_models(&s);
    put_endpoint(
        &s,
        "mq",
        json!({"type": "mqtt", "url": mqtt.url("mqtt"), "topic": "twins/events"}),
    );
    let nt = put_endpoint(
        &s,
        "nt",
        json!({"type": "nats", "url": nats.url("nats"), "subject": "twins.events"}),
    );
    assert_eq!(
        nt,
        json!({"name": "nt", "type": "nats", "url": nats.url("nats"), "subject": "twins.events",
               "status": {"backlog": 0, "delivered": 0, "deadLettered": 0, "retrying": false,
                          "lastError": null, "lastErrorTime": null}})
    );
    put_endpoint(&s, "wh", json!({"type": "webhook", "url": hook.url}));
    put_route(&s, "all", "mq", "true");
    put_route(
        &s,
        "no-telemetry",
        "nt",
        "type != 'microsoft.iot.telemetry'",
    );
    put_route(
        &s,
        "rels-and-warm-telemetry",
        "wh",
        "STARTS_WITH(type, 'Microsoft.DigitalTwins.Relationship') OR (type = 'microsoft.iot.telemetry' AND $body.temperature > 20)",
    );

    // Every kind of change, and telemetry.
    let f1 = ok(
        s.api(
            "PUT",
            "/digitaltwins/f1",
            Some(&json!({"$metadata": {"$model": FLOOR}, "name": "F1"})),
            &[],
        ),
        200,
    )
    .json();
    let trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let r1 = ok(
        s.api(
            "PUT",
            "/digitaltwins/r1",
            Some(&room(20.5)),
            &[("traceparent", trace)],
        ),
        200,
    )
    .json();
    let twin_patch = json!([{"op": "replace", "path": "/temperature", "value": 23.5}]);
    ok(
        s.api("PATCH", "/digitaltwins/r1", Some(&twin_patch), &[]),
        204,
    );
    let comp_patch = json!([{"op": "replace", "path": "/setpoint", "value": 19.0}]);
    ok(
        s.api(
            "PATCH",
            "/digitaltwins/r1/components/thermostat",
            Some(&comp_patch),
            &[],
        ),
        204,
    );
    let rel = ok(
        s.api(
            "PUT",
            "/digitaltwins/f1/relationships/c1",
            Some(&json!({"$relationshipName": "hasRoom", "$targetId": "r1", "note": "a"})),
            &[],
        ),
        200,
    )
    .json();
    let rel_patch = json!([{"op": "replace", "path": "/note", "value": "b"}]);
    ok(
        s.api(
            "PATCH",
            "/digitaltwins/f1/relationships/c1",
            Some(&rel_patch),
            &[],
        ),
        204,
    );
    let rel_before_delete = s
        .api("GET", "/digitaltwins/f1/relationships/c1", None, &[])
        .json();
    ok(
        s.api("DELETE", "/digitaltwins/f1/relationships/c1", None, &[]),
        204,
    );
    ok(
        s.api(
            "POST",
            "/digitaltwins/r1/telemetry",
            Some(&json!({"temperature": 22.1})),
            &[
                ("Message-Id", "m-1"),
                ("Telemetry-Source-Time", "2024-01-02T03:04:05.5Z"),
            ],
        ),
        204,
    );
    ok(
        s.api(
            "POST",
            "/digitaltwins/r1/components/thermostat/telemetry",
            Some(&json!({"setpoint": 18})),
            &[("Message-Id", "m-2")],
        ),
        204,
    );
    let r1_before_delete = s.api("GET", "/digitaltwins/r1", None, &[]).json();
    ok(s.api("DELETE", "/digitaltwins/r1", None, &[]), 204);
    let f1_before_delete = s.api("GET", "/digitaltwins/f1", None, &[]).json();
    ok(s.api("DELETE", "/digitaltwins/f1", None, &[]), 204);

    // MQTT: the route `true` carries all eleven, in order.
    let all = mqtt_inbox.wait(11, Duration::from_secs(20), "MQTT");
    let order: Vec<(&str, &str)> = all
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["subject"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("Microsoft.DigitalTwins.Twin.Create", "f1"),
            ("Microsoft.DigitalTwins.Twin.Create", "r1"),
            ("Microsoft.DigitalTwins.Twin.Update", "r1"),
            ("Microsoft.DigitalTwins.Twin.Update", "r1"),
            (
                "Microsoft.DigitalTwins.Relationship.Create",
                "f1/relationships/c1"
            ),
            (
                "Microsoft.DigitalTwins.Relationship.Update",
                "f1/relationships/c1"
            ),
            (
                "Microsoft.DigitalTwins.Relationship.Delete",
                "f1/relationships/c1"
            ),
            ("microsoft.iot.telemetry", ""),
            ("microsoft.iot.telemetry", "thermostat"),
            ("Microsoft.DigitalTwins.Twin.Delete", "r1"),
            ("Microsoft.DigitalTwins.Twin.Delete", "f1"),
        ]
    );
    let source = s.addr.to_string();
    for e in &all {
        assert_eq!(e["specversion"], "1.0", "{e}");
        assert_eq!(e["datacontenttype"], "application/json", "{e}");
        assert!(is_adt_time(&e["time"]), "{e}");
        let tp = e["traceparent"].as_str().unwrap();
        assert!(tp.len() == 55 && tp.starts_with("00-"), "{e}");
        if e["type"] == "microsoft.iot.telemetry" {
            assert_eq!(e["source"], format!("{source}/digitaltwins/r1"), "{e}");
        } else {
            assert_eq!(e["source"], source, "{e}");
            assert!(e.get("dataschema").is_none(), "{e}");
        }
    }
    let ids: HashSet<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 11, "ids are unique");
    // Bodies as ADT has them.
    assert_eq!(all[0]["data"], f1);
    assert_eq!(all[1]["data"], r1);
    assert_eq!(
        all[2]["data"],
        json!({"modelId": ROOM, "patch": twin_patch})
    );
    // A component's patch names the component, as in ADT's example.
    assert_eq!(
        all[3]["data"],
        json!({"modelId": ROOM, "patch": [{"op": "replace", "path": "/thermostat/setpoint", "value": 19.0}]})
    );
    assert_eq!(all[4]["data"], rel);
    assert_eq!(
        all[5]["data"],
        json!({"modelId": FLOOR, "patch": rel_patch})
    );
    assert_eq!(all[6]["data"], rel_before_delete);
    assert_eq!(all[7]["id"], "m-1");
    assert_eq!(all[7]["data"], json!({"temperature": 22.1}));
    assert_eq!(all[7]["time"], "2024-01-02T03:04:05.5000000Z");
    assert_eq!(all[7]["dataschema"], ROOM);
    assert!(all[7].get("subject").is_none());
    assert_eq!(all[8]["id"], "m-2");
    assert_eq!(all[8]["data"], json!({"setpoint": 18}));
    assert_eq!(all[8]["dataschema"], THERMOSTAT);
    assert_eq!(all[9]["data"], r1_before_delete);
    assert_eq!(all[10]["data"], f1_before_delete);
    // The request's trace goes on in its notification, in a span of its own.
    let tp = all[1]["traceparent"].as_str().unwrap();
    assert!(
        tp.starts_with("00-0af7651916cd43dd8448eb211c80319c-") && !tp.contains("b7ad6b7169203331"),
        "{tp}"
    );
    assert!(
        !all[0]["traceparent"]
            .as_str()
            .unwrap()
            .contains("0af7651916cd43dd")
    );

    // NATS: everything but telemetry, the same events.
    let nats_events = nats_inbox.wait(9, Duration::from_secs(20), "NATS");
    let expected: Vec<&Json> = all
        .iter()
        .filter(|e| e["type"] != "microsoft.iot.telemetry")
        .collect();
    assert_eq!(nats_events.iter().collect::<Vec<_>>(), expected);

    // Webhook: the relationship events and the warm telemetry, in
    // CloudEvents' structured mode.
    let hooked = hook.inbox.wait(4, Duration::from_secs(20), "webhook");
    assert_eq!(
        hooked,
        [&all[4], &all[5], &all[6], &all[7]].map(Clone::clone)
    );
    assert!(
        hook.inbox
            .content_types()
            .iter()
            .all(|c| c.as_deref() == Some("application/cloudevents+json; charset=utf-8")),
        "{:?}",
        hook.inbox.content_types()
    );
    let _ = find(&hooked, "microsoft.iot.telemetry", None);

    // Filtered-out events never come, and nothing comes twice.
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(mqtt_inbox.events().len(), 11);
    assert_eq!(nats_inbox.events().len(), 9);
    assert_eq!(hook.inbox.events().len(), 4);
    let status = s.api("GET", "/endpoints/wh", None, &[]).json()["status"].clone();
    assert_eq!(status["delivered"], 4, "{status}");
    assert_eq!(status["backlog"], 0, "{status}");
}

#[test]
fn routes_and_endpoints_are_validated() {
    let s = Server::start(None);
    // Endpoints.
    let bad = |body: Json, want: &str| {
        let msg = s
            .api("PUT", "/endpoints/e1", Some(&body), &[])
            .assert_adt_error(400, "EndpointInvalid");
        assert!(msg.contains(want), "{msg}");
    };
    bad(json!({"type": "kafka", "url": "x"}), "not supported");
    bad(json!({"type": "webhook"}), "\"url\"");
    bad(json!({"type": "webhook", "url": "ftp://h"}), "http://");
    bad(
        json!({"type": "mqtt", "url": "mqtt://127.0.0.1:1883"}),
        "\"topic\"",
    );
    bad(
        json!({"type": "mqtt", "url": "mqtt://h", "topic": "a/#"}),
        "'#'",
    );
    bad(
        json!({"type": "nats", "url": "nats://h", "subject": "a.>"}),
        "wildcards",
    );
    bad(
        json!({"type": "webhook", "url": "http://h", "retry": {"maxAttempts": 0}}),
        "maxAttempts",
    );
    s.api(
        "PUT",
        "/endpoints/bad%20name",
        Some(&json!({"type": "webhook", "url": "http://h"})),
        &[],
    )
    .assert_adt_error(400, "EndpointInvalid");
    s.api("GET", "/endpoints/nope", None, &[])
        .assert_adt_error(404, "EndpointNotFound");
    s.api("DELETE", "/endpoints/nope", None, &[])
        .assert_adt_error(404, "EndpointNotFound");
    s.api("GET", "/endpoints/nope/deadletters", None, &[])
        .assert_adt_error(404, "EndpointNotFound");
    put_endpoint(
        &s,
        "e1",
        json!({"type": "webhook", "url": "http://127.0.0.1:9/x", "retry": {"maxAttempts": 3}}),
    );
    let list = s.api("GET", "/endpoints", None, &[]).json();
    assert_eq!(list["value"][0]["name"], "e1");
    assert_eq!(list["value"][0]["retry"], json!({"maxAttempts": 3}));
    assert_eq!(list["nextLink"], Json::Null);
    // Replacing keeps the name and changes the rest.
    let e = put_endpoint(
        &s,
        "e1",
        json!({"type": "nats", "url": "nats://127.0.0.1:9", "subject": "s"}),
    );
    assert_eq!(e["type"], "nats");
    assert!(e.get("retry").is_none());

    // Routes: ADT's errors, in ADT's words.
    let msg = s
        .api(
            "PUT",
            "/eventroutes/r1",
            Some(&json!({"endpointName": "nope", "filter": "true"})),
            &[],
        )
        .assert_adt_error(400, "EventRouteEndpointInvalid");
    assert!(
        msg.starts_with("The endpoint provided does not exist or is not active."),
        "{msg}"
    );
    let msg = s
        .api(
            "PUT",
            "/eventroutes/r1",
            Some(&json!({"endpointName": "e1", "filter": "this is not a valid filter string"})),
            &[],
        )
        .assert_adt_error(400, "EventRouteFilterInvalid");
    assert!(
        msg.starts_with("The provided filter is invalid. Parsing error, Line=1, Position=6, Message=Unexpected input 'is'"),
        "{msg}"
    );
    let msg = s
        .api(
            "PUT",
            "/eventroutes/r1",
            Some(&json!({"endpointName": "e1", "filter": "type = 'a' AND (subject = 'b'"})),
            &[],
        )
        .assert_adt_error(400, "EventRouteFilterInvalid");
    assert!(msg.contains("Position=30"), "{msg}");
    // The legacy form the real service still accepts.
    put_route(
        &s,
        "legacy",
        "e1",
        "$eventType = 'DigitalTwinTelemetryMessages' or $eventType = 'DigitalTwinLifecycleNotification'",
    );
    put_route(&s, "off", "e1", "false");
    // An endpoint in use cannot go.
    let msg = s
        .api("DELETE", "/endpoints/e1", None, &[])
        .assert_adt_error(409, "EndpointInUse");
    assert!(msg.contains("legacy") && msg.contains("off"), "{msg}");
    ok(s.api("DELETE", "/eventroutes/legacy", None, &[]), 204);
    ok(s.api("DELETE", "/eventroutes/off", None, &[]), 204);
    ok(s.api("DELETE", "/endpoints/e1", None, &[]), 204);
    s.api("GET", "/endpoints/e1", None, &[])
        .assert_adt_error(404, "EndpointNotFound");
    assert_eq!(
        s.api("GET", "/endpoints", None, &[]).json(),
        json!({"value": [], "nextLink": null})
    );
}

/// POSTs telemetry `m-{i}` for each `i`; returns how long it took.
fn telemetry_burst(s: &Server, range: std::ops::Range<usize>) -> Duration {
    let started = Instant::now();
    for i in range {
        let id = format!("m-{i}");
        ok(
            s.api(
                "POST",
                "/digitaltwins/t/telemetry",
                Some(&json!({"i": i})),
                &[("Message-Id", &id)],
            ),
            204,
        );
    }
    started.elapsed()
}

#[test]
fn a_dead_webhook_does_not_slow_writes_and_gets_everything_in_order_across_a_crash() {
    let rt = runtime();
    let s = Server::start(None);
    setup_models(&s);
    ok(s.api("PUT", "/digitaltwins/t", Some(&room(20.0)), &[]), 200);
    const N: usize = 100;
    // A healthy webhook gets every telemetry event throughout.
    let healthy = webhook(&rt, 0);
    put_endpoint(
        &s,
        "healthy",
        json!({"type": "webhook", "url": healthy.url}),
    );
    put_route(
        &s,
        "to-healthy",
        "healthy",
        "type = 'microsoft.iot.telemetry'",
    );
    // Warm up, then time a burst with only the healthy endpoint.
    telemetry_burst(&s, 0..20);
    let baseline = telemetry_burst(&s, 20..20 + N);

    // A webhook on a port where nothing listens: every attempt is refused.
    let port = harness::free_port();
    put_endpoint(
        &s,
        "later",
        json!({"type": "webhook", "url": format!("http://127.0.0.1:{port}/hook"),
               "retry": {"maxAttempts": 1000, "backoffMs": 20, "maxBackoffMs": 200}}),
    );
    put_route(&s, "to-later", "later", "type = 'microsoft.iot.telemetry'");
    let with_dead = telemetry_burst(&s, 1000..1000 + N);
    eprintln!(
        "{N} writes: {baseline:?} with a healthy endpoint, {with_dead:?} with a dead one too"
    );
    assert!(
        with_dead < baseline * 3 + Duration::from_secs(2),
        "writes slowed down by a dead endpoint: {with_dead:?} vs {baseline:?}"
    );
    let status = harness::wait_for(Duration::from_secs(10), || {
        let st = s.api("GET", "/endpoints/later", None, &[]).json()["status"].clone();
        (st["retrying"] == true).then_some(st)
    })
    .expect("the endpoint is retrying");
    assert_eq!(status["delivered"], 0, "{status}");
    assert!(
        status["lastError"]
            .as_str()
            .unwrap()
            .contains(&port.to_string()),
        "{status}"
    );
    // The dead endpoint holds back nobody else.
    let all = healthy
        .inbox
        .wait(20 + 2 * N, Duration::from_secs(30), "healthy");
    assert_eq!(all.len(), 20 + 2 * N);

    // The server dies with all of them undelivered, and comes back.
    let dir = s.kill();
    let s = Server::start_in(dir, None);
    let more = telemetry_burst(&s, 1000 + N..1000 + N + 10);
    assert!(more < Duration::from_secs(10));
    // The endpoint comes up: everything since it was created arrives, in order.
    let hook = webhook(&rt, port);
    let got = hook
        .inbox
        .wait(N + 10, Duration::from_secs(60), "after the restart");
    let seq: Vec<usize> = got
        .iter()
        .map(|e| {
            e["id"].as_str().unwrap()["m-".len()..]
                .parse::<usize>()
                .unwrap()
        })
        .collect();
    assert!(
        seq.windows(2).all(|w| w[0] <= w[1]),
        "out of order: {seq:?}"
    );
    let distinct: Vec<usize> = {
        let mut d = seq.clone();
        d.dedup();
        d
    };
    assert_eq!(distinct, (1000..1000 + N + 10).collect::<Vec<_>>());
    assert!(got.iter().all(|e| e["type"] == "microsoft.iot.telemetry"));
    let status = harness::wait_for(Duration::from_secs(10), || {
        let st = s.api("GET", "/endpoints/later", None, &[]).json()["status"].clone();
        (st["backlog"] == 0 && st["retrying"] == false).then_some(st)
    });
    assert!(status.is_some(), "the endpoint caught up");
}

#[test]
fn exhausted_retries_land_in_the_dead_letters() {
    let rt = runtime();
    let hook = webhook(&rt, 0);
    hook.status.store(500, Ordering::SeqCst);
    let s = Server::start(None);
    setup_models(&s);
    put_endpoint(
        &s,
        "failing",
        json!({"type": "webhook", "url": hook.url, "retry": {"maxAttempts": 2, "backoffMs": 10}}),
    );
    put_route(
        &s,
        "creates",
        "failing",
        "type = 'Microsoft.DigitalTwins.Twin.Create'",
    );
    ok(s.api("PUT", "/digitaltwins/a", Some(&room(1.0)), &[]), 200);
    ok(s.api("PUT", "/digitaltwins/b", Some(&room(2.0)), &[]), 200);
    let dead = harness::wait_for(Duration::from_secs(20), || {
        let v = s
            .api("GET", "/endpoints/failing/deadletters", None, &[])
            .json();
        (v["value"].as_array().unwrap().len() == 2).then_some(v)
    })
    .expect("two dead letters");
    let first = &dead["value"][0];
    assert_eq!(first["event"]["type"], "Microsoft.DigitalTwins.Twin.Create");
    assert_eq!(first["event"]["subject"], "a");
    assert_eq!(first["event"]["data"]["$dtId"], "a");
    assert_eq!(first["attempts"], 2);
    assert_eq!(first["routes"], json!(["creates"]));
    assert!(first["error"].as_str().unwrap().contains("500"), "{first}");
    assert_eq!(dead["value"][1]["event"]["subject"], "b");
    let status = s.api("GET", "/endpoints/failing", None, &[]).json()["status"].clone();
    assert_eq!(status["deadLettered"], 2, "{status}");
    assert_eq!(status["delivered"], 0, "{status}");

    // Dead letters are durable; the endpoint goes on with new events.
    let dir = s.kill();
    let s = Server::start_in(dir, None);
    assert_eq!(
        s.api("GET", "/endpoints/failing/deadletters", None, &[])
            .json(),
        dead
    );
    hook.status.store(200, Ordering::SeqCst);
    ok(s.api("PUT", "/digitaltwins/c", Some(&room(3.0)), &[]), 200);
    let got = hook
        .inbox
        .wait(1, Duration::from_secs(20), "after the dead letters");
    assert_eq!(got[0]["subject"], "c");
    ok(
        s.api("DELETE", "/endpoints/failing/deadletters", None, &[]),
        204,
    );
    assert_eq!(
        s.api("GET", "/endpoints/failing/deadletters", None, &[])
            .json(),
        json!({"value": [], "nextLink": null})
    );
}

/// `twinscape ARGS…` against `s` (auth is off); (exit code, stdout, stderr).
fn cli(s: &Server, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_twinscape"))
        .args(args)
        .env("TWINSCAPE_ENDPOINT", s.url(""))
        .env("RUST_LOG", "error")
        .env_remove("TWINSCAPE_TOKEN")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cli_ok(s: &Server, args: &[&str]) -> String {
    let (code, out, err) = cli(s, args);
    assert_eq!(code, 0, "twinscape {args:?}\nstdout: {out}\nstderr: {err}");
    out
}

#[test]
fn the_cli_manages_endpoints_and_routes_and_the_source_is_configurable() {
    let rt = runtime();
    let hook = webhook(&rt, 0);
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with_args(
        dir,
        &["--auth", "none", "--event-source", "twins.example.com"],
    );
    setup_models(&s);
    let created: Json = serde_json::from_str(&cli_ok(
        &s,
        &[
            "endpoint",
            "create",
            "wh",
            "--type",
            "webhook",
            "--url",
            &hook.url,
            "--max-attempts",
            "5",
            "--output",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(created["type"], "webhook");
    assert_eq!(created["retry"], json!({"maxAttempts": 5}));
    cli_ok(
        &s,
        &[
            "route",
            "create",
            "creates",
            "--endpoint-name",
            "wh",
            "--filter",
            "type = 'Microsoft.DigitalTwins.Twin.Create'",
        ],
    );
    let routes = cli_ok(&s, &["route", "list"]);
    assert!(
        routes.contains("creates") && routes.contains("Microsoft.DigitalTwins.Twin.Create"),
        "{routes}"
    );
    ok(s.api("PUT", "/digitaltwins/r", Some(&room(1.0)), &[]), 200);
    let got = hook.inbox.wait(1, Duration::from_secs(20), "webhook");
    assert_eq!(got[0]["source"], "twins.example.com");
    assert_eq!(got[0]["subject"], "r");
    let list = cli_ok(&s, &["endpoint", "list"]);
    assert!(list.contains("wh") && list.contains(&hook.url), "{list}");
    let shown: Json =
        serde_json::from_str(&cli_ok(&s, &["endpoint", "show", "wh", "-o", "json"])).unwrap();
    assert_eq!(shown["status"]["delivered"], 1, "{shown}");
    let dead: Json = serde_json::from_str(&cli_ok(
        &s,
        &["endpoint", "dead-letters", "wh", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(dead, json!({"value": []}));
    let (code, _, err) = cli(&s, &["endpoint", "delete", "wh"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("EndpointInUse") || err.contains("creates"),
        "{err}"
    );
    cli_ok(&s, &["route", "delete", "creates"]);
    cli_ok(&s, &["endpoint", "delete", "wh"]);
    assert!(cli_ok(&s, &["endpoint", "list"]).contains("0 endpoint(s)"));
}
