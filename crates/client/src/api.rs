//! HTTP calls to the data plane: `api-version`, the bearer token, ADT's
//! error shape, `nextLink` paging.

use super::Connection;
use anyhow::{Context, bail};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value as Json;
use std::time::Duration;

/// The api-version every request carries.
pub const API_VERSION: &str = "2023-10-31";

/// An error the server answered, or a failure to reach it.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server refused: its ADT error code and message.
    #[error("{status} {code}: {message}{hint}", status = status.as_u16(), hint = hint(*status, message))]
    Api {
        status: StatusCode,
        code: String,
        message: String,
    },
    #[error("cannot reach {url}: {detail}")]
    Transport { url: String, detail: String },
    #[error("{0}")]
    Other(String),
}

impl ClientError {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether trying again later may work (429, 503).
    pub fn is_transient(&self) -> bool {
        matches!(
            self.status(),
            Some(StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE)
        )
    }
}

fn hint(status: StatusCode, message: &str) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED if !message.contains("twinscape token") => {
            " (pass --token or set TWINSCAPE_TOKEN; for a local server `twinscape token --role owner --data-dir DIR` prints one)"
        }
        StatusCode::FORBIDDEN => " (this needs a token with the owner role)",
        _ => "",
    }
}

/// A request body.
pub enum Body {
    /// `application/json`.
    Json(Json),
    /// `application/json-patch+json`.
    Patch(Json),
    /// Raw bytes with their content type (a 3D file).
    Bytes(Vec<u8>, &'static str),
}

/// What came back from a successful call.
#[derive(Debug)]
pub struct Reply {
    pub headers: HeaderMap,
    /// The JSON body, `Null` when there is none.
    pub body: Json,
}

/// A client for one endpoint.
#[derive(Clone)]
pub struct Api {
    base: Url,
    token: Option<String>,
    http: reqwest::Client,
}

impl Api {
    pub fn new(conn: &Connection) -> anyhow::Result<Api> {
        let base = Url::parse(&conn.endpoint)
            .with_context(|| format!("--endpoint {} is not a URL", conn.endpoint))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            bail!(
                "--endpoint must be an http:// or https:// URL, not {}",
                conn.endpoint
            );
        }
        let token = conn
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.strip_prefix("Bearer ").unwrap_or(t).to_string());
        if token.is_some() && base.scheme() == "http" {
            let host = base.host_str().unwrap_or("").trim_matches(['[', ']']);
            let local = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !local {
                eprintln!("warning: sending a bearer token over plain http to {host}");
            }
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("twinscape-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .tls_danger_accept_invalid_certs(conn.insecure)
            .build()
            .context("building the HTTP client")?;
        Ok(Api { base, token, http })
    }

    /// The URL of `segments` (each percent-encoded as one path segment) with
    /// `query` and the api-version.
    pub fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        {
            let mut q = url.query_pairs_mut();
            q.clear();
            for (k, v) in query {
                q.append_pair(k, v);
            }
            q.append_pair("api-version", API_VERSION);
        }
        url
    }

