//! App-clients (SPEC §2.3): service identities with a generated id and secret.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entity::{Entity, UniqueKey};
use crate::input::Fields;
use crate::keys::Key;
use crate::rules::{self, Problems};
use crate::schema::{CLIENT_CLIENT_ID, CLIENTS};
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

    /// Reads a client to create from its JSON document, reporting every bad field at once.
    pub fn from_json(doc: &Value) -> Result<Self> {
        let mut f = Fields::of(doc)?;
        f.read_only(&[
            "id",
            "clientId",
            "createdAt",
            "updatedAt",
            "lastUsedAt",
            "version",
        ]);
        let client = NewClient {
            name: f.required_string("name"),
            description: f.optional_string("description"),
            tenant: f.optional_string("tenant"),
            enabled: f.bool_or("enabled", true),
            roles: f.ids("roles"),
            ip_allowlist: f.strings("ipAllowlist"),
        };
        let mut problems = f.finish();
        problems.merge(client.problems());
        problems.into_result().map(|()| client)
    }

    /// Checks every field rule of SPEC §2.3.
    pub fn validate(&self) -> Result<()> {
        self.problems().into_result()
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
    pub(crate) id: u64,
    pub(crate) client_id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) tenant: Option<String>,
    pub(crate) enabled: bool,
    pub(crate) roles: Vec<u64>,
    pub(crate) ip_allowlist: Vec<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) last_used_at: Option<Timestamp>,
    pub(crate) secret_hash: String,
    pub(crate) version: u64,
}

impl ClientRecord {
    pub(crate) fn create(
        new: NewClient,
        id: u64,
        client_id: String,
        secret_hash: String,
        now: Timestamp,
    ) -> Self {
        ClientRecord {
            id,
            client_id,
            name: new.name,
            description: new.description,
            tenant: new.tenant,
            enabled: new.enabled,
            roles: crate::role::normalize_ids(new.roles),
            ip_allowlist: new.ip_allowlist,
            created_at: now,
            updated_at: now,
            last_used_at: None,
            secret_hash,
            version: 1,
        }
    }
}

/// The unique key of a public client id.
pub(crate) fn client_id_key(client_id: &str) -> Key {
    Key::new().str(client_id)
}

impl crate::tx::sealed::Sealed for Client {}

impl Entity for Client {
    const KIND: EntityKind = EntityKind::Client;
    const TABLE: crate::schema::RecordTable = CLIENTS;
    type Record = ClientRecord;

    fn id(r: &ClientRecord) -> u64 {
        r.id
    }

    fn version(r: &ClientRecord) -> u64 {
        r.version
    }

    fn tenant(r: &ClientRecord) -> Option<&str> {
        r.tenant.as_deref()
    }

    fn touch(r: &mut ClientRecord, now: Timestamp) {
        r.version = r.version.saturating_add(1);
        r.updated_at = now;
    }

    fn enabled(r: &ClientRecord) -> bool {
        r.enabled
    }

    fn held_roles(r: &ClientRecord) -> &[u64] {
        &r.roles
    }

    fn drop_role(r: &mut ClientRecord, role: u64) -> bool {
        let before = r.roles.len();
        r.roles.retain(|&id| id != role);
        r.roles.len() != before
    }

    fn unique_keys(r: &ClientRecord) -> Vec<UniqueKey> {
        vec![UniqueKey {
            table: CLIENT_CLIENT_ID,
            key: client_id_key(&r.client_id).into_bytes(),
            field: "clientId",
        }]
    }

    fn document(r: &ClientRecord, _now: Timestamp) -> Result<Client> {
        Ok(Client {
            id: r.id,
            client_id: r.client_id.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            tenant: r.tenant.clone(),
            enabled: r.enabled,
            roles: r.roles.clone(),
            ip_allowlist: r.ip_allowlist.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_used_at: r.last_used_at,
            version: r.version,
        })
    }
}

impl crate::query::schema::Queryable for ClientRecord {
    fn value(&self, name: &str, _now: Timestamp) -> crate::query::schema::FieldValue<'_> {
        use crate::query::schema::FieldValue as V;
        match name {
            "id" => V::Int(self.id),
            "clientId" => V::Str(&self.client_id),
            "name" => V::Str(&self.name),
            "description" => V::opt_str(self.description.as_deref()),
            "tenant" => V::opt_str(self.tenant.as_deref()),
            "enabled" => V::Bool(self.enabled),
            "roles" => V::Ints(&self.roles),
            "ipAllowlist" => V::Strs(self.ip_allowlist.iter().map(String::as_str).collect()),
            "createdAt" => V::Time(self.created_at),
            "updatedAt" => V::Time(self.updated_at),
            "lastUsedAt" => V::opt_time(self.last_used_at),
            "version" => V::Int(self.version),
            _ => V::Absent,
        }
    }
}

impl crate::update::Editable for Client {
    type New = NewClient;
    const READ_ONLY: &'static [&'static str] = &[
        "id",
        "clientId",
        "createdAt",
        "updatedAt",
        "lastUsedAt",
        "version",
    ];

    fn parse(doc: &Value) -> Result<NewClient> {
        NewClient::from_json(doc)
    }

    fn tenant_of(new: &NewClient) -> Option<&str> {
        new.tenant.as_deref()
    }

    fn rebuild(old: &ClientRecord, new: NewClient, _password_hash: Option<String>) -> ClientRecord {
        ClientRecord {
            updated_at: old.updated_at,
            last_used_at: old.last_used_at,
            version: old.version,
            ..ClientRecord::create(
                new,
                old.id,
                old.client_id.clone(),
                old.secret_hash.clone(),
                old.created_at,
            )
        }
    }
}

impl ClientRecord {
    /// A record from an exported document (SPEC §8).
    pub(crate) fn import(doc: &Value) -> Result<ClientRecord> {
        let mut kept = crate::transfer::Kept::take(doc)?;
        let last_used_at = kept.time("lastUsedAt")?;
        let client_id = kept.string("clientId")?.ok_or_else(|| {
            crate::Error::invalid("clientId", crate::ValidationCode::Missing, "is required")
        })?;
        let secret_hash = kept.string("secretHash")?.ok_or_else(|| {
            crate::Error::invalid("secretHash", crate::ValidationCode::Missing, "is required")
        })?;
        if !crate::credentials::is_argon2_phc(&secret_hash) {
            return Err(crate::Error::invalid(
                "secretHash",
                crate::ValidationCode::InvalidHash,
                "must be a PHC-format argon2 hash",
            ));
        }
        let new = NewClient::from_json(&kept.rest)?;
        Ok(ClientRecord {
            updated_at: kept.updated_at,
            last_used_at,
            version: kept.version,
            ..ClientRecord::create(new, kept.id, client_id, secret_hash, kept.created_at)
        })
    }
}
