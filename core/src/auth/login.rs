//! Logins (docs/reference/credentials.md): password checks with lockout and a second
//! factor, client logins, and the sessions they open.
//!
//! Every check runs in two steps. The costly hash comparison runs on a
//! snapshot, holding no lock; then one write transaction re-reads the record
//! and decides everything else (enabled, locked, second factor, the failure
//! count), so concurrent checks neither lose a failure nor reuse a code.
//! Every failure is the same `AuthenticationFailed`.

use std::time::Duration;

use crate::auth::credentials::{check_password, check_secret, hash_password};
use crate::auth::lockout::Attempts;
use crate::auth::sessions::{self, Login, Principal};
use crate::documents::user::UserRecord;
use crate::storage::entity::{self, Entity, load, visible};
use crate::storage::kinds::user::folded_key;
use crate::storage::schema::{CLIENT_CLIENT_ID, USER_EMAIL, USER_USERNAME};
use crate::storage::tx::{ReadContext, Tables, WriteContext, WriteTx};
use crate::{Client, Error, Result, Role, Secret, Timestamp, User};

/// What a user logs in with.
///
/// `Debug` shows the identifier and tenant only.
#[derive(Clone)]
pub struct Credentials {
    /// A username or an email address (case-insensitive).
    pub identifier: String,
    /// The password, as typed (it is normalised as RFC 8265 OpaqueString).
    pub password: Secret,
    /// The user's tenant (`None`: users without one; a scoped view uses its own).
    pub tenant: Option<String>,
    /// A current TOTP code or an unused recovery code, for users with a second factor.
    pub totp_code: Option<Secret>,
}

impl Credentials {
    /// An identifier and a password, with no tenant and no second factor.
    pub fn new(identifier: impl Into<String>, password: impl Into<Secret>) -> Self {
        Credentials {
            identifier: identifier.into(),
            password: password.into(),
            tenant: None,
            totp_code: None,
        }
    }

    /// These credentials for a user of `tenant`.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// These credentials with a TOTP or recovery code.
    pub fn totp_code(mut self, code: impl Into<Secret>) -> Self {
        self.totp_code = Some(code.into());
        self
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("identifier", &self.identifier)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// Refuses a check inside a transaction: a rollback of the caller's
/// transaction would undo the failure count, and with it the lockout.
fn on_its_own<C: WriteContext>(ctx: &C) -> Result<()> {
    if ctx.in_transaction() {
        return Err(Error::argument(
            "transaction",
            "password and secret checks run on their own, not inside a transaction, \
             so that a rollback cannot undo their failure count",
        ));
    }
    Ok(())
}

/// The tenant a check or lookup names: the view's in a scoped view; a
/// given tenant that no record can have names no record (`None` inside).
pub(crate) fn named_tenant<'a>(
    scope: Option<&'a str>,
    given: Option<&'a str>,
) -> std::result::Result<Option<&'a str>, ()> {
    match scope.or(given) {
        Some(t) if crate::documents::rules::tenant(t).is_err() => Err(()),
        other => Ok(other),
    }
}

/// No username or email is longer (100 and 255 characters).
const MAX_IDENTIFIER_BYTES: usize = 1024;

/// The user an identifier names in `tenant`: by username, else by email.
fn find_user(
    tables: &dyn Tables,
    identifier: &str,
    tenant: Option<&str>,
) -> Result<Option<UserRecord>> {
    if identifier.is_empty() || identifier.len() > MAX_IDENTIFIER_BYTES {
        return Ok(None);
    }
    let key = folded_key(tenant, identifier);
    for index in [USER_USERNAME, USER_EMAIL] {
        let owners = tables.unique(index, key.bytes())?;
        for id in owners.ids() {
            let Some(record) = load::<User>(tables, id)? else {
                continue;
            };
            // A hashed index names every record of the key's hash: the
            // record's own key says whether it is the one.
            if owners.is_exact() || entity::holds_key::<User>(&record, index, key.bytes()) {
                return Ok(Some(record));
            }
        }
    }
    Ok(None)
}

/// The second step of a check: the record the first step found re-read in
/// one write transaction and handed to `decide` with the one it found and
/// the time. No record found is `AuthenticationFailed` after a durable
/// write of nothing, so that an unknown name costs what a known one's
/// bookkeeping costs; a record gone since is `AuthenticationFailed` too.
/// `decide` returns `Ok(Err(_))` for a failure whose bookkeeping commits.
fn recheck<C: WriteContext, E: Entity, T: Send>(
    ctx: &C,
    found: Option<E::Record>,
    mut decide: impl FnMut(&WriteTx, &E::Record, E::Record, Timestamp) -> Result<Result<T>> + Send,
) -> Result<T> {
    let Some(found) = found else {
        ctx.with_write(|_| Ok(()))?;
        return Err(Error::AuthenticationFailed);
    };
    ctx.with_write(|tx| {
        let now = tx.now();
        match load::<E>(&tx.txn, E::id(&found))? {
            Some(record) => decide(tx, &found, record, now),
            None => Ok(Err(Error::AuthenticationFailed)),
        }
    })?
}

