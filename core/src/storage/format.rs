//! The store file's format: recognising a rosterdb file, creating one, and
//! migrating an older one (SPEC §5, §11).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use redb::{Database, ReadableDatabase, TableHandle, WriteTransaction};

use crate::storage::schema::{
    META, MULTI_TABLES, RECORD_TABLES, SESSION_EXPIRY, SESSION_PRINCIPAL, SESSIONS, UNIQUE_TABLES,
    meta,
};
use crate::storage::tx::Tables;
use crate::{Error, Result};

/// The format version this release writes.
pub const FORMAT_VERSION: u64 = 4;

/// A step from format version `n` to `n + 1`, run inside the opening transaction.
pub(crate) type Migration = fn(&WriteTransaction) -> Result<()>;

/// `MIGRATIONS[n - 1]` takes a version-`n` file to version `n + 1`
/// (`crate::storage::migrations` holds the steps and the format history).
const MIGRATIONS: &[Migration] = &[
    crate::storage::migrations::v1_to_v2,
    crate::storage::migrations::v2_to_v3,
    crate::storage::migrations::v3_to_v4,
];

/// The first bytes of every redb file.
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];

/// Whether `path` is an existing, non-empty redb file; an error for any other
/// non-empty file.
fn check_header(path: &Path) -> Result<bool> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::storage_from(e)),
    };
    let mut head = Vec::with_capacity(REDB_MAGIC.len());
    file.by_ref()
        .take(REDB_MAGIC.len() as u64)
        .read_to_end(&mut head)?;
    if head.is_empty() {
        Ok(false)
    } else if head == REDB_MAGIC {
        Ok(true)
    } else {
        Err(Error::incompatible("not a rosterdb file"))
    }
}

/// Refuses a non-empty `backend` whose first bytes are not redb's.
pub(crate) fn check_backend_header(backend: &impl redb::StorageBackend) -> Result<()> {
    let len = backend.len().map_err(backend_error)?;
    if len == 0 {
        return Ok(());
    }
    let mut head = [0u8; REDB_MAGIC.len()];
    if len < head.len() as u64 {
        return Err(Error::incompatible("not a rosterdb file"));
    }
    backend.read(0, &mut head).map_err(backend_error)?;
    if head == REDB_MAGIC {
        Ok(())
    } else {
        Err(Error::incompatible("not a rosterdb file"))
    }
}

fn backend_error(e: std::io::Error) -> Error {
    Error::storage_from(e)
}

/// Refuses, without writing a byte, an existing file that is not a rosterdb
/// store, that a newer release wrote, or whose migration would fail
/// (`migrations::preflight`).
pub(crate) fn inspect(path: &Path) -> Result<()> {
    if !check_header(path)? {
        return Ok(());
    }
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
    txn.open_table(META)?
        .insert(meta::FORMAT_VERSION, FORMAT_VERSION)?;
    txn.commit()?;
    Ok(())
}

/// Opens every table once, which creates the missing ones.
fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(META)?;
    for table in RECORD_TABLES {
        txn.open_table(table)?;
    }
    for table in UNIQUE_TABLES {
        txn.open_table(table)?;
    }
    for table in MULTI_TABLES {
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
