//! Creating, reading and deleting users, roles and clients; uniqueness; role
//! integrity; transactions; the change log.

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

use std::sync::Arc;

use common::{conflict_field, error_fields, role, store, tenant_user, user};
use rosterdb::{
    ChangeOp, EntityKind, Error, ExternalId, NewClient, NewRole, NewUser, Secret, Store,
};
use serde_json::json;

#[test]
fn a_user_gets_defaults_and_read_only_fields() {
    let s = store();
    let u = s.users().create(user("alice")).unwrap();
    assert_eq!(u.id, 1);
    assert_eq!(u.version, 1);
    assert!(u.enabled);
    assert!(!u.has_password);
    assert_eq!(u.created_at, u.updated_at);
    let doc = serde_json::to_value(&u).unwrap();
    assert_eq!(
        doc,
        json!({
            "id": 1, "username": "alice", "email": "alice@example.com",
            "firstName": "First", "lastName": "Last", "enabled": true,
            "roles": [], "externalIds": [], "attributes": {},
            "createdAt": u.created_at.to_string(), "updatedAt": u.updated_at.to_string(),
            "hasPassword": false, "totpEnabled": false, "version": 1
        })
    );
    assert_eq!(s.users().get(1).unwrap(), u);
}

#[test]
fn documents_keep_strings_as_given_and_attributes_whole() {
    let s = store();
    let attributes = json!({"department": "R&D", "tfa": true, "n": 18446744073709551615u64,
        "nested": {"list": [1, 2.5, null, "Zoë"]}});
    let doc = json!({
        "username": "Zoë.O-Brien_1", "email": "Zoe@Example.com", "firstName": " Zoë ",
        "lastName": "李", "nickname": "", "telephoneNumber": "+1 555", "mobileNumber": "07",
        "tenant": "acme:eu-1", "enabled": false, "externalIds": [{"type": "github", "value": "42"}],
        "attributes": attributes,
    });
    let u = s.users().create(NewUser::from_json(&doc).unwrap()).unwrap();
    let back = serde_json::to_value(&u).unwrap();
    for key in [
        "username",
        "email",
        "firstName",
        "lastName",
        "nickname",
        "telephoneNumber",
        "mobileNumber",
        "tenant",
        "enabled",
        "externalIds",
        "attributes",
    ] {
        assert_eq!(back[key], doc[key], "{key}");
    }
    let again: rosterdb::User = serde_json::from_value(back).unwrap();
    assert_eq!(again, u);
}

#[test]
fn passwords_are_stored_only_as_hashes() {
    let s = store();
    let new = NewUser {
        password: Some(Secret::new("correct horse battery")),
        ..user("alice")
    };
    assert!(!format!("{new:?}").contains("correct horse"));
    let u = s.users().create(new).unwrap();
    assert!(u.has_password);
    let text = format!("{u:?} {}", serde_json::to_string(&u).unwrap());
    assert!(!text.contains("correct horse") && !text.contains("argon2"));

    let imported = NewUser {
        password_hash: Some("$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Wz0VCgo2fMbt9uy1X4vLZg".into()),
        ..user("bob")
    };
    assert!(s.users().create(imported).unwrap().has_password);
}

#[test]
fn usernames_and_emails_are_unique_per_tenant_ignoring_case() {
    let s = store();
    s.users().create(user("alice")).unwrap();
    let clash = NewUser::new("ALICE", "other@example.com", "A", "B");
    assert_eq!(conflict_field(s.users().create(clash)), "username");
    let clash = NewUser::new("other", "Alice@EXAMPLE.com", "A", "B");
    assert_eq!(conflict_field(s.users().create(clash)), "email");

    // The same names are free in another tenant, and tenants are told apart.
    let a1 = s.users().create(tenant_user("Alice", "t1")).unwrap();
    let a2 = s.users().create(tenant_user("alice", "t2")).unwrap();
    assert_eq!(
        conflict_field(s.users().create(tenant_user("aLiCe", "t1"))),
        "username"
    );
    assert_eq!(
        s.users().get_by_username("ALICE", Some("t1")).unwrap().id,
        a1.id
    );
    assert_eq!(
        s.users()
            .get_by_email("alice@example.COM", Some("t2"))
            .unwrap()
            .id,
        a2.id
    );
    assert_eq!(s.users().get_by_username("alice", None).unwrap().id, 1);
    assert!(matches!(
        s.users().get_by_username("alice", Some("t3")),
        Err(Error::NotFound {
            entity: EntityKind::User,
            ..
        })
    ));
}

