//! The planner: explain names the index each indexed condition uses; for
//! each planner path, explain prints the plan `list`, `count` and `exists`
//! run (reported through the `internals` door); and every plan (read whole,
//! streamed by id, streamed by a sort index, with cursors and offsets)
//! returns what a plain scan would.

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

use std::cmp::Ordering;

use common::{options, role};
use rosterdb::internals::{AccessPath, Count, PhysicalPlan, Reason};
use rosterdb::{Collection, NewClient, NewUser, Page, Query, ReadContext, Store, User, fold};

fn explain_users(s: &Store, expr: &str) -> String {
    s.users().explain(&Query::parse(expr).unwrap()).unwrap()
}

fn small_store() -> Store {
    let s = Store::memory_with(options()).unwrap();
    let r = s.roles().create(role("staff", Some("acme"))).unwrap();
    for i in 0..20u64 {
        s.users()
            .create(NewUser {
                tenant: Some("acme".into()),
                nickname: (i % 2 == 0).then(|| format!("nick{i}")),
                enabled: i % 3 != 0,
                roles: if i % 4 == 0 { vec![r.id] } else { vec![] },
                ..NewUser::new(
                    format!("user{i}"),
                    format!("user{i}@example.com"),
                    "Ann",
                    format!("Smith{i}"),
                )
            })
            .unwrap();
    }
    s.clients()
        .create(NewClient {
            roles: vec![r.id],
            tenant: Some("acme".into()),
            ..NewClient::new("svc")
        })
        .unwrap();
    s
}

#[test]
fn explain_names_the_index_of_each_indexed_condition() {
    let s = small_store();
    for (expr, index) in [
        ("tenant = 'acme'", "post.user.tenant"),
        ("enabled = false", "post.user.enabled"),
        ("roles eq 1", "post.user.roles"),
        ("createdAt > '2000-01-01'", "idx.user.created_at"),
        ("updatedAt <= '2999-01-01'", "idx.user.updated_at"),
        ("lastName = 'smith3'", "idx.user.last_name"),
        ("lastName sw 'smi'", "idx.user.last_name"),
        ("lastName like 'smith1%'", "idx.user.last_name"),
        ("username = 'USER7'", "idx.user.username.order"),
        (
            "email in ('user1@example.com', 'user2@example.com')",
            "idx.user.email.order",
        ),
        ("nickname is null", "scan"),
        ("firstName co 'nn'", "idx.user.trigrams"),
        ("firstName co 'ann'", "idx.user.trigrams"),
        ("nickname like '%ick1%'", "idx.user.trigrams"),
        ("email ew 'ample.com'", "idx.user.trigrams"),
        ("firstName = 'ann'", "idx.user.trigrams"),
        (
            "enabled = true and lastName = 'smith4'",
            "idx.user.last_name",
        ),
    ] {
        let plan = explain_users(&s, expr);
        if index == "scan" {
            assert!(plan.contains("Table scan users"), "{expr}: {plan}");
        } else {
            assert!(
                plan.contains(&format!("Index lookup {index} ")),
                "{expr}: {plan}"
            );
            assert!(!plan.contains("Table scan"), "{expr}: {plan}");
        }
    }
    let search = s
        .users()
        .explain(&Query::all().search("user1 nick"))
        .unwrap();
    assert!(search.contains("idx.user.trigrams"), "{search}");
    let count = explain_users(&s, "enabled = true");
    assert!(
        count.ends_with("\nCount: index keys of post.user.enabled = true, no records read"),
        "{count}"
    );
    let roles = s
        .roles()
        .explain(&Query::parse("name = 'STAFF'").unwrap())
        .unwrap();
    assert!(
        roles.contains("Index lookup idx.role.name.order "),
        "{roles}"
    );
    let clients = s
        .clients()
        .explain(&Query::parse("roles eq 1").unwrap())
        .unwrap();
    assert!(
        clients.contains("Index lookup post.client.roles "),
        "{clients}"
    );
}

#[test]
fn explain_shows_the_order_of_a_sorted_page() {
    let s = small_store();
    let q = Query::all().sort("lastName:desc");
    let plan = s.users().explain(&q).unwrap();
    assert!(
        plan.contains("Index scan idx.user.last_name, lastName desc (no filter)"),
        "{plan}"
    );
    assert!(!plan.contains("Sort"), "{plan}");
    let q = Query::all().sort("firstName");
    let plan = s.users().explain(&q).unwrap();
    assert!(
        plan.contains("Sort firstName asc, id asc (in memory)"),
        "{plan}"
    );
    assert!(plan.contains("Table scan users (no filter)"), "{plan}");
}

const LAST: [&str; 7] = [
    "Hopper", "hopper", "Hoare", "Lovelace", "Turing", "HOPPER", "Knuth",
];

/// A store large enough that indexes hold more than the planner reads whole.
fn big_store() -> (Store, Vec<User>) {
    let s = Store::memory_with(options()).unwrap();
    let roles: Vec<u64> = (0..4)
        .map(|i| s.roles().create(role(&format!("r{i}"), None)).unwrap().id)
        .collect();
    s.write(|tx| {
        for i in 0..1500u64 {
            let mix = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            tx.users().create(NewUser {
                enabled: mix % 4 != 0,
                roles: vec![roles[(mix % 4) as usize]],
                nickname: (mix % 5 == 0).then(|| format!("nick{}", mix % 7)),
                ..NewUser::new(
                    format!("u{i}"),
                    format!("u{i}@example.com"),
                    format!("F{}", mix % 13),
                    LAST[(mix % 7) as usize],
                )
            })?;
        }
        Ok(())
    })
    .unwrap();
    // Holes in the id sequence, as real stores have.
    for id in (1..1500).step_by(97) {
        s.users().delete(id).unwrap();
    }
    let all = s.users().list(&Query::all().page(1, 1000)).unwrap().items;
    let rest = s.users().list(&Query::all().page(2, 1000)).unwrap().items;
    (s, all.into_iter().chain(rest).collect())
}

