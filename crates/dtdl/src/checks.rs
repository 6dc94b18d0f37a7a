//! Checks that need the whole batch (and the models already registered):
//! references and their types, `extends` chains, schema nesting, names unique
//! across inherited contents, co-type constraints.

use crate::error::ModelError;
use crate::metamodel::Metamodel;
use crate::parser::{Element, IdMap, PendingRef, Val, term_of};
use crate::standard::standard_elements;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Every element visible to a batch: its own, the registry's, DTDL's standard ones.
pub(crate) struct Lookup<'a> {
    pub batch: &'a IdMap<Element>,
    pub existing: &'a IdMap<Element>,
}

impl<'a> Lookup<'a> {
    pub(crate) fn get(&self, id: &str) -> Option<&'a Element> {
        self.batch
            .get(id)
            .or_else(|| self.existing.get(id))
            .or_else(|| standard_elements().get(id))
    }
}

fn err_at(e: &Element, path: &str, code: &'static str, message: String) -> ModelError {
    ModelError {
        document: e.doc,
        dtmi: Some(e.top.clone()).filter(|t| !t.is_empty()),
        path: path.to_string(),
        code,
        message,
    }
}

/// Object-valued properties of an element (by name), inline or referenced.
fn children(e: &Element) -> impl Iterator<Item = (&str, &str)> {
    e.props.iter().flat_map(|(k, vs)| {
        vs.iter()
            .filter_map(move |v| v.as_ref_id().map(|id| (k.as_str(), id)))
    })
}

pub(crate) fn check_refs(
    mm: &Metamodel,
    refs: &[PendingRef],
    look: &Lookup<'_>,
    errors: &mut Vec<ModelError>,
) {
    for r in refs {
        let Some(from) = look.get(&r.from) else {
            continue;
        };
        let Some(target) = look.get(&r.target) else {
            errors.push(err_at(
                from,
                &r.path,
                "unresolvedReference",
                format!(
                    "'{}' refers to '{}', which is not defined in this batch, in the models already uploaded, or by DTDL",
                    r.prop, r.target
                ),
            ));
            continue;
        };
        if let Some((type_id, child_of)) = &r.supplemental {
            let ok = match child_of {
                Some(parent_enum) => {
                    target.class == "EnumValue"
                        && target.parent.as_deref() == Some(parent_enum.as_str())
                }
                None => {
                    target
                        .cotypes
                        .iter()
                        .any(|c| mm.supplemental_ancestry(c).contains(&type_id.as_str()))
                        || (type_id.starts_with("dtmi:dtdl:class:")
                            && mm.is_a(target.version, &target.class, &r.class))
                }
            };
            if !ok {
                let want = child_of
                    .as_deref()
                    .map_or_else(|| term_of(mm, type_id), |c| term_of(mm, c));
                errors.push(err_at(
                    from,
                    &r.path,
                    "wrongUnit",
                    format!("'{}' is '{}', which is not a {want}; use a {want} that matches the semantic type", r.prop, term_of(mm, &r.target)),
                ));
            }
            continue;
        }
        // Only Interfaces can be referenced from outside the Interface that defines them.
        if target.partition != from.partition
            && target.class != "Interface"
            && target.partition != "dtmi:dtdl:standard"
            && !r_inline(from, r)
        {
            errors.push(err_at(
                from,
                &r.path,
                "unreferenceable",
                format!(
                    "'{}' refers to '{}', a {} defined inside another Interface ({}); only Interfaces, and elements of the same Interface, can be referenced by identifier",
                    r.prop, r.target, target.class, target.partition
                ),
            ));
            continue;
        }
        if !mm.is_a(from.version, &target.class, &r.class) {
            let allowed = mm
                .class(from.version, &r.class)
                .map(|c| c.concrete.join(", "))
                .unwrap_or_default();
            errors.push(err_at(
                from,
                &r.path,
                "wrongType",
                format!(
                    "'{}' must be one of: {allowed}; '{}' is a {}",
                    r.prop, r.target, target.class
                ),
            ));
            continue;
        }
        if let Some(vals) = &r.values
            && !vals.contains(&r.target)
        {
            let names: Vec<String> = vals
                .iter()
                .map(|v| term_of(mm, v))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            errors.push(err_at(
                from,
                &r.path,
                "wrongValue",
                format!(
                    "'{}' must be one of: {}; found '{}'",
                    r.prop,
                    names.join(", "),
                    term_of(mm, &r.target)
                ),
            ));
            continue;
        }
        if let Some(vers) = &r.versions
            && !vers.contains(&target.version)
            && target.partition != "dtmi:dtdl:standard"
        {
            errors.push(err_at(
                from,
                &r.path,
                "wrongVersion",
                format!("'{}' refers to '{}', a DTDL v{} element; a DTDL v{} {} can only refer to DTDL v{} elements here", r.prop, r.target, target.version, from.version, from.class, vers.iter().map(u8::to_string).collect::<Vec<_>>().join(" or v")),
            ));
        }
    }
}

