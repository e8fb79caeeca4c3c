//! patch, merge and replace (docs/reference/updates.md): semantics, versions, failures.

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

use common::{conflict_field, error_fields, role, store, user};
use rosterdb::{ChangeOp, EntityKind, Error, NewClient, NewUser, Query, Store};
use serde_json::{Value, json};

fn ann(s: &Store) -> rosterdb::User {
    s.users()
        .create(NewUser {
            nickname: Some("Annie".into()),
            tenant: Some("acme".into()),
            ..user("ann")
        })
        .unwrap()
}

fn op_index<T: std::fmt::Debug>(result: rosterdb::Result<T>) -> usize {
    match result {
        Err(Error::InvalidPatch { op_index, .. }) => op_index,
        other => panic!("expected InvalidPatch, got {other:?}"),
    }
}

#[test]
fn each_patch_operation() {
    let s = store();
    let u = ann(&s);
    let ops = json!([
        {"op": "replace", "path": "/firstName", "value": "Anna"},
        {"op": "add", "path": "/attributes/department", "value": "R&D"},
        {"op": "add", "path": "/attributes/tags", "value": ["a"]},
        {"op": "add", "path": "/attributes/tags/-", "value": "b"},
        {"op": "copy", "from": "/attributes/department", "path": "/attributes/team"},
        {"op": "move", "from": "/attributes/team", "path": "/attributes/unit"},
        {"op": "remove", "path": "/nickname"},
        {"op": "test", "path": "/id", "value": u.id},
        {"op": "test", "path": "/version", "value": 1},
        {"op": "add", "path": "/externalIds/-", "value": {"type": "github", "value": "7"}},
    ]);
    let after = s.users().patch(u.id, &ops, Some(1)).unwrap();
    assert_eq!(after.first_name, "Anna");
    assert_eq!(after.nickname, None);
    assert_eq!(
        Value::Object(after.attributes.clone().into()),
        json!({"department": "R&D", "tags": ["a", "b"], "unit": "R&D"})
    );
    assert_eq!(after.version, 2);
    assert!(after.updated_at >= u.updated_at);
    assert_eq!(after.created_at, u.created_at);
    assert_eq!(
        s.users()
            .get_by_external_id("github", "7", Some("acme"))
            .unwrap()
            .id,
        u.id
    );
    let last = s.changes(0, 10).unwrap().pop().unwrap();
    assert_eq!(
        (last.entity, last.id, last.op, last.version),
        (EntityKind::User, u.id, ChangeOp::Update, 2)
    );
}

