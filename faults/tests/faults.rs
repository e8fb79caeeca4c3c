//! Storage faults at every commit stage (issue 12, point 2).
//!
//! Each durable operation is run once on a [`FaultyDisk`] to count the
//! backend calls its commit makes; then, from the same starting image, once
//! per fault: every write, sync, `set_len`, `len` and read failing, and
//! every write torn (a prefix lands, then the power goes out). Each time
//! the call must fail with `Storage` naming no secret; the store that saw
//! the failure refuses every later write (redb latches a failed I/O) and
//! its reads serve the last committed state from redb's cache or fail with
//! `Storage`; and the disk after a crash — the durable image with none,
//! all, or a seeded random subset of the unsynced writes — must open, pass
//! `check()`, hold exactly the state before or after the operation
//! (records, sessions, change log), and take a new write. Opening a store
//! (creating one, reopening one, migrating a format-3 fixture) is put
//! through the same faults.
//!
//! `cargo test -p rosterdb-faults --test faults -- --nocapture` prints
//! each operation's call counts and cases.

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

use std::time::Duration;

use rosterdb::{
    Argon2Params, Credentials, DEFAULT_SESSION_TTL, Error, Lockout, ManualClock, NewClient,
    NewRole, NewUser, Options, Query, Secret, Store, Timestamp,
};
use rosterdb_faults::{Call, Counts, Fault, FaultyDisk, Survivors};
use serde_json::{Value, json};

/// Secrets the scenarios use; no error may name one.
const ALICE_PASSWORD: &str = "alice-password-Qx7";
const DAVE_PASSWORD: &str = "dave-password-Zr4";
const WRONG_PASSWORD: &str = "wrong-password-Kv9";
const SECRETS: [&str; 5] = [
    ALICE_PASSWORD,
    DAVE_PASSWORD,
    WRONG_PASSWORD,
    "$argon2",
    "rs_",
];

fn options() -> Options {
    let clock = ManualClock::new(Timestamp::parse("2026-12-01T12:00:00Z").unwrap());
    Options::default()
        .with_argon2(Argon2Params {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        })
        .with_clock(clock.clock())
        // One failed password locks: the failed login's bookkeeping shows.
        .with_lockout(Lockout {
            threshold: 1,
            duration: Duration::from_secs(60),
        })
}

fn open(disk: &FaultyDisk) -> rosterdb::Result<Store> {
    Store::open_with_backend(disk.clone(), options())
}

fn user(name: &str) -> NewUser {
    NewUser::new(name, format!("{name}@example.com"), "First", "Last")
}

/// The store every operation below starts from, closed: two roles, three
/// users (alice with a password and a session), and a client.
struct Base {
    image: Vec<u8>,
    /// Alice's session token.
    session: Secret,
    /// The client's `clientId` and secret.
    client_id: String,
    client_secret: Secret,
}

fn base() -> Base {
    let disk = FaultyDisk::new();
    let store = open(&disk).unwrap();
    let admins = store
        .roles()
        .create(NewRole {
            permissions: vec!["users:write".into()],
            ..NewRole::new("admins")
        })
        .unwrap();
    let readers = store.roles().create(NewRole::new("readers")).unwrap();
    store
        .users()
        .create(NewUser {
            password: Some(ALICE_PASSWORD.into()),
            roles: vec![admins.id, readers.id],
            ..user("alice")
        })
        .unwrap();
    store
        .users()
        .create(NewUser {
            roles: vec![admins.id],
            ..user("bob")
        })
        .unwrap();
    store.users().create(user("carol")).unwrap();
    let client = store
        .clients()
        .create(NewClient {
            roles: vec![readers.id],
            ..NewClient::new("sync job")
        })
        .unwrap();
    let login = store
        .login(
            &Credentials::new("alice", ALICE_PASSWORD),
            DEFAULT_SESSION_TTL,
        )
        .unwrap();
    drop(store);
    Base {
        image: disk.image(),
        session: login.token,
        client_id: client.client.client_id,
        client_secret: client.secret,
    }
}

