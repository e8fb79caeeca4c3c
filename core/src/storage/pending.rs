//! The writes of a write transaction not yet made (docs/reference/storage.md): posting
//! changes gathered per term and chunk; ordered-index keys to insert or
//! remove, gathered per table; the id counters and change-log entries its
//! creates moved on; and the roles the transaction's writes found, so each
//! is read once. [`Pending::flush`] writes them, each posting chunk once,
//! each table's keys sorted and the change log in order; the transaction
//! flushes before its own reads, before its commit, and whenever the
//! gathered changes grow past a bound (a long import).
//!
//! A bulk import is the case this is shaped for: its posting changes are
//! appended to one flat list per table (`storage::term_notes`), grouped by
//! term at the flush; its keys are appended to one byte buffer per table,
//! sorted once at the flush and written a run at a time through a cursor
//! that splices each run into the table leaf by leaf.

use std::collections::HashMap;

use std::sync::{Mutex, PoisonError};

use redb::{ReadableTable, TableHandle, WriteTransaction};

use crate::storage::entity::MultiKey;
use crate::storage::index::PostingKey;
use crate::storage::postings::{PostingTable, decode, encode, slot};
use crate::storage::schema::{CHANGES, META, MULTI_TABLES, MultiTable};
use crate::storage::sorted_writes::{SMALL_RUN, append_u64, insert_new, insert_run};
use crate::storage::term_notes::{ChunkChange, ChunkChanges, TermNotes, encode_lows};
use crate::storage::wal::journal::Journal;
use crate::{Error, Result};

/// Gathered changes past which a transaction writes them out before going
/// on: some 100,000 imported users (~80 changes each), ~150 MB gathered.
/// Each flush into tables already holding keys writes them one gap at a
/// time, so fewer, larger flushes make a long import cheaper.
const FLUSH_AT: usize = 1 << 23;

/// Posting changes from which a flush groups them by chunk on a second
/// thread while it writes the ordered keys.
const GROUP_APART: usize = 1 << 16;

/// The room made for each change-log entry of a bulk insert, in bytes:
/// an entry without a tenant takes some 20.
const CHANGE_BYTES: usize = 32;

/// A posting chunk's write at a flush: its key, its new value's range in
/// the flush's value buffer (`None`: remove it), whether it is stored.
type ChunkWrite<'k> = (&'k [u8], Option<(usize, usize)>, bool);

/// An open posting table.
type OpenTable<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

/// The position of an ordered-index table in `schema::MULTI_TABLES` (past
/// the end for another table), which tells tables apart.
pub(crate) fn multi_slot(table: &MultiTable) -> usize {
    let name = table.name();
    MULTI_TABLES
        .iter()
        .position(|t| t.name() == name)
        .unwrap_or(usize::MAX)
}

/// The index changes a write transaction has made and not yet written:
/// posting changes per table (a handful), per term, per chunk; ordered
/// keys per table; id counters and change-log entries.
#[derive(Default)]
pub struct Pending {
    changes: Mutex<Vec<TermNotes>>,
    ordered: Mutex<Ordered>,
    /// Roles the transaction's writes found, each with its tenant, so that
    /// a long import reads each held role once (a role's tenant never
    /// changes; a deleted role is forgotten).
    roles: Mutex<HashMap<u64, Option<String>>>,
    /// The id counters the transaction read or moved.
    counters: Mutex<Vec<Counter>>,
    /// The change-log entries appended and not yet written.
    log: Mutex<Log>,
    /// Set when a flush failed part-way: what it had taken is gone, so the
    /// transaction may no longer flush or commit (it can only roll back).
    broken: std::sync::atomic::AtomicBool,
    /// Every table write of the transaction, for the write-ahead log
    /// (recording only when the store keeps one; decision 0018).
    pub(crate) journal: Journal,
}

/// An id counter of the meta table as the transaction sees it.
struct Counter {
    key: &'static str,
    value: u64,
    /// Whether `value` is not written yet.
    moved: bool,
}

/// Change-log entries appended and not yet written, and the last sequence
/// number handed out (once the transaction has read or made one).
#[derive(Default)]
struct Log {
    last: Option<u64>,
    /// The encoded entries, one after the other.
    bytes: Vec<u8>,
    /// (sequence number, end of its entry in `bytes`), in order.
    entries: Vec<(u64, usize)>,
}

/// Ordered-index keys to write: per table, by its place in `MULTI_TABLES`
/// (a table outside it, none today, after them). A transaction keeps one;
/// a bulk insert gathers others on a second thread
/// ([`Pending::append_ordered`]).
#[derive(Default)]
pub(crate) struct Ordered {
    tables: Vec<Option<OrderedTable>>,
    /// Gathered changes (posting and ordered) since the last flush.
    gathered: usize,
}

/// One table's keys to write, in the order noted.
struct OrderedTable {
    table: MultiTable,
    /// The keys, one after the other.
    bytes: Vec<u8>,
    /// (start in `bytes`, length, insert (true) or remove), in the order noted.
    keys: Vec<(usize, usize, bool)>,
}

impl Ordered {
    /// Notes that the table at `slot` of `MULTI_TABLES` (`table`) gains
    /// (`insert`) or loses `key`.
    pub(crate) fn note(&mut self, slot: usize, table: MultiTable, key: &[u8], insert: bool) {
        self.gathered = self.gathered.saturating_add(1);
        let slot = if slot < MULTI_TABLES.len() {
            slot
        } else {
            let name = table.name();
            (MULTI_TABLES.len()..self.tables.len())
                .find(|&at| matches!(self.tables.get(at), Some(Some(t)) if t.table.name() == name))
                .unwrap_or_else(|| self.tables.len().max(MULTI_TABLES.len()))
        };
        if self.tables.len() <= slot {
            self.tables.resize_with(slot.saturating_add(1), || None);
        }
        let Some(entry) = self.tables.get_mut(slot) else {
            return;
        };
        let pending = entry.get_or_insert_with(|| OrderedTable {
            table,
            bytes: Vec::new(),
            keys: Vec::new(),
        });
        let start = pending.bytes.len();
        pending.bytes.extend_from_slice(key);
        pending.keys.push((start, key.len(), insert));
    }

