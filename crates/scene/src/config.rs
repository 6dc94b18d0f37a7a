//! Azure 3D Scenes Studio's configuration file, JSON schema
//! `3DScenesConfiguration/v1.0.0` (microsoft/iot-cardboard-js,
//! `schemas/3DScenesConfiguration/v1.0.0/3DScenesConfiguration.schema.json`,
//! MIT; followed as of commit `263f5ddc496b0b7ab1a9b837764f786e1e2e54e1`).
//!
//! * [`parse`] reads a configuration, validates it against the schema and
//!   the cross-references Scenes Studio relies on, and reports every problem
//!   at once with its JSON path ([`ConfigErrors`]).
//! * [`to_json`] / [`to_string_pretty`] write it back. A configuration read
//!   and written again is the same JSON value, with the same key order:
//!   unknown properties are kept in each type's `extra` map, objects of an
//!   unknown `type` are kept whole in an `Other` variant, and the key order
//!   of the text read is remembered ([`KeyOrder`]) and reapplied.
//!
//! What is reported as an error (see [`validate_value`]): required
//! properties missing or of the wrong JSON type, values outside the
//! schema's enums, duplicate ids (scenes, behaviors, layers, elements within
//! a scene), a scene's or layer's `behaviorIDs` naming no behavior, a
//! datasource's `elementIDs` naming no element of any scene, numeric ranges
//! whose bounds are not numbers or `"Infinity"` / `"-Infinity"` or whose min
//! is greater than their max, and visuals or widgets of a `type` the schema
//! does not list (its `IVisual` and `IWidget` are closed `anyOf`s; such
//! objects are still kept for the round trip). Elements and datasources of
//! type `CustomProperty` are valid and kept as they are (the schema's
//! free-form `ICustomProperty`). Unknown properties are *not* reported even
//! though the schema says `additionalProperties: false`: Scenes Studio
//! writes extra properties in practice, and they are kept.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};
use std::collections::{HashMap, HashSet};

/// The `$schema` Scenes Studio writes into new configurations.
pub const SCHEMA_URL: &str = "https://raw.githubusercontent.com/microsoft/iot-cardboard-js/main/schemas/3DScenesConfiguration/v1.0.0/3DScenesConfiguration.schema.json";

/// Scenes Studio's id for the "default layer": the behaviors that are in
/// no layer (`LayerDropdown.tsx`'s `DEFAULT_LAYER_ID`).
pub const DEFAULT_LAYER_ID: &str = "scene-layer-dropdown-unlayered-behaviors";

// ---------------------------------------------------------------- errors

/// One problem in a configuration: where (a JSON pointer, `""` for the
/// whole document) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
    pub kind: ErrorKind,
}

/// What sort of problem a [`ConfigError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The JSON schema forbids it (a property missing or of the wrong type,
    /// a value outside an enum, an unknown visual/widget/element type):
    /// [`parse`] refuses the configuration.
    Schema,
    /// The schema allows it but Scenes Studio cannot use it as meant
    /// (duplicate ids, references to nothing, malformed numeric ranges).
    /// Scenes Studio tolerates these, and its own samples have some, so
    /// [`parse`] accepts them; [`ScenesConfig::problems`] lists them.
    Consistency,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "(document)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

/// Every problem found in a configuration, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid 3D scenes configuration: {}", join_errors(.0))]
pub struct ConfigErrors(pub Vec<ConfigError>);

