//! Reading a stored JSON tree ([`Json`](crate::documents::json::Json)'s
//! postcard bytes) straight into whatever a caller builds of it
//! ([`JsonBuilder`]): a `serde_json::Value` ([`AsValue`]), nothing at all
//! (a check, [`SkipJson`]), or a binding's own objects. One reader for all
//! of them, so every build makes the same reads in the same order and the
//! same bytes give the same value or the same error.

use serde::de::{DeserializeSeed, Deserializer, EnumAccess, SeqAccess, VariantAccess, Visitor};
use serde::{Deserialize, de};
use serde_json::{Map, Number, Value};

use crate::Error;

/// What a JSON object is built into, a value at a time, leaves first: the
/// values of [`Attributes::build`](crate::Attributes::build).
///
/// A stored number is built as it was stored: a non-negative integer by
/// [`JsonBuilder::u64`], a negative one by [`JsonBuilder::i64`], any other
/// by [`JsonBuilder::f64`] (finite; JSON has no other). Object members come
/// in their stored order; a key stored twice comes twice, the later value
/// winning as it does in a `serde_json::Map` (RFC 8259 §4 leaves duplicate
/// names to the reader).
pub trait JsonBuilder {
    /// A built value.
    type Out;
    /// An array being built.
    type Array;
    /// An object being built.
    type Object;
    /// Why building failed.
    type Error;

    /// `null`.
    fn null(&mut self) -> Result<Self::Out, Self::Error>;
    /// `true` or `false`.
    fn bool(&mut self, value: bool) -> Result<Self::Out, Self::Error>;
    /// A non-negative integer.
    fn u64(&mut self, value: u64) -> Result<Self::Out, Self::Error>;
    /// A negative integer.
    fn i64(&mut self, value: i64) -> Result<Self::Out, Self::Error>;
    /// A finite number that is not an integer, or was stored as a float.
    fn f64(&mut self, value: f64) -> Result<Self::Out, Self::Error>;
    /// A string.
    fn str(&mut self, value: &str) -> Result<Self::Out, Self::Error>;
    /// An array of about `len` items (a hint), to fill with [`JsonBuilder::item`].
    fn array(&mut self, len: usize) -> Result<Self::Array, Self::Error>;
    /// The next item of `array`.
    fn item(&mut self, array: &mut Self::Array, item: Self::Out) -> Result<(), Self::Error>;
    /// The finished array.
    fn end_array(&mut self, array: Self::Array) -> Result<Self::Out, Self::Error>;
    /// An object of about `len` members (a hint), to fill with [`JsonBuilder::member`].
    fn object(&mut self, len: usize) -> Result<Self::Object, Self::Error>;
    /// The next member of `object`.
    fn member(
        &mut self,
        object: &mut Self::Object,
        key: &str,
        value: Self::Out,
    ) -> Result<(), Self::Error>;
    /// The finished object.
    fn end_object(&mut self, object: Self::Object) -> Result<Self::Out, Self::Error>;
}

/// The variants of [`Json`](crate::documents::json::Json), in their stored order.
const VARIANTS: &[&str] = &["Null", "Bool", "U64", "I64", "F64", "Str", "Arr", "Obj"];

/// A capacity hint for a sequence of `hint` items read from stored bytes,
/// bounded as serde bounds it (damaged bytes may claim any length).
fn cautious(hint: Option<usize>) -> usize {
    hint.unwrap_or(0).min(4096)
}

/// The value stored bytes hold, built by `builder`.
///
/// Errors: the builder's own, or a `Storage` error (as `B::Error`) when
/// the bytes do not hold one `Json` value and nothing after it.
pub(crate) fn build<B>(bytes: &[u8], builder: &mut B) -> Result<B::Out, B::Error>
where
    B: JsonBuilder,
    B::Error: From<Error>,
{
    let mut failed = None;
    let mut de = postcard::Deserializer::from_bytes(bytes);
    let built = Build {
        builder,
        failed: &mut failed,
    }
    .deserialize(&mut de);
    if let Some(e) = failed {
        return Err(e);
    }
    let corrupt = |e: postcard::Error| Error::storage(format!("corrupt attributes: {e}"));
    let built = built.map_err(corrupt)?;
    match de.finalize().map_err(corrupt)? {
        [] => Ok(built),
        rest => Err(Error::storage(format!(
            "corrupt attributes: trailing data ({} bytes)",
            rest.len()
        ))
        .into()),
    }
}

