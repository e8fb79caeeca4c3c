//! A JSON tree the storage format can hold (postcard is not self-describing,
//! so `serde_json::Value` cannot be stored directly).

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

/// A stored JSON value; object members keep their order.
///
/// Equality is JSON's value equality (docs/reference/queries.md, Semantics): numbers compare by
/// value (`1` = `1.0`, exactly for integers a double cannot hold) and object
/// members in any order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A non-negative integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
    /// A number with a fraction or exponent.
    F64(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, members in order.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Converts a JSON object.
    pub fn from_map(map: &Map<String, Value>) -> Json {
        Json::Obj(
            map.iter()
                .map(|(k, v)| (k.clone(), Json::from(v)))
                .collect(),
        )
    }

    /// [`Json::from_map`], moving the members' keys and strings instead
    /// of copying them.
    pub fn from_owned_map(map: Map<String, Value>) -> Json {
        Json::Obj(
            map.into_iter()
                .map(|(k, v)| (k, Json::from_owned(v)))
                .collect(),
        )
    }

    /// `Json::from(&value)`, moving strings instead of copying them.
    pub fn from_owned(value: Value) -> Json {
        match value {
            Value::String(s) => Json::Str(s),
            Value::Array(items) => Json::Arr(items.into_iter().map(Json::from_owned).collect()),
            Value::Object(map) => Json::from_owned_map(map),
            other => Json::from(&other),
        }
    }

    /// Converts to a JSON object (members of a non-object are none).
    pub fn to_map(&self) -> Map<String, Value> {
        match self {
            Json::Obj(members) => members
                .iter()
                .map(|(k, v)| (k.clone(), v.to_value()))
                .collect(),
            _ => Map::new(),
        }
    }

    /// Converts to a JSON object (members of a non-object are none),
    /// moving the members' keys and strings instead of copying them.
    pub fn into_map(self) -> Map<String, Value> {
        match self {
            Json::Obj(members) => members
                .into_iter()
                .map(|(k, v)| (k, v.into_value()))
                .collect(),
            _ => Map::new(),
        }
    }

    /// Converts to a `serde_json::Value`, moving strings instead of
    /// copying them.
    pub fn into_value(self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::U64(n) => Value::from(n),
            Json::I64(n) => Value::from(n),
            Json::F64(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            Json::Str(s) => Value::String(s),
            Json::Arr(items) => Value::Array(items.into_iter().map(Json::into_value).collect()),
            obj @ Json::Obj(_) => Value::Object(obj.into_map()),
        }
    }

    /// Converts to a `serde_json::Value`.
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::U64(n) => Value::from(*n),
            Json::I64(n) => Value::from(*n),
            Json::F64(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Json::Str(s) => Value::String(s.clone()),
            Json::Arr(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Obj(_) => Value::Object(self.to_map()),
        }
    }
}

impl From<&Value> for Json {
    fn from(value: &Value) -> Json {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Json::U64(u),
                (None, Some(i)) => Json::I64(i),
                // serde_json numbers are finite, so this is never NaN.
                _ => Json::F64(n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => Json::Str(s.clone()),
            Value::Array(items) => Json::Arr(items.iter().map(Json::from).collect()),
            Value::Object(map) => Json::from_map(map),
        }
    }
}

impl PartialEq for Json {
    fn eq(&self, other: &Json) -> bool {
        match (self, other) {
            (Json::Null, Json::Null) => true,
            (Json::Bool(a), Json::Bool(b)) => a == b,
            (Json::Str(a), Json::Str(b)) => a == b,
            (Json::Arr(a), Json::Arr(b)) => a == b,
            (Json::Obj(a), Json::Obj(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| other.get(k) == Some(v))
            }
            (a, b) => match (as_number(a), as_number(b)) {
                (Some(a), Some(b)) => number_cmp(a, b) == Ordering::Equal,
                _ => false,
            },
        }
    }
}

/// A JSON number as an exact integer or a float.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Num {
    /// Any integer JSON can spell within 64 bits, exactly.
    Int(i128),
    /// A number with a fraction or exponent (finite).
    Float(f64),
}

/// The number a stored value holds, if it is one.
pub(crate) fn as_number(json: &Json) -> Option<Num> {
    match json {
        Json::U64(u) => Some(Num::Int(i128::from(*u))),
        Json::I64(i) => Some(Num::Int(i128::from(*i))),
        Json::F64(f) => Some(Num::Float(*f)),
        _ => None,
    }
}

/// The number of a `serde_json::Number`.
pub(crate) fn number_of(n: &Number) -> Num {
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => Num::Int(i128::from(u)),
        (None, Some(i)) => Num::Int(i128::from(i)),
        _ => Num::Float(n.as_f64().unwrap_or_default()),
    }
}

