//! The workloads as the harness runs them: their names, their targets (docs/BENCHMARKS.md),
//! fixed parameters, and one driver that runs any of them on any store.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::population::email;
use crate::workloads::{BenchError, BenchResult, PAGE, WRITERS, Workloads};

/// `lastName like` pattern of the filtered page (a substring no index prefix
/// can serve, matching 5 of the 37 last names).
pub const LIKE: &str = "%er%";
/// Role of the filtered page.
pub const FILTER_ROLE: u64 = 3;
/// Role of the count.
pub const COUNT_ROLE: u64 = 4;
/// The `search` term (Müller, in username, e-mail and last name).
pub const SEARCH: &str = "ller";
/// The `email co` part.
pub const EMAIL_PART: &str = "42";
/// The page the offset workload reads (1-based, [`PAGE`] per page; the
/// last full page on a smaller store).
pub const OFFSET_PAGE: u64 = 100;
/// Deepest cursor page measured (fewer on smaller stores: half the pages).
pub const CURSOR_DEPTH: u64 = 1_000;

/// A timed benchmark workload (docs/BENCHMARKS.md; bulk import is timed by the caller, which
/// needs a fresh store per run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `get` of a user by id (whole document).
    GetById,
    /// `get_by_email` (caseless).
    GetByEmail,
    /// Page of 100: enabled, role, `lastName like`, sorted by lastName.
    FilteredPage,
    /// `search`, first page of 100.
    Search,
    /// `email co`, first page of 100.
    EmailContains,
    /// Page 1 of the lastName-sorted walk.
    CursorFirst,
    /// A page deep in the lastName-sorted walk, from its cursor.
    CursorDeep,
    /// `count` of enabled holders of a role.
    Count,
    /// Page 100 via offset, sorted by lastName.
    OffsetPage,
    /// One durable patch of one attribute.
    Patch,
    /// [`WRITERS`] threads patching concurrently (time per patch); SQLite's
    /// threads share one connection behind a mutex.
    Concurrent,
    /// The same, SQLite's threads each with a connection of its own
    /// (`busy_timeout`).
    ConcurrentOwnConnections,
}

impl Workload {
    /// Every timed workload, in report order.
    pub const ALL: [Workload; 12] = [
        Workload::GetById,
        Workload::GetByEmail,
        Workload::FilteredPage,
        Workload::Search,
        Workload::EmailContains,
        Workload::CursorFirst,
        Workload::CursorDeep,
        Workload::Count,
        Workload::OffsetPage,
        Workload::Patch,
        Workload::Concurrent,
        Workload::ConcurrentOwnConnections,
    ];

