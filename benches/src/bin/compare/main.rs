//! `compare`: rosterdb and SQLite side by side on the benchmark workloads (docs/BENCHMARKS.md),
//! written to `docs/BENCHMARKS.md` with an SVG chart of the ratios.
//!
//! ```sh
//! cargo run --release -p rosterdb-benches --bin compare -- \
//!     --sizes 10000,100000,1000000 --out docs/BENCHMARKS.md [--reps 5]
//! ```
//!
//! Per size, in a temporary directory on the disk, it times the builds of
//! both stores in child processes of their own (`--build`; three pairs,
//! SQLite's first in each), builds the stores the workloads run on again in
//! this process (untimed), then runs every
//! workload interleaved (rosterdb, SQLite, rosterdb, …), each repetition a batch sized for about 100 ms, and keeps the median and
//! range of the time per operation. It measures the disk's raw 4 KiB
//! write+fdatasync latency in the same directory, and the resident memory
//! while querying each store in a child process of its own
//! (`compare --probe-memory rosterdb|sqlite FILE USERS`).
//!
//! For `benches/python/compare.py` it also writes the population as JSON
//! Lines (`--export-population USERS FILE`) and times the Rust `get` on a
//! store file (`--time-get FILE USERS [REPS] [WORKLOAD]`, any read
//! workload by its short id). For profiling (`strace -c -f`,
//! `perf`), `--build rosterdb|sqlite FILE USERS` makes a store and
//! `--patches rosterdb|sqlite FILE COUNT [STRIDE USERS]` runs COUNT
//! durable patches on it (ids 1, 2, …, or spread by STRIDE over USERS);
//! `--import rosterdb|sqlite FILE FROM TO [CHUNK]` times the import of
//! users FROM..TO into it; `--concurrent rosterdb|sqlite FILE PER_THREAD
//! [STRIDE USERS]` runs the 8 writers' patches on it. `--table-stats
//! FILE` lists the pages and bytes of each table of a closed rosterdb
//! file, largest first. `--import-after FILE N REPS [sqlite]` times
//! 10,000-user imports in a process that has just built `N` users (with
//! `sqlite`, through the import row's steps and order, without the build
//! row before them).

/// rosterdb's side runs on mimalloc, as the Python extension does
/// (decision 0020; built with the workspace's `no_thp` feature, decision
/// 0030); SQLite's C code keeps the C library's `malloc`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod chart;
mod report;
mod tools;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rosterdb_benches::drive::{Fixture, Workload, run};
use rosterdb_benches::measure::{
    Stats, batch_size, fdatasync_samples, per_op, reset_peak_resident, resident_kib, timed,
};
use rosterdb_benches::{BenchError, BenchResult, RosterStore, SqliteStore, Workloads, users};

use crate::report::{Memory, Row, SizeReport};

/// Users per transaction while building a store (the build row, reported
/// next to the bulk import workload, and the stores the workloads run on).
const BUILD_CHUNK: u64 = 50_000;
/// Builds of each store per size in the build row. At 1M users too
/// (a pair takes some 35 s): single 1M builds of one rosterdb binary in
/// `compare` took 10.8 to 13.4 µs a user within an hour (round 25), where
/// the median of three pairs holds.
const BUILD_RUNS: usize = 3;
/// Users per bulk-import repetition (into a fresh store each time).
const IMPORT_BATCH: u64 = 10_000;
/// Wall time one repetition's batch aims at.
const BATCH_TARGET: Duration = Duration::from_millis(100);

