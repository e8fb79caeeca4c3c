//! Files of every released format open, migrate and pass `check()` (docs/reference/storage.md).

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

use std::path::{Path, PathBuf};

use common::{conflict_field, options, totp_code};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use rosterdb::{
    Credentials, DEFAULT_SESSION_TTL, EntityKind, Error, FORMAT_VERSION, ManualClock, NewRole,
    NewUser, Query, Secret, Store, Timestamp,
};

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name)
}

/// A copy of a fixture to open (opening migrates it in place).
fn copy_of(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::copy(fixture(name), &path).unwrap();
    (dir, path)
}

fn format_version(path: &Path) -> u64 {
    let db = Database::builder().open_read_only(path).unwrap();
    let read = db.begin_read().unwrap();
    read.open_table(META)
        .unwrap()
        .get("format_version")
        .unwrap()
        .unwrap()
        .value()
}

#[test]
fn a_format_1_file_migrates_and_keeps_everything() {
    let (_dir, path) = copy_of("format-v1.redb");
    assert_eq!(format_version(&path), 1);
    {
        let s = Store::open(&path, options()).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        assert_eq!(s.users().count(&Query::default()).unwrap(), 4);
        assert_eq!(s.roles().count(&Query::default()).unwrap(), 3);
        assert_eq!(s.clients().count(&Query::default()).unwrap(), 1);
        assert_eq!(s.changes(0, 100).unwrap().len(), 11);
        let alice = s.users().get(1).unwrap();
        assert_eq!(alice.username, "alice");
        assert_eq!(alice.attributes["department"], "Engineering");
        assert!(alice.has_password && !alice.totp_enabled);
        let bob = s.users().get_by_username("bob", None).unwrap();
        assert_eq!(
            (bob.last_name.as_str(), bob.version, bob.enabled),
            ("Baumeister", 2, false)
        );
        assert_eq!(
            s.users()
                .get_by_external_id("github", "1001", None)
                .unwrap()
                .id,
            1
        );
        // Credentials made by format 1 still work, and sessions can be opened.
        let login = s
            .login(
                &Credentials::new("alice", "correct horse battery"),
                DEFAULT_SESSION_TTL,
            )
            .unwrap();
        assert_eq!(
            s.authenticate(login.token.expose()).unwrap().permissions,
            ["users:read", "users:write"]
        );
        s.users()
            .verify_password(&Credentials::new("alice", "acme password 1").tenant("acme"))
            .unwrap();
        let secret = Secret::new("y0kJBdLi-qGzWAmzIdb530npUAH8uJlQHOJq-xLshco");
        s.client_login(
            "rc_6kvuQrrXooSdMjF6yamrSx",
            &secret,
            Some("10.2.3.4"),
            DEFAULT_SESSION_TTL,
        )
        .unwrap();
        // Ids continue where format 1 left them.
        let next = s.users().create(common::user("newcomer")).unwrap();
        assert_eq!(next.id, 6);
    }
    assert_eq!(format_version(&path), FORMAT_VERSION);
    // A migrated file opens again as it is.
    let s = Store::open(&path, options()).unwrap();
    assert!(s.check().unwrap().ok);
}

/// The ids a query finds, in order.
fn ids<E: rosterdb::Entity + serde::Serialize>(
    c: &rosterdb::Collection<'_, Store, E>,
    query: Query,
) -> Vec<u64> {
    c.list(&query)
        .unwrap()
        .items
        .iter()
        .map(|e| serde_json::to_value(e).unwrap()["id"].as_u64().unwrap())
        .collect()
}

fn q(expr: &str) -> Query {
    Query::parse(expr).unwrap()
}

