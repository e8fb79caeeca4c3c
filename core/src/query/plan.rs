//! The planner (docs/reference/queries.md, "Results, paging and planning"): a bound query becomes a
//! [`PhysicalPlan`] — which index finds the candidates, in which order they are read, what is
//! left to check on each record, and how matches are counted.
//!
//! Every indexable conjunct of the filter gets an *access* (`access`): the
//! index keys that hold every record it can match. The planner counts each
//! access's candidates up to [`SMALL`]; the smallest becomes the *driver*. A
//! small driver's records are read, checked against the whole filter (the
//! residual) and sorted. Otherwise the page streams: in id order from an
//! ordered access or the record table, or in sort order from the index of
//! the first sort key, checking each record until the page is full, so page
//! 10,000 of a cursor walk costs what page 1 costs.

use super::access::{Access, IndexTable, Span, access, keyed, literal_key, tenant_access};
use super::bind::{Bound, SortBy};
use super::check::{Cmp, Field, Filter, Scalar};
use super::pattern::Case;
use super::physical::{AccessPath, Count, Members, PhysicalPlan, Probe, Reason};
use super::schema::{FieldDef, FieldType, search_fields};
use crate::storage::index::{IndexDef, index_of};
use crate::storage::postings::IdSet;
use crate::storage::tx::Tables;
use crate::{EntityKind, Result};

/// Drivers with fewer candidates than this are read whole and sorted.
pub const SMALL: usize = 256;

/// Drivers with at most this many candidates leave postings unread.
const TINY: usize = 64;

/// Plans a bound query: the one function behind `list`, `count`, `exists`
/// and `explain`. Reads index keys (up to [`SMALL`] + 1 per access) to
/// find a small driver; reads no record.
///
/// Errors: `Storage` when an index cannot be read.
pub fn plan(tables: &dyn Tables, bound: &Bound) -> Result<PhysicalPlan> {
    let kind = bound.kind;
    let filter = bound.filter.as_ref();
    // Without a total, a page that streams in id order or along a sort
    // index needs only to know whether the posting set is small.
    let early =
        !bound.with_total && (bound.sort.is_empty() || sort_index(kind, &bound.sort).is_some());
    let chosen = choose(tables, kind, filter, early)?;
    let all_probes = probes(kind, filter);
    // The posting conditions, read together: what the driver is, or what
    // each candidate of a sort-index walk is checked against.
    let postings = chosen.postings;
    let mut members = None;
    let access = match chosen.driver {
        Driver::Small { ids, access } => AccessPath::Candidates { access, ids },
        Driver::Stream {
            reason,
            ordered,
            ordered_ids,
            ordered_partial,
        } => {
            if bound.sort.is_empty() {
                match ordered {
                    Some(access) => AccessPath::IndexIds {
                        access,
                        reason,
                        ids: ordered_ids,
                        partial: ordered_partial,
                    },
                    None => AccessPath::TableScan { reason },
                }
            } else if let Some((index, def)) =
                sort_index(kind, &bound.sort).zip(sort_def(&bound.sort))
            {
                let run_check = run_check(filter, def);
                // The posting conditions neither a run check nor a probe
                // decides: candidates are checked against their intersection
                // (none in a scoped view, whose plan reads no posting set).
                let parts: Vec<Access> = filter
                    .filter(|_| postings.is_some())
                    .map(conjuncts)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| !run_check.iter().any(|r| r == *c))
                    .filter_map(|c| access(kind, c))
                    .filter(|a| a.is_postings() && !probed(a, &all_probes))
                    .collect();
                members = all_of(parts).map(|access| {
                    // The planner's set, when it read that very set whole.
                    let ids = ordered_ids
                        .filter(|_| !ordered_partial && postings.as_ref() == Some(&access));
                    Members { access, ids }
                });
                let index = IndexTable::of(index);
                let (start, end, within) = bounds(kind, filter, index);
                AccessPath::SortIndex {
                    index,
                    start,
                    end,
                    within,
                    run_check,
                    descending: bound.sort.first().is_some_and(|s| s.descending),
                    sort_runs: bound.sort.len() > 1,
                    reason,
                }
            } else {
                AccessPath::SortedTableScan { reason }
            }
        }
    };
    // Conditions the posting set checks need no probe of their own (a
    // sort-index walk's posting set leaves out what probes check).
    let covered = match (&access, &postings) {
        (_, None) => false,
        (AccessPath::Candidates { access, .. } | AccessPath::IndexIds { access, .. }, Some(p)) => {
            access == p
        }
        _ => false,
    };
    let probes = match access {
        AccessPath::TableScan { .. } | AccessPath::SortedTableScan { .. } => Vec::new(),
        _ => all_probes
            .into_iter()
            .filter(|p| !(covered && p.index.is_postings()))
            .collect(),
    };
    let count = match filter {
        None => Count::Table,
        Some(filter) => match exact_access(kind, filter) {
            Some(access) => Count::IndexKeys(access),
            // A few candidates are counted as read, unless postings count
            // them; more, from the index keys.
            None => match (&access, intersection(kind, filter)) {
                (_, Some(accesses)) if accesses.iter().all(Access::is_postings) => {
                    Count::Intersection(accesses)
                }
                (AccessPath::Candidates { .. }, _) | (_, None) => Count::Filtered,
                (_, Some(accesses)) => Count::Intersection(accesses),
            },
        },
    };
    Ok(PhysicalPlan {
        kind,
        access,
        members,
        probes,
        filter: bound.filter.clone(),
        sort: bound.sort.clone(),
        start: bound.start.clone(),
        size: bound.size,
        projection: bound.projection.clone(),
        count,
        with_total: bound.with_total,
        scope: bound.scope.clone(),
        search_fields: search_fields(kind),
        continuation: bound.parts.clone(),
    })
}