/// Every item of a cursor walk, checking each page's size.
fn walk(s: &Store, query: Query, size: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut page = s.users().list(&query).unwrap();
    loop {
        assert!(page.items.len() <= size);
        ids.extend(page.items.iter().map(|u| u.id));
        let Some(cursor) = page.next_cursor.clone() else {
            return ids;
        };
        assert_eq!(page.items.len(), size, "a page before the last is full");
        page = s.users().list(&Query::all().cursor(&cursor)).unwrap();
    }
}

fn by_last_name(a: &User, b: &User) -> Ordering {
    fold(&a.last_name)
        .cmp(&fold(&b.last_name))
        .then_with(|| a.last_name.cmp(&b.last_name))
}

fn expect(
    users: &[User],
    keep: impl Fn(&User) -> bool,
    order: impl Fn(&User, &User) -> Ordering,
) -> Vec<u64> {
    let mut out: Vec<&User> = users.iter().filter(|u| keep(u)).collect();
    out.sort_by(|a, b| order(a, b).then_with(|| a.id.cmp(&b.id)));
    out.iter().map(|u| u.id).collect()
}

#[test]
fn streamed_plans_equal_a_scan() {
    let (s, users) = big_store();
    assert!(users.len() > 1400);
    let plan = s
        .users()
        .explain(&Query::parse("enabled = true").unwrap().sort("lastName"))
        .unwrap();
    assert!(
        plan.contains("Index scan idx.user.last_name, lastName asc"),
        "{plan}"
    );

    // Sorted by an indexed field, ascending and descending, with a condition.
    let q = Query::parse("enabled = true")
        .unwrap()
        .sort("lastName")
        .page(1, 37);
    assert_eq!(walk(&s, q, 37), expect(&users, |u| u.enabled, by_last_name));
    let q = Query::parse("enabled = true")
        .unwrap()
        .sort("lastName:desc")
        .page(1, 41);
    assert_eq!(
        walk(&s, q, 41),
        expect(&users, |u| u.enabled, |a, b| by_last_name(b, a))
    );

    // Bounded by a condition on the sort field, with an index probe.
    let q = Query::parse("lastName like 'ho%' and roles eq 2")
        .unwrap()
        .sort("lastName:desc")
        .page(1, 29);
    let keep = |u: &User| fold(&u.last_name).starts_with("ho") && u.roles == [2];
    assert_eq!(
        walk(&s, q, 29),
        expect(&users, keep, |a, b| by_last_name(b, a))
    );

    // Several sort keys: runs of equal last names sorted by the rest.
    let q = Query::parse("enabled = false")
        .unwrap()
        .sort("lastName,firstName:desc")
        .page(1, 23);
    let order = |a: &User, b: &User| {
        by_last_name(a, b).then_with(|| {
            let f = |u: &User| (fold(&u.first_name), u.first_name.clone());
            f(b).cmp(&f(a))
        })
    };
    assert_eq!(walk(&s, q, 23), expect(&users, |u| !u.enabled, order));

    // Streamed in id order from an index, and from a trigram index.
    let q = Query::parse("roles eq 3").unwrap().page(1, 50);
    assert_eq!(
        walk(&s, q, 50),
        expect(&users, |u| u.roles == [3], |_, _| Ordering::Equal)
    );
    let q = Query::all().search("hop").page(1, 64);
    let keep = |u: &User| fold(&u.last_name).contains("hop");
    assert_eq!(
        walk(&s, q, 64),
        expect(&users, keep, |_, _| Ordering::Equal)
    );
    let q = Query::parse("nickname is null and enabled = true")
        .unwrap()
        .page(1, 100);
    let keep = |u: &User| u.nickname.is_none() && u.enabled;
    assert_eq!(
        walk(&s, q, 100),
        expect(&users, keep, |_, _| Ordering::Equal)
    );

    // Offsets deep into a streamed order, and totals.
    let all = expect(&users, |u| u.enabled, by_last_name);
    let page = s
        .users()
        .list(
            &Query::parse("enabled = true")
                .unwrap()
                .sort("lastName")
                .offset(700, 30)
                .with_total(),
        )
        .unwrap();
    assert_eq!(
        page.items.iter().map(|u| u.id).collect::<Vec<_>>(),
        all[700..730]
    );
    assert_eq!(page.total, Some(all.len() as u64));
    assert_eq!(
        s.users()
            .count(&Query::parse("enabled = true").unwrap())
            .unwrap(),
        all.len() as u64
    );
    assert_eq!(
        s.users()
            .count(&Query::parse("lastName = 'HOPPER'").unwrap())
            .unwrap(),
        users
            .iter()
            .filter(|u| fold(&u.last_name) == "hopper")
            .count() as u64
    );
}

/// Names whose caseless form (docs/reference/documents.md, Caseless matching) is longer than, or
/// written differently from, the stored text, so that index prefixes, trigrams and
/// sort runs all come from `fold`.
const CASELESS: &[&str] = &[
    "ΟΣΟΣ",
    "οσος",
    "straße",
    "STRASSE",
    "ａｄｍｉｎ",
    "admin",
    "ﬁle",
    "FILE",
    "ꮳꮃꭹ",
    "ᏣᎳᎩ",
    "Weiß",
    "\u{212A}elvin",
    "İlker",
    "ılker",
];

