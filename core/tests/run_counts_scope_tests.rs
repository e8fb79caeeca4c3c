//! Offset pages sorted by last name (run counts, decision 0015) where the
//! counts cover more records than the page may show: views of a tenant,
//! filters, searches and disabled users, and keys that came and went in
//! one transaction (a create then a delete, a rename there and back) —
//! every page equals the sort of the matching users, and `check()` holds
//! the counts to the index.

// A test fails by panicking: unwraps, indexing and arithmetic on small
// known values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    missing_docs
)]

mod common;

use common::{Checked, store};
use rosterdb::{NewUser, Query, User, fold};
use serde_json::json;

const LAST: [&str; 5] = ["Keller", "keller", "Miller", "Ng", "Zoë"];
const TENANTS: [Option<&str>; 3] = [None, Some("acme"), Some("beta")];

fn population() -> Checked {
    let s = store();
    s.write(|tx| {
        for i in 0..450_usize {
            tx.users().create(NewUser {
                tenant: TENANTS[i % 3].map(Into::into),
                enabled: i % 4 != 0,
                ..NewUser::new(
                    format!("u{i}"),
                    format!("u{i}@example.com"),
                    ["Ann", "Bo", "Cy"][i % 7 % 3],
                    LAST[i / 3 % 5],
                )
            })?;
        }
        Ok(())
    })
    .unwrap();
    s
}

/// The ids of `keep`'s users in last-name order (folded, exact, id).
fn sorted(all: &[User], keep: &dyn Fn(&User) -> bool, descending: bool) -> Vec<u64> {
    let mut users: Vec<&User> = all.iter().filter(|u| keep(u)).collect();
    let key = |u: &User| (fold(&u.last_name), u.last_name.clone());
    users.sort_by(|a, b| {
        let o = key(a).cmp(&key(b));
        let o = if descending { o.reverse() } else { o };
        o.then(a.id.cmp(&b.id))
    });
    users.iter().map(|u| u.id).collect()
}

#[track_caller]
fn assert_pages(
    list: &dyn Fn(&Query) -> Vec<u64>,
    all: &[User],
    what: &str,
    make: &dyn Fn() -> Query,
    keep: &dyn Fn(&User) -> bool,
) {
    for (sort, descending) in [("lastName", false), ("lastName:desc", true)] {
        let want = sorted(all, keep, descending);
        for offset in [
            0_u64, 1, 29, 30, 31, 59, 60, 61, 89, 90, 100, 149, 150, 151, 299, 400,
        ] {
            let got = list(&make().sort(sort).offset(offset, 7));
            let start = want.len().min(offset as usize);
            let end = want.len().min(start + 7);
            assert_eq!(got, want[start..end], "{what}: {sort} at offset {offset}");
        }
    }
}

fn check_all(s: &Checked, label: &str) {
    let all = common::every_user(s);
    let ids = |users: Vec<User>| users.iter().map(|u| u.id).collect::<Vec<_>>();
    for tenant in ["acme", "beta"] {
        let view = s.scoped(tenant).unwrap();
        let list = |q: &Query| ids(view.users().list(q).unwrap().items);
        let view = &list;
        let mine = |u: &User| u.tenant.as_deref() == Some(tenant);
        assert_pages(
            view,
            &all,
            &format!("{label}: {tenant}"),
            &Query::all,
            &mine,
        );
        assert_pages(
            view,
            &all,
            &format!("{label}: {tenant}, enabled"),
            &|| Query::parse("enabled = true").unwrap(),
            &|u| mine(u) && u.enabled,
        );
    }
    let whole = |q: &Query| ids(s.users().list(q).unwrap().items);
    let s_view = &whole;
    assert_pages(
        s_view,
        &all,
        &format!("{label}: disabled"),
        &|| Query::parse("enabled = false").unwrap(),
        &|u| !u.enabled,
    );
    assert_pages(
        s_view,
        &all,
        &format!("{label}: search"),
        &|| Query::all().search("bo"),
        &|u| has(&u.first_name, "bo") || has(&u.username, "bo") || has(&u.email, "bo"),
    );
    assert_pages(s_view, &all, &format!("{label}: all"), &Query::all, &|_| {
        true
    });
    let report = s.check().unwrap();
    assert!(report.ok, "{label}: {:?}", report.problems);
}

fn has(text: &str, needle: &str) -> bool {
    fold(text).contains(&fold(needle))
}

#[test]
fn offset_pages_by_last_name_skip_only_matching_users() {
    let s = population();
    check_all(&s, "created");
}

#[test]
fn keys_that_come_and_go_in_one_write_leave_counts_right() {
    let s = population();
    let rename = |last: &str| json!([{"op": "replace", "path": "/lastName", "value": last}]);
    s.write(|tx| {
        let users = tx.users();
        // Created and deleted, with and without reads between.
        for i in 0..20 {
            let u = users.create(NewUser::new(
                format!("tmp{i}"),
                format!("tmp{i}@example.com"),
                "T",
                LAST[i % 5],
            ))?;
            if i % 2 == 0 {
                users.count(&Query::all())?;
            }
            users.delete(u.id)?;
        }
        // Renamed there and back, and across runs.
        for id in (1..=450_u64).step_by(13) {
            let before = users.get(id)?.last_name;
            users.patch(id, &rename("Temp"), None)?;
            users.patch(id, &rename(&before), None)?;
            users.patch(id, &rename(LAST[(id % 5) as usize]), None)?;
        }
        for id in (2..=450_u64).step_by(17) {
            users.delete(id)?;
        }
        Ok(())
    })
    .unwrap();
    check_all(&s, "after one write");
    assert_eq!(
        s.users()
            .count(&Query::parse("lastName eq 'Temp'").unwrap())
            .unwrap(),
        0
    );
}
