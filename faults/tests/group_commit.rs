//! Group commit (decision 0013) on the simulated disk: concurrent writers
//! share syncs; a power loss at any sync of a concurrent run keeps every
//! acknowledged write and applies no failed one by halves; and no reader
//! sees a commit before it is durable.
//!
//! `cargo test -p rosterdb-faults --test group_commit -- --nocapture`
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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

mod concurrent;

use concurrent::{SLOW_SYNC, THREADS, Told, WATCHDOG, new_user, open, run_all};
use rosterdb::{ChangeOp, Store, User};
use rosterdb_faults::{Call, Fault, FaultyDisk, Survivors};
use serde_json::json;

/// A store with two users per writer thread (`a{t}` and `b{t}`, each
/// with attribute `n` = 0), as a disk image.
fn base() -> Vec<u8> {
    let disk = FaultyDisk::new();
    let store = open(&disk);
    for t in 0..THREADS {
        store.users().create(new_user(&format!("a{t}"))).unwrap();
        store.users().create(new_user(&format!("b{t}"))).unwrap();
    }
    drop(store);
    disk.image()
}

/// The ids of thread `t`'s two users in [`base`] (created in order).
fn pair(t: usize) -> (u64, u64) {
    let a = 2 * t as u64 + 1;
    (a, a + 1)
}

/// Thread `t`'s write number `i`: sets `n` = `i` on both of its users in
/// one transaction.
fn write_pair(store: &Store, t: usize, i: u64) -> rosterdb::Result<()> {
    let (a, b) = pair(t);
    let change = json!({"attributes": {"n": i}});
    store.write(|tx| {
        tx.users().merge(a, &change, None)?;
        tx.users().merge(b, &change, None)?;
        Ok(())
    })
}

/// Runs `each` writes per thread on `THREADS` threads at once.
fn concurrent_run(store: &Arc<Store>, each: u64) -> Vec<Told> {
    let jobs: Vec<Box<dyn FnOnce() -> Told + Send>> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(store);
            Box::new(move || {
                let mut told = Told {
                    acknowledged: 0,
                    attempted: 0,
                };
                for i in 1..=each {
                    told.attempted = i;
                    if write_pair(&store, t, i).is_ok() {
                        told.acknowledged = i;
                    }
                }
                told
            }) as Box<dyn FnOnce() -> Told + Send>
        })
        .collect();
    run_all(jobs)
}

#[test]
fn eight_writers_share_syncs() {
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
        "{writes} concurrent writes: {} syncs ({:.2} per write)",
        cost.syncs,
        cost.syncs as f64 / writes as f64
    );
    // One sync per write without group commit.
    assert!(
        cost.syncs * 2 <= writes,
        "{} syncs for {writes} writes",
        cost.syncs
    );
    for t in 0..THREADS {
        let (a, b) = pair(t);
        for id in [a, b] {
            let user = store.users().get(id).unwrap();
            assert_eq!(user.attributes["n"], json!(EACH));
            assert_eq!(user.version, 1 + EACH);
        }
    }
    assert!(store.check().unwrap().ok);
}

/// Checks a reopened store after a crash of a concurrent run: clean
/// indexes; each thread's two users written together (the same `n`, each
/// version `1 + n`, `n` update entries each in the change log); every
/// acknowledged write there and nothing past the last attempted one.
fn check_after_crash(store: &Store, told: &[Told], what: &str) {
    let report = store.check().unwrap();
    assert!(report.ok, "{what}: {:?}", report.problems);
    let mut changes = Vec::new();
    let mut after = 0;
    loop {
        let batch = store.changes(after, 1000).unwrap();
        let Some(last) = batch.last() else { break };
        after = last.seq;
        changes.extend(batch);
    }
    for (t, told) in told.iter().enumerate() {
        let (a, b) = pair(t);
        let users: Vec<User> = [a, b]
            .iter()
            .map(|&id| store.users().get(id).unwrap())
            .collect();
        let n = users[0].attributes["n"].as_u64().unwrap();
        for user in &users {
            assert_eq!(
                user.attributes["n"],
                json!(n),
                "{what}: thread {t}'s write applied by halves"
            );
            assert_eq!(user.version, 1 + n, "{what}: thread {t}");
            let updates = changes
                .iter()
                .filter(|c| c.id == user.id && c.op == ChangeOp::Update)
                .count() as u64;
            assert_eq!(updates, n, "{what}: thread {t}'s change log");
        }
        assert!(
            n >= told.acknowledged,
            "{what}: thread {t}'s acknowledged write {} lost (n = {n})",
            told.acknowledged
        );
        assert!(n <= told.attempted, "{what}: thread {t}");
    }
    let seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{what}: {seqs:?}");
}

