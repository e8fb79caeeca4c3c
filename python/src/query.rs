//! `list`, `iter`, `count`, `exists` and `explain`: keyword arguments become
//! the core's typed query arguments, pages become `rosterdb.Page`, walks
//! `rosterdb.PageWalk`.

use pyo3::exceptions::{PyStopIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString};
use rosterdb::{ListArg, Page, Query, QueryArgs, Walk};
use serde_json::Value;

use crate::args::{not_unicode_query, type_name, unicode};
use crate::collections::Access::Read;
use crate::collections::{PyCollection, Records, Target};
use crate::convert::to_py;
use crate::errors::{IntoPyResult, to_py_err};

/// The arguments `where`, `search` and `filters` (the ones `count` and
/// `exists` take). A filter's name is a `str` (else `TypeError`), its value
/// a `str`, `int` or `bool` (else `TypeError`), handed over as the text of
/// the parameter form; text holding lone surrogates is `QueryError` naming
/// the filter (`filters` for a name).
pub(crate) fn filter_args(
    r#where: Option<String>,
    search: Option<String>,
    filters: Option<&Bound<'_, PyDict>>,
) -> PyResult<QueryArgs> {
    let mut pairs = Vec::new();
    if let Some(filters) = filters {
        // A snapshot: reading an int subclass may run its `__index__`.
        for (name, value) in crate::convert::snapshot(filters) {
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
            pairs.push((name, value));
        }
    }
    Ok(QueryArgs {
        filter: r#where,
        search,
        filters: pairs,
        ..QueryArgs::default()
    })
}