#[test]
fn case_folding_covers_other_scripts() {
    let s = store();
    s.users().create(user("ÉLODIE")).unwrap();
    assert_eq!(
        s.users().get_by_username("élodie", None).unwrap().username,
        "ÉLODIE"
    );
    assert_eq!(
        conflict_field(s.users().create(NewUser::new("élodie", "x@y.zz", "a", "b"))),
        "username"
    );
}

/// docs/reference/documents.md, Caseless matching: uniqueness and lookups use the compatibility
/// caseless form (NFKC_Casefold). Each pair is one user name to the store; the first of
/// each pair is created, the second is then found and refused.
const SAME_NAME: &[(&str, &str)] = &[
    ("ΟΔΟΣ", "οδοσ"), // the issue: accepted as two users under to_lowercase
    ("οδος", "ΟΔΟΣ"),
    ("ΟΣΟΣ", "οσος"),
    ("straße", "STRASSE"),
    ("Strasse", "STRAẞE"),
    ("ａｄｍｉｎ", "Admin"),
    ("\u{212A}elvin", "kelvin"),     // the Kelvin sign
    ("\u{212B}ngstrom", "ångstrom"), // the Ångström sign
    ("ﬁle", "FILE"),
    ("ǅemal", "džemal"),
    ("ꮳꮃꭹ", "ᏣᎳᎩ"), // Cherokee folds to its capitals
    ("ISTANBUL", "istanbul"),
    ("ΣΊΣΥΦΟΣ", "σίσυφοσ"),
];

/// Pairs that only look alike or that a locale would tailor: distinct.
const DIFFERENT_NAMES: &[(&str, &str)] = &[
    ("istanbul", "ıstanbul"), // dotless ı is its own letter
    ("istanbul", "İstanbul"), // no Turkish tailoring
    ("anna", "аnna"),         // Cyrillic а
    ("strase", "straße"),
    ("ο", "σ"),
];

#[test]
fn usernames_are_unique_in_their_caseless_form() {
    for (i, (first, second)) in SAME_NAME.iter().enumerate() {
        let s = store();
        let id = s
            .users()
            .create(NewUser::new(*first, format!("a{i}@x.io"), "F", "L"))
            .unwrap()
            .id;
        assert_eq!(
            s.users().get_by_username(second, None).unwrap().id,
            id,
            "{second} finds {first}"
        );
        let again = s
            .users()
            .create(NewUser::new(*second, format!("b{i}@x.io"), "F", "L"));
        assert_eq!(conflict_field(again), "username", "{first} / {second}");
        // Another tenant may hold it.
        s.users()
            .create(tenant_user(second, "t1"))
            .unwrap_or_else(|e| panic!("{second} in t1: {e}"));
    }
    for (first, second) in DIFFERENT_NAMES {
        let s = store();
        s.users()
            .create(NewUser::new(*first, "a@x.io", "F", "L"))
            .unwrap();
        assert!(
            matches!(
                s.users().get_by_username(second, None),
                Err(Error::NotFound { .. })
            ),
            "{second} is not {first}"
        );
        s.users()
            .create(NewUser::new(*second, "b@x.io", "F", "L"))
            .unwrap_or_else(|e| panic!("{first} / {second}: {e}"));
    }
}

