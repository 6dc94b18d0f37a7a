//! Secondary indexes on chosen top-level twin properties: value → twin slots.
//!
//! An index only narrows the candidates of a query; the executor still
//! evaluates the whole WHERE clause on each candidate, so an index can never
//! change a result, only its cost.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;
use twinscape_graph::{TwinGraph, Value};

/// A `f64` with a total order (`-0.0` = `0.0`; NaN is never indexed).
#[derive(Debug, Clone, Copy)]
pub struct OrdF64(pub f64);

impl PartialEq for OrdF64 {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> Ordering {
        let norm = |v: f64| if v == 0.0 { 0.0 } else { v };
        norm(self.0).total_cmp(&norm(other.0))
    }
}

/// An indexed value. Keys of different kinds never compare equal, as in the
/// query language; numbers of any JSON kind share one order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum IndexKey {
    Bool(bool),
    Num(OrdF64),
    Str(Box<str>),
}

impl IndexKey {
    /// The key of a value, if the value is indexable (a primitive other than null).
    pub fn of(value: &Value) -> Option<IndexKey> {
        match value {
            Value::Bool(b) => Some(IndexKey::Bool(*b)),
            Value::Str(s) => Some(IndexKey::Str(s.clone())),
            v if v.is_number() => v
                .as_f64()
                .filter(|f| !f.is_nan())
                .map(|f| IndexKey::Num(OrdF64(f))),
            _ => None,
        }
    }

    /// Whether two keys are of the same kind (comparable).
    pub fn same_kind(&self, other: &IndexKey) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    fn kind_bounds(&self) -> (IndexKey, Option<IndexKey>) {
        match self {
            IndexKey::Bool(_) => (
                IndexKey::Bool(false),
                Some(IndexKey::Num(OrdF64(f64::NEG_INFINITY))),
            ),
            IndexKey::Num(_) => (
                IndexKey::Num(OrdF64(f64::NEG_INFINITY)),
                Some(IndexKey::Str("".into())),
            ),
            IndexKey::Str(_) => (IndexKey::Str("".into()), None),
        }
    }
}

/// Indexes of the configured properties.
#[derive(Debug, Clone, Default)]
pub struct PropertyIndex {
    names: Vec<String>,
    maps: Vec<BTreeMap<IndexKey, Vec<u32>>>,
}

impl PropertyIndex {
    pub fn new(properties: &[String]) -> Self {
        let mut names: Vec<String> = properties.to_vec();
        names.sort();
        names.dedup();
        let maps = names.iter().map(|_| BTreeMap::new()).collect();
        PropertyIndex { names, maps }
    }

    pub fn properties(&self) -> &[String] {
        &self.names
    }

    fn position(&self, property: &str) -> Option<usize> {
        self.names
            .binary_search_by(|n| n.as_str().cmp(property))
            .ok()
    }

    pub fn is_indexed(&self, property: &str) -> bool {
        self.position(property).is_some()
    }

    /// The indexed keys of the twin at `slot`.
    pub fn keys_of(&self, graph: &TwinGraph, slot: u32) -> Vec<(usize, IndexKey)> {
        let Some(twin) = graph.twin_at(slot) else {
            return Vec::new();
        };
        let syms = graph.symbols();
        self.names
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                let sym = syms.get(name)?;
                IndexKey::of(twin.member(sym)?).map(|k| (i, k))
            })
            .collect()
    }

    /// Replaces the entries of `slot`: `before` are its old keys, the new ones
    /// are read from the graph (none when the twin is gone).
    pub fn update(&mut self, graph: &TwinGraph, slot: u32, before: &[(usize, IndexKey)]) {
        let after = self.keys_of(graph, slot);
        for (i, key) in before {
            if after.iter().any(|(j, k)| j == i && k == key) {
                continue;
            }
            if let Some(list) = self.maps.get_mut(*i).and_then(|m| m.get_mut(key))
                && let Ok(pos) = list.binary_search(&slot)
            {
                list.remove(pos);
                if list.is_empty() {
                    self.maps[*i].remove(key);
                }
            }
        }
        for (i, key) in after {
            if before.iter().any(|(j, k)| *j == i && *k == key) {
                continue;
            }
            if let Some(map) = self.maps.get_mut(i) {
                let list = map.entry(key).or_default();
                if let Err(pos) = list.binary_search(&slot) {
                    list.insert(pos, slot);
                }
            }
        }
    }

    /// Rebuilds every index from the graph.
    pub fn rebuild(&mut self, graph: &TwinGraph) {
        for m in &mut self.maps {
            m.clear();
        }
        let slots: Vec<u32> = graph.twins().map(|(s, _)| s).collect();
        for slot in slots {
            for (i, key) in self.keys_of(graph, slot) {
                if let Some(map) = self.maps.get_mut(i) {
                    map.entry(key).or_default().push(slot);
                }
            }
        }
    }

    /// Slots whose `property` equals `key`, ascending.
    pub fn equal(&self, property: &str, key: &IndexKey) -> Option<Vec<u32>> {
        let map = self.maps.get(self.position(property)?)?;
        Some(map.get(key).cloned().unwrap_or_default())
    }

    /// Slots from `from` on whose `property` lies between the bounds (same
    /// kind as the bound given), ascending.
    pub fn range(
        &self,
        property: &str,
        lo: Bound<&IndexKey>,
        hi: Bound<&IndexKey>,
        from: u32,
    ) -> Option<Vec<u32>> {
        let map = self.maps.get(self.position(property)?)?;
        let kind = match (&lo, &hi) {
            (Bound::Included(k) | Bound::Excluded(k), _)
            | (_, Bound::Included(k) | Bound::Excluded(k)) => (*k).clone(),
            _ => return None,
        };
        // Restrict to keys of the bound's kind.
        let (kind_lo, kind_hi) = kind.kind_bounds();
        let lo = match lo {
            Bound::Unbounded => Bound::Included(kind_lo),
            Bound::Included(k) => Bound::Included(k.clone()),
            Bound::Excluded(k) => Bound::Excluded(k.clone()),
        };
        let hi = match (hi, kind_hi) {
            (Bound::Unbounded, Some(k)) => Bound::Excluded(k),
            (Bound::Unbounded, None) => Bound::Unbounded,
            (Bound::Included(k), _) => Bound::Included(k.clone()),
            (Bound::Excluded(k), _) => Bound::Excluded(k.clone()),
        };
        // BTreeMap::range panics on an inverted range, or an empty one with two
        // excluded bounds.
        if let (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) =
            (&lo, &hi)
            && (a > b
                || (a == b
                    && !(matches!(lo, Bound::Included(_)) && matches!(hi, Bound::Included(_)))))
        {
            return Some(Vec::new());
        }
        let mut out: Vec<u32> = map
            .range((lo, hi))
            .flat_map(|(_, v)| v[v.partition_point(|s| *s < from)..].iter().copied())
            .collect();
        out.sort_unstable();
        Some(out)
    }
}
