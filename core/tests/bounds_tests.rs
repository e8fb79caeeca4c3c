//! Bounds and characters (docs/reference/documents.md, Bounds and characters): no list grows
//! without bound, checking a document costs O(n log n), ids and versions fit a JSON double, no
//! control characters in typed strings.

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

use common::{error_fields, store, user};
use rosterdb::{ExternalId, NewClient, NewRole, NewUser, Store};
use serde_json::json;

fn external_ids(n: usize) -> Vec<ExternalId> {
    (0..n)
        .map(|i| ExternalId::new("github", i.to_string()))
        .collect()
}

#[test]
fn lists_are_bounded() {
    let s = store();
    let ok = s
        .users()
        .create(NewUser {
            external_ids: external_ids(100),
            ..user("ann")
        })
        .unwrap();
    assert_eq!(ok.external_ids.len(), 100);
    assert_eq!(
        error_fields(s.users().create(NewUser {
            external_ids: external_ids(101),
            ..user("bob")
        })),
        ["externalIds"]
    );
    // A huge list is one short error, not one error per entry.
    let err = s
        .users()
        .create(NewUser {
            external_ids: (0..20_000).map(|_| ExternalId::new("", "")).collect(),
            ..user("bob")
        })
        .unwrap_err();
    assert!(err.to_string().len() < 200, "{err}");
    assert_eq!(
        error_fields(s.users().create(NewUser {
            roles: (1..=1001).collect(),
            ..user("bob")
        })),
        ["roles"]
    );
    assert_eq!(
        error_fields(s.roles().create(NewRole {
            permissions: (0..1001).map(|i| format!("p{i}")).collect(),
            ..NewRole::new("big")
        })),
        ["permissions"]
    );
    s.roles()
        .create(NewRole {
            permissions: (0..1000).map(|i| format!("p{i}")).collect(),
            ..NewRole::new("large")
        })
        .unwrap();
    assert_eq!(
        error_fields(s.clients().create(NewClient {
            ip_allowlist: (0..101).map(|i| format!("10.0.0.{}", i % 250)).collect(),
            ..NewClient::new("c")
        })),
        ["ipAllowlist"]
    );
    assert_eq!(
        error_fields(s.clients().create(NewClient {
            roles: (1..=1001).collect(),
            ..NewClient::new("c")
        })),
        ["roles"]
    );
    // Patches are held to the same bounds.
    let many: Vec<_> = (100..101)
        .map(|i| json!({"op": "add", "path": "/externalIds/-", "value": {"type": "x", "value": i.to_string()}}))
        .collect();
    assert_eq!(
        error_fields(s.users().patch(ok.id, &json!(many), None)),
        ["externalIds"]
    );
}

#[test]
fn duplicate_external_ids_are_found_without_a_quadratic_scan() {
    // 100 entries is the bound; checking them (and a duplicate among them) is instant.
    let s = store();
    let mut ids = external_ids(99);
    ids.push(ExternalId::new("GitHub", "42"));
    assert_eq!(
        error_fields(s.users().create(NewUser {
            external_ids: ids,
            ..user("ann")
        })),
        ["externalIds[99]"]
    );
}

