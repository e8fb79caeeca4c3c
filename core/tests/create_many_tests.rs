//! `create_many`, the bulk-import path: the same store as one `create`
//! per user (records, indexes, change log, query answers), and all or
//! nothing when any input fails as `create` would fail on it.

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

use common::{options, store, store_with_clock, user};
use rosterdb::{Error, ExternalId, NewRole, NewUser, Query, Store, ValidationCode};
use serde_json::json;

/// Varied users: names beyond ASCII, tenants, roles, external ids,
/// attributes, optional fields.
fn population(roles: &[u64]) -> Vec<NewUser> {
    let first = ["Anna", "Jörg", "Ωμέγα", "Иван", "李", "Zoë"];
    let last = ["Müller", "Smith", "Παπαδόπουλος", "Петров", "王", "Núñez"];
    (0..300_u64)
        .map(|n| {
            let f = first[(n % 6) as usize];
            let l = last[(n / 6 % 6) as usize];
            NewUser {
                tenant: (n % 5 == 0).then(|| format!("t{}", n % 3)),
                nickname: (n % 4 == 0).then(|| f.to_string()),
                telephone_number: (n % 2 == 0).then(|| format!("+44 20 7946 {n:04}")),
                enabled: n % 3 != 0,
                roles: if n % 5 == 0 {
                    Vec::new()
                } else {
                    vec![roles[(n % 3) as usize]]
                },
                external_ids: if n % 7 == 0 {
                    vec![ExternalId::new("github", format!("{}", 9_000 + n))]
                } else {
                    Vec::new()
                },
                attributes: json!({"n": n, "tag": format!("x{}", n % 9)})
                    .as_object()
                    .unwrap()
                    .clone(),
                password_hash: None,
                ..NewUser::new(
                    format!("{}.{}{n}", f.to_lowercase(), l.to_lowercase()),
                    format!("u{n}@example.org"),
                    f,
                    l,
                )
            }
        })
        .collect()
}

fn with_roles(s: &Store) -> Vec<u64> {
    (0..3)
        .map(|r| s.roles().create(NewRole::new(format!("r{r}"))).unwrap().id)
        .collect()
}

/// Two stores on clocks of their own (kept by the caller until the end)
/// holding the same three roles, whose ids it returns: what a test
/// comparing two ways of making the same store starts from.
fn twin_stores() -> (
    (common::Checked, rosterdb::ManualClock),
    (common::Checked, rosterdb::ManualClock),
    Vec<u64>,
) {
    let one = store_with_clock(options());
    let two = store_with_clock(options());
    let roles = with_roles(&one.0);
    assert_eq!(with_roles(&two.0), roles);
    (one, two, roles)
}

/// What a store answers: every user's document, queries, the change log.
fn answers(s: &Store) -> Vec<String> {
    let mut out = Vec::new();
    let all = s.users().list(&Query::all().page(1, 1_000)).unwrap();
    out.push(serde_json::to_string(&all.items).unwrap());
    for q in [
        "lastName co 'ller'",
        "email co '42'",
        "enabled = true and roles eq 2",
        "username sw 'an'",
        "firstName eq 'Jörg'",
    ] {
        let query = Query::parse(q).unwrap().sort("lastName").page(1, 1_000);
        let page = s.users().list(&query).unwrap();
        out.push(format!(
            "{q}: {:?}",
            page.items.iter().map(|u| u.id).collect::<Vec<_>>()
        ));
    }
    let search = Query::all().search("ller").page(1, 1_000);
    let page = s.users().list(&search).unwrap();
    out.push(format!(
        "{:?}",
        page.items.iter().map(|u| u.id).collect::<Vec<_>>()
    ));
    for change in s.changes(0, 1_000).unwrap() {
        out.push(format!("{change:?}"));
    }
    out
}

#[test]
fn a_bulk_create_makes_the_store_one_create_per_user_makes() {
    let ((one, _c1), (many, _c2), roles) = twin_stores();
    // Some users first, so the bulk create meets stored keys and ids.
    for u in population(&roles).into_iter().take(10) {
        one.users().create(u.clone()).unwrap();
        many.users().create(u).unwrap();
    }
    let rest: Vec<NewUser> = population(&roles).into_iter().skip(10).collect();
    one.write(|tx| {
        for u in rest.clone() {
            tx.users().create(u)?;
        }
        Ok(())
    })
    .unwrap();
    let ids = many.users().create_many(rest).unwrap();
    assert_eq!(ids, (11..=300).collect::<Vec<u64>>());
    assert_eq!(answers(&one), answers(&many));
    let next = user("after");
    assert_eq!(
        one.users().create(next.clone()).unwrap().id,
        many.users().create(next).unwrap().id
    );
}

