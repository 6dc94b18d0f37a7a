//! DTDL's standard elements (primitive and geospatial schemas, command types,
//! v2 units, v3 QuantitativeTypes unit enums), parsed once from the metamodel
//! by the same parser that parses user models.

use crate::metamodel::metamodel;
use crate::parser::{Ctx, Element, IdMap, ParseOptions, Parser};
use serde_json::Value;
use std::sync::OnceLock;

pub(crate) fn standard_elements() -> &'static IdMap<Element> {
    static STD: OnceLock<IdMap<Element>> = OnceLock::new();
    STD.get_or_init(build)
}

fn build() -> IdMap<Element> {
    let mm = metamodel();
    let never = |_: &str| false;
    let mut p = Parser::new(
        ParseOptions {
            allow_undefined_extensions: true,
        },
        &never,
    );
    p.allow_reserved = true;
    let mut units = Vec::new();
    for (i, e) in mm.elements.iter().enumerate() {
        let Some(obj) = e.as_object() else { continue };
        let version = match obj.get("@context") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .first()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            _ => continue,
        };
        let version: u8 = if version.ends_with(";2") { 2 } else { 3 };
        let types: Vec<String> = match obj.get("@type") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect(),
            _ => continue,
        };
        let idx = mm.index(version);
        let material = types
            .iter()
            .find_map(|t| idx.class_by_type.get(t.as_str()).cloned());
        match material {
            Some(class) => {
                let cleaned = clean(e, mm, version);
                let path = format!("$standard[{i}]");
                p.parse_element(&cleaned, &Ctx::default(), None, &class, &path, None, false);
            }
            None => units.push((e, version, types)),
        }
    }
    let mut out = p.elements;
    // v2 units and unit prefixes: instances of the Unit class typed by unit kinds.
    for (e, version, types) in units {
        let Some(id) = e.get("@id").and_then(Value::as_str) else {
            continue;
        };
        let ctx = mm.version(version);
        let cotypes: Vec<String> = types
            .iter()
            .filter_map(|t| ctx.and_then(|c| c.context.get(t)).cloned())
            .collect();
        let mut props = std::collections::BTreeMap::new();
        if let Some(n) = e.get("displayName").and_then(Value::as_str) {
            let mut m = std::collections::BTreeMap::new();
            m.insert("en".to_string(), n.to_string());
            props.insert("displayName".to_string(), vec![crate::parser::Val::Lang(m)]);
        }
        out.insert(
            id.to_string(),
            Element {
                id: id.to_string(),
                class: "Unit".into(),
                version,
                cotypes,
                undefined_types: Vec::new(),
                props,
                sup_props: Default::default(),
                parent: None,
                top: id.to_string(),
                partition: "dtmi:dtdl:standard".into(),
                doc: None,
                path: String::new(),
            },
        );
    }
    for el in out.values_mut() {
        el.partition = "dtmi:dtdl:standard".into();
        el.doc = None;
    }
    out
}

/// Keeps only what this crate's parser understands of a standard element:
/// its material type and DTDL properties (drops `Alias`, `SymbolicUnit`, `symbol`).
fn clean(v: &Value, mm: &crate::metamodel::Metamodel, version: u8) -> Value {
    match v {
        Value::Object(o) => {
            let idx = mm.index(version);
            let mut out = serde_json::Map::new();
            for (k, val) in o {
                match k.as_str() {
                    "@type" => {
                        let types: Vec<&str> = match val {
                            Value::String(s) => vec![s.as_str()],
                            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                            _ => Vec::new(),
                        };
                        if let Some(t) = types.iter().find(|t| idx.class_by_type.contains_key(**t))
                        {
                            out.insert(k.clone(), Value::String((*t).to_string()));
                        }
                    }
                    "symbol" | "aliasFor" => {}
                    _ => {
                        out.insert(k.clone(), clean(val, mm, version));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| clean(x, mm, version)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn standard_elements_parse() {
        let s = standard_elements();
        let double = s
            .get("dtmi:dtdl:instance:Schema:double;3")
            .map(|e| e.class.as_str());
        assert_eq!(double, Some("Double"));
        let point = s
            .get("dtmi:standard:schema:geospatial:point;2")
            .map(|e| e.class.as_str());
        assert_eq!(point, Some("Object"));
        let celsius = s
            .get("dtmi:standard:unit:degreeCelsius;2")
            .map(|e| e.class.as_str());
        assert_eq!(celsius, Some("Unit"));
        let kelvin = s
            .get("dtmi:dtdl:extension:quantitativeTypes:v1:unit:kelvin")
            .map(|e| e.class.as_str());
        assert_eq!(kelvin, Some("EnumValue"));
    }
}
