//! Hostile files (issue 12, point 5): truncated, bit-flipped and random
//! store files, and rosterdb tables holding garbage, give
//! `IncompatibleFormat` or `Storage` — or open, and then `check()` and
//! every read either work or fail with those errors — never a panic, and
//! never an allocation larger than [`ALLOCATION_CAP`].
//!
//! Cases already in `core/tests/format_tests.rs` (a file of random bytes
//! without redb's magic number, a text file, a 19-byte truncated redb file,
//! a redb file of another program, a newer format version) are not
//! repeated. Every released format version's fixture is opened, migrated
//! and checked field by field in `core/tests/migration_tests.rs`;
//! `every_fixture_of_every_released_format_opens` here only makes sure no
//! fixture file is left out.
//!
//! `HOSTILE_VERBOSE=1` prints each case before it runs.

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

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use rosterdb::{
    Credentials, DEFAULT_SESSION_TTL, Error, FORMAT_VERSION, NewClient, NewRole, NewUser, Query,
    Secret, Store,
};
use rosterdb_faults::FaultyDisk;

/// The largest single allocation a hostile file may cause. A larger request
/// fails, which aborts the test binary ("memory allocation of … failed").
const ALLOCATION_CAP: usize = 256 << 20;

/// The system allocator, refusing requests above [`ALLOCATION_CAP`] and
/// remembering the largest request.
struct Capped;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged, or refused with a
// null pointer, which `GlobalAlloc` allows.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        if layout.size() > ALLOCATION_CAP {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        if layout.size() > ALLOCATION_CAP {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        if new_size > ALLOCATION_CAP {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Capped = Capped;

const ALICE_PASSWORD: &str = "alice-password-Qx7";

use rosterdb_faults::cheap_options as options;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// A seeded xorshift generator: the same cases on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// A closed store file with records of every kind, a session and a change log.
fn store_file(dir: &Path) -> PathBuf {
    store_file_and_session(dir).0
}

/// [`store_file`], and the token of alice's session in it.
fn store_file_and_session(dir: &Path) -> (PathBuf, Secret) {
    let path = dir.join("store.redb");
    let store = Store::open(&path, options()).unwrap();
    let admins = store
        .roles()
        .create(NewRole {
            permissions: vec!["users:write".into()],
            ..NewRole::new("admins")
        })
        .unwrap();
    for name in ["alice", "bob", "carol"] {
        store
            .users()
            .create(NewUser {
                password: Some(ALICE_PASSWORD.into()),
                roles: vec![admins.id],
                ..NewUser::new(name, format!("{name}@example.com"), "First", "Last")
            })
            .unwrap();
    }
    store
        .users()
        .patch(
            2,
            &serde_json::json!([{"op": "add", "path": "/attributes/team", "value": "blue"}]),
            None,
        )
        .unwrap();
    store.clients().create(NewClient::new("sync job")).unwrap();
    let login = store
        .login(
            &Credentials::new("alice", ALICE_PASSWORD),
            DEFAULT_SESSION_TTL,
        )
        .unwrap();
    drop(store);
    (path, login.token)
}

/// Whether an error is one a damaged file may give.
fn acceptable(err: &Error) -> bool {
    matches!(
        err,
        Error::IncompatibleFormat { .. } | Error::Storage { .. }
    )
}

/// What happened to one hostile file.
#[derive(Debug, Default)]
struct Outcomes {
    cases: usize,
    refused: usize,
    opened: usize,
    check_found_problems: usize,
    reads_failed: usize,
    /// Files `Store::open` refused as `IncompatibleFormat` but changed.
    changed_refused: usize,
    failures: Vec<String>,
}

impl Outcomes {
    fn fail(&mut self, what: &str, why: String) {
        self.failures.push(format!("{what}: {why}"));
    }

