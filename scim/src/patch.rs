//! SCIM PATCH (RFC 7644 §3.5.2): `add`, `remove` and `replace`
//! operations, with or without a path, applied in order to a resource's
//! SCIM representation. The caller turns the result back into a rosterdb
//! write, so every operation applies or none does.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::{self, Filter, PatchPath};
use crate::schema::{Attr, Mutability, Resource};

/// The URN of a PATCH request body.
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Remove,
    Replace,
}

/// `doc` (a resource of `resource`, as rendered) with the PatchOp `body` applied.
pub(crate) fn patched(resource: Resource, doc: Value, body: &Value) -> Result<Value, ScimError> {
    let Value::Object(mut map) = doc else {
        return Err(ScimError::new(
            500,
            None,
            "a resource rendered as a non-object",
        ));
    };
    apply(resource, &mut map, body)?;
    Ok(Value::Object(map))
}

/// Applies the PatchOp `body` to `doc`, a resource of `resource`.
pub(crate) fn apply(
    resource: Resource,
    doc: &mut Map<String, Value>,
    body: &Value,
) -> Result<(), ScimError> {
    let Value::Object(body) = body else {
        return Err(ScimError::invalid_syntax(
            "a PATCH body must be a JSON object",
        ));
    };
    let schemas = field(body, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|u| u.as_str() == Some(PATCH_SCHEMA))) {
        return Err(ScimError::invalid_syntax(format!(
            "a PATCH body's schemas must hold {PATCH_SCHEMA}"
        )));
    }
    let Some(Value::Array(operations)) = field(body, "Operations") else {
        return Err(ScimError::invalid_syntax(
            "a PATCH body needs an Operations list",
        ));
    };
    for (index, operation) in operations.iter().enumerate() {
        apply_one(resource, doc, operation).map_err(|mut e| {
            e.detail = format!("operation {index}: {}", e.detail);
            e
        })?;
    }
    Ok(())
}

/// A member of `map` by name, case-insensitively.
fn field<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn apply_one(
    resource: Resource,
    doc: &mut Map<String, Value>,
    operation: &Value,
) -> Result<(), ScimError> {
    let Value::Object(operation) = operation else {
        return Err(ScimError::invalid_syntax(
            "an operation must be a JSON object",
        ));
    };
    let op = match field(operation, "op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("add") => Op::Add,
        Some("remove") => Op::Remove,
        Some("replace") => Op::Replace,
        _ => {
            return Err(ScimError::invalid_syntax(
                "op must be add, remove or replace",
            ));
        }
    };
    let value = field(operation, "value");
    let strip = |p: &str| resource.strip_urn(p).to_owned();
    match field(operation, "path") {
        Some(Value::String(path)) => {
            let path = filter::parse_path(path, &strip)?;
            at_path(resource, doc, op, &path, value)
        }
        Some(_) => Err(ScimError::invalid_path("path must be a string")),
        None => {
            if op == Op::Remove {
                return Err(ScimError::no_target("remove needs a path"));
            }
            let Some(Value::Object(values)) = value else {
                return Err(ScimError::invalid_value(
                    "an operation without a path needs an object value",
                ));
            };
            for (key, v) in values {
                let path = filter::parse_path(key, &strip)?;
                if path.filter.is_some() {
                    return Err(ScimError::invalid_path(format!(
                        "{key:?} is not an attribute"
                    )));
                }
                at_path(resource, doc, op, &path, Some(v))?;
            }
            Ok(())
        }
    }
}

/// The attribute (and sub-attribute) a path names, checked for writing.
fn resolve(
    resource: Resource,
    path: &PatchPath,
) -> Result<(&'static Attr, Option<&'static Attr>), ScimError> {
    let attr = resource.attr(&path.attr).ok_or_else(|| {
        ScimError::invalid_path(format!(
            "{:?} is not an attribute of {}",
            path.attr,
            resource.name()
        ))
    })?;
    if attr.mutability == Mutability::ReadOnly {
        return Err(ScimError::mutability(format!("{} is read-only", attr.name)));
    }
    let sub = match &path.sub {
        None => None,
        Some(name) => {
            let sub = attr.sub_attr(name).ok_or_else(|| {
                ScimError::invalid_path(format!(
                    "{:?} is not a sub-attribute of {}",
                    name, attr.name
                ))
            })?;
            if matches!(sub.mutability, Mutability::ReadOnly | Mutability::Immutable) {
                return Err(ScimError::mutability(format!(
                    "{}.{} cannot be modified",
                    attr.name, sub.name
                )));
            }
            Some(sub)
        }
    };
    if path.filter.is_some() && !attr.multi {
        return Err(ScimError::invalid_path(format!(
            "{} is not multi-valued: it takes no value filter",
            attr.name
        )));
    }
    Ok((attr, sub))
}

