//! [`handle`]: a SCIM request routed to its endpoint, and the plumbing the
//! endpoints share (transactions, bodies, resource responses).

use rosterdb::{ReadOnly, View};
use serde_json::Value;

use crate::error::ScimError;
use crate::list::{self, ListParams, Lister};
use crate::request::{Method, ScimRequest, ScimResponse};
use crate::resource::{check_tag, etag, if_match, location, parse_id};
use crate::schema::Resource;
use crate::{discovery, group_routes, user_routes};

/// Answers one SCIM request against `view`.
///
/// The caller has authenticated the principal, checked its permissions
/// (e.g. `users:read` for `GET /Users`) and scoped `view` to the
/// principal's tenant: every record of another tenant is then `404`.
/// Every write is one rosterdb transaction: a failing request writes
/// nothing.
///
/// ```
/// use rosterdb::{Store, View};
/// use rosterdb_scim::{Method, ScimRequest, handle};
///
/// let store = Store::memory()?;
/// let view = View::whole(&store);
/// let body = br#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
///     "userName": "ann", "name": {"givenName": "Ann", "familyName": "Lee"},
///     "emails": [{"value": "ann@example.com"}]}"#;
/// let created = handle(&view, ScimRequest {
///     method: Method::Post, path: "/Users", query: &[], body, if_match: None,
///     base_url: "https://idp.example/scim/v2",
/// });
/// assert_eq!(created.status, 201);
/// assert_eq!(created.header("Location"), Some("https://idp.example/scim/v2/Users/1"));
/// # Ok::<(), rosterdb::Error>(())
/// ```
pub fn handle(view: &View<'_>, request: ScimRequest<'_>) -> ScimResponse {
    match route(view, &request) {
        Ok(response) => response,
        Err(error) => {
            let response = ScimResponse::json(error.status, error.body());
            match (error.status, allowed(request.path)) {
                (405, Some(methods)) => response.with_header("Allow", methods.into()),
                _ => response,
            }
        }
    }
}

/// A path's endpoint name and what follows it: `/Users/3` is
/// (`Users`, `3`), `/Users/` (`Users`, none).
pub(crate) fn endpoint(path: &str) -> (&str, Option<&str>) {
    let mut segments = path
        .trim_end_matches('/')
        .trim_start_matches('/')
        .splitn(2, '/');
    (segments.next().unwrap_or(""), segments.next())
}

/// The methods the endpoint at `path` answers, for the `Allow` header a
/// `405` carries (RFC 9110 §15.5.6); `None` for a path no endpoint serves.
fn allowed(path: &str) -> Option<&'static str> {
    match endpoint(path) {
        ("ServiceProviderConfig", None) | ("ResourceTypes" | "Schemas", _) => Some("GET"),
        ("Users" | "Groups", None) => Some("GET, POST"),
        ("Users" | "Groups", Some(".search")) | (".search", None) => Some("POST"),
        ("Users" | "Groups", Some(_)) => Some("GET, PUT, PATCH, DELETE"),
        _ => None,
    }
}

fn route(view: &View<'_>, request: &ScimRequest<'_>) -> Result<ScimResponse, ScimError> {
    let path = request.path.trim_end_matches('/');
    let (first, rest) = endpoint(path);
    let method = request.method;
    let base = request.base_url;
    match (first, rest) {
        ("ServiceProviderConfig", None) => {
            only_get(method)?;
            Ok(ScimResponse::json(
                200,
                discovery::service_provider_config(base),
            ))
        }
        ("ResourceTypes", id) => {
            only_get(method)?;
            no_filter(request)?;
            Ok(ScimResponse::json(
                200,
                discovery::resource_types(id, base)?,
            ))
        }
        ("Schemas", id) => {
            only_get(method)?;
            no_filter(request)?;
            Ok(ScimResponse::json(200, discovery::schemas(id, base)?))
        }
        ("Users", rest) => collection(view, request, rest, &user_routes::ENDPOINTS),
        ("Groups", rest) => collection(view, request, rest, &group_routes::ENDPOINTS),
        (".search", None) => {
            if method != Method::Post {
                return Err(method_not_allowed());
            }
            let params = ListParams::from_search(&body(request)?)?;
            let listers = [
                &user_routes::ENDPOINTS.lister,
                &group_routes::ENDPOINTS.lister,
            ];
            Ok(ScimResponse::json(
                200,
                list::search(view, &listers, &params, base)?,
            ))
        }
        ("Bulk", None) | ("Me", None) => Err(ScimError::new(
            501,
            None,
            format!("/{first} is not supported"),
        )),
        _ => Err(ScimError::not_found(format!("no SCIM endpoint {path:?}"))),
    }
}

