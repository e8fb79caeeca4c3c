//! Documents to Python objects straight from their serde form, without a
//! `serde_json::Value` in between: the objects `convert::to_py` makes of
//! `serde_json::to_value(doc)`, made in one pass.
//!
//! Each serde shape becomes what `serde_json` makes of it, then what
//! `to_py` makes of that: structs and maps are `dict`s (keys in order; a
//! map key that is not a string becomes the `str` `serde_json` makes of
//! it, or its error), sequences, tuples and
//! bytes are `list`s, `None` and `()` are `None`, integers are `int`s
//! (beyond 64 bits an error, as in `serde_json`), floats are `float`s (not
//! finite: `None`), enum variants are their name or a one-key `dict`.
//! Struct field names are made into Python strings once and then reused;
//! text is made by [`text`] (short non-ASCII text in one allocation).

use std::fmt;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyList, PyString};
use serde::Serialize;
use serde::ser::{self, Impossible};

/// Why a document could not be converted: a Python error (e.g. out of
/// memory), or a value JSON cannot hold (as `serde_json` says it).
#[derive(Debug)]
pub(crate) enum ToPyError {
    /// Raised by Python while building the objects.
    Python(PyErr),
    /// The document has a value JSON cannot hold.
    Json(String),
    /// The store could not read part of the document (a user's stored
    /// attributes, see `rosterdb::Attributes::build`).
    Store(rosterdb::Error),
}

impl fmt::Display for ToPyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToPyError::Python(e) => write!(f, "{e}"),
            ToPyError::Json(message) => f.write_str(message),
            ToPyError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ToPyError {}

impl ser::Error for ToPyError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ToPyError::Json(msg.to_string())
    }
}

impl From<rosterdb::Error> for ToPyError {
    fn from(e: rosterdb::Error) -> Self {
        ToPyError::Store(e)
    }
}

impl From<PyErr> for ToPyError {
    fn from(e: PyErr) -> Self {
        ToPyError::Python(e)
    }
}

/// Slots of the cache of struct field names: 2^[`SLOT_BITS`].
const SLOTS: usize = 1 << SLOT_BITS;
/// The bits of a name's hash that pick its slot.
const SLOT_BITS: u32 = 10;

/// The Python strings of struct field names (`&'static str`, so there are
/// only so many): a name takes the slot its address hashes to, first come
/// first served; a name whose slot another name holds is made afresh each
/// time. Statics are never dropped, so no string outlives Python.
static FIELD_NAMES: [PyOnceLock<(usize, usize, Py<PyString>)>; SLOTS] =
    [const { PyOnceLock::new() }; SLOTS];

/// The Python string of a struct field name, made once.
fn field_name<'py>(py: Python<'py>, name: &'static str) -> Bound<'py, PyString> {
    let key = (name.as_ptr() as usize, name.len());
    // Fibonacci hashing of the address: its top bits pick the slot.
    let slot = (key.0 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (u64::BITS - SLOT_BITS);
    let cell = usize::try_from(slot)
        .ok()
        .and_then(|slot| FIELD_NAMES.get(slot));
    match cell.map(|c| c.get_or_init(py, || (key.0, key.1, PyString::new(py, name).unbind()))) {
        Some((at, len, text)) if (*at, *len) == key => text.bind(py).clone(),
        _ => PyString::new(py, name),
    }
}

/// Slots of the cache of map keys: 2^[`KEY_SLOT_BITS`].
const KEY_SLOTS: usize = 1 << KEY_SLOT_BITS;
/// The bits of a key's hash that pick its slot.
const KEY_SLOT_BITS: u32 = 9;
/// The longest map key (in bytes) the cache keeps.
const CACHED_KEY_LEN: usize = 32;

/// The Python strings of map keys (attribute names, which repeat from one
/// document to the next), so that a key is made and hashed once rather
/// than for every document: a key of at most [`CACHED_KEY_LEN`] bytes
/// takes the slot its hash picks, first come first served; a key whose
/// slot another key holds is made afresh each time. The cache holds at
/// most [`KEY_SLOTS`] short keys, and strings are immutable, so sharing
/// them between documents shows nothing; statics are never dropped, so no
/// string outlives Python.
static MAP_KEYS: [PyOnceLock<(Box<str>, Py<PyString>)>; KEY_SLOTS] =
    [const { PyOnceLock::new() }; KEY_SLOTS];

/// A hash of a short key from its length and its first and last 8 bytes.
fn key_slot(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut head, mut tail) = ([0u8; 8], [0u8; 8]);
    for (slot, byte) in head.iter_mut().zip(bytes) {
        *slot = *byte;
    }
    for (slot, byte) in tail.iter_mut().rev().zip(bytes.iter().rev()) {
        *slot = *byte;
    }
    let mixed =
        u64::from_le_bytes(head) ^ u64::from_le_bytes(tail).rotate_left(29) ^ (bytes.len() as u64);
    let slot = mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (u64::BITS - KEY_SLOT_BITS);
    usize::try_from(slot).unwrap_or(0)
}

