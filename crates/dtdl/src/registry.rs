//! The model registry: models added in atomic batches, their dependencies,
//! decommissioning, deletion, and their expanded form.

use crate::checks::{Lookup, check_batch};
use crate::error::{ModelError, ModelErrors, RegistryError};
use crate::metamodel::metamodel;
use crate::model::{ExpandCache, ExpandedModel, LocalizedString, expand};
use crate::parser::{Element, IdMap, ParseOptions, Parser};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// A registered model, as ADT describes one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelEntry {
    pub id: String,
    /// The model's JSON exactly as uploaded.
    pub model: Value,
    pub dtdl_version: u8,
    pub decommissioned: bool,
    pub display_name: LocalizedString,
    pub description: LocalizedString,
    /// Models this one needs: bases, component schemas, referenced schemas.
    pub dependencies: BTreeSet<String>,
}

/// Result of validating a batch without registering it.
#[derive(Debug, Clone)]
pub(crate) struct ValidatedBatch {
    pub tops: Vec<(String, Value)>,
    pub elements: IdMap<Element>,
    pub dependencies: BTreeMap<String, BTreeSet<String>>,
}

/// DTDL models, validated and indexed for twin validation.
#[derive(Debug, Default, Clone)]
pub struct ModelRegistry {
    entries: BTreeMap<String, ModelEntry>,
    elements: IdMap<Element>,
    expanded: IdMap<Arc<ExpandedModel>>,
    dependents: HashMap<String, BTreeSet<String>>,
}

/// Largest serialized size of one DTDL v3 Interface (its partition).
const V3_MAX_MODEL_BYTES: usize = 1_048_576;