    /// Makes room in each table for the keys of `total` records, judged
    /// from those of the `noted` records noted so far (a quarter more, for
    /// longer texts): a bulk insert's keys then grow no buffer, nor does
    /// appending the keys another thread gathered for the rest of the
    /// records ([`Pending::append_ordered`]).
    pub(crate) fn reserve_for(&mut self, noted: usize, total: usize) {
        if noted == 0 || total <= noted {
            return;
        }
        let grown = |len: usize| {
            let each = len.checked_div(noted).unwrap_or(0).saturating_add(1);
            let each = each.saturating_add(each.checked_div(4).unwrap_or(0));
            each.saturating_mul(total)
        };
        for table in self.tables.iter_mut().flatten() {
            let bytes = grown(table.bytes.len()).saturating_sub(table.bytes.len());
            let keys = grown(table.keys.len()).saturating_sub(table.keys.len());
            table.bytes.reserve(bytes);
            table.keys.reserve(keys);
        }
    }

    /// Sorts each table's keys as its write does (of equal keys, the
    /// last noted stays last), so that the write finds them sorted: what
    /// the thread gathering a bulk insert's keys does before handing
    /// them over.
    pub(crate) fn sort(&mut self) {
        for table in self.tables.iter_mut().flatten() {
            table.sort();
        }
    }

    /// Appends the keys of `other` after this one's, in their order.
    fn append(&mut self, other: Ordered) {
        let gathered = self.gathered.saturating_add(other.gathered);
        let known = MULTI_TABLES.len().min(other.tables.len());
        if self.tables.len() < known {
            self.tables.resize_with(known, || None);
        }
        for (at, theirs) in other.tables.into_iter().enumerate() {
            let Some(theirs) = theirs else {
                continue;
            };
            if at >= MULTI_TABLES.len() {
                // Tables outside `MULTI_TABLES` are placed by name.
                for &(start, len, insert) in &theirs.keys {
                    let key = theirs
                        .bytes
                        .get(start..start.saturating_add(len))
                        .unwrap_or_default();
                    self.note(at, theirs.table, key, insert);
                }
                continue;
            }
            let Some(entry) = self.tables.get_mut(at) else {
                continue;
            };
            match entry {
                None => *entry = Some(theirs),
                Some(ours) => {
                    let shift = ours.bytes.len();
                    ours.bytes.extend_from_slice(&theirs.bytes);
                    ours.keys.extend(
                        theirs.keys.iter().map(|&(start, len, insert)| {
                            (start.saturating_add(shift), len, insert)
                        }),
                    );
                }
            }
        }
        self.gathered = gathered;
    }
}

impl OrderedTable {
    /// Sorts the keys by their bytes; of equal keys, the last noted stays
    /// last (its place in `bytes` breaks the tie). Keys noted in order
    /// (ids ascending under one value) need no sort.
    fn sort(&mut self) {
        let bytes = &self.bytes;
        let key = |&(start, len, _): &(usize, usize, bool)| {
            bytes
                .get(start..start.saturating_add(len))
                .unwrap_or_default()
        };
        if !self.keys.is_sorted_by(|a, b| key(a) <= key(b)) {
            // A stable sort, though the place in `bytes` already orders
            // equal keys: it merges runs sorted apart (a bulk insert's
            // keys, gathered by two threads) in one pass.
            self.keys
                .sort_by(|a, b| key(a).cmp(key(b)).then(a.0.cmp(&b.0)));
        }
    }

