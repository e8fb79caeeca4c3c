//! The redb tables of a store file (SPEC §11).

use redb::TableDefinition;

/// Records of one kind: id → encoded record.
pub(crate) type RecordTable = TableDefinition<'static, u64, &'static [u8]>;
/// A unique index: encoded key → record id.
pub(crate) type UniqueTable = TableDefinition<'static, &'static [u8], u64>;
/// A non-unique index: encoded key ending in the record id → nothing.
pub(crate) type MultiTable = TableDefinition<'static, &'static [u8], ()>;

pub(crate) const USERS: RecordTable = TableDefinition::new("users");
pub(crate) const ROLES: RecordTable = TableDefinition::new("roles");
pub(crate) const CLIENTS: RecordTable = TableDefinition::new("clients");

/// Format version, id counters and the change-log counter.
pub(crate) const META: TableDefinition<'static, &'static str, u64> = TableDefinition::new("meta");
/// The change log: sequence number → encoded change.
pub(crate) const CHANGES: RecordTable = TableDefinition::new("changes");

/// (tenant, case-folded username) → user id.
pub(crate) const USER_USERNAME: UniqueTable = TableDefinition::new("idx.user.username");
/// (tenant, case-folded email) → user id.
pub(crate) const USER_EMAIL: UniqueTable = TableDefinition::new("idx.user.email");
/// (tenant, external id type, value) → user id.
pub(crate) const USER_EXTERNAL_ID: UniqueTable = TableDefinition::new("idx.user.external_id");
/// (tenant, case-folded name) → role id.
pub(crate) const ROLE_NAME: UniqueTable = TableDefinition::new("idx.role.name");
/// clientId → client id.
pub(crate) const CLIENT_CLIENT_ID: UniqueTable = TableDefinition::new("idx.client.client_id");

/// (role id, user id): who holds a role.
pub(crate) const USER_ROLES: MultiTable = TableDefinition::new("idx.user.roles");
/// (role id, client id): which clients hold a role.
pub(crate) const CLIENT_ROLES: MultiTable = TableDefinition::new("idx.client.roles");

pub(crate) const RECORD_TABLES: [RecordTable; 4] = [USERS, ROLES, CLIENTS, CHANGES];
pub(crate) const UNIQUE_TABLES: [UniqueTable; 5] = [
    USER_USERNAME,
    USER_EMAIL,
    USER_EXTERNAL_ID,
    ROLE_NAME,
    CLIENT_CLIENT_ID,
];
pub(crate) const MULTI_TABLES: [MultiTable; 2] = [USER_ROLES, CLIENT_ROLES];

/// Meta keys.
pub(crate) mod meta {
    /// The store's format version.
    pub(crate) const FORMAT_VERSION: &str = "format_version";
    /// The last change-log sequence number handed out.
    pub(crate) const LAST_SEQ: &str = "last_seq.changes";
}
