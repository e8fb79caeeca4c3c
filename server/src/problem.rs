//! RFC 9457 problem details: every error the server answers with is an
//! `application/problem+json` body.
//!
//! ```json
//! {"type": "about:blank", "title": "Conflict", "status": 409,
//!  "detail": "user email is already taken", "kind": "Conflict", "field": "email"}
//! ```
//!
//! `kind` is the store's error kind (docs/reference/errors.md: `NotFound` 404, `Conflict`
//! and `InUse` 409, `Validation` 422, `InvalidQuery` and `InvalidPatch`
//! 400, `VersionConflict` 412, `AuthenticationFailed` and `InvalidToken`
//! 401) or one of the server's own: `AuthenticationRequired` 401,
//! `Forbidden` 403, `InvalidJson` and `InvalidHeader` 400,
//! `MethodNotAllowed` 405, `RequestTimeout` 408, `PayloadTooLarge` 413,
//! `UnsupportedMediaType` 415, `HeaderFieldsTooLarge` 431, `Unavailable`
//! 503, `Internal` 500. The members the store's error carries follow:
//! `errors` (each `field`, `code`, `message`) for `Validation`; `code`,
//! `position` and `field` for `InvalidQuery`; `opIndex` and `code` for
//! `InvalidPatch`; `field` for `Conflict`; `expected` and `actual` for
//! `VersionConflict`; `count` for `InUse`; `permission` for `Forbidden`.
//! No body ever holds a password, secret or token.

use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use rosterdb::Error;
use serde_json::{Map, Value, json};

/// The media type of a problem body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response: status, kind, detail and extension members (boxed,
/// so that results carrying one stay small).
#[derive(Clone, Debug)]
pub struct Problem(Box<Details>);

/// What a [`Problem`] holds.
#[derive(Clone, Debug)]
struct Details {
    status: StatusCode,
    kind: &'static str,
    detail: String,
    members: Map<String, Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Problem {
    /// A problem of `status` and `kind`, described by `detail`.
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Self {
        Problem(Box::new(Details {
            status,
            kind,
            detail: detail.into(),
            members: Map::new(),
            headers: Vec::new(),
        }))
    }

    /// The same problem with the extension member `name`.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.0.members.insert(name.to_owned(), value.into());
        self
    }

    /// The same problem answered with the header `name: value`.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.headers.push((name, value));
        self
    }

    /// Its status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// Its kind, e.g. `NotFound`.
    pub fn kind(&self) -> &'static str {
        self.0.kind
    }

    /// `500 Internal`, telling the client nothing of the cause (the
    /// server's log does).
    pub fn internal() -> Self {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal",
            "the server failed to complete the request",
        )
    }

    /// `400 InvalidHeader` naming the header.
    pub fn invalid_header(name: &str, detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "InvalidHeader", detail).with("header", name)
    }

    /// The body as JSON.
    pub fn to_json(&self) -> Value {
        let details = &self.0;
        let mut body = Map::new();
        body.insert("type".into(), json!("about:blank"));
        body.insert(
            "title".into(),
            json!(details.status.canonical_reason().unwrap_or("Error")),
        );
        body.insert("status".into(), json!(details.status.as_u16()));
        body.insert("detail".into(), json!(details.detail));
        body.insert("kind".into(), json!(details.kind));
        for (name, value) in &details.members {
            body.insert(name.clone(), value.clone());
        }
        Value::Object(body)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> axum::response::Response {
        let body = self.to_json().to_string();
        let mut response = Response::new(axum::body::Body::from(body));
        *response.status_mut() = self.0.status;
        response
            .extensions_mut()
            .insert(Described(self.0.detail.clone()));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in self.0.headers {
            headers.append(name, value);
        }
        response
    }
}

