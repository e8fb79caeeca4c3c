//! Reader and writer threads on one `Arc<Store>` (a file store): snapshots
//! see a multi-record write whole or not at all, nothing deadlocks (every
//! test runs its threads under a watchdog), optimistic writes under
//! `expected_version` lose no update, and cursor walks during writes never
//! repeat a record and never skip one that exists throughout the walk.

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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{options, user};
use rosterdb::{ChangeOp, EntityKind, Error, NewRole, NewUser, Query, ReadTx, Store, User, Walk};
use serde_json::json;

/// How long a test's threads may run before the test calls it a deadlock.
/// No test asserts on speed: this only turns a hang into a failure.
const WATCHDOG: Duration = Duration::from_secs(60);

/// A file store in a temporary directory, shared by threads.
fn file_store() -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("roster.redb"), options()).unwrap();
    (dir, Arc::new(store))
}

/// Sends on drop, so the watchdog hears of a thread that ends by a panic too.
struct Done(usize, mpsc::Sender<usize>);

impl Drop for Done {
    fn drop(&mut self) {
        let _ = self.1.send(self.0);
    }
}

/// Runs each job on its own thread and waits for all of them, failing the
/// test when any is still running after [`WATCHDOG`] (a deadlock) and
/// re-raising the panic of any that failed.
fn run_all(jobs: Vec<Box<dyn FnOnce() + Send>>) {
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = jobs
        .into_iter()
        .enumerate()
        .map(|(i, job)| {
            let done = Done(i, tx.clone());
            thread::spawn(move || {
                let _done = done;
                job();
            })
        })
        .collect();
    drop(tx);
    let deadline = Instant::now() + WATCHDOG;
    let mut finished = BTreeSet::new();
    while finished.len() < handles.len() {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(i) => {
                finished.insert(i);
            }
            Err(_) => {
                let stuck: Vec<usize> = (0..handles.len())
                    .filter(|i| !finished.contains(i))
                    .collect();
                panic!("deadlock: threads {stuck:?} still running after {WATCHDOG:?}");
            }
        }
    }
    for handle in handles {
        if let Err(panic) = handle.join() {
            std::panic::resume_unwind(panic);
        }
    }
}

/// Every item of a query, walked page by page in one read transaction.
fn walk_in<E>(
    tx: &ReadTx,
    query: Query,
    list: impl Fn(&ReadTx, &Query) -> rosterdb::Result<rosterdb::Page<E>>,
) -> Vec<E> {
    Walk::new(query)
        .items(|q| list(tx, q))
        .collect::<rosterdb::Result<Vec<_>>>()
        .unwrap()
}

/// Users in one batch: created (with their role) in one transaction and
/// deleted (with it) in another.
const BATCH: usize = 4;

/// Creates batch `k`: a role `batch-k` and [`BATCH`] users of last name
/// `Bk` that hold it, in one transaction.
fn create_batch(store: &Store, k: u64) -> (u64, Vec<u64>) {
    store
        .write(|tx| {
            let role = tx.roles().create(NewRole::new(format!("batch-{k}")))?;
            let mut users = Vec::new();
            for j in 0..BATCH {
                let name = format!("b{k}-{j}");
                let created = tx.users().create(NewUser {
                    roles: vec![role.id],
                    ..NewUser::new(
                        &name,
                        format!("{name}@example.com"),
                        "Batch",
                        format!("B{k}"),
                    )
                })?;
                users.push(created.id);
            }
            Ok((role.id, users))
        })
        .unwrap()
}

