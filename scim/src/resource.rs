//! What Users and Groups share: reading a resource body's attributes,
//! `meta`, and versions as weak ETags.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::error::ScimError;
use crate::schema::{Mutability, Resource};

/// The writable attributes of a resource body, by their schema names.
/// Read-only attributes (`id`, `meta`, `groups`) and `schemas` are
/// ignored, as RFC 7643 §7 says of read-only values in input; an unknown
/// attribute is `invalidValue` naming it.
pub(crate) struct Fields<'v> {
    found: BTreeMap<&'static str, &'v Value>,
}

impl<'v> Fields<'v> {
    pub fn read(body: &'v Value, resource: Resource) -> Result<Fields<'v>, ScimError> {
        let Value::Object(map) = body else {
            return Err(ScimError::invalid_syntax(format!(
                "a {} must be a JSON object",
                resource.name()
            )));
        };
        let mut found = BTreeMap::new();
        for (key, value) in map {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let Some(attr) = resource.attr(key) else {
                return Err(ScimError::invalid_value(format!(
                    "{key:?} is not an attribute of a {} in rosterdb",
                    resource.name()
                )));
            };
            if attr.mutability == Mutability::ReadOnly {
                continue;
            }
            if found.insert(attr.name, value).is_some() {
                return Err(ScimError::invalid_syntax(format!(
                    "attribute {} is given twice",
                    attr.name
                )));
            }
        }
        Ok(Fields { found })
    }

    /// The value of the attribute `name` (as the schema spells it).
    pub fn get(&self, name: &str) -> Option<&'v Value> {
        self.found.get(name).copied()
    }
}

/// A string attribute's value, or `invalidValue` naming it.
pub(crate) fn text(value: &Value, name: &str) -> Result<String, ScimError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        _ => Err(ScimError::invalid_value(format!("{name} must be a string"))),
    }
}

/// A version tag as a weak ETag: `W/"3"`.
pub(crate) fn etag(tag: &str) -> String {
    format!("W/\"{tag}\"")
}

/// The tag an `If-Match` header names (without `W/` and quotes); `None`
/// when there is no header or it is `*` (any version).
pub(crate) fn if_match(header: Option<&str>) -> Option<String> {
    let header = header?.trim();
    if header == "*" {
        return None;
    }
    let tag = header.strip_prefix("W/").unwrap_or(header);
    let inner = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"'));
    Some(inner.unwrap_or(tag).to_owned())
}

/// `412` unless `wanted` (from `If-Match`) is absent or names `actual`.
pub(crate) fn check_tag(wanted: Option<&str>, actual: &str) -> Result<(), ScimError> {
    match wanted {
        Some(wanted) if wanted != actual => Err(ScimError::new(
            412,
            None,
            format!("If-Match names version {wanted:?}; the resource is at version {actual:?}"),
        )),
        _ => Ok(()),
    }
}

/// The `meta` of a resource.
pub(crate) fn meta(
    resource: Resource,
    id: u64,
    tag: &str,
    created: &rosterdb::Timestamp,
    updated: &rosterdb::Timestamp,
    base_url: &str,
) -> Value {
    json!({
        "resourceType": resource.name(),
        "created": created.to_string(),
        "lastModified": updated.to_string(),
        "location": location(resource, id, base_url),
        "version": etag(tag),
    })
}

/// The URL of a resource.
pub(crate) fn location(resource: Resource, id: u64, base_url: &str) -> String {
    format!("{base_url}{}/{id}", resource.endpoint())
}

/// The id in a resource URL's last segment: `404` when it cannot be an id.
pub(crate) fn parse_id(segment: &str, resource: Resource) -> Result<u64, ScimError> {
    segment
        .parse::<u64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            ScimError::not_found(format!("{} not found: id {segment:?}", resource.name()))
        })
}
