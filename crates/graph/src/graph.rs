//! The twin graph: storage of twins and relationships, indexes, and the
//! mutations with ADT's semantics.

use crate::change::{Change, ChangeKind};
use crate::error::GraphError;
use crate::etag::{Etag, Precondition};
use crate::models::{ModelUnusable, Models};
use crate::timestamp::Timestamp;
use crate::twin::{MemberMeta, PropMeta, Relationship, Twin};
use crate::value::{Sym, Symbols, Value};
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use json_patch::{PatchErrorKind, PatchOperation};
use serde_json::{Map, Value as Json};
use std::hash::BuildHasher;

mod bulk;
mod replica;

/// Longest twin or relationship id, in bytes (store keys stay well under
/// the store's limit, and ids stay readable).
pub const MAX_ID_BYTES: usize = 1024;

#[derive(Debug, Default, Clone)]
struct Adjacency {
    out: Vec<u32>,
    inc: Vec<u32>,
}

/// Twins and relationships, indexed by id and by model.
///
/// Every mutation is atomic: it either returns a [`Change`] and is applied in
/// full, or returns an error and changes nothing.
#[derive(Debug, Clone)]
pub struct TwinGraph {
    syms: Symbols,
    twins: Vec<Option<Twin>>,
    free_twins: Vec<u32>,
    ids: HashTable<u32>,
    hasher: DefaultHashBuilder,
    adj: Vec<Adjacency>,
    rels: Vec<Option<Relationship>>,
    free_rels: Vec<u32>,
    /// Slots of the twins of each model, ascending.
    by_model: HashMap<Sym, Vec<u32>>,
    twin_count: usize,
    rel_count: usize,
    seq: u64,
    etag_seed: u64,
    etag_counter: u64,
}

impl Default for TwinGraph {
    fn default() -> Self {
        Self::new(0x5eed)
    }
}

/// What a mutation needs besides its arguments.
pub struct Ctx<'a> {
    pub models: &'a dyn Models,
    pub now: Timestamp,
}

impl TwinGraph {
    /// An empty graph. `etag_seed` makes ETags differ between graphs (pass
    /// something random on the server).
    pub fn new(etag_seed: u64) -> Self {
        TwinGraph {
            syms: Symbols::default(),
            twins: Vec::new(),
            free_twins: Vec::new(),
            ids: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            adj: Vec::new(),
            rels: Vec::new(),
            free_rels: Vec::new(),
            by_model: HashMap::new(),
            twin_count: 0,
            rel_count: 0,
            seq: 0,
            etag_seed,
            etag_counter: 0,
        }
    }

    // ----- reading -------------------------------------------------------

    pub fn symbols(&self) -> &Symbols {
        &self.syms
    }

    pub fn twin_count(&self) -> usize {
        self.twin_count
    }

    pub fn relationship_count(&self) -> usize {
        self.rel_count
    }

