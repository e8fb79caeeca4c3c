//! Shared helpers for the rosterdb conformance tests.
//!
//! The language-neutral test vectors live in `tests/vectors/*.json` (see
//! `tests/vectors/README.md`); the Rust, Python and Kotlin suites all run them.

use std::path::PathBuf;

use rosterdb::{Argon2Params, NewClient, NewRole, NewUser, Options, Store};

/// Argon2id parameters that make hashing cheap, for tests only.
pub const CHEAP_ARGON2: Argon2Params = Argon2Params {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

/// The path of the vector file `name` (e.g. `"validation.json"`) in `tests/vectors/`.
pub fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(name)
}

/// Reads and parses the vector file `name` in `tests/vectors/`.
///
/// # Panics
///
/// When the file cannot be read or is not valid JSON, naming the file.
#[allow(
    clippy::panic,
    reason = "a test helper: a missing vector file fails the test"
)]
pub fn load_vectors(name: &str) -> serde_json::Value {
    let path = vector_path(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

/// A fresh, empty in-memory store with [`CHEAP_ARGON2`] hashing.
///
/// # Panics
///
/// When the store cannot be opened.
#[allow(clippy::expect_used, reason = "a test helper: no store, no test")]
pub fn memory_store() -> Store {
    Store::memory_with(Options::default().with_argon2(CHEAP_ARGON2))
        .expect("an in-memory store opens")
}

/// Reads `doc` as a new record of `entity` (`"user"`, `"role"` or
/// `"client"`), creates it in `store` and returns the created document (for
/// a client, the client without its one-time secret).
///
/// # Errors
///
/// `InvalidArgument` on `entity` when it is not one of the three kinds;
/// otherwise what reading or creating the record raises.
///
/// # Panics
///
/// When a created record does not serialize.
#[allow(
    clippy::expect_used,
    reason = "a test helper: a record that does not serialize is a bug"
)]
pub fn create_document(
    store: &Store,
    entity: &str,
    doc: &serde_json::Value,
) -> rosterdb::Result<serde_json::Value> {
    let document = match entity {
        "user" => serde_json::to_value(store.users().create(NewUser::from_json(doc)?)?),
        "role" => serde_json::to_value(store.roles().create(NewRole::from_json(doc)?)?),
        "client" => {
            serde_json::to_value(store.clients().create(NewClient::from_json(doc)?)?.client)
        }
        other => {
            return Err(rosterdb::Error::argument(
                "entity",
                format!("must be user, role or client, not {other:?}"),
            ));
        }
    };
    Ok(document.expect("a created record serializes"))
}

/// Runs every case of the vector file `name`: a JSON object with a non-empty
/// `description` and a `cases` array of more than `min_cases` cases, each
/// with a unique `name`. `run` checks one case; all failures are reported
/// together, each with its case's name.
///
/// # Panics
///
/// When the file is malformed or has too few cases, or any case fails.
#[allow(
    clippy::panic,
    reason = "a test runner: a malformed vector file fails the test"
)]
pub fn run_cases(
    name: &str,
    min_cases: usize,
    mut run: impl FnMut(&serde_json::Value) -> Result<(), String>,
) {
    let vectors = load_vectors(name);
    assert!(
        vectors
            .get("description")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|d| !d.is_empty()),
        "{name} needs a non-empty \"description\""
    );
    let cases = vectors
        .get("cases")
        .and_then(serde_json::Value::as_array)
        .unwrap_or_else(|| panic!("{name} needs a \"cases\" array"));
    assert!(
        cases.len() > min_cases,
        "{name} has only {} cases",
        cases.len()
    );
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let label = case
            .get("name")
            .and_then(serde_json::Value::as_str)
            .map_or_else(|| format!("case #{i}"), str::to_owned);
        if !names.insert(label.clone()) {
            failures.push(format!("{label}: duplicate case name"));
        }
        if let Err(problem) = run(case) {
            failures.push(format!("{label}: {problem}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases of {name} failed:\n  {}",
        failures.len(),
        cases.len(),
        failures.join("\n  ")
    );
}

/// One case of a vector file: the JSON object `case`, every key of which is
/// one of `keys`, with a string `name`, and its `entity`.
///
/// # Errors
///
/// A message saying what is wrong: not an object, an unknown key, a `name`
/// that is not a string, or what [`entity_of`] finds.
pub fn case_object<'a>(
    case: &'a serde_json::Value,
    keys: &[&str],
) -> Result<(&'a serde_json::Map<String, serde_json::Value>, &'a str), String> {
    let object = case.as_object().ok_or("a case must be a JSON object")?;
    if let Some(key) = object.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(format!("unknown case key {key:?}"));
    }
    if !object.get("name").is_some_and(serde_json::Value::is_string) {
        return Err("\"name\" must be a string".into());
    }
    Ok((object, entity_of(object.get("entity"))?))
}

/// The kind a case's (or a record's) `entity` names: `"user"`, `"role"` or
/// `"client"`.
///
/// # Errors
///
/// A message when it is absent or another value.
pub fn entity_of(value: Option<&serde_json::Value>) -> Result<&str, String> {
    match value.and_then(serde_json::Value::as_str) {
        Some(e @ ("user" | "role" | "client")) => Ok(e),
        _ => Err("\"entity\" must be \"user\", \"role\" or \"client\"".into()),
    }
}
