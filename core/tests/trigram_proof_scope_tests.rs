//! Short needles proven by their trigrams (`query::proof`) in the places
//! where the proof must not reach past what the trigrams say: views of a
//! tenant (other tenants' records hold the same trigrams), `co` inside
//! `or` and `not`, `search` mixing one-character and longer terms, needles
//! whose folded length differs from their length (ß, ligatures, İ), and
//! needles holding the end marker or NUL. Every query is compared with the
//! matches computed from every record (fold, then contains), by cursor
//! pages, offset pages and counts.

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

use common::{Checked, store};
use rosterdb::{NewUser, Query, User, View, fold};

const TENANTS: [Option<&str>; 4] = [None, Some("acme"), Some("beta"), Some("acme2")];
const PIECES: &[&str] = &["a", "b", "c", "ß", "ﬁ", "İ", "σ", "x", "ab", " ", "é"];

/// `n` users over [`TENANTS`] (the same names in each), with names made of
/// [`PIECES`].
fn population(n: u64) -> Checked {
    let s = store();
    let mut seed = 11_u64;
    let mut next = |below: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) % below as u64) as usize
    };
    s.write(|tx| {
        for i in 0..n {
            let mut text = |min: usize, max: usize| -> String {
                let k = min + next(max - min + 1);
                let t: String = (0..k).map(|_| PIECES[next(PIECES.len())]).collect();
                if t.trim().is_empty() {
                    format!("{t}q")
                } else {
                    t
                }
            };
            let (first, last, nick) = (text(1, 5), text(1, 6), text(1, 3));
            let tenant = TENANTS[(i % 4) as usize];
            tx.users().create(NewUser {
                tenant: tenant.map(Into::into),
                nickname: (i % 3 == 0).then_some(nick),
                enabled: i % 5 != 0,
                ..NewUser::new(
                    format!("h{}x{i}", ["a", "b", "ab", "c"][(i % 4) as usize]),
                    format!("m{i}@{}.example", ["a", "bc", "x"][(i % 3) as usize]),
                    first,
                    last,
                )
            })?;
        }
        Ok(())
    })
    .unwrap();
    s
}

fn has(text: &str, needle: &str) -> bool {
    fold(text).contains(&fold(needle))
}

fn found(u: &User, text: &str) -> bool {
    text.split_whitespace().all(|term| {
        [
            Some(u.username.as_str()),
            Some(u.email.as_str()),
            Some(u.first_name.as_str()),
            Some(u.last_name.as_str()),
            u.nickname.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|field| has(field, term))
    })
}

/// The ids `make()` yields in `view` by cursor pages and by offset pages,
/// and its count.
fn run(view: &View<'_>, make: &dyn Fn() -> Query) -> (Vec<u64>, Vec<u64>, u64) {
    let ids = |users: &[User]| users.iter().map(|u| u.id).collect::<Vec<_>>();
    let mut by_cursor = Vec::new();
    let mut query = make().page(1, 50);
    loop {
        let page = view.users().list(&query).unwrap();
        by_cursor.extend(ids(&page.items));
        match page.next_cursor {
            Some(token) => query = make().cursor(&token),
            None => break,
        }
    }
    let mut by_offset = Vec::new();
    loop {
        let page = view
            .users()
            .list(&make().offset(by_offset.len() as u64, 50))
            .unwrap();
        if page.items.is_empty() {
            break;
        }
        by_offset.extend(ids(&page.items));
    }
    (by_cursor, by_offset, view.users().count(&make()).unwrap())
}

