//! Queries (docs/reference/queries.md): the `ListQuery` record, which becomes the core's
//! typed query arguments (`rosterdb::QueryArgs`: lists stay lists, numbers
//! stay numbers), and the pages the store returns. The core reads, checks
//! and runs them; nothing here builds or joins query text.

use std::collections::HashMap;

use serde_json::Value;

use rosterdb::{ListArg, QueryArgs};

use crate::json::NOT_UNICODE;
use crate::{Client, Role, RosterError, UnicodeString, User};

/// `InvalidQuery` on the parameter `name`, whose text is not Unicode.
fn not_unicode(name: &str, position: Option<usize>) -> RosterError {
    RosterError::InvalidQuery {
        code: rosterdb::QueryCode::StringUnicode.as_str().into(),
        reason: format!("{name} {NOT_UNICODE}"),
        position: position.map(|p| u64::try_from(p).unwrap_or(u64::MAX)),
        field: Some(name.to_owned()),
    }
}

/// What to list, count, test or explain (docs/reference/queries.md). Every field has a
/// default, so `ListQuery()` is every record, first page (100), by id.
///
/// Each field is one parameter of the parameter form (docs/reference/queries.md, Parameter form),
/// and the core checks them all: a bad value is `InvalidQuery` naming the parameter,
/// or the position in `filter`.
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct ListQuery {
    /// An expression (docs/reference/queries.md, Expression form), e.g. `enabled = true and
    /// lastName sw 'ho'`; the parameter `where`, a reserved word in Swift.
    #[uniffi(default = None)]
    pub filter: Option<UnicodeString>,
    /// Free text: every whitespace-separated term must occur in a searchable field.
    #[uniffi(default = None)]
    pub search: Option<UnicodeString>,
    /// Field filters in the parameter form, name to value: `"enabled" to "true"`,
    /// `"lastName" to "like:Ho%"`, `"roles" to "in:1,2"`; `filter[name]` is
    /// an alias of `name`. Filters are ANDed with each other and with `filter`.
    #[uniffi(default)]
    pub filters: HashMap<UnicodeString, UnicodeString>,
    /// Sort keys, each a field optionally suffixed `:asc` or `:desc`; `id`
    /// is always the final tie-breaker.
    #[uniffi(default = [])]
    pub sort: Vec<UnicodeString>,
    /// Top-level fields to return (`id` is always included). Only the
    /// `listJson` call can return a projection: typed lists refuse it.
    #[uniffi(default = [])]
    pub fields: Vec<UnicodeString>,
    /// The page (from 1), with `pageSize`.
    #[uniffi(default = None)]
    pub page: Option<u64>,
    /// Items per page, 1–1000 (default 100); also the size of a cursor's page.
    #[uniffi(default = None)]
    pub page_size: Option<u32>,
    /// Matches to skip, with `limit`; not with `page` or `pageSize`.
    #[uniffi(default = None)]
    pub offset: Option<u64>,
    /// Items per page, 1–1000, with `offset`; also the size of a cursor's page.
    #[uniffi(default = None)]
    pub limit: Option<u32>,
    /// A previous page's `nextCursor`: the page after it, of the same
    /// query. Other fields may come with it only unchanged (`pageSize` and
    /// `limit` excepted); not with `page` or `offset`.
    #[uniffi(default = None)]
    pub cursor: Option<UnicodeString>,
    /// Also count every match into the page's `total`.
    #[uniffi(default = false)]
    pub with_total: bool,
}

