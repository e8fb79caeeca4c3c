//! `rosterdb.Store` and `rosterdb.Transaction`: opening, closing and transactions.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::pyclass_init::PyClassInitializer;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyType};
use rosterdb::{Argon2Params, Lockout, Options, Store, StoreHandle, TxHandle};

use crate::args;
use crate::collections::Access::Read;
use crate::collections::{PyClients, PyCollection, PyRoles, PyUsers, Target};
use crate::convert::doc_to_py;
use crate::errors::IntoPyResult;

/// An open rosterdb store: `Store(path, *, lockout_threshold=5,
/// lockout_seconds=900, argon2_memory_kib=19456, argon2_iterations=2,
/// argon2_parallelism=1, cache_bytes=4294967296)`, also a context manager
/// that closes it.
///
/// `lockout_threshold` failed password checks in a row (0: never) lock a
/// user for `lockout_seconds` (1 to 31,536,000). New password and secret
/// hashes use Argon2id with `argon2_memory_kib` KiB of memory,
/// `argon2_iterations` passes and `argon2_parallelism` lanes (the defaults
/// are the OWASP minimum). The store keeps the file's pages it reads in a
/// cache of at most `cache_bytes` bytes (at least 1 MiB; default 4 GiB),
/// which fills only as pages are read and never holds more than the file.
/// Each option is an `int`; a value that is not one, or out of range,
/// raises `ArgumentError` naming it, before any file is created.
///
/// Commits are appended to a write-ahead log beside the file
/// (`<path>-wal`), which a clean close folds into the file: back a store up
/// after closing it, or copy both files together. A file another process
/// holds raises `StoreLockedError`.
#[pyclass(frozen, name = "Store", module = "rosterdb")]
pub(crate) struct PyStore {
    /// The store, or a scoped view of it; the core keeps its rules.
    handle: StoreHandle,
    /// `users`, `roles` and `clients`.
    collections: Collections,
}

impl PyStore {
    /// Where the store-level session calls go.
    pub(crate) fn target(&self) -> Target {
        Target::Store(self.handle.clone())
    }

    fn wrap(store: Store) -> Self {
        PyStore {
            handle: StoreHandle::new(store),
            collections: Collections::default(),
        }
    }
}

/// `Store(path, ...)` and `Store.memory(...)`, each with the keyword
/// arguments of the core's options, written once here: each option is read
/// by its converter in `args`, and the core checks the values when the
/// store opens.
macro_rules! constructors {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($($params:tt)*) [$($signature:tt)*] |$options:ident| $open:expr;
    )+) => {
        #[pymethods]
        impl PyStore {$(
            $(#[$attr])*
            #[allow(clippy::too_many_arguments, reason = "one per keyword option of the signature")]
            #[pyo3(signature = ($($signature)* lockout_threshold=5, lockout_seconds=900,
                argon2_memory_kib=19456, argon2_iterations=2, argon2_parallelism=1,
                cache_bytes=4_294_967_296))]
            fn $name(
                $($params)*
                py: Python<'_>,
                #[pyo3(from_py_with = args::lockout_threshold)] lockout_threshold: u32,
                #[pyo3(from_py_with = args::lockout_seconds)] lockout_seconds: u64,
                #[pyo3(from_py_with = args::argon2_memory_kib)] argon2_memory_kib: u32,
                #[pyo3(from_py_with = args::argon2_iterations)] argon2_iterations: u32,
                #[pyo3(from_py_with = args::argon2_parallelism)] argon2_parallelism: u32,
                #[pyo3(from_py_with = args::cache_bytes)] cache_bytes: u64,
            ) -> PyResult<Self> {
                let $options = Options::default()
                    .with_lockout(Lockout {
                        threshold: lockout_threshold,
                        duration: Duration::from_secs(lockout_seconds),
                    })
                    .with_argon2(Argon2Params {
                        memory_kib: argon2_memory_kib,
                        iterations: argon2_iterations,
                        parallelism: argon2_parallelism,
                    })
                    .with_cache_bytes(cache_bytes);
                let store = py.detach(|| $open).or_raise(py)?;
                Ok(PyStore::wrap(store))
            }
        )+}
    };
}

// The default in the constructors' signature is the core's.
const _: () = assert!(rosterdb::DEFAULT_CACHE_BYTES == 4_294_967_296);

