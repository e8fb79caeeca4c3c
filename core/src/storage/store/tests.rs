//! Write groups (decisions 0016 and 0025) seen from inside: which runs of
//! a grouped operation commit when one member of its group fails or
//! panics, and which thread runs them.

// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use redb::ReadableTable;

use super::*;

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn store_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
}

/// Sets meta counter `key` inside `tx` (a write of the operation),
/// straight into the meta table.
fn put(tx: &WriteTx, key: &str, value: u64) -> Result<()> {
    tx.txn
        .open_table(crate::storage::schema::META)?
        .insert(key, value)?;
    Ok(())
}

fn meta(store: &Store, key: &str) -> Option<u64> {
    store.read(|r| r.with_tables(|t| t.meta(key))).unwrap()
}

/// Waits until the store's commit state shows `what` (its `Debug` form).
fn wait_state(store: &Store, what: &str) {
    let deadline = Instant::now() + WAIT;
    while !format!("{store:?}").contains(what) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// The number of the store's last commit (its `Debug` form).
fn last_commit(store: &Store) -> u64 {
    let shown = format!("{store:?}");
    let at = shown.find("last: ").unwrap() + "last: ".len();
    shown[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// How the failing member of a group ends.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Failure {
    Error,
    Panic,
}

/// A group: member `first` (held inside its first run until three more
/// grouped writers wait), then `f` (writes `f`, then fails or panics) and
/// `g2`, `g3` in some order. Every member writes its own meta key.
fn failing_member(failure: Failure) {
    let store = Arc::new(Store::memory().unwrap());
    let runs: Arc<Mutex<Vec<&'static str>>> = Arc::default();
    let (inside_tx, inside_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = Arc::new(Mutex::new(go_rx));
    let first = {
        let (store, runs) = (Arc::clone(&store), Arc::clone(&runs));
        thread::spawn(move || {
            let held = AtomicBool::new(false);
            store.write_grouped(|tx| {
                runs.lock().unwrap().push("first");
                put(tx, "first", 1)?;
                if !held.swap(true, Ordering::SeqCst) {
                    inside_tx.send(()).unwrap();
                    go_rx.lock().unwrap().recv_timeout(WAIT).unwrap();
                }
                Ok(())
            })
        })
    };
    inside_rx.recv_timeout(WAIT).unwrap();
    let others: Vec<_> = ["f", "g2", "g3"]
        .into_iter()
        .map(|name| {
            let (store, runs) = (Arc::clone(&store), Arc::clone(&runs));
            thread::spawn(move || {
                store.write_grouped(|tx| {
                    runs.lock().unwrap().push(name);
                    put(tx, name, 1)?;
                    if name == "f" {
                        match failure {
                            Failure::Error => return Err(crate::Error::internal("f fails")),
                            Failure::Panic => panic!("f panics"),
                        }
                    }
                    Ok(())
                })
            })
        })
        .collect();
    wait_state(&store, "grouped: 3");
    go_tx.send(()).unwrap();
    first.join().unwrap().unwrap();
    let mut others = others.into_iter();
    let f = others.next().unwrap().join();
    match failure {
        Failure::Error => assert!(f.unwrap().is_err()),
        Failure::Panic => assert!(f.is_err(), "f's thread did not panic"),
    }
    for g in others {
        g.join().unwrap().unwrap();
    }
    assert_eq!(meta(&store, "f"), None, "the failed member left a trace");
    for name in ["first", "g2", "g3"] {
        assert_eq!(meta(&store, name), Some(1), "{name}");
    }
    let runs = runs.lock().unwrap().clone();
    let count = |name| runs.iter().filter(|r| **r == name).count();
    // `first` ran before `f` in the rolled-back transaction: again on its own.
    assert_eq!(count("first"), 2, "{runs:?}");
    // `f` ran after an earlier member: again on its own (a panic ends it).
    let f_runs = if failure == Failure::Panic { 1 } else { 2 };
    assert_eq!(count("f"), f_runs, "{runs:?}");
    assert!(store.check().unwrap().ok);
    // The store goes on.
    store.write_grouped(|tx| put(tx, "after", 1)).unwrap();
    assert_eq!(meta(&store, "after"), Some(1));
}

#[test]
fn a_member_that_fails_after_writing_leaves_no_trace_and_its_group_commits() {
    failing_member(Failure::Error);
}

#[test]
fn a_member_that_panics_after_writing_leaves_no_trace_and_its_group_commits() {
    failing_member(Failure::Panic);
}

/// A `Store::write` closure holding the turn (writing meta key
/// "blocker") until the returned sender says go.
fn hold_turn(store: &Arc<Store>) -> (thread::JoinHandle<Result<()>>, mpsc::Sender<()>) {
    let (inside_tx, inside_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let blocker = {
        let store = Arc::clone(store);
        thread::spawn(move || {
            store.write(|tx| {
                put(tx, "blocker", 1)?;
                inside_tx.send(()).unwrap();
                go_rx.recv_timeout(WAIT).unwrap();
                Ok(())
            })
        })
    };
    inside_rx.recv_timeout(WAIT).unwrap();
    (blocker, go_tx)
}

/// The threads of the grouped operations a test runs: which thread ran
/// the operation, and what its caller got.
type Grouped = thread::JoinHandle<(thread::ThreadId, Result<usize>)>;

/// `n` grouped writers, writer `i` setting meta key `w{i}` to `i` and
/// returning `i * 10`, started while the turn is held and returned once
/// all of them wait; the threads that ran their operations are noted in
/// run order.
fn grouped_writers(
    store: &Arc<Store>,
    n: usize,
) -> (Arc<Mutex<Vec<thread::ThreadId>>>, Vec<Grouped>) {
    let runs: Arc<Mutex<Vec<thread::ThreadId>>> = Arc::default();
    let writers = (0..n)
        .map(|i| {
            let (store, runs) = (Arc::clone(store), Arc::clone(&runs));
            thread::spawn(move || {
                let value = store.write_grouped(|tx| {
                    runs.lock().unwrap().push(thread::current().id());
                    put(tx, &format!("w{i}"), i as u64)?;
                    Ok(i * 10)
                });
                (thread::current().id(), value)
            })
        })
        .collect();
    wait_state(store, &format!("grouped: {n}"));
    (runs, writers)
}

#[test]
fn grouped_writers_waiting_together_commit_once() {
    const WRITERS: usize = 6;
    let store = Arc::new(Store::memory().unwrap());
    let (blocker, go_tx) = hold_turn(&store);
    let (runs, writers) = grouped_writers(&store, WRITERS);
    let before = last_commit(&store);
    go_tx.send(()).unwrap();
    blocker.join().unwrap().unwrap();
    let mut callers = Vec::new();
    for (i, w) in writers.into_iter().enumerate() {
        let (id, value) = w.join().unwrap();
        // Each caller gets its own operation's value.
        assert_eq!(value.unwrap(), i * 10);
        callers.push(id);
    }
    // The blocker's commit and one for the whole group.
    assert_eq!(last_commit(&store), before + 2);
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), WRITERS);
    // Flat combining (decision 0025): the writer that took the turn ran
    // every operation, its own and the five others', on its thread.
    assert!(runs.iter().all(|t| *t == runs[0]), "{runs:?}");
    assert!(callers.contains(&runs[0]));
    for i in 0..WRITERS {
        assert_eq!(meta(&store, &format!("w{i}")), Some(i as u64));
    }
}

#[test]
fn a_full_group_commits_and_the_next_writer_waiting_leads_the_rest() {
    const WRITERS: usize = super::super::durability::MAX_MEMBERS + 8;
    let store = Arc::new(Store::memory().unwrap());
    let (blocker, go_tx) = hold_turn(&store);
    let (runs, writers) = grouped_writers(&store, WRITERS);
    let before = last_commit(&store);
    go_tx.send(()).unwrap();
    blocker.join().unwrap().unwrap();
    for (i, w) in writers.into_iter().enumerate() {
        assert_eq!(w.join().unwrap().1.unwrap(), i * 10);
    }
    // The blocker's commit, a full group, and one for the other eight.
    assert_eq!(last_commit(&store), before + 3);
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), WRITERS);
    let full = super::super::durability::MAX_MEMBERS;
    assert!(runs[..full].iter().all(|t| *t == runs[0]), "{runs:?}");
    assert!(runs[full..].iter().all(|t| *t == runs[full]), "{runs:?}");
    assert_ne!(runs[0], runs[full], "the second group has its own leader");
    for i in 0..WRITERS {
        assert_eq!(meta(&store, &format!("w{i}")), Some(i as u64));
    }
    assert!(format!("{store:?}").contains("grouped: 0"));
}

