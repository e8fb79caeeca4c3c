//! `TxHandle`: a write transaction as a binding holds it, with its states.

use std::sync::{Arc, Mutex, PoisonError};

use super::Shared;
use crate::{Error, Result, Store, View, WriteTx};

const NOT_BEGUN: &str = "the transaction has not begun: use it in a with block";
const FINISHED: &str = "the transaction is finished";
const TWICE: &str = "a transaction can be entered only once";
const CLOSED_WHILE_OPEN: &str = "the store was closed; the transaction was rolled back";

/// The life of a transaction.
enum State {
    /// Made, not begun.
    NotBegun,
    /// [`TxHandle::begin`] is waiting for the store's writer lock.
    Beginning,
    /// Begun: calls join it.
    Open(Box<Open>),
    /// Committed or rolled back.
    Finished,
}

/// An open transaction and what it holds.
struct Open {
    /// Declared first: rolled back (when dropped open) before the store
    /// it belongs to can close.
    tx: WriteTx,
    /// Keeps the store open while the transaction is, even once closed,
    /// and makes `compact` busy.
    store: Arc<Store>,
}

/// A write transaction as a language binding holds it (a Python `with`
/// block, a Kotlin `transaction { }`): made by
/// [`StoreHandle::transaction`](crate::StoreHandle::transaction), begun
/// once, then committed or rolled back. Everything called through it
/// commits together or not at all; reads through it see its own writes.
///
/// States and errors:
/// - not begun → [`TxHandle::begin`] → open → [`TxHandle::end`] (or
///   [`commit`](TxHandle::commit), [`rollback`](TxHandle::rollback)) →
///   finished;
/// - a call through a transaction that is not open is `Closed` ("the
///   transaction has not begun: use it in a with block", "the transaction
///   is finished"), and so is any call once the store is closed ("the store
///   is closed");
/// - beginning twice is `Busy` ("a transaction can be entered only once"),
///   and so is beginning, or writing through the store, from a thread that
///   holds an open transaction;
/// - closing the store while it is open rolls it back when it ends;
/// - a transaction of a scoped view sees the view's tenant.
///
/// Dropping an open transaction rolls it back.
///
/// ```
/// use rosterdb::{NewUser, Store, StoreHandle};
///
/// let store = StoreHandle::new(Store::memory()?);
/// let tx = store.transaction();
/// tx.begin()?;
/// tx.call(|c| c.users().create(NewUser::new("ann", "ann@example.com", "A", "B")))?;
/// assert!(store.write(|c| c.users().delete(1)).is_err(), "busy: this thread's transaction is open");
/// tx.end(true)?;
/// assert_eq!(store.read(|c| c.users().count(&rosterdb::Query::all()))?, 1);
/// # Ok::<(), rosterdb::Error>(())
/// ```
pub struct TxHandle {
    shared: Arc<Shared>,
    tenant: Option<Arc<str>>,
    state: Mutex<State>,
}

