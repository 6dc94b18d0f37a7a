//! The public ontologies load as one batch each, without errors.
#![allow(clippy::unwrap_used)]

mod common;

use serde_json::Value;
use twinscape_dtdl::{ModelRegistry, ParseOptions};

fn load(name: &str) -> (ModelRegistry, Vec<String>) {
    let dir = common::repo_root()
        .join("tests/ontologies")
        .join(name)
        .join("Ontology");
    let batch: Vec<Value> = common::load_json_tree(&dir)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let mut reg = ModelRegistry::new();
    match reg.add_models(&batch, ParseOptions::default()) {
        Ok(ids) => (reg, ids),
        Err(e) => {
            for err in e.iter().take(40) {
                eprintln!("{:?} {}", err.document, err);
            }
            panic!("{name}: {} errors", e.len());
        }
    }
}

#[test]
fn realestatecore_loads() {
    let (reg, ids) = load("realestatecore");
    assert_eq!(ids.len(), 767);
    assert_eq!(reg.len(), 767);
    // Inheritance is resolved: a Room is a Space.
    let room = "dtmi:digitaltwins:rec_3_3:core:Room;1";
    let space = "dtmi:digitaltwins:rec_3_3:core:Space;1";
    assert!(reg.is_subtype_of(room, space));
    assert!(!reg.is_subtype_of(space, room));
    assert!(reg.subtypes_of(space).len() > 100);
    let expanded = reg.expanded(room).unwrap();
    assert!(
        expanded.relationships.contains_key("isPartOf"),
        "inherited relationship"
    );
}

#[test]
fn smartcities_loads() {
    let (reg, ids) = load("smartcities");
    assert_eq!(ids.len(), reg.len());
    assert_eq!(ids.len(), 63);
}

#[test]
fn energygrid_loads() {
    let (reg, ids) = load("energygrid");
    assert_eq!(ids.len(), reg.len());
    assert_eq!(ids.len(), 113);
}
