//! The second factor (docs/reference/credentials.md, "Second factor (TOTP)").

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

use common::{
    assert_auth_failed, options, store_with_clock, totp_code, totp_user, user_with_password,
};
use rosterdb::{Credentials, Error, Timestamp};

const PASSWORD: &str = "correct horse battery";

#[test]
fn the_test_code_generator_matches_rfc_6238() {
    // Appendix B, SHA-1, seed "12345678901234567890" (base32 below), last six digits.
    let seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    for (secs, code) in [
        (59, "287082"),
        (1_111_111_109, "081804"),
        (1_234_567_890, "005924"),
    ] {
        let at = Timestamp::from_millis(secs * 1000).unwrap();
        assert_eq!(totp_code(seed, at), code);
    }
}

#[test]
fn enrol_confirm_login_replay_recover_disable() {
    let (s, clock) = store_with_clock(options());
    let u = s
        .users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    let enrolment = s.users().totp_enroll(u.id).unwrap();
    let secret = enrolment.secret.expose().to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    assert_eq!(
        enrolment.uri.expose(),
        format!("otpauth://totp/rosterdb:ann?secret={secret}&issuer=rosterdb")
    );
    assert!(!format!("{enrolment:?}").contains(&secret));
    // Pending: logins need no code yet, and the document says it is off.
    let pending = s.users().get(u.id).unwrap();
    assert!(!pending.totp_enabled);
    assert_eq!(pending.version, 2);
    s.users()
        .verify_password(&Credentials::new("ann", PASSWORD))
        .unwrap();
    // A wrong code does not confirm.
    assert_auth_failed(s.users().totp_confirm(u.id, "000000"));
    let codes = s
        .users()
        .totp_confirm(u.id, &totp_code(&secret, clock.now()))
        .unwrap();
    assert_eq!(codes.len(), 10);
    let confirmed = s.users().get(u.id).unwrap();
    assert!(confirmed.totp_enabled);
    assert_eq!(confirmed.version, 3);
    // The code used to confirm cannot log in; the next step's code can, once.
    assert_auth_failed(s.users().verify_password(
        &Credentials::new("ann", PASSWORD).totp_code(totp_code(&secret, clock.now())),
    ));
    clock.advance(Duration::from_secs(30));
    let code = totp_code(&secret, clock.now());
    assert_auth_failed(
        s.users()
            .verify_password(&Credentials::new("ann", PASSWORD)),
    );
    assert_auth_failed(
        s.users()
            .verify_password(&Credentials::new("ann", "wrong password").totp_code(code.clone())),
    );
    let login = s
        .users()
        .verify_password(&Credentials::new("ann", PASSWORD).totp_code(code.clone()))
        .unwrap();
    assert_eq!(login.version, 3, "using a code is bookkeeping");
    assert_auth_failed(
        s.users()
            .verify_password(&Credentials::new("ann", PASSWORD).totp_code(code)),
    );
    // One step of clock skew either way is accepted.
    clock.advance(Duration::from_secs(60));
    let early = totp_code(&secret, clock.now().plus(Duration::from_secs(30)));
    s.users()
        .verify_password(&Credentials::new("ann", PASSWORD).totp_code(early))
        .unwrap();
    clock.advance(Duration::from_secs(120));
    let stale = totp_code(
        &secret,
        Timestamp::from_millis(clock.now().as_millis() - 60_000).unwrap(),
    );
    assert_auth_failed(
        s.users()
            .verify_password(&Credentials::new("ann", PASSWORD).totp_code(stale)),
    );
    // Recovery codes: each works once, in any case and spacing.
    let first = codes[0].expose().to_uppercase().replace('-', " ");
    s.users()
        .verify_password(&Credentials::new("ann", PASSWORD).totp_code(first.clone()))
        .unwrap();
    assert_auth_failed(
        s.users()
            .verify_password(&Credentials::new("ann", PASSWORD).totp_code(first)),
    );
    s.login(
        &Credentials::new("ann", PASSWORD).totp_code(codes[1].expose()),
        rosterdb::DEFAULT_SESSION_TTL,
    )
    .unwrap();
    // Enrolling again needs a disable first.
    assert!(matches!(
        s.users().totp_enroll(u.id),
        Err(Error::Validation { ref errors }) if errors[0].field == "totpEnabled"
    ));
    let off = s.users().totp_disable(u.id).unwrap();
    assert!(!off.totp_enabled);
    assert_eq!(off.version, 4);
    s.users()
        .verify_password(&Credentials::new("ann", PASSWORD))
        .unwrap();
    assert_eq!(s.users().totp_disable(u.id).unwrap().version, 4);
    assert!(matches!(
        s.users().totp_confirm(u.id, "123456"),
        Err(Error::Validation { ref errors }) if errors[0].field == "totp"
    ));
    let ops: Vec<_> = s
        .changes(0, 100)
        .unwrap()
        .iter()
        .map(|c| c.version)
        .collect();
    assert_eq!(ops, [1, 2, 3, 4], "enrol, confirm and disable are updates");
}

#[test]
fn malformed_codes_are_plain_failures_and_count() {
    let (s, clock) = store_with_clock(options().with_lockout(rosterdb::Lockout {
        threshold: 3,
        duration: Duration::from_secs(60),
    }));
    let (id, secret, _) = totp_user(&s, &clock, "ann", PASSWORD);
    for bad in ["abcdef", "", &"9".repeat(1_000_000)] {
        assert_auth_failed(
            s.users()
                .verify_password(&Credentials::new("ann", PASSWORD).totp_code(bad)),
        );
    }
    // Three failures with the right password but a bad code lock the user.
    assert!(s.users().get(id).unwrap().locked_until.is_some());
    assert_auth_failed(s.users().verify_password(
        &Credentials::new("ann", PASSWORD).totp_code(totp_code(&secret, clock.now())),
    ));
    clock.advance(Duration::from_secs(90));
    s.users()
        .verify_password(
            &Credentials::new("ann", PASSWORD).totp_code(totp_code(&secret, clock.now())),
        )
        .unwrap();
}

#[test]
fn a_totp_user_without_a_code_gets_no_session() {
    let (s, clock) = store_with_clock(options());
    let (id, _, _) = totp_user(&s, &clock, "ann", PASSWORD);
    assert_auth_failed(s.login(
        &Credentials::new("ann", PASSWORD),
        rosterdb::DEFAULT_SESSION_TTL,
    ));
    assert!(s.users().sessions(id).unwrap().is_empty());
}
