//! The redb tables of a store file (docs/reference/storage.md), and the table of each
//! secondary index the field tables ask for ([`IndexTable`], named there by
//! kind and field): an ordered table per indexed field, except the
//! low-cardinality ones (tenant, enabled, roles), which are kept as
//! posting tables only (`storage::postings`, format 9), as is the trigram
//! index.

use std::fmt;

use redb::TableDefinition;

use crate::EntityKind;
use crate::documents::fields::IndexTable;
use crate::storage::postings::PostingTable;

/// Records of one kind: id → encoded record.
pub(crate) type RecordTable = TableDefinition<'static, u64, &'static [u8]>;
/// A unique index: encoded key → record id.
pub(crate) type UniqueTable = TableDefinition<'static, &'static [u8], u64>;
/// A non-unique index: encoded key ending in the record id → nothing.
pub(crate) type MultiTable = TableDefinition<'static, &'static [u8], ()>;
/// A hashed unique index (format 10, `storage::unique`): (XXH3-64 of the
/// encoded key, record id) → nothing.
pub(crate) type HashedTable = TableDefinition<'static, (u64, u64), ()>;

pub(crate) const USERS: RecordTable = TableDefinition::new("users");
pub(crate) const ROLES: RecordTable = TableDefinition::new("roles");
pub(crate) const CLIENTS: RecordTable = TableDefinition::new("clients");

/// Format version, id counters and the change-log counter.
pub(crate) const META: TableDefinition<'static, &'static str, u64> = TableDefinition::new("meta");
/// The change log: sequence number → encoded change.
pub(crate) const CHANGES: RecordTable = TableDefinition::new("changes");

/// Sessions: SHA-256 digest of the bearer token → encoded session.
pub(crate) const SESSIONS: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("sessions");
/// (principal kind, principal id, token digest) → nothing: a principal's sessions.
pub(crate) const SESSION_PRINCIPAL: MultiTable = TableDefinition::new("idx.session.principal");
/// (expiresAt, token digest) → nothing: expired sessions, oldest first.
pub(crate) const SESSION_EXPIRY: MultiTable = TableDefinition::new("idx.session.expires_at");

/// (tenant, case-folded username) → user id: the unique username index
/// as formats 1 to 9 kept it, and the name by which the code asks for
/// it; format 10 keeps it as [`USER_USERNAME_HASHED`].
pub(crate) const USER_USERNAME: UniqueTable = TableDefinition::new("idx.user.username");
/// (tenant, case-folded email) → user id, as formats 1 to 9 kept it;
/// format 10 keeps it as [`USER_EMAIL_HASHED`].
pub(crate) const USER_EMAIL: UniqueTable = TableDefinition::new("idx.user.email");
/// The unique username index of format 10: (XXH3-64 of the key
/// [`USER_USERNAME`] held, user id) → nothing.
pub(crate) const USER_USERNAME_HASHED: HashedTable = TableDefinition::new("idx.user.username.hash");
/// The unique e-mail index of format 10: (XXH3-64 of the key
/// [`USER_EMAIL`] held, user id) → nothing.
pub(crate) const USER_EMAIL_HASHED: HashedTable = TableDefinition::new("idx.user.email.hash");
/// The unique indexes format 10 keeps hashed: (the index, its table).
pub(crate) const HASHED_TABLES: [(UniqueTable, HashedTable); 2] = [
    (USER_USERNAME, USER_USERNAME_HASHED),
    (USER_EMAIL, USER_EMAIL_HASHED),
];
/// (tenant, external id type, value) → user id.
pub(crate) const USER_EXTERNAL_ID: UniqueTable = TableDefinition::new("idx.user.external_id");
/// (tenant, case-folded name) → role id.
pub(crate) const ROLE_NAME: UniqueTable = TableDefinition::new("idx.role.name");
/// clientId → client id.
pub(crate) const CLIENT_CLIENT_ID: UniqueTable = TableDefinition::new("idx.client.client_id");