#[test]
fn caseless_queries_through_indexes_equal_a_scan() {
    let s = Store::memory_with(options()).unwrap();
    s.write(|tx| {
        for i in 0..600usize {
            let name = CASELESS[i % CASELESS.len()];
            let other = CASELESS[(i / CASELESS.len()) % CASELESS.len()];
            tx.users().create(NewUser::new(
                format!("{name}{i}"),
                format!("u{i}@example.com"),
                other,
                name,
            ))?;
        }
        Ok(())
    })
    .unwrap();
    let users = s.users().list(&Query::all().page(1, 1000)).unwrap().items;
    fn folded(u: &User, field: fn(&User) -> &str) -> String {
        fold(field(u))
    }
    type Keep = Box<dyn Fn(&User) -> bool>;
    let checks: [(&str, &str, Keep); 7] = [
        (
            "username sw 'ΟΣ'",
            "idx.user.username.order",
            Box::new(|u| folded(u, |u| &u.username).starts_with("οσ")),
        ),
        (
            "username like 'Οσ%'",
            "idx.user.username.order",
            Box::new(|u| folded(u, |u| &u.username).starts_with("οσ")),
        ),
        (
            "lastName = 'WEISS'",
            "idx.user.last_name",
            Box::new(|u| folded(u, |u| &u.last_name) == "weiss"),
        ),
        (
            "lastName like 'STRAß%'",
            "idx.user.last_name",
            Box::new(|u| folded(u, |u| &u.last_name).starts_with("strass")),
        ),
        (
            "firstName co 'rass'",
            "trigram",
            Box::new(|u| folded(u, |u| &u.first_name).contains("rass")),
        ),
        (
            "firstName like '%ꮳꮃꭹ%'",
            "trigram",
            Box::new(|u| folded(u, |u| &u.first_name).contains("ᏣᎳᎩ")),
        ),
        (
            "username like '_lker%'",
            "",
            Box::new(|u| {
                let f = folded(u, |u| &u.username);
                f.starts_with("ılker") || f.starts_with("i\u{307}lker")
            }),
        ),
    ];
    for (expr, index, keep) in &checks {
        let plan = explain_users(&s, expr);
        assert!(plan.contains(index), "{expr}: {plan}");
        let want = expect(&users, keep, |_, _| Ordering::Equal);
        assert!(!want.is_empty(), "{expr} finds nothing");
        assert_eq!(
            walk(&s, Query::parse(expr).unwrap().page(1, 37), 37),
            want,
            "{expr}"
        );
        assert_eq!(
            s.users().count(&Query::parse(expr).unwrap()).unwrap(),
            want.len() as u64,
            "{expr}"
        );
    }
    // Sorted pages streamed from the ordered indexes: folded, exact, id.
    for (key, field) in [
        (
            "lastName",
            (|u: &User| u.last_name.clone()) as fn(&User) -> String,
        ),
        ("username", |u: &User| u.username.clone()),
    ] {
        let order = |a: &User, b: &User| {
            let (a, b) = (field(a), field(b));
            fold(&a).cmp(&fold(&b)).then_with(|| a.cmp(&b))
        };
        let q = Query::all().sort(key).page(1, 41);
        assert_eq!(walk(&s, q, 41), expect(&users, |_| true, order), "{key}");
        let q = Query::all().sort(&format!("{key}:desc")).page(1, 41);
        assert_eq!(
            walk(&s, q, 41),
            expect(&users, |_| true, |a, b| order(b, a)),
            "{key}:desc"
        );
    }
}

#[test]
fn a_cursor_walk_survives_writes_between_pages() {
    let (s, users) = big_store();
    let q = Query::parse("enabled = true")
        .unwrap()
        .sort("lastName")
        .page(1, 50);
    let expected = expect(&users, |u| u.enabled, by_last_name);
    let mut seen = Vec::new();
    let mut page = s.users().list(&q).unwrap();
    let mut n = 0u64;
    loop {
        seen.extend(page.items.iter().map(|u| u.id));
        // Meanwhile: new users that sort anywhere, and deleted disabled ones.
        for last in ["Aaron", "Hopper", "Zz"] {
            n += 1;
            s.users()
                .create(NewUser::new(
                    format!("new{n}"),
                    format!("new{n}@x.io"),
                    "N",
                    last,
                ))
                .unwrap();
        }
        let Some(c) = page.next_cursor.clone() else {
            break;
        };
        page = s.users().list(&Query::all().cursor(&c)).unwrap();
    }
    let original: std::collections::HashSet<u64> = users.iter().map(|u| u.id).collect();
    let old: Vec<u64> = seen
        .iter()
        .copied()
        .filter(|id| original.contains(id))
        .collect();
    assert_eq!(
        old, expected,
        "every unchanged record exactly once, in order"
    );
}

fn cursor_error(result: rosterdb::Result<rosterdb::Page<impl std::fmt::Debug>>) -> String {
    match result {
        Err(rosterdb::Error::InvalidQuery { field: Some(f), .. }) => f,
        other => panic!("expected InvalidQuery, got {other:?}"),
    }
}

#[test]
fn cursors_continue_only_their_own_query() {
    let s = small_store();
    let q = Query::parse("enabled = true")
        .unwrap()
        .sort("lastName")
        .page(1, 3);
    let page = s.users().list(&q).unwrap();
    let cursor = page.next_cursor.clone().unwrap();
    // Another collection, another query, an edited token: refused, naming
    // the cursor or the part of the query that differs.
    assert_eq!(
        cursor_error(s.roles().list(&Query::all().cursor(&cursor))),
        "cursor"
    );
    assert_eq!(
        cursor_error(s.clients().list(&Query::all().cursor(&cursor))),
        "cursor"
    );
    let other = Query::parse("enabled = false").unwrap().cursor(&cursor);
    assert_eq!(cursor_error(s.users().list(&other)), "where");
    let resorted = Query::parse("enabled = true")
        .unwrap()
        .sort("email")
        .cursor(&cursor);
    assert_eq!(cursor_error(s.users().list(&resorted)), "sort");
    let mut edited: Vec<char> = cursor.chars().collect();
    let last = edited.len() - 5;
    edited[last] = if edited[last] == 'x' { 'y' } else { 'x' };
    let edited: String = edited.into_iter().collect();
    assert_eq!(
        cursor_error(s.users().list(&Query::all().cursor(&edited))),
        "cursor"
    );
    // The same query, or none, continues; the page size may change.
    let same = s
        .users()
        .list(
            &Query::parse("enabled = true")
                .unwrap()
                .sort("lastName")
                .cursor(&cursor),
        )
        .unwrap();
    let bare = s.users().list(&Query::all().cursor(&cursor)).unwrap();
    assert_eq!(same, bare);
    let bigger = s
        .users()
        .list(&Query::from_params(&[("cursor", cursor.as_str()), ("pageSize", "50")]).unwrap())
        .unwrap();
    assert_eq!(bigger.items[..3], bare.items[..]);
    assert!(bigger.next_cursor.is_none());
}

