//! Checking twins, property values (JSON Patch operations) and relationships
//! against their models, with ADT's rules: only Properties are twin members,
//! components are objects with their own `$metadata`, keys starting with `$`
//! are system keys, unknown members are rejected.

use crate::error::TwinValidationError;
use crate::model::{EnumLiteral, ExpandedModel, RelationshipDef, Schema};
use crate::registry::ModelRegistry;
use serde_json::{Map, Value};

type Errors = Vec<TwinValidationError>;

fn push(errors: &mut Errors, path: &str, code: &'static str, message: String) {
    errors.push(TwinValidationError {
        path: path.to_string(),
        code,
        message,
    });
}

fn child(path: &str, key: &str) -> String {
    // JSON Pointer escaping.
    format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// `hh:mm:ss(.fff)?(Z|±hh:mm)?` (RFC 3339 partial-time with optional offset).
fn is_time(s: &str, require_offset: bool) -> bool {
    let b = s.as_bytes();
    if b.len() < 8
        || !digits(&b[0..2])
        || b[2] != b':'
        || !digits(&b[3..5])
        || b[5] != b':'
        || !digits(&b[6..8])
    {
        return false;
    }
    let (h, m, sec) = (
        (b[0] - b'0') * 10 + (b[1] - b'0'),
        (b[3] - b'0') * 10 + (b[4] - b'0'),
        (b[6] - b'0') * 10 + (b[7] - b'0'),
    );
    if h > 23 || m > 59 || sec > 60 {
        return false;
    }
    let mut rest = &b[8..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &rest[1 + n..];
    }
    match rest {
        [] => !require_offset,
        [b'Z'] | [b'z'] => true,
        [sign, h1, h2, b':', m1, m2] if (*sign == b'+' || *sign == b'-') => {
            digits(&[*h1, *h2, *m1, *m2])
        }
        _ => false,
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10
        || !digits(&b[0..4])
        || b[4] != b'-'
        || !digits(&b[5..7])
        || b[7] != b'-'
        || !digits(&b[8..10])
    {
        return false;
    }
    let month = (b[5] - b'0') * 10 + (b[6] - b'0');
    let day = (b[8] - b'0') * 10 + (b[9] - b'0');
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

fn is_date_time(s: &str) -> bool {
    match s.split_once(['T', 't']) {
        Some((d, t)) => is_date(d) && is_time(t, true),
        None => false,
    }
}

/// ISO 8601 duration `PnYnMnWnDTnHnMnS` (at least one component; fractions allowed).
fn is_duration(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('P') else {
        return false;
    };
    if rest.is_empty() {
        return false;
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => {
            if t.is_empty() {
                return false;
            }
            (d, Some(t))
        }
        None => (rest, None),
    };
    fn parts(s: &str, units: &[u8]) -> bool {
        let mut idx = 0;
        let mut num = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
                continue;
            }
            let Some(pos) = units[idx..].iter().position(|u| *u as char == c) else {
                return false;
            };
            if num.is_empty()
                || num.starts_with('.')
                || num.ends_with('.')
                || num.matches('.').count() > 1
            {
                return false;
            }
            num.clear();
            idx += pos + 1;
        }
        num.is_empty()
    }
    parts(date, b"YMWD") && time.is_none_or(|t| parts(t, b"HMS"))
}

/// Checks `v` against `schema`, adding every problem to `errors`.
pub(crate) fn check_value(schema: &Schema, v: &Value, path: &str, errors: &mut Errors) {
    let wrong = |errors: &mut Errors, want: &str| {
        push(
            errors,
            path,
            "wrongType",
            format!(
                "expected {want}, found {} ({})",
                kind(v),
                crate::parser::describe(v)
            ),
        );
    };
    match schema {
        Schema::Boolean => {
            if !v.is_boolean() {
                wrong(errors, "a boolean");
            }
        }
        Schema::Integer => match v.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => {}
            Some(_) => push(
                errors,
                path,
                "outOfRange",
                format!("{v} does not fit a DTDL integer (32-bit signed)"),
            ),
            None => wrong(errors, "an integer"),
        },
        Schema::Long => {
            if v.as_i64().is_none() {
                wrong(errors, "a long integer");
            }
        }
        Schema::Double => {
            if !v.is_number() {
                wrong(errors, "a number");
            }
        }
        Schema::Float => match v.as_f64() {
            Some(f) if f.abs() <= f64::from(f32::MAX) => {}
            Some(_) => push(
                errors,
                path,
                "outOfRange",
                format!("{v} does not fit a DTDL float (32-bit)"),
            ),
            None => wrong(errors, "a number"),
        },
        Schema::String => {
            if !v.is_string() {
                wrong(errors, "a string");
            }
        }
        Schema::Date => {
            if !v.as_str().is_some_and(is_date) {
                wrong(errors, "a date such as \"2024-05-01\"");
            }
        }
        Schema::DateTime => {
            if !v.as_str().is_some_and(is_date_time) {
                wrong(errors, "a date-time such as \"2024-05-01T12:00:00Z\"");
            }
        }
        Schema::Time => {
            if !v.as_str().is_some_and(|s| is_time(s, false)) {
                wrong(errors, "a time such as \"12:00:00\"");
            }
        }
        Schema::Duration => {
            if !v.as_str().is_some_and(is_duration) {
                wrong(errors, "an ISO 8601 duration such as \"PT15M\"");
            }
        }
        Schema::Array { element } => match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_value(element, item, &format!("{path}/{i}"), errors);
                }
            }
            _ => wrong(errors, "an array"),
        },
        Schema::Enum { values, .. } => {
            let ok = values.iter().any(|ev| match (&ev.value, v) {
                (EnumLiteral::Integer(i), Value::Number(n)) => n.as_i64() == Some(*i),
                (EnumLiteral::String(s), Value::String(x)) => s == x,
                _ => false,
            });
            if !ok {
                let allowed: Vec<String> = values
                    .iter()
                    .map(|ev| match &ev.value {
                        EnumLiteral::Integer(i) => i.to_string(),
                        EnumLiteral::String(s) => format!("\"{s}\""),
                    })
                    .collect();
                push(
                    errors,
                    path,
                    "notInEnum",
                    format!(
                        "{} is not one of the enum values: {}",
                        crate::parser::describe(v),
                        allowed.join(", ")
                    ),
                );
            }
        }
        Schema::Map { value, .. } => match v {
            Value::Object(m) => {
                for (k, item) in m {
                    if k.is_empty() {
                        push(
                            errors,
                            path,
                            "invalidMapKey",
                            "map keys must not be empty".into(),
                        );
                    }
                    check_value(value, item, &child(path, k), errors);
                }
            }
            _ => wrong(errors, "an object (a map)"),
        },
        Schema::Object { fields } => match v {
            Value::Object(m) => {
                for (k, item) in m {
                    match fields.iter().find(|f| &f.name == k) {
                        Some(f) => check_value(&f.schema, item, &child(path, k), errors),
                        None => {
                            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                            push(
                                errors,
                                &child(path, k),
                                "unknownField",
                                format!(
                                    "'{k}' is not a field of this object; its fields are: {}",
                                    names.join(", ")
                                ),
                            );
                        }
                    }
                }
            }
            _ => wrong(errors, "an object"),
        },
        Schema::Unknown => {}
    }
}

