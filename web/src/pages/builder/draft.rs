//! The scene being built: one scene with its behaviors and the layers, as
//! the Scenes Studio configuration JSON that `PUT /scenes/{id}` takes (a
//! whole configuration holding exactly that scene). Every edit is a pure
//! function on that JSON, so the builder's undo is a stack of values and
//! what is saved is what was previewed. Unknown properties are kept.

use serde_json::{Map, Value as Json, json};
use twinscape_scene::config::SCHEMA_URL;

/// A new scene on a 3D file.
pub fn new_scene(id: &str, name: &str, description: &str, asset_url: &str) -> Json {
    let mut scene = json!({
        "id": id,
        "displayName": name,
        "elements": [],
        "behaviorIDs": [],
        "assets": [{"type": "3DAsset", "url": asset_url}],
    });
    if !description.trim().is_empty() {
        scene["description"] = json!(description.trim());
    }
    json!({
        "$schema": SCHEMA_URL,
        "configuration": {"scenes": [scene], "behaviors": [], "layers": []},
    })
}

/// The draft of scene `id` cut from a whole configuration: the scene, the
/// behaviors it names, and every layer (layers are shared by scenes).
pub fn of_scene(config: &Json, id: &str) -> Option<Json> {
    let c = &config["configuration"];
    let scene = c["scenes"]
        .as_array()?
        .iter()
        .find(|s| s["id"] == id)?
        .clone();
    let names: Vec<&Json> = scene["behaviorIDs"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let behaviors: Vec<Json> = c["behaviors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| names.contains(&&b["id"]))
        .cloned()
        .collect();
    Some(json!({
        "$schema": config.get("$schema").cloned().unwrap_or_else(|| json!(SCHEMA_URL)),
        "configuration": {
            "scenes": [scene],
            "behaviors": behaviors,
            "layers": c["layers"].as_array().cloned().unwrap_or_default(),
        },
    }))
}

fn arr<'a>(v: &'a mut Json, key: &str) -> &'a mut Vec<Json> {
    if !v[key].is_array() {
        v[key] = json!([]);
    }
    match &mut v[key] {
        Json::Array(a) => a,
        _ => unreachable!("just made an array"),
    }
}

fn scene(d: &mut Json) -> &mut Json {
    &mut d["configuration"]["scenes"][0]
}

/// An id like `name` (lower case, `-` for anything else) not in `taken`.
pub fn fresh_id(name: &str, taken: &[String]) -> String {
    let mut base: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while base.contains("--") {
        base = base.replace("--", "-");
    }
    let base = base.trim_matches('-');
    let base = if base.is_empty() { "item" } else { base };
    if !taken.iter().any(|t| t == base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken.iter().any(|t| t == id))
        .unwrap_or_else(|| base.to_string())
}

/// Ids of the scene's elements.
pub fn element_ids(d: &Json) -> Vec<String> {
    ids(&d["configuration"]["scenes"][0]["elements"])
}

/// Ids of the draft's behaviors.
pub fn behavior_ids(d: &Json) -> Vec<String> {
    ids(&d["configuration"]["behaviors"])
}

/// Ids of the layers.
pub fn layer_ids(d: &Json) -> Vec<String> {
    ids(&d["configuration"]["layers"])
}

/// `(id, displayName)` of a list's items (elements, layers), for pickers.
pub fn id_names(list: &Json) -> Vec<(String, String)> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["id"].as_str()?.to_string(),
                e["displayName"].as_str().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn ids(list: &Json) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["id"].as_str().map(str::to_string))
        .collect()
}

/// Adds an element mapping `meshes` to `twin` (and `aliases`: alias → twin);
/// returns its id.
pub fn add_element(
    d: &mut Json,
    name: &str,
    twin: &str,
    meshes: &[String],
    aliases: &[(String, String)],
) -> String {
    let id = fresh_id(name, &element_ids(d));
    let mut e = json!({
        "type": "TwinToObjectMapping",
        "id": id,
        "displayName": name.trim(),
        "primaryTwinID": twin,
        "objectIDs": meshes,
    });
    if !aliases.is_empty() {
        let map: Map<String, Json> = aliases.iter().map(|(a, t)| (a.clone(), json!(t))).collect();
        e["twinAliases"] = Json::Object(map);
    }
    arr(scene(d), "elements").push(e);
    id
}

/// Renames an element (its id stays).
pub fn rename_element(d: &mut Json, id: &str, name: &str) {
    for e in arr(scene(d), "elements").iter_mut() {
        if e["id"] == id {
            e["displayName"] = json!(name.trim());
        }
    }
}

