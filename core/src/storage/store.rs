//! The store: opening a file or memory, options, transactions and snapshots.

use std::path::Path;

use redb::backends::InMemoryBackend;
use std::sync::Arc;

use redb::{Database, ReadableDatabase};

use crate::settings::{Argon2Params, Lockout};
use crate::storage::durability::{Commits, Joined, Request, Turn, Writer};
use crate::storage::format;
use crate::storage::snapshot::Snapshot;
use crate::storage::tx::{ReadContext, ReadTx, Tables, WriteContext, WriteTx, sealed};
use crate::storage::wal::Wal;
use crate::{Clock, Error, Result, Timestamp};

/// The page cache's size when [`Options`] does not choose one: 256 MiB,
/// enough to hold a store of about 230,000 users whole (the cache fills
/// only as pages are read or written, so a small store uses little of
/// it). A larger store keeps its most recently used pages here and the
/// rest in the operating system's file cache, which serves them through a
/// read call (decision 0017, amendment 1).
pub const DEFAULT_CACHE_BYTES: u64 = 256 << 20;

/// The smallest page cache [`Options::validate`] accepts: 1 MiB.
pub const MIN_CACHE_BYTES: u64 = 1 << 20;

/// Settings chosen when a store is opened, checked by [`Store::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Argon2id parameters for new password and client-secret hashes.
    pub argon2: Argon2Params,
    /// When failed password checks lock a user out (docs/reference/credentials.md, Lockout).
    pub lockout: Lockout,
    /// Where the store reads the time.
    pub clock: Clock,
    /// The issuer named in TOTP enrolment URIs (default `rosterdb`): 1–100
    /// characters, no `:` (Key Uri Format).
    pub totp_issuer: String,
    /// The most memory, in bytes, the store's page cache holds (default
    /// [`DEFAULT_CACHE_BYTES`], at least [`MIN_CACHE_BYTES`]).
    ///
    /// The cache keeps the file's pages as they are read or written (the
    /// pages a write commits stay in it), least recently used first out,
    /// so it never holds more than the pages read or written, and at most
    /// the file's size: a store whose file is smaller than this ends up
    /// wholly in memory once read, and gets read no page from the file.
    /// A write transaction keeps up to half of it in pages written but not
    /// yet in the file. Pages beyond it are read from the operating
    /// system's file cache when needed again. Raise it when a store much
    /// larger than the cache is read at random, so that its pages stay in
    /// memory (4 GiB held a 1M-user store whole); a larger cache also
    /// means more memory first touched while a large store is written
    /// (decision 0017, amendment 1).
    pub cache_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            argon2: Argon2Params::default(),
            lockout: Lockout::default(),
            clock: Clock::system(),
            totp_issuer: "rosterdb".into(),
            cache_bytes: DEFAULT_CACHE_BYTES,
        }
    }
}

impl Options {
    /// These options with other Argon2id parameters.
    pub fn with_argon2(mut self, argon2: Argon2Params) -> Self {
        self.argon2 = argon2;
        self
    }

    /// These options with another lockout policy.
    pub fn with_lockout(mut self, lockout: Lockout) -> Self {
        self.lockout = lockout;
        self
    }

    /// These options reading time from `clock` (e.g. a [`crate::ManualClock`]'s).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// These options naming another issuer in TOTP enrolment URIs.
    pub fn with_totp_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.totp_issuer = issuer.into();
        self
    }

    /// These options with a page cache of at most `bytes` bytes (see
    /// [`Options::cache_bytes`]).
    pub fn with_cache_bytes(mut self, bytes: u64) -> Self {
        self.cache_bytes = bytes;
        self
    }

    /// The page cache size in bytes, once checked by [`Options::validate`].
    pub(crate) fn cache_size(&self) -> Result<usize> {
        usize::try_from(self.cache_bytes)
            .ok()
            .filter(|_| self.cache_bytes >= MIN_CACHE_BYTES)
            .ok_or_else(|| {
                crate::Error::argument(
                    "cache_bytes",
                    format!(
                        "must be at least {MIN_CACHE_BYTES} bytes (1 MiB) and fit in this \
                         machine's address space, not {}",
                        self.cache_bytes
                    ),
                )
            })
    }

    /// Checks every option: `InvalidArgument` naming the first bad one.
    pub fn validate(&self) -> Result<()> {
        self.argon2.validate()?;
        self.lockout.validate()?;
        let issuer = self.totp_issuer.chars().count();
        if !(1..=100).contains(&issuer)
            || self.totp_issuer.contains(':')
            || self.totp_issuer.chars().any(char::is_control)
        {
            return Err(crate::Error::argument(
                "totp_issuer",
                "must be 1 to 100 characters without ':' or control characters",
            ));
        }
        self.cache_size()?;
        Ok(())
    }
}

