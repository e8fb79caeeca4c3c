//! The handlers users, roles and clients share: list, HEAD count, create,
//! get, replace, patch, delete — each a store call on the caller's view,
//! run off the executor.

use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rosterdb::{Collection, Editable, Error, Query, View};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::access::{Caller, Permission};
use crate::body::{JsonDoc, PatchDoc};
use crate::params::{Key, etag, id, if_match, none_match, only, query_pairs, single};
use crate::problem::Problem;
use crate::state::AppState;

/// A resource of the REST API: users, roles or clients.
pub(crate) trait Resource: Editable + Send + 'static {
    /// What reading needs, e.g. `users:read`.
    const READ: Permission;
    /// What writing needs, e.g. `users:write`.
    const WRITE: Permission;
    /// The parameters DELETE takes.
    const DELETE_PARAMS: &'static [&'static str] = &[];

    /// This kind's collection in `view`.
    fn of<'v, 's>(view: &'v View<'s>) -> Collection<'v, View<'s>, Self>;

    /// The record's id.
    fn id(&self) -> u64;

    /// The record's version (its ETag).
    fn version(&self) -> u64;

    /// Creates a record from its JSON document: the body of the answer,
    /// and the record.
    fn create(view: &View<'_>, doc: &Value) -> Result<(Value, Self), Error>;

    /// Deletes the record `id`; `cascade` (roles only) removes a role from
    /// its holders.
    fn delete(view: &View<'_>, id: u64, cascade: bool) -> Result<Self, Error>;

    /// `403` when what a write made of the record (`after`, from `before`,
    /// or from nothing for a create) gives more than `caller` may: a role
    /// or a permission it does not hold (see [`crate::grant`]).
    fn may_write(
        caller: &Caller,
        view: &View<'_>,
        before: Option<&Self>,
        after: &Self,
    ) -> Result<(), Problem>;

    /// `403` when the record (as it is before a write to it, or its
    /// deletion) holds a permission `caller` does not (see
    /// [`crate::grant`]).
    fn may_act_on(caller: &Caller, view: &View<'_>, record: &Self) -> Result<(), Problem>;
}

/// A document as a JSON value.
pub(crate) fn to_json<T: Serialize>(doc: &T) -> Result<Value, Problem> {
    serde_json::to_value(doc).map_err(|err| {
        tracing::error!(error = %err, "a document did not serialize");
        Problem::internal()
    })
}

/// `status` with a JSON body and these headers.
pub(crate) fn json_response<const N: usize>(
    status: StatusCode,
    body: &Value,
    headers: [(HeaderName, HeaderValue); N],
) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let map = response.headers_mut();
    map.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::body::JSON),
    );
    for (name, value) in headers {
        map.insert(name, value);
    }
    response
}

/// A record with its ETag.
pub(crate) fn record_response<R: Resource>(
    status: StatusCode,
    record: &R,
) -> Result<Response, Problem> {
    Ok(json_response(
        status,
        &to_json(record)?,
        [etag(record.version())],
    ))
}

/// Runs `f` on the caller's collection of `R` with the query its query
/// string names (the parameter form, docs/reference/queries.md), once `R::READ` is granted.
async fn queried<R: Resource, T: Send + 'static>(
    state: &AppState,
    caller: Caller,
    raw: Option<String>,
    f: impl FnOnce(Collection<'_, View<'_>, R>, &Query) -> Result<T, Error> + Send + 'static,
) -> Result<T, Problem> {
    caller.require(R::READ)?;
    let pairs = query_pairs(raw.as_deref());
    state
        .run(move |store| {
            let view = caller.view(store)?;
            let query = Query::from_params(&pairs)?;
            Ok(f(R::of(&view), &query)?)
        })
        .await
}

/// `GET /v1/{kind}`: a page of the records matching every parameter of the parameter form,
/// `{"items", "total"?, "nextCursor"?}`; with `withTotal=true` the total
/// is also in `X-Total-Count`.
pub(crate) async fn list<R: Resource>(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let body = queried::<R, _>(&state, caller, raw, |records, query| {
        let page = records.list(query)?;
        let mut body = Map::new();
        body.insert("items".into(), Value::Array(page.items_json()?));
        if let Some(total) = page.total {
            body.insert("total".into(), json!(total));
        }
        if let Some(cursor) = page.next_cursor {
            body.insert("nextCursor".into(), json!(cursor));
        }
        Ok(Value::Object(body))
    })
    .await?;
    let mut response = json_response(StatusCode::OK, &body, []);
    if let Some(total) = body.get("total").and_then(Value::as_u64) {
        response
            .headers_mut()
            .insert("x-total-count", HeaderValue::from(total));
    }
    Ok(response)
}

