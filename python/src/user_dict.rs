//! A user document straight to its `dict`, without serde: the same dict
//! [`crate::to_python`] makes of it (same keys, in the same order, same
//! values and types; `test_documents.py` compares them). `get` and every
//! call returning a user go through here: a user's dict is most of what a
//! Python call adds to the core's read (docs/BENCHMARKS.md: at most 2 µs
//! over the Rust call).
//!
//! What it saves over the serde path: the key strings are made once, as
//! interned strings in one table (no cache lookup per field); the dict
//! starts as a copy of one with the same keys, at its final size (no
//! growing); the values are made without serde's dispatch; `updatedAt`
//! reuses the string of `createdAt` when the two are the same instant;
//! the roles list is filled without a vector in between.

use std::convert::Infallible;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use rosterdb::{ExternalId, JsonBuilder, Timestamp, User};

use crate::to_python::{ShortText, ToPyError, map_key, text};

/// Declares [`Keys`]: one interned Python string per dict key of a user.
macro_rules! keys {
    ($($field:ident: $name:literal),+ $(,)?) => {
        /// The dict keys of a user document (and of an external id), made
        /// once as interned strings: statics are never dropped, so no
        /// string outlives Python.
        struct Keys {
            $($field: Py<PyString>,)+
        }

        impl Keys {
            fn new(py: Python<'_>) -> Keys {
                Keys {
                    $($field: PyString::intern(py, $name).unbind(),)+
                }
            }
        }
    };
}

keys! {
    id: "id",
    username: "username",
    email: "email",
    first_name: "firstName",
    last_name: "lastName",
    nickname: "nickname",
    telephone_number: "telephoneNumber",
    mobile_number: "mobileNumber",
    tenant: "tenant",
    enabled: "enabled",
    roles: "roles",
    external_ids: "externalIds",
    attributes: "attributes",
    created_at: "createdAt",
    updated_at: "updatedAt",
    last_login_at: "lastLoginAt",
    locked_until: "lockedUntil",
    has_password: "hasPassword",
    totp_enabled: "totpEnabled",
    version: "version",
    kind: "type",
    value: "value",
}

/// The table of keys, made on first use.
static KEYS: PyOnceLock<Keys> = PyOnceLock::new();

// The bits of a template's mask: which optional fields a user has set.
const NICKNAME: u8 = 1;
const TELEPHONE_NUMBER: u8 = 2;
const MOBILE_NUMBER: u8 = 4;
const TENANT: u8 = 8;
const LAST_LOGIN_AT: u8 = 16;
const LOCKED_UNTIL: u8 = 32;

/// Dicts holding a user's keys in order, each value `None`: one per set
/// of optional fields present (bit mask above), made on first use. A
/// user's dict starts as a copy of its template, which CPython makes by
/// copying the key table at its final size, instead of growing a new
/// dict twice (8, then 16, then 32 slots) as the keys are added; setting
/// each value then replaces the `None`. The templates are never handed
/// out, only copied, so nothing changes them.
static TEMPLATES: [PyOnceLock<Py<PyDict>>; 64] = [const { PyOnceLock::new() }; 64];

/// A new dict with the keys `user`'s dict has, in order, values `None`.
fn new_dict<'py>(py: Python<'py>, keys: &Keys, user: &User) -> PyResult<Bound<'py, PyDict>> {
    let mut mask = 0u8;
    for (set, bit) in [
        (user.nickname.is_some(), NICKNAME),
        (user.telephone_number.is_some(), TELEPHONE_NUMBER),
        (user.mobile_number.is_some(), MOBILE_NUMBER),
        (user.tenant.is_some(), TENANT),
        (user.last_login_at.is_some(), LAST_LOGIN_AT),
        (user.locked_until.is_some(), LOCKED_UNTIL),
    ] {
        if set {
            mask |= bit;
        }
    }
    match TEMPLATES.get(usize::from(mask)) {
        Some(cell) => cell
            .get_or_try_init(py, || template(py, keys, mask))?
            .bind(py)
            .copy(),
        None => Ok(template(py, keys, mask)?.into_bound(py)),
    }
}

/// The template of a user with the optional fields of `mask` set.
fn template(py: Python<'_>, keys: &Keys, mask: u8) -> PyResult<Py<PyDict>> {
    let dict = PyDict::new(py);
    let none = py.None();
    // 0: always present.
    for (key, bit) in [
        (&keys.id, 0),
        (&keys.username, 0),
        (&keys.email, 0),
        (&keys.first_name, 0),
        (&keys.last_name, 0),
        (&keys.nickname, NICKNAME),
        (&keys.telephone_number, TELEPHONE_NUMBER),
        (&keys.mobile_number, MOBILE_NUMBER),
        (&keys.tenant, TENANT),
        (&keys.enabled, 0),
        (&keys.roles, 0),
        (&keys.external_ids, 0),
        (&keys.attributes, 0),
        (&keys.created_at, 0),
        (&keys.updated_at, 0),
        (&keys.last_login_at, LAST_LOGIN_AT),
        (&keys.locked_until, LOCKED_UNTIL),
        (&keys.has_password, 0),
        (&keys.totp_enabled, 0),
        (&keys.version, 0),
    ] {
        if bit == 0 || mask & bit != 0 {
            dict.set_item(key.bind(py), &none)?;
        }
    }
    Ok(dict.unbind())
}

