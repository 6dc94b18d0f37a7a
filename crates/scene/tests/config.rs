//! `twinscape_scene::config` against Scenes Studio's own sample
//! configurations (tests/data, see SOURCE.md) and hand-made bad ones.

use serde_json::{Value, json};
use twinscape_scene::config::{
    self, ConfigError, DEFAULT_LAYER_ID, Element, ErrorKind, ExpressionType, ScenesConfig, Visual,
    Widget,
};

const SAMPLES: &[(&str, &str)] = &[
    (
        "3DScenesConfiguration.json",
        include_str!("data/3DScenesConfiguration.json"),
    ),
    (
        "3DScenesConfiguration.default.json",
        include_str!("data/3DScenesConfiguration.default.json"),
    ),
    (
        "TruckAndMachinesConfig.json",
        include_str!("data/TruckAndMachinesConfig.json"),
    ),
    (
        "DemoEnvsConfig.json",
        include_str!("data/DemoEnvsConfig.json"),
    ),
];

fn sample(name: &str) -> ScenesConfig {
    let text = SAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .expect("sample exists");
    config::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn samples_round_trip_exactly() {
    for (name, text) in SAMPLES {
        let original: Value = serde_json::from_str(text).unwrap();
        let parsed = config::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let written = config::to_json(&parsed);
        assert_eq!(written, original, "{name}: value differs");
        // Same key order too: compare the compact texts.
        assert_eq!(
            serde_json::to_string(&written).unwrap(),
            serde_json::to_string(&original).unwrap(),
            "{name}: key order differs"
        );
        // And again from the pretty text.
        let again = config::parse(&config::to_string_pretty(&parsed)).unwrap();
        assert_eq!(again, parsed, "{name}: pretty text reads back differently");
        // Scenes Studio's samples are schema-valid; a few hold dangling
        // references, which parse accepts and `problems` lists.
        assert!(
            parsed
                .problems()
                .iter()
                .all(|p| p.kind == ErrorKind::Consistency),
            "{name}"
        );
    }
}

#[test]
fn samples_have_the_expected_shape() {
    let c = sample("TruckAndMachinesConfig.json");
    let scene = &c.configuration.scenes[0];
    assert_eq!(scene.assets[0].asset_type, "3DAsset");
    let aliased = scene
        .elements
        .iter()
        .filter_map(Element::as_twin_to_object_mapping)
        .find(|e| e.twin_aliases.is_some())
        .unwrap();
    assert!(aliased.twin_alias("temperatureTag").is_some());
    let widgets: Vec<&Widget> = c
        .configuration
        .behaviors
        .iter()
        .flat_map(|b| &b.visuals)
        .filter_map(|v| match v {
            Visual::Popover(p) => Some(&p.widgets),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(widgets.iter().any(|w| matches!(w, Widget::Gauge(_))));
    assert!(widgets.iter().any(|w| matches!(w, Widget::Link(_))));
    assert!(widgets.iter().any(|w| matches!(w, Widget::Value(_))));
    assert!(widgets.iter().any(|w| matches!(w, Widget::DataHistory(_))));
    assert!(!widgets.iter().any(|w| matches!(w, Widget::Other(_))));
}

#[test]
fn new_config_round_trips_and_is_valid() {
    let c = ScenesConfig::new();
    let v = config::to_json(&c);
    assert_eq!(
        v,
        json!({"$schema": config::SCHEMA_URL, "configuration": {"scenes": [], "behaviors": [], "layers": []}})
    );
    assert_eq!(config::from_value(&v).unwrap(), c);
}

// ------------------------------------------------------------ validation

fn good() -> Value {
    json!({
        "$schema": config::SCHEMA_URL,
        "configuration": {
            "scenes": [{
                "id": "s1", "displayName": "Scene 1",
                "assets": [{"type": "3DAsset", "url": "https://example/model.gltf"}],
                "elements": [
                    {"type": "TwinToObjectMapping", "id": "e1", "displayName": "Pump",
                     "primaryTwinID": "pump1", "objectIDs": ["mesh1"],
                     "twinAliases": {"tag": "pump1-tag"}},
                    {"type": "TwinToObjectMapping", "id": "e2", "displayName": "Tank",
                     "primaryTwinID": "tank1", "objectIDs": ["mesh2", "mesh3"]},
                    {"type": "CustomProperty", "anything": [1, 2]}
                ],
                "behaviorIDs": ["b1", "b2", "b3"],
                "pollingConfiguration": {"minimumPollingFrequency": 10000},
                "customSceneField": true
            }],
            "behaviors": [
                {"id": "b1", "displayName": "Temperature",
                 "datasources": [{"type": "ElementTwinToObjectMappingDataSource", "elementIDs": ["e1"]}],
                 "visuals": [{
                    "type": "ExpressionRangeVisual", "expressionType": "NumericRange",
                    "valueExpression": "PrimaryTwin.Temperature",
                    "valueRanges": [
                        {"id": "r1", "values": ["-Infinity", 20], "visual": {"color": "#00f"}},
                        {"id": "r2", "values": [20, 80.5], "visual": {"color": "#0f0"}},
                        {"id": "r3", "values": [80.5, "Infinity"], "visual": {"color": "#f00", "iconName": "Warning"}}
                    ],
                    "objectIDs": {"expression": "objectIDs"}
                 }, {
                    "type": "Popover", "title": "Pump",
                    "widgets": [
                        {"type": "Gauge", "id": "w1", "valueExpression": "PrimaryTwin.Temperature",
                         "widgetConfiguration": {"label": "T", "units": "C",
                            "valueRanges": [{"id": "g1", "values": [0, 100], "visual": {"color": "#0f0"}}]}},
                        {"type": "Link", "id": "w2", "widgetConfiguration": {"label": "Docs", "linkExpression": "https://x/${PrimaryTwin.$dtId}"}},
                        {"type": "Value", "id": "w3", "widgetConfiguration": {"displayName": "On", "valueExpression": "PrimaryTwin.On", "type": "boolean"}}
                    ],
                    "objectIDs": {"expression": "objectIDs"}
                 }]},
                {"id": "b2", "displayName": "State",
                 "datasources": [{"type": "ElementTwinToObjectMappingDataSource", "elementIDs": ["e1", "e2"]}],
                 "visuals": [{
                    "type": "ExpressionRangeVisual", "expressionType": "CategoricalValues",
                    "valueExpression": "PrimaryTwin.State",
                    "valueRanges": [
                        {"id": "c1", "values": [true], "visual": {"color": "#f00"}},
                        {"id": "c2", "values": ["idle", "off"], "visual": {"color": "#888"}}
                    ],
                    "objectIDs": {"expression": "objectIDs"}
                 }]},
                {"id": "b3", "displayName": "Unlayered", "datasources": [], "visuals": []},
                {"id": "b4", "displayName": "In no scene", "datasources": [], "visuals": []}
            ],
            "layers": [
                {"id": "l1", "displayName": "Temperature layer", "behaviorIDs": ["b1"]},
                {"id": "l2", "displayName": "State layer", "behaviorIDs": ["b2", "b1"]}
            ]
        }
    })
}

fn errors_of(v: &Value) -> Vec<(String, String)> {
    config::validate_value(v)
        .into_iter()
        .map(|ConfigError { path, message, .. }| (path, message))
        .collect()
}

fn paths_of(v: &Value) -> Vec<String> {
    errors_of(v).into_iter().map(|(p, _)| p).collect()
}

fn pointer<'a>(v: &'a mut Value, p: &str) -> &'a mut Value {
    v.pointer_mut(p).unwrap_or_else(|| panic!("no {p}"))
}

#[test]
fn good_configuration_is_valid_and_keeps_unknown_properties() {
    let v = good();
    let c = config::from_value(&v).unwrap();
    assert_eq!(
        c.configuration.scenes[0].extra["customSceneField"],
        json!(true)
    );
    assert!(matches!(
        c.configuration.scenes[0].elements[2],
        Element::Other(_)
    ));
    assert_eq!(config::to_json(&c), v);
}

#[test]
fn not_json_is_one_error_at_the_root() {
    let err = config::parse("{\"$schema\": ").unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].path, "");
    assert!(err.0[0].message.starts_with("not JSON"));
    assert_eq!(paths_of(&json!([1, 2])), vec![""]);
}

