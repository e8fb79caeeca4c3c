//! What the model test generates: small input pools (so that collisions
//! are frequent) and random operations on them, whose ids and values are
//! resolved against the model when a step runs (see `oracle.rs`).

use proptest::prelude::*;
use proptest::sample::Index;
use rosterdb::ExternalId;

// ---------------------------------------------------------------------------
// Input pools: small, so that collisions are frequent.

/// Some differ only by case folding or compatibility forms, not by `to_lowercase`.
pub const VALID_USERNAMES: &[&str] = &[
    "ann",
    "bob",
    "zoë",
    "straße",
    "ΟΔΟΣ",
    "ann.b",
    "STRASSE",
    "οδοσ",
    "ａｎｎ",
];
/// A space, and a combining diaeresis (not a letter).
pub const INVALID_USERNAMES: &[&str] = &["bad name", "zoe\u{308}"];
pub const VALID_EMAILS: &[&str] = &[
    "ann@x.io",
    "bob@x.io",
    "zoë@x.io",
    "straße@x.io",
    "ann@y.io",
    "Strasse@X.io",
    "ａｎｎ@x.io",
];
pub const INVALID_EMAILS: &[&str] = &["ann@x", "no pe@x.io"];
pub const VALID_ROLE_NAMES: &[&str] = &["admin", "ops", "straße", "ΟΔΟΣ", "ＡＤＭＩＮ", "οδος"];
pub const INVALID_ROLE_NAMES: &[&str] = &[""];
pub const EXTERNAL_IDS: &[(&str, &str)] = &[
    ("github", "1"),
    ("github", "2"),
    ("GitHub", "1"),
    ("ldap", "Ann"),
    ("ldap", "ann"),
    ("ldap", "bob"),
    ("sso", "Ann"),
    ("LDAP", "ａｎｎ"),
];
pub const TENANTS: &[Option<&str>] = &[None, Some("t1"), Some("t2")];
pub const INVALID_TENANT: &str = "bad tenant";
/// The tenants scoped views are opened on.
pub const VIEWS: &[&str] = &["t1", "t2"];
/// firstName / lastName values (1–50 characters); "First" and "Last" are
/// what creates use.
pub const VALID_NAMES: &[&str] = &["First", "Last", "Ann", "Ünal"];
pub const INVALID_NAMES: &[&str] = &[""];
/// Nicknames may be empty (0–50 characters).
pub const NICKNAMES: &[&str] = &["", "Nan", "Bo"];
/// Values of the one attribute updates set, `attributes.dept`.
pub const DEPTS: &[&str] = &["R&D", "Ops"];
pub const NAME_FIELDS: &[&str] = &["firstName", "lastName"];
/// Patch operations on read-only paths (present or absent ones): `(op, path)`.
pub const READ_ONLY_OPS: &[(&str, &str)] = &[
    ("replace", "/id"),
    ("replace", "/version"),
    ("remove", "/createdAt"),
    ("add", "/updatedAt"),
    ("add", "/lastLoginAt"),
    ("replace", "/hasPassword"),
    ("remove", "/lockedUntil"),
];
/// Read-only keys merge and replace are given, with the stored value or another.
pub const READ_ONLY_KEYS: &[&str] = &["id", "version", "hasPassword"];

/// Re-cases `s` character by character: two bits of `seed` per character pick
/// as-is, lower or upper case (`ß` upper-cases to `SS`, which folds like
/// `ß`; `ς` and `σ` upper-case alike). Seed 0 keeps `s`.
pub fn recase(s: &str, seed: u64) -> String {
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

// ---------------------------------------------------------------------------
// Generated operations.

/// An id, resolved against the model when the step runs.
#[derive(Clone, Debug)]
pub enum IdRef {
    /// A live record (for a user's roles: a live role of the user's tenant;
    /// for a role to delete: one that users hold; for a user to update or
    /// delete: one the operation's view sees). Falls back to `Live`.
    Held(Index),
    /// A live record (for a user's roles: of the user's tenant). A created
    /// user's role falls back to none, anything else to `Known`.
    Live(Index),
    /// An id the store has handed out, live or deleted.
    Known(Index),
    /// Any number.
    Raw(u64),
}

/// A username or email an update sets, resolved against the model.
#[derive(Clone, Debug)]
pub enum Src {
    /// A pool value (re-cased).
    Pool(String),
    /// The target's own value, re-cased by the seed (0: exactly as stored).
    Own(u64),
    /// Another user's value, re-cased by the seed: a user of the target's
    /// tenant when there is one, else any other user, else the target.
    Other(Index, u64),
}

/// The `expected_version` an update passes, resolved against the target.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    Any,
    Right,
    Above,
    Below,
}

