//! App-clients (docs/reference/documents.md, Clients): service identities with a generated id and
//! secret.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::documents::fields::FieldType::{Bool, Ident, Int, Ints, Str, Strs, Time};
use crate::documents::fields::{FieldId, FieldSpec, field_table};
use crate::documents::input::{Fields, Input, input_methods};
use crate::documents::record::{Record, record_fields};
use crate::documents::rules::{self, Problems};
use crate::{EntityKind, Result, Secret, Timestamp};

/// A client document, as the store returns it. The secret is never part of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Client {
    /// Assigned by the store, from 1, never reused.
    pub id: u64,
    /// The public client id: `rc_` and 22 base62 characters, unique.
    pub client_id: String,
    /// Required display name.
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The tenant the client belongs to; fixed at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    /// 1 at creation, + 1 on every change.
    pub version: u64,
}

field_table! {
    /// A field of a client document: one row of the client field table,
    /// from which every list of client fields is derived (see
    /// `docs/design.md`, "Fields: one table per kind").
    pub enum ClientField;
    kind = EntityKind::Client;
    trigrams = false;
    Id => FieldSpec::read_only("id", Int),
    ClientId => FieldSpec::read_only("clientId", Str).search(),
    Name => FieldSpec::read_write("name", Str).indexed().search(),
    Description => FieldSpec::read_write("description", Str).search(),
    Tenant => FieldSpec::create_only("tenant", Ident).indexed(),
    Enabled => FieldSpec::read_write("enabled", Bool).indexed(),
    Roles => FieldSpec::read_write("roles", Ints).indexed(),
    IpAllowlist => FieldSpec::read_write("ipAllowlist", Strs),
    CreatedAt => FieldSpec::read_only("createdAt", Time).indexed(),
    UpdatedAt => FieldSpec::read_only("updatedAt", Time).indexed(),
    LastUsedAt => FieldSpec::read_only("lastUsedAt", Time),
    Version => FieldSpec::read_only("version", Int),
}

/// A newly created client and its secret, which the store never shows again.
#[derive(Clone, Debug)]
pub struct CreatedClient {
    /// The client document.
    pub client: Client,
    /// The generated secret: 32 random bytes, base64url.
    pub secret: Secret,
}

/// The fields of a client to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewClient {
    /// Required; 1–100 characters.
    pub name: String,
    /// 0–500 characters.
    pub description: Option<String>,
    /// 1–64 characters of `[A-Za-z0-9._:-]`.
    pub tenant: Option<String>,
    /// Default true.
    pub enabled: bool,
    /// Role ids of the same tenant; duplicates are removed.
    pub roles: Vec<u64>,
    /// IPv4/IPv6 addresses or CIDR blocks.
    pub ip_allowlist: Vec<String>,
}

impl NewClient {
    /// A client with this name and every other field at its default.
    pub fn new(name: impl Into<String>) -> Self {
        NewClient {
            name: name.into(),
            description: None,
            tenant: None,
            enabled: true,
            roles: Vec::new(),
            ip_allowlist: Vec::new(),
        }
    }
}

input_methods!(
    NewClient,
    "a client",
    "docs/reference/documents.md (Clients)"
);

impl Input for NewClient {
    type Field = ClientField;

    fn read(f: &mut Fields<'_>) -> Self {
        NewClient {
            name: f.required_string("name"),
            description: f.optional_string("description"),
            tenant: f.optional_string("tenant"),
            enabled: f.bool_or("enabled", true),
            roles: f.ids("roles"),
            ip_allowlist: f.strings("ipAllowlist"),
        }
    }

    fn problems(&self) -> Problems {
        let mut p = Problems::new();
        p.check("name", &self.name, rules::entity_name);
        p.check_opt(
            "description",
            self.description.as_deref(),
            rules::description,
        );
        p.check_opt("tenant", self.tenant.as_deref(), rules::tenant);
        if p.bounded(
            "ipAllowlist",
            self.ip_allowlist.len(),
            rules::MAX_IP_ALLOWLIST,
        ) {
            for (i, entry) in self.ip_allowlist.iter().enumerate() {
                p.check(&format!("ipAllowlist[{i}]"), entry, rules::ip_or_cidr);
            }
        }
        p.role_ids(&self.roles);
        p
    }
}

