//! The small value types of the foreign API: timestamps, JSON strings,
//! secrets and the enums of the change log.

use std::fmt;

use crate::RosterError;
use crate::json::NOT_UNICODE;

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
pub struct JsonObject(pub UnicodeString);

uniffi::custom_type!(JsonObject, UnicodeString, {
    lower: |json| json.0,
    try_lift: |text| Ok(JsonObject(text)),
});

impl From<serde_json::Map<String, serde_json::Value>> for JsonObject {
    /// The object as compact JSON text.
    fn from(map: serde_json::Map<String, serde_json::Value>) -> Self {
        JsonObject(serde_json::Value::Object(map).to_string().into())
    }
}

impl From<rosterdb::Attributes> for JsonObject {
    /// A user's attributes as compact JSON text.
    fn from(attributes: rosterdb::Attributes) -> Self {
        attributes.into_map().into()
    }
}

/// Text as callers send it: a `String` in Kotlin and Swift.
///
/// It crosses as bytes, so that no text is refused before the call: Swift
/// strings are Unicode, but a Kotlin `String` may hold unpaired UTF-16
/// surrogates (`"\uD800"`), which no Rust string can. The generated Kotlin
/// sends those as WTF-8 (each lone surrogate as its 3-byte sequence, as set
/// in `uniffi.toml`), and every call says what such text means for it with
/// a typed error (README, "Errors from bad input"): it is never cut or
/// changed silently where it would be stored or looked up.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnicodeString(Text);

/// The text of a [`UnicodeString`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Text {
    /// Unicode text, as nearly all text is.
    Unicode(String),
    /// Bytes that are not UTF-8: WTF-8 from a Kotlin string with lone surrogates.
    Bytes(Vec<u8>),
}

/// Text that holds lone surrogates (or bytes that are not UTF-8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NotUnicode {
    /// The text with each lone surrogate (and each byte that is not
    /// UTF-8) replaced by U+FFFD.
    pub(crate) lossy: String,
    /// The index, in Unicode code points, of the first lone surrogate.
    pub(crate) position: usize,
}

impl UnicodeString {
    /// The text of these bytes, UTF-8 or WTF-8.
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => UnicodeString(Text::Unicode(text)),
            Err(e) => UnicodeString(Text::Bytes(e.into_bytes())),
        }
    }

    /// The bytes as they crossed: UTF-8, or WTF-8 when not Unicode.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Text::Unicode(text) => text.as_bytes(),
            Text::Bytes(bytes) => bytes,
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        match self.0 {
            Text::Unicode(text) => text.into_bytes(),
            Text::Bytes(bytes) => bytes,
        }
    }

    /// The text, or where its first lone surrogate is.
    pub(crate) fn unicode(self) -> Result<String, NotUnicode> {
        match self.0 {
            Text::Unicode(text) => Ok(text),
            Text::Bytes(bytes) => Err(decode_lossy(&bytes)),
        }
    }

    /// The text with each lone surrogate replaced by U+FFFD: for a value
    /// that is only compared with stored ones (a password, a token), which
    /// then fails the check as any wrong value does.
    pub(crate) fn lossy(self) -> String {
        self.unicode().unwrap_or_else(|e| e.lossy)
    }
}

/// Decodes WTF-8: each lone surrogate (and each byte that is not UTF-8)
/// becomes one U+FFFD.
fn decode_lossy(bytes: &[u8]) -> NotUnicode {
    let mut lossy = String::with_capacity(bytes.len());
    let mut position = None;
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                lossy.push_str(text);
                break;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                lossy.push_str(std::str::from_utf8(valid).unwrap_or_default());
                position.get_or_insert_with(|| lossy.chars().count());
                lossy.push(char::REPLACEMENT_CHARACTER);
                let bad = match after {
                    // A surrogate code point, U+D800 to U+DFFF.
                    [0xED, 0xA0..=0xBF, 0x80..=0xBF, ..] => 3,
                    _ => e.error_len().unwrap_or(after.len()),
                };
                rest = after.get(bad..).unwrap_or_default();
            }
        }
    }
    NotUnicode {
        lossy,
        position: position.unwrap_or(0),
    }
}

impl From<String> for UnicodeString {
    fn from(text: String) -> Self {
        UnicodeString(Text::Unicode(text))
    }
}

impl From<&str> for UnicodeString {
    fn from(text: &str) -> Self {
        UnicodeString(Text::Unicode(text.to_owned()))
    }
}

