//! `store.users`, `store.roles`, `store.clients` (and the same on a transaction).

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList};
use rosterdb::{
    Context, EntityKind, Error, NewClient, NewRole, NewUser, Query, QueryArgs, StoreHandle,
    TxHandle,
};

use crate::args::{lookup_key, lookup_tenant, type_name};
use crate::convert::{doc_to_py, document, new_document, patch_ops};
use crate::errors::{IntoPyResult, to_py_err};
use crate::query::{PyPage, PyWalk, filter_args, list_arg, list_page, page_to_py};

/// Where a collection's calls go.
#[derive(Clone)]
pub(crate) enum Target {
    /// Each call is its own transaction on the store (seeing one tenant when scoped).
    Store(StoreHandle),
    /// Calls join an open transaction (seeing one tenant when scoped).
    Transaction(Arc<TxHandle>),
}

impl Target {
    /// Runs a read with the GIL released.
    pub(crate) fn read<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(Context<'_>) -> rosterdb::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| match self {
            Target::Store(store) => store.read(f),
            Target::Transaction(tx) => tx.call(f),
        })
        .or_raise(py)
    }

    /// Runs a write with the GIL released.
    pub(crate) fn write<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(Context<'_>) -> rosterdb::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| match self {
            Target::Store(store) => store.write(f),
            Target::Transaction(tx) => tx.call(f),
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

/// The document with this id through `get`, converted to a dict.
fn get_doc<'py, D: serde::Serialize + Send>(
    py: Python<'py>,
    target: &Target,
    entity: EntityKind,
    id: &Bound<'py, PyAny>,
    get: impl FnOnce(Context<'_>, u64) -> rosterdb::Result<D> + Send,
) -> PyResult<Bound<'py, PyAny>> {
    let id = record_id(py, entity, id)?;
    let doc = target.read(py, |c| get(c, id))?;
    doc_to_py(py, &doc)
}

/// The users of a store or transaction.
#[pyclass(frozen, name = "Users", module = "rosterdb")]
pub(crate) struct PyUsers {
    pub(crate) target: Target,
}

/// The roles of a store or transaction.
#[pyclass(frozen, name = "Roles", module = "rosterdb")]
pub(crate) struct PyRoles {
    pub(crate) target: Target,
}

/// The app-clients of a store or transaction.
#[pyclass(frozen, name = "Clients", module = "rosterdb")]
pub(crate) struct PyClients {
    pub(crate) target: Target,
}

macro_rules! constructors {
    ($($class:ident),*) => {$(
        impl $class {
            pub(crate) fn new(target: Target) -> Self {
                $class { target }
            }
        }
    )*};
}

constructors!(PyUsers, PyRoles, PyClients);

#[pymethods]
impl PyUsers {
    /// The record with this id; `NotFoundError` when there is none.
    fn get<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        get_doc(py, &self.target, EntityKind::User, id, |c, id| {
            c.users().get(id)
        })
    }

    /// Creates a user from its document and returns the stored document.
    fn create<'py>(&self, py: Python<'py>, doc: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let new = new_document(py, doc, NewUser::from_json)?;
        let user = self.target.write(py, |c| c.users().create(new))?;
        doc_to_py(py, &user)
    }

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
        let user = self.target.read(py, |c| {
            c.users().get_by_username(&username, tenant.as_deref())
        })?;
        doc_to_py(py, &user)
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
        let user = self
            .target
            .read(py, |c| c.users().get_by_email(&email, tenant.as_deref()))?;
        doc_to_py(py, &user)
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
        let user = self.target.read(py, |c| {
            c.users()
                .get_by_external_id(&kind, &value, tenant.as_deref())
        })?;
        doc_to_py(py, &user)
    }

    /// Deletes a user and returns its last document.
    fn delete<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let id = record_id(py, EntityKind::User, id)?;
        let user = self.target.write(py, |c| c.users().delete(id))?;
        doc_to_py(py, &user)
    }
}

