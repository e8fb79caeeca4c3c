//! Differential property test of the query engine (docs/reference/queries.md "Queries").
//!
//! Random populations of users, roles and clients are created in a real
//! store; random queries are run through both front ends (an expression for
//! `Query::parse` and `and_where`, and the parameter pairs of
//! `Query::from_params`), and every result — ids in order, totals, counts,
//! `exists`, projected documents, `nextCursor`, and whole cursor walks — must
//! equal a naive full-scan evaluation written here, from docs/reference/ alone, on
//! the JSON documents (`serde_json::to_value(&doc)`).
//!
//! The oracle's rules (docs/reference/queries.md, Semantics):
//! - field names are case-insensitive (keys inside `attributes` are not);
//! - strings compare in their caseless form (`rosterdb::fold`, NFKC_Casefold,
//!   docs/reference/documents.md, Caseless matching, tested on its own in `caseless.rs`) for `= !=
//!   in like co sw ew` and for `< <= > >=`; timestamps compare as instants (a date is
//!   midnight UTC); numbers numerically; booleans `false < true`;
//! - `like`: `%` any run of characters, `_` one extended grapheme cluster
//!   of the folded value (starting where a cluster starts), `\` makes the
//!   next character literal; no unescaped wildcard means a substring match;
//! - arrays (`roles`, `permissions`, `ipAllowlist`, `externalIds.type`,
//!   `externalIds.value`, and arrays inside `attributes`): a test holds when
//!   some element satisfies it; `!=` means no element equals; `pr` / `is not
//!   null` mean non-empty and `is null` means empty;
//! - an absent field (an `attributes` key that is missing or JSON `null`) is
//!   null: `is null` / `pr` test presence, every other comparison is false;
//!   `= null` is `is null` and `!= null` is `is not null`;
//! - an `attributes` value compared with a literal of another JSON type is
//!   false, for `!=` too;
//! - `search`: every whitespace-separated term occurs, case-folded, in one of
//!   the kind's searchable fields;
//! - sort: default `id`; strings by folded then exact value; ascending puts
//!   absent first, `:desc` reverses the whole key; `attributes` values order
//!   null < false < true < numbers < strings; `id` ascending breaks ties;
//! - pages: `page`/`pageSize` (default 100), `offset`/`limit`, cursors;
//!   `total` only when asked; `nextCursor` exactly when more matches follow.
//!
//! Records change by merge patches (users, roles, clients), delete +
//! re-create, and cascading role deletes; queries are checked again after
//! such changes, and during cursor walks interleaved with writes.
//!
//! The tests:
//! - `queries_equal_the_naive_evaluation`: populations of up to 60 users (plus
//!   roles and clients), composite queries (and/or/not over every operator),
//!   search, 0–3 sort keys, projections, every paging style and a full cursor
//!   walk from the first page; then random changes, and the same queries again;
//! - `single_tests_equal_the_naive_evaluation`: many one-test queries per
//!   population, for operator × field-type × literal-shape coverage;
//! - `cursor_walks_survive_interleaved_writes`: every page after a cursor is
//!   the first matches after the last item returned, in the current state, and
//!   records unchanged during the walk appear exactly once, in order;
//! - `large_populations_equal_the_naive_evaluation`: 280–400 users, beyond the
//!   planner's "small" candidate limit, so that index streaming, index-ordered
//!   pages and index-key counts run; then a walk with writes;
//! - `cursors_continue_only_their_own_query` and
//!   `malformed_queries_are_invalid_query_errors`: the cursor rules of
//!   docs/reference/queries.md and "no input may panic" (docs/reference/errors.md).
//!
//! Set `PROPTEST_CASES` for a longer run (e.g. `PROPTEST_CASES=5000 cargo test
//! --release -p rosterdb --test query_model_tests`).
//!
//! The test is split by role: `query_model/schema.rs` (the fields the oracle
//! knows), `query_model/query.rs` (resolved queries), `query_model/oracle.rs`
//! (the naive evaluator and its model) with `query_model/timestamps.rs`,
//! `query_model/generators.rs` (populations, changes and query structure),
//! `query_model/resolve.rs` (literals fixed against live documents),
//! `query_model/printers.rs` (both front ends), `query_model/world.rs` (the
//! store and model kept together) and `query_model/driver.rs` (running and
//! comparing). Failures proptest finds are kept in
//! `tests/regressions/query_model_tests.txt` and replayed first
//! (`common/regressions.rs`).

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
#[path = "query_model/driver.rs"]
mod driver;
#[path = "query_model/generators.rs"]
mod generators;
#[path = "query_model/oracle.rs"]
mod oracle;
#[path = "query_model/printers.rs"]
mod printers;
#[path = "query_model/query.rs"]
mod query;
#[path = "query_model/resolve.rs"]
mod resolve;
#[path = "query_model/schema.rs"]
mod schema;
#[path = "query_model/timestamps.rs"]
mod timestamps;
#[path = "query_model/world.rs"]
mod world;

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rosterdb::{NewRole, NewUser, Page, Query, Store};
use serde_json::Value;