#[test]
fn inside_a_transaction_the_created_users_are_seen_and_roll_back() {
    let s = store();
    let roles = with_roles(&s);
    let users = population(&roles);
    let _ = s.write(|tx| -> rosterdb::Result<()> {
        let ids = tx.users().create_many(users.clone())?;
        assert_eq!(tx.users().get(ids[5])?.username, users[5].username);
        let by_email = tx.users().get_by_email("u42@example.org", None)?;
        assert_eq!(by_email.id, ids[42]);
        assert_eq!(tx.users().count(&Query::all())?, 300);
        Err(Error::internal("roll back"))
    });
    assert_eq!(s.users().count(&Query::all()).unwrap(), 0);
    assert!(
        s.changes(0, 10)
            .unwrap()
            .iter()
            .all(|c| c.entity != rosterdb::EntityKind::User)
    );
}

/// Whether nothing of a failed bulk create is in the store: no user, no
/// change of a user, ids not moved.
fn nothing_written(s: &Store) {
    assert_eq!(s.users().count(&Query::all()).unwrap(), 1);
    let users: Vec<_> = s
        .changes(0, 100)
        .unwrap()
        .into_iter()
        .filter(|c| c.entity == rosterdb::EntityKind::User)
        .collect();
    assert_eq!(users.len(), 1);
    assert_eq!(s.users().create(user("next")).unwrap().id, 2);
}

#[test]
fn a_key_taken_in_the_store_or_in_the_batch_fails_the_whole_batch() {
    for (batch, field) in [
        (vec![user("a"), user("taken")], "username"),
        (
            vec![
                user("a"),
                NewUser {
                    email: "A@example.com".into(),
                    ..user("b")
                },
            ],
            "email",
        ),
        (
            vec![
                NewUser {
                    external_ids: vec![ExternalId::new("gh", "1")],
                    ..user("a")
                },
                NewUser {
                    external_ids: vec![ExternalId::new("gh", "1")],
                    ..user("b")
                },
            ],
            "externalIds",
        ),
    ] {
        let s = store();
        s.users().create(user("taken")).unwrap();
        match s.users().create_many(batch) {
            Err(Error::Conflict { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected a Conflict on {field}, got {other:?}"),
        }
        nothing_written(&s);
    }
}

/// A batch into a store holding many users names the first record, in
/// input order, that gives a taken key, whatever order the store's
/// indexes are searched in (by hash for usernames and e-mails).
#[test]
fn a_large_batch_names_the_first_taken_key_in_input_order() {
    let stored: Vec<NewUser> = (0..500).map(|n| user(&format!("s{n}"))).collect();
    let batch = |takes: &[(usize, &str)]| -> Vec<NewUser> {
        (0..400)
            .map(|n| {
                let mut new = user(&format!("n{n}"));
                for &(at, field) in takes {
                    if at == n && field == "username" {
                        new.username = format!("S{}", n + 7);
                    }
                    if at == n && field == "email" {
                        new.email = format!("s{}@EXAMPLE.com", n + 11);
                    }
                }
                new
            })
            .collect()
    };
    // Later conflicts in the other field, so that reporting the last one,
    // or by field, or in hash order, names the wrong one.
    for (takes, first) in [
        (
            vec![(40, "email"), (150, "username"), (399, "username")],
            "email",
        ),
        (
            vec![
                (41, "username"),
                (42, "email"),
                (43, "email"),
                (390, "email"),
            ],
            "username",
        ),
        (vec![(399, "email")], "email"),
        (vec![(0, "username")], "username"),
    ] {
        let s = store();
        s.users().create_many(stored.clone()).unwrap();
        match s.users().create_many(batch(&takes)) {
            Err(Error::Conflict { field, .. }) => assert_eq!(field, first, "{takes:?}"),
            other => panic!("{takes:?}: expected a Conflict on {first}, got {other:?}"),
        }
        assert_eq!(s.users().count(&Query::all()).unwrap(), 500);
        // With no key taken, the whole batch goes in, each user found by
        // its keys.
        let ids = s.users().create_many(batch(&[])).unwrap();
        assert_eq!(ids.len(), 400);
        for (n, id) in ids.iter().enumerate().step_by(37) {
            let by_email = s.users().get_by_email(&format!("N{n}@example.com"), None);
            assert_eq!(by_email.unwrap().id, *id);
        }
    }
}

#[test]
fn an_invalid_input_or_a_missing_role_fails_the_whole_batch() {
    let s = store();
    s.users().create(user("first")).unwrap();
    let bad_email = NewUser {
        email: "not an address".into(),
        ..user("b")
    };
    match s.users().create_many(vec![user("a"), bad_email]) {
        // The field is named inside its item: the second of `users`.
        Err(Error::Validation { errors }) => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["users[1].email"]);
        }
        other => panic!("expected Validation, got {other:?}"),
    }
    nothing_written(&s);
    let s = store();
    s.users().create(user("first")).unwrap();
    let missing_role = NewUser {
        roles: vec![77],
        ..user("b")
    };
    refused_for(
        s.users().create_many(vec![user("a"), missing_role]),
        ValidationCode::RoleNotFound,
    );
    nothing_written(&s);
}

