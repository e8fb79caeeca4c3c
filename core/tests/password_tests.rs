//! Password checks and lockout (docs/reference/credentials.md, Passwords
//! and Lockout).

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
use std::time::Duration;

use common::{
    CHEAP, assert_auth_failed, options, store, store_with_clock, tenant_user, user,
    user_with_password,
};
use rosterdb::{Argon2Params, Credentials, Error, Lockout, NewUser, Options, Store};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

fn creds(identifier: &str, password: &str) -> Credentials {
    Credentials::new(identifier, password)
}

/// An identifier is a username first, then an e-mail: when one user's
/// username is, caselessly, another's e-mail, it names the first user,
/// and the other logs in by username (docs/reference/credentials.md).
#[test]
fn an_identifier_that_is_one_users_username_and_anothers_email_names_the_first() {
    let s = store();
    let users = s.users();
    let named = users
        .create(NewUser {
            password: Some("first password 1".into()),
            ..NewUser::new("bob@x.com", "a@x.com", "Bob", "Named")
        })
        .unwrap();
    let mailed = users
        .create(NewUser {
            password: Some("second password 2".into()),
            ..NewUser::new("bee", "BOB@x.com", "Bee", "Mailed")
        })
        .unwrap();
    let who = |identifier: &str, password: &str| {
        users
            .verify_password(&creds(identifier, password))
            .map(|u| u.id)
    };
    assert_eq!(who("BOB@X.COM", "first password 1").unwrap(), named.id);
    assert_auth_failed(who("BOB@X.COM", "second password 2"));
    assert_eq!(who("bee", "second password 2").unwrap(), mailed.id);
    assert_eq!(users.get_by_email("bob@x.com", None).unwrap().id, mailed.id);
}

#[test]
fn a_right_password_by_username_or_email_logs_in_and_sets_last_login() {
    let (s, clock) = store_with_clock(options());
    let created = s
        .users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    assert_eq!(created.last_login_at, None);
    clock.advance(Duration::from_secs(60));
    let by_name = s.users().verify_password(&creds("ANN", PASSWORD)).unwrap();
    assert_eq!(by_name.id, created.id);
    assert_eq!(by_name.last_login_at, Some(clock.now()));
    let by_email = s
        .users()
        .verify_password(&creds("Ann@Example.com", PASSWORD))
        .unwrap();
    assert_eq!(by_email.id, created.id);
    // Login bookkeeping is no update.
    assert_eq!(by_email.version, 1);
    assert_eq!(by_email.updated_at, created.updated_at);
    assert_eq!(s.changes(0, 100).unwrap().len(), 1);
}

#[test]
fn every_failure_is_the_same_error() {
    let s = store();
    s.users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    s.users()
        .create(NewUser {
            enabled: false,
            ..user_with_password("dis", PASSWORD)
        })
        .unwrap();
    s.users().create(user("nopass")).unwrap();
    s.users()
        .create(NewUser {
            password: Some(PASSWORD.into()),
            ..tenant_user("ten", "acme")
        })
        .unwrap();
    let failures = [
        creds("ann", "correct horse batterY"),
        creds("ann", ""),
        creds("nobody", PASSWORD),
        creds("", PASSWORD),
        creds("dis", PASSWORD),
        creds("nopass", PASSWORD),
        creds("nopass", ""),
        creds("ten", PASSWORD),
        creds("ann", PASSWORD).tenant("acme"),
        creds("ann", &"x".repeat(1_000_000)),
        creds(&"a".repeat(1_000_000), PASSWORD),
        creds("ann", "correct\0horse battery"),
        creds("ann\0", PASSWORD),
    ];
    let mut messages = Vec::new();
    for c in &failures {
        let err = s.users().verify_password(c).unwrap_err();
        assert_eq!(err, Error::AuthenticationFailed, "{c:?}");
        messages.push(err.to_string());
    }
    messages.dedup();
    assert_eq!(messages, ["authentication failed"]);
    s.users()
        .verify_password(&creds("ten", PASSWORD).tenant("acme"))
        .unwrap();
}