#[test]
fn a_format_2_file_migrates_to_nfkc_casefold_keys() {
    let (_dir, path) = copy_of("format-v2.redb");
    assert_eq!(format_version(&path), 2);
    // The fixture's sessions last until 2026-12-30.
    let clock = ManualClock::new(Timestamp::parse("2026-12-01T00:00:00Z").unwrap());
    {
        let s = Store::open(&path, options().with_clock(clock.clock())).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        assert_eq!(s.users().count(&Query::default()).unwrap(), 7);
        assert_eq!(s.roles().count(&Query::default()).unwrap(), 3);
        assert_eq!(s.clients().count(&Query::default()).unwrap(), 1);
        assert_eq!(s.changes(0, 100).unwrap().len(), 16);
        // Records are as they were: values are never folded.
        let u1 = s.users().get(1).unwrap();
        assert_eq!(
            (
                u1.username.as_str(),
                u1.email.as_str(),
                u1.last_name.as_str()
            ),
            ("straße", "straße@bücher.de", "Weiß")
        );
        assert!(u1.has_password && u1.totp_enabled);
        assert_eq!(u1.version, 3);
        assert_eq!(s.users().get(7).unwrap().first_name, "Zoe\u{308}");

        // Lookups by the caseless form, which format 2 could not make.
        let by_name =
            |name: &str, tenant: Option<&str>| s.users().get_by_username(name, tenant).unwrap().id;
        assert_eq!(by_name("STRASSE", None), 1);
        assert_eq!(by_name("Straße", Some("t1")), 2);
        assert_eq!(by_name("οδος", None), 3);
        assert_eq!(by_name("ΟΔΟΣ", Some("t1")), 4);
        assert_eq!(by_name("admin", None), 5);
        assert_eq!(by_name("ＡＤＭＩＮ", Some("t1")), 6);
        assert_eq!(by_name("FILE", None), 7);
        let by_email =
            |email: &str, tenant: Option<&str>| s.users().get_by_email(email, tenant).unwrap().id;
        assert_eq!(by_email("STRASSE@BÜCHER.DE", None), 1);
        assert_eq!(by_email("οδος@EXAMPLE.GR", Some("t1")), 4);
        assert_eq!(by_email("admin@example.com", None), 5);
        let by_external = |kind: &str, value: &str, tenant: Option<&str>| {
            s.users()
                .get_by_external_id(kind, value, tenant)
                .unwrap()
                .id
        };
        assert_eq!(by_external("ldap", "UID=STRASSE", None), 1);
        assert_eq!(by_external("LDAP", "uid=straße", Some("t1")), 2);

        // Queries through the rebuilt indexes.
        assert_eq!(ids(&s.users(), q("username sw 'ΟΔ'")), [3, 4]);
        assert_eq!(ids(&s.users(), q("lastName = 'WEISS'")), [1, 2]);
        assert_eq!(ids(&s.users(), q("lastName like 'kel%'")), [5, 6]);
        assert_eq!(ids(&s.users(), q("firstName = 'zoë'")), [7]);
        assert_eq!(ids(&s.users(), q("firstName like 'zo_'")), [7]);
        assert_eq!(ids(&s.users(), q("email co 'SSE@'")), [1, 2]);
        let search = Query::from_params(&[("search", "STRASS")]).unwrap();
        assert_eq!(ids(&s.users(), search), [1, 2]);
        let sorted = Query::from_params(&[("sort", "username")]).unwrap();
        assert_eq!(ids(&s.users(), sorted), [6, 5, 7, 2, 1, 3, 4]);
        assert_eq!(ids(&s.roles(), q("name = 'οδος'")), [2, 3]);
        assert_eq!(ids(&s.clients(), q("name like 'sync%'")), [1]);

        // Credentials, the second factor and sessions made by format 2.
        let principal = s
            .authenticate("rs_lhjTb84nEkyMliUNG0WDq_FvWi_2Wfza7KFdwbxCECg")
            .unwrap();
        assert_eq!((principal.kind, principal.id), (EntityKind::User, 1));
        assert_eq!(principal.permissions, ["users:read", "users:write"]);
        let client = s
            .authenticate("rs_pM3NB9DGiYs1y-47ZWkht-zmyBiF6xdol_xjFSdL8vU")
            .unwrap();
        assert_eq!((client.kind, client.id), (EntityKind::Client, 1));
        let code = totp_code("QYI2ROJ4LL7WQVGBGYWYADC3IVVYL4HG", clock.now());
        let login = s
            .login(
                &Credentials::new("STRASSE", "correct horse battery").totp_code(code),
                DEFAULT_SESSION_TTL,
            )
            .unwrap();
        assert_eq!(login.principal.id, 1);
        s.users()
            .verify_password(&Credentials::new("straße@bücher.de", "t1 password 1").tenant("t1"))
            .unwrap();
        s.client_login(
            "rc_YASOXcq1t4n6eqRmvmDoXi",
            &Secret::new("jt54moPv-4cM6IHaisrxgMGd4_VyTw0pmQ8CzEjRaEY"),
            Some("10.1.2.3"),
            DEFAULT_SESSION_TTL,
        )
        .unwrap();

        // Uniqueness follows the caseless form; ids continue.
        let taken = s.users().create(common::user("Strasse"));
        assert_eq!(conflict_field(taken), "username");
        let taken = s.roles().create(NewRole::new("οδος"));
        assert_eq!(conflict_field(taken), "name");
        let next = s
            .users()
            .create(NewUser::new("newcomer", "new@example.com", "New", "Comer"))
            .unwrap();
        assert_eq!(next.id, 9);
    }
    assert_eq!(format_version(&path), FORMAT_VERSION);
    let s = Store::open(&path, options()).unwrap();
    assert!(s.check().unwrap().ok);
}

#[test]
fn a_clash_that_folding_creates_fails_the_open_and_changes_no_byte() {
    let (_dir, path) = copy_of("format-v2-fold-clash.redb");
    let before = std::fs::read(&path).unwrap();
    for _ in 0..2 {
        match Store::open(&path, options()) {
            Err(Error::IncompatibleFormat { reason }) => {
                assert!(
                    reason.contains("user 1 and user 2 have the same username"),
                    "{reason}"
                );
                assert!(reason.contains("previous release"), "{reason}");
                assert!(!reason.contains("οδοσ") && !reason.contains("ΟΔΟΣ"));
            }
            other => panic!("expected IncompatibleFormat, got {other:?}"),
        }
        assert!(std::fs::read(&path).unwrap() == before, "the file changed");
    }
    assert_eq!(format_version(&path), 2);
}

#[test]
fn the_fixtures_are_untouched_by_the_tests() {
    assert_eq!(format_version(&fixture("format-v1.redb")), 1);
    assert_eq!(format_version(&fixture("format-v2.redb")), 2);
    assert_eq!(format_version(&fixture("format-v2-fold-clash.redb")), 2);
    assert_eq!(format_version(&fixture("format-v3.redb")), 3);
    assert_eq!(format_version(&fixture("format-v4.redb")), 4);
    assert_eq!(format_version(&fixture("format-v5.redb")), 5);
    assert_eq!(format_version(&fixture("format-v6.redb")), 6);
    assert_eq!(format_version(&fixture("format-v7.redb")), 7);
    assert_eq!(format_version(&fixture("format-v8.redb")), 8);
    assert_eq!(format_version(&fixture("format-v9.redb")), 9);
    assert_eq!(format_version(&fixture("format-v10.redb")), 10);
}

