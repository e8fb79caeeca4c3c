//! A cursor carries its query (docs/reference/queries.md, "Results, paging and planning"): a query
//! given again with a cursor may leave its parts out (they come from the cursor) or repeat them
//! unchanged (compared by meaning, not by text); page size and totals may
//! change; a part that differs is `InvalidQuery` naming that part.

// A test fails by panicking: unwraps, indexing and arithmetic on small
// known values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use common::{Checked, store};
use rosterdb::internals::QueryInternals;
use rosterdb::internals::ast::Paging;
use rosterdb::{Error, NewUser, Page, Query, User};
use serde_json::json;

const LAST_NAMES: [&str; 6] = ["Hopper", "lovelace", "Curie", "hopper", "Noether", "Ørsted"];

/// Twelve users: last names with ties, every fourth disabled, every third
/// with a nickname, departments alternating.
fn population() -> Checked {
    let s = store();
    for i in 0..12 {
        let attributes = json!({"dept": if i % 2 == 0 { "Eng" } else { "Sales" }, "n": i});
        s.users()
            .create(NewUser {
                enabled: i % 4 != 3,
                nickname: (i % 3 == 0).then(|| format!("nick{i}")),
                attributes: attributes.as_object().unwrap().clone(),
                ..NewUser::new(
                    format!("user{i:02}"),
                    format!("user{i:02}@example.com"),
                    "First",
                    LAST_NAMES[i % 6],
                )
            })
            .unwrap();
    }
    s
}

/// Parameter pairs.
type Pairs<'a> = &'a [(&'a str, &'a str)];

fn params(pairs: &[(&str, &str)]) -> Query {
    Query::from_params(pairs).unwrap_or_else(|e| panic!("{pairs:?}: {e}"))
}

fn list(s: &Checked, query: &Query) -> rosterdb::Result<Page<User>> {
    s.users().list(query)
}

fn ids(page: &Page<User>) -> Vec<u64> {
    page.items.iter().map(|u| u.id).collect()
}

/// The parameters with a cursor added.
fn with_cursor<'a>(pairs: &[(&'a str, &'a str)], token: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut out = pairs.to_vec();
    out.push(("cursor", token));
    out
}

/// The field the `InvalidQuery` of `result` names.
#[track_caller]
fn refused(result: rosterdb::Result<Page<User>>) -> String {
    match result {
        Err(Error::InvalidQuery {
            field: Some(field), ..
        }) => field,
        other => panic!("expected InvalidQuery naming a field, got {other:?}"),
    }
}

/// The example of issue 10: a first page with a filter, one item and the
/// total; then the cursor with the filter sent again, and with `withTotal`
/// sent again.
#[test]
fn the_query_can_be_sent_again_with_its_cursor() {
    let s = population();
    let first = list(&s, &Query::parse("id > 0").unwrap().page(1, 1).with_total()).unwrap();
    assert_eq!((ids(&first), first.total), (vec![1], Some(12)));
    let token = first.next_cursor.unwrap();
    // The filter again (the builder, and the parameter form).
    let again = list(&s, &Query::parse("id > 0").unwrap().cursor(&token)).unwrap();
    assert_eq!(ids(&again), [2]);
    // Totals come from the cursor when not given.
    assert_eq!(again.total, Some(12));
    let again = list(&s, &params(&[("where", "id > 0"), ("cursor", &token)])).unwrap();
    assert_eq!(ids(&again), [2]);
    // withTotal again, with an unchanged query.
    for query in [
        Query::parse("id > 0").unwrap().with_total().cursor(&token),
        params(&[
            ("where", "id > 0"),
            ("withTotal", "true"),
            ("cursor", &token),
        ]),
        params(&[("withTotal", "true"), ("cursor", &token)]),
    ] {
        let page = list(&s, &query).unwrap();
        assert_eq!((ids(&page), page.total), (vec![2], Some(12)), "{query:?}");
    }
    // The whole first query again, its page size included.
    let whole = params(&[
        ("where", "id > 0"),
        ("pageSize", "1"),
        ("withTotal", "true"),
        ("cursor", &token),
    ]);
    let page = list(&s, &whole).unwrap();
    assert_eq!(ids(&page), [2]);
    // Its cursor goes on, whichever way the query is sent.
    let next = page.next_cursor.unwrap();
    assert_eq!(
        ids(&list(&s, &params(&[("where", "id > 0"), ("cursor", &next)])).unwrap()),
        [3]
    );
}

