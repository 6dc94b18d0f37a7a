//! A safe evaluator of the JavaScript-expression subset that Azure 3D Scenes
//! Studio (microsoft/iot-cardboard-js) accepts in behaviors' visual rules,
//! badge labels and link URLs. No JavaScript engine and no `eval`: the text is
//! parsed once into an [`Expr`] (a small AST) and evaluated many times.
//!
//! Scenes Studio evaluates these expressions over an object whose properties
//! are the twins of a behavior (`PrimaryTwin` and the twin aliases, e.g.
//! `LinkedTwin`) plus `Math`; a [`Context`] (or a closure) resolves those root
//! names to twins' JSON documents.
//!
//! # The subset
//!
//! * literals: numbers (`12`, `1.5`, `.5`, `1e-3`, `0x1F`, `0o17`, `0b101`),
//!   strings (`'…'`, `"…"`, with `\n \t \r \b \f \v \0 \xHH \uHHHH \u{H…}`,
//!   escaped quotes and line continuations), template literals
//!   `` `…${expr}…` `` (nestable), `true`, `false`, `null`, `undefined`,
//!   `NaN`, `Infinity`;
//! * names (`PrimaryTwin`, `LinkedTwin`, `$`-names) and member access
//!   `a.b`, `a['b']`, `a[0]`, optional chaining `a?.b`, `a?.[k]`;
//! * unary `!`, `-`, `+`, `typeof`; `**`; `* / %`; `+ -`; `< <= > >=`;
//!   `== != === !==`; `&&`; `||` and `??` (same precedence here, left to
//!   right; JavaScript rejects mixing `??` with `||`/`&&` unparenthesized,
//!   this parser accepts it); `?:`; parentheses; `//` and `/* */` comments;
//! * calls: `Math.abs ceil floor round trunc sign sqrt cbrt exp log log2 log10
//!   pow min max sin cos tan asin acos atan atan2`, constants `Math.PI E LN2
//!   LN10 LOG2E LOG10E SQRT2 SQRT1_2`; methods `.toFixed(n)`, `.toString()`
//!   (no radix), on strings `.toUpperCase() .toLowerCase() .trim()
//!   .includes(s) .startsWith(s) .endsWith(s)`, on arrays `.includes(v)`;
//!   `.length` of strings (UTF-16 code units) and arrays.
//!
//! Anything else (assignment, `++`, functions and arrow functions, `new`,
//! other calls, object/array literals, bitwise operators, `in`, `;`, the comma
//! operator, tagged templates, regular expressions) is a parse error carrying
//! the byte position and length of the offending text ([`ExprError`]).
//! Nesting is limited to [`MAX_DEPTH`] levels (chains of binary operators and
//! member accesses count too), so no input can overflow the stack; the parser
//! never panics.
//!
//! # Semantics
//!
//! JavaScript's: ToNumber / ToString / ToBoolean conversions, `+` as string
//! concatenation when either side is a string (objects and arrays convert to
//! `"[object Object]"` and `"a,b"`), loose `==` versus strict `===`, string
//! comparison by UTF-16 code units, IEEE division and `%`, JavaScript's
//! number formatting ([`number_to_string`]), short-circuit `&&`/`||`/`??`
//! returning operand values. Where JavaScript would *throw* the evaluator
//! returns [`Value::Undefined`] instead, since Scenes Studio treats a throwing
//! expression as having no value: a member of `undefined`/`null` is
//! `undefined`, as are `toFixed` on a non-number or with a digit count
//! outside 0..=100 and string methods on non-strings. Objects and arrays
//! compare by identity (the same JSON node), as in JavaScript.
//! Strings cannot hold lone UTF-16 surrogates here: `"\uD800"` becomes
//! U+FFFD.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde_json::{Map, Value as Json};

/// Maximum nesting depth (parentheses, unary operators, template
/// substitutions, conditional branches, and each link of an operator or
/// member-access chain).
pub const MAX_DEPTH: usize = 64;

/// A parse error, with the byte range of the problem in the parsed text
/// (`length` is 0 at the end of the input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at byte {position})")]
pub struct ExprError {
    /// What is wrong, for people.
    pub message: String,
    /// Byte offset of the problem in the text.
    pub position: usize,
    /// Byte length of the offending text (0 at the end of the input).
    pub length: usize,
}

impl ExprError {
    fn new(message: impl Into<String>, position: usize, length: usize) -> Self {
        Self {
            message: message.into(),
            position,
            length,
        }
    }
}

/// The result of evaluating an expression: a JavaScript value. Objects and
/// arrays (twins, components, array properties) are cloned from the JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Map<String, Json>),
}

impl Value {
    /// The value of a JSON document (numbers become `f64`).
    pub fn from_json(json: &Json) -> Self {
        V::from_json(json).into_value()
    }

    fn as_v(&self) -> V<'_> {
        match self {
            Value::Undefined => V::Undef,
            Value::Null => V::Null,
            Value::Bool(b) => V::Bool(*b),
            Value::Number(n) => V::Num(*n),
            Value::String(s) => V::Str(Cow::Borrowed(s)),
            Value::Array(a) => V::Arr(a),
            Value::Object(o) => V::Obj(o),
        }
    }

    /// JavaScript's ToBoolean: `0`, `NaN`, `""`, `null`, `undefined` and
    /// `false` are falsy, everything else truthy.
    pub fn truthy(&self) -> bool {
        self.as_v().truthy()
    }

    /// JavaScript's ToNumber.
    pub fn to_number(&self) -> f64 {
        self.as_v().to_number()
    }

    /// JavaScript's `typeof`.
    pub fn type_of(&self) -> &'static str {
        self.as_v().type_of()
    }
}

/// JavaScript's ToString (`String(value)`).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_v().to_str())
    }
}

impl From<&Json> for Value {
    fn from(json: &Json) -> Self {
        Value::from_json(json)
    }
}

/// Resolves the root names of an expression (`PrimaryTwin`, aliases) to
/// twins' JSON documents.
pub trait Context {
    fn resolve(&self, name: &str) -> Option<&Json>;
}

impl Context for HashMap<String, Json> {
    fn resolve(&self, name: &str) -> Option<&Json> {
        self.get(name)
    }
}

impl Context for BTreeMap<String, Json> {
    fn resolve(&self, name: &str) -> Option<&Json> {
        self.get(name)
    }
}

/// A JSON object whose properties are the root names.
impl Context for Map<String, Json> {
    fn resolve(&self, name: &str) -> Option<&Json> {
        self.get(name)
    }
}

/// A root name read by an expression and the static property path read
/// below it (up to the first computed key), e.g. `PrimaryTwin.Motor.Rpm`
/// gives root `PrimaryTwin`, path `["Motor", "Rpm"]`. A trailing built-in
/// (`length`) is listed like any property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub root: String,
    pub path: Vec<String>,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    node: Node,
    references: Vec<Reference>,
}

impl Expr {
    fn new(node: Node) -> Self {
        let mut references = Vec::new();
        collect(&node, &mut references);
        Self { node, references }
    }

    /// Evaluates with `resolve` mapping root names to JSON documents
    /// (unknown names are `undefined`). Never panics and never fails: where
    /// JavaScript would throw, the result (or that part of it) is
    /// `undefined` (see the module documentation).
    pub fn eval<'j>(&self, resolve: &dyn Fn(&str) -> Option<&'j Json>) -> Value {
        ev(&self.node, resolve).into_value()
    }

    /// Evaluates with a [`Context`].
    pub fn eval_in<C: Context + ?Sized>(&self, ctx: &C) -> Value {
        self.eval(&|name| ctx.resolve(name))
    }

    /// Evaluates and converts to a string like JavaScript's `String(v)`.
    pub fn eval_to_string<C: Context + ?Sized>(&self, ctx: &C) -> String {
        self.eval_in(ctx).to_string()
    }

    /// The distinct root names the expression reads, in order of appearance
    /// (`Math` is not listed).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let mut seen: Vec<&str> = Vec::new();
        self.references.iter().filter_map(move |r| {
            if seen.contains(&r.root.as_str()) {
                None
            } else {
                seen.push(&r.root);
                Some(r.root.as_str())
            }
        })
    }

    /// Every distinct (root, static property path) the expression reads.
    pub fn references(&self) -> &[Reference] {
        &self.references
    }
}

/// Parses a JavaScript expression of the supported subset.
pub fn parse(text: &str) -> Result<Expr, ExprError> {
    let mut p = Parser::new(text);
    if p.peek()?.tok == Tok::Eof {
        return Err(ExprError::new("empty expression", 0, text.len()));
    }
    let node = p.parse_expr()?;
    let t = p.next()?;
    if t.tok != Tok::Eof {
        return Err(p.unexpected(&t, "the end of the expression"));
    }
    Ok(Expr::new(node))
}

/// Parses a badge label / link URL the way Scenes Studio evaluates it
/// (`wrapTextInTemplateString`): every backtick in `text` is removed and the
/// rest is the body of a template literal. So `` `Temp ${PrimaryTwin.T}` ``
/// and `Temp ${PrimaryTwin.T}` mean the same; text without `${` is literal
/// text (escapes such as `\n` are still interpreted, as in a template).
/// Error positions refer to the original `text`. Evaluates to a string.
pub fn template(text: &str) -> Result<Expr, ExprError> {
    let removed: Vec<usize> = text.match_indices('`').map(|(i, _)| i).collect();
    let body = text.replace('`', "");
    let mut p = Parser::new(&body);
    match p.parse_template(0, false) {
        Ok(node) => Ok(Expr::new(node)),
        Err(e) => {
            let map = |pos: usize, inclusive: bool| {
                let mut p = pos;
                for &r in &removed {
                    if r < p || (inclusive && r == p) {
                        p += 1;
                    } else {
                        break;
                    }
                }
                p
            };
            let start = map(e.position, true);
            let end = map(e.position + e.length, false).max(start);
            Err(ExprError::new(e.message, start, end - start))
        }
    }
}

// ---------------------------------------------------------------------------
// Numbers and strings, JavaScript style

/// JavaScript's Number::toString (radix 10): shortest round-trip digits,
/// exponent form for magnitudes `>= 1e21` or `< 1e-6`, `-0` as `"0"`.
pub fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x < 0.0 {
        return format!("-{}", number_to_string(-x));
    }
    let sci = format!("{x:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return format!("{x}");
    };
    let Ok(exp) = exp.parse::<i64>() else {
        return format!("{x}");
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i64;
    let n = exp + 1;
    if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (a, b) = digits.split_at(n as usize);
        format!("{a}.{b}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let sign = if e < 0 { '-' } else { '+' };
        let (a, b) = digits.split_at(1);
        if b.is_empty() {
            format!("{a}e{sign}{}", e.abs())
        } else {
            format!("{a}.{b}e{sign}{}", e.abs())
        }
    }
}