/// Builds a `serde_json::Map` (or `Value`) from a map's values, with `builder`.
///
/// Errors: the builder's own.
pub(crate) fn build_map<B: JsonBuilder>(
    map: &Map<String, Value>,
    builder: &mut B,
) -> Result<B::Out, B::Error> {
    let mut object = builder.object(map.len())?;
    for (key, value) in map {
        let value = build_value(value, builder)?;
        builder.member(&mut object, key, value)?;
    }
    builder.end_object(object)
}

/// [`build_map`] for any JSON value.
fn build_value<B: JsonBuilder>(value: &Value, builder: &mut B) -> Result<B::Out, B::Error> {
    match value {
        Value::Null => builder.null(),
        Value::Bool(b) => builder.bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => builder.u64(u),
            (None, Some(i), _) => builder.i64(i),
            (None, None, Some(f)) if f.is_finite() => builder.f64(f),
            _ => builder.null(),
        },
        Value::String(s) => builder.str(s),
        Value::Array(items) => {
            let mut array = builder.array(items.len())?;
            for item in items {
                let item = build_value(item, builder)?;
                builder.item(&mut array, item)?;
            }
            builder.end_array(array)
        }
        Value::Object(map) => build_map(map, builder),
    }
}

/// Reads one stored `Json` value into `builder`; a builder's error is kept
/// in `failed` (serde's error carries only text).
struct Build<'b, 'f, B: JsonBuilder> {
    builder: &'b mut B,
    failed: &'f mut Option<B::Error>,
}

impl<B: JsonBuilder> Build<'_, '_, B> {
    /// A builder's result, its error kept for the caller.
    fn keep<T, E: de::Error>(&mut self, result: Result<T, B::Error>) -> Result<T, E> {
        result.map_err(|e| {
            *self.failed = Some(e);
            E::custom("the builder failed")
        })
    }

    /// The same builder and error slot, for a nested value.
    fn nested(&mut self) -> Build<'_, '_, B> {
        Build {
            builder: self.builder,
            failed: self.failed,
        }
    }
}

impl<'de, B: JsonBuilder> DeserializeSeed<'de> for Build<'_, '_, B> {
    type Value = B::Out;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<B::Out, D::Error> {
        d.deserialize_enum("Json", VARIANTS, self)
    }
}

impl<'de, B: JsonBuilder> Visitor<'de> for Build<'_, '_, B> {
    type Value = B::Out;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("enum Json")
    }

    fn visit_enum<A: EnumAccess<'de>>(mut self, data: A) -> Result<B::Out, A::Error> {
        let (index, variant) = data.variant::<u32>()?;
        let built = match index {
            0 => {
                variant.unit_variant()?;
                self.builder.null()
            }
            1 => {
                let b = variant.newtype_variant()?;
                self.builder.bool(b)
            }
            2 => {
                let n = variant.newtype_variant()?;
                self.builder.u64(n)
            }
            3 => {
                let n = variant.newtype_variant()?;
                self.builder.i64(n)
            }
            4 => {
                // As `Json::to_value`: a float JSON cannot write is null.
                let f: f64 = variant.newtype_variant()?;
                match Number::from_f64(f) {
                    Some(_) => self.builder.f64(f),
                    None => self.builder.null(),
                }
            }
            5 => {
                let seed = Text {
                    build: self.nested(),
                };
                return variant.newtype_variant_seed(seed);
            }
            6 => {
                let seed = Items {
                    build: self.nested(),
                };
                return variant.newtype_variant_seed(seed);
            }
            7 => {
                let seed = Members {
                    build: self.nested(),
                };
                return variant.newtype_variant_seed(seed);
            }
            other => {
                return Err(de::Error::invalid_value(
                    de::Unexpected::Unsigned(u64::from(other)),
                    &"variant index 0 <= i < 8",
                ));
            }
        };
        self.keep(built)
    }
}

/// A stored string, built without a copy of its own.
struct Text<'b, 'f, B: JsonBuilder> {
    build: Build<'b, 'f, B>,
}

