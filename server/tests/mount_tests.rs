//! The router mounted in an application of its own (served by
//! `axum::serve`), and `serve_blocking`'s refusals.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use rosterdb::NewClient;
use rosterdb_server::{Config, ServeError, ServeOptions};
use serde_json::{Value, json};

/// Serves the router over `store` with `config`, nested under `/api` in an
/// application of its own (with connection info); returns its address.
async fn serve_under_api(store: &Arc<rosterdb::Store>, config: Config) -> SocketAddr {
    let app = axum::Router::new().nest("/api", rosterdb_server::router(Arc::clone(store), config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

#[tokio::test]
async fn nested_under_a_prefix_with_connect_info() {
    let store = common::store();
    common::seed_admin(&store);
    let created = store
        .clients()
        .create(NewClient {
            roles: vec![1],
            ip_allowlist: vec!["127.0.0.1".into()],
            ..NewClient::new("svc")
        })
        .unwrap();
    let apikey = format!(
        "Apikey {}:{}",
        created.client.client_id,
        created.secret.expose()
    );
    let addr = serve_under_api(&store, Config::default()).await;
    let http = reqwest::Client::new();
    let created = http
        .post(format!("http://{addr}/api/v1/roles"))
        .header("authorization", &apikey)
        .json(&json!({"name": "mounted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["location"], "/api/v1/roles/2");
    let missing = http
        .get(format!("http://{addr}/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["kind"], "NotFound");
    // SCIM sees the prefix too: its Location, and its error bodies.
    let user = http
        .post(format!("http://{addr}/api/scim/v2/Users"))
        .header("authorization", &apikey)
        .header("content-type", "application/scim+json")
        .body(
            json!({"userName": "mounted", "name": {"givenName": "M", "familyName": "N"},
                   "emails": [{"value": "m@example.com"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), 201);
    assert_eq!(
        user.headers()["location"],
        format!("http://{addr}/api/scim/v2/Users/2").as_str()
    );
    let anonymous = http
        .get(format!("http://{addr}/api/scim/v2/Users"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["content-type"], "application/scim+json");
}

#[tokio::test]
async fn a_public_url_replaces_the_mount_prefix() {
    // A proxy maps https://id.example.com/identity/… to this app's /api/…:
    // both REST's and SCIM's Location name what the clients reach.
    let store = common::store();
    common::seed_admin(&store);
    let config = Config {
        public_url: Some("https://id.example.com/identity".parse().unwrap()),
        ..Config::default()
    };
    let addr = serve_under_api(&store, config).await;
    let http = reqwest::Client::new();
    let login = http
        .post(format!("http://{addr}/api/v1/authentication"))
        .json(&json!({"username": "admin", "password": common::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token: Value = login.json().await.unwrap();
    let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
    let role = http
        .post(format!("http://{addr}/api/v1/roles"))
        .header("authorization", &bearer)
        .json(&json!({"name": "proxied"}))
        .send()
        .await
        .unwrap();
    assert_eq!(role.status(), 201);
    assert_eq!(
        role.headers()["location"],
        "https://id.example.com/identity/v1/roles/2"
    );
    let group = http
        .get(format!("http://{addr}/api/scim/v2/Groups/2"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(group.status(), 200);
    let group: Value = group.json().await.unwrap();
    assert_eq!(
        group["meta"]["location"],
        "https://id.example.com/identity/scim/v2/Groups/2"
    );
}

#[test]
fn serve_blocking_reports_an_address_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let options = ServeOptions {
        addr,
        ..ServeOptions::default()
    };
    let err = rosterdb_server::serve_blocking(common::store(), options).unwrap_err();
    assert!(
        matches!(err, ServeError::Bind { addr: a, .. } if a == addr),
        "{err}"
    );
    assert!(err.to_string().contains(&addr.to_string()));
}
