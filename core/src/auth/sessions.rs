//! Sessions (SPEC §2.4, §6.4): opaque bearer tokens, kept only as their
//! SHA-256 digests, each naming the user or client it belongs to.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::credentials::random_bytes;
use crate::storage::codec;
use crate::storage::keys::Key;
use crate::storage::schema::{SESSION_EXPIRY, SESSION_PRINCIPAL, SESSIONS};
use crate::storage::tx::{Tables, WriteTx};
use crate::{EntityKind, Error, Result, Secret, Timestamp};

/// Every token starts with this.
pub const TOKEN_PREFIX: &str = "rs_";
/// The lifetime of a session when the caller names none: 15 minutes.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(900);
/// The longest lifetime a session may have: 30 days.
pub const MAX_SESSION_TTL: Duration = Duration::from_secs(30 * 86_400);
/// Expired sessions a login purges at most, so that purging stays cheap.
const PURGE_BATCH: usize = 64;

/// Who a session token stands for, as [`crate::Store::authenticate`] finds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    /// `user` or `client`.
    pub kind: EntityKind,
    /// The user's or client's id.
    pub id: u64,
    /// Its tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The role ids it holds now.
    pub roles: Vec<u64>,
    /// The union of those roles' permissions now, sorted.
    pub permissions: Vec<String>,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// A live session as [`crate::Collection::sessions`] lists it: never its token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// When it was opened.
    pub created_at: Timestamp,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// A new session: its token (shown once, stored only as a digest), its end,
/// and the user or client document it belongs to.
#[derive(Clone, Debug)]
pub struct Login<T> {
    /// `rs_` and 32 random bytes in base64url: the bearer token.
    pub token: Secret,
    /// When the session ends.
    pub expires_at: Timestamp,
    /// The principal's document after the login's bookkeeping.
    pub principal: T,
}

/// The stored form of a session; the digest of its token is its key.
#[derive(Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    pub(crate) kind: EntityKind,
    pub(crate) id: u64,
    pub(crate) created_at: Timestamp,
    pub(crate) expires_at: Timestamp,
}

/// Checks a session lifetime: 1 s to 30 days, whole seconds.
pub(crate) fn check_ttl(ttl: Duration) -> Result<()> {
    if ttl.subsec_nanos() != 0 || ttl < Duration::from_secs(1) || ttl > MAX_SESSION_TTL {
        return Err(Error::argument(
            "ttl_seconds",
            format!("must be 1 to {} whole seconds", MAX_SESSION_TTL.as_secs()),
        ));
    }
    Ok(())
}

fn kind_byte(kind: EntityKind) -> u8 {
    match kind {
        EntityKind::User => 0,
        EntityKind::Client => 1,
        EntityKind::Role => 2,
    }
}

fn principal_prefix(kind: EntityKind, id: u64) -> Key {
    Key::new().byte(kind_byte(kind)).u64(id)
}

/// The digest a well-formed token is kept under; `None` for anything that
/// cannot be a token (so it is refused without a lookup).
fn digest(token: &str) -> Option<[u8; 32]> {
    let body = token.strip_prefix(TOKEN_PREFIX)?;
    if body.len() != 43 || URL_SAFE_NO_PAD.decode(body).ok()?.len() != 32 {
        return None;
    }
    Some(Sha256::digest(token.as_bytes()).into())
}

/// Opens a session for a principal, returning its token and end.
pub(crate) fn open(
    tx: &WriteTx,
    kind: EntityKind,
    id: u64,
    ttl: Duration,
    now: Timestamp,
) -> Result<(Secret, Timestamp)> {
    check_ttl(ttl)?;
    purge(tx, now)?;
    let token = format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
    );
    let key = digest(&token).ok_or_else(|| Error::internal("a new token is malformed"))?;
    let expires_at = now.plus(ttl);
    let record = SessionRecord {
        kind,
        id,
        created_at: now,
        expires_at,
    };
    tx.txn
        .open_table(SESSIONS)?
        .insert(key.as_slice(), codec::encode(&record)?.as_slice())?;
    tx.txn
        .open_table(SESSION_PRINCIPAL)?
        .insert(principal_prefix(kind, id).bytes_with(&key).as_slice(), ())?;
    tx.txn.open_table(SESSION_EXPIRY)?.insert(
        Key::new()
            .i64(expires_at.as_millis())
            .bytes_with(&key)
            .as_slice(),
        (),
    )?;
    Ok((Secret::new(token), expires_at))
}

/// The live session of `token`, or `InvalidToken`.
pub(crate) fn find(tables: &dyn Tables, token: &str, now: Timestamp) -> Result<SessionRecord> {
    let key = digest(token).ok_or(Error::InvalidToken)?;
    let bytes = tables.session(&key)?.ok_or(Error::InvalidToken)?;
    let record: SessionRecord = codec::decode(&bytes)?;
    if record.expires_at <= now {
        return Err(Error::InvalidToken);
    }
    Ok(record)
}

/// Ends the session of `token`; an unknown, expired or malformed token is a no-op.
pub(crate) fn close(tx: &WriteTx, token: &str) -> Result<bool> {
    let Some(key) = digest(token) else {
        return Ok(false);
    };
    remove(tx, &key)
}

