//! The engine on the demo building: writes validated by DTDL, queries with
//! hand-computed answers.

use crate::*;
use serde_json::{Value as Json, json};
use twinscape_demo::twins as demo;

fn now() -> Timestamp {
    Timestamp::parse("2025-03-01T12:00:00Z").unwrap()
}

fn demo_engine(indexed: &[&str]) -> Engine {
    let mut e = Engine::new(EngineConfig {
        indexed_properties: indexed.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    });
    e.add_models(&demo::models()).unwrap();
    for t in demo::twins() {
        e.create_or_replace_twin(&t.id, &t.doc, &Precondition::None, now())
            .unwrap_or_else(|err| panic!("{}: {err}", t.id));
    }
    for r in demo::relationships() {
        e.create_or_replace_relationship(&r.source, &r.id, &r.doc, &Precondition::None, now())
            .unwrap_or_else(|err| panic!("{}: {err}", r.id));
    }
    e
}

fn q(e: &Engine, text: &str) -> Vec<Json> {
    let mut out = Vec::new();
    let mut opts = QueryOptions {
        page_size: Some(7),
        continuation: None,
    };
    loop {
        let page = e
            .query(text, &opts)
            .unwrap_or_else(|err| panic!("{text}: {err}"));
        assert!(page.items.len() <= 7);
        out.extend(page.items);
        match page.continuation {
            Some(c) => opts.continuation = Some(c),
            None => return out,
        }
    }
}

