//! The workspace's mimalloc (the allocator of the Python extension, the
//! CLI and `compare`) is built with its `no_thp` feature (decision 0030):
//! it never advises the kernel to back its memory with transparent huge
//! pages (`madvise(MADV_HUGEPAGE)`, which Linux shows as the `hg` flag of
//! a mapping in `/proc/self/smaps`), so a process keeps the system's policy.
//! Without the feature, mimalloc advises its first arena (1 GiB) as it
//! reserves it, and this test fails.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use rosterdb_benches::{RosterStore, Workloads, users};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The start of each mapping whose `VmFlags` include `hg`.
fn advised_huge() -> Vec<String> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut advised = Vec::new();
    let mut mapping = "";
    for line in smaps.lines() {
        if let Some(flags) = line.strip_prefix("VmFlags:") {
            if flags.split_whitespace().any(|f| f == "hg") {
                advised.push(mapping.to_owned());
            }
        } else if line
            .split_whitespace()
            .next()
            .is_some_and(|range| range.contains('-') && !range.ends_with(':'))
        {
            mapping = line;
        }
    }
    advised
}

#[test]
fn the_allocator_leaves_huge_pages_to_the_system() {
    // A store and an import, so the allocator has reserved its arenas.
    let dir = tempfile::tempdir().unwrap();
    let store = RosterStore::open(&dir.path().join("r.rdb")).unwrap();
    store.import(users(1_000)).unwrap();
    // And one allocation too large for mimalloc's small pages, which it
    // places in an arena span of its own.
    let big = vec![1u8; 64 << 20];
    assert_eq!(big.iter().map(|&b| usize::from(b)).sum::<usize>(), 64 << 20);
    let advised = advised_huge();
    assert!(
        advised.is_empty(),
        "mappings advised MADV_HUGEPAGE: {advised:?}"
    );
}