/// The one comparison of JSON numbers, used by queries, sorting, JSON Patch
/// `test` and "an update that changes nothing" (docs/reference/updates.md): by value, so
/// `1` = `1.0` and `-0.0` = `0`, and exactly when an integer meets a float
/// (`9007199254740993` > `9007199254740992.0`, which `as f64` would miss).
pub(crate) fn number_cmp(a: Num, b: Num) -> Ordering {
    match (a, b) {
        (Num::Int(a), Num::Int(b)) => a.cmp(&b),
        (Num::Int(a), Num::Float(b)) => int_float_cmp(a, b),
        (Num::Float(a), Num::Int(b)) => int_float_cmp(b, a).reverse(),
        (Num::Float(a), Num::Float(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// Compares an integer with a finite float exactly.
fn int_float_cmp(i: i128, f: f64) -> Ordering {
    // Beyond ±2^100 a float is past every 64-bit integer.
    const FAR: f64 = 1_267_650_600_228_229_401_496_703_205_376.0;
    if f >= FAR {
        return Ordering::Less;
    }
    if f <= -FAR {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    // `whole` is an integer below 2^100 in size, so the cast is exact.
    #[allow(clippy::cast_possible_truncation)]
    let whole_int = whole as i128;
    i.cmp(&whole_int).then(if f > whole {
        Ordering::Less
    } else if f < whole {
        Ordering::Greater
    } else {
        Ordering::Equal
    })
}

/// JSON value equality (RFC 6902 §4.6 for `test`; docs/reference/queries.md, Semantics): numbers by
/// value, objects regardless of member order, arrays element by element.
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            number_cmp(number_of(x), number_of(y)) == Ordering::Equal
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// A JSON number that is a whole number from 0 to 2^53 − 1 (`7`, `7.0`,
/// `7e0`), as an id or a version must be (docs/reference/documents.md, Bounds and characters).
pub(crate) fn safe_integer(value: &Value) -> Option<u64> {
    let Value::Number(n) = value else {
        return None;
    };
    let max = i128::from(crate::documents::rules::MAX_SAFE_INTEGER);
    let exact = match number_of(n) {
        Num::Int(i) => i,
        Num::Float(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_991.0 => {
            #[allow(clippy::cast_possible_truncation)]
            let i = f as i128;
            i
        }
        Num::Float(_) => return None,
    };
    u64::try_from(exact)
        .ok()
        .filter(|_| (0..=max).contains(&exact))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Moving a JSON object in gives the very tree copying it does:
    /// the same variants, numbers, members and member order.
    #[test]
    fn owned_objects_convert_as_borrowed_ones() {
        let Value::Object(map) = json!({
            "z": 1, "a": [-1, 2.5, "s", null, true, {"k": [{}], "j": u64::MAX}],
            "m": {"b": "x", "a": -0.0}, "": i64::MIN
        }) else {
            unreachable!()
        };
        let copied = format!("{:?}", Json::from_map(&map));
        assert_eq!(format!("{:?}", Json::from_owned_map(map)), copied);
        assert!(copied.contains("I64(-9223372036854775808)"), "{copied}");
    }

    #[test]
    fn numbers_compare_by_value_and_exactly() {
        let n = |v: Value| number_of(v.as_number().unwrap());
        let cases = [
            (json!(1), json!(1.0), Ordering::Equal),
            (json!(0), json!(-0.0), Ordering::Equal),
            (json!(-1), json!(-1.0), Ordering::Equal),
            (json!(2), json!(2.5), Ordering::Less),
            (json!(-2), json!(-2.5), Ordering::Greater),
            (json!(-3), json!(-2.5), Ordering::Less),
            (
                json!(9_007_199_254_740_993_u64),
                json!(9_007_199_254_740_992.0),
                Ordering::Greater,
            ),
            (
                json!(9_007_199_254_740_992_u64),
                json!(9_007_199_254_740_992.0),
                Ordering::Equal,
            ),
            (json!(u64::MAX), json!(1e300), Ordering::Less),
            (json!(i64::MIN), json!(-1e300), Ordering::Greater),
            (
                json!(u64::MAX),
                json!(18_446_744_073_709_551_615.0),
                Ordering::Less,
            ),
            (json!(1.5), json!(1.25), Ordering::Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(number_cmp(n(a.clone()), n(b.clone())), want, "{a} vs {b}");
            assert_eq!(
                number_cmp(n(b.clone()), n(a.clone())),
                want.reverse(),
                "{b} vs {a}"
            );
        }
    }

    #[test]
    fn values_and_stored_trees_are_equal_by_value() {
        let a = json!({"level": 1, "tags": [1, 2.0], "o": {"x": 0, "y": null}});
        let b = json!({"o": {"y": null, "x": -0.0}, "tags": [1.0, 2], "level": 1e0});
        assert!(values_equal(&a, &b));
        assert_eq!(Json::from(&a), Json::from(&b));
        for c in [
            json!({"level": 1, "tags": [2, 1], "o": {"x": 0, "y": null}}),
            json!({"level": "1", "tags": [1, 2], "o": {"x": 0, "y": null}}),
            json!({"level": 1, "tags": [1, 2], "o": {"x": 0}}),
            json!({"level": 1.000_000_1, "tags": [1, 2], "o": {"x": 0, "y": null}}),
        ] {
            assert!(!values_equal(&a, &c), "{c}");
            assert_ne!(Json::from(&a), Json::from(&c), "{c}");
        }
        assert!(!values_equal(
            &json!(9_007_199_254_740_993_u64),
            &json!(9_007_199_254_740_992_u64)
        ));
    }

    #[test]
    fn safe_integers_are_whole_and_at_most_2_53_minus_1() {
        for (v, want) in [
            (json!(7), Some(7)),
            (json!(7.0), Some(7)),
            (json!(0), Some(0)),
            (
                json!(9_007_199_254_740_991_u64),
                Some(9_007_199_254_740_991),
            ),
            (json!(9_007_199_254_740_992_u64), None),
            (json!(u64::MAX), None),
            (json!(-1), None),
            (json!(7.5), None),
            (json!(1e300), None),
            (json!("7"), None),
        ] {
            assert_eq!(safe_integer(&v), want, "{v}");
        }
    }
}
