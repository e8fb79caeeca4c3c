//! Scoped views (docs/reference/tenancy.md): one tenant's records only, through every path.

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

use common::{assert_not_found as not_found, role, store, user};
use rosterdb::{EntityKind, Error, ExternalId, NewClient, NewUser, Query, Store};
use serde_json::json;

/// Two tenants with look-alike users; returns (acme user id, globex user id).
fn two_tenants(s: &Store) -> (u64, u64) {
    let ext = vec![ExternalId::new("github", "42")];
    let a = s
        .scoped("acme")
        .unwrap()
        .users()
        .create(NewUser {
            external_ids: ext.clone(),
            ..user("ann")
        })
        .unwrap();
    let g = s
        .scoped("globex")
        .unwrap()
        .users()
        .create(NewUser {
            external_ids: ext,
            enabled: false,
            ..user("ann")
        })
        .unwrap();
    (a.id, g.id)
}

#[test]
fn creates_take_the_views_tenant() {
    let s = store();
    let acme = s.scoped("acme").unwrap();
    let u = acme.users().create(user("ann")).unwrap();
    assert_eq!(u.tenant.as_deref(), Some("acme"));
    let same = NewUser {
        tenant: Some("acme".into()),
        ..user("bob")
    };
    assert_eq!(
        acme.users().create(same).unwrap().tenant.as_deref(),
        Some("acme")
    );
    let other = NewUser {
        tenant: Some("globex".into()),
        ..user("cid")
    };
    assert!(matches!(
        acme.users().create(other),
        Err(Error::Validation { .. })
    ));
    let r = acme.roles().create(role("staff", None)).unwrap();
    assert_eq!(r.tenant.as_deref(), Some("acme"));
    let c = acme
        .clients()
        .create(NewClient {
            roles: vec![r.id],
            ..NewClient::new("svc")
        })
        .unwrap();
    assert_eq!(c.client.tenant.as_deref(), Some("acme"));
    assert!(matches!(
        s.scoped("not a tenant!"),
        Err(Error::Validation { .. })
    ));
}

#[test]
fn other_tenants_records_are_not_found_everywhere() {
    let s = store();
    let (a, g) = two_tenants(&s);
    let acme = s.scoped("acme").unwrap();
    not_found(acme.users().get(g));
    assert_eq!(acme.users().get(a).unwrap().id, a);
    // Lookups use the view's tenant, whatever tenant is named.
    assert_eq!(acme.users().get_by_username("ANN", None).unwrap().id, a);
    assert_eq!(
        acme.users()
            .get_by_username("ann", Some("globex"))
            .unwrap()
            .id,
        a
    );
    assert_eq!(
        acme.users()
            .get_by_email("ann@example.com", None)
            .unwrap()
            .id,
        a
    );
    assert_eq!(
        acme.users()
            .get_by_external_id("github", "42", None)
            .unwrap()
            .id,
        a
    );
    // Updates and deletes of another tenant's record: NotFound, nothing changes.
    not_found(acme.users().patch(
        g,
        &json!([{"op": "replace", "path": "/lastName", "value": "X"}]),
        None,
    ));
    not_found(acme.users().merge(g, &json!({"lastName": "X"}), None));
    not_found(acme.users().replace(
        g,
        &json!({"username": "x", "email": "x@y.zz", "firstName": "a", "lastName": "b"}),
        None,
    ));
    not_found(acme.users().delete(g));
    let unscoped = s.users().get(g).unwrap();
    assert_eq!(unscoped.version, 1);
    // A version check cannot be used to probe another tenant's record either.
    not_found(acme.users().merge(g, &json!({"lastName": "X"}), Some(99)));
    let groles = s
        .scoped("globex")
        .unwrap()
        .roles()
        .create(role("r", None))
        .unwrap();
    not_found(acme.roles().delete(groles.id, true));
    not_found(acme.roles().get(groles.id));
    let gclient = s
        .scoped("globex")
        .unwrap()
        .clients()
        .create(NewClient::new("svc"))
        .unwrap()
        .client;
    not_found(acme.clients().get(gclient.id));
    not_found(acme.clients().get_by_client_id(&gclient.client_id));
    // Roles of another tenant cannot be held: the same message as a missing one.
    let held = NewUser {
        roles: vec![groles.id],
        ..user("bob")
    };
    let err = acme.users().create(held).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid document: roles: role {} not found in this tenant",
            groles.id
        )
    );
}

