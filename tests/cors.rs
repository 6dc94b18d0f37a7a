//! Cross-origin access (`serve --cors-origin URL`): the API and the live
//! feed answer pages of the allowed origins only, the app's files any page,
//! and the iframe pages may be framed by the allowed origins only. Real
//! server processes, raw HTTP.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

#[path = "harness/mod.rs"]
mod harness;

use harness::Server;
use std::io::{Read, Write};
use std::time::Duration;

const PAGE: &str = "http://page.example:3000";
const OTHER: &str = "http://evil.example";

/// A server with local auth, a tiny web dir, and `--cors-origin PAGE`
/// (or none).
fn start(allow: bool) -> Server {
    let data = tempfile::tempdir().unwrap();
    let web = data.path().join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(web.join("app.js"), "export const x = 1;").unwrap();
    let web = web.to_string_lossy().into_owned();
    let mut args = vec!["--auth", "local", "--web-dir", &web];
    if allow {
        args.extend(["--cors-origin", "http://PAGE.example:3000/"]);
    }
    Server::start_with_args(data, &args)
}

fn preflight(s: &Server, origin: &str, method: &str, path: &str) -> harness::http::Response {
    s.request(
        "OPTIONS",
        path,
        &[
            ("Origin", origin),
            ("Access-Control-Request-Method", method),
            (
                "Access-Control-Request-Headers",
                "authorization,content-type,if-match",
            ),
        ],
        b"",
    )
}

/// The status of a WebSocket upgrade of the live feed from `origin`.
fn live_upgrade(s: &Server, origin: Option<&str>) -> (u16, String) {
    let mut req = format!(
        "GET /live HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
        s.addr
    );
    if let Some(o) = origin {
        req.push_str(&format!("Origin: {o}\r\n"));
    }
    req.push_str("\r\n");
    let mut tcp = std::net::TcpStream::connect(s.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut want = None;
    loop {
        if want.is_none()
            && let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n")
        {
            // The head, and for an error its body.
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            want = Some(end + 4 + len);
        }
        if want.is_some_and(|w| buf.len() >= w) {
            break;
        }
        let n = tcp.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn the_api_answers_allowed_origins_only_and_the_apps_files_any() {
    let s = start(true);
    let token = format!("Bearer {}", s.token("reader"));

    // A preflight for a PATCH with a token and an If-Match.
    let r = preflight(
        &s,
        PAGE,
        "PATCH",
        "/digitaltwins/room1?api-version=2023-10-31",
    );
    assert!(r.status == 200 || r.status == 204, "{}", r.status);
    assert_eq!(r.header("access-control-allow-origin"), Some(PAGE));
    let methods = r
        .header("access-control-allow-methods")
        .unwrap()
        .to_ascii_uppercase();
    assert!(
        methods.contains("PATCH") && methods.contains("PUT"),
        "{methods}"
    );
    let headers = r
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("if-match"),
        "{headers}"
    );
    assert!(r.header("access-control-allow-credentials").is_none());

    // Another origin gets no permission, for a preflight or a request.
    let r = preflight(
        &s,
        OTHER,
        "PATCH",
        "/digitaltwins/room1?api-version=2023-10-31",
    );
    assert!(r.header("access-control-allow-origin").is_none());
    let r = s.api(
        "GET",
        "/models",
        None,
        &[("Origin", OTHER), ("Authorization", &token)],
    );
    assert_eq!(
        r.status, 200,
        "the server answers; the browser withholds it"
    );
    assert!(r.header("access-control-allow-origin").is_none());

    // The allowed page reads answers, errors included, and their ETags.
    let r = s.api(
        "GET",
        "/models",
        None,
        &[("Origin", PAGE), ("Authorization", &token)],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some(PAGE));
    assert!(
        r.header("vary")
            .unwrap()
            .to_ascii_lowercase()
            .contains("origin")
    );
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("etag") && exposed.contains("operation-location"),
        "{exposed}"
    );
    let r = s.api("GET", "/models", None, &[("Origin", PAGE)]);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("access-control-allow-origin"), Some(PAGE));
    r.assert_adt_error(401, "Unauthorized");
    let r = s.api(
        "GET",
        "/scenes",
        None,
        &[("Origin", OTHER), ("Authorization", &token)],
    );
    assert!(r.header("access-control-allow-origin").is_none());
    let r = s.api(
        "GET",
        "/scenes",
        None,
        &[("Origin", PAGE), ("Authorization", &token)],
    );
    assert_eq!(r.header("access-control-allow-origin"), Some(PAGE));

    // The app's files load in any page (the component must start to say
    // that the API refused it).
    let r = s.request("GET", "/app.js", &[("Origin", OTHER)], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some(OTHER));
}