    /// One request to `url`; an error for any status but 2xx.
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        headers: &[(&str, String)],
        body: Option<&Body>,
    ) -> Result<Reply, ClientError> {
        let shown = url.to_string();
        let mut req = self.http.request(method, url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        req = match body {
            Some(Body::Json(v)) => req
                .header("content-type", "application/json")
                .body(v.to_string()),
            Some(Body::Patch(v)) => req
                .header("content-type", "application/json-patch+json")
                .body(v.to_string()),
            Some(Body::Bytes(bytes, content_type)) => req
                .header("content-type", *content_type)
                .body(bytes.clone()),
            None => req,
        };
        let resp = req.send().await.map_err(|e| transport(&shown, &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| transport(&shown, &e))?;
        let body: Option<Json> = if bytes.is_empty() {
            None
        } else {
            serde_json::from_slice(&bytes).ok()
        };
        if status.is_success() {
            return match (body, bytes.is_empty()) {
                (Some(body), _) => Ok(Reply { headers, body }),
                (None, true) => Ok(Reply {
                    headers,
                    body: Json::Null,
                }),
                (None, false) => Err(ClientError::Other(format!(
                    "{shown} answered {status} with a body that is not JSON"
                ))),
            };
        }
        // ADT's shape first; then ADT's 401 shape; then whatever it is.
        let error = body
            .as_ref()
            .and_then(|b| b.get("error"))
            .unwrap_or(&Json::Null);
        let code = error
            .get("code")
            .and_then(Json::as_str)
            .map(str::to_string)
            .or_else(|| {
                headers
                    .get("x-ms-error-code")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| {
                status
                    .canonical_reason()
                    .unwrap_or("Error")
                    .replace(' ', "")
            });
        let message = error
            .get("message")
            .or_else(|| body.as_ref().and_then(|b| b.get("message")))
            .and_then(Json::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(500).collect());
        Err(ClientError::Api {
            status,
            code,
            message,
        })
    }

    /// A request to the data-plane path `segments`.
    pub async fn call(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&Body>,
    ) -> Result<Reply, ClientError> {
        let url = self.url(segments, query);
        self.send(method, url, &[], body).await
    }

    /// GET a paged list and follow its `nextLink`s; all items in order.
    pub async fn get_all(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Vec<Json>, ClientError> {
        let mut url = self.url(segments, query);
        let mut items = Vec::new();
        let mut seen = std::collections::HashSet::new();
        loop {
            let reply = self.send(Method::GET, url.clone(), &[], None).await?;
            let mut body = reply.body;
            match body.get_mut("value").map(Json::take) {
                Some(Json::Array(page)) => items.extend(page),
                _ => {
                    return Err(ClientError::Other(format!(
                        "{url} answered without a `value` array"
                    )));
                }
            }
            let next = body
                .get("nextLink")
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty());
            let Some(next) = next else { break };
            url = self.next_url(next)?;
            if !seen.insert(url.to_string()) {
                return Err(ClientError::Other(format!(
                    "the server sent the same nextLink twice: {url}"
                )));
            }
        }
        Ok(items)
    }

    /// A `nextLink` made safe to follow: its path and query on this client's
    /// endpoint (the token never goes to another host), with our api-version.
    fn next_url(&self, link: &str) -> Result<Url, ClientError> {
        let parsed = self
            .base
            .join(link)
            .map_err(|e| ClientError::Other(format!("bad nextLink {link}: {e}")))?;
        let mut url = self.base.clone();
        url.set_path(parsed.path());
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("api-version"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        {
            let mut q = url.query_pairs_mut();
            q.clear();
            for (k, v) in &pairs {
                q.append_pair(k, v);
            }
            q.append_pair("api-version", API_VERSION);
        }
        Ok(url)
    }
}

fn transport(url: &str, e: &reqwest::Error) -> ClientError {
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    if detail.to_ascii_lowercase().contains("certificate") {
        detail.push_str(" (for a server started with --tls-self-signed, pass --insecure)");
    }
    ClientError::Transport {
        url: url.to_string(),
        detail,
    }
}

/// A header's text, if present.
pub fn header(reply: &Reply, name: &str) -> Option<String> {
    reply
        .headers
        .get(name)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Output;

    fn api(endpoint: &str) -> Api {
        Api::new(&Connection {
            endpoint: endpoint.into(),
            token: None,
            insecure: false,
            output: Output::Human,
        })
        .expect("client")
    }

    #[test]
    fn urls_encode_ids_and_carry_the_api_version() {
        let a = api("http://127.0.0.1:8080");
        assert_eq!(
            a.url(
                &["models", "dtmi:a:b;1"],
                &[("includeModelDefinition", "true")]
            )
            .as_str(),
            "http://127.0.0.1:8080/models/dtmi:a:b;1?includeModelDefinition=true&api-version=2023-10-31"
        );
        assert_eq!(
            a.url(&["digitaltwins", "a/b c?"], &[]).as_str(),
            "http://127.0.0.1:8080/digitaltwins/a%2Fb%20c%3F?api-version=2023-10-31"
        );
        let next = a
            .next_url("https://elsewhere.example/models?continuationToken=x%2By&api-version=1")
            .expect("next");
        assert_eq!(
            next.as_str(),
            "http://127.0.0.1:8080/models?continuationToken=x%2By&api-version=2023-10-31"
        );
        let rel = a
            .next_url("/digitaltwins/t/relationships?page=2")
            .expect("next");
        assert_eq!(
            rel.as_str(),
            "http://127.0.0.1:8080/digitaltwins/t/relationships?page=2&api-version=2023-10-31"
        );
    }
}
