//! Where proptest keeps the failures it finds, and how they come back.
//!
//! Every `proptest!` in `core/tests` takes its config through [`persisted`].
//! When a property fails, proptest appends the seed of the failing case to
//! `core/tests/regressions/<test target>.txt` (e.g. `model_tests.txt`),
//! with the shrunk value as a comment. Every later run of that target reads
//! the file first and replays each seed in it, newest first, before it
//! generates a single new case; the replayed case shrinks again to the same
//! value. So a found failure fails the next run at once, on every machine
//! once the file is committed: commit it with the fix, and keep it.
//! `PROPTEST_DISABLE_FAILURE_PERSISTENCE=1` turns this off for one run.

use proptest::test_runner::{Config, FileFailurePersistence};

/// The regressions file of the test target being compiled (each target
/// includes this module, so `CARGO_CRATE_NAME` is its name).
pub const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/regressions/",
    env!("CARGO_CRATE_NAME"),
    ".txt"
);

/// `config` with its failures kept in, and replayed from, [`REGRESSIONS`]
/// (unless `PROPTEST_DISABLE_FAILURE_PERSISTENCE` is set).
pub fn persisted(mut config: Config) -> Config {
    if std::env::var_os("PROPTEST_DISABLE_FAILURE_PERSISTENCE").is_some() {
        config.failure_persistence = None;
        config
    } else {
        persisted_in(config, REGRESSIONS)
    }
}

/// `config` with its failures kept in, and replayed from, the file `path`
/// (an absolute path, so the test's working directory does not matter).
pub fn persisted_in(mut config: Config, path: &'static str) -> Config {
    config.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(path)));
    config
}
