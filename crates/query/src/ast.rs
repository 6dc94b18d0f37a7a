//! The syntax tree of a checked query: the contract between the parser and
//! the planner/executor.
//!
//! Every collection the query can name (the FROM collection, JOIN targets and
//! relationship aliases, MATCH twins and relationship variables) is a
//! [`Binding`] in [`Query::bindings`]; everything that refers to one carries
//! its [`BindingId`], already resolved and checked. An executor can therefore
//! keep one row as `Vec<Option<Value>>` indexed by `BindingId` and evaluate
//! [`Expr`] without looking at names again.
//!
//! Every node keeps its [`Span`] (byte offsets into the query text).

use serde::Serialize;

/// A byte range `start..end` in the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub const fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span is empty.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// A name as written: a collection alias, a property, a relationship name.
///
/// `name` is the name itself, without `[[…]]` escaping; metadata names keep
/// their `$` (`$dtId`, `$metadata`, `$model`, `$sourceId`, …). Names are
/// case-sensitive, as in ADT.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

impl Ident {
    /// The name as a `&str`.
    pub fn as_str(&self) -> &str {
        &self.name
    }
}

/// Index of a [`Binding`] in [`Query::bindings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BindingId(pub usize);

/// What a binding holds for each result row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum BindingKind {
    /// A digital twin (its JSON document: `$dtId`, `$etag`, `$metadata`,
    /// properties and components).
    Twin,
    /// A relationship (`$relationshipId`, `$sourceId`, `$targetId`,
    /// `$relationshipName`, `$etag`, properties).
    Relationship,
}

/// A collection in scope of the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Binding {
    /// Its own index.
    pub id: BindingId,
    /// Its alias, or `None` for an unnamed collection (`FROM DIGITALTWINS`
    /// without a name, `()` in a MATCH pattern).
    pub name: Option<Ident>,
    /// Twins or relationships.
    pub kind: BindingKind,
    /// Where it is declared.
    pub span: Span,
}

/// A whole query: `SELECT … FROM … [WHERE …]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Query {
    /// The SELECT clause.
    pub select: Select,
    /// The FROM clause with its JOINs or MATCH.
    pub from: FromClause,
    /// The WHERE condition, if any.
    pub where_clause: Option<Expr>,
    /// Every collection the query can name, indexed by [`BindingId`].
    pub bindings: Vec<Binding>,
    /// The whole query text (without surrounding white space).
    pub span: Span,
}

/// `SELECT [TOP(n)] items`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Select {
    /// `TOP(n)`, if given.
    pub top: Option<Top>,
    /// What each result row holds.
    pub items: SelectItems,
    /// From `SELECT` to the end of the list.
    pub span: Span,
}

/// `TOP(n)`: return at most `count` rows in all (over every page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Top {
    /// The number of rows, at least 1.
    pub count: u64,
    /// From `TOP` to `)`.
    pub span: Span,
}

/// The SELECT list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SelectItems {
    /// `SELECT *`, or `SELECT TOP(n)` with no list: each row is the document
    /// of the one collection (a twin, or a relationship) as is. Only valid
    /// when the query has a single collection (no JOIN, no MATCH).
    All {
        /// The `*`, or the `TOP(n)` that stands for it.
        span: Span,
    },
    /// `SELECT COUNT()`: one row `{"COUNT": n}` with the number of matches.
    Count {
        /// From `COUNT` to `)`.
        span: Span,
    },
    /// `SELECT a, b.c AS d, …`: each row is an object with one member per
    /// projection, named [`Projection::output_name`]. A member whose value is
    /// undefined for a row is left out of that row.
    Projections(Vec<Projection>),
}

/// One item of a SELECT list: a whole collection (`T`) or a property path
/// (`T.name`, `T.$metadata.$model`), optionally renamed with `AS`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    /// What to project. A path with no segments is the whole collection.
    pub path: PropertyPath,
    /// `AS name`, if given.
    pub alias: Option<Ident>,
    /// The member name in the result row: the `AS` name, else the last
    /// segment of the path, else the collection's alias. Unique in the list.
    pub output_name: String,
    /// The item including its `AS` name.
    pub span: Span,
}

