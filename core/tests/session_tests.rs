//! Sessions (SPEC §2.4, §6.4) and client logins (§6.5).

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
    assert_auth_failed, assert_invalid_token, options, store_with_clock, tenant_user,
    user_with_password,
};
use rosterdb::{
    Credentials, DEFAULT_SESSION_TTL, EntityKind, Error, NewClient, NewRole, NewUser, Secret,
};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";
const TTL: Duration = DEFAULT_SESSION_TTL;

#[test]
fn a_login_token_authenticates_with_current_permissions() {
    let (s, clock) = store_with_clock(options());
    let readers = s
        .roles()
        .create(NewRole {
            permissions: vec!["users:read".into(), "roles:read".into()],
            ..NewRole::new("readers")
        })
        .unwrap();
    let writers = s
        .roles()
        .create(NewRole {
            permissions: vec!["users:write".into(), "users:read".into()],
            ..NewRole::new("writers")
        })
        .unwrap();
    let u = s
        .users()
        .create(NewUser {
            roles: vec![readers.id, writers.id],
            ..user_with_password("ann", PASSWORD)
        })
        .unwrap();
    let login = s.login(&Credentials::new("ann", PASSWORD), TTL).unwrap();
    let token = login.token.expose().to_owned();
    assert!(
        token.starts_with("rs_") && token.len() == 46,
        "{}",
        token.len()
    );
    assert_eq!(login.expires_at, clock.now().plus(TTL));
    assert_eq!(login.principal.id, u.id);
    assert!(!format!("{login:?}").contains(&token));
    let who = s.authenticate(&token).unwrap();
    assert_eq!(who.kind, EntityKind::User);
    assert_eq!(who.id, u.id);
    assert_eq!(who.tenant, None);
    assert_eq!(who.roles, [readers.id, writers.id]);
    assert_eq!(who.permissions, ["roles:read", "users:read", "users:write"]);
    assert_eq!(who.expires_at, login.expires_at);
    assert_eq!(
        serde_json::to_value(&who).unwrap(),
        json!({"kind": "user", "id": u.id, "roles": [1, 2],
               "permissions": ["roles:read", "users:read", "users:write"],
               "expiresAt": login.expires_at.to_string()})
    );
    // Role changes take effect at once.
    s.roles()
        .patch(
            writers.id,
            &json!([{"op": "add", "path": "/permissions/-", "value": "clients:read"}]),
            None,
        )
        .unwrap();
    s.users()
        .patch(
            u.id,
            &json!([{"op": "replace", "path": "/roles", "value": [writers.id]}]),
            None,
        )
        .unwrap();
    let who = s.authenticate(&token).unwrap();
    assert_eq!(who.roles, [writers.id]);
    assert_eq!(
        who.permissions,
        ["clients:read", "users:read", "users:write"]
    );
    // Sessions are listed without tokens.
    let listed = s.users().sessions(u.id).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].created_at, clock.now());
    assert!(!serde_json::to_string(&listed).unwrap().contains("rs_"));
}

#[test]
fn tokens_expire_and_expired_sessions_are_purged() {
    let (s, clock) = store_with_clock(options());
    let u = s
        .users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    let short = s
        .login(&Credentials::new("ann", PASSWORD), Duration::from_secs(60))
        .unwrap();
    let long = s
        .login(
            &Credentials::new("ann", PASSWORD),
            Duration::from_secs(3600),
        )
        .unwrap();
    clock.advance(Duration::from_secs(59));
    s.authenticate(short.token.expose()).unwrap();
    clock.advance(Duration::from_secs(1));
    assert_invalid_token(s.authenticate(short.token.expose()));
    assert_eq!(s.users().sessions(u.id).unwrap().len(), 1);
    s.authenticate(long.token.expose()).unwrap();
    // The next login purges the expired session (check() sees the tables agree).
    s.login(&Credentials::new("ann", PASSWORD), TTL).unwrap();
    assert_eq!(s.users().revoke_sessions(u.id).unwrap(), 2);
    for bad in [
        Duration::ZERO,
        Duration::from_millis(500),
        Duration::from_secs(31 * 86_400),
    ] {
        assert!(matches!(
            s.login(&Credentials::new("ann", PASSWORD), bad),
            Err(Error::InvalidArgument { ref argument, .. }) if argument == "ttl_seconds"
        ));
    }
}