/// What one operation of [`mixed_writers`] is: a grouped operation, a
/// `Store::write` closure or a held transaction, that commits, fails or
/// panics after writing.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Grouped,
    GroupedFails,
    GroupedPanics,
    Closure,
    ClosureFails,
    ClosurePanics,
    HeldCommits,
    HeldRollsBack,
    HeldDropped,
}

impl Op {
    /// Operation `i` of thread `t`: a fixed pseudo-random mix, mostly
    /// grouped.
    fn of(t: usize, i: usize) -> Op {
        let mut x = ((t as u64) << 32) | i as u64;
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        match x % 100 {
            0..55 => Op::Grouped,
            55..65 => Op::GroupedFails,
            65..70 => Op::GroupedPanics,
            70..80 => Op::Closure,
            80..84 => Op::ClosureFails,
            84..86 => Op::ClosurePanics,
            86..93 => Op::HeldCommits,
            93..97 => Op::HeldRollsBack,
            _ => Op::HeldDropped,
        }
    }

    /// Whether its writes are to be kept.
    fn commits(self) -> bool {
        matches!(self, Op::Grouped | Op::Closure | Op::HeldCommits)
    }
}

/// The panic message of the operations that panic on purpose.
const PANICS: &str = "mixed_writers panics on purpose";

