//! What a record's fields hold, read by field id: the values queries
//! filter and sort on and indexes encode (docs/reference/documents.md; docs/reference/queries.md,
//! Semantics).

use crate::Timestamp;
use crate::documents::fields::FieldId;
use crate::documents::json::Json;

/// The value of one field of one record.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue<'a> {
    /// The field is absent.
    Absent,
    /// An integer.
    Int(u64),
    /// A string.
    Str(&'a str),
    /// A boolean.
    Bool(bool),
    /// A timestamp.
    Time(Timestamp),
    /// A list of ids.
    Ints(&'a [u64]),
    /// A list of strings.
    Strs(Vec<&'a str>),
    /// A JSON value inside `attributes`.
    Json(&'a Json),
    /// A structured value that is present (non-empty for `externalIds`).
    Present,
}

impl<'a> FieldValue<'a> {
    /// An optional string.
    pub fn opt_str(value: Option<&'a str>) -> Self {
        value.map_or(FieldValue::Absent, FieldValue::Str)
    }

    /// An optional timestamp.
    pub fn opt_time(value: Option<Timestamp>) -> Self {
        value.map_or(FieldValue::Absent, FieldValue::Time)
    }
}

/// A record that queries can read.
pub trait Queryable {
    /// The field ids of the record's kind.
    type Field: FieldId;

    /// The value of `field`, as seen at `now`; write-only fields read as
    /// [`FieldValue::Absent`]. Implementations match `field` exhaustively.
    fn get(&self, field: Self::Field, now: Timestamp) -> FieldValue<'_>;

    /// The value of the field named `name` (a canonical name from the
    /// kind's table), as seen at `now`; absent for any other name.
    fn value(&self, name: &str, now: Timestamp) -> FieldValue<'_> {
        Self::Field::from_name(name).map_or(FieldValue::Absent, |field| self.get(field, now))
    }

    /// The record's `attributes`, for kinds that have them.
    fn attributes(&self) -> Option<&Json> {
        None
    }
}