fn ids(rows: &[Json], key: Option<&str>) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .map(|r| {
            let t = match key {
                Some(k) => &r[k],
                None => r,
            };
            t["$dtId"].as_str().unwrap_or("?").to_string()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn writes_are_validated_against_dtdl() {
    let mut e = demo_engine(&[]);
    let bad = e.update_twin(
        "Room101",
        &json!([{"op": "replace", "path": "/temperature", "value": "warm"}]),
        &Precondition::None,
        now(),
    );
    assert!(
        matches!(bad, Err(GraphError::ValidationFailed(_))),
        "{bad:?}"
    );
    let unknown = e.update_twin(
        "Room101",
        &json!([{"op": "add", "path": "/colour", "value": "red"}]),
        &Precondition::None,
        now(),
    );
    assert!(
        matches!(unknown, Err(GraphError::ValidationFailed(_))),
        "{unknown:?}"
    );
    e.update_component(
        "Room101",
        "thermostat",
        &json!([{"op": "replace", "path": "/setpoint", "value": 23.5}]),
        &Precondition::None,
        now(),
    )
    .unwrap();
    assert_eq!(
        e.graph().twin_json("Room101").unwrap()["thermostat"]["setpoint"],
        23.5
    );
    let bad_mode = e.update_component(
        "Room101",
        "thermostat",
        &json!([{"op": "replace", "path": "/mode", "value": "turbo"}]),
        &Precondition::None,
        now(),
    );
    assert!(bad_mode.is_err());
    // A room cannot have a floor as sensor.
    let wrong_target = e.create_or_replace_relationship(
        "Room101",
        "x",
        &json!({"$relationshipName": "hasSensor", "$targetId": "Floor1"}),
        &Precondition::None,
        now(),
    );
    assert!(
        matches!(wrong_target, Err(GraphError::ValidationFailed(_))),
        "{wrong_target:?}"
    );
    // Telemetry is not a property.
    let telemetry = e.update_twin(
        "Room101",
        &json!([{"op": "add", "path": "/temperatureReading", "value": 1.0}]),
        &Precondition::None,
        now(),
    );
    assert!(telemetry.is_err());
    // A twin of an unknown model.
    let unknown_model = e.create_or_replace_twin(
        "x",
        &json!({"$metadata": {"$model": "dtmi:nope;1"}}),
        &Precondition::None,
        now(),
    );
    assert!(matches!(unknown_model, Err(GraphError::ModelNotFound(_))));
    // Components are required on create.
    let no_comp = e.create_or_replace_twin(
        "x",
        &json!({"$metadata": {"$model": demo::ROOM}, "name": "x"}),
        &Precondition::None,
        now(),
    );
    assert!(
        matches!(no_comp, Err(GraphError::ValidationFailed(_))),
        "{no_comp:?}"
    );
}

#[test]
fn select_star_with_model_filters_and_inheritance() {
    let e = demo_engine(&[]);
    let rows = q(
        &e,
        "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:twinscape:demo:Room;1')",
    );
    assert_eq!(rows.len(), 18);
    assert!(rows.iter().all(|r| r["$metadata"]["$model"] == demo::ROOM));
    // Equipment is the base of AHUs and the chiller.
    let eq = q(
        &e,
        "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:twinscape:demo:Equipment;1')",
    );
    assert_eq!(ids(&eq, None), ["Roof_AHU1", "Roof_AHU2", "Roof_Chiller"]);
    let exact = q(
        &e,
        "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:twinscape:demo:Equipment;1', exact)",
    );
    assert!(exact.is_empty());
    assert_eq!(
        e.explain("SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:twinscape:demo:Room;1')")
            .unwrap(),
        "model index (18 candidates, exact)"
    );
}

#[test]
fn count_and_top() {
    let e = demo_engine(&[]);
    let c = q(&e, "SELECT COUNT() FROM DIGITALTWINS");
    assert_eq!(c, vec![json!({"COUNT": demo::twins().len()})]);
    let c = q(
        &e,
        "SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:twinscape:demo:Sensor;1') AND battery >= 80",
    );
    let want = demo::twins()
        .iter()
        .filter(|t| t.doc["battery"].as_i64().is_some_and(|b| b >= 80))
        .count();
    assert_eq!(c, vec![json!({"COUNT": want})]);
    let top = q(&e, "SELECT TOP(5) FROM DIGITALTWINS");
    assert_eq!(top.len(), 5);
    let top = q(
        &e,
        "SELECT TOP(10) T.name FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:twinscape:demo:Room;1')",
    );
    assert_eq!(top.len(), 10, "TOP spans pages");
    assert!(
        top.iter()
            .all(|r| r.as_object().unwrap().len() == 1 && r["name"].is_string())
    );
}

#[test]
fn comparisons_and_functions() {
    let e = demo_engine(&[]);
    let hot: Vec<String> = demo::twins()
        .iter()
        .filter(|t| {
            t.doc["$metadata"]["$model"] == demo::ROOM
                && t.doc["temperature"].as_f64().is_some_and(|v| v > 22.0)
        })
        .map(|t| t.id.clone())
        .collect();
    let rows = q(
        &e,
        "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:twinscape:demo:Room;1') AND T.temperature > 22",
    );
    let mut want = hot.clone();
    want.sort();
    assert_eq!(ids(&rows, None), want);
    assert!(!want.is_empty());
    // Undefined compares are never true, even negated.
    let rows = q(
        &e,
        "SELECT * FROM DIGITALTWINS T WHERE NOT T.temperature > 22",
    );
    assert!(
        rows.iter().all(|r| r["temperature"].is_number()),
        "twins without temperature must not match"
    );
    let rows = q(
        &e,
        "SELECT * FROM DIGITALTWINS WHERE STARTSWITH($dtId, 'Roof_')",
    );
    assert_eq!(ids(&rows, None), ["Roof_AHU1", "Roof_AHU2", "Roof_Chiller"]);
    let rows = q(
        &e,
        "SELECT * FROM DIGITALTWINS WHERE ENDSWITH($dtId, '_TempSensor') AND CONTAINS($dtId, '30')",
    );
    assert_eq!(rows.len(), 6);
    let rows = q(
        &e,
        "SELECT * FROM DIGITALTWINS WHERE $dtId IN ['Room101', 'Floor2', 'nope']",
    );
    assert_eq!(ids(&rows, None), ["Floor2", "Room101"]);
    let rows = q(
        &e,
        "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:twinscape:demo:Floor;1') AND T.name NIN ['Floor1', 'Roof']",
    );
    assert_eq!(ids(&rows, None), ["Floor2", "Floor3"]);
    let rows = q(
        &e,
        "SELECT * FROM DIGITALTWINS T WHERE IS_DEFINED(T.thermostat.setpoint) AND T.thermostat.mode = 'heat'",
    );
    assert_eq!(rows.len(), 18);
    let rows = q(
        &e,
        "SELECT * FROM DIGITALTWINS T WHERE IS_NUMBER(T.level) AND T.level >= 2",
    );
    assert_eq!(ids(&rows, None), ["Floor2", "Floor3", "Roof"]);
    let rows = q(
        &e,
        "SELECT * FROM DIGITALTWINS T WHERE IS_STRING(T.status) AND T.status = 'running' OR T.$dtId = 'TwinscapeHQ'",
    );
    assert_eq!(
        ids(&rows, None),
        ["Roof_AHU1", "Roof_AHU2", "Roof_Chiller", "TwinscapeHQ"]
    );
    let rows = q(
        &e,
        "SELECT T.$dtId AS id, T.$metadata.$model AS model, T.thermostat.$metadata.setpoint.lastUpdateTime AS t FROM DIGITALTWINS T WHERE T.$dtId = 'Room205'",
    );
    assert_eq!(
        rows,
        vec![json!({"id": "Room205", "model": demo::ROOM, "t": "2025-03-01T12:00:00.0000000Z"})]
    );
    let rows = q(
        &e,
        "SELECT * FROM DIGITALTWINS T WHERE T.$metadata.temperature.lastUpdateTime = '2025-03-01T12:00:00.0000000Z'",
    );
    assert_eq!(rows.len(), 18 + 18);
}

#[test]
fn joins_follow_relationships() {
    let e = demo_engine(&[]);
    let rows = q(
        &e,
        "SELECT F, R FROM DIGITALTWINS F JOIN R RELATED F.hasRoom WHERE F.$dtId = 'Floor2'",
    );
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r["F"]["$dtId"] == "Floor2"));
    assert_eq!(
        ids(&rows, Some("R")),
        [
            "Room201", "Room202", "Room203", "Room204", "Room205", "Room206"
        ]
    );
    // Two JOINs: building → floor → room, with a relationship alias.
    let rows = q(
        &e,
        "SELECT R.$dtId AS room, Rel.$relationshipName AS rel FROM DIGITALTWINS B JOIN F RELATED B.hasFloor JOIN R RELATED F.hasRoom Rel WHERE B.$dtId = 'TwinscapeHQ' AND R.temperature > 0",
    );
    assert_eq!(rows.len(), 18);
    assert!(rows.iter().all(|r| r["rel"] == "hasRoom"));
    // Anchored on the JOIN target: the planner walks backwards.
    let text = "SELECT F FROM DIGITALTWINS F JOIN R RELATED F.hasRoom WHERE R.$dtId = 'Room304'";
    assert_eq!(ids(&q(&e, text), Some("F")), ["Floor3"]);
    assert_eq!(e.explain(text).unwrap(), "$dtId via JOIN (1 candidates)");
}

