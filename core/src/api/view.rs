//! Views (docs/reference/tenancy.md): where calls go (the store, a read snapshot or a write
//! transaction) and the one tenant they see, if any.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::documents::rules::{self, Problems};
use crate::storage::store::Options;
use crate::storage::tx::{ReadContext, ReadTx, Tables, WriteContext, WriteTx, sealed};
use crate::{Error, Result, Store, Timestamp};

/// Marks a [`View`] that may write: over a [`Store`] or a [`WriteTx`].
#[derive(Clone, Copy, Debug)]
pub enum ReadWrite {}

/// Marks a [`View`] that only reads: over a [`ReadTx`], or one that
/// [`View::read`] gives.
#[derive(Clone, Copy, Debug)]
pub enum ReadOnly {}

/// Where a view's calls go.
#[derive(Clone, Copy)]
enum Via<'a> {
    /// Each call is its own transaction.
    Store(&'a Store),
    /// Calls read this snapshot.
    Read(&'a ReadTx),
    /// Calls join this transaction.
    Write(&'a WriteTx),
}

/// The store, a write transaction or a read snapshot, seen whole or as one
/// tenant: the one type through which bindings, handles and
/// [`Store::scoped`] reach the collections.
///
/// In a view of a tenant, creates set `tenant` (naming another tenant is
/// `Validation`); reads, lists, counts, updates and deletes see only that
/// tenant's records: any other record is `NotFound`, and counts, cursors
/// and plans tell nothing of other tenants. `A` is [`ReadWrite`] for a
/// view over a store or a write transaction and [`ReadOnly`] for one over
/// a snapshot, which has no writing calls.
///
/// ```
/// use rosterdb::{NewUser, Store, View};
///
/// let store = Store::memory()?;
/// let acme = store.scoped("acme")?;
/// acme.write(|tx| tx.users().create(NewUser::new("ann", "ann@example.com", "A", "B")))?;
/// let whole = View::whole(&store);
/// assert_eq!(whole.users().get(1)?.tenant.as_deref(), Some("acme"));
/// assert_eq!(acme.read(|r| r.users().get(1))?.username, "ann");
/// # Ok::<(), rosterdb::Error>(())
/// ```
///
/// A view over a snapshot has no writing calls:
///
/// ```compile_fail
/// use rosterdb::{NewUser, Store, View};
///
/// let store = Store::memory()?;
/// store.read(|r| View::new(r, "acme")?.users().create(NewUser::new("a", "a@b.c", "A", "B")))?;
/// # Ok::<(), rosterdb::Error>(())
/// ```
pub struct View<'a, A = ReadWrite> {
    via: Via<'a>,
    /// The tenant the view sees (one [`rules::tenant`] accepted); `None`:
    /// every record.
    tenant: Option<Arc<str>>,
    access: PhantomData<fn() -> A>,
}

/// The name of a [`View`] of one tenant in earlier releases
/// ([`Store::scoped`], `Scope::new`).
pub type Scope<'a, A = ReadWrite> = View<'a, A>;

/// The name of a writable [`View`] as language bindings hold it.
pub type Context<'a> = View<'a, ReadWrite>;

/// What a [`View`] can be made over: `&Store` and `&WriteTx` make
/// [`ReadWrite`] views, `&ReadTx` a [`ReadOnly`] one.
pub trait Target<'a>: sealed::Sealed {
    /// [`ReadWrite`] or [`ReadOnly`].
    type Access;
    /// The view of `tenant` (already checked) over this target.
    #[doc(hidden)]
    fn view(self, tenant: Option<Arc<str>>) -> View<'a, Self::Access>;
}

impl sealed::Sealed for &Store {}
impl sealed::Sealed for &WriteTx {}
impl sealed::Sealed for &ReadTx {}

impl<'a> Target<'a> for &'a Store {
    type Access = ReadWrite;
    fn view(self, tenant: Option<Arc<str>>) -> View<'a> {
        View::at(Via::Store(self), tenant)
    }
}

impl<'a> Target<'a> for &'a WriteTx {
    type Access = ReadWrite;
    fn view(self, tenant: Option<Arc<str>>) -> View<'a> {
        View::at(Via::Write(self), tenant)
    }
}

impl<'a> Target<'a> for &'a ReadTx {
    type Access = ReadOnly;
    fn view(self, tenant: Option<Arc<str>>) -> View<'a, ReadOnly> {
        View::at(Via::Read(self), tenant)
    }
}

/// `tenant`, checked: `Validation` naming `tenant` when it is not one.
fn checked(tenant: &str) -> Result<Arc<str>> {
    let mut problems = Problems::new();
    problems.check("tenant", tenant, rules::tenant);
    problems.into_result()?;
    Ok(Arc::from(tenant))
}

