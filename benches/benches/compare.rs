//! Every benchmark workload (docs/BENCHMARKS.md) on rosterdb and on SQLite, with criterion, on file
//! stores in a temporary directory (the `compare` binary gives the
//! interleaved side-by-side report; this gives criterion's statistics):
//!
//! ```sh
//! ROSTERDB_BENCH_SIZES=10000 cargo bench -p rosterdb-benches --bench compare
//! ```

// A benchmark fails by panicking: unwraps and arithmetic on small known
// values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rosterdb_benches::drive::{Fixture, Workload, run};
use rosterdb_benches::{RosterStore, SqliteStore, Workloads, user, users};

/// Users per bulk-import iteration (into a fresh store each time).
const IMPORT: u64 = 1_000;

fn sizes() -> Vec<u64> {
    std::env::var("ROSTERDB_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000])
}

fn populate<W: Workloads>(store: &W, n: u64) {
    let mut from = 0;
    while from < n {
        let to = (from + 50_000).min(n);
        store.import((from..to).map(user).collect()).unwrap();
        from = to;
    }
}

fn workloads<W: Workloads>(c: &mut Criterion, store: &W, n: u64) {
    let fx = Fixture::new(store, n).unwrap();
    let mut group = c.benchmark_group(format!("compare/{}", store.name()));
    group.sample_size(10);
    for w in Workload::ALL {
        if w == Workload::CursorDeep && fx.depth() == 0 {
            continue;
        }
        let ops = w.ops_per_iteration() as u32;
        group.bench_with_input(BenchmarkId::new(w.id(), n), &n, |b, _| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                run(store, &fx, w, iters).unwrap();
                start.elapsed() / ops
            });
        });
    }
    group.finish();
}

fn import<W: Workloads>(c: &mut Criterion, name: &str, open: impl Fn(&Path) -> W) {
    let dir = tempfile::tempdir().unwrap();
    let mut k = 0_u64;
    c.bench_function(&format!("compare/{name}/bulk_import_{IMPORT}"), |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                k += 1;
                let store = open(&dir.path().join(format!("import-{k}")));
                let batch = users(IMPORT);
                let start = Instant::now();
                store.import(batch).unwrap();
                spent += start.elapsed();
            }
            spent
        });
    });
}

fn compare(c: &mut Criterion) {
    import(c, "rosterdb", |p| RosterStore::open(p).unwrap());
    import(c, "SQLite", |p| SqliteStore::open(p).unwrap());
    for n in sizes() {
        let dir = tempfile::tempdir().unwrap();
        let r = RosterStore::open(&dir.path().join("users.rdb")).unwrap();
        let s = SqliteStore::open(&dir.path().join("users.sqlite")).unwrap();
        populate(&r, n);
        populate(&s, n);
        workloads(c, &r, n);
        workloads(c, &s, n);
    }
}

criterion_group!(benches, compare);
criterion_main!(benches);
