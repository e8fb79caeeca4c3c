//! The steps that bring an older store file to the current format (SPEC
//! §11). Each runs inside the opening transaction; any error leaves the file
//! as it was.
//!
//! Format history:
//! - 1: the first release.
//! - 2: user records gain their second factor (`totp`); the `sessions`,
//!   `idx.session.principal` and `idx.session.expires_at` tables appear.
//! - 3: `fold`, the caseless form of every index key and comparison, is
//!   NFKC_Casefold (SPEC §2.5) instead of `str::to_lowercase`: every unique
//!   and secondary index is rebuilt from the records. Records do not change.
//!   Texts that were distinct before may now be the same (`straße` and
//!   `STRASSE`, `ΟΔΟΣ` and `οδοσ`, `ａｄｍｉｎ` and `admin`); when two records
//!   of one tenant would then share a unique key, the file cannot be
//!   migrated: opening it fails with `IncompatibleFormat` naming both
//!   records, and leaves it as it was (`preflight` finds the clash on the
//!   read-only open, before the file is opened for writing).

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::ops::Bound;

use redb::{ReadableTable, TableHandle, WriteTransaction};
use serde::Deserialize;

use crate::entity::{Entity, UniqueKey};
use crate::schema::{MULTI_TABLES, UNIQUE_TABLES, USERS};
use crate::tx::Tables;
use crate::user::{ExternalId, UserRecord};
use crate::{Client, EntityKind, Error, Result, Role, Timestamp, User, codec};

/// A user record as format 1 wrote it.
#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
struct UserRecordV1 {
    id: u64,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    nickname: Option<String>,
    telephone_number: Option<String>,
    mobile_number: Option<String>,
    tenant: Option<String>,
    enabled: bool,
    roles: Vec<u64>,
    external_ids: Vec<ExternalId>,
    attributes: crate::json::Json,
    created_at: Timestamp,
    updated_at: Timestamp,
    last_login_at: Option<Timestamp>,
    locked_until: Option<Timestamp>,
    failed_logins: u32,
    password_hash: Option<String>,
    version: u64,
}

impl From<UserRecordV1> for UserRecord {
    /// A format-1 user has no second factor.
    fn from(old: UserRecordV1) -> UserRecord {
        UserRecord {
            id: old.id,
            username: old.username,
            email: old.email,
            first_name: old.first_name,
            last_name: old.last_name,
            nickname: old.nickname,
            telephone_number: old.telephone_number,
            mobile_number: old.mobile_number,
            tenant: old.tenant,
            enabled: old.enabled,
            roles: old.roles,
            external_ids: old.external_ids,
            attributes: old.attributes,
            created_at: old.created_at,
            updated_at: old.updated_at,
            last_login_at: old.last_login_at,
            locked_until: old.locked_until,
            failed_logins: old.failed_logins,
            password_hash: old.password_hash,
            version: old.version,
            totp: None,
        }
    }
}

/// Format 1 → 2: every user record is re-encoded with no second factor.
/// (The session tables are created after the last step.)
pub(crate) fn v1_to_v2(txn: &WriteTransaction) -> Result<()> {
    let mut users = txn.open_table(USERS)?;
    let mut after = 0;
    loop {
        let mut batch = Vec::new();
        for entry in users
            .range((Bound::Excluded(after), Bound::Unbounded))?
            .take(BATCH)
        {
            let (id, bytes) = entry?;
            batch.push((id.value(), codec::decode::<UserRecordV1>(bytes.value())?));
        }
        let Some(&(last, _)) = batch.last() else {
            return Ok(());
        };
        after = last;
        for (id, old) in batch {
            let record = UserRecord::from(old);
            users.insert(id, codec::encode(&record)?.as_slice())?;
        }
    }
}

/// Records read and written at a time.
const BATCH: usize = 1024;

/// Format 2 → 3: every index is emptied and rebuilt from the records with
/// NFKC_Casefold keys; two records (or one record twice) claiming one unique
/// key is the error of [`clash`]. Reads records with this release's structs,
/// which format 3 did not change.
pub(crate) fn v2_to_v3(txn: &WriteTransaction) -> Result<()> {
    for table in UNIQUE_TABLES {
        txn.delete_table(table)?;
    }
    for table in MULTI_TABLES {
        txn.delete_table(table)?;
    }
    rebuild::<User>(txn)?;
    rebuild::<Role>(txn)?;
    rebuild::<Client>(txn)
}