/// The stored form of a client.
#[doc(hidden)]
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// Id, tenant, timestamps and version, stored first (format 4).
    pub(crate) header: crate::documents::header::Header,
    pub(crate) client_id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) enabled: bool,
    pub(crate) roles: Vec<u64>,
    pub(crate) ip_allowlist: Vec<String>,
    pub(crate) last_used_at: Option<Timestamp>,
    pub(crate) secret_hash: String,
}

impl ClientRecord {
    /// The record of validated input under `header` (whose tenant becomes
    /// the input's), with its public id and the stored form of its secret.
    pub(crate) fn create(
        new: NewClient,
        header: crate::documents::header::Header,
        client_id: String,
        secret_hash: String,
    ) -> Self {
        ClientRecord {
            header: header.in_tenant(new.tenant),
            client_id,
            name: new.name,
            description: new.description,
            enabled: new.enabled,
            roles: crate::documents::role::normalize_ids(new.roles),
            ip_allowlist: new.ip_allowlist,
            last_used_at: None,
            secret_hash,
        }
    }
}

crate::documents::record::decode_whole!(ClientRecord);

impl Record for ClientRecord {
    type Document = Client;
    type New = NewClient;
    type Stored<'a> = Self;

    record_fields!(header, roles, enabled);

    fn rebuilt(&self, new: NewClient, _password_hash: Option<String>) -> ClientRecord {
        ClientRecord {
            last_used_at: self.last_used_at,
            ..ClientRecord::create(
                new,
                self.header.clone(),
                self.client_id.clone(),
                self.secret_hash.clone(),
            )
        }
    }

    fn document(&self, _now: Timestamp) -> Client {
        Client {
            id: self.header.id,
            client_id: self.client_id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            tenant: self.header.tenant.clone(),
            enabled: self.enabled,
            roles: self.roles.clone(),
            ip_allowlist: self.ip_allowlist.clone(),
            created_at: self.header.created_at,
            updated_at: self.header.updated_at,
            last_used_at: self.last_used_at,
            version: self.header.version,
        }
    }
}

impl crate::documents::values::Queryable for ClientRecord {
    type Field = ClientField;

    fn get(&self, field: ClientField, _now: Timestamp) -> crate::documents::values::FieldValue<'_> {
        use crate::documents::values::FieldValue as V;
        use ClientField as F;
        match field {
            F::Id | F::Tenant | F::CreatedAt | F::UpdatedAt | F::Version => {
                self.header.value(field.name())
            }
            F::ClientId => V::Str(&self.client_id),
            F::Name => V::Str(&self.name),
            F::Description => V::opt_str(self.description.as_deref()),
            F::Enabled => V::Bool(self.enabled),
            F::Roles => V::Ints(&self.roles),
            F::IpAllowlist => V::Strs(self.ip_allowlist.iter().map(String::as_str).collect()),
            F::LastUsedAt => V::opt_time(self.last_used_at),
        }
    }
}

impl ClientRecord {
    /// A record from an exported document (docs/reference/changes-and-export.md).
    pub(crate) fn import(doc: &Value) -> Result<ClientRecord> {
        let mut kept = crate::documents::header::Kept::take(doc)?;
        let last_used_at = kept.time("lastUsedAt")?;
        let client_id = kept.string("clientId")?.ok_or_else(|| {
            crate::Error::invalid("clientId", crate::ValidationCode::Missing, "is required")
        })?;
        let secret_hash = kept.string("secretHash")?.ok_or_else(|| {
            crate::Error::invalid("secretHash", crate::ValidationCode::Missing, "is required")
        })?;
        if !crate::documents::credentials::is_argon2_phc(&secret_hash) {
            return Err(crate::Error::invalid(
                "secretHash",
                crate::ValidationCode::InvalidHash,
                "must be a PHC-format argon2 hash",
            ));
        }
        let new = NewClient::from_json(&kept.rest)?;
        Ok(ClientRecord {
            last_used_at,
            ..ClientRecord::create(new, kept.header, client_id, secret_hash)
        })
    }
}