/// Keeps the test's output readable: the operations that panic on
/// purpose print nothing; every other panic is printed as before.
fn quiet_planned_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&PANICS) {
                previous(info);
            }
        }));
    });
}

/// Operation `key`'s writes: counts itself in meta "mix.count" and
/// writes its place in that count under its own key; returns the place.
fn count_in(tx: &WriteTx, key: &str) -> Result<u64> {
    let mut table = tx.txn.open_table(crate::storage::schema::META)?;
    let place = table.get("mix.count")?.map_or(0, |v| v.value()) + 1;
    table.insert("mix.count", place)?;
    table.insert(key, place)?;
    Ok(place)
}

/// Runs [`Op::of`]`(t, i)` as operation `key` on `store`; returns the
/// place it committed at (`None` for one that must leave no trace),
/// checking that it ended as its kind says.
fn run_op(store: &Store, t: usize, i: usize, key: &str) -> Option<u64> {
    let op = Op::of(t, i);
    let fails = || crate::Error::internal(format!("{key} fails"));
    let failed = |result: Result<u64>| match result {
        Err(crate::Error::Internal { message }) if message == format!("{key} fails") => None,
        other => panic!("{key} ({op:?}): {other:?}"),
    };
    let panicked = |result: std::thread::Result<Result<u64>>| match result {
        Err(payload) if payload.downcast_ref::<&str>() == Some(&PANICS) => None,
        Err(_) => panic!("{key} ({op:?}): another panic"),
        Ok(other) => panic!("{key} ({op:?}): did not panic: {other:?}"),
    };
    let catch =
        |f: &dyn Fn() -> Result<u64>| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    // What a failing and a panicking operation do, grouped or in a closure.
    let fail = |tx: &WriteTx| -> Result<u64> {
        count_in(tx, key)?;
        Err(fails())
    };
    let panic = |tx: &WriteTx| -> Result<u64> {
        count_in(tx, key)?;
        std::panic::panic_any(PANICS)
    };
    let place = match op {
        Op::Grouped => Some(store.write_grouped(|tx| count_in(tx, key)).unwrap()),
        Op::GroupedFails => failed(store.write_grouped(fail)),
        Op::GroupedPanics => panicked(catch(&|| store.write_grouped(panic))),
        Op::Closure => Some(store.write(|tx| count_in(tx, key)).unwrap()),
        Op::ClosureFails => failed(store.write(fail)),
        Op::ClosurePanics => panicked(catch(&|| store.write(panic))),
        Op::HeldCommits | Op::HeldRollsBack | Op::HeldDropped => {
            let tx = store.begin_write().unwrap();
            let place = count_in(&tx, key).unwrap();
            match op {
                Op::HeldCommits => {
                    tx.commit().unwrap();
                    Some(place)
                }
                Op::HeldRollsBack => {
                    tx.rollback().unwrap();
                    None
                }
                _ => {
                    drop(tx);
                    None
                }
            }
        }
    };
    assert_eq!(place.is_some(), op.commits(), "{key} ({op:?})");
    // What returned is durable and seen by the writer's next read.
    assert_eq!(meta(store, key), place, "{key} ({op:?})");
    place
}

