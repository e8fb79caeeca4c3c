//! What callers send: records of new users, roles and clients, and the
//! options of a store, with their conversions into the core's types.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use rosterdb::FieldId as _;

use crate::json::NOT_UNICODE;
use crate::{ExternalId, FieldError, JsonObject, RosterError, Secret, UnicodeString};

/// The fields of a user to create (docs/reference/documents.md, Users). Every field but the four
/// required ones has a default, so Kotlin can name only what it sets:
/// `NewUser(username = "ada", email = "ada@example.com", firstName = "Ada", lastName = "Lovelace")`.
#[derive(Clone, Debug, uniffi::Record)]
pub struct NewUser {
    /// Required; 1–100 letters, ASCII digits and `@ . - _`.
    pub username: UnicodeString,
    /// Required; `local@domain.tld`, 5–255 characters.
    pub email: UnicodeString,
    /// Required; 1–50 characters.
    pub first_name: UnicodeString,
    /// Required; 1–50 characters.
    pub last_name: UnicodeString,
    /// 0–50 characters.
    #[uniffi(default = None)]
    pub nickname: Option<UnicodeString>,
    /// 1–100 characters.
    #[uniffi(default = None)]
    pub telephone_number: Option<UnicodeString>,
    /// 1–30 characters.
    #[uniffi(default = None)]
    pub mobile_number: Option<UnicodeString>,
    /// 1–64 characters of `[A-Za-z0-9._:-]`; fixed once created.
    #[uniffi(default = None)]
    pub tenant: Option<UnicodeString>,
    /// Whether the user may log in; default true.
    #[uniffi(default = true)]
    pub enabled: bool,
    /// Role ids of the same tenant; duplicates are removed.
    #[uniffi(default = [])]
    pub roles: Vec<u64>,
    /// (tenant, type, value) must be unique.
    #[uniffi(default = [])]
    pub external_ids: Vec<ExternalId>,
    /// The text of a JSON object of free-form profile fields, at most
    /// 16 KiB; `null`/`nil` (the default) is `{}`. (Optional because a
    /// `JsonObject` crosses as bytes, which uniffi gives no text default.)
    #[uniffi(default = None)]
    pub attributes: Option<JsonObject>,
    /// 8–1024 characters; stored only as an Argon2id hash.
    #[uniffi(default = None)]
    pub password: Option<Arc<Secret>>,
    /// A PHC-format Argon2 hash imported from another system; not with `password`.
    #[uniffi(default = None)]
    pub password_hash: Option<UnicodeString>,
}

/// The fields of a new record whose text is not Unicode, each with
/// [`NOT_UNICODE`]; the text goes on with U+FFFD in place of each lone
/// surrogate, for the core to check the rest of the record.
#[derive(Default)]
struct Fields(Vec<FieldError>);

impl Fields {
    /// The text of `field`.
    fn text(&mut self, field: &str, text: UnicodeString) -> String {
        text.unicode().unwrap_or_else(|e| {
            self.0.push(FieldError::new(
                field,
                rosterdb::ValidationCode::StringUnicode,
                NOT_UNICODE,
            ));
            e.lossy
        })
    }

    /// The text of an optional `field`.
    fn optional(&mut self, field: &str, text: Option<UnicodeString>) -> Option<String> {
        text.map(|text| self.text(field, text))
    }

    /// The texts of the list `field` (`field[0]`, …).
    fn list(&mut self, field: &str, texts: Vec<UnicodeString>) -> Vec<String> {
        texts
            .into_iter()
            .enumerate()
            .map(|(i, text)| self.text(&format!("{field}[{i}]"), text))
            .collect()
    }

    /// A user's external ids (`externalIds[0].type`, …).
    fn external_ids(&mut self, ids: Vec<ExternalId>) -> Vec<rosterdb::ExternalId> {
        let name = rosterdb::UserField::ExternalIds.name();
        ids.into_iter()
            .enumerate()
            .map(|(i, ExternalId { kind, value })| rosterdb::ExternalId {
                kind: self.text(&format!("{name}[{i}].type"), kind),
                value: self.text(&format!("{name}[{i}].value"), value),
            })
            .collect()
    }

