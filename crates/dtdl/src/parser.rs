//! Parsing DTDL documents (JSON-LD restricted as DTDL restricts it) into a
//! graph of elements, checking everything that can be checked on one element:
//! contexts, identifiers, types and co-types, properties and their values.
//! References between elements are recorded and checked later (`checks.rs`),
//! once the whole batch is known.

use crate::dtmi::{is_generic_dtmi, is_valid_id, version_parts};
use crate::error::ModelError;
use crate::metamodel::{Metamodel, PropDef, SupplementalProp, metamodel};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// How to treat extensions (contexts and co-types) this parser does not know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Accept undefined extension contexts; then undefined co-types, and
    /// undefined properties on elements with an undefined co-type, are accepted
    /// too. Off by default (strict), like DTDLParser's `WhenToAllow.Never`.
    pub allow_undefined_extensions: bool,
}

/// A property value of an element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    Lang(BTreeMap<String, String>),
    /// A reference to another element (inline children are references too).
    Ref {
        id: String,
        inline: bool,
    },
}

impl Val {
    pub(crate) fn as_ref_id(&self) -> Option<&str> {
        match self {
            Val::Ref { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// One DTDL element (an Interface, a Property, a Schema, ...).
#[derive(Debug, Clone)]
pub(crate) struct Element {
    pub id: String,
    pub class: String,
    pub version: u8,
    pub cotypes: Vec<String>,
    pub undefined_types: Vec<String>,
    pub props: BTreeMap<String, Vec<Val>>,
    /// Properties of supplemental (co-)types, by property name (e.g. `unit`).
    pub sup_props: BTreeMap<String, Vec<Val>>,
    pub parent: Option<String>,
    /// The top-level element (model) this element is defined in.
    pub top: String,
    /// The nearest Interface (itself, for an Interface): elements other than
    /// Interfaces can be referenced by id only from inside their Interface.
    pub partition: String,
    pub doc: Option<usize>,
    pub path: String,
}

impl Element {
    pub(crate) fn str_prop(&self, name: &str) -> Option<&str> {
        match self.props.get(name)?.first()? {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn refs(&self, name: &str) -> impl Iterator<Item = &str> {
        self.props
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(Val::as_ref_id)
    }

    pub(crate) fn lang(&self, name: &str) -> BTreeMap<String, String> {
        match self.props.get(name).and_then(|v| v.first()) {
            Some(Val::Lang(m)) => m.clone(),
            _ => BTreeMap::new(),
        }
    }
}

/// Maps keyed by element identifiers: hot in parsing, checking and expansion.
pub(crate) type IdMap<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// A reference to check once the batch is parsed.
#[derive(Debug, Clone)]
pub(crate) struct PendingRef {
    pub from: String,
    pub prop: String,
    pub target: String,
    pub class: String,
    pub versions: Option<Vec<u8>>,
    pub values: Option<Vec<String>>,
    pub path: String,
    pub top: String,
    /// For a co-type's property: the required type of the value and, for v3
    /// units, the enum the value must belong to.
    pub supplemental: Option<(String, Option<String>)>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Ctx {
    pub version: u8,
    pub affiliates: Vec<String>,
    pub incomplete: bool,
}

/// Stops parsing the current document (the context is unusable).
struct Fatal;

pub(crate) struct Parser<'a> {
    pub mm: &'static Metamodel,
    pub opts: ParseOptions,
    pub elements: IdMap<Element>,
    pub order: Vec<String>,
    pub errors: Vec<ModelError>,
    pub refs: Vec<PendingRef>,
    /// Ids of elements already known (registry, standard elements): a new
    /// definition with one of these ids is a duplicate.
    pub known: &'a dyn Fn(&str) -> bool,
    pub allow_reserved: bool,
    doc: Option<usize>,
    top: String,
}

const KEYWORDS: &[&str] = &["@context", "@id", "@type"];

/// Class names of every DTDL version, including v4-only ones, which are
/// never valid co-types.
const V4_ONLY_CLASSES: &[&str] = &[
    "Byte",
    "Bytes",
    "Decimal",
    "Short",
    "UnsignedByte",
    "UnsignedInteger",
    "UnsignedLong",
    "UnsignedShort",
    "Uuid",
];

fn path_key(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

fn path_index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

pub(crate) fn describe(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        let mut cut = 77;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

fn is_language_code(s: &str) -> bool {
    // ^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$
    let mut parts = s.split('-');
    let Some(lang) = parts.next() else {
        return false;
    };
    if !(2..=4).contains(&lang.len()) || !lang.bytes().all(|c| c.is_ascii_lowercase()) {
        return false;
    }
    let rest: Vec<&str> = parts.collect();
    let is_script = |p: &str| {
        let b = p.as_bytes();
        b.len() == 4 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_lowercase)
    };
    let is_region = |p: &str| {
        (p.len() == 2 && p.bytes().all(|c| c.is_ascii_uppercase()))
            || (p.len() == 3 && p.bytes().all(|c| c.is_ascii_digit()))
    };
    match rest.as_slice() {
        [] => true,
        [a] => is_script(a) || is_region(a),
        [a, b] => is_script(a) && is_region(b),
        _ => false,
    }
}

pub(crate) fn is_name(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphabetic()
                && l.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        }
        _ => false,
    }
}

impl<'a> Parser<'a> {
    pub(crate) fn new(opts: ParseOptions, known: &'a dyn Fn(&str) -> bool) -> Self {
        Parser {
            mm: metamodel(),
            opts,
            elements: IdMap::default(),
            order: Vec::new(),
            errors: Vec::new(),
            refs: Vec::new(),
            known,
            allow_reserved: false,
            doc: None,
            top: String::new(),
        }
    }

    fn err(&mut self, path: &str, code: &'static str, message: String) {
        let dtmi = if self.top.is_empty() {
            None
        } else {
            Some(self.top.clone())
        };
        self.errors.push(ModelError {
            document: self.doc,
            dtmi,
            path: path.to_string(),
            code,
            message,
        });
    }

    /// Parses one document of a batch: an Interface, or an array of them.
    /// Returns the ids of the top-level elements it defines.
    pub(crate) fn parse_document(&mut self, doc_index: usize, doc: &Value) -> Vec<String> {
        self.doc = Some(doc_index);
        let mut tops = Vec::new();
        match doc {
            Value::Object(_) => {
                self.top = doc
                    .get("@id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if let Some(id) = self.parse_top(doc, "$") {
                    tops.push(id);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.top = item
                        .get("@id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    if item.is_object() {
                        if let Some(id) = self.parse_top(item, &path_index("$", i)) {
                            tops.push(id);
                        }
                    } else {
                        self.err(
                            &path_index("$", i),
                            "notAnObject",
                            format!(
                                "each model must be a JSON object (an Interface), found {}",
                                describe(item)
                            ),
                        );
                    }
                }
            }
            other => {
                self.top.clear();
                self.err(
                    "$",
                    "notAnObject",
                    format!(
                        "a model must be a JSON object (an Interface) or an array of them, found {}",
                        describe(other)
                    ),
                );
            }
        }
        tops
    }

    fn parse_top(&mut self, v: &Value, path: &str) -> Option<String> {
        let root = Ctx::default();
        let id = self.parse_element(v, &root, None, "Interface", path, None, true)?;
        if let Some(e) = self.elements.get(&id)
            && !self
                .mm
                .version(e.version)
                .is_some_and(|m| m.classes.get(&e.class).is_some_and(|c| c.rootable))
        {
            let class = e.class.clone();
            self.err(
                path,
                "notRootable",
                format!(
                    "a top-level element must be an Interface, but this one is a {class}; define it inside an Interface"
                ),
            );
        }
        Some(id)
    }

    // ---------------------------------------------------------------- contexts

    fn child_ctx(
        &mut self,
        parent: &Ctx,
        ctx_val: Option<&Value>,
        path: &str,
    ) -> Result<Ctx, Fatal> {
        let cpath = path_key(path, "@context");
        let Some(cv) = ctx_val else {
            if parent.version == 0 {
                self.err(
                    path,
                    "missingContext",
                    "the top-level element has no @context; it must start with \"dtmi:dtdl:context;2\" or \"dtmi:dtdl:context;3\"".into(),
                );
                return Err(Fatal);
            }
            return Ok(parent.clone());
        };
        let comps: Vec<&Value> = match cv {
            Value::String(_) | Value::Object(_) => vec![cv],
            Value::Array(a) => a.iter().collect(),
            other => {
                self.err(
                    &cpath,
                    "invalidContext",
                    format!(
                        "@context must be a string or an array of strings, found {}",
                        describe(other)
                    ),
                );
                return Err(Fatal);
            }
        };
        if comps.is_empty() {
            if parent.version == 0 {
                self.err(
                    &cpath,
                    "missingContext",
                    "@context is empty; a top-level element must give \"dtmi:dtdl:context;2\" or \"dtmi:dtdl:context;3\"".into(),
                );
                return Err(Fatal);
            }
            return Ok(parent.clone());
        }
        let mut strs = Vec::with_capacity(comps.len());
        for (i, c) in comps.iter().enumerate() {
            match c {
                Value::String(s) => strs.push(s.as_str()),
                Value::Object(_) => {
                    self.err(
                        &path_index(&cpath, i),
                        "localContext",
                        "local term definitions in @context are not allowed in DTDL v2 or v3; use only context DTMIs".into(),
                    );
                    return Err(Fatal);
                }
                other => {
                    self.err(
                        &path_index(&cpath, i),
                        "invalidContext",
                        format!(
                            "each @context entry must be a context DTMI string, found {}",
                            describe(other)
                        ),
                    );
                    return Err(Fatal);
                }
            }
        }
        let mut ctx = parent.clone();
        let mut i = 0;
        // Affiliate contexts that imply a DTDL version may precede the DTDL context.
        while i < strs.len() {
            let Some(ext) = self.mm.extensions.get(strs[i]) else {
                break;
            };
            if ext.implicit_version.is_none() {
                break;
            }
            if !ctx.affiliates.iter().any(|a| a == strs[i]) {
                ctx.affiliates.push(strs[i].to_string());
            }
            i += 1;
        }
        let mut saw_dtdl = false;
        while i < strs.len() && strs[i].starts_with("dtmi:dtdl:context;") {
            let s = strs[i];
            let p = path_index(&cpath, i);
            if !is_generic_dtmi(s) {
                self.err(
                    &p,
                    "invalidContext",
                    format!("'{s}' is not a valid context DTMI"),
                );
                return Err(Fatal);
            }
            if s.contains('#') {
                self.err(
                    &p,
                    "invalidContext",
                    format!(
                        "'{s}': context fragments (limit specifiers) are only allowed in DTDL v4"
                    ),
                );
                return Err(Fatal);
            }
            let (major, _) = version_parts(s);
            if major != 2 && major != 3 {
                self.err(
                    &p,
                    "unsupportedVersion",
                    format!("'{s}': this DTDL version is not supported; use \"dtmi:dtdl:context;2\" or \"dtmi:dtdl:context;3\""),
                );
                return Err(Fatal);
            }
            if s != format!("dtmi:dtdl:context;{major}") {
                self.err(
                    &p,
                    "invalidContext",
                    format!("'{s}' is not a valid DTDL context"),
                );
                return Err(Fatal);
            }
            ctx.version = major as u8;
            saw_dtdl = true;
            i += 1;
        }
        if ctx.version == 0 {
            self.err(
                &cpath,
                "missingDtdlContext",
                "the top-level @context must start with \"dtmi:dtdl:context;2\" or \"dtmi:dtdl:context;3\"".into(),
            );
            return Err(Fatal);
        }
        let _ = saw_dtdl;
        for (j, s) in strs.iter().enumerate().skip(i) {
            let p = path_index(&cpath, j);
            if s.starts_with("dtmi:dtdl:context;") {
                self.err(
                    &p,
                    "contextOrder",
                    format!("'{s}': the DTDL context must come before any extension context"),
                );
                return Err(Fatal);
            }
            if !s.starts_with("dtmi:") {
                self.err(
                    &p,
                    "invalidContext",
                    format!("'{s}' is not a DTMI; extension contexts are identified by DTMIs with a version"),
                );
                return Err(Fatal);
            }
            if !is_generic_dtmi(s) || s.contains('#') || !is_valid_id(s, ctx.version) {
                self.err(
                    &p,
                    "invalidContext",
                    format!("'{s}' is not a valid context DTMI"),
                );
                return Err(Fatal);
            }
            if version_parts(s).0 == 0 {
                self.err(
                    &p,
                    "invalidContext",
                    format!("'{s}': an extension context must have a version, e.g. '{s};1'"),
                );
                return Err(Fatal);
            }
            let versionless = s.split(';').next().unwrap_or_default();
            if ctx.version == 2 && is_v3_language_extension(versionless, version_parts(s).0) {
                self.err(
                    &p,
                    "extensionVersion",
                    format!("'{s}' is a DTDL language extension for DTDL v3 and later; it cannot be used with DTDL v2"),
                );
                return Err(Fatal);
            }
            if self.mm.extensions.contains_key(*s) {
                if !ctx.affiliates.iter().any(|a| a == s) {
                    ctx.affiliates.push(s.to_string());
                }
            } else if self.opts.allow_undefined_extensions {
                ctx.incomplete = true;
            } else {
                self.err(
                    &p,
                    "undefinedExtension",
                    format!("'{s}' is not an extension this parser knows (supported: dtmi:dtdl:extension:quantitativeTypes;1 with DTDL v3, dtmi:iotcentral:context;2 with DTDL v2); allow undefined extensions to accept it"),
                );
                return Err(Fatal);
            }
        }
        Ok(ctx)
    }

    /// Resolves a term or DTMI string to a DTMI in `ctx`.
    fn resolve(&self, ctx: &Ctx, s: &str) -> Option<String> {
        if s.starts_with("dtmi:") {
            return is_valid_id(s, ctx.version).then(|| s.to_string());
        }
        if s.contains(':') {
            return None;
        }
        if let Some(d) = self.mm.version(ctx.version).and_then(|m| m.context.get(s)) {
            return Some(d.clone());
        }
        ctx.affiliates
            .iter()
            .find_map(|a| self.mm.extensions.get(a).and_then(|e| e.terms.get(s)))
            .cloned()
    }

    fn is_material_type_name(&self, s: &str) -> bool {
        if V4_ONLY_CLASSES.contains(&s) {
            return true;
        }
        if self.mm.versions.values().any(|v| v.classes.contains_key(s)) {
            return true;
        }
        if let Some(rest) = s.strip_prefix("dtmi:dtdl:class:") {
            let (name, ver) = rest.split_once(';').unwrap_or((rest, ""));
            let known = self
                .mm
                .versions
                .values()
                .any(|v| v.classes.contains_key(name))
                || V4_ONLY_CLASSES.contains(&name);
            return known && matches!(ver, "2" | "3" | "4");
        }
        false
    }

    // ---------------------------------------------------------------- elements

    /// Parses an inline element. `expected` is the class the parent's property
    /// requires. Returns the element's id.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn parse_element(
        &mut self,
        v: &Value,
        parent_ctx: &Ctx,
        parent: Option<(&str, &str, &PropDef)>,
        expected: &str,
        path: &str,
        seg_prop: Option<&str>,
        top_level: bool,
    ) -> Option<String> {
        let Value::Object(obj) = v else {
            self.err(
                path,
                "notAnObject",
                format!("expected an element (JSON object), found {}", describe(v)),
            );
            return None;
        };
        let ctx = match self.child_ctx(parent_ctx, obj.get("@context"), path) {
            Ok(c) => c,
            Err(Fatal) => return None,
        };
        if !top_level && obj.contains_key("@context") && parent_ctx.version == 0 {
            // unreachable in practice: nested elements always have a parent context
        }
        let vm = self.mm.version(ctx.version)?;
        let restrict = vm.restrict_keywords;

        // Keywords.
        for k in obj.keys().filter(|k| k.starts_with('@')) {
            if KEYWORDS.contains(&k.as_str()) {
                continue;
            }
            if k == "@graph" {
                self.err(
                    &path_key(path, k),
                    "graphDisallowed",
                    "@graph is not allowed in DTDL".into(),
                );
            } else if restrict {
                self.err(
                    &path_key(path, k),
                    "keywordDisallowed",
                    format!("the JSON-LD keyword '{k}' is not allowed in DTDL v3; only @context, @id and @type are"),
                );
            }
        }
        if obj.len() == 1 && obj.contains_key("@id") && !top_level {
            self.err(
                path,
                "idReference",
                "an object with only @id is not a reference in DTDL; give the identifier as a plain string instead".into(),
            );
            return None;
        }

        // @type: find the material class first, so @id rules can depend on it.
        let (class, cotypes, undefined_types, explicit_type) =
            self.parse_types(obj, &ctx, expected, path)?;
        let class_def = vm.classes.get(&class)?;

        // @id.
        let parent_class = parent.and_then(|(pid, _, _)| self.elements_class(pid));
        let id_required = parent.is_some_and(|(_, _, pd)| pd.id_required)
            || class_def.id_required
            || parent.is_some_and(|(_, pname, _)| {
                class_def.id_required_when.iter().any(|w| {
                    w.property == pname && parent_class.as_deref().is_some_and(|pc| pc == w.class)
                })
            });
        let id = match obj.get("@id") {
            Some(Value::String(s)) => {
                let p = path_key(path, "@id");
                if s.is_empty() {
                    self.err(
                        &p,
                        "invalidId",
                        "@id is empty; give a DTMI such as \"dtmi:com:example:Thing;1\"".into(),
                    );
                    return None;
                }
                let max = if class == "Interface" {
                    vm.identifier.interface_max_length
                } else {
                    vm.identifier.max_length
                };
                if s.len() > max {
                    self.err(
                        &p,
                        "idTooLong",
                        format!("@id '{s}' is {} characters long; the limit for {class} identifiers in DTDL v{} is {max}", s.len(), ctx.version),
                    );
                    return None;
                }
                if !is_valid_id(s, ctx.version) {
                    let rule = if ctx.version == 2 {
                        "'dtmi:' + segments (letters, digits, underscores; starting with a letter, not ending with '_') separated by ':', then ';' and a version 1-999999999"
                    } else {
                        "'dtmi:' + segments (letters, digits, underscores; starting with a letter, not ending with '_') separated by ':', optionally ';' and a version such as 1 or 1.2"
                    };
                    self.err(
                        &p,
                        "invalidId",
                        format!(
                            "@id '{s}' is not a valid DTMI for DTDL v{}: expected {rule}",
                            ctx.version
                        ),
                    );
                    return None;
                }
                if !self.allow_reserved {
                    let mut reserved: Vec<&str> =
                        vm.reserved_prefixes.iter().map(String::as_str).collect();
                    for a in &ctx.affiliates {
                        if let Some(e) = self.mm.extensions.get(a) {
                            reserved.extend(e.reserved_prefixes.iter().map(String::as_str));
                        }
                    }
                    if let Some(r) = reserved.iter().find(|r| s.starts_with(**r)) {
                        self.err(&p, "reservedId", format!("@id '{s}' starts with '{r}', which is reserved for DTDL's own elements"));
                        return None;
                    }
                }
                s.clone()
            }
            Some(other) => {
                self.err(
                    &path_key(path, "@id"),
                    "invalidId",
                    format!("@id must be a string DTMI, found {}", describe(other)),
                );
                return None;
            }
            None => {
                if id_required || top_level {
                    let what = match parent {
                        Some((pid, pname, _)) => format!(
                            "a {class} given as value of '{pname}' of {pid} must have an @id"
                        ),
                        None => format!("the top-level {class} must have an @id (its DTMI)"),
                    };
                    self.err(path, "missingId", what);
                    return None;
                }
                let (pid, pname, _) = parent?;
                let mut seg = String::new();
                if let Some(sp) = seg_prop {
                    match obj.get(sp) {
                        Some(Value::String(s)) => seg = format!(":__{s}"),
                        Some(Value::Number(n)) => {
                            seg = format!(":__{}", n.to_string().replace('.', "_"))
                        }
                        _ => {}
                    }
                }
                let (base, ver) = match pid.split_once(';') {
                    Some((b, v)) => (b.to_string(), format!(";{v}")),
                    None => (pid.to_string(), String::new()),
                };
                let base = base.split('#').next().unwrap_or_default().to_string();
                format!("{base}:_{pname}{seg}{ver}")
            }
        };
        if self.elements.contains_key(&id) || (self.known)(&id) {
            if obj.contains_key("@id") {
                self.err(
                    path,
                    "duplicateDefinition",
                    format!(
                        "'{id}' is defined more than once; every element identifier must be unique"
                    ),
                );
            } else if let Some(sp) = seg_prop {
                let val = obj.get(sp).map(describe).unwrap_or_default();
                let pname = parent.map(|p| p.1).unwrap_or_default();
                self.err(
                    &path_key(path, sp),
                    "duplicateName",
                    format!("another element of '{pname}' already has {sp} {val}; {sp}s must be unique there"),
                );
            } else {
                self.err(
                    path,
                    "duplicateDefinition",
                    format!("'{id}' is defined more than once"),
                );
            }
            return None;
        }
        if top_level {
            self.top = id.clone();
        }
        let top = if top_level {
            id.clone()
        } else {
            self.top.clone()
        };

        let partition = if class == "Interface" {
            id.clone()
        } else {
            parent
                .and_then(|(pid, _, _)| self.elements.get(pid))
                .map(|p| p.partition.clone())
                .unwrap_or_else(|| id.clone())
        };
        let mut el = Element {
            partition,
            id: id.clone(),
            class: class.clone(),
            version: ctx.version,
            cotypes,
            undefined_types,
            props: BTreeMap::new(),
            sup_props: BTreeMap::new(),
            parent: parent.map(|p| p.0.to_string()),
            top,
            doc: self.doc,
            path: path.to_string(),
        };
        // Reserve the id now so children see the parent's class.
        self.elements.insert(id.clone(), el.clone());
        self.order.push(id.clone());

        // Properties.
        let sup_defs = self.supplemental_props(&el.cotypes);
        let idx = self.mm.index(ctx.version);
        let mut seen: HashMap<String, String> = HashMap::new();
        for (key, val) in obj {
            if key.starts_with('@') {
                continue;
            }
            let kpath = path_key(path, key);
            // Material property: by term or by property DTMI of this version.
            let pname = if class_def.properties.contains_key(key.as_str()) {
                Some(key.clone())
            } else {
                idx.prop_by_dtmi
                    .get(key.as_str())
                    .filter(|n| class_def.properties.contains_key(n.as_str()))
                    .cloned()
            };
            if let Some(pname) = pname {
                if let Some(prev) = seen.insert(pname.clone(), key.clone()) {
                    self.err(&kpath, "duplicateProperty", format!("property '{pname}' is given twice (as '{prev}' and as '{key}'); give it once"));
                    continue;
                }
                let Some(pd) = class_def.properties.get(&pname) else {
                    continue;
                };
                if !pd.allowed {
                    self.err(
                        &kpath,
                        "propertyNotAllowed",
                        format!("property '{pname}' cannot be set on a {class}"),
                    );
                    continue;
                }
                let vals = self.parse_prop_values(&ctx, &id, &class, &pname, pd, val, &kpath);
                el.props.insert(pname, vals);
                continue;
            }
            // Supplemental property of a co-type (e.g. `unit`).
            let resolved = self.resolve(&ctx, key);
            let sup = sup_defs.iter().find(|(pid, sp)| {
                resolved.as_deref() == Some(pid.as_str())
                    || (key == &sp.property_name && resolved.is_none())
            });
            if let Some((pid, sp)) = sup {
                let sname = sp.property_name.clone();
                if let Some(prev) = seen.insert(format!("sup:{sname}"), key.clone()) {
                    self.err(&kpath, "duplicateProperty", format!("property '{sname}' is given twice (as '{prev}' and as '{key}'); give it once"));
                    continue;
                }
                let vals = self.parse_sup_values(&ctx, &id, pid, sp, val, &kpath);
                el.sup_props.insert(sname, vals);
                continue;
            }
            // Anything else: apocryphal property.
            let apo = &vm.apocrypha;
            let verdict = |k: &str| apo.get(k).map(String::as_str).unwrap_or("invalid");
            let (kind, ok) = if resolved.is_some() {
                (
                    "irrelevantDtmiOrTermAsProperty",
                    match verdict("irrelevantDtmiOrTermAsProperty") {
                        "valid" => true,
                        "tenable" => ctx.incomplete,
                        _ => false,
                    },
                )
            } else if key.starts_with("dtmi:") {
                (
                    "invalidDtmiAsProperty",
                    verdict("invalidDtmiAsProperty") == "valid",
                )
            } else if key.contains(':') {
                (
                    "notDtmiNorTermAsProperty",
                    verdict("notDtmiNorTermAsProperty") == "valid",
                )
            } else {
                (
                    "undefinedTermAsProperty",
                    match verdict("undefinedTermAsProperty") {
                        "valid" => true,
                        "tenable" => ctx.incomplete,
                        _ => false,
                    },
                )
            };
            let allowed_props: Vec<&str> = class_def
                .properties
                .iter()
                .filter(|(_, p)| p.allowed)
                .map(|(n, _)| n.as_str())
                .collect();
            if !ok {
                let why = match kind {
                    "invalidDtmiAsProperty" => format!("'{key}' is not a valid DTMI"),
                    "notDtmiNorTermAsProperty" => {
                        format!("'{key}' is neither a DTDL term nor a DTMI")
                    }
                    "irrelevantDtmiOrTermAsProperty" => {
                        format!("'{key}' is not a property of {class}")
                    }
                    _ => format!("'{key}' is not a DTDL v{} term", ctx.version),
                };
                self.err(
                    &kpath,
                    "unknownProperty",
                    format!("{why}; a {class} may have: {}", allowed_props.join(", ")),
                );
                continue;
            }
            if el.undefined_types.is_empty() {
                self.err(
                    &kpath,
                    "unknownProperty",
                    format!("'{key}' is not a property of {class}; an undefined property needs an undefined co-type in @type that could define it (a {class} may have: {})", allowed_props.join(", ")),
                );
            }
        }

        // Required properties.
        for (pname, pd) in &class_def.properties {
            if !pd.allowed {
                continue;
            }
            let count = el.props.get(pname).map_or(0, Vec::len);
            let min = pd.min_count.unwrap_or(if pd.optional { 0 } else { 1 });
            if count < min {
                self.err(
                    path,
                    "missingProperty",
                    format!("a {class} must have '{pname}'"),
                );
            }
        }
        for (pid, sp) in &sup_defs {
            let min = sp.min_count.unwrap_or(if sp.optional { 0 } else { 1 });
            if min > 0
                && el
                    .sup_props
                    .get(&sp.property_name)
                    .is_none_or(Vec::is_empty)
            {
                let cot = self
                    .mm
                    .supplemental_types
                    .iter()
                    .find(|(_, s)| s.properties.contains_key(pid))
                    .map(|(k, _)| term_of(self.mm, k))
                    .unwrap_or_default();
                self.err(
                    path,
                    "missingCotypeProperty",
                    format!("co-type {cot} requires property '{}'", sp.property_name),
                );
            }
        }
        let _ = explicit_type;
        self.elements.insert(id.clone(), el);
        Some(id)
    }

    fn elements_class(&self, id: &str) -> Option<String> {
        self.elements.get(id).map(|e| e.class.clone())
    }

    fn supplemental_props(&self, cotypes: &[String]) -> Vec<(String, &'static SupplementalProp)> {
        let mm = self.mm;
        let mut out: Vec<(String, &'static SupplementalProp)> = Vec::new();
        for c in cotypes {
            for anc in mm.supplemental_ancestry(c) {
                if let Some(st) = mm.supplemental_types.get(anc) {
                    for (pid, sp) in &st.properties {
                        if !out.iter().any(|(p, _)| p == pid) {
                            out.push((pid.clone(), sp));
                        }
                    }
                }
            }
        }
        // A more specific co-type's definition of a property wins.
        out
    }

    /// Parses @type. Returns (material class, co-types, undefined types, explicit).
    fn parse_types(
        &mut self,
        obj: &Map<String, Value>,
        ctx: &Ctx,
        expected: &str,
        path: &str,
    ) -> Option<(String, Vec<String>, Vec<String>, bool)> {
        let tpath = path_key(path, "@type");
        let mm = self.mm;
        let vm = mm.version(ctx.version)?;
        let idx = mm.index(ctx.version);
        let strings: Vec<String> = match obj.get("@type") {
            None => {
                let ecd = vm.classes.get(expected)?;
                if ecd.type_optional && !ecd.is_abstract {
                    return Some((expected.to_string(), Vec::new(), Vec::new(), false));
                }
                let allowed = concrete_list(mm, ctx.version, expected);
                self.err(
                    path,
                    "missingType",
                    format!("this element has no @type; it must be one of: {allowed}"),
                );
                return None;
            }
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) if !a.is_empty() => {
                let mut out = Vec::new();
                for (i, t) in a.iter().enumerate() {
                    match t {
                        Value::String(s) => out.push(s.clone()),
                        other => {
                            self.err(
                                &path_index(&tpath, i),
                                "invalidType",
                                format!("@type entries must be strings, found {}", describe(other)),
                            );
                            return None;
                        }
                    }
                }
                out
            }
            Some(other) => {
                self.err(
                    &tpath,
                    "invalidType",
                    format!(
                        "@type must be a string or a non-empty array of strings, found {}",
                        describe(other)
                    ),
                );
                return None;
            }
        };
        let mut material: Vec<String> = Vec::new();
        let mut cotypes: Vec<String> = Vec::new();
        let mut undefined = Vec::new();
        let mut ok = true;
        let expected_concrete = vm
            .classes
            .get(expected)
            .map(|c| c.concrete.clone())
            .unwrap_or_default();
        for t in &strings {
            if let Some(cname) = idx.class_by_type.get(t.as_str()) {
                if expected_concrete.contains(cname)
                    || (cname == expected
                        && vm.classes.get(expected).is_some_and(|c| !c.is_abstract))
                {
                    if !material.contains(cname) {
                        material.push(cname.clone());
                    }
                    continue;
                }
                let allowed = concrete_list(mm, ctx.version, expected);
                self.err(
                    &tpath,
                    "wrongType",
                    format!(
                        "@type '{t}' is not allowed here; this value must be one of: {allowed}"
                    ),
                );
                ok = false;
                continue;
            }
            if self.is_material_type_name(t) {
                let allowed = concrete_list(mm, ctx.version, expected);
                self.err(&tpath, "wrongType", format!("@type '{t}' is not a DTDL v{} type allowed here; this value must be one of: {allowed}", ctx.version));
                ok = false;
                continue;
            }
            let Some(sid) = self.resolve(ctx, t) else {
                if t.starts_with("dtmi:") {
                    self.err(
                        &tpath,
                        "invalidCotype",
                        format!("co-type '{t}' is not a valid DTMI"),
                    );
                    ok = false;
                    continue;
                }
                let key = if t.contains(':') {
                    "notDtmiNorTermAsCotype"
                } else {
                    "undefinedTermAsCotype"
                };
                let verdict = vm
                    .apocrypha
                    .get(key)
                    .map(String::as_str)
                    .unwrap_or("invalid");
                let accept = match verdict {
                    "valid" => true,
                    "tenable" => ctx.incomplete,
                    _ => false,
                };
                if !accept {
                    let why = if t.contains(':') {
                        "is neither a DTDL term nor a DTMI"
                    } else {
                        "is not a term of the DTDL context or its extensions"
                    };
                    self.err(&tpath, "undefinedCotype", format!("co-type '{t}' {why}; undefined co-types need an undefined extension context and the option to allow undefined extensions"));
                    ok = false;
                    continue;
                }
                undefined.push(t.clone());
                continue;
            };
            let Some(st) = mm.supplemental_types.get(&sid) else {
                if ctx.incomplete {
                    undefined.push(t.clone());
                } else {
                    self.err(
                        &tpath,
                        "undefinedCotype",
                        format!("'{t}' cannot be used as a co-type in DTDL v{}", ctx.version),
                    );
                    ok = false;
                }
                continue;
            };
            if st.is_abstract {
                self.err(
                    &tpath,
                    "abstractCotype",
                    format!("co-type '{t}' is abstract; use one of its specific types"),
                );
                ok = false;
                continue;
            }
            if matches!(st.extension_kind.as_str(), "Unit" | "UnitAttribute") {
                self.err(
                    &tpath,
                    "wrongType",
                    format!("'{t}' is a unit, not a type for this element"),
                );
                ok = false;
                continue;
            }
            if !cotypes.contains(&sid) {
                cotypes.push(sid);
            }
        }
        if !ok {
            return None;
        }
        if material.is_empty() {
            let allowed = concrete_list(mm, ctx.version, expected);
            self.err(
                &tpath,
                "missingMaterialType",
                format!("@type has no DTDL type; it must include one of: {allowed}"),
            );
            return None;
        }
        if material.len() > 1 {
            self.err(
                &tpath,
                "multipleTypes",
                format!(
                    "@type gives more than one DTDL type ({}); give exactly one",
                    material.join(" and ")
                ),
            );
            return None;
        }
        let class = material.swap_remove(0);
        if !self.allow_reserved
            && vm
                .classes
                .get(&class)
                .is_some_and(|c| !c.standard_elements.is_empty())
        {
            let term = class[..1].to_ascii_lowercase() + &class[1..];
            self.err(
                &tpath,
                "wrongType",
                format!("{class} cannot be defined in a model; refer to DTDL's '{term}' schema by its term instead"),
            );
            return None;
        }
        let mut good = true;
        let mut semantic = 0;
        for c in &cotypes {
            let Some(st) = mm.supplemental_types.get(c) else {
                continue;
            };
            if !st.cotypes.iter().any(|k| k == &class) {
                self.err(
                    &tpath,
                    "invalidCotype",
                    format!(
                        "co-type '{}' cannot be used with {class}; it applies to {}",
                        term_of(mm, c),
                        st.cotypes.join(" or ")
                    ),
                );
                good = false;
            } else if !st.cotype_versions.contains(&ctx.version) {
                self.err(
                    &tpath,
                    "invalidCotype",
                    format!(
                        "co-type '{}' cannot be used in DTDL v{}",
                        term_of(mm, c),
                        ctx.version
                    ),
                );
                good = false;
            }
            if st.extension_kind == "SemanticType" {
                semantic += 1;
            }
        }
        if ctx.version >= 3 && semantic > 1 {
            // Semantic types that define the same property differently conflict.
            let mut defs: Vec<(&str, &str, Option<&str>, &str)> = Vec::new();
            for c in &cotypes {
                for anc in mm.supplemental_ancestry(c) {
                    let Some(st) = mm.supplemental_types.get(anc) else {
                        continue;
                    };
                    for sp in st.properties.values() {
                        defs.push((
                            sp.property_name.as_str(),
                            sp.type_id.as_str(),
                            sp.child_of.as_deref(),
                            c.as_str(),
                        ));
                    }
                }
            }
            let conflict = defs.iter().find_map(|a| {
                defs.iter()
                    .find(|b| a.0 == b.0 && a.3 != b.3 && (a.1 != b.1 || a.2 != b.2))
                    .map(|b| (a.0, a.3, b.3))
            });
            if let Some((prop, x, y)) = conflict {
                self.err(
                    &tpath,
                    "conflictingCotypes",
                    format!(
                        "co-types '{}' and '{}' both define '{prop}' differently; use one of them",
                        term_of(mm, x),
                        term_of(mm, y)
                    ),
                );
                good = false;
            }
        }
        if ctx.version == 2 && semantic > 1 {
            self.err(
                &tpath,
                "multipleSemanticTypes",
                "DTDL v2 allows at most one semantic type per element".into(),
            );
            good = false;
        }
        if !good {
            return None;
        }
        Some((class, cotypes, undefined, true))
    }

    // ---------------------------------------------------------------- values

    #[allow(clippy::too_many_arguments)]
    fn parse_prop_values(
        &mut self,
        ctx: &Ctx,
        id: &str,
        class: &str,
        pname: &str,
        pd: &'static PropDef,
        val: &Value,
        path: &str,
    ) -> Vec<Val> {
        let mut out = Vec::new();
        if pd.literal || pd.datatype.is_some() {
            match pd.datatype.as_deref() {
                Some("langString") => {
                    if let Some(m) = self.parse_lang(ctx, pname, pd, val, path) {
                        out.push(Val::Lang(m));
                    }
                }
                Some(dt) => {
                    let items: Vec<(String, &Value)> = match val {
                        Value::Array(a) => a
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (path_index(path, i), v))
                            .collect(),
                        v => vec![(path.to_string(), v)],
                    };
                    if items.len() > 1 && !pd.plural {
                        self.err(
                            path,
                            "tooManyValues",
                            format!("'{pname}' takes a single value, found {}", items.len()),
                        );
                        return out;
                    }
                    if items.is_empty() && !pd.optional {
                        self.err(path, "missingProperty", format!("'{pname}' needs a value"));
                    }
                    for (p, v) in items {
                        if let Some(x) = self.parse_literal(ctx, pname, pd, dt, v, &p) {
                            out.push(x);
                        }
                    }
                }
                None => {
                    // A literal of any type (EnumValue.enumValue): string or integer.
                    let items: Vec<(String, &Value)> = match val {
                        Value::Array(a) => a
                            .iter()
                            .enumerate()
                            .map(|(i, v)| (path_index(path, i), v))
                            .collect(),
                        v => vec![(path.to_string(), v)],
                    };
                    if items.len() > 1 && !pd.plural {
                        self.err(
                            path,
                            "tooManyValues",
                            format!("'{pname}' takes a single value, found {}", items.len()),
                        );
                        return out;
                    }
                    for (p, v) in items {
                        let (inner, declared) = match v {
                            Value::Object(o) => match self.value_object(ctx, pname, o, &p, false) {
                                Some((iv, ty, _)) => (iv, ty),
                                None => continue,
                            },
                            other => (other, None),
                        };
                        let is_int = inner.as_i64().is_some_and(|i| i32::try_from(i).is_ok());
                        let type_ok = match declared.as_deref() {
                            None => true,
                            Some("xsd:integer" | "http://www.w3.org/2001/XMLSchema#integer") => {
                                is_int
                            }
                            Some("xsd:string" | "http://www.w3.org/2001/XMLSchema#string") => {
                                inner.is_string()
                            }
                            Some(_) => false,
                        };
                        match inner {
                            Value::String(s) if type_ok => out.push(Val::Str(s.clone())),
                            Value::Number(n) if is_int && type_ok => {
                                out.push(Val::Int(n.as_i64().unwrap_or_default()))
                            }
                            other => self.err(
                                &p,
                                "wrongValueType",
                                format!(
                                    "'{pname}' must be a string or an integer, found {}",
                                    describe(other)
                                ),
                            ),
                        }
                    }
                }
            }
            return out;
        }
        if pd.class.is_none() {
            // An identifier-valued property (Relationship.target).
            let items: Vec<(String, &Value)> = match val {
                Value::Array(a) => a
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (path_index(path, i), v))
                    .collect(),
                v => vec![(path.to_string(), v)],
            };
            if items.len() > pd.max_count.unwrap_or(usize::MAX) {
                self.err(
                    path,
                    "tooManyValues",
                    format!(
                        "'{pname}' takes at most {} value(s)",
                        pd.max_count.unwrap_or(1)
                    ),
                );
                return out;
            }
            for (p, v) in items {
                let s = match v {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                };
                match s {
                    Some(s) if is_valid_id(&s, ctx.version) => out.push(Val::Str(s)),
                    Some(s) => self.err(&p, "invalidReference", format!("'{pname}' must be an Interface DTMI, but '{s}' is not a valid DTMI for DTDL v{}", ctx.version)),
                    None => self.err(&p, "invalidReference", format!("'{pname}' must be a DTMI string, found {}", describe(v))),
                }
            }
            return out;
        }
        let Some(pclass) = pd.class.as_deref() else {
            return out;
        };
        let items: Vec<(String, &Value)> = match val {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (path_index(path, i), v))
                .collect(),
            v => vec![(path.to_string(), v)],
        };
        if let Some(max) = pd.max_count
            && items.len() > max
        {
            self.err(
                path,
                "tooManyValues",
                format!(
                    "'{pname}' of a {class} takes at most {max} value(s), found {}",
                    items.len()
                ),
            );
        }
        if let Some(min) = pd.min_count
            && items.len() < min
        {
            self.err(
                path,
                "tooFewValues",
                format!(
                    "'{pname}' of a {class} needs at least {min} value(s), found {}",
                    items.len()
                ),
            );
        }
        for (p, v) in items {
            match v {
                Value::String(s) => {
                    let Some(target) = self.resolve(ctx, s) else {
                        let why = if s.starts_with("dtmi:") {
                            format!("'{s}' is not a valid DTMI for DTDL v{}", ctx.version)
                        } else {
                            format!("'{s}' is neither a DTMI nor a DTDL term")
                        };
                        self.err(
                            &p,
                            "invalidReference",
                            format!("'{pname}' must be a {pclass} or its identifier: {why}"),
                        );
                        continue;
                    };
                    self.refs.push(PendingRef {
                        from: id.to_string(),
                        prop: pname.to_string(),
                        target: target.clone(),
                        class: pclass.to_string(),
                        versions: pd.versions.clone(),
                        values: pd.value_uris.clone(),
                        path: p,
                        top: self.top.clone(),
                        supplemental: None,
                    });
                    out.push(Val::Ref {
                        id: target,
                        inline: false,
                    });
                }
                Value::Object(_) => {
                    if pd.value_uris.is_some() {
                        let allowed = pd.values.clone().unwrap_or_default().join(", ");
                        self.err(
                            &p,
                            "wrongValue",
                            format!("'{pname}' must be one of: {allowed}"),
                        );
                        continue;
                    }
                    let seg = pd.dtmi_segment.clone();
                    if let Some(cid) = self.parse_element(
                        v,
                        ctx,
                        Some((id, pname, pd)),
                        pclass,
                        &p,
                        seg.as_deref(),
                        false,
                    ) {
                        if let Some(child) = self.elements.get(&cid)
                            && let Some(vers) = &pd.versions
                            && !vers.contains(&child.version)
                        {
                            self.err(
                                &p,
                                "wrongVersion",
                                format!(
                                    "'{pname}' cannot hold a DTDL v{} element here",
                                    child.version
                                ),
                            );
                        }
                        self.refs.push(PendingRef {
                            from: id.to_string(),
                            prop: pname.to_string(),
                            target: cid.clone(),
                            class: pclass.to_string(),
                            versions: pd.versions.clone(),
                            values: None,
                            path: p,
                            top: self.top.clone(),
                            supplemental: None,
                        });
                        out.push(Val::Ref {
                            id: cid,
                            inline: true,
                        });
                    }
                }
                other => {
                    self.err(&p, "invalidReference", format!("'{pname}' must be a {pclass} (an object) or its identifier (a string), found {}", describe(other)));
                }
            }
        }
        out
    }

    fn parse_sup_values(
        &mut self,
        ctx: &Ctx,
        id: &str,
        _pid: &str,
        sp: &'static SupplementalProp,
        val: &Value,
        path: &str,
    ) -> Vec<Val> {
        let mut out = Vec::new();
        let items: Vec<(String, &Value)> = match val {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (path_index(path, i), v))
                .collect(),
            v => vec![(path.to_string(), v)],
        };
        if items.len() > sp.max_count.unwrap_or(usize::MAX) {
            self.err(
                path,
                "tooManyValues",
                format!("'{}' takes a single value", sp.property_name),
            );
            return out;
        }
        for (p, v) in items {
            let Value::String(s) = v else {
                self.err(
                    &p,
                    "invalidReference",
                    format!(
                        "'{}' must be a {} given by its term or DTMI, found {}",
                        sp.property_name,
                        sp.type_name,
                        describe(v)
                    ),
                );
                continue;
            };
            let Some(target) = self.resolve(ctx, s) else {
                self.err(
                    &p,
                    "invalidReference",
                    format!(
                        "'{s}' is not a known {} for '{}'",
                        sp.type_name, sp.property_name
                    ),
                );
                continue;
            };
            self.refs.push(PendingRef {
                from: id.to_string(),
                prop: sp.property_name.clone(),
                target: target.clone(),
                class: sp.type_name.clone(),
                versions: None,
                values: None,
                path: p,
                top: self.top.clone(),
                supplemental: Some((sp.type_id.clone(), sp.child_of.clone())),
            });
            out.push(Val::Ref {
                id: target,
                inline: false,
            });
        }
        out
    }

