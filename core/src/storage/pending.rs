//! The index changes of a write transaction not yet written (SPEC §11):
//! posting changes gathered per term and chunk, and ordered-index keys to
//! insert or remove, gathered per table in key order; and the roles the
//! transaction's writes found, so each is read once. [`Pending::flush`]
//! writes them, each posting chunk once and each table's keys in order;
//! the transaction flushes before its own reads, before its commit, and
//! whenever the gathered changes grow past a bound (a long import).

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::RandomState;
use std::sync::{Mutex, PoisonError};

use redb::{ReadableTable, TableHandle, WriteTransaction};
use roaring::RoaringBitmap;

use crate::Result;
use crate::storage::entity::MultiKey;
use crate::storage::index::PostingKey;
use crate::storage::postings::{PostingTable, chunk_key, decode, encode, slot, split};
use crate::storage::schema::MultiTable;

/// Gathered changes past which a transaction writes them out before going on.
const FLUSH_AT: usize = 1 << 21;

/// The posting changes of one chunk: ids to add and ids to remove.
#[derive(Default)]
struct Delta {
    add: RoaringBitmap,
    remove: RoaringBitmap,
}

/// One posting table's pending changes: term → (chunk, changes) pairs.
struct TableChanges {
    slot: usize,
    table: PostingTable,
    /// Keyed by a per-process seeded foldhash: terms come from user text,
    /// so the seed keeps crafted terms from colliding on purpose.
    terms: HashMap<Vec<u8>, Vec<(u64, Delta)>, RandomState>,
}

impl TableChanges {
    /// Notes that `id` gains (`add`) or loses `term`.
    fn change(&mut self, term: &[u8], id: u64, add: bool) {
        let (chunk, low) = split(id);
        let chunks = match self.terms.get_mut(term) {
            Some(chunks) => chunks,
            None => self.terms.entry(term.to_vec()).or_default(),
        };
        let delta = match chunks.iter().position(|(c, _)| *c == chunk) {
            Some(at) => chunks.get_mut(at).map(|(_, d)| d),
            None => {
                chunks.push((chunk, Delta::default()));
                chunks.last_mut().map(|(_, d)| d)
            }
        };
        let Some(delta) = delta else {
            return;
        };
        let (gains, loses) = if add {
            (&mut delta.add, &mut delta.remove)
        } else {
            (&mut delta.remove, &mut delta.add)
        };
        if !loses.is_empty() {
            loses.remove(low);
        }
        // Ids mostly arrive in ascending order: appending is the cheap case.
        if gains.try_push(low).is_err() {
            gains.insert(low);
        }
    }
}

/// An open posting table.
type OpenTable<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

/// The position of an ordered-index table in `schema::MULTI_TABLES` (past
/// the end for another table), which tells tables apart.
fn multi_slot(table: &MultiTable) -> usize {
    let name = table.name();
    crate::storage::schema::MULTI_TABLES
        .iter()
        .position(|t| t.name() == name)
        .unwrap_or(usize::MAX)
}

/// The index changes a write transaction has made and not yet written:
/// posting changes per table (a handful), per term, per chunk; ordered
/// keys per table, in key order (true: insert, false: remove).
#[derive(Default)]
pub struct Pending {
    changes: Mutex<Vec<TableChanges>>,
    ordered: Mutex<Ordered>,
    /// Roles the transaction's writes found, each with its tenant, so that
    /// a long import reads each held role once (a role's tenant never
    /// changes; a deleted role is forgotten).
    roles: Mutex<HashMap<u64, Option<String>>>,
}

/// Ordered-index keys to write: per table (by name), key → insert or remove.
#[derive(Default)]
struct Ordered {
    tables: BTreeMap<usize, (MultiTable, BTreeMap<Vec<u8>, bool>)>,
    /// Gathered changes (posting and ordered) since the last flush.
    gathered: usize,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}

