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
        $class:ident $name:tt of $doc:ident in $collection:ident {
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
            /// The record with this id; `NotFoundError` when there is none.
            fn get<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                record_to_py(py, &self.call_record(py, Read, id, |c, id| c.get(id))?)
            }

            $(#[$create_doc])*
            fn create<'py>(&self, py: Python<'py>, doc: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
                let (value, problems) = crate::convert::create_document(doc)?;
                let created = self.call(py, Write, |c| {
                    c.create(crate::convert::new_document(&value, problems, |v| c.input_from_json(v))?)
                })?;
                $created(py, &created)
            }
        }

        collection_classes!(@update $class,
            /// Applies a JSON Patch (a list of operation dicts), all or nothing.
            fn patch(ops) = ops_arg);
        collection_classes!(@update $class,
            /// Applies a JSON Merge Patch: `None` removes an optional field.
            fn merge(partial) = |py, partial| document(py, partial, "partial"));
        collection_classes!(@update $class,
            /// Replaces the writable fields; the tenant and password are kept unless given.
            fn replace(doc) = |py, doc| document(py, doc, "doc"));

        crate::query::query_methods!($class);
    )+};
    (@update $class:ident, $(#[$attr:meta])* fn $name:ident($arg:ident) = $read:expr) => {
        #[pymethods]
        impl $class {
            $(#[$attr])*
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
    /// The users of a store or transaction.
    PyUsers "Users" of User in users {
        /// Creates a user from its document and returns the stored document.
        fn create(rosterdb::NewUser) => record_to_py;
    }

    /// The roles of a store or transaction.
    PyRoles "Roles" of Role in roles {
        /// Creates a role from its document and returns the stored document.
        fn create(rosterdb::NewRole) => record_to_py;
    }

    /// The app-clients of a store or transaction.
    PyClients "Clients" of Client in clients {
        /// Creates a client; returns `{"client": dict, "secret": str}`. The
        /// secret is shown only here.
        fn create(rosterdb::NewClient) => created_client_to_py;
    }
}

#[pymethods]
impl PyUsers {
    /// The user with this username (any case) in `tenant`.
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

    /// The user with this email (any case) in `tenant`.
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

    /// The user with this external id in `tenant`.
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

    /// Deletes a user and returns its last document.
    fn delete<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        record_to_py(
            py,
            &self.call_record(py, Write, id, |users, id| users.delete(id))?,
        )
    }

    /// Creates users from `docs`, a list of user documents (dicts, each
    /// read as `create` reads one; in a scoped view each gets the view's
    /// tenant), in one write, all or nothing; returns their ids (a list of
    /// `int`), in the order of `docs`. Nothing is written when any document
    /// fails: `TypeError` when `docs` is not a list or an item not a dict
    /// (naming it: `docs[3]`); `ValidationError` for an invalid document,
    /// its fields named inside the item (`docs[3].email`), or for a role
    /// no record has (`roles`); `ConflictError` when a username, email or
    /// external id is taken in the store or by an earlier document of the
    /// list. Inside a transaction, the users are part of it.
    fn create_many(&self, py: Python<'_>, docs: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        let docs = crate::convert::create_documents(docs)?;
        self.call(py, Write, |users| {
            let mut new = Vec::with_capacity(docs.len());
            for (index, (value, problems)) in docs.into_iter().enumerate() {
                let user =
                    crate::convert::new_document(&value, problems, |v| users.input_from_json(v))
                        .map_err(|e| e.in_item("docs", index))?;
                new.push(user);
            }
            users.create_many(new)
        })
    }
}

#[pymethods]
impl PyRoles {
    /// Deletes a role and returns its last document; with `cascade`, also
    /// removes it from every user and client holding it.
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
    /// The client with this public client id.
    fn get_by_client_id<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client_id = lookup_key(client_id, "client_id", "clientId", EntityKind::Client)?;
        let client = self.call(py, Read, |clients| clients.get_by_client_id(&client_id))?;
        record_to_py(py, &client)
    }

    /// Deletes a client and returns its last document.
    fn delete<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        record_to_py(
            py,
            &self.call_record(py, Write, id, |clients, id| clients.delete(id))?,
        )
    }
}
