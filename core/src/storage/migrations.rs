//! The steps that bring an older store file to the current format
//! (docs/reference/storage.md). Each runs inside the opening transaction;
//! any error leaves the file as it was.
//!
//! Format history:
//! - 1: the first release.
//! - 2: user records gain their second factor (`totp`); the `sessions`,
//!   `idx.session.principal` and `idx.session.expires_at` tables appear.
//! - 3: `fold`, the caseless form of every index key and comparison, is
//!   NFKC_Casefold (docs/reference/documents.md, Caseless matching) instead of `str::to_lowercase`:
//!   every unique and secondary index is rebuilt from the records. Records do not change.
//!   Texts that were distinct before may now be the same (`straße` and
//!   `STRASSE`, `ΟΔΟΣ` and `οδοσ`, `ａｄｍｉｎ` and `admin`); when two records
//!   of one tenant would then share a unique key, the file cannot be
//!   migrated: opening it fails with `IncompatibleFormat` naming both
//!   records, and leaves it as it was (`preflight` finds the clash on the
//!   read-only open, before the file is opened for writing).
//! - 4: every user, role and client record starts with the shared header
//!   (`crate::documents::header::Header`: id, tenant, createdAt, updatedAt, version, in
//!   that order) instead of holding those fields at places of its own; the
//!   other fields keep their order. Every record is re-encoded; values,
//!   indexes, sessions and the change log do not change.
//! - 5: postings (`crate::storage::postings`, decision 0014). The trigram
//!   index `idx.user.trigrams` becomes a posting table: (field number,
//!   trigram, chunk) → a compressed bitmap of ids, where each text is
//!   followed by two end markers before it is cut into trigrams (so one- and
//!   two-character needles use it). Tenant, enabled and roles of users and
//!   clients, and the tenant of roles, gain posting tables
//!   (`post.<kind>.<field>`) beside their ordered indexes, which stay. The
//!   step deletes the old trigram table and builds every posting table from
//!   the records; records, the other indexes, sessions and the change log
//!   do not change.
//! - 6: run counts (`crate::storage::run_counts`, decision 0015). Beside
//!   `idx.user.last_name`, the table `count.user.last_name` holds, for each
//!   value and chunk of 64Ki ids, how many of the index's keys it has, so
//!   an offset page sorted by last name skips whole runs and chunks. The
//!   step counts the index's keys; nothing else changes.
//! - 7: the write-ahead log (`crate::storage::wal`, decision 0018). The
//!   meta table holds `wal_epoch`, the epoch of the log beside the store
//!   file (`<file>-wal`): records of an older epoch are already in the
//!   store; and `wal_id`, drawn at random, which the log's header repeats
//!   (a log left beside another store is refused); and `wal_lsn`, the
//!   sequence number of the last logged commit the file holds (replay
//!   skips the records up to it). The step sets the epoch and the number
//!   to 0 and draws the id; nothing else changes. A release before
//!   format 7 refuses the file, so that it never opens a store whose
//!   latest commits are only in its log.
//! - 8: role records gain `externalId` (decision 0022), an optional string
//!   after `description`. Every role record is re-encoded with it absent;
//!   users, clients, indexes, sessions and the change log do not change. A
//!   format-7 store's log holds format-7 role records: it is replayed into
//!   the store before the migration (`Store::open`), never after.
//! - 9: the low-cardinality fields (tenant, enabled, roles of users and
//!   clients; tenant of roles) are kept as postings only (decision 0026):
//!   the step deletes their ordered indexes (`idx.<kind>.<field>`,
//!   `schema::RETIRED_IN_9`), whose keys the postings beside them already
//!   held; a page sorted by `enabled` walks the postings' terms instead.
//!   Records, the other indexes, postings, counts, sessions and the change
//!   log do not change. A format-8 store's log may name those tables: it is
//!   replayed into them before the migration, which then deletes them.
//! - 10: the unique username and e-mail indexes are hashed (decision
//!   0029, `crate::storage::unique`): `idx.user.username.hash` and
//!   `idx.user.email.hash` hold (XXH3-64 of the key the whole index held,
//!   user id) → nothing, and every reader checks the record's own key. The
//!   step hashes each entry of `idx.user.username` and `idx.user.email`
//!   and deletes those tables. Records, the other indexes, postings,
//!   counts, sessions and the change log do not change. A format-9 store's
//!   log names the whole tables: it is replayed into them before the
//!   migration, as a format-8 log is.
//!
//! - 11: a text value in an index key (the ordered indexes of lastName,
//!   username, e-mail, role and client names; the tenant postings; the
//!   run counts) holds its folded form, then one tag byte, then its exact
//!   form only when the exact form differs from the folded one (decision
//!   0033, `crate::storage::keys::push_text`), instead of both forms
//!   whole: the order of the keys does not change. The step deletes those
//!   tables and writes them again from the records, then counts the run
//!   counts again. Records, the other indexes, sessions and the change log
//!   do not change. A format-10 store's log names those tables: it is
//!   replayed into them before the migration, which then rebuilds them.
//!
//! The `…V1`, `…V3` and `…V7` structs are frozen copies of the records those
//! formats stored (postcard is positional: field order and types are the
//! layout). Never change them; a new format adds new copies.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::ops::Bound;

use redb::{ReadableTable, TableHandle, WriteTransaction};
use serde::Deserialize;

use crate::documents::role::RoleRecord;
use crate::documents::user::{ExternalId, UserRecord};
use crate::storage::codec;
use crate::storage::entity::{Entity, UniqueKey};
use crate::storage::schema::{MULTI_TABLES, MultiTable, POSTING_TABLES, UNIQUE_TABLES, USERS};
use crate::storage::tx::Tables;
use crate::{Client, EntityKind, Error, Result, Role, Timestamp, User};

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
    attributes: crate::documents::json::Json,
    created_at: Timestamp,
    updated_at: Timestamp,
    last_login_at: Option<Timestamp>,
    locked_until: Option<Timestamp>,
    failed_logins: u32,
    password_hash: Option<String>,
    version: u64,
}

