//! rosterdb over HTTP (docs/reference/http.md): the `/v1` REST API and SCIM 2.0 Users
//! and Groups (`/scim/v2`, served by the `rosterdb-scim` crate) over one
//! [`rosterdb::Store`], as an axum [`Router`](axum::Router) a Rust program
//! can mount ([`router`]) or as a server of its own ([`serve_blocking`],
//! [`serve`]).
//!
//! Every route but `POST /v1/authentication` needs a principal:
//! `Authorization: Bearer rs_…` (a session from that route or
//! [`rosterdb::Store::login`]) or `Authorization: Apikey <clientId>:<secret>`
//! (a client login from the connection's address). The principal's roles
//! grant the permissions `users:read`, `users:write`, `roles:read`,
//! `roles:write`, `clients:read`, `clients:write` (`*` grants all), and a
//! principal of a tenant sees only that tenant. Nothing is open without
//! credentials: the first principal is made outside the server (the
//! `rosterdb` CLI or the library: a role with `*`, a user holding it).
//!
//! Errors are RFC 9457 `application/problem+json` bodies carrying the
//! store's error kind ([`problem`]); under `/scim/v2` they are SCIM error
//! bodies (RFC 7644 §3.12).
//!
//! ```no_run
//! use std::sync::Arc;
//! use rosterdb::{Options, Store};
//! use rosterdb_server::{Config, ServeOptions};
//!
//! let store = Arc::new(Store::open("roster.redb", Options::default())?);
//! // Mounted in an application of its own:
//! let app = axum::Router::new().merge(rosterdb_server::router(Arc::clone(&store), Config::default()));
//! # drop(app);
//! // Or served until SIGTERM / SIGINT:
//! rosterdb_server::serve_blocking(store, ServeOptions::default())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod access;
mod app;
mod body;
mod config;
mod grant;
mod log;
mod params;
pub mod problem;
mod rest;
mod scim;
mod serve;
mod state;

pub use app::router;
pub use config::{Config, InvalidPublicUrl, Limits, PublicUrl, ServeOptions};
pub use serve::{ServeError, serve, serve_blocking, serve_blocking_on};
