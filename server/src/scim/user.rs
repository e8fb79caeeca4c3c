//! A rosterdb user as a SCIM User and back (RFC 7643 §4.1).
//!
//! | SCIM | rosterdb |
//! |---|---|
//! | `id` | `id` (as a string) |
//! | `externalId` | the `externalIds` entry of type `scim` |
//! | `userName` | `username` |
//! | `name.givenName`, `name.familyName` | `firstName`, `lastName` |
//! | `nickName` | `nickname` |
//! | `emails` (one; `primary` picks it among several in input) | `email` |
//! | `phoneNumbers` (one) | `telephoneNumber` |
//! | `active` | `enabled` |
//! | `password` (write-only) | `password` |
//! | `meta.created`, `meta.lastModified`, `meta.version` | `createdAt`, `updatedAt`, `W/"version"` |
//!
//! The fields SCIM does not name (`roles`, `attributes`, `mobileNumber`,
//! other external ids, `tenant`) are kept by a SCIM replace or patch.

use rosterdb::User;
use serde_json::{Map, Value, json};

use super::discovery::USER_SCHEMA;
use super::error::ScimError;
use super::etag;

/// The external-id type under which a SCIM `externalId` is kept.
pub(crate) const SCIM_EXTERNAL_ID: &str = "scim";

/// The SCIM User of `user`; `base` is the absolute URL of `/scim/v2`.
pub(crate) fn to_scim(user: &User, base: &str) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([USER_SCHEMA]));
    out.insert("id".into(), json!(user.id.to_string()));
    if let Some(external) = user
        .external_ids
        .iter()
        .find(|e| e.kind == SCIM_EXTERNAL_ID)
    {
        out.insert("externalId".into(), json!(external.value));
    }
    out.insert("userName".into(), json!(user.username));
    out.insert(
        "name".into(),
        json!({"givenName": user.first_name, "familyName": user.last_name}),
    );
    if let Some(nickname) = &user.nickname {
        out.insert("nickName".into(), json!(nickname));
    }
    out.insert("emails".into(), json!([{"value": user.email}]));
    if let Some(phone) = &user.telephone_number {
        out.insert("phoneNumbers".into(), json!([{"value": phone}]));
    }
    out.insert("active".into(), json!(user.enabled));
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": user.created_at,
            "lastModified": user.updated_at,
            "version": etag(user.version),
            "location": format!("{base}/Users/{}", user.id),
        }),
    );
    Value::Object(out)
}

/// The attributes of a SCIM User that are read-only or the server's.
const IGNORED: [&str; 4] = ["schemas", "id", "meta", "groups"];

/// The rosterdb document a SCIM User makes, keeping what SCIM does not
/// name from `current` (for a replace). A SCIM attribute rosterdb does
/// not keep is `invalidValue`, never dropped silently.
pub(crate) fn from_scim(scim: &Value, current: Option<&User>) -> Result<Value, ScimError> {
    let Some(object) = scim.as_object() else {
        return Err(ScimError::invalid_value("a User must be a JSON object"));
    };
    let mut doc = Map::new();
    let mut external_ids: Vec<Value> = Vec::new();
    if let Some(user) = current {
        doc.insert("roles".into(), json!(user.roles));
        if !user.attributes.is_empty() {
            doc.insert("attributes".into(), Value::Object(user.attributes.clone()));
        }
        if let Some(mobile) = &user.mobile_number {
            doc.insert("mobileNumber".into(), json!(mobile));
        }
        external_ids.extend(
            user.external_ids
                .iter()
                .filter(|e| e.kind != SCIM_EXTERNAL_ID)
                .map(|e| json!({"type": e.kind, "value": e.value})),
        );
    }
    for (name, value) in object {
        let key = name
            .strip_prefix(USER_SCHEMA)
            .and_then(|k| k.strip_prefix(':'))
            .unwrap_or(name);
        match key.to_ascii_lowercase().as_str() {
            k if IGNORED.iter().any(|i| i.eq_ignore_ascii_case(k)) => {}
            _ if value.is_null() => {}
            "username" => {
                doc.insert("username".into(), value.clone());
            }
            "name" => {
                let Some(name) = value.as_object() else {
                    return Err(ScimError::invalid_value("name must be an object"));
                };
                for (sub, field) in [("givenname", "firstName"), ("familyname", "lastName")] {
                    if let Some((_, v)) = name.iter().find(|(k, _)| k.eq_ignore_ascii_case(sub)) {
                        doc.insert(field.into(), v.clone());
                    }
                }
                if let Some((other, _)) = name.iter().find(|(k, _)| {
                    !["givenname", "familyname"].contains(&k.to_ascii_lowercase().as_str())
                }) {
                    return Err(ScimError::invalid_value(format!(
                        "name.{other} is not kept by this server"
                    )));
                }
            }
            "nickname" => {
                doc.insert("nickname".into(), value.clone());
            }
            "emails" => {
                if let Some(email) = single_value(value, "emails", true)? {
                    doc.insert("email".into(), email);
                }
            }
            "phonenumbers" => {
                if let Some(phone) = single_value(value, "phoneNumbers", false)? {
                    doc.insert("telephoneNumber".into(), phone);
                }
            }
            "active" => {
                doc.insert("enabled".into(), value.clone());
            }
            "password" => {
                doc.insert("password".into(), value.clone());
            }
            "externalid" => {
                external_ids.push(json!({"type": SCIM_EXTERNAL_ID, "value": value}));
            }
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "the attribute {name:?} is not kept by this server"
                )));
            }
        }
    }
    doc.insert("externalIds".into(), Value::Array(external_ids));
    Ok(Value::Object(doc))
}