#[test]
fn queries_see_one_tenant() {
    let s = store();
    two_tenants(&s);
    for i in 0..300 {
        s.scoped("globex")
            .unwrap()
            .users()
            .create(user(&format!("g{i}")))
            .unwrap();
    }
    let acme = s.scoped("acme").unwrap();
    let all = acme.users().list(&Query::all().with_total()).unwrap();
    assert_eq!((all.items.len(), all.total), (1, Some(1)));
    assert_eq!(acme.users().count(&Query::all()).unwrap(), 1);
    assert_eq!(
        acme.users()
            .count(&Query::parse("username = 'ann'").unwrap())
            .unwrap(),
        1
    );
    assert!(
        !acme
            .users()
            .exists(&Query::parse("enabled = false").unwrap())
            .unwrap()
    );
    assert_eq!(
        acme.users()
            .list(&Query::all().search("ann"))
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        acme.users()
            .count(&Query::parse("tenant = 'globex'").unwrap())
            .unwrap(),
        0
    );
    // Explain says nothing of the other tenant: same text with or without it.
    let q = Query::parse("enabled = true and username sw 'g'").unwrap();
    let with_globex = acme.users().explain(&q).unwrap();
    let fresh = store();
    two_tenants(&fresh);
    let without = fresh.scoped("acme").unwrap().users().explain(&q).unwrap();
    assert_eq!(with_globex, without);
    assert!(
        !with_globex.contains("300") && !with_globex.contains("ids"),
        "{with_globex}"
    );
    // Cursors belong to their view.
    let globex = s.scoped("globex").unwrap();
    let page = globex.users().list(&Query::all().page(1, 10)).unwrap();
    let cursor = page.next_cursor.unwrap();
    let stolen = acme.users().list(&Query::all().cursor(&cursor));
    assert!(matches!(stolen, Err(Error::InvalidQuery { field: Some(ref f), .. }) if f == "cursor"));
    assert!(s.users().list(&Query::all().cursor(&cursor)).is_err());
    let walked = globex.users().list(&Query::all().cursor(&cursor)).unwrap();
    assert!(
        walked
            .items
            .iter()
            .all(|u| u.tenant.as_deref() == Some("globex"))
    );
}

#[test]
fn the_change_log_of_a_view_is_its_own() {
    let s = store();
    let (a, _) = two_tenants(&s);
    let changes = s.scoped("acme").unwrap().changes(0, 100).unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].entity, changes[0].id), (EntityKind::User, a));
    assert_eq!(s.changes(0, 100).unwrap().len(), 2);
}

#[test]
fn uniqueness_is_per_tenant_and_tells_nothing_across() {
    let s = store();
    two_tenants(&s);
    // The same username elsewhere is no conflict; within the view it is.
    let initech = s.scoped("initech").unwrap();
    initech.users().create(user("ann")).unwrap();
    let again = initech.users().create(user("ANN"));
    assert!(matches!(again, Err(Error::Conflict { .. })));
}

#[test]
fn transactions_in_a_view() {
    let s = store();
    let acme = s.scoped("acme").unwrap();
    acme.write(|tx| {
        let r = tx.roles().create(role("staff", None))?;
        tx.users().create(NewUser {
            roles: vec![r.id],
            ..user("ann")
        })?;
        assert_eq!(tx.users().count(&Query::all())?, 1);
        Ok(())
    })
    .unwrap();
    assert_eq!(
        s.users()
            .get_by_username("ann", Some("acme"))
            .unwrap()
            .roles,
        vec![1]
    );
    acme.read(|r| {
        assert_eq!(r.users().list(&Query::all())?.items.len(), 1);
        Ok(())
    })
    .unwrap();
}

