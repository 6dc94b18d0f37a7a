//! Property tests: generated valid queries round-trip through `Display`
//! (same AST, spans aside), and no input makes the parser panic.

use proptest::prelude::*;
use proptest::sample::select;
use twinscape_query::{Query, QueryError, parse};

// ---- helpers ---------------------------------------------------------------

/// The query as JSON without spans, for comparing trees.
fn shape(q: &Query) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.retain(|k, _| k != "span" && k != "model_span");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(q).expect("the AST serializes");
    strip(&mut v);
    v
}

/// An error's position lies inside the text, on character boundaries.
fn check_position(source: &str, e: &QueryError) {
    let p = e.position;
    assert!(
        p.offset + p.length <= source.len(),
        "{e:?} out of {source:?}"
    );
    assert!(
        source.is_char_boundary(p.offset) && source.is_char_boundary(p.offset + p.length),
        "{e:?}"
    );
    assert!(p.line >= 1 && p.column >= 1);
    assert!(!e.message.is_empty());
}

/// Parses anything; if it parses, the canonical text parses to the same tree.
fn parse_total(source: &str) {
    match parse(source) {
        Ok(q) => {
            let text = q.to_string();
            let again = parse(&text)
                .unwrap_or_else(|e| panic!("canonical text {text:?} of {source:?} fails: {e}"));
            assert_eq!(shape(&q), shape(&again), "{source:?} -> {text:?}");
        }
        Err(e) => check_position(source, &e),
    }
}

// ---- generated valid queries -------------------------------------------------

/// Collection names: plain, escaped reserved word, escaped with a space, non-ASCII.
const NAMES: &[&str] = &[
    "T",
    "CT",
    "Room",
    "r1",
    "[[Group]]",
    "[[my twin]]",
    "x_y",
    "Ünï",
];
const RELATIONSHIPS: &[&str] = &[
    "contains",
    "feeds",
    "[[has part]]",
    "isAssociatedWith",
    "count",
];
const SEGMENTS: &[&str] = &[
    "temperature",
    "$dtId",
    "$metadata",
    "$model",
    "lastUpdateTime",
    "[[1st floor]]",
    "[[a.b]]",
    "count",
    "Group",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Twin,
    Rel,
}

#[derive(Debug, Clone)]
struct Scope {
    from: String,
    /// Named collections: (name as written, kind).
    named: Vec<(String, Kind)>,
    /// Total collections (named or not).
    total: usize,
    /// Twin collections (named or not).
    twins: usize,
    /// A twin to anchor `$dtId` on, when JOIN or MATCH requires one.
    anchor: Option<String>,
    star_ok: bool,
}

fn hops() -> impl Strategy<Value = (String, u32)> {
    prop_oneof![
        Just((String::new(), 1)),
        (1u32..=3).prop_map(|n| (format!("*{n}"), n)),
        (0u32..=2, 1u32..=2).prop_map(|(a, d)| (format!("*{a}..{}", a + d), a + d)),
        (1u32..=3).prop_map(|b| (format!("*..{b}"), b)),
    ]
}

fn edge(variable: Option<String>) -> impl Strategy<Value = (String, bool)> {
    (
        0usize..3,
        proptest::collection::vec(select(RELATIONSHIPS), 0..3),
        hops(),
        any::<bool>(),
    )
        .prop_map(move |(dir, names, (hops, max), colonless)| {
            let variable = if max == 1 { variable.clone() } else { None };
            let mut inner = variable.clone().unwrap_or_default();
            if !names.is_empty() {
                if variable.is_none() && names.len() > 1 && colonless {
                    inner.push_str(&names.join("|"));
                } else {
                    inner.push(':');
                    inner.push_str(&names.join("|"));
                }
            }
            inner.push_str(&hops);
            let text = match dir {
                0 => format!("-[{inner}]->"),
                1 => format!("<-[ {inner} ]-"),
                _ => format!("-[{inner}]-"),
            };
            (text, variable.is_some())
        })
}

