//! ADT's documented example queries (vendored in `tests/query-docs/`, see
//! SOURCE.md there) run against a fixture graph built for them, each with
//! its expected result written by hand.
//!
//! The fixture uses the names the examples use (buildings, floors, rooms,
//! light panels and bulbs, factories and consumers, `contains`,
//! `servicedBy`, `customer`, `isAssociatedWith`, temperatures, marker
//! tags…), typed by DTDL models so every write is validated. Examples that
//! cannot run (syntax templates, typos, placeholders) are listed with the
//! reason; a few supplemental queries cover what the documentation
//! describes in prose without a snippet (`$metadata` paths, components,
//! `NIN`, COUNT over a JOIN, TOP over MATCH).

use serde_json::{Value as Json, json};
use twinscape_engine::{Engine, EngineConfig, QueryOptions};
use twinscape_graph::{Precondition, Timestamp};

const EXAMPLES: &str = include_str!("../../../tests/query-docs/examples.sql");
const REFERENCE: &str = include_str!("../../../tests/query-docs/reference.sql");
const REFERENCE_PAGES: &str = include_str!("../../../tests/query-docs/reference-pages.sql");

/// The queries of a `.sql` file, as `crates/query/tests/docs.rs` reads them:
/// the text between `-- <Tag>` and `-- </Tag>` without comment lines, split
/// at blank lines (the second query of a snippet is `Tag#2`).
fn snippets(file: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut tag: Option<String> = None;
    let mut body = String::new();
    for line in file.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("-- </") {
            let Some(name) = tag.take() else { continue };
            for (i, part) in body
                .split("\n\n")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .enumerate()
            {
                let key = if i == 0 {
                    name.clone()
                } else {
                    format!("{name}#{}", i + 1)
                };
                out.push((key, part.to_owned()));
            }
            body.clear();
        } else if let Some(rest) = trimmed.strip_prefix("-- <") {
            tag = Some(rest.trim_end_matches('>').to_owned());
        } else if tag.is_some() && !trimmed.starts_with("--") {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

fn doc_query(tag: &str) -> String {
    [EXAMPLES, REFERENCE, REFERENCE_PAGES]
        .into_iter()
        .flat_map(snippets)
        .find(|(t, _)| t == tag)
        .map(|(_, q)| q)
        .unwrap_or_else(|| panic!("no documented query {tag}"))
}

// ----- the fixture ---------------------------------------------------------

const THING: &str = "dtmi:example:thing;1";
const ROOM: &str = "dtmi:example:room;1";
const SMALL_ROOM: &str = "dtmi:example:smallroom;1";
const SAMPLE_ROOM: &str = "dtmi:sample:Room;1";
const PANEL: &str = "dtmi:contoso:com:lightpanel;1";
const BULB: &str = "dtmi:contoso:com:lightbulb;1";
const CONTOSO_ROOM: &str = "dtmi:contoso:com:DigitalTwins:Room;1";
const MARKED: &str = "dtmi:example:marked;1";
const VALUED: &str = "dtmi:example:valued;1";
const SENSOR: &str = "dtmi:example:sensor;1";
const PROBE: &str = "dtmi:example:probe;1";

fn models() -> Vec<Json> {
    let p = |name: &str, schema: Json| json!({"@type": "Property", "name": name, "schema": schema});
    let rel = |name: &str, props: Vec<Json>| json!({"@type": "Relationship", "name": name, "properties": props});
    let iface = |id: &str, extends: Option<&str>, contents: Vec<Json>| {
        let mut m = json!({"@context": "dtmi:dtdl:context;3", "@id": id, "@type": "Interface", "contents": contents});
        if let Some(e) = extends {
            m["extends"] = json!(e);
        }
        m
    };
    let map = |value: &str| {
        json!({"@type": "Map", "mapKey": {"name": "key", "schema": "string"},
               "mapValue": {"name": "value", "schema": value}})
    };
    vec![
        iface(
            THING,
            None,
            vec![
                p("Name", json!("string")),
                p("name", json!("string")),
                p("firmwareVersion", json!("string")),
                p("Temperature", json!("double")),
                p("temperature", json!("double")),
                p("Humidity", json!("double")),
                p("humidity", json!("double")),
                p("Location", json!("string")),
                p("HasTemperature", json!("boolean")),
                p("Capacity", json!("integer")),
                p("owner", json!("string")),
                p("Group", json!("string")),
                p("area", json!("double")),
                p("age", json!("integer")),
                p("MapObject", map("double")),
                p(
                    "floor_number",
                    json!({"@type": "Array", "elementSchema": "integer"}),
                ),
                rel("contains", vec![]),
                rel("Contains", vec![]),
                rel("feeds", vec![]),
                rel("has", vec![]),
                rel("includes", vec![]),
                rel("servicedBy", vec![p("reportedCondition", json!("string"))]),
                rel(
                    "customer",
                    vec![p("prop1", json!("string")), p("prop2", json!("string"))],
                ),
                rel(
                    "consumerRelationship",
                    vec![p("managedBy", json!("string"))],
                ),
                rel("isAssociatedWith", vec![p("length", json!("integer"))]),
            ],
        ),
        iface(ROOM, Some(THING), vec![]),
        iface(SMALL_ROOM, Some(ROOM), vec![]),
        iface(SAMPLE_ROOM, Some(THING), vec![]),
        iface(PANEL, Some(THING), vec![]),
        iface(BULB, Some(THING), vec![]),
        iface(CONTOSO_ROOM, Some(THING), vec![]),
        iface(MARKED, Some(THING), vec![p("tags", map("boolean"))]),
        iface(VALUED, Some(THING), vec![p("tags", map("string"))]),
        iface(
            PROBE,
            None,
            vec![
                p("temperature", json!("double")),
                p("unit", json!("string")),
            ],
        ),
        iface(
            SENSOR,
            Some(THING),
            vec![json!({"@type": "Component", "name": "probe", "schema": PROBE})],
        ),
    ]
}

/// Twins: id, model, properties.
fn twins() -> Vec<(&'static str, &'static str, Json)> {
    vec![
        // A building → floor → room → light panel → bulb row → bulb chain.
        ("Building1", THING, json!({"Name": "Building 1"})),
        ("Floor1", THING, json!({"Name": "Floor 1"})),
        ("Floor2", THING, json!({})),
        (
            "Room1",
            SAMPLE_ROOM,
            json!({"Capacity": 30, "Temperature": 72.0, "Humidity": 40.0}),
        ),
        (
            "Room2",
            SAMPLE_ROOM,
            json!({"Capacity": 10, "Temperature": 80.0, "Humidity": 55.0}),
        ),
        ("Room3", SAMPLE_ROOM, json!({"Capacity": 25})),
        ("LightPanel1", PANEL, json!({})),
        ("LightBulbRow1", THING, json!({})),
        ("LightBulb1", BULB, json!({})),
        ("LightBulb2", BULB, json!({})),
        // Rooms with light panels, bulbs and other things.
        ("room1", CONTOSO_ROOM, json!({})),
        ("room2", CONTOSO_ROOM, json!({})),
        ("panel-a", PANEL, json!({})),
        ("panel-b", PANEL, json!({})),
        ("sign-1", THING, json!({})),
        ("bulb-a1", BULB, json!({})),
        ("bulb-a2", BULB, json!({})),
        ("bulb-b1", BULB, json!({})),
        ("bulb-x", BULB, json!({})),
        ("switch-a", THING, json!({})),
        ("floor11", THING, json!({})),
        ("id1", THING, json!({"Temperature": 68.0})),
        // A factory with its contents, services and customers.
        ("ABC", THING, json!({"Name": "Factory ABC", "area": 450.5})),
        ("CT1", THING, json!({"temperature": 70.0})),
        ("CT2", THING, json!({"temperature": 20.0, "humidity": 80.0})),
        ("SBT1", THING, json!({})),
        ("SBT2", THING, json!({})),
        (
            "Consumer1",
            THING,
            json!({"name": "Consumer One", "temperature": 51.0}),
        ),
        ("Consumer2", THING, json!({"name": "Consumer Two"})),
        ("Room10", ROOM, json!({"temperature": 60.0})),
        (
            "Room11",
            ROOM,
            json!({"temperature": 40.0, "humidity": 75.0}),
        ),
        ("source-twin", THING, json!({})),
        ("other-source", THING, json!({})),
        ("target-twin", THING, json!({})),
        ("FactoryA", THING, json!({})),
        ("ConsumerA", THING, json!({"name": "Consumer A"})),
        ("ConsumerB", THING, json!({"name": "Consumer B"})),
        // Buildings with sensors (MATCH).
        ("Building21", THING, json!({})),
        (
            "S21a",
            SENSOR,
            json!({"temperature": 60.0, "probe": {"$metadata": {}, "temperature": 21.5, "unit": "C"}}),
        ),
        (
            "S21b",
            SENSOR,
            json!({"temperature": 40.0, "probe": {"$metadata": {}, "temperature": 30.5, "unit": "F"}}),
        ),
        (
            "S21c",
            SENSOR,
            json!({"temperature": 70.0, "probe": {"$metadata": {}}}),
        ),
        ("Seattle21", THING, json!({})),
        ("SeaS1", THING, json!({})),
        ("SeaS2", THING, json!({})),
        ("SeaS3", THING, json!({})),
        // A chain for hop counts, and a cafe reached by rooms.
        ("thermostat-15", THING, json!({})),
        ("h1", THING, json!({})),
        ("h2", THING, json!({})),
        ("h3", THING, json!({})),
        ("h4", THING, json!({})),
        ("h5", THING, json!({})),
        ("h6", THING, json!({})),
        ("cafe1", THING, json!({"temperature": 55.0})),
        ("cafe2", THING, json!({"temperature": 55.0})),
        ("roomA", THING, json!({})),
        ("roomB", THING, json!({})),
        ("roomC", THING, json!({})),
        ("roomD", THING, json!({})),
        ("building-3", THING, json!({})),
        ("floor-3a", THING, json!({})),
        ("floor-3b", THING, json!({})),
        ("room-3a", THING, json!({"temperature": 55.0})),
        ("room-3b", THING, json!({"temperature": 45.0})),
        ("room-3c", THING, json!({"temperature": 65.0})),
        // Property filters.
        (
            "dsouza",
            THING,
            json!({"Name": "D'Souza", "Location": "Seattle"}),
        ),
        (
            "123",
            THING,
            json!({"firmwareVersion": "1.1", "Temperature": 70.0, "Location": "Redmond",
                   "owner": "John", "HasTemperature": true, "Humidity": 60.0}),
        ),
        (
            "456",
            THING,
            json!({"firmwareVersion": "1.1", "Temperature": 70.5, "owner": "Maria",
                   "HasTemperature": false}),
        ),
        (
            "789",
            THING,
            json!({"firmwareVersion": "1.1", "Temperature": 70.0, "owner": "Alex"}),
        ),
        ("hot-1", THING, json!({"Temperature": 90.0})),
        ("dry", THING, json!({"Humidity": 30.0})),
        ("storage", THING, json!({"Capacity": 0})),
        (
            "tagged-red-round",
            MARKED,
            json!({"tags": {"red": true, "round": true}}),
        ),
        ("tagged-round", MARKED, json!({"tags": {"round": true}})),
        ("tagged-small", VALUED, json!({"tags": {"size": "small"}})),
        (
            "tagged-red-small",
            VALUED,
            json!({"tags": {"red": "bright", "size": "small"}}),
        ),
        (
            "map-1",
            THING,
            json!({"MapObject": {"TemperatureReading": 20.5}}),
        ),
        ("map-2", THING, json!({"MapObject": {"Humidity": 40.0}})),
        ("area1-kitchen", THING, json!({})),
        ("area1-hall", THING, json!({})),
        ("area2-hall", THING, json!({})),
        ("main-route", THING, json!({})),
        ("route-b", THING, json!({})),
        ("x-route-2", THING, json!({})),
        ("office-small", SMALL_ROOM, json!({})),
        ("desk-small", THING, json!({})),
        ("team-a", THING, json!({"Group": "AlphaTeam"})),
        ("team-b", THING, json!({"Group": "BravoTeam"})),
        ("person", THING, json!({"name": "Pat", "age": 41})),
        (
            "elevator",
            THING,
            json!({"name": "Lift", "floor_number": [1, 2, 3]}),
        ),
        (
            "stairs",
            THING,
            json!({"name": "Stairs", "floor_number": [1, 3]}),
        ),
        ("A", THING, json!({})),
        ("B", THING, json!({})),
        ("C", THING, json!({})),
        ("D", THING, json!({})),
    ]
}

/// Relationships: source, name, target, properties. The relationship id is
/// `name-target`.
fn relationships() -> Vec<(&'static str, &'static str, &'static str, Json)> {
    let none = || json!({});
    vec![
        ("Building1", "contains", "Floor1", none()),
        ("Building1", "contains", "Floor2", none()),
        ("Floor1", "contains", "Room1", none()),
        ("Floor1", "contains", "Room2", none()),
        ("Floor2", "contains", "Room3", none()),
        ("Room1", "contains", "LightPanel1", none()),
        ("LightPanel1", "contains", "LightBulbRow1", none()),
        ("LightBulbRow1", "contains", "LightBulb1", none()),
        ("LightBulbRow1", "contains", "LightBulb2", none()),
        ("room1", "contains", "panel-a", none()),
        ("room1", "contains", "sign-1", none()),
        ("room2", "contains", "panel-b", none()),
        ("panel-a", "contains", "bulb-a1", none()),
        ("panel-a", "contains", "bulb-a2", none()),
        ("panel-a", "contains", "switch-a", none()),
        ("panel-b", "contains", "bulb-b1", none()),
        ("sign-1", "contains", "bulb-x", none()),
        ("floor11", "Contains", "room1", none()),
        ("floor11", "Contains", "room2", none()),
        ("floor11", "Contains", "Room1", none()),
        ("room1", "Contains", "id1", none()),
        ("Room2", "Contains", "id1", none()),
        ("ABC", "contains", "CT1", none()),
        ("ABC", "contains", "CT2", none()),
        (
            "ABC",
            "servicedBy",
            "SBT1",
            json!({"reportedCondition": "clean"}),
        ),
        (
            "ABC",
            "servicedBy",
            "SBT2",
            json!({"reportedCondition": "dirty"}),
        ),
        (
            "ABC",
            "customer",
            "Consumer1",
            json!({"prop1": "p1a", "prop2": "p2a"}),
        ),
        ("ABC", "customer", "Consumer2", json!({"prop1": "p1b"})),
        ("Room10", "feeds", "ABC", none()),
        ("Room11", "has", "ABC", none()),
        ("source-twin", "feeds", "target-twin", none()),
        ("other-source", "feeds", "target-twin", none()),
        (
            "FactoryA",
            "consumerRelationship",
            "ConsumerA",
            json!({"managedBy": "Alice"}),
        ),
        ("FactoryA", "consumerRelationship", "ConsumerB", none()),
        ("Building21", "contains", "S21a", none()),
        ("Building21", "contains", "S21b", none()),
        ("Building21", "isAssociatedWith", "S21c", none()),
        ("Seattle21", "contains", "SeaS1", none()),
        ("SeaS2", "contains", "Seattle21", none()),
        ("Seattle21", "isAssociatedWith", "SeaS3", none()),
        ("thermostat-15", "contains", "h1", none()),
        ("h1", "contains", "h2", none()),
        ("h2", "isAssociatedWith", "h3", none()),
        ("h3", "contains", "h4", none()),
        ("h4", "contains", "h5", none()),
        ("h5", "contains", "h6", none()),
        (
            "thermostat-15",
            "isAssociatedWith",
            "cafe1",
            json!({"length": 10}),
        ),
        (
            "thermostat-15",
            "isAssociatedWith",
            "cafe2",
            json!({"length": 5}),
        ),
        ("roomA", "has", "cafe1", none()),
        ("roomB", "includes", "roomA", none()),
        ("roomC", "has", "roomB", none()),
        ("roomD", "has", "roomC", none()),
        ("building-3", "isAssociatedWith", "floor-3a", none()),
        ("building-3", "isAssociatedWith", "floor-3b", none()),
        ("room-3a", "isAssociatedWith", "floor-3a", none()),
        ("room-3b", "isAssociatedWith", "floor-3a", none()),
        ("room-3c", "isAssociatedWith", "floor-3b", none()),
        ("A", "feeds", "B", none()),
        ("C", "has", "D", none()),
    ]
}

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap_or(Timestamp(0))
}

fn fixture() -> Engine {
    let mut e = Engine::new(EngineConfig {
        indexed_properties: vec!["Temperature".into(), "name".into()],
        ..Default::default()
    });
    e.add_models(&models()).expect("models");
    let t0 = at("2025-03-01T12:00:00Z");
    for (id, model, props) in twins() {
        let mut doc = props.clone();
        doc["$metadata"] = json!({"$model": model});
        e.create_or_replace_twin(id, &doc, &Precondition::None, t0)
            .unwrap_or_else(|err| panic!("{id}: {err}"));
    }
    // The documentation's own example of a nested array: not valid DTDL
    // (arrays hold one schema), so it is loaded as a stored twin.
    e.load_twin(&json!({"$dtId": "nested-tags", "tags": [1, [2, 3], 3, 4],
        "$metadata": {"$model": THING, "$lastUpdateTime": "2025-03-01T12:00:00Z"}}))
        .expect("nested-tags");
    for (source, name, target, props) in relationships() {
        let mut doc = props.clone();
        doc["$relationshipName"] = json!(name);
        doc["$targetId"] = json!(target);
        e.create_or_replace_relationship(
            source,
            &format!("{name}-{target}"),
            &doc,
            &Precondition::None,
            t0,
        )
        .unwrap_or_else(|err| panic!("{source} {name} {target}: {err}"));
    }
    // One later write, for `$metadata` times.
    e.update_twin(
        "S21a",
        &json!([{"op": "replace", "path": "/temperature", "value": 61.0}]),
        &Precondition::None,
        at("2025-03-02T08:30:00Z"),
    )
    .expect("patch");
    e
}

/// Every twin of the fixture.
const ALL: &[&str] = &[
    "Building1",
    "Floor1",
    "Floor2",
    "Room1",
    "Room2",
    "Room3",
    "LightPanel1",
    "LightBulbRow1",
    "LightBulb1",
    "LightBulb2",
    "room1",
    "room2",
    "panel-a",
    "panel-b",
    "sign-1",
    "bulb-a1",
    "bulb-a2",
    "bulb-b1",
    "bulb-x",
    "switch-a",
    "floor11",
    "id1",
    "ABC",
    "CT1",
    "CT2",
    "SBT1",
    "SBT2",
    "Consumer1",
    "Consumer2",
    "Room10",
    "Room11",
    "source-twin",
    "other-source",
    "target-twin",
    "FactoryA",
    "ConsumerA",
    "ConsumerB",
    "Building21",
    "S21a",
    "S21b",
    "S21c",
    "Seattle21",
    "SeaS1",
    "SeaS2",
    "SeaS3",
    "thermostat-15",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "cafe1",
    "cafe2",
    "roomA",
    "roomB",
    "roomC",
    "roomD",
    "building-3",
    "floor-3a",
    "floor-3b",
    "room-3a",
    "room-3b",
    "room-3c",
    "dsouza",
    "123",
    "456",
    "789",
    "hot-1",
    "dry",
    "storage",
    "tagged-red-round",
    "tagged-round",
    "tagged-small",
    "tagged-red-small",
    "map-1",
    "map-2",
    "area1-kitchen",
    "area1-hall",
    "area2-hall",
    "main-route",
    "route-b",
    "x-route-2",
    "office-small",
    "desk-small",
    "team-a",
    "team-b",
    "person",
    "elevator",
    "stairs",
    "A",
    "B",
    "C",
    "D",
    "nested-tags",
];

/// The twins whose model is exactly `dtmi:example:thing;1`: all but the
/// rooms, panels, bulbs, tagged twins, sensors and the small office.
const EXACT_THINGS: &[&str] = &[
    "Building1",
    "Floor1",
    "Floor2",
    "LightBulbRow1",
    "sign-1",
    "switch-a",
    "floor11",
    "id1",
    "ABC",
    "CT1",
    "CT2",
    "SBT1",
    "SBT2",
    "Consumer1",
    "Consumer2",
    "source-twin",
    "other-source",
    "target-twin",
    "FactoryA",
    "ConsumerA",
    "ConsumerB",
    "Building21",
    "Seattle21",
    "SeaS1",
    "SeaS2",
    "SeaS3",
    "thermostat-15",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "cafe1",
    "cafe2",
    "roomA",
    "roomB",
    "roomC",
    "roomD",
    "building-3",
    "floor-3a",
    "floor-3b",
    "room-3a",
    "room-3b",
    "room-3c",
    "dsouza",
    "123",
    "456",
    "789",
    "hot-1",
    "dry",
    "storage",
    "map-1",
    "map-2",
    "area1-kitchen",
    "area1-hall",
    "area2-hall",
    "main-route",
    "route-b",
    "x-route-2",
    "desk-small",
    "team-a",
    "team-b",
    "person",
    "elevator",
    "stairs",
    "A",
    "B",
    "C",
    "D",
    "nested-tags",
];

// ----- running and comparing -------------------------------------------------

/// Every row of the query over all pages (page size 3, so most results
/// span pages).
fn run(e: &Engine, text: &str) -> Vec<Json> {
    let mut out = Vec::new();
    let mut opts = QueryOptions {
        page_size: Some(3),
        continuation: None,
    };
    loop {
        let page = e
            .query(text, &opts)
            .unwrap_or_else(|err| panic!("{text}: {err}"));
        // The same page written as JSON text.
        let json = e
            .query_json(text, &opts)
            .unwrap_or_else(|err| panic!("{text}: {err}"));
        assert_eq!(
            String::from_utf8_lossy(&json.items),
            String::from_utf8_lossy(&serde_json::to_vec(&page.items).unwrap_or_default()),
            "{text}"
        );
        out.extend(page.items);
        match page.continuation {
            Some(c) => opts.continuation = Some(c),
            None => return out,
        }
    }
}

/// A row reduced to what the expectations name: twins and relationships by
/// their ids, values as they are.
fn reduce(v: &Json) -> Json {
    match v {
        Json::Object(m) if m.contains_key("$dtId") => json!(m["$dtId"]),
        Json::Object(m) if m.contains_key("$relationshipId") => {
            json!(format!(
                "{}/{}",
                m["$sourceId"].as_str().unwrap_or("?"),
                m["$relationshipId"].as_str().unwrap_or("?")
            ))
        }
        Json::Object(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), reduce(v))).collect()),
        other => other.clone(),
    }
}

