//! Kotlin and Swift bindings of rosterdb, generated with
//! [uniffi](https://mozilla.github.io/uniffi-rs/).
//!
//! This crate only converts: every operation is one call into the `rosterdb`
//! core, with its documents turned into uniffi records and its errors into
//! [`RosterError`] (`RosterException` in Kotlin). No behaviour lives here
//! that the core lacks.
//!
//! Conventions of the foreign API:
//! - ids are `u64` (Kotlin `ULong`, Swift `UInt64`);
//! - timestamps are RFC 3339 UTC strings with milliseconds ([`Timestamp`]);
//! - text a caller sends is a [`UnicodeString`] (a `String` in Kotlin and
//!   Swift that crosses as bytes, so that a Kotlin string holding lone
//!   surrogates reaches Rust and ends in a typed error);
//! - free-form JSON (`attributes`, whole documents, patches) crosses as
//!   text ([`JsonObject`], or a [`UnicodeString`] for the `*_json` entry
//!   points and updates), read without recursion;
//! - a query is a [`ListQuery`] record, turned into the core's typed query
//!   arguments; pages come back as records ([`UserPage`], …) or as JSON
//!   text, and walks ([`UserWalk`], …, [`RosterWalk`]) return every match
//!   one at a time;
//! - [`RosterStore`] and [`RosterTransaction`] take the same record calls;
//!   a transaction's work is a [`TransactionBody`] written in Kotlin or
//!   Swift, and the rules of closed stores, busy stores, scoped views and
//!   transaction states are the core's (`rosterdb::StoreHandle`,
//!   `rosterdb::TxHandle`);
//! - passwords, client secrets, session tokens, TOTP secrets and recovery
//!   codes travel in a [`Secret`] object, whose `toString()`/`description`
//!   (and Rust `Debug`) never shows the value, so records carrying one can
//!   be printed whole;
//! - a panic in Rust is caught at the boundary and reported as
//!   [`RosterError::Internal`]; it never unwinds into the JVM or Swift.

#![warn(missing_docs)]

#[macro_use]
mod convert;
#[macro_use]
mod calls;
mod auth;
mod documents;
mod error;
mod inputs;
mod json;
mod lists;
mod query;
mod records;
mod store;
mod transaction;
mod values;
mod walk;

pub use auth::{ClientLogin, Principal, PrincipalKind, Session, TotpEnrollment, UserLogin};
pub use documents::{Change, CheckReport, Client, CreatedClient, ExternalId, Role, User};
pub use error::{FieldError, RosterError};
pub use inputs::{NewClient, NewRole, NewUser, StoreOptions};
pub use query::{ClientPage, ListQuery, RolePage, UserPage};
pub use store::RosterStore;
pub use transaction::{RosterTransaction, TransactionBody};
pub use values::{ChangeOp, EntityKind, JsonObject, Secret, Timestamp, UnicodeString};
pub use walk::{ClientWalk, RoleWalk, RosterWalk, UserWalk};

uniffi::setup_scaffolding!("rosterdb");
