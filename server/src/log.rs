//! The access log: one `tracing` event per request (target
//! `rosterdb_server::access`, level INFO) with the method, the path, the
//! status, the latency and the principal (`user:3`, `client:7`, or `-`).
//!
//! It never holds a secret: not the `Authorization` header nor any other
//! header, not the query string (its filter values may be personal data,
//! and a careless client may put a token there), not a body (passwords,
//! secrets and tokens travel in bodies). The path is logged as sent,
//! without its query; it may hold a user's email (`/v1/users/{email}`),
//! which is an identifier, not a secret.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// The longest path logged, in characters (a longer one is cut).
const MAX_LOGGED_PATH: usize = 256;

/// Where the request's principal is noted once known.
#[derive(Clone, Default)]
pub(crate) struct Who(Arc<OnceLock<String>>);

impl Who {
    /// Notes the principal (the first note wins).
    pub(crate) fn set(&self, label: String) {
        let _ = self.0.set(label);
    }
}

/// Serves the request and logs it.
pub(crate) async fn access_log(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path: String = req.uri().path().chars().take(MAX_LOGGED_PATH).collect();
    let who = Who::default();
    req.extensions_mut().insert(who.clone());
    let response = next.run(req).await;
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let principal = who.0.get().map_or("-", String::as_str);
    tracing::info!(
        target: "rosterdb_server::access",
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        latency_us,
        principal,
        "request"
    );
    response
}