/// Tenants are identifiers (docs/reference/documents.md, Caseless matching): every query compares
/// them exactly, case-sensitively, as scoping does. `ACME`, `Acme` and `acme` are three
/// tenants.
#[test]
fn queries_compare_tenants_exactly() {
    let s = store();
    // The issue's example: one alice in `acme`, one in `ACME`.
    for tenant in ["acme", "ACME"] {
        s.scoped(tenant)
            .unwrap()
            .users()
            .create(user("alice"))
            .unwrap();
    }
    let count = |q: Query| s.users().count(&q).unwrap();
    let params = |pairs: &[(&str, &str)]| Query::from_params(pairs).unwrap();
    assert_eq!(
        s.scoped("acme")
            .unwrap()
            .users()
            .count(&Query::all())
            .unwrap(),
        1
    );
    assert_eq!(count(params(&[("tenant", "acme")])), 1);
    assert_eq!(count(params(&[("tenant", "ACME")])), 1);
    // More tenants: 3 Acme, 4 beta, 5 none, 6 acme:eu.
    for (name, tenant) in [
        ("bob", Some("Acme")),
        ("carol", Some("beta")),
        ("dave", None),
        ("erin", Some("acme:eu")),
    ] {
        let new = match tenant {
            Some(t) => common::tenant_user(name, t),
            None => user(name),
        };
        s.users().create(new).unwrap();
    }
    let ids = |q| common::user_ids(&s, q);
    let cases: &[(&str, &[u64])] = &[
        ("tenant = 'acme'", &[1]),
        ("tenant = 'ACME'", &[2]),
        ("tenant eq 'AcMe'", &[]),
        ("tenant != 'acme'", &[2, 3, 4, 6]),
        ("tenant in ('acme', 'BETA')", &[1]),
        ("tenant in ('acme', 'ACME', null)", &[1, 2, 5]),
        ("tenant like 'acme%'", &[1, 6]),
        ("tenant like 'A%'", &[2, 3]),
        ("tenant like '_CME'", &[2]),
        ("tenant like 'cme'", &[1, 3, 6]),
        ("tenant like 'CM'", &[2]),
        ("tenant co 'CM'", &[2]),
        ("tenant sw 'Ac'", &[3]),
        ("tenant ew 'me'", &[1, 3]),
        ("tenant ew 'ME'", &[2]),
        // Ordering is by characters: upper case before lower case.
        ("tenant < 'a'", &[2, 3]),
        ("tenant >= 'acme'", &[1, 4, 6]),
        ("tenant > 'ACME'", &[1, 3, 4, 6]),
        ("tenant <= 'B'", &[2, 3]),
        ("not (tenant = 'acme')", &[2, 3, 4, 5, 6]),
    ];
    for (expr, want) in cases {
        let q = Query::parse(expr).unwrap();
        assert_eq!(ids(q.clone()), *want, "{expr}");
        assert_eq!(count(q.clone()), want.len() as u64, "count {expr}");
        assert_eq!(
            s.users().exists(&q).unwrap(),
            !want.is_empty(),
            "exists {expr}"
        );
    }
    // The parameter form: plain, filter[tenant], operator prefixes.
    let param_cases: &[(&str, &str, &[u64])] = &[
        ("tenant", "acme", &[1]),
        ("filter[tenant]", "ACME", &[2]),
        ("TENANT", "eq:Acme", &[3]),
        ("tenant", "ne:acme", &[2, 3, 4, 6]),
        ("tenant", "in:acme,ACME", &[1, 2]),
        ("tenant", "in:ACME,Acme,aCME", &[2, 3]),
        ("tenant", "like:a%", &[1, 6]),
        ("tenant", "lt:a", &[2, 3]),
        ("tenant", "ge:b", &[4]),
    ];
    for (name, value, want) in param_cases {
        assert_eq!(ids(params(&[(name, value)])), *want, "{name}={value}");
    }
    // Sorting by tenant: by characters, absent first ascending, last descending.
    assert_eq!(ids(Query::all().sort("tenant")), [5, 2, 3, 1, 6, 4]);
    assert_eq!(ids(Query::all().sort("tenant:desc")), [4, 6, 1, 3, 2, 5]);
    // Page by page with cursors too.
    let mut page = s
        .users()
        .list(&Query::all().sort("tenant").page(1, 2))
        .unwrap();
    let mut walked: Vec<u64> = page.items.iter().map(|u| u.id).collect();
    while let Some(c) = page.next_cursor.clone() {
        page = s.users().list(&Query::all().cursor(&c)).unwrap();
        walked.extend(page.items.iter().map(|u| u.id));
    }
    assert_eq!(walked, [5, 2, 3, 1, 6, 4]);
    // Lookups and uniqueness were already per exact tenant.
    assert_eq!(
        s.users().get_by_username("alice", Some("ACME")).unwrap().id,
        2
    );
    not_found(s.users().get_by_username("alice", Some("Acme")));
    // Roles and clients too.
    s.roles().create(role("staff", Some("acme"))).unwrap();
    s.roles().create(role("staff", Some("ACME"))).unwrap();
    assert_eq!(
        s.roles()
            .count(&Query::parse("tenant = 'ACME'").unwrap())
            .unwrap(),
        1
    );
    s.clients()
        .create(NewClient {
            tenant: Some("Acme".into()),
            ..NewClient::new("sync")
        })
        .unwrap();
    assert_eq!(
        s.clients()
            .count(&Query::parse("tenant sw 'A'").unwrap())
            .unwrap(),
        1
    );
    assert_eq!(
        s.clients()
            .count(&Query::parse("tenant sw 'a'").unwrap())
            .unwrap(),
        0
    );
}

