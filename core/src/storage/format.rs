//! The store file's format: recognising a rosterdb file, creating one, and
//! migrating an older one (docs/reference/transactions.md; docs/reference/storage.md).

use std::fs::File;
use std::path::Path;

use redb::{Database, ReadableDatabase, TableHandle, WriteTransaction};

use crate::storage::backend::StoreBackend;
use crate::storage::schema::{
    META, MULTI_TABLES, POSTING_TABLES, RECORD_TABLES, SESSION_EXPIRY, SESSION_PRINCIPAL, SESSIONS,
    UNIQUE_TABLES, meta,
};
use crate::storage::tx::Tables;
use crate::{Error, Result};

/// The format version this release writes.
pub const FORMAT_VERSION: u64 = 11;

/// A step from format version `n` to `n + 1`, run inside the opening transaction.
pub(crate) type Migration = fn(&WriteTransaction) -> Result<()>;

/// `MIGRATIONS[n - 1]` takes a version-`n` file to version `n + 1`
/// (`crate::storage::migrations` holds the steps and the format history).
const MIGRATIONS: &[Migration] = &[
    crate::storage::migrations::v1_to_v2,
    crate::storage::migrations::v2_to_v3,
    crate::storage::migrations::v3_to_v4,
    crate::storage::migrations::v4_to_v5,
    crate::storage::migrations::v5_to_v6,
    crate::storage::migrations::v6_to_v7,
    crate::storage::migrations::v7_to_v8,
    crate::storage::migrations::v8_to_v9,
    crate::storage::migrations::v9_to_v10,
    crate::storage::migrations::v10_to_v11,
];

/// The first bytes of every redb file.
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];

/// What the first bytes of a file (or backend) say it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Head {
    /// Nothing, or what an interrupted creation left (see
    /// [`interrupted_creation`]): a store is created there.
    Blank,
    /// A redb file.
    Redb,
    /// Something else.
    Foreign,
}

/// Reads what the `len` bytes that `read(offset, buffer)` reads hold: the
/// one test behind [`Store::open`](crate::Store::open),
/// [`Store::open_with_backend`](crate::Store::open_with_backend) and the
/// fresh start of an interrupted creation.
pub(crate) fn first_bytes(
    len: u64,
    mut read: impl FnMut(u64, &mut [u8]) -> std::io::Result<()>,
) -> std::io::Result<Head> {
    if len == 0 {
        return Ok(Head::Blank);
    }
    let mut head = [0u8; REDB_MAGIC.len()];
    if len >= head.len() as u64 {
        read(0, &mut head)?;
        if head == REDB_MAGIC {
            return Ok(Head::Redb);
        }
    }
    if len > MAX_INTERRUPTED_LEN {
        return Ok(Head::Foreign);
    }
    let mut bytes = vec![0u8; usize::try_from(len).map_err(std::io::Error::other)?];
    read(0, &mut bytes)?;
    Ok(if interrupted_creation(&bytes) {
        Head::Blank
    } else {
        Head::Foreign
    })
}

/// Whether `path` is an existing, non-empty redb file; an error for any other
/// non-empty file, except one an interrupted creation left (see
/// [`interrupted_creation`]), which counts as empty.
fn check_header(path: &Path) -> Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::storage_from(e)),
    };
    let len = file.metadata()?.len();
    let read = |offset: u64, out: &mut [u8]| {
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(out)
    };
    match first_bytes(len, read)? {
        Head::Blank => Ok(false),
        Head::Redb => Ok(true),
        Head::Foreign => Err(Error::incompatible("not a rosterdb file")),
    }
}

/// Refuses a non-empty `backend` whose first bytes are not redb's, unless
/// an interrupted creation left it (see [`interrupted_creation`]).
pub(crate) fn check_backend_header(backend: &impl redb::StorageBackend) -> Result<()> {
    let len = backend.len().map_err(Error::storage_from)?;
    match first_bytes(len, |offset, out| backend.read(offset, out)).map_err(Error::storage_from)? {
        Head::Foreign => Err(Error::incompatible("not a rosterdb file")),
        Head::Blank | Head::Redb => Ok(()),
    }
}

/// The longest file an interrupted creation can leave: redb sizes a new
/// file (73,728 bytes with its 4 KiB pages) before it writes a byte.
const MAX_INTERRUPTED_LEN: u64 = 1 << 20;
/// The length of redb's file header (`DB_HEADER_SIZE` in redb 4).
const REDB_HEADER_LEN: usize = 320;
/// Where redb's header keeps the page size (a little-endian `u32`).
const REDB_PAGE_SIZE_AT: usize = 12;