fn r_inline(from: &Element, r: &PendingRef) -> bool {
    from.props.get(&r.prop).is_some_and(|vs| {
        vs.iter()
            .any(|v| matches!(v, Val::Ref { id, inline: true } if id == &r.target))
    })
}

/// Transitive `extends` of an Interface; reports cycles and excess depth.
pub(crate) fn check_extends(look: &Lookup<'_>, e: &Element, errors: &mut Vec<ModelError>) {
    const MAX_DEPTH: usize = 10;
    fn depth(
        look: &Lookup<'_>,
        id: &str,
        stack: &mut Vec<String>,
        memo: &mut HashMap<String, usize>,
    ) -> Result<usize, Vec<String>> {
        if let Some(d) = memo.get(id) {
            return Ok(*d);
        }
        if stack.iter().any(|s| s == id) {
            let mut cycle = stack.clone();
            cycle.push(id.to_string());
            return Err(cycle);
        }
        let Some(el) = look.get(id) else { return Ok(0) };
        stack.push(id.to_string());
        let mut d = 0;
        for base in el.refs("extends") {
            d = d.max(depth(look, base, stack, memo)? + 1);
        }
        stack.pop();
        memo.insert(id.to_string(), d);
        Ok(d)
    }
    let mut memo = HashMap::new();
    match depth(look, &e.id, &mut Vec::new(), &mut memo) {
        Err(cycle) => errors.push(err_at(
            e,
            &e.path,
            "extendsCycle",
            format!("'extends' forms a cycle: {}; an Interface cannot extend itself, directly or indirectly", cycle.join(" -> ")),
        )),
        Ok(d) if d > MAX_DEPTH => errors.push(err_at(
            e,
            &e.path,
            "extendsTooDeep",
            format!("'extends' chains {d} levels deep from '{}'; DTDL allows at most {MAX_DEPTH}", e.id),
        )),
        Ok(_) => {
            if e.version >= 3 {
                let mut all = HashSet::new();
                let mut todo: Vec<&str> = e.refs("extends").collect();
                while let Some(x) = todo.pop() {
                    if all.insert(x.to_string())
                        && let Some(el) = look.get(x)
                    {
                        todo.extend(el.refs("extends"));
                    }
                }
                if all.len() > 1024 {
                    errors.push(err_at(e, &e.path, "tooManyExtends", format!("'{}' extends {} Interfaces in all; DTDL v3 allows at most 1024", e.id, all.len())));
                }
            }
        }
    }
}

/// Nesting of schemas (`schema`/`elementSchema` edges) below a complex schema.
pub(crate) fn check_schema_depth(look: &Lookup<'_>, e: &Element, errors: &mut Vec<ModelError>) {
    const MAX: usize = 5;
    fn walk(
        look: &Lookup<'_>,
        id: &str,
        depth: usize,
        stack: &mut Vec<String>,
    ) -> Result<usize, String> {
        if stack.iter().any(|s| s == id) {
            return Err(id.to_string());
        }
        let Some(el) = look.get(id) else {
            return Ok(depth);
        };
        stack.push(id.to_string());
        let mut max = depth;
        for (prop, child) in children(el) {
            let d = if prop == "schema" || prop == "elementSchema" {
                depth + 1
            } else {
                depth
            };
            if matches!(
                prop,
                "schema" | "elementSchema" | "fields" | "mapValue" | "mapKey" | "enumValues"
            ) {
                max = max.max(walk(look, child, d, stack)?);
            }
        }
        stack.pop();
        Ok(max)
    }
    match walk(look, &e.id, 0, &mut Vec::new()) {
        Err(at) => errors.push(err_at(
            e,
            &e.path,
            "recursiveSchema",
            format!(
                "schema '{}' contains itself (through '{at}'); schemas cannot be recursive",
                e.id
            ),
        )),
        Ok(d) if d > MAX => errors.push(err_at(
            e,
            &e.path,
            "schemaTooDeep",
            format!(
                "schemas are nested {d} levels deep below '{}'; DTDL allows at most {MAX}",
                e.id
            ),
        )),
        Ok(_) => {}
    }
}

/// DTDL v2: a Property's schema may not be or contain an Array.
pub(crate) fn check_property_no_array(
    look: &Lookup<'_>,
    e: &Element,
    errors: &mut Vec<ModelError>,
) {
    let mut todo: Vec<&str> = e.refs("schema").collect();
    let mut seen = HashSet::new();
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        let Some(el) = look.get(id) else { continue };
        if el.class == "Array" {
            errors.push(err_at(e, &e.path, "arrayInProperty", format!("Property '{}' uses an Array in its schema; DTDL v2 does not allow Arrays in Property schemas (use Telemetry, or DTDL v3)", e.str_prop("name").unwrap_or_default())));
            return;
        }
        for (_, c) in children(el) {
            todo.push(c);
        }
    }
}