#[test]
fn missing_and_mistyped_fields_have_paths() {
    let mut v = good();
    pointer(&mut v, "/configuration/scenes/0")
        .as_object_mut()
        .unwrap()
        .remove("displayName");
    *pointer(&mut v, "/configuration/scenes/0/elements/1/objectIDs/1") = json!(3);
    *pointer(
        &mut v,
        "/configuration/behaviors/0/visuals/0/valueExpression",
    ) = json!(7);
    pointer(
        &mut v,
        "/configuration/behaviors/0/visuals/1/widgets/0/widgetConfiguration",
    )
    .as_object_mut()
    .unwrap()
    .remove("label");
    *pointer(
        &mut v,
        "/configuration/scenes/0/pollingConfiguration/minimumPollingFrequency",
    ) = json!("often");
    *pointer(&mut v, "/configuration/scenes/0/elements/0/twinAliases/tag") = json!(null);
    *pointer(
        &mut v,
        "/configuration/behaviors/0/visuals/1/widgets/2/widgetConfiguration/type",
    ) = json!("bool");
    pointer(&mut v, "/configuration")
        .as_object_mut()
        .unwrap()
        .remove("layers");
    let errors = errors_of(&v);
    let expected = [
        ("/configuration", "missing required property 'layers'"),
        (
            "/configuration/scenes/0",
            "missing required property 'displayName'",
        ),
        (
            "/configuration/scenes/0/elements/0/twinAliases/tag",
            "expected a string",
        ),
        (
            "/configuration/scenes/0/elements/1/objectIDs/1",
            "expected a string",
        ),
        (
            "/configuration/scenes/0/pollingConfiguration/minimumPollingFrequency",
            "expected a number",
        ),
        (
            "/configuration/behaviors/0/visuals/0/valueExpression",
            "expected a string",
        ),
        (
            "/configuration/behaviors/0/visuals/1/widgets/0/widgetConfiguration",
            "missing required property 'label'",
        ),
    ];
    for (p, m) in expected {
        assert!(
            errors.iter().any(|(ep, em)| ep == p && em == m),
            "missing {p}: {m} in {errors:#?}"
        );
    }
    assert!(errors.iter().any(|(p, m)| p
        == "/configuration/behaviors/0/visuals/1/widgets/2/widgetConfiguration/type"
        && m.starts_with("'bool' is not one of")));
    assert_eq!(errors.len(), expected.len() + 1, "{errors:#?}");
    let refused = config::from_value(&v).unwrap_err();
    assert_eq!(refused.0.len(), errors.len());
    assert!(refused.0.iter().all(|e| e.kind == ErrorKind::Schema));
}

