//! Runs the document-validation vectors of `tests/vectors/validation.json`.
//!
//! Each case is read with `from_json` and, when that succeeds, created in a
//! fresh in-memory store. Each is also read with `validated_from_json`,
//! which consumes its document, in the whole store and in a view's scope:
//! the same input or the same error as `from_json_in`. Every case runs;
//! all failures are reported together.

// A test fails by panicking: unwraps, indexing and arithmetic on small
// known values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

use std::collections::BTreeSet;

use rosterdb::{Error, NewClient, NewRole, NewUser};
use rosterdb_conformance::{case_object, memory_store, run_cases};
use serde_json::{Map, Value};

/// Keys a case object may have.
const CASE_KEYS: [&str; 5] = ["name", "entity", "doc", "valid", "errorFields"];

/// Fewer cases than this means the file was emptied or truncated by accident.
const MIN_CASES: usize = 80;

#[test]
fn validation_vectors() {
    run_cases("validation.json", MIN_CASES, run_case);
}

/// What a case expects.
enum Expected {
    Valid,
    Invalid(BTreeSet<String>),
}

/// Checks the case's own shape, runs it, and compares the outcome.
fn run_case(case: &Value) -> Result<(), String> {
    let (entity, doc, expected) = parse_case(case)?;
    for scope in [None, Some("acme")] {
        owned_read_agrees(entity, doc, scope)?;
    }
    match (create(entity, doc)?, expected) {
        (Ok(created), Expected::Valid) => round_trip(entity, doc, &created),
        (Err(e), Expected::Valid) => Err(format!("expected valid, got {}", describe(&e))),
        (Ok(_), Expected::Invalid(fields)) => Err(format!(
            "expected errors on {fields:?}, but it was accepted"
        )),
        (Err(Error::Validation { errors }), Expected::Invalid(fields)) => {
            let actual: BTreeSet<String> = errors.iter().map(|e| e.field.clone()).collect();
            if actual == fields {
                Ok(())
            } else {
                Err(format!(
                    "expected errors on {fields:?}, got {}",
                    describe(&Error::Validation { errors })
                ))
            }
        }
        (Err(e), Expected::Invalid(fields)) => Err(format!(
            "expected a Validation error on {fields:?}, got {}",
            describe(&e)
        )),
    }
}

fn parse_case(case: &Value) -> Result<(&str, &Value, Expected), String> {
    let (object, entity) = case_object(case, &CASE_KEYS)?;
    let doc = object.get("doc").ok_or("\"doc\" is missing")?;
    let valid = object
        .get("valid")
        .and_then(Value::as_bool)
        .ok_or("\"valid\" must be a boolean")?;
    let expected = match (valid, object.get("errorFields")) {
        (true, None) => {
            // Each case has a fresh store, so no role exists to refer to.
            match doc.get("roles") {
                None => Expected::Valid,
                Some(Value::Array(roles)) if roles.is_empty() => Expected::Valid,
                Some(_) => return Err("a valid case cannot name roles (the store is empty)".into()),
            }
        }
        (true, Some(_)) => return Err("a valid case has no \"errorFields\"".into()),
        (false, Some(Value::Array(fields))) if !fields.is_empty() => {
            let names: Option<Vec<String>> = fields
                .iter()
                .map(|f| f.as_str().map(str::to_owned))
                .collect();
            let names = names.ok_or("\"errorFields\" must hold strings")?;
            let set: BTreeSet<String> = names.iter().cloned().collect();
            if set.len() != names.len() {
                return Err("\"errorFields\" lists a field twice".into());
            }
            Expected::Invalid(set)
        }
        (false, _) => {
            return Err("an invalid case needs a non-empty \"errorFields\" list".into());
        }
    };
    Ok((entity, doc, expected))
}