    /// Asserts no case failed, and prints the figures (`--nocapture`).
    fn finish(self, name: &str) {
        eprintln!(
            "{name}: {} cases: {} refused, {} opened ({} with problems found by check(), \
             {} with failing reads); {} refused files changed; largest allocation {} bytes",
            self.cases,
            self.refused,
            self.opened,
            self.check_found_problems,
            self.reads_failed,
            self.changed_refused,
            LARGEST.load(Ordering::Relaxed)
        );
        assert_eq!(self.changed_refused, 0, "{name}: refused files changed");
        assert!(
            self.failures.is_empty(),
            "{name}: {} of {} cases failed:\n{}",
            self.failures.len(),
            self.cases,
            self.failures.join("\n")
        );
    }
}

/// Reads everything a store holds and writes once; the first error that
/// is not acceptable, or whether some read failed acceptably.
fn exercise(store: &Store) -> Result<bool, String> {
    let mut failed = false;
    let mut note = |what: &str, result: rosterdb::Result<()>| -> Result<(), String> {
        match result {
            Ok(()) => Ok(()),
            Err(e) if acceptable(&e) => {
                failed = true;
                Ok(())
            }
            Err(e) => Err(format!("{what}: {e:?}")),
        }
    };
    note("users", store.users().list(&Query::all()).map(drop))?;
    note("roles", store.roles().list(&Query::all()).map(drop))?;
    note("clients", store.clients().list(&Query::all()).map(drop))?;
    note("count", store.users().count(&Query::all()).map(drop))?;
    note(
        "query",
        Query::parse("lastName eq \"Last\" and roles eq 1")
            .and_then(|q| store.users().list(&q))
            .map(drop),
    )?;
    note("changes", store.changes(0, 1000).map(drop))?;
    for id in 1..=4 {
        match store.users().get(id) {
            Ok(_) | Err(Error::NotFound { .. }) => {}
            other => note("get", other.map(drop))?,
        }
    }
    match store.login(
        &Credentials::new("alice", ALICE_PASSWORD),
        DEFAULT_SESSION_TTL,
    ) {
        Ok(_) | Err(Error::AuthenticationFailed) => {}
        other => note("login", other.map(drop))?,
    }
    match store.users().create(NewUser::new(
        "hostile-check",
        "hostile-check@example.com",
        "H",
        "C",
    )) {
        Ok(_) | Err(Error::Conflict { .. }) => {}
        // A hostile id counter at its end.
        Err(Error::Validation { errors }) if errors.iter().all(|e| e.field == "id") => {}
        other => note("create", other.map(drop))?,
    }
    Ok(failed)
}

/// One way to open a store.
type Opener<'a> = Box<dyn FnOnce() -> rosterdb::Result<Store> + 'a>;

/// Opens `bytes` as a store file (through `Store::open`, and through
/// `Store::open_with_backend` when `also_backend`), then checks and reads
/// it, recording what happened; a panic or an unexpected error is a failure.
fn try_file(bytes: &[u8], what: &str, dir: &Path, also_backend: bool, out: &mut Outcomes) {
    if std::env::var_os("HOSTILE_VERBOSE").is_some() {
        eprintln!("case: {what}");
    }
    out.cases += 1;
    let path = dir.join("hostile.redb");
    std::fs::write(&path, bytes).unwrap();
    // The store file is the case; the write-ahead log an earlier case's
    // open left beside it is not part of it.
    let log = dir.join("hostile.redb-wal");
    if log.exists() {
        std::fs::remove_file(&log).unwrap();
    }
    let mut opens: Vec<(&str, Opener<'_>)> =
        vec![("file", Box::new(|| Store::open(&path, options())))];
    if also_backend {
        let disk = FaultyDisk::from_image(bytes.to_vec());
        opens.push((
            "backend",
            Box::new(move || Store::open_with_backend(disk, options())),
        ));
    }
    for (how, open) in opens {
        let what = format!("{what} ({how})");
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), String> {
            let store = match open() {
                Ok(store) => store,
                Err(e) if acceptable(&e) => {
                    out.refused += 1;
                    let now = std::fs::read(&path).unwrap();
                    if how == "file"
                        && matches!(e, Error::IncompatibleFormat { .. })
                        && now != bytes
                    {
                        out.changed_refused += 1;
                    }
                    return Ok(());
                }
                Err(e) => return Err(format!("open: {e:?}")),
            };
            out.opened += 1;
            match store.check() {
                Ok(report) if !report.ok => out.check_found_problems += 1,
                Ok(_) => {}
                Err(e) if acceptable(&e) => out.check_found_problems += 1,
                Err(e) => return Err(format!("check: {e:?}")),
            }
            if exercise(&store)? {
                out.reads_failed += 1;
            }
            Ok(())
        }));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(why)) => out.fail(&what, why),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                out.fail(&what, format!("panicked: {message}"));
            }
        }
    }
}

