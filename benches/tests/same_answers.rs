//! Both stores give the same answers to every workload on a 500-user
//! population: the harness compares like with like.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

use rosterdb_benches::drive::{
    COUNT_ROLE, EMAIL_PART, FILTER_ROLE, Fixture, LIKE, SEARCH, Workload, run,
};
use rosterdb_benches::{PAGE, RosterStore, SqliteStore, Workloads, users};

const USERS: u64 = 500;

fn both() -> (tempfile::TempDir, RosterStore, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let r = RosterStore::open(&dir.path().join("r.rdb")).unwrap();
    let s = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
    r.import(users(USERS)).unwrap();
    s.import(users(USERS)).unwrap();
    // As `compare` runs SQLite: with its planner's statistics.
    s.analyze().unwrap();
    (dir, r, s)
}

#[test]
fn both_stores_answer_every_workload_alike() {
    let (_dir, r, s) = both();
    for id in [1, 2, 250, USERS] {
        assert_eq!(r.get_by_id(id).unwrap(), id);
        assert_eq!(s.get_by_id(id).unwrap(), id);
    }
    let email = rosterdb_benches::user(41).email.to_uppercase();
    assert_eq!(r.get_by_email(&email).unwrap(), 42);
    assert_eq!(s.get_by_email(&email).unwrap(), 42);

    let page = r.filtered_page(FILTER_ROLE, LIKE).unwrap();
    assert!(!page.is_empty(), "the filtered page finds users");
    assert_eq!(page, s.filtered_page(FILTER_ROLE, LIKE).unwrap());

    let found = r.search(SEARCH).unwrap();
    assert!(!found.is_empty(), "search finds users");
    assert_eq!(found, s.search(SEARCH).unwrap());
    // Non-ASCII terms fold the same way in both (Straße = STRASSE, Greek final sigma).
    for term in ["STRASSE", "ΟΔΥΣΣΈΩΣ", "иван", "山田", "Ångström"] {
        let found = r.search(term).unwrap();
        assert!(!found.is_empty(), "search {term} finds users");
        assert_eq!(found, s.search(term).unwrap(), "search {term}");
    }

    let co = r.email_contains(EMAIL_PART).unwrap();
    assert!(!co.is_empty());
    assert_eq!(co, s.email_contains(EMAIL_PART).unwrap());

    // The whole lastName-sorted walk, page by page, and offset pages.
    let (mut rc, mut sc) = (None, None);
    let mut walked = 0;
    loop {
        let (ri, rn) = r.sorted_page(rc.as_ref()).unwrap();
        let (si, sn) = s.sorted_page(sc.as_ref()).unwrap();
        assert_eq!(ri, si, "page after {walked} users");
        assert_eq!(ri, r.offset_page(walked).unwrap());
        assert_eq!(si, s.offset_page(walked).unwrap());
        walked += ri.len() as u64;
        match (rn, sn) {
            (Some(a), Some(b)) => (rc, sc) = (Some(a), Some(b)),
            (None, _) | (_, None) => break,
        }
    }
    assert!(walked >= USERS - PAGE as u64, "walked {walked}");

    let count = r.count_enabled_role(COUNT_ROLE).unwrap();
    assert!(count > 0);
    assert_eq!(count, s.count_enabled_role(COUNT_ROLE).unwrap());
}

#[test]
fn every_workload_runs_on_both_stores() {
    let (_dir, r, s) = both();
    let fr = Fixture::new(&r, USERS).unwrap();
    let fs = Fixture::new(&s, USERS).unwrap();
    assert_eq!(fr.depth(), fs.depth());
    for w in Workload::ALL {
        let a = run(&r, &fr, w, 2).unwrap();
        let b = run(&s, &fs, w, 2).unwrap();
        assert_eq!(a, b, "{} returns the same", w.id());
    }
    r.patch_attribute(7, "title", "Chief").unwrap();
    s.patch_attribute(7, "title", "Chief").unwrap();
    let ours = r.store().users().get(7).unwrap().attributes;
    assert_eq!(ours["title"], "Chief");
    let theirs = s.user(7).unwrap().attributes().unwrap();
    assert_eq!(ours, theirs, "both stores keep the same attributes");
    assert!(theirs.len() > 1, "{theirs:?}");
}
