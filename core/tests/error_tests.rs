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

/// Number literals in queries (SPEC §9, §13): one that is out of range says
/// so, which way, and gives the range, distinct from one that is no number;
/// paging values out of range are `InvalidQuery` too.
#[test]
fn numbers_out_of_range_say_so_with_the_range() {
    let s = store();
    for name in ["ann", "bob", "cid"] {
        s.users()
            .create(NewUser {
                attributes: json!({"n": 1}).as_object().cloned().unwrap(),
                ..user(name)
            })
            .unwrap();
    }
    // (field, position, message) of the error listing `query` gives.
    let refused =
        |query: rosterdb::Result<rosterdb::Query>| -> (Option<String>, Option<usize>, String) {
            let err = query
                .and_then(|q| s.users().list(&q).map(|_| ()))
                .expect_err("an InvalidQuery");
            match err {
                Error::InvalidQuery {
                    message,
                    position,
                    field,
                } => (field, position, message),
                other => panic!("expected InvalidQuery, got {other:?}"),
            }
        };
    let params = |pairs: &[(&str, &str)]| rosterdb::Query::from_params(pairs);
    let parse = rosterdb::Query::parse;
    const U64: &str = "from 0 to 18446744073709551615";
    // The example: a whole number, only too large.
    let (field, _, message) = refused(params(&[("id", "18446744073709551616")]));
    assert_eq!(field.as_deref(), Some("id"));
    assert_eq!(
        message,
        format!("18446744073709551616 is out of range (too large): id takes whole numbers {U64}")
    );
    let cases: &[(rosterdb::Result<rosterdb::Query>, &str, Option<usize>, &str)] = &[
        (
            params(&[("id", "-1")]),
            "id",
            Some(0),
            "-1 is out of range (too small)",
        ),
        (params(&[("id", "abc")]), "id", Some(0), "not a number"),
        (
            params(&[("id", "1.5")]),
            "id",
            Some(0),
            "1.5 is not a whole number",
        ),
        (
            params(&[("version", "99999999999999999999")]),
            "version",
            Some(0),
            "too large",
        ),
        (
            params(&[("roles", "in:1,18446744073709551616")]),
            "roles",
            Some(0),
            "too large",
        ),
        (
            params(&[("id", "gt:1e20")]),
            "id",
            Some(0),
            "1e20 is out of range (too large)",
        ),
        (
            parse("id = -1"),
            "id",
            Some(5),
            "-1 is out of range (too small)",
        ),
        (
            parse("version < 1e20"),
            "version",
            Some(10),
            "out of range (too large)",
        ),
        (
            parse("id = 2.5"),
            "id",
            Some(5),
            "2.5 is not a whole number",
        ),
        // Beyond every whole number a query can hold: the lexer says so.
        (
            params(&[("where", "id = 18446744073709551616")]),
            "where",
            Some(5),
            "the number 18446744073709551616 is out of range (too large): whole numbers must \
             be from -9223372036854775808 to 18446744073709551615",
        ),
        (
            params(&[("where", "attributes.n > -9223372036854775809")]),
            "where",
            Some(15),
            "out of range (too small)",
        ),
        (
            params(&[("where", "attributes.n < 1e999")]),
            "where",
            Some(15),
            "must be finite",
        ),
        // Parameter text for attributes: the same rules as the expression form.
        (
            params(&[("attributes.n", "18446744073709551616")]),
            "attributes.n",
            Some(0),
            "out of range (too large)",
        ),
        (
            params(&[("attributes.n", "gt:-1e400")]),
            "attributes.n",
            Some(0),
            "must be finite",
        ),
        // Paging.
        (
            params(&[("page", "0")]),
            "page",
            None,
            "page is out of range (too small)",
        ),
        (
            params(&[("page", "18446744073709551616")]),
            "page",
            None,
            "out of range (too large)",
        ),
        (
            params(&[("pageSize", "1001")]),
            "pageSize",
            None,
            "from 1 to 1000",
        ),
        (
            params(&[("limit", "0")]),
            "limit",
            None,
            "out of range (too small)",
        ),
        (
            params(&[("offset", "-1")]),
            "offset",
            None,
            "out of range (too small)",
        ),
        (
            params(&[("offset", "1e3")]),
            "offset",
            None,
            "offset is not a whole number",
        ),
        (
            Ok(rosterdb::Query::all().page(0, 10)),
            "page",
            None,
            "too small",
        ),
        (
            Ok(rosterdb::Query::all().page(1, 1001)),
            "pageSize",
            None,
            "too large",
        ),
        (
            Ok(rosterdb::Query::all().offset(0, 0)),
            "limit",
            None,
            "too small",
        ),
        (
            Ok(rosterdb::Query::all().page(u64::MAX, 100)),
            "page",
            None,
            "page is out of range (too large): it must be a whole number from 1 to \
             184467440737095517",
        ),
    ];
    for (query, field, position, message) in cases {
        let (got_field, got_position, got) = refused(query.clone());
        assert_eq!(got_field.as_deref(), Some(*field), "{query:?}: {got}");
        assert_eq!(got_position, *position, "{query:?}: {got}");
        assert!(
            got.contains(message),
            "{query:?}: {got:?} lacks {message:?}"
        );
        assert!(
            !got.contains("not a number") || message.contains("not a number"),
            "{got}"
        );
    }
    // In range: whole numbers written as decimals, floats for attributes,
    // the last page that fits.
    let ids = |q: rosterdb::Query| -> Vec<u64> {
        s.users()
            .list(&q)
            .unwrap()
            .items
            .iter()
            .map(|u| u.id)
            .collect()
    };
    assert_eq!(ids(params(&[("id", "2.0")]).unwrap()), [2]);
    assert_eq!(ids(parse("id < 3e0").unwrap()), [1, 2]);
    assert_eq!(ids(params(&[("attributes.n", "1e0")]).unwrap()), [1, 2, 3]);
    assert_eq!(
        ids(params(&[("attributes.n", "lt:1e20")]).unwrap()),
        [1, 2, 3]
    );
    assert_eq!(
        ids(params(&[("id", "18446744073709551615")]).unwrap()),
        Vec::<u64>::new()
    );
    assert!(ids(rosterdb::Query::all().page(184_467_440_737_095_517, 100)).is_empty());
}

#[test]
fn fields_are_named_as_paths() {
    use rosterdb::{PathStep, field_name};
    assert_eq!(field_name([]), "");
    assert_eq!(
        field_name([
            PathStep::Key("attributes"),
            PathStep::Key("tags"),
            PathStep::Index("2")
        ]),
        "attributes.tags[2]"
    );
    assert_eq!(
        field_name([
            PathStep::Key("externalIds"),
            PathStep::Index("0"),
            PathStep::Key("value")
        ]),
        "externalIds[0].value"
    );
    assert_eq!(field_name([PathStep::Index("-")]), "[-]");
}