    /// The sequence number of the last change.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Continue numbering changes after `seq` (after loading a stored graph).
    pub fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }

    /// The slot of the twin `id`.
    pub fn slot_of(&self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        self.ids
            .find(hash, |&s| {
                self.twins
                    .get(s as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|t| &*t.id == id)
            })
            .copied()
    }

    pub fn twin(&self, id: &str) -> Option<&Twin> {
        self.slot_of(id).and_then(|s| self.twin_at(s))
    }

    pub fn twin_at(&self, slot: u32) -> Option<&Twin> {
        self.twins.get(slot as usize).and_then(Option::as_ref)
    }

    /// The twin in ADT's JSON form.
    pub fn twin_json(&self, id: &str) -> Option<Json> {
        self.twin(id).map(|t| t.to_json(&self.syms))
    }

    /// All twins with their slots, in slot order.
    pub fn twins(&self) -> impl Iterator<Item = (u32, &Twin)> {
        self.twins
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.as_ref().map(|t| (i as u32, t)))
    }

    /// Slots of the twins whose model is exactly `model`, ascending.
    pub fn twins_of_model(&self, model: &str) -> &[u32] {
        self.syms
            .get(model)
            .and_then(|m| self.by_model.get(&m))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Every model some twin uses, with those twins' slots (ascending).
    pub fn models_in_use(&self) -> impl Iterator<Item = (&str, &[u32])> {
        self.by_model
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(m, v)| (self.syms.name(*m), v.as_slice()))
    }

    pub fn relationship_at(&self, slot: u32) -> Option<&Relationship> {
        self.rels.get(slot as usize).and_then(Option::as_ref)
    }

    /// All relationships, in slot order.
    pub fn relationships(&self) -> impl Iterator<Item = &Relationship> {
        self.rels.iter().filter_map(Option::as_ref)
    }

    /// Twins from slot `from` on, in slot order (for reading in chunks:
    /// starting costs nothing, whatever `from` is).
    pub fn twins_from(&self, from: u32) -> impl Iterator<Item = (u32, &Twin)> {
        self.twins
            .iter()
            .enumerate()
            .skip(from as usize)
            .filter_map(|(i, t)| t.as_ref().map(|t| (i as u32, t)))
    }

    /// Relationships from slot `from` on, in slot order, with their slots.
    pub fn relationships_from(&self, from: u32) -> impl Iterator<Item = (u32, &Relationship)> {
        self.rels
            .iter()
            .enumerate()
            .skip(from as usize)
            .filter_map(|(i, r)| r.as_ref().map(|r| (i as u32, r)))
    }

    /// All relationships with their slots, in slot order.
    pub fn relationships_with_slots(&self) -> impl Iterator<Item = (u32, &Relationship)> {
        self.rels
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().map(|r| (i as u32, r)))
    }

    /// Slots of the relationships whose source is the twin at `slot`.
    pub fn outgoing_slots(&self, slot: u32) -> &[u32] {
        self.adj
            .get(slot as usize)
            .map(|a| a.out.as_slice())
            .unwrap_or(&[])
    }

    /// Slots of the relationships whose target is the twin at `slot`.
    pub fn incoming_slots(&self, slot: u32) -> &[u32] {
        self.adj
            .get(slot as usize)
            .map(|a| a.inc.as_slice())
            .unwrap_or(&[])
    }

    /// Relationships whose source is the twin at `slot`.
    pub fn outgoing(&self, slot: u32) -> impl Iterator<Item = &Relationship> {
        self.adj
            .get(slot as usize)
            .map(|a| a.out.as_slice())
            .unwrap_or(&[])
            .iter()
            .filter_map(|r| self.relationship_at(*r))
    }

    /// Relationships whose target is the twin at `slot`.
    pub fn incoming(&self, slot: u32) -> impl Iterator<Item = &Relationship> {
        self.adj
            .get(slot as usize)
            .map(|a| a.inc.as_slice())
            .unwrap_or(&[])
            .iter()
            .filter_map(|r| self.relationship_at(*r))
    }

    fn find_relationship(&self, source: u32, rel_id: &str) -> Option<u32> {
        self.adj
            .get(source as usize)?
            .out
            .iter()
            .copied()
            .find(|r| {
                self.relationship_at(*r)
                    .is_some_and(|rel| &*rel.id == rel_id)
            })
    }

    pub fn relationship(&self, source_id: &str, rel_id: &str) -> Option<&Relationship> {
        let s = self.slot_of(source_id)?;
        self.find_relationship(s, rel_id)
            .and_then(|r| self.relationship_at(r))
    }

    /// A relationship in ADT's JSON form.
    pub fn relationship_json(&self, rel: &Relationship) -> Json {
        let sid = self.twin_at(rel.source).map(|t| &*t.id).unwrap_or("");
        let tid = self.twin_at(rel.target).map(|t| &*t.id).unwrap_or("");
        rel.to_json(sid, tid, &self.syms)
    }

    // ----- internals -----------------------------------------------------

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn new_etag(&mut self) -> Etag {
        self.etag_counter += 1;
        Etag::generate(self.etag_seed, self.etag_counter)
    }

    fn insert_twin(&mut self, twin: Twin) -> u32 {
        let model = twin.model;
        let hash = self.hasher.hash_one(&*twin.id);
        let slot = match self.free_twins.pop() {
            Some(s) => {
                self.twins[s as usize] = Some(twin);
                self.adj[s as usize] = Adjacency::default();
                s
            }
            None => {
                self.twins.push(Some(twin));
                self.adj.push(Adjacency::default());
                (self.twins.len() - 1) as u32
            }
        };
        let twins = &self.twins;
        let hasher = &self.hasher;
        self.ids.insert_unique(hash, slot, |&s| {
            hasher.hash_one(
                twins
                    .get(s as usize)
                    .and_then(Option::as_ref)
                    .map(|t| &*t.id)
                    .unwrap_or(""),
            )
        });
        let list = self.by_model.entry(model).or_default();
        if let Err(pos) = list.binary_search(&slot) {
            list.insert(pos, slot);
        }
        self.twin_count += 1;
        slot
    }

    fn remove_from_model_index(&mut self, model: Sym, slot: u32) {
        if let Some(list) = self.by_model.get_mut(&model)
            && let Ok(pos) = list.binary_search(&slot)
        {
            list.remove(pos);
        }
    }

    fn add_to_model_index(&mut self, model: Sym, slot: u32) {
        let list = self.by_model.entry(model).or_default();
        if let Err(pos) = list.binary_search(&slot) {
            list.insert(pos, slot);
        }
    }

    fn insert_relationship(&mut self, rel: Relationship) -> u32 {
        let (source, target) = (rel.source, rel.target);
        let slot = match self.free_rels.pop() {
            Some(s) => {
                self.rels[s as usize] = Some(rel);
                s
            }
            None => {
                self.rels.push(Some(rel));
                (self.rels.len() - 1) as u32
            }
        };
        if let Some(a) = self.adj.get_mut(source as usize) {
            a.out.push(slot);
        }
        if let Some(a) = self.adj.get_mut(target as usize) {
            a.inc.push(slot);
        }
        self.rel_count += 1;
        slot
    }

    fn remove_relationship_slot(&mut self, slot: u32) -> Option<Relationship> {
        let rel = self.rels.get_mut(slot as usize)?.take()?;
        if let Some(a) = self.adj.get_mut(rel.source as usize) {
            a.out.retain(|r| *r != slot);
        }
        if let Some(a) = self.adj.get_mut(rel.target as usize) {
            a.inc.retain(|r| *r != slot);
        }
        self.free_rels.push(slot);
        self.rel_count -= 1;
        Some(rel)
    }

    // ----- twins ---------------------------------------------------------

    /// `PUT /digitaltwins/{id}`: creates the twin, or replaces it.
    pub fn create_or_replace_twin(
        &mut self,
        ctx: &Ctx<'_>,
        id: &str,
        doc: &Json,
        pre: &Precondition,
    ) -> Result<Change, GraphError> {
        let (twin, existing, model) = self.prepare_twin(ctx, id, doc, pre)?;
        let (model_sym, etag) = (twin.model, twin.etag);
        match existing {
            Some(slot) => {
                let before = self.twin_at(slot).cloned();
                let (before_json, before_etag, before_model) = match &before {
                    Some(b) => (Json::Object(b.content_json(&self.syms)), b.etag, b.model),
                    None => (Json::Object(Map::new()), etag, model_sym),
                };
                let after_json = Json::Object(twin.content_json(&self.syms));
                let patch = serde_json::to_value(json_patch::diff(&before_json, &after_json))
                    .unwrap_or(Json::Array(vec![]));
                let twin_doc = twin.to_json(&self.syms);
                if before_model != model_sym {
                    self.remove_from_model_index(before_model, slot);
                    self.add_to_model_index(model_sym, slot);
                }
                self.twins[slot as usize] = Some(twin);
                Ok(Change {
                    seq: self.next_seq(),
                    kind: ChangeKind::TwinUpdated {
                        id: id.to_string(),
                        model_id: model,
                        patch,
                        before_etag: before_etag.to_string(),
                        after_etag: etag.to_string(),
                        twin: twin_doc,
                    },
                })
            }
            None => {
                let twin_doc = twin.to_json(&self.syms);
                self.insert_twin(twin);
                Ok(Change {
                    seq: self.next_seq(),
                    kind: ChangeKind::TwinCreated {
                        id: id.to_string(),
                        twin: twin_doc,
                    },
                })
            }
        }
    }

    /// Bulk import (ADT's import jobs): creates a new twin with the same
    /// checks and DTDL validation as [`TwinGraph::create_or_replace_twin`],
    /// but fails if the twin exists and builds no [`Change`] (no event
    /// document), which makes loading a large graph several times faster.
    /// The sequence number still advances. Returns the twin's slot.
    pub fn import_twin(&mut self, ctx: &Ctx<'_>, id: &str, doc: &Json) -> Result<u32, GraphError> {
        let (twin, existing, _) = self.prepare_twin(ctx, id, doc, &Precondition::None)?;
        if existing.is_some() {
            return Err(GraphError::TwinAlreadyExists(id.to_string()));
        }
        let slot = self.insert_twin(twin);
        self.next_seq();
        Ok(slot)
    }

    /// Checks a twin document and builds the twin (not yet stored), with
    /// the slot of the twin it replaces and its model id.
    fn prepare_twin(
        &mut self,
        ctx: &Ctx<'_>,
        id: &str,
        doc: &Json,
        pre: &Precondition,
    ) -> Result<(Twin, Option<u32>, String), GraphError> {
        let obj = doc
            .as_object()
            .ok_or_else(|| GraphError::InvalidTwin("the twin must be a JSON object".into()))?;
        if id.is_empty() || id.len() > MAX_ID_BYTES {
            return Err(GraphError::InvalidTwin(format!(
                "a twin id must have 1 to {MAX_ID_BYTES} bytes; this one has {}",
                id.len()
            )));
        }
        // As in ADT, a `$dtId` (or `$etag`) in the body is ignored: the path names the twin.
        let meta = match obj.get("$metadata") {
            Some(Json::Object(m)) => m,
            Some(_) => {
                return Err(GraphError::InvalidTwin(
                    "`$metadata` must be an object".into(),
                ));
            }
            None => {
                return Err(GraphError::InvalidTwin(
                    "`$metadata.$model` is required".into(),
                ));
            }
        };
        let model = meta
            .get("$model")
            .and_then(Json::as_str)
            .ok_or_else(|| {
                GraphError::InvalidTwin(
                    "`$metadata.$model` is required and must be a string".into(),
                )
            })?
            .to_string();
        // Property metadata (source times) given in the body, if any: most
        // bodies have none, and then no lookups are needed per property.
        let prop_meta = meta.keys().any(|k| !k.starts_with('$')).then_some(meta);

        let existing = self.slot_of(id);
        let current = existing.and_then(|s| self.twin_at(s)).map(|t| t.etag);
        if !pre.holds(current) {
            return Err(precondition_failed(pre, "twin", id));
        }
        match ctx.models.usable(&model) {
            Ok(()) => {}
            Err(ModelUnusable::NotFound) => return Err(GraphError::ModelNotFound(model)),
            Err(ModelUnusable::Decommissioned) => {
                return Err(GraphError::ModelDecommissioned(model));
            }
        }
        for key in obj.keys() {
            if key.starts_with('$') && !matches!(key.as_str(), "$dtId" | "$etag" | "$metadata") {
                return Err(GraphError::InvalidTwin(format!(
                    "`{key}` is not a property a twin can set"
                )));
            }
        }
        ctx.models
            .validate_twin(&model, obj)
            .map_err(GraphError::ValidationFailed)?;

        // Build the twin: every member written now, with the source times given.
        let model_sym = self.syms.intern(&model);
        let mut members = Vec::with_capacity(obj.len());
        let mut metas = Vec::with_capacity(obj.len());
        for (key, value) in obj.iter().filter(|(k, _)| !k.starts_with('$')) {
            let sym = self.syms.intern(key);
            if ctx.models.is_component(&model, key)
                && let Json::Object(comp) = value
            {
                let comp_meta = comp.get("$metadata").and_then(Json::as_object);
                let mut props = Vec::new();
                let mut comp_members = Vec::new();
                for (k, v) in comp.iter().filter(|(k, _)| !k.starts_with('$')) {
                    let ks = self.syms.intern(k);
                    props.push((
                        ks,
                        PropMeta {
                            last_update: ctx.now,
                            source_time: source_time(comp_meta, k)?,
                        },
                    ));
                    comp_members.push((ks, Value::from_json(v, &mut self.syms)));
                }
                members.push((sym, Value::Object(comp_members.into_boxed_slice())));
                metas.push((
                    sym,
                    MemberMeta::Component {
                        last_update: ctx.now,
                        props,
                    },
                ));
            } else {
                members.push((sym, Value::from_json(value, &mut self.syms)));
                metas.push((
                    sym,
                    MemberMeta::Property(PropMeta {
                        last_update: ctx.now,
                        source_time: source_time(prop_meta, key)?,
                    }),
                ));
            }
        }
        let etag = self.new_etag();
        let twin = Twin {
            id: id.into(),
            model: model_sym,
            etag,
            last_update: ctx.now,
            members,
            meta: metas,
        };
        Ok((twin, existing, model))
    }

    /// `PATCH /digitaltwins/{id}`: applies a JSON Patch to the twin.
    pub fn update_twin(
        &mut self,
        ctx: &Ctx<'_>,
        id: &str,
        patch: &Json,
        pre: &Precondition,
    ) -> Result<Change, GraphError> {
        self.patch_twin(ctx, id, None, patch, pre)
    }

    /// `PATCH /digitaltwins/{id}/components/{component}`: a JSON Patch whose
    /// paths are relative to the component.
    pub fn update_component(
        &mut self,
        ctx: &Ctx<'_>,
        id: &str,
        component: &str,
        patch: &Json,
        pre: &Precondition,
    ) -> Result<Change, GraphError> {
        self.patch_twin(ctx, id, Some(component), patch, pre)
    }

    /// The component `component` of twin `id`, in ADT's JSON form.
    pub fn component_json(&self, id: &str, component: &str) -> Result<Json, GraphError> {
        let twin = self
            .twin(id)
            .ok_or_else(|| GraphError::TwinNotFound(id.to_string()))?;
        let not_found = || GraphError::ComponentNotFound {
            twin: id.to_string(),
            component: component.to_string(),
        };
        let sym = self.syms.get(component).ok_or_else(not_found)?;
        match twin.member_meta(sym) {
            Some(MemberMeta::Component { .. }) => {}
            _ => return Err(not_found()),
        }
        let doc = twin.to_json(&self.syms);
        doc.get(component).cloned().ok_or_else(not_found)
    }

    fn patch_twin(
        &mut self,
        ctx: &Ctx<'_>,
        id: &str,
        component: Option<&str>,
        patch: &Json,
        pre: &Precondition,
    ) -> Result<Change, GraphError> {
        let slot = self
            .slot_of(id)
            .ok_or_else(|| GraphError::TwinNotFound(id.to_string()))?;
        let twin = self
            .twin_at(slot)
            .ok_or_else(|| GraphError::TwinNotFound(id.to_string()))?;
        if !pre.holds(Some(twin.etag)) {
            return Err(precondition_failed(pre, "twin", id));
        }
        let model = self.syms.name(twin.model).to_string();
        if let Some(c) = component {
            let is_comp = self
                .syms
                .get(c)
                .and_then(|s| twin.member_meta(s))
                .is_some_and(|m| matches!(m, MemberMeta::Component { .. }))
                || ctx.models.is_component(&model, c);
            if !is_comp {
                return Err(GraphError::ComponentNotFound {
                    twin: id.to_string(),
                    component: c.to_string(),
                });
            }
        }
        let mut ops = parse_patch(patch)?;
        if let Some(c) = component {
            for op in &mut ops {
                prefix_op(op, c);
            }
        }

        // Split off `$metadata/<prop>/sourceTime` writes; refuse other system paths.
        let mut content_ops = Vec::with_capacity(ops.len());
        let mut source_times: Vec<(Vec<String>, Option<Timestamp>)> = Vec::new();
        for op in ops {
            match classify(&op)? {
                OpTarget::Content => content_ops.push(op),
                OpTarget::SourceTime(path, value) => source_times.push((path, value)),
            }
        }

        let mut doc = Json::Object(twin.content_json(&self.syms));
        json_patch::patch_unsafe(&mut doc, &content_ops).map_err(patch_error)?;
        let Json::Object(content) = doc else {
            return Err(GraphError::InvalidPatch(
                "the patch must leave the twin an object".into(),
            ));
        };
        for key in content.keys() {
            if key.starts_with('$') {
                return Err(GraphError::InvalidPatch(format!(
                    "`{key}` cannot be set by a patch"
                )));
            }
        }

        ctx.models
            .validate_twin(&model, &content)
            .map_err(GraphError::ValidationFailed)?;

        // Which members (and component members) the patch wrote.
        let touched: Vec<Vec<String>> = content_ops.iter().flat_map(op_paths).collect();
        let is_touched = |path: &[&str]| {
            touched.iter().any(|t| {
                let n = t.len().min(path.len());
                n > 0 && t[..n].iter().zip(path).all(|(a, b)| a == b)
            })
        };

        // Borrow the old twin and the symbol table as disjoint fields.
        let old = self.twins[slot as usize]
            .as_ref()
            .ok_or_else(|| GraphError::TwinNotFound(id.to_string()))?;
        let (old_id, old_model, old_etag) = (old.id.clone(), old.model, old.etag);
        let mut members = Vec::with_capacity(content.len());
        let mut metas = Vec::with_capacity(content.len());
        for (key, value) in &content {
            let sym = self.syms.intern(key);
            let old_meta = old.member_meta(sym);
            let was_component = matches!(old_meta, Some(MemberMeta::Component { .. }));
            if (was_component || ctx.models.is_component(&model, key))
                && let Json::Object(comp) = value
            {
                let old_props: &[(Sym, PropMeta)] = match old_meta {
                    Some(MemberMeta::Component { props, .. }) => props,
                    _ => &[],
                };
                let mut props = Vec::with_capacity(comp.len());
                let mut comp_members = Vec::with_capacity(comp.len());
                let mut any = false;
                for (k, v) in comp {
                    let ks = self.syms.intern(k);
                    let prev = old_props.iter().find(|(s, _)| *s == ks).map(|(_, m)| *m);
                    let m = match prev {
                        Some(p) if !is_touched(&[key, k]) => p,
                        Some(p) => {
                            any = true;
                            PropMeta {
                                last_update: ctx.now,
                                source_time: p.source_time,
                            }
                        }
                        None => {
                            any = true;
                            PropMeta {
                                last_update: ctx.now,
                                source_time: None,
                            }
                        }
                    };
                    props.push((ks, m));
                    comp_members.push((ks, Value::from_json(v, &mut self.syms)));
                }
                let last_update = match old_meta {
                    Some(MemberMeta::Component {
                        last_update,
                        props: p,
                    }) if !any && p.len() == props.len() => *last_update,
                    _ => ctx.now,
                };
                members.push((sym, Value::Object(comp_members.into_boxed_slice())));
                metas.push((sym, MemberMeta::Component { last_update, props }));
            } else {
                let m = match old_meta {
                    Some(MemberMeta::Property(p)) if !is_touched(&[key]) => *p,
                    Some(MemberMeta::Property(p)) => PropMeta {
                        last_update: ctx.now,
                        source_time: p.source_time,
                    },
                    _ => PropMeta {
                        last_update: ctx.now,
                        source_time: None,
                    },
                };
                members.push((sym, Value::from_json(value, &mut self.syms)));
                metas.push((sym, MemberMeta::Property(m)));
            }
        }

        // Source times: the property must exist after the patch.
        for (path, value) in source_times {
            let target = match path.as_slice() {
                [prop] => self.syms.get(prop).and_then(|s| {
                    metas
                        .iter_mut()
                        .find(|(k, _)| *k == s)
                        .and_then(|(_, m)| match m {
                            MemberMeta::Property(p) => Some(p),
                            MemberMeta::Component { .. } => None,
                        })
                }),
                [comp, prop] => {
                    let (cs, ps) = (self.syms.get(comp), self.syms.get(prop));
                    metas
                        .iter_mut()
                        .find(|(k, _)| Some(*k) == cs)
                        .and_then(|(_, m)| match m {
                            MemberMeta::Component { props, .. } => props
                                .iter_mut()
                                .find(|(k, _)| Some(*k) == ps)
                                .map(|(_, p)| p),
                            MemberMeta::Property(_) => None,
                        })
                }
                _ => None,
            };
            match target {
                Some(p) => p.source_time = value,
                None => {
                    return Err(GraphError::InvalidPatch(format!(
                        "cannot set the source time of `{}`: the twin has no such property",
                        path.join("/")
                    )));
                }
            }
        }

        let etag = self.new_etag();
        let new = Twin {
            id: old_id,
            model: old_model,
            etag,
            last_update: ctx.now,
            members,
            meta: metas,
        };
        let twin_doc = new.to_json(&self.syms);
        self.twins[slot as usize] = Some(new);
        Ok(Change {
            seq: self.next_seq(),
            kind: ChangeKind::TwinUpdated {
                id: id.to_string(),
                model_id: model,
                patch: patch_with_component(patch, component),
                before_etag: old_etag.to_string(),
                after_etag: etag.to_string(),
                twin: twin_doc,
            },
        })
    }

    /// `DELETE /digitaltwins/{id}`: only a twin without relationships.
    pub fn delete_twin(&mut self, id: &str, pre: &Precondition) -> Result<Change, GraphError> {
        let slot = self
            .slot_of(id)
            .ok_or_else(|| GraphError::TwinNotFound(id.to_string()))?;
        let twin = self
            .twin_at(slot)
            .ok_or_else(|| GraphError::TwinNotFound(id.to_string()))?;
        if !pre.holds(Some(twin.etag)) {
            return Err(precondition_failed(pre, "twin", id));
        }
        if self
            .adj
            .get(slot as usize)
            .is_some_and(|a| !a.out.is_empty() || !a.inc.is_empty())
        {
            return Err(GraphError::TwinHasRelationships(id.to_string()));
        }
        let doc = twin.to_json(&self.syms);
        let model = twin.model;
        let hash = self.hasher.hash_one(id);
        if let Ok(entry) = self.ids.find_entry(hash, |&s| s == slot) {
            entry.remove();
        }
        self.remove_from_model_index(model, slot);
        self.twins[slot as usize] = None;
        self.free_twins.push(slot);
        self.twin_count -= 1;
        Ok(Change {
            seq: self.next_seq(),
            kind: ChangeKind::TwinDeleted {
                id: id.to_string(),
                twin: doc,
            },
        })
    }

    // ----- relationships -------------------------------------------------

    /// `PUT /digitaltwins/{id}/relationships/{relationshipId}`.
    pub fn create_or_replace_relationship(
        &mut self,
        ctx: &Ctx<'_>,
        source_id: &str,
        rel_id: &str,
        doc: &Json,
        pre: &Precondition,
    ) -> Result<Change, GraphError> {
        let (rel, existing) = self.prepare_relationship(ctx, source_id, rel_id, doc, pre)?;
        let etag = rel.etag;
        match existing {
            Some(slot) => {
                let old = self.remove_relationship_slot(slot);
                let before_json = old
                    .as_ref()
                    .map(|o| self.relationship_json(o))
                    .unwrap_or(Json::Object(Map::new()));
                let after_json = self.relationship_json(&rel);
                let patch = serde_json::to_value(json_patch::diff(
                    &strip_etag(&before_json),
                    &strip_etag(&after_json),
                ))
                .unwrap_or(Json::Array(vec![]));
                // The source twin's model, for notifications.
                let model_id = self
                    .twin_at(rel.source)
                    .map(|t| self.syms.name(t.model).to_string())
                    .unwrap_or_default();
                self.insert_relationship(rel);
                Ok(Change {
                    seq: self.next_seq(),
                    kind: ChangeKind::RelationshipUpdated {
                        source_id: source_id.to_string(),
                        relationship_id: rel_id.to_string(),
                        model_id,
                        patch,
                        before_etag: old.map(|o| o.etag.to_string()).unwrap_or_default(),
                        after_etag: etag.to_string(),
                        relationship: after_json,
                    },
                })
            }
            None => {
                let json = self.relationship_json(&rel);
                self.insert_relationship(rel);
                Ok(Change {
                    seq: self.next_seq(),
                    kind: ChangeKind::RelationshipCreated {
                        source_id: source_id.to_string(),
                        relationship_id: rel_id.to_string(),
                        relationship: json,
                    },
                })
            }
        }
    }

    /// Bulk import: creates a new relationship with the checks and DTDL
    /// validation of [`TwinGraph::create_or_replace_relationship`], but
    /// fails if it exists and builds no [`Change`]. Returns its slot.
    pub fn import_relationship(
        &mut self,
        ctx: &Ctx<'_>,
        source_id: &str,
        rel_id: &str,
        doc: &Json,
    ) -> Result<u32, GraphError> {
        let (rel, existing) =
            self.prepare_relationship(ctx, source_id, rel_id, doc, &Precondition::None)?;
        if existing.is_some() {
            return Err(GraphError::RelationshipAlreadyExists {
                twin: source_id.to_string(),
                relationship: rel_id.to_string(),
            });
        }
        let slot = self.insert_relationship(rel);
        self.next_seq();
        Ok(slot)
    }

    /// Checks a relationship document and builds the relationship (not yet
    /// stored), with the slot of the one it replaces.
    fn prepare_relationship(
        &mut self,
        ctx: &Ctx<'_>,
        source_id: &str,
        rel_id: &str,
        doc: &Json,
        pre: &Precondition,
    ) -> Result<(Relationship, Option<u32>), GraphError> {
        let source = self
            .slot_of(source_id)
            .ok_or_else(|| GraphError::TwinNotFound(source_id.to_string()))?;
        let obj = doc.as_object().ok_or_else(|| {
            GraphError::InvalidRelationship("the relationship must be a JSON object".into())
        })?;
        if rel_id.is_empty() || rel_id.len() > MAX_ID_BYTES {
            return Err(GraphError::InvalidRelationship(format!(
                "a relationship id must have 1 to {MAX_ID_BYTES} bytes; this one has {}",
                rel_id.len()
            )));
        }
        // One pass over the body: the two required fields, refused system
        // fields (as in ADT, `$sourceId` and `$relationshipId` in the body
        // are ignored: the path wins), and whether it has properties.
        let (mut target_id, mut name, mut has_props) = (None, None, false);
        for (key, value) in obj {
            match key.as_str() {
                "$targetId" => target_id = value.as_str(),
                "$relationshipName" => name = value.as_str(),
                "$sourceId" | "$relationshipId" | "$etag" => {}
                k if k.starts_with('$') => {
                    return Err(GraphError::InvalidRelationship(format!(
                        "`{key}` is not a property a relationship can set"
                    )));
                }
                _ => has_props = true,
            }
        }
        let (Some(target_id), Some(name)) = (target_id, name) else {
            return Err(GraphError::InvalidRelationship(
                "Could not deserialize relationship create body. `$relationshipName` and `$targetId` are required strings."
                    .into(),
            ));
        };
        let target = self
            .slot_of(target_id)
            .ok_or_else(|| GraphError::TargetTwinNotFound(target_id.to_string()))?;
        let existing = self.find_relationship(source, rel_id);
        let current = existing
            .and_then(|r| self.relationship_at(r))
            .map(|r| r.etag);
        if !pre.holds(current) {
            return Err(precondition_failed(pre, "relationship", rel_id));
        }
        let props: Map<String, Json> = if has_props {
            obj.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        } else {
            Map::new()
        };
        let model_of = |slot: u32| self.twin_at(slot).map_or("", |t| self.syms.name(t.model));
        let source_model = model_of(source);
        ctx.models
            .validate_relationship(source_model, name, model_of(target), &props)
            .map_err(GraphError::ValidationFailed)?;
        let max = ctx.models.max_relationships(source_model, name);
        let name_sym = self.syms.intern(name);
        if let Some(max) = max {
            let count = self
                .outgoing(source)
                .filter(|r| {
                    r.name == name_sym
                        && existing.is_none_or(|e| self.relationship_at(e) != Some(*r))
                })
                .count();
            if count + 1 > max {
                return Err(GraphError::ValidationFailed(vec![format!(
                    "the twin {source_id} already has {count} `{name}` relationship(s); its model allows at most {max}"
                )]));
            }
        }
        let etag = self.new_etag();
        let rel = Relationship {
            id: rel_id.into(),
            source,
            target,
            name: name_sym,
            etag,
            props: props
                .iter()
                .map(|(k, v)| (self.syms.intern(k), Value::from_json(v, &mut self.syms)))
                .collect(),
        };
        Ok((rel, existing))
    }

    /// `PATCH /digitaltwins/{id}/relationships/{relationshipId}`: a JSON Patch
    /// of the relationship's own properties.
    pub fn update_relationship(
        &mut self,
        ctx: &Ctx<'_>,
        source_id: &str,
        rel_id: &str,
        patch: &Json,
        pre: &Precondition,
    ) -> Result<Change, GraphError> {
        let not_found = || GraphError::RelationshipNotFound {
            twin: source_id.to_string(),
            relationship: rel_id.to_string(),
        };
        let source = self
            .slot_of(source_id)
            .ok_or_else(|| GraphError::TwinNotFound(source_id.to_string()))?;
        let slot = self
            .find_relationship(source, rel_id)
            .ok_or_else(not_found)?;
        let rel = self.relationship_at(slot).ok_or_else(not_found)?;
        if !pre.holds(Some(rel.etag)) {
            return Err(precondition_failed(pre, "relationship", rel_id));
        }
        let ops = parse_patch(patch)?;
        for op in &ops {
            for path in op_paths(op) {
                if path.first().is_some_and(|t| t.starts_with('$')) {
                    return Err(GraphError::InvalidPatch(format!(
                        "`/{}` cannot be patched: only a relationship's own properties can",
                        path.join("/")
                    )));
                }
            }
        }
        let mut doc = Json::Object(rel.content_json(&self.syms));
        json_patch::patch_unsafe(&mut doc, &ops).map_err(patch_error)?;
        let Json::Object(props) = doc else {
            return Err(GraphError::InvalidPatch(
                "the patch must leave the relationship an object".into(),
            ));
        };
        let source_model = self
            .twin_at(rel.source)
            .map(|t| self.syms.name(t.model).to_string())
            .unwrap_or_default();
        let target_model = self
            .twin_at(rel.target)
            .map(|t| self.syms.name(t.model).to_string())
            .unwrap_or_default();
        let name = self.syms.name(rel.name).to_string();
        ctx.models
            .validate_relationship(&source_model, &name, &target_model, &props)
            .map_err(GraphError::ValidationFailed)?;
        let before_etag = rel.etag;
        let etag = self.new_etag();
        let new_props: Vec<(Sym, Value)> = props
            .iter()
            .map(|(k, v)| (self.syms.intern(k), Value::from_json(v, &mut self.syms)))
            .collect();
        let json = {
            let r = self.rels[slot as usize].as_mut().ok_or_else(not_found)?;
            r.props = new_props;
            r.etag = etag;
            let r = r.clone();
            self.relationship_json(&r)
        };
        Ok(Change {
            seq: self.next_seq(),
            kind: ChangeKind::RelationshipUpdated {
                source_id: source_id.to_string(),
                relationship_id: rel_id.to_string(),
                model_id: source_model,
                patch: patch.clone(),
                before_etag: before_etag.to_string(),
                after_etag: etag.to_string(),
                relationship: json,
            },
        })
    }

    /// `DELETE /digitaltwins/{id}/relationships/{relationshipId}`.
    pub fn delete_relationship(
        &mut self,
        source_id: &str,
        rel_id: &str,
        pre: &Precondition,
    ) -> Result<Change, GraphError> {
        let not_found = || GraphError::RelationshipNotFound {
            twin: source_id.to_string(),
            relationship: rel_id.to_string(),
        };
        let source = self
            .slot_of(source_id)
            .ok_or_else(|| GraphError::TwinNotFound(source_id.to_string()))?;
        let slot = self
            .find_relationship(source, rel_id)
            .ok_or_else(not_found)?;
        let rel = self.relationship_at(slot).ok_or_else(not_found)?;
        if !pre.holds(Some(rel.etag)) {
            return Err(precondition_failed(pre, "relationship", rel_id));
        }
        let json = self.relationship_json(rel);
        self.remove_relationship_slot(slot);
        Ok(Change {
            seq: self.next_seq(),
            kind: ChangeKind::RelationshipDeleted {
                source_id: source_id.to_string(),
                relationship_id: rel_id.to_string(),
                relationship: json,
            },
        })
    }

    // ----- loading -------------------------------------------------------

    /// Adds a twin exactly as stored (ADT JSON with `$etag` and `$metadata`),
    /// without validation. For restoring a graph at startup.
    pub fn load_twin(&mut self, models: &dyn Models, doc: &Json) -> Result<u32, GraphError> {
        self.load_twin_inner(models, doc, false)
    }

    /// Like [`TwinGraph::load_twin`], but a twin with the same id is replaced
    /// in place (its relationships stay). For replicas applying deltas.
    pub fn restore_twin(&mut self, models: &dyn Models, doc: &Json) -> Result<u32, GraphError> {
        self.load_twin_inner(models, doc, true)
    }

    fn load_twin_inner(
        &mut self,
        models: &dyn Models,
        doc: &Json,
        replace: bool,
    ) -> Result<u32, GraphError> {
        let obj = doc
            .as_object()
            .ok_or_else(|| GraphError::InvalidTwin("stored twin is not an object".into()))?;
        let id = obj
            .get("$dtId")
            .and_then(Json::as_str)
            .ok_or_else(|| GraphError::InvalidTwin("stored twin has no `$dtId`".into()))?;
        let existing = self.slot_of(id);
        if existing.is_some() && !replace {
            return Err(GraphError::TwinAlreadyExists(id.to_string()));
        }
        let meta = obj.get("$metadata").and_then(Json::as_object);
        let model = meta
            .and_then(|m| m.get("$model"))
            .and_then(Json::as_str)
            .ok_or_else(|| {
                GraphError::InvalidTwin(format!("stored twin {id} has no `$metadata.$model`"))
            })?;
        let etag = obj
            .get("$etag")
            .and_then(Json::as_str)
            .and_then(Etag::parse)
            .unwrap_or_else(|| self.new_etag());
        let last_update = meta
            .and_then(|m| m.get("$lastUpdateTime"))
            .and_then(Json::as_str)
            .and_then(Timestamp::parse)
            .unwrap_or(Timestamp(0));
        let model_sym = self.syms.intern(model);
        let mut members = Vec::new();
        let mut metas = Vec::new();
        for (key, value) in obj.iter().filter(|(k, _)| !k.starts_with('$')) {
            let sym = self.syms.intern(key);
            let comp_meta = value
                .as_object()
                .and_then(|o| o.get("$metadata"))
                .and_then(Json::as_object);
            if let (Some(cm), Json::Object(comp)) = (comp_meta.filter(|_| true), value)
                && (models.is_component(model, key) || cm.contains_key("$lastUpdateTime"))
            {
                let mut props = Vec::new();
                let mut comp_members = Vec::new();
                for (k, v) in comp.iter().filter(|(k, _)| !k.starts_with('$')) {
                    let ks = self.syms.intern(k);
                    props.push((ks, stored_prop_meta(cm.get(k), last_update)));
                    comp_members.push((ks, Value::from_json(v, &mut self.syms)));
                }
                let clu = cm
                    .get("$lastUpdateTime")
                    .and_then(Json::as_str)
                    .and_then(Timestamp::parse)
                    .unwrap_or(last_update);
                members.push((sym, Value::Object(comp_members.into_boxed_slice())));
                metas.push((
                    sym,
                    MemberMeta::Component {
                        last_update: clu,
                        props,
                    },
                ));
            } else {
                members.push((sym, Value::from_json(value, &mut self.syms)));
                metas.push((
                    sym,
                    MemberMeta::Property(stored_prop_meta(
                        meta.and_then(|m| m.get(key)),
                        last_update,
                    )),
                ));
            }
        }
        let twin = Twin {
            id: id.into(),
            model: model_sym,
            etag,
            last_update,
            members,
            meta: metas,
        };
        match existing {
            Some(slot) => {
                let old_model = self.twin_at(slot).map(|t| t.model);
                if let Some(m) = old_model.filter(|m| *m != model_sym) {
                    self.remove_from_model_index(m, slot);
                    self.add_to_model_index(model_sym, slot);
                }
                self.twins[slot as usize] = Some(twin);
                Ok(slot)
            }
            None => Ok(self.insert_twin(twin)),
        }
    }

    /// Adds a relationship exactly as stored. Its twins must be loaded first.
    pub fn load_relationship(&mut self, doc: &Json) -> Result<u32, GraphError> {
        let obj = doc.as_object().ok_or_else(|| {
            GraphError::InvalidRelationship("stored relationship is not an object".into())
        })?;
        let field = |k: &str| {
            obj.get(k).and_then(Json::as_str).ok_or_else(|| {
                GraphError::InvalidRelationship(format!("stored relationship has no `{k}`"))
            })
        };
        let (rel_id, source_id, target_id, name) = (
            field("$relationshipId")?,
            field("$sourceId")?,
            field("$targetId")?,
            field("$relationshipName")?,
        );
        let source = self
            .slot_of(source_id)
            .ok_or_else(|| GraphError::TwinNotFound(source_id.to_string()))?;
        let target = self
            .slot_of(target_id)
            .ok_or_else(|| GraphError::TwinNotFound(target_id.to_string()))?;
        if self.find_relationship(source, rel_id).is_some() {
            return Err(GraphError::RelationshipAlreadyExists {
                twin: source_id.to_string(),
                relationship: rel_id.to_string(),
            });
        }
        let etag = obj
            .get("$etag")
            .and_then(Json::as_str)
            .and_then(Etag::parse)
            .unwrap_or_else(|| self.new_etag());
        let name = self.syms.intern(name);
        let props = obj
            .iter()
            .filter(|(k, _)| !k.starts_with('$'))
            .map(|(k, v)| (self.syms.intern(k), Value::from_json(v, &mut self.syms)))
            .collect();
        Ok(self.insert_relationship(Relationship {
            id: rel_id.into(),
            source,
            target,
            name,
            etag,
            props,
        }))
    }
}

