//! Invalid queries: each gives the expected kind of error, a message with
//! the expected words, and the position of the problem.

use twinscape_query::ErrorKind::{self, *};
use twinscape_query::{Limits, parse, parse_with_limits};

/// (query, kind, message fragment, line, column, length of the underlined text)
type Case = (&'static str, ErrorKind, &'static str, u32, u32, usize);

const J: &str = "SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains";

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Lexical errors.
    ("", EmptyQuery, "the query is empty", 1, 1, 0),
    ("  \n ", EmptyQuery, "the query is empty", 2, 2, 0),
    ("SELECT * FROM DIGITALTWINS T WHERE T.name = 'abc", UnterminatedString, "no closing '", 1, 45, 4),
    ("SELECT * FROM DIGITALTWINS WHERE x = \"abc", UnterminatedString, "no closing \"", 1, 38, 4),
    (r"SELECT * FROM DIGITALTWINS WHERE x = 'a\qb'", InvalidEscape, "unknown escape `\\q`", 1, 40, 2),
    (r"SELECT * FROM DIGITALTWINS WHERE x = '\u12'", InvalidEscape, "four hex digits", 1, 39, 2),
    ("SELECT * FROM DIGITALTWINS WHERE x = 2abc", InvalidNumber, "escape such a name with double square brackets: [[2abc]]", 1, 38, 4),
    ("SELECT * FROM DIGITALTWINS WHERE x # 1", InvalidCharacter, "unexpected character `#`", 1, 36, 1),
    ("SELECT * FROM DIGITALTWINS WHERE $ = 1", InvalidCharacter, "`$` must start a metadata name", 1, 34, 1),
    ("SELECT * FROM DIGITALTWINS WHERE x ! 1", InvalidCharacter, "write `!=` to compare", 1, 36, 1),
    ("SELECT * FROM DIGITALTWINS WHERE [[abc = 1", InvalidEscapedName, "no closing `]]`", 1, 34, 2),
    ("SELECT * FROM DIGITALTWINS WHERE [[]] = 1", InvalidEscapedName, "cannot be empty", 1, 34, 4),
    // Positions on later lines and after multi-byte characters.
    ("SELECT *\nFROM DIGITALTWINS\nWHERE x = 'abc", UnterminatedString, "no closing", 3, 11, 4),
    ("SELECT * FROM DIGITALTWINS WHERE é = 'ü' AND ) = 1", UnexpectedToken, "expected a condition, found `)`", 1, 46, 1),
    // Clause structure.
    ("FROM DIGITALTWINS", UnexpectedToken, "expected SELECT at the start of the query, found `FROM`", 1, 1, 4),
    ("SELECT", UnexpectedToken, "expected `*`, COUNT() or a list of collections and properties after SELECT, found the end of the query", 1, 7, 0),
    ("SELECT *", UnexpectedToken, "expected FROM after `*`, found the end of the query", 1, 9, 0),
    ("SELECT * FROM", UnexpectedToken, "expected DIGITALTWINS or RELATIONSHIPS after FROM, found the end of the query", 1, 14, 0),
    ("SELECT * FROM DIGITIALTWINS", UnexpectedToken, "expected DIGITALTWINS or RELATIONSHIPS after FROM, found `DIGITIALTWINS`", 1, 15, 13),
    ("SELECT T.a T.b FROM DIGITALTWINS T", UnexpectedToken, "expected `,` or FROM after the SELECT list, found `T`", 1, 12, 1),
    ("SELECT * FROM DIGITALTWINS WHERE", UnexpectedToken, "expected a condition after WHERE, found the end of the query", 1, 33, 0),
    ("SELECT * FROM DIGITALTWINS WHERE x = 1 AND", UnexpectedToken, "expected a condition, found the end of the query", 1, 43, 0),
    ("SELECT * FROM DIGITALTWINS WHERE NOT", UnexpectedToken, "expected a condition, found the end of the query", 1, 37, 0),
    ("SELECT * FROM DIGITALTWINS WHERE (x = 1", UnexpectedToken, "expected `)` to close the parenthesis, found the end of the query", 1, 40, 0),
    ("SELECT * FROM DIGITALTWINS WHERE x = 1 y = 2", UnexpectedToken, "expected AND, OR or the end of the query, found `y`", 1, 40, 1),
    ("SELECT * FROM DIGITALTWINS T x", UnexpectedToken, "expected JOIN, WHERE or the end of the query, found `x`", 1, 30, 1),
    ("SELECT * FROM DIGITALTWINS AS T", UnexpectedToken, "without AS", 1, 28, 2),
    ("SELECT * FROM DIGITALTWINS; ", Unsupported, "a query ends without `;`", 1, 27, 1),
    ("SELECT * FROM DIGITALTWINS SELECT * FROM DIGITALTWINS", Unsupported, "one query at a time", 1, 28, 6),
    // Names.
    ("SELECT * FROM DIGITALTWINS WHERE Group = 'x'", ReservedWord, "`Group` is a reserved word; to use it as a name, escape it as [[Group]]", 1, 34, 5),
    ("SELECT * FROM DIGITALTWINS select WHERE x = 1", Unsupported, "send one query at a time", 1, 28, 6),
    ("SELECT * FROM DIGITALTWINS T WHERE T. = 1", UnexpectedToken, "expected a property name after `.`, found `=`", 1, 39, 1),
    ("SELECT T FROM DIGITALTWINS T JOIN Group RELATED T.x WHERE T.$dtId = 'a'", ReservedWord, "found the reserved word `Group`; to use it as a name, escape it as [[Group]]", 1, 35, 5),
    ("SELECT * FROM DIGITALTWINS WHERE T.map.1abc = 1", InvalidNumber, "[[1abc]]", 1, 40, 4),
    ("SELECT * FROM DIGITALTWINS WHERE T.map.1 = 1", UnexpectedToken, "a name cannot start with a digit; escape it with double square brackets: [[1]]", 1, 40, 1),
    ("SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED X.contains WHERE T.$dtId = 'a'", UnknownAlias, "`X` is not a collection of this query (its collections are T)", 1, 50, 1),
    ("SELECT T, CT FROM DIGITALTWINS T JOIN T RELATED T.contains WHERE T.$dtId = 'a'", DuplicateAlias, "`T` already names another collection of this query", 1, 39, 1),
    ("SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains CT WHERE T.$dtId = 'a'", DuplicateAlias, "`CT` already names another collection", 1, 61, 2),
    ("SELECT CT FROM DIGITALTWINS JOIN CT RELATED T.contains", AliasRequired, "must name the FROM collection", 1, 11, 17),
    ("SELECT x, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE T.$dtId = 'a'", UnknownAlias, "`x` is not a collection of this query (its collections are T, CT)", 1, 8, 1),
    ("SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE contains.since > 1 AND T.$dtId = 'a'", UnknownAlias, "`contains` is a relationship name, not a collection; name the relationship in its JOIN (JOIN CT RELATED T.contains R)", 1, 67, 8),
    ("SELECT T, U FROM DIGITALTWINS T JOIN U RELATED T.x R JOIN V RELATED R.y WHERE T.$dtId = 'a'", InvalidArgument, "`R` is a relationship; JOIN … RELATED follows relationships out of twins", 1, 69, 1),
    ("SELECT T.name, U.name FROM DIGITALTWINS T JOIN U RELATED T.x WHERE T.$dtId = 'a'", DuplicateAlias, "two items of the SELECT list are named `name`; rename one with AS", 1, 16, 6),
    // What ADT does not support.
    ("SELECT * FROM (SELECT * FROM DIGITALTWINS)", Unsupported, "subqueries are not supported in FROM", 1, 15, 1),
    ("SELECT * FROM DIGITALTWINS WHERE x IN (SELECT y FROM DIGITALTWINS)", UnexpectedToken, "write the IN list in square brackets, as in IN ['a', 'b']", 1, 39, 1),
    ("SELECT * FROM DIGITALTWINS T, RELATIONSHIPS R", Unsupported, "FROM takes one collection", 1, 29, 1),
    ("SELECT * FROM DIGITALTWINS ORDER BY x", Unsupported, "ORDER BY is not supported", 1, 28, 5),
    ("SELECT * FROM DIGITALTWINS T WHERE T.x = 1 GROUP BY T.y", Unsupported, "GROUP BY is not supported", 1, 44, 5),
    ("SELECT * FROM DIGITALTWINS LIMIT 5", Unsupported, "use SELECT TOP(n)", 1, 28, 5),
    ("SELECT * FROM DIGITALTWINS T LEFT JOIN U RELATED T.x", Unsupported, "only plain JOIN", 1, 30, 4),
    ("SELECT * FROM DIGITALTWINS WHERE x = @p", Unsupported, "query parameters such as `@p` are not supported", 1, 38, 2),
    ("SELECT DISTINCT T FROM DIGITALTWINS T", Unsupported, "SELECT `DISTINCT` is not supported", 1, 8, 8),
    ("SELECT * FROM DIGITALTWINS T WHERE T.tags[0] = 1", Unsupported, "array indexing is not supported", 1, 42, 1),
    ("SELECT * FROM RELATIONSHIPS R JOIN T RELATED R.x", Unsupported, "FROM RELATIONSHIPS cannot be combined with JOIN", 1, 31, 4),
    ("SELECT * FROM RELATIONSHIPS MATCH (a)", Unsupported, "FROM RELATIONSHIPS cannot be combined with MATCH", 1, 29, 5),
    ("SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE T.$dtId = 'a' JOIN X RELATED CT.y", Unsupported, "JOIN must come before WHERE", 1, 81, 4),
    ("SELECT * FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE T.$dtId = 'a'", Unsupported, "SELECT * cannot be used with JOIN; list what to return, e.g. SELECT T, CT", 1, 8, 1),
    ("SELECT TOP(3) FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE T.$dtId = 'a'", Unsupported, "SELECT * cannot be used with JOIN", 1, 8, 6),
    ("SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains", MissingDtIdFilter, "a query with JOIN must filter on the $dtId of one of its twins in WHERE, as in WHERE T.$dtId = 'twin-id'", 1, 34, 4),
    ("SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE NOT T.$dtId = 'a'", MissingDtIdFilter, "must filter on the $dtId", 1, 34, 4),
    ("SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.contains WHERE T.$dtId NIN ['a']", MissingDtIdFilter, "must filter on the $dtId", 1, 34, 4),
    // SELECT clause.
    ("SELECT TOP(0) FROM DIGITALTWINS", InvalidArgument, "TOP needs at least 1", 1, 12, 1),
    ("SELECT TOP(2.5) FROM DIGITALTWINS", InvalidArgument, "TOP needs a whole number", 1, 12, 3),
    ("SELECT TOP 5 FROM DIGITALTWINS", UnexpectedToken, "expected `(` after TOP, as in TOP(5), found the number `5`", 1, 12, 1),
    ("SELECT TOP(5 FROM DIGITALTWINS", UnexpectedToken, "expected `)` after the number in TOP(", 1, 14, 4),
    ("SELECT TOP(5) COUNT() FROM DIGITALTWINS", Unsupported, "TOP cannot be combined with COUNT()", 1, 8, 6),
    ("SELECT COUNT(*) FROM DIGITALTWINS", InvalidArgument, "COUNT takes no arguments; write COUNT()", 1, 14, 1),
    ("SELECT COUNT() AS n FROM DIGITALTWINS", UnexpectedToken, "expected FROM after COUNT(), found `AS`", 1, 16, 2),
    ("SELECT *, T FROM DIGITALTWINS T", UnexpectedToken, "`*` and COUNT() stand alone in the SELECT list", 1, 9, 1),
    ("SELECT T, * FROM DIGITALTWINS T", UnexpectedToken, "`*` and COUNT() stand alone", 1, 11, 1),
    ("SELECT T.* FROM DIGITALTWINS T", Unsupported, "`T.*` is not supported; select the collection itself: SELECT T", 1, 10, 1),
    ("SELECT T AS FROM DIGITALTWINS T", ReservedWord, "expected a name after AS, found the reserved word `FROM`", 1, 13, 4),
    // WHERE conditions.
    ("SELECT * FROM DIGITALTWINS WHERE x == 1", UnexpectedToken, "use `=` to compare for equality", 1, 36, 2),
    ("SELECT * FROM DIGITALTWINS WHERE x <> 1", UnexpectedToken, "use `!=` to compare for inequality", 1, 36, 2),
    ("SELECT * FROM DIGITALTWINS WHERE x = 1 && y = 2", UnexpectedToken, "expected AND, OR or the end of the query, found `&&`", 1, 40, 2),
    ("SELECT * FROM DIGITALTWINS WHERE 1 = 1", InvalidArgument, "this compares two constants", 1, 34, 5),
    ("SELECT * FROM DIGITALTWINS T WHERE T.isActive", UnexpectedToken, "expected a comparison (=, !=, <, <=, >, >=), IN or NIN after `T.isActive`, found the end of the query", 1, 46, 0),
    ("SELECT * FROM DIGITALTWINS WHERE x IN []", InvalidArgument, "an IN list needs at least one value", 1, 39, 2),
    ("SELECT * FROM DIGITALTWINS T WHERE T.x IN [T.y]", UnexpectedToken, "expected a constant (string, number, true, false or null) in the IN list, found `T`", 1, 44, 1),
    ("SELECT * FROM DIGITALTWINS WHERE x NIN ['a' 'b']", UnexpectedToken, "expected `,` or `]` in the NIN list, found a string", 1, 45, 3),
    ("SELECT * FROM DIGITALTWINS WHERE 'a' IN ['a']", InvalidArgument, "IN tests a property", 1, 34, 3),
    ("SELECT * FROM DIGITALTWINS WHERE x = [1]", UnexpectedToken, "a list is only allowed after IN or NIN", 1, 38, 1),
    ("SELECT * FROM DIGITALTWINS WHERE x = - y", UnexpectedToken, "`-` must be followed by a number", 1, 38, 1),
    // Functions.
    ("SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:a;1' WHERE", UnexpectedToken, "expected `)` after the arguments of IS_OF_MODEL, found `WHERE`", 1, 57, 5),
    ("SELECT * FROM DIGITALTWINS WHERE FOO(x)", UnknownFunction, "unknown function `FOO`; ADT's query functions are IS_OF_MODEL", 1, 34, 3),
    ("SELECT * FROM DIGITALTWINS WHERE COUNT() > 1", UnknownFunction, "COUNT() is only allowed as SELECT COUNT()", 1, 34, 5),
    ("SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL()", InvalidArgument, "IS_OF_MODEL needs a model ID", 1, 34, 13),
    ("SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T, 'a', exact, 1)", InvalidArgument, "IS_OF_MODEL takes at most 3 arguments", 1, 63, 1),
    ("SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL('dtmi:a;1', fuzzy)", InvalidArgument, "the last argument of IS_OF_MODEL can only be `exact`", 1, 58, 5),
    ("SELECT * FROM DIGITALTWINS WHERE IS_OF_MODEL(5)", InvalidArgument, "the model ID of IS_OF_MODEL must be a string such as 'dtmi:example:Room;1', found a number", 1, 46, 1),
    ("SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T)", InvalidArgument, "name the twin collection and the model", 1, 48, 1),
    ("SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(T.x, 'dtmi:a;1')", InvalidArgument, "the first argument of IS_OF_MODEL is a twin collection such as `T`, found a property", 1, 48, 3),
    ("SELECT * FROM DIGITALTWINS T WHERE IS_OF_MODEL(X, 'dtmi:a;1')", UnknownAlias, "`X` is not a collection of this query (its collections are T)", 1, 48, 1),
    ("SELECT T, R FROM DIGITALTWINS T JOIN U RELATED T.x R WHERE T.$dtId = 'a' AND IS_OF_MODEL(R, 'dtmi:a;1')", InvalidArgument, "IS_OF_MODEL tests twins, and `R` is a relationship", 1, 90, 1),
    ("SELECT T, CT FROM DIGITALTWINS T JOIN CT RELATED T.x WHERE T.$dtId = 'a' AND IS_OF_MODEL('dtmi:a;1')", InvalidArgument, "this query has several twin collections (T, CT); name one, as in IS_OF_MODEL(T, 'dtmi:a;1')", 1, 78, 23),
    ("SELECT * FROM RELATIONSHIPS WHERE IS_OF_MODEL('dtmi:a;1')", InvalidArgument, "IS_OF_MODEL tests twins, and this query reads relationships", 1, 35, 23),
    ("SELECT * FROM DIGITALTWINS WHERE IS_DEFINED()", InvalidArgument, "IS_DEFINED takes 1 argument, as in IS_DEFINED(T.Temperature); found 0", 1, 34, 12),
    ("SELECT * FROM DIGITALTWINS WHERE IS_NULL(a, b)", InvalidArgument, "IS_NULL takes 1 argument", 1, 45, 1),
    ("SELECT * FROM DIGITALTWINS WHERE IS_NUMBER(5)", InvalidArgument, "IS_NUMBER tests a property, as in IS_NUMBER(T.Temperature); found a number", 1, 44, 1),
    ("SELECT * FROM DIGITALTWINS WHERE IS_STRING(LOWER(x))", InvalidArgument, "the arguments of IS_STRING are properties or constants, not function calls", 1, 44, 5),
    ("SELECT * FROM DIGITALTWINS T WHERE STARTSWITH(T.$dtId, 5)", InvalidArgument, "the second argument of STARTSWITH is the string to look for", 1, 56, 1),
    ("SELECT * FROM DIGITALTWINS T WHERE ENDS_WITH('abc', T.x)", InvalidArgument, "ENDSWITH tests a property", 1, 46, 5),
    ("SELECT * FROM DIGITALTWINS T WHERE CONTAINS(T.x)", InvalidArgument, "CONTAINS takes 2 arguments", 1, 36, 13),
    ("SELECT * FROM DIGITALTWINS WHERE ARRAY_CONTAINS(tags, null)", InvalidArgument, "the second argument of ARRAY_CONTAINS is a string, number or boolean constant; found null", 1, 55, 4),
    ("SELECT * FROM RELATIONSHIPS R WHERE ARRAY_CONTAINS(R.tags, 1)", Unsupported, "ARRAY_CONTAINS is not supported on properties of relationships", 1, 52, 6),
    // MATCH.
    ("SELECT a FROM DIGITALTWINS MATCH a-[]->(b) WHERE a.$dtId = 'x'", UnexpectedToken, "write each twin of a MATCH pattern in parentheses, as in (a)", 1, 34, 1),
    ("SELECT a FROM DIGITALTWINS MATCH (a-[]->(b) WHERE a.$dtId = 'x'", UnexpectedToken, "expected `)` to close the twin `(a`, found `-`", 1, 36, 1),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-->(b) WHERE a.$dtId = 'x'", UnexpectedToken, "expected `[` to open a relationship condition, as in -[]-> or -[:contains]->, found `-`", 1, 38, 1),
    ("SELECT a FROM DIGITALTWINS MATCH (a)<-[]->(b) WHERE a.$dtId = 'x'", UnexpectedToken, "a relationship condition points one way", 1, 37, 6),
    ("SELECT a FROM DIGITALTWINS MATCH (a:Room) WHERE a.$dtId = 'x'", Unsupported, "twins in a MATCH pattern take no label", 1, 36, 1),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[]->(a) WHERE a.$dtId = 'x'", DuplicateAlias, "`a` already names another collection", 1, 43, 1),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[r]->(b)-[r]->(c) WHERE a.$dtId = 'x'", DuplicateAlias, "`r` already names another collection", 1, 48, 1),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[*0]->(b) WHERE a.$dtId = 'x'", InvalidHops, "spans at least 1 hop", 1, 39, 2),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[*3..3]->(b) WHERE a.$dtId = 'x'", InvalidHops, "the range *3..3 holds no hop count: its start is excluded", 1, 39, 5),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[*5..2]->(b) WHERE a.$dtId = 'x'", InvalidHops, "the range *5..2 holds no hop count", 1, 39, 5),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[*2..]->(b) WHERE a.$dtId = 'x'", InvalidHops, "a hop range needs an ending limit, as in *2..4", 1, 39, 4),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[*]->(b) WHERE a.$dtId = 'x'", InvalidHops, "expected a hop count after `*`", 1, 39, 2),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[*1.5]->(b) WHERE a.$dtId = 'x'", InvalidHops, "a hop count is a whole number", 1, 40, 3),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[r*2]->(b) WHERE a.$dtId = 'x'", Unsupported, "a relationship variable (`r`) can only be used with a single hop", 1, 40, 2),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[r:contains*1..3]->(b) WHERE a.$dtId = 'x'", Unsupported, "can only be used with a single hop", 1, 49, 5),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[*11]->(b) WHERE a.$dtId = 'x'", LimitExceeded, "this MATCH pattern spans up to 11 hops; at most 10 are allowed", 1, 39, 3),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[*5]->(b)-[*..5]->(c)-[]->(d) WHERE a.$dtId = 'x'", LimitExceeded, "spans up to 11 hops", 1, 59, 5),
    ("SELECT a FROM DIGITALTWINS MATCH (a)-[]->(b), (b)-[]->(c) WHERE a.$dtId = 'x'", Unsupported, "a MATCH clause has one pattern", 1, 45, 1),
    ("SELECT a FROM DIGITALTWINS T MATCH (a)-[]->(b) WHERE a.$dtId = 'x'", Unsupported, "remove the name `T` after DIGITALTWINS", 1, 28, 1),
    ("SELECT a FROM DIGITALTWINS MATCH (a) MATCH (b) WHERE a.$dtId = 'x'", Unsupported, "only one MATCH is supported per query", 1, 38, 5),
    ("SELECT a FROM DIGITALTWINS MATCH (a) JOIN b RELATED a.x WHERE a.$dtId = 'x'", Unsupported, "JOIN and MATCH cannot be combined", 1, 38, 4),
    ("SELECT T FROM DIGITALTWINS T JOIN U RELATED T.x MATCH (a) WHERE T.$dtId = 'x'", Unsupported, "JOIN and MATCH cannot be combined", 1, 49, 5),
    ("SELECT a, b FROM DIGITALTWINS MATCH (a)-[]->(b) WHERE a.temperature > 1", MissingDtIdFilter, "a query with MATCH must filter on the $dtId of one of its twins in WHERE, as in WHERE a.$dtId = 'twin-id'", 1, 31, 5),
    ("SELECT * FROM DIGITALTWINS MATCH (a)-[]->(b) WHERE a.$dtId = 'x'", Unsupported, "SELECT * cannot be used with MATCH; list what to return, e.g. SELECT a, b", 1, 8, 1),
];

