//! Scenes evaluated over twins: Scenes Studio's own sample configuration
//! and mock twins (tests/data, see SOURCE.md) with hand-computed states, and
//! hand-made scenes for aliases, templates, layers, errors and the index of
//! which rules read which twin.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

use serde_json::{Value as Json, json};
use std::collections::HashMap;
use twinscape_scene::config::{self, DEFAULT_LAYER_ID};
use twinscape_scene::eval::{SceneEvaluator, VisualState};

fn mock_twins() -> HashMap<String, Json> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/MockTwinData.json"
    ))
    .unwrap();
    let twins: Vec<Json> = serde_json::from_str(&text).unwrap();
    twins
        .into_iter()
        .map(|t| (t["$dtId"].as_str().unwrap().to_string(), t))
        .collect()
}

fn find<'a>(
    states: &'a [VisualState],
    element: &str,
    behavior: &str,
    visual: usize,
) -> &'a VisualState {
    states
        .iter()
        .find(|s| s.element == element && s.behavior == behavior && s.visual == visual)
        .unwrap_or_else(|| panic!("no state for {element} / {behavior} / {visual}"))
}

#[test]
fn the_sample_configuration_over_the_mock_twins() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/3DScenesConfiguration.json"
    ))
    .unwrap();
    let config = config::parse(&text).unwrap();
    let scene = "f7053e7537048e03be4d1e6f8f93aa8a";
    let eval = SceneEvaluator::new(&config, scene, None).unwrap();
    let states = eval.evaluate(&mock_twins());
    // OutFlow: A01 250 (first matching range wins over [220, ∞)), A02 50, A03 150.
    let outflow = "421cc93046fa4b589bc2ec1dd1009c90";
    let a01 = find(&states, "41bca486feaf985f52130947d31675dc", outflow, 0);
    assert_eq!(a01.twin, "PasteurizationMachine_A01");
    assert_eq!(a01.value, json!(250));
    assert_eq!(
        a01.range.as_deref(),
        Some("d7b6d0f722e873e8904c471ee46a2b72")
    );
    assert_eq!(a01.color.as_deref(), Some("#FEE440"));
    assert_eq!(a01.icon, None);
    assert_eq!(a01.label.as_deref(), Some("High OutFlow"));
    let a02 = find(&states, "a7094c812e6870004b6485112cc859b6", outflow, 0);
    assert_eq!(
        (a02.value.clone(), a02.color.as_deref()),
        (json!(50), Some("#33A1FD"))
    );
    assert_eq!(a02.label.as_deref(), Some("Low OutFlow"));
    let a03 = find(&states, "d2e033bcff9ff392b9b233e8571fcf28", outflow, 0);
    assert_eq!(
        (a03.value.clone(), a03.color.as_deref()),
        (json!(150), Some("#26C485"))
    );
    // Temperature: a range visual and two badges (categorical on a boolean).
    let temp = "1e0aa8384c4546c7ae1ca6e6d244922e";
    let a01 = find(&states, "41bca486feaf985f52130947d31675dc", temp, 0);
    assert_eq!(
        (a01.value.clone(), a01.label.as_deref()),
        (json!(50), Some("Average Temp"))
    );
    let hot = find(&states, "41bca486feaf985f52130947d31675dc", temp, 1);
    assert_eq!((hot.value.clone(), hot.range.clone()), (json!(false), None));
    assert_eq!(
        (hot.color.clone(), hot.icon.clone(), hot.label.clone()),
        (None, None, None)
    );
    let a02 = find(&states, "a7094c812e6870004b6485112cc859b6", temp, 0);
    assert_eq!(
        (a02.value.clone(), a02.label.as_deref()),
        (json!(150), Some("High Temp"))
    );
    assert_eq!(
        find(&states, "a7094c812e6870004b6485112cc859b6", temp, 1).range,
        None,
        "150 > 150 is false"
    );
    let a03 = find(&states, "d2e033bcff9ff392b9b233e8571fcf28", temp, 1);
    assert_eq!(a03.value, json!(true));
    assert_eq!(
        a03.range.as_deref(),
        Some("d0d2edff7c80438fa529206848867r5s")
    );
    assert_eq!(a03.icon.as_deref(), Some("Frigid"));
    assert_eq!(a03.color.as_deref(), Some("#d6940f"));
    assert_eq!(a03.label.as_deref(), Some("Temp too hot"));
    // The states serialize with exactly the CLI's keys.
    let keys: Vec<String> = serde_json::to_value(a03)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys,
        [
            "scene", "element", "twin", "behavior", "visual", "value", "range", "color", "icon",
            "label"
        ]
    );
    // Every rule of every scene of every sample evaluates without an error.
    for name in [
        "3DScenesConfiguration.json",
        "TruckAndMachinesConfig.json",
        "DemoEnvsConfig.json",
    ] {
        let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        let config = config::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        for scene in &config.configuration.scenes {
            let eval = SceneEvaluator::new(&config, &scene.id, None).unwrap();
            for s in eval.evaluate(&mock_twins()) {
                assert_eq!(s.error, None, "{name} {s:?}");
            }
        }
    }
}

