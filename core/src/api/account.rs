//! Credentials through a collection (docs/reference/credentials.md): checking a password, and
//! their administration: setting passwords, unlocking, enrolling a second
//! factor, listing and revoking sessions, rotating client secrets. Each
//! administration that changes the document is an update (version bump,
//! change-log entry); ending sessions is not.

use crate::api::collection::Collection;
use crate::auth::credentials::{hash_password, new_client_secret};
use crate::auth::login::{self, Credentials};
use crate::auth::sessions::{self, Session};
use crate::documents::client::ClientRecord;
use crate::documents::credentials::TotpState;
use crate::documents::rules::Problems;
use crate::documents::user::UserRecord;
use crate::storage::entity::{self, Entity, fetch_in};
use crate::storage::sessions as storage_sessions;
use crate::storage::tx::{ReadContext, WriteContext, WriteTx};
use crate::{Client, EntityKind, Error, Result, Secret, Timestamp, User};

/// A pending TOTP enrolment: what an authenticator app needs. Shown once.
#[derive(Clone, Debug)]
pub struct TotpEnrollment {
    /// The shared secret in base32 (RFC 4648), for typing into an app.
    pub secret: Secret,
    /// The `otpauth://totp/ISSUER:USERNAME?secret=…&issuer=ISSUER` URI (Key
    /// Uri Format), for a QR code.
    pub uri: Secret,
}

/// Writes `new` over `old` as an update: version + 1, `updatedAt`, a change-log entry.
fn save<E: Entity>(tx: &WriteTx, old: &E::Record, mut new: E::Record, now: Timestamp) -> Result<E> {
    E::touch(&mut new, now);
    entity::update::<E>(tx, old, &new, now)?;
    E::document(&new, now)
}

