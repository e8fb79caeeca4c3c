//! What a router and a server are configured with: limits, timeouts, the
//! address to listen on, the URL clients reach it at.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
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
    /// The URL at which clients reach the router's root, when it differs
    /// from what the request shows (a proxy in front terminates TLS, or
    /// maps a path prefix): SCIM's absolute URLs (`meta.location` and
    /// `Location`, RFC 7644 §3.1) start with it. `None` (the default):
    /// `http://`, the request's `Host` header and the prefix the router is
    /// mounted under.
    pub public_url: Option<PublicUrl>,
}

/// An absolute `http` or `https` URL without user information, query or
/// fragment, as [`Config::public_url`] takes it: the server's root as its
/// clients reach it, `https://id.example.com` or
/// `https://example.com/identity`, not the SCIM base (`…/scim/v2` is
/// refused). Its trailing `/` is dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(String);

/// Why a text is no [`PublicUrl`]; the message names the part at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid public URL: {0}")]
pub struct InvalidPublicUrl(String);

impl PublicUrl {
    /// The URL, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PublicUrl {
    type Err = InvalidPublicUrl;

    /// Parses `text` as a URL (WHATWG URL Standard, the `url` crate, which
    /// refuses an `http` or `https` URL without a host, lowercases the
    /// scheme and host, and drops a default port) and checks it: scheme
    /// `http` or `https`, no user name or password, no query or fragment
    /// (an empty `?` or `#` included), a path not ending in `/scim/v2`.
    ///
    /// # Errors
    ///
    /// [`InvalidPublicUrl`] naming the first of those that fails.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |what: &str| InvalidPublicUrl(what.to_owned());
        let url = url::Url::parse(text).map_err(|e| {
            InvalidPublicUrl(format!("{e} (an absolute URL: https://id.example.com)"))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad(
                "the scheme must be http or https (https://id.example.com)",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("it may not hold a user name or password"));
        }
        if url.query().is_some() {
            return Err(bad("it may not hold a query ('?')"));
        }
        if url.fragment().is_some() {
            return Err(bad("it may not hold a fragment ('#')"));
        }
        let root = url.as_str().trim_end_matches('/');
        if root.ends_with("/scim/v2") {
            return Err(bad(
                "give the server's root, without /scim/v2 (the server adds it)",
            ));
        }
        Ok(PublicUrl(root.to_owned()))
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_absolute_http_urls_without_a_trailing_slash() {
        let ok = |text: &str| text.parse::<PublicUrl>().map(|u| u.to_string());
        assert_eq!(
            ok("https://id.example.com").unwrap(),
            "https://id.example.com"
        );
        assert_eq!(
            ok("https://id.example.com/").unwrap(),
            "https://id.example.com"
        );
        assert_eq!(
            ok("HTTPS://Example.com:8443/identity/").unwrap(),
            "https://example.com:8443/identity"
        );
        assert_eq!(ok("http://[::1]:8080").unwrap(), "http://[::1]:8080");
        // The url crate's normal form: trimmed, dot segments resolved, the
        // host in IDNA, a default port dropped, repeated trailing '/' gone.
        assert_eq!(ok(" https://x.com ").unwrap(), "https://x.com");
        assert_eq!(ok("https://x.com/a/../b").unwrap(), "https://x.com/b");
        assert_eq!(
            ok("https://bücher.example").unwrap(),
            "https://xn--bcher-kva.example"
        );
        assert_eq!(ok("https://x.com:443/").unwrap(), "https://x.com");
        assert_eq!(ok("https://x.com//").unwrap(), "https://x.com");
        for (text, names) in [
            ("id.example.com", "relative URL"),
            ("localhost:8080", "http or https"),
            ("ftp://example.com", "http or https"),
            ("https://user:pw@example.com", "user name or password"),
            ("https://example.com/?a=1", "query"),
            ("https://example.com?", "query"),
            ("https://example.com/#x", "fragment"),
            ("https://example.com#", "fragment"),
            ("https://", "empty host"),
            ("https://id.example.com/scim/v2", "without /scim/v2"),
            ("https://id.example.com/scim/v2/", "without /scim/v2"),
        ] {
            let err = text.parse::<PublicUrl>().unwrap_err().to_string();
            assert!(err.contains(names), "{text}: {err}");
        }
    }
}
