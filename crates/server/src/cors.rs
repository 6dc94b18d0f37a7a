//! Cross-origin access: which other web pages may use this server
//! (`serve --cors-origin URL`, repeatable; none by default).
//!
//! - The REST API (what [`twinscape_protocol::routes::is_api_request`]
//!   calls API) answers CORS, preflights included, only for the allowed
//!   origins. Tokens are bearer headers, never cookies: no credentials mode.
//! - The app's own files (scripts, wasm, styles) and the public 3D files
//!   answer any origin: they hold no data, and the embeddable component
//!   must load before it can tell its page that the API refused it.
//! - The live feed (a WebSocket: browsers send `Origin` but apply no CORS)
//!   refuses an upgrade from a page of another origin that is not allowed.
//! - The iframe pages (`/embed/…`) may be framed by the allowed origins
//!   only (`Content-Security-Policy: frame-ancestors`).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer, ExposeHeaders};
use twinscape_api::ApiError;
use twinscape_protocol::ErrorCode;
use twinscape_protocol::routes::{EMBED, is_api_request};

/// The origins an operator allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    list: Vec<String>,
    any: bool,
}

/// Why an `--cors-origin` value was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "--cors-origin {0:?} is not an origin: give scheme, host and port only, like https://example.com or http://localhost:3000 (or * for any)"
)]
pub struct BadOrigin(pub String);

impl Origins {
    /// Parses `--cors-origin` values: `scheme://host[:port]` (a trailing
    /// `/` is dropped; scheme and host are compared without case), or `*`.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<Origins, BadOrigin> {
        let mut out = Origins::default();
        for v in values {
            let v = v.as_ref().trim();
            if v == "*" {
                out.any = true;
                continue;
            }
            let origin = normalize(v).ok_or_else(|| BadOrigin(v.to_string()))?;
            if !out.list.contains(&origin) {
                out.list.push(origin);
            }
        }
        Ok(out)
    }

    /// No other page may use the API (the default).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && !self.any
    }

    /// Whether a page of `origin` may use the API and the live feed.
    pub fn allows(&self, origin: &str) -> bool {
        self.any || normalize(origin).is_some_and(|o| self.list.contains(&o))
    }

    /// `frame-ancestors` for the iframe pages: this server's own pages and
    /// the allowed origins.
    pub fn frame_ancestors(&self) -> String {
        if self.any {
            return "frame-ancestors *".into();
        }
        let mut v = String::from("frame-ancestors 'self'");
        for o in &self.list {
            v.push(' ');
            v.push_str(o);
        }
        v
    }
}

/// `scheme://host[:port]` in lower case, or `None` for anything else
/// (a path, a query, user info, an empty host).
fn normalize(v: &str) -> Option<String> {
    let v = v.strip_suffix('/').unwrap_or(v);
    let (scheme, rest) = v.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https") {
        return None;
    }
    let bad = |c: char| matches!(c, '/' | '?' | '#' | '@' | ' ') || c.is_control();
    if rest.is_empty() || rest.contains(bad) {
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => {
            if h.contains(':') && !h.starts_with('[') {
                return None; // a bare IPv6 address needs brackets
            }
            if p.is_empty() || p.parse::<u16>().is_err() {
                return None;
            }
            (h, Some(p))
        }
        _ => (rest, None),
    };
    if host.is_empty() {
        return None;
    }
    let host = host.to_ascii_lowercase();
    Some(match port {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    })
}

/// Whether a request came from a page of the origin it was sent to
/// (`Origin`'s host and port are the `Host` header).
fn same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// Adds cross-origin access to the whole HTTP surface, as the module says.
/// Goes outside every other layer, so that a preflight never meets auth
/// and errors carry the CORS headers the page needs to read them.
pub fn apply(app: axum::Router, origins: Origins) -> axum::Router {
    let origins = Arc::new(origins);
    let api_origins = origins.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(
            move |origin: &HeaderValue, parts: &Parts| {
                let Ok(origin) = origin.to_str() else {
                    return false;
                };
                if is_api_request(parts.method.as_str(), parts.uri.path(), parts.uri.query())
                    || parts.method == Method::OPTIONS
                        && is_api_request(
                            preflight_method(parts).as_str(),
                            parts.uri.path(),
                            parts.uri.query(),
                        )
                {
                    api_origins.allows(origin)
                } else {
                    // The app's files and public 3D files.
                    true
                }
            },
        ))
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(ExposeHeaders::list([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("operation-location"),
            header::HeaderName::from_static("query-charge"),
        ]))
        .max_age(Duration::from_secs(3600));
    app.layer(axum::middleware::from_fn_with_state(origins, guard))
        .layer(cors)
}

/// The method a preflight asks about.
fn preflight_method(parts: &Parts) -> Method {
    parts
        .headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .unwrap_or(Method::GET)
}

/// The live feed's origin check and the iframe pages' `frame-ancestors`.
async fn guard(State(origins): State<Arc<Origins>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == twinscape_protocol::live::LIVE_PATH
        && let Some(origin) = req.headers().get(header::ORIGIN)
    {
        let origin = origin.to_str().unwrap_or_default();
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        if !same_origin(origin, host) && !origins.allows(origin) {
            return ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "This server does not accept the live feed from pages of {origin}; \
                     its operator can allow them with `twinscape serve --cors-origin {origin}`."
                ),
            )
            .into_response();
        }
    }
    let embed = path == EMBED || path.starts_with("/embed/");
    let mut res = next.run(req).await;
    if embed && let Ok(v) = HeaderValue::from_str(&origins.frame_ancestors()) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    res
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_compared_without_case() {
        let o = Origins::parse(&["https://Example.com/", "http://localhost:3000"]).unwrap();
        assert!(o.allows("https://example.com"));
        assert!(o.allows("http://LOCALHOST:3000"));
        assert!(!o.allows("http://example.com"));
        assert!(!o.allows("https://example.com:8443"));
        assert!(!o.allows("http://localhost:3001"));
        assert!(!o.allows("null"));
        assert_eq!(
            o.frame_ancestors(),
            "frame-ancestors 'self' https://example.com http://localhost:3000"
        );
        assert!(Origins::parse::<&str>(&[]).unwrap().is_empty());
        let any = Origins::parse(&["*"]).unwrap();
        assert!(any.allows("https://anything.example"));
        assert!(
            Origins::parse(&["http://[::1]:8080"])
                .unwrap()
                .allows("http://[::1]:8080")
        );
    }

    #[test]
    fn anything_but_an_origin_is_refused() {
        for bad in [
            "example.com",
            "https://example.com/path",
            "https://example.com?x=1",
            "ftp://example.com",
            "https://",
            "https://user@example.com",
            "https://example.com:notaport",
            "https://example.com:",
            "http://::1:80",
        ] {
            assert_eq!(
                Origins::parse(&[bad]),
                Err(BadOrigin(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn same_origin_is_the_host_the_request_was_sent_to() {
        assert!(same_origin("http://127.0.0.1:8080", Some("127.0.0.1:8080")));
        assert!(!same_origin(
            "http://127.0.0.1:9000",
            Some("127.0.0.1:8080")
        ));
        assert!(!same_origin("http://127.0.0.1:8080", None));
    }
}
