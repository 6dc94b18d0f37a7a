//! The live feed over a real WebSocket: snapshot, ordered deltas after each
//! durable write, and resuming after a reconnect.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

#[path = "harness/mod.rs"]
mod harness;

use futures::{SinkExt, StreamExt};
use harness::Server;
use serde_json::{Value as Json, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use twinscape_demo::twins as demo;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(s: &Server, hello: Json) -> Socket {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/live", s.addr))
        .await
        .unwrap();
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    ws
}

async fn next(ws: &mut Socket) -> Json {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// Reads a whole snapshot; returns (seq, twin ids, relationship count, model count).
async fn read_snapshot(ws: &mut Socket) -> (u64, Vec<String>, usize, usize) {
    let (mut twins, mut rels, mut models) = (Vec::new(), 0, 0);
    loop {
        let m = next(ws).await;
        match m["type"].as_str().unwrap() {
            "snapshot" => {
                twins.extend(
                    m["twins"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|t| t["$dtId"].as_str().unwrap().to_string()),
                );
                rels += m["relationships"].as_array().map_or(0, Vec::len);
                models += m["models"].as_array().map_or(0, Vec::len);
            }
            "snapshotEnd" => return (m["seq"].as_u64().unwrap(), twins, rels, models),
            "delta" => {} // decommission markers inside the snapshot
            other => panic!("unexpected {other}: {m}"),
        }
    }
}

fn room(name: &str) -> Json {
    json!({"$metadata": {"$model": demo::ROOM}, "name": name, "temperature": 20.0, "thermostat": {"$metadata": {}, "setpoint": 21.0}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_deltas_and_resume() {
    let s = Server::start(None);
    assert_eq!(
        s.api("POST", "/models", Some(&Json::Array(demo::models())), &[])
            .status,
        201
    );
    for i in 0..3 {
        assert_eq!(
            s.api(
                "PUT",
                &format!("/digitaltwins/r{i}"),
                Some(&room(&format!("R{i}"))),
                &[]
            )
            .status,
            200
        );
    }
    let mut ws = connect(&s, json!({"type": "hello"})).await;
    let welcome = next(&mut ws).await;
    assert_eq!(welcome["type"], "welcome");
    let epoch = welcome["epoch"].as_str().unwrap().to_string();
    let (seq, mut twins, rels, models) = read_snapshot(&mut ws).await;
    twins.sort();
    assert_eq!(twins, ["r0", "r1", "r2"]);
    assert_eq!((rels, models), (0, 8));

    // A patch through REST arrives as the next delta, with the stored twin.
    let r = s.api(
        "PATCH",
        "/digitaltwins/r1",
        Some(&json!([{"op": "replace", "path": "/temperature", "value": 25.5}])),
        &[],
    );
    assert_eq!(r.status, 204);
    let d = next(&mut ws).await;
    assert_eq!(d["type"], "delta");
    assert_eq!(d["seq"], seq + 1);
    assert_eq!(d["ops"][0]["op"], "putTwin");
    assert_eq!(d["ops"][0]["twin"]["temperature"], 25.5);
    assert_eq!(d["ops"][0]["twin"]["$etag"], r.header("etag").unwrap());

    // Relationships and deletes.
    let floor = json!({"$metadata": {"$model": demo::FLOOR}, "name": "F", "level": 1});
    s.api("PUT", "/digitaltwins/f1", Some(&floor), &[]);
    s.api(
        "PUT",
        "/digitaltwins/f1/relationships/c1",
        Some(&json!({"$relationshipName": "hasRoom", "$targetId": "r1"})),
        &[],
    );
    s.api("DELETE", "/digitaltwins/f1/relationships/c1", None, &[]);
    let kinds: Vec<(u64, String)> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            let d = next(&mut ws).await;
            v.push((
                d["seq"].as_u64().unwrap(),
                d["ops"][0]["op"].as_str().unwrap().to_string(),
            ));
        }
        v
    };
    assert_eq!(
        kinds,
        [
            (seq + 2, "putTwin".into()),
            (seq + 3, "putRelationship".into()),
            (seq + 4, "deleteRelationship".into())
        ]
    );
    drop(ws);

    // While disconnected: two more writes. A resume gets exactly those.
    s.api(
        "PATCH",
        "/digitaltwins/r0",
        Some(&json!([{"op": "replace", "path": "/temperature", "value": 19.0}])),
        &[],
    );
    s.api("DELETE", "/digitaltwins/r2", None, &[]);
    let mut ws = connect(
        &s,
        json!({"type": "hello", "resume": {"epoch": epoch, "seq": seq + 4}}),
    )
    .await;
    assert_eq!(next(&mut ws).await["type"], "welcome");
    let a = next(&mut ws).await;
    let b = next(&mut ws).await;
    assert_eq!(
        (a["type"].as_str(), a["seq"].as_u64()),
        (Some("delta"), Some(seq + 5))
    );
    assert_eq!(a["ops"][0]["twin"]["temperature"], 19.0);
    assert_eq!(
        (
            b["seq"].as_u64(),
            b["ops"][0]["op"].as_str(),
            b["ops"][0]["id"].as_str()
        ),
        (Some(seq + 6), Some("deleteTwin"), Some("r2"))
    );

    // A resume from another epoch (another server run) starts over.
    let mut ws = connect(
        &s,
        json!({"type": "hello", "resume": {"epoch": "not-this-one", "seq": 3}}),
    )
    .await;
    assert_eq!(next(&mut ws).await["type"], "welcome");
    let (seq2, mut twins, _, _) = read_snapshot(&mut ws).await;
    twins.sort();
    assert_eq!(seq2, seq + 6);
    assert_eq!(twins, ["f1", "r0", "r1"]);

    // A bad hello gets an error.
    let mut bad = connect(&s, json!({"type": "nonsense"})).await;
    assert_eq!(next(&mut bad).await["type"], "error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_needs_a_token_when_auth_is_on() {
    let s = Server::start_with_auth("local");
    let mut ws = connect(&s, json!({"type": "hello"})).await;
    let m = next(&mut ws).await;
    assert_eq!(
        (m["type"].as_str(), m["code"].as_str()),
        (Some("error"), Some("Unauthorized")),
        "{m}"
    );
    let mut ws = connect(&s, json!({"type": "hello", "token": "not-a-token"})).await;
    assert_eq!(next(&mut ws).await["code"], "Unauthorized");
    // A reader may follow the feed.
    let mut ws = connect(&s, json!({"type": "hello", "token": s.token("reader")})).await;
    assert_eq!(next(&mut ws).await["type"], "welcome");
    let (seq, twins, _, _) = read_snapshot(&mut ws).await;
    assert_eq!((seq, twins.len()), (0, 0));
    // Or send the token as a header.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/live", s.addr),
    )
    .unwrap();
    req.headers_mut().insert(
        "Authorization",
        format!("Bearer {}", s.token("owner")).parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws.send(Message::Text(json!({"type": "hello"}).to_string().into()))
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await["type"], "welcome");
}

fn patch_temperature(s: &Server, id: &str, t: f64) {
    let r = s.api(
        "PATCH",
        &format!("/digitaltwins/{id}"),
        Some(&json!([{"op": "replace", "path": "/temperature", "value": t}])),
        &[],
    );
    assert_eq!(r.status, 204);
}

/// The ops of the next delta as (op, twin id or relationship id).
async fn next_ops(ws: &mut Socket) -> Vec<(String, String)> {
    let d = next(ws).await;
    assert_eq!(d["type"], "delta", "{d}");
    d["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| {
            let id = op["twin"]["$dtId"]
                .as_str()
                .or(op["relationship"]["$relationshipId"].as_str())
                .or(op["id"].as_str())
                .unwrap_or_default();
            (op["op"].as_str().unwrap().to_string(), id.to_string())
        })
        .collect()
}

fn ops(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_limits_the_replica() {
    let s = Server::start(None);
    s.api("POST", "/models", Some(&Json::Array(demo::models())), &[]);
    for (id, t) in [("r0", 20.0), ("r1", 25.0)] {
        let mut doc = room(id);
        doc["temperature"] = json!(t);
        assert_eq!(
            s.api("PUT", &format!("/digitaltwins/{id}"), Some(&doc), &[])
                .status,
            200
        );
    }
    let floor = json!({"$metadata": {"$model": demo::FLOOR}, "name": "F", "level": 1});
    s.api("PUT", "/digitaltwins/f1", Some(&floor), &[]);
    let rel = |target: &str| json!({"$relationshipName": "hasRoom", "$targetId": target});
    let r = s.api(
        "PUT",
        "/digitaltwins/f1/relationships/c0",
        Some(&rel("r0")),
        &[],
    );
    assert_eq!(r.status, 200);

    // One collection: the warm rooms.
    let hot = "SELECT * FROM DIGITALTWINS T WHERE T.temperature > 22";
    let mut ws = connect(&s, json!({"type": "hello", "query": hot})).await;
    assert_eq!(next(&mut ws).await["type"], "welcome");
    let (_, twins, rels, models) = read_snapshot(&mut ws).await;
    assert_eq!((twins, rels, models), (vec!["r1".to_string()], 0, 8));
    // r0 warms up: it enters, whole.
    patch_temperature(&s, "r0", 30.0);
    assert_eq!(next_ops(&mut ws).await, ops(&[("putTwin", "r0")]));
    // r1 cools down: it leaves.
    patch_temperature(&s, "r1", 10.0);
    assert_eq!(next_ops(&mut ws).await, ops(&[("deleteTwin", "r1")]));
    // Changes outside the scope are not sent: the next message is r0's.
    patch_temperature(&s, "r1", 11.0);
    s.api("PUT", "/digitaltwins/f2", Some(&floor), &[]);
    patch_temperature(&s, "r0", 31.0);
    let d = next(&mut ws).await;
    assert_eq!(d["ops"][0]["twin"]["temperature"], 31.0, "{d}");

    // JOIN: floor f1 and its rooms, with the relationships between them.
    let f1 = "SELECT R FROM DIGITALTWINS F JOIN R RELATED F.hasRoom WHERE F.$dtId = 'f1'";
    let mut ws = connect(&s, json!({"type": "hello", "query": f1})).await;
    assert_eq!(next(&mut ws).await["type"], "welcome");
    let (_, mut twins, rels, _) = read_snapshot(&mut ws).await;
    twins.sort();
    assert_eq!((twins, rels), (vec!["f1".to_string(), "r0".into()], 1));
    // A new relationship brings its room, then the relationship.
    s.api(
        "PUT",
        "/digitaltwins/f1/relationships/c1",
        Some(&rel("r1")),
        &[],
    );
    assert_eq!(
        next_ops(&mut ws).await,
        ops(&[("putTwin", "r1"), ("putRelationship", "c1")])
    );
    // Removing one takes its room out.
    s.api("DELETE", "/digitaltwins/f1/relationships/c0", None, &[]);
    assert_eq!(
        next_ops(&mut ws).await,
        ops(&[("deleteTwin", "r0"), ("deleteRelationship", "c0")])
    );

    // Scopes must select twins, and parse.
    for bad in [
        "SELECT * FROM RELATIONSHIPS R",
        "SELECT * FROM DIGITALTWINS WHERE",
    ] {
        let mut ws = connect(&s, json!({"type": "hello", "query": bad})).await;
        let m = next(&mut ws).await;
        assert_eq!(
            (m["type"].as_str(), m["code"].as_str()),
            (Some("error"), Some("BadRequest")),
            "{m}"
        );
        assert!(
            m["message"]
                .as_str()
                .unwrap()
                .starts_with("invalid live scope"),
            "{m}"
        );
    }
}
