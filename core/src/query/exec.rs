//! Running a query: preparing it for one kind (type checking, cursors,
//! paging), then producing pages, counts and plans.

use serde_json::{Map, Value};

use super::ast::{Paging, RawQuery};
use super::check::{Field, Filter, check, resolve};
use super::cursor::{Cursor, QueryParts};
use super::eval::matches;
use super::schema::{FieldType, fields_of, search_fields};
use std::cmp::Ordering;

use super::index::IndexDef;
use super::plan::{self, Driver};
use super::sort::{Position, SortValue, compare};
use crate::entity::Entity;
use crate::keys::trailing_u64;
use crate::rules::fold;
use crate::tx::Tables;
use crate::{EntityKind, Error, Result, Timestamp, codec};

/// The default page size.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// The largest page size.
pub const MAX_PAGE_SIZE: usize = 1000;

/// One page of results.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<E> {
    /// The documents of the page, in order.
    pub items: Vec<E>,
    /// The number of all matches, when the query asked for it.
    pub total: Option<u64>,
    /// The token of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
    /// The projection the query asked for (`id` always included).
    pub fields: Option<Vec<&'static str>>,
}

impl<E: serde::Serialize> Page<E> {
    /// The items as JSON documents, projected to the query's `fields`.
    pub fn items_json(&self) -> Result<Vec<Value>> {
        self.items
            .iter()
            .map(|item| {
                let value = serde_json::to_value(item).map_err(Error::storage)?;
                Ok(match (&self.fields, value) {
                    (Some(fields), Value::Object(map)) => Value::Object(
                        map.into_iter()
                            .filter(|(k, _)| fields.contains(&k.as_str()))
                            .collect::<Map<_, _>>(),
                    ),
                    (_, value) => value,
                })
            })
            .collect()
    }
}

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
        Err(invalid(
            name,
            format!("{name} must be 1 to {MAX_PAGE_SIZE}"),
        ))
    }
}

