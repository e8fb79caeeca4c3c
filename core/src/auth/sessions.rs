//! Sessions (docs/reference/documents.md, Sessions; docs/reference/credentials.md, Sessions):
//! opaque bearer tokens, kept only as their SHA-256 digests, each naming the user or client it
//! belongs to.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::credentials::random_bytes;
use crate::storage::sessions::{self, SessionRecord};
use crate::storage::tx::{Tables, WriteTx};
use crate::{EntityKind, Error, Result, Secret, Timestamp};

/// Every token starts with this.
pub const TOKEN_PREFIX: &str = "rs_";
/// The lifetime of a session when the caller names none: 15 minutes.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(900);
/// The longest lifetime a session may have: 30 days.
pub const MAX_SESSION_TTL: Duration = Duration::from_secs(30 * 86_400);

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
    sessions::purge(tx, now)?;
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
    sessions::insert(tx, &key, &record)?;
    Ok((Secret::new(token), expires_at))
}

/// The live session of `token`, or `InvalidToken`.
pub(crate) fn find(tables: &dyn Tables, token: &str, now: Timestamp) -> Result<SessionRecord> {
    let key = digest(token).ok_or(Error::InvalidToken)?;
    let record = sessions::get(tables, &key)?.ok_or(Error::InvalidToken)?;
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
    sessions::remove(tx, &key)
}

/// The live sessions of a principal, oldest first.
pub(crate) fn list(
    tables: &dyn Tables,
    kind: EntityKind,
    id: u64,
    now: Timestamp,
) -> Result<Vec<Session>> {
    let mut out: Vec<Session> = sessions::live(tables, kind, id, now)?
        .into_iter()
        .map(|record| Session {
            created_at: record.created_at,
            expires_at: record.expires_at,
        })
        .collect();
    out.sort_by_key(|s| (s.created_at, s.expires_at));
    Ok(out)
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
