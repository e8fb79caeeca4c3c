//! What the three record kinds have in common, and the record writes shared by
//! all of them: insert, update and remove with their index entries and
//! change-log entries, each checking everything before writing anything.

use redb::TableHandle;
use serde::Serialize;

use crate::documents::header::Header;
use crate::documents::record::Record;

use crate::storage::changelog::{self, ChangeOp};
use crate::storage::codec;
use crate::storage::index::FoldedTexts;
use crate::storage::keys::{Key, trailing_u64};
use crate::storage::schema::{MultiTable, RecordTable, UniqueTable};
use crate::storage::tx::{Tables, WriteTx};
use crate::storage::unique::{self, Owners, UniqueTables};
use crate::{EntityKind, Error, Result, Role, Secret, Timestamp};

/// One entry a record puts in a unique index.
#[doc(hidden)]
pub struct UniqueKey {
    pub(crate) table: UniqueTable,
    pub(crate) key: Vec<u8>,
    /// The document field reported when the key is taken.
    pub(crate) field: &'static str,
}

impl UniqueKey {
    /// The entry `key` in `table`, reported as `field` when taken.
    pub(crate) fn new(table: UniqueTable, field: &'static str, key: Key) -> UniqueKey {
        UniqueKey {
            table,
            key: key.into_bytes(),
            field,
        }
    }
}

/// One entry a record puts in a non-unique index.
#[doc(hidden)]
pub struct MultiKey {
    pub(crate) table: MultiTable,
    pub(crate) key: Vec<u8>,
}

/// A kind of record the store keeps: [`crate::User`], [`crate::Role`] or [`crate::Client`].
///
/// Sealed: only rosterdb implements it. Its items are the storage binding of
/// each kind and not part of the stable API; what a record holds is its
/// `Record`'s (`documents::record`).
pub trait Entity: crate::storage::tx::sealed::Sealed + Sized + Send + Sync {
    /// The kind, as the change log and errors name it.
    const KIND: EntityKind;
    /// The table its records live in.
    #[doc(hidden)]
    const TABLE: RecordTable;
    /// The stored form of a record.
    #[doc(hidden)]
    type Record: Record<Document = Self> + Send + Sync;

    /// The record's header: id, tenant, timestamps and version.
    #[doc(hidden)]
    fn header(record: &Self::Record) -> &Header {
        record.header()
    }
    /// The record's id.
    #[doc(hidden)]
    fn id(record: &Self::Record) -> u64 {
        record.header().id
    }
    /// The record's version.
    #[doc(hidden)]
    fn version(record: &Self::Record) -> u64 {
        record.header().version
    }
    /// The record's tenant.
    #[doc(hidden)]
    fn tenant(record: &Self::Record) -> Option<&str> {
        record.header().tenant.as_deref()
    }
    /// Marks the record changed at `now`: `version` + 1 and `updatedAt`.
    #[doc(hidden)]
    fn touch(record: &mut Self::Record, now: Timestamp) {
        record.header_mut().touch(now);
    }
    /// The role ids the record holds.
    #[doc(hidden)]
    fn held_roles(record: &Self::Record) -> &[u64] {
        record.held_roles()
    }
    /// Removes a role from the record; false when it did not hold it.
    #[doc(hidden)]
    fn drop_role(record: &mut Self::Record, role: u64) -> bool {
        let Some(roles) = record.roles_mut() else {
            return false;
        };
        let before = roles.len();
        roles.retain(|&id| id != role);
        roles.len() != before
    }
    /// Whether the record may log in (users and clients); sessions of a
    /// record that stops being enabled are revoked.
    #[doc(hidden)]
    fn enabled(record: &Self::Record) -> bool {
        record.enabled()
    }
    /// The stored credential hash, whose change ends the record's sessions.
    #[doc(hidden)]
    fn credential(record: &Self::Record) -> Option<&str> {
        record.credential()
    }
    /// The record's unique-index entries.
    #[doc(hidden)]
    fn unique_keys(record: &Self::Record) -> Vec<UniqueKey>;
    /// [`Entity::unique_keys`], taking each case-folded text from (or
    /// folding it into) `folded`, the cache the record's ordered keys and
    /// posting terms then reuse.
    #[doc(hidden)]
    fn unique_keys_folded(record: &Self::Record, folded: &mut FoldedTexts) -> Vec<UniqueKey> {
        let _ = folded;
        Self::unique_keys(record)
    }
    /// Whether `old` and `new` (the same record, updated) have the same
    /// [`Entity::unique_keys`], judged from the fields the keys are made
    /// of without making them; false when that cannot be told so.
    #[doc(hidden)]
    fn same_unique_keys(old: &Self::Record, new: &Self::Record) -> bool {
        let _ = (old, new);
        false
    }
    /// The public document of a record, as seen at `now`.
    #[doc(hidden)]
    fn document(record: &Self::Record, now: Timestamp) -> Result<Self> {
        Ok(record.document(now))
    }
    /// [`Entity::document`], made by moving the record's strings and
    /// lists into it (for a record that has no further use).
    #[doc(hidden)]
    fn into_document(record: Self::Record, now: Timestamp) -> Result<Self> {
        Ok(Record::into_document(record, now))
    }
}

/// A kind whose documents can be updated (patch, merge, replace): every
/// [`Entity`], its document serializable and its record rebuilt from its
/// input form (`Record::rebuilt`).
pub trait Editable: Entity + Serialize {
    /// Takes a new password (plaintext) out of an input, if it carries one.
    #[doc(hidden)]
    fn take_password(new: &mut New<Self>) -> Option<Secret>;
    /// The record `old` becomes with the writable fields of `new`; the
    /// store's own fields (id, timestamps, version, secrets) are kept, and
    /// `password_hash`, when given, replaces the stored one.
    #[doc(hidden)]
    fn rebuild(old: &Self::Record, new: New<Self>, password_hash: Option<String>) -> Self::Record;
}

/// The input form of kind `E` (e.g. [`crate::NewUser`]).
type New<E> = <<E as Entity>::Record as Record>::New;

impl<E: Entity + Serialize> Editable for E {
    fn take_password(new: &mut New<E>) -> Option<Secret> {
        E::Record::take_password(new)
    }

