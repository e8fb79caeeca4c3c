//! Growth of the store file (`core/src/storage/backend.rs`): redb syncs the
//! file after each growth so that no header naming the larger layout can
//! outlive a crash that lost the larger length. rosterdb puts those syncs
//! off until the header's next write, which first makes the length
//! durable. A bulk import into a new store therefore syncs the store disk
//! a few times, not once per growth, and a crash at any of its syncs,
//! keeping the header and the rewritten pages but neither the growth nor
//! anything written past the durable length, still finds the store as it
//! was before the import or after it.
//!
//! `cargo test -p rosterdb-faults --test growth -- --nocapture` prints the
//! counts and cases.

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
use rosterdb_faults::{Call, Fault, FaultyDisk, Survivors, Unsynced};
use serde_json::json;

use rosterdb_faults::open_with_log as open;

/// Users of the import: enough that the file grows several times.
const USERS: usize = 1500;

fn import(store: &Store) -> rosterdb::Result<Vec<u64>> {
    let users = (0..USERS)
        .map(|i| {
            let mut new = NewUser::new(
                format!("user{i}"),
                format!("user{i}@example.com"),
                "Ada",
                format!("Lovelace{i}"),
            );
            new.attributes
                .insert("note".into(), json!(format!("{i:0>200}")));
            new
        })
        .collect();
    store.users().create_many(users)
}

/// The images of a new, empty store and its log, closed.
fn empty() -> (Vec<u8>, Vec<u8>) {
    let (store, log) = (FaultyDisk::new(), FaultyDisk::new());
    drop(open(&store, &log).unwrap());
    (store.image(), log.image())
}

#[test]
fn a_bulk_import_into_a_new_store_syncs_the_store_disk_a_few_times_not_once_per_growth() {
    let images = empty();
    let disk = FaultyDisk::from_image(images.0);
    let log = FaultyDisk::from_image(images.1);
    let store = open(&disk, &log).unwrap();
    let before = disk.durable_image().len();
    let counts = disk.counts();
    import(&store).unwrap();
    let spent = disk.counts().since(&counts);
    let after = disk.image().len();
    eprintln!("file {before} -> {after} bytes; store disk calls {spent:?}");
    assert!(
        after >= 16 * before,
        "the import grew the file {before} -> {after}"
    );
    // redb doubles the file until its first region is full: 16× is four
    // growths at least, and without the deferral each was a sync.
    assert!(spent.set_lens >= 4, "{spent:?}");
    assert!(
        spent.syncs <= 2,
        "the import's commit syncs the store disk before and after the header, nothing more: {spent:?}"
    );
    drop(store);
    let reopened = open(&disk.crash(&Survivors::None), &log.crash(&Survivors::None)).unwrap();
    assert!(reopened.check().unwrap().ok);
    assert_eq!(
        reopened.users().count(&Query::default()).unwrap(),
        USERS as u64
    );
}

/// The positions of the unsynced writes that land inside the durable
/// image: the header and pages the import rewrote, never the growth nor
/// what lies past the durable length.
fn writes_inside(disk: &FaultyDisk) -> Vec<usize> {
    let durable = disk.durable_image().len() as u64;
    disk.unsynced()
        .iter()
        .enumerate()
        .filter_map(|(i, change)| match change {
            Unsynced::Write { offset, data } if offset + data.len() as u64 <= durable => Some(i),
            _ => None,
        })
        .collect()
}

#[test]
fn a_crash_at_any_store_sync_of_an_import_that_keeps_the_header_but_not_the_growth_finds_the_store()
{
    let images = empty();
    let mut nth = 0;
    loop {
        let disk = FaultyDisk::from_image(images.0.clone());
        let log = FaultyDisk::from_image(images.1.clone());
        let store = open(&disk, &log).unwrap();
        disk.arm(Fault::PowerLoss {
            call: Call::SyncData,
            nth,
        });
        let imported = import(&store).is_ok();
        drop(store);
        if disk.fired() == 0 {
            break;
        }
        let inside = writes_inside(&disk);
        let kept_header = inside.iter().any(
            |&i| matches!(&disk.unsynced()[i], Unsynced::Write { offset, .. } if *offset < 4096),
        );
        eprintln!(
            "power loss at store sync {nth}: import acknowledged {imported}, {} unsynced changes, {} inside the durable length, header among them {kept_header}",
            disk.unsynced().len(),
            inside.len()
        );
        for survivors in [Survivors::None, Survivors::All, Survivors::Only(inside)] {
            let what = format!("power loss at store sync {nth}, keeping {survivors:?}");
            let reopened = open(&disk.crash(&survivors), &log.crash(&survivors))
                .unwrap_or_else(|e| panic!("{what}: reopen failed: {e:?}"));
            let report = reopened.check().unwrap();
            assert!(report.ok, "{what}: {:?}", report.problems);
            let users = reopened.users().count(&Query::default()).unwrap();
            assert!(
                users == 0 || users == USERS as u64,
                "{what}: {users} users, the import by halves"
            );
            assert!(
                !imported || users == USERS as u64,
                "{what}: the acknowledged import lost"
            );
        }
        nth += 1;
    }
    assert!(nth >= 2, "the import's commit syncs the store disk: {nth}");
}
