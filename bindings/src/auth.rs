//! Credentials and sessions (docs/reference/credentials.md): password checks, logins, session
//! tokens, TOTP second factors and client secrets, each one call into the
//! core, on a store or a scoped view of it, and (but for the password and
//! secret checks) in a transaction.
//!
//! Every secret the core hands out (a session token, a TOTP secret and its
//! URI, recovery codes, a client secret) comes out as a [`Secret`] object,
//! whose `toString()`/`description` and Rust `Debug` are `Secret(***)`: the
//! records that carry them (Kotlin data classes) can be printed or logged
//! whole without showing one.

use std::sync::Arc;
use std::time::Duration;

use crate::calls::{Calls, out};
use crate::{
    Client, RosterError, RosterStore, RosterTransaction, Secret, Timestamp, UnicodeString, User,
};

/// What a user logs in with, as the core takes it.
///
/// Text that is not Unicode goes on with U+FFFD in place of each lone
/// surrogate, as in the Python binding: it then fails the check as any
/// wrong value does (`AuthenticationFailed`, counted towards the lockout
/// like any other failure), and says nothing more.
fn credentials(
    identifier: UnicodeString,
    password: &Secret,
    tenant: Option<UnicodeString>,
    totp_code: Option<UnicodeString>,
) -> rosterdb::Credentials {
    let mut credentials =
        rosterdb::Credentials::new(identifier.lossy(), password.checked().clone());
    if let Some(tenant) = tenant {
        credentials = credentials.tenant(tenant.lossy());
    }
    if let Some(code) = totp_code {
        credentials = credentials.totp_code(code.lossy());
    }
    credentials
}

/// A session lifetime in seconds (`None`: the core's default, 15 minutes).
/// Any value converts; the core refuses one out of 1 s to 30 days with
/// `InvalidArgument` on `ttlSeconds`.
fn ttl(ttl_seconds: Option<u64>) -> Duration {
    ttl_seconds.map_or(rosterdb::DEFAULT_SESSION_TTL, Duration::from_secs)
}

