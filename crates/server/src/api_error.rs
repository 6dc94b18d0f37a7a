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

impl From<twinscape_graph::GraphError> for ApiError {
    fn from(e: twinscape_graph::GraphError) -> Self {
        use twinscape_graph::GraphError as G;
        let code = match &e {
            G::TwinNotFound(_) => ErrorCode::DigitalTwinNotFound,
            G::TwinAlreadyExists(_) => ErrorCode::DigitalTwinAlreadyExists,
            G::RelationshipNotFound { .. } => ErrorCode::RelationshipNotFound,
            G::RelationshipAlreadyExists { .. } => ErrorCode::RelationshipAlreadyExists,
            G::ComponentNotFound { .. } => ErrorCode::ComponentNotFound,
            G::PreconditionFailed(_) => ErrorCode::PreconditionFailed,
            G::ModelNotFound(_) => ErrorCode::ValidationFailed,
            G::ModelDecommissioned(_) => ErrorCode::ModelDecommissioned,
            G::TwinHasRelationships(_) => ErrorCode::RelationshipsNotDeleted,
            G::InvalidTwin(_) => ErrorCode::ValidationFailed,
            G::InvalidRelationship(m)
                if m.contains("target twin") && m.contains("does not exist") =>
            {
                ErrorCode::TargetTwinNotFound
            }
            G::InvalidRelationship(_) => ErrorCode::InvalidRelationship,
            G::InvalidPatch(_) | G::PatchTestFailed(_) => ErrorCode::JsonPatchInvalid,
            G::ValidationFailed(_) => ErrorCode::ValidationFailed,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<twinscape_dtdl::RegistryError> for ApiError {
    fn from(e: twinscape_dtdl::RegistryError) -> Self {
        use twinscape_dtdl::RegistryError as R;
        let code = match &e {
            R::NotFound(_) => ErrorCode::ModelNotFound,
            R::HasDependents { .. } => ErrorCode::ModelReferencesNotDeleted,
            R::Invalid(_) => ErrorCode::DTDLParserError,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<twinscape_engine::QueryFailure> for ApiError {
    fn from(e: twinscape_engine::QueryFailure) -> Self {
        use twinscape_engine::QueryFailure as Q;
        let code = match &e {
            Q::Query(_) => ErrorCode::SqlQueryError,
            Q::Token(_) | Q::PageSize(_) => ErrorCode::BadRequest,
        };
        ApiError::new(code, e.to_string())
    }
}
