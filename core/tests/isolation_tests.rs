//! Tenant isolation under random queries (docs/reference/tenancy.md; docs/reference/queries.md,
//! "Results, paging and planning"): nothing a scoped view returns — documents, totals, counts,
//! `exists`, cursors, `explain`, error kinds and messages, logins, the change log — depends on
//! another tenant's records.
//!
//! The main property is non-interference. Two stores run the same sequence:
//! the operations of the tenant under test (`t1`, through its view) are the
//! same in both; the records of the other tenants (`t2`, `T1` — tenants
//! compare exactly — and records without a tenant) are created at the same
//! steps in both, so ids and change-log sequence numbers line up, but with
//! contents drawn independently for each store from the same small pools as
//! the tenant's own (so usernames, emails, external ids and role names
//! collide across tenants). Both stores' clocks stand still at the same
//! instant. Every output of the view must then be the same in both stores,
//! byte for byte (its `Debug` form, the projected JSON, the cursor tokens):
//! a difference means another tenant's data leaked into it. Each output is
//! also checked directly: only `t1`'s records, and no other tenant's id.
//!
//! A second property runs random reads on a view of a tenant with many
//! records, in a store where the other tenants have none and in one where
//! they have more than the planner's "small" bound; and checks each page of
//! the view against the same query on the whole store with `tenant = 't1'`.

// A test fails by panicking: unwraps, indexing and arithmetic on small
// known values are how it says what it expects.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    missing_docs
)]

mod common;

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::regressions::persisted;
use common::{options, store_with_clock};
use proptest::prelude::*;
use rosterdb::{
    Credentials, DEFAULT_SESSION_TTL, Error, ExternalId, NewRole, NewUser, Query, Store, User,
};
use serde_json::{Value, json};

/// The tenant under test.
const MINE: &str = "t1";
/// The other tenants: `T1` differs from `t1` only by case.
const OTHERS: &[Option<&str>] = &[Some("t2"), Some("T1"), None];

const USERNAMES: &[&str] = &["ann", "ANN", "bob", "straße", "STRASSE", "zoë", "ａｎｎ"];
const EMAILS: &[&str] = &[
    "ann@x.io",
    "Ann@X.io",
    "bob@x.io",
    "strasse@x.io",
    "zoë@y.io",
];
const LAST_NAMES: &[&str] = &["Lovelace", "lovelace", "Hopper", "Ünal"];
const NICKNAMES: &[Option<&str>] = &[None, Some("Nan"), Some("")];
const DEPTS: &[Option<&str>] = &[None, Some("R&D"), Some("ops")];
const ROLE_NAMES: &[&str] = &["admin", "ADMIN", "ops", "straße"];
const EXTERNAL: &[(&str, &str)] = &[("github", "1"), ("GitHub", "1"), ("ldap", "ann")];
const PASSWORDS: &[&str] = &["password-one", "password-two"];
/// What lookups look for: usernames, emails and external id values.
const LOOKUPS: &[&str] = &["ann", "ANN", "straße", "ann@x.io", "BOB@x.io", "1", "ann "];

/// The contents of a user, as generated.
#[derive(Clone, Debug)]
struct UserSpec {
    username: &'static str,
    email: &'static str,
    last: &'static str,
    nickname: Option<&'static str>,
    dept: Option<&'static str>,
    enabled: bool,
    ext: Option<(&'static str, &'static str)>,
    password: Option<&'static str>,
    /// The role held, as an index into the tenant's roles (none if it has none).
    role: Option<prop::sample::Index>,
}

fn user_spec() -> impl Strategy<Value = UserSpec> {
    (
        (
            prop::sample::select(USERNAMES),
            prop::sample::select(EMAILS),
            prop::sample::select(LAST_NAMES),
            prop::sample::select(NICKNAMES),
            prop::sample::select(DEPTS),
        ),
        (
            any::<bool>(),
            prop::option::of(prop::sample::select(EXTERNAL)),
            prop::option::of(prop::sample::select(PASSWORDS)),
            prop::option::of(any::<prop::sample::Index>()),
        ),
    )
        .prop_map(
            |((username, email, last, nickname, dept), (enabled, ext, password, role))| UserSpec {
                username,
                email,
                last,
                nickname,
                dept,
                enabled,
                ext,
                password,
                role,
            },
        )
}

impl UserSpec {
    fn new_user(&self, tenant: Option<&str>, roles: &[u64]) -> NewUser {
        let mut attributes = serde_json::Map::new();
        if let Some(d) = self.dept {
            attributes.insert("dept".into(), json!(d));
        }
        NewUser {
            tenant: tenant.map(str::to_owned),
            nickname: self.nickname.map(str::to_owned),
            enabled: self.enabled,
            attributes,
            external_ids: self
                .ext
                .map(|(k, v)| vec![ExternalId::new(k, v)])
                .unwrap_or_default(),
            password: self.password.map(Into::into),
            roles: match self.role {
                Some(ix) if !roles.is_empty() => vec![roles[ix.index(roles.len())]],
                _ => Vec::new(),
            },
            ..NewUser::new(self.username, self.email, "First", self.last)
        }
    }
}