/// The sources the damaged files are made from: a store written by this
/// release, and the fixtures of formats 1 and 3 (opening them migrates them).
fn sources(dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let fixture = |name: &str| std::fs::read(fixture_dir().join(name)).unwrap();
    vec![
        ("store", std::fs::read(store_file(dir)).unwrap()),
        ("format-v3", fixture("format-v3.redb")),
        ("format-v1", fixture("format-v1.redb")),
    ]
}

#[test]
fn truncated_files_are_refused_or_read_with_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Outcomes::default();
    let mut rng = Rng(0x7A0C_A7ED_0000_0001);
    for (name, bytes) in sources(dir.path()) {
        let len = bytes.len();
        let mut cuts: Vec<usize> = (1..=16).chain([100, 319, 320, 321, 4095]).collect();
        cuts.extend((4096..len).step_by(4096));
        cuts.extend((0..12).map(|_| 1 + rng.below(len - 1)));
        for cut in cuts {
            try_file(
                &bytes[..cut],
                &format!("{name} cut to {cut} of {len} bytes"),
                dir.path(),
                cut % 3 == 0,
                &mut out,
            );
        }
    }
    out.finish("truncated");
}

#[test]
fn bit_flips_anywhere_are_refused_or_read_with_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Outcomes::default();
    let mut rng = Rng(0xB17F_11B5_0000_0002);
    for (name, bytes) in sources(dir.path()) {
        // Half the flips land anywhere (most of a small store file is free
        // space), half on a byte that holds something.
        let used: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != 0).collect();
        for case in 0..100 {
            let at = if case % 2 == 0 {
                rng.below(bytes.len())
            } else {
                used[rng.below(used.len())]
            };
            let bit = rng.below(8);
            let mut flipped = bytes.clone();
            flipped[at] ^= 1 << bit;
            try_file(
                &flipped,
                &format!("{name} with bit {bit} of byte {at} flipped"),
                dir.path(),
                case % 4 == 0,
                &mut out,
            );
        }
    }
    out.finish("bit flips");
}

#[test]
fn random_bytes_in_a_redb_file_are_refused_or_read_with_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Outcomes::default();
    let mut rng = Rng(0x4A4D_0B17_E500_0003);
    let store = std::fs::read(store_file(dir.path())).unwrap();
    for len in [9, 64, 320, 4096, 65_536, 73_728, store.len()] {
        // redb's magic number, then random bytes.
        let mut bytes = rng.bytes(len);
        bytes[..9].copy_from_slice(&store[..9]);
        try_file(
            &bytes,
            &format!("magic + {len} random bytes"),
            dir.path(),
            true,
            &mut out,
        );
        // A real header (the first page), then random bytes.
        if len > 4096 {
            let mut bytes = rng.bytes(len);
            bytes[..4096].copy_from_slice(&store[..4096]);
            try_file(
                &bytes,
                &format!("header page + {len} random bytes"),
                dir.path(),
                true,
                &mut out,
            );
        }
        // The real file with a run of random bytes written over it.
        let start = rng.below(store.len());
        let end = (start + len.min(8192)).min(store.len());
        let mut bytes = store.clone();
        bytes[start..end].copy_from_slice(&rng.bytes(end - start));
        try_file(
            &bytes,
            &format!("store with bytes {start}..{end} random"),
            dir.path(),
            true,
            &mut out,
        );
    }
    out.finish("random bytes");
}

