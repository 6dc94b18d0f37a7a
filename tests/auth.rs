//! Authentication, roles and TLS against a real `twinscape serve`: 401 for
//! missing and bad tokens in ADT's error shape, 403 for readers that write,
//! the `twinscape token` command and the key it uses across restarts, OIDC
//! with a fake identity provider (discovery, JWKS, key rotation), `--auth
//! none`'s warnings, and HTTPS with a self-signed or a given certificate.

#![allow(clippy::unwrap_used)] // tests assert by unwrapping

#[path = "harness/mod.rs"]
mod harness;

use harness::{Server, mint_token};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value as Json, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use twinscape_demo::twins as demo;

const AUD: &str = "https://digitaltwins.azure.net";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A data-plane request with a bearer token.
fn call(
    s: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Json>,
) -> harness::Response {
    let auth = bearer(token);
    s.api(method, path, body, &[("Authorization", &auth)])
}

fn assert_unauthorized(r: &harness::Response) {
    r.assert_adt_error(401, "Unauthorized");
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{challenge:?}");
}

/// Signs claims with the server's own local key (as `twinscape token` does).
fn sign_with_server_key(s: &Server, claims: &Json) -> String {
    let pem = std::fs::read(s.data_dir.path().join("auth/local-signing-key.pem")).unwrap();
    let kid = jsonwebtoken::decode_header(s.token("reader")).unwrap().kid;
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = kid;
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_pem(&pem).unwrap()).unwrap()
}

fn claims(role: &str) -> Json {
    json!({"iss": "twinscape-local", "aud": AUD, "sub": "test", "iat": now(),
           "exp": now() + 600, "roles": [role]})
}

#[test]
fn requests_without_a_token_get_401_in_adts_shape() {
    let web = tempfile::tempdir().unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>app</title>",
    )
    .unwrap();
    std::fs::write(web.path().join("app.js"), "// app").unwrap();
    let s = Server::start_with_args(
        tempfile::tempdir().unwrap(),
        &["--auth", "local", "--web-dir", web.path().to_str().unwrap()],
    );
    for (method, path) in [
        ("GET", "/models"),
        ("POST", "/models"),
        ("GET", "/digitaltwins/x"),
        ("PUT", "/digitaltwins/x"),
        ("DELETE", "/digitaltwins/x/relationships/r"),
        ("POST", "/query"),
        ("GET", "/eventroutes"),
        ("GET", "/jobs/imports"),
        // Paths and methods the API does not have: still 401 first.
        ("GET", "/digitaltwins/x/no/such/thing"),
        ("POST", "/digitaltwins/x"),
    ] {
        let r = s.api(method, path, None, &[]);
        assert_unauthorized(&r);
        let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(msg.contains("twinscape token"), "{method} {path}: {msg}");
    }
    // Without api-version too: authentication comes first.
    assert_unauthorized(&s.get("/models"));
    // The health check, the 3D files and the app stay public.
    assert_eq!(s.get("/healthz").status, 200);
    assert_eq!(s.get("/3d/demo-building.glb").status, 200);
    assert_eq!(s.get("/").status, 200);
    assert_eq!(s.get("/scenes").status, 200);
    assert_eq!(s.get("/app.js").status, 200);
    // The default mode is local: the listening line has no warning.
    assert!(!s.listening_line.contains("AUTH"), "{}", s.listening_line);
}