#[test]
fn duplicate_ids_are_reported() {
    let mut v = good();
    let scene = pointer(&mut v, "/configuration/scenes/0").clone();
    pointer(&mut v, "/configuration/scenes")
        .as_array_mut()
        .unwrap()
        .push(scene);
    *pointer(&mut v, "/configuration/scenes/0/elements/1/id") = json!("e1");
    *pointer(&mut v, "/configuration/behaviors/3/id") = json!("b3");
    *pointer(&mut v, "/configuration/layers/1/id") = json!("l1");
    assert_eq!(
        errors_of(&v),
        vec![
            (
                "/configuration/scenes/0/elements/1/id".to_owned(),
                "duplicate element id 'e1' (first at /configuration/scenes/0/elements/0)"
                    .to_owned()
            ),
            (
                "/configuration/scenes/1/id".to_owned(),
                "duplicate scene id 's1' (first at /configuration/scenes/0)".to_owned()
            ),
            (
                "/configuration/behaviors/3/id".to_owned(),
                "duplicate behavior id 'b3' (first at /configuration/behaviors/2)".to_owned()
            ),
            (
                "/configuration/layers/1/id".to_owned(),
                "duplicate layer id 'l1' (first at /configuration/layers/0)".to_owned()
            ),
        ]
    );
}

#[test]
fn dangling_references_are_reported() {
    let mut v = good();
    pointer(&mut v, "/configuration/scenes/0/behaviorIDs")
        .as_array_mut()
        .unwrap()
        .push(json!("nope"));
    *pointer(&mut v, "/configuration/layers/1/behaviorIDs/0") = json!("gone");
    *pointer(
        &mut v,
        "/configuration/behaviors/1/datasources/0/elementIDs/1",
    ) = json!("e9");
    assert_eq!(
        paths_of(&v),
        vec![
            "/configuration/scenes/0/behaviorIDs/3",
            "/configuration/behaviors/1/datasources/0/elementIDs/1",
            "/configuration/layers/1/behaviorIDs/0",
        ]
    );
    // Scenes Studio tolerates these: parse accepts them, `problems` lists them.
    let c = config::from_value(&v).unwrap();
    let problems = c.problems();
    assert_eq!(problems.len(), 3);
    assert!(problems.iter().all(|p| p.kind == ErrorKind::Consistency));
    assert!(c.validate().is_err());
}