#[derive(Clone, Debug)]
pub struct UserSpec {
    pub username: String,
    pub email: String,
    pub tenant: Option<String>,
    pub roles: Vec<IdRef>,
    pub external_ids: Vec<ExternalId>,
}

#[derive(Clone, Debug)]
pub struct RoleSpec {
    pub name: String,
    pub tenant: Option<String>,
}

/// One RFC 6902 operation of a generated patch.
#[derive(Clone, Debug)]
pub enum PatchSpec {
    /// `replace` of `/firstName` or `/lastName`.
    Name(&'static str, String),
    /// `replace /username`.
    Username(Src),
    /// `replace /email`.
    Email(Src),
    /// `add /nickname` (a value) or `remove /nickname` (none).
    Nickname(Option<String>),
    /// `replace /enabled`.
    Enabled(bool),
    /// `add /roles/-`.
    AddRole(IdRef),
    /// `remove /roles/<i>`.
    RemoveRole(usize),
    /// `add /externalIds/-`.
    AddExternal(ExternalId),
    /// `add /tenant` (a value) or `remove /tenant` (none).
    Tenant(Option<String>),
    /// An operation on a read-only path: `READ_ONLY_OPS[i]`.
    ReadOnly(usize),
    /// `test /version` with the stored version (true) or another.
    TestVersion(bool),
    /// `test /username` with the stored username re-cased by the seed.
    TestUsername(u64),
}

/// A generated RFC 7396 merge patch: each `Some` is a key of it.
#[derive(Clone, Debug)]
pub struct MergeSpec {
    pub username: Option<Src>,
    pub email: Option<Src>,
    /// `Some(None)`: `"nickname": null`.
    pub nickname: Option<Option<String>>,
    pub enabled: Option<bool>,
    /// `"attributes": {"dept": …}`; `Some(None)`: `{"dept": null}`.
    pub dept: Option<Option<String>>,
    /// `Some(None)`: `"tenant": null`.
    pub tenant: Option<Option<String>>,
    /// `READ_ONLY_KEYS[i]` with the stored value (true) or another.
    pub read_only: Option<(usize, bool)>,
}

/// What a replace document says about the tenant.
#[derive(Clone, Debug)]
pub enum TenantIn {
    /// No `tenant` key: the stored one is kept.
    Absent,
    /// The stored tenant (`null` when there is none).
    Current,
    /// This tenant (`None`: `null`).
    Given(Option<String>),
}

/// A generated replace document. Each `keep_*` either repeats the stored
/// value or leaves the key out (clearing it to its default).
#[derive(Clone, Debug)]
pub struct ReplaceSpec {
    pub username: Src,
    pub email: Src,
    /// firstName and lastName; `None`: the stored ones.
    pub names: Option<(String, String)>,
    pub keep_nickname: bool,
    pub keep_roles: bool,
    pub keep_external_ids: bool,
    pub keep_attributes: bool,
    /// `None`: no `enabled` key.
    pub enabled: Option<bool>,
    pub tenant: TenantIn,
    pub read_only: Option<(usize, bool)>,
}

#[derive(Clone, Debug)]
pub enum Step {
    CreateUser(UserSpec),
    CreateRole(RoleSpec),
    DeleteUser(IdRef),
    DeleteRole(IdRef, bool),
    Patch(IdRef, Vec<PatchSpec>, Expect),
    Merge(IdRef, Box<MergeSpec>, Expect),
    Replace(IdRef, Box<ReplaceSpec>, Expect),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxMode {
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

/// The tenant of the scoped view an operation runs through; `None`: the
/// store itself.
pub type View = Option<&'static str>;

#[derive(Clone, Debug)]
pub enum Op {
    Single(Step, View),
    Tx(Vec<Step>, TxMode, View),
}

/// One operation and the seed that re-cases the lookup keys checked after it.
#[derive(Clone, Debug)]
pub struct Case {
    pub op: Op,
    pub seed: u64,
}

pub fn pick(
    valid: &'static [&'static str],
    invalid: &'static [&'static str],
) -> BoxedStrategy<String> {
    let valid = prop::sample::select(valid);
    let invalid = prop::sample::select(invalid);
    (prop_oneof![24 => valid, 1 => invalid], any::<u64>())
        .prop_map(|(s, seed)| recase(s, seed))
        .boxed()
}

pub fn tenant() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        40 => prop::sample::select(TENANTS).prop_map(|t| t.map(str::to_owned)),
        1 => Just(Some(INVALID_TENANT.to_owned())),
    ]
}

