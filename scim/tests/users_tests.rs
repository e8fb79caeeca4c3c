//! `/Users`: create, read, replace, delete, and what a response never holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{BASE, body, call, create_user, error, get, user};
use rosterdb::{ExternalId, Store, View};
use rosterdb_scim::Method;
use serde_json::json;

#[test]
fn create_returns_201_with_location_etag_and_meta() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let mut doc = user("ann");
    doc["password"] = json!("s3cret-Passw0rd");
    doc["externalId"] = json!("ext-1");
    doc["displayName"] = json!("Annie");
    doc["phoneNumbers"] =
        json!([{"value": "+1 555", "type": "work"}, {"value": "+1 666", "type": "mobile"}]);
    let r = call(&view, Method::Post, "/Users", &[], Some(doc), None);
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.header("Location"), Some(&*format!("{BASE}/Users/1")));
    assert_eq!(r.header("ETag"), Some("W/\"1\""));
    let b = body(&r);
    assert_eq!(b["id"], "1");
    assert_eq!(b["userName"], "ann");
    assert_eq!(b["externalId"], "ext-1");
    assert_eq!(b["displayName"], "Annie");
    assert_eq!(b["active"], true);
    assert_eq!(
        b["emails"],
        json!([{"value": "ann@example.com", "type": "work"}])
    );
    assert_eq!(
        b["phoneNumbers"][1],
        json!({"value": "+1 666", "type": "mobile"})
    );
    assert_eq!(b["meta"]["resourceType"], "User");
    assert_eq!(b["meta"]["version"], "W/\"1\"");
    assert_eq!(b["meta"]["location"], format!("{BASE}/Users/1"));
    // The store holds what SCIM sent.
    let stored = store.users().get(1).unwrap();
    assert_eq!(stored.nickname.as_deref(), Some("Annie"));
    assert_eq!(stored.mobile_number.as_deref(), Some("+1 666"));
    assert!(stored.has_password);
    assert_eq!(stored.external_ids, [ExternalId::new("scim", "ext-1")]);
    let again = get(&view, "/Users/1", &[]);
    assert_eq!(body(&again), b);
}

#[test]
fn bad_input_is_a_typed_scim_error_and_writes_nothing() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    create_user(&view, "ann");
    let (status, kind, detail) = error(&call(
        &view,
        Method::Post,
        "/Users",
        &[],
        Some(user("ANN")),
        None,
    ));
    assert_eq!((status, kind.as_deref()), (409, Some("uniqueness")));
    assert!(detail.contains("userName"), "{detail}");
    let mut no_name = user("bob");
    no_name.as_object_mut().unwrap().remove("name");
    let (status, kind, detail) = error(&call(
        &view,
        Method::Post,
        "/Users",
        &[],
        Some(no_name),
        None,
    ));
    assert_eq!((status, kind.as_deref()), (400, Some("invalidValue")));
    assert!(
        detail.contains("name.givenName") && detail.contains("name.familyName"),
        "{detail}"
    );
    let mut unknown = user("bob");
    unknown["shoeSize"] = json!(42);
    let (_, kind, detail) = error(&call(
        &view,
        Method::Post,
        "/Users",
        &[],
        Some(unknown),
        None,
    ));
    assert_eq!(kind.as_deref(), Some("invalidValue"));
    assert!(detail.contains("shoeSize"), "{detail}");
    let mut two_emails = user("bob");
    two_emails["emails"] = json!([{"value": "a@example.com"}, {"value": "b@example.com"}]);
    assert_eq!(
        error(&call(
            &view,
            Method::Post,
            "/Users",
            &[],
            Some(two_emails),
            None
        ))
        .0,
        400
    );
    let mut short_password = user("bob");
    short_password["password"] = json!("s3cret");
    let (_, _, detail) = error(&call(
        &view,
        Method::Post,
        "/Users",
        &[],
        Some(short_password),
        None,
    ));
    assert!(
        detail.contains("password") && !detail.contains("s3cret"),
        "{detail}"
    );
    assert_eq!(store.users().count(&rosterdb::Query::all()).unwrap(), 1);
}