/// Declares the login record of one kind of principal (uniffi records are
/// not generic) and its conversion from the core's login.
macro_rules! login_records {
    ($(
        $(#[$attr:meta])*
        $login:ident {
            $(#[$token:meta])*
            token,
            $(#[$principal:meta])*
            $field:ident: $record:ident,
        }
    )+) => {$(
        $(#[$attr])*
        #[derive(Clone, Debug, uniffi::Record)]
        pub struct $login {
            $(#[$token])*
            pub token: Arc<Secret>,
            /// When the session ends.
            pub expires_at: Timestamp,
            $(#[$principal])*
            pub $field: $record,
        }

        impl From<rosterdb::Login<rosterdb::$record>> for $login {
            fn from(login: rosterdb::Login<rosterdb::$record>) -> Self {
                let rosterdb::Login { token, expires_at, principal } = login;
                $login { token: Arc::new(Secret::from(token)), expires_at, $field: principal.into() }
            }
        }
    )+};
}

login_records! {
    /// A new user session: its bearer token, when it ends, and the user.
    UserLogin {
        /// The bearer token (`rs_` and 43 base64url characters), shown only
        /// here; read it with `expose()`. The store keeps only its digest.
        token,
        /// The user, with `lastLoginAt` set by this login.
        user: User,
    }

    /// A new client session: its bearer token, when it ends, and the client.
    ClientLogin {
        /// The bearer token, shown only here; read it with `expose()`.
        token,
        /// The client, with `lastUsedAt` set by this login.
        client: Client,
    }
}

/// What a session belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PrincipalKind {
    /// A user, logged in with `login`.
    User,
    /// An app-client, logged in with `clientLogin`.
    Client,
}

/// Who a session token stands for, as `authenticate` finds it now.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Principal {
    /// A user or a client.
    pub kind: PrincipalKind,
    /// The user's or client's id.
    pub id: u64,
    /// Its tenant.
    pub tenant: Option<String>,
    /// The ids of the roles it holds now, sorted.
    pub roles: Vec<u64>,
    /// The union of those roles' permissions as they are now, sorted.
    pub permissions: Vec<String>,
    /// When the session ends.
    pub expires_at: Timestamp,
}

convert_fields!(TryFrom rosterdb::Principal => Principal {
    kind: principal_kind, id, tenant, roles, permissions, expires_at,
});

/// What a session belongs to: a user or a client. A session of any other
/// kind would be a bug in the core: `Internal`.
fn principal_kind(kind: rosterdb::EntityKind) -> Result<PrincipalKind, RosterError> {
    match kind {
        rosterdb::EntityKind::User => Ok(PrincipalKind::User),
        rosterdb::EntityKind::Client => Ok(PrincipalKind::Client),
        other => Err(RosterError::Internal {
            reason: format!("a session belongs to a {other}"),
        }),
    }
}

/// A live session of a user, as `userSessions` lists it: never its token.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Session {
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it ends.
    pub expires_at: Timestamp,
}

convert_fields!(rosterdb::Session => Session { created_at, expires_at });

/// A pending TOTP enrolment (docs/reference/credentials.md, "Second factor (TOTP)"): what an
/// authenticator app needs, shown only once. Both values are secrets: anyone holding either can
/// make the user's codes.
#[derive(Clone, Debug, uniffi::Record)]
pub struct TotpEnrollment {
    /// The shared secret in base32 (RFC 4648, no padding), for typing into an app.
    pub secret: Arc<Secret>,
    /// The `otpauth://totp/ISSUER:USERNAME?secret=…&issuer=ISSUER` URI, for a QR code.
    pub uri: Arc<Secret>,
}

impl From<rosterdb::TotpEnrollment> for TotpEnrollment {
    fn from(e: rosterdb::TotpEnrollment) -> Self {
        let rosterdb::TotpEnrollment { secret, uri } = e;
        TotpEnrollment {
            secret: Arc::new(Secret::from(secret)),
            uri: Arc::new(Secret::from(uri)),
        }
    }
}

/// Secrets of the core as objects of the foreign API.
fn secrets(secrets: Vec<rosterdb::Secret>) -> Vec<Arc<Secret>> {
    secrets
        .into_iter()
        .map(|s| Arc::new(Secret::from(s)))
        .collect()
}

/// Password and secret checks: store and view calls only, each run on its
/// own (inside a transaction, a rollback would undo the failure count).
#[uniffi::export]
impl RosterStore {
    /// Checks a user's password, and second factor when one is enabled, and
    /// returns the user with `lastLoginAt` set (docs/reference/credentials.md, Passwords).
    /// `identifier` is a username or an email (case-insensitive) in `tenant` (`null`/`nil`:
    /// users without one; a scoped view uses its own). `totpCode` is a
    /// current 6-digit code or an unused recovery code.
    ///
    /// An unknown user, a wrong password, a disabled or locked user and a
    /// missing or wrong code all fail with the same `AuthenticationFailed`.
    /// A failure counts towards the lockout (`StoreOptions.lockoutThreshold`).
    #[uniffi::method(default(tenant = None, totp_code = None))]
    pub fn verify_password(
        &self,
        identifier: UnicodeString,
        password: Arc<Secret>,
        tenant: Option<UnicodeString>,
        totp_code: Option<UnicodeString>,
    ) -> Result<User, RosterError> {
        self.target().write(|c| {
            let credentials = credentials(identifier, &password, tenant, totp_code);
            out(c.users().verify_password(&credentials))
        })
    }

    /// Checks a user's credentials like `verifyPassword` and opens a
    /// session of `ttlSeconds` (1 to 2,592,000, i.e. 30 days; `null`/`nil`:
    /// 900), returning its bearer token, shown only here, and the user.
    /// `InvalidArgument` on `ttlSeconds` for a lifetime out of range;
    /// `AuthenticationFailed` for any failed check.
    #[uniffi::method(default(tenant = None, ttl_seconds = None, totp_code = None))]
    pub fn login(
        &self,
        identifier: UnicodeString,
        password: Arc<Secret>,
        tenant: Option<UnicodeString>,
        ttl_seconds: Option<u64>,
        totp_code: Option<UnicodeString>,
    ) -> Result<UserLogin, RosterError> {
        self.target().write(|c| {
            let credentials = credentials(identifier, &password, tenant, totp_code);
            out(c.login(&credentials, ttl(ttl_seconds)))
        })
    }

    /// Checks an app-client's secret, that it is enabled and that `ip`
    /// matches its `ipAllowlist` (any address, or none, when the list is
    /// empty; an IPv4-mapped IPv6 address counts as its IPv4 address), and
    /// opens a session of `ttlSeconds` (as for `login`). Every failure is
    /// `AuthenticationFailed`.
    #[uniffi::method(default(ip = None, ttl_seconds = None))]
    pub fn client_login(
        &self,
        client_id: UnicodeString,
        secret: Arc<Secret>,
        ip: Option<UnicodeString>,
        ttl_seconds: Option<u64>,
    ) -> Result<ClientLogin, RosterError> {
        self.target().write(|c| {
            let (client_id, ip) = (client_id.lossy(), ip.map(UnicodeString::lossy));
            out(c.client_login(
                &client_id,
                secret.checked(),
                ip.as_deref(),
                ttl(ttl_seconds),
            ))
        })
    }
}

/// The session and account calls of a store, a scoped view and a
/// transaction, as methods of each `$ty` (which has `fn target(&self) ->
/// &impl Calls`).
macro_rules! account_calls {
    ($($ty:ty),+) => {$(
        #[uniffi::export]
        impl $ty {
            /// Who the session `token` stands for, with the permissions of its
            /// roles as they are now. `InvalidToken` for a malformed, unknown,
            /// expired or revoked token, and for one whose user or client was
            /// deleted or disabled (or, in a scoped view, is of another tenant).
            pub fn authenticate(&self, token: UnicodeString) -> Result<Principal, RosterError> {
                self.target().read(|c| c.authenticate(&token.lossy())?.try_into())
            }

            /// Ends the session `token`; an unknown, expired or malformed token is a no-op.
            pub fn logout(&self, token: UnicodeString) -> Result<(), RosterError> {
                self.target().write(|c| Ok(c.logout(&token.lossy())?))
            }

            /// Sets a user's password (8–1024 characters; `Validation` on
            /// `password` otherwise) and ends the user's sessions. An update.
            pub fn set_user_password(&self, id: u64, password: Arc<Secret>) -> Result<User, RosterError> {
                self.target().write(|c| out(c.users().set_password(id, &password.new_password()?)))
            }

            /// Clears a user's lockout (`lockedUntil`) and failure count.
            pub fn unlock_user(&self, id: u64) -> Result<User, RosterError> {
                self.target().write(|c| out(c.users().unlock(id)))
            }

            /// Starts a TOTP enrolment: a new secret, pending until
            /// `confirmUserTotp` (an earlier pending one is replaced). `Validation`
            /// on `totpEnabled` when the user has a confirmed second factor already.
            pub fn enroll_user_totp(&self, id: u64) -> Result<TotpEnrollment, RosterError> {
                self.target().write(|c| out(c.users().totp_enroll(id)))
            }

            /// Confirms a pending enrolment with a current code and returns ten
            /// one-time recovery codes (`xxxxx-xxxxx`), shown only here; from then
            /// on logins need a code (`totpEnabled`). `AuthenticationFailed` for a
            /// wrong code; `Validation` on `totp` when no enrolment is pending.
            pub fn confirm_user_totp(
                &self,
                id: u64,
                code: UnicodeString,
            ) -> Result<Vec<Arc<Secret>>, RosterError> {
                self.target().write(|c| Ok(secrets(c.users().totp_confirm(id, &code.lossy())?)))
            }

            /// Removes a user's second factor, confirmed or pending.
            pub fn disable_user_totp(&self, id: u64) -> Result<User, RosterError> {
                self.target().write(|c| out(c.users().totp_disable(id)))
            }

            /// A user's live sessions, oldest first (never their tokens).
            pub fn user_sessions(&self, id: u64) -> Result<Vec<Session>, RosterError> {
                self.target().read(|c| {
                    let sessions = c.users().sessions(id)?;
                    Ok(sessions.into_iter().map(Session::from).collect())
                })
            }

            /// Ends every session of a user and returns how many there were.
            pub fn revoke_user_sessions(&self, id: u64) -> Result<u64, RosterError> {
                self.target().write(|c| Ok(c.users().revoke_sessions(id)?))
            }

            /// Gives an app-client a new secret, returned only here; the old secret
            /// and the client's sessions stop working at once. An update.
            pub fn rotate_client_secret(&self, id: u64) -> Result<Arc<Secret>, RosterError> {
                self.target().write(|c| Ok(Arc::new(Secret::from(c.clients().rotate_secret(id)?))))
            }
        }
    )+};
}

account_calls!(RosterStore, RosterTransaction);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewClient, StoreOptions};

    fn store() -> Arc<RosterStore> {
        RosterStore::memory(Some(StoreOptions {
            argon2_memory_kib: Some(8),
            argon2_iterations: Some(1),
            argon2_parallelism: Some(1),
            ..StoreOptions::default()
        }))
        .unwrap()
    }

    fn secret(value: &str) -> Arc<Secret> {
        Arc::new(Secret::new(value.into()))
    }

    fn user(store: &RosterStore) -> User {
        store
            .create_user(crate::inputs::tests::ada("analytical engine"))
            .unwrap()
    }

    #[test]
    fn no_debug_shows_a_secret() {
        let store = store();
        let ada = user(&store);
        let login = store
            .login("ada".into(), secret("analytical engine"), None, None, None)
            .unwrap();
        let token = login.token.expose();
        assert!(token.starts_with("rs_"));
        assert!(!format!("{login:?}").contains(&token), "{login:?}");
        assert!(format!("{login:?}").contains("Secret(***)"));

        let enrollment = store.enroll_user_totp(ada.id).unwrap();
        let text = format!("{enrollment:?}");
        assert!(!text.contains(&enrollment.secret.expose()), "{text}");
        assert!(!text.contains("otpauth"), "{text}");

        let created = store
            .create_client(NewClient {
                name: "c".into(),
                description: None,
                tenant: None,
                enabled: true,
                roles: vec![],
                ip_allowlist: vec![],
            })
            .unwrap();
        let client_login = store
            .client_login(
                created.client.client_id.clone().into(),
                Arc::clone(&created.secret),
                None,
                None,
            )
            .unwrap();
        let text = format!("{client_login:?}");
        assert!(!text.contains(&client_login.token.expose()), "{text}");
        let rotated = store.rotate_client_secret(created.client.id).unwrap();
        assert_eq!(format!("{rotated:?}"), "Secret(***)");
    }

    #[test]
    fn lifetimes_default_to_the_core_s_and_bad_ones_name_ttl_seconds() {
        assert_eq!(ttl(None), rosterdb::DEFAULT_SESSION_TTL);
        assert_eq!(ttl(Some(60)), Duration::from_secs(60));
        let store = store();
        user(&store);
        for bad in [0, 30 * 86_400 + 1, u64::MAX] {
            match store.login(
                "ada".into(),
                secret("analytical engine"),
                None,
                Some(bad),
                None,
            ) {
                Err(RosterError::InvalidArgument { argument, .. }) => {
                    assert_eq!(argument, "ttlSeconds")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_role_session_is_an_internal_error_not_a_panic() {
        let principal = rosterdb::Principal {
            kind: rosterdb::EntityKind::Role,
            id: 1,
            tenant: None,
            roles: vec![],
            permissions: vec![],
            expires_at: rosterdb::Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap(),
        };
        assert!(matches!(
            Principal::try_from(principal),
            Err(RosterError::Internal { .. })
        ));
    }
}
