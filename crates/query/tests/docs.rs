//! Every query of ADT's documentation (vendored under `tests/query-docs/`,
//! see SOURCE.md there) against the parser: each one must parse to the
//! expected canonical text, or fail with the expected error, and many are
//! checked for the shape of their AST.

use twinscape_query::ast::*;
use twinscape_query::{ErrorKind, Query, parse};

const EXAMPLES: &str = include_str!("../../../tests/query-docs/examples.sql");
const REFERENCE: &str = include_str!("../../../tests/query-docs/reference.sql");
const REFERENCE_PAGES: &str = include_str!("../../../tests/query-docs/reference-pages.sql");

/// The queries of a `.sql` file: the text between `-- <Tag>` and
/// `-- </Tag>`, without `--` comment lines, split at blank lines (one
/// snippet may hold several queries; the second is `Tag#2`).
fn snippets(file: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut tag: Option<String> = None;
    let mut body = String::new();
    for line in file.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("-- </") {
            let Some(name) = tag.take() else { continue };
            for (i, part) in body
                .split("\n\n")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .enumerate()
            {
                let key = if i == 0 {
                    name.clone()
                } else {
                    format!("{name}#{}", i + 1)
                };
                out.push((key, part.to_owned()));
            }
            body.clear();
        } else if let Some(rest) = trimmed.strip_prefix("-- <") {
            tag = Some(rest.trim_end_matches('>').to_owned());
        } else if tag.is_some() && !trimmed.starts_with("--") {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

fn all_snippets() -> Vec<(String, String)> {
    [EXAMPLES, REFERENCE, REFERENCE_PAGES]
        .into_iter()
        .flat_map(snippets)
        .collect()
}

enum Expect {
    /// Parses; its canonical text.
    Ok(&'static str),
    /// Fails with this kind and a message containing this text.
    Err(ErrorKind, &'static str),
}

use ErrorKind::*;
use Expect::{Err, Ok};

/// What each documented query gives. The errors are syntax templates
/// (`FROM … <collection-name>` without SELECT), typos in the docs
/// (`DIGITIALTWINS`, `MATCH (Building-[]-(Sensor)`, a missing FROM),
/// placeholders (`WHERE ...`, `@buildingId`, `..'floorn'`), or what ADT
/// documents as unsupported (subqueries, ARRAY_CONTAINS on objects).
#[rustfmt::skip]
const EXPECTED: &[(&str, Expect)] = &[
    ("GetAllTwins", Ok("SELECT * FROM DIGITALTWINS")),
    ("EscapedSingleQuote", Ok("SELECT * FROM DIGITALTWINS WHERE Name = 'D\\'Souza'")),
    ("QueryByProperty1", Ok("SELECT * FROM DIGITALTWINS T WHERE T.firmwareVersion = '1.1' AND T.$dtId IN ['123', '456'] AND T.Temperature = 70")),
    ("QueryByProperty2", Ok("SELECT * FROM DIGITALTWINS WHERE IS_DEFINED(Location)")),
    ("QueryMarkerTags1", Ok("SELECT * FROM DIGITALTWINS WHERE IS_DEFINED(tags.red)")),
    ("QueryByProperty3", Ok("SELECT * FROM DIGITALTWINS T WHERE IS_NUMBER(T.Temperature)")),
    ("QueryByProperty4", Err(UnexpectedToken, "expected a property name after `.`, found `<`")),
    ("QueryByModel1", Ok("SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:example:thing;1')")),
    ("QueryByModel2", Ok("SELECT * FROM DIGITALTWINS DT WHERE IS_OF_MODEL(DT, 'dtmi:example:thing;1')")),
    ("QueryByModel3", Ok("SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:example:thing;1', exact)")),
    ("QueryByModel4", Ok("SELECT * FROM DIGITALTWINS DT WHERE IS_OF_MODEL(DT, 'dtmi:example:thing;1', exact)")),
    ("QueryByRelationship1", Ok("SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE T.$dtId = 'ABC'")),
    ("QueryByRelationshipSource", Ok("SELECT target FROM DIGITALTWINS source JOIN target RELATED source.feeds WHERE source.$dtId = 'source-twin'")),
    ("QueryByRelationshipTarget", Ok("SELECT source FROM DIGITALTWINS source JOIN target RELATED source.feeds WHERE target.$dtId = 'target-twin'")),
    ("QueryByRelationship2", Ok("SELECT T, SBT, R FROM DIGITALTWINS T JOIN SBT RELATED T.servicedBy R WHERE T.$dtId = 'ABC' AND R.reportedCondition = 'clean'")),
    ("QueryByRelationship3", Ok("SELECT LightBulb FROM DIGITALTWINS Room JOIN LightPanel RELATED Room.contains JOIN LightBulb RELATED LightPanel.contains WHERE IS_OF_MODEL(LightPanel, 'dtmi:contoso:com:lightpanel;1') AND IS_OF_MODEL(LightBulb, 'dtmi:contoso:com:lightbulb ;1') AND Room.$dtId IN ['room1', 'room2']")),
    ("SelectCount1", Ok("SELECT COUNT() FROM DIGITALTWINS")),
    ("SelectCount2", Ok("SELECT COUNT() FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:sample:Room;1')")),
    ("SelectCount2#2", Ok("SELECT COUNT() FROM DIGITALTWINS c WHERE IS_OF_MODEL('dtmi:sample:Room;1') AND c.Capacity > 20")),
    ("SelectCount3", Ok("SELECT COUNT() FROM DIGITALTWINS Room JOIN LightPanel RELATED Room.contains JOIN LightBulb RELATED LightPanel.contains WHERE IS_OF_MODEL(LightPanel, 'dtmi:contoso:com:lightpanel;1') AND IS_OF_MODEL(LightBulb, 'dtmi:contoso:com:lightbulb;1') AND Room.$dtId IN ['room1', 'room2']")),
    ("SelectTop", Err(UnexpectedToken, "expected a condition, found `..`")),
    ("Projections1", Ok("SELECT Consumer, Factory, Edge FROM DIGITALTWINS Factory JOIN Consumer RELATED Factory.customer Edge WHERE Factory.$dtId = 'ABC'")),
    ("Projections2", Ok("SELECT Consumer.name FROM DIGITALTWINS Factory JOIN Consumer RELATED Factory.customer Edge WHERE Factory.$dtId = 'ABC'")),
    ("Projections3", Ok("SELECT Consumer.name, Edge.prop1, Edge.prop2, Factory.area FROM DIGITALTWINS Factory JOIN Consumer RELATED Factory.customer Edge WHERE Factory.$dtId = 'ABC'")),
    ("Projections4", Ok("SELECT Consumer.name AS consumerName, Edge.prop1 AS first, Edge.prop2 AS second, Factory.area AS factoryArea FROM DIGITALTWINS Factory JOIN Consumer RELATED Factory.customer Edge WHERE Factory.$dtId = 'ABC'")),
    ("Projections5", Ok("SELECT Consumer.name AS consumerName, Factory FROM DIGITALTWINS Factory JOIN Consumer RELATED Factory.customer Edge WHERE Factory.$dtId = 'ABC'")),
    ("INOperatorWithout", Err(Unsupported, "query parameters such as `@buildingId` are not supported; wr")),
    ("INOperatorWith", Err(UnexpectedToken, "expected a constant (string, number, true, false or null) in")),
    ("OtherExamples1", Err(UnknownAlias, "`has` is a relationship name, not a collection; name the rel")),
    ("OtherExamples2", Ok("SELECT Room FROM DIGITALTWINS Room JOIN Thermostat RELATED Room.Contains WHERE Thermostat.$dtId = 'id1'")),
    ("OtherExamples3", Ok("SELECT Room FROM DIGITALTWINS Floor JOIN Room RELATED Floor.Contains WHERE Floor.$dtId = 'floor11' AND IS_OF_MODEL(Room, 'dtmi:contoso:com:DigitalTwins:Room;1')")),
    ("QueryMarkerTags2", Ok("SELECT * FROM DIGITALTWINS WHERE NOT IS_DEFINED(tags.red) AND IS_DEFINED(tags.round)")),
    ("QueryMarkerValueTags", Ok("SELECT * FROM DIGITALTWINS WHERE NOT IS_DEFINED(tags.red) AND tags.size = 'small'")),
    ("TemperatureQuery", Ok("SELECT * FROM DIGITALTWINS T WHERE T.Temperature > 75")),
    ("FromDigitalTwinsSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `FROM`")),
    ("FromDigitalTwinsNamedSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `FROM`")),
    ("FromDigitalTwinsExample", Ok("SELECT * FROM DIGITALTWINS")),
    ("FromDigitalTwinsNamedExample", Ok("SELECT * FROM DIGITALTWINS T")),
    ("FromRelationshipsSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `FROM`")),
    ("FromRelationshipsNamedSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `FROM`")),
    ("FromRelationshipsExample", Ok("SELECT * FROM RELATIONSHIPS")),
    ("FromRelationshipsFilteredExample", Ok("SELECT * FROM RELATIONSHIPS WHERE $sourceId IN ['A', 'B', 'C', 'D']")),
    ("FromNegativeExample", Err(Unsupported, "subqueries are not supported in FROM")),
    ("JoinSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `FROM`")),
    ("JoinExample", Ok("SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE T.$dtId = 'ABC'")),
    ("MultiJoinSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `FROM`")),
    ("MultiJoinExample", Ok("SELECT LightBulb FROM DIGITALTWINS Room JOIN LightPanel RELATED Room.contains JOIN LightBulb RELATED LightPanel.contains WHERE Room.$dtId IN ['room1', 'room2']")),
    ("MaxJoinExample", Ok("SELECT LightBulb FROM DIGITALTWINS Building JOIN Floor RELATED Building.contains JOIN Room RELATED Floor.contains JOIN LightPanel RELATED Room.contains JOIN LightBulbRow RELATED LightPanel.contains JOIN LightBulb RELATED LightBulbRow.contains WHERE Building.$dtId = 'Building1'")),
    ("NoOuterJoinExample", Ok("SELECT Building, Floor FROM DIGITALTWINS Building JOIN Floor RELATED Building.contains WHERE Building.$dtId = 'Building1'")),
    ("MatchSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchChainSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchNodeSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchExample", Ok("SELECT Building, Sensor FROM DIGITALTWINS MATCH (Building)-[]->(Sensor) WHERE Building.$dtId = 'Building21' AND Sensor.temperature > 50")),
    ("MatchDirectionLRSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchDirectionRLSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchDirectionNDSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchDirectionLRExample", Ok("SELECT Room, Factory FROM DIGITALTWINS MATCH (Room)-[]->(Factory) WHERE Room.temperature > 50 AND Factory.$dtId = 'ABC'")),
    ("MatchDirectionRLExample", Ok("SELECT Room, Factory FROM DIGITALTWINS MATCH (Room)<-[]-(Factory) WHERE Factory.$dtId = 'ABC' AND Room.temperature > 50")),
    ("MatchDirectionNDExample", Ok("SELECT Factory, Room FROM DIGITALTWINS MATCH (Factory)-[]-(Room) WHERE Factory.$dtId = 'ABC' AND Room.humidity > 70")),
    ("MatchNameSingleSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchNameMultiSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchNameAllSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchNameSingleExample", Ok("SELECT Building, Sensor FROM DIGITALTWINS MATCH (Building)-[:contains]-(Sensor) WHERE Building.$dtId = 'Seattle21'")),
    ("MatchNameMultiExample", Ok("SELECT Building, Sensor FROM DIGITALTWINS MATCH (Building)-[:contains|isAssociatedWith]-(Sensor) WHERE Building.$dtId = 'Seattle21'")),
    ("MatchNameAllExample", Err(UnexpectedToken, "expected `)` to close the twin `(Building`, found `-`")),
    ("MatchHopsExactSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchHopsRangeSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchHopsRangeEndingSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchHopsOneSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchHopsExactExample", Ok("SELECT Floor, Room FROM DIGITALTWINS MATCH (Floor)-[*3]-(Room) WHERE Floor.$dtId = 'thermostat-15'")),
    ("MatchHopsRangeExample1", Ok("SELECT Floor, Room FROM DIGITALTWINS MATCH (Floor)-[*1..3]-(Room) WHERE Floor.$dtId = 'thermostat-15'")),
    ("MatchHopsRangeEndingExample", Ok("SELECT Floor, Room FROM DIGITALTWINS MATCH (Floor)-[*..2]-(Room) WHERE Floor.$dtId = 'thermostat-15'")),
    ("MatchHopsOneExample", Ok("SELECT Floor, Room FROM DIGITALTWINS MATCH (Floor)-[]-(Room) WHERE Floor.$dtId = 'thermostat-15'")),
    ("MatchVariableSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchVariableExample", Err(UnexpectedToken, "expected `,` or FROM after the SELECT list, found `DIGITALTW")),
    ("MatchCombinedHopsSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchCombinedVariableSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `MATCH`")),
    ("MatchCombinedHopsExample", Ok("SELECT Floor, Room FROM DIGITALTWINS MATCH (Floor)-[:contains|isAssociatedWith*3..5]->(Room) WHERE Floor.$dtId = 'thermostat-15'")),
    ("MatchCombinedVariableExample", Ok("SELECT Floor, Room FROM DIGITALTWINS MATCH (Floor)-[r:contains|isAssociatedWith]->(Room) WHERE Floor.$dtId = 'thermostat-15' AND r.length = 10")),
    ("MatchCombinedChainExample", Ok("SELECT Floor, Room, Cafe FROM DIGITALTWINS MATCH (Floor)-[r:contains|isAssociatedWith]->(Cafe)<-[:has|includes*..3]-(Room) WHERE Floor.$dtId = 'thermostat-15' AND r.length = 10 AND Cafe.temperature = 55")),
    ("MatchCombinedChainBDExample", Ok("SELECT Floor, Room, Building FROM DIGITALTWINS MATCH (Building)-[r1:isAssociatedWith]->(Floor)<-[r2:isAssociatedWith]-(Room) WHERE Building.$dtId = 'building-3' AND Room.temperature > 50")),
    ("SelectSyntax", Err(UnexpectedToken, "expected FROM after `*`, found the end of the query")),
    ("SelectExample", Ok("SELECT * FROM DIGITALTWINS")),
    ("SelectProjectCollectionSyntax", Err(UnexpectedToken, "expected a collection or property to select, found `<`")),
    ("SelectProjectPropertySyntax", Err(UnexpectedToken, "expected a collection or property to select, found `<`")),
    ("SelectProjectCollectionExample", Ok("SELECT T FROM DIGITALTWINS T")),
    ("SelectProjectJoinExample", Ok("SELECT Consumer, Factory, Relationship FROM DIGITALTWINS Factory JOIN Consumer RELATED Factory.consumerRelationship Relationship WHERE Factory.$dtId = 'FactoryA'")),
    ("SelectProjectPropertyExample", Ok("SELECT Consumer.name, Relationship.managedBy FROM DIGITALTWINS Factory JOIN Consumer RELATED Factory.consumerRelationship Relationship WHERE Factory.$dtId = 'FactoryA'")),
    ("SelectProjectPropertyNotPresentExample", Ok("SELECT name, age FROM DIGITALTWINS")),
    ("SelectCountSyntax", Err(UnexpectedToken, "expected FROM after COUNT(), found the end of the query")),
    ("SelectCountExample", Ok("SELECT COUNT() FROM DIGITALTWINS")),
    ("SelectCountRelationshipsExample", Ok("SELECT COUNT() FROM RELATIONSHIPS")),
    ("SelectTopSyntax", Err(UnexpectedToken, "expected the number of items in TOP(n), found `<`")),
    ("SelectTopExample", Ok("SELECT TOP(5) FROM DIGITALTWINS")),
    ("WhereSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `WHERE`")),
    ("WhereFunctionSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `WHERE`")),
    ("WhereExample", Ok("SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 'Room1'")),
    ("WhereFunctionExample", Ok("SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:sample:Room;1')")),
    ("Array_ContainsSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `ARRAY_CONT")),
    ("Array_ContainsExample", Ok("SELECT T.name FROM DIGITALTWINS T WHERE ARRAY_CONTAINS(T.floor_number, 2)")),
    ("ContainsSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `CONTAINS`")),
    ("ContainsExample", Ok("SELECT * FROM DIGITALTWINS T WHERE CONTAINS(T.$dtId, '-route')")),
    ("EndsWithSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `ENDSWITH`")),
    ("EndsWithExample", Ok("SELECT * FROM DIGITALTWINS T WHERE ENDSWITH(T.$dtId, '-small')")),
    ("IsDefinedSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `IS_DEFINED")),
    ("IsDefinedExample", Ok("SELECT * FROM DIGITALTWINS WHERE IS_DEFINED(Location)")),
    ("IsOfModelSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `IS_OF_MODE")),
    ("IsOfModelExample", Ok("SELECT ROOM FROM DIGITALTWINS DT WHERE IS_OF_MODEL(DT, 'dtmi:example:room;1', exact)")),
    ("IsBoolSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `IS_BOOL`")),
    ("IsBoolExample", Ok("SELECT * FROM DIGITALTWINS T WHERE IS_BOOL(HasTemperature)")),
    ("IsBoolNotFalseExample", Ok("SELECT * FROM DIGITALTWINS T WHERE IS_BOOL(HasTemperature) AND HasTemperature != false")),
    ("IsNumberSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `IS_NUMBER`")),
    ("IsNumberExample", Ok("SELECT * FROM DIGITALTWINS WHERE IS_NUMBER(Capacity) AND Capacity != 0")),
    ("IsStringSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `IS_STRING`")),
    ("IsStringExample", Err(UnexpectedToken, "expected DIGITALTWINS or RELATIONSHIPS after FROM, found `DI")),
    ("IsNullSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `IS_NULL`")),
    ("IsNullExample", Ok("SELECT * FROM DIGITALTWINS T WHERE NOT IS_NULL(T.Temperature)")),
    ("IsPrimitiveSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `IS_PRIMITI")),
    ("IsPrimitiveExample", Ok("SELECT Factory.area FROM DIGITALTWINS Factory WHERE Factory.$dtId = 'ABC' AND IS_PRIMITIVE(Factory.area)")),
    ("IsObjectSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `IS_OBJECT`")),
    ("IsObjectExample", Ok("SELECT * FROM DIGITALTWINS WHERE IS_OBJECT(MapObject) AND NOT IS_DEFINED(MapObject.TemperatureReading)")),
    ("StartsWithSyntax", Err(UnexpectedToken, "expected SELECT at the start of the query, found `STARTSWITH")),
    ("StartsWithExample", Ok("SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 'area1-')")),
    ("EqualityExample", Ok("SELECT * FROM DIGITALTWINS DT WHERE DT.Temperature = 80")),
    ("ComparisonExample", Ok("SELECT * FROM DIGITALTWINS DT WHERE DT.Temperature < 80")),
    ("OrderedComparisonExample", Ok("SELECT * FROM DIGITALTWINS DT WHERE NOT DT.Temperature <= 80")),
    ("InExample", Ok("SELECT * FROM DIGITALTWINS DT WHERE DT.owner IN ['John', 'Anil', 'Bailey', 'Alex']")),
    ("AndExample", Ok("SELECT * FROM DIGITALTWINS DT WHERE DT.Temperature < 80 AND DT.Humidity < 50")),
    ("OrExample", Ok("SELECT * FROM DIGITALTWINS DT WHERE DT.Temperature < 80 OR DT.Humidity < 50")),
    ("NotExample", Ok("SELECT * FROM DIGITALTWINS DT WHERE NOT DT.Temperature < 80")),
    ("ReservedKeywordExample", Ok("SELECT * FROM DIGITALTWINS WHERE [[Group]] = 'BravoTeam'")),
    ("MatchLimitationDtIdExample", Err(UnexpectedToken, "write each twin of a MATCH pattern in parentheses, as in (A)")),
    ("ArrayContainsSubqueryNegative", Err(Unsupported, "subqueries are not supported")),
    ("ArrayContainsRelationshipNegative", Ok("SELECT Room FROM DIGITALTWINS Floor JOIN Room RELATED Floor.Contains WHERE Floor.$dtId = 'Floor-35' AND ARRAY_CONTAINS(Floor.Contains.lift, 'operating')")),
    ("ArrayContainsNested", Ok("SELECT * FROM DIGITALTWINS WHERE ARRAY_CONTAINS(tags, 2)")),
    ("ArrayContainsTopLevel", Ok("SELECT * FROM DIGITALTWINS WHERE ARRAY_CONTAINS(tags, 1)")),
    ("ArrayContainsObjectsNegative", Err(InvalidArgument, "the second argument of ARRAY_CONTAINS is a string, number or")),
    ("LowerCaseKeywords", Ok("SELECT * FROM DIGITALTWINS WHERE IS_DEFINED(tags.red)")),
    ("MixedCaseCollection", Ok("SELECT * FROM DIGITALTWINS T WHERE T.firmwareVersion = '1.1' AND T.$dtId IN ['123', '456'] AND T.Temperature = 70")),
    ("IsOfModelAllArguments", Ok("SELECT ROOM FROM DIGITALTWINS DT WHERE IS_OF_MODEL(DT, 'dtmi:sample:thing;1', exact)")),
    ("CompoundMxChip", Err(UnknownAlias, "`has` is a relationship name, not a collection; name the rel")),
];