    /// Writes the keys to `txn`'s table in key order, each once: of the
    /// changes noted to one key, the last wins.
    fn write(mut self, txn: &WriteTransaction, journal: &Journal) -> Result<()> {
        self.sort();
        let bytes = &self.bytes;
        let key = |&(start, len, _): &(usize, usize, bool)| {
            bytes
                .get(start..start.saturating_add(len))
                .unwrap_or_default()
        };
        let mut table = txn.open_table(self.table)?;
        // Run counts follow the keys that came and went (format 6).
        let mut counts = crate::storage::run_counts::CountDeltas::of(&self.table);
        // Of the changes noted to one key, the last wins.
        let last: Vec<(&[u8], bool)> = {
            let mut at = self.keys.iter().peekable();
            let mut out = Vec::with_capacity(self.keys.len());
            while let Some(entry) = at.next() {
                let k = key(entry);
                if at.peek().is_none_or(|next| key(next) != k) {
                    out.push((k, entry.2));
                }
            }
            out
        };
        // Cursors pay off only for longer runs.
        let few = last.len() <= SMALL_RUN;
        let mut at = 0;
        while let Some(&(k, insert)) = last.get(at) {
            if !insert {
                journal.remove(&self.table, &k);
                if table.remove(k)?.is_some()
                    && let Some(counts) = counts.as_mut()
                {
                    counts.note(k, -1);
                }
                at = at.saturating_add(1);
                continue;
            }
            let added = if few {
                // A small transaction's few keys: one insert each.
                let added = table.insert(k, ())?.is_none();
                if added {
                    journal.insert(&self.table, &k, &());
                }
                usize::from(added)
            } else {
                // A run of inserts that fall in one gap of the table goes
                // in through one cursor, which splices them leaf by leaf.
                let run = last
                    .get(at..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|(_, insert)| *insert);
                let run = run.map(|&(k, _)| (k, ()));
                let log = (journal, self.table);
                insert_run(&mut table, log, run, "an ordered-index flush")?
            };
            if added == 0 {
                // The first key is stored already: nothing changes.
                at = at.saturating_add(1);
                continue;
            }
            if let Some(counts) = counts.as_mut() {
                for &(k, _) in last.get(at..at.saturating_add(added)).unwrap_or_default() {
                    counts.note(k, 1);
                }
            }
            at = at.saturating_add(added);
        }
        if let Some(counts) = counts {
            counts.write(txn, journal)?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}

/// The changes of `table` among `changes`, added when missing.
fn table_changes(changes: &mut Vec<TermNotes>, slot: usize, table: PostingTable) -> usize {
    match changes.iter().position(|t| t.slot == slot) {
        Some(at) => at,
        None => {
            changes.push(TermNotes::new(slot, table));
            changes.len().saturating_sub(1)
        }
    }
}

/// Notes into `changes` that `id` gains (`add`) or loses each term
/// `visit` gives (table, the table's slot, term); returns how many.
pub(crate) fn note_into(
    changes: &mut Vec<TermNotes>,
    id: u64,
    add: bool,
    visit: impl FnOnce(&mut dyn FnMut(PostingTable, usize, &[u8])),
) -> usize {
    let mut current: Option<(usize, usize)> = None;
    let mut count: usize = 0;
    visit(&mut |table, slot, term| {
        let at = match current {
            Some((s, at)) if s == slot => at,
            _ => table_changes(changes, slot, table),
        };
        current = Some((slot, at));
        if let Some(table) = changes.get_mut(at) {
            table.change(term, id, add);
        }
        count = count.saturating_add(1);
    });
    count
}

/// Takes what a mutex guards, leaving its default (a poisoned lock's too).
fn take<T: Default>(lock: &Mutex<T>) -> T {
    std::mem::take(&mut *lock.lock().unwrap_or_else(PoisonError::into_inner))
}

impl Pending {
    /// Whether `role`, as found earlier in the transaction, exists in
    /// `tenant`: `None` when the transaction has not found it yet.
    pub(crate) fn role_in(&self, role: u64, tenant: Option<&str>) -> Option<bool> {
        let roles = self.roles.lock().unwrap_or_else(PoisonError::into_inner);
        roles.get(&role).map(|t| t.as_deref() == tenant)
    }

    /// Remembers that `role` exists, in `tenant`.
    pub(crate) fn remember_role(&self, role: u64, tenant: Option<String>) {
        let mut roles = self.roles.lock().unwrap_or_else(PoisonError::into_inner);
        roles.insert(role, tenant);
    }

    /// Forgets `role` (it is being deleted).
    pub(crate) fn forget_role(&self, role: u64) {
        let mut roles = self.roles.lock().unwrap_or_else(PoisonError::into_inner);
        roles.remove(&role);
    }

    /// Whether the gathered changes have grown past the bound at which
    /// they are written out before the transaction goes on.
    pub(crate) fn is_large(&self) -> bool {
        self.ordered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .gathered
            > FLUSH_AT
    }

    /// The id counter `key` of the meta table as the transaction sees it
    /// (0 when never set): read from `txn` once, then kept.
    ///
    /// Errors: `Storage` when the meta table cannot be read.
    pub(crate) fn id_counter(&self, txn: &WriteTransaction, key: &'static str) -> Result<u64> {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = counters.iter().find(|c| c.key == key) {
            return Ok(c.value);
        }
        let value = crate::storage::tx::Tables::meta(txn, key)?.unwrap_or(0);
        counters.push(Counter {
            key,
            value,
            moved: false,
        });
        Ok(value)
    }

    /// Moves the id counter `key` to `value`, written at the next flush.
    pub(crate) fn set_id_counter(&self, key: &'static str, value: u64) {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        match counters.iter_mut().find(|c| c.key == key) {
            Some(c) => {
                c.value = value;
                c.moved = true;
            }
            None => counters.push(Counter {
                key,
                value,
                moved: true,
            }),
        }
    }

    /// Appends a change-log entry (encoded by `encode` into the buffer it
    /// is given) under the next sequence number, written at the next
    /// flush: the number after the log's last key, read from `txn` once
    /// (`fallback` when the log is empty), then counted on.
    ///
    /// Errors: `Storage` when the log cannot be read, `Internal` when the
    /// sequence numbers are exhausted, and what `encode` raises.
    pub(crate) fn append_change(
        &self,
        txn: &WriteTransaction,
        fallback: impl FnOnce() -> Result<u64>,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let last = match log.last {
            Some(last) => last,
            None => match txn.open_table(CHANGES)?.last()? {
                Some((seq, _)) => seq.value(),
                None => fallback()?,
            },
        };
        let seq = last
            .checked_add(1)
            .ok_or_else(|| Error::internal("the change log's sequence numbers are exhausted"))?;
        let start = log.bytes.len();
        if let Err(e) = encode(&mut log.bytes) {
            log.bytes.truncate(start);
            return Err(e);
        }
        let end = log.bytes.len();
        log.entries.push((seq, end));
        log.last = Some(seq);
        drop(log);
        let mut ordered = self.ordered.lock().unwrap_or_else(PoisonError::into_inner);
        ordered.gathered = ordered.gathered.saturating_add(1);
        Ok(())
    }

    /// Makes room in the ordered keys for those of a bulk insert's next
    /// `rest` records, judged from the `noted` records whose keys wait
    /// unwritten (with any the transaction gathered before them, which
    /// only enlarge the room): as many records as fit under the bound at
    /// which gathered changes are written out. The keys then grow no
    /// buffer as each slice's are appended (room already made is kept),
    /// and memory is touched only as keys fill it.
    pub(crate) fn reserve_ordered(&self, noted: usize, rest: usize) {
        let mut ordered = self.ordered.lock().unwrap_or_else(PoisonError::into_inner);
        let each = ordered
            .gathered
            .checked_div(noted)
            .unwrap_or(0)
            .saturating_add(1);
        let until_flush = FLUSH_AT
            .saturating_sub(ordered.gathered)
            .checked_div(each)
            .unwrap_or(0)
            .saturating_add(1);
        ordered.reserve_for(noted, noted.saturating_add(rest.min(until_flush)));
    }

