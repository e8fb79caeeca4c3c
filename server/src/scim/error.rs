//! SCIM error bodies (RFC 7644 §3.12): what every `/scim/v2` route
//! answers with instead of a problem.

use axum::http::header::{self, HeaderValue};
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use rosterdb::Error;
use serde_json::{Value, json};

use crate::problem::Problem;

/// The media type of SCIM bodies.
pub(crate) const SCIM_JSON: &str = "application/scim+json";

/// A SCIM error: status, `scimType` (when RFC 7644 names one) and detail.
#[derive(Debug)]
pub(crate) struct ScimError {
    status: StatusCode,
    scim_type: Option<&'static str>,
    detail: String,
}

impl ScimError {
    /// An error of `status`, `scimType` and `detail`.
    pub(crate) fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// `400 invalidValue`.
    pub(crate) fn invalid_value(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::BAD_REQUEST, Some("invalidValue"), detail)
    }

    /// `400 invalidPath`.
    pub(crate) fn invalid_path(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::BAD_REQUEST, Some("invalidPath"), detail)
    }

    /// `400 invalidFilter`.
    pub(crate) fn invalid_filter(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::BAD_REQUEST, Some("invalidFilter"), detail)
    }

    /// `404`: no such resource or endpoint.
    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::NOT_FOUND, None, detail)
    }

    /// The same error, its detail naming the PATCH operation at `index`.
    pub(crate) fn at_operation(mut self, index: usize) -> Self {
        self.detail = format!("operation {index}: {}", self.detail);
        self
    }

    /// The body.
    fn body(&self) -> Value {
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let (Some(scim_type), Some(object)) = (self.scim_type, body.as_object_mut()) {
            object.insert("scimType".into(), json!(scim_type));
        }
        body
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> axum::response::Response {
        let mut response = Response::new(axum::body::Body::from(self.body().to_string()));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        response
    }
}

impl From<Error> for ScimError {
    fn from(err: Error) -> Self {
        ScimError::from(Problem::from(err))
    }
}

impl From<Problem> for ScimError {
    /// The SCIM error of a problem: its status and detail, and the
    /// `scimType` of its kind (a bad value is 400 in SCIM, not 422).
    fn from(problem: Problem) -> Self {
        let body = problem.to_json();
        let detail = body
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let read_only = body
            .get("errors")
            .and_then(Value::as_array)
            .is_some_and(|errors| {
                errors.iter().any(|e| {
                    matches!(
                        e.get("code").and_then(Value::as_str),
                        Some("read_only" | "immutable")
                    )
                })
            });
        let (status, scim_type) = match problem.kind() {
            "Conflict" => (problem.status(), Some("uniqueness")),
            "Validation" if read_only => (StatusCode::BAD_REQUEST, Some("mutability")),
            "Validation" | "InvalidPatch" | "InvalidJson" => {
                (StatusCode::BAD_REQUEST, Some("invalidValue"))
            }
            "InvalidQuery" => (StatusCode::BAD_REQUEST, Some("invalidFilter")),
            _ => (problem.status(), None),
        };
        ScimError::new(status, scim_type, detail)
    }
}
