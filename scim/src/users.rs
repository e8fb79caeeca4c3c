//! SCIM Users ↔ rosterdb users: the resource a user is served as, and the
//! rosterdb document a SCIM User (POST, PUT, or the result of a PATCH)
//! writes.

use serde_json::{Map, Value, json};

use crate::error::ScimError;
use crate::resource::{Fields, meta, text};
use crate::schema::{Resource, USER_SCHEMA};

/// The `externalIds` type under which a User's SCIM `externalId` is kept.
pub const EXTERNAL_ID_TYPE: &str = "scim";

/// The SCIM User of `user`; `role_name` names the roles it holds (`None`
/// for a role the view cannot see, which is then left out).
pub(crate) fn to_scim(
    user: &rosterdb::User,
    role_name: &mut dyn FnMut(u64) -> Option<String>,
    base_url: &str,
) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([USER_SCHEMA]));
    out.insert("id".into(), Value::String(user.id.to_string()));
    if let Some(external) = user
        .external_ids
        .iter()
        .find(|e| e.kind == EXTERNAL_ID_TYPE)
    {
        out.insert("externalId".into(), Value::String(external.value.clone()));
    }
    out.insert("userName".into(), Value::String(user.username.clone()));
    out.insert(
        "name".into(),
        json!({"givenName": user.first_name, "familyName": user.last_name}),
    );
    if let Some(nickname) = &user.nickname {
        out.insert("displayName".into(), Value::String(nickname.clone()));
    }
    out.insert(
        "emails".into(),
        json!([{"value": user.email, "type": "work"}]),
    );
    let mut phones = Vec::new();
    if let Some(number) = &user.telephone_number {
        phones.push(json!({"value": number, "type": "work"}));
    }
    if let Some(number) = &user.mobile_number {
        phones.push(json!({"value": number, "type": "mobile"}));
    }
    if !phones.is_empty() {
        out.insert("phoneNumbers".into(), Value::Array(phones));
    }
    out.insert("active".into(), Value::Bool(user.enabled));
    let groups: Vec<Value> = user
        .roles
        .iter()
        .filter_map(|&id| {
            role_name(id).map(|name| {
                json!({"value": id.to_string(), "$ref": format!("{base_url}/Groups/{id}"), "display": name})
            })
        })
        .collect();
    if !groups.is_empty() {
        out.insert("groups".into(), Value::Array(groups));
    }
    out.insert(
        "meta".into(),
        meta(
            Resource::User,
            user.id,
            &user.version.to_string(),
            &user.created_at,
            &user.updated_at,
            base_url,
        ),
    );
    Value::Object(out)
}

/// The rosterdb document a SCIM User writes. For a PUT or PATCH,
/// `current` is the stored user: what SCIM does not carry (roles, custom
/// attributes, external ids of other systems) is kept from it.
pub(crate) fn from_scim(
    scim: &Value,
    current: Option<&rosterdb::User>,
) -> Result<Value, ScimError> {
    let fields = Fields::read(scim, Resource::User)?;
    let mut doc = Map::new();
    if let Some(v) = fields.get("userName") {
        doc.insert("username".into(), Value::String(text(v, "userName")?));
    }
    if let Some(name) = fields.get("name") {
        read_name(name, &mut doc)?;
    }
    if let Some(v) = fields.get("displayName").filter(|v| !v.is_null()) {
        doc.insert("nickname".into(), Value::String(text(v, "displayName")?));
    }
    if let Some(emails) = fields.get("emails")
        && let Some(email) = one_email(emails)?
    {
        doc.insert("email".into(), Value::String(email));
    }
    if let Some(phones) = fields.get("phoneNumbers") {
        read_phones(phones, &mut doc)?;
    }
    let enabled = match fields.get("active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        // Some provisioning clients (Entra ID) send booleans as strings.
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(ScimError::invalid_value("active must be true or false")),
    };
    doc.insert("enabled".into(), Value::Bool(enabled));
    if let Some(v) = fields.get("password").filter(|v| !v.is_null()) {
        match v {
            Value::String(_) => doc.insert("password".into(), v.clone()),
            _ => return Err(ScimError::invalid_value("password must be a string")),
        };
    }
    let mut external_ids: Vec<Value> = current
        .map(|u| {
            u.external_ids
                .iter()
                .filter(|e| e.kind != EXTERNAL_ID_TYPE)
                .map(|e| json!({"type": e.kind, "value": e.value}))
                .collect()
        })
        .unwrap_or_default();
    if let Some(v) = fields.get("externalId").filter(|v| !v.is_null()) {
        external_ids.push(json!({"type": EXTERNAL_ID_TYPE, "value": text(v, "externalId")?}));
    }
    doc.insert("externalIds".into(), Value::Array(external_ids));
    if let Some(user) = current {
        doc.insert("roles".into(), json!(user.roles));
        doc.insert(
            "attributes".into(),
            Value::Object(user.attributes.clone().into_map()),
        );
    }
    Ok(Value::Object(doc))
}

