//! What the concurrent fault tests (`group_commit`, `write_groups`) share:
//! cheap store options, the stored user they start from, and a runner that
//! calls a hang a deadlock.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rosterdb::{Argon2Params, NewUser, Options, Store};
use rosterdb_faults::FaultyDisk;
use serde_json::json;

/// Writer threads of the concurrent runs.
pub const THREADS: usize = 8;
/// How long a test's threads may run before the test calls it a deadlock.
pub const WATCHDOG: Duration = Duration::from_secs(120);

/// Store options with the cheapest Argon2id cost, so tests spend no time
/// hashing.
fn options() -> Options {
    Options::default().with_argon2(Argon2Params {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    })
}

/// A store on `disk` with [`options`].
pub fn open(disk: &FaultyDisk) -> Store {
    Store::open_with_backend(disk.clone(), options()).unwrap()
}

/// User `name` (e-mail `name@example.com`) with attribute `n` = 0.
pub fn new_user(name: &str) -> NewUser {
    NewUser {
        attributes: json!({"n": 0}).as_object().cloned().unwrap(),
        ..NewUser::new(name, format!("{name}@example.com"), "First", "Last")
    }
}

/// Runs each job on its own thread and returns their results in order,
/// failing the test when any is still running after [`WATCHDOG`].
pub fn run_all<T: Send + 'static>(jobs: Vec<Box<dyn FnOnce() -> T + Send>>) -> Vec<T> {
    let (tx, rx) = mpsc::channel();
    let count = jobs.len();
    for (i, job) in jobs.into_iter().enumerate() {
        let tx = tx.clone();
        thread::spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            let _ = tx.send((i, result));
        });
    }
    let deadline = Instant::now() + WATCHDOG;
    let mut out: Vec<Option<T>> = (0..count).map(|_| None).collect();
    for _ in 0..count {
        let (i, result) = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("deadlock: threads still running after {WATCHDOG:?}"));
        match result {
            Ok(value) => out[i] = Some(value),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    out.into_iter().map(Option::unwrap).collect()
}
