//! `passwd`: a new password from stdin (the terminal is not testable
//! here), never printed.

// A test fails by panicking: unwraps and indexing are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use common::Dir;
use rosterdb::{Credentials, Options, Secret, Store};

fn logs_in(d: &Dir, user: &str, password: &str) -> bool {
    let store = Store::open(d.path("s.redb"), Options::default()).unwrap();
    store
        .users()
        .verify_password(&Credentials::new(user, Secret::new(password)))
        .is_ok()
}

#[test]
fn passwd_sets_the_password_from_stdin_and_never_prints_it() {
    let d = Dir::sample();
    let run = d
        .run_with_stdin(
            &["passwd", "bob", "--password-stdin"],
            Some(b"a new secret pass\r\n"),
        )
        .ok();
    assert!(!run.stdout.contains("a new secret") && !run.stderr.contains("a new secret"));
    let user = run.json();
    assert_eq!(
        (user["hasPassword"].as_bool(), user["version"].as_u64()),
        (Some(true), Some(2))
    );
    assert!(logs_in(&d, "bob", "a new secret pass"));
    // By email, and by username even when it is all digits.
    d.run(&[
        "users",
        "create",
        r#"{"username":"1234","email":"digits@example.com","firstName":"D","lastName":"D"}"#,
    ])
    .ok();
    d.run_with_stdin(
        &["passwd", "--username", "1234", "--password-stdin"],
        Some(b"digits digits\n"),
    )
    .ok();
    assert!(logs_in(&d, "1234", "digits digits"));
    d.run_with_stdin(
        &["passwd", "--email", "BOB@example.com", "--password-stdin"],
        Some(b"third one!\n"),
    )
    .ok();
    assert!(logs_in(&d, "bob", "third one!"));
}

#[test]
fn passwd_refusals_change_nothing() {
    let d = Dir::sample();
    let before = d.snapshot();
    let run = d
        .run_with_stdin(&["passwd", "bob", "--password-stdin"], Some(b"short\n"))
        .fails(5);
    assert!(
        run.stderr.contains("password") && !run.stderr.contains("short\n"),
        "{run:?}"
    );
    d.run_with_stdin(
        &["passwd", "nobody", "--password-stdin"],
        Some(b"long enough pass\n"),
    )
    .fails(3);
    // Without a terminal and without --password-stdin: a usage error.
    let run = d.run(&["passwd", "bob"]).fails(2);
    assert!(run.stderr.contains("--password-stdin"), "{run:?}");
    assert_eq!(d.snapshot(), before);
}
