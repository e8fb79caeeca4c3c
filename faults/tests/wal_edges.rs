//! The write-ahead log's header rewritten at a checkpoint (decision 0018)
//! under a power loss that tears that write: the checkpoint's durable
//! commit already holds everything, so the store must open again with
//! every acknowledged write, whatever part of the new header landed.

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

use rosterdb::{NewUser, Query};
use rosterdb_faults::{Fault, FaultyDisk, Survivors};

use rosterdb_faults::open_with_log as open;

#[test]
fn a_torn_header_rewrite_at_the_close_checkpoint_keeps_the_store_openable() {
    let mut failures = Vec::new();
    for keep in [0_usize, 8, 12, 20, 28, 36, 39] {
        let disk = FaultyDisk::new();
        let log = FaultyDisk::new();
        let store = open(&disk, &log).unwrap();
        store
            .users()
            .create(NewUser::new("ann", "ann@example.com", "A", "N"))
            .unwrap();
        // The close checkpoints: a durable commit of the store, then the
        // log's new header written in place (the log's next write).
        log.arm(Fault::Tear { nth: 0, keep });
        drop(store);
        assert!(log.fired() > 0, "keep {keep}: the header write was torn");
        for survivors in [Survivors::None, Survivors::All] {
            let d = disk.crash(&Survivors::None);
            let l = log.crash(&survivors);
            match open(&d, &l) {
                Ok(s) => {
                    let n = s.users().count(&Query::default()).unwrap();
                    if n != 1 {
                        failures.push(format!("keep {keep}, {survivors:?}: {n} users"));
                    }
                }
                Err(e) => failures.push(format!("keep {keep}, {survivors:?}: {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