    fn rebuild(old: &E::Record, new: New<E>, password_hash: Option<String>) -> E::Record {
        old.rebuilt(new, password_hash)
    }
}

/// Writes the transaction's gathered index changes once they grow large
/// (a long import), so its memory stays bounded.
fn flush_if_large(tx: &WriteTx) -> Result<()> {
    if tx.pending.is_large() {
        tx.pending.flush(&tx.txn)?;
    }
    Ok(())
}

/// The record with this id, if there is one.
pub(crate) fn load<E: Entity>(tables: &dyn Tables, id: u64) -> Result<Option<E::Record>> {
    crate::storage::tx::decoded_record(tables, E::TABLE, id)
}

/// The record with this id, or `NotFound`.
pub(crate) fn fetch<E: Entity>(tables: &dyn Tables, id: u64) -> Result<E::Record> {
    load::<E>(tables, id)?.ok_or_else(|| Error::not_found(E::KIND, format!("id {id}")))
}

/// The ids of the records of kind `E` that hold `role`, the transaction's
/// gathered index changes written first.
pub(crate) fn holders<E: Entity>(tx: &WriteTx, role: u64) -> Result<Vec<u64>> {
    tx.pending.flush(&tx.txn)?;
    let tables: &dyn Tables = &tx.txn;
    let Some(index) = crate::storage::index::index_of(E::KIND, "roles") else {
        return Ok(Vec::new());
    };
    let prefix = crate::storage::index::holders_prefix(role);
    if let Some(table) = index.postings() {
        let end = crate::storage::keys::prefix_end(prefix.bytes());
        let holders =
            crate::storage::postings::read(tables, table, prefix.bytes(), end.as_deref())?;
        return Ok(holders.iter().collect());
    }
    let Some(table) = index.ordered() else {
        return Ok(Vec::new());
    };
    Ok(tables
        .keys_with_prefix(table, prefix.bytes())?
        .iter()
        .filter_map(|k| trailing_u64(k))
        .collect())
}

/// The id the next record of kind `E` gets: ids start at 1 and are never
/// reused. [`insert`] takes it, so a create that fails its checks uses none.
pub(crate) fn next_id<E: Entity>(tx: &WriteTx) -> Result<u64> {
    let last = tx.pending.id_counter(&tx.txn, id_counter(E::KIND))?;
    last.checked_add(1)
        .filter(|&id| id <= crate::documents::rules::MAX_SAFE_INTEGER)
        .ok_or_else(|| {
            Error::invalid(
                "id",
                crate::ValidationCode::LimitReached,
                format!("{} ids are exhausted (the last is 2^53 - 1)", E::KIND),
            )
        })
}

pub(crate) fn id_counter(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => "last_id.user",
        EntityKind::Role => "last_id.role",
        EntityKind::Client => "last_id.client",
    }
}

/// Checks that each of `keys` is free or already the record `id`'s.
fn check_unique<'k, E: Entity>(
    tx: &WriteTx,
    id: u64,
    keys: impl IntoIterator<Item = &'k UniqueKey>,
) -> Result<()> {
    for unique in keys {
        let owners = tx.txn.unique(unique.table, &unique.key)?;
        let mut read = |owner| tx.txn.record(E::TABLE, owner);
        if taken::<E>(&owners, id, unique.table, &unique.key, &mut read)? {
            return Err(Error::Conflict {
                entity: E::KIND,
                field: unique.field.to_owned(),
            });
        }
    }
    Ok(())
}

