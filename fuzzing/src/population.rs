//! A small store the targets read and write: fixed records of every kind in
//! two tenants, a manual clock and cheap Argon2 costs, so a run is
//! deterministic and fast.

use std::sync::OnceLock;

use rosterdb::{Argon2Params, ManualClock, NewClient, NewRole, NewUser, Options, Store, Timestamp};
use serde_json::json;

/// 2024-01-01T00:00:00Z, in milliseconds: the manual clock's instant.
const START_MILLIS: i64 = 1_704_067_200_000;

/// The options of every store the targets open: a clock that stands at
/// 2024-01-01 and the smallest Argon2 costs.
pub fn options() -> Options {
    let start = Timestamp::from_millis(START_MILLIS).unwrap_or_else(Timestamp::now);
    Options::default()
        .with_clock(ManualClock::new(start).clock())
        .with_argon2(Argon2Params {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        })
}

/// The instant the clock stands at.
pub fn now() -> Timestamp {
    Timestamp::from_millis(START_MILLIS).unwrap_or_else(Timestamp::now)
}

/// A new in-memory store holding [`populate`]'s records.
pub fn fresh() -> rosterdb::Result<Store> {
    let store = Store::memory_with(options())?;
    populate(&store)?;
    Ok(store)
}

/// One shared store holding [`populate`]'s records, for targets that only
/// read; `None` when it could not be made (a bug the first target to ask
/// reports).
pub fn shared() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| match fresh() {
        Ok(store) => store,
        Err(e) => crate::violated(format!("the shared store: {e}")),
    })
}

/// Adds the fixed records: roles 1–3 (3 in tenant `t1`), users 1–4 (4 in
/// `t1`; user 1 with a password, roles, external ids and attributes) and
/// clients 1–2 (2 in `t1`).
pub fn populate(store: &Store) -> rosterdb::Result<()> {
    let roles = store.roles();
    roles.create(NewRole {
        description: Some("Full access".into()),
        permissions: vec!["users:read".into(), "users:write".into()],
        ..NewRole::new("admin")
    })?;
    roles.create(NewRole {
        permissions: vec!["users:read".into()],
        ..NewRole::new("viewer")
    })?;
    roles.create(NewRole {
        tenant: Some("t1".into()),
        ..NewRole::new("admin")
    })?;
    let users = store.users();
    users.create(NewUser::from_json(&json!({
        "username": "ann",
        "email": "ann@example.com",
        "firstName": "Ann",
        "lastName": "Lovelace",
        "nickname": "Annie",
        "roles": [1, 2],
        "password": "correct horse",
        "externalIds": [{"type": "github", "value": "1001"}],
        "attributes": {"department": "R&D", "level": 3, "tags": ["a", "b"], "nested": {"x": true}}
    }))?)?;
    users.create(NewUser {
        enabled: false,
        ..NewUser::new("bob", "bob@example.com", "Bob", "Straße")
    })?;
    users.create(NewUser {
        roles: vec![2],
        ..NewUser::new("zoë", "zoe@example.org", "Zoë", "Ångström")
    })?;
    users.create(NewUser {
        tenant: Some("t1".into()),
        roles: vec![3],
        ..NewUser::new("ann", "ann@t1.example", "Ann", "Other")
    })?;
    let clients = store.clients();
    clients.create(NewClient {
        roles: vec![1],
        ..NewClient::new("deploy bot")
    })?;
    clients.create(NewClient {
        tenant: Some("t1".into()),
        ..NewClient::new("t1 sync")
    })?;
    Ok(())
}