impl<'de, B: JsonBuilder> DeserializeSeed<'de> for Text<'_, '_, B> {
    type Value = B::Out;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<B::Out, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, B: JsonBuilder> Visitor<'de> for Text<'_, '_, B> {
    type Value = B::Out;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(mut self, s: &str) -> Result<B::Out, E> {
        let built = self.build.builder.str(s);
        self.build.keep(built)
    }
}

/// The items of a stored array.
struct Items<'b, 'f, B: JsonBuilder> {
    build: Build<'b, 'f, B>,
}

impl<'de, B: JsonBuilder> DeserializeSeed<'de> for Items<'_, '_, B> {
    type Value = B::Out;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<B::Out, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, B: JsonBuilder> Visitor<'de> for Items<'_, '_, B> {
    type Value = B::Out;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<B::Out, A::Error> {
        let array = self.build.builder.array(cautious(seq.size_hint()));
        let mut array = self.build.keep(array)?;
        while let Some(item) = seq.next_element_seed(self.build.nested())? {
            let pushed = self.build.builder.item(&mut array, item);
            self.build.keep(pushed)?;
        }
        let built = self.build.builder.end_array(array);
        self.build.keep(built)
    }
}

/// The members of a stored object: (key, value) pairs in their order.
struct Members<'b, 'f, B: JsonBuilder> {
    build: Build<'b, 'f, B>,
}

impl<'de, B: JsonBuilder> DeserializeSeed<'de> for Members<'_, '_, B> {
    type Value = B::Out;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<B::Out, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, B: JsonBuilder> Visitor<'de> for Members<'_, '_, B> {
    type Value = B::Out;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<B::Out, A::Error> {
        let object = self.build.builder.object(cautious(seq.size_hint()));
        let mut object = self.build.keep(object)?;
        while seq
            .next_element_seed(Member {
                build: self.build.nested(),
                object: &mut object,
            })?
            .is_some()
        {}
        let built = self.build.builder.end_object(object);
        self.build.keep(built)
    }
}

/// One member of a stored object, a (key, value) pair, added to `object`.
struct Member<'b, 'f, 'o, B: JsonBuilder> {
    build: Build<'b, 'f, B>,
    object: &'o mut B::Object,
}

impl<'de, B: JsonBuilder> DeserializeSeed<'de> for Member<'_, '_, '_, B> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_tuple(2, self)
    }
}

impl<'de, B: JsonBuilder> Visitor<'de> for Member<'_, '_, '_, B> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a (key, value) pair")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        let Some(Key(key)) = seq.next_element::<Key<'de>>()? else {
            return Err(de::Error::invalid_length(0, &self));
        };
        let Some(value) = seq.next_element_seed(self.build.nested())? else {
            return Err(de::Error::invalid_length(1, &self));
        };
        let added = self.build.builder.member(self.object, &key, value);
        self.build.keep(added)
    }
}

/// An object member's key: borrowed from the stored bytes where the
/// deserializer lends them, copied where it does not.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(s.into()))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(s.to_owned().into()))
            }
        }
        d.deserialize_str(Visit)
    }
}

/// Builds `serde_json` values.
struct ValueBuilder;

impl JsonBuilder for ValueBuilder {
    type Out = Value;
    type Array = Vec<Value>;
    type Object = Map<String, Value>;
    type Error = std::convert::Infallible;

    fn null(&mut self) -> Result<Value, Self::Error> {
        Ok(Value::Null)
    }
    fn bool(&mut self, value: bool) -> Result<Value, Self::Error> {
        Ok(Value::Bool(value))
    }
    fn u64(&mut self, value: u64) -> Result<Value, Self::Error> {
        Ok(Value::from(value))
    }
    fn i64(&mut self, value: i64) -> Result<Value, Self::Error> {
        Ok(Value::from(value))
    }
    fn f64(&mut self, value: f64) -> Result<Value, Self::Error> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }
    fn str(&mut self, value: &str) -> Result<Value, Self::Error> {
        Ok(Value::String(value.to_owned()))
    }
    fn array(&mut self, len: usize) -> Result<Vec<Value>, Self::Error> {
        Ok(Vec::with_capacity(len))
    }
    fn item(&mut self, array: &mut Vec<Value>, item: Value) -> Result<(), Self::Error> {
        array.push(item);
        Ok(())
    }
    fn end_array(&mut self, array: Vec<Value>) -> Result<Value, Self::Error> {
        Ok(Value::Array(array))
    }
    fn object(&mut self, len: usize) -> Result<Map<String, Value>, Self::Error> {
        Ok(Map::with_capacity(len))
    }
    fn member(
        &mut self,
        object: &mut Map<String, Value>,
        key: &str,
        value: Value,
    ) -> Result<(), Self::Error> {
        object.insert(key.to_owned(), value);
        Ok(())
    }
    fn end_object(&mut self, object: Map<String, Value>) -> Result<Value, Self::Error> {
        Ok(Value::Object(object))
    }
}