impl<'a, A> View<'a, A> {
    fn at(via: Via<'a>, tenant: Option<Arc<str>>) -> Self {
        View {
            via,
            tenant,
            access: PhantomData,
        }
    }

    /// A view of `tenant` over `target` (a `&Store`, `&WriteTx` or
    /// `&ReadTx`). `Validation` naming `tenant` when it is not a valid
    /// tenant.
    pub fn new<T: Target<'a, Access = A>>(target: T, tenant: &str) -> Result<Self> {
        Ok(target.view(Some(checked(tenant)?)))
    }

    /// A view of every record (no tenant) over `target`.
    pub fn whole<T: Target<'a, Access = A>>(target: T) -> Self {
        target.view(None)
    }

    /// [`View::new`] when `tenant` is given, else [`View::whole`]: for
    /// callers (such as bindings) that hold an optional tenant.
    pub fn of<T: Target<'a, Access = A>>(target: T, tenant: Option<&str>) -> Result<Self> {
        Ok(target.view(tenant.map(checked).transpose()?))
    }

    /// A view over `target` of a tenant a view or handle already checked.
    pub(crate) fn of_checked<T: Target<'a, Access = A>>(
        target: T,
        tenant: Option<Arc<str>>,
    ) -> Self {
        target.view(tenant)
    }

    /// The tenant this view sees; `None` when it sees every record.
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// A view of `tenant` over the same store, transaction or snapshot.
    /// `Validation` naming `tenant` when it is not a valid tenant.
    pub fn scoped(&self, tenant: &str) -> Result<Self> {
        Ok(View::at(self.via, Some(checked(tenant)?)))
    }

    /// Runs `f` on a read-only view of the same tenant: over one snapshot
    /// of the store for a view of the store, else over what this view's
    /// snapshot or transaction sees (its own writes included).
    pub fn read<T>(&self, f: impl FnOnce(&View<'_, ReadOnly>) -> Result<T>) -> Result<T> {
        match self.via {
            Via::Store(store) => store.read(|r| f(&View::at(Via::Read(r), self.tenant.clone()))),
            via => f(&View::at(via, self.tenant.clone())),
        }
    }
}

impl<'a> View<'a, ReadWrite> {
    /// Runs `f` in one write transaction seen through this view: for a view
    /// of the store, a new transaction, committed when `f` returns `Ok` and
    /// rolled back when it returns `Err`; for a view of a transaction, that
    /// transaction.
    pub fn write<T>(&self, f: impl FnOnce(&View<'_, ReadWrite>) -> Result<T>) -> Result<T> {
        match self.via {
            Via::Store(store) => {
                store.write(|tx| f(&View::at(Via::Write(tx), self.tenant.clone())))
            }
            _ => f(self),
        }
    }
}

impl<A> Clone for View<'_, A> {
    fn clone(&self) -> Self {
        View::at(self.via, self.tenant.clone())
    }
}

impl<A> std::fmt::Debug for View<'_, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let via = match self.via {
            Via::Store(_) => "store",
            Via::Read(_) => "snapshot",
            Via::Write(_) => "transaction",
        };
        f.debug_struct("View")
            .field("via", &via)
            .field("tenant", &self.tenant)
            .finish()
    }
}

impl<A> sealed::Sealed for View<'_, A> {}

impl<A> ReadContext for View<'_, A> {
    fn with_tables<T>(&self, f: impl FnOnce(&dyn Tables) -> Result<T>) -> Result<T> {
        match self.via {
            Via::Store(store) => store.with_tables(f),
            Via::Read(r) => r.with_tables(f),
            Via::Write(tx) => tx.with_tables(f),
        }
    }

    fn scope(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    fn now(&self) -> Timestamp {
        match self.via {
            Via::Store(store) => store.now(),
            Via::Read(r) => r.now(),
            Via::Write(tx) => ReadContext::now(tx),
        }
    }
}

/// `Internal`: a writable view over a snapshot, which no constructor makes.
const READ_ONLY: &str = "a writable view over a read snapshot";

impl WriteContext for View<'_, ReadWrite> {
    fn with_write<T: Send>(&self, mut f: impl FnMut(&WriteTx) -> Result<T> + Send) -> Result<T> {
        match self.via {
            Via::Store(store) => store.with_write(f),
            Via::Write(tx) => f(tx),
            Via::Read(_) => Err(Error::internal(READ_ONLY)),
        }
    }

    fn options(&self) -> &Options {
        match self.via {
            Via::Store(store) => store.options(),
            Via::Write(tx) => &tx.options,
            Via::Read(r) => &r.options,
        }
    }

    fn in_transaction(&self) -> bool {
        matches!(self.via, Via::Write(_))
    }
}