/// Checks a user's credentials and, on success, opens a session when `ttl` is given.
fn attempt<C: WriteContext>(
    ctx: &C,
    credentials: &Credentials,
    ttl: Option<Duration>,
) -> Result<(User, Option<(Secret, Timestamp)>)> {
    if let Some(ttl) = ttl {
        sessions::check_ttl(ttl)?;
    }
    on_its_own(ctx)?;
    let options = ctx.options();
    let found = match named_tenant(ctx.scope(), credentials.tenant.as_deref()) {
        Ok(tenant) => ctx.with_tables(|t| find_user(t, &credentials.identifier, tenant))?,
        Err(()) => None,
    };
    let checked = check_password(
        &options.argon2,
        found.as_ref().and_then(|u| u.password_hash.as_deref()),
        &credentials.password,
    );
    let rehash = checked
        .rehash
        .then(|| hash_password(&options.argon2, &credentials.password))
        .transpose()?;
    recheck::<_, User, _>(ctx, found, |tx, found, mut user, now| {
        let mut attempts = Attempts {
            failures: user.failed_logins,
            locked_until: user.locked_until,
        };
        // A password changed since the check, a disabled or a locked user:
        // refused without counting.
        if user.password_hash != found.password_hash || !user.enabled || attempts.locked(now) {
            return Ok(Err(Error::AuthenticationFailed));
        }
        let passed = checked.matched && second_factor(&mut user, credentials, now);
        if !passed {
            attempts.fail(now, &tx.options.lockout);
            user.failed_logins = attempts.failures;
            user.locked_until = attempts.locked_until;
            entity::bookkeep::<User>(tx, &user)?;
            return Ok(Err(Error::AuthenticationFailed));
        }
        attempts.succeed();
        user.failed_logins = attempts.failures;
        user.locked_until = attempts.locked_until;
        user.last_login_at = Some(now);
        if let Some(hash) = &rehash {
            user.password_hash = Some(hash.clone());
        }
        entity::bookkeep::<User>(tx, &user)?;
        let session = match ttl {
            Some(ttl) => Some(sessions::open(
                tx,
                crate::EntityKind::User,
                user.header.id,
                ttl,
                now,
            )?),
            None => None,
        };
        Ok(Ok((User::document(&user, now)?, session)))
    })
}

/// Whether the second factor passes: none is enrolled, or the code is a
/// current TOTP code of a later step than the last one used, or an unused
/// recovery code (which is then used up).
fn second_factor(user: &mut UserRecord, credentials: &Credentials, now: Timestamp) -> bool {
    let Some(totp) = user.totp.as_mut().filter(|t| t.confirmed) else {
        return true;
    };
    let Some(code) = &credentials.totp_code else {
        return false;
    };
    let code = code.expose().trim();
    if let Some(step) = totp.accepts_code(code, now) {
        totp.last_step = step;
        true
    } else if let Some(i) = totp.accepts_recovery(code) {
        totp.recovery.remove(i);
        true
    } else {
        false
    }
}

/// `Collection::verify_password`: a user's password (and second factor)
/// checked through `ctx`, returning the user.
pub(crate) fn verify_password<C: WriteContext>(ctx: &C, credentials: &Credentials) -> Result<User> {
    attempt(ctx, credentials, None).map(|(user, _)| user)
}

/// The tenant and roles of a session's user or client, if it still exists,
/// is enabled and is seen from a view scoped to `scope`; else `InvalidToken`.
fn holder<E: Entity>(
    tables: &dyn Tables,
    id: u64,
    scope: Option<&str>,
) -> Result<(Option<String>, Vec<u64>)> {
    match load::<E>(tables, id)? {
        Some(r) if E::enabled(&r) && visible::<E>(&r, scope) => {
            Ok((E::tenant(&r).map(str::to_owned), E::held_roles(&r).to_vec()))
        }
        _ => Err(Error::InvalidToken),
    }
}

