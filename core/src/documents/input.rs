//! Reading an input document from JSON, type by type, collecting every problem.
//!
//! Rules of content (lengths, characters) live in [`crate::documents::rules`]; this
//! module checks only shape: known keys, JSON types, required keys and
//! read-only keys. A missing or mistyped required string reads as `""` so the
//! typed document can still be built and its other fields checked.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::documents::fields::FieldId;
use crate::documents::rules::Problems;
use crate::{Error, Result, Secret, ValidationCode};

/// The object a [`Fields`] reads: borrowed, its values copied out as they
/// are read, or owned by the caller's document, its values moved out.
enum Object<'a> {
    Shared(&'a Map<String, Value>),
    Owned(&'a mut Map<String, Value>),
}

/// Objects of at most this many members (every valid input document)
/// are searched key by key, which for a document's few short keys is
/// cheaper than hashing each asked key, and their read members are
/// remembered by position (a bit of [`Fields::read_at`] each).
const SCANNED: usize = 32;

/// The keys of one JSON object still to be read, and the problems found so far.
pub(crate) struct Fields<'a> {
    object: Object<'a>,
    /// The keys asked for, for an object of more than [`SCANNED`] members.
    read: Vec<&'static str>,
    /// Bit `i`: member `i` was read (an object of at most [`SCANNED`]).
    read_at: u64,
    pub(crate) problems: Problems,
}

impl<'a> Fields<'a> {
    /// Starts reading `value`, which must be a JSON object.
    pub(crate) fn of(value: &'a Value) -> Result<Self> {
        Self::check_depth(value)?;
        match value {
            Value::Object(object) => Ok(Self::reading(Object::Shared(object))),
            _ => Err(Self::not_an_object()),
        }
    }

    /// Starts reading `value`, which must be a JSON object, moving each
    /// member's value out of it as it is read (a member left `null`).
    pub(crate) fn of_owned(value: &'a mut Value) -> Result<Self> {
        Self::check_depth(value)?;
        match value {
            Value::Object(object) => Ok(Self::reading(Object::Owned(object))),
            _ => Err(Self::not_an_object()),
        }
    }

    /// Starts reading an item of a list [`Fields::objects`] gave, moving
    /// its members out when the list was moved out of its document.
    pub(crate) fn of_item<'b>(item: &'b mut Cow<'_, Value>) -> Result<Fields<'b>> {
        match item {
            Cow::Borrowed(value) => Fields::of(value),
            Cow::Owned(value) => Fields::of_owned(value),
        }
    }

    fn check_depth(value: &Value) -> Result<()> {
        match crate::documents::rules::too_deep_member(value) {
            Some(field) => Err(Error::invalid(
                field,
                ValidationCode::TooDeep,
                crate::documents::rules::too_deep_message(),
            )),
            None => Ok(()),
        }
    }

    fn not_an_object() -> Error {
        Error::invalid(
            "",
            ValidationCode::ObjectType,
            "the document must be a JSON object",
        )
    }

    fn reading(object: Object<'a>) -> Self {
        Fields {
            object,
            read: Vec::new(),
            read_at: 0,
            problems: Problems::new(),
        }
    }

