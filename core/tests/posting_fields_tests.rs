//! The fields kept as postings only (format 9, decision 0026: tenant,
//! enabled, roles): pages sorted by `enabled` under every kind of filter,
//! in a scoped view, for clients, projected, inside a write transaction
//! with pending changes, and after the cursor's run changed; and a role's
//! holders, read from the postings. Each is checked against an answer
//! computed here from every record; the walks span many 64Ki-id chunks.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use std::cmp::Ordering;

use common::{Checked, every_user, store, with_user_ids};
use rosterdb::{Client, Error, NewClient, NewRole, NewUser, Query, Store, User};
use serde_json::json;

/// Roles 1 and 2 untenanted, 3 in tenant t1; users 0..n, one in four in
/// t1; ids `1 + i * 997` (about 65 per chunk: 300 users span 5 chunks).
fn population(n: u64) -> Checked {
    let src = store();
    src.write(|tx| {
        tx.roles().create(NewRole::new("r1"))?;
        tx.roles().create(NewRole::new("r2"))?;
        tx.roles().create(NewRole {
            tenant: Some("t1".into()),
            ..NewRole::new("r3")
        })?;
        for i in 0..n {
            let t1 = i % 4 == 0;
            let mut roles = Vec::new();
            if t1 {
                if i % 3 == 1 {
                    roles.push(3);
                }
            } else {
                if i % 2 == 0 {
                    roles.push(1);
                }
                if i % 5 == 0 {
                    roles.push(2);
                }
            }
            let last = if i % 7 < 3 { "Miller" } else { "Hopper" };
            tx.users().create(NewUser {
                enabled: i % 3 != 0,
                tenant: t1.then(|| "t1".to_owned()),
                roles,
                ..NewUser::new(format!("u{i}"), format!("u{i}@example.com"), "First", last)
            })?;
        }
        Ok(())
    })
    .unwrap();
    with_user_ids(&src, |i| 1 + i * 997)
}