fn hand_made() -> config::ScenesConfig {
    config::from_value(&json!({
        "$schema": "https://github.com/microsoft/iot-cardboard-js/tree/main/schemas/3DScenesConfiguration/v1.0.0/3DScenesConfiguration.schema.json",
        "configuration": {
            "scenes": [{
                "id": "s1", "displayName": "Floor", "assets": [{"type": "3DAsset", "url": "/3d/floor.glb"}],
                "behaviorIDs": ["b-temp", "b-door", "b-bad"],
                "elements": [
                    {"type": "TwinToObjectMapping", "id": "e1", "displayName": "Room 1", "primaryTwinID": "room1",
                     "objectIDs": ["Room1"], "twinAliases": {"Sensor": "sensor1"}},
                    {"type": "TwinToObjectMapping", "id": "e2", "displayName": "Room 2", "primaryTwinID": "room2",
                     "objectIDs": ["Room2"]}
                ]
            }],
            "behaviors": [
                {"id": "b-temp", "displayName": "Temperature", "twinAliases": ["Sensor"],
                 "datasources": [{"type": "ElementTwinToObjectMappingDataSource", "elementIDs": ["e1", "e2"]}],
                 "visuals": [
                    {"type": "Popover", "title": "Room", "widgets": [], "objectIDs": {"expression": "objectIDs"}},
                    {"type": "ExpressionRangeVisual", "valueExpression": "Sensor.reading ?? PrimaryTwin.temperature",
                     "expressionType": "NumericRange", "objectIDs": {"expression": "objectIDs"},
                     "valueRanges": [
                        {"id": "cold", "values": ["-Infinity", 18], "visual": {"color": "#0000ff"}},
                        {"id": "ok", "values": [18, 24], "visual": {"color": "#00ff00"}},
                        {"id": "hot", "values": [24, "Infinity"],
                         "visual": {"color": "#ff0000", "iconName": "Warning",
                                    "labelExpression": "`${PrimaryTwin.$dtId} is ${PrimaryTwin.temperature}°C`"}}
                     ]}
                 ]},
                {"id": "b-door", "displayName": "Door",
                 "datasources": [{"type": "ElementTwinToObjectMappingDataSource", "elementIDs": ["e2"]}],
                 "visuals": [
                    {"type": "ExpressionRangeVisual", "valueExpression": "PrimaryTwin.door.state",
                     "expressionType": "CategoricalValues", "objectIDs": {"expression": "objectIDs"},
                     "valueRanges": [{"id": "open", "values": ["open"], "visual": {"iconName": "DoorOpen", "labelExpression": "Door ${PrimaryTwin.door.state}"}}]}
                 ]},
                {"id": "b-bad", "displayName": "Broken rule",
                 "datasources": [{"type": "ElementTwinToObjectMappingDataSource", "elementIDs": ["e1"]}],
                 "visuals": [
                    {"type": "ExpressionRangeVisual", "valueExpression": "PrimaryTwin.temperature = 3",
                     "expressionType": "NumericRange", "objectIDs": {"expression": "objectIDs"},
                     "valueRanges": [{"id": "any", "values": ["-Infinity", "Infinity"], "visual": {"color": "#000000"}}]}
                 ]}
            ],
            "layers": [{"id": "l-doors", "displayName": "Doors", "behaviorIDs": ["b-door"]}]
        }
    }))
    .unwrap()
}

