//! The planner: explain names the index each indexed condition uses, and
//! every plan (read whole, streamed by id, streamed by a sort index, with
//! cursors and offsets) returns what a plain scan would.

mod common;

use std::cmp::Ordering;

use common::{options, role};
use rosterdb::{NewClient, NewUser, Query, Store, User, fold};

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
        ("tenant = 'acme'", "idx.user.tenant"),
        ("enabled = false", "idx.user.enabled"),
        ("roles eq 1", "idx.user.roles"),
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
        ("firstName co 'nn'", "scan"),
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
            assert!(plan.contains("scan users"), "{expr}: {plan}");
        } else {
            assert!(plan.contains(&format!("index {index}")), "{expr}: {plan}");
            assert!(!plan.contains("scan users"), "{expr}: {plan}");
        }
    }
    let search = s
        .users()
        .explain(&Query::all().search("user1 nick"))
        .unwrap();
    assert!(search.contains("idx.user.trigrams"), "{search}");
    let count = explain_users(&s, "enabled = true");
    assert!(count.contains("count: index keys"), "{count}");
    let roles = s
        .roles()
        .explain(&Query::parse("name = 'STAFF'").unwrap())
        .unwrap();
    assert!(roles.contains("index idx.role.name.order"), "{roles}");
    let clients = s
        .clients()
        .explain(&Query::parse("roles eq 1").unwrap())
        .unwrap();
    assert!(clients.contains("index idx.client.roles"), "{clients}");
}

#[test]
fn explain_shows_the_order_of_a_sorted_page() {
    let s = small_store();
    let q = Query::all().sort("lastName:desc");
    assert!(
        s.users()
            .explain(&q)
            .unwrap()
            .contains("order: index idx.user.last_name, streamed")
    );
    let q = Query::all().sort("firstName");
    assert!(
        s.users()
            .explain(&q)
            .unwrap()
            .contains("read every match and sort")
    );
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
    assert!(plan.contains("streamed"), "{plan}");

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

/// Names whose caseless form (SPEC §2.5) is longer than, or written
/// differently from, the stored text, so that index prefixes, trigrams and
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