/// Builds nothing: reading with it checks the bytes.
struct Skip;

impl JsonBuilder for Skip {
    type Out = ();
    type Array = ();
    type Object = ();
    type Error = std::convert::Infallible;

    fn null(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    fn bool(&mut self, _: bool) -> Result<(), Self::Error> {
        Ok(())
    }
    fn u64(&mut self, _: u64) -> Result<(), Self::Error> {
        Ok(())
    }
    fn i64(&mut self, _: i64) -> Result<(), Self::Error> {
        Ok(())
    }
    fn f64(&mut self, _: f64) -> Result<(), Self::Error> {
        Ok(())
    }
    fn str(&mut self, _: &str) -> Result<(), Self::Error> {
        Ok(())
    }
    fn array(&mut self, _: usize) -> Result<(), Self::Error> {
        Ok(())
    }
    fn item(&mut self, (): &mut (), (): ()) -> Result<(), Self::Error> {
        Ok(())
    }
    fn end_array(&mut self, (): ()) -> Result<(), Self::Error> {
        Ok(())
    }
    fn object(&mut self, _: usize) -> Result<(), Self::Error> {
        Ok(())
    }
    fn member(&mut self, (): &mut (), _: &str, (): ()) -> Result<(), Self::Error> {
        Ok(())
    }
    fn end_object(&mut self, (): ()) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A stored value read with a builder that cannot fail.
fn infallible<'de, D: Deserializer<'de>, B: JsonBuilder<Error = std::convert::Infallible>>(
    d: D,
    mut builder: B,
) -> Result<B::Out, D::Error> {
    Build {
        builder: &mut builder,
        failed: &mut None,
    }
    .deserialize(d)
}

/// A stored [`Json`](crate::documents::json::Json) value decoded straight
/// into a `serde_json::Value`, without the `Json` tree in between.
pub(crate) struct AsValue(pub(crate) Value);

impl<'de> Deserialize<'de> for AsValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AsValue, D::Error> {
        infallible(d, ValueBuilder).map(AsValue)
    }
}

/// A stored [`Json`](crate::documents::json::Json) value read and checked,
/// not kept (strings are checked as UTF-8): bytes it accepts, every other
/// build accepts.
pub(crate) struct SkipJson;

impl<'de> Deserialize<'de> for SkipJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SkipJson, D::Error> {
        infallible(d, Skip).map(|()| SkipJson)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;

    use super::*;
    use crate::documents::json::Json;

    /// Builds a `Value`, as [`ValueBuilder`], but fails on the string "boom".
    pub(crate) struct Picky;

    impl JsonBuilder for Picky {
        type Out = Value;
        type Array = Vec<Value>;
        type Object = Map<String, Value>;
        type Error = String;

