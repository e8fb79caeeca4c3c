//! Views (docs/reference/tenancy.md): one type over the store, a write transaction or a
//! snapshot, seeing every record or one tenant's.

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

use common::{assert_not_found as not_found, store, user};
use rosterdb::{Context, Error, NewUser, Query, ReadOnly, Scope, Store, View};

fn tenant_error<T: std::fmt::Debug>(result: rosterdb::Result<T>) {
    match result {
        Err(Error::Validation { errors }) => assert_eq!(errors[0].field, "tenant"),
        other => panic!("expected Validation on tenant, got {other:?}"),
    }
}

/// An acme user (id 1) and a globex user (id 2).
fn two_tenants(s: &Store) {
    s.scoped("acme")
        .unwrap()
        .users()
        .create(user("ann"))
        .unwrap();
    s.scoped("globex")
        .unwrap()
        .users()
        .create(user("bob"))
        .unwrap();
}

#[test]
fn a_view_of_a_snapshot_sees_one_tenant_and_only_reads() {
    let s = store();
    two_tenants(&s);
    s.read(|r| {
        let acme: View<'_, ReadOnly> = View::new(r, "acme")?;
        assert_eq!(acme.tenant(), Some("acme"));
        assert_eq!(acme.users().get(1)?.username, "ann");
        not_found(acme.users().get(2));
        assert_eq!(acme.users().count(&Query::all())?, 1);
        assert_eq!(acme.changes(0, 10)?.len(), 1);
        let whole = View::whole(r);
        assert_eq!(whole.tenant(), None);
        assert_eq!(whole.users().count(&Query::all())?, 2);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_view_of_a_write_transaction_joins_it() {
    let s = store();
    two_tenants(&s);
    let tx = s.begin_write().unwrap();
    let acme = Scope::new(&tx, "acme").unwrap();
    let carl = acme.users().create(user("carl")).unwrap();
    assert_eq!(carl.tenant.as_deref(), Some("acme"));
    // `write` on a view of a transaction joins that transaction.
    acme.write(|v| v.users().create(user("dan"))).unwrap();
    not_found(acme.users().get(2));
    assert_eq!(tx.users().count(&Query::all()).unwrap(), 4);
    assert_eq!(
        s.users().count(&Query::all()).unwrap(),
        2,
        "not committed yet"
    );
    tx.rollback().unwrap();
    assert_eq!(
        s.users().count(&Query::all()).unwrap(),
        2,
        "rolled back together"
    );
}

#[test]
fn read_on_a_view_of_a_transaction_sees_its_writes() {
    let s = store();
    s.write(|tx| {
        let acme = View::new(tx, "acme")?;
        acme.users().create(user("ann"))?;
        let seen = acme.read(|r| {
            assert_eq!(r.tenant(), Some("acme"));
            r.users().count(&Query::all())
        })?;
        assert_eq!(seen, 1);
        Ok(())
    })
    .unwrap();
}

#[test]
fn write_on_a_view_of_the_store_is_one_transaction() {
    let s = store();
    let acme = s.scoped("acme").unwrap();
    let failed = acme.write(|v| {
        v.users().create(user("ann"))?;
        v.users().create(NewUser {
            tenant: Some("globex".into()),
            ..user("bob")
        })
    });
    assert!(matches!(failed, Err(Error::Validation { .. })));
    assert_eq!(s.users().count(&Query::all()).unwrap(), 0, "rolled back");
    acme.write(|v| v.users().create(user("ann"))).unwrap();
    assert_eq!(acme.read(|r| r.users().get(1)).unwrap().username, "ann");
}

#[test]
fn optional_and_changed_tenants_are_checked() {
    let s = store();
    two_tenants(&s);
    let whole: Context<'_> = View::of(&*s, None).unwrap();
    assert_eq!(whole.users().count(&Query::all()).unwrap(), 2);
    let globex = View::of(&*s, Some("globex")).unwrap();
    assert_eq!(globex.users().get(2).unwrap().username, "bob");
    tenant_error(View::of(&*s, Some("not a tenant!")));
    tenant_error(Scope::new(&*s, ""));
    let acme = globex.scoped("acme").unwrap();
    assert_eq!(acme.tenant(), Some("acme"));
    not_found(acme.users().get(2));
    tenant_error(acme.scoped("a b"));
    assert_eq!(
        format!("{acme:?}"),
        r#"View { via: "store", tenant: Some("acme") }"#
    );
}
