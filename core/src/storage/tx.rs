//! Transactions: the read side shared by snapshots and write transactions,
//! and the write transaction itself.

use std::ops::Bound;

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use crate::storage::durability::Turn;
use crate::storage::keys::prefix_end;
use crate::storage::pending::Pending;
use crate::storage::postings::PostingTable;
use crate::storage::run_counts::CountTable;
use crate::storage::schema::{META, MultiTable, RecordTable, UniqueTable};
use crate::storage::snapshot::Snapshot;
use crate::storage::store::Options;
use crate::storage::unique::Owners;
use crate::{Result, Timestamp};

/// Reads a store's tables, from a snapshot or from inside a write transaction.
pub trait Tables {
    /// The encoded record with this id, copied out of the store
    /// ([`Tables::read_record`] without the copy).
    fn record(&self, table: RecordTable, id: u64) -> Result<Option<Vec<u8>>> {
        let mut out = None;
        self.read_record(table, id, &mut |bytes| {
            out = Some(bytes.to_vec());
            Ok(())
        })?;
        Ok(out)
    }
    /// Up to `limit` encoded records with ids above `after`, in id order,
    /// copied out of the store ([`Tables::read_records_after`] without the copy).
    fn records_after(
        &self,
        table: RecordTable,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        self.read_records_after(table, after, limit, &mut |id, bytes| {
            out.push((id, bytes.to_vec()));
            Ok(true)
        })?;
        Ok(out)
    }
    /// The records a unique index names for `key`: for a hashed index
    /// (usernames, e-mails) every record under the key's hash, whose own
    /// key the caller must check ([`Owners::is_exact`]).
    fn unique(&self, table: UniqueTable, key: &[u8]) -> Result<Owners>;
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
    /// Every entry of a unique index: (key, id) of a whole one, (hash and
    /// id as 16 bytes, id) of a hashed one (`storage::unique::stored_key`).
    fn unique_entries(&self, table: UniqueTable) -> Result<Vec<(Vec<u8>, u64)>>;
    /// Whether a non-unique index holds each of `keys` (one table opening).
    fn contains_many(&self, table: MultiTable, keys: &[Vec<u8>]) -> Result<Vec<bool>>;
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

