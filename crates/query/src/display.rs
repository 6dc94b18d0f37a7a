//! Canonical query text: `Display` for the AST.
//!
//! Keywords upper-case, names escaped as `[[name]]` where needed, strings in
//! single quotes, one space between clauses. Parsing the text gives the same
//! tree again (spans aside), which the round-trip tests check.

use std::fmt::{self, Display, Formatter, Write};

use crate::ast::*;
use crate::keywords::is_plain_name;

/// Writes a name, escaping it when it is not a plain word.
fn name(f: &mut Formatter<'_>, name: &str) -> fmt::Result {
    if is_plain_name(name) {
        f.write_str(name)
    } else {
        write!(f, "[[{name}]]")
    }
}

/// Writes a name that follows a `.` or sits in a relationship condition:
/// reserved words need no escaping there.
fn member(f: &mut Formatter<'_>, member: &str) -> fmt::Result {
    let body = member.strip_prefix('$').unwrap_or(member);
    let mut chars = body.chars();
    let plain = chars.next().is_some_and(crate::lexer::is_name_start)
        && chars.all(crate::lexer::is_name_continue);
    if plain {
        f.write_str(member)
    } else {
        write!(f, "[[{member}]]")
    }
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        name(f, &self.name)
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.select, self.from)?;
        if let Some(w) = &self.where_clause {
            write!(f, " WHERE {w}")?;
        }
        Ok(())
    }
}

impl Display for Select {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT")?;
        if let Some(top) = &self.top {
            write!(f, " TOP({})", top.count)?;
        }
        match &self.items {
            SelectItems::All { .. } if self.top.is_some() => Ok(()),
            SelectItems::All { .. } => f.write_str(" *"),
            SelectItems::Count { .. } => f.write_str(" COUNT()"),
            SelectItems::Projections(items) => {
                for (i, item) in items.iter().enumerate() {
                    f.write_str(if i == 0 { " " } else { ", " })?;
                    write!(f, "{}", item.path)?;
                    if let Some(alias) = &item.alias {
                        write!(f, " AS {alias}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl Display for FromClause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            FromClause::Twins { alias, joins, .. } => {
                f.write_str("FROM DIGITALTWINS")?;
                if let Some(alias) = alias {
                    write!(f, " {alias}")?;
                }
                for join in joins {
                    write!(f, " {join}")?;
                }
                Ok(())
            }
            FromClause::Relationships { alias, .. } => {
                f.write_str("FROM RELATIONSHIPS")?;
                if let Some(alias) = alias {
                    write!(f, " {alias}")?;
                }
                Ok(())
            }
            FromClause::Match { pattern, .. } => write!(f, "FROM DIGITALTWINS {pattern}"),
        }
    }
}

impl Display for Join {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "JOIN {} RELATED {}.", self.target, self.source)?;
        member(f, &self.relationship.name)?;
        if let Some(alias) = &self.relationship_alias {
            write!(f, " {alias}")?;
        }
        Ok(())
    }
}

impl Display for MatchPattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "MATCH {}", self.start)?;
        for step in &self.steps {
            write!(f, "{}{}", step.edge, step.node)?;
        }
        Ok(())
    }
}

impl Display for MatchNode {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.alias {
            Some(alias) => write!(f, "({alias})"),
            None => f.write_str("()"),
        }
    }
}

impl Display for MatchEdge {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(if self.direction == Direction::RightToLeft {
            "<-["
        } else {
            "-["
        })?;
        if let Some(variable) = &self.variable {
            if !is_plain_name(&variable.name) {
                // `-[ [[name]]]->`: keep `[[` from reading as `[` + `[[`.
                f.write_char(' ')?;
            }
            write!(f, "{variable}")?;
        }
        for (i, n) in self.names.iter().enumerate() {
            f.write_char(if i == 0 { ':' } else { '|' })?;
            member(f, &n.name)?;
        }
        write!(f, "{}", self.hops.written)?;
        f.write_str(if self.direction == Direction::LeftToRight {
            "]->"
        } else {
            "]-"
        })
    }
}

