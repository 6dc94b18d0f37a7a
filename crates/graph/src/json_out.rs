//! ADT JSON written straight to bytes, without building `serde_json`
//! values: the same text as `serde_json::to_vec(&x.to_json(..))` (members in
//! the same order), several times faster. GET by id and query results are
//! mostly this.

use crate::TwinGraph;
use crate::timestamp::Timestamp;
use crate::twin::{MemberMeta, PropMeta, Relationship, Twin};
use crate::value::{Symbols, Value};

/// Appends `s` as a JSON string.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn key(out: &mut Vec<u8>, first: &mut bool, name: &str) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    write_json_str(out, name);
    out.push(b':');
}

impl Value {
    /// Appends the value as JSON (as [`Value::to_json`] would serialise).
    pub fn write_json(&self, syms: &Symbols, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(true) => out.extend_from_slice(b"true"),
            Value::Bool(false) => out.extend_from_slice(b"false"),
            Value::Int(i) => {
                let _ = serde_json::to_writer(&mut *out, i);
            }
            Value::UInt(u) => {
                let _ = serde_json::to_writer(&mut *out, u);
            }
            Value::Float(f) if f.is_finite() => {
                let _ = serde_json::to_writer(&mut *out, f);
            }
            Value::Float(_) => out.extend_from_slice(b"null"),
            Value::Str(s) => write_json_str(out, s),
            Value::Array(items) => {
                out.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    v.write_json(syms, out);
                }
                out.push(b']');
            }
            Value::Object(members) => {
                out.push(b'{');
                let mut first = true;
                for (k, v) in members.iter() {
                    key(out, &mut first, syms.name(*k));
                    v.write_json(syms, out);
                }
                out.push(b'}');
            }
        }
    }
}

fn prop_meta(out: &mut Vec<u8>, p: &PropMeta) {
    out.extend_from_slice(b"{\"lastUpdateTime\":");
    p.last_update.write_json(out);
    if let Some(s) = p.source_time {
        out.extend_from_slice(b",\"sourceTime\":");
        s.write_json(out);
    }
    out.push(b'}');
}

fn component_meta(
    out: &mut Vec<u8>,
    last_update: Timestamp,
    props: &[(crate::Sym, PropMeta)],
    syms: &Symbols,
) {
    out.extend_from_slice(b"{\"$lastUpdateTime\":");
    last_update.write_json(out);
    for (k, p) in props {
        out.push(b',');
        write_json_str(out, syms.name(*k));
        out.push(b':');
        prop_meta(out, p);
    }
    out.push(b'}');
}

impl Twin {
    /// Appends the twin in ADT's JSON form (as [`Twin::to_json`]).
    pub fn write_json(&self, syms: &Symbols, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"$dtId\":");
        write_json_str(out, &self.id);
        out.extend_from_slice(b",\"$etag\":");
        self.etag.write_json(out);
        for (name, value) in &self.members {
            out.push(b',');
            write_json_str(out, syms.name(*name));
            out.push(b':');
            match (self.member_meta(*name), value) {
                (Some(MemberMeta::Component { last_update, props }), Value::Object(members)) => {
                    out.push(b'{');
                    for (k, v) in members.iter() {
                        write_json_str(out, syms.name(*k));
                        out.push(b':');
                        v.write_json(syms, out);
                        out.push(b',');
                    }
                    out.extend_from_slice(b"\"$metadata\":");
                    component_meta(out, *last_update, props, syms);
                    out.push(b'}');
                }
                _ => value.write_json(syms, out),
            }
        }
        out.extend_from_slice(b",\"$metadata\":{\"$model\":");
        write_json_str(out, syms.name(self.model));
        out.extend_from_slice(b",\"$lastUpdateTime\":");
        self.last_update.write_json(out);
        for (name, m) in &self.meta {
            if let MemberMeta::Property(p) = m {
                out.push(b',');
                write_json_str(out, syms.name(*name));
                out.push(b':');
                prop_meta(out, p);
            }
        }
        out.extend_from_slice(b"}}");
    }
}

