//! The steps that bring an older store file to the current format (SPEC
//! §11). Each runs inside the opening transaction; any error leaves the file
//! as it was.
//!
//! Format history:
//! - 1: the first release.
//! - 2: user records gain their second factor (`totp`); the `sessions`,
//!   `idx.session.principal` and `idx.session.expires_at` tables appear.

use redb::{ReadableTable, WriteTransaction};
use serde::Deserialize;

use crate::schema::USERS;
use crate::user::{ExternalId, UserRecord};
use crate::{Result, Timestamp, codec};

/// A user record as format 1 wrote it.
#[derive(Deserialize)]
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

/// Format 1 → 2: every user record is re-encoded with no second factor.
/// (The session tables are created after the last step.)
pub(crate) fn v1_to_v2(txn: &WriteTransaction) -> Result<()> {
    let mut users = txn.open_table(USERS)?;
    let mut after = 0;
    loop {
        let mut batch = Vec::new();
        for entry in users.range(after + 1..)?.take(1024) {
            let (id, bytes) = entry?;
            batch.push((id.value(), codec::decode::<UserRecordV1>(bytes.value())?));
        }
        let Some(&(last, _)) = batch.last() else {
            return Ok(());
        };
        after = last;
        for (id, old) in batch {
            let record = UserRecord {
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
            };
            users.insert(id, codec::encode(&record)?.as_slice())?;
        }
    }
}
