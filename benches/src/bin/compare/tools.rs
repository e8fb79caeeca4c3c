//! The helper modes `benches/python/compare.py` calls: the population as
//! JSON Lines, and the Rust `get` latency on a store file.

use std::io::Write as _;
use std::path::PathBuf;

use rosterdb_benches::drive::{Fixture, Workload, run};
use rosterdb_benches::measure::{Stats, per_op, timed};
use rosterdb_benches::{BenchError, BenchResult, RosterStore, SqliteStore, Workloads, user};
use serde_json::{Value, json};

fn arg<T: std::str::FromStr>(
    args: &mut impl Iterator<Item = String>,
    what: &str,
) -> BenchResult<T> {
    args.next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| BenchError::Missing(format!("the {what} argument")))
}

/// `--export-population USERS FILE`: the first USERS users as JSON Lines
/// in the document form `create` takes (camelCase, `passwordHash`).
///
/// # Errors
///
/// When the file cannot be written.
pub fn export_population(mut args: impl Iterator<Item = String>) -> BenchResult<()> {
    let n: u64 = arg(&mut args, "USERS")?;
    let path: PathBuf = arg(&mut args, "FILE")?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    for k in 0..n {
        let u = user(k);
        let mut doc = json!({
            "username": u.username,
            "email": u.email,
            "firstName": u.first_name,
            "lastName": u.last_name,
            "enabled": u.enabled,
            "roles": u.roles,
            "externalIds": u.external_ids.iter()
                .map(|e| json!({"type": e.kind, "value": e.value}))
                .collect::<Vec<_>>(),
            "attributes": Value::Object(u.attributes),
        });
        if let Some(map) = doc.as_object_mut() {
            for (key, value) in [
                ("nickname", u.nickname),
                ("telephoneNumber", u.telephone_number),
                ("passwordHash", u.password_hash),
            ] {
                if let Some(v) = value {
                    map.insert(key.into(), v.into());
                }
            }
        }
        serde_json::to_writer(&mut out, &doc)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// `--time-get FILE USERS [REPS] [WORKLOAD] [cpu]`: prints the median time
/// (ns) of one read workload on the rosterdb store at FILE over REPS
/// (default 5) batches of about 100 ms, and the range, as `median min max`;
/// with `cpu`, the thread's CPU time instead of the wall-clock time (for
/// comparisons on a machine other work keeps busy). WORKLOAD is
/// `id` (default: `get` by id), `id_whole` (`get` by id, then the document's
/// attributes read: the whole document, as a binding builds it), `email`
/// (`get_by_email`), or the short id of
/// another read workload (`search`, `email_co`, `filtered_page`,
/// `cursor_page_1`, `cursor_page_deep`, `count`, `offset_page_100`). Before
/// timing it gets every user once by id, so that the timed reads find the
/// store's page cache as a long-running process has it.
///
/// # Errors
///
/// What opening or reading the store raises, or an unknown or writing
/// workload.
pub fn time_get(mut args: impl Iterator<Item = String>) -> BenchResult<()> {
    let path: PathBuf = arg(&mut args, "FILE")?;
    let n: u64 = arg(&mut args, "USERS")?;
    let reps: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let named = args.next();
    // `id_whole`: get by id, then read the document's attributes, which a
    // document decodes when first read: the whole document, as the Python
    // binding's `get` builds it (the base of its call overhead).
    let whole = named.as_deref() == Some("id_whole");
    let workload = match named.as_deref() {
        None | Some("id" | "id_whole") => Workload::GetById,
        Some("email") => Workload::GetByEmail,
        Some(other) => Workload::ALL
            .into_iter()
            .find(|w| w.id() == other && !w.writes())
            .ok_or_else(|| {
                BenchError::Missing(format!(
                    "a read workload (id, email, search, email_co, …), not {other}"
                ))
            })?,
    };
    let cpu = args.next().as_deref() == Some("cpu");
    let store = RosterStore::open(&path)?;
    let fx = Fixture::new(&store, n)?;
    run(&store, &fx, Workload::GetById, n)?;
    let batch = crate::calibrate(&store, &fx, workload)?;
    let mut samples = Vec::new();
    for _ in 0..reps {
        let before = thread_cpu()?;
        let (done, took) = timed(|| {
            if whole {
                whole_gets(&store, &fx, batch)
            } else {
                run(&store, &fx, workload, batch)
            }
        });
        done?;
        let took = if cpu {
            thread_cpu()?.saturating_sub(before)
        } else {
            took
        };
        samples.push(per_op(took, batch));
    }
    let s = Stats::of(&samples);
    println!("{:.0} {:.0} {:.0}", s.median, s.min, s.max);
    Ok(())
}

/// `iterations` gets by id (the fixture's ids, as the get workload takes
/// them), each document's attributes read; the sum of their ids.
fn whole_gets(store: &RosterStore, fx: &Fixture<String>, iterations: u64) -> BenchResult<u64> {
    let mut acc = 0_u64;
    for _ in 0..iterations {
        let user = store.store().users().get(fx.id(fx.next()))?;
        let read = std::hint::black_box(user.attributes.len());
        acc = acc.wrapping_add(user.id).wrapping_add(read as u64);
    }
    Ok(acc)
}

/// `--build rosterdb|sqlite FILE USERS`: makes a store of the population
/// (for profiling the other workloads on it) and prints the time the
/// imports took, as the build row times them: `BUILD <ns per user>`.
///
/// # Errors
///
/// What opening or importing raises, or an unknown kind.
pub fn build_store(mut args: impl Iterator<Item = String>) -> BenchResult<()> {
    let kind: String = arg(&mut args, "KIND")?;
    let path: PathBuf = arg(&mut args, "FILE")?;
    let n: u64 = arg(&mut args, "USERS")?;
    let took = match kind.as_str() {
        "rosterdb" => crate::build(&RosterStore::open(&path)?, n)?,
        "sqlite" => {
            let s = SqliteStore::open(&path)?;
            let took = crate::build(&s, n)?;
            s.checkpoint()?;
            took
        }
        other => {
            return Err(BenchError::Missing(format!(
                "KIND rosterdb or sqlite, not {other}"
            )));
        }
    };
    println!("BUILD {:.0}", per_op(took, n));
    Ok(())
}

/// The optional `STRIDE USERS` pair of the write tool modes.
fn stride_arg(args: &mut impl Iterator<Item = String>) -> BenchResult<Option<(u64, u64)>> {
    match args.next() {
        Some(stride) => {
            let stride = stride
                .parse()
                .map_err(|_| BenchError::Missing(format!("a STRIDE number, not {stride}")))?;
            Ok(Some((stride, arg(args, "USERS")?)))
        }
        None => Ok(None),
    }
}

/// The user id (from 1) of the `k`th write: `k` itself, or with `STRIDE
/// USERS`, `k * STRIDE mod USERS + 1`.
fn spread(k: u64, stride: Option<(u64, u64)>) -> u64 {
    match stride {
        Some((stride, users)) => k
            .wrapping_mul(stride)
            .checked_rem(users)
            .unwrap_or(0)
            .saturating_add(1),
        None => k,
    }
}

/// `--patches rosterdb|sqlite FILE COUNT [STRIDE USERS]`: COUNT durable
/// patches of one attribute of users 1, 2, … on an existing store (values
/// new on every run); with STRIDE and USERS (the store's users), the `k`th
/// patch (from 0) touches user `k * STRIDE mod USERS + 1` instead, ids
/// spread over the store as the benchmark's (STRIDE 7919). Prints the
/// wall time per patch and the patching thread's CPU time per patch (in
/// µs; the open not included).
///
/// # Errors
///
/// What opening or patching raises, or an unknown kind.
pub fn patches(mut args: impl Iterator<Item = String>) -> BenchResult<()> {
    let kind: String = arg(&mut args, "KIND")?;
    let path: PathBuf = arg(&mut args, "FILE")?;
    let count: u64 = arg(&mut args, "COUNT")?;
    let stride = stride_arg(&mut args)?;
    fn go<W: Workloads>(store: &W, count: u64, stride: Option<(u64, u64)>) -> BenchResult<()> {
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let start = std::time::Instant::now();
        let cpu_before = thread_cpu()?;
        for k in 0..count {
            let id = if stride.is_some() {
                spread(k, stride)
            } else {
                k.saturating_add(1)
            };
            store.patch_attribute(id, "title", &format!("p{id}-{run}"))?;
        }
        let cpu = thread_cpu()?.saturating_sub(cpu_before);
        let n = count.max(1);
        println!(
            "{:.1} us/patch, {:.1} us/patch on the CPU",
            per_op(start.elapsed(), n) / 1e3,
            per_op(cpu, n) / 1e3
        );
        Ok(())
    }
    match kind.as_str() {
        "rosterdb" => go(&RosterStore::open(&path)?, count, stride),
        "sqlite" => go(&SqliteStore::open(&path)?, count, stride),
        other => Err(BenchError::Missing(format!(
            "KIND rosterdb or sqlite, not {other}"
        ))),
    }
}

/// `--import rosterdb|sqlite FILE FROM TO [CHUNK]`: imports users
/// FROM..TO of the population into the store at FILE (created when new) in
/// transactions of CHUNK users (default: all in one), and prints the wall
/// time and the CPU time of the importing thread per user, in ns (each
/// transaction's on stderr), the users made outside the timing — the
/// bulk-import workload (`0 10000` on a new file) or the tail of a large
/// build, for profiling and for timing one binary against another on a
/// busy machine (the CPU time does not count waits for the processor).
///
/// # Errors
///
/// What opening or importing raises, or an unknown kind.
pub fn import(mut args: impl Iterator<Item = String>) -> BenchResult<()> {
    let kind: String = arg(&mut args, "KIND")?;
    let path: PathBuf = arg(&mut args, "FILE")?;
    let from: u64 = arg(&mut args, "FROM")?;
    let to: u64 = arg(&mut args, "TO")?;
    let chunk: u64 = args
        .next()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| to.saturating_sub(from))
        .max(1);
    fn go<W: Workloads>(store: &W, from: u64, to: u64, chunk: u64) -> BenchResult<()> {
        let mut spent = std::time::Duration::ZERO;
        let mut cpu = std::time::Duration::ZERO;
        let mut at = from;
        while at < to {
            let end = at.saturating_add(chunk).min(to);
            let (took, used) = timed_import(store, at..end)?;
            let n = end.saturating_sub(at);
            eprintln!(
                "{at}..{end}: {:.0} ns/user, {:.0} ns/user on the CPU",
                per_op(took, n),
                per_op(used, n)
            );
            spent = spent.saturating_add(took);
            cpu = cpu.saturating_add(used);
            at = end;
        }
        let n = to.saturating_sub(from);
        println!("{:.0} {:.0}", per_op(spent, n), per_op(cpu, n));
        Ok(())
    }
    match kind.as_str() {
        "rosterdb" => go(&RosterStore::open(&path)?, from, to, chunk),
        "sqlite" => go(&SqliteStore::open(&path)?, from, to, chunk),
        other => Err(BenchError::Missing(format!(
            "KIND rosterdb or sqlite, not {other}"
        ))),
    }
}

/// Imports the population's users `ids` into `store` (made outside the
/// timing): the wall time and the calling thread's CPU time it took.
fn timed_import<W: Workloads>(
    store: &W,
    ids: std::ops::Range<u64>,
) -> BenchResult<(std::time::Duration, std::time::Duration)> {
    let batch: Vec<_> = ids.map(user).collect();
    let cpu_before = thread_cpu()?;
    let (done, took) = timed(|| store.import(batch));
    done?;
    Ok((took, thread_cpu()?.saturating_sub(cpu_before)))
}

/// The CPU time the calling thread has used (Linux: the first field of
/// `/proc/thread-self/schedstat`, in ns).
fn thread_cpu() -> BenchResult<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    stat.split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .map(std::time::Duration::from_nanos)
        .ok_or_else(|| BenchError::Missing("a CPU time in /proc/thread-self/schedstat".into()))
}