#[test]
fn passwords_are_normalised_as_opaque_strings() {
    let s = store();
    // "é" composed (NFC) when set, decomposed (NFD) when typed; a no-break space typed as a space.
    s.users()
        .create(user_with_password("ann", "caf\u{e9} au lait\u{a0}noir"))
        .unwrap();
    s.users()
        .verify_password(&creds("ann", "cafe\u{301} au lait noir"))
        .unwrap();
    s.users()
        .verify_password(&creds("ann", "caf\u{e9}\u{2003}au lait noir"))
        .unwrap();
    assert_auth_failed(
        s.users()
            .verify_password(&creds("ann", "cafe au lait noir")),
    );
    // Control characters are no password.
    let err = s
        .users()
        .create(user_with_password("bob", "tab\there1"))
        .unwrap_err();
    assert!(matches!(err, Error::Validation { ref errors } if errors[0].field == "password"));
}

#[test]
fn set_password_is_an_update_and_ends_sessions() {
    let s = store();
    let u = s
        .users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    let login = s
        .login(&creds("ann", PASSWORD), rosterdb::DEFAULT_SESSION_TTL)
        .unwrap();
    let after = s
        .users()
        .set_password(u.id, &"new password 2".into())
        .unwrap();
    assert_eq!(after.version, 2);
    assert!(after.has_password);
    assert_auth_failed(s.users().verify_password(&creds("ann", PASSWORD)));
    s.users()
        .verify_password(&creds("ann", "new password 2"))
        .unwrap();
    common::assert_invalid_token(s.authenticate(login.token.expose()));
    let short = s.users().set_password(u.id, &"short".into()).unwrap_err();
    assert!(matches!(short, Error::Validation { ref errors } if errors[0].field == "password"));
    assert!(matches!(
        s.users().set_password(99, &"long enough".into()),
        Err(Error::NotFound { .. })
    ));
}

fn locking(threshold: u32, seconds: u64) -> Options {
    options().with_lockout(Lockout {
        threshold,
        duration: Duration::from_secs(seconds),
    })
}

#[test]
fn failures_lock_the_user_until_expiry_or_unlock() {
    let (s, clock) = store_with_clock(locking(3, 900));
    let u = s
        .users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    for _ in 0..2 {
        assert_auth_failed(s.users().verify_password(&creds("ann", "wrong password")));
    }
    assert_eq!(s.users().get(u.id).unwrap().locked_until, None);
    // A success resets the count.
    s.users().verify_password(&creds("ann", PASSWORD)).unwrap();
    for _ in 0..3 {
        assert_auth_failed(s.users().verify_password(&creds("ann", "wrong password")));
    }
    let locked_at = clock.now();
    let locked = s.users().get(u.id).unwrap();
    assert_eq!(
        locked.locked_until,
        Some(locked_at.plus(Duration::from_secs(900)))
    );
    assert_eq!(locked.version, 1, "a lock is bookkeeping, not an update");
    // Locked: the right password fails, and failures do not extend the lock.
    clock.advance(Duration::from_secs(600));
    assert_auth_failed(s.users().verify_password(&creds("ann", PASSWORD)));
    assert_auth_failed(s.users().verify_password(&creds("ann", "wrong password")));
    assert_eq!(
        s.users().get(u.id).unwrap().locked_until,
        locked.locked_until
    );
    let filtered = rosterdb::Query::parse("lockedUntil pr").unwrap();
    assert_eq!(s.users().count(&filtered).unwrap(), 1);
    // Expiry: the field disappears and the password works again.
    clock.advance(Duration::from_secs(300));
    assert_eq!(s.users().get(u.id).unwrap().locked_until, None);
    assert_eq!(s.users().count(&filtered).unwrap(), 0);
    s.users().verify_password(&creds("ann", PASSWORD)).unwrap();
    // Unlock clears a lock in force, as an update.
    for _ in 0..3 {
        assert_auth_failed(s.users().verify_password(&creds("ann", "wrong password")));
    }
    let unlocked = s.users().unlock(u.id).unwrap();
    assert_eq!(unlocked.locked_until, None);
    assert_eq!(unlocked.version, 2);
    s.users().verify_password(&creds("ann", PASSWORD)).unwrap();
    // Unlocking an unlocked user writes nothing.
    assert_eq!(s.users().unlock(u.id).unwrap().version, 2);
}

