//! The substring benchmark workloads (docs/BENCHMARKS.md: `search` and `email co`, first
//! page of 100) side by side on existing store files, as `compare` runs
//! them: after the workloads that come before them in `compare` (gets and
//! the filtered page, one batch each), batches of about 100 ms per
//! repetition, rosterdb and SQLite interleaved; prints each one's median
//! time per operation and the ratio. A measurement for the performance
//! notes (profiling one change against another on one store), not a test.
//!
//! ```sh
//! target/release/compare --build rosterdb /tmp/r.rdb 1000000
//! target/release/compare --build sqlite /tmp/s.sqlite 1000000
//! cargo run --release -p rosterdb-benches --example substring_compare -- \
//!     /tmp/r.rdb /tmp/s.sqlite 1000000 [REPS]
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rosterdb_benches::drive::{Fixture, Workload, run};
use rosterdb_benches::measure::{Stats, batch_size, per_op};
use rosterdb_benches::{BenchError, BenchResult, RosterStore, SqliteStore, Workloads};

/// Wall time one repetition's batch aims at (as `compare`).
const BATCH_TARGET: Duration = Duration::from_millis(100);

/// How many runs of `w` take about [`BATCH_TARGET`].
fn calibrate<W: Workloads>(store: &W, fx: &Fixture<W::Cursor>, w: Workload) -> BenchResult<u64> {
    run(store, fx, w, 1)?;
    let start = Instant::now();
    run(store, fx, w, 20)?;
    let each = start.elapsed().checked_div(20).unwrap_or_default();
    Ok(batch_size(each, BATCH_TARGET, 1_000_000))
}

/// The time per run (ns) of a batch of `n` runs of `w`.
fn batch<W: Workloads>(
    store: &W,
    fx: &Fixture<W::Cursor>,
    w: Workload,
    n: u64,
) -> BenchResult<f64> {
    let start = Instant::now();
    run(store, fx, w, n)?;
    Ok(per_op(
        start.elapsed(),
        n.saturating_mul(w.ops_per_iteration()),
    ))
}

fn main() -> BenchResult<()> {
    let mut args = std::env::args().skip(1);
    let missing = |what: &str| BenchError::Missing(format!("argument {what}"));
    let rpath = PathBuf::from(args.next().ok_or_else(|| missing("ROSTERDB_FILE"))?);
    let spath = PathBuf::from(args.next().ok_or_else(|| missing("SQLITE_FILE"))?);
    let users: u64 = args
        .next()
        .ok_or_else(|| missing("USERS"))?
        .parse()
        .map_err(|_| missing("USERS (a number)"))?;
    let reps: usize = match args.next() {
        Some(n) => n.parse().map_err(|_| missing("REPS (a number)"))?,
        None => 7,
    };
    let r = RosterStore::open(&rpath)?;
    let s = SqliteStore::open(&spath)?;
    let fr = Fixture::new(&r, users)?;
    let fs = Fixture::new(&s, users)?;
    for w in [
        Workload::GetById,
        Workload::GetByEmail,
        Workload::FilteredPage,
    ] {
        let n = calibrate(&r, &fr, w)?;
        batch(&r, &fr, w, n)?;
        let n = calibrate(&s, &fs, w)?;
        batch(&s, &fs, w, n)?;
    }
    for w in [Workload::Search, Workload::EmailContains] {
        let (rn, sn) = (calibrate(&r, &fr, w)?, calibrate(&s, &fs, w)?);
        let (mut rt, mut st) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            rt.push(batch(&r, &fr, w, rn)?);
            st.push(batch(&s, &fs, w, sn)?);
        }
        let (rs, ss) = (Stats::of(&rt), Stats::of(&st));
        println!(
            "{:<10} rosterdb {:>8.1} µs  SQLite {:>8.1} µs  ratio {:.2}",
            w.id(),
            rs.median / 1e3,
            ss.median / 1e3,
            ss.median / rs.median
        );
    }
    Ok(())
}
