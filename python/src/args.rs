//! Python arguments → core values, for the options and the credential calls.
//!
//! Numbers: an `int` (not a `bool`) that fits the core's type; anything else
//! is `ArgumentError` naming the argument (docs/reference/errors.md: no
//! bare `OverflowError` or `TypeError` from a conversion), and the core
//! checks the range.
//!
//! Text: a `str`, else `TypeError` naming the argument (the binding's
//! convention for wrong types). A `str` can hold lone surrogates, which no
//! Rust string can: credentials and tokens that hold one are passed on with
//! each bad code unit replaced by U+FFFD, so the core refuses them as it
//! refuses any wrong value (counting a failed check, in the same time),
//! and new passwords that hold one are `ValidationError`. Neither error
//! quotes the value: pyo3's own `UnicodeEncodeError` would carry the whole
//! password in its `object` attribute.

use std::fmt::Display;
use std::path::PathBuf;

use pyo3::exceptions::{PyTypeError, PyUnicodeError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt, PyString};
use rosterdb::{EntityKind, Error, Secret};

use crate::convert::NOT_UNICODE;
use crate::errors::to_py_err;

/// The Python type name of `obj`, for messages (never its value).
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "object".to_owned(), |n| n.to_string())
}

/// `ArgumentError` naming `argument`.
fn argument_error(py: Python<'_>, argument: &str, message: String) -> PyErr {
    to_py_err(py, Error::argument(argument, message))
}

/// An unsigned integer type of the core's options and arguments.
pub(crate) trait Unsigned: TryFrom<u64> + Display {
    /// The largest value of the type.
    const MAX: Self;
}

impl Unsigned for u32 {
    const MAX: Self = u32::MAX;
}

impl Unsigned for u64 {
    const MAX: Self = u64::MAX;
}

/// Reads the argument `name`: an `int` (not a `bool`) from 0 to `T::MAX`.
pub(crate) fn unsigned<T: Unsigned>(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<T> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(argument_error(
            obj.py(),
            name,
            format!("must be an int, not {}", type_name(obj)),
        ));
    }
    obj.extract::<u64>()
        .ok()
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| {
            argument_error(
                obj.py(),
                name,
                format!("must be an int from 0 to {}", T::MAX),
            )
        })
}

/// `from_py_with` converters for numeric arguments, each naming its argument.
macro_rules! unsigned_args {
    ($($name:ident: $t:ty),* $(,)?) => {$(
        #[doc = concat!("The `", stringify!($name), "` argument.")]
        pub(crate) fn $name(obj: &Bound<'_, PyAny>) -> PyResult<$t> {
            unsigned::<$t>(obj, stringify!($name))
        }
    )*};
}

unsigned_args!(
    lockout_threshold: u32,
    lockout_seconds: u64,
    argon2_memory_kib: u32,
    argon2_iterations: u32,
    argon2_parallelism: u32,
    cache_bytes: u64,
    ttl_seconds: u64,
    after: u64,
);

/// The `totp_issuer` option: `None` (the core's default) or a `str`, else
/// `ArgumentError` naming it (as for every store option). A lone surrogate
/// is `ArgumentError` too; the core checks the length and the characters.
pub(crate) fn totp_issuer(obj: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if obj.is_none() {
        return Ok(None);
    }
    let refuse = |message: String| argument_error(obj.py(), "totp_issuer", message);
    let text = obj
        .cast::<PyString>()
        .map_err(|_| refuse(format!("must be a str, not {}", type_name(obj))))?;
    unicode(text).map(Some).map_err(|at| {
        refuse(format!(
            "must be Unicode text (a lone surrogate at code point {at})"
        ))
    })
}

/// The `limit` of `changes`: an `int` (not a `bool`). The core checks its
/// range (1–1000) and names it in a `QueryError`, so an int beyond `usize`
/// in either direction is handed over as the nearest value it can hold,
/// which the core refuses the same way; anything else is `QueryError` too.
pub(crate) fn limit(obj: &Bound<'_, PyAny>) -> PyResult<usize> {
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(to_py_err(
            obj.py(),
            Error::query(
                rosterdb::QueryCode::InvalidPaging,
                format!("limit must be an int, not {}", type_name(obj)),
            )
            .for_field("limit"),
        ));
    }
    Ok(match obj.extract::<usize>() {
        Ok(n) => n,
        Err(_) if obj.lt(0)? => 0,
        Err(_) => usize::MAX,
    })
}