#[test]
fn match_patterns() {
    let e = demo_engine(&[]);
    let rows = q(
        &e,
        "SELECT B, R FROM DIGITALTWINS MATCH (B)-[:hasFloor]->(F)-[:hasRoom]->(R) WHERE B.$dtId = 'TwinscapeHQ'",
    );
    assert_eq!(rows.len(), 18);
    let rows = q(
        &e,
        "SELECT S FROM DIGITALTWINS MATCH (B)-[*1..3]->(S) WHERE B.$dtId = 'TwinscapeHQ' AND IS_OF_MODEL(S, 'dtmi:twinscape:demo:Sensor;1')",
    );
    assert_eq!(rows.len(), 18, "sensors are 3 hops from the building");
    let rows = q(
        &e,
        "SELECT S FROM DIGITALTWINS MATCH (B)-[*..2]->(S) WHERE B.$dtId = 'TwinscapeHQ' AND IS_OF_MODEL(S, 'dtmi:twinscape:demo:Sensor;1')",
    );
    assert!(rows.is_empty(), "…so not within 2");
    // Reverse direction and a relationship variable.
    let rows = q(
        &e,
        "SELECT A, rel FROM DIGITALTWINS MATCH (F)<-[rel:serves]-(A) WHERE F.$dtId = 'Floor1'",
    );
    assert_eq!(ids(&rows, Some("A")), ["Roof_AHU1", "Roof_AHU2"]);
    assert!(rows.iter().all(|r| r["rel"]["$relationshipName"] == "serves" && r["rel"]["$targetId"] == "Floor1"));
    // Undirected: the room's floor and its sensor.
    let rows = q(
        &e,
        "SELECT X FROM DIGITALTWINS MATCH (R)-[]-(X) WHERE R.$dtId = 'Room101'",
    );
    assert_eq!(ids(&rows, Some("X")), ["Floor1", "Room101_TempSensor"]);
}

#[test]
fn relationships_collection() {
    let e = demo_engine(&[]);
    let rows = q(
        &e,
        "SELECT * FROM RELATIONSHIPS R WHERE R.$sourceId = 'Roof'",
    );
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r["$relationshipName"] == "hasEquipment")
    );
    let rows = q(
        &e,
        "SELECT * FROM RELATIONSHIPS R WHERE R.$relationshipName = 'serves'",
    );
    assert_eq!(rows.len(), 6);
    let c = q(&e, "SELECT COUNT() FROM RELATIONSHIPS");
    assert_eq!(c, vec![json!({"COUNT": demo::relationships().len()})]);
}