#[test]
fn control_characters_are_refused_except_tab_and_newline_in_descriptions() {
    let s = store();
    for (field, value) in [
        ("firstName", "Ann\u{0}"),
        ("lastName", "Lee\u{7}"),
        ("nickname", "A\tB"),
        ("telephoneNumber", "+1\n555"),
        ("mobileNumber", "\u{1b}[31m"),
        ("email", "ann\u{7f}@example.com"),
    ] {
        let mut doc = json!({"username": "ann", "email": "ann@example.com",
                             "firstName": "Ann", "lastName": "Lee"});
        doc[field] = json!(value);
        let fields = error_fields(NewUser::from_json(&doc));
        assert_eq!(fields, [field], "{value:?}");
    }
    let fields = error_fields(NewUser::from_json(&json!({
        "username": "ann", "email": "ann@example.com", "firstName": "Ann", "lastName": "Lee",
        "externalIds": [{"type": "git\u{0}hub", "value": "1\r"}]})));
    assert_eq!(fields, ["externalIds[0].type", "externalIds[0].value"]);
    assert_eq!(
        error_fields(s.roles().create(NewRole {
            description: Some("bad\u{0}".into()),
            ..NewRole::new("r\u{85}")
        })),
        ["name", "description"]
    );
    let role = s
        .roles()
        .create(NewRole {
            description: Some("line one\n\tline two".into()),
            ..NewRole::new("ok")
        })
        .unwrap();
    assert_eq!(role.description.as_deref(), Some("line one\n\tline two"));
    assert_eq!(
        error_fields(s.clients().create(NewClient {
            description: Some("a\rb".into()),
            ..NewClient::new("c")
        })),
        ["description"]
    );
}

fn import_one(doc: serde_json::Value) -> rosterdb::Result<u64> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.jsonl");
    std::fs::write(&file, format!("{}\n", json!({"kind": "role", "doc": doc}))).unwrap();
    let s = Store::memory_with(common::options()).unwrap();
    s.import_jsonl(&file)
}

#[test]
fn imported_ids_and_versions_fit_a_double() {
    let role = |id: serde_json::Value, version: serde_json::Value| {
        json!({"id": id, "name": "r", "permissions": [], "createdAt": "2020-01-01T00:00:00Z",
               "updatedAt": "2020-01-01T00:00:00Z", "version": version})
    };
    let max = 9_007_199_254_740_991_u64;
    assert_eq!(import_one(role(json!(max), json!(max))).unwrap(), 1);
    for (id, version, field) in [
        (json!(max + 1), json!(1), "id"),
        (json!(1), json!(max + 1), "version"),
        (json!(1), json!(u64::MAX), "version"),
        (json!(0), json!(1), "id"),
        (json!(1), json!(0), "version"),
        (json!(1.5), json!(1), "id"),
    ] {
        let fields = error_fields(import_one(role(id.clone(), version.clone())));
        assert!(
            fields.iter().all(|f| f.ends_with(field)),
            "{id} {version}: {fields:?}"
        );
    }
}

#[test]
fn the_last_safe_version_and_id_are_not_passed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.jsonl");
    let max = 9_007_199_254_740_991_u64;
    let line = json!({"kind": "role", "doc": {"id": max, "name": "r", "permissions": [],
        "createdAt": "2020-01-01T00:00:00Z", "updatedAt": "2020-01-01T00:00:00Z", "version": max}});
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let s = Store::memory_with(common::options()).unwrap();
    s.import_jsonl(&file).unwrap();
    // The next update would pass 2^53 - 1: refused, and nothing changes.
    let err = s
        .roles()
        .merge(max, &json!({"description": "more"}), None)
        .unwrap_err();
    assert_eq!(error_fields::<()>(Err(err)), ["version"]);
    assert_eq!(s.roles().get(max).unwrap().version, max);
    // So would the next id.
    assert_eq!(error_fields(s.roles().create(NewRole::new("next"))), ["id"]);
    assert!(s.check().unwrap().ok);
}

/// A value nested `depth` arrays deep, built without recursion. Tests leak
/// it: dropping a `serde_json::Value` that deep recurses.
fn nested(depth: usize) -> serde_json::Value {
    let mut v = json!(1);
    for _ in 0..depth {
        v = serde_json::Value::Array(vec![v]);
    }
    v
}