/// A user record as formats 2 and 3 wrote it: format 1's and the second factor.
#[derive(serde::Serialize, Deserialize)]
#[cfg_attr(test, derive(Clone, PartialEq))]
struct UserRecordV3 {
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
    attributes: crate::documents::json::Json,
    created_at: Timestamp,
    updated_at: Timestamp,
    last_login_at: Option<Timestamp>,
    locked_until: Option<Timestamp>,
    failed_logins: u32,
    password_hash: Option<String>,
    version: u64,
    totp: Option<crate::documents::credentials::TotpState>,
}

/// A role record as formats 1 to 3 wrote it.
#[derive(serde::Serialize, Deserialize)]
#[cfg_attr(test, derive(Clone, PartialEq))]
struct RoleRecordV3 {
    id: u64,
    name: String,
    description: Option<String>,
    permissions: Vec<String>,
    tenant: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: u64,
}

/// A client record as formats 1 to 3 wrote it.
#[derive(serde::Serialize, Deserialize)]
#[cfg_attr(test, derive(Clone, PartialEq))]
struct ClientRecordV3 {
    id: u64,
    client_id: String,
    name: String,
    description: Option<String>,
    tenant: Option<String>,
    enabled: bool,
    roles: Vec<u64>,
    ip_allowlist: Vec<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    last_used_at: Option<Timestamp>,
    secret_hash: String,
    version: u64,
}