/// Deletes an element, and its id from the behaviors that name it.
pub fn delete_element(d: &mut Json, id: &str) {
    arr(scene(d), "elements").retain(|e| e["id"] != id);
    for b in arr(&mut d["configuration"], "behaviors").iter_mut() {
        for ds in arr(b, "datasources").iter_mut() {
            arr(ds, "elementIDs").retain(|e| e != id);
        }
    }
}

/// How a behavior's value is computed.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueSource {
    /// One property of the primary twin (a path like `thermostat.setpoint`).
    Property(String),
    /// Any expression of the scene language.
    Expression(String),
}

impl ValueSource {
    /// The `valueExpression`.
    pub fn expression(&self) -> String {
        match self {
            ValueSource::Property(p) => format!("PrimaryTwin.{p}"),
            ValueSource::Expression(e) => e.trim().to_string(),
        }
    }
}

/// What a condition shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Look {
    /// `#RRGGBB`; the element's colour (or the badge's, with an icon).
    pub color: String,
    /// A badge's icon (a Fluent UI name); `None`: colour the element.
    pub icon: Option<String>,
    /// A label template (an expression, e.g. a backtick template).
    pub label: Option<String>,
}

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `min <= value < max` (`None`: unbounded).
    Range(Option<f64>, Option<f64>, Look),
    /// `value == b`.
    Bool(bool, Look),
    /// `value` is one of these strings.
    Text(Vec<String>, Look),
}

/// A widget of the behavior's popover.
#[derive(Debug, Clone, PartialEq)]
pub enum WidgetSpec {
    Gauge {
        label: String,
        expression: String,
        min: f64,
        max: f64,
    },
    Value {
        label: String,
        expression: String,
    },
    Link {
        label: String,
        url: String,
    },
}

/// What the behavior form produces.
#[derive(Debug, Clone, PartialEq)]
pub struct BehaviorSpec {
    pub name: String,
    pub elements: Vec<String>,
    /// A layer id, or a new layer's name.
    pub layer: Option<LayerChoice>,
    pub value: ValueSource,
    pub conditions: Vec<Condition>,
    pub widgets: Vec<WidgetSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LayerChoice {
    Existing(String),
    New(String),
}

fn bound(b: Option<f64>, infinity: &str) -> Json {
    match b {
        Some(x) => json!(x),
        None => json!(infinity),
    }
}

fn look_json(l: &Look) -> Json {
    let mut v = json!({"color": l.color});
    if let Some(i) = l.icon.as_ref().filter(|i| !i.is_empty()) {
        v["iconName"] = json!(i);
    }
    if let Some(t) = l.label.as_ref().filter(|t| !t.trim().is_empty()) {
        v["labelExpression"] = json!(t.trim());
    }
    v
}

/// The `ExpressionRangeVisual` of a rule.
pub fn rule_visual(value: &ValueSource, conditions: &[Condition]) -> Json {
    let kind = match conditions.first() {
        Some(Condition::Bool(..) | Condition::Text(..)) => "CategoricalValues",
        _ => "NumericRange",
    };
    let ranges: Vec<Json> = conditions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (values, look) = match c {
                Condition::Range(lo, hi, l) => {
                    (json!([bound(*lo, "-Infinity"), bound(*hi, "Infinity")]), l)
                }
                Condition::Bool(b, l) => (json!([b]), l),
                Condition::Text(v, l) => (json!(v), l),
            };
            json!({"id": format!("range-{}", i + 1), "values": values, "visual": look_json(look)})
        })
        .collect();
    json!({
        "type": "ExpressionRangeVisual",
        "valueExpression": value.expression(),
        "expressionType": kind,
        "objectIDs": {"expression": "objectIDs"},
        "valueRanges": ranges,
    })
}

fn widget_json(w: &WidgetSpec, n: usize) -> Json {
    let id = format!("widget-{n}");
    match w {
        WidgetSpec::Gauge {
            label,
            expression,
            min,
            max,
        } => json!({
            "type": "Gauge", "id": id, "valueExpression": expression,
            "widgetConfiguration": {"label": label, "valueRanges": [
                {"id": "gauge-range", "values": [min, max], "visual": {"color": "#4DB36B"}}
            ]}
        }),
        WidgetSpec::Value { label, expression } => json!({
            "type": "Value", "id": id,
            "widgetConfiguration": {"displayName": label, "valueExpression": expression, "type": "string"}
        }),
        WidgetSpec::Link { label, url } => json!({
            "type": "Link", "id": id,
            "widgetConfiguration": {"label": label, "linkExpression": url}
        }),
    }
}