    /// A short identifier (criterion ids, chart labels).
    pub fn id(self) -> &'static str {
        match self {
            Workload::GetById => "get_by_id",
            Workload::GetByEmail => "get_by_email",
            Workload::FilteredPage => "filtered_page",
            Workload::Search => "search",
            Workload::EmailContains => "email_co",
            Workload::CursorFirst => "cursor_page_1",
            Workload::CursorDeep => "cursor_page_deep",
            Workload::Count => "count",
            Workload::OffsetPage => "offset_page_100",
            Workload::Patch => "patch",
            Workload::Concurrent => "8_writers",
            Workload::ConcurrentOwnConnections => "8_writers_own_conn",
        }
    }

    /// What it does, for the report.
    pub fn describe(self) -> String {
        match self {
            Workload::GetById => "get by id".into(),
            Workload::GetByEmail => "get by email".into(),
            Workload::FilteredPage => format!(
                "page of 100: `enabled = true and roles eq {FILTER_ROLE} and lastName like '{LIKE}'`, sorted by lastName"
            ),
            Workload::Search => format!("`search` '{SEARCH}', first page"),
            Workload::EmailContains => format!("`email co '{EMAIL_PART}'`, first page"),
            Workload::CursorFirst => "page 1 sorted by lastName (cursor walk)".into(),
            Workload::CursorDeep => "cursor page deep in the walk (depth in the notes)".into(),
            Workload::Count => format!("count `enabled = true and roles eq {COUNT_ROLE}`"),
            Workload::OffsetPage => format!("page {OFFSET_PAGE} via offset, sorted by lastName"),
            Workload::Patch => "single durable patch of one attribute".into(),
            Workload::Concurrent => format!(
                "{WRITERS} threads patching (time per patch); SQLite: one connection shared behind a mutex"
            ),
            Workload::ConcurrentOwnConnections => format!(
                "{WRITERS} threads patching (time per patch); SQLite: a connection per thread, `busy_timeout`"
            ),
        }
    }

    /// The workload's target, as the report states it.
    pub fn target(self) -> &'static str {
        match self {
            Workload::GetById => "≥ 3× (≤ 1 µs at 1M)",
            Workload::GetByEmail => "≥ 3× (≤ 2 µs at 1M)",
            Workload::FilteredPage => "≥ 3× (≤ 1 ms at 1M)",
            Workload::Search | Workload::EmailContains => "≥ 10× (≤ 5 ms at 1M)",
            Workload::CursorFirst => "—",
            Workload::CursorDeep => "= page 1",
            Workload::Count => "≥ 2×",
            Workload::OffsetPage => "—",
            Workload::Patch => "≥ 0.6× and ≥ 40% of raw fdatasync",
            Workload::Concurrent | Workload::ConcurrentOwnConnections => "≥ 2×",
        }
    }

    /// The ratio (SQLite time / rosterdb time) the target asks for, when it
    /// is a ratio.
    pub fn min_ratio(self) -> Option<f64> {
        match self {
            Workload::GetById | Workload::GetByEmail | Workload::FilteredPage => Some(3.0),
            Workload::Search | Workload::EmailContains => Some(10.0),
            Workload::Count | Workload::Concurrent | Workload::ConcurrentOwnConnections => {
                Some(2.0)
            }
            Workload::Patch => Some(0.6),
            Workload::CursorFirst | Workload::CursorDeep | Workload::OffsetPage => None,
        }
    }

    /// Whether it writes (the memory probe runs only the reads).
    pub fn writes(self) -> bool {
        matches!(
            self,
            Workload::Patch | Workload::Concurrent | Workload::ConcurrentOwnConnections
        )
    }

    /// Operations one iteration performs (the concurrent workload patches
    /// [`WRITERS`] users per iteration).
    pub fn ops_per_iteration(self) -> u64 {
        match self {
            Workload::Concurrent | Workload::ConcurrentOwnConnections => WRITERS as u64,
            _ => 1,
        }
    }
}

/// How many users' e-mails the `get by email` workload looks up, in turn:
/// as many as one batch of gets by id reaches, so that both gets find the
/// store's pages as cold in the CPU's caches (until round 11 it was 256,
/// which stayed in them).
pub const EMAILS: u64 = 1 << 16;

/// Per-store state of a run: the population size, e-mails to look up, the
/// deep cursor, and counters that make every patch touch another user.
pub struct Fixture<C> {
    users: u64,
    emails: Vec<String>,
    deep: Option<C>,
    depth: u64,
    offset: u64,
    step: AtomicU64,
}

impl<C: Clone> Fixture<C> {
    /// Prepares the workloads on `store` holding users `1..=users`: walks the
    /// lastName-sorted pages to the deep cursor.
    ///
    /// # Errors
    ///
    /// What the walk raises.
    pub fn new<W: Workloads<Cursor = C>>(store: &W, users: u64) -> BenchResult<Fixture<C>> {
        let emails = (0..users.min(EMAILS))
            .map(|k: u64| email(k.wrapping_mul(7_919).checked_rem(users).unwrap_or(0)))
            .collect();
        let depth = CURSOR_DEPTH.min(users.checked_div(crate::workloads::TWO_PAGES).unwrap_or(0));
        let mut cursor: Option<C> = None;
        for _ in 0..depth {
            let (_, next) = store.sorted_page(cursor.as_ref())?;
            cursor = Some(next.ok_or_else(|| BenchError::Missing("a next cursor".into()))?);
        }
        Ok(Fixture {
            users,
            emails,
            deep: cursor,
            depth,
            offset: OFFSET_PAGE
                .saturating_sub(1)
                .saturating_mul(PAGE as u64)
                .min(users.saturating_sub(PAGE as u64)),
            step: AtomicU64::new(0),
        })
    }

