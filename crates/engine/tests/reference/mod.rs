//! A naive reference evaluator of ADT queries, for property tests of the
//! engine.
//!
//! It evaluates a parsed [`Query`] by brute force over plain ADT JSON
//! documents: every twin for every twin binding, every relationship for
//! every relationship binding, every path of a MATCH pattern enumerated
//! walk by walk, and WHERE evaluated on each full row. Nothing is indexed,
//! planned or ordered; rows come back as a multiset.
//!
//! The semantic choices (each one also made by the engine, see
//! `crates/engine/src/exec.rs`):
//! - Property paths are JSON paths into the ADT document of the twin
//!   (`$dtId`, `$etag`, `$metadata.…`, properties, components) or of the
//!   relationship (`$relationshipId`, `$sourceId`, `$targetId`,
//!   `$relationshipName`, `$etag`, properties). A missing member is undefined.
//! - WHERE is three-valued: true, false or undefined. A comparison is
//!   undefined when an operand is undefined, when the operands are of
//!   different JSON kinds, or when one is a whole document (a twin, a
//!   relationship, a `$metadata` object). `=`/`!=` compare numbers by value
//!   (`1 = 1.0`), strings, booleans, `null`s, arrays and objects by content
//!   (a component's own `$metadata` aside); `<`, `<=`, `>`, `>=` are defined
//!   for two numbers or two strings (ordinal) only. AND/OR/NOT follow
//!   Kleene's logic; a row is returned only when WHERE is true.
//! - `IN`/`NIN`: undefined when the value is; otherwise whether some list
//!   constant equals it (`=` above, where a kind mismatch is simply "not
//!   equal"), negated for `NIN`.
//! - Functions always return true or false (ADT's function reference:
//!   "Returns a Boolean value"): the type checks, `IS_OF_MODEL` (the model
//!   or, unless `exact`, any model that extends it, directly or not),
//!   `STARTSWITH`/`ENDSWITH`/`CONTAINS` (false unless both are strings),
//!   `ARRAY_CONTAINS` (top-level elements only).
//! - JOIN: inner join, one row per relationship of that name going out of
//!   the source twin (two such relationships to the same target are two
//!   rows).
//! - MATCH: a single-hop condition binds one relationship; a condition of
//!   `min..=max` hops binds, once each, the twins whose shortest distance
//!   from the twin it starts at (over the allowed names and direction) is
//!   in `min..=max`; never the starting twin itself. ADT: "cyclic
//!   relationships are automatically detected, so that a relationship is
//!   traversed only once" and "MATCH queries that traverse the same twin
//!   multiple times may unexpectedly remove this twin from results": a
//!   traversal that visits each twin once. Rows are the distinct assignments
//!   of all pattern nodes (named or not) and relationship variables; the
//!   same twin may stand at two nodes.
//! - SELECT: `*` is the one collection's document; a projection is the
//!   JSON value at its path, left out of the row when undefined; `COUNT()`
//!   is `{"COUNT": rows}`; `TOP(n)` keeps n rows (which ones is not
//!   specified).

#![allow(dead_code)]

use serde_json::{Map, Value as Json};
use std::cmp::Ordering;
use twinscape_query::ast::{
    BindingKind, Call, CompareOp, Direction, Expr, ExprKind, FromClause, LiteralValue, MatchEdge,
    Operand, PropertyPath, Query, SelectItems, StringOp, TypeCheck,
};

