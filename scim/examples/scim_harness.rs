//! A minimal HTTP/1.1 server around `rosterdb_scim::handle` on an
//! in-memory store, for running a SCIM compliance tool against:
//!
//! ```text
//! cargo run -p rosterdb-scim --example scim_harness -- 127.0.0.1:8099 [TENANT]
//! scim2 --url http://127.0.0.1:8099/scim/v2 test
//! ```
//!
//! With a TENANT, every request goes through a view scoped to it (as the
//! HTTP server scopes a tenant's principal), after a user of another
//! tenant is stored, which the run must never see.
//!
//! One request per connection (`Connection: close`), no authentication:
//! a test harness, not a server (the rosterdb HTTP server mounts `handle`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use rosterdb::{Store, View};
use rosterdb_scim::{Method, ScimRequest, handle};

const PREFIX: &str = "/scim/v2";

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8099".into());
    let tenant = std::env::args().nth(2);
    let store = Store::memory().expect("an in-memory store");
    if tenant.is_some() {
        let other = store.scoped("someone-else").expect("a tenant");
        other
            .users()
            .create(rosterdb::NewUser::new(
                "hidden",
                "hidden@example.com",
                "H",
                "H",
            ))
            .expect("a user of another tenant");
    }
    let listener = TcpListener::bind(&addr).expect("bind");
    eprintln!("SCIM harness on http://{addr}{PREFIX}");
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if let Err(e) = serve(&store, tenant.as_deref(), stream, &addr) {
            eprintln!("connection: {e}");
        }
    }
}

fn serve(
    store: &Store,
    tenant: Option<&str>,
    stream: TcpStream,
    addr: &str,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut length = 0_usize;
    let mut if_match = None;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim().to_owned();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("if-match") {
                if_match = Some(value);
            }
        }
    }
    let mut body = vec![0_u8; length];
    reader.read_exact(&mut body)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let path = decode(path);
    let response = match path.strip_prefix(PREFIX) {
        Some(rest) => {
            let view = View::of(store, tenant).expect("a valid tenant");
            let base_url = format!("http://{addr}{PREFIX}");
            let response = handle(
                &view,
                ScimRequest {
                    method: Method::parse(&method),
                    path: rest,
                    query: &pairs,
                    body: &body,
                    if_match: if_match.as_deref(),
                    base_url: &base_url,
                },
            );
            eprintln!("{method} {target} -> {}", response.status);
            response
        }
        None => rosterdb_scim::ScimResponse {
            status: 404,
            headers: vec![],
            body: None,
        },
    };
    let body = response.body.map(|b| b.to_string()).unwrap_or_default();
    let mut out = stream;
    write!(out, "HTTP/1.1 {} X\r\n", response.status)?;
    for (name, value) in &response.headers {
        write!(out, "{name}: {value}\r\n")?;
    }
    write!(
        out,
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}

/// Percent-decoding (and `+` as space) of a query component.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
