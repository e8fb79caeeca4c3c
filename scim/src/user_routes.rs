//! `/Users`, `/Users/.search` and `/Users/{id}`.

use std::collections::HashMap;

use rosterdb::{Query, ReadOnly, User, View};
use serde_json::Value;

use crate::error::ScimError;
use crate::list::{ListParams, Lister};
use crate::patch;
use crate::projection::Projection;
use crate::request::{ScimRequest, ScimResponse};
use crate::resource::{check_tag, if_match};
use crate::router::{Endpoints, body, in_read, in_write, resource_response};
use crate::schema::Resource;
use crate::users;

const R: Resource = Resource::User;

/// The `/Users` endpoints.
pub(crate) const ENDPOINTS: Endpoints = Endpoints {
    resource: R,
    lister: Lister {
        resource: R,
        count: |r, q| r.users().count(q),
        page,
    },
    create,
    get,
    update,
    tag: |tx, id| Ok(tx.users().get(id)?.version.to_string()),
    delete: |tx, id| tx.users().delete(id).map(drop),
};

/// The SCIM User of `user`, naming the roles it holds as `view` sees them.
fn render<A>(
    view: &View<'_, A>,
    user: &User,
    names: &mut HashMap<u64, Option<String>>,
    base_url: &str,
) -> Result<Value, ScimError> {
    for &id in &user.roles {
        if names.contains_key(&id) {
            continue;
        }
        let name = match view.roles().get(id) {
            Ok(role) => Some(role.name),
            Err(rosterdb::Error::NotFound { .. }) => None,
            Err(e) => return Err(ScimError::from_store(e, R)),
        };
        names.insert(id, name);
    }
    Ok(users::to_scim(
        user,
        &mut |id| names.get(&id).cloned().flatten(),
        base_url,
    ))
}

/// One page of users, rendered.
fn page(
    r: &View<'_, ReadOnly>,
    query: &Query,
    projection: &Projection,
    base_url: &str,
    map_error: &dyn Fn(rosterdb::Error) -> ScimError,
) -> Result<(Vec<Value>, u64), ScimError> {
    let page = r.users().list(query).map_err(map_error)?;
    let mut names = HashMap::new();
    let items = page
        .items
        .iter()
        .map(|user| Ok(projection.apply(render(r, user, &mut names, base_url)?)))
        .collect::<Result<Vec<_>, ScimError>>()?;
    Ok((items, page.total.unwrap_or(0)))
}

fn get(
    view: &View<'_>,
    request: &ScimRequest<'_>,
    params: &ListParams,
    id: u64,
) -> Result<ScimResponse, ScimError> {
    let projection = params.projection(R)?;
    let (doc, version) = in_read(view, R, |r| {
        let user = r.users().get(id).map_err(|e| ScimError::from_store(e, R))?;
        Ok((
            render(r, &user, &mut HashMap::new(), request.base_url)?,
            user.version,
        ))
    })?;
    Ok(resource_response(
        200,
        projection.apply(doc),
        (R, id, version.to_string()),
        request.base_url,
    ))
}

fn create(
    view: &View<'_>,
    request: &ScimRequest<'_>,
    params: &ListParams,
) -> Result<ScimResponse, ScimError> {
    let projection = params.projection(R)?;
    let doc = users::from_scim(&body(request)?, None)?;
    let (out, user) = in_write(view, R, |tx| {
        let store = |e| ScimError::from_store(e, R);
        let new = tx.users().input_from_json(&doc).map_err(store)?;
        let user = tx.users().create(new).map_err(store)?;
        Ok((
            render(tx, &user, &mut HashMap::new(), request.base_url)?,
            user,
        ))
    })?;
    Ok(resource_response(
        201,
        projection.apply(out),
        (R, user.id, user.version.to_string()),
        request.base_url,
    ))
}

/// PUT or PATCH: the new SCIM User, turned into a rosterdb replace of the
/// stored user (what SCIM does not carry is kept), checked against
/// `If-Match`.
fn update(
    view: &View<'_>,
    request: &ScimRequest<'_>,
    params: &ListParams,
    id: u64,
    patch: bool,
) -> Result<ScimResponse, ScimError> {
    let projection = params.projection(R)?;
    let wanted_tag = if_match(request.if_match);
    let input = body(request)?;
    let (out, user) = in_write(view, R, |tx| {
        let store = |e| ScimError::from_store(e, R);
        let current = tx.users().get(id).map_err(store)?;
        check_tag(wanted_tag.as_deref(), &current.version.to_string())?;
        let mut names = HashMap::new();
        let scim = if patch {
            patch::patched(
                R,
                render(tx, &current, &mut names, request.base_url)?,
                &input,
            )?
        } else {
            input
        };
        let doc = users::from_scim(&scim, Some(&current))?;
        let user = tx
            .users()
            .replace(id, &doc, Some(current.version))
            .map_err(store)?;
        Ok((render(tx, &user, &mut names, request.base_url)?, user))
    })?;
    Ok(resource_response(
        200,
        projection.apply(out),
        (R, id, user.version.to_string()),
        request.base_url,
    ))
}
