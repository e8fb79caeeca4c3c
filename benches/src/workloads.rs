//! The benchmark workloads (docs/BENCHMARKS.md) as one trait, so the harness runs both stores
//! alike.

use rosterdb::NewUser;

/// Users per page in every page workload.
pub const PAGE: usize = 100;
/// [`PAGE`] twice, as a u64.
pub(crate) const TWO_PAGES: u64 = 200;

/// What a benchmark step can fail with.
#[derive(Debug)]
pub enum BenchError {
    /// rosterdb refused or failed.
    Roster(rosterdb::Error),
    /// SQLite refused or failed.
    Sqlite(rusqlite::Error),
    /// A JSON document (SQLite attributes) did not parse or serialise.
    Json(serde_json::Error),
    /// A file operation of the harness failed.
    Io(std::io::Error),
    /// A result the workload expects was missing (named in the message).
    Missing(String),
}

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BenchError::Roster(e) => write!(f, "rosterdb: {e}"),
            BenchError::Sqlite(e) => write!(f, "sqlite: {e}"),
            BenchError::Json(e) => write!(f, "json: {e}"),
            BenchError::Io(e) => write!(f, "io: {e}"),
            BenchError::Missing(what) => write!(f, "missing: {what}"),
        }
    }
}

impl std::error::Error for BenchError {}

impl From<rosterdb::Error> for BenchError {
    fn from(e: rosterdb::Error) -> Self {
        BenchError::Roster(e)
    }
}

impl From<rusqlite::Error> for BenchError {
    fn from(e: rusqlite::Error) -> Self {
        BenchError::Sqlite(e)
    }
}

impl From<serde_json::Error> for BenchError {
    fn from(e: serde_json::Error) -> Self {
        BenchError::Json(e)
    }
}

impl From<std::io::Error> for BenchError {
    fn from(e: std::io::Error) -> Self {
        BenchError::Io(e)
    }
}

/// A benchmark step's result.
pub type BenchResult<T> = std::result::Result<T, BenchError>;

/// The benchmark workloads (docs/BENCHMARKS.md) over a store holding a seeded population (see
/// [`crate::population`]) and roles `1..=ROLES`. Every read returns the
/// ids it found (after decoding whole documents, as an application would),
/// so that a test can check both stores give the same answers.
pub trait Workloads: Sync {
    /// A position in the lastName-sorted walk, from [`Workloads::sorted_page`].
    type Cursor: Clone + Send + Sync;

    /// The store's name in reports.
    fn name(&self) -> &'static str;

    /// Imports `users` in one durable transaction.
    fn import(&self, users: Vec<NewUser>) -> BenchResult<()>;

    /// The user with this id, decoded; returns its id.
    fn get_by_id(&self, id: u64) -> BenchResult<u64>;

    /// The user with this e-mail (caseless, no tenant), decoded; returns its id.
    fn get_by_email(&self, email: &str) -> BenchResult<u64>;

    /// First page of [`PAGE`] users with `enabled = true and roles eq role
    /// and lastName like pattern`, sorted by lastName (caseless, then exact,
    /// then id).
    fn filtered_page(&self, role: u64, pattern: &str) -> BenchResult<Vec<u64>>;

    /// First page of [`PAGE`] users (by id) where the one-word `term` occurs,
    /// caseless, in username, email, firstName, lastName or nickname.
    fn search(&self, term: &str) -> BenchResult<Vec<u64>>;

    /// First page of [`PAGE`] users (by id) whose e-mail contains `part`
    /// (`email co 'part'`, caseless).
    fn email_contains(&self, part: &str) -> BenchResult<Vec<u64>>;

    /// The page of [`PAGE`] users sorted by lastName after `after` (the
    /// first page when `None`), and the cursor to the next one.
    fn sorted_page(
        &self,
        after: Option<&Self::Cursor>,
    ) -> BenchResult<(Vec<u64>, Option<Self::Cursor>)>;

    /// [`PAGE`] users sorted by lastName from position `offset` (0-based).
    fn offset_page(&self, offset: u64) -> BenchResult<Vec<u64>>;

    /// The number of users with `enabled = true and roles eq role`.
    fn count_enabled_role(&self, role: u64) -> BenchResult<u64>;

    /// Sets `attributes.<key>` of user `id` to `value` in one durable
    /// transaction (read, change, write, commit).
    fn patch_attribute(&self, id: u64, key: &str, value: &str) -> BenchResult<()>;

    /// Runs one writer thread per entry of `ids`, each patching its users
    /// one durable transaction at a time (as [`Workloads::patch_attribute`]).
    /// At most [`WRITERS`] threads.
    fn patch_concurrently(&self, ids: &[Vec<u64>], value: &str) -> BenchResult<()>;

    /// As [`Workloads::patch_concurrently`], for a store where each writer
    /// thread may instead hold a connection of its own and wait on the
    /// store's lock (SQLite with `busy_timeout`); the same by default.
    fn patch_concurrently_own_connections(&self, ids: &[Vec<u64>], value: &str) -> BenchResult<()> {
        self.patch_concurrently(ids, value)
    }
}

/// Writer threads in the concurrent workload.
pub const WRITERS: usize = 8;