/// Every way of writing the same query part counts as unchanged: the
/// first query's cursor, with each rewriting, gives the page the cursor
/// alone gives.
#[test]
fn equivalent_writings_are_unchanged() {
    let s = population();
    let cases: &[(Pairs, Pairs)] = &[
        // Spacing and keyword case.
        (
            &[("where", "id > 0 and enabled = true")],
            &[("where", "  ID>0   AND Enabled=TRUE ")],
        ),
        // Operator spellings, quotes, null forms.
        (
            &[("where", "lastName = 'hopper' or nickname != null")],
            &[("where", "lastname EQ \"HOPPER\" Or nickname is not null")],
        ),
        (
            &[("where", "lastName <> 'x'")],
            &[("where", "lastName ne 'x'")],
        ),
        (
            &[("where", "nickname = null")],
            &[("where", "nickname is null")],
        ),
        // Operands of and/or in another order, grouped otherwise, repeated.
        (
            &[("where", "enabled = true and (id < 9 or id > 10)")],
            &[(
                "where",
                "(id > 10 or id < 9) and enabled = true and enabled = true",
            )],
        ),
        (
            &[("where", "id > 1 and id < 12 and enabled = true")],
            &[("where", "(enabled = true and id < 12) and id > 1")],
        ),
        // `in` lists in another order.
        (
            &[("where", "id in (1, 2, 3, 4, 5, 6, 7)")],
            &[("where", "id in (7, 6, 5, 4, 3, 2, 1, 1)")],
        ),
        // A number the field's type reads alike.
        (&[("where", "id < 10")], &[("where", "id < 10.0")]),
        // Field filters: `filter[x]` or `x`, field case, `eq:` or bare, order.
        (
            &[("lastName", "hopper"), ("enabled", "true")],
            &[("enabled", "TRUE"), ("filter[LASTNAME]", "eq:Hopper")],
        ),
        (&[("id", "in:1,2,3,4,5")], &[("filter[id]", "in:5,4,3,2,1")]),
        (
            &[("attributes.dept", "Eng")],
            &[("filter[attributes.dept]", "eq:eng")],
        ),
        // Sort: `:asc` or not, field case, a trailing `id`.
        (&[("sort", "lastName")], &[("sort", "LASTNAME:asc")]),
        (
            &[("sort", "lastName:desc")],
            &[("sort", "lastname:desc,id:asc")],
        ),
        (&[("sort", "id")], &[("sort", "id:asc")]),
        (
            &[("sort", "attributes.dept,nickname:desc")],
            &[("sort", "attributes.dept:asc, nickname:DESC")],
        ),
        // Fields in another order, with or without id, in another case.
        (
            &[("fields", "username,email")],
            &[("fields", "EMAIL, id,username,email")],
        ),
        // Search terms in another order, case and spacing.
        (
            &[("search", "user first")],
            &[("search", "  FIRST\tUser user ")],
        ),
    ];
    for (first, again) in cases {
        let mut pairs = first.to_vec();
        pairs.push(("pageSize", "2"));
        let page = list(&s, &params(&pairs)).unwrap();
        let token = page
            .next_cursor
            .unwrap_or_else(|| panic!("{first:?}: one page only"));
        let alone = list(&s, &params(&[("cursor", &token)])).unwrap();
        let resent = list(&s, &params(&with_cursor(again, &token)))
            .unwrap_or_else(|e| panic!("{first:?} then {again:?}: {e}"));
        assert_eq!(resent.items, alone.items, "{first:?} then {again:?}");
        assert_eq!(resent.fields, alone.fields, "{first:?} then {again:?}");
        assert!(!alone.items.is_empty(), "{first:?}");
    }
}

