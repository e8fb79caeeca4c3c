//! SCIM 2.0 over HTTP: `rosterdb_scim::handle` mounted under `/scim/v2`,
//! behind the server's access control (bearer / API key, permissions,
//! tenant scoping) and limits, with SCIM error bodies for every failure.
//! What SCIM itself does (filters, PATCH paths, schemas) is tested in the
//! `rosterdb-scim` crate; here, that the HTTP side carries it whole.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Server, options};
use reqwest::Method;
use serde_json::{Value, json};

const SCIM: &str = "application/scim+json";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

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

/// `method path` with `token` and `body` as `application/scim+json`.
async fn send(
    server: &Server,
    method: Method,
    path: &str,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    server
        .send_as(method, path, token, SCIM, body.to_string())
        .await
}

fn bjensen() -> Value {
    json!({"schemas": [USER], "userName": "bjensen", "externalId": "ext-1",
           "name": {"givenName": "Barbara", "familyName": "Jensen"},
           "emails": [{"value": "bjensen@example.com", "primary": true}],
           "phoneNumbers": [{"value": "555-0100", "type": "work"}], "active": true,
           "password": "t1meMachine!"})
}

#[tokio::test]
async fn discovery_describes_users_and_groups() {
    let server = Server::start().await;
    let token = server.admin().await;
    let config = server
        .get_json("/scim/v2/ServiceProviderConfig", &token)
        .await;
    assert_eq!(config["patch"]["supported"], true);
    assert!(
        config["meta"]["location"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/scim/v2/", server.base)),
        "{config}"
    );
    let types = server.get_json("/scim/v2/ResourceTypes", &token).await;
    let endpoints: Vec<&str> = types["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(endpoints, ["/Users", "/Groups"]);
    // A schema URN in the path, percent-encoded or not.
    for path in [
        format!("/scim/v2/Schemas/{USER}"),
        format!("/scim/v2/Schemas/{}", USER.replace(':', "%3A")),
    ] {
        let schema = server.get_json(&path, &token).await;
        assert_eq!(schema["id"], USER);
    }
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
        server.call(Method::GET, "/scim/v2/Bulk", &token).await,
        501,
        None,
    )
    .await;
}

#[tokio::test]
async fn users_round_trip() {
    let server = Server::start().await;
    let token = server.admin().await;
    let created = send(&server, Method::POST, "/scim/v2/Users", &token, &bjensen()).await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["etag"], "W/\"1\"");
    assert_eq!(
        created.headers()["location"],
        format!("{}/scim/v2/Users/2", server.base).as_str()
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

    // A filter and a projection from the query string (percent-decoded).
    let page = server
        .get_json(
            "/scim/v2/Users?filter=userName%20eq%20%22BJENSEN%22&attributes=userName,name.familyName",
            &token,
        )
        .await;
    assert_eq!(page["totalResults"], 1);
    assert_eq!(page["Resources"][0]["name"]["familyName"], "Jensen");
    assert!(page["Resources"][0].get("emails").is_none(), "{page}");
    let search = server
        .send_as(
            Method::POST,
            "/scim/v2/Users/.search",
            &token,
            "application/json",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter": "emails[value co \"jensen\"] and active eq true"})
            .to_string(),
        )
        .await;
    assert_eq!(search.status(), 200);
    let search: Value = search.json().await.unwrap();
    assert_eq!(search["totalResults"], 1);
    scim_error(
        server
            .call(Method::GET, "/scim/v2/Users?filter=userName%20eq", &token)
            .await,
        400,
        Some("invalidFilter"),
    )
    .await;

    // PATCH with If-Match; the same If-Match again is 412.
    let ops = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "name.givenName", "value": "Babs"}]});
    let patch = |if_match: &'static str| {
        server
            .req(Method::PATCH, "/scim/v2/Users/2", &token)
            .header("content-type", SCIM)
            .header("if-match", if_match)
            .body(ops.to_string())
            .send()
    };
    let patched = patch("W/\"1\"").await.unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(patched.headers()["etag"], "W/\"2\"");
    let user: Value = patched.json().await.unwrap();
    assert_eq!(user["name"]["givenName"], "Babs");
    scim_error(patch("W/\"1\"").await.unwrap(), 412, None).await;

    // A body that is not JSON, and one sent as another media type.
    scim_error(
        server
            .send_as(Method::POST, "/scim/v2/Users", &token, SCIM, "{")
            .await,
        400,
        Some("invalidSyntax"),
    )
    .await;
    scim_error(
        server
            .send_as(
                Method::POST,
                "/scim/v2/Users",
                &token,
                "text/plain",
                bjensen().to_string(),
            )
            .await,
        415,
        None,
    )
    .await;
    scim_error(
        send(&server, Method::POST, "/scim/v2/Users", &token, &bjensen()).await,
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
async fn groups_round_trip() {
    let server = Server::start().await;
    let token = server.admin().await;
    let user = send(&server, Method::POST, "/scim/v2/Users", &token, &bjensen()).await;
    assert_eq!(user.status(), 201);
    let created = send(
        &server,
        Method::POST,
        "/scim/v2/Groups",
        &token,
        &json!({"schemas": [GROUP], "displayName": "editors", "members": [{"value": "2"}]}),
    )
    .await;
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{}/scim/v2/Groups/", server.base)),
        "{location}"
    );
    let group: Value = created.json().await.unwrap();
    let id: u64 = group["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(group["members"][0]["value"], "2");
    // The group is the role; its members hold it.
    assert_eq!(server.store.roles().get(id).unwrap().name, "editors");
    assert_eq!(server.store.users().get(2).unwrap().roles, vec![id]);
    let list = server
        .get_json(
            "/scim/v2/Groups?filter=displayName%20eq%20%22EDITORS%22",
            &token,
        )
        .await;
    assert_eq!(list["totalResults"], 1);
    // PATCH the members away.
    let path = format!("/scim/v2/Groups/{id}");
    let patched = send(
        &server,
        Method::PATCH,
        &path,
        &token,
        &json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "remove", "path": "members[value eq \"2\"]"}]}),
    )
    .await;
    assert_eq!(patched.status(), 200);
    assert!(server.store.users().get(2).unwrap().roles.is_empty());
    // POST /.search reads Users and Groups.
    let search = send(
        &server,
        Method::POST,
        "/scim/v2/.search",
        &token,
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
    )
    .await;
    assert_eq!(search.status(), 200);
    let search: Value = search.json().await.unwrap();
    // admin and bjensen; the admin role and editors.
    assert_eq!(search["totalResults"], 4, "{search}");
    assert_eq!(
        server.call(Method::DELETE, &path, &token).await.status(),
        204
    );
    assert!(server.store.roles().get(id).is_err());
}