/// A random query in the parameter form (docs/reference/queries.md, Parameter form), without
/// paging.
fn query_params() -> impl Strategy<Value = Vec<(String, String)>> {
    let value = prop_oneof![
        prop::sample::select(USERNAMES).prop_map(|s| format!("'{s}'")),
        prop::sample::select(EMAILS).prop_map(|s| format!("'{s}'")),
        prop::sample::select(LAST_NAMES).prop_map(|s| format!("'{s}'")),
        Just("'t2'".to_owned()),
        Just("'T1'".to_owned()),
        Just("'a'".to_owned()),
        Just("'2026-01-01'".to_owned()),
        Just("true".to_owned()),
        (0u64..12).prop_map(|n| n.to_string()),
    ];
    let field = prop::sample::select(
        &[
            "username",
            "email",
            "lastName",
            "nickname",
            "tenant",
            "enabled",
            "roles",
            "id",
            "attributes.dept",
            "externalIds.value",
            "createdAt",
        ][..],
    );
    let op = prop::sample::select(&["=", "!=", "<", ">=", "sw", "co", "like"][..]);
    let test = prop_oneof![
        4 => (field.clone(), op, value.clone()).prop_map(|(f, o, v)| format!("{f} {o} {v}")),
        1 => field.clone().prop_map(|f| format!("{f} pr")),
        1 => (field.clone(), value.clone(), value).prop_map(|(f, a, b)| format!("{f} in ({a}, {b})")),
    ];
    let expr = test.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    });
    let sort_key = (
        prop::sample::select(
            &[
                "username",
                "email",
                "lastName",
                "nickname",
                "tenant",
                "enabled",
                "createdAt",
                "attributes.dept",
                "id",
            ][..],
        ),
        prop::sample::select(&["", ":asc", ":desc"][..]),
    )
        .prop_map(|(k, d)| format!("{k}{d}"));
    (
        prop::option::of(expr),
        prop::option::of(prop::collection::vec(sort_key, 1..=2)),
        prop::option::of(prop::sample::subsequence(
            &["username", "email", "tenant", "roles", "lastName"][..],
            1..=3,
        )),
        prop::option::of(prop::sample::select(&["ann", "x.io", "ss", "lov"][..])),
        prop::option::of((
            prop::sample::select(&["username", "tenant", "enabled", "filter[lastName]"][..]),
            prop::sample::select(
                &[
                    "ann",
                    "like:an%",
                    "in:t2,T1,t1",
                    "true",
                    "ne:t2",
                    "lovelace",
                ][..],
            ),
        )),
        any::<bool>(),
    )
        .prop_map(|(expr, sort, fields, search, filter, total)| {
            let mut p = Vec::new();
            if let Some(e) = expr {
                p.push(("where".to_owned(), e));
            }
            if let Some(s) = sort {
                p.push(("sort".to_owned(), s.join(",")));
            }
            if let Some(f) = fields {
                p.push(("fields".to_owned(), f.join(",")));
            }
            if let Some(s) = search {
                p.push(("search".to_owned(), s.to_owned()));
            }
            if let Some((k, v)) = filter {
                p.push((k.to_owned(), v.to_owned()));
            }
            if total {
                p.push(("withTotal".to_owned(), "true".to_owned()));
            }
            p
        })
}

/// How a list is paged.
#[derive(Clone, Debug)]
enum Paging {
    Page(u64, u64),
    Offset(u64, u64),
    /// Every page, following the cursors, `n` at a time.
    Walk(u64),
}

fn paging() -> impl Strategy<Value = Paging> {
    prop_oneof![
        (1u64..4, 1u64..5).prop_map(|(p, n)| Paging::Page(p, n)),
        (0u64..8, 1u64..5).prop_map(|(o, n)| Paging::Offset(o, n)),
        (1u64..4).prop_map(Paging::Walk),
    ]
}

