//! Users (docs/reference/documents.md, Users): the document, its input form and its stored record.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::documents::attributes::Attributes;
use crate::documents::caseless::fold;
use crate::documents::fields::FieldType::{Bool, Ident, Int, Ints, Object, Str, Strs, Time};
use crate::documents::fields::{FieldId, FieldSpec, field_table};
use crate::documents::input::{Fields, Input, input_methods};
use crate::documents::record::{Record, record_fields};
use crate::documents::rules::{self, Problems};
use crate::{EntityKind, Result, Secret, Timestamp};

/// An identity in another system, e.g. `{"type": "github", "value": "12345"}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalId {
    /// The other system, 1–50 characters.
    #[serde(rename = "type")]
    pub kind: String,
    /// The identity there, 1–255 characters.
    pub value: String,
}

impl ExternalId {
    /// An external id of the given type and value.
    pub fn new(kind: impl Into<String>, value: impl Into<String>) -> Self {
        ExternalId {
            kind: kind.into(),
            value: value.into(),
        }
    }
}

/// A user document, as the store returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    /// Assigned by the store, from 1, never reused.
    pub id: u64,
    /// Unique per tenant, case-insensitively.
    pub username: String,
    /// Unique per tenant, case-insensitively.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Optional display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// Optional phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone_number: Option<String>,
    /// Optional mobile number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_number: Option<String>,
    /// The tenant the user belongs to; fixed at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Whether the user may log in.
    pub enabled: bool,
    /// Ids of the roles the user holds, sorted.
    pub roles: Vec<u64>,
    /// Identities of the user in other systems.
    pub external_ids: Vec<ExternalId>,
    /// Free-form profile fields: a JSON object, decoded from the stored
    /// record when first read ([`Attributes`]).
    pub attributes: Attributes,
    /// When the user was created.
    pub created_at: Timestamp,
    /// When the user was last changed.
    pub updated_at: Timestamp,
    /// When the user last logged in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_at: Option<Timestamp>,
    /// Until when the user is locked out, while that is in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<Timestamp>,
    /// Whether the user has a password.
    pub has_password: bool,
    /// Whether a confirmed TOTP second factor is required at login (docs/reference/credentials.md,
    /// "Second factor (TOTP)").
    pub totp_enabled: bool,
    /// 1 at creation, + 1 on every change.
    pub version: u64,
}

field_table! {
    /// A field of a user document: one row of the user field table, from
    /// which every list of user fields is derived (see `docs/design.md`,
    /// "Fields: one table per kind"). Searchable rows are numbered in the
    /// trigram index in table order: add new ones after `nickname`.
    pub enum UserField;
    kind = EntityKind::User;
    trigrams = true;
    Id => FieldSpec::read_only("id", Int),
    Username => FieldSpec::read_write("username", Str).indexed().search(),
    Email => FieldSpec::read_write("email", Str).indexed().search(),
    FirstName => FieldSpec::read_write("firstName", Str).search(),
    LastName => FieldSpec::read_write("lastName", Str).indexed().search(),
    Nickname => FieldSpec::read_write("nickname", Str).search(),
    TelephoneNumber => FieldSpec::read_write("telephoneNumber", Str),
    MobileNumber => FieldSpec::read_write("mobileNumber", Str),
    Tenant => FieldSpec::create_only("tenant", Ident).indexed(),
    Enabled => FieldSpec::read_write("enabled", Bool).indexed(),
    Roles => FieldSpec::read_write("roles", Ints).indexed(),
    ExternalIds => FieldSpec::read_write("externalIds", Object),
    ExternalIdType => FieldSpec::path("externalIds.type", Strs),
    ExternalIdValue => FieldSpec::path("externalIds.value", Strs),
    Attributes => FieldSpec::read_write("attributes", Object),
    CreatedAt => FieldSpec::read_only("createdAt", Time).indexed(),
    UpdatedAt => FieldSpec::read_only("updatedAt", Time).indexed(),
    LastLoginAt => FieldSpec::read_only("lastLoginAt", Time),
    LockedUntil => FieldSpec::read_only("lockedUntil", Time),
    HasPassword => FieldSpec::read_only("hasPassword", Bool),
    TotpEnabled => FieldSpec::read_only("totpEnabled", Bool),
    Version => FieldSpec::read_only("version", Int),
    Password => FieldSpec::write_only("password", Str),
    PasswordHash => FieldSpec::write_only("passwordHash", Str),
}