impl ListQuery {
    /// The query's arguments for the core, which reads them by the
    /// parameter form's rules: `sort` and `fields` as lists (one key or
    /// field per item; an empty list is as if not given), the filters in
    /// the order of their names (so that the first error reported does not
    /// depend on a hash map's order), the paging numbers as numbers.
    ///
    /// Text that is not Unicode is `InvalidQuery` naming the parameter (a
    /// filter by its name, a filter name as `filters`), at the position of
    /// its first lone surrogate in `where`, `search`, `sort` and `fields`
    /// (as the core counts positions: in code points, the items of `sort`
    /// and `fields` as if joined by commas). Such errors come first, in the
    /// order `where`, `search`, filters, `sort`, `fields`, `cursor`.
    pub(crate) fn args(&self) -> Result<QueryArgs, RosterError> {
        let positioned = |name: &str, text: &UnicodeString, offset: usize| {
            text.clone()
                .unicode()
                .map_err(|e| not_unicode(name, Some(offset.saturating_add(e.position))))
        };
        let filter = self
            .filter
            .as_ref()
            .map(|text| positioned("where", text, 0))
            .transpose()?;
        let search = self
            .search
            .as_ref()
            .map(|text| positioned("search", text, 0))
            .transpose()?;
        let mut named: Vec<_> = self.filters.iter().collect();
        named.sort();
        let mut filters = Vec::with_capacity(named.len());
        for (name, value) in named {
            let name = name
                .clone()
                .unicode()
                .map_err(|_| RosterError::InvalidQuery {
                    code: rosterdb::QueryCode::StringUnicode.as_str().into(),
                    reason:
                        "filter names must be Unicode text (one holds lone surrogate code points)"
                            .into(),
                    position: None,
                    field: Some("filters".into()),
                })?;
            let value = value
                .clone()
                .unicode()
                .map_err(|_| not_unicode(&name, None))?;
            filters.push((name, value));
        }
        let list = |name: &str, items: &[UnicodeString]| {
            let mut out: Vec<String> = Vec::with_capacity(items.len());
            for item in items {
                let at = QueryArgs::item_position(&out);
                out.push(positioned(name, item, at)?);
            }
            Ok::<_, RosterError>((!out.is_empty()).then_some(ListArg::Items(out)))
        };
        let sort = list("sort", &self.sort)?;
        let fields = list("fields", &self.fields)?;
        let cursor = self
            .cursor
            .as_ref()
            .map(|cursor| {
                cursor
                    .clone()
                    .unicode()
                    .map_err(|_| not_unicode("cursor", None))
            })
            .transpose()?;
        Ok(QueryArgs {
            filter,
            search,
            filters,
            sort,
            fields,
            page: self.page.map(i128::from),
            page_size: self.page_size.map(i128::from),
            offset: self.offset.map(i128::from),
            limit: self.limit.map(i128::from),
            cursor,
            with_total: self.with_total,
        })
    }

    /// The core's query.
    pub(crate) fn to_query(&self) -> Result<rosterdb::Query, RosterError> {
        Ok(self.args()?.query()?)
    }

    /// The core's query for a typed list or walk, which holds whole
    /// records: a projection (`fields`) is `InvalidQuery` on `fields`.
    pub(crate) fn to_typed_query(&self) -> Result<rosterdb::Query, RosterError> {
        let query = self.to_query()?;
        if query.selects_fields() {
            return Err(RosterError::InvalidQuery {
                code: rosterdb::QueryCode::InvalidParameter.as_str().into(),
                reason: "a typed page holds whole records; list with listJson to select fields"
                    .into(),
                position: None,
                field: Some("fields".into()),
            });
        }
        Ok(query)
    }
}

