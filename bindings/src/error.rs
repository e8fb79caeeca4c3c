//! The one error type of the bindings, `RosterException` in Kotlin and
//! `RosterError` in Swift, and the guard that keeps panics on the Rust side.

use std::any::Any;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use rosterdb::{PatchCode, QueryCode, ValidationCode};

use crate::EntityKind;

/// One failing field of a document: its camelCase path, the stable code of
/// the problem and what is wrong with it.
///
/// The message describes the rule that failed and never echoes the value.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct FieldError {
    /// The field's path, e.g. `username` or `externalIds[1].value`; `""` is
    /// the whole document.
    pub field: String,
    /// What kind of problem it is, a stable snake_case string such as
    /// `missing` or `string_too_long` (docs/errors.md lists them all).
    pub code: String,
    /// What is wrong, e.g. `must be 1 to 100 characters`.
    pub message: String,
}

impl FieldError {
    /// A failing field with its code and message.
    pub(crate) fn new(
        field: impl Into<String>,
        code: ValidationCode,
        message: impl Into<String>,
    ) -> Self {
        rosterdb::FieldError::new(field, code, message).into()
    }

    /// The core's field error this one stands for.
    fn to_core(&self) -> rosterdb::FieldError {
        rosterdb::FieldError::new(&self.field, validation_code(&self.code), &self.message)
    }
}

convert_fields!(rosterdb::FieldError => FieldError {
    field,
    code: |code: ValidationCode| code.as_str().to_owned(),
    message,
});

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_core().fmt(f)
    }
}

// The codes of errors built on the foreign side may name no code; a code
// never shows in an error's description, so any stands in for it there.

fn validation_code(code: &str) -> ValidationCode {
    ValidationCode::parse(code).unwrap_or(ValidationCode::InvalidState)
}

fn query_code(code: &str) -> QueryCode {
    QueryCode::parse(code).unwrap_or(QueryCode::Syntax)
}

fn patch_code(code: &str) -> PatchCode {
    PatchCode::parse(code).unwrap_or(PatchCode::InvalidOperation)
}

/// Every way a rosterdb call can fail (docs/reference/errors.md).
///
/// Kotlin sees a sealed class `RosterException` with one subclass per
/// variant (`RosterException.NotFound`, …); `toString()` gives the core's
/// description of the error, word for word. No field is called `message`, which would clash with
/// `Throwable.message`: descriptions of what went wrong are called `reason`.
/// No variant ever carries a password, a client secret or a session token.
#[derive(Clone, Debug, PartialEq, uniffi::Error)]
#[uniffi::export(Display)]
pub enum RosterError {
    /// No record with that id or key (records of another tenant included).
    NotFound {
        /// The kind of record looked for.
        entity: EntityKind,
        /// How it was looked for, e.g. `id 42` or `username "alice"`.
        key: String,
    },
    /// A unique field's value is already taken.
    Conflict {
        /// The kind of record written.
        entity: EntityKind,
        /// The camelCase name of the taken field.
        field: String,
    },
    /// The document breaks one or more field rules; every failing field is listed.
    Validation {
        /// Each failing field with its message.
        errors: Vec<FieldError>,
    },
    /// A filter, sort, projection, page or cursor is malformed.
    InvalidQuery {
        /// What kind of problem it is, a stable snake_case string such as
        /// `syntax` or `unknown_field` (docs/errors.md lists them all).
        code: String,
        /// What is wrong.
        reason: String,
        /// The character position in the expression, when there is one.
        position: Option<u64>,
        /// The field or parameter at fault, when there is one.
        field: Option<String>,
    },
    /// A JSON Patch operation is malformed or targets a read-only field.
    InvalidPatch {
        /// The index of the failing operation in the patch.
        op_index: u64,
        /// What kind of problem it is, a stable snake_case string such as
        /// `read_only` or `path_not_found` (docs/errors.md lists them all).
        code: String,
        /// What is wrong.
        reason: String,
    },
    /// The record's version is not the one the caller expected.
    VersionConflict {
        /// The version the caller sent.
        expected: u64,
        /// The version the record has.
        actual: u64,
    },
    /// A role cannot be deleted while users or clients hold it.
    InUse {
        /// The role's id.
        id: u64,
        /// How many users and clients hold it.
        count: u64,
    },
    /// A password or client-secret check failed (the reason is deliberately not told).
    AuthenticationFailed,
    /// A session token is unknown, expired or revoked.
    InvalidToken,
    /// The store file is held by another open store.
    Locked,
    /// The file is not a rosterdb store, or was written by a newer version.
    IncompatibleFormat {
        /// Why the file cannot be opened.
        reason: String,
    },
    /// An I/O or storage-engine error.
    Storage {
        /// The description of the failure.
        reason: String,
        /// The file the failing call read or wrote, when the failure is
        /// about one (opening a store, export, import).
        path: Option<String>,
    },
    /// An option or argument is out of its range: a store option
    /// (`argon2MemoryKib`, `lockoutSeconds`, `totpIssuer`, …, checked when
    /// the store opens) or a call's argument (`ttlSeconds`).
    InvalidArgument {
        /// The option or argument, named as in this API (camelCase:
        /// the core's `lockout_seconds` is `lockoutSeconds`).
        argument: String,
        /// What range or shape it must have.
        reason: String,
    },
    /// The store was closed, or the transaction the call went through is
    /// not open (not begun yet, or already committed or rolled back).
    Closed {
        /// What is closed, e.g. `the store is closed`.
        reason: String,
    },
    /// The call cannot run now because of other work on the same store
    /// (e.g. `compact` while other calls or views hold the store).
    Busy {
        /// What is in the way.
        reason: String,
    },
    /// A transaction's body (a `TransactionBody` written in Kotlin or
    /// Swift) threw an error that is not a `RosterException`/`RosterError`:
    /// the transaction was rolled back. (Kotlin's `transaction { }` rethrows
    /// the body's own exception instead.)
    Aborted {
        /// The error as its language describes it (Kotlin: its stack trace).
        reason: String,
    },
    /// A bug in rosterdb: a panic caught at the binding boundary, or an
    /// error kind newer than these bindings. Please report it.
    Internal {
        /// The panic message or the error's description.
        reason: String,
    },
}

