//! Python objects ⇄ JSON values, in one place.
//!
//! `dict`, `list`/`tuple`, `str`, `int`, `float`, `bool` and `None` map onto
//! JSON; `bool` is checked before `int` (Python's `True` is an `int`), and
//! integers keep their full 64 bits. Only a document's top-level argument
//! of the wrong type (`doc` not a `dict`, `ops` not a `list`) is a
//! `TypeError`. A value inside a document that JSON cannot hold
//! (docs/reference/errors.md) is `ValidationError` naming where it is (`attributes.level`,
//! `roles[0]`): NaN and infinity, an int beyond 64 bits, a `str` holding
//! lone surrogates, a key that is not a `str`, an object of any other type,
//! and nesting deeper than [`MAX_LEVELS`]. The conversion stops descending
//! there, so a value nested 100,000 deep costs 64 frames. No message
//! quotes the value (it may be a password).

use std::collections::HashSet;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
pub(crate) use rosterdb::json_messages::NOT_UNICODE;
use rosterdb::json_messages::{INTEGER_RANGE, KEY_NOT_UNICODE, NOT_FINITE};
use rosterdb::{Error, FieldError, PatchCode, ValidationCode};
use serde_json::{Map, Number, Value};

use crate::args::type_name;
use crate::errors::to_py_err;

/// How deeply objects and arrays may nest under a document's top-level
/// field (the field's own object or array is level 1, as for the core's
/// bound on `attributes`, which is lower).
const MAX_LEVELS: usize = 64;

/// One step of the path from a document to a value.
enum Step {
    /// A key of an object.
    Key(String),
    /// An index of an array.
    Index(usize),
    /// A JSON Pointer token that names an array index (or `-`, the end).
    Token(String),
}

/// Converts one Python value, collecting every part JSON cannot hold as a
/// problem at its path (and putting `null` there instead).
#[derive(Default)]
struct Converter {
    path: Vec<Step>,
    problems: Vec<FieldError>,
    /// The problems found so far, to report each once.
    seen: HashSet<(String, String)>,
}

impl Converter {
    /// The path of the current value, as the core names fields:
    /// `attributes.tags[2]`; `""` for the document itself.
    fn field(&self) -> String {
        let indexes: Vec<String> = self
            .path
            .iter()
            .map(|step| match step {
                Step::Index(index) => index.to_string(),
                _ => String::new(),
            })
            .collect();
        rosterdb::field_name(
            self.path
                .iter()
                .zip(&indexes)
                .map(|(step, index)| match step {
                    Step::Key(key) => rosterdb::PathStep::Key(key),
                    Step::Index(_) => rosterdb::PathStep::Index(index),
                    Step::Token(token) => rosterdb::PathStep::Index(token),
                }),
        )
    }

    fn problem(&mut self, field: String, code: ValidationCode, message: impl Into<String>) {
        let message = message.into();
        if self.seen.insert((field.clone(), message.clone())) {
            self.problems.push(FieldError::new(field, code, message));
        }
    }

