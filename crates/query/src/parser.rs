//! Recursive-descent parser with name resolution and ADT's semantic checks.
//!
//! Grammar (keywords are case-insensitive, names case-sensitive):
//!
//! ```text
//! query      = SELECT select FROM from [WHERE or] EOF
//! select     = [TOP "(" int ")"] ( "*" | COUNT "(" ")" | item ("," item)* | <nothing after TOP> )
//! item       = path [AS name]
//! from       = DIGITALTWINS [name] join*
//!            | DIGITALTWINS MATCH node (edge node)*
//!            | RELATIONSHIPS [name]
//! join       = JOIN name RELATED name "." name [name]
//! node       = "(" [name] ")"
//! edge       = ["<"] "-" "[" [name] [":" name ("|" name)*] [hops] "]" "-" [">"]
//!            | ["<"] "-" "[" name ("|" name)+ [hops] "]" "-" [">"]     (names without ":")
//! hops       = "*" int | "*" int ".." int | "*" ".." int
//! or         = and (OR and)*
//! and        = not (AND not)*
//! not        = NOT not | "(" or ")" | call | operand (cmp operand | [NOT] IN list | NIN list)
//! list       = "[" constant ("," constant)* "]"
//! path       = name ("." (name | keyword))*
//! name       = word | "[[" escaped "]]"
//! ```

use crate::ast::*;
use crate::error::{ErrorKind, QueryError};
use crate::keywords::{is_keyword, is_reserved};
use crate::lexer::{Token, TokenKind, tokenize};
use crate::limits::Limits;

/// Parses and checks `source` against `limits`.
pub(crate) fn parse(source: &str, limits: &Limits) -> Result<Query, QueryError> {
    let chars = source.chars().count();
    if chars > limits.max_query_length {
        let start = source
            .char_indices()
            .nth(limits.max_query_length)
            .map_or(source.len(), |(i, _)| i);
        return Err(QueryError::new(
            ErrorKind::LimitExceeded,
            format!(
                "the query has {chars} characters; at most {} are allowed",
                limits.max_query_length
            ),
            source,
            Span::new(start, source.len()),
        ));
    }
    let tokens = tokenize(source)?;
    let eof_at = source.len();
    let mut parser = Parser {
        source,
        tokens,
        pos: 0,
        eof: Token {
            kind: TokenKind::Eof,
            span: Span::new(eof_at, eof_at),
        },
        limits,
        bindings: Vec::new(),
        depth: 0,
        and_or: 0,
        unnamed_relationships: Vec::new(),
    };
    parser.query()
}

/// A path before its first name is resolved to a collection.
struct RawPath {
    head: Ident,
    rest: Vec<Ident>,
    span: Span,
}

/// A function argument before it is checked against the function.
enum RawArg {
    Literal(Literal),
    Path(RawPath),
}

impl RawArg {
    fn span(&self) -> Span {
        match self {
            RawArg::Literal(l) => l.span,
            RawArg::Path(p) => p.span,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            RawArg::Path(_) => "a property",
            RawArg::Literal(l) => match l.value {
                LiteralValue::Null => "null",
                LiteralValue::Bool(_) => "a boolean",
                LiteralValue::Number(_) => "a number",
                LiteralValue::String(_) => "a string",
            },
        }
    }

    /// The single word of a one-name path.
    fn bare_word(&self) -> Option<&Ident> {
        match self {
            RawArg::Path(p) if p.rest.is_empty() => Some(&p.head),
            _ => None,
        }
    }
}

/// The SELECT list before names are resolved.
enum RawItems {
    All(Span),
    Count(Span),
    Projections(Vec<(RawPath, Option<Ident>, Span)>),
}

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    eof: Token,
    limits: &'a Limits,
    bindings: Vec<Binding>,
    depth: usize,
    and_or: usize,
    /// Relationship names of JOINs without an alias, as (name, example
    /// JOIN text), for the hint when WHERE uses the name as a collection.
    unnamed_relationships: Vec<(String, String)>,
}

type PResult<T> = Result<T, QueryError>;

const FUNCTIONS: &str = "IS_OF_MODEL, IS_DEFINED, IS_NULL, IS_BOOL, IS_NUMBER, IS_STRING, \
                         IS_PRIMITIVE, IS_OBJECT, STARTSWITH, ENDSWITH, CONTAINS and ARRAY_CONTAINS";

