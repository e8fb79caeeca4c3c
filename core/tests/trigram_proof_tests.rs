//! A needle of one to three folded characters (`co`, `like` without
//! wildcards, `search` terms) is proven by the trigrams it starts, so its
//! candidates are not checked on their records (`query::proof`); longer
//! needles, needles holding the trigrams' end marker (U+0003) or U+0000,
//! and one-character `search` terms beside longer ones are still checked.
//! Every query here is compared with the matches computed from every
//! record (fold, then contains), over texts made from a small alphabet of
//! characters that fold (ß, ligatures, final sigma, combining marks,
//! dotted capital I) so that trigrams recur everywhere and many sets are
//! too large to be read whole.

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
use rosterdb::{NewUser, Query, User, fold};

/// Pieces of names: each folds to one, two or three characters.
const PIECES: &[&str] = &[
    "a", "b", "c", "A", "B", "ß", "SS", "ﬁ", "fi", "e\u{301}", "é", "σ", "ς", "Σ", "İ", "x", "-",
    " ",
];

/// Letters usernames and e-mails are made of.
const LETTERS: &[&str] = &["a", "b", "c", "x"];

/// A deterministic stream of numbers.
struct Mix(u64);

impl Mix {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % below as u64) as usize
    }

    fn text(&mut self, pool: &[&str], min: usize, max: usize) -> String {
        let n = min + self.next(max - min + 1);
        (0..n).map(|_| pool[self.next(pool.len())]).collect()
    }
}

