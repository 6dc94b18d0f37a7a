//! Language rules worth showing by example, v2 against v3.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use twinscape_dtdl::{ParseOptions, validate_batch};

fn codes(batch: &[Value]) -> Vec<&'static str> {
    match validate_batch(batch, ParseOptions::default()) {
        Ok(_) => Vec::new(),
        Err(e) => e.iter().map(|e| e.code).collect(),
    }
}

fn iface(version: u8, id: &str, contents: Value) -> Value {
    json!({"@context": format!("dtmi:dtdl:context;{version}"), "@id": id, "@type": "Interface", "contents": contents})
}

#[test]
fn arrays_in_properties_are_v3_only() {
    let c = json!([{"@type": "Property", "name": "p", "schema": {"@type": "Array", "elementSchema": "double"}}]);
    assert_eq!(
        codes(&[iface(2, "dtmi:x:A;1", c.clone())]),
        ["arrayInProperty"]
    );
    assert!(codes(&[iface(3, "dtmi:x:A;1", c)]).is_empty());
}

#[test]
fn max_multiplicity_limit_is_v2_only() {
    let c = json!([{"@type": "Relationship", "name": "r", "maxMultiplicity": 1000}]);
    assert_eq!(
        codes(&[iface(2, "dtmi:x:A;1", c.clone())]),
        ["valueOutOfRange"]
    );
    assert!(codes(&[iface(3, "dtmi:x:A;1", c)]).is_empty());
}

#[test]
fn minor_versions_and_versionless_ids_are_v3_only() {
    assert!(codes(&[iface(3, "dtmi:x:A;1.2", json!([]))]).is_empty());
    assert_eq!(codes(&[iface(2, "dtmi:x:A;1.2", json!([]))]), ["invalidId"]);
}

#[test]
fn semantic_types_v2_builtin_v3_extension() {
    let v2 = json!({"@context": "dtmi:dtdl:context;2", "@id": "dtmi:x:A;1", "@type": "Interface",
        "contents": [{"@type": ["Telemetry", "Temperature"], "name": "t", "schema": "double", "unit": "degreeCelsius"}]});
    assert!(codes(&[v2]).is_empty());
    let v3_without_ext = iface(
        3,
        "dtmi:x:A;1",
        json!([{"@type": ["Telemetry", "Temperature"], "name": "t", "schema": "double", "unit": "degreeCelsius"}]),
    );
    assert_eq!(codes(&[v3_without_ext]), ["undefinedCotype"]);
    let wrong_unit = json!({"@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"], "@id": "dtmi:x:A;1", "@type": "Interface",
        "contents": [{"@type": ["Telemetry", "Temperature"], "name": "t", "schema": "double", "unit": "metre"}]});
    assert_eq!(codes(&[wrong_unit]), ["wrongUnit"]);
    let string_schema = json!({"@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"], "@id": "dtmi:x:A;1", "@type": "Interface",
        "contents": [{"@type": ["Telemetry", "Temperature"], "name": "t", "schema": "string", "unit": "kelvin"}]});
    assert_eq!(codes(&[string_schema]), ["cotypeConstraint"]);
}

#[test]
fn extends_cycles_depth_and_inherited_names() {
    let a = json!({"@context": "dtmi:dtdl:context;3", "@id": "dtmi:x:A;1", "@type": "Interface", "extends": "dtmi:x:B;1"});
    let b = json!({"@context": "dtmi:dtdl:context;3", "@id": "dtmi:x:B;1", "@type": "Interface", "extends": "dtmi:x:A;1"});
    assert!(codes(&[a, b]).contains(&"extendsCycle"));

    let chain: Vec<Value> = (0..12)
        .map(|i| {
            let mut m = json!({"@context": "dtmi:dtdl:context;3", "@id": format!("dtmi:x:C{i};1"), "@type": "Interface"});
            if i > 0 {
                m["extends"] = json!(format!("dtmi:x:C{};1", i - 1));
            }
            m
        })
        .collect();
    assert!(codes(&chain).contains(&"extendsTooDeep"));

    let base = iface(
        3,
        "dtmi:x:Base;1",
        json!([{"@type": "Property", "name": "n", "schema": "string"}]),
    );
    let mut sub = iface(
        3,
        "dtmi:x:Sub;1",
        json!([{"@type": "Telemetry", "name": "n", "schema": "double"}]),
    );
    sub["extends"] = json!("dtmi:x:Base;1");
    assert_eq!(codes(&[base, sub]), ["duplicateName"]);
}

#[test]
fn components_inline_interfaces_and_nesting() {
    let inline = iface(
        3,
        "dtmi:x:A;1",
        json!([{"@type": "Component", "name": "c",
        "schema": {"@id": "dtmi:x:Inner;1", "@type": "Interface", "contents": [{"@type": "Property", "name": "p", "schema": "double"}]}}]),
    );
    assert!(codes(&[inline]).is_empty());
    let leaf = iface(3, "dtmi:x:Leaf;1", json!([]));
    let mid = iface(
        3,
        "dtmi:x:Mid;1",
        json!([{"@type": "Component", "name": "l", "schema": "dtmi:x:Leaf;1"}]),
    );
    let top = iface(
        3,
        "dtmi:x:Top;1",
        json!([{"@type": "Component", "name": "m", "schema": "dtmi:x:Mid;1"}]),
    );
    assert_eq!(codes(&[leaf, mid, top]), ["nestedComponent"]);
}

#[test]
fn schemas_defined_in_another_interface_cannot_be_referenced() {
    let a = json!({"@context": "dtmi:dtdl:context;3", "@id": "dtmi:x:A;1", "@type": "Interface",
        "schemas": [{"@id": "dtmi:x:Color;1", "@type": "Enum", "valueSchema": "string", "enumValues": [{"name": "red", "enumValue": "red"}]}],
        "contents": [{"@type": "Property", "name": "c", "schema": "dtmi:x:Color;1"}]});
    let b = iface(
        3,
        "dtmi:x:B;1",
        json!([{"@type": "Property", "name": "c", "schema": "dtmi:x:Color;1"}]),
    );
    assert!(codes(std::slice::from_ref(&a)).is_empty());
    assert_eq!(codes(&[a, b]), ["unreferenceable"]);
}

#[test]
fn messages_say_what_is_allowed() {
    let err = validate_batch(
        &[iface(
            3,
            "dtmi:x:A;1",
            json!([{"@type": "Property", "name": "p", "schema": "double", "writeable": true}]),
        )],
        ParseOptions::default(),
    )
    .unwrap_err();
    let e = &err.0[0];
    assert_eq!(e.path, "$.contents[0].writeable");
    assert!(e.message.contains("writable"), "{}", e.message);
    assert_eq!(e.dtmi.as_deref(), Some("dtmi:x:A;1"));
}
