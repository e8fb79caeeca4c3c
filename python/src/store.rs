//! `rosterdb.Store` and `rosterdb.Transaction`: opening, closing and transactions.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::ThreadId;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyList, PyType};
use rosterdb::{Argon2Params, Context, Error, Lockout, Options, Store, WriteTx};

use crate::args;
use crate::collections::{PyClients, PyRoles, PyUsers, Target};
use crate::convert::doc_to_py;
use crate::errors::IntoPyResult;

/// What a store's Python objects share: the open store (none once closed)
/// and the thread that holds an open transaction, if any.
pub(crate) struct Shared {
    store: RwLock<Option<Arc<Store>>>,
    writer: Mutex<Option<ThreadId>>,
}

impl Shared {
    /// The open store, or `StorageError` once it is closed.
    pub(crate) fn store(&self) -> rosterdb::Result<Arc<Store>> {
        self.store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| Error::storage("the store is closed"))
    }

    /// Refuses a store-level write from the thread that has a transaction
    /// open: it would wait for that transaction forever.
    pub(crate) fn check_not_writing(&self) -> rosterdb::Result<()> {
        let writer = *self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if writer == Some(std::thread::current().id()) {
            return Err(Error::storage(
                "a transaction is open in this thread: write through the transaction's collections",
            ));
        }
        Ok(())
    }

    fn set_writer(&self, writer: Option<ThreadId>) {
        *self.writer.lock().unwrap_or_else(PoisonError::into_inner) = writer;
    }
}

/// An open rosterdb store: `Store(path, *, lockout_threshold=5,
/// lockout_seconds=900, argon2_memory_kib=19456, argon2_iterations=2,
/// argon2_parallelism=1)`, also a context manager that closes it.
///
/// `lockout_threshold` failed password checks in a row (0: never) lock a
/// user for `lockout_seconds` (1 to 31,536,000). New password and secret
/// hashes use Argon2id with `argon2_memory_kib` KiB of memory,
/// `argon2_iterations` passes and `argon2_parallelism` lanes (the defaults
/// are the OWASP minimum). Each option is an `int`; a value that is not one,
/// or out of range, raises `ArgumentError` naming it, before any file is
/// created.
#[pyclass(frozen, name = "Store", module = "rosterdb")]
pub(crate) struct PyStore {
    shared: Arc<Shared>,
    /// The tenant of a scoped view.
    scope: Option<Arc<str>>,
}

/// The core's options from the keyword arguments of `Store` and
/// `Store.memory`; the core checks them when the store opens.
fn options(
    lockout_threshold: u32,
    lockout_seconds: u64,
    argon2_memory_kib: u32,
    argon2_iterations: u32,
    argon2_parallelism: u32,
) -> Options {
    Options::default()
        .with_lockout(Lockout {
            threshold: lockout_threshold,
            duration: Duration::from_secs(lockout_seconds),
        })
        .with_argon2(Argon2Params {
            memory_kib: argon2_memory_kib,
            iterations: argon2_iterations,
            parallelism: argon2_parallelism,
        })
}

impl PyStore {
    /// Where the store-level session calls go.
    pub(crate) fn target(&self) -> Target {
        Target::Store(Arc::clone(&self.shared), self.scope.clone())
    }

    /// Refuses whole-store operations (export, import, compact) in a scoped view.
    fn whole_store(&self, py: Python<'_>) -> PyResult<()> {
        match &self.scope {
            Some(_) => Err(crate::errors::to_py_err(
                py,
                Error::storage(
                    "export, import, check and compact work on the whole store, not a scoped view",
                ),
            )),
            None => Ok(()),
        }
    }

    fn wrap(store: Store) -> Self {
        PyStore {
            shared: Arc::new(Shared {
                store: RwLock::new(Some(Arc::new(store))),
                writer: Mutex::new(None),
            }),
            scope: None,
        }
    }
}

