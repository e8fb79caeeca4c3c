//! rosterdb: an embedded identity store.
//!
//! Users, roles (permission groups) and app-clients (service identities) live
//! in one [redb](https://docs.rs/redb) file, with unique indexes, Argon2id
//! credential hashing, all-or-nothing transactions and a change log.
//!
//! ```
//! use rosterdb::{NewRole, NewUser, Store};
//!
//! let store = Store::memory()?;
//! let admins = store.roles().create(NewRole {
//!     permissions: vec!["users:write".into()],
//!     ..NewRole::new("admins")
//! })?;
//! let alice = store.users().create(NewUser {
//!     roles: vec![admins.id],
//!     ..NewUser::new("alice", "alice@example.com", "Alice", "Liddell")
//! })?;
//! assert_eq!(store.users().get_by_email("ALICE@example.com", None)?.id, alice.id);
//! # Ok::<(), rosterdb::Error>(())
//! ```

mod account;
mod allowlist;
mod caseless;
mod changelog;
mod client;
mod clock;
mod codec;
mod collection;
mod credentials;
mod entity;
mod error;
mod fields;
mod format;
mod handle;
mod hashes;
mod header;
mod input;
mod integrity;
#[cfg(feature = "internals")]
pub mod internals;
mod json;
mod keys;
mod lockout;
mod login;
mod migrations;
mod pointer;
pub mod query;
mod query_args;
pub use query::{Page, Query};
pub use query_args::{ListArg, QueryArgs};
pub use rules::MAX_ATTRIBUTES_DEPTH;
mod role;
mod rules;
mod schema;
mod scope;
mod secret;
mod sessions;
mod store;
mod time;
mod totp;
mod transfer;
mod tx;
mod update;
mod user;
mod walk;

pub use account::TotpEnrollment;
pub use caseless::fold;
pub use changelog::{Change, ChangeOp, MAX_CHANGES_PER_CALL};
pub use client::{Client, ClientField, CreatedClient, NewClient};
pub use clock::{Clock, ManualClock};
pub use collection::Collection;
pub use credentials::Argon2Params;
pub use entity::Entity;
pub use error::{
    EntityKind, Error, ErrorSource, FieldError, PatchCode, PathStep, QueryCode, Result,
    ValidationCode, field_name,
};
pub use fields::{Access, FieldId, FieldLists, FieldSpec, FieldType, IndexDef, IndexTable};
pub use format::FORMAT_VERSION;
pub use handle::{StoreHandle, TxHandle};
pub use integrity::CheckReport;
pub use lockout::{Lockout, MAX_LOCKOUT_SECONDS};
pub use login::Credentials;
pub use role::{NewRole, Role, RoleField};
pub use scope::Scope;
pub use secret::Secret;
pub use sessions::{DEFAULT_SESSION_TTL, Login, MAX_SESSION_TTL, Principal, Session, TOKEN_PREFIX};
pub use store::{Options, Store};
pub use time::Timestamp;
pub use tx::{Context, ReadContext, ReadTx, WriteContext, WriteTx};
pub use update::Editable;
pub use user::{ExternalId, NewUser, User, UserField};
pub use walk::{Walk, WalkItems};

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