    /// Hands the encoded record with this id to `read` as stored, without
    /// copying it; false (and `read` not called) when there is none.
    /// `read`'s error is returned as it is.
    fn read_record(
        &self,
        table: RecordTable,
        id: u64,
        read: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<bool>;
    /// Hands the encoded records with these ids, in the order of `ids` and
    /// without copying them, to `read` (an absent id is passed over), until
    /// `read` returns false (one table opening).
    fn read_records_by_id(
        &self,
        table: RecordTable,
        ids: &[u64],
        read: &mut dyn FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()>;
    /// Hands up to `limit` encoded records with ids above `after`, in id
    /// order and without copying them, to `read` (id, record) until it
    /// returns false; returns how many it was handed.
    fn read_records_after(
        &self,
        table: RecordTable,
        after: u64,
        limit: usize,
        read: &mut dyn FnMut(u64, &[u8]) -> Result<bool>,
    ) -> Result<usize>;
    /// Hands up to `limit` keys of a non-unique index in `[start, end)`
    /// (no `end`: to the last key), ascending and without copying them, to
    /// `read`; returns how many it was handed.
    fn read_keys(
        &self,
        table: MultiTable,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
        read: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<usize>;
    /// Passes over up to `n` keys of a non-unique index in `[start, end)`
    /// (no `end`: to the last key), ascending, or descending when
    /// `reverse`, without copying them: returns how many it passed and the
    /// last of them (`None` when it passed none).
    fn skip_keys(
        &self,
        table: MultiTable,
        start: &[u8],
        end: Option<&[u8]>,
        n: u64,
        reverse: bool,
    ) -> Result<(u64, Option<Vec<u8>>)>;

    /// Calls `each` with every (key, bitmap) entry of a posting table in
    /// `[start, end)` (no `end`: to the last key), ascending.
    fn postings(
        &self,
        table: PostingTable,
        start: &[u8],
        end: Option<&[u8]>,
        each: &mut PostingVisitor<'_>,
    ) -> Result<()> {
        self.postings_until(table, start, end, &mut |k, v| {
            each(k, v)?;
            Ok(true)
        })
    }

    /// [`Tables::postings`] until `each` returns false.
    fn postings_until(
        &self,
        table: PostingTable,
        start: &[u8],
        end: Option<&[u8]>,
        each: &mut PostingUntil<'_>,
    ) -> Result<()>;

    /// Calls `each` with the (key, count) entries of a run-count table in
    /// `[start, end)` (no `end`: to the last key), ascending, or descending
    /// when `reverse`, until it returns false.
    fn counts(
        &self,
        table: CountTable,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        each: &mut dyn FnMut(&[u8], u64) -> Result<bool>,
    ) -> Result<()>;
}

/// The record with this id in `table`, decoded straight from where the
/// store holds it (no copy of its bytes); `None` when there is none.
///
/// Errors: `Storage` when the table cannot be read or the record is
/// damaged; `IncompatibleFormat` for a record of an unknown schema.
pub(crate) fn decoded_record<T: serde::de::DeserializeOwned>(
    tables: &dyn Tables,
    table: RecordTable,
    id: u64,
) -> Result<Option<T>> {
    let mut out = None;
    tables.read_record(table, id, &mut |bytes| {
        out = Some(crate::storage::codec::decode(bytes)?);
        Ok(())
    })?;
    Ok(out)
}

/// What [`Tables::postings`] calls with each (key, bitmap) entry.
pub type PostingVisitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<()> + 'a;

/// What [`Tables::postings_until`] calls with each (key, bitmap) entry:
/// true to go on.
pub type PostingUntil<'a> = dyn FnMut(&[u8], &[u8]) -> Result<bool> + 'a;

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
            fn unique(&self, table: UniqueTable, key: &[u8]) -> Result<Owners> {
                match crate::storage::unique::hashed(&table) {
                    Some(hashed) => {
                        let t = self.open_table(hashed)?;
                        crate::storage::unique::owners_in(
                            t.range(crate::storage::unique::span(key))?,
                        )
                    }
                    None => {
                        let t = self.open_table(table)?;
                        Ok(Owners::exact(t.get(key)?.map(|v| v.value())))
                    }
                }
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
                if let Some(hashed) = crate::storage::unique::hashed(&table) {
                    let t = self.open_table(hashed)?;
                    let mut out = Vec::new();
                    for entry in t.iter()? {
                        let (hash, id) = entry?.0.value();
                        out.push((crate::storage::unique::hashed_entry(hash, id), id));
                    }
                    return Ok(out);
                }
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

            fn read_record(
                &self,
                table: RecordTable,
                id: u64,
                read: &mut dyn FnMut(&[u8]) -> Result<()>,
            ) -> Result<bool> {
                let t = self.open_table(table)?;
                match t.get(id)? {
                    Some(v) => {
                        read(v.value())?;
                        Ok(true)
                    }
                    None => Ok(false),
                }
            }

            fn read_records_by_id(
                &self,
                table: RecordTable,
                ids: &[u64],
                read: &mut dyn FnMut(&[u8]) -> Result<bool>,
            ) -> Result<()> {
                let t = self.open_table(table)?;
                for &id in ids {
                    if let Some(v) = t.get(id)?
                        && !read(v.value())?
                    {
                        break;
                    }
                }
                Ok(())
            }

            fn read_records_after(
                &self,
                table: RecordTable,
                after: u64,
                limit: usize,
                read: &mut dyn FnMut(u64, &[u8]) -> Result<bool>,
            ) -> Result<usize> {
                let t = self.open_table(table)?;
                let Some(start) = after.checked_add(1) else {
                    return Ok(0);
                };
                let mut handed = 0_usize;
                for entry in t.range(start..)?.take(limit) {
                    let (k, v) = entry?;
                    handed = handed.saturating_add(1);
                    if !read(k.value(), v.value())? {
                        break;
                    }
                }
                Ok(handed)
            }

            fn read_keys(
                &self,
                table: MultiTable,
                start: &[u8],
                end: Option<&[u8]>,
                limit: usize,
                read: &mut dyn FnMut(&[u8]) -> Result<()>,
            ) -> Result<usize> {
                let t = self.open_table(table)?;
                let Some(span) = span(start, end) else {
                    return Ok(0);
                };
                let mut handed = 0_usize;
                for entry in t.range::<&[u8]>(span)?.take(limit) {
                    read(entry?.0.value())?;
                    handed = handed.saturating_add(1);
                }
                Ok(handed)
            }

            fn skip_keys(
                &self,
                table: MultiTable,
                start: &[u8],
                end: Option<&[u8]>,
                n: u64,
                reverse: bool,
            ) -> Result<(u64, Option<Vec<u8>>)> {
                let t = self.open_table(table)?;
                let Some(span) = span(start, end) else {
                    return Ok((0, None));
                };
                let range = t.range::<&[u8]>(span)?;
                let entries: Box<dyn Iterator<Item = _>> = if reverse {
                    Box::new(range.rev())
                } else {
                    Box::new(range)
                };
                let mut passed = 0_u64;
                // The entry passed last, held (not copied) until the end.
                let mut last = None;
                for entry in entries.take(usize::try_from(n).unwrap_or(usize::MAX)) {
                    last = Some(entry?);
                    passed = passed.saturating_add(1);
                }
                Ok((passed, last.map(|(k, _)| k.value().to_vec())))
            }

            fn postings_until(
                &self,
                table: PostingTable,
                start: &[u8],
                end: Option<&[u8]>,
                each: &mut PostingUntil<'_>,
            ) -> Result<()> {
                let t = self.open_table(table)?;
                let Some(span) = span(start, end) else {
                    return Ok(());
                };
                for entry in t.range::<&[u8]>(span)? {
                    let (k, v) = entry?;
                    if !each(k.value(), v.value())? {
                        break;
                    }
                }
                Ok(())
            }

            fn counts(
                &self,
                table: CountTable,
                start: &[u8],
                end: Option<&[u8]>,
                reverse: bool,
                each: &mut dyn FnMut(&[u8], u64) -> Result<bool>,
            ) -> Result<()> {
                let t = self.open_table(table)?;
                let Some(span) = span(start, end) else {
                    return Ok(());
                };
                let range = t.range::<&[u8]>(span)?;
                let entries: Box<dyn Iterator<Item = _>> = if reverse {
                    Box::new(range.rev())
                } else {
                    Box::new(range)
                };
                for entry in entries {
                    let (k, v) = entry?;
                    if !each(k.value(), v.value())? {
                        break;
                    }
                }
                Ok(())
            }
        }
    };
}

impl_tables!(ReadTransaction);
impl_tables!(WriteTransaction);
impl_tables!(Snapshot);

/// A consistent, read-only snapshot of the store, given to [`crate::Store::read`].
pub struct ReadTx {
    /// Shared with the store's other reads while no commit started since.
    pub(crate) snapshot: std::sync::Arc<Snapshot>,
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
    /// This writer's turn (decision 0013). Declared after `txn`: dropped
    /// open, the transaction rolls back before the turn passes on.
    pub(crate) turn: Turn,
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
    /// Makes every write of the transaction durable, or none of them;
    /// returns once they are durable. While other writers wait, the commit
    /// may be one of a group made durable together (decision 0013).
    ///
    /// Fails with `Storage` when the commit fails, or when the durable
    /// commit of its group fails (then the writes may be lost).
    pub fn commit(self) -> Result<()> {
        self.pending.flush(&self.txn)?;
        let changes = self.pending.journal.take();
        let WriteTx { txn, turn, .. } = self;
        turn.commit(txn, changes)
    }

