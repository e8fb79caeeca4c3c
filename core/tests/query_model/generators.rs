//! What the query model test generates: populations of users, roles and
//! clients from small pools of tricky values, the changes made to them, and
//! the structure of queries (whose literals `resolve.rs` fixes against the
//! live documents).

use proptest::prelude::*;
use proptest::sample::Index;

use crate::query::{ALL_OPS, Op, Paging};
use crate::schema::Ent;

// ---------------------------------------------------------------------------
// Populations.

/// `T1` and `t1` are different tenants (docs/reference/documents.md, Caseless matching): exact
/// comparisons show.
pub const TENANTS: &[Option<&str>] = &[None, Some("t1"), Some("t2"), Some("T1")];
pub const USERNAMES: &[&str] = &[
    "ann",
    "Ann",
    "zoë",
    "ZOË",
    "élodie",
    "ÉLODIE",
    "bob",
    "b.o-b",
    "ann_1",
    "straße",
    "ΟΔΟΣ",
    "user1",
    "user10",
    "a@b",
    "STRASSE",
    "οδος",
    "ΟΣΟΣ",
    "ａｄｍｉｎ",
    "admin",
    "ﬁle",
    "İstanbul",
    "ᏣᎳᎩ",
];
pub const EMAIL_LOCALS: &[&str] = &[
    "ann",
    "Ann",
    "zoë",
    "bob",
    "x.y",
    "élodie",
    "a_b",
    "straße",
    "STRASSE",
    "ａｎｎ",
];
pub const EMAIL_DOMAINS: &[&str] = &["x.io", "Example.COM", "ex.org"];
pub const FIRST_NAMES: &[&str] = &[
    "Ann",
    "ann",
    "ANN",
    "Zoë",
    "zoë",
    "ZOË",
    "Élodie",
    "ÉLODIE",
    "élodie",
    "Bob",
    "O'Brien",
    "Mary Ann",
    "Ål_x",
    "50%",
    "back\\slash",
    "Ωmega",
    "李",
    "\"Q\"",
    "Zoe\u{308}",
    "👩\u{200D}💻",
    "🇩🇪 Max",
    "ﬁona",
    "Ὀδυσσεύς",
    "ꮳꮃꭹ",
];
pub const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "lovelace",
    "LOVELACE",
    "Hopper",
    "hopper",
    "Curie",
    "Ørsted",
    "Straße",
    "STRASSE",
    "de la Cruz",
    "Noether",
    "Ñúñez",
    "Weiß",
    "WEISS",
    "\u{212A}elvin",
    "ΟΣΟΣ",
];
pub const NICKNAMES: &[&str] = &[
    "",
    "Nic",
    "nic",
    "ÅSA",
    "zz_top",
    "50%",
    "ann",
    "👍🏽",
    "Ａｎｎ",
    "i\u{307}sa",
];
pub const PHONES: &[&str] = &["+1 555 0100", "+44 20 7946 0000", "555"];
pub const EXTERNAL_IDS: &[(&str, &str)] = &[
    ("github", "1"),
    ("GitHub", "2"),
    ("ldap", "Ann"),
    ("ldap", "uid=bob"),
    ("sso", "x_y"),
    ("sso", "Zoë"),
];
pub const DEPTS: &[&str] = &["sales", "Sales", "R&D", "eng", "ENG", "zoë", "10", ""];
pub const RANKS: &[&str] = &[
    "null",
    "true",
    "false",
    "-3",
    "0",
    "1",
    "2.5",
    "3",
    "3.0",
    "10",
    "9007199254740993",
    "18446744073709551615",
    "-9223372036854775808",
    "1e1",
    "\"10\"",
    "\"abc\"",
    "\"ABC\"",
    "\"b\"",
];
pub const TAGS: &[&str] = &["a", "B", "vip", "VIP", "x%y"];
pub const CITIES: &[&str] = &["Paris", "paris", "Zürich", "Oslo"];
pub const PCTS: &[&str] = &["50%", "a_b", "c\\d", "100", "5%0", "ab"];
pub const PASSWORD_HASH: &str = "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Wz0VCgo2fMbt9uy1X4vLZg";
pub const ROLE_NAMES: &[&str] = &["admin", "Admin", "ops", "Straße", "ΟΔΟΣ", "viewer", "zeta"];
pub const DESCRIPTIONS: &[&str] = &[
    "",
    "Full access",
    "read only",
    "Ops team",
    "zoë's",
    "50% off",
];
pub const PERMISSIONS: &[&str] = &["users:read", "users:write", "*", "a.b-c_d", "Users:Read"];
pub const CLIENT_NAMES: &[&str] = &["billing", "Billing", "sync", "ETL job", "Zoë app"];
pub const IPS: &[&str] = &["10.0.0.0/8", "192.168.1.1", "::1"];

