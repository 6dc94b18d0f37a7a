//! The HTTP surface of `twinscape serve`, over real sockets: health, the demo
//! model, the app's routes, and JSON errors (never a panic) for bad requests.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

#[path = "harness/mod.rs"]
mod harness;

use harness::Server;

#[test]
fn healthz_answers_ok() {
    let server = Server::start(None);
    let r = server.get("/healthz");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn serves_the_generated_demo_building() {
    let server = Server::start(None);
    let r = server.get("/3d/demo-building.glb");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("model/gltf-binary"));
    assert_eq!(&r.body[..4], b"glTF");
    assert_eq!(r.body, twinscape_demo::building_glb());
}

#[test]
fn serves_uploaded_3d_files_from_the_data_dir_and_nothing_outside_it() {
    let server = Server::start(None);
    let dir = server.data_dir.path().join("3d");
    std::fs::write(dir.join("floor.glb"), b"glTF-fake").unwrap();
    std::fs::write(server.data_dir.path().join("secret.txt"), b"do not serve").unwrap();
    let r = server.get("/3d/floor.glb");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"glTF-fake");
    for path in [
        "/3d/..%2Fsecret.txt",
        "/3d/%2e%2e%2fsecret.txt",
        "/3d/../secret.txt",
        "/3d/.hidden",
        "/3d/missing.glb",
    ] {
        let r = server.get(path);
        assert!(!r.text().contains("do not serve"), "{path} leaked a file");
        // `AssetNotFound` where the path names a file, `NotFound` where it
        // names no route at all.
        let code = r.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            code == "AssetNotFound" || code == "NotFound",
            "{path}: {}",
            r.text()
        );
        r.assert_adt_error(404, &code);
    }
}

#[test]
fn unknown_paths_get_json_404_in_adt_shape() {
    let server = Server::start(None);
    let msg = server
        .get("/no/such/thing")
        .assert_adt_error(404, "NotFound");
    assert!(msg.contains("/no/such/thing"), "{msg}");
    server.get("/%ff%fe%00").assert_adt_error(404, "NotFound");
    let long = format!("/{}", "a".repeat(8000));
    server.get(&long).assert_adt_error(404, "NotFound");
}

#[test]
fn wrong_methods_get_json_errors() {
    let server = Server::start(None);
    let msg = server
        .request("DELETE", "/healthz", &[], b"")
        .assert_adt_error(405, "MethodNotAllowed");
    assert!(msg.contains("DELETE"), "{msg}");
    server
        .request("POST", "/3d/demo-building.glb", &[], b"x")
        .assert_adt_error(405, "MethodNotAllowed");
    server
        .request("BREW", "/healthz", &[], b"")
        .assert_adt_error(405, "MethodNotAllowed");
    server
        .request("PUT", "/nowhere", &[], b"{}")
        .assert_adt_error(404, "NotFound");
}

#[test]
fn garbage_requests_do_not_take_the_server_down() {
    let mut server = Server::start(None);
    for raw in [
        &b"HELLO\r\n\r\n"[..],
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
    ] {
        let _ = std::panic::catch_unwind(|| server.raw(raw));
    }
    assert!(
        server.is_running(),
        "the server exited on a garbage request"
    );
    assert_eq!(server.get("/healthz").status, 200);
}

#[test]
fn without_a_built_app_the_root_explains_how_to_build_it() {
    let server = Server::start(None);
    let r = server.get("/");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("trunk build"), "{}", r.text());
}

#[test]
fn app_routes_serve_index_html_and_files_serve_themselves() {
    let web = tempfile::tempdir().unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><p>twinscape-index</p>",
    )
    .unwrap();
    std::fs::write(web.path().join("app-123.js"), "console.log('app')").unwrap();
    let server = Server::start(Some(web.path()));
    for route in [
        "/",
        "/scenes",
        "/explorer",
        "/scenes/demo",
        "/explorer/models/x",
    ] {
        let r = server.get(route);
        assert_eq!(r.status, 200, "{route}");
        assert!(
            r.text().contains("twinscape-index"),
            "{route}: {}",
            r.text()
        );
    }
    let js = server.get("/app-123.js");
    assert_eq!(js.status, 200);
    assert_eq!(js.text(), "console.log('app')");
    // Unhashed files and pages are revalidated; hashed ones kept; API
    // answers untouched.
    assert_eq!(js.header("cache-control"), Some("no-cache"));
    assert_eq!(
        server.get("/scenes").header("cache-control"),
        Some("no-cache")
    );
    std::fs::write(web.path().join("app-0123456789abcdef.js"), "1").unwrap();
    assert_eq!(
        server
            .get("/app-0123456789abcdef.js")
            .header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        server
            .api("GET", "/models", None, &[])
            .header("cache-control"),
        None
    );
    server
        .get("/missing-456.js")
        .assert_adt_error(404, "NotFound");
    server
        .request("POST", "/scenes", &[], b"x")
        .assert_adt_error(405, "MethodNotAllowed");
    server
        .request("DELETE", "/app-123.js", &[], b"")
        .assert_adt_error(404, "NotFound");
    assert_eq!(server.get("/healthz").status, 200);
}