/// The conjuncts of a filter.
fn conjuncts(filter: &Filter) -> Vec<&Filter> {
    match filter {
        Filter::And(parts) => parts.iter().flat_map(conjuncts).collect(),
        other => vec![other],
    }
}

/// What [`choose`] found: the driver, and the intersection of the
/// conditions that read postings (when any do).
struct Chosen {
    driver: Driver,
    postings: Option<Access>,
}

/// The chosen way to find candidates.
enum Driver {
    /// Few enough candidates to read whole: these ids, ascending.
    Small {
        /// The candidate ids.
        ids: Vec<u64>,
        /// What found them.
        access: Access,
    },
    /// Too many candidates to read whole: stream them.
    Stream {
        /// Why no index narrowed the search.
        reason: Reason,
        /// An index whose ids come in ascending order and hold every match,
        /// to stream in id order instead of the whole record table.
        ordered: Option<Access>,
        /// Its ids, when they were read while planning (postings).
        ordered_ids: Option<IdSet>,
        /// Whether `ordered_ids` holds only the set's first ids (every id
        /// up to its last; the rest come after it).
        ordered_partial: bool,
    },
}

/// Picks the driver: the access with the fewest candidates, if it has few.
///
/// With `early` (an unsorted page without a total), the posting set is
/// read only as far as telling whether it is small: its first chunks in id
/// order, until it holds more than [`SMALL`] ids.
fn choose(
    tables: &dyn Tables,
    kind: EntityKind,
    filter: Option<&Filter>,
    early: bool,
) -> Result<Chosen> {
    let Some(filter) = filter else {
        return Ok(Chosen {
            driver: Driver::Stream {
                reason: Reason::NoFilter,
                ordered: None,
                ordered_ids: None,
                ordered_partial: false,
            },
            postings: None,
        });
    };
    if let Some(tenant) = conjuncts(filter).into_iter().find_map(|c| match c {
        Filter::TenantIs(t) => Some(t),
        _ => None,
    }) {
        return Ok(Chosen {
            driver: choose_scoped(tables, kind, filter, tenant)?,
            postings: None,
        });
    }
    let mut best: Option<(Vec<u64>, Access)> = None;
    let mut seen_large = Vec::new();
    let mut ordered = None;
    let mut postings = Vec::new();
    for conjunct in conjuncts(filter) {
        let Some(access) = access(kind, conjunct) else {
            continue;
        };
        if access.is_postings() {
            postings.push(access);
            continue;
        }
        let (ids, complete) = access.ids(tables, SMALL)?;
        if !complete {
            if ordered.is_none() && access.is_ordered() {
                ordered = Some(access.clone());
            }
            seen_large.push(access);
            continue;
        }
        if best.as_ref().is_none_or(|(b, _)| ids.len() < b.len()) {
            best = Some((ids, access));
        }
    }
    // The conditions that read postings are read together: their
    // intersection, which streams in id order before any other.
    let all = all_of(postings);
    let mut ordered_ids = None;
    let mut ordered_partial = false;
    // A driver of a few ids is not worth reading whole postings for: its
    // candidates are probed (a chunk of a posting each) or checked.
    let tiny = best.as_ref().is_some_and(|(b, _)| b.len() <= TINY);
    if let Some(all) = all.as_ref().filter(|_| !tiny)
        && let Some((set, whole)) = if early {
            all.first_ids(tables, SMALL as u64)?
        } else {
            all.id_set(tables)?.map(|set| (set, true))
        }
    {
        if set.len() > SMALL as u64 {
            ordered = Some(all.clone());
            // Read in part, the rest is read as the page streams.
            ordered_partial = !whole;
            ordered_ids = Some(set);
            seen_large.push(all.clone());
        } else if best
            .as_ref()
            .is_none_or(|(b, _)| (b.len() as u64) > set.len())
        {
            best = Some((set.iter().collect(), all.clone()));
        }
    }
    let driver = match best {
        Some((ids, access)) => Driver::Small { ids, access },
        None if seen_large.is_empty() => Driver::Stream {
            reason: Reason::NoIndexedCondition,
            ordered: None,
            ordered_ids: None,
            ordered_partial: false,
        },
        None => Driver::Stream {
            reason: Reason::Large(seen_large),
            ordered,
            ordered_ids,
            ordered_partial,
        },
    };
    Ok(Chosen {
        driver,
        postings: all,
    })
}