/// Whether a record other than `id` among `owners` (what `table` names for
/// `key`) holds `key`: any of them for a whole index; for a hashed one,
/// one whose record (read by `read`) has the key itself, not another of
/// its hash (`storage::unique`).
fn taken<E: Entity>(
    owners: &Owners,
    id: u64,
    table: UniqueTable,
    key: &[u8],
    read: &mut dyn FnMut(u64) -> Result<Option<Vec<u8>>>,
) -> Result<bool> {
    for owner in owners.ids().filter(|&owner| owner != id) {
        if owners.is_exact() {
            return Ok(true);
        }
        if let Some(bytes) = read(owner)? {
            let record: E::Record = codec::decode(&bytes)?;
            if holds_key::<E>(&record, table, key) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Whether `record` puts `key` in the unique index `table`.
pub(crate) fn holds_key<E: Entity>(record: &E::Record, table: UniqueTable, key: &[u8]) -> bool {
    E::unique_keys(record)
        .iter()
        .any(|k| k.table.name() == table.name() && k.key == key)
}

/// Checks that each of `roles` (roles `record` holds) exists in the
/// record's tenant. A role found once is remembered for the rest of the
/// transaction (a role's tenant never changes; deleting a role forgets).
fn check_roles<E: Entity>(tx: &WriteTx, record: &E::Record, roles: &[u64]) -> Result<()> {
    let tenant = E::tenant(record);
    let mut missing = Vec::new();
    for &role in roles {
        let found = match tx.pending.role_in(role, tenant) {
            Some(found) => found,
            None => {
                let role_tenant = load::<Role>(&tx.txn, role)?.map(|r| r.header.tenant);
                let found = role_tenant.as_ref().is_some_and(|t| t.as_deref() == tenant);
                if let Some(role_tenant) = role_tenant {
                    tx.pending.remember_role(role, role_tenant);
                }
                found
            }
        };
        if !found {
            missing.push(role.to_string());
        }
    }
    if !missing.is_empty() {
        let noun = if missing.len() == 1 { "role" } else { "roles" };
        return Err(Error::invalid(
            "roles",
            crate::ValidationCode::RoleNotFound,
            format!("{noun} {} not found in this tenant", missing.join(", ")),
        ));
    }
    Ok(())
}

/// Checks that each of the unique `keys` of a new record `id` is free (or
/// already its own), in `tables`; a hashed index's candidates are read
/// from `records`, the kind's record table.
fn check_new_unique<'t, 'k, E: Entity>(
    tables: &mut UniqueTables<'t>,
    records: &impl redb::ReadableTable<u64, &'static [u8]>,
    id: u64,
    keys: impl IntoIterator<Item = (UniqueTable, &'static str, &'k [u8])>,
) -> Result<()> {
    for (table, field, key) in keys {
        let owners = tables.owners(table, key)?;
        check_owners::<E>(records, id, (table, field, key), &owners)?;
    }
    Ok(())
}

/// Fails with `Conflict` naming `field` when `owners` (what the unique
/// index `table` names for `key`) holds a record other than `id` that
/// puts `key` there.
fn check_owners<E: Entity>(
    records: &impl redb::ReadableTable<u64, &'static [u8]>,
    id: u64,
    (table, field, key): (UniqueTable, &'static str, &[u8]),
    owners: &Owners,
) -> Result<()> {
    let mut read = |owner| Ok(records.get(owner)?.map(|v| v.value().to_vec()));
    if taken::<E>(owners, id, table, key, &mut read)? {
        return Err(Error::Conflict {
            entity: E::KIND,
            field: field.to_owned(),
        });
    }
    Ok(())
}

/// Writes a new record's index entries: its unique keys (already checked,
/// in `tables`) now, its ordered keys and posting terms gathered in the
/// transaction's pending changes (`folded` holds the texts the unique
/// keys folded).
fn write_indexes<'t, E: Entity>(
    tx: &'t WriteTx,
    record: &E::Record,
    unique: &[UniqueKey],
    mut tables: UniqueTables<'t>,
    mut folded: FoldedTexts,
) -> Result<()> {
    let id = E::id(record);
    for key in unique {
        tables.insert(tx.journal(), key.table, &key.key, id)?;
    }
    drop(tables);
    tx.pending.note_ordered(true, |note| {
        crate::storage::index::visit_entries_folded(E::KIND, id, record, &mut folded, note);
    });
    tx.pending.note_terms(id, true, |note| {
        crate::storage::index::visit_postings_folded(E::KIND, record, &mut folded, note);
    });
    flush_if_large(tx)
}

fn clear_indexes<E: Entity>(tx: &WriteTx, record: &E::Record) -> Result<()> {
    let id = E::id(record);
    let mut tables = UniqueTables::new(&tx.txn);
    for unique in E::unique_keys(record) {
        tables.remove(tx.journal(), unique.table, &unique.key, id)?;
    }
    drop(tables);
    let mut folded = crate::storage::index::FoldedTexts::default();
    let keys = crate::storage::index::entries_folded(E::KIND, id, record, &mut folded);
    tx.pending.ordered_all(keys, false);
    tx.pending.note_terms(id, false, |note| {
        crate::storage::index::visit_postings_folded(E::KIND, record, &mut folded, note);
    });
    flush_if_large(tx)
}

/// Moves a record's index entries from those of `old` to those of `new`
/// (the same record, updated), touching only the entries that differ: an
/// entry both have is neither removed nor inserted again, so a commit
/// writes no page of an index whose entries did not change. The unique
/// keys given are those `old` lacks and `new` has, already checked.
fn move_indexes<E: Entity>(
    tx: &WriteTx,
    old: &E::Record,
    new: &E::Record,
    unique: (Vec<&UniqueKey>, Vec<&UniqueKey>),
) -> Result<()> {
    let id = E::id(new);
    let (gone, added) = unique;
    let mut tables = UniqueTables::new(&tx.txn);
    for unique in gone {
        tables.remove(tx.journal(), unique.table, &unique.key, id)?;
    }
    for unique in added {
        tables.insert(tx.journal(), unique.table, &unique.key, id)?;
    }
    drop(tables);
    let changes = crate::storage::index::changes(E::KIND, id, old, new);
    tx.pending.ordered_all(changes.gone, false);
    tx.pending.ordered_all(changes.added, true);
    if !changes.gained.is_empty() || !changes.lost.is_empty() {
        tx.pending.apply(id, &changes.gained, &changes.lost);
    }
    flush_if_large(tx)
}

/// The entries of `old` that `new` lacks, and those of `new` that `old`
/// lacks, an entry named by its table and key.
fn difference<'a, T, D: TableHandle + 'a>(
    old: &'a [T],
    new: &'a [T],
    entry: impl Fn(&'a T) -> (&'a D, &'a Vec<u8>),
) -> (Vec<&'a T>, Vec<&'a T>) {
    use std::collections::HashSet;
    let named = |t: &'a T| {
        let (table, key) = entry(t);
        (table.name(), key.as_slice())
    };
    let before: HashSet<_> = old.iter().map(named).collect();
    let after: HashSet<_> = new.iter().map(named).collect();
    let gone = old.iter().filter(|t| !after.contains(&named(t))).collect();
    let added = new.iter().filter(|t| !before.contains(&named(t))).collect();
    (gone, added)
}

fn put<E: Entity>(tx: &WriteTx, record: &E::Record) -> Result<()> {
    let bytes = codec::encode(record)?;
    tx.journal()
        .insert(&E::TABLE, &E::id(record), &bytes.as_slice());
    tx.txn
        .open_table(E::TABLE)?
        .insert(E::id(record), bytes.as_slice())?;
    Ok(())
}

fn log<E: Entity>(tx: &WriteTx, record: &E::Record, op: ChangeOp, at: Timestamp) -> Result<()> {
    changelog::append(
        tx,
        changelog::Appended {
            at,
            entity: E::KIND,
            id: E::id(record),
            op,
            version: E::version(record),
            tenant: E::tenant(record),
        },
    )
}

/// Whether a record can be seen from a view scoped to `scope` (`None`: unscoped).
pub(crate) fn visible<E: Entity>(record: &E::Record, scope: Option<&str>) -> bool {
    scope.is_none() || E::tenant(record) == scope
}

/// The record with this id, or `NotFound` (also for another tenant's record).
pub(crate) fn fetch_in<E: Entity>(
    tables: &dyn Tables,
    id: u64,
    scope: Option<&str>,
) -> Result<E::Record> {
    let record = fetch::<E>(tables, id)?;
    if visible::<E>(&record, scope) {
        Ok(record)
    } else {
        Err(Error::not_found(E::KIND, format!("id {id}")))
    }
}

/// Writes a new record (whose id came from [`next_id`], or from an import),
/// its index entries and a `create` change; an id already in use is a
/// `Conflict` on `id`.
pub(crate) fn insert<E: Entity>(tx: &WriteTx, record: &E::Record, at: Timestamp) -> Result<()> {
    let id = E::id(record);
    // Opened once for the check and the write (the checks below read
    // other tables: roles hold no roles).
    let mut records = tx.txn.open_table(E::TABLE)?;
    if redb::ReadableTable::get(&records, id)?.is_some() {
        return Err(Error::Conflict {
            entity: E::KIND,
            field: "id".into(),
        });
    }
    // Everything is checked before anything is written: the unique keys
    // free (or the record's own) and the roles existing in its tenant.
    let mut folded = FoldedTexts::default();
    let unique = E::unique_keys_folded(record, &mut folded);
    let mut tables = UniqueTables::new(&tx.txn);
    let keys = unique.iter().map(|u| (u.table, u.field, u.key.as_slice()));
    check_new_unique::<E>(&mut tables, &records, id, keys)?;
    check_roles::<E>(tx, record, E::held_roles(record))?;
    // The counter only moves forward: an import may bring ids in any order.
    let counter = id_counter(E::KIND);
    let last = tx.pending.id_counter(&tx.txn, counter)?;
    tx.pending.set_id_counter(counter, last.max(id));
    let mut bytes = Vec::with_capacity(512);
    codec::encode_into(record, &mut bytes)?;
    tx.journal().insert(&E::TABLE, &id, &bytes.as_slice());
    records.insert(id, bytes.as_slice())?;
    drop(records);
    write_indexes::<E>(tx, record, &unique, tables, folded)?;
    log::<E>(tx, record, ChangeOp::Create, at)
}

/// Writes new records (ids from [`next_id`] onwards, or from an import)
/// as [`insert`] writes each, all checked before any is written: for each
/// record in order, its id free, its unique keys free in the store and
/// among the records before it, its roles existing in its tenant; the
/// first that fails is the error (`Conflict` or `Validation`), and nothing
/// is written. Then the records go in a cursor run when their ids ascend
/// past the table's last, each unique table's keys in key order, and the
/// ordered keys, posting terms and `create` changes as [`insert`] gathers
/// them.
///
/// The posting terms (some 65 per user) of each slice of [`SLICE`]
/// records, and the ordered keys (12) of its last quarter ([`shared`]),
/// are gathered on a second thread from the start, into changes of their
/// own (the keys sorted as the flush wants them), while this thread checks
/// and writes, then gathers the first three quarters' ordered keys; each
/// slice's changes join the transaction's only once every record has
/// passed its checks (a failed call leaves the transaction's gathered
/// changes as they were).
pub(crate) fn insert_many<E: Entity>(
    tx: &WriteTx,
    records: &[E::Record],
    at: Timestamp,
) -> Result<()>
where
    E::Record: Sync,
{
    tx.journal()
        .expect_at_least(records.len().saturating_mul(LEAST_LOGGED));
    let parallel =
        records.len() >= 64 && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<SliceNotes>(1);
        let worker = parallel
            .then(|| {
                std::thread::Builder::new()
                    .name("rosterdb-index".into())
                    .spawn_scoped(scope, move || gather_notes::<E>(records, &send))
                    .ok()
            })
            .flatten();
        let source = match worker {
            Some(_) => TermSource::Thread(receive),
            None => TermSource::Here,
        };
        // Returning drops the receiver, so a worker still gathering stops
        // at its next slice.
        let written = write_many::<E>(tx, records, at, source);
        match worker.map(std::thread::ScopedJoinHandle::join) {
            Some(Err(_)) if written.is_ok() => {
                Err(Error::internal("the thread gathering index changes failed"))
            }
            _ => written,
        }
    })
}

/// The fewest bytes a new user (the only kind inserted in bulk) adds to
/// its transaction's journal (`storage::wal::journal`): its record's entry
/// (the table's name, an 8-byte id and a value of some 30 bytes or more,
/// with lengths: over 50 bytes) and its username's and e-mail's hashed
/// keys (over 30 each), before its change-log entry and index keys. An
/// estimate too high would only make a commit a checkpoint.
const LEAST_LOGGED: usize = 80;

/// The index changes of one slice of records, gathered apart from the
/// transaction's.
struct SliceNotes {
    /// Posting terms gained.
    terms: Vec<crate::storage::term_notes::TermNotes>,
    /// How many terms `terms` holds.
    count: usize,
    /// Ordered-index keys inserted, each table's sorted.
    ordered: crate::storage::pending::Ordered,
}

/// Where a bulk insert takes each slice's index changes from.
enum TermSource {
    /// From the thread gathering them, a slice at a time in order.
    Thread(std::sync::mpsc::Receiver<SliceNotes>),
    /// Gathered by the writing thread itself (one core, or no thread).
    Here,
}

/// Gathers the index changes of `records`, a slice of [`SLICE`] at a
/// time, and sends each slice's; stops when the receiver is gone.
fn gather_notes<E: Entity>(records: &[E::Record], send: &std::sync::mpsc::SyncSender<SliceNotes>) {
    for slice in records.chunks(SLICE) {
        if send.send(slice_notes::<E>(slice, shared(slice))).is_err() {
            return;
        }
    }
}

/// [`insert_many`]'s work on this thread: the checks, then the writes,
/// each slice's ordered keys and posting terms taken from `terms`.
fn write_many<E: Entity>(
    tx: &WriteTx,
    records: &[E::Record],
    at: Timestamp,
    terms: TermSource,
) -> Result<()> {
    let keep = matches!(terms, TermSource::Thread(_));
    let mut keys = NewKeys::default();
    let (checked, mut folded) = check_many::<E>(tx, records, &mut keys, keep)?;
    let Some(last_id) = records.iter().map(|r| E::id(r)).max() else {
        return Ok(());
    };
    let counter = id_counter(E::KIND);
    let last = tx.pending.id_counter(&tx.txn, counter)?;
    tx.pending.set_id_counter(counter, last.max(last_id));
    write_records::<E>(tx, records)?;
    write_unique_sorted::<E>(tx, records, checked)?;
    let mut folded = folded.drain(..);
    tx.pending.reserve_changes(records.len());
    // The records whose ordered keys wait unwritten (since the start or
    // the last flush), and those still to come: room for the rest is
    // judged from the former after each slice (once made, it holds).
    let mut held = 0_usize;
    let mut rest = records.len();
    for slice in records.chunks(SLICE) {
        for record in slice {
            log::<E>(tx, record, ChangeOp::Create, at)?;
        }
        let notes = match &terms {
            TermSource::Thread(receive) => {
                // This thread gathers the ordered keys of the slice's
                // first part meanwhile, so the two finish together,
                // with the texts its unique keys folded.
                let own = slice.get(..shared(slice)).unwrap_or_default();
                let own = ordered_notes::<E>(own, folded.by_ref().take(own.len()), slice.len());
                tx.pending.append_ordered(own);
                receive
                    .recv()
                    .map_err(|_| Error::internal("the thread gathering index changes stopped"))?
            }
            TermSource::Here => slice_notes::<E>(slice, 0),
        };
        tx.pending.append_ordered(notes.ordered);
        tx.pending.append_terms(notes.terms, notes.count);
        held = held.saturating_add(slice.len());
        rest = rest.saturating_sub(slice.len());
        if tx.pending.is_large() {
            tx.pending.flush(&tx.txn)?;
            held = 0;
        } else {
            tx.pending.reserve_ordered(held, rest);
        }
    }
    Ok(())
}

/// The unique keys of new records, one after the other in one buffer
/// (a bulk insert's tens of thousands of keys make no allocation each).
#[derive(Default)]
struct NewKeys {
    /// The keys' bytes, one after the other.
    bytes: Vec<u8>,
    /// Each key's table, field (as [`UniqueKey`]) and end in `bytes`, the
    /// records' keys in record order.
    keys: Vec<(UniqueTable, &'static str, usize)>,
    /// The end in `keys` of each record's keys.
    ends: Vec<usize>,
}

impl NewKeys {
    /// Appends the keys of the next record.
    fn push(&mut self, unique: Vec<UniqueKey>) {
        for key in unique {
            self.bytes.extend_from_slice(&key.key);
            self.keys.push((key.table, key.field, self.bytes.len()));
        }
        self.ends.push(self.keys.len());
    }

    /// The keys by field, each field's sorted ([`FieldKeys`]).
    ///
    /// Errors: `Internal` when one field's keys name two tables, or
    /// records or keys are too many to number.
    fn by_field(&self) -> Result<Vec<FieldKeys<'_>>> {
        let mut fields: Vec<FieldKeys<'_>> = Vec::new();
        let too_many = || Error::internal("too many new records or keys to number");
        for (record, keys) in self.per_record().enumerate() {
            let record = u32::try_from(record).map_err(|_| too_many())?;
            for (at, (table, field, key)) in keys.enumerate() {
                let at = u32::try_from(at).map_err(|_| too_many())?;
                let place = match fields.iter().position(|f| f.field == field) {
                    Some(place) => place,
                    None => {
                        fields.push(FieldKeys {
                            table,
                            field,
                            hashed: unique::hashed(&table).is_some(),
                            entries: Vec::with_capacity(self.ends.len()),
                        });
                        fields.len().saturating_sub(1)
                    }
                };
                let Some(into) = fields.get_mut(place) else {
                    continue;
                };
                if into.table.name() != table.name() {
                    return Err(Error::internal(format!(
                        "the unique keys of {field} name two tables"
                    )));
                }
                let order = if into.hashed { unique::hash(key) } else { 0 };
                into.entries.push((order, key, record, at));
            }
        }
        for field in &mut fields {
            field.entries.sort_unstable();
        }
        Ok(fields)
    }

    /// Where the keys of record `record` (its place) are in `keys`.
    fn span(&self, record: usize) -> (usize, usize) {
        let from = record
            .checked_sub(1)
            .and_then(|before| self.ends.get(before))
            .copied()
            .unwrap_or(0);
        (from, self.ends.get(record).copied().unwrap_or(from))
    }

    /// The keys of each record in order: (table, field, key bytes).
    fn per_record(
        &self,
    ) -> impl Iterator<Item = impl Iterator<Item = (UniqueTable, &'static str, &[u8])> + Clone>
    {
        let mut key_start = 0;
        let mut byte_start = 0;
        self.ends.iter().map(move |&end| {
            let keys = self.keys.get(key_start..end).unwrap_or_default();
            key_start = end;
            let first_byte = byte_start;
            byte_start = keys.last().map_or(byte_start, |&(_, _, e)| e);
            let mut from = first_byte;
            keys.iter().map(move |&(table, field, end)| {
                let key = self.bytes.get(from..end).unwrap_or_default();
                from = end;
                (table, field, key)
            })
        })
    }
}

/// Checks new records as [`insert_many`] describes; returns each
/// record's unique keys and, with `keep`, the texts they folded of the
/// records whose ordered keys this thread gathers (the first part of
/// each slice of [`SLICE`], [`shared`]), in record order.
fn check_many<'k, E: Entity>(
    tx: &WriteTx,
    records: &[E::Record],
    checked: &'k mut NewKeys,
    keep: bool,
) -> Result<(Vec<FieldKeys<'k>>, Vec<FoldedTexts>)> {
    use std::collections::HashSet;
    let ascending = ids_ascend::<E>(records);
    // Every record's keys first, so the check below can borrow them; each
    // record's own list freed at once, so the next reuses its memory.
    checked.bytes.reserve(records.len().saturating_mul(64));
    checked.keys.reserve(records.len().saturating_mul(2));
    checked.ends.reserve(records.len());
    let mut kept = Vec::new();
    for slice in records.chunks(SLICE) {
        let own = if keep { shared(slice) } else { 0 };
        for (at, record) in slice.iter().enumerate() {
            let mut folded = FoldedTexts::default();
            checked.push(E::unique_keys_folded(record, &mut folded));
            if at < own {
                kept.push(folded);
            }
        }
    }
    let by_field = checked.by_field()?;
    // Each record's first key that an earlier record gives too: (record,
    // key) at the first record's place in `first_repeat`.
    let mut first_repeat: std::collections::BTreeMap<usize, usize> = Default::default();
    for field in &by_field {
        for run in field.entries.chunk_by(|a, b| a.1 == b.1) {
            let Some(&(_, _, first, _)) = run.first() else {
                continue;
            };
            for &(_, _, record, key) in run.iter().filter(|(_, _, record, _)| *record != first) {
                let known = first_repeat.entry(record as usize).or_insert(key as usize);
                *known = (*known).min(key as usize);
            }
        }
    }
    let table = tx.txn.open_table(E::TABLE)?;
    let stored_last = redb::ReadableTable::last(&table)?.map(|(k, _)| k.value());
    let mut ids: HashSet<u64> = HashSet::new();
    let stored = stored_owners(&tx.txn, checked, &by_field)?;
    // Record by record, as one insert after the other would check them:
    // its id, its keys in the store, its keys among those of the records
    // before it (ids are distinct by then, so a key is taken when an
    // earlier record gives it), its roles.
    for (at, (record, unique)) in records.iter().zip(checked.per_record()).enumerate() {
        let id = E::id(record);
        let past_stored = stored_last.is_none_or(|last| id > last);
        let repeated = !ascending && !ids.insert(id);
        if repeated || (!past_stored && redb::ReadableTable::get(&table, id)?.is_some()) {
            return Err(Error::Conflict {
                entity: E::KIND,
                field: "id".into(),
            });
        }
        let (from, to) = checked.span(at);
        for (key, owners) in unique.clone().zip(stored.get(from..to).unwrap_or_default()) {
            check_owners::<E>(&table, id, key, owners)?;
        }
        if let Some(&key) = first_repeat.get(&at)
            && let Some((_, field, _)) = unique.clone().nth(key)
        {
            return Err(Error::Conflict {
                entity: E::KIND,
                field: field.to_owned(),
            });
        }
        check_roles::<E>(tx, record, E::held_roles(record))?;
    }
    Ok((by_field, kept))
}

/// What the store's unique indexes name for each of the new records'
/// keys (indexed as `keys.keys`), before any of them is written. Each
/// field's distinct keys are looked up in the order its index keeps them
/// ([`FieldKeys`]: by hash in a hashed index), so that one lookup after
/// another descends to the same or the next leaf, whose pages are still
/// in the CPU's caches, where record order would read a cold leaf each
/// (a 50,000-user batch into a store of a million spent some 17% of its
/// time in these lookups; in this order a 1M-user build takes 6% less
/// time); a key that several records give is looked up once. The fields
/// are looked up in two parts at once ([`fields_apart`]), as they are
/// written ([`write_unique_sorted`]): with both, a 1M-user build took 10%
/// less time again (round 24).
fn stored_owners(
    txn: &redb::WriteTransaction,
    keys: &NewKeys,
    by_field: &[FieldKeys<'_>],
) -> Result<Vec<Owners>> {
    let found = fields_apart(by_field, |fields| {
        let mut tables = UniqueTables::new(txn);
        let mut found = Vec::new();
        for field in fields {
            for run in field.entries.chunk_by(|a, b| a.1 == b.1) {
                let Some(&(_, key, _, _)) = run.first() else {
                    continue;
                };
                found.push((run, tables.owners(field.table, key)?));
            }
        }
        Ok(found)
    })?;
    let mut owners = vec![Owners::default(); keys.keys.len()];
    for (run, found) in found.into_iter().flatten() {
        for &(_, _, record, at) in run {
            let (from, _) = keys.span(record as usize);
            if let Some(slot) = owners.get_mut(from.saturating_add(at as usize)) {
                *slot = found.clone();
            }
        }
    }
    Ok(owners)
}

/// Keys of a field from which [`fields_apart`] uses a second thread.
const APART_FROM: usize = 64;

/// Runs `work` on the fields of `by_field` in two parts at once, the
/// second part (every other field) on a thread of its own when there are
/// two fields or more, [`APART_FROM`] keys or more in the first, and a
/// second core, and returns both parts' results.
/// Each field has a table of its own, and redb writes a transaction's
/// tables apart (cberner/redb#523). The first error wins; a thread that
/// cannot start leaves its part to this one.
fn fields_apart<'f, 'k, T: Send>(
    by_field: &'f [FieldKeys<'k>],
    work: impl Fn(&mut dyn Iterator<Item = &'f FieldKeys<'k>>) -> Result<T> + Sync,
) -> Result<[T; 2]> {
    let part = |which: usize| {
        by_field
            .iter()
            .enumerate()
            .filter(move |(at, _)| at % 2 == which)
            .map(|(_, field)| field)
    };
    // A thread costs tens of µs: small batches stay on this one.
    let keys = by_field.first().map_or(0, |f| f.entries.len());
    let apart = by_field.len() > 1
        && keys >= APART_FROM
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    if !apart {
        return Ok([work(&mut part(0))?, work(&mut part(1))?]);
    }
    std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name("rosterdb-unique".into())
            .spawn_scoped(scope, || work(&mut part(1)))
            .ok();
        let here = work(&mut part(0));
        let there = match other {
            Some(other) => other
                .join()
                .map_err(|_| Error::internal("the thread of unique keys failed"))?,
            None => work(&mut part(1)),
        };
        Ok([here?, there?])
    })
}