/// A part that means something else is refused, naming that part; so is a
/// part the cursor's query did not have.
#[test]
fn a_different_part_is_refused_by_name() {
    let s = population();
    let first = [
        ("where", "enabled = true"),
        ("lastName", "like:%o%"),
        ("search", "user"),
        ("sort", "lastName:desc"),
        ("fields", "username,lastName"),
        ("pageSize", "2"),
    ];
    let token = list(&s, &params(&first)).unwrap().next_cursor.unwrap();
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("where", "enabled = false")], "where"),
        (&[("where", "enabled = true and id > 0")], "where"),
        // Equivalent, but not by the rules above: in and or are not merged.
        (&[("where", "enabled in (true)")], "where"),
        // The field filter written as where: where was not given like that.
        (
            &[("where", "enabled = true and lastName like '%o%'")],
            "where",
        ),
        (&[("lastName", "like:%O")], "filters"),
        (&[("lastName", "like:%o%"), ("enabled", "true")], "filters"),
        (&[("firstName", "like:%o%")], "filters"),
        (&[("search", "user first")], "search"),
        (&[("search", "use")], "search"),
        (&[("sort", "lastName")], "sort"),
        (&[("sort", "lastName:desc,firstName")], "sort"),
        (&[("sort", "id")], "sort"),
        (&[("fields", "username")], "fields"),
        (&[("fields", "username,lastName,email")], "fields"),
        // Several parts differ: the error names one of them.
        (&[("sort", "email"), ("search", "x")], "search"),
    ];
    for (again, part) in cases {
        let got = refused(list(&s, &params(&with_cursor(again, &token))));
        assert_eq!(got, *part, "{again:?}");
    }
    let err = list(
        &s,
        &params(&[("where", "enabled = false"), ("cursor", &token)]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid query: where differs from the query the cursor continues: leave it out or \
         send it unchanged (field where)"
    );
    // The builder names the same parts.
    let built = |query: Query| refused(list(&s, &query.cursor(&token)));
    assert_eq!(built(Query::parse("enabled = false").unwrap()), "where");
    assert_eq!(built(Query::all().sort("email")), "sort");
    assert_eq!(built(Query::all().fields("id")), "fields");
    assert_eq!(built(Query::all().search("ann")), "search");
    // A cursor of a query without a filter: any filter given is different.
    let plain = list(&s, &params(&[("pageSize", "2")]))
        .unwrap()
        .next_cursor
        .unwrap();
    for (again, part) in [
        (("where", "id > 0"), "where"),
        (("enabled", "true"), "filters"),
        (("search", "user"), "search"),
        (("sort", "lastName"), "sort"),
        (("fields", "id"), "fields"),
    ] {
        assert_eq!(
            refused(list(&s, &params(&[again, ("cursor", &plain)]))),
            part
        );
    }
    // Blank parts are parts left out.
    let blank = params(&[
        ("where", " "),
        ("search", ""),
        ("sort", ""),
        ("fields", " "),
        ("cursor", &plain),
    ]);
    assert_eq!(ids(&list(&s, &blank).unwrap()), [3, 4]);
}

