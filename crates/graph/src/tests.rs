//! Behaviour of the graph's mutations against ADT's rules.

use crate::*;
use proptest::prelude::*;
use serde_json::{Map, Value as Json, json};

const ROOM: &str = "dtmi:test:Room;1";
const FLOOR: &str = "dtmi:test:Floor;1";
const OLD: &str = "dtmi:test:Old;1";

/// Rooms have a number `temperature`, a string `name` and a component
/// `thermostat`; floors `contain` at most two rooms.
struct TestModels;

impl Models for TestModels {
    fn usable(&self, model: &str) -> Result<(), ModelUnusable> {
        match model {
            ROOM | FLOOR => Ok(()),
            OLD => Err(ModelUnusable::Decommissioned),
            _ => Err(ModelUnusable::NotFound),
        }
    }
    fn is_component(&self, model: &str, member: &str) -> bool {
        model == ROOM && member == "thermostat"
    }
    fn validate_twin(&self, model: &str, obj: &Map<String, Json>) -> Result<(), Vec<String>> {
        let mut errs = Vec::new();
        if model != ROOM && obj.keys().any(|k| !k.starts_with('$')) {
            errs.push(format!("{model} has no properties"));
        }
        for (k, v) in obj.iter().filter(|(k, _)| !k.starts_with('$')) {
            match (k.as_str(), v) {
                ("temperature", v) if v.is_number() => {}
                ("name", Json::String(_)) => {}
                ("thermostat", Json::Object(o)) => {
                    for (ck, cv) in o.iter().filter(|(k, _)| !k.starts_with('$')) {
                        if ck != "setpoint" || !cv.is_number() {
                            errs.push(format!("thermostat.{ck} is invalid"));
                        }
                    }
                }
                _ => errs.push(format!("{k} is not a valid property")),
            }
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
    fn validate_relationship(
        &self,
        source: &str,
        name: &str,
        target: &str,
        props: &Map<String, Json>,
    ) -> Result<(), Vec<String>> {
        if source == FLOOR
            && name == "contains"
            && target == ROOM
            && props.keys().all(|k| k == "since")
        {
            Ok(())
        } else {
            Err(vec![format!(
                "{source} has no relationship {name} to {target}"
            )])
        }
    }
    fn max_relationships(&self, source: &str, name: &str) -> Option<usize> {
        (source == FLOOR && name == "contains").then_some(2)
    }
    fn is_subtype_of(&self, model: &str, base: &str) -> bool {
        model == base
    }
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn ctx_at(now: &str) -> Ctx<'static> {
    Ctx {
        models: &TestModels,
        now: t(now),
    }
}

fn room(temp: f64) -> Json {
    json!({
        "$metadata": {"$model": ROOM, "temperature": {"sourceTime": "2024-01-01T00:00:00Z"}},
        "temperature": temp,
        "name": "Room 1",
        "thermostat": {"$metadata": {}, "setpoint": 21}
    })
}

fn graph_with_room() -> TwinGraph {
    let mut g = TwinGraph::new(7);
    g.create_or_replace_twin(
        &ctx_at("2024-05-01T10:00:00Z"),
        "r1",
        &room(20.5),
        &Precondition::None,
    )
    .unwrap();
    g
}

#[test]
fn create_gives_adt_shaped_twin_with_metadata() {
    let g = graph_with_room();
    let j = g.twin_json("r1").unwrap();
    assert_eq!(j["$dtId"], "r1");
    assert!(j["$etag"].as_str().unwrap().starts_with("W/\""));
    assert_eq!(j["temperature"], 20.5);
    assert_eq!(j["$metadata"]["$model"], ROOM);
    assert_eq!(
        j["$metadata"]["$lastUpdateTime"],
        "2024-05-01T10:00:00.0000000Z"
    );
    assert_eq!(
        j["$metadata"]["temperature"]["lastUpdateTime"],
        "2024-05-01T10:00:00.0000000Z"
    );
    assert_eq!(
        j["$metadata"]["temperature"]["sourceTime"],
        "2024-01-01T00:00:00.0000000Z"
    );
    assert!(j["$metadata"]["name"].get("sourceTime").is_none());
    assert_eq!(j["thermostat"]["setpoint"], 21);
    assert_eq!(
        j["thermostat"]["$metadata"]["$lastUpdateTime"],
        "2024-05-01T10:00:00.0000000Z"
    );
    assert_eq!(
        j["thermostat"]["$metadata"]["setpoint"]["lastUpdateTime"],
        "2024-05-01T10:00:00.0000000Z"
    );
    // Document order: system keys first, members in the order given, $metadata last.
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "$dtId",
            "$etag",
            "temperature",
            "name",
            "thermostat",
            "$metadata"
        ]
    );
    assert_eq!(g.twin_count(), 1);
    assert_eq!(g.twins_of_model(ROOM).len(), 1);
}

