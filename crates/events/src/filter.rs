//! ADT's event route filter language.
//!
//! ```text
//! filter     := or-expr
//! or-expr    := and-expr { "OR" and-expr }          ; AND binds tighter than OR
//! and-expr   := term { "AND" term }
//! term       := "(" or-expr ")" | "true" | "false" | call | comparison
//! call       := ("STARTS_WITH" | "ENDS_WITH" | "CONTAINS") "(" attr "," string ")"
//! comparison := attr ("=" | "!=" | "<" | "<=" | ">" | ">=") literal
//! attr       := name                                 ; a CloudEvents attribute: type, source, subject, ...
//!             | "$body" { "." name }                 ; a field of `data`; names may start with '$'
//!             | "$eventType"                         ; ADT's legacy routing source name
//! literal    := 'string' | integer | double | true | false | null
//! ```
//!
//! Keywords and function names are case-insensitive (ADT accepts a
//! lower-case `or`); values compare case-sensitively, as in ADT. A string
//! may contain `''` or `\'` for a quote. `STARTSWITH` / `ENDSWITH` are
//! accepted as spellings of the documented functions. Fields inside arrays
//! cannot be reached (ADT's rule). Errors carry the line and the 1-based
//! position of the offending input, in the words ADT's service uses
//! (`Line=1, Position=6, Message=Unexpected input 'is'`).
//!
//! Evaluation: a comparison with a missing or `null` value is true only for
//! `= null`; `!=` is true when the types differ; `<`, `<=`, `>` and `>=` hold
//! only between two numbers or two strings (ordinal order).

use crate::notification::{self, CloudEvent};
use serde_json::Value as Json;
use std::cmp::Ordering;
use std::fmt;

/// Longest filter accepted, in bytes.
pub const MAX_LEN: usize = 4096;
/// Deepest nesting of parentheses accepted.
pub const MAX_DEPTH: usize = 32;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Const(bool),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare { attr: Attr, op: Op, value: Literal },
    Call { func: Func, attr: Attr, arg: String },
}

#[derive(Debug, Clone, PartialEq)]
enum Attr {
    Context(String),
    Body(Vec<String>),
    EventType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

/// Why a filter does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Parsing error, Line={line}, Position={position}, Message={message}")]
pub struct FilterError {
    /// 1-based line.
    pub line: usize,
    /// 1-based position (in characters) within the line.
    pub position: usize,
    /// Byte offset in the filter.
    pub offset: usize,
    pub message: String,
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        if text.len() > MAX_LEN {
            return Err(error_at(
                text,
                MAX_LEN,
                format!("The filter is longer than {MAX_LEN} characters"),
            ));
        }
        let tokens = lex(text)?;
        let mut p = Parser {
            text,
            tokens,
            pos: 0,
            depth: 0,
        };
        if p.peek().kind == Tok::End {
            return Err(p.error_here("The filter is empty; use 'true' to route every event"));
        }
        let expr = p.or_expr()?;
        if p.peek().kind != Tok::End {
            let hint = match p.peek().kind {
                Tok::RParen => " (no parenthesis is open)",
                _ => " (expected AND, OR or the end of the filter)",
            };
            return Err(p.unexpected(hint));
        }
        Ok(Filter { expr })
    }

    /// Whether `event` passes the filter.
    pub fn matches(&self, event: &CloudEvent) -> bool {
        eval(&self.expr, event)
    }

    /// `false`: the route is disabled.
    pub fn is_false(&self) -> bool {
        self.expr == Expr::Const(false)
    }
}

// ----- lexer ----------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Str(String),
    Int(i64),
    Float(f64),
    Op(Op),
    LParen,
    RParen,
    Comma,
    Dot,
    End,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