fn sorted(rows: impl IntoIterator<Item = Json>) -> Vec<String> {
    let mut v: Vec<String> = rows.into_iter().map(|r| reduce(&r).to_string()).collect();
    v.sort();
    v
}

/// What a query must return.
enum Want {
    /// Exactly these rows, in any order (twins and relationships reduced to
    /// their ids, see [`reduce`]).
    Rows(Vec<Json>),
    /// `n` rows, each one of these.
    Some(usize, Vec<Json>),
}

fn ids(list: &[&str]) -> Want {
    Want::Rows(list.iter().map(|s| json!(s)).collect())
}

fn rows(list: Vec<Json>) -> Want {
    Want::Rows(list)
}

fn count(n: usize) -> Want {
    Want::Rows(vec![json!({ "COUNT": n })])
}

fn check(e: &Engine, label: &str, text: &str, want: &Want) -> Result<(), String> {
    let got = run(e, text);
    match want {
        Want::Rows(expected) => {
            let (g, w) = (sorted(got), sorted(expected.iter().cloned()));
            if g != w {
                return Err(format!("{label}: {text}\n  got  {g:?}\n  want {w:?}"));
            }
        }
        Want::Some(n, pool) => {
            let pool = sorted(pool.iter().cloned());
            let g = sorted(got);
            if g.len() != *n || g.iter().any(|r| !pool.contains(r)) {
                return Err(format!(
                    "{label}: {text}\n  got  {g:?}\n  want {n} of {pool:?}"
                ));
            }
        }
    }
    Ok(())
}