#[test]
fn bad_numeric_ranges_are_reported() {
    let mut v = good();
    let ranges = "/configuration/behaviors/0/visuals/0/valueRanges";
    *pointer(&mut v, &format!("{ranges}/0/values")) = json!(["-Infinity", "twenty"]);
    *pointer(&mut v, &format!("{ranges}/1/values")) = json!([90, 80.5]);
    *pointer(&mut v, &format!("{ranges}/2/values")) = json!([80.5]);
    *pointer(
        &mut v,
        "/configuration/behaviors/0/visuals/1/widgets/0/widgetConfiguration/valueRanges/0/values",
    ) = json!([true, null]);
    let errors = errors_of(&v);
    let w =
        "/configuration/behaviors/0/visuals/1/widgets/0/widgetConfiguration/valueRanges/0/values";
    assert_eq!(
        errors,
        vec![
            (
                format!("{ranges}/0/values/1"),
                "a range bound is a number, \"Infinity\" or \"-Infinity\"".to_owned()
            ),
            (
                format!("{ranges}/1/values"),
                "min 90 is greater than max 80.5".to_owned()
            ),
            (
                format!("{ranges}/2/values"),
                "a numeric range has two bounds [min, max], found 1".to_owned()
            ),
            (
                format!("{w}/1"),
                "expected a number, a string or a boolean".to_owned()
            ),
            (
                format!("{w}/0"),
                "a range bound is a number, \"Infinity\" or \"-Infinity\"".to_owned()
            ),
        ]
    );
    // Categorical values may be strings, numbers and booleans.
    let mut v = good();
    *pointer(
        &mut v,
        "/configuration/behaviors/1/visuals/0/valueRanges/1/values",
    ) = json!(["idle", 3, false]);
    assert!(errors_of(&v).is_empty());
}

