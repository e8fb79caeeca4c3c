//! How long the benchmark's pages take on an existing store file, e.g. one
//! built by `compare --build rosterdb FILE 1000000`: the first unsorted
//! page (100 users, id order) of posting-set queries (`co`, `search`), the
//! filtered page sorted by lastName, page 100 via offset sorted by
//! lastName, and a deep descending offset page.
//!
//! `cargo run --release -p rosterdb --example page_timing FILE [ROUNDS] [ONLY] [explain]`
//! (default 301 rounds; with ONLY, just the queries whose name holds it,
//! e.g. `search` for a profile of one, `-` for all; with `explain`, each
//! query's plan is printed first). Each round runs every query once; the
//! program prints each query's median, 10th and 90th percentile in
//! microseconds. A measurement for the performance notes, not a test.

use std::time::Instant;

use rosterdb::{Options, Query, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: page_timing FILE [ROUNDS] [ONLY] [explain]")?;
    let rounds: usize = match args.next() {
        Some(n) => n.parse()?,
        None => 301,
    };
    let only = args.next().filter(|o| o != "-");
    let explain = args.next().as_deref() == Some("explain");
    let store = Store::open(&path, Options::default())?;
    let mut cases: Vec<(&str, Query)> = vec![
        (
            "email co '42', first page",
            Query::parse("email co '42'")?.page(1, 100),
        ),
        (
            "email co 'ller', first page",
            Query::parse("email co 'ller'")?.page(1, 100),
        ),
        (
            "search 'ller', first page",
            Query::all().search("ller").page(1, 100),
        ),
        (
            "filtered sorted page",
            Query::parse("enabled = true and roles eq 3 and lastName like '%er%'")?
                .sort("lastName")
                .page(1, 100),
        ),
        (
            "page 100 via offset, sorted by lastName",
            Query::all().sort("lastName").offset(9_900, 100),
        ),
        (
            "offset 250,000 sorted by lastName desc",
            Query::all().sort("lastName:desc").offset(250_000, 100),
        ),
    ];
    if let Some(only) = &only {
        cases.retain(|(name, _)| name.contains(only.as_str()));
    }
    if explain {
        for (name, query) in &cases {
            println!("{name}:\n{}\n", store.users().explain(query)?);
        }
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); cases.len()];
    for _ in 0..rounds {
        for (case, (_, query)) in times.iter_mut().zip(&cases) {
            let start = Instant::now();
            let page = store.users().list(query)?;
            std::hint::black_box(page);
            case.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    for (mut case, (name, _)) in times.into_iter().zip(&cases) {
        case.sort_by(f64::total_cmp);
        let at = |q: usize| {
            case.get(case.len().saturating_mul(q) / 100)
                .copied()
                .unwrap_or_default()
        };
        println!(
            "{name}: median {:.0} µs (p10 {:.0}, p90 {:.0})",
            at(50),
            at(10),
            at(90)
        );
    }
    Ok(())
}