#[test]
fn bad_tokens_get_401() {
    let s = Server::start_with_auth("local");
    let other_dir = tempfile::tempdir().unwrap();
    let foreign = mint_token(other_dir.path(), "owner");
    let expired = sign_with_server_key(
        &s,
        &json!({"iss": "twinscape-local", "aud": AUD, "sub": "t", "iat": now() - 7200,
                "exp": now() - 3600, "roles": ["DigitalTwinsDataOwner"]}),
    );
    let not_yet = sign_with_server_key(
        &s,
        &json!({"iss": "twinscape-local", "aud": AUD, "sub": "t", "nbf": now() + 3600,
                "exp": now() + 7200, "roles": ["DigitalTwinsDataOwner"]}),
    );
    let mut wrong_iss = claims("DigitalTwinsDataOwner");
    wrong_iss["iss"] = json!("someone-else");
    let wrong_iss = sign_with_server_key(&s, &wrong_iss);
    let mut wrong_aud = claims("DigitalTwinsDataOwner");
    wrong_aud["aud"] = json!("https://example.com");
    let wrong_aud = sign_with_server_key(&s, &wrong_aud);
    // Same kid, another key: the signature cannot match.
    let forged = {
        let kid = jsonwebtoken::decode_header(s.token("reader")).unwrap().kid;
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = kid;
        let enc = EncodingKey::from_ed_pem(key.serialize_pem().as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims("DigitalTwinsDataOwner"), &enc).unwrap()
    };
    // A real token with its payload swapped for an owner's.
    let tampered = {
        let reader = s.token("reader");
        let parts: Vec<&str> = reader.split('.').collect();
        let owner = s.token("owner");
        let owner_payload = owner.split('.').nth(1).unwrap();
        format!("{}.{}.{}", parts[0], owner_payload, parts[2])
    };
    let alg_none = {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(claims("DigitalTwinsDataOwner").to_string())
        )
    };
    for (what, token) in [
        ("garbage", "garbage".to_string()),
        ("three garbage parts", "a.b.c".to_string()),
        ("another server's key", foreign),
        ("expired", expired),
        ("not valid yet", not_yet),
        ("wrong issuer", wrong_iss),
        ("wrong audience", wrong_aud),
        ("forged signature", forged),
        ("tampered payload", tampered),
        ("alg none", alg_none),
    ] {
        let r = call(&s, &token, "GET", "/models", None);
        assert_eq!(r.status, 401, "{what}: {}", r.text());
        assert_unauthorized(&r);
        assert!(
            r.header("www-authenticate")
                .unwrap()
                .contains("invalid_token"),
            "{what}"
        );
    }
    let r = s.api(
        "GET",
        "/models",
        None,
        &[("Authorization", "Basic dXNlcjpwdw==")],
    );
    assert_unauthorized(&r);
    let r = s.api("GET", "/models", None, &[("Authorization", "Bearer ")]);
    assert_unauthorized(&r);
    // A well-signed token without a Twinscape role: 403.
    let no_role = sign_with_server_key(&s, &claims("SomethingElse"));
    call(&s, &no_role, "GET", "/models", None).assert_adt_error(403, "Forbidden");
    // The key's own tokens work, and ADT's app id is accepted as audience.
    let mut app_id = claims("DigitalTwinsDataReader");
    app_id["aud"] = json!("0b07f429-9f4b-4714-9392-cc5e8e80c8b0");
    let app_id = sign_with_server_key(&s, &app_id);
    assert_eq!(call(&s, &app_id, "GET", "/models", None).status, 200);
}