use crate::common::regressions::persisted;
use crate::driver::{check_query, check_query_walking, walk_with_writes};
use crate::generators::{
    GQuery, LAST_NAMES, Population, gent, gleaf, gquery, mutation, population, role_gen, user_gen,
};
use crate::oracle::holds;
use crate::query::{Lit, Op, Paging};
use crate::resolve::{LIKE_POOL, like_escape, resolve};
use crate::schema::{Ent, Ty};
use crate::world::{World, build};

/// `cases` cases, or `PROPTEST_CASES` when set (for longer soak runs); the
/// failures found are kept and replayed first (`common/regressions.rs`).
fn config(cases: u32) -> ProptestConfig {
    persisted(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        max_shrink_iters: 2_000,
        max_shrink_time: 30_000,
        ..ProptestConfig::default()
    })
}

proptest! {
    #![proptest_config(config(40))]

    /// Random populations and queries, checked again after random changes.
    #[test]
    fn queries_equal_the_naive_evaluation(
        pop in population(60),
        queries in prop::collection::vec(gquery(), 1..7),
        changes in prop::collection::vec(mutation(), 0..8),
    ) {
        let mut w = build(&pop);
        for g in &queries {
            let q = resolve(&w.model, g);
            check_query(&w, &q)?;
        }
        for m in &changes {
            w.apply(m);
        }
        for g in &queries {
            let q = resolve(&w.model, g);
            check_query(&w, &q)?;
        }
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// Cursor walks with creates, deletes, re-creates and cascading role
    /// deletes between the pages.
    #[test]
    fn cursor_walks_survive_interleaved_writes(
        pop in population(40),
        mut g in gquery(),
        filtered in prop::bool::weighted(0.4),
        size in 1usize..6,
        writes in prop::collection::vec(prop::collection::vec(mutation(), 0..3), 0..20),
    ) {
        if !filtered {
            g.filter = None;
            g.search = None;
        }
        let mut w = build(&pop);
        walk_with_writes(&mut w, &g, size, &writes)?;
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// Many single tests (one operator on one field) per population: every
    /// operator, field type and literal shape, without boolean composition.
    #[test]
    fn single_tests_equal_the_naive_evaluation(
        pop in population(50),
        tests in prop::collection::vec((gent(), gleaf(), any::<u64>()), 20..40),
    ) {
        let w = build(&pop);
        for (ent, leaf, style) in &tests {
            let g = GQuery {
                ent: *ent,
                filter: Some(leaf.clone()),
                search: None,
                sort: Vec::new(),
                fields: None,
                paging: Paging::Default,
                with_total: style.is_multiple_of(2),
                style: *style,
            };
            check_query(&w, &resolve(&w.model, &g))?;
        }
    }
}

proptest! {
    #![proptest_config(config(2))]

    /// Populations large enough (more than the planner's 256 "small"
    /// candidates) that indexed conditions stream, sorted pages come from
    /// indexes and counts come from index keys; then a cursor walk with
    /// writes between the pages.
    #[test]
    fn large_populations_equal_the_naive_evaluation(
        roles in prop::collection::vec(role_gen(), 2..6),
        users in prop::collection::vec(user_gen(), 280..400),
        queries in prop::collection::vec(gquery(), 10..16),
        (mut walk, size, writes) in (
            gquery(),
            20usize..120,
            prop::collection::vec(prop::collection::vec(mutation(), 0..4), 0..8),
        ),
    ) {
        let pop = Population { roles, users, clients: Vec::new() };
        let mut w = build(&pop);
        for g in &queries {
            let mut q = resolve(&w.model, &GQuery { ent: Ent::User, ..g.clone() });
            q.paging = match q.paging {
                Paging::Page(p, Some(s)) if s < 20 => Paging::Page(p, Some(s * 10)),
                Paging::Offset(o, Some(l)) if l < 20 => Paging::Offset(o.map(|o| o * 5), Some(l * 10)),
                other => other,
            };
            check_query_walking(&w, &q, 2)?;
        }
        walk.ent = Ent::User;
        if !walk.style.is_multiple_of(3) {
            walk.filter = None;
            walk.search = None;
        }
        walk_with_writes(&mut w, &walk, size, &writes)?;
    }
}

/// The cursor rules of docs/reference/queries.md, "Results, paging and planning": a cursor
/// continues its own query in its own collection; the same query may be given again, a different
/// one is refused naming the part that differs; a damaged token is refused;
/// none of it panics.
#[test]
fn cursors_continue_only_their_own_query() {
    let w = World::new();
    for i in 0..12 {
        let mut user = NewUser::new(
            format!("user{i}"),
            format!("user{i}@example.com"),
            "First",
            LAST_NAMES[i % LAST_NAMES.len()],
        );
        user.enabled = !i.is_multiple_of(3);
        w.store.users().create(user).unwrap();
    }
    w.store.roles().create(NewRole::new("staff")).unwrap();
    let query = || Query::parse("enabled = true").map(|q| q.sort("lastName:desc").page(1, 3));
    let first = w.store.users().list(&query().unwrap()).unwrap();
    let token = first.next_cursor.expect("more than one page");
    let invalid = |r: rosterdb::Result<Page<rosterdb::User>>, part: &str| match r {
        Err(rosterdb::Error::InvalidQuery { field: Some(f), .. }) if f == part => {}
        other => panic!("a changed {part}: expected InvalidQuery naming it, got {other:?}"),
    };

    // The same query again, with the cursor: the next page.
    let again = w
        .store
        .users()
        .list(&query().unwrap().cursor(&token))
        .unwrap();
    let alone = w.store.users().list(&Query::all().cursor(&token)).unwrap();
    assert_eq!(again.items, alone.items);
    assert_eq!(alone.items.len(), 3);
    // A different filter, sort, projection or search with the cursor: refused.
    invalid(
        w.store
            .users()
            .list(&Query::parse("enabled = false").unwrap().cursor(&token)),
        "where",
    );
    invalid(
        w.store
            .users()
            .list(&Query::all().sort("lastName").cursor(&token)),
        "sort",
    );
    invalid(
        w.store
            .users()
            .list(&Query::all().fields("id").cursor(&token)),
        "fields",
    );
    invalid(
        w.store
            .users()
            .list(&Query::all().search("ann").cursor(&token)),
        "search",
    );
    // Another collection: refused.
    let role_page = w.store.roles().list(&Query::all().cursor(&token));
    assert!(
        matches!(role_page, Err(rosterdb::Error::InvalidQuery { .. })),
        "a user cursor on roles: {role_page:?}"
    );
    // A page size may change with a cursor.
    let resized = Query::from_params(&[("cursor", token.as_str()), ("pageSize", "1")]).unwrap();
    let one = w.store.users().list(&resized).unwrap();
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.items[0].id, alone.items[0].id);
    // Damaged tokens: refused, never a panic.
    let mut damaged: Vec<String> = vec![String::new(), "x".into(), token[..token.len() / 2].into()];
    for i in 0..token.len() {
        let mut bytes = token.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        damaged.extend(String::from_utf8(bytes));
    }
    damaged.push(format!("{token}A"));
    for bad in damaged {
        let r = w.store.users().list(&Query::all().cursor(&bad));
        // A changed character may by chance still decode; it must then be
        // a valid page, not a panic.
        if let Err(e) = r {
            assert!(
                matches!(e, rosterdb::Error::InvalidQuery { .. }),
                "cursor {bad:?}: {e:?}"
            );
        }
    }
}

const JUNK: &[&str] = &[
    "username",
    "attributes.x",
    "roles",
    "createdAt",
    "enabled",
    "id",
    "=",
    "!=",
    "<>",
    "<",
    ">=",
    "like",
    "co",
    "in",
    "(",
    ")",
    ",",
    "pr",
    "is",
    "not",
    "null",
    "and",
    "or",
    "'a'",
    "'O''B'",
    "\"x\\\"y\"",
    "\"\\u00e9\"",
    "'",
    "\"",
    "1",
    "-2.5e3",
    "1e999",
    "99999999999999999999",
    "true",
    "FALSE",
    "'2014-01-15'",
    "\\",
    "%",
    "_",
    ".",
    "..",
    "attributes.",
    ":",
    "\u{0}",
    "é",
    "𝔘",
];

proptest! {
    #![proptest_config(config(256))]

    /// Malformed queries fail with `InvalidQuery`, never a panic or another
    /// kind of error (docs/reference/queries.md, Semantics; docs/reference/errors.md).
    #[test]
    fn malformed_queries_are_invalid_query_errors(
        tokens in prop::collection::vec(prop::sample::select(JUNK), 0..10),
        spaced in any::<bool>(),
        key in prop::sample::select(vec![
            "where", "sort", "fields", "page", "pageSize", "offset", "limit", "cursor",
            "withTotal", "search", "username", "filter[id]", "attributes.x", "createdAt", "roles",
        ]),
    ) {
        let text = tokens.join(if spaced { " " } else { "" });
        let w = World::new();
        let kinds_ok = |r: rosterdb::Result<()>| match r {
            Ok(()) | Err(rosterdb::Error::InvalidQuery { .. }) => Ok(()),
            Err(e) => Err(TestCaseError::fail(format!("{text:?}: {e:?}"))),
        };
        let run = |q: rosterdb::Result<Query>| -> rosterdb::Result<()> {
            let q = q?;
            w.store.users().list(&q)?;
            w.store.users().count(&q)?;
            w.store.roles().exists(&q)?;
            w.store.clients().explain(&q)?;
            Ok(())
        };
        kinds_ok(run(Query::parse(&text)))?;
        kinds_ok(run(Query::from_params(&[(key, text.as_str())])))?;
        kinds_ok(run(Ok(Query::all().sort(&text).fields(&text))))?;
    }
}

/// Every pattern built from a set of texts whose folded form differs in
/// length or in characters per grapheme cluster (ß, ligatures, fullwidth,
/// final sigma, NFD, İ, flags, skin tones, ZWJ sequences, Cherokee): `_` at
/// every character position, prefixes and suffixes, through `like`, `sw`,
/// `ew` and `co` on an indexed (`lastName`) and a trigram-only
/// (`firstName`) field, must equal the naive evaluation. Deterministic, so
/// the cases that random pools reach only sometimes always run.
#[test]
fn caseless_patterns_equal_the_naive_evaluation() {
    const TEXTS: &[&str] = &[
        "Straße",
        "STRASSE",
        "Weiß",
        "ﬁle",
        "ａｄｍｉｎ",
        "ΟΣΟΣ",
        "οδος",
        "Zoe\u{308}",
        "Zoë",
        "İstanbul",
        "istanbul",
        "🇩🇪🇫🇷",
        "👍🏽 ok",
        "👩\u{200D}💻",
        "ᏣᎳᎩ",
        "\u{212A}elvin",
        "e\u{301}\u{323}x",
    ];
    let store = Store::memory_with(common::options()).unwrap();
    for (i, text) in TEXTS.iter().enumerate() {
        let name = format!("u{i}");
        store
            .users()
            .create(NewUser::new(&name, format!("{name}@x.io"), *text, *text))
            .unwrap();
    }
    let mut patterns: BTreeSet<(Op, String)> = BTreeSet::new();
    for text in TEXTS {
        let chars: Vec<char> = text.chars().collect();
        for i in 0..chars.len() {
            let head: String = chars[..i].iter().collect();
            let tail: String = chars[i + 1..].iter().collect();
            let (head, tail) = (like_escape(&head), like_escape(&tail));
            patterns.insert((Op::Like, format!("{head}_{tail}")));
            patterns.insert((Op::Like, format!("{head}%")));
            patterns.insert((Op::Like, format!("%_{tail}")));
            patterns.insert((Op::Like, format!("_%{tail}")));
            let head: String = chars[..i].iter().collect();
            let tail: String = chars[i..].iter().collect();
            patterns.insert((Op::Sw, head.clone()));
            patterns.insert((Op::Ew, tail.clone()));
            patterns.insert((Op::Co, chars[i..=i].iter().collect()));
            patterns.insert((Op::Co, head.to_uppercase()));
        }
    }
    for p in LIKE_POOL {
        patterns.insert((Op::Like, (*p).to_owned()));
    }
    let users: Vec<Value> = store
        .users()
        .list(&Query::from_params(&[("pageSize", "1000")]).unwrap())
        .unwrap()
        .items
        .iter()
        .map(|u| serde_json::to_value(u).unwrap())
        .collect();
    let mut failures = Vec::new();
    for (op, p) in &patterns {
        let word = match op {
            Op::Like => "like",
            Op::Sw => "sw",
            Op::Ew => "ew",
            _ => "co",
        };
        for field in ["firstName", "lastName"] {
            let lit = Lit::Str(p.clone());
            let want: Vec<u64> = users
                .iter()
                .filter(|u| holds(&u[field], Ty::Str, *op, &lit))
                .map(|u| u["id"].as_u64().unwrap())
                .collect();
            let expr = format!("{field} {word} '{}'", p.replace('\'', "''"));
            let got: Vec<u64> = store
                .users()
                .list(&Query::parse(&expr).unwrap())
                .unwrap()
                .items
                .iter()
                .map(|u| u.id)
                .collect();
            if got != want {
                failures.push(format!("{expr}: store {got:?}, naive {want:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(patterns.len() > 300, "{}", patterns.len());
}
