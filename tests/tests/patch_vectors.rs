//! Runs the update vectors of `tests/vectors/patches.json`: patch, merge and
//! replace on users, roles and clients (docs/reference/updates.md).
//!
//! Each case runs on a fresh in-memory store: its `before` records are
//! created, then `doc`, then the update is applied. Every case runs; all
//! failures are reported together.

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

use rosterdb::{Collection, Editable, Error, Store};
use rosterdb_conformance::{case_object, create_document, entity_of, memory_store, run_cases};
use serde_json::{Map, Value};

/// Keys a case object may have.
const CASE_KEYS: [&str; 14] = [
    "name",
    "entity",
    "before",
    "id",
    "doc",
    "ops",
    "merge",
    "replace",
    "expectedVersion",
    "result",
    "error",
    "opIndex",
    "errorFields",
    "field",
];

/// Fields no update changes.
const KEPT: [&str; 3] = ["id", "createdAt", "clientId"];

/// Fewer cases than this means the file was emptied or truncated by accident.
const MIN_CASES: usize = 100;

#[test]
fn patch_vectors() {
    run_cases("patches.json", MIN_CASES, |case| {
        parse_case(case).and_then(|c| run_case(&c))
    });
}

/// One case, read.
struct Case<'a> {
    entity: &'a str,
    before: Vec<(&'a str, &'a Value)>,
    id: Option<u64>,
    doc: &'a Value,
    update: Update<'a>,
    expected_version: Option<u64>,
    expect: Expect,
}

/// The update a case applies.
#[derive(Clone, Copy)]
enum Update<'a> {
    Patch(&'a Value),
    Merge(&'a Value),
    Replace(&'a Value),
}

/// What a case expects.
#[derive(Debug)]
enum Expect {
    /// Success; these fields of the returned document (`null`: absent).
    Result(Map<String, Value>),
    InvalidPatch(u64),
    Validation(BTreeSet<String>),
    Conflict(String),
    VersionConflict,
    NotFound,
}

fn parse_case(case: &Value) -> Result<Case<'_>, String> {
    let (object, entity) = case_object(case, &CASE_KEYS)?;
    let before = match object.get("before") {
        None => Vec::new(),
        Some(Value::Array(records)) => records
            .iter()
            .map(|r| Ok((entity_of(r.get("entity"))?, &r["doc"])))
            .collect::<Result<_, String>>()?,
        Some(_) => return Err("\"before\" must be a list".into()),
    };
    let updates: Vec<Update<'_>> = [
        object.get("ops").map(Update::Patch),
        object.get("merge").map(Update::Merge),
        object.get("replace").map(Update::Replace),
    ]
    .into_iter()
    .flatten()
    .collect();
    let [update] = updates[..] else {
        return Err("a case needs exactly one of \"ops\", \"merge\", \"replace\"".into());
    };
    Ok(Case {
        entity,
        before,
        id: optional_u64(object, "id")?,
        doc: object.get("doc").ok_or("\"doc\" is missing")?,
        update,
        expected_version: optional_u64(object, "expectedVersion")?,
        expect: parse_expect(object)?,
    })
}

fn optional_u64(object: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match object.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{key:?} must be an unsigned integer")),
    }
}

fn parse_expect(object: &Map<String, Value>) -> Result<Expect, String> {
    let detail = |key: &str| object.get(key).ok_or(format!("the error needs {key:?}"));
    let allowed: &[&str] = match object.get("error").and_then(Value::as_str) {
        None => &[],
        Some("InvalidPatch") => &["opIndex"],
        Some("Validation") => &["errorFields"],
        Some("Conflict") => &["field"],
        Some(_) => &[],
    };
    if let Some(key) = ["opIndex", "errorFields", "field"]
        .into_iter()
        .find(|k| object.contains_key(*k) && !allowed.contains(k))
    {
        return Err(format!("{key:?} does not go with this expectation"));
    }
    let expect = match (object.get("result"), object.get("error")) {
        (Some(Value::Object(fields)), None) if fields.contains_key("version") => {
            Expect::Result(fields.clone())
        }
        (Some(_), None) => return Err("\"result\" must be an object with \"version\"".into()),
        (None, Some(kind)) => match kind.as_str() {
            Some("InvalidPatch") => Expect::InvalidPatch(
                detail("opIndex")?
                    .as_u64()
                    .ok_or("\"opIndex\" must be an integer")?,
            ),
            Some("Validation") => {
                let fields = detail("errorFields")?
                    .as_array()
                    .filter(|f| !f.is_empty())
                    .ok_or("\"errorFields\" must be a non-empty list")?;
                let set: BTreeSet<String> = fields
                    .iter()
                    .map(|f| f.as_str().map(str::to_owned))
                    .collect::<Option<_>>()
                    .ok_or("\"errorFields\" must hold strings")?;
                if set.len() != fields.len() {
                    return Err("\"errorFields\" lists a field twice".into());
                }
                Expect::Validation(set)
            }
            Some("Conflict") => Expect::Conflict(
                detail("field")?
                    .as_str()
                    .ok_or("\"field\" must be a string")?
                    .to_owned(),
            ),
            Some("VersionConflict") => Expect::VersionConflict,
            Some("NotFound") => Expect::NotFound,
            _ => return Err(format!("unknown error kind {kind}")),
        },
        _ => return Err("a case needs exactly one of \"result\" and \"error\"".into()),
    };
    Ok(expect)
}

