//! The model registry and twin validation, through the public API.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use twinscape_dtdl::{ModelRegistry, ParseOptions, RegistryError, Schema};

fn models() -> Vec<Value> {
    vec![
        json!({
            "@context": "dtmi:dtdl:context;3",
            "@id": "dtmi:example:Space;1",
            "@type": "Interface",
            "displayName": "Space",
            "contents": [
                {"@type": "Property", "name": "name", "schema": "string", "writable": true},
                {"@type": "Relationship", "name": "contains", "target": "dtmi:example:Space;1", "maxMultiplicity": 3,
                 "properties": [{"@type": "Property", "name": "since", "schema": "date"}]}
            ]
        }),
        json!({
            "@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"],
            "@id": "dtmi:example:Thermostat;1",
            "@type": "Interface",
            "contents": [
                {"@type": ["Property", "Temperature"], "name": "setPoint", "schema": "double", "unit": "degreeCelsius", "writable": true},
                {"@type": "Telemetry", "name": "temperature", "schema": "double"},
                {"@type": "Command", "name": "reboot", "request": {"name": "delay", "schema": "duration"}},
                {"@type": "Property", "name": "mode", "schema": {"@type": "Enum", "valueSchema": "string",
                  "enumValues": [{"name": "heat", "enumValue": "heat"}, {"name": "cool", "enumValue": "cool"}]}}
            ]
        }),
        json!({
            "@context": "dtmi:dtdl:context;3",
            "@id": "dtmi:example:Room;1",
            "@type": "Interface",
            "extends": "dtmi:example:Space;1",
            "contents": [
                {"@type": "Property", "name": "area", "schema": "float"},
                {"@type": "Property", "name": "address", "schema": {"@type": "Object", "fields": [
                    {"name": "city", "schema": "string"}, {"name": "zip", "schema": "integer"}]}},
                {"@type": "Property", "name": "tags", "schema": {"@type": "Map",
                    "mapKey": {"name": "key", "schema": "string"}, "mapValue": {"name": "value", "schema": "string"}}},
                {"@type": "Property", "name": "readings", "schema": {"@type": "Array", "elementSchema": "integer"}},
                {"@type": "Property", "name": "location", "schema": "point"},
                {"@type": "Component", "name": "thermostat", "schema": "dtmi:example:Thermostat;1"}
            ]
        }),
    ]
}

fn registry() -> ModelRegistry {
    let mut reg = ModelRegistry::new();
    let ids = reg.add_models(&models(), ParseOptions::default()).unwrap();
    assert_eq!(
        ids,
        [
            "dtmi:example:Space;1",
            "dtmi:example:Thermostat;1",
            "dtmi:example:Room;1"
        ]
    );
    reg
}

#[test]
fn entries_dependencies_and_expansion() {
    let reg = registry();
    let room = reg.get("dtmi:example:Room;1").unwrap();
    assert_eq!(
        room.model,
        models()[2],
        "the model is kept exactly as uploaded"
    );
    assert_eq!(room.dtdl_version, 3);
    assert!(!room.decommissioned);
    assert_eq!(
        room.dependencies
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["dtmi:example:Space;1", "dtmi:example:Thermostat;1"]
    );
    assert_eq!(
        reg.dependents("dtmi:example:Space;1")
            .into_iter()
            .collect::<Vec<_>>(),
        ["dtmi:example:Room;1"]
    );
    assert_eq!(
        reg.get("dtmi:example:Space;1")
            .unwrap()
            .display_name
            .get("en")
            .map(String::as_str),
        Some("Space")
    );

    let x = reg.expanded("dtmi:example:Room;1").unwrap();
    assert!(x.properties.contains_key("name"), "inherited property");
    assert_eq!(x.properties["name"].info.defined_in, "dtmi:example:Space;1");
    assert_eq!(x.properties["area"].info.defined_in, "dtmi:example:Room;1");
    assert!(matches!(*x.properties["area"].schema, Schema::Float));
    let rel = &x.relationships["contains"];
    assert_eq!(rel.target.as_deref(), Some("dtmi:example:Space;1"));
    assert_eq!(rel.max_multiplicity, Some(3));
    assert_eq!(rel.min_multiplicity, None);
    assert_eq!(
        x.components["thermostat"].schema,
        "dtmi:example:Thermostat;1"
    );
    let t = reg.expanded("dtmi:example:Thermostat;1").unwrap();
    assert_eq!(
        t.properties["setPoint"].info.unit.as_deref(),
        Some("dtmi:dtdl:extension:quantitativeTypes:v1:unit:degreeCelsius")
    );
    assert!(t.telemetries.contains_key("temperature"));
    assert!(t.commands["reboot"].request.is_some());

    assert!(reg.is_subtype_of("dtmi:example:Room;1", "dtmi:example:Space;1"));
    assert!(reg.is_subtype_of("dtmi:example:Space;1", "dtmi:example:Space;1"));
    assert!(!reg.is_subtype_of("dtmi:example:Space;1", "dtmi:example:Room;1"));
    assert_eq!(
        reg.subtypes_of("dtmi:example:Space;1"),
        ["dtmi:example:Room;1", "dtmi:example:Space;1"]
    );
}