fn error_at(text: &str, offset: usize, message: String) -> FilterError {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let position = text
        .get(line_start..offset)
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    FilterError {
        line,
        position,
        offset,
        message,
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let single = |kind| Token {
            kind,
            start,
            end: start + c.len_utf8(),
        };
        match c {
            '(' | ')' | ',' | '.' => {
                chars.next();
                tokens.push(single(match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    ',' => Tok::Comma,
                    _ => Tok::Dot,
                }));
            }
            '=' | '!' | '<' | '>' => {
                chars.next();
                let next_eq = chars.peek().is_some_and(|&(_, n)| n == '=');
                let op = match (c, next_eq) {
                    ('=', _) => Some(Op::Eq),
                    ('!', true) => Some(Op::Ne),
                    ('<', true) => Some(Op::Le),
                    ('<', false) => Some(Op::Lt),
                    ('>', true) => Some(Op::Ge),
                    ('>', false) => Some(Op::Gt),
                    _ => None,
                };
                let Some(op) = op else {
                    return Err(error_at(
                        text,
                        start,
                        "Unexpected input '!' (did you mean '!='?)".into(),
                    ));
                };
                let mut end = start + 1;
                if next_eq && c != '=' {
                    chars.next();
                    end += 1;
                } else if c == '=' && next_eq {
                    // `==` is not ADT's; point at the second '='.
                    return Err(error_at(
                        text,
                        start + 1,
                        "Unexpected input '=' (use a single '=' to compare)".into(),
                    ));
                }
                tokens.push(Token {
                    kind: Tok::Op(op),
                    start,
                    end,
                });
            }
            '\'' => {
                chars.next();
                let mut s = String::new();
                let mut closed = None;
                while let Some((i, ch)) = chars.next() {
                    match ch {
                        '\'' if chars.peek().is_some_and(|&(_, n)| n == '\'') => {
                            chars.next();
                            s.push('\'');
                        }
                        '\'' => {
                            closed = Some(i + 1);
                            break;
                        }
                        '\\' if chars.peek().is_some_and(|&(_, n)| n == '\'' || n == '\\') => {
                            if let Some((_, n)) = chars.next() {
                                s.push(n);
                            }
                        }
                        _ => s.push(ch),
                    }
                }
                let Some(end) = closed else {
                    return Err(error_at(
                        text,
                        start,
                        "Unterminated string: a closing ' is missing".into(),
                    ));
                };
                tokens.push(Token {
                    kind: Tok::Str(s),
                    start,
                    end,
                });
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' => {
                let mut end = start;
                let mut seen_digit = false;
                let mut float = false;
                let mut prev = '\0';
                while let Some(&(i, ch)) = chars.peek() {
                    let ok = ch.is_ascii_digit()
                        || (i == start && (ch == '-' || ch == '+'))
                        || (ch == '.' && !float)
                        || ((ch == 'e' || ch == 'E') && seen_digit)
                        || ((ch == '-' || ch == '+') && (prev == 'e' || prev == 'E'));
                    if !ok {
                        break;
                    }
                    seen_digit |= ch.is_ascii_digit();
                    float |= matches!(ch, '.' | 'e' | 'E');
                    prev = ch;
                    end = i + ch.len_utf8();
                    chars.next();
                }
                let raw = &text[start..end];
                let kind = if !float {
                    raw.parse::<i64>().ok().map(Tok::Int)
                } else {
                    None
                }
                .or_else(|| {
                    raw.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map(Tok::Float)
                });
                let Some(kind) = kind else {
                    return Err(error_at(
                        text,
                        start,
                        format!("Unexpected input '{raw}' (not a number)"),
                    ));
                };
                tokens.push(Token { kind, start, end });
            }
            c if is_name_start(c) => {
                let mut end = start;
                while let Some(&(i, ch)) = chars.peek() {
                    if !is_name_char(ch) {
                        break;
                    }
                    end = i + ch.len_utf8();
                    chars.next();
                }
                tokens.push(Token {
                    kind: Tok::Name(text[start..end].to_string()),
                    start,
                    end,
                });
            }
            other => {
                return Err(error_at(text, start, format!("Unexpected input '{other}'")));
            }
        }
    }
    tokens.push(Token {
        kind: Tok::End,
        start: text.len(),
        end: text.len(),
    });
    Ok(tokens)
}

// ----- parser ---------------------------------------------------------------

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

fn keyword(tok: &Tok, word: &str) -> bool {
    matches!(tok, Tok::Name(n) if n.eq_ignore_ascii_case(word))
}

fn function(name: &str) -> Option<Func> {
    match name.to_ascii_uppercase().as_str() {
        "STARTS_WITH" | "STARTSWITH" => Some(Func::StartsWith),
        "ENDS_WITH" | "ENDSWITH" => Some(Func::EndsWith),
        "CONTAINS" => Some(Func::Contains),
        _ => None,
    }
}

