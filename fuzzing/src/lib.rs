//! The properties rosterdb's fuzz targets check, one function per target.
//!
//! Each function takes the fuzzer's raw input (`&[u8]`), runs it through one
//! part of the store and panics when a property does not hold: a panic of
//! the store itself, or a broken round trip or invariant the function
//! asserts. The cargo-fuzz workspace `fuzz/` calls them from its
//! `fuzz_targets/*.rs` (nightly); `tests/corpora.rs` replays every file of
//! `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` through them on
//! the stable toolchain, so every crash ever found stays a regression test.
//!
//! | target          | input                                   | function |
//! |-----------------|-----------------------------------------|----------|
//! | `expr`          | expression text (`where`)               | [`expr::run`] |
//! | `params`        | `name=value` lines (the parameter form) | [`params::run`] |
//! | `patch`         | a mode byte, then a JSON Patch or merge | [`patch::run`] |
//! | `record`        | a kind byte, then stored record bytes   | [`record::run`] |
//! | `cursor`        | a mode byte, then a token or its JSON   | [`cursor::run`] |
//! | `password_hash` | a stored hash, `\n`, a password         | [`password_hash::run`] |
//! | `model`         | bytes read by `arbitrary` as operations | [`model::run`] |
//!
//! `src/bin/seed_corpora.rs` writes the seed inputs of each corpus from the
//! test vectors and from records, cursors and hashes a real store makes.

pub mod cursor;
pub mod expr;
pub mod model;
pub mod params;
pub mod password_hash;
pub mod patch;
pub mod population;
pub mod printer;
pub mod record;

/// A fuzz target: its name (the file `fuzz/fuzz_targets/<name>.rs` and the
/// folders `fuzz/corpus/<name>/`, `fuzz/regressions/<name>/`) and the
/// function that checks one input.
pub struct Target {
    /// The target's name.
    pub name: &'static str,
    /// Checks one input; panics when a property does not hold.
    pub run: fn(&[u8]),
}

/// Every target, in the order the README lists them.
pub const TARGETS: [Target; 8] = [
    Target {
        name: "expr",
        run: expr::run,
    },
    Target {
        name: "params",
        run: params::run,
    },
    Target {
        name: "patch",
        run: patch::run,
    },
    Target {
        name: "record",
        run: record::run,
    },
    Target {
        name: "cursor",
        run: cursor::run,
    },
    Target {
        name: "password_hash",
        run: password_hash::run,
    },
    Target {
        name: "model",
        run: model::run,
    },
    Target {
        name: "model_wal",
        run: model::run_with_log,
    },
];

/// Reports a broken property: panics with `what`, which libFuzzer records
/// as a crash with the input that caused it.
#[allow(clippy::panic)] // a fuzz property fails by panicking
#[track_caller]
pub fn violated(what: impl std::fmt::Display) -> ! {
    panic!("property violated: {what}")
}

/// Panics (see [`violated`]) unless `error` is one of the kinds `allowed`
/// names; `context` says what was being done.
#[track_caller]
pub fn expect_error(error: &rosterdb::Error, allowed: &[ErrorKind], context: &str) {
    let kind = ErrorKind::of(error);
    if !allowed.contains(&kind) {
        violated(format!("{context}: unexpected {kind:?} error: {error}"));
    }
}

/// The variants of [`rosterdb::Error`], without their fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `NotFound`
    NotFound,
    /// `Conflict`
    Conflict,
    /// `Validation`
    Validation,
    /// `InvalidQuery`
    InvalidQuery,
    /// `InvalidPatch`
    InvalidPatch,
    /// `VersionConflict`
    VersionConflict,
    /// `InUse`
    InUse,
    /// `IncompatibleFormat`
    IncompatibleFormat,
    /// `InvalidArgument`
    InvalidArgument,
    /// `Storage`
    Storage,
    /// Any other (`Internal`, `AuthenticationFailed`, `Locked`, …): never
    /// expected by a target.
    Other,
}

impl ErrorKind {
    /// The kind of `error`.
    pub fn of(error: &rosterdb::Error) -> ErrorKind {
        use rosterdb::Error as E;
        match error {
            E::NotFound { .. } => ErrorKind::NotFound,
            E::Conflict { .. } => ErrorKind::Conflict,
            E::Validation { .. } => ErrorKind::Validation,
            E::InvalidQuery { .. } => ErrorKind::InvalidQuery,
            E::InvalidPatch { .. } => ErrorKind::InvalidPatch,
            E::VersionConflict { .. } => ErrorKind::VersionConflict,
            E::InUse { .. } => ErrorKind::InUse,
            E::IncompatibleFormat { .. } => ErrorKind::IncompatibleFormat,
            E::InvalidArgument { .. } => ErrorKind::InvalidArgument,
            E::Storage { .. } => ErrorKind::Storage,
            _ => ErrorKind::Other,
        }
    }
}

/// The input as text: UTF-8 as given, invalid sequences replaced by U+FFFD.
pub fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}