impl Parser<'_> {
    // ---- token helpers -------------------------------------------------

    fn peek(&self) -> &Token {
        self.tokens.get(self.pos).unwrap_or(&self.eof)
    }

    fn peek_at(&self, n: usize) -> &Token {
        self.tokens.get(self.pos + n).unwrap_or(&self.eof)
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    /// End of the last consumed token.
    fn last_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(0, |t| t.span.end)
    }

    fn at(&self, kind: &TokenKind) -> bool {
        &self.peek().kind == kind
    }

    fn eat(&mut self, kind: &TokenKind) -> Option<Span> {
        if self.at(kind) {
            Some(self.advance().span)
        } else {
            None
        }
    }

    fn word_is(token: &Token, keyword: &str) -> bool {
        matches!(&token.kind, TokenKind::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        Self::word_is(self.peek(), keyword)
    }

    fn eat_keyword(&mut self, keyword: &str) -> Option<Span> {
        if self.at_keyword(keyword) {
            Some(self.advance().span)
        } else {
            None
        }
    }

    fn error(&self, kind: ErrorKind, message: impl Into<String>, span: Span) -> QueryError {
        QueryError::new(kind, message, self.source, span)
    }

    /// "expected {what}, found {current token}" at the current token.
    fn expected(&self, what: &str) -> QueryError {
        let token = self.peek();
        self.error(
            ErrorKind::UnexpectedToken,
            format!("expected {what}, found {}", token.kind.describe()),
            token.span,
        )
    }

    fn expect(&mut self, kind: &TokenKind, what: &str) -> PResult<Span> {
        self.eat(kind).ok_or_else(|| self.expected(what))
    }

    fn expect_keyword(&mut self, keyword: &str, what: &str) -> PResult<Span> {
        self.eat_keyword(keyword).ok_or_else(|| self.expected(what))
    }

    /// A clear error for words and symbols people bring from SQL or Cypher.
    fn unsupported_here(&self) -> Option<QueryError> {
        let token = self.peek();
        let message = match &token.kind {
            TokenKind::Word(w) => match w.to_ascii_uppercase().as_str() {
                "ORDER" => "ORDER BY is not supported by ADT's query language",
                "GROUP" => "GROUP BY is not supported by ADT's query language",
                "LIMIT" | "OFFSET" => {
                    "LIMIT and OFFSET are not supported; use SELECT TOP(n) to limit the results"
                }
                "HAVING" => "HAVING is not supported by ADT's query language",
                "UNION" => "UNION is not supported; run the queries separately",
                "LEFT" | "RIGHT" | "INNER" | "OUTER" | "CROSS" | "FULL" => {
                    "only plain JOIN … RELATED is supported (no OUTER, LEFT or other JOIN kinds)"
                }
                _ => return None,
            },
            TokenKind::Semicolon => "a query ends without `;`; send one query at a time",
            TokenKind::Param(p) => {
                return Some(self.error(
                    ErrorKind::Unsupported,
                    format!("query parameters such as `@{p}` are not supported; write the value into the query"),
                    token.span,
                ));
            }
            _ => return None,
        };
        Some(self.error(ErrorKind::Unsupported, message, token.span))
    }

    // ---- names -----------------------------------------------------------

    /// Whether the current token can be an (optional) alias.
    fn at_alias(&self) -> bool {
        match &self.peek().kind {
            // `LIMIT 5` / `OFFSET 5` read as SQL, for a clear message, not as an alias.
            TokenKind::Word(w)
                if (w.eq_ignore_ascii_case("LIMIT") || w.eq_ignore_ascii_case("OFFSET"))
                    && matches!(self.peek_at(1).kind, TokenKind::Number(_)) =>
            {
                false
            }
            TokenKind::Word(w) => !is_keyword(w) && !w.starts_with('$'),
            TokenKind::Escaped(_) => true,
            _ => false,
        }
    }

    /// A name for a collection (alias), or an error saying what is wrong.
    fn alias(&mut self, what: &str) -> PResult<Ident> {
        let token = self.peek().clone();
        match &token.kind {
            TokenKind::Word(w) if w.starts_with('$') => Err(self.error(
                ErrorKind::UnexpectedToken,
                format!("a collection name cannot start with `$`; expected {what}, found `{w}`"),
                token.span,
            )),
            TokenKind::Word(w) if is_keyword(w) => Err(self.error(
                ErrorKind::ReservedWord,
                format!("expected {what}, found the reserved word `{w}`; to use it as a name, escape it as [[{w}]]"),
                token.span,
            )),
            TokenKind::Word(w) | TokenKind::Escaped(w) => {
                self.advance();
                Ok(Ident { name: w.clone(), span: token.span })
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A property or relationship name after `.` or in a relationship
    /// condition: any word (reserved words too) or an escaped name.
    fn member_name(&mut self, what: &str) -> PResult<Ident> {
        let token = self.peek().clone();
        match &token.kind {
            TokenKind::Word(w) | TokenKind::Escaped(w) => {
                self.advance();
                Ok(Ident { name: w.clone(), span: token.span })
            }
            TokenKind::Number(n) => Err(self.error(
                ErrorKind::UnexpectedToken,
                format!("a name cannot start with a digit; escape it with double square brackets: [[{n}]]"),
                token.span,
            )),
            _ => Err(self.expected(what)),
        }
    }

    /// `name ("." member)*`, not yet resolved.
    fn raw_path(&mut self, what: &str) -> PResult<RawPath> {
        let token = self.peek().clone();
        let head = match &token.kind {
            TokenKind::Word(w) if is_structural(w) => return Err(self.expected(what)),
            TokenKind::Word(w) if is_reserved(w) => {
                return Err(self.error(
                    ErrorKind::ReservedWord,
                    format!("`{w}` is a reserved word; to use it as a name, escape it as [[{w}]]"),
                    token.span,
                ));
            }
            TokenKind::Word(w) | TokenKind::Escaped(w) => {
                self.advance();
                Ident {
                    name: w.clone(),
                    span: token.span,
                }
            }
            _ => return Err(self.expected(what)),
        };
        let mut rest = Vec::new();
        while self.eat(&TokenKind::Dot).is_some() {
            if self.at(&TokenKind::Star) {
                return Err(self.error(
                    ErrorKind::Unsupported,
                    format!(
                        "`{}.*` is not supported; select the collection itself: SELECT {}",
                        head.name, head.name
                    ),
                    self.peek().span,
                ));
            }
            rest.push(self.member_name("a property name after `.`")?);
        }
        if self.at(&TokenKind::LBracket) {
            return Err(self.error(
                ErrorKind::Unsupported,
                "array indexing is not supported; test arrays with ARRAY_CONTAINS(property, value)",
                self.peek().span,
            ));
        }
        let span = head.span.to(rest.last().map_or(head.span, |i| i.span));
        Ok(RawPath { head, rest, span })
    }

    fn named_bindings(&self) -> Vec<&str> {
        self.bindings
            .iter()
            .filter_map(|b| b.name.as_ref().map(|n| n.name.as_str()))
            .collect()
    }

    /// The binding a name refers to: exact match, else (with several
    /// collections) a unique case-insensitive match.
    fn lookup(&self, name: &str) -> Option<&Binding> {
        let named = || {
            self.bindings
                .iter()
                .filter_map(|b| Some((b, b.name.as_ref()?)))
        };
        if let Some((b, _)) = named().find(|(_, n)| n.name == name) {
            return Some(b);
        }
        if self.bindings.len() > 1 {
            let mut matches = named().filter(|(_, n)| n.name.eq_ignore_ascii_case(name));
            if let (Some((b, _)), None) = (matches.next(), matches.next()) {
                return Some(b);
            }
        }
        None
    }

    fn unknown_alias(&self, name: &Ident) -> QueryError {
        if let Some((_, join)) = self
            .unnamed_relationships
            .iter()
            .find(|(n, _)| *n == name.name)
        {
            return self.error(
                ErrorKind::UnknownAlias,
                format!(
                    "`{}` is a relationship name, not a collection; name the relationship in its JOIN \
                     ({join} R) and use that name (R.property)",
                    name.name
                ),
                name.span,
            );
        }
        let known = self.named_bindings();
        let message = if known.is_empty() {
            format!("`{}` is not a collection of this query", name.name)
        } else {
            format!(
                "`{}` is not a collection of this query (its collections are {}); start the path with one of them",
                name.name,
                known.join(", ")
            )
        };
        self.error(ErrorKind::UnknownAlias, message, name.span)
    }

    fn resolve(&self, raw: RawPath) -> PResult<PropertyPath> {
        if let Some(binding) = self.lookup(&raw.head.name) {
            let alias = binding.name.as_ref().map(|n| Ident {
                name: n.name.clone(),
                span: raw.head.span,
            });
            return Ok(PropertyPath {
                alias,
                binding: binding.id,
                segments: raw.rest,
                span: raw.span,
            });
        }
        if self.bindings.len() == 1 {
            let mut segments = vec![raw.head];
            segments.extend(raw.rest);
            return Ok(PropertyPath {
                alias: None,
                binding: BindingId(0),
                segments,
                span: raw.span,
            });
        }
        Err(self.unknown_alias(&raw.head))
    }

    fn declare(
        &mut self,
        name: Option<Ident>,
        kind: BindingKind,
        span: Span,
    ) -> PResult<BindingId> {
        if let Some(name) = &name
            && self
                .bindings
                .iter()
                .any(|b| b.name.as_ref().is_some_and(|n| n.name == name.name))
        {
            return Err(self.error(
                ErrorKind::DuplicateAlias,
                format!(
                    "`{}` already names another collection of this query",
                    name.name
                ),
                name.span,
            ));
        }
        let id = BindingId(self.bindings.len());
        self.bindings.push(Binding {
            id,
            name,
            kind,
            span,
        });
        Ok(id)
    }

    // ---- query -----------------------------------------------------------

    fn query(&mut self) -> PResult<Query> {
        if self.at(&TokenKind::Eof) {
            return Err(self.error(
                ErrorKind::EmptyQuery,
                "the query is empty; it starts with SELECT",
                self.peek().span,
            ));
        }
        let start = self.peek().span.start;
        let select_kw = self.expect_keyword("SELECT", "SELECT at the start of the query")?;
        let top = self.top()?;
        let items = self.select_items(top.as_ref())?;
        let select_end = self.last_end();
        if self.at(&TokenKind::Comma) && !matches!(items, RawItems::Projections(_)) {
            return Err(self.error(
                ErrorKind::UnexpectedToken,
                "`*` and COUNT() stand alone in the SELECT list; list collections and properties instead",
                self.peek().span,
            ));
        }
        if !self.at_keyword("FROM") {
            if let Some(e) = self.unsupported_here() {
                return Err(e);
            }
            let what = match items {
                RawItems::Projections(_) => "`,` or FROM after the SELECT list",
                RawItems::All(_) => "FROM after `*`",
                RawItems::Count(_) => "FROM after COUNT()",
            };
            return Err(self.expected(what));
        }
        let from = self.parse_from()?;
        let where_clause = if self.eat_keyword("WHERE").is_some() {
            if self.at(&TokenKind::Eof) {
                return Err(self.expected("a condition after WHERE"));
            }
            Some(self.or_expr()?)
        } else {
            None
        };
        if !self.at(&TokenKind::Eof) {
            return Err(self.trailing(&from, where_clause.is_some()));
        }
        let select = self.resolve_select(select_kw, top, items, select_end, &from)?;
        self.check_dt_id_filter(&from, where_clause.as_ref())?;
        let end = self.last_end();
        Ok(Query {
            select,
            from,
            where_clause,
            bindings: std::mem::take(&mut self.bindings),
            span: Span::new(start, end),
        })
    }

    /// The error for tokens left after a complete query.
    fn trailing(&self, from: &FromClause, has_where: bool) -> QueryError {
        if let Some(e) = self.unsupported_here() {
            return e;
        }
        let token = self.peek();
        if Self::word_is(token, "JOIN") {
            let message = match from {
                FromClause::Relationships { .. } => {
                    "FROM RELATIONSHIPS cannot be combined with JOIN"
                }
                FromClause::Match { .. } => "JOIN and MATCH cannot be combined in one query",
                FromClause::Twins { .. } => "JOIN must come before WHERE",
            };
            return self.error(ErrorKind::Unsupported, message, token.span);
        }
        if Self::word_is(token, "MATCH") {
            let message = match from {
                FromClause::Relationships { .. } => {
                    "FROM RELATIONSHIPS cannot be combined with MATCH"
                }
                FromClause::Match { .. } if has_where => "MATCH must come before WHERE",
                FromClause::Match { .. } => {
                    "only one MATCH is supported per query; chain the twins in one pattern"
                }
                FromClause::Twins { joins, .. } if !joins.is_empty() => {
                    "JOIN and MATCH cannot be combined in one query"
                }
                FromClause::Twins { alias: Some(a), .. } => {
                    return self.error(
                        ErrorKind::Unsupported,
                        format!(
                            "a MATCH query names its twins in the pattern; remove the name `{}` after DIGITALTWINS",
                            a.name
                        ),
                        a.span,
                    );
                }
                FromClause::Twins { .. } => "MATCH must come before WHERE",
            };
            return self.error(ErrorKind::Unsupported, message, token.span);
        }
        if Self::word_is(token, "SELECT") {
            return self.error(
                ErrorKind::Unsupported,
                "send one query at a time",
                token.span,
            );
        }
        if Self::word_is(token, "AS") && !has_where {
            return self.error(
                ErrorKind::UnexpectedToken,
                "write a collection's name right after it, without AS (FROM DIGITALTWINS T, JOIN … RELATED T.rel R)",
                token.span,
            );
        }
        if self.at(&TokenKind::Comma) && !has_where {
            return self.error(
                ErrorKind::Unsupported,
                "FROM takes one collection; to reach related twins and relationships use JOIN … RELATED or MATCH",
                token.span,
            );
        }
        let what = match (from, has_where) {
            (_, true) => "AND, OR or the end of the query",
            (FromClause::Twins { .. }, false) => "JOIN, WHERE or the end of the query",
            (_, false) => "WHERE or the end of the query",
        };
        self.expected(what)
    }

    // ---- SELECT ----------------------------------------------------------

    fn top(&mut self) -> PResult<Option<Top>> {
        let Some(top_kw) = self.eat_keyword("TOP") else {
            return Ok(None);
        };
        self.expect(&TokenKind::LParen, "`(` after TOP, as in TOP(5)")?;
        let token = self.peek().clone();
        let count = match &token.kind {
            TokenKind::Number(n) if n.as_u64().is_some_and(|n| n >= 1) => n.as_u64().unwrap_or(1),
            TokenKind::Number(n) if n.as_u64() == Some(0) => {
                return Err(self.error(
                    ErrorKind::InvalidArgument,
                    "TOP needs at least 1",
                    token.span,
                ));
            }
            TokenKind::Number(_) | TokenKind::Minus => {
                return Err(self.error(
                    ErrorKind::InvalidArgument,
                    "TOP needs a whole number of at least 1",
                    token.span,
                ));
            }
            _ => return Err(self.expected("the number of items in TOP(n)")),
        };
        self.advance();
        if let Some(max) = self.limits.max_top
            && count > max
        {
            return Err(self.error(
                ErrorKind::LimitExceeded,
                format!("TOP can be at most {max}"),
                token.span,
            ));
        }
        let close = self.expect(&TokenKind::RParen, "`)` after the number in TOP(")?;
        Ok(Some(Top {
            count,
            span: top_kw.to(close),
        }))
    }

    fn select_items(&mut self, top: Option<&Top>) -> PResult<RawItems> {
        if let Some(star) = self.eat(&TokenKind::Star) {
            return Ok(RawItems::All(star));
        }
        if self.at_keyword("COUNT") && self.peek_at(1).kind == TokenKind::LParen {
            let count_kw = self.advance().span;
            self.advance();
            if !self.at(&TokenKind::RParen) {
                return Err(self.error(
                    ErrorKind::InvalidArgument,
                    "COUNT takes no arguments; write COUNT()",
                    self.peek().span,
                ));
            }
            let close = self.advance().span;
            if let Some(top) = top {
                return Err(self.error(
                    ErrorKind::Unsupported,
                    "TOP cannot be combined with COUNT()",
                    top.span,
                ));
            }
            return Ok(RawItems::Count(count_kw.to(close)));
        }
        if self.at_keyword("FROM") || self.at(&TokenKind::Eof) {
            return match top {
                Some(top) => Ok(RawItems::All(top.span)),
                None => Err(self
                    .expected("`*`, COUNT() or a list of collections and properties after SELECT")),
            };
        }
        if self.at_keyword("DISTINCT") || self.at_keyword("VALUE") {
            return Err(self.error(
                ErrorKind::Unsupported,
                format!(
                    "SELECT {} is not supported by ADT's query language",
                    self.peek().kind.describe()
                ),
                self.peek().span,
            ));
        }
        let mut items = Vec::new();
        loop {
            if self.at_keyword("COUNT") || self.at(&TokenKind::Star) {
                return Err(self.error(
                    ErrorKind::UnexpectedToken,
                    "`*` and COUNT() stand alone in the SELECT list",
                    self.peek().span,
                ));
            }
            let path = self.raw_path("a collection or property to select")?;
            let alias = if self.eat_keyword("AS").is_some() {
                Some(self.alias("a name after AS")?)
            } else {
                None
            };
            let span = path.span.to(alias.as_ref().map_or(path.span, |a| a.span));
            items.push((path, alias, span));
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        Ok(RawItems::Projections(items))
    }

    fn resolve_select(
        &self,
        select_kw: Span,
        top: Option<Top>,
        items: RawItems,
        end: usize,
        from: &FromClause,
    ) -> PResult<Select> {
        let several = match from {
            FromClause::Twins { joins, .. } => (!joins.is_empty()).then_some("JOIN"),
            FromClause::Match { .. } => Some("MATCH"),
            FromClause::Relationships { .. } => None,
        };
        let items = match items {
            RawItems::All(span) => {
                if let Some(clause) = several {
                    let names = self.named_bindings().join(", ");
                    return Err(self.error(
                        ErrorKind::Unsupported,
                        format!("SELECT * cannot be used with {clause}; list what to return, e.g. SELECT {names}"),
                        span,
                    ));
                }
                SelectItems::All { span }
            }
            RawItems::Count(span) => SelectItems::Count { span },
            RawItems::Projections(raw) => {
                let mut projections: Vec<Projection> = Vec::with_capacity(raw.len());
                for (path, alias, span) in raw {
                    let path = self.resolve(path)?;
                    let output_name = alias
                        .as_ref()
                        .map(|a| a.name.clone())
                        .or_else(|| path.segments.last().map(|s| s.name.clone()))
                        .or_else(|| path.alias.as_ref().map(|a| a.name.clone()))
                        .unwrap_or_default();
                    if projections.iter().any(|p| p.output_name == output_name) {
                        return Err(self.error(
                            ErrorKind::DuplicateAlias,
                            format!("two items of the SELECT list are named `{output_name}`; rename one with AS"),
                            span,
                        ));
                    }
                    projections.push(Projection {
                        path,
                        alias,
                        output_name,
                        span,
                    });
                }
                SelectItems::Projections(projections)
            }
        };
        Ok(Select {
            top,
            items,
            span: Span::new(select_kw.start, end),
        })
    }

    // ---- FROM ------------------------------------------------------------

    fn parse_from(&mut self) -> PResult<FromClause> {
        let from_kw = self.advance().span;
        if self.at(&TokenKind::LParen) {
            return Err(self.error(
                ErrorKind::Unsupported,
                "subqueries are not supported in FROM",
                self.peek().span,
            ));
        }
        let relationships = if self.eat_keyword("DIGITALTWINS").is_some() {
            false
        } else if self.eat_keyword("RELATIONSHIPS").is_some() {
            true
        } else {
            return Err(self.expected("DIGITALTWINS or RELATIONSHIPS after FROM"));
        };
        let alias = if self.at_alias() {
            Some(self.alias("a collection name")?)
        } else {
            None
        };
        let decl_span = Span::new(from_kw.start, self.last_end());
        if relationships {
            let binding = self.declare(alias.clone(), BindingKind::Relationship, decl_span)?;
            return Ok(FromClause::Relationships {
                alias,
                binding,
                span: decl_span,
            });
        }
        if self.at_keyword("MATCH") && alias.is_none() {
            let pattern = self.match_pattern()?;
            let span = Span::new(from_kw.start, pattern.span.end);
            return Ok(FromClause::Match { pattern, span });
        }
        let binding = self.declare(alias.clone(), BindingKind::Twin, decl_span)?;
        let mut joins = Vec::new();
        while self.at_keyword("JOIN") {
            if joins.len() == self.limits.max_joins {
                return Err(self.error(
                    ErrorKind::LimitExceeded,
                    format!("a query can have at most {} JOINs", self.limits.max_joins),
                    self.peek().span,
                ));
            }
            if alias.is_none() {
                return Err(self.error(
                    ErrorKind::AliasRequired,
                    "a query with JOIN must name the FROM collection, as in FROM DIGITALTWINS T JOIN CT RELATED T.contains",
                    decl_span,
                ));
            }
            joins.push(self.join()?);
        }
        let span = Span::new(from_kw.start, self.last_end());
        Ok(FromClause::Twins {
            alias,
            binding,
            joins,
            span,
        })
    }

    fn join(&mut self) -> PResult<Join> {
        let join_kw = self.advance().span;
        let target = self.alias("a name for the related twins after JOIN")?;
        self.expect_keyword("RELATED", &format!("RELATED after `JOIN {}`", target.name))?;
        let source_token = self.peek().clone();
        let source = match &source_token.kind {
            TokenKind::Word(w) | TokenKind::Escaped(w) => Ident {
                name: w.clone(),
                span: source_token.span,
            },
            _ => {
                return Err(
                    self.expected("a twin collection after RELATED, as in RELATED T.contains")
                );
            }
        };
        self.advance();
        let Some(source_binding) = self.lookup(&source.name) else {
            return Err(self.unknown_alias(&source));
        };
        let source_binding_id = source_binding.id;
        if source_binding.kind != BindingKind::Twin {
            return Err(self.error(
                ErrorKind::InvalidArgument,
                format!(
                    "`{}` is a relationship; JOIN … RELATED follows relationships out of twins",
                    source.name
                ),
                source.span,
            ));
        }
        let source = Ident {
            name: source_binding
                .name
                .as_ref()
                .map_or(source.name.clone(), |n| n.name.clone()),
            span: source.span,
        };
        self.expect(
            &TokenKind::Dot,
            &format!(
                "`.` and a relationship name after `RELATED {}`",
                source.name
            ),
        )?;
        let relationship = self.member_name("a relationship name after `.`")?;
        let relationship_alias = if self.at_alias() {
            Some(self.alias("a relationship name")?)
        } else {
            None
        };
        if self.at_keyword("AS") {
            return Err(self.error(
                ErrorKind::UnexpectedToken,
                format!(
                    "write the relationship's name right after it, without AS: JOIN {} RELATED {}.{} R",
                    target.name, source.name, relationship.name
                ),
                self.peek().span,
            ));
        }
        let span = Span::new(join_kw.start, self.last_end());
        if relationship_alias.is_none() {
            self.unnamed_relationships.push((
                relationship.name.clone(),
                format!(
                    "JOIN {} RELATED {}.{}",
                    target.name, source.name, relationship.name
                ),
            ));
        }
        let target_binding = self.declare(Some(target.clone()), BindingKind::Twin, target.span)?;
        let relationship_binding = match &relationship_alias {
            Some(a) => Some(self.declare(Some(a.clone()), BindingKind::Relationship, a.span)?),
            None => None,
        };
        Ok(Join {
            target,
            target_binding,
            source,
            source_binding: source_binding_id,
            relationship,
            relationship_alias,
            relationship_binding,
            span,
        })
    }

    // ---- MATCH -----------------------------------------------------------

    fn match_pattern(&mut self) -> PResult<MatchPattern> {
        let match_kw = self.advance().span;
        let start = self.match_node()?;
        let mut steps = Vec::new();
        let mut total_hops: u32 = 0;
        while self.at(&TokenKind::Minus) || self.at(&TokenKind::Lt) {
            let edge = self.match_edge()?;
            total_hops = total_hops.saturating_add(edge.hops.max);
            if total_hops > self.limits.max_match_hops {
                return Err(self.error(
                    ErrorKind::LimitExceeded,
                    format!(
                        "this MATCH pattern spans up to {total_hops} hops; at most {} are allowed",
                        self.limits.max_match_hops
                    ),
                    edge.hops.span.unwrap_or(edge.span),
                ));
            }
            let node = self.match_node()?;
            steps.push(MatchStep { edge, node });
        }
        if self.at(&TokenKind::Comma) {
            return Err(self.error(
                ErrorKind::Unsupported,
                "a MATCH clause has one pattern; chain the twins in it, as in (a)-[]->(b)-[]->(c)",
                self.peek().span,
            ));
        }
        let span = Span::new(match_kw.start, self.last_end());
        Ok(MatchPattern { start, steps, span })
    }

    fn match_node(&mut self) -> PResult<MatchNode> {
        if let TokenKind::Word(w) | TokenKind::Escaped(w) = &self.peek().kind {
            return Err(self.error(
                ErrorKind::UnexpectedToken,
                format!("write each twin of a MATCH pattern in parentheses, as in ({w})"),
                self.peek().span,
            ));
        }
        let open = self.expect(
            &TokenKind::LParen,
            "`(` to start a twin of the MATCH pattern",
        )?;
        let alias = if self.at(&TokenKind::RParen) {
            None
        } else {
            Some(self.alias("a twin name or `)`")?)
        };
        if self.at(&TokenKind::Colon) {
            return Err(self.error(
                ErrorKind::Unsupported,
                "twins in a MATCH pattern take no label; filter with IS_OF_MODEL in WHERE",
                self.peek().span,
            ));
        }
        let what = match &alias {
            Some(a) => format!("`)` to close the twin `({}`", a.name),
            None => "`)` to close the twin `(`".to_owned(),
        };
        let close = self.expect(&TokenKind::RParen, &what)?;
        let span = open.to(close);
        let binding = self.declare(alias.clone(), BindingKind::Twin, span)?;
        Ok(MatchNode {
            alias,
            binding,
            span,
        })
    }

    fn match_edge(&mut self) -> PResult<MatchEdge> {
        let start = self.peek().span;
        let left = self.eat(&TokenKind::Lt).is_some();
        self.expect(
            &TokenKind::Minus,
            "`-` after `<` in a relationship condition",
        )?;
        self.expect(
            &TokenKind::LBracket,
            "`[` to open a relationship condition, as in -[]-> or -[:contains]->",
        )?;
        let mut variable = None;
        let mut names = Vec::new();
        let is_name = |t: &Token| matches!(t.kind, TokenKind::Word(_) | TokenKind::Escaped(_));
        if is_name(self.peek()) {
            if self.peek_at(1).kind == TokenKind::Pipe {
                // `[has|includes]`: names without the colon, as one of ADT's examples writes them.
                names = self.relationship_names()?;
            } else {
                variable = Some(self.alias("a relationship variable")?);
            }
        }
        if names.is_empty() && self.eat(&TokenKind::Colon).is_some() {
            names = self.relationship_names()?;
        }
        let hops = self.hops()?;
        self.expect(
            &TokenKind::RBracket,
            "`]` to close the relationship condition",
        )?;
        self.expect(&TokenKind::Minus, "`-` after `]`, as in -[]-> or <-[]-")?;
        let right = self.eat(&TokenKind::Gt);
        let span = start.to(Span::new(start.start, self.last_end()));
        if left && right.is_some() {
            return Err(self.error(
                ErrorKind::UnexpectedToken,
                "a relationship condition points one way: write <-[…]- or -[…]->, or -[…]- for either",
                span,
            ));
        }
        let direction = match (left, right.is_some()) {
            (true, _) => Direction::RightToLeft,
            (false, true) => Direction::LeftToRight,
            (false, false) => Direction::Any,
        };
        if let Some(v) = &variable
            && hops.max > 1
        {
            return Err(self.error(
                ErrorKind::Unsupported,
                format!(
                    "a relationship variable (`{}`) can only be used with a single hop; remove the variable or the hop count",
                    v.name
                ),
                hops.span.unwrap_or(span),
            ));
        }
        let binding = match &variable {
            Some(v) => Some(self.declare(Some(v.clone()), BindingKind::Relationship, v.span)?),
            None => None,
        };
        Ok(MatchEdge {
            variable,
            binding,
            names,
            hops,
            direction,
            span,
        })
    }

    fn relationship_names(&mut self) -> PResult<Vec<Ident>> {
        let mut names = vec![self.member_name("a relationship name")?];
        while self.eat(&TokenKind::Pipe).is_some() {
            names.push(self.member_name("a relationship name after `|`")?);
        }
        Ok(names)
    }

    fn hop_count(&mut self) -> PResult<u32> {
        let token = self.peek().clone();
        let TokenKind::Number(n) = &token.kind else {
            return Err(self.expected("a hop count"));
        };
        let Some(n) = n.as_u64() else {
            return Err(self.error(
                ErrorKind::InvalidHops,
                "a hop count is a whole number",
                token.span,
            ));
        };
        self.advance();
        u32::try_from(n).map_err(|_| {
            self.error(
                ErrorKind::InvalidHops,
                "this hop count is too large",
                token.span,
            )
        })
    }

    fn hops(&mut self) -> PResult<Hops> {
        let Some(star) = self.eat(&TokenKind::Star) else {
            return Ok(Hops {
                min: 1,
                max: 1,
                written: HopsSyntax::Default,
                span: None,
            });
        };
        let written = if self.eat(&TokenKind::DotDot).is_some() {
            HopsSyntax::Range {
                start: None,
                end: self.hop_count()?,
            }
        } else if matches!(self.peek().kind, TokenKind::Number(_)) {
            let n = self.hop_count()?;
            if self.eat(&TokenKind::DotDot).is_some() {
                if !matches!(self.peek().kind, TokenKind::Number(_)) {
                    return Err(self.error(
                        ErrorKind::InvalidHops,
                        format!(
                            "a hop range needs an ending limit, as in *{n}..{}",
                            n.saturating_add(2)
                        ),
                        Span::new(star.start, self.last_end()),
                    ));
                }
                HopsSyntax::Range {
                    start: Some(n),
                    end: self.hop_count()?,
                }
            } else {
                HopsSyntax::Exact(n)
            }
        } else {
            return Err(self.error(
                ErrorKind::InvalidHops,
                "expected a hop count after `*`: *n for exactly n hops, *a..b for more than a and at most b, *..b for 1 to b",
                Span::new(star.start, self.peek().span.end.max(star.end)),
            ));
        };
        let span = Span::new(star.start, self.last_end());
        let (min, max) = match written {
            HopsSyntax::Default => (1, 1),
            HopsSyntax::Exact(n) => (n, n),
            HopsSyntax::Range { start, end } => {
                (start.map_or(1, |s| s.saturating_add(1)).max(1), end)
            }
        };
        if max == 0 {
            return Err(self.error(
                ErrorKind::InvalidHops,
                "a relationship condition spans at least 1 hop",
                span,
            ));
        }
        if min > max {
            let (start, end) = match written {
                HopsSyntax::Range { start, end } => (start.unwrap_or(0), end),
                _ => (min, max),
            };
            return Err(self.error(
                ErrorKind::InvalidHops,
                format!(
                    "the range *{start}..{end} holds no hop count: its start is excluded, so the end must be greater than the start"
                ),
                span,
            ));
        }
        Ok(Hops {
            min,
            max,
            written,
            span: Some(span),
        })
    }

    // ---- WHERE -----------------------------------------------------------

    fn count_and_or(&mut self, span: Span) -> PResult<()> {
        self.and_or += 1;
        if self.and_or > self.limits.max_and_or {
            return Err(self.error(
                ErrorKind::LimitExceeded,
                format!(
                    "a query can have at most {} AND / OR operators",
                    self.limits.max_and_or
                ),
                span,
            ));
        }
        Ok(())
    }

    fn enter(&mut self, span: Span) -> PResult<()> {
        self.depth += 1;
        let max = self.limits.max_nesting.min(MAX_NESTING_CAP);
        if self.depth > max {
            return Err(self.error(
                ErrorKind::LimitExceeded,
                format!("conditions are nested more than {} deep", max),
                span,
            ));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let first = self.and_expr()?;
        let mut items = vec![first];
        while let Some(or) = self.eat_keyword("OR") {
            self.count_and_or(or)?;
            items.push(self.and_expr()?);
        }
        Ok(Self::combine(items, ExprKind::Or))
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let first = self.not_expr()?;
        let mut items = vec![first];
        while let Some(and) = self.eat_keyword("AND") {
            self.count_and_or(and)?;
            items.push(self.not_expr()?);
        }
        Ok(Self::combine(items, ExprKind::And))
    }

    fn combine(mut items: Vec<Expr>, kind: fn(Vec<Expr>) -> ExprKind) -> Expr {
        if items.len() == 1
            && let Some(only) = items.pop()
        {
            return only;
        }
        let span = match (items.first(), items.last()) {
            (Some(a), Some(b)) => a.span.to(b.span),
            _ => Span::default(),
        };
        Expr {
            kind: kind(items),
            span,
        }
    }

    fn not_expr(&mut self) -> PResult<Expr> {
        if let Some(not) = self.eat_keyword("NOT") {
            self.enter(not)?;
            let inner = self.not_expr()?;
            self.depth -= 1;
            let span = not.to(inner.span);
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            });
        }
        self.predicate()
    }

    fn predicate(&mut self) -> PResult<Expr> {
        if let Some(open) = self.eat(&TokenKind::LParen) {
            if self.at_keyword("SELECT") {
                return Err(self.error(
                    ErrorKind::Unsupported,
                    "subqueries are not supported",
                    self.peek().span,
                ));
            }
            self.enter(open)?;
            let inner = self.or_expr()?;
            self.expect(&TokenKind::RParen, "`)` to close the parenthesis")?;
            self.depth -= 1;
            return Ok(inner);
        }
        if let TokenKind::Word(w) = &self.peek().kind
            && self.peek_at(1).kind == TokenKind::LParen
        {
            let name = w.clone();
            return self.call(&name);
        }
        let left = self.operand("a condition")?;
        let token = self.peek().clone();
        let op = match &token.kind {
            TokenKind::Eq => Some(CompareOp::Eq),
            TokenKind::Ne => Some(CompareOp::Ne),
            TokenKind::Lt => Some(CompareOp::Lt),
            TokenKind::Le => Some(CompareOp::Le),
            TokenKind::Gt => Some(CompareOp::Gt),
            TokenKind::Ge => Some(CompareOp::Ge),
            TokenKind::EqEq => {
                return Err(self.error(
                    ErrorKind::UnexpectedToken,
                    "use `=` to compare for equality",
                    token.span,
                ));
            }
            TokenKind::LtGt => {
                return Err(self.error(
                    ErrorKind::UnexpectedToken,
                    "use `!=` to compare for inequality",
                    token.span,
                ));
            }
            _ => None,
        };
        if let Some(op) = op {
            self.advance();
            let right = self.operand(&format!("a value after `{}`", op.as_str()))?;
            if let (Operand::Literal(_), Operand::Literal(_)) = (&left, &right) {
                return Err(self.error(
                    ErrorKind::InvalidArgument,
                    "this compares two constants; compare a property with a value",
                    left.span().to(right.span()),
                ));
            }
            let span = left.span().to(right.span());
            return Ok(Expr {
                kind: ExprKind::Compare { left, op, right },
                span,
            });
        }
        let negated = if self.eat_keyword("IN").is_some() {
            false
        } else if self.eat_keyword("NIN").is_some() {
            true
        } else if self.at_keyword("NOT") && Self::word_is(self.peek_at(1), "IN") {
            self.advance();
            self.advance();
            true
        } else {
            if let Some(e) = self.unsupported_here() {
                return Err(e);
            }
            let what = match &left {
                Operand::Path(p) => format!(
                    "a comparison (=, !=, <, <=, >, >=), IN or NIN after `{}`",
                    &self.source[p.span.start..p.span.end]
                ),
                Operand::Literal(_) => {
                    "a comparison (=, !=, <, <=, >, >=), IN or NIN after the value".to_owned()
                }
            };
            return Err(self.expected(&what));
        };
        if let Operand::Literal(_) = left {
            return Err(self.error(
                ErrorKind::InvalidArgument,
                "IN tests a property; write the property before IN",
                left.span(),
            ));
        }
        let (list, list_span) = self.in_list(if negated { "NIN" } else { "IN" })?;
        let span = left.span().to(list_span);
        Ok(Expr {
            kind: ExprKind::In {
                value: left,
                list,
                negated,
            },
            span,
        })
    }

    fn in_list(&mut self, op: &str) -> PResult<(Vec<Literal>, Span)> {
        if self.at(&TokenKind::LParen) {
            return Err(self.error(
                ErrorKind::UnexpectedToken,
                format!("write the {op} list in square brackets, as in {op} ['a', 'b']"),
                self.peek().span,
            ));
        }
        let open = self.expect(
            &TokenKind::LBracket,
            &format!("`[` to start the list after {op}"),
        )?;
        if self.at(&TokenKind::RBracket) {
            return Err(self.error(
                ErrorKind::InvalidArgument,
                format!("an {op} list needs at least one value"),
                open.to(self.peek().span),
            ));
        }
        let mut list = Vec::new();
        loop {
            let token_span = self.peek().span;
            let Some(literal) = self.literal()? else {
                return Err(self.expected(&format!(
                    "a constant (string, number, true, false or null) in the {op} list"
                )));
            };
            list.push(literal);
            if list.len() > self.limits.max_in_items {
                return Err(self.error(
                    ErrorKind::LimitExceeded,
                    format!(
                        "an {op} list can hold at most {} values",
                        self.limits.max_in_items
                    ),
                    token_span,
                ));
            }
            if self.eat(&TokenKind::Comma).is_some() {
                continue;
            }
            let close = self.expect(
                &TokenKind::RBracket,
                &format!("`,` or `]` in the {op} list"),
            )?;
            return Ok((list, open.to(close)));
        }
    }

    /// A constant, if the current tokens are one.
    fn literal(&mut self) -> PResult<Option<Literal>> {
        let token = self.peek().clone();
        let value = match &token.kind {
            TokenKind::Str(s) => LiteralValue::String(s.clone()),
            TokenKind::Number(n) => LiteralValue::Number(n.clone()),
            TokenKind::Word(w) if w.eq_ignore_ascii_case("true") => LiteralValue::Bool(true),
            TokenKind::Word(w) if w.eq_ignore_ascii_case("false") => LiteralValue::Bool(false),
            TokenKind::Word(w) if w.eq_ignore_ascii_case("null") => LiteralValue::Null,
            TokenKind::Minus => {
                let next = self.peek_at(1).clone();
                let TokenKind::Number(n) = &next.kind else {
                    return Err(self.error(
                        ErrorKind::UnexpectedToken,
                        "`-` must be followed by a number",
                        token.span,
                    ));
                };
                let negative = negate(n).ok_or_else(|| {
                    self.error(
                        ErrorKind::InvalidNumber,
                        "this number is out of range",
                        token.span.to(next.span),
                    )
                })?;
                self.advance();
                self.advance();
                return Ok(Some(Literal {
                    value: LiteralValue::Number(negative),
                    span: token.span.to(next.span),
                }));
            }
            _ => return Ok(None),
        };
        self.advance();
        Ok(Some(Literal {
            value,
            span: token.span,
        }))
    }

    fn operand(&mut self, what: &str) -> PResult<Operand> {
        if let Some(literal) = self.literal()? {
            return Ok(Operand::Literal(literal));
        }
        let token = self.peek().clone();
        match &token.kind {
            TokenKind::Word(w) if w.eq_ignore_ascii_case("SELECT") => Err(self.error(
                ErrorKind::Unsupported,
                "subqueries are not supported",
                token.span,
            )),
            TokenKind::Word(w)
                if ["AND", "OR", "IN", "NOT", "FROM", "WHERE", "AS"]
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(w)) =>
            {
                Err(self.expected(what))
            }
            TokenKind::Word(_) | TokenKind::Escaped(_) => {
                let raw = self.raw_path(what)?;
                Ok(Operand::Path(self.resolve(raw)?))
            }
            TokenKind::LBracket => Err(self.error(
                ErrorKind::UnexpectedToken,
                "a list is only allowed after IN or NIN",
                token.span,
            )),
            TokenKind::LogicalSymbol(s) => Err(self.error(
                ErrorKind::UnexpectedToken,
                format!(
                    "use {} instead of `{s}`",
                    if *s == "&&" { "AND" } else { "OR" }
                ),
                token.span,
            )),
            _ => Err(self
                .unsupported_here()
                .unwrap_or_else(|| self.expected(what))),
        }
    }

    // ---- functions -------------------------------------------------------

    fn call(&mut self, written: &str) -> PResult<Expr> {
        let name_token = self.advance();
        let upper = written.to_ascii_uppercase();
        let canonical = match upper.as_str() {
            "STARTS_WITH" => "STARTSWITH",
            "ENDS_WITH" => "ENDSWITH",
            other => other,
        }
        .to_owned();
        let known = [
            "IS_OF_MODEL",
            "IS_DEFINED",
            "IS_NULL",
            "IS_BOOL",
            "IS_NUMBER",
            "IS_STRING",
            "IS_PRIMITIVE",
            "IS_OBJECT",
            "STARTSWITH",
            "ENDSWITH",
            "CONTAINS",
            "ARRAY_CONTAINS",
        ];
        if !known.contains(&canonical.as_str()) {
            let message = if upper == "COUNT" {
                "COUNT() is only allowed as SELECT COUNT()".to_owned()
            } else {
                format!("unknown function `{written}`; ADT's query functions are {FUNCTIONS}")
            };
            return Err(self.error(ErrorKind::UnknownFunction, message, name_token.span));
        }
        self.advance(); // `(`
        let mut args = Vec::new();
        if self.eat(&TokenKind::RParen).is_none() {
            loop {
                args.push(self.raw_arg(&canonical)?);
                if self.eat(&TokenKind::Comma).is_some() {
                    continue;
                }
                self.expect(
                    &TokenKind::RParen,
                    &format!("`)` after the arguments of {canonical}"),
                )?;
                break;
            }
        }
        let span = Span::new(name_token.span.start, self.last_end());
        let call = self.check_call(&canonical, args, span)?;
        Ok(Expr {
            kind: ExprKind::Call(call),
            span,
        })
    }

    fn raw_arg(&mut self, function: &str) -> PResult<RawArg> {
        if let Some(literal) = self.literal()? {
            return Ok(RawArg::Literal(literal));
        }
        let token = self.peek().clone();
        match &token.kind {
            TokenKind::Word(w) if w.eq_ignore_ascii_case("SELECT") => Err(self.error(
                ErrorKind::Unsupported,
                "subqueries are not supported",
                token.span,
            )),
            TokenKind::Word(_) | TokenKind::Escaped(_) => {
                if self.peek_at(1).kind == TokenKind::LParen {
                    return Err(self.error(
                        ErrorKind::InvalidArgument,
                        format!("the arguments of {function} are properties or constants, not function calls"),
                        token.span,
                    ));
                }
                Ok(RawArg::Path(self.raw_path("an argument")?))
            }
            TokenKind::LParen => Err(self.error(
                ErrorKind::InvalidArgument,
                format!("the arguments of {function} are properties or constants"),
                token.span,
            )),
            _ => Err(self
                .unsupported_here()
                .unwrap_or_else(|| self.expected(&format!("an argument of {function}")))),
        }
    }

    fn arity(
        &self,
        function: &str,
        args: &[RawArg],
        n: usize,
        usage: &str,
        span: Span,
    ) -> PResult<()> {
        if args.len() == n {
            return Ok(());
        }
        let at = args.get(n).map_or(span, RawArg::span);
        let plural = if n == 1 { "argument" } else { "arguments" };
        Err(self.error(
            ErrorKind::InvalidArgument,
            format!(
                "{function} takes {n} {plural}, as in {usage}; found {}",
                args.len()
            ),
            at,
        ))
    }

    fn path_arg(&self, function: &str, arg: RawArg, usage: &str) -> PResult<PropertyPath> {
        match arg {
            RawArg::Path(p) => self.resolve(p),
            RawArg::Literal(l) => Err(self.error(
                ErrorKind::InvalidArgument,
                format!(
                    "{function} tests a property, as in {usage}; found {}",
                    RawArg::Literal(l.clone()).describe()
                ),
                l.span,
            )),
        }
    }

    fn check_call(&self, function: &str, args: Vec<RawArg>, span: Span) -> PResult<Call> {
        let type_check = match function {
            "IS_DEFINED" => Some(TypeCheck::Defined),
            "IS_NULL" => Some(TypeCheck::Null),
            "IS_BOOL" => Some(TypeCheck::Bool),
            "IS_NUMBER" => Some(TypeCheck::Number),
            "IS_STRING" => Some(TypeCheck::String),
            "IS_PRIMITIVE" => Some(TypeCheck::Primitive),
            "IS_OBJECT" => Some(TypeCheck::Object),
            _ => None,
        };
        if let Some(check) = type_check {
            let usage = format!("{function}(T.Temperature)");
            self.arity(function, &args, 1, &usage, span)?;
            let Some(arg) = args.into_iter().next() else {
                return Err(self.error(
                    ErrorKind::InvalidArgument,
                    format!("{function} takes 1 argument"),
                    span,
                ));
            };
            let arg = self.path_arg(function, arg, &usage)?;
            return Ok(Call::TypeCheck { check, arg });
        }
        let string_op = match function {
            "STARTSWITH" => Some(StringOp::StartsWith),
            "ENDSWITH" => Some(StringOp::EndsWith),
            "CONTAINS" => Some(StringOp::Contains),
            _ => None,
        };
        if let Some(op) = string_op {
            let usage = format!("{function}(T.$dtId, 'abc')");
            self.arity(function, &args, 2, &usage, span)?;
            let mut args = args.into_iter();
            let (Some(first), Some(second)) = (args.next(), args.next()) else {
                return Err(self.error(
                    ErrorKind::InvalidArgument,
                    format!("{function} takes 2 arguments"),
                    span,
                ));
            };
            let target = self.path_arg(function, first, &usage)?;
            let pattern = match second {
                RawArg::Path(p) => Operand::Path(self.resolve(p)?),
                RawArg::Literal(l) if matches!(l.value, LiteralValue::String(_)) => {
                    Operand::Literal(l)
                }
                other => {
                    return Err(self.error(
                        ErrorKind::InvalidArgument,
                        format!(
                            "the second argument of {function} is the string to look for, as in {usage}; found {}",
                            other.describe()
                        ),
                        other.span(),
                    ));
                }
            };
            return Ok(Call::StringMatch {
                op,
                target,
                pattern,
            });
        }
        match function {
            "ARRAY_CONTAINS" => self.check_array_contains(args, span),
            _ => self.check_is_of_model(args, span),
        }
    }

    fn check_array_contains(&self, args: Vec<RawArg>, span: Span) -> PResult<Call> {
        let usage = "ARRAY_CONTAINS(T.floor_numbers, 2)";
        self.arity("ARRAY_CONTAINS", &args, 2, usage, span)?;
        let mut args = args.into_iter();
        let (Some(first), Some(second)) = (args.next(), args.next()) else {
            return Err(self.error(
                ErrorKind::InvalidArgument,
                "ARRAY_CONTAINS takes 2 arguments",
                span,
            ));
        };
        let array = self.path_arg("ARRAY_CONTAINS", first, usage)?;
        if self
            .bindings
            .get(array.binding.0)
            .is_some_and(|b| b.kind == BindingKind::Relationship)
        {
            return Err(self.error(
                ErrorKind::Unsupported,
                "ARRAY_CONTAINS is not supported on properties of relationships",
                array.span,
            ));
        }
        let value = match second {
            RawArg::Literal(l) if !matches!(l.value, LiteralValue::Null) => l,
            other => {
                return Err(self.error(
                    ErrorKind::InvalidArgument,
                    format!(
                        "the second argument of ARRAY_CONTAINS is a string, number or boolean constant; found {}",
                        other.describe()
                    ),
                    other.span(),
                ));
            }
        };
        Ok(Call::ArrayContains { array, value })
    }

    fn check_is_of_model(&self, args: Vec<RawArg>, span: Span) -> PResult<Call> {
        let usage = "IS_OF_MODEL(T, 'dtmi:example:Room;1', exact)";
        if args.is_empty() {
            return Err(self.error(
                ErrorKind::InvalidArgument,
                "IS_OF_MODEL needs a model ID, as in IS_OF_MODEL('dtmi:example:Room;1')",
                span,
            ));
        }
        if let Some(extra) = args.get(3) {
            return Err(self.error(
                ErrorKind::InvalidArgument,
                format!("IS_OF_MODEL takes at most 3 arguments, as in {usage}"),
                extra.span(),
            ));
        }
        let first_is_model = matches!(
            &args[0],
            RawArg::Literal(Literal {
                value: LiteralValue::String(_),
                ..
            })
        );
        let (collection, model_arg, exact_arg) = match (args.len(), first_is_model) {
            (1, _) => (None, &args[0], None),
            (2, true) => (None, &args[0], Some(&args[1])),
            (2, false) => (Some(&args[0]), &args[1], None),
            _ => (Some(&args[0]), &args[1], Some(&args[2])),
        };
        let model = match model_arg {
            RawArg::Literal(Literal {
                value: LiteralValue::String(s),
                span,
            }) => (s.clone(), *span),
            other => {
                let hint = if args.len() == 1 {
                    "; name the twin collection and the model, as in IS_OF_MODEL(T, 'dtmi:example:Room;1')"
                } else {
                    ""
                };
                return Err(self.error(
                    ErrorKind::InvalidArgument,
                    format!(
                        "the model ID of IS_OF_MODEL must be a string such as 'dtmi:example:Room;1', found {}{hint}",
                        other.describe()
                    ),
                    other.span(),
                ));
            }
        };
        let exact = match exact_arg {
            None => false,
            Some(arg)
                if arg
                    .bare_word()
                    .is_some_and(|w| w.name.eq_ignore_ascii_case("exact")) =>
            {
                true
            }
            Some(arg) => {
                return Err(self.error(
                    ErrorKind::InvalidArgument,
                    format!("the last argument of IS_OF_MODEL can only be `exact`, as in {usage}"),
                    arg.span(),
                ));
            }
        };
        let (collection, binding) = match collection {
            Some(arg) => {
                let Some(word) = arg.bare_word() else {
                    return Err(self.error(
                        ErrorKind::InvalidArgument,
                        format!(
                            "the first argument of IS_OF_MODEL is a twin collection such as `T`, found {}",
                            arg.describe()
                        ),
                        arg.span(),
                    ));
                };
                let Some(binding) = self.lookup(&word.name) else {
                    return Err(self.unknown_alias(word));
                };
                if binding.kind != BindingKind::Twin {
                    return Err(self.error(
                        ErrorKind::InvalidArgument,
                        format!(
                            "IS_OF_MODEL tests twins, and `{}` is a relationship",
                            word.name
                        ),
                        word.span,
                    ));
                }
                let name = binding
                    .name
                    .as_ref()
                    .map_or(word.name.clone(), |n| n.name.clone());
                (
                    Some(Ident {
                        name,
                        span: word.span,
                    }),
                    binding.id,
                )
            }
            None => {
                let twins: Vec<&Binding> = self
                    .bindings
                    .iter()
                    .filter(|b| b.kind == BindingKind::Twin)
                    .collect();
                match twins.as_slice() {
                    [only] => (None, only.id),
                    [] => {
                        return Err(self.error(
                            ErrorKind::InvalidArgument,
                            "IS_OF_MODEL tests twins, and this query reads relationships",
                            span,
                        ));
                    }
                    several => {
                        let names: Vec<&str> = several
                            .iter()
                            .filter_map(|b| b.name.as_ref().map(|n| n.name.as_str()))
                            .collect();
                        let example = names.first().copied().unwrap_or("T");
                        return Err(self.error(
                            ErrorKind::InvalidArgument,
                            format!(
                                "this query has several twin collections ({}); name one, as in IS_OF_MODEL({example}, '{}')",
                                names.join(", "),
                                model.0
                            ),
                            span,
                        ));
                    }
                }
            }
        };
        Ok(Call::IsOfModel {
            collection,
            binding,
            model: model.0,
            model_span: model.1,
            exact,
        })
    }

    // ---- whole-query checks ----------------------------------------------

    fn check_dt_id_filter(&self, from: &FromClause, where_clause: Option<&Expr>) -> PResult<()> {
        if !self.limits.require_dt_id_filter {
            return Ok(());
        }
        let (clause, at, example) = match from {
            FromClause::Twins { joins, alias, .. } => match joins.first() {
                Some(join) => (
                    "JOIN",
                    join.span,
                    alias.as_ref().map_or("T".to_owned(), |a| a.name.clone()),
                ),
                None => return Ok(()),
            },
            FromClause::Match { pattern, .. } => {
                let first = pattern
                    .nodes()
                    .find_map(|n| n.alias.as_ref())
                    .map_or("T".to_owned(), |a| a.name.clone());
                ("MATCH", pattern.span, first)
            }
            FromClause::Relationships { .. } => return Ok(()),
        };
        if where_clause.is_some_and(|w| self.has_dt_id_filter(w)) {
            return Ok(());
        }
        let at = Span::new(at.start, at.start + clause.len());
        Err(self.error(
            ErrorKind::MissingDtIdFilter,
            format!(
                "a query with {clause} must filter on the $dtId of one of its twins in WHERE, as in WHERE {example}.$dtId = 'twin-id'"
            ),
            at,
        ))
    }

    /// Whether `expr` has `X.$dtId = constant` or `X.$dtId IN [...]` on a
    /// twin, not under NOT.
    fn has_dt_id_filter(&self, expr: &Expr) -> bool {
        let is_twin_id = |p: &PropertyPath| {
            p.is_dt_id()
                && self
                    .bindings
                    .get(p.binding.0)
                    .is_some_and(|b| b.kind == BindingKind::Twin)
        };
        match &expr.kind {
            ExprKind::And(items) | ExprKind::Or(items) => {
                items.iter().any(|e| self.has_dt_id_filter(e))
            }
            ExprKind::Not(_) | ExprKind::Call(_) => false,
            ExprKind::Compare {
                left,
                op: CompareOp::Eq,
                right,
            } => match (left, right) {
                (Operand::Path(p), Operand::Literal(_))
                | (Operand::Literal(_), Operand::Path(p)) => is_twin_id(p),
                _ => false,
            },
            ExprKind::Compare { .. } => false,
            ExprKind::In {
                value: Operand::Path(p),
                negated: false,
                ..
            } => is_twin_id(p),
            ExprKind::In { .. } => false,
        }
    }
}

/// The deepest nesting any configuration allows: the parser and `Display`
/// recurse once per level, and wasm's stack is 1 MiB.
pub(crate) const MAX_NESTING_CAP: usize = 64;

/// Reserved words that mark the grammar's structure: finding one where a
/// name is expected is a syntax error, not a naming problem.
fn is_structural(word: &str) -> bool {
    [
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "AS", "TOP",
    ]
    .iter()
    .any(|k| k.eq_ignore_ascii_case(word))
}

fn negate(n: &serde_json::Number) -> Option<serde_json::Number> {
    if let Some(u) = n.as_u64() {
        if u == 0 {
            return Some(serde_json::Number::from(0));
        }
        if let Some(i) = i64::try_from(u).ok().and_then(i64::checked_neg) {
            return Some(serde_json::Number::from(i));
        }
        if u == 1 << 63 {
            return Some(serde_json::Number::from(i64::MIN));
        }
        #[allow(clippy::cast_precision_loss)]
        return serde_json::Number::from_f64(-(u as f64));
    }
    n.as_f64().and_then(|f| serde_json::Number::from_f64(-f))
}
