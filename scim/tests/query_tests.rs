//! Filters compiled to rosterdb queries, sorting, paging, `attributes`, `/.search`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{body, call, create_user, error, get, user};
use rosterdb::{Store, View};
use rosterdb_scim::Method;
use serde_json::{Value, json};

fn names(response: &rosterdb_scim::ScimResponse) -> Vec<String> {
    body(response)["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap().to_owned())
        .collect()
}

fn store_of_five() -> Store {
    let store = Store::memory().unwrap();
    let view = View::whole(&store);
    for name in ["dan", "ann", "eve", "bob", "cid"] {
        create_user(&view, name);
    }
    store
        .users()
        .merge(4, &json!({"enabled": false}), None)
        .unwrap();
    let mut doc = user("fay");
    doc["externalId"] = json!("X-7");
    doc["phoneNumbers"] = json!([{"value": "555-0101", "type": "mobile"}]);
    assert_eq!(
        call(&view, Method::Post, "/Users", &[], Some(doc), None).status,
        201
    );
    store
}

fn filtered(view: &View<'_>, filter: &str) -> Vec<String> {
    let r = get(
        view,
        "/Users",
        &[("filter", filter), ("sortBy", "userName")],
    );
    assert_eq!(r.status, 200, "{filter}: {:?}", r.body);
    names(&r)
}

#[test]
fn filters_translate_to_rosterdb_fields() {
    let store = store_of_five();
    let view = View::whole(&store);
    assert_eq!(filtered(&view, "userName eq \"ANN\""), ["ann"]);
    assert_eq!(
        filtered(
            &view,
            "urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"ann\""
        ),
        ["ann"]
    );
    assert_eq!(filtered(&view, "name.familyName sw \"e\""), ["eve"]);
    assert_eq!(filtered(&view, "emails co \"bob@\""), ["bob"]);
    assert_eq!(
        filtered(&view, "emails[value ew \"cid@example.com\"]"),
        ["cid"]
    );
    assert_eq!(
        filtered(
            &view,
            "emails.value eq \"dan@example.com\" or userName eq \"eve\""
        ),
        ["dan", "eve"]
    );
    assert_eq!(filtered(&view, "active eq false"), ["bob"]);
    assert_eq!(
        filtered(&view, "not (active eq true) or externalId eq \"X-7\""),
        ["bob", "fay"]
    );
    assert_eq!(filtered(&view, "phoneNumbers pr"), ["fay"]);
    assert_eq!(
        filtered(&view, "phoneNumbers.value eq \"555-0101\""),
        ["fay"]
    );
    assert_eq!(filtered(&view, "id eq \"2\""), ["ann"]);
    assert_eq!(
        filtered(&view, "id eq \"not-a-number\""),
        Vec::<String>::new()
    );
    assert_eq!(
        filtered(
            &view,
            "meta.created ge \"2000-01-01\" and userName lt \"c\""
        ),
        ["ann", "bob"]
    );
    assert_eq!(filtered(&view, "displayName pr"), Vec::<String>::new());
}

#[test]
fn invalid_filters_are_400_invalid_filter_naming_the_position() {
    let store = store_of_five();
    let view = View::whole(&store);
    for (filter, position) in [
        ("userName eq", 11),
        ("userName zz \"a\"", 9),
        ("shoeSize eq \"a\"", 0),
        ("userName eq \"a\" and (active eq true", 35),
        ("active eq \"yes\"", 0),
        ("userName eq \"a\" or groups.display eq \"x\"", 19),
        ("userName eq \"unterminated", 12),
        ("userName eq \"a\" extra", 16),
    ] {
        let r = get(&view, "/Users", &[("filter", filter)]);
        let (status, kind, detail) = error(&r);
        assert_eq!(
            (status, kind.as_deref()),
            (400, Some("invalidFilter")),
            "{filter}"
        );
        assert!(
            detail.contains(&format!("position {position}")),
            "{filter}: {detail}"
        );
    }
}

#[test]
fn sorting_and_paging() {
    let store = store_of_five();
    let view = View::whole(&store);
    let r = get(
        &view,
        "/Users",
        &[
            ("sortBy", "userName"),
            ("sortOrder", "descending"),
            ("startIndex", "2"),
            ("count", "2"),
        ],
    );
    let b = body(&r);
    assert_eq!(
        b["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    assert_eq!(
        (
            b["totalResults"].clone(),
            b["startIndex"].clone(),
            b["itemsPerPage"].clone()
        ),
        (json!(6), json!(2), json!(2))
    );
    assert_eq!(names(&r), ["eve", "dan"]);
    let r = get(
        &view,
        "/Users",
        &[
            ("sortBy", "name.familyName"),
            ("startIndex", "-3"),
            ("count", "1"),
        ],
    );
    assert_eq!(
        (names(&r), body(&r)["startIndex"].clone()),
        (vec!["ann".to_owned()], json!(1))
    );
    let r = get(
        &view,
        "/Users",
        &[("count", "0"), ("filter", "active eq true")],
    );
    assert_eq!(body(&r)["totalResults"], 5);
    assert_eq!(body(&r)["Resources"], json!([]));
    let r = get(&view, "/Users", &[("startIndex", "10")]);
    assert_eq!(
        (
            body(&r)["totalResults"].clone(),
            body(&r)["itemsPerPage"].clone()
        ),
        (json!(6), json!(0))
    );
    assert_eq!(
        error(&get(&view, "/Users", &[("count", "many")]))
            .1
            .as_deref(),
        Some("invalidValue")
    );
    assert_eq!(
        error(&get(&view, "/Users", &[("sortBy", "groups")]))
            .1
            .as_deref(),
        Some("invalidValue")
    );
    assert_eq!(
        error(&get(
            &view,
            "/Users",
            &[("sortBy", "userName"), ("sortOrder", "up")]
        ))
        .0,
        400
    );
}

#[test]
fn attributes_and_excluded_attributes() {
    let store = store_of_five();
    let view = View::whole(&store);
    let r = get(
        &view,
        "/Users/1",
        &[("attributes", "userName,name.givenName")],
    );
    assert_eq!(
        body(&r),
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1", "userName": "dan", "name": {"givenName": "dan-given"}})
    );
    let r = get(
        &view,
        "/Users",
        &[
            ("excludedAttributes", "emails,meta,name.familyName"),
            ("count", "1"),
        ],
    );
    let first = &body(&r)["Resources"][0];
    assert!(first.get("emails").is_none() && first.get("meta").is_none());
    assert_eq!(first["name"], json!({"givenName": "dan-given"}));
    assert_eq!(first["id"], "1");
    assert_eq!(
        error(&get(&view, "/Users/1", &[("attributes", "shoeSize")])).0,
        400
    );
}

#[test]
fn search_with_a_post_body() {
    let store = store_of_five();
    let view = View::whole(&store);
    let r = call(
        &view,
        Method::Post,
        "/Users/.search",
        &[],
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": "userName sw \"e\" or userName sw \"a\"",
            "sortBy": "userName",
            "attributes": ["userName"],
            "count": 10,
        })),
        None,
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(names(&r), ["ann", "eve"]);
    assert!(body(&r)["Resources"][0].get("emails").is_none());
    let bad = call(
        &view,
        Method::Post,
        "/Users/.search",
        &[],
        Some(json!({"filtre": "x"})),
        None,
    );
    assert_eq!(error(&bad).0, 400);
    let _: Value = body(&r).clone();
}

