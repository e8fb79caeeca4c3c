//! Errors: one line on stderr (or a JSON object), the exit code of the
//! kind, a message naming the field or parameter, and nothing written.

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

use common::Dir;
use serde_json::json;

/// Runs a failing command and checks that it wrote nothing.
#[track_caller]
fn fails_unchanged(d: &Dir, args: &[&str], code: i32, names: &str) -> String {
    let before = d.snapshot();
    let run = d.run(args).fails(code);
    assert!(run.stderr.contains(names), "{names:?} not in {run:?}");
    assert_eq!(run.stdout, "", "{run:?}");
    assert_eq!(d.snapshot(), before, "{args:?} wrote");
    run.stderr
}

#[test]
fn each_kind_has_its_exit_code_and_names_what_is_wrong() {
    let d = Dir::sample();
    // NotFound
    fails_unchanged(
        &d,
        &["users", "get", "99"],
        3,
        "NotFound: user not found: id 99",
    );
    fails_unchanged(
        &d,
        &["users", "get", "--email", "no@example.com"],
        3,
        "email",
    );
    fails_unchanged(
        &d,
        &["users", "lookup", "--type", "github", "--value", "7"],
        3,
        "NotFound",
    );
    fails_unchanged(&d, &["clients", "get", "rc_nosuchclient"], 3, "NotFound");
    fails_unchanged(&d, &["users", "delete", "99"], 3, "NotFound");
    // Conflict and InUse
    let taken = r#"{"username":"MARY","email":"m2@example.com","firstName":"M","lastName":"M"}"#;
    fails_unchanged(
        &d,
        &["users", "create", taken],
        4,
        "username is already taken",
    );
    fails_unchanged(
        &d,
        &["roles", "delete", "1"],
        4,
        "InUse: role 1 is held by 1",
    );
    // Validation: every failing field, the unknown one included.
    let bad = r#"{"username":"x","email":"bad","firstName":"M","lastName":"M","shoeSize":3}"#;
    let told = fails_unchanged(&d, &["users", "create", bad], 5, "Validation");
    assert!(
        told.contains("shoeSize") && told.contains("email"),
        "{told}"
    );
    fails_unchanged(
        &d,
        &["users", "merge", "1", r#"{"email":"nope"}"#],
        5,
        "email",
    );
    fails_unchanged(
        &d,
        &["users", "merge", "1", r#"{"password":"short"}"#],
        5,
        "password",
    );
    // Malformed JSON names where, never what.
    let told = fails_unchanged(
        &d,
        &["users", "create", r#"{"password":"hunter22","#],
        5,
        "InvalidJson",
    );
    assert!(
        told.contains("line 1 column") && !told.contains("hunter22"),
        "{told}"
    );
    // InvalidQuery names the parameter; InvalidPatch the operation.
    fails_unchanged(&d, &["users", "list", "--page", "0"], 6, "page");
    fails_unchanged(&d, &["users", "list", "--page-size", "5000"], 6, "pageSize");
    fails_unchanged(
        &d,
        &["users", "list", "--page", "1", "--offset", "3"],
        6,
        "InvalidQuery",
    );
    fails_unchanged(&d, &["users", "list", "-q", "shoeSize=3"], 6, "shoeSize");
    fails_unchanged(&d, &["users", "list", "--sort", "attributes"], 6, "sort");
    fails_unchanged(
        &d,
        &["users", "list", "--fields", "password"],
        6,
        "password",
    );
    fails_unchanged(
        &d,
        &["users", "list", "--where", "enabled = 'abc'"],
        6,
        "enabled",
    );
    fails_unchanged(
        &d,
        &["users", "list", "--where", "enabled = "],
        6,
        "position",
    );
    fails_unchanged(&d, &["users", "list", "-q", "enabled=maybe"], 6, "enabled");
    fails_unchanged(&d, &["users", "list", "--cursor", "garbage"], 6, "cursor");
    let ops = r#"[{"op":"replace","path":"/nickname","value":"x"},{"op":"replace","path":"/id","value":5}]"#;
    fails_unchanged(&d, &["users", "patch", "1", ops], 6, "operation 1");
    fails_unchanged(
        &d,
        &["users", "patch", "1", r#"{"op":"add"}"#],
        6,
        "InvalidPatch",
    );
    // VersionConflict
    fails_unchanged(
        &d,
        &[
            "users",
            "merge",
            "1",
            r#"{"nickname":"M"}"#,
            "--expected-version",
            "7",
        ],
        7,
        "expected version 7, found 1",
    );
    // Usage: clap's refusals, 2, one line as every error.
    fails_unchanged(
        &d,
        &["users", "list", "-q", "enabled"],
        2,
        "rosterdb: Usage: invalid value 'enabled' for '--param <NAME=VALUE>': must be NAME=VALUE",
    );
    fails_unchanged(&d, &["users", "frobnicate"], 2, "'frobnicate'");
    fails_unchanged(&d, &["roles", "get", "abc"], 2, "'abc'");
    // No arguments at all: clap's help, on stderr, and 2.
    let bare = d.raw(&[]);
    assert_eq!(bare.code, 2, "{bare:?}");
    assert!(bare.stderr.contains("Usage: rosterdb"), "{bare:?}");
}

#[test]
fn a_refused_command_line_is_one_usage_line_or_one_json_object() {
    let d = Dir::sample();
    let text = fails_unchanged(&d, &["users", "list", "--bogus"], 2, "--bogus");
    assert_eq!(
        text.trim_end(),
        "rosterdb: Usage: unexpected argument '--bogus' found; \
         usage: rosterdb users list [OPTIONS]; see --help"
    );
    // clap's tip comes along.
    fails_unchanged(
        &d,
        &["users", "list", "--sortt", "x"],
        2,
        "tip: a similar argument exists: '--sort'",
    );
    // A list under a heading stays on its line.
    fails_unchanged(
        &d,
        &["users", "create"],
        2,
        "the following required arguments were not provided: <DOC>; usage:",
    );
    // With --format json (either spelling, before or after the
    // subcommand), the refusal is JSON too.
    for args in [
        &["users", "list", "--bogus", "--format", "json"][..],
        &["--format=json", "users", "list", "--bogus"],
    ] {
        let run = d.run(args).fails(2);
        let error: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
        assert_eq!(
            error,
            json!({
                "kind": "Usage",
                "message": "unexpected argument '--bogus' found; \
                            usage: rosterdb users list [OPTIONS]; see --help",
                "exitCode": 2,
            }),
            "{args:?}"
        );
    }
    // A bad format is no request for JSON.
    let run = d.run(&["users", "list", "--format", "xml"]).fails(2);
    assert!(
        run.stderr
            .starts_with("rosterdb: Usage: invalid value 'xml' for '--format <FORMAT>' [possible values: json, jsonl, table]"),
        "{run:?}"
    );
    // A refusal that could repeat a password, or an argument's line
    // breaks, names the kind of refusal and the usage line only.
    for args in [
        &["passwd", "mary", "hunter2"][..],
        &["passwd", "--password-stdin=hunter2", "mary"],
        &["users", "create", "mary", r#"{"password":"hunter2"}"#],
    ] {
        let run = d.run(args).fails(2);
        assert!(!run.stderr.contains("hunter2"), "{args:?}: {run:?}");
        assert!(
            run.stderr.contains(
                "(the arguments are not repeated: one may hold a password); usage: rosterdb"
            ),
            "{run:?}"
        );
    }
    let run = d
        .run(&["users", "list", "--format", "x\nUsage: evil"])
        .fails(2);
    assert!(!run.stderr.contains("evil"), "{run:?}");
    assert!(run.stderr.contains("one holds a line break"), "{run:?}");
    let run = d
        .run(&[
            "users",
            "list",
            "--x\nFor more information\nz",
            "--format",
            "json",
        ])
        .fails(2);
    let error: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(
        error["message"],
        "unexpected argument found (the arguments are not repeated: one holds a line break); \
         usage: rosterdb users list [OPTIONS]; see --help"
    );
    // Help and version are no errors.
    let help = d.run(&["users", "list", "--help"]);
    assert_eq!(help.code, 0, "{help:?}");
    assert!(help.stdout.contains("Usage: rosterdb"), "{help:?}");
    let version = d.raw(&["--version"]);
    assert_eq!(version.code, 0, "{version:?}");
    assert!(version.stdout.starts_with("rosterdb "), "{version:?}");
}

#[test]
fn json_errors_carry_the_kind_and_its_data() {
    let d = Dir::sample();
    let run = d
        .run(&[
            "users",
            "list",
            "--where",
            "enabled = 'abc'",
            "--format",
            "json",
        ])
        .fails(6);
    let error: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(error["kind"], "InvalidQuery");
    assert_eq!(error["field"], "enabled");
    assert_eq!(error["position"], 10);
    assert_eq!(error["exitCode"], 6);
    let run = d
        .run(&["users", "create", r#"{"username":"x"}"#, "--format", "json"])
        .fails(5);
    let error: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
    let fields: Vec<&str> = error["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "firstName", "lastName"]);
    let run = d
        .run(&[
            "users",
            "merge",
            "1",
            "{}",
            "--expected-version",
            "9",
            "--format",
            "json",
        ])
        .fails(7);
    let error: serde_json::Value = serde_json::from_str(&run.stderr).unwrap();
    assert_eq!(
        (error["expected"].clone(), error["actual"].clone()),
        (json!(9), json!(1))
    );
}

#[test]
fn a_missing_store_file_is_not_created_by_reads() {
    let d = Dir::new();
    for args in [
        &["info"][..],
        &["users", "list"],
        &["users", "get", "1"],
        &["users", "merge", "1", "{}"],
        &["check"],
        &["compact"],
        &["changes"],
        &["export", "x.jsonl"],
    ] {
        let run = d.run(args).fails(3);
        assert!(run.stderr.contains("no store file s.redb"), "{run:?}");
    }
    assert_eq!(std::fs::read_dir(d.dir.path()).unwrap().count(), 0);
    // Nor is an empty file (`touch s.redb`) made a store by a read; a
    // create makes it one.
    std::fs::write(d.path("s.redb"), "").unwrap();
    for args in [&["info"][..], &["users", "list"], &["check"], &["compact"]] {
        let run = d.run(args).fails(3);
        assert!(run.stderr.contains("no store file s.redb"), "{run:?}");
    }
    assert_eq!(std::fs::read(d.path("s.redb")).unwrap(), b"");
    assert!(!d.path("s.redb-wal").exists());
    d.run(&["roles", "create", r#"{"name":"r"}"#]).ok();
    assert_eq!(d.json(&["info"])["roles"], 1);
    std::fs::remove_file(d.path("s.redb")).unwrap();
    std::fs::remove_file(d.path("s.redb-wal")).unwrap();
    // A create that fails leaves no new store behind either.
    d.run(&["users", "create", r#"{"username":"x"}"#]).fails(5);
    d.run(&["users", "create", "{"]).fails(5);
    assert_eq!(std::fs::read_dir(d.dir.path()).unwrap().count(), 0);
}

#[test]
fn input_files_that_cannot_be_read_are_storage_errors() {
    let d = Dir::sample();
    let run = d.run(&["users", "merge", "1", "@nosuch.json"]).fails(11);
    assert!(run.stderr.contains("nosuch.json"), "{run:?}");
    d.run(&["import", "nosuch.jsonl"]).fails(11);
    // Not a store file at all.
    std::fs::write(d.path("text.redb"), "hello, I am not a store").unwrap();
    let run = d.raw(&["text.redb", "info"]).fails(10);
    assert!(run.stderr.contains("IncompatibleFormat"), "{run:?}");
    assert_eq!(
        std::fs::read(d.path("text.redb")).unwrap(),
        b"hello, I am not a store"
    );
}

/// Input without an end (`@/dev/zero`, a password line on `/dev/zero`)
/// is refused after a bound, not read until memory runs out.
#[cfg(unix)]
#[test]
fn endless_input_is_refused_after_a_bound() {
    let d = Dir::sample();
    let stderr = fails_unchanged(&d, &["users", "create", "@/dev/zero"], 5, "larger than");
    assert!(stderr.contains("InvalidJson"), "{stderr}");
    let before = d.snapshot();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_rosterdb"))
        .args(["s.redb", "passwd", "mary", "--password-stdin"])
        .current_dir(d.dir.path())
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(5), "{run:?}");
    assert_eq!(d.snapshot(), before);
}

#[test]
fn a_store_held_by_another_process_is_locked() {
    let d = Dir::sample();
    let held = rosterdb::Store::open(d.path("s.redb"), rosterdb::Options::default()).unwrap();
    let run = d.run(&["users", "list"]).fails(9);
    assert!(run.stderr.contains("Locked"), "{run:?}");
    drop(held);
    d.run(&["users", "list"]).ok();
}