impl RosterError {
    /// The core error this one stands for; `None` for [`RosterError::Aborted`],
    /// which only a foreign transaction body raises.
    fn to_core(&self) -> Option<rosterdb::Error> {
        use rosterdb::Error as E;
        Some(match self.clone() {
            RosterError::NotFound { entity, key } => E::NotFound {
                entity: entity.into(),
                key,
            },
            RosterError::Conflict { entity, field } => E::Conflict {
                entity: entity.into(),
                field,
            },
            RosterError::Validation { errors } => E::Validation {
                errors: errors.iter().map(FieldError::to_core).collect(),
            },
            RosterError::InvalidQuery {
                code,
                reason,
                position,
                field,
            } => E::InvalidQuery {
                code: query_code(&code),
                message: reason,
                position: position.map(|p| usize::try_from(p).unwrap_or(usize::MAX)),
                field,
            },
            RosterError::InvalidPatch {
                op_index,
                code,
                reason,
            } => E::InvalidPatch {
                op_index: usize::try_from(op_index).unwrap_or(usize::MAX),
                code: patch_code(&code),
                message: reason,
            },
            RosterError::VersionConflict { expected, actual } => {
                E::VersionConflict { expected, actual }
            }
            RosterError::InUse { id, count } => E::InUse { id, count },
            RosterError::AuthenticationFailed => E::AuthenticationFailed,
            RosterError::InvalidToken => E::InvalidToken,
            RosterError::Locked => E::Locked,
            RosterError::IncompatibleFormat { reason } => E::IncompatibleFormat { reason },
            RosterError::Storage { reason, path } => E::Storage {
                message: reason,
                path: path.map(Into::into),
                source: None,
            },
            RosterError::InvalidArgument { argument, reason } => E::InvalidArgument {
                argument,
                message: reason,
            },
            RosterError::Closed { reason } => E::Closed { message: reason },
            RosterError::Busy { reason } => E::Busy { message: reason },
            RosterError::Internal { reason } => E::Internal { message: reason },
            RosterError::Aborted { .. } => return None,
        })
    }
}

impl fmt::Display for RosterError {
    /// The core's description: the bindings never word an error themselves.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.to_core(), self) {
            (Some(core), _) => core.fmt(f),
            (None, RosterError::Aborted { reason }) => {
                write!(
                    f,
                    "the transaction was rolled back: its body threw {reason}"
                )
            }
            (None, RosterError::Internal { reason }) => write!(f, "internal error: {reason}"),
            (None, _) => f.write_str("internal error"),
        }
    }
}

impl std::error::Error for RosterError {}

impl RosterError {
    /// A `Validation` error with a single failing field.
    pub(crate) fn invalid(
        field: impl Into<String>,
        code: ValidationCode,
        message: impl Into<String>,
    ) -> Self {
        rosterdb::Error::invalid(field, code, message).into()
    }

