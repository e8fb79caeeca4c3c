//! The write-ahead log end to end: what a crash leaves (the store file and
//! its log copied while the store is open) reopens to every acknowledged
//! commit, table by table; checkpoints; logs that do not belong.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use redb::ReadableDatabase;

use super::journal::dump;
use super::{frame, path_of};
use crate::{
    Argon2Params, Credentials, Error, NewClient, NewRole, NewUser, Options, Secret, Store,
};

/// Every table's rows as bytes, by table name.
pub(super) type Tables = BTreeMap<String, Vec<(Vec<u8>, Vec<u8>)>>;

fn options() -> Options {
    Options::default().with_argon2(Argon2Params {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    })
}

/// Every table of the store, as bytes, but the log epoch (which a
/// reopen's checkpoint moves on).
pub(super) fn tables(db: &redb::Database) -> Tables {
    let txn = db.begin_read().unwrap();
    let mut out = Tables::new();
    for handle in txn.list_tables().unwrap() {
        let name = redb::TableHandle::name(&handle).to_owned();
        let mut rows = dump(&txn, &name)
            .unwrap_or_else(|| panic!("{name} is not in the replay registry"))
            .unwrap();
        if name == "meta" {
            rows.retain(|(k, _)| k.as_slice() != super::WAL_EPOCH.as_bytes());
        }
        out.insert(name, rows);
    }
    out
}

/// Copies the store file and its log as a crash would leave them (what
/// the process wrote, synced or not).
fn crash_copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    std::fs::copy(path_of(from), path_of(to)).unwrap();
}

/// How many records the log of the store at `store` holds.
fn log_records(store: &Path) -> usize {
    frame::parse(&std::fs::read(path_of(store)).unwrap())
        .records
        .len()
}

/// A store with one role, closed: its directory (kept alive) and path.
fn closed_store_with_a_role() -> (tempfile::TempDir, PathBuf) {
    let run = Run::new();
    run.store.roles().create(NewRole::new("admins")).unwrap();
    let Run {
        path, store, dir, ..
    } = run;
    drop(store);
    (dir, path)
}

struct Run {
    dir: tempfile::TempDir,
    path: PathBuf,
    store: Store,
    /// (copy of the files, the tables then).
    copies: Vec<(PathBuf, Tables)>,
}

impl Run {
    fn new() -> Run {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.redb");
        let store = Store::open(&path, options()).unwrap();
        Run {
            dir,
            path,
            store,
            copies: Vec::new(),
        }
    }

    /// Copies the files as a crash would now, with the tables they must
    /// reopen to.
    fn crash_here(&mut self) {
        let to = self
            .dir
            .path()
            .join(format!("copy-{}.redb", self.copies.len()));
        crash_copy(&self.path, &to);
        let want = tables(self.store.db_for_tests());
        self.copies.push((to, want));
    }
}

#[test]
fn every_acknowledged_commit_is_in_the_store_after_a_crash() {
    let mut run = Run::new();
    let s = &run.store;
    let admins = s.roles().create(NewRole::new("admins")).unwrap();
    let readers = s
        .roles()
        .create(NewRole {
            permissions: vec!["users:read".into()],
            ..NewRole::new("readers")
        })
        .unwrap();
    let mut ids = Vec::new();
    for (i, name) in ["ann", "bob", "cai", "dee", "eve"].iter().enumerate() {
        let mut new = NewUser::new(*name, format!("{name}@example.com"), "First", "Müller");
        new.roles = if i % 2 == 0 {
            vec![admins.id]
        } else {
            vec![admins.id, readers.id]
        };
        new.password = Some(Secret::new("correct horse battery"));
        ids.push(s.users().create(new).unwrap().id);
    }
    run.crash_here();
    let s = &run.store;
    let ops = serde_json::json!([
        {"op": "add", "path": "/attributes/city", "value": "Köln"},
        {"op": "replace", "path": "/lastName", "value": "Keller"}
    ]);
    s.users().patch(ids[1], &ops, None).unwrap();
    let login = s
        .login(
            &Credentials::new("ann", "correct horse battery"),
            Duration::from_secs(600),
        )
        .unwrap();
    let client = s
        .clients()
        .create(NewClient {
            roles: vec![readers.id],
            ..NewClient::new("sync job")
        })
        .unwrap();
    run.crash_here();
    let s = &run.store;
    s.users().delete(ids[2]).unwrap();
    s.logout(login.token.expose()).unwrap();
    // Deleting a role updates its holders in the same transaction.
    s.roles().delete(readers.id, true).unwrap();
    s.write(|tx| {
        for name in ["fay", "gus"] {
            tx.users()
                .create(NewUser::new(name, format!("{name}@example.com"), "F", "Ng"))?;
        }
        tx.clients().delete(client.client.id)?;
        Ok(())
    })
    .unwrap();
    run.crash_here();
    assert!(log_records(&run.path) > 0, "the commits were logged");
    for (copy, want) in &run.copies {
        let reopened = Store::open(copy, options()).unwrap();
        assert_eq!(&tables(reopened.db_for_tests()), want, "{}", copy.display());
        let report = reopened.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        // The replayed log was checkpointed: emptied into a newer epoch.
        assert_eq!(log_records(copy), 0);
        // Ids go on from the replayed counters.
        let next = reopened
            .users()
            .create(NewUser::new("zed", "zed@example.com", "Z", "Z"))
            .unwrap();
        assert!(next.id > ids[4], "{}", next.id);
    }
}

