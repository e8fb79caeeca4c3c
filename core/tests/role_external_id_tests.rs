//! A role's optional `externalId` (format 8, decision 0022): written by
//! create, patch, merge, replace and import; left out of documents when
//! unset; 1–255 characters without control characters; compared exactly
//! in queries; not unique.

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

use common::{error_fields, options, role, store};
use rosterdb::{Error, NewRole, Query, Store, ValidationCode};
use serde_json::json;

fn with_external_id(name: &str, external_id: &str) -> NewRole {
    NewRole {
        external_id: Some(external_id.into()),
        ..NewRole::new(name)
    }
}

/// The (field, code) of every problem of a `Validation` error.
fn problems<T: std::fmt::Debug>(result: rosterdb::Result<T>) -> Vec<(String, ValidationCode)> {
    match result {
        Err(Error::Validation { errors }) => {
            errors.into_iter().map(|e| (e.field, e.code)).collect()
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn ids(s: &Store, expr: &str) -> Vec<u64> {
    s.roles()
        .list(&Query::parse(expr).unwrap())
        .unwrap()
        .items
        .iter()
        .map(|r| r.id)
        .collect()
}

#[test]
fn a_role_keeps_its_external_id_and_leaves_it_out_when_unset() {
    let s = store();
    let with = s.roles().create(with_external_id("ops", "Grp-1")).unwrap();
    assert_eq!(with.external_id.as_deref(), Some("Grp-1"));
    assert_eq!(s.roles().get(with.id).unwrap(), with);
    let doc = serde_json::to_value(&with).unwrap();
    assert_eq!(doc["externalId"], "Grp-1");
    let without = s.roles().create(role("staff", None)).unwrap();
    let doc = serde_json::to_value(&without).unwrap();
    assert!(doc.get("externalId").is_none(), "{doc}");
    // From JSON, as the bindings and servers create.
    let parsed = NewRole::from_json(&json!({"name": "x", "externalId": "7"})).unwrap();
    assert_eq!(parsed.external_id.as_deref(), Some("7"));
}

#[test]
fn every_update_writes_it() {
    let s = store();
    let r = s.roles().create(role("ops", None)).unwrap();
    let patched = s
        .roles()
        .patch(
            r.id,
            &json!([{"op": "add", "path": "/externalId", "value": "a"}]),
            Some(1),
        )
        .unwrap();
    assert_eq!(
        (patched.external_id.as_deref(), patched.version),
        (Some("a"), 2)
    );
    let merged = s
        .roles()
        .merge(r.id, &json!({"externalId": "b"}), Some(2))
        .unwrap();
    assert_eq!(merged.external_id.as_deref(), Some("b"));
    let replaced = s
        .roles()
        .replace(r.id, &json!({"name": "ops", "externalId": "c"}), Some(3))
        .unwrap();
    assert_eq!(replaced.external_id.as_deref(), Some("c"));
    let tested = s.roles().patch(
        r.id,
        &json!([{"op": "test", "path": "/externalId", "value": "c"},
                {"op": "remove", "path": "/externalId"}]),
        Some(4),
    );
    assert_eq!(tested.unwrap().external_id, None);
    let merged = s
        .roles()
        .merge(r.id, &json!({"externalId": "d"}), None)
        .unwrap();
    assert_eq!(merged.external_id.as_deref(), Some("d"));
    // `null` in a merge patch removes it; a replace without it drops it.
    let merged = s
        .roles()
        .merge(r.id, &json!({"externalId": null}), None)
        .unwrap();
    assert_eq!((merged.external_id, merged.version), (None, 7));
    s.roles()
        .merge(r.id, &json!({"externalId": "e"}), None)
        .unwrap();
    let replaced = s
        .roles()
        .replace(r.id, &json!({"name": "ops"}), None)
        .unwrap();
    assert_eq!(replaced.external_id, None);
    // Setting the value it has changes nothing.
    s.roles()
        .merge(r.id, &json!({"externalId": "f"}), None)
        .unwrap();
    let same = s
        .roles()
        .merge(r.id, &json!({"externalId": "f"}), None)
        .unwrap();
    assert_eq!(same.version, 10);
}

#[test]
fn bad_values_are_errors_naming_external_id() {
    let s = store();
    let code = |value: &str| problems(s.roles().create(with_external_id("r", value)));
    assert_eq!(
        code(""),
        [("externalId".to_owned(), ValidationCode::StringTooShort)]
    );
    assert_eq!(
        code(&"x".repeat(256)),
        [("externalId".to_owned(), ValidationCode::StringTooLong)]
    );
    assert_eq!(
        code("a\nb"),
        [("externalId".to_owned(), ValidationCode::ControlCharacters)]
    );
    assert_eq!(
        problems(NewRole::from_json(&json!({"name": "r", "externalId": 7}))),
        [("externalId".to_owned(), ValidationCode::StringType)]
    );
    // Every failing field at once, in the document's order.
    let bad = NewRole {
        external_id: Some(String::new()),
        permissions: vec!["no spaces".into()],
        ..NewRole::new("")
    };
    assert_eq!(
        error_fields(s.roles().create(bad)),
        ["name", "externalId", "permissions[0]"]
    );
    let r = s.roles().create(role("ops", None)).unwrap();
    assert_eq!(
        error_fields(s.roles().merge(r.id, &json!({"externalId": "\u{7}"}), None)),
        ["externalId"]
    );
    assert_eq!(
        s.roles().get(r.id).unwrap().version,
        1,
        "nothing was written"
    );
    // 255 characters of any width are allowed (lengths count characters).
    let long = "é".repeat(255);
    let ok = s.roles().create(with_external_id("long", &long)).unwrap();
    assert_eq!(ok.external_id.as_deref(), Some(long.as_str()));
}

#[test]
fn it_is_not_unique_and_queries_compare_it_exactly() {
    let s = store();
    let a = s.roles().create(with_external_id("a", "Grp-1")).unwrap();
    let b = s.roles().create(with_external_id("b", "Grp-1")).unwrap();
    let c = s.roles().create(with_external_id("c", "grp-1")).unwrap();
    let t = s
        .roles()
        .create(NewRole {
            tenant: Some("t1".into()),
            ..with_external_id("a", "Grp-1")
        })
        .unwrap();
    let none = s.roles().create(role("d", None)).unwrap();
    assert_eq!(ids(&s, "externalId eq 'Grp-1'"), [a.id, b.id, t.id]);
    assert_eq!(ids(&s, "externalId eq 'grp-1'"), [c.id]);
    assert_eq!(ids(&s, "externalId eq 'GRP-1'"), Vec::<u64>::new());
    assert_eq!(ids(&s, "externalId sw 'G'"), [a.id, b.id, t.id]);
    assert_eq!(ids(&s, "not (externalId pr)"), [none.id]);
    // As on any field, a comparison never holds for a role without one.
    assert_eq!(ids(&s, "externalId ne 'Grp-1'"), [c.id]);
    let sorted = Query::parse("externalId pr").unwrap().sort("externalId,id");
    let order: Vec<u64> = s
        .roles()
        .list(&sorted)
        .unwrap()
        .items
        .iter()
        .map(|r| r.id)
        .collect();
    // Exact order: upper case before lower case.
    assert_eq!(order, [a.id, b.id, t.id, c.id]);
    // A tenant's view sees its own roles only.
    let view = s.scoped("t1").unwrap();
    let in_t1: Vec<u64> = view
        .roles()
        .list(&Query::parse("externalId eq 'Grp-1'").unwrap())
        .unwrap()
        .items
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(in_t1, [t.id]);
}

#[test]
fn export_and_import_keep_it() {
    let s = store();
    let r = s.roles().create(with_external_id("ops", "Grp-1")).unwrap();
    s.roles().create(role("staff", None)).unwrap();
    let mut lines = Vec::new();
    s.export_jsonl_to(&mut lines).unwrap();
    let text = String::from_utf8(lines.clone()).unwrap();
    assert_eq!(text.matches("\"externalId\"").count(), 1, "{text}");
    let copy = Store::memory_with(options()).unwrap();
    copy.import_jsonl_from(lines.as_slice()).unwrap();
    assert_eq!(copy.roles().get(r.id).unwrap(), r);
    assert_eq!(copy.roles().get(2).unwrap().external_id, None);
    assert!(copy.check().unwrap().ok);
}
