//! `export` and `import` (with their progress bars' counting), `check`
//! and `compact`.

// A test fails by panicking: unwraps and indexing are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use std::fmt::Write;

use common::Dir;
use serde_json::json;

/// An export file of one role and `n` users, one in ten holding the role.
fn export_of(n: u64) -> String {
    let at = "2026-01-01T00:00:00.000Z";
    let mut text = json!({"kind": "role", "doc": {"id": 1, "name": "staff", "permissions": [],
        "createdAt": at, "updatedAt": at, "version": 1}})
    .to_string();
    text.push('\n');
    for i in 1..=n {
        let roles = if i % 10 == 0 { json!([1]) } else { json!([]) };
        let line = json!({"kind": "user", "doc": {"id": i, "username": format!("user{i}"),
            "email": format!("user{i}@example.com"), "firstName": "First",
            "lastName": format!("Last{}", i % 977), "enabled": i % 3 != 0, "roles": roles,
            "externalIds": [], "attributes": {"n": i}, "createdAt": at, "updatedAt": at,
            "hasPassword": false, "totpEnabled": false, "version": 1}});
        writeln!(text, "{line}").unwrap();
    }
    text
}

/// Import a generated file, export it, import that into a new store and
/// export again: both exports are the same, and the counts hold.
fn round_trip(n: u64) {
    let d = Dir::new();
    std::fs::write(d.path("in.jsonl"), export_of(n)).unwrap();
    let imported = d.json(&["import", "in.jsonl"]);
    assert_eq!(imported["imported"], n + 1);
    let exported = d.json(&["export", "first.jsonl"]);
    assert_eq!(exported["exported"], n + 1);
    let copy = d.raw(&["copy.redb", "import", "first.jsonl"]).ok().json();
    assert_eq!(copy["imported"], n + 1);
    d.raw(&["copy.redb", "export", "second.jsonl"]).ok();
    let first = std::fs::read(d.path("first.jsonl")).unwrap();
    assert!(first == std::fs::read(d.path("second.jsonl")).unwrap());
    let info = d.raw(&["copy.redb", "info"]).ok().json();
    assert_eq!(
        (info["users"].clone(), info["roles"].clone()),
        (json!(n), json!(1))
    );
    let count = d
        .raw(&["copy.redb", "users", "list", "--count", "-q", "roles=1"])
        .ok()
        .json();
    assert_eq!(count["count"], n / 10);
    assert_eq!(d.raw(&["copy.redb", "check"]).ok().json()["ok"], true);
}

#[test]
fn round_trip_of_a_few_thousand_users() {
    round_trip(3_000);
}

/// The round trip of a 100k-user store (some 30 s in a debug
/// build; run with `--release -- --ignored`).
#[test]
#[ignore]
fn round_trip_of_100k_users() {
    round_trip(100_000);
}

#[test]
fn a_round_trip_keeps_logins_hashes_and_secrets_out_of_documents() {
    let d = Dir::sample();
    let text = d.run(&["export", "-"]).ok().stdout;
    // The export holds hashes (never plaintext); documents hold neither.
    assert!(text.contains("\"passwordHash\":\"$argon2id$"));
    assert!(text.contains("\"secretHash\":\"$argon2id$"));
    assert!(!text.contains("correct horse"));
    let copy = Dir::new();
    let run = copy
        .run_with_stdin(&["import", "-"], Some(text.as_bytes()))
        .ok();
    assert_eq!(run.json()["imported"], 4);
    assert_eq!(copy.snapshot(), d.snapshot());
    // The imported password still logs in.
    let store = rosterdb::Store::open(copy.path("s.redb"), rosterdb::Options::default()).unwrap();
    let credentials =
        rosterdb::Credentials::new("mary", rosterdb::Secret::new("correct horse battery"));
    store.users().verify_password(&credentials).unwrap();
}

#[test]
fn failed_exports_and_imports_leave_nothing_behind() {
    let d = Dir::sample();
    // Into a non-empty store: Conflict, nothing changes.
    let text = d.snapshot();
    std::fs::write(d.path("x.jsonl"), &text).unwrap();
    d.run(&["import", "x.jsonl"]).fails(4);
    assert_eq!(d.snapshot(), text);
    // A bad line: Validation naming it; the new store file is removed again.
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[1] = lines[1].replace("mary@example.com", "not-an-email");
    std::fs::write(d.path("bad.jsonl"), lines.join("\n")).unwrap();
    let run = d.raw(&["new.redb", "import", "bad.jsonl"]).fails(5);
    assert!(
        run.stderr.contains("line 2") && run.stderr.contains("email"),
        "{run:?}"
    );
    assert!(!d.path("new.redb").exists() && !d.path("new.redb-wal").exists());
    // An export that cannot be written leaves the old file as it was.
    std::fs::write(d.path("old.jsonl"), "old").unwrap();
    d.run(&["export", "nosuchdir/x.jsonl"]).fails(11);
    std::fs::create_dir(d.path("dir.jsonl")).unwrap();
    d.run(&["export", "dir.jsonl"]).fails(11);
    assert!(d.path("dir.jsonl").is_dir());
    let names: Vec<String> = std::fs::read_dir(d.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".partial")), "{names:?}");
    d.run(&["export", "old.jsonl"]).ok();
    assert_eq!(std::fs::read_to_string(d.path("old.jsonl")).unwrap(), text);
}

#[test]
fn check_reports_and_compact_keeps_the_data() {
    let d = Dir::sample();
    assert_eq!(d.json(&["check"]), json!({"ok": true, "problems": []}));
    let before = d.snapshot();
    let compacted = d.json(&["compact"]);
    assert!(compacted["fileBytesAfter"].as_u64().unwrap() > 0);
    assert_eq!(d.snapshot(), before);
    d.run(&["check", "--format", "table"]).ok();
}

/// An export through a symbolic link replaces the file it names and keeps
/// the link; one to a FIFO writes into it, leaving it a FIFO (renaming over
/// it — or over `/dev/null` — would replace it with a regular file).
#[cfg(unix)]
#[test]
fn exports_follow_links_and_write_into_what_is_not_a_file() {
    use std::os::unix::fs::FileTypeExt;

    let d = Dir::sample();
    let text = d.snapshot();
    std::fs::write(d.path("real.jsonl"), "old").unwrap();
    std::os::unix::fs::symlink("real.jsonl", d.path("link.jsonl")).unwrap();
    d.run(&["export", "link.jsonl"]).ok();
    assert!(d.path("link.jsonl").is_symlink());
    assert_eq!(std::fs::read_to_string(d.path("real.jsonl")).unwrap(), text);

    let fifo = d.path("pipe.jsonl");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    d.run(&["export", "pipe.jsonl"]).ok();
    assert_eq!(reader.join().unwrap(), text);
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "{kind:?}");
}

/// `export -` into a pipe its reader closed ends quietly with exit 0, as
/// every command does when its output goes away (`rosterdb … | head`).
#[test]
fn an_export_to_a_closed_pipe_exits_quietly() {
    let d = Dir::new();
    std::fs::write(d.path("in.jsonl"), export_of(2000)).unwrap();
    d.run(&["import", "in.jsonl"]).ok();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rosterdb"))
        .args(["s.redb", "export", "-", "--quiet"])
        .current_dir(d.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("Storage"), "{stderr}");
}