#[test]
fn create_rejects_bad_input_without_changing_anything() {
    let mut g = graph_with_room();
    let before = g.twin_json("r1").unwrap();
    let seq = g.seq();
    let c = ctx_at("2024-05-02T00:00:00Z");
    let cases: Vec<(&str, Json, GraphError)> = vec![
        ("x", json!([1]), GraphError::InvalidTwin(String::new())),
        (
            "x",
            json!({"temperature": 1}),
            GraphError::InvalidTwin(String::new()),
        ),
        (
            "x",
            json!({"$metadata": {"$model": "dtmi:nope;1"}}),
            GraphError::ModelNotFound(String::new()),
        ),
        (
            "x",
            json!({"$metadata": {"$model": OLD}}),
            GraphError::ModelDecommissioned(String::new()),
        ),
        (
            "x",
            json!({"$metadata": {"$model": ROOM}, "bogus": 1}),
            GraphError::ValidationFailed(vec![]),
        ),
        (
            "x",
            json!({"$metadata": {"$model": ROOM}, "$weird": 1}),
            GraphError::InvalidTwin(String::new()),
        ),
        (
            "r1",
            json!({"$metadata": {"$model": ROOM, "temperature": {"sourceTime": "noon"}}, "temperature": 1}),
            GraphError::InvalidTwin(String::new()),
        ),
    ];
    for (id, doc, want) in cases {
        let err = g
            .create_or_replace_twin(&c, id, &doc, &Precondition::None)
            .unwrap_err();
        assert_eq!(
            std::mem::discriminant(&err),
            std::mem::discriminant(&want),
            "{doc}: {err}"
        );
    }
    let err = g
        .create_or_replace_twin(&c, "r1", &room(1.0), &Precondition::NotExists)
        .unwrap_err();
    assert!(matches!(err, GraphError::PreconditionFailed(_)));
    assert_eq!(g.twin_json("r1").unwrap(), before);
    assert_eq!(g.seq(), seq);
    assert_eq!(g.twin_count(), 1);
}