/// Asserts that a bulk create failed with a `Validation` error holding
/// `code`.
fn refused_for(outcome: rosterdb::Result<Vec<u64>>, code: ValidationCode) {
    match outcome {
        Err(Error::Validation { errors }) => {
            assert!(errors.iter().any(|e| e.code == code), "{errors:?}");
        }
        other => panic!("expected Validation, got {other:?}"),
    }
}

#[test]
fn a_user_may_repeat_its_own_key_and_an_empty_batch_writes_nothing() {
    let s = store();
    let twice = NewUser {
        external_ids: vec![ExternalId::new("gh", "1"), ExternalId::new("gh", "1")],
        ..user("a")
    };
    let one_by_one = store();
    let single = one_by_one.users().create(twice.clone()).map(|u| u.id);
    let bulk = s.users().create_many(vec![twice]).map(|ids| ids[0]);
    assert_eq!(single.is_ok(), bulk.is_ok(), "{single:?} {bulk:?}");
    assert_eq!(
        s.users().create_many(Vec::new()).unwrap(),
        Vec::<u64>::new()
    );
}

#[test]
fn an_import_of_users_in_any_id_order_is_the_exported_store() {
    let (s, _clock) = store_with_clock(options());
    let roles = with_roles(&s);
    let ids = s.users().create_many(population(&roles)).unwrap();
    for id in ids.iter().filter(|id| *id % 11 == 0) {
        s.users().delete(*id).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let exported = dir.path().join("out.jsonl");
    s.export_jsonl(&exported).unwrap();
    // Users in descending id order: the bulk insert takes ids as given.
    let text = std::fs::read_to_string(&exported).unwrap();
    let (users, others): (Vec<&str>, Vec<&str>) =
        text.lines().partition(|l| l.contains("\"kind\":\"user\""));
    let mut lines: Vec<&str> = others;
    lines.extend(users.iter().rev());
    let reordered = dir.path().join("reordered.jsonl");
    std::fs::write(&reordered, lines.join("\n")).unwrap();
    let (copy, _c) = store_with_clock(options());
    copy.import_jsonl(&reordered).unwrap();
    let all = |st: &Store| {
        let page = st.users().list(&Query::all().page(1, 1_000)).unwrap();
        serde_json::to_string(&page.items).unwrap()
    };
    assert_eq!(all(&s), all(&copy));
    for q in ["lastName co 'ller'", "enabled = true and roles eq 2"] {
        let query = Query::parse(q).unwrap().sort("lastName").page(1, 1_000);
        let ids = |st: &Store| -> Vec<u64> {
            st.users()
                .list(&query)
                .unwrap()
                .items
                .iter()
                .map(|u| u.id)
                .collect()
        };
        assert_eq!(ids(&s), ids(&copy), "{q}");
    }
    assert_eq!(
        s.users().create(user("later")).unwrap().id,
        copy.users().create(user("later")).unwrap().id
    );
    // A user line given twice is a conflict on its id, and nothing stays.
    let mut twice: Vec<&str> = text.lines().collect();
    let first_user = *users.first().unwrap();
    twice.push(first_user);
    let doubled = dir.path().join("twice.jsonl");
    std::fs::write(&doubled, twice.join("\n")).unwrap();
    let empty = store();
    match empty.import_jsonl(&doubled) {
        Err(Error::Conflict { field, .. }) => assert_eq!(field, "id"),
        other => panic!("expected a Conflict on id, got {other:?}"),
    }
    assert_eq!(empty.users().count(&Query::all()).unwrap(), 0);
    // The first user that fails is the error: a new id with a taken
    // username before a taken id.
    let mut renamed: serde_json::Value = serde_json::from_str(first_user).unwrap();
    renamed["doc"]["id"] = json!(1_000_000);
    let renamed = renamed.to_string();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.push(&renamed);
    lines.push(users[1]);
    let both = dir.path().join("both.jsonl");
    std::fs::write(&both, lines.join("\n")).unwrap();
    match store().import_jsonl(&both) {
        Err(Error::Conflict { field, .. }) => assert_eq!(field, "username"),
        other => panic!("expected a Conflict on username, got {other:?}"),
    }
}

/// `population`, `n` users long (usernames and e-mails kept distinct).
fn population_of(roles: &[u64], n: usize) -> Vec<NewUser> {
    let base = population(roles);
    (0..n)
        .map(|i| {
            let mut u = base[i % base.len()].clone();
            u.username = format!("{}.{i}", u.username);
            u.email = format!("n{i}.{}", u.email);
            for e in &mut u.external_ids {
                *e = ExternalId::new("github", format!("{i}"));
            }
            u
        })
        .collect()
}

/// Every user's document, page by page, and the whole change log.
fn all_answers(s: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for page in 1.. {
        let items = s
            .users()
            .list(&Query::all().page(page, 1_000))
            .unwrap()
            .items;
        if items.is_empty() {
            break;
        }
        out.push(serde_json::to_string(&items).unwrap());
    }
    for q in ["lastName co 'ller'", "enabled = true and roles eq 2"] {
        let query = Query::parse(q).unwrap().sort("lastName").page(1, 1_000);
        let page = s.users().list(&query).unwrap();
        let ids: Vec<u64> = page.items.iter().map(|u| u.id).collect();
        out.push(format!(
            "{q}: {ids:?} of {:?}",
            s.users().count(&query).unwrap()
        ));
    }
    let mut after = 0;
    loop {
        let changes = s.changes(after, 1_000).unwrap();
        let Some(last) = changes.last() else {
            break;
        };
        after = last.seq;
        out.extend(changes.iter().map(|c| format!("{c:?}")));
    }
    out
}

#[test]
fn a_large_bulk_create_checked_and_gathered_on_several_threads_is_the_same_store() {
    // Large enough that the inputs are checked in two halves and the
    // flush groups the posting changes on a second thread.
    let ((one, _c1), (many, _c2), roles) = twin_stores();
    let users = population_of(&roles, 3_000);
    one.write(|tx| {
        for u in users.clone() {
            tx.users().create(u)?;
        }
        Ok(())
    })
    .unwrap();
    let ids = many.users().create_many(users).unwrap();
    assert_eq!(ids, (1..=3_000).collect::<Vec<u64>>());
    assert_eq!(all_answers(&one), all_answers(&many));
    let report = many.check().unwrap();
    assert!(report.ok, "{:?}", report.problems);
}

#[test]
fn in_a_large_batch_the_first_failing_input_is_the_error() {
    let s = store();
    s.users().create(user("first")).unwrap();
    let roles = with_roles(&s);
    let mut users = population_of(&roles, 2_000);
    // Failing inputs in both halves: the earlier one is reported.
    for at in [1_700, 1_200] {
        users[at].email = "not an address".into();
    }
    match s.users().create_many(users.clone()) {
        Err(Error::Validation { errors }) => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["users[1200].email"]);
        }
        other => panic!("expected Validation, got {other:?}"),
    }
    users[600].email = "no address either".into();
    match s.users().create_many(users) {
        Err(Error::Validation { errors }) => {
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["users[600].email"]);
        }
        other => panic!("expected Validation, got {other:?}"),
    }
    nothing_written(&s);
}

