//! SCIM 2.0 under `/scim/v2`: the HTTP side of [`rosterdb_scim::handle`].
//!
//! Every request is authenticated as the REST API's are (bearer session or
//! API key), must hold every permission [`ScimRequest::permissions`]
//! names, and sees the store through a view scoped to its principal's
//! tenant; the store call runs on the blocking pool. A PUT, PATCH or
//! DELETE of a user or Group by a principal without `*` runs in one write
//! transaction, refused (`403`, rolled back) when the user, the Group's
//! role or a user whose membership it changes holds a permission the
//! principal lacks ([`crate::grant`]). HEAD is answered as
//! GET, without the body. What SCIM is — routes,
//! schemas, filters, PATCH, ETags — is the `rosterdb-scim` crate's. Errors
//! on these paths, the server's own included (401, 403, 408, 413, 415,
//! 431, 500), are SCIM error bodies ([`scim_error_body`]).

use axum::Router;
use axum::extract::{FromRequestParts, OriginalUri, Request, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use rosterdb_scim::{Resource, SCIM_MEDIA_TYPE, ScimError, ScimRequest, ScimResponse};

use crate::access::{Caller, Permission};
use crate::body::{JSON, declared_length, limited_bytes, media_type, unsupported};
use crate::config::PublicUrl;
use crate::problem::{Described, Problem, undescribed_error};
use crate::state::AppState;

/// Where SCIM is mounted.
const BASE: &str = "/scim/v2";

/// The routes of `/scim/v2`: every method on every path below it goes to
/// [`rosterdb_scim::handle`].
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, any(scim))
        .route("/scim/v2/", any(scim))
        .route("/scim/v2/{*rest}", any(scim))
}

/// Whether `path` (as the router sees it) is a SCIM path.
pub(crate) fn is_scim(path: &str) -> bool {
    path.strip_prefix(BASE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// One SCIM request. Its errors are problems, which the router's error
/// layer turns into SCIM error bodies on these paths.
async fn scim(State(state): State<AppState>, req: Request) -> Result<Response, Problem> {
    let (mut parts, body) = req.into_parts();
    let caller = Caller::from_request_parts(&mut parts, &state).await?;
    // HEAD is GET without the body (hyper sends none for HEAD).
    let method = if parts.method == axum::http::Method::HEAD {
        rosterdb_scim::Method::Get
    } else {
        rosterdb_scim::Method::parse(parts.method.as_str())
    };
    let path = scim_path(parts.uri.path())?;
    let query: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let probe = ScimRequest {
        method,
        path: &path,
        query: &query,
        body: &[],
        if_match: None,
        base_url: "",
    };
    for &permission in probe.permissions() {
        caller.require(Permission(permission))?;
    }
    let if_match = match parts.headers.get(header::IF_MATCH) {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| Problem::invalid_header("If-Match", "If-Match is not ASCII text"))?
                .to_owned(),
        ),
        None => None,
    };
    let limit = state.config.limits.max_body_bytes;
    let bytes = limited_bytes(body, declared_length(&parts.headers), limit).await?;
    if !bytes.is_empty() {
        let kind = media_type(&parts.headers);
        if !matches!(kind.as_deref(), Some(SCIM_MEDIA_TYPE | JSON)) {
            return Err(unsupported(&[SCIM_MEDIA_TYPE, JSON]));
        }
    }
    let base_url = base_url(&parts, state.config.public_url.as_ref());
    let answer = state
        .run(move |store| {
            let request = ScimRequest {
                method,
                path: &path,
                query: &query,
                body: &bytes,
                if_match: if_match.as_deref(),
                base_url: &base_url,
            };
            match request.target() {
                Some(target) if !caller.holds_all() => caller.write_if(
                    store,
                    |tx| guarded(&caller, tx, target, request),
                    |answer| (200..300).contains(&answer.status),
                ),
                _ => Ok(rosterdb_scim::handle(&caller.view(store)?, request)),
            }
        })
        .await?;
    Ok(to_http(answer))
}

/// Answers `request` in `tx` once the caller may act on what it writes:
/// a user whose roles grant only what the caller holds, or a Group whose
/// role does; a PUT or PATCH of a Group must also change the membership
/// only of such users. Else `403` naming the target (see [`crate::grant`]).
fn guarded(
    caller: &Caller,
    tx: &rosterdb::View<'_>,
    (resource, id): (Resource, u64),
    request: ScimRequest<'_>,
) -> Result<ScimResponse, Problem> {
    // No such record (or another tenant's): nothing to check, SCIM answers 404.
    match resource {
        Resource::User => {
            if let Some(user) = found(tx.users().get(id))? {
                caller.may_act_on(tx, &user_target(&user), &user.roles)?;
            }
            Ok(rosterdb_scim::handle(tx, request))
        }
        Resource::Group => {
            let role = id;
            if let Some(role) = found(tx.roles().get(role))? {
                caller.may_change_role(&role)?;
            }
            let deleting = request.method == rosterdb_scim::Method::Delete;
            let before = rosterdb_scim::holders(tx, role)?;
            let answer = rosterdb_scim::handle(tx, request);
            if (200..300).contains(&answer.status) && !deleting {
                let after = rosterdb_scim::holders(tx, role)?;
                let changed = before.iter().filter(|id| !after.contains(id));
                for &id in changed.chain(after.iter().filter(|id| !before.contains(id))) {
                    let user = tx.users().get(id)?;
                    caller.may_act_on(tx, &user_target(&user), &user.roles)?;
                }
            }
            Ok(answer)
        }
    }
}

