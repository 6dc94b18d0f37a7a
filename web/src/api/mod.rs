//! The one typed client of the server's REST API: the api-version is named
//! once, path segments are percent-encoded as the server encodes them, and errors come back
//! in ADT's shape (`{"error":{"code","message"}}`) as [`ApiError`].

use serde_json::Value as Json;

/// The ADT api-version this app speaks.
pub const API_VERSION: &str = "2023-10-31";

/// One path segment (a twin id, a model id), percent-encoded.
pub use twinscape_protocol::routes::segment_encode as segment;

/// An error answered by the server (or the network), in ADT's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status; 0 when the request never got an answer.
    pub status: u16,
    /// ADT's error code (`DigitalTwinNotFound`, …), or `NetworkError`.
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ApiError {
    /// The message with its code, as the app shows a failure:
    /// `There is no digital twin (DigitalTwinNotFound)`.
    pub fn summary(&self) -> String {
        format!("{} ({})", self.message, self.code)
    }

    fn network(e: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: 0,
            code: "NetworkError".into(),
            message: e.to_string(),
        }
    }

    /// An error body as the server sends it; anything else is kept as text.
    pub fn from_body(status: u16, text: &str) -> ApiError {
        let body: Option<Json> = serde_json::from_str(text).ok();
        let field = |k: &str| {
            body.as_ref()
                .and_then(|b| b["error"][k].as_str())
                .map(str::to_string)
        };
        ApiError {
            status,
            code: field("code").unwrap_or_else(|| format!("Http{status}")),
            message: field("message").unwrap_or_else(|| text.to_string()),
        }
    }
}

/// The REST API of one server, with the caller's bearer token.
#[derive(Debug, Clone, PartialEq)]
pub struct Api {
    /// The server's origin (`https://twins.example:8080`), or empty for the
    /// page's own origin.
    base: String,
    token: Option<String>,
}

impl Api {
    pub fn new(base: impl Into<String>, token: Option<String>) -> Api {
        Api {
            base: base.into().trim_end_matches('/').to_string(),
            token,
        }
    }

    /// The URL of an API path (segments already encoded), with the api-version.
    pub fn url(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{sep}api-version={API_VERSION}", self.base)
    }

    async fn send(
        &self,
        req: gloo_net::http::RequestBuilder,
        body: Option<(&str, String)>,
    ) -> Result<String, ApiError> {
        self.exchange(req, body).await.map(|(text, _)| text)
    }

    /// Sends a request with the token; the body and the `ETag` of a
    /// success, or the error in ADT's shape.
    async fn exchange(
        &self,
        req: gloo_net::http::RequestBuilder,
        body: Option<(&str, String)>,
    ) -> Result<(String, Option<String>), ApiError> {
        let req = match &self.token {
            Some(t) => req.header("Authorization", &format!("Bearer {t}")),
            None => req,
        };
        let resp = match body {
            Some((content_type, body)) => req
                .header("Content-Type", content_type)
                .body(body)
                .map_err(ApiError::network)?
                .send()
                .await
                .map_err(ApiError::network)?,
            None => req.send().await.map_err(ApiError::network)?,
        };
        let etag = resp.headers().get("etag");
        let text = resp.text().await.unwrap_or_default();
        if resp.ok() {
            Ok((text, etag))
        } else {
            Err(ApiError::from_body(resp.status(), &text))
        }
    }

    /// The bearer token, for requests made outside this client (uploads
    /// with progress).
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// `GET` an API path; its JSON and `ETag`.
    pub async fn get_with_etag(&self, path: &str) -> Result<(Json, Option<String>), ApiError> {
        let url = self.url(path);
        let (text, etag) = self
            .exchange(gloo_net::http::Request::get(&url), None)
            .await?;
        Ok((parse(&text)?, etag))
    }

    /// `PUT` JSON to an API path, only if its `ETag` is still `if_match`
    /// (`None`: only if nothing is there yet, `If-None-Match: *`); the
    /// answer and its `ETag`.
    pub async fn put_json(
        &self,
        path: &str,
        body: &Json,
        if_match: Option<&str>,
    ) -> Result<(Json, Option<String>), ApiError> {
        let url = self.url(path);
        let req = gloo_net::http::Request::put(&url);
        let req = match if_match {
            Some(etag) => req.header("If-Match", etag),
            None => req.header("If-None-Match", "*"),
        };
        let (text, etag) = self
            .exchange(req, Some(("application/json", body.to_string())))
            .await?;
        Ok((parse(&text)?, etag))
    }

    /// `GET` an API path (segments already encoded); its JSON.
    pub async fn get_json(&self, path: &str) -> Result<Json, ApiError> {
        let url = self.url(path);
        let text = self.send(gloo_net::http::Request::get(&url), None).await?;
        parse(&text)
    }

    /// `PATCH /digitaltwins/{id}` with a JSON Patch.
    pub async fn patch_twin(&self, id: &str, patch: &Json) -> Result<(), ApiError> {
        let url = self.url(&format!("/digitaltwins/{}", segment(id)));
        self.send(
            gloo_net::http::Request::patch(&url),
            Some(("application/json-patch+json", patch.to_string())),
        )
        .await
        .map(|_| ())
    }
}

fn parse(text: &str) -> Result<Json, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError {
        status: 200,
        code: "InvalidResponse".into(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_name_the_version_once_and_encode_segments() {
        let api = Api::new("https://twins.example/", None);
        assert_eq!(
            api.url(&format!("/digitaltwins/{}", segment("Room 1/ä"))),
            "https://twins.example/digitaltwins/Room%201%2F%C3%A4?api-version=2023-10-31"
        );
        assert_eq!(
            Api::new("", None).url("/models?includeModelDefinition=true"),
            "/models?includeModelDefinition=true&api-version=2023-10-31"
        );
    }

    #[test]
    fn errors_are_read_in_adts_shape() {
        let e = ApiError::from_body(
            404,
            r#"{"error":{"code":"DigitalTwinNotFound","message":"There is no digital twin"}}"#,
        );
        assert_eq!(e.code, "DigitalTwinNotFound");
        assert_eq!(e.message, "There is no digital twin");
        let e = ApiError::from_body(502, "Bad gateway");
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("Http502", "Bad gateway")
        );
    }
}
