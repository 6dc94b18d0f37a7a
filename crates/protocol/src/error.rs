//! ADT's error body: `{"error":{"code":"…","message":"…"}}`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The error codes ADT's data plane answers with, plus the generic ones every
/// endpoint can return. Serialized as ADT spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    BadRequest,
    InvalidArgument,
    ValidationFailed,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    PreconditionFailed,
    PayloadTooLarge,
    DigitalTwinNotFound,
    DigitalTwinAlreadyExists,
    RelationshipNotFound,
    RelationshipAlreadyExists,
    ModelNotFound,
    ModelIdAlreadyExists,
    EventRouteNotFound,
    JobNotFound,
    InternalServerError,
    ServiceUnavailable,
    JsonPatchInvalid,
    ModelDecommissioned,
    RelationshipsNotDeleted,
    ComponentNotFound,
    TargetDigitalTwinNotFound,
    JobIdAlreadyExists,
    TooManyRequests,
    InvalidRelationship,
    OperationNotAllowed,
    ModelReferencesNotDeleted,
    ModelReferencesNotDecommissioned,
    DTDLParserError,
    SqlQueryError,
    LimitExceeded,
    MissingArgument,
    MissingApiVersionParameter,
    InvalidApiVersionParameter,
    EventRouteEndpointInvalid,
    EventRouteFilterInvalid,
    EventRouteIdInvalid,
    ImportJobNotFound,
    DeleteJobNotFound,
    JobLimitReached,
    EndpointNotFound,
    EndpointInvalid,
    EndpointInUse,
    /// A 3D scene that does not exist (Twinscape's own).
    SceneNotFound,
    /// A 3D file that does not exist (Twinscape's own).
    AssetNotFound,
    /// A 3D file upload that is not glTF (Twinscape's own).
    AssetInvalid,
}

impl ErrorCode {
    /// The HTTP status ADT answers this code with.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            BadRequest
            | InvalidArgument
            | ValidationFailed
            | JsonPatchInvalid
            | ModelDecommissioned
            | RelationshipsNotDeleted
            | InvalidRelationship
            | OperationNotAllowed
            | DTDLParserError
            | SqlQueryError
            | LimitExceeded
            | MissingArgument
            | MissingApiVersionParameter
            | InvalidApiVersionParameter
            | EventRouteEndpointInvalid
            | EventRouteFilterInvalid
            | EventRouteIdInvalid
            | EndpointInvalid
            | JobLimitReached
            | AssetInvalid => 400,
            Unauthorized => 401,
            Forbidden => 403,
            NotFound
            | DigitalTwinNotFound
            | RelationshipNotFound
            | ModelNotFound
            | EventRouteNotFound
            | JobNotFound
            | ComponentNotFound
            | TargetDigitalTwinNotFound
            | ImportJobNotFound
            | DeleteJobNotFound
            | EndpointNotFound
            | SceneNotFound
            | AssetNotFound => 404,
            MethodNotAllowed => 405,
            DigitalTwinAlreadyExists
            | RelationshipAlreadyExists
            | ModelIdAlreadyExists
            | ModelReferencesNotDeleted
            | ModelReferencesNotDecommissioned
            | JobIdAlreadyExists
            | EndpointInUse => 409,
            PreconditionFailed => 412,
            PayloadTooLarge => 413,
            TooManyRequests => 429,
            InternalServerError => 500,
            ServiceUnavailable => 503,
        }
    }

    /// The code as it appears on the wire (and in the `x-ms-error-code` header).
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            BadRequest => "BadRequest",
            InvalidArgument => "InvalidArgument",
            ValidationFailed => "ValidationFailed",
            Unauthorized => "Unauthorized",
            Forbidden => "Forbidden",
            NotFound => "NotFound",
            MethodNotAllowed => "MethodNotAllowed",
            PreconditionFailed => "PreconditionFailed",
            PayloadTooLarge => "PayloadTooLarge",
            DigitalTwinNotFound => "DigitalTwinNotFound",
            DigitalTwinAlreadyExists => "DigitalTwinAlreadyExists",
            RelationshipNotFound => "RelationshipNotFound",
            RelationshipAlreadyExists => "RelationshipAlreadyExists",
            ModelNotFound => "ModelNotFound",
            ModelIdAlreadyExists => "ModelIdAlreadyExists",
            EventRouteNotFound => "EventRouteNotFound",
            JobNotFound => "JobNotFound",
            InternalServerError => "InternalServerError",
            ServiceUnavailable => "ServiceUnavailable",
            JsonPatchInvalid => "JsonPatchInvalid",
            ModelDecommissioned => "ModelDecommissioned",
            RelationshipsNotDeleted => "RelationshipsNotDeleted",
            ComponentNotFound => "ComponentNotFound",
            TargetDigitalTwinNotFound => "TargetDigitalTwinNotFound",
            JobIdAlreadyExists => "JobIdAlreadyExists",
            TooManyRequests => "TooManyRequests",
            InvalidRelationship => "InvalidRelationship",
            OperationNotAllowed => "OperationNotAllowed",
            ModelReferencesNotDeleted => "ModelReferencesNotDeleted",
            ModelReferencesNotDecommissioned => "ModelReferencesNotDecommissioned",
            DTDLParserError => "DTDLParserError",
            SqlQueryError => "SqlQueryError",
            LimitExceeded => "LimitExceeded",
            MissingArgument => "MissingArgument",
            MissingApiVersionParameter => "MissingApiVersionParameter",
            InvalidApiVersionParameter => "InvalidApiVersionParameter",
            EventRouteEndpointInvalid => "EventRouteEndpointInvalid",
            EventRouteFilterInvalid => "EventRouteFilterInvalid",
            EventRouteIdInvalid => "EventRouteIdInvalid",
            ImportJobNotFound => "ImportJobNotFound",
            DeleteJobNotFound => "DeleteJobNotFound",
            JobLimitReached => "JobLimitReached",
            EndpointNotFound => "EndpointNotFound",
            EndpointInvalid => "EndpointInvalid",
            EndpointInUse => "EndpointInUse",
            SceneNotFound => "SceneNotFound",
            AssetNotFound => "AssetNotFound",
            AssetInvalid => "AssetInvalid",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The inner object of an error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// More specific problems (ADT lists validation failures here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorItem>,
}

/// One entry of `error.details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorItem {
    pub code: ErrorCode,
    pub message: String,
}

/// An error response body in ADT's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
                details: Vec::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_adt_shape() {
        let body = ErrorBody::new(
            ErrorCode::DigitalTwinNotFound,
            "There is no digital twin instance that exists with the ID x.",
        );
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["error"]["code"], "DigitalTwinNotFound");
        assert_eq!(
            json["error"]["message"],
            "There is no digital twin instance that exists with the ID x."
        );
        assert_eq!(json.as_object().unwrap().len(), 1);
        let back: ErrorBody = serde_json::from_value(json).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn codes_map_to_adt_statuses() {
        assert_eq!(ErrorCode::DigitalTwinNotFound.http_status(), 404);
        assert_eq!(ErrorCode::ModelIdAlreadyExists.http_status(), 409);
        assert_eq!(ErrorCode::PreconditionFailed.http_status(), 412);
        assert_eq!(ErrorCode::ValidationFailed.http_status(), 400);
        assert_eq!(ErrorCode::PayloadTooLarge.http_status(), 413);
        // Display and serde agree.
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::RelationshipNotFound,
            ErrorCode::JobNotFound,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert_eq!(code.to_string(), code.as_str());
        }
    }
}