/// Adds a behavior (and its layer); returns its id.
pub fn add_behavior(d: &mut Json, spec: &BehaviorSpec) -> String {
    let taken: Vec<String> = behavior_ids(d);
    let id = fresh_id(&spec.name, &taken);
    let mut visuals = Vec::new();
    if !spec.conditions.is_empty() {
        visuals.push(rule_visual(&spec.value, &spec.conditions));
    }
    if !spec.widgets.is_empty() {
        let widgets: Vec<Json> = spec
            .widgets
            .iter()
            .enumerate()
            .map(|(i, w)| widget_json(w, i + 1))
            .collect();
        visuals.push(json!({
            "type": "Popover", "title": spec.name.trim(),
            "objectIDs": {"expression": "objectIDs"}, "widgets": widgets,
        }));
    }
    arr(&mut d["configuration"], "behaviors").push(json!({
        "id": id,
        "displayName": spec.name.trim(),
        "datasources": [{"type": "ElementTwinToObjectMappingDataSource", "elementIDs": spec.elements}],
        "visuals": visuals,
    }));
    arr(scene(d), "behaviorIDs").push(json!(id));
    match &spec.layer {
        Some(LayerChoice::Existing(layer)) => {
            for l in arr(&mut d["configuration"], "layers").iter_mut() {
                if l["id"] == *layer {
                    arr(l, "behaviorIDs").push(json!(id));
                }
            }
        }
        Some(LayerChoice::New(name)) if !name.trim().is_empty() => {
            let lid = fresh_id(name, &layer_ids(d));
            arr(&mut d["configuration"], "layers").push(json!({
                "id": lid, "displayName": name.trim(), "behaviorIDs": [id],
            }));
        }
        _ => {}
    }
    id
}

/// Deletes a behavior from the scene (and from the layers).
pub fn delete_behavior(d: &mut Json, id: &str) {
    arr(&mut d["configuration"], "behaviors").retain(|b| b["id"] != id);
    arr(scene(d), "behaviorIDs").retain(|b| b != id);
    for l in arr(&mut d["configuration"], "layers").iter_mut() {
        arr(l, "behaviorIDs").retain(|b| b != id);
    }
}