/// Compares users by a sort spec (`enabled`, `lastName`, each maybe `:desc`),
/// ties by id ascending.
fn cmp_by(sort: &str, a: &User, b: &User) -> Ordering {
    for key in sort.split(',') {
        let (field, desc) = match key.strip_suffix(":desc") {
            Some(f) => (f, true),
            None => (key, false),
        };
        let o = match field {
            "enabled" => a.enabled.cmp(&b.enabled),
            "lastName" => a.last_name.cmp(&b.last_name),
            other => panic!("{other}"),
        };
        let o = if desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.id.cmp(&b.id)
}

fn ids_of(users: &[User]) -> Vec<u64> {
    users.iter().map(|u| u.id).collect()
}

fn q(filter: &str, sort: &str) -> Query {
    Query::parse(filter).unwrap().sort(sort)
}

/// Every page of `list` by cursor and by offset, and single pages.
fn check_pages(
    list: &dyn Fn(&Query) -> rosterdb::Result<rosterdb::Page<User>>,
    filter: &str,
    sort: &str,
    want: &[u64],
) {
    for size in [7, 250] {
        let mut got = Vec::new();
        let mut query = q(filter, sort).page(1, size);
        loop {
            let page = list(&query).unwrap();
            got.extend(ids_of(&page.items));
            match page.next_cursor {
                Some(t) => query = q(filter, sort).cursor(&t),
                None => break,
            }
            assert!(got.len() <= want.len() + size, "runaway");
        }
        assert_eq!(got, want, "[{filter}] by {sort}, cursor pages of {size}");
        let mut got = Vec::new();
        let mut offset = 0;
        loop {
            let page = list(&q(filter, sort).offset(offset, size)).unwrap();
            if page.items.is_empty() {
                break;
            }
            offset += page.items.len() as u64;
            got.extend(ids_of(&page.items));
        }
        assert_eq!(got, want, "[{filter}] by {sort}, offset pages of {size}");
    }
    let n = want.len() as u64;
    let mut offsets = vec![
        0,
        1,
        2,
        n / 3,
        n / 2,
        n.saturating_sub(1),
        n,
        n + 1,
        n + 500,
    ];
    offsets.extend((0..n).step_by(61));
    for offset in offsets {
        for size in [1, 3] {
            let page = list(&q(filter, sort).offset(offset, size).with_total()).unwrap();
            let from = (offset as usize).min(want.len());
            let to = (from + size).min(want.len());
            assert_eq!(
                ids_of(&page.items),
                want[from..to],
                "[{filter}] by {sort} at offset {offset} size {size}"
            );
            assert_eq!(page.total, Some(n), "[{filter}] total");
        }
    }
}

type Pred = fn(&User) -> bool;

fn filters() -> Vec<(&'static str, Pred)> {
    vec![
        ("", |_| true),
        ("enabled eq true", |u| u.enabled),
        ("enabled eq false", |u| !u.enabled),
        ("enabled ge true", |u| u.enabled),
        ("enabled gt false", |u| u.enabled),
        ("enabled le false", |u| !u.enabled),
        ("enabled lt true", |u| !u.enabled),
        ("enabled pr", |_| true),
        ("not (enabled eq true)", |u| !u.enabled),
        ("roles eq 1", |u| u.roles.contains(&1)),
        ("roles eq 2", |u| u.roles.contains(&2)),
        ("roles eq 1 or roles eq 2", |u| {
            u.roles.contains(&1) || u.roles.contains(&2)
        }),
        ("roles eq 1 and enabled eq false", |u| {
            u.roles.contains(&1) && !u.enabled
        }),
        ("roles eq 1 and roles eq 2", |u| {
            u.roles.contains(&1) && u.roles.contains(&2)
        }),
        ("tenant eq 't1'", |u| u.tenant.as_deref() == Some("t1")),
        ("tenant pr", |u| u.tenant.is_some()),
        ("not (tenant pr)", |u| u.tenant.is_none()),
        ("lastName eq 'Miller'", |u| u.last_name == "Miller"),
        ("enabled ge true and lastName eq 'Miller'", |u| {
            u.enabled && u.last_name == "Miller"
        }),
    ]
}

const SORTS: [&str; 4] = [
    "enabled",
    "enabled:desc",
    "enabled,lastName",
    "enabled:desc,lastName:desc",
];

#[test]
fn user_pages_sorted_by_enabled_match_the_oracle() {
    let s = population(300);
    let all = every_user(&s);
    assert_eq!(all.len(), 300);
    for (filter, pred) in filters() {
        for sort in SORTS {
            let mut want: Vec<&User> = all.iter().filter(|u| pred(u)).collect();
            want.sort_by(|a, b| cmp_by(sort, a, b));
            let want: Vec<u64> = want.iter().map(|u| u.id).collect();
            check_pages(&|q| s.users().list(q), filter, sort, &want);
        }
    }
}

#[test]
fn scoped_pages_sorted_by_enabled_match_the_oracle() {
    let s = population(300);
    let all = every_user(&s);
    let view = s.scoped("t1").unwrap();
    for (filter, pred) in filters() {
        for sort in SORTS {
            let mut want: Vec<&User> = all
                .iter()
                .filter(|u| u.tenant.as_deref() == Some("t1") && pred(u))
                .collect();
            want.sort_by(|a, b| cmp_by(sort, a, b));
            let want: Vec<u64> = want.iter().map(|u| u.id).collect();
            check_pages(&|q| view.users().list(q), filter, sort, &want);
        }
    }
}

#[test]
fn projected_pages_sorted_by_enabled_keep_the_order() {
    let s = population(700);
    let all = every_user(&s);
    let mut want: Vec<&User> = all.iter().collect();
    want.sort_by(|a, b| cmp_by("enabled:desc", a, b));
    for offset in [0u64, 5, 233, 699] {
        let page = s
            .users()
            .list(
                &Query::all()
                    .sort("enabled:desc")
                    .fields("username")
                    .offset(offset, 4),
            )
            .unwrap();
        let json = page.items_json().unwrap();
        let got: Vec<u64> = json.iter().map(|v| v["id"].as_u64().unwrap()).collect();
        let from = offset as usize;
        let to = (from + 4).min(want.len());
        let w: Vec<u64> = want[from..to].iter().map(|u| u.id).collect();
        assert_eq!(got, w, "projected offset {offset}");
    }
}

fn client_list(s: &Store, query: &Query) -> Vec<u64> {
    s.clients()
        .list(query)
        .unwrap()
        .items
        .iter()
        .map(|c: &Client| c.id)
        .collect()
}

#[test]
fn client_pages_sorted_by_enabled_match_the_oracle() {
    let s = store();
    s.write(|tx| {
        tx.roles().create(NewRole::new("r1"))?;
        for i in 0..600u64 {
            tx.clients().create(NewClient {
                enabled: i % 3 == 1,
                roles: if i % 2 == 0 { vec![1] } else { vec![] },
                ..NewClient::new(format!("c{i}"))
            })?;
        }
        Ok(())
    })
    .unwrap();
    let mut all: Vec<Client> = Vec::new();
    let mut query = Query::all().page(1, 1000);
    loop {
        let page = s.clients().list(&query).unwrap();
        all.extend(page.items);
        match page.next_cursor {
            Some(t) => query = Query::all().cursor(&t),
            None => break,
        }
    }
    for (filter, pred) in [
        ("", (|_| true) as fn(&Client) -> bool),
        ("roles eq 1", |c| c.roles.contains(&1)),
        ("enabled eq true", |c| c.enabled),
    ] {
        for desc in [false, true] {
            let sort = if desc { "enabled:desc" } else { "enabled" };
            let mut want: Vec<&Client> = all.iter().filter(|c| pred(c)).collect();
            want.sort_by(|a, b| {
                let o = a.enabled.cmp(&b.enabled);
                (if desc { o.reverse() } else { o }).then(a.id.cmp(&b.id))
            });
            let want: Vec<u64> = want.iter().map(|c| c.id).collect();
            for offset in [0u64, 1, 199, 200, 201, 399, 400, 599, 600, 700] {
                let got = client_list(&s, &q(filter, sort).offset(offset, 3));
                let from = (offset as usize).min(want.len());
                let to = (from + 3).min(want.len());
                assert_eq!(got, want[from..to], "clients [{filter}] {sort} at {offset}");
            }
            let mut got = Vec::new();
            let mut query = q(filter, sort).page(1, 45);
            loop {
                let page = s.clients().list(&query).unwrap();
                got.extend(page.items.iter().map(|c| c.id));
                match page.next_cursor {
                    Some(t) => query = q(filter, sort).cursor(&t),
                    None => break,
                }
            }
            assert_eq!(got, want, "clients [{filter}] {sort} by cursor");
        }
    }
}

fn set_enabled(tx: &rosterdb::WriteTx, id: u64, on: bool) -> rosterdb::Result<()> {
    tx.users().patch(
        id,
        &json!([{"op": "replace", "path": "/enabled", "value": on}]),
        None,
    )?;
    Ok(())
}

#[test]
fn pages_in_a_write_transaction_see_its_pending_changes() {
    let s = population(300);
    let before = every_user(&s);
    s.write(|tx| {
        // Flip every seventh user, delete every eleventh, add a few.
        for (k, u) in before.iter().enumerate() {
            if k % 11 == 0 {
                tx.users().delete(u.id)?;
            } else if k % 7 == 0 {
                set_enabled(tx, u.id, !u.enabled)?;
            }
        }
        for i in 0..40 {
            tx.users().create(NewUser {
                enabled: i % 2 == 0,
                ..NewUser::new(format!("n{i}"), format!("n{i}@example.com"), "F", "L")
            })?;
        }
        let mut now: Vec<User> = Vec::new();
        let mut query = Query::all().page(1, 1000);
        loop {
            let page = tx.users().list(&query)?;
            now.extend(page.items);
            match page.next_cursor {
                Some(t) => query = Query::all().cursor(&t),
                None => break,
            }
        }
        assert_eq!(now.len(), before.len() - before.len().div_ceil(11) + 40);
        for sort in SORTS {
            for (filter, pred) in filters().into_iter().take(3) {
                let mut want: Vec<&User> = now.iter().filter(|u| pred(u)).collect();
                want.sort_by(|a, b| cmp_by(sort, a, b));
                let want: Vec<u64> = want.iter().map(|u| u.id).collect();
                check_pages(&|q| tx.users().list(q), filter, sort, &want);
            }
        }
        Ok(())
    })
    .unwrap();
}

/// A cursor whose user changes run or goes between two pages resumes
/// right after its position in the order.
#[test]
fn cursors_resume_after_their_position_when_their_run_changes() {
    for sort in SORTS {
        for change in 0..3 {
            for at in 0..3 {
                let s = population(300);
                let mut page = s
                    .users()
                    .list(&Query::all().sort(sort).page(1, 20))
                    .unwrap();
                for _ in 0..(3 + at * 5) {
                    let token = page.next_cursor.clone().unwrap();
                    page = s
                        .users()
                        .list(&Query::all().sort(sort).cursor(&token))
                        .unwrap();
                }
                let last = page.items.last().unwrap().clone();
                let token = page.next_cursor.unwrap();
                let before = every_user(&s);
                s.write(|tx| match change {
                    0 => set_enabled(tx, last.id, !last.enabled),
                    1 => tx.users().delete(last.id).map(|_| ()),
                    _ => {
                        // Every user of the cursor's run goes to the other.
                        for u in &before {
                            if u.enabled == last.enabled {
                                set_enabled(tx, u.id, !u.enabled)?;
                            }
                        }
                        Ok(())
                    }
                })
                .unwrap();
                let all = every_user(&s);
                let mut want: Vec<&User> = all
                    .iter()
                    .filter(|u| cmp_by(sort, u, &last) == Ordering::Greater)
                    .collect();
                want.sort_by(|a, b| cmp_by(sort, a, b));
                let want: Vec<u64> = want.iter().take(20).map(|u| u.id).collect();
                let got = ids_of(
                    &s.users()
                        .list(&Query::all().sort(sort).cursor(&token))
                        .unwrap_or_else(|e| panic!("{sort} change {change}: {e:?}"))
                        .items,
                );
                assert_eq!(got, want, "{sort}, change {change}, at {at}");
            }
        }
    }
}

fn in_use(r: rosterdb::Result<rosterdb::Role>) -> u64 {
    match r {
        Err(Error::InUse { count, .. }) => count,
        other => panic!("expected InUse, got {other:?}"),
    }
}

#[test]
fn role_delete_counts_and_clears_every_holder() {
    let s = population(900);
    s.write(|tx| {
        for i in 0..30u64 {
            tx.clients().create(NewClient {
                roles: if i % 3 == 0 { vec![1, 2] } else { vec![2] },
                ..NewClient::new(format!("c{i}"))
            })?;
        }
        Ok(())
    })
    .unwrap();
    let users = every_user(&s);
    let holders = |r: u64| users.iter().filter(|u| u.roles.contains(&r)).count() as u64;
    assert_eq!(in_use(s.roles().delete(1, false)), holders(1) + 10);
    assert_eq!(in_use(s.roles().delete(2, false)), holders(2) + 30);
    // Uncommitted assignments count; uncommitted removals do not.
    s.write(|tx| {
        let free: Vec<&User> = users
            .iter()
            .filter(|u| u.tenant.is_none() && !u.roles.contains(&1))
            .take(5)
            .collect();
        for u in &free {
            let mut roles = u.roles.clone();
            roles.push(1);
            tx.users().patch(
                u.id,
                &json!([{"op": "replace", "path": "/roles", "value": roles}]),
                None,
            )?;
        }
        let held: Vec<&User> = users
            .iter()
            .filter(|u| u.roles == vec![1])
            .take(3)
            .collect();
        for u in &held {
            tx.users().patch(
                u.id,
                &json!([{"op": "replace", "path": "/roles", "value": []}]),
                None,
            )?;
        }
        assert_eq!(in_use(tx.roles().delete(1, false)), holders(1) + 10 + 5 - 3);
        tx.roles().delete(1, true)?;
        Ok(())
    })
    .unwrap();
    assert!(every_user(&s).iter().all(|u| !u.roles.contains(&1)));
    assert_eq!(
        s.users()
            .count(&Query::parse("roles eq 1").unwrap())
            .unwrap(),
        0
    );
    s.roles().delete(2, true).unwrap();
    assert!(
        every_user(&s)
            .iter()
            .all(|u| u.roles.is_empty() || u.roles == vec![3])
    );
    assert_eq!(
        client_list(&s, &Query::parse("roles pr").unwrap()),
        Vec::<u64>::new()
    );
    // A tenant's role from its view.
    let t1 = s.scoped("t1").unwrap();
    let n3 = holders(3);
    assert!(n3 > 0);
    match t1.roles().delete(3, false) {
        Err(Error::InUse { count, .. }) => assert_eq!(count, n3),
        other => panic!("{other:?}"),
    }
    t1.roles().delete(3, true).unwrap();
    assert!(every_user(&s).iter().all(|u| u.roles.is_empty()));
    assert!(s.check().unwrap().ok);
}

/// Users 0..n, stored under ids `1 + i * 2_203` (about 30 per 64Ki-id
/// chunk; through an export, edited, and an import, which keeps ids):
/// one in three disabled, one in four named Miller (else Hopper), one in
/// five in team `a` (an attribute: no index answers it).
fn spread_population(n: u64) -> Checked {
    let src = store();
    src.write(|tx| {
        let users = tx.users();
        for i in 0..n {
            let last = if i % 4 == 0 { "Miller" } else { "Hopper" };
            let team = if i % 5 == 0 { "a" } else { "b" };
            users.create(NewUser {
                enabled: i % 3 != 0,
                attributes: json!({ "team": team }).as_object().cloned().unwrap(),
                ..NewUser::new(format!("u{i}"), format!("u{i}@example.com"), "First", last)
            })?;
        }
        Ok(())
    })
    .unwrap();
    with_user_ids(&src, |i| 1 + i * 2_203)
}

/// The ids of every page of the query (size `size`), followed by cursor,
/// and then by offset.
fn cursor_and_offset_walks(
    s: &Checked,
    filter: &str,
    sort: &str,
    size: usize,
) -> (Vec<u64>, Vec<u64>) {
    let mut by_cursor = Vec::new();
    let mut query = q(filter, sort).page(1, size);
    loop {
        let page = s.users().list(&query).unwrap();
        assert!(page.items.len() <= size);
        by_cursor.extend(ids_of(&page.items));
        match page.next_cursor {
            Some(token) => query = q(filter, sort).cursor(&token),
            None => break,
        }
    }
    let mut by_offset = Vec::new();
    let mut offset = 0;
    loop {
        let page = s
            .users()
            .list(&q(filter, sort).offset(offset, size))
            .unwrap();
        if page.items.is_empty() {
            break;
        }
        offset += page.items.len() as u64;
        by_offset.extend(ids_of(&page.items));
    }
    (by_cursor, by_offset)
}

/// Checks the walks of every page size against `want`, and that the plan
/// walks the postings of `enabled`.
fn check_walks(s: &Checked, filter: &str, sort: &str, want: &[u64]) {
    for size in [1, 7, 100, 1000] {
        let (by_cursor, by_offset) = cursor_and_offset_walks(s, filter, sort, size);
        assert_eq!(
            by_cursor, want,
            "{filter} sorted by {sort}, pages of {size}: cursor walk"
        );
        assert_eq!(
            by_offset, want,
            "{filter} sorted by {sort}, pages of {size}: offset walk"
        );
    }
    // One page at each offset around the runs' edges.
    for offset in [0, 1, 199, 200, 201, 399, 400, 401, 599] {
        let page = s.users().list(&q(filter, sort).offset(offset, 3)).unwrap();
        let from = (offset as usize).min(want.len());
        let to = (from + 3).min(want.len());
        assert_eq!(
            ids_of(&page.items),
            want[from..to],
            "{filter} sorted by {sort} at offset {offset}"
        );
    }
    let plan = s.users().explain(&q(filter, sort)).unwrap();
    assert!(plan.contains("post.user.enabled"), "{plan}");
}

#[test]
fn pages_sorted_by_enabled_walk_its_postings_in_index_order() {
    let s = spread_population(600);
    let all = every_user(&s);
    assert_eq!(all.len(), 600);
    assert!(all.last().unwrap().id > 20 * 65_536);
    let key = |u: &User| (u.enabled, u.id);
    let mut asc: Vec<&User> = all.iter().collect();
    asc.sort_by_key(|u| key(u));
    check_walks(
        &s,
        "",
        "enabled",
        &asc.iter().map(|u| u.id).collect::<Vec<_>>(),
    );
    let mut desc: Vec<&User> = all.iter().collect();
    desc.sort_by_key(|u| (!u.enabled, u.id));
    check_walks(
        &s,
        "",
        "enabled:desc",
        &desc.iter().map(|u| u.id).collect::<Vec<_>>(),
    );
    // A second key sorts each run.
    let mut two: Vec<&User> = all.iter().collect();
    two.sort_by(|a, b| (!a.enabled, &a.last_name, a.id).cmp(&(!b.enabled, &b.last_name, b.id)));
    check_walks(
        &s,
        "",
        "enabled:desc,lastName",
        &two.iter().map(|u| u.id).collect::<Vec<_>>(),
    );
    // A filter no index answers: passed-over matches are read, not
    // counted from the postings.
    let team_a: Vec<u64> = asc
        .iter()
        .filter(|u| u.attributes["team"] == "a")
        .map(|u| u.id)
        .collect();
    assert_eq!(team_a.len(), 120);
    check_walks(&s, "attributes.team eq 'a'", "enabled", &team_a);
    let team_a_desc: Vec<u64> = desc
        .iter()
        .filter(|u| u.attributes["team"] == "a")
        .map(|u| u.id)
        .collect();
    check_walks(&s, "attributes.team eq 'a'", "enabled:desc", &team_a_desc);
}