pub fn id_ref() -> impl Strategy<Value = IdRef> {
    prop_oneof![
        3 => any::<Index>().prop_map(IdRef::Held),
        3 => any::<Index>().prop_map(IdRef::Live),
        2 => any::<Index>().prop_map(IdRef::Known),
        1 => prop_oneof![0..12u64, Just(u64::MAX)].prop_map(IdRef::Raw),
    ]
}

/// The user an update targets: mostly a live one (`Held`: one the view
/// sees).
pub fn target() -> impl Strategy<Value = IdRef> {
    prop_oneof![
        4 => any::<Index>().prop_map(IdRef::Held),
        4 => any::<Index>().prop_map(IdRef::Live),
        1 => any::<Index>().prop_map(IdRef::Known),
        1 => prop_oneof![0..12u64, Just(u64::MAX)].prop_map(IdRef::Raw),
    ]
}

pub fn src(valid: &'static [&'static str], invalid: &'static [&'static str]) -> BoxedStrategy<Src> {
    prop_oneof![
        3 => pick(valid, invalid).prop_map(Src::Pool),
        2 => prop_oneof![Just(0), any::<u64>()].prop_map(Src::Own),
        2 => (any::<Index>(), any::<u64>()).prop_map(|(i, seed)| Src::Other(i, seed)),
    ]
    .boxed()
}

pub fn expect() -> impl Strategy<Value = Expect> {
    prop_oneof![
        4 => Just(Expect::Any),
        3 => Just(Expect::Right),
        1 => Just(Expect::Above),
        1 => Just(Expect::Below),
    ]
}

pub fn owned(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(pool).prop_map(str::to_owned)
}

pub fn user_spec() -> BoxedStrategy<UserSpec> {
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
        .boxed()
}

pub fn role_spec() -> impl Strategy<Value = RoleSpec> {
    (pick(VALID_ROLE_NAMES, INVALID_ROLE_NAMES), tenant())
        .prop_map(|(name, tenant)| RoleSpec { name, tenant })
}

pub fn patch_spec() -> BoxedStrategy<PatchSpec> {
    prop_oneof![
        2 => (prop::sample::select(NAME_FIELDS), pick(VALID_NAMES, INVALID_NAMES))
            .prop_map(|(field, v)| PatchSpec::Name(field, v)),
        3 => src(VALID_USERNAMES, INVALID_USERNAMES).prop_map(PatchSpec::Username),
        2 => src(VALID_EMAILS, INVALID_EMAILS).prop_map(PatchSpec::Email),
        1 => prop::option::of(owned(NICKNAMES)).prop_map(PatchSpec::Nickname),
        1 => any::<bool>().prop_map(PatchSpec::Enabled),
        2 => id_ref().prop_map(PatchSpec::AddRole),
        1 => (0..3usize).prop_map(PatchSpec::RemoveRole),
        2 => prop::sample::select(EXTERNAL_IDS)
            .prop_map(|(k, v)| PatchSpec::AddExternal(ExternalId::new(k, v))),
        1 => tenant().prop_map(PatchSpec::Tenant),
        1 => (0..READ_ONLY_OPS.len()).prop_map(PatchSpec::ReadOnly),
        1 => any::<bool>().prop_map(PatchSpec::TestVersion),
        1 => prop_oneof![Just(0), any::<u64>()].prop_map(PatchSpec::TestUsername),
    ]
    .boxed()
}

pub fn merge_spec() -> BoxedStrategy<MergeSpec> {
    use prop::option::weighted;
    (
        weighted(0.4, src(VALID_USERNAMES, INVALID_USERNAMES)),
        weighted(0.15, src(VALID_EMAILS, INVALID_EMAILS)),
        weighted(0.4, prop::option::of(owned(NICKNAMES))),
        weighted(0.4, any::<bool>()),
        weighted(0.3, prop::option::of(owned(DEPTS))),
        weighted(0.1, tenant()),
        weighted(0.15, (0..READ_ONLY_KEYS.len(), any::<bool>())),
    )
        .prop_map(
            |(username, email, nickname, enabled, dept, tenant, read_only)| MergeSpec {
                username,
                email,
                nickname,
                enabled,
                dept,
                tenant,
                read_only,
            },
        )
        .boxed()
}