/// The tenant index serves exact tenant conditions: equality finds exactly
/// that tenant's records and counts from index keys; patterns and ranges,
/// which the folded index cannot answer exactly, are checked record by
/// record; sorting by tenant reads and sorts. Results are the same either way.
#[test]
fn the_tenant_index_answers_exactly() {
    let s = store();
    for i in 0..300 {
        s.users()
            .create(common::tenant_user(&format!("u{i}"), "ACME"))
            .unwrap();
    }
    for i in 0..3 {
        s.users()
            .create(common::tenant_user(&format!("v{i}"), "acme"))
            .unwrap();
    }
    let count = |expr: &str| s.users().count(&Query::parse(expr).unwrap()).unwrap();
    let explain = |expr: &str| s.users().explain(&Query::parse(expr).unwrap()).unwrap();
    assert_eq!(count("tenant = 'acme'"), 3);
    assert_eq!(count("tenant = 'ACME'"), 300);
    let plan = explain("tenant = 'acme'");
    assert!(
        plan.contains("Index lookup post.user.tenant = 'acme' (3 ids)"),
        "{plan}"
    );
    assert!(
        plan.contains("Count: index keys of post.user.tenant = 'acme'"),
        "{plan}"
    );
    assert_eq!(count("tenant in ('acme', 'nobody')"), 3);
    assert_eq!(count("tenant != 'ACME'"), 3);
    assert_eq!(count("tenant like 'acme%'"), 3);
    assert_eq!(count("tenant sw 'a'"), 3);
    assert_eq!(count("tenant sw 'AC'"), 300);
    assert_eq!(count("tenant > 'ACME'"), 3);
    assert_eq!(count("tenant = 'acme' and username sw 'v'"), 3);
    let prefix = explain("tenant sw 'a'");
    assert!(prefix.contains("post.user.tenant prefix 'a'"), "{prefix}");
    assert!(!prefix.contains("Count: index keys"), "{prefix}");
    assert_eq!(
        s.users()
            .list(&Query::parse("tenant = 'acme'").unwrap().with_total())
            .unwrap()
            .total,
        Some(3)
    );
    // Sorted by tenant: the three `acme` users come last (after `ACME`).
    let mut page = s
        .users()
        .list(&Query::all().sort("tenant,username:desc").page(1, 100))
        .unwrap();
    let mut order = Vec::new();
    loop {
        order.extend(
            page.items
                .iter()
                .map(|u| (u.tenant.clone().unwrap(), u.username.clone())),
        );
        match page.next_cursor.clone() {
            Some(c) => page = s.users().list(&Query::all().cursor(&c)).unwrap(),
            None => break,
        }
    }
    assert_eq!(order.len(), 303);
    assert!(order[..300].iter().all(|(t, _)| t == "ACME"));
    assert_eq!(
        order[300..]
            .iter()
            .map(|(_, u)| u.as_str())
            .collect::<Vec<_>>(),
        ["v2", "v1", "v0"]
    );
    assert_eq!(
        s.scoped("acme")
            .unwrap()
            .users()
            .count(&Query::all())
            .unwrap(),
        3
    );
}