/// The FROM clause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum FromClause {
    /// `FROM DIGITALTWINS [alias] [JOIN …]*`
    Twins {
        /// The collection's alias (required when there are JOINs).
        alias: Option<Ident>,
        /// Its binding (kind [`BindingKind::Twin`]).
        binding: BindingId,
        /// The JOINs, in order; each one's source is the FROM collection or
        /// an earlier JOIN's target.
        joins: Vec<Join>,
        /// From `FROM` to the end of the last JOIN.
        span: Span,
    },
    /// `FROM RELATIONSHIPS [alias]`; cannot be combined with JOIN or MATCH.
    Relationships {
        /// The collection's alias.
        alias: Option<Ident>,
        /// Its binding (kind [`BindingKind::Relationship`]).
        binding: BindingId,
        /// From `FROM` to the end of the alias.
        span: Span,
    },
    /// `FROM DIGITALTWINS MATCH pattern`.
    Match {
        /// The pattern.
        pattern: MatchPattern,
        /// From `FROM` to the end of the pattern.
        span: Span,
    },
}

impl FromClause {
    /// The span of the clause.
    pub fn span(&self) -> Span {
        match self {
            FromClause::Twins { span, .. }
            | FromClause::Relationships { span, .. }
            | FromClause::Match { span, .. } => *span,
        }
    }
}

/// `JOIN target RELATED source.relationship [relationship_alias]`: for each
/// row, every relationship named `relationship` going out of `source`, with
/// its target twin as `target`. Inner-join semantics: a row without such a
/// relationship is dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Join {
    /// The alias of the target twins.
    pub target: Ident,
    /// The target's binding (kind [`BindingKind::Twin`]).
    pub target_binding: BindingId,
    /// The source collection as written.
    pub source: Ident,
    /// The source's binding (a twin binding declared earlier).
    pub source_binding: BindingId,
    /// The relationship name (its DTDL `name`), matched exactly.
    pub relationship: Ident,
    /// The alias of the relationship, if given.
    pub relationship_alias: Option<Ident>,
    /// The relationship's binding (kind [`BindingKind::Relationship`]) when
    /// it has an alias; an unnamed relationship cannot be referred to.
    pub relationship_binding: Option<BindingId>,
    /// From `JOIN` to the end of the clause.
    pub span: Span,
}

/// A MATCH pattern: one chain `(a)-[…]->(b)<-[…]-(c)…`. A single node with
/// no relationship condition is allowed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchPattern {
    /// The first twin of the chain.
    pub start: MatchNode,
    /// Each relationship condition with the twin after it.
    pub steps: Vec<MatchStep>,
    /// From `MATCH` to the last `)`.
    pub span: Span,
}

impl MatchPattern {
    /// The nodes of the chain in order (start first).
    pub fn nodes(&self) -> impl Iterator<Item = &MatchNode> {
        std::iter::once(&self.start).chain(self.steps.iter().map(|s| &s.node))
    }
}

/// One step of a MATCH chain: a relationship condition and the twin it leads to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchStep {
    /// The relationship condition between the previous node and `node`.
    pub edge: MatchEdge,
    /// The twin after it.
    pub node: MatchNode,
}

/// A twin in a MATCH pattern: `(name)` or `()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchNode {
    /// Its alias; `None` for `()` (any twin, not referable).
    pub alias: Option<Ident>,
    /// Its binding (kind [`BindingKind::Twin`]); unnamed nodes get one too.
    pub binding: BindingId,
    /// From `(` to `)`.
    pub span: Span,
}

/// Direction of a relationship condition, read left to right in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Direction {
    /// `-[…]->`: the left twin is the source, the right twin the target.
    LeftToRight,
    /// `<-[…]-`: the right twin is the source, the left twin the target.
    RightToLeft,
    /// `-[…]-`: either way.
    Any,
}

/// A relationship condition: `-[variable:name1|name2*hops]->`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchEdge {
    /// The relationship variable, if given (only with a single hop).
    pub variable: Option<Ident>,
    /// The variable's binding (kind [`BindingKind::Relationship`]).
    pub binding: Option<BindingId>,
    /// Allowed relationship names; empty means any name.
    pub names: Vec<Ident>,
    /// How many relationships the condition spans.
    pub hops: Hops,
    /// Which way the relationships point.
    pub direction: Direction,
    /// From the first `-` or `<` to the last `-` or `>`.
    pub span: Span,
}

