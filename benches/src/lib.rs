//! rosterdb's benchmarks side by side with SQLite (docs/BENCHMARKS.md): a seeded
//! population ([`population`]), the workloads as one trait ([`Workloads`])
//! implemented by a rosterdb store ([`RosterStore`]) and by "SQLite plus a
//! users table" ([`SqliteStore`]), and the measuring tools of the `compare`
//! binary ([`measure`], [`table_stats`]).

pub mod drive;
pub mod measure;
pub mod population;
pub mod roster;
pub mod sqlite;
pub mod table_stats;
pub mod workloads;

pub use population::{user, users};
pub use roster::RosterStore;
pub use sqlite::SqliteStore;
pub use workloads::{BenchError, BenchResult, PAGE, WRITERS, Workloads};

use rosterdb::{Argon2Params, NewRole, Options, Store};

/// Cheap Argon2 parameters: population set-up does not measure hashing.
pub const CHEAP: Argon2Params = Argon2Params {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

/// An in-memory store with `users` users over 10 roles, created in batches
/// of 10,000 per transaction, users as [`population::user`] makes them.
///
/// # Panics
///
/// When the store cannot be opened or populated (the benchmark cannot run).
#[allow(
    clippy::expect_used,
    reason = "benchmark set-up: no population, no benchmark"
)]
pub fn populated(users: u64) -> Store {
    let store = Store::memory_with(Options::default().with_argon2(CHEAP)).expect("store");
    store
        .write(|tx| {
            for r in 0..10 {
                tx.roles().create(NewRole::new(format!("role{r}")))?;
            }
            Ok(())
        })
        .expect("roles");
    let mut i = 0;
    while i < users {
        let end = i.saturating_add(10_000).min(users);
        store
            .write(|tx| {
                for n in i..end {
                    tx.users().create(user(n))?;
                }
                Ok(())
            })
            .expect("users");
        i = end;
    }
    store
}
