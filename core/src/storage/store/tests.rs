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

#[test]
fn grouped_writers_waiting_together_commit_once() {
    const WRITERS: usize = 6;
    let store = Arc::new(Store::memory().unwrap());
    let (blocker, go_tx) = hold_turn(&store);
    let runs: Arc<Mutex<Vec<thread::ThreadId>>> = Arc::default();
    let writers: Vec<_> = (0..WRITERS)
        .map(|i| {
            let (store, runs) = (Arc::clone(&store), Arc::clone(&runs));
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
    wait_state(&store, &format!("grouped: {WRITERS}"));
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
    let runs: Arc<Mutex<Vec<thread::ThreadId>>> = Arc::default();
    let writers: Vec<_> = (0..WRITERS)
        .map(|i| {
            let (store, runs) = (Arc::clone(&store), Arc::clone(&runs));
            thread::spawn(move || {
                store.write_grouped(|tx| {
                    runs.lock().unwrap().push(thread::current().id());
                    put(tx, &format!("w{i}"), i as u64)
                })
            })
        })
        .collect();
    wait_state(&store, &format!("grouped: {WRITERS}"));
    let before = last_commit(&store);
    go_tx.send(()).unwrap();
    blocker.join().unwrap().unwrap();
    for w in writers {
        w.join().unwrap().unwrap();
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