/// A hop count as ADT defines it, normalised to an inclusive range.
///
/// ADT's rules: no hop spec means exactly 1; `*n` means exactly `n`;
/// `*a..b` means more than `a` and at most `b` (the start is exclusive);
/// `*..b` means 1 to `b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hops {
    /// Least number of relationships on a path (at least 1).
    pub min: u32,
    /// Most number of relationships on a path (`min <= max`).
    pub max: u32,
    /// The spec as written, for display.
    pub written: HopsSyntax,
    /// Where the spec was written (from `*`); `None` for the default.
    pub span: Option<Span>,
}

/// A hop spec as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum HopsSyntax {
    /// Nothing written: one hop.
    Default,
    /// `*n`.
    Exact(u32),
    /// `*a..b` (`start` is `Some(a)`) or `*..b`.
    Range {
        /// The exclusive start, if written.
        start: Option<u32>,
        /// The inclusive end.
        end: u32,
    },
}

/// A boolean condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where (parentheses around it are not included).
    pub span: Span,
}

/// The kinds of condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ExprKind {
    /// All of these (two or more).
    And(Vec<Expr>),
    /// Any of these (two or more).
    Or(Vec<Expr>),
    /// The negation.
    Not(Box<Expr>),
    /// `left op right`.
    Compare {
        /// Left operand.
        left: Operand,
        /// The operator.
        op: CompareOp,
        /// Right operand.
        right: Operand,
    },
    /// `value IN [list]` or `value NIN [list]` (`NOT IN` is read as `NIN`).
    In {
        /// The value tested.
        value: Operand,
        /// The constants it is compared with (at least one).
        list: Vec<Literal>,
        /// `true` for `NIN`.
        negated: bool,
    },
    /// A function with a boolean result.
    Call(Call),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// A value in a comparison: a property (or a whole collection) or a constant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Operand {
    /// A property path.
    Path(PropertyPath),
    /// A constant.
    Literal(Literal),
}

impl Operand {
    /// Where it is.
    pub fn span(&self) -> Span {
        match self {
            Operand::Path(p) => p.span,
            Operand::Literal(l) => l.span,
        }
    }
}

/// A property path: a collection and the JSON member names to follow.
///
/// `T.thermostat.temperature` (a component's property),
/// `T.$metadata.$model`, `T.$metadata.temperature.lastUpdateTime`,
/// `T.map.[[1key]]`. With no segments it is the whole twin or relationship.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PropertyPath {
    /// The collection as written, or `None` when the query has a single
    /// collection and the path was written without it (`WHERE name = 'x'`).
    pub alias: Option<Ident>,
    /// The collection, resolved.
    pub binding: BindingId,
    /// Member names to follow from the collection's JSON document.
    pub segments: Vec<Ident>,
    /// The whole path.
    pub span: Span,
}

impl PropertyPath {
    /// Whether the path is `X.$dtId`.
    pub fn is_dt_id(&self) -> bool {
        self.segments.len() == 1 && self.segments[0].name == "$dtId"
    }

    /// The segments as strings.
    pub fn segment_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().map(|s| s.name.as_str())
    }

    /// Follows the path into a collection's JSON document; `None` when a
    /// member is missing (undefined) or a non-object is traversed.
    pub fn lookup<'v>(&self, document: &'v serde_json::Value) -> Option<&'v serde_json::Value> {
        self.segments.iter().try_fold(document, |value, segment| {
            value.as_object()?.get(&segment.name)
        })
    }
}

/// A constant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Literal {
    /// Its value.
    pub value: LiteralValue,
    /// Where it is.
    pub span: Span,
}

/// A constant's value. Numbers keep JSON fidelity: `70` is an integer,
/// `70.0` and `7e1` are floats.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LiteralValue {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string (escapes resolved).
    String(String),
}

impl LiteralValue {
    /// As a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            LiteralValue::Null => serde_json::Value::Null,
            LiteralValue::Bool(b) => serde_json::Value::Bool(*b),
            LiteralValue::Number(n) => serde_json::Value::Number(n.clone()),
            LiteralValue::String(s) => serde_json::Value::String(s.clone()),
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            LiteralValue::String(s) => Some(s),
            _ => None,
        }
    }
}

