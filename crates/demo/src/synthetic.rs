//! A deterministic generator of large building graphs for benchmarks and load
//! tests: buildings → floors → rooms → sensors and equipment, plus IT assets
//! (racks and servers). About 3 relationships per twin.
//!
//! Every twin and relationship is derived from its index and the seed, so two
//! runs with the same parameters produce the same graph without storing it.

use serde_json::{Value, json};

pub const BUILDING: &str = "dtmi:twinscape:synthetic:Building;1";
pub const FLOOR: &str = "dtmi:twinscape:synthetic:Floor;1";
pub const SPACE: &str = "dtmi:twinscape:synthetic:Space;1";
pub const ROOM: &str = "dtmi:twinscape:synthetic:Room;1";
pub const SENSOR: &str = "dtmi:twinscape:synthetic:Sensor;1";
pub const EQUIPMENT: &str = "dtmi:twinscape:synthetic:Equipment;1";
pub const RACK: &str = "dtmi:twinscape:synthetic:Rack;1";
pub const SERVER: &str = "dtmi:twinscape:synthetic:Server;1";

pub const FLOORS_PER_BUILDING: usize = 10;
pub const ROOMS_PER_FLOOR: usize = 20;
pub const SENSORS_PER_ROOM: usize = 2;
pub const RACKS_PER_BUILDING: usize = 4;
pub const SERVERS_PER_RACK: usize = 20;

/// Twins in one building.
pub const TWINS_PER_BUILDING: usize = 1
    + FLOORS_PER_BUILDING * (1 + ROOMS_PER_FLOOR * (1 + SENSORS_PER_ROOM + 1))
    + RACKS_PER_BUILDING * (1 + SERVERS_PER_RACK);

/// The models of the synthetic graph (DTDL v3; Room extends Space).
pub fn models() -> Vec<Value> {
    let prop =
        |name: &str, schema: &str| json!({"@type": "Property", "name": name, "schema": schema});
    let rel =
        |name: &str, target: &str| json!({"@type": "Relationship", "name": name, "target": target});
    let iface = |id: &str, extends: Option<&str>, contents: Vec<Value>| {
        let mut m = json!({"@context": "dtmi:dtdl:context;3", "@id": id, "@type": "Interface", "contents": contents});
        if let (Some(e), Some(o)) = (extends, m.as_object_mut()) {
            o.insert("extends".into(), json!(e));
        }
        m
    };
    vec![
        iface(
            SENSOR,
            None,
            vec![
                prop("name", "string"),
                prop("temperature", "double"),
                prop("battery", "integer"),
                rel("isLocatedIn", SPACE),
                rel("monitors", EQUIPMENT),
            ],
        ),
        iface(
            EQUIPMENT,
            None,
            vec![
                prop("name", "string"),
                prop("status", "string"),
                prop("power", "double"),
                rel("serves", SPACE),
                rel("isLocatedIn", SPACE),
            ],
        ),
        iface(
            SPACE,
            None,
            vec![prop("name", "string"), prop("area", "double")],
        ),
        iface(
            ROOM,
            Some(SPACE),
            vec![
                prop("temperature", "double"),
                prop("humidity", "double"),
                prop("occupancy", "integer"),
                prop("kind", "string"),
                rel("hasSensor", SENSOR),
                rel("hasEquipment", EQUIPMENT),
            ],
        ),
        iface(
            SERVER,
            None,
            vec![
                prop("name", "string"),
                prop("cpu", "double"),
                prop("os", "string"),
                rel("isLocatedIn", RACK),
                rel("dependsOn", SERVER),
            ],
        ),
        iface(
            RACK,
            None,
            vec![
                prop("name", "string"),
                prop("units", "integer"),
                rel("isLocatedIn", SPACE),
            ],
        ),
        iface(
            FLOOR,
            None,
            vec![
                prop("name", "string"),
                prop("level", "integer"),
                rel("hasRoom", ROOM),
            ],
        ),
        iface(
            BUILDING,
            None,
            vec![
                prop("name", "string"),
                prop("city", "string"),
                rel("hasFloor", FLOOR),
            ],
        ),
    ]
}

/// Parameters of a synthetic graph.
#[derive(Debug, Clone, Copy)]
pub struct Synthetic {
    pub buildings: usize,
    pub seed: u64,
}

