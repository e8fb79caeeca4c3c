//! What a write transaction changed, as bytes (decision 0018): every
//! insert and remove of every table, in order, as the write-ahead log
//! holds it; and the replay of those bytes into a transaction, through a
//! registry that opens each table by name with its real key and value
//! types.
//!
//! Every table write of a write transaction goes through a [`Journal`]:
//! entity records and unique keys (`storage::entity`), ordered keys,
//! postings, id counters and change-log entries (`storage::pending`), run
//! counts (`storage::run_counts`), sessions (`storage::sessions`) and the
//! cursor writes of flushes and bulk creates (`storage::sorted_writes`).
//! Writes made while a store opens (format creation and migration) are
//! durable redb commits of their own and are not logged.
//!
//! An entry: its kind (1 insert, 2 remove), the table name's length (u8)
//! and the name, the key's length (u32 LE) and bytes, and for an insert
//! the value's length (u32 LE) and bytes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use redb::{Key, TableDefinition, TableHandle, Value, WriteTransaction};

use crate::storage::run_counts::COUNTED;
use crate::storage::schema::{
    HASHED_TABLES, META, MULTI_TABLES, POSTING_TABLES, RECORD_TABLES, RETIRED_IN_9, SESSION_EXPIRY,
    SESSION_PRINCIPAL, SESSIONS, UNIQUE_TABLES,
};
use crate::{Error, Result};

/// The most bytes one transaction's journal holds: a larger transaction
/// (a bulk import) is not logged but committed durably in the store file,
/// as a checkpoint.
pub(crate) const MAX_JOURNAL: usize = 1 << 20;

const INSERT: u8 = 1;
const REMOVE: u8 = 2;

/// The changes of one write transaction, recorded as they are made (only
/// when its store keeps a write-ahead log).
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// Whether a table write is to be recorded now: the store keeps a log
    /// and the changes have not outgrown [`MAX_JOURNAL`]. Read before
    /// anything else on every table write, so that a store without a log,
    /// or a bulk import past the bound, takes no lock and encodes nothing.
    recording: AtomicBool,
    inner: Mutex<Capture>,
}

#[derive(Debug, Default)]
struct Capture {
    /// Whether changes are recorded (the store keeps a log).
    on: bool,
    /// Whether the changes outgrew [`MAX_JOURNAL`] (then no longer kept).
    overflow: bool,
    bytes: Vec<u8>,
}

/// What a transaction's journal holds at its commit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Captured {
    /// The store keeps no log.
    Off,
    /// The changes, as a log record's payload.
    Changes(Vec<u8>),
    /// More than [`MAX_JOURNAL`] bytes of changes: to be committed as a
    /// checkpoint instead.
    TooLarge,
}

impl Journal {
    /// A journal that records (for a store that keeps a log).
    pub(crate) fn recording() -> Journal {
        Journal {
            recording: AtomicBool::new(true),
            inner: Mutex::new(Capture {
                on: true,
                overflow: false,
                bytes: Vec::new(),
            }),
        }
    }

    /// Whether table writes are recorded now.
    fn is_recording(&self) -> bool {
        self.recording.load(Ordering::Relaxed)
    }

    /// Notes that the changes outgrew what a record holds: none is kept
    /// from now on, and the commit becomes a checkpoint.
    fn overflow(&self, c: &mut Capture) {
        c.overflow = true;
        c.bytes = Vec::new();
        self.recording.store(false, Ordering::Relaxed);
    }

    fn record(&self, kind: u8, table: &str, key: &[u8], value: Option<&[u8]>) {
        let mut c = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if !c.on || c.overflow {
            return;
        }
        let (Ok(name_len), Ok(key_len)) = (u8::try_from(table.len()), u32::try_from(key.len()))
        else {
            self.overflow(&mut c);
            return;
        };
        let value_len = match value.map(|v| u32::try_from(v.len())) {
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => {
                self.overflow(&mut c);
                return;
            }
            None => None,
        };
        let b = &mut c.bytes;
        b.push(kind);
        b.push(name_len);
        b.extend_from_slice(table.as_bytes());
        b.extend_from_slice(&key_len.to_le_bytes());
        b.extend_from_slice(key);
        if let (Some(n), Some(v)) = (value_len, value) {
            b.extend_from_slice(&n.to_le_bytes());
            b.extend_from_slice(v);
        }
        if c.bytes.len() > MAX_JOURNAL {
            self.overflow(&mut c);
        }
    }

