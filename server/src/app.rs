//! The router: the REST and SCIM routes, then the layers every request
//! passes (outermost first): the access log, an error body for every error
//! (a problem, or a SCIM error under `/scim/v2`),
//! panics caught, the header-size limit, the request timeout.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rosterdb::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::config::Config;
use crate::problem::{Problem, ensure_problem};
use crate::state::AppState;

/// The HTTP API over `store` (docs/reference/http.md): `/v1` users, roles, clients and
/// authentication, and SCIM 2.0 Users and Groups under `/scim/v2`. Mount it in an axum application (`merge` or `nest`),
/// or serve it with [`crate::serve`]. A connection's peer address, which
/// API-key logins check against a client's `ipAllowlist`, comes from
/// axum's `ConnectInfo<SocketAddr>` ([`crate::serve`] provides it; with
/// `axum::serve`, use `into_make_service_with_connect_info`); without it,
/// only clients with an empty allowlist can use an API key.
pub fn router(store: Arc<Store>, config: Config) -> Router {
    let limits = config.limits.clone();
    let state = AppState {
        store,
        config: Arc::new(config),
    };
    let max_header_bytes = limits.max_header_bytes;
    crate::rest::routes()
        .merge(crate::scim::routes())
        .fallback(no_route)
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            header_limit(req, next, max_header_bytes)
        }))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            Problem::internal().into_response()
        }))
        .layer(middleware::from_fn(error_bodies))
        .layer(middleware::from_fn(crate::log::access_log))
}

/// Every error response in its path's format: a SCIM error body under
/// `/scim/v2`, a problem elsewhere (RFC 9457), whoever made it (a route,
/// a layer, axum itself).
async fn error_bodies(req: Request, next: Next) -> Response {
    let scim = crate::scim::is_scim(req.uri().path());
    let response = next.run(req).await;
    if scim {
        crate::scim::scim_error_body(response)
    } else {
        ensure_problem(response).await
    }
}

/// `404` for a path no route serves.
async fn no_route() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        "no resource at this path",
    )
}

/// `431` when the request's header names and values add up to more than `max` bytes.
async fn header_limit(req: Request, next: Next, max: usize) -> Response {
    let size = req.headers().iter().fold(0usize, |n, (name, value)| {
        n.saturating_add(name.as_str().len())
            .saturating_add(value.len())
    });
    if size > max {
        return Problem::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "HeaderFieldsTooLarge",
            format!("the request headers are larger than {max} bytes"),
        )
        .with("limit", max)
        .into_response();
    }
    next.run(req).await
}
