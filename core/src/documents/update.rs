//! Updates (docs/reference/updates.md): JSON Patch, JSON Merge Patch and replace, each turned
//! into a whole new document that is validated like a create (`api::edit`
//! writes it, with optimistic concurrency and no write when nothing changes,
//! for any kind that is `storage::entity::Editable`).

use serde_json::{Map, Value};

use crate::documents::fields::{FieldId, FieldLists};
use crate::documents::input::FromDocument;
use crate::documents::pointer::{self, Role};
use crate::documents::record::Record;
use crate::documents::rules::Problems;
use crate::{Error, PatchCode, Result, ValidationCode};

/// What an update asks for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Change<'a> {
    /// RFC 6902 operations.
    Patch(&'a Value),
    /// An RFC 7396 merge patch.
    Merge(&'a Value),
    /// A whole new document.
    Replace(&'a Value),
}

/// The input `change` makes of `current` (the document of a record of
/// kind `R` as read now): the whole new document, checked like a create.
/// Every failing field at once in one `Validation`: read-only keys given
/// with another value, create-only keys (the tenant) changed, the
/// document's own rules. `InvalidPatch` for a malformed or failing patch
/// operation.
pub(crate) fn changed<R: Record>(current: &R::Document, change: Change<'_>) -> Result<R::New> {
    let current = serde_json::to_value(current)
        .map_err(|e| Error::internal(format!("a document as JSON: {e}")))?;
    let Value::Object(current) = current else {
        return Err(Error::internal("a document is not a JSON object"));
    };
    let mut problems = Problems::new();
    let fields = <R::Field as FieldId>::lists();
    let read_only = fields.read_only();
    let target = match change {
        Change::Patch(ops) => patched(&current, ops, read_only)?,
        Change::Merge(partial) => merged(&current, partial, read_only, &mut problems)?,
        Change::Replace(doc) => replaced(&current, doc, fields, &mut problems)?,
    };
    // Every failing field at once: read-only mismatches, create-only
    // changes (the tenant), the document.
    for &key in fields.create_only() {
        let given = |doc: &Map<String, Value>| doc.get(key).filter(|v| !v.is_null()).cloned();
        if given(&target) != given(&current) {
            problems.add(key, ValidationCode::Immutable, "is immutable");
        }
    }
    let parsed = problems.absorb(R::New::from_document(&Value::Object(target)))?;
    problems.into_result()?;
    parsed.ok_or_else(|| Error::internal("a document failed without a reason"))
}

/// [`changed`] for the record `current` as read now, whose document
/// `document` makes: a patch whose operations only add, remove, replace
/// or test members the kind's input form reads on its own
/// ([`FromDocument::take_member`]), or a merge patch that names only such
/// members, is applied to those members alone, the other fields taken
/// from the record as they are; any other update, and such a patch that
/// fails or gives a document with any problem, goes through the whole
/// document, so every error is the one [`changed`] names.
pub(crate) fn changed_record<R: Record>(
    current: &R,
    change: Change<'_>,
    document: impl FnOnce() -> Result<R::Document>,
) -> Result<R::New> {
    let members = match change {
        Change::Patch(ops) => patched_members(current, ops),
        Change::Merge(partial) => merged_members(current, partial),
        Change::Replace(_) => None,
    };
    match members {
        Some(new) => Ok(new),
        None => changed::<R>(&document()?, change),
    }
}

/// The members `keys` of `current`'s input form, taken out of it as its
/// document shows them (an absent one left out); `None` when one is not
/// a member the form reads on its own.
fn take_members<N: FromDocument>(base: &mut N, keys: &[String]) -> Option<Map<String, Value>> {
    let mut members = Map::new();
    for key in keys {
        if let Some(value) = base.take_member(key)? {
            members.insert(key.clone(), value);
        }
    }
    Some(members)
}

/// The input form the merge patch `partial` makes of `current` by merging
/// only the members it names (see [`changed_record`]); `None` when the
/// whole document must be read instead.
fn merged_members<R: Record>(current: &R, partial: &Value) -> Option<R::New> {
    let Value::Object(given) = partial else {
        return None;
    };
    let touched: Vec<String> = given.keys().cloned().collect();
    let mut base = current.writable()?;
    let mut doc = Value::Object(take_members(&mut base, &touched)?);
    json_patch::merge(&mut doc, partial);
    base.with_members(&touched, &doc)
}

/// The input form the patch `ops` makes of `current` by patching only the
/// members its operations touch (see [`changed_record`]); `None` when the
/// whole document must be read instead.
fn patched_members<R: Record>(current: &R, ops: &Value) -> Option<R::New> {
    let Value::Array(items) = ops else {
        return None;
    };
    let mut touched: Vec<String> = Vec::new();
    for op in items {
        // `move` and `copy` are refused by size over the whole document.
        let name = op.get("op").and_then(Value::as_str)?;
        if !matches!(name, "add" | "remove" | "replace" | "test") {
            return None;
        }
        let key = op.get("path").and_then(Value::as_str).and_then(first_key)?;
        if !touched.contains(&key) {
            touched.push(key);
        }
    }
    let mut base = current.writable()?;
    let members = take_members(&mut base, &touched)?;
    let read_only = <R::Field as FieldId>::lists().read_only();
    let members = patched(&members, ops, read_only).ok()?;
    base.with_members(&touched, &Value::Object(members))
}

/// Refuses, before anything clones or walks it, an update nested deeper
/// than any valid document (so no input can exhaust the stack):
/// `Validation` naming the field a too-deep patch operation targets, or
/// the too-deep member of a merge or replacement (docs/reference/errors.md); `InvalidPatch`
/// for a too-deep operation without a usable path.
pub(crate) fn too_deep(change: Change<'_>) -> Result<()> {
    use crate::documents::rules::{MAX_ATTRIBUTES_DEPTH, too_deep_member, too_deep_message};
    match change {
        Change::Patch(Value::Array(ops)) => {
            // An operation, its value, then at most the whole of `attributes`.
            let Some(index) = ops
                .iter()
                .position(|op| crate::documents::rules::too_deep(op, MAX_ATTRIBUTES_DEPTH + 1))
            else {
                return Ok(());
            };
            match ops
                .get(index)
                .and_then(|op| op.get("path"))
                .and_then(Value::as_str)
                .and_then(first_key)
            {
                Some(field) => Err(Error::invalid(
                    field,
                    ValidationCode::TooDeep,
                    too_deep_message(),
                )),
                None => Err(patch_error(index, PatchCode::TooDeep, too_deep_message())),
            }
        }
        Change::Patch(_) => Ok(()),
        Change::Merge(doc) | Change::Replace(doc) => match too_deep_member(doc) {
            Some(field) => Err(Error::invalid(
                field,
                ValidationCode::TooDeep,
                too_deep_message(),
            )),
            None => Ok(()),
        },
    }
}

/// The document's writable keys, after checking that every read-only key
/// given equals the stored value (a fetched document can be sent back: docs/reference/updates.md).
fn writable(
    given: Map<String, Value>,
    current: &Map<String, Value>,
    read_only: &[&str],
    problems: &mut Problems,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in given {
        if read_only.contains(&key.as_str()) {
            if current.get(&key) != Some(&value) {
                problems.add(key, ValidationCode::ReadOnly, "is read-only");
            }
        } else {
            out.insert(key, value);
        }
    }
    out
}

/// The writable keys of `given` (see [`writable`]), which must be a JSON
/// object: else `Validation` with `ObjectType` and `not_object` on the
/// whole document.
fn writable_of(
    given: &Value,
    not_object: &str,
    current: &Map<String, Value>,
    read_only: &[&str],
    problems: &mut Problems,
) -> Result<Map<String, Value>> {
    let Value::Object(given) = given else {
        return Err(Error::invalid("", ValidationCode::ObjectType, not_object));
    };
    Ok(writable(given.clone(), current, read_only, problems))
}

/// The stored document without its read-only keys.
fn without_read_only(current: &Map<String, Value>, read_only: &[&str]) -> Map<String, Value> {
    current
        .iter()
        .filter(|(k, _)| !read_only.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `replace`: a whole document; absent optional fields are cleared (they
/// take their defaults), create-only fields (the tenant) are kept when absent.
fn replaced(
    current: &Map<String, Value>,
    doc: &Value,
    fields: &FieldLists,
    problems: &mut Problems,
) -> Result<Map<String, Value>> {
    let mut out = writable_of(
        doc,
        "the document must be a JSON object",
        current,
        fields.read_only(),
        problems,
    )?;
    for &key in fields.create_only() {
        if !out.contains_key(key)
            && let Some(value) = current.get(key)
        {
            out.insert(key.into(), value.clone());
        }
    }
    Ok(out)
}

/// `merge`: RFC 7396 on the stored document; `null` removes a field.
fn merged(
    current: &Map<String, Value>,
    partial: &Value,
    read_only: &[&str],
    problems: &mut Problems,
) -> Result<Map<String, Value>> {
    let given = writable_of(
        partial,
        "a merge patch must be a JSON object",
        current,
        read_only,
        problems,
    )?;
    let mut doc = Value::Object(without_read_only(current, read_only));
    json_patch::merge(&mut doc, &Value::Object(given));
    match doc {
        Value::Object(map) => Ok(map),
        _ => Err(Error::internal("a merged document is not an object")),
    }
}

/// Whether `key` is write-only (in any kind): it can be set, never read or removed.
fn write_only(key: &str) -> bool {
    crate::documents::fields::write_only_keys().contains(&key)
}

fn patch_error(op_index: usize, code: PatchCode, message: impl Into<String>) -> Error {
    Error::patch(op_index, code, message)
}

/// The first key of a JSON pointer, unescaped; `None` for the root.
fn first_key(pointer: &str) -> Option<String> {
    let rest = pointer.strip_prefix('/')?;
    let token = rest.split('/').next().unwrap_or_default();
    Some(super::pointer::unescape(token))
}

/// Checks one operation's shape and targets, naming its index in errors.
fn check_op(index: usize, op: &Value, read_only: &[&str]) -> Result<json_patch::PatchOperation> {
    let Value::Object(fields) = op else {
        return Err(patch_error(
            index,
            PatchCode::InvalidOperation,
            "an operation must be a JSON object",
        ));
    };
    let name = match fields.get("op") {
        Some(Value::String(name)) => name.as_str(),
        _ => {
            return Err(patch_error(
                index,
                PatchCode::UnknownOp,
                "\"op\" must be one of add, remove, replace, move, copy, test",
            ));
        }
    };
    let needs: &[&str] = match name {
        "add" | "replace" | "test" => &["path", "value"],
        "remove" => &["path"],
        "move" | "copy" => &["path", "from"],
        _ => {
            return Err(patch_error(
                index,
                PatchCode::UnknownOp,
                "\"op\" must be one of add, remove, replace, move, copy, test",
            ));
        }
    };
    // RFC 6902 §4: members an operation does not define are ignored.
    for key in needs {
        match (fields.get(*key), *key) {
            (None, _) => {
                return Err(patch_error(
                    index,
                    PatchCode::MissingMember,
                    format!("{name} needs {key:?}"),
                ));
            }
            (Some(Value::String(p)), "path" | "from") => {
                pointer::check_syntax(key, p)
                    .map_err(|message| patch_error(index, PatchCode::PointerSyntax, message))?;
            }
            (Some(v), "path" | "from") if !v.is_string() => {
                return Err(patch_error(
                    index,
                    PatchCode::PointerSyntax,
                    format!("{key} must be a string"),
                ));
            }
            _ => {}
        }
    }
    let path = fields
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let target = first_key(path);
    let Some(target) = target else {
        return Err(patch_error(
            index,
            PatchCode::RootTarget,
            "the whole document cannot be patched; use replace",
        ));
    };
    let from = fields.get("from").and_then(Value::as_str).map(first_key);
    if name != "test" && read_only.contains(&target.as_str()) {
        return Err(patch_error(
            index,
            PatchCode::ReadOnly,
            format!("/{target} is read-only"),
        ));
    }
    if write_only(&target) {
        if !matches!(name, "add" | "replace") {
            return Err(patch_error(
                index,
                PatchCode::WriteOnly,
                format!("/{target} is write-only: add or replace it"),
            ));
        }
        if path != format!("/{target}") || !fields.get("value").is_some_and(Value::is_string) {
            return Err(patch_error(
                index,
                PatchCode::WriteOnly,
                format!("/{target} takes a string"),
            ));
        }
    }
    match from {
        Some(None) => {
            return Err(patch_error(
                index,
                PatchCode::RootTarget,
                "the whole document cannot be moved or copied",
            ));
        }
        Some(Some(f)) if name == "move" && read_only.contains(&f.as_str()) => {
            return Err(patch_error(
                index,
                PatchCode::ReadOnly,
                format!("/{f} is read-only"),
            ));
        }
        Some(Some(f)) if write_only(&f) => {
            return Err(patch_error(
                index,
                PatchCode::WriteOnly,
                format!("/{f} is write-only"),
            ));
        }
        _ => {}
    }
    let defined = |k: &String| k == "op" || needs.contains(&k.as_str());
    let parsed = if fields.keys().all(defined) {
        <json_patch::PatchOperation as serde::Deserialize>::deserialize(op)
    } else {
        let defined: serde_json::Map<String, Value> = fields
            .iter()
            .filter(|(k, _)| defined(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        serde_json::from_value(Value::Object(defined))
    };
    parsed.map_err(|_| patch_error(index, PatchCode::InvalidOperation, "malformed operation"))
}

/// `patch`: RFC 6902 on the stored document, all or nothing.
fn patched(
    current: &Map<String, Value>,
    ops: &Value,
    read_only: &[&str],
) -> Result<Map<String, Value>> {
    let Value::Array(items) = ops else {
        return Err(patch_error(
            0,
            PatchCode::NotAnArray,
            "a patch must be a JSON array of operations",
        ));
    };
    let ops: Vec<json_patch::PatchOperation> = items
        .iter()
        .enumerate()
        .map(|(i, op)| check_op(i, op, read_only))
        .collect::<Result<_>>()?;
    let start = || {
        let mut doc = current.clone();
        // Write-only fields are never in the document; `replace` may still set them.
        for op in &ops {
            if let json_patch::PatchOperation::Replace(r) = op
                && let Some(key) = first_key(r.path.as_str())
                && write_only(&key)
            {
                doc.entry(key).or_insert(Value::Null);
            }
        }
        Value::Object(doc)
    };
    let mut doc = start();
    for (index, op) in ops.iter().enumerate() {
        // `test` compares by JSON value (RFC 6902 §4.6: numbers are equal
        // when their values are; docs/reference/updates.md), with the one number comparison
        // queries use; a path that resolves to nothing is explained below.
        if let json_patch::PatchOperation::Test(test) = op
            && let Some(found) = doc.pointer(test.path.as_str())
        {
            if crate::documents::json::values_equal(found, &test.value) {
                continue;
            }
            return Err(patch_error(
                index,
                PatchCode::TestFailed,
                format!("test failed at {}", test.path),
            ));
        }
        if let Err(e) = json_patch::patch(&mut doc, std::slice::from_ref(op)) {
            // `doc` may keep part of the failing operation (a move's
            // removal): judge the failure from the start.
            return Err(patch_error(
                index,
                failure_code(&e),
                failure(&start(), &ops, index, &e),
            ));
        }
        // `copy` and `move` can deepen or double the document with every
        // operation: stop before it can exhaust the stack or the memory.
        if let json_patch::PatchOperation::Copy(_) | json_patch::PatchOperation::Move(_) = op {
            outgrown(&doc).map_err(|(code, message)| patch_error(index, code, message))?;
        }
    }
    let Value::Object(mut doc) = doc else {
        return Err(Error::internal("a patched document is not an object"));
    };
    for &key in crate::documents::fields::write_only_keys() {
        if doc.get(key) == Some(&Value::Null) {
            doc.remove(key);
        }
    }
    // Read-only keys cannot have changed (operations on them were
    // refused): they leave, the rest keep their order.
    doc.retain(|key, _| !read_only.contains(&key.as_str()));
    Ok(doc)
}

/// The most bytes (strings, keys, and 8 per value) a document being
/// patched may reach: far above any valid document, far below harm.
const MAX_PATCHED_BYTES: usize = 1 << 20;

/// Refuses a document no valid one can be: nested deeper than `attributes`
/// allows under the document, or past [`MAX_PATCHED_BYTES`]. Walks without
/// recursion and stops at the first limit.
fn outgrown(doc: &Value) -> std::result::Result<(), (PatchCode, String)> {
    use crate::documents::rules::MAX_ATTRIBUTES_DEPTH;
    if crate::documents::rules::too_deep(doc, MAX_ATTRIBUTES_DEPTH + 1) {
        return Err((
            PatchCode::TooDeep,
            format!(
                "the document would nest objects and arrays more than {} levels deep",
                MAX_ATTRIBUTES_DEPTH + 1
            ),
        ));
    }
    let mut bytes = 0usize;
    let mut stack = vec![doc];
    while let Some(v) = stack.pop() {
        bytes = bytes.saturating_add(8);
        match v {
            Value::String(s) => bytes = bytes.saturating_add(s.len()),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                for (k, v) in map {
                    bytes = bytes.saturating_add(k.len());
                    stack.push(v);
                }
            }
            _ => {}
        }
        if bytes > MAX_PATCHED_BYTES {
            return Err((
                PatchCode::TooLarge,
                format!("the document would grow past {MAX_PATCHED_BYTES} bytes"),
            ));
        }
    }
    Ok(())
}

/// The code of an operation that failed with `e` as it was applied.
fn failure_code(e: &json_patch::PatchError) -> PatchCode {
    match e.kind {
        json_patch::PatchErrorKind::TestFailed => PatchCode::TestFailed,
        json_patch::PatchErrorKind::CannotMoveInsideItself => PatchCode::MoveIntoItself,
        _ => PatchCode::PathNotFound,
    }
}

/// What is wrong with operation `index`, which failed (`e`) on the document
/// that the operations before it made of `start`.
fn failure(
    start: &Value,
    ops: &[json_patch::PatchOperation],
    index: usize,
    e: &json_patch::PatchError,
) -> String {
    use json_patch::{PatchErrorKind as Kind, PatchOperation as Op};
    let generic = || match e.kind {
        Kind::TestFailed => format!("test failed at {}", e.path),
        Kind::InvalidFromPointer => format!("\"from\" {} does not exist", ops_from(ops, index)),
        Kind::CannotMoveInsideItself => "cannot move a value inside itself".into(),
        _ => format!("path {} does not exist or is not valid here", e.path),
    };
    // The operations before it succeeded; tests change nothing.
    let earlier: Vec<Op> = ops
        .iter()
        .take(index)
        .filter(|op| !matches!(op, Op::Test(_)))
        .cloned()
        .collect();
    let mut before = start.clone();
    if json_patch::patch(&mut before, &earlier).is_err() {
        return generic();
    }
    let path = |pointer: &str, role| pointer::explain(&before, pointer, role);
    let from = |pointer: &str| {
        pointer::explain(&before, pointer, Role::Existing).map(|why| format!("from: {why}"))
    };
    let explained = match (ops.get(index), &e.kind) {
        (Some(Op::Move(m)), Kind::InvalidFromPointer) => from(m.from.as_str()),
        (Some(Op::Copy(c)), Kind::InvalidFromPointer) => from(c.from.as_str()),
        (Some(Op::Add(a)), Kind::InvalidPointer) => path(a.path.as_str(), Role::Insert),
        (Some(Op::Copy(c)), Kind::InvalidPointer) => path(c.path.as_str(), Role::Insert),
        (Some(Op::Remove(r)), Kind::InvalidPointer) => path(r.path.as_str(), Role::Existing),
        (Some(Op::Replace(r)), Kind::InvalidPointer) => path(r.path.as_str(), Role::Existing),
        (Some(Op::Test(t)), Kind::InvalidPointer) => path(t.path.as_str(), Role::Existing),
        (Some(Op::Move(m)), Kind::InvalidPointer) => {
            // The target is read after the value left `from`.
            let mut taken = before.clone();
            let remove = Op::Remove(json_patch::RemoveOperation {
                path: m.from.clone(),
            });
            json_patch::patch(&mut taken, &[remove])
                .ok()
                .and_then(|()| pointer::explain(&taken, m.path.as_str(), Role::Insert))
        }
        _ => None,
    };
    explained.map_or_else(generic, |why| {
        if why.starts_with("from: ") {
            why
        } else {
            format!("path: {why}")
        }
    })
}

fn ops_from(ops: &[json_patch::PatchOperation], index: usize) -> String {
    match ops.get(index) {
        Some(json_patch::PatchOperation::Move(m)) => m.from.to_string(),
        Some(json_patch::PatchOperation::Copy(c)) => c.from.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::documents::header::Header;
    use crate::documents::user::{NewUser, UserRecord};
    use crate::{ExternalId, Timestamp};

    fn records(now: Timestamp) -> Vec<UserRecord> {
        let mut full = NewUser::new("zoë", "zoe@example.com", "Zoë", "Ångström");
        full.nickname = Some("Z".into());
        full.mobile_number = Some("+1 556".into());
        full.tenant = Some("acme".into());
        full.roles = vec![3, 1];
        full.external_ids = vec![ExternalId::new("github", "42")];
        if let Value::Object(attributes) = json!({"b": 1, "a": [true, null, 2.5], "o": {"k": "v"}})
        {
            full.attributes = attributes;
        }
        let plain = NewUser::new("anna", "anna@x.org", "Anna", "Müller");
        vec![
            UserRecord::create(full, Header::new(7, now), Some("$argon2id$h".into())),
            UserRecord::create(plain, Header::new(8, now), None),
        ]
    }

    /// Patches that touch only members the user form reads on its own,
    /// failing ones included.
    fn member_patches() -> Vec<Value> {
        let deep = (0..40).fold(json!(1), |v, _| json!([v]));
        let big = "x".repeat(20_000);
        vec![
            json!([]),
            json!([{"op": "add", "path": "/attributes/title", "value": "x"}]),
            json!([{"op": "replace", "path": "/firstName", "value": "Y"}]),
            json!([{"op": "remove", "path": "/nickname"}]),
            json!([{"op": "add", "path": "/nickname", "value": ""}]),
            json!([{"op": "add", "path": "/telephoneNumber", "value": "+49 1"}]),
            json!([{"op": "replace", "path": "/username", "value": "bad name!"}]),
            json!([{"op": "replace", "path": "/email", "value": "ANNA@X.org"}]),
            json!([{"op": "remove", "path": "/firstName"}]),
            json!([{"op": "replace", "path": "/lastName", "value": 5}]),
            json!([{"op": "add", "path": "/roles/-", "value": 5}]),
            json!([{"op": "replace", "path": "/roles", "value": [3, 3, 1]}]),
            json!([{"op": "replace", "path": "/roles", "value": [-1]}]),
            json!([{"op": "add", "path": "/externalIds/-", "value": {"type": "x", "value": "y"}}]),
            json!([{"op": "add", "path": "/externalIds/-", "value": {"type": "GitHub", "value": "42"}}]),
            json!([{"op": "add", "path": "/externalIds/0/extra", "value": 1}]),
            json!([{"op": "test", "path": "/attributes/b", "value": 1.0},
                   {"op": "replace", "path": "/attributes/b", "value": 2}]),
            json!([{"op": "test", "path": "/attributes/b", "value": 2}]),
            json!([{"op": "test", "path": "/firstName", "value": "Anna"},
                   {"op": "remove", "path": "/attributes/a/1"}]),
            json!([{"op": "replace", "path": "/enabled", "value": "no"}]),
            json!([{"op": "remove", "path": "/enabled"}]),
            json!([{"op": "replace", "path": "/enabled", "value": false}]),
            json!([{"op": "add", "path": "/attributes/deep", "value": deep}]),
            json!([{"op": "add", "path": "/attributes/big", "value": big}]),
            json!([{"op": "replace", "path": "/attributes", "value": []}]),
            json!([{"op": "remove", "path": "/attributes/missing"}]),
            json!([{"op": "add", "path": "/attributes/a/9", "value": 1}]),
            json!([{"op": "replace", "path": "/mobileNumber", "value": null}]),
            json!([{"op": "add", "path": "/attributes/x", "value": 1}, {"op": "bogus"}]),
            json!([{"op": "add", "path": "/attributes/x"}]),
            json!([{"op": "add", "path": "/attributes~1x", "value": 1}]),
        ]
    }

    /// Patches the whole document reads: other operations or members.
    fn document_patches() -> Vec<Value> {
        vec![
            json!({"op": "add"}),
            json!([{"op": "add", "path": "/foo", "value": 1}]),
            json!([{"op": "replace", "path": "/tenant", "value": "other"}]),
            json!([{"op": "remove", "path": "/tenant"}]),
            json!([{"op": "test", "path": "/version", "value": 1}]),
            json!([{"op": "replace", "path": "/version", "value": 9}]),
            json!([{"op": "replace", "path": "/password", "value": "secret-enough"}]),
            json!([{"op": "copy", "from": "/attributes", "path": "/attributes/c"}]),
            json!([{"op": "move", "from": "/nickname", "path": "/attributes/n"}]),
            json!([{"op": "add", "path": "/", "value": 1}]),
            json!([{"op": "add", "path": "", "value": {}}]),
            json!([{"op": "add", "path": "/attributes/x", "value": 1}, {"op": "move", "from": "/x", "path": "/y"}]),
        ]
    }

    /// A patch of some members gives what the whole document gives (the
    /// same input or the same error), and most member patches that
    /// succeed take the shorter way.
    #[test]
    fn member_patches_read_as_the_whole_document() {
        let now = Timestamp::from_millis(1_700_000_000_000).unwrap();
        let mut short = 0;
        let mut failed = 0;
        for record in records(now) {
            for ops in member_patches().into_iter().chain(document_patches()) {
                let whole = changed::<UserRecord>(&record.document(now), Change::Patch(&ops));
                let got = changed_record(&record, Change::Patch(&ops), || Ok(record.document(now)));
                assert_eq!(got, whole, "{ops}");
                failed += usize::from(whole.is_err());
                short += usize::from(patched_members(&record, &ops).is_some());
            }
            for ops in document_patches() {
                assert!(patched_members(&record, &ops).is_none(), "{ops}");
            }
        }
        assert!(short >= 20, "{short}");
        assert!(failed >= 30, "{failed}");
    }

    /// A merge patch of some members gives what the whole document gives.
    #[test]
    fn member_merges_read_as_the_whole_document() {
        let now = Timestamp::from_millis(1_700_000_000_000).unwrap();
        let merges = [
            json!({}),
            json!({"attributes": {"title": "x", "b": null}}),
            json!({"attributes": {"o": {"k": null, "n": [1]}}}),
            json!({"attributes": null}),
            json!({"attributes": 5}),
            json!({"nickname": null, "firstName": "Y"}),
            json!({"firstName": null}),
            json!({"username": "bad name!", "email": 3}),
            json!({"enabled": null}),
            json!({"enabled": false, "roles": [4, 4, 2]}),
            json!({"roles": ["x"]}),
            json!({"externalIds": [{"type": "a", "value": "b"}, {"type": "A", "value": "B"}]}),
            json!({"externalIds": [{"type": "a"}]}),
            json!({"mobileNumber": "+1 2", "telephoneNumber": ""}),
            json!({"attributes": {"deep": (0..40).fold(json!(1), |v, _| json!([v]))}}),
            // The whole document: read-only, create-only, write-only or unknown keys.
            json!({"version": 1}),
            json!({"id": 99}),
            json!({"tenant": "other"}),
            json!({"password": "secret-enough"}),
            json!({"passwordHash": 1}),
            json!({"foo": 1}),
            json!([1]),
            json!("x"),
        ];
        let mut short = 0;
        let mut failed = 0;
        for record in records(now) {
            for partial in &merges {
                let whole = changed::<UserRecord>(&record.document(now), Change::Merge(partial));
                let got =
                    changed_record(&record, Change::Merge(partial), || Ok(record.document(now)));
                assert_eq!(got, whole, "{partial}");
                failed += usize::from(whole.is_err());
                short += usize::from(merged_members(&record, partial).is_some());
            }
        }
        assert!(short >= 12, "{short}");
        assert!(failed >= 14, "{failed}");
    }
}