fn join_errors(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

// ---------------------------------------------------------------- key order

/// The key order of the JSON text a configuration was read from: a copy of
/// its objects and arrays with every other value replaced by `null`.
/// [`to_json`] reorders the keys of each object it writes like the object at
/// the same path here (keys not there follow, in their own order). It is
/// formatting only: it takes no part in `==`.
#[derive(Debug, Clone, Default)]
pub struct KeyOrder(Option<Value>);

impl PartialEq for KeyOrder {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl KeyOrder {
    fn of(value: &Value) -> Self {
        fn skeleton(v: &Value) -> Value {
            match v {
                Value::Object(m) => {
                    Value::Object(m.iter().map(|(k, v)| (k.clone(), skeleton(v))).collect())
                }
                Value::Array(a) => Value::Array(a.iter().map(skeleton).collect()),
                _ => Value::Null,
            }
        }
        KeyOrder(Some(skeleton(value)))
    }
}

fn reorder(value: &mut Value, guide: &Value) {
    match (value, guide) {
        (Value::Object(m), Value::Object(g)) => {
            let mut old = std::mem::take(m);
            for key in g.keys() {
                if let Some(v) = old.shift_remove(key) {
                    m.insert(key.clone(), v);
                }
            }
            m.extend(old);
            for (k, v) in m.iter_mut() {
                if let Some(gv) = g.get(k) {
                    reorder(v, gv);
                }
            }
        }
        (Value::Array(a), Value::Array(g)) => {
            for (v, gv) in a.iter_mut().zip(g) {
                reorder(v, gv);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------- types

type Extra = Map<String, Value>;

/// A whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenesConfig {
    #[serde(rename = "$schema")]
    pub schema: String,
    pub configuration: Configuration,
    #[serde(flatten)]
    pub extra: Extra,
    #[serde(skip)]
    pub key_order: KeyOrder,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Configuration {
    pub scenes: Vec<Scene>,
    pub behaviors: Vec<Behavior>,
    pub layers: Vec<Layer>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scene {
    pub id: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<Number>,
    pub assets: Vec<Asset>,
    pub elements: Vec<Element>,
    #[serde(rename = "behaviorIDs")]
    pub behavior_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polling_configuration: Option<PollingConfiguration>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A 3D asset of a scene (`type` is `"3DAsset"` in practice; the schema
/// allows any string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    #[serde(rename = "type")]
    pub asset_type: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollingConfiguration {
    /// Milliseconds.
    pub minimum_polling_frequency: Number,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An element of a scene (`IElement`).
// Variants are not boxed: configurations are small and read rarely, and
// plain variants keep pattern matching simple for users.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    TwinToObjectMapping(TwinToObjectMapping),
    /// `CustomProperty` or any other `type`, kept whole.
    Other(Extra),
}

/// `type: "TwinToObjectMapping"`: a twin (and its aliases) mapped to
/// meshes of the scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TwinToObjectMapping {
    pub id: String,
    pub display_name: String,
    #[serde(rename = "primaryTwinID")]
    pub primary_twin_id: String,
    #[serde(rename = "objectIDs")]
    pub object_ids: Vec<String>,
    /// Alias → twin id (values are strings once validated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin_aliases: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl TwinToObjectMapping {
    /// The twin id an alias of this element names.
    pub fn twin_alias(&self, alias: &str) -> Option<&str> {
        self.twin_aliases.as_ref()?.get(alias)?.as_str()
    }
}

impl Element {
    pub fn id(&self) -> Option<&str> {
        match self {
            Element::TwinToObjectMapping(e) => Some(&e.id),
            Element::Other(m) => m.get("id").and_then(Value::as_str),
        }
    }

    pub fn as_twin_to_object_mapping(&self) -> Option<&TwinToObjectMapping> {
        match self {
            Element::TwinToObjectMapping(e) => Some(e),
            Element::Other(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Behavior {
    pub id: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin_aliases: Option<Vec<String>>,
    pub datasources: Vec<Datasource>,
    pub visuals: Vec<Visual>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A behavior's datasource (`IDataSource`).
#[derive(Debug, Clone, PartialEq)]
pub enum Datasource {
    ElementTwinToObjectMapping(ElementDatasource),
    /// `CustomProperty` or any other `type`, kept whole.
    Other(Extra),
}

/// `type: "ElementTwinToObjectMappingDataSource"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementDatasource {
    #[serde(rename = "elementIDs")]
    pub element_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A behavior's visual (`IVisual`).
#[derive(Debug, Clone, PartialEq)]
pub enum Visual {
    ExpressionRange(ExpressionRangeVisual),
    Popover(PopoverVisual),
    /// A `type` the schema does not list (reported by validation), kept whole.
    Other(Extra),
}

/// `type: "ExpressionRangeVisual"`: colours, badges, labels by value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpressionRangeVisual {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub value_expression: String,
    pub expression_type: ExpressionType,
    pub value_ranges: Vec<ValueRange>,
    /// A DTDL property type (`IDTDLPropertyType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_range_type: Option<String>,
    #[serde(rename = "objectIDs")]
    pub object_ids: ObjectIds,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `IExpressionRangeType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpressionType {
    NumericRange,
    CategoricalValues,
    /// Not in the schema (reported by validation), kept as written.
    Other(String),
}

impl ExpressionType {
    pub fn as_str(&self) -> &str {
        match self {
            ExpressionType::NumericRange => "NumericRange",
            ExpressionType::CategoricalValues => "CategoricalValues",
            ExpressionType::Other(s) => s,
        }
    }

    fn from_name(s: &str) -> Self {
        match s {
            "NumericRange" => ExpressionType::NumericRange,
            "CategoricalValues" => ExpressionType::CategoricalValues,
            other => ExpressionType::Other(other.to_owned()),
        }
    }
}

impl Serialize for ExpressionType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ExpressionType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(ExpressionType::from_name(&s))
    }
}

/// `IObjectIDs`: which meshes a visual applies to (an expression, in
/// practice `"objectIDs"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectIds {
    pub expression: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `IValueRange`: `values` is `[min, max]` for numeric ranges, the listed
/// values for categorical ones (`[true]` for booleans).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueRange {
    pub id: String,
    pub values: Vec<RangeValue>,
    pub visual: ValueRangeVisual,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One entry of a value range's `values`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RangeValue {
    Number(Number),
    Bool(bool),
    String(String),
}

impl RangeValue {
    /// JavaScript's `Number(v)` for the forms a range bound takes:
    /// numbers, `"Infinity"`, `"-Infinity"` and numeric strings; `NaN`
    /// otherwise.
    pub fn as_bound(&self) -> f64 {
        match self {
            RangeValue::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            RangeValue::String(s) => match s.trim() {
                "Infinity" | "+Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                "" => 0.0,
                t => t.parse().unwrap_or(f64::NAN),
            },
            RangeValue::Bool(b) => f64::from(u8::from(*b)),
        }
    }

    fn is_valid_bound(&self) -> bool {
        match self {
            RangeValue::Number(_) => true,
            RangeValue::String(s) => s == "Infinity" || s == "-Infinity",
            RangeValue::Bool(_) => false,
        }
    }

    /// JavaScript's `===` between this listed value and a JSON value.
    fn strictly_equals(&self, v: &Value) -> bool {
        match (self, v) {
            (RangeValue::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (RangeValue::Bool(a), Value::Bool(b)) => a == b,
            (RangeValue::String(a), Value::String(b)) => a == b,
            _ => false,
        }
    }
}

impl ValueRange {
    /// Whether a value falls in this range, as Scenes Studio decides it:
    /// for `NumericRange`, `min <= v < max` (`[min, max)`, bounds read with
    /// [`RangeValue::as_bound`] so `"-Infinity"` / `"Infinity"` are open
    /// ends; `v` must be a JSON number); for `CategoricalValues` (and any
    /// other type), `v` is strictly equal (`===`) to one of the listed
    /// values, so `true` matches `[true]` but not `["true"]`.
    pub fn contains(&self, expression_type: &ExpressionType, v: &Value) -> bool {
        match expression_type {
            ExpressionType::NumericRange => v.as_f64().is_some_and(|x| self.contains_number(x)),
            _ => self.values.iter().any(|listed| listed.strictly_equals(v)),
        }
    }

    /// `[min, max)` membership of a number (false unless `values` has two
    /// entries).
    pub fn contains_number(&self, x: f64) -> bool {
        match self.values.as_slice() {
            [min, max] => x >= min.as_bound() && x < max.as_bound(),
            _ => false,
        }
    }
}

/// `IValueRangeVisual`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueRangeVisual {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `type: "Popover"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PopoverVisual {
    pub title: String,
    pub widgets: Vec<Widget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widget_groups: Option<Vec<WidgetGroup>>,
    #[serde(rename = "objectIDs")]
    pub object_ids: ObjectIds,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WidgetGroup {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orientation: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A popover's widget (`IWidget`), by `type`.
#[allow(clippy::large_enum_variant)] // as for `Element`
#[derive(Debug, Clone, PartialEq)]
pub enum Widget {
    /// `"Gauge"`.
    Gauge(GaugeWidget),
    /// `"Link"`.
    Link(LinkWidget),
    /// `"Value"`.
    Value(ValueWidget),
    /// `"Data history"`.
    DataHistory(DataHistoryWidget),
    /// `"PowerBI"`.
    PowerBi(PowerBiWidget),
    /// A `type` the schema does not list (reported by validation), kept whole.
    Other(Extra),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GaugeWidget {
    pub id: String,
    #[serde(rename = "groupID", default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub value_expression: String,
    pub widget_configuration: GaugeWidgetConfiguration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GaugeWidgetConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
    pub label: String,
    /// Numeric ranges (`[min, max)`).
    pub value_ranges: Vec<ValueRange>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkWidget {
    pub id: String,
    #[serde(rename = "groupID", default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub widget_configuration: LinkWidgetConfiguration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkWidgetConfiguration {
    pub label: String,
    /// A template string (`${...}`) giving the link.
    pub link_expression: String,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueWidget {
    pub id: String,
    #[serde(rename = "groupID", default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub widget_configuration: ValueWidgetConfiguration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueWidgetConfiguration {
    pub display_name: String,
    pub value_expression: String,
    /// A DTDL property type (`IDTDLPropertyType`).
    #[serde(rename = "type")]
    pub value_type: String,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataHistoryWidget {
    pub id: String,
    #[serde(rename = "groupID", default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub widget_configuration: DataHistoryWidgetConfiguration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataHistoryWidgetConfiguration {
    pub connection: AdxConnection,
    pub display_name: String,
    pub time_series: Vec<TimeSeries>,
    pub chart_options: ChartOptions,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `IADXTimeSeriesConnection`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdxConnection {
    pub adx_cluster_url: String,
    pub adx_database_name: String,
    pub adx_table_name: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `IDataHistoryBasicTimeSeries`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeSeries {
    pub id: String,
    pub expression: String,
    /// A DTDL property type.
    pub property_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `IDataHistoryChartOptions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartOptions {
    /// `"shared"` or `"independent"`.
    pub y_axis_type: String,
    pub default_quick_time_span_in_millis: Number,
    /// `"min"`, `"max"` or `"avg"`.
    pub aggregation_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `type: "PowerBI"`. Its `widgetConfiguration` is kept as a JSON object:
/// the schema's `IPowerBIWidgetConfiguration` requires `label` and
/// `reportId`, which it does not define while forbidding additional
/// properties, so no value satisfies it; only "is an object" is checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PowerBiWidget {
    pub id: String,
    pub widget_configuration: Extra,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `ILayer`: a named group of behaviors that can be shown or hidden.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Layer {
    pub id: String,
    pub display_name: String,
    #[serde(rename = "behaviorIDs")]
    pub behavior_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Extra>,
    #[serde(flatten)]
    pub extra: Extra,
}

// ------------------------------------------- `type`-tagged (de)serialization

fn tagged_from<T: DeserializeOwned, E: serde::de::Error>(mut map: Extra) -> Result<T, E> {
    map.shift_remove("type");
    serde_json::from_value(Value::Object(map)).map_err(E::custom)
}

fn tagged_to<T: Serialize, S: Serializer>(tag: &str, inner: &T, s: S) -> Result<S::Ok, S::Error> {
    let Value::Object(body) = serde_json::to_value(inner).map_err(serde::ser::Error::custom)?
    else {
        return Err(serde::ser::Error::custom("expected an object"));
    };
    let mut map = Map::with_capacity(body.len() + 1);
    map.insert("type".to_owned(), Value::String(tag.to_owned()));
    map.extend(body);
    map.serialize(s)
}

fn type_of(map: &Extra) -> Option<&str> {
    map.get("type").and_then(Value::as_str)
}

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Extra::deserialize(d)?;
        Ok(match type_of(&map) {
            Some("TwinToObjectMapping") => Element::TwinToObjectMapping(tagged_from(map)?),
            _ => Element::Other(map),
        })
    }
}

impl Serialize for Element {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Element::TwinToObjectMapping(e) => tagged_to("TwinToObjectMapping", e, s),
            Element::Other(m) => m.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Datasource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Extra::deserialize(d)?;
        Ok(match type_of(&map) {
            Some("ElementTwinToObjectMappingDataSource") => {
                Datasource::ElementTwinToObjectMapping(tagged_from(map)?)
            }
            _ => Datasource::Other(map),
        })
    }
}

impl Serialize for Datasource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Datasource::ElementTwinToObjectMapping(e) => {
                tagged_to("ElementTwinToObjectMappingDataSource", e, s)
            }
            Datasource::Other(m) => m.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Visual {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Extra::deserialize(d)?;
        Ok(match type_of(&map) {
            Some("ExpressionRangeVisual") => Visual::ExpressionRange(tagged_from(map)?),
            Some("Popover") => Visual::Popover(tagged_from(map)?),
            _ => Visual::Other(map),
        })
    }
}

impl Serialize for Visual {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Visual::ExpressionRange(v) => tagged_to("ExpressionRangeVisual", v, s),
            Visual::Popover(v) => tagged_to("Popover", v, s),
            Visual::Other(m) => m.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Widget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Extra::deserialize(d)?;
        Ok(match type_of(&map) {
            Some("Gauge") => Widget::Gauge(tagged_from(map)?),
            Some("Link") => Widget::Link(tagged_from(map)?),
            Some("Value") => Widget::Value(tagged_from(map)?),
            Some("Data history") => Widget::DataHistory(tagged_from(map)?),
            Some("PowerBI") => Widget::PowerBi(tagged_from(map)?),
            _ => Widget::Other(map),
        })
    }
}

impl Serialize for Widget {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Widget::Gauge(w) => tagged_to("Gauge", w, s),
            Widget::Link(w) => tagged_to("Link", w, s),
            Widget::Value(w) => tagged_to("Value", w, s),
            Widget::DataHistory(w) => tagged_to("Data history", w, s),
            Widget::PowerBi(w) => tagged_to("PowerBI", w, s),
            Widget::Other(m) => m.serialize(s),
        }
    }
}

// ---------------------------------------------------------------- read/write

/// Reads and validates a configuration. Text that is not JSON is one error
/// at path `""`; otherwise every problem [`validate_value`] finds.
pub fn parse(text: &str) -> Result<ScenesConfig, ConfigErrors> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            path: String::new(),
            message: format!("not JSON: {e}"),
            kind: ErrorKind::Schema,
        }])
    })?;
    from_value(&value)
}

/// [`parse`] for a JSON value already read.
pub fn from_value(value: &Value) -> Result<ScenesConfig, ConfigErrors> {
    let errors = validate_value(value);
    if errors.iter().any(|e| e.kind == ErrorKind::Schema) {
        return Err(ConfigErrors(errors));
    }
    let mut config: ScenesConfig = serde_json::from_value(value.clone()).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            path: String::new(),
            message: e.to_string(),
            kind: ErrorKind::Schema,
        }])
    })?;
    config.key_order = KeyOrder::of(value);
    Ok(config)
}

/// The configuration as JSON, keys in the order of the text it was read
/// from (see [`KeyOrder`]).
pub fn to_json(config: &ScenesConfig) -> Value {
    // Serializing these types to a `Value` cannot fail: every map key is a
    // string and there are no non-finite floats (numbers are `Number`s).
    let mut value = serde_json::to_value(config).unwrap_or(Value::Null);
    if let Some(guide) = &config.key_order.0 {
        reorder(&mut value, guide);
    }
    value
}

/// [`to_json`] as indented text.
pub fn to_string_pretty(config: &ScenesConfig) -> String {
    let value = to_json(config);
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

// ---------------------------------------------------------------- queries

/// Which layers to show: `None` means every behavior; a list of layer ids
/// means the behaviors in those layers, where [`DEFAULT_LAYER_ID`] stands
/// for the behaviors that are in no layer at all (Scenes Studio's rule).
pub type LayerSelection<'a> = Option<&'a [&'a str]>;

impl ScenesConfig {
    /// An empty configuration with Scenes Studio's `$schema`.
    pub fn new() -> Self {
        ScenesConfig {
            schema: SCHEMA_URL.to_owned(),
            configuration: Configuration {
                scenes: Vec::new(),
                behaviors: Vec::new(),
                layers: Vec::new(),
                extra: Extra::new(),
            },
            extra: Extra::new(),
            key_order: KeyOrder::default(),
        }
    }

    /// Every problem of this configuration, schema and consistency alike
    /// (see [`validate_value`]).
    pub fn problems(&self) -> Vec<ConfigError> {
        validate_value(&to_json(self))
    }

    /// `Ok` when [`ScenesConfig::problems`] finds none at all.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let errors = self.problems();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(errors))
        }
    }

    pub fn scene(&self, id: &str) -> Option<&Scene> {
        self.configuration.scenes.iter().find(|s| s.id == id)
    }

    pub fn behavior(&self, id: &str) -> Option<&Behavior> {
        self.configuration.behaviors.iter().find(|b| b.id == id)
    }

    pub fn layer(&self, id: &str) -> Option<&Layer> {
        self.configuration.layers.iter().find(|l| l.id == id)
    }

    /// The layers a behavior is in (none: it is in the default layer).
    pub fn layers_of_behavior<'a>(
        &'a self,
        behavior_id: &'a str,
    ) -> impl Iterator<Item = &'a Layer> {
        self.configuration
            .layers
            .iter()
            .filter(move |l| l.behavior_ids.iter().any(|b| b == behavior_id))
    }

    /// The behaviors of a scene, in the order of its `behaviorIDs` (ids
    /// naming no behavior are skipped, repeats are kept once), limited to
    /// the selected layers (see [`LayerSelection`]).
    pub fn scene_behaviors<'a>(
        &'a self,
        scene: &'a Scene,
        layers: LayerSelection<'_>,
    ) -> Vec<&'a Behavior> {
        let mut seen = HashSet::new();
        scene
            .behavior_ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .filter_map(|id| self.behavior(id))
            .filter(|b| match layers {
                None => true,
                Some(selected) => {
                    let mut in_any = false;
                    for layer in self.layers_of_behavior(&b.id) {
                        in_any = true;
                        if selected.contains(&layer.id.as_str()) {
                            return true;
                        }
                    }
                    !in_any && selected.contains(&DEFAULT_LAYER_ID)
                }
            })
            .collect()
    }

    /// [`ScenesConfig::scene_behaviors`] by scene id (`None`: no such scene).
    pub fn behaviors_of_scene<'a>(
        &'a self,
        scene_id: &str,
        layers: LayerSelection<'_>,
    ) -> Option<Vec<&'a Behavior>> {
        let scene = self.scene(scene_id)?;
        Some(self.scene_behaviors(scene, layers))
    }
}

impl Default for ScenesConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl Scene {
    pub fn element(&self, id: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.id() == Some(id))
    }

    /// The elements of this scene a behavior applies to: those its
    /// `ElementTwinToObjectMappingDataSource`s name, in the scene's order.
    pub fn elements_of_behavior<'a>(&'a self, behavior: &Behavior) -> Vec<&'a Element> {
        let wanted: HashSet<&str> = behavior.element_ids().collect();
        self.elements
            .iter()
            .filter(|e| e.id().is_some_and(|id| wanted.contains(id)))
            .collect()
    }
}

impl Behavior {
    /// Every element id its element datasources name.
    pub fn element_ids(&self) -> impl Iterator<Item = &str> {
        self.datasources
            .iter()
            .flat_map(|d| match d {
                Datasource::ElementTwinToObjectMapping(d) => d.element_ids.as_slice(),
                Datasource::Other(_) => &[],
            })
            .map(String::as_str)
    }
}

// ---------------------------------------------------------------- validation

const DTDL_PROPERTY_TYPES: &[&str] = &[
    "boolean", "date", "dateTime", "double", "duration", "enum", "float", "integer", "long",
    "string", "time",
];

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

struct Checker {
    errors: Vec<ConfigError>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Str,
    Num,
    Obj,
    Arr,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::Num => "a number",
            Kind::Obj => "an object",
            Kind::Arr => "an array",
        }
    }

    fn matches(self, v: &Value) -> bool {
        match self {
            Kind::Str => v.is_string(),
            Kind::Num => v.is_number(),
            Kind::Obj => v.is_object(),
            Kind::Arr => v.is_array(),
        }
    }
}

impl Checker {
    fn err(&mut self, path: &str, message: impl Into<String>) {
        self.push(path, message, ErrorKind::Schema);
    }

    fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.push(path, message, ErrorKind::Consistency);
    }

    fn push(&mut self, path: &str, message: impl Into<String>, kind: ErrorKind) {
        self.errors.push(ConfigError {
            path: path.to_owned(),
            message: message.into(),
            kind,
        });
    }

    /// `v` as an object, or an error.
    fn object<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v Extra> {
        match v {
            Value::Object(m) => Some(m),
            _ => {
                self.err(path, "expected an object");
                None
            }
        }
    }

    /// A property of the given kind: missing is an error when `required`.
    fn field<'v>(
        &mut self,
        m: &'v Extra,
        path: &str,
        key: &str,
        kind: Kind,
        required: bool,
    ) -> Option<&'v Value> {
        match m.get(key) {
            None => {
                if required {
                    self.err(path, format!("missing required property '{key}'"));
                }
                None
            }
            Some(v) if kind.matches(v) => Some(v),
            Some(_) => {
                self.err(
                    &format!("{path}/{}", escape(key)),
                    format!("expected {}", kind.name()),
                );
                None
            }
        }
    }

    fn string<'v>(
        &mut self,
        m: &'v Extra,
        path: &str,
        key: &str,
        required: bool,
    ) -> Option<&'v str> {
        self.field(m, path, key, Kind::Str, required)
            .and_then(Value::as_str)
    }

    fn strings(&mut self, m: &Extra, path: &str, key: &str, required: bool) {
        if let Some(Value::Array(items)) = self.field(m, path, key, Kind::Arr, required) {
            for (i, item) in items.iter().enumerate() {
                if !item.is_string() {
                    self.err(&format!("{path}/{key}/{i}"), "expected a string");
                }
            }
        }
    }

    fn one_of(&mut self, m: &Extra, path: &str, key: &str, required: bool, allowed: &[&str]) {
        if let Some(s) = self.string(m, path, key, required)
            && !allowed.contains(&s)
        {
            self.err(
                &format!("{path}/{key}"),
                format!("'{s}' is not one of {}", allowed.join(", ")),
            );
        }
    }

    fn extension_properties(&mut self, m: &Extra, path: &str) {
        self.field(m, path, "extensionProperties", Kind::Obj, false);
    }

    /// The items of an array property, with their paths.
    fn items<'v>(
        &mut self,
        m: &'v Extra,
        path: &str,
        key: &str,
        required: bool,
    ) -> Vec<(String, &'v Value)> {
        match self.field(m, path, key, Kind::Arr, required) {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{path}/{key}/{i}"), v))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn duplicates<'v>(&mut self, ids: impl IntoIterator<Item = (String, &'v Value)>, what: &str) {
        let mut seen: HashMap<&str, String> = HashMap::new();
        for (path, v) in ids {
            if let Some(id) = v.get("id").and_then(Value::as_str) {
                if let Some(first) = seen.get(id) {
                    let message = format!("duplicate {what} id '{id}' (first at {first})");
                    self.warn(&format!("{path}/id"), message);
                } else {
                    seen.insert(id, path);
                }
            }
        }
    }
}

/// Every problem in a configuration given as a JSON value (see the module
/// documentation for what is checked), in document order.
pub fn validate_value(value: &Value) -> Vec<ConfigError> {
    let mut c = Checker { errors: Vec::new() };
    let Some(root) = c.object(value, "") else {
        return c.errors;
    };
    c.string(root, "", "$schema", true);
    let Some(config) = c.field(root, "", "configuration", Kind::Obj, true) else {
        return c.errors;
    };
    let Some(config) = config.as_object() else {
        return c.errors;
    };
    let path = "/configuration";
    let scenes = c.items(config, path, "scenes", true);
    let behaviors = c.items(config, path, "behaviors", true);
    let layers = c.items(config, path, "layers", true);

    let behavior_ids: HashSet<&str> = behaviors
        .iter()
        .filter_map(|(_, b)| b.get("id").and_then(Value::as_str))
        .collect();
    let element_ids: HashSet<&str> = scenes
        .iter()
        .filter_map(|(_, s)| s.get("elements").and_then(Value::as_array))
        .flatten()
        .filter_map(|e| e.get("id").and_then(Value::as_str))
        .collect();

    for (p, scene) in &scenes {
        check_scene(&mut c, scene, p, &behavior_ids);
    }
    c.duplicates(scenes.iter().cloned(), "scene");
    for (p, behavior) in &behaviors {
        check_behavior(&mut c, behavior, p, &element_ids);
    }
    c.duplicates(behaviors.iter().cloned(), "behavior");
    for (p, layer) in &layers {
        let Some(m) = c.object(layer, p) else {
            continue;
        };
        c.string(m, p, "id", true);
        c.string(m, p, "displayName", true);
        c.strings(m, p, "behaviorIDs", true);
        check_references(&mut c, m, p, "behaviorIDs", &behavior_ids, "behavior");
        c.extension_properties(m, p);
    }
    c.duplicates(layers.iter().cloned(), "layer");
    c.errors
}

fn check_references(
    c: &mut Checker,
    m: &Extra,
    path: &str,
    key: &str,
    known: &HashSet<&str>,
    what: &str,
) {
    if let Some(Value::Array(ids)) = m.get(key) {
        for (i, id) in ids.iter().enumerate() {
            if let Some(id) = id.as_str()
                && !known.contains(id)
            {
                c.warn(
                    &format!("{path}/{key}/{i}"),
                    format!("no {what} has id '{id}'"),
                );
            }
        }
    }
}

fn check_scene(c: &mut Checker, scene: &Value, p: &str, behavior_ids: &HashSet<&str>) {
    let Some(m) = c.object(scene, p) else { return };
    c.string(m, p, "id", true);
    c.string(m, p, "displayName", true);
    c.string(m, p, "description", false);
    c.field(m, p, "latitude", Kind::Num, false);
    c.field(m, p, "longitude", Kind::Num, false);
    for (ap, asset) in c.items(m, p, "assets", true) {
        let Some(a) = c.object(asset, &ap) else {
            continue;
        };
        c.string(a, &ap, "type", true);
        c.string(a, &ap, "url", true);
        c.extension_properties(a, &ap);
    }
    let elements = c.items(m, p, "elements", true);
    for (ep, element) in &elements {
        check_element(c, element, ep);
    }
    c.duplicates(elements.iter().cloned(), "element");
    c.strings(m, p, "behaviorIDs", true);
    check_references(c, m, p, "behaviorIDs", behavior_ids, "behavior");
    if let Some(polling) = c.field(m, p, "pollingConfiguration", Kind::Obj, false) {
        let pp = format!("{p}/pollingConfiguration");
        if let Some(pm) = polling.as_object() {
            c.field(pm, &pp, "minimumPollingFrequency", Kind::Num, true);
        }
    }
}

fn check_element(c: &mut Checker, element: &Value, p: &str) {
    let Some(m) = c.object(element, p) else {
        return;
    };
    match c.string(m, p, "type", true) {
        Some("TwinToObjectMapping") => {
            c.string(m, p, "id", true);
            c.string(m, p, "displayName", true);
            c.string(m, p, "primaryTwinID", true);
            c.strings(m, p, "objectIDs", true);
            if let Some(Value::Object(aliases)) = c.field(m, p, "twinAliases", Kind::Obj, false) {
                for (alias, twin) in aliases {
                    if !twin.is_string() {
                        c.err(
                            &format!("{p}/twinAliases/{}", escape(alias)),
                            "expected a string",
                        );
                    }
                }
            }
            c.extension_properties(m, p);
        }
        Some("CustomProperty") | None => {}
        Some(other) => c.err(
            &format!("{p}/type"),
            format!(
                "unknown element type '{other}' (expected TwinToObjectMapping or CustomProperty)"
            ),
        ),
    }
}

fn check_behavior(c: &mut Checker, behavior: &Value, p: &str, element_ids: &HashSet<&str>) {
    let Some(m) = c.object(behavior, p) else {
        return;
    };
    c.string(m, p, "id", true);
    c.string(m, p, "displayName", true);
    c.strings(m, p, "twinAliases", false);
    for (dp, ds) in c.items(m, p, "datasources", true) {
        let Some(d) = c.object(ds, &dp) else { continue };
        match c.string(d, &dp, "type", true) {
            Some("ElementTwinToObjectMappingDataSource") => {
                c.strings(d, &dp, "elementIDs", true);
                check_references(c, d, &dp, "elementIDs", element_ids, "element of any scene");
                c.extension_properties(d, &dp);
            }
            Some("CustomProperty") | None => {}
            Some(other) => c.err(
                &format!("{dp}/type"),
                format!(
                    "unknown datasource type '{other}' (expected ElementTwinToObjectMappingDataSource or CustomProperty)"
                ),
            ),
        }
    }
    for (vp, visual) in c.items(m, p, "visuals", true) {
        check_visual(c, visual, &vp);
    }
}

fn check_object_ids(c: &mut Checker, m: &Extra, p: &str) {
    if let Some(o) = c
        .field(m, p, "objectIDs", Kind::Obj, true)
        .and_then(Value::as_object)
    {
        let op = format!("{p}/objectIDs");
        c.string(o, &op, "expression", true);
        c.extension_properties(o, &op);
    }
}

fn check_visual(c: &mut Checker, visual: &Value, p: &str) {
    let Some(m) = c.object(visual, p) else { return };
    match c.string(m, p, "type", true) {
        Some("ExpressionRangeVisual") => {
            c.string(m, p, "id", false);
            c.string(m, p, "displayName", false);
            c.string(m, p, "valueExpression", true);
            let numeric = match c.string(m, p, "expressionType", true) {
                Some("NumericRange") => Some(true),
                Some("CategoricalValues") => Some(false),
                Some(other) => {
                    c.err(
                        &format!("{p}/expressionType"),
                        format!("'{other}' is not one of NumericRange, CategoricalValues"),
                    );
                    None
                }
                None => None,
            };
            check_value_ranges(c, m, p, numeric);
            c.one_of(m, p, "valueRangeType", false, DTDL_PROPERTY_TYPES);
            check_object_ids(c, m, p);
            c.extension_properties(m, p);
        }
        Some("Popover") => {
            c.string(m, p, "title", true);
            for (wp, widget) in c.items(m, p, "widgets", true) {
                check_widget(c, widget, &wp);
            }
            for (gp, group) in c.items(m, p, "widgetGroups", false) {
                let Some(g) = c.object(group, &gp) else {
                    continue;
                };
                c.string(g, &gp, "id", true);
                c.string(g, &gp, "title", false);
                c.string(g, &gp, "orientation", false);
            }
            check_object_ids(c, m, p);
        }
        Some(other) => c.err(
            &format!("{p}/type"),
            format!("unknown visual type '{other}' (expected ExpressionRangeVisual or Popover)"),
        ),
        None => {}
    }
}

/// `valueRanges` of `m`; `numeric`: `Some(true)` for numeric ranges,
/// `Some(false)` for categorical values, `None` when unknown.
fn check_value_ranges(c: &mut Checker, m: &Extra, p: &str, numeric: Option<bool>) {
    for (rp, range) in c.items(m, p, "valueRanges", true) {
        let Some(r) = c.object(range, &rp) else {
            continue;
        };
        c.string(r, &rp, "id", true);
        if let Some(Value::Array(values)) = c.field(r, &rp, "values", Kind::Arr, true) {
            let vp = format!("{rp}/values");
            let parsed: Vec<Option<RangeValue>> = values
                .iter()
                .enumerate()
                .map(
                    |(i, v)| match serde_json::from_value::<RangeValue>(v.clone()) {
                        Ok(rv) => Some(rv),
                        Err(_) => {
                            c.err(
                                &format!("{vp}/{i}"),
                                "expected a number, a string or a boolean",
                            );
                            None
                        }
                    },
                )
                .collect();
            if numeric == Some(true) {
                check_numeric_bounds(c, &vp, &parsed);
            }
        }
        if let Some(visual) = c
            .field(r, &rp, "visual", Kind::Obj, true)
            .and_then(Value::as_object)
        {
            let vp = format!("{rp}/visual");
            c.string(visual, &vp, "color", false);
            c.string(visual, &vp, "iconName", false);
            c.string(visual, &vp, "labelExpression", false);
            c.extension_properties(visual, &vp);
        }
        c.extension_properties(r, &rp);
    }
}

fn check_numeric_bounds(c: &mut Checker, vp: &str, values: &[Option<RangeValue>]) {
    if values.len() != 2 {
        c.warn(
            vp,
            format!(
                "a numeric range has two bounds [min, max], found {}",
                values.len()
            ),
        );
        return;
    }
    let mut ok = true;
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) if !v.is_valid_bound() => {
                c.warn(
                    &format!("{vp}/{i}"),
                    "a range bound is a number, \"Infinity\" or \"-Infinity\"",
                );
                ok = false;
            }
            Some(_) => {}
            None => ok = false,
        }
    }
    if let (true, [Some(min), Some(max)]) = (ok, values) {
        let (lo, hi) = (min.as_bound(), max.as_bound());
        if lo > hi {
            c.warn(vp, format!("min {lo} is greater than max {hi}"));
        }
    }
}

fn check_widget(c: &mut Checker, widget: &Value, p: &str) {
    let Some(m) = c.object(widget, p) else { return };
    let kind = c.string(m, p, "type", true);
    if kind.is_none() {
        return;
    }
    let known = matches!(
        kind,
        Some("Gauge" | "Link" | "Value" | "Data history" | "PowerBI")
    );
    if !known {
        if let Some(other) = kind {
            c.err(
                &format!("{p}/type"),
                format!("unknown widget type '{other}' (expected Gauge, Link, Value, Data history or PowerBI)"),
            );
        }
        return;
    }
    c.string(m, p, "id", true);
    if kind != Some("PowerBI") {
        c.string(m, p, "groupID", false);
    }
    c.extension_properties(m, p);
    let Some(cfg) = c
        .field(m, p, "widgetConfiguration", Kind::Obj, true)
        .and_then(Value::as_object)
    else {
        if kind == Some("Gauge") {
            c.string(m, p, "valueExpression", true);
        }
        return;
    };
    let cp = format!("{p}/widgetConfiguration");
    match kind {
        Some("Gauge") => {
            c.string(m, p, "valueExpression", true);
            c.string(cfg, &cp, "units", false);
            c.string(cfg, &cp, "label", true);
            check_value_ranges(c, cfg, &cp, Some(true));
        }
        Some("Link") => {
            c.string(cfg, &cp, "label", true);
            c.string(cfg, &cp, "linkExpression", true);
        }
        Some("Value") => {
            c.string(cfg, &cp, "displayName", true);
            c.string(cfg, &cp, "valueExpression", true);
            c.one_of(cfg, &cp, "type", true, DTDL_PROPERTY_TYPES);
        }
        Some("Data history") => {
            if let Some(conn) = c
                .field(cfg, &cp, "connection", Kind::Obj, true)
                .and_then(Value::as_object)
            {
                let np = format!("{cp}/connection");
                c.string(conn, &np, "adxClusterUrl", true);
                c.string(conn, &np, "adxDatabaseName", true);
                c.string(conn, &np, "adxTableName", true);
            }
            c.string(cfg, &cp, "displayName", true);
            for (tp, ts) in c.items(cfg, &cp, "timeSeries", true) {
                let Some(t) = c.object(ts, &tp) else { continue };
                c.string(t, &tp, "id", true);
                c.string(t, &tp, "expression", true);
                c.one_of(t, &tp, "propertyType", true, DTDL_PROPERTY_TYPES);
                c.string(t, &tp, "unit", false);
                c.string(t, &tp, "label", false);
            }
            if let Some(opts) = c
                .field(cfg, &cp, "chartOptions", Kind::Obj, true)
                .and_then(Value::as_object)
            {
                let op = format!("{cp}/chartOptions");
                c.one_of(opts, &op, "yAxisType", true, &["shared", "independent"]);
                c.field(opts, &op, "defaultQuickTimeSpanInMillis", Kind::Num, true);
                c.one_of(opts, &op, "aggregationType", true, &["min", "max", "avg"]);
                c.extension_properties(opts, &op);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reorder_follows_guide_then_own_order() {
        let mut v = json!({"b": 1, "a": {"y": 1, "x": 2}, "c": 3});
        let guide = json!({"a": {"x": null, "y": null}, "b": null});
        reorder(&mut v, &guide);
        assert_eq!(v.to_string(), r#"{"a":{"x":2,"y":1},"b":1,"c":3}"#);
    }

    #[test]
    fn bounds_read_like_javascript_number() {
        assert_eq!(
            RangeValue::String("Infinity".into()).as_bound(),
            f64::INFINITY
        );
        assert_eq!(
            RangeValue::String("-Infinity".into()).as_bound(),
            f64::NEG_INFINITY
        );
        assert_eq!(RangeValue::String("12.5".into()).as_bound(), 12.5);
        assert!(RangeValue::String("warm".into()).as_bound().is_nan());
    }

    #[test]
    fn pointer_escaping() {
        assert_eq!(escape("a/b~c"), "a~1b~0c");
    }
}