/// Declares the typed page record of one kind and its conversion from the core's page.
macro_rules! page_records {
    ($($(#[$attr:meta])* $page:ident of $doc:ident;)+) => {$(
        $(#[$attr])*
        #[derive(Clone, Debug, PartialEq, uniffi::Record)]
        pub struct $page {
            /// The records of the page, in order; whole records (typed lists
            /// refuse `fields`).
            pub items: Vec<$doc>,
            /// The number of all matches, when the query set `withTotal`.
            pub total: Option<u64>,
            /// The `cursor` of the next page; `null`/`nil` on the last page.
            pub next_cursor: Option<String>,
        }

        impl From<rosterdb::Page<rosterdb::$doc>> for $page {
            fn from(page: rosterdb::Page<rosterdb::$doc>) -> Self {
                $page {
                    items: page.items.into_iter().map(Into::into).collect(),
                    total: page.total,
                    next_cursor: page.next_cursor,
                }
            }
        }
    )+};
}

page_records! {
    /// One page of users, as `listUsers` returns it.
    UserPage of User;
    /// One page of roles, as `listRoles` returns it.
    RolePage of Role;
    /// One page of app-clients, as `listClients` returns it.
    ClientPage of Client;
}

/// A page as the JSON document `listJson` returns.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageDoc {
    items: Vec<Value>,
    total: Option<u64>,
    next_cursor: Option<String>,
}

impl PageDoc {
    /// The page with its documents projected to the query's `fields`.
    pub(crate) fn new<E: serde::Serialize>(
        page: rosterdb::Page<E>,
    ) -> Result<PageDoc, RosterError> {
        Ok(PageDoc {
            items: page.items_json()?,
            total: page.total,
            next_cursor: page.next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_becomes_its_typed_argument() {
        let query = ListQuery {
            filter: Some("enabled = true".into()),
            search: Some("ann".into()),
            filters: HashMap::from([
                ("lastName".into(), "like:Ho%".into()),
                ("filter[email]".into(), "a@b.io".into()),
            ]),
            sort: vec!["lastName".into(), "firstName:desc".into()],
            fields: vec!["id".into(), "username".into()],
            page: Some(2),
            page_size: Some(50),
            offset: Some(0),
            limit: Some(10),
            cursor: Some("c".into()),
            with_total: true,
        };
        let items = |items: &[&str]| {
            Some(ListArg::Items(
                items.iter().map(|s| s.to_string()).collect(),
            ))
        };
        let args = query.args().unwrap();
        let text = [args.filter, args.search, args.cursor].map(Option::unwrap_or_default);
        assert_eq!(text, ["enabled = true", "ann", "c"]);
        let by_name = [("filter[email]", "a@b.io"), ("lastName", "like:Ho%")];
        let by_name = by_name.map(|(n, v)| (n.to_owned(), v.to_owned()));
        assert_eq!(
            args.filters, by_name,
            "the filters, in the order of their names"
        );
        assert_eq!(args.sort, items(&["lastName", "firstName:desc"]));
        assert_eq!(args.fields, items(&["id", "username"]));
        let paging = (args.page, args.page_size, args.offset, args.limit);
        assert!(args.with_total);
        assert_eq!(paging, (Some(2), Some(50), Some(0), Some(10)));
    }

    #[test]
    fn defaults_give_no_arguments() {
        assert_eq!(ListQuery::default().args().unwrap(), QueryArgs::default());
        assert_eq!(
            ListQuery::default().to_query().unwrap(),
            rosterdb::Query::all()
        );
    }

    #[test]
    fn list_items_reach_the_core_as_items() {
        // One item holding a comma is one bad key, not two keys.
        let joined = ListQuery {
            sort: vec!["lastName,firstName".into()],
            ..ListQuery::default()
        };
        match joined.to_query() {
            Err(RosterError::InvalidQuery { field, .. }) => {
                assert_eq!(field.as_deref(), Some("sort"))
            }
            other => panic!("expected InvalidQuery on sort, got {other:?}"),
        }
        let two = ListQuery {
            sort: vec!["lastName".into(), "firstName".into()],
            ..ListQuery::default()
        };
        let same = rosterdb::Query::from_params(&[("sort", "lastName,firstName")]).unwrap();
        assert_eq!(two.to_query().unwrap(), same);
    }

    #[test]
    fn text_that_is_not_unicode_is_invalid_query_on_its_parameter() {
        // "\uD800" from Kotlin: WTF-8.
        let bad = |before: &str| {
            let mut bytes = before.as_bytes().to_vec();
            bytes.extend([0xED, 0xA0, 0x80]);
            UnicodeString::from_bytes(bytes)
        };
        let at = |query: ListQuery| match query.to_query() {
            Err(RosterError::InvalidQuery {
                code,
                reason,
                position,
                field,
            }) => {
                assert!(reason.contains("must be Unicode text"), "{reason}");
                assert_eq!(code, "string_unicode");
                (field.unwrap_or_default(), position)
            }
            other => panic!("{other:?}"),
        };
        let query = ListQuery::default;
        let filter = Some(bad("id = 'é😀"));
        assert_eq!(
            at(ListQuery { filter, ..query() }),
            ("where".into(), Some(8))
        );
        let search = Some(bad(""));
        assert_eq!(
            at(ListQuery { search, ..query() }),
            ("search".into(), Some(0))
        );
        let sort = vec!["lastName".into(), "id".into(), bad("fi")];
        assert_eq!(at(ListQuery { sort, ..query() }), ("sort".into(), Some(14)));
        let fields = vec![bad("é")];
        assert_eq!(
            at(ListQuery { fields, ..query() }),
            ("fields".into(), Some(1))
        );
        let cursor = Some(bad("abc"));
        assert_eq!(at(ListQuery { cursor, ..query() }), ("cursor".into(), None));
        let filters = HashMap::from([("lastName".into(), bad("Ho"))]);
        assert_eq!(
            at(ListQuery { filters, ..query() }),
            ("lastName".into(), None)
        );
        let filters = HashMap::from([(bad("last"), "Ho".into())]);
        assert_eq!(
            at(ListQuery { filters, ..query() }),
            ("filters".into(), None)
        );
    }

    #[test]
    fn typed_lists_refuse_a_projection() {
        let query = ListQuery {
            fields: vec!["username".into()],
            ..ListQuery::default()
        };
        assert!(query.to_query().is_ok());
        match query.to_typed_query() {
            Err(RosterError::InvalidQuery {
                field, position, ..
            }) => assert_eq!((field.as_deref(), position), (Some("fields"), None)),
            other => panic!("expected InvalidQuery on fields, got {other:?}"),
        }
        let blank = ListQuery {
            fields: vec![" ".into()],
            ..ListQuery::default()
        };
        assert!(
            matches!(blank.to_typed_query(), Err(RosterError::InvalidQuery { field: Some(f), .. }) if f == "fields"),
            "a blank item is no field"
        );
        let by_filter = ListQuery {
            filters: HashMap::from([("fields".into(), "username".into())]),
            ..ListQuery::default()
        };
        assert!(
            by_filter.to_typed_query().is_err(),
            "a projection through the filter named fields is refused too"
        );
    }
}