#[pymethods]
impl PyRoles {
    /// The record with this id; `NotFoundError` when there is none.
    fn get<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        get_doc(py, &self.target, EntityKind::Role, id, |c, id| {
            c.roles().get(id)
        })
    }

    /// Creates a role from its document and returns the stored document.
    fn create<'py>(&self, py: Python<'py>, doc: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let new = new_document(py, doc, NewRole::from_json)?;
        let role = self.target.write(py, |c| c.roles().create(new))?;
        doc_to_py(py, &role)
    }

    /// Deletes a role and returns its last document; with `cascade`, also
    /// removes it from every user and client holding it.
    #[pyo3(signature = (id, cascade=false))]
    fn delete<'py>(
        &self,
        py: Python<'py>,
        id: &Bound<'py, PyAny>,
        #[pyo3(from_py_with = crate::args::cascade)] cascade: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = record_id(py, EntityKind::Role, id)?;
        let role = self.target.write(py, |c| c.roles().delete(id, cascade))?;
        doc_to_py(py, &role)
    }
}

#[pymethods]
impl PyClients {
    /// The record with this id; `NotFoundError` when there is none.
    fn get<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        get_doc(py, &self.target, EntityKind::Client, id, |c, id| {
            c.clients().get(id)
        })
    }

    /// Creates a client; returns `{"client": dict, "secret": str}`. The
    /// secret is shown only here.
    fn create<'py>(
        &self,
        py: Python<'py>,
        doc: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let new = new_document(py, doc, NewClient::from_json)?;
        let created = self.target.write(py, |c| c.clients().create(new))?;
        let out = PyDict::new(py);
        out.set_item("client", doc_to_py(py, &created.client)?)?;
        out.set_item("secret", created.secret.expose())?;
        Ok(out)
    }

    /// The client with this public client id.
    fn get_by_client_id<'py>(
        &self,
        py: Python<'py>,
        client_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client_id = lookup_key(client_id, "client_id", "clientId", EntityKind::Client)?;
        let client = self
            .target
            .read(py, |c| c.clients().get_by_client_id(&client_id))?;
        doc_to_py(py, &client)
    }

    /// Deletes a client and returns its last document.
    fn delete<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let id = record_id(py, EntityKind::Client, id)?;
        let client = self.target.write(py, |c| c.clients().delete(id))?;
        doc_to_py(py, &client)
    }
}