/// The query of the keyword arguments of `list`, `iter` and `explain`,
/// converted in their order and read by the core.
#[allow(clippy::too_many_arguments)]
pub(crate) fn listing(
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

/// The query of the keyword arguments of `count` and `exists`.
pub(crate) fn filtering(
    py: Python<'_>,
    r#where: Option<String>,
    search: Option<String>,
    filters: Option<&Bound<'_, PyDict>>,
) -> PyResult<Query> {
    filter_args(r#where, search, filters)?.query().or_raise(py)
}

/// `list`: one page of the matching documents.
pub(crate) fn list<K: PyCollection>(
    collection: &K,
    py: Python<'_>,
    query: Query,
) -> PyResult<PyPage> {
    page_to_py(py, list_page::<K>(collection.target(), py, &query)?)
}

/// `iter`: a walk over every matching document.
pub(crate) fn walk<K: PyCollection>(collection: &K, query: Query) -> PyWalk {
    PyWalk::new(query, collection.target().clone(), list_page::<K>)
}

/// `count`, `exists` and `explain`: `f` on the collection with the query,
/// as a read.
pub(crate) fn read<K: PyCollection, T: Send>(
    collection: &K,
    py: Python<'_>,
    query: Query,
    f: impl FnOnce(Records<'_, '_, K::Doc>, &Query) -> rosterdb::Result<T> + Send,
) -> PyResult<T> {
    collection.call(py, Read, move |c| f(c, &query))
}

/// The docstring lines every query method shares: where the rules are.
macro_rules! doc_query_see {
    () => {
        concat!(
            "Field names are caseless; strings compare caselessly.\n",
            "See docs/reference/queries.md.",
        )
    };
}
/// The docstring lines of the `where`, `search` and `filters` arguments.
macro_rules! doc_filter_args {
    () => {
        concat!(
            "    where (str | None): an expression, e.g. ``\"enabled = true and\n",
            "        (lastName like 'ho%' or roles in (1, 2))\"``: tests ``=\n",
            "        != < <= > >= like co sw ew in pr``, ``is [not] null``,\n",
            "        joined by ``and``/``or``/``not`` and parentheses\n",
            "        (SQL- and SCIM-style operators alike).\n",
            "    search (str | None): free text; every whitespace-separated\n",
            "        term must occur, caselessly, in a searchable text field.\n",
            "    filters (dict | None): the parameter form, ``{field: value}``\n",
            "        ANDed, each value a ``str``, ``int`` or ``bool``: ``x``\n",
            "        (equals), ``\"in:x,y\"``, ``\"like:Ho%\"``, or ``\"eq:\"``,\n",
            "        ``\"ne:\"``, ``\"gt:\"``, ``\"ge:\"``, ``\"lt:\"``, ``\"le:\"`` and a\n",
            "        value, e.g. ``{\"lastName\": \"like:Ho%\", \"roles\": \"in:1,2\"}``.",
        )
    };
}
/// The docstring lines of the `sort` and `fields` arguments.
macro_rules! doc_sort_args {
    () => {
        concat!(
            "    sort (str | list[str] | None): keys, each optionally ``:asc``\n",
            "        or ``:desc`` (``\"lastName,firstName:desc\"`` or a list);\n",
            "        default ``id``, which always breaks ties.\n",
            "    fields (str | list[str] | None): the top-level fields to\n",
            "        return (``\"id,username\"`` or a list); ``id`` always is.",
        )
    };
}
/// The docstring lines of the paging arguments of `list` and `explain`.
macro_rules! doc_paging_args {
    () => {
        concat!(
            "    page (int | None): the page number, from 1 (default 1).\n",
            "    page_size (int | None): documents per page, 1 to 1000\n",
            "        (default 100).\n",
            "    offset (int | None): documents to skip (0 or more), with\n",
            "        ``limit`` instead of ``page``/``page_size``.\n",
            "    limit (int | None): documents to return, 1 to 1000.\n",
            "    cursor (str | None): a previous page's ``next_cursor``; it\n",
            "        carries its query, so ``cursor=`` alone continues it.\n",
            "    with_total (bool): also count every match (``Page.total``).",
        )
    };
}
/// The docstring lines of the errors every query method raises.
macro_rules! doc_query_raises {
    () => {
        concat!(
            "    QueryError: a syntax error, unknown field, type mismatch,\n",
            "        bad paging value or cursor (``code``, and ``position`` or\n",
            "        ``field`` name it).\n",
            "    TypeError: an argument is of the wrong type.\n",
            "    ClosedError: the store is closed (or the transaction the\n",
            "        call goes through is not open).",
        )
    };
}

pub(crate) use {doc_filter_args, doc_paging_args, doc_query_raises, doc_query_see, doc_sort_args};

/// `list`, `iter`, `count`, `exists` and `explain` for one collection class.
/// Each keyword list is written once: `@listing` declares a method taking
/// every keyword of `list` (as `explain` does), `@filtering` one taking
/// those of `count` (as `exists` does).
macro_rules! query_methods {
    ($class:ident) => {
        $crate::query::query_methods!(@listing $class,
            /// One page of the matching documents.
            ///
            #[doc = $crate::query::doc_query_see!()]
            ///
            /// Args:
            #[doc = $crate::query::doc_filter_args!()]
            #[doc = $crate::query::doc_sort_args!()]
            #[doc = $crate::query::doc_paging_args!()]
            ///
            /// Returns:
            ///     Page: ``items`` (the documents, projected to ``fields``),
            ///     ``total`` (with ``with_total``) and ``next_cursor``.
            ///
            /// Raises:
            #[doc = $crate::query::doc_query_raises!()]
            fn list -> $crate::query::PyPage = list);
        $crate::query::query_methods!(@listing $class,
            /// How a ``list`` with these arguments would run, without running it.
            ///
            #[doc = $crate::query::doc_query_see!()]
            ///
            /// Args:
            #[doc = $crate::query::doc_filter_args!()]
            #[doc = $crate::query::doc_sort_args!()]
            #[doc = $crate::query::doc_paging_args!()]
            ///
            /// Returns:
            ///     str: the plan as text: the index used, the order, the
            ///     checks left for each candidate.
            ///
            /// Raises:
            #[doc = $crate::query::doc_query_raises!()]
            fn explain -> String = read(|c, q| c.explain(q)));
        $crate::query::query_methods!(@filtering $class,
            /// The number of matching documents.
            ///
            #[doc = $crate::query::doc_query_see!()]
            ///
            /// Args:
            #[doc = $crate::query::doc_filter_args!()]
            ///
            /// Returns:
            ///     int: how many documents match.
            ///
            /// Raises:
            #[doc = $crate::query::doc_query_raises!()]
            fn count -> u64 = read(|c, q| c.count(q)));
        $crate::query::query_methods!(@filtering $class,
            /// Whether any document matches.
            ///
            #[doc = $crate::query::doc_query_see!()]
            ///
            /// Args:
            #[doc = $crate::query::doc_filter_args!()]
            ///
            /// Returns:
            ///     bool: ``True`` when at least one document matches.
            ///
            /// Raises:
            #[doc = $crate::query::doc_query_raises!()]
            fn exists -> bool = read(|c, q| c.exists(q)));

        #[::pyo3::pymethods]
        impl $class {
            /// Every matching document, fetched ``page_size`` at a time.
            ///
            /// The walk pages with cursors: it never skips or repeats a
            /// document that exists unchanged for the whole walk.
            ///
            #[doc = $crate::query::doc_query_see!()]
            ///
            /// Args:
            #[doc = $crate::query::doc_filter_args!()]
            #[doc = $crate::query::doc_sort_args!()]
            ///     page_size (int | None): documents per fetch, 1 to 1000
            ///         (default 100).
            ///
            /// Returns:
            ///     PageWalk: an iterator of the documents (dicts); each fetch
            ///     may raise the errors below.
            ///
            /// Raises:
            #[doc = $crate::query::doc_query_raises!()]
            #[pyo3(signature = (*, r#where=None, search=None, filters=None, sort=None, fields=None,
                page_size=None))]
            #[allow(clippy::too_many_arguments)]
            fn iter(
                &self,
                py: ::pyo3::Python<'_>,
                #[pyo3(from_py_with = $crate::args::where_arg)] r#where: Option<String>,
                #[pyo3(from_py_with = $crate::args::search_arg)] search: Option<String>,
                #[pyo3(from_py_with = $crate::args::filters)] filters: Option<::pyo3::Bound<'_, ::pyo3::types::PyDict>>,
                sort: Option<&::pyo3::Bound<'_, ::pyo3::PyAny>>,
                fields: Option<&::pyo3::Bound<'_, ::pyo3::PyAny>>,
                #[pyo3(from_py_with = $crate::args::paging)] page_size: Option<i128>,
            ) -> ::pyo3::PyResult<$crate::query::PyWalk> {
                let query = $crate::query::listing(
                    py, r#where, search, filters.as_ref(), sort, fields, None, page_size, None, None,
                    None, false,
                )?;
                Ok($crate::query::walk(self, query))
            }
        }
    };
    (@listing $class:ident, $(#[$attr:meta])* fn $name:ident -> $out:ty = $run:ident $(($f:expr))?) => {
        #[::pyo3::pymethods]
        impl $class {
            $(#[$attr])*
            #[pyo3(signature = (*, r#where=None, search=None, filters=None, sort=None, fields=None,
                page=None, page_size=None, offset=None, limit=None, cursor=None, with_total=false))]
            #[allow(clippy::too_many_arguments)]
            fn $name(
                &self,
                py: ::pyo3::Python<'_>,
                #[pyo3(from_py_with = $crate::args::where_arg)] r#where: Option<String>,
                #[pyo3(from_py_with = $crate::args::search_arg)] search: Option<String>,
                #[pyo3(from_py_with = $crate::args::filters)] filters: Option<::pyo3::Bound<'_, ::pyo3::types::PyDict>>,
                sort: Option<&::pyo3::Bound<'_, ::pyo3::PyAny>>,
                fields: Option<&::pyo3::Bound<'_, ::pyo3::PyAny>>,
                #[pyo3(from_py_with = $crate::args::paging)] page: Option<i128>,
                #[pyo3(from_py_with = $crate::args::paging)] page_size: Option<i128>,
                #[pyo3(from_py_with = $crate::args::paging)] offset: Option<i128>,
                #[pyo3(from_py_with = $crate::args::paging)] limit: Option<i128>,
                #[pyo3(from_py_with = $crate::args::cursor_arg)] cursor: Option<String>,
                #[pyo3(from_py_with = $crate::args::with_total)] with_total: bool,
            ) -> ::pyo3::PyResult<$out> {
                let query = $crate::query::listing(
                    py, r#where, search, filters.as_ref(), sort, fields, page, page_size, offset,
                    limit, cursor, with_total,
                )?;
                $crate::query::$run(self, py, query $(, $f)?)
            }
        }
    };
    (@filtering $class:ident, $(#[$attr:meta])* fn $name:ident -> $out:ty = $run:ident $(($f:expr))?) => {
        #[::pyo3::pymethods]
        impl $class {
            $(#[$attr])*
            #[pyo3(signature = (*, r#where=None, search=None, filters=None))]
            fn $name(
                &self,
                py: ::pyo3::Python<'_>,
                #[pyo3(from_py_with = $crate::args::where_arg)] r#where: Option<String>,
                #[pyo3(from_py_with = $crate::args::search_arg)] search: Option<String>,
                #[pyo3(from_py_with = $crate::args::filters)] filters: Option<::pyo3::Bound<'_, ::pyo3::types::PyDict>>,
            ) -> ::pyo3::PyResult<$out> {
                let query = $crate::query::filtering(py, r#where, search, filters.as_ref())?;
                $crate::query::$run(self, py, query $(, $f)?)
            }
        }
    };
}

pub(crate) use query_methods;

/// `sort` or `fields` (named `name`): `None`, a comma string, or a list of
/// strings, one key or field each (else `TypeError`); the core reads them.
/// Text holding a lone surrogate is `QueryError` naming the parameter, at
/// its position (in a list, as the core counts: the items joined by commas).
pub(crate) fn list_arg(name: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<ListArg>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    let py = value.py();
    if let Ok(text) = value.cast::<PyString>() {
        let text = unicode(text).map_err(|at| not_unicode_query(py, name, Some(at)))?;
        return Ok(Some(ListArg::Text(text)));
    }
    let not_a_list = || PyTypeError::new_err(format!("{name} must be a str or a list of str"));
    let items = value.cast::<PyList>().map_err(|_| not_a_list())?;
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter() {
        let text = item.cast::<PyString>().map_err(|_| not_a_list())?;
        let text = unicode(text).map_err(|at| {
            let start = QueryArgs::item_position(&out);
            not_unicode_query(py, name, Some(start.saturating_add(at)))
        })?;
        out.push(text);
    }
    Ok(Some(ListArg::Items(out)))
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

/// One page of a query's results, as ``list`` returns it.
///
/// Iterating it yields its documents, and ``len(page)`` counts them:
///
///     page = store.users.list(sort="lastName", page_size=50, with_total=True)
///     while True:
///         for user in page: ...
///         if page.next_cursor is None: break
///         page = store.users.list(cursor=page.next_cursor)
///
/// See docs/reference/queries.md, Results, paging and planning.
#[pyclass(frozen, name = "Page", module = "rosterdb")]
pub(crate) struct PyPage {
    items: Py<PyList>,
    total: Option<u64>,
    next_cursor: Option<String>,
}

#[pymethods]
impl PyPage {
    /// list[dict]: the documents of the page, projected to ``fields`` when given.
    #[getter]
    fn items(&self, py: Python<'_>) -> Py<PyList> {
        self.items.clone_ref(py)
    }

    /// int | None: the number of all matches with ``with_total=True``; else ``None``.
    #[getter]
    fn total(&self) -> Option<u64> {
        self.total
    }

    /// str | None: the opaque cursor of the next page; ``None`` on the last page.
    ///
    /// ``list(cursor=...)`` continues the query; a cursor stays valid
    /// across writes.
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

/// Lists one page of the collection `K` behind `target`, its documents as
/// JSON (projected to the query's `fields`); also how a walk fetches a page.
pub(crate) fn list_page<K: PyCollection>(
    target: &Target,
    py: Python<'_>,
    query: &Query,
) -> PyResult<Page<Value>> {
    target.call(py, Read, move |c| {
        let page = K::of(&c).list(query)?;
        Ok(Page {
            items: page.items_json()?,
            total: page.total,
            next_cursor: page.next_cursor,
            fields: None,
        })
    })
}

/// Converts a page to Python.
pub(crate) fn page_to_py(py: Python<'_>, page: Page<Value>) -> PyResult<PyPage> {
    let list = PyList::empty(py);
    for item in &page.items {
        list.append(to_py(py, item)?)?;
    }
    Ok(PyPage {
        items: list.unbind(),
        total: page.total,
        next_cursor: page.next_cursor,
    })
}

/// Lists the page of a query, for a walk.
pub(crate) type FetchPage = fn(&Target, Python<'_>, &Query) -> PyResult<Page<Value>>;

/// An iterator of every match of a query, as ``iter`` returns it.
///
/// It fetches ``page_size`` documents at a time with cursors, so it never
/// skips or repeats a document that exists unchanged for the whole walk.
/// Each fetch may raise the errors of ``list`` (``ClosedError`` once the
/// store is closed). See docs/reference/queries.md, Results, paging and
/// planning.
#[pyclass(name = "PageWalk", module = "rosterdb")]
pub(crate) struct PyWalk {
    walk: Walk<Value>,
    target: Target,
    fetch: FetchPage,
}

impl PyWalk {
    pub(crate) fn new(query: Query, target: Target, fetch: FetchPage) -> Self {
        PyWalk {
            walk: Walk::new(query),
            target,
            fetch,
        }
    }
}

#[pymethods]
impl PyWalk {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self
            .walk
            .next_item(|query| (self.fetch)(&self.target, py, query))?
        {
            Some(item) => to_py(py, &item),
            None => Err(PyStopIteration::new_err(())),
        }
    }
}