/// A function call in WHERE, with its arguments checked and typed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Call {
    /// `IS_OF_MODEL([twins,] 'dtmi', [exact])`: the twin's model is `model`
    /// or (unless `exact`) extends it, with version rules as ADT defines.
    IsOfModel {
        /// The twin collection as written, if given.
        collection: Option<Ident>,
        /// The twin collection, resolved (the query's only twin collection
        /// when not written).
        binding: BindingId,
        /// The model ID as written (not validated as a DTMI: ADT answers
        /// "no match" for a malformed one).
        model: String,
        /// Where the model ID literal is.
        model_span: Span,
        /// `exact`: no inheritance.
        exact: bool,
    },
    /// `IS_DEFINED(p)`, `IS_NULL(p)`, `IS_BOOL(p)`, … on a property.
    TypeCheck {
        /// Which check.
        check: TypeCheck,
        /// The property (or whole collection) tested.
        arg: PropertyPath,
    },
    /// `STARTSWITH(p, s)`, `ENDSWITH(p, s)`, `CONTAINS(p, s)`: false unless
    /// both are strings.
    StringMatch {
        /// Which test.
        op: StringOp,
        /// The string property tested.
        target: PropertyPath,
        /// The string looked for: a string constant or another property.
        pattern: Operand,
    },
    /// `ARRAY_CONTAINS(p, v)`: the array property `p` has `v` as a
    /// top-level element (no search in nested arrays).
    ArrayContains {
        /// The array property (of a twin).
        array: PropertyPath,
        /// The value looked for (string, number or boolean).
        value: Literal,
    },
}

/// Type-checking functions, each with one property argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TypeCheck {
    /// `IS_DEFINED`: the property exists.
    Defined,
    /// `IS_NULL`: the value is `null`.
    Null,
    /// `IS_BOOL`: the value is a boolean.
    Bool,
    /// `IS_NUMBER`: the value is a number.
    Number,
    /// `IS_STRING`: the value is a string.
    String,
    /// `IS_PRIMITIVE`: string, boolean, number or `null`.
    Primitive,
    /// `IS_OBJECT`: the value is a JSON object.
    Object,
}

impl TypeCheck {
    /// The function name.
    pub fn function_name(self) -> &'static str {
        match self {
            TypeCheck::Defined => "IS_DEFINED",
            TypeCheck::Null => "IS_NULL",
            TypeCheck::Bool => "IS_BOOL",
            TypeCheck::Number => "IS_NUMBER",
            TypeCheck::String => "IS_STRING",
            TypeCheck::Primitive => "IS_PRIMITIVE",
            TypeCheck::Object => "IS_OBJECT",
        }
    }

    /// Applies the check to a value (`None` = undefined).
    pub fn test(self, value: Option<&serde_json::Value>) -> bool {
        use serde_json::Value;
        match (self, value) {
            (TypeCheck::Defined, v) => v.is_some(),
            (_, None) => false,
            (TypeCheck::Null, Some(v)) => v.is_null(),
            (TypeCheck::Bool, Some(v)) => v.is_boolean(),
            (TypeCheck::Number, Some(v)) => v.is_number(),
            (TypeCheck::String, Some(v)) => v.is_string(),
            (TypeCheck::Primitive, Some(v)) => {
                matches!(
                    v,
                    Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)
                )
            }
            (TypeCheck::Object, Some(v)) => v.is_object(),
        }
    }
}

/// String tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum StringOp {
    /// `STARTSWITH` (also spelled `STARTS_WITH`).
    StartsWith,
    /// `ENDSWITH` (also spelled `ENDS_WITH`).
    EndsWith,
    /// `CONTAINS`.
    Contains,
}

impl StringOp {
    /// The canonical function name.
    pub fn function_name(self) -> &'static str {
        match self {
            StringOp::StartsWith => "STARTSWITH",
            StringOp::EndsWith => "ENDSWITH",
            StringOp::Contains => "CONTAINS",
        }
    }

    /// Applies the test.
    pub fn test(self, haystack: &str, needle: &str) -> bool {
        match self {
            StringOp::StartsWith => haystack.starts_with(needle),
            StringOp::EndsWith => haystack.ends_with(needle),
            StringOp::Contains => haystack.contains(needle),
        }
    }
}

/// A `$dtId` filter that anchors a query: a top-level conjunct
/// `X.$dtId = 'id'` or `X.$dtId IN [...]` on twin binding `X`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DtIdAnchor {
    /// The twin binding.
    pub binding: BindingId,
    /// The allowed IDs (non-string constants are left out).
    pub ids: Vec<String>,
}

