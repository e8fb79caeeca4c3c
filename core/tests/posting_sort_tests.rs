//! Pages sorted by a field kept as postings (format 9, decision 0026:
//! `enabled`): the walk goes through the field's posting terms, value by
//! value, each value's ids ascending, and must give the order an ordered
//! index gave — followed by cursor or by offset, ascending or descending,
//! with a second sort key, with a filter — across many 64Ki-id chunks.

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

use common::{Checked, every_user, store, with_user_ids};
use rosterdb::{NewUser, Query, User};

/// Users 0..n, stored under ids `1 + i * 2_203` (about 30 per 64Ki-id
/// chunk; through an export, edited, and an import, which keeps ids):
/// one in three disabled, one in four named Miller (else Hopper), one in
/// five in team `a` (an attribute: no index answers it).
fn population(n: u64) -> Checked {
    let src = store();
    src.write(|tx| {
        let users = tx.users();
        for i in 0..n {
            let last = if i % 4 == 0 { "Miller" } else { "Hopper" };
            let team = if i % 5 == 0 { "a" } else { "b" };
            users.create(NewUser {
                enabled: i % 3 != 0,
                attributes: serde_json::json!({ "team": team })
                    .as_object()
                    .cloned()
                    .unwrap(),
                ..NewUser::new(format!("u{i}"), format!("u{i}@example.com"), "First", last)
            })?;
        }
        Ok(())
    })
    .unwrap();
    with_user_ids(&src, |i| 1 + i * 2_203)
}

fn ids(users: &[User]) -> Vec<u64> {
    users.iter().map(|u| u.id).collect()
}

/// The query of `filter` sorted by `sort`.
fn make(filter: &str, sort: &str) -> Query {
    Query::parse(filter).unwrap().sort(sort)
}

/// The ids of every page of the query (size `size`), followed by cursor,
/// and then by offset.
fn walks(s: &Checked, filter: &str, sort: &str, size: usize) -> (Vec<u64>, Vec<u64>) {
    let mut by_cursor = Vec::new();
    let mut query = make(filter, sort).page(1, size);
    loop {
        let page = s.users().list(&query).unwrap();
        assert!(page.items.len() <= size);
        by_cursor.extend(ids(&page.items));
        match page.next_cursor {
            Some(token) => query = make(filter, sort).cursor(&token),
            None => break,
        }
    }
    let mut by_offset = Vec::new();
    let mut offset = 0;
    loop {
        let page = s
            .users()
            .list(&make(filter, sort).offset(offset, size))
            .unwrap();
        if page.items.is_empty() {
            break;
        }
        offset += page.items.len() as u64;
        by_offset.extend(ids(&page.items));
    }
    (by_cursor, by_offset)
}

/// Checks the walks of every page size against `want`, and that the plan
/// walks the postings of `enabled`.
fn check(s: &Checked, filter: &str, sort: &str, want: &[u64]) {
    for size in [1, 7, 100, 1000] {
        let (by_cursor, by_offset) = walks(s, filter, sort, size);
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
        let page = s
            .users()
            .list(&make(filter, sort).offset(offset, 3))
            .unwrap();
        let from = (offset as usize).min(want.len());
        let to = (from + 3).min(want.len());
        assert_eq!(
            ids(&page.items),
            want[from..to],
            "{filter} sorted by {sort} at offset {offset}"
        );
    }
    let plan = s.users().explain(&make(filter, sort)).unwrap();
    assert!(plan.contains("post.user.enabled"), "{plan}");
}

#[test]
fn pages_sorted_by_enabled_walk_its_postings_in_index_order() {
    let s = population(600);
    let all = every_user(&s);
    assert_eq!(all.len(), 600);
    assert!(all.last().unwrap().id > 20 * 65_536);
    let key = |u: &User| (u.enabled, u.id);
    let mut asc: Vec<&User> = all.iter().collect();
    asc.sort_by_key(|u| key(u));
    check(
        &s,
        "",
        "enabled",
        &asc.iter().map(|u| u.id).collect::<Vec<_>>(),
    );
    let mut desc: Vec<&User> = all.iter().collect();
    desc.sort_by_key(|u| (!u.enabled, u.id));
    check(
        &s,
        "",
        "enabled:desc",
        &desc.iter().map(|u| u.id).collect::<Vec<_>>(),
    );
    // A second key sorts each run.
    let mut two: Vec<&User> = all.iter().collect();
    two.sort_by(|a, b| (!a.enabled, &a.last_name, a.id).cmp(&(!b.enabled, &b.last_name, b.id)));
    check(
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
    check(&s, "attributes.team eq 'a'", "enabled", &team_a);
    let team_a_desc: Vec<u64> = desc
        .iter()
        .filter(|u| u.attributes["team"] == "a")
        .map(|u| u.id)
        .collect();
    check(&s, "attributes.team eq 'a'", "enabled:desc", &team_a_desc);
}
