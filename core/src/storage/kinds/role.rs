//! How roles are kept: their record table, their unique key (the name,
//! case-folded, per tenant) and their `Entity` binding.

use crate::documents::caseless::fold;
use crate::documents::role::RoleRecord;
use crate::storage::entity::{Entity, UniqueKey};
use crate::storage::keys::Key;
use crate::storage::schema::{ROLE_NAME, ROLES, RecordTable};
use crate::{EntityKind, Role};

/// The unique key of a role name.
pub(crate) fn name_key(tenant: Option<&str>, name: &str) -> Key {
    Key::new().tenant(tenant).str(&fold(name))
}

impl Entity for Role {
    const KIND: EntityKind = EntityKind::Role;
    const TABLE: RecordTable = ROLES;
    type Record = RoleRecord;

    fn unique_keys(r: &RoleRecord) -> Vec<UniqueKey> {
        vec![UniqueKey::new(
            ROLE_NAME,
            "name",
            name_key(r.header.tenant.as_deref(), &r.name),
        )]
    }

    fn same_unique_keys(old: &RoleRecord, new: &RoleRecord) -> bool {
        old.header.tenant == new.header.tenant && old.name == new.name
    }
}
