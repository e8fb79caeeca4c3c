//! Write groups (decision 0016) on the simulated disk: the store's own
//! single-operation calls made concurrently share one write transaction
//! and one durable commit; an operation that fails in a group leaves no
//! trace and does not fail the others; a power loss or a failed sync at
//! any sync of a concurrent run of grouped writes keeps every
//! acknowledged write and applies no other.
//!
//! `cargo test -p rosterdb-faults --test write_groups -- --nocapture`
//! prints the syncs per write and the cases run.

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

use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

mod concurrent;

use concurrent::{SLOW_SYNC, THREADS, Told, WATCHDOG, new_user, open, run_all};
use rosterdb::{ChangeOp, Error, NewUser, Store};
use rosterdb_faults::{Call, Fault, FaultyDisk, Survivors};
use serde_json::json;

/// A store with one user per writer thread (`u{t}`, id `t + 1`, with
/// attribute `n` = 0), as a disk image.
fn base() -> Vec<u8> {
    let disk = FaultyDisk::new();
    let store = open(&disk);
    for t in 0..THREADS {
        store.users().create(new_user(&format!("u{t}"))).unwrap();
    }
    drop(store);
    disk.image()
}

/// Waits until the store's commit state shows `what` (its `Debug` form).
fn wait_state(store: &Store, what: &str) {
    let deadline = Instant::now() + WATCHDOG;
    while !format!("{store:?}").contains(what) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Holds the turn with a `Store::write` closure until the returned sender
/// is used; returns it and the blocker's thread.
fn hold_turn(store: &Arc<Store>) -> (mpsc::Sender<()>, thread::JoinHandle<rosterdb::Result<()>>) {
    let (inside_tx, inside_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let blocker = {
        let store = Arc::clone(store);
        thread::spawn(move || {
            store.write(|_| {
                inside_tx.send(()).unwrap();
                go_rx.recv_timeout(WATCHDOG).unwrap();
                Ok(())
            })
        })
    };
    inside_rx.recv_timeout(WATCHDOG).unwrap();
    (go_tx, blocker)
}

/// The number of `op` entries of record `id` in the change log.
fn changes_of(store: &Store, id: u64, op: ChangeOp) -> usize {
    let mut count = 0;
    let mut after = 0;
    loop {
        let batch = store.changes(after, 1000).unwrap();
        let Some(last) = batch.last() else {
            return count;
        };
        after = last.seq;
        count += batch.iter().filter(|c| c.id == id && c.op == op).count();
    }
}

#[test]
fn a_failing_operation_in_a_group_leaves_no_trace_and_does_not_fail_the_others() {
    let disk = FaultyDisk::from_image(base());
    let store = Arc::new(open(&disk));
    let (go, blocker) = hold_turn(&store);
    type Job = Box<dyn FnOnce() -> rosterdb::Result<u64> + Send>;
    let mut jobs: Vec<Job> = Vec::new();
    // Four patches that succeed (users 2..=5).
    for id in 2..=5_u64 {
        let store = Arc::clone(&store);
        jobs.push(Box::new(move || {
            store
                .users()
                .merge(id, &json!({"attributes": {"n": id}}), None)
                .map(|u| u.id)
        }));
    }
    // A patch of user 1 expecting a version it does not have.
    {
        let store = Arc::clone(&store);
        jobs.push(Box::new(move || {
            store
                .users()
                .merge(1, &json!({"attributes": {"n": 99}}), Some(7))
                .map(|u| u.id)
        }));
    }
    // Two creates of one username: one of them conflicts (with the
    // other's write when both run in one transaction).
    for email in ["dup1@example.com", "dup2@example.com"] {
        let store = Arc::clone(&store);
        jobs.push(Box::new(move || {
            let new = NewUser {
                email: email.into(),
                ..new_user("dup")
            };
            store.users().create(new).map(|u| u.id)
        }));
    }
    // A delete of a user that does not exist.
    {
        let store = Arc::clone(&store);
        jobs.push(Box::new(move || store.users().delete(999).map(|u| u.id)));
    }
    let count = jobs.len();
    let waiting = thread::spawn(move || run_all(jobs));
    wait_state(&store, &format!("grouped: {count}"));
    let syncs = disk.counts();
    go.send(()).unwrap();
    blocker.join().unwrap().unwrap();
    let results = waiting.join().unwrap();
    eprintln!(
        "{count} grouped operations, 4 failing: {} syncs",
        disk.counts().since(&syncs).syncs
    );
    for (i, id) in (2..=5_u64).enumerate() {
        assert_eq!(results[i].as_ref().unwrap(), &id, "patch of user {id}");
    }
    assert!(
        matches!(results[4], Err(Error::VersionConflict { .. })),
        "{:?}",
        results[4]
    );
    let created: Vec<_> = results[5..7].iter().filter(|r| r.is_ok()).collect();
    assert_eq!(created.len(), 1, "{:?}", &results[5..7]);
    assert!(
        results[5..7]
            .iter()
            .any(|r| matches!(r, Err(Error::Conflict { .. }))),
        "{:?}",
        &results[5..7]
    );
    assert!(
        matches!(results[7], Err(Error::NotFound { .. })),
        "{:?}",
        results[7]
    );

    // What a crash keeping only synced writes leaves: exactly the
    // operations that succeeded.
    drop(store);
    let durable = open(&disk.crash(&Survivors::None));
    let user = |id| durable.users().get(id).unwrap();
    assert_eq!(user(1).attributes["n"], json!(0));
    assert_eq!(user(1).version, 1);
    assert_eq!(changes_of(&durable, 1, ChangeOp::Update), 0);
    for id in 2..=5_u64 {
        assert_eq!(user(id).attributes["n"], json!(id));
        assert_eq!(user(id).version, 2);
        assert_eq!(changes_of(&durable, id, ChangeOp::Update), 1);
    }
    let dup = durable.users().get_by_username("dup", None).unwrap();
    assert_eq!(&&Ok(dup.id), created.first().unwrap());
    assert_eq!(changes_of(&durable, dup.id, ChangeOp::Create), 1);
    assert_eq!(
        durable.users().count(&rosterdb::Query::all()).unwrap(),
        THREADS as u64 + 1,
        "one user created"
    );
    assert!(durable.check().unwrap().ok);
}

/// `each` grouped writes per thread on `THREADS` threads at once: thread
/// `t` sets `n` = `i` on user `t + 1`, and before every third write tries
/// one that must fail (a stale expected version, `n` = 1000 + `i`).
fn concurrent_run(store: &Arc<Store>, each: u64) -> Vec<Told> {
    let jobs: Vec<Box<dyn FnOnce() -> Told + Send>> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(store);
            Box::new(move || {
                let id = t as u64 + 1;
                let mut told = Told {
                    acknowledged: 0,
                    attempted: 0,
                };
                for i in 1..=each {
                    if i % 3 == 0 {
                        let stale = json!({"attributes": {"n": 1000 + i}});
                        assert!(store.users().merge(id, &stale, Some(0)).is_err());
                    }
                    told.attempted = i;
                    let change = json!({"attributes": {"n": i}});
                    if store.users().merge(id, &change, None).is_ok() {
                        told.acknowledged = i;
                    }
                }
                told
            }) as Box<dyn FnOnce() -> Told + Send>
        })
        .collect();
    run_all(jobs)
}