/// One step of the tenant under test, through its view.
#[derive(Clone, Debug)]
enum Mine {
    CreateUser(UserSpec),
    CreateRole(&'static str),
    List(Vec<(String, String)>, Paging),
    CountExplain(Vec<(String, String)>),
    Get(u64),
    Lookup(&'static str, Option<&'static str>),
    Patch(u64, &'static str, &'static str),
    Delete(u64),
    DeleteRole(u64, bool),
    Login(&'static str, &'static str, Option<&'static str>),
    Changes,
}

/// A step: the tenant's, or another tenant's record created with (possibly)
/// different contents in each store.
#[derive(Clone, Debug)]
enum Step {
    Mine(Mine),
    Other(prop::sample::Index, Box<UserSpec>, Box<UserSpec>),
    OtherRole(prop::sample::Index, &'static str, &'static str),
    /// The same other tenant's user deleted in both stores.
    OtherDelete(prop::sample::Index),
}

fn mine() -> impl Strategy<Value = Mine> {
    let id = 0u64..14;
    let named = prop::option::of(prop::sample::select(&["t1", "t2", "T1"][..]));
    prop_oneof![
        4 => user_spec().prop_map(Mine::CreateUser),
        1 => prop::sample::select(ROLE_NAMES).prop_map(Mine::CreateRole),
        6 => (query_params(), paging()).prop_map(|(q, p)| Mine::List(q, p)),
        3 => query_params().prop_map(Mine::CountExplain),
        2 => id.clone().prop_map(Mine::Get),
        2 => (prop::sample::select(LOOKUPS), named.clone()).prop_map(|(k, t)| Mine::Lookup(k, t)),
        2 => (
            id.clone(),
            prop::sample::select(&["/username", "/email", "/lastName", "/enabled"][..]),
            prop::sample::select(&["ann", "bob@x.io", "ANN@x.io", "Hopper", "x"][..]),
        )
            .prop_map(|(i, p, v)| Mine::Patch(i, p, v)),
        1 => id.clone().prop_map(Mine::Delete),
        1 => (0u64..6, any::<bool>()).prop_map(|(i, c)| Mine::DeleteRole(i, c)),
        2 => (
            prop::sample::select(&["ann", "ANN", "bob", "ann@x.io", "strasse", "zoë@y.io"][..]),
            prop::sample::select(PASSWORDS),
            named,
        )
            .prop_map(|(i, p, t)| Mine::Login(i, p, t)),
        1 => Just(Mine::Changes),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => mine().prop_map(Step::Mine),
        3 => (any::<prop::sample::Index>(), user_spec(), user_spec())
            .prop_map(|(t, a, b)| Step::Other(t, Box::new(a), Box::new(b))),
        1 => (
            any::<prop::sample::Index>(),
            prop::sample::select(ROLE_NAMES),
            prop::sample::select(ROLE_NAMES),
        )
            .prop_map(|(t, a, b)| Step::OtherRole(t, a, b)),
        1 => any::<prop::sample::Index>().prop_map(Step::OtherDelete),
    ]
}

/// One of the two stores, and what it holds outside the tenant under test.
struct Side {
    store: common::Checked,
    clock: rosterdb::ManualClock,
    /// Ids of other tenants' users (live or deleted) and roles.
    other_users: Vec<u64>,
    other_roles: Vec<u64>,
    /// Every string of another tenant's records, for the leak checks.
    other_strings: BTreeSet<String>,
}

impl Side {
    fn new() -> Side {
        let (store, clock) = store_with_clock(options());
        Side {
            store,
            clock,
            other_users: Vec::new(),
            other_roles: Vec::new(),
            other_strings: BTreeSet::new(),
        }
    }

    fn roles_of(&self, tenant: Option<&str>) -> Vec<u64> {
        let q = Query::from_params(&[("pageSize", "1000")]).unwrap();
        self.store
            .roles()
            .list(&q)
            .unwrap()
            .items
            .into_iter()
            .filter(|r| r.tenant.as_deref() == tenant)
            .map(|r| r.id)
            .collect()
    }

    fn other(&mut self, tenant: Option<&str>, spec: &UserSpec) {
        let roles = self.roles_of(tenant);
        // A failure (a taken username in that tenant) is fine: it consumes
        // no id, in either store, and the id counters stay in step only if
        // both succeed or both fail, so retry with a unique name.
        let created = self.store.users().create(spec.new_user(tenant, &roles));
        let user = match created {
            Ok(u) => u,
            Err(_) => {
                let n = self.other_users.len();
                let fresh = NewUser {
                    username: format!("other{n}"),
                    email: format!("other{n}@z.io"),
                    external_ids: Vec::new(),
                    ..spec.new_user(tenant, &roles)
                };
                self.store.users().create(fresh).unwrap()
            }
        };
        self.other_users.push(user.id);
        self.other_strings.insert(user.username.clone());
        self.other_strings.insert(user.email.clone());
    }

    fn other_role(&mut self, tenant: Option<&str>, name: &str) {
        let role = match self.store.roles().create(NewRole {
            tenant: tenant.map(str::to_owned),
            permissions: vec![format!("perm:{}", self.other_roles.len())],
            ..NewRole::new(name)
        }) {
            Ok(r) => r,
            Err(_) => {
                let n = self.other_roles.len();
                self.store
                    .roles()
                    .create(NewRole {
                        tenant: tenant.map(str::to_owned),
                        ..NewRole::new(format!("other-role{n}"))
                    })
                    .unwrap()
            }
        };
        self.other_roles.push(role.id);
    }

    /// Runs a step of the tenant under test; returns what it showed.
    fn mine(&self, step: &Mine) -> Vec<String> {
        let view = self.store.scoped(MINE).unwrap();
        let mut out = Vec::new();
        match step {
            Mine::CreateUser(spec) => {
                let roles = self.roles_of(Some(MINE));
                out.push(format!(
                    "{:?}",
                    view.users().create(spec.new_user(None, &roles))
                ));
            }
            Mine::CreateRole(name) => {
                out.push(format!("{:?}", view.roles().create(NewRole::new(*name))));
            }
            Mine::List(params, paging) => {
                let mut p = params.clone();
                match paging {
                    Paging::Page(page, size) => {
                        p.push(("page".into(), page.to_string()));
                        p.push(("pageSize".into(), size.to_string()));
                    }
                    Paging::Offset(offset, limit) => {
                        p.push(("offset".into(), offset.to_string()));
                        p.push(("limit".into(), limit.to_string()));
                    }
                    Paging::Walk(size) => p.push(("pageSize".into(), size.to_string())),
                }
                let mut page = Query::from_params(&p).and_then(|q| view.users().list(&q));
                let mut pages = 0;
                loop {
                    out.push(show_page(&page));
                    self.check_page(&page);
                    let next = match (&page, paging) {
                        (Ok(pg), Paging::Walk(_)) => pg.next_cursor.clone(),
                        _ => None,
                    };
                    let Some(cursor) = next else { break };
                    self.check_cursor(&cursor);
                    pages += 1;
                    assert!(pages < 100, "a cursor walk does not end");
                    // The whole query again with the cursor (docs/reference/queries.md).
                    let mut again = params.clone();
                    again.push(("cursor".into(), cursor));
                    page = Query::from_params(&again).and_then(|q| view.users().list(&q));
                }
            }
            Mine::CountExplain(params) => {
                let q = Query::from_params(params);
                let count = q
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|q| view.users().count(q));
                let exists = q
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|q| view.users().exists(q));
                let explain = q
                    .as_ref()
                    .map_err(Clone::clone)
                    .and_then(|q| view.users().explain(q));
                if let (Ok(n), Ok(e)) = (&count, &exists) {
                    assert_eq!(*n > 0, *e);
                    let all = Query::from_params(
                        &[params.clone(), vec![("pageSize".into(), "1000".into())]].concat(),
                    )
                    .and_then(|q| view.users().list(&q))
                    .unwrap();
                    assert_eq!(all.items.len() as u64, *n);
                    self.check_page(&Ok(all));
                }
                if let Ok(e) = &explain {
                    self.check_text(e);
                }
                out.push(format!("{count:?} {exists:?} {explain:?}"));
            }
            Mine::Get(id) => {
                let got = view.users().get(*id);
                if self.other_users.contains(id) {
                    assert!(matches!(got, Err(Error::NotFound { .. })), "{got:?}");
                }
                out.push(format!("{got:?}"));
                let role = view.roles().get(*id);
                if self.other_roles.contains(id) {
                    assert!(matches!(role, Err(Error::NotFound { .. })), "{role:?}");
                }
                out.push(format!("{role:?}"));
            }
            Mine::Lookup(key, tenant) => {
                for got in [
                    view.users().get_by_username(key, *tenant),
                    view.users().get_by_email(key, *tenant),
                    view.users().get_by_external_id("github", key, *tenant),
                ] {
                    self.check_user(&got);
                    out.push(format!("{got:?}"));
                }
            }
            Mine::Patch(id, path, value) => {
                let value = if *path == "/enabled" {
                    json!(value.len() % 2 == 0)
                } else {
                    json!(value)
                };
                let got = view.users().patch(
                    *id,
                    &json!([{"op": "replace", "path": path, "value": value}]),
                    None,
                );
                self.check_user(&got);
                out.push(format!("{got:?}"));
                let got = view
                    .users()
                    .merge(*id, &json!({"nickname": "merged"}), Some(1));
                self.check_user(&got);
                out.push(format!("{got:?}"));
            }
            Mine::Delete(id) => {
                let got = view.users().delete(*id);
                self.check_user(&got);
                out.push(format!("{got:?}"));
            }
            Mine::DeleteRole(id, cascade) => {
                let got = view.roles().delete(*id, *cascade);
                if self.other_roles.contains(id) {
                    assert!(matches!(got, Err(Error::NotFound { .. })), "{got:?}");
                }
                out.push(format!("{got:?}"));
            }
            Mine::Login(identifier, password, tenant) => {
                let mut c = Credentials::new(*identifier, *password);
                c.tenant = tenant.map(str::to_owned);
                let got = view.login(&c, DEFAULT_SESSION_TTL);
                if let Ok(login) = &got {
                    assert_eq!(login.principal.tenant.as_deref(), Some(MINE));
                    let p = view.authenticate(login.token.expose()).unwrap();
                    assert_eq!(p.tenant.as_deref(), Some(MINE));
                    out.push(format!("{p:?}"));
                }
                out.push(format!("{:?}", got.map(|l| (l.expires_at, l.principal))));
                let got = view.users().verify_password(&c);
                out.push(format!("{got:?}"));
            }
            Mine::Changes => {
                let got = view.changes(0, 1000).unwrap();
                for c in &got {
                    assert!(
                        !self.other_users.contains(&c.id) || c.entity != rosterdb::EntityKind::User
                    );
                    assert!(
                        !self.other_roles.contains(&c.id) || c.entity != rosterdb::EntityKind::Role
                    );
                }
                out.push(format!("{got:?}"));
            }
        }
        for text in &out {
            self.check_text(text);
        }
        out
    }