#[test]
fn emails_role_names_and_external_ids_are_unique_in_their_caseless_form() {
    let s = store();
    s.users()
        .create(NewUser {
            external_ids: vec![ExternalId::new("ldap", "uid=straße")],
            ..NewUser::new("a", "Zoe\u{308}@bücher.de", "F", "L")
        })
        .unwrap();
    // NFD and NFC, ü and Ü, a zero-width space and a soft hyphen.
    for email in [
        "zoë@BÜCHER.DE",
        "ZOË@bu\u{308}cher.de",
        "zo\u{200B}ë@bücher.de",
        "zoë@bü\u{AD}cher.de",
    ] {
        assert_eq!(
            s.users().get_by_email(email, None).unwrap().id,
            1,
            "{email}"
        );
        let taken = s.users().create(NewUser::new("b", email, "F", "L"));
        assert_eq!(conflict_field(taken), "email", "{email}");
    }
    // İ folds to i + U+0307 (no Turkish tailoring): not to plain i.
    s.users()
        .create(NewUser::new("i1", "İlker@x.io", "F", "L"))
        .unwrap();
    assert_eq!(
        s.users()
            .get_by_email("i\u{307}LKER@x.io", None)
            .unwrap()
            .username,
        "i1"
    );
    s.users()
        .create(NewUser::new("i2", "ilker@x.io", "F", "L"))
        .unwrap();
    assert_eq!(
        s.users()
            .get_by_external_id("LDAP", "UID=STRASSE", None)
            .unwrap()
            .id,
        1
    );
    let taken = s.users().create(NewUser {
        external_ids: vec![ExternalId::new("ＬＤＡＰ", "uid=STRAẞE")],
        ..NewUser::new("b", "b@x.io", "F", "L")
    });
    assert_eq!(conflict_field(taken), "externalIds");
    // One user's own external ids are duplicates in the caseless form too.
    let fields = error_fields(s.users().create(NewUser {
        external_ids: vec![
            ExternalId::new("sso", "ΟΔΟΣ"),
            ExternalId::new("SSO", "οδοσ"),
        ],
        ..NewUser::new("c", "c@x.io", "F", "L")
    }));
    assert_eq!(fields, ["externalIds[1]"]);

    s.roles().create(NewRole::new("ΟΔΟΣ")).unwrap();
    for name in ["οδος", "οδοσ", "ΟΔΟς"] {
        assert_eq!(conflict_field(s.roles().create(NewRole::new(name))), "name");
    }
    s.roles().create(role("οδος", Some("t1"))).unwrap();
}

#[test]
fn external_ids_are_unique_per_tenant_and_findable() {
    let s = store();
    let with_ext = |name: &str, tenant: Option<&str>| NewUser {
        tenant: tenant.map(Into::into),
        external_ids: vec![ExternalId::new("github", "42")],
        ..user(name)
    };
    let a = s.users().create(with_ext("a", None)).unwrap();
    assert_eq!(
        conflict_field(s.users().create(with_ext("b", None))),
        "externalIds"
    );
    let c = s.users().create(with_ext("c", Some("t1"))).unwrap();
    assert_eq!(
        s.users()
            .get_by_external_id("github", "42", None)
            .unwrap()
            .id,
        a.id
    );
    assert_eq!(
        s.users()
            .get_by_external_id("github", "42", Some("t1"))
            .unwrap()
            .id,
        c.id
    );
    // Like every unique string, external ids compare case-folded.
    assert_eq!(
        s.users()
            .get_by_external_id("GitHub", "42", None)
            .unwrap()
            .id,
        a.id
    );
    let shouting = NewUser {
        external_ids: vec![ExternalId::new("GITHUB", "42")],
        ..user("e")
    };
    assert_eq!(conflict_field(s.users().create(shouting)), "externalIds");
    assert!(matches!(
        s.users().get_by_external_id("github", "43", None),
        Err(Error::NotFound { .. })
    ));
    // Deleting frees the external id.
    s.users().delete(a.id).unwrap();
    s.users().create(with_ext("d", None)).unwrap();
}