// Ordered secondary indexes (see `storage::index` for their keys).
pub(crate) const USER_CREATED: MultiTable = TableDefinition::new("idx.user.created_at");
pub(crate) const USER_UPDATED: MultiTable = TableDefinition::new("idx.user.updated_at");
pub(crate) const USER_LAST_NAME: MultiTable = TableDefinition::new("idx.user.last_name");
pub(crate) const USER_USERNAME_ORDER: MultiTable = TableDefinition::new("idx.user.username.order");
pub(crate) const USER_EMAIL_ORDER: MultiTable = TableDefinition::new("idx.user.email.order");
/// The trigram index, as postings: (field number, trigram) → ids.
pub(crate) const USER_TRIGRAMS: PostingTable = TableDefinition::new("idx.user.trigrams");
pub(crate) const ROLE_NAME_ORDER: MultiTable = TableDefinition::new("idx.role.name.order");
pub(crate) const ROLE_CREATED: MultiTable = TableDefinition::new("idx.role.created_at");
pub(crate) const ROLE_UPDATED: MultiTable = TableDefinition::new("idx.role.updated_at");
pub(crate) const CLIENT_CREATED: MultiTable = TableDefinition::new("idx.client.created_at");
pub(crate) const CLIENT_UPDATED: MultiTable = TableDefinition::new("idx.client.updated_at");
pub(crate) const CLIENT_NAME: MultiTable = TableDefinition::new("idx.client.name");

/// The ordered indexes of the low-cardinality fields that formats 1 to 8
/// kept beside their postings (format 9 deletes them, `migrations`): a
/// format-8 log's records still name them, and are replayed before the
/// migration (`wal::journal`).
pub(crate) const RETIRED_IN_9: [MultiTable; 7] = [
    TableDefinition::new("idx.user.tenant"),
    TableDefinition::new("idx.user.enabled"),
    TableDefinition::new("idx.user.roles"),
    TableDefinition::new("idx.role.tenant"),
    TableDefinition::new("idx.client.tenant"),
    TableDefinition::new("idx.client.enabled"),
    TableDefinition::new("idx.client.roles"),
];

// Postings of low-cardinality fields: (marker, value) as an ordered key
// would start → ids.
pub(crate) const USER_TENANT_POSTINGS: PostingTable = TableDefinition::new("post.user.tenant");
pub(crate) const USER_ENABLED_POSTINGS: PostingTable = TableDefinition::new("post.user.enabled");
pub(crate) const USER_ROLES_POSTINGS: PostingTable = TableDefinition::new("post.user.roles");
pub(crate) const ROLE_TENANT_POSTINGS: PostingTable = TableDefinition::new("post.role.tenant");
pub(crate) const CLIENT_TENANT_POSTINGS: PostingTable = TableDefinition::new("post.client.tenant");
pub(crate) const CLIENT_ENABLED_POSTINGS: PostingTable =
    TableDefinition::new("post.client.enabled");
pub(crate) const CLIENT_ROLES_POSTINGS: PostingTable = TableDefinition::new("post.client.roles");

/// Every posting table.
pub(crate) const POSTING_TABLES: [PostingTable; 8] = [
    USER_TRIGRAMS,
    USER_TENANT_POSTINGS,
    USER_ENABLED_POSTINGS,
    USER_ROLES_POSTINGS,
    ROLE_TENANT_POSTINGS,
    CLIENT_TENANT_POSTINGS,
    CLIENT_ENABLED_POSTINGS,
    CLIENT_ROLES_POSTINGS,
];

/// The posting table of each low-cardinality field: (kind, field, table).
const FIELD_POSTINGS: [(EntityKind, &str, PostingTable); 7] = [
    (EntityKind::User, "tenant", USER_TENANT_POSTINGS),
    (EntityKind::User, "enabled", USER_ENABLED_POSTINGS),
    (EntityKind::User, "roles", USER_ROLES_POSTINGS),
    (EntityKind::Role, "tenant", ROLE_TENANT_POSTINGS),
    (EntityKind::Client, "tenant", CLIENT_TENANT_POSTINGS),
    (EntityKind::Client, "enabled", CLIENT_ENABLED_POSTINGS),
    (EntityKind::Client, "roles", CLIENT_ROLES_POSTINGS),
];

pub(crate) const RECORD_TABLES: [RecordTable; 4] = [USERS, ROLES, CLIENTS, CHANGES];
/// Every unique index, by the name the code asks for it; those of
/// [`HASHED_TABLES`] are kept hashed from format 10, the others as
/// tables of this type (formats 1 to 9 kept all five so, and the
/// migrations up to format 10 write them so).
pub(crate) const UNIQUE_TABLES: [UniqueTable; 5] = [
    USER_USERNAME,
    USER_EMAIL,
    USER_EXTERNAL_ID,
    ROLE_NAME,
    CLIENT_CLIENT_ID,
];
pub(crate) const MULTI_TABLES: [MultiTable; 11] = [
    USER_CREATED,
    USER_UPDATED,
    USER_LAST_NAME,
    USER_USERNAME_ORDER,
    USER_EMAIL_ORDER,
    ROLE_NAME_ORDER,
    ROLE_CREATED,
    ROLE_UPDATED,
    CLIENT_CREATED,
    CLIENT_UPDATED,
    CLIENT_NAME,
];

