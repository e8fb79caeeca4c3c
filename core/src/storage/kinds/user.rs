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

    fn same_unique_keys(old: &UserRecord, new: &UserRecord) -> bool {
        old.header.tenant == new.header.tenant
            && old.username == new.username
            && old.email == new.email
            && old.external_ids == new.external_ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::header::Header;
    use crate::{ExternalId, NewUser, Timestamp};

    /// Users told to have the same unique keys have them, and a change
    /// of any field a key is made of is never told so.
    #[test]
    fn same_unique_keys_means_the_same_keys() {
        let now = Timestamp::from_millis(1_700_000_000_000).unwrap();
        let user = |edit: &dyn Fn(&mut NewUser)| {
            let mut new = NewUser::new("anna", "anna@x.org", "Anna", "Müller");
            new.tenant = Some("acme".into());
            new.external_ids = vec![ExternalId::new("github", "42")];
            edit(&mut new);
            UserRecord::create(new, Header::new(7, now), None)
        };
        let keys = |r: &UserRecord| -> Vec<(String, Vec<u8>)> {
            User::unique_keys(r)
                .into_iter()
                .map(|k| (k.field.to_owned(), k.key))
                .collect()
        };
        let base = user(&|_| {});
        let same = [
            user(&|n| n.first_name = "Anne".into()),
            user(&|n| {
                n.attributes.insert("a".into(), 1.into());
            }),
            user(&|n| n.roles = vec![1]),
        ];
        for other in &same {
            assert!(User::same_unique_keys(&base, other));
            assert_eq!(keys(&base), keys(other));
        }
        let changed = [
            user(&|n| n.username = "anne".into()),
            user(&|n| n.email = "anne@x.org".into()),
            user(&|n| n.tenant = None),
            user(&|n| n.external_ids.push(ExternalId::new("gitlab", "1"))),
            user(&|n| n.external_ids = vec![ExternalId::new("github", "43")]),
        ];
        for other in &changed {
            assert!(!User::same_unique_keys(&base, other));
            assert_ne!(keys(&base), keys(other));
        }
    }
}
