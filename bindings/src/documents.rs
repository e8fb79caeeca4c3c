//! The documents the store returns, as uniffi records (Kotlin data classes,
//! Swift structs) with camelCase fields in the foreign languages.

use std::sync::Arc;

use crate::convert::all;
use crate::{ChangeOp, EntityKind, JsonObject, Secret, Timestamp, UnicodeString};

/// An identity in another system, e.g. type `github`, value `12345`.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ExternalId {
    /// The other system, 1–50 characters (`type` in JSON documents).
    pub kind: UnicodeString,
    /// The identity there, 1–255 characters.
    pub value: UnicodeString,
}

convert_fields!(rosterdb::ExternalId => ExternalId { kind, value });

/// A user, as the store returns it (docs/reference/documents.md, Users).
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct User {
    /// Assigned by the store, from 1, never reused.
    pub id: u64,
    /// Unique per tenant, case-insensitively.
    pub username: String,
    /// Unique per tenant, case-insensitively.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Optional display name.
    pub nickname: Option<String>,
    /// Optional phone number.
    pub telephone_number: Option<String>,
    /// Optional mobile number.
    pub mobile_number: Option<String>,
    /// The tenant the user belongs to; fixed at creation.
    pub tenant: Option<String>,
    /// Whether the user may log in.
    pub enabled: bool,
    /// Ids of the roles the user holds, sorted.
    pub roles: Vec<u64>,
    /// Identities of the user in other systems.
    pub external_ids: Vec<ExternalId>,
    /// Free-form profile fields, as a JSON object (`{}` when there are none).
    pub attributes: JsonObject,
    /// When the user was created.
    pub created_at: Timestamp,
    /// When the user was last changed.
    pub updated_at: Timestamp,
    /// When the user last logged in.
    pub last_login_at: Option<Timestamp>,
    /// Until when the user is locked out, while that is in the future.
    pub locked_until: Option<Timestamp>,
    /// Whether the user has a password.
    pub has_password: bool,
    /// Whether logins need a TOTP or recovery code (docs/reference/credentials.md, "Second factor
    /// (TOTP)").
    pub totp_enabled: bool,
    /// 1 at creation, + 1 on every change.
    pub version: u64,
}

convert_fields!(rosterdb::User => User {
    id, username, email, first_name, last_name, nickname, telephone_number, mobile_number,
    tenant, enabled, roles, external_ids: all, attributes, created_at, updated_at,
    last_login_at, locked_until, has_password, totp_enabled, version,
});

/// A role (permission group), as the store returns it (docs/reference/documents.md, Roles).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Role {
    /// Assigned by the store, from 1, never reused.
    pub id: u64,
    /// Unique per tenant, case-insensitively.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// The id another system (a SCIM client) keeps for the role: compared
    /// exactly, not unique.
    pub external_id: Option<String>,
    /// Permission strings, deduplicated and sorted.
    pub permissions: Vec<String>,
    /// The tenant the role belongs to; fixed at creation.
    pub tenant: Option<String>,
    /// When the role was created.
    pub created_at: Timestamp,
    /// When the role was last changed.
    pub updated_at: Timestamp,
    /// 1 at creation, + 1 on every change.
    pub version: u64,
}

convert_fields!(rosterdb::Role => Role {
    id, name, description, external_id, permissions, tenant, created_at, updated_at, version,
});

/// An app-client, as the store returns it (docs/reference/documents.md, Clients). Its secret is
/// never part of it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Client {
    /// Assigned by the store, from 1, never reused.
    pub id: u64,
    /// The public client id: `rc_` and 22 base62 characters, unique.
    pub client_id: String,
    /// Required display name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// The tenant the client belongs to; fixed at creation.
    pub tenant: Option<String>,
    /// Whether the client may log in.
    pub enabled: bool,
    /// Ids of the roles the client holds, sorted.
    pub roles: Vec<u64>,
    /// Addresses or CIDR blocks the client may log in from; empty means any.
    pub ip_allowlist: Vec<String>,
    /// When the client was created.
    pub created_at: Timestamp,
    /// When the client was last changed.
    pub updated_at: Timestamp,
    /// When the client last logged in.
    pub last_used_at: Option<Timestamp>,
    /// 1 at creation, + 1 on every change.
    pub version: u64,
}

convert_fields!(rosterdb::Client => Client {
    id, client_id, name, description, tenant, enabled, roles, ip_allowlist, created_at,
    updated_at, last_used_at, version,
});

/// A newly created client and its secret, which the store never shows again.
#[derive(Clone, Debug, uniffi::Record)]
pub struct CreatedClient {
    /// The client document.
    pub client: Client,
    /// The generated secret (32 random bytes, base64url); read it with `expose()`.
    pub secret: Arc<Secret>,
}

impl From<rosterdb::CreatedClient> for CreatedClient {
    fn from(c: rosterdb::CreatedClient) -> Self {
        let rosterdb::CreatedClient { client, secret } = c;
        CreatedClient {
            client: client.into(),
            secret: Arc::new(Secret::from(secret)),
        }
    }
}

/// One entry of the change log (docs/reference/changes-and-export.md).
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Change {
    /// Strictly increasing sequence number, starting at 1.
    pub seq: u64,
    /// When the write was made.
    pub at: Timestamp,
    /// The kind of record written.
    pub entity: EntityKind,
    /// The record's id.
    pub id: u64,
    /// What the write did.
    pub op: ChangeOp,
    /// The record's version after the write (for a delete, its last version).
    pub version: u64,
}

convert_fields!(rosterdb::Change => Change { seq, at, entity, id, op, version });

/// What `check()` found (docs/reference/changes-and-export.md): whether every index entry matches
/// its record and every record has its index entries.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CheckReport {
    /// True when nothing is wrong.
    pub ok: bool,
    /// One line per problem found; empty when `ok`.
    pub problems: Vec<String>,
}

convert_fields!(rosterdb::CheckReport => CheckReport { ok, problems });