/// The Python string of a map key, made once while its slot is free.
pub(crate) fn map_key<'py>(py: Python<'py>, text: &str) -> Bound<'py, PyString> {
    if text.len() > CACHED_KEY_LEN {
        return PyString::new(py, text);
    }
    let cell = MAP_KEYS.get(key_slot(text));
    match cell.map(|c| c.get_or_init(py, || (text.into(), PyString::new(py, text).unbind()))) {
        Some((key, string)) if **key == *text => string.bind(py).clone(),
        _ => PyString::new(py, text),
    }
}

/// The most characters [`text`] hands over as wide characters.
const WIDE_MAX: usize = 64;

/// A Python `str` of `s`, made in one allocation when it can be.
///
/// CPython's UTF-8 decoder makes a string with a non-ASCII character in
/// steps: it starts an ASCII string, and on the first other character
/// allocates a wider one, copies what it has so far, and shrinks the
/// result at the end. Most names in a user document (`Émilie`, `Øvergård`,
/// `Ζωή`, `Анна`) are such text. Short non-ASCII text (at most
/// [`WIDE_MAX`] bytes, so at most as many characters) is instead written
/// on the stack as C wide characters (one code point each) and handed to
/// `PyUnicode_FromWideChar`, which finds the widest character first and
/// makes the string once. Where a `wchar_t` cannot hold a character (a
/// 16-bit `wchar_t` and a character past U+FFFF) the text takes the UTF-8
/// way; either way the `str` is the same.
pub(crate) fn text<'py>(py: Python<'py>, s: &str) -> PyResult<Bound<'py, PyAny>> {
    if s.is_ascii() || s.len() > WIDE_MAX {
        return Ok(PyString::new(py, s).into_any());
    }
    let mut wide: [libc::wchar_t; WIDE_MAX] = [0; WIDE_MAX];
    let mut len = 0;
    for c in s.chars() {
        // At most one character per byte: `len` stays below WIDE_MAX.
        match (libc::wchar_t::try_from(u32::from(c)), wide.get_mut(len)) {
            (Ok(w), Some(slot)) => *slot = w,
            _ => return Ok(PyString::new(py, s).into_any()),
        }
        len = len.saturating_add(1);
    }
    let size = pyo3::ffi::Py_ssize_t::try_from(len).unwrap_or_default();
    // SAFETY: `wide` is a live, initialised buffer of WIDE_MAX wide
    // characters of which the first `size` (≤ WIDE_MAX) are read, and only
    // read; each is a code point of a `&str` (never a surrogate), so the
    // call cannot fail on its content. We hold the GIL (`py`). The call
    // returns a new reference, or NULL with an exception set (out of
    // memory), and `from_owned_ptr_or_err` takes over either.
    unsafe {
        let string = pyo3::ffi::PyUnicode_FromWideChar(wide.as_ptr(), size);
        Bound::from_owned_ptr_or_err(py, string)
    }
}