#[pymethods]
impl PyStore {
    #[new]
    #[pyo3(signature = (path, *, lockout_threshold=5, lockout_seconds=900,
        argon2_memory_kib=19456, argon2_iterations=2, argon2_parallelism=1))]
    fn new(
        py: Python<'_>,
        #[pyo3(from_py_with = args::path)] path: PathBuf,
        #[pyo3(from_py_with = args::lockout_threshold)] lockout_threshold: u32,
        #[pyo3(from_py_with = args::lockout_seconds)] lockout_seconds: u64,
        #[pyo3(from_py_with = args::argon2_memory_kib)] argon2_memory_kib: u32,
        #[pyo3(from_py_with = args::argon2_iterations)] argon2_iterations: u32,
        #[pyo3(from_py_with = args::argon2_parallelism)] argon2_parallelism: u32,
    ) -> PyResult<Self> {
        let options = options(
            lockout_threshold,
            lockout_seconds,
            argon2_memory_kib,
            argon2_iterations,
            argon2_parallelism,
        );
        let store = py.detach(|| Store::open(path, options)).or_raise(py)?;
        Ok(PyStore::wrap(store))
    }

    /// An in-memory store, for tests and examples, with the same options
    /// as a file store.
    #[classmethod]
    #[pyo3(signature = (*, lockout_threshold=5, lockout_seconds=900,
        argon2_memory_kib=19456, argon2_iterations=2, argon2_parallelism=1))]
    fn memory(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        #[pyo3(from_py_with = args::lockout_threshold)] lockout_threshold: u32,
        #[pyo3(from_py_with = args::lockout_seconds)] lockout_seconds: u64,
        #[pyo3(from_py_with = args::argon2_memory_kib)] argon2_memory_kib: u32,
        #[pyo3(from_py_with = args::argon2_iterations)] argon2_iterations: u32,
        #[pyo3(from_py_with = args::argon2_parallelism)] argon2_parallelism: u32,
    ) -> PyResult<Self> {
        let options = options(
            lockout_threshold,
            lockout_seconds,
            argon2_memory_kib,
            argon2_iterations,
            argon2_parallelism,
        );
        let store = py.detach(|| Store::memory_with(options)).or_raise(py)?;
        Ok(PyStore::wrap(store))
    }

    /// The users.
    #[getter]
    fn users(&self) -> PyUsers {
        PyUsers::new(Target::Store(Arc::clone(&self.shared), self.scope.clone()))
    }

    /// The roles.
    #[getter]
    fn roles(&self) -> PyRoles {
        PyRoles::new(Target::Store(Arc::clone(&self.shared), self.scope.clone()))
    }

    /// The app-clients.
    #[getter]
    fn clients(&self) -> PyClients {
        PyClients::new(Target::Store(Arc::clone(&self.shared), self.scope.clone()))
    }

    /// A transaction: use it as `with store.transaction() as tx:`.
    fn transaction(&self) -> PyTransaction {
        PyTransaction {
            shared: Arc::clone(&self.shared),
            tx: Arc::new(Mutex::new(TxState::NotStarted)),
            scope: self.scope.clone(),
        }
    }

    /// A view of one tenant, with the whole store API: creates set the
    /// tenant; other tenants' records are not found.
    fn scoped(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::scope_tenant)] tenant: String,
    ) -> PyResult<PyStore> {
        let store = self.shared.store().or_raise(py)?;
        store.scoped(&tenant).or_raise(py)?;
        Ok(PyStore {
            shared: Arc::clone(&self.shared),
            scope: Some(Arc::from(tenant)),
        })
    }

    /// The tenant of a scoped view; `None` for the whole store.
    #[getter]
    fn tenant(&self) -> Option<String> {
        self.scope.as_deref().map(str::to_owned)
    }

    /// Change-log entries after sequence number `after`, oldest first: up
    /// to `limit` (1–1000) dicts `{"seq", "at", "entity", "id", "op",
    /// "version"}`. `ArgumentError` for a bad `after`, `QueryError` for a
    /// bad `limit`.
    #[pyo3(signature = (after=0, limit=100))]
    fn changes<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = args::after)] after: u64,
        #[pyo3(from_py_with = args::limit)] limit: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let store = self.shared.store().or_raise(py)?;
        let changes = py
            .detach(|| match &self.scope {
                Some(tenant) => Context::ScopedStore(&store, tenant).changes(after, limit),
                None => store.changes(after, limit),
            })
            .or_raise(py)?;
        changes_to_py(py, &changes)
    }

    /// Writes every role, user and client to `path` as JSON Lines; returns the count.
    fn export_jsonl(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::path)] path: PathBuf,
    ) -> PyResult<u64> {
        self.whole_store(py)?;
        let store = self.shared.store().or_raise(py)?;
        py.detach(|| store.export_jsonl(path)).or_raise(py)
    }

    /// Loads an export into this empty store, all or nothing; returns the count.
    fn import_jsonl(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::path)] path: PathBuf,
    ) -> PyResult<u64> {
        self.whole_store(py)?;
        self.shared.check_not_writing().or_raise(py)?;
        let store = self.shared.store().or_raise(py)?;
        py.detach(|| store.import_jsonl(path)).or_raise(py)
    }

    /// Checks indexes against records: `{"ok": bool, "problems": [str, ...]}`.
    fn check<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.whole_store(py)?;
        let store = self.shared.store().or_raise(py)?;
        let report = py.detach(|| store.check()).or_raise(py)?;
        doc_to_py(py, &report)
    }

    /// Reclaims unused file space; the store must not be in use meanwhile.
    fn compact(&self, py: Python<'_>) -> PyResult<bool> {
        self.whole_store(py)?;
        let mut guard = self
            .shared
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(store) = guard.as_mut() else {
            return Err(crate::errors::to_py_err(
                py,
                Error::storage("the store is closed"),
            ));
        };
        let Some(store) = Arc::get_mut(store) else {
            return Err(crate::errors::to_py_err(
                py,
                Error::storage("the store is in use by another call"),
            ));
        };
        py.detach(|| store.compact()).or_raise(py)
    }

    /// Closes the store; later calls raise `StorageError`. Closing twice does nothing.
    fn close(&self, py: Python<'_>) {
        let store = self
            .shared
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // The file closes when the last reference goes (an open
        // transaction keeps it until it ends); dropping may wait on disk.
        py.detach(move || drop(store));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }
}