#[test]
fn read_only_input_is_ignored() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let mut doc = user("ann");
    doc["id"] = json!("999");
    doc["meta"] = json!({"version": "W/\"7\""});
    doc["groups"] = json!([{"value": "5"}]);
    let r = call(&view, Method::Post, "/Users", &[], Some(doc), None);
    assert_eq!(r.status, 201);
    assert_eq!(body(&r)["id"], "1");
    assert!(body(&r).get("groups").is_none());
}

#[test]
fn put_replaces_what_scim_carries_and_keeps_the_rest() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let admins = store
        .roles()
        .create(rosterdb::NewRole::new("admins"))
        .unwrap();
    let id = create_user(&view, "ann");
    store
        .users()
        .merge(
            1,
            &json!({"roles": [admins.id], "attributes": {"office": "B2"},
            "externalIds": [{"type": "github", "value": "42"}]}),
            None,
        )
        .unwrap();
    let mut doc = user("ann2");
    doc["active"] = json!(false);
    doc["externalId"] = json!("e-9");
    let r = call(
        &view,
        Method::Put,
        &format!("/Users/{id}"),
        &[],
        Some(doc),
        None,
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = body(&r);
    assert_eq!(b["userName"], "ann2");
    assert_eq!(b["active"], false);
    assert_eq!(
        b["groups"],
        json!([{"value": "1", "$ref": format!("{BASE}/Groups/1"), "display": "admins"}])
    );
    let stored = store.users().get(1).unwrap();
    assert_eq!(stored.roles, [admins.id]);
    assert_eq!(stored.attributes["office"], "B2");
    assert_eq!(
        stored.external_ids,
        [
            ExternalId::new("github", "42"),
            ExternalId::new("scim", "e-9")
        ]
    );
}

#[test]
fn delete_answers_204_then_404() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let id = create_user(&view, "ann");
    let r = call(
        &view,
        Method::Delete,
        &format!("/Users/{id}"),
        &[],
        None,
        None,
    );
    assert_eq!((r.status, r.body.as_ref()), (204, None));
    assert_eq!(error(&get(&view, &format!("/Users/{id}"), &[])).0, 404);
    assert_eq!(
        error(&call(
            &view,
            Method::Delete,
            &format!("/Users/{id}"),
            &[],
            None,
            None
        ))
        .0,
        404
    );
}

#[test]
fn etags_and_if_match() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let id = create_user(&view, "ann");
    let path = format!("/Users/{id}");
    assert_eq!(get(&view, &path, &[]).header("ETag"), Some("W/\"1\""));
    let r = call(
        &view,
        Method::Put,
        &path,
        &[],
        Some(user("ann")),
        Some("W/\"1\""),
    );
    assert_eq!(r.status, 200);
    let mut changed = user("ann");
    changed["displayName"] = json!("A");
    let r = call(
        &view,
        Method::Put,
        &path,
        &[],
        Some(changed.clone()),
        Some("W/\"1\""),
    );
    assert_eq!(r.status, 200, "an unchanged PUT does not bump the version");
    assert_eq!(r.header("ETag"), Some("W/\"2\""));
    let stale = call(
        &view,
        Method::Put,
        &path,
        &[],
        Some(user("ann")),
        Some("W/\"1\""),
    );
    assert_eq!(error(&stale).0, 412);
    assert_eq!(store.users().get(1).unwrap().nickname.as_deref(), Some("A"));
    assert_eq!(
        error(&call(
            &view,
            Method::Put,
            &path,
            &[],
            Some(user("ann")),
            Some("\"junk\"")
        ))
        .0,
        412
    );
    assert_eq!(
        error(&call(
            &view,
            Method::Delete,
            &path,
            &[],
            None,
            Some("W/\"1\"")
        ))
        .0,
        412
    );
    assert_eq!(
        call(&view, Method::Put, &path, &[], Some(changed), Some("*")).status,
        200
    );
    assert_eq!(
        call(&view, Method::Delete, &path, &[], None, Some("\"2\"")).status,
        204
    );
}