impl From<Error> for Problem {
    fn from(err: Error) -> Self {
        let detail = err.to_string();
        match err {
            Error::NotFound { entity, .. } => {
                Problem::new(StatusCode::NOT_FOUND, "NotFound", detail)
                    .with("entity", entity.as_str())
            }
            Error::Conflict { entity, field } => {
                Problem::new(StatusCode::CONFLICT, "Conflict", detail)
                    .with("entity", entity.as_str())
                    .with("field", field)
            }
            Error::Validation { errors } => {
                let errors: Vec<Value> = errors
                    .iter()
                    .map(|e| json!({"field": e.field, "code": e.code.as_str(), "message": e.message}))
                    .collect();
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation", detail)
                    .with("errors", errors)
            }
            Error::InvalidQuery {
                code,
                position,
                field,
                ..
            } => {
                let mut problem = Problem::new(StatusCode::BAD_REQUEST, "InvalidQuery", detail)
                    .with("code", code.as_str());
                if let Some(position) = position {
                    problem = problem.with("position", position);
                }
                if let Some(field) = field {
                    problem = problem.with("field", field);
                }
                problem
            }
            Error::InvalidPatch { op_index, code, .. } => {
                Problem::new(StatusCode::BAD_REQUEST, "InvalidPatch", detail)
                    .with("opIndex", op_index)
                    .with("code", code.as_str())
            }
            Error::VersionConflict { expected, actual } => {
                Problem::new(StatusCode::PRECONDITION_FAILED, "VersionConflict", detail)
                    .with("expected", expected)
                    .with("actual", actual)
            }
            Error::InUse { count, .. } => {
                Problem::new(StatusCode::CONFLICT, "InUse", detail).with("count", count)
            }
            Error::AuthenticationFailed => {
                Problem::new(StatusCode::UNAUTHORIZED, "AuthenticationFailed", detail)
                    .with_header(header::WWW_AUTHENTICATE, challenge())
            }
            Error::InvalidToken => Problem::new(StatusCode::UNAUTHORIZED, "InvalidToken", detail)
                .with_header(header::WWW_AUTHENTICATE, challenge()),
            Error::InvalidArgument { argument, .. } => {
                Problem::new(StatusCode::BAD_REQUEST, "InvalidArgument", detail)
                    .with("argument", argument)
            }
            Error::Locked | Error::Closed { .. } | Error::Busy { .. } => {
                tracing::warn!(error = %detail, "store unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Unavailable",
                    "the store cannot serve the request now; try again",
                )
            }
            other => {
                tracing::error!(error = %other, "store call failed");
                Problem::internal()
            }
        }
    }
}

/// The detail of a problem, kept in its response's extensions for a
/// layer that answers in another error format (SCIM's, on SCIM paths).
#[derive(Clone, Debug)]
pub(crate) struct Described(pub(crate) String);

/// The `WWW-Authenticate` challenge of a 401: the two schemes accepted.
pub(crate) fn challenge() -> HeaderValue {
    HeaderValue::from_static("Bearer, Apikey")
}

/// The kind of a problem the router made with no body of its own (a
/// method not allowed, a timeout, an extractor's refusal), from its status.
fn kind_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "NotFound",
        StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowed",
        StatusCode::REQUEST_TIMEOUT => "RequestTimeout",
        StatusCode::PAYLOAD_TOO_LARGE => "PayloadTooLarge",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UnsupportedMediaType",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "HeaderFieldsTooLarge",
        StatusCode::UNAUTHORIZED => "AuthenticationRequired",
        StatusCode::FORBIDDEN => "Forbidden",
        StatusCode::SERVICE_UNAVAILABLE => "Unavailable",
        s if s.is_server_error() => "Internal",
        _ => "BadRequest",
    }
}

/// The detail of a problem made from a bare status.
pub(crate) fn detail_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => "the resource does not allow this method",
        StatusCode::REQUEST_TIMEOUT => "the request took too long",
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large",
        s if s.is_server_error() => "the server failed to complete the request",
        _ => "the request cannot be served",
    }
}

/// Whether `response` is an error whose body is not of `media_type`
/// already (and so needs one of that type).
pub(crate) fn undescribed_error(response: &axum::response::Response, media_type: &str) -> bool {
    let status = response.status();
    let described = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(media_type.as_bytes()));
    (status.is_client_error() || status.is_server_error()) && !described
}

/// Turns every error response that is not a problem already (axum's own
/// 405, tower-http's 408, an extractor's refusal) into one, keeping its
/// status and headers (such as `Allow`).
pub(crate) async fn ensure_problem(response: axum::response::Response) -> axum::response::Response {
    let status = response.status();
    if !undescribed_error(&response, PROBLEM_JSON) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let problem = Problem::new(status, kind_of(status), detail_of(status));
    let body = problem.to_json().to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Response::from_parts(parts, axum::body::Body::from(body))
}