    /// How many pages deep the deep cursor page is (0: no deep cursor).
    pub fn depth(&self) -> u64 {
        self.depth
    }

    /// The next step's number (each call one more, from 0).
    pub fn next(&self) -> u64 {
        self.step.fetch_add(1, Ordering::Relaxed)
    }

    /// A user id (from 1) that the `k`th step visits, spread over the store.
    pub fn id(&self, k: u64) -> u64 {
        k.wrapping_mul(7_919)
            .checked_rem(self.users)
            .unwrap_or(0)
            .saturating_add(1)
    }
}

/// Runs `iterations` iterations of `workload` on `store`; returns a number
/// derived from the results (so nothing is optimised away).
///
/// # Errors
///
/// What the store raises, or `Missing` for a deep cursor on a store too
/// small to have one.
pub fn run<W: Workloads>(
    store: &W,
    fx: &Fixture<W::Cursor>,
    workload: Workload,
    iterations: u64,
) -> BenchResult<u64> {
    let mut acc = 0_u64;
    for _ in 0..iterations {
        let k = fx.next();
        let got = match workload {
            Workload::GetById => store.get_by_id(fx.id(k))?,
            Workload::GetByEmail => {
                let i = usize::try_from(k)
                    .unwrap_or(0)
                    .checked_rem(fx.emails.len())
                    .unwrap_or(0);
                let email = fx
                    .emails
                    .get(i)
                    .ok_or_else(|| BenchError::Missing("an e-mail to look up".into()))?;
                store.get_by_email(email)?
            }
            Workload::FilteredPage => len(store.filtered_page(FILTER_ROLE, LIKE)?),
            Workload::Search => len(store.search(SEARCH)?),
            Workload::EmailContains => len(store.email_contains(EMAIL_PART)?),
            Workload::CursorFirst => len(store.sorted_page(None)?.0),
            Workload::CursorDeep => {
                let deep = fx
                    .deep
                    .as_ref()
                    .ok_or_else(|| BenchError::Missing("a deep cursor".into()))?;
                len(store.sorted_page(Some(deep))?.0)
            }
            Workload::Count => store.count_enabled_role(COUNT_ROLE)?,
            Workload::OffsetPage => len(store.offset_page(fx.offset)?),
            Workload::Patch => {
                store.patch_attribute(fx.id(k), "title", &format!("v{k}"))?;
                1
            }
            Workload::Concurrent => {
                return concurrent(store, fx, iterations, false);
            }
            Workload::ConcurrentOwnConnections => {
                return concurrent(store, fx, iterations, true);
            }
        };
        acc = acc.wrapping_add(got);
    }
    Ok(acc)
}

/// [`WRITERS`] threads, each patching `per_thread` users (all distinct) in
/// turn; returns the number of patches.
fn concurrent<W: Workloads>(
    store: &W,
    fx: &Fixture<W::Cursor>,
    per_thread: u64,
    own_connections: bool,
) -> BenchResult<u64> {
    let ids: Vec<Vec<u64>> = (0..WRITERS)
        .map(|_| (0..per_thread).map(|_| fx.id(fx.next())).collect())
        .collect();
    let value = format!("w{}", fx.next());
    if own_connections {
        store.patch_concurrently_own_connections(&ids, &value)?;
    } else {
        store.patch_concurrently(&ids, &value)?;
    }
    Ok(per_thread.saturating_mul(WRITERS as u64))
}

fn len(ids: Vec<u64>) -> u64 {
    u64::try_from(ids.len()).unwrap_or(u64::MAX)
}