#[test]
fn a_disabled_user_is_refused_without_counting() {
    let (s, _clock) = store_with_clock(locking(2, 60));
    let u = s
        .users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    s.users()
        .merge(u.id, &json!({"enabled": false}), None)
        .unwrap();
    for _ in 0..5 {
        assert_auth_failed(s.users().verify_password(&creds("ann", "wrong password")));
    }
    s.users()
        .merge(u.id, &json!({"enabled": true}), None)
        .unwrap();
    assert_eq!(s.users().get(u.id).unwrap().locked_until, None);
    s.users().verify_password(&creds("ann", PASSWORD)).unwrap();
}

#[test]
fn threshold_zero_never_locks() {
    let (s, _clock) = store_with_clock(locking(0, 60));
    s.users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    for _ in 0..20 {
        assert_auth_failed(s.users().verify_password(&creds("ann", "wrong password")));
    }
    s.users().verify_password(&creds("ann", PASSWORD)).unwrap();
}

/// `n` threads check a wrong password for `ann` at the same moment.
fn fail_together(s: &Arc<common::Checked>, n: usize) {
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (s, barrier) = (Arc::clone(s), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                assert_auth_failed(s.users().verify_password(&creds("ann", "wrong password")));
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn concurrent_failures_lock_once_and_lose_none() {
    // 20 threads fail at once against a threshold of 50: none is lost, so
    // exactly 30 more failures lock the user.
    let (s, _clock) = store_with_clock(locking(50, 900));
    let s = Arc::new(s);
    let u = s
        .users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    fail_together(&s, 20);
    for _ in 0..29 {
        assert_auth_failed(s.users().verify_password(&creds("ann", "wrong password")));
    }
    assert_eq!(s.users().get(u.id).unwrap().locked_until, None);
    assert_auth_failed(s.users().verify_password(&creds("ann", "wrong password")));
    assert!(s.users().get(u.id).unwrap().locked_until.is_some());
}

#[test]
fn concurrent_failures_past_the_threshold_lock_exactly_once() {
    let (s, clock) = store_with_clock(locking(5, 900));
    let s = Arc::new(s);
    let u = s
        .users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    fail_together(&s, 20);
    let locked = s.users().get(u.id).unwrap();
    assert_eq!(
        locked.locked_until,
        Some(clock.now().plus(Duration::from_secs(900)))
    );
    assert_eq!(locked.version, 1);
    // Once the lock expires the count starts from zero: four failures do not lock.
    clock.advance(Duration::from_secs(901));
    for _ in 0..4 {
        assert_auth_failed(s.users().verify_password(&creds("ann", "wrong password")));
    }
    s.users().verify_password(&creds("ann", PASSWORD)).unwrap();
}

#[test]
fn a_parameter_change_rehashes_on_the_next_success_as_bookkeeping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.redb");
    let export = dir.path().join("out.jsonl");
    {
        let s = Store::open(&path, options()).unwrap();
        s.users()
            .create(user_with_password("ann", PASSWORD))
            .unwrap();
    }
    let stronger = Argon2Params {
        memory_kib: 16,
        iterations: 2,
        ..CHEAP
    };
    let s = Store::open(&path, options().with_argon2(stronger)).unwrap();
    let hash_of = |s: &Store| {
        s.export_jsonl(&export).unwrap();
        let text = std::fs::read_to_string(&export).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        line["doc"]["passwordHash"].as_str().unwrap().to_owned()
    };
    assert!(hash_of(&s).starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
    assert_auth_failed(s.users().verify_password(&creds("ann", "wrong password")));
    assert!(hash_of(&s).starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
    let changes = s.changes(0, 100).unwrap().len();
    let user = s.users().verify_password(&creds("ann", PASSWORD)).unwrap();
    assert_eq!(user.version, 1);
    assert!(hash_of(&s).starts_with("$argon2id$v=19$m=16,t=2,p=1$"));
    assert_eq!(s.changes(0, 100).unwrap().len(), changes);
    s.users().verify_password(&creds("ann", PASSWORD)).unwrap();
}

#[test]
fn bad_options_are_refused_at_open() {
    let bad = locking(5, 0);
    assert!(matches!(
        Store::memory_with(bad),
        Err(Error::InvalidArgument { ref argument, .. }) if argument == "lockout_seconds"
    ));
    assert!(matches!(
        Store::memory_with(options().with_totp_issuer("a:b")),
        Err(Error::InvalidArgument { ref argument, .. }) if argument == "totp_issuer"
    ));
}

#[test]
fn checks_refuse_to_run_inside_a_transaction() {
    // A rollback would undo the failure count: unlimited guesses, no lockout.
    let (s, _clock) = store_with_clock(locking(2, 900));
    let u = s
        .users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    let secret = s.clients().create(rosterdb::NewClient::new("c")).unwrap();
    let refused = |result: rosterdb::Result<()>| match result {
        Err(Error::InvalidArgument { argument, .. }) => assert_eq!(argument, "transaction"),
        other => panic!("{other:?}"),
    };
    for _ in 0..5 {
        refused(s.write(|tx| {
            tx.users()
                .verify_password(&creds("ann", "wrong"))
                .map(|_| ())
        }));
        refused(s.write(|tx| {
            tx.login(&creds("ann", "wrong"), rosterdb::DEFAULT_SESSION_TTL)
                .map(|_| ())
        }));
        refused(s.write(|tx| {
            tx.client_login(
                &secret.client.client_id,
                &"wrong".into(),
                None,
                rosterdb::DEFAULT_SESSION_TTL,
            )
            .map(|_| ())
        }));
    }
    let scoped = s.scoped("acme").unwrap();
    refused(scoped.write(|tx| {
        tx.users()
            .verify_password(&creds("ann", "wrong"))
            .map(|_| ())
    }));
    assert_eq!(s.users().get(u.id).unwrap().locked_until, None);
    s.users().verify_password(&creds("ann", PASSWORD)).unwrap();
}

#[test]
fn an_invalid_tenant_names_no_user() {
    // "" is how the index spells "no tenant": it must not reach those users.
    let s = store();
    s.users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    for tenant in ["", "not valid!", &"t".repeat(65)] {
        assert_auth_failed(
            s.users()
                .verify_password(&creds("ann", PASSWORD).tenant(tenant)),
        );
        assert!(matches!(
            s.users().get_by_username("ann", Some(tenant)),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            s.users().get_by_email("ann@example.com", Some(tenant)),
            Err(Error::NotFound { .. })
        ));
    }
    s.users().get_by_username("ann", None).unwrap();
}

#[test]
fn an_imported_hash_with_the_stores_parameters_is_also_checked_as_typed() {
    // Another system hashed the password as typed (a no-break space, not
    // normalised), with exactly this store's Argon2id parameters.
    use argon2::password_hash::PasswordHasher;
    let typed = "correct\u{a0}horse-1";
    let params = argon2::Params::new(8, 1, 1, None).unwrap();
    let hasher = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let hash = hasher
        .hash_password_with_salt(typed.as_bytes(), b"somesaltsomesalt")
        .unwrap()
        .to_string();
    assert!(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{hash}");
    let s = store();
    let u = s
        .users()
        .create(NewUser {
            password_hash: Some(hash.clone()),
            ..user("ann")
        })
        .unwrap();
    s.users().verify_password(&creds("ann", typed)).unwrap();
    // Re-hashed from the normalised form: both spellings now match.
    s.users()
        .verify_password(&creds("ann", "correct horse-1"))
        .unwrap();
    s.users().verify_password(&creds("ann", typed)).unwrap();
    assert_eq!(s.users().get(u.id).unwrap().version, 1);
}