struct Args {
    sizes: Vec<u64>,
    out: PathBuf,
    reps: usize,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> BenchResult<Args> {
    let mut a = Args {
        sizes: vec![10_000, 100_000],
        out: PathBuf::from("docs/BENCHMARKS.md"),
        reps: 5,
    };
    let bad = |what: &str| BenchError::Missing(format!("a valid value for {what}"));
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| bad(&flag))?;
        match flag.as_str() {
            "--sizes" => {
                a.sizes = value
                    .split(',')
                    .map(|n| n.trim().replace('_', "").parse::<u64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad("--sizes (comma list of user counts)"))?;
            }
            "--out" => a.out = PathBuf::from(value),
            "--reps" => a.reps = value.parse().map_err(|_| bad("--reps"))?,
            other => return Err(bad(&format!("an option: {other} is unknown"))),
        }
    }
    Ok(a)
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let outcome = match std::env::args().nth(1).as_deref() {
        Some("--probe-memory") => {
            let _ = args.next();
            probe_memory(args)
        }
        Some("--export-population") => {
            let _ = args.next();
            tools::export_population(args)
        }
        Some("--time-get") => {
            let _ = args.next();
            tools::time_get(args)
        }
        Some("--build") => {
            let _ = args.next();
            tools::build_store(args)
        }
        Some("--table-stats") => {
            let _ = args.next();
            tools::table_stats(args)
        }
        Some("--patches") => {
            let _ = args.next();
            tools::patches(args)
        }
        Some("--import") => {
            let _ = args.next();
            tools::import(args)
        }
        Some("--import-after") => {
            let _ = args.next();
            tools::import_after(args)
        }
        Some("--concurrent") => {
            let _ = args.next();
            tools::concurrent(args)
        }
        _ => parse_args(args).and_then(compare),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("compare: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn compare(args: Args) -> BenchResult<()> {
    let mut reports = Vec::new();
    for &n in &args.sizes {
        eprintln!("== {n} users");
        reports.push(one_size(n, args.reps)?);
    }
    let (_, peak) = resident_kib();
    report::write(&args.out, &reports, peak)?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

/// Imports the population `0..n` into `store` in transactions of
/// [`BUILD_CHUNK`] users; returns the time spent importing (the users are
/// made outside the timing).
pub(crate) fn build<W: Workloads>(store: &W, n: u64) -> BenchResult<Duration> {
    let mut spent = Duration::ZERO;
    let mut from = 0;
    while from < n {
        let to = from.saturating_add(BUILD_CHUNK).min(n);
        let chunk: Vec<_> = (from..to).map(rosterdb_benches::user).collect();
        let (done, took) = timed(|| store.import(chunk));
        done?;
        spent = spent.saturating_add(took);
        from = to;
    }
    Ok(spent)
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn one_size(n: u64, reps: usize) -> BenchResult<SizeReport> {
    let dir = tempfile::tempdir_in(std::env::current_dir()?.join("target"))?;
    // The disk's raw sync latency varies with the other jobs on it: it is
    // sampled here and again between the repetitions of every write workload.
    let mut syncs = fdatasync_samples(dir.path(), 100)?;
    let rpath = dir.path().join("users.rdb");
    let spath = dir.path().join("users.sqlite");
    let mut rows = vec![build_row(dir.path(), n)?];
    let depth = {
        // The stores the workloads run on are built again here, untimed:
        // a store this process wrote has its pages in rosterdb's page
        // cache (the whole store below its default size,
        // `rosterdb::DEFAULT_CACHE_BYTES`, the most recently used pages
        // above) and the rest in the OS's file cache, as a
        // long-running process has them, where one another process built
        // would be read from the file at first.
        let r = RosterStore::open(&rpath)?;
        let s = SqliteStore::open(&spath)?;
        build(&r, n)?;
        build(&s, n)?;
        // Untimed, as a maintenance step after loading (sqlite.rs).
        s.analyze()?;
        // The builds leave ~1.5 GiB of dirty pages at 1M that the kernel
        // writes back over the next seconds; flushed first, so that the
        // import row measures the imports and not that write-back.
        sync_stores(&[&rpath, &spath])?;
        rows.push(import_row(dir.path(), reps)?);
        let fr = Fixture::new(&r, n)?;
        let fs = Fixture::new(&s, n)?;
        for w in Workload::ALL {
            if w == Workload::CursorDeep && fr.depth() == 0 {
                continue;
            }
            let probe = w.writes().then_some(dir.path());
            rows.push(interleaved(&r, &fr, &s, &fs, w, reps, probe, &mut syncs)?);
        }
        s.checkpoint()?;
        fr.depth()
    };
    let files = (file_len(&rpath), file_len(&spath));
    let memory = Memory {
        roster_kib: probe_child("rosterdb", &rpath, n)?,
        sqlite_kib: probe_child("sqlite", &spath, n)?,
        roster_file: files.0,
        sqlite_file: files.1,
    };
    rows.retain(|r| r.roster.median > 0.0);
    let fsync = Stats::of(&syncs);
    eprintln!("raw fdatasync median {:.0} µs", fsync.median / 1e3);
    Ok(SizeReport {
        users: n,
        rows,
        fsync,
        depth,
        memory,
    })
}

/// The build row: each store of `n` users built in `dir` by a child
/// process of its own (`--build`), so that neither build pays for the
/// memory the other or the parent touched first: [`BUILD_RUNS`] pairs,
/// SQLite's build first in each, so that every rosterdb build follows a
/// SQLite build. A rosterdb build straight after another found the memory
/// the last one freed not yet taken back by this VM's host, and took
/// 11–12% less time (round 26 notes in docs/BENCHMARKS.md); an
/// application's build does not follow another process that just freed
/// 1.3 GiB. The files are deleted after.
fn build_row(dir: &Path, n: u64) -> BenchResult<Row> {
    let (rpath, spath) = (dir.join("build.rdb"), dir.join("build.sqlite"));
    let (mut rt, mut st) = (Vec::new(), Vec::new());
    for _ in 0..BUILD_RUNS {
        st.push(build_child("sqlite", &spath, n)?);
        rt.push(build_child("rosterdb", &rpath, n)?);
        remove_store(&rpath);
        remove_store(&spath);
    }
    let (rs, ss) = (Stats::of(&rt), Stats::of(&st));
    eprintln!(
        "built in new processes: rosterdb {:.0} ns/user, SQLite {:.0} ns/user ({BUILD_RUNS} runs each)",
        rs.median, ss.median
    );
    let label = format!(
        "build {n} users (transactions of {BUILD_CHUNK}), per user; each store built by a new process, {BUILD_RUNS} runs"
    );
    let row = Row::new(label, rs, ss, "≥ 2×", Some(2.0));
    Ok(row.named("build"))
}

/// Runs this binary as `--build KIND FILE USERS` and reads the build's
/// time per user (ns) from the `BUILD` line it prints.
fn build_child(kind: &str, file: &Path, n: u64) -> BenchResult<f64> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .arg("--build")
        .arg(kind)
        .arg(file)
        .arg(n.to_string())
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let took = stdout
        .lines()
        .find_map(|line| line.strip_prefix("BUILD ")?.trim().parse::<f64>().ok());
    match took {
        Some(ns) if out.status.success() => Ok(ns),
        _ => Err(BenchError::Missing(format!(
            "the time of the {kind} build ({}: {})",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
    }
}

/// `path` with `suffix` appended to its file name (`users.rdb` and
/// `-wal`: `users.rdb-wal`), as a store's companion files are named.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut file = path.as_os_str().to_owned();
    file.push(suffix);
    PathBuf::from(file)
}

/// Syncs each store file of `paths` and its `-wal` beside it (a file
/// that is not there is skipped).
pub(crate) fn sync_stores(paths: &[&Path]) -> BenchResult<()> {
    for path in paths {
        for suffix in ["", "-wal"] {
            if let Ok(file) = std::fs::File::open(with_suffix(path, suffix)) {
                file.sync_all()?;
            }
        }
    }
    Ok(())
}

/// Deletes a store file and its `-wal` and `-shm` companions, if present.
pub(crate) fn remove_store(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(path, suffix));
    }
}

/// Bulk import of [`IMPORT_BATCH`] users in one transaction into a fresh
/// store, `reps` times per store, interleaved (each store first in every
/// other repetition).
fn import_row(dir: &Path, reps: usize) -> BenchResult<Row> {
    let (mut rt, mut st) = (Vec::new(), Vec::new());
    for rep in 0..reps {
        let rpath = dir.join(format!("import-{rep}.rdb"));
        let spath = dir.join(format!("import-{rep}.sqlite"));
        // Each store goes first in every other repetition.
        let roster_first = rep % 2 == 0;
        if roster_first {
            rt.push(import_into(&RosterStore::open(&rpath)?)?);
        }
        st.push(import_into(&SqliteStore::open(&spath)?)?);
        if !roster_first {
            rt.push(import_into(&RosterStore::open(&rpath)?)?);
        }
        // Each repetition's pair in the log, in the order they ran.
        if let (Some(r), Some(s)) = (rt.last(), st.last()) {
            let order = if roster_first { "R S" } else { "S R" };
            let (r, s) = (r / 1e3, s / 1e3);
            eprintln!("bulk import {rep} ({order}): rosterdb {r:.2} µs, SQLite {s:.2} µs a user");
        }
        remove_store(&rpath);
        remove_store(&spath);
    }
    eprintln!("bulk import done");
    let row = Row::new(
        format!("bulk import of {IMPORT_BATCH} users, one transaction, per user"),
        Stats::of(&rt),
        Stats::of(&st),
        "≥ 2×",
        Some(2.0),
    );
    Ok(row.named("bulk_import"))
}

/// The time per user of importing [`IMPORT_BATCH`] users into `store` in
/// one transaction (the users are made outside the timing).
fn import_into<W: Workloads>(store: &W) -> BenchResult<f64> {
    let batch = users(IMPORT_BATCH);
    let (done, took) = timed(|| store.import(batch));
    done?;
    Ok(per_op(took, IMPORT_BATCH))
}

/// Iterations of `w` on `store` that take about [`BATCH_TARGET`].
pub(crate) fn calibrate<W: Workloads>(
    store: &W,
    fx: &Fixture<W::Cursor>,
    w: Workload,
) -> BenchResult<u64> {
    let (done, one) = timed(|| run(store, fx, w, 1));
    done?;
    let probe = batch_size(one, Duration::from_millis(10), 10_000);
    let (done, took) = timed(|| run(store, fx, w, probe));
    done?;
    let each = took
        .checked_div(u32::try_from(probe).unwrap_or(u32::MAX))
        .unwrap_or(took);
    Ok(batch_size(each, BATCH_TARGET, 1_000_000))
}

/// `reps` batches of `w` on each store, alternating; with `probe`, 20 raw
/// fdatasync samples in that directory after each pair, added to `syncs`.
#[allow(clippy::too_many_arguments, reason = "both stores and their fixtures")]
fn interleaved<R: Workloads, S: Workloads>(
    r: &R,
    fr: &Fixture<R::Cursor>,
    s: &S,
    fs: &Fixture<S::Cursor>,
    w: Workload,
    reps: usize,
    probe: Option<&Path>,
    syncs: &mut Vec<f64>,
) -> BenchResult<Row> {
    let rb = calibrate(r, fr, w)?;
    let sb = calibrate(s, fs, w)?;
    let (mut rt, mut st) = (Vec::new(), Vec::new());
    let ops = w.ops_per_iteration();
    let roster = |rt: &mut Vec<f64>| -> BenchResult<()> {
        let (done, took) = timed(|| run(r, fr, w, rb));
        done?;
        rt.push(per_op(took, rb.saturating_mul(ops)));
        Ok(())
    };
    let sqlite = |st: &mut Vec<f64>| -> BenchResult<()> {
        let (done, took) = timed(|| run(s, fs, w, sb));
        done?;
        st.push(per_op(took, sb.saturating_mul(ops)));
        Ok(())
    };
    for rep in 0..reps {
        // Each store goes first in every other repetition, so that neither
        // alone runs after the other's work (a write's pages written back,
        // a read's caches filled).
        if rep % 2 == 0 {
            roster(&mut rt)?;
            sqlite(&mut st)?;
        } else {
            sqlite(&mut st)?;
            roster(&mut rt)?;
        }
        if let Some(dir) = probe {
            syncs.extend(fdatasync_samples(dir, 20)?);
        }
    }
    let row = Row::new(
        w.describe(),
        Stats::of(&rt),
        Stats::of(&st),
        w.target(),
        w.min_ratio(),
    )
    .with_id(w);
    eprintln!(
        "{:<18} rosterdb {:>12.0} ns  SQLite {:>12.0} ns  ratio {:.2}",
        w.id(),
        row.roster.median,
        row.sqlite.median,
        row.ratio()
    );
    Ok(row)
}

/// Runs this binary as `--probe-memory KIND FILE USERS` and reads the peak
/// resident set (KiB) it prints.
fn probe_child(kind: &str, file: &Path, n: u64) -> BenchResult<Option<u64>> {
    let exe = std::env::current_exe()?;
    let out = std::process::Command::new(exe)
        .arg("--probe-memory")
        .arg(kind)
        .arg(file)
        .arg(n.to_string())
        .output()?;
    if !out.status.success() {
        eprintln!(
            "memory probe of {kind} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return Ok(None);
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse().ok())
}

/// The child of [`probe_child`]: opens the store, resets the peak resident
/// set, runs every read workload for about a second, prints the peak (KiB).
fn probe_memory(mut args: impl Iterator<Item = String>) -> BenchResult<()> {
    let missing = |what: &str| BenchError::Missing(format!("--probe-memory {what}"));
    let kind = args.next().ok_or_else(|| missing("KIND"))?;
    let file = PathBuf::from(args.next().ok_or_else(|| missing("FILE"))?);
    let n: u64 = args
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| missing("USERS"))?;
    let peak = match kind.as_str() {
        "rosterdb" => query_peak(&RosterStore::open(&file)?, n)?,
        "sqlite" => query_peak(&SqliteStore::open(&file)?, n)?,
        other => return Err(missing(&format!("KIND (rosterdb or sqlite, not {other})"))),
    };
    println!("{}", peak.unwrap_or(0));
    Ok(())
}

fn query_peak<W: Workloads>(store: &W, n: u64) -> BenchResult<Option<u64>> {
    let fx = Fixture::new(store, n)?;
    reset_peak_resident();
    for w in Workload::ALL {
        if w.writes() || (w == Workload::CursorDeep && fx.depth() == 0) {
            continue;
        }
        let iterations = calibrate(store, &fx, w)?;
        run(store, &fx, w, iterations)?;
    }
    Ok(resident_kib().1)
}