pub(crate) fn validate(
    batch: &[Value],
    options: ParseOptions,
    existing: &IdMap<Element>,
) -> Result<ValidatedBatch, ModelErrors> {
    let mm = metamodel();
    if let Some(e) = &mm.load_error {
        return Err(ModelErrors(vec![ModelError {
            document: None,
            dtmi: None,
            path: "$".into(),
            code: "internal",
            message: e.clone(),
        }]));
    }
    let known = |id: &str| existing.contains_key(id);
    let mut p = Parser::new(options, &known);
    let mut tops: Vec<(String, Value)> = Vec::new();
    for (i, doc) in batch.iter().enumerate() {
        let ids = p.parse_document(i, doc);
        let items: Vec<&Value> = match doc {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        for id in ids {
            let original = items
                .iter()
                .find(|v| v.get("@id").and_then(Value::as_str) == Some(id.as_str()))
                .map(|v| (*v).clone())
                .unwrap_or(Value::Null);
            if p.elements.get(&id).is_some_and(|e| e.version >= 3) {
                let size = serde_json::to_string(&original).map_or(0, |s| s.len());
                if size > V3_MAX_MODEL_BYTES {
                    p.errors.push(ModelError {
                        document: Some(i),
                        dtmi: Some(id.clone()),
                        path: "$".into(),
                        code: "modelTooLarge",
                        message: format!("the model is {size} bytes; DTDL v3 limits one Interface to {V3_MAX_MODEL_BYTES} bytes"),
                    });
                }
            }
            tops.push((id, original));
        }
    }
    if existing.is_empty() && p.errors.is_empty() {
        // fall through to the batch checks
    }
    // Duplicate ids with the registry get a clearer message.
    for e in &mut p.errors {
        if e.code == "duplicateDefinition"
            && let Some(id) = &e.dtmi
            && existing.contains_key(id)
        {
            e.code = "modelAlreadyExists";
            e.message = format!(
                "a model with id '{id}' already exists; delete it first or upload a new version"
            );
        }
    }
    let mut errors = std::mem::take(&mut p.errors);
    let look = Lookup {
        batch: &p.elements,
        existing,
    };
    check_batch(mm, &p.order, &p.refs, &look, &mut errors);
    if !errors.is_empty() {
        return Err(ModelErrors(errors));
    }
    // Dependencies of each top-level model on other models.
    let mut dependencies: BTreeMap<String, BTreeSet<String>> = tops
        .iter()
        .map(|(id, _)| (id.clone(), BTreeSet::new()))
        .collect();
    for r in &p.refs {
        if r.supplemental.is_some() {
            continue;
        }
        let Some(target) = look.get(&r.target) else {
            continue;
        };
        if target.partition == "dtmi:dtdl:standard" || target.top == r.top {
            continue;
        }
        if let Some(deps) = dependencies.get_mut(&r.top) {
            deps.insert(target.top.clone());
        }
    }
    Ok(ValidatedBatch {
        tops,
        elements: p.elements,
        dependencies,
    })
}

/// Validates a batch of models on its own (every reference must resolve within
/// it or to DTDL's standard elements). Returns the ids of the models.
pub fn validate_batch(batch: &[Value], options: ParseOptions) -> Result<Vec<String>, ModelErrors> {
    validate(batch, options, &IdMap::default())
        .map(|b| b.tops.into_iter().map(|(id, _)| id).collect())
}

impl ModelRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a batch of models (each item an Interface, or an array of them),
    /// all or nothing. References resolve within the batch and to models
    /// already present. Returns the ids of the added models, in batch order.
    pub fn add_models(
        &mut self,
        batch: &[Value],
        options: ParseOptions,
    ) -> Result<Vec<String>, ModelErrors> {
        let v = validate(batch, options, &self.elements)?;
        let mut ids = Vec::with_capacity(v.tops.len());
        let interface_ids: Vec<String> = v
            .elements
            .values()
            .filter(|e| e.class == "Interface")
            .map(|e| e.id.clone())
            .collect();
        self.elements.extend(v.elements);
        for (id, original) in v.tops {
            let Some(el) = self.elements.get(&id) else {
                continue;
            };
            let deps = v.dependencies.get(&id).cloned().unwrap_or_default();
            for d in &deps {
                self.dependents
                    .entry(d.clone())
                    .or_default()
                    .insert(id.clone());
            }
            self.entries.insert(
                id.clone(),
                ModelEntry {
                    id: id.clone(),
                    model: original,
                    dtdl_version: el.version,
                    decommissioned: false,
                    display_name: el.lang("displayName"),
                    description: el.lang("description"),
                    dependencies: deps,
                },
            );
            ids.push(id);
        }
        let empty = IdMap::default();
        let look = Lookup {
            batch: &self.elements,
            existing: &empty,
        };
        let mut cache = ExpandCache::default();
        for iid in interface_ids {
            if let Some(m) = expand(&look, &iid, &mut cache) {
                self.expanded.insert(iid, Arc::new(m));
            }
        }
        Ok(ids)
    }

    /// The registered model with this id.
    pub fn get(&self, id: &str) -> Option<&ModelEntry> {
        self.entries.get(id)
    }

    /// Every registered model, by id.
    pub fn models(&self) -> impl Iterator<Item = &ModelEntry> {
        self.entries.values()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Models that depend on `id` (extend it, use it as a component or schema).
    pub fn dependents(&self, id: &str) -> BTreeSet<String> {
        self.dependents.get(id).cloned().unwrap_or_default()
    }

    /// Marks a model decommissioned: it stays usable by existing twins but new
    /// twins should not use it. Idempotent.
    pub fn decommission(&mut self, id: &str) -> Result<(), RegistryError> {
        let e = self
            .entries
            .get_mut(id)
            .ok_or_else(|| RegistryError::NotFound(id.to_string()))?;
        e.decommissioned = true;
        Ok(())
    }

    /// Deletes a model no other model depends on.
    pub fn delete(&mut self, id: &str) -> Result<ModelEntry, RegistryError> {
        if !self.entries.contains_key(id) {
            return Err(RegistryError::NotFound(id.to_string()));
        }
        let deps: Vec<String> = self.dependents(id).into_iter().collect();
        if !deps.is_empty() {
            return Err(RegistryError::HasDependents {
                id: id.to_string(),
                dependents: deps,
            });
        }
        let entry = self
            .entries
            .remove(id)
            .ok_or_else(|| RegistryError::NotFound(id.to_string()))?;
        for d in &entry.dependencies {
            if let Some(set) = self.dependents.get_mut(d) {
                set.remove(id);
                if set.is_empty() {
                    self.dependents.remove(d);
                }
            }
        }
        self.dependents.remove(id);
        let removed: Vec<String> = self
            .elements
            .values()
            .filter(|e| e.top == id)
            .map(|e| e.id.clone())
            .collect();
        for r in removed {
            self.elements.remove(&r);
            self.expanded.remove(&r);
        }
        Ok(entry)
    }

    /// The model with all its contents, own and inherited (also for Interfaces
    /// defined inline in a model, such as a component's schema).
    pub fn expanded(&self, id: &str) -> Option<&Arc<ExpandedModel>> {
        self.expanded.get(id)
    }

    /// Whether `model` is `base` or extends it, directly or not.
    pub fn is_subtype_of(&self, model: &str, base: &str) -> bool {
        model == base && self.expanded.contains_key(model)
            || self
                .expanded
                .get(model)
                .is_some_and(|m| m.ancestors.contains(base))
    }

    /// Registered models that are `base` or extend it.
    pub fn subtypes_of(&self, base: &str) -> Vec<&str> {
        self.entries
            .keys()
            .filter(|id| self.is_subtype_of(id, base))
            .map(String::as_str)
            .collect()
    }
}
