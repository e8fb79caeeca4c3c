//! The change log (docs/reference/changes-and-export.md): one entry per committed write, in the
//! same transaction.

use serde::{Deserialize, Serialize};

use crate::storage::codec;

use crate::storage::schema::{CHANGES, meta};
use crate::storage::tx::{Tables, WriteTx};
use crate::{EntityKind, Error, Result, Timestamp};

/// What a change did to its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeOp {
    /// The record was created (or imported).
    Create,
    /// The record was changed.
    Update,
    /// The record was deleted; the entry carries its last version.
    Delete,
}

/// One entry of the change log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Strictly increasing sequence number, starting at 1.
    pub seq: u64,
    /// When the write was made.
    pub at: Timestamp,
    /// The kind of record written.
    pub entity: EntityKind,
    /// The record's id.
    pub id: u64,
    /// What the write did.
    pub op: ChangeOp,
    /// The record's version after the write (for a delete, its last version).
    pub version: u64,
}

/// The stored form of an entry; the sequence number is its key.
#[derive(Serialize, Deserialize)]
pub(crate) struct Entry {
    at: Timestamp,
    entity: EntityKind,
    id: u64,
    op: ChangeOp,
    version: u64,
    /// The record's tenant, so a scoped view reads only its own changes.
    tenant: Option<String>,
}

/// The largest number of entries one call to `changes` returns (its
/// `limit`, 1 to this).
pub const MAX_CHANGES_PER_CALL: usize = 1000;

/// One change to append.
pub(crate) struct Appended<'a> {
    pub(crate) at: Timestamp,
    pub(crate) entity: EntityKind,
    pub(crate) id: u64,
    pub(crate) op: ChangeOp,
    pub(crate) version: u64,
    pub(crate) tenant: Option<&'a str>,
}

/// The stored form of an entry as an append encodes it: [`Entry`] with
/// the tenant borrowed (the same encoding).
#[derive(Serialize)]
struct NewEntry<'a> {
    at: Timestamp,
    entity: EntityKind,
    id: u64,
    op: ChangeOp,
    version: u64,
    tenant: Option<&'a str>,
}

/// Appends an entry in the transaction of the write it describes; the
/// transaction writes it with its other gathered writes (`Pending`), in
/// sequence order.
///
/// Its sequence number follows the log's last key: entries are never
/// removed, so the last key is the last number handed out, and a commit
/// writes no counter beside the log (one page fewer). Only a log without
/// entries falls back on the `last_seq.changes` counter that releases
/// before format 5 kept in the meta table.
pub(crate) fn append(tx: &WriteTx, change: Appended<'_>) -> Result<()> {
    let entry = NewEntry {
        at: change.at,
        entity: change.entity,
        id: change.id,
        op: change.op,
        version: change.version,
        tenant: change.tenant,
    };
    tx.pending.append_change(
        &tx.txn,
        || Ok(tx.txn.meta(meta::LAST_SEQ)?.unwrap_or(0)),
        |out| codec::encode_into(&entry, out),
    )
}

/// Up to `limit` entries with a sequence number above `after`, oldest
/// first; in a scoped view only the entries of its tenant's records.
pub(crate) fn read(
    tables: &dyn Tables,
    after: u64,
    limit: usize,
    scope: Option<&str>,
) -> Result<Vec<Change>> {
    if !(1..=MAX_CHANGES_PER_CALL).contains(&limit) {
        return Err(Error::query(
            crate::QueryCode::InvalidPaging,
            format!("limit must be 1 to {MAX_CHANGES_PER_CALL}"),
        )
        .for_field("limit"));
    }
    let mut out = Vec::new();
    let mut from = after;
    loop {
        let batch = tables.records_after(CHANGES, from, limit)?;
        let Some((last, _)) = batch.last() else {
            return Ok(out);
        };
        from = *last;
        for (seq, bytes) in batch {
            let e: Entry = codec::decode(&bytes)?;
            if scope.is_some() && e.tenant.as_deref() != scope {
                continue;
            }
            out.push(Change {
                seq,
                at: e.at,
                entity: e.entity,
                id: e.id,
                op: e.op,
                version: e.version,
            });
            if out.len() == limit {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_appended_entry_encodes_as_the_stored_one() {
        let at = Timestamp::from_millis(1_234).unwrap();
        for tenant in [None, Some("acme")] {
            let stored = Entry {
                at,
                entity: EntityKind::User,
                id: 7,
                op: ChangeOp::Update,
                version: 3,
                tenant: tenant.map(str::to_owned),
            };
            let new = NewEntry {
                at,
                entity: EntityKind::User,
                id: 7,
                op: ChangeOp::Update,
                version: 3,
                tenant,
            };
            assert_eq!(
                codec::encode(&stored).unwrap(),
                codec::encode(&new).unwrap()
            );
        }
    }
}
