//! The smallest page cache (`Options::cache_bytes`, 1 MiB) under writes
//! larger than it: a write that spills pages and then fails, and a run of
//! 8 grouped writers (decision 0016) whose groups roll back on refused
//! operations, leave a file that reopens with exactly the committed
//! records, a gap-free change log, and consistent indexes.

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

use std::sync::{Arc, Barrier};
use std::thread;

use common::options;
use rosterdb::{Error, MIN_CACHE_BYTES, NewUser, Query, Store};
use serde_json::json;

fn padded(name: &str, k: usize) -> NewUser {
    let mut u = NewUser::new(name, format!("{name}@example.com"), "First", "Last");
    u.attributes = json!({"pad": "p".repeat(2000 + k % 7), "k": k})
        .as_object()
        .cloned()
        .unwrap();
    u
}

#[test]
fn spilled_writes_that_fail_leave_nothing_and_groups_commit_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.redb");
    let small = options().with_cache_bytes(MIN_CACHE_BYTES);
    let s = Arc::new(Store::open(&path, small.clone()).unwrap());
    // About 3 MB written, then refused: none of it stays.
    let failed: rosterdb::Result<()> = s.write(|tx| {
        for k in 0..1500 {
            tx.users().create(padded(&format!("gone{k}"), k))?;
        }
        Err(Error::AuthenticationFailed)
    });
    assert!(failed.is_err());
    assert_eq!(s.users().count(&Query::all()).unwrap(), 0);
    assert!(s.changes(0, 10).unwrap().is_empty());

    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (s, start) = (Arc::clone(&s), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                let mut made = 0_u64;
                for i in 0..60 {
                    s.users().create(padded(&format!("t{t}x{i}"), i)).unwrap();
                    made += 1;
                    match s.users().create(padded(&format!("both{i}"), i)) {
                        Ok(_) => made += 1,
                        Err(Error::Conflict { .. }) => {}
                        Err(e) => panic!("{e:?}"),
                    }
                }
                made
            })
        })
        .collect();
    let made: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(made, 8 * 60 + 60);
    drop(s);

    let s = Store::open(&path, small).unwrap();
    assert_eq!(s.users().count(&Query::all()).unwrap(), made);
    let mut seqs = Vec::new();
    loop {
        let batch = s.changes(seqs.last().copied().unwrap_or(0), 1000).unwrap();
        if batch.is_empty() {
            break;
        }
        seqs.extend(batch.iter().map(|c| c.seq));
    }
    assert_eq!(seqs, (1..=made).collect::<Vec<_>>());
    let next = s.users().create(padded("after", 0)).unwrap();
    assert_eq!(next.id, made + 1, "ids of the failed write are not kept");
    let report = s.check().unwrap();
    assert!(report.ok, "{:?}", report.problems);
}

/// A cache larger than memory is a bound, not an allocation: a store opens
/// with the largest `cache_bytes` and works.
#[test]
fn the_largest_cache_is_a_bound_not_an_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.redb");
    let s = Store::open(&path, options().with_cache_bytes(u64::MAX)).unwrap();
    let u = s.users().create(padded("one", 1)).unwrap();
    assert_eq!(s.users().get(u.id).unwrap(), u);
    let m = Store::memory_with(options().with_cache_bytes(u64::MAX)).unwrap();
    m.users().create(padded("one", 1)).unwrap();
}
