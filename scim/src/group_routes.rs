//! `/Groups`, `/Groups/.search` and `/Groups/{id}`: roles, whose members
//! are the users holding them.

use std::collections::BTreeSet;

use rosterdb::{NewRole, Role, View};
use serde_json::{Value, json};

use crate::error::ScimError;
use crate::groups::{self, holders, set_members};
use crate::list::{self, ListParams};
use crate::patch;
use crate::projection::Projection;
use crate::request::{ScimRequest, ScimResponse};
use crate::resource::expected_version;
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
    search,
    create,
    get,
    update,
    version: |tx, id| Ok(tx.roles().get(id)?.version),
    delete: |tx, id| tx.roles().delete(id, true).map(drop),
};

/// The SCIM Group of `role`, its members read only when returned.
fn render<A>(
    view: &View<'_, A>,
    role: &Role,
    projection: &Projection,
    base_url: &str,
) -> Result<Value, ScimError> {
    let members = if projection.wants("members") {
        Some(holders(view, role.id).map_err(store)?)
    } else {
        None
    };
    Ok(projection.apply(groups::to_scim(role, members.as_deref(), base_url)))
}

fn search(
    view: &View<'_>,
    request: &ScimRequest<'_>,
    params: &ListParams,
) -> Result<ScimResponse, ScimError> {
    let projection = params.projection(R)?;
    let body = in_read(view, R, |r| {
        list::run(
            R,
            params,
            &|q| r.roles().list(q),
            &|q| r.roles().count(q),
            &mut |role| render(r, role, &projection, request.base_url),
        )
    })?;
    Ok(ScimResponse::json(200, body))
}

fn get(
    view: &View<'_>,
    request: &ScimRequest<'_>,
    params: &ListParams,
    id: u64,
) -> Result<ScimResponse, ScimError> {
    let projection = params.projection(R)?;
    let (doc, version) = in_read(view, R, |r| {
        let role = r.roles().get(id).map_err(store)?;
        Ok((
            render(r, &role, &projection, request.base_url)?,
            role.version,
        ))
    })?;
    Ok(resource_response(
        200,
        doc,
        (R, id, version),
        request.base_url,
    ))
}

fn create(
    view: &View<'_>,
    request: &ScimRequest<'_>,
    params: &ListParams,
) -> Result<ScimResponse, ScimError> {
    let projection = params.projection(R)?;
    let input = groups::from_scim(&body(request)?)?;
    let name = input
        .name
        .ok_or_else(|| ScimError::invalid_value("displayName: required"))?;
    let (doc, role) = in_write(view, R, |tx| {
        let role = tx.roles().create(NewRole::new(name)).map_err(store)?;
        set_members(tx, role.id, &[], &input.members.unwrap_or_default())?;
        Ok((render(tx, &role, &projection, request.base_url)?, role))
    })?;
    Ok(resource_response(
        201,
        doc,
        (R, role.id, role.version),
        request.base_url,
    ))
}

/// PUT (`patch` false) or PATCH: renames the role and sets its holders,
/// in one transaction, checked against `If-Match`.
fn update(
    view: &View<'_>,
    request: &ScimRequest<'_>,
    params: &ListParams,
    id: u64,
    patch: bool,
) -> Result<ScimResponse, ScimError> {
    let projection = params.projection(R)?;
    let expected = expected_version(request.if_match)?;
    let given = body(request)?;
    let (doc, role) = in_write(view, R, |tx| {
        let current = tx.roles().get(id).map_err(store)?;
        let members = holders(tx, id).map_err(store)?;
        let scim = if patch {
            let doc = groups::to_scim(&current, Some(&members), request.base_url);
            patch::patched(R, doc, &given)?
        } else {
            given
        };
        let input = groups::from_scim(&scim)?;
        let name = input
            .name
            .ok_or_else(|| ScimError::invalid_value("displayName: required"))?;
        // A merge that changes nothing still checks the version.
        let change = if name == current.name {
            json!({})
        } else {
            json!({ "name": name })
        };
        let role = tx
            .roles()
            .merge(id, &change, Some(expected.unwrap_or(current.version)))
            .map_err(store)?;
        let wanted: BTreeSet<u64> = input.members.unwrap_or_default();
        set_members(tx, id, &members, &wanted)?;
        Ok((render(tx, &role, &projection, request.base_url)?, role))
    })?;
    Ok(resource_response(
        200,
        doc,
        (R, id, role.version),
        request.base_url,
    ))
}