#[test]
fn batches_are_atomic_and_reference_existing_models() {
    let mut reg = registry();
    let bad_batch = vec![
        json!({"@context": "dtmi:dtdl:context;3", "@id": "dtmi:example:Office;1", "@type": "Interface", "extends": "dtmi:example:Room;1"}),
        json!({"@context": "dtmi:dtdl:context;3", "@id": "dtmi:example:Lab;1", "@type": "Interface", "extends": "dtmi:example:Nowhere;1"}),
    ];
    let err = reg
        .add_models(&bad_batch, ParseOptions::default())
        .unwrap_err();
    assert_eq!(err.len(), 1);
    let e = &err.0[0];
    assert_eq!(e.code, "unresolvedReference");
    assert_eq!(e.dtmi.as_deref(), Some("dtmi:example:Lab;1"));
    assert_eq!(e.document, Some(1));
    assert_eq!(e.path, "$.extends");
    assert!(
        e.message.contains("dtmi:example:Nowhere;1"),
        "{}",
        e.message
    );
    assert!(
        reg.get("dtmi:example:Office;1").is_none(),
        "nothing of a failed batch is added"
    );

    let ok = reg
        .add_models(&bad_batch[..1], ParseOptions::default())
        .unwrap();
    assert_eq!(ok, ["dtmi:example:Office;1"]);
    assert!(reg.is_subtype_of("dtmi:example:Office;1", "dtmi:example:Space;1"));

    let dup = reg
        .add_models(&models()[..1], ParseOptions::default())
        .unwrap_err();
    assert_eq!(dup.0[0].code, "modelAlreadyExists");
}

#[test]
fn every_problem_is_reported_with_its_location() {
    let batch = vec![json!({
        "@context": "dtmi:dtdl:context;3",
        "@id": "dtmi:example:Bad;1",
        "@type": "Interface",
        "contents": [
            {"@type": "Property", "name": "1bad", "schema": "double"},
            {"@type": "Property", "name": "ok", "schema": "doubel"},
            {"@type": "Telemetry", "name": "t"}
        ]
    })];
    let err = twinscape_dtdl::validate_batch(&batch, ParseOptions::default()).unwrap_err();
    let got: Vec<(&str, &str)> = err.iter().map(|e| (e.code, e.path.as_str())).collect();
    assert!(
        got.contains(&("invalidName", "$.contents[0].name")),
        "{got:?}"
    );
    assert!(
        got.contains(&("missingProperty", "$.contents[2]")),
        "{got:?}"
    );
    assert!(
        got.contains(&("invalidReference", "$.contents[1].schema")),
        "{got:?}"
    );
    assert!(
        err.iter()
            .all(|e| e.dtmi.as_deref() == Some("dtmi:example:Bad;1"))
    );
}

#[test]
fn delete_and_decommission() {
    let mut reg = registry();
    match reg.delete("dtmi:example:Space;1") {
        Err(RegistryError::HasDependents { dependents, .. }) => {
            assert_eq!(dependents, ["dtmi:example:Room;1"])
        }
        other => panic!("{other:?}"),
    }
    reg.decommission("dtmi:example:Space;1").unwrap();
    assert!(reg.get("dtmi:example:Space;1").unwrap().decommissioned);
    assert!(matches!(
        reg.decommission("dtmi:nope;1"),
        Err(RegistryError::NotFound(_))
    ));
    reg.delete("dtmi:example:Room;1").unwrap();
    assert!(reg.expanded("dtmi:example:Room;1").is_none());
    reg.delete("dtmi:example:Space;1").unwrap();
    assert_eq!(reg.len(), 1);
    // A deleted model can be uploaded again.
    reg.add_models(&models()[..1], ParseOptions::default())
        .unwrap();
}

fn twin() -> Value {
    json!({
        "$dtId": "room1",
        "$etag": "W/\"1\"",
        "$metadata": {"$model": "dtmi:example:Room;1", "area": {"lastUpdateTime": "2024-01-01T00:00:00Z"}},
        "name": "Room 1",
        "area": 12.5,
        "address": {"city": "Oslo", "zip": 150},
        "tags": {"a": "b"},
        "readings": [1, 2, 3],
        "location": {"type": "Point", "coordinates": [10.7, 59.9]},
        "thermostat": {"$metadata": {}, "setPoint": 21.0, "mode": "heat"}
    })
}

#[test]
fn valid_twin_passes() {
    registry().validate_twin(&twin()).unwrap();
}