    /// A user's `attributes`: the JSON object (`{}` when absent), or what
    /// is wrong with it (`attributes`, `attributes.level`).
    fn attributes(&mut self, attributes: Option<JsonObject>) -> Map<String, Value> {
        let attributes = attributes.map_or_else(
            || Ok(Map::new()),
            |attributes| crate::json::attributes(&attributes.0),
        );
        attributes.unwrap_or_else(|problems| {
            self.0.extend(problems);
            Map::new()
        })
    }

    /// A user's new password.
    fn password(&mut self, password: Option<Arc<Secret>>) -> Option<rosterdb::Secret> {
        password.map(|secret| {
            secret.new_password().unwrap_or_else(|_| {
                self.0.push(FieldError::new(
                    rosterdb::UserField::Password.name(),
                    rosterdb::ValidationCode::StringUnicode,
                    NOT_UNICODE,
                ));
                secret.checked().clone()
            })
        })
    }

    /// The core's input when every text was Unicode; otherwise a
    /// `Validation` error listing what `validate` finds wrong with the
    /// other fields, then these.
    fn finish<T>(
        self,
        input: T,
        validate: impl FnOnce(&T) -> rosterdb::Result<()>,
    ) -> Result<T, RosterError> {
        if self.0.is_empty() {
            return Ok(input);
        }
        let mut errors: Vec<FieldError> = match validate(&input) {
            Err(rosterdb::Error::Validation { errors }) => errors
                .into_iter()
                .map(FieldError::from)
                .filter(|e| !self.0.iter().any(|f| f.field == e.field))
                .collect(),
            _ => Vec::new(),
        };
        errors.extend(self.0);
        Err(RosterError::Validation { errors })
    }
}

/// The fields of a role to create (docs/reference/documents.md, Roles).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct NewRole {
    /// Required; 1–100 characters, unique per tenant.
    pub name: UnicodeString,
    /// 0–500 characters.
    #[uniffi(default = None)]
    pub description: Option<UnicodeString>,
    /// The id another system (a SCIM client) keeps for the role: 1–255
    /// characters, no control characters; compared exactly, not unique.
    #[uniffi(default = None)]
    pub external_id: Option<UnicodeString>,
    /// Each 1–100 characters of `[A-Za-z0-9:._*-]`; deduplicated and sorted.
    #[uniffi(default = [])]
    pub permissions: Vec<UnicodeString>,
    /// 1–64 characters of `[A-Za-z0-9._:-]`; fixed once created.
    #[uniffi(default = None)]
    pub tenant: Option<UnicodeString>,
}

/// The fields of an app-client to create (docs/reference/documents.md, Clients); the store
/// generates its client id and secret.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct NewClient {
    /// Required; 1–100 characters.
    pub name: UnicodeString,
    /// 0–500 characters.
    #[uniffi(default = None)]
    pub description: Option<UnicodeString>,
    /// 1–64 characters of `[A-Za-z0-9._:-]`; fixed once created.
    #[uniffi(default = None)]
    pub tenant: Option<UnicodeString>,
    /// Whether the client may log in; default true.
    #[uniffi(default = true)]
    pub enabled: bool,
    /// Role ids of the same tenant; duplicates are removed.
    #[uniffi(default = [])]
    pub roles: Vec<u64>,
    /// IPv4/IPv6 addresses or CIDR blocks the client may log in from; empty means any.
    #[uniffi(default = [])]
    pub ip_allowlist: Vec<UnicodeString>,
}