/// [`concurrent::fault_every_sync`] over this file's run.
fn fault_every_sync(fault: impl Fn(u64) -> Fault, each: u64) -> u64 {
    concurrent::fault_every_sync(
        &base(),
        fault,
        each,
        concurrent_run,
        check_after_crash,
        |store, n| write_pair(store, 0, n),
    )
}

#[test]
fn a_power_loss_at_any_sync_of_concurrent_writers_keeps_every_acknowledged_write() {
    let syncs = fault_every_sync(
        |nth| Fault::PowerLoss {
            call: Call::SyncData,
            nth,
        },
        12,
    );
    eprintln!("power loss at each of {syncs} syncs of a concurrent run");
    assert!(syncs > 0);
}

#[test]
fn a_failed_sync_of_concurrent_writers_fails_its_group_and_keeps_every_acknowledged_write() {
    let syncs = fault_every_sync(
        |nth| Fault::Fail {
            call: Call::SyncData,
            nth,
        },
        12,
    );
    eprintln!("a failed sync at each of {syncs} syncs of a concurrent run");
    assert!(syncs > 0);
}

/// Waits until `done` holds, failing after [`WATCHDOG`].
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + WATCHDOG;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_reader_never_sees_a_commit_before_it_is_durable() {
    let disk = FaultyDisk::from_image(base());
    let store = Arc::new(open(&disk));
    let (a, _) = pair(0);
    let n_of = |user: &User| user.attributes["n"].as_u64().unwrap();

    // Writer 1 holds the turn until told to commit.
    let (inside_tx, inside_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let first_done = Arc::new(AtomicBool::new(false));
    let first = {
        let (store, done) = (Arc::clone(&store), Arc::clone(&first_done));
        thread::spawn(move || {
            let result = store.write(|tx| {
                tx.users()
                    .merge(a, &json!({"attributes": {"n": 1}}), None)?;
                inside_tx.send(()).unwrap();
                go_rx.recv_timeout(WATCHDOG).unwrap();
                Ok(())
            });
            done.store(true, Ordering::SeqCst);
            result
        })
    };
    inside_rx.recv_timeout(WATCHDOG).unwrap();
    // Writer 2 waits for the turn, so writer 1's commit will not be durable.
    let second = {
        let store = Arc::clone(&store);
        thread::spawn(move || {
            store
                .users()
                .merge(a, &json!({"attributes": {"n": 2}}), None)
        })
    };
    wait_for("writer 2 to wait for the turn", || {
        format!("{store:?}").contains("queued: 1")
    });
    disk.hold_syncs();
    go_tx.send(()).unwrap();
    // Writer 1 committed without a sync; writer 2 commits durably and its
    // sync is held: writer 1's commit is visible to redb, not durable.
    wait_for("writer 2's sync", || disk.syncs_waiting() == 1);
    let durable = open(&disk.crash(&Survivors::None));
    assert_eq!(n_of(&durable.users().get(a).unwrap()), 0);
    drop(durable);

    let released = Arc::new(AtomicBool::new(false));
    let (seen_tx, seen_rx) = mpsc::channel();
    let reader = {
        let (store, released) = (Arc::clone(&store), Arc::clone(&released));
        thread::spawn(move || {
            let user = store.users().get(a).unwrap();
            seen_tx
                .send((n_of(&user), released.load(Ordering::SeqCst)))
                .unwrap();
        })
    };
    // A transaction begun now would read writer 1's commit too: it waits.
    let (begun_tx, begun_rx) = mpsc::channel();
    let holder = {
        let (store, released) = (Arc::clone(&store), Arc::clone(&released));
        thread::spawn(move || {
            let tx = store.begin_write().unwrap();
            let n = tx.users().get(a).unwrap().attributes["n"].as_u64().unwrap();
            begun_tx.send((n, released.load(Ordering::SeqCst))).unwrap();
            tx.rollback().unwrap();
        })
    };
    assert!(
        seen_rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "the reader saw a commit that is not durable"
    );
    assert!(
        begun_rx.recv_timeout(Duration::from_millis(50)).is_err(),
        "a transaction began on a commit that is not durable"
    );
    assert!(
        !first_done.load(Ordering::SeqCst),
        "writer 1 returned before its commit was durable"
    );

    released.store(true, Ordering::SeqCst);
    disk.release_syncs();
    let (seen, after_release) = seen_rx.recv_timeout(WATCHDOG).unwrap();
    assert!(after_release);
    assert!(seen >= 1, "the reader saw n = {seen}");
    let (begun_n, begun_after) = begun_rx.recv_timeout(WATCHDOG).unwrap();
    assert!(begun_after);
    assert_eq!(begun_n, 2);
    first.join().unwrap().unwrap();
    second.join().unwrap().unwrap();
    reader.join().unwrap();
    holder.join().unwrap();
    assert_eq!(n_of(&store.users().get(a).unwrap()), 2);
    // Readers do not wait when no group is in flight.
    disk.hold_syncs();
    store.read(|r| r.users().get(a).map(drop)).unwrap();
    disk.release_syncs();
}

#[test]
fn a_group_whose_last_writer_fails_or_panics_is_still_made_durable() {
    for panics in [false, true] {
        let disk = FaultyDisk::from_image(base());
        let store = Arc::new(open(&disk));
        let (a, b) = pair(0);
        let (inside_tx, inside_rx) = mpsc::channel::<()>();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (first_tx, first_rx) = mpsc::channel();
        {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                let result = store.write(|tx| {
                    tx.users()
                        .merge(a, &json!({"attributes": {"n": 1}}), None)?;
                    inside_tx.send(()).unwrap();
                    go_rx.recv_timeout(WATCHDOG).unwrap();
                    Ok(())
                });
                first_tx.send(result).unwrap();
            });
        }
        inside_rx.recv_timeout(WATCHDOG).unwrap();
        let last = {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                store.write(|tx| {
                    tx.users()
                        .merge(b, &json!({"attributes": {"n": 7}}), None)?;
                    if panics {
                        panic!("the last writer of the group panics");
                    }
                    Err::<(), _>(rosterdb::Error::storage("the last writer gives up"))
                })
            })
        };
        wait_for("the last writer to wait for the turn", || {
            format!("{store:?}").contains("queued: 1")
        });
        go_tx.send(()).unwrap();
        // The first writer's commit was not durable when it was made; the
        // last writer, ending without a commit, made it durable.
        first_rx
            .recv_timeout(WATCHDOG)
            .expect("the first writer waits for a durable commit nobody makes")
            .unwrap();
        match last.join() {
            Ok(result) => assert!(!panics && result.is_err(), "{result:?}"),
            Err(_) => assert!(panics),
        }
        let durable = open(&disk.crash(&Survivors::None));
        let n = |id| durable.users().get(id).unwrap().attributes["n"].clone();
        assert_eq!((n(a), n(b)), (json!(1), json!(0)), "panics: {panics}");
        assert!(durable.check().unwrap().ok);
        // The store goes on.
        write_pair(&store, 1, 1).unwrap();
    }
}

