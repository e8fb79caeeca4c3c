//! `/scim/v2/Users`: the store's users as SCIM Users.

use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap};
use axum::response::{IntoResponse, Response};
use rosterdb::{Query, User};
use serde_json::Value;

use super::error::ScimError;
use super::user::{from_scim, project, to_scim};
use super::{Base, filter, list_response, patch as scim_patch, scim_response};
use crate::access::{Caller, Permission};
use crate::params::query_pairs;
use crate::problem::Problem;
use crate::state::AppState;

const READ: Permission = Permission("users:read");
const WRITE: Permission = Permission("users:write");

/// The caller, refused as a SCIM error, with `permission`.
fn allowed(caller: Result<Caller, Problem>, permission: Permission) -> Result<Caller, ScimError> {
    let caller = caller?;
    caller.require(permission)?;
    Ok(caller)
}

/// A SCIM request body: `application/scim+json` or `application/json`.
pub(crate) struct ScimDoc(Value);

impl FromRequest<AppState> for ScimDoc {
    type Rejection = ScimError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ScimError> {
        let scim = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case(super::SCIM_JSON)
            });
        let req = if scim {
            // Read it as the JSON it is.
            let (mut parts, body) = req.into_parts();
            parts.headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(crate::body::JSON),
            );
            Request::from_parts(parts, body)
        } else {
            req
        };
        let crate::body::JsonDoc(doc) = crate::body::JsonDoc::from_request(req, state).await?;
        Ok(ScimDoc(doc))
    }
}

/// The id in a path; any other text is no user.
fn user_id(text: &str) -> Result<u64, ScimError> {
    crate::params::id(rosterdb::EntityKind::User, text)
        .map_err(|_| ScimError::not_found(format!("no User {text:?}")))
}

/// The version an `If-Match` names (`W/"3"`, `"3"` or `3`; `*` is none).
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ScimError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    bare.parse()
        .map(Some)
        .map_err(|_| ScimError::invalid_value("If-Match must be an ETag of this server"))
}

/// What a listing asks for (RFC 7644 §3.4.2–3.4.3).
#[derive(Default)]
struct Search {
    filter: Option<String>,
    sort_by: Option<String>,
    descending: bool,
    start_index: u64,
    count: Option<u64>,
    attributes: Vec<String>,
    excluded: Vec<String>,
}

/// A comma list.
fn names(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A whole number parameter.
fn number(name: &str, text: &str) -> Result<u64, ScimError> {
    text.trim()
        .parse::<i64>()
        .map(|n| n.max(0).unsigned_abs())
        .map_err(|_| ScimError::invalid_value(format!("{name} must be a whole number")))
}

impl Search {
    fn from_pairs(pairs: &[(String, String)]) -> Result<Search, ScimError> {
        let mut search = Search::default();
        for (name, value) in pairs {
            match name.as_str() {
                "filter" => search.filter = Some(value.clone()),
                "sortBy" => search.sort_by = Some(value.clone()),
                "sortOrder" => search.descending = value.eq_ignore_ascii_case("descending"),
                "startIndex" => search.start_index = number(name, value)?,
                "count" => search.count = Some(number(name, value)?),
                "attributes" => search.attributes = names(value),
                "excludedAttributes" => search.excluded = names(value),
                other => {
                    return Err(ScimError::invalid_value(format!(
                        "unknown parameter {other:?}"
                    )));
                }
            }
        }
        Ok(search)
    }

    fn from_body(body: &Value) -> Result<Search, ScimError> {
        let Some(object) = body.as_object() else {
            return Err(ScimError::invalid_value(
                "a search must be a SearchRequest object",
            ));
        };
        let mut pairs = Vec::new();
        for (name, value) in object {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Array(items) if name == "attributes" || name == "excludedAttributes" => {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                }
                _ if name == "schemas" => continue,
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "{name} has the wrong type"
                    )));
                }
            };
            pairs.push((name.clone(), text));
        }
        Search::from_pairs(&pairs)
    }

    /// The store query of this search.
    fn query(&self) -> Result<Vec<(String, String)>, ScimError> {
        let mut pairs = vec![("withTotal".to_owned(), "true".to_owned())];
        if let Some(filter) = &self.filter {
            pairs.push(("where".into(), filter::to_expression(filter)?));
        }
        if let Some(sort) = &self.sort_by {
            let bare = sort.to_ascii_lowercase();
            let bare = bare.rsplit_once(':').map_or(bare.as_str(), |(_, b)| b);
            let field = filter::user_field(bare)
                .ok_or_else(|| ScimError::invalid_value(format!("cannot sort by {sort:?}")))?;
            let order = if self.descending { ":desc" } else { "" };
            pairs.push(("sort".into(), format!("{field}{order}")));
        }
        let offset = self.start_index.saturating_sub(1);
        let limit = self
            .count
            .unwrap_or(100)
            .clamp(1, rosterdb::query::MAX_PAGE_SIZE as u64);
        pairs.push(("offset".into(), offset.to_string()));
        pairs.push(("limit".into(), limit.to_string()));
        Ok(pairs)
    }
}

