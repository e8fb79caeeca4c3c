//! `Query`: what to list, count or explain, built from an expression, from
//! parameter pairs, or step by step.

use super::ast::{Paging, RawQuery};
use super::bind::{Bound, bind};
use super::{params, parser};
use crate::{EntityKind, Error, QueryCode, Result};

/// A query over one collection (docs/reference/queries.md).
///
/// ```
/// use rosterdb::Query;
///
/// let q = Query::parse("enabled = true and lastName sw 'lo'")?
///     .sort("lastName,firstName:desc")
///     .page(1, 50)
///     .with_total();
/// let same = Query::from_params(&[
///     ("enabled", "true"), ("lastName", "like:lo%"),
///     ("sort", "lastName,firstName:desc"), ("pageSize", "50"), ("withTotal", "true"),
/// ])?;
/// # let _ = (q, same);
/// # Ok::<(), rosterdb::Error>(())
/// ```
///
/// Builder steps never fail on the spot: the first bad step's error is
/// returned by the call that runs the query.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    raw: RawQuery,
    error: Option<Error>,
}

impl Query {
    /// Every record, first page, sorted by id.
    pub fn all() -> Query {
        Query::default()
    }

    /// The records matching an expression (docs/reference/queries.md, Expression form); blank text
    /// matches all.
    pub fn parse(expr: &str) -> Result<Query> {
        Ok(Query {
            raw: RawQuery {
                filter: parser::parse_expr(expr)?,
                ..RawQuery::default()
            },
            error: None,
        })
    }

    /// A query in the parameter form (docs/reference/queries.md, Parameter form), as a query string
    /// carries it.
    pub fn from_params<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Result<Query> {
        Ok(Query {
            raw: params::parse_params(pairs)?,
            error: None,
        })
    }

    /// The untyped form of the query (for the crate and, with the
    /// `internals` feature, its tests: `rosterdb::internals::QueryInternals`).
    #[cfg_attr(not(feature = "internals"), allow(dead_code))]
    pub(crate) fn raw(&self) -> &RawQuery {
        &self.raw
    }

    /// Whether the query names the fields to return (`fields`, a
    /// projection). A query continuing a cursor names them only when they
    /// are given again.
    pub fn selects_fields(&self) -> bool {
        self.raw.fields.is_some()
    }

    fn step(mut self, f: impl FnOnce(&mut RawQuery) -> Result<()>) -> Query {
        if self.error.is_none()
            && let Err(e) = f(&mut self.raw)
        {
            self.error = Some(e);
        }
        self
    }

    /// Also requires an expression to hold.
    pub fn and_where(self, expr: &str) -> Query {
        self.step(|raw| {
            if let Some(more) = parser::parse_expr(expr)? {
                raw.filter = Some(match raw.filter.take() {
                    Some(existing) => super::ast::Expr::And(vec![existing, more]),
                    None => more,
                });
            }
            Ok(())
        })
    }

    /// Free-text search: every term must occur in a searchable field.
    pub fn search(self, text: &str) -> Query {
        self.step(|raw| {
            raw.search = Some(text.to_owned()).filter(|t| !t.trim().is_empty());
            Ok(())
        })
    }

    /// Sort keys, e.g. `lastName,firstName:desc`.
    pub fn sort(self, spec: &str) -> Query {
        self.step(|raw| {
            raw.sort = parser::parse_sort(spec)?;
            Ok(())
        })
    }

    /// The top-level fields to return, e.g. `id,username`.
    pub fn fields(self, spec: &str) -> Query {
        self.step(|raw| {
            raw.fields = Some(parser::parse_fields(spec)?);
            Ok(())
        })
    }

    /// Page `page` (from 1) of `size` items.
    pub fn page(self, page: u64, size: usize) -> Query {
        self.step(|raw| {
            raw.paging = Paging::Page { page, size };
            Ok(())
        })
    }

    /// `limit` items after skipping `offset` matches.
    pub fn offset(self, offset: u64, limit: usize) -> Query {
        self.step(|raw| {
            raw.paging = Paging::Offset { offset, limit };
            Ok(())
        })
    }