impl From<UserRecordV1> for UserRecordV3 {
    /// A format-1 user has no second factor.
    fn from(old: UserRecordV1) -> UserRecordV3 {
        UserRecordV3 {
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

/// The header of a format-3 record, from its fields.
fn header(
    id: u64,
    tenant: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: u64,
) -> crate::documents::header::Header {
    crate::documents::header::Header {
        id,
        tenant,
        created_at,
        updated_at,
        version,
    }
}

impl From<UserRecordV3> for UserRecord {
    fn from(old: UserRecordV3) -> UserRecord {
        UserRecord {
            header: header(
                old.id,
                old.tenant,
                old.created_at,
                old.updated_at,
                old.version,
            ),
            username: old.username,
            email: old.email,
            first_name: old.first_name,
            last_name: old.last_name,
            nickname: old.nickname,
            telephone_number: old.telephone_number,
            mobile_number: old.mobile_number,
            enabled: old.enabled,
            roles: old.roles,
            external_ids: old.external_ids,
            attributes: old.attributes,
            last_login_at: old.last_login_at,
            locked_until: old.locked_until,
            failed_logins: old.failed_logins,
            password_hash: old.password_hash,
            totp: old.totp,
        }
    }
}

/// A role record as formats 4 to 7 wrote it: the header, then format
/// 3's other fields.
#[derive(serde::Serialize, Deserialize)]
#[cfg_attr(test, derive(Clone, PartialEq))]
struct RoleRecordV7 {
    header: crate::documents::header::Header,
    name: String,
    description: Option<String>,
    permissions: Vec<String>,
}

impl From<RoleRecordV3> for RoleRecordV7 {
    fn from(old: RoleRecordV3) -> RoleRecordV7 {
        RoleRecordV7 {
            header: header(
                old.id,
                old.tenant,
                old.created_at,
                old.updated_at,
                old.version,
            ),
            name: old.name,
            description: old.description,
            permissions: old.permissions,
        }
    }
}

impl From<RoleRecordV7> for RoleRecord {
    /// A role of format 7 or before has no external id.
    fn from(old: RoleRecordV7) -> RoleRecord {
        RoleRecord {
            header: old.header,
            name: old.name,
            description: old.description,
            external_id: None,
            permissions: old.permissions,
        }
    }
}

impl From<ClientRecordV3> for crate::documents::client::ClientRecord {
    fn from(old: ClientRecordV3) -> crate::documents::client::ClientRecord {
        crate::documents::client::ClientRecord {
            header: header(
                old.id,
                old.tenant,
                old.created_at,
                old.updated_at,
                old.version,
            ),
            client_id: old.client_id,
            name: old.name,
            description: old.description,
            enabled: old.enabled,
            roles: old.roles,
            ip_allowlist: old.ip_allowlist,
            last_used_at: old.last_used_at,
            secret_hash: old.secret_hash,
        }
    }
}

/// A kind and the record structs older formats stored for it.
trait Layouts: Entity {
    /// The record formats 2 and 3 stored.
    type V3: serde::de::DeserializeOwned + Into<Self::V7>;
    /// The record formats 4 to 7 stored (the header first): the current
    /// record for users and clients, which format 8 did not change.
    type V7: serde::de::DeserializeOwned + serde::Serialize + Into<Self::Record>;
}

impl Layouts for User {
    type V3 = UserRecordV3;
    type V7 = UserRecord;
}

impl Layouts for Role {
    type V3 = RoleRecordV3;
    type V7 = RoleRecordV7;
}

impl Layouts for Client {
    type V3 = ClientRecordV3;
    type V7 = crate::documents::client::ClientRecord;
}

/// Decodes a record of a format-2 or format-3 file as the current record.
fn decode_v3<E: Layouts>(bytes: &[u8]) -> Result<E::Record> {
    let v7: E::V7 = codec::decode::<E::V3>(bytes)?.into();
    Ok(v7.into())
}

/// Decodes a record of a file of format 4 to 7 as the current record.
fn decode_v7<E: Layouts>(bytes: &[u8]) -> Result<E::Record> {
    Ok(codec::decode::<E::V7>(bytes)?.into())
}

/// Format 1 → 2: every user record is re-encoded with no second factor.
/// (The session tables are created after the last step.)
pub(crate) fn v1_to_v2(txn: &WriteTransaction) -> Result<()> {
    reencode(txn, USERS, |old: UserRecordV1| UserRecordV3::from(old))
}

/// Records read and written at a time.
const BATCH: usize = 1024;

/// Replaces every record of `table`, decoded as `Old`, by `step` of it:
/// `Storage` for a record that does not decode (the migration, and with it
/// the opening transaction, then fails).
fn reencode<Old: serde::de::DeserializeOwned, New: serde::Serialize>(
    txn: &WriteTransaction,
    table: crate::storage::schema::RecordTable,
    step: impl Fn(Old) -> New,
) -> Result<()> {
    let mut records = txn.open_table(table)?;
    let mut after = 0;
    loop {
        let mut batch = Vec::new();
        for entry in records
            .range((Bound::Excluded(after), Bound::Unbounded))?
            .take(BATCH)
        {
            let (id, bytes) = entry?;
            batch.push((id.value(), codec::decode::<Old>(bytes.value())?));
        }
        let Some(&(last, _)) = batch.last() else {
            return Ok(());
        };
        after = last;
        for (id, old) in batch {
            records.insert(id, codec::encode(&step(old))?.as_slice())?;
        }
    }
}

/// Format 2 → 3: every index is emptied and rebuilt from the records with
/// NFKC_Casefold keys; two records (or one record twice) claiming one unique
/// key is the error of [`clash`]. Reads records in their format-3 layout
/// (which format 3 did not change).
pub(crate) fn v2_to_v3(txn: &WriteTransaction) -> Result<()> {
    delete_tables(txn, UNIQUE_TABLES)?;
    delete_tables(txn, MULTI_TABLES)?;
    rebuild::<User>(txn)?;
    rebuild::<Role>(txn)?;
    rebuild::<Client>(txn)
}

/// Deletes each of `tables` (a table not in the file is no error).
fn delete_tables<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &WriteTransaction,
    tables: impl IntoIterator<Item = redb::TableDefinition<'static, K, V>>,
) -> Result<()> {
    for table in tables {
        txn.delete_table(table)?;
    }
    Ok(())
}

/// Format 3 → 4: every user, role and client record is re-encoded with its
/// header first (in format 4's layout, which later steps read); nothing
/// else changes.
pub(crate) fn v3_to_v4(txn: &WriteTransaction) -> Result<()> {
    to_header_layout::<User>(txn)?;
    to_header_layout::<Role>(txn)?;
    to_header_layout::<Client>(txn)
}

/// The trigram index as formats 1 to 4 kept it: (field number, trigram,
/// id) → nothing.
const TRIGRAMS_V4: MultiTable = redb::TableDefinition::new("idx.user.trigrams");

/// Records whose postings are gathered before they are written (a
/// posting chunk's worth, so each chunk entry is written once).
const POSTING_BATCH: u64 = 1 << crate::storage::postings::CHUNK_BITS;

/// Format 4 → 5: the trigram table of formats 1–4 is deleted and every
/// posting table is built from the records (which format 5 does not change).
pub(crate) fn v4_to_v5(txn: &WriteTransaction) -> Result<()> {
    txn.delete_table(TRIGRAMS_V4)?;
    for table in POSTING_TABLES {
        txn.delete_table(table)?;
    }
    build_postings::<User>(txn)?;
    build_postings::<Role>(txn)?;
    build_postings::<Client>(txn)
}

/// Format 5 → 6: the run counts are counted from their indexes' keys
/// (which format 6 does not change).
pub(crate) fn v5_to_v6(txn: &WriteTransaction) -> Result<()> {
    crate::storage::run_counts::rebuild(txn)
}

/// Format 6 → 7: the store's log epoch starts at 0 (no log yet), and
/// its log id is drawn.
pub(crate) fn v6_to_v7(txn: &WriteTransaction) -> Result<()> {
    let mut meta = txn.open_table(crate::storage::schema::META)?;
    meta.insert(crate::storage::wal::WAL_EPOCH, 0)?;
    meta.insert(crate::storage::wal::WAL_LSN, 0)?;
    meta.insert(crate::storage::wal::WAL_ID, crate::storage::wal::new_id()?)?;
    Ok(())
}

/// Format 7 → 8: every role record is re-encoded with no external id
/// (its indexes, postings and counts do not change).
pub(crate) fn v7_to_v8(txn: &WriteTransaction) -> Result<()> {
    reencode(txn, Role::TABLE, |old: RoleRecordV7| RoleRecord::from(old))
}

/// Format 8 → 9: the ordered indexes of the fields kept as postings are
/// deleted (their postings, which format 9 keeps, do not change).
pub(crate) fn v8_to_v9(txn: &WriteTransaction) -> Result<()> {
    for table in crate::storage::schema::RETIRED_IN_9 {
        txn.delete_table(table)?;
    }
    Ok(())
}

/// Format 9 → 10: the username and e-mail indexes are kept hashed
/// (`storage::unique`, decision 0029): each key of `idx.user.username` and
/// `idx.user.email` becomes the entry (XXH3-64 of the key, id) of
/// `idx.user.username.hash` and `idx.user.email.hash`, and the two tables
/// are deleted. Records, the other indexes, postings, counts, sessions and
/// the change log do not change.
pub(crate) fn v9_to_v10(txn: &WriteTransaction) -> Result<()> {
    for (whole, hashed) in crate::storage::schema::HASHED_TABLES {
        let mut entries: Vec<(u64, u64)> = Vec::new();
        for entry in txn.open_table(whole)?.iter()? {
            let (key, id) = entry?;
            entries.push((crate::storage::unique::hash(key.value()), id.value()));
        }
        entries.sort_unstable();
        let mut table = txn.open_table(hashed)?;
        for entry in entries {
            table.insert(entry, ())?;
        }
        drop(table);
        txn.delete_table(whole)?;
    }
    Ok(())
}

/// The ordered indexes and posting tables whose keys hold text values,
/// which format 11 writes in its shorter layout (`storage::keys::push_text`).
const TEXT_TABLES_IN_11: [MultiTable; 5] = [
    crate::storage::schema::USER_LAST_NAME,
    crate::storage::schema::USER_USERNAME_ORDER,
    crate::storage::schema::USER_EMAIL_ORDER,
    crate::storage::schema::ROLE_NAME_ORDER,
    crate::storage::schema::CLIENT_NAME,
];

/// The posting tables of text values (the tenants), as [`TEXT_TABLES_IN_11`].
const TEXT_POSTINGS_IN_11: [crate::storage::postings::PostingTable; 3] = [
    crate::storage::schema::USER_TENANT_POSTINGS,
    crate::storage::schema::ROLE_TENANT_POSTINGS,
    crate::storage::schema::CLIENT_TENANT_POSTINGS,
];

/// Format 10 → 11: a text value in an index key keeps its exact form
/// only when it differs from its folded form (`storage::keys::push_text`,
/// decision 0033). The ordered indexes of text fields and the posting
/// tables of tenants are deleted and written again from the records, and
/// the run counts counted again from the new keys. Records, the other
/// indexes and postings, sessions and the change log do not change. The
/// tables are built from the records rather than by rewriting their keys,
/// so the step holds whichever layout the steps before it wrote (a
/// migration from format 2 or 4 builds indexes with the current code).
pub(crate) fn v10_to_v11(txn: &WriteTransaction) -> Result<()> {
    delete_tables(txn, TEXT_TABLES_IN_11)?;
    delete_tables(txn, TEXT_POSTINGS_IN_11)?;
    text_keys::<User>(txn, ORDERED_BATCH)?;
    text_keys::<Role>(txn, ORDERED_BATCH)?;
    text_keys::<Client>(txn, ORDERED_BATCH)?;
    crate::storage::run_counts::rebuild(txn)
}

/// Records whose ordered keys [`text_keys`] gathers before it sorts and
/// writes them: the keys held at once stay bounded (some 300 MiB of three
/// text keys a user) whatever the store's size. A store of up to this
/// many users is written in one sorted pass, which fills its pages; each
/// later batch goes in among the keys before it, which splits pages (a
/// 1M-user store in batches of 2^18 took 194,399 pages, in one 170,864).
const ORDERED_BATCH: usize = 1 << 20;

/// Writes the keys of every record of `E` in [`TEXT_TABLES_IN_11`] and
/// [`TEXT_POSTINGS_IN_11`]: the ordered keys of each `batch` records
/// ([`ORDERED_BATCH`]) gathered and sorted first, so each table's go in
/// in key order.
fn text_keys<E: Entity>(txn: &WriteTransaction, batch: usize) -> Result<()> {
    let mut ordered: Vec<Vec<Vec<u8>>> = vec![Vec::new(); TEXT_TABLES_IN_11.len()];
    let mut held = 0_usize;
    let text_table = |name: &str| {
        TEXT_TABLES_IN_11.iter().any(|t| t.name() == name)
            || TEXT_POSTINGS_IN_11.iter().any(|t| t.name() == name)
    };
    with_postings::<E>(
        txn,
        |bytes| codec::decode(bytes),
        |id, record, pending| {
            let (entries, terms) = crate::storage::index::keys_in(E::KIND, id, record, text_table);
            for key in entries {
                let at = TEXT_TABLES_IN_11
                    .iter()
                    .position(|t| t.name() == key.table.name());
                if let Some(keys) = at.and_then(|at| ordered.get_mut(at)) {
                    keys.push(key.key);
                }
            }
            for term in terms {
                pending.add(term.table.0, &term.term, id);
            }
            held = held.saturating_add(1);
            if held >= batch {
                held = 0;
                write_sorted(txn, &mut ordered)?;
            }
            Ok(())
        },
    )?;
    write_sorted(txn, &mut ordered)
}

/// Sorts the keys gathered for each of [`TEXT_TABLES_IN_11`] (`ordered`,
/// in that order) and writes them, leaving `ordered` empty.
fn write_sorted(txn: &WriteTransaction, ordered: &mut [Vec<Vec<u8>>]) -> Result<()> {
    for (def, keys) in TEXT_TABLES_IN_11.into_iter().zip(ordered) {
        let mut keys = std::mem::take(keys);
        keys.sort_unstable();
        let mut table = txn.open_table(def)?;
        for key in keys {
            table.insert(key.as_slice(), ())?;
        }
    }
    Ok(())
}

/// Calls `visit` with every record of `E` (decoded by `decode`, in id
/// order) and the posting changes it notes into, which are written a
/// chunk of ids at a time.
fn with_postings<E: Entity>(
    txn: &WriteTransaction,
    decode: impl Fn(&[u8]) -> Result<E::Record>,
    mut visit: impl FnMut(u64, &E::Record, &crate::storage::pending::Pending) -> Result<()>,
) -> Result<()> {
    let pending = crate::storage::pending::Pending::default();
    let mut gathered: u64 = 0;
    each_record(txn, E::TABLE, |id, bytes| {
        visit(id, &decode(bytes)?, &pending)?;
        gathered = gathered.saturating_add(1);
        if gathered.is_multiple_of(POSTING_BATCH) {
            pending.flush(txn)?;
        }
        Ok(())
    })?;
    pending.flush(txn)
}

/// Writes the posting terms of every record of `E`, stored in format 4's
/// layout, a chunk of ids at a time.
fn build_postings<E: Layouts>(txn: &WriteTransaction) -> Result<()> {
    with_postings::<E>(txn, decode_v7::<E>, |id, record, pending| {
        for key in crate::storage::index::posting_keys(E::KIND, record) {
            pending.add(key.table.0, &key.term, id);
        }
        Ok(())
    })
}

fn to_header_layout<E: Layouts>(txn: &WriteTransaction) -> Result<()> {
    reencode(txn, E::TABLE, |old: E::V3| -> E::V7 { old.into() })
}

/// Writes the unique and secondary index entries of every record of `E`,
/// stored in its format-3 layout.
fn rebuild<E: Layouts>(txn: &WriteTransaction) -> Result<()> {
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
            let record = decode_v3::<E>(&bytes)?;
            unique.extend(E::unique_keys(&record).into_iter().map(|key| (id, key)));
            multi.extend(crate::storage::index::entries(E::KIND, id, &record));
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
/// file is opened for writing (which alone would change its bytes): every
/// record decodes in its format's layout (`Storage` naming the corruption
/// otherwise), and, before format 3, no two records share a format-3
/// unique key (the error of [`clash`]).
pub(crate) fn preflight(tables: &dyn Tables, version: u64) -> Result<()> {
    if version >= crate::storage::format::FORMAT_VERSION {
        return Ok(());
    }
    let mut claims = (version < 3).then(Claims::default);
    each_record(tables, USERS, |id, bytes| {
        let record: UserRecord = if version == 1 {
            UserRecordV3::from(codec::decode::<UserRecordV1>(bytes)?).into()
        } else {
            decode_at::<User>(version, bytes)?
        };
        claim::<User>(&mut claims, id, &record)
    })?;
    each_record(tables, Role::TABLE, |id, bytes| {
        claim::<Role>(&mut claims, id, &decode_at::<Role>(version, bytes)?)
    })?;
    each_record(tables, Client::TABLE, |id, bytes| {
        claim::<Client>(&mut claims, id, &decode_at::<Client>(version, bytes)?)
    })
}

/// Decodes a record stored by format `version` (2 or later) as the current record.
fn decode_at<E: Layouts>(version: u64, bytes: &[u8]) -> Result<E::Record> {
    if version < 4 {
        decode_v3::<E>(bytes)
    } else if version < 8 {
        decode_v7::<E>(bytes)
    } else {
        codec::decode(bytes)
    }
}

/// Claims the unique keys of `record`, when they are being checked.
fn claim<E: Entity>(claims: &mut Option<Claims>, id: u64, record: &E::Record) -> Result<()> {
    match claims {
        Some(claims) => claims.claim(E::KIND, id, E::unique_keys(record)),
        None => Ok(()),
    }
}

/// Calls `f` with every record of `table`, in id order.
fn each_record(
    tables: &dyn Tables,
    table: crate::storage::schema::RecordTable,
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
         (NFKC_Casefold: docs/reference/documents.md, Caseless matching); the file was not \
         changed. Open it with the previous release, {fix}, then open it with this release \
         again"
    ))
}

#[cfg(test)]
mod tests {
    use redb::backends::InMemoryBackend;
    use redb::{Database, ReadableDatabase};

