//! Handles for language bindings: a store shared by its scoped views and
//! transactions, that can be closed, with the rules every binding would
//! otherwise keep itself (closed stores, busy stores, scoped views refusing
//! whole-store operations, one open transaction per thread).

mod store;
mod transaction;

pub use store::StoreHandle;
pub use transaction::TxHandle;

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::ThreadId;

use crate::{Error, Result, Store};

/// `Closed`: a call on a closed store.
const CLOSED: &str = "the store is closed";

/// `Busy`: a store-level write from the thread whose transaction is open
/// would wait for that transaction forever.
const WRITING: &str =
    "a transaction is open in this thread: write through the transaction's collections";

/// What a store's handles share: the open store (none once closed) and the
/// thread that holds an open transaction, if any.
#[derive(Debug)]
struct Shared {
    store: RwLock<Option<Arc<Store>>>,
    writer: Mutex<Option<ThreadId>>,
}

impl Shared {
    fn new(store: Store) -> Shared {
        Shared {
            store: RwLock::new(Some(Arc::new(store))),
            writer: Mutex::new(None),
        }
    }

    /// The open store, held for one call; `Closed` once it is closed.
    fn store(&self) -> Result<Arc<Store>> {
        self.store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| Error::closed(CLOSED))
    }

    fn is_closed(&self) -> bool {
        self.store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// Takes the store out: later calls are `Closed`. The store itself
    /// closes when the last call or transaction holding it lets it go.
    fn close(&self) -> Option<Arc<Store>> {
        self.store
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// `Busy` when the calling thread holds an open transaction.
    fn check_not_writing(&self) -> Result<()> {
        let writer = *self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if writer == Some(std::thread::current().id()) {
            return Err(Error::busy(WRITING));
        }
        Ok(())
    }

    fn set_writer(&self, writer: Option<ThreadId>) {
        *self.writer.lock().unwrap_or_else(PoisonError::into_inner) = writer;
    }
}
