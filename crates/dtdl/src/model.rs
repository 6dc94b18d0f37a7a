//! The typed, expanded view of an Interface: every content it has, its own
//! and inherited, with schemas resolved. Built once when models are added and
//! used for twin validation and by the UI.

use crate::checks::Lookup;
use crate::parser::{Element, Val};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// A localized string: language code → text.
pub type LocalizedString = BTreeMap<String, String>;

/// A DTDL schema with every reference resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Schema {
    Boolean,
    Date,
    DateTime,
    Double,
    Duration,
    Float,
    Integer,
    Long,
    String,
    Time,
    Array {
        element: Arc<Schema>,
    },
    Enum {
        /// `integer` or `string`.
        value_schema: EnumValueSchema,
        values: Vec<EnumValueDef>,
    },
    Map {
        key_name: String,
        value_name: String,
        value: Arc<Schema>,
    },
    Object {
        fields: Vec<FieldDef>,
    },
    /// A schema this crate could not resolve (never produced for a valid model).
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EnumValueSchema {
    Integer,
    String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnumValueDef {
    pub name: String,
    pub value: EnumLiteral,
    pub display_name: LocalizedString,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EnumLiteral {
    Integer(i64),
    String(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDef {
    pub name: String,
    pub schema: Arc<Schema>,
    pub display_name: LocalizedString,
}

/// What every content has.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentInfo {
    pub name: String,
    pub id: String,
    /// The Interface that declares it (differs from the model for inherited contents).
    pub defined_in: String,
    pub display_name: LocalizedString,
    pub description: LocalizedString,
    /// Co-types: semantic types such as `Temperature`, as DTMIs.
    pub semantic_types: Vec<String>,
    /// The unit given with a semantic type, as a DTMI.
    pub unit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyDef {
    #[serde(flatten)]
    pub info: ContentInfo,
    pub schema: Arc<Schema>,
    pub writable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TelemetryDef {
    #[serde(flatten)]
    pub info: ContentInfo,
    pub schema: Arc<Schema>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayloadDef {
    pub name: String,
    pub schema: Arc<Schema>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandDef {
    #[serde(flatten)]
    pub info: ContentInfo,
    pub request: Option<PayloadDef>,
    pub response: Option<PayloadDef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipDef {
    #[serde(flatten)]
    pub info: ContentInfo,
    /// The Interface a target twin must have (or extend); any twin when `None`.
    pub target: Option<String>,
    pub min_multiplicity: Option<u32>,
    /// The most relationships of this name a twin may have; unlimited when `None`.
    pub max_multiplicity: Option<u32>,
    pub writable: bool,
    pub properties: BTreeMap<String, PropertyDef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentDef {
    #[serde(flatten)]
    pub info: ContentInfo,
    /// The Interface of the component.
    pub schema: String,
}

/// An Interface with all its contents, its own and inherited.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpandedModel {
    pub id: String,
    pub dtdl_version: u8,
    pub display_name: LocalizedString,
    pub description: LocalizedString,
    /// Direct bases.
    pub extends: Vec<String>,
    /// Every base, transitively (not including the model itself).
    pub ancestors: BTreeSet<String>,
    pub properties: BTreeMap<String, Arc<PropertyDef>>,
    pub telemetries: BTreeMap<String, Arc<TelemetryDef>>,
    pub commands: BTreeMap<String, Arc<CommandDef>>,
    pub relationships: BTreeMap<String, Arc<RelationshipDef>>,
    pub components: BTreeMap<String, Arc<ComponentDef>>,
}

/// A content's definition, built once and shared by every model that has it.
#[derive(Debug, Clone)]
enum ContentArc {
    Property(Arc<PropertyDef>),
    Telemetry(Arc<TelemetryDef>),
    Command(Arc<CommandDef>),
    Relationship(Arc<RelationshipDef>),
    Component(Arc<ComponentDef>),
    Other,
}

/// Memo of built schemas and content definitions across expansions.
#[derive(Debug, Default)]
pub(crate) struct ExpandCache {
    schemas: HashMap<String, Arc<Schema>>,
    contents: HashMap<String, ContentArc>,
}

impl ExpandedModel {
    /// Whether a content of this name exists, of any kind.
    pub fn has_content(&self, name: &str) -> bool {
        self.properties.contains_key(name)
            || self.telemetries.contains_key(name)
            || self.commands.contains_key(name)
            || self.relationships.contains_key(name)
            || self.components.contains_key(name)
    }
}

fn info(e: &Element, defined_in: &str) -> ContentInfo {
    ContentInfo {
        name: e.str_prop("name").unwrap_or_default().to_string(),
        id: e.id.clone(),
        defined_in: defined_in.to_string(),
        display_name: e.lang("displayName"),
        description: e.lang("description"),
        semantic_types: e.cotypes.clone(),
        unit: e
            .sup_props
            .get("unit")
            .and_then(|v| v.first())
            .and_then(Val::as_ref_id)
            .map(String::from),
    }
}

pub(crate) fn build_schema(look: &Lookup<'_>, id: &str, depth: usize) -> Schema {
    if depth > 16 {
        return Schema::Unknown;
    }
    let Some(e) = look.get(id) else {
        return Schema::Unknown;
    };
    match e.class.as_str() {
        "Boolean" => Schema::Boolean,
        "Date" => Schema::Date,
        "DateTime" => Schema::DateTime,
        "Double" => Schema::Double,
        "Duration" => Schema::Duration,
        "Float" => Schema::Float,
        "Integer" => Schema::Integer,
        "Long" => Schema::Long,
        "String" => Schema::String,
        "Time" => Schema::Time,
        "Array" => Schema::Array {
            element: Arc::new(
                e.refs("elementSchema")
                    .next()
                    .map_or(Schema::Unknown, |s| build_schema(look, s, depth + 1)),
            ),
        },
        "Enum" => {
            let vs = e.refs("valueSchema").next().unwrap_or_default();
            let value_schema = if vs.contains(":integer;") {
                EnumValueSchema::Integer
            } else {
                EnumValueSchema::String
            };
            let values = e
                .refs("enumValues")
                .filter_map(|v| look.get(v))
                .map(|ev| EnumValueDef {
                    name: ev.str_prop("name").unwrap_or_default().to_string(),
                    value: match ev.props.get("enumValue").and_then(|v| v.first()) {
                        Some(Val::Int(i)) => EnumLiteral::Integer(*i),
                        Some(Val::Str(s)) => EnumLiteral::String(s.clone()),
                        _ => EnumLiteral::String(String::new()),
                    },
                    display_name: ev.lang("displayName"),
                })
                .collect();
            Schema::Enum {
                value_schema,
                values,
            }
        }
        "Map" => {
            let key_name = e
                .refs("mapKey")
                .next()
                .and_then(|k| look.get(k))
                .and_then(|k| k.str_prop("name"))
                .unwrap_or_default()
                .to_string();
            let mv = e.refs("mapValue").next().and_then(|k| look.get(k));
            let value_name = mv
                .and_then(|m| m.str_prop("name"))
                .unwrap_or_default()
                .to_string();
            let value = mv
                .and_then(|m| m.refs("schema").next())
                .map_or(Schema::Unknown, |s| build_schema(look, s, depth + 1));
            Schema::Map {
                key_name,
                value_name,
                value: Arc::new(value),
            }
        }
        "Object" => Schema::Object {
            fields: e
                .refs("fields")
                .filter_map(|f| look.get(f))
                .map(|f| FieldDef {
                    name: f.str_prop("name").unwrap_or_default().to_string(),
                    schema: Arc::new(
                        f.refs("schema")
                            .next()
                            .map_or(Schema::Unknown, |s| build_schema(look, s, depth + 1)),
                    ),
                    display_name: f.lang("displayName"),
                })
                .collect(),
        },
        _ => Schema::Unknown,
    }
}

fn schema_of(look: &Lookup<'_>, e: &Element, cache: &mut ExpandCache) -> Arc<Schema> {
    let Some(sid) = e.refs("schema").next() else {
        return Arc::new(Schema::Unknown);
    };
    if let Some(s) = cache.schemas.get(sid) {
        return s.clone();
    }
    let s = Arc::new(build_schema(look, sid, 0));
    cache.schemas.insert(sid.to_string(), s.clone());
    s
}

fn property_def(
    look: &Lookup<'_>,
    e: &Element,
    defined_in: &str,
    cache: &mut ExpandCache,
) -> PropertyDef {
    PropertyDef {
        info: info(e, defined_in),
        schema: schema_of(look, e, cache),
        writable: matches!(
            e.props.get("writable").and_then(|v| v.first()),
            Some(Val::Bool(true))
        ),
    }
}

fn payload(
    look: &Lookup<'_>,
    e: &Element,
    prop: &str,
    cache: &mut ExpandCache,
) -> Option<PayloadDef> {
    let p = look.get(e.refs(prop).next()?)?;
    Some(PayloadDef {
        name: p.str_prop("name").unwrap_or_default().to_string(),
        schema: schema_of(look, p, cache),
    })
}

fn int_prop(e: &Element, name: &str) -> Option<u32> {
    match e.props.get(name)?.first()? {
        Val::Int(i) => u32::try_from(*i).ok(),
        _ => None,
    }
}

/// Expands an Interface: its contents and everything inherited through `extends`.
pub(crate) fn expand(
    look: &Lookup<'_>,
    id: &str,
    cache: &mut ExpandCache,
) -> Option<ExpandedModel> {
    let root = look.get(id)?;
    let mut m = ExpandedModel {
        id: id.to_string(),
        dtdl_version: root.version,
        display_name: root.lang("displayName"),
        description: root.lang("description"),
        extends: root.refs("extends").map(String::from).collect(),
        ancestors: BTreeSet::new(),
        properties: BTreeMap::new(),
        telemetries: BTreeMap::new(),
        commands: BTreeMap::new(),
        relationships: BTreeMap::new(),
        components: BTreeMap::new(),
    };
    // Breadth-first: the model's own contents first, then its bases'.
    let mut queue = std::collections::VecDeque::from([id.to_string()]);
    let mut seen = HashSet::new();
    while let Some(iid) = queue.pop_front() {
        if !seen.insert(iid.clone()) {
            continue;
        }
        let Some(iface) = look.get(&iid) else {
            continue;
        };
        if iid != id {
            m.ancestors.insert(iid.clone());
        }
        for cid in iface.refs("contents") {
            let Some(c) = look.get(cid) else { continue };
            let name = c.str_prop("name").unwrap_or_default();
            if m.has_content(name) {
                continue;
            }
            let def = match cache.contents.get(cid) {
                Some(d) => d.clone(),
                None => {
                    let d = content_def(look, c, &iid, cache);
                    cache.contents.insert(cid.to_string(), d.clone());
                    d
                }
            };
            let name = name.to_string();
            match def {
                ContentArc::Property(d) => {
                    m.properties.insert(name, d);
                }
                ContentArc::Telemetry(d) => {
                    m.telemetries.insert(name, d);
                }
                ContentArc::Command(d) => {
                    m.commands.insert(name, d);
                }
                ContentArc::Relationship(d) => {
                    m.relationships.insert(name, d);
                }
                ContentArc::Component(d) => {
                    m.components.insert(name, d);
                }
                ContentArc::Other => {}
            }
        }
        queue.extend(iface.refs("extends").map(String::from));
    }
    Some(m)
}

fn content_def(look: &Lookup<'_>, c: &Element, iid: &str, cache: &mut ExpandCache) -> ContentArc {
    match c.class.as_str() {
        "Property" => ContentArc::Property(Arc::new(property_def(look, c, iid, cache))),
        "Telemetry" => ContentArc::Telemetry(Arc::new(TelemetryDef {
            info: info(c, iid),
            schema: schema_of(look, c, cache),
        })),
        "Command" => ContentArc::Command(Arc::new(CommandDef {
            info: info(c, iid),
            request: payload(look, c, "request", cache),
            response: payload(look, c, "response", cache),
        })),
        "Relationship" => {
            let properties = c
                .refs("properties")
                .filter_map(|p| look.get(p))
                .map(|p| {
                    (
                        p.str_prop("name").unwrap_or_default().to_string(),
                        property_def(look, p, iid, cache),
                    )
                })
                .collect();
            ContentArc::Relationship(Arc::new(RelationshipDef {
                info: info(c, iid),
                target: c.str_prop("target").map(String::from),
                min_multiplicity: int_prop(c, "minMultiplicity"),
                max_multiplicity: int_prop(c, "maxMultiplicity"),
                writable: matches!(
                    c.props.get("writable").and_then(|v| v.first()),
                    Some(Val::Bool(true))
                ),
                properties,
            }))
        }
        "Component" => ContentArc::Component(Arc::new(ComponentDef {
            info: info(c, iid),
            schema: c.refs("schema").next().unwrap_or_default().to_string(),
        })),
        _ => ContentArc::Other,
    }
}
