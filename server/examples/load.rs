//! A loopback load run (issue 14): the server over a store file of
//! `USERS` users, and `CONNECTIONS` clients sending mixed requests for
//! `SECONDS` seconds: 45% `GET /v1/users/{id}`, 25% a filtered, sorted page
//! of 20, 10% `HEAD` counts, 20% merge patches. Prints the throughput, the
//! latency percentiles and the number of error responses (which must be 0).
//! Client and server share this process and the machine's cores.
//!
//! ```text
//! cargo run --release -p rosterdb-server --example load -- [SECONDS] [CONNECTIONS] [USERS]
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rosterdb::{NewRole, NewUser, Options, Secret, Store};
use rosterdb_server::ServeOptions;
use serde_json::{Value, json};

const LAST_NAMES: [&str; 8] = [
    "Smith", "Jones", "Major", "Xyz", "Lee", "Khan", "Okafor", "Silva",
];

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().unwrap());
    let seconds = args.next().unwrap_or(30);
    let connections = args.next().unwrap_or(64);
    let users = args.next().unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("load.redb"), Options::default()).unwrap());
    let admin = store
        .roles()
        .create(NewRole {
            permissions: vec!["*".into()],
            ..NewRole::new("admin")
        })
        .unwrap();
    store
        .users()
        .create(NewUser {
            roles: vec![admin.id],
            password: Some(Secret::new("load test password")),
            ..NewUser::new("admin", "admin@example.com", "Ada", "Admin")
        })
        .unwrap();
    let batch: Vec<NewUser> = (0..users)
        .map(|i| {
            let last = LAST_NAMES[(i % 8) as usize];
            NewUser::new(
                format!("user{i}"),
                format!("user{i}@example.com"),
                "First",
                last,
            )
        })
        .collect();
    store.users().create_many(batch).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let options = ServeOptions::default();
        let app = rosterdb_server::router(Arc::clone(&store), options.config.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            rosterdb_server::serve(listener, app, &options, async {
                let _ = stopped.await;
            })
            .await;
        });
        let base = format!("http://{addr}");
        let http = reqwest::Client::new();
        let login: Value = http
            .post(format!("{base}/v1/authentication"))
            .json(&json!({"username": "admin", "password": "load test password"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let auth = format!("Bearer {}", login["token"].as_str().unwrap());
        let started = Instant::now();
        let until = started + Duration::from_secs(seconds);
        let tasks: Vec<_> = (0..connections)
            .map(|c| {
                let (http, base, auth) = (http.clone(), base.clone(), auth.clone());
                tokio::spawn(async move { client(c, users, until, &http, &base, &auth).await })
            })
            .collect();
        let mut latencies = Vec::new();
        let mut errors = 0u64;
        for task in tasks {
            let (l, e) = task.await.unwrap();
            latencies.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize] as f64 / 1000.0;
        println!(
            "{} requests in {elapsed:.1} s over {connections} connections ({users} users): {:.0} req/s; \
             latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; error responses: {errors}",
            latencies.len(),
            latencies.len() as f64 / elapsed,
            pct(0.5),
            pct(0.9),
            pct(0.99),
            pct(1.0),
        );
        let _ = stop.send(());
        server.await.unwrap();
    });
}

/// One connection's loop: its latencies in microseconds and its error responses.
async fn client(
    c: u64,
    users: u64,
    until: Instant,
    http: &reqwest::Client,
    base: &str,
    auth: &str,
) -> (Vec<u64>, u64) {
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut n: u64 = c.wrapping_mul(7919);
    while Instant::now() < until {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let id = 2 + (n >> 33) % users;
        let last = LAST_NAMES[((n >> 20) % 8) as usize];
        let request = match (n >> 40) % 20 {
            0..=8 => http.get(format!("{base}/v1/users/{id}")),
            9..=13 => http.get(format!(
                "{base}/v1/users?lastName={last}&enabled=true&sort=username:desc&pageSize=20&fields=id,username"
            )),
            14..=15 => http.head(format!("{base}/v1/users?lastName={last}")),
            _ => http
                .patch(format!("{base}/v1/users/{id}"))
                .header("content-type", "application/merge-patch+json")
                .body(json!({"nickname": format!("n{}", n % 1000)}).to_string()),
        };
        let sent = Instant::now();
        match request.header("authorization", auth).send().await {
            Ok(response) => {
                let ok = response.status().is_success();
                let _ = response.bytes().await;
                latencies.push(sent.elapsed().as_micros() as u64);
                if !ok {
                    errors += 1;
                }
            }
            Err(_) => errors += 1,
        }
    }
    (latencies, errors)
}
