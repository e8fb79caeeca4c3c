//! The write-ahead log (decision 0018): a file beside a file store,
//! `<store path>-wal`, to which each commit appends one record of the
//! table changes it made, so that a durable commit costs one sequential
//! append and one `fdatasync` instead of redb's durable commit.
//!
//! A commit's record is written here first, in commit order, and its
//! write-back to the disk started; the commit is then made in redb without
//! durability (visible, not yet on disk) while the disk writes, and the log
//! is synced. A commit that fails in redb takes its record back (zeros
//! over it) and fails the log. Commits whose records are written while
//! another writer syncs share the next sync. A
//! checkpoint (a durable redb commit that also moves the store's log
//! epoch) persists every earlier commit and empties the log. On open, a
//! log of the store's epoch is replayed into the store and checkpointed.
//!
//! The log's I/O goes through a [`redb::StorageBackend`] (a file, or a
//! simulated disk in the fault tests).

pub(crate) mod frame;
pub(crate) mod journal;
mod writeback;

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use redb::{Database, Durability, StorageBackend, WriteTransaction};

use crate::storage::schema::META;
use crate::{Error, Result};

/// The log's length past which the next commit checkpoints: 8 MiB. A
/// checkpoint writes back every store page the commits since the last one
/// dirtied; the more commits it covers, the more of them share a page (at
/// 1M users, patches of ids spread over the store: 2.15 page writes per
/// patch at 8 MiB against 2.78 at 2 MiB).
pub(crate) const CHECKPOINT_BYTES: u64 = 8 << 20;

/// How long a file log is made when it is opened, and the step by which a
/// record that would be written past its length first lengthens it with
/// zeros (see [`Wal::preallocate`] and [`Wal::lengthen`]).
const PREALLOCATED: u64 = 2 << 20;

/// The meta key holding the store's log epoch: records of older epochs
/// are already in the store.
pub(crate) const WAL_EPOCH: &str = "wal_epoch";

/// The meta key holding the sequence number of the last logged commit
/// the store holds (written by each logged commit, in its transaction):
/// replay skips the records up to it, so a store file that is ahead of
/// its log (redb persisted commits whose log records were lost) is never
/// set back.
pub(crate) const WAL_LSN: &str = "wal_lsn";

/// The meta key holding the store's log id, drawn at random when the
/// store is made: a log whose header names another id is not its log.
pub(crate) const WAL_ID: &str = "wal_id";

/// A new store's log id.
///
/// Errors: `Internal` when the system has no randomness to give.
pub(crate) fn new_id() -> Result<u64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::internal(format!("no randomness for the log id: {e}")))?;
    Ok(u64::from_le_bytes(bytes))
}