#[test]
fn readers_read_and_query_owners_write() {
    let s = Server::start_with_auth("local");
    let owner = s.token("owner");
    let reader = s.token("reader");
    let models = Json::Array(demo::models());
    let r = call(&s, &reader, "POST", "/models", Some(&models));
    r.assert_adt_error(403, "Forbidden");
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("insufficient_scope")
    );
    assert_eq!(
        call(&s, &owner, "POST", "/models", Some(&models)).status,
        201
    );
    let floor = json!({"$metadata": {"$model": demo::FLOOR}, "name": "F1", "level": 1});
    let building = json!({"$metadata": {"$model": demo::BUILDING}, "name": "HQ"});
    assert_eq!(
        call(&s, &owner, "PUT", "/digitaltwins/f1", Some(&floor)).status,
        200
    );
    assert_eq!(
        call(&s, &owner, "PUT", "/digitaltwins/b1", Some(&building)).status,
        200
    );
    let rel = json!({"$targetId": "f1", "$relationshipName": "hasFloor"});
    assert_eq!(
        call(
            &s,
            &owner,
            "PUT",
            "/digitaltwins/b1/relationships/r1",
            Some(&rel)
        )
        .status,
        200
    );
    let etag = call(&s, &reader, "GET", "/digitaltwins/f1", None).json()["$etag"].clone();

    // Reads: GETs and queries.
    for path in [
        "/models",
        "/models/dtmi:twinscape:demo:Floor;1",
        "/digitaltwins/f1",
        "/digitaltwins/b1/relationships",
        "/digitaltwins/b1/relationships/r1",
        "/digitaltwins/f1/incomingrelationships",
        "/eventroutes",
    ] {
        let r = call(&s, &reader, "GET", path, None);
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
    }
    let q = json!({"query": "SELECT * FROM DIGITALTWINS"});
    let r = call(&s, &reader, "POST", "/query", Some(&q));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 2);

    // Writes: all refused, nothing changes.
    let patch = json!([{"op": "replace", "path": "/level", "value": 9}]);
    let decommission = json!([{"op": "replace", "path": "/decommissioned", "value": true}]);
    let route = json!({"endpointName": "e", "filter": "true"});
    for (method, path, body) in [
        ("PUT", "/digitaltwins/f2", Some(&floor)),
        ("PATCH", "/digitaltwins/f1", Some(&patch)),
        ("DELETE", "/digitaltwins/f1", None),
        ("PUT", "/digitaltwins/b1/relationships/r2", Some(&rel)),
        ("DELETE", "/digitaltwins/b1/relationships/r1", None),
        ("POST", "/models", Some(&models)),
        (
            "PATCH",
            "/models/dtmi:twinscape:demo:Floor;1",
            Some(&decommission),
        ),
        ("DELETE", "/models/dtmi:twinscape:demo:Floor;1", None),
        ("POST", "/digitaltwins/f1/telemetry", Some(&json!({"t": 1}))),
        ("PUT", "/eventroutes/r", Some(&route)),
        ("POST", "/jobs/deletions", None),
    ] {
        let r = call(&s, &reader, method, path, body);
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text());
        r.assert_adt_error(403, "Forbidden");
    }
    let after = call(&s, &owner, "GET", "/digitaltwins/f1", None).json();
    assert_eq!(after["$etag"], etag);
    assert_eq!(after["level"], 1);
    assert_eq!(
        call(&s, &owner, "GET", "/digitaltwins/f2", None).status,
        404
    );

    // The owner can do all of it.
    assert_eq!(
        call(&s, &owner, "PATCH", "/digitaltwins/f1", Some(&patch)).status,
        204
    );
    assert_eq!(
        call(
            &s,
            &owner,
            "DELETE",
            "/digitaltwins/b1/relationships/r1",
            None
        )
        .status,
        204
    );
    assert_eq!(
        call(&s, &owner, "DELETE", "/digitaltwins/f1", None).status,
        204
    );
}

