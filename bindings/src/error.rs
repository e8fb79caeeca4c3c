//! The one error type of the bindings, `RosterException` in Kotlin and
//! `RosterError` in Swift, and the guard that keeps panics on the Rust side.

use std::any::Any;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::EntityKind;

/// One failing field of a document: its camelCase path and what is wrong with it.
///
/// The message describes the rule that failed and never echoes the value.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct FieldError {
    /// The field's path, e.g. `username` or `externalIds[1].value`; `""` is
    /// the whole document.
    pub field: String,
    /// What is wrong, e.g. `must be 1 to 100 characters`.
    pub message: String,
}

impl FieldError {
    /// A failing field with its message.
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<rosterdb::FieldError> for FieldError {
    fn from(e: rosterdb::FieldError) -> Self {
        let rosterdb::FieldError { field, message } = e;
        FieldError { field, message }
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

/// Every way a rosterdb call can fail (SPEC §9).
///
/// Kotlin sees a sealed class `RosterException` with one subclass per
/// variant (`RosterException.NotFound`, …); `toString()` gives the
/// description below. No field is called `message`, which would clash with
/// `Throwable.message`: descriptions of what went wrong are called `reason`.
/// No variant ever carries a password, a client secret or a session token.
#[derive(Clone, Debug, PartialEq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum RosterError {
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
    #[error("invalid query: {reason}{}", query_location(*position, field.as_deref()))]
    InvalidQuery {
        /// What is wrong.
        reason: String,
        /// The character position in the expression, when there is one.
        position: Option<u64>,
        /// The field or parameter at fault, when there is one.
        field: Option<String>,
    },
    /// A JSON Patch operation is malformed or targets a read-only field.
    #[error("invalid patch: operation {op_index}: {reason}")]
    InvalidPatch {
        /// The index of the failing operation in the patch.
        op_index: u64,
        /// What is wrong.
        reason: String,
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
    /// An I/O or storage-engine error.
    #[error("storage error: {reason}")]
    Storage {
        /// The engine's description of the failure.
        reason: String,
    },
    /// A bug in rosterdb: a panic caught at the binding boundary, or an
    /// error kind newer than these bindings. Please report it.
    #[error("internal error: {reason}")]
    Internal {
        /// The panic message or the error's description.
        reason: String,
    },
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn query_location(position: Option<u64>, field: Option<&str>) -> String {
    match (position, field) {
        (Some(p), Some(f)) => format!(" (at position {p}, field {f})"),
        (Some(p), None) => format!(" (at position {p})"),
        (None, Some(f)) => format!(" (field {f})"),
        (None, None) => String::new(),
    }
}

impl RosterError {
    /// A `Validation` error with a single failing field.
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        RosterError::Validation {
            errors: vec![FieldError::new(field, message)],
        }
    }
}

impl From<rosterdb::Error> for RosterError {
    fn from(e: rosterdb::Error) -> Self {
        use rosterdb::Error as E;
        match e {
            E::NotFound { entity, key } => RosterError::NotFound {
                entity: entity.into(),
                key,
            },
            E::Conflict { entity, field } => RosterError::Conflict {
                entity: entity.into(),
                field,
            },
            E::Validation { errors } => RosterError::Validation {
                errors: errors.into_iter().map(FieldError::from).collect(),
            },
            E::InvalidQuery {
                message,
                position,
                field,
            } => RosterError::InvalidQuery {
                reason: message,
                position: position.map(to_u64),
                field,
            },
            E::InvalidPatch { op_index, message } => RosterError::InvalidPatch {
                op_index: to_u64(op_index),
                reason: message,
            },
            E::VersionConflict { expected, actual } => {
                RosterError::VersionConflict { expected, actual }
            }
            E::InUse { id, count } => RosterError::InUse { id, count },
            E::AuthenticationFailed => RosterError::AuthenticationFailed,
            E::InvalidToken => RosterError::InvalidToken,
            E::Locked => RosterError::Locked,
            E::IncompatibleFormat { reason } => RosterError::IncompatibleFormat { reason },
            E::Storage { message } => RosterError::Storage { reason: message },
            other => RosterError::Internal {
                reason: other.to_string(),
            },
        }
    }
}

/// A `usize` as the `u64` the foreign API uses (lossless on every target).
fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Runs one call of the foreign API, turning a panic into
/// [`RosterError::Internal`] so that it never crosses the FFI boundary.
pub(crate) fn guard<T>(call: impl FnOnce() -> Result<T, RosterError>) -> Result<T, RosterError> {
    catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|payload| {
        Err(RosterError::Internal {
            reason: format!("a panic in rosterdb: {}", panic_text(payload.as_ref())),
        })
    })
}

/// The message of a panic payload, when it has one.
fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "no message"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let err = guard::<()>(|| panic!("boom {}", 42)).unwrap_err();
        assert_eq!(
            err,
            RosterError::Internal {
                reason: "a panic in rosterdb: boom 42".into()
            }
        );
        let err = guard::<()>(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert!(err.to_string().ends_with("no message"), "{err}");
    }

    #[test]
    fn results_pass_through_the_guard() {
        assert_eq!(guard(|| Ok(3)), Ok(3));
        assert_eq!(
            guard::<()>(|| Err(RosterError::Locked)),
            Err(RosterError::Locked)
        );
    }

    #[test]
    fn every_core_kind_maps_to_its_variant_with_its_data() {
        use rosterdb::Error as E;
        let cases = [
            (
                E::NotFound {
                    entity: rosterdb::EntityKind::Role,
                    key: "id 9".into(),
                },
                RosterError::NotFound {
                    entity: EntityKind::Role,
                    key: "id 9".into(),
                },
            ),
            (
                E::Conflict {
                    entity: rosterdb::EntityKind::User,
                    field: "email".into(),
                },
                RosterError::Conflict {
                    entity: EntityKind::User,
                    field: "email".into(),
                },
            ),
            (
                E::invalid("username", "is required"),
                RosterError::invalid("username", "is required"),
            ),
            (
                E::InvalidQuery {
                    message: "unexpected end".into(),
                    position: Some(4),
                    field: Some("sort".into()),
                },
                RosterError::InvalidQuery {
                    reason: "unexpected end".into(),
                    position: Some(4),
                    field: Some("sort".into()),
                },
            ),
            (
                E::InvalidPatch {
                    op_index: 2,
                    message: "read-only".into(),
                },
                RosterError::InvalidPatch {
                    op_index: 2,
                    reason: "read-only".into(),
                },
            ),
            (
                E::VersionConflict {
                    expected: 1,
                    actual: 2,
                },
                RosterError::VersionConflict {
                    expected: 1,
                    actual: 2,
                },
            ),
            (
                E::InUse { id: 3, count: 5 },
                RosterError::InUse { id: 3, count: 5 },
            ),
            (E::AuthenticationFailed, RosterError::AuthenticationFailed),
            (E::InvalidToken, RosterError::InvalidToken),
            (E::Locked, RosterError::Locked),
            (
                E::IncompatibleFormat {
                    reason: "newer".into(),
                },
                RosterError::IncompatibleFormat {
                    reason: "newer".into(),
                },
            ),
            (
                E::storage("disk full"),
                RosterError::Storage {
                    reason: "disk full".into(),
                },
            ),
        ];
        for (core, expected) in cases {
            let text = core.to_string();
            let mapped = RosterError::from(core);
            assert_eq!(mapped, expected);
            assert_eq!(mapped.to_string(), text, "the description is the core's");
        }
    }
}