/// Opening migrates it to format 4 (records re-encoded with their header first).
#[test]
fn a_format_3_file_opens_with_its_records_credentials_and_sessions() {
    let (_dir, path) = copy_of("format-v3.redb");
    assert_eq!(format_version(&path), 3);
    // The fixture's sessions last until 2026-12-31T12:00:43Z.
    let clock = ManualClock::new(Timestamp::parse("2026-12-02T00:00:00Z").unwrap());
    {
        let s = Store::open(&path, options().with_clock(clock.clock())).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        assert_eq!(s.users().count(&Query::default()).unwrap(), 3);
        assert_eq!(s.roles().count(&Query::default()).unwrap(), 3);
        assert_eq!(s.clients().count(&Query::default()).unwrap(), 1);
        assert_eq!(s.changes(0, 100).unwrap().len(), 12);

        let u1 = s.users().get(1).unwrap();
        assert_eq!(
            (u1.username.as_str(), u1.nickname.as_deref(), u1.version),
            ("straße", Some("Straßenbahn"), 3)
        );
        assert!(u1.has_password && u1.totp_enabled);
        assert_eq!(
            u1.last_login_at,
            Some(Timestamp::parse("2026-12-01T12:00:43Z").unwrap())
        );
        assert_eq!(u1.attributes["city"], "Köln");
        let u3 = s.users().get(3).unwrap();
        assert_eq!(
            (u3.last_name.as_str(), u3.enabled, u3.version),
            ("Ithaca", false, 2)
        );
        assert!(matches!(s.users().get(4), Err(Error::NotFound { .. })));
        assert_eq!(
            s.users()
                .get_by_username("STRASSE", Some("acme"))
                .unwrap()
                .id,
            2
        );
        assert_eq!(
            s.users()
                .get_by_external_id("LDAP", "UID=STRASSE", None)
                .unwrap()
                .id,
            1
        );
        assert_eq!(ids(&s.users(), q("lastName = 'weiss'")), [1, 2]);
        assert_eq!(ids(&s.roles(), q("tenant = 'acme'")), [3]);

        let principal = s
            .authenticate("rs_6D5JDt7tKBaAyG9Ae07BafW03LPdbUn6quX4hv1pv9g")
            .unwrap();
        assert_eq!((principal.kind, principal.id), (EntityKind::User, 1));
        assert_eq!(principal.permissions, ["users:read", "users:write"]);
        let client = s
            .authenticate("rs_gbg6Y1qyYPcWObTSZ5q6-qHF_ah8ZFSgd3q45zG6eEY")
            .unwrap();
        assert_eq!((client.kind, client.id), (EntityKind::Client, 1));
        let code = totp_code("YTKA4T6YMFSYPANZC2D2BTQG4UCPP7WG", clock.now());
        s.login(
            &Credentials::new("straße@bücher.de", "correct horse battery").totp_code(code),
            DEFAULT_SESSION_TTL,
        )
        .unwrap();
        s.users()
            .verify_password(&Credentials::new("strasse", "acme password 1").tenant("acme"))
            .unwrap();
        s.client_login(
            "rc_0dHXZD5F8QYwQBCcAfj0lj",
            &Secret::new("WdrivpLbcsXv6vOJAyBPKEUEwXj2RsPTGINmkR3xaj8"),
            Some("10.1.2.3"),
            DEFAULT_SESSION_TTL,
        )
        .unwrap();
        let next = s
            .users()
            .create(NewUser::new("newcomer", "new@example.com", "New", "Comer"))
            .unwrap();
        assert_eq!(next.id, 5);
    }
    assert_eq!(format_version(&path), FORMAT_VERSION);
    let s = Store::open(&path, options()).unwrap();
    assert!(s.check().unwrap().ok);
}

/// The lines `format-v3.jsonl` holds: the fixture's export by the last
/// release of format 3 (see `tests/fixtures/README.md`).
fn format_3_export() -> String {
    std::fs::read_to_string(fixture("format-v3.jsonl")).unwrap()
}

/// The export of a store, as text.
fn exported(s: &Store) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export.jsonl");
    s.export_jsonl(&out).unwrap();
    std::fs::read_to_string(&out).unwrap()
}

