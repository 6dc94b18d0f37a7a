//! The DTDL metamodel (classes, properties and their constraints per language
//! version, contexts, supplemental types and standard elements), distilled
//! from DTDLParser's metamodel digest by `metamodel/distill.py` and embedded.

use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

const METAMODEL_JSON: &str = include_str!("../metamodel/metamodel.json");

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Metamodel {
    pub versions: BTreeMap<String, VersionModel>,
    pub extensions: BTreeMap<String, Extension>,
    pub supplemental_types: HashMap<String, SupplementalType>,
    pub elements: Vec<Value>,
    #[serde(skip)]
    pub load_error: Option<String>,
    #[serde(skip)]
    pub v2: VersionIndex,
    #[serde(skip)]
    pub v3: VersionIndex,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VersionModel {
    pub context: HashMap<String, String>,
    pub classes: HashMap<String, ClassDef>,
    pub identifier: IdentifierDef,
    pub reserved_prefixes: Vec<String>,
    pub apocrypha: HashMap<String, String>,
    pub restrict_keywords: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IdentifierDef {
    pub max_length: usize,
    pub interface_max_length: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClassDef {
    #[serde(rename = "abstract")]
    pub is_abstract: bool,
    pub parent: Option<String>,
    pub concrete: Vec<String>,
    pub type_optional: bool,
    pub id_required: bool,
    pub id_required_when: Vec<ClassProp>,
    pub rootable: bool,
    /// Ids of DTDL's own instances of the class (`boolean` for Boolean):
    /// such classes cannot be instantiated in models.
    #[serde(default)]
    pub standard_elements: Vec<String>,
    pub properties: BTreeMap<String, PropDef>,
}

#[derive(Debug, Default, Deserialize, Clone, PartialEq, Eq)]
pub(crate) struct ClassProp {
    pub class: String,
    pub property: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PropDef {
    #[serde(default)]
    pub allowed: bool,
    pub class: Option<String>,
    pub datatype: Option<String>,
    #[serde(default)]
    pub literal: bool,
    #[serde(default)]
    pub plural: bool,
    #[serde(default)]
    pub optional: bool,
    pub min_count: Option<usize>,
    pub max_count: Option<usize>,
    pub max_length: Option<usize>,
    pub pattern: Option<String>,
    pub pattern_desc: Option<String>,
    pub min_inclusive: Option<i64>,
    pub max_inclusive: Option<i64>,
    pub values: Option<Vec<String>>,
    pub value_uris: Option<Vec<String>>,
    pub versions: Option<Vec<u8>>,
    #[serde(default)]
    pub id_required: bool,
    #[serde(default)]
    pub unique_properties: Vec<String>,
    pub dtmi_segment: Option<String>,
    pub default_language: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Extension {
    pub implicit_version: Option<u8>,
    pub terms: HashMap<String, String>,
    #[serde(default)]
    pub reserved_prefixes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SupplementalType {
    #[serde(rename = "abstract")]
    pub is_abstract: bool,
    pub constraints: Vec<SupplementalConstraint>,
    pub cotypes: Vec<String>,
    pub cotype_versions: Vec<u8>,
    pub extension_kind: String,
    pub parent: Option<String>,
    pub properties: BTreeMap<String, SupplementalProp>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SupplementalConstraint {
    pub property: String,
    #[serde(default)]
    pub required_types: Vec<String>,
    #[serde(default)]
    pub required_types_string: Option<String>,
    #[serde(default)]
    pub required_values: Vec<String>,
    #[serde(default)]
    pub required_values_string: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SupplementalProp {
    pub property_name: String,
    #[serde(rename = "type")]
    pub type_id: String,
    pub type_name: String,
    pub min_count: Option<usize>,
    pub max_count: Option<usize>,
    pub child_of: Option<String>,
    #[serde(default)]
    pub optional: bool,
}

/// Lookup tables derived once from a version's model.
#[derive(Debug, Default)]
pub(crate) struct VersionIndex {
    /// Term or class DTMI (`Property`, `dtmi:dtdl:class:Property;3`) → class name.
    pub class_by_type: HashMap<String, String>,
    /// Every class name → itself and its ancestors.
    pub ancestors: HashMap<String, HashSet<String>>,
    /// Property DTMI (`dtmi:dtdl:property:name;3`) → property term.
    pub prop_by_dtmi: HashMap<String, String>,
    /// DTMI → term of the DTDL context.
    pub term_by_dtmi: HashMap<String, String>,
}

impl Metamodel {
    pub(crate) fn version(&self, v: u8) -> Option<&VersionModel> {
        self.versions.get(match v {
            2 => "2",
            3 => "3",
            _ => return None,
        })
    }

    pub(crate) fn index(&self, v: u8) -> &VersionIndex {
        if v == 2 { &self.v2 } else { &self.v3 }
    }

    /// Whether `class` is `base` or derives from it in version `v`.
    pub(crate) fn is_a(&self, v: u8, class: &str, base: &str) -> bool {
        class == base
            || self
                .index(v)
                .ancestors
                .get(class)
                .is_some_and(|a| a.contains(base))
    }

    pub(crate) fn class(&self, v: u8, name: &str) -> Option<&ClassDef> {
        self.version(v).and_then(|m| m.classes.get(name))
    }

    /// A supplemental type and all its ancestors.
    pub(crate) fn supplemental_ancestry<'s>(&'s self, id: &'s str) -> Vec<&'s str> {
        let mut out = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            if out.contains(&c) || out.len() > 32 {
                break;
            }
            out.push(c);
            cur = self
                .supplemental_types
                .get(c)
                .and_then(|s| s.parent.as_deref());
        }
        out
    }

    fn build_index(&self, v: u8) -> VersionIndex {
        let mut idx = VersionIndex::default();
        let Some(vm) = self.version(v) else {
            return idx;
        };
        let class_prefix = "dtmi:dtdl:class:";
        let prop_prefix = "dtmi:dtdl:property:";
        for (term, dtmi) in &vm.context {
            idx.term_by_dtmi.insert(dtmi.clone(), term.clone());
            if let Some(rest) = dtmi.strip_prefix(class_prefix) {
                let name = rest.split(';').next().unwrap_or_default();
                if vm.classes.contains_key(name) {
                    idx.class_by_type.insert(term.clone(), name.to_string());
                    idx.class_by_type.insert(dtmi.clone(), name.to_string());
                }
            }
            if let Some(rest) = dtmi.strip_prefix(prop_prefix) {
                let name = rest.split(';').next().unwrap_or_default();
                idx.prop_by_dtmi.insert(dtmi.clone(), name.to_string());
            }
        }
        for name in vm.classes.keys() {
            let mut set = HashSet::new();
            let mut cur = Some(name.as_str());
            while let Some(c) = cur {
                if !set.insert(c.to_string()) {
                    break;
                }
                cur = vm.classes.get(c).and_then(|d| d.parent.as_deref());
            }
            idx.ancestors.insert(name.clone(), set);
        }
        idx
    }
}

/// The embedded metamodel, loaded on first use.
pub(crate) fn metamodel() -> &'static Metamodel {
    static MM: OnceLock<Metamodel> = OnceLock::new();
    MM.get_or_init(|| {
        let mut mm = match serde_json::from_str::<Metamodel>(METAMODEL_JSON) {
            Ok(m) => m,
            Err(e) => Metamodel {
                load_error: Some(format!("the embedded DTDL metamodel failed to load: {e}")),
                ..Metamodel::default()
            },
        };
        mm.v2 = mm.build_index(2);
        mm.v3 = mm.build_index(3);
        mm
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn metamodel_loads_with_both_versions() {
        let mm = metamodel();
        assert_eq!(mm.load_error, None);
        assert!(mm.class(2, "Interface").is_some());
        assert!(mm.class(3, "Interface").is_some());
        assert!(mm.is_a(3, "Property", "Content"));
        assert!(mm.is_a(3, "Object", "Schema"));
        assert!(!mm.is_a(3, "Object", "Content"));
        assert_eq!(
            mm.index(3)
                .class_by_type
                .get("Telemetry")
                .map(String::as_str),
            Some("Telemetry")
        );
    }
}
