//! SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's SCIM document:
//! `add`, `replace` and `remove` on a path (`attr`, `attr.sub`,
//! `attr[sub eq value]`, `attr[sub eq value].sub`, any of them with the
//! schema URN) or, for `add` and `replace`, with no path and an object of
//! attributes. The result is written as a replace of the whole resource,
//! at the version the patch started from, so a patch applies whole or
//! not at all.

use serde_json::{Map, Value};

use super::discovery::USER_SCHEMA;
use super::error::ScimError;

/// The schema of a PATCH request.
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A parsed path.
struct Target {
    /// The attribute (as the resource spells it, or as the path does when absent).
    attr: String,
    /// A value filter on a multi-valued attribute: (sub-attribute, value).
    filter: Option<(String, Value)>,
    /// A sub-attribute.
    sub: Option<String>,
}

/// Applies the PATCH request `request` to `resource`.
pub(crate) fn apply(resource: &mut Value, request: &Value) -> Result<(), ScimError> {
    let Some(request) = request.as_object() else {
        return Err(ScimError::new(
            axum::http::StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "a PATCH body must be a PatchOp object",
        ));
    };
    let schemas_ok = request
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|v| v.as_str() == Some(PATCH_OP)));
    if !schemas_ok {
        return Err(ScimError::new(
            axum::http::StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            format!("schemas must hold {PATCH_OP}"),
        ));
    }
    let Some(operations) = request
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        .and_then(|(_, v)| v.as_array())
    else {
        return Err(ScimError::new(
            axum::http::StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "Operations must be a list",
        ));
    };
    let Some(object) = resource.as_object_mut() else {
        return Err(ScimError::invalid_value("the resource is not an object"));
    };
    for (index, operation) in operations.iter().enumerate() {
        apply_one(object, operation).map_err(|e| e.at_operation(index))?;
    }
    Ok(())
}

/// One operation.
fn apply_one(object: &mut Map<String, Value>, operation: &Value) -> Result<(), ScimError> {
    let get = |name: &str| {
        operation.as_object().and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    };
    let op = get("op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let path = match get("path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(parse_path(p)?),
        Some(_) => return Err(ScimError::invalid_path("path must be a string")),
    };
    let value = get("value").cloned();
    match (op.as_deref(), path, value) {
        (Some("add" | "replace"), None, Some(Value::Object(values))) => {
            let add = op.as_deref() == Some("add");
            for (name, value) in values {
                let target = parse_path(&name)?;
                set(object, target, value, add)?;
            }
            Ok(())
        }
        (Some("add" | "replace"), None, _) => Err(ScimError::invalid_value(
            "without a path, value must be an object of attributes",
        )),
        (Some(op @ ("add" | "replace")), Some(target), Some(value)) => {
            set(object, target, value, op == "add")
        }
        (Some("add" | "replace"), Some(_), None) => {
            Err(ScimError::invalid_value("the operation needs a value"))
        }
        (Some("remove"), Some(target), _) => remove(object, target),
        (Some("remove"), None, _) => Err(ScimError::new(
            axum::http::StatusCode::BAD_REQUEST,
            Some("noTarget"),
            "remove needs a path",
        )),
        _ => Err(ScimError::new(
            axum::http::StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
            "op must be add, replace or remove",
        )),
    }
}

/// Reads `attr`, `attr.sub`, `attr[sub eq value]` or `attr[sub eq value].sub`.
fn parse_path(path: &str) -> Result<Target, ScimError> {
    let bare = path
        .strip_prefix(USER_SCHEMA)
        .and_then(|p| p.strip_prefix(':'))
        .unwrap_or(path);
    let bad = || ScimError::invalid_path(format!("cannot read the path {path:?}"));
    let (head, filter, rest) = match bare.split_once('[') {
        Some((head, tail)) => {
            let (inside, rest) = tail.split_once(']').ok_or_else(bad)?;
            let mut words = inside.splitn(3, ' ');
            let (sub, op, value) = (
                words.next().ok_or_else(bad)?,
                words.next().ok_or_else(bad)?,
                words.next().ok_or_else(bad)?,
            );
            if !op.eq_ignore_ascii_case("eq") {
                return Err(ScimError::invalid_path(
                    "a value filter in a path may only use eq",
                ));
            }
            let value: Value = serde_json::from_str(value.trim()).map_err(|_| bad())?;
            (head, Some((sub.to_owned(), value)), rest.strip_prefix('.'))
        }
        None => match bare.split_once('.') {
            Some((head, sub)) => (head, None, Some(sub)),
            None => (bare, None, None),
        },
    };
    if head.is_empty() || head.contains(' ') {
        return Err(bad());
    }
    Ok(Target {
        attr: head.to_owned(),
        filter,
        sub: rest.map(str::to_owned),
    })
}

