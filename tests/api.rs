//! ADT's data plane over HTTP against a real `twinscape serve`: models,
//! twins, components, relationships, query, telemetry, event routes, errors,
//! and durability across a restart.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

#[path = "harness/mod.rs"]
mod harness;

use harness::Server;
use serde_json::{Value as Json, json};
use twinscape_demo::twins as demo;

fn upload_demo_models(s: &Server) {
    let r = s.api("POST", "/models", Some(&Json::Array(demo::models())), &[]);
    assert_eq!(r.status, 201, "{}", r.text());
}

fn room(name: &str) -> Json {
    json!({
        "$metadata": {"$model": demo::ROOM},
        "name": name,
        "temperature": 21.5,
        "thermostat": {"$metadata": {}, "setpoint": 21.0}
    })
}

#[test]
fn requests_without_api_version_are_refused() {
    let s = Server::start(None);
    s.get("/models")
        .assert_adt_error(400, "MissingApiVersionParameter");
    s.get("/digitaltwins/x?api-version=1999-01-01")
        .assert_adt_error(400, "InvalidApiVersionParameter");
}

#[test]
fn models_upload_list_get_decommission_delete() {
    let s = Server::start(None);
    let r = s.api("POST", "/models", Some(&Json::Array(demo::models())), &[]);
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    let items = created.as_array().expect("bare array");
    assert_eq!(items.len(), 8);
    let room = items
        .iter()
        .find(|m| m["id"] == demo::ROOM)
        .expect("room model");
    assert_eq!(room["displayName"], json!({"en": "Room"}));
    assert_eq!(room["decommissioned"], false);
    // ADT's form: an offset, trailing zeros trimmed.
    assert!(
        room["uploadTime"]
            .as_str()
            .is_some_and(|t| t.ends_with("+00:00") && t.contains('T')),
        "{room}"
    );
    let keys: Vec<&str> = room
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "description",
            "displayName",
            "decommissioned",
            "uploadTime"
        ]
    );
    s.api("GET", "/models/notADtmi", None, &[])
        .assert_adt_error(400, "InvalidArgument");
    s.api("POST", "/models", Some(&json!([])), &[])
        .assert_adt_error(400, "InvalidArgument");
    s.request("POST", "/models?api-version=2023-10-31", &[], b"")
        .assert_adt_error(400, "BadRequest");

    // Uploading again: 409, nothing changes.
    let again = s.api(
        "POST",
        "/models",
        Some(&json!([demo::models()[0].clone()])),
        &[],
    );
    let msg = again.assert_adt_error(409, "ModelIdAlreadyExists");
    assert!(
        msg.starts_with(&format!(
            "Some of the model ids already exist: {}.",
            demo::THERMOSTAT
        )),
        "{msg}"
    );
    // An invalid model: 400 with the parser's explanation.
    let bad = json!([{"@id": "dtmi:test:Bad;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3", "contents": [{"@type": "Property", "name": "x", "schema": "nope"}]}]);
    let msg = s
        .api("POST", "/models", Some(&bad), &[])
        .assert_adt_error(400, "DTDLParserError");
    assert!(msg.contains("nope"), "{msg}");
    s.api("POST", "/models", Some(&json!({"not": "an array"})), &[])
        .assert_adt_error(400, "InvalidArgument");

    // List with paging through nextLink.
    let mut ids = Vec::new();
    let mut r = s.api("GET", "/models", None, &[("max-items-per-page", "3")]);
    loop {
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        let page = v["value"].as_array().expect("value");
        assert!(page.len() <= 3);
        ids.extend(
            page.iter()
                .map(|m| m["id"].as_str().unwrap_or_default().to_string()),
        );
        assert!(
            page.iter().all(|m| m.get("model").is_none()),
            "no definitions unless asked"
        );
        match v["nextLink"].as_str() {
            Some(link) => {
                let path = link
                    .split_once("//")
                    .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
                    .expect("absolute link");
                r = s.request("GET", path, &[], b"");
            }
            None => break,
        }
    }
    ids.sort();
    let mut want: Vec<String> = demo::models()
        .iter()
        .map(|m| m["@id"].as_str().unwrap_or_default().to_string())
        .collect();
    want.sort();
    assert_eq!(ids, want);
    // dependenciesFor: the room needs its thermostat component.
    let r = s.api(
        "GET",
        &format!("/models?dependenciesFor={}", urlencode(demo::ROOM)),
        None,
        &[],
    );
    let mut deps: Vec<String> = r.json()["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    deps.sort();
    assert_eq!(
        deps,
        [demo::ROOM, demo::THERMOSTAT],
        "extends and component schemas, not relationship targets"
    );
    // Get with and without the definition.
    let r = s.api(
        "GET",
        &format!(
            "/models/{}?includeModelDefinition=true",
            urlencode(demo::ROOM)
        ),
        None,
        &[],
    );
    assert_eq!(r.json()["model"]["@id"], demo::ROOM);
    let r = s.api(
        "GET",
        &format!("/models/{}", urlencode(demo::ROOM)),
        None,
        &[],
    );
    assert!(r.json().get("model").is_none());
    s.api("GET", "/models/dtmi:nope;1", None, &[])
        .assert_adt_error(404, "ModelNotFound");

    // Decommission: no new twins of it, but existing ones stay.
    let patch = json!([{"op": "replace", "path": "/decommissioned", "value": true}]);
    let r = s.api(
        "PATCH",
        &format!("/models/{}", urlencode(demo::SENSOR)),
        Some(&patch),
        &[],
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let r = s.api(
        "GET",
        &format!("/models/{}", urlencode(demo::SENSOR)),
        None,
        &[],
    );
    assert_eq!(r.json()["decommissioned"], true);
    let sensor = json!({"$metadata": {"$model": demo::SENSOR}, "name": "s"});
    s.api("PUT", "/digitaltwins/s1", Some(&sensor), &[])
        .assert_adt_error(400, "ModelDecommissioned");
    s.api(
        "PATCH",
        &format!("/models/{}", urlencode(demo::SENSOR)),
        Some(&json!([{"op": "replace", "path": "/displayName", "value": "x"}])),
        &[],
    )
    .assert_adt_error(400, "JsonPatchInvalid");
    // Delete: refused while other models depend on it.
    s.api(
        "DELETE",
        &format!("/models/{}", urlencode(demo::THERMOSTAT)),
        None,
        &[],
    )
    .assert_adt_error(409, "ModelReferencesNotDeleted");
    let r = s.api(
        "DELETE",
        &format!("/models/{}", urlencode(demo::BUILDING)),
        None,
        &[],
    );
    assert_eq!(r.status, 204, "{}", r.text());
    s.api(
        "GET",
        &format!("/models/{}", urlencode(demo::BUILDING)),
        None,
        &[],
    )
    .assert_adt_error(404, "ModelNotFound");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn twins_components_and_preconditions() {
    let s = Server::start(None);
    upload_demo_models(&s);
    let r = s.api("PUT", "/digitaltwins/room1", Some(&room("Room 1")), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let twin = r.json();
    let etag = r.header("etag").expect("ETag header").to_string();
    assert_eq!(twin["$etag"], etag.as_str());
    assert_eq!(twin["$dtId"], "room1");
    assert_eq!(twin["$metadata"]["$model"], demo::ROOM);
    assert!(twin["$metadata"]["temperature"]["lastUpdateTime"].is_string());
    // If-None-Match: * on an existing twin.
    s.api(
        "PUT",
        "/digitaltwins/room1",
        Some(&room("again")),
        &[("If-None-Match", "*")],
    )
    .assert_adt_error(412, "PreconditionFailed");
    let r = s.api("GET", "/digitaltwins/room1", None, &[]);
    assert_eq!(r.json(), twin, "a refused PUT changes nothing");
    assert_eq!(r.header("etag"), Some(etag.as_str()));

    // PATCH: 204 with the new ETag.
    let patch = json!([{"op": "replace", "path": "/temperature", "value": 23.0}]);
    let r = s.api(
        "PATCH",
        "/digitaltwins/room1",
        Some(&patch),
        &[("If-Match", &etag)],
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let new_etag = r.header("etag").expect("ETag").to_string();
    assert_ne!(new_etag, etag);
    assert!(r.body.is_empty());
    s.api(
        "PATCH",
        "/digitaltwins/room1",
        Some(&patch),
        &[("If-Match", &etag)],
    )
    .assert_adt_error(412, "PreconditionFailed");
    s.api(
        "PATCH",
        "/digitaltwins/room1",
        Some(&json!([{"op": "replace", "path": "/temperature", "value": "hot"}])),
        &[],
    )
    .assert_adt_error(400, "ValidationFailed");
    s.api(
        "PATCH",
        "/digitaltwins/room1",
        Some(&json!([{"op": "remove", "path": "/nothing"}])),
        &[],
    )
    .assert_adt_error(400, "JsonPatchInvalid");
    s.api(
        "PATCH",
        "/digitaltwins/room1",
        Some(&json!({"op": "x"})),
        &[],
    )
    .assert_adt_error(400, "JsonPatchInvalid");
    s.api("PATCH", "/digitaltwins/ghost", Some(&patch), &[])
        .assert_adt_error(404, "DigitalTwinNotFound");
    let r = s.api("GET", "/digitaltwins/room1", None, &[]);
    assert_eq!(r.json()["temperature"], 23.0);
    assert_eq!(r.header("etag"), Some(new_etag.as_str()));

    // Components.
    let r = s.api(
        "GET",
        "/digitaltwins/room1/components/thermostat",
        None,
        &[],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["setpoint"], 21.0);
    assert!(r.json()["$metadata"]["$lastUpdateTime"].is_string());
    let r = s.api(
        "PATCH",
        "/digitaltwins/room1/components/thermostat",
        Some(&json!([{"op": "replace", "path": "/setpoint", "value": 19.5}])),
        &[],
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        s.api("GET", "/digitaltwins/room1", None, &[]).json()["thermostat"]["setpoint"],
        19.5
    );
    s.api("GET", "/digitaltwins/room1/components/nope", None, &[])
        .assert_adt_error(404, "ComponentNotFound");

    // Invalid twins.
    s.api("PUT", "/digitaltwins/bad", Some(&json!({"$metadata": {"$model": demo::ROOM}, "bogus": 1, "thermostat": {"$metadata": {}}})), &[])
        .assert_adt_error(400, "ValidationFailed");
    s.api(
        "PUT",
        "/digitaltwins/bad",
        Some(&json!({"name": "no model"})),
        &[],
    )
    .assert_adt_error(400, "ValidationFailed");
    s.api("GET", "/digitaltwins/bad", None, &[])
        .assert_adt_error(404, "DigitalTwinNotFound");
    // Oversized body.
    let big = json!({"$metadata": {"$model": demo::ROOM}, "name": "x".repeat(40_000)});
    s.api("PUT", "/digitaltwins/big", Some(&big), &[])
        .assert_adt_error(413, "PayloadTooLarge");
    // Not JSON.
    s.request(
        "PUT",
        "/digitaltwins/x?api-version=2023-10-31",
        &[("Content-Type", "application/json")],
        b"{not json",
    )
    .assert_adt_error(400, "InvalidArgument");

    // Delete with If-Match.
    s.api(
        "DELETE",
        "/digitaltwins/room1",
        None,
        &[("If-Match", &etag)],
    )
    .assert_adt_error(412, "PreconditionFailed");
    let r = s.api("DELETE", "/digitaltwins/room1", None, &[]);
    assert_eq!(r.status, 204);
    s.api("DELETE", "/digitaltwins/room1", None, &[])
        .assert_adt_error(404, "DigitalTwinNotFound");
}

#[test]
fn relationships_lists_and_telemetry() {
    let s = Server::start(None);
    upload_demo_models(&s);
    let floor = json!({"$metadata": {"$model": demo::FLOOR}, "name": "F1", "level": 1});
    assert_eq!(
        s.api("PUT", "/digitaltwins/f1", Some(&floor), &[]).status,
        200
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
    for i in 0..3 {
        let r = s.api(
            "PUT",
            &format!("/digitaltwins/f1/relationships/c{i}"),
            Some(&json!({"$relationshipName": "hasRoom", "$targetId": format!("r{i}")})),
            &[],
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["$sourceId"], "f1");
        assert_eq!(r.header("etag"), r.json()["$etag"].as_str());
    }
    let r = s.api("GET", "/digitaltwins/f1/relationships/c1", None, &[]);
    assert_eq!(r.json()["$targetId"], "r1");
    let r = s.api("GET", "/digitaltwins/f1/relationships", None, &[]);
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 3);
    let r = s.api(
        "GET",
        "/digitaltwins/f1/relationships?relationshipName=hasEquipment",
        None,
        &[],
    );
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 0);
    let r = s.api("GET", "/digitaltwins/r2/incomingrelationships", None, &[]);
    assert_eq!(
        r.json()["value"],
        json!([{"$relationshipId": "c2", "$sourceId": "f1", "$relationshipName": "hasRoom", "$relationshipLink": format!("http://{}/digitaltwins/f1/relationships/c2?api-version=2023-10-31", s.addr)}])
    );
    // Errors.
    s.api(
        "PUT",
        "/digitaltwins/f1/relationships/x",
        Some(&json!({"$relationshipName": "hasRoom", "$targetId": "nope"})),
        &[],
    )
    .assert_adt_error(404, "TargetDigitalTwinNotFound");
    s.api(
        "PUT",
        "/digitaltwins/f1/relationships/x",
        Some(&json!({"$relationshipName": "flies", "$targetId": "r0"})),
        &[],
    )
    .assert_adt_error(400, "ValidationFailed");
    s.api(
        "PUT",
        "/digitaltwins/f1/relationships/x",
        Some(&json!({"$relationshipName": "hasRoom", "$targetId": "f1"})),
        &[],
    )
    .assert_adt_error(400, "OperationNotAllowed");
    s.api(
        "PUT",
        "/digitaltwins/f1/relationships/c0",
        Some(&json!({"$relationshipName": "hasRoom", "$targetId": "r0"})),
        &[("If-None-Match", "*")],
    )
    .assert_adt_error(412, "PreconditionFailed");
    s.api("GET", "/digitaltwins/f1/relationships/zz", None, &[])
        .assert_adt_error(404, "RelationshipNotFound");
    s.api("GET", "/digitaltwins/zz/relationships", None, &[])
        .assert_adt_error(404, "DigitalTwinNotFound");
    s.api("DELETE", "/digitaltwins/f1", None, &[])
        .assert_adt_error(400, "RelationshipsNotDeleted");
    s.api("DELETE", "/digitaltwins/r0", None, &[])
        .assert_adt_error(400, "RelationshipsNotDeleted");
    assert_eq!(
        s.api("DELETE", "/digitaltwins/f1/relationships/c0", None, &[])
            .status,
        204
    );
    assert_eq!(s.api("DELETE", "/digitaltwins/r0", None, &[]).status, 204);

    // Telemetry.
    let t = json!({"temperatureReading": 22.5});
    let r = s.api(
        "POST",
        "/digitaltwins/r1/telemetry",
        Some(&t),
        &[
            ("Message-Id", "m1"),
            ("Telemetry-Source-Time", "2024-01-01T00:00:00Z"),
        ],
    );
    assert_eq!(r.status, 204, "{}", r.text());
    s.api(
        "POST",
        "/digitaltwins/ghost/telemetry",
        Some(&t),
        &[("Message-Id", "m2")],
    )
    .assert_adt_error(404, "DigitalTwinNotFound");
    s.api("POST", "/digitaltwins/r1/telemetry", Some(&t), &[])
        .assert_adt_error(400, "InvalidArgument");
    let r = s.api(
        "POST",
        "/digitaltwins/r1/components/thermostat/telemetry",
        Some(&t),
        &[("Message-Id", "m3")],
    );
    assert_eq!(r.status, 204, "{}", r.text());
    s.api(
        "POST",
        "/digitaltwins/r1/components/nope/telemetry",
        Some(&t),
        &[("Message-Id", "m4")],
    )
    .assert_adt_error(404, "ComponentNotFound");
}

#[test]
fn query_with_paging_and_errors() {
    let s = Server::start(None);
    upload_demo_models(&s);
    for i in 0..12 {
        assert_eq!(
            s.api(
                "PUT",
                &format!("/digitaltwins/r{i:02}"),
                Some(&room(&format!("R{i}"))),
                &[]
            )
            .status,
            200
        );
    }
    let mut all = Vec::new();
    let mut body = json!({"query": "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:twinscape:demo:Room;1')"});
    loop {
        let r = s.api(
            "POST",
            "/query",
            Some(&body),
            &[("max-items-per-page", "5")],
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let charge: f64 = r
            .header("query-charge")
            .expect("query-charge")
            .parse()
            .expect("number");
        assert!(charge >= 1.0);
        let v = r.json();
        let page = v["value"].as_array().unwrap();
        assert!(page.len() <= 5);
        all.extend(
            page.iter()
                .map(|t| t["$dtId"].as_str().unwrap().to_string()),
        );
        match v["continuationToken"].as_str() {
            Some(t) => body["continuationToken"] = json!(t),
            None => break,
        }
    }
    all.sort();
    assert_eq!(all.len(), 12);
    all.dedup();
    assert_eq!(all.len(), 12);
    // The .NET SDK sends only the token with follow-up pages: the token carries the query.
    let first = s
        .api(
            "POST",
            "/query",
            Some(&json!({"query": "SELECT * FROM DIGITALTWINS"})),
            &[("max-items-per-page", "5")],
        )
        .json();
    let token = first["continuationToken"]
        .as_str()
        .expect("a token")
        .to_string();
    let next = s
        .api(
            "POST",
            "/query",
            Some(&json!({"continuationToken": token})),
            &[],
        )
        .json();
    assert_eq!(
        next["value"].as_array().unwrap().len(),
        5,
        "the token keeps its page size"
    );
    assert_ne!(next["value"][0]["$dtId"], first["value"][0]["$dtId"]);
    let r = s.api(
        "POST",
        "/query",
        Some(&json!({"query": "SELECT COUNT() FROM DIGITALTWINS"})),
        &[],
    );
    assert_eq!(r.json()["value"], json!([{"COUNT": 12}]));
    let msg = s
        .api(
            "POST",
            "/query",
            Some(&json!({"query": "SELECT * FROM DIGITALTWINS WHERE"})),
            &[],
        )
        .assert_adt_error(400, "SqlQueryError");
    assert!(msg.contains("column"), "{msg}");
    s.api(
        "POST",
        "/query",
        Some(&json!({"query": "SELECT * FROM DIGITALTWINS", "continuationToken": "garbage"})),
        &[],
    )
    .assert_adt_error(400, "BadRequest");
    s.api("POST", "/query", Some(&json!({})), &[])
        .assert_adt_error(400, "BadRequest");
}

#[test]
fn event_routes_crud() {
    let s = Server::start(None);
    // A route names an endpoint that exists (delivery: tests/events.rs).
    let ep = json!({"type": "webhook", "url": "http://127.0.0.1:9/events"});
    assert_eq!(s.api("PUT", "/endpoints/ep1", Some(&ep), &[]).status, 200);
    let route =
        json!({"endpointName": "ep1", "filter": "type = 'Microsoft.DigitalTwins.Twin.Create'"});
    let r = s.api("PUT", "/eventroutes/route1", Some(&route), &[]);
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        s.api("GET", "/eventroutes/route1", None, &[]).json(),
        json!({"id": "route1", "endpointName": "ep1", "filter": "type = 'Microsoft.DigitalTwins.Twin.Create'"})
    );
    assert_eq!(
        s.api("GET", "/eventroutes", None, &[]).json()["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    s.api("PUT", "/eventroutes/bad%20id", Some(&route), &[])
        .assert_adt_error(400, "EventRouteIdInvalid");
    s.api(
        "PUT",
        "/eventroutes/r2",
        Some(&json!({"endpointName": "ep1"})),
        &[],
    )
    .assert_adt_error(400, "EventRouteFilterInvalid");
    assert_eq!(
        s.api("DELETE", "/eventroutes/route1", None, &[]).status,
        204
    );
    s.api("GET", "/eventroutes/route1", None, &[])
        .assert_adt_error(404, "EventRouteNotFound");
    s.api("DELETE", "/eventroutes/route1", None, &[])
        .assert_adt_error(404, "EventRouteNotFound");
}

#[test]
fn everything_survives_a_restart() {
    let s = Server::start(None);
    upload_demo_models(&s);
    let floor = json!({"$metadata": {"$model": demo::FLOOR}, "name": "F1", "level": 1});
    s.api("PUT", "/digitaltwins/f1", Some(&floor), &[]);
    s.api("PUT", "/digitaltwins/r1", Some(&room("R1")), &[]);
    s.api(
        "PUT",
        "/digitaltwins/f1/relationships/c1",
        Some(&json!({"$relationshipName": "hasRoom", "$targetId": "r1"})),
        &[],
    );
    s.api(
        "PATCH",
        "/digitaltwins/r1",
        Some(&json!([{"op": "replace", "path": "/temperature", "value": 30.5}])),
        &[],
    );
    s.api(
        "PATCH",
        &format!("/models/{}", urlencode(demo::SENSOR)),
        Some(&json!([{"op": "replace", "path": "/decommissioned", "value": true}])),
        &[],
    );
    s.api(
        "PUT",
        "/endpoints/e",
        Some(&json!({"type": "nats", "url": "nats://127.0.0.1:9", "subject": "twins"})),
        &[],
    );
    s.api(
        "PUT",
        "/eventroutes/rt",
        Some(&json!({"endpointName": "e", "filter": "true"})),
        &[],
    );
    let twin = s.api("GET", "/digitaltwins/r1", None, &[]).json();
    let rel = s
        .api("GET", "/digitaltwins/f1/relationships/c1", None, &[])
        .json();
    let models = s.api("GET", "/models", None, &[]).json();

    let dir = s.kill();
    let s = Server::start_in(dir, None);
    assert_eq!(s.api("GET", "/digitaltwins/r1", None, &[]).json(), twin);
    assert_eq!(
        s.api("GET", "/digitaltwins/f1/relationships/c1", None, &[])
            .json(),
        rel
    );
    assert_eq!(s.api("GET", "/models", None, &[]).json(), models);
    assert_eq!(
        s.api("GET", "/eventroutes/rt", None, &[]).json()["filter"],
        "true"
    );
    assert_eq!(
        s.api("GET", "/endpoints/e", None, &[]).json()["subject"],
        "twins"
    );
    // Writes go on after the restart, with fresh ETags.
    let r = s.api(
        "PATCH",
        "/digitaltwins/r1",
        Some(&json!([{"op": "replace", "path": "/temperature", "value": 1.5}])),
        &[("If-Match", twin["$etag"].as_str().unwrap())],
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_ne!(r.header("etag"), twin["$etag"].as_str());
}

fn wait_job(s: &Server, path: &str) -> Json {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let job = s.api("GET", path, None, &[]).json();
        if matches!(
            job["status"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        ) {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job did not finish: {job}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn import_and_delete_jobs() {
    let s = Server::start(None);
    // An import file in ADT's ndjson format: header, models, twins, relationships.
    let mut ndjson = String::from(
        "{\"Section\": \"Header\"}\n{\"fileVersion\": \"1.0.0\", \"author\": \"tests\", \"organization\": \"twinscape\"}\n{\"Section\": \"Models\"}\n",
    );
    for m in demo::models() {
        ndjson.push_str(&serde_json::to_string(&m).unwrap());
        ndjson.push('\n');
    }
    ndjson.push_str("{\"Section\": \"Twins\"}\n");
    ndjson.push_str(
        &json!({"$dtId": "f1", "$metadata": {"$model": demo::FLOOR}, "name": "F1", "level": 1})
            .to_string(),
    );
    ndjson.push('\n');
    for i in 0..20 {
        let mut t = room(&format!("R{i}"));
        t["$dtId"] = json!(format!("r{i}"));
        ndjson.push_str(&t.to_string());
        ndjson.push('\n');
    }
    ndjson.push_str("{\"Section\": \"Relationships\"}\n");
    for i in 0..20 {
        ndjson.push_str(&json!({"$dtId": "f1", "$relationshipId": format!("c{i}"), "$targetId": format!("r{i}"), "$relationshipName": "hasRoom"}).to_string());
        ndjson.push('\n');
    }
    let r = s.request(
        "PUT",
        "/jobs/files/in.ndjson?api-version=2023-10-31",
        &[],
        ndjson.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());

    let spec = json!({"inputBlobUri": "https://example.blob.core.windows.net/c/jobs/files/in.ndjson", "outputBlobUri": "out.ndjson"});
    let r = s.api("PUT", "/jobs/imports/job1", Some(&spec), &[]);
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    assert_eq!(created["id"], "job1");
    assert!(
        matches!(created["status"].as_str(), Some("notstarted" | "running")),
        "{created}"
    );
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "inputBlobUri",
            "outputBlobUri",
            "createdDateTime",
            "lastActionDateTime",
            "purgeDateTime",
            "status"
        ]
    );
    let job = wait_job(&s, "/jobs/imports/job1");
    assert_eq!(job["status"], "succeeded", "{job}");
    assert!(job["finishedDateTime"].is_string());
    // Everything arrived.
    let c = s
        .api(
            "POST",
            "/query",
            Some(&json!({"query": "SELECT COUNT() FROM DIGITALTWINS"})),
            &[],
        )
        .json();
    assert_eq!(c["value"][0]["COUNT"], 21);
    let rels = s
        .api(
            "GET",
            "/digitaltwins/f1/relationships",
            None,
            &[("max-items-per-page", "100")],
        )
        .json();
    assert_eq!(rels["value"].as_array().unwrap().len(), 20);
    // The output log.
    let log = s
        .request(
            "GET",
            "/jobs/files/out.ndjson?api-version=2023-10-31",
            &[],
            b"",
        )
        .text();
    let lines: Vec<Json> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.first().unwrap()["details"],
        json!({"status": "Started"})
    );
    assert_eq!(
        lines.last().unwrap()["details"],
        json!({"status": "Succeeded"})
    );
    assert!(
        lines
            .iter()
            .all(|l| l["jobId"] == "job1" && l["jobType"] == "Import")
    );
    assert!(
        lines
            .iter()
            .any(|l| l["details"]["section"] == "Relationships" && l["details"]["count"] == 20)
    );
    // Listing, errors.
    assert_eq!(
        s.api("GET", "/jobs/imports", None, &[]).json()["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    s.api("PUT", "/jobs/imports/job1", Some(&spec), &[])
        .assert_adt_error(409, "JobIdAlreadyExists");
    s.api("GET", "/jobs/imports/nope", None, &[])
        .assert_adt_error(404, "JobNotFound");
    s.api(
        "PUT",
        "/jobs/imports/job2",
        Some(&json!({"inputBlobUri": "invalidUri/x", "outputBlobUri": "o"})),
        &[],
    )
    .assert_adt_error(400, "InvalidArgument");
    // A failing import: a twin of an unknown model stops it with an error.
    let bad = "{\"Section\": \"Header\"}\n{}\n{\"Section\": \"Twins\"}\n{\"$dtId\": \"x\", \"$metadata\": {\"$model\": \"dtmi:nope;1\"}}\n";
    s.request(
        "PUT",
        "/jobs/files/bad.ndjson?api-version=2023-10-31",
        &[],
        bad.as_bytes(),
    );
    s.api(
        "PUT",
        "/jobs/imports/job3",
        Some(&json!({"inputBlobUri": "bad.ndjson", "outputBlobUri": "bad-out.ndjson"})),
        &[],
    );
    let job = wait_job(&s, "/jobs/imports/job3");
    assert_eq!(job["status"], "failed");
    assert!(
        job["error"]["message"].as_str().unwrap().contains("line 4"),
        "{job}"
    );
    assert_eq!(s.api("DELETE", "/jobs/imports/job3", None, &[]).status, 204);
    s.api("GET", "/jobs/imports/job3", None, &[])
        .assert_adt_error(404, "JobNotFound");

    // Delete everything.
    let r = s.api(
        "POST",
        "/jobs/deletions",
        None,
        &[("operation-id", "wipe1")],
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let location = r
        .header("operation-location")
        .expect("Operation-Location")
        .to_string();
    assert!(
        location.contains("/jobs/deletions/wipe1?api-version="),
        "{location}"
    );
    let job = wait_job(&s, "/jobs/deletions/wipe1");
    assert_eq!(job["status"], "succeeded", "{job}");
    let c = s
        .api(
            "POST",
            "/query",
            Some(&json!({"query": "SELECT COUNT() FROM DIGITALTWINS"})),
            &[],
        )
        .json();
    assert_eq!(c["value"][0]["COUNT"], 0);
    assert_eq!(
        s.api("GET", "/models", None, &[]).json()["value"],
        json!([])
    );
}