#[test]
fn token_command_prints_the_token_last_and_the_key_survives_restarts() {
    let data_dir = tempfile::tempdir().unwrap();
    // Before the first start: the token command creates the key.
    let out = Command::new(env!("CARGO_BIN_EXE_twinscape"))
        .args(["token", "--role", "owner", "--ttl-hours", "2", "--data-dir"])
        .arg(data_dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let early = stdout.lines().last().unwrap().trim().to_string();
    assert_eq!(early.split('.').count(), 3, "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DigitalTwinsDataOwner"), "{stderr}");
    let payload = jsonwebtoken::dangerous::insecure_decode::<Json>(&early)
        .unwrap()
        .claims;
    assert_eq!(payload["iss"], "twinscape-local");
    assert_eq!(payload["aud"], AUD);
    assert_eq!(payload["roles"], json!(["DigitalTwinsDataOwner"]));
    let ttl = payload["exp"].as_u64().unwrap() - payload["iat"].as_u64().unwrap();
    assert_eq!(ttl, 2 * 3600);

    let key_path = data_dir.path().join("auth/local-signing-key.pem");
    let key_before = std::fs::read(&key_path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key is private");
    }

    let s = Server::start_with_args(data_dir, &["--auth", "local"]);
    let models = Json::Array(demo::models());
    assert_eq!(
        call(&s, &early, "POST", "/models", Some(&models)).status,
        201
    );
    let during = s.token("reader");
    assert_eq!(call(&s, &during, "GET", "/models", None).status, 200);

    // Restart on the same data dir: the same key, the old tokens still work.
    let data_dir = s.kill();
    let s = Server::start_with_args(data_dir, &["--auth", "local"]);
    assert_eq!(std::fs::read(&key_path).unwrap(), key_before);
    assert_eq!(call(&s, &early, "GET", "/models", None).status, 200);
    assert_eq!(call(&s, &during, "GET", "/models", None).status, 200);

    // Bad arguments are refused.
    for args in [
        vec!["token", "--role", "admin"],
        vec!["token", "--role", "owner", "--ttl-hours", "0"],
        vec!["token"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_twinscape"))
            .args(&args)
            .arg("--data-dir")
            .arg(s.data_dir.path())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
    }
}

#[test]
fn auth_none_works_without_tokens_and_says_so_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_twinscape"))
        .args([
            "serve",
            "--auth",
            "none",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .arg("--web-dir")
        .arg(dir.path().join("none"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("Twinscape listening on http://"), "{line}");
    assert!(line.contains("AUTH DISABLED"), "{line}");
    let (_, addr) = harness::parse_listening_line(line.trim()).unwrap();
    // Without a token, everything is allowed.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(
        b"GET /models?api-version=2023-10-31 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let warnings = stderr.lines().filter(|l| l.starts_with("WARNING:")).count();
    assert!(warnings >= 4, "{stderr}");
    assert!(stderr.contains("AUTHENTICATION IS OFF"), "{stderr}");
    // The harness's default is --auth none too.
    let s = Server::start(None);
    assert!(s.listening_line.contains("AUTH DISABLED"));
    assert_eq!(s.api("GET", "/models", None, &[]).status, 200);
}

/// A tiny OpenID provider: discovery and a JWKS that a test can swap.
struct FakeIdp {
    issuer: String,
    jwks: Arc<Mutex<Json>>,
    fetches: Arc<Mutex<usize>>,
}

impl FakeIdp {
    fn start() -> FakeIdp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let jwks = Arc::new(Mutex::new(json!({"keys": []})));
        let fetches = Arc::new(Mutex::new(0));
        let (iss, keys, count) = (issuer.clone(), jwks.clone(), fetches.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { break };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                loop {
                    let mut l = String::new();
                    if reader.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                        break;
                    }
                }
                let path = request_line.split_whitespace().nth(1).unwrap_or("");
                let (status, body) = match path {
                    "/.well-known/openid-configuration" => (
                        "200 OK",
                        json!({"issuer": iss, "jwks_uri": format!("{iss}/keys")}).to_string(),
                    ),
                    "/keys" => {
                        *count.lock().unwrap() += 1;
                        ("200 OK", keys.lock().unwrap().to_string())
                    }
                    _ => ("404 Not Found", "{}".to_string()),
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        FakeIdp {
            issuer,
            jwks,
            fetches,
        }
    }
}

/// An ES256 key pair: the signing key and its public JWK.
fn es256_key(kid: &str) -> (EncodingKey, Json) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let raw = pair.public_key_raw(); // 0x04 || X || Y
    assert_eq!(raw.len(), 65);
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
                     "x": b64.encode(&raw[1..33]), "y": b64.encode(&raw[33..])});
    let enc = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
    (enc, jwk)
}

