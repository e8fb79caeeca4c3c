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
use crate::documents::user::{ExternalId, User, UserField};
use crate::documents::values::{FieldValue, Queryable};

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
    fn id(&self) -> u64 {
        self.header.id
    }

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

/// What queries read of a stored user: the values `UserRecord` gives for
/// every field, but no `attributes` to reach into (the attributes are
/// decoded into the document's JSON, not the stored `Json` tree), so a
/// query that reads one checks the record instead.
impl Queryable for StoredUser<'_> {
    type Field = UserField;

    fn get(&self, field: UserField, now: Timestamp) -> FieldValue<'_> {
        use FieldValue as V;
        use UserField as F;
        match field {
            F::Id => V::Int(self.header.id),
            F::Tenant => V::opt_str(self.header.tenant),
            F::CreatedAt => V::Time(self.header.created_at),
            F::UpdatedAt => V::Time(self.header.updated_at),
            F::Version => V::Int(self.header.version),
            F::Username => V::Str(self.username),
            F::Email => V::Str(self.email),
            F::FirstName => V::Str(self.first_name),
            F::LastName => V::Str(self.last_name),
            F::Nickname => V::opt_str(self.nickname),
            F::TelephoneNumber => V::opt_str(self.telephone_number),
            F::MobileNumber => V::opt_str(self.mobile_number),
            F::Enabled => V::Bool(self.enabled),
            F::Roles => V::Ints(&self.roles),
            F::ExternalIds if self.external_ids.is_empty() => V::Absent,
            F::ExternalIds | F::Attributes => V::Present,
            F::ExternalIdType => {
                V::Strs(self.external_ids.iter().map(|e| e.kind.as_str()).collect())
            }
            F::ExternalIdValue => {
                V::Strs(self.external_ids.iter().map(|e| e.value.as_str()).collect())
            }
            F::LastLoginAt => V::opt_time(self.last_login_at),
            F::LockedUntil => V::opt_time(self.locked_until.filter(|&t| t > now)),
            F::HasPassword => V::Bool(self.password_hash.is_some()),
            F::TotpEnabled => V::Bool(self.totp.as_ref().is_some_and(|t| t.confirmed)),
            // Write-only: never read back.
            F::Password | F::PasswordHash => V::Absent,
        }
    }
}
