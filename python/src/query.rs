//! `list`, `iter`, `count`, `exists` and `explain`: keyword arguments become
//! a query in the parameter form, pages become `rosterdb.Page`.

use pyo3::exceptions::{PyStopIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString};
use rosterdb::{Context, Entity, Query};

use crate::args::{not_unicode_query, type_name, unicode};
use crate::collections::Target;
use crate::convert::to_py;
use crate::errors::{IntoPyResult, to_py_err};

/// The query keyword arguments, as `(name, value)` pairs of the parameter form.
#[derive(Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    fn push(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_owned(), value.into()));
    }

    /// `where`, `search` and `filters`. A filter's name is a `str` (else
    /// `TypeError`), its value a `str`, `int` or `bool` (else
    /// `TypeError`); text holding lone surrogates is `QueryError` naming
    /// the filter (`filters` for a name).
    pub(crate) fn filters(
        mut self,
        r#where: Option<&str>,
        search: Option<&str>,
        filters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        if let Some(w) = r#where {
            self.push("where", w);
        }
        if let Some(s) = search {
            self.push("search", s);
        }
        if let Some(filters) = filters {
            // A snapshot: reading an int subclass may run its `__index__`.
            for item in filters.items().iter() {
                let (name, value) = item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?;
                let name = name
                    .cast::<PyString>()
                    .map_err(|_| PyTypeError::new_err("filters keys must be str"))?;
                let name = unicode(name).map_err(|_| {
                    to_py_err(
                        filters.py(),
                        rosterdb::Error::query(
                            rosterdb::QueryCode::StringUnicode,
                            "filter names must be Unicode text \
                             (one holds lone surrogate code points)",
                        )
                        .for_field("filters"),
                    )
                })?;
                let value = param_text(&name, &value)?;
                self.push(&name, value);
            }
        }
        Ok(self)
    }

    /// `sort` and `fields`: a comma string or a list of strings (else
    /// `TypeError`); text holding a lone surrogate is `QueryError` naming
    /// the parameter, at its position in the comma string.
    pub(crate) fn list_param(
        mut self,
        name: &str,
        value: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let Some(value) = value else {
            return Ok(self);
        };
        if value.is_none() {
            return Ok(self);
        }
        let py = value.py();
        if let Ok(text) = value.cast::<PyString>() {
            let text = unicode(text).map_err(|at| not_unicode_query(py, name, Some(at)))?;
            self.push(name, text);
        } else if let Ok(items) = value.cast::<PyList>() {
            let mut parts = Vec::new();
            let mut offset = 0;
            for item in items.iter() {
                let text = item.cast::<PyString>().map_err(|_| {
                    PyTypeError::new_err(format!("{name} must be a str or a list of str"))
                })?;
                let part =
                    unicode(text).map_err(|at| not_unicode_query(py, name, Some(offset + at)))?;
                offset += part.chars().count() + 1;
                parts.push(part);
            }
            self.push(name, parts.join(","));
        } else {
            return Err(PyTypeError::new_err(format!(
                "{name} must be a str or a list of str"
            )));
        }
        Ok(self)
    }

    /// A numeric paging parameter, as the decimal text of the int given
    /// (the core checks its range: `QueryError` naming it).
    pub(crate) fn number(mut self, name: &str, value: Option<String>) -> Self {
        if let Some(v) = value {
            self.push(name, v);
        }
        self
    }

    /// `cursor` and `withTotal`.
    pub(crate) fn cursor(mut self, cursor: Option<&str>, with_total: bool) -> Self {
        if let Some(c) = cursor {
            self.push("cursor", c);
        }
        if with_total {
            self.push("withTotal", "true");
        }
        self
    }

    pub(crate) fn query(&self, py: Python<'_>) -> PyResult<Query> {
        Query::from_params(&self.0).or_raise(py)
    }
}