#[test]
fn roles_are_unique_per_tenant_and_normalised() {
    let s = store();
    let r = s
        .roles()
        .create(NewRole {
            description: Some("Can do everything".into()),
            permissions: vec![
                "users:write".into(),
                "users:read".into(),
                "users:write".into(),
            ],
            ..NewRole::new("Admins")
        })
        .unwrap();
    assert_eq!(r.permissions, vec!["users:read", "users:write"]);
    assert_eq!(
        conflict_field(s.roles().create(role("ADMINS", None))),
        "name"
    );
    s.roles().create(role("admins", Some("t1"))).unwrap();
    assert_eq!(s.roles().get(r.id).unwrap(), r);
}

#[test]
fn roles_must_exist_in_the_holders_tenant() {
    let s = store();
    let global = s.roles().create(role("staff", None)).unwrap();
    let t1 = s.roles().create(role("staff", Some("t1"))).unwrap();
    let held = NewUser {
        roles: vec![t1.id, global.id, t1.id],
        ..tenant_user("ann", "t1")
    };
    assert_eq!(error_fields(s.users().create(held)), ["roles"]);
    let held = NewUser {
        roles: vec![t1.id, t1.id],
        ..tenant_user("ann", "t1")
    };
    assert_eq!(s.users().create(held).unwrap().roles, vec![t1.id]);
    let missing = NewUser {
        roles: vec![99],
        ..user("bob")
    };
    assert_eq!(error_fields(s.users().create(missing)), ["roles"]);
    let client = NewClient {
        roles: vec![t1.id],
        ..NewClient::new("billing")
    };
    assert_eq!(error_fields(s.clients().create(client)), ["roles"]);
    // Nothing of the failed creates was written.
    assert_eq!(s.changes(0, 100).unwrap().len(), 3);
}

#[test]
fn deleting_a_held_role_needs_cascade() {
    let s = store();
    let admins = s.roles().create(role("admins", None)).unwrap();
    let staff = s.roles().create(role("staff", None)).unwrap();
    let u = s
        .users()
        .create(NewUser {
            roles: vec![staff.id, admins.id],
            ..user("ann")
        })
        .unwrap();
    let c = s
        .clients()
        .create(NewClient {
            roles: vec![admins.id],
            ..NewClient::new("billing")
        })
        .unwrap()
        .client;
    assert_eq!(
        s.roles().delete(admins.id, false),
        Err(Error::InUse {
            id: admins.id,
            count: 2
        })
    );
    assert_eq!(s.roles().get(admins.id).unwrap(), admins);
    let before = s.changes(0, 1000).unwrap().len();

    let deleted = s.roles().delete(admins.id, true).unwrap();
    assert_eq!(deleted, admins);
    let u2 = s.users().get(u.id).unwrap();
    assert_eq!((u2.roles.clone(), u2.version), (vec![staff.id], 2));
    let c2 = s.clients().get(c.id).unwrap();
    assert_eq!((c2.roles.clone(), c2.version), (vec![], 2));
    let tail: Vec<_> = s
        .changes(before as u64, 1000)
        .unwrap()
        .into_iter()
        .map(|c| (c.entity, c.id, c.op, c.version))
        .collect();
    assert_eq!(
        tail,
        vec![
            (EntityKind::User, u.id, ChangeOp::Update, 2),
            (EntityKind::Client, c.id, ChangeOp::Update, 2),
            (EntityKind::Role, admins.id, ChangeOp::Delete, 1),
        ]
    );
    // The role's id is gone for good; holders can no longer take it.
    assert!(matches!(
        s.roles().get(admins.id),
        Err(Error::NotFound { .. })
    ));
    let again = NewUser {
        roles: vec![admins.id],
        ..user("bob")
    };
    assert_eq!(error_fields(s.users().create(again)), ["roles"]);
    // An unheld role deletes without cascade.
    s.users().delete(u.id).unwrap();
    s.roles().delete(staff.id, false).unwrap();
}