#[test]
fn replace_reports_an_update_with_the_difference() {
    let mut g = graph_with_room();
    let old_etag = g.twin("r1").unwrap().etag.to_string();
    let change = g
        .create_or_replace_twin(
            &ctx_at("2024-05-03T00:00:00Z"),
            "r1",
            &room(25.0),
            &Precondition::Matches(old_etag.clone()),
        )
        .unwrap();
    match change.kind {
        ChangeKind::TwinUpdated {
            patch,
            before_etag,
            after_etag,
            ..
        } => {
            assert_eq!(
                patch,
                json!([{"op": "replace", "path": "/temperature", "value": 25.0}])
            );
            assert_eq!(before_etag, old_etag);
            assert_ne!(after_etag, old_etag);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(g.twin_count(), 1);
}

#[test]
fn patch_updates_values_metadata_and_etag() {
    let mut g = graph_with_room();
    let before = g.twin_json("r1").unwrap();
    let etag = before["$etag"].as_str().unwrap().to_string();
    let patch = json!([
        {"op": "replace", "path": "/temperature", "value": 22},
        {"op": "remove", "path": "/name"}
    ]);
    let change = g
        .update_twin(
            &ctx_at("2024-05-02T12:00:00.5Z"),
            "r1",
            &patch,
            &Precondition::Matches(etag.clone()),
        )
        .unwrap();
    let j = g.twin_json("r1").unwrap();
    assert_eq!(j["temperature"], 22);
    assert!(j.get("name").is_none());
    assert!(j["$metadata"].get("name").is_none());
    assert_eq!(
        j["$metadata"]["temperature"]["lastUpdateTime"],
        "2024-05-02T12:00:00.5000000Z"
    );
    // Untouched members keep their times; the source time survives a value write.
    assert_eq!(
        j["$metadata"]["temperature"]["sourceTime"],
        "2024-01-01T00:00:00.0000000Z"
    );
    assert_eq!(
        j["thermostat"]["$metadata"]["setpoint"]["lastUpdateTime"],
        "2024-05-01T10:00:00.0000000Z"
    );
    assert_eq!(
        j["$metadata"]["$lastUpdateTime"],
        "2024-05-02T12:00:00.5000000Z"
    );
    assert_ne!(j["$etag"], before["$etag"]);
    match change.kind {
        ChangeKind::TwinUpdated {
            id,
            model_id,
            patch: p,
            before_etag,
            after_etag,
            ..
        } => {
            assert_eq!(id, "r1");
            assert_eq!(model_id, ROOM);
            assert_eq!(p, patch);
            assert_eq!(before_etag, etag);
            assert_eq!(after_etag, j["$etag"].as_str().unwrap());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn failing_patches_change_nothing() {
    let mut g = graph_with_room();
    let before = g.twin_json("r1").unwrap();
    let c = ctx_at("2024-06-01T00:00:00Z");
    let bad = [
        json!([{"op": "replace", "path": "/temperature", "value": 1}, {"op": "test", "path": "/name", "value": "other"}]),
        json!([{"op": "remove", "path": "/missing"}]),
        json!([{"op": "replace", "path": "/temperature", "value": "hot"}]),
        json!([{"op": "add", "path": "/bogus", "value": 1}]),
        json!([{"op": "replace", "path": "/$dtId", "value": "x"}]),
        json!([{"op": "replace", "path": "/$metadata/$model", "value": FLOOR}]),
        json!([{"op": "replace", "path": "", "value": {}}]),
        json!([{"op": "frobnicate", "path": "/temperature"}]),
        json!({"op": "replace"}),
        json!([{"op": "replace", "path": "/$metadata/temperature/sourceTime", "value": "not a time"}]),
        json!([{"op": "add", "path": "/$metadata/nothere/sourceTime", "value": "2024-01-01T00:00:00Z"}]),
    ];
    for p in bad {
        let err = g.update_twin(&c, "r1", &p, &Precondition::None);
        assert!(err.is_err(), "{p} was accepted");
        assert_eq!(g.twin_json("r1").unwrap(), before, "{p} changed the twin");
    }
    let test_failed = g
        .update_twin(
            &c,
            "r1",
            &json!([{"op": "test", "path": "/name", "value": "x"}]),
            &Precondition::None,
        )
        .unwrap_err();
    assert!(
        matches!(test_failed, GraphError::PatchTestFailed(_)),
        "{test_failed}"
    );
    let stale = g
        .update_twin(
            &c,
            "r1",
            &json!([{"op": "replace", "path": "/temperature", "value": 3}]),
            &Precondition::Matches("W/\"00000000-0000-4000-8000-000000000000\"".into()),
        )
        .unwrap_err();
    assert!(matches!(stale, GraphError::PreconditionFailed(_)));
    assert!(matches!(
        g.update_twin(&c, "nope", &json!([]), &Precondition::None),
        Err(GraphError::TwinNotFound(_))
    ));
    assert_eq!(g.twin_json("r1").unwrap(), before);
}

#[test]
fn source_times_and_components_can_be_patched() {
    let mut g = graph_with_room();
    let c = ctx_at("2024-07-01T00:00:00Z");
    g.update_twin(&c, "r1", &json!([{"op": "replace", "path": "/$metadata/name/sourceTime", "value": "2024-06-30T23:59:59.1234567Z"}]), &Precondition::None)
        .unwrap();
    let j = g.twin_json("r1").unwrap();
    assert_eq!(
        j["$metadata"]["name"]["sourceTime"],
        "2024-06-30T23:59:59.1234567Z"
    );
    assert_eq!(
        j["$metadata"]["name"]["lastUpdateTime"],
        "2024-05-01T10:00:00.0000000Z"
    );

    let change = g
        .update_component(
            &ctx_at("2024-07-02T00:00:00Z"),
            "r1",
            "thermostat",
            &json!([{"op": "replace", "path": "/setpoint", "value": 19}]),
            &Precondition::None,
        )
        .unwrap();
    let j = g.twin_json("r1").unwrap();
    assert_eq!(j["thermostat"]["setpoint"], 19);
    assert_eq!(
        j["thermostat"]["$metadata"]["setpoint"]["lastUpdateTime"],
        "2024-07-02T00:00:00.0000000Z"
    );
    assert_eq!(
        j["thermostat"]["$metadata"]["$lastUpdateTime"],
        "2024-07-02T00:00:00.0000000Z"
    );
    assert_eq!(
        j["$metadata"]["temperature"]["lastUpdateTime"],
        "2024-05-01T10:00:00.0000000Z"
    );
    match change.kind {
        ChangeKind::TwinUpdated { patch, .. } => {
            assert_eq!(
                patch,
                json!([{"op": "replace", "path": "/thermostat/setpoint", "value": 19}])
            );
        }
        other => panic!("{other:?}"),
    }
    let comp = g.component_json("r1", "thermostat").unwrap();
    assert_eq!(comp["setpoint"], 19);
    assert!(matches!(
        g.component_json("r1", "name"),
        Err(GraphError::ComponentNotFound { .. })
    ));
    assert!(matches!(
        g.update_component(
            &c,
            "r1",
            "nope",
            &json!([{"op": "add", "path": "/x", "value": 1}]),
            &Precondition::None
        ),
        Err(GraphError::ComponentNotFound { .. })
    ));
    // A component property of the wrong type is refused.
    assert!(
        g.update_component(
            &c,
            "r1",
            "thermostat",
            &json!([{"op": "replace", "path": "/setpoint", "value": "warm"}]),
            &Precondition::None
        )
        .is_err()
    );
}

fn floor_with_rooms(n: usize) -> TwinGraph {
    let mut g = TwinGraph::new(1);
    let c = ctx_at("2024-01-01T00:00:00Z");
    g.create_or_replace_twin(
        &c,
        "f1",
        &json!({"$metadata": {"$model": FLOOR}}),
        &Precondition::None,
    )
    .unwrap();
    for i in 0..n {
        g.create_or_replace_twin(&c, &format!("r{i}"), &room(20.0), &Precondition::None)
            .unwrap();
    }
    g
}

#[test]
fn relationships_are_validated_indexed_and_block_twin_deletion() {
    let mut g = floor_with_rooms(3);
    let c = ctx_at("2024-01-02T00:00:00Z");
    let rel =
        |target: &str| json!({"$relationshipName": "contains", "$targetId": target, "since": 2020});
    let created = g
        .create_or_replace_relationship(&c, "f1", "c0", &rel("r0"), &Precondition::None)
        .unwrap();
    match &created.kind {
        ChangeKind::RelationshipCreated { relationship, .. } => {
            assert_eq!(relationship["$relationshipId"], "c0");
            assert_eq!(relationship["$sourceId"], "f1");
            assert_eq!(relationship["$targetId"], "r0");
            assert_eq!(relationship["$relationshipName"], "contains");
            assert_eq!(relationship["since"], 2020);
            assert!(relationship["$etag"].as_str().unwrap().starts_with("W/"));
        }
        other => panic!("{other:?}"),
    }
    g.create_or_replace_relationship(&c, "f1", "c1", &rel("r1"), &Precondition::None)
        .unwrap();
    // Multiplicity: at most two `contains`.
    let err = g
        .create_or_replace_relationship(&c, "f1", "c2", &rel("r2"), &Precondition::None)
        .unwrap_err();
    assert!(matches!(err, GraphError::ValidationFailed(_)), "{err}");
    // Replacing an existing one does not count twice.
    g.create_or_replace_relationship(&c, "f1", "c1", &rel("r2"), &Precondition::None)
        .unwrap();
    assert_eq!(g.relationship_count(), 2);
    let f1 = g.slot_of("f1").unwrap();
    let targets: Vec<&str> = g
        .outgoing(f1)
        .map(|r| &*g.twin_at(r.target).unwrap().id)
        .collect();
    assert_eq!(targets, ["r0", "r2"]);
    assert_eq!(g.incoming(g.slot_of("r1").unwrap()).count(), 0);
    assert_eq!(g.incoming(g.slot_of("r2").unwrap()).count(), 1);
    // Invalid ones.
    for (src, id, doc) in [
        (
            "f1",
            "x",
            json!({"$relationshipName": "contains", "$targetId": "nope"}),
        ),
        ("f1", "x", json!({"$relationshipName": "contains"})),
        (
            "f1",
            "x",
            json!({"$relationshipName": "owns", "$targetId": "r0"}),
        ),
        (
            "r0",
            "x",
            json!({"$relationshipName": "contains", "$targetId": "r1"}),
        ),
        (
            "f1",
            "x",
            json!({"$relationshipName": "contains", "$targetId": "r0", "color": "red"}),
        ),
        (
            "f1",
            "x",
            json!({"$relationshipName": "contains", "$targetId": "r0", "$sourceId": "r1"}),
        ),
    ] {
        assert!(
            g.create_or_replace_relationship(&c, src, id, &doc, &Precondition::None)
                .is_err(),
            "{doc}"
        );
    }
    assert!(matches!(
        g.create_or_replace_relationship(&c, "ghost", "x", &rel("r0"), &Precondition::None),
        Err(GraphError::TwinNotFound(_))
    ));
    // Patch a relationship's property.
    let etag = g.relationship("f1", "c0").unwrap().etag.to_string();
    g.update_relationship(
        &c,
        "f1",
        "c0",
        &json!([{"op": "replace", "path": "/since", "value": 2021}]),
        &Precondition::Matches(etag.clone()),
    )
    .unwrap();
    assert!(matches!(
        g.update_relationship(
            &c,
            "f1",
            "c0",
            &json!([{"op": "replace", "path": "/since", "value": 1}]),
            &Precondition::Matches(etag)
        ),
        Err(GraphError::PreconditionFailed(_))
    ));
    assert!(
        g.update_relationship(
            &c,
            "f1",
            "c0",
            &json!([{"op": "replace", "path": "/$targetId", "value": "r1"}]),
            &Precondition::None
        )
        .is_err()
    );
    assert!(
        g.update_relationship(
            &c,
            "f1",
            "c0",
            &json!([{"op": "add", "path": "/color", "value": "red"}]),
            &Precondition::None
        )
        .is_err()
    );
    assert_eq!(
        g.relationship_json(g.relationship("f1", "c0").unwrap())["since"],
        2021
    );
    // Twins with relationships cannot be deleted, in either direction.
    assert!(matches!(
        g.delete_twin("f1", &Precondition::None),
        Err(GraphError::TwinHasRelationships(_))
    ));
    assert!(matches!(
        g.delete_twin("r0", &Precondition::None),
        Err(GraphError::TwinHasRelationships(_))
    ));
    g.delete_relationship("f1", "c0", &Precondition::None)
        .unwrap();
    assert!(matches!(
        g.delete_relationship("f1", "c0", &Precondition::None),
        Err(GraphError::RelationshipNotFound { .. })
    ));
    g.delete_twin("r0", &Precondition::None).unwrap();
    assert!(g.twin("r0").is_none());
    assert_eq!(g.twins_of_model(ROOM).len(), 2);
    // The freed slot is reused and the id index stays right.
    g.create_or_replace_twin(&c, "r9", &room(1.0), &Precondition::None)
        .unwrap();
    assert_eq!(g.twin("r9").unwrap().id.as_ref(), "r9");
    assert_eq!(g.twin("r1").unwrap().id.as_ref(), "r1");
}

#[test]
fn changes_are_numbered_without_gaps() {
    let mut g = floor_with_rooms(2);
    assert_eq!(g.seq(), 3);
    let c = ctx_at("2024-01-02T00:00:00Z");
    let _ = g.update_twin(
        &c,
        "r0",
        &json!([{"op": "remove", "path": "/nope"}]),
        &Precondition::None,
    );
    assert_eq!(g.seq(), 3);
    let ch = g
        .update_twin(
            &c,
            "r0",
            &json!([{"op": "replace", "path": "/temperature", "value": 1}]),
            &Precondition::None,
        )
        .unwrap();
    assert_eq!(ch.seq, 4);
}

#[test]
fn stored_documents_load_back_identically() {
    let mut g = floor_with_rooms(2);
    let c = ctx_at("2024-01-02T00:00:00Z");
    g.create_or_replace_relationship(
        &c,
        "f1",
        "c0",
        &json!({"$relationshipName": "contains", "$targetId": "r0", "since": 1}),
        &Precondition::None,
    )
    .unwrap();
    g.update_twin(&c, "r1", &json!([{"op": "add", "path": "/$metadata/name/sourceTime", "value": "2023-03-03T03:03:03Z"}]), &Precondition::None).unwrap();
    let twins: Vec<Json> = g.twins().map(|(_, t)| t.to_json(g.symbols())).collect();
    let rels: Vec<Json> = g.relationships().map(|r| g.relationship_json(r)).collect();
    let mut h = TwinGraph::new(99);
    for t in &twins {
        h.load_twin(&TestModels, t).unwrap();
    }
    for r in &rels {
        h.load_relationship(r).unwrap();
    }
    for t in &twins {
        let id = t["$dtId"].as_str().unwrap();
        assert_eq!(&h.twin_json(id).unwrap(), t);
    }
    assert_eq!(
        h.relationship_json(h.relationship("f1", "c0").unwrap()),
        rels[0]
    );
    assert!(
        h.load_twin(&TestModels, &twins[0]).is_err(),
        "duplicate ids are refused"
    );
}

fn json_leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i32>().prop_map(Json::from),
        "[a-z]{0,6}".prop_map(Json::from),
    ]
}

fn json_value() -> impl Strategy<Value = Json> {
    json_leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::from),
            prop::collection::btree_map("[a-z~/]{1,4}", inner, 0..4)
                .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

fn content() -> impl Strategy<Value = Map<String, Json>> {
    prop::collection::btree_map("[a-z]{1,5}", json_value(), 0..5)
        .prop_map(|m| m.into_iter().collect())
}

proptest! {
    /// Patching a twin with the diff between two documents gives the second.
    #[test]
    fn json_patch_round_trips(a in content(), b in content()) {
        let mut g = TwinGraph::new(3);
        let c = Ctx { models: &AnyModel, now: t("2024-01-01T00:00:00Z") };
        let mut doc = a.clone();
        doc.insert("$metadata".into(), json!({"$model": "dtmi:any;1"}));
        g.create_or_replace_twin(&c, "x", &Json::Object(doc), &Precondition::None).unwrap();
        let patch = serde_json::to_value(json_patch::diff(&Json::Object(a.clone()), &Json::Object(b.clone()))).unwrap();
        if patch.as_array().is_some_and(|p| !p.is_empty()) {
            g.update_twin(&c, "x", &patch, &Precondition::None).unwrap();
        }
        let got = g.twin("x").unwrap().content_json(g.symbols());
        prop_assert_eq!(Json::Object(got), Json::Object(b));
    }

    /// Arbitrary patches either apply or leave the twin exactly as it was.
    #[test]
    fn arbitrary_patches_are_atomic(a in content(), ops in prop::collection::vec((prop_oneof![Just("add"), Just("remove"), Just("replace"), Just("test"), Just("move"), Just("copy")], "(/[a-z$]{0,3}){0,3}", json_value()), 1..4)) {
        let mut g = TwinGraph::new(3);
        let c = Ctx { models: &AnyModel, now: t("2024-01-01T00:00:00Z") };
        let mut doc = a.clone();
        doc.insert("$metadata".into(), json!({"$model": "dtmi:any;1"}));
        g.create_or_replace_twin(&c, "x", &Json::Object(doc), &Precondition::None).unwrap();
        let before = g.twin_json("x").unwrap();
        let patch: Vec<Json> = ops.iter().map(|(op, path, value)| json!({"op": op, "path": path, "from": path, "value": value})).collect();
        if g.update_twin(&c, "x", &Json::Array(patch), &Precondition::None).is_err() {
            prop_assert_eq!(g.twin_json("x").unwrap(), before);
        }
    }
}

#[test]
fn an_empty_patch_is_a_write_that_changes_only_the_etag() {
    let mut g = graph_with_room();
    let before = g.twin("r1").unwrap().clone();
    let change = g
        .update_twin(
            &ctx_at("2024-09-09T00:00:00Z"),
            "r1",
            &json!([]),
            &Precondition::None,
        )
        .unwrap();
    let after = g.twin("r1").unwrap();
    assert_ne!(after.etag, before.etag);
    assert_eq!(after.members, before.members);
    assert_eq!(after.meta, before.meta);
    assert!(matches!(change.kind, ChangeKind::TwinUpdated { .. }));
}

#[test]
fn body_ids_are_ignored_and_path_ids_win() {
    let mut g = floor_with_rooms(1);
    let c = ctx_at("2024-01-02T00:00:00Z");
    let mut doc = room(20.0);
    doc["$dtId"] = json!("something-else");
    doc["$etag"] = Json::Null;
    g.create_or_replace_twin(&c, "rx", &doc, &Precondition::None)
        .unwrap();
    assert_eq!(g.twin_json("rx").unwrap()["$dtId"], "rx");
    let rel = json!({"$relationshipName": "contains", "$targetId": "r0", "$sourceId": "elsewhere", "$relationshipId": "other"});
    g.create_or_replace_relationship(&c, "f1", "c0", &rel, &Precondition::None)
        .unwrap();
    let j = g.relationship_json(g.relationship("f1", "c0").unwrap());
    assert_eq!(
        (j["$sourceId"].as_str(), j["$relationshipId"].as_str()),
        (Some("f1"), Some("c0"))
    );
    let err = g
        .create_or_replace_relationship(
            &c,
            "f1",
            "c1",
            &json!({"$targetId": "r0"}),
            &Precondition::None,
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Could not deserialize relationship create body"),
        "{err}"
    );
    let err = g
        .create_or_replace_relationship(
            &c,
            "f1",
            "c1",
            &json!({"$relationshipName": "contains", "$targetId": "zz"}),
            &Precondition::None,
        )
        .unwrap_err();
    assert_eq!(err, GraphError::TargetTwinNotFound("zz".into()));
}

#[test]
fn precondition_messages_say_what_failed() {
    let mut g = graph_with_room();
    let c = ctx_at("2024-01-02T00:00:00Z");
    let e = g
        .create_or_replace_twin(&c, "r1", &room(1.0), &Precondition::NotExists)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "If-None-Match: * header was specified but a twin with the id r1 was found. Please specify a different twin id."
    );
    let stale = "W/\"00000000-0000-4000-8000-000000000000\"";
    let e = g
        .delete_twin("r1", &Precondition::Matches(stale.into()))
        .unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "The provided etag {stale} doesn't match the current etag"
        )),
        "{e}"
    );
}

#[test]
fn ids_have_a_length_limit() {
    let mut g = graph_with_room();
    let c = ctx_at("2024-01-02T00:00:00Z");
    let long = "x".repeat(crate::graph::MAX_ID_BYTES + 1);
    assert!(matches!(
        g.create_or_replace_twin(&c, &long, &room(1.0), &Precondition::None),
        Err(GraphError::InvalidTwin(_))
    ));
    let ok = "y".repeat(crate::graph::MAX_ID_BYTES);
    g.create_or_replace_twin(&c, &ok, &room(1.0), &Precondition::None)
        .unwrap();
}
