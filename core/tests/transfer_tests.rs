//! export_jsonl / import_jsonl round trips, check() and compact()
//! (docs/reference/changes-and-export.md).

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

use common::{options, role, user};
use redb::{Database, ReadableTable, TableDefinition};
use rosterdb::{Error, ExternalId, NewClient, NewUser, Query, Secret, Store};
use serde_json::{Value, json};

fn populated(path: &std::path::Path) -> Store {
    let s = Store::open(path, options()).unwrap();
    let staff = s.roles().create(role("staff", None)).unwrap();
    let acme = s.scoped("acme").unwrap();
    let ops = acme.roles().create(role("ops", None)).unwrap();
    s.users()
        .create(NewUser {
            password: Some(Secret::new("correct horse battery")),
            roles: vec![staff.id],
            external_ids: vec![ExternalId::new("github", "1")],
            attributes: json!({"dept": "R&D", "n": [1, 2.5, null]})
                .as_object()
                .cloned()
                .unwrap(),
            ..user("ann")
        })
        .unwrap();
    let gone = s.users().create(user("gone")).unwrap();
    s.users().delete(gone.id).unwrap();
    acme.users()
        .create(NewUser {
            roles: vec![ops.id],
            ..user("bob")
        })
        .unwrap();
    s.users()
        .merge(1, &json!({"nickname": "Annie"}), None)
        .unwrap();
    acme.clients()
        .create(NewClient {
            roles: vec![ops.id],
            ..NewClient::new("svc")
        })
        .unwrap();
    s
}

#[test]
fn export_import_reexport_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    let s = populated(&dir.path().join("a.redb"));
    let first = dir.path().join("first.jsonl");
    assert_eq!(s.export_jsonl(&first).unwrap(), 5);
    let text = std::fs::read_to_string(&first).unwrap();
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["role", "role", "user", "user", "client"]);
    assert!(text.contains("\"passwordHash\":\"$argon2id$"));
    assert!(text.contains("\"secretHash\":\"$argon2id$"));
    assert!(!text.contains("correct horse"));

    let t = Store::open(dir.path().join("b.redb"), options()).unwrap();
    assert_eq!(t.import_jsonl(&first).unwrap(), 5);
    let second = dir.path().join("second.jsonl");
    t.export_jsonl(&second).unwrap();
    assert_eq!(std::fs::read_to_string(&second).unwrap(), text);
    // Ids, versions and timestamps survive; later ids do not collide.
    assert_eq!(t.users().get(1).unwrap(), s.users().get(1).unwrap());
    assert_eq!(t.users().create(user("cid")).unwrap().id, 4);
    assert_eq!(
        t.users().get_by_username("bob", Some("acme")).unwrap().id,
        3
    );
    assert!(t.check().unwrap().ok);
    // Import writes one create entry per record.
    let ops: Vec<_> = t
        .changes(0, 100)
        .unwrap()
        .into_iter()
        .map(|c| c.op)
        .collect();
    assert_eq!(ops.len(), 6);
    assert!(ops.iter().all(|op| *op == rosterdb::ChangeOp::Create));
}

#[test]
fn import_needs_an_empty_store_and_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = populated(&dir.path().join("a.redb"));
    let file = dir.path().join("x.jsonl");
    s.export_jsonl(&file).unwrap();
    assert!(matches!(s.import_jsonl(&file), Err(Error::Conflict { .. })));

    let mut lines: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut bad: Value = serde_json::from_str(&lines[3]).unwrap();
    bad["doc"]["email"] = json!("not an email");
    lines[3] = bad.to_string();
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(&broken, lines.join("\n")).unwrap();
    let t = Store::memory_with(options()).unwrap();
    match t.import_jsonl(&broken) {
        Err(Error::Validation { errors }) => {
            assert_eq!(errors[0].field, "email");
            assert!(errors[0].message.starts_with("line 4:"), "{errors:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t.users().count(&Query::all()).unwrap(), 0);
    assert_eq!(t.roles().count(&Query::all()).unwrap(), 0);
    assert!(t.changes(0, 10).unwrap().is_empty());
    // A file naming the same id twice is refused as a whole.
    let role = &lines[0];
    std::fs::write(&broken, format!("{role}\n{role}\n")).unwrap();
    assert_eq!(
        t.import_jsonl(&broken),
        Err(Error::Conflict {
            entity: rosterdb::EntityKind::Role,
            field: "id".into()
        })
    );
    assert_eq!(t.roles().count(&Query::all()).unwrap(), 0);
    std::fs::write(&broken, "{\"kind\": \"user\"\n").unwrap();
    assert!(matches!(
        t.import_jsonl(&broken),
        Err(Error::Validation { .. })
    ));
    std::fs::write(&broken, "{\"kind\": \"alien\", \"doc\": {}}\n").unwrap();
    assert!(matches!(
        t.import_jsonl(&broken),
        Err(Error::Validation { .. })
    ));
    assert!(matches!(
        t.import_jsonl(dir.path().join("missing.jsonl")),
        Err(Error::Storage { .. })
    ));
}

/// A writer that takes `room` bytes, then fails.
struct Full {
    room: usize,
}

impl std::io::Write for Full {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::other("disk full"));
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A reader that gives `text`, then fails.
struct Broken<'a> {
    text: &'a [u8],
}

impl std::io::Read for Broken<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.text.is_empty() {
            return Err(std::io::Error::other("connection reset"));
        }
        let n = buf.len().min(self.text.len());
        buf[..n].copy_from_slice(&self.text[..n]);
        self.text = &self.text[n..];
        Ok(n)
    }
}