constructors! {
    #[new]
    fn new(#[pyo3(from_py_with = args::path)] path: PathBuf,) [path, *,]
        |options| Store::open(path, options);

    /// An in-memory store, for tests and examples, with the same options
    /// as a file store.
    #[classmethod]
    fn memory(_cls: &Bound<'_, PyType>,) [*,] |options| Store::memory_with(options);
}

/// The collection objects of a store (or scoped view) or transaction,
/// each made on first use and then handed out again: `store.users.get(i)`
/// makes no object but the result (the objects hold no state but where
/// their calls go).
#[derive(Default)]
struct Collections {
    users: Made<PyUsers>,
    roles: Made<PyRoles>,
    clients: Made<PyClients>,
}

/// One collection object, made on first use.
struct Made<K>(PyOnceLock<Py<K>>);

impl<K> Default for Made<K> {
    fn default() -> Self {
        Made(PyOnceLock::new())
    }
}

impl<K: PyCollection + pyo3::PyClass + Into<PyClassInitializer<K>>> Made<K> {
    /// The object, made for the calls going to `target()` the first time.
    fn get(&self, py: Python<'_>, target: impl FnOnce() -> Target) -> PyResult<Py<K>> {
        let made = self
            .0
            .get_or_try_init(py, || Py::new(py, K::new(target())))?;
        Ok(made.clone_ref(py))
    }
}

/// The collections and the change log, the same on a store (or scoped
/// view) and a transaction, each described `$within` it.
macro_rules! collections {
    ($($class:ident $within:literal { $(#[$changes:meta])* })+) => {$(
        #[pymethods]
        impl $class {
            #[doc = concat!("The users", $within, ".")]
            #[getter]
            fn users(&self, py: Python<'_>) -> PyResult<Py<PyUsers>> {
                self.collections.users.get(py, || self.target())
            }

            #[doc = concat!("The roles", $within, ".")]
            #[getter]
            fn roles(&self, py: Python<'_>) -> PyResult<Py<PyRoles>> {
                self.collections.roles.get(py, || self.target())
            }

            #[doc = concat!("The app-clients", $within, ".")]
            #[getter]
            fn clients(&self, py: Python<'_>) -> PyResult<Py<PyClients>> {
                self.collections.clients.get(py, || self.target())
            }

            $(#[$changes])*
            #[pyo3(signature = (after=0, limit=100))]
            fn changes<'py>(
                &self,
                py: Python<'py>,
                #[pyo3(from_py_with = args::after)] after: u64,
                #[pyo3(from_py_with = args::limit)] limit: usize,
            ) -> PyResult<Bound<'py, PyList>> {
                let changes = self.target().call(py, Read, |c| c.changes(after, limit))?;
                let list = PyList::empty(py);
                for change in &changes {
                    list.append(doc_to_py(py, change)?)?;
                }
                Ok(list)
            }
        }
    )+};
}

collections! {
    PyStore "" {
        /// Change-log entries after sequence number `after`, oldest first: up
        /// to `limit` (1–1000) dicts `{"seq", "at", "entity", "id", "op",
        /// "version"}`. `ArgumentError` for a bad `after`, `QueryError` for a
        /// bad `limit`.
    }
    PyTransaction ", inside the transaction" {
        /// Change-log entries after `after`, including this transaction's own.
    }
}

/// Export and import: a file path in (see [`args::path`]), the number of
/// records written or read out, each the store handle's call of the same name.
macro_rules! transfers {
    ($($(#[$attr:meta])* fn $name:ident;)+) => {
        #[pymethods]
        impl PyStore {$(
            $(#[$attr])*
            fn $name(
                &self,
                py: Python<'_>,
                #[pyo3(from_py_with = args::path)] path: PathBuf,
            ) -> PyResult<u64> {
                py.detach(|| self.handle.$name(path)).or_raise(py)
            }
        )+}
    };
}

transfers! {
    /// Writes every role, user and client to `path` as JSON Lines; returns the count.
    fn export_jsonl;

    /// Loads an export into this empty store, all or nothing; returns the count.
    fn import_jsonl;
}

#[pymethods]
impl PyStore {
    /// A transaction: use it as `with store.transaction() as tx:`.
    fn transaction(&self) -> PyTransaction {
        PyTransaction {
            tx: Arc::new(self.handle.transaction()),
            collections: Collections::default(),
        }
    }

    /// A view of one tenant, with the whole store API: creates set the
    /// tenant; other tenants' records are not found.
    fn scoped(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = args::scope_tenant)] tenant: String,
    ) -> PyResult<PyStore> {
        Ok(PyStore {
            handle: self.handle.scoped(&tenant).or_raise(py)?,
            collections: Collections::default(),
        })
    }

    /// The tenant of a scoped view; `None` for the whole store.
    #[getter]
    fn tenant(&self) -> Option<String> {
        self.handle.tenant().map(str::to_owned)
    }

    /// Checks indexes against records: `{"ok": bool, "problems": [str, ...]}`.
    fn check<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = py.detach(|| self.handle.check()).or_raise(py)?;
        doc_to_py(py, &report)
    }

    /// Reclaims unused file space; `BusyError` while another call or a
    /// transaction holds the store.
    fn compact(&self, py: Python<'_>) -> PyResult<bool> {
        py.detach(|| self.handle.compact()).or_raise(py)
    }

    /// Closes the store; later calls raise `ClosedError` (a `StorageError`).
    /// Closing twice does nothing.
    fn close(&self, py: Python<'_>) {
        // The file closes when the last call or open transaction lets it go;
        // that may wait on disk.
        py.detach(|| self.handle.close());
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

/// A write transaction: everything in its `with` block commits together, or
/// nothing does when an exception leaves the block.
#[pyclass(frozen, name = "Transaction", module = "rosterdb")]
pub(crate) struct PyTransaction {
    /// Shared with the transaction's collections.
    tx: Arc<TxHandle>,
    /// `users`, `roles` and `clients`.
    collections: Collections,
}

#[pymethods]
impl PyTransaction {
    fn __enter__<'py>(slf: Bound<'py, Self>, py: Python<'py>) -> PyResult<Bound<'py, Self>> {
        // Waits, without the GIL, for any other thread's transaction.
        let tx = &slf.get().tx;
        py.detach(|| tx.begin()).or_raise(py)?;
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
        let commit = exc_type.is_none();
        py.detach(|| self.tx.end(commit)).or_raise(py)?;
        Ok(false)
    }
}

impl PyTransaction {
    /// Where the transaction's collections and session calls go.
    pub(crate) fn target(&self) -> Target {
        Target::Transaction(Arc::clone(&self.tx))
    }
}
