//! Binding: a query's untyped parts checked against one kind's fields,
//! its cursor resolved into the query it continues, its paging into a start
//! and a size, and a scoped view's tenant added as a condition. The result,
//! a [`Bound`] query, is what the planner plans.

use super::ast::{Expr, FieldFilter, Paging, Path, RawQuery, SortKey};
use super::check::{Field, Filter, check, resolve};
use super::cursor::{Cursor, QueryParts};
use super::number::Misfit;
use super::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use super::params::number_error;
use super::schema::{FieldDef, FieldType, fields_of};
use super::sort::Position;
use crate::documents::caseless::fold;
use crate::{EntityKind, Error, QueryCode, Result};

/// Where a page starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Start {
    /// After skipping this many matches.
    Offset(u64),
    /// Just after this position (a cursor's).
    After(Position),
}

/// One sort key: a field and its direction.
#[derive(Clone, Debug, PartialEq)]
pub struct SortBy {
    /// The field.
    pub field: Field,
    /// Descending when true.
    pub descending: bool,
}

/// A query checked against one kind, ready to plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Bound {
    /// The kind queried.
    pub kind: EntityKind,
    /// The whole filter: `where`, the field filters, the search terms and a
    /// scoped view's tenant, ANDed (`None`: every record).
    pub filter: Option<Filter>,
    /// The sort keys, without trailing `id` ascending keys.
    pub sort: Vec<SortBy>,
    /// The projection (`id` first), when the query names fields.
    pub projection: Option<Vec<&'static str>>,
    /// Where the page starts.
    pub start: Start,
    /// The page size, 1 to [`MAX_PAGE_SIZE`].
    pub size: usize,
    /// Whether a page carries the total.
    pub with_total: bool,
    /// The tenant of a scoped view.
    pub scope: Option<String>,
    /// The query a next page's cursor continues.
    pub parts: QueryParts,
}

impl Bound {
    /// The query `exists` runs: the first match in id order, one item, no
    /// total — the query without its sort, paging and `withTotal`, as
    /// `page(1, 1)` binds it.
    pub fn first_match(&self) -> Bound {
        Bound {
            start: Start::Offset(0),
            size: 1,
            with_total: false,
            sort: Vec::new(),
            parts: QueryParts {
                sort: Vec::new(),
                with_total: false,
                ..self.parts.clone()
            },
            ..self.clone()
        }
    }
}

fn invalid(code: QueryCode, field: &str, message: impl Into<String>) -> Error {
    Error::query(code, message).for_field(field)
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

/// Checks `raw` against `kind` (and a scoped view's `scope`), resolving a
/// cursor into the query it continues.
///
/// Errors: `InvalidQuery` naming the field, parameter or part at fault (an
/// unknown or write-only field, a mistyped literal, an unsortable sort key,
/// a page size outside 1–1000, a page past `u64`, a damaged cursor or one of
/// another collection or scope, a part that differs from the cursor's).
pub(crate) fn bind(raw: &RawQuery, kind: EntityKind, scope: Option<&str>) -> Result<Bound> {
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
            // (size is at least 1: checked above.)
            let last_page = u64::MAX
                .checked_div(size as u64)
                .unwrap_or(u64::MAX)
                .saturating_add(1);
            let Some(before) = page.checked_sub(1) else {
                return Err(number_error("page", Misfit::TooSmall, 1, last_page));
            };
            let offset = before
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
                    QueryCode::InvalidCursor,
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
    let sort = sort_keys(fields, &parts.sort)?;
    let projection = projection(fields, parts.fields.as_deref())?;
    Ok(Bound {
        kind,
        filter,
        sort,
        projection,
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
fn sort_keys(fields: &'static [FieldDef], keys: &[SortKey]) -> Result<Vec<SortBy>> {
    let mut sort = Vec::new();
    for key in keys {
        let field = resolve(fields, &key.path, Some("sort"))?;
        if let Field::Def(def) = &field
            && !def.ty.sortable()
        {
            return Err(Error::query(
                QueryCode::NotSortable,
                format!("{} is {} and cannot be sorted", def.name, def.ty.describe()),
            )
            .at_position(key.path.position)
            .for_field("sort"));
        }
        sort.push(SortBy {
            field,
            descending: key.descending,
        });
    }
    while matches!(
        sort.last(),
        Some(SortBy { field: Field::Def(def), descending: false }) if def.name == "id"
    ) {
        sort.pop();
    }
    if matches!(
        sort.first(),
        Some(SortBy { field: Field::Def(def), .. }) if def.ty == FieldType::Object
    ) {
        return Err(invalid(
            QueryCode::NotSortable,
            "sort",
            "structured values cannot be sorted",
        ));
    }
    Ok(sort)
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
                return Err(Error::query(
                    QueryCode::NotTopLevel,
                    format!(
                        "{} is not a top-level field; fields lists top-level fields",
                        other.name()
                    ),
                )
                .at_position(path.position)
                .for_field("fields"));
            }
        }
    }
    Ok(Some(names))
}

/// The query a cursor continues, after checking the parts given with it
/// (docs/reference/queries.md, "Results, paging and planning"): a part left out comes from the
/// cursor; a part given must mean what the cursor's does, compared in compiled form, or it is
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
            QueryCode::CursorMismatch,
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