const RESERVED: &[&str] = &["and", "or", "not", "true", "false", "null"];

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The token list always ends with `End`, and `pos` never passes it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn error_here(&self, message: &str) -> FilterError {
        error_at(self.text, self.peek().start, message.to_string())
    }

    /// "Unexpected input 'x'" at the current token, with a hint.
    fn unexpected(&self, hint: &str) -> FilterError {
        let t = self.peek();
        let message = if t.kind == Tok::End {
            format!("Unexpected end of filter{hint}")
        } else {
            format!("Unexpected input '{}'{hint}", &self.text[t.start..t.end])
        };
        error_at(self.text, t.start, message)
    }

    fn or_expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and_expr()?;
        while keyword(&self.peek().kind, "or") {
            self.bump();
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.term()?;
        while keyword(&self.peek().kind, "and") {
            self.bump();
            let right = self.term()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, FilterError> {
        const EXPECTED: &str =
            " (expected a comparison such as type = '…', a function, true, false or '(')";
        let tok = self.peek().clone();
        match &tok.kind {
            Tok::LParen => {
                if self.depth >= MAX_DEPTH {
                    return Err(self
                        .error_here(&format!("Parentheses nest deeper than {MAX_DEPTH} levels")));
                }
                self.bump();
                self.depth += 1;
                let inner = self.or_expr()?;
                self.depth -= 1;
                if self.peek().kind != Tok::RParen {
                    return Err(self.unexpected(" (expected ')', AND or OR)"));
                }
                self.bump();
                Ok(inner)
            }
            Tok::Name(n) if n.eq_ignore_ascii_case("true") => {
                self.bump();
                Ok(Expr::Const(true))
            }
            Tok::Name(n) if n.eq_ignore_ascii_case("false") => {
                self.bump();
                Ok(Expr::Const(false))
            }
            Tok::Name(n) if n.eq_ignore_ascii_case("not") => {
                Err(self.unexpected(" (NOT is not supported; use != or the opposite comparison)"))
            }
            Tok::Name(n) if function(n).is_some() => {
                let func = function(n).unwrap_or(Func::Contains);
                self.bump();
                if self.peek().kind != Tok::LParen {
                    return Err(self.unexpected(" (expected '(' after the function name)"));
                }
                self.bump();
                let attr = self.attr()?;
                if self.peek().kind != Tok::Comma {
                    return Err(self.unexpected(" (expected ',')"));
                }
                self.bump();
                let Tok::Str(arg) = self.peek().kind.clone() else {
                    return Err(self.unexpected(" (expected a string in single quotes)"));
                };
                self.bump();
                if self.peek().kind != Tok::RParen {
                    return Err(self.unexpected(" (expected ')')"));
                }
                self.bump();
                Ok(Expr::Call { func, attr, arg })
            }
            Tok::Name(_) => {
                let attr = self.attr()?;
                let Tok::Op(op) = self.peek().kind else {
                    return Err(self.unexpected(" (expected =, !=, <, <=, > or >=)"));
                };
                self.bump();
                let value = self.literal()?;
                Ok(Expr::Compare { attr, op, value })
            }
            _ => Err(self.unexpected(EXPECTED)),
        }
    }

    fn attr(&mut self) -> Result<Attr, FilterError> {
        let tok = self.peek().clone();
        let Tok::Name(name) = &tok.kind else {
            return Err(
                self.unexpected(" (expected an attribute such as type, subject or $body.<field>)")
            );
        };
        if RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r)) || function(name).is_some() {
            return Err(
                self.unexpected(" (expected an attribute such as type, subject or $body.<field>)")
            );
        }
        self.bump();
        if name == "$body" {
            let mut path = Vec::new();
            while self.peek().kind == Tok::Dot {
                self.bump();
                let Tok::Name(seg) = self.peek().kind.clone() else {
                    return Err(self.unexpected(" (expected a field name after '.')"));
                };
                self.bump();
                path.push(seg);
            }
            return Ok(Attr::Body(path));
        }
        if name == "$eventType" {
            return Ok(Attr::EventType);
        }
        if name.starts_with('$') {
            return Err(error_at(
                self.text,
                tok.start,
                format!("Unknown attribute '{name}' (use $body.<field> for the event's data)"),
            ));
        }
        if self.peek().kind == Tok::Dot {
            return Err(self.unexpected(&format!(
                " ('{name}' has no fields; use $body.<field> for the event's data)"
            )));
        }
        Ok(Attr::Context(name.clone()))
    }

    fn literal(&mut self) -> Result<Literal, FilterError> {
        let lit = match &self.peek().kind {
            Tok::Str(s) => Literal::Str(s.clone()),
            Tok::Int(i) => Literal::Int(*i),
            Tok::Float(f) => Literal::Float(*f),
            Tok::Name(n) if n.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Name(n) if n.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Tok::Name(n) if n.eq_ignore_ascii_case("null") => Literal::Null,
            _ => {
                return Err(
                    self.unexpected(" (expected a value: 'string', a number, true, false or null)")
                );
            }
        };
        self.bump();
        Ok(lit)
    }
}