/// Checks `raw` against `kind`, resolving a cursor into the query it continues.
pub(crate) fn prepare(raw: &RawQuery, kind: EntityKind, scope: Option<&str>) -> Result<Prepared> {
    let given = QueryParts {
        filter: raw.filter.clone(),
        search: raw.search.clone().filter(|s| !s.trim().is_empty()),
        sort: raw.sort.clone(),
        fields: raw.fields.clone(),
        with_total: raw.with_total,
    };
    let (parts, start, size) = match &raw.paging {
        Paging::Default => (given, Start::Offset(0), DEFAULT_PAGE_SIZE),
        Paging::Page { page, size } => {
            let size = check_size(*size, "pageSize")?;
            if *page == 0 {
                return Err(invalid("page", "page must be 1 or more"));
            }
            let offset = (page - 1)
                .checked_mul(size as u64)
                .ok_or_else(|| invalid("page", "page is too large"))?;
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
            if given != QueryParts::default() && given != cursor.query {
                return Err(invalid(
                    "cursor",
                    "the query differs from the one the cursor continues",
                ));
            }
            let size = check_size(size.unwrap_or(cursor.size), "pageSize")?;
            (cursor.query, Start::After(cursor.after), size)
        }
    };
    let fields = fields_of(kind);
    let mut filters = Vec::new();
    if let Some(expr) = &parts.filter {
        filters.push(check(fields, expr)?);
    }
    if let Some(text) = &parts.search {
        filters.push(Filter::Search(text.split_whitespace().map(fold).collect()));
    }
    let filter = match filters.len() {
        0 => None,
        1 => filters.pop(),
        _ => Some(Filter::And(filters)),
    };
    let mut sort = Vec::new();
    let mut descending = Vec::new();
    for key in &parts.sort {
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
    let projection = match &parts.fields {
        None => None,
        Some(paths) => {
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
            Some(names)
        }
    };
    // `id` ascending is the final tie-breaker anyway: trailing such keys change nothing.
    while matches!(sort.last(), Some(Field::Def(def)) if def.name == "id")
        && descending.last() == Some(&false)
    {
        sort.pop();
        descending.pop();
    }
    if matches!(sort.first(), Some(Field::Def(def)) if def.ty == FieldType::Object) {
        return Err(invalid("sort", "structured values cannot be sorted"));
    }
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

/// Records are read from the table and from indexes this many at a time.
const BATCH: usize = 256;

fn load<E: Entity>(tables: &dyn Tables, id: u64) -> Result<Option<E::Record>> {
    crate::entity::load::<E>(tables, id)
}

/// The matching records among `ids`, with their positions.
fn matching_among<E: Entity>(
    tables: &dyn Tables,
    p: &Prepared,
    ids: &[u64],
    now: Timestamp,
) -> Result<Vec<(Position, E::Record)>> {
    let mut out = Vec::new();
    for &id in ids {
        if let Some(record) = load::<E>(tables, id)?
            && p.accepts::<E>(&record, now)
        {
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
    let total = if p.with_total {
        Some(count::<E>(tables, p, now)?)
    } else {
        None
    };
    let mut out = Collector::<E>::new(p);
    match plan::choose(tables, p.kind, p.filter.as_ref())? {
        Driver::Small { ids, .. } => {
            let mut found = matching_among::<E>(tables, p, &ids, now)?;
            found.sort_by(|a, b| compare(&a.0, &b.0, &p.descending));
            for (position, record) in found {
                if !out.push(position, record) {
                    break;
                }
            }
        }
        Driver::Stream { .. } => {
            if p.sort.is_empty() {
                stream_by_id::<E>(tables, p, now, &mut out)?;
            } else if let Some(index) = plan::sort_index(p.kind, &p.sort) {
                stream_by_index::<E>(tables, p, index, now, &mut out)?;
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
    let mut after = 0;
    loop {
        let batch = tables.records_after(E::TABLE, after, BATCH)?;
        let Some((last, _)) = batch.last() else {
            return Ok(out);
        };
        after = *last;
        for (_, bytes) in batch {
            let record: E::Record = codec::decode(&bytes)?;
            if p.accepts::<E>(&record, now) {
                out.push((p.position::<E>(&record, now), record));
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

/// Streams records in the order of the index of the first sort key, a run
/// of equal values at a time (each run sorted by the whole key), until the
/// page is full.
fn stream_by_index<E: Entity>(
    tables: &dyn Tables,
    p: &Prepared,
    index: &IndexDef,
    now: Timestamp,
    out: &mut Collector<'_, E>,
) -> Result<()> {
    let reverse = p.descending.first().copied().unwrap_or(false);
    // Where the scan starts: the run holding the cursor's position, or an end.
    let run_of_cursor = match &p.start {
        Start::After(position) => position.values.first().map(plan::sort_value_key),
        Start::Offset(_) => None,
    };
    let (mut start, mut end): (Vec<u8>, Option<Vec<u8>>) = match (&run_of_cursor, reverse) {
        (Some(run), false) => (run.bytes().to_vec(), None),
        (Some(run), true) => (Vec::new(), crate::keys::prefix_end(run.bytes())),
        (None, _) => (Vec::new(), None),
    };
    let mut run_key: Vec<u8> = Vec::new();
    let mut run_ids: Vec<u64> = Vec::new();
    loop {
        let keys = tables.keys_in_range(index.table, &start, end.as_deref(), BATCH, reverse)?;
        let exhausted = keys.len() < BATCH;
        for key in &keys {
            let split = key.len().saturating_sub(8);
            let (value, id) = (&key[..split], trailing_u64(key).unwrap_or_default());
            if value != run_key.as_slice() {
                if !flush_run::<E>(tables, p, &run_ids, now, out)? {
                    return Ok(());
                }
                run_key = value.to_vec();
                run_ids.clear();
            }
            run_ids.push(id);
        }
        match (keys.last(), reverse) {
            (Some(last), false) => {
                start = last.clone();
                start.push(0);
            }
            (Some(last), true) => end = Some(last.clone()),
            (None, _) => {}
        }
        if exhausted {
            flush_run::<E>(tables, p, &run_ids, now, out)?;
            return Ok(());
        }
    }
}

/// Sorts one run of equal first-key values and hands its matches over;
/// false once the page is full.
fn flush_run<E: Entity>(
    tables: &dyn Tables,
    p: &Prepared,
    ids: &[u64],
    now: Timestamp,
    out: &mut Collector<'_, E>,
) -> Result<bool> {
    let mut found = matching_among::<E>(tables, p, ids, now)?;
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
    let Some(filter) = &p.filter else {
        return tables.record_count(E::TABLE);
    };
    if let Some(n) = plan::exact_count(tables, p.kind, filter)? {
        return Ok(n);
    }
    Ok(match plan::choose(tables, p.kind, Some(filter))? {
        Driver::Small { ids, .. } => matching_among::<E>(tables, p, &ids, now)?.len() as u64,
        Driver::Stream { .. } => scan::<E>(tables, p, now)?.len() as u64,
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
            lines.push(format!("candidates: {what}, {} ids", ids.len()));
            lines.push("order: read the candidates and sort them".into());
        }
        Driver::Stream { why } => {
            lines.push(format!("candidates: scan {}s ({why})", p.kind));
            if p.sort.is_empty() {
                lines.push("order: id, streamed from the record table".into());
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
    }
}