impl ModelRegistry {
    fn model_or_err(&self, id: &str, path: &str, errors: &mut Errors) -> Option<&ExpandedModel> {
        match self.expanded(id) {
            Some(m) => Some(m),
            None => {
                push(
                    errors,
                    path,
                    "modelNotFound",
                    format!("model '{id}' is not in the registry"),
                );
                None
            }
        }
    }

    /// Checks the members of a twin or a component against `model`.
    fn check_members(
        &self,
        model: &ExpandedModel,
        obj: &Map<String, Value>,
        base: &str,
        is_component: bool,
        errors: &mut Errors,
    ) {
        for (k, v) in obj {
            let p = child(base, k);
            if k.starts_with('$') {
                if k == "$metadata" && !v.is_object() {
                    push(
                        errors,
                        &p,
                        "invalidMetadata",
                        "$metadata must be an object".into(),
                    );
                }
                continue;
            }
            if let Some(prop) = model.properties.get(k) {
                if v.is_null() {
                    push(
                        errors,
                        &p,
                        "wrongType",
                        format!(
                            "property '{k}' cannot be null; omit it (or remove it with a patch) instead"
                        ),
                    );
                } else {
                    check_value(&prop.schema, v, &p, errors);
                }
            } else if let Some(comp) = model.components.get(k) {
                if is_component {
                    push(
                        errors,
                        &p,
                        "unknownProperty",
                        format!("'{k}' is a component of a component, which DTDL does not allow"),
                    );
                    continue;
                }
                match v {
                    Value::Object(c) => {
                        if let Some(cm) = self.model_or_err(&comp.schema, &p, errors) {
                            self.check_members(cm, c, &p, true, errors);
                        }
                    }
                    _ => push(
                        errors,
                        &p,
                        "wrongType",
                        format!(
                            "component '{k}' must be an object (with its own \"$metadata\": {{}}), found {}",
                            kind(v)
                        ),
                    ),
                }
            } else if model.telemetries.contains_key(k) {
                push(
                    errors,
                    &p,
                    "notAProperty",
                    format!(
                        "'{k}' is a Telemetry of {}; telemetry is sent as events, not stored on the twin",
                        model.id
                    ),
                );
            } else if model.commands.contains_key(k) {
                push(
                    errors,
                    &p,
                    "notAProperty",
                    format!(
                        "'{k}' is a Command of {}; it cannot be set on the twin",
                        model.id
                    ),
                );
            } else if model.relationships.contains_key(k) {
                push(
                    errors,
                    &p,
                    "notAProperty",
                    format!(
                        "'{k}' is a Relationship of {}; create it as a relationship, not a twin property",
                        model.id
                    ),
                );
            } else {
                let mut names: Vec<&str> = model
                    .properties
                    .keys()
                    .chain(model.components.keys())
                    .map(String::as_str)
                    .collect();
                names.sort_unstable();
                push(
                    errors,
                    &p,
                    "unknownProperty",
                    format!(
                        "'{k}' is not a property of {}; it has: {}",
                        model.id,
                        if names.is_empty() {
                            "no properties".into()
                        } else {
                            names.join(", ")
                        }
                    ),
                );
            }
        }
    }