/// Reads `doc` as a new `entity` in `scope` both ways, borrowed
/// (`from_json_in`) and consumed (`validated_from_json`), and compares the
/// outcomes: the same input, or the same error with the same fields,
/// codes and messages in the same order.
fn owned_read_agrees(entity: &str, doc: &Value, scope: Option<&str>) -> Result<(), String> {
    fn same<N: PartialEq + std::fmt::Debug>(
        borrowed: rosterdb::Result<N>,
        owned: rosterdb::Result<rosterdb::Validated<N>>,
    ) -> Result<(), String> {
        let owned = owned.map(rosterdb::Validated::into_input);
        if borrowed == owned {
            Ok(())
        } else {
            Err(format!(
                "read borrowed: {borrowed:?}; read from the owned document: {owned:?}"
            ))
        }
    }
    let owned = doc.clone();
    match entity {
        "user" => same(
            NewUser::from_json_in(doc, scope),
            NewUser::validated_from_json(owned, scope),
        ),
        "role" => same(
            NewRole::from_json_in(doc, scope),
            NewRole::validated_from_json(owned, scope),
        ),
        "client" => same(
            NewClient::from_json_in(doc, scope),
            NewClient::validated_from_json(owned, scope),
        ),
        other => Err(format!("unknown entity {other:?}")),
    }
    .map_err(|e| format!("in scope {scope:?}: {e}"))
}

/// Reads `doc` as a new `entity` and creates it in a fresh store, returning
/// the created document or the first error.
fn create(entity: &str, doc: &Value) -> Result<Result<Value, Error>, String> {
    let store = memory_store();
    let outcome = match entity {
        "user" => NewUser::from_json(doc)
            .and_then(|new| store.users().create(new))
            .map(|user| serde_json::to_value(&user)),
        "role" => NewRole::from_json(doc)
            .and_then(|new| store.roles().create(new))
            .map(|role| serde_json::to_value(&role)),
        "client" => NewClient::from_json(doc)
            .and_then(|new| store.clients().create(new))
            .map(|created| serde_json::to_value(&created.client)),
        other => return Err(format!("unknown entity {other:?}")),
    };
    match outcome {
        Ok(Ok(value)) => Ok(Ok(value)),
        Ok(Err(e)) => Err(format!("the created document does not serialize: {e}")),
        Err(e) => Ok(Err(e)),
    }
}

/// Checks that every field sent comes back in the created document.
///
/// Write-only fields are not returned, `null` means absent, and `roles` and
/// `permissions` come back sorted and deduplicated.
fn round_trip(entity: &str, sent: &Value, created: &Value) -> Result<(), String> {
    let (Some(sent), Some(created)) = (sent.as_object(), created.as_object()) else {
        return Err(format!("the created document is not an object: {created}"));
    };
    let mut problems = Vec::new();
    for (key, value) in sent {
        if value.is_null() || matches!(key.as_str(), "password" | "passwordHash") {
            continue;
        }
        let expected = match key.as_str() {
            "roles" | "permissions" => sorted_set(value),
            _ => value.clone(),
        };
        match created.get(key) {
            Some(actual) if *actual == expected => {}
            Some(actual) => problems.push(format!("{key} sent {value}, came back {actual}")),
            None => problems.push(format!("{key} sent {value}, missing in the result")),
        }
    }
    if entity == "user" {
        problems.extend(expect_field(
            created,
            "hasPassword",
            &Value::Bool(has_non_null(sent, "password") || has_non_null(sent, "passwordHash")),
        ));
    }
    problems.extend(expect_field(created, "version", &Value::from(1)));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("created, but {}", problems.join("; ")))
    }
}

fn expect_field(created: &Map<String, Value>, key: &str, expected: &Value) -> Option<String> {
    match created.get(key) {
        Some(actual) if actual == expected => None,
        other => Some(format!("{key} should be {expected}, is {other:?}")),
    }
}

fn has_non_null(doc: &Map<String, Value>, key: &str) -> bool {
    doc.get(key).is_some_and(|v| !v.is_null())
}

/// A list of ids or strings, sorted and deduplicated as the store keeps it.
fn sorted_set(list: &Value) -> Value {
    let Some(items) = list.as_array() else {
        return list.clone();
    };
    if let Some(mut ids) = items.iter().map(Value::as_u64).collect::<Option<Vec<_>>>() {
        ids.sort_unstable();
        ids.dedup();
        return Value::from(ids);
    }
    if let Some(mut strings) = items.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
        strings.sort_unstable();
        strings.dedup();
        return Value::from(strings);
    }
    list.clone()
}

/// An error with its kind and, for validation, every field and message.
fn describe(e: &Error) -> String {
    match e {
        Error::Validation { errors } => {
            let list: Vec<String> = errors
                .iter()
                .map(|fe| format!("{:?}: {}", fe.field, fe.message))
                .collect();
            format!("Validation [{}]", list.join(", "))
        }
        other => format!("{other:?}"),
    }
}
