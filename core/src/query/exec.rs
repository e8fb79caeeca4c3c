//! Running a query: preparing it for one kind (type checking, cursors,
//! paging), then producing pages, counts and plans.

use super::ast::{Expr, FieldFilter, Paging, Path, RawQuery, SortKey};
use super::check::{Field, Filter, check, resolve};
use super::cursor::{Cursor, QueryParts};
use super::eval::matches;
use super::number::Misfit;
use super::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page};
use super::params::number_error;
use super::schema::{FieldDef, FieldType, fields_of, search_fields};
use std::cmp::Ordering;

use super::index::IndexDef;
use super::plan::{self, Driver};
use super::sort::{Position, SortValue, compare};
use crate::caseless::fold;
use crate::entity::Entity;
use crate::keys::trailing_u64;
use crate::tx::Tables;
use crate::{EntityKind, Error, Result, Timestamp, codec};

/// Where a page starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Start {
    /// After skipping this many matches.
    Offset(u64),
    /// Just after this position.
    After(Position),
}

/// A query checked against one kind, ready to run.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    pub(crate) kind: EntityKind,
    pub(crate) filter: Option<Filter>,
    pub(crate) search_fields: &'static [&'static str],
    pub(crate) sort: Vec<Field>,
    pub(crate) descending: Vec<bool>,
    pub(crate) fields: Option<Vec<&'static str>>,
    pub(crate) start: Start,
    pub(crate) size: usize,
    pub(crate) with_total: bool,
    pub(crate) scope: Option<String>,
    pub(crate) parts: QueryParts,
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::InvalidQuery {
        message: message.into(),
        position: None,
        field: Some(field.to_owned()),
    }
}

fn check_size(size: usize, name: &str) -> Result<usize> {
    if (1..=MAX_PAGE_SIZE).contains(&size) {
        Ok(size)
    } else {
        let misfit = if size == 0 {
            Misfit::TooSmall
        } else {
            Misfit::TooLarge
        };
        Err(number_error(name, misfit, 1, MAX_PAGE_SIZE as u64))
    }
}

/// Checks `raw` against `kind`, resolving a cursor into the query it continues.
pub(crate) fn prepare(raw: &RawQuery, kind: EntityKind, scope: Option<&str>) -> Result<Prepared> {
    let fields = fields_of(kind);
    let given = QueryParts {
        filter: raw.filter.clone(),
        field_filters: raw.field_filters.clone(),
        search: raw.search.clone().filter(|s| !s.trim().is_empty()),
        sort: raw.sort.clone(),
        fields: raw.fields.clone(),
        with_total: raw.with_total.unwrap_or(false),
    };
    let (parts, start, size) = match &raw.paging {
        Paging::Default => (given, Start::Offset(0), DEFAULT_PAGE_SIZE),
        Paging::Page { page, size } => {
            let size = check_size(*size, "pageSize")?;
            // (page - 1) × size must fit: page is at most u64::MAX / size + 1.
            let last_page = (u64::MAX / size as u64).saturating_add(1);
            if *page == 0 {
                return Err(number_error("page", Misfit::TooSmall, 1, last_page));
            }
            let offset = (page - 1)
                .checked_mul(size as u64)
                .ok_or_else(|| number_error("page", Misfit::TooLarge, 1, last_page))?;
            (given, Start::Offset(offset), size)
        }
        Paging::Offset { offset, limit } => {
            (given, Start::Offset(*offset), check_size(*limit, "limit")?)
        }
        Paging::Cursor { token, size } => {
            let cursor = Cursor::decode(token)?;
            if cursor.kind != kind || cursor.scope.as_deref() != scope {
                return Err(invalid(
                    "cursor",
                    "the cursor belongs to another collection",
                ));
            }
            let parts = continued(fields, &given, raw.with_total, cursor.query)?;
            let size = check_size(size.unwrap_or(cursor.size), "pageSize")?;
            (parts, Start::After(cursor.after), size)
        }
    };
    let mut filters = Vec::new();
    if let Some(expr) = &parts.filter {
        filters.push(check(fields, expr)?);
    }
    for field_filter in &parts.field_filters {
        filters.push(check(fields, &field_filter.test)?);
    }
    if let Some(text) = &parts.search {
        filters.push(Filter::Search(text.split_whitespace().map(fold).collect()));
    }
    if let Some(tenant) = scope {
        filters.push(Filter::TenantIs(tenant.to_owned()));
    }
    let filter = match filters.len() {
        0 => None,
        1 => filters.pop(),
        _ => Some(Filter::And(filters)),
    };
    let (sort, descending) = sort_keys(fields, &parts.sort)?;
    let projection = projection(fields, parts.fields.as_deref())?;
    Ok(Prepared {
        kind,
        filter,
        search_fields: search_fields(kind),
        sort,
        descending,
        fields: projection,
        start,
        size,
        with_total: parts.with_total,
        scope: scope.map(str::to_owned),
        parts,
    })
}

