//! Whether one part of a call's [`Effect`](crate::protocol::Effect) is in
//! a document: applied, not applied, or neither (a half or a wrong
//! write). The same tests check each acknowledgement (which must be
//! applied) and the call in flight at a kill (either, never neither).

use serde_json::{Map, Value};

use crate::protocol::{Create, Update};

/// How one part of an effect stands in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// The part is there, exactly.
    Applied,
    /// The record is exactly as before the call.
    NotApplied,
    /// Neither: the message says what differs.
    Neither(String),
}

/// Applies an RFC 7396 merge patch to `target`: objects merge key by key,
/// `null` removes a key, anything else replaces.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    match patch {
        Value::Object(fields) => {
            let mut out = match target {
                Value::Object(map) => map.clone(),
                _ => Map::new(),
            };
            for (key, value) in fields {
                if value.is_null() {
                    out.remove(key);
                } else {
                    let merged = merge_patch(out.get(key).unwrap_or(&Value::Null), value);
                    out.insert(key.clone(), merged);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// `doc` without the fields in `skip` (a non-object is returned as it is).
pub fn without(doc: &Value, skip: &[&str]) -> Value {
    match doc {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !skip.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A short form of a document for messages (at most 300 characters).
pub fn brief(doc: &Value) -> String {
    let text = doc.to_string();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text,
    }
}

/// The `version` field of a document, if it has one.
pub fn version(doc: &Value) -> Option<u64> {
    doc.get("version").and_then(Value::as_u64)
}

/// Whether `found` (the record with the create's key, if any) is the
/// record `create` makes: version 1 and every expected field equal.
pub fn created(create: &Create, found: Option<&Value>) -> State {
    let Some(doc) = found else {
        return State::NotApplied;
    };
    if version(doc) != Some(1) {
        return State::Neither(format!(
            "created {} {:?} has version {:?}, not 1",
            create.kind,
            create.key,
            version(doc)
        ));
    }
    let Value::Object(expect) = &create.expect else {
        return State::Neither(format!("the expectation of {:?} is no object", create.key));
    };
    for (field, value) in expect {
        if doc.get(field) != Some(value) {
            return State::Neither(format!(
                "created {} {:?}: {field} is {:?}, expected {value}",
                create.kind,
                create.key,
                doc.get(field)
            ));
        }
    }
    State::Applied
}

/// Whether `now` is `before` changed by `update` (its merge patch and new
/// version; `updatedAt` may move), or exactly `before`.
pub fn updated(update: &Update, before: &Value, now: Option<&Value>) -> State {
    let Some(now) = now else {
        return State::Neither(format!(
            "{} {} is missing (it was to be updated)",
            update.kind, update.id
        ));
    };
    if now == before {
        return State::NotApplied;
    }
    let skip = ["version", "updatedAt"];
    let wanted = without(&merge_patch(before, &update.expect), &skip);
    if version(now) == Some(update.version) && without(now, &skip) == wanted {
        State::Applied
    } else {
        State::Neither(format!(
            "{} {} is neither as before (version {:?}) nor updated to version {}: {}",
            update.kind,
            update.id,
            version(before),
            update.version,
            brief(now)
        ))
    }
}

/// Whether a record to delete is gone, or exactly as before.
pub fn deleted(before: &Value, now: Option<&Value>) -> State {
    match now {
        None => State::Applied,
        Some(now) if now == before => State::NotApplied,
        Some(now) => State::Neither(format!(
            "a record to delete changed instead: {}",
            brief(now)
        )),
    }
}

/// Whether a login's bookkeeping is in `now`: only the timestamp
/// `field` (`lastLoginAt`, `lastUsedAt`) moved; or nothing did.
pub fn logged_in(field: &str, before: &Value, now: Option<&Value>) -> State {
    let Some(now) = now else {
        return State::Neither("the record that logged in is missing".into());
    };
    if now == before {
        return State::NotApplied;
    }
    let moved = now.get(field).is_some_and(|t| !t.is_null()) && now.get(field) != before.get(field);
    if moved && without(now, &[field]) == without(before, &[field]) {
        State::Applied
    } else {
        State::Neither(format!("a login changed more than {field}: {}", brief(now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rosterdb::EntityKind;
    use serde_json::json;

    fn update(expect: Value) -> Update {
        Update {
            kind: EntityKind::User,
            id: 7,
            version: 3,
            expect,
        }
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let doc = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        let patched = merge_patch(&doc, &json!({"b": {"c": null, "x": 4}, "e": [2], "f": "g"}));
        assert_eq!(
            patched,
            json!({"a": 1, "b": {"d": 3, "x": 4}, "e": [2], "f": "g"})
        );
    }

    #[test]
    fn an_update_is_applied_not_applied_or_neither() {
        let before = json!({"id": 7, "version": 2, "updatedAt": "t1", "firstName": "A", "x": 1});
        let u = update(json!({"firstName": "B"}));
        let after = json!({"id": 7, "version": 3, "updatedAt": "t2", "firstName": "B", "x": 1});
        assert_eq!(updated(&u, &before, Some(&after)), State::Applied);
        assert_eq!(updated(&u, &before, Some(&before)), State::NotApplied);
        // The version moved but the field did not: half a write.
        let half = json!({"id": 7, "version": 3, "updatedAt": "t2", "firstName": "A", "x": 1});
        assert!(matches!(
            updated(&u, &before, Some(&half)),
            State::Neither(_)
        ));
        // The field moved and another one too.
        let more = json!({"id": 7, "version": 3, "updatedAt": "t2", "firstName": "B", "x": 2});
        assert!(matches!(
            updated(&u, &before, Some(&more)),
            State::Neither(_)
        ));
        assert!(matches!(updated(&u, &before, None), State::Neither(_)));
    }

    #[test]
    fn a_create_must_hold_every_expected_field() {
        let c = Create {
            kind: EntityKind::Role,
            key: "r".into(),
            expect: json!({"name": "r", "permissions": ["p"]}),
        };
        let good = json!({"id": 1, "name": "r", "permissions": ["p"], "version": 1});
        assert_eq!(created(&c, Some(&good)), State::Applied);
        assert_eq!(created(&c, None), State::NotApplied);
        let wrong = json!({"id": 1, "name": "r", "permissions": [], "version": 1});
        assert!(matches!(created(&c, Some(&wrong)), State::Neither(_)));
    }

    #[test]
    fn a_login_moves_only_its_timestamp() {
        let before = json!({"id": 1, "lastLoginAt": null, "version": 2});
        let after = json!({"id": 1, "lastLoginAt": "t", "version": 2});
        assert_eq!(
            logged_in("lastLoginAt", &before, Some(&after)),
            State::Applied
        );
        assert_eq!(
            logged_in("lastLoginAt", &before, Some(&before)),
            State::NotApplied
        );
        let bumped = json!({"id": 1, "lastLoginAt": "t", "version": 3});
        assert!(matches!(
            logged_in("lastLoginAt", &before, Some(&bumped)),
            State::Neither(_)
        ));
    }
}