/// `n` users with names of [`PIECES`], usernames and e-mails of
/// [`LETTERS`]; every third one disabled, every fourth with a nickname.
fn population(n: u64) -> Checked {
    let s = store();
    let mut mix = Mix(7);
    s.write(|tx| {
        let users = tx.users();
        for i in 0..n {
            let handle = format!("{}{i}", mix.text(LETTERS, 1, 6));
            let mut first = mix.text(PIECES, 1, 6);
            if first.trim().is_empty() {
                first.push('a');
            }
            let mut last = mix.text(PIECES, 1, 8);
            if last.trim().is_empty() {
                last.push('b');
            }
            users.create(NewUser {
                enabled: i % 3 != 0,
                nickname: (i % 4 == 0).then(|| mix.text(PIECES, 0, 4)),
                ..NewUser::new(
                    &handle,
                    format!("{handle}@{}.example", mix.text(LETTERS, 1, 3)),
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

/// The ids of every page of `make()` (size 100) followed by cursor, then
/// by offset; its count and its total.
fn run(s: &Checked, make: &dyn Fn() -> Query) -> (Vec<u64>, Vec<u64>, u64, Option<u64>) {
    let ids = |users: &[User]| users.iter().map(|u| u.id).collect::<Vec<_>>();
    let mut by_cursor = Vec::new();
    let mut query = make().page(1, 100);
    loop {
        let page = s.users().list(&query).unwrap();
        assert!(page.items.len() <= 100);
        by_cursor.extend(ids(&page.items));
        match page.next_cursor {
            Some(token) => query = make().cursor(&token),
            None => break,
        }
    }
    let mut by_offset = Vec::new();
    loop {
        let page = s
            .users()
            .list(&make().offset(by_offset.len() as u64, 100))
            .unwrap();
        if page.items.is_empty() {
            break;
        }
        by_offset.extend(ids(&page.items));
    }
    let count = s.users().count(&make()).unwrap();
    let total = s
        .users()
        .list(&make().page(1, 100).with_total())
        .unwrap()
        .total;
    (by_cursor, by_offset, count, total)
}

/// Asserts that `make()` yields exactly the users `keep` holds, in id
/// order, by cursor and by offset, and counts them.
#[track_caller]
fn assert_finds(
    s: &Checked,
    all: &[User],
    what: &str,
    make: &dyn Fn() -> Query,
    keep: &dyn Fn(&User) -> bool,
) {
    let want: Vec<u64> = all.iter().filter(|u| keep(u)).map(|u| u.id).collect();
    let (by_cursor, by_offset, count, total) = run(s, make);
    assert_eq!(by_cursor, want, "{what}: pages by cursor");
    assert_eq!(by_offset, want, "{what}: pages by offset");
    assert_eq!(count, want.len() as u64, "{what}: count");
    assert_eq!(total, Some(want.len() as u64), "{what}: total");
}

/// Whether the folded `text` contains the folded `needle`.
fn has(text: &str, needle: &str) -> bool {
    fold(text).contains(&fold(needle))
}

/// Whether every term of `text` occurs in one of a user's search fields.
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

/// Needles of one to four folded characters, whose trigrams recur in the
/// population: proven ones (up to three) and checked ones.
const NEEDLES: &[&str] = &[
    "a", "b", "x", "ab", "ba", "bc", "aa", "abc", "bca", "cab", "aba", "abab", "abca", "bcab",
    "cabc", "ss", "ß", "SS", "sss", "ﬁ", "fi", "ﬁﬁ", "é", "e", "e\u{301}", "σ", "ς", "ΣΣ", "σς",
    "i", "i\u{307}", "İ", "-a", "a-", "b c", "c a", "s",
];

#[test]
fn short_substrings_match_exactly_what_their_records_hold() {
    let s = population(1500);
    let all = common::every_user(&s);
    for &needle in NEEDLES {
        let quoted = format!("'{needle}'");
        let co = format!("firstName co {quoted}");
        assert_finds(&s, &all, &co, &|| Query::parse(&co).unwrap(), &|u| {
            has(&u.first_name, needle)
        });
        let like = format!("lastName like {quoted}");
        assert_finds(&s, &all, &like, &|| Query::parse(&like).unwrap(), &|u| {
            has(&u.last_name, needle)
        });
        let email = format!("email co {quoted}");
        assert_finds(&s, &all, &email, &|| Query::parse(&email).unwrap(), &|u| {
            has(&u.email, needle)
        });
        // With a condition the trigrams do not prove: still checked.
        let enabled = format!("lastName co {quoted} and enabled = true");
        assert_finds(
            &s,
            &all,
            &enabled,
            &|| Query::parse(&enabled).unwrap(),
            &|u| u.enabled && has(&u.last_name, needle),
        );
    }
}

#[test]
fn searches_match_exactly_what_their_records_hold() {
    let s = population(1500);
    let all = common::every_user(&s);
    let mut texts: Vec<String> = NEEDLES.iter().map(|n| (*n).to_owned()).collect();
    // Several terms, each in any field; one-character terms beside longer
    // ones (left out of the trigram access, so checked on the records).
    texts.extend(
        [
            "a bc",
            "ab ba",
            "a bcab",
            "x ß",
            "ß ﬁ σ",
            "c abc",
            "b ab",
            "e\u{301} a",
        ]
        .map(str::to_owned),
    );
    for text in &texts {
        let what = format!("search {text:?}");
        assert_finds(&s, &all, &what, &|| Query::all().search(text), &|u| {
            found(u, text)
        });
        let with = format!("search {text:?} and enabled = true");
        assert_finds(
            &s,
            &all,
            &with,
            &|| Query::parse("enabled = true").unwrap().search(text),
            &|u| u.enabled && found(u, text),
        );
    }
}

#[test]
fn needles_with_the_end_marker_or_nul_match_nothing_they_do_not_hold() {
    // Every text is indexed followed by two U+0003 markers, so a needle
    // ending in markers starts a trigram of any text ending in its other
    // characters: such needles are checked on the records, and no text
    // holds a control character.
    let s = population(600);
    let all = common::every_user(&s);
    for text in [
        "a\u{3}",
        "b\u{3}\u{3}",
        "\u{3}",
        "\u{3}\u{3}",
        "\u{3}a",
        "a\u{0}",
        "\u{0}",
        "ab\u{3}",
        "a \u{3}",
    ] {
        let what = format!("search {text:?}");
        assert_finds(&s, &all, &what, &|| Query::all().search(text), &|u| {
            found(u, text)
        });
    }
    assert!(
        s.users()
            .list(&Query::all().search("a\u{3}").page(1, 100))
            .unwrap()
            .items
            .is_empty()
    );
}

#[test]
fn trigrams_present_apart_are_no_match() {
    // `abcd` has the trigrams `abc` and `bcd`; `abc-bcd` holds both, apart.
    let s = store();
    s.write(|tx| {
        let users = tx.users();
        for (i, last) in ["abc-bcd", "xabcdx", "bcd abc", "ABCD"].iter().enumerate() {
            users.create(NewUser::new(
                format!("u{i}"),
                format!("u{i}@example.com"),
                "First",
                *last,
            ))?;
        }
        Ok(())
    })
    .unwrap();
    let last_names = |q: Query| -> Vec<String> {
        s.users()
            .list(&q)
            .unwrap()
            .items
            .into_iter()
            .map(|u| u.last_name)
            .collect()
    };
    assert_eq!(
        last_names(Query::parse("lastName co 'abcd'").unwrap()),
        ["xabcdx", "ABCD"]
    );
    assert_eq!(last_names(Query::all().search("abcd")), ["xabcdx", "ABCD"]);
    assert_eq!(
        last_names(Query::parse("lastName co 'bc-b'").unwrap()),
        ["abc-bcd"]
    );
    // Candidates found by another index are checked for the needle.
    assert!(last_names(Query::parse("username = 'u0' and lastName co 'zz'").unwrap()).is_empty());
    assert_eq!(
        last_names(Query::parse("username = 'u0' and lastName co 'c-'").unwrap()),
        ["abc-bcd"]
    );
    // `z` is in no field; beside `cd` it is left out of the trigram access.
    assert_eq!(s.users().count(&Query::all().search("cd z")).unwrap(), 0);
    assert!(last_names(Query::all().search("cd z")).is_empty());
    assert_eq!(s.users().count(&Query::all().search("cd p")).unwrap(), 4);
}