#[test]
fn ids_start_at_one_per_kind_and_are_never_reused() {
    let s = store();
    let r = s.roles().create(role("r", None)).unwrap();
    let a = s.users().create(user("a")).unwrap();
    let b = s.users().create(user("b")).unwrap();
    let c = s.clients().create(NewClient::new("c")).unwrap().client;
    assert_eq!((r.id, a.id, b.id, c.id), (1, 1, 2, 1));
    s.users().delete(b.id).unwrap();
    s.users().delete(a.id).unwrap();
    s.clients().delete(c.id).unwrap();
    assert_eq!(s.users().create(user("a")).unwrap().id, 3);
    assert_eq!(
        s.clients().create(NewClient::new("c")).unwrap().client.id,
        2
    );
}

#[test]
fn delete_returns_the_last_document() {
    let s = store();
    let u = s.users().create(user("ann")).unwrap();
    assert_eq!(s.users().delete(u.id).unwrap(), u);
    for result in [s.users().get(u.id), s.users().delete(u.id)] {
        assert_eq!(
            result,
            Err(Error::NotFound {
                entity: EntityKind::User,
                key: format!("id {}", u.id)
            })
        );
    }
    assert!(matches!(
        s.users().get_by_username("ann", None),
        Err(Error::NotFound { .. })
    ));
    // The username is free again.
    s.users().create(user("ann")).unwrap();
}

#[test]
fn clients_get_a_generated_id_and_a_secret_shown_once() {
    let s = store();
    let created = s
        .clients()
        .create(NewClient {
            description: Some("nightly export".into()),
            ip_allowlist: vec!["10.0.0.0/8".into(), "::1".into()],
            ..NewClient::new("exporter")
        })
        .unwrap();
    let c = &created.client;
    assert!(c.client_id.starts_with("rc_") && c.client_id.len() == 25);
    let secret = created.secret.expose().to_owned();
    assert_eq!(secret.len(), 43);
    assert!(!format!("{created:?}").contains(&secret));
    let fetched = s.clients().get_by_client_id(&c.client_id).unwrap();
    assert_eq!(&fetched, c);
    assert!(!serde_json::to_string(&fetched).unwrap().contains(&secret));
    let other = s.clients().create(NewClient::new("exporter")).unwrap();
    assert_ne!(other.client.client_id, c.client_id);
    assert_ne!(other.secret, created.secret);
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let s = store();
    let result = s.write(|tx| {
        let r = tx.roles().create(role("staff", None))?;
        tx.users().create(NewUser {
            roles: vec![r.id],
            ..user("ann")
        })?;
        tx.clients().create(NewClient::new("svc"))?;
        // Reads inside see the transaction's own writes.
        assert_eq!(tx.users().get_by_username("ANN", None)?.roles, vec![r.id]);
        assert_eq!(tx.changes(0, 10)?.len(), 3);
        tx.users().create(user("ann"))
    });
    assert_eq!(conflict_field(result), "username");
    assert!(matches!(s.roles().get(1), Err(Error::NotFound { .. })));
    assert!(matches!(
        s.users().get_by_username("ann", None),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(s.clients().get(1), Err(Error::NotFound { .. })));
    assert!(s.changes(0, 100).unwrap().is_empty());
    // The rolled-back ids were never handed out.
    assert_eq!(s.roles().create(role("staff", None)).unwrap().id, 1);
}

#[test]
fn a_failed_operation_inside_a_write_leaves_no_trace_and_the_rest_commits() {
    let s = store();
    let r = s.roles().create(role("staff", None)).unwrap();
    let ids = s
        .write(|tx| {
            let a = tx.users().create(user("ann"))?;
            let failed = tx.users().create(NewUser {
                roles: vec![r.id, 77],
                ..user("bob")
            });
            assert_eq!(error_fields(failed), ["roles"]);
            let held = tx.roles().delete(r.id, false);
            assert!(held.is_ok());
            let b = tx.users().create(user("bob"))?;
            Ok((a.id, b.id))
        })
        .unwrap();
    assert_eq!(ids, (1, 2));
    let ops: Vec<_> = s
        .changes(0, 100)
        .unwrap()
        .into_iter()
        .map(|c| (c.entity, c.op))
        .collect();
    assert_eq!(
        ops,
        vec![
            (EntityKind::Role, ChangeOp::Create),
            (EntityKind::User, ChangeOp::Create),
            (EntityKind::Role, ChangeOp::Delete),
            (EntityKind::User, ChangeOp::Create),
        ]
    );
}

#[test]
fn a_panic_inside_a_write_rolls_back() {
    let s = store();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.write(|tx| -> rosterdb::Result<()> {
            tx.users().create(user("ann"))?;
            panic!("boom");
        })
    }));
    assert!(result.is_err());
    assert!(matches!(s.users().get(1), Err(Error::NotFound { .. })));
    s.users().create(user("ann")).unwrap();
}

