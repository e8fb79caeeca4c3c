//! The parent mode: spawns the child on one store file again and again,
//! SIGKILLs it at a seeded random moment, reopens the store and checks it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rosterdb::Store;

use crate::error::{self, HarnessError, Result};
use crate::model::Model;
use crate::protocol::{self, Effect, Line};
use crate::rng::Rng;
use crate::verify::{self, InFlight};
use crate::{probe, snapshot};

/// Most acknowledgements the parent waits for before a kill (about three
/// cycles of the child's fifteen calls).
const MAX_ACKS_BEFORE_KILL: u64 = 45;
/// Longest wait after the last awaited acknowledgement, in microseconds.
const MAX_DELAY_AFTER_ACK_US: u64 = 4_000;
/// Longest wait after spawning when no acknowledgement is awaited (a kill
/// while the child opens, and maybe recovers, the store), in microseconds.
const MAX_DELAY_AFTER_SPAWN_US: u64 = 30_000;

/// What a parent run does.
#[derive(Clone, Debug)]
pub struct Config {
    /// How many times to kill the child.
    pub kills: u64,
    /// The seed of every random choice (kill moments).
    pub seed: u64,
    /// The store file.
    pub db: PathBuf,
    /// The harness binary, run as the child.
    pub exe: PathBuf,
}

/// The figures of a parent run.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Kills done (and checked).
    pub kills: u64,
    /// Writes the child acknowledged over all runs.
    pub acked: u64,
    /// Acknowledged records compared with the store, summed over the kills
    /// (each is compared again after every later kill).
    pub records_checked: u64,
    /// Everything found wrong: lost, changed or half-applied writes, a
    /// change log or index that disagrees. Empty on success.
    pub problems: Vec<String>,
    /// Kills with the call in flight applied whole.
    pub applied: u64,
    /// Kills with the call in flight not applied at all.
    pub not_applied: u64,
    /// Kills with no call in flight (between calls, or during the open).
    pub idle: u64,
    /// Per call name: in flight and applied, in flight and not applied.
    pub by_op: BTreeMap<String, (u64, u64)>,
    /// How long each reopen after a kill took.
    pub reopen: Vec<Duration>,
}

impl Summary {
    /// The median and the longest reopen time, in milliseconds.
    pub fn reopen_ms(&self) -> (f64, f64) {
        let mut times: Vec<f64> = self.reopen.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
        (median, times.last().copied().unwrap_or(0.0))
    }
}

/// Kills the child `config.kills` times and checks the store after each;
/// stops at the first kill whose checks find a problem.
pub fn run(config: &Config) -> Result<Summary> {
    let mut rng = Rng::new(config.seed);
    let mut model = Model::default();
    let mut summary = Summary::default();
    for run in 1..=config.kills {
        let inflight = kill_once(config, run, &mut rng, &mut model)?;
        let started = Instant::now();
        let store = Store::open(&config.db, protocol::options())
            .map_err(error::store(format!("reopen after kill {run}")))?;
        summary.reopen.push(started.elapsed());
        let effect = inflight.as_ref().map(|(_, e)| e);
        let mut findings = verify::verify(&store, &model, effect)?;
        let outcome = probe::failures(
            &store,
            &model,
            effect,
            findings.inflight,
            &mut findings.problems,
        )?;
        probe::new_write(&store, run, &mut findings.problems)?;
        summary.kills = run;
        summary.acked = model.acked;
        summary.records_checked = summary.records_checked.saturating_add(findings.records);
        tally(
            &mut summary,
            inflight.as_ref().map(|(op, _)| op.as_str()),
            outcome,
        );
        if !findings.problems.is_empty() {
            summary.problems.extend(
                findings
                    .problems
                    .into_iter()
                    .map(|p| format!("kill {run}: {p}")),
            );
            return Ok(summary);
        }
        if let (Some(effect), InFlight::Applied) = (effect, outcome) {
            for delete in &effect.deletes {
                model.forget((delete.kind, delete.id));
            }
        }
        model.adopt(snapshot::read(&store)?, findings.sessions);
        if run % 50 == 0 {
            eprintln!(
                "rosterdb-crash: {run} kills checked, {} writes acknowledged",
                model.acked
            );
        }
    }
    Ok(summary)
}