/// The sort keys as fields and directions, without trailing `id` ascending
/// keys (the tie-breaker anyway), so `lastName` and `lastName:asc,id` are
/// the same sort.
fn sort_keys(fields: &'static [FieldDef], keys: &[SortKey]) -> Result<(Vec<Field>, Vec<bool>)> {
    let mut sort = Vec::new();
    let mut descending = Vec::new();
    for key in keys {
        let field = resolve(fields, &key.path, Some("sort"))?;
        if let Field::Def(def) = &field
            && !def.ty.sortable()
        {
            return Err(Error::InvalidQuery {
                message: format!("{} is {} and cannot be sorted", def.name, def.ty.describe()),
                position: Some(key.path.position),
                field: Some("sort".into()),
            });
        }
        sort.push(field);
        descending.push(key.descending);
    }
    while matches!(sort.last(), Some(Field::Def(def)) if def.name == "id")
        && descending.last() == Some(&false)
    {
        sort.pop();
        descending.pop();
    }
    if matches!(sort.first(), Some(Field::Def(def)) if def.ty == FieldType::Object) {
        return Err(invalid("sort", "structured values cannot be sorted"));
    }
    Ok((sort, descending))
}

/// The projection: `id` and the named top-level fields, each once, in the
/// order first named.
fn projection(
    fields: &'static [FieldDef],
    paths: Option<&[Path]>,
) -> Result<Option<Vec<&'static str>>> {
    let Some(paths) = paths else {
        return Ok(None);
    };
    let mut names = vec!["id"];
    for path in paths {
        match resolve(fields, path, Some("fields"))? {
            Field::Def(def) if def.top_level => {
                if !names.contains(&def.name) {
                    names.push(def.name);
                }
            }
            other => {
                return Err(Error::InvalidQuery {
                    message: format!(
                        "{} is not a top-level field; fields lists top-level fields",
                        other.name()
                    ),
                    position: Some(path.position),
                    field: Some("fields".into()),
                });
            }
        }
    }
    Ok(Some(names))
}

