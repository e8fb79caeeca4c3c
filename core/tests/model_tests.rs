//! Model-based property test: random sequences of operations run against the
//! real store and against a small in-memory model (BTreeMaps), which must
//! agree after every step (SPEC §2, §5, §8, §13).
//!
//! The model follows the documented semantics:
//! - ids per kind start at 1, grow by one per successful create, are never
//!   reused; a failed create consumes no id;
//! - username and email are unique per tenant under `str::to_lowercase`
//!   (username checked first), and so are role names; external ids (tenant,
//!   type, value) are likewise case-folded (docs/design.md: SPEC §2's general
//!   rule), for uniqueness, lookups and duplicates within one user;
//! - a user's roles must exist in the user's tenant (`Validation` on `roles`),
//!   and are stored sorted and deduplicated;
//! - deleting a held role is `InUse` (with the holder count) unless cascading,
//!   which removes it from each holder as an update (version + 1, an `update`
//!   change each);
//! - every successful write appends its change-log entries, failures none;
//! - `store.write` commits all or nothing, its reads see its own writes, and an
//!   operation that failed inside it (and whose error the caller swallowed)
//!   leaves no trace; a `begin_write` transaction dropped uncommitted leaves
//!   no trace at all.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use rosterdb::{
    Argon2Params, Change, ChangeOp, Collection, EntityKind, Error, ExternalId, NewRole, NewUser,
    Options, Role, Store, User, WriteContext, WriteTx,
};

// ---------------------------------------------------------------------------
// Input pools: small, so that collisions are frequent.

const VALID_USERNAMES: &[&str] = &["ann", "bob", "zoë", "straße", "ΟΔΟΣ", "ann.b"];
/// A space, and a combining diaeresis (not a letter).
const INVALID_USERNAMES: &[&str] = &["bad name", "zoe\u{308}"];
const VALID_EMAILS: &[&str] = &[
    "ann@x.io",
    "bob@x.io",
    "zoë@x.io",
    "straße@x.io",
    "ann@y.io",
];
const INVALID_EMAILS: &[&str] = &["ann@x", "no pe@x.io"];
const VALID_ROLE_NAMES: &[&str] = &["admin", "ops", "straße", "ΟΔΟΣ"];
const INVALID_ROLE_NAMES: &[&str] = &[""];
const EXTERNAL_IDS: &[(&str, &str)] = &[
    ("github", "1"),
    ("github", "2"),
    ("GitHub", "1"),
    ("ldap", "Ann"),
    ("ldap", "ann"),
    ("ldap", "bob"),
    ("sso", "Ann"),
];
const TENANTS: &[Option<&str>] = &[None, Some("t1"), Some("t2")];
const INVALID_TENANT: &str = "bad tenant";

/// Re-cases `s` character by character: two bits of `seed` per character pick
/// as-is, lower or upper case (`ß` upper-cases to `SS`, which does not fold
/// back to `ß`: the model decides what such a key finds).
fn recase(s: &str, seed: u64) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        match (seed >> ((2 * i) % 64)) & 3 {
            1 => out.extend(c.to_lowercase()),
            2 => out.extend(c.to_uppercase()),
            _ => out.push(c),
        }
    }
    out
}

fn fold(s: &str) -> String {
    s.to_lowercase()
}

fn same_external(a: &ExternalId, b: &ExternalId) -> bool {
    fold(&a.kind) == fold(&b.kind) && fold(&a.value) == fold(&b.value)
}

fn chars_in(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.chars().count())
}

/// SPEC §2.1 username rule. `char::is_alphabetic` stands in for `\p{L}`: they
/// agree on every character the pools can produce (see `pool_assumptions`).
fn valid_username(s: &str) -> bool {
    chars_in(s, 1, 100)
        && s.chars()
            .all(|c| c.is_alphabetic() || c.is_ascii_digit() || matches!(c, '@' | '.' | '-' | '_'))
}