#[test]
fn no_origin_is_allowed_by_default() {
    let s = start(false);
    let r = preflight(&s, PAGE, "GET", "/models?api-version=2023-10-31");
    assert!(r.header("access-control-allow-origin").is_none());
    let r = s.api("GET", "/models", None, &[("Origin", PAGE)]);
    assert!(r.header("access-control-allow-origin").is_none());
    let (status, text) = live_upgrade(&s, Some(PAGE));
    assert_eq!(status, 403, "{text}");
    assert!(
        text.contains("--cors-origin http://page.example:3000"),
        "{text}"
    );
    assert!(text.contains("\"code\":\"Forbidden\""), "{text}");
    let r = s.get("/embed/scenes/demo");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-security-policy"),
        Some("frame-ancestors 'self'")
    );
}

#[test]
fn the_live_feed_refuses_pages_of_other_origins() {
    let s = start(true);
    assert_eq!(live_upgrade(&s, Some(PAGE)).0, 101);
    assert_eq!(
        live_upgrade(&s, None).0,
        101,
        "no Origin: not a browser page"
    );
    let own = format!("http://{}", s.addr);
    assert_eq!(live_upgrade(&s, Some(&own)).0, 101, "the app's own pages");
    let (status, text) = live_upgrade(&s, Some(OTHER));
    assert_eq!(status, 403, "{text}");
    let r = s.get("/embed/scenes/demo?token=secret");
    assert_eq!(
        r.header("content-security-policy"),
        Some("frame-ancestors 'self' http://page.example:3000")
    );
}

#[test]
fn a_value_that_is_not_an_origin_stops_the_server_with_its_reason() {
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_twinscape"))
        .args(["serve", "--listen", "127.0.0.1:0", "--auth", "none"])
        .arg("--data-dir")
        .arg(data.path())
        .args(["--cors-origin", "https://example.com/app"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"https://example.com/app\" is not an origin"),
        "{err}"
    );
}

#[test]
fn tokens_never_reach_the_log() {
    let data = tempfile::tempdir().unwrap();
    let web = data.path().join("web");
    std::fs::create_dir_all(&web).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_twinscape"))
        .args(["serve", "--listen", "127.0.0.1:0", "--auth", "local"])
        .arg("--data-dir")
        .arg(data.path())
        .arg("--web-dir")
        .arg(&web)
        .args(["--cors-origin", PAGE])
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let (_, addr) = harness::parse_listening_line(line.trim()).unwrap();
    let token = harness::mint_token(data.path(), "reader");
    let bad = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    let send = |path: &str, auth: &str| {
        harness::http::send_once(
            addr,
            &harness::http::request_bytes(
                "GET",
                path,
                &addr.to_string(),
                &[
                    ("Connection", "close"),
                    ("Authorization", auth),
                    ("Origin", PAGE),
                ],
                b"",
            ),
        )
    };
    assert_eq!(
        send("/models?api-version=2023-10-31", &format!("Bearer {token}")).status,
        200
    );
    assert_eq!(
        send("/models?api-version=2023-10-31", &format!("Bearer {bad}")).status,
        401
    );
    assert_eq!(
        send(&format!("/embed/scenes/s?token={token}"), "").status,
        200
    );
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("store opened"), "the log was read: {log}");
    for secret in [token.as_str(), bad, &token[token.len() - 20..]] {
        assert!(!log.contains(secret), "a token in the log:\n{log}");
    }
}
