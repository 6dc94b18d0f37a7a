//! The demo building's DTDL models, twins and relationships. Twin ids are the
//! node names of the 3D model, so a scene binds elements to twins by name.

use crate::{ElementKind, FLOORS, elements};
use serde_json::{Value, json};

pub const BUILDING: &str = "dtmi:twinscape:demo:Building;1";
pub const FLOOR: &str = "dtmi:twinscape:demo:Floor;1";
pub const ROOM: &str = "dtmi:twinscape:demo:Room;1";
pub const THERMOSTAT: &str = "dtmi:twinscape:demo:Thermostat;1";
pub const SENSOR: &str = "dtmi:twinscape:demo:Sensor;1";
pub const EQUIPMENT: &str = "dtmi:twinscape:demo:Equipment;1";
pub const AHU: &str = "dtmi:twinscape:demo:AirHandlingUnit;1";
pub const CHILLER: &str = "dtmi:twinscape:demo:Chiller;1";

/// The id of the building twin.
pub const BUILDING_ID: &str = "TwinscapeHQ";

/// The demo's DTDL v3 interfaces, as one upload batch (dependencies first).
pub fn models() -> Vec<Value> {
    [
        include_str!("../models/Thermostat.json"),
        include_str!("../models/Sensor.json"),
        include_str!("../models/Room.json"),
        include_str!("../models/Equipment.json"),
        include_str!("../models/AirHandlingUnit.json"),
        include_str!("../models/Chiller.json"),
        include_str!("../models/Floor.json"),
        include_str!("../models/Building.json"),
    ]
    .iter()
    .filter_map(|s| serde_json::from_str(s).ok())
    .collect()
}

/// A small deterministic generator (no `rand` needed for demo values).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        let v = lo + (hi - lo) * self.next();
        (v * 10.0).round() / 10.0
    }
}

/// A twin to create: its id and its document.
pub struct DemoTwin {
    pub id: String,
    pub doc: Value,
}

/// A relationship to create.
pub struct DemoRelationship {
    pub source: String,
    pub id: String,
    pub doc: Value,
}

fn twin(model: &str, fields: Value) -> Value {
    let mut doc = json!({ "$metadata": { "$model": model } });
    if let (Some(d), Value::Object(f)) = (doc.as_object_mut(), fields) {
        d.extend(f);
    }
    doc
}

fn rel(source: &str, name: &str, target: &str) -> DemoRelationship {
    DemoRelationship {
        source: source.to_string(),
        id: format!("{source}-{name}-{target}"),
        doc: json!({ "$relationshipName": name, "$targetId": target }),
    }
}

/// The demo building's twins, in creation order.
pub fn twins() -> Vec<DemoTwin> {
    let mut rng = Lcg(2024);
    let mut out = vec![DemoTwin {
        id: BUILDING_ID.into(),
        doc: twin(
            BUILDING,
            json!({ "name": "Twinscape HQ", "address": "1 Example Street" }),
        ),
    }];
    for e in elements() {
        let doc = match e.kind {
            ElementKind::Site => continue,
            ElementKind::Floor => {
                let level = e
                    .name
                    .strip_prefix("Floor")
                    .and_then(|n| n.parse::<i64>().ok())
                    .unwrap_or(i64::from(FLOORS) + 1);
                twin(FLOOR, json!({ "name": e.name, "level": level }))
            }
            ElementKind::Room => {
                let [w, _, d] = e.bounds.size();
                twin(
                    ROOM,
                    json!({
                        "name": e.name,
                        "area": ((w * d) as f64 * 10.0).round() / 10.0,
                        "temperature": rng.range(19.0, 24.0),
                        "humidity": rng.range(35.0, 55.0),
                        "occupancy": (rng.next() * 8.0) as i64,
                        "thermostat": { "$metadata": {}, "setpoint": 21.0, "mode": "heat" }
                    }),
                )
            }
            ElementKind::Sensor => twin(
                SENSOR,
                json!({ "name": e.name, "temperature": rng.range(19.0, 24.0), "battery": 60 + (rng.next() * 40.0) as i64 }),
            ),
            ElementKind::Equipment if e.name.contains("Chiller") => twin(
                CHILLER,
                json!({ "name": e.name, "status": "running", "chilledWaterTemperature": 7.0, "power": 42.5 }),
            ),
            ElementKind::Equipment => twin(
                AHU,
                json!({ "name": e.name, "status": "running", "supplyAirTemperature": rng.range(14.0, 18.0), "fanSpeed": 0.6 }),
            ),
        };
        out.push(DemoTwin {
            id: e.name.clone(),
            doc,
        });
    }
    out
}

/// The demo building's relationships.
pub fn relationships() -> Vec<DemoRelationship> {
    let mut out = Vec::new();
    let els = elements();
    for e in &els {
        match e.kind {
            ElementKind::Floor => out.push(rel(BUILDING_ID, "hasFloor", &e.name)),
            ElementKind::Room => {
                let floor = format!("Floor{}", &e.name[4..5]);
                out.push(rel(&floor, "hasRoom", &e.name));
            }
            ElementKind::Sensor => {
                if let Some(room) = e.name.strip_suffix("_TempSensor") {
                    out.push(rel(room, "hasSensor", &e.name));
                }
            }
            ElementKind::Equipment => {
                out.push(rel("Roof", "hasEquipment", &e.name));
                if e.name.starts_with("Roof_AHU") {
                    for f in 1..=FLOORS {
                        out.push(rel(&e.name, "serves", &format!("Floor{f}")));
                    }
                }
            }
            ElementKind::Site => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_3d_element_but_the_site_has_a_twin() {
        let ids: Vec<String> = twins().into_iter().map(|t| t.id).collect();
        for e in elements() {
            assert_eq!(
                ids.contains(&e.name),
                e.kind != ElementKind::Site,
                "{}",
                e.name
            );
        }
        assert!(ids.contains(&BUILDING_ID.to_string()));
    }

    #[test]
    fn relationships_connect_existing_twins() {
        let ids: Vec<String> = twins().into_iter().map(|t| t.id).collect();
        let rels = relationships();
        assert_eq!(
            rels.iter()
                .filter(|r| r.doc["$relationshipName"] == "hasRoom")
                .count(),
            18
        );
        assert_eq!(
            rels.iter()
                .filter(|r| r.doc["$relationshipName"] == "serves")
                .count(),
            6
        );
        for r in &rels {
            assert!(ids.contains(&r.source), "{}", r.source);
            assert!(
                ids.iter().any(|i| r.doc["$targetId"] == i.as_str()),
                "{}",
                r.doc
            );
        }
        let mut rel_ids: Vec<&str> = rels.iter().map(|r| r.id.as_str()).collect();
        rel_ids.sort_unstable();
        rel_ids.dedup();
        assert_eq!(rel_ids.len(), rels.len());
    }

    #[test]
    fn models_parse_and_reference_each_other() {
        let m = models();
        assert_eq!(m.len(), 8);
        let ids: Vec<&str> = m.iter().filter_map(|d| d["@id"].as_str()).collect();
        for id in [
            BUILDING, FLOOR, ROOM, THERMOSTAT, SENSOR, EQUIPMENT, AHU, CHILLER,
        ] {
            assert!(ids.contains(&id), "{id}");
        }
    }
}