        fn null(&mut self) -> Result<Value, String> {
            Ok(Value::Null)
        }
        fn bool(&mut self, value: bool) -> Result<Value, String> {
            Ok(value.into())
        }
        fn u64(&mut self, value: u64) -> Result<Value, String> {
            Ok(value.into())
        }
        fn i64(&mut self, value: i64) -> Result<Value, String> {
            Ok(value.into())
        }
        fn f64(&mut self, value: f64) -> Result<Value, String> {
            Ok(value.into())
        }
        fn str(&mut self, value: &str) -> Result<Value, String> {
            match value {
                "boom" => Err("no booms".into()),
                _ => Ok(value.into()),
            }
        }
        fn array(&mut self, len: usize) -> Result<Vec<Value>, String> {
            Ok(Vec::with_capacity(len))
        }
        fn item(&mut self, array: &mut Vec<Value>, item: Value) -> Result<(), String> {
            array.push(item);
            Ok(())
        }
        fn end_array(&mut self, array: Vec<Value>) -> Result<Value, String> {
            Ok(array.into())
        }
        fn object(&mut self, len: usize) -> Result<Map<String, Value>, String> {
            Ok(Map::with_capacity(len))
        }
        fn member(&mut self, o: &mut Map<String, Value>, k: &str, v: Value) -> Result<(), String> {
            o.insert(k.into(), v);
            Ok(())
        }
        fn end_object(&mut self, object: Map<String, Value>) -> Result<Value, String> {
            Ok(object.into())
        }
    }

    impl From<Error> for String {
        fn from(e: Error) -> String {
            format!("store: {e}")
        }
    }

    fn bytes(json: &Json) -> Vec<u8> {
        postcard::to_allocvec(json).unwrap()
    }

    fn samples() -> Vec<Json> {
        vec![
            Json::from(&json!({"b": 1, "a": [true, null, 2.5, "x", -7], "o": {"k": {"deep": []}}})),
            Json::from(&json!([])),
            Json::from(&json!("text")),
            Json::Obj(vec![
                ("x".into(), Json::F64(f64::NAN)),
                ("y".into(), Json::F64(-0.5)),
                ("z".into(), Json::F64(2.0)),
                ("x".into(), Json::I64(-3)),
                ("inf".into(), Json::F64(f64::INFINITY)),
            ]),
            Json::Null,
        ]
    }

    #[test]
    fn every_build_reads_what_the_stored_tree_holds() {
        for json in samples() {
            let stored = bytes(&json);
            let want = json.to_value();
            assert_eq!(postcard::from_bytes::<AsValue>(&stored).unwrap().0, want);
            assert_eq!(build(&stored, &mut Picky).unwrap(), want);
            postcard::from_bytes::<SkipJson>(&stored).unwrap();
            if let Value::Object(map) = &want {
                assert_eq!(build_map(map, &mut Picky).unwrap(), want);
            }
        }
    }

    #[test]
    fn a_key_stored_twice_keeps_its_first_place_and_last_value() {
        let json = Json::Obj(vec![
            ("x".into(), Json::U64(1)),
            ("y".into(), Json::U64(2)),
            ("x".into(), Json::U64(3)),
        ]);
        let built = build(&bytes(&json), &mut Picky).unwrap();
        let keys: Vec<&String> = built.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["x", "y"]);
        assert_eq!(built, json!({"x": 3, "y": 2}));
    }

    #[test]
    fn a_builders_error_comes_back_as_it_was_raised() {
        let json = Json::from(&json!({"a": [1, {"b": "boom"}]}));
        assert_eq!(build(&bytes(&json), &mut Picky).unwrap_err(), "no booms");
        let map = json.to_map();
        assert_eq!(build_map(&map, &mut Picky).unwrap_err(), "no booms");
    }

    #[test]
    fn damaged_bytes_are_a_storage_error_for_every_build_alike() {
        let stored = bytes(&samples()[0]);
        let mut cases: Vec<Vec<u8>> = (0..stored.len()).map(|n| stored[..n].to_vec()).collect();
        cases.push(vec![8]);
        cases.push(vec![5, 2, 0xff, 0xfe]);
        for case in cases {
            let value = postcard::from_bytes::<AsValue>(&case).map(|v| v.0);
            let skip = postcard::from_bytes::<SkipJson>(&case).map(|_| ());
            let built = build(&case, &mut Picky);
            assert_eq!(value.is_ok(), skip.is_ok(), "{case:?}");
            assert_eq!(value.is_ok(), built.is_ok(), "{case:?}");
            if let Err(e) = built {
                assert!(
                    e.starts_with("store: ") && e.contains("corrupt attributes"),
                    "{e}"
                );
            }
        }
        let trailing = [stored.as_slice(), &[0]].concat();
        let e = build(&trailing, &mut Picky).unwrap_err();
        assert!(e.contains("trailing data (1 bytes)"), "{e}");
    }
}