/// An open rosterdb store: users, roles and clients in one redb file (and,
/// for a file store, the write-ahead log beside it, decision 0018).
///
/// `Store` is `Send + Sync`: share it between threads (e.g. in an `Arc`).
/// Any number of threads may read while one writes; each call is its own
/// all-or-nothing durable write unless grouped with [`Store::write`].
/// Writers that commit while others wait share one durable commit (group
/// commit, decision 0013), and calls made while others wait share one
/// write transaction too (write groups, decision 0016); every write
/// returns once it is durable, and no read returns data a crash could
/// still lose.
pub struct Store {
    /// The database, with the turns and durability of its commits.
    commits: Arc<Commits>,
    /// Shared with every transaction and snapshot, which read it per call.
    options: Arc<Options>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("options", &self.options)
            .field("commits", &self.commits)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store file at `path`, creating it (or initialising a 0-byte
    /// file) when needed, with its write-ahead log `<path>-wal` beside it
    /// (decision 0018; beside the real file when `path` is a symlink, so
    /// that every name of the store finds it): each commit is made durable by appending its
    /// changes to the log and syncing it, and the store file is brought up
    /// to date by checkpoints (every 8 MiB of log, for a transaction too
    /// large to log, when the store is dropped). What the log holds beyond
    /// the store file is replayed here. Copy or back up a store after
    /// dropping it, or copy both files together.
    ///
    /// Every open verifies the checksum of every page in use (a read of
    /// the whole file, as after a crash). A file that a crash left while it
    /// was being created (zeros, or redb's header without its magic number)
    /// is created anew.
    ///
    /// Fails with `Locked` when another store holds the file, and with
    /// `IncompatibleFormat`, leaving the file untouched, when it is not a
    /// rosterdb file, comes from a newer release or is damaged, or when the
    /// log beside it is damaged or belongs to another store (the error
    /// names the log); `Storage` when the log cannot be read or written.
    pub fn open(path: impl AsRef<Path>, options: Options) -> Result<Store> {
        options.validate()?;
        let path = path.as_ref();
        format::inspect(path).map_err(|e| e.with_path(path))?;
        let cache = options.cache_size()?;
        let db = format::file_backend(path)
            .and_then(|backend| format::create_database(backend, cache))
            .map_err(|e| e.with_path(path))?;
        // redb holds the store file's lock: no other store uses the log.
        // The log lies beside the real file, symlinks resolved (as SQLite
        // places its `-wal`): a store opened through a link and then by
        // its real name, or through another link, finds the same log.
        let real = std::fs::canonicalize(path)
            .map_err(|e| crate::Error::storage_from(e).with_path(path))?;
        let log_path = crate::storage::wal::path_of(&real);
        let (log, writeback) = open_log_file(&log_path).map_err(|e| e.with_path(&log_path))?;
        Wal::precheck(&db, &log, Some(&log_path))?;
        let mut wal = prepared_with_log(&db, Box::new(log), Some(log_path), |e| e.with_path(path))?;
        wal.set_writeback(writeback);
        Ok(Store::assembled(db, Some(wal), options))
    }

    /// Opens the store kept in `backend` as [`Store::open_with_backend`]
    /// does, with a write-ahead log kept in `log` (decision 0018), as
    /// [`Store::open`] keeps one beside a store file: each commit is made
    /// durable by appending its changes to the log and syncing it; the
    /// store is checkpointed (its commits made durable in `backend`, the
    /// log emptied) when the log grows past 8 MiB, when a transaction is
    /// too large to log, and when the store is dropped. On open, what the
    /// log holds is replayed into the store.
    ///
    /// For tests of failures of either (e.g. a simulated disk that fails
    /// or loses unsynced writes); `log` must belong to this store only.
    ///
    /// Fails as [`Store::open_with_backend`] does, and with
    /// `IncompatibleFormat` when `log` is not a rosterdb write-ahead log or
    /// belongs to another copy of the store (its epoch is newer).
    pub fn open_with_backend_and_log(
        backend: impl redb::StorageBackend,
        log: impl redb::StorageBackend,
        options: Options,
    ) -> Result<Store> {
        options.validate()?;
        format::check_backend_header(&backend)?;
        let db = format::create_database(backend, options.cache_size()?)?;
        Wal::precheck(&db, &log, None)?;
        let wal = prepared_with_log(&db, Box::new(log), None, |e| e)?;
        Ok(Store::assembled(db, Some(wal), options))
    }

    /// Opens the store kept in `backend` (any redb [`redb::StorageBackend`]:
    /// a file wrapper that counts or fails I/O, an encrypted or remote
    /// block store), creating it when the backend is empty.
    ///
    /// Like [`Store::open`], it verifies every page in use and creates anew
    /// what an interrupted creation left.
    ///
    /// Fails with `IncompatibleFormat` when the backend holds something that
    /// is not a rosterdb store, comes from a newer release or is damaged, and with
    /// `Storage` when the backend's I/O fails. Unlike [`Store::open`], an
    /// older store whose migration fails may have had redb's crash recovery
    /// written to it before the migration is refused (the migration itself
    /// is one transaction and leaves nothing behind).
    pub fn open_with_backend(
        backend: impl redb::StorageBackend,
        options: Options,
    ) -> Result<Store> {
        options.validate()?;
        format::check_backend_header(&backend)?;
        let db = format::create_database(backend, options.cache_size()?)?;
        Store::prepared(db, options)
    }

    /// An in-memory store with default options, for tests and examples.
    pub fn memory() -> Result<Store> {
        Store::memory_with(Options::default())
    }

    /// An in-memory store with these options.
    pub fn memory_with(options: Options) -> Result<Store> {
        options.validate()?;
        let db = Database::builder()
            .set_cache_size(options.cache_size()?)
            .create_with_backend(InMemoryBackend::new())?;
        Store::prepared(db, options)
    }

    fn prepared(db: Database, options: Options) -> Result<Store> {
        format::prepare(&db)?;
        Ok(Store::assembled(db, None, options))
    }

    fn assembled(db: Database, wal: Option<Wal>, options: Options) -> Store {
        Store {
            commits: Arc::new(Commits::new(db, wal)),
            options: Arc::new(options),
        }
    }

    /// The database, for tests that read its tables directly.
    #[cfg(test)]
    pub(crate) fn db_for_tests(&self) -> &Database {
        self.commits.db()
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Runs `f` in one write transaction, committed durably when it returns
    /// `Ok` and rolled back entirely when it returns `Err` (or panics).
    ///
    /// Writers take turns; one that commits while others wait shares their
    /// durable commit (decision 0013), and every call returns once its
    /// commit is durable. `f` should not wait for another thread's read of
    /// this store: while other writers' commits wait for a durable one,
    /// that read waits for `f`'s transaction to end.
    ///
    /// Fails with `f`'s error, or `Storage` when the commit fails; when
    /// `f` fails, it may instead fail with `Storage` when a commit it could
    /// have read was lost (its durable commit failed).
    pub fn write<T>(&self, f: impl FnOnce(&WriteTx) -> Result<T>) -> Result<T> {
        let tx = self.begin(Writer::Closure)?;
        match f(&tx) {
            Ok(value) => {
                tx.commit()?;
                Ok(value)
            }
            Err(err) => {
                tx.rollback()?;
                Err(err)
            }
        }
    }

    /// Starts a write transaction to commit or roll back explicitly; while
    /// it is open, other writers wait. Prefer [`Store::write`] where a
    /// closure fits.
    ///
    /// It starts once no other write transaction is open and no group of
    /// commits waits for its durable commit (decision 0013), so everything
    /// it reads is durable. Fails with `Storage` when redb cannot start a
    /// transaction (e.g. after a failed write to the disk).
    pub fn begin_write(&self) -> Result<WriteTx> {
        self.begin(Writer::Held)
    }

    fn begin(&self, writer: Writer) -> Result<WriteTx> {
        let (txn, pending, turn) = self.commits.begin(writer)?;
        Ok(WriteTx {
            txn,
            options: Arc::clone(&self.options),
            turn,
            pending,
        })
    }

    /// Runs one operation of the store's own (`f`: it checks everything
    /// before it writes anything) as [`Store::write`] does, in a write
    /// group: while other such operations wait, the writer holding the turn
    /// runs them one after another in its write transaction, committed once
    /// for all (decisions 0016 and 0025).
    ///
    /// Returns once `f`'s writes are durable. When `f` fails while earlier
    /// operations ran in the same transaction, or a later one fails before
    /// the group commits, the transaction is rolled back and `f` runs again
    /// in a transaction of its own: an operation that fails leaves no trace
    /// and does not fail the others. `f` may therefore run more than once,
    /// on this thread or on the thread holding the turn, but only the run
    /// whose transaction commits is kept; a panic in it panics this thread.
    ///
    /// Fails with `f`'s error (from a run in which no other operation
    /// shared its transaction), or `Storage` when the commit fails.
    fn write_grouped<T: Send>(&self, mut f: impl FnMut(&WriteTx) -> Result<T> + Send) -> Result<T> {
        let mut value: Option<Result<T>> = None;
        let mut panicked: Option<Box<dyn std::any::Any + Send>> = None;
        let mut run = |tx: &WriteTx| -> bool {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(tx))) {
                Ok(result) => {
                    let ok = result.is_ok();
                    value = Some(result);
                    ok
                }
                Err(payload) => {
                    panicked = Some(payload);
                    false
                }
            }
        };
        // SAFETY: `join` returns only once the request is out of the queue
        // and, when another writer ran it, that writer is done with it; the
        // request is dropped before `run`'s captures are read.
        let request = unsafe { Request::new(&mut run) };
        let joined = self.commits.join(&request);
        let lead = match joined {
            Ok(Joined::Lead(led)) => {
                let (txn, pending, turn) = *led;
                Some(WriteTx {
                    txn,
                    options: Arc::clone(&self.options),
                    turn,
                    pending,
                })
            }
            Ok(Joined::Ran) => None,
            Err(err) => return Err(err),
        };
        let Some(mut tx) = lead else {
            let durable = request.ticket().wait(&self.commits);
            drop(request);
            if let Some(payload) = panicked {
                std::panic::resume_unwind(payload);
            }
            return match (durable?, value) {
                (true, Some(Ok(value))) => Ok(value),
                _ => self.write(&mut f),
            };
        };
        drop(request);
        if run(&tx) {
            // The operations other grouped writers published meanwhile.
            while let Some(next) = tx.turn.next_request() {
                // SAFETY: taken out of the queue by this writer, which
                // holds the turn; its ticket is not resolved yet.
                if unsafe { next.run(&tx) } {
                    tx.turn.add_member(&next);
                    continue;
                }
                // It failed after the others wrote: nothing of the group
                // is kept, and each runs again on its own.
                Turn::send_back(&next);
                tx.rollback()?;
                return self.write(&mut f);
            }
            tx.commit()?;
            return value.unwrap_or_else(no_result);
        }
        // It failed first in its transaction: nothing else ran in it.
        let rolled_back = tx.rollback();
        if let Some(payload) = panicked {
            std::panic::resume_unwind(payload);
        }
        rolled_back?;
        value.unwrap_or_else(no_result)
    }