#[derive(Clone, Debug)]
pub struct UserGen {
    pub username: Index,
    pub email: (Index, Index),
    pub first: Index,
    pub last: Index,
    pub nickname: Option<Index>,
    pub phone: Option<Index>,
    pub mobile: Option<Index>,
    pub tenant: Index,
    pub enabled: bool,
    pub roles: Vec<Index>,
    pub external: Vec<Index>,
    /// dept, rank, tags, office, pct-off (each optional / varied; a key with
    /// a `-`, RFC 7643 §2.1 nameChar).
    pub attrs: [Option<Index>; 5],
    pub password: bool,
}

#[derive(Clone, Debug)]
pub struct RoleGen {
    pub name: Index,
    pub description: Option<Index>,
    pub permissions: Vec<Index>,
    pub tenant: Index,
}

#[derive(Clone, Debug)]
pub struct ClientGen {
    pub name: Index,
    pub description: Option<Index>,
    pub tenant: Index,
    pub enabled: bool,
    pub roles: Vec<Index>,
    pub ips: Vec<Index>,
}

pub fn user_gen() -> impl Strategy<Value = UserGen> {
    let a = (
        any::<Index>(),
        any::<(Index, Index)>(),
        any::<Index>(),
        any::<Index>(),
        prop::option::weighted(0.5, any::<Index>()),
        prop::option::weighted(0.3, any::<Index>()),
        prop::option::weighted(0.2, any::<Index>()),
    );
    let b = (
        any::<Index>(),
        prop::bool::weighted(0.8),
        prop::collection::vec(any::<Index>(), 0..3),
        prop::collection::vec(any::<Index>(), 0..3),
        [
            prop::option::weighted(0.7, any::<Index>()),
            prop::option::weighted(0.7, any::<Index>()),
            prop::option::weighted(0.5, any::<Index>()),
            prop::option::weighted(0.5, any::<Index>()),
            prop::option::weighted(0.4, any::<Index>()),
        ],
        prop::bool::weighted(0.3),
    );
    (a, b).prop_map(
        |(
            (username, email, first, last, nickname, phone, mobile),
            (tenant, enabled, roles, external, attrs, password),
        )| UserGen {
            username,
            email,
            first,
            last,
            nickname,
            phone,
            mobile,
            tenant,
            enabled,
            roles,
            external,
            attrs,
            password,
        },
    )
}

pub fn role_gen() -> impl Strategy<Value = RoleGen> {
    (
        any::<Index>(),
        prop::option::of(any::<Index>()),
        prop::collection::vec(any::<Index>(), 0..3),
        any::<Index>(),
    )
        .prop_map(|(name, description, permissions, tenant)| RoleGen {
            name,
            description,
            permissions,
            tenant,
        })
}

pub fn client_gen() -> impl Strategy<Value = ClientGen> {
    (
        any::<Index>(),
        prop::option::of(any::<Index>()),
        any::<Index>(),
        any::<bool>(),
        prop::collection::vec(any::<Index>(), 0..3),
        prop::collection::vec(any::<Index>(), 0..3),
    )
        .prop_map(
            |(name, description, tenant, enabled, roles, ips)| ClientGen {
                name,
                description,
                tenant,
                enabled,
                roles,
                ips,
            },
        )
}

pub fn pick<'a, T>(pool: &'a [T], i: &Index) -> &'a T {
    i.get(pool)
}

// ---------------------------------------------------------------------------
// Changes to a population, and whole populations.

#[derive(Clone, Debug)]
pub enum Mutation {
    CreateUser(UserGen),
    DeleteUser(Index),
    RecreateUser(Index, UserGen),
    DeleteRole(Index),
    CreateRole(RoleGen),
    DeleteClient(Index),
    CreateClient(ClientGen),
    /// A merge patch of some fields (bits of the mask) of a user.
    UpdateUser(Index, UserGen, u8),
    UpdateRole(Index, RoleGen),
    UpdateClient(Index, ClientGen),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => user_gen().prop_map(Mutation::CreateUser),
        3 => any::<Index>().prop_map(Mutation::DeleteUser),
        3 => (any::<Index>(), user_gen()).prop_map(|(i, g)| Mutation::RecreateUser(i, g)),
        2 => any::<Index>().prop_map(Mutation::DeleteRole),
        1 => role_gen().prop_map(Mutation::CreateRole),
        1 => any::<Index>().prop_map(Mutation::DeleteClient),
        1 => client_gen().prop_map(Mutation::CreateClient),
        6 => (any::<Index>(), user_gen(), any::<u8>())
            .prop_map(|(i, g, mask)| Mutation::UpdateUser(i, g, mask)),
        1 => (any::<Index>(), role_gen()).prop_map(|(i, g)| Mutation::UpdateRole(i, g)),
        1 => (any::<Index>(), client_gen()).prop_map(|(i, g)| Mutation::UpdateClient(i, g)),
    ]
}

#[derive(Clone, Debug)]
pub struct Population {
    pub roles: Vec<RoleGen>,
    pub users: Vec<UserGen>,
    pub clients: Vec<ClientGen>,
}