/// The unique keys of new records in one field (so in one table), in
/// the order its index keeps them: by hash ([`unique::hash`]) then key
/// in a hashed index, by key in a whole one; then by record and by the
/// key's place among the record's. Equal keys are neighbours either way.
struct FieldKeys<'k> {
    table: UniqueTable,
    field: &'static str,
    /// Whether the index keeps the keys hashed.
    hashed: bool,
    /// (the key's hash in a hashed index, else 0; key; record's place;
    /// key's place among the record's keys).
    entries: Vec<(u64, &'k [u8], u32, u32)>,
}

/// Writes new records (checked): through one cursor at the table's end
/// when their ids ascend, encoded a slice at a time so the buffer stays
/// small.
fn write_records<E: Entity>(tx: &WriteTx, records: &[E::Record]) -> Result<()> {
    let ascending = ids_ascend::<E>(records);
    let mut table = tx.txn.open_table(E::TABLE)?;
    let mut bytes = Vec::with_capacity(512 * 1024);
    let mut ends = Vec::with_capacity(1024);
    for slice in records.chunks(1024) {
        bytes.clear();
        ends.clear();
        for record in slice {
            codec::encode_into(record, &mut bytes)?;
            ends.push(bytes.len());
        }
        let mut start = 0;
        let encoded = slice.iter().zip(&ends).map(|(record, &end)| {
            let entry = bytes.get(start..end).unwrap_or_default();
            start = end;
            (E::id(record), entry)
        });
        if ascending {
            let log = (tx.journal(), E::TABLE);
            crate::storage::sorted_writes::append_u64(&mut table, log, encoded, "new records")?;
        } else {
            for (id, entry) in encoded {
                tx.journal().insert(&E::TABLE, &id, &entry);
                table.insert(id, entry)?;
            }
        }
    }
    Ok(())
}