/// `HEAD /v1/{kind}`: whether any record matches (200 or 404), and how
/// many in `X-Total-Count`.
pub(crate) async fn head<R: Resource>(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let count = queried::<R, _>(&state, caller, raw, |records, query| records.count(query)).await?;
    let status = if count > 0 {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    Ok((
        status,
        [(
            HeaderName::from_static("x-total-count"),
            HeaderValue::from(count),
        )],
    )
        .into_response())
}

/// `POST /v1/{kind}`: `201 Created` with `Location` and `ETag`. The
/// `Location` is the request's path and the new id; with a public URL
/// configured, that URL and the path the router sees (the proxy in front
/// maps the prefix).
pub(crate) async fn create<R: Resource>(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    inner: Uri,
    JsonDoc(doc): JsonDoc,
) -> Result<Response, Problem> {
    let collection = match &state.config.public_url {
        Some(public) => format!("{public}{}", inner.path().trim_end_matches('/')),
        None => uri.path().trim_end_matches('/').to_owned(),
    };
    caller.require(R::WRITE)?;
    let (body, record) = state
        .run(move |store| {
            caller.write(store, |tx| {
                let (body, record) = R::create(tx, &doc)?;
                R::may_write(&caller, tx, None, &record)?;
                Ok((body, record))
            })
        })
        .await?;
    let location = format!("{collection}/{}", record.id());
    let location = HeaderValue::from_str(&location).map_err(|_| Problem::internal())?;
    Ok(json_response(
        StatusCode::CREATED,
        &body,
        [
            (header::LOCATION, location),
            etag(record.version()),
            crate::access::no_store(),
        ],
    ))
}

/// `GET /v1/{kind}/{id}`; `304 Not Modified` when `If-None-Match` names its version.
pub(crate) async fn get<R: Resource>(
    State(state): State<AppState>,
    caller: Caller,
    Key(key): Key,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.require(R::READ)?;
    only(&query_pairs(raw.as_deref()), &[])?;
    let id = id(R::KIND, &key)?;
    let record = state
        .run(move |store| Ok(R::of(&caller.view(store)?).get(id)?))
        .await?;
    answer_get(&headers, &record)
}

/// The answer to a GET of `record`: the document, or `304` when the
/// client holds its version.
pub(crate) fn answer_get<R: Resource>(
    headers: &HeaderMap,
    record: &R,
) -> Result<Response, Problem> {
    if none_match(headers, record.version()) {
        return Ok((StatusCode::NOT_MODIFIED, [etag(record.version())]).into_response());
    }
    record_response(StatusCode::OK, record)
}

/// What an update does to a record.
enum Update {
    /// PUT: the writable fields replaced.
    Replace(Value),
    /// PATCH: a JSON Patch or a merge patch.
    Patch(PatchDoc),
}

/// `PUT /v1/{kind}/{id}`: replaces the writable fields; `If-Match` is
/// the version expected.
pub(crate) async fn put<R: Resource>(
    State(state): State<AppState>,
    caller: Caller,
    Key(key): Key,
    headers: HeaderMap,
    JsonDoc(doc): JsonDoc,
) -> Result<Response, Problem>
where
    R::Record: PartialEq,
{
    update::<R>(state, caller, &key, &headers, Update::Replace(doc)).await
}

/// `PATCH /v1/{kind}/{id}`: an RFC 6902 JSON Patch or an RFC 7396 merge
/// patch, by media type; `If-Match` is the version expected.
pub(crate) async fn patch<R: Resource>(
    State(state): State<AppState>,
    caller: Caller,
    Key(key): Key,
    headers: HeaderMap,
    body: PatchDoc,
) -> Result<Response, Problem>
where
    R::Record: PartialEq,
{
    update::<R>(state, caller, &key, &headers, Update::Patch(body)).await
}

/// Applies `change` to the record `key` at the version `If-Match` names.
async fn update<R: Resource>(
    state: AppState,
    caller: Caller,
    key: &str,
    headers: &HeaderMap,
    change: Update,
) -> Result<Response, Problem>
where
    R::Record: PartialEq,
{
    caller.require(R::WRITE)?;
    let id = id(R::KIND, key)?;
    let expected = if_match(headers)?;
    let record = state
        .run(move |store| {
            caller.write(store, |tx| {
                let records = R::of(tx);
                let before = records.get(id)?;
                R::may_act_on(&caller, tx, &before)?;
                let after = match &change {
                    Update::Replace(doc) => records.replace(id, doc, expected)?,
                    Update::Patch(PatchDoc::Json(ops)) => records.patch(id, ops, expected)?,
                    Update::Patch(PatchDoc::Merge(partial)) => {
                        records.merge(id, partial, expected)?
                    }
                };
                R::may_write(&caller, tx, Some(&before), &after)?;
                Ok(after)
            })
        })
        .await?;
    record_response(StatusCode::OK, &record)
}

/// `DELETE /v1/{kind}/{id}`: `204 No Content`. With `If-Match`, the
/// record is deleted only at that version (checked in the same
/// transaction), else `412`.
pub(crate) async fn delete<R: Resource>(
    State(state): State<AppState>,
    caller: Caller,
    Key(key): Key,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.require(R::WRITE)?;
    let pairs = query_pairs(raw.as_deref());
    only(&pairs, R::DELETE_PARAMS)?;
    let cascade = flag(&pairs, "cascade")?;
    let id = id(R::KIND, &key)?;
    let expected = if_match(&headers)?;
    state
        .run(move |store| {
            caller.write(store, |tx| {
                let record = R::of(tx).get(id)?;
                if let Some(expected) = expected {
                    let actual = record.version();
                    if actual != expected {
                        return Err(Error::VersionConflict { expected, actual }.into());
                    }
                }
                R::may_act_on(&caller, tx, &record)?;
                Ok(R::delete(tx, id, cascade).map(drop)?)
            })
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The boolean parameter `name` (`true` or `false`), default false.
pub(crate) fn flag(pairs: &[(String, String)], name: &str) -> Result<bool, Problem> {
    match single(pairs, name)? {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(Error::query(
            rosterdb::QueryCode::InvalidParameter,
            format!("{name} must be true or false"),
        )
        .for_field(name)
        .into()),
    }
}
