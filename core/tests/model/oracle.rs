//! The oracle: an in-memory model of the store (BTreeMaps) that follows the
//! documented semantics (the rules are listed in `model_tests.rs`), and the
//! reference's field rules (docs/reference/documents.md) it validates with.

use std::collections::BTreeMap;

use rosterdb::{ChangeOp, EntityKind, ExternalId};
use serde_json::{Value, json};

use crate::actions::{
    Action, MergeDoc, Outcome, PatchOp, ReplaceDoc, RoleView, UserInput, UserView, attributes,
};
use crate::generators::{
    Expect, IdRef, PatchSpec, READ_ONLY_KEYS, READ_ONLY_OPS, RoleSpec, Src, Step, TenantIn, View,
    recase,
};

// ---------------------------------------------------------------------------
// The field rules of docs/reference/documents.md.

pub fn fold(s: &str) -> String {
    rosterdb::fold(s)
}

pub fn same_external(a: &ExternalId, b: &ExternalId) -> bool {
    fold(&a.kind) == fold(&b.kind) && fold(&a.value) == fold(&b.value)
}

pub fn chars_in(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.chars().count())
}

/// docs/reference/documents.md, Users username rule. `char::is_alphabetic` stands in for `\p{L}`:
/// they agree on every character the pools can produce (see `pool_assumptions`).
pub fn valid_username(s: &str) -> bool {
    chars_in(s, 1, 100)
        && s.chars()
            .all(|c| c.is_alphabetic() || c.is_ascii_digit() || matches!(c, '@' | '.' | '-' | '_'))
}

/// The email rule of docs/reference/documents.md, Users.
pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    chars_in(s, 5, 255)
        && !local.is_empty()
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.split('.').any(str::is_empty)
}

pub fn valid_tenant(s: &str) -> bool {
    chars_in(s, 1, 64)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

// ---------------------------------------------------------------------------
// The model.

/// A user's writable state as the model keeps it (its id is the map key).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelUser {
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub nickname: Option<String>,
    pub tenant: Option<String>,
    pub enabled: bool,
    pub roles: Vec<u64>,
    pub external_ids: Vec<ExternalId>,
    /// `attributes` is `{"dept": …}` or `{}`.
    pub dept: Option<String>,
    pub version: u64,
}

impl ModelUser {
    /// The fields that break docs/reference/documents.md, Users's rules (store lookups aside).
    pub fn problems(&self) -> Vec<String> {
        let mut fields = Vec::new();
        if !valid_username(&self.username) {
            fields.push("username".to_owned());
        }
        if !valid_email(&self.email) {
            fields.push("email".to_owned());
        }
        if !chars_in(&self.first_name, 1, 50) {
            fields.push("firstName".to_owned());
        }
        if !chars_in(&self.last_name, 1, 50) {
            fields.push("lastName".to_owned());
        }
        if self
            .nickname
            .as_deref()
            .is_some_and(|n| !chars_in(n, 0, 50))
        {
            fields.push("nickname".to_owned());
        }
        if self.tenant.as_deref().is_some_and(|t| !valid_tenant(t)) {
            fields.push("tenant".to_owned());
        }
        // docs/reference/documents.md, Bounds and characters: ids are at most 2^53 - 1.
        if self.roles.iter().any(|&r| r > (1 << 53) - 1) {
            fields.push("roles".to_owned());
        }
        for (i, ext) in self.external_ids.iter().enumerate() {
            if self.external_ids[..i].iter().any(|e| same_external(e, ext)) {
                fields.push(format!("externalIds[{i}]"));
            }
        }
        fields
    }
}

#[derive(Clone, Debug)]
pub struct ModelRole {
    pub name: String,
    pub tenant: Option<String>,
    pub version: u64,
}

pub type LogEntry = (EntityKind, u64, ChangeOp, u64);

#[derive(Clone, Debug, Default)]
pub struct Model {
    pub users: BTreeMap<u64, ModelUser>,
    pub roles: BTreeMap<u64, ModelRole>,
    pub last_user_id: u64,
    pub last_role_id: u64,
    pub log: Vec<LogEntry>,
    /// The tenant of the record of each entry of `log`.
    pub log_tenants: Vec<Option<String>>,
}

