//! What the builder's pickers offer, read from the replica: twins found by
//! id, name or model as the user types, and the properties of a twin's
//! model (own, inherited, of its components, fields of objects) with the
//! kind of value each holds.

use twinscape_dtdl::model::{ExpandedModel, Schema};
use twinscape_engine::Engine;

/// A twin offered by the search.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinHit {
    pub id: String,
    pub name: Option<String>,
    pub model: String,
}

/// Up to `limit` twins whose id, `name` property or model id contains
/// `text` (case-insensitively); ids that start with it first.
pub fn find_twins(engine: &Engine, text: &str, limit: usize) -> Vec<TwinHit> {
    let needle = text.trim().to_lowercase();
    if needle.is_empty() {
        return Vec::new();
    }
    let graph = engine.graph();
    let symbols = graph.symbols();
    let name_sym = symbols.get("name");
    let mut hits: Vec<(u8, TwinHit)> = Vec::new();
    for (_, t) in graph.twins() {
        let id = t.id.to_lowercase();
        let model = symbols.name(t.model);
        let name = name_sym.and_then(|s| match t.member(s) {
            Some(twinscape_graph::Value::Str(n)) => Some(n.to_string()),
            _ => None,
        });
        let rank = if id.starts_with(&needle) {
            0
        } else if id.contains(&needle) {
            1
        } else if name
            .as_ref()
            .is_some_and(|n| n.to_lowercase().contains(&needle))
        {
            2
        } else if model.to_lowercase().contains(&needle) {
            3
        } else {
            continue;
        };
        hits.push((
            rank,
            TwinHit {
                id: t.id.to_string(),
                name,
                model: model.to_string(),
            },
        ));
    }
    hits.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    hits.into_iter().take(limit).map(|(_, h)| h).collect()
}

/// The kind of value a property holds, which decides the conditions a rule
/// offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Number,
    Bool,
    Text,
}

/// A property a rule can read: its path from the twin (`thermostat.setpoint`),
/// its kind and its schema's name.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyPath {
    pub path: String,
    pub kind: Kind,
    pub schema: String,
}

fn primitive(schema: &Schema) -> Option<(Kind, &'static str)> {
    Some(match schema {
        Schema::Double => (Kind::Number, "double"),
        Schema::Float => (Kind::Number, "float"),
        Schema::Integer => (Kind::Number, "integer"),
        Schema::Long => (Kind::Number, "long"),
        Schema::Boolean => (Kind::Bool, "boolean"),
        Schema::String => (Kind::Text, "string"),
        Schema::Date => (Kind::Text, "date"),
        Schema::DateTime => (Kind::Text, "dateTime"),
        Schema::Time => (Kind::Text, "time"),
        Schema::Duration => (Kind::Text, "duration"),
        Schema::Enum { .. } => (Kind::Text, "enum"),
        _ => return None,
    })
}

fn walk(prefix: &str, schema: &Schema, out: &mut Vec<PropertyPath>) {
    if let Some((kind, name)) = primitive(schema) {
        out.push(PropertyPath {
            path: prefix.to_string(),
            kind,
            schema: name.to_string(),
        });
    } else if let Schema::Object { fields } = schema {
        for f in fields {
            walk(&format!("{prefix}.{}", f.name), &f.schema, out);
        }
    }
}

/// The properties of `model` a rule can read (maps and arrays left out),
/// its components' after its own.
pub fn properties(engine: &Engine, model: &str) -> Vec<PropertyPath> {
    let registry = engine.registry();
    let Some(m) = registry.expanded(model) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    own(m, "", &mut out);
    for (name, c) in &m.components {
        if let Some(cm) = registry.expanded(&c.schema) {
            own(cm, &format!("{name}."), &mut out);
        }
    }
    out
}

fn own(m: &ExpandedModel, prefix: &str, out: &mut Vec<PropertyPath>) {
    for (name, p) in &m.properties {
        walk(&format!("{prefix}{name}"), &p.schema, out);
    }
}

/// The model of a twin of the replica.
pub fn model_of(engine: &Engine, twin: &str) -> Option<String> {
    let graph = engine.graph();
    graph
        .twin(twin)
        .map(|t| graph.symbols().name(t.model).to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn demo() -> Engine {
        use twinscape_demo::twins as demo;
        let mut e = Engine::new(Default::default());
        e.add_models(&demo::models()).unwrap();
        for t in demo::twins() {
            e.create_or_replace_twin(
                &t.id,
                &t.doc,
                &twinscape_graph::Precondition::None,
                twinscape_graph::Timestamp::from_unix_millis(0.0),
            )
            .unwrap();
        }
        e
    }

    #[test]
    fn twins_are_found_by_id_name_or_model_ids_first() {
        let e = demo();
        let hits = find_twins(&e, "roof_ahu", 50);
        assert_eq!(hits[0].id, "Roof_AHU1", "{hits:?}");
        assert!(
            hits.iter()
                .all(|h| h.id.to_lowercase().contains("roof_ahu")),
            "{hits:?}"
        );
        let by_model = find_twins(&e, "AirHandling", 50);
        assert!(by_model.iter().any(|h| h.id == "Roof_AHU1"), "{by_model:?}");
        assert!(find_twins(&e, "", 5).is_empty());
        assert_eq!(find_twins(&e, "r", 3).len(), 3);
    }

    #[test]
    fn a_rooms_properties_come_with_their_kinds_and_component_paths() {
        let e = demo();
        let room = twinscape_demo::twins::twins()
            .into_iter()
            .find(|t| t.doc["$metadata"]["$model"] == twinscape_demo::twins::ROOM)
            .unwrap();
        let model = model_of(&e, &room.id).unwrap();
        let props = properties(&e, &model);
        let t = props.iter().find(|p| p.path == "temperature").unwrap();
        assert_eq!((t.kind, t.schema.as_str()), (Kind::Number, "double"));
        assert!(
            props
                .iter()
                .any(|p| p.path == "thermostat.setpoint" && p.kind == Kind::Number),
            "{props:?}"
        );
    }
}