/// The table of each ordered index: (kind, indexed field, table).
const ORDERED_TABLES: [(EntityKind, &str, MultiTable); 11] = [
    (EntityKind::User, "createdAt", USER_CREATED),
    (EntityKind::User, "updatedAt", USER_UPDATED),
    (EntityKind::User, "lastName", USER_LAST_NAME),
    (EntityKind::User, "username", USER_USERNAME_ORDER),
    (EntityKind::User, "email", USER_EMAIL_ORDER),
    (EntityKind::Role, "name", ROLE_NAME_ORDER),
    (EntityKind::Role, "createdAt", ROLE_CREATED),
    (EntityKind::Role, "updatedAt", ROLE_UPDATED),
    (EntityKind::Client, "createdAt", CLIENT_CREATED),
    (EntityKind::Client, "updatedAt", CLIENT_UPDATED),
    (EntityKind::Client, "name", CLIENT_NAME),
];

/// The trigram index table of each kind that has one.
const TRIGRAM_TABLES: [(EntityKind, PostingTable); 1] = [(EntityKind::User, USER_TRIGRAMS)];

impl IndexTable {
    /// The table holding an ordered index; `None` for the trigram index,
    /// for a field kept as postings, and for an index the field tables ask
    /// for and this module does not list (a test keeps the two in step).
    pub(crate) fn table(&self) -> Option<&'static MultiTable> {
        let field = self.field?;
        ORDERED_TABLES
            .iter()
            .find(|(kind, f, _)| *kind == self.kind && *f == field)
            .map(|(_, _, table)| table)
    }

    /// The posting table holding the index of a low-cardinality field;
    /// `None` for any other index.
    pub(crate) fn postings(&self) -> Option<&'static PostingTable> {
        let field = self.field?;
        FIELD_POSTINGS
            .iter()
            .find(|(kind, f, _)| *kind == self.kind && *f == field)
            .map(|(_, _, table)| table)
    }

    /// The posting table holding a trigram index; `None` for an ordered index.
    pub(crate) fn trigram_table(&self) -> Option<&'static PostingTable> {
        if self.field.is_some() {
            return None;
        }
        TRIGRAM_TABLES
            .iter()
            .find(|(kind, _)| *kind == self.kind)
            .map(|(_, table)| table)
    }

    /// The table's name in the store file, e.g. `idx.user.last_name` or
    /// `post.user.tenant` (empty for an index without a table).
    pub fn name(&self) -> &'static str {
        match (self.table(), self.postings().or(self.trigram_table())) {
            (Some(t), _) => redb::TableHandle::name(t),
            (None, Some(t)) => redb::TableHandle::name(t),
            (None, None) => "",
        }
    }
}

impl fmt::Debug for IndexTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Meta keys.
pub(crate) mod meta {
    /// The store's format version.
    pub(crate) const FORMAT_VERSION: &str = "format_version";
    /// The last change-log sequence number handed out, as formats before
    /// 5 kept it; from format 5 the log's last key is the counter and this
    /// is read only while the log has no entry (`changelog::append`).
    pub(crate) const LAST_SEQ: &str = "last_seq.changes";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::fields::FieldLists;
    use redb::TableHandle;

    #[test]
    fn every_index_of_the_field_tables_has_a_store_table_used_once() {
        let mut seen: Vec<&str> = Vec::new();
        for kind in [EntityKind::User, EntityKind::Role, EntityKind::Client] {
            let lists = FieldLists::of(kind);
            let indexes = lists
                .table()
                .iter()
                .filter_map(|f| f.index)
                .chain(lists.trigrams().copied());
            for index in indexes {
                let name = index.name();
                assert!(
                    MULTI_TABLES
                        .iter()
                        .any(|t| redb::TableHandle::name(t) == name)
                        || POSTING_TABLES
                            .iter()
                            .any(|t| redb::TableHandle::name(t) == name),
                    "{index:?} of {kind:?} is not in MULTI_TABLES or POSTING_TABLES"
                );
                assert!(!seen.contains(&name), "{name} indexes two fields");
                seen.push(name);
            }
        }
        assert_eq!(seen.len(), MULTI_TABLES.len() + POSTING_TABLES.len());
        assert_eq!(
            seen.len(),
            ORDERED_TABLES.len() + FIELD_POSTINGS.len() + TRIGRAM_TABLES.len()
        );
        for retired in RETIRED_IN_9 {
            assert!(
                !seen.contains(&retired.name()),
                "{} is retired",
                retired.name()
            );
        }
    }
}
