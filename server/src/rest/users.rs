//! `/v1/users`: the users, fetched by id or email, looked up by external id.

use axum::extract::{RawQuery, State};
use axum::http::header::HeaderMap;
use axum::response::Response;
use rosterdb::{Collection, Error, QueryCode, User, View};
use serde_json::Value;

use super::resource::{Resource, answer_get};
use crate::access::{Caller, Permission};
use crate::params::{Key, id, only, query_pairs, single};
use crate::problem::Problem;
use crate::state::AppState;

impl Resource for User {
    const READ: Permission = Permission("users:read");
    const WRITE: Permission = Permission("users:write");

    fn of<'v, 's>(view: &'v View<'s>) -> Collection<'v, View<'s>, User> {
        view.users()
    }

    fn id(&self) -> u64 {
        self.id
    }

    fn version(&self) -> u64 {
        self.version
    }

    fn create(view: &View<'_>, doc: &Value) -> Result<(Value, User), Error> {
        let users = view.users();
        let user = users.create(users.input_from_json(doc)?)?;
        let body = serde_json::to_value(&user)
            .map_err(|e| Error::internal(format!("a user as JSON: {e}")))?;
        Ok((body, user))
    }

    fn delete(view: &View<'_>, id: u64, _cascade: bool) -> Result<User, Error> {
        view.users().delete(id)
    }

    /// The roles added must grant only what the caller holds.
    fn may_write(
        caller: &Caller,
        view: &View<'_>,
        before: Option<&User>,
        after: &User,
    ) -> Result<(), Problem> {
        caller.may_give_roles(view, before.map_or(&[], |b| &b.roles), &after.roles)
    }

    /// Its roles must grant only what the caller holds.
    fn may_act_on(caller: &Caller, view: &View<'_>, record: &User) -> Result<(), Problem> {
        caller.may_act_on(
            view,
            &format!("user {} {:?}", record.id, record.username),
            &record.roles,
        )
    }
}

/// `GET /v1/users/{id or email}`: by id when the key is a whole number,
/// else by email (case-insensitively). `tenant` names the tenant of the
/// email for a principal that has none (its own applies otherwise).
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Key(key): Key,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.require(User::READ)?;
    let pairs = query_pairs(raw.as_deref());
    let by_id = !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit());
    only(&pairs, if by_id { &[] } else { &["tenant"] })?;
    let tenant = single(&pairs, "tenant")?.map(str::to_owned);
    let user = if by_id {
        let id = id(rosterdb::EntityKind::User, &key)?;
        state
            .run(move |store| Ok(caller.view(store)?.users().get(id)?))
            .await?
    } else {
        state
            .run(move |store| {
                let tenant = tenant.as_deref().or(caller.tenant());
                Ok(caller.view(store)?.users().get_by_email(&key, tenant)?)
            })
            .await?
    };
    answer_get(&headers, &user)
}

/// `GET /v1/users/lookup?type=&value=`: the user with that external id
/// (`tenant` as for a lookup by email).
pub(crate) async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.require(User::READ)?;
    let pairs = query_pairs(raw.as_deref());
    only(&pairs, &["type", "value", "tenant"])?;
    let required = |name: &str| -> Result<String, Problem> {
        single(&pairs, name)?.map(str::to_owned).ok_or_else(|| {
            Error::query(QueryCode::InvalidParameter, format!("{name} is required"))
                .for_field(name)
                .into()
        })
    };
    let kind = required("type")?;
    let value = required("value")?;
    let tenant = single(&pairs, "tenant")?.map(str::to_owned);
    let user = state
        .run(move |store| {
            let tenant = tenant.as_deref().or(caller.tenant());
            Ok(caller
                .view(store)?
                .users()
                .get_by_external_id(&kind, &value, tenant)?)
        })
        .await?;
    answer_get(&headers, &user)
}