#[test]
fn reads_see_a_consistent_snapshot() {
    let s = store();
    s.users().create(user("ann")).unwrap();
    s.read(|r| {
        s.users().create(user("bob"))?;
        assert!(r.users().get_by_username("ann", None).is_ok());
        assert!(matches!(r.users().get(2), Err(Error::NotFound { .. })));
        assert_eq!(r.changes(0, 10)?.len(), 1);
        Ok(())
    })
    .unwrap();
    assert_eq!(s.users().get(2).unwrap().username, "bob");
}

#[test]
fn threads_read_while_one_writes() {
    let s: Arc<Store> = Arc::new(Store::memory_with(common::options()).unwrap());
    s.users().create(user("seed")).unwrap();
    let writer = {
        let s = Arc::clone(&s);
        std::thread::spawn(move || {
            for i in 0..50 {
                s.users().create(user(&format!("w{i}"))).unwrap();
            }
        })
    };
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for _ in 0..200 {
                    assert_eq!(s.users().get(1).unwrap().username, "seed");
                    let seen = s.changes(0, 1000).unwrap();
                    assert!(seen.windows(2).all(|w| w[0].seq + 1 == w[1].seq));
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(s.changes(0, 1000).unwrap().len(), 51);
}

#[test]
fn the_change_log_pages_in_order() {
    let s = store();
    for i in 0..5 {
        s.users().create(user(&format!("u{i}"))).unwrap();
    }
    s.users().delete(3).unwrap();
    let all = s.changes(0, 1000).unwrap();
    assert_eq!(
        all.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    let last = all.last().unwrap();
    assert_eq!(
        (last.entity, last.id, last.op, last.version),
        (EntityKind::User, 3, ChangeOp::Delete, 1)
    );
    assert_eq!(s.changes(2, 2).unwrap(), all[2..4].to_vec());
    assert!(s.changes(6, 10).unwrap().is_empty());
    assert!(s.changes(u64::MAX, 10).unwrap().is_empty());
    let json = serde_json::to_value(&all[0]).unwrap();
    assert_eq!(json["entity"], "user");
    assert_eq!(json["op"], "create");
    for bad in [0, 1001] {
        assert!(matches!(
            s.changes(0, bad),
            Err(Error::InvalidQuery { field: Some(ref f), .. }) if f == "limit"
        ));
    }
}

#[test]
fn invalid_documents_write_nothing() {
    let s = store();
    let bad = NewUser::new("a b", "nope", "", "x");
    assert_eq!(
        error_fields(s.users().create(bad)),
        ["username", "email", "firstName"]
    );
    let bad = NewRole::new("");
    assert_eq!(error_fields(s.roles().create(bad)), ["name"]);
    let bad = NewClient {
        ip_allowlist: vec!["300.1.1.1".into()],
        ..NewClient::new("svc")
    };
    assert_eq!(error_fields(s.clients().create(bad)), ["ipAllowlist[0]"]);
    assert!(s.changes(0, 10).unwrap().is_empty());
    assert_eq!(s.users().create(user("ok")).unwrap().id, 1);
}