/// The fields of a user to create.
///
/// Build it with [`NewUser::new`] and struct-update syntax, or from JSON with
/// [`NewUser::from_json`]. Its `Debug` output hides the password and an
/// imported `password_hash` (`***`).
#[derive(Clone, PartialEq)]
pub struct NewUser {
    /// Required; 1–100 letters, ASCII digits and `@ . - _`.
    pub username: String,
    /// Required; `local@domain.tld`, 5–255 characters.
    pub email: String,
    /// Required; 1–50 characters.
    pub first_name: String,
    /// Required; 1–50 characters.
    pub last_name: String,
    /// 0–50 characters.
    pub nickname: Option<String>,
    /// 1–100 characters.
    pub telephone_number: Option<String>,
    /// 1–30 characters.
    pub mobile_number: Option<String>,
    /// 1–64 characters of `[A-Za-z0-9._:-]`.
    pub tenant: Option<String>,
    /// Default true.
    pub enabled: bool,
    /// Role ids of the same tenant; duplicates are removed.
    pub roles: Vec<u64>,
    /// (tenant, type, value) must be unique.
    pub external_ids: Vec<ExternalId>,
    /// At most 16 KiB as JSON.
    pub attributes: Map<String, Value>,
    /// 8–1024 characters; stored only as an Argon2id hash.
    pub password: Option<Secret>,
    /// A PHC Argon2 hash imported from another system; not with `password`.
    pub password_hash: Option<String>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("nickname", &self.nickname)
            .field("telephone_number", &self.telephone_number)
            .field("mobile_number", &self.mobile_number)
            .field("tenant", &self.tenant)
            .field("enabled", &self.enabled)
            .field("roles", &self.roles)
            .field("external_ids", &self.external_ids)
            .field("attributes", &self.attributes)
            .field("password", &self.password)
            .field("password_hash", &self.password_hash.as_ref().map(|_| "***"))
            .finish()
    }
}

impl NewUser {
    /// A user with the required fields and every other field at its default.
    pub fn new(
        username: impl Into<String>,
        email: impl Into<String>,
        first_name: impl Into<String>,
        last_name: impl Into<String>,
    ) -> Self {
        NewUser {
            username: username.into(),
            email: email.into(),
            first_name: first_name.into(),
            last_name: last_name.into(),
            nickname: None,
            telephone_number: None,
            mobile_number: None,
            tenant: None,
            enabled: true,
            roles: Vec::new(),
            external_ids: Vec::new(),
            attributes: Map::new(),
            password: None,
            password_hash: None,
        }
    }
}

input_methods!(
    NewUser,
    "a user",
    "docs/reference/documents.md (Users) that need nothing from the store"
);

impl Input for NewUser {
    type Field = UserField;

    fn read(f: &mut Fields<'_>) -> Self {
        NewUser {
            username: f.required_string("username"),
            email: f.required_string("email"),
            first_name: f.required_string("firstName"),
            last_name: f.required_string("lastName"),
            nickname: f.optional_string("nickname"),
            telephone_number: f.optional_string("telephoneNumber"),
            mobile_number: f.optional_string("mobileNumber"),
            tenant: f.optional_string("tenant"),
            enabled: f.bool_or("enabled", true),
            roles: f.ids("roles"),
            external_ids: external_ids(f),
            attributes: f.object("attributes"),
            password: f.secret("password"),
            password_hash: f.optional_string("passwordHash"),
        }
    }

