//! A user as a read decodes it to show its document ([`Stored`]): the
//! fields of a stored [`UserRecord`](crate::documents::user::UserRecord),
//! read from the same bytes in the same order with the same types, but
//! borrowing its strings from the bytes until the document takes a copy,
//! never copying the credential hash (only whether there is one shows),
//! and decoding the attributes straight into JSON.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::Timestamp;
use crate::documents::credentials::TotpState;
use crate::documents::json::AsValue;
use crate::documents::record::Stored;
use crate::documents::user::{ExternalId, User};

/// A stored user's header (`Header`), its tenant borrowed.
#[derive(Deserialize)]
struct StoredHeader<'a> {
    id: u64,
    #[serde(borrow)]
    tenant: Option<&'a str>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: u64,
}

/// A stored user (`UserRecord`, field for field), its strings borrowed.
#[doc(hidden)]
#[derive(Deserialize)]
pub struct StoredUser<'a> {
    #[serde(borrow)]
    header: StoredHeader<'a>,
    username: &'a str,
    email: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    #[serde(borrow)]
    nickname: Option<&'a str>,
    #[serde(borrow)]
    telephone_number: Option<&'a str>,
    #[serde(borrow)]
    mobile_number: Option<&'a str>,
    enabled: bool,
    roles: Vec<u64>,
    external_ids: Vec<ExternalId>,
    attributes: AsValue,
    last_login_at: Option<Timestamp>,
    locked_until: Option<Timestamp>,
    /// `failed_logins`: read (as the record is) and not shown.
    _failed_logins: u32,
    #[serde(borrow)]
    password_hash: Option<&'a str>,
    totp: Option<TotpState>,
}

impl Stored<User> for StoredUser<'_> {
    fn tenant(&self) -> Option<&str> {
        self.header.tenant
    }

    /// The document `UserRecord::document` shows; the time is read only
    /// for a user locked out.
    fn into_document(self, now: &dyn Fn() -> Timestamp) -> User {
        User {
            id: self.header.id,
            username: self.username.to_owned(),
            email: self.email.to_owned(),
            first_name: self.first_name.to_owned(),
            last_name: self.last_name.to_owned(),
            nickname: self.nickname.map(str::to_owned),
            telephone_number: self.telephone_number.map(str::to_owned),
            mobile_number: self.mobile_number.map(str::to_owned),
            tenant: self.header.tenant.map(str::to_owned),
            enabled: self.enabled,
            roles: self.roles,
            external_ids: self.external_ids,
            // A record's attributes are an object; anything else shows none
            // (as `Json::to_map`).
            attributes: match self.attributes.0 {
                Value::Object(members) => members,
                _ => Map::new(),
            },
            created_at: self.header.created_at,
            updated_at: self.header.updated_at,
            last_login_at: self.last_login_at,
            locked_until: self.locked_until.filter(|&t| t > now()),
            has_password: self.password_hash.is_some(),
            totp_enabled: self.totp.as_ref().is_some_and(|t| t.confirmed),
            version: self.header.version,
        }
    }
}