/// The intersection of posting accesses (each intersection among them
/// spliced in): the one access, or `None` for none.
fn all_of(accesses: Vec<Access>) -> Option<Access> {
    let mut parts = Vec::new();
    for access in accesses {
        match access {
            Access::All(inner) => parts.extend(inner),
            other => parts.push(other),
        }
    }
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Access::All(parts)),
    }
}

/// The driver of a scoped view's query. It depends only on the tenant's own
/// records and on the query's shape, never on how many records other tenants
/// have, so neither its speed nor `explain` tells anything of them: the
/// tenant's records when they are few, else a stream from the first
/// condition whose index yields ids in order.
fn choose_scoped(
    tables: &dyn Tables,
    kind: EntityKind,
    filter: &Filter,
    tenant: &str,
) -> Result<Driver> {
    let own = tenant_access(kind, tenant);
    if let Some(own) = &own {
        let (ids, complete) = own.ids(tables, SMALL)?;
        if complete {
            return Ok(Driver::Small {
                ids,
                access: own.clone(),
            });
        }
    }
    let ordered = conjuncts(filter)
        .into_iter()
        .filter(|c| !matches!(c, Filter::TenantIs(_)))
        .filter_map(|c| access(kind, c))
        .find(Access::is_ordered)
        .or(own);
    Ok(Driver::Stream {
        reason: Reason::ScopedView,
        ordered,
        ordered_ids: None,
        ordered_partial: false,
    })
}

/// The tightest key range the conjuncts put on `table` (an index the page
/// streams in order), so the stream can start and stop there, and the
/// conditions that bound it.
fn bounds(
    kind: EntityKind,
    filter: Option<&Filter>,
    wanted: IndexTable,
) -> (Vec<u8>, Option<Vec<u8>>, Vec<Span>) {
    let mut start: Vec<u8> = Vec::new();
    let mut end: Option<Vec<u8>> = None;
    let mut within = Vec::new();
    for conjunct in filter.map(conjuncts).unwrap_or_default() {
        if let Some(Access::Range {
            index,
            start: s,
            end: e,
            span,
            ..
        }) = access(kind, conjunct)
            && index == wanted
        {
            if s > start {
                start = s;
            }
            if let Some(e) = e
                && end.as_ref().is_none_or(|cur| e < *cur)
            {
                end = Some(e);
            }
            within.push(span);
        }
    }
    (start, end, within)
}

/// Conditions a record must meet that its id can be checked against in an
/// index without reading the record: a scoped view's tenant, and
/// `field = value` on indexed fields whose keys hold the whole value (not
/// strings, whose keys also hold the exact spelling). Each is a key prefix
/// to which the id is appended.
fn probes(kind: EntityKind, filter: Option<&Filter>) -> Vec<Probe> {
    let mut out = Vec::new();
    for conjunct in filter.map(conjuncts).unwrap_or_default() {
        if let Filter::TenantIs(tenant) = conjunct
            && let Some(Access::Range { index, start, .. }) = tenant_access(kind, tenant)
        {
            out.push(Probe {
                index,
                prefix: start,
                value: Scalar::Ident(tenant.clone()),
            });
        }
        if let Filter::Cmp {
            field: Field::Def(def),
            op: Cmp::Eq,
            value,
        } = conjunct
            && !matches!(def.ty, FieldType::Str | FieldType::Strs)
            && let Some(index) = index_of(kind, def.name)
            && let Some(key) = literal_key(def.ty, value)
        {
            out.push(Probe {
                index: IndexTable::of(index),
                prefix: key.into_bytes(),
                value: keyed(value),
            });
        }
    }
    out
}

