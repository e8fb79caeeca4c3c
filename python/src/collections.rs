//! `store.users`, `store.roles`, `store.clients` (and the same on a transaction).
//!
//! The three classes share their methods: [`PyCollection`] says, per class,
//! which kind of record it holds and how to reach it in the core, and
//! `collection_classes!` declares each class with the methods pyo3 needs
//! spelled out per class, each converting its arguments and handing over to
//! one generic function here or in [`crate::query`].

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList};
use rosterdb::{Collection, Context, Editable, Entity, EntityKind, Error, StoreHandle, TxHandle};
use serde_json::Value;

use self::Access::{Read, Write};
use crate::args::{lookup_key, lookup_tenant, type_name};
use crate::convert::{RecordToPy, document, patch_ops, record_to_py};
use crate::errors::{IntoPyResult, to_py_err};

/// Where a collection's calls go.
#[derive(Clone)]
pub(crate) enum Target {
    /// Each call is its own transaction on the store (seeing one tenant when scoped).
    Store(StoreHandle),
    /// Calls join an open transaction (seeing one tenant when scoped).
    Transaction(Arc<TxHandle>),
}

/// Whether a call only reads or may write: on a store, each call is a
/// read or a write transaction of its own; in a transaction, both join it.
#[derive(Clone, Copy)]
pub(crate) enum Access {
    /// The call only reads.
    Read,
    /// The call may write.
    Write,
}

impl Target {
    /// The tenant of the scoped view the calls go to; `None` for the whole store.
    pub(crate) fn tenant(&self) -> Option<&str> {
        match self {
            Target::Store(store) => store.tenant(),
            Target::Transaction(tx) => tx.tenant(),
        }
    }

    /// Runs `f` with the GIL released.
    ///
    /// Even a `get` of about a microsecond releases it (that costs some
    /// 50 ns): a read may wait on disk when the page is not cached, and a
    /// read that drops the last hold on a store another thread closed
    /// closes the file (folding its log in); holding the GIL through either
    /// would stall every other Python thread. In a transaction, a call may
    /// wait for a lock a thread holding the GIL owns, so there it must be
    /// released.
    pub(crate) fn call<T: Send>(
        &self,
        py: Python<'_>,
        access: Access,
        f: impl FnOnce(Context<'_>) -> rosterdb::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| match (self, access) {
            (Target::Store(store), Access::Read) => store.read(f),
            (Target::Store(store), Access::Write) => store.write(f),
            (Target::Transaction(tx), _) => tx.call(f),
        })
        .or_raise(py)
    }
}

/// Reads a record id: an `int` (not a `bool`; else `TypeError`). An int
/// no record can have (negative, or beyond 64 bits) is simply not found.
pub(crate) fn record_id(
    py: Python<'_>,
    entity: EntityKind,
    id: &Bound<'_, PyAny>,
) -> PyResult<u64> {
    if id.is_instance_of::<PyBool>() || !id.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "id must be an int, not {}",
            type_name(id)
        )));
    }
    id.extract::<u64>().map_err(|_| {
        let key = match id.extract::<i128>() {
            Ok(n) => format!("id {n}"),
            Err(_) if id.lt(0).unwrap_or(false) => "id below -2**127".to_owned(),
            Err(_) => "id beyond 2**127".to_owned(),
        };
        to_py_err(py, Error::NotFound { entity, key })
    })
}

/// The collection of `D` in a call's context, as the closures of
/// [`PyCollection`] receive it.
pub(crate) type Records<'c, 'a, D> = Collection<'c, Context<'a>, D>;

/// A collection class (`Users`, `Roles`, `Clients`): the kind of record it
/// holds, where its calls go, and the calls on one record by id that all
/// its methods share.
pub(crate) trait PyCollection {
    /// The core's document of the kind.
    type Doc: Editable<Record: PartialEq> + RecordToPy + Send;

    /// The class, for the calls going to `target`.
    fn new(target: Target) -> Self;

    /// Where the calls go.
    fn target(&self) -> &Target;

    /// The kind's collection in a call's context.
    fn of<'c, 'a>(c: &'c Context<'a>) -> Records<'c, 'a, Self::Doc>;