#[test]
fn property_indexes_give_the_same_answers() {
    let plain = demo_engine(&[]);
    let mut indexed = demo_engine(&["temperature", "name", "level"]);
    for text in [
        "SELECT * FROM DIGITALTWINS T WHERE T.temperature > 21.5",
        "SELECT * FROM DIGITALTWINS T WHERE T.temperature <= 20",
        "SELECT * FROM DIGITALTWINS T WHERE T.name = 'Room 1'",
        "SELECT * FROM DIGITALTWINS T WHERE T.level = 2",
        "SELECT * FROM DIGITALTWINS T WHERE 2 < T.level",
        "SELECT * FROM DIGITALTWINS T WHERE T.name = 'Roof_AHU2'",
    ] {
        assert_eq!(
            ids(&q(&plain, text), None),
            ids(&q(&indexed, text), None),
            "{text}"
        );
        assert!(
            indexed.explain(text).unwrap().starts_with("property index"),
            "{text}"
        );
    }
    // Indexes follow writes.
    indexed
        .update_twin(
            "Room101",
            &json!([{"op": "replace", "path": "/temperature", "value": 99.5}]),
            &Precondition::None,
            now(),
        )
        .unwrap();
    let rows = q(
        &indexed,
        "SELECT * FROM DIGITALTWINS T WHERE T.temperature = 99.5",
    );
    assert_eq!(ids(&rows, None), ["Room101"]);
    let rows = q(
        &indexed,
        "SELECT * FROM DIGITALTWINS T WHERE T.temperature > 99",
    );
    assert_eq!(ids(&rows, None), ["Room101"]);
}

#[test]
fn paging_is_complete_and_tokens_are_checked() {
    let e = demo_engine(&[]);
    let all = q(&e, "SELECT * FROM DIGITALTWINS");
    assert_eq!(all.len(), demo::twins().len());
    let mut seen = ids(&all, None);
    seen.dedup();
    assert_eq!(seen.len(), all.len(), "no duplicates across pages");
    let first = e
        .query(
            "SELECT * FROM DIGITALTWINS",
            &QueryOptions {
                page_size: Some(3),
                continuation: None,
            },
        )
        .unwrap();
    let token = first.continuation.unwrap();
    // As in ADT, the token carries its query: the text sent with it is ignored
    // (the .NET SDK sends none).
    let same = e
        .query(
            "SELECT * FROM DIGITALTWINS",
            &QueryOptions {
                page_size: None,
                continuation: Some(token.clone()),
            },
        )
        .unwrap();
    for text in ["", "SELECT * FROM DIGITALTWINS T WHERE T.nothing = 1"] {
        let other = e
            .query(
                text,
                &QueryOptions {
                    page_size: None,
                    continuation: Some(token.clone()),
                },
            )
            .unwrap();
        assert_eq!(other.items, same.items, "{text:?}");
    }
    let mut bad = token.clone();
    bad.insert(3, 'x');
    assert!(
        e.query(
            "SELECT * FROM DIGITALTWINS",
            &QueryOptions {
                page_size: None,
                continuation: Some(bad)
            }
        )
        .is_err()
    );
    assert!(matches!(
        e.query(
            "SELECT * FROM DIGITALTWINS",
            &QueryOptions {
                page_size: Some(0),
                continuation: None
            }
        ),
        Err(QueryFailure::PageSize(_))
    ));
    // Page size is kept from the token.
    let second = e
        .query(
            "SELECT * FROM DIGITALTWINS",
            &QueryOptions {
                page_size: None,
                continuation: Some(token),
            },
        )
        .unwrap();
    assert_eq!(second.items.len(), 3);
    assert!(second.charge >= 1.0);
}

