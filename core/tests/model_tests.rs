//! Model-based property test: random sequences of operations run against the
//! real store and against a small in-memory model (BTreeMaps), which must
//! agree after every step (SPEC §2, §4, §5, §7, §8, §13).
//!
//! The model follows the documented semantics:
//! - ids per kind start at 1, grow by one per successful create, are never
//!   reused; a failed create consumes no id;
//! - username and email are unique per tenant under `rosterdb::fold`
//!   (NFKC_Casefold, SPEC §2.5; tested on its own in `caseless.rs`)
//!   (username checked first), and so are role names; external ids (tenant,
//!   type, value) are likewise case-folded (docs/design.md: SPEC §2's general
//!   rule), for uniqueness, lookups and duplicates within one user;
//! - a user's roles must exist in the user's tenant (`Validation` on `roles`),
//!   and are stored sorted and deduplicated;
//! - deleting a held role is `InUse` (with the holder count) unless cascading,
//!   which removes it from each holder as an update (version + 1, an `update`
//!   change each);
//! - patch (RFC 6902), merge (RFC 7396) and replace re-validate the whole
//!   resulting document like a create: every failing field of the document
//!   is listed (SPEC §9), a changed `tenant` and a read-only key given with
//!   another value than the stored one among them; then uniqueness
//!   (`Conflict`), then role integrity (`Validation` on `roles`), as for a
//!   create. Before any of that: another tenant's record or a missing one is
//!   `NotFound`, then a wrong `expected_version` is `VersionConflict`; a
//!   patch operation on a read-only path (other than `test`) is
//!   `InvalidPatch` naming it, checked for every operation before any is
//!   applied; operations then apply in order, the first that fails (a
//!   failed `test`, a missing path) is `InvalidPatch` naming it. An update
//!   that changes nothing keeps the version and logs nothing; any other
//!   bumps the version and logs one `update`;
//! - a scoped view (SPEC §7) sees one tenant: its creates take the view's
//!   tenant (another one is `Validation` on `tenant`), every other tenant's
//!   record is `NotFound`, lookups use the view's tenant whatever tenant is
//!   named, lists and counts hold only its records, and its change log only
//!   the entries of its records;
//! - every successful write appends its change-log entries, failures none;
//! - `store.write` commits all or nothing, its reads see its own writes, and an
//!   operation that failed inside it (and whose error the caller swallowed)
//!   leaves no trace; a `begin_write` transaction dropped uncommitted leaves
//!   no trace at all;
//! - `store.check()` finds nothing wrong after any operation.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use rosterdb::{
    Argon2Params, Change, ChangeOp, Collection, EntityKind, Error, ExternalId, NewRole, NewUser,
    Options, Query, Role, Scope, Store, User, WriteContext, WriteTx,
};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------
// Input pools: small, so that collisions are frequent.