#[test]
fn a_failed_patch_changes_nothing() {
    let s = store();
    let u = ann(&s);
    let before = s.changes(0, 10).unwrap();
    let cases: Vec<(Value, usize)> = vec![
        (
            json!([{"op": "replace", "path": "/firstName", "value": "X"}, {"op": "test", "path": "/lastName", "value": "nope"}]),
            1,
        ),
        (json!([{"op": "replace", "path": "/id", "value": 9}]), 0),
        (
            json!([{"op": "add", "path": "/firstName", "value": "X"}, {"op": "remove", "path": "/createdAt"}]),
            1,
        ),
        (
            json!([{"op": "move", "from": "/version", "path": "/attributes/v"}]),
            0,
        ),
        (
            json!([{"op": "copy", "from": "/password", "path": "/attributes/p"}]),
            0,
        ),
        (json!([{"op": "remove", "path": "/password"}]), 0),
        (json!([{"op": "frobnicate", "path": "/firstName"}]), 0),
        (json!([{"op": "add", "path": "firstName", "value": "X"}]), 0),
        (json!([{"op": "add", "path": "/firstName"}]), 0),
        (json!([{"op": "replace", "path": "", "value": {}}]), 0),
        (json!([{"op": "remove", "path": "/attributes/missing"}]), 0),
        (
            json!([{"op": "add", "path": "/attributes/a/b", "value": 1}]),
            0,
        ),
        (
            json!([{"op": "replace", "path": "/roles/5", "value": 1}]),
            0,
        ),
        (
            json!([{"op": "add", "path": "/roles/-", "value": 1}, "not an op"]),
            1,
        ),
        (json!({"op": "add"}), 0),
    ];
    for (ops, index) in cases {
        assert_eq!(op_index(s.users().patch(u.id, &ops, None)), index, "{ops}");
    }
    // Patches that make the document invalid, or clash.
    let invalid = json!([{"op": "replace", "path": "/email", "value": "nope"}, {"op": "add", "path": "/shoe", "value": 1}]);
    assert_eq!(
        error_fields(s.users().patch(u.id, &invalid, None)),
        ["shoe", "email"]
    );
    let retenant = json!([{"op": "replace", "path": "/tenant", "value": "other"}]);
    assert_eq!(
        error_fields(s.users().patch(u.id, &retenant, None)),
        ["tenant"]
    );
    let missing_role = json!([{"op": "add", "path": "/roles/-", "value": 42}]);
    assert_eq!(
        error_fields(s.users().patch(u.id, &missing_role, None)),
        ["roles"]
    );
    s.users()
        .create(NewUser {
            tenant: Some("acme".into()),
            ..user("bob")
        })
        .unwrap();
    let clash = json!([{"op": "replace", "path": "/username", "value": "BOB"}]);
    assert_eq!(
        conflict_field(s.users().patch(u.id, &clash, None)),
        "username"
    );
    // Nothing of any of it was written.
    assert_eq!(s.users().get(u.id).unwrap(), u);
    assert_eq!(s.changes(0, 10).unwrap().len(), before.len() + 1);
    assert!(s.users().get_by_username("bob", Some("acme")).is_ok());
}

#[test]
fn patching_the_password_sets_it() {
    let s = store();
    let u = ann(&s);
    assert!(!u.has_password);
    let ops = json!([{"op": "add", "path": "/password", "value": "correct horse battery"}]);
    let after = s.users().patch(u.id, &ops, None).unwrap();
    assert!(after.has_password);
    assert_eq!(after.version, 2);
    let short = json!([{"op": "replace", "path": "/password", "value": "short"}]);
    let err = s.users().patch(u.id, &short, None).unwrap_err();
    assert!(!err.to_string().contains("short"));
    assert!(matches!(err, Error::Validation { .. }));
}

