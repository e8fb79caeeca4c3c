//! The `/v1` routes over HTTP: each route and the status codes it answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Server, expect_problems, head_count, problem};
use reqwest::Method;
use serde_json::{Value, json};

const PATCH: &str = "application/json-patch+json";
const MERGE: &str = "application/merge-patch+json";

fn alice() -> Value {
    json!({"username": "alice", "email": "alice@example.com", "firstName": "Alice",
           "lastName": "Liddell", "password": "rabbit hole 42",
           "externalIds": [{"type": "github", "value": "42"}]})
}

#[tokio::test]
async fn users_create_get_patch_put_delete() {
    let server = Server::start().await;
    let token = server.admin().await;

    let created = server
        .send_json(Method::POST, "/v1/users", &token, &alice())
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["location"], "/v1/users/2");
    assert_eq!(created.headers()["etag"], "\"1\"");
    let doc: Value = created.json().await.unwrap();
    assert_eq!(doc["username"], "alice");
    assert!(
        doc.get("password").is_none(),
        "a password is never returned"
    );

    // By id, by email (any case), by external id.
    for path in [
        "/v1/users/2",
        "/v1/users/ALICE@example.com",
        "/v1/users/lookup?type=github&value=42",
    ] {
        let got = server.call(Method::GET, path, &token).await;
        assert_eq!(got.status(), 200, "{path}");
        assert_eq!(got.headers()["etag"], "\"1\"");
        let doc: Value = got.json().await.unwrap();
        assert_eq!(doc["id"], 2, "{path}");
    }
    let cached = server
        .req(Method::GET, "/v1/users/2", &token)
        .header("if-none-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    // JSON Patch with If-Match, then a stale If-Match is 412 and changes nothing.
    let patched = server
        .req(Method::PATCH, "/v1/users/2", &token)
        .header("content-type", PATCH)
        .header("if-match", "\"1\"")
        .body(json!([{"op": "add", "path": "/nickname", "value": "Al"}]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    assert_eq!(patched.headers()["etag"], "\"2\"");
    let stale = server
        .req(Method::PATCH, "/v1/users/2", &token)
        .header("content-type", PATCH)
        .header("if-match", "\"1\"")
        .body(json!([{"op": "replace", "path": "/nickname", "value": "B"}]).to_string())
        .send()
        .await
        .unwrap();
    let body = problem(stale, 412, "VersionConflict").await;
    assert_eq!(
        (body["expected"].as_u64(), body["actual"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(
        server.store.users().get(2).unwrap().nickname.as_deref(),
        Some("Al")
    );

    // Merge patch: null removes.
    let merged = server
        .send_as(
            Method::PATCH,
            "/v1/users/2",
            &token,
            MERGE,
            json!({"nickname": null, "attributes": {"city": "Oxford"}}).to_string(),
        )
        .await;
    assert_eq!(merged.status(), 200);
    let doc: Value = merged.json().await.unwrap();
    assert!(doc.get("nickname").is_none());
    assert_eq!(doc["attributes"]["city"], "Oxford");

    // PUT replaces the writable fields.
    let put = server
        .req(Method::PUT, "/v1/users/2", &token)
        .header("if-match", "3")
        .json(&json!({"username": "alice", "email": "alice@example.org", "firstName": "Alice", "lastName": "L"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let doc: Value = put.json().await.unwrap();
    assert_eq!(
        (doc["email"].as_str(), doc["version"].as_u64()),
        (Some("alice@example.org"), Some(4))
    );
    assert!(doc.get("attributes").is_none_or(|a| a == &json!({})));

    // DELETE with a stale If-Match is 412; then 204; then 404.
    let stale = server
        .req(Method::DELETE, "/v1/users/2", &token)
        .header("if-match", "\"3\"")
        .send()
        .await
        .unwrap();
    problem(stale, 412, "VersionConflict").await;
    let deleted = server
        .req(Method::DELETE, "/v1/users/2", &token)
        .header("if-match", "\"4\"")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = server.call(Method::GET, "/v1/users/2", &token).await;
    problem(gone, 404, "NotFound").await;
}

#[tokio::test]
async fn errors_of_the_store_map_to_statuses() {
    let server = Server::start().await;
    let token = server.admin().await;
    server
        .send_json(Method::POST, "/v1/users", &token, &alice())
        .await;

    // Conflict names the field.
    let mut taken = alice();
    taken["username"] = json!("ALICE");
    taken["email"] = json!("other@example.com");
    taken["externalIds"] = json!([]);
    let body = problem(
        server
            .send_json(Method::POST, "/v1/users", &token, &taken)
            .await,
        409,
        "Conflict",
    )
    .await;
    assert_eq!(body["field"], "username");

    // Validation lists every field.
    let bad =
        json!({"username": "", "email": "nope", "firstName": "A", "lastName": "B", "shoeSize": 9});
    let body = problem(
        server
            .send_json(Method::POST, "/v1/users", &token, &bad)
            .await,
        422,
        "Validation",
    )
    .await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in ["username", "email", "shoeSize"] {
        assert!(fields.contains(&field), "{field} in {body}");
    }

    // InvalidQuery names the field or the position.
    let body = problem(
        server
            .call(Method::GET, "/v1/users?shoeSize=9", &token)
            .await,
        400,
        "InvalidQuery",
    )
    .await;
    assert_eq!(body["field"], "shoeSize");
    let body = problem(
        server
            .call(
                Method::GET,
                "/v1/users?where=username%20%3D%3D%20%27x%27",
                &token,
            )
            .await,
        400,
        "InvalidQuery",
    )
    .await;
    assert!(body["position"].is_u64(), "{body}");
    let body = problem(
        server
            .call(Method::GET, "/v1/users?pageSize=1001", &token)
            .await,
        400,
        "InvalidQuery",
    )
    .await;
    assert_eq!(body["field"], "pageSize", "the core's max page size");

    // InvalidPatch names the op.
    let body = problem(
        server.send_as(Method::PATCH, "/v1/users/2", &token, PATCH, json!([{"op": "test", "path": "/username", "value": "alice"}, {"op": "replace", "path": "/id", "value": 9}]).to_string()).await,
        400,
        "InvalidPatch",
    )
    .await;
    assert_eq!(body["opIndex"], 1);

    // Malformed JSON, wrong media types, a bad If-Match, unknown ids.
    let body = problem(
        server
            .send_as(
                Method::POST,
                "/v1/users",
                &token,
                "application/json",
                "{\"username\": ",
            )
            .await,
        400,
        "InvalidJson",
    )
    .await;
    assert!(body["line"].is_u64());
    problem(
        server
            .send_as(Method::POST, "/v1/users", &token, "text/plain", "{}")
            .await,
        415,
        "UnsupportedMediaType",
    )
    .await;
    problem(
        server
            .req(Method::POST, "/v1/users", &token)
            .body("{}")
            .send()
            .await
            .unwrap(),
        415,
        "UnsupportedMediaType",
    )
    .await;
    let wrong = server
        .send_json(
            Method::PATCH,
            "/v1/users/2",
            &token,
            &json!({"nickname": "x"}),
        )
        .await;
    assert!(wrong.headers().contains_key("accept-patch"));
    problem(wrong, 415, "UnsupportedMediaType").await;
    problem(
        server
            .req(Method::PATCH, "/v1/users/2", &token)
            .header("content-type", MERGE)
            .header("if-match", "W/\"1\"")
            .body("{}")
            .send()
            .await
            .unwrap(),
        400,
        "InvalidHeader",
    )
    .await;
    expect_problems(
        &server,
        &token,
        &[
            (Method::GET, "/v1/users/99", 404, "NotFound"),
            (Method::GET, "/v1/roles/x", 404, "NotFound"),
            (Method::GET, "/v1/users/nobody@example.com", 404, "NotFound"),
            (
                Method::GET,
                "/v1/users/lookup?type=github",
                400,
                "InvalidQuery",
            ),
            (Method::GET, "/v1/users/2?junk=1", 400, "InvalidQuery"),
        ],
    )
    .await;

    // Unknown routes and methods.
    problem(
        server.call(Method::GET, "/v1/nothing", &token).await,
        404,
        "NotFound",
    )
    .await;
    problem(server.call(Method::GET, "/", &token).await, 404, "NotFound").await;
    let not_allowed = server.call(Method::DELETE, "/v1/users", &token).await;
    assert!(not_allowed.headers().contains_key("allow"));
    problem(not_allowed, 405, "MethodNotAllowed").await;
    problem(
        server.call(Method::PUT, "/v1/authentication", &token).await,
        405,
        "MethodNotAllowed",
    )
    .await;

    // None of it wrote anything.
    assert_eq!(
        server.store.users().count(&rosterdb::Query::all()).unwrap(),
        2
    );
    assert_eq!(server.store.users().get(2).unwrap().version, 1);
}

#[tokio::test]
async fn lists_heads_and_pages() {
    let server = Server::start().await;
    let token = server.admin().await;
    for i in 0..5 {
        let user = json!({"username": format!("u{i}"), "email": format!("u{i}@example.com"),
                          "firstName": "F", "lastName": if i % 2 == 0 { "Even" } else { "Odd" }});
        let r = server
            .send_json(Method::POST, "/v1/users", &token, &user)
            .await;
        assert_eq!(r.status(), 201);
    }
    let page: Value = server
        .call(
            Method::GET,
            "/v1/users?lastName=Even&withTotal=true&pageSize=2&sort=username:desc",
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 3);
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["u4", "u2"]);
    let cursor = page["nextCursor"].as_str().unwrap();
    let next: Value = server
        .call(
            Method::GET,
            &format!("/v1/users?lastName=Even&pageSize=2&sort=username:desc&cursor={cursor}"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["items"][0]["username"], "u0");
    assert!(next.get("nextCursor").is_none());

    let with_total = server
        .call(Method::GET, "/v1/users?withTotal=true&limit=1", &token)
        .await;
    assert_eq!(with_total.headers()["x-total-count"], "6");

    assert_eq!(
        head_count(&server, "/v1/users?lastName=Odd", &token).await,
        (200, "2".to_owned())
    );
    assert_eq!(
        head_count(&server, "/v1/users?lastName=Nobody", &token).await,
        (404, "0".to_owned())
    );
    let head = server.call(Method::HEAD, "/v1/users?bogus=1", &token).await;
    assert_eq!(head.status(), 400);
}

#[tokio::test]
async fn roles_in_use_and_cascade() {
    let server = Server::start().await;
    let token = server.admin().await;
    let role = server
        .send_json(
            Method::POST,
            "/v1/roles",
            &token,
            &json!({"name": "auditors", "permissions": ["users:read"]}),
        )
        .await;
    assert_eq!(role.status(), 201);
    assert_eq!(role.headers()["location"], "/v1/roles/2");
    let mut user = alice();
    user["roles"] = json!([2]);
    server
        .send_json(Method::POST, "/v1/users", &token, &user)
        .await;

    let listed: Value = server
        .call(Method::GET, "/v1/roles?fields=id,name", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][1], json!({"id": 2, "name": "auditors"}));

    let body = problem(
        server.call(Method::DELETE, "/v1/roles/2", &token).await,
        409,
        "InUse",
    )
    .await;
    assert_eq!(body["count"], 1);
    problem(
        server
            .call(Method::DELETE, "/v1/roles/2?cascade=maybe", &token)
            .await,
        400,
        "InvalidQuery",
    )
    .await;
    problem(
        server
            .call(Method::DELETE, "/v1/users/2?cascade=true", &token)
            .await,
        400,
        "InvalidQuery",
    )
    .await;
    let deleted = server
        .call(Method::DELETE, "/v1/roles/2?cascade=true", &token)
        .await;
    assert_eq!(deleted.status(), 204);
    assert!(server.store.users().get(2).unwrap().roles.is_empty());
}

#[tokio::test]
async fn clients_secrets_and_api_keys() {
    let server = Server::start().await;
    let token = server.admin().await;
    let created = server
        .send_json(
            Method::POST,
            "/v1/clients",
            &token,
            &json!({"name": "billing", "roles": [1], "ipAllowlist": ["127.0.0.1/32"]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let body: Value = created.json().await.unwrap();
    let client_id = body["client"]["clientId"].as_str().unwrap().to_owned();
    let secret = body["secret"].as_str().unwrap().to_owned();

    let apikey = |secret: &str| format!("Apikey {client_id}:{secret}");
    let listed = server
        .http
        .get(server.url("/v1/users"))
        .header("authorization", apikey(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    assert!(
        server
            .store
            .clients()
            .get(1)
            .unwrap()
            .last_used_at
            .is_some()
    );

    let rotated = server
        .call(Method::POST, "/v1/clients/1/secret", &token)
        .await;
    assert_eq!(rotated.status(), 200);
    assert_eq!(rotated.headers()["etag"], "\"2\"");
    let new_secret = rotated.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_secret, secret);
    let old = server
        .http
        .get(server.url("/v1/users"))
        .header("authorization", apikey(&secret))
        .send()
        .await
        .unwrap();
    problem(old, 401, "AuthenticationFailed").await;
    let new = server
        .http
        .get(server.url("/v1/users"))
        .header("authorization", apikey(&new_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 200);

    let got: Value = server
        .call(Method::GET, "/v1/clients/1", &token)
        .await
        .json()
        .await
        .unwrap();
    assert!(got.get("secret").is_none() && got.get("secretHash").is_none());
    problem(
        server
            .call(Method::POST, "/v1/clients/9/secret", &token)
            .await,
        404,
        "NotFound",
    )
    .await;
}

#[tokio::test]
async fn authentication_and_logout() {
    let server = Server::start().await;
    let login = server
        .http
        .post(server.url("/v1/authentication"))
        .json(&json!({"email": "ADMIN@example.com", "password": common::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    assert_eq!(login.headers()["cache-control"], "no-store");
    let body: Value = login.json().await.unwrap();
    assert_eq!(
        (body["tokenType"].as_str(), body["expiresIn"].as_u64()),
        (Some("Bearer"), Some(900))
    );
    assert_eq!(body["user"]["username"], "admin");
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("rs_"));

    let wrong = server
        .http
        .post(server.url("/v1/authentication"))
        .json(&json!({"username": "admin", "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    assert!(wrong.headers().contains_key("www-authenticate"));
    problem(wrong, 401, "AuthenticationFailed").await;
    let unknown = server
        .http
        .post(server.url("/v1/authentication"))
        .json(&json!({"username": "nobody", "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    problem(unknown, 401, "AuthenticationFailed").await;
    let malformed = server
        .http
        .post(server.url("/v1/authentication"))
        .json(&json!({"username": "admin", "email": "a@b.c", "password": 5, "extra": 1}))
        .send()
        .await
        .unwrap();
    let body = problem(malformed, 422, "Validation").await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 3, "{body}");

    assert_eq!(
        server.call(Method::GET, "/v1/users", token).await.status(),
        200
    );
    assert_eq!(
        server
            .call(Method::DELETE, "/v1/authentication", token)
            .await
            .status(),
        204
    );
    problem(
        server.call(Method::GET, "/v1/users", token).await,
        401,
        "InvalidToken",
    )
    .await;
    problem(
        server
            .http
            .delete(server.url("/v1/authentication"))
            .send()
            .await
            .unwrap(),
        401,
        "AuthenticationRequired",
    )
    .await;
}

/// A path segment that is not UTF-8 once percent-decoded (`%FF`, the
/// overlong `%C0%AE`) is a problem that says so, on every route with one.
#[tokio::test]
async fn a_path_that_is_not_utf8_is_a_problem_saying_so() {
    let server = Server::start().await;
    let token = server.admin().await;
    for (method, path) in [
        (Method::GET, "/v1/users/%FF"),
        (Method::GET, "/v1/users/%C0%AE%C0%AE"),
        (Method::DELETE, "/v1/roles/%FF"),
        (Method::GET, "/v1/clients/%C0%AE"),
        (Method::POST, "/v1/clients/%FF/secret"),
    ] {
        let response = server.call(method.clone(), path, &token).await;
        let body = problem(response, 400, "BadRequest").await;
        assert_eq!(
            body["detail"], "the path is not UTF-8 once percent-decoded",
            "{method} {path}"
        );
    }
}