#[test]
fn migrating_to_format_4_keeps_every_document_as_format_3_exported_it() {
    // Formats 5 (postings), 6 (run counts), 7 (the write-ahead log's
    // epoch), 8 (roles' `externalId`, absent on every migrated role, so
    // left out of their documents) and 9 (the low-cardinality fields'
    // ordered indexes deleted), 10 (the username and e-mail indexes
    // hashed) and 11 (shorter text keys) change no document either: the
    // file goes through format 4 to the current one and must still export
    // the same lines.
    assert_eq!(FORMAT_VERSION, 11);
    let (_dir, path) = copy_of("format-v3.redb");
    assert_eq!(format_version(&path), 3);
    let expected = format_3_export();
    assert_eq!(expected.lines().count(), 7);
    let clock = ManualClock::new(Timestamp::parse("2026-12-02T00:00:00Z").unwrap());
    let options = || options().with_clock(clock.clock());
    {
        let s = Store::open(&path, options()).unwrap();
        // Every document, hashes included, as format 3 exported it.
        assert_eq!(exported(&s), expected);
        // The values the fixture README documents, field by field.
        let u1 = s.users().get(1).unwrap();
        assert_eq!(
            (
                u1.id,
                u1.tenant.as_deref(),
                u1.created_at,
                u1.updated_at,
                u1.version
            ),
            (
                1,
                None,
                Timestamp::parse("2026-12-01T12:00:03Z").unwrap(),
                Timestamp::parse("2026-12-01T12:00:10Z").unwrap(),
                3
            )
        );
        let u2 = s.users().get(2).unwrap();
        assert_eq!(
            (
                u2.username.as_str(),
                u2.tenant.as_deref(),
                u2.roles.as_slice()
            ),
            ("STRASSE", Some("acme"), [3].as_slice())
        );
        let role = s.roles().get(3).unwrap();
        assert_eq!(
            (role.name.as_str(), role.tenant.as_deref(), role.version),
            ("owners", Some("acme"), 1)
        );
        let client = s.clients().get(1).unwrap();
        assert_eq!(
            (
                client.client_id.as_str(),
                client.description.as_deref(),
                client.version
            ),
            ("rc_0dHXZD5F8QYwQBCcAfj0lj", Some("Nightly sync"), 1)
        );
        assert_eq!(
            client.last_used_at,
            Some(Timestamp::parse("2026-12-01T12:00:44Z").unwrap())
        );
        // What no document shows was kept too: a recovery code of the
        // second factor works, once.
        let recovery = Credentials::new("straße", "correct horse battery").totp_code("ovrfc-4qeqz");
        s.login(&recovery, DEFAULT_SESSION_TTL).unwrap();
        assert!(matches!(
            s.login(&recovery, DEFAULT_SESSION_TTL),
            Err(Error::AuthenticationFailed)
        ));
    }
    assert_eq!(format_version(&path), FORMAT_VERSION);

    // The export of the migrated fixture, imported into a new store and
    // exported again, is the same text.
    let (_dir2, copy) = copy_of("format-v3.redb");
    let migrated = Store::open(&copy, options()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("v3.jsonl");
    migrated.export_jsonl(&file).unwrap();
    let fresh = Store::memory_with(options()).unwrap();
    assert_eq!(fresh.import_jsonl(&file).unwrap(), 7);
    assert_eq!(exported(&fresh), expected);
    assert!(fresh.check().unwrap().ok);
}

/// The users whose folded `field` text contains `needle`, by id, read
/// without any index: what the postings must find.
fn users_containing(s: &Store, needle: &str, field: fn(&rosterdb::User) -> &str) -> Vec<u64> {
    let mut all = s.users().list(&Query::all()).unwrap().items;
    all.retain(|u| rosterdb::fold(field(u)).contains(needle));
    all.iter().map(|u| u.id).collect()
}

#[test]
fn a_format_4_file_gains_postings_and_answers_as_before() {
    let (_dir, path) = copy_of("format-v4.redb");
    assert_eq!(format_version(&path), 4);
    {
        let s = Store::open(&path, options()).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        let users = s.users();
        assert_eq!(users.count(&Query::default()).unwrap(), 13);
        // What format 4 answered (see tests/fixtures/README.md).
        assert_eq!(ids(&users, q("email co '42'")), [3, 4]);
        assert_eq!(ids(&users, q("lastName co 'ller'")), [1, 2, 3, 6, 11]);
        assert_eq!(
            ids(&users, q("enabled = true and roles eq 1")),
            [1, 3, 6, 7, 9, 10]
        );
        assert_eq!(users.count(&q("enabled = true and roles eq 1")).unwrap(), 6);
        assert_eq!(ids(&users, q("tenant = 'acme'")), [13]);
        // Every needle, short or long, finds what reading every record finds.
        for needle in [
            "", "4", "42", "e", "ll", "ller", "ö", "ив", "@example", "zz",
        ] {
            let want = users_containing(&s, needle, |u| &u.email);
            let found = ids(&users, q(&format!("email co '{needle}'")));
            assert_eq!(found, want, "email co '{needle}'");
            let want = users_containing(&s, needle, |u| &u.last_name);
            let found = ids(&users, q(&format!("lastName co '{needle}'")));
            assert_eq!(found, want, "lastName co '{needle}'");
        }
        let plan = users.explain(&q("email co '42'")).unwrap();
        assert!(
            plan.contains("Index lookup idx.user.trigrams email trigram prefix '42'"),
            "{plan}"
        );
        // Writes after the migration keep the postings in step.
        let mut carl = common::user("carl42");
        carl.last_name = "Stoller".into();
        let carl = users.create(carl).unwrap();
        users.delete(4).unwrap();
        assert_eq!(ids(&users, q("email co '42'")), [3, carl.id]);
        assert_eq!(
            ids(&users, q("lastName co 'ller'")),
            [1, 2, 3, 6, 11, carl.id]
        );
        assert!(s.check().unwrap().ok);
    }
    assert_eq!(format_version(&path), FORMAT_VERSION);
    let s = Store::open(&path, options()).unwrap();
    assert!(s.check().unwrap().ok);
    assert_eq!(s.users().count(&q("email co '42'")).unwrap(), 2);
}

/// Opening a format-5 file counts the runs of its last-name index; offset
/// pages sorted by last name (which pass runs by those counts) answer as
/// format 5 did, and writes keep the counts in step (`check()`).
#[test]
fn a_format_5_file_gains_run_counts_and_answers_as_before() {
    let (_dir, path) = copy_of("format-v5.redb");
    assert_eq!(format_version(&path), 5);
    // What format 5 answered (see tests/fixtures/README.md).
    let by_name = [2, 3, 7, 9, 14, 16, 6, 13, 1, 8, 15, 4, 11, 10, 12, 17];
    let mut by_name_desc = Vec::new();
    for run in [
        &[17][..],
        &[12],
        &[10],
        &[4, 11],
        &[1, 8, 15],
        &[6, 13],
        &[2, 3, 7, 9, 14, 16],
    ] {
        by_name_desc.extend_from_slice(run);
    }
    {
        let s = Store::open(&path, options()).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        let users = s.users();
        assert_eq!(users.count(&Query::default()).unwrap(), 16);
        let all = Query::all().sort("lastName").page(1, 100);
        assert_eq!(ids(&users, all), by_name);
        for (sort, want) in [
            ("lastName", &by_name[..]),
            ("lastName:desc", &by_name_desc[..]),
        ] {
            for offset in 0..=17_usize {
                let end = want.len().min(offset + 3);
                let page = Query::all().sort(sort).offset(offset as u64, 3);
                assert_eq!(
                    ids(&users, page),
                    want[want.len().min(offset)..end],
                    "{sort} at {offset}"
                );
            }
        }
        // Writes after the migration keep the counts in step.
        let ops = serde_json::json!([{"op": "replace", "path": "/lastName", "value": "Keller"}]);
        users.patch(10, &ops, None).unwrap();
        users.delete(2).unwrap();
        let mut ann = common::user("ann");
        ann.last_name = "Miller".into();
        let ann = users.create(ann).unwrap();
        // Keller 3, 7, 9, 10, 14, 16; MILLER 6, 13; Miller 1, 8, 15, ann; …
        let page = Query::all().sort("lastName").offset(5, 4);
        assert_eq!(ids(&users, page), [16, 6, 13, 1]);
        let page = Query::all().sort("lastName").offset(9, 3);
        assert_eq!(ids(&users, page), [8, 15, ann.id]);
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
    }
    assert_eq!(format_version(&path), FORMAT_VERSION);
    let s = Store::open(&path, options()).unwrap();
    assert!(s.check().unwrap().ok);
}

/// Format 7 adds only the write-ahead log's epoch to the meta table: a
/// format-6 file (the format-5 fixture migrated, user 19 `yara` created,
/// user 2 patched; see tests/fixtures/README.md) opens with every record,
/// index and count as it was, takes writes, and gets its log beside it.
#[test]
fn a_format_6_file_opens_at_format_7_with_its_log() {
    let (dir, path) = copy_of("format-v6.redb");
    assert_eq!(format_version(&path), 6);
    {
        let s = Store::open(&path, options()).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        let users = s.users();
        assert_eq!(users.count(&Query::default()).unwrap(), 17);
        let yara = users.get(19).unwrap();
        assert_eq!(
            (yara.username.as_str(), yara.last_name.as_str()),
            ("yara", "Ng")
        );
        assert_eq!(users.get(2).unwrap().attributes["city"], "Graz");
        assert_eq!(s.changes(0, 100).unwrap().len(), 27);
        let next = users.create(common::user("newcomer")).unwrap();
        assert_eq!(next.id, 20);
        assert!(s.check().unwrap().ok);
    }
    assert_eq!(format_version(&path), FORMAT_VERSION);
    assert!(dir.path().join("format-v6.redb-wal").exists());
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(s.users().get(20).unwrap().username, "newcomer");
    assert!(s.check().unwrap().ok);
}

/// Format 8 gives role records an optional `externalId`: a format-7 file
/// (see tests/fixtures/README.md) opens with every role as it was, the
/// field absent from their documents, and takes external ids afterwards.
#[test]
fn a_format_7_file_opens_at_format_8_with_its_roles_unchanged() {
    let (_dir, path) = copy_of("format-v7.redb");
    assert_eq!(format_version(&path), 7);
    let clock = ManualClock::new(Timestamp::parse("2026-12-03T00:00:00Z").unwrap());
    {
        let s = Store::open(&path, options().with_clock(clock.clock())).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        let roles = s.roles();
        assert_eq!(roles.count(&Query::default()).unwrap(), 3);
        assert_eq!(ids(&roles, q("tenant eq 'acme'")), [3]);
        let admins = roles.get(1).unwrap();
        assert_eq!(
            (
                admins.name.as_str(),
                admins.description.as_deref(),
                admins.permissions.clone(),
                admins.external_id.as_deref(),
            ),
            (
                "admins",
                Some("Administrators"),
                vec!["users:read".to_owned(), "users:write".to_owned()],
                None
            )
        );
        let readers = roles.get(2).unwrap();
        assert_eq!(
            (readers.description.as_deref(), readers.version),
            (Some("Read-only"), 2)
        );
        assert_eq!(
            readers.created_at,
            Timestamp::parse("2026-12-02T12:00:01Z").unwrap()
        );
        let owners = roles.get(3).unwrap();
        assert_eq!(
            (owners.tenant.as_deref(), owners.permissions.clone()),
            (Some("acme"), vec!["*".to_owned()])
        );
        assert!(matches!(roles.get(4), Err(Error::NotFound { .. })));
        // An absent field is left out of the document (docs/reference/documents.md).
        let doc = serde_json::to_value(&admins).unwrap();
        assert!(doc.get("externalId").is_none(), "{doc}");
        assert_eq!(roles.count(&q("externalId pr")).unwrap(), 0);
        assert_eq!(s.users().get(1).unwrap().roles, [1, 2]);
        assert_eq!(s.clients().get(1).unwrap().roles, [2]);
        assert_eq!(s.changes(0, 100).unwrap().len(), 9);
        // The new field is written like any other, and ids go on.
        let merged = roles
            .merge(2, &serde_json::json!({"externalId": "grp-7"}), Some(2))
            .unwrap();
        assert_eq!(
            (merged.external_id.as_deref(), merged.version),
            (Some("grp-7"), 3)
        );
        assert_eq!(ids(&roles, q("externalId eq 'grp-7'")), [2]);
        assert_eq!(roles.create(NewRole::new("new")).unwrap().id, 5);
        assert!(s.check().unwrap().ok);
    }
    assert_eq!(format_version(&path), FORMAT_VERSION);
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(
        s.roles().get(2).unwrap().external_id.as_deref(),
        Some("grp-7")
    );
    assert!(s.check().unwrap().ok);
}

/// A format-7 store file whose last commits are only in its log (copied
/// with its `-wal` while open; see tests/fixtures/README.md): the log
/// holds format-7 role records, so it is replayed before the file is
/// migrated, and every role reads whole afterwards.
#[test]
fn a_format_7_log_is_replayed_before_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("format-v7-log.redb");
    std::fs::copy(fixture("format-v7-log.redb"), &path).unwrap();
    std::fs::copy(
        fixture("format-v7-log.redb-wal"),
        dir.path().join("format-v7-log.redb-wal"),
    )
    .unwrap();
    {
        let s = Store::open(&path, options()).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        let roles = s.roles();
        assert_eq!(
            roles.get(1).unwrap().permissions,
            ["users:read", "users:write"]
        );
        let auditors = roles.get(3).unwrap();
        assert_eq!(
            (
                auditors.name.as_str(),
                auditors.description.as_deref(),
                auditors.external_id.as_deref()
            ),
            ("auditors", Some("Audit"), None)
        );
        assert_eq!(roles.count(&Query::default()).unwrap(), 3);
        assert_eq!(s.users().get(2).unwrap().roles, [3]);
        assert_eq!(s.changes(0, 100).unwrap().len(), 6);
    }
    assert_eq!(format_version(&path), FORMAT_VERSION);
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(s.roles().get(3).unwrap().name, "auditors");
    assert!(s.check().unwrap().ok);
}