fn es256_token(key: &EncodingKey, kid: &str, claims: &Json) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

#[test]
fn oidc_tokens_are_checked_against_the_providers_keys() {
    let idp = FakeIdp::start();
    let (k1, jwk1) = es256_key("k1");
    let (k2, jwk2) = es256_key("k2");
    *idp.jwks.lock().unwrap() = json!({"keys": [jwk1]});
    let data_dir = tempfile::tempdir().unwrap();
    let s = Server::start_with_args(
        data_dir,
        &[
            "--auth",
            "oidc",
            "--oidc-issuer",
            &idp.issuer,
            "--oidc-audience",
            "api://twinscape",
            "--oidc-role-claim",
            "groups",
            "--oidc-owner-role",
            "twin-admins",
            "--oidc-reader-role",
            "twin-viewers",
        ],
    );
    assert_eq!(*idp.fetches.lock().unwrap(), 1, "keys fetched at start");
    let claims = |groups: Json| {
        json!({"iss": idp.issuer, "aud": "api://twinscape", "sub": "alice", "iat": now(),
               "exp": now() + 600, "groups": groups})
    };
    let reader = es256_token(&k1, "k1", &claims(json!(["staff", "twin-viewers"])));
    let owner = es256_token(&k1, "k1", &claims(json!(["twin-admins"])));
    assert_eq!(call(&s, &reader, "GET", "/models", None).status, 200);
    let models = Json::Array(demo::models());
    call(&s, &reader, "POST", "/models", Some(&models)).assert_adt_error(403, "Forbidden");
    assert_eq!(
        call(&s, &owner, "POST", "/models", Some(&models)).status,
        201
    );
    let none = es256_token(&k1, "k1", &claims(json!(["staff"])));
    call(&s, &none, "GET", "/models", None).assert_adt_error(403, "Forbidden");

    let mut wrong_aud = claims(json!(["twin-admins"]));
    wrong_aud["aud"] = json!(AUD);
    let mut wrong_iss = claims(json!(["twin-admins"]));
    wrong_iss["iss"] = json!("https://other.example");
    let mut expired = claims(json!(["twin-admins"]));
    expired["exp"] = json!(now() - 3600);
    for (what, token) in [
        ("wrong audience", es256_token(&k1, "k1", &wrong_aud)),
        ("wrong issuer", es256_token(&k1, "k1", &wrong_iss)),
        ("expired", es256_token(&k1, "k1", &expired)),
        // Signed by k2, which the provider does not publish yet.
        (
            "unknown key",
            es256_token(&k2, "k2", &claims(json!(["twin-admins"]))),
        ),
        // k2's signature under k1's id.
        (
            "wrong key for kid",
            es256_token(&k2, "k1", &claims(json!(["twin-admins"]))),
        ),
        ("local token", mint_token(s.data_dir.path(), "owner")),
    ] {
        let r = call(&s, &token, "GET", "/models", None);
        assert_eq!(r.status, 401, "{what}: {}", r.text());
        assert_unauthorized(&r);
    }

    // Key rotation: the provider now publishes k2 only; a token naming k2
    // makes the server fetch the keys again.
    *idp.jwks.lock().unwrap() = json!({"keys": [jwk2]});
    std::thread::sleep(Duration::from_millis(1100));
    let rotated = es256_token(&k2, "k2", &claims(json!(["twin-viewers"])));
    let r = call(&s, &rotated, "GET", "/models", None);
    assert_eq!(r.status, 200, "{}", r.text());
    std::thread::sleep(Duration::from_millis(1100));
    assert_unauthorized(&call(&s, &reader, "GET", "/models", None));
    // Unknown kids do not make the server hammer the provider.
    let before = *idp.fetches.lock().unwrap();
    for i in 0..20 {
        let t = es256_token(&k1, &format!("junk{i}"), &claims(json!(["twin-admins"])));
        assert_eq!(call(&s, &t, "GET", "/models", None).status, 401);
    }
    let after = *idp.fetches.lock().unwrap();
    assert!(after - before <= 3, "{before} → {after} fetches");
}

