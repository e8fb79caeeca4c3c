//! No password, client secret, TOTP secret, recovery code or session token
//! appears in a document, an export, the change log, an error, or Debug and
//! Display output (SPEC §2.1, §6).

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

use std::time::Duration;

use common::{options, store_with_clock, totp_code, totp_user, user_with_password};
use rosterdb::{Credentials, DEFAULT_SESSION_TTL, NewClient, Query, Secret, Store};
use serde_json::json;

const PASSWORD: &str = "Sw0rdfish-unique-password";

#[test]
fn secrets_are_nowhere_to_be_seen() {
    let (s, clock) = store_with_clock(options());
    let dir = tempfile::tempdir().unwrap();
    let mut secrets: Vec<String> = vec![PASSWORD.into(), "Patched-password-77".into()];
    let mut shown = Vec::new();

    let u = s
        .users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    shown.push(format!("{u:?}"));
    let enrolment = s.users().totp_enroll(u.id).unwrap();
    secrets.push(enrolment.secret.expose().to_owned());
    shown.push(format!("{enrolment:?}"));
    let codes = s
        .users()
        .totp_confirm(u.id, &totp_code(enrolment.secret.expose(), clock.now()))
        .unwrap();
    secrets.extend(codes.iter().map(|c| c.expose().to_owned()));
    shown.push(format!("{codes:?}"));
    clock.advance(Duration::from_secs(30));
    let credentials = Credentials::new("ann", PASSWORD)
        .totp_code(totp_code(enrolment.secret.expose(), clock.now()));
    shown.push(format!("{credentials:?}"));
    let login = s.login(&credentials, DEFAULT_SESSION_TTL).unwrap();
    secrets.push(login.token.expose().to_owned());
    shown.push(format!("{login:?}"));
    shown.push(format!(
        "{:?}",
        s.authenticate(login.token.expose()).unwrap()
    ));
    shown.push(format!("{:?}", s.users().sessions(u.id).unwrap()));

    let client = s.clients().create(NewClient::new("sync")).unwrap();
    secrets.push(client.secret.expose().to_owned());
    shown.push(format!("{client:?}"));
    let rotated = s.clients().rotate_secret(client.client.id).unwrap();
    secrets.push(rotated.expose().to_owned());
    shown.push(format!("{rotated:?}"));
    let client_login = s
        .client_login(
            &client.client.client_id,
            &rotated,
            None,
            DEFAULT_SESSION_TTL,
        )
        .unwrap();
    secrets.push(client_login.token.expose().to_owned());
    shown.push(format!("{client_login:?}"));

    // Errors, from every kind of failed check and bad input.
    let failures = [
        s.users()
            .verify_password(&Credentials::new("ann", secrets[2].as_str()))
            .unwrap_err(),
        s.login(&Credentials::new(PASSWORD, PASSWORD), DEFAULT_SESSION_TTL)
            .unwrap_err(),
        s.authenticate(&format!("{}x", login.token.expose()))
            .unwrap_err(),
        s.client_login(
            &client.client.client_id,
            &client.secret,
            None,
            DEFAULT_SESSION_TTL,
        )
        .unwrap_err(),
        s.users().totp_confirm(u.id, &secrets[3]).unwrap_err(),
        s.users()
            .set_password(u.id, &Secret::new(format!("{PASSWORD}\u{7}")))
            .unwrap_err(),
        s.users()
            .patch(
                u.id,
                &json!([{"op": "replace", "path": "/password", "value": "short"}]),
                None,
            )
            .unwrap_err(),
        s.users()
            .merge(u.id, &json!({"passwordHash": PASSWORD}), None)
            .unwrap_err(),
    ];
    for e in &failures {
        shown.push(format!("{e} {e:?}"));
    }
    s.users()
        .patch(
            u.id,
            &json!([{"op": "replace", "path": "/password", "value": "Patched-password-77"}]),
            None,
        )
        .unwrap();

    // Documents, the change log and an export.
    let users = s.users().list(&Query::default()).unwrap();
    shown.push(serde_json::to_string(&users.items).unwrap());
    let clients = s.clients().list(&Query::default()).unwrap();
    shown.push(serde_json::to_string(&clients.items).unwrap());
    shown.push(format!("{:?}", s.changes(0, 1000).unwrap()));
    let export = dir.path().join("export.jsonl");
    s.export_jsonl(&export).unwrap();
    shown.push(std::fs::read_to_string(&export).unwrap());
    shown.push(format!("{:?}", s.0));

    for text in &shown {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "a secret shows in: {text}");
        }
    }
}

#[test]
fn an_imported_second_factor_fails_closed_until_enrolled_again() {
    let (s, clock) = store_with_clock(options());
    let (id, secret, codes) = totp_user(&s, &clock, "ann", PASSWORD);
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.jsonl");
    s.export_jsonl(&export).unwrap();
    let text = std::fs::read_to_string(&export).unwrap();
    assert!(text.contains("\"totpEnabled\":true"));
    assert!(!text.contains(&secret));

    let t = Store::memory_with(options()).unwrap();
    t.import_jsonl(&export).unwrap();
    let imported = t.users().get(id).unwrap();
    assert!(imported.totp_enabled);
    clock.advance(Duration::from_secs(30));
    // Neither the password alone, nor a code of the old secret, nor a recovery code works.
    for code in [
        None,
        Some(totp_code(&secret, rosterdb::Timestamp::now())),
        Some(codes[0].expose().to_owned()),
    ] {
        let mut c = Credentials::new("ann", PASSWORD);
        c.totp_code = code.map(Secret::new);
        assert_eq!(
            t.users().verify_password(&c).unwrap_err(),
            rosterdb::Error::AuthenticationFailed
        );
    }
    // An administrator disables the factor; the user logs in and can enrol again.
    t.users().totp_disable(id).unwrap();
    t.users()
        .verify_password(&Credentials::new("ann", PASSWORD))
        .unwrap();
    t.users().totp_enroll(id).unwrap();
    let report = t.check().unwrap();
    assert!(report.ok, "{:?}", report.problems);
}
