//! Sessions and client logins (docs/reference/credentials.md, Sessions and
//! Client logins).

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

// ---------------------------------------------------------------------------
// Tokens are unguessable (docs/reference/documents.md, Sessions).

/// 10,000 session tokens: all distinct, each `rs_` and 43 base64url
/// characters that decode to 32 bytes, sharing nothing but the tag, with
/// every character and every bit about equally likely.
#[test]
fn session_tokens_are_random_and_unrelated() {
    const N: usize = 10_000;
    let (s, _clock) = store_with_clock(options());
    s.users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    let c = s.clients().create(NewClient::new("svc")).unwrap();
    let mut tokens = Vec::with_capacity(N);
    for i in 0..N {
        // Both kinds of session, from user and client logins.
        let token = if i % 2 == 0 {
            s.login(&Credentials::new("ann", PASSWORD), TTL)
                .unwrap()
                .token
        } else {
            s.client_login(&c.client.client_id, &c.secret, None, TTL)
                .unwrap()
                .token
        };
        tokens.push(token.expose().to_owned());
    }
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut chars = [0u64; 64];
    let mut ones = [0u64; 256];
    for t in &tokens {
        let body = t.strip_prefix(rosterdb::TOKEN_PREFIX).expect("the rs_ tag");
        assert_eq!(body.len(), 43, "{t}");
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .unwrap();
        assert_eq!(bytes.len(), 32);
        // The first 42 characters carry 6 random bits each (the last, 4).
        for &ch in &body.as_bytes()[..42] {
            let i = alphabet.iter().position(|&a| a == ch).expect("base64url");
            chars[i] += 1;
        }
        for (i, byte) in bytes.iter().enumerate() {
            for bit in 0..8 {
                ones[i * 8 + bit] += u64::from(byte >> bit & 1);
            }
        }
    }
    let distinct: std::collections::BTreeSet<&String> = tokens.iter().collect();
    assert_eq!(distinct.len(), N, "a token repeated");
    // Sorted neighbours share the longest prefixes: with 6 random bits a
    // character, 10,000 tokens share about 4 characters after the tag at
    // most; 8 or more happens by chance with probability below 1e-6.
    let sorted: Vec<&String> = distinct.into_iter().collect();
    let longest = sorted
        .windows(2)
        .map(|w| {
            w[0].bytes()
                .zip(w[1].bytes())
                .take_while(|(a, b)| a == b)
                .count()
        })
        .max()
        .unwrap();
    assert!(longest < 3 + 8, "tokens share {longest} leading characters");
    // Characters: a chi-square statistic with 63 degrees of freedom stays
    // below 150 unless the distribution is skewed (p < 1e-8 by chance).
    let total: u64 = chars.iter().sum();
    let expected = total as f64 / 64.0;
    let chi2: f64 = chars
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    assert!(chi2 < 150.0, "character counts are skewed: chi2 = {chi2}");
    // Bits: each of the 256 is set in half the tokens, within 6 standard
    // deviations (0.005 for 10,000 tokens) — so every bit of the 32 bytes
    // varies: 256 bits of randomness, well above 128.
    for (i, &n) in ones.iter().enumerate() {
        let p = n as f64 / N as f64;
        assert!((p - 0.5).abs() < 0.03, "bit {i} is set in {p} of tokens");
    }
}

// ---------------------------------------------------------------------------
// A failed login does the same work whether or not the user exists
// (docs/reference/credentials.md, Passwords): no wall-clock timing, but the same hashing, counted
// by the crate's internals, and the same durable commits, counted by the storage backend.

use rosterdb::internals::work::{self, Hashing};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// An in-memory backend that counts the syncs (durable commits) and writes
/// the store makes.
#[derive(Debug)]
struct Counting {
    inner: rosterdb::backends::InMemoryBackend,
    syncs: Arc<AtomicU64>,
    writes: Arc<AtomicU64>,
}

impl rosterdb::StorageBackend for Counting {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> Result<(), std::io::Error> {
        self.syncs.fetch_add(1, Ordering::SeqCst);
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.write(offset, data)
    }
}

/// What one failed attempt cost: the hashing done, and the syncs.
#[derive(Debug, PartialEq, Eq)]
struct Cost {
    hashing: Vec<Hashing>,
    syncs: u64,
}