/// A Component's schema may not itself contain Components, directly or
/// through the Interfaces it extends.
pub(crate) fn check_component(look: &Lookup<'_>, e: &Element, errors: &mut Vec<ModelError>) {
    for schema in e.refs("schema") {
        let mut todo = vec![schema];
        let mut seen = HashSet::new();
        while let Some(iid) = todo.pop() {
            if !seen.insert(iid) {
                continue;
            }
            let Some(iface) = look.get(iid) else { continue };
            if iface
                .refs("contents")
                .any(|c| look.get(c).is_some_and(|x| x.class == "Component"))
            {
                let via = if iid == schema {
                    String::new()
                } else {
                    format!(" (through '{iid}', which it extends)")
                };
                errors.push(err_at(
                    e,
                    &e.path,
                    "nestedComponent",
                    format!("Component '{}' has schema '{schema}', which itself has Components{via}; a Component's Interface cannot contain Components", e.str_prop("name").unwrap_or_default()),
                ));
                return;
            }
            todo.extend(iface.refs("extends"));
        }
    }
}

/// Enum values must match the Enum's valueSchema; names and values must be unique.
pub(crate) fn check_enum(look: &Lookup<'_>, e: &Element, errors: &mut Vec<ModelError>) {
    let vs = e.refs("valueSchema").next().unwrap_or_default();
    let want_int = vs.contains(":integer;");
    let want_str = vs.contains(":string;");
    let mut values: Vec<String> = Vec::new();
    for id in e.refs("enumValues") {
        let Some(ev) = look.get(id) else { continue };
        let v = ev.props.get("enumValue").and_then(|v| v.first());
        let (ok, key) = match v {
            Some(Val::Int(i)) => (want_int || !want_str, format!("i{i}")),
            Some(Val::Str(s)) => (want_str || !want_int, format!("s{s}")),
            _ => (true, String::new()),
        };
        if !ok {
            let want = if want_int { "an integer" } else { "a string" };
            errors.push(err_at(
                ev,
                &ev.path,
                "wrongEnumValue",
                format!(
                    "enumValue of '{}' must be {want}, as the Enum's valueSchema says",
                    ev.str_prop("name").unwrap_or_default()
                ),
            ));
        }
        if !key.is_empty() {
            if values.contains(&key) {
                errors.push(err_at(ev, &ev.path, "duplicateEnumValue", format!("enumValue {} appears more than once in the Enum; enum values must be unique", &key[1..])));
            }
            values.push(key);
        }
    }
}

/// Unique names among an element's children (contents, fields, enumValues,
/// relationship properties, request/response...).
pub(crate) fn check_unique_names(
    mm: &Metamodel,
    look: &Lookup<'_>,
    e: &Element,
    errors: &mut Vec<ModelError>,
) {
    let Some(cd) = mm.class(e.version, &e.class) else {
        return;
    };
    for (pname, pd) in &cd.properties {
        if pd.unique_properties.is_empty() {
            continue;
        }
        for up in &pd.unique_properties {
            let mut seen: HashMap<String, &str> = HashMap::new();
            for id in e.refs(pname) {
                let Some(c) = look.get(id) else { continue };
                let Some(v) = c.str_prop(up) else { continue };
                if seen.insert(v.to_string(), id).is_some() {
                    errors.push(err_at(c, &c.path, "duplicateName", format!("{up} '{v}' is used more than once in '{pname}' of '{}'; {up}s must be unique there", e.id)));
                }
            }
        }
    }
}

type NameMap = std::sync::Arc<BTreeMap<String, String>>;

/// Content names of an Interface, own and inherited: name → content id. Memoized.
fn names_of(
    look: &Lookup<'_>,
    id: &str,
    memo: &mut HashMap<String, NameMap>,
    depth: usize,
) -> NameMap {
    if let Some(m) = memo.get(id) {
        return m.clone();
    }
    // Guards cycles (reported by check_extends) and absurd depth.
    memo.insert(id.to_string(), NameMap::default());
    let mut map = BTreeMap::new();
    if let Some(iface) = look.get(id)
        && depth < 64
    {
        for c in iface.refs("contents") {
            if let Some(n) = look.get(c).and_then(|ce| ce.str_prop("name")) {
                map.entry(n.to_string()).or_insert_with(|| c.to_string());
            }
        }
        for base in iface.refs("extends") {
            for (n, c) in names_of(look, base, memo, depth + 1).iter() {
                map.entry(n.clone()).or_insert_with(|| c.clone());
            }
        }
    }
    let arc = NameMap::new(map);
    memo.insert(id.to_string(), arc.clone());
    arc
}

