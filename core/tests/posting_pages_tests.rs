//! Unsorted pages driven by posting sets (`co` on a trigram field,
//! `search`) are built a 64Ki-id chunk at a time and stop once full
//! (decision 0014): their pages, followed by cursor or by offset, hold
//! exactly the matches in id order, whether a page fills in its first
//! chunk or spans several.

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

use common::{Checked, store, with_user_ids};
use rosterdb::{NewUser, Query, User};

/// Users 0..n: two of three with `42` in their email, one of four named
/// Miller; stored under the ids `id_of(i)` (through an export, edited, and
/// an import, which keeps ids).
fn population(n: u64, id_of: impl Fn(u64) -> u64) -> Checked {
    let src = store();
    src.write(|tx| {
        let users = tx.users();
        for i in 0..n {
            let name = if i % 3 == 0 {
                format!("c{i}")
            } else {
                format!("a42b{i}")
            };
            let last = if i % 4 == 0 { "Miller" } else { "Hopper" };
            users.create(NewUser::new(
                &name,
                format!("{name}@example.com"),
                "First",
                last,
            ))?;
        }
        Ok(())
    })
    .unwrap();
    with_user_ids(&src, id_of)
}

/// The query of `expr`: a filter, or `search:TEXT` with an optional
/// `|FILTER`.
fn make(expr: &str) -> Query {
    match expr.strip_prefix("search:") {
        Some(rest) => {
            let (text, filter) = rest.split_once('|').unwrap_or((rest, ""));
            Query::parse(filter).unwrap().search(text)
        }
        None => Query::parse(expr).unwrap(),
    }
}

fn ids(users: &[User]) -> Vec<u64> {
    users.iter().map(|u| u.id).collect()
}

/// The ids matching `keep`, ascending: what every walk must yield.
fn expected(s: &Checked, keep: impl Fn(&User) -> bool) -> Vec<u64> {
    let mut all = Vec::new();
    let mut query = Query::parse("").unwrap().page(1, 1000);
    loop {
        let page = s.users().list(&query).unwrap();
        all.extend(page.items.iter().filter(|u| keep(u)).map(|u| u.id));
        match page.next_cursor {
            Some(token) => query = Query::parse("").unwrap().cursor(&token),
            None => break,
        }
    }
    all.sort_unstable();
    all
}

/// Every page of `expr` (size `size`) followed by cursor, and the same
/// pages by offset, and by a sort on id (which reads the whole set).
fn walks(s: &Checked, expr: &str, size: usize) -> (Vec<Vec<u64>>, Vec<u64>, Vec<u64>) {
    let mut pages = Vec::new();
    let mut query = make(expr).page(1, size);
    loop {
        let page = s.users().list(&query).unwrap();
        pages.push(ids(&page.items));
        match page.next_cursor {
            Some(token) => query = make(expr).cursor(&token),
            None => break,
        }
    }
    let mut by_offset = Vec::new();
    let mut offset = 0;
    loop {
        let page = s.users().list(&make(expr).offset(offset, size)).unwrap();
        if page.items.is_empty() {
            break;
        }
        offset += page.items.len() as u64;
        by_offset.extend(ids(&page.items));
    }
    let mut sorted = Vec::new();
    let mut query = make(expr).sort("id").page(1, 1000);
    loop {
        let page = s.users().list(&query).unwrap();
        sorted.extend(ids(&page.items));
        match page.next_cursor {
            Some(token) => query = make(expr).sort("id").cursor(&token),
            None => break,
        }
    }
    (pages, by_offset, sorted)
}

fn check(s: &Checked, expr: &str, want: &[u64]) {
    assert!(
        want.len() > 256,
        "{expr}: the set must be too large to read whole"
    );
    let (pages, by_offset, sorted) = walks(s, expr, 100);
    let first = pages.first().cloned().unwrap_or_default();
    assert_eq!(first, want[..100], "{expr}: first page");
    assert_eq!(pages.concat(), want, "{expr}: cursor walk");
    assert!(pages.iter().all(|p| p.len() <= 100), "{expr}");
    assert_eq!(by_offset, want, "{expr}: offset walk");
    assert_eq!(sorted, want, "{expr}: sorted walk");
    let count = s.users().count(&make(expr)).unwrap();
    assert_eq!(count, want.len() as u64, "{expr}: count");
    let total = s
        .users()
        .list(&make(expr).page(1, 100).with_total())
        .unwrap();
    assert_eq!(total.total, Some(want.len() as u64), "{expr}: total");
    assert_eq!(ids(&total.items), want[..100], "{expr}: page with total");
}

