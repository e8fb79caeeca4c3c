//! `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes` and routing errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{BASE, body, call, error, get};
use rosterdb::{Store, View};
use rosterdb_scim::{Method, USER_SCHEMA};

#[test]
fn service_provider_config_announces_what_is_supported() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let r = get(&view, "/ServiceProviderConfig", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/scim+json"));
    let b = body(&r);
    for feature in ["patch", "filter", "sort", "etag", "changePassword"] {
        assert_eq!(b[feature]["supported"], true, "{feature}");
    }
    assert_eq!(b["bulk"]["supported"], false);
    assert_eq!(b["filter"]["maxResults"], 1000);
    assert_eq!(
        b["meta"]["location"],
        format!("{BASE}/ServiceProviderConfig")
    );
    let (status, _, _) = error(&call(
        &view,
        Method::Post,
        "/ServiceProviderConfig",
        &[],
        None,
        None,
    ));
    assert_eq!(status, 405);
}

#[test]
fn schemas_declare_the_attributes_rosterdb_keeps() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let list = get(&view, "/Schemas", &[]);
    assert_eq!(body(&list)["totalResults"], 2);
    let user = get(&view, &format!("/Schemas/{USER_SCHEMA}"), &[]);
    assert_eq!(user.status, 200);
    let attrs = body(&user)["attributes"].as_array().unwrap();
    let names: Vec<&str> = attrs.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "userName",
            "name",
            "displayName",
            "emails",
            "phoneNumbers",
            "active",
            "password",
            "groups"
        ]
    );
    let user_name = &attrs[0];
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["caseExact"], false);
    assert_eq!(user_name["required"], true);
    let password = attrs.iter().find(|a| a["name"] == "password").unwrap();
    assert_eq!(password["mutability"], "writeOnly");
    assert_eq!(password["returned"], "never");
    let groups = attrs.iter().find(|a| a["name"] == "groups").unwrap();
    assert_eq!(groups["mutability"], "readOnly");
    let (status, _, _) = error(&get(&view, "/Schemas/urn:nope", &[]));
    assert_eq!(status, 404);
    let (status, _, _) = error(&get(&view, "/Schemas", &[("filter", "id pr")]));
    assert_eq!(status, 403);
}

#[test]
fn resource_types_name_users_and_groups() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    let list = get(&view, "/ResourceTypes", &[]);
    let ids: Vec<&str> = body(&list)["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["User", "Group"]);
    let group = get(&view, "/ResourceTypes/Group", &[]);
    assert_eq!(body(&group)["endpoint"], "/Groups");
    assert_eq!(error(&get(&view, "/ResourceTypes/Device", &[])).0, 404);
}

#[test]
fn unknown_endpoints_and_methods_are_scim_errors() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    assert_eq!(error(&get(&view, "/Devices", &[])).0, 404);
    assert_eq!(error(&get(&view, "/Users/abc", &[])).0, 404);
    assert_eq!(error(&get(&view, "/Users/0", &[])).0, 404);
    assert_eq!(
        error(&call(&view, Method::Delete, "/Users", &[], None, None)).0,
        405
    );
    assert_eq!(
        error(&call(&view, Method::Post, "/Bulk", &[], None, None)).0,
        501
    );
    assert_eq!(error(&get(&view, "/.search", &[])).0, 405);
    let (status, kind, _) = error(&call(&view, Method::Post, "/Users", &[], None, None));
    assert_eq!((status, kind.as_deref()), (400, Some("invalidSyntax")));
}

#[test]
fn permissions_each_request_needs() {
    let request = |method, path: &'static str| rosterdb_scim::ScimRequest {
        method,
        path,
        query: &[],
        body: b"",
        if_match: None,
        base_url: BASE,
    };
    for (method, path, wanted) in [
        (Method::Get, "/Users", &["users:read"][..]),
        (Method::Post, "/Users/.search", &["users:read"]),
        (Method::Patch, "/Users/3", &["users:write"]),
        (Method::Get, "/Groups/3", &["roles:read"]),
        (Method::Patch, "/Groups/3", &["roles:write", "users:write"]),
        (Method::Delete, "/Groups/3", &["roles:write", "users:write"]),
        (Method::Post, "/.search", &["users:read", "roles:read"]),
        (Method::Get, "/Schemas", &[]),
        (Method::Get, "/ServiceProviderConfig", &[]),
    ] {
        assert_eq!(
            request(method, path).permissions(),
            wanted,
            "{method:?} {path}"
        );
    }
}

/// A `405` names the methods its endpoint answers in `Allow` (RFC 9110
/// §15.5.6); a `404` names none.
#[test]
fn a_405_names_the_allowed_methods() {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    for (method, path, allowed) in [
        (Method::Post, "/ServiceProviderConfig", "GET"),
        (Method::Delete, "/Schemas", "GET"),
        (Method::Put, "/ResourceTypes/User", "GET"),
        (Method::Delete, "/Users", "GET, POST"),
        (Method::Other, "/Groups/", "GET, POST"),
        (Method::Get, "/Users/.search", "POST"),
        (Method::Get, "/.search", "POST"),
        (Method::Post, "/Users/1", "GET, PUT, PATCH, DELETE"),
    ] {
        let answer = call(&view, method, path, &[], None, None);
        assert_eq!(answer.status, 405, "{method:?} {path}");
        assert_eq!(answer.header("Allow"), Some(allowed), "{method:?} {path}");
    }
    let missing = get(&view, "/Devices", &[]);
    assert_eq!((missing.status, missing.header("Allow")), (404, None));
}
