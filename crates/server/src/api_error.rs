//! The one place where errors become HTTP responses in ADT's shape:
//! `{"error":{"code","message"}}`, the matching status, and `x-ms-error-code`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use twinscape_protocol::{ErrorBody, ErrorCode};

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody::new(self.code, self.message);
        let mut resp = (status, axum::Json(body)).into_response();
        resp.headers_mut().insert(
            "x-ms-error-code",
            HeaderValue::from_static(self.code.as_str()),
        );
        resp
    }
}