fn remove(tx: &WriteTx, key: &[u8]) -> Result<bool> {
    let Some(bytes) = tx.txn.session(key)? else {
        return Ok(false);
    };
    let record: SessionRecord = codec::decode(&bytes)?;
    tx.txn.open_table(SESSIONS)?.remove(key)?;
    tx.txn.open_table(SESSION_PRINCIPAL)?.remove(
        principal_prefix(record.kind, record.id)
            .bytes_with(key)
            .as_slice(),
    )?;
    tx.txn.open_table(SESSION_EXPIRY)?.remove(
        Key::new()
            .i64(record.expires_at.as_millis())
            .bytes_with(key)
            .as_slice(),
    )?;
    Ok(true)
}

fn digests_of(tables: &dyn Tables, kind: EntityKind, id: u64) -> Result<Vec<Vec<u8>>> {
    let prefix = principal_prefix(kind, id);
    let keys = tables.keys_with_prefix(SESSION_PRINCIPAL, prefix.bytes())?;
    Ok(keys
        .into_iter()
        .filter_map(|k| k.strip_prefix(prefix.bytes()).map(<[u8]>::to_vec))
        .collect())
}

/// Ends every session of a principal; returns how many there were (expired included).
pub(crate) fn revoke_all(tx: &WriteTx, kind: EntityKind, id: u64) -> Result<u64> {
    let mut n: u64 = 0;
    for key in digests_of(&tx.txn, kind, id)? {
        if remove(tx, &key)? {
            n = n.saturating_add(1);
        }
    }
    Ok(n)
}

/// The live sessions of a principal, oldest first.
pub(crate) fn list(
    tables: &dyn Tables,
    kind: EntityKind,
    id: u64,
    now: Timestamp,
) -> Result<Vec<Session>> {
    let mut out = Vec::new();
    for key in digests_of(tables, kind, id)? {
        if let Some(bytes) = tables.session(&key)? {
            let record: SessionRecord = codec::decode(&bytes)?;
            if record.expires_at > now {
                out.push(Session {
                    created_at: record.created_at,
                    expires_at: record.expires_at,
                });
            }
        }
    }
    out.sort_by_key(|s| (s.created_at, s.expires_at));
    Ok(out)
}

/// Deletes up to a batch of sessions that ended by `now`, oldest first.
fn purge(tx: &WriteTx, now: Timestamp) -> Result<()> {
    let end = Key::new().i64(now.as_millis()).u64(u64::MAX);
    let expired =
        tx.txn
            .keys_in_range(SESSION_EXPIRY, &[], Some(end.bytes()), PURGE_BATCH, false)?;
    for entry in expired {
        if let Some(key) = entry.get(8..) {
            remove(tx, key)?;
        }
    }
    Ok(())
}

/// `check()` of the session tables: every session has its two index
/// entries, and every index entry its session.
pub(crate) fn check(tables: &dyn Tables, problems: &mut Vec<String>) -> Result<()> {
    let mut by_principal = std::collections::BTreeSet::new();
    let mut by_expiry = std::collections::BTreeSet::new();
    for (key, bytes) in tables.sessions()? {
        match codec::decode::<SessionRecord>(&bytes) {
            Ok(record) => {
                by_principal.insert(principal_prefix(record.kind, record.id).bytes_with(&key));
                by_expiry.insert(
                    Key::new()
                        .i64(record.expires_at.as_millis())
                        .bytes_with(&key),
                );
            }
            Err(e) => problems.push(format!("sessions: a session cannot be read ({e})")),
        }
    }
    for (table, mut wanted) in [
        (SESSION_PRINCIPAL, by_principal),
        (SESSION_EXPIRY, by_expiry),
    ] {
        let name = redb::TableHandle::name(&table).to_owned();
        for key in tables.keys_in_range(table, &[], None, usize::MAX, false)? {
            if !wanted.remove(&key) {
                problems.push(format!("{name}: a stray entry names no session"));
            }
        }
        if !wanted.is_empty() {
            problems.push(format!("{name}: {} sessions have no entry", wanted.len()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_tokens_have_digests() {
        let token = format!("rs_{}", URL_SAFE_NO_PAD.encode([7u8; 32]));
        assert!(digest(&token).is_some());
        for bad in [
            "",
            "rs_",
            &token[3..],
            &format!("xx_{}", &token[3..]),
            &format!("{token}A"),
            &format!("rs_{}", "+".repeat(43)),
            &format!("rs_{}", "\0".repeat(43)),
            &"rs_".repeat(400_000),
        ] {
            assert!(digest(bad).is_none(), "{bad:.20}");
        }
    }

    #[test]
    fn lifetimes_are_bounded() {
        check_ttl(DEFAULT_SESSION_TTL).unwrap();
        check_ttl(MAX_SESSION_TTL).unwrap();
        for bad in [
            Duration::ZERO,
            Duration::from_millis(1500),
            MAX_SESSION_TTL + Duration::from_secs(1),
        ] {
            assert!(matches!(check_ttl(bad), Err(Error::InvalidArgument { .. })));
        }
    }
}
