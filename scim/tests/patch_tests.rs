//! PATCH on Users and Groups: each operation form, errors, atomicity.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{body, call, create_group, create_user, error, patch_op};
use rosterdb::{Store, View};
use rosterdb_scim::{Method, ScimResponse};
use serde_json::{Value, json};

fn patch(view: &View<'_>, path: &str, operations: Value) -> ScimResponse {
    call(
        view,
        Method::Patch,
        path,
        &[],
        Some(patch_op(operations)),
        None,
    )
}

#[test]
fn user_operations_with_and_without_paths() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let id = create_user(&view, "ann");
    let path = format!("/Users/{id}");
    let r = patch(
        &view,
        &path,
        json!([
            {"op": "Replace", "value": {"active": "False", "name.givenName": "Anne", "displayName": "A"}},
            {"op": "add", "path": "phoneNumbers", "value": [{"value": "555", "type": "mobile"}]},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "anne@example.com"},
            {"op": "add", "path": "externalId", "value": "x1"},
            {"op": "replace", "path": "password", "value": "s3cret-Passw0rd"},
        ]),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = body(&r);
    assert_eq!(b["active"], false);
    assert_eq!(
        b["name"],
        json!({"givenName": "Anne", "familyName": "ann-family"})
    );
    assert_eq!(
        b["emails"],
        json!([{"value": "anne@example.com", "type": "work"}])
    );
    assert_eq!(
        b["phoneNumbers"],
        json!([{"value": "555", "type": "mobile"}])
    );
    assert_eq!(b["externalId"], "x1");
    assert_eq!(r.header("ETag"), Some("W/\"2\""));
    let stored = store.users().get(1).unwrap();
    assert!(stored.has_password);
    assert_eq!(stored.first_name, "Anne");
    let r = patch(
        &view,
        &path,
        json!([
            {"op": "remove", "path": "externalId"},
            {"op": "remove", "path": "phoneNumbers[type eq \"mobile\"]"},
            {"op": "remove", "path": "displayName"},
        ]),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = body(&r);
    assert!(
        b.get("externalId").is_none()
            && b.get("phoneNumbers").is_none()
            && b.get("displayName").is_none()
    );
}

#[test]
fn patch_errors_name_the_operation_and_write_nothing() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let id = create_user(&view, "ann");
    let path = format!("/Users/{id}");
    let cases = [
        (
            json!([{"op": "replace", "path": "userName", "value": "ann2"}, {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "not-an-email"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "replace", "path": "displayName", "value": "x"}, {"op": "remove", "path": "phoneNumbers[type eq \"work\"]"}]),
            "noTarget",
        ),
        (
            json!([{"op": "replace", "path": "meta.created", "value": "2020-01-01"}]),
            "mutability",
        ),
        (
            json!([{"op": "add", "path": "groups", "value": [{"value": "1"}]}]),
            "mutability",
        ),
        (
            json!([{"op": "add", "path": "shoeSize", "value": 3}]),
            "invalidPath",
        ),
        (
            json!([{"op": "add", "path": "emails[type eq", "value": 3}]),
            "invalidPath",
        ),
        (json!([{"op": "remove"}]), "noTarget"),
        (json!([{"op": "move", "path": "userName"}]), "invalidSyntax"),
        (
            json!([{"op": "remove", "path": "userName"}]),
            "invalidValue",
        ),
    ];
    for (operations, kind) in cases {
        let r = patch(&view, &path, operations.clone());
        let (status, got, detail) = error(&r);
        assert_eq!(
            (status, got.as_deref()),
            (400, Some(kind)),
            "{operations}: {detail}"
        );
        assert!(
            detail.starts_with("operation ") || kind == "invalidValue",
            "{detail}"
        );
    }
    let stored = store.users().get(1).unwrap();
    assert_eq!(
        (stored.username.as_str(), stored.version, stored.nickname),
        ("ann", 1, None)
    );
    let no_schema = call(
        &view,
        Method::Patch,
        &path,
        &[],
        Some(json!({"Operations": []})),
        None,
    );
    assert_eq!(error(&no_schema).1.as_deref(), Some("invalidSyntax"));
}

#[test]
fn group_members_add_and_remove_roles_in_one_transaction() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let ann = create_user(&view, "ann");
    let bob = create_user(&view, "bob");
    let cid = create_user(&view, "cid");
    let group = create_group(&view, "admins", &[&ann]);
    let path = format!("/Groups/{group}");
    let r = patch(
        &view,
        &path,
        json!([
            {"op": "add", "path": "members", "value": [{"value": bob}, {"value": cid}]},
            {"op": "remove", "path": format!("members[value eq \"{ann}\"]")},
            {"op": "replace", "path": "displayName", "value": "owners"},
        ]),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let members: Vec<&str> = body(&r)["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, [bob.as_str(), cid.as_str()]);
    assert_eq!(body(&r)["displayName"], "owners");
    assert_eq!(store.users().get(1).unwrap().roles, Vec::<u64>::new());
    assert_eq!(store.users().get(2).unwrap().roles, [1]);
    // Entra ID's form: remove with a value list.
    let r = patch(
        &view,
        &path,
        json!([{"op": "Remove", "path": "members", "value": [{"value": cid}]}]),
    );
    assert_eq!(r.status, 200);
    assert_eq!(store.users().get(3).unwrap().roles, Vec::<u64>::new());
    // A failing operation leaves every membership and the name as they were.
    let r = patch(
        &view,
        &path,
        json!([
            {"op": "add", "path": "members", "value": [{"value": ann}]},
            {"op": "replace", "path": "displayName", "value": "renamed"},
            {"op": "add", "path": "members", "value": [{"value": "99"}]},
        ]),
    );
    let (status, kind, detail) = error(&r);
    assert_eq!(
        (status, kind.as_deref()),
        (400, Some("invalidValue")),
        "{detail}"
    );
    assert_eq!(store.users().get(1).unwrap().roles, Vec::<u64>::new());
    assert_eq!(store.roles().get(1).unwrap().name, "owners");
    let r = patch(
        &view,
        &path,
        json!([{"op": "replace", "path": format!("members[value eq \"{bob}\"].value"), "value": "3"}]),
    );
    assert_eq!(error(&r).1.as_deref(), Some("mutability"));
}