#[test]
fn a_first_page_spanning_several_chunks_holds_the_first_matches() {
    // About 30 users per 64Ki-id chunk: a page of 100 spans 4 chunks.
    let s = population(600, |i| 1 + i * 2_203);
    let emails = expected(&s, |u| u.email.contains("42"));
    assert!(*emails.last().unwrap() > 10 * 65_536);
    let page = s
        .users()
        .list(&Query::parse("email co '42'").unwrap().page(1, 100))
        .unwrap();
    assert!(page.items.last().unwrap().id > 2 * 65_536);
    check(&s, "email co '42'", &emails);
    let emails_42b = expected(&s, |u| u.email.contains("42b"));
    check(&s, "email co '42b'", &emails_42b);
    let millers = expected(&s, |u| u.last_name == "Miller");
    let millers_42 = expected(&s, |u| u.last_name == "Miller" && u.email.contains("42"));
    assert!(millers.len() > 100 && millers.len() <= 256);
    let (pages, by_offset, sorted) = walks(&s, "search:ller", 100);
    assert_eq!(pages.concat(), millers);
    assert_eq!(by_offset, millers);
    assert_eq!(sorted, millers);
    let (pages, _, sorted) = walks(&s, "search:ller|email co '42'", 30);
    assert_eq!(pages.concat(), millers_42);
    assert_eq!(sorted, millers_42);
}

#[test]
fn a_first_page_filling_in_the_first_chunk_matches_the_whole_set() {
    // 500 users in the first chunk, the rest far above it.
    let s = population(1200, |i| if i < 500 { i + 1 } else { 200_000 + i * 977 });
    let emails = expected(&s, |u| u.email.contains("42"));
    assert!(emails.iter().filter(|&&id| id < 65_536).count() > 100);
    assert!(*emails.last().unwrap() > 3 * 65_536);
    check(&s, "email co '42'", &emails);
    let emails_2b = expected(&s, |u| u.email.contains("2b"));
    check(&s, "email co '2b'", &emails_2b);
    let millers = expected(&s, |u| u.last_name == "Miller");
    check(&s, "search:ller", &millers);
    check(&s, "search:mil ller", &millers);
}

#[test]
fn a_first_page_planned_on_the_first_quarter_of_a_chunk_continues_past_it() {
    // 400 users in the first quarter of the first chunk (ids below
    // 16,384: more than 256 of them match `co '42'`, so the page is
    // planned on that quarter alone), 500 more in the rest of the same
    // chunk, and 600 in later chunks.
    let s = population(1500, |i| match i {
        0..400 => i + 1,
        400..900 => 20_000 + (i - 400) * 50,
        _ => 100_000 + (i - 900) * 300,
    });
    let emails = expected(&s, |u| u.email.contains("42"));
    assert!(emails.iter().filter(|&&id| id < 16_384).count() > 256);
    assert!(
        emails
            .iter()
            .filter(|&&id| (16_384..65_536).contains(&id))
            .count()
            > 300
    );
    check(&s, "email co '42'", &emails);
    check(&s, "search:42", &emails);
    let emails_42b = expected(&s, |u| u.email.contains("42b"));
    check(&s, "email co '42b'", &emails_42b);
    // Four characters: candidates checked on their records.
    let emails_a42b = expected(&s, |u| u.email.contains("a42b"));
    check(&s, "email co 'a42b'", &emails_a42b);
    check(&s, "search:a42b", &emails_a42b);
}

/// Users 0..n stored under the ids `id_of(i)`, each with the last name
/// `last(i)` (through an export, edited, and an import, which keeps ids).
fn named(n: u64, id_of: impl Fn(u64) -> u64, last: impl Fn(u64) -> String) -> Checked {
    let src = store();
    src.write(|tx| {
        let users = tx.users();
        for i in 0..n {
            users.create(NewUser::new(
                format!("u{i}"),
                format!("u{i}@example.com"),
                "First",
                last(i),
            ))?;
        }
        Ok(())
    })
    .unwrap();
    with_user_ids(&src, id_of)
}

#[test]
fn pages_past_the_chunks_read_with_the_keys_read_the_rest() {
    // Three chunks of 400 users, each last name holding 20 trigrams that
    // start with `q`: the postings of `co 'q'` are larger than what the
    // first pass over their keys copies, so the pages of the later chunks
    // read their bitmaps then.
    let s = named(
        1200,
        |i| 1 + (i / 400) * 65_536 + (i % 400) * 7,
        |i| {
            let letters = if i % 2 == 0 {
                "abcdefghij"
            } else {
                "klmnoprstu"
            };
            let name: String = letters.chars().flat_map(|c| ['q', c]).collect();
            format!("{name}{}", ["a", "b", "c"][(i % 3) as usize])
        },
    );
    let everyone = expected(&s, |_| true);
    assert_eq!(everyone.len(), 1200);
    check(&s, "lastName co 'q'", &everyone);
    check(&s, "search:q", &everyone);
    check(
        &s,
        "search:qa",
        &expected(&s, |u| u.last_name.contains("qa")),
    );
    // Four characters: not proven by the trigrams, checked on the records.
    check(
        &s,
        "lastName co 'qkql'",
        &expected(&s, |u| u.last_name.contains("qkql")),
    );
    check(
        &s,
        "search:qa b",
        &expected(&s, |u| {
            u.last_name.contains("qa") && u.last_name.contains('b')
        }),
    );
}
