//! `serve`: the store over HTTP (`rosterdb-server`), until SIGTERM or
//! Ctrl-C. The address actually bound (port 0 picks one) is told on stderr
//! before the first request is accepted.

use std::io::Write;
use std::sync::Arc;

use rosterdb::Store;
use rosterdb_server::{ServeError, ServeOptions};

use crate::args::ServeArgs;
use crate::exit::CliError;

/// Serves `store` on `args.addr`; returns once a signal has drained the
/// requests in flight.
pub fn run(store: Store, args: &ServeArgs, quiet: bool) -> Result<(), CliError> {
    init_log(quiet);
    let listener = std::net::TcpListener::bind(args.addr).map_err(|source| {
        CliError::Serve(ServeError::Bind {
            addr: args.addr,
            source,
        })
    })?;
    let addr = listener.local_addr().unwrap_or(args.addr);
    {
        let mut err = std::io::stderr().lock();
        writeln!(err, "rosterdb: serving http://{addr}")?;
        err.flush()?;
    }
    let mut options = ServeOptions {
        addr,
        ..ServeOptions::default()
    };
    options.config.public_url.clone_from(&args.public_url);
    rosterdb_server::serve_blocking_on(Arc::new(store), listener, options).map_err(CliError::Serve)
}

/// The server's log (one line per request, and its start and stop) on
/// stderr: `RUST_LOG` when set, else `info` (`warn` with `--quiet`).
fn init_log(quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // A subscriber set already (none is, in this process) keeps its place.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