/// The error of creating `batch` one user after the other in one
/// transaction (rolled back), as a short text: what `create_many` must
/// fail with.
fn one_by_one_error(s: &Store, batch: &[NewUser]) -> String {
    let outcome = s.write(|tx| -> rosterdb::Result<()> {
        for new in batch {
            tx.users().create(new.clone())?;
        }
        Err(Error::internal("all created"))
    });
    format!("{:?}", outcome.unwrap_err())
}

/// Batches whose users repeat keys of the store and of each other, in
/// several fields and places: the error is the one the first failing
/// user gets when the users are created one after the other (a key
/// taken in the store before one repeated in the batch, the earlier
/// field of the user before the later).
#[test]
fn keys_repeated_in_a_batch_fail_as_one_create_after_the_other() {
    let ext = |value: &str| ExternalId::new("gh", value);
    let with = |name: &str, email: &str, ids: &[&str]| NewUser {
        email: email.into(),
        external_ids: ids.iter().map(|v| ext(v)).collect(),
        ..user(name)
    };
    let batches = [
        // A repeated email, then a later user whose username is taken in
        // the store and whose email repeats an earlier one.
        vec![
            with("a", "a@x.org", &[]),
            with("b", "A@X.org", &[]),
            with("taken", "b@x.org", &[]),
        ],
        vec![
            with("a", "a@x.org", &["1"]),
            with("taken", "A@x.org", &["1"]),
        ],
        // A later user repeating an external id and, after it, an email.
        vec![
            with("a", "a@x.org", &["1", "2"]),
            with("b", "b@x.org", &["3"]),
            with("c", "B@x.org", &["2", "4"]),
        ],
        // A user repeating an earlier one's external id in its second
        // place, before a later user's repeated email.
        vec![
            with("a", "a@x.org", &["1"]),
            with("b", "b@x.org", &["5", "1"]),
            with("c", "A@x.org", &[]),
        ],
        // Usernames repeated case-insensitively, far apart.
        (0..40)
            .map(|n| with(&format!("u{n}"), &format!("u{n}@x.org"), &[]))
            .chain([with("U7", "other@x.org", &["9"])])
            .collect(),
        // No repeat at all but the store's external id.
        vec![with("a", "a@x.org", &["taken"])],
    ];
    for batch in batches {
        let s = store();
        s.users()
            .create(NewUser {
                external_ids: vec![ext("taken")],
                ..user("taken")
            })
            .unwrap();
        let expected = one_by_one_error(&s, &batch);
        let got = format!("{:?}", s.users().create_many(batch.clone()).unwrap_err());
        assert_eq!(got, expected, "{batch:?}");
        assert!(got.contains("Conflict"), "{got}");
        nothing_written(&s);
    }
}

