//! The `patch` target: JSON Patch (RFC 6902) and merge patch (RFC 7396)
//! applied to stored documents (docs/reference/updates.md).
//!
//! The first byte chooses the record and the call: bits 0–1 the record
//! (user 1, user 4 of tenant `t1`, role 1, client 1), bit 2 whether an
//! `expected_version` is given (then bits 4–7 are it), bit 3 a merge patch
//! instead of a JSON Patch. The rest is the patch as JSON (inputs that are
//! not JSON are skipped). Each input runs on a fresh store
//! ([`crate::population`]). Properties:
//! - the call succeeds or fails with `InvalidPatch`, `Validation`,
//!   `Conflict` or `VersionConflict`, never another error;
//! - on failure nothing changed: every record of every kind and the change
//!   log are as before;
//! - on success the returned document is the stored one; no other record
//!   changed; either nothing changed (same version, same document, no
//!   change-log entry) or the version grew by one with one `update` entry;
//! - `check()` finds nothing wrong afterwards.

use rosterdb::{ChangeOp, Collection, Editable, Query, Store, WriteContext};
use serde::Serialize;
use serde_json::Value;

use crate::{ErrorKind, expect_error, population, violated};

/// Checks one input (see the module documentation).
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(patch) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let call = Call {
        merge: mode & 0b1000 != 0,
        expected: (mode & 0b100 != 0).then_some(u64::from(mode >> 4)),
    };
    let store = match population::fresh() {
        Ok(store) => store,
        Err(e) => violated(format!("a fresh store: {e}")),
    };
    match mode & 0b11 {
        0 => apply(&store, &store.users(), 1, &patch, call),
        1 => apply(&store, &store.users(), 4, &patch, call),
        2 => apply(&store, &store.roles(), 1, &patch, call),
        _ => apply(&store, &store.clients(), 1, &patch, call),
    }
}

/// How the patch is applied.
#[derive(Clone, Copy, Debug)]
struct Call {
    /// A merge patch rather than a JSON Patch.
    merge: bool,
    /// The `expected_version` given.
    expected: Option<u64>,
}

/// Everything a write may change: every document of every kind and the change log.
#[derive(Debug, PartialEq)]
struct Snapshot {
    users: Vec<Value>,
    roles: Vec<Value>,
    clients: Vec<Value>,
    /// (seq, kind, id, op, version) of every change-log entry.
    changes: Vec<(u64, String, u64, ChangeOp, u64)>,
}

fn snapshot(store: &Store) -> Snapshot {
    let all = Query::all();
    let read = || -> rosterdb::Result<Snapshot> {
        Ok(Snapshot {
            users: store.users().list(&all)?.items_json()?,
            roles: store.roles().list(&all)?.items_json()?,
            clients: store.clients().list(&all)?.items_json()?,
            changes: store
                .changes(0, rosterdb::MAX_CHANGES_PER_CALL)?
                .into_iter()
                .map(|c| (c.seq, format!("{:?}", c.entity), c.id, c.op, c.version))
                .collect(),
        })
    };
    match read() {
        Ok(snapshot) => snapshot,
        Err(e) => violated(format!("reading the store: {e}")),
    }
}

/// A document as JSON.
fn json<T: Serialize>(doc: &T) -> Value {
    match serde_json::to_value(doc) {
        Ok(value) => value,
        Err(e) => violated(format!("a document as JSON: {e}")),
    }
}

/// The `version` of a document as JSON.
fn version(doc: &Value) -> u64 {
    match doc.get("version").and_then(Value::as_u64) {
        Some(version) => version,
        None => violated(format!("a document without a version: {doc}")),
    }
}

fn apply<C: WriteContext, E: Editable + Serialize>(
    store: &Store,
    collection: &Collection<'_, C, E>,
    id: u64,
    patch: &Value,
    call: Call,
) where
    E::Record: PartialEq,
{
    let before = snapshot(store);
    let result = if call.merge {
        collection.merge(id, patch, call.expected)
    } else {
        collection.patch(id, patch, call.expected)
    };
    let after = snapshot(store);
    match result {
        Err(e) => {
            expect_error(
                &e,
                &[
                    ErrorKind::InvalidPatch,
                    ErrorKind::Validation,
                    ErrorKind::Conflict,
                    ErrorKind::VersionConflict,
                ],
                &format!("{call:?} of {:?} {id}", E::KIND),
            );
            if after != before {
                violated(format!(
                    "{call:?} of {:?} {id} failed ({e}) but changed the store",
                    E::KIND
                ));
            }
        }
        Ok(doc) => succeeded(collection, id, &json(&doc), &before, &after),
    }
    match store.check() {
        Ok(report) if report.ok => {}
        other => violated(format!("check() after a patch: {other:?}")),
    }
}

/// The properties of a successful patch whose result is `doc`.
fn succeeded<C: WriteContext, E: Editable + Serialize>(
    collection: &Collection<'_, C, E>,
    id: u64,
    doc: &Value,
    before: &Snapshot,
    after: &Snapshot,
) {
    match collection.get(id).map(|stored| json(&stored)) {
        Ok(stored) if stored == *doc => {}
        other => violated(format!(
            "the patched document {doc} is not the stored one {other:?}"
        )),
    }
    let (old_docs, new_docs) = match E::KIND {
        rosterdb::EntityKind::User => (&before.users, &after.users),
        rosterdb::EntityKind::Role => (&before.roles, &after.roles),
        rosterdb::EntityKind::Client => (&before.clients, &after.clients),
    };
    let is_target = |d: &&Value| d.get("id").and_then(Value::as_u64) == Some(id);
    let others =
        |docs: &[Value]| -> Vec<Value> { docs.iter().filter(|d| !is_target(d)).cloned().collect() };
    let unchanged_elsewhere = others(old_docs) == others(new_docs)
        && (E::KIND == rosterdb::EntityKind::User || before.users == after.users)
        && (E::KIND == rosterdb::EntityKind::Role || before.roles == after.roles)
        && (E::KIND == rosterdb::EntityKind::Client || before.clients == after.clients);
    if !unchanged_elsewhere {
        violated(format!(
            "a patch of {:?} {id} changed another record",
            E::KIND
        ));
    }
    let Some(old) = old_docs.iter().find(is_target) else {
        violated(format!("{:?} {id} was not there before the patch", E::KIND));
    };
    let (old_version, new_version) = (version(old), version(doc));
    let new_entries = after
        .changes
        .get(before.changes.len()..)
        .unwrap_or_default();
    if new_version == old_version {
        if old != doc || !new_entries.is_empty() {
            violated(format!(
                "a patch kept version {old_version} but changed {old} into {doc} \
                 or logged {new_entries:?}"
            ));
        }
    } else if Some(new_version) != old_version.checked_add(1)
        || !matches!(new_entries, [(_, _, entry_id, ChangeOp::Update, v)] if *entry_id == id && *v == new_version)
        || after.changes.get(..before.changes.len()) != Some(before.changes.as_slice())
    {
        violated(format!(
            "a patch moved version {old_version} to {new_version} and logged {new_entries:?}"
        ));
    }
}