// The tables a store file holds, with the key and value types rosterdb
// gives them (core/src/storage/schema.rs).
const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
const ROLES: TableDefinition<u64, &[u8]> = TableDefinition::new("roles");
const CLIENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("clients");
const CHANGES: TableDefinition<u64, &[u8]> = TableDefinition::new("changes");
const SESSIONS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("sessions");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The username index of format 10: (hash of the key, id) → nothing.
const USER_USERNAME: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("idx.user.username.hash");
const USER_LAST_NAME: TableDefinition<&[u8], ()> = TableDefinition::new("idx.user.last_name");

/// Record bytes no release wrote: empty, an unknown schema, cut short,
/// lengths far beyond the bytes (postcard length prefixes of up to 2^64),
/// and random bodies.
fn garbage_records(rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        ("empty".to_owned(), vec![]),
        ("schema 0".to_owned(), vec![0, 1, 2, 3]),
        ("schema 200".to_owned(), vec![200, 1, 2, 3]),
        ("schema 1 only".to_owned(), vec![1]),
    ];
    // A varint length of 2^k - 1 right after the envelope byte and after a
    // first small field: each string, sequence and map of a record begins
    // with one.
    for k in [7, 14, 31, 32, 48, 63, 64] {
        let mut varint = Vec::new();
        let mut n: u128 = (1u128 << k) - 1;
        loop {
            let byte = (n & 0x7F) as u8;
            n >>= 7;
            if n == 0 {
                varint.push(byte);
                break;
            }
            varint.push(byte | 0x80);
        }
        out.push((
            format!("length 2^{k}-1 first"),
            [&[1u8][..], &varint].concat(),
        ));
        out.push((
            format!("length 2^{k}-1 after a field"),
            [&[1u8, 5][..], &varint, b"abc"].concat(),
        ));
        out.push((
            format!("length 2^{k}-1 repeated"),
            [&[1u8][..], &varint.repeat(12)].concat(),
        ));
    }
    for len in [1, 8, 64, 512] {
        let mut body = rng.bytes(len);
        body.insert(0, 1);
        out.push((format!("{len} random bytes"), body));
    }
    out
}

/// The store file at `path`, with `write` applied to it through redb.
fn rewrite(source: &[u8], path: &Path, write: impl FnOnce(&redb::WriteTransaction)) -> Vec<u8> {
    std::fs::write(path, source).unwrap();
    let db = Database::create(path).unwrap();
    let txn = db.begin_write().unwrap();
    write(&txn);
    txn.commit().unwrap();
    drop(db);
    std::fs::read(path).unwrap()
}

/// A change written into a store file with redb.
type Rewrite = Box<dyn Fn(&redb::WriteTransaction)>;