/// Counts what became of the call in flight.
fn tally(summary: &mut Summary, op: Option<&str>, outcome: InFlight) {
    let counts = op.map(|op| summary.by_op.entry(op.to_owned()).or_default());
    match (outcome, counts) {
        (InFlight::Applied, Some(c)) => {
            c.0 = c.0.saturating_add(1);
            summary.applied = summary.applied.saturating_add(1);
        }
        (InFlight::NotApplied | InFlight::Unknown, Some(c)) => {
            c.1 = c.1.saturating_add(1);
            summary.not_applied = summary.not_applied.saturating_add(1);
        }
        _ => summary.idle = summary.idle.saturating_add(1),
    }
}

/// The call announced and not yet acknowledged: its sequence number, name and effect.
type Pending = Option<(u64, String, Effect)>;

/// Takes one line of the child's output into the model.
fn take(text: &str, model: &mut Model, pending: &mut Pending) -> Result<bool> {
    let line: Line = serde_json::from_str(text).map_err(error::json("a child's line"))?;
    match line {
        Line::Intent { n, op, effect } => {
            if let Some((m, ..)) = pending {
                return Err(HarnessError::Unexpected {
                    op,
                    detail: format!("intent {n} while {m} is unacknowledged"),
                });
            }
            *pending = Some((n, op, effect));
            Ok(false)
        }
        Line::Ack { n, docs, token } => {
            let Some((m, op, effect)) = pending.take() else {
                return Err(HarnessError::Unexpected {
                    op: "ack".into(),
                    detail: format!("acknowledgement {n} without an intent"),
                });
            };
            if m != n {
                return Err(HarnessError::Unexpected {
                    op,
                    detail: format!("acknowledgement {n} for intent {m}"),
                });
            }
            model
                .acknowledge(&effect, &docs, token.as_deref())
                .map_err(|detail| HarnessError::Unexpected { op, detail })?;
            Ok(true)
        }
    }
}

/// Runs the child once and kills it at a random moment; every line it
/// wrote is taken into the model. Returns the call in flight at the kill.
fn kill_once(
    config: &Config,
    run: u64,
    rng: &mut Rng,
    model: &mut Model,
) -> Result<Option<(String, Effect)>> {
    let mut child = Command::new(&config.exe)
        .arg("child")
        .arg("--db")
        .arg(&config.db)
        .arg("--run")
        .arg(run.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(error::io("spawning the child"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| HarnessError::Unexpected {
            op: "spawn".into(),
            detail: "the child has no stdout pipe".into(),
        })?;
    let mut reader = BufReader::new(stdout);
    let mut pending: Pending = None;
    let target = rng.up_to(MAX_ACKS_BEFORE_KILL);
    let mut acks = 0;
    let mut text = String::new();
    let delay = if target == 0 {
        MAX_DELAY_AFTER_SPAWN_US
    } else {
        MAX_DELAY_AFTER_ACK_US
    };
    while acks < target {
        text.clear();
        let read = reader
            .read_line(&mut text)
            .map_err(error::io("reading the child"))?;
        if read == 0 || !text.ends_with('\n') {
            let status = child.wait().map_err(error::io("waiting for the child"))?;
            return Err(HarnessError::Unexpected {
                op: format!("child run {run}"),
                detail: format!("ended by itself before the kill: {status}"),
            });
        }
        if take(&text, model, &mut pending)? {
            acks = acks.saturating_add(1);
        }
    }
    std::thread::sleep(Duration::from_micros(rng.up_to(delay)));
    child.kill().map_err(error::io("killing the child"))?;
    let status = child.wait().map_err(error::io("waiting for the child"))?;
    loop {
        text.clear();
        let read = reader
            .read_line(&mut text)
            .map_err(error::io("reading the child"))?;
        // A last line cut short by the kill was never complete: its call
        // had not started (an intent) or stays in flight (an ack).
        if read == 0 || !text.ends_with('\n') {
            break;
        }
        take(&text, model, &mut pending)?;
    }
    if status.signal() != Some(9) {
        return Err(HarnessError::Unexpected {
            op: format!("child run {run}"),
            detail: format!("ended by itself, not by the kill: {status}"),
        });
    }
    Ok(pending.map(|(_, op, effect)| (op, effect)))
}
