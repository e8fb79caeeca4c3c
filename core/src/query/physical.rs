//! The physical plan of a query: a plain value saying how a page, a count
//! or a test for existence is produced, made by the planner (`plan`), run by
//! the executor (`exec`) and shown by `explain` as its `Display`.
//!
//! ```text
//! Limit 100 offset 0
//!   Sort lastName asc, id asc (in memory)
//!     Filter enabled = true and lastName like 'ho%'
//!       Fetch users by id
//!         Index probes post.user.enabled = true
//!           Index lookup idx.user.last_name prefix 'ho' (150 ids)
//! Total: the candidates that pass the filter
//! ```
//!
//! The text holds only the query's own conditions, index names and, in an
//! unscoped store, the number of candidate ids; a scoped view's plan shows
//! no count and depends only on the tenant's own records, so it tells
//! nothing of other tenants.

use std::fmt;

use super::access::{Access, IndexTable, Span};
use super::bind::{SortBy, Start};
use super::check::{Filter, Scalar};
use super::cursor::QueryParts;
use super::plan::SMALL;
use crate::EntityKind;
use crate::storage::postings::IdSet;

/// How a query's matches are produced, and what is read to count them.
#[derive(Clone, Debug, PartialEq)]
pub struct PhysicalPlan {
    /// The kind of record read.
    pub kind: EntityKind,
    /// Where the candidates come from, and in which order.
    pub access: AccessPath,
    /// The posting set every candidate of a sort-index walk must be in,
    /// checked before its record is read (the conditions that read
    /// postings, intersected).
    pub members: Option<Members>,
    /// Index checks of each candidate id before its record is read (only
    /// on paths that fetch records by id; the most rejecting runs first,
    /// learnt as candidates go by).
    pub probes: Vec<Probe>,
    /// The residual filter: the whole filter, checked on every record read.
    pub filter: Option<Filter>,
    /// The sort keys; `id` ascending is always the final tie-breaker.
    pub sort: Vec<SortBy>,
    /// Where the page starts: after skipping matches, or after a cursor's position.
    pub start: Start,
    /// The page size, 1 to [`MAX_PAGE_SIZE`](super::MAX_PAGE_SIZE).
    pub size: usize,
    /// The top-level fields returned (`id` first), when the query names them.
    pub projection: Option<Vec<&'static str>>,
    /// How the matches are counted (by `count`, and for `withTotal`).
    pub count: Count,
    /// Whether a page carries the total.
    pub with_total: bool,
    /// The tenant of a scoped view, `None` for the whole store.
    pub scope: Option<String>,
    /// The fields `search` looks in.
    pub search_fields: &'static [&'static str],
    /// The query a next page's cursor continues.
    pub continuation: QueryParts,
}

/// Where a plan's candidates come from, and in which order they arrive.
#[derive(Clone, Debug, PartialEq)]
pub enum AccessPath {
    /// Few candidates (fewer than `SMALL`), their ids read from an index
    /// while planning: their records are fetched, checked, and sorted in
    /// memory (by the sort keys, else by id).
    Candidates {
        /// The access that found them.
        access: Access,
        /// The candidate ids, ascending.
        ids: Vec<u64>,
    },
    /// Ids streamed in ascending order from an index access that holds
    /// every match; records fetched until the page is full.
    IndexIds {
        /// The access.
        access: Access,
        /// Why no access was small enough to read whole.
        reason: Reason,
        /// Its ids, when the planner read them (a posting access): all of
        /// them, or with `partial` its first ones in id order.
        ids: Option<IdSet>,
        /// Whether `ids` holds only the set's first ids: every id up to its
        /// last (whole chunks, or the start of the first chunk); the ids
        /// after it are read as the page streams.
        partial: bool,
    },
    /// The record table streamed in id order until the page is full.
    TableScan {
        /// Why no index was used.
        reason: Reason,
    },
    /// Every record of the table read; the matches sorted in memory.
    SortedTableScan {
        /// Why no index was used.
        reason: Reason,
    },
    /// The index of the first sort key walked in sort order, one run of
    /// equal values at a time (each run's ids ascending), within the key
    /// range conditions on that field allow; records fetched until the
    /// page is full.
    SortIndex {
        /// The index.
        index: IndexTable,
        /// The first key of the range walked.
        start: Vec<u8>,
        /// The key after the range walked (none: to the end).
        end: Option<Vec<u8>>,
        /// The conditions on the sort field that bound the range.
        within: Vec<Span>,
        /// Conditions on the sort field (a text field) decided once per
        /// run from the value its index key holds: a run that fails one
        /// is passed over without reading its ids (its records still meet
        /// the whole filter when read).
        run_check: Vec<Filter>,
        /// Whether the runs are walked from the last (a descending first key).
        descending: bool,
        /// Whether each run is sorted in memory by the other sort keys
        /// (more than one sort key) rather than streamed by id.
        sort_runs: bool,
        /// Why no access was small enough to read whole.
        reason: Reason,
    },
}