    use super::*;
    use crate::documents::client::ClientRecord;
    use crate::documents::header::Header;
    use crate::storage::schema::{CLIENTS, ROLES, USER_USERNAME, meta};
    use crate::{NewRole, NewUser};

    /// Format 3's layout of a current record: the inverse of `From<UserRecordV3>`.
    impl From<&UserRecord> for UserRecordV3 {
        fn from(r: &UserRecord) -> UserRecordV3 {
            UserRecordV3 {
                id: r.header.id,
                username: r.username.clone(),
                email: r.email.clone(),
                first_name: r.first_name.clone(),
                last_name: r.last_name.clone(),
                nickname: r.nickname.clone(),
                telephone_number: r.telephone_number.clone(),
                mobile_number: r.mobile_number.clone(),
                tenant: r.header.tenant.clone(),
                enabled: r.enabled,
                roles: r.roles.clone(),
                external_ids: r.external_ids.clone(),
                attributes: r.attributes.clone(),
                created_at: r.header.created_at,
                updated_at: r.header.updated_at,
                last_login_at: r.last_login_at,
                locked_until: r.locked_until,
                failed_logins: r.failed_logins,
                password_hash: r.password_hash.clone(),
                version: r.header.version,
                totp: r.totp.clone(),
            }
        }
    }

