//! Resolved actions (a generated step with its ids and values fixed) and
//! their outcomes, as the oracle predicts them and the store reports them.

use rosterdb::{EntityKind, Error, ExternalId, Role, User};
use serde_json::{Map, Value, json};

use crate::generators::RoleSpec;

#[derive(Clone, Debug)]
pub struct UserInput {
    pub username: String,
    pub email: String,
    pub tenant: Option<String>,
    pub roles: Vec<u64>,
    pub external_ids: Vec<ExternalId>,
}

/// One resolved RFC 6902 operation.
#[derive(Clone, Debug, PartialEq)]
pub enum PatchOp {
    /// `replace` of a required string field (always present).
    Set(&'static str, String),
    AddNickname(String),
    RemoveNickname,
    SetEnabled(bool),
    AddRole(u64),
    RemoveRole(usize),
    AddExternal(ExternalId),
    AddTenant(String),
    RemoveTenant,
    /// `(op, path)` of `READ_ONLY_OPS`.
    ReadOnly(&'static str, &'static str),
    /// `test` of `/version` or `/username`.
    Test(&'static str, Value),
}

impl PatchOp {
    pub fn to_json(&self) -> Value {
        match self {
            PatchOp::Set(field, v) => {
                json!({"op": "replace", "path": format!("/{field}"), "value": v})
            }
            PatchOp::AddNickname(v) => json!({"op": "add", "path": "/nickname", "value": v}),
            PatchOp::RemoveNickname => json!({"op": "remove", "path": "/nickname"}),
            PatchOp::SetEnabled(b) => json!({"op": "replace", "path": "/enabled", "value": b}),
            PatchOp::AddRole(id) => json!({"op": "add", "path": "/roles/-", "value": id}),
            PatchOp::RemoveRole(i) => json!({"op": "remove", "path": format!("/roles/{i}")}),
            PatchOp::AddExternal(e) => json!({
                "op": "add",
                "path": "/externalIds/-",
                "value": {"type": e.kind, "value": e.value},
            }),
            PatchOp::AddTenant(t) => json!({"op": "add", "path": "/tenant", "value": t}),
            PatchOp::RemoveTenant => json!({"op": "remove", "path": "/tenant"}),
            PatchOp::ReadOnly("remove", path) => json!({"op": "remove", "path": path}),
            PatchOp::ReadOnly(op, path) => json!({"op": op, "path": path, "value": 7}),
            PatchOp::Test(path, v) => json!({"op": "test", "path": path, "value": v}),
        }
    }
}

/// A resolved merge patch; each `Some` is a key.
#[derive(Clone, Debug, Default)]
pub struct MergeDoc {
    pub username: Option<String>,
    pub email: Option<String>,
    pub nickname: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub dept: Option<Option<String>>,
    pub tenant: Option<Option<String>>,
    pub read_only: Option<(&'static str, Value)>,
}

impl MergeDoc {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(v) = &self.username {
            m.insert("username".into(), json!(v));
        }
        if let Some(v) = &self.email {
            m.insert("email".into(), json!(v));
        }
        if let Some(v) = &self.nickname {
            m.insert("nickname".into(), json!(v));
        }
        if let Some(v) = self.enabled {
            m.insert("enabled".into(), json!(v));
        }
        if let Some(v) = &self.dept {
            m.insert("attributes".into(), json!({"dept": v}));
        }
        if let Some(v) = &self.tenant {
            m.insert("tenant".into(), json!(v));
        }
        if let Some((key, v)) = &self.read_only {
            m.insert((*key).into(), v.clone());
        }
        Value::Object(m)
    }
}

/// A resolved replace document; each `Some` is a key.
#[derive(Clone, Debug, Default)]
pub struct ReplaceDoc {
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub nickname: Option<String>,
    pub enabled: Option<bool>,
    pub roles: Option<Vec<u64>>,
    pub external_ids: Option<Vec<ExternalId>>,
    /// `Some(None)`: `"attributes": {}`.
    pub dept: Option<Option<String>>,
    /// `Some(None)`: `"tenant": null`.
    pub tenant: Option<Option<String>>,
    pub read_only: Option<(&'static str, Value)>,
}

impl ReplaceDoc {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("username".into(), json!(self.username));
        m.insert("email".into(), json!(self.email));
        m.insert("firstName".into(), json!(self.first_name));
        m.insert("lastName".into(), json!(self.last_name));
        if let Some(v) = &self.nickname {
            m.insert("nickname".into(), json!(v));
        }
        if let Some(v) = self.enabled {
            m.insert("enabled".into(), json!(v));
        }
        if let Some(v) = &self.roles {
            m.insert("roles".into(), json!(v));
        }
        if let Some(v) = &self.external_ids {
            m.insert("externalIds".into(), json!(v));
        }
        if let Some(v) = &self.dept {
            m.insert("attributes".into(), attributes(v.as_deref()));
        }
        if let Some(v) = &self.tenant {
            m.insert("tenant".into(), json!(v));
        }
        if let Some((key, v)) = &self.read_only {
            m.insert((*key).into(), v.clone());
        }
        Value::Object(m)
    }
}

/// The `attributes` object of a model user.
pub fn attributes(dept: Option<&str>) -> Value {
    match dept {
        Some(d) => json!({ "dept": d }),
        None => json!({}),
    }
}

#[derive(Clone, Debug)]
pub enum Action {
    CreateUser(UserInput),
    CreateRole(RoleSpec),
    DeleteUser(u64),
    DeleteRole(u64, bool),
    Patch(u64, Vec<PatchOp>, Option<u64>),
    Merge(u64, MergeDoc, Option<u64>),
    Replace(u64, Box<ReplaceDoc>, Option<u64>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserView {
    pub id: u64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub nickname: Option<String>,
    pub tenant: Option<String>,
    pub enabled: bool,
    pub roles: Vec<u64>,
    pub external_ids: Vec<ExternalId>,
    pub attributes: Value,
    pub has_password: bool,
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleView {
    pub id: u64,
    pub name: String,
    pub tenant: Option<String>,
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    User(Box<UserView>),
    Role(RoleView),
    NotFound(EntityKind),
    Conflict(EntityKind, String),
    /// The failing fields, sorted.
    Validation(Vec<String>),
    InUse {
        id: u64,
        count: u64,
    },
    VersionConflict {
        expected: u64,
        actual: u64,
    },
    /// The failing operation's index.
    InvalidPatch(usize),
    Other(String),
}

pub fn user_view(u: &User) -> Box<UserView> {
    Box::new(UserView {
        id: u.id,
        username: u.username.clone(),
        email: u.email.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        nickname: u.nickname.clone(),
        tenant: u.tenant.clone(),
        enabled: u.enabled,
        roles: u.roles.clone(),
        external_ids: u.external_ids.clone(),
        attributes: Value::Object(u.attributes.clone().into()),
        has_password: u.has_password,
        version: u.version,
    })
}

pub fn role_view(r: &Role) -> RoleView {
    RoleView {
        id: r.id,
        name: r.name.clone(),
        tenant: r.tenant.clone(),
        version: r.version,
    }
}

pub fn error_outcome(e: &Error) -> Outcome {
    match e {
        Error::NotFound { entity, .. } => Outcome::NotFound(*entity),
        Error::Conflict { entity, field } => Outcome::Conflict(*entity, field.clone()),
        Error::Validation { errors } => {
            let mut fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
            fields.sort();
            Outcome::Validation(fields)
        }
        Error::InUse { id, count } => Outcome::InUse {
            id: *id,
            count: *count,
        },
        Error::VersionConflict { expected, actual } => Outcome::VersionConflict {
            expected: *expected,
            actual: *actual,
        },
        Error::InvalidPatch { op_index, .. } => Outcome::InvalidPatch(*op_index),
        other => Outcome::Other(format!("{other:?}")),
    }
}

pub fn outcome<T>(r: &Result<T, Error>, view: impl Fn(&T) -> Outcome) -> Outcome {
    match r {
        Ok(v) => view(v),
        Err(e) => error_outcome(e),
    }
}

/// A short form of an outcome, for the hand-written sequences.
pub fn brief(o: &Outcome) -> String {
    match o {
        Outcome::User(u) => format!("user {} v{}", u.id, u.version),
        Outcome::Role(r) => format!("role {} v{}", r.id, r.version),
        Outcome::NotFound(kind) => format!("NotFound {kind}"),
        Outcome::Conflict(kind, field) => format!("Conflict {kind} {field}"),
        Outcome::Validation(fields) => format!("Validation {}", fields.join(" ")),
        Outcome::InUse { id, count } => format!("InUse {id} {count}"),
        Outcome::VersionConflict { expected, actual } => {
            format!("VersionConflict {expected} {actual}")
        }
        Outcome::InvalidPatch(i) => format!("InvalidPatch {i}"),
        Outcome::Other(s) => s.clone(),
    }
}
