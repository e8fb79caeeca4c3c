//! The queryable fields of each kind of record and their types (SPEC §2, §3.3).

use crate::json::Json;
use crate::{EntityKind, Timestamp};

/// The type of a queryable field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// An unsigned integer (`id`, `version`).
    Int,
    /// A string, compared case-insensitively.
    Str,
    /// An identifier (`tenant`, SPEC §2.5): a string compared exactly,
    /// case-sensitively, and ordered by its characters (Unicode code points).
    Ident,
    /// A boolean.
    Bool,
    /// A timestamp, compared as an instant.
    Time,
    /// An array of ids (`roles`): a test holds when any element satisfies it.
    Ints,
    /// An array of strings (`permissions`, `externalIds.type`, …).
    Strs,
    /// A structured value that can only be tested for presence and projected
    /// (`externalIds`, `attributes`).
    Object,
}

impl FieldType {
    /// Whether a page can be sorted by a field of this type.
    pub fn sortable(self) -> bool {
        matches!(
            self,
            FieldType::Int | FieldType::Str | FieldType::Ident | FieldType::Bool | FieldType::Time
        )
    }

    /// The name used in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            FieldType::Int => "an integer",
            FieldType::Str => "a string",
            FieldType::Ident => "an identifier (a string compared exactly)",
            FieldType::Bool => "a boolean",
            FieldType::Time => "a timestamp",
            FieldType::Ints => "a list of ids",
            FieldType::Strs => "a list of strings",
            FieldType::Object => "a structured value",
        }
    }
}

/// One queryable field.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldDef {
    /// Its canonical camelCase name (a path for `externalIds.type`).
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// Whether it is a top-level document key that `fields` can project.
    pub top_level: bool,
}

const fn field(name: &'static str, ty: FieldType) -> FieldDef {
    FieldDef {
        name,
        ty,
        top_level: true,
    }
}

const fn nested(name: &'static str, ty: FieldType) -> FieldDef {
    FieldDef {
        name,
        ty,
        top_level: false,
    }
}

use FieldType::{Bool, Ident, Int, Ints, Object, Str, Strs, Time};

/// The fields of a user document.
pub static USER_FIELDS: &[FieldDef] = &[
    field("id", Int),
    field("username", Str),
    field("email", Str),
    field("firstName", Str),
    field("lastName", Str),
    field("nickname", Str),
    field("telephoneNumber", Str),
    field("mobileNumber", Str),
    field("tenant", Ident),
    field("enabled", Bool),
    field("roles", Ints),
    field("externalIds", Object),
    nested("externalIds.type", Strs),
    nested("externalIds.value", Strs),
    field("attributes", Object),
    field("createdAt", Time),
    field("updatedAt", Time),
    field("lastLoginAt", Time),
    field("lockedUntil", Time),
    field("hasPassword", Bool),
    field("totpEnabled", Bool),
    field("version", Int),
];

/// The fields of a role document.
pub static ROLE_FIELDS: &[FieldDef] = &[
    field("id", Int),
    field("name", Str),
    field("description", Str),
    field("permissions", Strs),
    field("tenant", Ident),
    field("createdAt", Time),
    field("updatedAt", Time),
    field("version", Int),
];

/// The fields of a client document.
pub static CLIENT_FIELDS: &[FieldDef] = &[
    field("id", Int),
    field("clientId", Str),
    field("name", Str),
    field("description", Str),
    field("tenant", Ident),
    field("enabled", Bool),
    field("roles", Ints),
    field("ipAllowlist", Strs),
    field("createdAt", Time),
    field("updatedAt", Time),
    field("lastUsedAt", Time),
    field("version", Int),
];

/// Fields that exist but may never be queried.
pub const WRITE_ONLY: [&str; 2] = ["password", "passwordHash"];

/// The fields of a kind.
pub fn fields_of(kind: EntityKind) -> &'static [FieldDef] {
    match kind {
        EntityKind::User => USER_FIELDS,
        EntityKind::Role => ROLE_FIELDS,
        EntityKind::Client => CLIENT_FIELDS,
    }
}

/// The fields `search` looks in.
pub fn search_fields(kind: EntityKind) -> &'static [&'static str] {
    match kind {
        EntityKind::User => &["username", "email", "firstName", "lastName", "nickname"],
        EntityKind::Role => &["name", "description"],
        EntityKind::Client => &["name", "clientId", "description"],
    }
}

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
    /// The value of the field named `name` (a canonical name from the
    /// kind's field list), as seen at `now`.
    fn value(&self, name: &str, now: Timestamp) -> FieldValue<'_>;

    /// The record's `attributes`, for kinds that have them.
    fn attributes(&self) -> Option<&Json> {
        None
    }
}