    /// A JSON-LD value object `{"@value": ..., "@type"?: ...}`: checks its
    /// keywords and returns the inner value and declared type.
    fn value_object<'v>(
        &mut self,
        ctx: &Ctx,
        pname: &str,
        o: &'v Map<String, Value>,
        path: &str,
        allow_language: bool,
    ) -> Option<(&'v Value, Option<String>, Option<&'v Value>)> {
        let restrict = self
            .mm
            .version(ctx.version)
            .is_some_and(|v| v.restrict_keywords);
        let mut ok = true;
        for k in o.keys() {
            match k.as_str() {
                "@value" => {}
                "@type" if !(allow_language && restrict) => {}
                "@language" if allow_language => {}
                "@id" | "@context" | "@graph" => {
                    self.err(
                        &path_key(path, k),
                        "invalidValueObject",
                        format!("a value of '{pname}' cannot have {k}"),
                    );
                    ok = false;
                }
                k2 if k2.starts_with('@') => {
                    if restrict {
                        self.err(&path_key(path, k), "invalidValueObject", format!("a value object of '{pname}' may only have @value and @type in DTDL v3, found {k}"));
                        ok = false;
                    }
                }
                _ => {
                    self.err(&path_key(path, k), "invalidValueObject", format!("a value object of '{pname}' may only have JSON-LD keywords (@value, @type), found '{k}'"));
                    ok = false;
                }
            }
        }
        let Some(v) = o.get("@value") else {
            self.err(
                path,
                "invalidValue",
                format!("the value object of '{pname}' has no @value"),
            );
            return None;
        };
        let ty = match o.get("@type") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(a)) if a.len() == 1 && a[0].is_string() => {
                a[0].as_str().map(String::from)
            }
            Some(other) => {
                self.err(
                    &path_key(path, "@type"),
                    "invalidValue",
                    format!(
                        "@type of a value of '{pname}' must be a single string, found {}",
                        describe(other)
                    ),
                );
                return None;
            }
        };
        if !ok {
            return None;
        }
        Some((v, ty, o.get("@language")))
    }

    fn parse_literal(
        &mut self,
        ctx: &Ctx,
        pname: &str,
        pd: &PropDef,
        dt: &str,
        v: &Value,
        path: &str,
    ) -> Option<Val> {
        let (inner, declared) = match v {
            Value::Object(o) => {
                let (iv, ty, _) = self.value_object(ctx, pname, o, path, false)?;
                (iv, ty)
            }
            other => (other, None),
        };
        let xsd = |t: &str| {
            [
                format!("xsd:{t}"),
                format!("http://www.w3.org/2001/XMLSchema#{t}"),
            ]
        };
        let type_ok = |t: &str| declared.as_ref().is_none_or(|d| xsd(t).contains(d));
        match dt {
            "string" => {
                let Value::String(s) = inner else {
                    self.err(
                        path,
                        "wrongValueType",
                        format!("'{pname}' must be a string, found {}", describe(inner)),
                    );
                    return None;
                };
                if !type_ok("string") {
                    self.err(
                        path,
                        "wrongValueType",
                        format!(
                            "'{pname}' must be a string; its value object declares another @type"
                        ),
                    );
                    return None;
                }
                if let Some(max) = pd.max_length
                    && s.chars().count() > max
                {
                    self.err(
                        path,
                        "stringTooLong",
                        format!(
                            "'{pname}' is {} characters long; the limit is {max}",
                            s.chars().count()
                        ),
                    );
                }
                if pd.pattern.is_some() && !is_name(s) {
                    let desc = pd.pattern_desc.as_deref().unwrap_or("is a valid name");
                    self.err(
                        path,
                        "invalidName",
                        format!(
                            "'{pname}' value \"{s}\" is not allowed: it must be a name that {desc}"
                        ),
                    );
                }
                Some(Val::Str(s.clone()))
            }
            "boolean" => {
                let Value::Bool(b) = inner else {
                    self.err(
                        path,
                        "wrongValueType",
                        format!("'{pname}' must be true or false, found {}", describe(inner)),
                    );
                    return None;
                };
                if !type_ok("boolean") {
                    self.err(
                        path,
                        "wrongValueType",
                        format!(
                            "'{pname}' must be a boolean; its value object declares another @type"
                        ),
                    );
                    return None;
                }
                Some(Val::Bool(*b))
            }
            "integer" => {
                let n = match inner {
                    Value::Number(n) => n.as_i64().or_else(|| {
                        n.as_f64()
                            .filter(|f| f.fract() == 0.0 && f.abs() < 2.0e9)
                            .map(|f| f as i64)
                    }),
                    _ => None,
                };
                let Some(n) = n.filter(|n| i32::try_from(*n).is_ok()) else {
                    self.err(
                        path,
                        "wrongValueType",
                        format!("'{pname}' must be an integer, found {}", describe(inner)),
                    );
                    return None;
                };
                if !type_ok("integer") {
                    self.err(
                        path,
                        "wrongValueType",
                        format!(
                            "'{pname}' must be an integer; its value object declares another @type"
                        ),
                    );
                    return None;
                }
                match (pd.min_inclusive, pd.max_inclusive) {
                    (Some(lo), Some(hi)) if lo == hi && n != lo => {
                        self.err(
                            path,
                            "valueOutOfRange",
                            format!("'{pname}' must be {lo}, found {n}"),
                        );
                    }
                    (Some(lo), hi) if n < lo => {
                        let range = hi.map_or(format!("at least {lo}"), |h| {
                            format!("between {lo} and {h}")
                        });
                        self.err(
                            path,
                            "valueOutOfRange",
                            format!("'{pname}' must be {range}, found {n}"),
                        );
                    }
                    (lo, Some(hi)) if n > hi => {
                        let range =
                            lo.map_or(format!("at most {hi}"), |l| format!("between {l} and {hi}"));
                        self.err(
                            path,
                            "valueOutOfRange",
                            format!("'{pname}' must be {range}, found {n}"),
                        );
                    }
                    _ => {}
                }
                Some(Val::Int(n))
            }
            _ => None,
        }
    }

    fn parse_lang(
        &mut self,
        ctx: &Ctx,
        pname: &str,
        pd: &PropDef,
        v: &Value,
        path: &str,
    ) -> Option<BTreeMap<String, String>> {
        let default_lang = pd.default_language.clone().unwrap_or_else(|| "en".into());
        let max = pd.max_length;
        let mut out = BTreeMap::new();
        let check_len = |me: &mut Self, s: &str, p: &str| {
            if let Some(m) = max
                && s.chars().count() > m
            {
                me.err(
                    p,
                    "stringTooLong",
                    format!(
                        "'{pname}' is {} characters long; the limit is {m}",
                        s.chars().count()
                    ),
                );
            }
        };
        match v {
            Value::Object(o)
                if !o.contains_key("@value") && !o.keys().any(|k| k.starts_with('@')) =>
            {
                for (lang, s) in o {
                    let p = path_key(path, lang);
                    if !is_language_code(lang) {
                        self.err(
                            &p,
                            "invalidLanguage",
                            format!("'{lang}' is not a language code such as \"en\" or \"en-US\""),
                        );
                        continue;
                    }
                    let Value::String(s) = s else {
                        self.err(
                            &p,
                            "wrongValueType",
                            format!(
                                "each localized '{pname}' must be a string, found {}",
                                describe(s)
                            ),
                        );
                        continue;
                    };
                    check_len(self, s, &p);
                    out.insert(lang.clone(), s.clone());
                }
                Some(out)
            }
            Value::Object(_) => {
                self.err(path, "wrongValueType", format!("'{pname}' must be a string, an array of strings or language-tagged values, or a map from language code to string; a single value object is not allowed"));
                None
            }
            Value::String(s) => {
                check_len(self, s, path);
                out.insert(default_lang, s.clone());
                Some(out)
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let p = path_index(path, i);
                    match item {
                        Value::String(s) => {
                            if out.contains_key(&default_lang) {
                                self.err(
                                    &p,
                                    "duplicateLanguage",
                                    format!("'{pname}' has more than one value without a language"),
                                );
                                continue;
                            }
                            check_len(self, s, &p);
                            out.insert(default_lang.clone(), s.clone());
                        }
                        Value::Object(o) => {
                            let Some((iv, _ty, lang)) = self.value_object(ctx, pname, o, &p, true)
                            else {
                                continue;
                            };
                            let Value::String(s) = iv else {
                                self.err(
                                    &p,
                                    "wrongValueType",
                                    format!(
                                        "@value of '{pname}' must be a string, found {}",
                                        describe(iv)
                                    ),
                                );
                                continue;
                            };
                            let lang = match lang {
                                None => default_lang.clone(),
                                Some(Value::String(l)) if is_language_code(l) => l.clone(),
                                Some(l) => {
                                    self.err(&p, "invalidLanguage", format!("@language {} is not a language code such as \"en\" or \"en-US\"", describe(l)));
                                    continue;
                                }
                            };
                            if out.contains_key(&lang) {
                                self.err(
                                    &p,
                                    "duplicateLanguage",
                                    format!(
                                        "'{pname}' has more than one value for language '{lang}'"
                                    ),
                                );
                                continue;
                            }
                            check_len(self, s, &p);
                            out.insert(lang, s.clone());
                        }
                        other => {
                            self.err(&p, "wrongValueType", format!("each '{pname}' value must be a string or a language-tagged value, found {}", describe(other)));
                        }
                    }
                }
                Some(out)
            }
            other => {
                self.err(path, "wrongValueType", format!("'{pname}' must be a string or a map from language code to string, found {}", describe(other)));
                None
            }
        }
    }
}