/// `name`'s givenName and familyName into `firstName` and `lastName`.
fn read_name(name: &Value, doc: &mut Map<String, Value>) -> Result<(), ScimError> {
    let Value::Object(map) = name else {
        return Err(ScimError::invalid_value("name must be an object"));
    };
    for (key, value) in map {
        let field = if key.eq_ignore_ascii_case("givenName") {
            "firstName"
        } else if key.eq_ignore_ascii_case("familyName") {
            "lastName"
        } else {
            return Err(ScimError::invalid_value(format!(
                "name.{key} is not an attribute rosterdb keeps (givenName, familyName)"
            )));
        };
        if !value.is_null() {
            doc.insert(
                field.into(),
                Value::String(text(value, &format!("name.{key}"))?),
            );
        }
    }
    Ok(())
}

/// The one address of `emails` (rosterdb keeps one per user): `None` for
/// an empty list, `invalidValue` for several different addresses.
fn one_email(emails: &Value) -> Result<Option<String>, ScimError> {
    let items = match emails {
        Value::Null => return Ok(None),
        Value::Array(items) => items,
        _ => return Err(ScimError::invalid_value("emails must be a list")),
    };
    let mut found: Option<String> = None;
    for item in items {
        let value = element_value(item, "emails", &["value", "type", "primary"])?;
        let kind = item
            .as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case("type")))
            .map(|(_, v)| v);
        if kind.is_some_and(|k| !k.as_str().is_some_and(|k| k.eq_ignore_ascii_case("work"))) {
            return Err(ScimError::invalid_value(
                "emails.type must be work: rosterdb keeps one (work) address per user",
            ));
        }
        match &found {
            Some(seen) if !seen.eq_ignore_ascii_case(&value) => {
                return Err(ScimError::invalid_value(
                    "emails: rosterdb keeps one email address per user; send one",
                ));
            }
            _ => found = Some(value),
        }
    }
    Ok(found)
}

/// `phoneNumbers` into `telephoneNumber` (type work, the default) and
/// `mobileNumber` (type mobile).
fn read_phones(phones: &Value, doc: &mut Map<String, Value>) -> Result<(), ScimError> {
    let items = match phones {
        Value::Null => return Ok(()),
        Value::Array(items) => items,
        _ => return Err(ScimError::invalid_value("phoneNumbers must be a list")),
    };
    for item in items {
        let value = element_value(item, "phoneNumbers", &["value", "type", "primary"])?;
        let kind = item
            .as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case("type")))
            .map(|(_, v)| v.as_str().unwrap_or("").to_ascii_lowercase());
        let field = match kind.as_deref() {
            None | Some("work") => "telephoneNumber",
            Some("mobile") => "mobileNumber",
            Some(_) => {
                return Err(ScimError::invalid_value(
                    "phoneNumbers.type must be work or mobile (the numbers rosterdb keeps)",
                ));
            }
        };
        if doc.insert(field.into(), Value::String(value)).is_some() {
            return Err(ScimError::invalid_value(
                "phoneNumbers: rosterdb keeps one number of each type (work, mobile)",
            ));
        }
    }
    Ok(())
}

/// The `value` of one element of a multi-valued attribute, whose other
/// sub-attributes must be among `allowed`.
pub(crate) fn element_value(
    item: &Value,
    attr: &str,
    allowed: &[&str],
) -> Result<String, ScimError> {
    let Value::Object(map) = item else {
        return Err(ScimError::invalid_value(format!(
            "{attr} items must be objects"
        )));
    };
    let mut value = None;
    for (key, v) in map {
        if !allowed.iter().any(|a| a.eq_ignore_ascii_case(key)) {
            return Err(ScimError::invalid_value(format!(
                "{attr}.{key} is not an attribute rosterdb keeps"
            )));
        }
        if key.eq_ignore_ascii_case("value") {
            value = Some(text(v, &format!("{attr}.value"))?);
        }
    }
    value.ok_or_else(|| ScimError::invalid_value(format!("{attr} items need a value")))
}
