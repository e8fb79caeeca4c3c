//! Running the built `rosterdb` binary on a store in a temporary directory.

// Each test file uses a part of these helpers.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A temporary directory holding a store file `s.redb`.
pub struct Dir {
    /// The directory (removed when dropped).
    pub dir: tempfile::TempDir,
}

impl Dir {
    /// A new, empty directory.
    pub fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A path inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `rosterdb s.redb ARGS…` in the directory.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    /// Runs `rosterdb s.redb ARGS…` with `stdin` as standard input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        run_in(self.dir.path(), &[&["s.redb"], args].concat(), stdin)
    }

    /// Runs `rosterdb ARGS…` (the file named by the caller).
    pub fn raw(&self, args: &[&str]) -> Run {
        run_in(self.dir.path(), args, None)
    }

    /// Runs a command that must succeed and returns its stdout as JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        self.run(args).ok().json()
    }

    /// A store with a role `staff` (1), users `mary` (1, password, github
    /// 42, role 1) and `bob` (2), and a client `billing` (1).
    pub fn sample() -> Dir {
        let d = Dir::new();
        d.run(&[
            "roles",
            "create",
            r#"{"name":"staff","permissions":["users:read"]}"#,
        ])
        .ok();
        d.run(&[
            "users",
            "create",
            r#"{"username":"mary","email":"mary@example.com","firstName":"Mary","lastName":"Major",
                "password":"correct horse battery","roles":[1],
                "externalIds":[{"type":"github","value":"42"}]}"#,
        ])
        .ok();
        d.run(&[
            "users",
            "create",
            r#"{"username":"bob","email":"bob@example.com","firstName":"Bob","lastName":"Abbot",
                "attributes":{"department":"ops"}}"#,
        ])
        .ok();
        d.run(&["clients", "create", r#"{"name":"billing"}"#]).ok();
        d
    }

    /// The whole store as an export (to stdout), to compare before and after.
    pub fn snapshot(&self) -> String {
        self.run(&["export", "-", "--quiet"]).ok().stdout
    }
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// This run, which must have succeeded.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "{self:?}");
        self
    }

    /// This run, which must have failed with `code` and told one line.
    #[track_caller]
    pub fn fails(self, code: i32) -> Run {
        assert_eq!(self.code, code, "{self:?}");
        assert_eq!(self.stderr.lines().count(), 1, "{self:?}");
        self
    }

    /// Stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }

    /// Stdout as JSON Lines.
    #[track_caller]
    pub fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// Runs the binary with `args` in `dir`.
pub fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rosterdb"))
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}