/// The documented examples that run, with their results on the fixture.
fn documented() -> Vec<(&'static str, Want)> {
    let all_but = |skip: &[&str]| -> Vec<&'static str> {
        ALL.iter().copied().filter(|t| !skip.contains(t)).collect()
    };
    let mut table = vec![
        ("GetAllTwins", ids(ALL)),
        ("SelectExample", ids(ALL)),
        ("FromDigitalTwinsExample", ids(ALL)),
        ("FromDigitalTwinsNamedExample", ids(ALL)),
        ("EscapedSingleQuote", ids(&["dsouza"])),
        // 70 = 70.0; `456` is 70.5 and `789` is not in the IN list.
        ("QueryByProperty1", ids(&["123"])),
        ("MixedCaseCollection", ids(&["123"])),
        ("QueryByProperty2", ids(&["123", "dsouza"])),
        ("IsDefinedExample", ids(&["123", "dsouza"])),
        (
            "QueryMarkerTags1",
            ids(&["tagged-red-round", "tagged-red-small"]),
        ),
        (
            "LowerCaseKeywords",
            ids(&["tagged-red-round", "tagged-red-small"]),
        ),
        ("QueryMarkerTags2", ids(&["tagged-round"])),
        ("QueryMarkerValueTags", ids(&["tagged-small"])),
        (
            "QueryByProperty3",
            ids(&["Room1", "Room2", "id1", "123", "456", "789", "hot-1"]),
        ),
        // Every model of the fixture extends dtmi:example:thing;1.
        ("QueryByModel1", ids(ALL)),
        ("QueryByModel2", ids(ALL)),
        ("QueryByModel3", ids(EXACT_THINGS)),
        ("QueryByModel4", ids(EXACT_THINGS)),
        (
            "QueryByRelationship1",
            rows(vec![
                json!({"T": "ABC", "CT": "CT1"}),
                json!({"T": "ABC", "CT": "CT2"}),
            ]),
        ),
        (
            "JoinExample",
            rows(vec![
                json!({"T": "ABC", "CT": "CT1"}),
                json!({"T": "ABC", "CT": "CT2"}),
            ]),
        ),
        (
            "QueryByRelationshipSource",
            rows(vec![json!({"target": "target-twin"})]),
        ),
        // Anchored on the JOIN target: both sources that feed it.
        (
            "QueryByRelationshipTarget",
            rows(vec![
                json!({"source": "source-twin"}),
                json!({"source": "other-source"}),
            ]),
        ),
        (
            "QueryByRelationship2",
            rows(vec![
                json!({"T": "ABC", "SBT": "SBT1", "R": "ABC/servicedBy-SBT1"}),
            ]),
        ),
        // The model id in the documentation has a typo ('lightbulb ;1'),
        // so no bulb is of it.
        ("QueryByRelationship3", rows(vec![])),
        ("SelectCount1", count(ALL.len())),
        ("SelectCountExample", count(ALL.len())),
        ("SelectCount2", count(3)),
        ("SelectCount2#2", count(2)),
        // Bulbs under light panels of room1 and room2 (bulb-x hangs under
        // a sign, switch-a is no bulb).
        ("SelectCount3", count(3)),
        (
            "MultiJoinExample",
            rows(
                ["bulb-a1", "bulb-a2", "switch-a", "bulb-x", "bulb-b1"]
                    .iter()
                    .map(|b| json!({ "LightBulb": b }))
                    .collect(),
            ),
        ),
        (
            "MaxJoinExample",
            rows(vec![
                json!({"LightBulb": "LightBulb1"}),
                json!({"LightBulb": "LightBulb2"}),
            ]),
        ),
        (
            "NoOuterJoinExample",
            rows(vec![
                json!({"Building": "Building1", "Floor": "Floor1"}),
                json!({"Building": "Building1", "Floor": "Floor2"}),
            ]),
        ),
        (
            "Projections1",
            rows(vec![
                json!({"Consumer": "Consumer1", "Factory": "ABC", "Edge": "ABC/customer-Consumer1"}),
                json!({"Consumer": "Consumer2", "Factory": "ABC", "Edge": "ABC/customer-Consumer2"}),
            ]),
        ),
        (
            "Projections2",
            rows(vec![
                json!({"name": "Consumer One"}),
                json!({"name": "Consumer Two"}),
            ]),
        ),
        // A projected property that is not there is left out of its row.
        (
            "Projections3",
            rows(vec![
                json!({"name": "Consumer One", "prop1": "p1a", "prop2": "p2a", "area": 450.5}),
                json!({"name": "Consumer Two", "prop1": "p1b", "area": 450.5}),
            ]),
        ),
        (
            "Projections4",
            rows(vec![
                json!({"consumerName": "Consumer One", "first": "p1a", "second": "p2a", "factoryArea": 450.5}),
                json!({"consumerName": "Consumer Two", "first": "p1b", "factoryArea": 450.5}),
            ]),
        ),
        (
            "Projections5",
            rows(vec![
                json!({"consumerName": "Consumer One", "Factory": "ABC"}),
                json!({"consumerName": "Consumer Two", "Factory": "ABC"}),
            ]),
        ),
        // Rooms that `Contains` id1.
        (
            "OtherExamples2",
            rows(vec![json!({"Room": "room1"}), json!({"Room": "Room2"})]),
        ),
        // Room1 is contained too but is of another model.
        (
            "OtherExamples3",
            rows(vec![json!({"Room": "room1"}), json!({"Room": "room2"})]),
        ),
        ("TemperatureQuery", ids(&["Room2", "hot-1"])),
        (
            "FromRelationshipsExample",
            Want::Rows(
                relationships()
                    .iter()
                    .map(|(s, n, t, _)| json!(format!("{s}/{n}-{t}")))
                    .collect(),
            ),
        ),
        (
            "FromRelationshipsFilteredExample",
            rows(vec![json!("A/feeds-B"), json!("C/has-D")]),
        ),
        // MATCH, one hop, each direction.
        (
            "MatchExample",
            rows(vec![
                json!({"Building": "Building21", "Sensor": "S21a"}),
                json!({"Building": "Building21", "Sensor": "S21c"}),
            ]),
        ),
        (
            "MatchDirectionLRExample",
            rows(vec![json!({"Room": "Room10", "Factory": "ABC"})]),
        ),
        (
            "MatchDirectionRLExample",
            rows(vec![
                json!({"Room": "CT1", "Factory": "ABC"}),
                json!({"Room": "Consumer1", "Factory": "ABC"}),
            ]),
        ),
        (
            "MatchDirectionNDExample",
            rows(vec![
                json!({"Factory": "ABC", "Room": "CT2"}),
                json!({"Factory": "ABC", "Room": "Room11"}),
            ]),
        ),
        (
            "MatchNameSingleExample",
            rows(vec![
                json!({"Building": "Seattle21", "Sensor": "SeaS1"}),
                json!({"Building": "Seattle21", "Sensor": "SeaS2"}),
            ]),
        ),
        (
            "MatchNameMultiExample",
            rows(vec![
                json!({"Building": "Seattle21", "Sensor": "SeaS1"}),
                json!({"Building": "Seattle21", "Sensor": "SeaS2"}),
                json!({"Building": "Seattle21", "Sensor": "SeaS3"}),
            ]),
        ),
        // Hops, in either direction, any name, from thermostat-15. By
        // shortest distance: h1, cafe1, cafe2 at 1; h2, roomA at 2; h3,
        // roomB at 3; h4, roomC at 4; h5, roomD at 5; h6 at 6. Going back
        // and forth over one relationship does not count (h1 is not 3
        // hops away).
        (
            "MatchHopsExactExample",
            rows(
                ["h3", "roomB"]
                    .iter()
                    .map(|r| json!({"Floor": "thermostat-15", "Room": r}))
                    .collect(),
            ),
        ),
        // `*1..3` is 2 or 3 hops.
        (
            "MatchHopsRangeExample1",
            rows(
                ["h2", "roomA", "h3", "roomB"]
                    .iter()
                    .map(|r| json!({"Floor": "thermostat-15", "Room": r}))
                    .collect(),
            ),
        ),
        (
            "MatchHopsRangeEndingExample",
            rows(
                ["h1", "cafe1", "cafe2", "h2", "roomA"]
                    .iter()
                    .map(|r| json!({"Floor": "thermostat-15", "Room": r}))
                    .collect(),
            ),
        ),
        (
            "MatchHopsOneExample",
            rows(
                ["h1", "cafe1", "cafe2"]
                    .iter()
                    .map(|r| json!({"Floor": "thermostat-15", "Room": r}))
                    .collect(),
            ),
        ),
        // Left to right over contains|isAssociatedWith, 4 or 5 hops.
        (
            "MatchCombinedHopsExample",
            rows(
                ["h4", "h5"]
                    .iter()
                    .map(|r| json!({"Floor": "thermostat-15", "Room": r}))
                    .collect(),
            ),
        ),
        (
            "MatchCombinedVariableExample",
            rows(vec![json!({"Floor": "thermostat-15", "Room": "cafe1"})]),
        ),
        // Rooms 1 to 3 has|includes hops before cafe1 (roomD is 4).
        (
            "MatchCombinedChainExample",
            rows(
                ["roomA", "roomB", "roomC"]
                    .iter()
                    .map(|r| json!({"Floor": "thermostat-15", "Room": r, "Cafe": "cafe1"}))
                    .collect(),
            ),
        ),
        (
            "MatchCombinedChainBDExample",
            rows(vec![
                json!({"Floor": "floor-3a", "Room": "room-3a", "Building": "building-3"}),
                json!({"Floor": "floor-3b", "Room": "room-3c", "Building": "building-3"}),
            ]),
        ),
        (
            "SelectProjectCollectionExample",
            Want::Rows(ALL.iter().map(|t| json!({ "T": t })).collect()),
        ),
        (
            "SelectProjectJoinExample",
            rows(vec![
                json!({"Consumer": "ConsumerA", "Factory": "FactoryA", "Relationship": "FactoryA/consumerRelationship-ConsumerA"}),
                json!({"Consumer": "ConsumerB", "Factory": "FactoryA", "Relationship": "FactoryA/consumerRelationship-ConsumerB"}),
            ]),
        ),
        (
            "SelectProjectPropertyExample",
            rows(vec![
                json!({"name": "Consumer A", "managedBy": "Alice"}),
                json!({"name": "Consumer B"}),
            ]),
        ),
        // One row per twin, with what it has of `name` and `age`.
        ("SelectProjectPropertyNotPresentExample", {
            let named = [
                ("Consumer1", json!({"name": "Consumer One"})),
                ("Consumer2", json!({"name": "Consumer Two"})),
                ("ConsumerA", json!({"name": "Consumer A"})),
                ("ConsumerB", json!({"name": "Consumer B"})),
                ("person", json!({"name": "Pat", "age": 41})),
                ("elevator", json!({"name": "Lift"})),
                ("stairs", json!({"name": "Stairs"})),
            ];
            let mut rows: Vec<Json> = named.iter().map(|(_, r)| r.clone()).collect();
            let skip: Vec<&str> = named.iter().map(|(t, _)| *t).collect();
            rows.extend(all_but(&skip).iter().map(|_| json!({})));
            Want::Rows(rows)
        }),
        (
            "SelectCountRelationshipsExample",
            count(relationships().len()),
        ),
        (
            "SelectTopExample",
            Want::Some(5, ALL.iter().map(|t| json!(t)).collect()),
        ),
        ("WhereExample", ids(&["Room1"])),
        ("WhereFunctionExample", ids(&["Room1", "Room2", "Room3"])),
        ("Array_ContainsExample", rows(vec![json!({"name": "Lift"})])),
        ("ContainsExample", ids(&["main-route", "x-route-2"])),
        (
            "EndsWithExample",
            ids(&[
                "office-small",
                "desk-small",
                "tagged-small",
                "tagged-red-small",
            ]),
        ),
        // `ROOM` is a property no twin has: one empty row per room that is
        // exactly of the model (office-small extends it).
        ("IsOfModelExample", rows(vec![json!({}), json!({})])),
        ("IsOfModelAllArguments", rows(vec![])),
        ("IsBoolExample", ids(&["123", "456"])),
        ("IsBoolNotFalseExample", ids(&["123"])),
        ("IsNumberExample", ids(&["Room1", "Room2", "Room3"])),
        // IS_NULL is false for a missing property, so NOT IS_NULL holds for
        // every twin (no twin stores null).
        ("IsNullExample", ids(ALL)),
        ("IsPrimitiveExample", rows(vec![json!({"area": 450.5})])),
        ("IsObjectExample", ids(&["map-2"])),
        ("StartsWithExample", ids(&["area1-hall", "area1-kitchen"])),
        ("EqualityExample", ids(&["Room2"])),
        (
            "ComparisonExample",
            ids(&["Room1", "id1", "123", "456", "789"]),
        ),
        ("OrderedComparisonExample", ids(&["hot-1"])),
        ("InExample", ids(&["123", "789"])),
        ("AndExample", ids(&["Room1"])),
        (
            "OrExample",
            ids(&["Room1", "id1", "123", "456", "789", "dry"]),
        ),
        ("NotExample", ids(&["Room2", "hot-1"])),
        ("ReservedKeywordExample", ids(&["team-b"])),
        // ARRAY_CONTAINS on a relationship is unsupported in ADT; here
        // `Floor.Contains` is an (absent) property and Floor-35 no twin.
        ("ArrayContainsRelationshipNegative", rows(vec![])),
        // Top-level elements only.
        ("ArrayContainsNested", ids(&[])),
        ("ArrayContainsTopLevel", ids(&["nested-tags"])),
    ];
    table.sort_by_key(|(t, _)| *t);
    table
}