#[test]
fn every_revocation_path_ends_sessions() {
    let (s, _clock) = store_with_clock(options());
    let u = s
        .users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    let login = || {
        s.login(&Credentials::new("ann", PASSWORD), TTL)
            .unwrap()
            .token
            .expose()
            .to_owned()
    };
    // logout
    let t = login();
    s.logout(&t).unwrap();
    assert_invalid_token(s.authenticate(&t));
    s.logout(&t).unwrap();
    s.logout("rs_unknown").unwrap();
    s.logout("").unwrap();
    // revoke_sessions
    let (a, b) = (login(), login());
    assert_eq!(s.users().revoke_sessions(u.id).unwrap(), 2);
    assert_invalid_token(s.authenticate(&a));
    assert_invalid_token(s.authenticate(&b));
    // disabling, then enabling again: the old session stays dead
    let t = login();
    s.users()
        .merge(u.id, &json!({"enabled": false}), None)
        .unwrap();
    assert_invalid_token(s.authenticate(&t));
    s.users()
        .merge(u.id, &json!({"enabled": true}), None)
        .unwrap();
    assert_invalid_token(s.authenticate(&t));
    // a password change
    let t = login();
    s.users()
        .patch(
            u.id,
            &json!([{"op": "replace", "path": "/password", "value": "another password"}]),
            None,
        )
        .unwrap();
    assert_invalid_token(s.authenticate(&t));
    s.users().set_password(u.id, &PASSWORD.into()).unwrap();
    // an imported hash set by merge or patch is a password change too
    let bcrypt = "$2b$04$K5v2ve35upvzzc2loAPRMOpCdt5ypbduDlfDiAG7rE7BWaV1cRewu";
    let t = login();
    s.users()
        .merge(u.id, &json!({"passwordHash": bcrypt}), None)
        .unwrap();
    assert_invalid_token(s.authenticate(&t));
    s.users().set_password(u.id, &PASSWORD.into()).unwrap();
    let t = login();
    s.users()
        .patch(
            u.id,
            &json!([{"op": "replace", "path": "/passwordHash", "value": bcrypt}]),
            None,
        )
        .unwrap();
    assert_invalid_token(s.authenticate(&t));
    s.users().set_password(u.id, &PASSWORD.into()).unwrap();
    // deleting
    let t = login();
    s.users().delete(u.id).unwrap();
    assert_invalid_token(s.authenticate(&t));
    assert!(matches!(
        s.users().sessions(u.id),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        s.users().revoke_sessions(u.id),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn malformed_tokens_are_invalid() {
    let (s, _clock) = store_with_clock(options());
    for bad in [
        "",
        "rs_",
        "rs_AAAA",
        "Bearer rs_x",
        &format!("rs_{}", "A".repeat(43)),
        &format!("rs_{}\0", "A".repeat(42)),
        &"rs_".repeat(500_000),
    ] {
        assert_invalid_token(s.authenticate(bad));
        s.logout(bad).unwrap();
    }
}

#[test]
fn scoped_views_log_in_and_see_only_their_tenant() {
    let (s, _clock) = store_with_clock(options());
    s.users()
        .create(NewUser {
            password: Some(PASSWORD.into()),
            ..tenant_user("ann", "acme")
        })
        .unwrap();
    s.users()
        .create(NewUser {
            password: Some(PASSWORD.into()),
            ..tenant_user("ann", "globex")
        })
        .unwrap();
    let acme = s.scoped("acme").unwrap();
    let globex = s.scoped("globex").unwrap();
    // The view's tenant applies, whatever the credentials say.
    let login = acme
        .login(&Credentials::new("ann", PASSWORD).tenant("globex"), TTL)
        .unwrap();
    assert_eq!(login.principal.tenant.as_deref(), Some("acme"));
    let token = login.token.expose();
    assert_eq!(
        acme.authenticate(token).unwrap().tenant.as_deref(),
        Some("acme")
    );
    assert_eq!(
        s.authenticate(token).unwrap().tenant.as_deref(),
        Some("acme")
    );
    assert_invalid_token(globex.authenticate(token));
    // Another tenant's view cannot end the session.
    globex.logout(token).unwrap();
    s.authenticate(token).unwrap();
    acme.logout(token).unwrap();
    assert_invalid_token(s.authenticate(token));
    // Unscoped, the tenant must be named.
    assert_auth_failed(
        s.users()
            .verify_password(&Credentials::new("ann", PASSWORD)),
    );
}

#[test]
fn client_logins_check_secret_enabled_and_allowlist() {
    let (s, clock) = store_with_clock(options());
    let role = s
        .roles()
        .create(NewRole {
            permissions: vec!["users:read".into()],
            ..NewRole::new("sync")
        })
        .unwrap();
    let created = s
        .clients()
        .create(NewClient {
            roles: vec![role.id],
            ip_allowlist: vec![
                "10.0.0.0/8".into(),
                "192.0.2.7".into(),
                "2001:db8::/32".into(),
            ],
            ..NewClient::new("sync job")
        })
        .unwrap();
    let (id, secret) = (created.client.client_id.clone(), created.secret.clone());
    for ip in ["10.1.2.3", "192.0.2.7", "2001:db8::5", "::ffff:10.9.9.9"] {
        let login = s.client_login(&id, &secret, Some(ip), TTL).unwrap();
        assert_eq!(login.principal.last_used_at, Some(clock.now()));
        assert_eq!(login.principal.version, 1, "lastUsedAt is bookkeeping");
        let who = s.authenticate(login.token.expose()).unwrap();
        assert_eq!((who.kind, who.id), (EntityKind::Client, created.client.id));
        assert_eq!(who.permissions, ["users:read"]);
    }
    for ip in [
        Some("11.0.0.1"),
        Some("192.0.2.8"),
        Some("2001:db9::1"),
        Some("::ffff:11.0.0.1"),
        None,
        Some("not an address"),
        Some(""),
    ] {
        assert_auth_failed(s.client_login(&id, &secret, ip, TTL));
    }
    assert_auth_failed(s.client_login(&id, &Secret::new("wrong"), Some("10.0.0.1"), TTL));
    assert_auth_failed(s.client_login("rc_unknown", &secret, Some("10.0.0.1"), TTL));
    assert_auth_failed(s.client_login(&"x".repeat(100_000), &secret, None, TTL));
    // Rotation: the old secret and the old sessions stop at once.
    let before = s.client_login(&id, &secret, Some("10.0.0.1"), TTL).unwrap();
    let rotated = s.clients().rotate_secret(created.client.id).unwrap();
    assert_ne!(rotated.expose(), secret.expose());
    assert_eq!(s.clients().get(created.client.id).unwrap().version, 2);
    assert_auth_failed(s.client_login(&id, &secret, Some("10.0.0.1"), TTL));
    assert_invalid_token(s.authenticate(before.token.expose()));
    let after = s
        .client_login(&id, &rotated, Some("10.0.0.1"), TTL)
        .unwrap();
    // Disabled clients are refused, and their sessions end.
    s.clients()
        .merge(created.client.id, &json!({"enabled": false}), None)
        .unwrap();
    assert_invalid_token(s.authenticate(after.token.expose()));
    assert_auth_failed(s.client_login(&id, &rotated, Some("10.0.0.1"), TTL));
    // An empty allowlist allows any address, and none.
    let open = s.clients().create(NewClient::new("open")).unwrap();
    s.client_login(&open.client.client_id, &open.secret, None, TTL)
        .unwrap();
    let deleted = s
        .client_login(
            &open.client.client_id,
            &open.secret,
            Some("203.0.113.9"),
            TTL,
        )
        .unwrap();
    s.clients().delete(open.client.id).unwrap();
    assert_invalid_token(s.authenticate(deleted.token.expose()));
}
