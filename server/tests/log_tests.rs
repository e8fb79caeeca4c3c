//! The access log: one line per request, and never a secret in it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::Server;
use reqwest::Method;
use serde_json::{Value, json};

/// Everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn one_line_per_request_and_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let server = Server::start().await;
    let login: Value = server
        .http
        .post(server.url("/v1/authentication"))
        .json(&json!({"username": "admin", "password": common::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let failed = server
        .http
        .post(server.url("/v1/authentication"))
        .json(&json!({"username": "admin", "password": "a wrong password 123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 401);
    let created: Value = server
        .send_json(
            Method::POST,
            "/v1/clients",
            &token,
            &json!({"name": "svc", "roles": [1]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let client_id = created["client"]["clientId"].as_str().unwrap().to_owned();
    let rotated: Value = server
        .call(Method::POST, "/v1/clients/1/secret", &token)
        .await
        .json()
        .await
        .unwrap();
    let rotated = rotated["secret"].as_str().unwrap().to_owned();
    let apikey = server
        .http
        .get(server.url("/v1/users?search=query-secret-value"))
        .header("authorization", format!("Apikey {client_id}:{rotated}"))
        .send()
        .await
        .unwrap();
    assert_eq!(apikey.status(), 200);
    // A user got by e-mail: the address is personal data, not logged.
    for path in [
        "/v1/users/admin@example.com",
        "/v1/users/admin%40example.com",
    ] {
        let by_email = server.call(Method::GET, path, &token).await;
        assert_eq!(by_email.status(), 200, "{path}");
    }
    let patched = server
        .send_as(
            Method::PATCH,
            "/v1/users/1",
            &token,
            "application/json-patch+json",
            json!([{"op": "replace", "path": "/password", "value": "a brand new password"}])
                .to_string(),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let garbage = server
        .call(Method::GET, "/v1/users", "rs_garbage-token-value")
        .await;
    assert_eq!(garbage.status(), 401);
    drop(server);

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for secret in [
        common::ADMIN_PASSWORD,
        "a wrong password 123",
        "a brand new password",
        token.as_str(),
        secret.as_str(),
        rotated.as_str(),
        "query-secret-value",
        "rs_garbage-token-value",
        "Bearer",
        "Apikey",
        "admin@example.com",
        "admin%40example.com",
    ] {
        assert!(!log.contains(secret), "the log holds {secret:?}:\n{log}");
    }
    let access: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("rosterdb_server::access"))
        .collect();
    assert_eq!(access.len(), 9, "{log}");
    assert!(
        access[5..7]
            .iter()
            .all(|l| l.contains("path=/v1/users/{email} status=200")),
        "{log}"
    );
    assert!(
        access[0].contains("method=POST")
            && access[0].contains("path=/v1/authentication")
            && access[0].contains("status=200"),
        "{}",
        access[0]
    );
    assert!(
        access[1].contains("status=401") && access[1].contains("principal=\"-\""),
        "{}",
        access[1]
    );
    assert!(
        access[2].contains("principal=\"user:1\"") && access[2].contains("status=201"),
        "{}",
        access[2]
    );
    assert!(
        access[4].contains("principal=\"client:1\"") && access[4].contains("path=/v1/users "),
        "{}",
        access[4]
    );
    assert!(access.iter().all(|l| l.contains("latency_us=")));
}