#[test]
fn unknown_types_are_reported_but_kept() {
    let mut v = good();
    *pointer(
        &mut v,
        "/configuration/behaviors/0/visuals/1/widgets/1/type",
    ) = json!("Sparkline");
    pointer(&mut v, "/configuration/behaviors/2/visuals")
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "Badge", "objectIDs": {"expression": "objectIDs"}}));
    *pointer(
        &mut v,
        "/configuration/behaviors/1/visuals/0/expressionType",
    ) = json!("Regex");
    *pointer(&mut v, "/configuration/scenes/0/elements/2/type") = json!("Mystery");
    assert_eq!(
        paths_of(&v),
        vec![
            "/configuration/scenes/0/elements/2/type",
            "/configuration/behaviors/0/visuals/1/widgets/1/type",
            "/configuration/behaviors/1/visuals/0/expressionType",
            "/configuration/behaviors/2/visuals/0/type",
        ]
    );
    // The typed model still holds and writes them unchanged.
    let c: ScenesConfig = serde_json::from_value(v.clone()).unwrap();
    assert!(matches!(
        c.configuration.behaviors[2].visuals[0],
        Visual::Other(_)
    ));
    match &c.configuration.behaviors[1].visuals[0] {
        Visual::ExpressionRange(e) => {
            assert_eq!(e.expression_type, ExpressionType::Other("Regex".into()))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(serde_json::to_value(&c).unwrap(), v);
    assert!(c.validate().is_err());
}

// ------------------------------------------------------------ helpers

#[test]
fn ranges_are_half_open_with_infinite_ends() {
    let c = config::from_value(&good()).unwrap();
    let Visual::ExpressionRange(numeric) = &c.configuration.behaviors[0].visuals[0] else {
        panic!("expected a range visual")
    };
    let t = &numeric.expression_type;
    let which = |x: Value| -> Vec<&str> {
        numeric
            .value_ranges
            .iter()
            .filter(|r| r.contains(t, &x))
            .map(|r| r.id.as_str())
            .collect()
    };
    assert_eq!(which(json!(-1e300)), vec!["r1"]);
    assert_eq!(which(json!(19.999)), vec!["r1"]);
    assert_eq!(which(json!(20)), vec!["r2"]);
    assert_eq!(which(json!(80.5)), vec!["r3"]);
    assert_eq!(which(json!(1e300)), vec!["r3"]);
    assert!(which(json!("20")).is_empty());
    assert!(which(json!(null)).is_empty());
    assert!(numeric.value_ranges[2].contains_number(f64::MAX));
    assert!(!numeric.value_ranges[2].contains_number(f64::NAN));

    let Visual::ExpressionRange(cat) = &c.configuration.behaviors[1].visuals[0] else {
        panic!("expected a range visual")
    };
    let t = &cat.expression_type;
    assert!(cat.value_ranges[0].contains(t, &json!(true)));
    assert!(!cat.value_ranges[0].contains(t, &json!(false)));
    assert!(!cat.value_ranges[0].contains(t, &json!("true")));
    assert!(cat.value_ranges[1].contains(t, &json!("off")));
    assert!(!cat.value_ranges[1].contains(t, &json!("Off")));
}

#[test]
fn sample_ranges_classify_values() {
    let c = sample("3DScenesConfiguration.json");
    let mut numeric = 0;
    for b in &c.configuration.behaviors {
        for v in &b.visuals {
            if let Visual::ExpressionRange(e) = v
                && e.expression_type == ExpressionType::NumericRange
            {
                numeric += 1;
                for r in &e.value_ranges {
                    let lo = r.values[0].as_bound();
                    let probe = if lo.is_finite() { lo } else { -1e12 };
                    assert!(r.contains(&e.expression_type, &json!(probe)), "{r:?}");
                }
            }
        }
    }
    assert!(numeric > 0);
}

#[test]
fn layers_select_behaviors_and_unlayered_ones_form_the_default_layer() {
    let c = config::from_value(&good()).unwrap();
    let ids = |layers: Option<&[&str]>| -> Vec<String> {
        c.behaviors_of_scene("s1", layers)
            .unwrap()
            .into_iter()
            .map(|b| b.id.clone())
            .collect()
    };
    assert_eq!(ids(None), ["b1", "b2", "b3"]);
    assert_eq!(ids(Some(&["l1"])), ["b1"]);
    assert_eq!(ids(Some(&["l2"])), ["b1", "b2"]);
    assert_eq!(ids(Some(&[DEFAULT_LAYER_ID])), ["b3"]);
    assert_eq!(ids(Some(&["l1", DEFAULT_LAYER_ID])), ["b1", "b3"]);
    assert!(ids(Some(&[])).is_empty());
    assert!(c.behaviors_of_scene("nope", None).is_none());
    assert_eq!(
        c.layers_of_behavior("b1")
            .map(|l| l.id.as_str())
            .collect::<Vec<_>>(),
        ["l1", "l2"]
    );
}

#[test]
fn elements_of_a_behavior_in_a_scene() {
    let c = config::from_value(&good()).unwrap();
    let scene = c.scene("s1").unwrap();
    let of = |b: &str| -> Vec<&str> {
        scene
            .elements_of_behavior(c.behavior(b).unwrap())
            .into_iter()
            .filter_map(Element::id)
            .collect()
    };
    assert_eq!(of("b1"), ["e1"]);
    assert_eq!(of("b2"), ["e1", "e2"]);
    assert!(of("b3").is_empty());
    let e1 = scene
        .element("e1")
        .unwrap()
        .as_twin_to_object_mapping()
        .unwrap();
    assert_eq!(e1.twin_alias("tag"), Some("pump1-tag"));
    assert_eq!(e1.twin_alias("other"), None);
}

#[test]
fn sample_scenes_resolve_their_behaviors_and_elements() {
    let c = sample("DemoEnvsConfig.json");
    for scene in &c.configuration.scenes {
        let behaviors = c.scene_behaviors(scene, None);
        assert_eq!(behaviors.len(), scene.behavior_ids.len(), "{}", scene.id);
        let mut any = false;
        for b in behaviors {
            any |= !scene.elements_of_behavior(b).is_empty();
        }
        assert!(any, "scene {} has no element with a behavior", scene.id);
    }
}