/// Whether `bytes`, a whole file, is what a crash while redb creates a
/// file leaves: redb sizes the file, writes its header without the magic
/// number, syncs, and only then writes the magic number. Such a file holds
/// zeros, or a header whose magic number is missing or torn (a prefix of
/// it, then zeros) and zeros after it; it holds no data, and redb refuses
/// to open it, so a store created there could never be opened again.
fn interrupted_creation(bytes: &[u8]) -> bool {
    if bytes.iter().all(|&b| b == 0) {
        return true;
    }
    let (Some(magic), Some(page_size), Some(rest)) = (
        bytes.get(..REDB_MAGIC.len()),
        bytes.get(REDB_PAGE_SIZE_AT..REDB_PAGE_SIZE_AT.saturating_add(4)),
        bytes.get(REDB_HEADER_LEN..),
    ) else {
        return false;
    };
    let landed = magic
        .iter()
        .zip(REDB_MAGIC)
        .take_while(|(b, m)| *b == m)
        .count();
    let torn_magic = landed < REDB_MAGIC.len()
        && magic
            .get(landed..)
            .is_some_and(|tail| tail.iter().all(|&b| b == 0));
    let page_size = page_size
        .try_into()
        .map(u32::from_le_bytes)
        .is_ok_and(|p| p == 0 || (p.is_power_of_two() && (512..=65_536).contains(&p)));
    torn_magic && page_size && rest.iter().all(|&b| b == 0)
}

/// Opens (creating it when missing) the redb database kept in `backend`,
/// after emptying a file an interrupted creation left (see
/// [`interrupted_creation`]).
///
/// Every page's checksum is verified as the file opens (redb's
/// `set_check_integrity_on_open`): redb trusts a file it closed cleanly and
/// may panic on one damaged since, where the check gives `Corrupted`
/// (`IncompatibleFormat`). It costs what redb's recovery after a crash
/// costs: a read of the whole file and a commit. redb empties its page
/// cache after that check, so the cache of `cache_bytes` bytes fills only
/// as later reads and writes go through pages.
pub(crate) fn create_database(
    backend: impl redb::StorageBackend,
    cache_bytes: usize,
) -> Result<Database> {
    let mut builder = Database::builder();
    builder
        .set_check_integrity_on_open(true)
        .set_cache_size(cache_bytes);
    Ok(builder.create_with_backend(StoreBackend::new(backend))?)
}

/// The file at `path` as a redb backend, created when missing.
pub(crate) fn file_backend(path: &Path) -> Result<redb::backends::FileBackend> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    Ok(redb::backends::FileBackend::new(file)?)
}

/// Refuses, without writing a byte, an existing file that is not a rosterdb
/// store, that a newer release wrote, or whose migration would fail
/// (`migrations::preflight`).
///
/// redb trusts a file it closed cleanly, and may panic reading one damaged
/// since; the integrity check that turns that into an error cannot run on
/// a read-only open. So a panic while reading here refuses the file as
/// damaged (`IncompatibleFormat`), leaving it untouched.
pub(crate) fn inspect(path: &Path) -> Result<()> {
    if !check_header(path)? {
        return Ok(());
    }
    std::panic::catch_unwind(|| inspect_redb_file(path)).unwrap_or_else(|_| {
        Err(Error::incompatible(
            "a damaged file: the storage engine failed reading it",
        ))
    })
}