const CITIES: [&str; 8] = [
    "Oslo", "Lyon", "Porto", "Turin", "Graz", "Ghent", "Bern", "Kiel",
];
const KINDS: [&str; 4] = ["office", "meeting", "lab", "storage"];
const OSES: [&str; 3] = ["linux", "windows", "bsd"];

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A twin or relationship to create.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Twin {
        id: String,
        doc: Value,
    },
    Relationship {
        source: String,
        id: String,
        doc: Value,
    },
}

impl Synthetic {
    /// About `twins` twins (rounded to whole buildings, at least one).
    pub fn with_twins(twins: usize, seed: u64) -> Self {
        Synthetic {
            buildings: twins.div_ceil(TWINS_PER_BUILDING).max(1),
            seed,
        }
    }

    pub fn twin_count(&self) -> usize {
        self.buildings * TWINS_PER_BUILDING
    }

    fn rand(&self, key: u64) -> f64 {
        (mix(self.seed ^ mix(key)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn r1(&self, key: u64, lo: f64, hi: f64) -> f64 {
        ((lo + (hi - lo) * self.rand(key)) * 10.0).round() / 10.0
    }

    /// All twins of building `b`, then its relationships (each relationship
    /// after both its twins).
    pub fn building(&self, b: usize) -> Vec<Item> {
        let mut out = Vec::with_capacity(TWINS_PER_BUILDING * 4);
        let twin = |out: &mut Vec<Item>, id: String, model: &str, fields: Value| {
            let mut doc = json!({"$metadata": {"$model": model}});
            if let (Some(d), Value::Object(f)) = (doc.as_object_mut(), fields) {
                d.extend(f);
            }
            out.push(Item::Twin { id, doc });
        };
        let rel = |out: &mut Vec<Item>, source: &str, name: &str, target: &str| {
            out.push(Item::Relationship {
                source: source.to_string(),
                id: format!("{name}-{target}"),
                doc: json!({"$relationshipName": name, "$targetId": target}),
            });
        };
        let bid = format!("b{b}");
        twin(
            &mut out,
            bid.clone(),
            BUILDING,
            json!({"name": format!("Building {b}"), "city": CITIES[b % CITIES.len()]}),
        );
        for f in 0..FLOORS_PER_BUILDING {
            let fid = format!("{bid}-f{f}");
            twin(
                &mut out,
                fid.clone(),
                FLOOR,
                json!({"name": format!("Floor {f}"), "level": f}),
            );
            rel(&mut out, &bid, "hasFloor", &fid);
            for r in 0..ROOMS_PER_FLOOR {
                let rid = format!("{fid}-r{r}");
                let key = (b * 1_000_000 + f * 1000 + r) as u64;
                twin(
                    &mut out,
                    rid.clone(),
                    ROOM,
                    json!({
                        "name": format!("Room {f}{r:02}"),
                        "area": self.r1(key * 7 + 1, 8.0, 60.0),
                        "temperature": self.r1(key * 7 + 2, 16.0, 30.0),
                        "humidity": self.r1(key * 7 + 3, 20.0, 70.0),
                        "occupancy": (self.rand(key * 7 + 4) * 12.0) as i64,
                        "kind": KINDS[(mix(key) % KINDS.len() as u64) as usize],
                    }),
                );
                rel(&mut out, &fid, "hasRoom", &rid);
                for s in 0..SENSORS_PER_ROOM {
                    let sid = format!("{rid}-s{s}");
                    twin(
                        &mut out,
                        sid.clone(),
                        SENSOR,
                        json!({
                            "name": format!("Sensor {s}"),
                            "temperature": self.r1(key * 7 + 5 + s as u64 * 100, 16.0, 30.0),
                            "battery": (self.rand(key * 13 + s as u64) * 100.0) as i64,
                        }),
                    );
                    rel(&mut out, &rid, "hasSensor", &sid);
                    rel(&mut out, &sid, "isLocatedIn", &rid);
                }
                let eid = format!("{rid}-e");
                twin(
                    &mut out,
                    eid.clone(),
                    EQUIPMENT,
                    json!({
                        "name": "Fan coil",
                        "status": if self.rand(key * 17) < 0.05 { "fault" } else { "running" },
                        "power": self.r1(key * 19, 0.1, 3.0),
                    }),
                );
                rel(&mut out, &rid, "hasEquipment", &eid);
                rel(&mut out, &eid, "isLocatedIn", &rid);
                rel(&mut out, &eid, "serves", &rid);
                for s in 0..SENSORS_PER_ROOM {
                    rel(&mut out, &format!("{rid}-s{s}"), "monitors", &eid);
                }
            }
            // Equipment also serves the neighbouring rooms (created above).
            for r in 0..ROOMS_PER_FLOOR {
                let eid = format!("{fid}-r{r}-e");
                for d in [1, 2] {
                    rel(
                        &mut out,
                        &eid,
                        "serves",
                        &format!("{fid}-r{}", (r + d) % ROOMS_PER_FLOOR),
                    );
                }
            }
        }
        for k in 0..RACKS_PER_BUILDING {
            let kid = format!("{bid}-k{k}");
            twin(
                &mut out,
                kid.clone(),
                RACK,
                json!({"name": format!("Rack {k}"), "units": 42}),
            );
            rel(&mut out, &kid, "isLocatedIn", &format!("{bid}-f0-r{k}"));
            for s in 0..SERVERS_PER_RACK {
                let sid = format!("{kid}-srv{s}");
                let key = (b * 10_000 + k * 100 + s) as u64;
                twin(
                    &mut out,
                    sid.clone(),
                    SERVER,
                    json!({
                        "name": format!("srv-{b}-{k}-{s}"),
                        "cpu": self.r1(key * 3 + 1, 0.0, 100.0),
                        "os": OSES[(mix(key) % 3) as usize],
                    }),
                );
                rel(&mut out, &sid, "isLocatedIn", &kid);
            }
            for s in 0..SERVERS_PER_RACK {
                let sid = format!("{kid}-srv{s}");
                for d in [1, 7] {
                    rel(
                        &mut out,
                        &sid,
                        "dependsOn",
                        &format!("{kid}-srv{}", (s + d) % SERVERS_PER_RACK),
                    );
                }
            }
        }
        out
    }

    /// Every item of the graph, building by building.
    pub fn items(&self) -> impl Iterator<Item = Item> + '_ {
        (0..self.buildings).flat_map(|b| self.building(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn shape_and_determinism() {
        let s = Synthetic {
            buildings: 2,
            seed: 1,
        };
        let items: Vec<Item> = s.items().collect();
        let twins: Vec<&String> = items
            .iter()
            .filter_map(|i| match i {
                Item::Twin { id, .. } => Some(id),
                _ => None,
            })
            .collect();
        assert_eq!(twins.len(), s.twin_count());
        assert_eq!(
            twins.iter().collect::<HashSet<_>>().len(),
            twins.len(),
            "unique twin ids"
        );
        let rels = items.len() - twins.len();
        let per_twin = rels as f64 / twins.len() as f64;
        assert!(
            (2.5..3.5).contains(&per_twin),
            "{per_twin} relationships per twin"
        );
        // Every relationship follows the creation of both its ends and ids are unique per source.
        let mut seen = HashSet::new();
        let mut rel_ids = HashSet::new();
        for i in &items {
            match i {
                Item::Twin { id, .. } => {
                    seen.insert(id.clone());
                }
                Item::Relationship { source, id, doc } => {
                    assert!(seen.contains(source), "{source}");
                    assert!(
                        seen.contains(doc["$targetId"].as_str().unwrap_or("")),
                        "{doc}"
                    );
                    assert!(
                        rel_ids.insert((source.clone(), id.clone())),
                        "{source}/{id}"
                    );
                }
            }
        }
        assert_eq!(
            Synthetic {
                buildings: 2,
                seed: 1
            }
            .items()
            .collect::<Vec<_>>(),
            items
        );
        assert_ne!(
            Synthetic {
                buildings: 2,
                seed: 2
            }
            .items()
            .collect::<Vec<_>>(),
            items
        );
    }

    #[test]
    fn a_million_twins_is_about_three_million_relationships() {
        let s = Synthetic::with_twins(1_000_000, 7);
        assert!(s.twin_count() >= 1_000_000 && s.twin_count() < 1_002_000);
        let per_building = s.building(0).len() - TWINS_PER_BUILDING;
        let rels = per_building * s.buildings;
        assert!((2_700_000..3_300_000).contains(&rels), "{rels}");
    }
}