/// The dict of a user document: its fields in declaration order under
/// their camelCase names, optional fields only when set (as serde writes
/// the document), timestamps as RFC 3339 text.
pub(crate) fn user_to_py<'py>(
    py: Python<'py>,
    user: &User,
) -> Result<Bound<'py, PyAny>, ToPyError> {
    let keys = KEYS.get_or_init(py, || Keys::new(py));
    let dict = new_dict(py, keys, user)?;
    let set = |key: &Py<PyString>, value: Bound<'py, PyAny>| dict.set_item(key.bind(py), value);
    let optional = |key: &Py<PyString>, value: &Option<String>| match value {
        Some(value) => set(key, text(py, value)?),
        None => Ok(()),
    };
    set(&keys.id, int(py, user.id))?;
    set(&keys.username, text(py, &user.username)?)?;
    set(&keys.email, text(py, &user.email)?)?;
    set(&keys.first_name, text(py, &user.first_name)?)?;
    set(&keys.last_name, text(py, &user.last_name)?)?;
    optional(&keys.nickname, &user.nickname)?;
    optional(&keys.telephone_number, &user.telephone_number)?;
    optional(&keys.mobile_number, &user.mobile_number)?;
    optional(&keys.tenant, &user.tenant)?;
    set(&keys.enabled, bool_to_py(py, user.enabled))?;
    set(&keys.roles, PyList::new(py, &user.roles)?.into_any())?;
    set(
        &keys.external_ids,
        external_ids(py, keys, &user.external_ids)?,
    )?;
    set(&keys.attributes, user.attributes.build(&mut PyJson { py })?)?;
    let created = timestamp(py, &user.created_at)?;
    let updated = if user.updated_at == user.created_at {
        created.clone()
    } else {
        timestamp(py, &user.updated_at)?
    };
    set(&keys.created_at, created)?;
    set(&keys.updated_at, updated)?;
    if let Some(at) = &user.last_login_at {
        set(&keys.last_login_at, timestamp(py, at)?)?;
    }
    if let Some(until) = &user.locked_until {
        set(&keys.locked_until, timestamp(py, until)?)?;
    }
    set(&keys.has_password, bool_to_py(py, user.has_password))?;
    set(&keys.totp_enabled, bool_to_py(py, user.totp_enabled))?;
    set(&keys.version, int(py, user.version))?;
    Ok(dict.into_any())
}

/// An `int` (Python ints hold any 64-bit integer).
fn int<'py, T>(py: Python<'py>, n: T) -> Bound<'py, PyAny>
where
    T: IntoPyObject<'py, Target = PyInt, Output = Bound<'py, PyInt>, Error = Infallible>,
{
    let Ok(n) = n.into_pyobject(py);
    n.into_any()
}

/// `True` or `False`.
fn bool_to_py(py: Python<'_>, b: bool) -> Bound<'_, PyAny> {
    PyBool::new(py, b).to_owned().into_any()
}

/// A timestamp as serde writes it for JSON: its `Display` text.
fn timestamp<'py>(py: Python<'py>, at: &Timestamp) -> Result<Bound<'py, PyAny>, ToPyError> {
    Ok(PyString::new(py, ShortText::of(at)?.as_str()).into_any())
}

/// `[{"type": ..., "value": ...}, ...]`.
fn external_ids<'py>(
    py: Python<'py>,
    keys: &Keys,
    ids: &[ExternalId],
) -> Result<Bound<'py, PyAny>, ToPyError> {
    let list = PyList::empty(py);
    for id in ids {
        let dict = PyDict::new(py);
        dict.set_item(keys.kind.bind(py), text(py, &id.kind)?)?;
        dict.set_item(keys.value.bind(py), text(py, &id.value)?)?;
        list.append(dict)?;
    }
    Ok(list.into_any())
}

/// Builds a user's attributes as Python objects, as the serde path makes
/// them: `null` is `None`, a number an `int` or a `float`, arrays `list`s,
/// objects `dict`s (keys from the cache of map keys).
struct PyJson<'py> {
    py: Python<'py>,
}

impl<'py> JsonBuilder for PyJson<'py> {
    type Out = Bound<'py, PyAny>;
    type Array = Bound<'py, PyList>;
    type Object = Bound<'py, PyDict>;
    type Error = ToPyError;

    fn null(&mut self) -> Result<Self::Out, ToPyError> {
        Ok(self.py.None().into_bound(self.py))
    }
    fn bool(&mut self, value: bool) -> Result<Self::Out, ToPyError> {
        Ok(bool_to_py(self.py, value))
    }
    fn u64(&mut self, value: u64) -> Result<Self::Out, ToPyError> {
        Ok(int(self.py, value))
    }
    fn i64(&mut self, value: i64) -> Result<Self::Out, ToPyError> {
        Ok(int(self.py, value))
    }
    fn f64(&mut self, value: f64) -> Result<Self::Out, ToPyError> {
        Ok(PyFloat::new(self.py, value).into_any())
    }
    fn str(&mut self, value: &str) -> Result<Self::Out, ToPyError> {
        Ok(text(self.py, value)?)
    }
    fn array(&mut self, _len: usize) -> Result<Self::Array, ToPyError> {
        Ok(PyList::empty(self.py))
    }
    fn item(&mut self, array: &mut Self::Array, item: Self::Out) -> Result<(), ToPyError> {
        Ok(array.append(item)?)
    }
    fn end_array(&mut self, array: Self::Array) -> Result<Self::Out, ToPyError> {
        Ok(array.into_any())
    }
    fn object(&mut self, _len: usize) -> Result<Self::Object, ToPyError> {
        Ok(PyDict::new(self.py))
    }
    fn member(
        &mut self,
        object: &mut Self::Object,
        key: &str,
        value: Self::Out,
    ) -> Result<(), ToPyError> {
        Ok(object.set_item(map_key(self.py, key), value)?)
    }
    fn end_object(&mut self, object: Self::Object) -> Result<Self::Out, ToPyError> {
        Ok(object.into_any())
    }
}