/// The data the reference sees: ADT documents and model inheritance.
pub struct RefData {
    pub twins: Vec<Json>,
    pub rels: Vec<Json>,
    /// `(model, models it extends directly)`.
    pub extends: Vec<(String, Vec<String>)>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Slot {
    None,
    Twin(usize),
    Rel(usize),
}

/// A value during evaluation.
enum V<'a> {
    Undefined,
    /// A whole twin or relationship, or a `$metadata` object: not comparable.
    Doc(&'a Json),
    Json(&'a Json),
}

impl RefData {
    fn twin_id(&self, i: usize) -> &str {
        self.twins[i]["$dtId"].as_str().unwrap_or("")
    }

    fn twin_index(&self, id: &str) -> Option<usize> {
        self.twins.iter().position(|t| t["$dtId"] == id)
    }

    /// Whether `model` is `base` or extends it.
    fn extends_model(&self, model: &str, base: &str) -> bool {
        if model == base {
            return true;
        }
        self.extends
            .iter()
            .filter(|(m, _)| m == model)
            .flat_map(|(_, parents)| parents)
            .any(|p| self.extends_model(p, base))
    }

    /// Every result row of the query, in no particular order (`TOP` not
    /// applied: see [`RefData::top`]).
    pub fn rows(&self, q: &Query) -> Vec<Vec<Slot>> {
        let n = q.bindings.len();
        let mut rows: Vec<Vec<Slot>> = Vec::new();
        match &q.from {
            FromClause::Relationships { binding, .. } => {
                for r in 0..self.rels.len() {
                    let mut row = vec![Slot::None; n];
                    row[binding.0] = Slot::Rel(r);
                    rows.push(row);
                }
            }
            FromClause::Twins { binding, joins, .. } => {
                for t in 0..self.twins.len() {
                    let mut row = vec![Slot::None; n];
                    row[binding.0] = Slot::Twin(t);
                    rows.push(row);
                }
                for j in joins {
                    let mut next = Vec::new();
                    for row in &rows {
                        let Slot::Twin(src) = row[j.source_binding.0] else {
                            continue;
                        };
                        for (ri, rel) in self.rels.iter().enumerate() {
                            if rel["$sourceId"] != self.twin_id(src)
                                || rel["$relationshipName"] != j.relationship.as_str()
                            {
                                continue;
                            }
                            let Some(target) =
                                rel["$targetId"].as_str().and_then(|id| self.twin_index(id))
                            else {
                                continue;
                            };
                            let mut r = row.clone();
                            r[j.target_binding.0] = Slot::Twin(target);
                            if let Some(rb) = j.relationship_binding {
                                r[rb.0] = Slot::Rel(ri);
                            }
                            next.push(r);
                        }
                    }
                    rows = next;
                }
            }
            FromClause::Match { pattern, .. } => {
                for t in 0..self.twins.len() {
                    let mut row = vec![Slot::None; n];
                    row[pattern.start.binding.0] = Slot::Twin(t);
                    rows.push(row);
                }
                let mut prev = pattern.start.binding;
                for step in &pattern.steps {
                    let mut next = Vec::new();
                    for row in &rows {
                        let Slot::Twin(from) = row[prev.0] else {
                            continue;
                        };
                        for (to, rel) in self.follow(from, &step.edge) {
                            let mut r = row.clone();
                            r[step.node.binding.0] = Slot::Twin(to);
                            if let (Some(rb), Some(rel)) = (step.edge.binding, rel) {
                                r[rb.0] = Slot::Rel(rel);
                            }
                            next.push(r);
                        }
                    }
                    rows = next;
                    prev = step.node.binding;
                }
                // Distinct assignments.
                let mut distinct: Vec<Vec<Slot>> = Vec::new();
                for r in rows {
                    if !distinct.contains(&r) {
                        distinct.push(r);
                    }
                }
                rows = distinct;
            }
        }
        rows.retain(|row| match &q.where_clause {
            None => true,
            Some(w) => self.eval(q, row, w) == Some(true),
        });
        rows
    }

    /// Relationships usable by `edge` from twin `from` (direction as
    /// written, left to right): `(twin reached, relationship)`.
    fn one_step(&self, from: usize, edge: &MatchEdge) -> Vec<(usize, usize)> {
        let id = self.twin_id(from);
        let mut out = Vec::new();
        for (ri, rel) in self.rels.iter().enumerate() {
            let name_ok = edge.names.is_empty()
                || edge
                    .names
                    .iter()
                    .any(|n| rel["$relationshipName"] == n.as_str());
            if !name_ok {
                continue;
            }
            let (s, t) = (
                rel["$sourceId"].as_str().unwrap_or(""),
                rel["$targetId"].as_str().unwrap_or(""),
            );
            let forward = matches!(edge.direction, Direction::LeftToRight | Direction::Any);
            let backward = matches!(edge.direction, Direction::RightToLeft | Direction::Any);
            if forward
                && s == id
                && let Some(ti) = self.twin_index(t)
            {
                out.push((ti, ri));
            }
            if backward
                && t == id
                && let Some(si) = self.twin_index(s)
            {
                out.push((si, ri));
            }
        }
        out
    }

    /// Twins reached from `from` over `edge`: with the relationship for a
    /// single hop; else each twin at the end of some walk of `min..=max`
    /// relationships, once.
    fn follow(&self, from: usize, edge: &MatchEdge) -> Vec<(usize, Option<usize>)> {
        if edge.hops.min == 1 && edge.hops.max == 1 {
            return self
                .one_step(from, edge)
                .into_iter()
                .map(|(t, r)| (t, Some(r)))
                .collect();
        }
        // The length of the shortest walk to each twin, from every walk of
        // at most `max` relationships.
        let mut dist: Vec<Option<u32>> = vec![None; self.twins.len()];
        fn walk(data: &RefData, at: usize, depth: u32, edge: &MatchEdge, dist: &mut [Option<u32>]) {
            if dist[at].is_none_or(|d| depth < d) {
                dist[at] = Some(depth);
            }
            if depth == edge.hops.max {
                return;
            }
            for (t, _) in data.one_step(at, edge) {
                walk(data, t, depth + 1, edge, dist);
            }
        }
        walk(self, from, 0, edge, &mut dist);
        let reached: Vec<usize> = (0..self.twins.len())
            .filter(|t| *t != from)
            .filter(|t| dist[*t].is_some_and(|d| d >= edge.hops.min))
            .collect();
        reached.into_iter().map(|t| (t, None)).collect()
    }

    fn value<'a>(&'a self, q: &Query, row: &[Slot], p: &PropertyPath) -> V<'a> {
        let doc = match row[p.binding.0] {
            Slot::Twin(t) => &self.twins[t],
            Slot::Rel(r) => &self.rels[r],
            Slot::None => return V::Undefined,
        };
        let _ = q;
        if p.segments.is_empty() {
            return V::Doc(doc);
        }
        match p.lookup(doc) {
            None => V::Undefined,
            // `$metadata` objects (of the twin or of a component, whole or
            // for one property) are documents, not values.
            Some(v) if v.is_object() && p.segment_names().any(|s| s == "$metadata") => V::Doc(v),
            Some(v) => V::Json(v),
        }
    }

