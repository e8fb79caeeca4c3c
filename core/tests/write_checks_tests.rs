//! What a write checks against the rest of the store when earlier writes
//! of the same transaction changed it: roles found, then deleted; unique
//! keys given up, then taken; roles held before an update.

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

use common::{store, tenant_user, user};
use rosterdb::{Error, NewRole, NewUser, ValidationCode};
use serde_json::json;

/// Whether a result is a `Validation` naming a missing role.
fn role_not_found<T: std::fmt::Debug>(result: rosterdb::Result<T>) -> bool {
    match result {
        Err(Error::Validation { errors }) => errors
            .iter()
            .any(|e| e.field == "roles" && e.code == ValidationCode::RoleNotFound),
        other => panic!("expected Validation, got {other:?}"),
    }
}

#[test]
fn a_role_deleted_in_a_transaction_is_missing_for_its_later_writes() {
    let s = store();
    let role = s.roles().create(NewRole::new("admin")).unwrap().id;
    s.write(|tx| {
        let ann = tx.users().create(NewUser {
            roles: vec![role],
            ..user("ann")
        })?;
        tx.roles().delete(role, true)?;
        assert!(tx.users().get(ann.id)?.roles.is_empty());
        assert!(role_not_found(tx.users().create(NewUser {
            roles: vec![role],
            ..user("bob")
        })));
        assert!(role_not_found(tx.users().patch(
            ann.id,
            &json!([{"op": "add", "path": "/roles/-", "value": role}]),
            None,
        )));
        Ok(())
    })
    .unwrap();
    assert_eq!(
        s.users().get_by_username("ann", None).unwrap().roles,
        Vec::<u64>::new()
    );
}

#[test]
fn a_role_found_for_one_tenant_is_missing_for_another() {
    let s = store();
    let role = s
        .roles()
        .create(NewRole {
            tenant: Some("a".into()),
            ..NewRole::new("admin")
        })
        .unwrap()
        .id;
    s.write(|tx| {
        tx.users().create(NewUser {
            roles: vec![role],
            ..tenant_user("ann", "a")
        })?;
        assert!(role_not_found(tx.users().create(NewUser {
            roles: vec![role],
            ..tenant_user("bob", "b")
        })));
        Ok(())
    })
    .unwrap();
}

#[test]
fn an_update_checks_the_keys_and_roles_it_adds() {
    let s = store();
    let role = s.roles().create(NewRole::new("admin")).unwrap().id;
    let ann = s
        .users()
        .create(NewUser {
            roles: vec![role],
            ..user("ann")
        })
        .unwrap();
    let bob = s.users().create(user("bob")).unwrap();
    // Keeping its own keys and roles is no conflict.
    let same = s
        .users()
        .merge(
            ann.id,
            &json!({"username": "ANN", "lastName": "Other"}),
            None,
        )
        .unwrap();
    assert_eq!(same.roles, [role]);
    // Taking another's key is.
    assert!(matches!(
        s.users().merge(bob.id, &json!({"email": "ann@example.com"}), None),
        Err(Error::Conflict { field, .. }) if field == "email"
    ));
    // A key given up earlier in the transaction can be taken.
    s.write(|tx| {
        tx.users()
            .merge(ann.id, &json!({"email": "ann2@example.com"}), None)?;
        tx.users()
            .merge(bob.id, &json!({"email": "ann@example.com"}), None)?;
        Ok(())
    })
    .unwrap();
    assert_eq!(
        s.users().get_by_email("ann@example.com", None).unwrap().id,
        bob.id
    );
    // A role added must exist.
    assert!(role_not_found(s.users().patch(
        bob.id,
        &json!([{"op": "add", "path": "/roles/-", "value": role + 100}]),
        None,
    )));
}
