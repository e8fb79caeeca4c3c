//! `store.users`, `store.roles`, `store.clients` (and the same on a transaction).

use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt};
use rosterdb::{Context, EntityKind, Error, NewClient, NewRole, NewUser};

use crate::convert::{dict_to_json, doc_to_py};
use crate::errors::{IntoPyResult, to_py_err};
use crate::query::{Params, PyPage, PyWalk, list_page, page_to_py, paging_number};
use crate::store::{Shared, TxState, in_transaction};

/// Where a collection's calls go.
#[derive(Clone)]
pub(crate) enum Target {
    /// Each call is its own transaction on the store (seeing one tenant when scoped).
    Store(Arc<Shared>, Option<Arc<str>>),
    /// Calls join an open transaction (seeing one tenant when scoped).
    Transaction(Arc<Shared>, Arc<Mutex<TxState>>, Option<Arc<str>>),
}

impl Target {
    /// Runs a read with the GIL released.
    pub(crate) fn read<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(Context<'_>) -> rosterdb::Result<T> + Send,
    ) -> PyResult<T> {
        match self {
            Target::Store(shared, scope) => {
                let store = shared.store().or_raise(py)?;
                py.detach(|| match scope {
                    Some(tenant) => f(Context::ScopedStore(&store, tenant)),
                    None => f(Context::Store(&store)),
                })
                .or_raise(py)
            }
            Target::Transaction(shared, tx, scope) => {
                in_transaction(py, shared, tx, scope.as_deref(), f)
            }
        }
    }

    /// Runs a write with the GIL released.
    fn write<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(Context<'_>) -> rosterdb::Result<T> + Send,
    ) -> PyResult<T> {
        if let Target::Store(shared, _) = self {
            shared.check_not_writing().or_raise(py)?;
        }
        self.read(py, f)
    }
}

/// Reads a record id: an `int` (not a `bool`). An int no record can have
/// (negative, or beyond 64 bits) is simply not found.
fn record_id(py: Python<'_>, entity: EntityKind, id: &Bound<'_, PyAny>) -> PyResult<u64> {
    if id.is_instance_of::<PyBool>() || !id.is_instance_of::<PyInt>() {
        let kind = id
            .get_type()
            .name()
            .map_or_else(|_| "object".into(), |n| n.to_string());
        return Err(PyTypeError::new_err(format!(
            "id must be an int, not {kind}"
        )));
    }
    id.extract::<u64>().map_err(|_| {
        to_py_err(
            py,
            Error::NotFound {
                entity,
                key: format!("id {id}"),
            },
        )
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
    target: Target,
}

/// The roles of a store or transaction.
#[pyclass(frozen, name = "Roles", module = "rosterdb")]
pub(crate) struct PyRoles {
    target: Target,
}

/// The app-clients of a store or transaction.
#[pyclass(frozen, name = "Clients", module = "rosterdb")]
pub(crate) struct PyClients {
    target: Target,
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
        let new = NewUser::from_json(&dict_to_json(doc, "doc")?).or_raise(py)?;
        let user = self.target.write(py, |c| c.users().create(new))?;
        doc_to_py(py, &user)
    }

    /// The user with this username (any case) in `tenant`.
    #[pyo3(signature = (username, tenant=None))]
    fn get_by_username<'py>(
        &self,
        py: Python<'py>,
        username: &str,
        tenant: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user = self
            .target
            .read(py, |c| c.users().get_by_username(username, tenant))?;
        doc_to_py(py, &user)
    }

    /// The user with this email (any case) in `tenant`.
    #[pyo3(signature = (email, tenant=None))]
    fn get_by_email<'py>(
        &self,
        py: Python<'py>,
        email: &str,
        tenant: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user = self
            .target
            .read(py, |c| c.users().get_by_email(email, tenant))?;
        doc_to_py(py, &user)
    }

    /// The user with this external id in `tenant`.
    #[pyo3(signature = (r#type, value, tenant=None))]
    fn get_by_external_id<'py>(
        &self,
        py: Python<'py>,
        r#type: &str,
        value: &str,
        tenant: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let user = self
            .target
            .read(py, |c| c.users().get_by_external_id(r#type, value, tenant))?;
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
        let new = NewRole::from_json(&dict_to_json(doc, "doc")?).or_raise(py)?;
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
        cascade: bool,
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
        let new = NewClient::from_json(&dict_to_json(doc, "doc")?).or_raise(py)?;
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
        client_id: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self
            .target
            .read(py, |c| c.clients().get_by_client_id(client_id))?;
        doc_to_py(py, &client)
    }

    /// Deletes a client and returns its last document.
    fn delete<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let id = record_id(py, EntityKind::Client, id)?;
        let client = self.target.write(py, |c| c.clients().delete(id))?;
        doc_to_py(py, &client)
    }
}