#[test]
fn deep_or_long_filters_are_errors_not_crashes() {
    let store = store_of_five();
    let view = View::whole(&store);
    let deep = format!("{}userName eq \"ann\"{}", "(".repeat(17), ")".repeat(17));
    let (status, kind, detail) = error(&get(&view, "/Users", &[("filter", &deep)]));
    assert_eq!((status, kind.as_deref()), (400, Some("invalidFilter")));
    assert!(detail.contains("position 16"), "{detail}");
    // `not (` nests twice: eight of them reach the limit, and cancel out.
    let nested_not = format!("{}userName eq \"ann\"{}", "not (".repeat(8), ")".repeat(8));
    assert_eq!(filtered(&view, &nested_not), ["ann"]);
    let ok = format!("{}userName eq \"ann\"{}", "(".repeat(16), ")".repeat(16));
    assert_eq!(filtered(&view, &ok), ["ann"]);
    let long = vec!["userName eq \"ann\""; 2000].join(" or ");
    assert_eq!(filtered(&view, &long), ["ann"]);
    let deep_value = format!("emails[{}value eq \"x\"{}]", "(".repeat(16), ")".repeat(16));
    assert_eq!(
        error(&get(&view, "/Users", &[("filter", &deep_value)])).0,
        400
    );
}

#[test]
fn a_search_at_the_root_spans_users_and_groups() {
    let store = store_of_five();
    let view = View::whole(&store);
    common::create_group(&view, "admins", &["1"]);
    common::create_group(&view, "auditors", &[]);
    let search = |request: Value| call(&view, Method::Post, "/.search", &[], Some(request), None);
    let r = search(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(body(&r)["totalResults"], 8);
    let kinds: Vec<&str> = body(&r)["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "User", "User", "User", "User", "User", "User", "Group", "Group"
        ]
    );
    // Paging runs across the two: users 6, then groups.
    let r = search(json!({"startIndex": 6, "count": 2, "attributes": ["members"]}));
    let page = &body(&r)["Resources"];
    assert_eq!(body(&r)["itemsPerPage"], 2);
    assert_eq!(
        page[0],
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "6"})
    );
    assert_eq!(page[1]["members"][0]["value"], "1");
    // A filter one type cannot run leaves that type out.
    let r = search(json!({"filter": "userName sw \"a\""}));
    assert_eq!(body(&r)["totalResults"], 1);
    let r = search(json!({"filter": "displayName sw \"a\"", "count": 0}));
    assert_eq!(body(&r)["totalResults"], 2);
    assert_eq!(
        error(&search(json!({"filter": "shoeSize eq 1"})))
            .1
            .as_deref(),
        Some("invalidFilter")
    );
    assert_eq!(
        error(&search(json!({"attributes": ["shoeSize"]})))
            .1
            .as_deref(),
        Some("invalidValue")
    );
    assert_eq!(
        error(&search(json!({"sortBy": "id"}))).1.as_deref(),
        Some("invalidValue")
    );
}

/// A single-valued list parameter given twice (in any case) is refused:
/// which value counts would be a guess. `attributes` may repeat.
#[test]
fn a_list_parameter_given_twice_is_refused() {
    let store = store_of_five();
    let view = View::whole(&store);
    for query in [
        [("count", "1"), ("count", "2")],
        [
            ("filter", "userName eq \"a\""),
            ("FILTER", "active eq true"),
        ],
        [("startIndex", "1"), ("startindex", "2")],
        [("sortBy", "userName"), ("sortBy", "name.familyName")],
    ] {
        let (status, scim_type, detail) = error(&get(&view, "/Users", &query));
        assert_eq!((status, scim_type.as_deref()), (400, Some("invalidValue")));
        assert!(detail.contains("more than once"), "{detail}");
    }
    let both = get(
        &view,
        "/Users",
        &[("attributes", "userName"), ("attributes", "active")],
    );
    assert_eq!(both.status, 200);
}
