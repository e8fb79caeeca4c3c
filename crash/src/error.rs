//! The harness's own failures (not findings about the store: those are
//! [`crate::verify::Findings`]).

/// Why the harness could not go on.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A store call failed where it must succeed; `op` names the call.
    #[error("{op}: {source}")]
    Store {
        /// The call, e.g. `create_user` or `reopen`.
        op: String,
        /// The store's error.
        source: rosterdb::Error,
    },
    /// A store call returned something other than what it must.
    #[error("{op}: {detail}")]
    Unexpected {
        /// The call.
        op: String,
        /// What came instead.
        detail: String,
    },
    /// Reading or writing the child's pipe, or spawning it, failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line or document was not the JSON it must be.
    #[error("{what}: {source}")]
    Json {
        /// What was being read or written.
        what: String,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A bad command line; the message says which argument.
    #[error("{0}")]
    Usage(String),
}

/// A `Result` of the harness.
pub type Result<T> = std::result::Result<T, HarnessError>;

/// Names the call a store error came from.
pub fn store(op: impl Into<String>) -> impl FnOnce(rosterdb::Error) -> HarnessError {
    let op = op.into();
    move |source| HarnessError::Store { op, source }
}

/// Names what an I/O error interrupted.
pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let what = what.into();
    move |source| HarnessError::Io { what, source }
}

/// Names what a JSON error interrupted.
pub fn json(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> HarnessError {
    let what = what.into();
    move |source| HarnessError::Json { what, source }
}