/// The query of `list` and `explain` keyword arguments.
#[allow(clippy::too_many_arguments)]
fn listing(
    py: Python<'_>,
    r#where: Option<&str>,
    search: Option<&str>,
    filters: Option<&Bound<'_, PyDict>>,
    sort: Option<&Bound<'_, PyAny>>,
    fields: Option<&Bound<'_, PyAny>>,
    page: Option<&Bound<'_, PyAny>>,
    page_size: Option<&Bound<'_, PyAny>>,
    offset: Option<&Bound<'_, PyAny>>,
    limit: Option<&Bound<'_, PyAny>>,
    cursor: Option<&str>,
    with_total: bool,
) -> PyResult<rosterdb::Query> {
    Params::default()
        .filters(r#where, search, filters)?
        .list_param("sort", sort)?
        .list_param("fields", fields)?
        .number("page", paging_number("page", page)?.as_deref())
        .number(
            "pageSize",
            paging_number("page_size", page_size)?.as_deref(),
        )
        .number("offset", paging_number("offset", offset)?.as_deref())
        .number("limit", paging_number("limit", limit)?.as_deref())
        .cursor(cursor, with_total)
        .query(py)
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
                r#where: Option<&str>,
                search: Option<&str>,
                filters: Option<&Bound<'_, PyDict>>,
                sort: Option<&Bound<'_, PyAny>>,
                fields: Option<&Bound<'_, PyAny>>,
                page: Option<&Bound<'_, PyAny>>,
                page_size: Option<&Bound<'_, PyAny>>,
                offset: Option<&Bound<'_, PyAny>>,
                limit: Option<&Bound<'_, PyAny>>,
                cursor: Option<&str>,
                with_total: bool,
            ) -> PyResult<PyPage> {
                let query = listing(
                    py, r#where, search, filters, sort, fields, page, page_size, offset, limit,
                    cursor, with_total,
                )?;
                let raw = list_page::<$doc>(py, &self.target, query, |c, q| c.$collection().list(q))?;
                page_to_py(py, raw)
            }

            /// Every matching document, fetched `page_size` at a time.
            #[pyo3(signature = (*, r#where=None, search=None, filters=None, sort=None, fields=None,
                page_size=None))]
            #[allow(clippy::too_many_arguments)]
            fn iter(
                &self,
                py: Python<'_>,
                r#where: Option<&str>,
                search: Option<&str>,
                filters: Option<&Bound<'_, PyDict>>,
                sort: Option<&Bound<'_, PyAny>>,
                fields: Option<&Bound<'_, PyAny>>,
                page_size: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<PyWalk> {
                let page_size = paging_number("page_size", page_size)?;
                let first = Params::default()
                    .filters(r#where, search, filters)?
                    .list_param("sort", sort)?
                    .list_param("fields", fields)?
                    .number("pageSize", page_size.as_deref())
                    .query(py)?;
                let target = self.target.clone();
                Ok(PyWalk::new(Box::new(move |py: Python<'_>, cursor: Option<&str>| {
                    let query = match cursor {
                        None => first.clone(),
                        Some(token) => Params::default()
                            .number("pageSize", page_size.as_deref())
                            .cursor(Some(token), false)
                            .query(py)?,
                    };
                    list_page::<$doc>(py, &target, query, |c, q| c.$collection().list(q))
                })))
            }

            /// The number of matching documents.
            #[pyo3(signature = (*, r#where=None, search=None, filters=None))]
            fn count(
                &self,
                py: Python<'_>,
                r#where: Option<&str>,
                search: Option<&str>,
                filters: Option<&Bound<'_, PyDict>>,
            ) -> PyResult<u64> {
                let query = Params::default().filters(r#where, search, filters)?.query(py)?;
                self.target.read(py, move |c| c.$collection().count(&query))
            }

            /// Whether any document matches.
            #[pyo3(signature = (*, r#where=None, search=None, filters=None))]
            fn exists(
                &self,
                py: Python<'_>,
                r#where: Option<&str>,
                search: Option<&str>,
                filters: Option<&Bound<'_, PyDict>>,
            ) -> PyResult<bool> {
                let query = Params::default().filters(r#where, search, filters)?.query(py)?;
                self.target.read(py, move |c| c.$collection().exists(&query))
            }

            /// How the query would run: the index used, the order, the checks.
            #[pyo3(signature = (*, r#where=None, search=None, filters=None, sort=None, fields=None,
                page=None, page_size=None, offset=None, limit=None, cursor=None, with_total=false))]
            #[allow(clippy::too_many_arguments)]
            fn explain(
                &self,
                py: Python<'_>,
                r#where: Option<&str>,
                search: Option<&str>,
                filters: Option<&Bound<'_, PyDict>>,
                sort: Option<&Bound<'_, PyAny>>,
                fields: Option<&Bound<'_, PyAny>>,
                page: Option<&Bound<'_, PyAny>>,
                page_size: Option<&Bound<'_, PyAny>>,
                offset: Option<&Bound<'_, PyAny>>,
                limit: Option<&Bound<'_, PyAny>>,
                cursor: Option<&str>,
                with_total: bool,
            ) -> PyResult<String> {
                let query = listing(
                    py, r#where, search, filters, sort, fields, page, page_size, offset, limit,
                    cursor, with_total,
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
                expected_version: Option<u64>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let id = record_id(py, $entity, id)?;
                if !ops.is_instance_of::<pyo3::types::PyList>() {
                    return Err(PyTypeError::new_err("ops must be a list of dicts"));
                }
                let ops = crate::convert::to_json(ops)?;
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
                expected_version: Option<u64>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let id = record_id(py, $entity, id)?;
                let partial = dict_to_json(partial, "partial")?;
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
                expected_version: Option<u64>,
            ) -> PyResult<Bound<'py, PyAny>> {
                let id = record_id(py, $entity, id)?;
                let doc = dict_to_json(doc, "doc")?;
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