    fn operand<'a>(&'a self, q: &Query, row: &[Slot], o: &'a Operand) -> Option<Json> {
        match o {
            Operand::Literal(l) => Some(l.value.to_json()),
            Operand::Path(p) => match self.value(q, row, p) {
                V::Json(v) => Some(v.clone()),
                _ => None,
            },
        }
    }

    fn eval(&self, q: &Query, row: &[Slot], e: &Expr) -> Option<bool> {
        match &e.kind {
            ExprKind::And(items) => {
                let vals: Vec<Option<bool>> = items.iter().map(|i| self.eval(q, row, i)).collect();
                if vals.contains(&Some(false)) {
                    Some(false)
                } else if vals.contains(&None) {
                    None
                } else {
                    Some(true)
                }
            }
            ExprKind::Or(items) => {
                let vals: Vec<Option<bool>> = items.iter().map(|i| self.eval(q, row, i)).collect();
                if vals.contains(&Some(true)) {
                    Some(true)
                } else if vals.contains(&None) {
                    None
                } else {
                    Some(false)
                }
            }
            ExprKind::Not(inner) => self.eval(q, row, inner).map(|b| !b),
            ExprKind::Compare { left, op, right } => {
                let l = self.operand(q, row, left)?;
                let r = self.operand(q, row, right)?;
                compare(&l, *op, &r)
            }
            ExprKind::In {
                value,
                list,
                negated,
            } => {
                let v = self.operand(q, row, value)?;
                let found = list
                    .iter()
                    .any(|l| compare(&v, CompareOp::Eq, &l.value.to_json()) == Some(true));
                Some(found != *negated)
            }
            ExprKind::Call(call) => Some(match call {
                Call::IsOfModel {
                    binding,
                    model,
                    exact,
                    ..
                } => match row[binding.0] {
                    Slot::Twin(t) => {
                        let m = self.twins[t]["$metadata"]["$model"].as_str().unwrap_or("");
                        if *exact {
                            m == model
                        } else {
                            self.extends_model(m, model)
                        }
                    }
                    _ => false,
                },
                Call::TypeCheck { check, arg } => {
                    let v = self.value(q, row, arg);
                    match (check, v) {
                        (TypeCheck::Defined, V::Undefined) => false,
                        (TypeCheck::Defined, _) => true,
                        (_, V::Undefined) => false,
                        (TypeCheck::Object, V::Doc(_)) => true,
                        (_, V::Doc(_)) => false,
                        (check, V::Json(v)) => match check {
                            TypeCheck::Defined => true,
                            TypeCheck::Null => v.is_null(),
                            TypeCheck::Bool => v.is_boolean(),
                            TypeCheck::Number => v.is_number(),
                            TypeCheck::String => v.is_string(),
                            TypeCheck::Primitive => !(v.is_object() || v.is_array()),
                            TypeCheck::Object => v.is_object(),
                        },
                    }
                }
                Call::StringMatch {
                    op,
                    target,
                    pattern,
                } => {
                    let t = match self.value(q, row, target) {
                        V::Json(Json::String(s)) => Some(s.clone()),
                        _ => None,
                    };
                    let p = match self.operand(q, row, pattern) {
                        Some(Json::String(s)) => Some(s),
                        _ => None,
                    };
                    match (t, p) {
                        (Some(t), Some(p)) => match op {
                            StringOp::StartsWith => t.starts_with(&p),
                            StringOp::EndsWith => t.ends_with(&p),
                            StringOp::Contains => t.contains(&p),
                        },
                        _ => false,
                    }
                }
                Call::ArrayContains { array, value } => match self.value(q, row, array) {
                    V::Json(Json::Array(items)) => items
                        .iter()
                        .any(|i| compare(i, CompareOp::Eq, &value.value.to_json()) == Some(true)),
                    _ => false,
                },
            }),
        }
    }

    /// The result rows as JSON, `TOP` not applied.
    pub fn results(&self, q: &Query) -> Vec<Json> {
        let rows = self.rows(q);
        match &q.select.items {
            SelectItems::Count { .. } => {
                let mut m = Map::new();
                m.insert("COUNT".into(), Json::from(rows.len()));
                vec![Json::Object(m)]
            }
            SelectItems::All { .. } => {
                let b = match &q.from {
                    FromClause::Twins { binding, .. }
                    | FromClause::Relationships { binding, .. } => binding.0,
                    FromClause::Match { pattern, .. } => pattern.start.binding.0,
                };
                rows.iter().map(|r| self.slot_doc(r[b])).collect()
            }
            SelectItems::Projections(ps) => rows
                .iter()
                .map(|row| {
                    let mut m = Map::new();
                    for p in ps {
                        let v = match self.value(q, row, &p.path) {
                            V::Undefined => continue,
                            V::Doc(d) | V::Json(d) => d.clone(),
                        };
                        m.insert(p.output_name.clone(), v);
                    }
                    Json::Object(m)
                })
                .collect(),
        }
    }

    fn slot_doc(&self, s: Slot) -> Json {
        match s {
            Slot::Twin(t) => self.twins[t].clone(),
            Slot::Rel(r) => self.rels[r].clone(),
            Slot::None => Json::Null,
        }
    }

    /// Whether the query's binding kinds are what the reference expects.
    pub fn binding_kind(q: &Query, b: usize) -> Option<BindingKind> {
        q.bindings.get(b).map(|b| b.kind)
    }
}

