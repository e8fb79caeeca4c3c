//! The write-ahead log (decision 0018) under faults of the store disk:
//! with a log, the store disk is synced only at checkpoints (on open,
//! when a transaction is too large to log, and on close); the syncs redb
//! asks for after growing the file wait for the next checkpoint's header
//! write (decision 0023). A power loss or
//! a failed sync at each of those keeps every acknowledged write and
//! applies no write by halves; a failed checkpoint at close loses nothing
//! (the log still holds the commits).
//!
//! `cargo test -p rosterdb-faults --test wal -- --nocapture` prints the
//! cases run.

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

use rosterdb::{NewUser, Query, Store};
use rosterdb_faults::{Call, Fault, FaultyDisk, Survivors};
use serde_json::json;

use rosterdb_faults::open_with_log as open;

/// Users created by the large write number `i`: enough bytes that the
/// transaction is not logged but committed as a checkpoint.
const BIG: usize = 300;

/// Write `i` of the run: sets attribute `n` = `i` on user 1; write 3 also
/// creates [`BIG`] users with a 4 KB attribute each, in the same
/// transaction.
fn write(store: &Store, i: u64) -> rosterdb::Result<()> {
    let blob = "x".repeat(4000);
    store.write(|tx| {
        tx.users()
            .merge(1, &json!({"attributes": {"n": i}}), None)?;
        if i == 3 {
            for k in 0..BIG {
                let mut new =
                    NewUser::new(format!("big{k}"), format!("big{k}@example.com"), "B", "G");
                new.attributes.insert("blob".into(), json!(blob));
                tx.users().create(new)?;
            }
        }
        Ok(())
    })
}

const WRITES: u64 = 6;

/// Checks a store reopened after a crash: `n` between the last write
/// acknowledged and the last attempted, the large write there whole or
/// not at all, clean indexes.
fn check(store: &Store, acknowledged: u64, attempted: u64, what: &str) {
    let report = store.check().unwrap();
    assert!(report.ok, "{what}: {:?}", report.problems);
    let n = store.users().get(1).unwrap().attributes["n"]
        .as_u64()
        .unwrap();
    assert!(
        n >= acknowledged,
        "{what}: acknowledged write {acknowledged} lost (n = {n})"
    );
    assert!(n <= attempted, "{what}: n = {n} past write {attempted}");
    let users = store.users().count(&Query::default()).unwrap();
    let want = if n >= 3 { 1 + BIG as u64 } else { 1 };
    assert_eq!(users, want, "{what}: the large write by halves (n = {n})");
}

/// The store and log images of a store holding user 1 (`n` = 0), closed.
fn base() -> (Vec<u8>, Vec<u8>) {
    let (store, log) = (FaultyDisk::new(), FaultyDisk::new());
    let s = open(&store, &log).unwrap();
    s.users()
        .create(NewUser {
            attributes: json!({"n": 0}).as_object().cloned().unwrap(),
            ..NewUser::new("one", "one@example.com", "O", "N")
        })
        .unwrap();
    drop(s);
    (store.image(), log.image())
}

/// Runs the writes from `images` with `fault` armed on the store disk (on
/// open's checkpoint too), then crashes both disks keeping none or all of
/// their unsynced writes and checks each reopened store. Returns whether
/// the fault fired.
fn run_with_store_fault(images: &(Vec<u8>, Vec<u8>), fault: Fault) -> bool {
    let store_disk = FaultyDisk::from_image(images.0.clone());
    let log_disk = FaultyDisk::from_image(images.1.clone());
    store_disk.arm(fault);
    let (mut acknowledged, mut attempted) = (0, 0);
    if let Ok(store) = open(&store_disk, &log_disk) {
        for i in 1..=WRITES {
            attempted = i;
            match write(&store, i) {
                Ok(()) => acknowledged = i,
                Err(e) => {
                    assert!(matches!(e, rosterdb::Error::Storage { .. }), "{e:?}");
                    break;
                }
            }
        }
        // Dropped: the close's checkpoint (which may be the faulted sync).
    }
    if store_disk.fired() == 0 {
        return false;
    }
    for survivors in [Survivors::None, Survivors::All] {
        let what = format!("{fault:?}, crash keeping {survivors:?}");
        let reopened = open(&store_disk.crash(&survivors), &log_disk.crash(&survivors))
            .unwrap_or_else(|e| panic!("{what}: reopen failed: {e:?}"));
        check(&reopened, acknowledged, attempted, &what);
        write(&reopened, WRITES + 1).unwrap_or_else(|e| panic!("{what}: {e:?}"));
    }
    true
}

#[test]
fn a_fault_at_any_store_sync_of_a_logged_run_keeps_every_acknowledged_write() {
    let images = base();
    for fault in [
        |nth| Fault::PowerLoss {
            call: Call::SyncData,
            nth,
        },
        |nth| Fault::Fail {
            call: Call::SyncData,
            nth,
        },
    ] as [fn(u64) -> Fault; 2]
    {
        let mut nth = 0;
        while run_with_store_fault(&images, fault(nth)) {
            nth += 1;
        }
        eprintln!("{:?}: {nth} store syncs faulted", fault(0));
        // Open, the large write and the close each sync the store disk.
        assert!(nth >= 3, "{nth}");
    }
}

#[test]
fn without_a_fault_the_run_syncs_the_store_disk_only_at_checkpoints_and_growth() {
    let images = base();
    let store_disk = FaultyDisk::from_image(images.0.clone());
    let log_disk = FaultyDisk::from_image(images.1.clone());
    let store = open(&store_disk, &log_disk).unwrap();
    let (s0, l0) = (store_disk.counts(), log_disk.counts());
    for i in [1, 2, 4, 5] {
        write(&store, i).unwrap();
    }
    let (s1, l1) = (store_disk.counts().since(&s0), log_disk.counts().since(&l0));
    // Only growth could sync the store disk (decision 0023 defers even
    // that to the next checkpoint).
    assert!(
        s1.syncs <= s1.set_lens,
        "small writes synced the store disk: {s1:?}"
    );
    assert_eq!(l1.syncs, 4, "one log sync per lone write");
    write(&store, 3).unwrap();
    assert!(
        store_disk.counts().since(&s0).syncs >= 1,
        "the large write is a checkpoint"
    );
    drop(store);
    let reopened = open(
        &store_disk.crash(&Survivors::None),
        &log_disk.crash(&Survivors::None),
    )
    .unwrap();
    check(&reopened, 3, 3, "after a clean close");
}