/// A part given with a cursor is checked as itself first: its own error
/// comes before any comparison.
#[test]
fn a_bad_part_reports_its_own_error() {
    let s = population();
    let token = list(&s, &params(&[("pageSize", "2")]))
        .unwrap()
        .next_cursor
        .unwrap();
    for (again, field) in [
        (("where", "nosuch = 1"), "nosuch"),
        (("where", "enabled = 'abc'"), "enabled"),
        (("nosuch", "1"), "nosuch"),
        (("sort", "roles"), "sort"),
        (("fields", "attributes.dept"), "fields"),
    ] {
        assert_eq!(
            refused(list(&s, &params(&[again, ("cursor", &token)]))),
            field,
            "{again:?}"
        );
    }
    // Paging of another style is still refused, naming it.
    for (again, field) in [(("page", "2"), "page"), (("offset", "2"), "offset")] {
        let err = Query::from_params(&[("cursor", token.as_str()), again]).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidQuery { field: Some(f), .. } if f == field),
            "{err:?}"
        );
    }
}

/// Page size (`pageSize` or `limit`) and `withTotal` may change with a
/// cursor; the next cursor carries the new ones.
#[test]
fn page_size_and_totals_may_change() {
    let s = population();
    let first = list(&s, &params(&[("sort", "lastName"), ("pageSize", "2")])).unwrap();
    assert_eq!(first.total, None);
    let token = first.next_cursor.unwrap();
    let alone = list(&s, &params(&[("cursor", &token)])).unwrap();
    assert_eq!((alone.items.len(), alone.total), (2, None));
    let bigger = list(
        &s,
        &params(&[
            ("sort", "lastName"),
            ("limit", "5"),
            ("withTotal", "true"),
            ("cursor", &token),
        ]),
    )
    .unwrap();
    assert_eq!((bigger.items.len(), bigger.total), (5, Some(12)));
    assert_eq!(bigger.items[..2], alone.items[..]);
    // The next cursor keeps the new size and the totals.
    let token = bigger.next_cursor.unwrap();
    let rest = list(&s, &params(&[("cursor", &token)])).unwrap();
    assert_eq!(
        (rest.items.len(), rest.total, rest.next_cursor),
        (5, Some(12), None)
    );
    // Totals can be turned off again, and the size changed once more.
    let off = list(
        &s,
        &params(&[
            ("withTotal", "false"),
            ("pageSize", "3"),
            ("cursor", &token),
        ]),
    )
    .unwrap();
    assert_eq!((off.items.len(), off.total), (3, None));
    assert_eq!(off.items[..], rest.items[..3]);
    let last = list(&s, &params(&[("cursor", &off.next_cursor.unwrap())])).unwrap();
    assert_eq!(
        (last.items.len(), last.total, last.next_cursor),
        (2, None, None)
    );
    // A page size out of range with a cursor (a hand-made query can carry
    // one) is refused as such.
    let mut raw = params(&[("cursor", &token)]).raw().clone();
    raw.paging = Paging::Cursor {
        token: token.clone(),
        size: Some(0),
    };
    assert_eq!(refused(list(&s, &Query::from(raw))), "pageSize");
}

/// A walk that sends its whole query with every cursor sees every match
/// once, in order, as a walk with the cursor alone does.
#[test]
fn walks_sending_the_query_again_see_every_match_once() {
    let s = population();
    let query = [
        ("where", "id > 1"),
        ("enabled", "true"),
        ("sort", "lastName:desc,nickname"),
        ("fields", "username,lastName"),
        ("withTotal", "true"),
    ];
    let mut first = query.to_vec();
    first.push(("pageSize", "2"));
    let whole: Vec<u64> = ids(&list(
        &s,
        &params(&[
            ("where", "id > 1"),
            ("enabled", "true"),
            ("sort", "lastName:desc,nickname"),
        ]),
    )
    .unwrap());
    let mut page = list(&s, &params(&first)).unwrap();
    let mut seen = ids(&page);
    while let Some(token) = page.next_cursor.clone() {
        page = list(&s, &params(&with_cursor(&query, &token))).unwrap();
        assert_eq!(page.total, Some(whole.len() as u64));
        seen.extend(ids(&page));
    }
    assert_eq!(seen, whole);
    assert!(whole.len() > 4, "{whole:?}");
}