#[tokio::test]
async fn access_is_the_rest_apis() {
    let server = Server::start().await;
    // No credentials, and a token that is no session: 401 with the challenge.
    let anonymous = server
        .http
        .get(server.url("/scim/v2/Users"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer, Apikey");
    scim_error(anonymous, 401, None).await;
    scim_error(
        server.call(Method::GET, "/scim/v2/Users", "rs_nope").await,
        401,
        None,
    )
    .await;
    // Each request needs every permission `ScimRequest::permissions` names.
    let reader = server.principal("reader", &["users:read"], None).await;
    assert_eq!(
        server
            .call(Method::GET, "/scim/v2/Users", &reader)
            .await
            .status(),
        200
    );
    let body = scim_error(
        send(&server, Method::POST, "/scim/v2/Users", &reader, &bjensen()).await,
        403,
        None,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("users:write"),
        "{body}"
    );
    scim_error(
        server.call(Method::GET, "/scim/v2/Groups", &reader).await,
        403,
        None,
    )
    .await;
    // Writing a group's members writes users too.
    let roles_only = server
        .principal("roler", &["roles:read", "roles:write"], None)
        .await;
    scim_error(
        send(
            &server,
            Method::POST,
            "/scim/v2/Groups",
            &roles_only,
            &json!({"schemas": [GROUP], "displayName": "x"}),
        )
        .await,
        403,
        None,
    )
    .await;
    // Roles 1 to 3 are the admin's, the reader's and this one's: no fourth.
    assert!(server.store.roles().get(4).is_err());
    // A principal of a tenant sees its tenant only.
    let acme = server.principal("acme", &["*"], Some("acme")).await;
    let page = server.get_json("/scim/v2/Users", &acme).await;
    assert_eq!(page["totalResults"], 1, "a tenant sees itself only: {page}");
    assert_eq!(page["Resources"][0]["userName"], "acme");
    let groups = server.get_json("/scim/v2/Groups", &acme).await;
    assert_eq!(groups["totalResults"], 1, "{groups}");
    scim_error(
        server.call(Method::GET, "/scim/v2/Users/1", &acme).await,
        404,
        None,
    )
    .await;
    let created = send(&server, Method::POST, "/scim/v2/Users", &acme, &bjensen()).await;
    assert_eq!(created.status(), 201);
    let id: u64 = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        server.store.users().get(id).unwrap().tenant.as_deref(),
        Some("acme")
    );
}

#[tokio::test]
async fn limits_answer_with_scim_errors() {
    let mut options = options();
    options.config.limits.max_body_bytes = 256;
    let store = common::store();
    common::seed_admin(&store);
    let server = Server::with(store, options).await;
    let token = server.admin().await;
    let mut big = bjensen();
    big["name"]["givenName"] = json!("B".repeat(400));
    let body = scim_error(
        send(&server, Method::POST, "/scim/v2/Users", &token, &big).await,
        413,
        None,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("256"), "{body}");
    // The REST API's errors stay problems.
    common::problem(
        server
            .send_json(Method::POST, "/v1/users", &token, &big)
            .await,
        413,
        "PayloadTooLarge",
    )
    .await;
}

/// HEAD is GET without the body on every SCIM endpoint that answers GET
/// (with GET's status and headers, and GET's permission); a `405` names
/// the allowed methods, HEAD among them where GET is.
#[tokio::test]
async fn head_is_get_without_a_body_and_405s_say_what_is_allowed() {
    let server = Server::start().await;
    let token = server.admin().await;
    for path in [
        "/scim/v2/ServiceProviderConfig",
        "/scim/v2/Schemas",
        "/scim/v2/ResourceTypes/User",
        "/scim/v2/Users",
        "/scim/v2/Users/1",
        "/scim/v2/Groups",
    ] {
        let get = server.call(Method::GET, path, &token).await;
        let head = server.call(Method::HEAD, path, &token).await;
        assert_eq!((head.status(), path), (get.status(), path));
        assert_eq!(head.headers().get("etag"), get.headers().get("etag"));
        assert_eq!(head.headers()["content-type"], SCIM);
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
    let missing = server.call(Method::HEAD, "/scim/v2/Users/99", &token).await;
    assert_eq!(missing.status(), 404);
    assert!(missing.bytes().await.unwrap().is_empty());
    // HEAD needs what GET needs.
    let refused = server
        .http
        .head(server.url("/scim/v2/Users"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    for (method, path, allowed) in [
        (Method::POST, "/scim/v2/Schemas", "GET, HEAD"),
        (Method::DELETE, "/scim/v2/Users", "GET, POST, HEAD"),
        (
            Method::OPTIONS,
            "/scim/v2/Users/1",
            "GET, PUT, PATCH, DELETE, HEAD",
        ),
        (Method::GET, "/scim/v2/Users/.search", "POST"),
    ] {
        let response = server.call(method.clone(), path, &token).await;
        assert_eq!(response.headers()["allow"], allowed, "{method} {path}");
        scim_error(response, 405, None).await;
    }
}

#[tokio::test]
async fn a_public_url_makes_the_absolute_urls() {
    // Behind a proxy that terminates TLS and maps a path prefix, the
    // server is told the URL its clients reach it at.
    let store = common::store();
    common::seed_admin(&store);
    let mut opts = options();
    opts.config.public_url = Some("https://id.example.com/identity/".parse().unwrap());
    let server = Server::with(store, opts).await;
    let token = server.admin().await;
    let created = send(&server, Method::POST, "/scim/v2/Users", &token, &bjensen()).await;
    assert_eq!(created.status(), 201);
    let expected = "https://id.example.com/identity/scim/v2/Users/2";
    assert_eq!(created.headers()["location"], expected);
    let user: Value = created.json().await.unwrap();
    assert_eq!(user["meta"]["location"], expected);
    let config = server
        .get_json("/scim/v2/ServiceProviderConfig", &token)
        .await;
    assert_eq!(
        config["meta"]["location"],
        "https://id.example.com/identity/scim/v2/ServiceProviderConfig"
    );
}