/// Records a bulk insert gathers index changes for at a time (a slice's
/// posting terms on a second thread): a batch of the usual size (10,000)
/// is one slice, and at most two slices' terms wait beside the
/// transaction's.
const SLICE: usize = 16_384;

/// The posting terms of each record of `slice`, and the ordered keys of
/// those from `from` on (each text folded once), noted into changes of
/// their own, the keys sorted.
fn slice_notes<E: Entity>(slice: &[E::Record], from: usize) -> SliceNotes {
    let mut notes = SliceNotes {
        terms: Vec::new(),
        count: 0,
        ordered: crate::storage::pending::Ordered::default(),
    };
    for (at, record) in slice.iter().enumerate() {
        let id = E::id(record);
        let mut folded = FoldedTexts::default();
        if at >= from {
            note_ordered::<E>(record, &mut folded, &mut notes.ordered);
            if at.saturating_sub(from).saturating_add(1) == JUDGED {
                let room = slice.len().saturating_sub(from);
                notes.ordered.reserve_for(JUDGED, room);
            }
        }
        let noted = crate::storage::pending::note_into(&mut notes.terms, id, true, |note| {
            crate::storage::index::visit_postings_folded(E::KIND, record, &mut folded, note);
        });
        notes.count = notes.count.saturating_add(noted);
    }
    notes.ordered.sort();
    notes
}