/// SPEC §13 email rule.
fn valid_email(s: &str) -> bool {
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

fn valid_tenant(s: &str) -> bool {
    chars_in(s, 1, 64)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
}

// ---------------------------------------------------------------------------
// Generated operations.

/// An id, resolved against the model when the step runs.
#[derive(Clone, Debug)]
enum IdRef {
    /// A live record (for a user's roles: a live role of the user's tenant;
    /// for a role to delete: one that users hold). Falls back to `Live`.
    Held(Index),
    /// A live record (for a user's roles: of the user's tenant). A user's
    /// role falls back to none, anything else to `Known`.
    Live(Index),
    /// An id the store has handed out, live or deleted.
    Known(Index),
    /// Any number.
    Raw(u64),
}

#[derive(Clone, Debug)]
struct UserSpec {
    username: String,
    email: String,
    tenant: Option<String>,
    roles: Vec<IdRef>,
    external_ids: Vec<ExternalId>,
}

#[derive(Clone, Debug)]
struct RoleSpec {
    name: String,
    tenant: Option<String>,
}

#[derive(Clone, Debug)]
enum Step {
    CreateUser(UserSpec),
    CreateRole(RoleSpec),
    DeleteUser(IdRef),
    DeleteRole(IdRef, bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TxMode {
    /// Propagate the first error: the whole transaction rolls back.
    Atomic,
    /// Swallow each operation's error and commit the rest.
    Swallow,
    /// Run every step, then fail on purpose: nothing may be committed.
    Abort,
    /// `Store::begin_write`, swallow each error, `commit()`.
    BeginCommit,
    /// `Store::begin_write`, every step, `rollback()`: nothing may remain.
    BeginRollback,
    /// `Store::begin_write`, every step, then drop it: nothing may remain.
    BeginDrop,
}

#[derive(Clone, Debug)]
enum Op {
    Single(Step),
    Tx(Vec<Step>, TxMode),
}

/// One operation and the seed that re-cases the lookup keys checked after it.
#[derive(Clone, Debug)]
struct Case {
    op: Op,
    seed: u64,
}

fn pick(valid: &'static [&'static str], invalid: &'static [&'static str]) -> BoxedStrategy<String> {
    let valid = prop::sample::select(valid);
    let invalid = prop::sample::select(invalid);
    (prop_oneof![24 => valid, 1 => invalid], any::<u64>())
        .prop_map(|(s, seed)| recase(s, seed))
        .boxed()
}

fn tenant() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        40 => prop::sample::select(TENANTS).prop_map(|t| t.map(str::to_owned)),
        1 => Just(Some(INVALID_TENANT.to_owned())),
    ]
}

fn id_ref() -> impl Strategy<Value = IdRef> {
    prop_oneof![
        3 => any::<Index>().prop_map(IdRef::Held),
        3 => any::<Index>().prop_map(IdRef::Live),
        2 => any::<Index>().prop_map(IdRef::Known),
        1 => prop_oneof![0..12u64, Just(u64::MAX)].prop_map(IdRef::Raw),
    ]
}

fn user_spec() -> impl Strategy<Value = UserSpec> {
    (
        pick(VALID_USERNAMES, INVALID_USERNAMES),
        pick(VALID_EMAILS, INVALID_EMAILS),
        tenant(),
        prop_oneof![2 => Just(0..=0usize), 3 => Just(1..=1), 1 => Just(2..=2)]
            .prop_flat_map(|n| prop::collection::vec(id_ref(), n)),
        prop_oneof![4 => Just(0..=0usize), 3 => Just(1..=1), 1 => Just(2..=2)]
            .prop_flat_map(|n| prop::collection::vec(prop::sample::select(EXTERNAL_IDS), n)),
    )
        .prop_map(|(username, email, tenant, roles, ext)| UserSpec {
            username,
            email,
            tenant,
            roles,
            external_ids: ext
                .into_iter()
                .map(|(k, v)| ExternalId::new(k, v))
                .collect(),
        })
}

fn role_spec() -> impl Strategy<Value = RoleSpec> {
    (pick(VALID_ROLE_NAMES, INVALID_ROLE_NAMES), tenant())
        .prop_map(|(name, tenant)| RoleSpec { name, tenant })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => user_spec().prop_map(Step::CreateUser),
        3 => role_spec().prop_map(Step::CreateRole),
        1 => id_ref().prop_map(Step::DeleteUser),
        2 => (id_ref(), any::<bool>()).prop_map(|(id, cascade)| Step::DeleteRole(id, cascade)),
    ]
}

