//! Run counts (format 6, decision 0015): for an ordered index whose values
//! repeat (a user's `lastName`), how many of its keys each value holds in
//! each chunk of ids, so an offset page skips whole runs of equal values,
//! and whole chunks of a run, without walking their keys.
//!
//! A count table maps `values + chunk` to a count, where `values` is an
//! index key without its id (the marker and the encoded value, as
//! `storage::index` writes them) and the chunk is the id shifted right by
//! [`CHUNK_BITS`] (8 bytes big-endian), as postings cut ids. Entries hold
//! counts above zero only. Byte order of the entries is the order of the
//! index's runs, and within a run the order of its ids.
//!
//! Counts follow the index keys actually written: `storage::pending`
//! notes each key it inserts that was absent (+1) and each key it removes
//! that was present (−1), and writes each touched entry once per flush. A
//! write that leaves an index's keys alone touches no count entry.

use std::collections::BTreeMap;

use redb::{ReadableTable, TableDefinition, TableHandle, WriteTransaction};

use crate::storage::keys::trailing_u64;
use crate::storage::postings::CHUNK_BITS;
use crate::storage::schema::{MultiTable, USER_LAST_NAME};
use crate::storage::wal::journal::Journal;
use crate::{Error, Result};

/// A count table: `values + chunk` (8 bytes big-endian) → the number of
/// keys of the index with those values and an id in that chunk.
pub(crate) type CountTable = TableDefinition<'static, &'static [u8], u64>;

/// The run counts of `idx.user.last_name`.
pub(crate) const USER_LAST_NAME_COUNTS: CountTable = TableDefinition::new("count.user.last_name");

/// Every count table, beside the ordered index it counts.
pub(crate) const COUNTED: [(MultiTable, CountTable); 1] = [(USER_LAST_NAME, USER_LAST_NAME_COUNTS)];

/// The count table kept beside an ordered index, if it has one.
pub(crate) fn counts_of(index: &MultiTable) -> Option<CountTable> {
    let name = index.name();
    COUNTED
        .iter()
        .find(|(i, _)| i.name() == name)
        .map(|(_, c)| *c)
}

/// The count key of an index key: its values and its id's chunk; `None`
/// for a key shorter than an id.
pub(crate) fn count_key(index_key: &[u8]) -> Option<Vec<u8>> {
    let id = trailing_u64(index_key)?;
    let values = index_key.get(..index_key.len().checked_sub(8)?)?;
    let mut key = Vec::with_capacity(index_key.len());
    key.extend_from_slice(values);
    key.extend_from_slice(&(id >> CHUNK_BITS).to_be_bytes());
    Some(key)
}

/// The first id of a chunk.
pub(crate) fn chunk_start(chunk: u64) -> u64 {
    chunk.checked_shl(CHUNK_BITS).unwrap_or(u64::MAX)
}

/// Count changes of one count table, gathered while its index's keys are
/// written and then written once per entry.
pub(crate) struct CountDeltas {
    table: CountTable,
    /// Count key → change.
    deltas: BTreeMap<Vec<u8>, i64>,
}

impl CountDeltas {
    /// The changes of the count table of `index`, when it has one.
    pub(crate) fn of(index: &MultiTable) -> Option<CountDeltas> {
        counts_of(index).map(|table| CountDeltas {
            table,
            deltas: BTreeMap::new(),
        })
    }

    /// Notes that the index gained (`+1`) or lost (`-1`) `index_key`.
    pub(crate) fn note(&mut self, index_key: &[u8], change: i64) {
        let Some(key) = count_key(index_key) else {
            return;
        };
        let delta = self.deltas.entry(key).or_default();
        *delta = delta.saturating_add(change);
    }

