//! `/Groups` (roles and their holders) and tenant isolation through a scoped view.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{BASE, body, call, create_group, create_user, error, get, user};
use rosterdb::{NewUser, Store, View};
use rosterdb_scim::Method;
use serde_json::json;

#[test]
fn groups_are_roles_and_members_are_holders() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let ann = create_user(&view, "ann");
    let bob = create_user(&view, "bob");
    let group = create_group(&view, "admins", &[&ann, &bob]);
    let r = get(&view, &format!("/Groups/{group}"), &[]);
    let b = body(&r);
    assert_eq!(b["displayName"], "admins");
    assert_eq!(
        b["members"][0],
        json!({"value": ann, "$ref": format!("{BASE}/Users/{ann}"), "type": "User"})
    );
    assert_eq!(b["meta"]["resourceType"], "Group");
    let tag = r.header("ETag").unwrap().to_owned();
    assert!(tag.starts_with("W/\"1."), "{tag}");
    assert_eq!(b["meta"]["version"], tag);
    let user = get(&view, &format!("/Users/{ann}"), &[]);
    assert_eq!(body(&user)["groups"][0]["display"], "admins");
    let list = get(
        &view,
        "/Groups",
        &[
            ("filter", "displayName eq \"ADMINS\""),
            ("excludedAttributes", "members"),
        ],
    );
    assert_eq!(body(&list)["totalResults"], 1);
    assert!(body(&list)["Resources"][0].get("members").is_none());
    // PUT sets the holders exactly; a change of members changes the ETag.
    let put = |members, if_match| {
        let doc = json!({"displayName": "admins", "members": members});
        let path = format!("/Groups/{group}");
        call(&view, Method::Put, &path, &[], Some(doc), Some(if_match))
    };
    let r = put(json!([{"value": bob}]), &tag);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(store.users().get(1).unwrap().roles, Vec::<u64>::new());
    let new_tag = r.header("ETag").unwrap().to_owned();
    assert_ne!(new_tag, tag);
    assert!(
        new_tag.starts_with("W/\"1."),
        "the role record is unchanged: {new_tag}"
    );
    assert_eq!(error(&put(json!([]), &tag)).0, 412);
    let path = format!("/Groups/{group}");
    assert_eq!(
        error(&call(&view, Method::Delete, &path, &[], None, Some(&tag))).0,
        412
    );
    assert_eq!(store.users().get(2).unwrap().roles, [1]);
    // Deleting the group ends its memberships.
    assert_eq!(
        call(
            &view,
            Method::Delete,
            &format!("/Groups/{group}"),
            &[],
            None,
            None
        )
        .status,
        204
    );
    assert_eq!(store.users().get(2).unwrap().roles, Vec::<u64>::new());
    assert_eq!(error(&get(&view, &format!("/Groups/{group}"), &[])).0, 404);
}

#[test]
fn group_input_errors() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    create_group(&view, "admins", &[]);
    let post = |doc| call(&view, Method::Post, "/Groups", &[], Some(doc), None);
    assert_eq!(
        error(&post(json!({"displayName": "Admins"}))).1.as_deref(),
        Some("uniqueness")
    );
    assert_eq!(
        error(&post(
            json!({"displayName": "x", "members": [{"value": "7"}]})
        ))
        .1
        .as_deref(),
        Some("invalidValue")
    );
    assert_eq!(
        error(&post(
            json!({"displayName": "x", "members": [{"value": "1", "type": "Group"}]})
        ))
        .1
        .as_deref(),
        Some("invalidValue")
    );
    for bad in [json!(""), json!(7), json!("a\u{0}b")] {
        assert_eq!(
            error(&post(json!({"displayName": "x", "externalId": bad})))
                .1
                .as_deref(),
            Some("invalidValue"),
            "{bad}"
        );
    }
    assert_eq!(
        error(&post(json!({"members": []}))).1.as_deref(),
        Some("invalidValue")
    );
    assert_eq!(store.roles().count(&rosterdb::Query::all()).unwrap(), 1);
}