    /// A page holds only the tenant's users, none of another tenant's ids.
    fn check_page(&self, page: &rosterdb::Result<rosterdb::Page<User>>) {
        if let Ok(page) = page {
            for u in &page.items {
                assert_eq!(u.tenant.as_deref(), Some(MINE), "{u:?}");
                assert!(!self.other_users.contains(&u.id));
            }
        }
    }

    fn check_user(&self, got: &rosterdb::Result<User>) {
        if let Ok(u) = got {
            assert_eq!(u.tenant.as_deref(), Some(MINE), "{u:?}");
        }
    }

    /// A cursor, decoded (base64url of a version byte, JSON and an 8-byte
    /// checksum), names the view's tenant and holds no other tenant's string.
    fn check_cursor(&self, cursor: &str) {
        let json = cursor_json(cursor);
        assert_eq!(json["scope"], json!(MINE), "{json}");
        assert_eq!(json["kind"], json!("user"), "{json}");
        self.check_text(&json["after"].to_string());
        // Used in another tenant's view, or in the whole store, it is refused.
        for other in [
            self.store
                .scoped("t2")
                .unwrap()
                .users()
                .list(&cursor_query(cursor)),
            self.store
                .scoped("T1")
                .unwrap()
                .users()
                .list(&cursor_query(cursor)),
            self.store.users().list(&cursor_query(cursor)),
        ] {
            match other {
                Err(Error::InvalidQuery {
                    field: Some(f),
                    message,
                    ..
                }) => {
                    assert_eq!(f, "cursor");
                    self.check_text(&message);
                }
                other => panic!("a t1 cursor used elsewhere: {other:?}"),
            }
        }
    }

