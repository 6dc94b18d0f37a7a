//! Compact JSON values with interned object keys.
//!
//! Twins hold their properties as [`Value`]s: object keys are [`Sym`]s (u32
//! handles into a [`Symbols`] table), numbers keep JSON's integer/float
//! distinction. Conversions to and from `serde_json::Value` are lossless.

use hashbrown::HashMap;
use std::cmp::Ordering;

/// An interned string (property name, relationship name, model id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

/// The interner. Symbols are never freed: the set of names is small (model
/// contents and ids), whatever the number of twins.
#[derive(Debug, Default, Clone)]
pub struct Symbols {
    ids: HashMap<Box<str>, Sym>,
    names: Vec<Box<str>>,
}

impl Symbols {
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(sym) = self.ids.get(s) {
            return *sym;
        }
        let sym = Sym(self.names.len() as u32);
        self.names.push(s.into());
        self.ids.insert(s.into(), sym);
        sym
    }

    /// The symbol of `s` if it was ever interned.
    pub fn get(&self, s: &str) -> Option<Sym> {
        self.ids.get(s).copied()
    }

    pub fn name(&self, sym: Sym) -> &str {
        self.names.get(sym.0 as usize).map(|s| &**s).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// A JSON value with interned object keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// Integers above `i64::MAX`.
    UInt(u64),
    Float(f64),
    Str(Box<str>),
    Array(Box<[Value]>),
    /// Members in document order.
    Object(Box<[(Sym, Value)]>),
}

impl Value {
    pub fn from_json(v: &serde_json::Value, syms: &mut Symbols) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Value::UInt(u)
                } else {
                    Value::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => Value::Str(s.as_str().into()),
            serde_json::Value::Array(a) => {
                Value::Array(a.iter().map(|v| Value::from_json(v, syms)).collect())
            }
            serde_json::Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (syms.intern(k), Value::from_json(v, syms)))
                    .collect(),
            ),
        }
    }

    pub fn to_json(&self, syms: &Symbols) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::UInt(u) => serde_json::Value::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::Array(a) => {
                serde_json::Value::Array(a.iter().map(|v| v.to_json(syms)).collect())
            }
            Value::Object(o) => serde_json::Value::Object(
                o.iter()
                    .map(|(k, v)| (syms.name(*k).to_string(), v.to_json(syms)))
                    .collect(),
            ),
        }
    }

    /// The member `key` of an object.
    pub fn get(&self, key: Sym) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Value::Int(_) | Value::UInt(_) | Value::Float(_))
    }

    pub fn is_primitive(&self) -> bool {
        matches!(
            self,
            Value::Null
                | Value::Bool(_)
                | Value::Int(_)
                | Value::UInt(_)
                | Value::Float(_)
                | Value::Str(_)
        )
    }

    /// Compares two values of the same kind as ADT's query language does:
    /// numbers with numbers, strings with strings (ordinal), booleans with
    /// booleans. Values of different kinds are not comparable.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::Null, Value::Null) => Some(Ordering::Equal),
            (a, b) if a.is_number() && b.is_number() => {
                let (x, y) = (a.as_f64()?, b.as_f64()?);
                x.partial_cmp(&y)
            }
            _ => None,
        }
    }

    /// Equality as the query language sees it (1 = 1.0; objects and arrays by content).
    pub fn query_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.query_eq(y))
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter().all(|(k, v)| {
                        b.iter()
                            .find(|(k2, _)| k2 == k)
                            .is_some_and(|(_, v2)| v.query_eq(v2))
                    })
            }
            _ => self.compare(other) == Some(Ordering::Equal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trip_keeps_order_and_number_kinds() {
        let mut syms = Symbols::default();
        let doc = json!({
            "z": 1, "a": 1.5, "big": 18446744073709551615u64, "neg": -3,
            "s": "x", "n": null, "b": true,
            "obj": {"inner": [1, "two", {"k": false}]}
        });
        let v = Value::from_json(&doc, &mut syms);
        let back = v.to_json(&syms);
        assert_eq!(back, doc);
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            serde_json::to_string(&doc).unwrap()
        );
        assert!(matches!(v.get(syms.get("z").unwrap()), Some(Value::Int(1))));
        assert!(matches!(
            v.get(syms.get("a").unwrap()),
            Some(Value::Float(_))
        ));
        assert!(matches!(
            v.get(syms.get("big").unwrap()),
            Some(Value::UInt(u64::MAX))
        ));
    }

    #[test]
    fn interning_is_stable() {
        let mut syms = Symbols::default();
        let a = syms.intern("temperature");
        let b = syms.intern("humidity");
        assert_ne!(a, b);
        assert_eq!(syms.intern("temperature"), a);
        assert_eq!(syms.name(b), "humidity");
        assert_eq!(syms.get("nope"), None);
    }

    #[test]
    fn comparisons_follow_kinds() {
        assert_eq!(
            Value::Int(2).compare(&Value::Float(2.0)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            Value::Int(1).compare(&Value::Float(1.5)),
            Some(Ordering::Less)
        );
        assert_eq!(
            Value::Str("b".into()).compare(&Value::Str("a".into())),
            Some(Ordering::Greater)
        );
        assert_eq!(Value::Str("1".into()).compare(&Value::Int(1)), None);
        assert_eq!(Value::Bool(true).compare(&Value::Int(1)), None);
        assert!(Value::Int(1).query_eq(&Value::UInt(1)));
    }
}