/// The query of the keyword arguments of `list`, `iter` and `explain`,
/// converted in their order and read by the core.
#[allow(clippy::too_many_arguments)]
fn listing(
    py: Python<'_>,
    r#where: Option<String>,
    search: Option<String>,
    filters: Option<&Bound<'_, PyDict>>,
    sort: Option<&Bound<'_, PyAny>>,
    fields: Option<&Bound<'_, PyAny>>,
    page: Option<i128>,
    page_size: Option<i128>,
    offset: Option<i128>,
    limit: Option<i128>,
    cursor: Option<String>,
    with_total: bool,
) -> PyResult<Query> {
    let mut args = filter_args(r#where, search, filters)?;
    args.sort = list_arg("sort", sort)?;
    args.fields = list_arg("fields", fields)?;
    QueryArgs {
        page,
        page_size,
        offset,
        limit,
        cursor,
        with_total,
        ..args
    }
    .query()
    .or_raise(py)
}

/// `list`, `iter`, `count`, `exists` and `explain` for one collection class.
macro_rules! query_methods {
    ($class:ident, $doc:ty, $collection:ident) => {
        #[pymethods]
        impl $class {
            /// One page of the matching documents.
            #[pyo3(signature = (*, r#where=None, search=None, filters=None, sort=None, fields=None,
                page=None, page_size=None, offset=None, limit=None, cursor=None, with_total=false))]
            #[allow(clippy::too_many_arguments)]
            fn list(
                &self,
                py: Python<'_>,
                #[pyo3(from_py_with = crate::args::where_arg)] r#where: Option<String>,
                #[pyo3(from_py_with = crate::args::search_arg)] search: Option<String>,
                #[pyo3(from_py_with = crate::args::filters)] filters: Option<Bound<'_, PyDict>>,
                sort: Option<&Bound<'_, PyAny>>,
                fields: Option<&Bound<'_, PyAny>>,
                #[pyo3(from_py_with = crate::args::paging)] page: Option<i128>,
                #[pyo3(from_py_with = crate::args::paging)] page_size: Option<i128>,
                #[pyo3(from_py_with = crate::args::paging)] offset: Option<i128>,
                #[pyo3(from_py_with = crate::args::paging)] limit: Option<i128>,
                #[pyo3(from_py_with = crate::args::cursor_arg)] cursor: Option<String>,
                #[pyo3(from_py_with = crate::args::with_total)] with_total: bool,
            ) -> PyResult<PyPage> {
                let query = listing(
                    py, r#where, search, filters.as_ref(), sort, fields, page, page_size, offset,
                    limit, cursor, with_total,
                )?;
                let page = list_page::<$doc>(py, &self.target, &query, |c, q| c.$collection().list(q))?;
                page_to_py(py, page)
            }

            /// Every matching document, fetched `page_size` at a time.
            #[pyo3(signature = (*, r#where=None, search=None, filters=None, sort=None, fields=None,
                page_size=None))]
            #[allow(clippy::too_many_arguments)]
            fn iter(
                &self,
                py: Python<'_>,
                #[pyo3(from_py_with = crate::args::where_arg)] r#where: Option<String>,
                #[pyo3(from_py_with = crate::args::search_arg)] search: Option<String>,
                #[pyo3(from_py_with = crate::args::filters)] filters: Option<Bound<'_, PyDict>>,
                sort: Option<&Bound<'_, PyAny>>,
                fields: Option<&Bound<'_, PyAny>>,
                #[pyo3(from_py_with = crate::args::paging)] page_size: Option<i128>,
            ) -> PyResult<PyWalk> {
                let query = listing(
                    py, r#where, search, filters.as_ref(), sort, fields, None, page_size, None, None,
                    None, false,
                )?;
                Ok(PyWalk::new(query, self.target.clone(), |target, py, query| {
                    list_page::<$doc>(py, target, query, |c, q| c.$collection().list(q))
                }))
            }

            /// The number of matching documents.
            #[pyo3(signature = (*, r#where=None, search=None, filters=None))]
            fn count(
                &self,
                py: Python<'_>,
                #[pyo3(from_py_with = crate::args::where_arg)] r#where: Option<String>,
                #[pyo3(from_py_with = crate::args::search_arg)] search: Option<String>,
                #[pyo3(from_py_with = crate::args::filters)] filters: Option<Bound<'_, PyDict>>,
            ) -> PyResult<u64> {
                let query = filter_args(r#where, search, filters.as_ref())?.query().or_raise(py)?;
                self.target.read(py, move |c| c.$collection().count(&query))
            }

            /// Whether any document matches.
            #[pyo3(signature = (*, r#where=None, search=None, filters=None))]
            fn exists(
                &self,
                py: Python<'_>,
                #[pyo3(from_py_with = crate::args::where_arg)] r#where: Option<String>,
                #[pyo3(from_py_with = crate::args::search_arg)] search: Option<String>,
                #[pyo3(from_py_with = crate::args::filters)] filters: Option<Bound<'_, PyDict>>,
            ) -> PyResult<bool> {
                let query = filter_args(r#where, search, filters.as_ref())?.query().or_raise(py)?;
                self.target.read(py, move |c| c.$collection().exists(&query))
            }

            /// How the query would run: the index used, the order, the checks.
            #[pyo3(signature = (*, r#where=None, search=None, filters=None, sort=None, fields=None,
                page=None, page_size=None, offset=None, limit=None, cursor=None, with_total=false))]
            #[allow(clippy::too_many_arguments)]
            fn explain(
                &self,
                py: Python<'_>,
                #[pyo3(from_py_with = crate::args::where_arg)] r#where: Option<String>,
                #[pyo3(from_py_with = crate::args::search_arg)] search: Option<String>,
                #[pyo3(from_py_with = crate::args::filters)] filters: Option<Bound<'_, PyDict>>,
                sort: Option<&Bound<'_, PyAny>>,
                fields: Option<&Bound<'_, PyAny>>,
                #[pyo3(from_py_with = crate::args::paging)] page: Option<i128>,
                #[pyo3(from_py_with = crate::args::paging)] page_size: Option<i128>,
                #[pyo3(from_py_with = crate::args::paging)] offset: Option<i128>,
                #[pyo3(from_py_with = crate::args::paging)] limit: Option<i128>,
                #[pyo3(from_py_with = crate::args::cursor_arg)] cursor: Option<String>,
                #[pyo3(from_py_with = crate::args::with_total)] with_total: bool,
            ) -> PyResult<String> {
                let query = listing(
                    py, r#where, search, filters.as_ref(), sort, fields, page, page_size, offset,
                    limit, cursor, with_total,
                )?;
                self.target.read(py, move |c| c.$collection().explain(&query))
            }
        }
    };
}

