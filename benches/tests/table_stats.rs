//! `table_sizes` (what `compare --table-stats` prints) reads a closed
//! store's file: every table, with its entries and pages, the most pages
//! first.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use rosterdb_benches::table_stats::table_sizes;
use rosterdb_benches::{RosterStore, Workloads, users};

#[test]
fn a_closed_stores_tables_are_listed_with_their_entries_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.rdb");
    {
        let store = RosterStore::open(&path).unwrap();
        store.import(users(2_000)).unwrap();
    }
    let sizes = table_sizes(&path).unwrap();
    let entries = |name: &str| {
        sizes
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no table {name} in {sizes:?}"))
            .entries
    };
    assert_eq!(entries("users"), 2_000);
    assert_eq!(entries("idx.user.email.hash"), 2_000);
    // The ten roles the harness creates.
    assert_eq!(entries("roles"), 10);
    let users_table = sizes.iter().find(|t| t.name == "users").unwrap();
    assert!(users_table.pages > 1 && users_table.stored_bytes > 2_000 * 50);
    // The records take the most pages; the list is sorted by pages.
    assert_eq!(sizes[0].name, "users");
    assert!(sizes.windows(2).all(|w| w[0].pages >= w[1].pages));
    // Not a redb file: an error naming it.
    let junk = dir.path().join("junk.rdb");
    std::fs::write(&junk, b"not a database").unwrap();
    let err = table_sizes(&junk).unwrap_err().to_string();
    assert!(err.contains("junk.rdb"), "{err}");
}
