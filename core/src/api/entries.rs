//! The entry points every handle shares ([`Store`], [`WriteTx`],
//! [`ReadTx`], [`View`]): its collections, change log, logins and
//! sessions; and the store's calls that reach above storage (views of a
//! tenant, export, import).

use std::path::Path;
use std::time::Duration;

use crate::api::collection::Collection;
use crate::api::view::View;
use crate::auth::login::{self, Credentials};
use crate::storage::changelog::{self, Change};
use crate::storage::tx::{ReadContext, ReadTx, WriteTx};
use crate::transfer::jsonl;
use crate::{Client, Login, Principal, Result, Role, Secret, Store, User};

macro_rules! collection_handles {
    ($([$($generics:tt)*] $t:ty),*) => {$(
        impl<$($generics)*> $t {
            /// The users.
            pub fn users(&self) -> Collection<'_, Self, User> {
                Collection::new(self)
            }

            /// The roles.
            pub fn roles(&self) -> Collection<'_, Self, Role> {
                Collection::new(self)
            }

            /// The app-clients.
            pub fn clients(&self) -> Collection<'_, Self, Client> {
                Collection::new(self)
            }

            /// Up to `limit` (1–1000) change-log entries after sequence number `after`.
            pub fn changes(&self, after: u64, limit: usize) -> Result<Vec<Change>> {
                self.with_tables(|t| changelog::read(t, after, limit, self.scope()))
            }

            /// Who a session token stands for: kind, id, tenant, role ids,
            /// and the union of those roles' permissions as they are now.
            /// `InvalidToken` for a malformed, unknown, expired or revoked
            /// token, and for one whose user or client was deleted or
            /// disabled (or, in a view of a tenant, belongs to another tenant).
            pub fn authenticate(&self, token: &str) -> Result<Principal> {
                login::authenticate(self, token)
            }
        }
    )*};
}

collection_handles!([] Store, [] WriteTx, [] ReadTx, [A] View<'_, A>);

macro_rules! login_handles {
    ($($t:ty),*) => {$(
        impl $t {
            /// Checks a user's credentials like
            /// [`Collection::verify_password`] and opens a session of `ttl`
            /// (1 s to 30 days; [`crate::DEFAULT_SESSION_TTL`] is 15
            /// minutes), returning its bearer token (shown only here) and
            /// the user. `InvalidArgument` for a bad `ttl` or when called
            /// inside a transaction (a rollback would undo the failure
            /// count); `AuthenticationFailed` for any failed check.
            pub fn login(&self, credentials: &Credentials, ttl: Duration) -> Result<Login<User>> {
                login::login(self, credentials, ttl)
            }

            /// Checks a client's secret, that it is enabled and that `ip`
            /// lies in its `ipAllowlist` (any address when the list is
            /// empty; an IPv4-mapped IPv6 address counts as its IPv4
            /// address), sets `lastUsedAt` (bookkeeping) and opens a session
            /// of `ttl` (docs/reference/credentials.md, Client logins). Every failure is
            /// `AuthenticationFailed`; inside a transaction it is `InvalidArgument`, as for
            /// `login`.
            pub fn client_login(
                &self,
                client_id: &str,
                secret: &Secret,
                ip: Option<&str>,
                ttl: Duration,
            ) -> Result<Login<Client>> {
                login::client_login(self, client_id, secret, ip, ttl)
            }

            /// Ends the session of `token`; an unknown, expired or
            /// malformed token is a no-op (and writes nothing).
            pub fn logout(&self, token: &str) -> Result<()> {
                login::logout(self, token)
            }
        }
    )*};
}

login_handles!(Store, WriteTx, View<'_>);

impl Store {
    /// A view of one tenant: creates set the tenant, and every other
    /// tenant's records are `NotFound` (docs/reference/tenancy.md). Fails with `Validation`
    /// naming `tenant` when it is not a valid tenant.
    pub fn scoped(&self, tenant: &str) -> Result<View<'_>> {
        View::new(self, tenant)
    }

    /// Writes every role, user and client to `path` as JSON Lines (roles
    /// first; credential hashes, never plaintext) and returns the count.
    pub fn export_jsonl(&self, path: impl AsRef<Path>) -> Result<u64> {
        jsonl::export(self, path.as_ref())
    }

    /// Loads a file written by [`Store::export_jsonl`] into this empty
    /// store (otherwise `Conflict`), all or nothing, keeping ids,
    /// timestamps and versions; returns how many records were read.
    pub fn import_jsonl(&self, path: impl AsRef<Path>) -> Result<u64> {
        jsonl::import(self, path.as_ref())
    }

    /// Writes what [`Store::export_jsonl`] writes to a file to `out`
    /// instead (buffered here, flushed at the end; not synced), from one
    /// snapshot, and returns the count. For a caller that streams the
    /// export (to a pipe, through a progress meter) or places the file
    /// itself. Write failures are `Storage`.
    pub fn export_jsonl_to(&self, mut out: impl std::io::Write) -> Result<u64> {
        jsonl::export_to(self, &mut out)
    }

    /// Loads lines as [`Store::export_jsonl`] writes them, read from
    /// `input` to its end, into this empty store as
    /// [`Store::import_jsonl`] loads a file: all or nothing, otherwise
    /// `Conflict`; a line that is not a record is `Validation` naming the
    /// line; a failed read is `Storage`. Returns how many records were read.
    pub fn import_jsonl_from(&self, mut input: impl std::io::BufRead) -> Result<u64> {
        jsonl::import_from(self, &mut input)
    }
}