    /// No string only another tenant's records hold shows in `text`.
    fn check_text(&self, text: &str) {
        for s in &self.other_strings {
            if s.starts_with("other") {
                assert!(!text.contains(s.as_str()), "{s} shows in {text}");
            }
        }
    }
}

fn cursor_query(cursor: &str) -> Query {
    Query::from_params(&[("cursor", cursor)]).unwrap()
}

/// The JSON a cursor token carries.
fn cursor_json(cursor: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).unwrap();
    assert!(bytes.len() > 9);
    serde_json::from_slice(&bytes[1..bytes.len() - 8]).unwrap()
}

/// What a page shows: its Debug form (documents, total, cursor) and its
/// projected JSON.
fn show_page(page: &rosterdb::Result<rosterdb::Page<User>>) -> String {
    match page {
        Ok(p) => format!("{p:?} {:?}", p.items_json().unwrap()),
        Err(e) => format!("{e:?} {e}"),
    }
}

/// Runs `steps` on two stores that differ only in other tenants' contents.
fn run(steps: &[Step]) -> Result<(), TestCaseError> {
    let mut a = Side::new();
    let mut b = Side::new();
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Mine(m) => {
                let (x, y) = (a.mine(m), b.mine(m));
                prop_assert_eq!(x, y, "step {} {:?} differs between the stores", i, m);
            }
            Step::Other(t, sa, sb) => {
                let tenant = OTHERS[t.index(OTHERS.len())];
                a.other(tenant, sa);
                b.other(tenant, sb);
            }
            Step::OtherRole(t, na, nb) => {
                let tenant = OTHERS[t.index(OTHERS.len())];
                a.other_role(tenant, na);
                b.other_role(tenant, nb);
            }
            Step::OtherDelete(ix) => {
                if !a.other_users.is_empty() {
                    let id = a.other_users[ix.index(a.other_users.len())];
                    let (x, y) = (a.store.users().delete(id), b.store.users().delete(id));
                    prop_assert_eq!(x.is_ok(), y.is_ok());
                }
            }
        }
        a.clock.advance(Duration::from_millis(1));
        b.clock.advance(Duration::from_millis(1));
    }
    Ok(())
}

proptest! {
    #![proptest_config(persisted(ProptestConfig::with_cases(48)))]

    /// What a view of `t1` shows is the same whatever other tenants hold.
    #[test]
    fn a_view_shows_nothing_of_other_tenants(steps in prop::collection::vec(step(), 1..40)) {
        run(&steps)?;
    }
}

