//! Write groups (decision 0016) and gathered id counters and change-log
//! entries (`storage::pending`) seen through the public API: 8 threads of
//! store-level writes — creates, some of them refused (a username or an
//! e-mail another thread took), patches with a stale `expected_version`,
//! deletes, deletes of deleted users — give unique ids handed out in
//! commit order, and a change log (docs/reference/changes-and-export.md) that holds every committed
//! operation exactly once, in commit order, under gap-free sequence
//! numbers, and no refused one; a `Store::write` closure reads back its
//! own ids and change-log entries before they are written; run counts
//! (decision 0015) and `check()` hold after grouped renames and deletes
//! across chunks of ids, and offset pages equal the sort of every user;
//! an export of all this imports into an equal store.

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

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::sync::{Arc, Barrier};
use std::thread;

use common::{Checked, options, store, user};
use rosterdb::{Change, ChangeOp, EntityKind, Error, NewUser, Query, Store, User, fold};
use serde_json::json;

const THREADS: usize = 8;
const ROUNDS: usize = 40;
const LAST: [&str; 5] = ["Keller", "keller", "Miller", "Ng", "Zoë"];

/// What one successful operation committed: (entity id, op, version).
type Done = (u64, ChangeOp, u64);

/// Every change-log entry, oldest first.
fn whole_log(s: &Store) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    loop {
        let after = out.last().map_or(0, |c| c.seq);
        let batch = s.changes(after, 1000).unwrap();
        if batch.is_empty() {
            return out;
        }
        out.extend(batch);
    }
}

fn rename(last: &str) -> serde_json::Value {
    json!([{"op": "replace", "path": "/lastName", "value": last}])
}

/// One writer thread's operations; returns what committed.
fn writer(s: &Store, t: usize, shared: u64, start: &Barrier) -> Vec<Done> {
    let users = s.users();
    let mut done = Vec::new();
    let mut mine: Vec<u64> = Vec::new();
    start.wait();
    for i in 0..ROUNDS {
        // A user of its own: always created.
        let own = users.create(user(&format!("t{t}r{i}"))).unwrap();
        assert_eq!(own.version, 1);
        done.push((own.id, ChangeOp::Create, 1));
        mine.push(own.id);
        // A username every thread tries: one of them wins.
        match users.create(user(&format!("shared{i}"))) {
            Ok(u) => done.push((u.id, ChangeOp::Create, u.version)),
            Err(Error::Conflict { field, .. }) => {
                assert!(field == "username" || field == "email", "{field}");
            }
            Err(other) => panic!("shared{i}: {other:?}"),
        }
        // An e-mail every thread tries, in another case, with a username
        // of its own: one of them wins.
        let by_email = NewUser::new(
            format!("t{t}m{i}"),
            if t.is_multiple_of(2) {
                format!("mail{i}@example.com")
            } else {
                format!("MAIL{i}@EXAMPLE.com")
            },
            "F",
            "L",
        );
        match users.create(by_email) {
            Ok(u) => done.push((u.id, ChangeOp::Create, u.version)),
            Err(Error::Conflict { field, .. }) => assert_eq!(field, "email"),
            Err(other) => panic!("mail{i}: {other:?}"),
        }
        // A patch of the shared user at the version just read: often stale
        // (each value new: an update that changes nothing is no write).
        let seen = users.get(shared).unwrap().version;
        match users.patch(
            shared,
            &rename(&format!("{}{t}x{i}", LAST[(t + i) % 5])),
            Some(seen),
        ) {
            Ok(u) => {
                assert_eq!(u.version, seen + 1);
                done.push((shared, ChangeOp::Update, u.version));
            }
            Err(Error::VersionConflict { .. }) => {}
            Err(other) => panic!("patch of the shared user: {other:?}"),
        }
        // Renames of its own users, and deletes (each tried twice).
        let id = mine[i / 2];
        if i % 3 == 2 {
            let gone = users.delete(id).unwrap();
            done.push((id, ChangeOp::Delete, gone.version));
            assert!(matches!(users.delete(id), Err(Error::NotFound { .. })));
            assert!(matches!(
                users.patch(id, &rename("X"), None),
                Err(Error::NotFound { .. })
            ));
            mine.retain(|m| *m != id);
        } else {
            let u = users
                .patch(id, &rename(&format!("{}{i}", LAST[i % 5])), None)
                .unwrap();
            done.push((id, ChangeOp::Update, u.version));
        }
    }
    done
}