fn is_js_space(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{FEFF}'
}

/// JavaScript's StringToNumber.
fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_space);
    if t.is_empty() {
        return 0.0;
    }
    let bytes = t.as_bytes();
    if bytes.len() > 2 && bytes[0] == b'0' {
        let radix = match bytes[1] {
            b'x' | b'X' => 16,
            b'o' | b'O' => 8,
            b'b' | b'B' => 2,
            _ => 0,
        };
        if radix != 0 {
            let mut v = 0.0f64;
            for c in t[2..].chars() {
                match c.to_digit(radix) {
                    Some(d) => v = v * f64::from(radix) + f64::from(d),
                    None => return f64::NAN,
                }
            }
            return v;
        }
    }
    let (sign, body) = match bytes[0] {
        b'+' => (1.0, &t[1..]),
        b'-' => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body == "Infinity" {
        return sign * f64::INFINITY;
    }
    // StrUnsignedDecimalLiteral: digits [. digits] [e [+-] digits], >= 1 digit.
    let b = body.as_bytes();
    let mut i = 0;
    let mut mantissa_digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        mantissa_digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return f64::NAN;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let ds = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if ds == i {
            return f64::NAN;
        }
    }
    if i != b.len() {
        return f64::NAN;
    }
    body.parse::<f64>().map_or(f64::NAN, |v| sign * v)
}

/// The number of decimal fraction digits of `x`'s exact value.
fn exact_fraction_digits(x: f64) -> u32 {
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, e) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp_bits - 1075)
    };
    if m == 0 {
        return 0;
    }
    let e = e + m.trailing_zeros() as i32;
    if e >= 0 { 0 } else { (-e) as u32 }
}

/// Adds one unit in the last place to a decimal string like `-12.34`.
fn increment_decimal(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let mut carry = true;
    for c in chars.iter_mut().rev() {
        if !carry {
            break;
        }
        match c {
            '9' => *c = '0',
            '0'..='8' => {
                *c = char::from(*c as u8 + 1);
                carry = false;
            }
            _ => {}
        }
    }
    if carry {
        let at = usize::from(chars.first() == Some(&'-'));
        chars.insert(at, '1');
    }
    chars.into_iter().collect()
}

/// JavaScript's Number::toFixed for `digits` in 0..=100.
fn to_fixed(x: f64, digits: usize) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.abs() >= 1e21 {
        return number_to_string(x);
    }
    let x = if x == 0.0 { 0.0 } else { x };
    if exact_fraction_digits(x) as usize == digits + 1 {
        // An exact tie (the exact value ends in 5 just past the last digit):
        // JavaScript picks the larger magnitude, Rust rounds half to even.
        let s = format!("{:.*}", digits + 1, x);
        let s = &s[..s.len() - 1];
        let s = s.strip_suffix('.').unwrap_or(s);
        return increment_decimal(s);
    }
    format!("{:.*}", digits, x)
}

fn js_pow(x: f64, y: f64) -> f64 {
    if y.is_nan() {
        return f64::NAN;
    }
    if y == 0.0 {
        return 1.0;
    }
    if x.abs() == 1.0 && y.is_infinite() {
        return f64::NAN;
    }
    x.powf(y)
}

fn js_round(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let f = x.floor();
    if x - f >= 0.5 { f + 1.0 } else { f }
}

// ---------------------------------------------------------------------------
// Evaluation values

#[derive(Debug, Clone)]
enum V<'a> {
    Undef,
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
    Arr(&'a [Json]),
    Obj(&'a Map<String, Json>),
}

impl<'a> V<'a> {
    fn from_json(j: &'a Json) -> Self {
        match j {
            Json::Null => V::Null,
            Json::Bool(b) => V::Bool(*b),
            Json::Number(n) => V::Num(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => V::Str(Cow::Borrowed(s)),
            Json::Array(a) => V::Arr(a),
            Json::Object(o) => V::Obj(o),
        }
    }

    fn into_value(self) -> Value {
        match self {
            V::Undef => Value::Undefined,
            V::Null => Value::Null,
            V::Bool(b) => Value::Bool(b),
            V::Num(n) => Value::Number(n),
            V::Str(s) => Value::String(s.into_owned()),
            V::Arr(a) => Value::Array(a.to_vec()),
            V::Obj(o) => Value::Object(o.clone()),
        }
    }

    fn truthy(&self) -> bool {
        match self {
            V::Undef | V::Null => false,
            V::Bool(b) => *b,
            V::Num(n) => *n != 0.0 && !n.is_nan(),
            V::Str(s) => !s.is_empty(),
            V::Arr(_) | V::Obj(_) => true,
        }
    }

    fn to_number(&self) -> f64 {
        match self {
            V::Undef => f64::NAN,
            V::Null => 0.0,
            V::Bool(b) => f64::from(u8::from(*b)),
            V::Num(n) => *n,
            V::Str(s) => string_to_number(s),
            V::Arr(_) | V::Obj(_) => string_to_number(&self.to_str()),
        }
    }

    fn to_str(&self) -> Cow<'_, str> {
        match self {
            V::Undef => "undefined".into(),
            V::Null => "null".into(),
            V::Bool(b) => if *b { "true" } else { "false" }.into(),
            V::Num(n) => number_to_string(*n).into(),
            V::Str(s) => Cow::Borrowed(s.as_ref()),
            V::Arr(a) => a
                .iter()
                .map(|e| match e {
                    Json::Null => String::new(),
                    e => V::from_json(e).to_str().into_owned(),
                })
                .collect::<Vec<_>>()
                .join(",")
                .into(),
            V::Obj(_) => "[object Object]".into(),
        }
    }

    fn into_str(self) -> Cow<'a, str> {
        match self {
            V::Str(s) => s,
            other => Cow::Owned(other.to_str().into_owned()),
        }
    }

    fn into_primitive(self) -> V<'a> {
        match self {
            V::Arr(_) | V::Obj(_) => V::Str(Cow::Owned(self.to_str().into_owned())),
            other => other,
        }
    }

    fn type_of(&self) -> &'static str {
        match self {
            V::Undef => "undefined",
            V::Null | V::Arr(_) | V::Obj(_) => "object",
            V::Bool(_) => "boolean",
            V::Num(_) => "number",
            V::Str(_) => "string",
        }
    }
}

fn strict_eq(a: &V<'_>, b: &V<'_>) -> bool {
    match (a, b) {
        (V::Undef, V::Undef) | (V::Null, V::Null) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Num(x), V::Num(y)) => x == y,
        (V::Str(x), V::Str(y)) => x == y,
        (V::Arr(x), V::Arr(y)) => std::ptr::eq(*x, *y),
        (V::Obj(x), V::Obj(y)) => std::ptr::eq(*x, *y),
        _ => false,
    }
}

fn loose_eq(a: &V<'_>, b: &V<'_>) -> bool {
    match (a, b) {
        (V::Undef | V::Null, V::Undef | V::Null) => true,
        (V::Undef | V::Null, _) | (_, V::Undef | V::Null) => false,
        (V::Num(x), V::Str(s)) | (V::Str(s), V::Num(x)) => *x == string_to_number(s),
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Bool(x), other) | (other, V::Bool(x)) => {
            loose_eq(&V::Num(f64::from(u8::from(*x))), other)
        }
        (V::Arr(_) | V::Obj(_), V::Num(_) | V::Str(_)) => loose_eq(&a.clone().into_primitive(), b),
        (V::Num(_) | V::Str(_), V::Arr(_) | V::Obj(_)) => loose_eq(a, &b.clone().into_primitive()),
        _ => strict_eq(a, b),
    }
}

fn compare(a: V<'_>, b: V<'_>) -> Option<Ordering> {
    let a = a.into_primitive();
    let b = b.into_primitive();
    if let (V::Str(x), V::Str(y)) = (&a, &b) {
        return Some(x.encode_utf16().cmp(y.encode_utf16()));
    }
    a.to_number().partial_cmp(&b.to_number())
}

fn add<'j>(a: V<'j>, b: V<'j>) -> V<'j> {
    let a = a.into_primitive();
    let b = b.into_primitive();
    if matches!(a, V::Str(_)) || matches!(b, V::Str(_)) {
        let mut s = a.into_str().into_owned();
        s.push_str(&b.to_str());
        V::Str(Cow::Owned(s))
    } else {
        V::Num(a.to_number() + b.to_number())
    }
}

/// A canonical array index (`0`, `"12"`), as JavaScript property keys.
fn array_index(k: &V<'_>) -> Option<usize> {
    match k {
        V::Num(n) if *n >= 0.0 && n.fract() == 0.0 && *n < 4_294_967_295.0 => Some(*n as usize),
        V::Str(s) => {
            let i = s.parse::<u32>().ok()?;
            (number_to_string(f64::from(i)) == *s).then_some(i as usize)
        }
        _ => None,
    }
}

fn member<'j>(o: V<'j>, k: &V<'j>) -> V<'j> {
    match o {
        V::Obj(m) => m.get(k.to_str().as_ref()).map_or(V::Undef, V::from_json),
        V::Arr(a) => match array_index(k) {
            Some(i) => a.get(i).map_or(V::Undef, V::from_json),
            None if k.to_str() == "length" => V::Num(a.len() as f64),
            None => V::Undef,
        },
        V::Str(s) => match array_index(k) {
            Some(i) => s.encode_utf16().nth(i).map_or(V::Undef, |u| {
                V::Str(Cow::Owned(String::from_utf16_lossy(&[u])))
            }),
            None if k.to_str() == "length" => V::Num(s.encode_utf16().count() as f64),
            None => V::Undef,
        },
        _ => V::Undef,
    }
}

