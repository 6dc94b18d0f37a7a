//! Bearer-token authentication and ADT-like roles for the data plane.
//!
//! Owns: validating `Authorization: Bearer <JWT>` on API requests, mapping a
//! token to a role (ADT's *Azure Digital Twins Data Owner* / *Data Reader*),
//! the local signing key (`<data-dir>/auth/`), OIDC key sets, and the
//! `twinscape token` command. Must not: know about twins, models or queries;
//! handlers see only the [`Principal`] put in the request's extensions.
//!
//! Modes (`twinscape serve --auth`):
//! - `local` (default): tokens signed by an Ed25519 key created in the data
//!   dir at first start; `twinscape token` mints them.
//! - `oidc`: tokens from a real identity provider, checked against its JWKS
//!   (fetched, cached, refreshed when a token names an unknown `kid`).
//! - `none`: no checks at all, for local demos only; the server says so loudly.
//!
//! Rules: no or invalid token → 401 `Unauthorized` with `WWW-Authenticate:
//! Bearer`; a valid token without a Twinscape role, or a reader attempting a
//! write (any method but GET/HEAD/OPTIONS, except `POST /query`) → 403
//! `Forbidden`. Errors are in ADT's error shape.

mod local;
mod oidc;
pub mod tls;

pub use local::LocalKey;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clap::{Args, ValueEnum};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use twinscape_protocol::{ErrorBody, ErrorCode};

/// The issuer of locally signed tokens.
pub const LOCAL_ISSUER: &str = "twinscape-local";
/// The audience ADT's SDKs ask tokens for (scope `https://digitaltwins.azure.net/.default`).
pub const ADT_AUDIENCE: &str = "https://digitaltwins.azure.net";
/// ADT's application id: Azure AD v2 tokens for ADT carry it as `aud`.
pub const ADT_APP_ID: &str = "0b07f429-9f4b-4714-9392-cc5e8e80c8b0";
/// ADT's role names, as app-role values in the `roles` claim.
pub const OWNER_ROLE: &str = "DigitalTwinsDataOwner";
pub const READER_ROLE: &str = "DigitalTwinsDataReader";
/// The display names of ADT's built-in roles, also accepted as role values.
const OWNER_ROLE_DISPLAY: &str = "Azure Digital Twins Data Owner";
const READER_ROLE_DISPLAY: &str = "Azure Digital Twins Data Reader";

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Role {
    /// Read: GET requests and queries (ADT's Data Reader).
    Reader,
    /// Read and write everything (ADT's Data Owner).
    Owner,
}

impl Role {
    /// The role name put in tokens (`roles` claim).
    pub fn claim_value(self) -> &'static str {
        match self {
            Role::Owner => OWNER_ROLE,
            Role::Reader => READER_ROLE,
        }
    }
}

/// The authenticated caller, put in each API request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub` (or `anonymous` with `--auth none`).
    pub subject: String,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Tokens signed by a key kept in the data dir (`twinscape token` prints one).
    Local,
    /// Tokens from an OpenID Connect identity provider (`--oidc-issuer`).
    Oidc,
    /// No authentication at all. For local demos only.
    None,
}

/// A role granted to every valid OIDC token that carries no mapped role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DefaultRole {
    /// No role: such tokens get 403.
    None,
    Reader,
    Owner,
}

/// `twinscape serve` flags for authentication.
#[derive(Debug, Args, Clone)]
pub struct AuthArgs {
    /// How API requests are authenticated. `none` is for local demos only:
    /// anyone who can reach the port can change everything.
    #[arg(
        long = "auth",
        value_enum,
        env = "TWINSCAPE_AUTH",
        default_value = "local"
    )]
    pub mode: AuthMode,
    /// OIDC issuer URL (`iss` of accepted tokens); its
    /// `/.well-known/openid-configuration` names the JWKS unless
    /// `--oidc-jwks-url` is given. Required with `--auth oidc`.
    #[arg(long, env = "TWINSCAPE_OIDC_ISSUER", required_if_eq("mode", "oidc"))]
    pub oidc_issuer: Option<String>,
    /// URL of the issuer's JSON Web Key Set (skips discovery).
    #[arg(long, env = "TWINSCAPE_OIDC_JWKS_URL")]
    pub oidc_jwks_url: Option<String>,
    /// Accepted `aud` values (repeat or separate with commas). Default: ADT's
    /// `https://digitaltwins.azure.net` and its application id.
    #[arg(
        long = "oidc-audience",
        env = "TWINSCAPE_OIDC_AUDIENCE",
        value_delimiter = ','
    )]
    pub oidc_audiences: Vec<String>,
    /// The claim holding the caller's roles: a string, an array of strings, or
    /// a space-separated string; a dotted path reaches nested claims
    /// (`realm_access.roles`).
    #[arg(long, env = "TWINSCAPE_OIDC_ROLE_CLAIM", default_value = "roles")]
    pub oidc_role_claim: String,
    /// Claim values that make the caller an owner (repeatable). Default:
    /// `DigitalTwinsDataOwner` and `Azure Digital Twins Data Owner`.
    #[arg(long = "oidc-owner-role", value_delimiter = ',')]
    pub oidc_owner_roles: Vec<String>,
    /// Claim values that make the caller a reader (repeatable). Default:
    /// `DigitalTwinsDataReader` and `Azure Digital Twins Data Reader`.
    #[arg(long = "oidc-reader-role", value_delimiter = ',')]
    pub oidc_reader_roles: Vec<String>,
    /// The role of a valid OIDC token that carries none of the role values.
    #[arg(long, value_enum, default_value = "none")]
    pub oidc_default_role: DefaultRole,
}

