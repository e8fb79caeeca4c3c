//! How long a failed login takes for a user that exists and for one that
//! does not (docs/reference/credentials.md, Passwords: "Similar time"), on
//! a store file with the default Argon2id parameters and durable commits.
//!
//! `cargo run --release -p rosterdb --example login_timing [ROUNDS]`
//! (default 41 rounds). Each round runs every case once, starting from a
//! different case each round, so drift of the machine's speed and the order
//! of the cases touch every case alike; the program prints each
//! case's median, 10th and 90th percentile, minimum and maximum, in
//! milliseconds. This is a measurement for the documentation, not a test:
//! the tests (`core/tests/session_tests.rs`) show instead that both paths do
//! the same hashing and the same durable commits.

use std::time::{Duration, Instant};

use rosterdb::{Credentials, DEFAULT_SESSION_TTL, Lockout, NewUser, Options, Store};

/// The cases: a name, the identifier and the password tried.
const CASES: &[(&str, &str, &str)] = &[
    ("known user, wrong password", "ann", "wrong password"),
    ("unknown user", "nobody", "wrong password"),
    ("unknown email", "nobody@example.com", "wrong password"),
    (
        "known user, password with a no-break space",
        "ann",
        "wrong\u{a0}password",
    ),
    (
        "unknown user, password with a no-break space",
        "nobody",
        "wrong\u{a0}password",
    ),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 41,
    };
    let dir = std::env::temp_dir().join(format!("rosterdb-login-timing-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("timing.redb");
    // No lockout, so the known user's failures never lock it.
    let options = Options::default().with_lockout(Lockout {
        threshold: 0,
        ..Lockout::default()
    });
    let store = Store::open(&path, options)?;
    store.users().create(NewUser {
        password: Some("the right password".into()),
        ..NewUser::new("ann", "ann@example.com", "Ann", "Example")
    })?;
    // One login of each case first: warms caches and pages in the file.
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds); CASES.len()];
    for round in 0..=rounds {
        // Each round starts at another case, so no case always runs first
        // (or always right after the same other one).
        for k in 0..CASES.len() {
            let case = k.wrapping_add(round).checked_rem(CASES.len()).unwrap_or(k);
            let Some(&(_, identifier, password)) = CASES.get(case) else {
                continue;
            };
            let start = Instant::now();
            let result = store.login(&Credentials::new(identifier, password), DEFAULT_SESSION_TTL);
            let took = start.elapsed();
            if result.is_ok() {
                return Err(format!("{identifier}: a wrong password was accepted").into());
            }
            if round > 0
                && let Some(list) = times.get_mut(case)
            {
                list.push(took);
            }
        }
    }
    println!("failed logins, {rounds} rounds, Argon2id m=19456 KiB t=2 p=1, durable commits");
    println!(
        "{:<46} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "case", "median", "p10", "p90", "min", "max"
    );
    for ((name, _, _), list) in CASES.iter().zip(&mut times) {
        list.sort();
        let at = |q: usize| {
            let i = (list.len().saturating_sub(1)).saturating_mul(q) / 100;
            list.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "{name:<46} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            at(50),
            at(10),
            at(90),
            at(0),
            at(100)
        );
    }
    drop(store);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