#[test]
fn invalid_queries_give_precise_errors() {
    let mut failures = Vec::new();
    for &(query, kind, fragment, line, column, length) in CASES {
        match parse(query) {
            Ok(q) => failures.push(format!("{query}\n  parsed as {q}")),
            Err(e) => {
                let p = e.position;
                if e.kind != kind
                    || !e.message.contains(fragment)
                    || (p.line, p.column, p.length) != (line, column, length)
                {
                    failures.push(format!(
                        "{query}\n  got  {:?} {:?} at {}:{} len {}\n  want {kind:?} {fragment:?} at {line}:{column} len {length}",
                        e.kind, e.message, p.line, p.column, p.length
                    ));
                }
                // The display form carries the position.
                assert!(
                    e.to_string()
                        .ends_with(&format!("(line {line}, column {column})"))
                        || !failures.is_empty()
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn offsets_are_bytes_and_columns_are_characters() {
    let e = parse("SELECT * FROM DIGITALTWINS WHERE é = 'ü' AND #").unwrap_err();
    assert_eq!(e.kind, InvalidCharacter);
    assert_eq!(e.position.column, 46);
    assert_eq!(e.position.offset, 47, "é and ü take two bytes each");
    assert_eq!(
        &"SELECT * FROM DIGITALTWINS WHERE é = 'ü' AND #"[e.position.offset..][..e.position.length],
        "#"
    );
}

fn join_chain(n: usize) -> String {
    let mut q = String::from("SELECT T0 FROM DIGITALTWINS T0");
    for i in 1..=n {
        q.push_str(&format!(" JOIN T{i} RELATED T{}.contains", i - 1));
    }
    q.push_str(" WHERE T0.$dtId = 'a'");
    q
}

#[test]
fn join_limit() {
    assert!(parse(&join_chain(5)).is_ok());
    let q = join_chain(6);
    let e = parse(&q).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (LimitExceeded, "a query can have at most 5 JOINs")
    );
    assert_eq!(e.position.offset, q.rfind("JOIN").unwrap());
    let limits = Limits {
        max_joins: 6,
        ..Limits::default()
    };
    assert!(parse_with_limits(&q, &limits).is_ok());
}

fn in_list(n: usize) -> String {
    let items: Vec<String> = (0..n).map(|i| format!("'id{i}'")).collect();
    format!(
        "SELECT * FROM DIGITALTWINS T WHERE T.$dtId IN [{}]",
        items.join(", ")
    )
}

#[test]
fn in_list_limit() {
    assert!(parse(&in_list(100)).is_ok());
    let q = in_list(101);
    let e = parse(&q).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (LimitExceeded, "an IN list can hold at most 100 values")
    );
    assert_eq!(e.position.offset, q.find("'id100'").unwrap());
    assert_eq!(e.position.length, "'id100'".len());
    let limits = Limits {
        max_in_items: 50,
        ..Limits::default()
    };
    assert_eq!(
        parse_with_limits(&in_list(51), &limits).unwrap_err().kind,
        LimitExceeded
    );
}

#[test]
fn and_or_limit() {
    let conditions = |n: usize| {
        let c: Vec<String> = (0..n).map(|i| format!("T.p{i} = {i}")).collect();
        c
    };
    let fifty = format!(
        "SELECT * FROM DIGITALTWINS T WHERE {}",
        conditions(51).join(" AND ")
    );
    assert!(parse(&fifty).is_ok(), "50 ANDs are allowed");
    let mixed = format!(
        "SELECT * FROM DIGITALTWINS T WHERE {} OR {}",
        conditions(30).join(" AND "),
        conditions(22).join(" OR ")
    );
    let e = parse(&mixed).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (
            LimitExceeded,
            "a query can have at most 50 AND / OR operators"
        )
    );
    assert_eq!(e.position.length, 2, "underlines the 51st operator");
}

#[test]
fn length_limit_counts_characters() {
    let base = "SELECT * FROM DIGITALTWINS WHERE name = ''";
    let fill = |n: usize| {
        format!(
            "SELECT * FROM DIGITALTWINS WHERE name = '{}'",
            "é".repeat(n)
        )
    };
    let exact = fill(8_000 - base.chars().count());
    assert_eq!(exact.chars().count(), 8_000);
    assert!(
        parse(&exact).is_ok(),
        "8,000 characters (more bytes) are allowed"
    );
    let over = fill(8_001 - base.chars().count());
    let e = parse(&over).unwrap_err();
    assert_eq!(e.kind, LimitExceeded);
    assert_eq!(
        e.message,
        "the query has 8001 characters; at most 8000 are allowed"
    );
    assert_eq!(e.position.column, 8_001);
    let limits = Limits {
        max_query_length: 10_000,
        ..Limits::default()
    };
    assert!(parse_with_limits(&over, &limits).is_ok());
}

#[test]
fn nesting_limit_keeps_the_stack_small() {
    let nested = |n: usize| {
        format!(
            "SELECT * FROM DIGITALTWINS WHERE {}x = 1{}",
            "(".repeat(n),
            ")".repeat(n)
        )
    };
    assert!(parse(&nested(32)).is_ok());
    let e = parse(&nested(33)).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (LimitExceeded, "conditions are nested more than 32 deep")
    );
    assert_eq!(e.position.column, 34 + 32);
    let nots = format!(
        "SELECT * FROM DIGITALTWINS WHERE {}x = 1",
        "NOT ".repeat(40)
    );
    assert_eq!(parse(&nots).unwrap_err().kind, LimitExceeded);
    // Far past every limit: an error, not a stack overflow, even with the
    // length limit lifted.
    let limits = Limits {
        max_query_length: usize::MAX,
        ..Limits::default()
    };
    assert_eq!(
        parse_with_limits(&nested(100_000), &limits)
            .unwrap_err()
            .kind,
        LimitExceeded
    );
}

#[test]
fn nesting_is_capped_at_64() {
    let nested = |n: usize| {
        format!(
            "SELECT * FROM DIGITALTWINS WHERE {}x = 1{}",
            "NOT (".repeat(n / 2),
            ")".repeat(n / 2)
        )
    };
    let limits = Limits {
        max_nesting: usize::MAX,
        ..Limits::default()
    };
    let e = parse_with_limits(&nested(66), &limits).unwrap_err();
    assert_eq!(e.message, "conditions are nested more than 64 deep");
    // The deepest query allowed parses and prints (16 KiB a level in an
    // unoptimised build, so give the thread room).
    let worker = std::thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(move || {
            let q = parse_with_limits(&nested(64), &limits).unwrap();
            let text = q.to_string();
            parse_with_limits(&text, &limits).unwrap().to_string() == text
        });
    assert!(worker.unwrap().join().unwrap());
}

#[test]
fn top_limit_is_configurable() {
    assert!(parse("SELECT TOP(1000000) FROM DIGITALTWINS").is_ok());
    let limits = Limits {
        max_top: Some(100),
        ..Limits::default()
    };
    let e = parse_with_limits("SELECT TOP(101) FROM DIGITALTWINS", &limits).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (LimitExceeded, "TOP can be at most 100")
    );
}

#[test]
fn dt_id_rule_can_be_switched_off() {
    let limits = Limits {
        require_dt_id_filter: false,
        ..Limits::default()
    };
    assert!(parse_with_limits(J, &limits).is_ok());
    assert_eq!(parse(J).unwrap_err().kind, MissingDtIdFilter);
}

#[test]
fn errors_serialize_for_clients() {
    let e = parse("SELECT * FROM DIGITALTWINS WHERE Group = 1").unwrap_err();
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["kind"], "ReservedWord");
    assert_eq!(json["position"]["offset"], 33);
    assert_eq!(json["position"]["length"], 5);
    assert_eq!(e.kind.code(), "ReservedWord");
}
