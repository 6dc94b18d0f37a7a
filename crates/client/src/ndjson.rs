//! The one parser of ADT's bulk-import file, shared by `twinscape import FILE`
//! (this crate's [`crate::import`]) and the server's import job
//! (`PUT /jobs/imports/{id}` in `twinscape-api`).
//!
//! The format is documented in `docs/adt-api.md` §7 (from Microsoft's
//! `concepts-apis-sdks.md`): NDJSON, one JSON value per line. The file starts
//! with a `Header` section, followed by the optional sections `Models`,
//! `Twins` and `Relationships`, in that order. A section starts with a marker
//! line `{"Section": "<Name>"}`:
//!
//! ```text
//! {"Section": "Header"}
//! {"fileVersion": "1.0.0", "author": "foobar", "organization": "contoso"}
//! {"Section": "Models"}
//! {"@id": "dtmi:com:example:Room;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3"}
//! {"Section": "Twins"}
//! {"$dtId": "room1", "$metadata": {"$model": "dtmi:com:example:Room;1"}, "temperature": 21}
//! {"Section": "Relationships"}
//! {"$dtId": "floor1", "$relationshipId": "r1", "$targetId": "room1", "$relationshipName": "contains"}
//! ```
//!
//! The rules [`parse`] enforces, without asking a server anything:
//!
//! * A UTF-8 byte-order mark at the start of a line is ignored, so are the
//!   whitespace around a line and blank lines. Line numbers are 1-based and
//!   count every line, blank ones too.
//! * Every other line is a JSON object.
//! * A section marker is an object with a single key `Section` (any case)
//!   whose value names a section; section names are case-insensitive. The
//!   first marker is `Header`, nothing comes before it, and the sections come
//!   in the order Header, Models, Twins, Relationships, each at most once. A
//!   file without any section (an empty one, too) is an error.
//! * The Header section holds JSON objects (ADT's fields are `fileVersion`,
//!   `author` and `organization`; they are not checked).
//! * Models: one DTDL interface per line, with a string `@id`. Whether it is
//!   valid DTDL is the server's business (it also orders them by dependency).
//! * Twins: a non-empty string `$dtId` and a string `$metadata.$model`.
//! * Relationships: non-empty strings `$dtId` (the **source** twin, not
//!   `$sourceId`), `$relationshipId`, `$targetId` and `$relationshipName`.
//!
//! Every problem in the file is reported with its line, not only the first.

use serde_json::Value as Json;
use std::fmt;

/// The sections of an import file, in the order they must come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Header,
    Models,
    Twins,
    Relationships,
}

impl Section {
    /// A section by name, in any case.
    pub fn parse(name: &str) -> Option<Section> {
        [
            Section::Header,
            Section::Models,
            Section::Twins,
            Section::Relationships,
        ]
        .into_iter()
        .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// The name as ADT spells it.
    pub fn name(self) -> &'static str {
        match self {
            Section::Header => "Header",
            Section::Models => "Models",
            Section::Twins => "Twins",
            Section::Relationships => "Relationships",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A model line: a DTDL interface.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// 1-based line number.
    pub line: usize,
    /// Its `@id`.
    pub id: String,
    /// The line as it is.
    pub value: Json,
}

/// A twin line.
#[derive(Debug, Clone, PartialEq)]
pub struct Twin {
    /// 1-based line number.
    pub line: usize,
    /// Its `$dtId`.
    pub id: String,
    /// Its `$metadata.$model`.
    pub model: String,
    /// The line as it is: a twin body, `$dtId` included.
    pub value: Json,
}

/// A relationship line.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    /// 1-based line number.
    pub line: usize,
    /// The source twin: the line's `$dtId`.
    pub source: String,
    /// Its `$relationshipId`.
    pub id: String,
    /// The line as it is (`$dtId` included); see [`Relationship::body`].
    pub value: Json,
}

impl Relationship {
    /// The body to PUT at `/digitaltwins/{source}/relationships/{id}`: the
    /// line without `$dtId` (which a relationship body may not have) and
    /// `$sourceId` (the source is `$dtId` in this format; the path wins).
    pub fn body(&self) -> Json {
        let mut body = self.value.clone();
        if let Some(o) = body.as_object_mut() {
            o.remove("$dtId");
            o.remove("$sourceId");
        }
        body
    }
}

/// A parsed import file; each list in the file's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportFile {
    pub models: Vec<Model>,
    pub twins: Vec<Twin>,
    pub relationships: Vec<Relationship>,
}

