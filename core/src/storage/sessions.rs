//! Session records (docs/reference/documents.md, Sessions): the sessions table, keyed by the digest
//! of each token, and its two indexes (by principal, by expiry).

use serde::{Deserialize, Serialize};

use crate::storage::codec;
use crate::storage::keys::Key;
use crate::storage::schema::{MultiTable, SESSION_EXPIRY, SESSION_PRINCIPAL, SESSIONS};
use crate::storage::tx::{Tables, WriteTx};
use crate::{EntityKind, Result, Timestamp};

/// Expired sessions a login purges at most, so that purging stays cheap.
const PURGE_BATCH: usize = 64;

/// The stored form of a session; the digest of its token is its key.
#[derive(Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    pub(crate) kind: EntityKind,
    pub(crate) id: u64,
    pub(crate) created_at: Timestamp,
    pub(crate) expires_at: Timestamp,
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

fn expiry_key(expires_at: Timestamp, digest: &[u8]) -> Vec<u8> {
    Key::new().i64(expires_at.as_millis()).bytes_with(digest)
}

/// The index entries of a session stored under `digest`: by principal,
/// and by expiry.
fn index_entries(digest: &[u8], record: &SessionRecord) -> [(MultiTable, Vec<u8>); 2] {
    [
        (
            SESSION_PRINCIPAL,
            principal_prefix(record.kind, record.id).bytes_with(digest),
        ),
        (SESSION_EXPIRY, expiry_key(record.expires_at, digest)),
    ]
}

/// Stores a session under the digest of its token, with its index entries.
pub(crate) fn insert(tx: &WriteTx, digest: &[u8], record: &SessionRecord) -> Result<()> {
    let bytes = codec::encode(record)?;
    tx.journal().insert(&SESSIONS, &digest, &bytes.as_slice());
    tx.txn
        .open_table(SESSIONS)?
        .insert(digest, bytes.as_slice())?;
    for (table, key) in index_entries(digest, record) {
        tx.journal().insert(&table, &key.as_slice(), &());
        tx.txn.open_table(table)?.insert(key.as_slice(), ())?;
    }
    Ok(())
}

/// The session stored under this token digest, expired or not.
pub(crate) fn get(tables: &dyn Tables, digest: &[u8]) -> Result<Option<SessionRecord>> {
    match tables.session(digest)? {
        Some(bytes) => Ok(Some(codec::decode(&bytes)?)),
        None => Ok(None),
    }
}

/// Removes the session stored under this token digest and its index
/// entries; `false` when there is none.
pub(crate) fn remove(tx: &WriteTx, digest: &[u8]) -> Result<bool> {
    let Some(record) = get(&tx.txn, digest)? else {
        return Ok(false);
    };
    tx.journal().remove(&SESSIONS, &digest);
    tx.txn.open_table(SESSIONS)?.remove(digest)?;
    for (table, key) in index_entries(digest, &record) {
        tx.journal().remove(&table, &key.as_slice());
        tx.txn.open_table(table)?.remove(key.as_slice())?;
    }
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

/// The sessions of a principal that are live at `now`, in no order.
pub(crate) fn live(
    tables: &dyn Tables,
    kind: EntityKind,
    id: u64,
    now: Timestamp,
) -> Result<Vec<SessionRecord>> {
    let mut out = Vec::new();
    for key in digests_of(tables, kind, id)? {
        if let Some(record) = get(tables, &key)?
            && record.expires_at > now
        {
            out.push(record);
        }
    }
    Ok(out)
}

/// Deletes up to a batch of sessions that ended by `now`, oldest first.
pub(crate) fn purge(tx: &WriteTx, now: Timestamp) -> Result<()> {
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
                by_expiry.insert(expiry_key(record.expires_at, &key));
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