/// The key of `object` that spells `name` in any case.
fn key_of(object: &Map<String, Value>, name: &str) -> String {
    object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_owned())
}

/// Whether the entry `entry` of a multi-valued attribute matches `filter`.
fn matches(entry: &Value, (sub, value): &(String, Value)) -> bool {
    entry.as_object().is_some_and(|o| {
        o.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case(sub)
                && match (v, value) {
                    (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
                    (a, b) => a == b,
                }
        })
    })
}

/// `add` (`add` true) or `replace` of `value` at `target`.
fn set(
    object: &mut Map<String, Value>,
    target: Target,
    value: Value,
    add: bool,
) -> Result<(), ScimError> {
    let key = key_of(object, &target.attr);
    match (target.filter, target.sub) {
        (None, None) => {
            match (object.get_mut(&key), value) {
                (Some(Value::Array(list)), Value::Array(more)) if add => list.extend(more),
                (Some(Value::Object(old)), Value::Object(new)) => {
                    for (k, v) in new {
                        let k = key_of(old, &k);
                        old.insert(k, v);
                    }
                }
                (_, value) => {
                    object.insert(key, value);
                }
            }
            Ok(())
        }
        (None, Some(sub)) => {
            let inner = object
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            let Some(inner) = inner.as_object_mut() else {
                return Err(ScimError::invalid_path(format!(
                    "{} has no sub-attributes",
                    target.attr
                )));
            };
            let sub_key = key_of(inner, &sub);
            inner.insert(sub_key, value);
            Ok(())
        }
        (Some(filter), sub) => {
            let Some(Value::Array(list)) = object.get_mut(&key) else {
                return Err(ScimError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    Some("noTarget"),
                    format!("{} has no entries", target.attr),
                ));
            };
            let mut found = false;
            for entry in list.iter_mut().filter(|e| matches(e, &filter)) {
                found = true;
                match (&sub, entry.as_object_mut()) {
                    (Some(sub), Some(fields)) => {
                        let sub_key = key_of(fields, sub);
                        fields.insert(sub_key, value.clone());
                    }
                    _ => *entry = value.clone(),
                }
            }
            if found {
                Ok(())
            } else {
                Err(ScimError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    Some("noTarget"),
                    "no entry matches the path's filter",
                ))
            }
        }
    }
}

/// `remove` at `target`.
fn remove(object: &mut Map<String, Value>, target: Target) -> Result<(), ScimError> {
    let key = key_of(object, &target.attr);
    match (target.filter, target.sub) {
        (None, None) => {
            object.remove(&key);
        }
        (None, Some(sub)) => {
            if let Some(Value::Object(inner)) = object.get_mut(&key) {
                let sub_key = key_of(inner, &sub);
                inner.remove(&sub_key);
            }
        }
        (Some(filter), None) => {
            if let Some(Value::Array(list)) = object.get_mut(&key) {
                list.retain(|e| !matches(e, &filter));
            }
        }
        (Some(filter), Some(sub)) => {
            if let Some(Value::Array(list)) = object.get_mut(&key) {
                for fields in list
                    .iter_mut()
                    .filter(|e| matches(e, &filter))
                    .filter_map(Value::as_object_mut)
                {
                    let sub_key = key_of(fields, &sub);
                    fields.remove(&sub_key);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patched(ops: Value) -> Result<Value, ScimError> {
        let mut user = json!({"userName": "a", "name": {"givenName": "A", "familyName": "B"},
                              "emails": [{"value": "a@x.io", "primary": true}], "nickName": "n"});
        // (Input may carry `primary`; the server's documents do not.)
        apply(
            &mut user,
            &json!({"schemas": [PATCH_OP], "Operations": ops}),
        )?;
        Ok(user)
    }

    #[test]
    fn paths_values_and_filters() {
        let user = patched(json!([
            {"op": "Replace", "path": "name.givenName", "value": "Z"},
            {"op": "remove", "path": "nickName"},
            {"op": "replace", "path": "emails[primary eq true].value", "value": "z@x.io"},
            {"op": "add", "value": {"active": false, "name": {"familyName": "Y"}}},
        ]))
        .unwrap();
        assert_eq!(
            user,
            json!({"userName": "a", "name": {"givenName": "Z", "familyName": "Y"},
                   "emails": [{"value": "z@x.io", "primary": true}], "active": false})
        );
    }

    #[test]
    fn bad_operations_are_refused() {
        for ops in [
            json!([{"op": "move", "path": "a"}]),
            json!([{"op": "remove"}]),
            json!([{"op": "add", "path": "emails[type eq \"work\"].value", "value": "x"}]),
            json!([{"op": "replace", "value": 3}]),
            json!([{"op": "add", "path": "a[b", "value": 1}]),
        ] {
            assert!(patched(ops.clone()).is_err(), "{ops}");
        }
    }
}