#[test]
fn garbage_in_rosterdb_tables_gives_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Outcomes::default();
    let mut rng = Rng(0x6A4B_A6E0_0000_0004);
    let store = std::fs::read(store_file(dir.path())).unwrap();
    let scratch = dir.path().join("scratch.redb");
    let session_key = {
        let db = Database::create({
            std::fs::write(&scratch, &store).unwrap();
            &scratch
        })
        .unwrap();
        let read = db.begin_read().unwrap();
        let sessions = read.open_table(SESSIONS).unwrap();
        sessions
            .iter()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .0
            .value()
            .to_vec()
    };
    for (garbage, bytes) in garbage_records(&mut rng) {
        for (table, id) in [
            (USERS, 1),
            (USERS, 2),
            (ROLES, 1),
            (CLIENTS, 1),
            (CHANGES, 3),
        ] {
            let file = rewrite(&store, &scratch, |txn| {
                txn.open_table(table)
                    .unwrap()
                    .insert(id, &bytes[..])
                    .unwrap();
            });
            let what = format!("{} {id} holding {garbage}", redb::TableHandle::name(&table));
            try_file(&file, &what, dir.path(), false, &mut out);
        }
        let file = rewrite(&store, &scratch, |txn| {
            txn.open_table(SESSIONS)
                .unwrap()
                .insert(&session_key[..], &bytes[..])
                .unwrap();
        });
        try_file(
            &file,
            &format!("a session holding {garbage}"),
            dir.path(),
            false,
            &mut out,
        );
    }
    // Indexes and meta that lie: an index entry naming no record or the
    // wrong one, a garbage index key, counters and versions no release wrote.
    let lies: Vec<(&str, Rewrite)> = vec![
        (
            "a username entry naming a missing user",
            Box::new(|txn| {
                let mut t = txn.open_table(USER_USERNAME).unwrap();
                let (hash, _) = t.iter().unwrap().next().unwrap().unwrap().0.value();
                t.insert((hash, 99), ()).unwrap();
            }),
        ),
        (
            "a username entry naming another user",
            Box::new(|txn| {
                let mut t = txn.open_table(USER_USERNAME).unwrap();
                let (hash, id) = t.iter().unwrap().next().unwrap().unwrap().0.value();
                t.remove((hash, id)).unwrap();
                t.insert((hash, 3), ()).unwrap();
            }),
        ),
        (
            "garbage username index keys",
            Box::new(|txn| {
                let mut t = txn.open_table(USER_USERNAME).unwrap();
                t.insert((0, 1), ()).unwrap();
                t.insert((u64::MAX, u64::MAX), ()).unwrap();
            }),
        ),
        (
            "garbage last-name index keys",
            Box::new(|txn| {
                let mut t = txn.open_table(USER_LAST_NAME).unwrap();
                t.insert(&[][..], ()).unwrap();
                t.insert(&[0xFF; 7][..], ()).unwrap();
                t.insert(&[0x00, 0x01, 0x02][..], ()).unwrap();
            }),
        ),
        (
            "id counters and the change counter at u64::MAX",
            Box::new(|txn| {
                let mut t = txn.open_table(META).unwrap();
                let keys: Vec<String> = t
                    .iter()
                    .unwrap()
                    .map(|e| e.unwrap().0.value().to_owned())
                    .collect();
                for key in keys.iter().filter(|k| *k != "format_version") {
                    t.insert(key.as_str(), u64::MAX).unwrap();
                }
            }),
        ),
        (
            "format version 0",
            Box::new(|txn| {
                txn.open_table(META)
                    .unwrap()
                    .insert("format_version", 0)
                    .unwrap();
            }),
        ),
        (
            "format version u64::MAX",
            Box::new(|txn| {
                txn.open_table(META)
                    .unwrap()
                    .insert("format_version", u64::MAX)
                    .unwrap();
            }),
        ),
        (
            "no format version",
            Box::new(|txn| {
                txn.open_table(META)
                    .unwrap()
                    .remove("format_version")
                    .unwrap();
            }),
        ),
        (
            "a users table of another type",
            Box::new(|txn| {
                txn.delete_table(USERS).unwrap();
                txn.open_table(TableDefinition::<&str, &str>::new("users"))
                    .unwrap()
                    .insert("alice", "x")
                    .unwrap();
            }),
        ),
        (
            "an index table of another type",
            Box::new(|txn| {
                txn.delete_table(USER_USERNAME).unwrap();
                txn.open_table(TableDefinition::<u64, u64>::new("idx.user.username.hash"))
                    .unwrap()
                    .insert(1, 1)
                    .unwrap();
            }),
        ),
        (
            "no users table",
            Box::new(|txn| {
                txn.delete_table(USERS).unwrap();
            }),
        ),
    ];
    for (what, write) in lies {
        let file = rewrite(&store, &scratch, write);
        try_file(&file, what, dir.path(), false, &mut out);
    }
    out.finish("garbage tables");
}