    /// Records that `table` holds `value` under `key` (as inserted).
    pub(crate) fn insert<K: Key + 'static, V: Value + 'static>(
        &self,
        table: &TableDefinition<'static, K, V>,
        key: &K::SelfType<'_>,
        value: &V::SelfType<'_>,
    ) {
        if !self.is_recording() {
            return;
        }
        let key = K::as_bytes(key);
        let value = V::as_bytes(value);
        self.record(INSERT, table.name(), key.as_ref(), Some(value.as_ref()));
    }

    /// Records that `table` no longer holds `key` (as removed).
    pub(crate) fn remove<K: Key + 'static, V: Value + 'static>(
        &self,
        table: &TableDefinition<'static, K, V>,
        key: &K::SelfType<'_>,
    ) {
        if !self.is_recording() {
            return;
        }
        let key = K::as_bytes(key);
        self.record(REMOVE, table.name(), key.as_ref(), None);
    }

    /// Notes that at least `bytes` more bytes of changes are coming (a
    /// bulk insert's, judged from its records alone): when they cannot fit
    /// in [`MAX_JOURNAL`], recording stops now instead of after
    /// [`MAX_JOURNAL`] bytes were encoded only to be dropped; the commit
    /// is a checkpoint either way.
    pub(crate) fn expect_at_least(&self, bytes: usize) {
        if !self.is_recording() {
            return;
        }
        let mut c = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if c.on && !c.overflow && c.bytes.len().saturating_add(bytes) > MAX_JOURNAL {
            self.overflow(&mut c);
        }
    }

    /// Takes the changes recorded so far.
    pub(crate) fn take(&self) -> Captured {
        let mut c = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if !c.on {
            Captured::Off
        } else if c.overflow {
            Captured::TooLarge
        } else {
            Captured::Changes(std::mem::take(&mut c.bytes))
        }
    }
}

/// One entry of a journal read back.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    pub(crate) table: &'a str,
    pub(crate) key: &'a [u8],
    /// The value inserted; `None` for a removal.
    pub(crate) value: Option<&'a [u8]>,
}

fn damaged(what: &str) -> Error {
    Error::incompatible(format!(
        "the write-ahead log holds a damaged record: {what}"
    ))
}

fn take<'a>(bytes: &mut &'a [u8], n: usize, what: &str) -> Result<&'a [u8]> {
    let (head, rest) = bytes.split_at_checked(n).ok_or_else(|| damaged(what))?;
    *bytes = rest;
    Ok(head)
}

fn take_len(bytes: &mut &[u8], what: &str) -> Result<usize> {
    let raw = take(bytes, 4, what)?;
    let n = u32::from_le_bytes(raw.try_into().map_err(|_| damaged(what))?);
    usize::try_from(n).map_err(|_| damaged(what))
}

/// The entries of a journal's bytes, in order.
///
/// Errors: `IncompatibleFormat` when the bytes do not parse.
pub(crate) fn entries(mut bytes: &[u8]) -> Result<Vec<Entry<'_>>> {
    let mut out = Vec::new();
    while let Some((&kind, rest)) = bytes.split_first() {
        bytes = rest;
        let name_len = take(&mut bytes, 1, "a table name's length")?;
        let name_len = usize::from(name_len.first().copied().unwrap_or(0));
        let name = take(&mut bytes, name_len, "a table name")?;
        let table = std::str::from_utf8(name).map_err(|_| damaged("a table name"))?;
        let key_len = take_len(&mut bytes, "a key's length")?;
        let key = take(&mut bytes, key_len, "a key")?;
        let value = match kind {
            INSERT => {
                let n = take_len(&mut bytes, "a value's length")?;
                Some(take(&mut bytes, n, "a value")?)
            }
            REMOVE => None,
            _ => return Err(damaged("an unknown kind of change")),
        };
        out.push(Entry { table, key, value });
    }
    Ok(out)
}

/// Something done to one table opened with its real types (see
/// [`with_table`]).
pub(crate) trait TableVisit {
    /// What the visit returns.
    type Out;
    /// Visits the table `def`.
    fn visit<K: Key + 'static, V: Value + 'static>(
        self,
        def: TableDefinition<'static, K, V>,
    ) -> Self::Out;
}

