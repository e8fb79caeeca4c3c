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
//!
//! # Performance
//!
//! A store's page cache is one heap allocation per 4 KiB page, and every
//! write allocates and frees a few. On glibc's `malloc` a process that has
//! imported a large store can then spend half of a write in the allocator;
//! programs that hold stores of 100,000 users or more should set
//! [mimalloc](https://docs.rs/mimalloc) (or jemalloc) as their
//! `#[global_allocator]`, as rosterdb's Python extension does (decision
//! 0020 in `docs/decisions`; measurements in `docs/BENCHMARKS.md`). On
//! Linux, build mimalloc with its `no_thp` feature: otherwise it asks for
//! transparent huge pages on all its memory, and on a virtual machine that
//! hands freed memory back to its host, a bulk import in a new process can
//! then spend most of its time zeroing fresh 2 MiB pages (decision 0030).

mod api;
mod auth;
mod documents;
mod error;
#[cfg(feature = "internals")]
pub mod internals;
pub mod query;
mod settings;
mod storage;
mod transfer;

pub use api::account::TotpEnrollment;
pub use api::collection::Collection;
pub use api::handle::{StoreHandle, TxHandle};
pub use api::view::{Context, ReadOnly, ReadWrite, Scope, Target, View};
pub use auth::login::Credentials;
pub use auth::sessions::{
    DEFAULT_SESSION_TTL, Login, MAX_SESSION_TTL, Principal, Session, TOKEN_PREFIX,
};
pub use documents::attributes::Attributes;
pub use documents::caseless::fold;
pub use documents::client::{Client, ClientField, CreatedClient, NewClient};
pub use documents::fields::{Access, FieldId, FieldLists, FieldSpec, FieldType, IndexTable};
pub use documents::json_build::JsonBuilder;
pub use documents::pointer::{PointerStep, field_steps};
pub use documents::role::{NewRole, Role, RoleField};
pub use documents::rules::MAX_ATTRIBUTES_DEPTH;
pub use documents::secret::Secret;
pub use documents::time::Timestamp;
pub use documents::user::{ExternalId, NewUser, User, UserField};
pub use documents::validated::Validated;
pub use error::json_messages;
pub use error::{
    EntityKind, Error, ErrorSource, FieldError, PatchCode, PathStep, QueryCode, Result,
    ValidationCode, field_name,
};
pub use query::args::{ListArg, QueryArgs};
pub use query::walk::{Walk, WalkItems};
pub use query::{Page, Query};
pub use settings::{Argon2Params, Lockout, MAX_LOCKOUT_SECONDS};
pub use storage::changelog::{Change, ChangeOp, MAX_CHANGES_PER_CALL};
pub use storage::clock::{Clock, ManualClock};
pub use storage::entity::{Editable, Entity};
pub use storage::format::FORMAT_VERSION;
pub use storage::index::IndexDef;
pub use storage::integrity::CheckReport;
pub use storage::store::{DEFAULT_CACHE_BYTES, MIN_CACHE_BYTES, Options, Store};
pub use storage::tx::{ReadContext, ReadTx, WriteContext, WriteTx};

/// The trait a backend implements to hold a store (see [`Store::open_with_backend`]).
pub use redb::StorageBackend;
/// redb's storage backends (`FileBackend`, `InMemoryBackend`), to open a
/// store on with [`Store::open_with_backend`], directly or wrapped.
pub use redb::backends;

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