    /// Converts `obj`, an object or array at nesting `level` when it is one.
    fn value(&mut self, obj: &Bound<'_, PyAny>, level: usize) -> Value {
        // Text first: most values of a document are strings, and each
        // type check is a call into the interpreter under the stable ABI.
        if let Ok(s) = obj.cast::<PyString>() {
            match s.to_cow() {
                Ok(text) => Value::String(text.into_owned()),
                Err(_) => {
                    let field = self.field();
                    self.problem(field, ValidationCode::StringUnicode, NOT_UNICODE);
                    Value::Null
                }
            }
        } else if obj.is_none() {
            Value::Null
        } else if let Ok(b) = obj.cast::<PyBool>() {
            Value::Bool(b.is_true())
        } else if obj.is_instance_of::<PyInt>() {
            if let Ok(i) = obj.extract::<i64>() {
                Value::from(i)
            } else if let Ok(u) = obj.extract::<u64>() {
                Value::from(u)
            } else {
                let field = self.field();
                self.problem(field, ValidationCode::NumberOutOfRange, INTEGER_RANGE);
                Value::Null
            }
        } else if let Ok(f) = obj.cast::<PyFloat>() {
            Number::from_f64(f.value()).map_or_else(
                || {
                    let field = self.field();
                    self.problem(field, ValidationCode::FiniteNumber, NOT_FINITE);
                    Value::Null
                },
                Value::Number,
            )
        } else if obj.is_instance_of::<PyDict>()
            || obj.is_instance_of::<PyList>()
            || obj.is_instance_of::<PyTuple>()
        {
            if level > MAX_LEVELS {
                let top = match self.path.first() {
                    Some(Step::Key(key)) => key.clone(),
                    _ => String::new(),
                };
                self.problem(
                    top,
                    ValidationCode::TooDeep,
                    format!("nests objects and arrays more than {MAX_LEVELS} levels deep"),
                );
                Value::Null
            } else if let Ok(dict) = obj.cast::<PyDict>() {
                self.object(dict, level)
            } else if let Ok(list) = obj.cast::<PyList>() {
                self.array(list.iter(), level)
            } else if let Ok(tuple) = obj.cast::<PyTuple>() {
                self.array(tuple.iter(), level)
            } else {
                Value::Null
            }
        } else {
            let field = self.field();
            self.problem(
                field,
                ValidationCode::JsonType,
                format!(
                    "must be a JSON value (a dict, list, tuple, str, int, float, bool or None), not {}",
                    type_name(obj)
                ),
            );
            Value::Null
        }
    }

    fn array<'py>(
        &mut self,
        items: impl Iterator<Item = Bound<'py, PyAny>>,
        level: usize,
    ) -> Value {
        let mut out = Vec::new();
        for (i, item) in items.enumerate() {
            self.path.push(Step::Index(i));
            out.push(self.value(&item, level.saturating_add(1)));
            self.path.pop();
        }
        Value::Array(out)
    }

    fn object(&mut self, dict: &Bound<'_, PyDict>, level: usize) -> Value {
        let items = snapshot(dict);
        let mut map = Map::with_capacity(items.len());
        for (k, v) in &items {
            if let Some((key, value)) = self.entry(k, v, level) {
                map.insert(key, value);
            }
        }
        Value::Object(map)
    }

    /// One key and value of an object at `level`; `None` (a problem) for
    /// a key that is not text.
    fn entry(
        &mut self,
        k: &Bound<'_, PyAny>,
        v: &Bound<'_, PyAny>,
        level: usize,
    ) -> Option<(String, Value)> {
        let key = match k.cast::<PyString>() {
            Err(_) => {
                let field = self.field();
                self.problem(
                    field,
                    ValidationCode::JsonType,
                    format!("keys must be str, not {}", type_name(k)),
                );
                return None;
            }
            Ok(key) => match key.to_cow() {
                Ok(key) => key.into_owned(),
                Err(_) => {
                    let field = self.field();
                    self.problem(field, ValidationCode::StringUnicode, KEY_NOT_UNICODE);
                    return None;
                }
            },
        };
        self.path.push(Step::Key(key));
        let value = self.value(v, level.saturating_add(1));
        match self.path.pop() {
            Some(Step::Key(key)) => Some((key, value)),
            _ => None,
        }
    }
}

/// The items of `dict`, copied out before any is converted: conversion
/// runs no Python code, yet a dict must never change size under an
/// iterator (a panic), and the copy takes none of the tuples and list
/// `dict.items()` would make (and the collector would then walk). The
/// copy itself runs no Python code either, and the GIL is held, so the
/// dict cannot change while it is taken (the extension is built for
/// Python with a GIL: `abi3-py310`).
pub(crate) fn snapshot<'py>(
    dict: &Bound<'py, PyDict>,
) -> Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let mut items = Vec::with_capacity(dict.len());
    items.extend(dict.iter());
    items
}

/// The top-level field of a path (`attributes` of `attributes.a[1]`).
fn top_level(field: &str) -> &str {
    field.split(['.', '[']).next().unwrap_or_default()
}

