//! The bulk-import benchmark workload (docs/BENCHMARKS.md; users in one transaction into a
//! fresh store, pre-hashed passwords) repeated, for profiling the import
//! alone: the users are made once, outside the timing, and each
//! repetition imports a copy of them into a new store file; prints each
//! repetition's wall and CPU time per user and their medians. A measurement for the
//! performance notes, not a test.
//!
//! ```sh
//! cargo build --release -p rosterdb-benches --example import_repeat
//! perf record -g target/release/examples/import_repeat DIR 10000 20
//! ```

use std::path::PathBuf;
use std::time::Instant;

use rosterdb_benches::measure::Stats;
use rosterdb_benches::{BenchError, BenchResult, RosterStore, Workloads, users};

fn main() -> BenchResult<()> {
    let mut args = std::env::args().skip(1);
    let dir: PathBuf = args
        .next()
        .map(PathBuf::from)
        .ok_or_else(|| BenchError::Missing("DIR, a directory for the store files".into()))?;
    let count: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let reps: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let population = users(count);
    let mut times = Vec::with_capacity(reps);
    let mut cpu_times = Vec::with_capacity(reps);
    for rep in 0..reps {
        let path = dir.join(format!("import-repeat-{rep}.rdb"));
        let _ = std::fs::remove_file(&path);
        let store = RosterStore::open(&path)?;
        let batch = population.clone();
        let cpu_before = thread_cpu()?;
        let start = Instant::now();
        store.import(batch)?;
        let per_user = start.elapsed().as_secs_f64() * 1e9 / count.max(1) as f64;
        let cpu = (thread_cpu()?.saturating_sub(cpu_before)) as f64 / count.max(1) as f64;
        eprintln!("{rep}: {per_user:.0} ns/user, {cpu:.0} ns/user on the CPU");
        times.push(per_user);
        cpu_times.push(cpu);
        drop(store);
        std::fs::remove_file(&path)?;
    }
    println!(
        "{count} users: median {:.0} ns/user, {:.0} ns/user on the CPU",
        Stats::of(&times).median,
        Stats::of(&cpu_times).median
    );
    Ok(())
}

/// The CPU time the calling thread has used, in ns (Linux: the first
/// field of `/proc/thread-self/schedstat`).
fn thread_cpu() -> BenchResult<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    stat.split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .ok_or_else(|| BenchError::Missing("a CPU time in /proc/thread-self/schedstat".into()))
}