#[test]
fn a_clean_close_checkpoints_and_a_reopen_has_nothing_to_replay() {
    let run = Run::new();
    run.store.roles().create(NewRole::new("admins")).unwrap();
    assert!(log_records(&run.path) > 0);
    let Run {
        path, store, dir, ..
    } = run;
    let want = tables(store.db_for_tests());
    drop(store);
    assert_eq!(log_records(&path), 0);
    // The store file alone holds everything: a log removed after a clean
    // close loses nothing.
    std::fs::remove_file(path_of(&path)).unwrap();
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(tables(s.db_for_tests()), want);
    drop(s);
    drop(dir);
}

#[test]
fn a_transaction_too_large_to_log_commits_as_a_checkpoint() {
    let mut run = Run::new();
    run.store.roles().create(NewRole::new("admins")).unwrap();
    let big = "x".repeat(4000);
    run.store
        .write(|tx| {
            for i in 0..400 {
                let mut new = NewUser::new(format!("u{i}"), format!("u{i}@example.com"), "F", "L");
                new.attributes.insert("blob".into(), serde_json::json!(big));
                tx.users().create(new)?;
            }
            Ok(())
        })
        .unwrap();
    // Durable in the store file, the log emptied (older records too).
    assert_eq!(log_records(&run.path), 0);
    run.store
        .users()
        .create(NewUser::new("after", "after@example.com", "F", "L"))
        .unwrap();
    run.crash_here();
    let (copy, want) = &run.copies[0];
    let reopened = Store::open(copy, options()).unwrap();
    assert_eq!(&tables(reopened.db_for_tests()), want);
    assert!(reopened.check().unwrap().ok);
}

#[test]
fn a_log_is_lengthened_in_steps_and_checkpointed_past_its_bound() {
    let mut run = Run::new();
    let step = super::PREALLOCATED;
    let log_len = |path: &Path| std::fs::metadata(path_of(path)).unwrap().len();
    assert_eq!(log_len(&run.path), step);
    let big = "x".repeat(4000);
    let mut batch = 0;
    let mut write_batch = |store: &Store| {
        store
            .write(|tx| {
                for i in 0..40 {
                    let name = format!("u{batch}-{i}");
                    let mut new = NewUser::new(&name, format!("{name}@example.com"), "F", "L");
                    new.attributes.insert("blob".into(), serde_json::json!(big));
                    tx.users().create(new)?;
                }
                Ok(())
            })
            .unwrap();
        batch += 1;
    };
    // Past the preallocated length: the log grows by whole steps, and
    // every record stays readable.
    let mut logged = 0;
    while log_len(&run.path) == step {
        write_batch(&run.store);
        logged += 1;
        assert_eq!(log_records(&run.path), logged);
    }
    assert_eq!(log_len(&run.path), 2 * step);
    run.crash_here();
    // Past the checkpoint bound, the next commit checkpoints: the log is
    // emptied and keeps its length.
    let mut more = 0;
    while log_records(&run.path) > 0 {
        write_batch(&run.store);
        more += 1;
        assert!(more < 200, "no checkpoint after {more} more batches");
    }
    let len = log_len(&run.path);
    assert!(len > super::CHECKPOINT_BYTES && len % step == 0, "{len}");
    write_batch(&run.store);
    assert_eq!(log_len(&run.path), len);
    run.crash_here();
    for (copy, want) in &run.copies {
        let reopened = Store::open(copy, options()).unwrap();
        assert_eq!(&tables(reopened.db_for_tests()), want);
        assert!(reopened.check().unwrap().ok);
    }
}

