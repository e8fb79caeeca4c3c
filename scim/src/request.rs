//! What the HTTP server hands to [`crate::handle`] and gets back: a request
//! under `/scim/v2` and a response, with no HTTP library in between.

use serde_json::Value;

use crate::schema::Resource;

/// The media type of SCIM bodies (RFC 7644 §3.1).
pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";

/// An HTTP method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// Any other method (answered 405).
    Other,
}

impl Method {
    /// The method named `name` (case-sensitively, as HTTP spells it).
    pub fn parse(name: &str) -> Method {
        match name {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => Method::Other,
        }
    }
}

/// One SCIM request. The caller has authenticated the principal, checked
/// its permissions and scoped the [`rosterdb::View`] to its tenant.
#[derive(Clone, Copy, Debug)]
pub struct ScimRequest<'a> {
    /// The method.
    pub method: Method,
    /// The path after the SCIM base, e.g. `/Users/3` (percent-decoded).
    pub path: &'a str,
    /// The query string's (name, value) pairs, percent-decoded.
    pub query: &'a [(String, String)],
    /// The request body (empty when there is none).
    pub body: &'a [u8],
    /// The `If-Match` header, when sent.
    pub if_match: Option<&'a str>,
    /// The absolute URL of the SCIM base, e.g. `https://idp.example/scim/v2`
    /// (no trailing slash), for `meta.location` and `Location`.
    pub base_url: &'a str,
}

impl ScimRequest<'_> {
    /// The permissions (docs/reference/http.md) a principal needs for this request, all
    /// of them: `users:read` to read Users, `roles:read` to read Groups,
    /// `users:write` to write Users, and `roles:write` plus `users:write`
    /// to write Groups (a change of members adds or removes the role on
    /// users). A search at the root reads both; the discovery endpoints
    /// and unknown paths need none (they describe the service, or answer
    /// 404).
    pub fn permissions(&self) -> &'static [&'static str] {
        let (first, rest) = crate::router::endpoint(self.path);
        let reads = self.method == Method::Get || rest == Some(".search");
        match (first, reads) {
            ("Users", true) => &["users:read"],
            ("Users", false) => &["users:write"],
            ("Groups", true) => &["roles:read"],
            ("Groups", false) => &["roles:write", "users:write"],
            (".search", _) => &["users:read", "roles:read"],
            _ => &[],
        }
    }

    /// The one User or Group a PUT, PATCH or DELETE writes, as the router
    /// reads its path (`/Users/3`: `(User, 3)`); `None` for any other
    /// request, or an id no resource can have (the router answers `404`).
    /// A server that checks who may write a record reads it from here.
    pub fn target(&self) -> Option<(Resource, u64)> {
        if !matches!(self.method, Method::Put | Method::Patch | Method::Delete) {
            return None;
        }
        let resource = match crate::router::endpoint(self.path) {
            ("Users", Some(id)) => (Resource::User, id),
            ("Groups", Some(id)) => (Resource::Group, id),
            _ => return None,
        };
        crate::resource::parse_id(resource.1, resource.0)
            .ok()
            .map(|id| (resource.0, id))
    }
}

/// The answer to a [`ScimRequest`].
#[derive(Clone, Debug, PartialEq)]
pub struct ScimResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers to send: `Content-Type` when there is a body, `ETag` and
    /// `Location` when they apply.
    pub headers: Vec<(String, String)>,
    /// The JSON body, if any (serialize it as the body).
    pub body: Option<Value>,
}

impl ScimResponse {
    /// A response of `status` with a JSON body.
    pub(crate) fn json(status: u16, body: Value) -> ScimResponse {
        ScimResponse {
            status,
            headers: vec![("Content-Type".into(), SCIM_MEDIA_TYPE.into())],
            body: Some(body),
        }
    }

    /// A response with no body.
    pub(crate) fn empty(status: u16) -> ScimResponse {
        ScimResponse {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: &str, value: String) -> ScimResponse {
        self.headers.push((name.into(), value));
        self
    }

    /// The value of header `name` (case-insensitively), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{Method, ScimRequest};
    use crate::schema::Resource;

    fn request(method: Method, path: &str) -> ScimRequest<'_> {
        ScimRequest {
            method,
            path,
            query: &[],
            body: b"",
            if_match: None,
            base_url: "http://localhost/scim/v2",
        }
    }

    #[test]
    fn the_target_is_the_one_resource_a_write_names() {
        let cases = [
            (Method::Put, "/Users/3", Some((Resource::User, 3))),
            (Method::Patch, "/Groups/7/", Some((Resource::Group, 7))),
            (Method::Delete, "Users/12", Some((Resource::User, 12))),
            (Method::Get, "/Users/3", None),
            (Method::Post, "/Users", None),
            (Method::Post, "/Users/.search", None),
            (Method::Delete, "/Users/0", None),
            (Method::Delete, "/Users/x", None),
            (Method::Put, "/Schemas/3", None),
        ];
        for (method, path, want) in cases {
            assert_eq!(request(method, path).target(), want, "{method:?} {path}");
        }
    }

    #[test]
    fn a_search_reads_whatever_its_method() {
        assert_eq!(
            request(Method::Post, "/Users/.search").permissions(),
            ["users:read"]
        );
        assert_eq!(
            request(Method::Post, "/.search").permissions(),
            ["users:read", "roles:read"]
        );
        assert_eq!(
            request(Method::Patch, "/Groups/2").permissions(),
            ["roles:write", "users:write"]
        );
        assert!(request(Method::Get, "/Schemas").permissions().is_empty());
    }
}
