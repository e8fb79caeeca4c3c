//! What a principal may give (server/README.md, "Access"): a role whose every
//! permission it holds itself, and permissions it holds. A principal
//! holding `users:write` may not give anyone (itself included) a role
//! granting `*`, nor may one holding `roles:write` add `*` to a role.
//!
//! The checks compare a record before and after a write made in one write
//! transaction ([`Caller::write`]): what was added must be within the
//! caller's permissions, or the transaction is rolled back and the answer
//! is `403 Forbidden` naming the role. Removing is not restricted.
//!
//! Nor may a principal without `*` act on a record holding more than it
//! does: update, replace, delete (or rotate the secret of) a user or client
//! whose roles grant a permission it lacks, or update or delete such a
//! role ([`Caller::may_act_on`], [`Caller::may_change_role`]). The target
//! is read in the write's own transaction, before the write.

use axum::http::StatusCode;
use rosterdb::{Role, Store, View};

use crate::access::Caller;
use crate::problem::Problem;

impl Caller {
    /// Runs `f` in one write transaction of the caller's view, committed
    /// when `f` returns `Ok` and `keep` accepts its value, else rolled
    /// back: nothing `f` wrote stays when it refuses.
    pub(crate) fn write_if<T>(
        &self,
        store: &Store,
        f: impl FnOnce(&View<'_>) -> Result<T, Problem>,
        keep: impl FnOnce(&T) -> bool,
    ) -> Result<T, Problem> {
        let tx = store.begin_write()?;
        let outcome = View::of(&tx, self.tenant())
            .map_err(Problem::from)
            .and_then(|view| f(&view));
        match outcome {
            Ok(value) if keep(&value) => {
                tx.commit()?;
                Ok(value)
            }
            other => {
                tx.rollback()?;
                other
            }
        }
    }

    /// [`Caller::write_if`] that keeps every `Ok`.
    pub(crate) fn write<T>(
        &self,
        store: &Store,
        f: impl FnOnce(&View<'_>) -> Result<T, Problem>,
    ) -> Result<T, Problem> {
        self.write_if(store, f, |_| true)
    }

    /// `403 Forbidden` naming the role when a role in `after` but not in
    /// `before` grants a permission the caller does not hold.
    pub(crate) fn may_give_roles(
        &self,
        view: &View<'_>,
        before: &[u64],
        after: &[u64],
    ) -> Result<(), Problem> {
        let added = after.iter().copied().filter(|id| !before.contains(id));
        match self.first_beyond(view, added)? {
            None => Ok(()),
            Some((role, missing)) => Err(refused(
                &role.name,
                &missing,
                format!(
                    "the caller may not give the role {:?} (id {}): it grants {missing:?}, which the caller's roles do not",
                    role.name, role.id
                ),
            )),
        }
    }

    /// `403 Forbidden` naming the role when `after` (the role `name`'s
    /// permissions after a write) adds to `before` a permission the caller
    /// does not hold.
    pub(crate) fn may_grant(
        &self,
        name: &str,
        before: &[String],
        after: &[String],
    ) -> Result<(), Problem> {
        match self.lacking(after.iter().filter(|p| !before.contains(p))) {
            None => Ok(()),
            Some(missing) => Err(refused(
                name,
                missing,
                format!(
                    "the caller may not add {missing:?} to the role {name:?}: its roles do not grant it"
                ),
            )),
        }
    }

    /// `403 Forbidden` naming `target` (e.g. `user 1 "admin"`) when one of
    /// `roles`, the target's roles as they are in `view`, grants a
    /// permission the caller does not hold: a principal acts only on
    /// records holding no more than it does (itself included, which
    /// always passes).
    pub(crate) fn may_act_on(
        &self,
        view: &View<'_>,
        target: &str,
        roles: &[u64],
    ) -> Result<(), Problem> {
        match self.first_beyond(view, roles.iter().copied())? {
            None => Ok(()),
            Some((_, missing)) => Err(beyond(target, &missing)),
        }
    }

    /// `403 Forbidden` naming the role when it grants a permission the
    /// caller does not hold: only such a role may be updated or deleted.
    pub(crate) fn may_change_role(&self, role: &Role) -> Result<(), Problem> {
        match self.lacking(&role.permissions) {
            None => Ok(()),
            Some(missing) => Err(beyond(
                &format!("role {} {:?}", role.id, role.name),
                missing,
            )),
        }
    }

    /// The first of `permissions` the caller does not hold.
    fn lacking<'p>(&self, permissions: impl IntoIterator<Item = &'p String>) -> Option<&'p String> {
        permissions.into_iter().find(|p| !self.holds(p))
    }

    /// The first of the roles `ids` (as they are in `view`) that grants a
    /// permission the caller does not hold, and that permission; `None`
    /// for a caller holding `*`.
    fn first_beyond(
        &self,
        view: &View<'_>,
        ids: impl IntoIterator<Item = u64>,
    ) -> Result<Option<(Role, String)>, Problem> {
        if self.holds_all() {
            return Ok(None);
        }
        for id in ids {
            let role = view.roles().get(id)?;
            if let Some(missing) = self.lacking(&role.permissions).cloned() {
                return Ok(Some((role, missing)));
            }
        }
        Ok(None)
    }
}

/// The `403` of a write to a record holding `permission`, which the
/// caller does not.
fn beyond(target: &str, permission: &str) -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "Forbidden",
        format!(
            "the caller may not change or delete {target}: it holds {permission:?}, which the caller's roles do not grant"
        ),
    )
    .with("target", target)
    .with("permission", permission)
}

/// The `403` of a refused gift.
fn refused(role: &str, permission: &str, detail: String) -> Problem {
    Problem::new(StatusCode::FORBIDDEN, "Forbidden", detail)
        .with("role", role)
        .with("permission", permission)
}
