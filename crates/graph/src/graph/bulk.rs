//! Room for a bulk load made up front, so that the graph's large tables do
//! not grow by doubling while a million twins go in (each doubling copies
//! the table and makes the allocator consolidate its free lists).

use super::TwinGraph;
use std::hash::BuildHasher;

impl TwinGraph {
    /// Reserves room for `twins` more twins and `relationships` more
    /// relationships.
    pub fn reserve(&mut self, twins: usize, relationships: usize) {
        self.twins.reserve(twins);
        self.adj.reserve(twins);
        self.rels.reserve(relationships);
        let (all, hasher) = (&self.twins, &self.hasher);
        self.ids.reserve(twins, |&s| {
            hasher.hash_one(
                all.get(s as usize)
                    .and_then(Option::as_ref)
                    .map(|t| &*t.id)
                    .unwrap_or(""),
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::{AnyModel, Ctx, Precondition, Timestamp, TwinGraph};
    use serde_json::json;

    #[test]
    fn reserving_changes_nothing_visible() {
        let mut g = TwinGraph::new(1);
        g.reserve(1000, 3000);
        let ctx = Ctx {
            models: &AnyModel,
            now: Timestamp(0),
        };
        for i in 0..50 {
            g.import_twin(
                &ctx,
                &format!("t{i}"),
                &json!({"$metadata": {"$model": "dtmi:x;1"}}),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        g.reserve(10, 10);
        for i in 1..50 {
            g.create_or_replace_relationship(
                &ctx,
                &format!("t{i}"),
                "r",
                &json!({"$relationshipName": "next", "$targetId": format!("t{}", i - 1)}),
                &Precondition::None,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(g.twin_count(), 50);
        assert_eq!(g.relationship_count(), 49);
        assert!(g.twin("t17").is_some() && g.twin("t50").is_none());
    }
}