/// What differs between two drafts, in words ("element Room 1 changed").
pub fn differences(mine: &Json, theirs: &Json) -> Vec<String> {
    let mut out = Vec::new();
    let by_id = |list: &Json| -> Vec<(String, Json)> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| Some((e["id"].as_str()?.to_string(), e.clone())))
            .collect()
    };
    let mut compare = |what: &str, a: &Json, b: &Json| {
        let (a, b) = (by_id(a), by_id(b));
        for (id, x) in &a {
            match b.iter().find(|(j, _)| j == id) {
                None => out.push(format!("{what} '{id}': only in yours")),
                Some((_, y)) if x != y => out.push(format!("{what} '{id}': changed")),
                _ => {}
            }
        }
        for (id, _) in &b {
            if !a.iter().any(|(i, _)| i == id) {
                out.push(format!("{what} '{id}': only in the saved scene"));
            }
        }
    };
    let (m, t) = (&mine["configuration"], &theirs["configuration"]);
    compare(
        "element",
        &m["scenes"][0]["elements"],
        &t["scenes"][0]["elements"],
    );
    compare("behavior", &m["behaviors"], &t["behaviors"]);
    compare("layer", &m["layers"], &t["layers"]);
    let strip = |s: &Json| {
        let mut s = s.clone();
        if let Some(o) = s.as_object_mut() {
            o.remove("elements");
        }
        s
    };
    if strip(&m["scenes"][0]) != strip(&t["scenes"][0]) {
        out.push("the scene's name, description, 3D file or behavior list: changed".into());
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use twinscape_scene::config;

    fn valid(d: &Json) {
        if let Err(e) = config::from_value(d) {
            panic!("{e:?}\n{d:#}");
        }
    }

    fn spec() -> BehaviorSpec {
        BehaviorSpec {
            name: "Hot rooms".into(),
            elements: vec!["room-1".into()],
            layer: Some(LayerChoice::New("Comfort".into())),
            value: ValueSource::Property("temperature".into()),
            conditions: vec![
                Condition::Range(
                    None,
                    Some(24.0),
                    Look {
                        color: "#4DB36B".into(),
                        ..Look::default()
                    },
                ),
                Condition::Range(
                    Some(24.0),
                    None,
                    Look {
                        color: "#EB4033".into(),
                        icon: Some("Warning".into()),
                        label: Some("`hot`".into()),
                    },
                ),
            ],
            widgets: vec![
                WidgetSpec::Gauge {
                    label: "T".into(),
                    expression: "PrimaryTwin.temperature".into(),
                    min: 0.0,
                    max: 40.0,
                },
                WidgetSpec::Value {
                    label: "Name".into(),
                    expression: "PrimaryTwin.name".into(),
                },
                WidgetSpec::Link {
                    label: "Open".into(),
                    url: "https://example.com/${PrimaryTwin.$dtId}".into(),
                },
            ],
        }
    }

    #[test]
    fn a_built_scene_is_a_valid_configuration_that_evaluates() {
        let mut d = new_scene("lobby", "Lobby", "", "/3d/lobby.glb");
        valid(&d);
        let e = add_element(&mut d, "Room 1", "room1", &["m1".into(), "m2".into()], &[]);
        assert_eq!(e, "room-1");
        let b = add_behavior(&mut d, &spec());
        assert_eq!(b, "hot-rooms");
        valid(&d);
        let c = config::from_value(&d).unwrap();
        let ev = twinscape_scene::SceneEvaluator::new(&c, "lobby", None).unwrap();
        let mut twins = std::collections::HashMap::new();
        twins.insert(
            "room1".to_string(),
            json!({"$dtId": "room1", "temperature": 30}),
        );
        let states = ev.evaluate(&twins);
        let hot = states.iter().find(|s| s.color.is_some()).unwrap();
        assert_eq!(hot.color.as_deref(), Some("#EB4033"));
        assert_eq!(hot.icon.as_deref(), Some("Warning"));
        assert_eq!(layer_ids(&d), ["comfort"]);
        assert_eq!(
            d["configuration"]["layers"][0]["behaviorIDs"],
            json!(["hot-rooms"])
        );
    }

    #[test]
    fn deleting_an_element_takes_it_out_of_behaviors_and_a_behavior_out_of_layers() {
        let mut d = new_scene("s", "S", "about", "/3d/x.glb");
        assert_eq!(d["configuration"]["scenes"][0]["description"], "about");
        add_element(
            &mut d,
            "Room 1",
            "room1",
            &["m1".into()],
            &[("hvac".into(), "ahu1".into())],
        );
        assert_eq!(
            d["configuration"]["scenes"][0]["elements"][0]["twinAliases"]["hvac"],
            "ahu1"
        );
        add_behavior(&mut d, &spec());
        rename_element(&mut d, "room-1", "Room One");
        assert_eq!(
            d["configuration"]["scenes"][0]["elements"][0]["displayName"],
            "Room One"
        );
        delete_element(&mut d, "room-1");
        assert!(element_ids(&d).is_empty());
        assert_eq!(
            d["configuration"]["behaviors"][0]["datasources"][0]["elementIDs"],
            json!([])
        );
        delete_behavior(&mut d, "hot-rooms");
        assert!(behavior_ids(&d).is_empty());
        assert_eq!(d["configuration"]["layers"][0]["behaviorIDs"], json!([]));
        valid(&d);
    }

    #[test]
    fn ids_are_made_from_names_and_never_repeat() {
        assert_eq!(fresh_id("Room 1 / North", &[]), "room-1-north");
        assert_eq!(fresh_id("Room 1", &["room-1".into()]), "room-1-2");
        assert_eq!(fresh_id("  ", &[]), "item");
    }

    #[test]
    fn a_scenes_draft_is_cut_from_the_whole_configuration() {
        let whole = twinscape_demo::scene::scenes_config();
        let d = of_scene(&whole, "demo-building").unwrap();
        valid(&d);
        assert_eq!(behavior_ids(&d).len(), 3);
        assert!(of_scene(&whole, "nope").is_none());
        let mut other = d.clone();
        rename_element(&mut other, "Roof_AHU1", "AHU");
        delete_behavior(&mut other, "room-occupancy");
        let diff = differences(&d, &other);
        assert!(
            diff.contains(&"element 'Roof_AHU1': changed".to_string()),
            "{diff:?}"
        );
        assert!(
            diff.contains(&"behavior 'room-occupancy': only in yours".to_string()),
            "{diff:?}"
        );
        assert!(differences(&d, &d).is_empty());
    }
}