/// Runs `search` for `caller` and answers a `ListResponse`.
async fn run_search(
    state: AppState,
    caller: Caller,
    base: String,
    search: Search,
) -> Result<Response, ScimError> {
    let pairs = search.query()?;
    let count_only = search.count == Some(0);
    let (users, total) = state
        .run(move |store| {
            let view = caller.view(store)?;
            let query = Query::from_params(&pairs)?;
            let page = view.users().list(&query)?;
            Ok((page.items, page.total.unwrap_or(0)))
        })
        .await?;
    let resources = if count_only {
        Vec::new()
    } else {
        users
            .iter()
            .map(|u| project(to_scim(u, &base), &search.attributes, &search.excluded))
            .collect()
    };
    Ok(list_response(resources, total, search.start_index.max(1)))
}

/// `GET /Users`: filter, sort, page (`startIndex`, `count`), attributes.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Result<Caller, Problem>,
    Base(base): Base,
    RawQuery(raw): RawQuery,
) -> Result<Response, ScimError> {
    let caller = allowed(caller, READ)?;
    let search = Search::from_pairs(&query_pairs(raw.as_deref()))?;
    run_search(state, caller, base, search).await
}

/// `POST /Users/.search`: the same, from a `SearchRequest` body.
pub(crate) async fn search(
    State(state): State<AppState>,
    caller: Result<Caller, Problem>,
    Base(base): Base,
    ScimDoc(body): ScimDoc,
) -> Result<Response, ScimError> {
    let caller = allowed(caller, READ)?;
    run_search(state, caller, base, Search::from_body(&body)?).await
}

/// The answer of one user.
fn user_response(status: StatusCode, user: &User, base: &str, search: &Search) -> Response {
    let body = project(to_scim(user, base), &search.attributes, &search.excluded);
    let mut response = scim_response(status, &body, Some(user.version));
    if status == StatusCode::CREATED
        && let Ok(location) = header::HeaderValue::from_str(&format!("{base}/Users/{}", user.id))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `POST /Users`: `201` with the User, `Location` and `ETag`.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Result<Caller, Problem>,
    Base(base): Base,
    ScimDoc(body): ScimDoc,
) -> Result<Response, ScimError> {
    let caller = allowed(caller, WRITE)?;
    let doc = from_scim(&body, None)?;
    let user = state
        .run(move |store| {
            let view = caller.view(store)?;
            let users = view.users();
            Ok(users.create(users.input_from_json(&doc)?)?)
        })
        .await?;
    Ok(user_response(
        StatusCode::CREATED,
        &user,
        &base,
        &Search::default(),
    ))
}

/// `GET /Users/{id}` (with `attributes` / `excludedAttributes`).
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Result<Caller, Problem>,
    Base(base): Base,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ScimError> {
    let caller = allowed(caller, READ)?;
    let search = Search::from_pairs(&query_pairs(raw.as_deref()))?;
    let id = user_id(&id)?;
    let user = state
        .run(move |store| Ok(caller.view(store)?.users().get(id)?))
        .await?;
    Ok(user_response(StatusCode::OK, &user, &base, &search))
}

/// `PUT /Users/{id}`: the SCIM attributes replaced (the fields SCIM does
/// not name are kept); `If-Match` is the version expected.
pub(crate) async fn replace(
    State(state): State<AppState>,
    caller: Result<Caller, Problem>,
    Base(base): Base,
    Path(id): Path<String>,
    headers: HeaderMap,
    ScimDoc(body): ScimDoc,
) -> Result<Response, ScimError> {
    let caller = allowed(caller, WRITE)?;
    let id = user_id(&id)?;
    let expected = if_match(&headers)?;
    let user = update(state, caller, id, expected, move |current| {
        from_scim(&body, Some(current))
    })
    .await?;
    Ok(user_response(
        StatusCode::OK,
        &user,
        &base,
        &Search::default(),
    ))
}

/// `PATCH /Users/{id}`: a `PatchOp`, applied whole or not at all.
pub(crate) async fn patch(
    State(state): State<AppState>,
    caller: Result<Caller, Problem>,
    Base(base): Base,
    Path(id): Path<String>,
    headers: HeaderMap,
    ScimDoc(body): ScimDoc,
) -> Result<Response, ScimError> {
    let caller = allowed(caller, WRITE)?;
    let id = user_id(&id)?;
    let expected = if_match(&headers)?;
    let base_for_doc = base.clone();
    let user = update(state, caller, id, expected, move |current| {
        let mut scim = to_scim(current, &base_for_doc);
        scim_patch::apply(&mut scim, &body)?;
        from_scim(&scim, Some(current))
    })
    .await?;
    Ok(user_response(
        StatusCode::OK,
        &user,
        &base,
        &Search::default(),
    ))
}

/// Replaces user `id` with the document `make` builds from it, in one
/// transaction, at the version `expected` (or the one read).
async fn update(
    state: AppState,
    caller: Caller,
    id: u64,
    expected: Option<u64>,
    make: impl FnOnce(&User) -> Result<Value, ScimError> + Send + 'static,
) -> Result<User, ScimError> {
    state
        .run(move |store| {
            let view = caller.view(store)?;
            Ok(view.write(|tx| {
                let current = tx.users().get(id)?;
                let doc = match make(&current) {
                    Ok(doc) => doc,
                    // Refused before anything is written.
                    Err(refused) => return Ok(Err(refused)),
                };
                let version = expected.unwrap_or(current.version);
                Ok(Ok(tx.users().replace(id, &doc, Some(version))?))
            })?)
        })
        .await?
}

/// `DELETE /Users/{id}`: `204`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Result<Caller, Problem>,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    let caller = allowed(caller, WRITE)?;
    let id = user_id(&id)?;
    state
        .run(move |store| Ok(caller.view(store)?.users().delete(id)?))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
