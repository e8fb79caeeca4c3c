//! What can go wrong in a command, the exit code of each kind, and how an
//! error is told on stderr: one line of text, or one JSON object.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

/// The exit codes, one per kind of error (the table of `--help` and the
/// crate's README). A command line clap refuses is `Usage`, 2, as clap's own code.
pub mod code {
    /// The command did what it was asked.
    pub const OK: u8 = 0;
    /// A bug in rosterdb, or a store that was closed under the command.
    pub const INTERNAL: u8 = 1;
    /// Bad arguments or options (clap's code), `InvalidArgument`.
    pub const USAGE: u8 = 2;
    /// `NotFound`: no such record (or the store file does not exist).
    pub const NOT_FOUND: u8 = 3;
    /// `Conflict` (a unique field is taken, or import into a non-empty
    /// store) and `InUse` (a role still held).
    pub const CONFLICT: u8 = 4;
    /// `Validation` (a bad document) and `InvalidJson` (input that is not JSON).
    pub const VALIDATION: u8 = 5;
    /// `InvalidQuery` and `InvalidPatch`.
    pub const QUERY: u8 = 6;
    /// `VersionConflict`: `--expected-version` does not match.
    pub const VERSION: u8 = 7;
    /// `AuthenticationFailed` and `InvalidToken`.
    pub const AUTH: u8 = 8;
    /// `Locked` (another process holds the file) and `Busy`.
    pub const LOCKED: u8 = 9;
    /// `IncompatibleFormat`: not a rosterdb file, a newer one, or damaged.
    pub const FORMAT: u8 = 10;
    /// `Storage`: an I/O or storage-engine error, a file that cannot be
    /// read or written.
    pub const STORAGE: u8 = 11;
    /// `check` found integrity problems.
    pub const PROBLEMS: u8 = 12;
    /// `serve` could not listen on its address or start the server.
    pub const SERVE: u8 = 13;
}

/// The exit-code table as `--help` and the README show it.
pub const TABLE: &str = "\
Exit codes:
  0   success
  1   Internal (a bug; please report it)
  2   Usage (bad arguments or options), InvalidArgument
  3   NotFound (no such record; a store file that does not exist or is empty)
  4   Conflict (unique field taken; import into a non-empty store), InUse
  5   Validation (bad document), InvalidJson (input that is not JSON)
  6   InvalidQuery, InvalidPatch
  7   VersionConflict (--expected-version does not match)
  8   AuthenticationFailed, InvalidToken
  9   Locked (another process holds the file), Busy
  10  IncompatibleFormat (not a rosterdb file, newer, or damaged)
  11  Storage (I/O error, unreadable or unwritable file)
  12  check found integrity problems
  13  serve cannot listen on --addr (in use, not allowed) or start";

/// Every way a command fails.
#[derive(Debug)]
pub enum CliError {
    /// An error of the store.
    Store(rosterdb::Error),
    /// Input that is not JSON (a document, a patch).
    InvalidJson {
        /// What the input is, e.g. `DOC` or `--password-stdin`.
        what: String,
        /// What is wrong with it (never its text: it may hold a password).
        message: String,
    },
    /// A file other than the store that the command reads or writes.
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The store file named does not exist (and the command does not create one).
    NoStore(PathBuf),
    /// `check` found problems (they are on stdout).
    Problems(usize),
    /// Something the arguments ask for that cannot be done, found after parsing.
    Usage(String),
    /// Standard output was closed by its reader (`| head`): not an error.
    BrokenPipe,
    /// Standard output or input failed.
    Stdio(std::io::Error),
    /// `serve` could not listen or start.
    Serve(rosterdb_server::ServeError),
}

impl From<rosterdb::Error> for CliError {
    fn from(e: rosterdb::Error) -> Self {
        CliError::Store(e)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Stdio(e)
        }
    }
}

