//! The one error type of rosterdb and the pieces it carries.

mod codes;
pub mod json_messages;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use codes::{PatchCode, QueryCode, ValidationCode};

/// The kinds of record the store keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    /// A person who can log in.
    User,
    /// A permission group.
    Role,
    /// An app-client: a service identity for programmatic access.
    Client,
}

impl EntityKind {
    /// The lowercase name used in change-log entries and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Role => "role",
            EntityKind::Client => "client",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failing field of a document: its camelCase path, the stable code of
/// the problem and what is wrong with it in words.
///
/// Messages describe the rule that failed and never echo the value, so a
/// password can never leak through an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's path, e.g. `username` or `externalIds[1].value`.
    pub field: String,
    /// What kind of problem it is, e.g. [`ValidationCode::StringTooLong`]
    /// (`"string_too_long"`).
    pub code: ValidationCode,
    /// What is wrong, e.g. `must be 1 to 100 characters`.
    pub message: String,
}

impl FieldError {
    /// A failing field with its code and message.
    pub fn new(field: impl Into<String>, code: ValidationCode, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// One step of the way into a document, for naming a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathStep<'a> {
    /// A member of an object.
    Key(&'a str),
    /// An element of an array: its index, or a JSON Pointer token naming one.
    Index(&'a str),
}

/// The name errors give a place in a document ([`FieldError::field`]):
/// keys joined by `.`, array elements in brackets, e.g. `attributes.tags[2]`
/// or `externalIds[0].value`; `""` for the document itself. Bindings that
/// find a bad value while converting one name it the same way.
pub fn field_name<'a>(steps: impl IntoIterator<Item = PathStep<'a>>) -> String {
    let mut out = String::new();
    for (i, step) in steps.into_iter().enumerate() {
        match step {
            PathStep::Key(key) if i == 0 => out.push_str(key),
            PathStep::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            PathStep::Index(index) => {
                out.push('[');
                out.push_str(index);
                out.push(']');
            }
        }
    }
    out
}

/// Every way a rosterdb call can fail.
///
/// The kinds are those of docs/reference/errors.md. No variant ever
/// carries a password, a client secret or a session token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No record with that id or key (records of another tenant included).
    #[error("{entity} not found: {key}")]
    NotFound {
        /// The kind of record looked for.
        entity: EntityKind,
        /// How it was looked for, e.g. `id 42` or `username "alice"`.
        key: String,
    },
    /// A unique field's value is already taken.
    #[error("{entity} {field} is already taken")]
    Conflict {
        /// The kind of record written.
        entity: EntityKind,
        /// The camelCase name of the taken field.
        field: String,
    },
    /// The document breaks one or more field rules; every failing field is listed.
    #[error("invalid document: {}", join(errors))]
    Validation {
        /// Each failing field with its message.
        errors: Vec<FieldError>,
    },
    /// A filter, sort, projection, page or cursor is malformed.
    #[error("invalid query: {message}{}", query_location(*position, field.as_deref()))]
    InvalidQuery {
        /// What kind of problem it is, e.g. [`QueryCode::UnknownField`].
        code: QueryCode,
        /// What is wrong.
        message: String,
        /// The character position in the expression, when there is one.
        position: Option<usize>,
        /// The field or parameter at fault, when there is one.
        field: Option<String>,
    },
    /// A JSON Patch operation is malformed or targets a read-only field.
    #[error("invalid patch: operation {op_index}: {message}")]
    InvalidPatch {
        /// The index of the failing operation in the patch.
        op_index: usize,
        /// What kind of problem it is, e.g. [`PatchCode::ReadOnly`].
        code: PatchCode,
        /// What is wrong.
        message: String,
    },
    /// The record's version is not the one the caller expected.
    #[error("version conflict: expected version {expected}, found {actual}")]
    VersionConflict {
        /// The version the caller sent.
        expected: u64,
        /// The version the record has.
        actual: u64,
    },
    /// A role cannot be deleted while users or clients hold it.
    #[error(
        "role {id} is held by {count} users or clients; delete with cascade to remove it from them"
    )]
    InUse {
        /// The role's id.
        id: u64,
        /// How many users and clients hold it.
        count: u64,
    },
    /// A password or client-secret check failed (the reason is deliberately not told).
    #[error("authentication failed")]
    AuthenticationFailed,
    /// A session token is unknown, expired or revoked.
    #[error("invalid or expired session token")]
    InvalidToken,
    /// The store file is held by another open store.
    #[error("the store file is locked by another process or store")]
    Locked,
    /// The file is not a rosterdb store, or was written by a newer version.
    #[error("incompatible file format: {reason}")]
    IncompatibleFormat {
        /// Why the file cannot be opened.
        reason: String,
    },
    /// An option or argument is out of its range (e.g. `lockout_seconds`,
    /// a session lifetime, `changes(after=…)`).
    #[error("invalid argument {argument}: {message}")]
    InvalidArgument {
        /// The option or argument, as the caller's API names it.
        argument: String,
        /// What range or shape it must have.
        message: String,
    },
    /// An I/O or storage-engine error.
    #[error("storage error: {message}")]
    Storage {
        /// The description of the failure (the underlying error's, when
        /// there is one).
        message: String,
        /// The file the failing call read or wrote, when the failure is
        /// about one (opening a store, export, import).
        path: Option<PathBuf>,
        /// The underlying error (an `io::Error`, a redb error, …), when
        /// there is one: what [`std::error::Error::source`] returns.
        #[source]
        source: Option<ErrorSource>,
    },
    /// The store was closed, or the transaction the call went through is
    /// not open (not begun yet, or already committed or rolled back).
    #[error("{message}")]
    Closed {
        /// What is closed, e.g. `the store is closed`.
        message: String,
    },
    /// The call cannot run now because of other work on the same store:
    /// `compact` while other calls or views hold the store, a store-level
    /// write from the thread that holds an open transaction (it would wait
    /// for itself), or a transaction entered twice.
    #[error("busy: {message}")]
    Busy {
        /// What is in the way.
        message: String,
    },
    /// A bug in rosterdb: an invariant that cannot fail did, or a panic was
    /// caught at a binding boundary. Please report it.
    #[error("internal error (a bug in rosterdb; please report it): {message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