    /// The member `key`, borrowed or moved out; each key is taken once.
    fn take(&mut self, key: &'static str) -> Option<Cow<'a, Value>> {
        let scanned = |len: usize| len <= SCANNED;
        match &mut self.object {
            Object::Shared(object) => {
                let object: &'a Map<String, Value> = object;
                if !scanned(object.len()) {
                    self.read.push(key);
                    return object.get(key).map(Cow::Borrowed);
                }
                let (at, (_, value)) = object.iter().enumerate().find(|(_, (k, _))| *k == key)?;
                self.read_at |= 1 << at;
                Some(Cow::Borrowed(value))
            }
            Object::Owned(object) => {
                if !scanned(object.len()) {
                    self.read.push(key);
                    return object.get_mut(key).map(|v| Cow::Owned(v.take()));
                }
                let (at, (_, value)) = object
                    .iter_mut()
                    .enumerate()
                    .find(|(_, (k, _))| *k == key)?;
                self.read_at |= 1 << at;
                Some(Cow::Owned(value.take()))
            }
        }
    }

    /// Takes a key whose value may be absent or `null`.
    fn take_nullable(&mut self, key: &'static str) -> Option<Cow<'a, Value>> {
        self.take(key).filter(|v| !v.is_null())
    }

    /// A required string; `""` when it is missing or not a string.
    pub(crate) fn required_string(&mut self, key: &'static str) -> String {
        match self.take_nullable(key) {
            None => {
                self.problems
                    .add(key, ValidationCode::Missing, "is required");
                String::new()
            }
            Some(v) => self.as_string(key, v).unwrap_or_default(),
        }
    }

    /// An optional string; absent and `null` both read as `None`.
    pub(crate) fn optional_string(&mut self, key: &'static str) -> Option<String> {
        let v = self.take_nullable(key)?;
        self.as_string(key, v)
    }

    /// A write-only secret such as `password`.
    pub(crate) fn secret(&mut self, key: &'static str) -> Option<Secret> {
        self.optional_string(key).map(Secret::new)
    }

    /// A boolean with a default for when it is absent.
    pub(crate) fn bool_or(&mut self, key: &'static str, default: bool) -> bool {
        match self.take(key).as_deref() {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.problems
                    .add(key, ValidationCode::BoolType, "must be a boolean");
                default
            }
        }
    }

    /// A list of record ids; absent reads as empty.
    pub(crate) fn ids(&mut self, key: &'static str) -> Vec<u64> {
        self.list(
            key,
            |v| crate::documents::json::safe_integer(&v),
            "must be a list of ids (whole numbers from 0 to 9007199254740991)",
        )
    }

    /// A list of strings; absent reads as empty.
    pub(crate) fn strings(&mut self, key: &'static str) -> Vec<String> {
        self.list(key, string, "must be a list of strings")
    }

    /// A list of JSON objects; absent reads as empty.
    pub(crate) fn objects(&mut self, key: &'static str) -> Vec<Cow<'a, Value>> {
        self.list(
            key,
            |v| v.is_object().then_some(v),
            "must be a list of objects",
        )
    }

    fn list<T>(
        &mut self,
        key: &'static str,
        item: impl Fn(Cow<'a, Value>) -> Option<T>,
        message: &str,
    ) -> Vec<T> {
        // `None`: not a list, or an item `item` refuses.
        let items: Option<Vec<T>> = match self.take(key) {
            None => return Vec::new(),
            Some(Cow::Borrowed(Value::Array(values))) => {
                values.iter().map(|v| item(Cow::Borrowed(v))).collect()
            }
            Some(Cow::Owned(Value::Array(values))) => {
                values.into_iter().map(|v| item(Cow::Owned(v))).collect()
            }
            Some(_) => None,
        };
        items.unwrap_or_else(|| {
            self.problems.add(key, ValidationCode::ListType, message);
            Vec::new()
        })
    }

    /// A JSON object; absent reads as empty.
    pub(crate) fn object(&mut self, key: &'static str) -> Map<String, Value> {
        match self.take(key) {
            None => Map::new(),
            Some(Cow::Borrowed(Value::Object(map))) => map.clone(),
            Some(Cow::Owned(Value::Object(map))) => map,
            Some(_) => {
                self.problems
                    .add(key, ValidationCode::ObjectType, "must be a JSON object");
                Map::new()
            }
        }
    }

    /// Fields the store sets: present in input, they are an error.
    pub(crate) fn read_only(&mut self, keys: &[&'static str]) {
        for key in keys {
            if self.take(key).is_some() {
                self.problems
                    .add(*key, ValidationCode::ReadOnly, "is read-only");
            }
        }
    }

    fn as_string(&mut self, key: &'static str, v: Cow<'a, Value>) -> Option<String> {
        let s = string(v);
        if s.is_none() {
            self.problems
                .add(key, ValidationCode::StringType, "must be a string");
        }
        s
    }

    /// Reports every key that was never read as unknown and returns the problems.
    pub(crate) fn finish(mut self) -> Problems {
        let object: &Map<String, Value> = match &self.object {
            Object::Shared(object) => object,
            Object::Owned(object) => object,
        };
        let scanned = object.len() <= SCANNED;
        let unknown: Vec<&String> = object
            .keys()
            .enumerate()
            .filter(|&(at, k)| {
                if scanned {
                    self.read_at & (1 << at) == 0
                } else {
                    !self.read.contains(&k.as_str())
                }
            })
            .map(|(_, k)| k)
            .collect();
        for key in unknown {
            self.problems.add(
                key.as_str(),
                ValidationCode::UnknownField,
                "is not a known field",
            );
        }
        self.problems
    }
}

/// The text of a JSON string, moved out of an owned value; `None` for
/// any other value.
fn string(v: Cow<'_, Value>) -> Option<String> {
    match v {
        Cow::Borrowed(Value::String(s)) => Some(s.clone()),
        Cow::Owned(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// The input form of a kind ([`NewUser`](crate::NewUser),
/// [`NewRole`](crate::NewRole), [`NewClient`](crate::NewClient)): read from
/// a JSON document field by field, then checked by the kind's rules.
pub(crate) trait Input: Sized {
    /// The field ids of the kind, whose read-only keys an input may not hold.
    type Field: FieldId;

    /// Reads every field of the form from `f` (shape only; a missing or
    /// mistyped field reads as its default and is a problem of `f`).
    fn read(f: &mut Fields<'_>) -> Self;

    /// Every field rule of the kind (docs/reference/documents.md) that this input breaks.
    fn problems(&self) -> Problems;

    /// The member `key` of the document this input reads back from, as
    /// JSON, moved out of the input (`Some(None)`: absent), so that a patch
    /// touching only some members need not build the whole document;
    /// `None` when `key` is not a member [`Input::read_member`] reads.
    fn take_member(&mut self, key: &str) -> Option<Option<Value>> {
        let _ = key;
        None
    }

    /// Reads the member `key` from `f` into this input as [`Input::read`]
    /// reads it; false when `key` is not one it reads on its own.
    fn read_member(&mut self, f: &mut Fields<'_>, key: &str) -> bool {
        let _ = (f, key);
        false
    }
}

/// `input` with each of the members `keys` read from `doc` (an object
/// holding at most those keys; one absent reads as absent) as [`parse`]
/// reads them; `None` when a key is not one the input reads on its own, or
/// when any field, read so, has a problem (the caller then reads the whole
/// document, which reports every problem).
pub(crate) fn with_members<I: Input>(mut input: I, keys: &[String], doc: &Value) -> Option<I> {
    let mut f = Fields::of(doc).ok()?;
    for key in keys {
        if !input.read_member(&mut f, key) {
            return None;
        }
    }
    let mut problems = f.finish();
    problems.merge(input.problems());
    problems.into_result().ok().map(|()| input)
}

/// Reads an input form from its JSON document: `Validation` naming every
/// unknown, read-only, missing, mistyped or invalid field at once.
pub(crate) fn parse<I: Input>(doc: &Value) -> Result<I> {
    read_whole(Fields::of(doc)?)
}

/// [`parse`], moving the document's strings, lists and objects into the
/// form instead of copying them.
pub(crate) fn parse_owned<I: Input>(mut doc: Value) -> Result<I> {
    read_whole(Fields::of_owned(&mut doc)?)
}

/// Reads a whole input form from `f`.
fn read_whole<I: Input>(mut f: Fields<'_>) -> Result<I> {
    f.read_only(I::Field::lists().read_only());
    let input = I::read(&mut f);
    let mut problems = f.finish();
    problems.merge(input.problems());
    problems.into_result().map(|()| input)
}

/// An input form read from a whole JSON document (read-only keys absent):
/// what an update's new document is read back into.
#[doc(hidden)]
pub trait FromDocument: Sized {
    /// Reads the form: `Validation` naming every bad field at once.
    fn from_document(doc: &Value) -> Result<Self>;

    /// [`FromDocument::from_document`], moving the document's strings,
    /// lists and objects into the form instead of copying them.
    fn from_owned_document(doc: Value) -> Result<Self>;

    /// The member `key` of this form's document as JSON, moved out of the
    /// form (`Some(None)`: absent); `None` when the form does not read
    /// `key` on its own (see [`FromDocument::with_members`]).
    fn take_member(&mut self, key: &str) -> Option<Option<Value>>;

    /// This form with each of the members `keys` read from `doc` (an
    /// object holding at most those keys) as [`FromDocument::from_document`]
    /// reads them, its other fields kept: what `from_document` reads from
    /// the whole document when this form's own document differs only in
    /// those members. `None` when a key is not one the form reads on its
    /// own, or when the form, read so, breaks any rule: then the whole
    /// document must be read, which names every problem.
    fn with_members(self, keys: &[String], doc: &Value) -> Option<Self>;
}

/// The public `from_json` and `validate` of an input form, and its
/// [`FromDocument`]: `$New` is the
/// form, `$what` names what it creates (`"a user"`), `$rules` the rules
/// `validate` checks (`"docs/reference/documents.md, Roles"`).
macro_rules! input_methods {
    ($New:ident, $what:literal, $rules:literal) => {
        impl $New {
            #[doc = concat!(
                        "Reads ", $what, " to create from its JSON document: `Validation` naming ",
                        "every unknown, read-only, missing, mistyped or invalid field at once."
                    )]
            pub fn from_json(doc: &serde_json::Value) -> $crate::Result<Self> {
                $crate::documents::input::parse(doc)
            }

            #[doc = concat!(
                        "Reads ", $what, " to create from its JSON document as a view scoped to ",
                        "`scope` (`None`: the whole store) reads it, which is what ",
                        "[`Collection::input_from_json`](crate::Collection::input_from_json) ",
                        "does without the view: `Validation` naming every field [`Self::from_json`] ",
                        "refuses and, at once, a `tenant` other than `scope`."
                    )]
            pub fn from_json_in(doc: &serde_json::Value, scope: Option<&str>) -> $crate::Result<Self> {
                $crate::api::collection::input_in_scope(scope, doc)
            }

            #[doc = concat!(
                        "Reads ", $what, " to create from its JSON document, which it consumes, ",
                        "as [`Self::from_json_in`] reads it (the same `Validation` errors), ",
                        "moving the document's strings, lists and objects into the form ",
                        "instead of copying them; the form comes back ",
                        "[`Validated`](crate::Validated). Of the creates, only the users' bulk ",
                        "create ([`Collection::create_many_validated`](crate::Collection::create_many_validated)) ",
                        "takes one and leaves its field rules unchecked; every other create ",
                        "takes the plain form (`into_input`) and checks it."
                    )]
            pub fn validated_from_json(
                doc: serde_json::Value,
                scope: Option<&str>,
            ) -> $crate::Result<$crate::Validated<Self>> {
                $crate::api::collection::owned_input_in_scope(scope, doc)
                    .map($crate::Validated::checked)
            }

            #[doc = concat!(
                        "Checks every field rule of ", $rules,
                        ": `Validation` naming every failing field at once."
                    )]
            pub fn validate(&self) -> $crate::Result<()> {
                $crate::documents::input::Input::problems(self).into_result()
            }

            #[doc = concat!(
                        "This form, [`Validated`](crate::Validated) once it passes ",
                        "[`Self::validate`] (else that check's `Validation` error)."
                    )]
            pub fn validated(self) -> $crate::Result<$crate::Validated<Self>> {
                self.validate().map(|()| $crate::Validated::checked(self))
            }
        }

        impl $crate::documents::input::FromDocument for $New {
            fn from_document(doc: &serde_json::Value) -> $crate::Result<Self> {
                $New::from_json(doc)
            }

            fn from_owned_document(doc: serde_json::Value) -> $crate::Result<Self> {
                $crate::documents::input::parse_owned(doc)
            }

            fn take_member(&mut self, key: &str) -> Option<Option<serde_json::Value>> {
                $crate::documents::input::Input::take_member(self, key)
            }

            fn with_members(self, keys: &[String], doc: &serde_json::Value) -> Option<Self> {
                $crate::documents::input::with_members(self, keys, doc)
            }
        }
    };
}
pub(crate) use input_methods;
