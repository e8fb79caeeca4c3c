//! The schema the oracle knows (docs/reference/documents.md): per kind, the fields a filter
//! may name and their types, the sortable keys, the top-level keys a
//! projection may pick, and the searchable fields.

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ent {
    User,
    Role,
    Client,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Str,
    /// `tenant`: an identifier, compared exactly (docs/reference/documents.md, Caseless matching).
    Ident,
    Int,
    Bool,
    Ts,
    StrArr,
    IntArr,
    /// A path inside `attributes`: any JSON value.
    Json,
}

pub const USER_FIELDS: &[(&str, Ty)] = &[
    ("id", Ty::Int),
    ("username", Ty::Str),
    ("email", Ty::Str),
    ("firstName", Ty::Str),
    ("lastName", Ty::Str),
    ("nickname", Ty::Str),
    ("telephoneNumber", Ty::Str),
    ("mobileNumber", Ty::Str),
    ("tenant", Ty::Ident),
    ("enabled", Ty::Bool),
    ("roles", Ty::IntArr),
    ("externalIds.type", Ty::StrArr),
    ("externalIds.value", Ty::StrArr),
    ("createdAt", Ty::Ts),
    ("updatedAt", Ty::Ts),
    ("lastLoginAt", Ty::Ts),
    ("lockedUntil", Ty::Ts),
    ("hasPassword", Ty::Bool),
    ("version", Ty::Int),
    ("attributes.dept", Ty::Json),
    ("attributes.rank", Ty::Json),
    ("attributes.tags", Ty::Json),
    ("attributes.office", Ty::Json),
    ("attributes.office.floor", Ty::Json),
    ("attributes.office.city", Ty::Json),
    ("attributes.pct-off", Ty::Json),
    ("attributes.Dept", Ty::Json),
    ("attributes.missing", Ty::Json),
];

pub const ROLE_FIELDS: &[(&str, Ty)] = &[
    ("id", Ty::Int),
    ("name", Ty::Str),
    ("description", Ty::Str),
    ("permissions", Ty::StrArr),
    ("tenant", Ty::Ident),
    ("createdAt", Ty::Ts),
    ("updatedAt", Ty::Ts),
    ("version", Ty::Int),
];

pub const CLIENT_FIELDS: &[(&str, Ty)] = &[
    ("id", Ty::Int),
    ("clientId", Ty::Str),
    ("name", Ty::Str),
    ("description", Ty::Str),
    ("tenant", Ty::Ident),
    ("enabled", Ty::Bool),
    ("roles", Ty::IntArr),
    ("ipAllowlist", Ty::StrArr),
    ("createdAt", Ty::Ts),
    ("updatedAt", Ty::Ts),
    ("lastUsedAt", Ty::Ts),
    ("version", Ty::Int),
];

/// Sortable keys: scalar fields, and `attributes` keys whose values the
/// generated populations keep scalar.
pub const USER_SORT: &[&str] = &[
    "id",
    "username",
    "email",
    "firstName",
    "lastName",
    "nickname",
    "telephoneNumber",
    "tenant",
    "enabled",
    "createdAt",
    "updatedAt",
    "lastLoginAt",
    "hasPassword",
    "version",
    "attributes.dept",
    "attributes.rank",
    "attributes.office.floor",
    "attributes.pct-off",
    "attributes.Dept",
];
pub const ROLE_SORT: &[&str] = &[
    "id",
    "name",
    "description",
    "tenant",
    "createdAt",
    "updatedAt",
    "version",
];
pub const CLIENT_SORT: &[&str] = &[
    "id",
    "clientId",
    "name",
    "description",
    "tenant",
    "enabled",
    "createdAt",
    "updatedAt",
    "lastUsedAt",
    "version",
];

pub const USER_TOP: &[&str] = &[
    "id",
    "username",
    "email",
    "firstName",
    "lastName",
    "nickname",
    "telephoneNumber",
    "mobileNumber",
    "tenant",
    "enabled",
    "roles",
    "externalIds",
    "attributes",
    "createdAt",
    "updatedAt",
    "lastLoginAt",
    "lockedUntil",
    "hasPassword",
    "version",
];
pub const ROLE_TOP: &[&str] = &[
    "id",
    "name",
    "description",
    "permissions",
    "tenant",
    "createdAt",
    "updatedAt",
    "version",
];
pub const CLIENT_TOP: &[&str] = &[
    "id",
    "clientId",
    "name",
    "description",
    "tenant",
    "enabled",
    "roles",
    "ipAllowlist",
    "createdAt",
    "updatedAt",
    "lastUsedAt",
    "version",
];

impl Ent {
    pub fn fields(self) -> &'static [(&'static str, Ty)] {
        match self {
            Ent::User => USER_FIELDS,
            Ent::Role => ROLE_FIELDS,
            Ent::Client => CLIENT_FIELDS,
        }
    }
    pub fn sortable(self) -> &'static [&'static str] {
        match self {
            Ent::User => USER_SORT,
            Ent::Role => ROLE_SORT,
            Ent::Client => CLIENT_SORT,
        }
    }
    pub fn top_level(self) -> &'static [&'static str] {
        match self {
            Ent::User => USER_TOP,
            Ent::Role => ROLE_TOP,
            Ent::Client => CLIENT_TOP,
        }
    }
    pub fn search_fields(self) -> &'static [&'static str] {
        match self {
            Ent::User => &["username", "email", "firstName", "lastName", "nickname"],
            Ent::Role => &["name", "description"],
            Ent::Client => &["name", "clientId", "description"],
        }
    }
    /// The fields filters pick from, `attributes` paths (users) twice as often.
    pub fn filter_choices(self) -> Vec<(&'static str, Ty)> {
        let mut all = self.fields().to_vec();
        all.extend(self.fields().iter().filter(|(_, ty)| *ty == Ty::Json));
        all
    }
    /// The keys sorts pick from: ones with ties, absent values or mixed types more often.
    pub fn sort_choices(self) -> Vec<&'static str> {
        let mut all = self.sortable().to_vec();
        all.extend(self.sortable().iter().filter(|k| {
            k.starts_with("attributes.")
                || matches!(
                    **k,
                    "nickname" | "firstName" | "description" | "name" | "tenant"
                )
        }));
        all
    }
    pub fn ty(self, path: &str) -> Ty {
        self.fields()
            .iter()
            .find(|(name, _)| *name == path)
            .map_or(Ty::Json, |(_, ty)| *ty)
    }
}
