//! Edges of the write-ahead log beside a file store (decision 0018):
//! reopen cycles, a second open of the same path, a log file that is a
//! directory, cut short or empty, and what a power loss leaves after each.

// A test fails by panicking: unwraps, indexing and arithmetic on small
// known values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use std::path::{Path, PathBuf};

use common::options;
use rosterdb::{Error, NewRole, NewUser, Query, Store};

fn log_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

fn user(name: &str) -> NewUser {
    NewUser::new(name, format!("{name}@example.com"), "F", "L")
}

fn users(s: &Store) -> u64 {
    s.users().count(&Query::default()).unwrap()
}

/// The store file as it is now and the log as it is now, copied to `to`:
/// taken right after a checkpoint for the store file, later for the log,
/// it is what a power loss leaves.
fn copy_pair(store_file: &Path, log_from: &Path, to: &Path) {
    std::fs::copy(store_file, to).unwrap();
    std::fs::copy(log_from, log_of(to)).unwrap();
}

#[test]
fn reopened_many_times_every_write_survives_each_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let mut expected = 0;
    for round in 0..6 {
        let s = Store::open(&path, options()).unwrap();
        assert_eq!(users(&s), expected, "round {round}");
        // The store file now is its durable state (the open checkpointed
        // or found nothing to replay).
        let base = dir.path().join(format!("base-{round}.redb"));
        std::fs::copy(&path, &base).unwrap();
        for i in 0..(round + 1) {
            s.users().create(user(&format!("r{round}u{i}"))).unwrap();
            expected += 1;
        }
        if round % 2 == 1 {
            // Some rounds end in a crash: a power loss that kept the
            // store file of the open and the log of now.
            let lost = dir.path().join(format!("lost-{round}.redb"));
            copy_pair(&base, &log_of(&path), &lost);
            let r = Store::open(&lost, options()).unwrap();
            assert_eq!(users(&r), expected, "round {round}: the crash copy");
            assert!(r.check().unwrap().ok);
        }
        drop(s);
        // A clean close: the store file alone holds everything.
        let alone = dir.path().join(format!("alone-{round}.redb"));
        std::fs::copy(&path, &alone).unwrap();
        let r = Store::open(&alone, options()).unwrap();
        assert_eq!(users(&r), expected, "round {round}: the closed file alone");
    }
}

#[test]
fn a_second_open_of_the_same_path_is_locked_and_leaves_the_log_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let s = Store::open(&path, options()).unwrap();
    let base = dir.path().join("base.redb");
    std::fs::copy(&path, &base).unwrap();
    s.users().create(user("ann")).unwrap();
    let log_before = std::fs::read(log_of(&path)).unwrap();
    let store_before = std::fs::read(&path).unwrap();
    for _ in 0..3 {
        let err = Store::open(&path, options()).unwrap_err();
        assert!(matches!(err, Error::Locked), "{err:?}");
    }
    assert!(std::fs::read(log_of(&path)).unwrap() == log_before);
    assert!(std::fs::read(&path).unwrap() == store_before);
    // The first store goes on writing, and its log still brings it all
    // back after a crash.
    s.users().create(user("bob")).unwrap();
    let lost = dir.path().join("lost.redb");
    copy_pair(&base, &log_of(&path), &lost);
    let r = Store::open(&lost, options()).unwrap();
    assert_eq!(users(&r), 2);
    assert!(r.check().unwrap().ok);
    drop(s);
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(users(&s), 2);
}

#[test]
fn a_log_that_is_a_directory_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let s = Store::open(&path, options()).unwrap();
        s.users().create(user("ann")).unwrap();
    }
    std::fs::remove_file(log_of(&path)).unwrap();
    std::fs::create_dir(log_of(&path)).unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path, options()).unwrap_err();
    assert!(
        matches!(&err, Error::Storage { path: Some(p), .. } if *p == log_of(&path)),
        "{err:?}"
    );
    // (redb's open and close may rewrite its header: the file is judged by
    // what it holds.)
    drop(before);
    // A new store whose log path is a directory: refused too.
    let fresh = dir.path().join("fresh.redb");
    std::fs::create_dir(log_of(&fresh)).unwrap();
    let err = Store::open(&fresh, options()).unwrap_err();
    assert!(
        matches!(&err, Error::Storage { path: Some(p), .. } if *p == log_of(&fresh)),
        "{err:?}"
    );
    std::fs::remove_dir(log_of(&path)).unwrap();
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(users(&s), 1);
}