/// Maps claim values to roles.
#[derive(Debug, Clone)]
pub struct RoleMap {
    pub claim: String,
    pub owner: Vec<String>,
    pub reader: Vec<String>,
    pub default: DefaultRole,
}

impl Default for RoleMap {
    fn default() -> Self {
        RoleMap {
            claim: "roles".into(),
            owner: vec![OWNER_ROLE.into(), OWNER_ROLE_DISPLAY.into()],
            reader: vec![READER_ROLE.into(), READER_ROLE_DISPLAY.into()],
            default: DefaultRole::None,
        }
    }
}

impl RoleMap {
    /// The highest role the claims grant, if any.
    pub fn role(&self, claims: &serde_json::Map<String, Json>) -> Option<Role> {
        let mut value = None;
        for (i, part) in self.claim.split('.').enumerate() {
            value = if i == 0 {
                claims.get(part)
            } else {
                value.and_then(|v: &Json| v.get(part))
            };
        }
        let values: Vec<&str> = match value {
            // The whole string (a role name with spaces), or its words (`scp`).
            Some(Json::String(s)) => std::iter::once(s.as_str())
                .chain(s.split_whitespace())
                .collect(),
            Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        let has = |names: &[String]| values.iter().any(|v| names.iter().any(|n| n == v));
        if has(&self.owner) {
            Some(Role::Owner)
        } else if has(&self.reader) {
            Some(Role::Reader)
        } else {
            match self.default {
                DefaultRole::None => None,
                DefaultRole::Reader => Some(Role::Reader),
                DefaultRole::Owner => Some(Role::Owner),
            }
        }
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    #[error("the bearer token is not valid: {0}")]
    Invalid(String),
    #[error("the token grants no Twinscape role")]
    NoRole,
    #[error("readers cannot write")]
    ReadOnly,
}

/// The authenticator of a running server.
pub struct Auth {
    mode: Mode,
}

enum Mode {
    None,
    Local(LocalKey),
    Oidc(oidc::OidcVerifier),
}

impl Auth {
    /// No authentication (`--auth none`).
    pub fn none() -> Auth {
        Auth { mode: Mode::None }
    }

    /// Local tokens, signed by `key`.
    pub fn local(key: LocalKey) -> Auth {
        Auth {
            mode: Mode::Local(key),
        }
    }

    /// Builds the authenticator `serve` was asked for: loads (or creates) the
    /// local key, or prepares the OIDC verifier and tries a first JWKS fetch.
    pub async fn from_args(args: &AuthArgs, data_dir: &Path) -> anyhow::Result<Auth> {
        Ok(match args.mode {
            AuthMode::None => Auth::none(),
            AuthMode::Local => {
                let dir = data_dir.to_path_buf();
                let key =
                    tokio::task::spawn_blocking(move || LocalKey::load_or_create(&dir)).await??;
                tracing::info!(
                    "auth: local tokens (key {}); `twinscape token --role owner|reader --data-dir {}` prints one",
                    key.path().display(),
                    data_dir.display()
                );
                Auth::local(key)
            }
            AuthMode::Oidc => {
                let verifier = oidc::OidcVerifier::new(args)?;
                verifier.warm_up().await;
                Auth {
                    mode: Mode::Oidc(verifier),
                }
            }
        })
    }

    pub fn mode(&self) -> AuthMode {
        match self.mode {
            Mode::None => AuthMode::None,
            Mode::Local(_) => AuthMode::Local,
            Mode::Oidc(_) => AuthMode::Oidc,
        }
    }

    /// Who sent these headers, and with which role.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        match self.mode {
            Mode::None => self.verify_token("").await,
            _ => self.verify_token(bearer_token(headers)?).await,
        }
    }