fn tx_mode() -> impl Strategy<Value = TxMode> {
    prop_oneof![
        3 => Just(TxMode::Atomic),
        2 => Just(TxMode::Swallow),
        1 => Just(TxMode::Abort),
        1 => Just(TxMode::BeginCommit),
        1 => Just(TxMode::BeginRollback),
        1 => Just(TxMode::BeginDrop),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    // A transaction whose second step re-creates the first user with other
    // casing: a conflict midway (unless the first step already failed).
    let duplicate =
        (user_spec(), any::<u64>(), any::<u64>(), tx_mode()).prop_map(|(user, s1, s2, mode)| {
            let again = UserSpec {
                username: recase(&user.username, s1),
                email: recase(&user.email, s2),
                ..user.clone()
            };
            Op::Tx(vec![Step::CreateUser(user), Step::CreateUser(again)], mode)
        });
    prop_oneof![
        10 => step().prop_map(Op::Single),
        3 => (prop::collection::vec(step(), 1..=4), tx_mode())
            .prop_map(|(steps, mode)| Op::Tx(steps, mode)),
        1 => duplicate,
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (op(), any::<u64>()).prop_map(|(op, seed)| Case { op, seed })
}

// ---------------------------------------------------------------------------
// Resolved actions and their outcomes.

#[derive(Clone, Debug)]
struct UserInput {
    username: String,
    email: String,
    tenant: Option<String>,
    roles: Vec<u64>,
    external_ids: Vec<ExternalId>,
}

#[derive(Clone, Debug)]
enum Action {
    CreateUser(UserInput),
    CreateRole(RoleSpec),
    DeleteUser(u64),
    DeleteRole(u64, bool),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct UserView {
    id: u64,
    username: String,
    email: String,
    tenant: Option<String>,
    roles: Vec<u64>,
    external_ids: Vec<ExternalId>,
    version: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct RoleView {
    id: u64,
    name: String,
    tenant: Option<String>,
    version: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    User(UserView),
    Role(RoleView),
    NotFound(EntityKind),
    Conflict(EntityKind, String),
    /// The failing fields, sorted.
    Validation(Vec<String>),
    InUse {
        id: u64,
        count: u64,
    },
    Other(String),
}

fn user_view(u: &User) -> UserView {
    UserView {
        id: u.id,
        username: u.username.clone(),
        email: u.email.clone(),
        tenant: u.tenant.clone(),
        roles: u.roles.clone(),
        external_ids: u.external_ids.clone(),
        version: u.version,
    }
}

fn role_view(r: &Role) -> RoleView {
    RoleView {
        id: r.id,
        name: r.name.clone(),
        tenant: r.tenant.clone(),
        version: r.version,
    }
}

fn error_outcome(e: &Error) -> Outcome {
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
        other => Outcome::Other(format!("{other:?}")),
    }
}

fn outcome<T>(r: &Result<T, Error>, view: impl Fn(&T) -> Outcome) -> Outcome {
    match r {
        Ok(v) => view(v),
        Err(e) => error_outcome(e),
    }
}

// ---------------------------------------------------------------------------
// The model.

#[derive(Clone, Debug)]
struct ModelUser {
    username: String,
    email: String,
    tenant: Option<String>,
    roles: Vec<u64>,
    external_ids: Vec<ExternalId>,
    version: u64,
}

#[derive(Clone, Debug)]
struct ModelRole {
    name: String,
    tenant: Option<String>,
    version: u64,
}

type LogEntry = (EntityKind, u64, ChangeOp, u64);

#[derive(Clone, Debug, Default)]
struct Model {
    users: BTreeMap<u64, ModelUser>,
    roles: BTreeMap<u64, ModelRole>,
    last_user_id: u64,
    last_role_id: u64,
    log: Vec<LogEntry>,
}

impl Model {
    /// Resolves `ix`: `held` and `live` are the candidates for `Held` and
    /// `Live`, `last` the last id handed out.
    fn resolve_id(ix: &IdRef, held: &[u64], live: &[u64], last: u64) -> u64 {
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

    fn resolve(&self, step: &Step) -> Action {
        let live_users: Vec<u64> = self.users.keys().copied().collect();
        let live_roles: Vec<u64> = self.roles.keys().copied().collect();
        match step {
            Step::CreateUser(u) => {
                let same_tenant: Vec<u64> = self
                    .roles
                    .iter()
                    .filter(|(_, r)| r.tenant == u.tenant)
                    .map(|(&id, _)| id)
                    .collect();
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
            Step::DeleteUser(id) => Action::DeleteUser(Model::resolve_id(
                id,
                &live_users,
                &live_users,
                self.last_user_id,
            )),
            Step::DeleteRole(id, cascade) => {
                let held: Vec<u64> = live_roles
                    .iter()
                    .copied()
                    .filter(|r| self.users.values().any(|u| u.roles.contains(r)))
                    .collect();
                let id = Model::resolve_id(id, &held, &live_roles, self.last_role_id);
                Action::DeleteRole(id, *cascade)
            }
        }
    }

    fn user_view(&self, id: u64) -> UserView {
        let u = &self.users[&id];
        UserView {
            id,
            username: u.username.clone(),
            email: u.email.clone(),
            tenant: u.tenant.clone(),
            roles: u.roles.clone(),
            external_ids: u.external_ids.clone(),
            version: u.version,
        }
    }

    fn role_view(&self, id: u64) -> RoleView {
        let r = &self.roles[&id];
        RoleView {
            id,
            name: r.name.clone(),
            tenant: r.tenant.clone(),
            version: r.version,
        }
    }

    fn find_user(&self, tenant: Option<&str>, pred: impl Fn(&ModelUser) -> bool) -> Option<u64> {
        let mut found = self
            .users
            .iter()
            .filter(|(_, u)| u.tenant.as_deref() == tenant && pred(u))
            .map(|(&id, _)| id);
        let first = found.next();
        assert!(found.next().is_none(), "model broke its own uniqueness");
        first
    }

    fn by_username(&self, name: &str, tenant: Option<&str>) -> Option<u64> {
        self.find_user(tenant, |u| fold(&u.username) == fold(name))
    }

    fn by_email(&self, email: &str, tenant: Option<&str>) -> Option<u64> {
        self.find_user(tenant, |u| fold(&u.email) == fold(email))
    }

    fn by_external_id(&self, ext: &ExternalId, tenant: Option<&str>) -> Option<u64> {
        self.find_user(tenant, |u| {
            u.external_ids.iter().any(|e| same_external(e, ext))
        })
    }

    /// Applies `action` if it succeeds (a failure changes nothing) and returns
    /// the outcome the store must report.
    fn apply(&mut self, action: &Action) -> Outcome {
        match action {
            Action::CreateUser(u) => self.create_user(u),
            Action::CreateRole(r) => self.create_role(r),
            Action::DeleteUser(id) => {
                if !self.users.contains_key(id) {
                    return Outcome::NotFound(EntityKind::User);
                }
                let view = self.user_view(*id);
                self.users.remove(id);
                self.log
                    .push((EntityKind::User, *id, ChangeOp::Delete, view.version));
                Outcome::User(view)
            }
            Action::DeleteRole(id, cascade) => self.delete_role(*id, *cascade),
        }
    }

    fn create_user(&mut self, u: &UserInput) -> Outcome {
        let mut fields = Vec::new();
        if !valid_username(&u.username) {
            fields.push("username".to_owned());
        }
        if !valid_email(&u.email) {
            fields.push("email".to_owned());
        }
        if u.tenant.as_deref().is_some_and(|t| !valid_tenant(t)) {
            fields.push("tenant".to_owned());
        }
        for (i, ext) in u.external_ids.iter().enumerate() {
            if u.external_ids[..i].iter().any(|e| same_external(e, ext)) {
                fields.push(format!("externalIds[{i}]"));
            }
        }
        if !fields.is_empty() {
            fields.sort();
            return Outcome::Validation(fields);
        }
        let tenant = u.tenant.as_deref();
        if self.by_username(&u.username, tenant).is_some() {
            return Outcome::Conflict(EntityKind::User, "username".into());
        }
        if self.by_email(&u.email, tenant).is_some() {
            return Outcome::Conflict(EntityKind::User, "email".into());
        }
        if u.external_ids
            .iter()
            .any(|e| self.by_external_id(e, tenant).is_some())
        {
            return Outcome::Conflict(EntityKind::User, "externalIds".into());
        }
        let roles_ok = u.roles.iter().all(|r| {
            self.roles
                .get(r)
                .is_some_and(|role| role.tenant.as_deref() == tenant)
        });
        if !roles_ok {
            return Outcome::Validation(vec!["roles".into()]);
        }
        self.last_user_id += 1;
        let id = self.last_user_id;
        let mut roles = u.roles.clone();
        roles.sort_unstable();
        roles.dedup();
        self.users.insert(
            id,
            ModelUser {
                username: u.username.clone(),
                email: u.email.clone(),
                tenant: u.tenant.clone(),
                roles,
                external_ids: u.external_ids.clone(),
                version: 1,
            },
        );
        self.log.push((EntityKind::User, id, ChangeOp::Create, 1));
        Outcome::User(self.user_view(id))
    }

    fn create_role(&mut self, r: &RoleSpec) -> Outcome {
        let mut fields = Vec::new();
        if !chars_in(&r.name, 1, 100) {
            fields.push("name".to_owned());
        }
        if r.tenant.as_deref().is_some_and(|t| !valid_tenant(t)) {
            fields.push("tenant".to_owned());
        }
        if !fields.is_empty() {
            fields.sort();
            return Outcome::Validation(fields);
        }
        let taken = self
            .roles
            .values()
            .any(|x| x.tenant == r.tenant && fold(&x.name) == fold(&r.name));
        if taken {
            return Outcome::Conflict(EntityKind::Role, "name".into());
        }
        self.last_role_id += 1;
        let id = self.last_role_id;
        self.roles.insert(
            id,
            ModelRole {
                name: r.name.clone(),
                tenant: r.tenant.clone(),
                version: 1,
            },
        );
        self.log.push((EntityKind::Role, id, ChangeOp::Create, 1));
        Outcome::Role(self.role_view(id))
    }

    fn delete_role(&mut self, id: u64, cascade: bool) -> Outcome {
        if !self.roles.contains_key(&id) {
            return Outcome::NotFound(EntityKind::Role);
        }
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
            self.log
                .push((EntityKind::User, uid, ChangeOp::Update, u.version));
        }
        let view = self.role_view(id);
        self.roles.remove(&id);
        self.log
            .push((EntityKind::Role, id, ChangeOp::Delete, view.version));
        Outcome::Role(view)
    }
}

// ---------------------------------------------------------------------------
// Running actions on the store, or on a transaction.

/// The collection handles of a [`Store`] or a [`WriteTx`] (inherent methods
/// of both), so one function can drive either.
trait Handles: WriteContext + Sized {
    fn users(&self) -> Collection<'_, Self, User>;
    fn roles(&self) -> Collection<'_, Self, Role>;
    fn changes(&self, after: u64, limit: usize) -> rosterdb::Result<Vec<Change>>;
}

impl Handles for Store {
    fn users(&self) -> Collection<'_, Self, User> {
        Store::users(self)
    }
    fn roles(&self) -> Collection<'_, Self, Role> {
        Store::roles(self)
    }
    fn changes(&self, after: u64, limit: usize) -> rosterdb::Result<Vec<Change>> {
        Store::changes(self, after, limit)
    }
}

impl Handles for WriteTx {
    fn users(&self) -> Collection<'_, Self, User> {
        WriteTx::users(self)
    }
    fn roles(&self) -> Collection<'_, Self, Role> {
        WriteTx::roles(self)
    }
    fn changes(&self, after: u64, limit: usize) -> rosterdb::Result<Vec<Change>> {
        WriteTx::changes(self, after, limit)
    }
}