#[track_caller]
fn assert_finds(
    s: &Checked,
    all: &[User],
    what: &str,
    make: &dyn Fn() -> Query,
    keep: &dyn Fn(&User) -> bool,
) {
    for tenant in TENANTS.iter().skip(1).flatten() {
        let view = s.scoped(tenant).unwrap();
        let want: Vec<u64> = all
            .iter()
            .filter(|u| u.tenant.as_deref() == Some(*tenant) && keep(u))
            .map(|u| u.id)
            .collect();
        let (by_cursor, by_offset, count) = run(&view, make);
        assert_eq!(by_cursor, want, "{what} in {tenant}: cursor pages");
        assert_eq!(by_offset, want, "{what} in {tenant}: offset pages");
        assert_eq!(count, want.len() as u64, "{what} in {tenant}: count");
        let exists = view.users().exists(&make()).unwrap();
        assert_eq!(exists, !want.is_empty(), "{what} in {tenant}: exists");
    }
    let want: Vec<u64> = all.iter().filter(|u| keep(u)).map(|u| u.id).collect();
    let got: Vec<u64> = {
        let mut out = Vec::new();
        let mut query = make().page(1, 100);
        loop {
            let page = s.users().list(&query).unwrap();
            out.extend(page.items.iter().map(|u| u.id));
            match page.next_cursor {
                Some(token) => query = make().cursor(&token),
                None => break out,
            }
        }
    };
    assert_eq!(got, want, "{what} in the whole store");
    assert_eq!(
        s.users().count(&make()).unwrap(),
        want.len() as u64,
        "{what}: count in the whole store"
    );
}

const NEEDLES: &[&str] = &[
    "a", "b", "ab", "ba", "abc", "ß", "ss", "sss", "ﬁ", "fi", "ﬁa", "İ", "i\u{307}", "σ", "ς", "é",
    "e", "a b", " ", "x", "q", "hab", "m1", "@a",
];

#[test]
fn short_needles_in_views_of_a_tenant_match_only_that_tenant() {
    let s = population(800);
    let all = common::every_user(&s);
    for &needle in NEEDLES {
        let q = needle.replace('\'', "''");
        let co = format!("firstName co '{q}'");
        assert_finds(&s, &all, &co, &|| Query::parse(&co).unwrap(), &|u| {
            has(&u.first_name, needle)
        });
        let nick = format!("nickname co '{q}'");
        assert_finds(&s, &all, &nick, &|| Query::parse(&nick).unwrap(), &|u| {
            u.nickname.as_deref().is_some_and(|n| has(n, needle))
        });
        let user = format!("username co '{q}'");
        assert_finds(&s, &all, &user, &|| Query::parse(&user).unwrap(), &|u| {
            has(&u.username, needle)
        });
        if !needle.trim().is_empty() {
            let what = format!("search {needle:?}");
            assert_finds(&s, &all, &what, &|| Query::all().search(needle), &|u| {
                found(u, needle)
            });
        }
    }
}

#[test]
fn short_needles_inside_or_and_not_are_checked() {
    let s = population(600);
    let all = common::every_user(&s);
    for (a, b) in [
        ("a", "b"),
        ("ß", "x"),
        ("ab", "σ"),
        ("ﬁ", "abc"),
        ("İ", "é"),
    ] {
        let or = format!("firstName co '{a}' or lastName co '{b}'");
        assert_finds(&s, &all, &or, &|| Query::parse(&or).unwrap(), &|u| {
            has(&u.first_name, a) || has(&u.last_name, b)
        });
        let not = format!("not (firstName co '{a}')");
        assert_finds(&s, &all, &not, &|| Query::parse(&not).unwrap(), &|u| {
            !has(&u.first_name, a)
        });
        let and_not = format!("lastName co '{b}' and not (firstName co '{a}')");
        assert_finds(
            &s,
            &all,
            &and_not,
            &|| Query::parse(&and_not).unwrap(),
            &|u| has(&u.last_name, b) && !has(&u.first_name, a),
        );
        let both = format!("firstName co '{a}' and lastName co '{b}'");
        assert_finds(&s, &all, &both, &|| Query::parse(&both).unwrap(), &|u| {
            has(&u.first_name, a) && has(&u.last_name, b)
        });
        let nested = format!(
            "(firstName co '{a}' and enabled = true) or (nickname co '{b}' and not (lastName co '{a}'))"
        );
        assert_finds(
            &s,
            &all,
            &nested,
            &|| Query::parse(&nested).unwrap(),
            &|u| {
                (has(&u.first_name, a) && u.enabled)
                    || (u.nickname.as_deref().is_some_and(|n| has(n, b)) && !has(&u.last_name, a))
            },
        );
        let with_search = format!("search {a:?} + not (lastName co '{b}')");
        assert_finds(
            &s,
            &all,
            &with_search,
            &|| {
                Query::parse(&format!("not (lastName co '{b}')"))
                    .unwrap()
                    .search(a)
            },
            &|u| found(u, a) && !has(&u.last_name, b),
        );
    }
}