pub fn population(max_users: usize) -> impl Strategy<Value = Population> {
    (
        prop::collection::vec(role_gen(), 0..7),
        prop::collection::vec(user_gen(), 0..=max_users),
        prop::collection::vec(client_gen(), 0..8),
    )
        .prop_map(|(roles, users, clients)| Population {
            roles,
            users,
            clients,
        })
}

// ---------------------------------------------------------------------------
// Generated queries: structure from proptest, literals resolved against the
// live documents (so that they often match).

/// A literal to resolve: a fixed one, or one derived from a document.
#[derive(Clone, Debug)]
pub enum GLit {
    Fixed(Index),
    Null,
    FromDoc {
        doc: Index,
        elem: Index,
        a: Index,
        b: Index,
        style: u8,
    },
}

#[derive(Clone, Debug)]
pub enum GKind {
    Cmp(Op, GLit),
    In(Vec<GLit>),
    Pr,
    IsNull,
}

#[derive(Clone, Debug)]
pub enum GExpr {
    Leaf {
        field: Index,
        kind: GKind,
        style: u8,
    },
    And(Vec<GExpr>, u8),
    Or(Vec<GExpr>, u8),
    Not(Box<GExpr>, u8),
}

pub fn glit() -> impl Strategy<Value = GLit> {
    prop_oneof![
        1 => any::<Index>().prop_map(GLit::Fixed),
        3 => (any::<Index>(), any::<Index>(), any::<Index>(), any::<Index>(), any::<u8>())
            .prop_map(|(doc, elem, a, b, style)| GLit::FromDoc { doc, elem, a, b, style }),
    ]
}

pub fn gkind() -> impl Strategy<Value = GKind> {
    prop_oneof![
        12 => (prop::sample::select(ALL_OPS.to_vec()), glit()).prop_map(|(op, l)| GKind::Cmp(op, l)),
        1 => prop::sample::select(vec![Op::Eq, Op::Ne]).prop_map(|op| GKind::Cmp(op, GLit::Null)),
        2 => prop::collection::vec(prop_oneof![8 => glit(), 1 => Just(GLit::Null)], 1..4)
            .prop_map(GKind::In),
        1 => Just(GKind::Pr),
        1 => Just(GKind::IsNull),
    ]
}

pub fn gleaf() -> impl Strategy<Value = GExpr> {
    (any::<Index>(), gkind(), any::<u8>()).prop_map(|(field, kind, style)| GExpr::Leaf {
        field,
        kind,
        style,
    })
}

pub fn gexpr() -> impl Strategy<Value = GExpr> {
    gleaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 2..4), any::<u8>())
                .prop_map(|(v, s)| GExpr::And(v, s)),
            (prop::collection::vec(inner.clone(), 2..3), any::<u8>())
                .prop_map(|(v, s)| GExpr::Or(v, s)),
            (inner, any::<u8>()).prop_map(|(e, s)| GExpr::Not(Box::new(e), s)),
        ]
    })
}

pub const SIZES: &[usize] = &[1, 2, 3, 5, 7, 10, 100, 1000];

pub fn gpaging() -> impl Strategy<Value = Paging> {
    let size = prop::sample::select(SIZES.to_vec());
    prop_oneof![
        1 => Just(Paging::Default),
        3 => (prop::option::weighted(0.7, 1u64..5), prop::option::weighted(0.9, size.clone()))
            .prop_map(|(p, s)| Paging::Page(p, s)),
        2 => (prop::option::weighted(0.9, 0u64..70), prop::option::weighted(0.9, size))
            .prop_map(|(o, l)| Paging::Offset(o, l)),
    ]
}

#[derive(Clone, Debug)]
pub struct GQuery {
    pub ent: Ent,
    pub filter: Option<GExpr>,
    pub search: Option<Vec<Index>>,
    pub sort: Vec<(Index, bool, u8)>,
    pub fields: Option<Vec<Index>>,
    pub paging: Paging,
    pub with_total: bool,
    /// How the query is handed over (front-end details, walk variants).
    pub style: u64,
}

pub fn gent() -> impl Strategy<Value = Ent> {
    prop_oneof![6 => Just(Ent::User), 1 => Just(Ent::Role), 1 => Just(Ent::Client)]
}

pub fn gquery() -> impl Strategy<Value = GQuery> {
    (
        gent(),
        prop::option::weighted(0.85, gexpr()),
        prop::option::weighted(0.2, prop::collection::vec(any::<Index>(), 1..3)),
        prop::collection::vec((any::<Index>(), any::<bool>(), any::<u8>()), 0..4),
        prop::option::weighted(0.3, prop::collection::vec(any::<Index>(), 1..4)),
        gpaging(),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(ent, filter, search, sort, fields, paging, with_total, style)| GQuery {
                ent,
                filter,
                search,
                sort,
                fields,
                paging,
                with_total,
                style,
            },
        )
}