/// Runs `action`; `Err` carries the store's error so a transaction can propagate it.
fn exec<C: Handles>(ctx: &C, action: &Action) -> Result<Outcome, Error> {
    match action {
        Action::CreateUser(u) => ctx
            .users()
            .create(NewUser {
                tenant: u.tenant.clone(),
                roles: u.roles.clone(),
                external_ids: u.external_ids.clone(),
                ..NewUser::new(u.username.clone(), u.email.clone(), "First", "Last")
            })
            .map(|u| Outcome::User(user_view(&u))),
        Action::CreateRole(r) => ctx
            .roles()
            .create(NewRole {
                tenant: r.tenant.clone(),
                ..NewRole::new(r.name.clone())
            })
            .map(|r| Outcome::Role(role_view(&r))),
        Action::DeleteUser(id) => ctx
            .users()
            .delete(*id)
            .map(|u| Outcome::User(user_view(&u))),
        Action::DeleteRole(id, cascade) => ctx
            .roles()
            .delete(*id, *cascade)
            .map(|r| Outcome::Role(role_view(&r))),
    }
}

fn same<T: PartialEq + std::fmt::Debug>(what: &str, actual: T, expected: T) -> Result<(), String> {
    if actual == expected {
        Ok(())
    } else {
        Err(format!(
            "{what}:\n  store: {actual:?}\n  model: {expected:?}"
        ))
    }
}

