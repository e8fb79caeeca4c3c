//! The small value types of the foreign API: timestamps, JSON strings,
//! secrets and the enums of the change log.

use std::fmt;

/// An instant, written as an RFC 3339 UTC string with milliseconds
/// (`2026-11-23T17:16:32.123Z`); a `String` in Kotlin and Swift.
pub use rosterdb::Timestamp;

uniffi::custom_type!(Timestamp, String, {
    remote,
    lower: |t| t.to_string(),
    try_lift: |text| Timestamp::parse(&text)
        .ok_or_else(|| uniffi::deps::anyhow::anyhow!("not an RFC 3339 timestamp")),
});

/// A JSON object as text, e.g. a user's `attributes` (`{"department": "R&D"}`);
/// a `String` in Kotlin and Swift.
///
/// It is parsed when it reaches the core: text that is not valid JSON, or not
/// an object, is a `Validation` error naming the field it was given for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonObject(pub String);

uniffi::custom_type!(JsonObject, String, {
    lower: |json| json.0,
    try_lift: |text| Ok(JsonObject(text)),
});

/// A password or client secret.
///
/// Kotlin: `Secret("correct horse battery staple")`, read with `expose()`.
/// Its `toString()` (Swift: `description`) is `Secret(***)`, so a secret
/// cannot reach a log by accident.
#[derive(uniffi::Object)]
#[uniffi::export(Debug)]
pub struct Secret(pub(crate) rosterdb::Secret);

#[uniffi::export]
impl Secret {
    /// Wraps a secret value.
    #[uniffi::constructor]
    pub fn new(value: String) -> Self {
        Secret(rosterdb::Secret::new(value))
    }

    /// The secret itself, for the one place that must see it.
    pub fn expose(&self) -> String {
        self.0.expose().to_owned()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// The kinds of record the store keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum EntityKind {
    /// A person who can log in.
    User,
    /// A permission group.
    Role,
    /// An app-client: a service identity for programmatic access.
    Client,
}

impl fmt::Display for EntityKind {
    /// The lowercase name used in change-log entries and error descriptions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        rosterdb::EntityKind::from(*self).fmt(f)
    }
}

impl From<EntityKind> for rosterdb::EntityKind {
    fn from(kind: EntityKind) -> Self {
        match kind {
            EntityKind::User => rosterdb::EntityKind::User,
            EntityKind::Role => rosterdb::EntityKind::Role,
            EntityKind::Client => rosterdb::EntityKind::Client,
        }
    }
}

impl From<rosterdb::EntityKind> for EntityKind {
    fn from(kind: rosterdb::EntityKind) -> Self {
        match kind {
            rosterdb::EntityKind::User => EntityKind::User,
            rosterdb::EntityKind::Role => EntityKind::Role,
            rosterdb::EntityKind::Client => EntityKind::Client,
        }
    }
}

/// What a change did to its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ChangeOp {
    /// The record was created (or imported).
    Create,
    /// The record was changed.
    Update,
    /// The record was deleted; the entry carries its last version.
    Delete,
}

impl From<rosterdb::ChangeOp> for ChangeOp {
    fn from(op: rosterdb::ChangeOp) -> Self {
        match op {
            rosterdb::ChangeOp::Create => ChangeOp::Create,
            rosterdb::ChangeOp::Update => ChangeOp::Update,
            rosterdb::ChangeOp::Delete => ChangeOp::Delete,
        }
    }
}