/// Some differ only by case folding or compatibility forms, not by `to_lowercase`.
const VALID_USERNAMES: &[&str] = &[
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
const INVALID_USERNAMES: &[&str] = &["bad name", "zoe\u{308}"];
const VALID_EMAILS: &[&str] = &[
    "ann@x.io",
    "bob@x.io",
    "zoë@x.io",
    "straße@x.io",
    "ann@y.io",
    "Strasse@X.io",
    "ａｎｎ@x.io",
];
const INVALID_EMAILS: &[&str] = &["ann@x", "no pe@x.io"];
const VALID_ROLE_NAMES: &[&str] = &["admin", "ops", "straße", "ΟΔΟΣ", "ＡＤＭＩＮ", "οδος"];
const INVALID_ROLE_NAMES: &[&str] = &[""];
const EXTERNAL_IDS: &[(&str, &str)] = &[
    ("github", "1"),
    ("github", "2"),
    ("GitHub", "1"),
    ("ldap", "Ann"),
    ("ldap", "ann"),
    ("ldap", "bob"),
    ("sso", "Ann"),
    ("LDAP", "ａｎｎ"),
];
const TENANTS: &[Option<&str>] = &[None, Some("t1"), Some("t2")];
const INVALID_TENANT: &str = "bad tenant";
/// The tenants scoped views are opened on.
const VIEWS: &[&str] = &["t1", "t2"];
/// firstName / lastName values (1–50 characters); "First" and "Last" are
/// what creates use.
const VALID_NAMES: &[&str] = &["First", "Last", "Ann", "Ünal"];
const INVALID_NAMES: &[&str] = &[""];
/// Nicknames may be empty (0–50 characters).
const NICKNAMES: &[&str] = &["", "Nan", "Bo"];
/// Values of the one attribute updates set, `attributes.dept`.
const DEPTS: &[&str] = &["R&D", "Ops"];
const NAME_FIELDS: &[&str] = &["firstName", "lastName"];
/// Patch operations on read-only paths (present or absent ones): `(op, path)`.
const READ_ONLY_OPS: &[(&str, &str)] = &[
    ("replace", "/id"),
    ("replace", "/version"),
    ("remove", "/createdAt"),
    ("add", "/updatedAt"),
    ("add", "/lastLoginAt"),
    ("replace", "/hasPassword"),
    ("remove", "/lockedUntil"),
];
/// Read-only keys merge and replace are given, with the stored value or another.
const READ_ONLY_KEYS: &[&str] = &["id", "version", "hasPassword"];

/// Re-cases `s` character by character: two bits of `seed` per character pick
/// as-is, lower or upper case (`ß` upper-cases to `SS`, which folds like
/// `ß`; `ς` and `σ` upper-case alike). Seed 0 keeps `s`.
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
    rosterdb::fold(s)
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
enum Src {
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
enum Expect {
    Any,
    Right,
    Above,
    Below,
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

/// One RFC 6902 operation of a generated patch.
#[derive(Clone, Debug)]
enum PatchSpec {
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
struct MergeSpec {
    username: Option<Src>,
    email: Option<Src>,
    /// `Some(None)`: `"nickname": null`.
    nickname: Option<Option<String>>,
    enabled: Option<bool>,
    /// `"attributes": {"dept": …}`; `Some(None)`: `{"dept": null}`.
    dept: Option<Option<String>>,
    /// `Some(None)`: `"tenant": null`.
    tenant: Option<Option<String>>,
    /// `READ_ONLY_KEYS[i]` with the stored value (true) or another.
    read_only: Option<(usize, bool)>,
}

/// What a replace document says about the tenant.
#[derive(Clone, Debug)]
enum TenantIn {
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
struct ReplaceSpec {
    username: Src,
    email: Src,
    /// firstName and lastName; `None`: the stored ones.
    names: Option<(String, String)>,
    keep_nickname: bool,
    keep_roles: bool,
    keep_external_ids: bool,
    keep_attributes: bool,
    /// `None`: no `enabled` key.
    enabled: Option<bool>,
    tenant: TenantIn,
    read_only: Option<(usize, bool)>,
}

#[derive(Clone, Debug)]
enum Step {
    CreateUser(UserSpec),
    CreateRole(RoleSpec),
    DeleteUser(IdRef),
    DeleteRole(IdRef, bool),
    Patch(IdRef, Vec<PatchSpec>, Expect),
    Merge(IdRef, Box<MergeSpec>, Expect),
    Replace(IdRef, Box<ReplaceSpec>, Expect),
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

/// The tenant of the scoped view an operation runs through; `None`: the
/// store itself.
type View = Option<&'static str>;

#[derive(Clone, Debug)]
enum Op {
    Single(Step, View),
    Tx(Vec<Step>, TxMode, View),
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

/// The user an update targets: mostly a live one (`Held`: one the view
/// sees).
fn target() -> impl Strategy<Value = IdRef> {
    prop_oneof![
        4 => any::<Index>().prop_map(IdRef::Held),
        4 => any::<Index>().prop_map(IdRef::Live),
        1 => any::<Index>().prop_map(IdRef::Known),
        1 => prop_oneof![0..12u64, Just(u64::MAX)].prop_map(IdRef::Raw),
    ]
}

fn src(valid: &'static [&'static str], invalid: &'static [&'static str]) -> BoxedStrategy<Src> {
    prop_oneof![
        3 => pick(valid, invalid).prop_map(Src::Pool),
        2 => prop_oneof![Just(0), any::<u64>()].prop_map(Src::Own),
        2 => (any::<Index>(), any::<u64>()).prop_map(|(i, seed)| Src::Other(i, seed)),
    ]
    .boxed()
}

fn expect() -> impl Strategy<Value = Expect> {
    prop_oneof![
        4 => Just(Expect::Any),
        3 => Just(Expect::Right),
        1 => Just(Expect::Above),
        1 => Just(Expect::Below),
    ]
}

fn owned(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(pool).prop_map(str::to_owned)
}

fn user_spec() -> BoxedStrategy<UserSpec> {
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

fn role_spec() -> impl Strategy<Value = RoleSpec> {
    (pick(VALID_ROLE_NAMES, INVALID_ROLE_NAMES), tenant())
        .prop_map(|(name, tenant)| RoleSpec { name, tenant })
}

fn patch_spec() -> BoxedStrategy<PatchSpec> {
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

fn merge_spec() -> BoxedStrategy<MergeSpec> {
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

fn replace_spec() -> BoxedStrategy<ReplaceSpec> {
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

fn step() -> BoxedStrategy<Step> {
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

fn view() -> impl Strategy<Value = View> {
    prop_oneof![
        3 => Just(None),
        1 => prop::sample::select(VIEWS).prop_map(Some),
    ]
}

fn op() -> BoxedStrategy<Op> {
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

fn case() -> BoxedStrategy<Case> {
    (op(), any::<u64>())
        .prop_map(|(op, seed)| Case { op, seed })
        .boxed()
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

/// One resolved RFC 6902 operation.
#[derive(Clone, Debug, PartialEq)]
enum PatchOp {
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
    fn to_json(&self) -> Value {
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
struct MergeDoc {
    username: Option<String>,
    email: Option<String>,
    nickname: Option<Option<String>>,
    enabled: Option<bool>,
    dept: Option<Option<String>>,
    tenant: Option<Option<String>>,
    read_only: Option<(&'static str, Value)>,
}

impl MergeDoc {
    fn to_json(&self) -> Value {
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
struct ReplaceDoc {
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    nickname: Option<String>,
    enabled: Option<bool>,
    roles: Option<Vec<u64>>,
    external_ids: Option<Vec<ExternalId>>,
    /// `Some(None)`: `"attributes": {}`.
    dept: Option<Option<String>>,
    /// `Some(None)`: `"tenant": null`.
    tenant: Option<Option<String>>,
    read_only: Option<(&'static str, Value)>,
}

impl ReplaceDoc {
    fn to_json(&self) -> Value {
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
fn attributes(dept: Option<&str>) -> Value {
    match dept {
        Some(d) => json!({ "dept": d }),
        None => json!({}),
    }
}

#[derive(Clone, Debug)]
enum Action {
    CreateUser(UserInput),
    CreateRole(RoleSpec),
    DeleteUser(u64),
    DeleteRole(u64, bool),
    Patch(u64, Vec<PatchOp>, Option<u64>),
    Merge(u64, MergeDoc, Option<u64>),
    Replace(u64, Box<ReplaceDoc>, Option<u64>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct UserView {
    id: u64,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    nickname: Option<String>,
    tenant: Option<String>,
    enabled: bool,
    roles: Vec<u64>,
    external_ids: Vec<ExternalId>,
    attributes: Value,
    has_password: bool,
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

fn user_view(u: &User) -> Box<UserView> {
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
        attributes: Value::Object(u.attributes.clone()),
        has_password: u.has_password,
        version: u.version,
    })
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
        Error::VersionConflict { expected, actual } => Outcome::VersionConflict {
            expected: *expected,
            actual: *actual,
        },
        Error::InvalidPatch { op_index, .. } => Outcome::InvalidPatch(*op_index),
        other => Outcome::Other(format!("{other:?}")),
    }
}

fn outcome<T>(r: &Result<T, Error>, view: impl Fn(&T) -> Outcome) -> Outcome {
    match r {
        Ok(v) => view(v),
        Err(e) => error_outcome(e),
    }
}

/// A short form of an outcome, for the hand-written sequences.
fn brief(o: &Outcome) -> String {
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

// ---------------------------------------------------------------------------
// The model.

/// A user's writable state as the model keeps it (its id is the map key).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ModelUser {
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    nickname: Option<String>,
    tenant: Option<String>,
    enabled: bool,
    roles: Vec<u64>,
    external_ids: Vec<ExternalId>,
    /// `attributes` is `{"dept": …}` or `{}`.
    dept: Option<String>,
    version: u64,
}

impl ModelUser {
    /// The fields that break SPEC §2.1's rules (store lookups aside).
    fn problems(&self) -> Vec<String> {
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
        // SPEC §2.6: ids are at most 2^53 - 1.
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
    /// The tenant of the record of each entry of `log`.
    log_tenants: Vec<Option<String>>,
}

/// Whether a record of `tenant` is seen through a view of `scope`.
fn visible(tenant: Option<&str>, scope: View) -> bool {
    scope.is_none() || tenant == scope
}

/// The tenant a lookup naming `tenant` searches through a view of `scope`.
fn effective(tenant: Option<&str>, scope: View) -> Option<&str> {
    scope.or(tenant)
}

/// Sorted, deduplicated field names, or `None` when there are none.
fn failing(mut fields: Vec<String>) -> Option<Outcome> {
    fields.sort();
    fields.dedup();
    (!fields.is_empty()).then_some(Outcome::Validation(fields))
}

/// The field a read-only key given to merge or replace fails on, if its
/// value is not the stored one.
fn read_only_mismatch(
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

    fn roles_of(&self, tenant: Option<&str>) -> Vec<u64> {
        self.roles
            .iter()
            .filter(|(_, r)| r.tenant.as_deref() == tenant)
            .map(|(&id, _)| id)
            .collect()
    }

    /// A user id; `Held` picks one the view sees.
    fn resolve_user(&self, id: &IdRef, view: View) -> u64 {
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
    fn resolve_role(&self, r: &IdRef, tenant: Option<&str>) -> u64 {
        let same = self.roles_of(tenant);
        match r {
            IdRef::Held(ix) | IdRef::Live(ix) if same.is_empty() => {
                Model::resolve_id(&IdRef::Known(*ix), &[], &[], self.last_role_id)
            }
            r => Model::resolve_id(r, &same, &same, self.last_role_id),
        }
    }

    fn value_of(
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

    fn read_only_value(
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

    fn resolve(&self, step: &Step, view: View) -> Action {
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

    fn user_view(&self, id: u64) -> Box<UserView> {
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

    /// The unique field of `u` another user of its tenant (other than
    /// `except`) already has, in the order the store checks them.
    fn taken(&self, u: &ModelUser, except: Option<u64>) -> Option<&'static str> {
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
    fn roles_ok(&self, roles: &[u64], tenant: Option<&str>) -> bool {
        roles.iter().all(|r| {
            self.roles
                .get(r)
                .is_some_and(|role| role.tenant.as_deref() == tenant)
        })
    }

    fn push_log(&mut self, entry: LogEntry, tenant: Option<String>) {
        self.log.push(entry);
        self.log_tenants.push(tenant);
    }

    /// Applies `action`, run through a view of `scope` (or the store itself),
    /// if it succeeds (a failure changes nothing) and returns the outcome the
    /// store must report.
    fn apply(&mut self, action: &Action, scope: View) -> Outcome {
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
    fn patched(old: &ModelUser, ops: &[PatchOp]) -> Result<ModelUser, usize> {
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
    fn merged(id: u64, old: &ModelUser, doc: &MergeDoc) -> (ModelUser, Vec<String>) {
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
    fn replaced(id: u64, old: &ModelUser, doc: &ReplaceDoc) -> (ModelUser, Vec<String>) {
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
    fn update_user(
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

    fn create_user(&mut self, u: &UserInput, scope: View) -> Outcome {
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

    fn create_role(&mut self, r: &RoleSpec, scope: View) -> Outcome {
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

    fn delete_role(&mut self, id: u64, cascade: bool, scope: View) -> Outcome {
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

// ---------------------------------------------------------------------------
// Running actions on the store, a transaction, or a scoped view of either.

/// The collection handles of a [`Store`], a [`WriteTx`] or a scoped view of
/// either (inherent methods of each), so one function can drive them all.
trait Handles: WriteContext + Sized {
    fn users(&self) -> Collection<'_, Self, User>;
    fn roles(&self) -> Collection<'_, Self, Role>;
    fn changes(&self, after: u64, limit: usize) -> rosterdb::Result<Vec<Change>>;
}

macro_rules! handles {
    ($($t:ty),*) => {$(
        impl Handles for $t {
            fn users(&self) -> Collection<'_, Self, User> {
                <$t>::users(self)
            }
            fn roles(&self) -> Collection<'_, Self, Role> {
                <$t>::roles(self)
            }
            fn changes(&self, after: u64, limit: usize) -> rosterdb::Result<Vec<Change>> {
                <$t>::changes(self, after, limit)
            }
        }
    )*};
}

handles!(Store, WriteTx, Scope<'_, Store>, Scope<'_, WriteTx>);

/// Runs `action`; `Err` carries the store's error so a transaction can propagate it.
fn exec<C: Handles>(ctx: &C, action: &Action) -> Result<Outcome, Error> {
    let user = |u: User| Outcome::User(user_view(&u));
    match action {
        Action::CreateUser(u) => ctx
            .users()
            .create(NewUser {
                tenant: u.tenant.clone(),
                roles: u.roles.clone(),
                external_ids: u.external_ids.clone(),
                ..NewUser::new(u.username.clone(), u.email.clone(), "First", "Last")
            })
            .map(user),
        Action::CreateRole(r) => ctx
            .roles()
            .create(NewRole {
                tenant: r.tenant.clone(),
                ..NewRole::new(r.name.clone())
            })
            .map(|r| Outcome::Role(role_view(&r))),
        Action::DeleteUser(id) => ctx.users().delete(*id).map(user),
        Action::DeleteRole(id, cascade) => ctx
            .roles()
            .delete(*id, *cascade)
            .map(|r| Outcome::Role(role_view(&r))),
        Action::Patch(id, ops, expected) => {
            let ops = Value::Array(ops.iter().map(PatchOp::to_json).collect());
            ctx.users().patch(*id, &ops, *expected).map(user)
        }
        Action::Merge(id, doc, expected) => {
            ctx.users().merge(*id, &doc.to_json(), *expected).map(user)
        }
        Action::Replace(id, doc, expected) => ctx
            .users()
            .replace(*id, &doc.to_json(), *expected)
            .map(user),
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

/// Checks everything readable through `ctx`, a view of `scope` (`None`: all
/// tenants), against the model.
fn verify<C: Handles>(ctx: &C, m: &Model, seed: u64, scope: View) -> Result<(), String> {
    let seen = |t: Option<&str>| visible(t, scope);
    // Every id handed out (and the next): the record when the model has it
    // and the view sees it, else NotFound.
    for id in 0..=m.last_user_id + 1 {
        let expected = m
            .users
            .get(&id)
            .filter(|u| seen(u.tenant.as_deref()))
            .map(|_| id);
        expect_user(
            &format!("users.get({id})"),
            m,
            ctx.users().get(id),
            expected,
        )?;
    }
    for id in 0..=m.last_role_id + 1 {
        let expected = match m.roles.get(&id) {
            Some(r) if seen(r.tenant.as_deref()) => Outcome::Role(m.role_view(id)),
            _ => Outcome::NotFound(EntityKind::Role),
        };
        same(
            &format!("roles.get({id})"),
            outcome(&ctx.roles().get(id), |r| Outcome::Role(role_view(r))),
            expected,
        )?;
    }
    // Lists and counts: exactly the records the view sees, in id order.
    let users: Vec<Box<UserView>> = m
        .users
        .iter()
        .filter(|(_, u)| seen(u.tenant.as_deref()))
        .map(|(&id, _)| m.user_view(id))
        .collect();
    let all = Query::all().page(1, 1000);
    let page = ctx
        .users()
        .list(&all)
        .map_err(|e| format!("users.list: {e:?}"))?;
    same(
        "users.list",
        page.items.iter().map(user_view).collect(),
        users.clone(),
    )?;
    same(
        "users.count",
        ctx.users()
            .count(&Query::all())
            .map_err(|e| format!("{e:?}")),
        Ok(users.len() as u64),
    )?;
    let roles: Vec<RoleView> = m
        .roles
        .iter()
        .filter(|(_, r)| seen(r.tenant.as_deref()))
        .map(|(&id, _)| m.role_view(id))
        .collect();
    let page = ctx
        .roles()
        .list(&all)
        .map_err(|e| format!("roles.list: {e:?}"))?;
    same(
        "roles.list",
        page.items.iter().map(role_view).collect(),
        roles.clone(),
    )?;
    same(
        "roles.count",
        ctx.roles()
            .count(&Query::all())
            .map_err(|e| format!("{e:?}")),
        Ok(roles.len() as u64),
    )?;
    // Every model user's keys: the stored spelling, upper case and a random
    // re-casing, named with the user's tenant (which a view overrides).
    for (&id, u) in &m.users {
        let t = u.tenant.as_deref();
        let at = effective(t, scope);
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
                m.by_username(&key, at),
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
                m.by_email(&key, at),
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
                    m.by_external_id(&key, at),
                )?;
            }
        }
    }
    // Every pool key in every tenant: found exactly when the model has it.
    // (Through a view every tenant named means the view's: one will do.)
    let named: &[Option<&str>] = match scope {
        None => TENANTS,
        Some(_) => &TENANTS[(seed % 3) as usize..][..1],
    };
    for (i, &t) in named.iter().enumerate() {
        let s = seed.rotate_left(7 * i as u32 + 1);
        let at = effective(t, scope);
        for name in VALID_USERNAMES.iter().chain(INVALID_USERNAMES) {
            let key = recase(name, s);
            expect_user(
                &format!("get_by_username({key:?}, {t:?})"),
                m,
                ctx.users().get_by_username(&key, t),
                m.by_username(&key, at),
            )?;
        }
        for email in VALID_EMAILS.iter().chain(INVALID_EMAILS) {
            let key = recase(email, s);
            expect_user(
                &format!("get_by_email({key:?}, {t:?})"),
                m,
                ctx.users().get_by_email(&key, t),
                m.by_email(&key, at),
            )?;
        }
        for &(kind, value) in EXTERNAL_IDS {
            let ext = ExternalId::new(recase(kind, s), recase(value, !s));
            let (kind, value) = (ext.kind.as_str(), ext.value.as_str());
            expect_user(
                &format!("get_by_external_id({ext:?}, {t:?})"),
                m,
                ctx.users().get_by_external_id(kind, value, t),
                m.by_external_id(&ext, at),
            )?;
        }
    }
    // The change log (a view's: the entries of its tenant's records), read
    // in full, and again in small pages.
    let log = read_log(ctx, 1000)?;
    for (i, c) in log.iter().enumerate() {
        let ok = match i {
            0 if scope.is_none() => c.seq == 1,
            0 => c.seq >= 1,
            _ => c.seq > log[i - 1].seq,
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
    let expected: Vec<LogEntry> = m
        .log
        .iter()
        .zip(&m.log_tenants)
        .filter(|(_, t)| seen(t.as_deref()))
        .map(|(e, _)| *e)
        .collect();
    same("change log", &entries, &expected)?;
    let small = 1 + (seed % 4) as usize;
    same(
        &format!("change log read {small} at a time"),
        read_log(ctx, small)?,
        log,
    )?;
    Ok(())
}

/// `store.check()` must find nothing wrong.
fn check(store: &Store) -> Result<(), String> {
    match store.check() {
        Ok(report) if report.ok && report.problems.is_empty() => Ok(()),
        other => Err(format!("check(): {other:?}")),
    }
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
    /// The view the transaction is seen through.
    view: View,
    /// A disagreement with the model, which stops the run.
    mismatch: Option<String>,
    /// Whether some step failed (as the model predicted).
    failed: bool,
    /// The outcome of each step run.
    outcomes: Vec<Outcome>,
}

impl TxRun {
    /// Runs `steps` in `tx`, each checked against `shadow` (which follows
    /// them) and followed by a check of everything readable through `tx`.
    ///
    /// A failed step's error is swallowed, unless `stop_on_error`: then it is
    /// returned, to roll the transaction back.
    fn run_steps<C: Handles>(
        &mut self,
        tx: &C,
        steps: &[Step],
        stop_on_error: bool,
    ) -> Result<(), Error> {
        let at = &self.at;
        for (j, step) in steps.iter().enumerate() {
            let action = self.shadow.resolve(step, self.view);
            let expected = self.shadow.apply(&action, self.view);
            let actual = exec(tx, &action);
            let got = match &actual {
                Ok(o) => o.clone(),
                Err(e) => error_outcome(e),
            };
            self.outcomes.push(got.clone());
            let checked =
                same(&format!("{at}, step {j}: {action:?}"), got, expected).and_then(|()| {
                    verify(tx, &self.shadow, self.seed ^ j as u64, self.view)
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

    /// The body of a `store.write` transaction in `mode`.
    fn body<C: Handles>(&mut self, tx: &C, steps: &[Step], mode: TxMode) -> Result<(), Error> {
        self.run_steps(tx, steps, mode != TxMode::Swallow)?;
        match mode {
            TxMode::Abort => Err(Error::AuthenticationFailed),
            _ => Ok(()),
        }
    }
}

/// What a run did: the final model and the outcome of every step run.
struct Ran {
    model: Model,
    outcomes: Vec<Outcome>,
}

/// Runs `cases` on a new store and a new model, checking after every step.
fn run(cases: &[Case]) -> Result<Ran, TestCaseError> {
    let store = store();
    let mut model = Model::default();
    let mut outcomes = Vec::new();
    let fail = |e: Error| TestCaseError::fail(format!("{e:?}"));
    for (i, case) in cases.iter().enumerate() {
        let view = match &case.op {
            Op::Single(step, view) => {
                let action = model.resolve(step, *view);
                let expected = model.apply(&action, *view);
                let actual = match view {
                    None => exec(&store, &action),
                    Some(t) => exec(&store.scoped(t).map_err(fail)?, &action),
                };
                let actual = actual.unwrap_or_else(|e| error_outcome(&e));
                outcomes.push(actual.clone());
                same(
                    &format!("step {i} (view {view:?}): {action:?}"),
                    actual,
                    expected,
                )
                .map_err(TestCaseError::fail)?;
                *view
            }
            Op::Tx(steps, mode, view) => {
                let mode = *mode;
                let mut run = TxRun {
                    shadow: model.clone(),
                    at: format!("step {i}, {mode:?} transaction (view {view:?})"),
                    seed: case.seed,
                    view: *view,
                    mismatch: None,
                    failed: false,
                    outcomes: Vec::new(),
                };
                let should_commit = match mode {
                    TxMode::Atomic | TxMode::Swallow | TxMode::Abort => {
                        let result = match view {
                            None => store.write(|tx| run.body(tx, steps, mode)),
                            Some(t) => store
                                .scoped(t)
                                .map_err(fail)?
                                .write(|tx| run.body(tx, steps, mode)),
                        };
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
                        let _ = match view {
                            None => run.run_steps(&tx, steps, false),
                            Some(t) => {
                                let scoped = Scope::new(&tx, t).map_err(fail)?;
                                run.run_steps(&scoped, steps, false)
                            }
                        };
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
                outcomes.append(&mut run.outcomes);
                if let Some(msg) = run.mismatch {
                    return Err(TestCaseError::fail(msg));
                }
                if should_commit {
                    model = run.shadow;
                }
                *view
            }
        };
        let after = |e: String| TestCaseError::fail(format!("after step {i} ({:?}): {e}", case.op));
        check(&store).map_err(after)?;
        verify(&store, &model, case.seed, None).map_err(after)?;
        // And through a view: the operation's, or one the seed picks.
        let t = view.unwrap_or(VIEWS[(case.seed >> 32) as usize % VIEWS.len()]);
        let scoped = store.scoped(t).map_err(fail)?;
        verify(&scoped, &model, case.seed.rotate_left(11), Some(t))
            .map_err(|e| after(format!("through the view of {t}: {e}")))?;
    }
    Ok(Ran { model, outcomes })
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
    // One tenant each: some of them are the same name in their caseless form.
    for (i, s) in VALID_USERNAMES.iter().enumerate() {
        let email = format!("{}@pool.io", s.replace('.', ""));
        store
            .users()
            .create(NewUser {
                tenant: Some(format!("p{i}")),
                ..NewUser::new(*s, email, "F", "L")
            })
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
        op: Op::Single(step, None),
        seed: 0x9e37_79b9_7f4a_7c15,
    };
    let tx = |steps: Vec<Step>, mode: TxMode| Case {
        op: Op::Tx(steps, mode, None),
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
    let model = run(&cases).unwrap_or_else(|e| panic!("{e}")).model;
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

/// A hand-written sequence of updates and scoped operations, with every
/// outcome and the end state pinned by hand.
#[test]
fn fixed_update_sequence() {
    use PatchSpec as P;
    let single = |step: Step| Case {
        op: Op::Single(step, None),
        seed: 0x5851_f42d_4c95_7f2d,
    };
    let scoped = |view: &'static str, step: Step| Case {
        op: Op::Single(step, Some(view)),
        seed: 0x1405_7b7e_f767_814f,
    };
    let user = |name: &str, email: &str, tenant: Option<&str>, roles: &[u64]| {
        Step::CreateUser(UserSpec {
            username: name.into(),
            email: email.into(),
            tenant: tenant.map(str::to_owned),
            roles: roles.iter().map(|&r| IdRef::Raw(r)).collect(),
            external_ids: Vec::new(),
        })
    };
    let role = |name: &str, tenant: Option<&str>| {
        Step::CreateRole(RoleSpec {
            name: name.into(),
            tenant: tenant.map(str::to_owned),
        })
    };
    let patch = |id: u64, ops: Vec<PatchSpec>, e: Expect| Step::Patch(IdRef::Raw(id), ops, e);
    let no_merge = MergeSpec {
        username: None,
        email: None,
        nickname: None,
        enabled: None,
        dept: None,
        tenant: None,
        read_only: None,
    };
    let merge = |id: u64, m: MergeSpec, e: Expect| Step::Merge(IdRef::Raw(id), Box::new(m), e);
    let minimal = |username: Src, email: Src| ReplaceSpec {
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
    };
    let replace =
        |id: u64, r: ReplaceSpec, e: Expect| Step::Replace(IdRef::Raw(id), Box::new(r), e);
    let pool = |s: &str| Src::Pool(s.into());
    let ext = |k: &str, v: &str| ExternalId::new(k, v);
    let cases = vec![
        single(role("admin", None)),                       // role 1
        single(role("ops", Some("t1"))),                   // role 2
        single(user("ann", "ann@x.io", None, &[])),        // user 1
        single(user("bob", "bob@x.io", None, &[])),        // user 2
        scoped("t1", user("ann", "ann@x.io", None, &[2])), // user 3, tenant t1
        // Patches of user 1.
        single(patch(1, vec![P::Username(pool("BOB"))], Expect::Any)),
        single(patch(
            1,
            vec![
                P::Name("firstName", "Ann".into()),
                P::AddExternal(ext("github", "1")),
            ],
            Expect::Right,
        )), // v2
        single(patch(
            1,
            vec![P::Name("lastName", "X".into()), P::ReadOnly(0)],
            Expect::Any,
        )), // refused before anything applies
        single(patch(
            1,
            vec![P::Name("firstName", "Ünal".into()), P::TestVersion(false)],
            Expect::Any,
        )),
        single(patch(1, vec![P::Tenant(Some("t1".into()))], Expect::Any)),
        single(patch(
            1,
            vec![P::Username(pool("bad name")), P::Tenant(Some("t1".into()))],
            Expect::Any,
        )), // every failing field
        single(patch(
            1,
            vec![P::TestVersion(true), P::TestUsername(0)],
            Expect::Right,
        )), // no change: still v2
        // Merges.
        single(merge(
            1,
            MergeSpec {
                nickname: Some(None),
                ..no_merge.clone()
            },
            Expect::Above,
        )),
        single(merge(
            1,
            MergeSpec {
                nickname: Some(Some("Nan".into())),
                enabled: Some(false),
                dept: Some(Some("R&D".into())),
                ..no_merge.clone()
            },
            Expect::Right,
        )), // v3
        single(merge(
            1,
            MergeSpec {
                nickname: Some(Some("Nan".into())),
                read_only: Some((1, true)),
                ..no_merge.clone()
            },
            Expect::Any,
        )), // no change: still v3
        single(merge(
            1,
            MergeSpec {
                read_only: Some((0, false)),
                ..no_merge.clone()
            },
            Expect::Any,
        )),
        single(merge(
            1,
            MergeSpec {
                email: Some(pool("ann@x")),
                read_only: Some((2, false)),
                ..no_merge.clone()
            },
            Expect::Any,
        )), // every failing field
        single(merge(
            2,
            MergeSpec {
                username: Some(pool("ANN")),
                ..no_merge.clone()
            },
            Expect::Any,
        )),
        // Replaces.
        single(replace(1, minimal(Src::Own(0), Src::Own(0)), Expect::Right)), // v4
        single(replace(
            1,
            ReplaceSpec {
                keep_nickname: true,
                keep_roles: true,
                keep_external_ids: true,
                keep_attributes: true,
                enabled: Some(true),
                tenant: TenantIn::Current,
                ..minimal(Src::Own(0), Src::Own(0))
            },
            Expect::Any,
        )), // the same document: still v4
        single(replace(
            1,
            ReplaceSpec {
                tenant: TenantIn::Given(Some("t2".into())),
                ..minimal(Src::Own(0), Src::Own(0))
            },
            Expect::Any,
        )),
        // Roles through patches.
        single(patch(2, vec![P::AddRole(IdRef::Raw(2))], Expect::Any)), // a t1 role
        single(patch(
            2,
            vec![P::AddRole(IdRef::Raw(1)), P::AddRole(IdRef::Raw(1))],
            Expect::Any,
        )), // v2, roles [1]
        single(patch(2, vec![P::RemoveRole(1)], Expect::Any)),
        // Scoped views.
        scoped("t2", patch(3, vec![P::Enabled(false)], Expect::Any)),
        scoped("t1", Step::DeleteUser(IdRef::Raw(1))),
        scoped(
            "t1",
            merge(
                3,
                MergeSpec {
                    username: Some(pool("ZOË")),
                    ..no_merge.clone()
                },
                Expect::Right,
            ),
        ), // v2
        scoped("t1", user("bob", "bob@x.io", Some("t2"), &[])),
        scoped("t1", user("bad name", "bob@x.io", Some("t2"), &[])),
        scoped("t1", user("Zoë", "zoë@x.io", None, &[])),
        Case {
            op: Op::Tx(
                vec![
                    patch(3, vec![P::Email(pool("bob@x.io"))], Expect::Any),
                    user("bob", "BOB@x.io", None, &[]),
                ],
                TxMode::Atomic,
                Some("t1"),
            ),
            seed: 7,
        },
        Case {
            op: Op::Tx(
                vec![
                    replace(3, minimal(Src::Own(0), pool("zoë@x.io")), Expect::Any),
                    Step::DeleteUser(IdRef::Raw(2)),
                ],
                TxMode::Swallow,
                Some("t1"),
            ),
            seed: 8,
        },
        single(Step::DeleteRole(IdRef::Raw(1), true)),
    ];
    let ran = run(&cases).unwrap_or_else(|e| panic!("{e}"));
    let outcomes: Vec<String> = ran.outcomes.iter().map(brief).collect();
    assert_eq!(
        outcomes,
        [
            "role 1 v1",
            "role 2 v1",
            "user 1 v1",
            "user 2 v1",
            "user 3 v1",
            "Conflict user username",
            "user 1 v2",
            "InvalidPatch 1",
            "InvalidPatch 1",
            "Validation tenant",
            "Validation tenant username",
            "user 1 v2",
            "VersionConflict 3 2",
            "user 1 v3",
            "user 1 v3",
            "Validation id",
            "Validation email hasPassword",
            "Conflict user username",
            "user 1 v4",
            "user 1 v4",
            "Validation tenant",
            "Validation roles",
            "user 2 v2",
            "InvalidPatch 0",
            "NotFound user",
            "NotFound user",
            "user 3 v2",
            "Validation tenant",
            "Validation tenant username",
            "Conflict user username",
            "user 3 v3",
            "Conflict user email",
            "user 3 v3",
            "NotFound user",
            "role 1 v1",
        ]
    );
    let m = &ran.model;
    let u1 = m.user_view(1);
    assert_eq!(
        (
            u1.first_name.as_str(),
            u1.nickname.clone(),
            u1.enabled,
            u1.external_ids.len(),
            u1.attributes.clone(),
            u1.version
        ),
        ("Ann", None, true, 0, json!({}), 4)
    );
    assert_eq!((m.users[&2].roles.len(), m.users[&2].version), (0, 3));
    let u3 = m.user_view(3);
    assert_eq!(
        (
            u3.username.as_str(),
            u3.email.as_str(),
            u3.tenant.as_deref(),
            u3.roles.len(),
            u3.version
        ),
        ("ZOË", "zoë@x.io", Some("t1"), 0, 3)
    );
    use ChangeOp::{Create as C, Delete as D, Update as U};
    use EntityKind::{Role as R, User as Us};
    assert_eq!(
        m.log,
        [
            (R, 1, C, 1),
            (R, 2, C, 1),
            (Us, 1, C, 1),
            (Us, 2, C, 1),
            (Us, 3, C, 1),
            (Us, 1, U, 2),
            (Us, 1, U, 3),
            (Us, 1, U, 4),
            (Us, 2, U, 2),
            (Us, 3, U, 2),
            (Us, 3, U, 3),
            (Us, 2, U, 3),
            (R, 1, D, 1),
        ]
    );
    let tenants: Vec<Option<&str>> = m.log_tenants.iter().map(Option::as_deref).collect();
    let (none, t) = (None, Some("t1"));
    assert_eq!(
        tenants,
        [
            none, t, none, none, t, none, none, none, none, t, t, none, none
        ]
    );
}
