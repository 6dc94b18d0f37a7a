//! Language features beyond the documented examples, checked on the AST.

use serde_json::json;
use twinscape_query::ast::*;
use twinscape_query::{Limits, parse};

fn q(text: &str) -> Query {
    parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn where_(q: &Query) -> &Expr {
    q.where_clause.as_ref().expect("WHERE")
}

fn names(p: &PropertyPath) -> Vec<&str> {
    p.segment_names().collect()
}

fn projections(q: &Query) -> &[Projection] {
    match &q.select.items {
        SelectItems::Projections(p) => p,
        other => panic!("{other:?}"),
    }
}

#[test]
fn metadata_component_and_escaped_paths() {
    let q = q(
        "SELECT T.$metadata.$model, T.$metadata.temperature.lastUpdateTime AS updated, T.thermostat.[[1st]] \
         FROM DIGITALTWINS T WHERE T.thermostat.targetTemperature > 20.5 AND T.map.[[key with space]] = 'v'",
    );
    let p = projections(&q);
    assert_eq!(names(&p[0].path), ["$metadata", "$model"]);
    assert_eq!(p[0].output_name, "$model");
    assert_eq!(
        names(&p[1].path),
        ["$metadata", "temperature", "lastUpdateTime"]
    );
    assert_eq!(p[1].output_name, "updated");
    assert_eq!(names(&p[2].path), ["thermostat", "1st"]);
    let paths = where_(&q).paths();
    assert_eq!(names(paths[0]), ["thermostat", "targetTemperature"]);
    assert_eq!(names(paths[1]), ["map", "key with space"]);
    assert!(q.to_string().contains("T.map.[[key with space]] = 'v'"));
    assert!(q.to_string().contains("T.thermostat.[[1st]]"));
}

#[test]
fn literals_keep_json_types() {
    let q = q(
        r#"SELECT * FROM DIGITALTWINS T WHERE T.x NOT IN [1, -2, 3.5, 1e3, true, null, "dq", 'sq', 18446744073709551615, -9223372036854775808]"#,
    );
    let ExprKind::In {
        list,
        negated: true,
        ..
    } = &where_(&q).kind
    else {
        panic!()
    };
    let values: Vec<serde_json::Value> = list.iter().map(|l| l.value.to_json()).collect();
    assert_eq!(
        values,
        [
            json!(1),
            json!(-2),
            json!(3.5),
            json!(1000.0),
            json!(true),
            json!(null),
            json!("dq"),
            json!("sq"),
            json!(u64::MAX),
            json!(i64::MIN)
        ]
    );
    let LiteralValue::Number(n) = &list[1].value else {
        panic!()
    };
    assert!(n.is_i64());
    let LiteralValue::Number(n) = &list[3].value else {
        panic!()
    };
    assert!(n.is_f64(), "1e3 is a float");
    assert!(q.to_string().contains("T.x NIN [1, -2, 3.5, 1000.0, true, null, 'dq', 'sq', 18446744073709551615, -9223372036854775808]"));
}

#[test]
fn keywords_are_case_insensitive_names_are_not() {
    let q = q(
        "select top(2) t from digitaltwins t where is_of_model(t, 'dtmi:x:y;1', EXACT) and t.$dtId nin ['a'] \
               and starts_with(t.name, 'A') and ends_with(t.name, 'z')",
    );
    assert_eq!(q.top(), Some(2));
    let ExprKind::And(items) = &where_(&q).kind else {
        panic!()
    };
    assert!(matches!(
        &items[0].kind,
        ExprKind::Call(Call::IsOfModel { exact: true, .. })
    ));
    assert!(matches!(&items[1].kind, ExprKind::In { negated: true, .. }));
    assert!(matches!(
        &items[2].kind,
        ExprKind::Call(Call::StringMatch {
            op: StringOp::StartsWith,
            ..
        })
    ));
    assert!(matches!(
        &items[3].kind,
        ExprKind::Call(Call::StringMatch {
            op: StringOp::EndsWith,
            ..
        })
    ));
    assert_eq!(
        q.to_string(),
        "SELECT TOP(2) t FROM DIGITALTWINS t WHERE IS_OF_MODEL(t, 'dtmi:x:y;1', exact) AND t.$dtId NIN ['a'] \
         AND STARTSWITH(t.name, 'A') AND ENDSWITH(t.name, 'z')"
    );
    // `T` is not `t`: with one collection it reads as a property of `t`.
    let q2 = parse("SELECT * FROM DIGITALTWINS t WHERE T.x = 1").unwrap();
    let paths = where_(&q2).paths();
    assert_eq!(
        (paths[0].alias.as_ref(), names(paths[0])),
        (None, vec!["T", "x"])
    );
}

#[test]
fn precedence_not_and_or() {
    let q = q("SELECT * FROM DIGITALTWINS WHERE a = 1 OR b = 2 AND NOT c = 3");
    let ExprKind::Or(or) = &where_(&q).kind else {
        panic!()
    };
    assert_eq!(or.len(), 2);
    let ExprKind::And(and) = &or[1].kind else {
        panic!()
    };
    assert!(matches!(and[1].kind, ExprKind::Not(_)));

    let q2 = parse("SELECT * FROM DIGITALTWINS WHERE (a = 1 OR b = 2) AND NOT (c = 3 AND d = 4)")
        .unwrap();
    let ExprKind::And(and) = &where_(&q2).kind else {
        panic!()
    };
    assert!(matches!(and[0].kind, ExprKind::Or(_)));
    let ExprKind::Not(inner) = &and[1].kind else {
        panic!()
    };
    assert!(matches!(inner.kind, ExprKind::And(_)));
    assert_eq!(
        q2.to_string(),
        "SELECT * FROM DIGITALTWINS WHERE (a = 1 OR b = 2) AND NOT (c = 3 AND d = 4)"
    );

    // Nested ANDs keep their shape through the canonical text.
    let q3 = parse("SELECT * FROM DIGITALTWINS WHERE a = 1 AND (b = 2 AND c = 3)").unwrap();
    assert_eq!(
        q3.to_string(),
        "SELECT * FROM DIGITALTWINS WHERE a = 1 AND (b = 2 AND c = 3)"
    );
    assert_eq!(q3.conjuncts().len(), 3, "conjuncts flatten nested ANDs");
}

#[test]
fn comparisons_between_properties_and_constants_on_the_left() {
    let q = q("SELECT * FROM DIGITALTWINS T WHERE T.min < T.max AND 50 <= T.x AND T.x<-5");
    let ExprKind::And(items) = &where_(&q).kind else {
        panic!()
    };
    assert!(matches!(
        &items[0].kind,
        ExprKind::Compare {
            left: Operand::Path(_),
            op: CompareOp::Lt,
            right: Operand::Path(_)
        }
    ));
    assert!(matches!(
        &items[1].kind,
        ExprKind::Compare {
            left: Operand::Literal(_),
            op: CompareOp::Le,
            ..
        }
    ));
    let ExprKind::Compare {
        op: CompareOp::Lt,
        right: Operand::Literal(l),
        ..
    } = &items[2].kind
    else {
        panic!()
    };
    assert_eq!(l.value.to_json(), json!(-5));
}

#[test]
fn top_with_projections_and_unqualified_names() {
    let q = q("SELECT TOP (3) name, T.temperature, T FROM DIGITALTWINS T");
    assert_eq!(q.top(), Some(3));
    let p = projections(&q);
    assert_eq!(p[0].path.binding, BindingId(0));
    assert_eq!(p[0].path.alias, None);
    let outputs: Vec<_> = p.iter().map(|p| p.output_name.as_str()).collect();
    assert_eq!(outputs, ["name", "temperature", "T"]);
}

#[test]
fn relationships_with_alias() {
    let q = q(
        "SELECT R.$sourceId, R.$targetId FROM RELATIONSHIPS R WHERE R.$relationshipName = 'contains' AND $sourceId IN ['a']",
    );
    let FromClause::Relationships {
        alias: Some(alias),
        binding,
        ..
    } = &q.from
    else {
        panic!()
    };
    assert_eq!(alias.as_str(), "R");
    assert_eq!(
        q.binding(*binding).map(|b| b.kind),
        Some(BindingKind::Relationship)
    );
    // `$sourceId` alone is a property of the only collection.
    let paths = where_(&q).paths();
    assert_eq!(
        (paths[1].alias.as_ref(), names(paths[1])),
        (None, vec!["$sourceId"])
    );
    assert!(
        q.dt_id_anchors().is_empty(),
        "relationships have no $dtId anchor"
    );
}

#[test]
fn match_single_node_anonymous_nodes_and_escaped_variable() {
    let q = q("SELECT a FROM DIGITALTWINS MATCH (a) WHERE a.$dtId = 'x'");
    let pattern = q.match_pattern().unwrap();
    assert!(pattern.steps.is_empty());
    assert_eq!(q.bindings.len(), 1);

    let q = q_anon();
    let pattern = q.match_pattern().unwrap();
    assert_eq!(pattern.steps.len(), 2);
    assert_eq!(pattern.steps[0].node.alias, None);
    assert_eq!(q.bindings.len(), 4, "a, an anonymous twin, the variable, b");
    let var = pattern.steps[1].edge.binding.unwrap();
    assert_eq!(
        q.binding(var).unwrap().name.as_ref().unwrap().as_str(),
        "my rel"
    );
    assert_eq!(
        q.to_string(),
        "SELECT b, [[my rel]] FROM DIGITALTWINS MATCH (a)-[:contains*2]->()<-[ [[my rel]]:feeds]-(b) WHERE a.$dtId = 'x' AND IS_OF_MODEL(b, 'dtmi:b;1')"
    );
}

fn q_anon() -> Query {
    q(
        "SELECT b, [[my rel]] FROM DIGITALTWINS MATCH (a)-[:contains*2]->()<-[[[my rel]]:feeds]-(b) \
       WHERE a.$dtId = 'x' AND IS_OF_MODEL(b, 'dtmi:b;1')",
    )
}

#[test]
fn match_allows_at_most_ten_hops_in_total() {
    assert!(
        parse("SELECT a FROM DIGITALTWINS MATCH (a)-[*..5]->(b)-[*4..5]->(c) WHERE a.$dtId = 'x'")
            .is_ok()
    );
    let limits = Limits {
        max_match_hops: 20,
        ..Limits::default()
    };
    assert!(
        twinscape_query::parse_with_limits(
            "SELECT a FROM DIGITALTWINS MATCH (a)-[*..15]->(b) WHERE a.$dtId = 'x'",
            &limits
        )
        .is_ok()
    );
}

#[test]
fn dt_id_filters_count_anywhere_but_under_not() {
    for ok in [
        "SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE CT.$dtId = 'a'",
        "SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE 'a' = T.$dtId",
        "SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE (T.$dtId = 'a' OR T.$dtId = 'b') AND CT.x = 1",
    ] {
        assert!(parse(ok).is_ok(), "{ok}");
    }
    let q = q(
        "SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE CT.x = 1 AND CT.$dtId = 'b'",
    );
    assert_eq!(
        q.dt_id_anchors(),
        [DtIdAnchor {
            binding: BindingId(1),
            ids: vec!["b".into()]
        }]
    );
}

#[test]
fn reserved_words_escape_and_print_escaped() {
    let q = q(
        "SELECT [[Group]].[[count]], [[Group]].count AS [[Order]] FROM DIGITALTWINS [[Group]] WHERE [[Group]].[[select]] = 1",
    );
    assert_eq!(q.bindings[0].name.as_ref().unwrap().as_str(), "Group");
    assert_eq!(
        q.to_string(),
        "SELECT [[Group]].count, [[Group]].count AS [[Order]] FROM DIGITALTWINS [[Group]] WHERE [[Group]].select = 1"
    );
    assert!(twinscape_query::is_reserved("group"));
    assert!(
        !twinscape_query::is_reserved("JOIN"),
        "JOIN is not in ADT's reserved list"
    );
}

#[test]
fn helpers_for_the_executor() {
    let q = q("SELECT * FROM DIGITALTWINS T WHERE T.a.b = 1");
    let path = where_(&q).paths()[0].clone();
    let twin = json!({"$dtId": "x", "a": {"b": 1}, "s": "text"});
    assert_eq!(path.lookup(&twin), Some(&json!(1)));
    assert_eq!(path.lookup(&json!({"a": 5})), None);
    assert!(TypeCheck::Defined.test(Some(&json!(null))));
    assert!(!TypeCheck::Defined.test(None));
    assert!(TypeCheck::Primitive.test(Some(&json!("s"))));
    assert!(!TypeCheck::Primitive.test(Some(&json!([1]))));
    assert!(TypeCheck::Object.test(Some(&json!({}))));
    assert!(StringOp::Contains.test("abc-route-1", "-route"));
    let mut count = 0;
    where_(&q).walk(&mut |_| count += 1);
    assert_eq!(count, 1);
}

#[test]
fn spans_point_into_the_text() {
    let text = "SELECT T FROM DIGITALTWINS T\nJOIN CT RELATED T.contains R\nWHERE T.$dtId = 'a' AND IS_OF_MODEL(CT, 'dtmi:x;1')";
    let q = q(text);
    let slice = |s: Span| &text[s.start..s.end];
    assert_eq!(slice(q.span), text);
    let join = &q.joins()[0];
    assert_eq!(slice(join.span), "JOIN CT RELATED T.contains R");
    assert_eq!(slice(join.relationship.span), "contains");
    let ExprKind::And(items) = &where_(&q).kind else {
        panic!()
    };
    assert_eq!(slice(items[0].span), "T.$dtId = 'a'");
    assert_eq!(slice(items[1].span), "IS_OF_MODEL(CT, 'dtmi:x;1')");
    let ExprKind::Call(Call::IsOfModel { model_span, .. }) = &items[1].kind else {
        panic!()
    };
    assert_eq!(slice(*model_span), "'dtmi:x;1'");
    assert_eq!(slice(q.select.span), "SELECT T");
}

#[test]
fn ast_serializes_for_debugging() {
    let q = q("SELECT COUNT() FROM DIGITALTWINS MATCH (a)-[r:x]->(b) WHERE a.$dtId = 'x'");
    let v = serde_json::to_value(&q).unwrap();
    assert_eq!(v["select"]["items"]["Count"]["span"]["start"], 7);
    assert_eq!(
        v["from"]["Match"]["pattern"]["steps"][0]["edge"]["direction"],
        "LeftToRight"
    );
    assert_eq!(v["bindings"][1]["kind"], "Relationship");
}

#[test]
fn unicode_white_space_separates_tokens() {
    assert!(parse("SELECT\u{202f}*\u{a0}FROM\tDIGITALTWINS\r\nWHERE\u{3000}x = 1").is_ok());
}
