//! `StoreHandle` and `TxHandle`: closing, busy stores, scoped views refusing
//! whole-store operations (decision 0003), and the states of a transaction.

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

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use common::{options, tenant_user, user};
use rosterdb::{Error, Query, Store, StoreHandle};

fn handle() -> StoreHandle {
    StoreHandle::new(Store::memory_with(options()).unwrap())
}

fn count(h: &StoreHandle) -> u64 {
    h.read(|c| c.users().count(&Query::all())).unwrap()
}

/// The message of a `Closed` error, or a panic.
fn closed<T: std::fmt::Debug>(result: rosterdb::Result<T>) -> String {
    match result {
        Err(Error::Closed { message }) => message,
        other => panic!("expected Closed, got {other:?}"),
    }
}

/// The message of a `Busy` error, or a panic.
fn busy<T: std::fmt::Debug>(result: rosterdb::Result<T>) -> String {
    match result {
        Err(Error::Busy { message }) => message,
        other => panic!("expected Busy, got {other:?}"),
    }
}

const STORE_CLOSED: &str = "the store is closed";
const NOT_BEGUN: &str = "the transaction has not begun: use it in a with block";
const FINISHED: &str = "the transaction is finished";
const TWICE: &str = "a transaction can be entered only once";
const WRITING: &str =
    "a transaction is open in this thread: write through the transaction's collections";
const IN_USE: &str = "the store is in use by another call";

#[test]
fn every_call_on_a_closed_store_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let h = handle();
    let view = h.scoped("acme").unwrap();
    let tx = h.transaction();
    assert!(!h.is_closed());
    h.close();
    assert!(h.is_closed() && view.is_closed(), "views share the store");
    assert_eq!(closed(h.read(|c| c.users().get(1))), STORE_CLOSED);
    assert_eq!(
        closed(h.write(|c| c.users().create(user("ann")))),
        STORE_CLOSED
    );
    assert_eq!(closed(view.read(|c| c.changes(0, 10))), STORE_CLOSED);
    assert_eq!(closed(h.scoped("acme")), STORE_CLOSED);
    assert_eq!(closed(tx.begin()), STORE_CLOSED);
    assert_eq!(closed(h.transaction().begin()), STORE_CLOSED);
    assert_eq!(
        closed(h.export_jsonl(dir.path().join("x.jsonl"))),
        STORE_CLOSED
    );
    assert_eq!(
        closed(h.import_jsonl(dir.path().join("x.jsonl"))),
        STORE_CLOSED
    );
    assert_eq!(closed(h.check()), STORE_CLOSED);
    assert_eq!(closed(h.compact()), STORE_CLOSED);
    // Closing again does nothing.
    h.close();
    view.close();
    assert_eq!(closed(h.read(|c| c.users().get(1))), STORE_CLOSED);
}

#[test]
fn closing_releases_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let h = StoreHandle::new(Store::open(&path, options()).unwrap());
    h.write(|c| c.users().create(user("ann"))).unwrap();
    assert!(matches!(Store::open(&path, options()), Err(Error::Locked)));
    h.close();
    let again = Store::open(&path, options()).unwrap();
    assert_eq!(again.users().count(&Query::all()).unwrap(), 1);
}

#[test]
fn a_scoped_view_refuses_whole_store_operations_before_touching_the_file() {
    let h = handle();
    let view = h.scoped("acme").unwrap();
    let refused = |result: rosterdb::Result<()>| match result {
        Err(Error::Storage { message, .. }) => assert_eq!(
            message,
            "export, import, check and compact work on the whole store, not a scoped view"
        ),
        other => panic!("expected Storage, got {other:?}"),
    };
    refused(view.export_jsonl("/nonexistent/dir/x.jsonl").map(drop));
    refused(view.import_jsonl("/nonexistent/x.jsonl").map(drop));
    refused(view.check().map(drop));
    refused(view.compact().map(drop));
    // ... even once the store is closed, or from a thread with an open transaction.
    let tx = h.transaction();
    tx.begin().unwrap();
    refused(view.import_jsonl("/nonexistent/x.jsonl").map(drop));
    tx.end(false).unwrap();
    h.close();
    refused(view.check().map(drop));
    // The whole store does them.
    let h = handle();
    assert!(h.check().unwrap().ok);
    assert!(h.compact().is_ok());
}

#[test]
fn a_view_sees_its_tenant_and_makes_views() {
    let h = handle();
    assert_eq!(h.tenant(), None);
    let acme = h.scoped("acme").unwrap();
    assert_eq!(acme.tenant(), Some("acme"));
    let ann = acme.write(|c| c.users().create(user("ann"))).unwrap();
    assert_eq!(ann.tenant.as_deref(), Some("acme"));
    h.write(|c| c.users().create(tenant_user("bob", "globex")))
        .unwrap();
    assert_eq!(count(&acme), 1);
    assert_eq!(count(&h), 2);
    assert!(matches!(
        acme.read(|c| c.users().get(2)),
        Err(Error::NotFound { .. })
    ));
    // A view of a view sees the new tenant.
    let globex = acme.scoped("globex").unwrap();
    assert_eq!(globex.tenant(), Some("globex"));
    assert_eq!(globex.read(|c| c.users().get(2)).unwrap().username, "bob");
    assert!(matches!(
        h.scoped("not a tenant!"),
        Err(Error::Validation { .. })
    ));
    // Changes through a view are its tenant's.
    assert_eq!(acme.read(|c| c.changes(0, 10)).unwrap().len(), 1);
    assert_eq!(h.read(|c| c.changes(0, 10)).unwrap().len(), 2);
}

