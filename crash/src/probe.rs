//! The writing checks after a kill: each user with login bookkeeping
//! since the last kill is failed until it locks, which tells its hidden
//! failure count; then a new write must work.

use rosterdb::{Credentials, EntityKind, Error, NewRole, Store};
use serde_json::Value;

use crate::error::{self, Result};
use crate::model::Model;
use crate::protocol::{self, Effect, LOCKOUT_THRESHOLD, LoginEffect};
use crate::verify::InFlight;

/// Fails each user the model follows (and the user of a login in flight)
/// with wrong passwords until it locks, and compares the number of
/// failures that took with the count acknowledged: the threshold minus
/// that count. A failed login in flight may have counted or not; the
/// returned [`InFlight`] says which (`inflight` unchanged otherwise).
pub fn failures(
    store: &Store,
    model: &Model,
    effect: Option<&Effect>,
    inflight: InFlight,
    problems: &mut Vec<String>,
) -> Result<InFlight> {
    let mut users = model.failures.clone();
    let mut pending = None;
    match effect.and_then(|e| e.login) {
        Some(LoginEffect::Failed { user }) => {
            users.entry(user).or_insert(0);
            pending = Some(user);
        }
        Some(LoginEffect::User { user }) => {
            let count = users.entry(user).or_insert(0);
            if inflight == InFlight::Applied {
                *count = 0;
            }
        }
        Some(LoginEffect::Client { .. }) | None => {}
    }
    let mut resolved = inflight;
    for (user, count) in users {
        let Some(username) = model
            .docs
            .get(&(EntityKind::User, user))
            .and_then(|d| d.get("username"))
            .and_then(Value::as_str)
        else {
            problems.push(format!("probe: user {user} has no acknowledged document"));
            continue;
        };
        let took = lock(store, user, username, problems)?;
        let Some(took) = took else {
            continue;
        };
        let left = LOCKOUT_THRESHOLD.saturating_sub(count);
        if pending == Some(user) {
            resolved = if took == left {
                InFlight::NotApplied
            } else if took.saturating_add(1) == left {
                InFlight::Applied
            } else {
                problems.push(format!(
                    "user {user} locked after {took} failures; {count} were acknowledged and one was in flight (threshold {LOCKOUT_THRESHOLD})"
                ));
                InFlight::NotApplied
            };
        } else if took != left {
            problems.push(format!(
                "user {user} locked after {took} failures; {count} were acknowledged (threshold {LOCKOUT_THRESHOLD})"
            ));
        }
    }
    Ok(resolved)
}

/// Fails `username` until it locks; the number of failures it took, or
/// `None` (with a problem) when it did not lock as it must.
fn lock(
    store: &Store,
    user: u64,
    username: &str,
    problems: &mut Vec<String>,
) -> Result<Option<u32>> {
    let wrong = Credentials::new(username, "wrong-probe-password");
    for took in 1..=LOCKOUT_THRESHOLD.saturating_add(1) {
        match store.login(&wrong, protocol::SESSION_TTL) {
            Err(Error::AuthenticationFailed) => {}
            other => {
                problems.push(format!(
                    "probe: a wrong password for user {user} gave {:?}",
                    other.map(|l| l.principal.id)
                ));
                return Ok(None);
            }
        }
        let now = store
            .users()
            .get(user)
            .map_err(error::store("probe: get user"))?;
        if now.locked_until.is_some() {
            return Ok(Some(took));
        }
    }
    problems.push(format!(
        "probe: user {user} is not locked after {} failures",
        LOCKOUT_THRESHOLD.saturating_add(1)
    ));
    Ok(None)
}

/// A new write after the reopen: a role created and read back whole.
pub fn new_write(store: &Store, run: u64, problems: &mut Vec<String>) -> Result<()> {
    let role = store
        .roles()
        .create(NewRole {
            permissions: vec!["probe:write".into()],
            ..NewRole::new(format!("probe-r{run}"))
        })
        .map_err(error::store("new write after reopen"))?;
    let read = store
        .roles()
        .get(role.id)
        .map_err(error::store("reading the new write"))?;
    if read != role {
        problems.push(format!(
            "the new write reads back as {read:?}, not {role:?}"
        ));
    }
    Ok(())
}