/// The whole unique indexes format 10 keeps hashed (decision 0029): before, then after.
const HASHED_IN_10: [(&str, &str); 2] = [
    ("idx.user.username", "idx.user.username.hash"),
    ("idx.user.email", "idx.user.email.hash"),
];

/// The ordered indexes format 9 deletes (decision 0026).
const RETIRED_IN_9: [&str; 7] = [
    "idx.user.tenant",
    "idx.user.enabled",
    "idx.user.roles",
    "idx.role.tenant",
    "idx.client.tenant",
    "idx.client.enabled",
    "idx.client.roles",
];

/// The format version and the names of the tables of the store file at
/// `path` (opened for writing, so that redb may repair a file copied
/// while open; only a copy should be given).
fn version_and_tables(path: &Path) -> (u64, Vec<String>) {
    let db = Database::open(path).unwrap();
    let read = db.begin_read().unwrap();
    let version = read
        .open_table(META)
        .unwrap()
        .get("format_version")
        .unwrap()
        .unwrap()
        .value();
    let names = read
        .list_tables()
        .unwrap()
        .map(|t| redb::TableHandle::name(&t).to_owned())
        .collect();
    (version, names)
}

/// The format version and the tables of the store file at `path`, read
/// from a scratch copy in `dir` (as [`version_and_tables`] reads them), so
/// that `path` itself opens unmigrated afterwards.
fn scratch_view(dir: &Path, path: &Path) -> (u64, Vec<String>) {
    let scratch = dir.join("scratch.redb");
    std::fs::copy(path, &scratch).unwrap();
    version_and_tables(&scratch)
}

