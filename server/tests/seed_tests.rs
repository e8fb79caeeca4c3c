//! The seed documents' own example requests, rewritten to rosterdb's
//! field names (issue 14), end to end over HTTP.
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

/// `path?query` with the query's values percent-encoded as a browser or
/// `curl --data-urlencode -G` sends them.
fn url(path: &str, pairs: &[(&str, &str)]) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{path}?{query}")
}

async fn get(server: &Server, token: &str, path: &str) -> Value {
    let response = server.call(Method::GET, path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

fn usernames(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_seed_requests() {
    let server = Server::start().await;
    let token = server.admin().await;
    let people = [
        ("x", "x@example.com", "Mary", "Axyzb", true),
        ("y", "foo@bar.com", "Yann", "Xyz", true),
        ("z", "z@example.com", "Zoe", "Xyz", false),
        ("maryann", "ma@example.com", "Ann", "Smith", true),
    ];
    for (username, email, first, last, enabled) in people {
        let doc = json!({"username": username, "email": email, "firstName": first, "lastName": last,
                         "enabled": enabled, "externalIds": if username == "y" { json!([{"type": "github", "value": "42"}]) } else { json!([]) }});
        let response = server
            .send_json(Method::POST, "/v1/users", &token, &doc)
            .await;
        assert_eq!(response.status(), 201);
    }

    // GET /v1/users?page=1&pageSize=100&sort=id,lastName:desc&fields=id,username&lastName=like:xyz&enabled=true
    let page = get(
        &server,
        &token,
        &url(
            "/v1/users",
            &[
                ("page", "1"),
                ("pageSize", "100"),
                ("sort", "id,lastName:desc"),
                ("fields", "id,username"),
                ("lastName", "like:xyz"),
                ("enabled", "true"),
            ],
        ),
    )
    .await;
    assert_eq!(
        page["items"],
        json!([{"id": 2, "username": "x"}, {"id": 3, "username": "y"}])
    );

    // HEAD /v1/users?username=in:x,y
    let head = server
        .call(Method::HEAD, "/v1/users?username=in:x,y", &token)
        .await;
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["x-total-count"], "2");

    // GET /v1/users?where=createdAt >= '2014-01-15'&offset=0&pageSize=100
    let page = get(
        &server,
        &token,
        &url(
            "/v1/users",
            &[
                ("where", "createdAt >= '2014-01-15'"),
                ("offset", "0"),
                ("pageSize", "100"),
            ],
        ),
    )
    .await;
    assert_eq!(usernames(&page), ["admin", "x", "y", "z", "maryann"]);
    let page = get(
        &server,
        &token,
        &url(
            "/v1/users",
            &[
                ("where", "createdAt >= '2014-01-15'"),
                ("offset", "3"),
                ("pageSize", "1"),
            ],
        ),
    )
    .await;
    assert_eq!(
        usernames(&page),
        ["z"],
        "offset with pageSize is offset with limit"
    );

    // GET /v1/users?limit=10&offset=0&filter[email]=foo@bar.com
    let page = get(
        &server,
        &token,
        "/v1/users?limit=10&offset=0&filter[email]=foo@bar.com",
    )
    .await;
    assert_eq!(usernames(&page), ["y"]);

    // GET /v1/users?search=mary
    let page = get(&server, &token, "/v1/users?search=mary").await;
    assert_eq!(usernames(&page), ["x", "maryann"]);

    // GET /v1/users/lookup?type=github&value=42
    let user = get(&server, &token, "/v1/users/lookup?type=github&value=42").await;
    assert_eq!(user["username"], "y");

    // PATCH /v1/users/1 with a two-op JSON Patch
    let response = server
        .send_as(
            Method::PATCH,
            "/v1/users/1",
            &token,
            "application/json-patch+json",
            json!([
                {"op": "replace", "path": "/firstName", "value": "Grace"},
                {"op": "add", "path": "/attributes/department", "value": "Engineering"}
            ])
            .to_string(),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let user: Value = response.json().await.unwrap();
    assert_eq!(
        (
            user["firstName"].as_str(),
            user["attributes"]["department"].as_str()
        ),
        (Some("Grace"), Some("Engineering"))
    );
}