/// The result type of every fallible rosterdb call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A `Validation` error with a single failing field.
    pub fn invalid(
        field: impl Into<String>,
        code: ValidationCode,
        message: impl Into<String>,
    ) -> Self {
        Error::Validation {
            errors: vec![FieldError::new(field, code, message)],
        }
    }

    /// An `InvalidQuery` error naming no position or field (add them with
    /// [`Error::at_position`] and [`Error::for_field`]).
    pub fn query(code: QueryCode, message: impl Into<String>) -> Self {
        Error::InvalidQuery {
            code,
            message: message.into(),
            position: None,
            field: None,
        }
    }

    /// An `InvalidQuery` error with its character position set; any other
    /// error is returned unchanged.
    pub fn at_position(mut self, at: usize) -> Self {
        if let Error::InvalidQuery { position, .. } = &mut self {
            *position = Some(at);
        }
        self
    }

    /// An `InvalidQuery` error with the field or parameter at fault set
    /// (replacing any); any other error is returned unchanged.
    pub fn for_field(mut self, name: impl Into<String>) -> Self {
        if let Error::InvalidQuery { field, .. } = &mut self {
            *field = Some(name.into());
        }
        self
    }

    /// This error about the item at `index` (from 0) of the list argument
    /// `what`: a `Validation` error names its fields inside the item (the
    /// `email` of the fourth of `users` becomes `users[3].email`; an error
    /// about the item as a whole, with an empty field, `users[3]`). Any
    /// other error is returned unchanged.
    pub fn in_item(self, what: &str, index: usize) -> Self {
        match self {
            Error::Validation { errors } => {
                let item = format!("{what}[{index}]");
                Error::Validation {
                    errors: errors
                        .into_iter()
                        .map(|e| FieldError {
                            field: if e.field.is_empty() {
                                item.clone()
                            } else {
                                format!("{item}.{}", e.field)
                            },
                            ..e
                        })
                        .collect(),
                }
            }
            other => other,
        }
    }

    /// An `InvalidPatch` error for operation `op_index`.
    pub fn patch(op_index: usize, code: PatchCode, message: impl Into<String>) -> Self {
        Error::InvalidPatch {
            op_index,
            code,
            message: message.into(),
        }
    }

    /// A `Storage` error described by `message`, with no underlying error.
    pub fn storage(message: impl fmt::Display) -> Self {
        Error::Storage {
            message: message.to_string(),
            path: None,
            source: None,
        }
    }

    /// A `Storage` error caused by `source`, described as it describes itself.
    pub fn storage_from(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Storage {
            message: source.to_string(),
            path: None,
            source: Some(ErrorSource::new(source)),
        }
    }

    /// A `Storage` error described by `message` and caused by `source`.
    pub fn storage_with(
        message: impl fmt::Display,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Storage {
            message: message.to_string(),
            path: None,
            source: Some(ErrorSource::new(source)),
        }
    }

    /// The same error naming the file `at`, when it is a `Storage` error
    /// that names none yet; any other error is returned unchanged.
    pub fn with_path(mut self, at: &Path) -> Self {
        if let Error::Storage {
            path: path @ None, ..
        } = &mut self
        {
            *path = Some(at.to_path_buf());
        }
        self
    }

    /// The I/O error beneath a `Storage` error, when there is one (directly
    /// or inside a storage-engine error): for its `kind()` and
    /// `raw_os_error()`.
    pub fn io_error(&self) -> Option<&std::io::Error> {
        let Error::Storage {
            source: Some(source),
            ..
        } = self
        else {
            return None;
        };
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(source.as_dyn());
        while let Some(err) = next {
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                return Some(io);
            }
            if let Some(redb::StorageError::Io(io)) = err.downcast_ref::<redb::StorageError>() {
                return Some(io);
            }
            if let Some(redb::DatabaseError::Storage(redb::StorageError::Io(io))) =
                err.downcast_ref::<redb::DatabaseError>()
            {
                return Some(io);
            }
            next = err.source();
        }
        None
    }

    /// An `InvalidArgument` error naming the argument.
    pub fn argument(argument: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            argument: argument.into(),
            message: message.into(),
        }
    }

    /// A `Closed` error saying what is closed.
    pub fn closed(message: impl Into<String>) -> Self {
        Error::Closed {
            message: message.into(),
        }
    }

    /// A `Busy` error saying what is in the way.
    pub fn busy(message: impl Into<String>) -> Self {
        Error::Busy {
            message: message.into(),
        }
    }

    /// An `Internal` error: a broken invariant, which is a bug.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
        }
    }

    pub(crate) fn not_found(entity: EntityKind, key: impl Into<String>) -> Self {
        Error::NotFound {
            entity,
            key: key.into(),
        }
    }

    pub(crate) fn incompatible(reason: impl Into<String>) -> Self {
        Error::IncompatibleFormat {
            reason: reason.into(),
        }
    }
}