    /// Makes room for `count` more change-log entries (a bulk insert's,
    /// one per record), so appending them grows no buffer.
    pub(crate) fn reserve_changes(&self, count: usize) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.entries.reserve(count);
        log.bytes.reserve(count.saturating_mul(CHANGE_BYTES));
    }

    /// Notes, under one lock, that `id` gains (`add`) or loses each term
    /// `visit` gives to the function it is called with (table, the table's
    /// slot, term); a term given twice counts once.
    pub(crate) fn note_terms(
        &self,
        id: u64,
        add: bool,
        visit: impl FnOnce(&mut dyn FnMut(PostingTable, usize, &[u8])),
    ) {
        let mut changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let count = note_into(&mut changes, id, add, visit);
        drop(changes);
        let mut ordered = self.ordered.lock().unwrap_or_else(PoisonError::into_inner);
        ordered.gathered = ordered.gathered.saturating_add(count);
    }

    /// Appends posting changes noted elsewhere (by [`note_into`], on
    /// another thread) after the transaction's own, in their order, with
    /// the `count` changes they hold (for the bound at which changes are
    /// written out). A table the transaction has no changes to yet takes
    /// them whole, without copying.
    pub(crate) fn append_terms(&self, terms: Vec<TermNotes>, count: usize) {
        let mut changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        for notes in terms {
            match changes.iter_mut().find(|t| t.slot == notes.slot) {
                Some(table) => table.absorb(notes),
                None => changes.push(notes),
            }
        }
        drop(changes);
        let mut ordered = self.ordered.lock().unwrap_or_else(PoisonError::into_inner);
        ordered.gathered = ordered.gathered.saturating_add(count);
    }

    /// Appends ordered-index keys noted elsewhere (on another thread)
    /// after the transaction's own, in their order; a table the
    /// transaction has no keys for yet takes them whole, without copying.
    pub(crate) fn append_ordered(&self, keys: Ordered) {
        let mut ordered = self.ordered.lock().unwrap_or_else(PoisonError::into_inner);
        ordered.append(keys);
    }

    /// Notes, under one lock, that the ordered indexes gain (`insert`) or
    /// lose each key `visit` gives to the function it is called with (the
    /// table's place in `schema::MULTI_TABLES`, the table, the key).
    pub(crate) fn note_ordered(
        &self,
        insert: bool,
        visit: impl FnOnce(&mut dyn FnMut(usize, MultiTable, &[u8])),
    ) {
        let mut ordered = self.ordered.lock().unwrap_or_else(PoisonError::into_inner);
        let ordered = &mut *ordered;
        visit(&mut |slot, table, key| ordered.note(slot, table, key, insert));
    }

    /// Notes, under one lock, that the ordered indexes gain (`insert`) or
    /// lose each of `keys`.
    pub(crate) fn ordered_all(&self, keys: Vec<MultiKey>, insert: bool) {
        let mut ordered = self.ordered.lock().unwrap_or_else(PoisonError::into_inner);
        for key in keys {
            ordered.note(multi_slot(&key.table), key.table, &key.key, insert);
        }
    }

    /// Notes, under one lock, that `id` gains the terms `added` and loses
    /// the terms `removed`.
    pub(crate) fn apply<'k>(
        &self,
        id: u64,
        added: impl IntoIterator<Item = &'k PostingKey>,
        removed: impl IntoIterator<Item = &'k PostingKey>,
    ) {
        let mut changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let changes = &mut *changes;
        let mut current: Option<(usize, usize)> = None;
        let mut count: usize = 0;
        let tagged = removed
            .into_iter()
            .map(|k| (k, false))
            .chain(added.into_iter().map(|k| (k, true)));
        for (key, add) in tagged {
            let at = match current {
                Some((slot, at)) if slot == key.slot => at,
                _ => table_changes(changes, key.slot, key.table.0),
            };
            current = Some((key.slot, at));
            if let Some(table) = changes.get_mut(at) {
                table.change(&key.term, id, add);
            }
            count = count.saturating_add(1);
        }
        let mut ordered = self.ordered.lock().unwrap_or_else(PoisonError::into_inner);
        ordered.gathered = ordered.gathered.saturating_add(count);
    }

    fn change(&self, table: PostingTable, term: &[u8], id: u64, add: bool) {
        let mut changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let at = table_changes(&mut changes, slot(&table), table);
        if let Some(table) = changes.get_mut(at) {
            table.change(term, id, add);
        }
    }

    /// Notes that `id` holds `term` in `table`.
    pub(crate) fn add(&self, table: PostingTable, term: &[u8], id: u64) {
        self.change(table, term, id, true);
    }

    /// Notes that `id` no longer holds `term` in `table`.
    #[cfg(test)]
    pub(crate) fn remove(&self, table: PostingTable, term: &[u8], id: u64) {
        self.change(table, term, id, false);
    }

    /// Writes every pending change to `txn`, table by table in key order:
    /// the ordered keys, then the postings, each touched chunk read,
    /// changed and written (or removed once empty) once; then the moved id
    /// counters and the appended change-log entries.
    ///
    /// Errors: `Storage` when a table cannot be written, `Internal` when a
    /// stored bitmap does not decode.
    ///
    /// A flush that fails leaves the transaction broken: every later flush
    /// (before a read, at commit) fails with `Internal`, so a caller that
    /// goes on after the error can only roll back, never commit a
    /// transaction whose index or change log lost the changes the failed
    /// flush had taken.
    pub(crate) fn flush(&self, txn: &WriteTransaction) -> Result<()> {
        use std::sync::atomic::Ordering;
        if self.broken.load(Ordering::Acquire) {
            return Err(Error::internal(
                "an earlier write of this transaction failed to reach its tables; \
                 roll the transaction back",
            ));
        }
        let flushed = self.flush_taken(txn);
        if flushed.is_err() {
            self.broken.store(true, Ordering::Release);
        }
        flushed
    }

    /// [`Pending::flush`]'s work: takes every gathered change and writes it.
    fn flush_taken(&self, txn: &WriteTransaction) -> Result<()> {
        let ordered = take(&self.ordered);
        let mut changes = take(&self.changes);
        changes.sort_by_key(|t| t.slot);
        let noted = changes
            .iter()
            .fold(0_usize, |n, t| n.saturating_add(t.noted()));
        let parallel =
            noted >= GROUP_APART && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
        // Many posting changes (a bulk import's) are grouped by chunk and
        // written on a second thread while this one writes the ordered
        // keys; that thread then writes ordered tables too.
        let postings = move || -> Result<()> {
            for t in changes {
                self.write_postings(txn, t.table, t.into_entries())?;
            }
            Ok(())
        };
        // Taken by the thread writing them; a thread that cannot start
        // leaves the work here.
        let work = Mutex::new(Some(postings));
        let run = || -> Result<()> {
            let postings = work.lock().unwrap_or_else(PoisonError::into_inner).take();
            postings.map_or_else(
                || Err(Error::internal("posting changes went missing")),
                |p| p(),
            )
        };
        // The ordered tables, the one with most keys last: each thread
        // takes the next (the largest left) until none is left, the
        // posting thread once it has written the postings, so that the
        // second core writes tables too. redb lets the tables of one
        // transaction be written on several threads at once
        // (cberner/redb#523); the journal keeps each table's changes in
        // their order, and no two of these tables share a count table.
        // A 1M-user build took 7% less time, a 10,000-user import 4%, with
        // the ordered tables shared (round 24).
        let mut tables: Vec<OrderedTable> = ordered.tables.into_iter().flatten().collect();
        tables.sort_by_key(|t| t.keys.len());
        let tables = Mutex::new(tables);
        let failed = std::sync::atomic::AtomicBool::new(false);
        let write_tables = || -> Result<()> {
            while !failed.load(std::sync::atomic::Ordering::Acquire) {
                let next = tables.lock().unwrap_or_else(PoisonError::into_inner).pop();
                let Some(table) = next else {
                    return Ok(());
                };
                if let Err(e) = table.write(txn, &self.journal) {
                    failed.store(true, std::sync::atomic::Ordering::Release);
                    return Err(e);
                }
            }
            Ok(())
        };
        std::thread::scope(|scope| -> Result<()> {
            let worker = parallel
                .then(|| {
                    std::thread::Builder::new()
                        .name("rosterdb-postings".into())
                        .spawn_scoped(scope, || {
                            let posted = run();
                            if posted.is_err() {
                                failed.store(true, std::sync::atomic::Ordering::Release);
                            }
                            (posted, write_tables())
                        })
                        .ok()
                })
                .flatten();
            let written = write_tables();
            // Joined before any error returns, so a failing thread is an
            // error, never a panic of the scope.
            let there = worker
                .map(|worker| {
                    worker
                        .join()
                        .map_err(|_| Error::internal("the thread writing posting changes failed"))
                })
                .transpose()?;
            written?;
            match there {
                Some((posted, written_there)) => posted.and(written_there),
                // No second thread: the postings after the ordered tables.
                None => run(),
            }
        })?;
        self.flush_counters(txn)?;
        self.flush_log(txn)
    }

    /// Writes the grouped changes of the posting table `table_def`: each
    /// touched chunk read, changed and written (or removed) once.
    fn write_postings(
        &self,
        txn: &WriteTransaction,
        table_def: PostingTable,
        chunks: ChunkChanges,
    ) -> Result<()> {
        let mut table: OpenTable<'_> = txn.open_table(table_def)?;
        let name = table_def.name();
        // The new value of each touched chunk (`None`: remove it),
        // and whether it is stored already.
        let mut values: Vec<u8> = Vec::new();
        let mut writes: Vec<ChunkWrite<'_>> = Vec::new();
        for (key, change) in chunks.iter() {
            let stored = match table.get(key)? {
                Some(stored) => Some(decode(name, stored.value())?),
                None => None,
            };
            let present = stored.is_some();
            let bitmap = match (stored, change) {
                // A chunk not stored yet is just the ids added to it.
                (None, ChunkChange::Added(lows)) => {
                    if let Some(encoded) = encode_lows(lows) {
                        let start = values.len();
                        values.extend_from_slice(&encoded);
                        writes.push((key, Some((start, values.len())), false));
                        continue;
                    }
                    lows.iter().map(|&l| u32::from(l)).collect()
                }
                (Some(mut bitmap), ChunkChange::Added(lows)) => {
                    bitmap.extend(lows.iter().map(|&l| u32::from(l)));
                    bitmap
                }
                (stored, ChunkChange::Delta(delta)) => {
                    let mut bitmap = stored.unwrap_or_default();
                    std::ops::SubAssign::sub_assign(&mut bitmap, &delta.remove);
                    bitmap |= &delta.add;
                    bitmap
                }
            };
            if bitmap.is_empty() {
                if present {
                    writes.push((key, None, true));
                }
            } else {
                let start = values.len();
                values.extend_from_slice(&encode(&bitmap)?);
                writes.push((key, Some((start, values.len())), present));
            }
        }
        // Runs of new chunks go in through a cursor; stored chunks
        // are replaced or removed one by one.
        let value = |range: (usize, usize)| values.get(range.0..range.1).unwrap_or_default();
        let mut run: Vec<(&[u8], &[u8])> = Vec::new();
        let log = (&self.journal, table_def);
        for (key, new, present) in writes {
            match (new, present) {
                (Some(range), false) => run.push((key, value(range))),
                (new, _) => {
                    insert_new(&mut table, log, &run, "a posting flush")?;
                    run.clear();
                    match new {
                        Some(range) => {
                            self.journal.insert(&table_def, &key, &value(range));
                            table.insert(key, value(range))?;
                        }
                        None => {
                            self.journal.remove(&table_def, &key);
                            table.remove(key)?;
                        }
                    }
                }
            }
        }
        insert_new(&mut table, log, &run, "a posting flush")?;
        Ok(())
    }

    /// Writes the id counters moved since the last flush.
    fn flush_counters(&self, txn: &WriteTransaction) -> Result<()> {
        let mut counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        if !counters.iter().any(|c| c.moved) {
            return Ok(());
        }
        let mut meta = txn.open_table(META)?;
        for c in counters.iter_mut().filter(|c| c.moved) {
            self.journal.insert(&META, &c.key, &c.value);
            meta.insert(c.key, c.value)?;
            c.moved = false;
        }
        Ok(())
    }

    /// Writes the change-log entries appended since the last flush, in
    /// order (the log's last number is kept for the next appends).
    fn flush_log(&self, txn: &WriteTransaction) -> Result<()> {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        if log.entries.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::take(&mut log.bytes);
        let entries = std::mem::take(&mut log.entries);
        drop(log);
        let mut table = txn.open_table(CHANGES)?;
        let mut start = 0;
        let entries = entries.into_iter().map(|(seq, end)| {
            let entry = bytes.get(start..end).unwrap_or_default();
            start = end;
            (seq, entry)
        });
        append_u64(
            &mut table,
            (&self.journal, CHANGES),
            entries,
            "a change-log flush",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::postings::{chunk_key, read};
    use redb::{ReadableTableMetadata, TableDefinition};

    /// The keys of an ordered table, in order.
    fn keys_of(txn: &WriteTransaction, def: MultiTable) -> Vec<Vec<u8>> {
        let t = txn.open_table(def).unwrap();
        t.iter()
            .unwrap()
            .map(|e| e.unwrap().0.value().to_vec())
            .collect()
    }

    fn memory_db() -> redb::Database {
        redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap()
    }

    #[test]
    fn the_last_change_of_an_id_wins_and_empty_chunks_go() {
        const T: PostingTable = TableDefinition::new("post.test");
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        let pending = Pending::default();
        pending.add(T, b"a", 1);
        pending.add(T, b"a", 2);
        pending.remove(T, b"a", 2);
        pending.add(T, b"b", 70_000);
        pending.flush(&txn).unwrap();
        let read_all = |txn: &WriteTransaction| read(txn, T, b"", None).unwrap();
        assert_eq!(read_all(&txn).iter().collect::<Vec<_>>(), [1, 70_000]);
        pending.remove(T, b"a", 1);
        pending.flush(&txn).unwrap();
        assert_eq!(read_all(&txn).iter().collect::<Vec<_>>(), [70_000]);
        assert_eq!(txn.open_table(T).unwrap().len().unwrap(), 1);
    }

    #[test]
    fn changes_gathered_apart_come_after_the_transactions_own() {
        const T: PostingTable = TableDefinition::new("post.test");
        const X: MultiTable = TableDefinition::new("idx.test.x");
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        let pending = Pending::default();
        let table = MULTI_TABLES[0];
        let at = multi_slot(&table);
        // The transaction's own: term "a" loses 1, gains 2; key "k1" goes.
        pending.add(T, b"a", 2);
        pending.remove(T, b"a", 1);
        pending.note_ordered(false, |note| {
            note(at, table, b"k1");
            note(multi_slot(&X), X, b"x1");
        });
        pending.note_ordered(true, |note| note(at, table, b"k2"));
        // Gathered apart, after: "a" gains 1 and loses 2; "k1" comes
        // back and "k2" goes; a table outside MULTI_TABLES is kept apart.
        let mut terms = Vec::new();
        let added = note_into(&mut terms, 1, true, |note| note(T, slot(&T), b"a"));
        let removed = note_into(&mut terms, 2, false, |note| note(T, slot(&T), b"a"));
        let mut ordered = Ordered::default();
        ordered.note(at, table, b"k2", false);
        ordered.note(at, table, b"k1", true);
        ordered.note(multi_slot(&X), X, b"x1", true);
        ordered.sort();
        pending.append_terms(terms, added + removed);
        pending.append_ordered(ordered);
        pending.flush(&txn).unwrap();
        let ids: Vec<u64> = read(&txn, T, b"a", None).unwrap().iter().collect();
        assert_eq!(ids, [1]);
        let keys = |def: MultiTable| keys_of(&txn, def);
        assert_eq!(keys(table), [b"k1".to_vec()]);
        assert_eq!(keys(X), [b"x1".to_vec()]);
    }

    /// Room made for the keys of more records holds them and the keys
    /// appended from elsewhere without growing, and changes no key.
    #[test]
    fn room_for_more_records_holds_their_keys() {
        let table = MULTI_TABLES[0];
        let at = multi_slot(&table);
        let key = |n: u32| format!("key{n:05}").into_bytes();
        let mut ours = Ordered::default();
        let mut theirs = Ordered::default();
        for n in 0..4 {
            ours.note(at, table, &key(n), true);
        }
        ours.reserve_for(4, 200);
        for n in 100..200 {
            theirs.note(at, table, &key(n), true);
        }
        let capacity = |o: &Ordered| {
            let t = o.tables.get(at).and_then(Option::as_ref).unwrap();
            (t.bytes.capacity(), t.keys.capacity())
        };
        let before = capacity(&ours);
        assert!(before.0 >= 200 * 8 && before.1 >= 200, "{before:?}");
        for n in 4..100 {
            ours.note(at, table, &key(n), true);
        }
        ours.append(theirs);
        assert_eq!(capacity(&ours), before);
        let t = ours.tables.get(at).and_then(Option::as_ref).unwrap();
        let noted: Vec<Vec<u8>> = t
            .keys
            .iter()
            .map(|&(start, len, _)| t.bytes[start..start + len].to_vec())
            .collect();
        assert_eq!(noted, (0..200).map(key).collect::<Vec<_>>());
        // No room is made from no records, nor for fewer than noted.
        let mut none = Ordered::default();
        none.reserve_for(0, 100);
        ours.reserve_for(300, 10);
        assert_eq!(capacity(&ours), before);
    }

    #[test]
    fn many_posting_changes_are_grouped_apart_and_written_alike() {
        const T: PostingTable = TableDefinition::new("post.test");
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        let pending = Pending::default();
        let terms: Vec<[u8; 2]> = (0..40_u8).map(|n| [b'a', n]).collect();
        let count = GROUP_APART / terms.len() + 10;
        for id in 1..=count as u64 {
            for term in &terms {
                pending.add(T, term, id * 3);
            }
            pending.add(T, b"u", id);
        }
        pending.note_ordered(true, |note| note(0, MULTI_TABLES[0], b"key"));
        pending.flush(&txn).unwrap();
        let want: Vec<u64> = (1..=count as u64).map(|id| id * 3).collect();
        for term in &terms {
            let end = crate::storage::keys::prefix_end(term);
            let ids: Vec<u64> = read(&txn, T, term, end.as_deref())
                .unwrap()
                .iter()
                .collect();
            assert!(ids == want, "term {term:?}: {} ids", ids.len());
        }
        let ids: Vec<u64> = read(&txn, T, b"u", None).unwrap().iter().collect();
        assert!(ids.iter().copied().eq(1..=count as u64));
    }

    /// Stores, in `post.test`, a first chunk of `term` that does not
    /// decode as a bitmap.
    fn store_bad_chunk(txn: &WriteTransaction, term: &[u8]) {
        const T: PostingTable = TableDefinition::new("post.test");
        txn.open_table(T)
            .unwrap()
            .insert(chunk_key(term, 0).as_slice(), b"not a bitmap".as_slice())
            .unwrap();
    }

    #[test]
    fn a_failed_flush_breaks_the_transaction_for_every_later_flush() {
        const T: PostingTable = TableDefinition::new("post.test");
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        store_bad_chunk(&txn, b"a");
        let pending = Pending::default();
        pending.add(T, b"a", 1);
        pending.add(T, b"b", 2);
        let first = pending.flush(&txn).unwrap_err();
        assert!(matches!(first, Error::Internal { .. }), "{first:?}");
        // What the failed flush had taken is gone: nothing more may be
        // written or committed from this transaction, even with nothing
        // left to flush.
        let again = pending.flush(&txn).unwrap_err();
        assert!(
            again.to_string().contains("roll the transaction back"),
            "{again}"
        );
        pending.add(T, b"c", 3);
        assert!(pending.flush(&txn).is_err());
    }

    #[test]
    fn additions_out_of_order_repeated_across_chunks_and_then_removed_all_count() {
        const T: PostingTable = TableDefinition::new("post.test");
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        let pending = Pending::default();
        let long = [b'x'; 40];
        for id in [5, 3, 5, 9, 3, 65_536 * 2 + 1, 7] {
            pending.add(T, b"t", id);
            pending.add(T, &long, id);
        }
        for id in [1, 2, 65_537, 65_537, 131_073] {
            pending.add(T, b"v", id);
            pending.add(T, b"w", id);
        }
        pending.remove(T, b"w", 2);
        pending.add(T, b"w", 70_000);
        pending.add(T, b"u", 4);
        pending.add(T, b"u", 2);
        pending.remove(T, b"u", 4);
        for id in [1, 2, 65_537, 65_537, 131_073] {
            pending.add(T, b"v", id);
            pending.add(T, b"w", id);
        }
        pending.remove(T, b"w", 2);
        pending.add(T, b"w", 70_000);
        pending.add(T, b"u", 4);
        pending.remove(T, b"u", 2);
        pending.flush(&txn).unwrap();
        let ids = |term: &[u8]| {
            let end = crate::storage::keys::prefix_end(term);
            let set = read(&txn, T, term, end.as_deref()).unwrap();
            set.iter().collect::<Vec<_>>()
        };
        assert_eq!(ids(b"t"), [3, 5, 7, 9, 131_073]);
        assert_eq!(ids(&long), [3, 5, 7, 9, 131_073]);
        assert_eq!(ids(b"u"), [4]);
        assert_eq!(ids(b"v"), [1, 2, 65_537, 131_073]);
        assert_eq!(ids(b"w"), [1, 65_537, 70_000, 131_073]);
    }

    /// Notes `GROUP_APART` posting changes, so that a flush groups them
    /// on a second thread, which then writes ordered tables too.
    fn enough_to_flush_apart(pending: &Pending) {
        const T: PostingTable = TableDefinition::new("post.test");
        for id in 1..=GROUP_APART as u64 {
            pending.add(T, b"t", id);
        }
    }

    #[test]
    fn ordered_tables_written_by_two_threads_hold_every_key() {
        let tables: Vec<MultiTable> = (0..7)
            .map(|n| {
                TableDefinition::new(
                    [
                        "idx.t0", "idx.t1", "idx.t2", "idx.t3", "idx.t4", "idx.t5", "idx.t6",
                    ][n],
                )
            })
            .collect();
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        let pending = Pending::default();
        enough_to_flush_apart(&pending);
        // Tables of different sizes, keys noted out of order.
        let keys = |n: usize| -> Vec<Vec<u8>> {
            (0..(n + 1) * 3_000)
                .map(|k| format!("{:06}", (k * 7_919) % ((n + 1) * 3_000)).into_bytes())
                .collect()
        };
        pending.note_ordered(true, |note| {
            for (n, table) in tables.iter().enumerate() {
                for key in keys(n) {
                    note(multi_slot(table), *table, &key);
                }
            }
        });
        pending.flush(&txn).unwrap();
        for (n, table) in tables.iter().enumerate() {
            let mut want = keys(n);
            want.sort();
            assert_eq!(keys_of(&txn, *table), want, "{}", table.name());
        }
    }

    #[test]
    fn a_table_failing_on_either_thread_fails_the_flush() {
        let good: MultiTable = TableDefinition::new("idx.good");
        let bad: MultiTable = TableDefinition::new("idx.bad");
        for bad_is_large in [true, false] {
            let db = memory_db();
            let txn = db.begin_write().unwrap();
            // A table of that name but other types: opening it fails.
            const OTHER: TableDefinition<'static, u64, u64> = TableDefinition::new("idx.bad");
            txn.open_table(OTHER).unwrap().insert(1, 1).unwrap();
            let pending = Pending::default();
            enough_to_flush_apart(&pending);
            let (large, small) = if bad_is_large {
                (bad, good)
            } else {
                (good, bad)
            };
            // This thread takes the large table first; the other, once
            // it has written the postings, the small one, unless this one
            // is done first (then it fails here): either way the flush
            // must fail. In practice the small one fails on the other
            // thread: dropping that thread's error fails this test.
            pending.note_ordered(true, |note| {
                for k in 0..200_000_u32 {
                    note(multi_slot(&large), large, &k.to_be_bytes());
                }
                note(multi_slot(&small), small, b"one");
            });
            let failed = pending.flush(&txn).unwrap_err();
            assert!(matches!(failed, Error::Storage { .. }), "{failed:?}");
            assert!(pending.flush(&txn).is_err());
        }
    }

    #[test]
    fn a_posting_table_failing_on_the_second_thread_fails_the_flush() {
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        store_bad_chunk(&txn, b"t");
        let pending = Pending::default();
        enough_to_flush_apart(&pending);
        let table = MULTI_TABLES[0];
        pending.note_ordered(true, |note| {
            for k in 0..5_000_u32 {
                note(multi_slot(&table), table, &k.to_be_bytes());
            }
        });
        let failed = pending.flush(&txn).unwrap_err();
        assert!(matches!(failed, Error::Internal { .. }), "{failed:?}");
        assert!(pending.flush(&txn).is_err());
    }

    #[test]
    fn ordered_keys_of_tables_outside_multi_tables_go_to_their_own_table() {
        const X: MultiTable = TableDefinition::new("idx.test.x");
        const Y: MultiTable = TableDefinition::new("idx.test.y");
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        let pending = Pending::default();
        pending.note_ordered(true, |note| {
            note(multi_slot(&X), X, b"x2");
            note(multi_slot(&Y), Y, b"y1");
            note(multi_slot(&X), X, b"x1");
        });
        pending.note_ordered(false, |note| note(multi_slot(&X), X, b"x2"));
        pending.flush(&txn).unwrap();
        let keys = |def: MultiTable| keys_of(&txn, def);
        assert_eq!(keys(X), [b"x1".to_vec()]);
        assert_eq!(keys(Y), [b"y1".to_vec()]);
    }

    #[test]
    fn ordered_keys_are_written_once_the_last_change_winning() {
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        let pending = Pending::default();
        let table = MULTI_TABLES[0];
        let slot = multi_slot(&table);
        pending.note_ordered(true, |note| {
            for key in [&b"c"[..], b"a", b"b", b"a"] {
                note(slot, table, key);
            }
        });
        pending.note_ordered(false, |note| note(slot, table, b"b"));
        pending.flush(&txn).unwrap();
        let t = txn.open_table(table).unwrap();
        let keys: Vec<Vec<u8>> = t
            .iter()
            .unwrap()
            .map(|e| e.unwrap().0.value().to_vec())
            .collect();
        assert_eq!(keys, [b"a".to_vec(), b"c".to_vec()]);
    }

    #[test]
    fn counters_and_log_entries_wait_for_the_flush() {
        let db = memory_db();
        let txn = db.begin_write().unwrap();
        let pending = Pending::default();
        assert_eq!(pending.id_counter(&txn, "last_id.user").unwrap(), 0);
        pending.set_id_counter("last_id.user", 7);
        assert_eq!(pending.id_counter(&txn, "last_id.user").unwrap(), 7);
        for n in 0..3_u8 {
            pending
                .append_change(
                    &txn,
                    || Ok(10),
                    |out| {
                        out.push(n);
                        Ok(())
                    },
                )
                .unwrap();
        }
        let failed = pending.append_change(&txn, || Ok(0), |_| Err(Error::internal("no")));
        assert!(failed.is_err());
        assert_eq!(
            crate::storage::tx::Tables::meta(&txn, "last_id.user").unwrap(),
            None
        );
        pending.flush(&txn).unwrap();
        assert_eq!(
            crate::storage::tx::Tables::meta(&txn, "last_id.user").unwrap(),
            Some(7)
        );
        let log = txn.open_table(CHANGES).unwrap();
        let entries: Vec<(u64, Vec<u8>)> = log
            .iter()
            .unwrap()
            .map(|e| {
                let (k, v) = e.unwrap();
                (k.value(), v.value().to_vec())
            })
            .collect();
        assert_eq!(entries, [(11, vec![0]), (12, vec![1]), (13, vec![2])]);
    }
}