#[test]
fn versions_and_expected_versions() {
    let s = store();
    let u = ann(&s);
    let ops = json!([{"op": "replace", "path": "/lastName", "value": "Other"}]);
    assert_eq!(
        s.users().patch(u.id, &ops, Some(2)),
        Err(Error::VersionConflict {
            expected: 2,
            actual: 1
        })
    );
    assert_eq!(
        s.users().merge(u.id, &json!({"lastName": "X"}), Some(0)),
        Err(Error::VersionConflict {
            expected: 0,
            actual: 1
        })
    );
    assert_eq!(s.users().get(u.id).unwrap().version, 1);
    assert_eq!(s.users().patch(u.id, &ops, Some(1)).unwrap().version, 2);
    assert_eq!(
        s.users()
            .merge(u.id, &json!({"lastName": "Y"}), Some(2))
            .unwrap()
            .version,
        3
    );
    // An update that changes nothing is not a write.
    let same = s
        .users()
        .merge(u.id, &json!({"lastName": "Y"}), Some(3))
        .unwrap();
    assert_eq!(same.version, 3);
    let changes = s.changes(0, 100).unwrap().len();
    let noop = json!([{"op": "test", "path": "/lastName", "value": "Y"}]);
    assert_eq!(s.users().patch(u.id, &noop, None).unwrap(), same);
    assert_eq!(s.changes(0, 100).unwrap().len(), changes);
    assert!(matches!(
        s.users().patch(999, &noop, None),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn merge_semantics() {
    let s = store();
    let u = ann(&s);
    let after = s
        .users()
        .merge(
            u.id,
            &json!({"nickname": null, "attributes": {"a": {"b": 1}}, "enabled": false}),
            None,
        )
        .unwrap();
    assert_eq!(after.nickname, None);
    assert!(!after.enabled);
    let after = s
        .users()
        .merge(u.id, &json!({"attributes": {"a": {"c": 2}}}), None)
        .unwrap();
    assert_eq!(
        Value::Object(after.attributes.clone().into()),
        json!({"a": {"b": 1, "c": 2}})
    );
    // A fetched document can be sent back: equal read-only fields are accepted.
    let doc = serde_json::to_value(&after).unwrap();
    assert_eq!(s.users().merge(u.id, &doc, None).unwrap(), after);
    let changed_id = json!({"id": 77});
    assert_eq!(
        error_fields(s.users().merge(u.id, &changed_id, None)),
        ["id"]
    );
    assert_eq!(
        error_fields(s.users().merge(u.id, &json!({"username": null}), None)),
        ["username"]
    );
    assert_eq!(error_fields(s.users().merge(u.id, &json!([1]), None)), [""]);
}

#[test]
fn replace_semantics() {
    let s = store();
    let r = s.roles().create(role("staff", Some("acme"))).unwrap();
    let u = s
        .users()
        .create(NewUser {
            tenant: Some("acme".into()),
            roles: vec![r.id],
            nickname: Some("n".into()),
            password: Some("correct horse battery".into()),
            ..user("ann")
        })
        .unwrap();
    let doc =
        json!({"username": "ann2", "email": "ann2@example.com", "firstName": "A", "lastName": "B"});
    let after = s.users().replace(u.id, &doc, Some(1)).unwrap();
    // Absent fields take their defaults; the tenant and the password are kept.
    assert_eq!(after.nickname, None);
    assert_eq!(after.roles, Vec::<u64>::new());
    assert!(after.enabled);
    assert_eq!(after.tenant.as_deref(), Some("acme"));
    assert!(after.has_password);
    assert_eq!(after.version, 2);
    let mut other_tenant = doc.clone();
    other_tenant["tenant"] = json!("elsewhere");
    assert_eq!(
        error_fields(s.users().replace(u.id, &other_tenant, None)),
        ["tenant"]
    );
    // The old username is free, the new one taken; indexes moved with it.
    assert!(s.users().get_by_username("ann", Some("acme")).is_err());
    assert_eq!(
        s.users().get_by_username("ANN2", Some("acme")).unwrap().id,
        u.id
    );
    let q = Query::parse("roles eq 1").unwrap();
    assert_eq!(s.users().count(&q).unwrap(), 0);
    assert_eq!(
        s.users()
            .count(&Query::parse("username = 'ann2'").unwrap())
            .unwrap(),
        1
    );
}

#[test]
fn roles_and_clients_update_too() {
    let s = store();
    let r = s.roles().create(role("staff", None)).unwrap();
    let r2 = s
        .roles()
        .patch(
            r.id,
            &json!([{"op": "add", "path": "/permissions/-", "value": "a:b"}]),
            None,
        )
        .unwrap();
    assert_eq!(
        (r2.permissions.clone(), r2.version),
        (vec!["a:b".to_string()], 2)
    );
    let c = s.clients().create(NewClient::new("svc")).unwrap().client;
    let c2 = s
        .clients()
        .merge(c.id, &json!({"description": "d", "roles": [r.id]}), None)
        .unwrap();
    assert_eq!(
        (
            c2.description.as_deref(),
            c2.roles.clone(),
            c2.client_id.clone()
        ),
        (Some("d"), vec![r.id], c.client_id.clone())
    );
    let bad = json!([{"op": "replace", "path": "/clientId", "value": "rc_x"}]);
    assert_eq!(op_index(s.clients().patch(c.id, &bad, None)), 0);
    let c3 = s
        .clients()
        .replace(c.id, &json!({"name": "svc2"}), None)
        .unwrap();
    assert_eq!((c3.roles.clone(), c3.description.clone()), (vec![], None));
    assert_eq!(c3.client_id, c.client_id);
}

#[test]
fn a_failed_update_inside_a_transaction_leaves_no_trace() {
    let s = store();
    let u = ann(&s);
    s.write(|tx| {
        let bad = tx.users().merge(u.id, &json!({"email": "nope"}), None);
        assert!(bad.is_err());
        tx.users().merge(u.id, &json!({"lastName": "Kept"}), None)?;
        Ok(())
    })
    .unwrap();
    let after = s.users().get(u.id).unwrap();
    assert_eq!((after.last_name.as_str(), after.version), ("Kept", 2));
}

#[test]
fn write_only_fields_take_strings_only() {
    let s = store();
    let u = ann(&s);
    for ops in [
        json!([{"op": "replace", "path": "/password", "value": null}]),
        json!([{"op": "add", "path": "/password", "value": 12345678}]),
        json!([{"op": "add", "path": "/password/x", "value": "abcdefghij"}]),
        json!([{"op": "test", "path": "/passwordHash", "value": "x"}]),
    ] {
        assert_eq!(op_index(s.users().patch(u.id, &ops, None)), 0, "{ops}");
    }
    assert_eq!(s.users().get(u.id).unwrap(), u);
}

/// Every JSON Pointer problem (RFC 6901) in a patch is `InvalidPatch`
/// naming the operation and saying what is wrong: a path that does not
/// start with `/`, a bad `~` escape, an array index that is not a number,
/// has leading zeros, is `-` where only add may append, or is out of range
/// (with the range), a member that does not exist, a step into a scalar.
/// Problems that depend on the document are judged on the document as the
/// operations before them left it. The record is unchanged after each.
#[test]
fn json_pointer_errors_say_what_is_wrong() {
    let s = store();
    s.roles().create(role("staff", None)).unwrap();
    s.roles().create(role("admins", None)).unwrap();
    let u = s
        .users()
        .create(NewUser {
            roles: vec![1, 2],
            attributes: json!({"tags": ["a", "b"], "s": "x", "o": {"k": 1}})
                .as_object()
                .cloned()
                .unwrap(),
            ..user("ann")
        })
        .unwrap();
    let ok = json!({"op": "test", "path": "/username", "value": "ann"});
    let cases: Vec<(Value, usize, &str)> = vec![
        // The example.
        (
            json!([{"op": "add", "path": "/attributes/~2", "value": 1}]),
            0,
            "path \"/attributes/~2\" has a bad escape at character 12: '~' is followed by \
             '2'; in a JSON pointer '~' must be followed by 0 or 1",
        ),
        (
            json!([ok, {"op": "remove", "path": "/attributes/a~"}]),
            1,
            "'~' is followed by nothing",
        ),
        (
            json!([ok, ok, {"op": "move", "from": "/attributes/~x", "path": "/attributes/y"}]),
            2,
            "from \"/attributes/~x\" has a bad escape",
        ),
        (
            json!([{"op": "add", "path": "attributes/x", "value": 1}]),
            0,
            "path \"attributes/x\" is not a JSON pointer: it must be empty or start with '/'",
        ),
        (
            json!([ok, {"op": "copy", "from": "attributes/s", "path": "/attributes/t"}]),
            1,
            "from \"attributes/s\" is not a JSON pointer",
        ),
        (
            json!([{"op": "add", "path": "/attributes/tags/01", "value": "c"}]),
            0,
            "path: /attributes/tags is an array and \"01\" is not an array index: an index \
             has no leading zeros (write 1)",
        ),
        (
            json!([{"op": "replace", "path": "/attributes/tags/-", "value": "c"}]),
            0,
            "'-' names the position after its last element",
        ),
        (
            json!([ok, {"op": "remove", "path": "/roles/-"}]),
            1,
            "'-' names the position",
        ),
        (
            json!([{"op": "test", "path": "/attributes/tags/-", "value": "b"}]),
            0,
            "'-' names the position",
        ),
        (
            json!([{"op": "copy", "from": "/attributes/tags/-", "path": "/attributes/t"}]),
            0,
            "from: /attributes/tags is an array and '-' names the position",
        ),
        (
            json!([{"op": "add", "path": "/attributes/tags/x", "value": "c"}]),
            0,
            "\"x\" is not an array index: an index is a whole number from 0",
        ),
        (
            json!([{"op": "replace", "path": "/attributes/tags/2", "value": "c"}]),
            0,
            "path: array index 2 is out of range: /attributes/tags has 2 elements (indexes 0 to 1)",
        ),
        (
            json!([{"op": "add", "path": "/attributes/tags/3", "value": "c"}]),
            0,
            "array index 3 is out of range: /attributes/tags has 2 elements (indexes 0 to 2, or - to append)",
        ),
        (
            json!([{"op": "remove", "path": "/roles/2"}]),
            0,
            "array index 2 is out of range: /roles has 2 elements (indexes 0 to 1)",
        ),
        (
            json!([{"op": "remove", "path": "/attributes/tags/99999999999999999999999"}]),
            0,
            "out of range (too large)",
        ),
        (
            json!([{"op": "remove", "path": "/attributes/nope"}]),
            0,
            "path: /attributes/nope does not exist",
        ),
        (
            json!([{"op": "add", "path": "/attributes/nope/x", "value": 1}]),
            0,
            "/attributes/nope does not exist (so \"/attributes/nope/x\" cannot be reached)",
        ),
        (
            json!([{"op": "add", "path": "/attributes/s/t", "value": 1}]),
            0,
            "/attributes/s is a string, not an object or an array, so it has no member \"t\"",
        ),
        (
            json!([{"op": "move", "from": "/attributes/gone", "path": "/attributes/t"}]),
            0,
            "from: /attributes/gone does not exist",
        ),
        // Judged on the document as the operations before left it.
        (
            json!([
                {"op": "add", "path": "/attributes/tags/-", "value": "c"},
                ok,
                {"op": "remove", "path": "/attributes/tags/3"}
            ]),
            2,
            "array index 3 is out of range: /attributes/tags has 3 elements (indexes 0 to 2)",
        ),
        (
            json!([
                {"op": "remove", "path": "/attributes/o"},
                {"op": "add", "path": "/attributes/o/k", "value": 2}
            ]),
            1,
            "/attributes/o does not exist",
        ),
        // A move's target is judged after the value left its source.
        (
            json!([{"op": "move", "from": "/attributes/tags/0", "path": "/attributes/tags/2"}]),
            0,
            "array index 2 is out of range: /attributes/tags has 1 element (indexes 0 to 1, or - to append)",
        ),
    ];
    for (ops, index, message) in cases {
        let err = s.users().patch(u.id, &ops, None).unwrap_err();
        let Error::InvalidPatch {
            op_index,
            message: got,
            ..
        } = &err
        else {
            panic!("{ops}: expected InvalidPatch, got {err:?}");
        };
        assert_eq!(*op_index, index, "{ops}: {got}");
        assert!(got.contains(message), "{ops}: {got:?} lacks {message:?}");
        assert!(!got.contains("malformed"), "{ops}: {got}");
        assert!(
            err.to_string()
                .starts_with(&format!("invalid patch: operation {index}: ")),
            "{err}"
        );
        assert_eq!(s.users().get(u.id).unwrap(), u, "{ops} changed the record");
    }
    // The same pointers where they are fine.
    let fine = json!([
        {"op": "add", "path": "/attributes/tags/2", "value": "c"},
        {"op": "add", "path": "/attributes/tags/-", "value": "d"},
        {"op": "add", "path": "/attributes/a~1b~0c", "value": 1},
        {"op": "remove", "path": "/attributes/tags/0"},
        {"op": "test", "path": "/attributes/tags", "value": ["b", "c", "d"]},
    ]);
    let after = s.users().patch(u.id, &fine, None).unwrap();
    assert_eq!(after.attributes["a/b~c"], json!(1));
}