pub fn replace_spec() -> BoxedStrategy<ReplaceSpec> {
    let minimal = (
        src(VALID_USERNAMES, INVALID_USERNAMES),
        src(VALID_EMAILS, INVALID_EMAILS),
    )
        .prop_map(|(username, email)| ReplaceSpec {
            username,
            email,
            names: None,
            keep_nickname: false,
            keep_roles: false,
            keep_external_ids: false,
            keep_attributes: false,
            enabled: None,
            tenant: TenantIn::Absent,
            read_only: None,
        });
    let tenant_in = prop_oneof![
        3 => Just(TenantIn::Absent),
        2 => Just(TenantIn::Current),
        1 => tenant().prop_map(TenantIn::Given),
    ];
    let full = (
        src(VALID_USERNAMES, INVALID_USERNAMES),
        src(VALID_EMAILS, INVALID_EMAILS),
        prop::option::weighted(
            0.4,
            (
                pick(VALID_NAMES, INVALID_NAMES),
                pick(VALID_NAMES, INVALID_NAMES),
            ),
        ),
        any::<[bool; 4]>(),
        prop::option::weighted(0.5, any::<bool>()),
        tenant_in,
        prop::option::weighted(0.15, (0..READ_ONLY_KEYS.len(), any::<bool>())),
    )
        .prop_map(
            |(username, email, names, keep, enabled, tenant, read_only)| ReplaceSpec {
                username,
                email,
                names,
                keep_nickname: keep[0],
                keep_roles: keep[1],
                keep_external_ids: keep[2],
                keep_attributes: keep[3],
                enabled,
                tenant,
                read_only,
            },
        );
    prop_oneof![1 => minimal, 3 => full].boxed()
}

pub fn step() -> BoxedStrategy<Step> {
    prop_oneof![
        7 => user_spec().prop_map(Step::CreateUser),
        3 => role_spec().prop_map(Step::CreateRole),
        1 => id_ref().prop_map(Step::DeleteUser),
        2 => (id_ref(), any::<bool>()).prop_map(|(id, cascade)| Step::DeleteRole(id, cascade)),
        4 => (target(), prop::collection::vec(patch_spec(), 1..=3), expect())
            .prop_map(|(id, ops, e)| Step::Patch(id, ops, e)),
        3 => (target(), merge_spec(), expect())
            .prop_map(|(id, m, e)| Step::Merge(id, Box::new(m), e)),
        2 => (target(), replace_spec(), expect())
            .prop_map(|(id, r, e)| Step::Replace(id, Box::new(r), e)),
    ]
    .boxed()
}

pub fn tx_mode() -> impl Strategy<Value = TxMode> {
    prop_oneof![
        3 => Just(TxMode::Atomic),
        2 => Just(TxMode::Swallow),
        1 => Just(TxMode::Abort),
        1 => Just(TxMode::BeginCommit),
        1 => Just(TxMode::BeginRollback),
        1 => Just(TxMode::BeginDrop),
    ]
}

pub fn view() -> impl Strategy<Value = View> {
    prop_oneof![
        3 => Just(None),
        1 => prop::sample::select(VIEWS).prop_map(Some),
    ]
}

pub fn op() -> BoxedStrategy<Op> {
    // A transaction whose second step re-creates the first user with other
    // casing: a conflict midway (unless the first step already failed).
    let duplicate = (user_spec(), any::<u64>(), any::<u64>(), tx_mode(), view()).prop_map(
        |(user, s1, s2, mode, view)| {
            let again = UserSpec {
                username: recase(&user.username, s1),
                email: recase(&user.email, s2),
                ..user.clone()
            };
            Op::Tx(
                vec![Step::CreateUser(user), Step::CreateUser(again)],
                mode,
                view,
            )
        },
    );
    prop_oneof![
        10 => (step(), view()).prop_map(|(step, view)| Op::Single(step, view)),
        3 => (prop::collection::vec(step(), 1..=4), tx_mode(), view())
            .prop_map(|(steps, mode, view)| Op::Tx(steps, mode, view)),
        1 => duplicate,
    ]
    .boxed()
}

pub fn case() -> BoxedStrategy<Case> {
    (op(), any::<u64>())
        .prop_map(|(op, seed)| Case { op, seed })
        .boxed()
}