impl Query {
    /// The binding with this id.
    ///
    /// Ids in a parsed query always index `bindings`; a foreign id gives
    /// `None`.
    pub fn binding(&self, id: BindingId) -> Option<&Binding> {
        self.bindings.get(id.0)
    }

    /// The binding with this alias (exact, case-sensitive match).
    pub fn binding_named(&self, name: &str) -> Option<&Binding> {
        self.bindings
            .iter()
            .find(|b| b.name.as_ref().is_some_and(|n| n.name == name))
    }

    /// Whether this is `SELECT COUNT()`.
    pub fn is_count(&self) -> bool {
        matches!(self.select.items, SelectItems::Count { .. })
    }

    /// The `TOP(n)` limit, if any.
    pub fn top(&self) -> Option<u64> {
        self.select.top.as_ref().map(|t| t.count)
    }

    /// The JOINs (empty unless `FromClause::Twins`).
    pub fn joins(&self) -> &[Join] {
        match &self.from {
            FromClause::Twins { joins, .. } => joins,
            _ => &[],
        }
    }

    /// The MATCH pattern, if any.
    pub fn match_pattern(&self) -> Option<&MatchPattern> {
        match &self.from {
            FromClause::Match { pattern, .. } => Some(pattern),
            _ => None,
        }
    }

    /// The top-level conjuncts of WHERE (empty without WHERE).
    pub fn conjuncts(&self) -> Vec<&Expr> {
        self.where_clause
            .as_ref()
            .map_or_else(Vec::new, Expr::conjuncts)
    }

    /// The `$dtId` filters among the top-level conjuncts of WHERE, for a
    /// planner to start from.
    pub fn dt_id_anchors(&self) -> Vec<DtIdAnchor> {
        let mut anchors = Vec::new();
        for expr in self.conjuncts() {
            let (path, values): (&PropertyPath, Vec<&Literal>) = match &expr.kind {
                ExprKind::Compare {
                    left: Operand::Path(p),
                    op: CompareOp::Eq,
                    right: Operand::Literal(l),
                }
                | ExprKind::Compare {
                    left: Operand::Literal(l),
                    op: CompareOp::Eq,
                    right: Operand::Path(p),
                } => (p, vec![l]),
                ExprKind::In {
                    value: Operand::Path(p),
                    list,
                    negated: false,
                } => (p, list.iter().collect()),
                _ => continue,
            };
            let is_twin = self
                .binding(path.binding)
                .is_some_and(|b| b.kind == BindingKind::Twin);
            if path.is_dt_id() && is_twin {
                anchors.push(DtIdAnchor {
                    binding: path.binding,
                    ids: values
                        .iter()
                        .filter_map(|l| l.value.as_str().map(str::to_owned))
                        .collect(),
                });
            }
        }
        anchors
    }
}

impl Expr {
    /// The top-level conjuncts: the children of an `And`, else itself.
    pub fn conjuncts(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::And(items) => items.iter().flat_map(Expr::conjuncts).collect(),
            _ => vec![self],
        }
    }

    /// Calls `f` on this expression and every sub-expression, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::And(items) | ExprKind::Or(items) => items.iter().for_each(|e| e.walk(f)),
            ExprKind::Not(inner) => inner.walk(f),
            ExprKind::Compare { .. } | ExprKind::In { .. } | ExprKind::Call(_) => {}
        }
    }

    /// Every property path in this expression, in text order.
    pub fn paths(&self) -> Vec<&PropertyPath> {
        let mut out = Vec::new();
        self.walk(&mut |e| match &e.kind {
            ExprKind::Compare { left, right, .. } => {
                for operand in [left, right] {
                    if let Operand::Path(p) = operand {
                        out.push(p);
                    }
                }
            }
            ExprKind::In {
                value: Operand::Path(p),
                ..
            } => out.push(p),
            ExprKind::Call(call) => match call {
                Call::IsOfModel { .. } => {}
                Call::TypeCheck { arg, .. } => out.push(arg),
                Call::StringMatch {
                    target, pattern, ..
                } => {
                    out.push(target);
                    if let Operand::Path(p) = pattern {
                        out.push(p);
                    }
                }
                Call::ArrayContains { array, .. } => out.push(array),
            },
            _ => {}
        });
        out
    }
}
