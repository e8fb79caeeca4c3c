//! No password, client secret, TOTP secret, recovery code or session token
//! appears in a document, an export, the change log, an error, or Debug and
//! Display output (docs/reference/documents.md, Users; docs/reference/credentials.md).

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

/// Whether `needle` occurs in `haystack`, byte for byte.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The store file never holds a password, a client secret or a session
/// token: passwords and secrets are there only as Argon2id hashes, and
/// each live session only under the SHA-256 digest of its token.
#[test]
fn no_secret_reaches_the_store_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.redb");
    let mut secrets: Vec<String> = vec![
        PASSWORD.into(),
        "Second-Password-Kept".into(),
        "Patched-Password-Last".into(),
    ];
    let mut live_tokens = Vec::new();
    {
        let s = Store::open(&path, options()).unwrap();
        let u = s
            .users()
            .create(user_with_password("ann", PASSWORD))
            .unwrap();
        // A token revoked by the password change below: gone from the file.
        let early = s
            .login(&Credentials::new("ann", PASSWORD), DEFAULT_SESSION_TTL)
            .unwrap();
        secrets.push(early.token.expose().to_owned());
        s.users()
            .set_password(u.id, &Secret::new("Second-Password-Kept"))
            .unwrap();
        s.users()
            .patch(
                u.id,
                &json!([{"op": "replace", "path": "/password", "value": "Patched-Password-Last"}]),
                None,
            )
            .unwrap();
        let client = s.clients().create(NewClient::new("sync")).unwrap();
        secrets.push(client.secret.expose().to_owned());
        let rotated = s.clients().rotate_secret(client.client.id).unwrap();
        secrets.push(rotated.expose().to_owned());
        for _ in 0..3 {
            let login = s
                .login(
                    &Credentials::new("ann", "Patched-Password-Last"),
                    DEFAULT_SESSION_TTL,
                )
                .unwrap();
            live_tokens.push(login.token.expose().to_owned());
            let client_login = s
                .client_login(
                    &client.client.client_id,
                    &rotated,
                    None,
                    DEFAULT_SESSION_TTL,
                )
                .unwrap();
            live_tokens.push(client_login.token.expose().to_owned());
        }
        // Failed checks with the secrets as identifiers leave nothing either.
        for wrong in secrets.clone() {
            assert!(
                s.login(
                    &Credentials::new(wrong.as_str(), wrong.as_str()),
                    DEFAULT_SESSION_TTL
                )
                .is_err()
            );
        }
        assert!(s.check().unwrap().ok);
    }
    let bytes = std::fs::read(&path).unwrap();
    for secret in secrets.iter().chain(&live_tokens) {
        assert!(
            !contains(&bytes, secret.as_bytes()),
            "the file holds a secret: {}…",
            &secret[..4]
        );
        // Nor a token's random part alone.
        if let Some(body) = secret.strip_prefix(rosterdb::TOKEN_PREFIX) {
            assert!(!contains(&bytes, body.as_bytes()));
        }
    }
    // Each live session is kept under its token's SHA-256 digest.
    use sha2::Digest as _;
    for token in &live_tokens {
        let digest = sha2::Sha256::digest(token.as_bytes());
        assert!(
            contains(&bytes, digest.as_slice()),
            "no SHA-256 digest of a live token in the file"
        );
    }
    assert!(contains(&bytes, b"$argon2id$"));
    // The same store still works: the hashes are what logins check.
    let s = Store::open(&path, options()).unwrap();
    for token in &live_tokens {
        s.authenticate(token).unwrap();
    }
}

/// Write-only fields cannot be filtered, sorted or projected (docs/reference/queries.md,
/// Semantics): the refusal names the field and never repeats the value a caller put
/// there (which may be a password).
#[test]
fn queries_on_write_only_fields_do_not_repeat_the_value() {
    let s = common::store();
    s.users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    let queries = [
        Query::parse(&format!("password = '{PASSWORD}'")),
        Query::parse(&format!("passwordHash = \"{PASSWORD}\"")),
        Query::parse(&format!("password co '{PASSWORD}' or username = 'ann'")),
        Query::from_params(&[("password", PASSWORD)]),
        Query::from_params(&[("filter[password]", &format!("like:{PASSWORD}"))]),
        Query::from_params(&[("where", &format!("not (password = '{PASSWORD}')"))]),
        Query::from_params(&[("sort", "password"), ("search", "ann")]),
        Query::from_params(&[("fields", "id,password")]),
        Query::from_params(&[("fields", "passwordHash")]),
    ];
    for q in queries {
        let results = match q {
            Err(e) => vec![Err::<String, _>(e)],
            Ok(q) => vec![
                s.users().list(&q).map(|p| format!("{p:?}")),
                s.users().count(&q).map(|n| n.to_string()),
                s.users().exists(&q).map(|b| b.to_string()),
                s.users().explain(&q),
            ],
        };
        for r in results {
            let e = r.expect_err("a query on a write-only field is refused");
            assert!(matches!(e, rosterdb::Error::InvalidQuery { .. }), "{e:?}");
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(PASSWORD), "{shown}");
        }
    }
}

/// `Debug` of every value that carries a password or secret on its way in
/// shows the rest of it, never the secret.
#[test]
fn debug_of_inputs_hides_their_secrets() {
    let new_user = user_with_password("ann", PASSWORD);
    let from_json = rosterdb::NewUser::from_json(&json!({
        "username": "ann", "email": "ann@example.com", "firstName": "A",
        "lastName": "B", "password": PASSWORD,
    }))
    .unwrap();
    let credentials = Credentials::new("ann", PASSWORD).totp_code(PASSWORD);
    for shown in [
        format!("{new_user:?}"),
        format!("{from_json:?}"),
        format!("{credentials:?}"),
        format!("{:?}", Secret::new(PASSWORD)),
        format!("{:?}", Some(Secret::new(PASSWORD))),
        format!("{:#?}", new_user),
    ] {
        assert!(!shown.contains(PASSWORD), "{shown}");
        assert!(
            shown.contains("ann") || shown.contains("Secret(***)"),
            "{shown}"
        );
    }
    // An imported hash is a credential too: Debug shows that there is one.
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Ktbmx8Yb7Yb7xNHMqZ9M8bO2oE1n2JYd0dA3yC1zB2Q";
    let imported = rosterdb::NewUser {
        password_hash: Some(hash.to_owned()),
        ..rosterdb::NewUser::new("ann", "ann@example.com", "A", "B")
    };
    let shown = format!("{imported:?}");
    assert!(!shown.contains("c29tZXNhbHRzb21lc2FsdA"), "{shown}");
    assert!(shown.contains(r#"password_hash: Some("***")"#), "{shown}");
    // A bad password's error says what is wrong with it, not what it is.
    for bad in [
        format!("{PASSWORD}\u{0}"),
        "Tiny7".to_owned(),
        "x".repeat(1025),
    ] {
        let e = rosterdb::NewUser::from_json(&json!({
            "username": "ann", "email": "ann@example.com", "firstName": "A",
            "lastName": "B", "password": bad,
        }))
        .unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(bad.as_str()), "{shown}");
    }
}