#[test]
fn closure_writers_and_held_transactions_mixed_all_commit_without_a_lost_wakeup() {
    const EACH: u64 = 30;
    let disk = FaultyDisk::from_image(base());
    let store = Arc::new(open(&disk));
    let jobs: Vec<Box<dyn FnOnce() + Send>> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&store);
            Box::new(move || {
                let (a, b) = pair(t);
                for i in 1..=EACH {
                    let change = json!({"attributes": {"n": i}});
                    if t % 4 == 3 {
                        // A held transaction; every other one rolled back
                        // and redone, so rollbacks end turns too.
                        for commit in [i % 2 == 0, true] {
                            let tx = store.begin_write().unwrap();
                            tx.users().merge(a, &change, None).unwrap();
                            tx.users().merge(b, &change, None).unwrap();
                            if commit {
                                tx.commit().unwrap();
                                break;
                            }
                            tx.rollback().unwrap();
                        }
                    } else {
                        write_pair(&store, t, i).unwrap();
                    }
                    // Reads between writes.
                    let n = store.users().get(a).unwrap().attributes["n"].clone();
                    assert_eq!(n, json!(i));
                }
            }) as Box<dyn FnOnce() + Send>
        })
        .collect();
    run_all(jobs);
    let durable = open(&disk.crash(&Survivors::None));
    for t in 0..THREADS {
        let (a, b) = pair(t);
        for id in [a, b] {
            assert_eq!(
                durable.users().get(id).unwrap().attributes["n"],
                json!(EACH)
            );
        }
    }
    assert!(durable.check().unwrap().ok);
}