/// Runs `q` through `list`, `count` and `exists`, checking that each ran
/// the plan `explain` prints (the very value, not just its text) and that
/// the text is `want`; returns the page and the plan.
fn ran<C: ReadContext>(
    users: &Collection<'_, C, User>,
    q: &Query,
    want: &str,
) -> (Page<User>, PhysicalPlan) {
    let explained = users.explain(q).unwrap();
    assert_eq!(explained, want, "explain of {q:?}");
    let planned = users.plan(q).unwrap();
    assert_eq!(planned.to_string(), explained);
    let (page, listed) = users.list_with_plan(q).unwrap();
    assert_eq!(listed, planned, "list ran the plan explain shows");
    assert_eq!(page, users.list(q).unwrap());
    let (n, counted) = users.count_with_plan(q).unwrap();
    assert_eq!(counted, planned, "count ran the plan explain shows");
    assert_eq!(n, users.count(q).unwrap());
    if let Some(total) = page.total {
        assert_eq!(total, n, "withTotal counts as count does");
    }
    let (found, tested) = users.exists_with_plan(q).unwrap();
    assert_eq!(found, n > 0);
    assert_eq!(found, users.exists(q).unwrap());
    // `exists` runs the plan of the first match in id order: the query
    // without its sort, paging and withTotal, as explain shows it.
    assert!(tested.sort.is_empty() && tested.size == 1 && !tested.with_total);
    let text = tested.to_string();
    assert!(
        text.lines().any(|l| l.trim_start() == "Limit 1 offset 0"),
        "{text}"
    );
    assert_eq!(tested.filter, planned.filter);
    (page, listed)
}

fn ids(page: &Page<User>) -> Vec<u64> {
    page.items.iter().map(|u| u.id).collect()
}

fn expr(text: &str) -> Query {
    Query::parse(text).unwrap()
}

/// The reason every index of a big-store query is too large to read whole.
fn large(indexes: &str) -> String {
    format!("every index has 256 or more candidates: {indexes}")
}

/// An offset page with no filter passes over the skipped index keys
/// without reading their records; it is the same page as the slice of the
/// whole result, for one sort key or several, ascending or descending, and
/// at an offset inside a run of equal values or at its edge.
#[test]
fn unfiltered_offset_pages_equal_the_slice_of_the_whole_result() {
    type Order = dyn Fn(&User, &User) -> Ordering;
    let (s, users) = big_store();
    let first = |u: &User| fold(&u.first_name);
    let orders: [(&str, Box<Order>); 4] = [
        ("lastName", Box::new(by_last_name)),
        ("lastName:desc", Box::new(|a, b| by_last_name(b, a))),
        (
            "lastName,firstName:desc",
            Box::new(move |a, b| by_last_name(a, b).then_with(|| first(b).cmp(&first(a)))),
        ),
        (
            "firstName:desc",
            Box::new(move |a, b| first(b).cmp(&first(a))),
        ),
    ];
    for (sort, order) in &orders {
        let want = expect(&users, |_| true, order);
        for offset in [
            0usize,
            1,
            36,
            37,
            211,
            500,
            1000,
            want.len() - 5,
            want.len(),
            want.len() + 3,
        ] {
            let page = s
                .users()
                .list(&Query::all().sort(sort).offset(offset as u64, 37))
                .unwrap();
            let end = (offset + 37).min(want.len());
            let slice = want.get(offset..end).unwrap_or_default();
            assert_eq!(ids(&page), slice, "sort {sort}, offset {offset}");
        }
    }
}

/// A conjunction of conditions that indexes answer exactly, with ids in
/// order, is counted by intersecting their postings: no record read, and
/// the same number as checking every record.
#[test]
fn counts_of_exact_conjunctions_merge_index_keys() {
    let (s, users) = big_store();
    let users_of = s.users();
    for (text, keep) in [
        (
            "enabled = true and roles eq 2",
            (|u: &User| u.enabled && u.roles == [2]) as fn(&User) -> bool,
        ),
        // Disabled users hold role 1 alone (see big_store).
        ("enabled = false and roles eq 1", |u: &User| {
            !u.enabled && u.roles == [1]
        }),
        (
            "roles eq 1 and enabled = true and roles eq 3",
            |_: &User| false,
        ),
    ] {
        let plan = users_of.plan(&expr(text)).unwrap();
        assert!(
            matches!(&plan.count, Count::Intersection(parts) if parts.len() == text.matches(" and ").count() + 1),
            "{text}: {plan}"
        );
        assert!(
            plan.to_string()
                .ends_with("their posting bitmaps intersected, no records read"),
            "{plan}"
        );
        let want = users.iter().filter(|u| keep(u)).count() as u64;
        assert_eq!(want > 0, !text.starts_with("roles eq 1 and"), "{text}");
        let (n, counted) = users_of.count_with_plan(&expr(text)).unwrap();
        assert_eq!((n, counted), (want, plan), "{text}");
    }
    // A condition no index answers exactly keeps the filtered count.
    let plan = users_of
        .plan(&expr("enabled = true and lastName co 'op'"))
        .unwrap();
    assert_eq!(plan.count, Count::Filtered);
}