/// A copy of the fixture `name` and its log (`name-wal`) in a new
/// directory, with the format version and the tables of a scratch copy of
/// the store file (as [`version_and_tables`] reads them).
fn copy_with_log(name: &str) -> (tempfile::TempDir, PathBuf, (u64, Vec<String>)) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::copy(fixture(name), &path).unwrap();
    let log = format!("{name}-wal");
    std::fs::copy(fixture(&log), dir.path().join(&log)).unwrap();
    let seen = scratch_view(dir.path(), &path);
    (dir, path, seen)
}

/// Format 9 keeps tenant, enabled and roles as postings only. A format-8
/// store whose last commits are only in its log (see
/// tests/fixtures/README.md), some of which changed those fields: the log
/// is replayed (into the ordered indexes format 8 had), then the migration
/// deletes those indexes, and every query on the fields answers from the
/// postings, which the replay kept up to date.
#[test]
fn a_format_8_log_is_replayed_and_the_ordered_indexes_of_posting_fields_go() {
    let (_dir, path, (version, before)) = copy_with_log("format-v8-log.redb");
    assert_eq!(version, 8);
    for name in RETIRED_IN_9 {
        assert!(before.iter().any(|t| t == name), "{name} in {before:?}");
    }
    {
        let s = Store::open(&path, options()).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        let users = s.users();
        assert_eq!(users.count(&Query::default()).unwrap(), 4);
        // User 4 and user 1's change are only in the log.
        assert_eq!(ids(&users, q("enabled eq false")), [1, 3]);
        assert_eq!(ids(&users, q("roles eq 2")), [1, 4]);
        assert_eq!(ids(&users, q("roles eq 1")), [1]);
        assert_eq!(ids(&users, q("tenant eq 'acme'")), [2]);
        assert_eq!(users.count(&q("enabled eq true")).unwrap(), 2);
        let sorted = |sort: &str| -> Vec<u64> {
            let page = users.list(&Query::all().sort(sort)).unwrap();
            page.items.iter().map(|u| u.id).collect()
        };
        assert_eq!(sorted("enabled"), [1, 3, 2, 4]);
        assert_eq!(sorted("enabled:desc"), [2, 4, 1, 3]);
        let client = s.clients().get(1).unwrap();
        assert_eq!(
            (
                client.tenant.as_deref(),
                client.enabled,
                client.roles.as_slice()
            ),
            (Some("acme"), false, [3].as_slice())
        );
        assert_eq!(s.clients().count(&q("enabled eq false")).unwrap(), 1);
        assert_eq!(ids(&s.roles(), q("tenant eq 'acme'")), [3]);
        // A role's holders are read from the postings.
        assert!(matches!(
            s.roles().delete(2, false),
            Err(Error::InUse { .. })
        ));
        assert_eq!(s.changes(0, 100).unwrap().len(), 9);
        let next = users
            .create(NewUser {
                enabled: false,
                roles: vec![2],
                ..NewUser::new("erin", "erin@example.com", "Erin", "Berg")
            })
            .unwrap();
        assert_eq!(next.id, 5);
        assert_eq!(ids(&users, q("enabled eq false and roles eq 2")), [1, 5]);
        assert!(s.check().unwrap().ok);
    }
    let (version, after) = version_and_tables(&path);
    assert_eq!(version, FORMAT_VERSION);
    for name in RETIRED_IN_9 {
        assert!(!after.iter().any(|t| t == name), "{name} in {after:?}");
    }
    // The log's user (4) went into the whole username and e-mail
    // indexes, which format 10 then hashed.
    for (whole, hashed) in HASHED_IN_10 {
        assert!(before.iter().any(|t| t == whole), "{whole} in {before:?}");
        assert!(!after.iter().any(|t| t == whole), "{whole} in {after:?}");
        assert!(after.iter().any(|t| t == hashed), "{hashed} in {after:?}");
    }
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(ids(&s.users(), q("roles eq 2")), [1, 4, 5]);
    let users = s.users();
    assert_eq!(users.get_by_email("DAVE@example.com", None).unwrap().id, 4);
    assert_eq!(users.get_by_username("Erin", None).unwrap().id, 5);
    assert_eq!(users.get_by_username("bob", Some("acme")).unwrap().id, 2);
    assert!(matches!(
        users.get_by_username("bob", None),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        users.create(NewUser::new("DAVE", "d2@example.com", "D", "O")),
        Err(Error::Conflict { .. })
    ));
    assert!(s.check().unwrap().ok);
}