fn expect_user(
    what: &str,
    m: &Model,
    actual: rosterdb::Result<User>,
    expected: Option<u64>,
) -> Result<(), String> {
    let expected = match expected {
        Some(id) => Outcome::User(m.user_view(id)),
        None => Outcome::NotFound(EntityKind::User),
    };
    same(
        what,
        outcome(&actual, |u| Outcome::User(user_view(u))),
        expected,
    )
}

/// Reads the whole change log, `limit` entries per call.
fn read_log<C: Handles>(ctx: &C, limit: usize) -> Result<Vec<Change>, String> {
    let mut all: Vec<Change> = Vec::new();
    let mut after = 0;
    loop {
        let page = ctx
            .changes(after, limit)
            .map_err(|e| format!("changes({after}, {limit}): {e:?}"))?;
        if page.len() > limit {
            return Err(format!("changes({after}, {limit}) returned {}", page.len()));
        }
        let Some(last) = page.last() else { break };
        after = last.seq;
        let full = page.len() == limit;
        all.extend(page);
        if !full {
            break;
        }
    }
    Ok(all)
}

/// Checks everything readable through `ctx` against the model.
fn verify<C: Handles>(ctx: &C, m: &Model, seed: u64) -> Result<(), String> {
    // Every model user: by id, and by username/email/external id with the
    // stored spelling, upper case and a random re-casing.
    for (&id, u) in &m.users {
        let t = u.tenant.as_deref();
        expect_user(
            &format!("users.get({id})"),
            m,
            ctx.users().get(id),
            Some(id),
        )?;
        let keys = [
            u.username.clone(),
            u.username.to_uppercase(),
            recase(&u.username, seed ^ id),
        ];
        for key in keys {
            expect_user(
                &format!("get_by_username({key:?}, {t:?})"),
                m,
                ctx.users().get_by_username(&key, t),
                m.by_username(&key, t),
            )?;
        }
        let keys = [
            u.email.clone(),
            u.email.to_uppercase(),
            recase(&u.email, seed.rotate_left(17) ^ id),
        ];
        for key in keys {
            expect_user(
                &format!("get_by_email({key:?}, {t:?})"),
                m,
                ctx.users().get_by_email(&key, t),
                m.by_email(&key, t),
            )?;
        }
        for (k, ext) in u.external_ids.iter().enumerate() {
            let s = seed.rotate_left(29 + k as u32) ^ id;
            let key = ExternalId::new(recase(&ext.kind, s), recase(&ext.value, !s));
            for key in [ext.clone(), key] {
                expect_user(
                    &format!("get_by_external_id({key:?}, {t:?})"),
                    m,
                    ctx.users().get_by_external_id(&key.kind, &key.value, t),
                    Some(id),
                )?;
            }
        }
    }
    // Every pool key in every tenant: found exactly when the model has it.
    for (i, &t) in TENANTS.iter().enumerate() {
        let s = seed.rotate_left(7 * i as u32 + 1);
        for name in VALID_USERNAMES.iter().chain(INVALID_USERNAMES) {
            let key = recase(name, s);
            expect_user(
                &format!("get_by_username({key:?}, {t:?})"),
                m,
                ctx.users().get_by_username(&key, t),
                m.by_username(&key, t),
            )?;
        }
        for email in VALID_EMAILS.iter().chain(INVALID_EMAILS) {
            let key = recase(email, s);
            expect_user(
                &format!("get_by_email({key:?}, {t:?})"),
                m,
                ctx.users().get_by_email(&key, t),
                m.by_email(&key, t),
            )?;
        }
        for &(kind, value) in EXTERNAL_IDS {
            let ext = ExternalId::new(recase(kind, s), recase(value, !s));
            let (kind, value) = (ext.kind.as_str(), ext.value.as_str());
            expect_user(
                &format!("get_by_external_id({ext:?}, {t:?})"),
                m,
                ctx.users().get_by_external_id(kind, value, t),
                m.by_external_id(&ext, t),
            )?;
        }
    }
    // Ids never handed out or deleted are NotFound.
    for id in 0..=m.last_user_id + 1 {
        if !m.users.contains_key(&id) {
            expect_user(&format!("users.get({id})"), m, ctx.users().get(id), None)?;
        }
    }
    for id in 0..=m.last_role_id + 1 {
        let expected = if m.roles.contains_key(&id) {
            Outcome::Role(m.role_view(id))
        } else {
            Outcome::NotFound(EntityKind::Role)
        };
        same(
            &format!("roles.get({id})"),
            outcome(&ctx.roles().get(id), |r| Outcome::Role(role_view(r))),
            expected,
        )?;
    }
    // The change log, read in full, and again in small pages.
    let log = read_log(ctx, 1000)?;
    for (i, c) in log.iter().enumerate() {
        let ok = if i == 0 {
            c.seq == 1
        } else {
            c.seq > log[i - 1].seq
        };
        if !ok {
            return Err(format!(
                "change log seq not strictly increasing from 1: {:?}",
                log.iter().map(|c| c.seq).collect::<Vec<_>>()
            ));
        }
    }
    let entries: Vec<LogEntry> = log
        .iter()
        .map(|c| (c.entity, c.id, c.op, c.version))
        .collect();
    same("change log", &entries, &m.log)?;
    let small = 1 + (seed % 4) as usize;
    same(
        &format!("change log read {small} at a time"),
        read_log(ctx, small)?,
        log,
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------
// The property.

fn store() -> Store {
    Store::memory_with(Options::default().with_argon2(Argon2Params {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    }))
    .expect("in-memory store")
}

/// One transaction of the sequence: the model it is expected to leave
/// behind (`shadow`), and what happened so far.
struct TxRun {
    shadow: Model,
    /// Where we are, for messages.
    at: String,
    seed: u64,
    /// A disagreement with the model, which stops the run.
    mismatch: Option<String>,
    /// Whether some step failed (as the model predicted).
    failed: bool,
}

impl TxRun {
    /// Runs `steps` in `tx`, each checked against `shadow` (which follows
    /// them) and followed by a check of everything readable through `tx`.
    ///
    /// A failed step's error is swallowed, unless `stop_on_error`: then it is
    /// returned, to roll the transaction back.
    fn run_steps(
        &mut self,
        tx: &WriteTx,
        steps: &[Step],
        stop_on_error: bool,
    ) -> Result<(), Error> {
        let at = &self.at;
        for (j, step) in steps.iter().enumerate() {
            let action = self.shadow.resolve(step);
            let expected = self.shadow.apply(&action);
            let actual = exec(tx, &action);
            let got = match &actual {
                Ok(o) => o.clone(),
                Err(e) => error_outcome(e),
            };
            let checked =
                same(&format!("{at}, step {j}: {action:?}"), got, expected).and_then(|()| {
                    verify(tx, &self.shadow, self.seed ^ j as u64)
                        .map_err(|e| format!("{at}, read inside after step {j} ({action:?}): {e}"))
                });
            if let Err(msg) = checked {
                self.mismatch = Some(msg);
                return Err(Error::InvalidToken);
            }
            if let Err(e) = actual {
                self.failed = true;
                if stop_on_error {
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

/// Runs `cases` on a new store and a new model, checking after every step;
/// returns the final model.
fn run(cases: &[Case]) -> Result<Model, TestCaseError> {
    let store = store();
    let mut model = Model::default();
    for (i, case) in cases.iter().enumerate() {
        match &case.op {
            Op::Single(step) => {
                let action = model.resolve(step);
                let expected = model.apply(&action);
                let actual = match exec(&store, &action) {
                    Ok(o) => o,
                    Err(e) => error_outcome(&e),
                };
                same(&format!("step {i}: {action:?}"), actual, expected)
                    .map_err(TestCaseError::fail)?;
            }
            Op::Tx(steps, mode) => {
                let mode = *mode;
                let mut run = TxRun {
                    shadow: model.clone(),
                    at: format!("step {i}, {mode:?} transaction"),
                    seed: case.seed,
                    mismatch: None,
                    failed: false,
                };
                let should_commit = match mode {
                    TxMode::Atomic | TxMode::Swallow | TxMode::Abort => {
                        let result = store.write(|tx| {
                            run.run_steps(tx, steps, mode != TxMode::Swallow)?;
                            match mode {
                                TxMode::Abort => Err(Error::AuthenticationFailed),
                                _ => Ok(()),
                            }
                        });
                        let should_commit = match mode {
                            TxMode::Atomic => !run.failed,
                            TxMode::Swallow => true,
                            _ => false,
                        };
                        if run.mismatch.is_none() && result.is_ok() != should_commit {
                            run.mismatch = Some(format!("{} returned {result:?}", run.at));
                        }
                        should_commit
                    }
                    TxMode::BeginCommit | TxMode::BeginRollback | TxMode::BeginDrop => {
                        let tx = store.begin_write().map_err(|e| {
                            TestCaseError::fail(format!("{}: begin_write: {e:?}", run.at))
                        })?;
                        // Errors are swallowed; a stopped run set `mismatch`.
                        let _ = run.run_steps(&tx, steps, false);
                        let ended = match mode {
                            TxMode::BeginCommit => tx.commit(),
                            TxMode::BeginRollback => tx.rollback(),
                            _ => {
                                drop(tx);
                                Ok(())
                            }
                        };
                        if let Err(e) = ended {
                            let msg = format!("{}: ending it failed: {e:?}", run.at);
                            run.mismatch.get_or_insert(msg);
                        }
                        mode == TxMode::BeginCommit
                    }
                };
                if let Some(msg) = run.mismatch {
                    return Err(TestCaseError::fail(msg));
                }
                if should_commit {
                    model = run.shadow;
                }
            }
        }
        verify(&store, &model, case.seed)
            .map_err(|e| TestCaseError::fail(format!("after step {i} ({:?}): {e}", case.op)))?;
    }
    Ok(model)
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(64)
    })]

    #[test]
    fn store_agrees_with_model(cases in prop::collection::vec(case(), 1..=40)) {
        run(&cases)?;
    }
}

/// The pools' validity is what the model's rules say: guards the
/// `char::is_alphabetic` stand-in for `\p{L}` and the hand-written rules.
#[test]
fn pool_assumptions() {
    assert!(!'\u{308}'.is_alphabetic());
    for s in VALID_USERNAMES {
        assert!(
            valid_username(s) && valid_username(&s.to_uppercase()),
            "{s}"
        );
    }
    for s in INVALID_USERNAMES {
        assert!(
            !valid_username(s) && !valid_username(&s.to_uppercase()),
            "{s}"
        );
    }
    for s in VALID_EMAILS {
        assert!(valid_email(s) && valid_email(&s.to_uppercase()), "{s}");
    }
    for s in INVALID_EMAILS {
        assert!(!valid_email(s) && !valid_email(&s.to_uppercase()), "{s}");
    }
    assert!(!valid_tenant(INVALID_TENANT));
    let store = store();
    for s in VALID_USERNAMES {
        let email = format!("{}@pool.io", s.replace('.', ""));
        store
            .users()
            .create(NewUser::new(*s, email, "F", "L"))
            .unwrap_or_else(|e| panic!("{s}: {e}"));
    }
    for s in INVALID_USERNAMES {
        let err = store
            .users()
            .create(NewUser::new(*s, "x@pool.io", "F", "L"))
            .unwrap_err();
        assert_eq!(
            error_outcome(&err),
            Outcome::Validation(vec!["username".into()])
        );
    }
}

/// The changes limit is 1..=1000.
#[test]
fn changes_limit_bounds() {
    let store = store();
    for limit in [0, 1001] {
        assert!(matches!(
            store.changes(0, limit),
            Err(Error::InvalidQuery { .. })
        ));
    }
    assert_eq!(store.changes(0, 1000).unwrap(), Vec::new());
}

/// A hand-written sequence through the cases the generator reaches rarely,
/// with the model's end state pinned by hand (so model and store cannot agree
/// on something wrong here).
#[test]
fn fixed_sequence() {
    let role = |name: &str, tenant: Option<&str>| {
        Step::CreateRole(RoleSpec {
            name: name.into(),
            tenant: tenant.map(str::to_owned),
        })
    };
    let user_ext =
        |name: &str, email: &str, tenant: Option<&str>, roles: &[u64], ext: &[(&str, &str)]| {
            Step::CreateUser(UserSpec {
                username: name.into(),
                email: email.into(),
                tenant: tenant.map(str::to_owned),
                roles: roles.iter().map(|&r| IdRef::Raw(r)).collect(),
                external_ids: ext.iter().map(|&(k, v)| ExternalId::new(k, v)).collect(),
            })
        };
    let user = |name: &str, email: &str, tenant: Option<&str>, roles: &[u64]| {
        user_ext(name, email, tenant, roles, &[])
    };
    let single = |step: Step| Case {
        op: Op::Single(step),
        seed: 0x9e37_79b9_7f4a_7c15,
    };
    let tx = |steps: Vec<Step>, mode: TxMode| Case {
        op: Op::Tx(steps, mode),
        seed: 0x0123_4567_89ab_cdef,
    };
    let cases = vec![
        single(role("admin", None)),                       // role 1
        single(role("ADMIN", Some("t1"))),                 // role 2
        single(role("Admin", None)),                       // Conflict name
        single(user("ann", "ann@x.io", None, &[1, 1])),    // user 1, roles [1]
        single(user("ANN", "b@x.io", Some("t1"), &[2])),   // user 2
        single(user("bob", "ANN@X.IO", None, &[])),        // Conflict email
        single(user("bob", "bob@x.io", None, &[2])),       // Validation roles (other tenant)
        single(user("bob", "bob@x.io", Some("t1"), &[2])), // user 3
        single(Step::DeleteRole(IdRef::Raw(2), false)),    // InUse, count 2
        tx(
            vec![
                user("zoë", "z@x.io", None, &[]),
                user("ZOË", "y@x.io", None, &[]), // Conflict: all rolled back
            ],
            TxMode::Atomic,
        ),
        tx(
            vec![
                user("zoë", "z@x.io", None, &[]),     // user 4
                user("ZOË", "y@x.io", None, &[]),     // Conflict, swallowed
                user("straße", "s@x.io", None, &[1]), // user 5
            ],
            TxMode::Swallow,
        ),
        tx(vec![Step::DeleteRole(IdRef::Raw(2), true)], TxMode::Abort),
        single(Step::DeleteRole(IdRef::Raw(2), true)), // users 2 and 3 updated
        single(Step::DeleteUser(IdRef::Raw(1))),
        single(Step::DeleteUser(IdRef::Raw(1))), // NotFound
        single(user("ann", "ann@x.io", None, &[])), // user 6: the name is free again
        single(user_ext("carl", "c@x.io", None, &[], &[("github", "1")])), // user 7
        single(user_ext("dave", "d@x.io", None, &[], &[("GitHub", "1")])), // Conflict externalIds
        single(user_ext(
            "dave",
            "d@x.io",
            Some("t1"),
            &[],
            &[("GitHub", "1")],
        )), // user 8
        single(user_ext(
            "erin",
            "e@x.io",
            None,
            &[],
            &[("ldap", "A"), ("LDAP", "a")],
        )), // Validation externalIds[1]
        tx(vec![role("ops", None)], TxMode::BeginDrop),
        tx(
            vec![user("fred", "f@x.io", None, &[])],
            TxMode::BeginRollback,
        ),
        tx(
            vec![
                role("ops", None),                  // role 3
                user("fred", "f@x.io", None, &[3]), // user 9
                user("FRED", "g@x.io", None, &[]),  // Conflict, swallowed
                role("OPS", None),                  // Conflict, swallowed
            ],
            TxMode::BeginCommit,
        ),
    ];
    let model = run(&cases).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((model.last_user_id, model.last_role_id), (9, 3));
    assert_eq!(
        model.users.keys().copied().collect::<Vec<_>>(),
        [2, 3, 4, 5, 6, 7, 8, 9]
    );
    assert_eq!(model.roles.keys().copied().collect::<Vec<_>>(), [1, 3]);
    assert_eq!(
        (model.users[&2].version, model.users[&2].roles.len()),
        (2, 0)
    );
    use ChangeOp::{Create as C, Delete as D, Update as U};
    use EntityKind::{Role as R, User as Us};
    assert_eq!(
        model.log,
        [
            (R, 1, C, 1),
            (R, 2, C, 1),
            (Us, 1, C, 1),
            (Us, 2, C, 1),
            (Us, 3, C, 1),
            (Us, 4, C, 1),
            (Us, 5, C, 1),
            (Us, 2, U, 2),
            (Us, 3, U, 2),
            (R, 2, D, 1),
            (Us, 1, D, 1),
            (Us, 6, C, 1),
            (Us, 7, C, 1),
            (Us, 8, C, 1),
            (R, 3, C, 1),
            (Us, 9, C, 1),
        ]
    );
}
