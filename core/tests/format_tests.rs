//! Opening files: creation, reopening, locking and refusing what is not ours.

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

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{options, user};
use redb::{Database, ReadableDatabase, TableDefinition};
use rosterdb::{Error, FORMAT_VERSION, Store};

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

fn assert_incompatible(result: rosterdb::Result<Store>) {
    match result {
        Err(Error::IncompatibleFormat { .. }) => {}
        other => panic!("expected IncompatibleFormat, got {other:?}"),
    }
}

#[test]
fn data_survives_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.redb");
    {
        let s = Store::open(&path, options()).unwrap();
        s.users().create(user("ann")).unwrap();
        s.users().create(user("bob")).unwrap();
        s.users().delete(2).unwrap();
    }
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(s.users().get_by_username("ANN", None).unwrap().id, 1);
    assert_eq!(s.users().create(user("cid")).unwrap().id, 3);
    assert_eq!(s.changes(0, 10).unwrap().len(), 4);
    let read = Database::open(&path);
    assert!(matches!(
        read,
        Err(redb::DatabaseError::DatabaseAlreadyOpen)
    ));
    drop(s);
    let db = Database::open(&path).unwrap();
    let version = db
        .begin_read()
        .unwrap()
        .open_table(META)
        .unwrap()
        .get("format_version")
        .unwrap();
    assert_eq!(version.map(|v| v.value()), Some(FORMAT_VERSION));
}

#[test]
fn a_second_open_of_the_same_file_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.redb");
    let first = Store::open(&path, options()).unwrap();
    assert!(matches!(Store::open(&path, options()), Err(Error::Locked)));
    drop(first);
    Store::open(&path, options()).unwrap();
}

/// Run as a child process by `a_file_held_by_another_process_is_locked`:
/// holds the store named by `ROSTERDB_HOLD` open until its stdin closes.
#[test]
fn hold_store_for_other_process() {
    let Ok(path) = std::env::var("ROSTERDB_HOLD") else {
        return;
    };
    let _store = Store::open(&path, options()).unwrap();
    println!("holding");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

#[test]
fn a_file_held_by_another_process_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.redb");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "hold_store_for_other_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ROSTERDB_HOLD", &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("holding") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the child never held the store"
        );
    }
    let result = Store::open(&path, options());
    drop(child.stdin.take());
    child.wait().unwrap();
    assert!(matches!(result, Err(Error::Locked)), "{result:?}");
    Store::open(&path, options()).unwrap();
}

#[test]
fn a_file_of_random_bytes_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.bin");
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let bytes: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(&path, &bytes).unwrap();
    assert_incompatible(Store::open(&path, options()));
    assert!(std::fs::read(&path).unwrap() == bytes, "the file changed");

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database").unwrap();
    assert_incompatible(Store::open(&text, options()));
    assert_eq!(std::fs::read(&text).unwrap(), b"not a database");
}

#[test]
fn a_truncated_redb_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.redb");
    std::fs::write(&path, b"redb\x1A\x0A\xA9\x0D\x0Atruncated").unwrap();
    let before = std::fs::read(&path).unwrap();
    let result = Store::open(&path, options());
    assert!(
        matches!(result, Err(Error::IncompatibleFormat { .. })),
        "{result:?}"
    );
    assert!(std::fs::read(&path).unwrap() == before, "the file changed");
}

#[test]
fn an_empty_file_becomes_a_new_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.redb");
    std::fs::write(&path, b"").unwrap();
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(s.users().create(user("ann")).unwrap().id, 1);
}

#[test]
fn a_redb_file_of_another_program_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.redb");
    {
        let db = Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(TableDefinition::<u64, u64>::new("things"))
            .unwrap()
            .insert(1, 2)
            .unwrap();
        txn.commit().unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    assert_incompatible(Store::open(&path, options()));
    assert!(std::fs::read(&path).unwrap() == before, "the file changed");
}

#[test]
fn a_newer_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.redb");
    drop(Store::open(&path, options()).unwrap());
    {
        let db = Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("format_version", FORMAT_VERSION + 1)
            .unwrap();
        txn.commit().unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    match Store::open(&path, options()) {
        Err(Error::IncompatibleFormat { reason }) => assert!(reason.contains("newer"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(std::fs::read(&path).unwrap() == before, "the file changed");
}

#[test]
fn bad_options_are_refused_by_name() {
    let bad = options().with_argon2(rosterdb::Argon2Params {
        parallelism: 0,
        ..common::CHEAP
    });
    let argument = |result: rosterdb::Result<Store>| match result {
        Err(rosterdb::Error::InvalidArgument { argument, .. }) => argument,
        other => panic!("expected InvalidArgument, got {other:?}"),
    };
    assert_eq!(
        argument(Store::memory_with(bad.clone())),
        "argon2_parallelism"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never.redb");
    assert_eq!(argument(Store::open(&path, bad)), "argon2_parallelism");
    assert!(!path.exists());
    // The bounds every stored hash keeps apply to the store's own parameters too.
    for (params, name) in [
        (
            rosterdb::Argon2Params {
                memory_kib: 1_048_577,
                ..common::CHEAP
            },
            "argon2_memory_kib",
        ),
        (
            rosterdb::Argon2Params {
                iterations: 101,
                ..common::CHEAP
            },
            "argon2_iterations",
        ),
        (
            rosterdb::Argon2Params {
                parallelism: 65,
                ..common::CHEAP
            },
            "argon2_parallelism",
        ),
    ] {
        assert_eq!(
            argument(Store::open(&path, options().with_argon2(params))),
            name
        );
        assert!(!path.exists());
    }
}

#[test]
fn a_store_opens_on_a_given_backend_and_reopens_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("backend.redb");
    let file = || {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .unwrap()
    };
    {
        let backend = rosterdb::backends::FileBackend::new(file()).unwrap();
        let store = rosterdb::Store::open_with_backend(backend, options()).unwrap();
        store.users().create(user("ada")).unwrap();
    }
    let backend = rosterdb::backends::FileBackend::new(file()).unwrap();
    let store = rosterdb::Store::open_with_backend(backend, options()).unwrap();
    assert_eq!(store.users().get_by_username("ada", None).unwrap().id, 1);
    assert!(store.check().unwrap().ok);
}

#[test]
fn a_backend_holding_something_else_is_refused_unchanged() {
    let backend = rosterdb::backends::InMemoryBackend::new();
    rosterdb::StorageBackend::set_len(&backend, 4096).unwrap();
    rosterdb::StorageBackend::write(&backend, 0, b"SQLite format 3\0").unwrap();
    let err = rosterdb::Store::open_with_backend(backend, options()).unwrap_err();
    assert!(
        matches!(err, rosterdb::Error::IncompatibleFormat { .. }),
        "{err:?}"
    );
}