/// Visits the table named `name` with its real types; `None` when no
/// table of a store has that name (the replay registry: every table a
/// write transaction writes must be here, which a test checks).
pub(crate) fn with_table<T: TableVisit>(name: &str, visit: T) -> Option<T::Out> {
    if let Some(t) = RECORD_TABLES.iter().find(|t| t.name() == name) {
        return Some(visit.visit(*t));
    }
    // The whole username and e-mail tables too: a format-9 log, replayed
    // before the migration that hashes them.
    if let Some(t) = UNIQUE_TABLES.iter().find(|t| t.name() == name) {
        return Some(visit.visit(*t));
    }
    if let Some((_, t)) = HASHED_TABLES.iter().find(|(_, t)| t.name() == name) {
        return Some(visit.visit(*t));
    }
    if let Some(t) = MULTI_TABLES.iter().find(|t| t.name() == name) {
        return Some(visit.visit(*t));
    }
    // A format-8 log, replayed before the migration that deletes them.
    if let Some(t) = RETIRED_IN_9.iter().find(|t| t.name() == name) {
        return Some(visit.visit(*t));
    }
    if let Some(t) = POSTING_TABLES.iter().find(|t| t.name() == name) {
        return Some(visit.visit(*t));
    }
    if let Some((_, t)) = COUNTED.iter().find(|(_, t)| t.name() == name) {
        return Some(visit.visit(*t));
    }
    if name == SESSION_PRINCIPAL.name() {
        return Some(visit.visit(SESSION_PRINCIPAL));
    }
    if name == SESSION_EXPIRY.name() {
        return Some(visit.visit(SESSION_EXPIRY));
    }
    if name == SESSIONS.name() {
        return Some(visit.visit(SESSIONS));
    }
    if name == META.name() {
        return Some(visit.visit(META));
    }
    None
}

/// Whether `bytes` can be read as a `T` without redb panicking: the
/// width of a fixed-width type, UTF-8 for a string.
fn fits<T: Value>(bytes: &[u8]) -> bool {
    match T::fixed_width() {
        Some(width) => bytes.len() == width,
        None => {
            T::type_name() != <&str as Value>::type_name() || std::str::from_utf8(bytes).is_ok()
        }
    }
}

/// Applies one entry to its table (opened with its real types).
struct Apply<'t, 'e> {
    txn: &'t WriteTransaction,
    entry: &'e Entry<'e>,
}

impl TableVisit for Apply<'_, '_> {
    type Out = Result<()>;

    fn visit<K: Key + 'static, V: Value + 'static>(
        self,
        def: TableDefinition<'static, K, V>,
    ) -> Result<()> {
        let entry = self.entry;
        if !fits::<K>(entry.key) || !entry.value.is_none_or(fits::<V>) {
            return Err(damaged(&format!(
                "an entry of {} of the wrong shape",
                entry.table
            )));
        }
        let mut table = self.txn.open_table(def)?;
        let key = K::from_bytes(entry.key);
        match entry.value {
            Some(value) => {
                table.insert(key, V::from_bytes(value))?;
            }
            None => {
                table.remove(key)?;
            }
        }
        Ok(())
    }
}

/// Applies a journal's bytes (one log record's payload) to `txn`, in order.
///
/// Errors: `IncompatibleFormat` when the bytes do not parse or name a
/// table no store has; `Storage` when a table cannot be written.
pub(crate) fn replay(txn: &WriteTransaction, bytes: &[u8]) -> Result<()> {
    for entry in entries(bytes)? {
        with_table(entry.table, Apply { txn, entry: &entry })
            .ok_or_else(|| damaged(&format!("a change to an unknown table {:?}", entry.table)))??;
    }
    Ok(())
}

/// A table's (key, value) entries as bytes, in key order.
#[cfg(test)]
pub(crate) type Rows = Vec<(Vec<u8>, Vec<u8>)>;

/// The (key, value) pairs `journal` recorded, all inserts into the table
/// named `name`, in the order recorded (for tests of the writes that
/// record them). Panics when the journal holds anything else.
#[cfg(test)]
#[allow(clippy::panic, clippy::expect_used, reason = "a test helper")]
pub(crate) fn journaled(journal: &Journal, name: &str) -> Rows {
    let Captured::Changes(bytes) = journal.take() else {
        panic!("the journal records");
    };
    entries(&bytes)
        .expect("the journal's entries read back")
        .into_iter()
        .map(|e| {
            assert_eq!(e.table, name);
            (e.key.to_vec(), e.value.expect("an insert").to_vec())
        })
        .collect()
}

