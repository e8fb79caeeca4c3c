//! `serve`: the first principal made with the CLI, the server started on
//! port 0 (the bound address read from stderr), HTTP spoken to it, and
//! SIGTERM ending it with exit 0.
#![cfg(unix)]
// A test fails by panicking: unwraps and indexing are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use common::Dir;
use serde_json::{Value, json};

/// One HTTP/1.1 exchange on a fresh connection (`Connection: close`):
/// the status and the body.
fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Stops the server if a test fails before it does.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_answers_http_and_stops_on_sigterm() {
    let d = Dir::new();
    // The first principal, as `serve --help` tells it.
    d.run(&[
        "roles",
        "create",
        r#"{"name":"admins","permissions":["*"]}"#,
    ])
    .ok();
    d.run(&[
        "users",
        "create",
        r#"{"username":"admin","email":"admin@example.com","firstName":"Ada","lastName":"Admin","roles":[1]}"#,
    ])
    .ok();
    d.run_with_stdin(
        &["passwd", "admin", "--password-stdin"],
        Some(b"correct horse battery\n"),
    )
    .ok();

    let child = Command::new(env!("CARGO_BIN_EXE_rosterdb"))
        .current_dir(d.dir.path())
        .args(["s.redb", "serve", "--addr", "127.0.0.1:0"])
        .args(["--public-url", "https://id.example.com/"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let mut stderr = BufReader::new(server.0.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("rosterdb: serving http://")
        .unwrap_or_else(|| panic!("the first line names the address: {line:?}"))
        .to_owned();

    let login = json!({"username": "admin", "password": "correct horse battery"}).to_string();
    let (status, body) = http(&addr, "POST", "/v1/authentication", None, &login);
    assert_eq!(status, 200, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = http(&addr, "GET", "/v1/users", Some(&token), "");
    assert_eq!(status, 200, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["items"][0]["username"], "admin");
    let (status, _) = http(&addr, "GET", "/v1/users", None, "");
    assert_eq!(status, 401);
    let (status, body) = http(&addr, "GET", "/scim/v2/Users", Some(&token), "");
    assert_eq!(status, 200, "{body}");
    let users: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(users["totalResults"], 1);
    // SCIM's absolute URLs start with the public URL, not http://{Host}.
    assert_eq!(
        users["Resources"][0]["meta"]["location"],
        "https://id.example.com/scim/v2/Users/1"
    );

    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = server.0.wait().unwrap();
    let mut log = String::new();
    stderr.read_to_string(&mut log).unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(
        log.contains("path=/v1/users status=200"),
        "one line per request: {log}"
    );
    assert!(!log.contains(&token), "no token in the log");
    assert!(!log.contains("correct horse"), "no password in the log");
}

#[test]
fn serve_tells_an_address_in_use() {
    let d = Dir::sample();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let run = d.run(&["serve", "--addr", &addr]);
    assert_eq!(run.code, 13, "{}", run.stderr);
    assert!(run.stderr.contains(&addr), "{}", run.stderr);
}

#[test]
fn serve_needs_an_existing_store() {
    let d = Dir::new();
    let run = d.run(&["serve", "--addr", "127.0.0.1:0"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(!d.path("s.redb").exists());
}

#[test]
fn serve_refuses_a_public_url_that_is_no_http_url() {
    // No store: a URL wrongly taken would end in exit code 3 at once, not
    // in a server that runs on; and the URL is checked before the store.
    let d = Dir::new();
    for (url, says) in [
        ("ftp://id.example.com", "http or https"),
        ("https://id.example.com/?x=1", "query"),
        ("id.example.com", "relative URL"),
        ("https://id.example.com/scim/v2", "without /scim/v2"),
    ] {
        let run = d.run(&["serve", "--addr", "127.0.0.1:0", "--public-url", url]);
        assert_eq!(run.code, 2, "{url}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{url}: {}", run.stderr);
    }
}