#[test]
fn a_log_that_does_not_belong_to_the_store_is_refused_by_name() {
    let (dir, path) = closed_store_with_a_role();
    let log = path_of(&path);
    let frame::Names { id, epoch, .. } = header_of(&log);
    let names = |id, epoch| frame::Names {
        id,
        epoch,
        salt: 77,
    };
    // A newer epoch: the log of another copy of the store.
    std::fs::write(&log, frame::header(names(id, epoch + 1))).unwrap();
    let err = Store::open(&path, options()).unwrap_err();
    assert!(
        matches!(&err, Error::IncompatibleFormat { reason } if reason.contains("store.redb-wal") && reason.contains("newer")),
        "{err:?}"
    );
    // The log of another store (same epoch, another id).
    std::fs::write(&log, frame::header(names(id ^ 1, epoch))).unwrap();
    let err = Store::open(&path, options()).unwrap_err();
    assert!(
        matches!(&err, Error::IncompatibleFormat { reason } if reason.contains("store.redb-wal") && reason.contains("another store")),
        "{err:?}"
    );
    // A damaged header.
    let mut bad = frame::header(names(id, epoch)).to_vec();
    bad[0] = b'x';
    std::fs::write(&log, &bad).unwrap();
    let err = Store::open(&path, options()).unwrap_err();
    assert!(
        matches!(&err, Error::IncompatibleFormat { reason } if reason.contains("store.redb-wal")),
        "{err:?}"
    );
    // An older epoch's records are already in the store: passed over.
    let mut old = frame::header(names(id, epoch - 1)).to_vec();
    frame::append_record(&mut old, 77, u64::MAX, b"\x09 not a journal").unwrap();
    std::fs::write(&log, &old).unwrap();
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(s.roles().count(&crate::Query::default()).unwrap(), 1);
    drop(s);
    // A torn record of the store's epoch is cut off.
    let epoch = header_of(&log).epoch;
    let mut torn = frame::header(names(id, epoch)).to_vec();
    frame::append_record(&mut torn, 77, u64::MAX, b"\x09 not a journal").unwrap();
    std::fs::write(&log, &torn[..torn.len() - 3]).unwrap();
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(s.roles().count(&crate::Query::default()).unwrap(), 1);
    assert_eq!(log_records(&path), 0);
    drop(s);
    // A whole record that does not apply is refused, never passed over.
    let epoch = header_of(&log).epoch;
    let mut whole = frame::header(names(id, epoch)).to_vec();
    frame::append_record(&mut whole, 77, u64::MAX, b"\x09 not a journal").unwrap();
    std::fs::write(&log, &whole).unwrap();
    let err = Store::open(&path, options()).unwrap_err();
    assert!(
        matches!(&err, Error::IncompatibleFormat { reason } if reason.contains("store.redb-wal")),
        "{err:?}"
    );
    drop(dir);
}

