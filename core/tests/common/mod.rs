//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod regressions;

use rosterdb::{
    Argon2Params, Error, ManualClock, NewRole, NewUser, Options, Query, Store, Timestamp, User,
};

/// Argon2 parameters that make hashing take microseconds, for tests.
pub const CHEAP: Argon2Params = Argon2Params {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

/// Options with cheap hashing.
pub fn options() -> Options {
    Options::default().with_argon2(CHEAP)
}

/// An in-memory store with cheap hashing that, when the test is done,
/// checks its indexes against its records (docs/reference/changes-and-export.md `check()`).
pub fn store() -> Checked {
    Checked(Store::memory_with(options()).expect("memory store"))
}

/// A store checked for consistency when dropped at the end of a test.
pub struct Checked(pub Store);

impl std::ops::Deref for Checked {
    type Target = Store;

    fn deref(&self) -> &Store {
        &self.0
    }
}

impl Drop for Checked {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let report = self.0.check().expect("check runs");
            assert!(
                report.ok,
                "the store is inconsistent: {:?}",
                report.problems
            );
        }
    }
}

/// A valid user whose username and email derive from `name`.
pub fn user(name: &str) -> NewUser {
    NewUser::new(name, format!("{name}@example.com"), "First", "Last")
}

/// A valid user in `tenant`.
pub fn tenant_user(name: &str, tenant: &str) -> NewUser {
    NewUser {
        tenant: Some(tenant.into()),
        ..user(name)
    }
}

/// A role in an optional tenant.
pub fn role(name: &str, tenant: Option<&str>) -> NewRole {
    NewRole {
        tenant: tenant.map(Into::into),
        ..NewRole::new(name)
    }
}

/// The fields of a `Validation` error, or a panic naming what came instead.
pub fn error_fields<T: std::fmt::Debug>(result: rosterdb::Result<T>) -> Vec<String> {
    match result {
        Err(Error::Validation { errors }) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// The taken field of a `Conflict` error, or a panic naming what came instead.
pub fn conflict_field<T: std::fmt::Debug>(result: rosterdb::Result<T>) -> String {
    match result {
        Err(Error::Conflict { field, .. }) => field,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// A checked in-memory store with cheap hashing whose clock stands at
/// 2026-01-01T00:00:00Z until the returned [`ManualClock`] moves it.
pub fn store_with_clock(options: Options) -> (Checked, ManualClock) {
    let clock = ManualClock::new(Timestamp::parse("2026-01-01T00:00:00Z").unwrap());
    let store = Store::memory_with(options.with_clock(clock.clock())).expect("memory store");
    (Checked(store), clock)
}

/// Asserts that `result` is the one `AuthenticationFailed` error.
#[track_caller]
pub fn assert_auth_failed<T: std::fmt::Debug>(result: rosterdb::Result<T>) {
    match result {
        Err(Error::AuthenticationFailed) => {}
        other => panic!("expected AuthenticationFailed, got {other:?}"),
    }
}

/// Asserts that `result` is `NotFound`.
#[track_caller]
pub fn assert_not_found<T: std::fmt::Debug>(result: rosterdb::Result<T>) {
    match result {
        Err(Error::NotFound { .. }) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// The ids of the users on the page `q` lists.
#[track_caller]
pub fn user_ids(s: &Store, q: rosterdb::Query) -> Vec<u64> {
    s.users()
        .list(&q)
        .unwrap()
        .items
        .iter()
        .map(|u| u.id)
        .collect()
}

/// Asserts that `result` is `InvalidToken`.
#[track_caller]
pub fn assert_invalid_token<T: std::fmt::Debug>(result: rosterdb::Result<T>) {
    match result {
        Err(Error::InvalidToken) => {}
        other => panic!("expected InvalidToken, got {other:?}"),
    }
}

/// A user with a password.
pub fn user_with_password(name: &str, password: &str) -> NewUser {
    NewUser {
        password: Some(password.into()),
        ..user(name)
    }
}

/// An RFC 6238 code (HMAC-SHA-1, 30 s steps, 6 digits) of a base32 secret
/// at `at`, computed here independently of the store's own TOTP code.
pub fn totp_code(secret_base32: &str, at: Timestamp) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut bits = 0u64;
    let mut n = 0;
    let mut key = Vec::new();
    for c in secret_base32.trim_end_matches('=').chars() {
        let v = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
            .find(c.to_ascii_uppercase())
            .expect("base32") as u64;
        bits = (bits << 5) | v;
        n += 5;
        if n >= 8 {
            n -= 8;
            key.push((bits >> n) as u8);
        }
    }
    let counter = (at.as_millis() / 1000 / 30) as u64;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let value = u32::from_be_bytes(hash[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

/// A user `name` with `password` and a confirmed second factor, made at the
/// clock's time: its id, TOTP secret (base32) and recovery codes.
pub fn totp_user(
    store: &Store,
    clock: &ManualClock,
    name: &str,
    password: &str,
) -> (u64, String, Vec<rosterdb::Secret>) {
    let id = store
        .users()
        .create(user_with_password(name, password))
        .unwrap()
        .id;
    let secret = store
        .users()
        .totp_enroll(id)
        .unwrap()
        .secret
        .expose()
        .to_owned();
    let codes = store
        .users()
        .totp_confirm(id, &totp_code(&secret, clock.now()))
        .unwrap();
    (id, secret, codes)
}

/// Every user of `s`, in id order, read page by page by cursor.
pub fn every_user(s: &Store) -> Vec<User> {
    let mut all = Vec::new();
    let mut query = Query::all().page(1, 1000);
    loop {
        let page = s.users().list(&query).unwrap();
        all.extend(page.items);
        match page.next_cursor {
            Some(token) => query = Query::all().cursor(&token),
            None => return all,
        }
    }
}

/// A new store holding the users of `src`, each under the id
/// `id_of(i)`, where `i + 1` was its id in `src` (through an export,
/// edited, and an import, which keeps ids): ids spread over many 64Ki-id
/// chunks without creating every id between them.
pub fn with_user_ids(src: &Store, id_of: impl Fn(u64) -> u64) -> Checked {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.jsonl");
    src.export_jsonl(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
        if value["kind"] == "user" {
            let id = value["doc"]["id"].as_u64().unwrap();
            value["doc"]["id"] = id_of(id - 1).into();
        }
        out.push_str(&value.to_string());
        out.push('\n');
    }
    std::fs::write(&path, out).unwrap();
    let s = store();
    s.import_jsonl(&path).unwrap();
    s
}