/// The records whose ordered keys judge how much room a bulk insert's
/// keys take ([`crate::storage::pending::Ordered::reserve_for`]).
const JUDGED: usize = 32;

/// The ordered keys of each record of `slice`, noted into changes of
/// their own and sorted, with room for the keys of `room` records; each
/// record's texts taken from the next of `folded` (those its unique keys
/// folded), or folded anew.
fn ordered_notes<E: Entity>(
    slice: &[E::Record],
    mut folded: impl Iterator<Item = FoldedTexts>,
    room: usize,
) -> crate::storage::pending::Ordered {
    let mut ordered = crate::storage::pending::Ordered::default();
    for (at, record) in slice.iter().enumerate() {
        let mut texts = folded.next().unwrap_or_default();
        note_ordered::<E>(record, &mut texts, &mut ordered);
        if at.saturating_add(1) == JUDGED {
            ordered.reserve_for(JUDGED, room);
        }
    }
    ordered.sort();
    ordered
}

/// Notes into `ordered` the ordered-index keys `record` gains, each of
/// its texts folded once into `folded`.
fn note_ordered<E: Entity>(
    record: &E::Record,
    folded: &mut FoldedTexts,
    ordered: &mut crate::storage::pending::Ordered,
) {
    crate::storage::index::visit_entries_folded(
        E::KIND,
        E::id(record),
        record,
        folded,
        &mut |slot, table, key| ordered.note(slot, table, key, true),
    );
}