/// Everything a reader can see: records, change log, sessions.
fn state(store: &Store) -> rosterdb::Result<Value> {
    let users = store.users().list(&Query::all())?;
    let roles = store.roles().list(&Query::all())?;
    let mut clients = serde_json::to_value(store.clients().list(&Query::all())?.items).unwrap();
    // A client's id is random: the counting run's and a case's differ.
    for c in clients.as_array_mut().unwrap() {
        c["clientId"] = json!("rc_…");
    }
    assert!(users.next_cursor.is_none() && roles.next_cursor.is_none());
    let mut sessions = Vec::new();
    for u in &users.items {
        sessions.push(json!([u.id, store.users().sessions(u.id)?]));
    }
    Ok(json!({
        "users": users.items,
        "roles": roles.items,
        "clients": clients,
        "changes": store.changes(0, 1000)?,
        "sessions": sessions,
    }))
}

/// A durable operation: `Ok` when it does what it does without a fault.
type Operation = fn(&Store, &Base) -> rosterdb::Result<()>;

fn create_user(s: &Store, _: &Base) -> rosterdb::Result<()> {
    s.users().create(NewUser {
        password: Some(DAVE_PASSWORD.into()),
        roles: vec![1],
        ..user("dave")
    })?;
    Ok(())
}

fn patch_user(s: &Store, _: &Base) -> rosterdb::Result<()> {
    let ops = json!([
        {"op": "replace", "path": "/lastName", "value": "Patched"},
        {"op": "add", "path": "/attributes/team", "value": "blue"},
    ]);
    s.users().patch(2, &ops, Some(1))?;
    Ok(())
}

fn delete_role_with_cascade(s: &Store, _: &Base) -> rosterdb::Result<()> {
    s.roles().delete(1, true)?;
    Ok(())
}

fn transaction(s: &Store, _: &Base) -> rosterdb::Result<()> {
    s.write(|tx| {
        let ops = tx.roles().create(NewRole::new("ops"))?;
        tx.users().create(NewUser {
            roles: vec![ops.id],
            ..user("erin")
        })?;
        tx.users().merge(3, &json!({"nickname": "cc"}), None)?;
        tx.users().delete(2)?;
        tx.clients().create(NewClient::new("backup job"))?;
        Ok(())
    })
}

fn failed_login(s: &Store, _: &Base) -> rosterdb::Result<()> {
    match s.login(
        &Credentials::new("alice", WRONG_PASSWORD),
        DEFAULT_SESSION_TTL,
    ) {
        Err(Error::AuthenticationFailed) => Ok(()),
        Ok(_) => panic!("a wrong password logged in"),
        Err(e) => Err(e),
    }
}

fn login_with_session(s: &Store, _: &Base) -> rosterdb::Result<()> {
    s.login(
        &Credentials::new("alice", ALICE_PASSWORD),
        Duration::from_secs(3600),
    )?;
    Ok(())
}

fn client_login(s: &Store, base: &Base) -> rosterdb::Result<()> {
    s.client_login(
        &base.client_id,
        &base.client_secret,
        Some("10.1.2.3"),
        Duration::from_secs(600),
    )?;
    Ok(())
}

fn logout(s: &Store, base: &Base) -> rosterdb::Result<()> {
    s.logout(base.session.expose())
}

/// A seeded xorshift generator: the same subsets on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The faults to try on one operation that made `cost` calls: every call
/// of every kind failing, and every write torn twice: inside its first
/// page (alternately 7 bytes and half a page landing), and past its first
/// page and 7 bytes of the next (a write of several adjacent pages, which
/// the store makes since decision 0032, torn between them; a write of
/// one page lands whole before the power goes out).
fn faults(cost: &Counts) -> Vec<Fault> {
    let mut all = Vec::new();
    for call in Call::ALL {
        for nth in 0..cost.get(call) {
            all.push(Fault::Fail { call, nth });
        }
    }
    for nth in 0..cost.writes {
        let keep = if nth % 2 == 0 { 7 } else { 2048 };
        all.push(Fault::Tear { nth, keep });
        all.push(Fault::Tear {
            nth,
            keep: 4096 + 7,
        });
    }
    all
}