    /// Writes the changes: each touched entry read, changed and written
    /// (or removed at zero) once.
    ///
    /// Errors: `Storage` when the table cannot be written, `Internal` when
    /// a count would go below zero (the counts and the index disagree).
    pub(crate) fn write(self, txn: &WriteTransaction, journal: &Journal) -> Result<()> {
        if self.deltas.values().all(|d| *d == 0) {
            return Ok(());
        }
        let mut table = txn.open_table(self.table)?;
        for (key, delta) in self.deltas {
            if delta == 0 {
                continue;
            }
            let stored = table.get(key.as_slice())?.map_or(0, |v| v.value());
            let count = i128::from(stored).saturating_add(i128::from(delta));
            let count = u64::try_from(count).map_err(|_| {
                Error::internal(format!(
                    "{}: a run count would be {count} (stored {stored}, change {delta})",
                    self.table.name()
                ))
            })?;
            if count == 0 {
                journal.remove(&self.table, &key.as_slice());
                table.remove(key.as_slice())?;
            } else {
                journal.insert(&self.table, &key.as_slice(), &count);
                table.insert(key.as_slice(), count)?;
            }
        }
        Ok(())
    }
}

/// Counts one index key into `counts` (count key → count).
pub(crate) fn tally(counts: &mut BTreeMap<Vec<u8>, u64>, index_key: &[u8]) {
    if let Some(key) = count_key(index_key) {
        let n = counts.entry(key).or_default();
        *n = n.saturating_add(1);
    }
}

/// The counts the keys of an ordered index call for: count key → count.
pub(crate) fn counts_of_keys<'k>(
    keys: impl IntoIterator<Item = &'k [u8]>,
) -> BTreeMap<Vec<u8>, u64> {
    let mut out = BTreeMap::new();
    for key in keys {
        tally(&mut out, key);
    }
    out
}

/// Empties every count table and counts its index's keys again (the
/// migration to format 6).
///
/// Errors: `Storage` when a table cannot be read or written.
pub(crate) fn rebuild(txn: &WriteTransaction) -> Result<()> {
    for (index, counts) in COUNTED {
        txn.delete_table(counts)?;
        let wanted = {
            let keys = txn.open_table(index)?;
            let mut out = BTreeMap::new();
            for entry in keys.iter()? {
                tally(&mut out, entry?.0.value());
            }
            out
        };
        let mut table = txn.open_table(counts)?;
        for (key, n) in wanted {
            table.insert(key.as_slice(), n)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::keys::Key;

    #[test]
    fn count_keys_hold_the_values_and_the_chunk() {
        let key = Key::new().byte(1).text("ng", "Ng").u64(70_000).into_bytes();
        let count = count_key(&key).unwrap();
        assert_eq!(
            count,
            Key::new().byte(1).text("ng", "Ng").u64(1).into_bytes()
        );
        assert_eq!(count_key(&[1, 2, 3]), None);
        assert_eq!(chunk_start(2), 131_072);
        let keys: Vec<Vec<u8>> = [1_u64, 2, 65_536, 3]
            .iter()
            .map(|&id| Key::new().byte(1).text("a", "A").u64(id).into_bytes())
            .collect();
        let counts = counts_of_keys(keys.iter().map(Vec::as_slice));
        assert_eq!(counts.values().copied().collect::<Vec<_>>(), [3, 1]);
    }

    #[test]
    fn deltas_add_up_and_empty_entries_go() {
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let txn = db.begin_write().unwrap();
        let key = |id: u64| Key::new().byte(1).text("a", "A").u64(id).into_bytes();
        let mut deltas = CountDeltas::of(&USER_LAST_NAME).unwrap();
        for id in [1, 2, 3, 70_000] {
            deltas.note(&key(id), 1);
        }
        deltas.note(&key(2), -1);
        deltas.write(&txn, &Journal::default()).unwrap();
        let stored = |txn: &WriteTransaction| -> Vec<u64> {
            let t = txn.open_table(USER_LAST_NAME_COUNTS).unwrap();
            t.iter().unwrap().map(|e| e.unwrap().1.value()).collect()
        };
        assert_eq!(stored(&txn), [2, 1]);
        let mut deltas = CountDeltas::of(&USER_LAST_NAME).unwrap();
        deltas.note(&key(70_000), -1);
        deltas.write(&txn, &Journal::default()).unwrap();
        assert_eq!(stored(&txn), [2]);
        let mut deltas = CountDeltas::of(&USER_LAST_NAME).unwrap();
        deltas.note(&key(70_000), -1);
        assert!(
            deltas.write(&txn, &Journal::default()).is_err(),
            "below zero"
        );
    }
}