    /// Checks a bare token (as a WebSocket hello may carry it); with
    /// `--auth none` every caller is an anonymous owner.
    pub async fn verify_token(&self, token: &str) -> Result<Principal, AuthError> {
        let (subject, role) = match &self.mode {
            Mode::None => {
                return Ok(Principal {
                    subject: "anonymous".into(),
                    role: Role::Owner,
                });
            }
            _ if token.trim().is_empty() => return Err(AuthError::Missing),
            Mode::Local(key) => key.verify(token.trim())?,
            Mode::Oidc(v) => v.verify(token.trim()).await?,
        };
        let role = role.ok_or(AuthError::NoRole)?;
        Ok(Principal { subject, role })
    }

    /// Authenticates a request and checks that its role allows the method.
    pub async fn authorize(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<Principal, AuthError> {
        let principal = self.authenticate(headers).await?;
        if principal.role < Role::Owner && !is_read(method, path) {
            return Err(AuthError::ReadOnly);
        }
        Ok(principal)
    }

    fn missing_token_hint(&self) -> &'static str {
        match self.mode {
            Mode::Oidc(_) => " Get one from the identity provider this server trusts.",
            _ => {
                " On the server's machine, `twinscape token --role owner --data-dir <its data dir>` prints one."
            }
        }
    }
}

/// Whether a request only reads: GET, HEAD, OPTIONS, and `POST /query`.
pub fn is_read(method: &Method, path: &str) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || (*method == Method::POST && path.trim_end_matches('/') == "/query")
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(AuthError::Missing);
    };
    let value = value
        .to_str()
        .map_err(|_| AuthError::Invalid("the Authorization header is not ASCII".into()))?
        .trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Invalid(
            "the Authorization header must be `Bearer <token>`".into(),
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token)
}

/// The HTTP answer to a refused request, in ADT's error shape.
fn refusal(auth: &Auth, err: &AuthError) -> Response {
    let (code, message, challenge) = match err {
        AuthError::Missing => (
            ErrorCode::Unauthorized,
            format!(
                "No bearer token. Send the header `Authorization: Bearer <token>`.{}",
                auth.missing_token_hint()
            ),
            r#"Bearer realm="twinscape""#.to_string(),
        ),
        AuthError::Invalid(why) => (
            ErrorCode::Unauthorized,
            format!("The bearer token is not valid: {why}."),
            format!(
                r#"Bearer realm="twinscape", error="invalid_token", error_description="{}""#,
                why.replace(['"', '\\'], "'")
            ),
        ),
        AuthError::NoRole => (
            ErrorCode::Forbidden,
            format!(
                "The token grants no Twinscape role; it needs `{OWNER_ROLE}` or `{READER_ROLE}`."
            ),
            r#"Bearer realm="twinscape", error="insufficient_scope""#.to_string(),
        ),
        AuthError::ReadOnly => (
            ErrorCode::Forbidden,
            format!(
                "The caller has the role `{READER_ROLE}`, which can only read; this request needs `{OWNER_ROLE}`."
            ),
            r#"Bearer realm="twinscape", error="insufficient_scope""#.to_string(),
        ),
    };
    // ADT's error shape, as every other error of the API.
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let mut resp = (status, axum::Json(ErrorBody::new(code, message))).into_response();
    resp.headers_mut()
        .insert("x-ms-error-code", HeaderValue::from_static(code.as_str()));
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// Middleware: authenticates and authorizes every request it sees.
pub async fn require(State(auth): State<Arc<Auth>>, mut req: Request, next: Next) -> Response {
    match auth
        .authorize(req.method(), req.uri().path(), req.headers())
        .await
    {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        Err(e) => {
            tracing::debug!("refused {} {}: {e}", req.method(), req.uri().path());
            refusal(&auth, &e)
        }
    }
}

/// Middleware for the whole app: checks API requests (ADT's paths, matched
/// or not, so a 404/405 is never answered before a 401; `/scenes` calls;
/// 3D file uploads) and lets the health check, the 3D files and the web
/// app through.
pub async fn require_on_api_paths(
    State(auth): State<Arc<Auth>>,
    req: Request,
    next: Next,
) -> Response {
    if twinscape_protocol::routes::is_api_request(
        req.method().as_str(),
        req.uri().path(),
        req.uri().query(),
    ) {
        require(State(auth), req, next).await
    } else {
        next.run(req).await
    }
}

/// Puts `router`'s routes behind authentication (for routes outside the ADT
/// API paths, such as the live-feed WebSocket):
/// `auth::protect(Router::new().route("/ws", get(ws)), auth.clone())`.
/// GET (and so a WebSocket upgrade) needs at least the reader role.
#[allow(dead_code)] // for the live feed's WebSocket route
pub fn protect<S>(router: Router<S>, auth: Arc<Auth>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router.layer(axum::middleware::from_fn_with_state(auth, require))
}

/// Prints the loud warning of `--auth none` on stderr.
pub fn warn_auth_disabled(listen: &std::net::SocketAddr) {
    let line = "*".repeat(72);
    let mut lines = vec![
        line.clone(),
        "AUTHENTICATION IS OFF (--auth none).".to_string(),
        format!("Anyone who can reach {listen} can read, change and delete every"),
        "model, twin and relationship. Use this for local demos only.".to_string(),
        "Without --auth none the server checks bearer tokens; get one with".to_string(),
        "`twinscape token --role owner --data-dir <data dir>`.".to_string(),
    ];
    if !listen.ip().is_loopback() {
        lines.push(format!(
            "{} is not a loopback address: other machines can reach it too!",
            listen.ip()
        ));
    }
    lines.push(line);
    for l in lines {
        eprintln!("WARNING: {l}");
    }
    tracing::warn!("authentication is off (--auth none): for local demos only");
}

/// `twinscape token`: mints a local token.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The role the token grants.
    #[arg(long, value_enum)]
    pub role: Role,
    /// The server's data directory (its key is in `<data-dir>/auth/`; created
    /// if missing, so this may run before the first `serve`).
    #[arg(long, env = "TWINSCAPE_DATA_DIR", default_value = "./twinscape-data")]
    pub data_dir: PathBuf,
    /// Hours until the token expires (1 to 8760).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=8760))]
    pub ttl_hours: u64,
    /// The token's subject (`sub`): who it is for.
    #[arg(long, default_value = "local-user")]
    pub subject: String,
}