#[test]
fn each_streaming_path_runs_the_plan_explain_prints() {
    let (s, users) = big_store();
    let users_of = s.users();

    // Streamed in id order from an index that yields ids in order.
    let (page, plan) = ran(
        &users_of,
        &expr("roles eq 3").page(1, 50),
        &format!(
            "Limit 50 offset 0\n  Filter roles = 3\n    Fetch users by id\n      \
             Index scan post.user.roles = 3 (id order; {})\n\
             Count: index keys of post.user.roles = 3, no records read",
            large("post.user.roles = 3")
        ),
    );
    assert!(matches!(plan.access, AccessPath::IndexIds { .. }));
    assert!(matches!(plan.count, Count::IndexKeys(_)));
    let want = expect(&users, |u| u.roles == [3], |_, _| Ordering::Equal);
    assert_eq!(ids(&page), want[..50]);

    // ... and from the trigram index, for a search.
    let grams = "idx.user.trigrams (username trigram 'hop' or email trigram 'hop' or \
                 firstName trigram 'hop' or lastName trigram 'hop' or nickname trigram 'hop')";
    let (page, plan) = ran(
        &users_of,
        &Query::all().search("HOP").page(1, 64),
        &format!(
            "Limit 64 offset 0\n  Filter search 'hop'\n    Fetch users by id\n      \
             Index scan {grams} (id order; {})\n\
             Count: table scan of users with the filter",
            large(grams)
        ),
    );
    assert!(matches!(plan.access, AccessPath::IndexIds { .. }) && plan.probes.is_empty());
    assert_eq!(plan.count, Count::Filtered);
    let want = expect(
        &users,
        |u| fold(&u.last_name).contains("hop"),
        |_, _| Ordering::Equal,
    );
    assert_eq!(ids(&page), want[..64]);

    // The record table in id order: no filter, no index, only large
    // indexes none of which yields ids in order.
    let (page, plan) = ran(
        &users_of,
        &Query::all().offset(700, 30).with_total(),
        "Limit 30 offset 700\n  Table scan users (id order; no filter)\n\
         Total: users table length, no records read",
    );
    assert_eq!(
        plan.access,
        AccessPath::TableScan {
            reason: Reason::NoFilter
        }
    );
    assert_eq!((plan.count, plan.filter), (Count::Table, None));
    let all = expect(&users, |_| true, |_, _| Ordering::Equal);
    assert_eq!(ids(&page), all[700..730]);
    assert_eq!(page.total, Some(all.len() as u64));
    let (page, plan) = ran(
        &users_of,
        &expr("nickname is null"),
        "Limit 100 offset 0\n  Filter nickname is null\n    \
         Table scan users (id order; no indexed condition)\n\
         Count: table scan of users with the filter",
    );
    assert_eq!(
        plan.access,
        AccessPath::TableScan {
            reason: Reason::NoIndexedCondition
        }
    );
    let want = expect(&users, |u| u.nickname.is_none(), |_, _| Ordering::Equal);
    assert_eq!(ids(&page), want[..100]);
    let (page, plan) = ran(
        &users_of,
        &expr("lastName like 'ho%'"),
        &format!(
            "Limit 100 offset 0\n  Filter lastName like 'ho%'\n    \
             Table scan users (id order; {})\n\
             Count: index keys of idx.user.last_name prefix 'ho', no records read",
            large("idx.user.last_name prefix 'ho'")
        ),
    );
    assert!(matches!(
        plan.access,
        AccessPath::TableScan {
            reason: Reason::Large(_)
        }
    ));
    let want = expect(
        &users,
        |u| fold(&u.last_name).starts_with("ho"),
        |_, _| Ordering::Equal,
    );
    assert_eq!(ids(&page), want[..100]);

    // Every match read and sorted in memory: a sort key without an index.
    let (page, plan) = ran(
        &users_of,
        &expr("enabled = true").sort("firstName:desc").page(3, 20),
        &format!(
            "Limit 20 offset 40\n  Sort firstName desc, id asc (in memory)\n    \
             Filter enabled = true\n      Table scan users ({})\n\
             Count: index keys of post.user.enabled = true, no records read",
            large("post.user.enabled = true")
        ),
    );
    assert!(matches!(plan.access, AccessPath::SortedTableScan { .. }));
    let first = |u: &User| (fold(&u.first_name), u.first_name.clone());
    let want = expect(&users, |u| u.enabled, |a, b| first(b).cmp(&first(a)));
    assert_eq!(ids(&page), want[40..60]);

    // The sort index, bounded by a condition on the sort field, with a probe.
    let bounded = expr("lastName like 'ho%' and roles eq 2")
        .sort("lastName:desc")
        .page(1, 29);
    let tail = format!(
        "  Filter lastName like 'ho%' and roles = 2\n    Fetch users by id\n      \
         Index probes post.user.roles = 2\n        \
         Run check lastName like 'ho%' (once per run of equal lastName, from its index key)\n          \
         Index scan idx.user.last_name, lastName desc within prefix 'ho' ({})\n\
         Count: table scan of users with the filter",
        large("idx.user.last_name prefix 'ho', post.user.roles = 2")
    );
    let (page, plan) = ran(&users_of, &bounded, &format!("Limit 29 offset 0\n{tail}"));
    assert!(matches!(
        plan.access,
        AccessPath::SortIndex {
            descending: true,
            sort_runs: false,
            ..
        }
    ));
    let keep = |u: &User| fold(&u.last_name).starts_with("ho") && u.roles == [2];
    let want = expect(&users, keep, |a, b| by_last_name(b, a));
    assert_eq!(ids(&page), want[..29]);
    // Its next page: the same plan, started after the cursor's position.
    let cursor = page.next_cursor.unwrap();
    let (next, _) = ran(
        &users_of,
        &Query::all().cursor(&cursor),
        &format!("Limit 29 after the cursor's position\n{tail}"),
    );
    assert_eq!(ids(&next), want[29..58]);

    // The sort index, each run of equal values sorted by the other keys.
    let (page, plan) = ran(
        &users_of,
        &expr("enabled = false")
            .sort("lastName,firstName:desc")
            .page(1, 23)
            .fields("USERNAME,id,lastName"),
        &format!(
            "Project id, username, lastName\n  Limit 23 offset 0\n    \
             Sort lastName asc, firstName desc, id asc (in memory, each run of equal lastName)\n      \
             Filter enabled = false\n        Fetch users by id\n          \
             Index probes post.user.enabled = false\n            \
             Index scan idx.user.last_name, lastName asc ({})\n\
             Count: index keys of post.user.enabled = false, no records read",
            large("post.user.enabled = false")
        ),
    );
    assert!(matches!(
        plan.access,
        AccessPath::SortIndex {
            descending: false,
            sort_runs: true,
            ..
        }
    ));
    let order = |a: &User, b: &User| {
        let f = |u: &User| (fold(&u.first_name), u.first_name.clone());
        by_last_name(a, b).then_with(|| f(b).cmp(&f(a)))
    };
    assert_eq!(ids(&page), expect(&users, |u| !u.enabled, order)[..23]);
    assert_eq!(page.fields, Some(vec!["id", "username", "lastName"]));
}