/// A posting set candidates are checked against before their records are read.
#[derive(Clone, Debug, PartialEq)]
pub struct Members {
    /// The access whose ids the candidates must be among.
    pub access: Access,
    /// Its ids, when the planner read them whole.
    pub ids: Option<IdSet>,
}

/// Why a plan streams rather than reading a few candidates whole.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// The query has no filter.
    NoFilter,
    /// No condition of the filter has an index.
    NoIndexedCondition,
    /// Every indexed condition has `SMALL` candidates or more: these.
    Large(Vec<Access>),
    /// A scoped view with `SMALL` records or more (its plan never looks
    /// at other tenants' records).
    ScopedView,
}

/// An index check of a candidate id: the index must hold `prefix` + id.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// The index.
    pub index: IndexTable,
    /// The key before the id.
    pub prefix: Vec<u8>,
    /// The value the key stands for.
    pub value: Scalar,
}

/// How a plan counts its matches.
#[derive(Clone, Debug, PartialEq)]
pub enum Count {
    /// No filter: the number of records in the table.
    Table,
    /// One condition an index answers exactly: its keys, no record read.
    IndexKeys(Access),
    /// Every condition answered exactly by an index whose ids come in
    /// ascending order: the ids all of them hold, found by intersecting
    /// their posting bitmaps when every one reads postings, else by merging
    /// the index keys (leapfrog); no record read.
    Intersection(Vec<Access>),
    /// The matches of the access path: the candidates that pass the
    /// filter, or (on a streaming path) every record checked against it.
    Filtered,
}

impl PhysicalPlan {
    /// Whether the path fetches records by id (and so uses probes).
    fn fetches_by_id(&self) -> bool {
        !matches!(
            self.access,
            AccessPath::TableScan { .. } | AccessPath::SortedTableScan { .. }
        )
    }

    /// The name of the first sort key's field; `""` when unsorted.
    fn first_sort_field(&self) -> String {
        self.sort
            .first()
            .map(|s| s.field.name())
            .unwrap_or_default()
    }