fn scope() -> impl Strategy<Value = Scope> {
    let names = Just(NAMES.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).prop_shuffle();
    let twins = (
        names.clone(),
        any::<bool>(),
        proptest::collection::vec((0usize..8, select(RELATIONSHIPS), any::<bool>()), 0..=3),
    )
        .prop_map(|(names, named, joins)| {
            let mut named_list = Vec::new();
            let mut from = "FROM DIGITALTWINS".to_owned();
            let alias = (named || !joins.is_empty()).then(|| names[0].clone());
            if let Some(a) = &alias {
                from.push(' ');
                from.push_str(a);
                named_list.push((a.clone(), Kind::Twin));
            }
            let mut twin_names = alias.iter().cloned().collect::<Vec<_>>();
            let mut next = 1;
            for (source, rel, rel_alias) in &joins {
                let target = names[next].clone();
                next += 1;
                let source = twin_names[source % twin_names.len()].clone();
                from.push_str(&format!(" JOIN {target} RELATED {source}.{rel}"));
                twin_names.push(target.clone());
                named_list.push((target, Kind::Twin));
                if *rel_alias {
                    let r = names[next].clone();
                    next += 1;
                    from.push_str(&format!(" {r}"));
                    named_list.push((r, Kind::Rel));
                }
            }
            let total = named_list.len().max(1);
            Scope {
                from,
                anchor: (!joins.is_empty()).then(|| twin_names[0].clone()),
                twins: twin_names.len().max(1),
                total,
                named: named_list,
                star_ok: joins.is_empty(),
            }
        });
    let relationships = (names.clone(), any::<bool>()).prop_map(|(names, named)| {
        let alias = named.then(|| names[0].clone());
        Scope {
            from: format!(
                "FROM RELATIONSHIPS{}",
                alias.as_ref().map(|a| format!(" {a}")).unwrap_or_default()
            ),
            named: alias.iter().map(|a| (a.clone(), Kind::Rel)).collect(),
            total: 1,
            twins: 0,
            anchor: None,
            star_ok: true,
        }
    });
    let matches = (
        names,
        0usize..=2,
        proptest::collection::vec(any::<bool>(), 3),
        any::<bool>(),
    )
        .prop_flat_map(|(names, edges, named_nodes, use_vars)| {
            let vars: Vec<Option<String>> = (0..edges)
                .map(|i| use_vars.then(|| names[5 + i].clone()))
                .collect();
            let edge_strats: Vec<_> = vars.into_iter().map(edge).collect();
            (Just(names), Just(edges), Just(named_nodes), edge_strats)
        })
        .prop_map(|(names, edges, named_nodes, edge_texts)| {
            let mut named = Vec::new();
            let mut text = String::from("FROM DIGITALTWINS MATCH ");
            for i in 0..=edges {
                // The first twin is always named: it carries the $dtId filter.
                if i == 0 || named_nodes[i] {
                    text.push_str(&format!("({})", names[i]));
                    named.push((names[i].clone(), Kind::Twin));
                } else {
                    text.push_str("()");
                }
                if let Some((edge, has_var)) = edge_texts.get(i) {
                    text.push_str(edge);
                    if *has_var {
                        named.push((names[5 + i].clone(), Kind::Rel));
                    }
                }
            }
            let rels = named.iter().filter(|(_, k)| *k == Kind::Rel).count();
            Scope {
                from: text,
                anchor: Some(names[0].clone()),
                twins: edges + 1,
                total: edges + 1 + rels,
                named,
                star_ok: false,
            }
        });
    prop_oneof![twins, relationships, matches]
}

fn string_literal() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 '\"\\\\é😀\n\t-]{0,8}".prop_map(|s| {
        let mut out = String::from("'");
        for c in s.chars() {
            match c {
                '\'' => out.push_str("\\'"),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                'é' => out.push_str("\\u00e9"),
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    })
}

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        string_literal(),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::Number::from_f64(f)
                .map(|n| n.to_string())
                .unwrap_or_default()),
        Just("true".to_owned()),
        Just("FALSE".to_owned()),
        Just("null".to_owned()),
    ]
}

fn path(scope: &Scope, kind: Option<Kind>) -> BoxedStrategy<String> {
    let segs = proptest::collection::vec(select(SEGMENTS), 0..3);
    let named: Vec<String> = scope
        .named
        .iter()
        .filter(|(_, k)| kind.is_none_or(|want| *k == want))
        .map(|(n, _)| n.clone())
        .collect();
    let single = scope.total == 1 && kind.is_none_or(|k| (k == Kind::Twin) == (scope.twins == 1));
    let unqualified = (
        select(&["temperature", "$dtId", "name", "[[Group]]", "[[1st]]"][..]),
        segs.clone(),
    )
        .prop_map(|(head, segs)| {
            segs.iter()
                .fold(head.to_owned(), |acc, s| format!("{acc}.{s}"))
        })
        .boxed();
    if named.is_empty() {
        return unqualified;
    }
    let qualified = (select(named), segs)
        .prop_map(|(head, segs)| segs.iter().fold(head, |acc, s| format!("{acc}.{s}")))
        .boxed();
    if single {
        prop_oneof![qualified, unqualified].boxed()
    } else {
        qualified
    }
}