    /// Runs `f` on the collection with the GIL released.
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        access: Access,
        f: impl FnOnce(Records<'_, '_, Self::Doc>) -> rosterdb::Result<T> + Send,
    ) -> PyResult<T> {
        self.target().call(py, access, |c| f(Self::of(&c)))
    }

    /// Reads the record id `id` (see [`record_id`]), then runs `f` with it
    /// on the collection.
    fn call_record<T: Send>(
        &self,
        py: Python<'_>,
        access: Access,
        id: &Bound<'_, PyAny>,
        f: impl FnOnce(Records<'_, '_, Self::Doc>, u64) -> rosterdb::Result<T> + Send,
    ) -> PyResult<T> {
        let id = record_id(py, Self::Doc::KIND, id)?;
        self.call(py, access, |records| f(records, id))
    }
}

/// `patch`, `merge` and `replace`: `read` converts the argument, then
/// `apply` changes the record with this id (with `expected_version`, only
/// a record of that version).
fn update<'py, K: PyCollection>(
    collection: &K,
    py: Python<'py>,
    id: &Bound<'py, PyAny>,
    arg: &Bound<'py, PyAny>,
    expected_version: Option<u64>,
    read: fn(Python<'_>, &Bound<'_, PyAny>) -> PyResult<Value>,
    apply: impl FnOnce(Records<'_, '_, K::Doc>, u64, &Value, Option<u64>) -> rosterdb::Result<K::Doc>
    + Send,
) -> PyResult<Bound<'py, PyAny>> {
    let id = record_id(py, K::Doc::KIND, id)?;
    let value = read(py, arg)?;
    let doc = collection.call(py, Write, |c| apply(c, id, &value, expected_version))?;
    record_to_py(py, &doc)
}

/// The `ops` of `patch`: a list of operation dicts (else `TypeError`).
fn ops_arg(py: Python<'_>, ops: &Bound<'_, PyAny>) -> PyResult<Value> {
    let Ok(ops) = ops.cast::<PyList>() else {
        return Err(PyTypeError::new_err(format!(
            "ops must be a list of dicts, not {}",
            type_name(ops)
        )));
    };
    patch_ops(py, ops)
}

/// What `clients.create` returns: `{"client": dict, "secret": str}`.
fn created_client_to_py<'py>(
    py: Python<'py>,
    created: &rosterdb::CreatedClient,
) -> PyResult<Bound<'py, PyAny>> {
    let out = PyDict::new(py);
    out.set_item("client", record_to_py(py, &created.client)?)?;
    out.set_item("secret", created.secret.expose())?;
    Ok(out.into_any())
}

