//! A write transaction gathers its index changes (postings, ordered keys)
//! and writes them later (docs/reference/storage.md, decision 0014): reads through the
//! transaction, role holders and the committed store see every one.

// A test fails by panicking: unwraps and indexing on small known values
// are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use common::{role, store, user};
use rosterdb::{Error, NewUser, Query};

fn q(expr: &str) -> Query {
    Query::parse(expr).unwrap()
}

#[test]
fn reads_inside_a_write_see_its_gathered_index_changes() {
    let s = store();
    let staff = s.roles().create(role("staff", None)).unwrap().id;
    s.write(|tx| {
        let users = tx.users();
        for name in ["ann42", "bob", "cy42"] {
            users.create(NewUser {
                roles: vec![staff],
                ..user(name)
            })?;
        }
        assert_eq!(users.count(&q("email co '42'"))?, 2);
        assert_eq!(users.count(&q("enabled = true and roles eq 1"))?, 3);
        let bob = users.get_by_username("bob", None)?;
        users.patch(
            bob.id,
            &serde_json::json!([{"op": "replace", "path": "/email", "value": "bob42@x.io"}]),
            None,
        )?;
        let found: Vec<String> = users
            .list(&q("email co '42'"))?
            .items
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(found, ["ann42", "bob", "cy42"]);
        users.delete(bob.id)?;
        assert_eq!(users.count(&q("email co '42'"))?, 2);
        assert_eq!(users.count(&q("lastName co 'la'"))?, 2);
        Ok(())
    })
    .unwrap();
    assert_eq!(s.users().count(&q("email co '42'")).unwrap(), 2);
    assert_eq!(s.users().count(&q("roles eq 1")).unwrap(), 2);
}

#[test]
fn a_role_deleted_in_the_write_that_granted_it_finds_its_holders() {
    let s = store();
    let staff = s.roles().create(role("staff", None)).unwrap().id;
    let refused = s.write(|tx| {
        tx.users().create(NewUser {
            roles: vec![staff],
            ..user("ann")
        })?;
        tx.roles().delete(staff, false)
    });
    assert!(
        matches!(refused, Err(Error::InUse { count: 1, .. })),
        "{refused:?}"
    );
    s.write(|tx| {
        let ann = tx.users().create(NewUser {
            roles: vec![staff],
            ..user("ann")
        })?;
        tx.roles().delete(staff, true)?;
        assert!(tx.users().get(ann.id)?.roles.is_empty());
        assert_eq!(tx.users().count(&q("roles eq 1"))?, 0);
        Ok(())
    })
    .unwrap();
    assert_eq!(s.users().count(&q("roles pr")).unwrap(), 0);
}

#[test]
fn a_rolled_back_write_leaves_no_posting() {
    let s = store();
    let tx = s.begin_write().unwrap();
    tx.users().create(user("ghost42")).unwrap();
    assert_eq!(tx.users().count(&q("username co '42'")).unwrap(), 1);
    tx.users().create(user("ghost43")).unwrap();
    tx.rollback().unwrap();
    assert_eq!(s.users().count(&q("username co 'gh'")).unwrap(), 0);
    s.users().create(user("real42")).unwrap();
    assert_eq!(s.users().count(&q("username co '4'")).unwrap(), 1);
}