// ----- evaluation -----------------------------------------------------------

enum Val<'a> {
    Str(&'a str),
    Json(&'a Json),
}

/// ADT's routing source names (the legacy `$eventType`).
fn legacy_event_type(event_type: &str) -> Option<&'static str> {
    match event_type {
        notification::TELEMETRY => Some("DigitalTwinTelemetryMessages"),
        notification::TWIN_CREATE | notification::TWIN_DELETE => {
            Some("DigitalTwinLifecycleNotification")
        }
        notification::TWIN_UPDATE => Some("DigitalTwinChangeNotification"),
        notification::RELATIONSHIP_CREATE
        | notification::RELATIONSHIP_UPDATE
        | notification::RELATIONSHIP_DELETE => Some("DigitalTwinRelationshipChangeNotification"),
        _ => None,
    }
}

fn resolve<'a>(attr: &'a Attr, event: &'a CloudEvent) -> Option<Val<'a>> {
    match attr {
        Attr::Context(name) => event.attribute(name).map(Val::Str),
        Attr::EventType => legacy_event_type(&event.event_type).map(Val::Str),
        Attr::Body(path) => {
            let mut v = &event.data;
            for seg in path {
                v = v.as_object()?.get(seg)?;
            }
            Some(Val::Json(v))
        }
    }
}

fn eval(expr: &Expr, event: &CloudEvent) -> bool {
    match expr {
        Expr::Const(b) => *b,
        Expr::And(a, b) => eval(a, event) && eval(b, event),
        Expr::Or(a, b) => eval(a, event) || eval(b, event),
        Expr::Call { func, attr, arg } => {
            let s = match resolve(attr, event) {
                Some(Val::Str(s)) => s,
                Some(Val::Json(Json::String(s))) => s.as_str(),
                _ => return false,
            };
            match func {
                Func::StartsWith => s.starts_with(arg.as_str()),
                Func::EndsWith => s.ends_with(arg.as_str()),
                Func::Contains => s.contains(arg.as_str()),
            }
        }
        Expr::Compare { attr, op, value } => compare(resolve(attr, event), *op, value),
    }
}

