//! Login bookkeeping in write groups (decision 0016): failed logins made
//! by 8 threads, grouped with creates that fail (and so send the group's
//! earlier members to run again), are counted exactly once each — a user
//! locks at exactly the threshold (docs/reference/credentials.md, Lockout), not before — and every
//! token a grouped successful login returns is one that committed. The
//! bookkeeping writes nothing to the change log.

// A test fails by panicking: unwraps, indexing and arithmetic on small
// known values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use common::{Checked, options, user, user_with_password};
use rosterdb::{ChangeOp, Credentials, Error, Lockout, Secret, Store};

const THREADS: usize = 8;
const WRONG_PER_THREAD: usize = 6;
const PASSWORD: &str = "correct horse battery";
const TTL: Duration = Duration::from_secs(600);

/// A store locking after `threshold` failures, with `bad` (only ever given
/// wrong passwords) and `good` (only ever the right one), after 8 threads
/// each made [`WRONG_PER_THREAD`] failed logins of `bad`, as many
/// successful ones of `good` and as many refused creates; returns the
/// store and the tokens of the successful logins.
fn run(threshold: u32) -> (Arc<Checked>, Vec<Secret>) {
    let s = Store::memory_with(options().with_lockout(Lockout {
        threshold,
        duration: Duration::from_secs(3600),
    }))
    .unwrap();
    let s = Arc::new(Checked(s));
    s.users()
        .create(user_with_password("bad", PASSWORD))
        .unwrap();
    s.users()
        .create(user_with_password("good", PASSWORD))
        .unwrap();
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (s, start) = (Arc::clone(&s), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                let mut tokens = Vec::new();
                for i in 0..WRONG_PER_THREAD {
                    let wrong = Credentials::new("bad", format!("wrong {t} {i}"));
                    assert!(matches!(
                        s.login(&wrong, TTL),
                        Err(Error::AuthenticationFailed)
                    ));
                    assert!(matches!(
                        s.users().create(user("bad")),
                        Err(Error::Conflict { .. })
                    ));
                    tokens.push(
                        s.login(&Credentials::new("good", PASSWORD), TTL)
                            .unwrap()
                            .token,
                    );
                    assert!(matches!(
                        s.users().create(user("good")),
                        Err(Error::Conflict { .. })
                    ));
                }
                tokens
            })
        })
        .collect();
    let tokens = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    (s, tokens)
}

#[test]
fn grouped_failed_logins_count_once_each() {
    let failures = (THREADS * WRONG_PER_THREAD) as u32;
    // One failure short of the threshold: not locked; the next one locks.
    let (s, tokens) = run(failures + 1);
    let bad = s.users().get_by_username("bad", None).unwrap();
    assert_eq!(bad.locked_until, None, "failures counted more than once");
    assert!(matches!(
        s.login(&Credentials::new("bad", "wrong again"), TTL),
        Err(Error::AuthenticationFailed)
    ));
    let bad = s.users().get_by_username("bad", None).unwrap();
    assert!(bad.locked_until.is_some(), "failures lost");
    // Every token of a successful login committed and authenticates.
    assert_eq!(tokens.len(), THREADS * WRONG_PER_THREAD);
    let good = s.users().get_by_username("good", None).unwrap();
    for token in &tokens {
        assert_eq!(s.authenticate(token.expose()).unwrap().id, good.id);
    }
    assert!(good.last_login_at.is_some());
    // Bookkeeping is no change: the log holds the two creates only.
    let log = s.changes(0, 1000).unwrap();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|c| c.op == ChangeOp::Create));
    assert_eq!(good.version, 1);

    // At exactly the threshold: locked once every failure is counted.
    let (s, _) = run(failures);
    let bad = s.users().get_by_username("bad", None).unwrap();
    assert!(bad.locked_until.is_some(), "failures lost");
}