/// What one snapshot holds of the batches, checked for wholeness: for
/// each batch number, its role's presence and its users.
fn check_snapshot(tx: &ReadTx) -> usize {
    let batch_users = Query::parse("lastName like 'B%'").unwrap();
    let users: Vec<User> = walk_in(tx, batch_users.clone().page(1, 7), |t, q| t.users().list(q));
    let roles = walk_in(
        tx,
        Query::parse("name like 'batch-%'").unwrap().page(1, 3),
        |t, q| t.roles().list(q),
    );
    // list and count agree inside one snapshot.
    assert_eq!(tx.users().count(&batch_users).unwrap(), users.len() as u64);
    let mut by_batch: BTreeMap<String, Vec<&User>> = BTreeMap::new();
    for u in &users {
        by_batch
            .entry(u.last_name[1..].to_owned())
            .or_default()
            .push(u);
    }
    let role_batches: BTreeSet<String> = roles
        .iter()
        .map(|r| r.name.trim_start_matches("batch-").to_owned())
        .collect();
    for (k, members) in &by_batch {
        assert_eq!(members.len(), BATCH, "batch {k} seen in part: {members:?}");
        assert!(
            role_batches.contains(k),
            "batch {k}'s users without its role"
        );
    }
    assert_eq!(
        role_batches,
        by_batch.keys().cloned().collect::<BTreeSet<_>>(),
        "a batch's role without its users"
    );
    // The change log of the same snapshot replays to exactly these records.
    let mut alive: BTreeSet<(EntityKind, u64)> = BTreeSet::new();
    let mut after = 0;
    loop {
        let page = tx.changes(after, 1000).unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        for c in page {
            match c.op {
                ChangeOp::Create => assert!(alive.insert((c.entity, c.id))),
                ChangeOp::Update => assert!(alive.contains(&(c.entity, c.id))),
                ChangeOp::Delete => assert!(alive.remove(&(c.entity, c.id))),
            }
        }
    }
    let listed: BTreeSet<(EntityKind, u64)> = users
        .iter()
        .map(|u| (EntityKind::User, u.id))
        .chain(roles.iter().map(|r| (EntityKind::Role, r.id)))
        .collect();
    assert_eq!(alive, listed, "the change log disagrees with the snapshot");
    by_batch.len()
}

#[test]
fn snapshots_see_a_multi_record_write_whole_or_not_at_all() {
    let (_dir, store) = file_store();
    let writers_done = Arc::new(AtomicBool::new(false));
    let writers_left = Arc::new(AtomicU64::new(2));
    let mut jobs: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
    for w in 0..2u64 {
        let (store, done, left) = (store.clone(), writers_done.clone(), writers_left.clone());
        jobs.push(Box::new(move || {
            let mut mine = Vec::new();
            for i in 0..15 {
                mine.push(create_batch(&store, w * 100 + i));
                // Every third batch, delete an older one whole.
                if i % 3 == 2 {
                    let (role, users) = mine.remove(0);
                    store
                        .write(|tx| {
                            for &u in &users {
                                tx.users().delete(u)?;
                            }
                            tx.roles().delete(role, false)
                        })
                        .unwrap();
                }
            }
            if left.fetch_sub(1, Ordering::SeqCst) == 1 {
                done.store(true, Ordering::SeqCst);
            }
        }));
    }
    let seen = Arc::new(AtomicU64::new(0));
    for _ in 0..3 {
        let (store, done, seen) = (store.clone(), writers_done.clone(), seen.clone());
        jobs.push(Box::new(move || {
            let batch_users = Query::parse("lastName like 'B%'").unwrap();
            loop {
                // Read whether the writers finished before the snapshot,
                // so the last snapshot sees their last write.
                let last = done.load(Ordering::SeqCst);
                let batches = store.read(|tx| Ok(check_snapshot(tx))).unwrap();
                seen.fetch_max(batches as u64, Ordering::SeqCst);
                // One call is one snapshot too: whole batches only.
                let count = store.users().count(&batch_users).unwrap();
                assert_eq!(
                    count % BATCH as u64,
                    0,
                    "count saw a batch in part: {count}"
                );
                let page = store
                    .users()
                    .list(&batch_users.clone().page(1, 1000))
                    .unwrap();
                let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
                for u in &page.items {
                    *sizes.entry(u.last_name.as_str()).or_default() += 1;
                }
                assert!(
                    sizes.values().all(|&n| n == BATCH),
                    "list saw a batch in part: {sizes:?}"
                );
                if last {
                    // 2 writers × (15 created − 5 deleted).
                    assert_eq!(batches, 20);
                    break;
                }
            }
        }));
    }
    run_all(jobs);
    assert!(seen.load(Ordering::SeqCst) > 0);
    assert!(store.check().unwrap().ok);
}

