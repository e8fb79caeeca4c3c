//! How users are kept: their record table, their unique keys (username,
//! email, external ids; case-folded, per tenant) and their `Entity` binding.

use crate::documents::caseless::fold;
use crate::documents::user::UserRecord;
use crate::storage::entity::{Entity, UniqueKey};
use crate::storage::index::FoldedTexts;
use crate::storage::keys::Key;
use crate::storage::schema::{RecordTable, USER_EMAIL, USER_EXTERNAL_ID, USER_USERNAME, USERS};
use crate::{EntityKind, User};

/// The unique key of a username or email.
pub(crate) fn folded_key(tenant: Option<&str>, value: &str) -> Key {
    Key::new().tenant(tenant).str(&fold(value))
}

/// The unique key of an external id (type and value case-folded).
pub(crate) fn external_key(tenant: Option<&str>, kind: &str, value: &str) -> Key {
    Key::new().tenant(tenant).str(&fold(kind)).str(&fold(value))
}

impl Entity for User {
    const KIND: EntityKind = EntityKind::User;
    const TABLE: RecordTable = USERS;
    type Record = UserRecord;

    fn unique_keys(r: &UserRecord) -> Vec<UniqueKey> {
        Self::unique_keys_folded(r, &mut FoldedTexts::default())
    }

    fn unique_keys_folded(r: &UserRecord, folded: &mut FoldedTexts) -> Vec<UniqueKey> {
        let tenant = r.header.tenant.as_deref();
        let key = |folded: &str| Key::new().tenant(tenant).str(folded);
        let mut keys = vec![
            UniqueKey::new(
                USER_USERNAME,
                "username",
                key(folded.get("username", &r.username)),
            ),
            UniqueKey::new(USER_EMAIL, "email", key(folded.get("email", &r.email))),
        ];
        keys.extend(r.external_ids.iter().map(|e| {
            UniqueKey::new(
                USER_EXTERNAL_ID,
                "externalIds",
                external_key(tenant, &e.kind, &e.value),
            )
        }));
        keys
    }
}