/// Documented examples that do not run, and why (the parser's tests check
/// each one's error).
const NOT_RUN: &[(&str, &str)] = &[
    ("QueryByProperty4", "placeholders <propertyName>.<mapKey>"),
    ("SelectTop", "placeholder `...`"),
    ("INOperatorWithout", "query parameter @buildingId"),
    ("INOperatorWith", "subquery in IN"),
    ("OtherExamples1", "relationship name used as a collection"),
    ("CompoundMxChip", "relationship name used as a collection"),
    ("MatchNameAllExample", "typo: `(Building-[]-(Sensor)`"),
    ("MatchVariableExample", "typo: missing FROM"),
    ("IsStringExample", "typo: DIGITIALTWINS"),
    ("MatchLimitationDtIdExample", "twins without parentheses"),
    ("FromNegativeExample", "subquery in FROM"),
    ("ArrayContainsSubqueryNegative", "subquery"),
    ("ArrayContainsObjectsNegative", "object as the value"),
];

#[test]
fn documented_examples_give_the_expected_results() {
    let e = fixture();
    let mut failures = Vec::new();
    for (tag, want) in documented() {
        let text = doc_query(tag);
        if let Err(f) = check(&e, tag, &text, &want) {
            failures.push(f);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_runnable_documented_example_is_in_the_table() {
    let table = documented();
    let mut missing = Vec::new();
    for (tag, text) in [EXAMPLES, REFERENCE, REFERENCE_PAGES]
        .into_iter()
        .flat_map(snippets)
    {
        let listed = table.iter().any(|(t, _)| *t == tag) || NOT_RUN.iter().any(|(t, _)| *t == tag);
        // Syntax templates (no SELECT first) cannot run.
        if !listed && twinscape_query::parse(&text).is_ok() {
            missing.push(tag);
        }
    }
    assert!(missing.is_empty(), "no expectation for {missing:?}");
}

/// What the documentation describes without a snippet.
#[test]
fn supplemental_queries_give_the_expected_results() {
    let e = fixture();
    let cases: Vec<(&str, Want)> = vec![
        (
            "SELECT T.$dtId AS id, T.$metadata.$model AS model FROM DIGITALTWINS T WHERE T.$metadata.$model = 'dtmi:sample:Room;1'",
            rows(
                ["Room1", "Room2", "Room3"]
                    .iter()
                    .map(|r| json!({"id": r, "model": SAMPLE_ROOM}))
                    .collect(),
            ),
        ),
        // Only S21a's temperature was written after the load.
        (
            "SELECT T.$dtId AS id, T.$metadata.temperature.lastUpdateTime AS at FROM DIGITALTWINS T WHERE T.$metadata.temperature.lastUpdateTime > '2025-03-01T12:00:00.0000000Z'",
            rows(vec![
                json!({"id": "S21a", "at": "2025-03-02T08:30:00.0000000Z"}),
            ]),
        ),
        (
            "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.$metadata.$lastUpdateTime >= '2025-03-02'",
            rows(vec![json!({"$dtId": "S21a"})]),
        ),
        // Components: a property of a component, its `$metadata`.
        (
            "SELECT S.$dtId AS id, S.probe.temperature AS t FROM DIGITALTWINS S WHERE IS_OF_MODEL(S, 'dtmi:example:sensor;1') AND S.probe.unit = 'C'",
            rows(vec![json!({"id": "S21a", "t": 21.5})]),
        ),
        (
            "SELECT * FROM DIGITALTWINS S WHERE IS_DEFINED(S.probe.temperature)",
            ids(&["S21a", "S21b"]),
        ),
        (
            "SELECT S.probe.$metadata.$lastUpdateTime AS t FROM DIGITALTWINS S WHERE S.$dtId = 'S21c'",
            rows(vec![json!({"t": "2025-03-01T12:00:00.0000000Z"})]),
        ),
        (
            "SELECT * FROM DIGITALTWINS S WHERE IS_OBJECT(S.probe) AND S.probe.temperature < 25",
            ids(&["S21a"]),
        ),
        // NIN: a twin without `owner` is neither in nor out.
        (
            "SELECT T.$dtId FROM DIGITALTWINS T WHERE T.owner NIN ['John', 'Alex']",
            rows(vec![json!({"$dtId": "456"})]),
        ),
        (
            "SELECT COUNT() FROM DIGITALTWINS T WHERE NOT T.owner IN ['John']",
            count(2),
        ),
        // IS_OF_MODEL with inheritance, and exact.
        (
            "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:example:room;1')",
            ids(&["Room10", "Room11", "office-small"]),
        ),
        (
            "SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:example:room;1', exact)",
            ids(&["Room10", "Room11"]),
        ),
        (
            "SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:contoso:com:lightbulb;1')",
            count(6),
        ),
        // COUNT over a JOIN, TOP over MATCH.
        (
            "SELECT COUNT() FROM DIGITALTWINS B JOIN F RELATED B.contains JOIN R RELATED F.contains WHERE B.$dtId = 'Building1'",
            count(3),
        ),
        (
            "SELECT TOP(2) Room FROM DIGITALTWINS MATCH (Floor)-[:contains|isAssociatedWith*..10]->(Room) WHERE Floor.$dtId = 'thermostat-15'",
            Want::Some(
                2,
                ["h1", "h2", "h3", "h4", "h5", "h6", "cafe1", "cafe2"]
                    .iter()
                    .map(|r| json!({ "Room": r }))
                    .collect(),
            ),
        ),
        // A two-hop MATCH through an unnamed twin, right to left.
        (
            "SELECT B FROM DIGITALTWINS MATCH (B)<-[:contains]-()<-[:contains]-(R) WHERE R.$dtId = 'Floor1'",
            rows(vec![json!({"B": "LightPanel1"})]),
        ),
        // String functions on properties.
        (
            "SELECT T.$dtId FROM DIGITALTWINS T WHERE STARTSWITH(T.name, 'Consumer ') AND ENDSWITH(T.name, 'e')",
            rows(vec![json!({"$dtId": "Consumer1"})]),
        ),
        // Relationship properties in WHERE, and their absence.
        (
            "SELECT R.$targetId AS t FROM RELATIONSHIPS R WHERE R.$relationshipName = 'customer' AND NOT IS_DEFINED(R.prop2)",
            rows(vec![json!({"t": "Consumer2"})]),
        ),
    ];
    let mut failures = Vec::new();
    for (text, want) in &cases {
        if let Err(f) = check(&e, "supplemental", text, want) {
            failures.push(f);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
