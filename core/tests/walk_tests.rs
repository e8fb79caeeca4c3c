//! `Walk`: every match of a query, page by page, following cursors.

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
use rosterdb::{Error, Page, Query, Store, StoreHandle, User, Walk};

fn names(users: &[User]) -> Vec<String> {
    users.iter().map(|u| u.username.clone()).collect()
}

fn fill(s: &Store, count: usize) {
    for i in 0..count {
        s.users().create(user(&format!("u{i}"))).unwrap();
    }
}

#[test]
fn a_walk_reads_every_page_then_stops() {
    let s = store();
    fill(&s, 5);
    let mut walk = Walk::new(Query::all().sort("username:desc").page(1, 2));
    assert_eq!(
        walk.next_query(),
        Some(&Query::all().sort("username:desc").page(1, 2))
    );
    let mut sizes = Vec::new();
    let mut all = Vec::new();
    while let Some(page) = walk.next_page(|q| s.users().list(q)).unwrap() {
        sizes.push(page.items.len());
        all.extend(names(&page.items));
        if page.next_cursor.is_some() {
            let next = walk.next_query().expect("a cursor leads on");
            assert_eq!(
                next,
                &Query::all().cursor(page.next_cursor.as_deref().unwrap())
            );
        }
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(all, ["u4", "u3", "u2", "u1", "u0"]);
    assert!(walk.is_done());
    assert_eq!(walk.next_query(), None);
    assert!(
        walk.next_page(|_| -> Result<Page<User>, Error> { panic!("no more pages") })
            .unwrap()
            .is_none()
    );
}

#[test]
fn next_item_fetches_a_page_only_when_its_items_are_used_up() {
    let s = store();
    fill(&s, 5);
    let mut walk = Walk::new(Query::all().page(1, 2));
    let mut fetches = 0;
    let mut seen = Vec::new();
    while let Some(u) = walk
        .next_item(|q| {
            fetches += 1;
            s.users().list(q)
        })
        .unwrap()
    {
        seen.push((u.username, fetches));
    }
    assert_eq!(
        seen,
        [("u0", 1), ("u1", 1), ("u2", 2), ("u3", 2), ("u4", 3)].map(|(n, f)| (n.to_owned(), f))
    );
    assert_eq!(fetches, 3);
    assert!(walk.is_done());
}

#[test]
fn an_empty_result_is_one_empty_page() {
    let s = store();
    fill(&s, 3);
    let empty = Query::parse("username = 'nobody'").unwrap();
    let mut fetches = 0;
    let mut walk: Walk<User> = Walk::new(empty.clone());
    let item = walk
        .next_item(|q| {
            fetches += 1;
            s.users().list(q)
        })
        .unwrap();
    assert!(item.is_none());
    assert_eq!(fetches, 1);
    assert!(walk.is_done());
    let mut walk = Walk::new(empty);
    let page = walk.next_page(|q| s.users().list(q)).unwrap().unwrap();
    assert!(page.items.is_empty() && page.next_cursor.is_none());
    assert!(walk.next_page(|q| s.users().list(q)).unwrap().is_none());
}

#[test]
fn a_single_page_is_read_once() {
    let s = store();
    fill(&s, 3);
    let mut fetches = 0;
    let walked: Vec<String> = Walk::new(Query::all())
        .items(|q| {
            fetches += 1;
            s.users().list(q)
        })
        .map(|u| u.unwrap().username)
        .collect();
    assert_eq!(walked, ["u0", "u1", "u2"]);
    assert_eq!(fetches, 1);
}

#[test]
fn empty_pages_with_a_cursor_are_passed_over() {
    // A fetch that returns an empty page with a next cursor (e.g. every
    // match of the page was deleted meanwhile) does not end the walk.
    let s = store();
    fill(&s, 4);
    let mut calls = 0;
    let walked: Vec<String> = Walk::new(Query::all().page(1, 2))
        .items(|q| {
            calls += 1;
            let mut page = s.users().list(q)?;
            if calls == 1 {
                page.items.clear();
            }
            Ok::<_, Error>(page)
        })
        .map(|u| u.unwrap().username)
        .collect();
    assert_eq!(walked, ["u2", "u3"]);
    assert_eq!(calls, 2);
}

#[test]
fn each_page_is_its_own_snapshot() {
    let s = store();
    fill(&s, 4);
    let mut walk = Walk::new(Query::all().page(1, 2));
    let first = walk.next_page(|q| s.users().list(q)).unwrap().unwrap();
    assert_eq!(names(&first.items), ["u0", "u1"]);
    // Written between pages: a record sorting after the cursor is seen.
    s.users().create(user("late")).unwrap();
    s.users().delete(3).unwrap();
    let rest: Vec<String> = walk
        .items(|q| s.users().list(q))
        .map(|u| u.unwrap().username)
        .collect();
    assert_eq!(rest, ["u3", "late"]);
}

#[test]
fn a_failed_fetch_leaves_the_walk_where_it_was() {
    let s = store();
    fill(&s, 3);
    let mut walk = Walk::new(Query::all().page(1, 2));
    assert_eq!(
        walk.next_item(|q| s.users().list(q))
            .unwrap()
            .unwrap()
            .username,
        "u0"
    );
    assert_eq!(
        walk.next_item(|q| s.users().list(q))
            .unwrap()
            .unwrap()
            .username,
        "u1"
    );
    let before = walk.next_query().cloned();
    let failed = walk.next_item(|_| Err::<Page<User>, _>("disk on fire"));
    assert_eq!(failed.unwrap_err(), "disk on fire");
    assert_eq!(walk.next_query().cloned(), before);
    assert_eq!(
        walk.next_item(|q| s.users().list(q))
            .unwrap()
            .unwrap()
            .username,
        "u2"
    );
    assert!(walk.next_item(|q| s.users().list(q)).unwrap().is_none());
}

#[test]
fn the_iterator_ends_after_an_error() {
    let s = store();
    fill(&s, 3);
    let mut items = Walk::new(Query::all().sort("nope")).items(|q| s.users().list(q));
    assert!(matches!(
        items.next(),
        Some(Err(Error::InvalidQuery { field: Some(f), .. })) if f == "sort"
    ));
    assert!(items.next().is_none());
    assert!(items.next().is_none());
}

#[test]
fn a_walk_keeps_the_query_its_cursors_carry() {
    // Sort, filter and projection hold on every page, as the cursor carries them.
    let s = store();
    fill(&s, 6);
    let query = Query::parse("username ne 'u2'")
        .unwrap()
        .sort_keys(&["username:desc"])
        .select(&["username"])
        .page(1, 2);
    let mut walk = Walk::new(query);
    let mut docs = Vec::new();
    while let Some(page) = walk.next_page(|q| s.users().list(q)).unwrap() {
        docs.extend(page.items_json().unwrap());
    }
    let names: Vec<&str> = docs
        .iter()
        .map(|d| d["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["u5", "u4", "u3", "u1", "u0"]);
    assert!(docs.iter().all(|d| d.get("email").is_none()), "{docs:?}");
}

#[test]
fn a_walk_through_a_handle_sees_its_view() {
    let handle = StoreHandle::new(Store::memory_with(common::options()).unwrap());
    for (name, tenant) in [("a", "acme"), ("b", "globex"), ("c", "acme"), ("d", "acme")] {
        handle
            .write(|c| c.users().create(tenant_user(name, tenant)))
            .unwrap();
    }
    let acme = handle.scoped("acme").unwrap();
    let walked: Vec<String> = Walk::new(Query::all().page(1, 1))
        .items(|q| acme.read(|c| c.users().list(q)))
        .map(|u| u.unwrap().username)
        .collect();
    assert_eq!(walked, ["a", "c", "d"]);
    // In a transaction, pages see its own writes.
    let tx = acme.transaction();
    tx.begin().unwrap();
    tx.call(|c| c.users().create(tenant_user("e", "acme")))
        .unwrap();
    let walked: Vec<String> = Walk::new(Query::all().page(1, 2))
        .items(|q| tx.call(|c| c.users().list(q)))
        .map(|u| u.unwrap().username)
        .collect();
    assert_eq!(walked, ["a", "c", "d", "e"]);
    tx.end(false).unwrap();
    // A walk on a closed store fails with Closed.
    handle.close();
    let mut walk: Walk<User> = Walk::new(Query::all());
    assert!(matches!(
        walk.next_item(|q| acme.read(|c| c.users().list(q))),
        Err(Error::Closed { .. })
    ));
}