/// A closed format-8 store (see tests/fixtures/README.md) opens at
/// format 9 without the ordered indexes of tenant, enabled and roles, and
/// answers from their postings as before.
#[test]
fn a_format_8_file_opens_at_format_9_without_the_retired_indexes() {
    let (dir, path) = copy_of("format-v8.redb");
    let (version, before) = scratch_view(dir.path(), &path);
    assert_eq!(version, 8);
    assert!(
        RETIRED_IN_9
            .iter()
            .all(|name| before.iter().any(|t| t == name))
    );
    {
        let s = Store::open(&path, options()).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        let users = s.users();
        assert_eq!(ids(&users, q("enabled eq false")), [1, 3]);
        assert_eq!(ids(&users, q("roles eq 2")), [1, 4]);
        assert_eq!(ids(&users, q("tenant eq 'acme'")), [2]);
        let page = users.list(&Query::all().sort("enabled")).unwrap();
        let order: Vec<u64> = page.items.iter().map(|u| u.id).collect();
        assert_eq!(order, [1, 3, 2, 4]);
        assert_eq!(s.clients().count(&q("roles eq 3")).unwrap(), 1);
    }
    let (version, after) = version_and_tables(&path);
    assert_eq!(version, FORMAT_VERSION);
    assert!(
        RETIRED_IN_9
            .iter()
            .all(|name| !after.iter().any(|t| t == name))
    );
}

