//! `RosterStore`: an open store or a scoped view of it, its life (open,
//! views, close) and its whole-store operations. The record, query and
//! credential calls it shares with `RosterTransaction` live in `records`,
//! `lists` and `auth`; the rules (closed, busy, scoped refusals) are the
//! core's `StoreHandle`'s.

use std::sync::Arc;

use rosterdb::StoreHandle;

use crate::error::guard;
use crate::json::NOT_UNICODE;
use crate::{CheckReport, RosterError, StoreOptions, UnicodeString};

/// A file path: `Storage` when it is not Unicode, as for any file name
/// the system refuses.
fn path(path: UnicodeString) -> Result<String, RosterError> {
    path.unicode().map_err(|_| {
        rosterdb::Error::storage(
            "the path is not a valid file name: it holds lone surrogate code points",
        )
        .into()
    })
}

/// An open rosterdb store: users, roles and app-clients in one file, or a
/// view of one tenant of it (`scoped`).
///
/// Open one with `RosterStore.open(path)` or `RosterStore.memory()` and
/// share it between threads freely. Every call is its own durable
/// transaction (group calls with `transaction`) and blocks while it runs
/// (password hashing takes tens of milliseconds), so call it off the UI
/// thread.
///
/// Releasing this object (Kotlin `close()` or `use { }`, Swift: dropping
/// the last reference) releases the file once no view, walk or
/// transaction made from it holds it any more; `closeStore()` closes it for
/// all of them at once.
#[derive(uniffi::Object)]
pub struct RosterStore {
    handle: StoreHandle,
}

impl RosterStore {
    /// Where this store's record calls go.
    pub(crate) fn target(&self) -> &StoreHandle {
        &self.handle
    }

    /// A store object of `handle`.
    fn wrap(handle: StoreHandle) -> Arc<Self> {
        Arc::new(RosterStore { handle })
    }
}

#[uniffi::export]
impl RosterStore {
    /// Opens the store file at `path`, creating it (or initialising a 0-byte
    /// file) when needed. Fails with `Locked` when another store holds the
    /// file, and with `IncompatibleFormat`, leaving it untouched, when it is
    /// not a rosterdb file or comes from a newer release.
    #[uniffi::constructor(default(options = None))]
    pub fn open(
        path: UnicodeString,
        options: Option<StoreOptions>,
    ) -> Result<Arc<Self>, RosterError> {
        guard(|| {
            let options = options.unwrap_or_default().try_into()?;
            let path = self::path(path)?;
            let store = rosterdb::Store::open(path, options)?;
            Ok(RosterStore::wrap(StoreHandle::new(store)))
        })
    }

    /// A new, empty store that lives in memory only, for tests and previews.
    #[uniffi::constructor(default(options = None))]
    pub fn memory(options: Option<StoreOptions>) -> Result<Arc<Self>, RosterError> {
        guard(|| {
            let store = rosterdb::Store::memory_with(options.unwrap_or_default().try_into()?)?;
            Ok(RosterStore::wrap(StoreHandle::new(store)))
        })
    }

    /// A view of `tenant` with the whole API of the store (docs/reference/tenancy.md):
    /// creates set the tenant (naming another is `Validation` on `tenant`),
    /// lookups use it, lists, counts, plans, cursors, walks, transactions
    /// and `changes` see only its records, and any other tenant's record is
    /// `NotFound`. Export, import, check and compact work on the whole
    /// store only: a view refuses them with `Storage`. The view shares the
    /// open store (it keeps the file open until it is released too, or
    /// until `closeStore()`). An invalid tenant is `Validation` on
    /// `tenant`; a closed store is `Closed`. Called on a view, it gives a
    /// view of `tenant`, as the Python binding does.
    pub fn scoped(&self, tenant: UnicodeString) -> Result<Arc<RosterStore>, RosterError> {
        guard(|| {
            let tenant = tenant.unicode().map_err(|_| {
                RosterError::invalid(
                    "tenant",
                    rosterdb::ValidationCode::StringUnicode,
                    NOT_UNICODE,
                )
            })?;
            Ok(RosterStore::wrap(self.handle.scoped(&tenant)?))
        })
    }

    /// The tenant of a scoped view; `null`/`nil` for the whole store.
    pub fn tenant(&self) -> Option<String> {
        self.handle.tenant().map(str::to_owned)
    }

    /// Closes the store for this object and every view, walk and
    /// transaction made from it: every later call on any of them is
    /// `Closed` ("the store is closed"). The file closes once the calls
    /// running now end; an open transaction is rolled back when its body
    /// returns. Closing again does nothing. It may wait on the disk.
    pub fn close_store(&self) {
        self.handle.close();
    }

    /// Writes every role, user and client to the file at `path` (created or
    /// truncated) as JSON Lines, roles first, with credential hashes and
    /// never plaintext (docs/reference/changes-and-export.md); returns how many records were
    /// written.
    pub fn export_jsonl(&self, path: UnicodeString) -> Result<u64, RosterError> {
        guard(|| {
            let path = self::path(path)?;
            Ok(self.handle.export_jsonl(path)?)
        })
    }

    /// Loads a file written by `exportJsonl` into this store, which must be
    /// empty (otherwise `Conflict`), all or nothing, keeping ids,
    /// timestamps and versions; returns how many records were read. A bad
    /// line is an error naming the line, and nothing is written.
    pub fn import_jsonl(&self, path: UnicodeString) -> Result<u64, RosterError> {
        guard(|| {
            let path = self::path(path)?;
            Ok(self.handle.import_jsonl(path)?)
        })
    }

    /// Verifies that every index entry matches its record and every record
    /// has its index entries.
    pub fn check(&self) -> Result<CheckReport, RosterError> {
        guard(|| Ok(self.handle.check()?.into()))
    }

    /// Reclaims unused file space and returns whether anything was
    /// reclaimed. It needs the store to itself: while another call, a
    /// view's call or an open transaction holds it, it fails with `Busy`
    /// ("the store is in use by another call").
    pub fn compact(&self) -> Result<bool, RosterError> {
        guard(|| Ok(self.handle.compact()?))
    }
}