fn stored_prop_meta(m: Option<&Json>, fallback: Timestamp) -> PropMeta {
    let get = |k: &str| {
        m.and_then(|m| m.get(k))
            .and_then(Json::as_str)
            .and_then(Timestamp::parse)
    };
    PropMeta {
        last_update: get("lastUpdateTime").unwrap_or(fallback),
        source_time: get("sourceTime"),
    }
}

/// The `sourceTime` given for `prop` in a `$metadata` object, if any.
fn source_time(
    meta: Option<&Map<String, Json>>,
    prop: &str,
) -> Result<Option<Timestamp>, GraphError> {
    let Some(entry) = meta.and_then(|m| m.get(prop)) else {
        return Ok(None);
    };
    match entry.get("sourceTime") {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Timestamp::parse(s).map(Some).ok_or_else(|| {
            GraphError::InvalidTwin(format!(
                "`$metadata.{prop}.sourceTime` is not an ISO 8601 date-time: {s}"
            ))
        }),
        Some(other) => Err(GraphError::InvalidTwin(format!(
            "`$metadata.{prop}.sourceTime` must be an ISO 8601 date-time string, not {other}"
        ))),
    }
}

fn strip_etag(v: &Json) -> Json {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("$etag");
    }
    v
}

fn parse_patch(patch: &Json) -> Result<Vec<PatchOperation>, GraphError> {
    let arr = patch
        .as_array()
        .ok_or_else(|| GraphError::InvalidPatch("a JSON Patch is an array of operations".into()))?;
    let mut ops = Vec::with_capacity(arr.len());
    for (i, op) in arr.iter().enumerate() {
        let parsed: PatchOperation = serde_json::from_value(op.clone())
            .map_err(|e| GraphError::InvalidPatch(format!("operation {i}: {e}")))?;
        for path in op_paths(&parsed) {
            if path.is_empty() {
                return Err(GraphError::InvalidPatch(format!(
                    "operation {i}: the whole document cannot be the target; name a property"
                )));
            }
        }
        ops.push(parsed);
    }
    Ok(ops)
}