/// A paging argument of `list`, `iter` and `explain` (`page`, `page_size`,
/// `offset`, `limit`): `None`, or an `int` (not a `bool`) handed to the
/// core, which checks its range, so that any int out of range, negative or
/// beyond 64 bits, is the core's `QueryError` naming the parameter (an int
/// beyond 128 bits is handed over as the nearest one, out of range the
/// same way, so a 5,000-digit int costs nothing to refuse). Anything else
/// is a `TypeError`, as for ids.
pub(crate) fn paging(obj: &Bound<'_, PyAny>) -> PyResult<Option<i128>> {
    if obj.is_none() {
        return Ok(None);
    }
    if obj.is_instance_of::<PyBool>() || !obj.is_instance_of::<PyInt>() {
        return Err(PyTypeError::new_err(format!(
            "paging values must be ints, not {}",
            type_name(obj)
        )));
    }
    Ok(Some(match obj.extract::<i128>() {
        Ok(n) => n,
        Err(_) if obj.lt(0)? => i128::MIN,
        Err(_) => i128::MAX,
    }))
}

/// The optional `expected_version` of `patch`, `merge` and `replace`:
/// `None`, or an `int` from 0 to 2**64 - 1 (else `ArgumentError`).
pub(crate) fn expected_version(obj: &Bound<'_, PyAny>) -> PyResult<Option<u64>> {
    if obj.is_none() {
        return Ok(None);
    }
    unsigned::<u64>(obj, "expected_version").map(Some)
}

/// Reads a `str` argument; lone surrogates become U+FFFD (see the module docs).
fn lossy(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    let text = obj.cast::<PyString>().map_err(|_| {
        PyTypeError::new_err(format!("{name} must be a str, not {}", type_name(obj)))
    })?;
    Ok(text.to_string_lossy().into_owned())
}

/// `from_py_with` converters for text arguments of logins and sessions.
macro_rules! text_args {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("The `", stringify!($name), "` argument (a `str`).")]
        pub(crate) fn $name(obj: &Bound<'_, PyAny>) -> PyResult<String> {
            lossy(obj, stringify!($name))
        }
    )*};
}

text_args!(identifier, token, client_id);

/// `from_py_with` converters for optional text arguments (`None` allowed).
macro_rules! optional_text_args {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("The optional `", stringify!($name), "` argument (a `str` or `None`).")]
        pub(crate) fn $name(obj: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
            if obj.is_none() {
                Ok(None)
            } else {
                lossy(obj, stringify!($name)).map(Some)
            }
        }
    )*};
}

optional_text_args!(tenant, ip);

/// `from_py_with` converters for secrets being checked (passwords, client
/// secrets, TOTP and recovery codes).
macro_rules! secret_args {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("The `", stringify!($name), "` argument (a `str`), as a secret.")]
        pub(crate) fn $name(obj: &Bound<'_, PyAny>) -> PyResult<Secret> {
            lossy(obj, stringify!($name)).map(Secret::from)
        }
    )*};
}

secret_args!(password, secret, code);

/// The optional `totp_code` argument (a `str` or `None`), as a secret.
pub(crate) fn totp_code(obj: &Bound<'_, PyAny>) -> PyResult<Option<Secret>> {
    if obj.is_none() {
        Ok(None)
    } else {
        lossy(obj, "totp_code").map(|c| Some(Secret::from(c)))
    }
}

/// The `password` argument of `set_password`: a `str` of Unicode scalar
/// values; one holding lone surrogates is `ValidationError` on `password`.
pub(crate) fn new_password(obj: &Bound<'_, PyAny>) -> PyResult<Secret> {
    let text = obj.cast::<PyString>().map_err(|_| {
        PyTypeError::new_err(format!("password must be a str, not {}", type_name(obj)))
    })?;
    match text.to_cow() {
        Ok(s) => Ok(Secret::from(s.into_owned())),
        Err(_) => Err(to_py_err(
            obj.py(),
            Error::invalid(
                "password",
                rosterdb::ValidationCode::StringUnicode,
                "must be Unicode text (it holds lone surrogate code points)",
            ),
        )),
    }
}

/// The `str` argument `name`; `TypeError` naming it for anything else.
pub(crate) fn str_arg<'a, 'py>(
    obj: &'a Bound<'py, PyAny>,
    name: &str,
) -> PyResult<&'a Bound<'py, PyString>> {
    obj.cast::<PyString>()
        .map_err(|_| PyTypeError::new_err(format!("{name} must be a str, not {}", type_name(obj))))
}

/// The text of a `str`, or the index (in code points) of its first lone
/// surrogate when it holds one.
pub(crate) fn unicode(s: &Bound<'_, PyString>) -> Result<String, usize> {
    s.to_cow()
        .map(|c| c.into_owned())
        .map_err(|_| first_surrogate(s).unwrap_or(0))
}

