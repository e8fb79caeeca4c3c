//! Python objects ⇄ JSON values, in one place.
//!
//! `dict`, `list`/`tuple`, `str`, `int`, `float`, `bool` and `None` map onto
//! JSON; anything else is a `TypeError`. `bool` is checked before `int`
//! (Python's `True` is an `int`), and integers keep their full 64 bits.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// How deeply a Python value may nest; the core allows less inside `attributes`.
const MAX_DEPTH: usize = 64;

/// Converts a Python value to JSON.
pub(crate) fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    convert(obj, 0)
}

fn convert(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "value nests more than {MAX_DEPTH} levels deep"
        )));
    }
    if obj.is_none() {
        Ok(Value::Null)
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Ok(Value::Bool(b.is_true()))
    } else if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            Ok(Value::from(i))
        } else if let Ok(u) = obj.extract::<u64>() {
            Ok(Value::from(u))
        } else {
            Err(PyValueError::new_err(
                "integer out of range: JSON integers here must fit in 64 bits",
            ))
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err("NaN and infinity are not valid JSON numbers"))
    } else if let Ok(s) = obj.cast::<PyString>() {
        Ok(Value::String(text(s)?))
    } else if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in dict.iter() {
            let Ok(key) = k.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!(
                    "dict keys must be str, not {}",
                    type_name(&k)
                )));
            };
            map.insert(text(key)?, convert(&v, depth + 1)?);
        }
        Ok(Value::Object(map))
    } else if let Ok(list) = obj.cast::<PyList>() {
        list.iter().map(|v| convert(&v, depth + 1)).collect()
    } else if let Ok(tuple) = obj.cast::<PyTuple>() {
        tuple.iter().map(|v| convert(&v, depth + 1)).collect()
    } else {
        Err(PyTypeError::new_err(format!(
            "{} cannot be converted to JSON",
            type_name(obj)
        )))
    }
}

/// The text of a `str`. One holding lone surrogates (which JSON text
/// cannot) is a `ValueError` that, unlike Python's `UnicodeEncodeError`,
/// does not carry the string: it may be a password.
fn text(s: &Bound<'_, PyString>) -> PyResult<String> {
    s.to_cow().map(|c| c.into_owned()).map_err(|_| {
        PyValueError::new_err("str values must be Unicode text: this one holds lone surrogates")
    })
}

/// Converts a Python dict to a JSON object; anything else is a `TypeError`.
pub(crate) fn dict_to_json(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    if !obj.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a dict, not {}",
            type_name(obj)
        )));
    }
    to_json(obj)
}

/// Converts a JSON value to Python objects.
pub(crate) fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// Serialises a document and converts it to a Python dict.
pub(crate) fn doc_to_py<'py>(
    py: Python<'py>,
    doc: &impl serde::Serialize,
) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(doc)
        .map_err(|e| crate::errors::to_py_err(py, rosterdb::Error::storage(e)))?;
    to_py(py, &value)
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "object".to_owned(), |n| n.to_string())
}