/// Runs [`writer`] on 8 threads against `s` and returns what committed,
/// with the shared user's creation first.
fn concurrent_run(s: &Arc<Checked>) -> Vec<Done> {
    let shared = s.users().create(user("everyone")).unwrap();
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let s = Arc::clone(s);
            let start = Arc::clone(&start);
            thread::spawn(move || writer(&s, t, shared.id, &start))
        })
        .collect();
    let mut done = vec![(shared.id, ChangeOp::Create, 1)];
    for t in threads {
        done.extend(t.join().unwrap());
    }
    done
}

#[test]
fn grouped_writers_commit_each_operation_once_in_order() {
    let s = Arc::new(store());
    let done = concurrent_run(&s);
    let log = whole_log(&s);

    // Gap-free, strictly increasing sequence numbers from 1: a refused
    // operation rolled its group back and numbers nothing.
    let seqs: Vec<u64> = log.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (1..=log.len() as u64).collect::<Vec<_>>());
    assert!(log.iter().all(|c| c.entity == EntityKind::User));
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at), "times in order");

    // Exactly the committed operations, once each.
    let mut want: Vec<Done> = done.clone();
    let mut got: Vec<Done> = log.iter().map(|c| (c.id, c.op, c.version)).collect();
    want.sort_by_key(|d| (d.0, d.2, d.1 as u8));
    got.sort_by_key(|d| (d.0, d.2, d.1 as u8));
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);

    // Ids: unique, gap-free (only committed creates moved the counter),
    // and handed out in commit order.
    let created: Vec<u64> = log
        .iter()
        .filter(|c| c.op == ChangeOp::Create)
        .map(|c| c.id)
        .collect();
    assert_eq!(created, (1..=created.len() as u64).collect::<Vec<_>>());
    // One winner per shared username and per shared e-mail.
    assert_eq!(created.len(), 1 + THREADS * ROUNDS + 2 * ROUNDS);

    // Per record: versions 1, 2, … in log order, a delete last, and the
    // record as the log leaves it.
    let mut per_id: BTreeMap<u64, Vec<&Change>> = BTreeMap::new();
    for c in &log {
        per_id.entry(c.id).or_default().push(c);
    }
    let alive: BTreeMap<u64, User> = common::every_user(&s)
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    for (id, changes) in &per_id {
        assert_eq!(changes[0].op, ChangeOp::Create, "user {id}");
        for (n, c) in changes.iter().enumerate() {
            match c.op {
                ChangeOp::Delete => {
                    assert_eq!(n + 1, changes.len(), "user {id}: delete last");
                    assert_eq!(c.version, n as u64, "user {id}: delete's version");
                }
                _ => assert_eq!(c.version, n as u64 + 1, "user {id}: versions"),
            }
        }
        let last = changes.last().unwrap();
        match alive.get(id) {
            Some(u) => {
                assert_ne!(last.op, ChangeOp::Delete);
                assert_eq!(u.version, last.version, "user {id}");
            }
            None => assert_eq!(last.op, ChangeOp::Delete, "user {id}"),
        }
    }
    assert_eq!(
        alive.keys().copied().collect::<BTreeSet<_>>(),
        per_id
            .iter()
            .filter(|(_, c)| c.last().unwrap().op != ChangeOp::Delete)
            .map(|(id, _)| *id)
            .collect::<BTreeSet<_>>()
    );
    // A create after the run takes the next id and the next number.
    let next = s.users().create(user("after")).unwrap();
    assert_eq!(next.id, created.len() as u64 + 1);
    assert_eq!(
        s.changes(log.len() as u64, 10).unwrap()[0].seq,
        log.len() as u64 + 1
    );
    assert_eq!(
        s.users()
            .count(&Query::parse("lastName eq 'X'").unwrap())
            .unwrap(),
        0,
        "no refused rename of a deleted user left a trace"
    );
}