/// Writer threads of [`mixed_writers`], and operations each.
const MIX_THREADS: usize = 16;
const MIX_EACH: usize = 250;

/// [`MIX_THREADS`] threads each run [`MIX_EACH`] operations of
/// [`Op::of`]'s mix on `store` at once: grouped operations (some failing,
/// some panicking after they wrote), `Store::write` closures and held
/// transactions (committed, rolled back, dropped). Checks that nobody
/// waits forever and what [`check_mix`] checks; returns the place each
/// operation committed at (`None`: it must have left nothing).
fn mixed_writers(store: Arc<Store>) -> Vec<Vec<Option<u64>>> {
    quiet_planned_panics();
    let (done_tx, done_rx) = mpsc::channel::<(usize, thread::Result<Vec<Option<u64>>>)>();
    let start = Arc::new(std::sync::Barrier::new(MIX_THREADS));
    let writers: Vec<_> = (0..MIX_THREADS)
        .map(|t| {
            let (store, done_tx, start) = (Arc::clone(&store), done_tx.clone(), Arc::clone(&start));
            thread::spawn(move || {
                let places = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    start.wait();
                    (0..MIX_EACH)
                        .map(|i| run_op(&store, t, i, &format!("mix.{t}.{i}")))
                        .collect()
                }));
                drop(store);
                let _ = done_tx.send((t, places));
            })
        })
        .collect();
    // The watchdog: a hang (a lost wake-up, a deadlock) fails the test
    // instead of stalling it; no speed is asserted.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut places: Vec<Vec<Option<u64>>> = vec![Vec::new(); MIX_THREADS];
    for _ in 0..MIX_THREADS {
        let left = deadline.saturating_duration_since(Instant::now());
        let (t, result) = done_rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("deadlock: writers still waiting; {store:?}"));
        match result {
            Ok(got) => places[t] = got,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    for writer in writers {
        writer.join().unwrap();
    }
    let kinds: Vec<Op> = (0..MIX_THREADS)
        .flat_map(|t| (0..MIX_EACH).map(move |i| Op::of(t, i)))
        .collect();
    for kind in [
        Op::Grouped,
        Op::GroupedFails,
        Op::GroupedPanics,
        Op::HeldDropped,
    ] {
        assert!(kinds.contains(&kind), "the mix has no {kind:?}");
    }
    eprintln!(
        "{} operations, {} committed, in {} commits",
        kinds.len(),
        places.iter().flatten().flatten().count(),
        last_commit(&store)
    );
    assert!(format!("{store:?}").contains("grouped: 0"), "{store:?}");
    check_mix(&store, &places);
    places
}

/// Every operation of [`mixed_writers`] that returned a place is in
/// `store` exactly once, at that place (so no run of it but the committed
/// one left a trace, and each caller got its own run's result); every
/// other left nothing.
fn check_mix(store: &Store, places: &[Vec<Option<u64>>]) {
    let mut committed: Vec<u64> = places.iter().flatten().flatten().copied().collect();
    committed.sort_unstable();
    let count = meta(store, "mix.count").unwrap_or(0);
    assert_eq!(
        committed,
        (1..=count).collect::<Vec<_>>(),
        "each committed operation counted once, and nothing else"
    );
    for (t, places) in places.iter().enumerate() {
        for (i, place) in places.iter().enumerate() {
            assert_eq!(meta(store, &format!("mix.{t}.{i}")), *place, "mix.{t}.{i}");
        }
    }
    assert!(store.check().unwrap().ok);
}

#[test]
fn grouped_closure_and_held_writers_mixed_with_failures_and_panics_on_a_memory_store() {
    mixed_writers(Arc::new(Store::memory().unwrap()));
}

#[test]
fn grouped_closure_and_held_writers_mixed_with_failures_and_panics_on_a_file_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mix.redb");
    let store = Arc::new(Store::open(&path, Options::default()).unwrap());
    let places = mixed_writers(Arc::clone(&store));
    drop(Arc::into_inner(store).expect("the writers let the store go"));
    // Reopened (its write-ahead log replayed or checkpointed): the same.
    check_mix(&Store::open(&path, Options::default()).unwrap(), &places);
}