/// Checks a reopened store after a crash of a concurrent run: clean
/// indexes; each thread's user with version `1 + n` and `n` update
/// entries; every acknowledged write there, nothing past the last
/// attempted one, no failed write.
fn check_after_crash(store: &Store, told: &[Told], what: &str) {
    let report = store.check().unwrap();
    assert!(report.ok, "{what}: {:?}", report.problems);
    for (t, told) in told.iter().enumerate() {
        let id = t as u64 + 1;
        let user = store.users().get(id).unwrap();
        let n = user.attributes["n"].as_u64().unwrap();
        assert!(n < 1000, "{what}: thread {t}'s failed write applied");
        assert_eq!(user.version, 1 + n, "{what}: thread {t}");
        assert_eq!(
            changes_of(store, id, ChangeOp::Update) as u64,
            n,
            "{what}: thread {t}'s change log"
        );
        assert!(
            n >= told.acknowledged,
            "{what}: thread {t}'s acknowledged write {} lost (n = {n})",
            told.acknowledged
        );
        assert!(n <= told.attempted, "{what}: thread {t}");
    }
}

#[test]
fn eight_grouped_writers_share_syncs() {
    const EACH: u64 = 25;
    let disk = FaultyDisk::from_image(base());
    let store = Arc::new(open(&disk));
    disk.set_sync_delay(SLOW_SYNC);
    let start = disk.counts();
    let told = concurrent_run(&store, EACH);
    let cost = disk.counts().since(&start);
    let writes = THREADS as u64 * EACH;
    assert!(told.iter().all(|t| t.acknowledged == EACH), "{told:?}");
    eprintln!(
        "{writes} concurrent grouped writes (and {} failing ones): {} syncs ({:.2} per write)",
        THREADS as u64 * (EACH / 3),
        cost.syncs,
        cost.syncs as f64 / writes as f64
    );
    assert!(
        cost.syncs * 2 <= writes,
        "{} syncs for {writes} writes",
        cost.syncs
    );
    check_after_crash(&store, &told, "no crash");
}

