//! Request bodies: the media type checked, the size limited, the JSON
//! parsed; each failure a problem (415, 413, 400).

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::header::{self, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::Value;

use crate::problem::Problem;
use crate::state::AppState;

/// `application/json`: what POST and PUT take.
pub(crate) const JSON: &str = "application/json";
/// RFC 6902 JSON Patch.
pub(crate) const JSON_PATCH: &str = "application/json-patch+json";
/// RFC 7396 JSON Merge Patch.
pub(crate) const MERGE_PATCH: &str = "application/merge-patch+json";

/// A JSON document sent as `application/json`.
pub(crate) struct JsonDoc(pub(crate) Value);

/// A PATCH body: which kind of patch, and the patch.
pub(crate) enum PatchDoc {
    /// An RFC 6902 JSON Patch (an array of operations).
    Json(Value),
    /// An RFC 7396 merge patch.
    Merge(Value),
}

/// The media type of the request, lowercased, without parameters.
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or("").trim();
    Some(essence.to_ascii_lowercase())
}

/// `415 Unsupported Media Type` naming what is accepted.
pub(crate) fn unsupported(accepted: &[&str]) -> Problem {
    let mut problem = Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UnsupportedMediaType",
        format!("the body must be sent as {}", accepted.join(" or ")),
    )
    .with("accepted", accepted.to_vec());
    if let Ok(value) = HeaderValue::from_str(&accepted.join(", ")) {
        let name = if accepted.contains(&JSON_PATCH) {
            header::HeaderName::from_static("accept-patch")
        } else {
            header::ACCEPT
        };
        problem = problem.with_header(name, value);
    }
    problem
}

/// `413 Payload Too Large`.
fn too_large(limit: usize) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLarge",
        format!("the request body is larger than {limit} bytes"),
    )
    .with("limit", limit)
}

/// The bytes of `body`, at most `limit`: refused at once when the
/// `Content-Length` the request declares is larger, else read up to the
/// limit.
pub(crate) async fn limited_bytes(
    body: Body,
    declared: Option<u64>,
    limit: usize,
) -> Result<Bytes, Problem> {
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(limit)),
        Err(_) => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the request body could not be read",
        )),
    }
}

/// The body of `req` as JSON, at most `limit` bytes ([`limited_bytes`]).
async fn json_body(body: Body, declared: Option<u64>, limit: usize) -> Result<Value, Problem> {
    let bytes = limited_bytes(body, declared, limit).await?;
    serde_json::from_slice(&bytes).map_err(|err| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "InvalidJson",
            format!("the request body is not valid JSON: {err}"),
        )
        .with("line", err.line())
        .with("column", err.column())
    })
}

/// The `Content-Length` the request declares, if any.
pub(crate) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

impl FromRequest<AppState> for JsonDoc {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Problem> {
        if media_type(req.headers()).as_deref() != Some(JSON) {
            return Err(unsupported(&[JSON]));
        }
        let declared = declared_length(req.headers());
        let limit = state.config.limits.max_body_bytes;
        Ok(JsonDoc(json_body(req.into_body(), declared, limit).await?))
    }
}

impl FromRequest<AppState> for PatchDoc {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Problem> {
        let wrap: fn(Value) -> PatchDoc = match media_type(req.headers()).as_deref() {
            Some(JSON_PATCH) => PatchDoc::Json,
            Some(MERGE_PATCH) => PatchDoc::Merge,
            _ => return Err(unsupported(&[JSON_PATCH, MERGE_PATCH])),
        };
        let declared = declared_length(req.headers());
        let limit = state.config.limits.max_body_bytes;
        Ok(wrap(json_body(req.into_body(), declared, limit).await?))
    }
}