// ---------------------------------------------------------------------------
// AST

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Undef,
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnOp {
    Not,
    Neg,
    Plus,
    TypeOf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinOp {
    Or,
    And,
    Nullish,
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MathFn {
    Abs,
    Ceil,
    Floor,
    Round,
    Trunc,
    Sign,
    Sqrt,
    Cbrt,
    Exp,
    Log,
    Log2,
    Log10,
    Pow,
    Min,
    Max,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Atan2,
}

impl MathFn {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "abs" => Self::Abs,
            "ceil" => Self::Ceil,
            "floor" => Self::Floor,
            "round" => Self::Round,
            "trunc" => Self::Trunc,
            "sign" => Self::Sign,
            "sqrt" => Self::Sqrt,
            "cbrt" => Self::Cbrt,
            "exp" => Self::Exp,
            "log" => Self::Log,
            "log2" => Self::Log2,
            "log10" => Self::Log10,
            "pow" => Self::Pow,
            "min" => Self::Min,
            "max" => Self::Max,
            "sin" => Self::Sin,
            "cos" => Self::Cos,
            "tan" => Self::Tan,
            "asin" => Self::Asin,
            "acos" => Self::Acos,
            "atan" => Self::Atan,
            "atan2" => Self::Atan2,
            _ => return None,
        })
    }

    fn apply(self, args: &[f64]) -> f64 {
        let x = args.first().copied().unwrap_or(f64::NAN);
        let y = args.get(1).copied().unwrap_or(f64::NAN);
        match self {
            Self::Abs => x.abs(),
            Self::Ceil => x.ceil(),
            Self::Floor => x.floor(),
            Self::Round => js_round(x),
            Self::Trunc => x.trunc(),
            Self::Sign => {
                if x.is_nan() || x == 0.0 {
                    x
                } else {
                    x.signum()
                }
            }
            Self::Sqrt => x.sqrt(),
            Self::Cbrt => x.cbrt(),
            Self::Exp => x.exp(),
            Self::Log => x.ln(),
            Self::Log2 => x.log2(),
            Self::Log10 => x.log10(),
            Self::Pow => js_pow(x, y),
            Self::Min => args.iter().fold(f64::INFINITY, |m, &v| {
                if m.is_nan() || v.is_nan() {
                    f64::NAN
                } else if v < m || (v == 0.0 && m == 0.0 && v.is_sign_negative()) {
                    v
                } else {
                    m
                }
            }),
            Self::Max => args.iter().fold(f64::NEG_INFINITY, |m, &v| {
                if m.is_nan() || v.is_nan() {
                    f64::NAN
                } else if v > m || (v == 0.0 && m == 0.0 && v.is_sign_positive()) {
                    v
                } else {
                    m
                }
            }),
            Self::Sin => x.sin(),
            Self::Cos => x.cos(),
            Self::Tan => x.tan(),
            Self::Asin => x.asin(),
            Self::Acos => x.acos(),
            Self::Atan => x.atan(),
            Self::Atan2 => x.atan2(y),
        }
    }
}