/// Declares each collection class with the methods every one of them has:
/// `get`, `create` (whose result `$created` converts), `list`, `iter`,
/// `count`, `exists`, `explain`, `patch`, `merge` and `replace`. pyo3 needs
/// each method written out per class; each only converts its arguments and
/// calls the generic function that does the work.
macro_rules! collection_classes {
    ($(
        $(#[$attr:meta])*
        $class:ident $name:tt of $doc:ident in $collection:ident, $kind:literal {
            $(#[$create_doc:meta])*
            fn create($new:ty) => $created:path;
        }
    )+) => {$(
        $(#[$attr])*
        #[pyclass(frozen, name = $name, module = "rosterdb")]
        pub(crate) struct $class {
            target: Target,
        }

        impl PyCollection for $class {
            type Doc = rosterdb::$doc;

            fn new(target: Target) -> Self {
                $class { target }
            }

            fn target(&self) -> &Target {
                &self.target
            }

            fn of<'c, 'a>(c: &'c Context<'a>) -> Records<'c, 'a, rosterdb::$doc> {
                c.$collection()
            }
        }

        #[pymethods]
        impl $class {
            #[doc = concat!("The ", $kind, " with this id.")]
            ///
            /// Args:
            #[doc = concat!("    id (int): the ", $kind, "'s id (assigned by the store, from 1).")]
            ///
            /// Returns:
            #[doc = concat!("    dict: the ", $kind, " document (its keys: ``help(rosterdb.", $name, ")``).")]
            ///
            /// Raises:
            #[doc = concat!("    NotFoundError: no ", $kind, " has this id (in a scoped view: in its tenant).")]
            ///     TypeError: ``id`` is not an ``int``.
            ///     ClosedError: the store is closed (or the transaction the
            ///         call goes through is not open).
            fn get<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                record_to_py(py, &self.call_record(py, Read, id, |c, id| c.get(id))?)
            }

            $(#[$create_doc])*
            fn create<'py>(&self, py: Python<'py>, doc: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let (value, problems) = crate::convert::create_document(doc)?;
                let created = self.call(py, Write, |c| {
                    c.create(crate::convert::new_document(value, problems, |v| c.input_from_json(&v))?)
                })?;
                $created(py, &created)
            }
        }

        collection_classes!(@update $class,
            /// Applies an RFC 6902 JSON Patch to a record, all or nothing.
            ///
            /// Operations: ``add``, ``remove``, ``replace``, ``move``,
            /// ``copy`` and ``test`` on the camelCase document; read-only
            /// fields may only be read by ``test``, and ``add`` or
            /// ``replace`` on ``/password`` sets a user's password. A failed
            /// operation or a result that breaks the field rules leaves the
            /// record as it was. See docs/reference/updates.md.
            ///
            ///     store.users.patch(7, [
            ///         {"op": "test", "path": "/version", "value": 3},
            ///         {"op": "replace", "path": "/lastName", "value": "Byron"},
            ///     ])
            fn patch(ops) = ops_arg;
            args {
                ///     ops (list[dict]): the operations, each ``{"op": str,
                ///         "path": str, ...}`` (with ``"value"`` or ``"from"``
                ///         as the operation needs).
            }
            raises {
                ///     PatchError: an operation is malformed, names a
                ///         read-only field or fails (``op_index`` names it,
                ///         ``code`` the problem).
            });
        collection_classes!(@update $class,
            /// Applies an RFC 7396 JSON Merge Patch to a record.
            ///
            /// Keys of ``partial`` replace the document's (objects such as
            /// ``attributes`` are merged key by key); ``None`` removes an
            /// optional field. Read-only fields are accepted only when equal
            /// to the stored value, so a fetched document can be sent back.
            /// See docs/reference/updates.md.
            fn merge(partial) = |py, partial| document(py, partial, "partial");
            args {
                ///     partial (dict): the fields to change, camelCase keys.
            }
            raises {});
        collection_classes!(@update $class,
            /// Replaces every writable field of a record (a PUT).
            ///
            /// Absent optional fields are cleared and absent defaulted ones
            /// take their defaults; the tenant and a user's password are
            /// kept unless given. Read-only fields are accepted only when
            /// equal to the stored value. See docs/reference/updates.md.
            fn replace(doc) = |py, doc| document(py, doc, "doc");
            args {
                ///     doc (dict): the whole document, camelCase keys.
            }
            raises {});

        crate::query::query_methods!($class);
    )+};
    (@update $class:ident, $(#[$attr:meta])* fn $name:ident($arg:ident) = $read:expr;
        args { $(#[$args:meta])* } raises { $(#[$raises:meta])* }) => {
        #[pymethods]
        impl $class {
            $(#[$attr])*
            ///
            /// Args:
            ///     id (int): the record's id.
            $(#[$args])*
            ///     expected_version (int | None): when given, change the record
            ///         only if its ``version`` is this one (optimistic
            ///         concurrency, like HTTP If-Match).
            ///
            /// Returns:
            ///     dict: the record's document after the update; an update
            ///     that changes nothing writes nothing (no version bump).
            ///
            /// Raises:
            ///     ValidationError: the result breaks the field rules
            ///         (``errors`` lists every failing field).
            $(#[$raises])*
            ///     ConflictError: a unique value is taken (``field``
            ///         names it).
            ///     VersionConflictError: the record's ``version`` is not
            ///         ``expected_version``; nothing changed.
            ///     NotFoundError: no record of the collection has this id.
            ///     ArgumentError: ``expected_version`` is not ``None`` or an
            ///         ``int`` from 0 to 2**64 - 1.
            #[doc = concat!("    TypeError: ``id`` is not an ``int``, or ``", stringify!($arg), "`` is of the wrong type.")]
            ///     BusyError: this thread has a transaction open (use it).
            ///     ClosedError: the store is closed (or the transaction the
            ///         call goes through is not open).
            #[pyo3(signature = (id, $arg, expected_version=None))]
            fn $name<'py>(
                &self,
                py: Python<'py>,
                id: &Bound<'py, PyAny>,
                $arg: &Bound<'py, PyAny>,
                #[pyo3(from_py_with = crate::args::expected_version)] expected_version: Option<u64>,
            ) -> PyResult<Bound<'py, PyAny>> {
                update(self, py, id, $arg, expected_version, $read, |c, id, value, expected| {
                    c.$name(id, value, expected)
                })
            }
        }
    };
}

collection_classes! {
    /// The users of a store, scoped view or transaction: ``store.users``.
    ///
    /// A user is a dict with camelCase keys (see
    /// docs/reference/documents.md, Users). Lengths count characters;
    /// strings are stored as given and compared caselessly (NFKC_Casefold).
    ///
    /// - ``id`` (int): read-only, assigned by the store from 1.
    /// - ``username`` (str): required; 1-100 letters of any script, ASCII
    ///   digits and ``@ . - _``; unique per tenant, case-insensitively.
    /// - ``email`` (str): required; 5-255, ``local@domain.tld``; unique per
    ///   tenant, case-insensitively.
    /// - ``firstName``, ``lastName`` (str): required; 1-50.
    /// - ``nickname`` (str): optional; 0-50. ``telephoneNumber`` (str):
    ///   optional; 1-100. ``mobileNumber`` (str): optional; 1-30.
    /// - ``tenant`` (str): optional; 1-64 of ``[A-Za-z0-9._:-]``; set at
    ///   creation, immutable, compared exactly.
    /// - ``enabled`` (bool): default true.
    /// - ``roles`` (list[int]): role ids of the same tenant; default [];
    ///   kept sorted, without duplicates; at most 1,000.
    /// - ``externalIds`` (list[dict]): ``{"type": str (1-50), "value": str
    ///   (1-255)}``; (tenant, type, value) unique; default []; at most 100.
    /// - ``attributes`` (dict): free-form JSON object, at most 16 KiB as
    ///   JSON; default {}.
    /// - ``password`` (str): write-only; 8-1024; stored as an Argon2id hash,
    ///   never returned. ``passwordHash`` (str): write-only; another
    ///   system's hash to import (docs/reference/credentials.md, Passwords).
    /// - read-only: ``createdAt``, ``updatedAt``, ``lastLoginAt``,
    ///   ``lockedUntil`` (str, RFC 3339 UTC; the last two only when set),
    ///   ``hasPassword``, ``totpEnabled`` (bool), ``version`` (int, +1 on
    ///   every change).
    ///
    /// Absent optional fields are left out of documents; unknown fields are
    /// a ``ValidationError``.
    ///
    /// Queries (``list``, ``iter``, ``count``, ``exists``, ``explain``) take a
    /// parameter-form ``filters`` dict (``{"lastName": "like:Ho%", "roles":
    /// "in:1,2"}``), an expression ``where="enabled = true and username sw
    /// 'fr'"``, or free-text ``search``; see docs/reference/queries.md.
    PyUsers "Users" of User in users, "user" {
        /// Creates a user from its document.
        ///
        /// Args:
        ///     doc (dict): the user document (``help(rosterdb.Users)`` lists
        ///         the fields); required: ``username``, ``email``,
        ///         ``firstName``, ``lastName``. In a scoped view the tenant
        ///         is the view's.
        ///
        /// Returns:
        ///     dict: the stored user document, with ``id``, ``version`` 1
        ///     and the timestamps; never the password.
        ///
        /// Raises:
        ///     ValidationError: the document breaks the field rules, names
        ///         a read-only or unknown field, or a role no record has
        ///         (``errors`` lists every failing field).
        ///     ConflictError: the username, email or an external id is
        ///         taken (``field`` names it).
        ///     TypeError: ``doc`` is not a ``dict`` with ``str`` keys.
        ///     BusyError: this thread has a transaction open (use it).
        ///     ClosedError: the store is closed (or the transaction the
        ///         call goes through is not open).
        fn create(rosterdb::NewUser) => record_to_py;
    }

    /// The roles (permission groups) of a store: ``store.roles``.
    ///
    /// Also ``view.roles`` of a scoped view and ``tx.roles`` of a
    /// transaction. A role is a dict with camelCase keys (see
    /// docs/reference/documents.md, Roles):
    ///
    /// - ``id`` (int): read-only, assigned by the store from 1.
    /// - ``name`` (str): required; 1-100 characters; unique per tenant,
    ///   case-insensitively.
    /// - ``description`` (str): optional; 0-500 (tab and newline allowed).
    /// - ``externalId`` (str): optional; 1-255; another system's id for the
    ///   role (SCIM), compared exactly, not unique.
    /// - ``permissions`` (list[str]): each 1-100 of ``[A-Za-z0-9:._*-]``;
    ///   deduplicated and sorted; default []; at most 1,000.
    /// - ``tenant`` (str): optional; set at creation, immutable.
    /// - read-only: ``createdAt``, ``updatedAt`` (str, RFC 3339 UTC),
    ///   ``version`` (int).
    ///
    /// Queries (``list``, ``iter``, ``count``, ``exists``, ``explain``) take a
    /// parameter-form ``filters`` dict (``{"name": "like:adm%"}``), an
    /// expression ``where="permissions = 'users:write'"``, or free-text
    /// ``search``; see docs/reference/queries.md.
    PyRoles "Roles" of Role in roles, "role" {
        /// Creates a role from its document.
        ///
        /// Args:
        ///     doc (dict): the role document (``help(rosterdb.Roles)`` lists
        ///         the fields); required: ``name``. In a scoped view the
        ///         tenant is the view's.
        ///
        /// Returns:
        ///     dict: the stored role document, with ``id``, ``version`` 1
        ///     and the timestamps.
        ///
        /// Raises:
        ///     ValidationError: the document breaks the field rules or
        ///         names a read-only or unknown field (``errors`` lists
        ///         every failing field).
        ///     ConflictError: the name is taken in the tenant (``field`` is
        ///         ``name``).
        ///     TypeError: ``doc`` is not a ``dict`` with ``str`` keys.
        ///     BusyError: this thread has a transaction open (use it).
        ///     ClosedError: the store is closed (or the transaction the
        ///         call goes through is not open).
        fn create(rosterdb::NewRole) => record_to_py;
    }

    /// The app-clients (service identities) of a store: ``store.clients``.
    ///
    /// Also ``view.clients`` of a scoped view and ``tx.clients`` of a
    /// transaction. A client is a dict with camelCase keys (see
    /// docs/reference/documents.md, Clients):
    ///
    /// - ``id`` (int): read-only, assigned by the store from 1.
    /// - ``clientId`` (str): read-only; ``rc_`` + 22 random base62
    ///   characters; unique; what ``client_login`` takes.
    /// - ``name`` (str): required; 1-100 characters.
    /// - ``description`` (str): optional; 0-500.
    /// - ``tenant`` (str): optional; set at creation, immutable.
    /// - ``enabled`` (bool): default true.
    /// - ``roles`` (list[int]): role ids, as for users.
    /// - ``ipAllowlist`` (list[str]): IPv4/IPv6 addresses or CIDR blocks;
    ///   default [] (any address); at most 100.
    /// - read-only: ``createdAt``, ``updatedAt``, ``lastUsedAt`` (str,
    ///   RFC 3339 UTC; the last only once used), ``version`` (int).
    ///
    /// The secret (32 random bytes, base64url) is stored only as a hash and
    /// returned once, by ``create`` and ``rotate_secret``.
    ///
    /// Queries (``list``, ``iter``, ``count``, ``exists``, ``explain``) take a
    /// parameter-form ``filters`` dict (``{"enabled": "true", "roles":
    /// "in:1,2"}``), an expression ``where="name sw 'ci' and not (roles eq
    /// 3)"``, or free-text ``search``; see docs/reference/queries.md.
    PyClients "Clients" of Client in clients, "client" {
        /// Creates an app-client with a new secret.
        ///
        /// Args:
        ///     doc (dict): the client document (``help(rosterdb.Clients)``
        ///         lists the fields); required: ``name``. In a scoped view
        ///         the tenant is the view's.
        ///
        /// Returns:
        ///     dict: ``{"client": dict, "secret": str}``: the stored client
        ///     document and its secret (32 random bytes, base64url), shown
        ///     only here.
        ///
        /// Raises:
        ///     ValidationError: the document breaks the field rules, names
        ///         a read-only or unknown field, or a role no record has
        ///         (``errors`` lists every failing field).
        ///     TypeError: ``doc`` is not a ``dict`` with ``str`` keys.
        ///     BusyError: this thread has a transaction open (use it).
        ///     ClosedError: the store is closed (or the transaction the
        ///         call goes through is not open).
        fn create(rosterdb::NewClient) => created_client_to_py;
    }
}

#[pymethods]
impl PyUsers {
    /// The user with this username, compared caselessly.
    ///
    /// Args:
    ///     username (str): the username, in any case.
    ///     tenant (str | None): the tenant to look in; ``None`` means users
    ///         without one (a scoped view always uses its own).
    ///
    /// Returns:
    ///     dict: the user document (its keys: ``help(rosterdb.Users)``).
    ///
    /// Raises:
    ///     NotFoundError: no user matches (never ``None``).
    ///     TypeError: an argument is not a ``str`` (``tenant``: or ``None``).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
    #[pyo3(signature = (username, tenant=None))]
    fn get_by_username<'py>(
        &self,
        py: Python<'py>,
        username: &Bound<'py, PyAny>,
        tenant: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let tenant = lookup_tenant(tenant, EntityKind::User)?;
        let username = lookup_key(username, "username", "username", EntityKind::User)?;
        let user = self.call(py, Read, |users| {
            users.get_by_username(&username, tenant.as_deref())
        })?;
        record_to_py(py, &user)
    }

    /// The user with this email, compared caselessly.
    ///
    /// Args:
    ///     email (str): the email, in any case.
    ///     tenant (str | None): the tenant to look in; ``None`` means users
    ///         without one (a scoped view always uses its own).
    ///
    /// Returns:
    ///     dict: the user document (its keys: ``help(rosterdb.Users)``).
    ///
    /// Raises:
    ///     NotFoundError: no user matches (never ``None``).
    ///     TypeError: an argument is not a ``str`` (``tenant``: or ``None``).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
    #[pyo3(signature = (email, tenant=None))]
    fn get_by_email<'py>(
        &self,
        py: Python<'py>,
        email: &Bound<'py, PyAny>,
        tenant: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let tenant = lookup_tenant(tenant, EntityKind::User)?;
        let email = lookup_key(email, "email", "email", EntityKind::User)?;
        let user = self.call(py, Read, |users| {
            users.get_by_email(&email, tenant.as_deref())
        })?;
        record_to_py(py, &user)
    }

    /// The user with this external id (an entry of ``externalIds``).
    ///
    /// Args:
    ///     type (str): the external id's ``type`` (e.g. ``"ldap"``).
    ///     value (str): its ``value``.
    ///     tenant (str | None): the tenant to look in; ``None`` means users
    ///         without one (a scoped view always uses its own).
    ///
    /// Returns:
    ///     dict: the user document (its keys: ``help(rosterdb.Users)``).
    ///
    /// Raises:
    ///     NotFoundError: no user matches (never ``None``).
    ///     TypeError: an argument is not a ``str`` (``tenant``: or ``None``).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
    #[pyo3(signature = (r#type, value, tenant=None))]
    fn get_by_external_id<'py>(
        &self,
        py: Python<'py>,
        r#type: &Bound<'py, PyAny>,
        value: &Bound<'py, PyAny>,
        tenant: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let tenant = lookup_tenant(tenant, EntityKind::User)?;
        let kind = lookup_key(r#type, "type", "external id", EntityKind::User)?;
        let value = lookup_key(value, "value", "external id", EntityKind::User)?;
        let user = self.call(py, Read, |users| {
            users.get_by_external_id(&kind, &value, tenant.as_deref())
        })?;
        record_to_py(py, &user)
    }

    /// Deletes a user and ends its sessions.
    ///
    /// Args:
    ///     id (int): the user's id.
    ///
    /// Returns:
    ///     dict: the user's last document.
    ///
    /// Raises:
    ///     NotFoundError: no user has this id.
    ///     TypeError: ``id`` is not an ``int``.
    ///     BusyError: this thread has a transaction open (use it).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
    fn delete<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        record_to_py(
            py,
            &self.call_record(py, Write, id, |users, id| users.delete(id))?,
        )
    }

    /// Creates many users in one write, all or nothing.
    ///
    /// Faster than ``create`` in a loop. Inside a transaction, the users
    /// are part of it. The documents are read with the GIL held, so no
    /// other thread can change one mid-call; the write releases it.
    ///
    /// Args:
    ///     docs (list[dict]): user documents, each read as ``create`` reads
    ///         one (in a scoped view each gets the view's tenant).
    ///
    /// Returns:
    ///     list[int]: the new users' ids, in the order of ``docs``.
    ///
    /// Raises:
    ///     ValidationError: a document is invalid, its fields named inside
    ///         the item (``docs[3].email``), or names a role no record has;
    ///         nothing is written.
    ///     ConflictError: a username, email or external id is taken in the
    ///         store or by an earlier document of the list.
    ///     TypeError: ``docs`` is not a ``list`` or an item not a ``dict``
    ///         (naming it: ``docs[3]``).
    ///     BusyError: this thread has a transaction open (use it).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
    fn create_many(&self, py: Python<'_>, docs: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        let new = crate::bulk::new_users(py, docs, self.target.tenant())?;
        self.call(py, Write, |users| users.create_many_validated(new))
    }
}

#[pymethods]
impl PyRoles {
    /// Deletes a role.
    ///
    /// Args:
    ///     id (int): the role's id.
    ///     cascade (bool): also remove the role from every user and client
    ///         holding it, in the same transaction (default ``False``).
    ///
    /// Returns:
    ///     dict: the role's last document.
    ///
    /// Raises:
    ///     InUseError: users or clients hold the role and ``cascade`` is
    ///         false (``count`` says how many).
    ///     NotFoundError: no role has this id.
    ///     TypeError: ``id`` is not an ``int`` or ``cascade`` not a ``bool``.
    ///     BusyError: this thread has a transaction open (use it).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
    #[pyo3(signature = (id, cascade=false))]
    fn delete<'py>(
        &self,
        py: Python<'py>,
        id: &Bound<'py, PyAny>,
        #[pyo3(from_py_with = crate::args::cascade)] cascade: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        record_to_py(
            py,
            &self.call_record(py, Write, id, |roles, id| roles.delete(id, cascade))?,
        )
    }
}

#[pymethods]
impl PyClients {
    /// The app-client with this public client id (compared exactly).
    ///
    /// Args:
    ///     client_id (str): the ``clientId`` (``rc_`` + 22 base62 characters).
    ///
    /// Returns:
    ///     dict: the client document (its keys: ``help(rosterdb.Clients)``).
    ///
    /// Raises:
    ///     NotFoundError: no client has this client id.
    ///     TypeError: ``client_id`` is not a ``str``.
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
    fn get_by_client_id<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client_id = lookup_key(client_id, "client_id", "clientId", EntityKind::Client)?;
        let client = self.call(py, Read, |clients| clients.get_by_client_id(&client_id))?;
        record_to_py(py, &client)
    }

    /// Deletes an app-client and ends its sessions.
    ///
    /// Args:
    ///     id (int): the client's id.
    ///
    /// Returns:
    ///     dict: the client's last document.
    ///
    /// Raises:
    ///     NotFoundError: no client has this id.
    ///     TypeError: ``id`` is not an ``int``.
    ///     BusyError: this thread has a transaction open (use it).
    ///     ClosedError: the store is closed (or the transaction the call
    ///         goes through is not open).
    fn delete<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        record_to_py(
            py,
            &self.call_record(py, Write, id, |clients, id| clients.delete(id))?,
        )
    }
}
