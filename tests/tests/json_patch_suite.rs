//! Runs the public JSON Patch conformance suite (RFC 6902) of
//! `tests/vectors/json-patch-tests/` against `users().patch`.
//!
//! The suite patches whole documents; rosterdb patches a user, so each record
//! runs on a fresh user whose `attributes` is the record's `doc`, with every
//! `path` and `from` prefixed with `/attributes`. Records whose `doc` is not
//! an object, or whose patch targets the root (`""`), have no such mapping
//! and are counted as skipped; `disabled` records are counted apart. Every
//! other record must pass, and all failures are reported together.

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

use rosterdb::{Error, NewUser};
use rosterdb_conformance::{load_vectors, memory_store};
use serde_json::{Map, Value, json};

/// The suite's files, in `tests/vectors/json-patch-tests/`.
const FILES: [&str; 2] = ["tests.json", "spec_tests.json"];

/// How many records run, are unmappable and are disabled. Pinned so that a
/// changed file or a mapping that quietly skips more shows up.
const EXPECTED_COUNTS: Counts = Counts {
    ran: 70,
    unmappable: 38,
    disabled: 4,
};

#[derive(Debug, Default, PartialEq)]
struct Counts {
    ran: usize,
    unmappable: usize,
    disabled: usize,
}

#[test]
fn json_patch_suite() {
    let mut counts = Counts::default();
    let mut failures = Vec::new();
    for file in FILES {
        let records = load_vectors(&format!("json-patch-tests/{file}"));
        let records = records
            .as_array()
            .unwrap_or_else(|| panic!("{file} is not a JSON array"));
        for (i, record) in records.iter().enumerate() {
            let label = match record["comment"].as_str() {
                Some(comment) => format!("{file} #{i} ({comment})"),
                None => format!("{file} #{i}"),
            };
            if record["disabled"] == json!(true) {
                counts.disabled += 1;
                continue;
            }
            let Some((attributes, ops)) = mapped(record) else {
                counts.unmappable += 1;
                continue;
            };
            counts.ran += 1;
            if let Err(problem) = run(record, attributes, &ops) {
                failures.push(format!("{label}: {problem}\n    record: {record}"));
            }
        }
    }
    eprintln!(
        "json-patch suite: {} ran, {} skipped as unmappable, {} disabled",
        counts.ran, counts.unmappable, counts.disabled
    );
    assert!(
        failures.is_empty(),
        "{} of {} mappable json-patch records failed:\n  {}",
        failures.len(),
        counts.ran,
        failures.join("\n  ")
    );
    assert_eq!(counts, EXPECTED_COUNTS);
}

/// The record as `attributes` and a patch on them; `None` when it does not
/// map onto a document field.
fn mapped(record: &Value) -> Option<(Map<String, Value>, Value)> {
    let Value::Object(attributes) = &record["doc"] else {
        return None;
    };
    let mut ops = record["patch"].clone();
    for op in ops.as_array_mut().into_iter().flatten() {
        let Value::Object(op) = op else { continue };
        for key in ["path", "from"] {
            match op.get_mut(key) {
                Some(Value::String(pointer)) if pointer.is_empty() => return None,
                // A pointer gets the prefix; anything else is left as is so
                // that a malformed op stays malformed.
                Some(Value::String(pointer)) if pointer.starts_with('/') => {
                    pointer.insert_str(0, "/attributes");
                }
                _ => {}
            }
        }
    }
    Some((attributes.clone(), ops))
}

/// Creates the user, applies the patch and checks the outcome.
fn run(record: &Value, attributes: Map<String, Value>, ops: &Value) -> Result<(), String> {
    let store = memory_store();
    let doc = json!({
        "username": "alice",
        "email": "alice@example.com",
        "firstName": "Alice",
        "lastName": "Liddell",
        "attributes": attributes,
    });
    let created = NewUser::from_json(&doc)
        .and_then(|new| store.users().create(new))
        .map_err(|e| format!("the user cannot be created: {e:?}"))?;
    let outcome = store.users().patch(created.id, ops, None);
    let stored = store
        .users()
        .get(created.id)
        .map_err(|e| format!("the user cannot be read back: {e:?}"))?;
    match (record.get("error"), outcome) {
        (None, Ok(user)) => {
            if stored != user {
                return Err("the returned user differs from the stored one".into());
            }
            let Some(expected) = record.get("expected") else {
                return Ok(());
            };
            let actual = Value::Object(user.attributes.into());
            if actual != *expected {
                return Err(format!("expected attributes {expected}, got {actual}"));
            }
            // docs/reference/updates.md: an update that changes nothing is not a write.
            let version = if *expected == Value::Object(created.attributes.into()) {
                1
            } else {
                2
            };
            if user.version != version {
                return Err(format!("expected version {version}, got {}", user.version));
            }
            Ok(())
        }
        (None, Err(e)) => Err(format!("expected success, got {e:?}")),
        (Some(why), Ok(user)) => Err(format!(
            "expected an error ({why}), but it succeeded with attributes {}",
            Value::Object(user.attributes.into())
        )),
        (Some(_), Err(e)) if refused(&e) => {
            if stored == created {
                Ok(())
            } else {
                Err(format!("{e:?}, but the user changed"))
            }
        }
        (Some(why), Err(e)) => Err(format!(
            "expected InvalidPatch ({why}) or a Validation error on attributes, got {e:?}"
        )),
    }
}

/// Whether `e` is how a patch the suite rejects may fail: a bad patch, or a
/// result that breaks the rules for `attributes`.
fn refused(e: &Error) -> bool {
    match e {
        Error::InvalidPatch { .. } => true,
        Error::Validation { errors } => errors.iter().all(|fe| fe.field == "attributes"),
        _ => false,
    }
}
