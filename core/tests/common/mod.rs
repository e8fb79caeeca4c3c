//! Helpers shared by the integration tests.
#![allow(dead_code)]

use rosterdb::{Argon2Params, Error, NewRole, NewUser, Options, Store};

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
/// checks its indexes against its records (SPEC §8 `check()`).
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