impl CliError {
    /// The error's kind, as docs/reference/errors.md names it (or the command's own).
    pub fn kind(&self) -> &'static str {
        use rosterdb::Error as E;
        match self {
            CliError::Store(e) => match e {
                E::NotFound { .. } => "NotFound",
                E::Conflict { .. } => "Conflict",
                E::Validation { .. } => "Validation",
                E::InvalidQuery { .. } => "InvalidQuery",
                E::InvalidPatch { .. } => "InvalidPatch",
                E::VersionConflict { .. } => "VersionConflict",
                E::InUse { .. } => "InUse",
                E::AuthenticationFailed => "AuthenticationFailed",
                E::InvalidToken => "InvalidToken",
                E::Locked => "Locked",
                E::IncompatibleFormat { .. } => "IncompatibleFormat",
                E::InvalidArgument { .. } => "InvalidArgument",
                E::Storage { .. } => "Storage",
                E::Closed { .. } => "Closed",
                E::Busy { .. } => "Busy",
                _ => "Internal",
            },
            CliError::InvalidJson { .. } => "InvalidJson",
            CliError::File { .. } | CliError::Stdio(_) => "Storage",
            CliError::NoStore(_) => "NotFound",
            CliError::Problems(_) => "IntegrityProblems",
            CliError::Usage(_) => "Usage",
            CliError::BrokenPipe => "BrokenPipe",
            CliError::Serve(_) => "Serve",
        }
    }

    /// The process's exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self.kind() {
            "NotFound" => code::NOT_FOUND,
            "Conflict" | "InUse" => code::CONFLICT,
            "Validation" | "InvalidJson" => code::VALIDATION,
            "InvalidQuery" | "InvalidPatch" => code::QUERY,
            "VersionConflict" => code::VERSION,
            "AuthenticationFailed" | "InvalidToken" => code::AUTH,
            "Locked" | "Busy" => code::LOCKED,
            "IncompatibleFormat" => code::FORMAT,
            "Storage" => code::STORAGE,
            "IntegrityProblems" => code::PROBLEMS,
            "Usage" | "InvalidArgument" => code::USAGE,
            "BrokenPipe" => code::OK,
            "Serve" => code::SERVE,
            _ => code::INTERNAL,
        }
    }

    /// What went wrong, on one line.
    pub fn message(&self) -> String {
        let text = match self {
            CliError::Store(e) => e.to_string(),
            CliError::InvalidJson { what, message } => {
                format!("{what} is not valid JSON: {message}")
            }
            CliError::File { path, error } => format!("{}: {error}", path.display()),
            CliError::NoStore(path) => format!(
                "no store file {} (`import` and `users|roles|clients create` create one)",
                path.display()
            ),
            CliError::Problems(n) => format!("check found {n} integrity problem(s)"),
            CliError::Usage(message) => message.clone(),
            CliError::BrokenPipe => "standard output was closed".into(),
            CliError::Stdio(e) => format!("standard input or output: {e}"),
            CliError::Serve(e) => e.to_string(),
        };
        text.replace(['\n', '\r'], " ")
    }

    /// The error as one JSON object: `kind`, `message`, `exitCode` and
    /// the details of its kind (the failing fields, the parameter, …).
    pub fn to_json(&self) -> Value {
        let mut out =
            json!({"kind": self.kind(), "message": self.message(), "exitCode": self.exit_code()});
        let details = match self {
            CliError::Store(e) => store_details(e),
            CliError::InvalidJson { what, .. } => json!({ "input": what }),
            CliError::File { path, .. } | CliError::NoStore(path) => {
                json!({ "path": path.display().to_string() })
            }
            CliError::Problems(n) => json!({ "problems": n }),
            _ => Value::Null,
        };
        if let (Value::Object(out), Value::Object(details)) = (&mut out, details) {
            out.extend(details);
        }
        out
    }
}

