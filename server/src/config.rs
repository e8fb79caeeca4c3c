//! What a router and a server are configured with: limits, timeouts, the
//! address to listen on.

use std::net::SocketAddr;
use std::time::Duration;

/// Limits on each request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body, in bytes (default 1 MiB); a larger one is
    /// `413 Payload Too Large`.
    pub max_body_bytes: usize,
    /// The largest sum of the request's header names and values, in bytes
    /// (default 16 KiB); more is `431 Request Header Fields Too Large`.
    pub max_header_bytes: usize,
    /// How long a request may take, body upload included (default 30 s);
    /// a slower one is `408 Request Timeout`. A store write the request
    /// started still completes.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1024 * 1024,
            max_header_bytes: 16 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// How [`crate::router`] serves a store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// The limits on each request.
    pub limits: Limits,
}

/// How [`crate::serve_blocking`] and [`crate::serve`] run the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeOptions {
    /// The address to listen on (default `127.0.0.1:8080`).
    pub addr: SocketAddr,
    /// The router's configuration.
    pub config: Config,
    /// How long a connection may take to send a request's headers
    /// (default 10 s); a slower one is closed.
    pub header_read_timeout: Duration,
    /// How long a shutdown waits for requests in flight (default 30 s).
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            config: Config::default(),
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}
