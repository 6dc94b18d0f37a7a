//! Property tests: no input panics the parser, the registry or the twin validator.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use twinscape_dtdl::{ModelRegistry, ParseOptions, validate_batch};

/// Arbitrary JSON, biased towards DTDL-looking strings and keys.
fn arb_json() -> impl Strategy<Value = Value> {
    let words = prop::sample::select(vec![
        "@context",
        "@id",
        "@type",
        "Interface",
        "Property",
        "Telemetry",
        "Relationship",
        "Component",
        "Command",
        "Object",
        "Map",
        "Enum",
        "Array",
        "contents",
        "schema",
        "name",
        "extends",
        "fields",
        "mapKey",
        "mapValue",
        "enumValues",
        "enumValue",
        "valueSchema",
        "elementSchema",
        "target",
        "unit",
        "Temperature",
        "degreeCelsius",
        "dtmi:dtdl:context;3",
        "dtmi:dtdl:context;2",
        "dtmi:x:y;1",
        "dtmi:x:y;2",
        "double",
        "string",
        "integer",
        "displayName",
        "en",
        "@value",
        "@language",
        "writable",
        "maxMultiplicity",
        "dtmi:dtdl:extension:quantitativeTypes;1",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        words.clone().prop_map(|s| Value::String(s.to_string())),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((words.clone(), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

fn sample_models() -> Vec<Value> {
    vec![
        json!({"@context": "dtmi:dtdl:context;3", "@id": "dtmi:t:Base;1", "@type": "Interface",
               "contents": [{"@type": "Property", "name": "p", "schema": {"@type": "Object", "fields": [{"name": "f", "schema": "double"}]}},
                            {"@type": "Relationship", "name": "r", "target": "dtmi:t:Base;1", "maxMultiplicity": 2}]}),
        json!({"@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"], "@id": "dtmi:t:Sub;1", "@type": "Interface",
               "extends": "dtmi:t:Base;1",
               "contents": [{"@type": ["Property", "Temperature"], "name": "t", "schema": "double", "unit": "degreeCelsius"},
                            {"@type": "Component", "name": "c", "schema": "dtmi:t:Comp;1"},
                            {"@type": "Property", "name": "m", "schema": {"@type": "Map", "mapKey": {"name": "k", "schema": "string"},
                              "mapValue": {"name": "v", "schema": {"@type": "Enum", "valueSchema": "integer", "enumValues": [{"name": "a", "enumValue": 1}]}}}}]}),
        json!({"@context": "dtmi:dtdl:context;2", "@id": "dtmi:t:Comp;1", "@type": "Interface",
               "contents": [{"@type": "Telemetry", "name": "x", "schema": {"@type": "Array", "elementSchema": "integer"}}]}),
    ]
}

/// Replaces the `n`-th node (pre-order) of `v` with `with`, or removes it from its parent when `with` is None.
fn mutate(v: &mut Value, n: &mut usize, with: &Option<Value>) -> bool {
    let children: Vec<String> = match v {
        Value::Object(m) => m.keys().cloned().collect(),
        Value::Array(a) => (0..a.len()).map(|i| i.to_string()).collect(),
        _ => Vec::new(),
    };
    for key in children {
        if *n == 0 {
            match (v, with) {
                (Value::Object(m), Some(w)) => {
                    m.insert(key, w.clone());
                }
                (Value::Object(m), None) => {
                    m.remove(&key);
                }
                (Value::Array(a), Some(w)) => {
                    if let Ok(i) = key.parse::<usize>() {
                        a[i] = w.clone();
                    }
                }
                (Value::Array(a), None) => {
                    if let Ok(i) = key.parse::<usize>() {
                        a.remove(i);
                    }
                }
                _ => {}
            }
            return true;
        }
        *n -= 1;
        let child = match v {
            Value::Object(m) => m.get_mut(&key),
            Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        };
        if let Some(c) = child
            && mutate(c, n, with)
        {
            return true;
        }
    }
    false
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(docs in prop::collection::vec(arb_json(), 0..4), allow in any::<bool>()) {
        let options = ParseOptions { allow_undefined_extensions: allow };
        let _ = validate_batch(&docs, options);
        let mut reg = ModelRegistry::new();
        let _ = reg.add_models(&docs, options);
        let _ = reg.validate_twin(&docs.first().cloned().unwrap_or(Value::Null));
    }

    #[test]
    fn mutated_models_never_panic(which in 0usize..3, at in 0usize..200, with in prop::option::of(arb_json()), twin in arb_json(), allow in any::<bool>()) {
        let mut models = sample_models();
        let mut n = at;
        mutate(&mut models[which], &mut n, &with);
        let options = ParseOptions { allow_undefined_extensions: allow };
        let mut reg = ModelRegistry::new();
        if reg.add_models(&models, options).is_ok() {
            for id in ["dtmi:t:Base;1", "dtmi:t:Sub;1", "dtmi:t:Comp;1"] {
                let mut t = twin.clone();
                if let Value::Object(m) = &mut t {
                    m.insert("$metadata".into(), json!({"$model": id}));
                }
                let _ = reg.validate_twin(&t);
                let _ = reg.validate_property(id, "/p/f", Some(&twin));
                let _ = reg.validate_property(id, "/m/k", Some(&twin));
                let _ = reg.validate_relationship(id, "r", Some(id), &twin);
            }
            for id in ["dtmi:t:Sub;1", "dtmi:t:Base;1", "dtmi:t:Comp;1"] {
                let _ = reg.delete(id);
            }
        }
    }
}

#[test]
fn sample_models_are_valid() {
    let mut reg = ModelRegistry::new();
    reg.add_models(&sample_models(), ParseOptions::default())
        .unwrap();
    reg.validate_twin(&json!({"$metadata": {"$model": "dtmi:t:Sub;1"}, "t": 1.5, "m": {"a": 1}, "c": {"$metadata": {}}})).unwrap();
}
