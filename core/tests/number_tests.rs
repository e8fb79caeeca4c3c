//! JSON numbers compare by value wherever values are compared (docs/reference/queries.md,
//! Semantics): JSON Patch `test`, "an update that changes nothing", and queries.

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
use rosterdb::{Error, NewUser, Query};
use serde_json::json;

fn with_level(level: serde_json::Value) -> NewUser {
    NewUser {
        attributes: json!({ "level": level }).as_object().cloned().unwrap(),
        ..user("ann")
    }
}

#[test]
fn a_patch_test_compares_numbers_by_value() {
    let s = store();
    let u = s.users().create(with_level(json!(1))).unwrap();
    for same in [json!(1.0), json!(1), json!(1e0), json!(10e-1)] {
        s.users()
            .patch(
                u.id,
                &json!([{"op": "test", "path": "/attributes/level", "value": same}]),
                None,
            )
            .unwrap_or_else(|e| panic!("{same}: {e}"));
    }
    for other in [json!(1.5), json!("1"), json!(true), json!([1])] {
        let err = s
            .users()
            .patch(
                u.id,
                &json!([{"op": "test", "path": "/attributes/level", "value": other}]),
                None,
            )
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidPatch { op_index: 0, .. }),
            "{other}: {err}"
        );
    }
    // Inside objects and arrays too, in any member order; read-only fields may be tested.
    s.users()
        .patch(
            u.id,
            &json!([
                {"op": "add", "path": "/attributes/o", "value": {"a": [1, 2.5], "b": 0}},
                {"op": "test", "path": "/attributes/o", "value": {"b": -0.0, "a": [1.0, 2.5]}},
                {"op": "test", "path": "/version", "value": 1.0},
                {"op": "test", "path": "/id", "value": u.id as f64}
            ]),
            None,
        )
        .unwrap();
    // The failing test names its own index, after operations that applied.
    let err = s
        .users()
        .patch(
            u.id,
            &json!([
                {"op": "replace", "path": "/attributes/level", "value": 2},
                {"op": "test", "path": "/attributes/level", "value": 2.0},
                {"op": "test", "path": "/attributes/level", "value": 1}
            ]),
            None,
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidPatch { op_index: 2, .. }),
        "{err}"
    );
}

#[test]
fn integers_beyond_2_53_compare_exactly() {
    let s = store();
    let big = 9_007_199_254_740_993_u64; // 2^53 + 1: no double holds it
    let u = s.users().create(with_level(json!(big))).unwrap();
    let test = |value: serde_json::Value| {
        s.users().patch(
            u.id,
            &json!([{"op": "test", "path": "/attributes/level", "value": value}]),
            None,
        )
    };
    test(json!(big)).unwrap();
    assert!(test(json!(big - 1)).is_err());
    assert!(test(json!(9_007_199_254_740_992.0)).is_err());
    let count = |expr: &str| s.users().count(&Query::parse(expr).unwrap()).unwrap();
    assert_eq!(count("attributes.level = 9007199254740993"), 1);
    assert_eq!(count("attributes.level = 9007199254740992"), 0);
    assert_eq!(count("attributes.level = 9007199254740992.0"), 0);
    assert_eq!(count("attributes.level > 9007199254740992.0"), 1);
    assert_eq!(count("attributes.level < 9007199254740994"), 1);
}

#[test]
fn an_update_to_an_equal_number_changes_nothing() {
    let s = store();
    let u = s
        .users()
        .create(NewUser {
            attributes: json!({"level": 1, "scores": [1, 2], "o": {"x": 0, "y": 3}})
                .as_object()
                .cloned()
                .unwrap(),
            ..user("ann")
        })
        .unwrap();
    let changes = s.changes(0, 100).unwrap().len();
    let same = [
        s.users()
            .merge(u.id, &json!({"attributes": {"level": 1.0}}), None)
            .unwrap(),
        s.users()
            .patch(u.id, &json!([{"op": "replace", "path": "/attributes/scores", "value": [1.0, 2e0]}]), None)
            .unwrap(),
        s.users()
            .patch(u.id, &json!([{"op": "replace", "path": "/attributes/o", "value": {"y": 3.0, "x": -0.0}}]), None)
            .unwrap(),
    ];
    for after in same {
        assert_eq!(after.version, 1);
        assert_eq!(after.updated_at, u.updated_at);
        assert_eq!(
            after.attributes["level"],
            json!(1),
            "the stored spelling stays"
        );
    }
    assert_eq!(s.changes(0, 100).unwrap().len(), changes);
    let changed = s
        .users()
        .merge(u.id, &json!({"attributes": {"level": 1.5}}), None)
        .unwrap();
    assert_eq!(changed.version, 2);
}

#[test]
fn ids_may_be_spelled_as_whole_floats() {
    let s = store();
    let role = s.roles().create(rosterdb::NewRole::new("staff")).unwrap();
    let doc = json!({"username": "ann", "email": "ann@example.com", "firstName": "A",
                     "lastName": "B", "roles": [role.id as f64, 1e0]});
    let u = s.users().create(NewUser::from_json(&doc).unwrap()).unwrap();
    assert_eq!(u.roles, [role.id]);
    for bad in [
        json!([1.5]),
        json!([-1]),
        json!([9_007_199_254_740_992_u64]),
        json!(["1"]),
    ] {
        let doc = json!({"username": "bob", "email": "bob@example.com", "firstName": "A",
                         "lastName": "B", "roles": bad});
        let err = NewUser::from_json(&doc).unwrap_err();
        assert!(
            matches!(err, Error::Validation { ref errors } if errors[0].field == "roles"),
            "{err}"
        );
    }
}