    impl From<&RoleRecord> for RoleRecordV3 {
        fn from(r: &RoleRecord) -> RoleRecordV3 {
            RoleRecordV3 {
                id: r.header.id,
                name: r.name.clone(),
                description: r.description.clone(),
                permissions: r.permissions.clone(),
                tenant: r.header.tenant.clone(),
                created_at: r.header.created_at,
                updated_at: r.header.updated_at,
                version: r.header.version,
            }
        }
    }

    impl From<&ClientRecord> for ClientRecordV3 {
        fn from(r: &ClientRecord) -> ClientRecordV3 {
            ClientRecordV3 {
                id: r.header.id,
                client_id: r.client_id.clone(),
                name: r.name.clone(),
                description: r.description.clone(),
                tenant: r.header.tenant.clone(),
                enabled: r.enabled,
                roles: r.roles.clone(),
                ip_allowlist: r.ip_allowlist.clone(),
                created_at: r.header.created_at,
                updated_at: r.header.updated_at,
                last_used_at: r.last_used_at,
                secret_hash: r.secret_hash.clone(),
                version: r.header.version,
            }
        }
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms).unwrap()
    }

    /// A format-3 user record.
    fn user(id: u64, username: &str, email: &str, tenant: Option<&str>) -> UserRecordV3 {
        let new = NewUser {
            tenant: tenant.map(Into::into),
            ..NewUser::new(username, email, "First", "Last")
        };
        UserRecordV3::from(&UserRecord::create(new, Header::new(id, at(0)), None))
    }