/// A resource type's endpoints: what [`collection`] calls.
pub(crate) struct Endpoints {
    pub resource: Resource,
    /// How the collection is listed (GET, or POST of `.search`).
    pub lister: Lister,
    /// POST of the collection.
    pub create: fn(&View<'_>, &ScimRequest<'_>, &ListParams) -> Result<ScimResponse, ScimError>,
    /// GET of one resource.
    pub get: fn(&View<'_>, &ScimRequest<'_>, &ListParams, u64) -> Result<ScimResponse, ScimError>,
    /// PUT (`false`) or PATCH (`true`) of one resource.
    pub update:
        fn(&View<'_>, &ScimRequest<'_>, &ListParams, u64, bool) -> Result<ScimResponse, ScimError>,
    /// The version tag (ETag) of one resource, in a transaction.
    pub tag: fn(&View<'_>, u64) -> Result<String, rosterdb::Error>,
    /// Deletes one record, in a transaction.
    pub delete: fn(&View<'_>, u64) -> Result<(), rosterdb::Error>,
}

/// `/Users…` or `/Groups…`: `rest` is what follows the collection's name.
fn collection(
    view: &View<'_>,
    request: &ScimRequest<'_>,
    rest: Option<&str>,
    endpoints: &Endpoints,
) -> Result<ScimResponse, ScimError> {
    let params = ListParams::from_query(request.query)?;
    match (rest, request.method) {
        (None, Method::Get) => search(view, request, &params, endpoints),
        (None, Method::Post) => (endpoints.create)(view, request, &params),
        (Some(".search"), Method::Post) => {
            let params = ListParams::from_search(&body(request)?)?;
            search(view, request, &params, endpoints)
        }
        (None | Some(".search"), _) => Err(method_not_allowed()),
        (Some(id), method) => {
            let id = parse_id(id, endpoints.resource)?;
            match method {
                Method::Get => (endpoints.get)(view, request, &params, id),
                Method::Put => (endpoints.update)(view, request, &params, id, false),
                Method::Patch => (endpoints.update)(view, request, &params, id, true),
                Method::Delete => delete(view, request, id, endpoints),
                _ => Err(method_not_allowed()),
            }
        }
    }
}

/// A search of one collection: `200` with a `ListResponse`.
fn search(
    view: &View<'_>,
    request: &ScimRequest<'_>,
    params: &ListParams,
    endpoints: &Endpoints,
) -> Result<ScimResponse, ScimError> {
    let body = list::search(view, &[&endpoints.lister], params, request.base_url)?;
    Ok(ScimResponse::json(200, body))
}

/// DELETE of one resource, checked against `If-Match`: `204`.
fn delete(
    view: &View<'_>,
    request: &ScimRequest<'_>,
    id: u64,
    endpoints: &Endpoints,
) -> Result<ScimResponse, ScimError> {
    let resource = endpoints.resource;
    let wanted = if_match(request.if_match);
    in_write(view, resource, |tx| {
        let store = |e| ScimError::from_store(e, resource);
        check_tag(wanted.as_deref(), &(endpoints.tag)(tx, id).map_err(store)?)?;
        (endpoints.delete)(tx, id).map_err(store)
    })?;
    Ok(ScimResponse::empty(204))
}

fn only_get(method: Method) -> Result<(), ScimError> {
    match method {
        Method::Get => Ok(()),
        _ => Err(method_not_allowed()),
    }
}

/// `405`.
pub(crate) fn method_not_allowed() -> ScimError {
    ScimError::new(405, None, "method not allowed on this endpoint")
}

/// Discovery endpoints take no filter (RFC 7644 §4: 403).
fn no_filter(request: &ScimRequest<'_>) -> Result<(), ScimError> {
    if request
        .query
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("filter"))
    {
        return Err(ScimError::new(
            403,
            None,
            "discovery endpoints take no filter",
        ));
    }
    Ok(())
}

/// The JSON body of a request, or `invalidSyntax`.
pub(crate) fn body(request: &ScimRequest<'_>) -> Result<Value, ScimError> {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::invalid_syntax("the request needs a JSON body"));
    }
    serde_json::from_slice(request.body).map_err(|e| {
        ScimError::invalid_syntax(format!(
            "the body is not JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// Runs `f` in one write transaction of `view`: committed when `f`
/// returns `Ok`, rolled back, with nothing written, when it returns `Err`.
pub(crate) fn in_write<T>(
    view: &View<'_>,
    resource: Resource,
    f: impl FnOnce(&View<'_>) -> Result<T, ScimError>,
) -> Result<T, ScimError> {
    let mut failure = None;
    let outcome = view.write(|tx| {
        f(tx).map_err(|e| {
            failure = Some(e);
            rosterdb::Error::argument("scim", "request failed; rolled back")
        })
    });
    match (outcome, failure) {
        (Ok(value), _) => Ok(value),
        (Err(_), Some(failure)) => Err(failure),
        (Err(e), None) => Err(ScimError::from_store(e, resource)),
    }
}

/// Runs `f` on one read snapshot of `view`.
pub(crate) fn in_read<T>(
    view: &View<'_>,
    resource: Resource,
    f: impl FnOnce(&View<'_, ReadOnly>) -> Result<T, ScimError>,
) -> Result<T, ScimError> {
    view.read(|r| Ok(f(r)))
        .map_err(|e| ScimError::from_store(e, resource))?
}

/// A resource response: `status`, the body, its `ETag` and, for `201`,
/// its `Location`.
pub(crate) fn resource_response(
    status: u16,
    body: Value,
    (resource, id, tag): (Resource, u64, String),
    base_url: &str,
) -> ScimResponse {
    let response = ScimResponse::json(status, body).with_header("ETag", etag(&tag));
    if status == 201 {
        response.with_header("Location", location(resource, id, base_url))
    } else {
        response
    }
}