fn inspect_redb_file(path: &Path) -> Result<()> {
    match Database::builder().open_read_only(path) {
        Ok(db) => match classify(&db)? {
            Contents::Store(version) if version < FORMAT_VERSION => {
                crate::storage::migrations::preflight(&db.begin_read()?, version)
            }
            _ => Ok(()),
        },
        // A file that needs recovery is checked after the read-write open repairs it.
        Err(redb::DatabaseError::RepairAborted) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// What an opened file holds.
enum Contents {
    /// No tables at all: a new file.
    Nothing,
    /// A rosterdb store of this format version.
    Store(u64),
}

fn classify(db: &impl ReadableDatabase) -> Result<Contents> {
    let read = db.begin_read()?;
    let mut names = read.list_tables()?.map(|t| t.name().to_owned()).peekable();
    if names.peek().is_none() {
        return Ok(Contents::Nothing);
    }
    if !names.any(|n| n == META.name()) {
        return Err(Error::incompatible(
            "a redb file that is not a rosterdb store",
        ));
    }
    let version = read
        .meta(meta::FORMAT_VERSION)?
        .ok_or_else(|| Error::incompatible("the file has no rosterdb format version"))?;
    if version > FORMAT_VERSION {
        return Err(newer(version, FORMAT_VERSION));
    }
    Ok(Contents::Store(version))
}

fn newer(version: u64, current: u64) -> Error {
    Error::incompatible(format!(
        "format version {version} is newer than this release supports ({current})"
    ))
}

/// The first format whose stores keep a write-ahead log (decision 0018).
const LOGGED_FORMAT: u64 = 7;

/// Whether `db` is a store that keeps a write-ahead log already (format 7
/// or later); `IncompatibleFormat` as [`prepare`] for a foreign file or
/// one of a newer format.
pub(crate) fn keeps_log(db: &Database) -> Result<bool> {
    Ok(matches!(classify(db)?, Contents::Store(version) if version >= LOGGED_FORMAT))
}

/// Makes `db` a rosterdb store of the current format: creates the tables of
/// an empty file, refuses foreign and newer files, migrates older ones.
pub(crate) fn prepare(db: &Database) -> Result<()> {
    match classify(db)? {
        Contents::Nothing => initialise(db),
        Contents::Store(version) => migrate(db, version, FORMAT_VERSION, MIGRATIONS),
    }
}

fn initialise(db: &Database) -> Result<()> {
    let txn = db.begin_write()?;
    create_tables(&txn)?;
    let mut meta = txn.open_table(META)?;
    meta.insert(meta::FORMAT_VERSION, FORMAT_VERSION)?;
    meta.insert(crate::storage::wal::WAL_EPOCH, 0)?;
    meta.insert(crate::storage::wal::WAL_LSN, 0)?;
    meta.insert(crate::storage::wal::WAL_ID, crate::storage::wal::new_id()?)?;
    drop(meta);
    txn.commit()?;
    Ok(())
}

/// Opens every table once, which creates the missing ones.
pub(crate) fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(META)?;
    for table in RECORD_TABLES {
        txn.open_table(table)?;
    }
    for table in UNIQUE_TABLES {
        match crate::storage::unique::hashed(&table) {
            Some(hashed) => drop(txn.open_table(hashed)?),
            None => drop(txn.open_table(table)?),
        }
    }
    for table in MULTI_TABLES {
        txn.open_table(table)?;
    }
    for table in POSTING_TABLES {
        txn.open_table(table)?;
    }
    for (_, table) in crate::storage::run_counts::COUNTED {
        txn.open_table(table)?;
    }
    txn.open_table(SESSIONS)?;
    txn.open_table(SESSION_PRINCIPAL)?;
    txn.open_table(SESSION_EXPIRY)?;
    Ok(())
}

/// Runs the migrations from `version` to `current` in one transaction.
pub(crate) fn migrate(
    db: &Database,
    version: u64,
    current: u64,
    migrations: &[Migration],
) -> Result<()> {
    if version > current {
        return Err(newer(version, current));
    }
    if version == 0 {
        return Err(Error::incompatible("format version 0 does not exist"));
    }
    if version == current {
        return Ok(());
    }
    let txn = db.begin_write()?;
    for from in version..current {
        let step = from
            .checked_sub(1)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| migrations.get(i))
            .ok_or_else(|| Error::incompatible(format!("no migration from format {from}")))?;
        step(&txn)?;
    }
    create_tables(&txn)?;
    txn.open_table(META)?
        .insert(meta::FORMAT_VERSION, current)?;
    txn.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use redb::ReadableTable;
    use redb::backends::InMemoryBackend;

    use super::*;

    fn fresh() -> Database {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .unwrap();
        prepare(&db).unwrap();
        db
    }

    fn version(db: &Database) -> u64 {
        db.begin_read()
            .unwrap()
            .meta(meta::FORMAT_VERSION)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn migrations_run_in_order_in_one_transaction() {
        const MARK: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("mark");
        fn one(txn: &WriteTransaction) -> Result<()> {
            txn.open_table(MARK)?.insert("steps", 1)?;
            Ok(())
        }
        fn two(txn: &WriteTransaction) -> Result<()> {
            let mut t = txn.open_table(MARK)?;
            let steps = t.get("steps")?.map(|v| v.value()).unwrap_or(0);
            t.insert("steps", steps * 10 + 2)?;
            Ok(())
        }
        let db = fresh();
        migrate(&db, 1, 3, &[one, two]).unwrap();
        assert_eq!(version(&db), 3);
        let read = db.begin_read().unwrap();
        let steps = read
            .open_table(MARK)
            .unwrap()
            .get("steps")
            .unwrap()
            .unwrap()
            .value();
        assert_eq!(steps, 12);
    }

    #[test]
    fn a_failed_migration_changes_nothing() {
        fn fails(_: &WriteTransaction) -> Result<()> {
            Err(Error::storage("disk on fire"))
        }
        let db = fresh();
        assert!(migrate(&db, 1, 2, &[fails]).is_err());
        assert_eq!(version(&db), FORMAT_VERSION);
        assert!(matches!(
            migrate(&db, 1, 3, &[]),
            Err(Error::IncompatibleFormat { .. })
        ));
        assert_eq!(version(&db), FORMAT_VERSION);
    }

    /// What a crash while redb creates a file can leave: the file sized,
    /// then redb's header with `magic` bytes of its magic number (a new
    /// file's header, here), then zeros.
    fn interrupted(magic: usize) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.redb");
        drop(Database::create(&path).unwrap());
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[magic..REDB_MAGIC.len()].fill(0);
        bytes[REDB_HEADER_LEN..].fill(0);
        bytes.resize(73_728, 0);
        bytes
    }

    #[test]
    fn what_an_interrupted_creation_leaves_is_recognised() {
        assert!(interrupted_creation(&[0; 73_728]));
        assert!(interrupted_creation(&[0; 5]));
        for magic in 0..REDB_MAGIC.len() {
            assert!(interrupted_creation(&interrupted(magic)), "{magic}");
        }
        // A whole magic number is a redb file; data past the header, a
        // page size redb never writes, or bytes that are not the magic
        // number's are someone's data.
        assert!(!interrupted_creation(&interrupted(REDB_MAGIC.len())));
        let mut data = interrupted(0);
        data[REDB_HEADER_LEN + 100] = 1;
        assert!(!interrupted_creation(&data));
        let mut page = interrupted(0);
        page[REDB_PAGE_SIZE_AT..REDB_PAGE_SIZE_AT + 4].copy_from_slice(&3000u32.to_le_bytes());
        assert!(!interrupted_creation(&page));
        let mut other = interrupted(3);
        other[1] = b'x';
        assert!(!interrupted_creation(&other));
        assert!(!interrupted_creation(b"red"));
        assert!(!interrupted_creation(b"redb"));
    }

    #[test]
    fn a_file_an_interrupted_creation_left_becomes_a_new_store() {
        let dir = tempfile::tempdir().unwrap();
        for (i, bytes) in [vec![0; 73_728], interrupted(0), interrupted(4)]
            .into_iter()
            .enumerate()
        {
            let path = dir.path().join(format!("cut-{i}.redb"));
            std::fs::write(&path, &bytes).unwrap();
            let store = crate::Store::open(&path, crate::Options::default()).unwrap();
            store.roles().create(crate::NewRole::new("admins")).unwrap();
            drop(store);
            let store = crate::Store::open(&path, crate::Options::default()).unwrap();
            assert_eq!(store.roles().get(1).unwrap().name, "admins");

            let backend = InMemoryBackend::new();
            redb::StorageBackend::set_len(&backend, bytes.len() as u64).unwrap();
            redb::StorageBackend::write(&backend, 0, &bytes).unwrap();
            let store = crate::Store::open_with_backend(backend, crate::Options::default());
            store
                .unwrap()
                .roles()
                .create(crate::NewRole::new("admins"))
                .unwrap();
        }
        // Anything else is refused and left as it is.
        let mut data = interrupted(0);
        data[REDB_HEADER_LEN] = 7;
        let path = dir.path().join("data.bin");
        std::fs::write(&path, &data).unwrap();
        assert!(matches!(
            crate::Store::open(&path, crate::Options::default()),
            Err(Error::IncompatibleFormat { .. })
        ));
        assert!(std::fs::read(&path).unwrap() == data, "the file changed");
    }

    /// The format-3 fixture with bit 7 of byte 124,150 flipped: a `meta`
    /// key that is no longer UTF-8, on which a plain redb open panics.
    fn damaged_fixture() -> Vec<u8> {
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/format-v3.redb");
        let mut bytes = std::fs::read(fixture).unwrap();
        bytes[124_150] ^= 0x80;
        bytes
    }

    #[test]
    fn a_file_damaged_since_redb_closed_it_is_refused_without_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damaged.redb");
        let bytes = damaged_fixture();
        std::fs::write(&path, &bytes).unwrap();
        let result = crate::Store::open(&path, crate::Options::default());
        assert!(
            matches!(result, Err(Error::IncompatibleFormat { .. })),
            "{result:?}"
        );
        assert!(std::fs::read(&path).unwrap() == bytes, "the file changed");

        let backend = InMemoryBackend::new();
        redb::StorageBackend::set_len(&backend, bytes.len() as u64).unwrap();
        redb::StorageBackend::write(&backend, 0, &bytes).unwrap();
        let result = crate::Store::open_with_backend(backend, crate::Options::default());
        assert!(
            matches!(result, Err(Error::IncompatibleFormat { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn newer_and_zero_versions_are_refused() {
        let db = fresh();
        for v in [0, FORMAT_VERSION + 1] {
            assert!(matches!(
                migrate(&db, v, FORMAT_VERSION, MIGRATIONS),
                Err(Error::IncompatibleFormat { .. })
            ));
        }
    }
}