#[test]
fn reading_few_candidates_whole_runs_the_plan_explain_prints() {
    let (s, users) = big_store();
    let prefix = |u: &User| fold(&u.username).starts_with("u14");
    let n = users.iter().filter(|u| prefix(u)).count();
    let (page, plan) = ran(
        &s.users(),
        &expr("username sw 'U14' and enabled = true")
            .sort("lastName")
            .page(2, 10)
            .with_total(),
        &format!(
            "Limit 10 offset 10\n  Sort lastName asc, id asc (in memory)\n    \
             Filter username sw 'u14' and enabled = true\n      Fetch users by id\n        \
             Index probes post.user.enabled = true\n          \
             Index lookup idx.user.username.order prefix 'u14' ({n} ids)\n\
             Total: the candidates that pass the filter"
        ),
    );
    assert!(matches!(&plan.access, AccessPath::Candidates { ids, .. } if ids.len() == n));
    assert_eq!(plan.count, Count::Filtered);
    let want = expect(&users, |u| prefix(u) && u.enabled, by_last_name);
    assert_eq!(ids(&page), want[10..20]);
    assert_eq!(page.total, Some(want.len() as u64));

    // One candidate, counted exactly from the index.
    let one = users.iter().find(|u| u.username == "u77").unwrap().id;
    let (page, plan) = ran(
        &s.users(),
        &expr("username = 'U77'"),
        "Limit 100 offset 0\n  Sort id asc (in memory)\n    Filter username = 'u77'\n      \
         Fetch users by id\n        Index lookup idx.user.username.order = 'u77' (1 id)\n\
         Count: index keys of idx.user.username.order = 'u77', no records read",
    );
    assert!(matches!(plan.count, Count::IndexKeys(_)));
    assert_eq!(ids(&page), [one]);

    // The smallest of several accesses drives; an `in` list is a union.
    let (page, _) = ran(
        &s.users(),
        &expr("enabled = true and email in ('U5@example.com', 'u6@example.com', 'nobody@x.io')"),
        "Limit 100 offset 0\n  Sort id asc (in memory)\n    \
         Filter enabled = true and email in ('u5@example.com', 'u6@example.com', 'nobody@x.io')\n      \
         Fetch users by id\n        Index probes post.user.enabled = true\n          \
         Index lookup idx.user.email.order (= 'u5@example.com' or = 'u6@example.com' or = 'nobody@x.io') (2 ids)\n\
         Count: the candidates that pass the filter",
    );
    let want = expect(
        &users,
        |u| u.enabled && ["u5", "u6"].contains(&u.username.as_str()),
        |_, _| Ordering::Equal,
    );
    assert_eq!(ids(&page), want);
}

#[test]
fn each_scoped_path_runs_the_plan_explain_prints() {
    let s = Store::memory_with(options()).unwrap();
    s.write(|tx| {
        for i in 0..300u64 {
            let tenant = if i % 10 == 0 { "globex" } else { "acme" };
            tx.users().create(NewUser {
                tenant: Some(tenant.into()),
                enabled: i % 4 != 0,
                ..NewUser::new(
                    format!("u{i}"),
                    format!("u{i}@example.com"),
                    "Ann",
                    LAST[(i % 7) as usize],
                )
            })?;
        }
        Ok(())
    })
    .unwrap();
    let acme = s.scoped("acme").unwrap();
    let acme_users: Vec<User> = acme.users().list(&Query::all()).unwrap().items;
    let all = s.users().list(&Query::all().page(1, 1000)).unwrap().items;
    let of = |tenant: &str| -> Vec<User> {
        all.iter()
            .filter(|u| u.tenant.as_deref() == Some(tenant))
            .cloned()
            .collect()
    };

    // The view's own records are many: streamed from the tenant index, or
    // from the first condition whose index yields ids in order.
    let (page, plan) = ran(
        &acme.users(),
        &Query::all(),
        "Limit 100 offset 0\n  Filter tenant = 'acme' (view)\n    Fetch users by id\n      \
         Index probes post.user.tenant = 'acme'\n        \
         Index scan post.user.tenant = 'acme' (id order; scoped view)\n\
         Count: index keys of post.user.tenant = 'acme', no records read",
    );
    assert!(matches!(
        &plan.access,
        AccessPath::IndexIds {
            reason: Reason::ScopedView,
            ..
        }
    ));
    assert_eq!(plan.scope.as_deref(), Some("acme"));
    assert_eq!(
        ids(&page),
        acme_users.iter().map(|u| u.id).collect::<Vec<_>>()
    );
    let (page, _) = ran(
        &acme.users(),
        &expr("enabled = false"),
        "Limit 100 offset 0\n  Filter enabled = false and tenant = 'acme' (view)\n    \
         Fetch users by id\n      Index probes post.user.enabled = false, post.user.tenant = 'acme'\n        \
         Index scan post.user.enabled = false (id order; scoped view)\n\
         Count: ids in every one of post.user.enabled = false and post.user.tenant = 'acme', \
         their posting bitmaps intersected, no records read",
    );
    let want = expect(&of("acme"), |u| !u.enabled, |_, _| Ordering::Equal);
    assert_eq!(ids(&page), want);
    // Sorted: from the sort index.
    let (page, plan) = ran(
        &acme.users(),
        &Query::all().sort("lastName").page(1, 40),
        "Limit 40 offset 0\n  Filter tenant = 'acme' (view)\n    Fetch users by id\n      \
         Index probes post.user.tenant = 'acme'\n        \
         Index scan idx.user.last_name, lastName asc (scoped view)\n\
         Count: index keys of post.user.tenant = 'acme', no records read",
    );
    assert!(matches!(plan.access, AccessPath::SortIndex { .. }));
    assert_eq!(
        ids(&page),
        expect(&of("acme"), |_| true, by_last_name)[..40]
    );

    // Few own records: read whole; the plan shows no count of them.
    let globex = s.scoped("globex").unwrap();
    let (page, plan) = ran(
        &globex.users(),
        &expr("enabled = true")
            .sort("lastName:desc")
            .page(2, 5)
            .with_total(),
        "Limit 5 offset 5\n  Sort lastName desc, id asc (in memory)\n    \
         Filter enabled = true and tenant = 'globex' (view)\n      Fetch users by id\n        \
         Index probes post.user.enabled = true, post.user.tenant = 'globex'\n          \
         Index lookup post.user.tenant = 'globex'\n\
         Total: ids in every one of post.user.enabled = true and \
         post.user.tenant = 'globex', their posting bitmaps intersected, no records read",
    );
    assert!(matches!(&plan.access, AccessPath::Candidates { ids, .. } if ids.len() == 30));
    let want = expect(&of("globex"), |u| u.enabled, |a, b| by_last_name(b, a));
    assert_eq!(ids(&page), want[5..10]);
    assert_eq!(page.total, Some(want.len() as u64));
    // Sorted by tenant: identifiers sort exactly, so never from the index.
    let (_, plan) = ran(
        &globex.users(),
        &Query::all().sort("tenant:desc"),
        "Limit 100 offset 0\n  Sort tenant desc, id asc (in memory)\n    \
         Filter tenant = 'globex' (view)\n      Fetch users by id\n        \
         Index probes post.user.tenant = 'globex'\n          \
         Index lookup post.user.tenant = 'globex'\n\
         Count: index keys of post.user.tenant = 'globex', no records read",
    );
    assert!(matches!(plan.access, AccessPath::Candidates { .. }));
    let (_, plan) = ran(
        &s.users(),
        &Query::all().sort("tenant"),
        "Limit 100 offset 0\n  Sort tenant asc, id asc (in memory)\n    \
         Table scan users (no filter)\n\
         Count: users table length, no records read",
    );
    assert!(matches!(plan.access, AccessPath::SortedTableScan { .. }));
}

