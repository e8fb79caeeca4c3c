//! The header every stored record starts with: id, tenant, timestamps and
//! version; and what an exported document keeps of it, read back on import.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::documents::values::FieldValue;
use crate::{Error, Result, Timestamp, ValidationCode};

/// The store-kept fields every record has, stored first in each record
/// (format 4): the same fields in the same order for users, roles and
/// clients.
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Assigned by the store, from 1, never reused.
    pub(crate) id: u64,
    /// The tenant the record belongs to; fixed at creation.
    pub(crate) tenant: Option<String>,
    /// When the record was created.
    pub(crate) created_at: Timestamp,
    /// When the record was last changed (docs/reference/documents.md, Bounds and characters: by a
    /// versioned change).
    pub(crate) updated_at: Timestamp,
    /// 1 at creation, + 1 on every change.
    pub(crate) version: u64,
}

impl Header {
    /// The header of a record created at `now`: version 1, created and
    /// updated at `now`, no tenant until the record's `create` gives it its
    /// input's (a record's tenant is always validated with its input).
    pub(crate) fn new(id: u64, now: Timestamp) -> Header {
        Header {
            id,
            tenant: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// This header in `tenant`.
    pub(crate) fn in_tenant(self, tenant: Option<String>) -> Header {
        Header { tenant, ..self }
    }

    /// The value of one of the header's fields (`id`, `tenant`,
    /// `createdAt`, `updatedAt`, `version`) as queries read it; absent for
    /// any other name.
    pub(crate) fn value(&self, name: &str) -> FieldValue<'_> {
        match name {
            "id" => FieldValue::Int(self.id),
            "tenant" => FieldValue::opt_str(self.tenant.as_deref()),
            "createdAt" => FieldValue::Time(self.created_at),
            "updatedAt" => FieldValue::Time(self.updated_at),
            "version" => FieldValue::Int(self.version),
            _ => FieldValue::Absent,
        }
    }

    /// Marks the record changed at `now`: `version` + 1 (saturating; the
    /// write refuses a version past 2^53 − 1) and `updatedAt`.
    pub(crate) fn touch(&mut self, now: Timestamp) {
        self.version = self.version.saturating_add(1);
        self.updated_at = now;
    }

    /// Takes `id`, `createdAt`, `updatedAt` and `version` out of an exported
    /// document (docs/reference/changes-and-export.md). The tenant stays in it, to be validated
    /// with the rest of the document by the kind's input form; the header has none
    /// until the record's `create` gives it that input's.
    ///
    /// Errors: `Validation` naming the field: `id` or `version` absent or
    /// not a whole number from 1 to 2^53 − 1 (`InvalidNumber`), `createdAt`
    /// or `updatedAt` absent (`Missing`) or not an RFC 3339 timestamp
    /// (`InvalidTimestamp`).
    pub(crate) fn take(doc: &mut Map<String, Value>) -> Result<Header> {
        let id = take_u64(doc, "id")?;
        let created_at = required_time(doc, "createdAt")?;
        let updated_at = required_time(doc, "updatedAt")?;
        let version = take_u64(doc, "version")?;
        Ok(Header {
            id,
            tenant: None,
            created_at,
            updated_at,
            version,
        })
    }
}

/// An id or version: a whole number from 1 to 2^53 − 1 (docs/reference/documents.md, Bounds and
/// characters).
fn take_u64(map: &mut Map<String, Value>, key: &str) -> Result<u64> {
    map.remove(key)
        .as_ref()
        .and_then(crate::documents::json::safe_integer)
        .filter(|&n| n >= 1)
        .ok_or_else(|| {
            Error::invalid(
                key,
                ValidationCode::InvalidNumber,
                format!(
                    "must be a whole number from 1 to {}",
                    crate::documents::rules::MAX_SAFE_INTEGER
                ),
            )
        })
}

fn required_time(map: &mut Map<String, Value>, key: &str) -> Result<Timestamp> {
    take_time(map, key)?.ok_or_else(|| Error::invalid(key, ValidationCode::Missing, "is required"))
}

/// Takes an optional timestamp field out of a document: `Validation`
/// (`InvalidTimestamp`) naming `key` when it is not an RFC 3339 string.
fn take_time(map: &mut Map<String, Value>, key: &str) -> Result<Option<Timestamp>> {
    match map.remove(key) {
        None => Ok(None),
        Some(Value::String(s)) => Timestamp::parse(&s).map(Some).ok_or_else(|| {
            Error::invalid(
                key,
                ValidationCode::InvalidTimestamp,
                "must be an RFC 3339 timestamp",
            )
        }),
        Some(_) => Err(Error::invalid(
            key,
            ValidationCode::InvalidTimestamp,
            "must be an RFC 3339 timestamp",
        )),
    }
}

/// The store-kept fields of an imported document, taken out of it.
pub(crate) struct Kept {
    /// The record's header, without its tenant (see [`Header::take`]).
    pub(crate) header: Header,
    /// The rest of the document.
    pub(crate) rest: Value,
}

impl Kept {
    /// Takes the header fields (`id`, `createdAt`, `updatedAt`, `version`)
    /// out of `doc`; errors as [`Header::take`].
    pub(crate) fn take(doc: &Value) -> Result<Kept> {
        let mut rest = doc.as_object().cloned().unwrap_or_default();
        let header = Header::take(&mut rest)?;
        Ok(Kept {
            header,
            rest: Value::Object(rest),
        })
    }

