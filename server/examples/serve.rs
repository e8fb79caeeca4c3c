//! Serves a store file over HTTP until SIGTERM or Ctrl-C, as `rosterdb
//! FILE serve` does:
//!
//! ```text
//! ROSTERDB_ADMIN_PASSWORD='…' cargo run -p rosterdb-server --example serve -- roster.redb 127.0.0.1:8080
//! ```
//!
//! Nothing is open without credentials, so a store with no user gets a
//! first principal here: the role `admin` (permission `*`) and the user
//! `admin` holding it, with the password in `ROSTERDB_ADMIN_PASSWORD`
//! (never printed). A store that has users is served as it is.

use std::sync::Arc;

use rosterdb::{NewRole, NewUser, Options, Query, Secret, Store};
use rosterdb_server::ServeOptions;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: serve FILE [ADDR]")?;
    let addr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:8080".into())
        .parse()?;
    let store = Store::open(&path, Options::default())?;
    if !store.users().exists(&Query::all())? {
        let password = std::env::var("ROSTERDB_ADMIN_PASSWORD").map_err(
            |_| "the store has no user: set ROSTERDB_ADMIN_PASSWORD for the first admin",
        )?;
        let role = store.roles().create(NewRole {
            permissions: vec!["*".into()],
            ..NewRole::new("admin")
        })?;
        store.users().create(NewUser {
            roles: vec![role.id],
            password: Some(Secret::new(password)),
            ..NewUser::new("admin", "admin@example.com", "Admin", "Istrator")
        })?;
        tracing::info!("created the role `admin` and the user `admin`");
    }
    let options = ServeOptions {
        addr,
        ..ServeOptions::default()
    };
    rosterdb_server::serve_blocking(Arc::new(store), options)?;
    Ok(())
}
