//! A held transaction (`Store::begin_write`, not grouped) whose operations
//! fail after earlier ones wrote — an update to a taken e-mail, unknown or
//! other-tenant roles, deleting a role in use, creating with a taken name
//! — goes on and commits exactly its successful operations: gathered index
//! changes, id counters, role memory and change-log entries (`Pending`)
//! hold nothing of the failed ones, and `check()` agrees.

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

use common::{role, store, tenant_user, user};
use rosterdb::{ChangeOp, EntityKind, Error, NewUser, Query};
use serde_json::json;

#[test]
fn failed_operations_in_a_held_transaction_leave_no_trace() {
    let s = store();
    let other = s.roles().create(role("other", Some("beta"))).unwrap();
    let tx = s.begin_write().unwrap();
    let r = tx.roles().create(role("r", Some("acme"))).unwrap();
    let a = tx.users().create(NewUser {
        roles: vec![r.id],
        ..tenant_user("a", "acme")
    });
    let a = a.unwrap();
    let b = tx.users().create(tenant_user("b", "acme")).unwrap();
    let patch = |v: serde_json::Value| tx.users().patch(b.id, &v, None);
    // Updates refused: a taken e-mail (another case), an unknown role, a
    // role of another tenant.
    assert!(matches!(
        patch(json!([{"op": "replace", "path": "/email", "value": "A@EXAMPLE.COM"}])),
        Err(Error::Conflict { .. })
    ));
    assert!(patch(json!([{"op": "replace", "path": "/roles", "value": [999]}])).is_err());
    assert!(patch(json!([{"op": "replace", "path": "/roles", "value": [other.id]}])).is_err());
    // A role in use is not deleted (without cascade); a create with a
    // taken name, or a role of another tenant, is refused.
    assert!(tx.roles().delete(r.id, false).is_err());
    assert!(tx.users().create(tenant_user("A", "acme")).is_err());
    assert!(
        tx.users()
            .create(NewUser {
                roles: vec![other.id],
                ..tenant_user("c", "acme")
            })
            .is_err()
    );
    // The role is still there and usable; then deleted with cascade, and
    // no longer usable in the same transaction.
    let b2 = patch(json!([{"op": "replace", "path": "/roles", "value": [r.id]}])).unwrap();
    assert_eq!(b2.version, 2);
    tx.roles().delete(r.id, true).unwrap();
    assert!(
        tx.users()
            .create(NewUser {
                roles: vec![r.id],
                ..tenant_user("d", "acme")
            })
            .is_err(),
        "a role deleted in this transaction is not remembered"
    );
    let e = tx.users().create(user("e")).unwrap();
    tx.commit().unwrap();

    let a = s.users().get(a.id).unwrap();
    let b = s.users().get(b.id).unwrap();
    assert!(a.roles.is_empty() && b.roles.is_empty(), "cascade");
    assert_eq!(b.email, "b@example.com");
    assert_eq!(
        s.users()
            .get_by_email("A@example.com", Some("acme"))
            .unwrap()
            .id,
        a.id
    );
    assert_eq!(
        s.users()
            .count(&Query::parse(&format!("roles eq {}", r.id)).unwrap())
            .unwrap(),
        0
    );
    let log: Vec<_> = s
        .changes(0, 100)
        .unwrap()
        .into_iter()
        .map(|c| (c.seq, c.entity, c.id, c.op, c.version))
        .collect();
    // b's role was added then cleared by the cascade: versions 2 and 3;
    // a's role cleared by the cascade too.
    let want = [
        (1, EntityKind::Role, other.id, ChangeOp::Create, 1),
        (2, EntityKind::Role, r.id, ChangeOp::Create, 1),
        (3, EntityKind::User, a.id, ChangeOp::Create, 1),
        (4, EntityKind::User, b.id, ChangeOp::Create, 1),
        (5, EntityKind::User, b.id, ChangeOp::Update, 2),
    ];
    let cascade: Vec<_> = log[5..log.len() - 2].to_vec();
    assert_eq!(log[..5], want[..], "{log:?}");
    let mut cascaded: Vec<_> = cascade.iter().map(|c| (c.2, c.3, c.4)).collect();
    cascaded.sort_by_key(|c| c.0);
    assert_eq!(
        cascaded,
        [(a.id, ChangeOp::Update, 2), (b.id, ChangeOp::Update, 3)],
        "{log:?}"
    );
    let tail = &log[log.len() - 2..];
    assert_eq!(
        (tail[0].1, tail[0].2, tail[0].3),
        (EntityKind::Role, r.id, ChangeOp::Delete)
    );
    assert_eq!(
        (tail[1].1, tail[1].2, tail[1].3),
        (EntityKind::User, e.id, ChangeOp::Create)
    );
    assert_eq!(
        log.iter().map(|c| c.0).collect::<Vec<_>>(),
        (1..=log.len() as u64).collect::<Vec<_>>()
    );
    // Ids: the refused creates took none that a later create sees twice.
    let next = s.users().create(user("f")).unwrap();
    assert!(next.id > e.id);
}
