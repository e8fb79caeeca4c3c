//! Every error's message is pinned, and no secret reaches an error, Debug or Display.

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

mod common;

use common::{store, user};
use rosterdb::Store;
use rosterdb::{
    EntityKind, Error, FieldError, NewClient, NewUser, PatchCode, QueryCode, Secret, ValidationCode,
};
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
                    FieldError::new("username", ValidationCode::Missing, "is required"),
                    FieldError::new(
                        "email",
                        ValidationCode::StringTooShort,
                        "must be 5 to 255 characters",
                    ),
                ],
            },
            "invalid document: username: is required; email: must be 5 to 255 characters",
        ),
        (
            Error::invalid(
                "",
                ValidationCode::ObjectType,
                "the document must be a JSON object",
            ),
            "invalid document: the document must be a JSON object",
        ),
        (
            Error::InvalidQuery {
                code: QueryCode::Syntax,
                message: "unexpected ')'".into(),
                position: Some(7),
                field: None,
            },
            "invalid query: unexpected ')' (at position 7)",
        ),
        (
            Error::query(QueryCode::UnknownField, "unknown field").for_field("nmae"),
            "invalid query: unknown field (field nmae)",
        ),
        (
            Error::query(QueryCode::TypeMismatch, "type mismatch")
                .at_position(3)
                .for_field("enabled"),
            "invalid query: type mismatch (at position 3, field enabled)",
        ),
        (
            Error::query(QueryCode::InvalidCursor, "bad cursor"),
            "invalid query: bad cursor",
        ),
        (
            Error::patch(2, PatchCode::ReadOnly, "/id is read-only"),
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
                path: Some("/tmp/x.roster".into()),
                source: None,
            },
            "storage error: disk full",
        ),
        (Error::closed("the store is closed"), "the store is closed"),
        (
            Error::busy("the store is in use by another call"),
            "busy: the store is in use by another call",
        ),
        (
            Error::internal("an inexact access was counted"),
            "internal error (a bug in rosterdb; please report it): an inexact access was counted",
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

/// Number literals in queries (docs/reference/errors.md): one that is out of range says
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
                    ..
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
    let ids = |q| common::user_ids(&s, q);
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

/// Every code string is pinned: changing one, or adding a code without
/// pinning it here, fails (the strings are API, docs/reference/errors.md and docs/errors.md).
#[test]
fn every_code_string_is_pinned() {
    let validation = [
        (ValidationCode::Missing, "missing"),
        (ValidationCode::UnknownField, "unknown_field"),
        (ValidationCode::ReadOnly, "read_only"),
        (ValidationCode::Immutable, "immutable"),
        (ValidationCode::NotAllowed, "not_allowed"),
        (ValidationCode::StringType, "string_type"),
        (ValidationCode::BoolType, "bool_type"),
        (ValidationCode::ObjectType, "object_type"),
        (ValidationCode::ListType, "list_type"),
        (ValidationCode::JsonType, "json_type"),
        (ValidationCode::JsonInvalid, "json_invalid"),
        (ValidationCode::StringUnicode, "string_unicode"),
        (ValidationCode::FiniteNumber, "finite_number"),
        (ValidationCode::NumberOutOfRange, "number_out_of_range"),
        (ValidationCode::InvalidNumber, "invalid_number"),
        (ValidationCode::TooDeep, "too_deep"),
        (ValidationCode::TooLarge, "too_large"),
        (ValidationCode::TooManyEntries, "too_many_entries"),
        (ValidationCode::StringTooShort, "string_too_short"),
        (ValidationCode::StringTooLong, "string_too_long"),
        (ValidationCode::ControlCharacters, "control_characters"),
        (ValidationCode::InvalidCharacters, "invalid_characters"),
        (ValidationCode::InvalidEmail, "invalid_email"),
        (ValidationCode::InvalidIp, "invalid_ip"),
        (ValidationCode::InvalidHash, "invalid_hash"),
        (ValidationCode::InvalidTimestamp, "invalid_timestamp"),
        (ValidationCode::Duplicate, "duplicate"),
        (ValidationCode::NotOneOf, "not_one_of"),
        (ValidationCode::RoleNotFound, "role_not_found"),
        (ValidationCode::TenantMismatch, "tenant_mismatch"),
        (ValidationCode::LimitReached, "limit_reached"),
        (ValidationCode::InvalidState, "invalid_state"),
    ];
    let query = [
        (QueryCode::Syntax, "syntax"),
        (QueryCode::TooDeep, "too_deep"),
        (QueryCode::NumberOutOfRange, "number_out_of_range"),
        (QueryCode::StringUnicode, "string_unicode"),
        (QueryCode::UnknownField, "unknown_field"),
        (QueryCode::WriteOnly, "write_only"),
        (QueryCode::TypeMismatch, "type_mismatch"),
        (QueryCode::NotSortable, "not_sortable"),
        (QueryCode::NotTopLevel, "not_top_level"),
        (QueryCode::InvalidPaging, "invalid_paging"),
        (QueryCode::ConflictingParameters, "conflicting_parameters"),
        (QueryCode::DuplicateParameter, "duplicate_parameter"),
        (QueryCode::InvalidParameter, "invalid_parameter"),
        (QueryCode::InvalidCursor, "invalid_cursor"),
        (QueryCode::CursorMismatch, "cursor_mismatch"),
    ];
    let patch = [
        (PatchCode::NotAnArray, "not_an_array"),
        (PatchCode::JsonInvalid, "json_invalid"),
        (PatchCode::InvalidOperation, "invalid_operation"),
        (PatchCode::UnknownOp, "unknown_op"),
        (PatchCode::MissingMember, "missing_member"),
        (PatchCode::PointerSyntax, "pointer_syntax"),
        (PatchCode::RootTarget, "root_target"),
        (PatchCode::ReadOnly, "read_only"),
        (PatchCode::WriteOnly, "write_only"),
        (PatchCode::PathNotFound, "path_not_found"),
        (PatchCode::MoveIntoItself, "move_into_itself"),
        (PatchCode::TestFailed, "test_failed"),
        (PatchCode::TooDeep, "too_deep"),
        (PatchCode::TooLarge, "too_large"),
    ];
    assert_eq!(
        ValidationCode::ALL,
        validation.map(|(c, _)| c),
        "every code, in order"
    );
    assert_eq!(QueryCode::ALL, query.map(|(c, _)| c));
    assert_eq!(PatchCode::ALL, patch.map(|(c, _)| c));
    for (code, text) in validation {
        assert_eq!(code.as_str(), text);
        assert_eq!(code.to_string(), text);
        assert_eq!(ValidationCode::parse(text), Some(code));
        assert_eq!(serde_json::to_value(code).unwrap(), json!(text));
        assert_eq!(
            serde_json::from_value::<ValidationCode>(json!(text)).unwrap(),
            code
        );
    }
    for (code, text) in query {
        assert_eq!((code.as_str(), code.to_string()), (text, text.to_owned()));
        assert_eq!(QueryCode::parse(text), Some(code));
    }
    for (code, text) in patch {
        assert_eq!((code.as_str(), code.to_string()), (text, text.to_owned()));
        assert_eq!(PatchCode::parse(text), Some(code));
    }
    assert_eq!(ValidationCode::parse("Missing"), None);
    assert!(serde_json::from_value::<QueryCode>(json!("nope")).is_err());
}

/// docs/errors.md documents every code of every family.
#[test]
fn the_error_docs_list_every_code() {
    let docs = include_str!("../../docs/errors.md");
    let section = |title: &str| {
        let start = docs
            .find(title)
            .unwrap_or_else(|| panic!("docs/errors.md has no {title:?}"));
        let rest = &docs[start + title.len()..];
        &rest[..rest.find("\n## ").unwrap_or(rest.len())]
    };
    let listed = |section: &str, code: &str| section.contains(&format!("| `{code}` |"));
    let validation = section("## Validation codes");
    for code in ValidationCode::ALL {
        assert!(listed(validation, code.as_str()), "{code} is undocumented");
    }
    let query = section("## Query codes");
    for code in QueryCode::ALL {
        assert!(listed(query, code.as_str()), "{code} is undocumented");
    }
    let patch = section("## Patch codes");
    for code in PatchCode::ALL {
        assert!(listed(patch, code.as_str()), "{code} is undocumented");
    }
}

/// The codes of a `Validation` error, by field (in field order).
fn field_codes<T: std::fmt::Debug>(result: rosterdb::Result<T>) -> Vec<(String, ValidationCode)> {
    match result {
        Err(Error::Validation { errors }) => {
            let mut codes: Vec<_> = errors.into_iter().map(|e| (e.field, e.code)).collect();
            codes.sort();
            codes
        }
        other => panic!("expected Validation, got {other:?}"),
    }
}

fn codes(pairs: &[(&str, ValidationCode)]) -> Vec<(String, ValidationCode)> {
    let mut codes: Vec<_> = pairs.iter().map(|&(f, c)| (f.to_owned(), c)).collect();
    codes.sort();
    codes
}

#[test]
fn field_errors_carry_the_code_of_each_rule() {
    use ValidationCode as V;
    let doc = json!({
        "username": "a b", "email": "nope.example", "firstName": "", "lastName": "x".repeat(51),
        "nickname": "tab\there", "enabled": "yes", "roles": [-1], "createdAt": "now",
        "externalIds": [{"type": "t", "value": "v"}, {"type": "T", "value": "v"}],
        "color": "red", "attributes": [], "passwordHash": "$plain$x",
    });
    assert_eq!(
        field_codes(NewUser::from_json(&doc)),
        codes(&[
            ("enabled", V::BoolType),
            ("roles", V::ListType),
            ("attributes", V::ObjectType),
            ("createdAt", V::ReadOnly),
            ("color", V::UnknownField),
            ("username", V::InvalidCharacters),
            ("email", V::InvalidEmail),
            ("firstName", V::StringTooShort),
            ("lastName", V::StringTooLong),
            ("nickname", V::ControlCharacters),
            ("externalIds[1]", V::Duplicate),
            ("passwordHash", V::InvalidHash),
        ])
    );
    assert_eq!(
        field_codes(NewUser::from_json(&json!({"username": 1}))),
        codes(&[
            ("username", V::StringType),
            ("email", V::Missing),
            ("firstName", V::Missing),
            ("lastName", V::Missing),
        ])
    );
    assert_eq!(
        field_codes(NewUser::from_json(&json!([]))),
        codes(&[("", V::ObjectType)])
    );
    let s = store();
    assert_eq!(
        field_codes(s.users().create(NewUser {
            roles: vec![7],
            ..user("ann")
        })),
        codes(&[("roles", V::RoleNotFound)])
    );
    assert_eq!(
        field_codes(s.scoped("acme").unwrap().users().create(NewUser {
            tenant: Some("other".into()),
            ..user("bob")
        })),
        codes(&[("tenant", V::TenantMismatch)])
    );
    // Read from JSON in a view, the tenant rule and the document's own
    // problems are reported together.
    let acme = s.scoped("acme").unwrap();
    assert_eq!(
        field_codes(acme.users().input_from_json(&serde_json::json!({
            "username": "bob", "email": "not an email", "firstName": "B",
            "lastName": "L", "tenant": "other",
        }))),
        codes(&[("tenant", V::TenantMismatch), ("email", V::InvalidEmail)])
    );
    assert!(
        acme.users()
            .input_from_json(&serde_json::json!({
                "username": "bob", "email": "bob@example.com", "firstName": "B",
                "lastName": "L", "tenant": "acme",
            }))
            .is_ok()
    );
    // Without the view, `from_json_in` reads as the view would: the same
    // problems for the same scope, and another tenant is no problem for
    // the whole store.
    let other_tenant = serde_json::json!({
        "username": "bob", "email": "not an email", "firstName": "B",
        "lastName": "L", "tenant": "other",
    });
    assert_eq!(
        field_codes(NewUser::from_json_in(&other_tenant, Some("acme"))),
        codes(&[("tenant", V::TenantMismatch), ("email", V::InvalidEmail)])
    );
    assert_eq!(
        field_codes(NewUser::from_json_in(&other_tenant, None)),
        codes(&[("email", V::InvalidEmail)])
    );
    assert_eq!(
        field_codes(rosterdb::NewRole::from_json_in(
            &serde_json::json!({"name": "staff", "tenant": "other", "x": 1}),
            Some("acme"),
        )),
        codes(&[("tenant", V::TenantMismatch), ("x", V::UnknownField)])
    );
    assert_eq!(
        field_codes(s.scoped("a b").map(|_| ())),
        codes(&[("tenant", V::InvalidCharacters)])
    );
    let created = s.users().create(user("cid")).unwrap();
    assert_eq!(
        field_codes(
            s.users()
                .merge(created.id, &json!({"tenant": "t", "id": 99}), None)
        ),
        codes(&[("id", V::ReadOnly), ("tenant", V::Immutable)])
    );
}

/// The code of an `InvalidQuery` error.
fn query_code(result: rosterdb::Result<rosterdb::Query>, s: &Store) -> QueryCode {
    match result.and_then(|q| s.users().list(&q).map(|_| ())) {
        Err(Error::InvalidQuery { code, .. }) => code,
        other => panic!("expected InvalidQuery, got {other:?}"),
    }
}

#[test]
fn query_errors_carry_the_code_of_each_problem() {
    use QueryCode as Q;
    use rosterdb::Query;
    let s = store();
    let params = |pairs: &[(&str, &str)]| Query::from_params(pairs);
    let cases = [
        (Query::parse("username = 'ann"), Q::Syntax),
        (Query::parse("username ="), Q::Syntax),
        (
            Query::parse(&format!("{}a = 1{}", "(".repeat(100), ")".repeat(100))),
            Q::TooDeep,
        ),
        (
            Query::parse("id = 99999999999999999999"),
            Q::NumberOutOfRange,
        ),
        (Query::parse("nmae = 'x'"), Q::UnknownField),
        (Query::parse("password = 'x'"), Q::WriteOnly),
        (Query::parse("enabled = 'x'"), Q::TypeMismatch),
        (params(&[("id", "abc")]), Q::TypeMismatch),
        (params(&[("id", "-1")]), Q::NumberOutOfRange),
        (Ok(Query::all().sort("attributes")), Q::NotSortable),
        (Ok(Query::all().fields("attributes.x")), Q::NotTopLevel),
        (params(&[("pageSize", "0")]), Q::InvalidPaging),
        (Ok(Query::all().page(1, 0)), Q::InvalidPaging),
        (
            params(&[("page", "1"), ("offset", "1")]),
            Q::ConflictingParameters,
        ),
        (
            params(&[("sort", "id"), ("sort", "id")]),
            Q::DuplicateParameter,
        ),
        (params(&[("withTotal", "maybe")]), Q::InvalidParameter),
        (params(&[("", "x")]), Q::InvalidParameter),
        (params(&[("cursor", "")]), Q::InvalidCursor),
        (params(&[("cursor", "not-a-cursor")]), Q::InvalidCursor),
    ];
    for (i, (query, code)) in cases.into_iter().enumerate() {
        assert_eq!(query_code(query, &s), code, "case {i}");
    }
    for name in ["ann", "bob"] {
        s.users().create(user(name)).unwrap();
    }
    let first = s.users().list(&Query::all().offset(0, 1)).unwrap();
    let cursor = first.next_cursor.expect("a second page");
    let other = Query::parse("enabled = false").map(|q| q.cursor(&cursor));
    assert_eq!(query_code(other, &s), Q::CursorMismatch);
    assert!(matches!(
        s.roles().list(&Query::all().cursor(&cursor)),
        Err(Error::InvalidQuery {
            code: Q::InvalidCursor,
            ..
        })
    ));
    assert!(matches!(
        s.changes(0, 0),
        Err(Error::InvalidQuery {
            code: Q::InvalidPaging,
            ..
        })
    ));
}

#[test]
fn patch_errors_carry_the_code_of_each_problem() {
    use PatchCode as P;
    let s = store();
    let u = s
        .users()
        .create(NewUser {
            attributes: json!({"tags": ["a"]}).as_object().cloned().unwrap(),
            ..user("ann")
        })
        .unwrap();
    let cases = [
        (json!({}), P::NotAnArray),
        (json!([1]), P::InvalidOperation),
        (
            json!([{"op": "frobnicate", "path": "/nickname"}]),
            P::UnknownOp,
        ),
        (
            json!([{"op": "add", "path": "/nickname"}]),
            P::MissingMember,
        ),
        (
            json!([{"op": "remove", "path": "nickname"}]),
            P::PointerSyntax,
        ),
        (json!([{"op": "remove", "path": 3}]), P::PointerSyntax),
        (
            json!([{"op": "add", "path": "", "value": {}}]),
            P::RootTarget,
        ),
        (
            json!([{"op": "replace", "path": "/id", "value": 9}]),
            P::ReadOnly,
        ),
        (json!([{"op": "remove", "path": "/password"}]), P::WriteOnly),
        (
            json!([{"op": "remove", "path": "/attributes/nope"}]),
            P::PathNotFound,
        ),
        (
            json!([{"op": "move", "from": "/attributes", "path": "/attributes/x"}]),
            P::MoveIntoItself,
        ),
        (
            json!([{"op": "test", "path": "/username", "value": "bob"}]),
            P::TestFailed,
        ),
    ];
    for (ops, code) in cases {
        match s.users().patch(u.id, &ops, None) {
            Err(Error::InvalidPatch { code: got, .. }) => assert_eq!(got, code, "{ops}"),
            other => panic!("{ops}: expected InvalidPatch, got {other:?}"),
        }
    }
    // Copies that double the document each time outgrow it.
    let mut ops = vec![json!({"op": "add", "path": "/attributes/x", "value": "y".repeat(1000)})];
    for i in 0..20 {
        ops.push(json!({"op": "copy", "from": "/attributes", "path": format!("/attributes/c{i}")}));
    }
    match s.users().patch(u.id, &json!(ops), None) {
        Err(Error::InvalidPatch { code, .. }) => assert_eq!(code, P::TooLarge),
        other => panic!("expected InvalidPatch, got {other:?}"),
    }
}

#[test]
fn storage_errors_keep_their_source_and_name_the_file() {
    use std::error::Error as _;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("store.roster");
    let err = Store::open(&missing, common::options()).unwrap_err();
    let Error::Storage { path, source, .. } = &err else {
        panic!("expected Storage, got {err:?}");
    };
    assert_eq!(path.as_deref(), Some(missing.as_path()));
    assert!(source.is_some());
    let io = err.io_error().expect("an io::Error beneath");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert!(io.raw_os_error().is_some());
    assert!(err.source().is_some(), "source() gives the cause");

    let s = store();
    let out = dir.path().join("nowhere").join("export.jsonl");
    let err = s.export_jsonl(&out).unwrap_err();
    assert!(
        matches!(&err, Error::Storage { path: Some(p), .. } if *p == out),
        "{err:?}"
    );
    let cause = err.source().expect("a source");
    let io = cause
        .downcast_ref::<std::io::Error>()
        .expect("the source is the io::Error");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(err.to_string(), format!("storage error: {io}"), "{err}");

    let err = s.import_jsonl(dir.path().join("absent.jsonl")).unwrap_err();
    assert!(
        matches!(&err, Error::Storage { path: Some(_), .. }),
        "{err:?}"
    );
    assert_eq!(
        err.io_error().map(std::io::Error::kind),
        Some(std::io::ErrorKind::NotFound)
    );

    // Errors stay comparable and cloneable: equal when described alike.
    assert_eq!(err.clone(), err);
    assert_ne!(err, Error::storage("storage error"));
    assert!(Error::storage("x").io_error().is_none());
    assert!(Error::storage("x").source().is_none());
}

#[test]
fn errors_about_a_list_item_name_the_item() {
    let whole = Error::invalid("", ValidationCode::ObjectType, "not a document");
    let field = Error::Validation {
        errors: vec![
            FieldError::new("email", ValidationCode::StringType, "bad"),
            FieldError::new("attributes.level", ValidationCode::JsonType, "bad"),
        ],
    };
    let names = |e: Error| match e {
        Error::Validation { errors } => errors.into_iter().map(|e| e.field).collect::<Vec<_>>(),
        other => panic!("expected Validation, got {other:?}"),
    };
    assert_eq!(names(whole.in_item("users", 3)), ["users[3]"]);
    assert_eq!(
        names(field.in_item("docs", 0)),
        ["docs[0].email", "docs[0].attributes.level"]
    );
    // Any other error is left as it is.
    let conflict = Error::Conflict {
        entity: rosterdb::EntityKind::User,
        field: "email".into(),
    };
    assert!(matches!(
        conflict.in_item("users", 1),
        Error::Conflict { field, .. } if field == "email"
    ));
}

/// A document's unknown members are named in document order, among the
/// other problems, however many members it has (up to 32 are found by
/// scanning, more by hashing) and whether it is borrowed or consumed.
#[test]
fn unknown_members_are_named_in_document_order_in_documents_of_any_size() {
    use ValidationCode as V;
    // 3 known members, the extra ones and `id`: 5, 32 (the most scanned), 33 and 44.
    for extra in [1_usize, 28, 29, 40] {
        let mut doc = json!({"username": "bob", "email": "b@example.com", "firstName": "B"});
        for i in 0..extra {
            doc[format!("x{i:02}")] = json!(i);
        }
        // A read-only member and a missing one, after the unknown ones.
        doc["id"] = json!(7);
        let mut expected: Vec<(String, V)> = (0..extra)
            .map(|i| (format!("x{i:02}"), V::UnknownField))
            .collect();
        expected.push(("id".into(), V::ReadOnly));
        expected.push(("lastName".into(), V::Missing));
        let in_order = |result: rosterdb::Result<NewUser>| match result {
            Err(Error::Validation { errors }) => {
                let mut got: Vec<(String, V)> =
                    errors.into_iter().map(|e| (e.field, e.code)).collect();
                // The unknown members come in document order; the rest
                // as the reader meets them.
                let (unknown, mut rest): (Vec<_>, Vec<_>) =
                    got.drain(..).partition(|(_, c)| *c == V::UnknownField);
                rest.sort();
                unknown.into_iter().chain(rest).collect::<Vec<_>>()
            }
            other => panic!("expected Validation, got {other:?}"),
        };
        let mut sorted_tail = expected.split_off(extra);
        sorted_tail.sort();
        expected.extend(sorted_tail);
        assert_eq!(
            in_order(NewUser::from_json(&doc)),
            expected,
            "{extra} extra"
        );
        assert_eq!(
            in_order(NewUser::validated_from_json(doc, None).map(rosterdb::Validated::into_input)),
            expected,
            "{extra} extra, consumed"
        );
    }
}