#[test]
fn exists_runs_the_plan_of_its_first_match() {
    let (s, _) = big_store();
    for (text, sorted) in [
        ("roles eq 3", "lastName"),
        ("username sw 'u14'", "firstName:desc"),
        ("nickname is null", "email"),
        (
            "lastName like 'ho%' and roles eq 2",
            "lastName:desc,firstName",
        ),
    ] {
        let q = expr(text).sort(sorted).page(4, 7).with_total();
        let (found, ran) = s.users().exists_with_plan(&q).unwrap();
        assert!(found, "{text}");
        let first = expr(text).page(1, 1);
        assert_eq!(ran, s.users().plan(&first).unwrap(), "{text}");
        assert_eq!(ran.to_string(), s.users().explain(&first).unwrap());
    }
    let (found, ran) = s
        .users()
        .exists_with_plan(&expr("username = 'nobody'"))
        .unwrap();
    assert!(!found);
    assert!(matches!(&ran.access, AccessPath::Candidates { ids, .. } if ids.is_empty()));
}

#[test]
fn explain_writes_the_filter_as_expression_text() {
    let s = small_store();
    let filter_line = |q: &Query| -> String {
        let plan = s.users().explain(q).unwrap();
        plan.lines()
            .find_map(|l| l.trim_start().strip_prefix("Filter "))
            .unwrap_or_else(|| panic!("no filter in {plan}"))
            .to_owned()
    };
    for (written, shown) in [
        (
            "NOT (enabled = false OR lastName SW 'O''Brien') and username pr",
            "not (enabled = false or lastName sw 'o''brien') and username is not null",
        ),
        (
            "createdAt < '2020-01-01T00:00:00.000001Z' and updatedAt >= '2020-01-01T00:00:00Z'",
            "createdAt < '2020-01-01T00:00:00.000001Z' and updatedAt >= '2020-01-01T00:00:00.000Z'",
        ),
        (
            "attributes.team in ('Red', 2, null, true) and attributes.x.y != 1.5",
            "attributes.team in ('red', 2, true, null) and attributes.x.y != 1.5",
        ),
        (
            r"nickname like '10\%_x' and firstName co 'ANN' and email ew '.COM' and lastName like 'smith'",
            r"nickname like '10\%_x' and firstName co 'ann' and email ew '.com' and lastName like '%smith%'",
        ),
        (
            "tenant sw 'AC' and roles in (2, 1) and nickname is null",
            "tenant sw 'AC' and roles in (2, 1) and nickname is null",
        ),
        (
            "enabled = true or (roles eq 1 and not nickname is null)",
            "enabled = true or (roles = 1 and not nickname is null)",
        ),
        ("lastName = \"line\\nbreak\"", "lastName = \"line\\nbreak\""),
    ] {
        assert_eq!(filter_line(&expr(written)), shown, "{written}");
        // The text reads back as the same filter.
        assert_eq!(filter_line(&expr(shown)), shown, "{shown}");
    }
    assert_eq!(
        filter_line(&Query::all().search("Ann  SMITH1")),
        "search 'ann smith1'"
    );
    assert_eq!(
        filter_line(
            &Query::from_params(&[("lastName", "like:Smi%"), ("enabled", "true")]).unwrap()
        ),
        "lastName like 'smi%' and enabled = true"
    );
}

