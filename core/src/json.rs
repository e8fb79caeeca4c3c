//! A JSON tree the storage format can hold (postcard is not self-describing,
//! so `serde_json::Value` cannot be stored directly).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

/// A stored JSON value; object members keep their order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_through_the_storage_format() {
        let value = json!({"b": 1, "a": [true, null, -5, 2.5, u64::MAX, "Zoë"], "o": {"x": {}}});
        let tree = Json::from(&value);
        let bytes = crate::codec::encode(&tree).unwrap();
        let back: Json = crate::codec::decode(&bytes).unwrap();
        assert_eq!(back.to_value(), value);
        let keys: Vec<_> = back.to_map().keys().cloned().collect();
        assert_eq!(keys, ["b", "a", "o"]);
        assert_eq!(
            back.get("o").and_then(|o| o.get("x")),
            Some(&Json::Obj(vec![]))
        );
    }
}
