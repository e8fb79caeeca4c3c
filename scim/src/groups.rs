//! SCIM Groups ↔ rosterdb roles: a role's name is the group's
//! displayName, its `externalId` the group's, and the users holding it
//! are its members; writing members adds or removes the role on those
//! users, in the caller's transaction.

use std::collections::BTreeSet;

use rosterdb::{NewRole, Query, View, Walk};
use serde_json::{Map, Value, json};

use crate::error::ScimError;
use crate::resource::{Fields, location, meta, text};
use crate::schema::{GROUP_SCHEMA, Resource};
use crate::users::element_value;

/// The version tag of a group: the role's version and a digest of its
/// holders, since a change of members changes the group but not the role
/// record (FNV-1a over the sorted ids, so it is the same in every build).
pub(crate) fn group_tag(version: u64, members: &[u64]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for id in members {
        for byte in id.to_le_bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{version}.{hash:016x}")
}

/// The SCIM Group of `role`, held by `members`.
pub(crate) fn to_scim(role: &rosterdb::Role, members: &[u64], base_url: &str) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([GROUP_SCHEMA]));
    out.insert("id".into(), Value::String(role.id.to_string()));
    if let Some(external_id) = &role.external_id {
        out.insert("externalId".into(), Value::String(external_id.clone()));
    }
    out.insert("displayName".into(), Value::String(role.name.clone()));
    if !members.is_empty() {
        let list: Vec<Value> = members
            .iter()
            .map(|id| {
                json!({
                    "value": id.to_string(),
                    "$ref": location(Resource::User, *id, base_url),
                    "type": "User",
                })
            })
            .collect();
        out.insert("members".into(), Value::Array(list));
    }
    out.insert(
        "meta".into(),
        meta(
            Resource::Group,
            role.id,
            &group_tag(role.version, members),
            &role.created_at,
            &role.updated_at,
            base_url,
        ),
    );
    Value::Object(out)
}

/// What a SCIM Group body writes: the role's name, its external id
/// (absent or `null`: none) and, when `members` is given, the user ids
/// that must hold it.
pub(crate) struct GroupInput {
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub members: Option<BTreeSet<u64>>,
}

impl GroupInput {
    /// The role the body creates; `displayName` is required.
    pub(crate) fn new_role(self) -> Result<(NewRole, Option<BTreeSet<u64>>), ScimError> {
        let name = self
            .name
            .ok_or_else(|| ScimError::invalid_value("displayName: required"))?;
        let role = NewRole {
            external_id: self.external_id,
            ..NewRole::new(name)
        };
        Ok((role, self.members))
    }

    /// The merge patch that makes `current` what the body describes (a PUT
    /// replaces the Group: an external id it leaves out is removed), and
    /// the members it names.
    pub(crate) fn change(
        self,
        current: &rosterdb::Role,
    ) -> Result<(Value, Option<BTreeSet<u64>>), ScimError> {
        let (wanted, members) = self.new_role()?;
        let mut change = Map::new();
        if wanted.name != current.name {
            change.insert("name".into(), Value::String(wanted.name));
        }
        if wanted.external_id != current.external_id {
            change.insert("externalId".into(), json!(wanted.external_id));
        }
        Ok((Value::Object(change), members))
    }
}

/// Reads a Group body.
pub(crate) fn from_scim(scim: &Value) -> Result<GroupInput, ScimError> {
    let fields = Fields::read(scim, Resource::Group)?;
    let external_id = fields
        .get("externalId")
        .filter(|v| !v.is_null())
        .map(|v| text(v, "externalId"))
        .transpose()?;
    let name = fields
        .get("displayName")
        .map(|v| text(v, "displayName"))
        .transpose()?;
    let members = match fields.get("members") {
        None => None,
        Some(Value::Null) => Some(BTreeSet::new()),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(member_id)
                .collect::<Result<BTreeSet<u64>, ScimError>>()?,
        ),
        Some(_) => return Err(ScimError::invalid_value("members must be a list")),
    };
    Ok(GroupInput {
        name,
        external_id,
        members,
    })
}

/// The user id of one `members` element.
pub(crate) fn member_id(item: &Value) -> Result<u64, ScimError> {
    let value = element_value(item, "members", &["value", "$ref", "type", "display"])?;
    let kind = item
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case("type")))
        .map(|(_, v)| v);
    if let Some(kind) = kind
        && !kind
            .as_str()
            .is_some_and(|k| k.eq_ignore_ascii_case("User"))
    {
        return Err(ScimError::invalid_value(
            "members.type must be User: rosterdb roles hold users, not groups",
        ));
    }
    value
        .parse::<u64>()
        .map_err(|_| ScimError::invalid_value(format!("members.value {value:?} is not a user id")))
}

/// The ids of the users holding role `role` (the members of that Group),
/// in id order.
pub fn holders<A>(view: &View<'_, A>, role: u64) -> Result<Vec<u64>, rosterdb::Error> {
    let query = Query::parse(&format!("roles = {role}"))?
        .select(&["id"])
        .page(1, rosterdb::query::MAX_PAGE_SIZE);
    Walk::new(query)
        .items(|q| view.users().list(q))
        .map(|user| user.map(|u| u.id))
        .collect()
}

/// Makes exactly `wanted` hold role `role` (whose holders are `current`),
/// adding and removing the role on users in `view`'s transaction. A user
/// the view cannot see is `invalidValue`.
pub(crate) fn set_members(
    view: &View<'_>,
    role: u64,
    current: &[u64],
    wanted: &BTreeSet<u64>,
) -> Result<(), ScimError> {
    let current: BTreeSet<u64> = current.iter().copied().collect();
    for &id in wanted.difference(&current) {
        change_roles(view, id, |roles| roles.push(role))?;
    }
    for &id in current.difference(wanted) {
        change_roles(view, id, |roles| roles.retain(|r| *r != role))?;
    }
    Ok(())
}

fn change_roles(
    view: &View<'_>,
    user: u64,
    change: impl FnOnce(&mut Vec<u64>),
) -> Result<(), ScimError> {
    let found = view.users().get(user).map_err(|e| match e {
        rosterdb::Error::NotFound { .. } => {
            ScimError::invalid_value(format!("members: no user with id {user}"))
        }
        other => ScimError::from_store(other, Resource::Group),
    })?;
    let mut roles = found.roles;
    change(&mut roles);
    view.users()
        .merge(user, &json!({ "roles": roles }), None)
        .map_err(|e| ScimError::from_store(e, Resource::User))?;
    Ok(())
}