/// Text written by `Display` (a timestamp), kept on the stack while it is
/// short.
pub(crate) struct ShortText {
    buf: [u8; 64],
    len: usize,
    /// The whole text once it outgrew `buf`.
    long: Option<String>,
}

impl ShortText {
    /// The `Display` text of `value`.
    pub(crate) fn of<T: fmt::Display + ?Sized>(value: &T) -> Result<ShortText, ToPyError> {
        let mut text = ShortText {
            buf: [0; 64],
            len: 0,
            long: None,
        };
        fmt::Write::write_fmt(&mut text, format_args!("{value}"))
            .map_err(|e| ToPyError::Json(e.to_string()))?;
        Ok(text)
    }

    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        match &self.long {
            Some(long) => long,
            // Only whole `&str`s are copied in, so the bytes are UTF-8.
            None => self
                .buf
                .get(..self.len)
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
        }
    }
}

impl fmt::Write for ShortText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(long) = &mut self.long {
            long.push_str(s);
            return Ok(());
        }
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        match self.buf.get_mut(self.len..end) {
            Some(room) => {
                room.copy_from_slice(s.as_bytes());
                self.len = end;
            }
            None => {
                let mut long = String::with_capacity(end);
                long.push_str(self.as_str());
                long.push_str(s);
                self.long = Some(long);
            }
        }
        Ok(())
    }
}

/// Converts a serializable document to Python objects.
pub(crate) fn to_python<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    doc: &T,
) -> Result<Bound<'py, PyAny>, ToPyError> {
    doc.serialize(ToPython { py })
}

/// The serializer making Python objects.
#[derive(Clone, Copy)]
struct ToPython<'py> {
    py: Python<'py>,
}

impl<'py> ToPython<'py> {
    fn int<T>(self, n: T) -> Result<Bound<'py, PyAny>, ToPyError>
    where
        T: IntoPyObject<'py, Target = pyo3::types::PyInt, Output = Bound<'py, pyo3::types::PyInt>>,
        PyErr: From<T::Error>,
    {
        Ok(n.into_pyobject(self.py).map_err(PyErr::from)?.into_any())
    }

    fn none(self) -> Bound<'py, PyAny> {
        self.py.None().into_bound(self.py)
    }

    /// `{variant: value}`, as `serde_json` shows a variant with content.
    fn variant(
        self,
        variant: &'static str,
        value: Bound<'py, PyAny>,
    ) -> Result<Bound<'py, PyAny>, ToPyError> {
        let dict = PyDict::new(self.py);
        dict.set_item(field_name(self.py, variant), value)?;
        Ok(dict.into_any())
    }
}