#[test]
fn a_scoped_view_sees_only_its_tenant() {
    let store = Store::memory().unwrap();
    let other = store.scoped("other").unwrap();
    other
        .users()
        .create(NewUser::new("zed", "zed@example.com", "Z", "Z"))
        .unwrap();
    let acme = store.scoped("acme").unwrap();
    let ann = create_user(&acme, "ann");
    assert_eq!(ann, "2");
    assert_eq!(
        store.users().get(2).unwrap().tenant.as_deref(),
        Some("acme")
    );
    let list = get(&acme, "/Users", &[]);
    assert_eq!(body(&list)["totalResults"], 1);
    assert_eq!(
        get(&acme, "/Users", &[("filter", "userName eq \"zed\"")])
            .body
            .unwrap()["totalResults"],
        0
    );
    assert_eq!(error(&get(&acme, "/Users/1", &[])).0, 404);
    assert_eq!(
        error(&call(
            &acme,
            Method::Put,
            "/Users/1",
            &[],
            Some(user("zed")),
            None
        ))
        .0,
        404
    );
    assert_eq!(
        error(&call(&acme, Method::Delete, "/Users/1", &[], None, None)).0,
        404
    );
    // Another tenant's user cannot be made a member, and its username is free here.
    let (status, kind, detail) = error(&call(
        &acme,
        Method::Post,
        "/Groups",
        &[],
        Some(json!({"displayName": "g", "members": [{"value": "1"}]})),
        None,
    ));
    assert_eq!(
        (status, kind.as_deref()),
        (400, Some("invalidValue")),
        "{detail}"
    );
    create_user(&acme, "zed");
    assert_eq!(store.users().get(1).unwrap().roles, Vec::<u64>::new());
    let whole = View::whole(&store);
    assert_eq!(
        body(&get(&whole, "/Users", &[]))
            .get("totalResults")
            .unwrap(),
        3
    );
}

#[test]
fn a_group_keeps_its_external_id() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let post = |doc| call(&view, Method::Post, "/Groups", &[], Some(doc), None);
    let r = post(json!({"displayName": "admins", "externalId": "G-1"}));
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(body(&r)["externalId"], "G-1");
    let id = body(&r)["id"].as_str().unwrap().to_owned();
    assert_eq!(
        store.roles().get(1).unwrap().external_id.as_deref(),
        Some("G-1")
    );
    let other = post(json!({"displayName": "staff"}));
    assert!(body(&other).get("externalId").is_none());
    // Not unique: another group may carry the same one.
    assert_eq!(
        post(json!({"displayName": "copies", "externalId": "G-1"})).status,
        201
    );
    // Filters compare it exactly (caseExact), and it sorts.
    let ids = |filter: &str| -> Vec<String> {
        let list = get(
            &view,
            "/Groups",
            &[("filter", filter), ("sortBy", "externalId")],
        );
        body(&list)["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids("externalId eq \"G-1\""), ["1", "3"]);
    assert_eq!(ids("externalId eq \"g-1\""), Vec::<String>::new());
    assert_eq!(ids("not (externalId pr)"), ["2"]);
    // PATCH replaces and removes it; PUT without it removes it.
    let path = format!("/Groups/{id}");
    let patch = |ops| {
        let doc = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                         "Operations": ops});
        call(&view, Method::Patch, &path, &[], Some(doc), None)
    };
    let r = patch(json!([{"op": "replace", "path": "externalId", "value": "G-2"}]));
    assert_eq!(body(&r)["externalId"], "G-2", "{:?}", r.body);
    let r = patch(json!([{"op": "remove", "path": "externalId"}]));
    assert!(body(&r).get("externalId").is_none(), "{:?}", r.body);
    let r = patch(json!([{"op": "add", "value": {"externalId": "G-3"}}]));
    assert_eq!(body(&r)["externalId"], "G-3");
    let put = |doc| call(&view, Method::Put, &path, &[], Some(doc), None);
    let r = put(json!({"displayName": "admins", "externalId": "G-3"}));
    assert_eq!(
        store.roles().get(1).unwrap().version,
        4,
        "an unchanged PUT writes nothing: {:?}",
        r.body
    );
    let r = put(json!({"displayName": "admins"}));
    assert!(body(&r).get("externalId").is_none());
    assert_eq!(store.roles().get(1).unwrap().external_id, None);
}