    fn problems(&self) -> Problems {
        let mut p = Problems::new();
        p.check("username", &self.username, rules::username);
        p.check("email", &self.email, rules::email);
        p.check("firstName", &self.first_name, rules::name_part);
        p.check("lastName", &self.last_name, rules::name_part);
        p.check_opt("nickname", self.nickname.as_deref(), rules::nickname);
        p.check_opt(
            "telephoneNumber",
            self.telephone_number.as_deref(),
            rules::telephone_number,
        );
        p.check_opt(
            "mobileNumber",
            self.mobile_number.as_deref(),
            rules::mobile_number,
        );
        p.check_opt("tenant", self.tenant.as_deref(), rules::tenant);
        p.role_ids(&self.roles);
        if p.bounded(
            "externalIds",
            self.external_ids.len(),
            rules::MAX_EXTERNAL_IDS,
        ) {
            // Each entry's key once, in a map: O(n log n) however many there are.
            let mut seen = std::collections::BTreeMap::new();
            for (i, ext) in self.external_ids.iter().enumerate() {
                p.check(
                    &format!("externalIds[{i}].type"),
                    &ext.kind,
                    rules::external_id_type,
                );
                p.check(
                    &format!("externalIds[{i}].value"),
                    &ext.value,
                    rules::external_id_value,
                );
                if seen
                    .insert((fold(&ext.kind), fold(&ext.value)), i)
                    .is_some()
                {
                    p.add(
                        format!("externalIds[{i}]"),
                        crate::ValidationCode::Duplicate,
                        "duplicates an earlier entry",
                    );
                }
            }
        }
        if let Err((code, message)) = rules::attributes(&self.attributes) {
            p.add("attributes", code, message);
        }
        if let Some(password) = &self.password {
            p.check("password", password.expose(), rules::password);
        }
        if let Some(hash) = &self.password_hash {
            if self.password.is_some() {
                p.add(
                    "passwordHash",
                    crate::ValidationCode::NotAllowed,
                    "cannot be given together with password",
                );
            }
            p.check("passwordHash", hash, rules::password_hash);
        }
        p
    }

    /// The writable members a user document shows as `User` serializes
    /// them; not the tenant (create-only) nor the write-only secrets.
    fn take_member(&mut self, key: &str) -> Option<Option<Value>> {
        use std::mem::take;
        let text = |s: &mut String| Some(Some(Value::String(take(s))));
        let optional = |s: &mut Option<String>| Some(s.take().map(Value::String));
        match key {
            "username" => text(&mut self.username),
            "email" => text(&mut self.email),
            "firstName" => text(&mut self.first_name),
            "lastName" => text(&mut self.last_name),
            "nickname" => optional(&mut self.nickname),
            "telephoneNumber" => optional(&mut self.telephone_number),
            "mobileNumber" => optional(&mut self.mobile_number),
            "enabled" => Some(Some(Value::Bool(self.enabled))),
            "roles" => Some(Some(Value::Array(
                take(&mut self.roles).into_iter().map(Value::from).collect(),
            ))),
            "externalIds" => serde_json::to_value(take(&mut self.external_ids))
                .ok()
                .map(Some),
            "attributes" => Some(Some(Value::Object(take(&mut self.attributes)))),
            _ => None,
        }
    }

    /// Each member [`NewUser::take_member`] gives, read as `read` reads it.
    fn read_member(&mut self, f: &mut Fields<'_>, key: &str) -> bool {
        match key {
            "username" => self.username = f.required_string("username"),
            "email" => self.email = f.required_string("email"),
            "firstName" => self.first_name = f.required_string("firstName"),
            "lastName" => self.last_name = f.required_string("lastName"),
            "nickname" => self.nickname = f.optional_string("nickname"),
            "telephoneNumber" => self.telephone_number = f.optional_string("telephoneNumber"),
            "mobileNumber" => self.mobile_number = f.optional_string("mobileNumber"),
            "enabled" => self.enabled = f.bool_or("enabled", true),
            "roles" => self.roles = f.ids("roles"),
            "externalIds" => self.external_ids = external_ids(f),
            "attributes" => self.attributes = f.object("attributes"),
            _ => return false,
        }
        true
    }
}

fn external_ids(f: &mut Fields<'_>) -> Vec<ExternalId> {
    let mut out = Vec::new();
    for (i, mut item) in f.objects("externalIds").into_iter().enumerate() {
        let Ok(mut g) = Fields::of_item(&mut item) else {
            continue;
        };
        let ext = ExternalId::new(g.required_string("type"), g.required_string("value"));
        f.problems
            .merge(g.finish().prefixed(&format!("externalIds[{i}].")));
        out.push(ext);
    }
    out
}

/// The stored form of a user.
#[doc(hidden)]
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Id, tenant, timestamps and version, stored first (format 4).
    pub(crate) header: crate::documents::header::Header,
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) nickname: Option<String>,
    pub(crate) telephone_number: Option<String>,
    pub(crate) mobile_number: Option<String>,
    pub(crate) enabled: bool,
    pub(crate) roles: Vec<u64>,
    pub(crate) external_ids: Vec<ExternalId>,
    pub(crate) attributes: crate::documents::json::Json,
    pub(crate) last_login_at: Option<Timestamp>,
    pub(crate) locked_until: Option<Timestamp>,
    pub(crate) failed_logins: u32,
    pub(crate) password_hash: Option<String>,
    /// The second factor, enrolled or confirmed.
    pub(crate) totp: Option<crate::documents::credentials::TotpState>,
}

