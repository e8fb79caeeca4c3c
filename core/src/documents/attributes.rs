//! A user's `attributes` as its document holds them ([`Attributes`]): a
//! JSON object that a read keeps in its stored form and decodes only when
//! something first looks into it.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::Error;
use crate::documents::json_build::{self, AsValue, JsonBuilder};

/// The stored bytes of an empty object: `Json::Obj` (variant 7) of no
/// members, as postcard writes them.
const EMPTY_OBJECT: [u8; 2] = [7, 0];

/// A user's free-form profile fields: a JSON object of at most
/// [`MAX_ATTRIBUTES_DEPTH`](crate::MAX_ATTRIBUTES_DEPTH) levels
/// (docs/reference/documents.md, Users).
///
/// It reads as a `serde_json::Map<String, Value>` (it dereferences to one,
/// mutably too) and serializes as that map. A document the store reads
/// holds the attributes as the record stored them and decodes them into
/// the map the first time anything reads them, once: a read that never
/// looks at them (a page shown by id and name, a login) never pays for
/// their maps. The stored bytes were checked as the record was read, by
/// the same reads the decoding does, so decoding cannot fail later.
///
/// Equality compares the maps as `serde_json::Map` does (the same
/// members, in any order).
#[derive(Default)]
pub struct Attributes {
    /// The map, once decoded (or given).
    map: OnceLock<Map<String, Value>>,
    /// The record's stored `Json` object while `map` is not yet decoded;
    /// empty otherwise.
    stored: Box<[u8]>,
}

impl Attributes {
    /// No attributes: the empty object.
    pub fn new() -> Self {
        Attributes::default()
    }

    /// Attributes kept in their stored form (a postcard-encoded `Json`
    /// value that a read has checked with `json_build::SkipJson`), decoded on
    /// first use.
    pub(crate) fn stored(bytes: &[u8]) -> Self {
        // A record's attributes are an object; anything else shows none (as
        // `Json::to_map`). An object's bytes start with its variant, 7.
        if bytes == EMPTY_OBJECT || bytes.first() != EMPTY_OBJECT.first() {
            return Attributes::default();
        }
        Attributes {
            map: OnceLock::new(),
            stored: bytes.into(),
        }
    }

    /// The attributes' object built by `builder` (a binding's own objects,
    /// say): straight from the stored bytes while they are not decoded, no
    /// map in between, else from the map. Members come in order; numbers
    /// as [`JsonBuilder`] says.
    ///
    /// Errors: the builder's own; a `Storage` error (as `B::Error`) only
    /// for bytes that did not decode, which the read that made these
    /// attributes has ruled out.
    pub fn build<B>(&self, builder: &mut B) -> std::result::Result<B::Out, B::Error>
    where
        B: JsonBuilder,
        B::Error: From<Error>,
    {
        match self.map.get() {
            Some(map) => json_build::build_map(map, builder),
            None if self.stored.is_empty() => {
                let object = builder.object(0)?;
                builder.end_object(object)
            }
            None => json_build::build(&self.stored, builder),
        }
    }

    /// The map, taken out.
    pub fn into_map(self) -> Map<String, Value> {
        let Attributes { map, stored } = self;
        map.into_inner().unwrap_or_else(|| decode(&stored))
    }

    /// The map, decoded now if it was not yet.
    fn map(&self) -> &Map<String, Value> {
        self.map.get_or_init(|| decode(&self.stored))
    }
}

/// The map that stored bytes hold: their object's members, or none when
/// they hold another JSON value (as `Json::to_map` shows one).
///
/// The bytes were read once already, by `json_build::SkipJson`, which makes the
/// same reads as `AsValue` in the same order; so they decode here. Were
/// they ever not to, the attributes would show as empty rather than take
/// the process down (a debug build stops there).
fn decode(stored: &[u8]) -> Map<String, Value> {
    if stored.is_empty() {
        return Map::new();
    }
    match postcard::from_bytes::<AsValue>(stored) {
        Ok(AsValue(Value::Object(members))) => members,
        Ok(_) => Map::new(),
        Err(e) => {
            debug_assert!(false, "checked attributes did not decode: {e}");
            Map::new()
        }
    }
}

impl Deref for Attributes {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Map<String, Value> {
        self.map()
    }
}

impl DerefMut for Attributes {
    fn deref_mut(&mut self) -> &mut Map<String, Value> {
        if self.map.get().is_none() {
            let map = decode(&self.stored);
            self.map = OnceLock::from(map);
        }
        self.stored = Box::default();
        self.map
            .get_mut()
            .unwrap_or_else(|| unreachable!("decoded just above"))
    }
}