// ---------------------------------------------------------------------------
// Volume: a tenant's reads do not change with how much other tenants hold.

/// `n` users of `tenant` (each from a rotating pool), made in one transaction.
fn bulk(store: &Store, tenant: Option<&str>, n: usize, prefix: &str) {
    store
        .write(|tx| {
            for i in 0..n {
                tx.users().create(NewUser {
                    tenant: tenant.map(str::to_owned),
                    enabled: i % 3 != 0,
                    nickname: (i % 4 == 0).then(|| format!("{prefix}nick{i}")),
                    ..NewUser::new(
                        format!(
                            "{}{prefix}{i}",
                            USERNAMES[i % USERNAMES.len()].to_lowercase()
                        ),
                        format!("{prefix}{i}@{}", ["x.io", "y.io"][i % 2]),
                        "First",
                        LAST_NAMES[i % LAST_NAMES.len()],
                    )
                })?;
            }
            Ok(())
        })
        .unwrap();
}

/// Two stores with the same `t1` records (created first, so the ids agree):
/// one with nothing else, one with many records of other tenants, some with
/// the same usernames and emails.
fn volume_stores() -> &'static (Store, Store) {
    static STORES: OnceLock<(Store, Store)> = OnceLock::new();
    STORES.get_or_init(|| {
        let make = || {
            let clock = rosterdb::ManualClock::new(
                rosterdb::Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            );
            let s = Store::memory_with(options().with_clock(clock.clock())).unwrap();
            bulk(&s, Some(MINE), 300, "m");
            s
        };
        let (alone, crowded) = (make(), make());
        bulk(&crowded, Some("t2"), 300, "m");
        bulk(&crowded, Some("T1"), 150, "o");
        bulk(&crowded, None, 150, "n");
        (alone, crowded)
    })
}

proptest! {
    #![proptest_config(persisted(ProptestConfig::with_cases(64)))]

    /// Pages, totals, counts, cursors and plans of a view of `t1` are the
    /// same whether other tenants hold nothing or hundreds of records; and
    /// a view's page is the whole store's page of `tenant = 't1'`.
    #[test]
    fn a_views_reads_do_not_depend_on_other_tenants_volume(
        params in query_params(),
        size in 1u64..40,
        pages in 1usize..4,
    ) {
        let (alone, crowded) = volume_stores();
        let mut p = params.clone();
        p.push(("pageSize".into(), size.to_string()));
        let views = [alone.scoped(MINE).unwrap(), crowded.scoped(MINE).unwrap()];
        let q = Query::from_params(&p);
        let shown: Vec<String> = views
            .iter()
            .map(|v| {
                let q = q.clone();
                let mut out = Vec::new();
                let mut page = q.clone().and_then(|q| v.users().list(&q));
                for _ in 0..pages {
                    out.push(show_page(&page));
                    let Ok(Some(c)) = page.as_ref().map(|p| p.next_cursor.clone()) else { break };
                    page = v.users().list(&cursor_query(&c));
                }
                let count = q.clone().and_then(|q| v.users().count(&q));
                let exists = q.clone().and_then(|q| v.users().exists(&q));
                let explain = q.clone().and_then(|q| v.users().explain(&q));
                out.push(format!("{count:?} {exists:?} {explain:?}"));
                out.join("\n")
            })
            .collect();
        prop_assert_eq!(&shown[0], &shown[1]);
        // The view's first page is the whole store's, filtered by tenant.
        if let Ok(page) = q.and_then(|q| views[1].users().list(&q)) {
            for u in &page.items {
                prop_assert_eq!(u.tenant.as_deref(), Some(MINE));
            }
            let mut whole = p.clone();
            whole.push(("tenant".into(), MINE.into()));
            let expected = Query::from_params(&whole)
                .and_then(|q| crowded.users().list(&q))
                .unwrap();
            let ids = |p: &rosterdb::Page<User>| p.items.iter().map(|u| u.id).collect::<Vec<_>>();
            prop_assert_eq!(ids(&page), ids(&expected));
            prop_assert_eq!(page.total, expected.total);
        }
    }
}