/// The query a cursor continues, after checking the parts given with it
/// (SPEC §13): a part left out comes from the cursor; a part given must
/// mean what the cursor's does, compared in compiled form, or it is
/// `InvalidQuery` naming it (`where`, `filters`, `search`, `sort`,
/// `fields`). `with_total`, when given, replaces the cursor's.
///
/// "Means the same" is decided on what the checker makes of each part:
/// field names in any case, `filter[x]` or `x`, spacing, keyword case,
/// `=`/`eq`, quotes, and literals the field's type reads alike are all the
/// same; `and`/`or` operands compare as sets (order, grouping and repeats do
/// not matter), and so do field filters, search terms and `fields`; sort
/// keys compare in order, a trailing `id` ascending ignored.
fn continued(
    fields: &'static [FieldDef],
    given: &QueryParts,
    with_total: Option<bool>,
    mut cursor: QueryParts,
) -> Result<QueryParts> {
    let differs = |part: &str| {
        invalid(
            part,
            format!(
                "{part} differs from the query the cursor continues: \
                 leave it out or send it unchanged"
            ),
        )
    };
    let compiled = |expr: Option<&Expr>| expr.map(|e| check(fields, e).map(canonical)).transpose();
    if let Some(expr) = &given.filter
        && compiled(Some(expr))? != compiled(cursor.filter.as_ref())?
    {
        return Err(differs("where"));
    }
    let field_filters =
        |list: &[FieldFilter]| list.iter().map(|f| f.test.clone()).collect::<Vec<_>>();
    if !given.field_filters.is_empty()
        && compiled(Some(&Expr::And(field_filters(&given.field_filters))))?
            != compiled(Some(&Expr::And(field_filters(&cursor.field_filters))))?
    {
        return Err(differs("filters"));
    }
    let terms = |text: &str| {
        let mut terms: Vec<String> = text.split_whitespace().map(fold).collect();
        terms.sort_unstable();
        terms.dedup();
        terms
    };
    if let Some(text) = &given.search
        && Some(terms(text)) != cursor.search.as_deref().map(terms)
    {
        return Err(differs("search"));
    }
    if !given.sort.is_empty() && sort_keys(fields, &given.sort)? != sort_keys(fields, &cursor.sort)?
    {
        return Err(differs("sort"));
    }
    let projected = |paths: Option<&[Path]>| {
        projection(fields, paths).map(|names| {
            names.map(|mut names| {
                names.sort_unstable();
                names
            })
        })
    };
    if given.fields.is_some()
        && projected(given.fields.as_deref())? != projected(cursor.fields.as_deref())?
    {
        return Err(differs("fields"));
    }
    if let Some(with_total) = with_total {
        cursor.with_total = with_total;
    }
    Ok(cursor)
}

/// A filter in a form where equivalent writings compare equal: nested
/// `and`s (and `or`s) are flattened, their operands sorted and repeats
/// dropped (a one-operand `and` is its operand), and `in` lists sorted and
/// without repeats.
fn canonical(filter: Filter) -> Filter {
    fn operands(parts: Vec<Filter>, and: bool) -> Vec<Filter> {
        let mut flat = Vec::new();
        for part in parts {
            match (canonical(part), and) {
                (Filter::And(inner), true) | (Filter::Or(inner), false) => flat.extend(inner),
                (other, _) => flat.push(other),
            }
        }
        sorted_unique(flat)
    }
    fn sorted_unique<T: std::fmt::Debug>(items: Vec<T>) -> Vec<T> {
        let mut keyed: Vec<(String, T)> =
            items.into_iter().map(|t| (format!("{t:?}"), t)).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        keyed.dedup_by(|a, b| a.0 == b.0);
        keyed.into_iter().map(|(_, t)| t).collect()
    }
    match filter {
        Filter::And(parts) => match operands(parts, true) {
            mut one if one.len() == 1 => one.remove(0),
            many => Filter::And(many),
        },
        Filter::Or(parts) => match operands(parts, false) {
            mut one if one.len() == 1 => one.remove(0),
            many => Filter::Or(many),
        },
        Filter::Not(part) => Filter::Not(Box::new(canonical(*part))),
        Filter::In {
            field,
            values,
            null,
        } => Filter::In {
            field,
            values: sorted_unique(values),
            null,
        },
        other => other,
    }
}

impl Prepared {
    fn accepts<E: Entity>(&self, record: &E::Record, now: Timestamp) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|f| matches(f, record, self.search_fields, now))
    }

    fn position<E: Entity>(&self, record: &E::Record, now: Timestamp) -> Position {
        Position {
            values: self
                .sort
                .iter()
                .map(|f| SortValue::of(f, record, now))
                .collect(),
            id: E::id(record),
        }
    }

    fn next_cursor(&self, after: Position) -> Result<String> {
        Cursor {
            kind: self.kind,
            scope: self.scope.clone(),
            query: self.parts.clone(),
            size: self.size,
            after,
        }
        .encode()
    }
}

/// Index keys and records are read this many at a time.
const BATCH: usize = 256;
/// Candidates are checked this many at a time (a page needs about its size).
const TAKE: usize = 64;

/// Index checks of a record id that must pass before the record is read
/// (`field = value` conditions, see [`plan::probes`]). The checks that
/// reject the most run first, learnt as candidates go by.
struct Probes {
    list: std::cell::RefCell<Vec<Probe>>,
}

