//! Unique indexes as the store file keeps them (docs/reference/storage.md,
//! decision 0029): the code names a unique index by its [`UniqueTable`]
//! and its encoded key (`kinds::user::folded_key` and the like); format 10
//! keeps the username and e-mail indexes ([`HASHED_TABLES`]) hashed, the
//! others whole.
//!
//! - **Whole:** the encoded key → the record id. The index alone says
//!   which record holds a key.
//! - **Hashed:** (XXH3-64 of the encoded key, record id) → nothing. Keys
//!   are 16 bytes of fixed width whatever the text, so the tree is
//!   shallower and each step compares two integers (a get by e-mail at 1M
//!   users takes about 0.6 µs, 12%, less: decision 0029). Two keys may share a
//!   hash: the index then holds both records under it, and only a
//!   record's own key says which it is — every reader checks it
//!   ([`Owners::is_exact`]). A hash never decides that two keys are the
//!   same.

use redb::{ReadableTable, ReadableTableMetadata, TableHandle, WriteTransaction};

use crate::storage::sorted_writes::{SMALL_RUN, insert_each, insert_new};

use crate::Result;
use crate::storage::schema::{HASHED_TABLES, HashedTable, UniqueTable};
use crate::storage::wal::journal::Journal;

/// XXH3-64 (seed 0) of an encoded unique key: what a hashed index keeps.
/// A specified hash, so a file's keys never change with the library.
pub(crate) fn hash(key: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key)
}

/// The table keeping `table` hashed, when format 10 keeps it so.
pub(crate) fn hashed(table: &UniqueTable) -> Option<HashedTable> {
    HASHED_TABLES
        .iter()
        .find(|(whole, _)| whole.name() == table.name())
        .map(|(_, hashed)| *hashed)
}

/// The records a unique index names for a key: the one record of a whole
/// index, or every record under the key's hash in a hashed one (nearly
/// always none or one), each of which may hold another key of that hash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Owners {
    first: Option<u64>,
    more: Vec<u64>,
    exact: bool,
}

impl Owners {
    /// What a whole index holds for a key.
    pub(crate) fn exact(id: Option<u64>) -> Owners {
        Owners {
            first: id,
            more: Vec::new(),
            exact: true,
        }
    }

    /// The ids, ascending.
    pub(crate) fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.first.into_iter().chain(self.more.iter().copied())
    }

    /// Whether the index alone says each id holds the key (a whole
    /// index); otherwise a record must be read to know (a hashed one).
    pub(crate) fn is_exact(&self) -> bool {
        self.exact
    }
}

/// The entries of a hashed index under `key`'s hash.
pub(crate) fn span(key: &[u8]) -> std::ops::RangeInclusive<(u64, u64)> {
    let h = hash(key);
    (h, 0)..=(h, u64::MAX)
}

/// The records of a hashed index's entries under a key's hash ([`span`]).
pub(crate) fn owners_in(entries: redb::Range<'_, (u64, u64), ()>) -> Result<Owners> {
    let mut ids = entries.map(|entry| entry.map(|(k, _)| k.value().1));
    let first = ids.next().transpose()?;
    let more = ids.collect::<std::result::Result<Vec<u64>, _>>()?;
    Ok(Owners {
        first,
        more,
        exact: false,
    })
}

/// The bytes of the entry a record's `key` puts in `table`, as
/// [`crate::storage::tx::Tables::unique_entries`] lists them: the key of
/// a whole index, the hash and id (16 bytes, big-endian) of a hashed one.
pub(crate) fn stored_key(table: &UniqueTable, key: &[u8], id: u64) -> Vec<u8> {
    match hashed(table) {
        Some(_) => hashed_entry(hash(key), id),
        None => key.to_vec(),
    }
}