/// What a log's header names.
fn header_of(log: &Path) -> frame::Names {
    match frame::parse(&std::fs::read(log).unwrap()).header {
        frame::Header::Of(names) => names,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_log_left_beside_a_new_store_file_is_not_replayed_into_it() {
    let run = Run::new();
    run.store.roles().create(NewRole::new("admins")).unwrap();
    let Run {
        path, store, dir, ..
    } = run;
    let other = dir.path().join("other.redb");
    crash_copy(&path, &other);
    drop(store);
    // The store file replaced by a new one; its old log stays.
    std::fs::remove_file(&other).unwrap();
    let err = Store::open(&other, options()).unwrap_err();
    assert!(
        matches!(&err, Error::IncompatibleFormat { reason } if reason.contains("another store")),
        "{err:?}"
    );
    std::fs::remove_file(path_of(&other)).unwrap();
    let s = Store::open(&other, options()).unwrap();
    assert_eq!(s.roles().count(&crate::Query::default()).unwrap(), 0);
}

#[test]
fn bulk_creates_and_imports_are_logged_key_by_key() {
    // An export to import: users in several scripts, with roles.
    let source_dir = tempfile::tempdir().unwrap();
    let source = Store::memory_with(options()).unwrap();
    let staff = source.roles().create(NewRole::new("staff")).unwrap();
    let names = ["Müller", "Øster", "Παππάς", "Иванов", "김", "Ng"];
    for (i, last) in names.iter().enumerate() {
        let mut new = NewUser::new(format!("src{i}"), format!("src{i}@example.com"), "A", *last);
        new.roles = vec![staff.id];
        source.users().create(new).unwrap();
    }
    let export = source_dir.path().join("export.jsonl");
    source.export_jsonl(&export).unwrap();

    let mut run = Run::new();
    run.store.import_jsonl(&export).unwrap();
    run.crash_here();
    // A bulk create into tables that already hold keys and posting
    // chunks: new ordered keys go in by cursor runs, stored chunks are
    // replaced.
    let batch: Vec<NewUser> = (0..40)
        .map(|i| {
            let last = names[i % names.len()];
            let mut new = NewUser::new(format!("b{i}"), format!("b{i}@example.com"), "B", last);
            new.roles = vec![staff.id];
            new.attributes
                .insert("city".into(), serde_json::json!(format!("city {i}")));
            new
        })
        .collect();
    let ids = run.store.users().create_many(batch).unwrap();
    assert_eq!(ids.len(), 40);
    run.crash_here();
    // A batch that conflicts writes nothing, and the next one goes on.
    let clash = vec![
        NewUser::new("fresh", "fresh@example.com", "F", "Ng"),
        NewUser::new("b3", "other@example.com", "F", "Ng"),
    ];
    assert!(matches!(
        run.store.users().create_many(clash),
        Err(Error::Conflict { .. })
    ));
    run.store
        .users()
        .create_many(vec![NewUser::new("last", "last@example.com", "L", "Ng")])
        .unwrap();
    run.crash_here();
    assert!(log_records(&run.path) > 0, "the bulk writes were logged");
    for (copy, want) in &run.copies {
        let reopened = Store::open(copy, options()).unwrap();
        assert_eq!(&tables(reopened.db_for_tests()), want, "{}", copy.display());
        let report = reopened.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
    }
}

/// A commit that fails (or panics) in redb after its record was written
/// ahead (and, unless `how` is `Fails`, after another sync made that
/// record durable): the call fails with `Storage` (or panics), the store
/// refuses further writes, the record is zeros in the log, and neither a
/// crash copy nor a reopen after close shows the commit, while every
/// earlier one is there.
fn a_failed_commit_takes_its_record_back(how: crate::storage::durability::failing_commit::How) {
    use crate::storage::durability::failing_commit;
    let mut run = Run::new();
    let admins = run.store.roles().create(NewRole::new("admins")).unwrap();
    let before = tables(run.store.db_for_tests());
    let records = log_records(&run.path);
    let log_before = std::fs::read(path_of(&run.path)).unwrap();

    failing_commit::arm(how);
    let store = &run.store;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.roles().create(NewRole::new("readers"))
    }));
    match (how, outcome) {
        (failing_commit::How::Panics, Err(payload)) => {
            let payload = payload.downcast::<Error>().unwrap();
            assert_eq!(payload.to_string(), failing_commit::error().to_string());
        }
        (_, Ok(Err(err @ Error::Storage { .. }))) => {
            assert_eq!(err.to_string(), failing_commit::error().to_string());
        }
        (_, other) => panic!("{how:?}: {other:?}"),
    }
    // The log failed (with the commit's error, or `Internal` for a
    // panic): no further commit, and the failed one is not visible.
    let later = run.store.roles().create(NewRole::new("writers"));
    match how {
        failing_commit::How::Panics => {
            assert!(matches!(later, Err(Error::Internal { .. })), "{later:?}");
        }
        _ => assert!(matches!(later, Err(Error::Storage { .. })), "{later:?}"),
    }
    assert_eq!(tables(run.store.db_for_tests()), before);
    // The record's bytes are zeros again: the log reads as it did before.
    assert_eq!(log_records(&run.path), records);
    assert_eq!(std::fs::read(path_of(&run.path)).unwrap(), log_before);

    run.crash_here();
    let (copy, _) = &run.copies[0];
    let reopened = Store::open(copy, options()).unwrap();
    assert_eq!(tables(reopened.db_for_tests()), before);
    drop(reopened);

    // Closed (its log failed, so not checkpointed) and opened again.
    let Run {
        path, store, dir, ..
    } = run;
    drop(store);
    let reopened = Store::open(&path, options()).unwrap();
    assert_eq!(tables(reopened.db_for_tests()), before);
    assert!(reopened.roles().get(admins.id).is_ok());
    reopened.roles().create(NewRole::new("readers")).unwrap();
    drop(reopened);
    drop(dir);
}

#[test]
fn a_commit_failing_after_its_record_was_written_leaves_no_trace() {
    a_failed_commit_takes_its_record_back(crate::storage::durability::failing_commit::How::Fails);
}

#[test]
fn a_commit_failing_after_its_record_was_synced_leaves_no_trace() {
    a_failed_commit_takes_its_record_back(
        crate::storage::durability::failing_commit::How::FailsSynced,
    );
}