#[test]
fn oidc_needs_an_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_twinscape"))
        .args([
            "serve",
            "--auth",
            "oidc",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .env_remove("TWINSCAPE_OIDC_ISSUER")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--oidc-issuer"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the CLI; returns (exit code, stdout, stderr).
fn cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_twinscape"))
        .args(args)
        .env_remove("TWINSCAPE_TOKEN")
        .env_remove("TWINSCAPE_ENDPOINT")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn tls_self_signed_serves_https_to_the_cli_with_insecure() {
    let data_dir = tempfile::tempdir().unwrap();
    let s = Server::start_with_args(data_dir, &["--auth", "local", "--tls-self-signed"]);
    assert_eq!(s.scheme, "https");
    assert!(
        s.listening_line
            .starts_with("Twinscape listening on https://"),
        "{}",
        s.listening_line
    );
    let cert = s.data_dir.path().join("tls/self-signed-cert.pem");
    assert!(cert.is_file());
    let endpoint = s.url("");
    let token = s.token("owner");
    let models = env!("CARGO_MANIFEST_DIR").to_string() + "/../demo/models";
    let (code, out, err) = cli(&[
        "model",
        "create",
        &models,
        "--endpoint",
        &endpoint,
        "--token",
        &token,
        "--insecure",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Created 8 model(s)"), "{out}");
    // Without --insecure the certificate is not trusted.
    let (code, _, err) = cli(&["model", "list", "--endpoint", &endpoint, "--token", &token]);
    assert_ne!(code, 0);
    assert!(err.contains("--insecure"), "{err}");
    // Plain http to the TLS port gets nowhere.
    let (code, _, _) = cli(&[
        "model",
        "list",
        "--endpoint",
        &format!("http://{}", s.addr),
        "--token",
        &token,
    ]);
    assert_ne!(code, 0);
    // The saved certificate is reused after a restart.
    let pem_before = std::fs::read(&cert).unwrap();
    let data_dir = s.kill();
    let s = Server::start_with_args(data_dir, &["--auth", "local", "--tls-self-signed"]);
    assert_eq!(std::fs::read(&cert).unwrap(), pem_before);
    let (code, out, err) = cli(&[
        "model",
        "list",
        "-o",
        "json",
        "--endpoint",
        &s.url(""),
        "--token",
        &token,
        "--insecure",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(v["value"].as_array().unwrap().len(), 8);
}

#[test]
fn tls_with_a_given_certificate_and_key() {
    // A private CA and a server certificate it signs.
    let dir = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Twinscape test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();

    let s = Server::start_with_args(
        tempfile::tempdir().unwrap(),
        &[
            "--auth",
            "local",
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
    );
    assert_eq!(s.scheme, "https");
    // A client that trusts the CA (and nothing else) verifies the server.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let token = s.token("reader");
    let (health, models) = rt.block_on(async {
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(ca_cert.pem().as_bytes()).unwrap()])
            .build()
            .unwrap();
        let health = client.get(s.url("/healthz")).send().await.unwrap();
        let models = client
            .get(s.url("/models?api-version=2023-10-31"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        (health.status().as_u16(), models.status().as_u16())
    });
    assert_eq!((health, models), (200, 200));
    // The CLI with --insecure talks to it too.
    let (code, out, err) = cli(&[
        "model",
        "list",
        "--endpoint",
        &s.url(""),
        "--token",
        &token,
        "--insecure",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");

    // A key that does not match the certificate stops the start.
    let other = rcgen::KeyPair::generate().unwrap();
    std::fs::write(&key_path, other.serialize_pem()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_twinscape"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert_path)
        .arg("--tls-key")
        .arg(&key_path)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("TLS"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