/// Whether a probe checks exactly what `access` reads (one posting term).
fn probed(access: &Access, probes: &[Probe]) -> bool {
    matches!(access, Access::Range { index, start, .. }
        if probes.iter().any(|p| p.index == *index && p.prefix == *start))
}

/// The declared field of the first sort key, if it is one.
fn sort_def(sort: &[SortBy]) -> Option<&'static FieldDef> {
    match sort.first().map(|s| &s.field) {
        Some(Field::Def(def)) => Some(def),
        _ => None,
    }
}

/// The conjuncts of `filter` that a sort-index walk decides once per run
/// of equal values from the run's key, before reading any of its ids:
/// conditions on the sort field alone, when it is a text field (whose
/// index keys hold the exact text after its folded form).
fn run_check(filter: Option<&Filter>, sort: &FieldDef) -> Vec<Filter> {
    if sort.ty != FieldType::Str {
        return Vec::new();
    }
    let on_sort_field = |field: &Field| matches!(field, Field::Def(def) if def.name == sort.name);
    filter
        .map(conjuncts)
        .unwrap_or_default()
        .into_iter()
        .filter(|c| match c {
            Filter::Present(field)
            | Filter::Absent(field)
            | Filter::Cmp { field, .. }
            | Filter::In { field, .. }
            | Filter::Match { field, .. } => on_sort_field(field),
            _ => false,
        })
        .cloned()
        .collect()
}

/// The index that yields records in the order of the first sort key, if any.
///
/// Not for identifiers (`tenant`): their index is in folded order, their
/// sort exact (docs/reference/documents.md, Caseless matching), so a page sorted by one reads every
/// match and sorts.
fn sort_index(kind: EntityKind, sort: &[SortBy]) -> Option<&'static IndexDef> {
    match sort.first().map(|s| &s.field) {
        Some(Field::Def(def)) if def.ty != FieldType::Ident => {
            index_of(kind, def.name).filter(|_| def.ty.sortable())
        }
        _ => None,
    }
}

/// The accesses whose ids intersect to exactly the matches, when the filter
/// is a conjunction of conditions each of which an index answers exactly
/// with ids in ascending order (such as `enabled = true and roles eq 4`).
/// Depends on the query's shape alone, never on what the store holds.
fn intersection(kind: EntityKind, filter: &Filter) -> Option<Vec<Access>> {
    let parts = conjuncts(filter);
    if parts.len() < 2 {
        return None;
    }
    parts
        .into_iter()
        .map(|c| exact_access(kind, c).filter(Access::is_ordered))
        .collect()
}

/// The access whose index keys count the matches exactly, when the filter
/// is one condition an index answers exactly (no record needs reading).
fn exact_access(kind: EntityKind, filter: &Filter) -> Option<Access> {
    if let Filter::TenantIs(_) = filter {
        return access(kind, filter);
    }
    let (field, exact) = match filter {
        Filter::Cmp {
            value: Scalar::Time(_, nanos),
            ..
        } if *nanos > 0 => return None,
        Filter::Cmp { field, op, .. } => (field, *op != Cmp::Ne),
        Filter::Absent(field) | Filter::Present(field) => (field, true),
        Filter::In { field, values, .. } => {
            let distinct = values
                .iter()
                .enumerate()
                .all(|(i, v)| !values.iter().take(i).any(|w| w == v));
            let to_the_ms = !values
                .iter()
                .any(|v| matches!(v, Scalar::Time(_, n) if *n > 0));
            (field, distinct && to_the_ms)
        }
        // An exact pattern's index range also holds other cases of its prefix.
        Filter::Match { field, pattern, .. } => (
            field,
            pattern.prefix().is_some() && pattern.case() == Case::Folded,
        ),
        _ => return None,
    };
    let Field::Def(def) = field else {
        return None;
    };
    // Only an ordered index of the field itself answers exactly; a list
    // field puts one key per element, so only equality counts each record once.
    let indexed = index_of(kind, def.name).is_some();
    let scalar = def.ty.sortable() || matches!(filter, Filter::Cmp { op: Cmp::Eq, .. });
    if !exact || !scalar || !indexed {
        return None;
    }
    access(kind, filter)
}