fn changes_to_py<'py>(
    py: Python<'py>,
    changes: &[rosterdb::Change],
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for change in changes {
        list.append(doc_to_py(py, change)?)?;
    }
    Ok(list)
}

/// The life of a Python transaction.
pub(crate) enum TxState {
    /// Created, not yet entered.
    NotStarted,
    /// Inside the `with` block.
    Open(Box<WriteTx>),
    /// Committed or rolled back.
    Finished,
}

/// A write transaction: everything in its `with` block commits together, or
/// nothing does when an exception leaves the block.
#[pyclass(frozen, name = "Transaction", module = "rosterdb")]
pub(crate) struct PyTransaction {
    shared: Arc<Shared>,
    tx: Arc<Mutex<TxState>>,
    scope: Option<Arc<str>>,
}

/// Runs `f` in the open transaction `tx`, with the GIL released.
pub(crate) fn in_transaction<T: Send>(
    py: Python<'_>,
    shared: &Shared,
    tx: &Mutex<TxState>,
    scope: Option<&str>,
    f: impl FnOnce(Context<'_>) -> rosterdb::Result<T> + Send,
) -> PyResult<T> {
    shared.store().or_raise(py)?;
    py.detach(|| {
        let state = tx.lock().unwrap_or_else(PoisonError::into_inner);
        match &*state {
            TxState::Open(tx) => match scope {
                Some(tenant) => f(Context::ScopedWrite(tx, tenant)),
                None => f(Context::Write(tx)),
            },
            TxState::NotStarted => Err(Error::storage(
                "the transaction has not begun: use it in a with block",
            )),
            TxState::Finished => Err(Error::storage("the transaction is finished")),
        }
    })
    .or_raise(py)
}

#[pymethods]
impl PyTransaction {
    /// The users, inside the transaction.
    #[getter]
    fn users(&self) -> PyUsers {
        PyUsers::new(self.target())
    }

    /// The roles, inside the transaction.
    #[getter]
    fn roles(&self) -> PyRoles {
        PyRoles::new(self.target())
    }

    /// The app-clients, inside the transaction.
    #[getter]
    fn clients(&self) -> PyClients {
        PyClients::new(self.target())
    }

    /// Change-log entries after `after`, including this transaction's own.
    #[pyo3(signature = (after=0, limit=100))]
    fn changes<'py>(
        &self,
        py: Python<'py>,
        #[pyo3(from_py_with = args::after)] after: u64,
        #[pyo3(from_py_with = args::limit)] limit: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let changes = in_transaction(py, &self.shared, &self.tx, self.scope.as_deref(), |c| {
            c.changes(after, limit)
        })?;
        changes_to_py(py, &changes)
    }

    fn __enter__<'py>(slf: Bound<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, Self>> {
        let this = slf.get();
        let store = this.shared.store().or_raise(py)?;
        if !matches!(
            *this.tx.lock().unwrap_or_else(PoisonError::into_inner),
            TxState::NotStarted
        ) {
            return Err(crate::errors::to_py_err(
                py,
                Error::storage("a transaction can be entered only once"),
            ));
        }
        this.shared.check_not_writing().or_raise(py)?;
        // Waits, without the GIL, for any other thread's transaction.
        let tx = py.detach(|| store.begin_write()).or_raise(py)?;
        *this.tx.lock().unwrap_or_else(PoisonError::into_inner) = TxState::Open(Box::new(tx));
        this.shared.set_writer(Some(std::thread::current().id()));
        Ok(slf)
    }

    #[pyo3(signature = (exc_type, _exc_value, _traceback))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: &Bound<'_, PyAny>,
        _exc_value: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let state = std::mem::replace(
            &mut *self.tx.lock().unwrap_or_else(PoisonError::into_inner),
            TxState::Finished,
        );
        self.shared.set_writer(None);
        let TxState::Open(tx) = state else {
            return Ok(false);
        };
        let closed = self.shared.store().is_err();
        if exc_type.is_none() && !closed {
            py.detach(|| tx.commit()).or_raise(py)?;
        } else {
            py.detach(|| tx.rollback()).or_raise(py)?;
            if closed && exc_type.is_none() {
                return Err(crate::errors::to_py_err(
                    py,
                    Error::storage("the store was closed; the transaction was rolled back"),
                ));
            }
        }
        Ok(false)
    }
}

impl PyTransaction {
    /// Where the transaction's collections and session calls go.
    pub(crate) fn target(&self) -> Target {
        Target::Transaction(
            Arc::clone(&self.shared),
            Arc::clone(&self.tx),
            self.scope.clone(),
        )
    }
}