    /// Verifies that every index entry matches its record and every record
    /// has its index entries.
    pub fn check(&self) -> Result<crate::CheckReport> {
        self.read(|r| r.with_tables(crate::storage::integrity::check))
    }

    /// Reclaims unused file space; needs the store to itself (no open
    /// transaction). Returns whether anything was reclaimed.
    pub fn compact(&mut self) -> Result<bool> {
        // Open write transactions share the commits: then redb's own
        // refusal, as before.
        let commits =
            Arc::get_mut(&mut self.commits).ok_or(redb::CompactionError::TransactionInProgress)?;
        // Every commit durable in the file first, the log emptied.
        commits.checkpoint()?;
        Ok(commits.db_mut().compact()?)
    }

    /// Runs `f` on a consistent snapshot of the store.
    ///
    /// The snapshot shows only durable commits: taken while a group of
    /// commits waits for its durable commit, it waits for it (decision
    /// 0013), and fails with `Storage` when that commit fails.
    pub fn read<T>(&self, f: impl FnOnce(&ReadTx) -> Result<T>) -> Result<T> {
        let snapshot = self.snapshot()?;
        f(&ReadTx {
            snapshot,
            options: Arc::clone(&self.options),
        })
    }

    /// A snapshot showing every commit that returned and only durable
    /// ones: the one the store keeps while no commit has started since it
    /// was taken, or a new one (then kept, when it may be shared).
    ///
    /// The kept snapshot is dropped as each commit starts, so it holds no
    /// page a later commit frees; between commits it is the latest state,
    /// which pins nothing a commit could reuse. A read that holds it (a
    /// long [`Store::read`]) keeps it open as any read transaction does.
    fn snapshot(&self) -> Result<Arc<Snapshot>> {
        let snapshots = self.commits.snapshots();
        if let Some(latest) = snapshots.latest() {
            return Ok(latest);
        }
        let tag = snapshots.tag();
        let txn = self.commits.db().begin_read()?;
        let durable = self.commits.await_visible()?;
        let snapshot = Arc::new(Snapshot::new(txn));
        if let Some(tag) = tag.filter(|_| durable) {
            snapshots.keep(tag, &snapshot);
        }
        Ok(snapshot)
    }
}