#[test]
fn bulk_import_validates_and_answers_like_create() {
    let created = demo_engine(&["temperature"]);
    let mut imported = Engine::new(EngineConfig {
        indexed_properties: vec!["temperature".into()],
        ..Default::default()
    });
    imported.add_models(&demo::models()).unwrap();
    for t in demo::twins() {
        imported.import_twin(&t.id, &t.doc, now()).unwrap();
    }
    for r in demo::relationships() {
        imported
            .import_relationship(&r.source, &r.id, &r.doc, now())
            .unwrap();
    }
    for text in [
        "SELECT * FROM DIGITALTWINS T WHERE T.temperature > 21.5",
        "SELECT F, R FROM DIGITALTWINS F JOIN R RELATED F.hasRoom WHERE F.$dtId = 'Floor2'",
        "SELECT COUNT() FROM RELATIONSHIPS",
    ] {
        // ETags differ between the two graphs; everything else is equal.
        fn no_etags(v: &Json) -> Json {
            match v {
                Json::Object(m) => Json::Object(
                    m.iter()
                        .filter(|(k, _)| *k != "$etag")
                        .map(|(k, v)| (k.clone(), no_etags(v)))
                        .collect(),
                ),
                other => other.clone(),
            }
        }
        let strip = |rows: Vec<Json>| -> Vec<String> {
            let mut v: Vec<String> = rows.iter().map(|r| no_etags(r).to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(
            strip(q(&created, text)),
            strip(q(&imported, text)),
            "{text}"
        );
    }
    // Same checks as a create: the model, DTDL, existing ids.
    let t = &demo::twins()[0];
    assert!(matches!(
        imported.import_twin(&t.id, &t.doc, now()),
        Err(GraphError::TwinAlreadyExists(_))
    ));
    assert!(matches!(
        imported.import_twin(
            "bad",
            &json!({"$metadata": {"$model": demo::ROOM}, "temperature": "warm"}),
            now()
        ),
        Err(GraphError::ValidationFailed(_))
    ));
    let r = &demo::relationships()[0];
    assert!(matches!(
        imported.import_relationship(&r.source, &r.id, &r.doc, now()),
        Err(GraphError::RelationshipAlreadyExists { .. })
    ));
    assert!(
        imported
            .import_relationship(
                "Room101",
                "x",
                &json!({"$relationshipName": "hasSensor", "$targetId": "Floor1"}),
                now()
            )
            .is_err()
    );
}

#[test]
fn the_planner_takes_the_smaller_of_model_and_property_index() {
    let mut e = demo_engine(&[]);
    let text = "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:twinscape:demo:Room;1') AND T.temperature > 22.5";
    let before = q(&e, text);
    assert_eq!(e.explain(text).unwrap(), "model index (18 candidates)");
    e.set_indexed_properties(&["temperature".to_string()]);
    let explained = e.explain(text).unwrap();
    assert!(
        explained.starts_with("property index") && !explained.contains("(18 "),
        "{explained}"
    );
    assert_eq!(ids(&q(&e, text), None), ids(&before, None));
    // A range wider than the model's twins: the model index stays.
    let wide = "SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'dtmi:twinscape:demo:Room;1') AND T.temperature > -100";
    assert_eq!(e.explain(wide).unwrap(), "model index (18 candidates)");
    // Pages of 7 agree whatever each page's plan.
    assert_eq!(q(&e, wide).len(), 18);
}

#[test]
fn scopes_are_the_twins_rows_bind() {
    let e = demo_engine(&[]);
    let parse = |t: &str| twinscape_query::parse(t).unwrap();
    // A JOIN binds the floor and its rooms; SELECT and TOP do not narrow it.
    let join = parse(
        "SELECT TOP(1) R FROM DIGITALTWINS F JOIN R RELATED F.hasRoom WHERE F.$dtId = 'Floor2'",
    );
    assert!(!Engine::scope_is_local(&join));
    assert_eq!(
        e.scope_twins(&join, None),
        [
            "Floor2", "Room201", "Room202", "Room203", "Room204", "Room205", "Room206"
        ]
    );
    // `among` is ignored for a non-local query: the whole query runs.
    assert_eq!(e.scope_twins(&join, Some(&["Room201".into()])).len(), 7);
    // A single collection: `among` checks just those twins.
    let rooms = parse("SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 'Room2')");
    assert!(Engine::scope_is_local(&rooms));
    let text = "SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 'Room2')";
    let all = e.scope_twins(&rooms, None);
    assert_eq!(all, ids(&q(&e, text), None));
    assert!(all.len() >= 6);
    assert_eq!(
        e.scope_twins(
            &rooms,
            Some(&["Room204".into(), "Room304".into(), "nope".into()])
        ),
        ["Room204"]
    );
    // Relationships are not twins.
    let rels = parse("SELECT * FROM RELATIONSHIPS R");
    assert!(e.scope_twins(&rels, None).is_empty());
}