/// Implements `TryFrom<$new> for rosterdb::$new`, the core's input of a
/// create, field by field in the order of the document (as the core lists
/// its findings): a field with `text`, `optional` or `list` and the
/// variant of `rosterdb::$ids` naming it is read by that method of
/// [`Fields`]; a field with another method (no name) is read by it; a field
/// alone is taken as it is. Text that is not Unicode, and `attributes`
/// that are not a JSON object, are `Validation` errors reported together
/// with the core's own checks of the other fields.
macro_rules! new_records {
    ($($new:ident by $ids:ident { $($field:ident $(: $read:ident $(($id:ident))?)?),+ $(,)? })+) => {$(
        impl TryFrom<$new> for rosterdb::$new {
            type Error = RosterError;

            fn try_from(new: $new) -> Result<Self, RosterError> {
                let $new { $($field),+ } = new;
                let mut fields = Fields::default();
                let record = rosterdb::$new {
                    $($field: new_records!(@field fields, $ids, $field $(: $read $(($id))?)?)),+
                };
                fields.finish(record, rosterdb::$new::validate)
            }
        }
    )+};
    (@field $fields:ident, $ids:ident, $field:ident) => {
        $field
    };
    (@field $fields:ident, $ids:ident, $field:ident: $read:ident($id:ident)) => {
        $fields.$read(rosterdb::$ids::$id.name(), $field)
    };
    (@field $fields:ident, $ids:ident, $field:ident: $read:ident) => {
        $fields.$read($field)
    };
}

new_records! {
    NewUser by UserField {
        username: text(Username), email: text(Email), first_name: text(FirstName),
        last_name: text(LastName), nickname: optional(Nickname),
        telephone_number: optional(TelephoneNumber), mobile_number: optional(MobileNumber),
        tenant: optional(Tenant), enabled, roles, external_ids: external_ids,
        attributes: attributes, password: password, password_hash: optional(PasswordHash),
    }
    NewRole by RoleField {
        name: text(Name), description: optional(Description),
        external_id: optional(ExternalId), permissions: list(Permissions),
        tenant: optional(Tenant),
    }
    NewClient by ClientField {
        name: text(Name), description: optional(Description), tenant: optional(Tenant),
        enabled, roles, ip_allowlist: list(IpAllowlist),
    }
}

/// Settings chosen when a store is opened; an absent value keeps the core's
/// default. The core checks them when the store opens: a value out of range
/// is `InvalidArgument` naming the option (`argon2MemoryKib`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct StoreOptions {
    /// Argon2id memory in KiB for new password and secret hashes (default 19456).
    #[uniffi(default = None)]
    pub argon2_memory_kib: Option<u32>,
    /// Argon2id passes over memory (default 2).
    #[uniffi(default = None)]
    pub argon2_iterations: Option<u32>,
    /// Argon2id lanes (default 1).
    #[uniffi(default = None)]
    pub argon2_parallelism: Option<u32>,
    /// Consecutive failed password checks that lock a user out (default 5;
    /// 0 never locks).
    #[uniffi(default = None)]
    pub lockout_threshold: Option<u32>,
    /// How long a lockout lasts, 1 to 31,536,000 seconds (default 900).
    #[uniffi(default = None)]
    pub lockout_seconds: Option<u64>,
    /// The issuer named in TOTP enrolment URIs, 1–100 characters without
    /// `:` (default `rosterdb`).
    #[uniffi(default = None)]
    pub totp_issuer: Option<UnicodeString>,
    /// The most memory, in bytes, the store's page cache holds: at least
    /// 1,048,576 (default 256 MiB). It fills as pages are read or written and
    /// never holds more than the file.
    #[uniffi(default = None)]
    pub cache_bytes: Option<u64>,
}

impl TryFrom<StoreOptions> for rosterdb::Options {
    type Error = RosterError;