/// The crashes to reopen from after a failure: nothing unsynced survives,
/// or all of it does, and for one case in three also a seeded random
/// subset (the disk reordered writes).
fn crashes(disk: &FaultyDisk, rng: &mut Rng) -> Vec<Survivors> {
    let mut out = vec![Survivors::None, Survivors::All];
    if rng.next().is_multiple_of(3) {
        let n = disk.unsynced().len();
        out.push(Survivors::Only(
            (0..n).filter(|_| rng.next().is_multiple_of(2)).collect(),
        ));
    }
    out
}

fn assert_storage_without_secrets(err: &Error, what: &str, more: &[&str]) {
    assert!(matches!(err, Error::Storage { .. }), "{what}: {err:?}");
    let shown = format!("{err} {err:?}");
    for secret in SECRETS.iter().chain(more) {
        assert!(!shown.contains(secret), "{what}: {shown} names {secret}");
    }
}

/// Reopens a crashed disk and checks it holds `before` or `after` in full,
/// with clean indexes, and takes a new write. Returns whether it held `after`.
fn reopen_whole(disk: &FaultyDisk, before: &Value, after: &Value, what: &str) -> bool {
    let store = open(disk).unwrap_or_else(|e| panic!("{what}: reopen failed: {e:?}"));
    let report = store.check().unwrap();
    assert!(report.ok, "{what}: {:?}", report.problems);
    let now = state(&store).unwrap();
    let applied = &now == after;
    assert!(applied || &now == before, "{what}: half-applied: {now:#}");
    store
        .users()
        .create(user("zed"))
        .unwrap_or_else(|e| panic!("{what}: a new write failed: {e:?}"));
    applied
}

/// What the cases of one scenario showed.
#[derive(Debug, Default)]
struct Tally {
    /// The backend calls the clean operation made.
    cost: Counts,
    /// Faults injected (each one a run of the operation).
    faults: usize,
    /// Crashed disks reopened and checked.
    reopens: usize,
    /// Of those, how many held the new state (the others held the old one).
    reopened_after: usize,
    /// Failed stores whose reads still served the old state (from redb's cache).
    served_after_failure: usize,
}

impl Tally {
    /// Prints the figures `docs/reliability.md` quotes (`--nocapture`).
    fn report(&self, name: &str) {
        let Tally {
            cost,
            faults,
            reopens,
            reopened_after,
            served_after_failure,
        } = self;
        eprintln!(
            "{name}: {} writes, {} syncs, {} set_len, {} reads, {} len; {faults} faults, \
             {reopens} reopens ({reopened_after} with the new state), \
             {served_after_failure} failed stores still reading the old state",
            cost.writes, cost.syncs, cost.set_lens, cost.reads, cost.len
        );
    }
}

fn run_scenario(base: &Base, name: &str, run: Operation, rng: &mut Rng) -> Tally {
    let (ops, base) = (base, &base.image[..]);
    let secrets = [ops.session.expose(), ops.client_secret.expose()];
    let before = state(&open(&FaultyDisk::from_image(base.to_vec())).unwrap()).unwrap();
    let disk = FaultyDisk::from_image(base.to_vec());
    let store = open(&disk).unwrap();
    let start = disk.counts();
    run(&store, ops).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let cost = disk.counts().since(&start);
    let after = state(&store).unwrap();
    assert_ne!(before, after, "{name} changed nothing");
    assert!(cost.writes > 0 && cost.syncs > 0, "{name}: {cost:?}");
    drop(store);

    let mut tally = Tally {
        cost,
        ..Tally::default()
    };
    for fault in faults(&cost) {
        let what = format!("{name}, {fault:?}");
        let disk = FaultyDisk::from_image(base.to_vec());
        let store = open(&disk).unwrap();
        disk.arm(fault);
        let result = run(&store, ops);
        assert_eq!(disk.fired(), 1, "{what}: the fault was not reached");
        let err = result.expect_err(&what);
        assert_storage_without_secrets(&err, &what, &secrets);
        // redb latches the failed I/O: every later write fails, and reads
        // are served from its page cache (the last committed state) or,
        // when they would need the disk, fail too.
        match state(&store) {
            Ok(seen) => {
                assert_eq!(
                    seen, before,
                    "{what}: the failed store serves another state"
                );
                tally.served_after_failure += 1;
            }
            Err(e) => assert_storage_without_secrets(&e, &what, &secrets),
        }
        let late = store.roles().create(NewRole::new("late")).expect_err(&what);
        assert_storage_without_secrets(&late, &what, &secrets);
        drop(store);
        tally.faults += 1;
        for survivors in crashes(&disk, rng) {
            let what = format!("{what}, crash keeping {survivors:?}");
            if reopen_whole(&disk.crash(&survivors), &before, &after, &what) {
                tally.reopened_after += 1;
            }
            tally.reopens += 1;
        }
    }
    tally
}