/// The underlying error of a `Storage` error, shared so that [`Error`]
/// stays `Clone`; two are equal when they describe themselves alike.
///
/// It dereferences to the error itself, which is what
/// [`std::error::Error::source`] of the `Storage` error returns (so a
/// caller can `downcast_ref` it to `std::io::Error` or a redb error).
#[derive(Clone, Debug)]
pub struct ErrorSource(Arc<dyn std::error::Error + Send + Sync + 'static>);

impl ErrorSource {
    /// Wraps `err`.
    pub fn new(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        ErrorSource(Arc::new(err))
    }

    /// The error itself.
    pub fn as_dyn(&self) -> &(dyn std::error::Error + 'static) {
        &*self.0
    }
}

impl std::ops::Deref for ErrorSource {
    type Target = dyn std::error::Error + Send + Sync + 'static;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Display for ErrorSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq for ErrorSource {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn query_location(position: Option<usize>, field: Option<&str>) -> String {
    match (position, field) {
        (Some(p), Some(f)) => format!(" (at position {p}, field {f})"),
        (Some(p), None) => format!(" (at position {p})"),
        (None, Some(f)) => format!(" (field {f})"),
        (None, None) => String::new(),
    }
}

macro_rules! storage_errors {
    ($($t:ty),* $(,)?) => {
        $(impl From<$t> for Error {
            fn from(err: $t) -> Self {
                Error::storage_from(err)
            }
        })*
    };
}

storage_errors!(
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::CompactionError,
    redb::SetDurabilityError,
    std::io::Error,
);

impl From<redb::DatabaseError> for Error {
    fn from(err: redb::DatabaseError) -> Self {
        match err {
            redb::DatabaseError::DatabaseAlreadyOpen
            | redb::DatabaseError::LockProtocolMismatch => Error::Locked,
            redb::DatabaseError::UpgradeRequired(v) => {
                Error::incompatible(format!("storage engine file format {v} needs an upgrade"))
            }
            redb::DatabaseError::Storage(redb::StorageError::Corrupted(reason)) => {
                Error::incompatible(format!("not a rosterdb file ({reason})"))
            }
            redb::DatabaseError::Storage(redb::StorageError::Io(e))
                if e.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                Error::incompatible("a truncated or damaged file")
            }
            other => Error::storage_from(other),
        }
    }
}