/// Sets up the store, applies the update and compares the outcome.
fn run_case(case: &Case<'_>) -> Result<(), String> {
    let store = memory_store();
    for (i, (entity, doc)) in case.before.iter().enumerate() {
        create_document(&store, entity, doc)
            .map_err(|e| format!("before[{i}] cannot be created: {e:?}"))?;
    }
    let created = create_document(&store, case.entity, case.doc)
        .map_err(|e| format!("doc cannot be created: {e:?}"))?;
    let own_id = created["id"]
        .as_u64()
        .ok_or("the created record has no id")?;
    let outcome = apply(
        &store,
        case.entity,
        case.id.unwrap_or(own_id),
        case.update,
        case.expected_version,
    );
    let stored = get(&store, case.entity, own_id)
        .map_err(|e| format!("the record cannot be read back: {e:?}"))?;
    match (&case.expect, outcome) {
        (Expect::Result(fields), Ok(returned)) => {
            let mut problems = Vec::new();
            if stored != returned {
                problems.push(format!("returned {returned}, but stored {stored}"));
            }
            // Version 1 means no write at all: updatedAt is unchanged too.
            if fields["version"] == 1 && returned != created {
                problems.push(format!(
                    "expected no write, but {created} became {returned}"
                ));
            }
            for key in KEPT {
                if returned.get(key) != created.get(key) {
                    problems.push(format!("{key} changed"));
                }
            }
            for (key, value) in fields {
                let actual = returned.get(key.as_str());
                if actual.unwrap_or(&Value::Null) != value {
                    let actual = actual.map_or_else(|| "absent".into(), Value::to_string);
                    problems.push(format!("{key} should be {value}, is {actual}"));
                }
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(problems.join("; "))
            }
        }
        (Expect::Result(_), Err(e)) => Err(format!("expected success, got {e:?}")),
        (expect, Ok(returned)) => Err(format!("expected {expect:?}, but got {returned}")),
        (expect, Err(e)) => {
            check_error(expect, &e, case.expected_version)?;
            if stored == created {
                Ok(())
            } else {
                Err(format!("{e:?}, but {created} became {stored}"))
            }
        }
    }
}

fn check_error(expect: &Expect, e: &Error, expected_version: Option<u64>) -> Result<(), String> {
    let matched = match (expect, e) {
        (Expect::InvalidPatch(want), Error::InvalidPatch { op_index, .. }) => {
            u64::try_from(*op_index).is_ok_and(|i| i == *want)
        }
        (Expect::Validation(want), Error::Validation { errors }) => {
            errors
                .iter()
                .map(|fe| fe.field.clone())
                .collect::<BTreeSet<_>>()
                == *want
        }
        (Expect::Conflict(want), Error::Conflict { field, .. }) => field == want,
        (Expect::VersionConflict, Error::VersionConflict { expected, actual }) => {
            Some(*expected) == expected_version && *actual == 1
        }
        (Expect::NotFound, Error::NotFound { .. }) => true,
        _ => false,
    };
    if matched {
        Ok(())
    } else {
        Err(format!("expected {expect:?}, got {e:?}"))
    }
}

/// Applies `update` to record `id` of `entity` and returns its document.
fn apply(
    store: &Store,
    entity: &str,
    id: u64,
    update: Update<'_>,
    expected_version: Option<u64>,
) -> rosterdb::Result<Value> {
    match entity {
        "user" => update.to(&store.users(), id, expected_version),
        "role" => update.to(&store.roles(), id, expected_version),
        _ => update.to(&store.clients(), id, expected_version),
    }
}

impl Update<'_> {
    fn to<E: Editable>(
        self,
        records: &Collection<'_, Store, E>,
        id: u64,
        expected_version: Option<u64>,
    ) -> rosterdb::Result<Value>
    where
        E::Record: PartialEq,
    {
        let updated = match self {
            Update::Patch(ops) => records.patch(id, ops, expected_version)?,
            Update::Merge(partial) => records.merge(id, partial, expected_version)?,
            Update::Replace(doc) => records.replace(id, doc, expected_version)?,
        };
        Ok(serde_json::to_value(updated).expect("a document serializes"))
    }
}

/// The stored document of record `id` of `entity`.
fn get(store: &Store, entity: &str, id: u64) -> rosterdb::Result<Value> {
    let document = match entity {
        "user" => serde_json::to_value(store.users().get(id)?),
        "role" => serde_json::to_value(store.roles().get(id)?),
        _ => serde_json::to_value(store.clients().get(id)?),
    };
    Ok(document.expect("a document serializes"))
}
