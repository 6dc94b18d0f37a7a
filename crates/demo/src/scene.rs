//! The demo building's 3D scene, in Azure 3D Scenes Studio's configuration
//! format (`3DScenesConfiguration/v1.0.0`): every room and piece of
//! equipment is an element bound to its mesh (node names = twin ids), with
//! rules in two layers — "Comfort" (rooms coloured by temperature, a badge
//! when crowded, a popover with gauge and values) and "Equipment" (status
//! colour and a fault badge).

use crate::twins::{AHU, CHILLER, ROOM};
use serde_json::{Value, json};

/// The scene's id.
pub const SCENE_ID: &str = "demo-building";

/// The demo building's scenes configuration for the twins of
/// [`crate::twins::twins`].
pub fn scenes_config() -> Value {
    let twins = crate::twins::twins();
    let model = |t: &crate::twins::DemoTwin| {
        t.doc["$metadata"]["$model"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let element = |id: &str| {
        json!({
            "type": "TwinToObjectMapping",
            "id": id,
            "displayName": id,
            "primaryTwinID": id,
            "objectIDs": [id],
        })
    };
    let rooms: Vec<&str> = twins
        .iter()
        .filter(|t| model(t) == ROOM)
        .map(|t| t.id.as_str())
        .collect();
    let equipment: Vec<&str> = twins
        .iter()
        .filter(|t| model(t) == AHU || model(t) == CHILLER)
        .map(|t| t.id.as_str())
        .collect();
    let elements: Vec<Value> = rooms
        .iter()
        .chain(&equipment)
        .map(|id| element(id))
        .collect();
    let objects = json!({"expression": "objectIDs"});
    let range = |id: &str, min: Value, max: Value, visual: Value| json!({"id": id, "values": [min, max], "visual": visual});
    json!({
        "$schema": "https://github.com/microsoft/iot-cardboard-js/tree/main/schemas/3DScenesConfiguration/v1.0.0/3DScenesConfiguration.schema.json",
        "configuration": {
            "scenes": [{
                "id": SCENE_ID,
                "displayName": "Twinscape HQ",
                "assets": [{"type": "3DAsset", "url": "/3d/demo-building.glb"}],
                "elements": elements,
                "behaviorIDs": ["room-temperature", "room-occupancy", "equipment-status"]
            }],
            "behaviors": [
                {
                    "id": "room-temperature",
                    "displayName": "Room temperature",
                    "datasources": [{"type": "ElementTwinToObjectMappingDataSource", "elementIDs": rooms}],
                    "visuals": [
                        {
                            "type": "ExpressionRangeVisual",
                            "valueExpression": "PrimaryTwin.temperature",
                            "expressionType": "NumericRange",
                            "objectIDs": objects,
                            "valueRanges": [
                                range("cold", json!("-Infinity"), json!(18), json!({"color": "#3373F2"})),
                                range("cool", json!(18), json!(21), json!({"color": "#4DB36B"})),
                                range("warm", json!(21), json!(24), json!({"color": "#E0A030"})),
                                range("hot", json!(24), json!("Infinity"), json!({
                                    "color": "#EB4033",
                                    "iconName": "Frigid",
                                    "labelExpression": "`${PrimaryTwin.name}: ${PrimaryTwin.temperature.toFixed(1)} °C`"
                                }))
                            ]
                        },
                        {
                            "type": "Popover",
                            "title": "Room",
                            "objectIDs": objects,
                            "widgets": [
                                {
                                    "type": "Gauge",
                                    "id": "temperature-gauge",
                                    "valueExpression": "PrimaryTwin.temperature",
                                    "widgetConfiguration": {
                                        "label": "Temperature",
                                        "units": "°C",
                                        "valueRanges": [
                                            range("g-cold", json!(10), json!(18), json!({"color": "#3373F2"})),
                                            range("g-ok", json!(18), json!(24), json!({"color": "#4DB36B"})),
                                            range("g-hot", json!(24), json!(35), json!({"color": "#EB4033"}))
                                        ]
                                    }
                                },
                                {
                                    "type": "Value",
                                    "id": "humidity",
                                    "widgetConfiguration": {
                                        "displayName": "Humidity (%)",
                                        "valueExpression": "PrimaryTwin.humidity",
                                        "type": "double"
                                    }
                                },
                                {
                                    "type": "Value",
                                    "id": "setpoint",
                                    "widgetConfiguration": {
                                        "displayName": "Setpoint (°C)",
                                        "valueExpression": "PrimaryTwin.thermostat.setpoint",
                                        "type": "double"
                                    }
                                }
                            ]
                        }
                    ]
                },
                {
                    "id": "room-occupancy",
                    "displayName": "Crowded rooms",
                    "datasources": [{"type": "ElementTwinToObjectMappingDataSource", "elementIDs": rooms}],
                    "visuals": [{
                        "type": "ExpressionRangeVisual",
                        "valueExpression": "PrimaryTwin.occupancy >= 6",
                        "expressionType": "CategoricalValues",
                        "objectIDs": objects,
                        "valueRanges": [{
                            "id": "crowded",
                            "values": [true],
                            "visual": {"iconName": "People", "labelExpression": "${PrimaryTwin.occupancy} people"}
                        }]
                    }]
                },
                {
                    "id": "equipment-status",
                    "displayName": "Equipment status",
                    "datasources": [{"type": "ElementTwinToObjectMappingDataSource", "elementIDs": equipment}],
                    "visuals": [{
                        "type": "ExpressionRangeVisual",
                        "valueExpression": "PrimaryTwin.status",
                        "expressionType": "CategoricalValues",
                        "objectIDs": objects,
                        "valueRanges": [
                            {"id": "running", "values": ["running"], "visual": {"color": "#4DB36B"}},
                            {"id": "fault", "values": ["fault"], "visual": {
                                "color": "#EB4033",
                                "iconName": "Warning",
                                "labelExpression": "`${PrimaryTwin.name} is in fault`"
                            }}
                        ]
                    }, {
                        "type": "Popover",
                        "title": "Equipment",
                        "objectIDs": objects,
                        "widgets": [
                            {
                                "type": "Value",
                                "id": "status",
                                "widgetConfiguration": {
                                    "displayName": "Status",
                                    "valueExpression": "PrimaryTwin.status",
                                    "type": "string"
                                }
                            },
                            {
                                "type": "Link",
                                "id": "twin-link",
                                "widgetConfiguration": {
                                    "label": "Open in the explorer",
                                    "linkExpression": "/explorer?twin=${PrimaryTwin.$dtId}"
                                }
                            }
                        ]
                    }]
                }
            ],
            "layers": [
                {"id": "comfort", "displayName": "Comfort", "behaviorIDs": ["room-temperature", "room-occupancy"]},
                {"id": "equipment", "displayName": "Equipment", "behaviorIDs": ["equipment-status"]}
            ]
        }
    })
}
