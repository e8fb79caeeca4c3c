//! `/Groups`, `/Groups/.search` and `/Groups/{id}`: roles, whose members
//! are the users holding them.

use std::collections::BTreeSet;

use rosterdb::{Query, ReadOnly, Role, View};
use serde_json::Value;

use crate::error::ScimError;
use crate::groups::{self, group_tag, holders, set_members};
use crate::list::{ListParams, Lister};
use crate::patch;
use crate::projection::Projection;
use crate::request::{ScimRequest, ScimResponse};
use crate::resource::{check_tag, if_match};
use crate::router::{Endpoints, body, in_read, in_write, resource_response};
use crate::schema::Resource;

const R: Resource = Resource::Group;

fn store(e: rosterdb::Error) -> ScimError {
    ScimError::from_store(e, R)
}

/// The `/Groups` endpoints. Deleting a group ends its memberships
/// (cascade), as SCIM expects.
pub(crate) const ENDPOINTS: Endpoints = Endpoints {
    resource: R,
    lister: Lister {
        resource: R,
        count: |r, q| r.roles().count(q),
        page,
    },
    create,
    get,
    update,
    tag,
    delete: |tx, id| tx.roles().delete(id, true).map(drop),
};

/// The SCIM Group of `role` and its version tag. Its holders are read
/// when the members or the version are returned.
fn render<A>(
    view: &View<'_, A>,
    role: &Role,
    projection: &Projection,
    base_url: &str,
) -> Result<(Value, String), ScimError> {
    let members = if projection.wants("members") || projection.wants("meta") {
        holders(view, role.id).map_err(store)?
    } else {
        Vec::new()
    };
    let doc = projection.apply(groups::to_scim(role, &members, base_url));
    Ok((doc, group_tag(role.version, &members)))
}

/// The version tag of group `id`, as `If-Match` must name it.
fn tag(view: &View<'_>, id: u64) -> Result<String, rosterdb::Error> {
    let role = view.roles().get(id)?;
    Ok(group_tag(role.version, &holders(view, id)?))
}

/// One page of groups, rendered.
fn page(
    r: &View<'_, ReadOnly>,
    query: &Query,
    projection: &Projection,
    base_url: &str,
    map_error: &dyn Fn(rosterdb::Error) -> ScimError,
) -> Result<(Vec<Value>, u64), ScimError> {
    let page = r.roles().list(query).map_err(map_error)?;
    let items = page
        .items
        .iter()
        .map(|role| Ok(render(r, role, projection, base_url)?.0))
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
    let (doc, tag) = in_read(view, R, |r| {
        let role = r.roles().get(id).map_err(store)?;
        render(r, &role, &projection, request.base_url)
    })?;
    Ok(resource_response(200, doc, (R, id, tag), request.base_url))
}

fn create(
    view: &View<'_>,
    request: &ScimRequest<'_>,
    params: &ListParams,
) -> Result<ScimResponse, ScimError> {
    let projection = params.projection(R)?;
    let (new, members) = groups::from_scim(&body(request)?)?.new_role()?;
    let (doc, tag, id) = in_write(view, R, |tx| {
        let role = tx.roles().create(new).map_err(store)?;
        set_members(tx, role.id, &[], &members.unwrap_or_default())?;
        let (doc, tag) = render(tx, &role, &projection, request.base_url)?;
        Ok((doc, tag, role.id))
    })?;
    Ok(resource_response(201, doc, (R, id, tag), request.base_url))
}

/// PUT (`patch` false) or PATCH: renames the role, sets its external id
/// and its holders, in one transaction, checked against `If-Match`.
fn update(
    view: &View<'_>,
    request: &ScimRequest<'_>,
    params: &ListParams,
    id: u64,
    patch: bool,
) -> Result<ScimResponse, ScimError> {
    let projection = params.projection(R)?;
    let wanted_tag = if_match(request.if_match);
    let given = body(request)?;
    let (doc, tag) = in_write(view, R, |tx| {
        let current = tx.roles().get(id).map_err(store)?;
        let members = holders(tx, id).map_err(store)?;
        check_tag(wanted_tag.as_deref(), &group_tag(current.version, &members))?;
        let scim = if patch {
            let doc = groups::to_scim(&current, &members, request.base_url);
            patch::patched(R, doc, &given)?
        } else {
            given
        };
        let (change, wanted) = groups::from_scim(&scim)?.change(&current)?;
        let role = tx
            .roles()
            .merge(id, &change, Some(current.version))
            .map_err(store)?;
        let wanted: BTreeSet<u64> = wanted.unwrap_or_default();
        set_members(tx, id, &members, &wanted)?;
        render(tx, &role, &projection, request.base_url)
    })?;
    Ok(resource_response(200, doc, (R, id, tag), request.base_url))
}