#[test]
fn twin_errors_name_the_member() {
    let reg = registry();
    let mut t = twin();
    t["area"] = json!("big");
    t["address"]["zip"] = json!("0150");
    t["address"]["country"] = json!("NO");
    t["thermostat"]["temperature"] = json!(20);
    t["contains"] = json!([]);
    t["bogus"] = json!(1);
    t["thermostat"]["mode"] = json!("off");
    t["readings"] = json!([1, 2.5]);
    let errs = reg.validate_twin(&t).unwrap_err();
    let got: Vec<(&str, &str)> = errs.iter().map(|e| (e.path.as_str(), e.code)).collect();
    for want in [
        ("/area", "wrongType"),
        ("/address/zip", "wrongType"),
        ("/address/country", "unknownField"),
        ("/thermostat/temperature", "notAProperty"),
        ("/contains", "notAProperty"),
        ("/bogus", "unknownProperty"),
        ("/thermostat/mode", "notInEnum"),
        ("/readings/1", "wrongType"),
    ] {
        assert!(got.contains(&want), "{want:?} not in {got:?}");
    }
    assert_eq!(errs.len(), 8, "{got:?}");

    let mut t = twin();
    t.as_object_mut().unwrap().remove("thermostat");
    let errs = reg.validate_twin(&t).unwrap_err();
    assert_eq!(errs[0].code, "missingComponent");
    assert_eq!(errs[0].path, "/thermostat");

    let errs = reg
        .validate_twin(&json!({"$metadata": {"$model": "dtmi:example:Unknown;1"}}))
        .unwrap_err();
    assert_eq!(errs[0].code, "modelNotFound");
    assert!(reg.validate_twin(&json!([])).is_err());
}

#[test]
fn patch_values_are_checked_by_path() {
    let reg = registry();
    let room = "dtmi:example:Room;1";
    reg.validate_property(room, "/area", Some(&json!(3)))
        .unwrap();
    reg.validate_property(room, "/address/city", Some(&json!("Bergen")))
        .unwrap();
    reg.validate_property(room, "/tags/newKey", Some(&json!("v")))
        .unwrap();
    reg.validate_property(room, "/readings/0", Some(&json!(7)))
        .unwrap();
    reg.validate_property(room, "/thermostat/setPoint", Some(&json!(19.5)))
        .unwrap();
    reg.validate_property(room, "/thermostat", Some(&json!({"$metadata": {}})))
        .unwrap();
    reg.validate_property(room, "/area", None).unwrap();
    assert_eq!(
        reg.validate_property(room, "/area", Some(&json!(true)))
            .unwrap_err()[0]
            .code,
        "wrongType"
    );
    assert_eq!(
        reg.validate_property(room, "/address/street", Some(&json!("x")))
            .unwrap_err()[0]
            .code,
        "unknownField"
    );
    assert_eq!(
        reg.validate_property(room, "/thermostat/temperature", Some(&json!(1)))
            .unwrap_err()[0]
            .code,
        "notAProperty"
    );
    assert_eq!(
        reg.validate_property(room, "/nothing", Some(&json!(1)))
            .unwrap_err()[0]
            .code,
        "unknownProperty"
    );
    assert_eq!(
        reg.validate_property(room, "/$dtId", Some(&json!("x")))
            .unwrap_err()[0]
            .code,
        "systemProperty"
    );
    assert_eq!(
        reg.validate_property(room, "/thermostat", None)
            .unwrap_err()[0]
            .code,
        "componentRequired"
    );
    assert_eq!(
        reg.validate_property(room, "area", Some(&json!(1)))
            .unwrap_err()[0]
            .code,
        "invalidPath"
    );
}

#[test]
fn relationships_check_target_and_properties() {
    let reg = registry();
    let rel = reg
        .validate_relationship(
            "dtmi:example:Room;1",
            "contains",
            Some("dtmi:example:Room;1"),
            &json!({"since": "2024-01-01"}),
        )
        .unwrap();
    assert_eq!(rel.max_multiplicity, Some(3));
    reg.validate_relationship("dtmi:example:Space;1", "contains", None, &Value::Null)
        .unwrap();
    let e = reg
        .validate_relationship(
            "dtmi:example:Room;1",
            "contains",
            Some("dtmi:example:Thermostat;1"),
            &json!({}),
        )
        .unwrap_err();
    assert_eq!(e[0].code, "wrongTarget");
    let e = reg
        .validate_relationship(
            "dtmi:example:Room;1",
            "contains",
            None,
            &json!({"since": 5, "x": 1}),
        )
        .unwrap_err();
    assert_eq!(
        e.iter().map(|e| e.code).collect::<Vec<_>>(),
        ["wrongType", "unknownProperty"]
    );
    let e = reg
        .validate_relationship("dtmi:example:Room;1", "owns", None, &json!({}))
        .unwrap_err();
    assert_eq!(e[0].code, "unknownRelationship");
}

#[test]
fn members_can_be_checked_without_a_twin_document() {
    let reg = registry();
    let t = twin();
    let members = t.as_object().unwrap();
    reg.validate_members("dtmi:example:Room;1", members)
        .unwrap();
    let mut m = members.clone();
    m.insert("thermostat".into(), json!({"setPoint": 20}));
    reg.validate_members("dtmi:example:Room;1", &m).unwrap();
    m.remove("thermostat");
    assert_eq!(
        reg.validate_members("dtmi:example:Room;1", &m).unwrap_err()[0].code,
        "missingComponent"
    );
    let props = json!({"since": "2024-01-01"});
    let rel = reg
        .validate_relationship_properties(
            "dtmi:example:Room;1",
            "contains",
            None,
            props.as_object().unwrap(),
        )
        .unwrap();
    assert_eq!(rel.info.name, "contains");
}