/// How a refusal names a user.
fn user_target(user: &rosterdb::User) -> String {
    format!("user {} {:?}", user.id, user.username)
}

/// The record `got` found, `None` when there is none.
fn found<T>(got: Result<T, rosterdb::Error>) -> Result<Option<T>, rosterdb::Error> {
    match got {
        Ok(record) => Ok(Some(record)),
        Err(rosterdb::Error::NotFound { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The path after `/scim/v2`, percent-decoded (`/Users/3`, or empty).
fn scim_path(path: &str) -> Result<String, Problem> {
    let rest = path.strip_prefix(BASE).unwrap_or(path);
    percent_encoding::percent_decode_str(rest)
        .decode_utf8()
        .map(|p| p.into_owned())
        .map_err(|_| crate::params::not_utf8_path())
}

/// The absolute URL of `/scim/v2` as the client reached it, for
/// `meta.location` and `Location`: the configured public URL, else
/// `http://`, the `Host` header and any prefix the router is mounted under.
fn base_url(parts: &Parts, public: Option<&PublicUrl>) -> String {
    if let Some(public) = public {
        return format!("{public}{BASE}");
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost");
    let inner = parts.uri.path();
    let prefix = parts
        .extensions
        .get::<OriginalUri>()
        .and_then(|OriginalUri(original)| prefix_of(original, inner))
        .unwrap_or_default();
    format!("http://{host}{prefix}{BASE}")
}

/// The path prefix the router is mounted under: the original path minus
/// the path the router sees.
fn prefix_of(original: &Uri, inner: &str) -> Option<String> {
    original
        .path()
        .strip_suffix(inner)
        .map(|p| p.trim_end_matches('/').to_owned())
}

/// The HTTP response of a SCIM answer. A `500`'s detail goes to the log,
/// not to the client (as the REST API's `Internal` problems).
fn to_http(mut answer: ScimResponse) -> Response {
    if answer.status == 500 {
        let detail = answer.body.as_ref().and_then(|b| b.get("detail"));
        tracing::error!(detail = %detail.unwrap_or(&serde_json::Value::Null), "a SCIM request failed");
        answer.body =
            Some(ScimError::new(500, None, "the server failed to complete the request").body());
    }
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = answer
        .body
        .map_or_else(Vec::new, |body| body.to_string().into_bytes());
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    for (name, value) in &answer.headers {
        // Where GET is allowed, so is HEAD (this server answers it as GET).
        let value = if name.eq_ignore_ascii_case("allow") && value.split(", ").any(|m| m == "GET") {
            format!("{value}, HEAD")
        } else {
            value.clone()
        };
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.insert(name, value);
            }
            _ => tracing::error!(header = %name, "a SCIM answer's header is not valid HTTP"),
        }
    }
    response
}

/// A SCIM error body for an error response of a SCIM path that is not one
/// yet (the server's 401, 403, 413, 408, 431, 500…): its status, the
/// problem's detail, and its headers (`WWW-Authenticate`, `Allow`, …).
pub(crate) fn scim_error_body(response: Response) -> Response {
    let status = response.status();
    if !undescribed_error(&response, SCIM_MEDIA_TYPE) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let detail = parts.extensions.get::<Described>().map_or_else(
        || crate::problem::detail_of(status).to_owned(),
        |d| d.0.clone(),
    );
    let body = ScimError::new(status.as_u16(), None, detail)
        .body()
        .to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SCIM_MEDIA_TYPE),
    );
    Response::from_parts(parts, axum::body::Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_paths() {
        assert!(is_scim("/scim/v2"));
        assert!(is_scim("/scim/v2/Users/3"));
        assert!(!is_scim("/scim/v20"));
        assert!(!is_scim("/v1/users"));
    }

    #[test]
    fn the_path_after_the_base_is_decoded() {
        assert_eq!(
            scim_path("/scim/v2/Schemas/urn%3Aietf").unwrap(),
            "/Schemas/urn:ietf"
        );
        assert_eq!(scim_path("/scim/v2").unwrap(), "");
        assert!(scim_path("/scim/v2/%FF").is_err());
    }

    #[test]
    fn the_mount_prefix_is_what_precedes_the_inner_path() {
        let original: Uri = "/api/scim/v2/Users?x=1".parse().unwrap();
        assert_eq!(
            prefix_of(&original, "/scim/v2/Users").as_deref(),
            Some("/api")
        );
        let original: Uri = "/scim/v2/Users".parse().unwrap();
        assert_eq!(prefix_of(&original, "/scim/v2/Users").as_deref(), Some(""));
    }
}
