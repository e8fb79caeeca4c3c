//! The page cache option (`Options::cache_bytes`): its checks, and reads
//! that evict and reread pages giving what was written.

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

use common::options;
use rosterdb::{DEFAULT_CACHE_BYTES, Error, MIN_CACHE_BYTES, NewUser, Query, Store, User};
use serde_json::json;

fn refused_on_cache_bytes(result: rosterdb::Result<Store>) {
    match result {
        Err(Error::InvalidArgument { argument, message }) => {
            assert_eq!(argument, "cache_bytes");
            assert!(message.contains("1 MiB"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_default_cache_is_the_documented_one() {
    assert_eq!(options().cache_bytes, DEFAULT_CACHE_BYTES);
    assert_eq!(DEFAULT_CACHE_BYTES, 256 << 20);
    assert_eq!(MIN_CACHE_BYTES, 1 << 20);
}

#[test]
fn a_cache_below_one_mib_is_refused_before_any_file_is_made() {
    let dir = tempfile::tempdir().unwrap();
    for bytes in [0, 1, MIN_CACHE_BYTES - 1] {
        let small = options().with_cache_bytes(bytes);
        assert!(matches!(
            small.validate(),
            Err(Error::InvalidArgument { ref argument, .. }) if argument == "cache_bytes"
        ));
        let path = dir.path().join("never.redb");
        refused_on_cache_bytes(Store::open(&path, small.clone()));
        assert!(!path.exists());
        refused_on_cache_bytes(Store::memory_with(small.clone()));
        let backend = redb::backends::InMemoryBackend::new();
        refused_on_cache_bytes(Store::open_with_backend(backend, small));
    }
    for bytes in [MIN_CACHE_BYTES, u64::MAX / 2] {
        Store::memory_with(options().with_cache_bytes(bytes)).unwrap();
    }
}

fn padded(k: usize) -> NewUser {
    let mut u = NewUser::new(
        format!("user{k}"),
        format!("user{k}@example.com"),
        "First",
        "Last",
    );
    let pad = char::from(b'a' + u8::try_from(k % 26).unwrap()).to_string();
    u.attributes = json!({"pad": pad.repeat(2000), "k": k})
        .as_object()
        .cloned()
        .unwrap();
    u
}

/// 600 users of about 2 KB each: more than the smallest cache holds.
fn fill(s: &Store) -> Vec<User> {
    s.write(|tx| (0..600).map(|k| tx.users().create(padded(k))).collect())
        .unwrap()
}

#[test]
fn the_smallest_cache_evicts_and_rereads_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.redb");
    let small = options().with_cache_bytes(MIN_CACHE_BYTES);
    let made = {
        let s = Store::open(&path, small.clone()).unwrap();
        let made = fill(&s);
        for u in made.iter().rev() {
            assert_eq!(&s.users().get(u.id).unwrap(), u);
        }
        made
    };
    // Reopened, every page is read from the file through the small cache.
    let s = Store::open(&path, small).unwrap();
    for round in 0..2 {
        for u in &made {
            assert_eq!(&s.users().get(u.id).unwrap(), u, "round {round}");
            assert_eq!(&s.users().get_by_email(&u.email, None).unwrap(), u);
        }
    }
    let page = s.users().list(&Query::all().sort("username")).unwrap();
    assert_eq!(page.items.len(), 100);
    assert!(s.check().unwrap().ok);

    let memory = Store::memory_with(options().with_cache_bytes(MIN_CACHE_BYTES)).unwrap();
    for u in &fill(&memory) {
        assert_eq!(&memory.users().get(u.id).unwrap(), u);
    }
}
