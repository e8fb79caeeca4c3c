//! Edge cases of docs/reference/queries.md the vectors cannot pin (they depend on stored times).

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

use common::{store, user, user_ids as ids};
use rosterdb::{Error, NewUser, Query};
use serde_json::json;

/// Creates the user `name` with `attributes` (a JSON object).
fn create_with_attributes(s: &rosterdb::Store, name: &str, attributes: serde_json::Value) {
    let attributes = attributes.as_object().cloned().unwrap();
    s.users()
        .create(NewUser {
            attributes,
            ..user(name)
        })
        .unwrap();
}

#[test]
fn literals_of_another_type_inside_attributes_match_nothing() {
    let s = store();
    create_with_attributes(&s, "ann", json!({"x": 3, "flag": true, "name": "Ann"}));
    for expr in [
        "attributes.x > null",
        "attributes.x <= null",
        "attributes.name like 5",
        "attributes.x co true",
    ] {
        assert_eq!(
            ids(&s, Query::parse(expr).unwrap()),
            Vec::<u64>::new(),
            "{expr}"
        );
    }
    // Typed fields still refuse a literal of another type.
    let typed = s.users().list(&Query::parse("nickname > null").unwrap());
    assert!(
        matches!(typed, Err(Error::InvalidQuery { field: Some(ref f), .. }) if f == "nickname")
    );
    // Parameter-form true/false/null are case-insensitive, like every keyword.
    for value in ["TRUE", "True", "true"] {
        let q = Query::from_params(&[("attributes.flag", value)]).unwrap();
        assert_eq!(ids(&s, q), vec![1], "{value}");
    }
    let q = Query::from_params(&[("attributes.missing", "NULL")]).unwrap();
    assert_eq!(ids(&s, q), vec![1]);
}

#[test]
fn timestamp_literals_keep_their_full_precision() {
    let s = store();
    let u = s.users().create(user("ann")).unwrap();
    let at = u.created_at.to_string(); // e.g. 2026-11-23T20:50:31.799Z
    let finer = format!("{}000001Z", &at[..at.len() - 1]); // one nanosecond later
    let before = format!("{}Z", &at[..at.len() - 1]);
    for (expr, expected) in [
        (format!("createdAt < '{finer}'"), vec![1]),
        (format!("createdAt <= '{finer}'"), vec![1]),
        (format!("createdAt = '{finer}'"), vec![]),
        (format!("createdAt != '{finer}'"), vec![1]),
        (format!("createdAt >= '{finer}'"), vec![]),
        (format!("createdAt = '{before}'"), vec![1]),
        (format!("createdAt in ('{finer}')"), vec![]),
    ] {
        let q = Query::parse(&expr).unwrap();
        assert_eq!(ids(&s, q.clone()), expected, "{expr}");
        assert_eq!(
            s.users().count(&q).unwrap(),
            expected.len() as u64,
            "{expr}"
        );
    }
}

#[test]
fn attribute_keys_with_a_hyphen_are_queried_and_sorted() {
    // SCIM's attribute names hold '-' (RFC 7643 §2.1), and so do the keys
    // of many stored attributes: `cost-center`, `employee-id`.
    let s = store();
    for (name, center) in [("ann", "b-2"), ("bob", "a-1"), ("cy", "b-2")] {
        create_with_attributes(&s, name, json!({"cost-center": center, "x-1": 1}));
    }
    let by_expr = Query::parse("attributes.cost-center = 'b-2' and attributes.x-1 > -1").unwrap();
    assert_eq!(ids(&s, by_expr), vec![1, 3]);
    let by_param = Query::from_params(&[("filter[attributes.cost-center]", "a-1")]).unwrap();
    assert_eq!(ids(&s, by_param), vec![2]);
    let sorted = Query::all().sort("attributes.cost-center:desc,username");
    assert_eq!(ids(&s, sorted), vec![1, 3, 2]);
    // '-' only inside a name after the first: an operator word before a
    // negative number is still an operator.
    let glued = Query::parse("attributes.x-1 gt-1").unwrap();
    assert_eq!(ids(&s, glued), vec![1, 2, 3]);
    for bad in ["-x = 1", "attributes.-x = 1", "cost-center = 1"] {
        assert!(
            matches!(Query::parse(bad), Err(Error::InvalidQuery { .. })),
            "{bad}"
        );
    }
}
