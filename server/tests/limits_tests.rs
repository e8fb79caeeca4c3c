//! Bad, huge and slow requests, and the graceful shutdown: the right
//! status with a problem body (where HTTP lets the server answer at all),
//! and nothing written.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::{Server, options, problem, raw, read_response};
use reqwest::Method;
use rosterdb::Query;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn roles(server: &Server) -> u64 {
    server.store.roles().count(&Query::all()).unwrap()
}

#[tokio::test]
async fn a_ten_megabyte_body_is_413() {
    let server = Server::start().await;
    let token = server.admin().await;
    // The body is announced, never sent: the server refuses it unread.
    let request = format!(
        "POST /v1/roles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 10485760\r\n\r\n"
    );
    let (status, head, body) = raw(server.addr, request.as_bytes()).await;
    assert_eq!(status, 413, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (body["kind"].as_str(), body["limit"].as_u64()),
        (Some("PayloadTooLarge"), Some(1 << 20))
    );
    assert_eq!(roles(&server), 1);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_413() {
    let store = common::store();
    common::seed_admin(&store);
    let mut opts = options();
    opts.config.limits.max_body_bytes = 1024;
    let server = Server::with(store, opts).await;
    let token = server.admin().await;
    let doc = format!(
        "{{\"name\": \"big\", \"description\": \"{}\"}}",
        "d".repeat(2000)
    );
    let request = format!(
        "POST /v1/roles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{doc}\r\n0\r\n\r\n",
        doc.len()
    );
    let (status, _, body) = raw(server.addr, request.as_bytes()).await;
    assert_eq!(status, 413);
    assert!(body.contains("PayloadTooLarge"), "{body}");
    assert_eq!(roles(&server), 1);
}

#[tokio::test]
async fn a_hundred_kilobyte_header_is_431() {
    let server = Server::start().await;
    let token = server.admin().await;
    let big = "a".repeat(100 * 1024);
    let response = server
        .req(Method::GET, "/v1/users", &token)
        .header("x-padding", &big)
        .send()
        .await
        .unwrap();
    problem(response, 431, "HeaderFieldsTooLarge").await;
    // Even as the credential: it is refused before it is looked at.
    let response = server.call(Method::GET, "/v1/users", &big).await;
    problem(response, 431, "HeaderFieldsTooLarge").await;
}

#[tokio::test]
async fn a_slow_body_times_out_with_408() {
    let store = common::store();
    common::seed_admin(&store);
    let mut opts = options();
    opts.config.limits.request_timeout = Duration::from_millis(300);
    let server = Server::with(store, opts).await;
    let token = server.admin().await;
    let request = format!(
        "POST /v1/roles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\": "
    );
    let (status, head, body) = raw(server.addr, request.as_bytes()).await;
    assert_eq!(status, 408, "{head}");
    assert!(body.contains("RequestTimeout"), "{body}");
    assert_eq!(roles(&server), 1);
}

#[tokio::test]
async fn slow_headers_close_the_connection() {
    let store = common::store();
    let mut opts = options();
    opts.header_read_timeout = Duration::from_millis(300);
    let server = Server::with(store, opts).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /v1/users HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    // The server ends the connection (with or without a 408 line) instead
    // of waiting for the rest; the outer bound only keeps a broken build
    // from hanging the suite.
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the server kept a connection with unfinished headers"
    );
}

#[tokio::test]
async fn malformed_requests_get_problems_and_write_nothing() {
    let server = Server::start().await;
    let token = server.admin().await;
    let auth = format!("Authorization: Bearer {token}\r\n");
    // A path that is not UTF-8 once decoded.
    let request = format!("GET /v1/users/%FF%FE HTTP/1.1\r\nHost: x\r\n{auth}\r\n");
    let (status, head, body) = raw(server.addr, request.as_bytes()).await;
    assert!(status == 400 || status == 404, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("application/problem+json"),
        "{head}"
    );
    assert!(body.contains("\"kind\""), "{body}");
    // JSON that is not a document, nested too deep, or not JSON at all.
    for doc in [
        "[1, 2]",
        "\"x\"",
        &"[".repeat(10_000),
        "{\"name\": \"a\"} trailing",
        "\u{0}",
    ] {
        let response = server
            .send_as(
                Method::POST,
                "/v1/roles",
                &token,
                "application/json",
                doc.to_owned(),
            )
            .await;
        let status = response.status().as_u16();
        assert!(status == 400 || status == 422, "{status} for {:.20}", doc);
        let body: Value = response.json().await.unwrap();
        assert!(body["kind"].is_string());
    }
    // An absurd page and an id beyond u64.
    problem(
        server.call(Method::GET, "/v1/users?page=0", &token).await,
        400,
        "InvalidQuery",
    )
    .await;
    problem(
        server
            .call(Method::GET, "/v1/users/99999999999999999999999", &token)
            .await,
        404,
        "NotFound",
    )
    .await;
    assert_eq!(roles(&server), 1);
    assert_eq!(
        server.store.changes(0, 100).unwrap().len(),
        2,
        "only the seed's two creates"
    );
}

#[tokio::test]
async fn shutdown_drains_a_request_in_flight() {
    let mut server = Server::start().await;
    let token = server.admin().await;
    let doc = "{\"name\": \"late\"}";
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /v1/roles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        doc.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // `100 Continue` means the handler is running and waits for the body.
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).await.unwrap();
    assert!(
        interim.starts_with(b"HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&interim)
    );

    let stopped = server.signal_stop();
    stream.write_all(doc.as_bytes()).await.unwrap();
    let (status, head, _) = read_response(&mut stream).await;
    assert_eq!(status, 201, "{head}");
    stopped.await.unwrap();
    assert_eq!(server.store.roles().get(2).unwrap().name, "late");
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "no longer accepting"
    );
}
