//! Execution: running a [`PhysicalPlan`] as it says, to produce a page, a
//! count or an answer to "does anything match". No decision is taken here:
//! which index, which order and which count were chosen by the planner.

use std::cell::RefCell;
use std::cmp::Ordering;

use super::access::{Access, ChunkedIds, IndexTable, sort_value_key};
use super::bind::Start;
use super::check::{Field, Filter};
use super::cursor::Cursor;
use super::eval::{matches, reads_attributes, value_matches};
use super::page::{MAX_PAGE_SIZE, Page};
use super::physical::{AccessPath, Count, PhysicalPlan};
use super::sort::{FoldMemo, Position, SortValue, compare};
use crate::documents::record::{Record, Stored};
use crate::documents::values::{FieldValue, Queryable};
use crate::storage::codec;
use crate::storage::entity::Entity;
use crate::storage::index::{ABSENT, PRESENT};
use crate::storage::keys::{prefix_end, read_text, trailing_u64};
use crate::storage::postings::{CHUNK_BITS, IdSet};
use crate::storage::run_counts;
use crate::storage::tx::Tables;
use crate::{Result, Timestamp};

mod posting_walk;

/// Index keys and records are read this many at a time.
const BATCH: usize = 256;
/// Candidates are checked this many at a time (a page needs about its size).
const TAKE: usize = 64;

/// One page of the plan's results, with its total when the plan counts one.
///
/// Errors: `Storage` when a table cannot be read or a record decoded.
pub(crate) fn page<E: Entity>(
    tables: &dyn Tables,
    plan: &PhysicalPlan,
    now: Timestamp,
) -> Result<Page<E>> {
    let total = if plan.with_total {
        Some(count::<E>(tables, plan, now)?)
    } else {
        None
    };
    let run = Run::new(plan, now);
    if let Some(page) = proven_page::<E>(tables, &run, total)? {
        return Ok(page);
    }
    let mut out = Collector::<E>::new(&run);
    let probes = Probes::new(plan);
    match &plan.access {
        AccessPath::Candidates { ids, .. } => {
            let found = matching_among::<E>(tables, &run, ids, &probes)?;
            take_sorted(&run, found, &mut out);
        }
        AccessPath::IndexIds {
            ids: Some(set),
            partial: false,
            ..
        } => {
            stream_set::<E>(tables, &run, set, &probes, &mut out)?;
        }
        AccessPath::IndexIds {
            ids: Some(set),
            partial: true,
            access,
            ..
        } => {
            // The set's ids (every candidate up to its last), then the ids
            // after them.
            if stream_set::<E>(tables, &run, set, &probes, &mut out)?
                && let Some(last) = set.last()
            {
                stream_access::<E>(tables, &run, access, last, &probes, &mut out)?;
            }
        }
        AccessPath::IndexIds { access, .. } => {
            stream_access::<E>(tables, &run, access, 0, &probes, &mut out)?;
        }
        AccessPath::TableScan { .. } => stream_by_id::<E>(tables, &run, &mut out)?,
        AccessPath::SortedTableScan { .. } => {
            let found = scan::<E>(tables, &run)?;
            take_sorted(&run, found, &mut out);
        }
        AccessPath::SortIndex {
            index,
            start,
            end,
            descending,
            sort_runs,
            run_check,
            ..
        } => {
            let walk = IndexWalk {
                index: *index,
                start: start.clone(),
                end: end.clone(),
                reverse: *descending,
                sort_runs: *sort_runs,
                run_check,
            };
            stream_by_index::<E>(tables, &run, &walk, &probes, &mut out)?;
        }
    }
    out.finish(total)
}

/// The number of matches, counted as the plan says.
///
/// Errors: `Storage` when a table cannot be read or a record decoded.
pub(crate) fn count<E: Entity>(
    tables: &dyn Tables,
    plan: &PhysicalPlan,
    now: Timestamp,
) -> Result<u64> {
    let run = Run::new(plan, now);
    match &plan.count {
        Count::Table => tables.record_count(E::TABLE),
        Count::IndexKeys(access) => access.count(tables),
        Count::Intersection(accesses) if accesses.iter().all(Access::is_postings) => {
            match &plan.access {
                // The planner read this intersection already.
                AccessPath::IndexIds {
                    access: Access::All(parts),
                    ids: Some(set),
                    partial: false,
                    ..
                } if parts == accesses => Ok(set.len()),
                AccessPath::Candidates {
                    access: Access::All(parts),
                    ids,
                } if parts == accesses => Ok(ids.len() as u64),
                _ => super::intersect::count_postings(tables, accesses),
            }
        }
        Count::Intersection(accesses) => super::intersect::count(tables, accesses),
        Count::Filtered => match &plan.access {
            // Every candidate is a match: their number.
            AccessPath::Candidates { ids, .. }
                if run.residual.is_none() && plan.probes.is_empty() =>
            {
                Ok(ids.len() as u64)
            }
            AccessPath::Candidates { ids, .. } => {
                let probes = Probes::new(plan);
                let found = matching_among::<E>(tables, &run, ids, &probes)?;
                Ok(found.len() as u64)
            }
            // Every candidate of a posting access is a match: its size.
            AccessPath::IndexIds { access, .. }
                if run.residual.is_none() && plan.probes.is_empty() && access.is_postings() =>
            {
                Ok(access.id_set(tables)?.map_or(0, |set| set.len()))
            }
            _ => {
                // The record table, not the candidates: the whole filter.
                let run = Run::checking_all(plan, now);
                let mut n: u64 = 0;
                scan_each::<E>(tables, &run, 0, |_| {
                    n = n.saturating_add(1);
                    true
                })?;
                Ok(n)
            }
        },
    }
}