/// The CPU time the whole process has used so far, its ended threads
/// included (Linux: user plus system time from `/proc/self/stat`, in clock
/// ticks of 10 ms: measure runs of a second or more).
fn process_cpu() -> BenchResult<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the command name, which is in parentheses.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| BenchError::Missing("a command name in /proc/self/stat".into()))?;
    let mut fields = after.split_whitespace().skip(11);
    let mut ticks = || -> Option<u64> { fields.next().and_then(|v| v.parse().ok()) };
    let total = ticks()
        .zip(ticks())
        .map(|(user, system)| user.saturating_add(system))
        .ok_or_else(|| BenchError::Missing("utime and stime in /proc/self/stat".into()))?;
    Ok(std::time::Duration::from_millis(total.saturating_mul(10)))
}

/// `--concurrent rosterdb|sqlite FILE PER_THREAD [STRIDE USERS]`:
/// [`rosterdb_benches::WRITERS`] threads each patching PER_THREAD distinct
/// users on an existing store, SQLite's threads sharing one connection;
/// prints the wall time per patch in µs and the process's CPU time per
/// patch (10 ms ticks: use a few thousand patches). Thread `t` takes ids
/// `t * PER_THREAD + 1 ..`, or with STRIDE the `k`th of those numbers
/// spread over the store as `k * STRIDE % USERS + 1` (as the compare run's
/// workloads spread theirs, with a STRIDE of 7919).
///
/// # Errors
///
/// What opening or patching raises, or an unknown kind.
pub fn concurrent(mut args: impl Iterator<Item = String>) -> BenchResult<()> {
    let kind: String = arg(&mut args, "KIND")?;
    let path: PathBuf = arg(&mut args, "FILE")?;
    let per_thread: u64 = arg(&mut args, "PER_THREAD")?;
    let stride = stride_arg(&mut args)?;
    fn go<W: Workloads>(
        store: &W,
        per_thread: u64,
        stride: Option<(u64, u64)>,
    ) -> BenchResult<(f64, f64)> {
        let writers = rosterdb_benches::WRITERS as u64;
        let ids: Vec<Vec<u64>> = (0..writers)
            .map(|t| {
                (1..=per_thread)
                    .map(|i| {
                        let k = t.saturating_mul(per_thread).saturating_add(i);
                        spread(k, stride)
                    })
                    .collect()
            })
            .collect();
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let cpu_before = process_cpu()?;
        let start = std::time::Instant::now();
        store.patch_concurrently(&ids, &format!("c{run}"))?;
        let wall = start.elapsed();
        let cpu = process_cpu()?.saturating_sub(cpu_before);
        let patches = per_thread.saturating_mul(writers).max(1);
        Ok((per_op(wall, patches) / 1e3, per_op(cpu, patches) / 1e3))
    }
    let (wall, cpu) = match kind.as_str() {
        "rosterdb" => go(&RosterStore::open(&path)?, per_thread, stride)?,
        "sqlite" => go(&SqliteStore::open(&path)?, per_thread, stride)?,
        other => {
            return Err(BenchError::Missing(format!(
                "KIND rosterdb or sqlite, not {other}"
            )));
        }
    };
    println!("{wall:.1} us/patch, {cpu:.1} us/patch of process CPU");
    Ok(())
}