/// The decoded token lists of an operation's `path` (and `from`).
fn op_paths(op: &PatchOperation) -> Vec<Vec<String>> {
    let tokens = |p: &jsonptr::Pointer| {
        p.tokens()
            .map(|t| t.decoded().into_owned())
            .collect::<Vec<_>>()
    };
    match op {
        PatchOperation::Add(o) => vec![tokens(&o.path)],
        PatchOperation::Remove(o) => vec![tokens(&o.path)],
        PatchOperation::Replace(o) => vec![tokens(&o.path)],
        PatchOperation::Move(o) => vec![tokens(&o.from), tokens(&o.path)],
        PatchOperation::Copy(o) => vec![tokens(&o.path)],
        PatchOperation::Test(_) => vec![],
    }
}

fn prefix_op(op: &mut PatchOperation, component: &str) {
    let prefix = |p: &mut jsonptr::PointerBuf| p.push_front(component.to_string());
    match op {
        PatchOperation::Add(o) => prefix(&mut o.path),
        PatchOperation::Remove(o) => prefix(&mut o.path),
        PatchOperation::Replace(o) => prefix(&mut o.path),
        PatchOperation::Move(o) => {
            prefix(&mut o.from);
            prefix(&mut o.path);
        }
        PatchOperation::Copy(o) => {
            prefix(&mut o.from);
            prefix(&mut o.path);
        }
        PatchOperation::Test(o) => prefix(&mut o.path),
    }
}

