//! Every error's message is pinned, and no secret reaches an error, Debug or Display.

mod common;

use common::{store, user};
use rosterdb::{EntityKind, Error, FieldError, NewClient, NewUser, Secret};
use serde_json::json;

#[test]
fn every_error_kind_displays_as_pinned() {
    let table: Vec<(Error, &str)> = vec![
        (
            Error::NotFound {
                entity: EntityKind::User,
                key: "id 42".into(),
            },
            "user not found: id 42",
        ),
        (
            Error::Conflict {
                entity: EntityKind::Role,
                field: "name".into(),
            },
            "role name is already taken",
        ),
        (
            Error::Validation {
                errors: vec![
                    FieldError::new("username", "is required"),
                    FieldError::new("email", "must be 5 to 255 characters"),
                ],
            },
            "invalid document: username: is required; email: must be 5 to 255 characters",
        ),
        (
            Error::invalid("", "the document must be a JSON object"),
            "invalid document: the document must be a JSON object",
        ),
        (
            Error::InvalidQuery {
                message: "unexpected ')'".into(),
                position: Some(7),
                field: None,
            },
            "invalid query: unexpected ')' (at position 7)",
        ),
        (
            Error::InvalidQuery {
                message: "unknown field".into(),
                position: None,
                field: Some("nmae".into()),
            },
            "invalid query: unknown field (field nmae)",
        ),
        (
            Error::InvalidQuery {
                message: "type mismatch".into(),
                position: Some(3),
                field: Some("enabled".into()),
            },
            "invalid query: type mismatch (at position 3, field enabled)",
        ),
        (
            Error::InvalidQuery {
                message: "bad cursor".into(),
                position: None,
                field: None,
            },
            "invalid query: bad cursor",
        ),
        (
            Error::InvalidPatch {
                op_index: 2,
                message: "/id is read-only".into(),
            },
            "invalid patch: operation 2: /id is read-only",
        ),
        (
            Error::VersionConflict {
                expected: 3,
                actual: 4,
            },
            "version conflict: expected version 3, found 4",
        ),
        (
            Error::InUse { id: 5, count: 12 },
            "role 5 is held by 12 users or clients; delete with cascade to remove it from them",
        ),
        (Error::AuthenticationFailed, "authentication failed"),
        (Error::InvalidToken, "invalid or expired session token"),
        (
            Error::Locked,
            "the store file is locked by another process or store",
        ),
        (
            Error::IncompatibleFormat {
                reason: "not a rosterdb file".into(),
            },
            "incompatible file format: not a rosterdb file",
        ),
        (
            Error::InvalidArgument {
                argument: "lockout_seconds".into(),
                message: "must be 1 to 31536000".into(),
            },
            "invalid argument lockout_seconds: must be 1 to 31536000",
        ),
        (
            Error::Storage {
                message: "disk full".into(),
            },
            "storage error: disk full",
        ),
    ];
    for (error, text) in table {
        assert_eq!(error.to_string(), text, "{error:?}");
    }
}

#[test]
fn entity_kinds_have_lowercase_names() {
    for (kind, name) in [
        (EntityKind::User, "user"),
        (EntityKind::Role, "role"),
        (EntityKind::Client, "client"),
    ] {
        assert_eq!(kind.to_string(), name);
        assert_eq!(serde_json::to_value(kind).unwrap(), json!(name));
    }
}

/// Checks that `secret` appears in neither the Display nor the Debug of `value`.
fn assert_hidden<T: std::fmt::Debug>(value: &T, display: &str, secret: &str) {
    assert!(!display.contains(secret), "leaked in Display: {display}");
    let debug = format!("{value:?}");
    assert!(!debug.contains(secret), "leaked in Debug: {debug}");
}

#[test]
fn passwords_never_reach_errors() {
    let s = store();
    for password in ["short", &"x".repeat(1025), "hunter2-but-longer"] {
        // A bad password, or a good one in a document that is bad elsewhere.
        let new = NewUser {
            password: Some(Secret::new(password)),
            ..NewUser::new("a b", "x", "", "")
        };
        let err = s.users().create(new).unwrap_err();
        assert_hidden(&err, &err.to_string(), password);
        let doc = json!({"username": "ok", "email": "bad", "firstName": "a", "lastName": "b",
            "password": password, "passwordHash": password});
        let err = NewUser::from_json(&doc).unwrap_err();
        assert_hidden(&err, &err.to_string(), password);
    }
    let doc = json!({"username": "ok", "email": "a@b.cd", "firstName": "a", "lastName": "b",
        "password": 12345678});
    let err = NewUser::from_json(&doc).unwrap_err();
    assert_hidden(&err, &err.to_string(), "12345678");
}

#[test]
fn secrets_are_redacted_in_debug() {
    let secret = Secret::new("s3cr3t-value");
    assert_eq!(format!("{secret:?}"), "Secret(***)");
    let new = NewUser {
        password: Some(secret.clone()),
        ..user("ann")
    };
    assert_hidden(&new, "", "s3cr3t-value");
    let created = store().clients().create(NewClient::new("svc")).unwrap();
    let exposed = created.secret.expose().to_owned();
    assert_hidden(
        &created,
        &serde_json::to_string(&created.client).unwrap(),
        &exposed,
    );
}

#[test]
fn conflicts_name_the_field_not_the_value() {
    let s = store();
    s.users().create(user("ann")).unwrap();
    let err = s.users().create(user("ann")).unwrap_err();
    assert_eq!(err.to_string(), "user username is already taken");
}
