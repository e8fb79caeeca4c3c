//! Core errors → the Python exception classes of `rosterdb.errors`, in one function.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyModule};
use rosterdb::Error;

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The Python exception for a core error, with the attributes docs/reference/errors.md lists.
pub(crate) fn to_py_err(py: Python<'_>, err: Error) -> PyErr {
    build(py, &err).unwrap_or_else(|failure| failure)
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let module = ERRORS
        .get_or_try_init(py, || py.import("rosterdb.errors").map(Bound::unbind))?
        .bind(py);
    let message = err.to_string();
    let kwargs = PyDict::new(py);
    let class = match err {
        Error::NotFound { entity, key } => {
            kwargs.set_item("entity", entity.as_str())?;
            kwargs.set_item("key", key)?;
            "NotFoundError"
        }
        Error::Conflict { entity, field } => {
            kwargs.set_item("entity", entity.as_str())?;
            kwargs.set_item("field", field)?;
            "ConflictError"
        }
        Error::Validation { errors } => {
            let list = PyList::empty(py);
            for e in errors {
                let item = PyDict::new(py);
                item.set_item("field", &e.field)?;
                item.set_item("code", e.code.as_str())?;
                item.set_item("message", &e.message)?;
                list.append(item)?;
            }
            kwargs.set_item("errors", list)?;
            "ValidationError"
        }
        Error::InvalidQuery {
            code,
            position,
            field,
            ..
        } => {
            kwargs.set_item("code", code.as_str())?;
            kwargs.set_item("position", position)?;
            kwargs.set_item("field", field)?;
            "QueryError"
        }
        Error::InvalidPatch { op_index, code, .. } => {
            kwargs.set_item("op_index", op_index)?;
            kwargs.set_item("code", code.as_str())?;
            "PatchError"
        }
        Error::VersionConflict { expected, actual } => {
            kwargs.set_item("expected", expected)?;
            kwargs.set_item("actual", actual)?;
            "VersionConflictError"
        }
        Error::InUse { count, .. } => {
            kwargs.set_item("count", count)?;
            "InUseError"
        }
        Error::AuthenticationFailed => "AuthenticationError",
        Error::InvalidToken => "InvalidTokenError",
        Error::Locked => "StoreLockedError",
        Error::IncompatibleFormat { .. } => "FormatError",
        Error::Storage { path, .. } => {
            kwargs.set_item("path", path.as_deref().map(std::path::Path::as_os_str))?;
            if let Some(errno) = err.io_error().and_then(std::io::Error::raw_os_error) {
                kwargs.set_item("errno", errno)?;
            }
            "StorageError"
        }
        Error::Closed { .. } => "ClosedError",
        Error::Busy { .. } => "BusyError",
        Error::Internal { .. } => "InternalError",
        Error::InvalidArgument { argument, .. } => {
            kwargs.set_item("argument", argument)?;
            "ArgumentError"
        }
        _ => "RosterError",
    };
    let exception = module.getattr(class)?.call((message,), Some(&kwargs))?;
    Ok(PyErr::from_value(exception))
}

/// Maps a core result into a Python one.
pub(crate) trait IntoPyResult<T> {
    /// The value, or the Python exception for the core error.
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for rosterdb::Result<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py_err(py, e))
    }
}