    /// A format-3 role record.
    fn role(id: u64, name: &str, tenant: Option<&str>) -> RoleRecordV3 {
        let new = NewRole {
            tenant: tenant.map(Into::into),
            ..NewRole::new(name)
        };
        RoleRecordV3::from(&RoleRecord::create(new, Header::new(id, at(0))))
    }

    /// A store of format `version` holding these format-3 records and no
    /// index entries at all (as format 2 would have written them, its keys
    /// do not matter here: the migration rebuilds every index).
    fn format_3_layout(
        version: u64,
        users: &[UserRecordV3],
        roles: &[RoleRecordV3],
        clients: &[ClientRecordV3],
    ) -> Database {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .unwrap();
        crate::storage::format::prepare(&db).unwrap();
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
            let mut t = txn.open_table(CLIENTS).unwrap();
            for c in clients {
                t.insert(c.id, codec::encode(c).unwrap().as_slice())
                    .unwrap();
            }
            let mut m = txn.open_table(crate::storage::schema::META).unwrap();
            m.insert(meta::FORMAT_VERSION, version).unwrap();
            let last = |ids: Vec<u64>| ids.into_iter().max().unwrap_or(0);
            m.insert("last_id.user", last(users.iter().map(|u| u.id).collect()))
                .unwrap();
            m.insert("last_id.role", last(roles.iter().map(|r| r.id).collect()))
                .unwrap();
            m.insert(
                "last_id.client",
                last(clients.iter().map(|c| c.id).collect()),
            )
            .unwrap();
        }
        txn.commit().unwrap();
        db
    }

    /// A format-2 store holding these records and no index entries.
    fn format_2(users: &[UserRecordV3], roles: &[RoleRecordV3]) -> Database {
        format_3_layout(2, users, roles, &[])
    }

    fn reason(result: Result<()>) -> String {
        match result {
            Err(Error::IncompatibleFormat { reason }) => reason,
            other => panic!("expected IncompatibleFormat, got {other:?}"),
        }
    }

    /// The entries of the username index as formats 1 to 9 keep it, whole
    /// (none when the table is absent).
    fn whole_usernames(db: &Database) -> Vec<(Vec<u8>, u64)> {
        let read = db.begin_read().unwrap();
        match read.open_table(USER_USERNAME) {
            Ok(table) => table
                .iter()
                .unwrap()
                .map(|e| {
                    let (k, v) = e.unwrap();
                    (k.value().to_vec(), v.value())
                })
                .collect(),
            Err(redb::TableError::TableDoesNotExist(_)) => Vec::new(),
            Err(e) => panic!("{e}"),
        }
    }

    /// Runs the preflight on a snapshot and the real migration, which must
    /// agree; returns the migration's error and checks it changed nothing.
    fn migrate_fails(db: &Database) -> String {
        // The username index, whole as format 2 keeps it (none in these
        // made-up files: `format_3_layout` writes records only) and hashed.
        let usernames = |db: &Database| {
            let hashed = db.begin_read().unwrap().unique_entries(USER_USERNAME);
            (whole_usernames(db), hashed.unwrap())
        };
        let before = usernames(db);
        let first = reason(preflight(&db.begin_read().unwrap(), 2));
        let second = reason(crate::storage::format::prepare(db));
        assert_eq!(first, second);
        let read = db.begin_read().unwrap();
        assert_eq!(read.meta(meta::FORMAT_VERSION).unwrap(), Some(2));
        assert_eq!(usernames(db), before);
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
            let mut m = txn.open_table(crate::storage::schema::META).unwrap();
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
        assert_eq!(reason(crate::storage::format::prepare(&db)), first);
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
        crate::storage::format::prepare(&db).unwrap();
        let read = db.begin_read().unwrap();
        assert_eq!(
            read.meta(meta::FORMAT_VERSION).unwrap(),
            Some(crate::storage::format::FORMAT_VERSION)
        );
        let report = crate::storage::integrity::check(&read).unwrap();
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
            t.insert(
                crate::storage::keys::Key::new()
                    .tenant(None)
                    .str("weiß")
                    .bytes(),
                1,
            )
            .unwrap();
            t.insert(
                crate::storage::keys::Key::new()
                    .tenant(None)
                    .str("gone")
                    .bytes(),
                9,
            )
            .unwrap();
        }
        txn.commit().unwrap();
        crate::storage::format::prepare(&db).unwrap();
        let read = db.begin_read().unwrap();
        let entries = read.unique_entries(USER_USERNAME).unwrap();
        let weiss = crate::storage::keys::Key::new().tenant(None).str("weiss");
        assert_eq!(
            entries,
            [(
                crate::storage::unique::stored_key(&USER_USERNAME, weiss.bytes(), 1),
                1
            )]
        );
        assert!(crate::storage::integrity::check(&read).unwrap().ok);
    }

    /// The keys of every table format 11 writes again (ordered, then
    /// tenant postings), by table.
    fn text_tables(db: &Database) -> Vec<Vec<Vec<u8>>> {
        fn keys<V: redb::Value + 'static>(
            txn: &WriteTransaction,
            def: redb::TableDefinition<'static, &'static [u8], V>,
        ) -> Vec<Vec<u8>> {
            let t = txn.open_table(def).unwrap();
            t.iter()
                .unwrap()
                .map(|e| e.unwrap().0.value().to_vec())
                .collect()
        }
        let txn = db.begin_write().unwrap();
        let mut out: Vec<Vec<Vec<u8>>> = TEXT_TABLES_IN_11.map(|d| keys(&txn, d)).to_vec();
        out.extend(TEXT_POSTINGS_IN_11.map(|d| keys(&txn, d)));
        txn.abort().unwrap();
        out
    }

    #[test]
    fn the_10_to_11_step_writes_the_same_keys_in_batches_of_any_size() {
        let names = ["Weiß", "weiss", "Ng", "ng", "NG", "ñg", "a", "A", "ａ"];
        let users: Vec<UserRecordV3> = (1..=9)
            .map(|id| {
                let name = names[usize::try_from(id - 1).unwrap()];
                let tenant = (id % 3 == 0).then_some("acme");
                let mut u = user(
                    id,
                    &format!("{name}{id}"),
                    &format!("{name}{id}@x.io"),
                    tenant,
                );
                u.last_name = name.into();
                u
            })
            .collect();
        let db = format_2(&users, &[]);
        crate::storage::format::prepare(&db).unwrap();
        let whole = text_tables(&db);
        assert_eq!(whole[0].len(), 9, "one last-name key a user");
        for batch in [1, 2, 4, 9, 100] {
            let txn = db.begin_write().unwrap();
            delete_tables(&txn, TEXT_TABLES_IN_11).unwrap();
            delete_tables(&txn, TEXT_POSTINGS_IN_11).unwrap();
            text_keys::<User>(&txn, batch).unwrap();
            text_keys::<Role>(&txn, batch).unwrap();
            text_keys::<Client>(&txn, batch).unwrap();
            // As opening does after the steps: a table left empty is made.
            crate::storage::format::create_tables(&txn).unwrap();
            txn.commit().unwrap();
            assert_eq!(text_tables(&db), whole, "batches of {batch}");
            let read = db.begin_read().unwrap();
            assert!(crate::storage::integrity::check(&read).unwrap().ok);
        }
    }

    /// A format-3 user, role and client with every field set (none at its
    /// default), a header value differing from every other.
    fn full_records() -> (UserRecordV3, RoleRecordV3, ClientRecordV3) {
        let user = UserRecordV3 {
            id: 41,
            username: "straße".into(),
            email: "straße@bücher.de".into(),
            first_name: "Fiona".into(),
            last_name: "Weiß".into(),
            nickname: Some("Straßenbahn".into()),
            telephone_number: Some("+49 221 555".into()),
            mobile_number: Some("+49 171 555".into()),
            tenant: Some("acme".into()),
            enabled: false,
            roles: vec![7],
            external_ids: vec![ExternalId::new("ldap", "uid=straße")],
            attributes: crate::documents::json::Json::from_map(
                serde_json::json!({"city": "Köln", "level": 3})
                    .as_object()
                    .unwrap(),
            ),
            created_at: at(1_000),
            updated_at: at(2_000),
            last_login_at: Some(at(3_000)),
            locked_until: Some(at(4_000)),
            failed_logins: 5,
            password_hash: Some("$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA".into()),
            version: 6,
            totp: Some(crate::documents::credentials::TotpState {
                secret: vec![1, 2, 3],
                confirmed: true,
                last_step: 99,
                recovery: vec![[8; 32], [9; 32]],
            }),
        };
        let role = RoleRecordV3 {
            id: 7,
            name: "owners".into(),
            description: Some("Owners".into()),
            permissions: vec!["*".into(), "users:read".into()],
            tenant: Some("acme".into()),
            created_at: at(500),
            updated_at: at(600),
            version: 2,
        };
        let client = ClientRecordV3 {
            id: 3,
            client_id: "rc_0dHXZD5F8QYwQBCcAfj0lj".into(),
            name: "sync job".into(),
            description: Some("Nightly sync".into()),
            tenant: Some("acme".into()),
            enabled: false,
            roles: vec![7],
            ip_allowlist: vec!["10.0.0.0/8".into(), "::1".into()],
            created_at: at(700),
            updated_at: at(800),
            last_used_at: Some(at(900)),
            secret_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$c2VjcmV0".into(),
            version: 4,
        };
        (user, role, client)
    }

    /// The stored bytes of record `id` of `table`.
    fn stored(db: &Database, table: crate::storage::schema::RecordTable, id: u64) -> Vec<u8> {
        db.begin_read().unwrap().record(table, id).unwrap().unwrap()
    }

    #[test]
    fn the_3_to_4_step_keeps_every_field_of_every_record() {
        let (u, r, c) = full_records();
        let db = format_3_layout(
            3,
            std::slice::from_ref(&u),
            std::slice::from_ref(&r),
            std::slice::from_ref(&c),
        );
        // The index entries a format-3 file holds, made from its records.
        let txn = db.begin_write().unwrap();
        v2_to_v3(&txn).unwrap();
        txn.commit().unwrap();
        let indexes = |db: &Database| {
            let read = db.begin_read().unwrap();
            (
                read.unique_entries(USER_USERNAME).unwrap(),
                read.unique_entries(crate::storage::schema::CLIENT_CLIENT_ID)
                    .unwrap(),
            )
        };
        // The username index as format 3 keeps it (whole), and the
        // entries format 10 hashes it to.
        let whole = whole_usernames(&db);
        assert_eq!(whole.len(), 1);
        let mut hashed: Vec<(Vec<u8>, u64)> = whole
            .iter()
            .map(|(k, id)| {
                (
                    crate::storage::unique::stored_key(&USER_USERNAME, k, *id),
                    *id,
                )
            })
            .collect();
        hashed.sort();
        let indexes_before = (hashed, indexes(&db).1);
        let before = [
            stored(&db, USERS, 41),
            stored(&db, ROLES, 7),
            stored(&db, CLIENTS, 3),
        ];
        preflight(&db.begin_read().unwrap(), 3).unwrap();
        crate::storage::format::prepare(&db).unwrap();
        let read = db.begin_read().unwrap();
        assert_eq!(
            read.meta(meta::FORMAT_VERSION).unwrap(),
            Some(crate::storage::format::FORMAT_VERSION)
        );

        let user: UserRecord = codec::decode(&stored(&db, USERS, 41)).unwrap();
        let role: RoleRecord = codec::decode(&stored(&db, ROLES, 7)).unwrap();
        let client: ClientRecord = codec::decode(&stored(&db, CLIENTS, 3)).unwrap();
        assert_eq!(
            user.header,
            Header {
                id: 41,
                tenant: Some("acme".into()),
                created_at: at(1_000),
                updated_at: at(2_000),
                version: 6,
            }
        );
        assert_eq!(
            (role.header.id, role.header.created_at, role.header.version),
            (7, at(500), 2)
        );
        assert_eq!(
            (client.header.updated_at, client.header.version),
            (at(800), 4)
        );
        // Back in format 3's layout, each record is the bytes it was.
        assert!(UserRecordV3::from(&user) == u);
        assert!(RoleRecordV3::from(&role) == r);
        assert!(ClientRecordV3::from(&client) == c);
        let again = [
            codec::encode(&UserRecordV3::from(&user)).unwrap(),
            codec::encode(&RoleRecordV3::from(&role)).unwrap(),
            codec::encode(&ClientRecordV3::from(&client)).unwrap(),
        ];
        assert_eq!(again, before);
        // ... and no longer stored in it: the header comes first.
        assert_ne!(stored(&db, USERS, 41), before[0]);
        assert_eq!(
            &stored(&db, USERS, 41)[..],
            &codec::encode(&user).unwrap()[..]
        );
        // The indexes are untouched and agree with the re-encoded records.
        assert_eq!(indexes(&db), indexes_before);
        let report = crate::storage::integrity::check(&read).unwrap();
        assert!(report.ok, "{:?}", report.problems);
    }

    #[test]
    fn formats_1_and_2_reach_format_4_through_format_3() {
        let db = format_2(
            &[user(1, "Weiß", "w@x.io", Some("t1"))],
            &[role(1, "a", None)],
        );
        crate::storage::format::prepare(&db).unwrap();
        let read = db.begin_read().unwrap();
        assert_eq!(
            read.meta(meta::FORMAT_VERSION).unwrap(),
            Some(crate::storage::format::FORMAT_VERSION)
        );
        let u: UserRecord = codec::decode(&stored(&db, USERS, 1)).unwrap();
        assert_eq!((u.header.id, u.header.tenant.as_deref()), (1, Some("t1")));
        assert_eq!(u.last_name, "Last");
        assert!(crate::storage::integrity::check(&read).unwrap().ok);
    }

    #[test]
    fn the_7_to_8_step_gives_every_role_an_absent_external_id() {
        let (u, r, c) = full_records();
        let db = format_3_layout(3, &[u], std::slice::from_ref(&r), &[c]);
        // Steps 2 → 7 by hand: a format-7 file, its indexes built.
        let txn = db.begin_write().unwrap();
        for step in [v2_to_v3, v3_to_v4, v4_to_v5, v5_to_v6, v6_to_v7] {
            step(&txn).unwrap();
        }
        txn.open_table(crate::storage::schema::META)
            .unwrap()
            .insert(meta::FORMAT_VERSION, 7)
            .unwrap();
        txn.commit().unwrap();
        let before = stored(&db, ROLES, 7);
        let v7: RoleRecordV7 = codec::decode(&before).unwrap();
        assert!(v7 == RoleRecordV7::from(r.clone()));
        // Postcard is positional: format 8 cannot read a format-7 role.
        assert!(codec::decode::<RoleRecord>(&before).is_err());
        preflight(&db.begin_read().unwrap(), 7).unwrap();
        crate::storage::format::prepare(&db).unwrap();
        let read = db.begin_read().unwrap();
        assert_eq!(
            read.meta(meta::FORMAT_VERSION).unwrap(),
            Some(crate::storage::format::FORMAT_VERSION)
        );
        let role: RoleRecord = codec::decode(&stored(&db, ROLES, 7)).unwrap();
        assert_eq!(role.external_id, None);
        assert!(RoleRecordV3::from(&role) == r);
        let report = crate::storage::integrity::check(&read).unwrap();
        assert!(report.ok, "{:?}", report.problems);
    }

    #[test]
    fn a_record_that_does_not_decode_fails_the_preflight_and_the_step() {
        let (u, r, c) = full_records();
        let db = format_3_layout(3, &[u], &[r], &[c]);
        let txn = db.begin_write().unwrap();
        txn.open_table(ROLES)
            .unwrap()
            .insert(7, [codec::RECORD_SCHEMA, 7].as_slice())
            .unwrap();
        txn.commit().unwrap();
        let before = stored(&db, USERS, 41);
        assert!(matches!(
            preflight(&db.begin_read().unwrap(), 3),
            Err(Error::Storage { .. })
        ));
        assert!(matches!(
            crate::storage::format::prepare(&db),
            Err(Error::Storage { .. })
        ));
        // The users were re-encoded before the role failed, in the same
        // transaction: nothing of it was kept.
        let read = db.begin_read().unwrap();
        assert_eq!(read.meta(meta::FORMAT_VERSION).unwrap(), Some(3));
        assert_eq!(stored(&db, USERS, 41), before);
    }
}
