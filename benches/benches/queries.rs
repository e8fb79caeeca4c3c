//! Query latency at growing store sizes: a filtered, sorted page should cost
//! about the same at 10k and 100k users (it reads an index, not the store).

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

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rosterdb::Query;
use rosterdb_benches::populated;

fn sizes() -> Vec<u64> {
    std::env::var("ROSTERDB_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000])
}

fn queries(c: &mut Criterion) {
    let mut group = c.benchmark_group("users");
    group.sample_size(30);
    for n in sizes() {
        let store = populated(n);
        let cases: Vec<(&str, Query)> = vec![
            ("get_by_id", Query::all()),
            (
                "filtered_sorted_page",
                Query::parse("enabled = true and roles eq 3 and lastName like 'ho%'")
                    .expect("query")
                    .sort("lastName")
                    .page(1, 100),
            ),
            (
                "enabled_sorted_by_last_name",
                Query::parse("enabled = true")
                    .expect("query")
                    .sort("lastName")
                    .page(1, 100),
            ),
            ("search", Query::all().search("hopper").page(1, 100)),
            (
                "contains",
                Query::parse("email co 'er12'").expect("query").page(1, 100),
            ),
        ];
        for (name, query) in &cases {
            if *name == "get_by_id" {
                group.bench_with_input(BenchmarkId::new(*name, n), &n, |b, &n| {
                    b.iter(|| store.users().get(n / 2).expect("get"));
                });
                continue;
            }
            group.bench_with_input(BenchmarkId::new(*name, n), &n, |b, _| {
                b.iter(|| store.users().list(query).expect("list"));
            });
        }
        let count = Query::parse("roles eq 3").expect("query");
        group.bench_with_input(BenchmarkId::new("count_indexed", n), &n, |b, _| {
            b.iter(|| store.users().count(&count).expect("count"));
        });
        // Page 1,000 of a cursor walk costs what page 1 costs: time the step
        // from a cursor taken deep into the walk.
        let q = Query::all().sort("lastName").page(1, 50);
        let mut page = store.users().list(&q).expect("list");
        for _ in 0..(n / 50 / 2).min(1000) {
            let Some(c) = page.next_cursor.clone() else {
                break;
            };
            page = store.users().list(&Query::all().cursor(&c)).expect("walk");
        }
        let deep = page.next_cursor.clone().expect("deep cursor");
        group.bench_with_input(BenchmarkId::new("deep_cursor_page", n), &n, |b, _| {
            b.iter(|| {
                store
                    .users()
                    .list(&Query::all().cursor(&deep))
                    .expect("page")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, queries);
criterion_main!(benches);
