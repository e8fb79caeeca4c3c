//! Where a call goes: the store (or a scoped view of it), or an open
//! transaction. The objects that take record calls (`RosterStore`,
//! `RosterTransaction`) and the walks made from them send each call through
//! [`Calls`], which runs it in the core's handle inside the panic guard.

use std::sync::Arc;

use rosterdb::{Context, StoreHandle, TxHandle};

use crate::RosterError;
use crate::error::guard;

/// Runs one call of the foreign API in the core, inside [`guard`].
///
/// Reads see the last commit outside a transaction and the transaction's
/// own writes inside one. What a closed store, a finished transaction or a
/// write from the thread of an open transaction answer (`Closed`, `Busy`)
/// is the core handles' rule, not this crate's.
pub(crate) trait Calls {
    /// Runs `f`, which only reads, with the store, view or transaction.
    fn read<T>(
        &self,
        f: impl FnOnce(&Context<'_>) -> Result<T, RosterError>,
    ) -> Result<T, RosterError>;

    /// Runs `f`, which may write, with the store, view or transaction.
    fn write<T>(
        &self,
        f: impl FnOnce(&Context<'_>) -> Result<T, RosterError>,
    ) -> Result<T, RosterError>;

    /// Where a walk made by this object reads its pages.
    fn source(&self) -> Source;
}

/// A store, view or transaction that a walk holds on to.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// The store or a scoped view: each page is its own call.
    Store(StoreHandle),
    /// A transaction: pages see its writes; once it ends, `Closed`.
    Tx(Arc<TxHandle>),
}

impl Calls for StoreHandle {
    fn read<T>(
        &self,
        f: impl FnOnce(&Context<'_>) -> Result<T, RosterError>,
    ) -> Result<T, RosterError> {
        guard(|| StoreHandle::read(self, |c| f(&c)))
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&Context<'_>) -> Result<T, RosterError>,
    ) -> Result<T, RosterError> {
        guard(|| StoreHandle::write(self, |c| f(&c)))
    }

    fn source(&self) -> Source {
        Source::Store(self.clone())
    }
}

impl Calls for Arc<TxHandle> {
    fn read<T>(
        &self,
        f: impl FnOnce(&Context<'_>) -> Result<T, RosterError>,
    ) -> Result<T, RosterError> {
        guard(|| self.call(|c| f(&c)))
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&Context<'_>) -> Result<T, RosterError>,
    ) -> Result<T, RosterError> {
        Calls::read(self, f)
    }

    fn source(&self) -> Source {
        Source::Tx(Arc::clone(self))
    }
}

impl Source {
    /// Runs `f`, which only reads (walks only read), with the store, view
    /// or transaction.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Context<'_>) -> Result<T, RosterError>,
    ) -> Result<T, RosterError> {
        match self {
            Source::Store(store) => Calls::read(store, f),
            Source::Tx(tx) => Calls::read(tx, f),
        }
    }
}

/// Converts a core result into the foreign API's.
pub(crate) fn out<T, U: From<T>>(result: rosterdb::Result<T>) -> Result<U, RosterError> {
    Ok(result?.into())
}

/// A document as compact JSON text.
pub(crate) fn to_json(doc: &impl serde::Serialize) -> Result<String, RosterError> {
    serde_json::to_string(doc).map_err(|e| RosterError::Internal {
        reason: format!("a document could not be written as JSON ({e})"),
    })
}

/// Evaluates `$body` with `$c` bound to the collection of `$entity` (an
/// [`EntityKind`](crate::EntityKind)) in the context `$ctx`.
macro_rules! with_collection {
    ($ctx:expr, $entity:expr, |$c:ident| $body:expr) => {
        match $entity {
            $crate::EntityKind::User => {
                let $c = $ctx.users();
                $body
            }
            $crate::EntityKind::Role => {
                let $c = $ctx.roles();
                $body
            }
            $crate::EntityKind::Client => {
                let $c = $ctx.clients();
                $body
            }
        }
    };
}