/// Writes the unique and secondary index entries of every record of `E`.
fn rebuild<E: Entity>(txn: &WriteTransaction) -> Result<()> {
    let mut after = 0;
    loop {
        let batch = txn.records_after(E::TABLE, after, BATCH)?;
        let Some(&(last, _)) = batch.last() else {
            return Ok(());
        };
        after = last;
        let mut unique = Vec::new();
        let mut multi = Vec::new();
        for (id, bytes) in batch {
            let record: E::Record = codec::decode(&bytes)?;
            unique.extend(E::unique_keys(&record).into_iter().map(|key| (id, key)));
            multi.extend(crate::query::index::entries(E::KIND, id, &record));
        }
        for def in UNIQUE_TABLES {
            let mut table = txn.open_table(def)?;
            for (id, key) in unique.iter().filter(|(_, k)| k.table.name() == def.name()) {
                if let Some(owner) = table.insert(key.key.as_slice(), *id)? {
                    return Err(clash(E::KIND, owner.value(), *id, key.field));
                }
            }
        }
        for def in MULTI_TABLES {
            let mut table = txn.open_table(def)?;
            for key in multi.iter().filter(|k| k.table.name() == def.name()) {
                table.insert(key.key.as_slice(), ())?;
            }
        }
    }
}

/// Checks, on a read-only view of a file of format `version`, what its
/// migration will need, so that a migration that must fail fails before the
/// file is opened for writing (which alone would change its bytes): no two
/// records may share a format-3 unique key.
pub(crate) fn preflight(tables: &dyn Tables, version: u64) -> Result<()> {
    if version >= 3 {
        return Ok(());
    }
    let mut claims = Claims::default();
    each_record(tables, USERS, |id, bytes| {
        let record: UserRecord = if version == 1 {
            codec::decode::<UserRecordV1>(bytes)?.into()
        } else {
            codec::decode(bytes)?
        };
        claims.claim(EntityKind::User, id, User::unique_keys(&record))
    })?;
    each_record(tables, Role::TABLE, |id, bytes| {
        claims.claim(
            EntityKind::Role,
            id,
            Role::unique_keys(&codec::decode(bytes)?),
        )
    })?;
    each_record(tables, Client::TABLE, |id, bytes| {
        claims.claim(
            EntityKind::Client,
            id,
            Client::unique_keys(&codec::decode(bytes)?),
        )
    })
}

