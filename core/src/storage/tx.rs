//! Transactions: the read side shared by snapshots and write transactions,
//! and the write transaction itself.

use std::ops::Bound;

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use crate::storage::keys::prefix_end;
use crate::storage::pending::Pending;
use crate::storage::postings::PostingTable;
use crate::storage::schema::{META, MultiTable, RecordTable, UniqueTable};
use crate::storage::store::Options;
use crate::{Error, Result, Timestamp};

/// Reads a store's tables, from a snapshot or from inside a write transaction.
pub trait Tables {
    /// The encoded record with this id.
    fn record(&self, table: RecordTable, id: u64) -> Result<Option<Vec<u8>>>;
    /// Up to `limit` encoded records with ids above `after`, in id order.
    fn records_after(
        &self,
        table: RecordTable,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>>;
    /// The record id a unique index holds for `key`.
    fn unique(&self, table: UniqueTable, key: &[u8]) -> Result<Option<u64>>;
    /// Every key of a non-unique index that starts with `prefix`.
    fn keys_with_prefix(&self, table: MultiTable, prefix: &[u8]) -> Result<Vec<Vec<u8>>>;
    /// Up to `limit` keys of a non-unique index in `[start, end)` (no `end`:
    /// to the last key), ascending, or descending when `reverse`.
    fn keys_in_range(
        &self,
        table: MultiTable,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<Vec<u8>>>;
    /// Whether a non-unique index holds `key`.
    fn contains(&self, table: MultiTable, key: &[u8]) -> Result<bool>;
    /// Every entry of a unique index.
    fn unique_entries(&self, table: UniqueTable) -> Result<Vec<(Vec<u8>, u64)>>;
    /// Whether a non-unique index holds each of `keys` (one table opening).
    fn contains_many(&self, table: MultiTable, keys: &[Vec<u8>]) -> Result<Vec<bool>>;
    /// The encoded records with these ids (one table opening).
    fn records_by_id(&self, table: RecordTable, ids: &[u64]) -> Result<Vec<Option<Vec<u8>>>>;
    /// The number of keys of a non-unique index in `[start, end)`.
    fn count_range(&self, table: MultiTable, start: &[u8], end: Option<&[u8]>) -> Result<u64>;
    /// The number of records in a record table.
    fn record_count(&self, table: RecordTable) -> Result<u64>;
    /// A counter or version from the meta table.
    fn meta(&self, key: &str) -> Result<Option<u64>>;
    /// The encoded session whose token has this digest.
    fn session(&self, digest: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Every session: (token digest, encoded session).
    fn sessions(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Calls `each` with every (key, bitmap) entry of a posting table in
    /// `[start, end)` (no `end`: to the last key), ascending.
    fn postings(
        &self,
        table: PostingTable,
        start: &[u8],
        end: Option<&[u8]>,
        each: &mut PostingVisitor<'_>,
    ) -> Result<()>;
}

/// What [`Tables::postings`] calls with each (key, bitmap) entry.
pub type PostingVisitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<()> + 'a;

/// The bounds of a range of index keys.
type KeySpan<'k> = (Bound<&'k [u8]>, Bound<&'k [u8]>);

/// The bounds of the keys in `[start, end)` (no `end`: to the last key),
/// for a range read; `None` when no key can be in it.
fn span<'k>(start: &'k [u8], end: Option<&'k [u8]>) -> Option<KeySpan<'k>> {
    match end {
        Some(end) if end <= start => None,
        Some(end) => Some((Bound::Included(start), Bound::Excluded(end))),
        None => Some((Bound::Included(start), Bound::Unbounded)),
    }
}

macro_rules! impl_tables {
    ($txn:ty) => {
        impl Tables for $txn {
            fn record(&self, table: RecordTable, id: u64) -> Result<Option<Vec<u8>>> {
                let t = self.open_table(table)?;
                Ok(t.get(id)?.map(|v| v.value().to_vec()))
            }

            fn records_after(
                &self,
                table: RecordTable,
                after: u64,
                limit: usize,
            ) -> Result<Vec<(u64, Vec<u8>)>> {
                let t = self.open_table(table)?;
                let Some(start) = after.checked_add(1) else {
                    return Ok(Vec::new());
                };
                let mut out = Vec::new();
                for entry in t.range(start..)?.take(limit) {
                    let (k, v) = entry?;
                    out.push((k.value(), v.value().to_vec()));
                }
                Ok(out)
            }

            fn unique(&self, table: UniqueTable, key: &[u8]) -> Result<Option<u64>> {
                let t = self.open_table(table)?;
                Ok(t.get(key)?.map(|v| v.value()))
            }

            fn keys_with_prefix(&self, table: MultiTable, prefix: &[u8]) -> Result<Vec<Vec<u8>>> {
                let end = prefix_end(prefix);
                self.keys_in_range(table, prefix, end.as_deref(), usize::MAX, false)
            }

            fn keys_in_range(
                &self,
                table: MultiTable,
                start: &[u8],
                end: Option<&[u8]>,
                limit: usize,
                reverse: bool,
            ) -> Result<Vec<Vec<u8>>> {
                let t = self.open_table(table)?;
                let Some(span) = span(start, end) else {
                    return Ok(Vec::new());
                };
                let range = t.range::<&[u8]>(span)?;
                let entries: Box<dyn Iterator<Item = _>> = if reverse {
                    Box::new(range.rev())
                } else {
                    Box::new(range)
                };
                entries
                    .take(limit)
                    .map(|entry| Ok(entry?.0.value().to_vec()))
                    .collect()
            }

            fn contains(&self, table: MultiTable, key: &[u8]) -> Result<bool> {
                Ok(self.open_table(table)?.get(key)?.is_some())
            }

            fn unique_entries(&self, table: UniqueTable) -> Result<Vec<(Vec<u8>, u64)>> {
                let t = self.open_table(table)?;
                let mut out = Vec::new();
                for entry in t.iter()? {
                    let (k, v) = entry?;
                    out.push((k.value().to_vec(), v.value()));
                }
                Ok(out)
            }

            fn contains_many(&self, table: MultiTable, keys: &[Vec<u8>]) -> Result<Vec<bool>> {
                let t = self.open_table(table)?;
                keys.iter()
                    .map(|k| Ok(t.get(k.as_slice())?.is_some()))
                    .collect()
            }

            fn records_by_id(
                &self,
                table: RecordTable,
                ids: &[u64],
            ) -> Result<Vec<Option<Vec<u8>>>> {
                let t = self.open_table(table)?;
                ids.iter()
                    .map(|&id| Ok(t.get(id)?.map(|v| v.value().to_vec())))
                    .collect()
            }

            fn count_range(
                &self,
                table: MultiTable,
                start: &[u8],
                end: Option<&[u8]>,
            ) -> Result<u64> {
                let t = self.open_table(table)?;
                let Some(span) = span(start, end) else {
                    return Ok(0);
                };
                let mut n = 0_u64;
                for entry in t.range::<&[u8]>(span)? {
                    entry?;
                    n = n.saturating_add(1);
                }
                Ok(n)
            }

            fn record_count(&self, table: RecordTable) -> Result<u64> {
                use redb::ReadableTableMetadata;
                Ok(self.open_table(table)?.len()?)
            }

            fn meta(&self, key: &str) -> Result<Option<u64>> {
                let t = self.open_table(META)?;
                Ok(t.get(key)?.map(|v| v.value()))
            }

            fn session(&self, digest: &[u8]) -> Result<Option<Vec<u8>>> {
                let t = self.open_table(crate::storage::schema::SESSIONS)?;
                Ok(t.get(digest)?.map(|v| v.value().to_vec()))
            }

            fn sessions(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
                let t = self.open_table(crate::storage::schema::SESSIONS)?;
                let mut out = Vec::new();
                for entry in t.iter()? {
                    let (k, v) = entry?;
                    out.push((k.value().to_vec(), v.value().to_vec()));
                }
                Ok(out)
            }

            fn postings(
                &self,
                table: PostingTable,
                start: &[u8],
                end: Option<&[u8]>,
                each: &mut PostingVisitor<'_>,
            ) -> Result<()> {
                let t = self.open_table(table)?;
                let Some(span) = span(start, end) else {
                    return Ok(());
                };
                for entry in t.range::<&[u8]>(span)? {
                    let (k, v) = entry?;
                    each(k.value(), v.value())?;
                }
                Ok(())
            }
        }
    };
}

impl_tables!(ReadTransaction);
impl_tables!(WriteTransaction);

/// A consistent, read-only snapshot of the store, given to [`crate::Store::read`].
pub struct ReadTx {
    pub(crate) txn: ReadTransaction,
    pub(crate) options: std::sync::Arc<Options>,
}

/// An open write transaction, given to [`crate::Store::write`] or returned by
/// [`crate::Store::begin_write`].
///
/// Reads through it see its own writes. Every operation checks everything
/// before it writes anything, so an operation that fails leaves no trace even
/// when the caller goes on with the transaction. Dropping it without
/// [`WriteTx::commit`] rolls it back.
pub struct WriteTx {
    pub(crate) txn: WriteTransaction,
    pub(crate) options: std::sync::Arc<Options>,
    /// Index changes not yet written (postings, ordered keys), flushed
    /// before the transaction's reads and its commit.
    pub(crate) pending: Pending,
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTx").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ReadTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadTx").finish_non_exhaustive()
    }
}

impl WriteTx {
    /// Makes every write of the transaction durable, or none of them.
    pub fn commit(self) -> Result<()> {
        self.pending.flush(&self.txn)?;
        self.txn.commit()?;
        Ok(())
    }

    /// Discards every write of the transaction.
    pub fn rollback(self) -> Result<()> {
        self.txn.abort()?;
        Ok(())
    }

    /// The store clock's reading, for writes made now.
    pub(crate) fn now(&self) -> Timestamp {
        self.options.clock.now()
    }

    /// Increments a meta counter and returns its new value.
    pub(crate) fn bump(&self, key: &str) -> Result<u64> {
        let next = self
            .txn
            .meta(key)?
            .unwrap_or(0)
            .checked_add(1)
            .ok_or_else(|| Error::internal(format!("the counter {key} is at its largest value")))?;
        self.set_meta(key, next)?;
        Ok(next)
    }

    /// Sets a meta counter.
    pub(crate) fn set_meta(&self, key: &str, value: u64) -> Result<()> {
        self.txn.open_table(META)?.insert(key, value)?;
        Ok(())
    }
}

pub(crate) mod sealed {
    /// Keeps the context traits implementable only by rosterdb.
    pub trait Sealed {}
}

/// Something collections can read through: the store itself (one snapshot
/// per call), a [`ReadTx`], a [`WriteTx`] or a view of one of them
/// (`View`, which adds a tenant).
pub trait ReadContext: sealed::Sealed {
    /// Runs `f` on a snapshot of the tables.
    #[doc(hidden)]
    fn with_tables<T>(&self, f: impl FnOnce(&dyn Tables) -> Result<T>) -> Result<T>;
    /// The tenant a scoped view sees; `None` when unscoped.
    #[doc(hidden)]
    fn scope(&self) -> Option<&str> {
        None
    }
    /// The store clock's reading.
    #[doc(hidden)]
    fn now(&self) -> Timestamp;
}

/// Something collections can write through: the store itself (one durable
/// transaction per call), a [`WriteTx`] or a writable view of either.
pub trait WriteContext: ReadContext {
    /// Runs `f` inside a write transaction.
    #[doc(hidden)]
    fn with_write<T>(&self, f: impl FnOnce(&WriteTx) -> Result<T>) -> Result<T>;
    /// The store's options.
    #[doc(hidden)]
    fn options(&self) -> &Options;
    /// Whether calls join a transaction the caller commits or rolls back.
    #[doc(hidden)]
    fn in_transaction(&self) -> bool {
        false
    }
}

impl sealed::Sealed for ReadTx {}
impl sealed::Sealed for WriteTx {}

impl ReadContext for ReadTx {
    fn with_tables<T>(&self, f: impl FnOnce(&dyn Tables) -> Result<T>) -> Result<T> {
        f(&self.txn)
    }

    fn now(&self) -> Timestamp {
        self.options.clock.now()
    }
}

impl ReadContext for WriteTx {
    fn with_tables<T>(&self, f: impl FnOnce(&dyn Tables) -> Result<T>) -> Result<T> {
        self.pending.flush(&self.txn)?;
        f(&self.txn)
    }

    fn now(&self) -> Timestamp {
        WriteTx::now(self)
    }
}

impl WriteContext for WriteTx {
    fn with_write<T>(&self, f: impl FnOnce(&WriteTx) -> Result<T>) -> Result<T> {
        f(self)
    }

    fn options(&self) -> &Options {
        &self.options
    }

    fn in_transaction(&self) -> bool {
        true
    }
}