/// (table, key prefix, candidates tried, candidates passed).
type Probe = (crate::schema::MultiTable, Vec<u8>, u64, u64);

impl Probes {
    fn new(kind: EntityKind, filter: Option<&Filter>) -> Probes {
        let list = plan::probes(kind, filter)
            .into_iter()
            .map(|(table, prefix)| (table, prefix, 0, 0))
            .collect();
        Probes {
            list: std::cell::RefCell::new(list),
        }
    }

    /// The ids among `ids` that pass every probe (one table opening per probe).
    fn filter(&self, tables: &dyn Tables, ids: &[u64]) -> Result<Vec<u64>> {
        let mut list = self.list.borrow_mut();
        let mut kept = ids.to_vec();
        for (table, prefix, tried, passed) in list.iter_mut() {
            if kept.is_empty() {
                break;
            }
            let keys: Vec<Vec<u8>> = kept
                .iter()
                .map(|id| {
                    let mut key = prefix.clone();
                    key.extend_from_slice(&id.to_be_bytes());
                    key
                })
                .collect();
            let present = tables.contains_many(*table, &keys)?;
            *tried += kept.len() as u64;
            kept = kept
                .into_iter()
                .zip(present)
                .filter_map(|(id, yes)| yes.then_some(id))
                .collect();
            *passed += kept.len() as u64;
        }
        // Most rejecting first: the lowest pass rate, (passed + 1) / (tried + 2).
        list.sort_by(|a, b| {
            #[allow(clippy::cast_precision_loss)]
            let rate = |p: &Probe| (p.3 as f64 + 1.0) / (p.2 as f64 + 2.0);
            rate(a).total_cmp(&rate(b))
        });
        Ok(kept)
    }

    fn len(&self) -> usize {
        self.list.borrow().len()
    }
}

/// The matching records among `ids`, with their positions.
fn matching_among<E: Entity>(
    tables: &dyn Tables,
    p: &Prepared,
    ids: &[u64],
    probes: &Probes,
    now: Timestamp,
) -> Result<Vec<(Position, E::Record)>> {
    let kept = probes.filter(tables, ids)?;
    let mut out = Vec::new();
    for bytes in tables.records_by_id(E::TABLE, &kept)?.into_iter().flatten() {
        let record: E::Record = codec::decode(&bytes)?;
        if p.accepts::<E>(&record, now) {
            out.push((p.position::<E>(&record, now), record));
        }
    }
    Ok(out)
}

/// Collects a page from matches arriving in result order.
struct Collector<'p, E: Entity> {
    p: &'p Prepared,
    skip: u64,
    items: Vec<(Position, E::Record)>,
}

impl<'p, E: Entity> Collector<'p, E> {
    fn new(p: &'p Prepared) -> Self {
        let skip = match p.start {
            Start::Offset(n) => n,
            Start::After(_) => 0,
        };
        Collector {
            p,
            skip,
            items: Vec::new(),
        }
    }

    /// Takes the next match; false once the page (and one more) is full.
    fn push(&mut self, position: Position, record: E::Record) -> bool {
        if let Start::After(after) = &self.p.start
            && compare(&position, after, &self.p.descending) != Ordering::Greater
        {
            return true;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return true;
        }
        self.items.push((position, record));
        self.items.len() <= self.p.size
    }

    fn finish(mut self, total: Option<u64>, now: Timestamp) -> Result<Page<E>> {
        let more = self.items.len() > self.p.size;
        self.items.truncate(self.p.size);
        let next_cursor = match self.items.last() {
            Some((last, _)) if more => Some(self.p.next_cursor(last.clone())?),
            _ => None,
        };
        let items = self
            .items
            .iter()
            .map(|(_, r)| E::document(r, now))
            .collect::<Result<_>>()?;
        Ok(Page {
            items,
            total,
            next_cursor,
            fields: self.p.fields.clone(),
        })
    }
}