impl UserRecord {
    /// The record of validated input under `header` (whose tenant becomes
    /// the input's) with the stored form of its password.
    pub(crate) fn create(
        new: NewUser,
        header: crate::documents::header::Header,
        password_hash: Option<String>,
    ) -> Self {
        UserRecord {
            header: header.in_tenant(new.tenant),
            username: new.username,
            email: new.email,
            first_name: new.first_name,
            last_name: new.last_name,
            nickname: new.nickname,
            telephone_number: new.telephone_number,
            mobile_number: new.mobile_number,
            enabled: new.enabled,
            roles: crate::documents::role::normalize_ids(new.roles),
            external_ids: new.external_ids,
            attributes: crate::documents::json::Json::from_owned_map(new.attributes),
            last_login_at: None,
            locked_until: None,
            failed_logins: 0,
            password_hash,
            totp: None,
        }
    }
}

impl Record for UserRecord {
    type Document = User;
    type New = NewUser;
    type Stored<'a> = crate::documents::user_stored::StoredUser<'a>;

    record_fields!(header, roles, enabled);

    fn take_password(new: &mut NewUser) -> Option<Secret> {
        new.password.take()
    }

    fn credential(&self) -> Option<&str> {
        self.password_hash.as_deref()
    }

    fn writable(&self) -> Option<NewUser> {
        Some(NewUser {
            username: self.username.clone(),
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            nickname: self.nickname.clone(),
            telephone_number: self.telephone_number.clone(),
            mobile_number: self.mobile_number.clone(),
            tenant: self.header.tenant.clone(),
            enabled: self.enabled,
            roles: self.roles.clone(),
            external_ids: self.external_ids.clone(),
            attributes: self.attributes.to_map(),
            password: None,
            password_hash: None,
        })
    }

    fn rebuilt(&self, mut new: NewUser, password_hash: Option<String>) -> UserRecord {
        let hash = password_hash
            .or_else(|| new.password_hash.take())
            .or_else(|| self.password_hash.clone());
        UserRecord::create(new, self.header.clone(), hash).keeping(self)
    }

    fn into_document(self, now: Timestamp) -> User {
        self.moved_document(now)
    }

    fn document(&self, now: Timestamp) -> User {
        // One field list: the moved form, of a copy.
        self.clone().moved_document(now)
    }
}

impl UserRecord {
    /// [`Record::into_document`] for users (and, of a copy,
    /// [`Record::document`]): the record's fields moved into the document.
    fn moved_document(self, now: Timestamp) -> User {
        let has_password = self.password_hash.is_some();
        let totp_enabled = self.totp_enabled();
        User {
            id: self.header.id,
            username: self.username,
            email: self.email,
            first_name: self.first_name,
            last_name: self.last_name,
            nickname: self.nickname,
            telephone_number: self.telephone_number,
            mobile_number: self.mobile_number,
            tenant: self.header.tenant,
            enabled: self.enabled,
            roles: self.roles,
            external_ids: self.external_ids,
            attributes: self.attributes.into_map().into(),
            created_at: self.header.created_at,
            updated_at: self.header.updated_at,
            last_login_at: self.last_login_at,
            locked_until: self.locked_until.filter(|&t| t > now),
            has_password,
            totp_enabled,
            version: self.header.version,
        }
    }
}

impl crate::documents::values::Queryable for UserRecord {
    type Field = UserField;

    fn get(&self, field: UserField, now: Timestamp) -> crate::documents::values::FieldValue<'_> {
        use crate::documents::values::FieldValue as V;
        use UserField as F;
        match field {
            F::Id | F::Tenant | F::CreatedAt | F::UpdatedAt | F::Version => {
                self.header.value(field.name())
            }
            F::Username => V::Str(&self.username),
            F::Email => V::Str(&self.email),
            F::FirstName => V::Str(&self.first_name),
            F::LastName => V::Str(&self.last_name),
            F::Nickname => V::opt_str(self.nickname.as_deref()),
            F::TelephoneNumber => V::opt_str(self.telephone_number.as_deref()),
            F::MobileNumber => V::opt_str(self.mobile_number.as_deref()),
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
            F::TotpEnabled => V::Bool(self.totp_enabled()),
            // Write-only: never read back.
            F::Password | F::PasswordHash => V::Absent,
        }
    }

    fn attributes(&self) -> Option<&crate::documents::json::Json> {
        Some(&self.attributes)
    }
}