#[test]
fn optimistic_increments_under_expected_version_lose_no_update() {
    let (_dir, store) = file_store();
    let counter = store
        .users()
        .create(NewUser {
            attributes: json!({"count": 0}).as_object().cloned().unwrap(),
            ..user("counter")
        })
        .unwrap();
    const THREADS: u64 = 4;
    const EACH: u64 = 20;
    let conflicts = Arc::new(AtomicU64::new(0));
    let jobs: Vec<Box<dyn FnOnce() + Send>> = (0..THREADS)
        .map(|_| {
            let (store, conflicts) = (store.clone(), conflicts.clone());
            Box::new(move || {
                for _ in 0..EACH {
                    loop {
                        let now = store.users().get(counter.id).unwrap();
                        let count = now.attributes["count"].as_u64().unwrap();
                        let next = json!({"attributes": {"count": count + 1}});
                        match store.users().merge(counter.id, &next, Some(now.version)) {
                            Ok(after) => {
                                assert_eq!(after.version, now.version + 1);
                                break;
                            }
                            Err(Error::VersionConflict { expected, actual }) => {
                                assert_eq!(expected, now.version);
                                assert!(actual > expected);
                                conflicts.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(e) => panic!("increment failed: {e}"),
                        }
                    }
                }
            }) as Box<dyn FnOnce() + Send>
        })
        .collect();
    run_all(jobs);
    let last = store.users().get(counter.id).unwrap();
    assert_eq!(last.attributes["count"], json!(THREADS * EACH));
    assert_eq!(last.version, 1 + THREADS * EACH);
    // One change-log entry per successful increment, and none for a conflict.
    let updates = store
        .changes(0, 1000)
        .unwrap()
        .iter()
        .filter(|c| c.id == counter.id && c.op == ChangeOp::Update)
        .count() as u64;
    assert_eq!(updates, THREADS * EACH);
    // Without expected_version the same race would lose updates; with it
    // every lost race was a conflict that was retried.
    let _ = conflicts.load(Ordering::SeqCst);
}

#[test]
fn a_read_snapshot_held_open_neither_blocks_writers_nor_sees_their_writes() {
    let (_dir, store) = file_store();
    let first = store.users().create(user("first")).unwrap();
    let first_id = first.id;
    let (wrote_tx, wrote_rx) = mpsc::channel::<u64>();
    let (reading_tx, reading_rx) = mpsc::channel::<()>();
    let reader_store = store.clone();
    let writer_store = store.clone();
    run_all(vec![
        Box::new(move || {
            reader_store
                .read(|tx| {
                    assert_eq!(tx.users().count(&Query::all()).unwrap(), 1);
                    reading_tx.send(()).unwrap();
                    // The writer commits while this snapshot stays open.
                    let id = wrote_rx
                        .recv_timeout(WATCHDOG)
                        .expect("the writer was blocked");
                    assert!(matches!(tx.users().get(id), Err(Error::NotFound { .. })));
                    assert_eq!(tx.users().count(&Query::all()).unwrap(), 1);
                    assert_eq!(tx.users().get(first.id).unwrap(), first);
                    Ok(())
                })
                .unwrap();
        }),
        Box::new(move || {
            reading_rx.recv_timeout(WATCHDOG).unwrap();
            let second = writer_store.users().create(user("second")).unwrap();
            writer_store
                .users()
                .merge(first_id, &json!({"nickname": "changed"}), None)
                .unwrap();
            wrote_tx.send(second.id).unwrap();
        }),
    ]);
    assert_eq!(store.users().count(&Query::all()).unwrap(), 2);
}

#[test]
fn writers_wait_for_an_open_write_transaction_and_then_all_commit() {
    let (_dir, store) = file_store();
    let (open_tx, open_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let holder = store.clone();
    let mut jobs: Vec<Box<dyn FnOnce() + Send>> = vec![Box::new(move || {
        let tx = holder.begin_write().unwrap();
        tx.users().create(user("held")).unwrap();
        open_tx.send(()).unwrap();
        // Other writers are queued behind this transaction meanwhile.
        go_rx.recv_timeout(WATCHDOG).unwrap();
        tx.commit().unwrap();
    })];
    let started = Arc::new(AtomicU64::new(0));
    for w in 0..3 {
        let (store, started) = (store.clone(), started.clone());
        jobs.push(Box::new(move || {
            started.fetch_add(1, Ordering::SeqCst);
            for i in 0..5 {
                store.users().create(user(&format!("w{w}-{i}"))).unwrap();
            }
        }));
    }
    let (store2, started2) = (store.clone(), started.clone());
    jobs.push(Box::new(move || {
        open_rx.recv_timeout(WATCHDOG).unwrap();
        // Readers are never blocked by the open writer.
        while started2.load(Ordering::SeqCst) < 3 {
            store2.users().count(&Query::all()).unwrap();
            thread::yield_now();
        }
        go_tx.send(()).unwrap();
    }));
    run_all(jobs);
    assert_eq!(store.users().count(&Query::all()).unwrap(), 16);
    assert!(store.check().unwrap().ok);
}

/// Walks `query`, checking that no id repeats and that each page follows
/// the last in `key` order; returns the ids.
fn walk_once(store: &Store, query: Query, key: impl Fn(&User) -> (String, u64)) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut seen = BTreeSet::new();
    let mut last: Option<(String, u64)> = None;
    for item in Walk::new(query).items(|q| store.users().list(q)) {
        let u = item.unwrap();
        assert!(seen.insert(u.id), "the walk returned user {} twice", u.id);
        let k = key(&u);
        if let Some(prev) = &last {
            assert!(*prev < k, "the walk went back: {prev:?} then {k:?}");
        }
        last = Some(k);
        ids.push(u.id);
    }
    ids
}

#[test]
fn cursor_walks_during_writes_never_repeat_or_skip_a_lasting_record() {
    let (_dir, store) = file_store();
    let mut stable = BTreeSet::new();
    store
        .write(|tx| {
            for i in 0..60 {
                let name = format!("s{i:02}");
                let u = tx.users().create(NewUser::new(
                    &name,
                    format!("{name}@example.com"),
                    "Stable",
                    // Several users share each last name: the cursor's
                    // tie-break by id is walked too.
                    format!("S{}", i % 7),
                ))?;
                stable.insert(u.id);
            }
            Ok(())
        })
        .unwrap();
    let stable = Arc::new(stable);
    let stop = Arc::new(AtomicBool::new(false));
    let mut jobs: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
    for w in 0..2u64 {
        let (store, stable, stop) = (store.clone(), stable.clone(), stop.clone());
        jobs.push(Box::new(move || {
            let stable: Vec<u64> = stable.iter().copied().collect();
            let mut mine = Vec::new();
            for i in 0..40u64 {
                // New users sort before, among and after the lasting ones.
                let name = format!("n{w}-{i}");
                let last = ["A", "S3", "Z"][(i % 3) as usize];
                let u = store
                    .users()
                    .create(NewUser::new(
                        &name,
                        format!("{name}@example.com"),
                        "New",
                        last,
                    ))
                    .unwrap();
                mine.push(u.id);
                // Lasting users change, but not where they sort.
                let id = stable[((i * 7 + w) as usize) % stable.len()];
                store
                    .users()
                    .merge(id, &json!({"attributes": {"touched": i}}), None)
                    .unwrap();
                if i % 2 == 1 {
                    store.users().delete(mine.remove(0)).unwrap();
                }
            }
            stop.store(true, Ordering::SeqCst);
        }));
    }
    let walks = Arc::new(AtomicU64::new(0));
    for r in 0..2 {
        let (store, stable, stop, walks) =
            (store.clone(), stable.clone(), stop.clone(), walks.clone());
        jobs.push(Box::new(move || {
            loop {
                let last = stop.load(Ordering::SeqCst);
                let ids = if r == 0 {
                    walk_once(&store, Query::all().page(1, 7), |u| (String::new(), u.id))
                } else {
                    walk_once(&store, Query::all().sort("lastName").page(1, 5), |u| {
                        (u.last_name.clone(), u.id)
                    })
                };
                let got: BTreeSet<u64> = ids.into_iter().collect();
                let missing: Vec<_> = stable.difference(&got).collect();
                assert!(
                    missing.is_empty(),
                    "the walk skipped lasting users {missing:?}"
                );
                walks.fetch_add(1, Ordering::SeqCst);
                if last {
                    break;
                }
            }
        }));
    }
    run_all(jobs);
    assert!(walks.load(Ordering::SeqCst) >= 2);
    assert!(store.check().unwrap().ok);
}

/// The attribute `n` of a user (0 when unset).
fn n_of(user: &User) -> u64 {
    user.attributes
        .get("n")
        .and_then(|n| n.as_u64())
        .unwrap_or(0)
}

#[test]
fn a_get_after_a_commit_sees_it_on_the_writing_thread_and_every_other() {
    // Readers keep reading, so the store's kept snapshot is in use when
    // each commit returns: a get that starts after a commit returned must
    // see it, on any thread, and no reader sees `n` go back.
    const COMMITS: u64 = 60;
    let (_dir, store) = file_store();
    let id = store.users().create(user("watched")).unwrap().id;
    let committed = Arc::new(AtomicU64::new(0));
    let mut jobs: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
    for _ in 0..3 {
        let (store, committed) = (Arc::clone(&store), Arc::clone(&committed));
        jobs.push(Box::new(move || {
            let mut last = 0;
            loop {
                let before = committed.load(Ordering::SeqCst);
                let n = n_of(&store.users().get(id).unwrap());
                assert!(
                    n >= before,
                    "a get saw n = {n} after commit {before} returned"
                );
                assert!(n >= last, "n went back from {last} to {n}");
                last = n;
                let by_email = store.users().get_by_email("watched@example.com", None);
                assert!(n_of(&by_email.unwrap()) >= n);
                if before == COMMITS {
                    break;
                }
            }
        }));
    }
    let (store_w, committed_w) = (Arc::clone(&store), Arc::clone(&committed));
    jobs.push(Box::new(move || {
        for k in 1..=COMMITS {
            // Warm the kept snapshot on this thread too.
            assert_eq!(n_of(&store_w.users().get(id).unwrap()), k - 1);
            store_w
                .users()
                .merge(id, &json!({"attributes": {"n": k}}), None)
                .unwrap();
            assert_eq!(n_of(&store_w.users().get(id).unwrap()), k);
            store_w
                .read(|r| {
                    assert_eq!(n_of(&r.users().get(id)?), k);
                    Ok(())
                })
                .unwrap();
            committed_w.store(k, Ordering::SeqCst);
        }
    }));
    run_all(jobs);
    assert_eq!(n_of(&store.users().get(id).unwrap()), COMMITS);
}

#[test]
fn a_get_after_a_commit_made_through_a_held_transaction_sees_it() {
    let (_dir, store) = file_store();
    let id = store.users().create(user("held")).unwrap().id;
    for k in 1..=5 {
        assert_eq!(n_of(&store.users().get(id).unwrap()), k - 1);
        let tx = store.begin_write().unwrap();
        tx.users()
            .merge(id, &json!({"attributes": {"n": k}}), None)
            .unwrap();
        // Not committed yet: the store's reads do not see it.
        assert_eq!(n_of(&store.users().get(id).unwrap()), k - 1);
        tx.commit().unwrap();
        let other = Arc::clone(&store);
        let seen = thread::spawn(move || n_of(&other.users().get(id).unwrap()));
        assert_eq!(seen.join().unwrap(), k);
        assert_eq!(n_of(&store.users().get(id).unwrap()), k);
    }
    // A rolled-back transaction leaves the reads as they were.
    let tx = store.begin_write().unwrap();
    tx.users()
        .merge(id, &json!({"attributes": {"n": 99}}), None)
        .unwrap();
    tx.rollback().unwrap();
    assert_eq!(n_of(&store.users().get(id).unwrap()), 5);
}

#[test]
fn reads_keep_no_snapshot_open_that_stops_a_compaction_or_grows_the_file() {
    // Two stores get the same patches; one reads after each. The snapshot
    // a read keeps is dropped as the next commit starts, so it holds no
    // page that commit frees: both files end the same size.
    let sizes: Vec<u64> = [false, true]
        .into_iter()
        .map(|reads| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("roster.redb");
            let mut store = Store::open(&path, options()).unwrap();
            let id = store.users().create(user("grown")).unwrap().id;
            for k in 0..300_u64 {
                let note = format!("{k:0>200}");
                store
                    .users()
                    .merge(id, &json!({"attributes": {"n": k, "note": note}}), None)
                    .unwrap();
                if reads {
                    assert_eq!(n_of(&store.users().get(id).unwrap()), k);
                }
            }
            let size = std::fs::metadata(&path).unwrap().len();
            // A compaction needs no read transaction open: the kept one
            // is let go.
            store.users().get(id).unwrap();
            store.compact().unwrap();
            assert_eq!(n_of(&store.users().get(id).unwrap()), 299);
            size
        })
        .collect();
    assert!(
        sizes[1] <= sizes[0] + sizes[0] / 10,
        "reading between commits grew the file: {sizes:?}"
    );
}