    /// This error about the item at `index` of the list argument `what`: a
    /// `Validation` error names its fields inside the item (`email` of the
    /// fourth of `users` is `users[3].email`; the item itself, `users[3]`).
    /// Any other error is returned as it is.
    pub(crate) fn in_item(self, what: &str, index: usize) -> Self {
        match self.to_core() {
            Some(core) => core.in_item(what, index).into(),
            None => self,
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
                code,
                message,
                position,
                field,
            } => RosterError::InvalidQuery {
                code: code.as_str().to_owned(),
                reason: message,
                position: position.map(to_u64),
                field,
            },
            E::InvalidPatch {
                op_index,
                code,
                message,
            } => RosterError::InvalidPatch {
                op_index: to_u64(op_index),
                code: code.as_str().to_owned(),
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
            E::Storage { message, path, .. } => RosterError::Storage {
                reason: message,
                path: path.map(|p| p.to_string_lossy().into_owned()),
            },
            E::InvalidArgument { argument, message } => RosterError::InvalidArgument {
                argument: camel_case(&argument),
                reason: message,
            },
            E::Closed { message } => RosterError::Closed { reason: message },
            E::Busy { message } => RosterError::Busy { reason: message },
            E::Internal { message } => RosterError::Internal { reason: message },
            other => RosterError::Internal {
                reason: other.to_string(),
            },
        }
    }
}

/// The name of an option or argument as Kotlin and Swift spell it: the
/// core names them as Rust and Python do (`lockout_seconds`), this API in
/// camelCase (`lockoutSeconds`).
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
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
                E::invalid("username", ValidationCode::Missing, "is required"),
                RosterError::Validation {
                    errors: vec![FieldError {
                        field: "username".into(),
                        code: "missing".into(),
                        message: "is required".into(),
                    }],
                },
            ),
            (
                E::query(QueryCode::Syntax, "unexpected end")
                    .at_position(4)
                    .for_field("sort"),
                RosterError::InvalidQuery {
                    code: "syntax".into(),
                    reason: "unexpected end".into(),
                    position: Some(4),
                    field: Some("sort".into()),
                },
            ),
            (
                E::patch(2, PatchCode::ReadOnly, "read-only"),
                RosterError::InvalidPatch {
                    op_index: 2,
                    code: "read_only".into(),
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
                    path: None,
                },
            ),
            (
                E::storage_from(std::io::Error::other("disk full"))
                    .with_path(std::path::Path::new("/data/x.roster")),
                RosterError::Storage {
                    reason: "disk full".into(),
                    path: Some("/data/x.roster".into()),
                },
            ),
            (
                E::closed("the store is closed"),
                RosterError::Closed {
                    reason: "the store is closed".into(),
                },
            ),
            (
                E::busy("in use"),
                RosterError::Busy {
                    reason: "in use".into(),
                },
            ),
            (
                E::internal("broken"),
                RosterError::Internal {
                    reason: "broken".into(),
                },
            ),
            (
                E::argument("ttl", "must be positive"),
                RosterError::InvalidArgument {
                    argument: "ttl".into(),
                    reason: "must be positive".into(),
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

    #[test]
    fn codes_cross_as_their_strings_and_back() {
        for &code in ValidationCode::ALL {
            let field = FieldError::new("f", code, "m");
            assert_eq!(field.code, code.as_str());
            assert_eq!(field.to_core().code, code);
        }
        for &code in QueryCode::ALL {
            assert_eq!(query_code(code.as_str()), code);
        }
        for &code in PatchCode::ALL {
            assert_eq!(patch_code(code.as_str()), code);
        }
        // A code a foreign caller made up still describes the error.
        let made_up = RosterError::InvalidQuery {
            code: "no such code".into(),
            reason: "bad".into(),
            position: None,
            field: None,
        };
        assert_eq!(made_up.to_string(), "invalid query: bad");
    }

    #[test]
    fn argument_names_are_camel_cased() {
        let mapped = RosterError::from(rosterdb::Error::argument(
            "argon2_memory_kib",
            "must be at least 8",
        ));
        assert_eq!(
            mapped,
            RosterError::InvalidArgument {
                argument: "argon2MemoryKib".into(),
                reason: "must be at least 8".into(),
            }
        );
        assert_eq!(
            mapped.to_string(),
            "invalid argument argon2MemoryKib: must be at least 8"
        );
        for (core, foreign) in [
            ("ttl_seconds", "ttlSeconds"),
            ("lockout_seconds", "lockoutSeconds"),
            ("totp_issuer", "totpIssuer"),
            ("after", "after"),
            ("_x__y_", "xY"),
            ("", ""),
        ] {
            assert_eq!(camel_case(core), foreign, "{core:?}");
        }
    }
}