/// The parameter-form text of the value of filter `name`: `true`/`false`
/// for a `bool`, the decimal digits of an `int`, a `str` as it is.
fn param_text(name: &str, value: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = value.py();
    if let Ok(b) = value.cast::<PyBool>() {
        Ok(if b.is_true() { "true" } else { "false" }.to_owned())
    } else if value.is_instance_of::<PyInt>() {
        if let Ok(n) = value.extract::<i128>() {
            return Ok(n.to_string());
        }
        // `int.__repr__`, not `str()`: an int subclass may redefine the latter.
        py.get_type::<PyInt>()
            .call_method1("__repr__", (value,))
            .and_then(|digits| digits.extract::<String>())
            .map_err(|_| {
                to_py_err(
                    py,
                    rosterdb::Error::query(
                        rosterdb::QueryCode::NumberOutOfRange,
                        format!("{name} is an int with too many digits to write out"),
                    )
                    .for_field(name),
                )
            })
    } else if let Ok(s) = value.cast::<PyString>() {
        unicode(s).map_err(|_| not_unicode_query(py, name, None))
    } else {
        Err(PyTypeError::new_err(format!(
            "filters[{name:?}] must be a str, int or bool, not {}",
            type_name(value)
        )))
    }
}

/// One page of results: `items`, `total` (with `with_total=True`) and
/// `next_cursor`; iterable, with `len()`.
#[pyclass(frozen, name = "Page", module = "rosterdb")]
pub(crate) struct PyPage {
    items: Py<PyList>,
    total: Option<u64>,
    next_cursor: Option<String>,
}

#[pymethods]
impl PyPage {
    /// The documents of the page.
    #[getter]
    fn items(&self, py: Python<'_>) -> Py<PyList> {
        self.items.clone_ref(py)
    }

    /// The number of all matches, when asked for.
    #[getter]
    fn total(&self) -> Option<u64> {
        self.total
    }

    /// The token of the next page; `None` on the last page.
    #[getter]
    fn next_cursor(&self) -> Option<String> {
        self.next_cursor.clone()
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.items.bind(py).len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.items.bind(py).try_iter().map(Bound::into_any)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Page(items=<{} documents>, total={}, next_cursor={})",
            self.items.bind(py).len(),
            self.total
                .map_or_else(|| "None".to_owned(), |t| t.to_string()),
            if self.next_cursor.is_some() {
                "'…'"
            } else {
                "None"
            },
        )
    }
}

/// A page's documents as JSON, with its total and cursor.
pub(crate) type RawPage = (Vec<serde_json::Value>, Option<u64>, Option<String>);

/// Runs `list` on the collection of `E` behind `target`.
pub(crate) fn list_page<E: Entity + serde::Serialize + Send>(
    py: Python<'_>,
    target: &Target,
    query: Query,
    list: impl FnOnce(Context<'_>, &Query) -> rosterdb::Result<rosterdb::Page<E>> + Send,
) -> PyResult<RawPage> {
    target.read(py, move |c| {
        let page = list(c, &query)?;
        Ok((page.items_json()?, page.total, page.next_cursor))
    })
}

/// Converts a page to Python.
pub(crate) fn page_to_py(py: Python<'_>, (items, total, next_cursor): RawPage) -> PyResult<PyPage> {
    let list = PyList::empty(py);
    for item in &items {
        list.append(to_py(py, item)?)?;
    }
    Ok(PyPage {
        items: list.unbind(),
        total,
        next_cursor,
    })
}

/// Fetches the page after a cursor (`None`: the first page).
pub(crate) type FetchPage =
    Box<dyn FnMut(Python<'_>, Option<&str>) -> PyResult<RawPage> + Send + Sync>;

/// Walks every match of a query, a page at a time, following cursors.
#[pyclass(name = "PageWalk", module = "rosterdb")]
pub(crate) struct PyWalk {
    next: FetchPage,
    buffer: std::collections::VecDeque<serde_json::Value>,
    cursor: Option<String>,
    started: bool,
}

impl PyWalk {
    pub(crate) fn new(next: FetchPage) -> Self {
        PyWalk {
            next,
            buffer: std::collections::VecDeque::new(),
            cursor: None,
            started: false,
        }
    }
}

#[pymethods]
impl PyWalk {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        while self.buffer.is_empty() {
            if self.started && self.cursor.is_none() {
                return Err(PyStopIteration::new_err(()));
            }
            let (items, _, cursor) = (self.next)(py, self.cursor.as_deref())?;
            self.started = true;
            self.cursor = cursor;
            self.buffer.extend(items);
        }
        match self.buffer.pop_front() {
            Some(item) => to_py(py, &item),
            None => Err(PyStopIteration::new_err(())),
        }
    }
}