/// `--table-stats FILE`: the pages and bytes of each table of a closed
/// rosterdb file, the most pages first, then the total
/// ([`rosterdb_benches::table_stats::table_sizes`]).
pub fn table_stats(mut args: impl Iterator<Item = String>) -> BenchResult<()> {
    let path: PathBuf = arg(&mut args, "FILE")?;
    let sizes = rosterdb_benches::table_stats::table_sizes(&path)?;
    let mib = |pages: u64| pages as f64 * 4096.0 / f64::from(1 << 20);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<32} {:>8} {:>9} {:>10} {:>12} {:>10} {:>10}",
        "table", "pages", "MiB", "entries", "stored B", "meta B", "unused B"
    )?;
    for t in &sizes {
        writeln!(
            out,
            "{:<32} {:>8} {:>9.2} {:>10} {:>12} {:>10} {:>10}",
            t.name,
            t.pages,
            mib(t.pages),
            t.entries,
            t.stored_bytes,
            t.metadata_bytes,
            t.unused_bytes
        )?;
    }
    let total: u64 = sizes.iter().map(|t| t.pages).sum();
    writeln!(out, "{:<32} {total:>8} {:>9.2}", "total", mib(total))?;
    Ok(())
}

/// `--import-after FILE N REPS [sqlite]`: builds `N` users into a new
/// store `FILE` in this process (in transactions of 50,000, as `compare`
/// does) and keeps it open, waits 3 s (time to attach a profiler: `perf
/// record -p`), then imports 10,000 users into a new store beside it,
/// `REPS` times, printing each import's wall and calling-thread CPU time
/// per user in ns. It isolates the import row at 1M users, which `compare`
/// runs in a process holding the 1M stores, from the same import in a new
/// process (`--import`). With `sqlite`, it goes through the row's steps
/// (without the build row that comes before them in `compare`, and with
/// the 3 s pause): a SQLite store of `N` users built beside `FILE`
/// (`FILE.sqlite`) and kept open, `ANALYZE`, both stores' files and logs
/// synced, then each repetition a SQLite import beside the rosterdb one,
/// each store first in every other repetition (rosterdb first in the
/// first), printing SQLite's wall time per user as a third number. The
/// stores are removed at the end.
///
/// # Errors
///
/// What opening, building or importing raises, or a fourth argument
/// other than `sqlite`.
pub fn import_after(mut args: impl Iterator<Item = String>) -> BenchResult<()> {
    let path: PathBuf = arg(&mut args, "FILE")?;
    let n: u64 = arg(&mut args, "N")?;
    let reps: u64 = arg(&mut args, "REPS")?;
    let with_sqlite = match args.next().as_deref() {
        None => false,
        Some("sqlite") => true,
        Some(other) => {
            return Err(BenchError::Missing(format!(
                "a fourth argument `sqlite` or none, not {other}"
            )));
        }
    };
    crate::remove_store(&path);
    let spath = crate::with_suffix(&path, ".sqlite");
    let keep = RosterStore::open(&path)?;
    let sqlite = if with_sqlite {
        crate::remove_store(&spath);
        Some(SqliteStore::open(&spath)?)
    } else {
        None
    };
    if n > 0 {
        crate::build(&keep, n)?;
        if let Some(s) = &sqlite {
            crate::build(s, n)?;
            s.analyze()?;
        }
    }
    if with_sqlite {
        crate::sync_stores(&[&path, &spath])?;
    }
    eprintln!("built {n} users; importing in 3 s");
    std::thread::sleep(std::time::Duration::from_secs(3));
    for rep in 0..reps {
        let fresh = path.with_extension(format!("fresh{rep}"));
        let fresh_sqlite = path.with_extension(format!("fresh{rep}.sqlite"));
        crate::remove_store(&fresh);
        crate::remove_store(&fresh_sqlite);
        let sqlite_import = |on: bool| -> BenchResult<Option<f64>> {
            if !on {
                return Ok(None);
            }
            let store = SqliteStore::open(&fresh_sqlite)?;
            let (took, _) = timed_import(&store, 0..10_000)?;
            Ok(Some(per_op(took, 10_000)))
        };
        let sqlite_first = with_sqlite && rep % 2 == 1;
        let before = sqlite_import(sqlite_first)?;
        let store = RosterStore::open(&fresh)?;
        let (took, used) = timed_import(&store, 0..10_000)?;
        drop(store);
        let after = sqlite_import(with_sqlite && !sqlite_first)?;
        let sqlite_column = before.or(after).map(|s| format!(" {s:.0}"));
        println!(
            "{:.0} {:.0}{}",
            per_op(took, 10_000),
            per_op(used, 10_000),
            sqlite_column.unwrap_or_default()
        );
        crate::remove_store(&fresh);
        crate::remove_store(&fresh_sqlite);
    }
    drop(keep);
    drop(sqlite);
    crate::remove_store(&path);
    crate::remove_store(&spath);
    Ok(())
}