    /// Where the transaction's table writes are recorded for the
    /// write-ahead log (decision 0018): every insert and remove goes
    /// through it.
    pub(crate) fn journal(&self) -> &crate::storage::wal::journal::Journal {
        &self.pending.journal
    }

    /// Discards every write of the transaction; returns once every commit
    /// it could have read is durable.
    ///
    /// Fails with `Storage` when the rollback fails, or when a commit it
    /// could have read was lost (its group's durable commit failed).
    pub fn rollback(self) -> Result<()> {
        let WriteTx { txn, turn, .. } = self;
        let aborted = txn.abort();
        let ended = turn.end();
        aborted?;
        ended
    }

    /// The store clock's reading, for writes made now.
    pub(crate) fn now(&self) -> Timestamp {
        self.options.clock.now()
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
pub trait WriteContext: ReadContext + Sync {
    /// Runs `f` (one operation: it checks before it writes) inside a
    /// write transaction. On a store, `f` may share that transaction with
    /// other threads' operations and run more than once (decision 0016):
    /// only the run whose transaction commits counts. It may run on the
    /// thread of the writer leading its group (decision 0025), hence
    /// `Send`; it must not read thread-locals or have effects outside the
    /// transaction.
    #[doc(hidden)]
    fn with_write<T: Send>(&self, f: impl FnMut(&WriteTx) -> Result<T> + Send) -> Result<T>;
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
        f(&*self.snapshot)
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
    fn with_write<T: Send>(&self, mut f: impl FnMut(&WriteTx) -> Result<T> + Send) -> Result<T> {
        f(self)
    }

    fn options(&self) -> &Options {
        &self.options
    }

    fn in_transaction(&self) -> bool {
        true
    }
}