#[test]
fn aliases_templates_categorical_values_and_broken_rules() {
    let config = hand_made();
    let eval = SceneEvaluator::new(&config, "s1", None).unwrap();
    assert_eq!(
        eval.len(),
        4,
        "two temperature rules, one door rule, one broken rule"
    );
    let mut twins: HashMap<String, Json> = HashMap::new();
    twins.insert(
        "room1".into(),
        json!({"$dtId": "room1", "temperature": 25.5}),
    );
    twins.insert(
        "room2".into(),
        json!({"$dtId": "room2", "temperature": 19, "door": {"state": "open"}}),
    );
    let states = eval.evaluate(&twins);
    // No sensor twin yet: `??` falls back to the room's own temperature.
    let e1 = find(&states, "e1", "b-temp", 1);
    assert_eq!(
        (e1.value.clone(), e1.range.as_deref()),
        (json!(25.5), Some("hot"))
    );
    assert_eq!(e1.label.as_deref(), Some("room1 is 25.5°C"));
    assert_eq!(e1.icon.as_deref(), Some("Warning"));
    let e2 = find(&states, "e2", "b-temp", 1);
    assert_eq!(
        (e2.range.as_deref(), e2.color.as_deref(), e2.label.clone()),
        (Some("ok"), Some("#00ff00"), None)
    );
    let door = find(&states, "e2", "b-door", 0);
    assert_eq!(
        (door.value.clone(), door.range.as_deref()),
        (json!("open"), Some("open"))
    );
    assert_eq!(door.label.as_deref(), Some("Door open"));
    // A rule that does not parse keeps its error; the others are unaffected.
    let bad = find(&states, "e1", "b-bad", 0);
    assert_eq!((bad.value.clone(), bad.range.clone()), (Json::Null, None));
    assert!(
        bad.error.as_deref().is_some_and(|e| e.contains("byte")),
        "{bad:?}"
    );
    // The sensor arrives: the alias now wins, and only e1's rules read it.
    assert_eq!(eval.affected_by("sensor1"), &[0]);
    twins.insert("sensor1".into(), json!({"$dtId": "sensor1", "reading": 12}));
    let again = eval.evaluate_rule(0, &twins);
    assert_eq!(
        (again.value.clone(), again.range.as_deref()),
        (json!(12), Some("cold"))
    );
    // A missing twin: no value, no range.
    twins.remove("room2");
    let gone = eval.evaluate_rule(eval.affected_by("room2")[0], &twins);
    assert_eq!((gone.value.clone(), gone.range.clone()), (Json::Null, None));
}

#[test]
fn the_index_names_exactly_the_rules_that_read_a_twin() {
    let config = hand_made();
    let eval = SceneEvaluator::new(&config, "s1", None).unwrap();
    let mut room1 = eval.affected_by("room1").to_vec();
    room1.sort_unstable();
    assert_eq!(room1, [0, 3], "e1's temperature rule and its broken rule");
    let mut room2 = eval.affected_by("room2").to_vec();
    room2.sort_unstable();
    assert_eq!(room2, [1, 2]);
    assert!(eval.affected_by("nobody").is_empty());
    let mut ids: Vec<&str> = eval.twin_ids().collect();
    ids.sort_unstable();
    assert_eq!(ids, ["room1", "room2", "sensor1"]);
}

#[test]
fn layers_limit_the_rules() {
    let config = hand_made();
    let doors = SceneEvaluator::new(&config, "s1", Some(&["l-doors"])).unwrap();
    assert_eq!(doors.len(), 1);
    let default = SceneEvaluator::new(&config, "s1", Some(&[DEFAULT_LAYER_ID])).unwrap();
    assert_eq!(default.len(), 3, "the behaviors in no layer");
    assert!(SceneEvaluator::new(&config, "nope", None).is_none());
}
