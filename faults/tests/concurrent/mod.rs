//! What the concurrent fault tests (`group_commit`, `write_groups`) share:
//! cheap store options, the stored user they start from, a runner that
//! calls a hang a deadlock, and the loop that faults each sync of a run.

use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use rosterdb::{NewUser, Store};
use rosterdb_faults::{Fault, FaultyDisk, Survivors};
use serde_json::json;

/// Writer threads of the concurrent runs.
pub const THREADS: usize = 8;
/// How long a test's threads may run before the test calls it a deadlock.
pub const WATCHDOG: Duration = Duration::from_secs(120);
/// How long a sync takes in the runs that count shared syncs, as a real
/// disk's flush takes time. Long against a write's CPU time even in a
/// debug build on a loaded 2-core machine (a 2 ms flush once let a CI run
/// form groups of 1.8 writers on average), so that while one group's sync
/// runs, the other writers reach the next group.
pub const SLOW_SYNC: Duration = Duration::from_millis(10);

/// Store options with the cheapest Argon2id cost.
pub use rosterdb_faults::cheap_options as options;

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

/// What one writer thread was told: the last write acknowledged, and the
/// last one attempted.
#[derive(Clone, Copy, Debug)]
pub struct Told {
    pub acknowledged: u64,
    pub attempted: u64,
}

/// For each sync of a concurrent run in turn (until the run makes no more
/// syncs), runs it again from `image` with `fault` at that sync, then
/// crashes the disk keeping none, all, or every other unsynced write; each
/// reopened store must pass `check` and take `write_after`. Returns how
/// many syncs were faulted.
pub fn fault_every_sync(
    image: &[u8],
    fault: impl Fn(u64) -> Fault,
    each: u64,
    run: impl Fn(&Arc<Store>, u64) -> Vec<Told>,
    check: impl Fn(&Store, &[Told], &str),
    write_after: impl Fn(&Store, u64) -> rosterdb::Result<()>,
) -> u64 {
    let mut nth = 0;
    loop {
        let disk = FaultyDisk::from_image(image.to_vec());
        let store = Arc::new(open(&disk));
        disk.arm(fault(nth));
        let told = run(&store, each);
        if disk.fired() == 0 {
            // The run ended before reaching that sync: every sync was tried.
            assert!(told.iter().all(|t| t.acknowledged == each), "{told:?}");
            return nth;
        }
        let lost = told.iter().filter(|t| t.acknowledged < t.attempted).count();
        assert!(lost > 0, "sync {nth}: no write failed");
        drop(store);
        let every_other = (0..disk.unsynced().len()).step_by(2).collect();
        for survivors in [
            Survivors::None,
            Survivors::All,
            Survivors::Only(every_other),
        ] {
            let what = format!(
                "{:?} at sync {nth}, crash keeping {survivors:?}",
                fault(nth)
            );
            let reopened = open(&disk.crash(&survivors));
            check(&reopened, &told, &what);
            write_after(&reopened, each + 1)
                .unwrap_or_else(|e| panic!("{what}: a new write failed: {e:?}"));
        }
        nth += 1;
    }
}