#[test]
fn export_to_a_writer_and_import_from_a_reader_match_the_file_forms() {
    let dir = tempfile::tempdir().unwrap();
    let s = populated(&dir.path().join("a.redb"));
    let file = dir.path().join("x.jsonl");
    assert_eq!(s.export_jsonl(&file).unwrap(), 5);
    let mut streamed = Vec::new();
    assert_eq!(s.export_jsonl_to(&mut streamed).unwrap(), 5);
    assert_eq!(streamed, std::fs::read(&file).unwrap());

    let t = Store::memory_with(options()).unwrap();
    assert_eq!(t.import_jsonl_from(streamed.as_slice()).unwrap(), 5);
    assert_eq!(t.users().get(1).unwrap(), s.users().get(1).unwrap());
    assert!(matches!(
        t.import_jsonl_from(streamed.as_slice()),
        Err(Error::Conflict { .. })
    ));

    // A failing writer or reader is `Storage` (naming no file), and a
    // failed read imports nothing.
    assert!(matches!(
        s.export_jsonl_to(Full { room: 100 }),
        Err(Error::Storage { path: None, .. })
    ));
    let u = Store::memory_with(options()).unwrap();
    let reader = std::io::BufReader::new(Broken { text: &streamed });
    assert!(matches!(
        u.import_jsonl_from(reader),
        Err(Error::Storage { path: None, .. })
    ));
    assert_eq!(u.roles().count(&Query::all()).unwrap(), 0);
    match u.import_jsonl_from("{\"kind\": \"user\"}\n".as_bytes()) {
        Err(Error::Validation { errors }) => {
            assert!(errors[0].message.starts_with("line 1:"), "{errors:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn check_finds_damaged_indexes_and_compact_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.redb");
    let mut s = populated(&path);
    let report = s.check().unwrap();
    assert!(report.ok, "{:?}", report.problems);
    assert!(report.problems.is_empty());
    s.compact().unwrap();
    assert!(s.check().unwrap().ok);
    assert_eq!(s.users().get_by_username("ann", None).unwrap().id, 1);
    drop(s);
    // Damage: remove one index entry and add a stray one, behind the store's back.
    {
        let db = Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            // The username index is hashed (format 10): (hash, id) → ().
            let mut t = txn
                .open_table(TableDefinition::<(u64, u64), ()>::new(
                    "idx.user.username.hash",
                ))
                .unwrap();
            let key = t.iter().unwrap().next().unwrap().unwrap().0.value();
            t.remove(key).unwrap();
            let mut e = txn
                .open_table(TableDefinition::<&[u8], ()>::new("idx.user.created_at"))
                .unwrap();
            // createdAt 1970-01-01T00:00:00Z (sign-flipped), id 99.
            let stray = [1u8, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 99];
            e.insert(stray.as_slice(), ()).unwrap();
        }
        txn.commit().unwrap();
    }
    let s = Store::open(&path, options()).unwrap();
    let report = s.check().unwrap();
    assert!(!report.ok);
    assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("idx.user.username") && p.contains("has no entry"))
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("idx.user.created_at") && p.contains("stray") && p.contains("99"))
    );
}