fn has_paths(scope: &Scope, kind: Option<Kind>) -> bool {
    scope.total == 1
        || scope
            .named
            .iter()
            .any(|(_, k)| kind.is_none_or(|want| *k == want))
}

fn leaf(scope: &Scope) -> BoxedStrategy<String> {
    let p = || path(scope, None);
    let op = || select(&["=", "!=", "<", "<=", ">", ">="][..]);
    let mut options: Vec<BoxedStrategy<String>> = vec![
        (p(), op(), literal())
            .prop_map(|(a, o, b)| format!("{a} {o} {b}"))
            .boxed(),
        (literal(), op(), p())
            .prop_map(|(a, o, b)| format!("{a}{o}{b}"))
            .boxed(),
        (p(), op(), p())
            .prop_map(|(a, o, b)| format!("{a} {o} {b}"))
            .boxed(),
        (
            p(),
            select(&["IN", "nin", "NOT IN"][..]),
            proptest::collection::vec(literal(), 1..4),
        )
            .prop_map(|(a, o, l)| format!("{a} {o} [{}]", l.join(", ")))
            .boxed(),
        (
            select(
                &[
                    "IS_DEFINED",
                    "is_null",
                    "IS_BOOL",
                    "IS_NUMBER",
                    "IS_STRING",
                    "IS_PRIMITIVE",
                    "IS_OBJECT",
                ][..],
            ),
            p(),
        )
            .prop_map(|(f, a)| format!("{f}({a})"))
            .boxed(),
        (
            select(&["STARTSWITH", "ENDS_WITH", "contains", "STARTS_WITH"][..]),
            p(),
            prop_oneof![string_literal(), p()],
        )
            .prop_map(|(f, a, b)| format!("{f}({a}, {b})"))
            .boxed(),
    ];
    if has_paths(scope, Some(Kind::Twin)) && scope.twins > 0 {
        let array = path(scope, Some(Kind::Twin));
        options.push(
            (array, literal().prop_filter("not null", |l| l != "null"))
                .prop_map(|(a, v)| format!("ARRAY_CONTAINS({a}, {v})"))
                .boxed(),
        );
    }
    let twins: Vec<String> = scope
        .named
        .iter()
        .filter(|(_, k)| *k == Kind::Twin)
        .map(|(n, _)| n.clone())
        .collect();
    let model = "[a-z:;0-9]{1,12}".prop_map(|m| format!("'dtmi:{m}'"));
    if !twins.is_empty() {
        options.push(
            (select(twins), model.clone(), any::<bool>())
                .prop_map(|(t, m, exact)| {
                    format!(
                        "IS_OF_MODEL({t}, {m}{})",
                        if exact { ", exact" } else { "" }
                    )
                })
                .boxed(),
        );
    }
    if scope.twins == 1 {
        options.push(
            (model, any::<bool>())
                .prop_map(|(m, exact)| {
                    format!("IS_OF_MODEL({m}{})", if exact { ", EXACT" } else { "" })
                })
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

fn condition(scope: &Scope) -> BoxedStrategy<String> {
    leaf(scope)
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 2..4)
                    .prop_map(|v| format!("({})", v.join(" AND "))),
                proptest::collection::vec(inner.clone(), 2..4)
                    .prop_map(|v| format!("({})", v.join(" or "))),
                inner.clone().prop_map(|e| format!("NOT {e}")),
                inner.prop_map(|e| format!("({e})")),
            ]
        })
        .boxed()
}