query_methods!(PyUsers, rosterdb::User, users);
query_methods!(PyRoles, rosterdb::Role, roles);
query_methods!(PyClients, rosterdb::Client, clients);

/// `patch`, `merge` and `replace` for one collection class.
macro_rules! update_methods {
    ($class:ident, $entity:expr, $collection:ident) => {
        #[pymethods]
        impl $class {
            /// Applies a JSON Patch (a list of operation dicts), all or nothing.
            #[pyo3(signature = (id, ops, expected_version=None))]
            fn patch<'py>(
                &self,
                py: Python<'py>,
                id: &Bound<'py, PyAny>,
                ops: &Bound<'py, PyAny>,
                #[pyo3(from_py_with = crate::args::expected_version)] expected_version: Option<u64>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let id = record_id(py, $entity, id)?;
                let Ok(ops) = ops.cast::<PyList>() else {
                    return Err(PyTypeError::new_err(format!(
                        "ops must be a list of dicts, not {}",
                        type_name(ops)
                    )));
                };
                let ops = patch_ops(py, ops)?;
                let doc = self
                    .target
                    .write(py, |c| c.$collection().patch(id, &ops, expected_version))?;
                doc_to_py(py, &doc)
            }

            /// Applies a JSON Merge Patch: `None` removes an optional field.
            #[pyo3(signature = (id, partial, expected_version=None))]
            fn merge<'py>(
                &self,
                py: Python<'py>,
                id: &Bound<'py, PyAny>,
                partial: &Bound<'py, PyAny>,
                #[pyo3(from_py_with = crate::args::expected_version)] expected_version: Option<u64>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let id = record_id(py, $entity, id)?;
                let partial = document(py, partial, "partial")?;
                let doc = self.target.write(py, |c| {
                    c.$collection().merge(id, &partial, expected_version)
                })?;
                doc_to_py(py, &doc)
            }

            /// Replaces the writable fields; the tenant and password are kept unless given.
            #[pyo3(signature = (id, doc, expected_version=None))]
            fn replace<'py>(
                &self,
                py: Python<'py>,
                id: &Bound<'py, PyAny>,
                doc: &Bound<'py, PyAny>,
                #[pyo3(from_py_with = crate::args::expected_version)] expected_version: Option<u64>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let id = record_id(py, $entity, id)?;
                let doc = document(py, doc, "doc")?;
                let updated = self
                    .target
                    .write(py, |c| c.$collection().replace(id, &doc, expected_version))?;
                doc_to_py(py, &updated)
            }
        }
    };
}

update_methods!(PyUsers, EntityKind::User, users);
update_methods!(PyRoles, EntityKind::Role, roles);
update_methods!(PyClients, EntityKind::Client, clients);
