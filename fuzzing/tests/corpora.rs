//! Replays every fuzz input kept in the repository on the stable toolchain:
//! each file of `fuzz/corpus/<target>/` (the minimised corpus) and of
//! `fuzz/regressions/<target>/` (every crash a fuzzer found, kept after its
//! fix) goes through the target's function in `rosterdb_fuzzing`, which
//! panics when a property does not hold. A failure names the file.

// A test fails by panicking.
#![allow(clippy::panic, clippy::expect_used, missing_docs)]

use std::fs;
use std::path::{Path, PathBuf};

use rosterdb_fuzzing::{TARGETS, Target};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every file of `fuzz/<kind>/<target>/` through the target; returns how many.
fn replay(target: &Target, kind: &str) -> usize {
    replay_dir(target, &fuzz_dir().join(kind).join(target.name))
}

/// Runs every file of `dir` through the target, panicking with the name of
/// the first that fails; returns how many.
fn replay_dir(target: &Target, dir: &Path) -> usize {
    let files = files(dir);
    for file in &files {
        let data = fs::read(file).expect("a corpus file");
        if std::panic::catch_unwind(|| (target.run)(&data)).is_err() {
            panic!("{} fails on {}", target.name, file.display());
        }
    }
    files.len()
}

#[test]
fn every_target_has_a_corpus_that_passes() {
    for target in &TARGETS {
        let corpus = replay(target, "corpus");
        let regressions = replay(target, "regressions");
        println!(
            "{}: {corpus} corpus inputs, {regressions} regressions",
            target.name
        );
        assert!(corpus > 0, "{} has no corpus in fuzz/corpus", target.name);
    }
}

#[test]
fn a_broken_property_fails_the_replay_naming_the_file() {
    let broken = Target {
        name: "broken",
        run: |data| assert!(data != b"bad", "a property that fails on one input"),
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    fs::write(dir.path().join("good"), b"good").expect("a file");
    assert_eq!(replay_dir(&broken, dir.path()), 1);
    fs::write(dir.path().join("bad"), b"bad").expect("a file");
    let failure =
        std::panic::catch_unwind(|| replay_dir(&broken, dir.path())).expect_err("the replay fails");
    let message = failure.downcast_ref::<String>().expect("a message");
    assert!(message.contains("bad"), "{message}");
}
