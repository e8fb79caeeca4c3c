//! Roles (docs/reference/documents.md, Roles): permission groups held by users and clients.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::documents::fields::FieldType::{Ident, Int, Str, Strs, Time};
use crate::documents::fields::{FieldId, FieldSpec, field_table};
use crate::documents::input::{Fields, Input, input_methods};
use crate::documents::record::{Record, record_fields};
use crate::documents::rules::{self, Problems};
use crate::{EntityKind, Result, Timestamp};

/// A role document, as the store returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Role {
    /// Assigned by the store, from 1, never reused.
    pub id: u64,
    /// Unique per tenant, case-insensitively.
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The id another system (a SCIM client) keeps for the role: compared
    /// exactly, not unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Permission strings, deduplicated and sorted.
    pub permissions: Vec<String>,
    /// The tenant the role belongs to; fixed at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// When the role was created.
    pub created_at: Timestamp,
    /// When the role was last changed.
    pub updated_at: Timestamp,
    /// 1 at creation, + 1 on every change.
    pub version: u64,
}

field_table! {
    /// A field of a role document: one row of the role field table, from
    /// which every list of role fields is derived (see `docs/design.md`,
    /// "Fields: one table per kind").
    pub enum RoleField;
    kind = EntityKind::Role;
    trigrams = false;
    Id => FieldSpec::read_only("id", Int),
    Name => FieldSpec::read_write("name", Str).indexed().search(),
    Description => FieldSpec::read_write("description", Str).search(),
    ExternalId => FieldSpec::read_write("externalId", Ident),
    Permissions => FieldSpec::read_write("permissions", Strs),
    Tenant => FieldSpec::create_only("tenant", Ident).indexed(),
    CreatedAt => FieldSpec::read_only("createdAt", Time).indexed(),
    UpdatedAt => FieldSpec::read_only("updatedAt", Time).indexed(),
    Version => FieldSpec::read_only("version", Int),
}

/// The fields of a role to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewRole {
    /// Required; 1–100 characters.
    pub name: String,
    /// 0–500 characters.
    pub description: Option<String>,
    /// 1–255 characters, no control characters; compared exactly, not unique.
    pub external_id: Option<String>,
    /// Each 1–100 characters of `[A-Za-z0-9:._*-]`; deduplicated and sorted.
    pub permissions: Vec<String>,
    /// 1–64 characters of `[A-Za-z0-9._:-]`.
    pub tenant: Option<String>,
}

impl NewRole {
    /// A role with this name and every other field at its default.
    pub fn new(name: impl Into<String>) -> Self {
        NewRole {
            name: name.into(),
            ..NewRole::default()
        }
    }
}

input_methods!(NewRole, "a role", "docs/reference/documents.md (Roles)");

impl Input for NewRole {
    type Field = RoleField;

    fn read(f: &mut Fields<'_>) -> Self {
        NewRole {
            name: f.required_string("name"),
            description: f.optional_string("description"),
            external_id: f.optional_string("externalId"),
            permissions: f.strings("permissions"),
            tenant: f.optional_string("tenant"),
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
        p.check_opt(
            "externalId",
            self.external_id.as_deref(),
            rules::role_external_id,
        );
        if p.bounded(
            "permissions",
            self.permissions.len(),
            rules::MAX_PERMISSIONS,
        ) {
            for (i, permission) in self.permissions.iter().enumerate() {
                p.check(&format!("permissions[{i}]"), permission, rules::permission);
            }
        }
        p.check_opt("tenant", self.tenant.as_deref(), rules::tenant);
        p
    }
}

/// Sorts and deduplicates a list of ids.
pub(crate) fn normalize_ids(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The stored form of a role.
#[doc(hidden)]
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleRecord {
    /// Id, tenant, timestamps and version, stored first (format 4).
    pub(crate) header: crate::documents::header::Header,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    /// Absent unless set (format 8).
    pub(crate) external_id: Option<String>,
    pub(crate) permissions: Vec<String>,
}

impl RoleRecord {
    /// The record of validated input under `header` (whose tenant becomes
    /// the input's), its permissions deduplicated and sorted.
    pub(crate) fn create(new: NewRole, header: crate::documents::header::Header) -> Self {
        let mut permissions = new.permissions;
        permissions.sort_unstable();
        permissions.dedup();
        RoleRecord {
            header: header.in_tenant(new.tenant),
            name: new.name,
            description: new.description,
            external_id: new.external_id,
            permissions,
        }
    }
}

crate::documents::record::decode_whole!(RoleRecord);

impl Record for RoleRecord {
    type Document = Role;
    type New = NewRole;
    type Stored<'a> = Self;

    record_fields!(header);

    fn rebuilt(&self, new: NewRole, _password_hash: Option<String>) -> RoleRecord {
        RoleRecord::create(new, self.header.clone())
    }

    fn document(&self, _now: Timestamp) -> Role {
        Role {
            id: self.header.id,
            name: self.name.clone(),
            description: self.description.clone(),
            external_id: self.external_id.clone(),
            permissions: self.permissions.clone(),
            tenant: self.header.tenant.clone(),
            created_at: self.header.created_at,
            updated_at: self.header.updated_at,
            version: self.header.version,
        }
    }
}

impl crate::documents::values::Queryable for RoleRecord {
    type Field = RoleField;

    fn get(&self, field: RoleField, _now: Timestamp) -> crate::documents::values::FieldValue<'_> {
        use crate::documents::values::FieldValue as V;
        use RoleField as F;
        match field {
            F::Id | F::Tenant | F::CreatedAt | F::UpdatedAt | F::Version => {
                self.header.value(field.name())
            }
            F::Name => V::Str(&self.name),
            F::Description => V::opt_str(self.description.as_deref()),
            F::ExternalId => V::opt_str(self.external_id.as_deref()),
            F::Permissions => V::Strs(self.permissions.iter().map(String::as_str).collect()),
        }
    }
}

impl RoleRecord {
    /// A record from an exported document (docs/reference/changes-and-export.md).
    pub(crate) fn import(doc: &Value) -> Result<RoleRecord> {
        let kept = crate::documents::header::Kept::take(doc)?;
        let new = NewRole::from_json(&kept.rest)?;
        Ok(RoleRecord::create(new, kept.header))
    }
}