    /// Takes an optional timestamp field out of the rest.
    pub(crate) fn time(&mut self, key: &str) -> Result<Option<Timestamp>> {
        match &mut self.rest {
            Value::Object(map) => take_time(map, key),
            _ => Ok(None),
        }
    }

    /// Takes a string field out of the rest.
    pub(crate) fn string(&mut self, key: &str) -> Result<Option<String>> {
        match &mut self.rest {
            Value::Object(map) => match map.remove(key) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(Error::invalid(
                    key,
                    ValidationCode::StringType,
                    "must be a string",
                )),
            },
            _ => Ok(None),
        }
    }

    /// Removes a derived field the store computes again.
    pub(crate) fn drop(&mut self, key: &str) {
        if let Value::Object(map) = &mut self.rest {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms).unwrap()
    }

    fn field_of(result: Result<Header>) -> String {
        match result {
            Err(Error::Validation { errors }) => errors[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_new_header_is_version_one_created_and_updated_now() {
        let h = Header::new(7, at(100)).in_tenant(Some("acme".into()));
        assert_eq!(
            h,
            Header {
                id: 7,
                tenant: Some("acme".into()),
                created_at: at(100),
                updated_at: at(100),
                version: 1,
            }
        );
    }

    #[test]
    fn touch_bumps_the_version_and_updated_at_only() {
        let mut h = Header::new(7, at(100));
        h.touch(at(250));
        assert_eq!(
            (h.version, h.created_at, h.updated_at),
            (2, at(100), at(250))
        );
        h.version = u64::MAX;
        h.touch(at(300));
        assert_eq!(h.version, u64::MAX);
    }

    #[test]
    fn take_removes_the_header_fields_and_leaves_the_rest() {
        let Value::Object(mut doc) = json!({
            "id": 3, "tenant": "acme", "name": "x", "version": 2,
            "createdAt": "2026-12-01T12:00:00Z", "updatedAt": "2026-12-01T12:00:01.500Z",
        }) else {
            unreachable!()
        };
        let h = Header::take(&mut doc).unwrap();
        assert_eq!(
            h,
            Header {
                id: 3,
                tenant: None,
                created_at: Timestamp::parse("2026-12-01T12:00:00Z").unwrap(),
                updated_at: Timestamp::parse("2026-12-01T12:00:01.500Z").unwrap(),
                version: 2,
            }
        );
        assert_eq!(Value::Object(doc), json!({"tenant": "acme", "name": "x"}));
    }

    #[test]
    fn take_names_the_bad_field() {
        let good = json!({
            "id": 3, "version": 2,
            "createdAt": "2026-12-01T12:00:00Z", "updatedAt": "2026-12-01T12:00:00Z",
        });
        for (key, bad, field) in [
            ("id", json!(0), "id"),
            ("id", Value::Null, "id"),
            ("version", json!(9_007_199_254_740_992u64), "version"),
            ("createdAt", Value::Null, "createdAt"),
            ("updatedAt", json!("yesterday"), "updatedAt"),
        ] {
            let mut doc = good.as_object().unwrap().clone();
            doc.insert(key.into(), bad);
            assert_eq!(field_of(Header::take(&mut doc)), field, "{key}");
        }
        let mut doc = good.as_object().unwrap().clone();
        doc.remove("createdAt");
        assert_eq!(field_of(Header::take(&mut doc)), "createdAt");
    }
}
