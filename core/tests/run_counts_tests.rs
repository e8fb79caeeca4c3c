//! Run counts (format 6, decision 0015): an offset page sorted by last name
//! passes whole runs of equal names, and whole chunks of ids of a run, by
//! their counts. Every page is the one sorting every user gives, across
//! chunks of ids, after writes that move keys between runs and chunks, and
//! `check()` holds the counts to the index.

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

use std::io::Write as _;

use common::options;
use rosterdb::{Query, Store, User, fold};
use serde_json::json;

const LAST: [&str; 5] = ["Keller", "keller", "Miller", "Ng", "Zoë"];

/// A store of users whose ids spread over four chunks of 64Ki ids (an
/// import keeps ids), with few last names, most of them `Keller`.
fn spread_store() -> Store {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    let mut out = std::fs::File::create(&file).unwrap();
    for n in 0..600_u64 {
        let id = 1 + n * 419;
        let last = if n % 3 == 0 {
            LAST[(n / 3 % 5) as usize]
        } else {
            "Keller"
        };
        let doc = json!({"kind": "user", "doc": {
            "id": id, "username": format!("u{id}"), "email": format!("u{id}@example.com"),
            "firstName": "F", "lastName": last, "enabled": true, "roles": [],
            "externalIds": [], "attributes": {},
            "createdAt": "2026-12-01T12:00:00.000Z", "updatedAt": "2026-12-01T12:00:00.000Z",
            "version": 1,
        }});
        writeln!(out, "{doc}").unwrap();
    }
    drop(out);
    let s = Store::memory_with(options()).unwrap();
    assert_eq!(s.import_jsonl(&file).unwrap(), 600);
    s
}

/// Every user's id in last-name order (folded, then exact, then id),
/// ascending or descending by name (ids always ascending).
fn sorted(s: &Store, descending: bool) -> Vec<u64> {
    let mut all: Vec<User> = Vec::new();
    let mut page = 1;
    loop {
        let items = s
            .users()
            .list(&Query::all().page(page, 1000))
            .unwrap()
            .items;
        if items.is_empty() {
            break;
        }
        all.extend(items);
        page += 1;
    }
    let key = |u: &User| (fold(&u.last_name), u.last_name.clone());
    all.sort_by(|a, b| {
        let o = key(a).cmp(&key(b));
        let o = if descending { o.reverse() } else { o };
        o.then(a.id.cmp(&b.id))
    });
    all.iter().map(|u| u.id).collect()
}

fn offset_page(s: &Store, sort: &str, offset: u64, size: usize) -> Vec<u64> {
    let page = s
        .users()
        .list(&Query::all().sort(sort).offset(offset, size))
        .unwrap();
    page.items.iter().map(|u| u.id).collect()
}

fn assert_pages(s: &Store, label: &str) {
    for (sort, descending) in [("lastName", false), ("lastName:desc", true)] {
        let want = sorted(s, descending);
        for offset in [0_u64, 1, 7, 99, 100, 101, 157, 300, 401, 480, 599, 600, 700] {
            let start = want.len().min(offset as usize);
            let end = want.len().min(start + 13);
            assert_eq!(
                offset_page(s, sort, offset, 13),
                want[start..end],
                "{label}: {sort} at {offset}"
            );
        }
    }
    // With a second key each run is sorted whole: its offset is passed there.
    let mut all: Vec<User> = Vec::new();
    for id in sorted(s, false) {
        all.push(s.users().get(id).unwrap());
    }
    let key = |u: &User| (fold(&u.last_name), u.last_name.clone());
    all.sort_by(|a, b| {
        key(a)
            .cmp(&key(b))
            .then(b.username.cmp(&a.username))
            .then(a.id.cmp(&b.id))
    });
    let want: Vec<u64> = all.iter().map(|u| u.id).collect();
    for offset in [0_u64, 150, 333] {
        let start = want.len().min(offset as usize);
        let end = want.len().min(start + 11);
        assert_eq!(
            offset_page(s, "lastName,username:desc", offset, 11),
            want[start..end],
            "{label}: two keys at {offset}"
        );
    }
    let report = s.check().unwrap();
    assert!(report.ok, "{label}: {:?}", report.problems);
}

#[test]
fn offset_pages_pass_runs_and_chunks_by_their_counts() {
    let s = spread_store();
    assert_pages(&s, "imported");
    // Keys move between runs and chunks: renames, deletes, new users.
    for id in [1_u64, 420, 65_000, 131_000, 200_000] {
        let id = 1 + (id / 419) * 419;
        s.users()
            .patch(
                id,
                &json!([{"op": "replace", "path": "/lastName", "value": "Ng"}]),
                None,
            )
            .unwrap();
    }
    for id in [839_u64, 1_258, 100_980] {
        s.users().delete(id).unwrap();
    }
    s.write(|tx| {
        for n in 0..40 {
            tx.users().create(rosterdb::NewUser::new(
                format!("new{n}"),
                format!("new{n}@example.com"),
                "F",
                LAST[n % 5],
            ))?;
        }
        Ok(())
    })
    .unwrap();
    // A patch of an unindexed field leaves the counts alone (and right).
    s.users()
        .patch(
            2_096,
            &json!([{"op": "add", "path": "/attributes/t", "value": 1}]),
            None,
        )
        .unwrap();
    assert_pages(&s, "after writes");
}

/// `check()` finds a run count that differs from the index's keys, and a
/// run without its count.
#[test]
fn check_finds_wrong_and_missing_run_counts() {
    use redb::{ReadableTable, TableDefinition};
    const COUNTS: TableDefinition<&[u8], u64> = TableDefinition::new("count.user.last_name");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.rdb");
    {
        let s = Store::open(&path, options()).unwrap();
        for (n, last) in LAST.iter().enumerate() {
            s.users()
                .create(rosterdb::NewUser::new(
                    format!("u{n}"),
                    format!("u{n}@example.com"),
                    "F",
                    *last,
                ))
                .unwrap();
        }
        assert!(s.check().unwrap().ok);
    }
    type Edit = dyn Fn(&mut redb::Table<&[u8], u64>, Vec<u8>);
    let edit = |change: &Edit| {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(COUNTS).unwrap();
            let first = t
                .iter()
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .0
                .value()
                .to_vec();
            change(&mut t, first);
        }
        txn.commit().unwrap();
    };
    edit(&|t, key| {
        t.insert(key.as_slice(), 7).unwrap();
    });
    let report = Store::open(&path, options()).unwrap().check().unwrap();
    assert!(!report.ok);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("count.user.last_name: a run count is 7")),
        "{:?}",
        report.problems
    );
    edit(&|t, key| {
        t.remove(key.as_slice()).unwrap();
    });
    let report = Store::open(&path, options()).unwrap().check().unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("has no count")),
        "{:?}",
        report.problems
    );
}