impl Display for HopsSyntax {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            HopsSyntax::Default => Ok(()),
            HopsSyntax::Exact(n) => write!(f, "*{n}"),
            HopsSyntax::Range {
                start: Some(a),
                end,
            } => write!(f, "*{a}..{end}"),
            HopsSyntax::Range { start: None, end } => write!(f, "*..{end}"),
        }
    }
}

impl Display for PropertyPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut first = true;
        if let Some(alias) = &self.alias {
            write!(f, "{alias}")?;
            first = false;
        }
        for segment in &self.segments {
            if first {
                // An unqualified path: its first name is read like an alias.
                name(f, &segment.name)?;
                first = false;
            } else {
                f.write_char('.')?;
                member(f, &segment.name)?;
            }
        }
        Ok(())
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)
    }
}

impl Display for LiteralValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            LiteralValue::Null => f.write_str("null"),
            LiteralValue::Bool(b) => write!(f, "{b}"),
            LiteralValue::Number(n) => write!(f, "{n}"),
            LiteralValue::String(s) => {
                f.write_char('\'')?;
                for c in s.chars() {
                    match c {
                        '\'' => f.write_str("\\'")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\r' => f.write_str("\\r")?,
                        '\t' => f.write_str("\\t")?,
                        c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
                        c => f.write_char(c)?,
                    }
                }
                f.write_char('\'')
            }
        }
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Path(p) => write!(f, "{p}"),
            Operand::Literal(l) => write!(f, "{l}"),
        }
    }
}

/// Binding strength, to decide where parentheses are needed.
fn precedence(kind: &ExprKind) -> u8 {
    match kind {
        ExprKind::Or(_) => 1,
        ExprKind::And(_) => 2,
        ExprKind::Not(_) => 3,
        _ => 4,
    }
}

/// Writes `expr`, in parentheses when it binds no tighter than `parent`
/// (so nested ANDs/ORs keep their shape).
fn child(f: &mut Formatter<'_>, expr: &Expr, parent: u8) -> fmt::Result {
    if precedence(&expr.kind) <= parent && parent < 3 || precedence(&expr.kind) < parent {
        write!(f, "({expr})")
    } else {
        write!(f, "{expr}")
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::And(items) | ExprKind::Or(items) => {
                let (op, p) = if matches!(self.kind, ExprKind::And(_)) {
                    (" AND ", 2)
                } else {
                    (" OR ", 1)
                };
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(op)?;
                    }
                    child(f, item, p)?;
                }
                Ok(())
            }
            ExprKind::Not(inner) => {
                f.write_str("NOT ")?;
                child(f, inner, 3)
            }
            ExprKind::Compare { left, op, right } => write!(f, "{left} {} {right}", op.as_str()),
            ExprKind::In {
                value,
                list,
                negated,
            } => {
                write!(f, "{value} {} [", if *negated { "NIN" } else { "IN" })?;
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_char(']')
            }
            ExprKind::Call(call) => write!(f, "{call}"),
        }
    }
}

impl Display for Call {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Call::IsOfModel {
                collection,
                model,
                exact,
                ..
            } => {
                f.write_str("IS_OF_MODEL(")?;
                if let Some(c) = collection {
                    write!(f, "{c}, ")?;
                }
                write!(f, "{}", LiteralValue::String(model.clone()))?;
                if *exact {
                    f.write_str(", exact")?;
                }
                f.write_char(')')
            }
            Call::TypeCheck { check, arg } => write!(f, "{}({arg})", check.function_name()),
            Call::StringMatch {
                op,
                target,
                pattern,
            } => write!(f, "{}({target}, {pattern})", op.function_name()),
            Call::ArrayContains { array, value } => write!(f, "ARRAY_CONTAINS({array}, {value})"),
        }
    }
}