/// DTDL's feature extensions (all for DTDL v3 and later) and their versions.
fn is_v3_language_extension(versionless: &str, major: u32) -> bool {
    let max = match versionless.strip_prefix("dtmi:dtdl:extension:") {
        Some("quantitativeTypes" | "mqtt") => 4,
        Some("historization" | "annotation" | "overriding" | "requirement") => 2,
        _ => 0,
    };
    (1..=max).contains(&major)
}

pub(crate) fn term_of(mm: &Metamodel, dtmi: &str) -> String {
    for v in [3u8, 2] {
        if let Some(t) = mm.index(v).term_by_dtmi.get(dtmi) {
            return t.clone();
        }
    }
    for e in mm.extensions.values() {
        if let Some((t, _)) = e.terms.iter().find(|(_, d)| d.as_str() == dtmi) {
            return t.clone();
        }
    }
    dtmi.to_string()
}

fn concrete_list(mm: &Metamodel, v: u8, class: &str) -> String {
    let list = mm
        .class(v, class)
        .map(|c| c.concrete.clone())
        .unwrap_or_default();
    if list.is_empty() {
        class.to_string()
    } else {
        list.join(", ")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn language_codes() {
        assert!(is_language_code("en"));
        assert!(is_language_code("en-US"));
        assert!(is_language_code("zh-Hans-CN"));
        assert!(!is_language_code("en-us"));
        assert!(!is_language_code("e"));
        assert!(!is_language_code(""));
    }

    #[test]
    fn names() {
        assert!(is_name("a"));
        assert!(is_name("a_b1"));
        assert!(!is_name("a_"));
        assert!(!is_name("1a"));
        assert!(!is_name(""));
    }
}