/// What is wrong with one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    #[error("not valid JSON: {0}")]
    NotJson(String),
    #[error("not a JSON object: each line of the {0} section is one")]
    NotAnObject(Section),
    #[error("unknown section {0}; the sections are Header, Models, Twins and Relationships")]
    UnknownSection(String),
    #[error(r#"section {0} comes first: the file must start with {{"Section": "Header"}}"#)]
    HeaderNotFirst(Section),
    #[error(r#"a line before any section; the file must start with {{"Section": "Header"}}"#)]
    BeforeHeader,
    #[error(
        "section {0} is out of order: the sections come in the order Header, Models, Twins, Relationships, each once"
    )]
    OutOfOrder(Section),
    #[error(r#"the file has no sections; it must start with {{"Section": "Header"}}"#)]
    NoSections,
    #[error("a model needs a string `@id`")]
    ModelWithoutId,
    #[error("a twin needs {}", list(.0))]
    TwinMissing(Vec<&'static str>),
    #[error("a relationship needs {}", list(.0))]
    RelationshipMissing(Vec<&'static str>),
}

/// `` `a` ``, `` `a` and `b` ``, `` `a`, `b` and `c` ``.
fn list(fields: &[&'static str]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// One problem, at its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct Problem {
    pub line: usize,
    pub kind: ProblemKind,
}

/// Where the parser is.
#[derive(Clone, Copy)]
enum State {
    /// No section marker yet.
    Start,
    In(Section),
    /// After an unknown section's marker (already reported): its lines are
    /// not judged.
    Unknown,
}

/// Reads a whole import file: its models, twins and relationships, or every
/// problem with its line (in line order).
pub fn parse(text: &str) -> Result<ImportFile, Vec<Problem>> {
    let mut file = ImportFile::default();
    let mut problems = Vec::new();
    let mut state = State::Start;
    // The last known section seen, for the order.
    let mut last: Option<Section> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let mut problem = |kind| problems.push(Problem { line, kind });
        let raw = raw.trim_start_matches('\u{feff}').trim();
        if raw.is_empty() {
            continue;
        }
        let value: Json = match serde_json::from_str(raw) {
            Ok(v) => v,
            Err(e) => {
                problem(ProblemKind::NotJson(e.to_string()));
                continue;
            }
        };
        let Json::Object(obj) = &value else {
            match state {
                State::In(s) => problem(ProblemKind::NotAnObject(s)),
                State::Start => problem(ProblemKind::BeforeHeader),
                State::Unknown => {}
            }
            continue;
        };
        // A section marker: {"Section": "Name"}.
        if obj.len() == 1
            && let Some((key, name)) = obj.iter().next()
            && key.eq_ignore_ascii_case("section")
        {
            let Some(next) = name.as_str().and_then(Section::parse) else {
                problem(ProblemKind::UnknownSection(name.to_string()));
                state = State::Unknown;
                continue;
            };
            if last.is_none() && next != Section::Header {
                problem(ProblemKind::HeaderNotFirst(next));
            } else if last.is_some_and(|s| s >= next) {
                problem(ProblemKind::OutOfOrder(next));
            }
            last = Some(last.map_or(next, |s| s.max(next)));
            // The lines that follow are judged as the section they are in.
            state = State::In(next);
            continue;
        }
        let str_at = |path: &[&str]| {
            path.iter()
                .try_fold(&value, |v, k| v.get(k))
                .and_then(Json::as_str)
        };
        match state {
            State::Start => problem(ProblemKind::BeforeHeader),
            State::Unknown | State::In(Section::Header) => {}
            State::In(Section::Models) => match str_at(&["@id"]) {
                Some(id) => file.models.push(Model {
                    line,
                    id: id.to_string(),
                    value: value.clone(),
                }),
                None => problem(ProblemKind::ModelWithoutId),
            },
            State::In(Section::Twins) => {
                let id = str_at(&["$dtId"]).filter(|s| !s.is_empty());
                let model = str_at(&["$metadata", "$model"]);
                match (id, model) {
                    (Some(id), Some(model)) => file.twins.push(Twin {
                        line,
                        id: id.to_string(),
                        model: model.to_string(),
                        value: value.clone(),
                    }),
                    _ => problem(ProblemKind::TwinMissing(
                        [
                            ("$dtId", id.is_none()),
                            ("$metadata.$model", model.is_none()),
                        ]
                        .into_iter()
                        .filter_map(|(f, missing)| missing.then_some(f))
                        .collect(),
                    )),
                }
            }
            State::In(Section::Relationships) => {
                const FIELDS: [&str; 4] =
                    ["$dtId", "$relationshipId", "$targetId", "$relationshipName"];
                let missing: Vec<&'static str> = FIELDS
                    .into_iter()
                    .filter(|f| str_at(&[f]).is_none_or(str::is_empty))
                    .collect();
                match (str_at(&["$dtId"]), str_at(&["$relationshipId"])) {
                    (Some(source), Some(id)) if missing.is_empty() => {
                        file.relationships.push(Relationship {
                            line,
                            source: source.to_string(),
                            id: id.to_string(),
                            value: value.clone(),
                        })
                    }
                    _ => problem(ProblemKind::RelationshipMissing(missing)),
                }
            }
        }
    }
    if last.is_none() && problems.is_empty() {
        problems.push(Problem {
            line: 1,
            kind: ProblemKind::NoSections,
        });
    }
    if problems.is_empty() {
        Ok(file)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GOOD: &str = r#"{"Section": "Header"}
{"fileVersion": "1.0.0", "author": "t", "organization": "o"}
{"Section": "Models"}
{"@id": "dtmi:t:B;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3", "extends": "dtmi:t:A;1"}
{"@id": "dtmi:t:A;1", "@type": "Interface", "@context": "dtmi:dtdl:context;3"}

{"Section": "Twins"}
{"$dtId": "a", "$metadata": {"$model": "dtmi:t:A;1"}, "p": 1}
{"$dtId": "b", "$metadata": {"$model": "dtmi:t:B;1"}}
{"Section": "Relationships"}
{"$dtId": "a", "$relationshipId": "r", "$targetId": "b", "$relationshipName": "x", "p": 1, "$sourceId": "ignored"}
"#;

    /// The problems' lines and kinds.
    fn problems(text: &str) -> Vec<(usize, ProblemKind)> {
        parse(text)
            .expect_err("problems")
            .into_iter()
            .map(|p| (p.line, p.kind))
            .collect()
    }

    #[test]
    fn a_good_file_gives_its_sections_with_lines() {
        let f = parse(GOOD).expect("parses");
        let models: Vec<(usize, &str)> = f.models.iter().map(|m| (m.line, &*m.id)).collect();
        assert_eq!(models, [(4, "dtmi:t:B;1"), (5, "dtmi:t:A;1")]);
        assert_eq!(f.models[1].value["@type"], "Interface");
        let twins: Vec<(usize, &str, &str)> = f
            .twins
            .iter()
            .map(|t| (t.line, &*t.id, &*t.model))
            .collect();
        assert_eq!(twins, [(8, "a", "dtmi:t:A;1"), (9, "b", "dtmi:t:B;1")]);
        assert_eq!(f.twins[0].value["p"], 1);
        assert_eq!(f.twins[0].value["$dtId"], "a");
        let r = &f.relationships[0];
        assert_eq!((r.line, &*r.source, &*r.id), (11, "a", "r"));
        assert_eq!(r.value["$dtId"], "a");
        assert_eq!(
            r.body(),
            json!({"$relationshipId": "r", "$targetId": "b", "$relationshipName": "x", "p": 1})
        );
    }

    #[test]
    fn every_section_but_the_header_is_optional() {
        let f = parse("{\"Section\": \"Header\"}\n{\"fileVersion\": \"1.0.0\"}\n").unwrap();
        assert_eq!(f, ImportFile::default());
        // An empty header section is not checked either.
        let f = parse("{\"Section\": \"Header\"}\n{\"Section\": \"Twins\"}\n{\"$dtId\": \"a\", \"$metadata\": {\"$model\": \"dtmi:a;1\"}}\n").unwrap();
        assert_eq!(f.twins.len(), 1);
        assert!(f.models.is_empty() && f.relationships.is_empty());
    }

    #[test]
    fn section_names_and_the_key_are_case_insensitive() {
        let text = "{\"section\": \"HEADER\"}\n{}\n{\"SECTION\": \"models\"}\n{\"@id\": \"dtmi:a;1\"}\n{\"Section\": \"tWiNs\"}\n{\"$dtId\": \"t\", \"$metadata\": {\"$model\": \"dtmi:a;1\"}}\n{\"Section\": \"relationships\"}\n";
        let f = parse(text).unwrap();
        assert_eq!((f.models.len(), f.twins.len()), (1, 1));
        assert_eq!(
            Section::parse("rElAtIoNsHiPs"),
            Some(Section::Relationships)
        );
        assert_eq!(Section::parse("Relationship"), None);
    }

    #[test]
    fn byte_order_marks_whitespace_crlf_and_blank_lines_are_tolerated() {
        let text = "\u{feff}{\"Section\": \"Header\"}\r\n\r\n   \r\n\t{\"fileVersion\": \"1.0.0\"}  \r\n{\"Section\": \"Twins\"}\r\n\u{feff}{\"$dtId\": \"a\", \"$metadata\": {\"$model\": \"dtmi:a;1\"}}\r\n";
        let f = parse(text).unwrap();
        assert_eq!(f.twins[0].line, 6, "blank lines still count");
        assert_eq!(f.twins[0].id, "a");
    }

    #[test]
    fn a_file_without_a_header_is_an_error() {
        assert_eq!(problems(""), [(1, ProblemKind::NoSections)]);
        assert_eq!(problems("\n  \n\u{feff}\n"), [(1, ProblemKind::NoSections)]);
        assert_eq!(problems("{\"a\": 1}\n"), [(1, ProblemKind::BeforeHeader)]);
        assert_eq!(
            problems("[1]\n{\"Section\": \"Header\"}\n"),
            [(1, ProblemKind::BeforeHeader)]
        );
        assert_eq!(
            problems("{\"Section\": \"Models\"}\n{\"@id\": \"dtmi:a;1\"}\n"),
            [(1, ProblemKind::HeaderNotFirst(Section::Models))]
        );
        let message = parse("{\"Section\": \"Twins\"}\n").unwrap_err()[0].to_string();
        assert!(message.starts_with("line 1: "), "{message}");
        assert!(message.contains(r#"{"Section": "Header"}"#), "{message}");
    }

    #[test]
    fn sections_come_in_order_and_once() {
        assert_eq!(
            problems(
                "{\"Section\": \"Header\"}\n{\"Section\": \"Twins\"}\n{\"Section\": \"Models\"}\n"
            ),
            [(3, ProblemKind::OutOfOrder(Section::Models))]
        );
        assert_eq!(
            problems(
                "{\"Section\": \"Header\"}\n{\"Section\": \"Twins\"}\n{\"Section\": \"twins\"}\n"
            ),
            [(3, ProblemKind::OutOfOrder(Section::Twins))]
        );
        assert_eq!(
            problems("{\"Section\": \"Header\"}\n{\"Section\": \"Header\"}\n"),
            [(2, ProblemKind::OutOfOrder(Section::Header))]
        );
        let message = parse(
            "{\"Section\": \"Header\"}\n{\"Section\": \"Twins\"}\n{\"Section\": \"Models\"}\n",
        )
        .unwrap_err()[0]
            .to_string();
        assert!(
            message.contains("section Models is out of order"),
            "{message}"
        );
        // After Relationships, a late Twins is still out of order.
        assert_eq!(
            problems(
                "{\"Section\": \"Header\"}\n{\"Section\": \"Relationships\"}\n{\"Section\": \"Models\"}\n{\"Section\": \"Twins\"}\n"
            ),
            [
                (3, ProblemKind::OutOfOrder(Section::Models)),
                (4, ProblemKind::OutOfOrder(Section::Twins))
            ]
        );
    }

    #[test]
    fn unknown_sections_are_reported_and_their_lines_skipped() {
        assert_eq!(
            problems(
                "{\"Section\": \"Header\"}\n{\"Section\": \"Twinz\"}\n{\"whatever\": 1}\n[2]\n{\"Section\": \"Twins\"}\n"
            ),
            [(2, ProblemKind::UnknownSection("\"Twinz\"".into()))]
        );
        // A marker whose value is not a string names no section.
        assert_eq!(
            problems("{\"Section\": \"Header\"}\n{\"Section\": 3}\n"),
            [(2, ProblemKind::UnknownSection("3".into()))]
        );
        // An object with more keys than `Section` is not a marker.
        let f = parse("{\"Section\": \"Header\"}\n{\"Section\": \"Twins\", \"author\": \"a\"}\n")
            .unwrap();
        assert_eq!(f, ImportFile::default());
    }

    #[test]
    fn lines_are_json_objects() {
        let text = "{\"Section\": \"Header\"}\n\"header\"\n{\"Section\": \"Models\"}\n[{\"@id\": \"dtmi:a;1\"}]\n{\"Section\": \"Twins\"}\n42\n{\"Section\": \"Relationships\"}\nnull\n{oops\n";
        let got = problems(text);
        assert_eq!(
            got[..4],
            [
                (2, ProblemKind::NotAnObject(Section::Header)),
                (4, ProblemKind::NotAnObject(Section::Models)),
                (6, ProblemKind::NotAnObject(Section::Twins)),
                (8, ProblemKind::NotAnObject(Section::Relationships)),
            ]
        );
        assert_eq!(got[4].0, 9);
        assert!(
            matches!(&got[4].1, ProblemKind::NotJson(e) if e.contains("line 1")),
            "{:?}",
            got[4]
        );
        assert!(got[4].1.to_string().starts_with("not valid JSON: "));
    }

    #[test]
    fn items_need_their_fields() {
        let text = r#"{"Section": "Header"}
{}
{"Section": "Models"}
{"@type": "Interface"}
{"@id": 5}
{"Section": "Twins"}
{"$dtId": "a"}
{"$metadata": {"$model": "dtmi:a;1"}}
{"$dtId": "", "$metadata": {"$model": "dtmi:a;1"}}
{"$dtId": "a", "$metadata": {"$model": 1}}
{"$dtId": 7, "$metadata": "x"}
{"Section": "Relationships"}
{"$relationshipId": "r", "$targetId": "b", "$relationshipName": "x"}
{"$dtId": "a", "$relationshipId": "", "$targetId": "b", "$relationshipName": "x"}
{"$dtId": "a", "$relationshipId": "r", "$targetId": 3}
{"$sourceId": "a", "$relationshipId": "r", "$targetId": "b", "$relationshipName": "x"}
"#;
        use ProblemKind::*;
        assert_eq!(
            problems(text),
            [
                (4, ModelWithoutId),
                (5, ModelWithoutId),
                (7, TwinMissing(vec!["$metadata.$model"])),
                (8, TwinMissing(vec!["$dtId"])),
                (9, TwinMissing(vec!["$dtId"])),
                (10, TwinMissing(vec!["$metadata.$model"])),
                (11, TwinMissing(vec!["$dtId", "$metadata.$model"])),
                (13, RelationshipMissing(vec!["$dtId"])),
                (14, RelationshipMissing(vec!["$relationshipId"])),
                (
                    15,
                    RelationshipMissing(vec!["$targetId", "$relationshipName"])
                ),
                (16, RelationshipMissing(vec!["$dtId"])),
            ]
        );
        assert_eq!(
            TwinMissing(vec!["$dtId", "$metadata.$model"]).to_string(),
            "a twin needs `$dtId` and `$metadata.$model`"
        );
        assert_eq!(
            RelationshipMissing(vec!["$dtId", "$targetId", "$relationshipName"]).to_string(),
            "a relationship needs `$dtId`, `$targetId` and `$relationshipName`"
        );
    }

    #[test]
    fn every_problem_comes_with_its_line() {
        // The file starts with the wrong section, has a bad line, a twin
        // without a model, sections out of order and an unknown one.
        let bad = "{\"Section\": \"Twins\"}\nnot json\n{\"$dtId\": \"a\"}\n{\"Section\": \"Models\"}\n{\"Section\": \"Nope\"}\n";
        let got = problems(bad);
        let lines: Vec<usize> = got.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5]);
        assert_eq!(got[0].1, ProblemKind::HeaderNotFirst(Section::Twins));
        assert!(matches!(got[1].1, ProblemKind::NotJson(_)));
        assert_eq!(got[2].1, ProblemKind::TwinMissing(vec!["$metadata.$model"]));
        assert_eq!(got[3].1, ProblemKind::OutOfOrder(Section::Models));
        assert_eq!(got[4].1, ProblemKind::UnknownSection("\"Nope\"".into()));
        // Good lines among bad ones do not hide them, and nothing is returned.
        let mixed = format!("{GOOD}{{\"$dtId\": \"a\"}}\n");
        assert_eq!(
            problems(&mixed),
            [(
                12,
                ProblemKind::RelationshipMissing(vec![
                    "$relationshipId",
                    "$targetId",
                    "$relationshipName"
                ])
            )]
        );
    }
}