/// Whether a record of `tenant` is seen through a view of `scope`.
pub fn visible(tenant: Option<&str>, scope: View) -> bool {
    scope.is_none() || tenant == scope
}

/// The tenant a lookup naming `tenant` searches through a view of `scope`.
pub fn effective(tenant: Option<&str>, scope: View) -> Option<&str> {
    scope.or(tenant)
}

/// Sorted, deduplicated field names, or `None` when there are none.
pub fn failing(mut fields: Vec<String>) -> Option<Outcome> {
    fields.sort();
    fields.dedup();
    (!fields.is_empty()).then_some(Outcome::Validation(fields))
}

/// The field a read-only key given to merge or replace fails on, if its
/// value is not the stored one.
pub fn read_only_mismatch(
    given: &Option<(&'static str, Value)>,
    id: u64,
    u: &ModelUser,
) -> Vec<String> {
    let Some((key, value)) = given else {
        return Vec::new();
    };
    let stored = match *key {
        "id" => json!(id),
        "version" => json!(u.version),
        "hasPassword" => json!(false),
        other => unreachable!("no stored value for {other}"),
    };
    if *value == stored {
        Vec::new()
    } else {
        vec![(*key).to_owned()]
    }
}

impl Model {
    /// Resolves `ix`: `held` and `live` are the candidates for `Held` and
    /// `Live`, `last` the last id handed out.
    pub fn resolve_id(ix: &IdRef, held: &[u64], live: &[u64], last: u64) -> u64 {
        match ix {
            IdRef::Held(ix) if !held.is_empty() => held[ix.index(held.len())],
            IdRef::Held(ix) | IdRef::Live(ix) if !live.is_empty() => live[ix.index(live.len())],
            IdRef::Raw(id) => *id,
            _ if last == 0 => 1,
            IdRef::Held(ix) | IdRef::Live(ix) | IdRef::Known(ix) => {
                ix.index(last as usize) as u64 + 1
            }
        }
    }

    pub fn roles_of(&self, tenant: Option<&str>) -> Vec<u64> {
        self.roles
            .iter()
            .filter(|(_, r)| r.tenant.as_deref() == tenant)
            .map(|(&id, _)| id)
            .collect()
    }

    /// A user id; `Held` picks one the view sees.
    pub fn resolve_user(&self, id: &IdRef, view: View) -> u64 {
        let live: Vec<u64> = self.users.keys().copied().collect();
        let seen: Vec<u64> = self
            .users
            .iter()
            .filter(|(_, u)| visible(u.tenant.as_deref(), view))
            .map(|(&id, _)| id)
            .collect();
        Model::resolve_id(id, &seen, &live, self.last_user_id)
    }

    /// A role for a user of `tenant` to hold (one of that tenant if any).
    pub fn resolve_role(&self, r: &IdRef, tenant: Option<&str>) -> u64 {
        let same = self.roles_of(tenant);
        match r {
            IdRef::Held(ix) | IdRef::Live(ix) if same.is_empty() => {
                Model::resolve_id(&IdRef::Known(*ix), &[], &[], self.last_role_id)
            }
            r => Model::resolve_id(r, &same, &same, self.last_role_id),
        }
    }

    pub fn value_of(
        &self,
        src: &Src,
        id: u64,
        target: &ModelUser,
        field: fn(&ModelUser) -> &String,
    ) -> String {
        match src {
            Src::Pool(s) => s.clone(),
            Src::Own(seed) => recase(field(target), *seed),
            Src::Other(ix, seed) => {
                let others: Vec<&ModelUser> = self
                    .users
                    .iter()
                    .filter(|&(&other, _)| other != id)
                    .map(|(_, u)| u)
                    .collect();
                let same: Vec<&ModelUser> = others
                    .iter()
                    .copied()
                    .filter(|u| u.tenant == target.tenant)
                    .collect();
                let pool = if same.is_empty() { others } else { same };
                let from = if pool.is_empty() {
                    target
                } else {
                    pool[ix.index(pool.len())]
                };
                recase(field(from), *seed)
            }
        }
    }

    pub fn read_only_value(
        spec: Option<(usize, bool)>,
        id: u64,
        u: &ModelUser,
    ) -> Option<(&'static str, Value)> {
        let (i, equal) = spec?;
        let key = READ_ONLY_KEYS[i];
        let value = match (key, equal) {
            ("id", true) => json!(id),
            ("id", false) => json!(id.wrapping_add(1)),
            ("version", true) => json!(u.version),
            ("version", false) => json!(u.version + 1),
            (_, equal) => json!(!equal),
        };
        Some((key, value))
    }

    pub fn resolve(&self, step: &Step, view: View) -> Action {
        let expected = |e: &Expect, u: &ModelUser| match e {
            Expect::Any => None,
            Expect::Right => Some(u.version),
            Expect::Above => Some(u.version + 1),
            Expect::Below => Some(u.version.saturating_sub(1)),
        };
        match step {
            Step::CreateUser(u) => {
                let tenant = view.map(str::to_owned).or_else(|| u.tenant.clone());
                let same_tenant = self.roles_of(tenant.as_deref());
                let roles = u.roles.iter().filter_map(|r| match r {
                    IdRef::Held(_) | IdRef::Live(_) if same_tenant.is_empty() => None,
                    r => Some(Model::resolve_id(
                        r,
                        &same_tenant,
                        &same_tenant,
                        self.last_role_id,
                    )),
                });
                Action::CreateUser(UserInput {
                    username: u.username.clone(),
                    email: u.email.clone(),
                    tenant: u.tenant.clone(),
                    roles: roles.collect(),
                    external_ids: u.external_ids.clone(),
                })
            }
            Step::CreateRole(r) => Action::CreateRole(r.clone()),
            Step::DeleteUser(id) => Action::DeleteUser(self.resolve_user(id, view)),
            Step::DeleteRole(id, cascade) => {
                let live_roles: Vec<u64> = self.roles.keys().copied().collect();
                let held: Vec<u64> = live_roles
                    .iter()
                    .copied()
                    .filter(|r| self.users.values().any(|u| u.roles.contains(r)))
                    .collect();
                let id = Model::resolve_id(id, &held, &live_roles, self.last_role_id);
                Action::DeleteRole(id, *cascade)
            }
            Step::Patch(id, specs, e) => {
                let id = self.resolve_user(id, view);
                let target = self.users.get(&id).cloned().unwrap_or_default();
                let ops = specs
                    .iter()
                    .map(|s| match s {
                        PatchSpec::Name(field, v) => PatchOp::Set(field, v.clone()),
                        PatchSpec::Username(src) => PatchOp::Set(
                            "username",
                            self.value_of(src, id, &target, |u| &u.username),
                        ),
                        PatchSpec::Email(src) => {
                            PatchOp::Set("email", self.value_of(src, id, &target, |u| &u.email))
                        }
                        PatchSpec::Nickname(Some(v)) => PatchOp::AddNickname(v.clone()),
                        PatchSpec::Nickname(None) => PatchOp::RemoveNickname,
                        PatchSpec::Enabled(b) => PatchOp::SetEnabled(*b),
                        PatchSpec::AddRole(r) => {
                            PatchOp::AddRole(self.resolve_role(r, target.tenant.as_deref()))
                        }
                        PatchSpec::RemoveRole(i) => PatchOp::RemoveRole(*i),
                        PatchSpec::AddExternal(e) => PatchOp::AddExternal(e.clone()),
                        PatchSpec::Tenant(Some(t)) => PatchOp::AddTenant(t.clone()),
                        PatchSpec::Tenant(None) => PatchOp::RemoveTenant,
                        PatchSpec::ReadOnly(i) => {
                            let (op, path) = READ_ONLY_OPS[*i];
                            PatchOp::ReadOnly(op, path)
                        }
                        PatchSpec::TestVersion(pass) => {
                            PatchOp::Test("/version", json!(target.version + u64::from(!pass)))
                        }
                        PatchSpec::TestUsername(seed) => {
                            PatchOp::Test("/username", json!(recase(&target.username, *seed)))
                        }
                    })
                    .collect();
                Action::Patch(id, ops, expected(e, &target))
            }
            Step::Merge(id, m, e) => {
                let id = self.resolve_user(id, view);
                let target = self.users.get(&id).cloned().unwrap_or_default();
                let doc = MergeDoc {
                    username: m
                        .username
                        .as_ref()
                        .map(|s| self.value_of(s, id, &target, |u| &u.username)),
                    email: m
                        .email
                        .as_ref()
                        .map(|s| self.value_of(s, id, &target, |u| &u.email)),
                    nickname: m.nickname.clone(),
                    enabled: m.enabled,
                    dept: m.dept.clone(),
                    tenant: m.tenant.clone(),
                    read_only: Model::read_only_value(m.read_only, id, &target),
                };
                Action::Merge(id, doc, expected(e, &target))
            }
            Step::Replace(id, r, e) => {
                let id = self.resolve_user(id, view);
                let target = self.users.get(&id).cloned().unwrap_or_default();
                let (first_name, last_name) = r
                    .names
                    .clone()
                    .unwrap_or_else(|| (target.first_name.clone(), target.last_name.clone()));
                let doc = ReplaceDoc {
                    username: self.value_of(&r.username, id, &target, |u| &u.username),
                    email: self.value_of(&r.email, id, &target, |u| &u.email),
                    first_name,
                    last_name,
                    nickname: target.nickname.clone().filter(|_| r.keep_nickname),
                    enabled: r.enabled,
                    roles: r.keep_roles.then(|| target.roles.clone()),
                    external_ids: r.keep_external_ids.then(|| target.external_ids.clone()),
                    dept: r.keep_attributes.then(|| target.dept.clone()),
                    tenant: match &r.tenant {
                        TenantIn::Absent => None,
                        TenantIn::Current => Some(target.tenant.clone()),
                        TenantIn::Given(t) => Some(t.clone()),
                    },
                    read_only: Model::read_only_value(r.read_only, id, &target),
                };
                Action::Replace(id, Box::new(doc), expected(e, &target))
            }
        }
    }

    pub fn user_view(&self, id: u64) -> Box<UserView> {
        let u = &self.users[&id];
        Box::new(UserView {
            id,
            username: u.username.clone(),
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            nickname: u.nickname.clone(),
            tenant: u.tenant.clone(),
            enabled: u.enabled,
            roles: u.roles.clone(),
            external_ids: u.external_ids.clone(),
            attributes: attributes(u.dept.as_deref()),
            has_password: false,
            version: u.version,
        })
    }

    pub fn role_view(&self, id: u64) -> RoleView {
        let r = &self.roles[&id];
        RoleView {
            id,
            name: r.name.clone(),
            tenant: r.tenant.clone(),
            version: r.version,
        }
    }

    pub fn find_user(
        &self,
        tenant: Option<&str>,
        pred: impl Fn(&ModelUser) -> bool,
    ) -> Option<u64> {
        let mut found = self
            .users
            .iter()
            .filter(|(_, u)| u.tenant.as_deref() == tenant && pred(u))
            .map(|(&id, _)| id);
        let first = found.next();
        assert!(found.next().is_none(), "model broke its own uniqueness");
        first
    }

    pub fn by_username(&self, name: &str, tenant: Option<&str>) -> Option<u64> {
        self.find_user(tenant, |u| fold(&u.username) == fold(name))
    }

    pub fn by_email(&self, email: &str, tenant: Option<&str>) -> Option<u64> {
        self.find_user(tenant, |u| fold(&u.email) == fold(email))
    }

    pub fn by_external_id(&self, ext: &ExternalId, tenant: Option<&str>) -> Option<u64> {
        self.find_user(tenant, |u| {
            u.external_ids.iter().any(|e| same_external(e, ext))
        })
    }

    /// The unique field of `u` another user of its tenant (other than
    /// `except`) already has, in the order the store checks them.
    pub fn taken(&self, u: &ModelUser, except: Option<u64>) -> Option<&'static str> {
        let others: Vec<&ModelUser> = self
            .users
            .iter()
            .filter(|&(&id, o)| Some(id) != except && o.tenant == u.tenant)
            .map(|(_, o)| o)
            .collect();
        if others
            .iter()
            .any(|o| fold(&o.username) == fold(&u.username))
        {
            Some("username")
        } else if others.iter().any(|o| fold(&o.email) == fold(&u.email)) {
            Some("email")
        } else if u.external_ids.iter().any(|e| {
            others
                .iter()
                .any(|o| o.external_ids.iter().any(|x| same_external(x, e)))
        }) {
            Some("externalIds")
        } else {
            None
        }
    }

    /// Whether every role exists in `tenant`.
    pub fn roles_ok(&self, roles: &[u64], tenant: Option<&str>) -> bool {
        roles.iter().all(|r| {
            self.roles
                .get(r)
                .is_some_and(|role| role.tenant.as_deref() == tenant)
        })
    }

    pub fn push_log(&mut self, entry: LogEntry, tenant: Option<String>) {
        self.log.push(entry);
        self.log_tenants.push(tenant);
    }

    /// Applies `action`, run through a view of `scope` (or the store itself),
    /// if it succeeds (a failure changes nothing) and returns the outcome the
    /// store must report.
    pub fn apply(&mut self, action: &Action, scope: View) -> Outcome {
        match action {
            Action::CreateUser(u) => self.create_user(u, scope),
            Action::CreateRole(r) => self.create_role(r, scope),
            Action::DeleteUser(id) => {
                let Some(u) = self
                    .users
                    .get(id)
                    .filter(|u| visible(u.tenant.as_deref(), scope))
                else {
                    return Outcome::NotFound(EntityKind::User);
                };
                let tenant = u.tenant.clone();
                let view = self.user_view(*id);
                self.users.remove(id);
                self.push_log(
                    (EntityKind::User, *id, ChangeOp::Delete, view.version),
                    tenant,
                );
                Outcome::User(view)
            }
            Action::DeleteRole(id, cascade) => self.delete_role(*id, *cascade, scope),
            Action::Patch(id, ops, expected) => self.update_user(*id, *expected, scope, |old| {
                Model::patched(old, ops)
                    .map(|u| (u, Vec::new()))
                    .map_err(Outcome::InvalidPatch)
            }),
            Action::Merge(id, doc, expected) => self.update_user(*id, *expected, scope, |old| {
                Ok(Model::merged(*id, old, doc))
            }),
            Action::Replace(id, doc, expected) => self.update_user(*id, *expected, scope, |old| {
                Ok(Model::replaced(*id, old, doc))
            }),
        }
    }

    /// RFC 6902 on the stored user: read-only targets are refused before
    /// anything applies, then operations apply in order.
    pub fn patched(old: &ModelUser, ops: &[PatchOp]) -> Result<ModelUser, usize> {
        if let Some(i) = ops
            .iter()
            .position(|op| matches!(op, PatchOp::ReadOnly(..)))
        {
            return Err(i);
        }
        let mut w = old.clone();
        for (i, op) in ops.iter().enumerate() {
            let ok = match op {
                PatchOp::Set(field, v) => {
                    let slot = match *field {
                        "username" => &mut w.username,
                        "email" => &mut w.email,
                        "firstName" => &mut w.first_name,
                        "lastName" => &mut w.last_name,
                        other => unreachable!("no field {other}"),
                    };
                    *slot = v.clone();
                    true
                }
                PatchOp::AddNickname(v) => {
                    w.nickname = Some(v.clone());
                    true
                }
                PatchOp::RemoveNickname => w.nickname.take().is_some(),
                PatchOp::SetEnabled(b) => {
                    w.enabled = *b;
                    true
                }
                PatchOp::AddRole(r) => {
                    w.roles.push(*r);
                    true
                }
                PatchOp::RemoveRole(j) => {
                    let present = *j < w.roles.len();
                    if present {
                        w.roles.remove(*j);
                    }
                    present
                }
                PatchOp::AddExternal(e) => {
                    w.external_ids.push(e.clone());
                    true
                }
                PatchOp::AddTenant(t) => {
                    w.tenant = Some(t.clone());
                    true
                }
                PatchOp::RemoveTenant => w.tenant.take().is_some(),
                PatchOp::ReadOnly(..) => unreachable!("refused above"),
                PatchOp::Test(path, v) => match *path {
                    "/version" => json!(w.version) == *v,
                    "/username" => json!(w.username) == *v,
                    other => unreachable!("no test of {other}"),
                },
            };
            if !ok {
                return Err(i);
            }
        }
        Ok(w)
    }

    /// RFC 7396 on the stored user, and the read-only keys that fail.
    pub fn merged(id: u64, old: &ModelUser, doc: &MergeDoc) -> (ModelUser, Vec<String>) {
        let mut u = old.clone();
        if let Some(v) = &doc.username {
            u.username = v.clone();
        }
        if let Some(v) = &doc.email {
            u.email = v.clone();
        }
        if let Some(v) = &doc.nickname {
            u.nickname = v.clone();
        }
        if let Some(v) = doc.enabled {
            u.enabled = v;
        }
        if let Some(v) = &doc.dept {
            u.dept = v.clone();
        }
        if let Some(v) = &doc.tenant {
            u.tenant = v.clone();
        }
        (u, read_only_mismatch(&doc.read_only, id, old))
    }

    /// The user a replace document makes: absent keys take their defaults,
    /// except the tenant, which is kept.
    pub fn replaced(id: u64, old: &ModelUser, doc: &ReplaceDoc) -> (ModelUser, Vec<String>) {
        let u = ModelUser {
            username: doc.username.clone(),
            email: doc.email.clone(),
            first_name: doc.first_name.clone(),
            last_name: doc.last_name.clone(),
            nickname: doc.nickname.clone(),
            tenant: doc.tenant.clone().unwrap_or_else(|| old.tenant.clone()),
            enabled: doc.enabled.unwrap_or(true),
            roles: doc.roles.clone().unwrap_or_default(),
            external_ids: doc.external_ids.clone().unwrap_or_default(),
            dept: doc.dept.clone().flatten(),
            version: old.version,
        };
        (u, read_only_mismatch(&doc.read_only, id, old))
    }

    /// An update of user `id` through a view of `scope`: `edit` makes the
    /// new state from the stored one (or fails), with the read-only keys it
    /// found changed.
    pub fn update_user(
        &mut self,
        id: u64,
        expected: Option<u64>,
        scope: View,
        edit: impl FnOnce(&ModelUser) -> Result<(ModelUser, Vec<String>), Outcome>,
    ) -> Outcome {
        let Some(old) = self
            .users
            .get(&id)
            .filter(|u| visible(u.tenant.as_deref(), scope))
            .cloned()
        else {
            return Outcome::NotFound(EntityKind::User);
        };
        if let Some(expected) = expected
            && expected != old.version
        {
            return Outcome::VersionConflict {
                expected,
                actual: old.version,
            };
        }
        let (mut new, mut fields) = match edit(&old) {
            Ok(edited) => edited,
            Err(outcome) => return outcome,
        };
        fields.extend(new.problems());
        if new.tenant != old.tenant {
            fields.push("tenant".to_owned());
        }
        if let Some(invalid) = failing(fields) {
            return invalid;
        }
        new.roles.sort_unstable();
        new.roles.dedup();
        new.version = old.version;
        if new == old {
            return Outcome::User(self.user_view(id));
        }
        if let Some(field) = self.taken(&new, Some(id)) {
            return Outcome::Conflict(EntityKind::User, field.into());
        }
        if !self.roles_ok(&new.roles, new.tenant.as_deref()) {
            return Outcome::Validation(vec!["roles".into()]);
        }
        new.version += 1;
        let entry = (EntityKind::User, id, ChangeOp::Update, new.version);
        let tenant = new.tenant.clone();
        self.users.insert(id, new);
        self.push_log(entry, tenant);
        Outcome::User(self.user_view(id))
    }

    pub fn create_user(&mut self, u: &UserInput, scope: View) -> Outcome {
        let mut fields = Vec::new();
        let mut tenant = u.tenant.clone();
        if let Some(scope) = scope {
            if tenant.as_deref().is_some_and(|t| t != scope) {
                fields.push("tenant".to_owned());
            }
            tenant = Some(scope.to_owned());
        }
        let mut new = ModelUser {
            username: u.username.clone(),
            email: u.email.clone(),
            first_name: "First".into(),
            last_name: "Last".into(),
            nickname: None,
            tenant,
            enabled: true,
            roles: u.roles.clone(),
            external_ids: u.external_ids.clone(),
            dept: None,
            version: 1,
        };
        fields.extend(new.problems());
        if let Some(invalid) = failing(fields) {
            return invalid;
        }
        if let Some(field) = self.taken(&new, None) {
            return Outcome::Conflict(EntityKind::User, field.into());
        }
        if !self.roles_ok(&new.roles, new.tenant.as_deref()) {
            return Outcome::Validation(vec!["roles".into()]);
        }
        self.last_user_id += 1;
        let id = self.last_user_id;
        new.roles.sort_unstable();
        new.roles.dedup();
        let tenant = new.tenant.clone();
        self.users.insert(id, new);
        self.push_log((EntityKind::User, id, ChangeOp::Create, 1), tenant);
        Outcome::User(self.user_view(id))
    }

    pub fn create_role(&mut self, r: &RoleSpec, scope: View) -> Outcome {
        let mut fields = Vec::new();
        let mut tenant = r.tenant.clone();
        if let Some(scope) = scope {
            if tenant.as_deref().is_some_and(|t| t != scope) {
                fields.push("tenant".to_owned());
            }
            tenant = Some(scope.to_owned());
        }
        if !chars_in(&r.name, 1, 100) {
            fields.push("name".to_owned());
        }
        if tenant.as_deref().is_some_and(|t| !valid_tenant(t)) {
            fields.push("tenant".to_owned());
        }
        if let Some(invalid) = failing(fields) {
            return invalid;
        }
        let taken = self
            .roles
            .values()
            .any(|x| x.tenant == tenant && fold(&x.name) == fold(&r.name));
        if taken {
            return Outcome::Conflict(EntityKind::Role, "name".into());
        }
        self.last_role_id += 1;
        let id = self.last_role_id;
        self.roles.insert(
            id,
            ModelRole {
                name: r.name.clone(),
                tenant: tenant.clone(),
                version: 1,
            },
        );
        self.push_log((EntityKind::Role, id, ChangeOp::Create, 1), tenant);
        Outcome::Role(self.role_view(id))
    }

    pub fn delete_role(&mut self, id: u64, cascade: bool, scope: View) -> Outcome {
        let Some(role) = self
            .roles
            .get(&id)
            .filter(|r| visible(r.tenant.as_deref(), scope))
        else {
            return Outcome::NotFound(EntityKind::Role);
        };
        let role_tenant = role.tenant.clone();
        let holders: Vec<u64> = self
            .users
            .iter()
            .filter(|(_, u)| u.roles.contains(&id))
            .map(|(&uid, _)| uid)
            .collect();
        if !holders.is_empty() && !cascade {
            return Outcome::InUse {
                id,
                count: holders.len() as u64,
            };
        }
        for uid in holders {
            let u = self.users.get_mut(&uid).expect("holder exists");
            u.roles.retain(|&r| r != id);
            u.version += 1;
            let entry = (EntityKind::User, uid, ChangeOp::Update, u.version);
            let tenant = u.tenant.clone();
            self.push_log(entry, tenant);
        }
        let view = self.role_view(id);
        self.roles.remove(&id);
        self.push_log(
            (EntityKind::Role, id, ChangeOp::Delete, view.version),
            role_tenant,
        );
        Outcome::Role(view)
    }
}
