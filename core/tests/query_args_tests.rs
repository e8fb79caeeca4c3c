//! Typed query arguments: `Query::sort_keys`, `Query::select`,
//! `Query::checked` and `QueryArgs`, against the parameter form they stand for.

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

use common::{store, user};
use rosterdb::{Error, ListArg, Query, QueryArgs};

/// The (field, position, message) of an `InvalidQuery`, or a panic.
fn query_error<T: std::fmt::Debug>(result: rosterdb::Result<T>) -> (String, Option<usize>, String) {
    match result {
        Err(Error::InvalidQuery {
            message,
            position,
            field,
            ..
        }) => (field.unwrap_or_default(), position, message),
        other => panic!("expected InvalidQuery, got {other:?}"),
    }
}

fn items(list: &[&str]) -> Option<ListArg> {
    Some(ListArg::Items(list.iter().map(|s| s.to_string()).collect()))
}

fn text(s: &str) -> Option<ListArg> {
    Some(ListArg::Text(s.to_owned()))
}

#[test]
fn list_items_are_the_comma_list_they_would_join_to() {
    assert_eq!(
        Query::all().sort_keys(&["lastName", " firstName:DESC "]),
        Query::all().sort("lastName, firstName:DESC ")
    );
    assert_eq!(
        Query::all().select(&["id", "username"]),
        Query::all().fields("id,username")
    );
    let none: [&str; 0] = [];
    assert_eq!(Query::all().sort_keys(&none), Query::all());
    assert_eq!(
        Query::all().select(&none),
        Query::all(),
        "an empty list selects whole documents"
    );
}

#[test]
fn an_item_holding_a_comma_is_an_error_not_two_keys() {
    let (field, position, message) =
        query_error(Query::all().sort_keys(&["lastName,firstName"]).checked());
    assert_eq!((field.as_str(), position), ("sort", Some(8)));
    assert!(message.contains("sort[0] holds a comma"), "{message}");
    let (field, position, message) =
        query_error(Query::all().select(&["id", "username,email"]).checked());
    assert_eq!((field.as_str(), position), ("fields", Some(11)));
    assert!(message.contains("fields[1] holds a comma"), "{message}");
    // The same through QueryArgs, and when the query runs.
    let args = QueryArgs {
        sort: items(&["lastName,firstName"]),
        ..QueryArgs::default()
    };
    assert_eq!(query_error(args.query()).0, "sort");
    let s = store();
    let q = Query::all().sort_keys(&["a,b"]);
    assert_eq!(query_error(s.users().list(&q)).0, "sort");
}

#[test]
fn empty_and_blank_items_are_errors_naming_the_item() {
    for blank in ["", "  "] {
        let (field, position, message) =
            query_error(Query::all().sort_keys(&["lastName", blank]).checked());
        assert_eq!((field.as_str(), position), ("sort", Some(9)));
        assert!(message.contains("sort[1] is empty"), "{message}");
        let (field, position, message) = query_error(Query::all().select(&[blank]).checked());
        assert_eq!((field.as_str(), position), ("fields", Some(0)));
        assert!(message.contains("fields[0] is empty"), "{message}");
    }
}

#[test]
fn errors_inside_an_item_are_where_the_joined_list_puts_them() {
    // Syntax: a bad direction in the second key.
    let listed = query_error(Query::all().sort_keys(&["lastName", "id:up"]).checked());
    let joined = query_error(Query::from_params(&[("sort", "lastName,id:up")]));
    assert_eq!(listed, joined);
    assert_eq!(listed.1, Some(12));
    // Fields: an unknown field is found when the query runs, at its path's position.
    let s = store();
    let listed = query_error(
        s.users()
            .list(&Query::all().sort_keys(&["lastName", "nope"])),
    );
    let joined = query_error(s.users().list(&Query::all().sort("lastName,nope")));
    assert_eq!(listed, joined);
    assert_eq!(listed.1, Some(9));
    let listed = query_error(s.users().list(&Query::all().select(&["id", " nope"])));
    let joined = query_error(s.users().list(&Query::all().fields("id, nope")));
    assert_eq!(listed, joined);
    assert_eq!(listed.1, Some(4));
}

#[test]
fn checked_returns_the_first_bad_step() {
    let q = Query::all()
        .sort_keys(&["x,y"])
        .select(&[""])
        .and_where("(");
    assert_eq!(query_error(q.checked()).0, "sort");
    assert!(Query::all().sort_keys(&["id"]).checked().is_ok());
}

#[test]
fn item_position_counts_code_points_and_commas() {
    let none: [&str; 0] = [];
    assert_eq!(QueryArgs::item_position(&none), 0);
    assert_eq!(QueryArgs::item_position(&["é😀", "id"]), 6);
}

#[test]
fn query_args_are_the_parameter_form_they_stand_for() {
    let args = QueryArgs {
        filter: Some("enabled = true".into()),
        search: Some("ann".into()),
        filters: vec![
            ("lastName".into(), "like:Ho%".into()),
            ("filter[email]".into(), "a@b.io".into()),
        ],
        sort: items(&["lastName", "firstName:desc"]),
        fields: items(&["id", "username"]),
        page: Some(2),
        page_size: Some(50),
        with_total: true,
        ..QueryArgs::default()
    };
    let params = Query::from_params(&[
        ("where", "enabled = true"),
        ("search", "ann"),
        ("lastName", "like:Ho%"),
        ("filter[email]", "a@b.io"),
        ("sort", "lastName,firstName:desc"),
        ("fields", "id,username"),
        ("page", "2"),
        ("pageSize", "50"),
        ("withTotal", "true"),
    ])
    .unwrap();
    assert_eq!(args.query().unwrap(), params);
    let texts = QueryArgs {
        sort: text("lastName,firstName:desc"),
        fields: text("id,username"),
        ..args.clone()
    };
    assert_eq!(texts.query().unwrap(), params);
    assert_eq!(QueryArgs::default().query().unwrap(), Query::all());
    let blank = QueryArgs {
        sort: text(" "),
        fields: text(""),
        search: Some(" ".into()),
        ..QueryArgs::default()
    };
    assert_eq!(
        blank.query().unwrap(),
        Query::all(),
        "blank text is not given"
    );
    let offset = QueryArgs {
        offset: Some(10),
        limit: Some(5),
        ..QueryArgs::default()
    };
    assert_eq!(offset.query().unwrap(), Query::all().offset(10, 5));
}