/// Inputs validated once (`NewUser::validated`, or read from JSON by
/// `validated_from_json`) make, through `create_many_validated`, the store
/// `create_many` makes of the same inputs.
#[test]
fn validated_inputs_make_the_store_checked_inputs_make() {
    let ((checked, _c1), (validated, _c2), roles) = twin_stores();
    // Large enough for the checked inputs' two halves.
    let users = population_of(&roles, 2_000);
    let ids = checked.users().create_many(users.clone()).unwrap();
    let inputs: Vec<rosterdb::Validated<NewUser>> =
        users.into_iter().map(|u| u.validated().unwrap()).collect();
    assert_eq!(
        validated.users().create_many_validated(inputs).unwrap(),
        ids
    );
    assert_eq!(all_answers(&checked), all_answers(&validated));
    let report = validated.check().unwrap();
    assert!(report.ok, "{:?}", report.problems);

    // Read from JSON documents, which the read consumes.
    let s = store();
    let docs = [
        json!({"username": "ann", "email": "ann@example.org", "firstName": "Ann",
               "lastName": "Lee", "attributes": {"team": ["a", "b"], "level": 3},
               "externalIds": [{"type": "github", "value": "17"}]}),
        json!({"username": "bo", "email": "bo@example.org", "firstName": "Bo",
               "lastName": "Ng", "enabled": false}),
    ];
    let inputs = docs
        .iter()
        .map(|d| NewUser::validated_from_json(d.clone(), None).unwrap())
        .collect();
    let ids = s.users().create_many_validated(inputs).unwrap();
    for (id, doc) in ids.into_iter().zip(&docs) {
        let user = serde_json::to_value(s.users().get(id).unwrap()).unwrap();
        for (key, value) in doc.as_object().unwrap() {
            assert_eq!(&user[key], value, "{key} of user {id}");
        }
    }
}