/// Prints a token on the last line of stdout; what it is goes to stderr.
pub fn token_command(args: &TokenArgs) -> anyhow::Result<()> {
    let key = LocalKey::load_or_create(&args.data_dir)?;
    let ttl = std::time::Duration::from_secs(args.ttl_hours * 3600);
    let token = key.issue(args.role, &args.subject, ttl)?;
    eprintln!(
        "A {} token for `{}`, valid for {} hour(s), signed by {}.",
        args.role.claim_value(),
        args.subject,
        args.ttl_hours,
        key.path().display()
    );
    eprintln!("Use it as `Authorization: Bearer <token>`, or: export TWINSCAPE_TOKEN=<token>");
    println!("{token}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Json) -> serde_json::Map<String, Json> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn roles_map_from_arrays_strings_and_nested_claims() {
        let map = RoleMap::default();
        assert_eq!(
            map.role(&claims(json!({"roles": ["x", "DigitalTwinsDataReader"]}))),
            Some(Role::Reader)
        );
        assert_eq!(
            map.role(&claims(
                json!({"roles": ["DigitalTwinsDataReader", "DigitalTwinsDataOwner"]})
            )),
            Some(Role::Owner)
        );
        assert_eq!(
            map.role(&claims(json!({"roles": "Azure Digital Twins Data Owner"}))),
            Some(Role::Owner)
        );
        assert_eq!(map.role(&claims(json!({"roles": 3}))), None);
        assert_eq!(map.role(&claims(json!({}))), None);
        let nested = RoleMap {
            claim: "realm_access.roles".into(),
            owner: vec!["twin-admin".into()],
            reader: vec!["twin-viewer".into()],
            default: DefaultRole::Reader,
        };
        assert_eq!(
            nested.role(&claims(json!({"realm_access": {"roles": ["twin-admin"]}}))),
            Some(Role::Owner)
        );
        assert_eq!(
            nested.role(&claims(json!({"realm_access": {}}))),
            Some(Role::Reader)
        );
        let scp = RoleMap {
            claim: "scp".into(),
            owner: vec!["Twins.Write".into()],
            reader: vec!["Twins.Read".into()],
            default: DefaultRole::None,
        };
        assert_eq!(
            scp.role(&claims(json!({"scp": "openid Twins.Read"}))),
            Some(Role::Reader)
        );
    }

    #[test]
    fn reads_are_gets_and_queries() {
        assert!(is_read(&Method::GET, "/models"));
        assert!(is_read(&Method::HEAD, "/digitaltwins/a"));
        assert!(is_read(&Method::POST, "/query"));
        assert!(!is_read(&Method::POST, "/models"));
        assert!(!is_read(&Method::POST, "/query/x"));
        assert!(!is_read(&Method::PUT, "/digitaltwins/a"));
        assert!(!is_read(&Method::PATCH, "/digitaltwins/a"));
        assert!(!is_read(&Method::DELETE, "/models/x"));
        assert!(!is_read(&Method::POST, "/digitaltwins/a/telemetry"));
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), Err(AuthError::Missing));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer_token(&h), Ok("abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  abc "),
        );
        assert_eq!(bearer_token(&h), Ok("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer"));
        assert_eq!(bearer_token(&h), Err(AuthError::Missing));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(matches!(bearer_token(&h), Err(AuthError::Invalid(_))));
    }
}