    /// The operators from the top of the tree down.
    fn nodes(&self) -> Vec<String> {
        let mut nodes = Vec::new();
        if let Some(fields) = &self.projection {
            nodes.push(format!("Project {}", fields.join(", ")));
        }
        nodes.push(match &self.start {
            Start::Offset(n) => format!("Limit {} offset {n}", self.size),
            Start::After(_) => format!("Limit {} after the cursor's position", self.size),
        });
        let keys = || {
            let mut keys: Vec<String> = self.sort.iter().map(ToString::to_string).collect();
            keys.push("id asc".into());
            keys.join(", ")
        };
        match &self.access {
            AccessPath::Candidates { .. } | AccessPath::SortedTableScan { .. } => {
                nodes.push(format!("Sort {} (in memory)", keys()));
            }
            AccessPath::SortIndex {
                sort_runs: true, ..
            } => {
                nodes.push(format!(
                    "Sort {} (in memory, each run of equal {})",
                    keys(),
                    self.first_sort_field()
                ));
            }
            _ => {}
        }
        if let Some(filter) = &self.filter {
            nodes.push(format!("Filter {filter}"));
        }
        if self.fetches_by_id() {
            nodes.push(format!("Fetch {}s by id", self.kind));
            if let Some(members) = &self.members {
                nodes.push(format!("Posting check {}", members.access));
            }
            if !self.probes.is_empty() {
                let probes: Vec<String> = self
                    .probes
                    .iter()
                    .map(|p| format!("{} = {}", p.index, p.value))
                    .collect();
                nodes.push(format!("Index probes {}", probes.join(", ")));
            }
        }
        if let AccessPath::SortIndex { run_check, .. } = &self.access
            && !run_check.is_empty()
        {
            let checks: Vec<String> = run_check.iter().map(ToString::to_string).collect();
            nodes.push(format!(
                "Run check {} (once per run of equal {}, from its index key)",
                checks.join(" and "),
                self.first_sort_field()
            ));
        }
        nodes.push(match &self.access {
            AccessPath::Candidates { access, ids } => match (&self.scope, ids.len()) {
                (Some(_), _) => format!("Index lookup {access}"),
                (None, 1) => format!("Index lookup {access} (1 id)"),
                (None, n) => format!("Index lookup {access} ({n} ids)"),
            },
            AccessPath::IndexIds { access, reason, .. } => {
                format!("Index scan {access} (id order; {reason})")
            }
            AccessPath::TableScan { reason } => {
                format!("Table scan {}s (id order; {reason})", self.kind)
            }
            AccessPath::SortedTableScan { reason } => {
                format!("Table scan {}s ({reason})", self.kind)
            }
            AccessPath::SortIndex {
                index,
                within,
                descending,
                reason,
                ..
            } => {
                let first = self.first_sort_field();
                let direction = if *descending { "desc" } else { "asc" };
                let mut line = format!("Index scan {index}, {first} {direction}");
                if !within.is_empty() {
                    let spans: Vec<String> = within.iter().map(ToString::to_string).collect();
                    line.push_str(&format!(" within {}", spans.join(" and ")));
                }
                line.push_str(&format!(" ({reason})"));
                line
            }
        });
        nodes
    }

    /// The line saying how matches are counted.
    fn count_line(&self) -> String {
        let label = if self.with_total { "Total" } else { "Count" };
        let how = match (&self.count, &self.access) {
            (Count::Table, _) => format!("{}s table length, no records read", self.kind),
            (Count::IndexKeys(access), _) => {
                format!("index keys of {access}, no records read")
            }
            (Count::Intersection(accesses), _) => {
                let names: Vec<String> = accesses.iter().map(ToString::to_string).collect();
                let how = if accesses.iter().all(Access::is_postings) {
                    "their posting bitmaps intersected"
                } else {
                    "merged from index keys"
                };
                format!(
                    "ids in every one of {}, {how}, no records read",
                    names.join(" and ")
                )
            }
            (Count::Filtered, AccessPath::Candidates { .. }) => {
                "the candidates that pass the filter".to_owned()
            }
            (Count::Filtered, _) => format!("table scan of {}s with the filter", self.kind),
        };
        format!("{label}: {how}")
    }
}

/// An indented operator tree, the root first, then how matches are counted:
/// see the module documentation.
impl fmt::Display for PhysicalPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (depth, node) in self.nodes().iter().enumerate() {
            writeln!(f, "{:width$}{node}", "", width = depth.saturating_mul(2))?;
        }
        f.write_str(&self.count_line())
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoFilter => f.write_str("no filter"),
            Reason::NoIndexedCondition => f.write_str("no indexed condition"),
            Reason::Large(accesses) => {
                write!(f, "every index has {SMALL} or more candidates: ")?;
                for (n, access) in accesses.iter().enumerate() {
                    if n > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{access}")?;
                }
                Ok(())
            }
            Reason::ScopedView => f.write_str("scoped view"),
        }
    }
}

impl fmt::Display for SortBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let direction = if self.descending { "desc" } else { "asc" };
        write!(f, "{} {direction}", self.field)
    }
}