#[test]
fn compact_is_busy_while_another_call_or_transaction_holds_the_store() {
    let h = handle();
    let view = h.scoped("acme").unwrap();
    assert!(
        h.compact().is_ok(),
        "a view holds the store only during its calls"
    );
    // During a call (here: from inside it).
    let inner = h.read(|_| Ok::<_, Error>(h.compact())).unwrap();
    assert_eq!(busy(inner), IN_USE);
    let inner = view.read(|_| Ok::<_, Error>(h.compact())).unwrap();
    assert_eq!(busy(inner), IN_USE);
    // While a transaction is open, from any thread.
    let tx = h.transaction();
    tx.begin().unwrap();
    assert_eq!(busy(h.compact()), IN_USE);
    let other = h.clone();
    let from_another_thread = std::thread::spawn(move || other.compact()).join().unwrap();
    assert_eq!(busy(from_another_thread), IN_USE);
    tx.end(true).unwrap();
    assert!(h.compact().is_ok());
    // A transaction made but not begun does not hold it.
    let _idle = h.transaction();
    assert!(h.compact().is_ok());
}

#[test]
fn a_transaction_goes_from_not_begun_to_open_to_finished() {
    let h = handle();
    let tx = h.transaction();
    assert!(!tx.is_open());
    assert_eq!(
        closed(tx.call(|c| c.users().create(user("ann")))),
        NOT_BEGUN
    );
    assert_eq!(closed(tx.commit()), NOT_BEGUN);
    assert_eq!(closed(tx.rollback()), NOT_BEGUN);
    tx.begin().unwrap();
    assert!(tx.is_open());
    assert_eq!(busy(tx.begin()), TWICE);
    tx.call(|c| c.users().create(user("ann"))).unwrap();
    // Reads through the transaction see its writes; the store sees the last commit.
    assert_eq!(tx.call(|c| c.users().count(&Query::all())).unwrap(), 1);
    assert_eq!(count(&h), 0);
    tx.end(true).unwrap();
    assert!(!tx.is_open());
    assert_eq!(count(&h), 1);
    assert_eq!(closed(tx.call(|c| c.users().get(1))), FINISHED);
    assert_eq!(closed(tx.commit()), FINISHED);
    assert_eq!(busy(tx.begin()), TWICE);
    // Ending a transaction that is not open does nothing more.
    tx.end(true).unwrap();
    let never = h.transaction();
    never.end(true).unwrap();
    assert_eq!(closed(never.call(|c| c.users().get(1))), FINISHED);
}

#[test]
fn ending_without_commit_rolls_everything_back() {
    let h = handle();
    let tx = h.transaction();
    tx.begin().unwrap();
    tx.call(|c| c.roles().create(rosterdb::NewRole::new("staff")))
        .unwrap();
    tx.call(|c| c.users().create(user("ann"))).unwrap();
    tx.end(false).unwrap();
    assert_eq!(count(&h), 0);
    assert!(h.read(|c| c.changes(0, 10)).unwrap().is_empty());
    // Explicit commit and rollback.
    let tx = h.transaction();
    tx.begin().unwrap();
    tx.call(|c| c.users().create(user("bob"))).unwrap();
    tx.rollback().unwrap();
    assert_eq!(count(&h), 0);
    let tx = h.transaction();
    tx.begin().unwrap();
    tx.call(|c| c.users().create(user("cid"))).unwrap();
    tx.commit().unwrap();
    assert_eq!(count(&h), 1);
}

#[test]
fn a_store_write_from_the_transaction_thread_is_busy_not_a_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let h = handle();
    let view = h.scoped("acme").unwrap();
    let tx = h.transaction();
    tx.begin().unwrap();
    tx.call(|c| c.users().create(user("ann"))).unwrap();
    assert_eq!(busy(h.write(|c| c.users().create(user("bob")))), WRITING);
    assert_eq!(busy(view.write(|c| c.users().create(user("bob")))), WRITING);
    assert_eq!(busy(h.import_jsonl(dir.path().join("x.jsonl"))), WRITING);
    // Beginning another transaction in this thread would wait forever too.
    assert_eq!(busy(h.transaction().begin()), WRITING);
    // Reads go to the last commit.
    assert!(matches!(
        h.read(|c| c.users().get_by_username("ann", None)),
        Err(Error::NotFound { .. })
    ));
    tx.end(true).unwrap();
    h.write(|c| c.users().create(user("bob"))).unwrap();
    assert_eq!(count(&h), 2);
}