/// Conditions that read postings (equalities on enabled and roles, a text
/// needle's trigrams) are intersected: the intersection drives an unsorted
/// page in id order, and checks each candidate of a sort-index walk before
/// its record is read; needles of one or two characters use the trigrams
/// they start. Every page is the one reading every record gives.
#[test]
fn posting_conditions_are_read_together() {
    let (s, users) = big_store();
    let users_of = s.users();
    let sorted = expr("enabled = true and lastName co 'op'")
        .sort("lastName")
        .page(1, 40);
    let (page, plan) = ran(
        &users_of,
        &sorted,
        &format!(
            "Limit 40 offset 0\n  Filter enabled = true and lastName co 'op'\n    \
             Fetch users by id\n      \
             Index probes post.user.enabled = true\n        \
             Run check lastName co 'op' (once per run of equal lastName, from its index key)\n          \
             Index scan idx.user.last_name, lastName asc ({})\n\
             Count: table scan of users with the filter",
            large(
                "(post.user.enabled = true) and \
                 (idx.user.trigrams lastName trigram prefix 'op')"
            )
        ),
    );
    // The needle on the sort field is decided once per run of equal
    // last names, the equality by a probe: no posting set besides.
    assert!(plan.members.is_none() && plan.probes.len() == 1);
    assert!(
        matches!(&plan.access, AccessPath::SortIndex { run_check, .. } if run_check.len() == 1)
    );
    let keep = |u: &User| u.enabled && fold(&u.last_name).contains("op");
    let want = expect(&users, keep, by_last_name);
    assert!(want.len() > 40);
    assert_eq!(ids(&page), want[..40]);
    assert_eq!(
        walk(&s, sorted.clone(), 40),
        want,
        "a cursor walk of the whole result"
    );

    // A needle on another field stays a posting check (decoded a chunk at
    // a time as candidates come), beside the probe and the run check.
    let mixed = expr("enabled = true and email co '1' and lastName co 'o'")
        .sort("lastName:desc")
        .page(1, 30);
    let plan = users_of.plan(&mixed).unwrap();
    let shown = plan.to_string();
    assert!(
        shown.contains("Posting check idx.user.trigrams email trigram prefix '1'")
            && shown.contains("Index probes post.user.enabled = true")
            && shown.contains("Run check lastName co 'o'"),
        "{shown}"
    );
    let keep = |u: &User| u.enabled && u.email.contains('1') && fold(&u.last_name).contains('o');
    let want = expect(&users, keep, |a, b| by_last_name(b, a));
    assert!(want.len() > 30);
    assert_eq!(ids(&users_of.list(&mixed).unwrap()), want[..30]);
    assert_eq!(
        walk(&s, mixed, 30),
        want,
        "a cursor walk of the whole result"
    );

    // Unsorted: the intersection streams in id order, read once.
    let (page, plan) = ran(
        &users_of,
        &expr("email co '1@' and enabled = false").page(1, 10),
        "Limit 10 offset 0\n  Sort id asc (in memory)\n    \
         Filter email co '1@' and enabled = false\n      Fetch users by id\n        \
         Index lookup (idx.user.trigrams email trigram prefix '1@') and \
         (post.user.enabled = false) (36 ids)\n\
         Count: the candidates that pass the filter",
    );
    assert!(matches!(plan.access, AccessPath::Candidates { .. }));
    let want = expect(
        &users,
        |u| !u.enabled && u.email.contains("1@"),
        |_, _| Ordering::Equal,
    );
    // Exact: a two-character needle's postings hold only its matches.
    assert_eq!(want.len(), 36);
    assert_eq!(ids(&page), want[..10]);
    let (page, plan) = ran(
        &users_of,
        &expr("username co 'u1'").page(2, 30),
        &format!(
            "Limit 30 offset 30\n  Filter username co 'u1'\n    \
             Fetch users by id\n      \
             Index scan idx.user.trigrams username trigram prefix 'u1' (id order; {})\n\
             Count: table scan of users with the filter",
            large("idx.user.trigrams username trigram prefix 'u1'")
        ),
    );
    assert!(matches!(
        plan.access,
        AccessPath::IndexIds { ids: Some(_), .. }
    ));
    let want = expect(
        &users,
        |u| u.username.contains("u1"),
        |_, _| Ordering::Equal,
    );
    assert_eq!(ids(&page), want[30..60]);
    // The empty needle matches every present value: no index narrows it.
    let plan = users_of.explain(&expr("nickname co ''")).unwrap();
    assert!(plan.contains("Table scan users"), "{plan}");
}

/// Conditions on the sort field are decided once per run of equal values
/// from the run's index key: every page (ascending, descending, with a
/// second sort key, by offset and by cursor) is the one the same filter
/// gives when hidden from the run check (`not (not …)`).
#[test]
fn run_checks_keep_every_page() {
    let (s, _) = big_store();
    let users_of = s.users();
    let filters = [
        "lastName like 'Ho%'",
        "lastName like '%o%' and enabled = true",
        "lastName co 'PP' and roles eq 2",
        "lastName = 'hopper'",
        "lastName in ('hoare', 'knuth') and enabled = false",
        "lastName > 'l' and lastName ne 'turing'",
        "lastName ew 'er' and lastName is not null",
        "lastName sw 'x'",
        "lastName is null",
    ];
    for text in filters {
        for sort in ["lastName", "lastName:desc", "lastName,firstName:desc"] {
            let checked = expr(text).sort(sort);
            let hidden = expr(&format!("not (not ({text}))")).sort(sort);
            let plan = users_of.plan(&checked.clone().page(1, 17)).unwrap();
            assert!(
                matches!(&plan.access, AccessPath::SortIndex { run_check, .. } if !run_check.is_empty())
                    || matches!(plan.access, AccessPath::Candidates { .. }),
                "{text} by {sort}: {plan}"
            );
            let want = walk(&s, hidden.clone().page(1, 17), 17);
            assert_eq!(
                walk(&s, checked.clone().page(1, 17), 17),
                want,
                "{text} by {sort}"
            );
            for offset in [0, 5, 40, 400] {
                let page = users_of.list(&checked.clone().offset(offset, 9)).unwrap();
                let start = want.len().min(offset as usize);
                let end = want.len().min(start + 9);
                assert_eq!(ids(&page), want[start..end], "{text} by {sort} at {offset}");
            }
        }
    }
}
