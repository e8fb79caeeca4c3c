//! `changes`: the log after a sequence number, and `--follow`.

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

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::Dir;
use serde_json::json;

#[test]
fn changes_after_a_sequence_number_in_each_format() {
    let d = Dir::sample();
    let all = d.run(&["changes"]).ok().lines();
    let seqs: Vec<u64> = all.iter().map(|c| c["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(all[3]["entity"], "client");
    assert_eq!(all[1]["op"], "create");
    let later = d.json(&["changes", "--since", "2", "--format", "json"]);
    assert_eq!(later["items"].as_array().unwrap().len(), 2);
    let table = d
        .run(&["changes", "--since", "3", "--format", "table"])
        .ok()
        .stdout;
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["seq", "at", "entity", "id", "op", "version"]);
    assert_eq!(rows[1][0], "4");
    assert_eq!(rows[1][2..], ["client", "1", "create", "1"]);
    // A tenant's view reads only its own changes.
    d.run(&["--tenant", "acme", "roles", "create", r#"{"name":"x"}"#])
        .ok();
    assert_eq!(
        d.run(&["changes", "--tenant", "acme"]).ok().lines().len(),
        1
    );
    assert_eq!(d.run(&["changes", "--since", "99"]).ok().stdout, "");
}

#[test]
fn follow_prints_new_entries_until_interrupted() {
    let d = Dir::sample();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rosterdb"))
        .args([
            "s.redb",
            "changes",
            "--since",
            "4",
            "--follow",
            "--interval",
            "20",
        ])
        .current_dir(d.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The follower opens the file for each poll: a write retries while it
    // holds it (Locked, exit 9).
    loop {
        let run = d.run(&["roles", "create", r#"{"name":"late"}"#]);
        match run.code {
            0 => break,
            9 => continue,
            _ => panic!("{run:?}"),
        }
    }
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let entry: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(
        (
            entry["seq"].clone(),
            entry["entity"].clone(),
            entry["op"].clone()
        ),
        (json!(5), json!("role"), json!("create"))
    );
    // Ctrl-C ends it cleanly.
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