/// A logout that cannot read its session fails: it must not report a
/// session ended that may still be live.
#[test]
fn a_logout_that_cannot_read_its_session_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (path, token) = store_file_and_session(dir.path());
    let store = std::fs::read(&path).unwrap();
    let scratch = dir.path().join("scratch.redb");
    let file = rewrite(&store, &scratch, |txn| {
        let mut sessions = txn.open_table(SESSIONS).unwrap();
        let key = sessions
            .iter()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .0
            .value()
            .to_vec();
        sessions.insert(&key[..], &[1u8, 0xFF][..]).unwrap();
    });
    std::fs::write(&scratch, &file).unwrap();
    let store = Store::open(&scratch, options()).unwrap();
    for (what, result) in [
        ("logout", store.logout(token.expose())),
        ("authenticate", store.authenticate(token.expose()).map(drop)),
    ] {
        assert!(
            matches!(result, Err(Error::Storage { .. })),
            "{what}: {result:?}"
        );
    }
    // A token that names no session is still a no-op.
    store
        .logout("rs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .unwrap();
}

/// Every record decode that meets a length prefix far beyond its bytes.
#[test]
fn a_huge_length_at_every_position_of_a_record_is_an_error_not_an_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let store = std::fs::read(store_file(dir.path())).unwrap();
    let scratch = dir.path().join("scratch.redb");
    // A varint of 2^63 + 1 (ten bytes): as a length, far more than any file.
    let huge = [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
    let mut spliced = 0;
    let file = rewrite(&store, &scratch, |txn| {
        for table in [USERS, ROLES, CLIENTS] {
            let mut t = txn.open_table(table).unwrap();
            let record = t.get(1).unwrap().unwrap().value().to_vec();
            for i in 1..record.len() {
                let inserted = [&record[..i], &huge[..], &record[i..]].concat();
                t.insert(1000 + i as u64, &inserted[..]).unwrap();
                let mut replaced = record.clone();
                let end = (i + huge.len()).min(record.len());
                replaced[i..end].copy_from_slice(&huge[..end - i]);
                t.insert(5000 + i as u64, &replaced[..]).unwrap();
                spliced += 2;
            }
        }
    });
    std::fs::write(&scratch, &file).unwrap();
    let store = Store::open(&scratch, options()).unwrap();
    let mut errors = 0;
    for id in (1001..1400).chain(5001..5400) {
        let results = [
            store.users().get(id).map(drop),
            store.roles().get(id).map(drop),
            store.clients().get(id).map(drop),
        ];
        for result in results {
            match result {
                Ok(()) | Err(Error::NotFound { .. }) => {}
                Err(e) if acceptable(&e) => errors += 1,
                Err(e) => panic!("record {id}: {e:?}"),
            }
        }
    }
    let largest = LARGEST.load(Ordering::Relaxed);
    eprintln!(
        "huge lengths: {spliced} records, {errors} decode errors; largest allocation {largest} bytes"
    );
    assert!(errors > spliced / 2, "{errors} of {spliced}");
}

#[test]
fn every_fixture_of_every_released_format_opens() {
    let dir = tempfile::tempdir().unwrap();
    let mut versions = Vec::new();
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        // format-v<N>.redb; variants (format-v2-fold-clash.redb) are
        // files that must fail to migrate (core/tests/migration_tests.rs).
        let Some(version) = name
            .strip_prefix("format-v")
            .and_then(|rest| rest.strip_suffix(".redb"))
            .and_then(|v| v.parse::<u64>().ok())
        else {
            continue;
        };
        let path = dir.path().join(&name);
        std::fs::copy(fixture_dir().join(&name), &path).unwrap();
        let store = Store::open(&path, options()).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let report = store.check().unwrap();
        assert!(report.ok, "{name}: {:?}", report.problems);
        assert!(store.users().count(&Query::all()).unwrap() > 0, "{name}");
        versions.push(version);
    }
    versions.sort_unstable();
    // One fixture per released format before this one (the current format
    // is written by every other test).
    assert_eq!(versions, (1..FORMAT_VERSION).collect::<Vec<_>>());
}