#[test]
fn every_documented_query_has_an_expectation_and_meets_it() {
    let snippets = all_snippets();
    assert!(
        snippets.len() > 130,
        "found only {} snippets",
        snippets.len()
    );
    let mut failures = Vec::new();
    for (tag, text) in &snippets {
        let Some((_, expect)) = EXPECTED.iter().find(|(t, _)| t == tag) else {
            failures.push(format!("{tag}: no expectation for\n{text}"));
            continue;
        };
        match (expect, parse(text)) {
            (Ok(canonical), Result::Ok(q)) => {
                if q.to_string() != *canonical {
                    failures.push(format!(
                        "{tag}: canonical text\n  got  {q}\n  want {canonical}"
                    ));
                }
            }
            (Ok(_), Result::Err(e)) => failures.push(format!("{tag}: should parse, got {e}")),
            (Err(kind, fragment), Result::Err(e)) => {
                if e.kind != *kind || !e.message.contains(fragment) {
                    failures.push(format!(
                        "{tag}: got {e} [{:?}], want {kind:?} with {fragment:?}",
                        e.kind
                    ));
                }
            }
            (Err(..), Result::Ok(q)) => failures.push(format!("{tag}: should fail, parsed as {q}")),
        }
    }
    for (tag, _) in EXPECTED {
        if !snippets.iter().any(|(t, _)| t == tag) {
            failures.push(format!("{tag}: expectation without a snippet"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn canonical_text_of_documented_queries_parses_to_the_same_text() {
    for (tag, text) in all_snippets() {
        if let Result::Ok(q) = parse(&text) {
            let again = parse(&q.to_string()).unwrap_or_else(|e| panic!("{tag}: {e}"));
            assert_eq!(again.to_string(), q.to_string(), "{tag}");
        }
    }
}

fn doc(tag: &str) -> Query {
    let (_, text) = all_snippets()
        .into_iter()
        .find(|(t, _)| t == tag)
        .unwrap_or_else(|| panic!("no snippet {tag}"));
    parse(&text).unwrap_or_else(|e| panic!("{tag}: {e}"))
}

fn binding_named(q: &Query, name: &str) -> BindingId {
    q.binding_named(name)
        .unwrap_or_else(|| panic!("no binding {name}"))
        .id
}

fn path_names(p: &PropertyPath) -> Vec<&str> {
    p.segment_names().collect()
}

fn projections(q: &Query) -> &[Projection] {
    match &q.select.items {
        SelectItems::Projections(p) => p,
        other => panic!("not projections: {other:?}"),
    }
}

fn where_(q: &Query) -> &Expr {
    q.where_clause.as_ref().expect("a WHERE clause")
}

// ---- AST shape of documented queries ----------------------------------

#[test]
fn select_star_from_digitaltwins() {
    let q = doc("GetAllTwins");
    assert!(matches!(q.select.items, SelectItems::All { .. }));
    assert!(q.select.top.is_none());
    assert!(
        matches!(q.from, FromClause::Twins { alias: None, binding: BindingId(0), ref joins, .. } if joins.is_empty())
    );
    assert_eq!(q.bindings.len(), 1);
    assert_eq!(q.bindings[0].kind, BindingKind::Twin);
    assert!(q.where_clause.is_none());
}

#[test]
fn escaped_quote_and_unqualified_property() {
    let q = doc("EscapedSingleQuote");
    let ExprKind::Compare {
        left: Operand::Path(p),
        op: CompareOp::Eq,
        right: Operand::Literal(l),
    } = &where_(&q).kind
    else {
        panic!("{:?}", where_(&q));
    };
    assert_eq!(p.alias, None);
    assert_eq!(p.binding, BindingId(0));
    assert_eq!(path_names(p), ["Name"]);
    assert_eq!(l.value, LiteralValue::String("D'Souza".into()));
}

#[test]
fn property_filters_keep_integer_fidelity() {
    let q = doc("QueryByProperty1");
    let ExprKind::And(items) = &where_(&q).kind else {
        panic!()
    };
    assert_eq!(items.len(), 3);
    let ExprKind::In {
        value: Operand::Path(p),
        list,
        negated: false,
    } = &items[1].kind
    else {
        panic!()
    };
    assert!(p.is_dt_id());
    assert_eq!(p.alias.as_ref().map(Ident::as_str), Some("T"));
    let ids: Vec<_> = list.iter().map(|l| l.value.to_json()).collect();
    assert_eq!(ids, [serde_json::json!("123"), serde_json::json!("456")]);
    let ExprKind::Compare {
        right: Operand::Literal(l),
        ..
    } = &items[2].kind
    else {
        panic!()
    };
    let LiteralValue::Number(n) = &l.value else {
        panic!()
    };
    assert!(n.is_u64() && n.as_u64() == Some(70), "{n}");
    assert_eq!(l.value.to_json().to_string(), "70");
    assert_eq!(
        q.dt_id_anchors(),
        [DtIdAnchor {
            binding: BindingId(0),
            ids: vec!["123".into(), "456".into()]
        }]
    );
}

#[test]
fn is_of_model_forms() {
    let cases = [
        ("QueryByModel1", None, false),
        ("QueryByModel2", Some("DT"), false),
        ("QueryByModel3", None, true),
        ("QueryByModel4", Some("DT"), true),
    ];
    for (tag, collection, exact_wanted) in cases {
        let q = doc(tag);
        let ExprKind::Call(Call::IsOfModel {
            collection: c,
            binding,
            model,
            exact,
            ..
        }) = &where_(&q).kind
        else {
            panic!("{tag}")
        };
        assert_eq!(c.as_ref().map(Ident::as_str), collection, "{tag}");
        assert_eq!(*binding, BindingId(0), "{tag}");
        assert_eq!(model, "dtmi:example:thing;1", "{tag}");
        assert_eq!(*exact, exact_wanted, "{tag}");
    }
}

#[test]
fn join_with_relationship_alias() {
    let q = doc("QueryByRelationship2");
    let [join] = q.joins() else { panic!() };
    let (t, sbt, r) = (
        binding_named(&q, "T"),
        binding_named(&q, "SBT"),
        binding_named(&q, "R"),
    );
    assert_eq!(join.source_binding, t);
    assert_eq!(join.target_binding, sbt);
    assert_eq!(join.relationship.as_str(), "servicedBy");
    assert_eq!(join.relationship_binding, Some(r));
    assert_eq!(
        q.binding(r).map(|b| b.kind),
        Some(BindingKind::Relationship)
    );
    assert_eq!(q.binding(sbt).map(|b| b.kind), Some(BindingKind::Twin));
    let bindings: Vec<_> = projections(&q).iter().map(|p| p.path.binding).collect();
    assert_eq!(bindings, [t, sbt, r]);
    assert!(projections(&q).iter().all(|p| p.path.segments.is_empty()));
    let paths = where_(&q).paths();
    assert_eq!(paths[1].binding, r);
    assert_eq!(path_names(paths[1]), ["reportedCondition"]);
}

#[test]
fn chained_joins_and_is_of_model_on_each() {
    let q = doc("QueryByRelationship3");
    let [first, second] = q.joins() else { panic!() };
    let (room, panel, bulb) = (
        binding_named(&q, "Room"),
        binding_named(&q, "LightPanel"),
        binding_named(&q, "LightBulb"),
    );
    assert_eq!((first.source_binding, first.target_binding), (room, panel));
    assert_eq!(
        (second.source_binding, second.target_binding),
        (panel, bulb)
    );
    assert_eq!(first.relationship_binding, None);
    let models: Vec<(BindingId, &str)> = where_(&q)
        .conjuncts()
        .into_iter()
        .filter_map(|e| match &e.kind {
            ExprKind::Call(Call::IsOfModel { binding, model, .. }) => {
                Some((*binding, model.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        models,
        [
            (panel, "dtmi:contoso:com:lightpanel;1"),
            (bulb, "dtmi:contoso:com:lightbulb ;1")
        ]
    );
    assert_eq!(
        q.dt_id_anchors(),
        [DtIdAnchor {
            binding: room,
            ids: vec!["room1".into(), "room2".into()]
        }]
    );
}

#[test]
fn count_and_top() {
    let q = doc("SelectCount3");
    assert!(q.is_count());
    assert_eq!(q.joins().len(), 2);
    let q = doc("SelectTopExample");
    assert_eq!(q.top(), Some(5));
    assert!(matches!(q.select.items, SelectItems::All { .. }));
    let q = doc("SelectCountRelationshipsExample");
    assert!(q.is_count());
    assert!(matches!(
        q.from,
        FromClause::Relationships { alias: None, .. }
    ));
}

#[test]
fn projections_with_as_and_whole_twins() {
    let q = doc("Projections4");
    let names: Vec<_> = projections(&q)
        .iter()
        .map(|p| p.output_name.as_str())
        .collect();
    assert_eq!(names, ["consumerName", "first", "second", "factoryArea"]);
    assert_eq!(projections(&q)[1].path.binding, binding_named(&q, "Edge"));
    let q = doc("Projections5");
    let [name, factory] = projections(&q) else {
        panic!()
    };
    assert_eq!(path_names(&name.path), ["name"]);
    assert_eq!(factory.output_name, "Factory");
    assert!(factory.path.segments.is_empty());
    assert_eq!(factory.path.binding, binding_named(&q, "Factory"));
    let q = doc("Projections3");
    let names: Vec<_> = projections(&q)
        .iter()
        .map(|p| p.output_name.as_str())
        .collect();
    assert_eq!(names, ["name", "prop1", "prop2", "area"]);
}

#[test]
fn unqualified_projections_read_the_only_collection() {
    let q = doc("SelectProjectPropertyNotPresentExample");
    let names: Vec<_> = projections(&q)
        .iter()
        .map(|p| (p.path.alias.clone(), p.output_name.as_str()))
        .collect();
    assert_eq!(names, [(None, "name"), (None, "age")]);
    let q = doc("IsOfModelExample");
    let [room] = projections(&q) else { panic!() };
    assert_eq!(room.path.binding, binding_named(&q, "DT"));
    assert_eq!(path_names(&room.path), ["ROOM"]);
}

#[test]
fn relationships_collection() {
    let q = doc("FromRelationshipsFilteredExample");
    assert_eq!(q.bindings[0].kind, BindingKind::Relationship);
    let ExprKind::In {
        value: Operand::Path(p),
        list,
        ..
    } = &where_(&q).kind
    else {
        panic!()
    };
    assert_eq!(path_names(p), ["$sourceId"]);
    assert_eq!(list.len(), 4);
}

fn single_edge(q: &Query) -> (&MatchNode, &MatchEdge, &MatchNode) {
    let pattern = q.match_pattern().expect("MATCH");
    let [step] = pattern.steps.as_slice() else {
        panic!("{} steps", pattern.steps.len())
    };
    (&pattern.start, &step.edge, &step.node)
}

#[test]
fn match_directions_and_default_hop() {
    for (tag, direction) in [
        ("MatchExample", Direction::LeftToRight),
        ("MatchDirectionLRExample", Direction::LeftToRight),
        ("MatchDirectionRLExample", Direction::RightToLeft),
        ("MatchDirectionNDExample", Direction::Any),
    ] {
        let q = doc(tag);
        let (_, edge, _) = single_edge(&q);
        assert_eq!(edge.direction, direction, "{tag}");
        assert_eq!(
            (edge.hops.min, edge.hops.max, edge.hops.written),
            (1, 1, HopsSyntax::Default),
            "{tag}"
        );
        assert!(edge.names.is_empty() && edge.variable.is_none(), "{tag}");
    }
    let q = doc("MatchExample");
    let (start, _, end) = single_edge(&q);
    assert_eq!(start.alias.as_ref().map(Ident::as_str), Some("Building"));
    assert_eq!(end.alias.as_ref().map(Ident::as_str), Some("Sensor"));
    assert_eq!(q.bindings.len(), 2);
    assert_eq!(q.dt_id_anchors()[0].binding, start.binding);
}

#[test]
fn match_relationship_names_and_case_insensitive_alias_fallback() {
    let q = doc("MatchNameMultiExample");
    let (start, edge, _) = single_edge(&q);
    let names: Vec<_> = edge.names.iter().map(Ident::as_str).collect();
    assert_eq!(names, ["contains", "isAssociatedWith"]);
    // The docs write `building.$dtId` for the twin named `Building`.
    let paths = where_(&q).paths();
    assert_eq!(paths[0].binding, start.binding);
    assert_eq!(paths[0].alias.as_ref().map(Ident::as_str), Some("Building"));
}

#[test]
fn match_hop_counts_follow_adts_rules() {
    // ADT: `*a..b` excludes a and includes b; `*..b` is 1..=b.
    for (tag, min, max) in [
        ("MatchHopsExactExample", 3, 3),
        ("MatchHopsRangeExample1", 2, 3),
        ("MatchHopsRangeEndingExample", 1, 2),
        ("MatchHopsOneExample", 1, 1),
        ("MatchCombinedHopsExample", 4, 5),
    ] {
        let q = doc(tag);
        let (_, edge, _) = single_edge(&q);
        assert_eq!((edge.hops.min, edge.hops.max), (min, max), "{tag}");
    }
    let q = doc("MatchCombinedHopsExample");
    let (_, edge, _) = single_edge(&q);
    assert_eq!(edge.direction, Direction::LeftToRight);
    assert_eq!(
        edge.hops.written,
        HopsSyntax::Range {
            start: Some(3),
            end: 5
        }
    );
}

#[test]
fn match_relationship_variable() {
    let q = doc("MatchCombinedVariableExample");
    let (_, edge, _) = single_edge(&q);
    let r = binding_named(&q, "r");
    assert_eq!(edge.binding, Some(r));
    assert_eq!(
        q.binding(r).map(|b| b.kind),
        Some(BindingKind::Relationship)
    );
    let paths = where_(&q).paths();
    assert_eq!(
        (paths[1].binding, path_names(paths[1])),
        (r, vec!["length"])
    );
}

#[test]
fn match_chains() {
    let q = doc("MatchCombinedChainExample");
    let pattern = q.match_pattern().unwrap();
    let [first, second] = pattern.steps.as_slice() else {
        panic!()
    };
    assert_eq!(first.edge.variable.as_ref().map(Ident::as_str), Some("r"));
    assert_eq!(first.edge.direction, Direction::LeftToRight);
    assert_eq!(first.node.alias.as_ref().map(Ident::as_str), Some("Cafe"));
    // `<-[has|includes*..3]-`: names without a colon, as the docs write them.
    assert_eq!(second.edge.variable, None);
    let names: Vec<_> = second.edge.names.iter().map(Ident::as_str).collect();
    assert_eq!(names, ["has", "includes"]);
    assert_eq!(second.edge.direction, Direction::RightToLeft);
    assert_eq!((second.edge.hops.min, second.edge.hops.max), (1, 3));
    assert_eq!(second.node.alias.as_ref().map(Ident::as_str), Some("Room"));
    let nodes: Vec<_> = pattern
        .nodes()
        .filter_map(|n| n.alias.as_ref().map(Ident::as_str))
        .collect();
    assert_eq!(nodes, ["Floor", "Cafe", "Room"]);

    let q = doc("MatchCombinedChainBDExample");
    let pattern = q.match_pattern().unwrap();
    let vars: Vec<_> = pattern
        .steps
        .iter()
        .filter_map(|s| s.edge.variable.as_ref().map(Ident::as_str))
        .collect();
    assert_eq!(vars, ["r1", "r2"]);
    assert_eq!(q.bindings.len(), 5);
}

#[test]
fn type_checks_string_tests_and_array_contains() {
    let q = doc("IsNullExample");
    let ExprKind::Not(inner) = &where_(&q).kind else {
        panic!()
    };
    assert!(
        matches!(&inner.kind, ExprKind::Call(Call::TypeCheck { check: TypeCheck::Null, arg }) if path_names(arg) == ["Temperature"])
    );

    let q = doc("IsObjectExample");
    let ExprKind::And(items) = &where_(&q).kind else {
        panic!()
    };
    assert!(matches!(
        &items[0].kind,
        ExprKind::Call(Call::TypeCheck {
            check: TypeCheck::Object,
            ..
        })
    ));
    let ExprKind::Not(inner) = &items[1].kind else {
        panic!()
    };
    let ExprKind::Call(Call::TypeCheck {
        check: TypeCheck::Defined,
        arg,
    }) = &inner.kind
    else {
        panic!()
    };
    assert_eq!(path_names(arg), ["MapObject", "TemperatureReading"]);

    for (tag, op, needle) in [
        ("StartsWithExample", StringOp::StartsWith, "area1-"),
        ("EndsWithExample", StringOp::EndsWith, "-small"),
        ("ContainsExample", StringOp::Contains, "-route"),
    ] {
        let q = doc(tag);
        let ExprKind::Call(Call::StringMatch {
            op: o,
            target,
            pattern: Operand::Literal(l),
        }) = &where_(&q).kind
        else {
            panic!("{tag}")
        };
        assert_eq!(*o, op);
        assert!(target.is_dt_id());
        assert_eq!(l.value.as_str(), Some(needle));
    }

    let q = doc("Array_ContainsExample");
    let ExprKind::Call(Call::ArrayContains { array, value }) = &where_(&q).kind else {
        panic!()
    };
    assert_eq!(path_names(array), ["floor_number"]);
    assert_eq!(value.value.to_json(), serde_json::json!(2));
}

#[test]
fn operators() {
    let q = doc("OrderedComparisonExample");
    let ExprKind::Not(inner) = &where_(&q).kind else {
        panic!()
    };
    assert!(matches!(
        inner.kind,
        ExprKind::Compare {
            op: CompareOp::Le,
            ..
        }
    ));
    let q = doc("OrExample");
    assert!(matches!(&where_(&q).kind, ExprKind::Or(items) if items.len() == 2));
    let q = doc("IsBoolNotFalseExample");
    let ExprKind::And(items) = &where_(&q).kind else {
        panic!()
    };
    assert!(matches!(
        &items[1].kind,
        ExprKind::Compare {
            op: CompareOp::Ne,
            right: Operand::Literal(Literal {
                value: LiteralValue::Bool(false),
                ..
            }),
            ..
        }
    ));
    let q = doc("ReservedKeywordExample");
    let ExprKind::Compare {
        left: Operand::Path(p),
        ..
    } = &where_(&q).kind
    else {
        panic!()
    };
    assert_eq!(path_names(p), ["Group"]);
}

/// The documented queries that fail only through a typo or a placeholder
/// parse once corrected, so an executor test can use them.
#[test]
fn documented_typos_corrected_parse() {
    for text in [
        // MatchNameAllExample: `(Building-[]-(Sensor)`.
        "SELECT Building, Sensor FROM DIGITALTWINS MATCH (Building)-[]-(Sensor) WHERE Building.$dtId = 'Seattle21'",
        // MatchVariableExample: FROM missing.
        "SELECT Floor,Cafe, Rel FROM DIGITALTWINS MATCH (Floor)-[Rel]-(Cafe) \
         WHERE Floor.$dtId = 'thermostat-15' AND Rel.name = 'child'",
        // IsStringExample: DIGITIALTWINS.
        "SELECT * FROM DIGITALTWINS WHERE IS_STRING( Status ) AND Status != 'Completed'",
        // OtherExamples1: the relationship needs a name to be filtered on.
        "SELECT device FROM DIGITALTWINS space JOIN device RELATED space.has has \
         WHERE space.$dtId = 'Room 123' AND device.$metadata.$model = 'dtmi:contoso:com:DigitalTwins:MxChip;3' \
         AND has.role = 'Operator'",
        // MatchLimitationDtIdExample: twins in parentheses, names after a colon.
        "SELECT A, B, C FROM DIGITALTWINS MATCH (A)-[:contains]->(B)-[:is_part_of]->(C) WHERE B.$dtId = 'Device01'",
        // INOperatorWithout / INOperatorWith / SelectTop: placeholders filled in.
        "SELECT Floor FROM DIGITALTWINS Building JOIN Floor RELATED Building.contains WHERE Building.$dtId = 'b1'",
        "SELECT Room FROM DIGITALTWINS Floor JOIN Room RELATED Floor.contains \
         WHERE Floor.$dtId IN ['floor1','floor2', 'floorn'] AND Room. Temperature > 72 \
         AND IS_OF_MODEL(Room, 'dtmi:com:contoso:Room;1')",
        "SELECT TOP (5) FROM DIGITALTWINS WHERE Temperature > 70",
        // QueryByProperty4: a map property.
        "SELECT * FROM DIGITALTWINS T WHERE T.tags.color = 'red'",
    ] {
        if let Result::Err(e) = parse(text) {
            panic!("{text}: {e}");
        }
    }
}