impl From<Map<String, Value>> for Attributes {
    fn from(map: Map<String, Value>) -> Self {
        Attributes {
            map: OnceLock::from(map),
            stored: Box::default(),
        }
    }
}

impl From<Attributes> for Map<String, Value> {
    fn from(attributes: Attributes) -> Self {
        attributes.into_map()
    }
}

impl Clone for Attributes {
    fn clone(&self) -> Self {
        Attributes {
            map: self.map.clone(),
            stored: self.stored.clone(),
        }
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.map(), f)
    }
}

impl PartialEq for Attributes {
    fn eq(&self, other: &Attributes) -> bool {
        self.map() == other.map()
    }
}

impl PartialEq<Map<String, Value>> for Attributes {
    fn eq(&self, other: &Map<String, Value>) -> bool {
        self.map() == other
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = (&'a String, &'a Value);
    type IntoIter = serde_json::map::Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.map().iter()
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.map().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Attributes, D::Error> {
        Map::deserialize(d).map(Attributes::from)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::documents::json::Json;

    fn stored(value: &Value) -> Vec<u8> {
        postcard::to_allocvec(&Json::from(value)).unwrap()
    }

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn stored_attributes_decode_on_first_read_to_the_stored_object() {
        let value = json!({"b": 1, "a": [true, null, 2.5, "x"], "o": {"k": -3}});
        let bytes = stored(&value);
        let attributes = Attributes::stored(&bytes);
        assert!(attributes.map.get().is_none(), "decoded before any read");
        assert_eq!(attributes.get("o"), Some(&json!({"k": -3})));
        assert!(attributes.map.get().is_some());
        assert_eq!(attributes, map(value.clone()));
        let keys: Vec<&String> = attributes.keys().collect();
        assert_eq!(keys, ["b", "a", "o"], "stored member order kept");
        assert_eq!(Attributes::stored(&bytes).into_map(), map(value));
    }

    #[test]
    fn builds_see_the_same_object_stored_decoded_or_given() {
        use crate::documents::json_build::tests::Picky;
        let value = json!({"b": 1, "a": [true, null, 2.5, "x"], "o": {"k": -3}});
        let bytes = stored(&value);
        let lazy = Attributes::stored(&bytes);
        assert_eq!(lazy.build(&mut Picky).unwrap(), value);
        assert!(lazy.map.get().is_none(), "a build decodes no map");
        let _ = lazy.len();
        assert_eq!(lazy.build(&mut Picky).unwrap(), value);
        assert_eq!(
            Attributes::from(map(value.clone()))
                .build(&mut Picky)
                .unwrap(),
            value
        );
        assert_eq!(Attributes::new().build(&mut Picky).unwrap(), json!({}));
        let boom = Attributes::stored(&stored(&json!({"k": "boom"})));
        assert_eq!(boom.build(&mut Picky).unwrap_err(), "no booms");
    }

    #[test]
    fn the_empty_object_keeps_no_bytes() {
        let bytes = stored(&json!({}));
        assert_eq!(bytes, EMPTY_OBJECT);
        let attributes = Attributes::stored(&bytes);
        assert!(attributes.stored.is_empty());
        assert!(attributes.is_empty());
    }

    #[test]
    fn a_stored_value_other_than_an_object_shows_no_attributes() {
        assert!(Attributes::stored(&stored(&json!([1, 2]))).is_empty());
        assert!(Attributes::stored(&stored(&json!(null))).is_empty());
    }

    #[test]
    fn changes_go_to_the_decoded_map_and_the_stored_bytes_are_dropped() {
        let mut attributes = Attributes::stored(&stored(&json!({"a": 1})));
        attributes.insert("b".into(), json!(2));
        assert!(attributes.stored.is_empty());
        assert_eq!(attributes, map(json!({"a": 1, "b": 2})));
        let copy = attributes.clone();
        assert_eq!(copy, attributes);
    }

    #[test]
    fn clones_equality_debug_and_serde_see_the_map() {
        let value = json!({"title": "Dr", "n": [1, {"x": null}]});
        let lazy = Attributes::stored(&stored(&value));
        let given = Attributes::from(map(value.clone()));
        assert_eq!(lazy.clone(), given);
        assert_eq!(format!("{lazy:?}"), format!("{:?}", map(value.clone())));
        assert_eq!(serde_json::to_value(&lazy).unwrap(), value);
        let back: Attributes = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(back, given);
        let pairs: Vec<(&String, &Value)> = (&lazy).into_iter().collect();
        assert_eq!(pairs.len(), 2);
        assert_ne!(lazy, Attributes::new());
    }
}