// With a write-ahead log (decision 0018): each commit is made durable by
// its record in the log, concurrent commits share the log's syncs, and the
// store disk is synced only at checkpoints.

/// A store disk and its log disk.
struct Logged {
    store: FaultyDisk,
    log: FaultyDisk,
}

impl Logged {
    fn from_images((store, log): &(Vec<u8>, Vec<u8>)) -> Logged {
        Logged {
            store: FaultyDisk::from_image(store.clone()),
            log: FaultyDisk::from_image(log.clone()),
        }
    }

    fn open(&self) -> Store {
        Store::open_with_backend_and_log(
            self.store.clone(),
            self.log.clone(),
            concurrent::options(),
        )
        .unwrap()
    }

    /// Both disks after a power loss, each keeping its own survivors.
    fn crash(&self, store: &Survivors, log: &Survivors) -> Logged {
        Logged {
            store: self.store.crash(store),
            log: self.log.crash(log),
        }
    }
}

/// [`base`] with a log: the store and log images after a clean close.
fn logged_base() -> (Vec<u8>, Vec<u8>) {
    let disks = Logged {
        store: FaultyDisk::new(),
        log: FaultyDisk::new(),
    };
    let store = disks.open();
    for t in 0..THREADS {
        store.users().create(new_user(&format!("a{t}"))).unwrap();
        store.users().create(new_user(&format!("b{t}"))).unwrap();
    }
    drop(store);
    (disks.store.image(), disks.log.image())
}

#[test]
fn eight_writers_share_log_syncs_and_never_sync_the_store_disk() {
    const EACH: u64 = 25;
    let disks = Logged::from_images(&logged_base());
    let store = Arc::new(disks.open());
    disks.log.set_sync_delay(SLOW_SYNC);
    let (store_start, log_start) = (disks.store.counts(), disks.log.counts());
    let told = concurrent_run(&store, EACH);
    let (store_cost, log_cost) = (
        disks.store.counts().since(&store_start),
        disks.log.counts().since(&log_start),
    );
    let writes = THREADS as u64 * EACH;
    assert!(told.iter().all(|t| t.acknowledged == EACH), "{told:?}");
    eprintln!(
        "{writes} concurrent writes with a log: {} log syncs ({:.2} per write), {} store syncs",
        log_cost.syncs,
        log_cost.syncs as f64 / writes as f64,
        store_cost.syncs
    );
    assert_eq!(store_cost.syncs, 0, "a commit synced the store disk");
    assert!(
        log_cost.syncs * 2 <= writes,
        "{} log syncs for {writes} writes",
        log_cost.syncs
    );
    // Nothing is lost when the power goes before any checkpoint.
    let durable = disks.crash(&Survivors::None, &Survivors::None).open();
    check_after_crash(&durable, &told, "power loss after the run");
    for t in 0..THREADS {
        let (a, _) = pair(t);
        assert_eq!(durable.users().get(a).unwrap().attributes["n"], json!(EACH));
    }
}

