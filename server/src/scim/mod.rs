//! SCIM 2.0 (RFC 7643, RFC 7644) under `/scim/v2`: Users from the store's
//! users, with discovery, filters compiled to the §3 query engine,
//! paging, PATCH and ETags. Access is the REST API's (bearer session or
//! API key, `users:read` / `users:write`); errors are SCIM error bodies.

mod discovery;
mod error;
mod filter;
mod patch;
mod user;
mod users;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header::{self, HeaderValue};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};

use crate::state::AppState;
pub(crate) use error::{SCIM_JSON, ScimError};

/// The routes of `/scim/v2`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(discovery::resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(discovery::resource_type))
        .route("/scim/v2/Schemas", get(discovery::schemas))
        .route("/scim/v2/Schemas/{id}", get(discovery::schema))
        .route("/scim/v2/Users", get(users::list).post(users::create))
        .route("/scim/v2/Users/.search", post(users::search))
        // Users are the only resource type: a search of the root is theirs.
        .route("/scim/v2/.search", post(users::search))
        .route(
            "/scim/v2/Users/{id}",
            get(users::get)
                .put(users::replace)
                .patch(users::patch)
                .delete(users::delete),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .route("/scim/v2", any(no_endpoint))
        .route("/scim/v2/{*rest}", any(no_endpoint))
}

/// `405` as a SCIM error.
async fn method_not_allowed() -> ScimError {
    ScimError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        "the endpoint does not allow this method",
    )
}

/// `404` for a path under `/scim/v2` that names no endpoint.
async fn no_endpoint() -> ScimError {
    ScimError::not_found("no SCIM endpoint at this path")
}

/// The absolute URL of `/scim/v2` as the client reached it (scheme,
/// `Host` and any prefix the router is mounted under), for `meta.location`.
#[derive(Clone, Debug)]
pub(crate) struct Base(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Base {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
            .unwrap_or("localhost");
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.path().to_owned(), |u| u.0.path().to_owned());
        Ok(Base(format!(
            "http://{host}{}",
            base_of(&path.parse().unwrap_or_default())
        )))
    }
}

/// The path of `/scim/v2` in `uri` (with the prefix it is mounted under).
pub(crate) fn base_of(uri: &Uri) -> String {
    let path = uri.path();
    match path.find("/scim/v2") {
        Some(at) => path
            .get(..at.saturating_add("/scim/v2".len()))
            .unwrap_or("/scim/v2")
            .to_owned(),
        None => "/scim/v2".to_owned(),
    }
}

/// A SCIM JSON answer, with an `ETag` when `version` is given.
pub(crate) fn scim_response(status: StatusCode, body: &Value, version: Option<u64>) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    if let Some(tag) = version.and_then(|v| HeaderValue::from_str(&etag(v)).ok()) {
        headers.insert(header::ETAG, tag);
    }
    response
}

/// The ETag of a version, as SCIM shows it in `meta.version`: `W/"3"`.
pub(crate) fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// A `ListResponse` of `resources`, the page from `start_index`.
pub(crate) fn list_response(resources: Vec<Value>, total: u64, start_index: u64) -> Response {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    scim_response(StatusCode::OK, &body, None)
}
