//! Typed query arguments: what a binding's caller gives a list, count or
//! explain call (keyword arguments, a record), turned into a [`Query`] by
//! the parameter form's own rules, so no binding builds query text.

use crate::{Query, Result};

/// A `sort` or `fields` argument, as the caller gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListArg {
    /// A comma list in the parameter form (`"lastName,firstName:desc"`);
    /// blank text is as if not given.
    Text(String),
    /// One key or field per item (`["lastName", "firstName:desc"]`), read by
    /// [`Query::sort_keys`] or [`Query::select`]: a blank item or one
    /// holding a comma is `InvalidQuery`. An empty list is as if not given.
    Items(Vec<String>),
}

/// The arguments of a list, count or explain call, each `None` (or empty,
/// or `false`) when not given; [`QueryArgs::query`] reads them into a
/// [`Query`].
///
/// Each argument is one parameter of the parameter form (docs/reference/queries.md, Parameter form)
/// and follows its rules: `page` and `page_size`, or `offset` and `limit`, or
/// `cursor` with at most one of `page_size` and `limit`; numbers out of
/// their range (`page` ≥ 1, `offset` ≥ 0, sizes 1–1000) are `InvalidQuery`
/// naming the parameter (`page`, `pageSize`, `offset`, `limit`), whatever
/// integer the caller gave. Errors are reported in the order of the fields
/// below, the first one found.
///
/// ```
/// use rosterdb::{ListArg, Query, QueryArgs};
///
/// let args = QueryArgs {
///     filters: vec![("enabled".into(), "true".into())],
///     sort: Some(ListArg::Items(vec!["lastName".into(), "firstName:desc".into()])),
///     page_size: Some(50),
///     ..QueryArgs::default()
/// };
/// let same = Query::from_params(&[
///     ("enabled", "true"), ("sort", "lastName,firstName:desc"), ("pageSize", "50"),
/// ])?;
/// assert_eq!(args.query()?, same);
///
/// let joined = QueryArgs {
///     sort: Some(ListArg::Items(vec!["lastName,firstName".into()])),
///     ..QueryArgs::default()
/// };
/// assert!(matches!(
///     joined.query(),
///     Err(rosterdb::Error::InvalidQuery { field: Some(f), .. }) if f == "sort"
/// ));
/// # Ok::<(), rosterdb::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryArgs {
    /// An expression (docs/reference/queries.md, Expression form), the parameter `where`; errors
    /// carry the position in its text.
    pub filter: Option<String>,
    /// Free text, the parameter `search`: every whitespace-separated term
    /// must occur in a searchable field; blank is as if not given.
    pub search: Option<String>,
    /// Field filters as (name, value) pairs of the parameter form
    /// (`("lastName", "like:Ho%")`, `("roles", "in:1,2")`), in the order
    /// given; a reserved name (`page`, `sort`, …) is that parameter.
    pub filters: Vec<(String, String)>,
    /// Sort keys; by id when not given.
    pub sort: Option<ListArg>,
    /// Top-level fields to return; whole documents when not given.
    pub fields: Option<ListArg>,
    /// The page, from 1, with `page_size`.
    pub page: Option<i128>,
    /// Items per page, 1–1000 (default 100); also the size of a cursor's page.
    pub page_size: Option<i128>,
    /// Matches to skip, from 0, with `limit`.
    pub offset: Option<i128>,
    /// Items per page, 1–1000, with `offset`; also the size of a cursor's page.
    pub limit: Option<i128>,
    /// A previous page's `next_cursor`: the page after it.
    pub cursor: Option<String>,
    /// Also count every match into the page's `total`.
    pub with_total: bool,
}

impl QueryArgs {
    /// The query these arguments ask for, or the first error among them
    /// (`InvalidQuery` naming the parameter, with a position in `where`,
    /// `sort` and `fields`). Checks against a collection's fields happen
    /// when the query runs.
    pub fn query(&self) -> Result<Query> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let Some(filter) = &self.filter {
            pairs.push(("where", filter));
        }
        if let Some(search) = &self.search {
            pairs.push(("search", search));
        }
        for (name, value) in &self.filters {
            pairs.push((name, value));
        }
        for (name, arg) in [("sort", &self.sort), ("fields", &self.fields)] {
            match arg {
                Some(ListArg::Text(text)) => pairs.push((name, text)),
                // Blank: no keys, but the name counts as given, so that a
                // filter of the same reserved name is refused as given
                // twice. The items are read below.
                Some(ListArg::Items(_)) => pairs.push((name, "")),
                None => {}
            }
        }
        // The parts before the paging, then the list items, report their
        // errors first, in the order of the fields.
        Query::from_params(&pairs)?;
        self.lists(Query::all()).checked()?;
        let numbers: Vec<(&str, String)> = [
            ("page", self.page),
            ("pageSize", self.page_size),
            ("offset", self.offset),
            ("limit", self.limit),
        ]
        .into_iter()
        .filter_map(|(name, n)| n.map(|n| (name, n.to_string())))
        .collect();
        pairs.extend(numbers.iter().map(|(name, n)| (*name, n.as_str())));
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor", cursor));
        }
        if self.with_total {
            pairs.push(("withTotal", "true"));
        }
        self.lists(Query::from_params(&pairs)?).checked()
    }

    /// `query` with the list items of `sort` and `fields`.
    fn lists(&self, mut query: Query) -> Query {
        if let Some(ListArg::Items(keys)) = &self.sort {
            query = query.sort_keys(keys);
        }
        if let Some(ListArg::Items(fields)) = &self.fields {
            query = query.select(fields);
        }
        query
    }

    /// Where the item after `before` starts, in code points of the items
    /// joined by commas: the position errors give inside list items (for a
    /// binding that finds a bad item while converting it).
    pub fn item_position<S: AsRef<str>>(before: &[S]) -> usize {
        before.iter().fold(0_usize, |at, item| {
            at.saturating_add(item.as_ref().chars().count())
                .saturating_add(1)
        })
    }
}