/// `l op r` with ADT's typing: `None` when undefined.
pub fn compare(l: &Json, op: CompareOp, r: &Json) -> Option<bool> {
    let ord: Option<Ordering> = match (l, r) {
        (Json::Number(a), Json::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
        },
        (Json::String(a), Json::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match op {
        CompareOp::Eq | CompareOp::Ne => {
            let eq = match (l, r) {
                (Json::Null, Json::Null) => true,
                (Json::Bool(a), Json::Bool(b)) => a == b,
                (Json::Number(_), Json::Number(_)) | (Json::String(_), Json::String(_)) => {
                    ord? == Ordering::Equal
                }
                (Json::Array(_), Json::Array(_)) | (Json::Object(_), Json::Object(_)) => {
                    deep_eq(l, r)
                }
                _ => return None,
            };
            Some(if op == CompareOp::Eq { eq } else { !eq })
        }
        CompareOp::Lt => ord.map(|o| o == Ordering::Less),
        CompareOp::Le => ord.map(|o| o != Ordering::Greater),
        CompareOp::Gt => ord.map(|o| o == Ordering::Greater),
        CompareOp::Ge => ord.map(|o| o != Ordering::Less),
    }
}

/// Equality by content: numbers by value, object members in any order,
/// members starting with `$` (a component's `$metadata`) ignored.
fn deep_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| deep_eq(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            let xs: Vec<_> = x.iter().filter(|(k, _)| !k.starts_with('$')).collect();
            let ys: Vec<_> = y.iter().filter(|(k, _)| !k.starts_with('$')).collect();
            xs.len() == ys.len()
                && xs
                    .iter()
                    .all(|(k, v)| y.get(k.as_str()).is_some_and(|w| deep_eq(v, w)))
        }
        _ => compare(a, CompareOp::Eq, b) == Some(true),
    }
}

/// The literal's JSON value.
pub fn literal(l: &LiteralValue) -> Json {
    l.to_json()
}