/// The path of the log of the store file at `store`: `<store>-wal`.
pub(crate) fn path_of(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// An open log, shared by the store's writers.
pub(crate) struct Wal {
    file: Box<dyn StorageBackend>,
    /// The log file itself, when it is one, through which a record's
    /// write-back to the disk is started before its commit (see
    /// [`Wal::write_ahead`]).
    writeback: Option<std::fs::File>,
    /// The log file's path, for errors (none for a simulated disk).
    path: Option<PathBuf>,
    state: Mutex<LogState>,
    /// Signalled when a sync or reset ends.
    done: Condvar,
}

struct LogState {
    /// The store's log id, written in the header.
    id: u64,
    /// The store's epoch, which the header names.
    epoch: u64,
    /// The salt of the log's current generation, which every record
    /// written now carries.
    salt: u64,
    /// Where the next record is framed (kept for its allocation).
    frame: Vec<u8>,
    /// The number of the last commit whose record is wholly written to
    /// the file (not yet synced, perhaps).
    written: u64,
    /// The last record written whose commit has not yet been confirmed
    /// (see [`Wal::confirm`] and [`Wal::revoke`]).
    unconfirmed: Option<Unconfirmed>,
    /// The sequence number the next logged commit takes.
    next_lsn: u64,
    /// Every commit numbered up to this one is durable (synced, or
    /// persisted by a checkpoint).
    synced: u64,
    /// Where the next record is written: the end of the last one.
    end: u64,
    /// How long a file log is (its zeros included), so that a record
    /// that would be written past it lengthens it first (see
    /// [`Wal::lengthen`]);
    /// `None` for a log on a simulated disk, which is never lengthened.
    allocated: Option<u64>,
    /// Whether a sync, reset or revoke is under way (one at a time; records are
    /// written meanwhile, by the writer holding the turn, past the ones
    /// the sync covers).
    busy: bool,
    /// The error of a failed write or sync: the log holds less than was
    /// committed, so no further commit is accepted until the store is
    /// reopened (the error is returned to each).
    failed: Option<Error>,
    /// Whether records were appended since the log was last emptied: a
    /// store that only read has nothing to checkpoint (and writes nothing
    /// at close).
    dirty: bool,
}

/// A record written ahead of its commit: the commit's number, the bytes
/// of the file the record takes, and the last commit whose record was
/// written before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Unconfirmed {
    seq: u64,
    at: u64,
    end: u64,
    before: u64,
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// An error naming the log at `path` (or "the write-ahead log").
fn damaged(path: Option<&Path>, why: &str) -> Error {
    let at = path.map_or_else(
        || "the write-ahead log".to_owned(),
        |p| p.display().to_string(),
    );
    Error::incompatible(format!("{at}: {why}"))
}

/// Every byte of the log in `file`.
///
/// Errors: `IncompatibleFormat` when it is too large to hold in memory;
/// `Storage` when it cannot be read.
fn read_all(file: &dyn StorageBackend, path: Option<&Path>) -> Result<Vec<u8>> {
    let len = file.len()?;
    let len = usize::try_from(len).map_err(|_| damaged(path, "it is too large to read"))?;
    let mut bytes = vec![0u8; len];
    if len > 0 {
        file.read(0, &mut bytes)?;
    }
    Ok(bytes)
}

/// Whether a log whose header is `header` may be the log of the store
/// with log id `id` in `epoch` (a missing header may: nothing follows it).
///
/// Errors: `IncompatibleFormat` naming the log when the header is
/// damaged, names another store, or an epoch newer than the store's.
fn judge(path: Option<&Path>, header: &frame::Header, id: u64, epoch: u64) -> Result<()> {
    match *header {
        frame::Header::Missing => Ok(()),
        frame::Header::Damaged(why) => Err(damaged(
            path,
            &format!("not a rosterdb write-ahead log ({why})"),
        )),
        frame::Header::Of(frame::Names { id: other, .. }) if other != id => Err(damaged(
            path,
            &format!(
                "it is the log of another store (log id {other:#x}, the store's is {id:#x}); \
                 if the store file was replaced, remove the log"
            ),
        )),
        frame::Header::Of(frame::Names { epoch: e, .. }) if e > epoch => Err(damaged(
            path,
            &format!(
                "its epoch {e} is newer than the store's ({epoch}): the log belongs to another \
                 copy of the store"
            ),
        )),
        frame::Header::Of(_) => Ok(()),
    }
}

/// Whether `bytes`, a log whose header is damaged, is a header rewrite
/// of the log of the store with log id `id` torn by a power loss: the
/// header is only ever rewritten when the store holds everything the log
/// does (after a checkpoint, or when there was nothing to replay), so the
/// records that follow it are numbered no higher than the store's last
/// logged commit `lsn`. Such a log is emptied like a new one; any other
/// damaged header is refused.
fn torn_rewrite(bytes: &[u8], id: u64, lsn: u64) -> bool {
    frame::salvage(bytes)
        .is_some_and(|(named, records)| named == id && records.iter().all(|r| r.lsn <= lsn))
}

/// The store's log id, epoch and last logged commit.
///
/// Errors: `IncompatibleFormat` when the meta table lacks one (format 7
/// always has them); `Storage` when it cannot be read.
fn store_log(db: &Database) -> Result<(u64, u64, u64)> {
    let txn = redb::ReadableDatabase::begin_read(db)?;
    let meta = txn.open_table(META)?;
    let read = |key: &str| -> Result<u64> {
        meta.get(key)?
            .map(|v| v.value())
            .ok_or_else(|| Error::incompatible(format!("the store's meta table has no {key}")))
    };
    Ok((read(WAL_ID)?, read(WAL_EPOCH)?, read(WAL_LSN)?))
}

impl Wal {
    fn lock(&self) -> MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, LogState>) -> MutexGuard<'a, LogState> {
        self.done
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn named(&self, err: Error) -> Error {
        match &self.path {
            Some(path) => err.with_path(path),
            None => err,
        }
    }

    fn damaged(&self, why: &str) -> Error {
        damaged(self.path.as_deref(), why)
    }

    /// Checks, before the store is prepared (created or migrated), that
    /// the log in `file` may belong to the store `db`: its header whole
    /// and naming the store's log id, its epoch not newer than the
    /// store's; a store of a format before 7 (no log id yet) has no log,
    /// so a log with records is another store's. Refusing here leaves the
    /// store file as it was.
    ///
    /// Errors: `IncompatibleFormat` naming the log, as [`Wal::open`];
    /// `Storage` when either cannot be read.
    pub(crate) fn precheck(
        db: &Database,
        file: &dyn StorageBackend,
        path: Option<&Path>,
    ) -> Result<()> {
        let store = store_log(db).ok();
        let bytes = read_all(file, path)?;
        let parsed = frame::parse(&bytes);
        match (store, &parsed.header) {
            (None, frame::Header::Of(_)) if !parsed.records.is_empty() => Err(damaged(
                path,
                "it holds records, but the store has never had a log: it is the log of \
                 another store; if the store file was replaced, remove the log",
            )),
            (None, frame::Header::Of(_)) => Ok(()),
            (Some((id, _, lsn)), frame::Header::Damaged(_)) if torn_rewrite(&bytes, id, lsn) => {
                Ok(())
            }
            (Some((id, epoch, _)), header) => judge(path, header, id, epoch),
            (None, header) => judge(path, header, 0, 0).or_else(|e| match header {
                frame::Header::Damaged(_) => Err(e),
                _ => Ok(()),
            }),
        }
    }

    /// Opens the log kept in `file` for the store `db` (whose file lock is
    /// held): replays the records of the store's epoch into the store, in
    /// order, up to the first torn or damaged one, and checkpoints (the
    /// store's epoch moves on, the log is emptied). An empty or new log is
    /// given its header.
    ///
    /// Errors: `IncompatibleFormat` naming the log when its header is
    /// damaged, when its epoch is newer than the store's (the log belongs
    /// to another copy of the store) or when a record does not apply;
    /// `Storage` when the log or the store cannot be read or written.
    pub(crate) fn open(
        db: &Database,
        file: Box<dyn StorageBackend>,
        path: Option<PathBuf>,
    ) -> Result<Wal> {
        let (id, epoch, lsn) = store_log(db)?;
        let wal = Wal {
            file,
            writeback: None,
            path,
            state: Mutex::new(LogState {
                id,
                epoch,
                salt: 0,
                frame: Vec::new(),
                written: 0,
                unconfirmed: None,
                next_lsn: lsn.saturating_add(1),
                synced: 0,
                end: 0,
                allocated: None,
                busy: false,
                failed: None,
                dirty: false,
            }),
            done: Condvar::new(),
        };
        wal.recover(db, id, epoch, lsn).map_err(|e| wal.named(e))?;
        if wal.path.is_some() {
            wal.preallocate().map_err(|e| wal.named(e))?;
        }
        Ok(wal)
    }

    fn recover(&self, db: &Database, id: u64, epoch: u64, lsn: u64) -> Result<()> {
        let bytes = read_all(self.file.as_ref(), self.path.as_deref())?;
        let parsed = frame::parse(&bytes);
        if matches!(parsed.header, frame::Header::Damaged(_)) && torn_rewrite(&bytes, id, lsn) {
            // A torn header rewrite: the store holds everything the log does.
            return self.reset(epoch, 0);
        }
        judge(self.path.as_deref(), &parsed.header, id, epoch)?;
        let records = match parsed.header {
            frame::Header::Of(names) if names.epoch == epoch => parsed.records,
            _ => Vec::new(),
        };
        // Records the store holds already (it may be ahead of its log).
        let records: Vec<_> = records.into_iter().filter(|r| r.lsn > lsn).collect();
        if records.is_empty() {
            // A new log, one cut before its header, one of an older epoch
            // (already in the store), one the store is ahead of, one with
            // a torn first record: nothing to replay. A new generation
            // (salt) makes whatever the file holds past the header stale.
            return self.reset(epoch, 0);
        }
        let txn = db.begin_write()?;
        let mut last = lsn;
        for (n, record) in records.iter().enumerate() {
            last = last.max(record.lsn);
            journal::replay(&txn, record.payload).map_err(|e| match e {
                Error::IncompatibleFormat { reason } => {
                    self.damaged(&format!("record {}: {reason}", n.saturating_add(1)))
                }
                other => other,
            })?;
        }
        txn.open_table(META)?.insert(WAL_LSN, last)?;
        self.lock().next_lsn = last.saturating_add(1);
        self.checkpoint_commit(txn, 0)
    }

    /// Writes zeros past the end of a file log up to [`PREALLOCATED`]
    /// bytes and syncs, so that appends overwrite blocks the file already
    /// has and a sync need not record a new length (about 90 µs less per
    /// sync on this project's disk). The zeros hold no record.
    fn preallocate(&self) -> Result<()> {
        let len = self.file.len()?;
        if len < PREALLOCATED {
            self.zero_fill(len, PREALLOCATED)?;
            self.file.sync_data()?;
        }
        self.lock().allocated = Some(len.max(PREALLOCATED));
        Ok(())
    }

    /// Writes zeros over `[from, to)` of the log file (not synced).
    fn zero_fill(&self, from: u64, to: u64) -> std::io::Result<()> {
        let zeros = vec![0u8; 1 << 20];
        let mut at = from;
        while at < to {
            let n = to
                .saturating_sub(at)
                .min(u64::try_from(zeros.len()).unwrap_or(0));
            let chunk = zeros
                .get(..usize::try_from(n).unwrap_or(0))
                .unwrap_or_default();
            self.file.write(at, chunk)?;
            at = at.saturating_add(n);
        }
        Ok(())
    }

    /// Before a record is written up to `end` (by [`Wal::write_ahead`],
    /// under the write turn): when that passes the file's length
    /// `allocated`, lengthens the file with zeros to the next multiple of
    /// [`PREALLOCATED`] at or past `end`, so that a sync records a new
    /// length once per step rather than once per record (the next sync
    /// makes the zeros durable with the record; they hold no record).
    /// Returns the file's length after.
    ///
    /// Errors: what writing the zeros raises.
    fn lengthen(&self, allocated: Option<u64>, end: u64) -> std::io::Result<Option<u64>> {
        let Some(allocated) = allocated else {
            return Ok(None);
        };
        if end <= allocated {
            return Ok(Some(allocated));
        }
        let steps = end.div_ceil(PREALLOCATED);
        let to = steps.saturating_mul(PREALLOCATED);
        self.zero_fill(allocated, to)?;
        Ok(Some(to))
    }

    /// The epoch the next records are written in.
    pub(crate) fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// The error of a failed write or sync of the log, if one failed: the
    /// store accepts no further commit.
    pub(crate) fn failure(&self) -> Option<Error> {
        self.lock().failed.clone()
    }

    /// Whether the log has outgrown [`CHECKPOINT_BYTES`].
    pub(crate) fn wants_checkpoint(&self) -> bool {
        self.lock().end > CHECKPOINT_BYTES
    }

    /// Gives the log the file it is kept in, through which each record's
    /// write-back to the disk is started as soon as it is written (see
    /// [`Wal::write_ahead`]); a log on any other backend is only synced.
    pub(crate) fn set_writeback(&mut self, file: std::fs::File) {
        self.writeback = Some(file);
    }

    /// Takes the sequence number of the next logged commit, which writes
    /// it to the store's meta table (`WAL_LSN`) in its transaction. Called
    /// while holding the write turn, then [`Wal::write_ahead`].
    pub(crate) fn next_lsn(&self) -> u64 {
        let mut state = self.lock();
        let lsn = state.next_lsn;
        state.next_lsn = lsn.saturating_add(1);
        lsn
    }

    /// Writes the record numbered `lsn` of the commit numbered `seq` to
    /// the log, ahead of that commit (made next in redb without
    /// durability, in this commit order, by the writer holding the turn),
    /// and starts its write-back to the disk, so that the disk works while
    /// redb commits and [`Wal::sync`] finds the write under way or done.
    /// The commit then either succeeds ([`Wal::confirm`]) or fails
    /// ([`Wal::revoke`] takes the record back).
    ///
    /// Errors: the log's failure, when it failed; `Internal` when the
    /// record is 4 GiB or longer; `Storage` when it cannot be written (the
    /// log fails from then on, and a torn record ends what a replay reads).
    pub(crate) fn write_ahead(&self, seq: u64, lsn: u64, payload: &[u8]) -> Result<()> {
        let (salt, at, allocated, mut frame) = {
            let mut state = self.lock();
            if let Some(err) = &state.failed {
                return Err(err.clone());
            }
            let frame = std::mem::take(&mut state.frame);
            (state.salt, state.end, state.allocated, frame)
        };
        frame.clear();
        frame::append_record(&mut frame, salt, lsn, payload)
            .ok_or_else(|| Error::internal("a write-ahead log record of 4 GiB or more"))?;
        let len = u64::try_from(frame.len()).unwrap_or(u64::MAX);
        let end = at.saturating_add(len);
        // Only the writer holding the turn writes records (and resets the
        // log), so nothing else writes at `at` meanwhile; a sync under
        // way covers the records written before it began.
        let written = self
            .lengthen(allocated, end)
            .and_then(|allocated| self.file.write(at, &frame).map(|()| allocated));
        if written.is_ok()
            && let Some(file) = &self.writeback
        {
            writeback::start(file, at, len);
        }
        let mut state = self.lock();
        state.frame = frame;
        match written {
            Ok(allocated) => {
                state.end = end;
                state.allocated = allocated;
                let before = state.written;
                state.written = seq;
                state.unconfirmed = Some(Unconfirmed {
                    seq,
                    at,
                    end,
                    before,
                });
                state.dirty = true;
                Ok(())
            }
            Err(e) => {
                let err = self.named(Error::storage_with(
                    "the write-ahead log could not be written",
                    e,
                ));
                state.failed = Some(err.clone());
                Err(err)
            }
        }
    }

    /// The commit numbered `seq`, whose record [`Wal::write_ahead`] wrote,
    /// succeeded: its record stands.
    pub(crate) fn confirm(&self, seq: u64) {
        let mut state = self.lock();
        if state.unconfirmed.is_some_and(|u| u.seq == seq) {
            state.unconfirmed = None;
        }
    }

    /// The commit numbered `seq`, whose record [`Wal::write_ahead`] wrote,
    /// failed with `err` (or panicked): its record is overwritten with
    /// zeros and the log synced, once no other sync is under way, so that
    /// no replay applies it (a replay ends at the first record that is not
    /// whole), and the log fails with `err`: the store accepts no further
    /// commit until it is opened again. Nothing is done for a commit whose
    /// record was not written.
    ///
    /// The sync also makes every record written before this one durable:
    /// their commits, made in redb, are told so (see [`Wal::sync`]) rather
    /// than failing with `err`.
    ///
    /// A sync of the log by an earlier commit may have made the record
    /// durable already; should the zeros not reach the disk either (their
    /// write or sync failing too), a crash can leave the record to be
    /// replayed when the store is next opened.
    pub(crate) fn revoke(&self, seq: u64, err: &Error) {
        let mut state = self.lock();
        let Some(record) = state.unconfirmed.filter(|u| u.seq == seq) else {
            return;
        };
        state.unconfirmed = None;
        if state.failed.is_none() {
            state.failed = Some(err.clone());
        }
        let len = usize::try_from(record.end.saturating_sub(record.at)).unwrap_or(0);
        // Best effort: the log has failed already, and its error is what
        // every later commit gets.
        self.write_synced(state, record.at, &vec![0u8; len], |state, zeroed| {
            state.end = record.at;
            state.written = record.before;
            if zeroed.is_ok() {
                state.synced = state.synced.max(record.before);
            }
        });
    }

    /// Writes `bytes` at `at` and syncs the log, once no other sync,
    /// reset or revoke is under way (waiting with `state`, the log's lock,
    /// held), then runs `after` on the log's state with the outcome,
    /// before any waiting sync may start, and wakes the waiters.
    fn write_synced<R>(
        &self,
        mut state: MutexGuard<'_, LogState>,
        at: u64,
        bytes: &[u8],
        after: impl FnOnce(&mut LogState, std::io::Result<()>) -> R,
    ) -> R {
        while state.busy {
            state = self.wait(state);
        }
        state.busy = true;
        drop(state);
        let result = self
            .file
            .write(at, bytes)
            .and_then(|()| self.file.sync_data());
        let mut state = self.lock();
        state.busy = false;
        let outcome = after(&mut state, result);
        drop(state);
        self.done.notify_all();
        outcome
    }

    /// Returns once the record of the commit numbered `seq` (written by
    /// [`Wal::write_ahead`]) is durable: syncs the log, unless another
    /// writer's sync (under way, or done since) covers it. A sync covers
    /// every record written before it began, whatever their commits'
    /// outcome (a failed one is revoked). Returns the number of the last
    /// commit whose record is known durable.
    ///
    /// Errors: the error of the failed sync (from then on, every commit
    /// fails with it), or the log's earlier failure.
    pub(crate) fn sync(&self, seq: u64) -> Result<u64> {
        let mut state = self.lock();
        loop {
            if state.synced >= seq {
                return Ok(state.synced);
            }
            if let Some(err) = &state.failed {
                return Err(err.clone());
            }
            if !state.busy {
                break;
            }
            state = self.wait(state);
        }
        state.busy = true;
        let upto = state.written;
        drop(state);
        let result = self.file.sync_data().map_err(|e| {
            self.named(Error::storage_with(
                "the write-ahead log could not be written",
                e,
            ))
        });
        let mut state = self.lock();
        state.busy = false;
        let outcome = match result {
            Ok(()) => {
                state.synced = state.synced.max(upto);
                Ok(state.synced)
            }
            Err(err) => {
                state.failed = Some(err.clone());
                Err(err)
            }
        };
        drop(state);
        self.done.notify_all();
        outcome
    }

    /// Commits `txn` as a checkpoint: durably, with the store's log epoch
    /// moved on, then empties the log into that epoch. Every commit before
    /// it (numbered up to `seq`, the checkpoint's own number) is durable
    /// once it returns.
    ///
    /// Errors: `Storage` when the commit fails (nothing of it, nor of the
    /// commits it would have persisted, is known durable), or when the log
    /// cannot be emptied (the commit is durable; the log fails from then
    /// on, and the store's newer epoch makes its records be passed over).
    pub(crate) fn checkpoint_commit(&self, mut txn: WriteTransaction, seq: u64) -> Result<()> {
        let epoch = self.epoch().saturating_add(1);
        txn.open_table(META)?.insert(WAL_EPOCH, epoch)?;
        txn.set_durability(Durability::Immediate)?;
        txn.commit()?;
        self.reset(epoch, seq)
    }

    /// Empties the log into `epoch`, once no sync is under way: a new
    /// header with a new salt is written in place and synced, and records
    /// are written from just after it again. The file keeps its length
    /// (its blocks are reused); what it holds past the header belongs to
    /// earlier generations, whose salt no longer matches. Every commit up
    /// to `seq` is then durable.
    ///
    /// Errors: `Storage` when the header cannot be written or synced (the
    /// log fails from then on), `Internal` when no salt can be drawn.
    fn reset(&self, epoch: u64, seq: u64) -> Result<()> {
        let salt = new_id()?;
        let state = self.lock();
        let header = frame::header(frame::Names {
            id: state.id,
            epoch,
            salt,
        });
        let len = u64::try_from(header.len()).unwrap_or(u64::MAX);
        self.write_synced(state, 0, &header, |state, result| match result {
            Ok(()) => {
                state.epoch = epoch;
                state.salt = salt;
                state.dirty = false;
                state.unconfirmed = None;
                state.end = len;
                state.synced = state.synced.max(seq).max(state.written);
                Ok(())
            }
            Err(e) => {
                let err = self.named(Error::storage_with(
                    "the write-ahead log could not be reset",
                    e,
                ));
                state.failed = Some(err.clone());
                Err(err)
            }
        })
    }

    /// A checkpoint of its own (at close, before compaction): an empty
    /// durable commit moving the epoch on. Nothing is done when no record
    /// was appended since the log was last emptied, nor when the log
    /// failed (the store file then keeps what redb made durable, and a
    /// reopen replays what the log holds beyond it).
    ///
    /// Errors: as [`Wal::checkpoint_commit`].
    pub(crate) fn checkpoint(&self, db: &Database) -> Result<()> {
        let seq = {
            let state = self.lock();
            if state.failed.is_some() || !state.dirty {
                return Ok(());
            }
            state.written
        };
        let txn = db.begin_write()?;
        self.checkpoint_commit(txn, seq)
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod every_write_tests;