/// For each sync of the log in a concurrent run in turn (until the run
/// makes no more), runs it again from [`logged_base`] with `fault` at that
/// sync, then crashes both disks keeping none, all, or every other
/// unsynced write of each; each reopened store must keep every
/// acknowledged write, apply no write by halves, and take a new write.
/// Returns how many syncs were faulted.
fn fault_every_log_sync(fault: impl Fn(u64) -> Fault, each: u64) -> u64 {
    let images = logged_base();
    let mut nth = 0;
    loop {
        let disks = Logged::from_images(&images);
        let store = Arc::new(disks.open());
        disks.log.arm(fault(nth));
        let told = concurrent_run(&store, each);
        if disks.log.fired() == 0 {
            assert!(told.iter().all(|t| t.acknowledged == each), "{told:?}");
            return nth;
        }
        let lost = told.iter().filter(|t| t.acknowledged < t.attempted).count();
        assert!(lost > 0, "log sync {nth}: no write failed");
        // The store refuses writes once its log failed.
        assert!(write_pair(&store, 0, each + 1).is_err());
        drop(store);
        let every_other =
            |disk: &FaultyDisk| Survivors::Only((0..disk.unsynced().len()).step_by(2).collect());
        for (on_store, on_log) in [
            (Survivors::None, Survivors::None),
            (Survivors::All, Survivors::All),
            (every_other(&disks.store), every_other(&disks.log)),
            (Survivors::All, Survivors::None),
        ] {
            let what = format!(
                "{:?} at log sync {nth}, crash keeping {on_store:?} of the store, {on_log:?} of the log",
                fault(nth)
            );
            let reopened = disks.crash(&on_store, &on_log).open();
            check_after_crash(&reopened, &told, &what);
            write_pair(&reopened, 0, each + 1)
                .unwrap_or_else(|e| panic!("{what}: a new write failed: {e:?}"));
        }
        nth += 1;
    }
}

/// A record written while another writer's log sync is under way is not
/// covered by that sync (`fdatasync` covers the writes made before it was
/// called): its writer returns only after a sync that began after its
/// record was written, so a power loss right after both returned keeps
/// both writes.
#[test]
fn a_record_written_while_a_log_sync_waits_is_acknowledged_only_by_a_later_sync() {
    let disks = Logged::from_images(&logged_base());
    let store = Arc::new(disks.open());
    disks.log.hold_syncs();
    let first = {
        let store = Arc::clone(&store);
        thread::spawn(move || write_pair(&store, 0, 1))
    };
    wait_for("the first writer's log sync", || {
        disks.log.syncs_waiting() == 1
    });
    let writes = disks.log.counts().get(Call::Write);
    let second = {
        let store = Arc::clone(&store);
        thread::spawn(move || write_pair(&store, 1, 1))
    };
    // The second writer's record is written while the first writer's sync
    // waits; time for it to note the record written and reach its sync.
    wait_for("the second writer's record", || {
        disks.log.counts().get(Call::Write) > writes
    });
    thread::sleep(Duration::from_millis(100));
    disks.log.release_syncs();
    first.join().unwrap().unwrap();
    second.join().unwrap().unwrap();
    let durable = disks.crash(&Survivors::None, &Survivors::None).open();
    for t in [0, 1] {
        let (a, b) = pair(t);
        for id in [a, b] {
            assert_eq!(
                durable.users().get(id).unwrap().attributes["n"],
                json!(1),
                "thread {t}'s acknowledged write was lost"
            );
        }
    }
}

#[test]
fn a_power_loss_at_any_log_sync_of_concurrent_writers_keeps_every_acknowledged_write() {
    let syncs = fault_every_log_sync(
        |nth| Fault::PowerLoss {
            call: Call::SyncData,
            nth,
        },
        12,
    );
    eprintln!("power loss at each of {syncs} log syncs of a concurrent run");
    assert!(syncs > 0);
}

#[test]
fn a_failed_log_sync_of_concurrent_writers_fails_its_group_and_keeps_every_acknowledged_write() {
    let syncs = fault_every_log_sync(
        |nth| Fault::Fail {
            call: Call::SyncData,
            nth,
        },
        12,
    );
    eprintln!("a failed log sync at each of {syncs} log syncs of a concurrent run");
    assert!(syncs > 0);
}

#[test]
fn a_torn_log_write_keeps_every_acknowledged_write() {
    let images = logged_base();
    for nth in [0, 1, 3] {
        for keep in [0, 5, 40] {
            let disks = Logged::from_images(&images);
            let store = Arc::new(disks.open());
            disks.log.arm(Fault::Tear { nth, keep });
            let told = concurrent_run(&store, 6);
            drop(store);
            let what = format!("log write {nth} torn after {keep} bytes");
            let reopened = disks.crash(&Survivors::All, &Survivors::All).open();
            check_after_crash(&reopened, &told, &what);
        }
    }
}
