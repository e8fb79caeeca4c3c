//! What a request says besides its body: the query string as
//! (name, value) pairs of the parameter form (docs/reference/queries.md), ids in paths, `If-Match`
//! and `ETag`.

use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use rosterdb::{EntityKind, Error, QueryCode};

use crate::problem::Problem;

/// The `{id}` (or `{key}`) segment of a route's path, percent-decoded.
pub(crate) struct Key(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Key {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(key)| Key(key))
            .map_err(|_| not_utf8_path())
    }
}

/// `400 BadRequest`: a path segment whose percent-decoding is not UTF-8
/// (`%FF`, the overlong `%C0%AE`).
pub(crate) fn not_utf8_path() -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        "the path is not UTF-8 once percent-decoded",
    )
}

/// The query string's pairs, decoded, in order (duplicates kept, so that
/// the store can refuse them). Over HTTP, `offset` with `pageSize` and no
/// `page` (the Cloud Elements style, docs/reference/http.md) means `offset` with `limit`.
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let has = |pairs: &[(String, String)], name: &str| pairs.iter().any(|(k, _)| k == name);
    if has(&pairs, "offset") && !has(&pairs, "page") && !has(&pairs, "limit") {
        for (name, _) in pairs.iter_mut().filter(|(k, _)| k == "pageSize") {
            *name = "limit".to_owned();
        }
    }
    pairs
}

/// `InvalidQuery` for any parameter outside `allowed` (a route that reads
/// only a few ignores none silently).
pub(crate) fn only(pairs: &[(String, String)], allowed: &[&str]) -> Result<(), Problem> {
    match pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        Some((name, _)) => Err(Error::query(
            QueryCode::InvalidParameter,
            format!("this route takes no parameter {name:?}"),
        )
        .for_field(name.clone())
        .into()),
        None => Ok(()),
    }
}

/// The value of the parameter `name`, at most once.
pub(crate) fn single<'a>(
    pairs: &'a [(String, String)],
    name: &str,
) -> Result<Option<&'a str>, Problem> {
    let mut values = pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(Error::query(
            QueryCode::DuplicateParameter,
            format!("{name} is given more than once"),
        )
        .for_field(name)
        .into());
    }
    Ok(first)
}

/// The id in a path: a whole number, else `NotFound` (an id that cannot
/// exist is not found, docs/reference/errors.md).
pub(crate) fn id(kind: EntityKind, text: &str) -> Result<u64, Problem> {
    text.parse::<u64>()
        .ok()
        .filter(|_| text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            let shown: String = text.chars().take(100).collect();
            Problem::from(not_found(kind, &shown))
        })
}

/// The store's `NotFound` for a key that names no record.
fn not_found(kind: EntityKind, key: &str) -> Error {
    Error::NotFound {
        entity: kind,
        key: format!("id {key:?}"),
    }
}

/// The `ETag` of a record of `version`: the version, quoted.
pub(crate) fn etag(version: u64) -> (header::HeaderName, HeaderValue) {
    let value = HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from(version));
    (header::ETAG, value)
}

/// The version `If-Match` expects (`"3"` or `3`); `None` without the
/// header or with `*`. Anything else is `400 InvalidHeader`.
pub(crate) fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let mut values = headers.get_all(header::IF_MATCH).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bad = || {
        Problem::invalid_header(
            "If-Match",
            "If-Match must be one ETag of this API (a version, quoted: \"3\") or *",
        )
    };
    if values.next().is_some() {
        return Err(bad());
    }
    let text = value.to_str().map_err(|_| bad())?.trim();
    if text == "*" {
        return Ok(None);
    }
    let unquoted = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if unquoted.is_empty() || !unquoted.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    unquoted.parse().map(Some).map_err(|_| bad())
}

/// Whether `If-None-Match` names `version` (or is `*`): a GET may answer
/// `304 Not Modified`.
pub(crate) fn none_match(headers: &HeaderMap, version: u64) -> bool {
    let tag = format!("\"{version}\"");
    headers.get_all(header::IF_NONE_MATCH).iter().any(|value| {
        value.to_str().is_ok_and(|text| {
            text.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t == tag || t.strip_prefix("W/") == Some(tag.as_str()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_with_page_size_means_limit() {
        let pairs = query_pairs(Some("offset=0&pageSize=100&where=a%20%3D%201"));
        assert_eq!(
            pairs,
            vec![
                ("offset".into(), "0".into()),
                ("limit".into(), "100".into()),
                ("where".into(), "a = 1".into())
            ]
        );
        let pairs = query_pairs(Some("page=2&pageSize=10&offset=1"));
        assert_eq!(
            pairs[1].0, "pageSize",
            "with page the store refuses the mix"
        );
    }

    #[test]
    fn if_match_forms() {
        let mut headers = HeaderMap::new();
        assert_eq!(if_match(&headers).unwrap(), None);
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"7\""));
        assert_eq!(if_match(&headers).unwrap(), Some(7));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("7"));
        assert_eq!(if_match(&headers).unwrap(), Some(7));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(if_match(&headers).unwrap(), None);
        for bad in [
            "W/\"7\"",
            "\"x\"",
            "\"\"",
            "\"1\", \"2\"",
            "99999999999999999999999",
        ] {
            headers.insert(header::IF_MATCH, HeaderValue::from_static(bad));
            assert_eq!(
                if_match(&headers).unwrap_err().kind(),
                "InvalidHeader",
                "{bad}"
            );
        }
    }

    #[test]
    fn ids_are_whole_numbers() {
        assert_eq!(id(EntityKind::User, "42").unwrap(), 42);
        for bad in ["", "+1", "-1", "1.0", "x", "18446744073709551616"] {
            assert_eq!(
                id(EntityKind::User, bad).unwrap_err().kind(),
                "NotFound",
                "{bad}"
            );
        }
    }
}