fn every_fault_fails_it_whole(name: &str, run: Operation, seed: u64) {
    let tally = run_scenario(&base(), name, run, &mut Rng(seed));
    tally.report(name);
    // A failed sync after every write landed leaves the commit whole on
    // disk: the cases reach both outcomes.
    assert!(
        tally.reopened_after > 0,
        "{name}: no crash kept the new state"
    );
    assert!(tally.reopened_after < tally.reopens, "{name}");
}

#[test]
fn every_fault_in_creating_a_user_fails_it_whole() {
    every_fault_fails_it_whole("create user", create_user, 0x5EED_0001);
}

#[test]
fn every_fault_in_a_patch_fails_it_whole() {
    every_fault_fails_it_whole("patch user", patch_user, 0x5EED_0002);
}

#[test]
fn every_fault_in_a_cascading_role_delete_fails_it_whole() {
    every_fault_fails_it_whole(
        "delete role with cascade",
        delete_role_with_cascade,
        0x5EED_0003,
    );
}

#[test]
fn every_fault_in_a_multi_op_transaction_fails_it_whole() {
    every_fault_fails_it_whole("multi-op transaction", transaction, 0x5EED_0004);
}

#[test]
fn every_fault_in_a_failed_logins_bookkeeping_fails_it_whole() {
    every_fault_fails_it_whole("failed login (bookkeeping)", failed_login, 0x5EED_0005);
}

#[test]
fn every_fault_in_a_client_login_fails_it_whole() {
    every_fault_fails_it_whole("client login (session)", client_login, 0x5EED_0007);
}

#[test]
fn every_fault_in_a_logout_fails_it_whole() {
    every_fault_fails_it_whole("logout", logout, 0x5EED_0008);
}

#[test]
fn every_fault_in_a_login_with_a_session_fails_it_whole() {
    every_fault_fails_it_whole("login (session)", login_with_session, 0x5EED_0006);
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every fault while opening `image` fails the open with `Storage`, and
/// the disk after any crash opens to the state a clean open gives.
fn open_with_faults(image: &[u8], name: &str, rng: &mut Rng) -> Tally {
    let disk = FaultyDisk::from_image(image.to_vec());
    let store = open(&disk).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let cost = disk.counts();
    let opened = state(&store).unwrap();
    drop(store);
    let mut tally = Tally {
        cost,
        ..Tally::default()
    };
    for fault in faults(&cost) {
        let what = format!("{name}, {fault:?}");
        let disk = FaultyDisk::from_image(image.to_vec());
        disk.arm(fault);
        let err = open(&disk).expect_err(&what);
        assert_eq!(disk.fired(), 1, "{what}: the fault was not reached");
        assert_storage_without_secrets(&err, &what, &[]);
        tally.faults += 1;
        for survivors in crashes(&disk, rng) {
            let what = format!("{what}, crash keeping {survivors:?}");
            reopen_whole(&disk.crash(&survivors), &opened, &opened, &what);
            tally.reopens += 1;
        }
    }
    tally
}

#[test]
fn a_fault_while_creating_a_store_leaves_a_disk_that_opens() {
    open_with_faults(&[], "create", &mut Rng(0xC0FF_EE00_1234_5678)).report("create");
}

#[test]
fn a_fault_while_reopening_a_store_leaves_it_as_it_was() {
    open_with_faults(&base().image, "reopen", &mut Rng(0x0DDB_A11D_EAD0_BEEF)).report("reopen");
}

#[test]
fn a_fault_while_migrating_leaves_the_old_image_openable() {
    let v3 = fixture("format-v3.redb");
    open_with_faults(&v3, "migrate format 3", &mut Rng(0xF0F0_1234_ABCD_0003))
        .report("migrate format 3");
    // The untouched durable image (nothing synced before the fault) is the
    // fixture itself, which the crashes above reopened and migrated.
}