/// The changes of `table` among `changes`, added when missing.
fn table_changes(changes: &mut Vec<TableChanges>, slot: usize, table: PostingTable) -> usize {
    match changes.iter().position(|t| t.slot == slot) {
        Some(at) => at,
        None => {
            changes.push(TableChanges {
                slot,
                table,
                terms: HashMap::default(),
            });
            changes.len().saturating_sub(1)
        }
    }
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
        let changes = &mut *changes;
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
        let mut ordered = self.ordered.lock().unwrap_or_else(PoisonError::into_inner);
        ordered.gathered = ordered.gathered.saturating_add(count);
    }

    /// Notes, under one lock, that the ordered indexes gain (`insert`) or
    /// lose each of `keys`.
    pub(crate) fn ordered_all(&self, keys: Vec<MultiKey>, insert: bool) {
        let mut ordered = self.ordered.lock().unwrap_or_else(PoisonError::into_inner);
        let ordered = &mut *ordered;
        ordered.gathered = ordered.gathered.saturating_add(keys.len());
        // A run of keys of one table looks its slot up once: the same
        // name (the same bytes at the same place) is the same table.
        let mut current: Option<((*const u8, usize), usize)> = None;
        for key in keys {
            let name = key.table.name();
            let name = (name.as_ptr(), name.len());
            let slot = match current {
                Some((n, slot)) if n == name => slot,
                _ => multi_slot(&key.table),
            };
            current = Some((name, slot));
            ordered
                .tables
                .entry(slot)
                .or_insert_with(|| (key.table, BTreeMap::new()))
                .1
                .insert(key.key, insert);
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
    /// changed and written (or removed once empty) once.
    ///
    /// Errors: `Storage` when a table cannot be written, `Internal` when a
    /// stored bitmap does not decode.
    pub(crate) fn flush(&self, txn: &WriteTransaction) -> Result<()> {
        let ordered =
            std::mem::take(&mut *self.ordered.lock().unwrap_or_else(PoisonError::into_inner));
        for (_, (def, keys)) in ordered.tables {
            let mut table = txn.open_table(def)?;
            // Run counts follow the keys that came and went (format 6).
            let mut counts = crate::storage::run_counts::CountDeltas::of(&def);
            for (key, insert) in keys {
                let changed = if insert {
                    table.insert(key.as_slice(), ())?.is_none()
                } else {
                    table.remove(key.as_slice())?.is_some()
                };
                if let Some(counts) = counts.as_mut().filter(|_| changed) {
                    counts.note(&key, if insert { 1 } else { -1 });
                }
            }
            if let Some(counts) = counts {
                counts.write(txn)?;
            }
        }
        let mut changes =
            std::mem::take(&mut *self.changes.lock().unwrap_or_else(PoisonError::into_inner));
        changes.sort_by_key(|t| t.slot);
        for pending in changes {
            let mut entries: Vec<(Vec<u8>, Delta)> = pending
                .terms
                .into_iter()
                .flat_map(|(term, chunks)| {
                    chunks
                        .into_iter()
                        .map(move |(chunk, delta)| (chunk_key(&term, chunk), delta))
                })
                .collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let mut table: OpenTable<'_> = txn.open_table(pending.table)?;
            let name = pending.table.name();
            for (key, delta) in entries {
                // A chunk not stored yet is just the ids added to it.
                let bitmap = match table.get(key.as_slice())? {
                    Some(stored) => {
                        let mut bitmap = decode(name, stored.value())?;
                        std::ops::SubAssign::sub_assign(&mut bitmap, &delta.remove);
                        bitmap |= delta.add;
                        bitmap
                    }
                    None => delta.add,
                };
                if bitmap.is_empty() {
                    table.remove(key.as_slice())?;
                } else {
                    table.insert(key.as_slice(), encode(&bitmap)?.as_slice())?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::postings::read;
    use redb::{ReadableTableMetadata, TableDefinition};

    #[test]
    fn the_last_change_of_an_id_wins_and_empty_chunks_go() {
        const T: PostingTable = TableDefinition::new("post.test");
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
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
}
