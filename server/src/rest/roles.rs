//! `/v1/roles`: the roles (permission groups).

use rosterdb::{Collection, Error, Role, View};
use serde_json::Value;

use super::resource::Resource;
use crate::access::{Caller, Permission};
use crate::problem::Problem;

impl Resource for Role {
    const READ: Permission = Permission("roles:read");
    const WRITE: Permission = Permission("roles:write");
    const DELETE_PARAMS: &'static [&'static str] = &["cascade"];

    fn of<'v, 's>(view: &'v View<'s>) -> Collection<'v, View<'s>, Role> {
        view.roles()
    }

    fn id(&self) -> u64 {
        self.id
    }

    fn version(&self) -> u64 {
        self.version
    }

    fn create(view: &View<'_>, doc: &Value) -> Result<(Value, Role), Error> {
        let roles = view.roles();
        let role = roles.create(roles.input_from_json(doc)?)?;
        let body = serde_json::to_value(&role)
            .map_err(|e| Error::internal(format!("a role as JSON: {e}")))?;
        Ok((body, role))
    }

    /// `DELETE /v1/roles/{id}?cascade=true` removes the role from its
    /// holders too; without it a held role is `409 InUse`.
    fn delete(view: &View<'_>, id: u64, cascade: bool) -> Result<Role, Error> {
        view.roles().delete(id, cascade)
    }

    /// The permissions added must be ones the caller holds.
    fn may_write(
        caller: &Caller,
        _view: &View<'_>,
        before: Option<&Role>,
        after: &Role,
    ) -> Result<(), Problem> {
        let before = before.map_or(&[][..], |b| &b.permissions);
        caller.may_grant(&after.name, before, &after.permissions)
    }

    /// It must grant only what the caller holds.
    fn may_act_on(caller: &Caller, _view: &View<'_>, record: &Role) -> Result<(), Problem> {
        caller.may_change_role(record)
    }
}
