//! Files of every released format open, migrate and pass `check()` (SPEC §11).

mod common;

use std::path::{Path, PathBuf};

use common::options;
use redb::{Database, ReadableDatabase, TableDefinition};
use rosterdb::{Credentials, DEFAULT_SESSION_TTL, FORMAT_VERSION, Query, Secret, Store};

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

#[test]
fn the_fixtures_are_untouched_by_the_tests() {
    assert_eq!(format_version(&fixture("format-v1.redb")), 1);
    assert_eq!(format_version(&fixture("format-v2.redb")), 2);
    assert_eq!(format_version(&fixture("format-v2-fold-clash.redb")), 2);
}
