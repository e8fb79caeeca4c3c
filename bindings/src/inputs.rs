//! What callers send: records of new users, roles and clients, and the
//! options of a store, with their conversions into the core's types.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::{ExternalId, JsonObject, RosterError, Secret};

/// The fields of a user to create (SPEC §2.1). Every field but the four
/// required ones has a default, so Kotlin can name only what it sets:
/// `NewUser(username = "ada", email = "ada@example.com", firstName = "Ada", lastName = "Lovelace")`.
#[derive(Clone, Debug, uniffi::Record)]
pub struct NewUser {
    /// Required; 1–100 letters, ASCII digits and `@ . - _`.
    pub username: String,
    /// Required; `local@domain.tld`, 5–255 characters.
    pub email: String,
    /// Required; 1–50 characters.
    pub first_name: String,
    /// Required; 1–50 characters.
    pub last_name: String,
    /// 0–50 characters.
    #[uniffi(default = None)]
    pub nickname: Option<String>,
    /// 1–100 characters.
    #[uniffi(default = None)]
    pub telephone_number: Option<String>,
    /// 1–30 characters.
    #[uniffi(default = None)]
    pub mobile_number: Option<String>,
    /// 1–64 characters of `[A-Za-z0-9._:-]`; fixed once created.
    #[uniffi(default = None)]
    pub tenant: Option<String>,
    /// Whether the user may log in; default true.
    #[uniffi(default = true)]
    pub enabled: bool,
    /// Role ids of the same tenant; duplicates are removed.
    #[uniffi(default = [])]
    pub roles: Vec<u64>,
    /// (tenant, type, value) must be unique.
    #[uniffi(default = [])]
    pub external_ids: Vec<ExternalId>,
    /// A JSON object of free-form profile fields, at most 16 KiB; default `{}`.
    #[uniffi(default = "{}")]
    pub attributes: JsonObject,
    /// 8–1024 characters; stored only as an Argon2id hash.
    #[uniffi(default = None)]
    pub password: Option<Arc<Secret>>,
    /// A PHC-format Argon2 hash imported from another system; not with `password`.
    #[uniffi(default = None)]
    pub password_hash: Option<String>,
}

impl TryFrom<NewUser> for rosterdb::NewUser {
    type Error = RosterError;

    /// The core's input; `attributes` that are not a JSON object are a
    /// `Validation` error, reported together with the core's own checks.
    fn try_from(u: NewUser) -> Result<Self, RosterError> {
        let NewUser {
            username,
            email,
            first_name,
            last_name,
            nickname,
            telephone_number,
            mobile_number,
            tenant,
            enabled,
            roles,
            external_ids,
            attributes,
            password,
            password_hash,
        } = u;
        let (attributes, attributes_problem) = match json_object(&attributes.0) {
            Ok(map) => (map, None),
            Err(problem) => (Map::new(), Some(problem)),
        };
        let user = rosterdb::NewUser {
            username,
            email,
            first_name,
            last_name,
            nickname,
            telephone_number,
            mobile_number,
            tenant,
            enabled,
            roles,
            external_ids: external_ids.into_iter().map(Into::into).collect(),
            attributes,
            password: password.map(|secret| secret.0.clone()),
            password_hash,
        };
        match attributes_problem {
            None => Ok(user),
            Some(problem) => {
                let mut errors = match user.validate() {
                    Err(rosterdb::Error::Validation { errors }) => errors,
                    _ => Vec::new(),
                };
                errors.push(rosterdb::FieldError::new("attributes", problem));
                Err(rosterdb::Error::Validation { errors }.into())
            }
        }
    }
}

/// Parses the text of a JSON object, or says what is wrong with it.
fn json_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("must be a JSON object".into()),
        Err(e) => Err(format!("is not valid JSON ({e})")),
    }
}

/// Parses the text of a whole JSON document for a `*_json` entry point.
///
/// Text that is not JSON is a `Validation` error on `""`, the whole
/// document; what the document holds is then checked by the core.
pub(crate) fn json_document(text: &str) -> Result<Value, RosterError> {
    json_argument("the document", text)
}

/// Parses the JSON text of the argument `name` of an update (`partial` of
/// a merge, `doc` of a replace): text that is not JSON is a `Validation`
/// error on `""`, the whole document, naming the argument. Whether it is an
/// object, and what it holds, the core checks.
pub(crate) fn json_argument(name: &str, text: &str) -> Result<Value, RosterError> {
    serde_json::from_str(text)
        .map_err(|e| RosterError::invalid("", format!("{name} is not valid JSON ({e})")))
}

/// Parses the JSON text of the `ops` of a patch. Text that is not JSON is
/// `InvalidPatch` at operation 0, as the core reports a patch that is not an
/// array of operations, naming the argument.
pub(crate) fn json_patch_ops(text: &str) -> Result<Value, RosterError> {
    serde_json::from_str(text).map_err(|e| RosterError::InvalidPatch {
        op_index: 0,
        reason: format!("ops is not valid JSON ({e})"),
    })
}

