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
//! - a query is a [`ListQuery`] record, turned into the core's parameter
//!   form; pages come back as records ([`UserPage`], …) or as JSON text;
//! - passwords, client secrets, session tokens, TOTP secrets and recovery
//!   codes travel in a [`Secret`] object, whose `toString()`/`description`
//!   (and Rust `Debug`) never shows the value, so records carrying one can
//!   be printed whole;
//! - a panic in Rust is caught at the boundary and reported as
//!   [`RosterError::Internal`]; it never unwinds into the JVM or Swift.

#![warn(missing_docs)]

#[macro_use]
mod convert;
mod auth;
mod documents;
mod error;
mod inputs;
mod json;
mod query;
mod store;
mod values;

pub use auth::{ClientLogin, Principal, PrincipalKind, Session, TotpEnrollment, UserLogin};
pub use documents::{Change, CheckReport, Client, CreatedClient, ExternalId, Role, User};
pub use error::{FieldError, RosterError};
pub use inputs::{NewClient, NewRole, NewUser, StoreOptions};
pub use query::{ClientPage, ListQuery, RolePage, UserPage};
pub use store::RosterStore;
pub use values::{ChangeOp, EntityKind, JsonObject, Secret, Timestamp, UnicodeString};

uniffi::setup_scaffolding!("rosterdb");