fn at_path(
    resource: Resource,
    doc: &mut Map<String, Value>,
    op: Op,
    path: &PatchPath,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let (attr, sub) = resolve(resource, path)?;
    let key = attr.name;
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::invalid_value(format!(
            "{key}: add and replace need a value"
        )));
    }
    let value = value.cloned().unwrap_or(Value::Null);
    match (&path.filter, sub) {
        (None, None) => whole(doc, attr, op, value),
        (None, Some(sub)) if !attr.multi => {
            let entry = doc.entry(key).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(inner) = entry else {
                return Err(ScimError::invalid_path(format!("{key} is not complex")));
            };
            set_sub(inner, sub.name, op, value);
            Ok(())
        }
        (None, Some(sub)) => {
            let mut items = take_items(doc, key);
            if items.is_empty() && op != Op::Remove {
                items.push(Value::Object(Map::new()));
            }
            for item in items.iter_mut() {
                if let Value::Object(inner) = item {
                    set_sub(inner, sub.name, op, value.clone());
                }
            }
            items.retain(|item| item.as_object().is_none_or(|o| !o.is_empty()));
            put_items(doc, key, items);
            Ok(())
        }
        (Some(filter), sub) => filtered(doc, attr, filter, sub, op, value),
    }
}

/// An operation on a whole attribute.
fn whole(doc: &mut Map<String, Value>, attr: &Attr, op: Op, value: Value) -> Result<(), ScimError> {
    let key = attr.name;
    match op {
        Op::Remove if attr.multi && !value.is_null() => {
            let gone = as_list(value);
            let mut items = take_items(doc, key);
            items.retain(|item| !gone.iter().any(|g| same_value(g, item)));
            put_items(doc, key, items);
        }
        Op::Remove => {
            doc.remove(key);
        }
        _ if value.is_null() => {
            doc.remove(key);
        }
        Op::Add if attr.multi => {
            let mut items = take_items(doc, key);
            for new in as_list(value) {
                if !items.iter().any(|old| same_value(old, &new)) {
                    items.push(new);
                }
            }
            put_items(doc, key, items);
        }
        Op::Replace if attr.multi => {
            doc.insert(key.into(), Value::Array(as_list(value)));
        }
        _ if attr.sub.is_empty() => {
            doc.insert(key.into(), value);
        }
        _ => {
            // A single complex attribute: the given sub-attributes replace
            // theirs, the others stay (RFC 7644 §3.5.2.1, §3.5.2.3).
            let Value::Object(given) = value else {
                return Err(ScimError::invalid_value(format!("{key} takes an object")));
            };
            let entry = doc.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                for (k, v) in given {
                    inner.insert(k, v);
                }
            }
        }
    }
    tidy(doc, key);
    Ok(())
}

/// An operation on the values of a multi-valued attribute that `filter` selects.
fn filtered(
    doc: &mut Map<String, Value>,
    attr: &Attr,
    filter: &Filter,
    sub: Option<&Attr>,
    op: Op,
    value: Value,
) -> Result<(), ScimError> {
    let key = attr.name;
    let mut items = take_items(doc, key);
    let hits: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| filter::matches(filter, item))
        .map(|(i, _)| i)
        .collect();
    if hits.is_empty() {
        return Err(ScimError::no_target(format!(
            "no value of {key} matches the filter"
        )));
    }
    match (op, sub) {
        (Op::Remove, None) => {
            let mut index = 0_usize;
            items.retain(|_| {
                let keep = !hits.contains(&index);
                index = index.saturating_add(1);
                keep
            });
        }
        (_, Some(sub)) => {
            for &i in &hits {
                if let Some(Value::Object(inner)) = items.get_mut(i) {
                    set_sub(inner, sub.name, op, value.clone());
                }
            }
        }
        (Op::Replace, None) => {
            for &i in &hits {
                if let Some(item) = items.get_mut(i) {
                    *item = value.clone();
                }
            }
        }
        (Op::Add, None) => {
            let Value::Object(given) = value else {
                return Err(ScimError::invalid_value(format!(
                    "{key}[…] takes an object"
                )));
            };
            for &i in &hits {
                if let Some(Value::Object(inner)) = items.get_mut(i) {
                    for (k, v) in &given {
                        inner.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    put_items(doc, key, items);
    Ok(())
}

/// Sets or removes sub-attribute `name` of one complex value.
fn set_sub(inner: &mut Map<String, Value>, name: &str, op: Op, value: Value) {
    let existing = inner.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned();
    if let Some(existing) = existing {
        inner.remove(&existing);
    }
    if op != Op::Remove && !value.is_null() {
        inner.insert(name.into(), value);
    }
}

/// Takes the list held at `key` out of `doc` (a single value becomes a
/// list of one); [`put_items`] puts it back.
fn take_items(doc: &mut Map<String, Value>, key: &str) -> Vec<Value> {
    as_list(doc.remove(key).unwrap_or(Value::Null))
}

/// Puts a list back at `key`; an empty list leaves the attribute unassigned.
fn put_items(doc: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        doc.insert(key.into(), Value::Array(items));
    }
}

/// Drops `key` when it holds an empty list or object (an unassigned attribute).
fn tidy(doc: &mut Map<String, Value>, key: &str) {
    let empty = match doc.get(key) {
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Null) => true,
        _ => false,
    };
    if empty {
        doc.remove(key);
    }
}

fn as_list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        single => vec![single],
    }
}

/// Whether two values of a multi-valued attribute are the same: by their
/// `value` sub-attribute (case-insensitively) when both have one.
fn same_value(a: &Value, b: &Value) -> bool {
    let value = |v: &Value| {
        v.as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case("value")))
            .and_then(|(_, v)| v.as_str().map(str::to_lowercase))
    };
    match (value(a), value(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}