/// One page of the query's results.
pub(crate) fn page<E: Entity>(
    tables: &dyn Tables,
    p: &Prepared,
    now: Timestamp,
) -> Result<Page<E>> {
    let driver = plan::choose(tables, p.kind, p.filter.as_ref())?;
    let total = if p.with_total {
        Some(count_with::<E>(tables, p, &driver, now)?)
    } else {
        None
    };
    let mut out = Collector::<E>::new(p);
    let probes = Probes::new(p.kind, p.filter.as_ref());
    match driver {
        Driver::Small { ids, .. } => {
            let mut found = matching_among::<E>(tables, p, &ids, &probes, now)?;
            found.sort_by(|a, b| compare(&a.0, &b.0, &p.descending));
            for (position, record) in found {
                if !out.push(position, record) {
                    break;
                }
            }
        }
        Driver::Stream { ordered, .. } => {
            if p.sort.is_empty() {
                match ordered {
                    Some(access) => stream_access::<E>(tables, p, &access, &probes, now, &mut out)?,
                    None => stream_by_id::<E>(tables, p, now, &mut out)?,
                }
            } else if let Some(index) = plan::sort_index(p.kind, &p.sort) {
                stream_by_index::<E>(tables, p, index, &probes, now, &mut out)?;
            } else {
                let mut found = scan::<E>(tables, p, now)?;
                found.sort_by(|a, b| compare(&a.0, &b.0, &p.descending));
                for (position, record) in found {
                    if !out.push(position, record) {
                        break;
                    }
                }
            }
        }
    }
    out.finish(total, now)
}

/// Every matching record, read from the record table.
fn scan<E: Entity>(
    tables: &dyn Tables,
    p: &Prepared,
    now: Timestamp,
) -> Result<Vec<(Position, E::Record)>> {
    let mut out = Vec::new();
    scan_each::<E>(tables, p, now, |record| {
        out.push((p.position::<E>(&record, now), record));
    })?;
    Ok(out)
}

/// Hands every matching record of the record table to `f`.
fn scan_each<E: Entity>(
    tables: &dyn Tables,
    p: &Prepared,
    now: Timestamp,
    mut f: impl FnMut(E::Record),
) -> Result<()> {
    let mut after = 0;
    loop {
        let batch = tables.records_after(E::TABLE, after, BATCH)?;
        let Some((last, _)) = batch.last() else {
            return Ok(());
        };
        after = *last;
        for (_, bytes) in batch {
            let record: E::Record = codec::decode(&bytes)?;
            if p.accepts::<E>(&record, now) {
                f(record);
            }
        }
    }
}

/// Streams records in id order from the page's start until the page is full.
fn stream_by_id<E: Entity>(
    tables: &dyn Tables,
    p: &Prepared,
    now: Timestamp,
    out: &mut Collector<'_, E>,
) -> Result<()> {
    let mut after = match &p.start {
        Start::After(position) => position.id,
        Start::Offset(_) => 0,
    };
    loop {
        let batch = tables.records_after(E::TABLE, after, BATCH)?;
        let Some((last, _)) = batch.last() else {
            return Ok(());
        };
        after = *last;
        for (_, bytes) in batch {
            let record: E::Record = codec::decode(&bytes)?;
            if p.accepts::<E>(&record, now) && !out.push(p.position::<E>(&record, now), record) {
                return Ok(());
            }
        }
    }
}

