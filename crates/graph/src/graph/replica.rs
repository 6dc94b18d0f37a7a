//! Operations a replica needs to follow a server's deltas: put stored
//! documents in place and forget entities, without model checks.

use super::TwinGraph;
use crate::error::GraphError;
use crate::twin::Relationship;
use crate::value::Value;
use serde_json::Value as Json;

impl TwinGraph {
    /// Removes a twin and every relationship touching it. Returns whether it existed.
    pub fn forget_twin(&mut self, id: &str) -> bool {
        let Some(slot) = self.slot_of(id) else {
            return false;
        };
        let rels: Vec<u32> = self
            .outgoing_slots(slot)
            .iter()
            .chain(self.incoming_slots(slot))
            .copied()
            .collect();
        for r in rels {
            self.remove_relationship_slot(r);
        }
        let Some(twin) = self.twins.get_mut(slot as usize).and_then(Option::take) else {
            return false;
        };
        let hash = std::hash::BuildHasher::hash_one(&self.hasher, id);
        if let Ok(entry) = self.ids.find_entry(hash, |&s| s == slot) {
            entry.remove();
        }
        self.remove_from_model_index(twin.model, slot);
        self.free_twins.push(slot);
        self.twin_count -= 1;
        true
    }

    /// Puts a stored relationship in place, replacing one with the same
    /// source and id. Both twins must be present.
    pub fn restore_relationship(&mut self, doc: &Json) -> Result<u32, GraphError> {
        let source_id = doc
            .get("$sourceId")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        let rel_id = doc
            .get("$relationshipId")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        self.forget_relationship(&source_id, &rel_id);
        self.load_relationship(doc)
    }

    /// Removes a relationship. Returns whether it existed.
    pub fn forget_relationship(&mut self, source_id: &str, rel_id: &str) -> bool {
        let Some(source) = self.slot_of(source_id) else {
            return false;
        };
        match self.find_relationship(source, rel_id) {
            Some(slot) => self.remove_relationship_slot(slot).is_some(),
            None => false,
        }
    }

    /// Removes everything (the change sequence is kept).
    pub fn clear(&mut self) {
        let seq = self.seq;
        let seed = self.etag_seed;
        *self = TwinGraph::new(seed);
        self.seq = seq;
    }

    /// A relationship's property by name, for replicas reading values.
    pub fn relationship_prop<'a>(&'a self, rel: &'a Relationship, name: &str) -> Option<&'a Value> {
        self.symbols().get(name).and_then(|s| rel.prop(s))
    }
}

#[cfg(test)]
mod tests {
    use crate::*;
    use serde_json::json;

    #[test]
    fn a_replica_follows_stored_documents() {
        let mut g = TwinGraph::new(1);
        let t = |id: &str, v: i64| json!({"$dtId": id, "$etag": "W/\"00000000-0000-4000-8000-000000000001\"", "v": v, "$metadata": {"$model": "dtmi:a;1", "$lastUpdateTime": "2024-01-01T00:00:00.0000000Z", "v": {"lastUpdateTime": "2024-01-01T00:00:00.0000000Z"}}});
        g.restore_twin(&AnyModel, &t("a", 1)).unwrap();
        g.restore_twin(&AnyModel, &t("b", 1)).unwrap();
        let rel = json!({"$relationshipId": "r", "$sourceId": "a", "$targetId": "b", "$relationshipName": "x", "$etag": "W/\"00000000-0000-4000-8000-000000000002\"", "w": 1});
        g.restore_relationship(&rel).unwrap();
        // Replacing a twin keeps its relationships and its slot.
        let slot = g.slot_of("a").unwrap();
        g.restore_twin(&AnyModel, &t("a", 2)).unwrap();
        assert_eq!(g.slot_of("a"), Some(slot));
        assert_eq!(g.twin_json("a").unwrap()["v"], 2);
        assert_eq!(g.outgoing(slot).count(), 1);
        // Replacing a relationship does not duplicate it.
        let mut rel2 = rel.clone();
        rel2["w"] = json!(5);
        g.restore_relationship(&rel2).unwrap();
        assert_eq!(g.relationship_count(), 1);
        assert_eq!(
            g.relationship_json(g.relationship("a", "r").unwrap())["w"],
            5
        );
        // Forgetting a twin drops its relationships.
        assert!(g.forget_twin("b"));
        assert_eq!(g.relationship_count(), 0);
        assert_eq!(g.twin_count(), 1);
        assert!(!g.forget_twin("b"));
        assert!(!g.forget_relationship("a", "r"));
        g.clear();
        assert_eq!(g.twin_count(), 0);
    }
}