impl<C: WriteContext> Collection<'_, C, User> {
    /// Checks a user's password (and second factor, when one is enabled)
    /// and returns the user, with `lastLoginAt` set (docs/reference/credentials.md, Passwords).
    ///
    /// An unknown user, a wrong password, a disabled or locked user and a
    /// missing or wrong second factor all fail with the same
    /// `AuthenticationFailed`, in similar time. A failure counts towards
    /// the lockout (docs/reference/credentials.md, Lockout) unless the user is disabled or already
    /// locked; a success resets the count and re-hashes a password whose
    /// hash is not the store's current Argon2id. That bookkeeping is no
    /// update: no version bump, no change-log entry.
    ///
    /// Checks run on their own: through a transaction this is
    /// `InvalidArgument` naming `transaction`, since rolling the
    /// transaction back would undo the failure count.
    pub fn verify_password(&self, credentials: &Credentials) -> Result<User> {
        login::verify_password(self.ctx(), credentials)
    }

    /// Sets a user's password (8–1024 characters, normalised as RFC 8265
    /// OpaqueString, stored as an Argon2id hash) and ends the user's
    /// sessions. `Validation` on `password` for a bad one.
    pub fn set_password(&self, id: u64, password: &Secret) -> Result<User> {
        let mut problems = Problems::new();
        problems.check(
            "password",
            password.expose(),
            crate::documents::rules::password,
        );
        problems.into_result()?;
        let ctx = self.ctx();
        let hash = hash_password(&ctx.options().argon2, password)?;
        ctx.with_write(|tx| {
            let old = fetch_in::<User>(&tx.txn, id, ctx.scope())?;
            let new = UserRecord {
                password_hash: Some(hash.clone()),
                ..old.clone()
            };
            let now = tx.now();
            let user = save::<User>(tx, &old, new, now)?;
            storage_sessions::revoke_all(tx, EntityKind::User, id)?;
            Ok(user)
        })
    }

    /// Clears a user's lockout and failure count (docs/reference/credentials.md, Lockout). Clearing
    /// a lock in force is an update; with none in force nothing is written
    /// but the count.
    pub fn unlock(&self, id: u64) -> Result<User> {
        let ctx = self.ctx();
        ctx.with_write(|tx| {
            let old = fetch_in::<User>(&tx.txn, id, ctx.scope())?;
            let now = tx.now();
            let new = UserRecord {
                failed_logins: 0,
                locked_until: None,
                ..old.clone()
            };
            if old.locked_until.is_some_and(|t| t > now) {
                save::<User>(tx, &old, new, now)
            } else {
                if old.failed_logins != 0 || old.locked_until.is_some() {
                    entity::bookkeep::<User>(tx, &new)?;
                }
                User::document(&new, now)
            }
        })
    }

    /// Starts a TOTP enrolment (docs/reference/credentials.md, "Second factor (TOTP)"): a new
    /// secret, pending until [`Collection::totp_confirm`]; an earlier pending one is replaced.
    /// `Validation` on `totpEnabled` when a confirmed second factor exists
    /// (disable it first).
    pub fn totp_enroll(&self, id: u64) -> Result<TotpEnrollment> {
        let ctx = self.ctx();
        let issuer = ctx.options().totp_issuer.clone();
        ctx.with_write(|tx| {
            let old = fetch_in::<User>(&tx.txn, id, ctx.scope())?;
            if old.totp_enabled() {
                return Err(Error::invalid(
                    "totpEnabled",
                    crate::ValidationCode::InvalidState,
                    "a second factor is enabled already; disable it first",
                ));
            }
            let state = TotpState::enrol()?;
            let enrollment = TotpEnrollment {
                secret: state.secret_base32(),
                uri: state.uri(&issuer, &old.username)?,
            };
            let new = UserRecord {
                totp: Some(state),
                ..old.clone()
            };
            save::<User>(tx, &old, new, tx.now())?;
            Ok(enrollment)
        })
    }

    /// Confirms a pending enrolment with a current code and returns ten
    /// one-time recovery codes (shown only here, stored as SHA-256
    /// digests); from now on logins need a code (`totpEnabled`).
    /// `Validation` on `totp` when no enrolment is pending;
    /// `AuthenticationFailed` for a wrong code.
    pub fn totp_confirm(&self, id: u64, code: &str) -> Result<Vec<Secret>> {
        let ctx = self.ctx();
        ctx.with_write(|tx| {
            let old = fetch_in::<User>(&tx.txn, id, ctx.scope())?;
            let now = tx.now();
            let mut state = match &old.totp {
                Some(state) if !state.confirmed => state.clone(),
                _ => {
                    return Err(Error::invalid(
                        "totp",
                        crate::ValidationCode::InvalidState,
                        "no enrolment is waiting for confirmation",
                    ));
                }
            };
            let Some(step) = state.accepts_code(code.trim(), now) else {
                return Ok(Err(Error::AuthenticationFailed));
            };
            let codes = state.confirm(step)?;
            let new = UserRecord {
                totp: Some(state),
                ..old.clone()
            };
            save::<User>(tx, &old, new, now)?;
            Ok(Ok(codes))
        })?
    }

    /// Removes a user's second factor, confirmed or pending (an update;
    /// nothing is written when there is none).
    pub fn totp_disable(&self, id: u64) -> Result<User> {
        let ctx = self.ctx();
        ctx.with_write(|tx| {
            let old = fetch_in::<User>(&tx.txn, id, ctx.scope())?;
            let now = tx.now();
            if old.totp.is_none() {
                return User::document(&old, now);
            }
            let new = UserRecord {
                totp: None,
                ..old.clone()
            };
            save::<User>(tx, &old, new, now)
        })
    }

    /// Ends every session of a user and returns how many there were.
    pub fn revoke_sessions(&self, id: u64) -> Result<u64> {
        let ctx = self.ctx();
        ctx.with_write(|tx| {
            fetch_in::<User>(&tx.txn, id, ctx.scope())?;
            storage_sessions::revoke_all(tx, EntityKind::User, id)
        })
    }
}

impl<C: ReadContext> Collection<'_, C, User> {
    /// A user's live sessions, oldest first (when each began and ends; never a token).
    pub fn sessions(&self, id: u64) -> Result<Vec<Session>> {
        let ctx = self.ctx();
        let now = ctx.now();
        ctx.with_tables(|t| {
            fetch_in::<User>(t, id, ctx.scope())?;
            sessions::list(t, EntityKind::User, id, now)
        })
    }
}

impl<C: WriteContext> Collection<'_, C, Client> {
    /// Gives a client a new secret (32 random bytes, base64url), returned
    /// only here; the old secret and the client's sessions stop working at
    /// once. An update.
    pub fn rotate_secret(&self, id: u64) -> Result<Secret> {
        let ctx = self.ctx();
        let secret = new_client_secret()?;
        let hash = ctx.options().argon2.hash(&secret)?;
        ctx.with_write(|tx| {
            let old = fetch_in::<Client>(&tx.txn, id, ctx.scope())?;
            let new = ClientRecord {
                secret_hash: hash.clone(),
                ..old.clone()
            };
            save::<Client>(tx, &old, new, tx.now())?;
            storage_sessions::revoke_all(tx, EntityKind::Client, id)?;
            Ok(secret.clone())
        })
    }
}
