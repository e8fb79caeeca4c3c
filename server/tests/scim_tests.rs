//! SCIM 2.0 Users over HTTP: discovery, CRUD, filters, paging, PATCH,
//! ETags, and SCIM error bodies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::Server;
use reqwest::Method;
use serde_json::{Value, json};

const SCIM: &str = "application/scim+json";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// Asserts `response` is a SCIM error of `status` (and `scim_type`); returns its body.
async fn scim_error(response: reqwest::Response, status: u16, scim_type: Option<&str>) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(response.headers()["content-type"], SCIM);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
        "{body}"
    );
    assert_eq!(body["status"], status.to_string());
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
    body
}

fn bjensen() -> Value {
    json!({"schemas": [USER], "userName": "bjensen", "externalId": "ext-1",
           "name": {"givenName": "Barbara", "familyName": "Jensen"},
           "emails": [{"value": "bjensen@example.com", "primary": true}],
           "phoneNumbers": [{"value": "555-0100"}], "active": true, "password": "t1meMachine!"})
}

#[tokio::test]
async fn discovery_describes_users() {
    let server = Server::start().await;
    let token = server.admin().await;
    let config = server
        .get_json("/scim/v2/ServiceProviderConfig", &token)
        .await;
    assert_eq!(config["patch"]["supported"], true);
    let types = server.get_json("/scim/v2/ResourceTypes", &token).await;
    assert_eq!(types["Resources"][0]["endpoint"], "/Users");
    let schema = server
        .get_json(&format!("/scim/v2/Schemas/{USER}"), &token)
        .await;
    assert!(
        schema["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "userName")
    );
    scim_error(
        server
            .call(Method::GET, "/scim/v2/Schemas/nope", &token)
            .await,
        404,
        None,
    )
    .await;
    scim_error(
        server.call(Method::GET, "/scim/v2/Nothing", &token).await,
        404,
        None,
    )
    .await;
    scim_error(
        server.call(Method::POST, "/scim/v2/Schemas", &token).await,
        405,
        None,
    )
    .await;
    scim_error(
        server.call(Method::DELETE, "/scim/v2/Users", &token).await,
        405,
        None,
    )
    .await;
}

#[tokio::test]
async fn users_round_trip() {
    let server = Server::start().await;
    let token = server.admin().await;
    let created = server
        .send_as(
            Method::POST,
            "/scim/v2/Users",
            &token,
            SCIM,
            bjensen().to_string(),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["etag"], "W/\"1\"");
    assert!(
        created.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("/scim/v2/Users/2")
    );
    let user: Value = created.json().await.unwrap();
    assert_eq!(
        (user["id"].as_str(), user["externalId"].as_str()),
        (Some("2"), Some("ext-1"))
    );
    assert!(user.get("password").is_none());
    let stored = server.store.users().get(2).unwrap();
    assert_eq!(
        (
            stored.first_name.as_str(),
            stored.telephone_number.as_deref()
        ),
        ("Barbara", Some("555-0100"))
    );
    // The SCIM password logs in.
    server.login("bjensen", "t1meMachine!").await;

    // Filters, paging, attributes.
    let page = server
        .get_json("/scim/v2/Users?filter=userName%20eq%20%22BJENSEN%22&attributes=userName,name.familyName", &token)
        .await;
    assert_eq!(page["totalResults"], 1);
    assert_eq!(
        page["Resources"][0],
        json!({"schemas": [USER], "id": "2", "userName": "bjensen", "name": {"familyName": "Jensen"}})
    );
    let page = server
        .get_json(
            "/scim/v2/Users?startIndex=2&count=1&sortBy=userName&sortOrder=descending",
            &token,
        )
        .await;
    assert_eq!(
        (page["totalResults"].as_u64(), page["startIndex"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(page["Resources"][0]["userName"], "admin");
    let search = server
        .send_as(
            Method::POST,
            "/scim/v2/Users/.search",
            &token,
            SCIM,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter": "emails[value co \"jensen\"] and active eq true", "excludedAttributes": ["emails"]})
            .to_string(),
        )
        .await;
    let search: Value = search.json().await.unwrap();
    assert_eq!(search["totalResults"], 1);
    assert!(search["Resources"][0].get("emails").is_none());
    scim_error(
        server
            .call(
                Method::GET,
                "/scim/v2/Users?filter=title%20eq%20%22x%22",
                &token,
            )
            .await,
        400,
        Some("invalidFilter"),
    )
    .await;

    // PATCH: whole or nothing, with If-Match.
    let ops = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "path": "name.givenName", "value": "Babs"},
        {"op": "remove", "path": "phoneNumbers"},
        {"op": "add", "value": {"nickName": "B"}}]});
    let patched = server
        .req(Method::PATCH, "/scim/v2/Users/2", &token)
        .header("content-type", SCIM)
        .header("if-match", "W/\"1\"")
        .body(ops.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let user: Value = patched.json().await.unwrap();
    assert_eq!(
        (
            user["name"]["givenName"].as_str(),
            user["nickName"].as_str()
        ),
        (Some("Babs"), Some("B"))
    );
    assert!(user.get("phoneNumbers").is_none());
    let stale = server
        .req(Method::PATCH, "/scim/v2/Users/2", &token)
        .header("content-type", SCIM)
        .header("if-match", "W/\"1\"")
        .body(ops.to_string())
        .send()
        .await
        .unwrap();
    scim_error(stale, 412, None).await;
    let bad = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "path": "nickName", "value": "C"}, {"op": "replace", "path": "title", "value": "x"}]});
    scim_error(
        server
            .send_as(
                Method::PATCH,
                "/scim/v2/Users/2",
                &token,
                SCIM,
                bad.to_string(),
            )
            .await,
        400,
        Some("invalidValue"),
    )
    .await;
    assert_eq!(
        server.store.users().get(2).unwrap().nickname.as_deref(),
        Some("B"),
        "nothing of a refused patch"
    );

    // PUT keeps what SCIM does not name (roles).
    server
        .store
        .users()
        .merge(2, &json!({"roles": [1]}), None)
        .unwrap();
    let mut replaced = bjensen();
    replaced["userName"] = json!("barbara");
    let put = server
        .send_as(
            Method::PUT,
            "/scim/v2/Users/2",
            &token,
            SCIM,
            replaced.to_string(),
        )
        .await;
    assert_eq!(put.status(), 200);
    assert_eq!(server.store.users().get(2).unwrap().roles, vec![1]);

    // Conflicts and deletes.
    let mut taken = bjensen();
    taken["emails"] = json!([{"value": "other@example.com"}]);
    taken["userName"] = json!("BARBARA");
    scim_error(
        server
            .send_json(Method::POST, "/scim/v2/Users", &token, &taken)
            .await,
        409,
        Some("uniqueness"),
    )
    .await;
    assert_eq!(
        server
            .call(Method::DELETE, "/scim/v2/Users/2", &token)
            .await
            .status(),
        204
    );
    scim_error(
        server.call(Method::GET, "/scim/v2/Users/2", &token).await,
        404,
        None,
    )
    .await;
}

#[tokio::test]
async fn scim_access_is_the_rest_apis() {
    let server = Server::start().await;
    scim_error(
        server
            .http
            .get(server.url("/scim/v2/Users"))
            .send()
            .await
            .unwrap(),
        401,
        None,
    )
    .await;
    let reader = server.principal("reader", &["users:read"], None).await;
    assert_eq!(
        server
            .call(Method::GET, "/scim/v2/Users", &reader)
            .await
            .status(),
        200
    );
    scim_error(
        server
            .send_json(Method::POST, "/scim/v2/Users", &reader, &bjensen())
            .await,
        403,
        None,
    )
    .await;
    let acme = server.principal("acme", &["*"], Some("acme")).await;
    let page = server.get_json("/scim/v2/Users", &acme).await;
    assert_eq!(page["totalResults"], 1, "a tenant sees itself only: {page}");
    scim_error(
        server.call(Method::GET, "/scim/v2/Users/1", &acme).await,
        404,
        None,
    )
    .await;
}