/// Streams the candidates of an index whose ids come in ascending order.
fn stream_access<E: Entity>(
    tables: &dyn Tables,
    p: &Prepared,
    access: &plan::Access,
    probes: &Probes,
    now: Timestamp,
    out: &mut Collector<'_, E>,
) -> Result<()> {
    let mut after = match &p.start {
        Start::After(position) => position.id,
        Start::Offset(_) => 0,
    };
    loop {
        let (ids, done) = access.ids_after(tables, after, BATCH)?;
        if !take_batch::<E>(tables, p, &ids, probes, now, out)? {
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
    p: &Prepared,
    ids: &[u64],
    probes: &Probes,
    now: Timestamp,
    out: &mut Collector<'_, E>,
) -> Result<bool> {
    for chunk in ids.chunks(TAKE) {
        let kept = probes.filter(tables, chunk)?;
        for bytes in tables.records_by_id(E::TABLE, &kept)?.into_iter().flatten() {
            let record: E::Record = codec::decode(&bytes)?;
            if p.accepts::<E>(&record, now) && !out.push(p.position::<E>(&record, now), record) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Streams records in the order of the index of the first sort key, one
/// run of equal values at a time, until the page is full. A run's ids are
/// read in ascending order whichever way the runs go (the `id`
/// tie-breaker is always ascending); with one sort key they stream straight
/// into the page, with more the run's matches are sorted first.
fn stream_by_index<E: Entity>(
    tables: &dyn Tables,
    p: &Prepared,
    index: &IndexDef,
    probes: &Probes,
    now: Timestamp,
    out: &mut Collector<'_, E>,
) -> Result<()> {
    let reverse = p.descending.first().copied().unwrap_or(false);
    // The keys a match can have, from conditions on the sort field itself.
    let (mut start, mut end) = plan::bounds(p.kind, p.filter.as_ref(), index.table);
    // A cursor's walk resumes at the run holding its position.
    let cursor = match &p.start {
        Start::After(position) => position
            .values
            .first()
            .map(|v| (plan::sort_value_key(v).into_bytes(), position.id)),
        Start::Offset(_) => None,
    };
    if let Some((run, _)) = &cursor {
        if reverse {
            if let Some(run_end) = crate::keys::prefix_end(run)
                && end.as_ref().is_none_or(|e| run_end < *e)
            {
                end = Some(run_end);
            }
        } else if run.as_slice() > start.as_slice() {
            start = run.clone();
        }
    }
    loop {
        let Some(first) = tables
            .keys_in_range(index.table, &start, end.as_deref(), 1, reverse)?
            .pop()
        else {
            return Ok(());
        };
        let run = first[..first.len().saturating_sub(8)].to_vec();
        let run_end = crate::keys::prefix_end(&run);
        let skip = match &cursor {
            Some((cursor_run, id)) if *cursor_run == run && p.sort.len() == 1 => *id,
            _ => 0,
        };
        if !stream_run::<E>(
            tables,
            p,
            index,
            &run,
            run_end.as_deref(),
            skip,
            probes,
            now,
            out,
        )? {
            return Ok(());
        }
        if reverse {
            end = Some(run);
        } else {
            match run_end {
                Some(e) => start = e,
                None => return Ok(()),
            }
        }
    }
}

/// Hands over the matches of one run; false once the page is full.
#[allow(clippy::too_many_arguments)]
fn stream_run<E: Entity>(
    tables: &dyn Tables,
    p: &Prepared,
    index: &IndexDef,
    run: &[u8],
    run_end: Option<&[u8]>,
    skip: u64,
    probes: &Probes,
    now: Timestamp,
    out: &mut Collector<'_, E>,
) -> Result<bool> {
    let mut from = run.to_vec();
    from.extend_from_slice(&skip.saturating_add(1).to_be_bytes());
    if skip == u64::MAX {
        return Ok(true);
    }
    let mut all = Vec::new();
    loop {
        let keys = tables.keys_in_range(index.table, &from, run_end, BATCH, false)?;
        let ids: Vec<u64> = keys.iter().filter_map(|k| trailing_u64(k)).collect();
        if p.sort.len() == 1 {
            if !take_batch::<E>(tables, p, &ids, probes, now, out)? {
                return Ok(false);
            }
        } else {
            all.extend(ids);
        }
        match keys.last() {
            Some(last) if keys.len() == BATCH => {
                from = last.clone();
                from.push(0);
            }
            _ => break,
        }
    }
    if p.sort.len() == 1 {
        return Ok(true);
    }
    let mut found = matching_among::<E>(tables, p, &all, probes, now)?;
    found.sort_by(|a, b| compare(&a.0, &b.0, &p.descending));
    for (position, record) in found {
        if !out.push(position, record) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The number of matches.
pub(crate) fn count<E: Entity>(tables: &dyn Tables, p: &Prepared, now: Timestamp) -> Result<u64> {
    let driver = plan::choose(tables, p.kind, p.filter.as_ref())?;
    count_with::<E>(tables, p, &driver, now)
}

/// The number of matches, with the driver already chosen for the query.
fn count_with<E: Entity>(
    tables: &dyn Tables,
    p: &Prepared,
    driver: &Driver,
    now: Timestamp,
) -> Result<u64> {
    let Some(filter) = &p.filter else {
        return tables.record_count(E::TABLE);
    };
    if let Some(n) = plan::exact_count(tables, p.kind, filter)? {
        return Ok(n);
    }
    Ok(match driver {
        Driver::Small { ids, .. } => {
            let probes = Probes::new(p.kind, Some(filter));
            matching_among::<E>(tables, p, ids, &probes, now)?.len() as u64
        }
        Driver::Stream { .. } => {
            let mut n = 0;
            scan_each::<E>(tables, p, now, |_| n += 1)?;
            n
        }
    })
}

/// Whether anything matches.
pub(crate) fn exists<E: Entity>(tables: &dyn Tables, p: &Prepared, now: Timestamp) -> Result<bool> {
    let first = Prepared {
        start: Start::Offset(0),
        size: 1,
        with_total: false,
        sort: Vec::new(),
        descending: Vec::new(),
        ..p.clone()
    };
    Ok(!page::<E>(tables, &first, now)?.items.is_empty())
}

/// The plan, as text.
pub(crate) fn explain(tables: &dyn Tables, p: &Prepared) -> Result<String> {
    let mut lines = Vec::new();
    let exact = match &p.filter {
        Some(filter) => plan::exact_count(tables, p.kind, filter)?.is_some(),
        None => false,
    };
    match plan::choose(tables, p.kind, p.filter.as_ref())? {
        Driver::Small { ids, what } => {
            if p.scope.is_some() {
                lines.push(format!("candidates: {what}"));
            } else {
                lines.push(format!("candidates: {what}, {} ids", ids.len()));
            }
            lines.push("order: read the candidates and sort them".into());
        }
        Driver::Stream { why, ordered } => {
            match (&ordered, p.sort.is_empty()) {
                (Some(access), true) => lines.push(format!(
                    "candidates: {} ({why}), streamed in id order",
                    access.describe()
                )),
                _ => lines.push(format!("candidates: scan {}s ({why})", p.kind)),
            }
            let probes = Probes::new(p.kind, p.filter.as_ref());
            if probes.len() > 0 {
                lines.push(format!(
                    "probes: {} index checks before reading a record",
                    probes.len()
                ));
            }
            if p.sort.is_empty() {
                if ordered.is_none() {
                    lines.push("order: id, streamed from the record table".into());
                }
            } else if let Some(index) = plan::sort_index(p.kind, &p.sort) {
                lines.push(format!(
                    "order: index {}, streamed",
                    redb::TableHandle::name(&index.table)
                ));
            } else {
                lines.push("order: read every match and sort".into());
            }
        }
    }
    if let Some(filter) = &p.filter {
        lines.push(format!("check: {}", describe(filter)));
    }
    if exact {
        lines.push("count: index keys, no records read".into());
    }
    Ok(lines.join("\n"))
}

fn describe(filter: &Filter) -> String {
    match filter {
        Filter::And(parts) => parts.iter().map(describe).collect::<Vec<_>>().join(" and "),
        Filter::Or(parts) => format!(
            "({})",
            parts.iter().map(describe).collect::<Vec<_>>().join(" or ")
        ),
        Filter::Not(part) => format!("not {}", describe(part)),
        Filter::Cmp { field, op, value } => format!("{} {op:?} {value:?}", field.name()),
        Filter::In {
            field,
            values,
            null,
        } => {
            format!(
                "{} in {values:?}{}",
                field.name(),
                if *null { " or null" } else { "" }
            )
        }
        Filter::Match { field, kind, .. } => format!("{} {kind:?} pattern", field.name()),
        Filter::Present(field) => format!("{} present", field.name()),
        Filter::Absent(field) => format!("{} absent", field.name()),
        Filter::Search(terms) => format!("search {terms:?}"),
        Filter::TenantIs(tenant) => format!("tenant is {tenant:?}"),
    }
}