/// Reports a content name that two different contents share, one of them
/// inherited through `extends`.
pub(crate) fn check_inherited_names(
    look: &Lookup<'_>,
    e: &Element,
    memo: &mut HashMap<String, NameMap>,
    errors: &mut Vec<ModelError>,
) {
    let mut seen: HashMap<String, String> = HashMap::new();
    for c in e.refs("contents") {
        if let Some(n) = look.get(c).and_then(|ce| ce.str_prop("name")) {
            seen.entry(n.to_string()).or_insert_with(|| c.to_string());
        }
    }
    for base in e.refs("extends") {
        let names = names_of(look, base, memo, 1);
        for (n, c) in names.iter() {
            match seen.get(n) {
                Some(prev) if prev != c => {
                    errors.push(err_at(
                        e,
                        &e.path,
                        "duplicateName",
                        format!("Interface '{}' has two contents named '{n}' ('{prev}' and '{c}', one inherited through 'extends'); names must be unique across inherited contents", e.id),
                    ));
                    return;
                }
                Some(_) => {}
                None => {
                    seen.insert(n.clone(), c.clone());
                }
            }
        }
    }
}

/// Constraints co-types put on their element, e.g. a QuantitativeType needs a numeric schema.
pub(crate) fn check_cotype_constraints(
    mm: &Metamodel,
    look: &Lookup<'_>,
    e: &Element,
    errors: &mut Vec<ModelError>,
) {
    for c in &e.cotypes {
        for anc in mm.supplemental_ancestry(c) {
            let Some(st) = mm.supplemental_types.get(anc) else {
                continue;
            };
            for con in &st.constraints {
                let vals: Vec<&str> = e.refs(&con.property).collect();
                for v in vals {
                    if !con.required_values.is_empty()
                        && !con.required_values.iter().any(|r| r == v)
                    {
                        errors.push(err_at(
                            e,
                            &e.path,
                            "cotypeConstraint",
                            format!(
                                "co-type '{}' requires '{}' to be {}; found '{}'",
                                term_of(mm, c),
                                con.property,
                                con.required_values_string.clone().unwrap_or_default(),
                                term_of(mm, v)
                            ),
                        ));
                    }
                    if !con.required_types.is_empty() {
                        let Some(target) = look.get(v) else { continue };
                        let ok = con.required_types.iter().any(|t| {
                            let name = t
                                .strip_prefix("dtmi:dtdl:class:")
                                .and_then(|r| r.split(';').next())
                                .unwrap_or(t);
                            mm.is_a(target.version, &target.class, name)
                        });
                        if !ok {
                            errors.push(err_at(
                                e,
                                &e.path,
                                "cotypeConstraint",
                                format!(
                                    "co-type '{}' requires '{}' to be a {}; found a {}",
                                    term_of(mm, c),
                                    con.property,
                                    con.required_types_string.clone().unwrap_or_default(),
                                    target.class
                                ),
                            ));
                        }
                    }
                }
            }
        }
    }
}

/// Runs every batch-level check on the batch's elements.
pub(crate) fn check_batch(
    mm: &Metamodel,
    order: &[String],
    refs: &[PendingRef],
    look: &Lookup<'_>,
    errors: &mut Vec<ModelError>,
) {
    let before = errors.len();
    check_refs(mm, refs, look, errors);
    if errors.len() > before {
        // Structural checks walk references; skip them when references are broken.
        return;
    }
    // DTDL v3: at most 100,000 elements defined under one Interface.
    let mut per_partition: HashMap<&str, usize> = HashMap::new();
    for id in order {
        if let Some(e) = look.batch.get(id)
            && e.version >= 3
        {
            *per_partition.entry(e.partition.as_str()).or_default() += 1;
        }
    }
    for (p, n) in per_partition {
        if n > 100_000
            && let Some(e) = look.batch.get(p)
        {
            errors.push(err_at(e, &e.path, "tooManyElements", format!("Interface '{p}' defines {n} elements; DTDL v3 allows at most 100000 under one Interface")));
        }
    }
    let mut names_memo = HashMap::new();
    for id in order {
        let Some(e) = look.batch.get(id) else {
            continue;
        };
        match e.class.as_str() {
            "Interface" => {
                check_extends(look, e, errors);
                check_inherited_names(look, e, &mut names_memo, errors);
            }
            "Array" | "Map" | "Object" | "Enum" => check_schema_depth(look, e, errors),
            "Property" if e.version == 2 => check_property_no_array(look, e, errors),
            "Component" => check_component(look, e, errors),
            _ => {}
        }
        if e.class == "Enum" {
            check_enum(look, e, errors);
        }
        check_unique_names(mm, look, e, errors);
        check_cotype_constraints(mm, look, e, errors);
    }
}