/// Calls `f` with every record of `table`, in id order.
fn each_record(
    tables: &dyn Tables,
    table: crate::schema::RecordTable,
    mut f: impl FnMut(u64, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut after = 0;
    loop {
        let batch = tables.records_after(table, after, BATCH)?;
        let Some(&(last, _)) = batch.last() else {
            return Ok(());
        };
        after = last;
        for (id, bytes) in batch {
            f(id, &bytes)?;
        }
    }
}

/// The unique keys seen so far, each with the record that claimed it first.
#[derive(Default)]
struct Claims(HashMap<(EntityKind, &'static str, Vec<u8>), u64>);

impl Claims {
    fn claim(&mut self, kind: EntityKind, id: u64, keys: Vec<UniqueKey>) -> Result<()> {
        for key in keys {
            match self.0.entry((kind, key.field, key.key)) {
                MapEntry::Occupied(owner) => return Err(clash(kind, *owner.get(), id, key.field)),
                MapEntry::Vacant(free) => {
                    free.insert(id);
                }
            }
        }
        Ok(())
    }
}

/// The error of a unique key that two records (or one record twice) would
/// share in format 3. It names the records and the field, never the values.
pub(crate) fn clash(kind: EntityKind, first: u64, second: u64, field: &str) -> Error {
    let (what, fix) = if first == second {
        (
            format!("{kind} {first} has two {field} entries that are the same"),
            format!("remove one of them from {kind} {first}"),
        )
    } else {
        (
            format!("{kind} {first} and {kind} {second} have the same {field} in one tenant"),
            format!("change the {field} of {kind} {first} or {kind} {second}"),
        )
    };
    Error::incompatible(format!(
        "cannot migrate the file to format 3: {what} under format 3's caseless form \
         (NFKC_Casefold, SPEC §2.5); the file was not changed. Open it with the previous \
         release, {fix}, then open it with this release again"
    ))
}

#[cfg(test)]
mod tests {
    use redb::backends::InMemoryBackend;
    use redb::{Database, ReadableDatabase};

    use super::*;
    use crate::role::RoleRecord;
    use crate::schema::{ROLES, USER_USERNAME, meta};
    use crate::{NewRole, NewUser};

    fn user(id: u64, username: &str, email: &str, tenant: Option<&str>) -> UserRecord {
        let new = NewUser {
            tenant: tenant.map(Into::into),
            ..NewUser::new(username, email, "First", "Last")
        };
        UserRecord::create(new, id, None, Timestamp::from_millis(0).unwrap())
    }

    fn role(id: u64, name: &str, tenant: Option<&str>) -> RoleRecord {
        let new = NewRole {
            tenant: tenant.map(Into::into),
            ..NewRole::new(name)
        };
        RoleRecord::create(new, id, Timestamp::from_millis(0).unwrap())
    }

    /// A format-2 store holding these records and no index entries at all
    /// (as format 2 would have written them, its keys do not matter here:
    /// the migration rebuilds every index).
    fn format_2(users: &[UserRecord], roles: &[RoleRecord]) -> Database {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .unwrap();
        crate::format::prepare(&db).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(USERS).unwrap();
            for u in users {
                t.insert(u.id, codec::encode(u).unwrap().as_slice())
                    .unwrap();
            }
            let mut t = txn.open_table(ROLES).unwrap();
            for r in roles {
                t.insert(r.id, codec::encode(r).unwrap().as_slice())
                    .unwrap();
            }
            let mut m = txn.open_table(crate::schema::META).unwrap();
            m.insert(meta::FORMAT_VERSION, 2).unwrap();
            m.insert("last_id.user", users.len() as u64).unwrap();
            m.insert("last_id.role", roles.len() as u64).unwrap();
        }
        txn.commit().unwrap();
        db
    }

    fn reason(result: Result<()>) -> String {
        match result {
            Err(Error::IncompatibleFormat { reason }) => reason,
            other => panic!("expected IncompatibleFormat, got {other:?}"),
        }
    }

    /// Runs the preflight on a snapshot and the real migration, which must
    /// agree; returns the migration's error and checks it changed nothing.
    fn migrate_fails(db: &Database) -> String {
        let before = db
            .begin_read()
            .unwrap()
            .unique_entries(USER_USERNAME)
            .unwrap();
        let first = reason(preflight(&db.begin_read().unwrap(), 2));
        let second = reason(crate::format::prepare(db));
        assert_eq!(first, second);
        let read = db.begin_read().unwrap();
        assert_eq!(read.meta(meta::FORMAT_VERSION).unwrap(), Some(2));
        assert_eq!(read.unique_entries(USER_USERNAME).unwrap(), before);
        second
    }

    #[test]
    fn clashing_usernames_fail_naming_both_users() {
        let db = format_2(
            &[
                user(1, "straße", "a@x.io", Some("t1")),
                user(2, "bob", "b@x.io", Some("t1")),
                user(3, "STRASSE", "c@x.io", Some("t1")),
            ],
            &[],
        );
        let reason = migrate_fails(&db);
        assert!(reason.contains("user 1 and user 3"), "{reason}");
        assert!(reason.contains("same username"), "{reason}");
        assert!(reason.contains("previous release"), "{reason}");
        assert!(!reason.contains("STRASSE") && !reason.contains("straße"));
    }

    #[test]
    fn clashing_emails_and_role_names_fail() {
        let db = format_2(
            &[
                user(1, "a", "ΟΔΟΣ@x.io", None),
                user(2, "b", "οδοσ@x.io", None),
            ],
            &[],
        );
        let reason = migrate_fails(&db);
        assert!(
            reason.contains("user 1 and user 2 have the same email"),
            "{reason}"
        );

        let db = format_2(&[], &[role(1, "ａｄｍｉｎ", None), role(2, "Admin", None)]);
        let reason = migrate_fails(&db);
        assert!(
            reason.contains("role 1 and role 2 have the same name"),
            "{reason}"
        );
    }

    #[test]
    fn one_users_external_ids_that_fold_alike_fail() {
        let mut u = user(1, "a", "a@x.io", None);
        u.external_ids = vec![
            ExternalId::new("ldap", "uid=straße"),
            ExternalId::new("LDAP", "UID=STRASSE"),
        ];
        let reason = migrate_fails(&format_2(&[u], &[]));
        assert!(
            reason.contains("user 1 has two externalIds entries that are the same"),
            "{reason}"
        );
    }

    #[test]
    fn a_format_1_file_is_checked_with_its_own_records() {
        let v1 = |id: u64, username: &str| {
            let u = user(id, username, &format!("{id}@x.io"), None);
            UserRecordV1 {
                id: u.id,
                username: u.username,
                email: u.email,
                first_name: u.first_name,
                last_name: u.last_name,
                nickname: None,
                telephone_number: None,
                mobile_number: None,
                tenant: None,
                enabled: true,
                roles: Vec::new(),
                external_ids: Vec::new(),
                attributes: u.attributes,
                created_at: u.created_at,
                updated_at: u.updated_at,
                last_login_at: None,
                locked_until: None,
                failed_logins: 0,
                password_hash: None,
                version: 1,
            }
        };
        let db = format_2(&[], &[]);
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(USERS).unwrap();
            for u in [v1(1, "ΟΔΟΣ"), v1(2, "bob"), v1(3, "οδος")] {
                t.insert(u.id, codec::encode(&u).unwrap().as_slice())
                    .unwrap();
            }
            let mut m = txn.open_table(crate::schema::META).unwrap();
            m.insert(meta::FORMAT_VERSION, 1).unwrap();
            m.insert("last_id.user", 3).unwrap();
        }
        txn.commit().unwrap();
        // Format-1 records do not decode as format-2 ones: the preflight
        // reads them as format 1 wrote them.
        assert!(preflight(&db.begin_read().unwrap(), 2).is_err());
        let first = reason(preflight(&db.begin_read().unwrap(), 1));
        assert!(
            first.contains("user 1 and user 3 have the same username"),
            "{first}"
        );
        assert_eq!(reason(crate::format::prepare(&db)), first);
        let read = db.begin_read().unwrap();
        assert_eq!(read.meta(meta::FORMAT_VERSION).unwrap(), Some(1));
    }

    #[test]
    fn records_that_fold_alike_in_different_tenants_migrate() {
        let db = format_2(
            &[
                user(1, "straße", "ΟΔΟΣ@x.io", None),
                user(2, "STRASSE", "οδοσ@x.io", Some("t1")),
                user(3, "Strasse", "οδος@x.io", Some("T1")),
            ],
            &[role(1, "ﬁle", None), role(2, "FILE", Some("t1"))],
        );
        preflight(&db.begin_read().unwrap(), 2).unwrap();
        crate::format::prepare(&db).unwrap();
        let read = db.begin_read().unwrap();
        assert_eq!(read.meta(meta::FORMAT_VERSION).unwrap(), Some(3));
        let report = crate::integrity::check(&read).unwrap();
        assert!(report.ok, "{:?}", report.problems);
        assert_eq!(read.unique_entries(USER_USERNAME).unwrap().len(), 3);
    }

    #[test]
    fn the_rebuild_replaces_stale_entries() {
        let db = format_2(&[user(1, "Weiß", "w@x.io", None)], &[]);
        // A format-2 key (`to_lowercase`) and a stray entry of no record.
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(USER_USERNAME).unwrap();
            t.insert(crate::keys::Key::new().tenant(None).str("weiß").bytes(), 1)
                .unwrap();
            t.insert(crate::keys::Key::new().tenant(None).str("gone").bytes(), 9)
                .unwrap();
        }
        txn.commit().unwrap();
        crate::format::prepare(&db).unwrap();
        let read = db.begin_read().unwrap();
        let entries = read.unique_entries(USER_USERNAME).unwrap();
        assert_eq!(
            entries,
            [(
                crate::keys::Key::new()
                    .tenant(None)
                    .str("weiss")
                    .into_bytes(),
                1
            )]
        );
        assert!(crate::integrity::check(&read).unwrap().ok);
    }
}
