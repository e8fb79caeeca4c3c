//! `rosterdb-crash`: the crash harness of rosterdb (issue 12).
//!
//! ```text
//! rosterdb-crash [--kills N] [--seed S] [--dir D]   the parent (default: 50 kills,
//!                                                  a seed from the clock, a temporary dir)
//! rosterdb-crash child --db FILE --run R            the child (run by the parent)
//! ```
//!
//! The child opens the store file and makes durable writes of every kind
//! in a loop: creates of users, roles and clients, a JSON Patch, merges,
//! deletes, a transaction of three writes, failed and successful logins
//! (with their bookkeeping and sessions), a client login and a role
//! delete that cascades to its holders. Before each call it writes an
//! intent line and after it returned an acknowledgement line (JSON, see
//! `protocol.rs`).
//!
//! The parent spawns the child on the same file again and again, SIGKILLs
//! it at a seeded random moment, reopens the store (timing it) and checks
//! that every acknowledged write is there exactly as acknowledged, that
//! the call in flight is applied whole or not at all, that the change log
//! agrees with the records and the acknowledged writes, that sessions and
//! failure counts are as acknowledged, that `check()` is clean and that a
//! new write works. It prints a summary and exits with 1 when anything was
//! lost or half-applied, 2 when the harness itself failed.

mod child;
mod error;
mod model;
mod parent;
mod predicates;
mod probe;
mod protocol;
mod rng;
mod snapshot;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use error::{HarnessError, Result};

/// The store file's name in the parent's directory.
const DB_FILE: &str = "crash.redb";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rosterdb-crash: {e}");
            ExitCode::from(2)
        }
    }
}

/// The value after flag `name`, parsed.
fn value<T: std::str::FromStr>(args: &[String], name: &str) -> Result<Option<T>> {
    let Some(pos) = args.iter().position(|a| a == name) else {
        return Ok(None);
    };
    let text = args
        .get(pos.saturating_add(1))
        .ok_or_else(|| HarnessError::Usage(format!("{name} needs a value")))?;
    text.parse()
        .map(Some)
        .map_err(|_| HarnessError::Usage(format!("{name}: {text:?} is not a valid value")))
}

/// Refuses flags other than `known` (with their values).
fn only(args: &[String], known: &[&str]) -> Result<()> {
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if !known.contains(&arg.as_str()) {
            return Err(HarnessError::Usage(format!(
                "unknown argument {arg:?}; expected {}",
                known.join(", ")
            )));
        }
        rest.next();
    }
    Ok(())
}

fn dispatch(args: &[String]) -> Result<ExitCode> {
    if args.first().map(String::as_str) == Some("child") {
        let args = args.get(1..).unwrap_or_default();
        only(args, &["--db", "--run"])?;
        let db: PathBuf =
            value(args, "--db")?.ok_or_else(|| HarnessError::Usage("child needs --db".into()))?;
        let run = value(args, "--run")?.unwrap_or(0);
        child::run(&db, run)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("usage: rosterdb-crash [--kills N] [--seed S] [--dir D]");
        return Ok(ExitCode::SUCCESS);
    }
    only(args, &["--kills", "--seed", "--dir"])?;
    let kills = value(args, "--kills")?.unwrap_or(50);
    let seed = match value(args, "--seed")? {
        Some(seed) => seed,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    };
    let (_temp, dir) = match value::<PathBuf>(args, "--dir")? {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .map_err(error::io(format!("creating {}", dir.display())))?;
            (None, dir)
        }
        None => {
            let temp = tempfile::tempdir().map_err(error::io("creating a temporary dir"))?;
            let dir = temp.path().to_path_buf();
            (Some(temp), dir)
        }
    };
    let db = dir.join(DB_FILE);
    // The store file and its write-ahead log (decision 0018).
    for file in [db.clone(), dir.join(format!("{DB_FILE}-wal"))] {
        if file.exists() {
            std::fs::remove_file(&file)
                .map_err(error::io(format!("removing {}", file.display())))?;
        }
    }
    let exe = std::env::current_exe().map_err(error::io("finding the harness binary"))?;
    let config = parent::Config {
        kills,
        seed,
        db,
        exe,
    };
    let started = std::time::Instant::now();
    let summary = parent::run(&config)?;
    print_summary(&config, &summary, started.elapsed());
    Ok(if summary.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_summary(config: &parent::Config, s: &parent::Summary, took: std::time::Duration) {
    let (median, max) = s.reopen_ms();
    println!(
        "rosterdb-crash: seed {}, store {}",
        config.seed,
        config.db.display()
    );
    println!("kills: {} of {}", s.kills, config.kills);
    println!(
        "acknowledged writes: {} (records compared after kills, summed: {})",
        s.acked, s.records_checked
    );
    println!("lost or half-applied: {}", s.problems.len());
    println!(
        "in flight at the kill: applied {}, not applied {}, none {}",
        s.applied, s.not_applied, s.idle
    );
    for (op, (applied, not)) in &s.by_op {
        println!("  {op}: applied {applied}, not applied {not}");
    }
    println!("reopen: median {median:.1} ms, max {max:.1} ms");
    println!("took: {:.1} s", took.as_secs_f64());
    for problem in &s.problems {
        println!("PROBLEM {problem}");
    }
}