impl std::fmt::Debug for TxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &*self.state.lock().unwrap_or_else(PoisonError::into_inner) {
            State::NotBegun => "not begun",
            State::Beginning => "beginning",
            State::Open(_) => "open",
            State::Finished => "finished",
        };
        f.debug_struct("TxHandle")
            .field("tenant", &self.tenant)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl TxHandle {
    pub(super) fn new(shared: Arc<Shared>, tenant: Option<Arc<str>>) -> TxHandle {
        TxHandle {
            shared,
            tenant,
            state: Mutex::new(State::NotBegun),
        }
    }

    /// The tenant of the scoped view it was made from; `None` for the whole store.
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// Whether it has begun and not yet ended.
    pub fn is_open(&self) -> bool {
        matches!(*self.lock(), State::Open(_))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Begins the transaction, waiting while another thread's transaction
    /// is open. `Closed` when the store is closed; `Busy` when it was begun
    /// before, or when this thread holds another open transaction (which
    /// it would wait for forever).
    pub fn begin(&self) -> Result<()> {
        let store = self.shared.store()?;
        {
            let mut state = self.lock();
            if !matches!(*state, State::NotBegun) {
                return Err(Error::busy(TWICE));
            }
            self.shared.check_not_writing()?;
            *state = State::Beginning;
        }
        // Waits for the writer lock without holding the state.
        let begun = store.begin_write();
        let mut state = self.lock();
        match begun {
            // Ended by another thread meanwhile: the new transaction rolls
            // back as it drops.
            Ok(_) if !matches!(*state, State::Beginning) => Err(Error::closed(FINISHED)),
            Ok(tx) => {
                self.shared.set_writer(Some(std::thread::current().id()));
                *state = State::Open(Box::new(Open { tx, store }));
                Ok(())
            }
            Err(e) => {
                if matches!(*state, State::Beginning) {
                    *state = State::NotBegun;
                }
                Err(e)
            }
        }
    }

    /// Runs `f` inside the open transaction (seeing the view's tenant when
    /// scoped): its writes commit or roll back with the transaction, its
    /// reads see them. `Closed` when the store is closed or the transaction
    /// is not open; `f`'s own error otherwise. Calls from several threads
    /// take turns.
    pub fn call<T, E: From<Error>>(
        &self,
        f: impl FnOnce(View<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.shared.store()?;
        let state = self.lock();
        match &*state {
            State::Open(open) => f(View::of_checked(&open.tx, self.tenant.clone())),
            State::NotBegun | State::Beginning => Err(Error::closed(NOT_BEGUN).into()),
            State::Finished => Err(Error::closed(FINISHED).into()),
        }
    }

    /// Ends the transaction as a `with` block or `transaction { }` does:
    /// commits it when `commit` is true and the store is still open, else
    /// rolls it back. When `commit` is true but the store was closed, it is
    /// rolled back and the result is `Closed` ("the store was closed; the
    /// transaction was rolled back"). A transaction that is not open is
    /// finished without error (there is nothing to end).
    pub fn end(&self, commit: bool) -> Result<()> {
        match self.take() {
            Some(open) => self.finish(*open, commit),
            None => Ok(()),
        }
    }

    /// Commits the open transaction (see [`TxHandle::end`]); `Closed` when
    /// it is not open.
    pub fn commit(&self) -> Result<()> {
        let open = self.take_open()?;
        self.finish(open, true)
    }

    /// Rolls the open transaction back; `Closed` when it is not open.
    pub fn rollback(&self) -> Result<()> {
        let open = self.take_open()?;
        self.finish(open, false)
    }

    /// The open transaction, leaving it finished; `None` when not open.
    fn take(&self) -> Option<Box<Open>> {
        match std::mem::replace(&mut *self.lock(), State::Finished) {
            State::Open(open) => Some(open),
            _ => None,
        }
    }

    /// The open transaction, leaving it finished; `Closed` (leaving the
    /// state as it was) when not open.
    fn take_open(&self) -> Result<Open> {
        let mut state = self.lock();
        match std::mem::replace(&mut *state, State::Finished) {
            State::Open(open) => Ok(*open),
            other => {
                let err = match other {
                    State::Finished => Error::closed(FINISHED),
                    _ => Error::closed(NOT_BEGUN),
                };
                *state = other;
                Err(err)
            }
        }
    }

    fn finish(&self, open: Open, commit: bool) -> Result<()> {
        // Before the commit lets another writer in, which sets its own thread.
        self.shared.set_writer(None);
        let Open { tx, store, .. } = open;
        let closed = self.shared.is_closed();
        let result = if commit && !closed {
            tx.commit()
        } else {
            tx.rollback().and_then(|()| {
                if commit {
                    Err(Error::closed(CLOSED_WHILE_OPEN))
                } else {
                    Ok(())
                }
            })
        };
        // The last holder of a closed store closes it here.
        drop(store);
        result
    }
}

impl Drop for TxHandle {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if matches!(state, State::Open(_)) {
            self.shared.set_writer(None);
        }
        // The open `WriteTx`, if any, rolls back as it drops.
    }
}
