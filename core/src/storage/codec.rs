//! The one place records are encoded: a schema-version byte, then postcard.

use serde::{Deserialize, Serialize};

use crate::documents::record::Decode;
use crate::{Error, Result};

/// The record schema version written by this release.
pub(crate) const RECORD_SCHEMA: u8 = 1;

/// Encodes a record inside its versioned envelope.
pub(crate) fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_into(record, &mut out)?;
    Ok(out)
}

/// [`encode`], appending to `out` (a buffer reused for many records).
pub(crate) fn encode_into<T: Serialize>(record: &T, out: &mut Vec<u8>) -> Result<()> {
    out.push(RECORD_SCHEMA);
    postcard::to_io(record, out).map_err(|e| Error::internal(format!("encode: {e}")))?;
    Ok(())
}

/// Decodes a record, refusing envelopes of an unknown schema version and
/// bytes after the record (which the encoder never writes: damage). `T`
/// may borrow from `bytes`.
pub(crate) fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T> {
    decode_with(bytes, postcard::take_from_bytes)
}

/// A record's stored form ([`Record::Stored`](crate::documents::record::Record::Stored))
/// decoded from its bytes, as [`decode`] decodes a record.
///
/// Errors: as [`decode`].
pub(crate) fn decode_stored<'de, T: Decode<'de>>(bytes: &'de [u8]) -> Result<T> {
    decode_with(bytes, T::take)
}

/// The value `take` reads from a record's body, checked as [`decode`]
/// documents.
fn decode_with<'de, T>(
    bytes: &'de [u8],
    take: impl FnOnce(&'de [u8]) -> postcard::Result<(T, &'de [u8])>,
) -> Result<T> {
    match bytes.split_first() {
        Some((&RECORD_SCHEMA, body)) => match take(body) {
            Ok((record, [])) => Ok(record),
            Ok((_, rest)) => Err(Error::storage(format!(
                "corrupt record: trailing data ({} bytes)",
                rest.len()
            ))),
            Err(e) => Err(Error::storage_with(format!("corrupt record: {e}"), e)),
        },
        Some((&schema, _)) => Err(Error::incompatible(format!(
            "record schema {schema} is not known to this release (which writes {RECORD_SCHEMA})"
        ))),
        None => Err(Error::storage("corrupt record: empty")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::documents::json::Json;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Sample {
        id: u64,
        name: String,
        tags: Vec<String>,
        note: Option<String>,
    }

    #[test]
    fn round_trips_inside_the_envelope() {
        let s = Sample {
            id: 7,
            name: "Zoë".into(),
            tags: vec!["a".into()],
            note: None,
        };
        let bytes = encode(&s).unwrap();
        assert_eq!(bytes[0], RECORD_SCHEMA);
        assert_eq!(decode::<Sample>(&bytes).unwrap(), s);
    }

    #[test]
    fn refuses_unknown_schemas_and_garbage() {
        let mut bytes = encode(&7u64).unwrap();
        bytes[0] = 9;
        assert!(matches!(
            decode::<u64>(&bytes),
            Err(Error::IncompatibleFormat { .. })
        ));
        assert!(matches!(decode::<u64>(&[]), Err(Error::Storage { .. })));
        assert!(matches!(
            decode::<Sample>(&[RECORD_SCHEMA, 0xFF]),
            Err(Error::Storage { .. })
        ));
    }

    #[test]
    fn refuses_bytes_after_the_record() {
        // Found by the `record` fuzz target (fuzz/regressions/record/):
        // postcard ignored what followed a record, so damage there passed.
        let mut bytes = encode(&7u64).unwrap();
        bytes.push(0);
        match decode::<u64>(&bytes) {
            Err(Error::Storage { message, .. }) => {
                assert!(message.contains("trailing data (1 bytes)"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn attributes_json_round_trips_in_order() {
        let value = json!({"b": 1, "a": [true, null, -5, 2.5, u64::MAX, "Zoë"], "o": {"x": {}}});
        let tree = Json::from(&value);
        let bytes = encode(&tree).unwrap();
        let back: Json = decode(&bytes).unwrap();
        assert_eq!(back.to_value(), value);
        let keys: Vec<_> = back.to_map().keys().cloned().collect();
        assert_eq!(keys, ["b", "a", "o"]);
        assert_eq!(
            back.get("o").and_then(|o| o.get("x")),
            Some(&Json::Obj(vec![]))
        );
    }
}