/// The lookups every format-9 fixture answers once at format 10 (see
/// tests/fixtures/README.md): by username and e-mail, caselessly, per
/// tenant, through the hashed indexes.
fn format_9_lookups(s: &Store) {
    let users = s.users();
    let by_email =
        |email: &str, tenant: Option<&str>| users.get_by_email(email, tenant).map(|u| u.id);
    let by_name =
        |name: &str, tenant: Option<&str>| users.get_by_username(name, tenant).map(|u| u.id);
    assert_eq!(by_email("ALICE.MILLER@example.com", None).unwrap(), 1);
    // Alice's first e-mail, changed in the log, is no one's.
    assert!(matches!(
        by_email("alice@example.com", None),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(by_name("Alice", None).unwrap(), 1);
    assert_eq!(by_name("bob", Some("acme")).unwrap(), 2);
    assert!(matches!(by_name("bob", None), Err(Error::NotFound { .. })));
    // NFKC_Casefold: `Weiß` is `weiss`, `STRASSE` is `strasse`.
    assert_eq!(by_email("WEISS@example.com", None).unwrap(), 3);
    assert_eq!(by_name("straße", None).unwrap(), 3);
    assert_eq!(by_name("DAVE", None).unwrap(), 4);
    assert_eq!(by_email("émilie@EXAMPLE.com", Some("acme")).unwrap(), 5);
    assert_eq!(by_name("ÉMILIE", Some("acme")).unwrap(), 5);
    assert_eq!(users.count(&Query::default()).unwrap(), 5);
    // Taken keys are taken; the old e-mail is free again.
    assert!(matches!(
        users.create(NewUser::new("Straße", "x@example.com", "X", "Y")),
        Err(Error::Conflict { .. })
    ));
    assert!(matches!(
        users.create(NewUser::new("x", "weiss@EXAMPLE.COM", "X", "Y")),
        Err(Error::Conflict { .. })
    ));
    let erin = users
        .create(NewUser::new("erin", "alice@example.com", "Erin", "Berg"))
        .unwrap();
    assert_eq!(erin.id, 6);
    assert_eq!(by_email("Alice@Example.com", None).unwrap(), 6);
}

/// Format 10 keeps the username and e-mail indexes hashed (decision
/// 0029). A format-9 store whose last commits are only in its log (see
/// tests/fixtures/README.md), which wrote the whole indexes: the log is
/// replayed into them, then the migration hashes them.
#[test]
fn a_format_9_log_is_replayed_then_the_username_and_email_indexes_hashed() {
    let (_dir, path, (version, before)) = copy_with_log("format-v9-log.redb");
    assert_eq!(version, 9);
    for (whole, hashed) in HASHED_IN_10 {
        assert!(before.iter().any(|t| t == whole), "{whole} in {before:?}");
        assert!(
            !before.iter().any(|t| t == hashed),
            "{hashed} in {before:?}"
        );
    }
    {
        let s = Store::open(&path, options()).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        // Users 4 and 5 and user 1's new e-mail are only in the log.
        // Eight entries replayed (tests/fixtures/README.md), then the
        // lookups' own create of user 6.
        format_9_lookups(&s);
        assert_eq!(s.changes(0, 100).unwrap().len(), 9);
        assert!(s.check().unwrap().ok);
    }
    let (version, after) = version_and_tables(&path);
    assert_eq!(version, FORMAT_VERSION);
    for (whole, hashed) in HASHED_IN_10 {
        assert!(!after.iter().any(|t| t == whole), "{whole} in {after:?}");
        assert!(after.iter().any(|t| t == hashed), "{hashed} in {after:?}");
    }
    let s = Store::open(&path, options()).unwrap();
    assert_eq!(
        s.users()
            .get_by_email("alice@example.com", None)
            .unwrap()
            .id,
        6
    );
    assert!(s.check().unwrap().ok);
}

/// A closed format-9 store (see tests/fixtures/README.md) opens at
/// format 10 with its username and e-mail indexes hashed.
#[test]
fn a_format_9_file_opens_at_format_10_with_hashed_indexes() {
    let (dir, path) = copy_of("format-v9.redb");
    let (version, _) = scratch_view(dir.path(), &path);
    assert_eq!(version, 9);
    {
        let s = Store::open(&path, options()).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        format_9_lookups(&s);
    }
    let (version, after) = version_and_tables(&path);
    assert_eq!(version, FORMAT_VERSION);
    for (whole, hashed) in HASHED_IN_10 {
        assert!(!after.iter().any(|t| t == whole), "{whole} in {after:?}");
        assert!(after.iter().any(|t| t == hashed), "{hashed} in {after:?}");
    }
}

/// The lookups and sorts every format-10 fixture answers once at format
/// 11 (see tests/fixtures/README.md): last names that fold alike (`NG`,
/// `ng`; `Weiss`, `weiß`) sort folded then exact, and `check()` finds the
/// indexes consistent with the records.
fn format_10_answers(s: &Store) {
    let users = s.users();
    assert_eq!(users.count(&Query::default()).unwrap(), 5);
    let sorted = |sort: &str| -> Vec<u64> {
        let page = users.list(&Query::all().sort(sort)).unwrap();
        page.items.iter().map(|u| u.id).collect()
    };
    // ng: NG (3), ng (2); weiss: Weiss (5), weiß (4); then ñg (1).
    assert_eq!(sorted("lastName"), [3, 2, 5, 4, 1]);
    assert_eq!(sorted("lastName:desc"), [1, 4, 5, 2, 3]);
    assert_eq!(sorted("username"), [1, 2, 3, 4, 5]);
    assert_eq!(sorted("email"), [1, 2, 3, 4, 5]);
    assert_eq!(ids(&users, q("lastName eq 'NG'")), [2, 3]);
    assert_eq!(ids(&users, q("lastName eq 'WEISS'")), [4, 5]);
    assert_eq!(ids(&users, q("lastName sw 'ñ'")), [1]);
    assert_eq!(ids(&users, q("tenant eq 'acme'")), [2]);
    assert_eq!(ids(&s.roles(), q("tenant eq 'acme'")), [2]);
    let roles: Vec<String> = s
        .roles()
        .list(&Query::all().sort("name"))
        .unwrap()
        .items
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(roles, ["Admins", "owners"]);
    // A cursor walks the run of equal folded names a page at a time.
    let first = users
        .list(&Query::all().sort("lastName").page(1, 2))
        .unwrap();
    let ids_of = |page: &rosterdb::Page<rosterdb::User>| -> Vec<u64> {
        page.items.iter().map(|u| u.id).collect()
    };
    assert_eq!(ids_of(&first), [3, 2]);
    let token = first.next_cursor.clone().unwrap();
    let next = users.list(&Query::all().cursor(&token)).unwrap();
    assert_eq!(ids_of(&next), [5, 4]);
    assert_eq!(
        users
            .get_by_email("BOB@example.com", Some("acme"))
            .unwrap()
            .id,
        2
    );
    assert!(s.check().unwrap().ok);
}

/// The keys of `table` in the store file at `path`, in key order.
fn index_keys(path: &Path, table: &str) -> Vec<Vec<u8>> {
    let db = Database::open(path).unwrap();
    let read = db.begin_read().unwrap();
    let def: TableDefinition<&[u8], ()> = TableDefinition::new(table);
    let t = read.open_table(def).unwrap();
    t.iter()
        .unwrap()
        .map(|e| e.unwrap().0.value().to_vec())
        .collect()
}

/// The e-mail index of a format-11 file: alice's address is its own
/// folded form (tag 2, nothing after), Bob's is not (tag 1, then the
/// exact form).
fn assert_format_11_email_keys(path: &Path) {
    let keys = index_keys(path, "idx.user.email.order");
    let key = |parts: &[&[u8]], id: u64| -> Vec<u8> {
        let mut k: Vec<u8> = parts.concat();
        k.extend_from_slice(&id.to_be_bytes());
        k
    };
    assert_eq!(keys.len(), 5);
    assert_eq!(keys[0], key(&[b"\x01alice@example.com\0\x02"], 1));
    assert_eq!(
        keys[1],
        key(&[b"\x01bob@example.com\0\x01Bob@Example.com\0"], 2)
    );
}

/// Format 11 writes a text's exact form only when it is not its folded
/// form (decision 0033). A format-10 store whose last commits are only in
/// its log (see tests/fixtures/README.md), which wrote format-10 keys into
/// the ordered indexes and the tenant postings: the log is replayed into
/// them, then the migration writes those tables again from the records.
#[test]
fn a_format_10_log_is_replayed_then_the_text_keys_written_again() {
    let (_dir, path, (version, before)) = copy_with_log("format-v10-log.redb");
    assert_eq!(version, 10);
    assert!(before.iter().any(|t| t == "idx.user.last_name"));
    {
        let s = Store::open(&path, options()).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        // Users 4 and 5 and user 1's new last name are only in the log.
        format_10_answers(&s);
        assert_eq!(s.changes(0, 100).unwrap().len(), 8);
    }
    assert_eq!(version_and_tables(&path).0, FORMAT_VERSION);
    assert_format_11_email_keys(&path);
    let s = Store::open(&path, options()).unwrap();
    format_10_answers(&s);
}

/// A closed format-10 store (see tests/fixtures/README.md) opens at
/// format 11 with its text keys in the shorter layout, answering and
/// sorting as before.
#[test]
fn a_format_10_file_opens_at_format_11_with_shorter_text_keys() {
    let (dir, path) = copy_of("format-v10.redb");
    let (version, _) = scratch_view(dir.path(), &path);
    assert_eq!(version, 10);
    // Format 10 held both forms of alice's address whole.
    let scratch = dir.path().join("scratch.redb");
    let old = index_keys(&scratch, "idx.user.email.order");
    assert!(old[0].starts_with(b"\x01alice@example.com\0alice@example.com\0"));
    {
        let s = Store::open(&path, options()).unwrap();
        let report = s.check().unwrap();
        assert!(report.ok, "{:?}", report.problems);
        format_10_answers(&s);
    }
    assert_eq!(version_and_tables(&path).0, FORMAT_VERSION);
    assert_format_11_email_keys(&path);
}
