//! The access log: one `tracing` event per request (target
//! `rosterdb_server::access`, level INFO) with the method, the path, the
//! status, the latency and the principal (`user:3`, `client:7`, or `-`).
//!
//! It never holds a secret: not the `Authorization` header nor any other
//! header, not the query string (its filter values may be personal data,
//! and a careless client may put a token there), not a body (passwords,
//! secrets and tokens travel in bodies). The path is logged without its
//! query, and a segment holding an e-mail address (an `@`, sent or as
//! `%40`: `/v1/users/ann@example.com`) is logged as `{email}`: an e-mail is
//! personal data, as a query's filter values may be.

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

/// `path` as the log shows it: each segment holding an `@` (or `%40`)
/// replaced by `{email}`, then cut to [`MAX_LOGGED_PATH`] characters.
fn logged_path(path: &str) -> String {
    let holds_email = |segment: &str| {
        segment.contains('@')
            || segment
                .as_bytes()
                .windows(3)
                .any(|w| w.eq_ignore_ascii_case(b"%40"))
    };
    if !holds_email(path) {
        // Most paths: no segment to redact, nothing to split.
        return path.chars().take(MAX_LOGGED_PATH).collect();
    }
    path.split('/')
        .map(|segment| {
            if holds_email(segment) {
                "{email}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
        .chars()
        .take(MAX_LOGGED_PATH)
        .collect()
}

/// Serves the request and logs it.
pub(crate) async fn access_log(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = logged_path(req.uri().path());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mails_in_paths_are_not_logged() {
        assert_eq!(logged_path("/v1/users/3"), "/v1/users/3");
        assert_eq!(
            logged_path("/v1/users/ann@example.com"),
            "/v1/users/{email}"
        );
        assert_eq!(
            logged_path("/v1/users/ann%40example.com/"),
            "/v1/users/{email}/"
        );
        assert_eq!(logged_path("/x/a%2540b"), "/x/a%2540b");
        assert_eq!(logged_path("/x/A%40B"), "/x/{email}");
        // Redacted before the cut: no part of a long address is left.
        let long = format!("/v1/users/{}@example.com", "a".repeat(300));
        assert_eq!(logged_path(&long), "/v1/users/{email}");
        assert_eq!(
            logged_path(&"/a".repeat(200)).chars().count(),
            MAX_LOGGED_PATH
        );
    }
}