#[test]
fn searches_mixing_short_and_long_terms_are_checked() {
    let s = population(600);
    let all = common::every_user(&s);
    for text in [
        "a ab", "ß abc", "ss a", "ﬁ ab", "İ ab", "σ ab", "a b c", "x ßa", "é ab", "a hab", "b m1",
        "ﬁ", "ßß a", "ab ab", "a \u{3}", "ab \u{0}", "\u{3} a",
    ] {
        let what = format!("search {text:?}");
        assert_finds(&s, &all, &what, &|| Query::all().search(text), &|u| {
            found(u, text)
        });
        let sorted = format!("search {text:?} sorted by lastName");
        assert_finds(
            &s,
            &all,
            &sorted,
            &|| Query::all().search(text).sort("id"),
            &|u| found(u, text),
        );
    }
}

#[test]
fn short_needles_on_roles_in_views_match_only_that_tenant() {
    let s = store();
    let mut n = 0_usize;
    for tenant in TENANTS {
        for (i, a) in PIECES.iter().enumerate() {
            for b in &PIECES[i..] {
                n += 1;
                let name = format!("{a}{b}{n}");
                if name.trim().is_empty() {
                    continue;
                }
                s.roles()
                    .create(rosterdb::NewRole {
                        tenant: tenant.map(Into::into),
                        description: n.is_multiple_of(3).then(|| format!("{b}{a}")),
                        ..rosterdb::NewRole::new(name)
                    })
                    .unwrap();
            }
        }
    }
    let mut all = Vec::new();
    let mut query = Query::all().page(1, 1000);
    loop {
        let page = s.roles().list(&query).unwrap();
        all.extend(page.items);
        match page.next_cursor {
            Some(token) => query = Query::all().cursor(&token),
            None => break,
        }
    }
    let ids = |roles: Vec<rosterdb::Role>| roles.iter().map(|r| r.id).collect::<Vec<_>>();
    for &needle in NEEDLES {
        let q = format!("name co '{needle}' or description co '{needle}'");
        let keep = |r: &rosterdb::Role| {
            has(&r.name, needle) || r.description.as_deref().is_some_and(|d| has(d, needle))
        };
        let only = format!("name co '{needle}'");
        for tenant in TENANTS {
            let want: Vec<u64> = all
                .iter()
                .filter(|r| tenant.is_none_or(|t| r.tenant.as_deref() == Some(t)) && keep(r))
                .map(|r| r.id)
                .collect();
            let want_only: Vec<u64> = all
                .iter()
                .filter(|r| tenant.is_none_or(|t| r.tenant.as_deref() == Some(t)))
                .filter(|r| has(&r.name, needle))
                .map(|r| r.id)
                .collect();
            let (got, got_only, count) = match tenant {
                Some(t) => {
                    let v = s.scoped(t).unwrap();
                    let list = |q: &str| {
                        ids(v
                            .roles()
                            .list(&Query::parse(q).unwrap().page(1, 1000))
                            .unwrap()
                            .items)
                    };
                    let c = v.roles().count(&Query::parse(&only).unwrap()).unwrap();
                    (list(&q), list(&only), c)
                }
                None => {
                    let list = |q: &str| {
                        ids(s
                            .roles()
                            .list(&Query::parse(q).unwrap().page(1, 1000))
                            .unwrap()
                            .items)
                    };
                    let c = s.roles().count(&Query::parse(&only).unwrap()).unwrap();
                    (list(&q), list(&only), c)
                }
            };
            assert_eq!(got, want, "{q} in {tenant:?}");
            assert_eq!(got_only, want_only, "{only} in {tenant:?}");
            assert_eq!(
                count,
                want_only.len() as u64,
                "count of {only} in {tenant:?}"
            );
        }
    }
}