/// A cursor is checked against the view, not trusted: one edited to name
/// another tenant (its checksum made again, as anyone can) is only a cursor
/// of that tenant's view, and pages through that tenant's records alone.
#[test]
fn a_forged_cursor_pages_only_its_own_views_records() {
    let (alone, crowded) = volume_stores();
    let _ = alone;
    let view = crowded.scoped(MINE).unwrap();
    let q = Query::from_params(&[("pageSize", "2"), ("sort", "username")]).unwrap();
    let cursor = view.users().list(&q).unwrap().next_cursor.unwrap();
    let mut json = cursor_json(&cursor);
    for scope in [json!("t2"), Value::Null] {
        json["scope"] = scope.clone();
        let forged = encode_cursor(&json);
        // Refused by the view it came from…
        assert!(matches!(
            view.users().list(&cursor_query(&forged)),
            Err(Error::InvalidQuery { .. })
        ));
        // …and in the view (or store) it names, it shows only what that
        // view shows anyway.
        let page = match scope.as_str() {
            Some(t) => crowded
                .scoped(t)
                .unwrap()
                .users()
                .list(&cursor_query(&forged)),
            None => crowded.users().list(&cursor_query(&forged)),
        }
        .unwrap();
        if let Some(t) = scope.as_str() {
            assert!(page.items.iter().all(|u| u.tenant.as_deref() == Some(t)));
        }
    }
}