impl UserRecord {
    /// Whether a confirmed second factor guards the user's logins.
    pub(crate) fn totp_enabled(&self) -> bool {
        self.totp.as_ref().is_some_and(|t| t.confirmed)
    }

    /// This record with the store-kept fields of `old`.
    fn keeping(self, old: &UserRecord) -> UserRecord {
        UserRecord {
            last_login_at: old.last_login_at,
            locked_until: old.locked_until,
            failed_logins: old.failed_logins,
            totp: old.totp.clone(),
            ..self
        }
    }
}

impl UserRecord {
    /// A record from an exported document (docs/reference/changes-and-export.md).
    pub(crate) fn import(doc: &Value) -> Result<UserRecord> {
        let mut kept = crate::documents::header::Kept::take(doc)?;
        let last_login_at = kept.time("lastLoginAt")?;
        let locked_until = kept.time("lockedUntil")?;
        kept.drop("hasPassword");
        let totp = match kept
            .rest
            .as_object_mut()
            .and_then(|d| d.remove("totpEnabled"))
        {
            None | Some(Value::Bool(false)) => None,
            // The secret never leaves the store: fail closed until enrolled again.
            Some(Value::Bool(true)) => Some(crate::documents::credentials::TotpState::lost()),
            Some(_) => {
                return Err(crate::Error::invalid(
                    "totpEnabled",
                    crate::ValidationCode::BoolType,
                    "must be a boolean",
                ));
            }
        };
        let mut new = NewUser::from_json(&kept.rest)?;
        let hash = new.password_hash.take();
        if new.password.is_some() {
            return Err(crate::Error::invalid(
                "password",
                crate::ValidationCode::NotAllowed,
                "an export never holds plaintext passwords",
            ));
        }
        Ok(UserRecord {
            last_login_at,
            locked_until,
            totp,
            ..UserRecord::create(new, kept.header, hash)
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::documents::credentials::TotpState;
    use crate::documents::header::Header;

    /// A record with every optional field set, attributes nested.
    pub(super) fn full_record(now: Timestamp) -> UserRecord {
        let mut new = NewUser::new("zoë", "zoe@example.com", "Zoë", "Ångström");
        new.nickname = Some("Z".into());
        new.telephone_number = Some("+1 555".into());
        new.mobile_number = Some("+1 556".into());
        new.tenant = Some("acme".into());
        new.roles = vec![3, 1];
        new.external_ids = vec![ExternalId::new("github", "42")];
        let Value::Object(attributes) = json!({
            "b": 1, "a": [true, null, -5, 2.5, "x"], "o": {"k": {"z": "deep"}}
        }) else {
            unreachable!()
        };
        new.attributes = attributes;
        let mut record = UserRecord::create(new, Header::new(7, now), Some("$argon2id$h".into()));
        record.last_login_at = Some(now);
        record
    }

    #[test]
    fn the_moved_document_is_the_copied_one() {
        let now = Timestamp::from_millis(1_700_000_000_000).unwrap();
        let later = now.plus(std::time::Duration::from_secs(60));
        let mut records = vec![full_record(now)];
        let mut locked = full_record(now);
        locked.locked_until = Some(later);
        locked.totp = Some(TotpState::lost());
        records.push(locked.clone());
        locked.locked_until = Some(now);
        locked.password_hash = None;
        records.push(locked);
        records.push(UserRecord::create(
            NewUser::new("a", "a@b.cd", "A", "B"),
            Header::new(1, now),
            None,
        ));
        for record in records {
            let copied = record.document(now);
            let moved = record.into_document(now);
            assert_eq!(moved, copied);
            let keys: Vec<_> = moved.attributes.keys().cloned().collect();
            let want: Vec<_> = copied.attributes.keys().cloned().collect();
            assert_eq!(keys, want, "attribute order");
        }
    }
}

/// A read's decoding of a stored user (`StoredUser`) against the record's.
#[cfg(test)]
mod stored_tests {
    use super::tests::full_record;
    use super::*;
    use crate::documents::credentials::TotpState;
    use crate::documents::header::Header;
    use crate::documents::record::Stored;
    use crate::documents::user_stored::StoredUser;
    use crate::storage::codec;

    /// What `get` showed before reads decoded `StoredUser`: the record's
    /// document, or the error, as text.
    fn via_record(
        bytes: &[u8],
        now: Timestamp,
    ) -> std::result::Result<(User, Option<String>), String> {
        codec::decode::<UserRecord>(bytes)
            .map(|r| {
                let tenant = r.header.tenant.clone();
                (r.document(now), tenant)
            })
            .map_err(|e| format!("{e:?}"))
    }

    fn via_stored(
        bytes: &[u8],
        now: Timestamp,
    ) -> std::result::Result<(User, Option<String>), String> {
        codec::decode_stored::<StoredUser<'_>>(bytes)
            .map(|s| {
                let tenant = s.tenant().map(str::to_owned);
                (s.into_document(&|| now), tenant)
            })
            .map_err(|e| format!("{e:?}"))
    }

    fn records(now: Timestamp) -> Vec<UserRecord> {
        let mut locked = full_record(now);
        locked.locked_until = Some(now.plus(std::time::Duration::from_secs(9)));
        locked.totp = Some(TotpState {
            secret: vec![7; 20],
            confirmed: false,
            last_step: 3,
            recovery: vec![[1; 32]],
        });
        let mut odd = UserRecord::create(
            NewUser::new("a", "a@b.cd", "A", "B"),
            Header::new(1, now),
            None,
        );
        odd.attributes = crate::documents::json::Json::Arr(vec![]);
        let mut floats = full_record(now);
        floats.attributes = crate::documents::json::Json::Obj(vec![
            ("x".into(), crate::documents::json::Json::F64(f64::NAN)),
            ("y".into(), crate::documents::json::Json::F64(-0.5)),
            ("x".into(), crate::documents::json::Json::I64(-3)),
        ]);
        vec![full_record(now), locked, odd, floats]
    }

    #[test]
    fn stored_users_show_the_records_document() {
        let now = Timestamp::from_millis(1_700_000_000_000).unwrap();
        for record in records(now) {
            let bytes = codec::encode(&record).unwrap();
            let want = via_record(&bytes, now).unwrap();
            assert_eq!(via_stored(&bytes, now).unwrap(), want);
            let (got, _) = via_stored(&bytes, now).unwrap();
            let keys: Vec<_> = got.attributes.keys().collect();
            assert_eq!(keys, want.0.attributes.keys().collect::<Vec<_>>());
        }
    }

    /// Queries read every field of a stored user as they read the
    /// record's (its `attributes` aside, which it does not answer), also
    /// for a user locked out until after `now` or before it.
    #[test]
    fn stored_users_read_every_field_as_records_do() {
        use crate::documents::fields::FieldId;
        use crate::documents::values::Queryable;
        let now = Timestamp::from_millis(1_700_000_000_000).unwrap();
        let later = now.plus(std::time::Duration::from_secs(60));
        let mut fields_read = 0;
        for record in records(now) {
            let bytes = codec::encode(&record).unwrap();
            let stored = codec::decode_stored::<StoredUser<'_>>(&bytes).unwrap();
            assert_eq!(Stored::<User>::id(&stored), record.header.id);
            for &field in UserField::ALL {
                for at in [now, later] {
                    assert_eq!(stored.get(field, at), record.get(field, at), "{field:?}");
                    fields_read += 1;
                }
            }
            assert!(stored.attributes().is_none());
        }
        assert!(fields_read > 100, "{fields_read}");
    }

    /// Damaged bytes (cut short, or one byte changed anywhere) give the
    /// same document or the same error either way.
    #[test]
    fn damaged_stored_users_fail_as_records_do() {
        let now = Timestamp::from_millis(1_700_000_000_000).unwrap();
        let mut errors = 0;
        for record in records(now) {
            let bytes = codec::encode(&record).unwrap();
            for end in 0..bytes.len() {
                let cut = &bytes[..end];
                assert_eq!(via_stored(cut, now), via_record(cut, now), "cut at {end}");
                errors += usize::from(via_record(cut, now).is_err());
            }
            for at in 0..bytes.len() {
                for value in [0x00, 0x01, 0x07, 0x7F, 0x80, 0xC3, 0xFF, bytes[at] ^ 1] {
                    let mut damaged = bytes.clone();
                    damaged[at] = value;
                    assert_eq!(
                        via_stored(&damaged, now),
                        via_record(&damaged, now),
                        "byte {at} set to {value:#x}"
                    );
                }
            }
        }
        assert!(errors > 100, "{errors}");
    }
}