fn patch_with_component(patch: &Json, component: Option<&str>) -> Json {
    let Some(c) = component else {
        return patch.clone();
    };
    let mut out = patch.clone();
    if let Some(ops) = out.as_array_mut() {
        for op in ops {
            for key in ["path", "from"] {
                if let Some(Json::String(p)) = op.get_mut(key) {
                    *p = format!("/{}{}", c.replace('~', "~0").replace('/', "~1"), p);
                }
            }
        }
    }
    out
}

enum OpTarget {
    Content,
    /// Path of the property (`[prop]` or `[component, prop]`) and the new source time.
    SourceTime(Vec<String>, Option<Timestamp>),
}

fn classify(op: &PatchOperation) -> Result<OpTarget, GraphError> {
    let system = |p: &[String]| p.iter().any(|t| t.starts_with('$'));
    let paths = op_paths(op);
    if !paths.iter().any(|p| system(p)) {
        return Ok(OpTarget::Content);
    }
    let (path, value) = match op {
        PatchOperation::Add(o) => (
            o.path
                .tokens()
                .map(|t| t.decoded().into_owned())
                .collect::<Vec<_>>(),
            Some(&o.value),
        ),
        PatchOperation::Replace(o) => (
            o.path.tokens().map(|t| t.decoded().into_owned()).collect(),
            Some(&o.value),
        ),
        PatchOperation::Remove(o) => (
            o.path.tokens().map(|t| t.decoded().into_owned()).collect(),
            None,
        ),
        _ => {
            return Err(GraphError::InvalidPatch(
                "system properties (`$…`) cannot be moved, copied or tested".into(),
            ));
        }
    };
    let prop: Vec<String> = match path.as_slice() {
        [m, p, s] if m == "$metadata" && s == "sourceTime" && !p.starts_with('$') => {
            vec![p.clone()]
        }
        [c, m, p, s]
            if m == "$metadata"
                && s == "sourceTime"
                && !c.starts_with('$')
                && !p.starts_with('$') =>
        {
            vec![c.clone(), p.clone()]
        }
        _ => {
            return Err(GraphError::InvalidPatch(format!(
                "`/{}` cannot be patched: of the system properties only `$metadata/<property>/sourceTime` can",
                path.join("/")
            )));
        }
    };
    let time = match value {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(Timestamp::parse(s).ok_or_else(|| {
            GraphError::InvalidPatch(format!(
                "sourceTime must be an ISO 8601 date-time, got {s:?}"
            ))
        })?),
        Some(other) => {
            return Err(GraphError::InvalidPatch(format!(
                "sourceTime must be an ISO 8601 date-time string, got {other}"
            )));
        }
    };
    Ok(OpTarget::SourceTime(prop, time))
}

fn patch_error(e: json_patch::PatchError) -> GraphError {
    match e.kind {
        PatchErrorKind::TestFailed => {
            GraphError::PatchTestFailed(format!("operation {} (at `{}`)", e.operation, e.path))
        }
        _ => GraphError::InvalidPatch(format!(
            "operation {} at `{}`: {}",
            e.operation, e.path, e.kind
        )),
    }
}

/// The error for a failed precondition, worded as ADT words it.
fn precondition_failed(pre: &Precondition, kind: &str, id: &str) -> GraphError {
    GraphError::PreconditionFailed(match pre {
        Precondition::NotExists => format!(
            "If-None-Match: * header was specified but a {kind} with the id {id} was found. Please specify a different {kind} id."
        ),
        Precondition::Matches(tag) => format!(
            "The provided etag {tag} doesn't match the current etag for the resource. Please obtain and provide the latest etag by getting the resource. See section on get apis in the documentation https://aka.ms/adtv2twins."
        ),
        _ => format!("If-Match: * header was specified but no {kind} with the id {id} exists."),
    })
}