#[test]
fn a_log_cut_to_a_few_bytes_or_emptied_after_a_clean_close_loses_nothing() {
    for len in [0_u64, 3, 39, 40, 41] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        {
            let s = Store::open(&path, options()).unwrap();
            s.roles().create(NewRole::new("admins")).unwrap();
            s.users().create(user("ann")).unwrap();
        }
        let log = std::fs::OpenOptions::new()
            .write(true)
            .open(log_of(&path))
            .unwrap();
        log.set_len(len).unwrap();
        drop(log);
        let s = Store::open(&path, options())
            .unwrap_or_else(|e| panic!("a log cut to {len} bytes: {e:?}"));
        assert_eq!(users(&s), 1, "cut to {len}");
        s.users().create(user("bob")).unwrap();
        drop(s);
        let s = Store::open(&path, options()).unwrap();
        assert_eq!(users(&s), 2, "cut to {len}");
        assert!(s.check().unwrap().ok);
    }
}

#[test]
fn a_log_removed_while_the_store_is_open_does_not_lose_the_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let s = Store::open(&path, options()).unwrap();
    s.users().create(user("ann")).unwrap();
    // Someone removes the log of an open store: writes still go to the
    // unlinked file, and the close checkpoints them into the store file.
    std::fs::remove_file(log_of(&path)).unwrap();
    s.users().create(user("bob")).unwrap();
    drop(s);
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(users(&s), 2);
    assert!(s.check().unwrap().ok);
}

#[test]
fn export_while_writers_run_is_one_snapshot_and_reimports_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let s = Store::open(&path, options()).unwrap();
    let role = s.roles().create(NewRole::new("r")).unwrap();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let s = &s;
            scope.spawn(move || {
                for i in 0..40 {
                    let mut new = user(&format!("t{t}u{i}"));
                    new.roles = vec![role.id];
                    let u = s.users().create(new).unwrap();
                    if i % 4 == 0 {
                        s.users().delete(u.id).unwrap();
                    }
                }
            });
        }
        for n in 0..4 {
            let out = dir.path().join(format!("export-{n}.jsonl"));
            let written = s.export_jsonl(&out).unwrap();
            // Every line one record, and every user's role is there.
            let text = std::fs::read_to_string(&out).unwrap();
            assert_eq!(text.lines().count() as u64, written);
            let target = dir.path().join(format!("re-{n}.redb"));
            let r = Store::open(&target, options()).unwrap();
            assert_eq!(r.import_jsonl(&out).unwrap(), written);
            assert!(r.check().unwrap().ok);
            let again = dir.path().join(format!("again-{n}.jsonl"));
            r.export_jsonl(&again).unwrap();
            assert_eq!(std::fs::read_to_string(&again).unwrap(), text);
        }
    });
}

#[test]
fn a_damaged_log_header_is_refused_and_the_store_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let s = Store::open(&path, options()).unwrap();
        s.users().create(user("ann")).unwrap();
    }
    let mut log = std::fs::read(log_of(&path)).unwrap();
    log[0] ^= 0xff;
    std::fs::write(log_of(&path), &log).unwrap();
    for _ in 0..2 {
        let err = Store::open(&path, options()).unwrap_err();
        assert!(matches!(err, Error::IncompatibleFormat { .. }), "{err:?}");
    }
    // Not byte for byte: redb's own open and close rewrite its allocator
    // state. What the store holds is unchanged.
    std::fs::remove_file(log_of(&path)).unwrap();
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(users(&s), 1);
    assert!(s.check().unwrap().ok);
}

/// What a crash leaves in `from` (every file as it is now, symlinks as
/// links), copied to `to`; the store file `base` stands for the store
/// file (its content at the last checkpoint).
#[cfg(unix)]
fn crash_dir(from: &Path, to: &Path, store_name: &str, base: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let target = to.join(&name);
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            let link = std::fs::read_link(entry.path()).unwrap();
            std::os::unix::fs::symlink(link, target).unwrap();
        } else if name == store_name {
            std::fs::copy(base, target).unwrap();
        } else if kind.is_file() && name.to_string_lossy().ends_with("-wal") {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[cfg(unix)]
#[test]
fn a_store_opened_through_a_symlink_keeps_its_log_beside_the_real_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let real = data.join("real.redb");
    let link = data.join("link.redb");
    std::os::unix::fs::symlink("real.redb", &link).unwrap();
    let s = Store::open(&link, options()).unwrap();
    let base = dir.path().join("base.redb");
    std::fs::copy(&real, &base).unwrap();
    s.users().create(user("ann")).unwrap();
    // A power loss: the store file of the open, the logs of now. The
    // store is then opened by its real name, or again through the link:
    // either way it finds the log that holds the acknowledged write (as
    // SQLite resolves symlinks to place its -wal beside the real file).
    for (n, name) in ["real.redb", "link.redb"].into_iter().enumerate() {
        let lost = dir.path().join(format!("lost-{n}"));
        std::fs::create_dir(&lost).unwrap();
        crash_dir(&data, &lost, "real.redb", &base);
        let r = Store::open(lost.join(name), options()).unwrap();
        assert_eq!(users(&r), 1, "opened as {name} after a crash");
        assert!(r.check().unwrap().ok);
    }
    drop(s);
}