    /// Checks a whole twin document (`$dtId`, `$etag`, `$metadata` with
    /// `$model`, properties, components) against its model, as for creating
    /// or replacing a twin: every component must be present.
    pub fn validate_twin(&self, twin: &Value) -> Result<(), Vec<TwinValidationError>> {
        let mut errors = Vec::new();
        let Value::Object(obj) = twin else {
            push(
                &mut errors,
                "",
                "notAnObject",
                format!("a twin must be a JSON object, found {}", kind(twin)),
            );
            return Err(errors);
        };
        let model_id = match obj.get("$metadata") {
            Some(Value::Object(md)) => match md.get("$model") {
                Some(Value::String(s)) => Some(s.as_str()),
                Some(other) => {
                    push(
                        &mut errors,
                        "/$metadata/$model",
                        "invalidModel",
                        format!("$model must be a model id (string), found {}", kind(other)),
                    );
                    None
                }
                None => {
                    push(
                        &mut errors,
                        "/$metadata",
                        "missingModel",
                        "$metadata must give the twin's model in \"$model\"".into(),
                    );
                    None
                }
            },
            Some(other) => {
                push(
                    &mut errors,
                    "/$metadata",
                    "invalidMetadata",
                    format!("$metadata must be an object, found {}", kind(other)),
                );
                None
            }
            None => {
                push(
                    &mut errors,
                    "",
                    "missingModel",
                    "a twin needs \"$metadata\": {\"$model\": \"<model id>\"}".into(),
                );
                None
            }
        };
        if let Some(id) = obj.get("$dtId")
            && !id.is_string()
        {
            push(
                &mut errors,
                "/$dtId",
                "invalidId",
                format!("$dtId must be a string, found {}", kind(id)),
            );
        }
        if let Some(mid) = model_id
            && let Some(model) = self.model_or_err(mid, "/$metadata/$model", &mut errors)
        {
            self.check_members(model, obj, "", false, &mut errors);
            for (name, comp) in &model.components {
                if !obj.contains_key(name) {
                    push(
                        &mut errors,
                        &child("", name),
                        "missingComponent",
                        format!(
                            "component '{name}' (model {}) must be present when the twin is created; give at least {{\"$metadata\": {{}}}}",
                            comp.schema
                        ),
                    );
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Checks a twin's members (properties and component objects; `$`-keys are
    /// skipped) against `model` without building a twin document: what
    /// `validate_twin` checks after reading `$metadata.$model`, including that
    /// every component is present. Component objects need no `$metadata`.
    pub fn validate_members(
        &self,
        model: &str,
        members: &Map<String, Value>,
    ) -> Result<(), Vec<TwinValidationError>> {
        let mut errors = Vec::new();
        if let Some(m) = self.model_or_err(model, "/$metadata/$model", &mut errors) {
            self.check_members(m, members, "", false, &mut errors);
            for (name, comp) in &m.components {
                if !members.contains_key(name) {
                    push(
                        &mut errors,
                        &child("", name),
                        "missingComponent",
                        format!(
                            "component '{name}' (model {}) must be present when the twin is created; give at least {{\"$metadata\": {{}}}}",
                            comp.schema
                        ),
                    );
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Checks the value a JSON Patch `add`/`replace` puts at `pointer` (e.g.
    /// `/setPoint`, `/thermostat/setPoint`, `/address/city`, `/tags/key`) of a
    /// twin of `model`. For `remove`, call it with `value` = `None`: only the path is checked.
    pub fn validate_property(
        &self,
        model: &str,
        pointer: &str,
        value: Option<&Value>,
    ) -> Result<(), Vec<TwinValidationError>> {
        let mut errors = Vec::new();
        let Some(m) = self.model_or_err(model, pointer, &mut errors) else {
            return Err(errors);
        };
        let segs: Vec<String> = match pointer.strip_prefix('/') {
            Some(rest) => rest
                .split('/')
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect(),
            None => {
                push(
                    &mut errors,
                    pointer,
                    "invalidPath",
                    format!("'{pointer}' is not a JSON Pointer; it must start with '/'"),
                );
                return Err(errors);
            }
        };
        let Some(first) = segs.first() else {
            return Err(errors);
        };
        if first.starts_with('$') {
            push(
                &mut errors,
                pointer,
                "systemProperty",
                format!("'{first}' is a system property and cannot be patched"),
            );
            return Err(errors);
        }
        // Component: `/comp`, `/comp/prop/...`.
        let (model, rest, base): (&ExpandedModel, &[String], String) =
            if let Some(comp) = m.components.get(first) {
                let Some(cm) = self.model_or_err(&comp.schema, pointer, &mut errors) else {
                    return Err(errors);
                };
                if segs.len() == 1 {
                    if let Some(v) = value {
                        match v {
                            Value::Object(o) => {
                                self.check_members(cm, o, &child("", first), true, &mut errors)
                            }
                            _ => push(
                                &mut errors,
                                pointer,
                                "wrongType",
                                format!("component '{first}' must be an object, found {}", kind(v)),
                            ),
                        }
                    } else {
                        push(
                            &mut errors,
                            pointer,
                            "componentRequired",
                            format!("component '{first}' cannot be removed"),
                        );
                    }
                    return if errors.is_empty() {
                        Ok(())
                    } else {
                        Err(errors)
                    };
                }
                if segs[1].starts_with('$') {
                    return Ok(());
                }
                (cm, &segs[1..], child("", first))
            } else {
                (m, &segs[..], String::new())
            };
        let Some(pname) = rest.first() else {
            return Err(errors);
        };
        let Some(prop) = model.properties.get(pname) else {
            let mut tmp = Map::new();
            tmp.insert(pname.clone(), Value::Bool(true));
            self.check_members(model, &tmp, &base, !base.is_empty(), &mut errors);
            if errors.is_empty() {
                push(
                    &mut errors,
                    pointer,
                    "unknownProperty",
                    format!("'{pname}' is not a property of {}", model.id),
                );
            }
            return Err(errors);
        };
        // Walk into the schema for deeper paths.
        let mut schema: &Schema = &prop.schema;
        let mut path = child(&base, pname);
        for seg in &rest[1..] {
            path = child(&path, seg);
            schema = match schema {
                Schema::Object { fields } => match fields.iter().find(|f| &f.name == seg) {
                    Some(f) => &f.schema,
                    None => {
                        push(
                            &mut errors,
                            &path,
                            "unknownField",
                            format!("'{seg}' is not a field of '{pname}'"),
                        );
                        return Err(errors);
                    }
                },
                Schema::Map { value, .. } => value,
                Schema::Array { element } if seg == "-" || seg.parse::<usize>().is_ok() => element,
                _ => {
                    push(
                        &mut errors,
                        &path,
                        "invalidPath",
                        format!("'{pname}' has no member '{seg}'"),
                    );
                    return Err(errors);
                }
            };
        }
        if let Some(v) = value {
            if v.is_null() {
                push(
                    &mut errors,
                    pointer,
                    "wrongType",
                    "a property value cannot be null; remove the property instead".into(),
                );
            } else {
                check_value(schema, v, pointer, &mut errors);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Checks a relationship of `source_model` named `name` to a twin of
    /// `target_model` (`None` when the target twin's model is not known yet),
    /// with its `properties` (a JSON object of the relationship's own
    /// properties; `$`-keys are ignored). Returns the relationship's definition,
    /// whose `min_multiplicity`/`max_multiplicity` the graph enforces.
    pub fn validate_relationship(
        &self,
        source_model: &str,
        name: &str,
        target_model: Option<&str>,
        properties: &Value,
    ) -> Result<&RelationshipDef, Vec<TwinValidationError>> {
        match properties {
            Value::Object(props) => {
                self.validate_relationship_properties(source_model, name, target_model, props)
            }
            Value::Null => {
                self.validate_relationship_properties(source_model, name, target_model, &Map::new())
            }
            other => Err(vec![TwinValidationError {
                path: String::new(),
                code: "notAnObject",
                message: format!(
                    "relationship properties must be an object, found {}",
                    kind(other)
                ),
            }]),
        }
    }

    /// [`validate_relationship`](Self::validate_relationship) for properties
    /// already held as a JSON object map (no copy needed).
    pub fn validate_relationship_properties(
        &self,
        source_model: &str,
        name: &str,
        target_model: Option<&str>,
        props: &Map<String, Value>,
    ) -> Result<&RelationshipDef, Vec<TwinValidationError>> {
        let mut errors = Vec::new();
        let Some(m) = self.model_or_err(source_model, "", &mut errors) else {
            return Err(errors);
        };
        let Some(rel) = m.relationships.get(name) else {
            let names: Vec<&str> = m.relationships.keys().map(String::as_str).collect();
            push(
                &mut errors,
                "/$relationshipName",
                "unknownRelationship",
                format!(
                    "'{name}' is not a relationship of {source_model}; it has: {}",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            );
            return Err(errors);
        };
        if let (Some(target), Some(tm)) = (&rel.target, target_model)
            && !self.is_subtype_of(tm, target)
        {
            push(
                &mut errors,
                "/$targetId",
                "wrongTarget",
                format!(
                    "relationship '{name}' of {source_model} must target a twin of {target} (or a model extending it); the target twin's model is {tm}"
                ),
            );
        }
        for (k, v) in props {
            if k.starts_with('$') {
                continue;
            }
            let p = child("", k);
            match rel.properties.get(k) {
                Some(pd) => check_value(&pd.schema, v, &p, &mut errors),
                None => {
                    let names: Vec<&str> = rel.properties.keys().map(String::as_str).collect();
                    push(
                        &mut errors,
                        &p,
                        "unknownProperty",
                        format!(
                            "'{k}' is not a property of relationship '{name}'; it has: {}",
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        ),
                    );
                }
            }
        }
        if errors.is_empty() {
            Ok(rel.as_ref())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn temporal_formats() {
        assert!(is_date("2024-05-01"));
        assert!(!is_date("2024-13-01"));
        assert!(is_date_time("2024-05-01T12:00:00Z"));
        assert!(is_date_time("2024-05-01T12:00:00.123+02:00"));
        assert!(!is_date_time("2024-05-01T12:00:00"));
        assert!(is_time("12:00:00", false));
        assert!(!is_time("25:00:00", false));
        assert!(is_duration("PT15M"));
        assert!(is_duration("P1Y2M3DT4H5M6.5S"));
        assert!(!is_duration("P"));
        assert!(!is_duration("PT"));
        assert!(!is_duration("15M"));
    }
}