#[test]
fn a_commit_panicking_after_its_record_was_synced_leaves_no_trace() {
    a_failed_commit_takes_its_record_back(crate::storage::durability::failing_commit::How::Panics);
}

/// A commit that fails in redb after an earlier commit's record was
/// written, and before that commit's writer synced: the revoke's sync
/// makes the earlier record durable (a reopen replays it), so its writer
/// is told it is durable, not the later commit's failure.
#[test]
fn a_revoked_record_does_not_fail_the_earlier_commits_its_sync_made_durable() {
    let (dir, path) = closed_store_with_a_role();
    let db = redb::Database::open(&path).unwrap();
    let log = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path_of(&path))
        .unwrap();
    let wal = super::Wal::open(
        &db,
        Box::new(redb::backends::FileBackend::new(log).unwrap()),
        Some(path_of(&path)),
    )
    .unwrap();
    // Commit 1 made, its record written; its writer gave the turn back.
    let one = wal.next_lsn();
    wal.write_ahead(1, one, b"one").unwrap();
    wal.confirm(1);
    // Commit 2 fails in redb: its record is taken back, the log fails.
    let two = wal.next_lsn();
    wal.write_ahead(2, two, b"two").unwrap();
    wal.revoke(2, &Error::storage("a commit failed in redb (test)"));
    assert!(wal.write_ahead(3, wal.next_lsn(), b"three").is_err());
    // Commit 1's record stands, synced by the revoke: a reopen replays it.
    let bytes = std::fs::read(path_of(&path)).unwrap();
    let lsns: Vec<u64> = frame::parse(&bytes).records.iter().map(|r| r.lsn).collect();
    assert_eq!(lsns, vec![one]);
    // So commit 1's writer, syncing now, is told it is durable.
    assert_eq!(wal.sync(1).ok(), Some(1));
    drop(wal);
    drop(db);
    drop(dir);
}

/// A log on a disk that keeps what its last sync made durable apart from
/// what was written since (as `fdatasync` does).
#[derive(Clone, Debug, Default)]
struct SyncedDisk {
    /// (the file as written, the file as the last sync left it durable).
    images: std::sync::Arc<std::sync::Mutex<(Vec<u8>, Vec<u8>)>>,
}

impl SyncedDisk {
    fn durable(&self) -> Vec<u8> {
        self.images.lock().unwrap().1.clone()
    }
}

impl redb::StorageBackend for SyncedDisk {
    fn len(&self) -> std::io::Result<u64> {
        Ok(self.images.lock().unwrap().0.len() as u64)
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        let images = self.images.lock().unwrap();
        let at = offset as usize;
        out.copy_from_slice(&images.0[at..at.saturating_add(out.len())]);
        Ok(())
    }
    fn set_len(&self, len: u64) -> std::io::Result<()> {
        self.images.lock().unwrap().0.resize(len as usize, 0);
        Ok(())
    }
    fn sync_data(&self) -> std::io::Result<()> {
        let mut images = self.images.lock().unwrap();
        images.1 = images.0.clone();
        Ok(())
    }
    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        let mut images = self.images.lock().unwrap();
        let end = (offset as usize).saturating_add(data.len());
        if images.0.len() < end {
            images.0.resize(end, 0);
        }
        images.0[offset as usize..end].copy_from_slice(data);
        Ok(())
    }
}

/// What the revoke's own sync is for: a commit whose record another sync
/// made durable, and which then failed in redb, leaves zeros in what the
/// disk holds durably, not only in what was written (a power loss right
/// after the failure cannot bring it back).
#[test]
fn a_revoked_record_is_zeros_on_the_disk_not_only_in_the_file() {
    use crate::storage::durability::failing_commit;
    let log = SyncedDisk::default();
    let store = Store::open_with_backend_and_log(
        redb::backends::InMemoryBackend::new(),
        log.clone(),
        options(),
    )
    .unwrap();
    store.roles().create(NewRole::new("admins")).unwrap();
    let durable_before = frame::parse(&log.durable())
        .records
        .iter()
        .map(|r| r.lsn)
        .collect::<Vec<_>>();
    assert_eq!(durable_before.len(), 1);
    failing_commit::arm(failing_commit::How::FailsSynced);
    assert!(store.roles().create(NewRole::new("readers")).is_err());
    let durable = log.durable();
    let lsns: Vec<u64> = frame::parse(&durable)
        .records
        .iter()
        .map(|r| r.lsn)
        .collect();
    assert_eq!(lsns, durable_before);
    drop(store);
}