impl fmt::Debug for UnicodeString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Text::Unicode(text) => fmt::Debug::fmt(text, f),
            Text::Bytes(bytes) => fmt::Debug::fmt(&decode_lossy(bytes).lossy, f),
        }
    }
}

uniffi::custom_type!(UnicodeString, Vec<u8>, {
    lower: |text| text.into_bytes(),
    try_lift: |bytes| Ok(UnicodeString::from_bytes(bytes)),
});

/// A password or client secret.
///
/// Kotlin: `Secret("correct horse battery staple")`, read with `expose()`.
/// Its `toString()` (Swift: `description`) is `Secret(***)`, so a secret
/// cannot reach a log by accident.
#[derive(uniffi::Object)]
#[uniffi::export(Debug)]
pub struct Secret {
    /// The value, with U+FFFD in place of each lone surrogate it was given with.
    value: rosterdb::Secret,
    /// Whether the value given held lone surrogates: then it is refused as
    /// a password to set, and checked as any other wrong credential is.
    not_unicode: bool,
}

#[uniffi::export]
impl Secret {
    /// Wraps a secret value. A Kotlin string with lone surrogates is
    /// accepted here: it fails as a password to set (`Validation` on
    /// `password`) and as a credential to check (`AuthenticationFailed`).
    #[uniffi::constructor]
    pub fn new(value: UnicodeString) -> Self {
        let (value, not_unicode) = match value.unicode() {
            Ok(text) => (text, false),
            Err(e) => (e.lossy, true),
        };
        Secret {
            value: rosterdb::Secret::new(value),
            not_unicode,
        }
    }

    /// The secret itself, for the one place that must see it (lone
    /// surrogates it was made with read as U+FFFD).
    pub fn expose(&self) -> String {
        self.value.expose().to_owned()
    }
}

impl Secret {
    /// The value, to be compared with a stored secret.
    pub(crate) fn checked(&self) -> &rosterdb::Secret {
        &self.value
    }

    /// The value as a new password: `Validation` on `password` when the
    /// text given was not Unicode.
    pub(crate) fn new_password(&self) -> Result<rosterdb::Secret, RosterError> {
        if self.not_unicode {
            Err(RosterError::invalid(
                "password",
                rosterdb::ValidationCode::StringUnicode,
                NOT_UNICODE,
            ))
        } else {
            Ok(self.value.clone())
        }
    }
}

impl From<rosterdb::Secret> for Secret {
    fn from(value: rosterdb::Secret) -> Self {
        Secret {
            value,
            not_unicode: false,
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.value, f)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wtf8_is_decoded_with_the_first_lone_surrogate_s_position() {
        let text = UnicodeString::from_bytes("aé😀".as_bytes().to_vec());
        assert_eq!(text.clone().unicode().as_deref(), Ok("aé😀"));
        assert_eq!(text.as_bytes(), "aé😀".as_bytes());
        // "é\uDC00x\uD800" from Kotlin, and bytes no binding sends.
        let mut bytes = "é".as_bytes().to_vec();
        bytes.extend([0xED, 0xB0, 0x80, b'x', 0xED, 0xA0, 0x80]);
        let e = UnicodeString::from_bytes(bytes.clone())
            .unicode()
            .unwrap_err();
        assert_eq!(e.lossy, "é\u{FFFD}x\u{FFFD}");
        assert_eq!(e.position, 1);
        assert_eq!(UnicodeString::from_bytes(bytes).as_bytes().len(), 9);
        let e = UnicodeString::from_bytes(vec![b'a', 0xFF, 0xC3])
            .unicode()
            .unwrap_err();
        assert_eq!((e.lossy.as_str(), e.position), ("a\u{FFFD}\u{FFFD}", 1));
        assert_eq!(
            format!("{:?}", UnicodeString::from_bytes(vec![0xED, 0xA0, 0x80])),
            "\"\u{fffd}\""
        );
    }

    #[test]
    fn a_secret_that_is_not_unicode_is_no_new_password() {
        let secret = Secret::new(UnicodeString::from_bytes(vec![b'p', 0xED, 0xA0, 0x80]));
        assert_eq!(secret.expose(), "p\u{FFFD}");
        assert_eq!(secret.checked().expose(), "p\u{FFFD}");
        assert!(matches!(
            secret.new_password(),
            Err(RosterError::Validation { errors }) if errors[0].field == "password"
        ));
        assert!(Secret::new("fine".into()).new_password().is_ok());
    }
}