/// A validated input is not checked by its field rules again, but still
/// by what needs the store or the view: the tenant a scoped view gives,
/// its unique keys, its roles. The first failing input is the error, and
/// nothing is written.
#[test]
fn validated_inputs_still_meet_the_checks_of_the_store_and_the_view() {
    let valid = |u: NewUser| u.validated().unwrap();
    // A store with one user, for each failing batch (`nothing_written`
    // then creates a second).
    let fresh = || {
        let s = store();
        s.users().create(user("first")).unwrap();
        s
    };
    let s = fresh();
    let acme = s.scoped("acme").unwrap();
    let elsewhere = NewUser {
        tenant: Some("other".into()),
        ..user("b")
    };
    match acme
        .users()
        .create_many_validated(vec![valid(user("a")), valid(elsewhere)])
    {
        Err(Error::Validation { errors }) => {
            let fields: Vec<(&str, ValidationCode)> =
                errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
            assert_eq!(
                fields,
                [("users[1].tenant", ValidationCode::TenantMismatch)]
            );
        }
        other => panic!("expected Validation, got {other:?}"),
    }
    nothing_written(&s);
    let s = fresh();
    match s
        .users()
        .create_many_validated(vec![valid(user("a")), valid(user("first"))])
    {
        Err(Error::Conflict { field, .. }) => assert_eq!(field, "username"),
        other => panic!("expected a Conflict on username, got {other:?}"),
    }
    nothing_written(&s);
    let s = fresh();
    let missing_role = NewUser {
        roles: vec![77],
        ..user("b")
    };
    refused_for(
        s.users()
            .create_many_validated(vec![valid(user("a")), valid(missing_role)]),
        ValidationCode::RoleNotFound,
    );
    nothing_written(&s);
    // In the view, an input naming no tenant gets the view's.
    let s = fresh();
    let acme = s.scoped("acme").unwrap();
    let ids = acme
        .users()
        .create_many_validated(vec![valid(user("a"))])
        .unwrap();
    assert_eq!(
        s.users().get(ids[0]).unwrap().tenant.as_deref(),
        Some("acme")
    );
    // `validated` refuses what `validate` refuses, with the same error.
    let bad = NewUser {
        email: "not an address".into(),
        ..user("c")
    };
    assert_eq!(bad.validate(), bad.clone().validated().map(|_| ()));
    assert!(bad.validated().is_err());
}

/// A large batch of validated inputs meets the view as checked inputs
/// do: in a scoped view, the first input naming another tenant, in input
/// order, is the error wherever it lies (early or late, in either half of
/// the batch), nothing is written, and a batch without one creates every
/// user in the view's tenant.
#[test]
fn a_large_validated_batch_meets_the_view_in_input_order() {
    let s = store();
    s.users().create(user("first")).unwrap();
    let acme = s.scoped("acme").unwrap();
    let batch = |others: &[usize]| -> Vec<rosterdb::Validated<NewUser>> {
        // Role ids only fill `population`'s slots: every role is cleared.
        population_of(&[0, 0, 0], 2_000)
            .into_iter()
            .enumerate()
            .map(|(at, mut u)| {
                u.roles.clear();
                u.tenant = others.contains(&at).then(|| "other".into());
                u.validated().unwrap()
            })
            .collect()
    };
    for (others, first) in [
        (&[1_700, 1_200][..], "users[1200].tenant"),
        (&[1_700, 600][..], "users[600].tenant"),
    ] {
        match acme.users().create_many_validated(batch(others)) {
            Err(Error::Validation { errors }) => {
                let fields: Vec<(&str, ValidationCode)> =
                    errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
                assert_eq!(fields, [(first, ValidationCode::TenantMismatch)]);
            }
            other => panic!("expected Validation, got {other:?}"),
        }
    }
    nothing_written(&s);
    let ids = acme.users().create_many_validated(batch(&[])).unwrap();
    assert_eq!(ids.len(), 2_000);
    assert_eq!(acme.users().count(&Query::all()).unwrap(), 2_000);
    for at in [0, 999, 1_000, 1_999] {
        let created = acme.users().get(ids[at]).unwrap();
        assert_eq!(created.tenant.as_deref(), Some("acme"));
        assert!(
            created.username.ends_with(&format!(".{at}")),
            "{}",
            created.username
        );
    }
}
