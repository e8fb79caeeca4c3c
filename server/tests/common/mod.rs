//! The harness of the server's tests: a real server on a loopback port
//! over an in-memory store, a principal with every permission, and a few
//! HTTP helpers (reqwest for the well-formed requests, a raw TcpStream for
//! the malformed ones).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rosterdb::{Argon2Params, NewRole, NewUser, Options, Store};
use rosterdb_server::{Config, ServeOptions};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The admin's password.
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// A store whose Argon2 is cheap, so that tests spend no time hashing.
pub fn store() -> Arc<Store> {
    let options = Options::default().with_argon2(Argon2Params {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    });
    Arc::new(Store::memory_with(options).unwrap())
}

/// Seeds `store` with the role `admin` (`*`) and the user `admin` holding it.
pub fn seed_admin(store: &Store) {
    let role = store
        .roles()
        .create(NewRole {
            permissions: vec!["*".into()],
            ..NewRole::new("admin")
        })
        .unwrap();
    store
        .users()
        .create(NewUser {
            roles: vec![role.id],
            password: Some(ADMIN_PASSWORD.into()),
            ..NewUser::new("admin", "admin@example.com", "Ada", "Admin")
        })
        .unwrap();
}

/// A server running in this test's runtime.
pub struct Server {
    pub addr: SocketAddr,
    pub base: String,
    pub store: Arc<Store>,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// A server over a store seeded with the admin, default options.
    pub async fn start() -> Server {
        let store = store();
        seed_admin(&store);
        Server::with(store, options()).await
    }

    /// A server over `store` with `options`.
    pub async fn with(store: Arc<Store>, options: ServeOptions) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = rosterdb_server::router(Arc::clone(&store), options.config.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            rosterdb_server::serve(listener, app, &options, async {
                let _ = stopped.await;
            })
            .await;
        });
        Server {
            addr,
            base: format!("http://{addr}"),
            store,
            http: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Signals the shutdown and waits for the server to drain and return.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    /// Signals the shutdown; returns the server's task to await.
    pub fn signal_stop(&mut self) -> JoinHandle<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.take().unwrap()
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Logs in over HTTP and returns the bearer token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let response = self
            .http
            .post(self.url("/v1/authentication"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "login of {username}");
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// The admin's bearer token.
    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// A request with `token` as bearer.
    pub fn req(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("authorization", format!("Bearer {token}"))
    }

    /// `method path` with `token` and no body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::Response {
        self.req(method, path, token).send().await.unwrap()
    }

    /// `method path` with `token` and `body` as `application/json`.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.req(method, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `method path` with `token` and `body` as `content_type`.
    pub async fn send_as(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        content_type: &str,
        body: impl Into<String>,
    ) -> reqwest::Response {
        self.req(method, path, token)
            .header("content-type", content_type)
            .body(body.into())
            .send()
            .await
            .unwrap()
    }

    /// The JSON of a `200` answer to `GET path`.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let response = self.call(reqwest::Method::GET, path, token).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// Creates a role with `permissions` and a user holding it (in
    /// `tenant`, if given), and returns the user's token.
    pub async fn principal(
        &self,
        name: &str,
        permissions: &[&str],
        tenant: Option<&str>,
    ) -> String {
        let view = rosterdb::View::of(&*self.store, tenant).unwrap();
        let role = view
            .roles()
            .create(NewRole {
                permissions: permissions.iter().map(|p| p.to_string()).collect(),
                ..NewRole::new(format!("{name}-role"))
            })
            .unwrap();
        view.users()
            .create(NewUser {
                roles: vec![role.id],
                password: Some(format!("password of {name}").into()),
                ..NewUser::new(name, format!("{name}@example.com"), "First", "Last")
            })
            .unwrap();
        let response = self
            .http
            .post(self.url("/v1/authentication"))
            .json(&json!({"username": name, "password": format!("password of {name}"), "tenant": tenant}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Default serve options for tests.
pub fn options() -> ServeOptions {
    ServeOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        config: Config::default(),
        header_read_timeout: Duration::from_secs(10),
        shutdown_grace: Duration::from_secs(10),
    }
}

/// Asserts `response` is a problem of `status` and `kind`; returns its body.
pub async fn problem(response: reqwest::Response, status: u16, kind: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        content_type.as_deref(),
        Some("application/problem+json"),
        "{body}"
    );
    assert_eq!(body["kind"], kind, "{body}");
    assert_eq!(body["status"], status, "{body}");
    body
}

/// The status line and the body of a raw HTTP exchange: `request` is
/// written as is, then everything is read until the server closes or
/// the response (with Content-Length) is complete.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_response(&mut stream).await
}

/// Reads one response from `stream`: (status, headers, body).
pub async fn read_response(stream: &mut TcpStream) -> (u16, String, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await.unwrap_or_default();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Asserts each `(method, path, status, kind)` is answered with that problem for `token`.
pub async fn expect_problems(
    server: &Server,
    token: &str,
    cases: &[(reqwest::Method, &str, u16, &str)],
) {
    for (method, path, status, kind) in cases {
        let response = server.call(method.clone(), path, token).await;
        let body = problem(response, *status, kind).await;
        assert!(body["detail"].is_string(), "{method} {path}: {body}");
    }
}

/// The status and `X-Total-Count` of `HEAD path`.
pub async fn head_count(server: &Server, path: &str, token: &str) -> (u16, String) {
    let head = server.call(reqwest::Method::HEAD, path, token).await;
    let count = head.headers()["x-total-count"].to_str().unwrap().to_owned();
    (head.status().as_u16(), count)
}