#[test]
fn input_nested_any_depth_is_refused_before_it_is_walked() {
    let s = store();
    let u = s.users().create(user("ann")).unwrap();
    for depth in [33, 100_000] {
        let doc = json!({"username": "bob", "email": "bob@example.com", "firstName": "B",
                         "lastName": "B", "attributes": {"k": null}});
        let mut doc = doc;
        doc["attributes"]["k"] = nested(depth);
        assert_eq!(error_fields(NewUser::from_json(&doc)), ["attributes"]);
        let mut role = json!({"name": "r", "permissions": null});
        role["permissions"] = nested(depth);
        assert_eq!(error_fields(NewRole::from_json(&role)), ["permissions"]);
        let merge = json!({"attributes": {"k": null}});
        let mut merge = merge;
        merge["attributes"]["k"] = nested(depth);
        assert_eq!(
            error_fields(s.users().merge(u.id, &merge, None)),
            ["attributes"]
        );
        assert_eq!(
            error_fields(s.users().replace(u.id, &merge, None)),
            ["attributes"]
        );
        let ops = json!([{"op": "test", "path": "/id", "value": 1},
                         {"op": "add", "path": "/attributes/k", "value": null}]);
        let mut ops = ops;
        ops[1]["value"] = nested(depth);
        assert_eq!(
            error_fields(s.users().patch(u.id, &ops, None)),
            ["attributes"]
        );
        let mut pathless = json!([{"op": "add", "value": null}]);
        pathless[0]["value"] = nested(depth);
        match s.users().patch(u.id, &pathless, None) {
            Err(rosterdb::Error::InvalidPatch {
                op_index, message, ..
            }) => {
                assert_eq!(op_index, 0);
                assert!(message.contains("32 levels"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        for v in [doc, role, merge, ops, pathless] {
            std::mem::forget(v);
        }
    }
    // The deepest valid attributes still pass.
    let ok = json!({"attributes": {"k": nested(31)}});
    s.users().merge(u.id, &ok, None).unwrap();
    assert_eq!(s.users().get(u.id).unwrap().version, 2);
}

#[test]
fn copies_that_deepen_or_double_the_document_stop_early() {
    let s = store();
    let u = s.users().create(user("ann")).unwrap();
    // Each copy nests the document one level deeper: refused at the limit,
    // not after a thousand levels (which would exhaust the stack).
    let deeper = json!(vec![
        json!({"op": "copy", "from": "/attributes", "path": "/attributes/a"});
        1000
    ]);
    match s.users().patch(u.id, &deeper, None) {
        Err(rosterdb::Error::InvalidPatch {
            op_index, message, ..
        }) => {
            assert!(op_index < 40, "{op_index}");
            assert!(message.contains("levels deep"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Each copy doubles the document: refused long before memory runs out.
    let mut doubling =
        vec![json!({"op": "add", "path": "/attributes/k0", "value": "x".repeat(1000)})];
    for i in 0..60 {
        doubling.push(
            json!({"op": "copy", "from": "/attributes", "path": format!("/attributes/k{}", i + 1)}),
        );
    }
    match s.users().patch(u.id, &json!(doubling), None) {
        Err(rosterdb::Error::InvalidPatch {
            op_index, message, ..
        }) => {
            assert!(op_index < 20, "{op_index}");
            assert!(message.contains("bytes"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.users().get(u.id).unwrap().version, 1);
}

#[test]
fn role_ids_beyond_2_53_are_a_document_error_before_any_store_check() {
    // Found by the model test: the id is refused with the document's rules,
    // before uniqueness (here a taken username) is looked at.
    let s = store();
    s.users().create(user("zoë")).unwrap();
    let bob = s.users().create(user("bob")).unwrap();
    let ops = json!([{"op": "replace", "path": "/username", "value": "zoë"},
                     {"op": "add", "path": "/roles/-", "value": u64::MAX}]);
    assert_eq!(error_fields(s.users().patch(bob.id, &ops, None)), ["roles"]);
    assert_eq!(
        error_fields(s.users().create(NewUser {
            roles: vec![u64::MAX],
            ..user("zoë")
        })),
        ["roles"]
    );
    assert_eq!(
        error_fields(s.clients().create(NewClient {
            roles: vec![1 << 53],
            ..NewClient::new("c")
        })),
        ["roles"]
    );
}