#[test]
fn a_write_reads_its_own_ids_and_changes_before_they_are_written() {
    let s = store();
    s.users().create(user("first")).unwrap();
    s.roles().create(common::role("r", None)).unwrap();
    s.write(|tx| {
        let users = tx.users();
        let a = users.create(user("a"))?;
        assert_eq!(a.id, 2);
        let log = tx.changes(0, 100)?;
        assert_eq!(
            log.iter().map(|c| (c.seq, c.id, c.op)).collect::<Vec<_>>(),
            [
                (1, 1, ChangeOp::Create),
                (2, 1, ChangeOp::Create),
                (3, 2, ChangeOp::Create)
            ]
        );
        assert_eq!(log[1].entity, EntityKind::Role);
        // Refused operations inside the write leave no trace.
        assert!(users.create(user("A")).is_err());
        assert!(
            users
                .create(NewUser::new("other", "A@EXAMPLE.com", "F", "L"))
                .is_err()
        );
        assert!(
            users
                .create(NewUser {
                    roles: vec![99],
                    ..user("norole")
                })
                .is_err()
        );
        assert!(users.patch(a.id, &rename("Z"), Some(7)).is_err());
        assert!(users.delete(77).is_err());
        let b = users.create(user("b"))?;
        assert!(b.id > a.id);
        users.patch(a.id, &rename("Renamed"), Some(1))?;
        let log = tx.changes(3, 100)?;
        assert_eq!(
            log.iter()
                .map(|c| (c.seq, c.id, c.op, c.version))
                .collect::<Vec<_>>(),
            [
                (4, b.id, ChangeOp::Create, 1),
                (5, a.id, ChangeOp::Update, 2)
            ]
        );
        // Queries in the write see the gathered index changes.
        let found = users.list(&Query::parse("lastName eq 'Renamed'").unwrap())?;
        assert_eq!(found.items.len(), 1);
        assert_eq!(users.count(&Query::all())?, 3);
        // A later create still numbers on from what was read back.
        let c = users.create(user("c"))?;
        assert!(c.id > b.id);
        assert_eq!(tx.changes(5, 100)?[0].seq, 6);
        Ok(())
    })
    .unwrap();
    let log = whole_log(&s);
    assert_eq!(log.len(), 6);
    assert_eq!(
        log.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    let ids: BTreeSet<u64> = common::every_user(&s).iter().map(|u| u.id).collect();
    assert_eq!(ids.len(), 4);
    // A rolled-back write: its numbers and ids are handed out again (never
    // committed), nothing of it is read afterwards.
    let r: rosterdb::Result<()> = s.write(|tx| {
        tx.users().create(user("gone"))?;
        Err(Error::AuthenticationFailed)
    });
    assert!(r.is_err());
    assert_eq!(whole_log(&s).len(), 6);
    let d = s.users().create(user("d")).unwrap();
    assert!(!ids.contains(&d.id));
    assert_eq!(s.changes(6, 10).unwrap().len(), 1);
    assert_eq!(s.changes(6, 10).unwrap()[0].seq, 7);
}

#[test]
fn held_transactions_and_grouped_writers_number_in_commit_order() {
    let s = Arc::new(store());
    let tx = s.begin_write().unwrap();
    let held = tx.users().create(user("held")).unwrap();
    // Writers queue behind the held transaction and group after it.
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let s = Arc::clone(&s);
            thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..10 {
                    ids.push(s.users().create(user(&format!("g{t}x{i}"))).unwrap().id);
                    // One refused create per round.
                    assert!(s.users().create(user("held")).is_err());
                }
                ids
            })
        })
        .collect();
    thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(tx.changes(0, 10).unwrap().len(), 1);
    tx.commit().unwrap();
    let mut ids: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(held.id, 1);
    assert_eq!(ids, (2..=1 + THREADS as u64 * 10).collect::<Vec<_>>());
    let log = whole_log(&s);
    assert_eq!(log.len(), 1 + THREADS * 10);
    assert_eq!(
        log.iter().map(|c| c.id).collect::<Vec<_>>(),
        (1..=1 + THREADS as u64 * 10).collect::<Vec<_>>(),
        "ids in commit order"
    );
}

/// A store of 600 users whose ids spread over four chunks of 64Ki ids,
/// with few last names (as `run_counts_tests`).
fn spread_store() -> Arc<Checked> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    let mut out = std::fs::File::create(&file).unwrap();
    for n in 0..600_u64 {
        let id = 1 + n * 419;
        let doc = json!({"kind": "user", "doc": {
            "id": id, "username": format!("u{id}"), "email": format!("u{id}@example.com"),
            "firstName": "F", "lastName": LAST[(n % 5) as usize], "enabled": true,
            "roles": [], "externalIds": [], "attributes": {},
            "createdAt": "2026-12-01T12:00:00.000Z", "updatedAt": "2026-12-01T12:00:00.000Z",
            "version": 1,
        }});
        writeln!(out, "{doc}").unwrap();
    }
    drop(out);
    let s = Store::memory_with(options()).unwrap();
    assert_eq!(s.import_jsonl(&file).unwrap(), 600);
    Arc::new(Checked(s))
}

/// Every user's id in last-name order (folded, then exact, then id).
fn by_last_name(s: &Store, descending: bool) -> Vec<u64> {
    let mut all = common::every_user(s);
    let key = |u: &User| (fold(&u.last_name), u.last_name.clone());
    all.sort_by(|a, b| {
        let o = key(a).cmp(&key(b));
        let o = if descending { o.reverse() } else { o };
        o.then(a.id.cmp(&b.id))
    });
    all.iter().map(|u| u.id).collect()
}