#[test]
fn another_thread_waits_for_the_open_transaction() {
    let h = handle();
    let tx = h.transaction();
    tx.begin().unwrap();
    tx.call(|c| c.users().create(user("first"))).unwrap();
    let (sent, received) = mpsc::channel();
    let other = h.clone();
    let waiter = std::thread::spawn(move || {
        let id = other
            .write(|c| c.users().create(user("second")))
            .map(|u| u.id);
        sent.send(id).unwrap();
    });
    assert!(
        received.recv_timeout(Duration::from_millis(100)).is_err(),
        "the write waits while the transaction is open"
    );
    tx.end(true).unwrap();
    assert_eq!(
        received
            .recv_timeout(Duration::from_secs(30))
            .unwrap()
            .unwrap(),
        2
    );
    waiter.join().unwrap();
}

#[test]
fn transactions_of_two_threads_take_turns() {
    let h = handle();
    let workers: Vec<_> = ["x", "y"]
        .into_iter()
        .map(|prefix| {
            let h = h.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let tx = h.transaction();
                    tx.begin().unwrap();
                    tx.call(|c| c.users().create(user(&format!("{prefix}{i}a"))))
                        .unwrap();
                    tx.call(|c| c.users().create(user(&format!("{prefix}{i}b"))))
                        .unwrap();
                    tx.end(true).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let changes = h.read(|c| c.changes(0, 1000)).unwrap();
    assert_eq!(changes.len(), 40);
    let names: Vec<String> = changes
        .iter()
        .map(|ch| h.read(|c| c.users().get(ch.id)).unwrap().username)
        .collect();
    for pair in names.chunks(2) {
        assert_eq!(pair[0].trim_end_matches('a'), pair[1].trim_end_matches('b'));
    }
}

#[test]
fn closing_the_store_while_a_transaction_is_open_rolls_it_back_at_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let h = StoreHandle::new(Store::open(&path, options()).unwrap());
    h.write(|c| c.users().create(user("kept"))).unwrap();
    let tx = h.transaction();
    tx.begin().unwrap();
    tx.call(|c| c.users().create(user("ann"))).unwrap();
    h.close();
    assert_eq!(
        closed(tx.call(|c| c.users().create(user("bob")))),
        STORE_CLOSED
    );
    assert!(
        matches!(Store::open(&path, options()), Err(Error::Locked)),
        "the open transaction keeps the file until it ends"
    );
    assert_eq!(
        closed(tx.end(true)),
        "the store was closed; the transaction was rolled back"
    );
    let again = Store::open(&path, options()).unwrap();
    assert_eq!(again.users().count(&Query::all()).unwrap(), 1);
    drop(again);
    // Ending with a rollback after the close is no error.
    let h = StoreHandle::new(Store::open(&path, options()).unwrap());
    let tx = h.transaction();
    tx.begin().unwrap();
    h.close();
    tx.end(false).unwrap();
}

#[test]
fn dropping_an_open_transaction_rolls_it_back_and_frees_the_thread() {
    let h = handle();
    let tx = h.transaction();
    tx.begin().unwrap();
    tx.call(|c| c.users().create(user("ann"))).unwrap();
    drop(tx);
    assert_eq!(count(&h), 0);
    h.write(|c| c.users().create(user("bob"))).unwrap();
    assert!(h.compact().is_ok());
}

#[test]
fn a_scoped_transaction_sees_the_views_tenant() {
    let h = handle();
    h.write(|c| c.users().create(tenant_user("other", "globex")))
        .unwrap();
    let acme = h.scoped("acme").unwrap();
    let tx = acme.transaction();
    assert_eq!(tx.tenant(), Some("acme"));
    tx.begin().unwrap();
    let ann = tx.call(|c| c.users().create(user("ann"))).unwrap();
    assert_eq!(ann.tenant.as_deref(), Some("acme"));
    assert!(matches!(
        tx.call(|c| c.users().get(1)),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(tx.call(|c| c.users().count(&Query::all())).unwrap(), 1);
    assert!(matches!(
        tx.call(|c| c.users().create(tenant_user("bob", "globex"))),
        Err(Error::Validation { .. })
    ));
    tx.end(true).unwrap();
    assert_eq!(count(&acme), 1);
    assert_eq!(h.transaction().tenant(), None);
}

#[test]
fn calls_convert_into_the_callers_error_type() {
    #[derive(Debug, PartialEq)]
    enum Mine {
        Core(String),
        Own,
    }
    impl From<Error> for Mine {
        fn from(e: Error) -> Self {
            Mine::Core(e.to_string())
        }
    }
    let h = handle();
    assert_eq!(h.read(|_| Err::<(), _>(Mine::Own)), Err(Mine::Own));
    let tx = h.transaction();
    assert_eq!(
        tx.call(|_| Ok::<(), Mine>(())),
        Err(Mine::Core(NOT_BEGUN.to_owned()))
    );
    h.close();
    assert_eq!(
        h.read(|_| Ok::<(), Mine>(())),
        Err(Mine::Core(STORE_CLOSED.to_owned()))
    );
}

#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<StoreHandle>();
    assert_send_sync::<rosterdb::TxHandle>();
    let _shared: Arc<rosterdb::TxHandle> = Arc::new(handle().transaction());
}