    /// The page after a previous page's `next_cursor`, of the query the
    /// cursor carries. The query's own filter, search, sort and fields may
    /// be left out or be the cursor's query again (compared by meaning, not
    /// by text; a different one is `InvalidQuery` naming the part, docs/reference/queries.md);
    /// the page size and [`with_total`](Query::with_total) may change.
    pub fn cursor(self, token: &str) -> Query {
        self.step(|raw| {
            raw.paging = Paging::Cursor {
                token: token.to_owned(),
                size: None,
            };
            Ok(())
        })
    }

    /// Also counts every match into the page's `total`.
    pub fn with_total(self) -> Query {
        self.step(|raw| {
            raw.with_total = Some(true);
            Ok(())
        })
    }

    /// The query checked against `kind` in a view of `scope`: the first
    /// builder step's error, or binding's (see [`bind`]).
    pub(crate) fn bind(&self, kind: EntityKind, scope: Option<&str>) -> Result<Bound> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        bind(&self.raw, kind, scope)
    }
}

impl From<RawQuery> for Query {
    fn from(raw: RawQuery) -> Query {
        Query { raw, error: None }
    }
}

/// Steps for callers that hold lists (a binding's `sort=[…]`): one item per
/// key or field, so nothing is joined or split on commas.
impl Query {
    /// Sort keys, one per item: `field`, `field:asc` or `field:desc`
    /// (`&["lastName", "firstName:desc"]`); an empty list is the default
    /// order, by id, which is always the final tie-breaker.
    ///
    /// Errors (`InvalidQuery` on `sort`, returned when the query runs or by
    /// [`Query::checked`]): an item that is blank or holds a comma (one key
    /// per item; the message names the item, e.g. `sort[1]`), or an item
    /// that is not a sort key. Positions count code points in the items as
    /// if joined by commas, as in the parameter form's `sort`.
    pub fn sort_keys<S: AsRef<str>>(self, keys: &[S]) -> Query {
        self.step(|raw| {
            raw.sort = list_items(
                "sort",
                "key",
                keys,
                parser::parse_sort_key,
                |key, offset| {
                    key.path.position = key.path.position.saturating_add(offset);
                },
            )?;
            Ok(())
        })
    }

    /// The top-level fields to return, one per item (`&["id", "username"]`;
    /// `id` is always included); an empty list returns whole documents.
    ///
    /// Errors (`InvalidQuery` on `fields`, returned when the query runs or
    /// by [`Query::checked`]): an item that is blank or holds a comma (the
    /// message names the item, e.g. `fields[0]`), or an item that is not a
    /// field path. Positions count as for [`Query::sort_keys`].
    pub fn select<S: AsRef<str>>(self, fields: &[S]) -> Query {
        self.step(|raw| {
            let paths = list_items(
                "fields",
                "field",
                fields,
                parser::parse_field,
                |path, offset| {
                    path.position = path.position.saturating_add(offset);
                },
            )?;
            raw.fields = (!paths.is_empty()).then_some(paths);
            Ok(())
        })
    }

    /// This query, or the error of its first bad builder step (which would
    /// otherwise come from the call that runs it). Checks against a
    /// collection's fields still happen when the query runs.
    pub fn checked(self) -> Result<Query> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }
}

/// Reads the items of the list parameter `param` (whose items are each a
/// `noun`) with `parse`, then moves each item's positions by `shift` to
/// where the item would start in the items joined by commas.
fn list_items<S: AsRef<str>, T>(
    param: &str,
    noun: &str,
    items: &[S],
    parse: fn(&str) -> Result<T>,
    shift: fn(&mut T, usize),
) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(items.len());
    let mut offset = 0_usize;
    for (index, item) in items.iter().enumerate() {
        let item = item.as_ref();
        let refuse = |at: usize, problem: &str| {
            Error::query(
                QueryCode::InvalidParameter,
                format!("{param}[{index}] {problem}: give one {noun} per item"),
            )
            .at_position(offset.saturating_add(at))
            .for_field(param)
        };
        if item.trim().is_empty() {
            return Err(refuse(0, "is empty"));
        }
        if let Some(comma) = item.chars().position(|c| c == ',') {
            return Err(refuse(comma, "holds a comma"));
        }
        let mut parsed = parse(item).map_err(|mut e| {
            if let Error::InvalidQuery {
                position: Some(p), ..
            } = &mut e
            {
                *p = p.saturating_add(offset);
            }
            e
        })?;
        shift(&mut parsed, offset);
        out.push(parsed);
        offset = offset
            .saturating_add(item.chars().count())
            .saturating_add(1);
    }
    Ok(out)
}
