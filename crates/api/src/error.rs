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
    pub details: Vec<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// ADT's validation failure: a general message, the problems as details.
    pub fn validation(details: Vec<String>) -> Self {
        Self {
            code: ErrorCode::ValidationFailed,
            message: "Invalid twin specified".into(),
            details,
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
        let mut body = ErrorBody::new(self.code, self.message);
        body.error.details = self
            .details
            .into_iter()
            .map(|message| twinscape_protocol::ErrorItem {
                code: self.code,
                message,
            })
            .collect();
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
        const PATCH_HINT: &str = "Please provide a valid patch document. See section on update apis in the documentation https://aka.ms/adtv2twins.";
        match e {
            G::TwinNotFound(id) => ApiError::new(
                ErrorCode::DigitalTwinNotFound,
                format!(
                    "There is no digital twin instance that exists with the ID {id}. Please verify that the twin id is valid and ensure that the twin is not deleted. See section on querying the twins https://aka.ms/adtv2query."
                ),
            ),
            G::TwinAlreadyExists(id) => ApiError::new(
                ErrorCode::DigitalTwinAlreadyExists,
                format!("A digital twin with the ID {id} already exists."),
            ),
            G::RelationshipNotFound { twin, relationship } => ApiError::new(
                ErrorCode::RelationshipNotFound,
                format!(
                    "Relationship {relationship} not found on twin {twin}. Please verify that the relationship id is valid and ensure that the relationship is not deleted. See section on listing relationships in the documentation https://aka.ms/adtv2twins."
                ),
            ),
            G::RelationshipAlreadyExists { twin, relationship } => ApiError::new(
                ErrorCode::RelationshipAlreadyExists,
                format!("A relationship with the id {relationship} already exists on twin {twin}."),
            ),
            G::ComponentNotFound { twin, component } => ApiError::new(
                ErrorCode::ComponentNotFound,
                format!(
                    "{twin} does not have component {component} Please verify that the component path is correct. You can get components by getting the twin, See example https://aka.ms/TwinGetSwSmpl."
                ),
            ),
            G::PreconditionFailed(message) => ApiError::new(ErrorCode::PreconditionFailed, message),
            G::ModelNotFound(model) => ApiError::validation(vec![format!(
                "{model} or one of its dependencies does not exist."
            )]),
            G::ModelDecommissioned(model) => ApiError::new(
                ErrorCode::ModelDecommissioned,
                format!(
                    "The model {model} is decommissioned: no new twins can be created with it."
                ),
            ),
            G::TwinHasRelationships(id) => ApiError::new(
                ErrorCode::RelationshipsNotDeleted,
                format!(
                    "The digital twin {id} has relationships. All relationships referencing the digital twin must be deleted before it can be deleted."
                ),
            ),
            G::TargetTwinNotFound(_) => ApiError::new(
                ErrorCode::TargetDigitalTwinNotFound,
                "The target digital twin is invalid or does not exist. Please validate that the target twin is valid and ensure that the target twin is not deleted. See section on querying the twins https://aka.ms/adtv2query .",
            ),
            G::InvalidTwin(m) => ApiError::validation(vec![m]),
            G::InvalidRelationship(m) => ApiError::new(ErrorCode::InvalidArgument, m),
            G::InvalidPatch(m) | G::PatchTestFailed(m) => {
                ApiError::new(ErrorCode::JsonPatchInvalid, format!("{m} {PATCH_HINT}"))
            }
            G::ValidationFailed(errors) => ApiError::validation(errors),
        }
    }
}

impl From<twinscape_dtdl::RegistryError> for ApiError {
    fn from(e: twinscape_dtdl::RegistryError) -> Self {
        use twinscape_dtdl::RegistryError as R;
        let code = match &e {
            R::NotFound(id) => {
                return ApiError::new(
                    ErrorCode::ModelNotFound,
                    format!(
                        "There is no Model(s) available that matches the provided id(s) {id}. Check that the Model ID provided is valid by doing a Model_List API call."
                    ),
                );
            }
            R::HasDependents { dependents, .. } => {
                return ApiError::new(
                    ErrorCode::ModelReferencesNotDeleted,
                    format!(
                        "This model is currently being referenced by {}. You must delete these references before deleting the Model.. To delete references, do Delete Model on Ids provided above.",
                        dependents.join(", ")
                    ),
                );
            }
            R::Invalid(_) => ErrorCode::DTDLParserError,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<twinscape_engine::QueryFailure> for ApiError {
    fn from(e: twinscape_engine::QueryFailure) -> Self {
        use twinscape_engine::QueryFailure as Q;
        let code = match &e {
            Q::Query(_) => {
                return ApiError::new(
                    ErrorCode::SqlQueryError,
                    format!(
                        "SQL query parse failed: {e} See samples in https://aka.ms/adtv2query for the correct syntax."
                    ),
                );
            }
            Q::Token(_) | Q::PageSize(_) => ErrorCode::BadRequest,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<twinscape_core::CoreError> for ApiError {
    fn from(e: twinscape_core::CoreError) -> Self {
        use twinscape_core::CoreError as C;
        match e {
            C::Graph(e) => e.into(),
            C::Registry(e) => e.into(),
            C::ModelsExist(ids) => ApiError::new(
                ErrorCode::ModelIdAlreadyExists,
                format!(
                    "Some of the model ids already exist: {}. Use Model_List API to view models that already exist. See the Swagger example (https://aka.ms/ModelListSwSmpl).",
                    ids.join(", ")
                ),
            ),
            C::InvalidModels(e) => ApiError::new(
                ErrorCode::DTDLParserError,
                format!(
                    "None of the models in this request could be created due to a problem with one or more models: {e}. See model documentation(https://aka.ms/ADTv2Models) for supported format."
                ),
            ),
            C::MissingMessageId => ApiError::new(
                ErrorCode::InvalidArgument,
                "The Message-Id header is required for telemetry.",
            ),
            C::NotDurable(err) => ApiError::new(
                ErrorCode::ServiceUnavailable,
                format!("The write could not be made durable: {err}"),
            ),
            C::Poisoned => ApiError::new(
                ErrorCode::ServiceUnavailable,
                "A previous write could not be made durable; restart the server to reload the durable state.",
            ),
        }
    }
}