/// The `value` of the one entry of a multi-valued attribute (the primary
/// one when `primary` entries are allowed and several are given).
fn single_value(list: &Value, name: &str, primary: bool) -> Result<Option<Value>, ScimError> {
    let Some(entries) = list.as_array() else {
        return Err(ScimError::invalid_value(format!("{name} must be a list")));
    };
    let chosen = match entries.as_slice() {
        [] => return Ok(None),
        [only] => only,
        several if primary => several
            .iter()
            .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
            .ok_or_else(|| {
                ScimError::invalid_value(format!("{name}: this server keeps one; mark it primary"))
            })?,
        _ => {
            return Err(ScimError::invalid_value(format!(
                "{name}: this server keeps one"
            )));
        }
    };
    let Some(entry) = chosen.as_object() else {
        return Err(ScimError::invalid_value(format!(
            "{name} entries must be objects"
        )));
    };
    for key in entry.keys() {
        let allowed =
            key.eq_ignore_ascii_case("value") || (primary && key.eq_ignore_ascii_case("primary"));
        if !allowed {
            return Err(ScimError::invalid_value(format!(
                "{name}.{key} is not kept by this server"
            )));
        }
    }
    Ok(entry
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("value"))
        .map(|(_, v)| v.clone()))
}

/// `resource` with only the `attributes` asked for (and `id`, `schemas`),
/// or without the `excluded` ones (RFC 7644 §3.4.2.5). Names are
/// case-insensitive, may carry the schema URN, and may name a
/// sub-attribute (`name.givenName`).
pub(crate) fn project(resource: Value, attributes: &[String], excluded: &[String]) -> Value {
    let Value::Object(mut object) = resource else {
        return resource;
    };
    let plain = |name: &String| -> String {
        let bare = name
            .strip_prefix(USER_SCHEMA)
            .and_then(|k| k.strip_prefix(':'))
            .unwrap_or(name);
        bare.to_ascii_lowercase()
    };
    if !attributes.is_empty() {
        let wanted: Vec<String> = attributes.iter().map(plain).collect();
        object.retain(|key, value| {
            let key = key.to_ascii_lowercase();
            if key == "id" || key == "schemas" || wanted.contains(&key) {
                return true;
            }
            let prefix = format!("{key}.");
            let subs: Vec<&str> = wanted
                .iter()
                .filter_map(|w| w.strip_prefix(&prefix))
                .collect();
            if subs.is_empty() {
                return false;
            }
            if let Value::Object(inner) = value {
                inner.retain(|k, _| subs.contains(&k.to_ascii_lowercase().as_str()));
            }
            true
        });
    }
    if !excluded.is_empty() {
        let unwanted: Vec<String> = excluded.iter().map(plain).collect();
        object.retain(|key, _| {
            let key = key.to_ascii_lowercase();
            key == "id" || key == "schemas" || !unwanted.contains(&key)
        });
    }
    Value::Object(object)
}