#[test]
fn failed_logins_cost_the_same_for_known_and_unknown_users() {
    let syncs = Arc::new(AtomicU64::new(0));
    let backend = Counting {
        inner: rosterdb::backends::InMemoryBackend::new(),
        syncs: Arc::clone(&syncs),
        writes: Arc::new(AtomicU64::new(0)),
    };
    let clock =
        rosterdb::ManualClock::new(rosterdb::Timestamp::parse("2026-01-01T00:00:00Z").unwrap());
    let opts = options()
        .with_clock(clock.clock())
        .with_lockout(rosterdb::Lockout {
            threshold: 0,
            ..rosterdb::Lockout::default()
        });
    let s = rosterdb::Store::open_with_backend(backend, opts).unwrap();
    s.users()
        .create(user_with_password("ann", PASSWORD))
        .unwrap();
    s.users()
        .create(NewUser {
            password: None,
            ..common::user("nopass")
        })
        .unwrap();
    s.users().create(tenant_user("tom", "acme")).unwrap();
    s.users()
        .patch(
            3,
            &json!([{"op": "add", "path": "/password", "value": PASSWORD}]),
            None,
        )
        .unwrap();
    let attempt = |identifier: &str, password: &str, tenant: Option<&str>| {
        work::take();
        let before = syncs.load(Ordering::SeqCst);
        let mut c = Credentials::new(identifier, password);
        c.tenant = tenant.map(str::to_owned);
        assert_auth_failed(s.login(&c, TTL));
        Cost {
            hashing: work::take(),
            syncs: syncs.load(Ordering::SeqCst) - before,
        }
    };
    let cheap = common::CHEAP;
    let one = Hashing::Argon2 {
        memory_kib: cheap.memory_kib,
        iterations: cheap.iterations,
        parallelism: cheap.parallelism,
    };
    // The reference: a known user, a wrong password.
    let known = attempt("ann", "wrong password", None);
    assert_eq!(known.hashing, vec![one], "{known:?}");
    assert!(known.syncs >= 1, "a failed login is committed: {known:?}");
    let long = "x".repeat(2000);
    for (identifier, password, tenant) in [
        ("nobody", "wrong password", None),
        ("nobody@example.com", "wrong password", None),
        ("ANN@example.com", "wrong password", None),
        ("nopass", "wrong password", None),
        ("tom", "wrong password", None),
        ("tom", "wrong password", Some("globex")),
        ("tom", "wrong password", Some("acme")),
        ("ann", "wrong password", Some("not a tenant!")),
        (long.as_str(), "wrong password", None),
        ("", "wrong password", None),
    ] {
        assert_eq!(
            attempt(identifier, password, tenant),
            known,
            "{identifier:?} in {tenant:?}"
        );
    }
    // A password whose normalised form differs (a no-break space) is
    // checked in both forms for a known user: an unknown user's check
    // hashes as often (before this was fixed it hashed once, so a typed
    // no-break space told whether the account existed).
    let twice = attempt("ann", "wrong\u{a0}password", None);
    assert_eq!(twice.hashing, vec![one, one], "{twice:?}");
    for identifier in ["nobody", "nopass"] {
        assert_eq!(
            attempt(identifier, "wrong\u{a0}password", None),
            twice,
            "{identifier}"
        );
    }
    // A password the profile refuses is hashed once either way.
    let refused = attempt("ann", "bad\u{7}password", None);
    assert_eq!(refused.hashing, vec![one]);
    assert_eq!(attempt("nobody", "bad\u{7}password", None), refused);
    // Client logins: an unknown client id, a wrong secret, an oversized
    // secret: one hash of the store's cost and the same commits.
    let c = s.clients().create(NewClient::new("svc")).unwrap();
    let client_attempt = |id: &str, secret: &str| {
        work::take();
        let before = syncs.load(Ordering::SeqCst);
        assert_auth_failed(s.client_login(id, &Secret::new(secret), None, TTL));
        Cost {
            hashing: work::take(),
            syncs: syncs.load(Ordering::SeqCst) - before,
        }
    };
    let wrong = client_attempt(&c.client.client_id, "wrong-secret");
    assert_eq!(wrong.hashing, vec![one]);
    assert_eq!(
        client_attempt("rc_0000000000000000000000", "wrong-secret"),
        wrong
    );
    assert_eq!(client_attempt(&"rc_".repeat(100), "wrong-secret"), wrong);
    assert_eq!(
        client_attempt(&c.client.client_id, &"s".repeat(5000)),
        wrong
    );
}