/// The fields of a role to create (SPEC §2.2).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct NewRole {
    /// Required; 1–100 characters, unique per tenant.
    pub name: String,
    /// 0–500 characters.
    #[uniffi(default = None)]
    pub description: Option<String>,
    /// Each 1–100 characters of `[A-Za-z0-9:._*-]`; deduplicated and sorted.
    #[uniffi(default = [])]
    pub permissions: Vec<String>,
    /// 1–64 characters of `[A-Za-z0-9._:-]`; fixed once created.
    #[uniffi(default = None)]
    pub tenant: Option<String>,
}

convert_fields!(NewRole => rosterdb::NewRole {
    name,
    description,
    permissions,
    tenant,
});

/// The fields of an app-client to create (SPEC §2.3); the store generates
/// its client id and secret.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct NewClient {
    /// Required; 1–100 characters.
    pub name: String,
    /// 0–500 characters.
    #[uniffi(default = None)]
    pub description: Option<String>,
    /// 1–64 characters of `[A-Za-z0-9._:-]`; fixed once created.
    #[uniffi(default = None)]
    pub tenant: Option<String>,
    /// Whether the client may log in; default true.
    #[uniffi(default = true)]
    pub enabled: bool,
    /// Role ids of the same tenant; duplicates are removed.
    #[uniffi(default = [])]
    pub roles: Vec<u64>,
    /// IPv4/IPv6 addresses or CIDR blocks the client may log in from; empty means any.
    #[uniffi(default = [])]
    pub ip_allowlist: Vec<String>,
}

convert_fields!(NewClient => rosterdb::NewClient {
    name,
    description,
    tenant,
    enabled,
    roles,
    ip_allowlist,
});

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
    pub totp_issuer: Option<String>,
}

impl From<StoreOptions> for rosterdb::Options {
    fn from(o: StoreOptions) -> Self {
        let StoreOptions {
            argon2_memory_kib,
            argon2_iterations,
            argon2_parallelism,
            lockout_threshold,
            lockout_seconds,
            totp_issuer,
        } = o;
        let defaults = rosterdb::Options::default();
        let argon2 = defaults.argon2;
        let lockout = defaults.lockout;
        let issuer = totp_issuer.unwrap_or_else(|| defaults.totp_issuer.clone());
        defaults
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user(email: &str, attributes: &str) -> NewUser {
        NewUser {
            username: "ada".into(),
            email: email.into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            nickname: None,
            telephone_number: None,
            mobile_number: None,
            tenant: None,
            enabled: true,
            roles: vec![],
            external_ids: vec![],
            attributes: JsonObject(attributes.into()),
            password: Some(Arc::new(Secret::new("a secret password".into()))),
            password_hash: None,
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
    fn update_arguments_that_are_not_json_name_the_argument() {
        for bad in ["", "[", "{\"op\": }", "[] []"] {
            match json_patch_ops(bad) {
                Err(RosterError::InvalidPatch { op_index, reason }) => {
                    assert_eq!(op_index, 0);
                    assert!(reason.starts_with("ops is not valid JSON ("), "{reason}");
                }
                other => panic!("expected InvalidPatch for {bad:?}, got {other:?}"),
            }
            match json_argument("partial", bad) {
                Err(RosterError::Validation { errors }) => {
                    assert_eq!(errors.len(), 1);
                    assert_eq!(errors[0].field, "");
                    assert!(errors[0].message.starts_with("partial is not valid JSON ("));
                }
                other => panic!("expected Validation for {bad:?}, got {other:?}"),
            }
        }
        // Valid JSON of any shape passes; the core checks the shape.
        assert_eq!(json_patch_ops("{}"), Ok(serde_json::json!({})));
        assert_eq!(json_argument("doc", "[1]"), Ok(serde_json::json!([1])));
    }

    #[test]
    fn absent_store_options_keep_the_core_defaults() {
        assert_eq!(
            rosterdb::Options::from(StoreOptions::default()),
            rosterdb::Options::default()
        );
        let cheap = StoreOptions {
            argon2_memory_kib: Some(8),
            argon2_iterations: Some(1),
            ..StoreOptions::default()
        };
        let options = rosterdb::Options::from(cheap);
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
        let options = rosterdb::Options::from(StoreOptions {
            argon2_memory_kib: Some(16),
            argon2_iterations: Some(3),
            argon2_parallelism: Some(2),
            lockout_threshold: Some(0),
            lockout_seconds: Some(60),
            totp_issuer: Some("Acme".into()),
        });
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
        // Any u64 converts; the core's check at open refuses what is out of range.
        let huge = rosterdb::Options::from(StoreOptions {
            lockout_seconds: Some(u64::MAX),
            ..StoreOptions::default()
        });
        assert!(matches!(
            huge.validate(),
            Err(rosterdb::Error::InvalidArgument { argument, .. }) if argument == "lockout_seconds"
        ));
    }
}