fn select_clause(scope: &Scope) -> BoxedStrategy<String> {
    let mut options: Vec<BoxedStrategy<String>> = vec![Just("COUNT()".to_owned()).boxed()];
    if scope.star_ok {
        options.push(Just("*".to_owned()).boxed());
        options.push((1u64..1000).prop_map(|n| format!("TOP({n})")).boxed());
    }
    if has_paths(scope, None) {
        let item = (path(scope, None), any::<bool>());
        // Output names must be unique: name every item after its position.
        let items = proptest::collection::vec(item, 1..4).prop_map(|items| {
            let items: Vec<String> = items
                .into_iter()
                .enumerate()
                .map(|(i, (p, escaped))| {
                    if escaped {
                        format!("{p} AS [[AS {i}]]")
                    } else {
                        format!("{p} as n{i}")
                    }
                })
                .collect();
            items.join(", ")
        });
        options.push(items.boxed());
        options.push(
            (1u64..50, path(scope, None))
                .prop_map(|(n, p)| format!("TOP ({n}) {p}"))
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

fn query() -> impl Strategy<Value = String> {
    scope().prop_flat_map(|scope| {
        let cond = proptest::option::of(condition(&scope));
        (select_clause(&scope), cond, Just(scope), any::<bool>()).prop_map(
            |(select, cond, scope, lower)| {
                let mut conds: Vec<String> = cond.into_iter().collect();
                if let Some(anchor) = &scope.anchor {
                    conds.insert(0, format!("{anchor}.$dtId IN ['a', 'b']"));
                }
                let mut q = format!("SELECT {select} {}", scope.from);
                if !conds.is_empty() {
                    q.push_str(" WHERE ");
                    q.push_str(&conds.join(" AND "));
                }
                if lower {
                    q = q
                        .replace("SELECT", "select")
                        .replace("FROM DIGITALTWINS", "from DigitalTwins")
                        .replace(" WHERE ", "\n  where ");
                }
                q
            },
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_queries_round_trip(text in query()) {
        let q = parse(&text).unwrap_or_else(|e| panic!("generated query fails: {e}\n{text}"));
        let canonical = q.to_string();
        let again = parse(&canonical).unwrap_or_else(|e| panic!("canonical text fails: {e}\n{canonical}\nfrom {text}"));
        prop_assert_eq!(shape(&q), shape(&again), "{} -> {}", text, canonical);
        prop_assert_eq!(again.to_string(), canonical);
        prop_assert_eq!(q.fingerprint(), again.fingerprint());
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        parse_total(&text);
    }

    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(select(SOUP), 0..40), spaces in proptest::collection::vec(select(&["", " ", "\n", "\u{202f}"][..]), 40)) {
        let text: String = tokens.iter().zip(spaces.iter().cycle()).map(|(t, s)| format!("{t}{s}")).collect();
        parse_total(&text);
    }

    #[test]
    fn mutated_valid_queries_never_panic(text in query(), edits in proptest::collection::vec((any::<proptest::sample::Index>(), 0u8..3, select(SOUP)), 1..4)) {
        let mut text = text;
        for (at, op, insert) in edits {
            let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
            let i = boundaries[at.index(boundaries.len())];
            match op {
                0 => text.insert_str(i, insert),
                1 if i < text.len() => { text.remove(i); }
                _ => text.truncate(i),
            }
        }
        parse_total(&text);
    }
}

const SOUP: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "JOIN",
    "RELATED",
    "MATCH",
    "DIGITALTWINS",
    "RELATIONSHIPS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "NIN",
    "TOP",
    "COUNT",
    "AS",
    "exact",
    "IS_OF_MODEL",
    "IS_DEFINED",
    "STARTSWITH",
    "ARRAY_CONTAINS",
    "ORDER",
    "BY",
    "T",
    "CT",
    "$dtId",
    "$metadata",
    "[[Group]]",
    "[[",
    "]]",
    "'a'",
    "\"b\"",
    "'",
    "1",
    "2.5",
    "-3",
    "1e9",
    "true",
    "null",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "..",
    "*",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "<>",
    "==",
    "-",
    "->",
    "<-",
    ":",
    "|",
    "@p",
    ";",
    "é",
    "\\",
    "#",
    "$",
    "&&",
];

#[test]
fn deep_inputs_do_not_overflow_the_stack() {
    for text in [
        "(".repeat(10_000),
        format!("SELECT * FROM DIGITALTWINS WHERE {}", "NOT ".repeat(5_000)),
        format!("SELECT * FROM DIGITALTWINS WHERE {}", "(".repeat(5_000)),
        format!(
            "SELECT * FROM DIGITALTWINS WHERE x IN [{}]",
            "1,".repeat(5_000)
        ),
        format!(
            "SELECT * FROM DIGITALTWINS WHERE {}x = 1",
            "x = 1 AND ".repeat(3_000)
        ),
    ] {
        parse_total(&text);
    }
}
