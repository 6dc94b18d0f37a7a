//! The demo building's scene configuration is valid Scenes Studio JSON and
//! evaluates over the demo twins as its rules say.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

use serde_json::{Value as Json, json};
use std::collections::HashMap;
use twinscape_demo::scene::{SCENE_ID, scenes_config};
use twinscape_demo::twins::{ROOM, twins};
use twinscape_scene::config;
use twinscape_scene::eval::SceneEvaluator;

#[test]
fn the_demo_scene_is_valid_and_binds_every_room_and_machine() {
    let text = scenes_config().to_string();
    let config = config::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(config.problems().is_empty(), "{:?}", config.problems());
    let scene = config.scene(SCENE_ID).unwrap();
    assert_eq!(scene.assets[0].url, twinscape_protocol::DEMO_MODEL_PATH);
    // Every element is a mesh of the generated building.
    let meshes: Vec<String> = twinscape_demo::elements()
        .into_iter()
        .map(|e| e.name)
        .collect();
    for element in &scene.elements {
        let mapping = element.as_twin_to_object_mapping().unwrap();
        for object in &mapping.object_ids {
            assert!(
                meshes.contains(object),
                "{object} is not a mesh of the building"
            );
        }
    }
}

#[test]
fn the_demo_rules_follow_the_twins() {
    let config = config::parse(&scenes_config().to_string()).unwrap();
    let mut docs: HashMap<String, Json> = twins()
        .into_iter()
        .map(|t| {
            let mut doc = t.doc;
            doc["$dtId"] = json!(t.id);
            (t.id, doc)
        })
        .collect();
    let rooms = twins()
        .iter()
        .filter(|t| t.doc["$metadata"]["$model"] == ROOM)
        .count();
    let eval = SceneEvaluator::new(&config, SCENE_ID, None).unwrap();
    let states = eval.evaluate(&docs);
    // Every room has a temperature colour (the demo's 19–24 °C fall in a range).
    let coloured = states
        .iter()
        .filter(|s| s.behavior == "room-temperature" && s.color.is_some())
        .count();
    assert_eq!(coloured, rooms);
    assert!(states.iter().all(|s| s.error.is_none()), "{states:?}");
    // A hot room gets the badge with its label; a fault shows on the AHU.
    docs.get_mut("Room101").unwrap()["temperature"] = json!(26.04);
    docs.get_mut("Roof_AHU2").unwrap()["status"] = json!("fault");
    for i in eval.affected_by("Room101") {
        let s = eval.evaluate_rule(*i, &docs);
        if s.behavior == "room-temperature" {
            assert_eq!(s.range.as_deref(), Some("hot"));
            assert_eq!(s.icon.as_deref(), Some("Frigid"));
            assert_eq!(s.label.as_deref(), Some("Room101: 26.0 °C"));
        }
    }
    let ahu = eval.affected_by("Roof_AHU2");
    assert_eq!(ahu.len(), 1);
    let s = eval.evaluate_rule(ahu[0], &docs);
    assert_eq!(
        (s.range.as_deref(), s.color.as_deref()),
        (Some("fault"), Some("#EB4033"))
    );
    assert_eq!(s.label.as_deref(), Some("Roof_AHU2 is in fault"));
    // Layers: only the equipment rules.
    let equipment = SceneEvaluator::new(&config, SCENE_ID, Some(&["equipment"])).unwrap();
    assert!(
        equipment
            .evaluate(&docs)
            .iter()
            .all(|s| s.behavior == "equipment-status")
    );
}