/// The 16 bytes of a hashed index's entry.
pub(crate) fn hashed_entry(hash: u64, id: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    out.extend_from_slice(&hash.to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    out
}

/// A whole table or a hashed one, opened for writing.
enum Open<'t> {
    Whole(redb::Table<'t, &'static [u8], u64>),
    Hashed(HashedTable, redb::Table<'t, (u64, u64), ()>),
}

/// The unique indexes a write transaction has opened, each opened once
/// for every check and write of a record (or a batch of them).
pub(crate) struct UniqueTables<'t> {
    txn: &'t WriteTransaction,
    open: Vec<(UniqueTable, Open<'t>)>,
}

impl<'t> UniqueTables<'t> {
    /// None opened yet.
    pub(crate) fn new(txn: &'t WriteTransaction) -> UniqueTables<'t> {
        UniqueTables {
            txn,
            open: Vec::new(),
        }
    }

    /// The index `table`, opened on first use.
    fn get(&mut self, table: UniqueTable) -> Result<&mut Open<'t>> {
        let at = match self.open.iter().position(|(t, _)| t.name() == table.name()) {
            Some(at) => at,
            None => {
                let open = match hashed(&table) {
                    Some(h) => Open::Hashed(h, self.txn.open_table(h)?),
                    None => Open::Whole(self.txn.open_table(table)?),
                };
                self.open.push((table, open));
                self.open.len().saturating_sub(1)
            }
        };
        self.open
            .get_mut(at)
            .map(|(_, open)| open)
            .ok_or_else(|| crate::Error::internal("an opened unique table went missing"))
    }

    /// The records `table` names for `key`. An empty hashed table names
    /// none without a range read (its length is in its header): the keys
    /// of a new store's first import are all checked against empty tables.
    pub(crate) fn owners(&mut self, table: UniqueTable, key: &[u8]) -> Result<Owners> {
        match self.get(table)? {
            Open::Whole(t) => Ok(Owners::exact(t.get(key)?.map(|v| v.value()))),
            Open::Hashed(_, t) if t.len()? == 0 => Ok(Owners::default()),
            Open::Hashed(_, t) => owners_in(t.range(span(key))?),
        }
    }

    /// Puts the record `id`'s `key` in `table` (checked free), logged in
    /// `journal` first.
    pub(crate) fn insert(
        &mut self,
        journal: &Journal,
        table: UniqueTable,
        key: &[u8],
        id: u64,
    ) -> Result<()> {
        self.write(journal, table, (key, id), true)
    }

    /// Takes the record `id`'s `key` out of `table`, logged in `journal`
    /// first.
    pub(crate) fn remove(
        &mut self,
        journal: &Journal,
        table: UniqueTable,
        key: &[u8],
        id: u64,
    ) -> Result<()> {
        self.write(journal, table, (key, id), false)
    }

    /// Inserts (`insert`) or removes the entry of `key` and `id`.
    fn write(
        &mut self,
        journal: &Journal,
        table: UniqueTable,
        (key, id): (&[u8], u64),
        insert: bool,
    ) -> Result<()> {
        match self.get(table)? {
            Open::Whole(t) if insert => {
                journal.insert(&table, &key, &id);
                t.insert(key, id)?;
            }
            Open::Whole(t) => {
                journal.remove(&table, &key);
                t.remove(key)?;
            }
            Open::Hashed(def, t) => {
                let entry = (hash(key), id);
                if insert {
                    journal.insert(def, &entry, &());
                    t.insert(entry, ())?;
                } else {
                    journal.remove(def, &entry);
                    t.remove(entry)?;
                }
            }
        }
        Ok(())
    }

    /// Inserts the entries `keys` (key and record id; each key checked
    /// free, the keys ascending and distinct) into `table`: a whole
    /// table's in runs through cursors (`sorted_writes::insert_new`). A
    /// hashed one's go in (hash, id) order: hashes spread a batch's keys
    /// over the whole tree, so into a table holding more than a
    /// [`SMALL_RUN`]th as many entries as the batch, where a cursor run
    /// would hold few keys, one insert each (`insert_each`; runs there
    /// made a 300,000-user build take 7.5–8.1 s against 4.8–5.3 s,
    /// decision 0029); into one holding fewer (a
    /// new store's import), runs through cursors, the whole batch one run
    /// into an empty table.
    pub(crate) fn insert_sorted(
        &mut self,
        journal: &Journal,
        table: UniqueTable,
        keys: &[(&[u8], u64)],
        what: &'static str,
    ) -> Result<()> {
        match self.get(table)? {
            Open::Whole(t) => insert_new(t, (journal, table), keys, what),
            Open::Hashed(def, t) => {
                let mut entries: Vec<((u64, u64), ())> =
                    keys.iter().map(|(k, id)| ((hash(k), *id), ())).collect();
                entries.sort_unstable_by_key(|(entry, ())| *entry);
                let batch = u64::try_from(entries.len()).unwrap_or(u64::MAX);
                let sparse = t.len()?.saturating_mul(SMALL_RUN as u64) < batch;
                if sparse {
                    insert_new(t, (journal, *def), &entries, what)
                } else {
                    insert_each(t, (journal, *def), entries, what)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    // A test fails by panicking.
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::storage::kinds::user::folded_key;
    use crate::storage::schema::{
        CLIENT_CLIENT_ID, USER_EMAIL, USER_EMAIL_HASHED, USER_USERNAME, USER_USERNAME_HASHED,
    };
    use crate::storage::tx::Tables;
    use crate::{Argon2Params, Credentials, Error, NewUser, Options, Store};

    /// Puts the record `id` under the hash of `username` and `email` too,
    /// as a second key of the same hash would. XXH3 is not built to resist
    /// collisions (a pair takes about 2^32 hashes to find); a forged entry
    /// tests the same rule without searching for one.
    fn collide(store: &Store, id: u64, username: &str, email: &str) {
        store
            .write(|tx| {
                let username = hash(folded_key(None, username).bytes());
                let email = hash(folded_key(None, email).bytes());
                tx.txn
                    .open_table(USER_USERNAME_HASHED)?
                    .insert((username, id), ())?;
                tx.txn
                    .open_table(USER_EMAIL_HASHED)?
                    .insert((email, id), ())?;
                Ok(())
            })
            .unwrap();
    }

    fn store() -> Store {
        Store::memory_with(Options::default().with_argon2(Argon2Params::CHEAPEST)).unwrap()
    }

    #[test]
    fn check_reports_two_records_holding_one_key() {
        let store = store();
        let mary = store
            .users()
            .create(NewUser::new("mary", "mary@example.com", "Mary", "Major"))
            .unwrap();
        // A copy of Mary's record as user 99, with its hashed entries: a
        // hashed index holds both, and only the keys show the clash.
        store
            .write(|tx| {
                let bytes = tx.txn.record(crate::storage::schema::USERS, mary.id)?;
                let mut record: crate::documents::user::UserRecord =
                    crate::storage::codec::decode(&bytes.unwrap_or_default())?;
                record.header.id = 99;
                let copy = crate::storage::codec::encode(&record)?;
                tx.txn
                    .open_table(crate::storage::schema::USERS)?
                    .insert(99, copy.as_slice())?;
                Ok(())
            })
            .unwrap();
        collide(&store, 99, "mary", "mary@example.com");
        let report = store.check().unwrap();
        assert!(!report.ok);
        for field in ["username", "email"] {
            let clash = format!("records {} and 99 both hold one {field} key", mary.id);
            assert!(
                report.problems.iter().any(|p| p.contains(&clash)),
                "{clash}: {:?}",
                report.problems
            );
        }
    }

    #[test]
    fn a_record_under_another_keys_hash_is_never_taken_for_it() {
        let store = store();
        let users = store.users();
        let mary = users
            .create(NewUser {
                password: Some("correct horse battery".into()),
                ..NewUser::new("mary", "mary@example.com", "Mary", "Major")
            })
            .unwrap();
        collide(&store, mary.id, "john", "john@example.com");
        // Readers check the record: Mary's is not John's.
        let not_found = |r: crate::Result<crate::User>| matches!(r, Err(Error::NotFound { .. }));
        assert!(not_found(users.get_by_username("john", None)));
        assert!(not_found(users.get_by_email("JOHN@example.com", None)));
        for who in ["john", "john@example.com"] {
            let login = store.login(
                &Credentials::new(who, "correct horse battery"),
                std::time::Duration::from_secs(60),
            );
            assert!(
                matches!(login, Err(Error::AuthenticationFailed)),
                "{who}: {login:?}"
            );
        }
        // So do writers: the keys are free, and John takes them.
        let john = users
            .create(NewUser::new("John", "John@Example.com", "John", "Doe"))
            .unwrap();
        assert_eq!(users.get_by_username("JOHN", None).unwrap().id, john.id);
        assert_eq!(
            users.get_by_email("john@example.com", None).unwrap().id,
            john.id
        );
        assert_eq!(
            users.get_by_email("mary@example.com", None).unwrap().id,
            mary.id
        );
        // A bulk create checks so too: Mary's keys are taken (her own
        // entry), and a batch giving one of them fails whole.
        let batch = |name: &str| {
            vec![
                NewUser::new("ann", "ann@example.com", "A", "B"),
                NewUser::new(name, format!("{name}.2@example.com"), "C", "D"),
            ]
        };
        let bulk = users.create_many(batch("MARY"));
        assert!(
            matches!(&bulk, Err(Error::Conflict { field, .. }) if field == "username"),
            "{bulk:?}"
        );
        assert!(not_found(users.get_by_username("ann", None)));
        // And a batch giving keys under whose hashes Mary is forged goes
        // in: her record does not hold them.
        collide(&store, mary.id, "jane", "jane@example.com");
        let ids = users.create_many(batch("jane")).unwrap();
        assert_eq!(users.get_by_username("JANE", None).unwrap().id, ids[1]);
        users.delete(ids[0]).unwrap();
        users.delete(ids[1]).unwrap();
        // Now taken, by John, whatever Mary's entry says.
        let again = users.create(NewUser::new("JOHN", "other@example.com", "J", "D"));
        assert!(
            matches!(&again, Err(Error::Conflict { field, .. }) if field == "username"),
            "{again:?}"
        );
        let patched = users.patch(
            mary.id,
            &serde_json::json!([{"op": "replace", "path": "/email", "value": "JOHN@example.com"}]),
            None,
        );
        assert!(
            matches!(&patched, Err(Error::Conflict { field, .. }) if field == "email"),
            "{patched:?}"
        );
        // With John gone, Mary may take his e-mail.
        users.delete(john.id).unwrap();
        assert!(not_found(users.get_by_email("john@example.com", None)));
        let moved = users
            .patch(
                mary.id,
                &serde_json::json!([{"op": "replace", "path": "/email", "value": "john@example.com"}]),
                None,
            )
            .unwrap();
        assert_eq!(
            users.get_by_email("JOHN@EXAMPLE.COM", None).unwrap().id,
            moved.id
        );
        assert!(not_found(users.get_by_email("mary@example.com", None)));
    }

    #[test]
    fn usernames_and_emails_are_hashed_other_indexes_whole() {
        assert!(hashed(&USER_USERNAME).is_some());
        assert!(hashed(&USER_EMAIL).is_some());
        assert!(hashed(&CLIENT_CLIENT_ID).is_none());
        assert_ne!(
            hashed(&USER_USERNAME).map(|t| t.name().to_owned()),
            hashed(&USER_EMAIL).map(|t| t.name().to_owned())
        );
    }

    #[test]
    fn the_hash_is_xxh3_64_as_specified() {
        // XXH3-64 of the empty input with seed 0 (the reference
        // implementation's test vector): a file's keys depend on it.
        assert_eq!(hash(b""), 0x2D06_8005_38D3_94C2);
        assert_ne!(hash(b"a\0"), hash(b"b\0"));
    }

    #[test]
    fn stored_keys_of_hashed_indexes_are_hash_then_id() {
        let key = b"\0mary@example.com\0";
        let stored = stored_key(&USER_EMAIL, key, 7);
        assert_eq!(stored.len(), 16);
        assert_eq!(stored.get(..8), Some(hash(key).to_be_bytes().as_slice()));
        assert_eq!(stored.get(8..), Some(7u64.to_be_bytes().as_slice()));
        assert_eq!(stored_key(&CLIENT_CLIENT_ID, key, 7), key.to_vec());
    }

    /// Every entry of the hashed username table, in key order.
    fn hashed_entries(txn: &WriteTransaction) -> Vec<(u64, u64)> {
        txn.open_table(USER_USERNAME_HASHED)
            .unwrap()
            .iter()
            .unwrap()
            .map(|e| e.unwrap().0.value())
            .collect()
    }

    #[test]
    fn hashed_keys_go_in_by_runs_into_a_sparse_table_and_one_by_one_into_a_full_one() {
        use crate::storage::wal::journal::journaled;
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .unwrap();
        let txn = db.begin_write().unwrap();
        let journal = Journal::recording();
        let names: Vec<Vec<u8>> = (0..3_000)
            .map(|n| folded_key(None, &format!("user{n}")).bytes().to_vec())
            .collect();
        let keys = |ids: std::ops::Range<usize>| -> Vec<(&[u8], u64)> {
            let mut keys: Vec<(&[u8], u64)> =
                ids.map(|n| (names[n].as_slice(), n as u64 + 1)).collect();
            keys.sort_unstable();
            keys
        };
        // Into an empty table (runs through cursors), then 10 more into
        // its 100 (one insert each: 100 * SMALL_RUN > 10), then 2,000
        // into its 110 (runs again: 110 * SMALL_RUN < 2,000).
        let steps = [0..100, 100..110, 110..2_110];
        for ids in steps.clone() {
            let mut tables = UniqueTables::new(&txn);
            tables
                .insert_sorted(&journal, USER_USERNAME, &keys(ids), "test keys")
                .unwrap();
        }
        let mut want: Vec<(u64, u64)> = (0..2_110)
            .map(|n| (hash(&names[n]), n as u64 + 1))
            .collect();
        want.sort_unstable();
        assert_eq!(hashed_entries(&txn), want);
        // Each key finds its record, and one never written finds none.
        let mut tables = UniqueTables::new(&txn);
        for n in [0, 99, 100, 109, 110, 2_109] {
            let owners = tables.owners(USER_USERNAME, &names[n]).unwrap();
            assert_eq!(owners.ids().collect::<Vec<_>>(), [n as u64 + 1]);
        }
        let none = tables.owners(USER_USERNAME, &names[2_999]).unwrap();
        assert_eq!(none.ids().count(), 0);
        // The journal holds every entry once, each step's in (hash, id)
        // order, whichever way the step wrote them.
        let logged: Vec<(u64, u64)> = journaled(&journal, USER_USERNAME_HASHED.name())
            .into_iter()
            .map(|(key, _)| {
                let hash = u64::from_le_bytes(key[..8].try_into().unwrap());
                let id = u64::from_le_bytes(key[8..].try_into().unwrap());
                (hash, id)
            })
            .collect();
        let mut steps_want = Vec::new();
        for ids in steps {
            let mut step: Vec<(u64, u64)> = ids.map(|n| (hash(&names[n]), n as u64 + 1)).collect();
            step.sort_unstable();
            steps_want.extend(step);
        }
        assert_eq!(logged, steps_want);
    }

    #[test]
    fn an_empty_hashed_table_names_no_owner_and_a_written_one_does() {
        let store = store();
        store
            .write(|tx| {
                let mut tables = UniqueTables::new(&tx.txn);
                let key = folded_key(None, "mary");
                assert_eq!(
                    tables.owners(USER_USERNAME, key.bytes())?,
                    Owners::default()
                );
                tables.insert(tx.journal(), USER_USERNAME, key.bytes(), 7)?;
                assert_eq!(
                    tables
                        .owners(USER_USERNAME, key.bytes())?
                        .ids()
                        .collect::<Vec<_>>(),
                    [7]
                );
                Ok(())
            })
            .unwrap();
    }
}