fn assert_offset_pages(s: &Store, label: &str) {
    for (sort, descending) in [("lastName", false), ("lastName:desc", true)] {
        let want = by_last_name(s, descending);
        let mut walked = Vec::new();
        loop {
            let page = s
                .users()
                .list(&Query::all().sort(sort).offset(walked.len() as u64, 37))
                .unwrap();
            if page.items.is_empty() {
                break;
            }
            walked.extend(page.items.iter().map(|u| u.id));
        }
        assert_eq!(walked, want, "{label}: {sort}, every offset page");
        for offset in [0_u64, 1, 119, 120, 121, 250, 599, 700] {
            let start = want.len().min(offset as usize);
            let end = want.len().min(start + 9);
            let page = s
                .users()
                .list(&Query::all().sort(sort).offset(offset, 9))
                .unwrap();
            let got: Vec<u64> = page.items.iter().map(|u| u.id).collect();
            assert_eq!(got, want[start..end], "{label}: {sort} at {offset}");
        }
    }
    let report = s.check().unwrap();
    assert!(report.ok, "{label}: {:?}", report.problems);
}

#[test]
fn run_counts_hold_after_grouped_renames_and_deletes_across_chunks() {
    let s = spread_store();
    assert_offset_pages(&s, "imported");
    let ids: Vec<u64> = common::every_user(&s).iter().map(|u| u.id).collect();
    let ids = Arc::new(ids);
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (s, ids, start) = (Arc::clone(&s), Arc::clone(&ids), Arc::clone(&start));
            thread::spawn(move || {
                let users = s.users();
                start.wait();
                for (n, &id) in ids.iter().enumerate() {
                    if n % THREADS != t && n % 7 != 0 {
                        continue;
                    }
                    // Users every seventh: every thread renames them at
                    // the version it read (most are stale), one deletes.
                    let seen = match users.get(id) {
                        Ok(u) => u.version,
                        Err(Error::NotFound { .. }) => continue,
                        Err(e) => panic!("{e:?}"),
                    };
                    match users.patch(id, &rename(LAST[(n + t) % 5]), Some(seen)) {
                        Ok(_) | Err(Error::VersionConflict { .. } | Error::NotFound { .. }) => {}
                        Err(e) => panic!("{e:?}"),
                    }
                    if n % 11 == t {
                        match users.delete(id) {
                            Ok(_) | Err(Error::NotFound { .. }) => {}
                            Err(e) => panic!("{e:?}"),
                        }
                    }
                    // A rename refused by its own `test` op, grouped with
                    // the others.
                    let refused = json!([
                        {"op": "replace", "path": "/lastName", "value": "Refused"},
                        {"op": "test", "path": "/firstName", "value": "nope"}
                    ]);
                    assert!(users.patch(id, &refused, None).is_err());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_offset_pages(&s, "after grouped writes");
    assert_eq!(
        s.users()
            .count(&Query::parse("lastName eq 'Refused'").unwrap())
            .unwrap(),
        0
    );
}

#[test]
fn an_export_after_grouped_writes_imports_into_an_equal_store() {
    let s = Arc::new(store());
    concurrent_run(&s);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.jsonl");
    let n = s.export_jsonl(&file).unwrap();
    let before = common::every_user(&s);
    assert_eq!(n, before.len() as u64);
    let t = store();
    assert_eq!(t.import_jsonl(&file).unwrap(), n);
    let after = common::every_user(&t);
    assert_eq!(
        serde_json::to_value(&after).unwrap(),
        serde_json::to_value(&before).unwrap()
    );
    // Imports log one create per record, then later writes number on.
    let log = whole_log(&t);
    assert_eq!(log.len() as u64, n);
    assert!(log.iter().all(|c| c.op == ChangeOp::Create));
    let max = before.iter().map(|u| u.id).max().unwrap();
    let next = t.users().create(user("later")).unwrap();
    assert!(next.id > max, "ids do not collide after a round trip");
    // Indexes of the imported store answer as the original's.
    for q in [
        "lastName eq 'Keller'",
        "lastName co 'e'",
        "username sw 'shared'",
    ] {
        let count = |s: &Store| s.users().count(&Query::parse(q).unwrap()).unwrap();
        assert_eq!(count(&t), count(&s), "{q}");
    }
    assert_offset_pages(&t, "imported after grouped writes");
}
