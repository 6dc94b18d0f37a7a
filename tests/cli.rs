//! The `az dt`-like client end to end against a real `twinscape serve` with
//! authentication on: models from the demo building, twins, relationships,
//! queries over several pages, ndjson import, `--output json`, and errors.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

#[path = "harness/mod.rs"]
mod harness;

use harness::Server;
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use twinscape_demo::twins as demo;

fn demo_models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../demo/models")
}

/// `twinscape ARGS…` against `s` with `token`; (exit code, stdout, stderr).
fn run(s: &Server, token: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_twinscape"));
    cmd.args(args)
        .env("TWINSCAPE_ENDPOINT", s.url(""))
        .env("RUST_LOG", "error")
        .env_remove("TWINSCAPE_TOKEN");
    if let Some(t) = token {
        cmd.env("TWINSCAPE_TOKEN", t);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs and expects success; returns stdout.
fn ok(s: &Server, token: &str, args: &[&str]) -> String {
    let (code, out, err) = run(s, Some(token), args);
    assert_eq!(code, 0, "twinscape {args:?}\nstdout: {out}\nstderr: {err}");
    out
}

/// Runs with `--output json` and parses stdout.
fn json_of(s: &Server, token: &str, args: &[&str]) -> Json {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let out = ok(s, token, &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

/// Runs and expects failure; returns stderr.
fn fails(s: &Server, token: Option<&str>, args: &[&str]) -> String {
    let (code, out, err) = run(s, token, args);
    assert_ne!(code, 0, "twinscape {args:?} should fail\nstdout: {out}");
    err
}

#[test]
fn models_twins_relationships_and_queries_end_to_end() {
    let s = Server::start_with_auth("local");
    let owner = s.token("owner");
    let models = demo_models_dir();
    let models = models.to_str().unwrap();

    // Models.
    let out = ok(&s, &owner, &["model", "create", models]);
    assert!(out.contains("Created 8 model(s)."), "{out}");
    assert!(out.contains(demo::ROOM), "{out}");
    let again = fails(&s, Some(&owner), &["model", "create", models]);
    assert!(again.contains("409 ModelIdAlreadyExists"), "{again}");
    let out = ok(&s, &owner, &["model", "list"]);
    assert!(out.lines().next().unwrap().starts_with("ID"), "{out}");
    assert!(out.contains("8 model(s)."), "{out}");
    let list = json_of(&s, &owner, &["model", "list"]);
    let ids: Vec<&str> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 8);
    assert!(ids.contains(&demo::FLOOR));
    let with_defs = json_of(&s, &owner, &["model", "list", "--definition"]);
    assert!(with_defs["value"][0]["model"].is_object(), "{with_defs}");
    let room = json_of(&s, &owner, &["model", "show", demo::ROOM, "--definition"]);
    assert_eq!(room["id"], demo::ROOM);
    assert_eq!(room["model"]["@id"], demo::ROOM);
    let out = ok(&s, &owner, &["model", "show", demo::ROOM]);
    assert!(out.contains("Display name:   Room"), "{out}");

    // Twins: one building, two floors, six rooms.
    let out = ok(
        &s,
        &owner,
        &[
            "twin",
            "create",
            "hq",
            "--model",
            demo::BUILDING,
            "--properties",
            r#"{"name": "HQ"}"#,
        ],
    );
    let hq: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(hq["$dtId"], "hq");
    for f in 1..=2 {
        let props = json!({"name": format!("Floor {f}"), "level": f}).to_string();
        let id = format!("floor{f}");
        let t = json_of(
            &s,
            &owner,
            &["twin", "create", &id, "-m", demo::FLOOR, "-p", &props],
        );
        assert_eq!(t["level"], f);
        ok(
            &s,
            &owner,
            &[
                "relationship",
                "create",
                "hq",
                &format!("hq-{id}"),
                "--name",
                "hasFloor",
                "--target",
                &id,
            ],
        );
        for r in 1..=3 {
            let room_id = format!("room{f}{r}");
            let file = s.data_dir.path().join(format!("{room_id}.json"));
            std::fs::write(
                &file,
                json!({"$metadata": {"$model": demo::ROOM}, "name": room_id,
                       "temperature": 20 + r, "thermostat": {"$metadata": {}}})
                .to_string(),
            )
            .unwrap();
            ok(
                &s,
                &owner,
                &["twin", "create", &room_id, "--file", file.to_str().unwrap()],
            );
            let rel = json_of(
                &s,
                &owner,
                &[
                    "relationship",
                    "create",
                    &id,
                    &format!("{id}-{room_id}"),
                    "-n",
                    "hasRoom",
                    "-t",
                    &room_id,
                ],
            );
            assert_eq!(rel["$sourceId"], id.as_str());
            assert_eq!(rel["$targetId"], room_id.as_str());
        }
    }
    // --output json is the API's JSON, unchanged.
    let shown = json_of(&s, &owner, &["twin", "show", "room11"]);
    let auth = format!("Bearer {owner}");
    let api = s.api(
        "GET",
        "/digitaltwins/room11",
        None,
        &[("Authorization", &auth)],
    );
    assert_eq!(shown, api.json());
    assert_eq!(shown["temperature"], 21);

    // Update with a JSON Patch (an array, or one operation).
    let out = ok(
        &s,
        &owner,
        &[
            "twin",
            "update",
            "room11",
            "--json-patch",
            r#"[{"op": "replace", "path": "/temperature", "value": 25.5}]"#,
        ],
    );
    assert!(out.starts_with("Updated twin room11"), "{out}");
    ok(
        &s,
        &owner,
        &[
            "twin",
            "update",
            "room12",
            "--json-patch",
            r#"{"op": "add", "path": "/occupancy", "value": 3}"#,
        ],
    );
    assert_eq!(
        json_of(&s, &owner, &["twin", "show", "room11"])["temperature"],
        25.5
    );
    assert_eq!(
        json_of(&s, &owner, &["twin", "show", "room12"])["occupancy"],
        3
    );

    // Relationships.
    let out = ok(&s, &owner, &["relationship", "list", "floor1"]);
    assert!(out.contains("3 relationship(s)."), "{out}");
    assert!(out.contains("floor1-room12"), "{out}");
    let rels = json_of(
        &s,
        &owner,
        &["relationship", "list", "hq", "--name", "hasFloor"],
    );
    assert_eq!(rels["value"].as_array().unwrap().len(), 2);
    let incoming = json_of(
        &s,
        &owner,
        &["relationship", "list", "room21", "--incoming"],
    );
    assert_eq!(incoming["value"][0]["$sourceId"], "floor2");
    let one = json_of(&s, &owner, &["relationship", "show", "hq", "hq-floor1"]);
    assert_eq!(one["$relationshipName"], "hasFloor");

    // Queries: a table, and every page followed.
    let out = ok(
        &s,
        &owner,
        &["query", "SELECT * FROM DIGITALTWINS", "--page-size", "2"],
    );
    assert!(out.contains("9 result(s) in "), "{out}");
    let header = out.lines().next().unwrap();
    assert!(
        header.starts_with("$dtId") && header.contains("$model"),
        "{out}"
    );
    let paged = json_of(
        &s,
        &owner,
        &["query", "SELECT * FROM DIGITALTWINS", "--page-size", "2"],
    );
    let mut ids: Vec<&str> = paged["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["$dtId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 9, "every twin once: {paged}");
    let pages: usize = out
        .split(" result(s) in ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(pages >= 5, "{out}");
    let joined = json_of(
        &s,
        &owner,
        &[
            "query",
            "SELECT F, R FROM DIGITALTWINS F JOIN R RELATED F.hasRoom WHERE F.$dtId = 'floor2'",
        ],
    );
    assert_eq!(joined["value"].as_array().unwrap().len(), 3);
    let out = ok(
        &s,
        &owner,
        &[
            "query",
            "SELECT T.$dtId, T.temperature FROM DIGITALTWINS T WHERE T.temperature > 22.5",
        ],
    );
    assert!(
        out.contains("room11") && out.contains("room13") && !out.contains("room12"),
        "{out}"
    );
    let limited = json_of(
        &s,
        &owner,
        &[
            "query",
            "SELECT * FROM DIGITALTWINS",
            "--page-size",
            "2",
            "--max-items",
            "3",
        ],
    );
    assert_eq!(limited["value"].as_array().unwrap().len(), 3);
    let bad = fails(&s, Some(&owner), &["query", "SELEKT nothing"]);
    assert!(bad.contains("400 SqlQueryError"), "{bad}");

    // Deletes, in the order ADT requires.
    let err = fails(&s, Some(&owner), &["twin", "delete", "room11"]);
    assert!(err.contains("RelationshipsNotDeleted"), "{err}");
    let out = ok(
        &s,
        &owner,
        &["relationship", "delete", "floor1", "floor1-room11"],
    );
    assert!(out.contains("Deleted relationship"), "{out}");
    let (_, out, _) = run(
        &s,
        Some(&owner),
        &["twin", "delete", "room11", "-o", "json"],
    );
    assert_eq!(out, "", "a 204 has no JSON to print");
    let err = fails(&s, Some(&owner), &["twin", "show", "room11"]);
    assert!(err.contains("404 DigitalTwinNotFound"), "{err}");

    // Model lifecycle.
    ok(&s, &owner, &["model", "decommission", demo::CHILLER]);
    assert_eq!(
        json_of(&s, &owner, &["model", "show", demo::CHILLER])["decommissioned"],
        true
    );
    let err = fails(&s, Some(&owner), &["model", "delete", demo::EQUIPMENT]);
    assert!(err.contains("409 ModelReferencesNotDeleted"), "{err}");
    let out = ok(&s, &owner, &["model", "delete", demo::CHILLER]);
    assert!(out.contains("Deleted model"), "{out}");
}

#[test]
fn errors_tokens_and_roles() {
    let s = Server::start_with_auth("local");
    let reader = s.token("reader");
    let models = demo_models_dir();
    let models = models.to_str().unwrap();
    let err = fails(&s, None, &["model", "list"]);
    assert!(err.contains("401 Unauthorized"), "{err}");
    let err = fails(&s, Some("not-a-token"), &["model", "list"]);
    assert!(err.contains("401 Unauthorized"), "{err}");
    let err = fails(&s, Some(&reader), &["model", "create", models]);
    assert!(err.contains("403 Forbidden"), "{err}");
    ok(&s, &reader, &["model", "list"]);
    ok(&s, &reader, &["query", "SELECT * FROM DIGITALTWINS"]);
    // --token beats the environment.
    let owner = s.token("owner");
    let out = ok(&s, &reader, &["model", "create", models, "--token", &owner]);
    assert!(out.contains("Created 8 model(s)."), "{out}");
    // Bad input is refused before anything is sent.
    let err = fails(
        &s,
        Some(&owner),
        &["twin", "create", "x", "--model", demo::FLOOR, "-p", "{nope"],
    );
    assert!(err.contains("not valid JSON"), "{err}");
    let err = fails(&s, Some(&owner), &["twin", "create", "x"]);
    assert!(err.contains("--model"), "{err}");
    let err = fails(
        &s,
        Some(&owner),
        &["twin", "update", "x", "--json-patch", "3"],
    );
    assert!(err.contains("--json-patch"), "{err}");
    // Nobody there.
    let (code, _, err) = {
        let out = Command::new(env!("CARGO_BIN_EXE_twinscape"))
            .args([
                "model",
                "list",
                "--endpoint",
                &format!("http://127.0.0.1:{}", harness::free_port()),
            ])
            .output()
            .unwrap();
        (
            out.status.code(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(1));
    assert!(err.contains("cannot reach"), "{err}");
    // The local validator still works, and needs no server.
    let out = Command::new(env!("CARGO_BIN_EXE_twinscape"))
        .args(["model", "validate", models])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("8 model(s) in 8 file(s) are valid"));
}

/// The demo building as an import file: header, models, twins, relationships.
fn demo_ndjson(extra_twins: &[Json], extra_relationships: &[Json]) -> (String, usize, usize) {
    let mut lines = vec![
        json!({"Section": "Header"}),
        json!({"fileVersion": "1.0.0", "author": "twinscape tests", "organization": "twinscape"}),
        json!({"Section": "Models"}),
    ];
    // Reversed: the importer orders dependencies itself.
    lines.extend(demo::models().into_iter().rev());
    lines.push(json!({"Section": "Twins"}));
    let twins = demo::twins();
    let n_twins = twins.len() + extra_twins.len();
    for t in twins {
        let mut doc = t.doc;
        doc["$dtId"] = json!(t.id);
        lines.push(doc);
    }
    lines.extend(extra_twins.iter().cloned());
    lines.push(json!({"Section": "Relationships"}));
    let rels = demo::relationships();
    let n_rels = rels.len() + extra_relationships.len();
    for r in rels {
        let mut doc = r.doc;
        doc["$dtId"] = json!(r.source);
        doc["$relationshipId"] = json!(r.id);
        lines.push(doc);
    }
    lines.extend(extra_relationships.iter().cloned());
    let text = lines
        .iter()
        .map(Json::to_string)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    (text, n_twins, n_rels)
}

#[test]
fn import_ndjson_reports_each_failure_and_the_totals() {
    let s = Server::start_with_auth("local");
    let owner = s.token("owner");
    let bad_twin = json!({"$dtId": "ghost", "$metadata": {"$model": "dtmi:nowhere:Missing;1"}});
    let bad_rel = json!({"$dtId": "TwinscapeHQ", "$relationshipId": "dangling", "$targetId": "nobody",
                         "$relationshipName": "hasFloor"});
    let (text, n_twins, n_rels) = demo_ndjson(&[bad_twin], &[bad_rel]);
    let file = s.data_dir.path().join("demo.ndjson");
    std::fs::write(&file, &text).unwrap();
    let path = file.to_str().unwrap();
    let (code, out, err) = run(&s, Some(&owner), &["import", path, "--concurrency", "4"]);
    assert_eq!(code, 1, "a failed line fails the command\n{out}\n{err}");
    // Progress (a bar on a terminal; here, the announcement) and the summary.
    assert!(
        err.contains(&format!("Importing {path}: 8 model(s)")),
        "{err}"
    );
    assert!(
        out.contains("models:        8 created, 0 already there, 0 failed"),
        "{out}"
    );
    assert!(
        out.contains(&format!("twins:         {} created, 1 failed", n_twins - 1)),
        "{out}"
    );
    assert!(
        out.contains(&format!("relationships: {} created, 1 failed", n_rels - 1)),
        "{out}"
    );
    // Each failure names its line.
    let ghost_line = text.lines().position(|l| l.contains("ghost")).unwrap() + 1;
    let dangling_line = text.lines().position(|l| l.contains("dangling")).unwrap() + 1;
    assert!(
        err.contains(&format!("{path}:{ghost_line}: twin ghost: 400")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{path}:{dangling_line}: relationship TwinscapeHQ/dangling: 404 TargetDigitalTwinNotFound")),
        "{err}"
    );
    assert!(
        err.contains(&format!("2 of {} item(s) failed", 8 + n_twins + n_rels)),
        "{err}"
    );
    let count = json_of(&s, &owner, &["query", "SELECT COUNT() FROM DIGITALTWINS"]);
    assert_eq!(count["value"][0]["COUNT"], json!(n_twins - 1));

    // Again, clean, as JSON: the models are there already, twins and
    // relationships are replaced.
    let (text, n_twins, n_rels) = demo_ndjson(&[], &[]);
    std::fs::write(&file, &text).unwrap();
    let report = json_of(&s, &owner, &["import", path]);
    assert_eq!(
        report["models"],
        json!({"total": 8, "created": 0, "existing": 8, "failed": 0})
    );
    assert_eq!(
        report["twins"],
        json!({"total": n_twins, "created": n_twins, "failed": 0})
    );
    assert_eq!(
        report["relationships"],
        json!({"total": n_rels, "created": n_rels, "failed": 0})
    );
    assert_eq!(report["failures"], json!([]));

    // A malformed file: every problem with its line, nothing sent.
    std::fs::write(
        &file,
        "{\"Section\": \"Header\"}\n{}\n{\"Section\": \"Twins\"}\n{\"$dtId\": \"x\"}\nnot json\n{\"Section\": \"Models\"}\n",
    )
    .unwrap();
    let (code, _, err) = run(&s, Some(&owner), &["import", path]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("{path}:4:")), "{err}");
    assert!(err.contains(&format!("{path}:5: not valid JSON")), "{err}");
    assert!(
        err.contains(&format!("{path}:6: section Models is out of order")),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");

    // A reader's import stops at the first refusal.
    let reader = s.token("reader");
    let (text, _, _) = demo_ndjson(&[], &[]);
    std::fs::write(&file, text).unwrap();
    let (code, _, err) = run(&s, Some(&reader), &["import", path]);
    assert_eq!(code, 1);
    assert!(err.contains("403 Forbidden"), "{err}");
    assert!(err.contains("Stopped"), "{err}");
}

#[test]
fn scenes_import_export_states_and_asset_upload() {
    let s = Server::start_with_auth("local");
    let owner = s.token("owner");
    let reader = s.token("reader");
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scene/tests/data");

    // The demo's models and twins, then its scene as a Scenes Studio file.
    ok(
        &s,
        &owner,
        &["model", "create", demo_models_dir().to_str().unwrap()],
    );
    for t in demo::twins() {
        let body = t.doc.to_string();
        ok(
            &s,
            &owner,
            &[
                "twin",
                "create",
                &t.id,
                "--properties",
                &body,
                "--model",
                t.doc["$metadata"]["$model"].as_str().unwrap(),
            ],
        );
    }
    let scene_file = dir.path().join("demo.json");
    std::fs::write(
        &scene_file,
        serde_json::to_string_pretty(&twinscape_demo::scene::scenes_config()).unwrap(),
    )
    .unwrap();
    let out = run(
        &s,
        Some(&owner),
        &["scene", "import", scene_file.to_str().unwrap()],
    )
    .2;
    assert!(
        out.contains("Imported 1 scene(s), 3 behavior(s) and 2 layer(s)"),
        "{out}"
    );
    // Scenes Studio's own sample merges in beside it, ids kept.
    let sample = data.join("3DScenesConfiguration.json");
    ok(&s, &owner, &["scene", "import", sample.to_str().unwrap()]);
    let list = json_of(&s, &reader, &["scene", "list"]);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], twinscape_demo::scene::SCENE_ID);
    assert!(ids.contains(&"f7053e7537048e03be4d1e6f8f93aa8a"), "{ids:?}");

    // Export: the server's configuration, both files' contents in it.
    let exported = dir.path().join("out.json");
    ok(
        &s,
        &reader,
        &["scene", "export", exported.to_str().unwrap()],
    );
    let back: Json = serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    assert_eq!(
        back["configuration"]["scenes"].as_array().unwrap().len(),
        ids.len()
    );

    // States: exactly the documented keys, a rule per (element, behavior, visual).
    let states = json_of(
        &s,
        &reader,
        &["scene", "states", twinscape_demo::scene::SCENE_ID],
    );
    let states = states.as_array().unwrap();
    let keys = [
        "scene", "element", "twin", "behavior", "visual", "value", "range", "color", "icon",
        "label",
    ];
    for st in states {
        let got: Vec<&str> = st.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(got, keys);
    }
    let ahu2 = states
        .iter()
        .find(|st| st["element"] == "Roof_AHU2" && st["behavior"] == "equipment-status")
        .unwrap();
    let status = demo::twins()
        .into_iter()
        .find(|t| t.id == "Roof_AHU2")
        .unwrap()
        .doc["status"]
        .clone();
    assert_eq!(ahu2["value"], status);
    let only = json_of(
        &s,
        &reader,
        &[
            "scene",
            "states",
            twinscape_demo::scene::SCENE_ID,
            "--layers",
            "equipment",
        ],
    );
    assert!(
        only.as_array()
            .unwrap()
            .iter()
            .all(|st| st["behavior"] == "equipment-status")
    );
    assert!(!only.as_array().unwrap().is_empty());

    // A broken file is refused before anything is sent, every problem listed.
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, r#"{"$schema": "x", "configuration": {"scenes": [{"id": 1}], "behaviors": [], "layers": []}}"#).unwrap();
    let err = fails(
        &s,
        Some(&owner),
        &["scene", "import", broken.to_str().unwrap()],
    );
    assert!(err.contains("/configuration/scenes/0/id"), "{err}");
    assert!(
        err.contains("/configuration/scenes/0: missing required property 'displayName'"),
        "{err}"
    );

    // Assets: upload, list; readers cannot upload.
    let glb = dir.path().join("tower.glb");
    std::fs::write(&glb, twinscape_demo::building_glb()).unwrap();
    let err = fails(
        &s,
        Some(&reader),
        &["asset", "upload", glb.to_str().unwrap()],
    );
    assert!(err.contains("403"), "{err}");
    ok(&s, &owner, &["asset", "upload", glb.to_str().unwrap()]);
    let assets = json_of(&s, &reader, &["asset", "list"]);
    assert!(
        assets
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["url"] == "/3d/tower.glb"),
        "{assets}"
    );
}