fn math_const(name: &str) -> Option<f64> {
    use std::f64::consts;
    Some(match name {
        "PI" => consts::PI,
        "E" => consts::E,
        "LN2" => consts::LN_2,
        "LN10" => consts::LN_10,
        "LOG2E" => consts::LOG2_E,
        "LOG10E" => consts::LOG10_E,
        "SQRT2" => consts::SQRT_2,
        "SQRT1_2" => consts::FRAC_1_SQRT_2,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    ToFixed,
    ToString,
    ToUpperCase,
    ToLowerCase,
    Trim,
    Includes,
    StartsWith,
    EndsWith,
}

impl Method {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "toFixed" => Self::ToFixed,
            "toString" => Self::ToString,
            "toUpperCase" => Self::ToUpperCase,
            "toLowerCase" => Self::ToLowerCase,
            "trim" => Self::Trim,
            "includes" => Self::Includes,
            "startsWith" => Self::StartsWith,
            "endsWith" => Self::EndsWith,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Str(String),
    Expr(Node),
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Lit(Lit),
    Ident(String),
    Template(Vec<Part>),
    Member(Box<Node>, Box<Node>),
    Unary(UnOp, Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
    Math(MathFn, Vec<Node>),
    Method(Method, Box<Node>, Vec<Node>),
}

fn static_key(n: &Node) -> Option<String> {
    match n {
        Node::Lit(Lit::Str(s)) => Some(s.clone()),
        Node::Lit(Lit::Num(x)) => Some(number_to_string(*x)),
        _ => None,
    }
}

fn collect(node: &Node, out: &mut Vec<Reference>) {
    let push = |r: Reference, out: &mut Vec<Reference>| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    match node {
        Node::Lit(_) => {}
        Node::Ident(name) => push(
            Reference {
                root: name.clone(),
                path: Vec::new(),
            },
            out,
        ),
        Node::Member(..) => {
            let mut keys = Vec::new();
            let mut cur = node;
            loop {
                match cur {
                    Node::Member(o, k) => {
                        match static_key(k) {
                            Some(s) => keys.push(s),
                            None => {
                                keys.clear();
                                collect(k, out);
                            }
                        }
                        cur = o;
                    }
                    Node::Ident(name) => {
                        keys.reverse();
                        push(
                            Reference {
                                root: name.clone(),
                                path: keys,
                            },
                            out,
                        );
                        break;
                    }
                    other => {
                        collect(other, out);
                        break;
                    }
                }
            }
        }
        Node::Template(parts) => {
            for p in parts {
                if let Part::Expr(e) = p {
                    collect(e, out);
                }
            }
        }
        Node::Unary(_, e) => collect(e, out),
        Node::Binary(_, a, b) => {
            collect(a, out);
            collect(b, out);
        }
        Node::Cond(c, a, b) => {
            collect(c, out);
            collect(a, out);
            collect(b, out);
        }
        Node::Math(_, args) => args.iter().for_each(|a| collect(a, out)),
        Node::Method(_, t, args) => {
            collect(t, out);
            args.iter().for_each(|a| collect(a, out));
        }
    }
}

// ---------------------------------------------------------------------------
// Evaluation

type Resolve<'r, 'j> = &'r dyn Fn(&str) -> Option<&'j Json>;

fn ev<'j>(node: &Node, r: Resolve<'_, 'j>) -> V<'j> {
    match node {
        Node::Lit(l) => match l {
            Lit::Undef => V::Undef,
            Lit::Null => V::Null,
            Lit::Bool(b) => V::Bool(*b),
            Lit::Num(n) => V::Num(*n),
            Lit::Str(s) => V::Str(Cow::Owned(s.clone())),
        },
        Node::Ident(name) => r(name).map_or(V::Undef, V::from_json),
        Node::Template(parts) => {
            let mut s = String::new();
            for p in parts {
                match p {
                    Part::Str(t) => s.push_str(t),
                    Part::Expr(e) => s.push_str(&ev(e, r).to_str()),
                }
            }
            V::Str(Cow::Owned(s))
        }
        Node::Member(o, k) => {
            let o = ev(o, r);
            if matches!(o, V::Undef | V::Null) {
                return V::Undef;
            }
            let k = ev(k, r);
            member(o, &k)
        }
        Node::Unary(op, e) => {
            let v = ev(e, r);
            match op {
                UnOp::Not => V::Bool(!v.truthy()),
                UnOp::Neg => V::Num(-v.to_number()),
                UnOp::Plus => V::Num(v.to_number()),
                UnOp::TypeOf => V::Str(Cow::Borrowed(v.type_of())),
            }
        }
        Node::Binary(op, a, b) => binary(*op, a, b, r),
        Node::Cond(c, a, b) => {
            if ev(c, r).truthy() {
                ev(a, r)
            } else {
                ev(b, r)
            }
        }
        Node::Math(f, args) => {
            let xs: Vec<f64> = args.iter().map(|a| ev(a, r).to_number()).collect();
            V::Num(f.apply(&xs))
        }
        Node::Method(m, target, args) => method(*m, ev(target, r), args, r),
    }
}

fn binary<'j>(op: BinOp, a: &Node, b: &Node, r: Resolve<'_, 'j>) -> V<'j> {
    match op {
        BinOp::And => {
            let x = ev(a, r);
            if x.truthy() { ev(b, r) } else { x }
        }
        BinOp::Or => {
            let x = ev(a, r);
            if x.truthy() { x } else { ev(b, r) }
        }
        BinOp::Nullish => {
            let x = ev(a, r);
            if matches!(x, V::Undef | V::Null) {
                ev(b, r)
            } else {
                x
            }
        }
        _ => {
            let x = ev(a, r);
            let y = ev(b, r);
            match op {
                BinOp::Add => add(x, y),
                BinOp::Sub => V::Num(x.to_number() - y.to_number()),
                BinOp::Mul => V::Num(x.to_number() * y.to_number()),
                BinOp::Div => V::Num(x.to_number() / y.to_number()),
                BinOp::Rem => V::Num(x.to_number() % y.to_number()),
                BinOp::Pow => V::Num(js_pow(x.to_number(), y.to_number())),
                BinOp::Eq => V::Bool(loose_eq(&x, &y)),
                BinOp::Ne => V::Bool(!loose_eq(&x, &y)),
                BinOp::StrictEq => V::Bool(strict_eq(&x, &y)),
                BinOp::StrictNe => V::Bool(!strict_eq(&x, &y)),
                BinOp::Lt => V::Bool(compare(x, y) == Some(Ordering::Less)),
                BinOp::Le => V::Bool(matches!(
                    compare(x, y),
                    Some(Ordering::Less | Ordering::Equal)
                )),
                BinOp::Gt => V::Bool(compare(x, y) == Some(Ordering::Greater)),
                BinOp::Ge => V::Bool(matches!(
                    compare(x, y),
                    Some(Ordering::Greater | Ordering::Equal)
                )),
                BinOp::And | BinOp::Or | BinOp::Nullish => V::Undef,
            }
        }
    }
}

fn method<'j>(m: Method, target: V<'j>, args: &[Node], r: Resolve<'_, 'j>) -> V<'j> {
    let arg = |i: usize| args.get(i).map_or(V::Undef, |a| ev(a, r));
    match (m, target) {
        (_, V::Undef | V::Null) => V::Undef,
        (Method::ToFixed, V::Num(x)) => {
            let d = arg(0).to_number();
            let d = if d.is_nan() { 0.0 } else { d.trunc() };
            if (0.0..=100.0).contains(&d) {
                V::Str(Cow::Owned(to_fixed(x, d as usize)))
            } else {
                V::Undef
            }
        }
        (Method::ToString, t) => V::Str(t.into_str()),
        (Method::ToUpperCase, V::Str(s)) => V::Str(Cow::Owned(s.to_uppercase())),
        (Method::ToLowerCase, V::Str(s)) => V::Str(Cow::Owned(s.to_lowercase())),
        (Method::Trim, V::Str(s)) => V::Str(Cow::Owned(s.trim_matches(is_js_space).to_owned())),
        (Method::Includes, V::Str(s)) => V::Bool(s.contains(arg(0).to_str().as_ref())),
        (Method::StartsWith, V::Str(s)) => V::Bool(s.starts_with(arg(0).to_str().as_ref())),
        (Method::EndsWith, V::Str(s)) => V::Bool(s.ends_with(arg(0).to_str().as_ref())),
        (Method::Includes, V::Arr(a)) => {
            let needle = arg(0);
            V::Bool(a.iter().any(|e| {
                let e = V::from_json(e);
                match (&e, &needle) {
                    (V::Num(x), V::Num(y)) if x.is_nan() && y.is_nan() => true,
                    _ => strict_eq(&e, &needle),
                }
            }))
        }
        _ => V::Undef,
    }
}

// ---------------------------------------------------------------------------
// Lexer and parser

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    P(&'static str),
    Backtick,
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

const PUNCTS: &[&str] = &[
    ">>>=", "===", "!==", "**=", "...", ">>>", "<<=", ">>=", "&&=", "||=", "??=", "=>", "==", "!=",
    "<=", ">=", "&&", "||", "??", "**", "++", "--", "+=", "-=", "*=", "/=", "%=", "<<", ">>", "&=",
    "|=", "^=", "+", "-", "*", "/", "%", "<", ">", "!", "?", ":", "(", ")", "[", "]", ".", ",",
    "{", "}", ";", "=", "&", "|", "^", "~",
];

const RESERVED: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "return",
    "super",
    "switch",
    "this",
    "throw",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "let",
    "static",
    "await",
    "async",
];

/// A binary operator other than `**`, with its precedence (higher binds
/// tighter).
fn binary_op(p: &str) -> Option<(BinOp, u8)> {
    Some(match p {
        "||" => (BinOp::Or, 1),
        "??" => (BinOp::Nullish, 1),
        "&&" => (BinOp::And, 2),
        "==" => (BinOp::Eq, 3),
        "!=" => (BinOp::Ne, 3),
        "===" => (BinOp::StrictEq, 3),
        "!==" => (BinOp::StrictNe, 3),
        "<" => (BinOp::Lt, 4),
        "<=" => (BinOp::Le, 4),
        ">" => (BinOp::Gt, 4),
        ">=" => (BinOp::Ge, 4),
        "+" => (BinOp::Add, 5),
        "-" => (BinOp::Sub, 5),
        "*" => (BinOp::Mul, 6),
        "/" => (BinOp::Div, 6),
        "%" => (BinOp::Rem, 6),
        _ => return None,
    })
}

fn is_id_start(c: char) -> bool {
    c == '$' || c == '_' || c.is_alphabetic()
}

fn is_id_continue(c: char) -> bool {
    is_id_start(c) || c.is_alphanumeric() || c == '\u{200C}' || c == '\u{200D}'
}

fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// Builds a string from chars and UTF-16 code units (from `\u` escapes),
/// pairing surrogates; a lone surrogate becomes U+FFFD.
#[derive(Default)]
struct Cook {
    out: String,
    high: Option<u16>,
}

impl Cook {
    fn flush(&mut self) {
        if self.high.take().is_some() {
            self.out.push('\u{FFFD}');
        }
    }

    fn push(&mut self, c: char) {
        self.flush();
        self.out.push(c);
    }

    fn push_unit(&mut self, u: u16) {
        if (0xDC00..0xE000).contains(&u) {
            if let Some(h) = self.high.take() {
                let cp = 0x10000 + ((u32::from(h) - 0xD800) << 10) + (u32::from(u) - 0xDC00);
                self.out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
            } else {
                self.out.push('\u{FFFD}');
            }
            return;
        }
        self.flush();
        if (0xD800..0xDC00).contains(&u) {
            self.high = Some(u);
        } else {
            self.out
                .push(char::from_u32(u32::from(u)).unwrap_or('\u{FFFD}'));
        }
    }

    fn take(&mut self) -> String {
        self.flush();
        std::mem::take(&mut self.out)
    }
}

struct Parser<'s> {
    src: &'s str,
    /// End of the last consumed token (where the next token is lexed).
    pos: usize,
    peeked: Option<Token>,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn new(src: &'s str) -> Self {
        Self {
            src,
            pos: 0,
            peeked: None,
            depth: 0,
        }
    }

    fn char_at(&self, i: usize) -> Option<char> {
        self.src.get(i..).and_then(|s| s.chars().next())
    }

    fn skip_trivia(&self, mut i: usize) -> Result<usize, ExprError> {
        loop {
            let rest = self.src.get(i..).unwrap_or("");
            let Some(c) = rest.chars().next() else {
                return Ok(i);
            };
            if is_js_space(c) || is_line_terminator(c) {
                i += c.len_utf8();
            } else if rest.starts_with("//") {
                i += rest.find(is_line_terminator).unwrap_or(rest.len());
            } else if let Some(body) = rest.strip_prefix("/*") {
                match body.find("*/") {
                    Some(k) => i += k + 4,
                    None => return Err(ExprError::new("unterminated comment", i, rest.len())),
                }
            } else {
                return Ok(i);
            }
        }
    }

    fn lex(&self, at: usize) -> Result<Token, ExprError> {
        let start = self.skip_trivia(at)?;
        let rest = self.src.get(start..).unwrap_or("");
        let Some(c) = rest.chars().next() else {
            return Ok(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
        };
        let tok = |tok, len: usize| {
            Ok(Token {
                tok,
                start,
                end: start + len,
            })
        };
        let next_is_digit = |s: &str| s.as_bytes().first().is_some_and(u8::is_ascii_digit);
        if c.is_ascii_digit() || (c == '.' && next_is_digit(&rest[1..])) {
            return self.lex_number(start);
        }
        if c == '"' || c == '\'' {
            return self.lex_string(start, c);
        }
        if c == '`' {
            return tok(Tok::Backtick, 1);
        }
        if is_id_start(c) {
            let len = rest.find(|ch| !is_id_continue(ch)).unwrap_or(rest.len());
            return tok(Tok::Ident(rest[..len].to_owned()), len);
        }
        if rest.starts_with("?.") && !next_is_digit(&rest[2..]) {
            return tok(Tok::P("?."), 2);
        }
        for p in PUNCTS {
            if rest.starts_with(p) {
                return tok(Tok::P(p), p.len());
            }
        }
        let msg = if c == '\\' {
            "escape sequences in names are not supported".to_owned()
        } else {
            format!("unexpected character `{c}`")
        };
        Err(ExprError::new(msg, start, c.len_utf8()))
    }

    fn lex_number(&self, start: usize) -> Result<Token, ExprError> {
        let b = self.src.as_bytes();
        let len = b.len();
        let digit = |i: usize| i < len && b[i].is_ascii_digit();
        let mut i = start;
        let radix = if b[i] == b'0' && i + 1 < len {
            match b[i + 1] {
                b'x' | b'X' => 16,
                b'o' | b'O' => 8,
                b'b' | b'B' => 2,
                _ => 10,
            }
        } else {
            10
        };
        let value;
        if radix != 10 {
            i += 2;
            let ds = i;
            let mut v = 0.0f64;
            while i < len {
                let Some(d) = char::from(b[i]).to_digit(radix) else {
                    break;
                };
                v = v * f64::from(radix) + f64::from(d);
                i += 1;
            }
            if i == ds {
                return Err(ExprError::new(
                    "missing digits after the number prefix",
                    start,
                    i - start,
                ));
            }
            value = v;
        } else {
            if b[i] == b'0' && digit(i + 1) {
                return Err(ExprError::new(
                    "numbers cannot start with 0 (legacy octal literals are not supported)",
                    start,
                    2,
                ));
            }
            let is = i;
            while digit(i) {
                i += 1;
            }
            let int = &self.src[is..i];
            let mut frac = "";
            if i < len && b[i] == b'.' {
                i += 1;
                let fs = i;
                while digit(i) {
                    i += 1;
                }
                frac = &self.src[fs..i];
            }
            let mut exp = String::new();
            if i < len && (b[i] == b'e' || b[i] == b'E') {
                let es = i;
                i += 1;
                let mut sign = "";
                if i < len && (b[i] == b'+' || b[i] == b'-') {
                    sign = &self.src[i..i + 1];
                    i += 1;
                }
                let ds = i;
                while digit(i) {
                    i += 1;
                }
                if ds == i {
                    return Err(ExprError::new("missing exponent digits", es, i - es));
                }
                exp = format!("e{sign}{}", &self.src[ds..i]);
            }
            let text = format!(
                "{}.{}{exp}",
                if int.is_empty() { "0" } else { int },
                if frac.is_empty() { "0" } else { frac }
            );
            value = text
                .parse::<f64>()
                .map_err(|_| ExprError::new("invalid number", start, i - start))?;
        }
        if let Some(c) = self.char_at(i)
            && (is_id_start(c) || c.is_ascii_digit() || c == '\\')
        {
            return Err(ExprError::new(
                "a name or digit cannot directly follow a number",
                i,
                c.len_utf8(),
            ));
        }
        Ok(Token {
            tok: Tok::Num(value),
            start,
            end: i,
        })
    }

    fn lex_string(&self, start: usize, quote: char) -> Result<Token, ExprError> {
        let mut cook = Cook::default();
        let mut i = start + 1;
        loop {
            let Some(c) = self.char_at(i) else {
                return Err(ExprError::new(
                    "unterminated string literal",
                    start,
                    i - start,
                ));
            };
            if c == quote {
                i += 1;
                break;
            }
            if c == '\n' || c == '\r' {
                return Err(ExprError::new(
                    "unterminated string literal (line break)",
                    start,
                    i - start,
                ));
            }
            if c == '\\' {
                i = self.escape(i, &mut cook)?;
                continue;
            }
            cook.push(c);
            i += c.len_utf8();
        }
        Ok(Token {
            tok: Tok::Str(cook.take()),
            start,
            end: i,
        })
    }

    /// Reads the escape sequence whose backslash is at `i`; returns the index
    /// after it.
    fn escape(&self, i: usize, cook: &mut Cook) -> Result<usize, ExprError> {
        let Some(c) = self.char_at(i + 1) else {
            return Err(ExprError::new("unterminated escape sequence", i, 1));
        };
        let mut k = i + 1 + c.len_utf8();
        let hex = |s: &str| {
            u32::from_str_radix(s, 16)
                .ok()
                .filter(|_| !s.starts_with('+'))
        };
        match c {
            'n' => cook.push('\n'),
            't' => cook.push('\t'),
            'r' => cook.push('\r'),
            'b' => cook.push('\u{8}'),
            'f' => cook.push('\u{c}'),
            'v' => cook.push('\u{b}'),
            '0' if !self.char_at(k).is_some_and(|d| d.is_ascii_digit()) => cook.push('\0'),
            '0'..='9' => {
                return Err(ExprError::new(
                    "octal escape sequences are not supported",
                    i,
                    k - i,
                ));
            }
            'x' => {
                let Some(v) = self.src.get(k..k + 2).and_then(hex) else {
                    return Err(ExprError::new("invalid \\x escape sequence", i, k - i));
                };
                cook.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
                k += 2;
            }
            'u' => {
                let v = if self.char_at(k) == Some('{') {
                    let close = self.src[k..].find('}').map(|j| k + j);
                    let v = close
                        .and_then(|e| {
                            let digits = &self.src[k + 1..e];
                            if digits.is_empty() || digits.len() > 6 {
                                None
                            } else {
                                hex(digits)
                            }
                        })
                        .filter(|v| *v <= 0x10FFFF);
                    match (v, close) {
                        (Some(v), Some(e)) => {
                            k = e + 1;
                            v
                        }
                        _ => return Err(ExprError::new("invalid \\u{…} escape", i, k - i)),
                    }
                } else {
                    let Some(v) = self.src.get(k..k + 4).and_then(hex) else {
                        return Err(ExprError::new("invalid \\u escape sequence", i, k - i));
                    };
                    k += 4;
                    v
                };
                match u16::try_from(v) {
                    Ok(u) => cook.push_unit(u),
                    Err(_) => cook.push(char::from_u32(v).unwrap_or('\u{FFFD}')),
                }
            }
            '\r' => {
                if self.char_at(k) == Some('\n') {
                    k += 1;
                }
            }
            '\n' | '\u{2028}' | '\u{2029}' => {}
            other => cook.push(other),
        }
        Ok(k)
    }

    fn peek(&mut self) -> Result<&Token, ExprError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lex(self.pos)?);
        }
        match &self.peeked {
            Some(t) => Ok(t),
            None => Err(ExprError::new("internal parser error", self.pos, 0)),
        }
    }

    fn next(&mut self) -> Result<Token, ExprError> {
        let t = match self.peeked.take() {
            Some(t) => t,
            None => self.lex(self.pos)?,
        };
        self.pos = t.end;
        Ok(t)
    }

    fn peek_is(&mut self, p: &str) -> Result<bool, ExprError> {
        Ok(matches!(&self.peek()?.tok, Tok::P(q) if *q == p))
    }

    fn eat(&mut self, p: &str) -> Result<bool, ExprError> {
        if self.peek_is(p)? {
            self.next()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn expect(&mut self, p: &str, what: &str) -> Result<Token, ExprError> {
        let t = self.next()?;
        if matches!(&t.tok, Tok::P(q) if *q == p) {
            Ok(t)
        } else {
            Err(self.unexpected(&t, what))
        }
    }

    fn unexpected(&self, t: &Token, expected: &str) -> ExprError {
        let msg = match &t.tok {
            Tok::Eof => format!("unexpected end of the expression, expected {expected}"),
            Tok::P(p) => match *p {
                "=>" => "arrow functions are not supported".to_owned(),
                "++" | "--" => "increment and decrement operators are not supported".to_owned(),
                "&" | "|" | "^" | "~" | "<<" | ">>" | ">>>" => {
                    "bitwise operators are not supported".to_owned()
                }
                "{" => "object literals and blocks are not supported".to_owned(),
                ";" => "only a single expression is allowed (unexpected `;`)".to_owned(),
                "," => "the comma operator is not supported".to_owned(),
                "..." => "spread syntax is not supported".to_owned(),
                p if p.ends_with('=')
                    && !matches!(p, "==" | "===" | "!=" | "!==" | "<=" | ">=") =>
                {
                    "assignment is not supported".to_owned()
                }
                p => format!("unexpected `{p}`, expected {expected}"),
            },
            Tok::Num(_) => format!("unexpected number, expected {expected}"),
            Tok::Str(_) => format!("unexpected string, expected {expected}"),
            Tok::Ident(n) if RESERVED.contains(&n.as_str()) => {
                format!("`{n}` is not supported in expressions")
            }
            Tok::Ident(n) => format!("unexpected `{n}`, expected {expected}"),
            Tok::Backtick => format!("unexpected template literal, expected {expected}"),
        };
        ExprError::new(msg, t.start, t.end - t.start)
    }

    fn enter(&mut self, at: usize) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(ExprError::new(
                format!("expression is nested too deeply (more than {MAX_DEPTH} levels)"),
                at,
                self.char_at(at).map_or(0, char::len_utf8),
            ))
        } else {
            Ok(())
        }
    }

    fn parse_expr(&mut self) -> Result<Node, ExprError> {
        let at = self.peek()?.start;
        self.enter(at)?;
        let r = self.parse_cond();
        self.depth -= 1;
        r
    }

    fn parse_cond(&mut self) -> Result<Node, ExprError> {
        let c = self.parse_binary(1)?;
        if self.eat("?")? {
            let a = self.parse_expr()?;
            self.expect(":", "`:` of the conditional expression")?;
            let b = self.parse_expr()?;
            return Ok(Node::Cond(Box::new(c), Box::new(a), Box::new(b)));
        }
        Ok(c)
    }

    /// Precedence climbing over the left-associative binary operators
    /// (one stack frame per precedence step, not per grammar level).
    fn parse_binary(&mut self, min_prec: u8) -> Result<Node, ExprError> {
        let saved = self.depth;
        let mut lhs = self.parse_pow()?;
        loop {
            let t = self.peek()?;
            let Tok::P(p) = &t.tok else { break };
            let Some((op, prec)) = binary_op(p) else {
                break;
            };
            if prec < min_prec {
                break;
            }
            let at = t.start;
            self.next()?;
            self.enter(at)?;
            let rhs = self.parse_binary(prec + 1)?;
            lhs = Node::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        self.depth = saved;
        Ok(lhs)
    }

    fn parse_pow(&mut self) -> Result<Node, ExprError> {
        let (base, unary) = self.parse_unary()?;
        let t = self.peek()?;
        if matches!(t.tok, Tok::P("**")) {
            let (at, len) = (t.start, t.end - t.start);
            if unary {
                return Err(ExprError::new(
                    "a unary operator before `**` needs parentheses, e.g. `(-x) ** 2`",
                    at,
                    len,
                ));
            }
            self.next()?;
            self.enter(at)?;
            let exp = self.parse_pow();
            self.depth -= 1;
            return Ok(Node::Binary(BinOp::Pow, Box::new(base), Box::new(exp?)));
        }
        Ok(base)
    }

    /// Returns the node and whether it is a unary-operator expression.
    fn parse_unary(&mut self) -> Result<(Node, bool), ExprError> {
        let t = self.peek()?;
        let op = match &t.tok {
            Tok::P("!") => Some(UnOp::Not),
            Tok::P("-") => Some(UnOp::Neg),
            Tok::P("+") => Some(UnOp::Plus),
            Tok::Ident(n) if n == "typeof" => Some(UnOp::TypeOf),
            _ => None,
        };
        let Some(op) = op else {
            return Ok((self.parse_postfix()?, false));
        };
        let at = t.start;
        self.next()?;
        self.enter(at)?;
        let operand = self.parse_unary();
        self.depth -= 1;
        Ok((Node::Unary(op, Box::new(operand?.0)), true))
    }

    fn parse_postfix(&mut self) -> Result<Node, ExprError> {
        let saved = self.depth;
        let mut e = self.parse_primary()?;
        loop {
            let t = self.peek()?.clone();
            match t.tok {
                Tok::P(".") | Tok::P("?.") => {
                    self.next()?;
                    self.enter(t.start)?;
                    if t.tok == Tok::P("?.") {
                        if self.eat("[")? {
                            let k = self.parse_expr()?;
                            self.expect("]", "`]`")?;
                            e = Node::Member(Box::new(e), Box::new(k));
                            continue;
                        }
                        if self.peek_is("(")? {
                            let p = self.peek()?.start;
                            return Err(ExprError::new(
                                "only Math.<function>(…) and a few methods can be called",
                                p,
                                1,
                            ));
                        }
                    }
                    let nt = self.next()?;
                    let Tok::Ident(name) = &nt.tok else {
                        return Err(self.unexpected(&nt, "a property name"));
                    };
                    if self.peek_is("(")? {
                        let Some(m) = Method::from_name(name) else {
                            return Err(ExprError::new(
                                format!(
                                    "calling `{name}` is not supported; only Math.<function>(…), \
                                     .toFixed(…), .toString() and string methods can be called"
                                ),
                                nt.start,
                                nt.end - nt.start,
                            ));
                        };
                        let args = self.parse_args()?;
                        if m == Method::ToString && !args.is_empty() {
                            return Err(ExprError::new(
                                "toString with a radix is not supported",
                                nt.start,
                                nt.end - nt.start,
                            ));
                        }
                        e = Node::Method(m, Box::new(e), args);
                    } else {
                        e = Node::Member(Box::new(e), Box::new(Node::Lit(Lit::Str(name.clone()))));
                    }
                }
                Tok::P("[") => {
                    self.next()?;
                    self.enter(t.start)?;
                    let k = self.parse_expr()?;
                    self.expect("]", "`]`")?;
                    e = Node::Member(Box::new(e), Box::new(k));
                }
                Tok::P("(") => {
                    return Err(ExprError::new(
                        "only Math.<function>(…) and a few methods can be called",
                        t.start,
                        1,
                    ));
                }
                Tok::Backtick => {
                    return Err(ExprError::new(
                        "tagged templates are not supported",
                        t.start,
                        1,
                    ));
                }
                _ => break,
            }
        }
        self.depth = saved;
        Ok(e)
    }

    /// Parses `( args )`, the next token being `(`.
    fn parse_args(&mut self) -> Result<Vec<Node>, ExprError> {
        self.expect("(", "`(`")?;
        let mut args = Vec::new();
        if self.eat(")")? {
            return Ok(args);
        }
        loop {
            args.push(self.parse_expr()?);
            if self.eat(",")? {
                if self.eat(")")? {
                    break;
                }
                continue;
            }
            self.expect(")", "`,` or `)`")?;
            break;
        }
        Ok(args)
    }

    fn parse_primary(&mut self) -> Result<Node, ExprError> {
        let t = self.next()?;
        let node = match &t.tok {
            Tok::Num(n) => Node::Lit(Lit::Num(*n)),
            Tok::Str(s) => Node::Lit(Lit::Str(s.clone())),
            Tok::Backtick => return self.parse_template(t.start, true),
            Tok::P("(") => {
                let e = self.parse_expr()?;
                self.expect(")", "`)`")?;
                e
            }
            Tok::P("[") => {
                return Err(ExprError::new(
                    "array literals are not supported",
                    t.start,
                    1,
                ));
            }
            Tok::Ident(n) => match n.as_str() {
                "true" => Node::Lit(Lit::Bool(true)),
                "false" => Node::Lit(Lit::Bool(false)),
                "null" => Node::Lit(Lit::Null),
                "undefined" => Node::Lit(Lit::Undef),
                "NaN" => Node::Lit(Lit::Num(f64::NAN)),
                "Infinity" => Node::Lit(Lit::Num(f64::INFINITY)),
                "Math" => return self.parse_math(&t),
                w if RESERVED.contains(&w) => return Err(self.unexpected(&t, "an expression")),
                _ => Node::Ident(n.clone()),
            },
            _ => return Err(self.unexpected(&t, "an expression")),
        };
        Ok(node)
    }

    fn parse_math(&mut self, math: &Token) -> Result<Node, ExprError> {
        if !self.eat(".")? {
            return Err(ExprError::new(
                "`Math` can only be used as Math.<constant> or Math.<function>(…)",
                math.start,
                math.end - math.start,
            ));
        }
        let nt = self.next()?;
        let Tok::Ident(name) = &nt.tok else {
            return Err(self.unexpected(&nt, "a Math function or constant"));
        };
        let len = nt.end - nt.start;
        if let Some(v) = math_const(name) {
            return Ok(Node::Lit(Lit::Num(v)));
        }
        let Some(f) = MathFn::from_name(name) else {
            return Err(ExprError::new(
                format!("`Math.{name}` is not supported"),
                nt.start,
                len,
            ));
        };
        if !self.peek_is("(")? {
            return Err(ExprError::new(
                format!("`Math.{name}` must be called"),
                nt.start,
                len,
            ));
        }
        Ok(Node::Math(f, self.parse_args()?))
    }

    /// Parses a template literal's body from `self.pos` (just after the
    /// opening backtick at `start` when `closed`; otherwise up to the end of
    /// the input, for labels).
    fn parse_template(&mut self, start: usize, closed: bool) -> Result<Node, ExprError> {
        let at = self.pos;
        self.enter(at)?;
        let mut parts = Vec::new();
        let mut cook = Cook::default();
        let mut i = self.pos;
        loop {
            let rest = self.src.get(i..).unwrap_or("");
            let Some(c) = rest.chars().next() else {
                if closed {
                    return Err(ExprError::new(
                        "unterminated template literal",
                        start,
                        i - start,
                    ));
                }
                break;
            };
            if closed && c == '`' {
                i += 1;
                break;
            }
            if c == '\\' {
                i = self.escape(i, &mut cook)?;
                continue;
            }
            if rest.starts_with("${") {
                let s = cook.take();
                if !s.is_empty() {
                    parts.push(Part::Str(s));
                }
                self.pos = i + 2;
                self.peeked = None;
                let e = self.parse_expr()?;
                self.expect("}", "`}` closing the `${` substitution")?;
                parts.push(Part::Expr(e));
                i = self.pos;
                continue;
            }
            if c == '\r' {
                cook.push('\n');
                i += if rest.starts_with("\r\n") { 2 } else { 1 };
                continue;
            }
            cook.push(c);
            i += c.len_utf8();
        }
        let s = cook.take();
        if !s.is_empty() {
            parts.push(Part::Str(s));
        }
        self.pos = i;
        self.peeked = None;
        self.depth -= 1;
        Ok(Node::Template(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn twins() -> HashMap<String, Json> {
        let mut m = HashMap::new();
        m.insert(
            "PrimaryTwin".to_owned(),
            json!({
                "$dtId": "Pump-1",
                "$etag": "W/\"1\"",
                "$metadata": {"$model": "dtmi:com:example:Pump;1"},
                "Temperature": 42.5,
                "InFlow": 10,
                "Count": "5",
                "Name": "Pump \"one\"",
                "Running": true,
                "Mode": null,
                "Tags": ["a", "b"],
                "Motor": {"$metadata": {}, "Rpm": 1500, "Status": "ok"}
            }),
        );
        m.insert(
            "LinkedTwin".to_owned(),
            json!({"$dtId": "Tank-7", "InFlow": 3.5}),
        );
        m
    }

    fn ev(src: &str) -> Value {
        let t = twins();
        parse(src)
            .unwrap_or_else(|e| panic!("{src}: {e}"))
            .eval_in(&t)
    }

    fn s(src: &str) -> String {
        ev(src).to_string()
    }

    fn err(src: &str) -> ExprError {
        match parse(src) {
            Ok(e) => panic!("{src} parsed: {e:?}"),
            Err(e) => e,
        }
    }

    fn check(cases: &[(&str, &str)]) {
        for (src, want) in cases {
            assert_eq!(s(src), *want, "{src}");
        }
    }

    #[test]
    fn arithmetic_and_concatenation() {
        check(&[
            ("1 + 2 * 3", "7"),
            ("(1 + 2) * 3", "9"),
            ("10 / 4", "2.5"),
            ("10 - 4 - 3", "3"),
            ("7 % 3", "1"),
            ("-7 % 3", "-1"),
            ("7 % -3", "1"),
            ("5.5 % 2", "1.5"),
            ("5 % 0", "NaN"),
            ("1 / 0", "Infinity"),
            ("-1 / 0", "-Infinity"),
            ("0 / 0", "NaN"),
            ("2 ** 10", "1024"),
            ("2 ** 3 ** 2", "512"),
            ("(-2) ** 2", "4"),
            ("2 ** -1", "0.5"),
            ("-3", "-3"),
            ("- -3", "3"),
            ("+'3'", "3"),
            ("'a' + 1", "a1"),
            ("1 + 'a'", "1a"),
            ("1 + 2 + 'a'", "3a"),
            ("'a' + 1 + 2", "a12"),
            ("1 + true", "2"),
            ("null + 1", "1"),
            ("undefined + 1", "NaN"),
            ("'5' * 2", "10"),
            ("'5' - 2", "3"),
            ("'5' + 2", "52"),
            ("'x' + null + undefined + true", "xnullundefinedtrue"),
            ("0.1 + 0.2", "0.30000000000000004"),
            ("'' + 1.5", "1.5"),
            ("'v' + PrimaryTwin.Tags", "va,b"),
            ("'' + PrimaryTwin.Motor", "[object Object]"),
            ("PrimaryTwin.Count * 2", "10"),
            ("PrimaryTwin.InFlow - LinkedTwin.InFlow", "6.5"),
            ("0x1F + 0o17 + 0b101", "51"),
            (".5 + 1.", "1.5"),
            ("1e3 + 1E-3", "1000.001"),
        ]);
        assert_eq!(ev("1 + 2"), Value::Number(3.0));
        assert_eq!(ev("'a' + 'b'"), Value::String("ab".into()));
    }

    #[test]
    fn number_formatting() {
        check(&[
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("123456789012345680000", "123456789012345680000"),
            ("1.5e300", "1.5e+300"),
            ("1e-7", "1e-7"),
            ("0.000001", "0.000001"),
            ("1.5e-10", "1.5e-10"),
            ("-1.5e-7", "-1.5e-7"),
            ("123e-20", "1.23e-18"),
            ("-0", "0"),
            ("0 * -1", "0"),
            ("2 ** 53", "9007199254740992"),
            ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("5e-324", "5e-324"),
            ("100", "100"),
            ("-12.25", "-12.25"),
            ("1/3", "0.3333333333333333"),
            ("NaN", "NaN"),
            ("Infinity", "Infinity"),
            ("1e400", "Infinity"),
        ]);
    }

    #[test]
    fn conversions_and_truthiness() {
        check(&[
            ("+'  12  '", "12"),
            ("+''", "0"),
            ("+' \\n\\t '", "0"),
            ("+'abc'", "NaN"),
            ("+true", "1"),
            ("+null", "0"),
            ("+undefined", "NaN"),
            ("-'3'", "-3"),
            ("+'0x10'", "16"),
            ("+'-0x10'", "NaN"),
            ("+'1_000'", "NaN"),
            ("+'+5'", "5"),
            ("+'.5'", "0.5"),
            ("+'5.'", "5"),
            ("+'1e3'", "1000"),
            ("+'-Infinity'", "-Infinity"),
            ("+'inf'", "NaN"),
            ("+'nan'", "NaN"),
            ("+PrimaryTwin.Tags", "NaN"),
            ("!0", "true"),
            ("!NaN", "true"),
            ("!''", "true"),
            ("!'0'", "false"),
            ("!' '", "false"),
            ("!null", "true"),
            ("!undefined", "true"),
            ("!PrimaryTwin", "false"),
            ("!PrimaryTwin.Motor.$metadata", "false"),
            ("!!PrimaryTwin.Missing", "false"),
            ("typeof PrimaryTwin.Temperature", "number"),
            ("typeof PrimaryTwin", "object"),
            ("typeof PrimaryTwin.Tags", "object"),
            ("typeof Nope", "undefined"),
            ("typeof null", "object"),
            ("typeof PrimaryTwin.$dtId", "string"),
            ("typeof PrimaryTwin.Running", "boolean"),
        ]);
        assert!(Value::Number(1.0).truthy());
        assert!(!Value::String(String::new()).truthy());
        assert_eq!(Value::String(" 7 ".into()).to_number(), 7.0);
        assert_eq!(Value::Null.type_of(), "object");
    }

    #[test]
    fn equality() {
        check(&[
            ("null == undefined", "true"),
            ("null === undefined", "false"),
            ("null == 0", "false"),
            ("undefined == 0", "false"),
            ("null == false", "false"),
            ("'1' == 1", "true"),
            ("'1' === 1", "false"),
            ("'' == 0", "true"),
            ("'0' == false", "true"),
            ("true == 1", "true"),
            ("true == '1'", "true"),
            ("true == 2", "false"),
            ("NaN == NaN", "false"),
            ("NaN != NaN", "true"),
            ("1 === 1.0", "true"),
            ("0 === -0", "true"),
            ("'a' != 'a'", "false"),
            ("'1' !== 1", "true"),
            ("' \\n 42 \\t' == 42", "true"),
            ("'0x10' == 16", "true"),
            ("'1e3' == 1000", "true"),
            ("'Infinity' == 1 / 0", "true"),
            ("'5' * 2 == 10", "true"),
            ("PrimaryTwin.Tags == 'a,b'", "true"),
            ("PrimaryTwin.Motor == '[object Object]'", "true"),
            ("PrimaryTwin === PrimaryTwin", "true"),
            ("PrimaryTwin.Motor === PrimaryTwin['Motor']", "true"),
            ("PrimaryTwin === LinkedTwin", "false"),
            ("PrimaryTwin == LinkedTwin", "false"),
            ("PrimaryTwin.Mode === null", "true"),
            ("PrimaryTwin.Mode == undefined", "true"),
            ("PrimaryTwin.Missing === undefined", "true"),
            ("PrimaryTwin.Running == true", "true"),
            ("PrimaryTwin.$dtId === 'Pump-1'", "true"),
        ]);
    }

    #[test]
    fn relational() {
        check(&[
            ("PrimaryTwin.Temperature > 30", "true"),
            ("PrimaryTwin.Temperature <= 30", "false"),
            ("1 < 2", "true"),
            ("2 <= 2", "true"),
            ("3 >= 4", "false"),
            ("'10' < '9'", "true"),
            ("'10' < 9", "false"),
            ("10 < '9'", "false"),
            ("'a' < 'b'", "true"),
            ("'B' < 'a'", "true"),
            ("'abc' < 'abd'", "true"),
            ("'ab' < 'abc'", "true"),
            ("'' < 'a'", "true"),
            ("'😀' < '\\uffff'", "true"),
            ("NaN < 1", "false"),
            ("NaN >= 1", "false"),
            ("1 > NaN", "false"),
            ("null >= 0", "true"),
            ("undefined >= 0", "false"),
            ("true > false", "true"),
            ("'abc' < 1", "false"),
            ("'abc' >= 1", "false"),
        ]);
    }

    #[test]
    fn logical_and_conditional() {
        check(&[
            ("0 || 'x'", "x"),
            ("'a' || 'b'", "a"),
            ("1 && 'x'", "x"),
            ("null ?? 5", "5"),
            ("undefined ?? 'd'", "d"),
            ("0 ?? 5", "0"),
            ("'' ?? 5", ""),
            ("PrimaryTwin.Missing || 'n/a'", "n/a"),
            ("PrimaryTwin.Mode ?? 'auto'", "auto"),
            ("PrimaryTwin.Temperature > 30 ? 'hot' : 'ok'", "hot"),
            ("PrimaryTwin.Temperature > 50 ? 'hot' : 'ok'", "ok"),
            ("1 ? 2 : 3 ? 4 : 5", "2"),
            ("0 ? 2 : 0 ? 4 : 5", "5"),
            ("0 ? 2 : 3 ? 4 : 5", "4"),
            ("1 < 2 && 2 < 3 || false", "true"),
            ("false && Math.sqrt(-1)", "false"),
            ("true || Nope.x.y", "true"),
            (
                "PrimaryTwin.Running && PrimaryTwin.InFlow > 5 && LinkedTwin.InFlow < 5",
                "true",
            ),
        ]);
        assert_eq!(ev("0 && 'x'"), Value::Number(0.0));
        assert_eq!(ev("null && 'x'"), Value::Null);
        assert_eq!(ev("PrimaryTwin.Missing && 1"), Value::Undefined);
        assert_eq!(ev("'' || 0"), Value::Number(0.0));
        let long = vec!["PrimaryTwin.InFlow == 1"; 60].join(" || ");
        assert_eq!(s(&long), "false");
    }

    #[test]
    fn member_access() {
        check(&[
            ("PrimaryTwin.$dtId", "Pump-1"),
            ("PrimaryTwin.$metadata.$model", "dtmi:com:example:Pump;1"),
            ("PrimaryTwin['Temperature']", "42.5"),
            ("PrimaryTwin[\"Motor\"].Rpm", "1500"),
            ("PrimaryTwin.Motor['Sta' + 'tus']", "ok"),
            ("PrimaryTwin.Motor.Rpm / 60", "25"),
            ("PrimaryTwin.Tags[1]", "b"),
            ("PrimaryTwin.Tags['0']", "a"),
            ("PrimaryTwin.Tags[5]", "undefined"),
            ("PrimaryTwin.Tags['01']", "undefined"),
            ("PrimaryTwin.Tags[0.5]", "undefined"),
            ("PrimaryTwin.Tags.length", "2"),
            ("PrimaryTwin.Name", "Pump \"one\""),
            ("PrimaryTwin.Name.length", "10"),
            ("'héllo😀'.length", "7"),
            ("'abc'[1]", "b"),
            ("'abc'[3]", "undefined"),
            ("PrimaryTwin.Missing", "undefined"),
            ("PrimaryTwin.Missing.Deep.Deeper", "undefined"),
            ("PrimaryTwin.Mode.x", "undefined"),
            ("Unknown.x", "undefined"),
            ("null.x", "undefined"),
            ("(1).x", "undefined"),
            ("LinkedTwin.InFlow", "3.5"),
            ("LinkedTwin.$dtId", "Tank-7"),
            ("PrimaryTwin?.Motor?.Rpm", "1500"),
            ("PrimaryTwin?.Tags?.[0]", "a"),
            ("PrimaryTwin.Motor", "[object Object]"),
        ]);
        assert_eq!(ev("Nope"), Value::Undefined);
        assert_eq!(
            ev("PrimaryTwin.Tags"),
            Value::Array(vec![json!("a"), json!("b")])
        );
        match ev("PrimaryTwin.Motor") {
            Value::Object(o) => assert_eq!(o.get("Rpm"), Some(&json!(1500))),
            other => panic!("{other:?}"),
        }
        // Closure resolver.
        let doc = json!({"T": 3});
        let e = parse("Twin.T * 2").unwrap();
        let v = e.eval(&|name| (name == "Twin").then_some(&doc));
        assert_eq!(v, Value::Number(6.0));
    }

    #[test]
    fn strings_and_templates() {
        check(&[
            ("'it\\'s'", "it's"),
            ("\"a\\\"b\"", "a\"b"),
            ("'\\x41\\u0042\\u{43}'", "ABC"),
            ("'\\uD83D\\uDE00'", "😀"),
            ("'\\uD83D'", "\u{FFFD}"),
            ("'a\\nb\\tc\\\\'", "a\nb\tc\\"),
            ("'\\0'", "\0"),
            ("'a\\\nb'", "ab"),
            ("'\\q'", "q"),
            (
                "`${PrimaryTwin.$dtId} is ${PrimaryTwin.Temperature}°`",
                "Pump-1 is 42.5°",
            ),
            (
                "`${PrimaryTwin.Running ? \"on\" : 'off'} \"quoted\" 'single'`",
                "on \"quoted\" 'single'",
            ),
            ("`a${`b${1 + 1}c`}d`", "ab2cd"),
            ("`${'}'}`", "}"),
            ("`\\${x}`", "${x}"),
            ("`$`", "$"),
            ("`{}`", "{}"),
            ("`$ {1}`", "$ {1}"),
            ("``", ""),
            ("`line\\nbreak`", "line\nbreak"),
            ("`a\r\nb`", "a\nb"),
            ("`${PrimaryTwin.Missing}`", "undefined"),
            ("`${PrimaryTwin.Tags}`", "a,b"),
            ("`${0.1 + 0.2}`", "0.30000000000000004"),
            ("`x` + 1", "x1"),
            ("`${1}${2}`", "12"),
            ("PrimaryTwin.$dtId.toUpperCase()", "PUMP-1"),
            ("'  A b '.trim().toLowerCase()", "a b"),
            ("'abc'.includes('b')", "true"),
            ("PrimaryTwin.$metadata.$model.startsWith('dtmi:')", "true"),
            ("'abc'.endsWith('x')", "false"),
            ("PrimaryTwin.Tags.includes('b')", "true"),
            ("PrimaryTwin.InFlow.toString() + 1", "101"),
            ("PrimaryTwin.Missing.toUpperCase()", "undefined"),
            ("(5).toUpperCase()", "undefined"),
        ]);
    }

    #[test]
    fn math_and_to_fixed() {
        check(&[
            ("Math.abs(-3)", "3"),
            ("Math.abs()", "NaN"),
            ("Math.ceil(1.2)", "2"),
            ("Math.floor(-1.2)", "-2"),
            ("Math.round(2.5)", "3"),
            ("Math.round(-2.5)", "-2"),
            ("Math.round(1.4)", "1"),
            ("Math.round(0.49999999999999994)", "0"),
            ("Math.min(3, 1, 2)", "1"),
            ("Math.max(3, 1, 2,)", "3"),
            ("Math.max()", "-Infinity"),
            ("Math.min()", "Infinity"),
            ("Math.max(1, '5')", "5"),
            ("Math.max(1, NaN)", "NaN"),
            ("Math.max(PrimaryTwin.InFlow, LinkedTwin.InFlow)", "10"),
            ("Math.pow(2, 10)", "1024"),
            ("Math.pow(1, Infinity)", "NaN"),
            ("Math.pow(NaN, 0)", "1"),
            ("Math.sqrt(16)", "4"),
            ("Math.sqrt(-1)", "NaN"),
            ("Math.trunc(-4.7)", "-4"),
            ("Math.sign(-3)", "-1"),
            ("Math.sign(0)", "0"),
            ("Math.sign('7')", "1"),
            ("Math.log(Math.E)", "1"),
            ("Math.exp(0)", "1"),
            ("Math.log10(1000)", "3"),
            ("Math.PI", "3.141592653589793"),
            ("Math.round(PrimaryTwin.Temperature)", "43"),
            ("(1.005).toFixed(2)", "1.00"),
            ("(1.255).toFixed(2)", "1.25"),
            ("(2.5).toFixed(0)", "3"),
            ("(-2.5).toFixed(0)", "-3"),
            ("(0.5).toFixed(0)", "1"),
            ("(1.5).toFixed(0)", "2"),
            ("(0.125).toFixed(2)", "0.13"),
            ("(9.995).toFixed(2)", "9.99"),
            ("(99.5).toFixed(0)", "100"),
            ("(-0.5).toFixed(0)", "-1"),
            ("(1e21).toFixed(2)", "1e+21"),
            ("(3).toFixed()", "3"),
            ("(3).toFixed(2)", "3.00"),
            ("(-0).toFixed(2)", "0.00"),
            ("(-0.001).toFixed(2)", "-0.00"),
            ("(123.456).toFixed(10)", "123.4560000000"),
            ("(NaN).toFixed(2)", "NaN"),
            ("PrimaryTwin.Temperature.toFixed(1) + '°'", "42.5°"),
            ("1..toFixed(1)", "1.0"),
            ("'5'.toFixed(1)", "undefined"),
            ("(1).toFixed(101)", "undefined"),
            ("(1).toFixed(-1)", "undefined"),
        ]);
    }

    #[test]
    fn names_and_references() {
        let e = parse(
            "PrimaryTwin.Motor.Rpm > LinkedTwin.InFlow && PrimaryTwin['Temperature'] + \
             Math.abs(PrimaryTwin.Tags[Alias.i].x) + PrimaryTwin.Motor.Rpm",
        )
        .unwrap();
        assert_eq!(
            e.names().collect::<Vec<_>>(),
            vec!["PrimaryTwin", "LinkedTwin", "Alias"]
        );
        let refs: Vec<(String, Vec<String>)> = e
            .references()
            .iter()
            .map(|r| (r.root.clone(), r.path.clone()))
            .collect();
        let r = |root: &str, path: &[&str]| {
            (
                root.to_owned(),
                path.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            refs,
            vec![
                r("PrimaryTwin", &["Motor", "Rpm"]),
                r("LinkedTwin", &["InFlow"]),
                r("PrimaryTwin", &["Temperature"]),
                r("Alias", &["i"]),
                r("PrimaryTwin", &["Tags"]),
            ]
        );
        let t = template("`${PrimaryTwin.$dtId}: ${X}`").unwrap();
        assert_eq!(t.names().collect::<Vec<_>>(), vec!["PrimaryTwin", "X"]);
        assert_eq!(parse("Math.PI * 2").unwrap().names().count(), 0);
    }

    #[test]
    fn labels() {
        let t = twins();
        let label = |src: &str| template(src).unwrap().eval_to_string(&t);
        assert_eq!(label("Temp ${PrimaryTwin.Temperature}°"), "Temp 42.5°");
        assert_eq!(label("`Temp ${PrimaryTwin.Temperature}°`"), "Temp 42.5°");
        assert_eq!(label("plain text"), "plain text");
        assert_eq!(label(""), "");
        assert_eq!(label("a } b $ c"), "a } b $ c");
        assert_eq!(label("${PrimaryTwin.$dtId}"), "Pump-1");
        // Backticks are removed everywhere, as Scenes Studio does.
        assert_eq!(label("`a` ${`1` + 1}"), "a 2");
        assert_eq!(
            label(
                "https://example.com/${PrimaryTwin.$dtId}?t=${PrimaryTwin.Temperature.toFixed(0)}"
            ),
            "https://example.com/Pump-1?t=43"
        );
        let e = template("`Temp ${1 +}`").unwrap_err();
        assert_eq!(e.position, 11);
        assert_eq!(e.length, 1);
        let e = template("x ${").unwrap_err();
        assert_eq!((e.position, e.length), (4, 0));
    }

    #[test]
    fn parse_errors_have_positions() {
        let cases: &[(&str, usize, usize, &str)] = &[
            ("PrimaryTwin.Temperature = 5", 24, 1, "assignment"),
            ("a += 1", 2, 2, "assignment"),
            ("1 +", 3, 0, "end of the expression"),
            ("(1 + 2", 6, 0, "`)`"),
            ("alert(1)", 5, 1, "can be called"),
            ("foo.bar()", 4, 3, "calling `bar`"),
            ("new Date()", 0, 3, "`new`"),
            ("function f() {}", 0, 8, "`function`"),
            ("x => x", 2, 2, "arrow"),
            ("x++", 1, 2, "increment"),
            ("\"abc", 0, 4, "unterminated string"),
            ("'a\nb'", 0, 2, "line break"),
            ("`abc${1", 7, 0, "`}`"),
            ("`abc", 0, 4, "unterminated template"),
            ("1 @ 2", 2, 1, "unexpected character `@`"),
            ("😀 + 1", 0, 4, "unexpected character"),
            ("Math.random()", 5, 6, "Math.random"),
            ("Math.abs", 5, 3, "must be called"),
            ("Math", 0, 4, "Math"),
            ("a; b", 1, 1, "single expression"),
            ("1 2", 2, 1, "unexpected number"),
            ("0x", 0, 2, "missing digits"),
            ("1e", 1, 1, "exponent"),
            ("012", 0, 2, "legacy octal"),
            ("1.toFixed(2)", 2, 1, "directly follow"),
            ("1n", 1, 1, "directly follow"),
            ("", 0, 0, "empty"),
            ("   ", 0, 3, "empty"),
            ("-2 ** 2", 3, 2, "parentheses"),
            ("a & b", 2, 1, "bitwise"),
            ("a | b", 2, 1, "bitwise"),
            ("[1, 2]", 0, 1, "array literals"),
            ("{a: 1}", 0, 1, "object literals"),
            ("a ? b", 5, 0, "`:`"),
            ("a, b", 1, 1, "comma"),
            ("'x' in a", 4, 2, "`in`"),
            ("a.", 2, 0, "property name"),
            ("a.1", 1, 2, "unexpected number"),
            ("a[1", 3, 0, "`]`"),
            ("tag`x`", 3, 1, "tagged"),
            ("(1).toString(16)", 4, 8, "radix"),
            ("'\\x4'", 1, 2, "\\x"),
            ("'\\u{110000}'", 1, 2, "\\u"),
            ("'\\1'", 1, 2, "octal"),
            ("/* x", 0, 4, "comment"),
            ("this.x", 0, 4, "`this`"),
            ("()", 1, 1, "expected an expression"),
            ("`${}`", 3, 1, "expected an expression"),
        ];
        for (src, pos, len, msg) in cases {
            let e = err(src);
            assert!(
                e.message.contains(msg),
                "{src}: message {:?} lacks {msg:?}",
                e.message
            );
            assert_eq!((e.position, e.length), (*pos, *len), "{src}: {e}");
        }
        assert_eq!(
            err("a = 1").to_string(),
            "assignment is not supported (at byte 2)"
        );
        // Comments and whitespace are fine.
        assert_eq!(s("1 /* one */ + // two\n 2"), "3");
    }

    /// A small deterministic generator (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn check_error_range(src: &str, e: &ExprError) {
        let end = e.position + e.length;
        assert!(end <= src.len(), "{src:?}: {e:?}");
        assert!(
            src.is_char_boundary(e.position) && src.is_char_boundary(end),
            "{src:?}: {e:?}"
        );
    }

    fn exercise(src: &str, ctx: &HashMap<String, Json>) {
        match parse(src) {
            Ok(e) => {
                let _ = e.eval_in(ctx).to_string();
                let _ = e.names().count();
            }
            Err(e) => check_error_range(src, &e),
        }
        match template(src) {
            Ok(e) => {
                let _ = e.eval_to_string(ctx);
            }
            Err(e) => check_error_range(src, &e),
        }
    }

    #[test]
    fn fuzz_never_panics() {
        let ctx = twins();
        let fragments = [
            "PrimaryTwin",
            ".",
            "$dtId",
            "[",
            "]",
            "(",
            ")",
            "'",
            "\"",
            "`",
            "${",
            "}",
            "\\",
            "u{",
            "x",
            "1",
            "0x",
            "e",
            "+",
            "-",
            "*",
            "/",
            "%",
            "**",
            "<",
            "=",
            "!",
            "&",
            "|",
            "?",
            ":",
            "?.",
            ",",
            " ",
            "Math",
            "max",
            "toFixed",
            "😀",
            "é",
            "\n",
            "/*",
            "*/",
            "//",
            "null",
            "true",
            "9",
            ".5",
            "typeof",
            "Tags",
            "0",
            "\\u",
            "D83D",
            "{",
            "??",
            "&&",
            "||",
            "===",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let n = rng.below(24);
            let src: String = (0..n)
                .map(|_| fragments[rng.below(fragments.len())])
                .collect();
            exercise(&src, &ctx);
        }
        let seeds = [
            "`${PrimaryTwin.$dtId} is ${PrimaryTwin.Temperature.toFixed(1)}°`",
            "PrimaryTwin.Temperature > 30 && LinkedTwin['InFlow'] < 5 ? 'hot' : \"ok\"",
            "Math.max(PrimaryTwin.Tags[0], -1e-3, 0x1f) ** 2 % 7",
            "'\\u{1F600}\\x41' + `a${`b${1}`}` ?? null",
        ];
        for seed in seeds {
            let chars: Vec<char> = seed.chars().collect();
            for _ in 0..5_000 {
                let mut c = chars.clone();
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(c.len() + 1);
                    match rng.below(3) {
                        0 if i < c.len() => {
                            c.remove(i);
                        }
                        1 => c.insert(i, chars[rng.below(chars.len())]),
                        _ if i < c.len() => c[i] = chars[rng.below(chars.len())],
                        _ => {}
                    }
                }
                let src: String = c.into_iter().collect();
                exercise(&src, &ctx);
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        // 2 MiB: Rust's default for spawned threads. Unoptimized builds use
        // far more stack per nesting level than optimized ones.
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let n = 100_000;
                let deep = [
                    format!("{}1{}", "(".repeat(n), ")".repeat(n)),
                    format!("{}1", "!".repeat(n)),
                    format!("{}1", "- ".repeat(n)),
                    format!("{}1", "1+".repeat(n)),
                    format!("{}1", "2**".repeat(n)),
                    format!("{}1", "1?1:".repeat(n)),
                    format!("a{}", ".b".repeat(n)),
                    format!("a{}", "[0]".repeat(n)),
                    format!("{}1{}", "`${".repeat(n), "}`".repeat(n)),
                    format!("{}1{}", "Math.abs(".repeat(n), ")".repeat(n)),
                    format!("{}1", "a[".repeat(n)),
                ];
                for src in &deep {
                    let e = parse(src).unwrap_err();
                    assert!(e.message.contains("nested too deeply"), "{e}");
                    if !src.contains('`') {
                        let e = template(&format!("${{{src}}}")).unwrap_err();
                        assert!(e.message.contains("nested too deeply"), "{e}");
                    }
                }
                // Just inside the limit parses and evaluates.
                let ok = format!(
                    "{}1{}",
                    "(".repeat(MAX_DEPTH - 1),
                    ")".repeat(MAX_DEPTH - 1)
                );
                assert_eq!(parse(&ok).unwrap().eval(&|_| None), Value::Number(1.0));
                let ok = format!("{}1", "1+".repeat(MAX_DEPTH - 1));
                assert_eq!(
                    parse(&ok).unwrap().eval(&|_| None),
                    Value::Number(MAX_DEPTH as f64)
                );
                let ok = format!("{}1", "!".repeat(MAX_DEPTH - 1));
                assert_eq!(parse(&ok).unwrap().eval(&|_| None), Value::Bool(false));
            })
            .unwrap();
        handle.join().unwrap();
    }
}