/// The token form of cursor JSON: version 2, the JSON, FNV-1a of both.
fn encode_cursor(json: &Value) -> String {
    let mut bytes = vec![2u8];
    bytes.extend(serde_json::to_vec(json).unwrap());
    let sum = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    bytes.extend(sum.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Every call a view makes on another tenant's record fails exactly as on
/// a record that never existed (`NotFound`, or for a check
/// `AuthenticationFailed`, with the same message once the id is the same),
/// and changes nothing; the same email, username, external id or role name
/// in another tenant is no conflict; another tenant's session is not seen.
#[test]
fn another_tenants_records_are_as_if_absent() {
    let (s, _clock) = store_with_clock(options());
    let theirs = s.scoped("t2").unwrap();
    let role = theirs.roles().create(NewRole::new("admin")).unwrap();
    let ann = theirs
        .users()
        .create(NewUser {
            password: Some(PASSWORDS[0].into()),
            external_ids: vec![ExternalId::new("github", "1")],
            roles: vec![role.id],
            ..NewUser::new("ann", "ann@x.io", "Ann", "Lovelace")
        })
        .unwrap();
    let client = theirs
        .clients()
        .create(rosterdb::NewClient::new("svc"))
        .unwrap();
    let token = theirs
        .login(&Credentials::new("ann", PASSWORDS[0]), DEFAULT_SESSION_TTL)
        .unwrap()
        .token;
    let client_token = theirs
        .client_login(
            &client.client.client_id,
            &client.secret,
            None,
            DEFAULT_SESSION_TTL,
        )
        .unwrap()
        .token;
    let before = s.changes(0, 1000).unwrap();
    let mine = s.scoped(MINE).unwrap();
    // An id no record ever had, the same number as the other tenant's.
    let absent = Store::memory_with(options()).unwrap();
    let nothing = absent.scoped(MINE).unwrap();
    let patch = json!([{"op": "replace", "path": "/lastName", "value": "X"}]);
    let pairs: Vec<(String, String)> = [
        (
            format!("{:?}", mine.users().get(ann.id)),
            format!("{:?}", nothing.users().get(ann.id)),
        ),
        (
            format!("{:?}", mine.users().patch(ann.id, &patch, Some(1))),
            format!("{:?}", nothing.users().patch(ann.id, &patch, Some(1))),
        ),
        (
            format!(
                "{:?}",
                mine.users()
                    .merge(ann.id, &json!({"lastName": "X"}), Some(9))
            ),
            format!(
                "{:?}",
                nothing
                    .users()
                    .merge(ann.id, &json!({"lastName": "X"}), Some(9))
            ),
        ),
        (
            format!("{:?}", mine.users().replace(ann.id, &json!({}), None)),
            format!("{:?}", nothing.users().replace(ann.id, &json!({}), None)),
        ),
        (
            format!("{:?}", mine.users().delete(ann.id)),
            format!("{:?}", nothing.users().delete(ann.id)),
        ),
        (
            format!(
                "{:?}",
                mine.users().set_password(ann.id, &"new-password-1".into())
            ),
            format!(
                "{:?}",
                nothing
                    .users()
                    .set_password(ann.id, &"new-password-1".into())
            ),
        ),
        (
            format!("{:?}", mine.users().unlock(ann.id)),
            format!("{:?}", nothing.users().unlock(ann.id)),
        ),
        (
            format!("{:?}", mine.users().totp_enroll(ann.id)),
            format!("{:?}", nothing.users().totp_enroll(ann.id)),
        ),
        (
            format!("{:?}", mine.users().totp_disable(ann.id)),
            format!("{:?}", nothing.users().totp_disable(ann.id)),
        ),
        (
            format!("{:?}", mine.users().sessions(ann.id)),
            format!("{:?}", nothing.users().sessions(ann.id)),
        ),
        (
            format!("{:?}", mine.users().revoke_sessions(ann.id)),
            format!("{:?}", nothing.users().revoke_sessions(ann.id)),
        ),
        (
            format!("{:?}", mine.roles().get(role.id)),
            format!("{:?}", nothing.roles().get(role.id)),
        ),
        (
            format!("{:?}", mine.roles().delete(role.id, false)),
            format!("{:?}", nothing.roles().delete(role.id, false)),
        ),
        (
            format!("{:?}", mine.roles().delete(role.id, true)),
            format!("{:?}", nothing.roles().delete(role.id, true)),
        ),
        (
            format!("{:?}", mine.clients().get(client.client.id)),
            format!("{:?}", nothing.clients().get(client.client.id)),
        ),
        (
            format!("{:?}", mine.clients().rotate_secret(client.client.id)),
            format!("{:?}", nothing.clients().rotate_secret(client.client.id)),
        ),
        (
            format!(
                "{:?}",
                mine.clients().get_by_client_id(&client.client.client_id)
            ),
            format!(
                "{:?}",
                nothing.clients().get_by_client_id(&client.client.client_id)
            ),
        ),
        (
            format!(
                "{:?}",
                mine.client_login(
                    &client.client.client_id,
                    &client.secret,
                    None,
                    DEFAULT_SESSION_TTL
                )
                .map(|l| l.principal)
            ),
            format!(
                "{:?}",
                nothing
                    .client_login(
                        &client.client.client_id,
                        &client.secret,
                        None,
                        DEFAULT_SESSION_TTL
                    )
                    .map(|l| l.principal)
            ),
        ),
        (
            format!(
                "{:?}",
                mine.login(
                    &Credentials::new("ann", PASSWORDS[0]).tenant("t2"),
                    DEFAULT_SESSION_TTL
                )
                .map(|l| l.principal)
            ),
            format!(
                "{:?}",
                nothing
                    .login(
                        &Credentials::new("ann", PASSWORDS[0]).tenant("t2"),
                        DEFAULT_SESSION_TTL
                    )
                    .map(|l| l.principal)
            ),
        ),
        (
            format!("{:?}", mine.users().get_by_email("ANN@x.io", Some("t2"))),
            format!("{:?}", nothing.users().get_by_email("ANN@x.io", Some("t2"))),
        ),
        (
            format!(
                "{:?}",
                mine.users().get_by_external_id("github", "1", Some("t2"))
            ),
            format!(
                "{:?}",
                nothing
                    .users()
                    .get_by_external_id("github", "1", Some("t2"))
            ),
        ),
        (
            format!("{:?}", mine.authenticate(token.expose())),
            format!("{:?}", nothing.authenticate(token.expose())),
        ),
        (
            format!("{:?}", mine.authenticate(client_token.expose())),
            format!("{:?}", nothing.authenticate(client_token.expose())),
        ),
    ]
    .into_iter()
    .collect();
    for (got, expected) in &pairs {
        assert_eq!(got, expected);
        assert!(
            got.contains("NotFound")
                || got.contains("AuthenticationFailed")
                || got.contains("InvalidToken"),
            "{got}"
        );
    }
    mine.logout(token.expose()).unwrap();
    mine.logout(client_token.expose()).unwrap();
    // Nothing changed: the other tenant's records, log and sessions.
    assert_eq!(s.changes(0, 1000).unwrap(), before);
    assert_eq!(
        s.users().get(ann.id).unwrap(),
        theirs.users().get(ann.id).unwrap()
    );
    assert_eq!(theirs.authenticate(token.expose()).unwrap().id, ann.id);
    assert_eq!(
        theirs.authenticate(client_token.expose()).unwrap().id,
        client.client.id
    );
    assert_eq!(theirs.users().sessions(ann.id).unwrap().len(), 1);
    // The same unique values in this tenant are no conflict.
    let role = mine.roles().create(NewRole::new("ADMIN")).unwrap();
    let mine_ann = mine
        .users()
        .create(NewUser {
            password: Some(PASSWORDS[1].into()),
            external_ids: vec![ExternalId::new("GitHub", "1")],
            roles: vec![role.id],
            ..NewUser::new("ANN", "Ann@X.io", "Ann", "Lovelace")
        })
        .unwrap();
    let bob = mine
        .users()
        .create(NewUser::new("bob", "bob@x.io", "Bob", "B"))
        .unwrap();
    // Taking ann's email for bob in t1 is a conflict with t1's ann only.
    let taken = mine
        .users()
        .merge(bob.id, &json!({"email": "ann@x.io"}), None)
        .unwrap_err();
    assert!(
        matches!(taken, Error::Conflict { ref field, .. } if field == "email"),
        "{taken:?}"
    );
    mine.users().delete(mine_ann.id).unwrap();
    mine.users()
        .merge(
            bob.id,
            &json!({"email": "ann@x.io", "username": "ann"}),
            None,
        )
        .unwrap();
    // A login in t1 finds t1's users only, with t1's password.
    assert!(
        mine.login(&Credentials::new("ann", PASSWORDS[0]), DEFAULT_SESSION_TTL)
            .is_err()
    );
}