impl sealed::Sealed for Store {}

impl ReadContext for Store {
    fn with_tables<T>(&self, f: impl FnOnce(&dyn Tables) -> Result<T>) -> Result<T> {
        let snapshot = self.snapshot()?;
        f(&*snapshot)
    }

    fn now(&self) -> Timestamp {
        self.options.clock.now()
    }
}

impl WriteContext for Store {
    fn with_write<T: Send>(&self, f: impl FnMut(&WriteTx) -> Result<T> + Send) -> Result<T> {
        self.write_grouped(f)
    }

    fn options(&self) -> &Options {
        &self.options
    }
}

#[cfg(test)]
mod tests;

/// What a grouped operation that ran reports when it stored no result
/// (unreachable: its run stores one or panics).
fn no_result<T>() -> Result<T> {
    Err(Error::internal("a grouped operation left no result"))
}

/// Prepares `db` (creates or migrates it, `named` naming its errors) and
/// opens its log `file`. A log holds commits in the format of the store
/// file it was written beside, so a store that keeps one already (format
/// 7 on) has it replayed first and is migrated after; a new store, or one
/// of a format before the log, is prepared first, which gives it its log
/// id. (A failed migration then leaves the file with its log replayed.)
fn prepared_with_log(
    db: &Database,
    file: Box<dyn redb::StorageBackend>,
    path: Option<std::path::PathBuf>,
    named: impl Fn(crate::Error) -> crate::Error,
) -> Result<Wal> {
    if format::keeps_log(db).map_err(&named)? {
        let wal = Wal::open(db, file, path)?;
        format::prepare(db).map_err(named)?;
        Ok(wal)
    } else {
        format::prepare(db).map_err(named)?;
        Wal::open(db, file, path)
    }
}

/// Opens (or creates) the write-ahead log file at `path`; a new file's
/// directory entry is made durable, so that a crash cannot lose the log
/// of commits acknowledged through it. Returns the log's backend and a
/// second handle of the file, through which record write-backs start.
fn open_log_file(path: &Path) -> Result<(redb::backends::FileBackend, std::fs::File)> {
    let existed = path.exists();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    if !existed {
        file.sync_all()?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::File::open(dir)?.sync_all()?;
    }
    let writeback = file.try_clone()?;
    Ok((redb::backends::FileBackend::new(file)?, writeback))
}