/// Checks that `obj` is a dict (else `TypeError` naming `what`) and
/// converts it: the JSON object, and every problem found in it.
fn convert_dict(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<(Value, Vec<FieldError>)> {
    if !obj.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a dict, not {}",
            type_name(obj)
        )));
    }
    Ok(convert_document(obj))
}

/// Converts the document argument `what` of a merge or replace: a dict
/// (else `TypeError`) of values JSON can hold (else `ValidationError`
/// naming each that it cannot).
pub(crate) fn document(py: Python<'_>, obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    let (value, problems) = convert_dict(obj, what)?;
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(to_py_err(py, Error::Validation { errors: problems }))
    }
}

/// Converts the document of a create (`doc`): a dict (else `TypeError`),
/// and every value in it JSON cannot hold, for [`new_document`].
pub(crate) fn create_document(obj: &Bound<'_, PyAny>) -> PyResult<(Value, Vec<FieldError>)> {
    convert_dict(obj, "doc")
}

/// Converts a document already known to be a dict (anything else converts
/// to a value the core refuses as not an object): the JSON object, and
/// every value in it JSON cannot hold, for [`new_document`]. What every
/// document argument and each item of a bulk create's `docs` go through.
pub(crate) fn convert_document(obj: &Bound<'_, PyAny>) -> (Value, Vec<FieldError>) {
    let mut converter = Converter::default();
    let value = converter.value(obj, 0);
    (value, converter.problems)
}

/// Reads the document of a create with the core's `parse`. When it holds
/// values JSON cannot (`problems`), the `Validation` error lists them
/// together with what the core finds wrong with the rest of the document
/// (its other top-level fields), as it lists every failing field.
pub(crate) fn new_document<T>(
    value: Value,
    problems: Vec<FieldError>,
    parse: impl FnOnce(Value) -> rosterdb::Result<T>,
) -> rosterdb::Result<T> {
    if problems.is_empty() {
        return parse(value);
    }
    let mut errors: Vec<FieldError> = match parse(value) {
        Err(Error::Validation { errors }) => errors
            .into_iter()
            .filter(|e| {
                !problems
                    .iter()
                    .any(|p| top_level(&p.field) == top_level(&e.field))
            })
            .collect(),
        _ => Vec::new(),
    };
    errors.extend(problems);
    Err(Error::Validation { errors })
}

/// The steps of a JSON Pointer naming a place inside a field, as this
/// converter records them (`rosterdb::field_steps`); `None` when it names none.
fn pointer_steps(pointer: &str) -> Option<Vec<Step>> {
    let steps = rosterdb::field_steps(pointer)?;
    Some(
        steps
            .into_iter()
            .map(|step| match step {
                rosterdb::PointerStep::Key(key) => Step::Key(key),
                rosterdb::PointerStep::Index(token) => Step::Token(token),
            })
            .collect(),
    )
}

