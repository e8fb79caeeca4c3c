//! `StoreHandle`: an open store or a scoped view of it, as a binding holds it.

use std::path::Path;
use std::sync::{Arc, PoisonError};

use super::{CLOSED, Shared, TxHandle};
use crate::{CheckReport, Error, Result, Store, View};

/// Decision 0003: the refusal of a whole-store operation in a scoped view.
const WHOLE_STORE: &str =
    "export, import, check and compact work on the whole store, not a scoped view";

/// `Busy`: `compact` while another call, view call or transaction holds the store.
const IN_USE: &str = "the store is in use by another call";

/// A store as a language binding holds it: shared by every view and
/// transaction made from it (clones are cheap and share it too), closed
/// once for all of them, and seeing one tenant when it is a scoped view.
///
/// Every call fails with `Closed` ("the store is closed") once the store is
/// closed. Whole-store operations (export, import, check, compact) fail
/// with `Storage` in a scoped view (decision 0003). A store-level write
/// from the thread whose [`TxHandle`] is open fails with `Busy` instead of
/// waiting for that transaction forever; reads go to the last commit.
///
/// ```
/// use rosterdb::{NewUser, Store, StoreHandle};
///
/// let store = StoreHandle::new(Store::memory()?);
/// let acme = store.scoped("acme")?;
/// acme.write(|c| c.users().create(NewUser::new("ann", "ann@example.com", "A", "B")))?;
/// assert_eq!(store.read(|c| c.users().get(1))?.tenant.as_deref(), Some("acme"));
/// assert!(acme.check().is_err(), "a view refuses whole-store operations");
/// store.close();
/// assert!(matches!(acme.read(|c| c.users().get(1)), Err(rosterdb::Error::Closed { .. })));
/// # Ok::<(), rosterdb::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct StoreHandle {
    shared: Arc<Shared>,
    /// The tenant of a scoped view (one [`Store::scoped`] accepted); `None`
    /// for the whole store.
    tenant: Option<Arc<str>>,
}

impl From<Store> for StoreHandle {
    fn from(store: Store) -> StoreHandle {
        StoreHandle::new(store)
    }
}

impl StoreHandle {
    /// The whole store, open until [`StoreHandle::close`].
    pub fn new(store: Store) -> StoreHandle {
        StoreHandle {
            shared: Arc::new(Shared::new(store)),
            tenant: None,
        }
    }

    /// A view of `tenant` sharing this store (docs/reference/tenancy.md): creates set the
    /// tenant, lookups, lists, counts, cursors and changes see only its
    /// records, whole-store operations are refused. Called on a view, it
    /// gives a view of `tenant`. `Validation` on `tenant` for an invalid
    /// tenant; `Closed` when the store is closed.
    pub fn scoped(&self, tenant: &str) -> Result<StoreHandle> {
        self.shared.store()?.scoped(tenant)?;
        Ok(StoreHandle {
            shared: Arc::clone(&self.shared),
            tenant: Some(Arc::from(tenant)),
        })
    }

    /// The tenant of a scoped view; `None` for the whole store.
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// Whether the store was closed (through this handle or any other).
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// Runs `f` with the store, or the view of its tenant: each call `f`
    /// makes is its own transaction, reads see the last commit. `Closed`
    /// when the store is closed; `f`'s own error otherwise.
    ///
    /// Use [`StoreHandle::write`] for anything that may write (it also
    /// refuses the thread that holds an open transaction).
    pub fn read<T, E: From<Error>>(
        &self,
        f: impl FnOnce(View<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let store = self.shared.store()?;
        f(self.context(&store))
    }

    /// Runs `f`, which may write, with the store or the view of its tenant:
    /// each call `f` makes is its own durable transaction, waiting for any
    /// other thread's open transaction. `Closed` when the store is closed;
    /// `Busy` when this thread holds an open [`TxHandle`] (write through
    /// it instead); `f`'s own error otherwise.
    pub fn write<T, E: From<Error>>(
        &self,
        f: impl FnOnce(View<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.shared.check_not_writing()?;
        self.read(f)
    }

    fn context<'a>(&'a self, store: &'a Store) -> View<'a> {
        View::of_checked(store, self.tenant.clone())
    }

    /// A transaction on this store (seeing this view's tenant), not begun:
    /// see [`TxHandle`].
    pub fn transaction(&self) -> TxHandle {
        TxHandle::new(Arc::clone(&self.shared), self.tenant.clone())
    }

    /// `Storage` in a scoped view (decision 0003).
    fn whole_store(&self) -> Result<()> {
        match self.tenant {
            Some(_) => Err(Error::storage(WHOLE_STORE)),
            None => Ok(()),
        }
    }

    /// [`Store::export_jsonl`]: every record to `path`; returns the count.
    /// `Storage` in a scoped view, `Closed` when the store is closed.
    pub fn export_jsonl(&self, path: impl AsRef<Path>) -> Result<u64> {
        self.whole_store()?;
        self.shared.store()?.export_jsonl(path)
    }

    /// [`Store::import_jsonl`]: loads an export into this empty store, all
    /// or nothing; returns the count. `Storage` in a scoped view, `Busy`
    /// from the thread that holds an open transaction, `Closed` when the
    /// store is closed.
    pub fn import_jsonl(&self, path: impl AsRef<Path>) -> Result<u64> {
        self.whole_store()?;
        self.shared.check_not_writing()?;
        self.shared.store()?.import_jsonl(path)
    }

    /// [`Store::check`]: index entries against records. `Storage` in a
    /// scoped view, `Closed` when the store is closed.
    pub fn check(&self) -> Result<CheckReport> {
        self.whole_store()?;
        self.shared.store()?.check()
    }

    /// [`Store::compact`]: reclaims unused file space; returns whether
    /// anything was reclaimed. It needs the store to itself: `Busy` ("the
    /// store is in use by another call") while another call, a view's
    /// call or an open transaction holds it. `Storage` in a scoped view,
    /// `Closed` when the store is closed. Other calls wait while it runs.
    pub fn compact(&self) -> Result<bool> {
        self.whole_store()?;
        let mut guard = self
            .shared
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let store = guard.as_mut().ok_or_else(|| Error::closed(CLOSED))?;
        let store = Arc::get_mut(store).ok_or_else(|| Error::busy(IN_USE))?;
        store.compact()
    }

    /// Closes the store for every handle of it: later calls are `Closed`.
    /// The file closes when the calls running now end, or, while a
    /// transaction is open, when it ends (it is then rolled back). Closing
    /// again does nothing. It may wait on the disk.
    pub fn close(&self) {
        drop(self.shared.close());
    }
}