fn first_surrogate(s: &Bound<'_, PyString>) -> Option<usize> {
    let encoded = s
        .call_method1("encode", ("utf-32-le", "surrogatepass"))
        .ok()?;
    let bytes = encoded.cast::<PyBytes>().ok()?.as_bytes();
    bytes.chunks_exact(4).position(|unit| {
        <[u8; 4]>::try_from(unit)
            .is_ok_and(|unit| (0xD800..=0xDFFF).contains(&u32::from_le_bytes(unit)))
    })
}

/// `QueryError` naming the query parameter `field` whose text holds a
/// lone surrogate at `position` (`None` for opaque text).
pub(crate) fn not_unicode_query(py: Python<'_>, field: &str, position: Option<usize>) -> PyErr {
    to_py_err(
        py,
        Error::InvalidQuery {
            code: rosterdb::QueryCode::StringUnicode,
            message: format!("{field} {NOT_UNICODE}"),
            position,
            field: Some(field.to_owned()),
        },
    )
}

/// A text parameter of a query (`None` allowed): a `str` (else
/// `TypeError`) of Unicode text (else `QueryError` naming `field`, at the
/// first lone surrogate when `positioned`).
fn query_text(obj: &Bound<'_, PyAny>, field: &str, positioned: bool) -> PyResult<Option<String>> {
    if obj.is_none() {
        return Ok(None);
    }
    unicode(str_arg(obj, field)?)
        .map(Some)
        .map_err(|at| not_unicode_query(obj.py(), field, positioned.then_some(at)))
}

/// The `where` argument of queries.
pub(crate) fn where_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    query_text(obj, "where", true)
}

/// The `search` argument of queries.
pub(crate) fn search_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    query_text(obj, "search", true)
}

/// The `cursor` argument of `list` and `explain` (opaque: no position).
pub(crate) fn cursor_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    query_text(obj, "cursor", false)
}

/// A key a lookup finds a record of `entity` by (`username`, `email`,
/// `external id`, `clientId`): a `str` (else `TypeError` naming
/// `argument`); one holding lone surrogates names no record
/// (`NotFoundError`).
pub(crate) fn lookup_key(
    obj: &Bound<'_, PyAny>,
    argument: &str,
    key: &str,
    entity: EntityKind,
) -> PyResult<String> {
    unicode(str_arg(obj, argument)?).map_err(|_| {
        to_py_err(
            obj.py(),
            Error::NotFound {
                entity,
                key: format!("{key} that is not Unicode text"),
            },
        )
    })
}

/// The `tenant` of a lookup: `None`, or a `str` (else `TypeError`); one
/// holding lone surrogates is a tenant no record has (`NotFoundError`).
pub(crate) fn lookup_tenant(
    obj: Option<&Bound<'_, PyAny>>,
    entity: EntityKind,
) -> PyResult<Option<String>> {
    match obj {
        Some(obj) if !obj.is_none() => lookup_key(obj, "tenant", "tenant", entity).map(Some),
        _ => Ok(None),
    }
}

/// The tenant of `store.scoped`: a `str` (else `TypeError`) of Unicode
/// text (else `ValidationError` on `tenant`, as for any tenant the core
/// refuses).
pub(crate) fn scope_tenant(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    unicode(str_arg(obj, "tenant")?).map_err(|_| {
        let code = rosterdb::ValidationCode::StringUnicode;
        to_py_err(obj.py(), Error::invalid("tenant", code, NOT_UNICODE))
    })
}

/// A file path: a `str`, `bytes` or `os.PathLike` (else `TypeError`). A
/// `str` that cannot be encoded as a file name (lone surrogates outside
/// the `surrogateescape` range) is `StorageError`, like any file name the
/// system refuses.
pub(crate) fn path(obj: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    obj.extract::<PathBuf>().map_err(|e| {
        if e.is_instance_of::<PyUnicodeError>(obj.py()) {
            to_py_err(
                obj.py(),
                Error::storage(
                    "the path is not a valid file name: it holds lone surrogate code points",
                ),
            )
        } else {
            e
        }
    })
}

/// A `bool` argument (not merely truthy); `TypeError` naming it otherwise.
fn flag(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<bool> {
    obj.cast::<PyBool>()
        .map(|b| b.is_true())
        .map_err(|_| PyTypeError::new_err(format!("{name} must be a bool, not {}", type_name(obj))))
}

/// The `with_total` argument of `list` and `explain`.
pub(crate) fn with_total(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    flag(obj, "with_total")
}

/// The `cascade` argument of `roles.delete`.
pub(crate) fn cascade(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    flag(obj, "cascade")
}

/// The `filters` argument of queries: `None` or a `dict` (else `TypeError`).
pub(crate) fn filters<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyDict>>> {
    if obj.is_none() {
        return Ok(None);
    }
    obj.cast::<PyDict>().map(|d| Some(d.clone())).map_err(|_| {
        PyTypeError::new_err(format!("filters must be a dict, not {}", type_name(obj)))
    })
}