/// Whether the plan yields a match (the plan of [`Bound::first_match`](super::bind::Bound::first_match)).
///
/// Errors: `Storage` when a table cannot be read or a record decoded.
pub(crate) fn exists<E: Entity>(
    tables: &dyn Tables,
    plan: &PhysicalPlan,
    now: Timestamp,
) -> Result<bool> {
    Ok(!page::<E>(tables, plan, now)?.items.is_empty())
}

/// A plan being run at one instant: what each record is checked and
/// positioned by.
struct Run<'p> {
    plan: &'p PhysicalPlan,
    /// The part of the plan's filter its candidates do not meet by
    /// construction (`proof`): what each record read is checked against.
    residual: Option<Filter>,
    /// Whether candidates may be checked and positioned in the form a read
    /// decodes to show the document (`Record::Stored`), then made into
    /// their documents straight from it: when neither the residual filter
    /// nor the sort reaches into `attributes`, which that form may not
    /// answer.
    stored: bool,
    descending: Vec<bool>,
    now: Timestamp,
    /// One memo of the last folded text per sort key (see
    /// [`SortValue::remembering`]).
    folds: RefCell<Vec<FoldMemo>>,
}

impl<'p> Run<'p> {
    fn new(plan: &'p PhysicalPlan, now: Timestamp) -> Run<'p> {
        Run::checking(plan, now, super::proof::residual(plan))
    }

    /// The plan run on records that do not come from its candidates (a
    /// scan of the record table): each is checked against the whole filter.
    fn checking_all(plan: &'p PhysicalPlan, now: Timestamp) -> Run<'p> {
        Run::checking(plan, now, plan.filter.clone())
    }

    fn checking(plan: &'p PhysicalPlan, now: Timestamp, residual: Option<Filter>) -> Run<'p> {
        let stored = !residual.as_ref().is_some_and(reads_attributes)
            && plan.sort.iter().all(|s| matches!(s.field, Field::Def(_)));
        Run {
            plan,
            residual,
            stored,
            descending: plan.sort.iter().map(|s| s.descending).collect(),
            now,
            folds: RefCell::new(plan.sort.iter().map(|_| FoldMemo::default()).collect()),
        }
    }

    /// Whether a record (or its stored form, see [`Run::stored`]) passes
    /// the residual filter.
    fn accepts(&self, record: &impl Queryable) -> bool {
        self.residual
            .as_ref()
            .is_none_or(|f| matches(f, record, self.plan.search_fields, self.now))
    }

    /// A record's position in the result order.
    fn position<E: Entity>(&self, record: &E::Record) -> Position {
        self.position_of(record, E::id(record))
    }

    /// The position of the record `id` (or of its stored form, see
    /// [`Run::stored`]) in the result order.
    fn position_of(&self, record: &impl Queryable, id: u64) -> Position {
        let mut folds = self.folds.borrow_mut();
        Position {
            values: self
                .plan
                .sort
                .iter()
                .zip(folds.iter_mut())
                .map(|(s, memo)| SortValue::remembering(&s.field, record, self.now, memo))
                .collect(),
            id,
        }
    }

    /// The token of the page after `after`.
    fn next_cursor(&self, after: Position) -> Result<String> {
        Cursor {
            kind: self.plan.kind,
            scope: self.plan.scope.clone(),
            query: self.plan.continuation.clone(),
            size: self.plan.size,
            after,
        }
        .encode()
    }

    /// The id a walk in id order resumes after.
    fn after_id(&self) -> u64 {
        match &self.plan.start {
            Start::After(position) => position.id,
            Start::Offset(_) => 0,
        }
    }
}

/// The plan's index checks of record ids, made before records are read:
/// membership in its posting set first, then the probes, those that reject
/// the most first, learnt as candidates go by.
struct Probes {
    list: RefCell<Vec<ProbeState>>,
    members: Option<Access>,
    /// The posting set's ids, when the planner read them whole.
    member_ids: RefCell<Option<IdSet>>,
    /// Otherwise its entries, read at the first check and decoded a chunk
    /// at a time: the chunks decoded so far, and their ids.
    member_chunks: RefCell<Option<ChunkedIds>>,
    member_decoded: RefCell<(std::collections::BTreeSet<u64>, IdSet)>,
}

/// A probe: (index, key prefix), candidates tried, candidates passed,
/// and for a posting table, the chunks of its term read so far.
struct ProbeState {
    index: IndexTable,
    prefix: Vec<u8>,
    tried: u64,
    passed: u64,
    chunks: IdSet,
    read: std::collections::BTreeSet<u64>,
}

impl ProbeState {
    /// Which of `ids` the probe's index holds.
    fn holds(&mut self, tables: &dyn Tables, ids: &[u64]) -> Result<Vec<bool>> {
        if let IndexTable::Postings(table) = self.index {
            // Only the chunks of the candidates are read, each once.
            for &id in ids {
                let chunk = id >> crate::storage::postings::CHUNK_BITS;
                if self.read.insert(chunk) {
                    let key = crate::storage::postings::chunk_key(&self.prefix, chunk);
                    let end = prefix_end(&key);
                    let one = crate::storage::postings::read(tables, table, &key, end.as_deref())?;
                    self.chunks.union_with(one);
                }
            }
            return Ok(ids.iter().map(|&id| self.chunks.contains(id)).collect());
        }
        let keys: Vec<Vec<u8>> = ids
            .iter()
            .map(|id| {
                let mut key = self.prefix.clone();
                key.extend_from_slice(&id.to_be_bytes());
                key
            })
            .collect();
        tables.contains_many(self.index.table()?, &keys)
    }
}

impl Probes {
    fn new(plan: &PhysicalPlan) -> Probes {
        let list = plan
            .probes
            .iter()
            .map(|p| ProbeState {
                index: p.index,
                prefix: p.prefix.clone(),
                tried: 0,
                passed: 0,
                chunks: IdSet::new(),
                read: std::collections::BTreeSet::new(),
            })
            .collect();
        Probes {
            list: RefCell::new(list),
            members: plan.members.as_ref().map(|m| m.access.clone()),
            member_ids: RefCell::new(plan.members.as_ref().and_then(|m| m.ids.clone())),
            member_chunks: RefCell::new(None),
            member_decoded: RefCell::default(),
        }
    }

    /// The ids among `ids` in the plan's posting set (all without one).
    fn members_of(&self, tables: &dyn Tables, ids: &[u64]) -> Result<Vec<u64>> {
        let Some(access) = &self.members else {
            return Ok(ids.to_vec());
        };
        if let Some(set) = self.member_ids.borrow().as_ref() {
            return Ok(ids.iter().copied().filter(|&id| set.contains(id)).collect());
        }
        let mut chunked = self.member_chunks.borrow_mut();
        if chunked.is_none() {
            *chunked = access.chunked(tables)?;
        }
        let Some(chunked) = chunked.as_ref() else {
            return Ok(ids.to_vec());
        };
        // Only the chunks of the candidates are decoded, each once.
        let mut decoded = self.member_decoded.borrow_mut();
        let (seen, set) = &mut *decoded;
        for &id in ids {
            let chunk = id >> CHUNK_BITS;
            if seen.insert(chunk) {
                set.add_chunk(chunk, chunked.chunk(tables, chunk)?);
            }
        }
        Ok(ids.iter().copied().filter(|&id| set.contains(id)).collect())
    }

    /// The ids among `ids` that pass every probe (one table opening per probe).
    fn filter(&self, tables: &dyn Tables, ids: &[u64]) -> Result<Vec<u64>> {
        let mut kept = self.members_of(tables, ids)?;
        let mut list = self.list.borrow_mut();
        for probe in list.iter_mut() {
            if kept.is_empty() {
                break;
            }
            let present = probe.holds(tables, &kept)?;
            probe.tried = probe.tried.saturating_add(kept.len() as u64);
            kept = kept
                .into_iter()
                .zip(present)
                .filter_map(|(id, yes)| yes.then_some(id))
                .collect();
            probe.passed = probe.passed.saturating_add(kept.len() as u64);
        }
        // Most rejecting first: the lowest pass rate, (passed + 1) / (tried + 2).
        list.sort_by(|a, b| {
            #[allow(clippy::cast_precision_loss)]
            let rate = |p: &ProbeState| (p.passed as f64 + 1.0) / (p.tried as f64 + 2.0);
            rate(a).total_cmp(&rate(b))
        });
        Ok(kept)
    }
}

/// The matching records among `ids`, with their positions.
fn matching_among<E: Entity>(
    tables: &dyn Tables,
    run: &Run<'_>,
    ids: &[u64],
    probes: &Probes,
) -> Result<Vec<(Position, E::Record)>> {
    let kept = probes.filter(tables, ids)?;
    let mut out = Vec::new();
    tables.read_records_by_id(E::TABLE, &kept, &mut |bytes| {
        let record: E::Record = codec::decode(bytes)?;
        if run.accepts(&record) {
            out.push((run.position::<E>(&record), record));
        }
        Ok(true)
    })?;
    Ok(out)
}

/// Sorts matches into result order and hands them over; false once the
/// page is full.
fn take_sorted<E: Entity>(
    run: &Run<'_>,
    mut found: Vec<(Position, E::Record)>,
    out: &mut Collector<'_, E>,
) -> bool {
    found.sort_by(|a, b| compare(&a.0, &b.0, &run.descending));
    for (position, record) in found {
        if !out.push(position, record) {
            return false;
        }
    }
    true
}

/// Collects a page from matches arriving in result order, each made into
/// its document as it is kept.
struct Collector<'r, E: Entity> {
    run: &'r Run<'r>,
    skip: u64,
    /// The page's documents, in result order.
    items: Vec<E>,
    /// The position of the last document kept (the next page's cursor).
    last: Option<Position>,
    /// Whether a match came after the page was full.
    more: bool,
}

impl<'r, E: Entity> Collector<'r, E> {
    fn new(run: &'r Run<'r>) -> Self {
        let skip = match run.plan.start {
            Start::Offset(n) => n,
            Start::After(_) => 0,
        };
        Collector {
            run,
            skip,
            // Room for the page up front: a document is a few hundred
            // bytes, and growing the vector would copy the page each time.
            items: Vec::with_capacity(run.plan.size.min(MAX_PAGE_SIZE)),
            last: None,
            more: false,
        }
    }

    /// How many candidates may still be passed over without reading them:
    /// those inside the offset of an offset page with no filter, whose
    /// every index key stands for one record of the result; 0 otherwise.
    fn unread_skippable(&self) -> u64 {
        let plan = self.run.plan;
        let unfiltered =
            self.run.residual.is_none() && plan.probes.is_empty() && plan.members.is_none();
        if unfiltered && matches!(self.run.plan.start, Start::Offset(_)) {
            self.skip
        } else {
            0
        }
    }

    /// Passes over `n` candidates without reading them when all of them
    /// fall inside the offset and each is a match (see
    /// [`Collector::unread_skippable`]). False (nothing skipped) otherwise.
    fn skip_unread(&mut self, n: usize) -> bool {
        let n = n as u64;
        if n <= self.unread_skippable() {
            self.skip = self.skip.saturating_sub(n);
            true
        } else {
            false
        }
    }

    /// Passes over `n` candidates counted without being read, which
    /// [`Collector::unread_skippable`] allowed.
    fn pass_unread(&mut self, n: u64) {
        self.skip = self.skip.saturating_sub(n);
    }

    /// Passes over as many of the first of `n` candidates as
    /// [`Collector::skip_unread`] may (all of them, some or none); returns
    /// how many.
    fn skip_unread_prefix(&mut self, n: usize) -> usize {
        let passed = usize::try_from(self.unread_skippable()).map_or(n, |k| k.min(n));
        self.skip = self.skip.saturating_sub(passed as u64);
        passed
    }

    /// Takes the next match; false once the page (and one more) is full.
    fn push(&mut self, position: Position, record: E::Record) -> bool {
        let now = self.run.now;
        self.push_with(position, || Record::into_document(record, now))
    }

    /// Takes the next match, its document made by `document` only when the
    /// page keeps it; false once the page (and one more) is full.
    fn push_with(&mut self, position: Position, document: impl FnOnce() -> E) -> bool {
        if let Start::After(after) = &self.run.plan.start
            && compare(&position, after, &self.run.descending) != Ordering::Greater
        {
            return true;
        }
        if self.skip > 0 {
            self.skip = self.skip.saturating_sub(1);
            return true;
        }
        if self.items.len() >= self.run.plan.size {
            self.more = true;
            return false;
        }
        self.items.push(document());
        self.last = Some(position);
        true
    }

    fn finish(self, total: Option<u64>) -> Result<Page<E>> {
        let next_cursor = match self.last {
            Some(last) if self.more => Some(self.run.next_cursor(last)?),
            _ => None,
        };
        let mut items = self.items;
        // A page with far fewer matches than its size gives back the room
        // it did not use (a copy of the few documents it holds).
        if items.len() < items.capacity() / 2 {
            items.shrink_to_fit();
        }
        Ok(Page {
            items,
            total,
            next_cursor,
            fields: self.run.plan.projection.clone(),
        })
    }
}

/// Every matching record, read from the record table.
fn scan<E: Entity>(tables: &dyn Tables, run: &Run<'_>) -> Result<Vec<(Position, E::Record)>> {
    let mut out = Vec::new();
    scan_each::<E>(tables, run, 0, |record| {
        out.push((run.position::<E>(&record), record));
        true
    })?;
    Ok(out)
}

/// Hands every matching record of the record table with an id above
/// `after` to `f`, in id order, until `f` returns false.
fn scan_each<E: Entity>(
    tables: &dyn Tables,
    run: &Run<'_>,
    mut after: u64,
    mut f: impl FnMut(E::Record) -> bool,
) -> Result<()> {
    loop {
        let mut stopped = false;
        let handed = tables.read_records_after(E::TABLE, after, BATCH, &mut |id, bytes| {
            after = id;
            let record: E::Record = codec::decode(bytes)?;
            if run.accepts(&record) && !f(record) {
                stopped = true;
                return Ok(false);
            }
            Ok(true)
        })?;
        // A batch short of `BATCH` read the table to its end.
        if stopped || handed < BATCH {
            return Ok(());
        }
    }
}

/// Streams records in id order from the page's start until the page is full.
fn stream_by_id<E: Entity>(
    tables: &dyn Tables,
    run: &Run<'_>,
    out: &mut Collector<'_, E>,
) -> Result<()> {
    scan_each::<E>(tables, run, run.after_id(), |record| {
        out.push(run.position::<E>(&record), record)
    })
}

/// The page of a plan whose every candidate is a match (no residual
/// filter, probe or posting set to check) streamed in id order from a
/// posting access: its candidate ids are the page, so only the page's
/// records are read (not the one after it, whose id alone tells that there
/// is a next page), each decoded straight into its document
/// (`Record::Stored`). `None` for any other plan, or when an id has no
/// record (never in a sound store), to make the page the general way.
///
/// Errors: `Storage` when a table cannot be read or a record decoded.
fn proven_page<E: Entity>(
    tables: &dyn Tables,
    run: &Run<'_>,
    total: Option<u64>,
) -> Result<Option<Page<E>>> {
    let plan = run.plan;
    let AccessPath::IndexIds {
        access,
        ids: read,
        partial,
        ..
    } = &plan.access
    else {
        return Ok(None);
    };
    let checked = run.residual.is_some() || !plan.probes.is_empty() || plan.members.is_some();
    if checked || !plan.sort.is_empty() || !access.is_postings() {
        return Ok(None);
    }
    let mut skip = match plan.start {
        Start::Offset(n) => n,
        Start::After(_) => 0,
    };
    let want = plan.size.saturating_add(1);
    let mut ids: Vec<u64> = Vec::with_capacity(want);
    let mut take = |id: u64| {
        if skip > 0 {
            skip = skip.saturating_sub(1);
        } else {
            ids.push(id);
        }
        ids.len() < want
    };
    let after = run.after_id();
    let mut open = true;
    if let Some(set) = read {
        open = set.iter_after(after).all(&mut take);
    }
    if open && (read.is_none() || *partial) {
        // The ids after those the planner read (it read every candidate up
        // to its set's last), decoded a chunk at a time.
        let after = read
            .as_ref()
            .and_then(IdSet::last)
            .map_or(after, |last| after.max(last));
        if let Some(chunked) = access.chunked(tables)? {
            let mut from = after >> CHUNK_BITS;
            while let Some(chunk) = chunked.next_chunk(tables, from)? {
                let mut set = IdSet::new();
                set.add_chunk(chunk, chunked.chunk(tables, chunk)?);
                if !set.iter_after(after).all(&mut take) {
                    break;
                }
                match chunk.checked_add(1) {
                    Some(next) => from = next,
                    None => break,
                }
            }
        }
    }
    let more = ids.len() > plan.size;
    ids.truncate(plan.size);
    let now = run.now;
    let mut items = Vec::with_capacity(ids.len());
    tables.read_records_by_id(E::TABLE, &ids, &mut |bytes| {
        let stored: <E::Record as Record>::Stored<'_> = codec::decode_stored(bytes)?;
        items.push(crate::documents::record::Stored::into_document(
            stored,
            &|| now,
        ));
        Ok(true)
    })?;
    if items.len() != ids.len() {
        return Ok(None);
    }
    let next_cursor = match ids.last() {
        Some(&id) if more => Some(run.next_cursor(Position {
            values: Vec::new(),
            id,
        })?),
        _ => None,
    };
    Ok(Some(Page {
        items,
        total,
        next_cursor,
        fields: plan.projection.clone(),
    }))
}

/// Streams the ids of a posting set the planner read, from the page's
/// start; false once the page is full.
fn stream_set<E: Entity>(
    tables: &dyn Tables,
    run: &Run<'_>,
    set: &IdSet,
    probes: &Probes,
    out: &mut Collector<'_, E>,
) -> Result<bool> {
    let mut after = run.after_id();
    loop {
        let ids = set.ids_after(after, TAKE);
        if !take_batch::<E>(tables, run, &ids, probes, out)? {
            return Ok(false);
        }
        match ids.last() {
            Some(&last) if ids.len() == TAKE => after = last,
            _ => return Ok(true),
        }
    }
}

/// Streams the candidates above `floor` (0: all) of an index whose ids
/// come in ascending order.
fn stream_access<E: Entity>(
    tables: &dyn Tables,
    run: &Run<'_>,
    access: &Access,
    floor: u64,
    probes: &Probes,
    out: &mut Collector<'_, E>,
) -> Result<()> {
    let mut after = run.after_id().max(floor);
    // A posting access is read once, then its union or intersection is
    // built a chunk at a time in id order, until the page is full.
    if let Some(chunked) = access.chunked(tables)? {
        let mut from = after >> CHUNK_BITS;
        while let Some(chunk) = chunked.next_chunk(tables, from)? {
            let mut set = IdSet::new();
            set.add_chunk(chunk, chunked.chunk(tables, chunk)?);
            loop {
                let ids = set.ids_after(after, BATCH);
                if !take_batch::<E>(tables, run, &ids, probes, out)? {
                    return Ok(());
                }
                match ids.last() {
                    Some(&last) if ids.len() == BATCH => after = last,
                    _ => break,
                }
            }
            match chunk.checked_add(1) {
                Some(next) => from = next,
                None => return Ok(()),
            }
        }
        return Ok(());
    }
    loop {
        let (ids, done) = access.ids_after(tables, after, BATCH)?;
        if !take_batch::<E>(tables, run, &ids, probes, out)? {
            return Ok(());
        }
        match ids.last() {
            Some(&last) if !done => after = last,
            _ => return Ok(()),
        }
    }
}

/// Checks candidates in order (index probes first, then the records, read
/// a batch at a time) and hands the matches over; false once the page is full.
fn take_batch<E: Entity>(
    tables: &dyn Tables,
    run: &Run<'_>,
    ids: &[u64],
    probes: &Probes,
    out: &mut Collector<'_, E>,
) -> Result<bool> {
    let passed = out.skip_unread_prefix(ids.len());
    for chunk in ids.get(passed..).unwrap_or_default().chunks(TAKE) {
        let kept = probes.filter(tables, chunk)?;
        let mut full = false;
        let now = run.now;
        tables.read_records_by_id(E::TABLE, &kept, &mut |bytes| {
            let open = if run.stored {
                // Checked in the form a read shows, made into its document
                // straight from the stored bytes (no record in between).
                let stored: <E::Record as Record>::Stored<'_> = codec::decode_stored(bytes)?;
                !run.accepts(&stored)
                    || out.push_with(run.position_of(&stored, stored.id()), || {
                        stored.into_document(&|| now)
                    })
            } else {
                let record: E::Record = codec::decode(bytes)?;
                !run.accepts(&record) || out.push(run.position::<E>(&record), record)
            };
            if !open {
                full = true;
            }
            Ok(open)
        })?;
        if full {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The walk of a sort index a plan asks for.
struct IndexWalk<'p> {
    index: IndexTable,
    start: Vec<u8>,
    end: Option<Vec<u8>>,
    reverse: bool,
    sort_runs: bool,
    /// Conditions on the sort field (a text field) decided per run.
    run_check: &'p [Filter],
}

impl IndexWalk<'_> {
    /// Whether the run whose key prefix (marker and value) is `values`
    /// may hold matches: the value its key holds meets every run check.
    /// A prefix that does not read as a text value passes (its records
    /// are still checked).
    fn run_may_match(&self, values: &[u8]) -> bool {
        if self.run_check.is_empty() {
            return true;
        }
        let exact = match values.split_first() {
            Some((&ABSENT, [])) => None,
            Some((&PRESENT, rest)) => match read_text(rest) {
                Some((_, exact, [])) => Some(exact),
                _ => return true,
            },
            _ => return true,
        };
        let value = exact.as_deref().map_or(FieldValue::Absent, FieldValue::Str);
        self.run_check
            .iter()
            .all(|check| value_matches(check, &value).unwrap_or(true))
    }
}

/// Streams records in the order of the index of the first sort key, one
/// run of equal values at a time, until the page is full. A run's ids are
/// read in ascending order whichever way the runs go (the `id`
/// tie-breaker is always ascending); with one sort key they stream straight
/// into the page, with more the run's matches are sorted first.
fn stream_by_index<E: Entity>(
    tables: &dyn Tables,
    run: &Run<'_>,
    walk: &IndexWalk<'_>,
    probes: &Probes,
    out: &mut Collector<'_, E>,
) -> Result<()> {
    let table = match walk.index {
        IndexTable::Ordered(table) => table,
        IndexTable::Postings(table) => {
            return posting_walk::stream::<E>(tables, run, walk, table, probes, out);
        }
    };
    let (mut start, mut end) = (walk.start.clone(), walk.end.clone());
    // A cursor's walk resumes at the run holding its position.
    let mut cursor = match &run.plan.start {
        Start::After(position) => position
            .values
            .first()
            .map(|v| (sort_value_key(v).into_bytes(), position.id)),
        Start::Offset(_) => None,
    };
    if let Some((cursor_run, _)) = &cursor {
        if walk.reverse {
            if let Some(run_end) = prefix_end(cursor_run)
                && end.as_ref().is_none_or(|e| run_end < *e)
            {
                end = Some(run_end);
            }
        } else if cursor_run.as_slice() > start.as_slice() {
            start = cursor_run.clone();
        }
    }
    if cursor.is_none() {
        match skip_runs(tables, walk, &mut start, &mut end, out)? {
            Skipped::All => return Ok(()),
            // Resumed like a cursor, after the last key passed.
            Skipped::To(resume) => cursor = resume,
        }
    }
    loop {
        let Some(first) = tables
            .keys_in_range(table, &start, end.as_deref(), 1, walk.reverse)?
            .pop()
        else {
            return Ok(());
        };
        let values = first
            .get(..first.len().saturating_sub(8))
            .unwrap_or_default()
            .to_vec();
        let values_end = prefix_end(&values);
        // A run whose value fails a condition on it is passed over unread.
        if walk.run_may_match(&values) {
            let skip = match &cursor {
                Some((cursor_run, id)) if *cursor_run == values && !walk.sort_runs => *id,
                _ => 0,
            };
            let same = Same {
                values: &values,
                end: values_end.as_deref(),
                skip,
            };
            if !stream_run::<E>(tables, run, walk, &same, probes, out)? {
                return Ok(());
            }
        }
        if walk.reverse {
            end = Some(values);
        } else {
            match values_end {
                Some(e) => start = e,
                None => return Ok(()),
            }
        }
    }
}

/// Where an offset page's walk goes on after [`skip_runs`].
enum Skipped {
    /// The offset covers every key: the page is empty.
    All,
    /// At the walk's (moved) `start` or `end`; with a run's values and an
    /// id, after that id in that run, as after a cursor's position.
    To(Option<(Vec<u8>, u64)>),
}

/// Passes over the offset of an unfiltered offset page walking the whole
/// sort index, in one pass over its keys that reads no record and copies
/// no key but the last: every run of equal values the offset covers whole
/// is passed. When a run streams in key order (one sort key, ascending:
/// ids ascend within a run), the walk resumes right after the last key
/// passed; otherwise (descending, where a run still streams by ascending
/// id, or more sort keys, which sort each run) it resumes at the start of
/// the run holding that key, whose keys inside the offset are left to the
/// run's own reading to pass over. Passes nothing for any other page.
fn skip_runs<E: Entity>(
    tables: &dyn Tables,
    walk: &IndexWalk<'_>,
    start: &mut Vec<u8>,
    end: &mut Option<Vec<u8>>,
    out: &mut Collector<'_, E>,
) -> Result<Skipped> {
    let skippable = out.unread_skippable();
    // Without a filter the planner bounds no range: the walk covers the
    // whole index, so runs are never cut by the range's ends.
    if skippable == 0 || !start.is_empty() || end.is_some() {
        return Ok(Skipped::To(None));
    }
    let table = walk.index.table()?;
    if let Some(counts) = run_counts::counts_of(&table)
        && let Some(skipped) = skip_counted(tables, walk, counts, start, end, out)?
    {
        return Ok(skipped);
    }
    let (passed, last) = tables.skip_keys(table, start, None, skippable, walk.reverse)?;
    let Some(last) = last.filter(|_| passed == skippable) else {
        out.pass_unread(passed);
        return Ok(Skipped::All);
    };
    let values = last.get(..last.len().saturating_sub(8)).unwrap_or_default();
    if !walk.reverse && !walk.sort_runs {
        let Some(id) = trailing_u64(&last) else {
            return Ok(Skipped::To(None));
        };
        out.pass_unread(passed);
        *start = values.to_vec();
        return Ok(Skipped::To(Some((values.to_vec(), id))));
    }
    let in_run = if walk.reverse {
        let run_end = prefix_end(values);
        let n = tables.count_range(table, &last, run_end.as_deref())?;
        *end = run_end;
        n
    } else {
        let mut through = last.clone();
        through.push(0);
        let n = tables.count_range(table, values, Some(&through))?;
        *start = values.to_vec();
        n
    };
    out.pass_unread(passed.saturating_sub(in_run));
    Ok(Skipped::To(None))
}

/// [`skip_runs`] with the run counts of the index: whole runs are passed
/// by their counts, then whole chunks of ids of the run the offset ends
/// in, then the keys of one chunk, so a walk passes at most a chunk's
/// keys of one value. `None` (nothing passed) when the counts disagree
/// with the keys, for the walk over the keys to decide.
fn skip_counted<E: Entity>(
    tables: &dyn Tables,
    walk: &IndexWalk<'_>,
    counts: run_counts::CountTable,
    start: &mut Vec<u8>,
    end: &mut Option<Vec<u8>>,
    out: &mut Collector<'_, E>,
) -> Result<Option<Skipped>> {
    let skippable = out.unread_skippable();
    let mut passed: u64 = 0;
    // The run being summed, and the run the offset ends in once found.
    let mut run = CountedRun::default();
    let mut found: Option<CountedRun> = None;
    tables.counts(counts, &[], None, walk.reverse, &mut |key, count| {
        let values = key.get(..key.len().saturating_sub(8)).unwrap_or_default();
        if values != run.values.as_slice() {
            if !run.chunks.is_empty() {
                found = run.settle(skippable, &mut passed);
                if found.is_some() {
                    return Ok(false);
                }
            }
            run.values.clear();
            run.values.extend_from_slice(values);
        }
        run.chunks
            .push((trailing_u64(key).unwrap_or_default(), count));
        Ok(true)
    })?;
    if found.is_none() && !run.chunks.is_empty() {
        found = run.settle(skippable, &mut passed);
    }
    let Some(CountedRun { values, mut chunks }) = found else {
        out.pass_unread(passed);
        return Ok(Some(Skipped::All));
    };
    // The walk goes on in that run; `left` of its keys are still to pass.
    let left = skippable.saturating_sub(passed);
    let run_end = prefix_end(&values);
    let enter = |start: &mut Vec<u8>, end: &mut Option<Vec<u8>>| {
        if walk.reverse {
            *end = run_end.clone();
        } else {
            *start = values.clone();
        }
    };
    if left == 0 || walk.sort_runs {
        // A sorted run is read whole: its reading passes the rest.
        out.pass_unread(passed);
        enter(start, end);
        return Ok(Some(Skipped::To(None)));
    }
    // The run's ids ascend whichever way the runs go.
    chunks.sort_unstable();
    let mut before: u64 = 0;
    for (chunk, count) in chunks {
        if before.saturating_add(count) < left {
            before = before.saturating_add(count);
            continue;
        }
        let mut from = values.clone();
        from.extend_from_slice(&run_counts::chunk_start(chunk).to_be_bytes());
        let n = left.saturating_sub(before);
        let table = walk.index.table()?;
        let (got, last) = tables.skip_keys(table, &from, run_end.as_deref(), n, false)?;
        let id = last.as_deref().and_then(trailing_u64);
        return Ok(match id.filter(|_| got == n) {
            Some(id) => {
                out.pass_unread(skippable);
                enter(start, end);
                Some(Skipped::To(Some((values, id))))
            }
            None => None,
        });
    }
    Ok(None)
}

/// One run of a sort index as its counts tell it: its values and its
/// (chunk, count) entries.
#[derive(Default)]
struct CountedRun {
    values: Vec<u8>,
    chunks: Vec<(u64, u64)>,
}

impl CountedRun {
    /// Passes the whole run when the offset covers it (adding its keys to
    /// `passed` and emptying it); otherwise the run the offset ends in,
    /// taken out.
    fn settle(&mut self, skippable: u64, passed: &mut u64) -> Option<CountedRun> {
        let total = self
            .chunks
            .iter()
            .fold(0_u64, |n, (_, c)| n.saturating_add(*c));
        if passed.saturating_add(total) <= skippable {
            *passed = passed.saturating_add(total);
            self.chunks.clear();
            None
        } else {
            Some(std::mem::take(self))
        }
    }
}

/// One run of a sort index: the keys of one value.
struct Same<'a> {
    /// The key prefix of the value.
    values: &'a [u8],
    /// The key after the run.
    end: Option<&'a [u8]>,
    /// Ids up to this one are skipped (a cursor's position in the run).
    skip: u64,
}

/// Hands over the matches of one run; false once the page is full.
fn stream_run<E: Entity>(
    tables: &dyn Tables,
    run: &Run<'_>,
    walk: &IndexWalk<'_>,
    same: &Same<'_>,
    probes: &Probes,
    out: &mut Collector<'_, E>,
) -> Result<bool> {
    let Some(first_id) = same.skip.checked_add(1) else {
        return Ok(true);
    };
    let mut from = same.values.to_vec();
    from.extend_from_slice(&first_id.to_be_bytes());
    let mut all = Vec::new();
    let mut ids = Vec::with_capacity(BATCH);
    let mut last = Vec::new();
    loop {
        ids.clear();
        // The ids of the batch's keys, and its last key (whose next key
        // the next batch starts at): no key is copied but that one.
        let read = tables.read_keys(walk.index.table()?, &from, same.end, BATCH, &mut |key| {
            ids.extend(trailing_u64(key));
            last.clear();
            last.extend_from_slice(key);
            Ok(())
        })?;
        if walk.sort_runs {
            all.extend_from_slice(&ids);
        } else if !take_batch::<E>(tables, run, &ids, probes, out)? {
            return Ok(false);
        }
        if read < BATCH {
            break;
        }
        std::mem::swap(&mut from, &mut last);
        from.push(0);
    }
    if !walk.sort_runs || out.skip_unread(all.len()) {
        return Ok(true);
    }
    let found = matching_among::<E>(tables, run, &all, probes)?;
    Ok(take_sorted(run, found, out))
}
