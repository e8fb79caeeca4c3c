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

/// An open rosterdb store; also a context manager that closes it.
///
///     with rosterdb.Store("roster.redb") as store:
///         store.users.create({"username": "ada", "email": "ada@example.com",
///                             "firstName": "Ada", "lastName": "Lovelace"})
///
/// ``store.users``, ``store.roles`` and ``store.clients`` hold the records;
/// each call is its own durable transaction unless grouped with
/// ``with store.transaction() as tx:``. Commits are appended to a
/// write-ahead log beside the file (``<path>-wal``), which a clean close
/// folds into the file: back a store up after closing it, or copy both
/// files together. The whole Python API: see docs/reference/api.md.
///
/// Args:
///     path (str | bytes | os.PathLike): the store file; created when
///         missing (a 0-byte file is initialised as a new store).
///     lockout_threshold (int): failed password checks in a row that lock
///         a user (0: never; default 5). See
///         docs/reference/credentials.md, Lockout.
///     lockout_seconds (int): how long a lock lasts, in seconds (1 to
///         31,536,000, one year; default 900).
///     argon2_memory_kib (int): the memory of Argon2id for new password
///         and secret hashes, in KiB (8 per lane to 1,048,576; default
///         19456, the OWASP minimum).
///     argon2_iterations (int): Argon2id passes (1 to 100; default 2).
///     argon2_parallelism (int): Argon2id lanes (1 to 64; default 1).
///     cache_bytes (int): the most bytes of file pages kept in memory (at
///         least 1 MiB, 1,048,576; default 256 MiB, 268,435,456); the cache
///         fills as pages are read or written and never holds more than the
///         file.
///     totp_issuer (str | None): the issuer that authenticator apps show
///         for this store's TOTP secrets, in the ``otpauth://`` URI that
///         ``users.totp_enroll`` returns (1 to 100 characters, no ``:`` and
///         no control characters; ``None``, the default, is ``"rosterdb"``). See
///         docs/reference/credentials.md, Second factor (TOTP).
///
/// Raises:
///     ArgumentError: an option has the wrong type (``totp_issuer`` not a
///         ``str``, any other not an ``int``) or is out of its range
///         (``argument`` names it), checked before any file is created.
///     TypeError: ``path`` is not a ``str``, ``bytes`` or ``os.PathLike``.
///     StoreLockedError: another process or open store holds the file.
///     FormatError: the file is not a rosterdb store, or a newer release
///         wrote it.
///     StorageError: the file cannot be created, opened or read (``path``
///         names it; ``errno`` is the system's error number).
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
                cache_bytes=268_435_456, totp_issuer=None))]
            fn $name(
                $($params)*
                py: Python<'_>,
                #[pyo3(from_py_with = args::lockout_threshold)] lockout_threshold: u32,
                #[pyo3(from_py_with = args::lockout_seconds)] lockout_seconds: u64,
                #[pyo3(from_py_with = args::argon2_memory_kib)] argon2_memory_kib: u32,
                #[pyo3(from_py_with = args::argon2_iterations)] argon2_iterations: u32,
                #[pyo3(from_py_with = args::argon2_parallelism)] argon2_parallelism: u32,
                #[pyo3(from_py_with = args::cache_bytes)] cache_bytes: u64,
                #[pyo3(from_py_with = args::totp_issuer)] totp_issuer: Option<String>,
            ) -> PyResult<Self> {
                let options = Options::default()
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
                // `None` keeps the core's default issuer.
                let $options = match totp_issuer {
                    Some(issuer) => options.with_totp_issuer(issuer),
                    None => options,
                };
                let store = py.detach(|| $open).or_raise(py)?;
                Ok(PyStore::wrap(store))
            }
        )+}
    };
}

// The default in the constructors' signature is the core's.
const _: () = assert!(rosterdb::DEFAULT_CACHE_BYTES == 268_435_456);