/// The message of a command line clap refused (`args`, the program
/// first): [`clap_message`] of clap's rendering, unless the arguments
/// forbid repeating them. When one mentions a password (`passwd`, a
/// `--password…` option, a document with a `password` member), clap's
/// rendering could repeat a secret; when one holds a line break, its text
/// would be taken for the rendering's own lines. Then the message is the
/// kind of refusal and the usage line alone, which clap makes from the
/// command's definition, never from the arguments.
pub fn usage_message(e: &clap::Error, args: &[String]) -> String {
    use clap::error::{ContextKind, ContextValue};
    let secret = args.iter().any(|a| a.to_lowercase().contains("passw"));
    let broken = args.iter().any(|a| a.contains(['\n', '\r']));
    if !secret && !broken {
        return clap_message(&e.render().to_string());
    }
    let what = e.kind().as_str().unwrap_or("the command line was refused");
    let why = if secret {
        "the arguments are not repeated: one may hold a password"
    } else {
        "the arguments are not repeated: one holds a line break"
    };
    let mut parts = vec![format!("{what} ({why})")];
    if let Some(ContextValue::StyledStr(usage)) = e.get(ContextKind::Usage) {
        let usage = usage.to_string();
        let usage = usage.trim();
        let usage = usage.strip_prefix("Usage:").unwrap_or(usage).trim();
        parts.push(format!("usage: {}", usage.replace(['\n', '\r'], " ")));
    }
    parts.push("see --help".into());
    parts.join("; ")
}

/// clap's rendered refusal of a command line as one line: its error, its
/// notes and tips, then the usage line, joined by `; `. The rendering
/// `error: unexpected argument '--x' found` / `tip: …` / `Usage: rosterdb
/// users list [OPTIONS]` / `For more information, try '--help'.` becomes
/// `unexpected argument '--x' found; tip: …; usage: rosterdb users list
/// [OPTIONS]; see --help`.
pub fn clap_message(rendered: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut usage = None;
    // Whether the last part is a heading whose indented list follows.
    let mut listing = false;
    for raw in rendered.lines() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("Usage:") {
            usage = Some(rest.trim().to_string());
            listing = false;
            continue;
        }
        if line.starts_with("For more information") {
            continue;
        }
        let line = line.strip_prefix("error:").unwrap_or(line).trim();
        // A list under a heading (`… not provided:` / `  <DOC>` / `  <ID>`)
        // and a bracketed note (`[possible values: …]`) continue their line.
        let item = listing && raw.starts_with(' ') && !line.starts_with("tip:");
        match parts.last_mut() {
            Some(last) if item || line.starts_with('[') => {
                last.push(' ');
                last.push_str(line);
            }
            _ => {
                listing = line.ends_with(':');
                parts.push(line.to_string());
            }
        }
    }
    if let Some(usage) = usage {
        parts.push(format!("usage: {usage}"));
    }
    parts.push("see --help".into());
    parts.join("; ")
}

/// The data a store error carries, as JSON members.
fn store_details(e: &rosterdb::Error) -> Value {
    use rosterdb::Error as E;
    match e {
        E::NotFound { entity, key } => json!({"entity": entity, "key": key}),
        E::Conflict { entity, field } => json!({"entity": entity, "field": field}),
        E::Validation { errors } => json!({ "errors": errors }),
        E::InvalidQuery {
            code,
            position,
            field,
            ..
        } => json!({"code": code, "position": position, "field": field}),
        E::InvalidPatch { op_index, code, .. } => json!({"opIndex": op_index, "code": code}),
        E::VersionConflict { expected, actual } => {
            json!({"expected": expected, "actual": actual})
        }
        E::InUse { id, count } => json!({"id": id, "count": count}),
        E::InvalidArgument { argument, .. } => json!({ "argument": argument }),
        E::Storage {
            path: Some(path), ..
        } => json!({"path": path.display().to_string()}),
        _ => Value::Null,
    }
}