    /// The core's options, which the core checks when the store opens; a
    /// `totpIssuer` that is not Unicode is `InvalidArgument` on it here.
    fn try_from(o: StoreOptions) -> Result<Self, RosterError> {
        let StoreOptions {
            argon2_memory_kib,
            argon2_iterations,
            argon2_parallelism,
            lockout_threshold,
            lockout_seconds,
            totp_issuer,
            cache_bytes,
        } = o;
        let defaults = rosterdb::Options::default();
        let argon2 = defaults.argon2;
        let lockout = defaults.lockout;
        let cache = cache_bytes.unwrap_or(defaults.cache_bytes);
        let issuer = match totp_issuer.map(UnicodeString::unicode) {
            None => defaults.totp_issuer.clone(),
            Some(Ok(issuer)) => issuer,
            Some(Err(_)) => {
                return Err(RosterError::InvalidArgument {
                    argument: "totpIssuer".into(),
                    reason: NOT_UNICODE.into(),
                });
            }
        };
        Ok(defaults
            .with_argon2(rosterdb::Argon2Params {
                memory_kib: argon2_memory_kib.unwrap_or(argon2.memory_kib),
                iterations: argon2_iterations.unwrap_or(argon2.iterations),
                parallelism: argon2_parallelism.unwrap_or(argon2.parallelism),
            })
            .with_lockout(rosterdb::Lockout {
                threshold: lockout_threshold.unwrap_or(lockout.threshold),
                duration: lockout_seconds.map_or(lockout.duration, Duration::from_secs),
            })
            .with_totp_issuer(issuer)
            .with_cache_bytes(cache))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Text as the generated Kotlin sends `"x\uD800"`: WTF-8.
    fn lone_surrogate() -> UnicodeString {
        UnicodeString::from_bytes(b"x\xED\xA0\x80".to_vec())
    }

    /// Ada Lovelace, with `password` and every optional field left out.
    pub(crate) fn ada(password: &str) -> NewUser {
        NewUser {
            username: "ada".into(),
            email: "ada@example.com".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            nickname: None,
            telephone_number: None,
            mobile_number: None,
            tenant: None,
            enabled: true,
            roles: vec![],
            external_ids: vec![],
            attributes: None,
            password: Some(Arc::new(Secret::new(password.into()))),
            password_hash: None,
        }
    }

    fn new_user(email: &str, attributes: &str) -> NewUser {
        NewUser {
            email: email.into(),
            attributes: Some(JsonObject(attributes.into())),
            ..ada("a secret password")
        }
    }

    fn error_fields(result: Result<rosterdb::NewUser, RosterError>) -> Vec<String> {
        match result {
            Err(RosterError::Validation { errors }) => {
                errors.into_iter().map(|e| e.field).collect()
            }
            other => panic!("expected a Validation error, got {other:?}"),
        }
    }

    #[test]
    fn attributes_are_parsed_into_the_core_input() {
        let user = rosterdb::NewUser::try_from(new_user("ada@example.com", r#"{"a":[1,true]}"#))
            .expect("a valid user converts");
        assert_eq!(
            Value::Object(user.attributes),
            serde_json::json!({"a": [1, true]})
        );
        assert_eq!(
            user.password.map(|p| p.expose().to_owned()).as_deref(),
            Some("a secret password")
        );
    }

    #[test]
    fn bad_attributes_are_reported_with_the_other_problems() {
        for bad in ["", "{", "[]", "null", "1", r#"{"a":1} x"#] {
            let fields = error_fields(new_user("ada@example.com", bad).try_into());
            assert_eq!(fields, ["attributes"], "{bad:?}");
        }
        let fields = error_fields(new_user("nope", "[]").try_into());
        assert_eq!(fields, ["email", "attributes"]);
    }

    #[test]
    fn text_that_is_not_unicode_is_a_validation_error_on_its_field() {
        let mut user = new_user("nope", "{}");
        user.username = lone_surrogate();
        user.nickname = Some(lone_surrogate());
        user.external_ids = vec![
            ExternalId {
                kind: "github".into(),
                value: "".into(),
            },
            ExternalId {
                kind: lone_surrogate(),
                value: "1".into(),
            },
        ];
        user.password = Some(Arc::new(Secret::new(lone_surrogate())));
        let fields = error_fields(user.try_into());
        // The core's findings on the other fields come first.
        assert_eq!(
            fields,
            [
                "email",
                "externalIds[0].value",
                "username",
                "nickname",
                "externalIds[1].type",
                "password",
            ]
        );
        let role = NewRole {
            name: "r".into(),
            description: None,
            external_id: Some(lone_surrogate()),
            permissions: vec!["a:read".into(), lone_surrogate()],
            tenant: Some(lone_surrogate()),
        };
        match rosterdb::NewRole::try_from(role) {
            Err(RosterError::Validation { errors }) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["externalId", "permissions[1]", "tenant"]);
                assert!(errors.iter().all(|e| e.message == NOT_UNICODE));
            }
            other => panic!("{other:?}"),
        }
        let client = NewClient {
            name: lone_surrogate(),
            description: None,
            tenant: None,
            enabled: true,
            roles: vec![],
            ip_allowlist: vec![lone_surrogate()],
        };
        match rosterdb::NewClient::try_from(client) {
            Err(RosterError::Validation { errors }) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["name", "ipAllowlist[0]"]);
            }
            other => panic!("{other:?}"),
        }
        let options = StoreOptions {
            totp_issuer: Some(lone_surrogate()),
            ..StoreOptions::default()
        };
        assert_eq!(
            rosterdb::Options::try_from(options),
            Err(RosterError::InvalidArgument {
                argument: "totpIssuer".into(),
                reason: NOT_UNICODE.into(),
            })
        );
    }

    #[test]
    fn absent_attributes_are_an_empty_object_and_values_json_cannot_hold_are_named() {
        let mut user = new_user("ada@example.com", "{}");
        user.attributes = None;
        let core = rosterdb::NewUser::try_from(user).unwrap();
        assert!(core.attributes.is_empty());
        let fields = error_fields(
            new_user("ada@example.com", r#"{"a": NaN, "b": {"c": [1e400]}}"#).try_into(),
        );
        assert_eq!(fields, ["attributes.a", "attributes.b.c[0]"]);
    }

    #[test]
    fn absent_store_options_keep_the_core_defaults() {
        assert_eq!(
            rosterdb::Options::try_from(StoreOptions::default()).unwrap(),
            rosterdb::Options::default()
        );
        let cheap = StoreOptions {
            argon2_memory_kib: Some(8),
            argon2_iterations: Some(1),
            ..StoreOptions::default()
        };
        let options = rosterdb::Options::try_from(cheap).unwrap();
        let params = options.argon2;
        assert_eq!((params.memory_kib, params.iterations), (8, 1));
        assert_eq!(
            params.parallelism,
            rosterdb::Argon2Params::default().parallelism
        );
        assert_eq!(options.lockout, rosterdb::Lockout::default());
        assert_eq!(
            options.totp_issuer,
            rosterdb::Options::default().totp_issuer
        );
    }

    #[test]
    fn every_store_option_reaches_the_core() {
        let options = rosterdb::Options::try_from(StoreOptions {
            argon2_memory_kib: Some(16),
            argon2_iterations: Some(3),
            argon2_parallelism: Some(2),
            lockout_threshold: Some(0),
            lockout_seconds: Some(60),
            totp_issuer: Some("Acme".into()),
            cache_bytes: Some(1 << 20),
        })
        .unwrap();
        assert_eq!(
            options.argon2,
            rosterdb::Argon2Params {
                memory_kib: 16,
                iterations: 3,
                parallelism: 2
            }
        );
        assert_eq!(
            options.lockout,
            rosterdb::Lockout {
                threshold: 0,
                duration: Duration::from_secs(60)
            }
        );
        assert_eq!(options.totp_issuer, "Acme");
        assert_eq!(options.cache_bytes, 1 << 20);
        // Any u64 converts; the core's check at open refuses what is out of range.
        let huge = rosterdb::Options::try_from(StoreOptions {
            lockout_seconds: Some(u64::MAX),
            ..StoreOptions::default()
        })
        .unwrap();
        assert!(matches!(
            huge.validate(),
            Err(rosterdb::Error::InvalidArgument { argument, .. }) if argument == "lockout_seconds"
        ));
        let tiny = rosterdb::Options::try_from(StoreOptions {
            cache_bytes: Some((1 << 20) - 1),
            ..StoreOptions::default()
        })
        .unwrap();
        assert!(matches!(
            tiny.validate(),
            Err(rosterdb::Error::InvalidArgument { argument, .. }) if argument == "cache_bytes"
        ));
    }
}