/// Whether the ids of `records` ascend strictly (new records then go in
/// through cursors, and no id can repeat).
fn ids_ascend<E: Entity>(records: &[E::Record]) -> bool {
    records
        .windows(2)
        .all(|w| matches!(w, [a, b] if E::id(a) < E::id(b)))
}

/// How many records at the start of `slice` have their ordered keys
/// gathered by the writing thread while the other gathers the rest and
/// every posting term: three quarters. Half balanced the two threads'
/// work best until a bulk insert's unique keys were looked up and written
/// on a second thread too (round 24), which shares the other core with
/// the gathering thread; with half, a 10,000-user import into a new store
/// then waited for the gathering thread (round 25: three quarters took
/// 5% off its wall time, all of them 3%, and 1M-user builds were no
/// slower).
fn shared(slice: &[impl Sized]) -> usize {
    slice.len().saturating_mul(3) / 4
}

/// Inserts the unique keys of new records (checked free, sorted by
/// field), each table's in key order (`UniqueTables::insert_sorted`),
/// the fields in two parts at once ([`fields_apart`]).
fn write_unique_sorted<E: Entity>(
    tx: &WriteTx,
    records: &[E::Record],
    checked: Vec<FieldKeys<'_>>,
) -> Result<()>
where
    E::Record: Sync,
{
    fields_apart(&checked, |fields| {
        let mut tables = UniqueTables::new(&tx.txn);
        for field in fields {
            let mut keys: Vec<(&[u8], u64)> = Vec::with_capacity(field.entries.len());
            for &(_, key, record, _) in &field.entries {
                // A record may give one key twice (its own: no conflict).
                if keys.last().is_some_and(|(last, _)| *last == key) {
                    continue;
                }
                let record = records
                    .get(record as usize)
                    .ok_or_else(|| Error::internal("a new unique key names no record"))?;
                keys.push((key, E::id(record)));
            }
            tables.insert_sorted(tx.journal(), field.table, &keys, "new unique keys")?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Replaces `old` by `new` (same id), moving index entries, with an `update` change.
pub(crate) fn update<E: Entity>(
    tx: &WriteTx,
    old: &E::Record,
    new: &E::Record,
    at: Timestamp,
) -> Result<()> {
    if E::version(new) > crate::documents::rules::MAX_SAFE_INTEGER {
        return Err(Error::invalid(
            "version",
            crate::ValidationCode::LimitReached,
            "has reached 2^53 - 1, the largest a JSON client holds exactly",
        ));
    }
    // Only what the update changes is checked: a unique key the record
    // already had is its own, a role it already held exists in its tenant
    // (the tenant never changes; deleting a role first updates its holders).
    let (old_unique, new_unique) = if E::same_unique_keys(old, new) {
        (Vec::new(), Vec::new())
    } else {
        (E::unique_keys(old), E::unique_keys(new))
    };
    let (gone, added) = difference(&old_unique, &new_unique, |u| (&u.table, &u.key));
    check_unique::<E>(tx, E::id(new), added.iter().copied())?;
    let held = E::held_roles(old);
    let gained: Vec<u64> = E::held_roles(new)
        .iter()
        .copied()
        .filter(|r| !held.contains(r))
        .collect();
    check_roles::<E>(tx, new, &gained)?;
    move_indexes::<E>(tx, old, new, (gone, added))?;
    put::<E>(tx, new)?;
    if E::enabled(old) && !E::enabled(new) {
        crate::storage::sessions::revoke_all(tx, E::KIND, E::id(new))?;
    }
    log::<E>(tx, new, ChangeOp::Update, at)
}

/// Rewrites a record after login bookkeeping (docs/reference/updates.md: last login, failure
/// count, lockout, re-hash, second-factor use): no version, no change-log
/// entry, and no index entry moves, since none of those fields is indexed.
pub(crate) fn bookkeep<E: Entity>(tx: &WriteTx, record: &E::Record) -> Result<()> {
    put::<E>(tx, record)
}

/// Deletes a record and its index entries, with a `delete` change carrying its last version.
pub(crate) fn remove<E: Entity>(tx: &WriteTx, record: &E::Record, at: Timestamp) -> Result<()> {
    if E::KIND == EntityKind::Role {
        tx.pending.forget_role(E::id(record));
    }
    clear_indexes::<E>(tx, record)?;
    if E::KIND != EntityKind::Role {
        crate::storage::sessions::revoke_all(tx, E::KIND, E::id(record))?;
    }
    tx.journal().remove(&E::TABLE, &E::id(record));
    tx.txn.open_table(E::TABLE)?.remove(E::id(record))?;
    log::<E>(tx, record, ChangeOp::Delete, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::user::UserRecord;
    use crate::storage::schema::{USER_EMAIL_HASHED, USER_USERNAME_HASHED, USERS};
    use crate::storage::wal::journal::{Captured, Journal};
    use crate::{NewUser, User};

    /// Fields of [`APART_FROM`] keys each (enough for a second thread),
    /// named `f0`, `f1`, … in tables of those names.
    fn fields(n: usize) -> Vec<FieldKeys<'static>> {
        const NAMES: [&str; 5] = ["f0", "f1", "f2", "f3", "f4"];
        NAMES[..n]
            .iter()
            .map(|name| FieldKeys {
                table: redb::TableDefinition::new(name),
                field: name,
                hashed: false,
                entries: vec![(0, b"k".as_slice(), 0, 0); APART_FROM],
            })
            .collect()
    }

    #[test]
    fn fields_apart_gives_every_field_to_one_part_and_reports_either_error() {
        for n in 0..5 {
            let by_field = fields(n);
            let [here, there] = fields_apart(&by_field, |part| {
                Ok(part.map(|f| f.field).collect::<Vec<_>>())
            })
            .unwrap();
            let mut all: Vec<&str> = here.iter().chain(&there).copied().collect();
            all.sort_unstable();
            let want: Vec<&str> = by_field.iter().map(|f| f.field).collect();
            assert_eq!(all, want);
            assert!(here.iter().all(|f| !there.contains(f)));
        }
        for failing in ["f0", "f1", "f2"] {
            let failed = fields_apart(&fields(3), |part| {
                let mut fails = false;
                for field in part {
                    fails |= field.field == failing;
                }
                if fails {
                    Err(Error::internal(failing))
                } else {
                    Ok(())
                }
            });
            assert!(
                matches!(&failed, Err(e) if e.to_string().contains(failing)),
                "{failing}: {failed:?}"
            );
        }
    }

    /// The smallest user a bulk insert can bring (one-letter username,
    /// the shortest e-mail, empty names, id 1) journals more than
    /// [`LEAST_LOGGED`] bytes with its record and unique keys alone, so
    /// a bulk insert judged too large for the journal always is.
    #[test]
    fn the_smallest_user_journals_at_least_least_logged_bytes() {
        let now = Timestamp::from_millis(0).unwrap();
        let record =
            UserRecord::create(NewUser::new("a", "a@b", "", ""), Header::new(1, now), None);
        let journal = Journal::recording();
        let bytes = codec::encode(&record).unwrap();
        journal.insert(&USERS, &1, &bytes.as_slice());
        for (key, hashed) in User::unique_keys(&record)
            .iter()
            .zip([USER_USERNAME_HASHED, USER_EMAIL_HASHED])
        {
            let entry = (crate::storage::unique::hash(&key.key), 1_u64);
            journal.insert(&hashed, &entry, &());
        }
        let Captured::Changes(logged) = journal.take() else {
            panic!("a journal that records keeps its changes");
        };
        assert!(
            logged.len() > LEAST_LOGGED,
            "{} bytes journalled, LEAST_LOGGED is {LEAST_LOGGED}",
            logged.len()
        );
    }

    /// A journal told that more than it holds is coming stops recording
    /// at once, and its commit becomes a checkpoint.
    #[test]
    fn a_bulk_insert_too_large_for_the_journal_is_not_recorded() {
        let journal = Journal::recording();
        journal.expect_at_least(1_000);
        journal.insert(&USERS, &1, &[1_u8, 2, 3].as_slice());
        assert!(matches!(journal.take(), Captured::Changes(b) if !b.is_empty()));
        let journal = Journal::recording();
        journal.expect_at_least(crate::storage::wal::journal::MAX_JOURNAL + 1);
        journal.insert(&USERS, &1, &[1_u8, 2, 3].as_slice());
        assert_eq!(journal.take(), Captured::TooLarge);
    }
}