/// Tells `error` on stderr: `rosterdb: Kind: message`, or its JSON object
/// when `as_json`.
pub fn report(error: &CliError, as_json: bool) {
    let mut err = std::io::stderr().lock();
    // Nothing is left to tell a failure of stderr to.
    let _ = if as_json {
        writeln!(err, "{}", error.to_json())
    } else {
        writeln!(err, "rosterdb: {}: {}", error.kind(), error.message())
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use rosterdb::{EntityKind, Error, PatchCode, QueryCode};

    /// clap's renderings, each made one line.
    #[test]
    fn clap_renderings_become_one_line() {
        let cases = [
            (
                "error: unexpected argument '--x' found\n\n  tip: to pass '--x' as a value, use '-- --x'\n\nUsage: rosterdb users list [OPTIONS]\n\nFor more information, try '--help'.\n",
                "unexpected argument '--x' found; tip: to pass '--x' as a value, use '-- --x'; usage: rosterdb users list [OPTIONS]; see --help",
            ),
            (
                "error: the following required arguments were not provided:\n  <DOC>\n  <ID>\n\nUsage: rosterdb users create <DOC>\n",
                "the following required arguments were not provided: <DOC> <ID>; usage: rosterdb users create <DOC>; see --help",
            ),
            (
                "error: invalid value 'xml' for '--format <FORMAT>'\n  [possible values: json, jsonl, table]\n\nFor more information, try '--help'.\n",
                "invalid value 'xml' for '--format <FORMAT>' [possible values: json, jsonl, table]; see --help",
            ),
        ];
        for (rendered, line) in cases {
            assert_eq!(clap_message(rendered), line);
        }
    }

    /// Every kind's code, as the table says.
    #[test]
    fn each_kind_has_the_code_of_the_table() {
        let cases: Vec<(CliError, &str, u8)> = vec![
            (
                Error::NotFound {
                    entity: EntityKind::User,
                    key: "id 1".into(),
                }
                .into(),
                "NotFound",
                3,
            ),
            (CliError::NoStore("x".into()), "NotFound", 3),
            (
                Error::Conflict {
                    entity: EntityKind::User,
                    field: "email".into(),
                }
                .into(),
                "Conflict",
                4,
            ),
            (Error::InUse { id: 1, count: 2 }.into(), "InUse", 4),
            (
                Error::invalid("email", rosterdb::ValidationCode::UnknownField, "bad").into(),
                "Validation",
                5,
            ),
            (
                CliError::InvalidJson {
                    what: "DOC".into(),
                    message: "EOF".into(),
                },
                "InvalidJson",
                5,
            ),
            (
                Error::query(QueryCode::UnknownField, "x").into(),
                "InvalidQuery",
                6,
            ),
            (
                Error::patch(0, PatchCode::ReadOnly, "x").into(),
                "InvalidPatch",
                6,
            ),
            (
                Error::VersionConflict {
                    expected: 1,
                    actual: 2,
                }
                .into(),
                "VersionConflict",
                7,
            ),
            (
                Error::AuthenticationFailed.into(),
                "AuthenticationFailed",
                8,
            ),
            (Error::InvalidToken.into(), "InvalidToken", 8),
            (Error::Locked.into(), "Locked", 9),
            (Error::busy("x").into(), "Busy", 9),
            (
                Error::IncompatibleFormat { reason: "x".into() }.into(),
                "IncompatibleFormat",
                10,
            ),
            (Error::storage("disk").into(), "Storage", 11),
            (CliError::Stdio(std::io::Error::other("x")), "Storage", 11),
            (CliError::Problems(2), "IntegrityProblems", 12),
            (Error::argument("ttl", "x").into(), "InvalidArgument", 2),
            (CliError::Usage("x".into()), "Usage", 2),
            (Error::internal("x").into(), "Internal", 1),
            (Error::closed("x").into(), "Closed", 1),
        ];
        for (error, kind, exit) in cases {
            assert_eq!((error.kind(), error.exit_code()), (kind, exit), "{error:?}");
            let json = error.to_json();
            assert_eq!(json["kind"], kind);
            assert_eq!(json["exitCode"], exit);
            assert!(!error.message().contains('\n'));
        }
    }

    #[test]
    fn messages_are_one_line() {
        let e = CliError::Usage("two\nlines".into());
        assert_eq!(e.message(), "two lines");
    }
}