#[test]
fn paging_numbers_are_range_checked_as_in_the_parameter_form() {
    let cases: [(QueryArgs, &str, &str); 7] = [
        (
            QueryArgs {
                page: Some(0),
                ..QueryArgs::default()
            },
            "page",
            "0",
        ),
        (
            QueryArgs {
                page: Some(i128::MIN),
                ..QueryArgs::default()
            },
            "page",
            "-1",
        ),
        (
            QueryArgs {
                page: Some(i128::MAX),
                ..QueryArgs::default()
            },
            "page",
            "18446744073709551616",
        ),
        (
            QueryArgs {
                page_size: Some(1001),
                ..QueryArgs::default()
            },
            "pageSize",
            "1001",
        ),
        (
            QueryArgs {
                page_size: Some(0),
                ..QueryArgs::default()
            },
            "pageSize",
            "0",
        ),
        (
            QueryArgs {
                offset: Some(-1),
                ..QueryArgs::default()
            },
            "offset",
            "-1",
        ),
        (
            QueryArgs {
                limit: Some(1 << 64),
                ..QueryArgs::default()
            },
            "limit",
            "18446744073709551616",
        ),
    ];
    for (args, name, value) in cases {
        let typed = query_error(args.query());
        let params = query_error(Query::from_params(&[(name, value)]));
        assert_eq!(typed, params, "{name} = {value}");
        assert_eq!(typed.0, name);
    }
    let largest = QueryArgs {
        offset: Some(i128::from(u64::MAX)),
        limit: Some(1000),
        ..QueryArgs::default()
    };
    assert_eq!(
        largest.query().unwrap(),
        Query::all().offset(u64::MAX, 1000)
    );
}

#[test]
fn paging_styles_clash_as_in_the_parameter_form() {
    let clash = |args: QueryArgs, pairs: &[(&str, &str)]| {
        let typed = query_error(args.query());
        assert_eq!(typed, query_error(Query::from_params(pairs)));
        typed.0
    };
    let d = QueryArgs::default;
    assert_eq!(
        clash(
            QueryArgs {
                page: Some(2),
                limit: Some(10),
                ..d()
            },
            &[("page", "2"), ("limit", "10")]
        ),
        "limit"
    );
    assert_eq!(
        clash(
            QueryArgs {
                page_size: Some(5),
                offset: Some(10),
                ..d()
            },
            &[("pageSize", "5"), ("offset", "10")]
        ),
        "offset"
    );
    assert_eq!(
        clash(
            QueryArgs {
                page: Some(1),
                cursor: Some("c".into()),
                ..d()
            },
            &[("page", "1"), ("cursor", "c")]
        ),
        "cursor"
    );
    assert_eq!(
        clash(
            QueryArgs {
                cursor: Some(String::new()),
                ..d()
            },
            &[("cursor", "")]
        ),
        "cursor"
    );
    // A reserved name among the filters is that parameter, given twice.
    assert_eq!(
        clash(
            QueryArgs {
                filters: vec![("sort".into(), "id".into())],
                sort: items(&["lastName"]),
                ..d()
            },
            &[("sort", "id"), ("sort", "lastName")]
        ),
        "sort"
    );
    assert_eq!(
        clash(
            QueryArgs {
                filters: vec![("page".into(), "2".into())],
                offset: Some(3),
                ..d()
            },
            &[("page", "2"), ("offset", "3")]
        ),
        "offset"
    );
    // A cursor's page size may come with it.
    let s = store();
    for name in ["a", "b", "c"] {
        s.users().create(user(name)).unwrap();
    }
    let first = s
        .users()
        .list(
            &QueryArgs {
                page_size: Some(1),
                ..d()
            }
            .query()
            .unwrap(),
        )
        .unwrap();
    let next = QueryArgs {
        cursor: first.next_cursor,
        page_size: Some(2),
        ..d()
    };
    let ids: Vec<u64> = s
        .users()
        .list(&next.query().unwrap())
        .unwrap()
        .items
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(ids, [2, 3]);
}

#[test]
fn errors_come_in_the_order_of_the_arguments() {
    let d = QueryArgs::default;
    let bad_where = Some("(".to_owned());
    let bad_sort = items(&["a,b"]);
    let field = |args: QueryArgs| query_error(args.query()).0;
    assert_eq!(
        field(QueryArgs {
            filter: bad_where.clone(),
            sort: bad_sort.clone(),
            ..d()
        }),
        "where"
    );
    assert_eq!(
        field(QueryArgs {
            filters: vec![("lastName".into(), "in:".into())],
            sort: bad_sort.clone(),
            ..d()
        }),
        "lastName"
    );
    assert_eq!(
        field(QueryArgs {
            sort: bad_sort.clone(),
            fields: items(&[""]),
            ..d()
        }),
        "sort"
    );
    assert_eq!(
        field(QueryArgs {
            fields: items(&[""]),
            page: Some(0),
            ..d()
        }),
        "fields"
    );
    assert_eq!(
        field(QueryArgs {
            sort: items(&["id"]),
            page: Some(0),
            ..d()
        }),
        "page"
    );
}