/// [`concurrent::fault_every_sync`] over this file's run.
fn fault_every_sync(fault: impl Fn(u64) -> Fault, each: u64) -> u64 {
    concurrent::fault_every_sync(
        &base(),
        fault,
        each,
        concurrent_run,
        check_after_crash,
        |store, n| {
            store
                .users()
                .merge(1, &json!({"attributes": {"n": n}}), None)
                .map(|_| ())
        },
    )
}

#[test]
fn a_power_loss_at_any_sync_of_grouped_writers_keeps_every_acknowledged_write() {
    let syncs = fault_every_sync(
        |nth| Fault::PowerLoss {
            call: Call::SyncData,
            nth,
        },
        9,
    );
    eprintln!("power loss at each of {syncs} syncs of a grouped run");
    assert!(syncs > 0);
}

#[test]
fn a_failed_sync_of_grouped_writers_fails_its_group_and_keeps_every_acknowledged_write() {
    let syncs = fault_every_sync(
        |nth| Fault::Fail {
            call: Call::SyncData,
            nth,
        },
        9,
    );
    eprintln!("a failed sync at each of {syncs} syncs of a grouped run");
    assert!(syncs > 0);
}

#[test]
fn grouped_closure_and_held_writers_mixed_all_commit_without_a_lost_wakeup() {
    const EACH: u64 = 30;
    let disk = FaultyDisk::from_image(base());
    let store = Arc::new(open(&disk));
    let jobs: Vec<Box<dyn FnOnce() + Send>> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&store);
            Box::new(move || {
                let id = t as u64 + 1;
                for i in 1..=EACH {
                    let change = json!({"attributes": {"n": i}});
                    match t % 4 {
                        3 => {
                            let tx = store.begin_write().unwrap();
                            tx.users().merge(id, &change, None).unwrap();
                            if i % 2 == 0 {
                                tx.rollback().unwrap();
                                store.users().merge(id, &change, None).unwrap();
                            } else {
                                tx.commit().unwrap();
                            }
                        }
                        2 => {
                            store
                                .write(|tx| tx.users().merge(id, &change, None))
                                .unwrap();
                        }
                        _ => {
                            // A failing grouped write now and then.
                            if i % 5 == 0 {
                                assert!(store.users().merge(id, &change, Some(0)).is_err());
                            }
                            store.users().merge(id, &change, None).unwrap();
                        }
                    }
                    let n = store.users().get(id).unwrap().attributes["n"].clone();
                    assert_eq!(n, json!(i));
                }
            }) as Box<dyn FnOnce() + Send>
        })
        .collect();
    run_all(jobs);
    let durable = open(&disk.crash(&Survivors::None));
    for t in 0..THREADS {
        let user = durable.users().get(t as u64 + 1).unwrap();
        assert_eq!(user.attributes["n"], json!(EACH));
        assert_eq!(user.version, 1 + EACH);
    }
    assert!(durable.check().unwrap().ok);
}