impl<'py> ser::Serializer for ToPython<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ToPyError;
    type SerializeSeq = Seq<'py>;
    type SerializeTuple = Seq<'py>;
    type SerializeTupleStruct = Seq<'py>;
    type SerializeTupleVariant = Seq<'py>;
    type SerializeMap = Dict<'py>;
    type SerializeStruct = Dict<'py>;
    type SerializeStructVariant = Dict<'py>;

    fn serialize_bool(self, v: bool) -> Result<Self::Ok, ToPyError> {
        Ok(PyBool::new(self.py, v).to_owned().into_any())
    }

    fn serialize_i8(self, v: i8) -> Result<Self::Ok, ToPyError> {
        self.int(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<Self::Ok, ToPyError> {
        self.int(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<Self::Ok, ToPyError> {
        self.int(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<Self::Ok, ToPyError> {
        self.int(v)
    }

    fn serialize_i128(self, v: i128) -> Result<Self::Ok, ToPyError> {
        match (u64::try_from(v), i64::try_from(v)) {
            (Ok(u), _) => self.int(u),
            (_, Ok(i)) => self.int(i),
            _ => Err(ToPyError::Json("number out of range".into())),
        }
    }

    fn serialize_u8(self, v: u8) -> Result<Self::Ok, ToPyError> {
        self.int(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<Self::Ok, ToPyError> {
        self.int(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<Self::Ok, ToPyError> {
        self.int(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<Self::Ok, ToPyError> {
        self.int(v)
    }

    fn serialize_u128(self, v: u128) -> Result<Self::Ok, ToPyError> {
        match u64::try_from(v) {
            Ok(u) => self.int(u),
            Err(_) => Err(ToPyError::Json("number out of range".into())),
        }
    }

    fn serialize_f32(self, v: f32) -> Result<Self::Ok, ToPyError> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<Self::Ok, ToPyError> {
        Ok(if v.is_finite() {
            PyFloat::new(self.py, v).into_any()
        } else {
            self.none()
        })
    }

    fn serialize_char(self, v: char) -> Result<Self::Ok, ToPyError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<Self::Ok, ToPyError> {
        Ok(text(self.py, v)?)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Self::Ok, ToPyError> {
        Ok(PyList::new(self.py, v)?.into_any())
    }

    fn serialize_none(self) -> Result<Self::Ok, ToPyError> {
        Ok(self.none())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok, ToPyError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Self::Ok, ToPyError> {
        Ok(self.none())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Self::Ok, ToPyError> {
        Ok(self.none())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok, ToPyError> {
        Ok(field_name(self.py, variant).into_any())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok, ToPyError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Self::Ok, ToPyError> {
        let value = value.serialize(self)?;
        self.variant(variant, value)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'py>, ToPyError> {
        Ok(Seq {
            to: self,
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Seq<'py>, ToPyError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Seq<'py>, ToPyError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq<'py>, ToPyError> {
        Ok(Seq {
            variant: Some(variant),
            ..self.serialize_seq(Some(len))?
        })
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Dict<'py>, ToPyError> {
        Ok(Dict {
            to: self,
            dict: PyDict::new(self.py),
            key: None,
            variant: None,
        })
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Dict<'py>, ToPyError> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Dict<'py>, ToPyError> {
        Ok(Dict {
            variant: Some(variant),
            ..self.serialize_map(Some(len))?
        })
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<Self::Ok, ToPyError> {
        self.serialize_str(ShortText::of(value)?.as_str())
    }
}

/// A `list` being filled (of a tuple variant: the list under its name).
struct Seq<'py> {
    to: ToPython<'py>,
    items: Vec<Bound<'py, PyAny>>,
    variant: Option<&'static str>,
}

impl<'py> Seq<'py> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToPyError> {
        self.items.push(value.serialize(self.to)?);
        Ok(())
    }

    fn done(self) -> Result<Bound<'py, PyAny>, ToPyError> {
        let list = PyList::new(self.to.py, self.items)?.into_any();
        match self.variant {
            Some(variant) => self.to.variant(variant, list),
            None => Ok(list),
        }
    }
}

macro_rules! seq_impls {
    ($($trait:ident :: $method:ident),+) => {$(
        impl<'py> ser::$trait for Seq<'py> {
            type Ok = Bound<'py, PyAny>;
            type Error = ToPyError;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToPyError> {
                self.push(value)
            }

            fn end(self) -> Result<Self::Ok, ToPyError> {
                self.done()
            }
        }
    )+};
}

seq_impls!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// A `dict` being filled (of a struct variant: the dict under its name).
struct Dict<'py> {
    to: ToPython<'py>,
    dict: Bound<'py, PyDict>,
    /// The key whose value comes next (maps give them apart).
    key: Option<Bound<'py, PyAny>>,
    variant: Option<&'static str>,
}

impl<'py> Dict<'py> {
    fn done(self) -> Result<Bound<'py, PyAny>, ToPyError> {
        let dict = self.dict.into_any();
        match self.variant {
            Some(variant) => self.to.variant(variant, dict),
            None => Ok(dict),
        }
    }

    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ToPyError> {
        let value = value.serialize(self.to)?;
        self.dict.set_item(field_name(self.to.py, key), value)?;
        Ok(())
    }
}

impl<'py> ser::SerializeMap for Dict<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ToPyError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ToPyError> {
        self.key = Some(key.serialize(MapKey { py: self.to.py })?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ToPyError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| ToPyError::Json("a map value without its key".into()))?;
        let value = value.serialize(self.to)?;
        self.dict.set_item(key, value)?;
        Ok(())
    }

    fn end(self) -> Result<Self::Ok, ToPyError> {
        self.done()
    }
}

impl<'py> ser::SerializeStruct for Dict<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ToPyError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ToPyError> {
        self.field(key, value)
    }

    fn end(self) -> Result<Self::Ok, ToPyError> {
        self.done()
    }
}

impl<'py> ser::SerializeStructVariant for Dict<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ToPyError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ToPyError> {
        self.field(key, value)
    }

    fn end(self) -> Result<Self::Ok, ToPyError> {
        self.done()
    }
}

/// A map key as `serde_json` takes it: a string as it is; an integer, a
/// `bool`, a `char` or a finite float written as `serde_json` writes it
/// (it converts them); anything else is `serde_json`'s error.
struct MapKey<'py> {
    py: Python<'py>,
}

/// `serde_json`'s message for a map key it cannot write.
fn key_must_be_a_string() -> ToPyError {
    ToPyError::Json("key must be a string".into())
}

impl<'py> MapKey<'py> {
    fn text(self, text: &str) -> Result<Bound<'py, PyAny>, ToPyError> {
        Ok(map_key(self.py, text).into_any())
    }

    /// The key `serde_json` makes of `key` in a map, or its error.
    fn via_json<T: Serialize>(self, key: &T) -> Result<Bound<'py, PyAny>, ToPyError> {
        use ser::{SerializeMap as _, Serializer as _};
        let json = |e: serde_json::Error| ToPyError::Json(e.to_string());
        let mut map = serde_json::value::Serializer
            .serialize_map(Some(1))
            .map_err(json)?;
        map.serialize_key(key).map_err(json)?;
        map.serialize_value(&()).map_err(json)?;
        match map.end().map_err(json)? {
            serde_json::Value::Object(map) => match map.keys().next() {
                Some(text) => self.text(text),
                None => Err(key_must_be_a_string()),
            },
            _ => Err(key_must_be_a_string()),
        }
    }
}

macro_rules! key_via_json {
    ($($method:ident: $t:ty),+) => {$(
        fn $method(self, v: $t) -> Result<Self::Ok, ToPyError> {
            self.via_json(&v)
        }
    )+};
}

impl<'py> ser::Serializer for MapKey<'py> {
    type Ok = Bound<'py, PyAny>;
    type Error = ToPyError;
    type SerializeSeq = Impossible<Self::Ok, ToPyError>;
    type SerializeTuple = Impossible<Self::Ok, ToPyError>;
    type SerializeTupleStruct = Impossible<Self::Ok, ToPyError>;
    type SerializeTupleVariant = Impossible<Self::Ok, ToPyError>;
    type SerializeMap = Impossible<Self::Ok, ToPyError>;
    type SerializeStruct = Impossible<Self::Ok, ToPyError>;
    type SerializeStructVariant = Impossible<Self::Ok, ToPyError>;

    key_via_json!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_i128: i128,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_u128: u128,
        serialize_f32: f32,
        serialize_f64: f64,
        serialize_char: char
    );

    fn serialize_str(self, v: &str) -> Result<Self::Ok, ToPyError> {
        self.text(v)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Self::Ok, ToPyError> {
        self.text(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok, ToPyError> {
        value.serialize(self)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<Self::Ok, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn serialize_none(self) -> Result<Self::Ok, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<Self::Ok, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit(self) -> Result<Self::Ok, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Self::Ok, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Self::Ok, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, ToPyError> {
        Err(key_must_be_a_string())
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<Self::Ok, ToPyError> {
        self.text(&value.to_string())
    }
}