impl Relationship {
    /// Appends the relationship in ADT's JSON form (as
    /// [`Relationship::to_json`]).
    pub fn write_json(&self, source_id: &str, target_id: &str, syms: &Symbols, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"$relationshipId\":");
        write_json_str(out, &self.id);
        out.extend_from_slice(b",\"$etag\":");
        self.etag.write_json(out);
        out.extend_from_slice(b",\"$sourceId\":");
        write_json_str(out, source_id);
        out.extend_from_slice(b",\"$relationshipName\":");
        write_json_str(out, syms.name(self.name));
        out.extend_from_slice(b",\"$targetId\":");
        write_json_str(out, target_id);
        for (k, v) in &self.props {
            out.push(b',');
            write_json_str(out, syms.name(*k));
            out.push(b':');
            v.write_json(syms, out);
        }
        out.push(b'}');
    }
}

impl TwinGraph {
    /// Appends the twin `id` in ADT's JSON form; false if there is none.
    pub fn write_twin_json(&self, id: &str, out: &mut Vec<u8>) -> bool {
        match self.twin(id) {
            Some(t) => {
                t.write_json(self.symbols(), out);
                true
            }
            None => false,
        }
    }

    /// Appends a relationship in ADT's JSON form.
    pub fn write_relationship_json(&self, rel: &Relationship, out: &mut Vec<u8>) {
        let sid = self.twin_at(rel.source).map(|t| &*t.id).unwrap_or("");
        let tid = self.twin_at(rel.target).map(|t| &*t.id).unwrap_or("");
        rel.write_json(sid, tid, self.symbols(), out);
    }
}

#[cfg(test)]
mod tests {
    use crate::{AnyModel, Ctx, Precondition, Timestamp, TwinGraph};
    use serde_json::json;

    #[test]
    fn bytes_equal_serialised_documents() {
        let mut g = TwinGraph::new(7);
        let ctx = Ctx {
            models: &AnyModel,
            now: Timestamp::parse("2024-02-29T10:11:12.1234567Z").unwrap_or(Timestamp(0)),
        };
        let docs = [
            json!({"$metadata": {"$model": "dtmi:a;1", "temperature": {"sourceTime": "2024-01-01T00:00:00Z"}},
                   "temperature": 21.5, "n": 3, "big": 18446744073709551615u64, "neg": -4,
                   "s": "quote \" backslash \\ tab \t é ✓", "nil": null, "yes": true, "no": false,
                   "arr": [1, 2.5, "x", [true], {"k": null}], "obj": {"a": {"b": []}}, "empty": {}}),
            json!({"$metadata": {"$model": "dtmi:b;1"}}),
            json!({"$metadata": {"$model": "dtmi:a;1"}, "weird \n key": 1e300, "tiny": 1e-7}),
        ];
        for (i, doc) in docs.iter().enumerate() {
            g.create_or_replace_twin(&ctx, &format!("t{i}\"x"), doc, &Precondition::None)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        g.create_or_replace_relationship(
            &ctx,
            "t0\"x",
            "r\\1",
            &json!({"$relationshipName": "feeds", "$targetId": "t1\"x", "w": 2, "tag": "a\"b"}),
            &Precondition::None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        // A stored twin with a component.
        g.load_twin(
            &AnyModel,
            &json!({"$dtId": "c", "$etag": "W/\"00000000-0000-4000-8000-000000000001\"",
                "comp": {"$metadata": {"$lastUpdateTime": "2023-01-01T00:00:00Z",
                    "p": {"lastUpdateTime": "2023-01-02T00:00:00Z", "sourceTime": "2023-01-03T00:00:00Z"}}, "p": 1},
                "$metadata": {"$model": "dtmi:c;1", "$lastUpdateTime": "2023-01-01T00:00:00Z"}}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for (_, t) in g.twins() {
            let mut out = Vec::new();
            t.write_json(g.symbols(), &mut out);
            let want = serde_json::to_vec(&t.to_json(g.symbols())).unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&want)
            );
        }
        for r in g.relationships() {
            let mut out = Vec::new();
            g.write_relationship_json(r, &mut out);
            let want = serde_json::to_vec(&g.relationship_json(r)).unwrap_or_default();
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&want)
            );
        }
        let mut out = Vec::new();
        assert!(g.write_twin_json("c", &mut out));
        // ADT's order: a component's properties, then its `$metadata`.
        let text = String::from_utf8_lossy(&out).to_string();
        assert!(
            text.contains(r#""comp":{"p":1,"$metadata":{"$lastUpdateTime":"#),
            "{text}"
        );
        let mut out = Vec::new();
        assert!(!g.write_twin_json("nope", &mut out));
    }
}