/// Converts the operations of a JSON Patch (`ops`, already known to be a
/// list). A `value` JSON cannot hold is `ValidationError` naming the
/// field the operation's `path` points at (`/attributes/level` →
/// `attributes.level`, plus the place inside the value); anything else in
/// an operation JSON cannot hold (in `op`, `path`, `from`, a key) makes it
/// a malformed operation: `PatchError` with its index. Operations that are
/// not dicts go to the core, which names them. Problems are reported in
/// the order of the operations.
pub(crate) fn patch_ops(py: Python<'_>, ops: &Bound<'_, PyList>) -> PyResult<Value> {
    let mut out = Vec::with_capacity(ops.len());
    let mut value_problems: Vec<FieldError> = Vec::new();
    for (index, op) in ops.iter().enumerate() {
        let Ok(dict) = op.cast::<PyDict>() else {
            // The core says that an operation must be a JSON object.
            let mut converter = Converter::default();
            let value = converter.value(&op, 0);
            out.push(if converter.problems.is_empty() {
                value
            } else {
                Value::Null
            });
            continue;
        };
        let mut members = Converter::default();
        let mut given_value = None;
        let items = snapshot(dict);
        let mut map = Map::with_capacity(items.len());
        for (k, v) in items {
            if k.cast::<PyString>()
                .is_ok_and(|k| k.to_cow().is_ok_and(|k| k == "value"))
            {
                given_value = Some(v);
            } else if let Some((key, value)) = members.entry(&k, &v, 0) {
                map.insert(key, value);
            }
        }
        let mut malformed = members.problems.first().map(|problem| {
            let message = if problem.field.is_empty() {
                format!("an operation's {}", problem.message)
            } else {
                format!("{} {}", problem.field, problem.message)
            };
            (patch_code(problem.code), message)
        });
        if let Some(given) = given_value {
            let steps = map
                .get("path")
                .and_then(Value::as_str)
                .and_then(pointer_steps);
            let named = steps.is_some();
            let mut converter = Converter::default();
            let level = steps.as_ref().map_or(1, Vec::len);
            converter.path = steps.unwrap_or_default();
            let value = converter.value(&given, level);
            match converter.problems.first() {
                // No pointer to name the field by: the operation is malformed.
                Some(problem) if !named => {
                    malformed.get_or_insert_with(|| {
                        (
                            patch_code(problem.code),
                            format!("value {}", problem.message),
                        )
                    });
                }
                _ if malformed.is_none() => value_problems.extend(converter.problems),
                _ => {}
            }
            map.insert("value".to_owned(), value);
        }
        if let Some((code, message)) = malformed {
            if !value_problems.is_empty() {
                break;
            }
            return Err(to_py_err(py, Error::patch(index, code, message)));
        }
        out.push(Value::Object(map));
    }
    // Two operations may put values nested too deeply into one field.
    let mut seen = HashSet::new();
    value_problems.retain(|p| seen.insert((p.field.clone(), p.message.clone())));
    if value_problems.is_empty() {
        Ok(Value::Array(out))
    } else {
        Err(to_py_err(
            py,
            Error::Validation {
                errors: value_problems,
            },
        ))
    }
}

/// The code of an operation made malformed by a value JSON cannot hold
/// (`code`) outside a `value` the operation's `path` names.
fn patch_code(code: ValidationCode) -> PatchCode {
    match code {
        ValidationCode::TooDeep => PatchCode::TooDeep,
        _ => PatchCode::InvalidOperation,
    }
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

/// Converts a document to a Python dict, straight from its serde form
/// (`to_python`): the objects [`to_py`] makes of its JSON value.
pub(crate) fn doc_to_py<'py>(
    py: Python<'py>,
    doc: &impl serde::Serialize,
) -> PyResult<Bound<'py, PyAny>> {
    converted(py, crate::to_python::to_python(py, doc))
}

/// A conversion's result as a call returns it: a value JSON cannot hold
/// is an internal error.
fn converted<'py>(
    py: Python<'py>,
    result: Result<Bound<'py, PyAny>, crate::to_python::ToPyError>,
) -> PyResult<Bound<'py, PyAny>> {
    result.map_err(|e| match e {
        crate::to_python::ToPyError::Python(e) => e,
        crate::to_python::ToPyError::Json(message) => to_py_err(
            py,
            Error::internal(format!("a document as JSON: {message}")),
        ),
        crate::to_python::ToPyError::Store(e) => to_py_err(py, e),
    })
}

/// A record document of one of the three kinds, as calls return it: the
/// dict [`doc_to_py`] makes of it (a user's made directly, see
/// [`crate::user_dict`]).
pub(crate) trait RecordToPy: serde::Serialize {
    /// The document's dict.
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>
    where
        Self: Sized,
    {
        doc_to_py(py, self)
    }
}

impl RecordToPy for rosterdb::User {
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        converted(py, crate::user_dict::user_to_py(py, self))
    }
}

impl RecordToPy for rosterdb::Role {}

impl RecordToPy for rosterdb::Client {}

/// A record document's dict (see [`RecordToPy`]).
pub(crate) fn record_to_py<'py>(
    py: Python<'py>,
    doc: &impl RecordToPy,
) -> PyResult<Bound<'py, PyAny>> {
    doc.to_py(py)
}