/// Every (key, value) of the table named `name` as bytes, in key order
/// (for tests comparing stores table by table).
#[cfg(test)]
pub(crate) fn dump(txn: &redb::ReadTransaction, name: &str) -> Option<Result<Rows>> {
    use redb::ReadableTable;
    struct Dump<'t>(&'t redb::ReadTransaction);
    impl TableVisit for Dump<'_> {
        type Out = Result<Rows>;
        fn visit<K: Key + 'static, V: Value + 'static>(
            self,
            def: TableDefinition<'static, K, V>,
        ) -> Self::Out {
            let table = match self.0.open_table(def) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            let mut out = Vec::new();
            for entry in table.iter()? {
                let (k, v) = entry?;
                out.push((
                    K::as_bytes(&k.value()).as_ref().to_vec(),
                    V::as_bytes(&v.value()).as_ref().to_vec(),
                ));
            }
            Ok(out)
        }
    }
    with_table(name, Dump(txn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::schema::USERS;
    use redb::ReadableTable;

    #[test]
    fn entries_read_back_in_order() {
        let j = Journal::recording();
        j.insert(&USERS, &7, &b"seven".as_slice());
        j.remove(&META, &"last_id.user");
        j.insert(&META, &"last_id.user", &9);
        let Captured::Changes(bytes) = j.take() else {
            panic!("a recording journal gives its changes");
        };
        let got = entries(&bytes).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].table, "users");
        assert_eq!(got[0].key, 7u64.to_le_bytes());
        assert_eq!(got[0].value, Some(&b"seven"[..]));
        assert_eq!(got[1].value, None);
        assert_eq!(got[2].value, Some(&9u64.to_le_bytes()[..]));
        // Taken: the next commit's journal starts empty.
        assert_eq!(j.take(), Captured::Changes(Vec::new()));
    }

    #[test]
    fn a_journal_not_recording_gives_nothing_and_a_huge_one_says_so() {
        let j = Journal::default();
        j.insert(&USERS, &1, &b"x".as_slice());
        assert_eq!(j.take(), Captured::Off);
        let j = Journal::recording();
        let big = vec![0u8; MAX_JOURNAL / 4];
        for id in 0..5 {
            j.insert(&USERS, &id, &big.as_slice());
        }
        assert_eq!(j.take(), Captured::TooLarge);
    }

    #[test]
    fn damaged_bytes_are_refused_not_applied() {
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let txn = db.begin_write().unwrap();
        let j = Journal::recording();
        j.insert(&USERS, &7, &b"seven".as_slice());
        let Captured::Changes(bytes) = j.take() else {
            panic!("changes");
        };
        for cut in 1..bytes.len() {
            assert!(replay(&txn, &bytes[..cut]).is_err(), "cut at {cut}");
        }
        // A key of the wrong width for its table.
        let mut wrong = bytes.clone();
        wrong[1 + 1 + 5] = 3;
        assert!(replay(&txn, &wrong).is_err());
        // A table no store has.
        let mut unknown = bytes.clone();
        unknown[2] = b'X';
        assert!(replay(&txn, &unknown).is_err());
        replay(&txn, &bytes).unwrap();
        assert_eq!(
            txn.open_table(USERS)
                .unwrap()
                .get(7)
                .unwrap()
                .unwrap()
                .value(),
            b"seven"
        );
    }

    #[test]
    fn every_table_of_a_store_is_known_to_the_replay_registry() {
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        crate::storage::format::prepare(&db).unwrap();
        let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
        let names: Vec<String> = txn
            .list_tables()
            .unwrap()
            .map(|t| t.name().to_string())
            .collect();
        assert!(names.len() > 30, "{names:?}");
        for name in names {
            assert!(
                with_table(&name, Named).is_some(),
                "table {name} is not in the replay registry (storage::wal::journal::with_table)"
            );
        }
        struct Named;
        impl TableVisit for Named {
            type Out = ();
            fn visit<K: Key + 'static, V: Value + 'static>(
                self,
                _: TableDefinition<'static, K, V>,
            ) {
            }
        }
    }
}
