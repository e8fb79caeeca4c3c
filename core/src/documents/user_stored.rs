//! A user as a read decodes it to show its document ([`Stored`]): the
//! fields of a stored [`UserRecord`](crate::documents::user::UserRecord),
//! read from the same bytes in the same order with the same types, but
//! borrowing its strings from the bytes until the document takes a copy,
//! never copying the credential hash (only whether there is one shows),
//! and keeping the attributes as their stored bytes, which the document
//! decodes when they are first read ([`Attributes`]).

use serde::Deserialize;

use crate::Timestamp;
use crate::documents::attributes::Attributes;
use crate::documents::credentials::TotpState;
use crate::documents::json_build::SkipJson;
use crate::documents::record::{Decode, Stored};
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

/// A stored user (`UserRecord`, field for field), its strings borrowed and
/// its attributes kept as their stored bytes (checked, not decoded).
#[doc(hidden)]
pub struct StoredUser<'a> {
    /// The fields before `attributes`.
    head: Head<'a>,
    /// The stored `Json` of `attributes`, checked by [`SkipJson`].
    attributes: &'a [u8],
    /// The fields after `attributes`.
    tail: Tail<'a>,
}

/// The fields of a stored user before its `attributes`.
#[derive(Deserialize)]
struct Head<'a> {
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
}

/// The fields of a stored user after its `attributes`.
#[derive(Deserialize)]
struct Tail<'a> {
    last_login_at: Option<Timestamp>,
    locked_until: Option<Timestamp>,
    /// `failed_logins`: read (as the record is) and not shown.
    _failed_logins: u32,
    #[serde(borrow)]
    password_hash: Option<&'a str>,
    totp: Option<TotpState>,
}

impl<'a> Decode<'a> for StoredUser<'a> {
    /// Reads the record's fields as postcard lays out a `UserRecord` (one
    /// after another): those before `attributes`, then the attributes'
    /// `Json`, checked and kept as the bytes it spans, then the rest.
    fn take(body: &'a [u8]) -> postcard::Result<(StoredUser<'a>, &'a [u8])> {
        let (head, rest) = postcard::take_from_bytes::<Head<'a>>(body)?;
        let (SkipJson, after) = postcard::take_from_bytes::<SkipJson>(rest)?;
        let (attributes, _) = rest.split_at(rest.len().saturating_sub(after.len()));
        let (tail, rest) = postcard::take_from_bytes::<Tail<'a>>(after)?;
        let user = StoredUser {
            head,
            attributes,
            tail,
        };
        Ok((user, rest))
    }
}

impl Stored<User> for StoredUser<'_> {
    fn id(&self) -> u64 {
        self.head.header.id
    }

    fn tenant(&self) -> Option<&str> {
        self.head.header.tenant
    }

    /// The document `UserRecord::document` shows; the time is read only
    /// for a user locked out.
    fn into_document(self, now: &dyn Fn() -> Timestamp) -> User {
        User {
            id: self.head.header.id,
            username: self.head.username.to_owned(),
            email: self.head.email.to_owned(),
            first_name: self.head.first_name.to_owned(),
            last_name: self.head.last_name.to_owned(),
            nickname: self.head.nickname.map(str::to_owned),
            telephone_number: self.head.telephone_number.map(str::to_owned),
            mobile_number: self.head.mobile_number.map(str::to_owned),
            tenant: self.head.header.tenant.map(str::to_owned),
            enabled: self.head.enabled,
            roles: self.head.roles,
            external_ids: self.head.external_ids,
            attributes: Attributes::stored(self.attributes),
            created_at: self.head.header.created_at,
            updated_at: self.head.header.updated_at,
            last_login_at: self.tail.last_login_at,
            locked_until: self.tail.locked_until.filter(|&t| t > now()),
            has_password: self.tail.password_hash.is_some(),
            totp_enabled: self.tail.totp.as_ref().is_some_and(|t| t.confirmed),
            version: self.head.header.version,
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
            F::Id => V::Int(self.head.header.id),
            F::Tenant => V::opt_str(self.head.header.tenant),
            F::CreatedAt => V::Time(self.head.header.created_at),
            F::UpdatedAt => V::Time(self.head.header.updated_at),
            F::Version => V::Int(self.head.header.version),
            F::Username => V::Str(self.head.username),
            F::Email => V::Str(self.head.email),
            F::FirstName => V::Str(self.head.first_name),
            F::LastName => V::Str(self.head.last_name),
            F::Nickname => V::opt_str(self.head.nickname),
            F::TelephoneNumber => V::opt_str(self.head.telephone_number),
            F::MobileNumber => V::opt_str(self.head.mobile_number),
            F::Enabled => V::Bool(self.head.enabled),
            F::Roles => V::Ints(&self.head.roles),
            F::ExternalIds if self.head.external_ids.is_empty() => V::Absent,
            F::ExternalIds | F::Attributes => V::Present,
            F::ExternalIdType => V::Strs(
                self.head
                    .external_ids
                    .iter()
                    .map(|e| e.kind.as_str())
                    .collect(),
            ),
            F::ExternalIdValue => V::Strs(
                self.head
                    .external_ids
                    .iter()
                    .map(|e| e.value.as_str())
                    .collect(),
            ),
            F::LastLoginAt => V::opt_time(self.tail.last_login_at),
            F::LockedUntil => V::opt_time(self.tail.locked_until.filter(|&t| t > now)),
            F::HasPassword => V::Bool(self.tail.password_hash.is_some()),
            F::TotpEnabled => V::Bool(self.tail.totp.as_ref().is_some_and(|t| t.confirmed)),
            // Write-only: never read back.
            F::Password | F::PasswordHash => V::Absent,
        }
    }
}
