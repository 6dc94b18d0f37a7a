//! Twins and relationships as the graph stores them, and their ADT JSON forms.

use crate::etag::Etag;
use crate::timestamp::Timestamp;
use crate::value::{Sym, Symbols, Value};
use serde_json::{Map, Value as Json};

/// Metadata of one property: when it was last written, and the source time
/// the writer gave for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropMeta {
    pub last_update: Timestamp,
    pub source_time: Option<Timestamp>,
}

/// Metadata of a top-level member.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberMeta {
    Property(PropMeta),
    /// A component: its own last update time and its properties' metadata.
    Component {
        last_update: Timestamp,
        props: Vec<(Sym, PropMeta)>,
    },
}

/// A digital twin.
#[derive(Debug, Clone, PartialEq)]
pub struct Twin {
    pub id: Box<str>,
    pub model: Sym,
    pub etag: Etag,
    pub last_update: Timestamp,
    /// Properties and components in document order. A component's value is an
    /// object of its properties (without `$metadata`).
    pub members: Vec<(Sym, Value)>,
    /// Metadata of the members, in the same order.
    pub meta: Vec<(Sym, MemberMeta)>,
}

impl Twin {
    pub fn member(&self, name: Sym) -> Option<&Value> {
        self.members
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    pub fn member_meta(&self, name: Sym) -> Option<&MemberMeta> {
        self.meta.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The twin in ADT's JSON form.
    pub fn to_json(&self, syms: &Symbols) -> Json {
        let mut out = Map::with_capacity(self.members.len() + 3);
        out.insert("$dtId".into(), Json::String(self.id.to_string()));
        out.insert("$etag".into(), Json::String(self.etag.to_string()));
        for (name, value) in &self.members {
            let json = match (self.member_meta(*name), value) {
                (Some(MemberMeta::Component { last_update, props }), Value::Object(members)) => {
                    // ADT writes a component's `$metadata` after its
                    // properties, as the twin's own.
                    let mut comp = Map::with_capacity(members.len() + 1);
                    for (k, v) in members.iter() {
                        comp.insert(syms.name(*k).to_string(), v.to_json(syms));
                    }
                    comp.insert(
                        "$metadata".into(),
                        component_meta_json(*last_update, props, syms),
                    );
                    Json::Object(comp)
                }
                _ => value.to_json(syms),
            };
            out.insert(syms.name(*name).to_string(), json);
        }
        let mut meta = Map::with_capacity(self.meta.len() + 2);
        meta.insert(
            "$model".into(),
            Json::String(syms.name(self.model).to_string()),
        );
        meta.insert(
            "$lastUpdateTime".into(),
            Json::String(self.last_update.to_string()),
        );
        // Properties written together share a time: format it once.
        let mut last: Option<(Timestamp, Json)> = None;
        for (name, m) in &self.meta {
            if let MemberMeta::Property(p) = m {
                let at = match &last {
                    Some((t, s)) if *t == p.last_update => s.clone(),
                    _ => {
                        let s = Json::String(p.last_update.to_string());
                        last = Some((p.last_update, s.clone()));
                        s
                    }
                };
                let mut pm = Map::with_capacity(2);
                pm.insert("lastUpdateTime".into(), at);
                if let Some(st) = p.source_time {
                    pm.insert("sourceTime".into(), Json::String(st.to_string()));
                }
                meta.insert(syms.name(*name).to_string(), Json::Object(pm));
            }
        }
        out.insert("$metadata".into(), Json::Object(meta));
        Json::Object(out)
    }

    /// The members only, components as plain objects: the document a JSON
    /// Patch applies to.
    pub fn content_json(&self, syms: &Symbols) -> Map<String, Json> {
        self.members
            .iter()
            .map(|(k, v)| (syms.name(*k).to_string(), v.to_json(syms)))
            .collect()
    }
}

pub(crate) fn prop_meta_json(p: &PropMeta) -> Json {
    let mut m = Map::with_capacity(2);
    m.insert(
        "lastUpdateTime".into(),
        Json::String(p.last_update.to_string()),
    );
    if let Some(s) = p.source_time {
        m.insert("sourceTime".into(), Json::String(s.to_string()));
    }
    Json::Object(m)
}

fn component_meta_json(last_update: Timestamp, props: &[(Sym, PropMeta)], syms: &Symbols) -> Json {
    let mut m = Map::with_capacity(props.len() + 1);
    m.insert(
        "$lastUpdateTime".into(),
        Json::String(last_update.to_string()),
    );
    for (k, p) in props {
        m.insert(syms.name(*k).to_string(), prop_meta_json(p));
    }
    Json::Object(m)
}

/// A relationship between two twins. Its id is unique among the source twin's
/// relationships.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    pub id: Box<str>,
    /// Slot of the source twin.
    pub source: u32,
    /// Slot of the target twin.
    pub target: u32,
    pub name: Sym,
    pub etag: Etag,
    pub props: Vec<(Sym, Value)>,
}

impl Relationship {
    pub fn prop(&self, name: Sym) -> Option<&Value> {
        self.props.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The relationship in ADT's JSON form.
    pub fn to_json(&self, source_id: &str, target_id: &str, syms: &Symbols) -> Json {
        let mut out = Map::with_capacity(self.props.len() + 5);
        out.insert("$relationshipId".into(), Json::String(self.id.to_string()));
        out.insert("$etag".into(), Json::String(self.etag.to_string()));
        out.insert("$sourceId".into(), Json::String(source_id.to_string()));
        out.insert(
            "$relationshipName".into(),
            Json::String(syms.name(self.name).to_string()),
        );
        out.insert("$targetId".into(), Json::String(target_id.to_string()));
        for (k, v) in &self.props {
            out.insert(syms.name(*k).to_string(), v.to_json(syms));
        }
        Json::Object(out)
    }

    /// The properties only: the document a JSON Patch applies to.
    pub fn content_json(&self, syms: &Symbols) -> Map<String, Json> {
        self.props
            .iter()
            .map(|(k, v)| (syms.name(*k).to_string(), v.to_json(syms)))
            .collect()
    }
}