/// The principal of a live session, seen from a view scoped to `scope`.
fn principal(
    tables: &dyn Tables,
    token: &str,
    now: Timestamp,
    scope: Option<&str>,
) -> Result<Principal> {
    let session = sessions::find(tables, token, now)?;
    let (tenant, roles) = match session.kind {
        crate::EntityKind::User => holder::<User>(tables, session.id, scope)?,
        crate::EntityKind::Client => holder::<Client>(tables, session.id, scope)?,
        crate::EntityKind::Role => return Err(Error::InvalidToken),
    };
    let mut permissions = std::collections::BTreeSet::new();
    for &role in &roles {
        if let Some(role) = load::<Role>(tables, role)? {
            permissions.extend(role.permissions);
        }
    }
    Ok(Principal {
        kind: session.kind,
        id: session.id,
        tenant,
        roles,
        permissions: permissions.into_iter().collect(),
        expires_at: session.expires_at,
    })
}

/// The longest client id worth looking up (`rc_` and 22 characters).
const MAX_CLIENT_ID_BYTES: usize = 64;

/// `client_login`: a client's secret, state and address checked through
/// `ctx` and a session of `ttl` opened.
pub(crate) fn client_login<C: WriteContext>(
    ctx: &C,
    client_id: &str,
    secret: &Secret,
    ip: Option<&str>,
    ttl: Duration,
) -> Result<Login<Client>> {
    sessions::check_ttl(ttl)?;
    on_its_own(ctx)?;
    let options = ctx.options();
    let found = ctx.with_tables(|t| {
        if client_id.len() > MAX_CLIENT_ID_BYTES {
            return Ok(None);
        }
        let key = crate::storage::kinds::client::client_id_key(client_id);
        // A whole index (`storage::unique`): its one record holds the key.
        match t.unique(CLIENT_CLIENT_ID, key.bytes())?.ids().next() {
            Some(id) => Ok(load::<Client>(t, id)?.filter(|c| visible::<Client>(c, ctx.scope()))),
            None => Ok(None),
        }
    })?;
    let checked = check_secret(
        &options.argon2,
        found.as_ref().map(|c| c.secret_hash.as_str()),
        secret,
    );
    let rehash = checked
        .rehash
        .then(|| options.argon2.hash(secret))
        .transpose()?;
    recheck::<_, Client, _>(ctx, found, |tx, found, mut client, now| {
        if !checked.matched
            || client.secret_hash != found.secret_hash
            || !client.enabled
            || !crate::auth::allowlist::permits(&client.ip_allowlist, ip)
        {
            return Ok(Err(Error::AuthenticationFailed));
        }
        client.last_used_at = Some(now);
        if let Some(hash) = &rehash {
            client.secret_hash = hash.clone();
        }
        entity::bookkeep::<Client>(tx, &client)?;
        let (token, expires_at) =
            sessions::open(tx, crate::EntityKind::Client, client.header.id, ttl, now)?;
        Ok(Ok(Login {
            token,
            expires_at,
            principal: Client::document(&client, now)?,
        }))
    })
}

/// Ends a session seen from a view scoped to `scope`; anything else is a no-op.
fn end_session(tx: &WriteTx, token: &str, scope: Option<&str>) -> Result<()> {
    if scope.is_some() {
        match principal(&tx.txn, token, tx.now(), scope) {
            Ok(_) => {}
            Err(Error::InvalidToken) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    sessions::close(tx, token).map(|_| ())
}

/// `login`: a user's credentials checked through `ctx` and a session of
/// `ttl` opened.
pub(crate) fn login<C: WriteContext>(
    ctx: &C,
    credentials: &Credentials,
    ttl: Duration,
) -> Result<Login<User>> {
    let (user, session) = attempt(ctx, credentials, Some(ttl))?;
    let (token, expires_at) = session.ok_or_else(|| Error::internal("no session was opened"))?;
    Ok(Login {
        token,
        expires_at,
        principal: user,
    })
}

/// `logout`: ends the session of `token` seen through `ctx`; anything else
/// is a no-op that writes nothing.
pub(crate) fn logout<C: WriteContext>(ctx: &C, token: &str) -> Result<()> {
    let scope = ctx.scope().map(str::to_owned);
    let now = ctx.now();
    // Only a token that names no live session is a no-op: a failed read
    // must not report a session ended that is still live.
    match ctx.with_tables(|t| sessions::find(t, token, now).map(|_| ())) {
        Ok(()) => {}
        Err(Error::InvalidToken) => return Ok(()),
        Err(e) => return Err(e),
    }
    ctx.with_write(|tx| end_session(tx, token, scope.as_deref()))
}

/// `authenticate`: the principal of a live session seen through `ctx`.
pub(crate) fn authenticate<C: ReadContext>(ctx: &C, token: &str) -> Result<Principal> {
    let now = ctx.now();
    ctx.with_tables(|t| principal(t, token, now, ctx.scope()))
}
