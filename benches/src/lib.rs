//! Shared set-up for the rosterdb benchmarks: deterministic populations.

use rosterdb::{Argon2Params, NewRole, NewUser, Options, Store};

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Linus",
    "Margaret",
    "Donald",
    "Frances",
    "Ken",
    "Dennis",
    "Bjarne",
    "Guido",
    "Radia",
    "Shafi",
    "Leslie",
    "Tony",
    "Niklaus",
    "John",
    "Katherine",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Torvalds",
    "Hamilton",
    "Knuth",
    "Allen",
    "Thompson",
    "Ritchie",
    "Stroustrup",
    "Rossum",
    "Perlman",
    "Goldwasser",
    "Lamport",
    "Hoare",
    "Wirth",
    "Backus",
    "Johnson",
    "Kay",
    "Engelbart",
    "Cerf",
    "Kahn",
    "Berners-Lee",
    "Wozniak",
    "Stallman",
    "Pike",
    "Milner",
    "Church",
];
const DEPARTMENTS: &[&str] = &["R&D", "Sales", "Support", "Finance", "Legal", "Ops"];

/// Cheap Argon2 parameters: population set-up does not measure hashing.
pub const CHEAP: Argon2Params = Argon2Params {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

/// An in-memory store with `users` users over 10 roles, created in batches
/// of 10,000 per transaction. User `i` is enabled unless `i % 4 == 0`, holds
/// role `i % 10 + 1`, and has a pseudo-random first and last name.
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

/// The `n`th user of a population.
pub fn user(n: u64) -> NewUser {
    let mix = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    let first = pick(FIRST, mix);
    let last = pick(LAST, mix / 7);
    let mut attributes = serde_json::Map::new();
    attributes.insert("department".into(), pick(DEPARTMENTS, n).into());
    NewUser {
        enabled: !n.is_multiple_of(4),
        roles: vec![(n % 10).saturating_add(1)],
        attributes,
        ..NewUser::new(
            format!("{}.{}{n}", first.to_lowercase(), last.to_lowercase()),
            format!("user{n}@example.com"),
            first,
            last,
        )
    }
}

/// The entry of `pool` that `n` picks, cycling through it (`""` from an
/// empty pool).
fn pick(pool: &[&'static str], n: u64) -> &'static str {
    u64::try_from(pool.len())
        .ok()
        .and_then(|len| n.checked_rem(len))
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| pool.get(i))
        .copied()
        .unwrap_or_default()
}
