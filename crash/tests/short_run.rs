//! The short crash run of the test suite: 50 SIGKILLs of a writing child,
//! each followed by a reopen and the full checks (`--kills N` for more).
//! Test code: it may unwrap and index (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_rosterdb-crash");

#[test]
fn fifty_kills_lose_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(EXE)
        .args(["--kills", "50", "--seed", "12"])
        .arg("--dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("kills: 50 of 50"), "{stdout}");
    assert!(stdout.contains("lost or half-applied: 0"), "{stdout}");
    let acked: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("acknowledged writes: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(acked >= 100, "too few writes to mean anything: {stdout}");
}

#[test]
fn a_bad_argument_is_refused() {
    let out = Command::new(EXE).args(["--kils", "5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--kils"));
}