fn compare(v: Option<Val<'_>>, op: Op, lit: &Literal) -> bool {
    let is_null = matches!(v, None | Some(Val::Json(Json::Null)));
    if *lit == Literal::Null || is_null {
        let both = is_null && *lit == Literal::Null;
        return match op {
            Op::Eq => both,
            Op::Ne => !both,
            _ => false,
        };
    }
    let ordering: Option<Ordering> = match (v, lit) {
        (Some(Val::Str(s)), Literal::Str(l)) => Some(s.cmp(l.as_str())),
        (Some(Val::Json(Json::String(s))), Literal::Str(l)) => Some(s.as_str().cmp(l.as_str())),
        (Some(Val::Json(Json::Number(n))), Literal::Int(i)) => match n.as_i64() {
            Some(x) => Some(x.cmp(i)),
            None => n.as_f64().and_then(|x| x.partial_cmp(&(*i as f64))),
        },
        (Some(Val::Json(Json::Number(n))), Literal::Float(f)) => {
            n.as_f64().and_then(|x| x.partial_cmp(f))
        }
        (Some(Val::Json(Json::Bool(b))), Literal::Bool(l)) => {
            return match op {
                Op::Eq => b == l,
                Op::Ne => b != l,
                _ => false,
            };
        }
        _ => None,
    };
    match (ordering, op) {
        (Some(o), Op::Eq) => o == Ordering::Equal,
        (Some(o), Op::Ne) => o != Ordering::Equal,
        (Some(o), Op::Lt) => o == Ordering::Less,
        (Some(o), Op::Le) => o != Ordering::Greater,
        (Some(o), Op::Gt) => o == Ordering::Greater,
        (Some(o), Op::Ge) => o != Ordering::Less,
        // Different types: never equal, never ordered.
        (None, Op::Ne) => true,
        (None, _) => false,
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::{Telemetry, from_change, from_telemetry};
    use serde_json::json;
    use twinscape_graph::{Change, ChangeKind, Timestamp};

    fn twin_create() -> CloudEvent {
        let mut e = from_change(
            &Change {
                seq: 1,
                kind: ChangeKind::TwinCreated {
                    id: "twin-1".into(),
                    twin: json!({"$dtId": "twin-1", "$etag": "W/\"x\"", "temperature": 4.5, "errorCode": 404,
                        "poweredOn": true, "name": "Room 1", "prop": null, "list": [{"a": 1}],
                        "$metadata": {"$model": "dtmi:example:com:floor4;2"}}),
                },
            },
            Timestamp(0),
        )
        .remove(0);
        e.source = "my.api.wus2.digitaltwins.azure.net".into();
        e
    }

    fn telemetry() -> CloudEvent {
        let mut e = from_telemetry(Telemetry {
            twin_id: "twin-1",
            component: Some("comp1"),
            message_id: "m1",
            model_id: Some("dtmi:example:com:floor4;2"),
            time: Timestamp(0),
            payload: json!({"temperature": 12}),
        });
        e.source = format!("my.api.wus2.digitaltwins.azure.net{}", e.source);
        e
    }

    fn check(filter: &str, event: &CloudEvent) -> bool {
        Filter::parse(filter)
            .unwrap_or_else(|e| panic!("{filter}: {e}"))
            .matches(event)
    }

    fn err(filter: &str) -> FilterError {
        match Filter::parse(filter) {
            Ok(f) => panic!("{filter} parsed: {f:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn adt_documented_examples() {
        let c = twin_create();
        let t = telemetry();
        assert!(check("true", &c));
        assert!(!check("false", &c));
        assert!(Filter::parse("false").unwrap().is_false());
        assert!(check("type = 'Microsoft.DigitalTwins.Twin.Create'", &c));
        assert!(!check("type = 'Microsoft.DigitalTwins.Twin.Create'", &t));
        let either =
            "type = 'Microsoft.DigitalTwins.Twin.Create' OR type = 'microsoft.iot.telemetry'";
        assert!(check(either, &c) && check(either, &t));
        let mixed = "(type != 'microsoft.iot.telemetry' OR datacontenttype = 'application/json') OR (specversion != '1.0')";
        assert!(check(mixed, &c) && check(mixed, &t));
        assert!(check(
            "STARTS_WITH($body.$metadata.$model, 'dtmi:example:com:floor')",
            &c
        ));
        assert!(check("ENDS_WITH($body.$metadata.$model, 'floor4;2')", &c));
        assert!(check("CONTAINS(subject, 'twin-1')", &c));
        assert!(check("$body.errorCode > 200", &c));
        assert!(check("$body.temperature <= 5.5", &c));
        assert!(check("$body.poweredOn = true", &c));
        assert!(!check("$body.prop != null", &c));
        assert!(check("$body.name != null", &c));
        assert!(check("dataschema = 'dtmi:example:com:floor4;2'", &t));
        assert!(!check("dataschema = 'dtmi:example:com:floor4;2'", &c));
        assert!(check("source = 'my.api.wus2.digitaltwins.azure.net'", &c));
        assert!(check(
            "source = 'my.api.wus2.digitaltwins.azure.net/digitaltwins/twin-1'",
            &t
        ));
        assert!(check("subject = 'comp1'", &t));
    }

    #[test]
    fn legacy_event_type_filters() {
        // Recorded: the real service accepts this (lower-case `or`).
        let f = "$eventType = 'DigitalTwinTelemetryMessages' or $eventType = 'DigitalTwinLifecycleNotification'";
        assert!(check(f, &telemetry()));
        assert!(check(f, &twin_create()));
        let mut update = twin_create();
        update.event_type = notification::TWIN_UPDATE.into();
        assert!(!check(f, &update));
        assert!(check(
            "$eventType = 'DigitalTwinChangeNotification'",
            &update
        ));
    }

    #[test]
    fn precedence_case_and_values() {
        let c = twin_create();
        // AND binds tighter than OR.
        assert!(check(
            "type = 'x' AND subject = 'no' OR subject = 'twin-1'",
            &c
        ));
        assert!(!check(
            "type = 'x' AND (subject = 'no' OR subject = 'twin-1')",
            &c
        ));
        assert!(check(
            "type = 'Microsoft.DigitalTwins.Twin.Create' and true",
            &c
        ));
        assert!(check("startswith(subject, 'twin')", &c));
        // Values are case-sensitive.
        assert!(!check("type = 'microsoft.digitaltwins.twin.create'", &c));
        // Missing attributes and fields.
        assert!(!check("$body.missing = 1", &c));
        assert!(check("$body.missing = null", &c));
        assert!(check("$body.missing != 'a'", &c));
        assert!(!check("$body.missing < 1", &c));
        assert!(check("time = null", &c) == c.time.is_none());
        assert!(check("unknownattr = null", &c));
        // Type mismatches are unequal and unordered.
        assert!(check("$body.temperature != 'hot'", &c));
        assert!(!check("$body.temperature > 'a'", &c));
        assert!(!check("$body.poweredOn < true", &c));
        // Numbers: integers against doubles.
        assert!(check("$body.errorCode = 404.0", &c));
        assert!(check("$body.temperature > 4", &c));
        assert!(check("$body.temperature >= -1e3", &c));
        // Strings order ordinally.
        assert!(check("$body.name < 'Room 2'", &c));
        assert!(check("$body.name = 'Room 1'", &c));
        assert!(check("$body.name = 'it''s' OR $body.name = 'Room 1'", &c));
        // Fields inside arrays cannot be reached.
        assert!(!check("$body.list.a = 1", &c));
        // Whole-object comparisons are false.
        assert!(!check("$body.$metadata = 'x'", &c));
    }

    #[test]
    fn errors_point_at_the_problem() {
        // The real service: "Parsing error, Line=1, Position=6, Message=Unexpected input 'is'".
        let e = err("this is not a valid filter string");
        assert_eq!((e.line, e.position), (1, 6));
        assert!(e.message.starts_with("Unexpected input 'is'"), "{e}");
        assert!(
            e.to_string()
                .starts_with("Parsing error, Line=1, Position=6, Message=Unexpected input 'is'"),
            "{e}"
        );
        let e = err("type = ");
        assert_eq!(e.position, 8);
        assert!(e.message.starts_with("Unexpected end of filter"), "{e}");
        let e = err("type = 'abc");
        assert_eq!(e.position, 8);
        assert!(e.message.contains("Unterminated string"), "{e}");
        let e = err("type == 'a'");
        assert_eq!(e.position, 7);
        let e = err("(type = 'a'");
        assert_eq!(e.position, 12);
        assert!(e.message.contains("expected ')'"), "{e}");
        let e = err("type = 'a')");
        assert_eq!(e.position, 11);
        let e = err("type = 'a' AND");
        assert!(e.message.starts_with("Unexpected end of filter"), "{e}");
        let e = err("type = 'a'\n  OR subject ~ 'b'");
        assert_eq!((e.line, e.position), (2, 14), "{e}");
        let e = err("NOT type = 'a'");
        assert!(e.message.contains("NOT is not supported"), "{e}");
        let e = err("STARTS_WITH(subject, 5)");
        assert_eq!(e.position, 22);
        let e = err("$dtId = 'a'");
        assert!(e.message.contains("Unknown attribute '$dtId'"), "{e}");
        let e = err("subject.x = 'a'");
        assert_eq!(e.position, 8);
        let e = err("   ");
        assert!(e.message.contains("empty"), "{e}");
        let e = err("type = 'ä' AND ä");
        assert_eq!(e.position, 16, "positions count characters");
        assert!(err(&"(".repeat(MAX_DEPTH + 1)).message.contains("nest"));
        assert!(err(&"x".repeat(MAX_LEN + 1)).message.contains("longer"));
        let e = err("type = 'a' type = 'b'");
        assert!(e.message.contains("expected AND, OR"), "{e}");
    }

    proptest::proptest! {
        /// Any text either parses (and evaluates) or fails with a position
        /// inside it; nothing panics.
        #[test]
        fn never_panics(text in "[ -~äö\n]{0,80}") {
            check_any(&text);
        }

        /// Filter-shaped text, to get past the first token.
        #[test]
        fn never_panics_on_filter_like_text(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "type", "subject", "$body", ".", "$metadata", "x", "=", "!=", "<", ">=",
                "'a'", "'it''s'", "5", "-1.5e3", "true", "false", "null", "AND", "or",
                "(", ")", ",", "STARTS_WITH", "CONTAINS", "$eventType", "NOT", "'",
            ]),
            0..16,
        )) {
            check_any(&parts.join(" "));
        }
    }

    fn check_any(text: &str) {
        match Filter::parse(text) {
            Ok(f) => {
                f.matches(&twin_create());
                f.matches(&telemetry());
            }
            Err(e) => {
                assert!(e.offset <= text.len(), "{e:?}");
                assert!(e.line >= 1 && e.position >= 1, "{e:?}");
                assert!(!e.message.is_empty());
            }
        }
    }
}