constructors! {
    #[new]
    fn new(#[pyo3(from_py_with = args::path)] path: PathBuf,) [path, *,]
        |options| Store::open(path, options);

    /// An in-memory store, for tests and examples; gone when closed.
    ///
    /// Args:
    ///     lockout_threshold (int): as for ``Store(path, ...)``.
    ///     lockout_seconds (int): as for ``Store(path, ...)``, in seconds.
    ///     argon2_memory_kib (int): as for ``Store(path, ...)``, in KiB.
    ///     argon2_iterations (int): as for ``Store(path, ...)``.
    ///     argon2_parallelism (int): as for ``Store(path, ...)``.
    ///     cache_bytes (int): as for ``Store(path, ...)``, in bytes.
    ///     totp_issuer (str | None): as for ``Store(path, ...)``.
    ///
    /// Returns:
    ///     Store: a new, empty store.
    ///
    /// Raises:
    ///     ArgumentError: an option has the wrong type or is out of its
    ///         range (``argument`` names it).
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
/// view) and a transaction: `$owner` says whose records they are, `$calls`
/// how their calls commit, `$closed` when a call raises `ClosedError`, `$log`
/// which entries `changes` reads.
macro_rules! collections {
    ($($class:ident $owner:literal $calls:literal $closed:literal $log:literal;)+) => {$(
        #[pymethods]
        impl $class {
            #[doc = concat!("Users: the users ", $owner, ".")]
            ///
            /// Create, look up, query, update and delete users, and
            /// administer their passwords, second factor and sessions;
            /// ``help(rosterdb.Users)`` lists the document's fields and the
            /// calls. Reading the attribute never raises; its calls do.
            ///
            #[doc = $calls]
            #[getter]
            fn users(&self, py: Python<'_>) -> PyResult<Py<PyUsers>> {
                self.collections.users.get(py, || self.target())
            }

            #[doc = concat!("Roles: the roles ", $owner, ".")]
            ///
            /// Roles are permission groups; ``help(rosterdb.Roles)`` lists
            /// the document's fields and the calls. Reading the attribute
            /// never raises; its calls do.
            ///
            #[doc = $calls]
            #[getter]
            fn roles(&self, py: Python<'_>) -> PyResult<Py<PyRoles>> {
                self.collections.roles.get(py, || self.target())
            }

            #[doc = concat!("Clients: the app-clients ", $owner, ".")]
            ///
            /// App-clients are service identities; ``help(rosterdb.Clients)``
            /// lists the document's fields and the calls. Reading the
            /// attribute never raises; its calls do.
            ///
            #[doc = $calls]
            #[getter]
            fn clients(&self, py: Python<'_>) -> PyResult<Py<PyClients>> {
                self.collections.clients.get(py, || self.target())
            }

            /// Change-log entries after sequence number ``after``, oldest first.
            ///
            /// Every committed write appends one entry in its own
            /// transaction, so another system can follow the store (sync,
            #[doc = concat!("audit). It reads ", $log, ". See")]
            /// docs/reference/changes-and-export.md.
            ///
            /// Args:
            ///     after (int): the ``seq`` to read after (0 to 2**64 - 1;
            ///         default 0, from the start).
            ///     limit (int): the most entries to return (1 to 1000;
            ///         default 100).
            ///
            /// Returns:
            ///     list[dict]: up to ``limit`` entries ``{"seq": int, "at":
            ///     str (RFC 3339 UTC), "entity": "user" | "role" | "client",
            ///     "id": int, "op": "create" | "update" | "delete",
            ///     "version": int}``; a delete's entry carries the last
            ///     version.
            ///
            /// Raises:
            ///     ArgumentError: ``after`` is not an ``int`` from 0 to
            ///         2**64 - 1.
            ///     QueryError: ``limit`` is not an ``int`` from 1 to 1000
            ///         (``field`` is ``"limit"``).
            #[doc = concat!("    ClosedError: ", $closed, ".")]
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
    PyStore "of the store (of its tenant in a scoped view)"
        "Each call is its own durable transaction."
        "the store is closed"
        "the committed entries (in a scoped view, those of the tenant's records)";
    PyTransaction "inside the transaction"
        "Writes through them commit or roll back with the transaction."
        "the store is closed, or the transaction is not open"
        "the committed entries and this transaction's own";
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
    /// Writes every role, user and client to a file as JSON Lines.
    ///
    /// One ``{"kind": "role" | "user" | "client", "doc": dict}`` per line,
    /// roles first, from one snapshot; a user's doc carries
    /// ``passwordHash`` (a PHC string) when it has a password and a
    /// client's ``secretHash``, never plaintext. See
    /// docs/reference/changes-and-export.md.
    ///
    /// Args:
    ///     path (str | bytes | os.PathLike): the file to write (replaced
    ///         when it exists).
    ///
    /// Returns:
    ///     int: the number of records written.
    ///
    /// Raises:
    ///     TypeError: ``path`` is not a ``str``, ``bytes`` or ``os.PathLike``.
    ///     StorageError: the file cannot be written (``path`` names it), or
    ///         the call went to a scoped view (whole-store operations are
    ///         refused there).
    ///     ClosedError: the store is closed.
    fn export_jsonl;

    /// Loads a file ``export_jsonl`` wrote into this empty store, all or nothing.
    ///
    /// Ids, timestamps, versions and credential hashes are kept, so logins
    /// still work and later ids do not collide; each record gets one
    /// ``create`` change-log entry. See docs/reference/changes-and-export.md.
    ///
    /// Args:
    ///     path (str | bytes | os.PathLike): the file to read.
    ///
    /// Returns:
    ///     int: the number of records read.
    ///
    /// Raises:
    ///     TypeError: ``path`` is not a ``str``, ``bytes`` or ``os.PathLike``.
    ///     ConflictError: the store is not empty.
    ///     ValidationError: a line is not a valid record (the field names
    ///         the line).
    ///     StorageError: the file cannot be read (``path`` names it), or
    ///         the call went to a scoped view.
    ///     BusyError: this thread has a transaction open.
    ///     ClosedError: the store is closed.
    fn import_jsonl;
}

#[pymethods]
impl PyStore {
    /// A write transaction, begun by its ``with`` block.
    ///
    ///     with store.transaction() as tx:
    ///         role = tx.roles.create({"name": "ops"})
    ///         tx.users.merge(7, {"roles": [role["id"]]})
    ///
    /// Everything in the block commits together, durably, or nothing does
    /// when an exception leaves it. See docs/reference/transactions.md.
    ///
    /// Returns:
    ///     Transaction: not begun yet; entering it waits for any other
    ///     thread's transaction. In a scoped view it sees the view's tenant.
    fn transaction(&self) -> PyTransaction {
        PyTransaction {
            tx: Arc::new(self.handle.transaction()),
            collections: Collections::default(),
        }
    }

    /// A view of one tenant, with the whole store API.
    ///
    /// Creates set the tenant; lookups, lists, counts, cursors and the
    /// change log see only its records, and another tenant's record is
    /// ``NotFoundError``. Whole-store operations (``export_jsonl``,
    /// ``import_jsonl``, ``check``, ``compact``) raise ``StorageError``
    /// there. Closing the store closes its views. See
    /// docs/reference/tenancy.md.
    ///
    /// Args:
    ///     tenant (str): 1 to 64 characters of ``[A-Za-z0-9._:-]``,
    ///         compared exactly (case-sensitively).
    ///
    /// Returns:
    ///     Store: the view, sharing this store.
    ///
    /// Raises:
    ///     TypeError: ``tenant`` is not a ``str``.
    ///     ValidationError: ``tenant`` is not a valid tenant (the field is
    ///         ``tenant``).
    ///     ClosedError: the store is closed.
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

    /// str | None: the tenant of a scoped view; ``None`` for the whole store.
    #[getter]
    fn tenant(&self) -> Option<String> {
        self.handle.tenant().map(str::to_owned)
    }

    /// Checks that the indexes and the records agree.
    ///
    /// Every index entry is checked against its record, and every record
    /// against the indexes. See docs/reference/changes-and-export.md.
    ///
    /// Returns:
    ///     dict: ``{"ok": bool, "problems": [str, ...]}``, one line per
    ///     mismatch found (none when ``ok``).
    ///
    /// Raises:
    ///     StorageError: the store cannot be read, or the call went to a
    ///         scoped view.
    ///     ClosedError: the store is closed.
    fn check<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = py.detach(|| self.handle.check()).or_raise(py)?;
        doc_to_py(py, &report)
    }

    /// Reclaims unused file space; other calls wait while it runs.
    ///
    /// Returns:
    ///     bool: whether any space was reclaimed.
    ///
    /// Raises:
    ///     BusyError: another call, a scoped view's call or an open
    ///         transaction holds the store.
    ///     StorageError: the file cannot be written, or the call went to a
    ///         scoped view.
    ///     ClosedError: the store is closed.
    fn compact(&self, py: Python<'_>) -> PyResult<bool> {
        py.detach(|| self.handle.compact()).or_raise(py)
    }

    /// Closes the store and every view of it; closing again does nothing.
    ///
    /// Later calls raise ``ClosedError`` (a ``StorageError``). The file
    /// closes when the calls running now end, or, while a transaction is
    /// open, when it ends (it is then rolled back); a clean close folds the
    /// write-ahead log into the file. It may wait on the disk. Never
    /// raises.
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

/// A write transaction, made by ``store.transaction()``.
///
///     with store.transaction() as tx:
///         tx.users.create({...})
///
/// Everything in the ``with`` block commits together, durably, or nothing
/// does when an exception leaves the block. Reads inside see the
/// transaction's own writes; a call that raised leaves no trace and the
/// transaction goes on. ``tx.users``, ``tx.roles`` and ``tx.clients`` have
/// the calls of the store's collections; logins and password checks are
/// refused inside (``ArgumentError``: a rollback would undo their failure
/// count). Entering waits for any other thread's transaction; entering
/// raises ``BusyError`` when this transaction was begun before or this
/// thread holds another open one, and ``ClosedError`` when the store is
/// closed. Leaving raises ``ClosedError`` when the store was closed
/// meanwhile (the transaction is rolled back). See
/// docs/reference/transactions.md.
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
