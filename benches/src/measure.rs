//! Measuring tools: batch timing, order statistics, the disk's raw
//! write+fdatasync latency, resident memory, and the machine's description.

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// Median, minimum and maximum of repeated measurements, in nanoseconds per
/// operation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// The median (the mean of the two middle values for an even count).
    pub median: f64,
    /// The smallest measurement.
    pub min: f64,
    /// The largest measurement.
    pub max: f64,
}

impl Stats {
    /// The statistics of `samples` (all zero when there are none).
    pub fn of(samples: &[f64]) -> Stats {
        let mut s: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
        s.sort_by(f64::total_cmp);
        let (Some(&min), Some(&max)) = (s.first(), s.last()) else {
            return Stats::default();
        };
        let mid = s.len() / 2;
        let median = if s.len() % 2 == 1 {
            s.get(mid).copied().unwrap_or(min)
        } else {
            let a = s.get(mid.saturating_sub(1)).copied().unwrap_or(min);
            let b = s.get(mid).copied().unwrap_or(max);
            f64::midpoint(a, b)
        };
        Stats { median, min, max }
    }
}

/// Nanoseconds per operation of `elapsed` over `ops` operations.
pub fn per_op(elapsed: Duration, ops: u64) -> f64 {
    #[allow(clippy::cast_precision_loss, reason = "a measurement, not an identity")]
    let ops = ops.max(1) as f64;
    elapsed.as_secs_f64() * 1e9 / ops
}

/// How many operations of about `one` each fill `target` (at least 1, at
/// most `cap`).
pub fn batch_size(one: Duration, target: Duration, cap: u64) -> u64 {
    let one = one.as_nanos().max(1);
    u64::try_from(target.as_nanos().checked_div(one).unwrap_or(0))
        .unwrap_or(cap)
        .clamp(1, cap.max(1))
}

/// Times `f` once.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// The latency of `count` overwrites of one 4 KiB block of a file in `dir`,
/// each followed by `fdatasync` (`File::sync_data`), as [`Stats`] in ns.
///
/// # Errors
///
/// When the file cannot be created, written or synced.
pub fn fdatasync_latency(dir: &Path, count: usize) -> std::io::Result<Stats> {
    fdatasync_samples(dir, count).map(|s| Stats::of(&s))
}

/// The latencies (ns) of `count` overwrites of one 4 KiB block of a file
/// in `dir`, each followed by `fdatasync`.
///
/// # Errors
///
/// When the file cannot be created, written or synced.
pub fn fdatasync_samples(dir: &Path, count: usize) -> std::io::Result<Vec<f64>> {
    let path = dir.join("fdatasync-probe");
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)?;
    let block = [0x5a_u8; 4096];
    f.write_all(&block)?;
    f.sync_all()?;
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        f.seek(SeekFrom::Start(0))?;
        f.write_all(&block)?;
        f.sync_data()?;
        samples.push(per_op(start.elapsed(), 1));
    }
    drop(f);
    std::fs::remove_file(&path)?;
    Ok(samples)
}

/// The process's resident set now and its peak (`VmRSS`, `VmHWM` of
/// `/proc/self/status`), in KiB; `None` where the kernel does not say.
pub fn resident_kib() -> (Option<u64>, Option<u64>) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the peak resident set (`VmHWM`) to the current one (Linux ≥ 4.0:
/// `5` to `/proc/self/clear_refs`); false when the kernel refused.
pub fn reset_peak_resident() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The machine: CPUs available, CPU model, kernel release.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_string();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "unknown kernel".to_string(), |k| k.trim().to_string());
    format!("{cpus} CPUs (nproc), {model}, Linux {kernel}")
}
