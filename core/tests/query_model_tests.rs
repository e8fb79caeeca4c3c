//! Differential property test of the query engine (SPEC §3, §13 "Queries").
//!
//! Random populations of users, roles and clients are created in a real
//! store; random queries are run through both front ends (an expression for
//! `Query::parse` and `and_where`, and the parameter pairs of
//! `Query::from_params`), and every result — ids in order, totals, counts,
//! `exists`, projected documents, `nextCursor`, and whole cursor walks — must
//! equal a naive full-scan evaluation written here, from the spec alone, on
//! the JSON documents (`serde_json::to_value(&doc)`).
//!
//! The oracle's rules (SPEC §3.3, §13):
//! - field names are case-insensitive (keys inside `attributes` are not);
//! - strings compare in their caseless form (`rosterdb::fold`, NFKC_Casefold,
//!   SPEC §2.5, tested on its own in `caseless.rs`) for `= != in like co sw
//!   ew` and for `< <= > >=`; timestamps compare as instants (a date is
//!   midnight UTC); numbers numerically; booleans `false < true`;
//! - `like`: `%` any run of characters, `_` one extended grapheme cluster
//!   of the folded value (starting where a cluster starts), `\` makes the
//!   next character literal; no unescaped wildcard means a substring match;
//! - arrays (`roles`, `permissions`, `ipAllowlist`, `externalIds.type`,
//!   `externalIds.value`, and arrays inside `attributes`): a test holds when
//!   some element satisfies it; `!=` means no element equals; `pr` / `is not
//!   null` mean non-empty and `is null` means empty;
//! - an absent field (an `attributes` key that is missing or JSON `null`) is
//!   null: `is null` / `pr` test presence, every other comparison is false;
//!   `= null` is `is null` and `!= null` is `is not null`;
//! - an `attributes` value compared with a literal of another JSON type is
//!   false, for `!=` too;
//! - `search`: every whitespace-separated term occurs, case-folded, in one of
//!   the kind's searchable fields;
//! - sort: default `id`; strings by folded then exact value; ascending puts
//!   absent first, `:desc` reverses the whole key; `attributes` values order
//!   null < false < true < numbers < strings; `id` ascending breaks ties;
//! - pages: `page`/`pageSize` (default 100), `offset`/`limit`, cursors;
//!   `total` only when asked; `nextCursor` exactly when more matches follow.
//!
//! Records change by merge patches (users, roles, clients), delete +
//! re-create, and cascading role deletes; queries are checked again after
//! such changes, and during cursor walks interleaved with writes.
//!
//! The tests:
//! - `queries_equal_the_naive_evaluation`: populations of up to 60 users (plus
//!   roles and clients), composite queries (and/or/not over every operator),
//!   search, 0–3 sort keys, projections, every paging style and a full cursor
//!   walk from the first page; then random changes, and the same queries again;
//! - `single_tests_equal_the_naive_evaluation`: many one-test queries per
//!   population, for operator × field-type × literal-shape coverage;
//! - `cursor_walks_survive_interleaved_writes`: every page after a cursor is
//!   the first matches after the last item returned, in the current state, and
//!   records unchanged during the walk appear exactly once, in order;
//! - `large_populations_equal_the_naive_evaluation`: 280–400 users, beyond the
//!   planner's "small" candidate limit, so that index streaming, index-ordered
//!   pages and index-key counts run; then a walk with writes;
//! - `cursors_continue_only_their_own_query` and
//!   `malformed_queries_are_invalid_query_errors`: the cursor rules of §13 and
//!   "no input may panic" (§9).
//!
//! Set `PROPTEST_CASES` for a longer run (e.g. `PROPTEST_CASES=5000 cargo test
//! --release -p rosterdb --test query_model_tests`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use rosterdb::{Argon2Params, NewClient, NewRole, NewUser, Options, Page, Query, Store};
use serde_json::{Map, Number, Value, json};

// ---------------------------------------------------------------------------
// The schema the oracle knows (SPEC §2).

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ent {
    User,
    Role,
    Client,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Str,
    /// `tenant`: an identifier, compared exactly (SPEC §2.5).
    Ident,
    Int,
    Bool,
    Ts,
    StrArr,
    IntArr,
    /// A path inside `attributes`: any JSON value.
    Json,
}

const USER_FIELDS: &[(&str, Ty)] = &[
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
    ("attributes.pct", Ty::Json),
    ("attributes.Dept", Ty::Json),
    ("attributes.missing", Ty::Json),
];

const ROLE_FIELDS: &[(&str, Ty)] = &[
    ("id", Ty::Int),
    ("name", Ty::Str),
    ("description", Ty::Str),
    ("permissions", Ty::StrArr),
    ("tenant", Ty::Ident),
    ("createdAt", Ty::Ts),
    ("updatedAt", Ty::Ts),
    ("version", Ty::Int),
];

const CLIENT_FIELDS: &[(&str, Ty)] = &[
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
const USER_SORT: &[&str] = &[
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
    "attributes.pct",
    "attributes.Dept",
];
const ROLE_SORT: &[&str] = &[
    "id",
    "name",
    "description",
    "tenant",
    "createdAt",
    "updatedAt",
    "version",
];
const CLIENT_SORT: &[&str] = &[
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

const USER_TOP: &[&str] = &[
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
const ROLE_TOP: &[&str] = &[
    "id",
    "name",
    "description",
    "permissions",
    "tenant",
    "createdAt",
    "updatedAt",
    "version",
];
const CLIENT_TOP: &[&str] = &[
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
    fn fields(self) -> &'static [(&'static str, Ty)] {
        match self {
            Ent::User => USER_FIELDS,
            Ent::Role => ROLE_FIELDS,
            Ent::Client => CLIENT_FIELDS,
        }
    }
    fn sortable(self) -> &'static [&'static str] {
        match self {
            Ent::User => USER_SORT,
            Ent::Role => ROLE_SORT,
            Ent::Client => CLIENT_SORT,
        }
    }
    fn top_level(self) -> &'static [&'static str] {
        match self {
            Ent::User => USER_TOP,
            Ent::Role => ROLE_TOP,
            Ent::Client => CLIENT_TOP,
        }
    }
    fn search_fields(self) -> &'static [&'static str] {
        match self {
            Ent::User => &["username", "email", "firstName", "lastName", "nickname"],
            Ent::Role => &["name", "description"],
            Ent::Client => &["name", "clientId", "description"],
        }
    }
    /// The fields filters pick from, `attributes` paths (users) twice as often.
    fn filter_choices(self) -> Vec<(&'static str, Ty)> {
        let mut all = self.fields().to_vec();
        all.extend(self.fields().iter().filter(|(_, ty)| *ty == Ty::Json));
        all
    }
    /// The keys sorts pick from: ones with ties, absent values or mixed types more often.
    fn sort_choices(self) -> Vec<&'static str> {
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
    fn ty(self, path: &str) -> Ty {
        self.fields()
            .iter()
            .find(|(name, _)| *name == path)
            .map_or(Ty::Json, |(_, ty)| *ty)
    }
}

// ---------------------------------------------------------------------------
// The oracle: a naive evaluator over JSON documents.

fn fold(s: &str) -> String {
    rosterdb::fold(s)
}

/// A literal of a resolved query.
#[derive(Clone, Debug, PartialEq)]
enum Lit {
    Str(String),
    Num(Number),
    Bool(bool),
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    Co,
    Sw,
    Ew,
}

const ORDER_OPS: [Op; 6] = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge];
const ALL_OPS: [Op; 10] = [
    Op::Eq,
    Op::Ne,
    Op::Lt,
    Op::Le,
    Op::Gt,
    Op::Ge,
    Op::Like,
    Op::Co,
    Op::Sw,
    Op::Ew,
];

/// A resolved filter: what the oracle evaluates and the printers print.
#[derive(Clone, Debug)]
enum Ex {
    And(Vec<Ex>, u8),
    Or(Vec<Ex>, u8),
    Not(Box<Ex>, u8),
    Cmp {
        path: &'static str,
        op: Op,
        lit: Lit,
        style: u8,
    },
    In {
        path: &'static str,
        lits: Vec<Lit>,
        style: u8,
    },
    Pr(&'static str, u8),
    IsNull(&'static str, u8),
}

/// The value(s) a path reaches in a document.
enum Got<'a> {
    Absent,
    One(&'a Value),
    Many(Vec<&'a Value>),
}

fn reach<'a>(doc: &'a Value, path: &str, ty: Ty) -> Got<'a> {
    match ty {
        Ty::StrArr | Ty::IntArr => {
            let items = match path.split_once('.') {
                Some((head, sub)) => doc
                    .get(head)
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(|o| o.get(sub)).collect())
                    .unwrap_or_default(),
                None => doc
                    .get(path)
                    .and_then(Value::as_array)
                    .map(|a| a.iter().collect())
                    .unwrap_or_default(),
            };
            Got::Many(items)
        }
        Ty::Json => {
            let mut cur = doc.get("attributes");
            for seg in path.split('.').skip(1) {
                cur = cur.and_then(Value::as_object).and_then(|m| m.get(seg));
            }
            match cur {
                None | Some(Value::Null) => Got::Absent,
                Some(Value::Array(a)) => Got::Many(a.iter().collect()),
                Some(v) => Got::One(v),
            }
        }
        _ => match doc.get(path) {
            None | Some(Value::Null) => Got::Absent,
            Some(v) => Got::One(v),
        },
    }
}

fn present(got: &Got) -> bool {
    match got {
        Got::Absent => false,
        Got::One(_) => true,
        Got::Many(items) => !items.is_empty(),
    }
}

fn num_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    let int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(a), int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// How a single value orders against a literal; `None` when they cannot be
/// compared (another type).
fn value_cmp(v: &Value, ty: Ty, lit: &Lit) -> Option<Ordering> {
    match (v, lit) {
        (Value::String(s), Lit::Str(l)) if ty == Ty::Ts => {
            Some(parse_ts(s).expect("stored timestamp").cmp(&parse_ts(l)?))
        }
        (Value::String(s), Lit::Str(l)) if ty == Ty::Ident => Some(s.cmp(l)),
        (Value::String(s), Lit::Str(l)) => Some(fold(s).cmp(&fold(l))),
        (Value::Number(a), Lit::Num(b)) => num_cmp(a, b),
        (Value::Bool(a), Lit::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn holds(v: &Value, ty: Ty, op: Op, lit: &Lit) -> bool {
    // Identifiers match case-sensitively: no folding on either side.
    let exact = ty == Ty::Ident;
    let f = |t: &str| if exact { t.to_owned() } else { fold(t) };
    let text = || match (v, lit) {
        (Value::String(s), Lit::Str(l)) if ty != Ty::Ts => Some((f(s), l.clone())),
        _ => None,
    };
    let ord = || value_cmp(v, ty, lit);
    match op {
        Op::Eq => ord() == Some(Ordering::Equal),
        Op::Ne => ord().is_some_and(|o| o != Ordering::Equal),
        Op::Lt => ord() == Some(Ordering::Less),
        Op::Le => matches!(ord(), Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => ord() == Some(Ordering::Greater),
        Op::Ge => matches!(ord(), Some(Ordering::Greater | Ordering::Equal)),
        Op::Like => text().is_some_and(|(s, p)| like(&s, &p, !exact)),
        Op::Co => text().is_some_and(|(s, p)| s.contains(&f(&p))),
        Op::Sw => text().is_some_and(|(s, p)| s.starts_with(&f(&p))),
        Op::Ew => text().is_some_and(|(s, p)| s.ends_with(&f(&p))),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok {
    Ch(char),
    One,
    Any,
}

/// SQL-style `like` of a pattern as written on already case-folded text
/// (when `folded`; else on exact text with the pattern as written).
///
/// The pattern's escapes are read first; each run of literal characters is
/// then case-folded as a whole (so that folding sees the text the pattern
/// stands for, not its `\`). `_` takes one whole extended grapheme cluster
/// of the text, so it can only stand where a cluster starts.
fn like(text: &str, pattern: &str, folded: bool) -> bool {
    let mut toks = Vec::new();
    let mut run = String::new();
    let mut chars = pattern.chars();
    let flush = |run: &mut String, toks: &mut Vec<Tok>| {
        let run_text = if folded { fold(run) } else { run.clone() };
        toks.extend(run_text.chars().map(Tok::Ch));
        run.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '%' | '_' => {
                flush(&mut run, &mut toks);
                toks.push(if c == '%' { Tok::Any } else { Tok::One });
            }
            '\\' => run.push(chars.next().unwrap_or('\\')),
            c => run.push(c),
        }
    }
    flush(&mut run, &mut toks);
    let chars: Vec<char> = text.chars().collect();
    if toks.iter().all(|t| matches!(t, Tok::Ch(_))) {
        let lit: Vec<char> = toks
            .iter()
            .map(|t| match t {
                Tok::Ch(c) => *c,
                _ => unreachable!(),
            })
            .collect();
        return lit.is_empty() || chars.windows(lit.len()).any(|w| w == lit.as_slice());
    }
    // Where each cluster starting at a character position ends.
    let mut cluster_end = BTreeMap::new();
    let mut at = 0;
    for g in unicode_segmentation::UnicodeSegmentation::graphemes(text, true) {
        let n = g.chars().count();
        cluster_end.insert(at, at + n);
        at += n;
    }
    // reach[i][j]: the first i characters match the first j tokens.
    let (n, m) = (chars.len(), toks.len());
    let mut reach = vec![vec![false; m + 1]; n + 1];
    reach[0][0] = true;
    for i in 0..=n {
        for j in 0..m {
            if reach[i][j] && toks[j] == Tok::Any {
                reach[i][j + 1] = true;
            }
        }
        for j in 0..m {
            if !reach[i][j] {
                continue;
            }
            match toks[j] {
                Tok::Any if i < n => reach[i + 1][j] = true,
                Tok::Ch(c) if i < n && chars[i] == c => reach[i + 1][j + 1] = true,
                Tok::One => {
                    if let Some(&end) = cluster_end.get(&i) {
                        reach[end][j + 1] = true;
                    }
                }
                _ => {}
            }
        }
    }
    reach[n][m]
}

fn eval(ent: Ent, doc: &Value, ex: &Ex) -> bool {
    match ex {
        Ex::And(parts, _) => parts.iter().all(|p| eval(ent, doc, p)),
        Ex::Or(parts, _) => parts.iter().any(|p| eval(ent, doc, p)),
        Ex::Not(inner, _) => !eval(ent, doc, inner),
        Ex::Pr(path, _) => present(&reach(doc, path, ent.ty(path))),
        Ex::IsNull(path, _) => !present(&reach(doc, path, ent.ty(path))),
        Ex::Cmp {
            path,
            op,
            lit: Lit::Null,
            ..
        } => {
            let p = present(&reach(doc, path, ent.ty(path)));
            match op {
                Op::Eq => !p,
                Op::Ne => p,
                _ => unreachable!("null is only compared with = and !="),
            }
        }
        Ex::Cmp { path, op, lit, .. } => {
            let ty = ent.ty(path);
            match reach(doc, path, ty) {
                Got::Absent => false,
                Got::One(v) => holds(v, ty, *op, lit),
                Got::Many(items) if *op == Op::Ne => {
                    !items.iter().any(|v| holds(v, ty, Op::Eq, lit))
                }
                Got::Many(items) => items.iter().any(|v| holds(v, ty, *op, lit)),
            }
        }
        // `in` is `=` with any of the values, and `= null` is `is null`.
        Ex::In { path, lits, .. } => {
            let ty = ent.ty(path);
            let got = reach(doc, path, ty);
            let eq = |v: &Value| lits.iter().any(|l| holds(v, ty, Op::Eq, l));
            let any = match &got {
                Got::Absent => false,
                Got::One(v) => eq(v),
                Got::Many(items) => items.iter().any(|v| eq(v)),
            };
            any || (lits.contains(&Lit::Null) && !present(&got))
        }
    }
}

fn search_matches(ent: Ent, doc: &Value, text: &str) -> bool {
    text.split_whitespace().all(|term| {
        let term = fold(term);
        ent.search_fields().iter().any(|f| {
            doc.get(*f)
                .and_then(Value::as_str)
                .is_some_and(|s| fold(s).contains(&term))
        })
    })
}

/// One component of a sort key, comparable across documents.
#[derive(Clone, Debug, PartialEq)]
enum SortVal {
    /// Absent, or an `attributes` null.
    Null,
    Bool(bool),
    Num(Number),
    Ts(i128),
    Str(String),
    /// An identifier: ordered exactly, by code points.
    Ident(String),
}

impl SortVal {
    fn rank(&self) -> u8 {
        match self {
            SortVal::Null => 0,
            SortVal::Bool(_) => 1,
            SortVal::Num(_) | SortVal::Ts(_) => 2,
            SortVal::Str(_) | SortVal::Ident(_) => 3,
        }
    }
    fn cmp(&self, other: &SortVal) -> Ordering {
        match (self, other) {
            (SortVal::Bool(a), SortVal::Bool(b)) => a.cmp(b),
            (SortVal::Num(a), SortVal::Num(b)) => num_cmp(a, b).unwrap_or(Ordering::Equal),
            (SortVal::Ts(a), SortVal::Ts(b)) => a.cmp(b),
            (SortVal::Str(a), SortVal::Str(b)) => fold(a).cmp(&fold(b)).then_with(|| a.cmp(b)),
            (SortVal::Ident(a), SortVal::Ident(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

fn sort_val(ent: Ent, doc: &Value, path: &str) -> SortVal {
    let ty = ent.ty(path);
    match reach(doc, path, ty) {
        Got::Absent => SortVal::Null,
        Got::One(Value::String(s)) if ty == Ty::Ts => {
            SortVal::Ts(parse_ts(s).expect("stored timestamp"))
        }
        Got::One(Value::String(s)) if ty == Ty::Ident => SortVal::Ident(s.clone()),
        Got::One(Value::String(s)) => SortVal::Str(s.clone()),
        Got::One(Value::Number(n)) => SortVal::Num(n.clone()),
        Got::One(Value::Bool(b)) => SortVal::Bool(*b),
        Got::One(other) => panic!("{path} is not scalar in {other}"),
        Got::Many(_) => panic!("{path} is an array in {doc}"),
    }
}

/// A document's full sort position: its key values and its id.
#[derive(Clone, Debug)]
struct Pos {
    key: Vec<SortVal>,
    id: u64,
}

fn position(ent: Ent, doc: &Value, sort: &[SortKey]) -> Pos {
    Pos {
        key: sort.iter().map(|k| sort_val(ent, doc, k.path)).collect(),
        id: id_of(doc),
    }
}

fn pos_cmp(a: &Pos, b: &Pos, sort: &[SortKey]) -> Ordering {
    for (i, k) in sort.iter().enumerate() {
        let o = a.key[i].cmp(&b.key[i]);
        let o = if k.desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.id.cmp(&b.id)
}

fn id_of(doc: &Value) -> u64 {
    doc["id"].as_u64().expect("documents have ids")
}

/// What the oracle knows about the store: every live document.
#[derive(Clone, Debug, Default)]
struct Model {
    docs: BTreeMap<Ent, BTreeMap<u64, Value>>,
}

impl Model {
    fn docs(&self, ent: Ent) -> Vec<&Value> {
        self.docs
            .get(&ent)
            .map(|m| m.values().collect())
            .unwrap_or_default()
    }

    /// Every match of `q`, in sort order.
    fn matches(&self, ent: Ent, q: &Q) -> Vec<Value> {
        let mut found: Vec<(Pos, Value)> = self
            .docs(ent)
            .into_iter()
            .filter(|d| q.filter.as_ref().is_none_or(|f| eval(ent, d, f)))
            .filter(|d| q.search.as_ref().is_none_or(|s| search_matches(ent, d, s)))
            .map(|d| (position(ent, d, &q.sort), d.clone()))
            .collect();
        found.sort_by(|a, b| pos_cmp(&a.0, &b.0, &q.sort));
        found.into_iter().map(|(_, d)| d).collect()
    }
}

// ---------------------------------------------------------------------------
// Timestamps, written independently of the store's own code.

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

const NANOS_PER_SEC: i128 = 1_000_000_000;
const NANOS_PER_DAY: i128 = 86_400 * NANOS_PER_SEC;

/// Nanoseconds since the epoch of `YYYY-MM-DD` (midnight UTC) or an RFC 3339
/// timestamp (`YYYY-MM-DDTHH:MM:SS[.f]` and `Z` or `±HH:MM`).
fn parse_ts(s: &str) -> Option<i128> {
    let num = |t: &str| -> Option<i64> {
        t.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| t.parse().ok())
            .flatten()
    };
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let days = days_from_civil(num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?);
    let mut nanos = i128::from(days) * NANOS_PER_DAY;
    if b.len() == 10 {
        return Some(nanos);
    }
    if b.len() < 20 || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let secs = num(&s[11..13])? * 3600 + num(&s[14..16])? * 60 + num(&s[17..19])?;
    nanos += i128::from(secs) * NANOS_PER_SEC;
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        let value: i128 = frac[..digits].parse().ok()?;
        nanos += value * 10i128.pow(9 - digits as u32);
        rest = &frac[digits..];
    }
    match rest {
        "Z" | "z" => Some(nanos),
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let offset = num(&rest[1..3])? * 3600 + num(&rest[4..6])? * 60;
            Some(nanos - i128::from(sign * offset) * NANOS_PER_SEC)
        }
        _ => None,
    }
}

/// Prints an instant in one of several equivalent or nearby RFC 3339 forms.
fn format_ts(nanos: i128, form: u8) -> String {
    let (offset_secs, suffix) = match form % 6 {
        1 => (7200, "+02:00".to_owned()),
        2 => (-19800, "-05:30".to_owned()),
        _ => (0, "Z".to_owned()),
    };
    let local = nanos + i128::from(offset_secs) * NANOS_PER_SEC;
    let days = local.div_euclid(NANOS_PER_DAY);
    let in_day = local.rem_euclid(NANOS_PER_DAY);
    let (y, m, d) = civil_from_days(i64::try_from(days).expect("a sane date"));
    let date = format!("{y:04}-{m:02}-{d:02}");
    if form % 6 == 4 {
        return date;
    }
    let secs = in_day / NANOS_PER_SEC;
    let frac = in_day % NANOS_PER_SEC;
    let clock = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    let frac = match form % 6 {
        5 if frac == 0 => String::new(),
        3 => format!(".{frac:09}"),
        _ if frac % 1_000_000 == 0 => format!(".{:03}", frac / 1_000_000),
        _ => format!(".{frac:09}"),
    };
    format!("{date}T{clock}{frac}{suffix}")
}

// ---------------------------------------------------------------------------
// Populations.

/// `T1` and `t1` are different tenants (SPEC §2.5): exact comparisons show.
const TENANTS: &[Option<&str>] = &[None, Some("t1"), Some("t2"), Some("T1")];
const USERNAMES: &[&str] = &[
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
const EMAIL_LOCALS: &[&str] = &[
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
const EMAIL_DOMAINS: &[&str] = &["x.io", "Example.COM", "ex.org"];
const FIRST_NAMES: &[&str] = &[
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
const LAST_NAMES: &[&str] = &[
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
const NICKNAMES: &[&str] = &[
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
const PHONES: &[&str] = &["+1 555 0100", "+44 20 7946 0000", "555"];
const EXTERNAL_IDS: &[(&str, &str)] = &[
    ("github", "1"),
    ("GitHub", "2"),
    ("ldap", "Ann"),
    ("ldap", "uid=bob"),
    ("sso", "x_y"),
    ("sso", "Zoë"),
];
const DEPTS: &[&str] = &["sales", "Sales", "R&D", "eng", "ENG", "zoë", "10", ""];
const RANKS: &[&str] = &[
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
const TAGS: &[&str] = &["a", "B", "vip", "VIP", "x%y"];
const CITIES: &[&str] = &["Paris", "paris", "Zürich", "Oslo"];
const PCTS: &[&str] = &["50%", "a_b", "c\\d", "100", "5%0", "ab"];
const PASSWORD_HASH: &str = "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Wz0VCgo2fMbt9uy1X4vLZg";
const ROLE_NAMES: &[&str] = &["admin", "Admin", "ops", "Straße", "ΟΔΟΣ", "viewer", "zeta"];
const DESCRIPTIONS: &[&str] = &[
    "",
    "Full access",
    "read only",
    "Ops team",
    "zoë's",
    "50% off",
];
const PERMISSIONS: &[&str] = &["users:read", "users:write", "*", "a.b-c_d", "Users:Read"];
const CLIENT_NAMES: &[&str] = &["billing", "Billing", "sync", "ETL job", "Zoë app"];
const IPS: &[&str] = &["10.0.0.0/8", "192.168.1.1", "::1"];

#[derive(Clone, Debug)]
struct UserGen {
    username: Index,
    email: (Index, Index),
    first: Index,
    last: Index,
    nickname: Option<Index>,
    phone: Option<Index>,
    mobile: Option<Index>,
    tenant: Index,
    enabled: bool,
    roles: Vec<Index>,
    external: Vec<Index>,
    /// dept, rank, tags, office, pct (each optional / varied).
    attrs: [Option<Index>; 5],
    password: bool,
}

#[derive(Clone, Debug)]
struct RoleGen {
    name: Index,
    description: Option<Index>,
    permissions: Vec<Index>,
    tenant: Index,
}

#[derive(Clone, Debug)]
struct ClientGen {
    name: Index,
    description: Option<Index>,
    tenant: Index,
    enabled: bool,
    roles: Vec<Index>,
    ips: Vec<Index>,
}

fn user_gen() -> impl Strategy<Value = UserGen> {
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

fn role_gen() -> impl Strategy<Value = RoleGen> {
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

fn client_gen() -> impl Strategy<Value = ClientGen> {
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

fn pick<'a, T>(pool: &'a [T], i: &Index) -> &'a T {
    i.get(pool)
}

/// A live store plus the bookkeeping needed to build valid documents.
struct World {
    store: Store,
    model: Model,
    /// Bumped per generated user, to make clashing names unique.
    serial: usize,
}

fn tenant_key(t: Option<&str>) -> String {
    t.unwrap_or("").to_owned()
}

/// The keys a user document holds that must be unique per tenant.
fn unique_keys(doc: &Value) -> Vec<(String, String)> {
    let tk = tenant_key(doc.get("tenant").and_then(Value::as_str));
    let text = |k: &str| fold(doc[k].as_str().unwrap_or_default());
    let mut keys = vec![
        (tk.clone(), format!("u:{}", text("username"))),
        (tk.clone(), format!("e:{}", text("email"))),
    ];
    for x in doc["externalIds"].as_array().into_iter().flatten() {
        let part = |k: &str| fold(x[k].as_str().unwrap_or_default());
        keys.push((
            tk.clone(),
            format!("x:{}\u{0}{}", part("type"), part("value")),
        ));
    }
    keys
}

/// The value of one of the generated `attributes` keys: dept, rank, tags,
/// office or pct (slot 0–4).
fn attr_value(slot: usize, i: &Index) -> (&'static str, Value) {
    match slot {
        0 => ("dept", json!(pick(DEPTS, i))),
        1 => (
            "rank",
            serde_json::from_str(RANKS[i.index(RANKS.len())]).expect("rank literal"),
        ),
        2 => {
            let k = i.index(TAGS.len() + 3);
            let value = match k {
                0 => json!([]),
                1 => json!("vip"),
                2 => json!([1, 2]),
                _ => json!(
                    TAGS[..(k - 3) % TAGS.len() + 1]
                        .iter()
                        .skip((k - 3) % 2)
                        .collect::<Vec<_>>()
                ),
            };
            ("tags", value)
        }
        3 => {
            let k = i.index(8);
            let value = match k {
                0 => json!("remote"),
                1 => Value::Null,
                2 => json!({}),
                _ => json!({"floor": k as i64 - 4, "city": CITIES[k % CITIES.len()]}),
            };
            ("office", value)
        }
        _ => ("pct", json!(pick(PCTS, i))),
    }
}

impl World {
    fn new() -> World {
        let store = Store::memory_with(Options::default().with_argon2(Argon2Params {
            memory_kib: 8,
            iterations: 1,
            parallelism: 1,
        }))
        .expect("memory store");
        World {
            store,
            model: Model::default(),
            serial: 0,
        }
    }

    fn live(&self, ent: Ent) -> Vec<u64> {
        self.model
            .docs
            .get(&ent)
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default()
    }

    fn roles_in(&self, tenant: Option<&str>) -> Vec<u64> {
        self.model
            .docs
            .get(&Ent::Role)
            .map(|m| {
                m.values()
                    .filter(|r| r.get("tenant").and_then(Value::as_str) == tenant)
                    .map(id_of)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The unique keys the live users hold: (tenant, kind:folded value).
    fn used(&self) -> HashSet<(String, String)> {
        self.model
            .docs(Ent::User)
            .into_iter()
            .flat_map(unique_keys)
            .collect()
    }

    fn record(&mut self, ent: Ent, doc: Value) {
        self.model
            .docs
            .entry(ent)
            .or_default()
            .insert(id_of(&doc), doc);
    }

    fn create_role(&mut self, g: &RoleGen) {
        self.serial += 1;
        let tenant = *pick(TENANTS, &g.tenant);
        let mut name = (*pick(ROLE_NAMES, &g.name)).to_owned();
        let clash = self.model.docs(Ent::Role).iter().any(|r| {
            r.get("tenant").and_then(Value::as_str) == tenant
                && fold(r["name"].as_str().unwrap_or_default()) == fold(&name)
        });
        if clash {
            name = format!("{name}{}", self.serial);
        }
        let mut doc = json!({"name": name});
        if let Some(d) = &g.description {
            doc["description"] = json!(pick(DESCRIPTIONS, d));
        }
        let perms: Vec<&str> = g
            .permissions
            .iter()
            .map(|i| *pick(PERMISSIONS, i))
            .collect();
        doc["permissions"] = json!(perms);
        if let Some(t) = tenant {
            doc["tenant"] = json!(t);
        }
        let new = NewRole::from_json(&doc).expect("valid role");
        let role = self.store.roles().create(new).expect("role created");
        self.record(Ent::Role, serde_json::to_value(&role).expect("json"));
    }

    /// A valid user document for `g` (its username, email and external ids
    /// made unique against `used`) and the unique keys it takes.
    fn user_doc(
        &mut self,
        g: &UserGen,
        used: &HashSet<(String, String)>,
    ) -> (Value, Vec<(String, String)>) {
        self.serial += 1;
        let n = self.serial;
        let tenant = *pick(TENANTS, &g.tenant);
        let tk = tenant_key(tenant);
        let free = |kind: &str, text: &str| {
            !used.contains(&(tk.clone(), format!("{kind}:{}", fold(text))))
        };
        let base = *pick(USERNAMES, &g.username);
        let username = [
            base.to_owned(),
            format!("{base}{n}"),
            format!("{base}.{n}.{n}"),
        ]
        .into_iter()
        .find(|u| free("u", u))
        .expect("a free username");
        let (local, domain) = (
            pick(EMAIL_LOCALS, &g.email.0),
            pick(EMAIL_DOMAINS, &g.email.1),
        );
        let email = [
            format!("{local}@{domain}"),
            format!("{local}{n}@{domain}"),
            format!("{local}.{n}.{n}@{domain}"),
        ]
        .into_iter()
        .find(|e| free("e", e))
        .expect("a free email");
        let mut doc = json!({
            "username": username,
            "email": email,
            "firstName": pick(FIRST_NAMES, &g.first),
            "lastName": pick(LAST_NAMES, &g.last),
            "enabled": g.enabled,
        });
        let mut keys = vec![
            (tk.clone(), format!("u:{}", fold(&username))),
            (tk.clone(), format!("e:{}", fold(&email))),
        ];
        if let Some(i) = &g.nickname {
            doc["nickname"] = json!(pick(NICKNAMES, i));
        }
        if let Some(i) = &g.phone {
            doc["telephoneNumber"] = json!(pick(PHONES, i));
        }
        if let Some(i) = &g.mobile {
            doc["mobileNumber"] = json!(pick(PHONES, i));
        }
        if let Some(t) = tenant {
            doc["tenant"] = json!(t);
        }
        let roles = self.roles_in(tenant);
        if !roles.is_empty() {
            let chosen: BTreeSet<u64> = g.roles.iter().map(|i| *pick(&roles, i)).collect();
            doc["roles"] = json!(chosen);
        }
        let mut ext = Vec::new();
        for i in &g.external {
            let (ty, value) = pick(EXTERNAL_IDS, i);
            let key = (tk.clone(), format!("x:{}\u{0}{}", fold(ty), fold(value)));
            if !used.contains(&key) && !keys.contains(&key) {
                keys.push(key);
                ext.push(json!({"type": ty, "value": value}));
            }
        }
        if !ext.is_empty() || n.is_multiple_of(2) {
            doc["externalIds"] = json!(ext);
        }
        let mut attrs = Map::new();
        for (slot, choice) in g.attrs.iter().enumerate() {
            if let Some(i) = choice {
                let (key, value) = attr_value(slot, i);
                attrs.insert(key.into(), value);
            }
        }
        if !attrs.is_empty() || n.is_multiple_of(3) {
            doc["attributes"] = Value::Object(attrs);
        }
        if g.password {
            doc["passwordHash"] = json!(PASSWORD_HASH);
        }
        (doc, keys)
    }

    fn create_user(&mut self, g: &UserGen) -> u64 {
        let used = self.used();
        let (doc, _) = self.user_doc(g, &used);
        let new = NewUser::from_json(&doc).unwrap_or_else(|e| panic!("{doc}: {e:?}"));
        let user = self
            .store
            .users()
            .create(new)
            .unwrap_or_else(|e| panic!("{doc}: {e:?}"));
        self.record(Ent::User, serde_json::to_value(&user).expect("json"));
        user.id
    }

    /// Creates many users in one transaction (much faster than one each).
    fn create_users_bulk(&mut self, gens: &[UserGen]) {
        let mut used = self.used();
        let mut docs = Vec::new();
        for g in gens {
            let (doc, keys) = self.user_doc(g, &used);
            used.extend(keys.iter().cloned());
            docs.push((doc, keys));
        }
        let users = self
            .store
            .write(|tx| {
                docs.iter()
                    .map(|(doc, _)| tx.users().create(NewUser::from_json(doc)?))
                    .collect::<rosterdb::Result<Vec<_>>>()
            })
            .expect("users created");
        for user in users {
            self.record(Ent::User, serde_json::to_value(&user).expect("json"));
        }
    }

    fn create_client(&mut self, g: &ClientGen) {
        let tenant = *pick(TENANTS, &g.tenant);
        let mut doc = json!({"name": pick(CLIENT_NAMES, &g.name), "enabled": g.enabled});
        if let Some(d) = &g.description {
            doc["description"] = json!(pick(DESCRIPTIONS, d));
        }
        if let Some(t) = tenant {
            doc["tenant"] = json!(t);
        }
        let roles = self.roles_in(tenant);
        if !roles.is_empty() {
            let chosen: BTreeSet<u64> = g.roles.iter().map(|i| *pick(&roles, i)).collect();
            doc["roles"] = json!(chosen);
        }
        let ips: BTreeSet<&str> = g.ips.iter().map(|i| *pick(IPS, i)).collect();
        doc["ipAllowlist"] = json!(ips);
        let new = NewClient::from_json(&doc).expect("valid client");
        let created = self.store.clients().create(new).expect("client created");
        self.record(
            Ent::Client,
            serde_json::to_value(&created.client).expect("json"),
        );
    }

    fn delete_user(&mut self, id: u64) {
        self.store.users().delete(id).expect("user deleted");
        self.model.docs.entry(Ent::User).or_default().remove(&id);
    }

    /// Changes some fields of a user with a merge patch (SPEC §4); a
    /// refused change (a username taken) leaves it as it was.
    fn update_user(&mut self, id: u64, g: &UserGen, mask: u8) {
        let tenant = self.model.docs[&Ent::User][&id]
            .get("tenant")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut partial = Map::new();
        let mut set = |bit: u8, key: &str, value: Value| {
            if mask & bit != 0 {
                partial.insert(key.to_owned(), value);
            }
        };
        set(1, "firstName", json!(pick(FIRST_NAMES, &g.first)));
        set(2, "lastName", json!(pick(LAST_NAMES, &g.last)));
        set(
            4,
            "nickname",
            g.nickname
                .as_ref()
                .map_or(Value::Null, |i| json!(pick(NICKNAMES, i))),
        );
        set(8, "enabled", json!(g.enabled));
        let mut attrs = Map::new();
        for (slot, choice) in g.attrs.iter().enumerate() {
            match choice {
                Some(i) => {
                    let (key, value) = attr_value(slot, i);
                    attrs.insert(key.into(), value);
                }
                // Removes the key (a merge patch's null).
                None if slot % 2 == 0 => {
                    attrs.insert(attr_value(slot, &g.first).0.into(), Value::Null);
                }
                None => {}
            }
        }
        set(16, "attributes", Value::Object(attrs));
        let roles = self.roles_in(tenant.as_deref());
        let chosen: BTreeSet<u64> = if roles.is_empty() {
            BTreeSet::new()
        } else {
            g.roles.iter().map(|i| *pick(&roles, i)).collect()
        };
        set(32, "roles", json!(chosen));
        set(
            64,
            "telephoneNumber",
            g.phone
                .as_ref()
                .map_or(Value::Null, |i| json!(pick(PHONES, i))),
        );
        if mask & 0xC0 == 0xC0 {
            // Sometimes taken already: a Conflict, and nothing changes.
            partial.insert("username".into(), json!(pick(USERNAMES, &g.username)));
        }
        if partial.is_empty() {
            partial.insert("lastName".into(), json!(pick(LAST_NAMES, &g.last)));
        }
        let partial = Value::Object(partial);
        match self.store.users().merge(id, &partial, None) {
            Ok(user) => self.record(Ent::User, serde_json::to_value(&user).expect("json")),
            Err(rosterdb::Error::Conflict { .. }) => {}
            Err(e) => panic!("merge {partial} into user {id}: {e:?}"),
        }
    }

    fn update_role(&mut self, id: u64, g: &RoleGen) {
        let perms: BTreeSet<&str> = g
            .permissions
            .iter()
            .map(|i| *pick(PERMISSIONS, i))
            .collect();
        let mut partial = json!({
            "description": g.description.as_ref().map_or(Value::Null, |d| json!(pick(DESCRIPTIONS, d))),
            "permissions": perms,
        });
        if g.name.index(3) == 0 {
            partial["name"] = json!(pick(ROLE_NAMES, &g.name));
        }
        match self.store.roles().merge(id, &partial, None) {
            Ok(role) => self.record(Ent::Role, serde_json::to_value(&role).expect("json")),
            Err(rosterdb::Error::Conflict { .. }) => {}
            Err(e) => panic!("merge {partial} into role {id}: {e:?}"),
        }
    }

    fn update_client(&mut self, id: u64, g: &ClientGen) {
        let ips: BTreeSet<&str> = g.ips.iter().map(|i| *pick(IPS, i)).collect();
        let partial = json!({
            "name": pick(CLIENT_NAMES, &g.name),
            "enabled": g.enabled,
            "description": g.description.as_ref().map_or(Value::Null, |d| json!(pick(DESCRIPTIONS, d))),
            "ipAllowlist": ips,
        });
        let client = self
            .store
            .clients()
            .merge(id, &partial, None)
            .unwrap_or_else(|e| panic!("merge {partial} into client {id}: {e:?}"));
        self.record(Ent::Client, serde_json::to_value(&client).expect("json"));
    }

    fn delete_client(&mut self, id: u64) {
        self.store.clients().delete(id).expect("client deleted");
        self.model.docs.entry(Ent::Client).or_default().remove(&id);
    }

    fn delete_role(&mut self, id: u64) {
        self.store.roles().delete(id, true).expect("role deleted");
        self.model.docs.entry(Ent::Role).or_default().remove(&id);
        self.refresh();
    }

    /// Re-reads every live document (a cascade changes its holders).
    fn refresh(&mut self) {
        for id in self.live(Ent::User) {
            let doc = serde_json::to_value(self.store.users().get(id).expect("live user"));
            self.record(Ent::User, doc.expect("json"));
        }
        for id in self.live(Ent::Client) {
            let doc = serde_json::to_value(self.store.clients().get(id).expect("live client"));
            self.record(Ent::Client, doc.expect("json"));
        }
    }

    fn apply(&mut self, m: &Mutation) {
        match m {
            Mutation::CreateUser(g) => {
                self.create_user(g);
            }
            Mutation::DeleteUser(i) => {
                let live = self.live(Ent::User);
                if !live.is_empty() {
                    self.delete_user(*pick(&live, i));
                }
            }
            Mutation::RecreateUser(i, g) => {
                let live = self.live(Ent::User);
                if !live.is_empty() {
                    self.delete_user(*pick(&live, i));
                    self.create_user(g);
                }
            }
            Mutation::DeleteRole(i) => {
                let live = self.live(Ent::Role);
                if !live.is_empty() {
                    self.delete_role(*pick(&live, i));
                }
            }
            Mutation::CreateRole(g) => self.create_role(g),
            Mutation::DeleteClient(i) => {
                let live = self.live(Ent::Client);
                if !live.is_empty() {
                    self.delete_client(*pick(&live, i));
                }
            }
            Mutation::CreateClient(g) => self.create_client(g),
            Mutation::UpdateUser(i, g, mask) => {
                let live = self.live(Ent::User);
                if !live.is_empty() {
                    self.update_user(*pick(&live, i), g, *mask);
                }
            }
            Mutation::UpdateRole(i, g) => {
                let live = self.live(Ent::Role);
                if !live.is_empty() {
                    self.update_role(*pick(&live, i), g);
                }
            }
            Mutation::UpdateClient(i, g) => {
                let live = self.live(Ent::Client);
                if !live.is_empty() {
                    self.update_client(*pick(&live, i), g);
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Mutation {
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

fn mutation() -> impl Strategy<Value = Mutation> {
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
struct Population {
    roles: Vec<RoleGen>,
    users: Vec<UserGen>,
    clients: Vec<ClientGen>,
}

fn population(max_users: usize) -> impl Strategy<Value = Population> {
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

fn build(p: &Population) -> World {
    let mut w = World::new();
    for g in &p.roles {
        w.create_role(g);
    }
    if p.users.len().is_multiple_of(2) {
        w.create_users_bulk(&p.users);
    } else {
        for g in &p.users {
            w.create_user(g);
        }
    }
    for g in &p.clients {
        w.create_client(g);
    }
    w
}

// ---------------------------------------------------------------------------
// Generated queries: structure from proptest, literals resolved against the
// live documents (so that they often match).

/// A literal to resolve: a fixed one, or one derived from a document.
#[derive(Clone, Debug)]
enum GLit {
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
enum GKind {
    Cmp(Op, GLit),
    In(Vec<GLit>),
    Pr,
    IsNull,
}

#[derive(Clone, Debug)]
enum GExpr {
    Leaf {
        field: Index,
        kind: GKind,
        style: u8,
    },
    And(Vec<GExpr>, u8),
    Or(Vec<GExpr>, u8),
    Not(Box<GExpr>, u8),
}

fn glit() -> impl Strategy<Value = GLit> {
    prop_oneof![
        1 => any::<Index>().prop_map(GLit::Fixed),
        3 => (any::<Index>(), any::<Index>(), any::<Index>(), any::<Index>(), any::<u8>())
            .prop_map(|(doc, elem, a, b, style)| GLit::FromDoc { doc, elem, a, b, style }),
    ]
}

fn gkind() -> impl Strategy<Value = GKind> {
    prop_oneof![
        12 => (prop::sample::select(ALL_OPS.to_vec()), glit()).prop_map(|(op, l)| GKind::Cmp(op, l)),
        1 => prop::sample::select(vec![Op::Eq, Op::Ne]).prop_map(|op| GKind::Cmp(op, GLit::Null)),
        2 => prop::collection::vec(prop_oneof![8 => glit(), 1 => Just(GLit::Null)], 1..4)
            .prop_map(GKind::In),
        1 => Just(GKind::Pr),
        1 => Just(GKind::IsNull),
    ]
}

fn gleaf() -> impl Strategy<Value = GExpr> {
    (any::<Index>(), gkind(), any::<u8>()).prop_map(|(field, kind, style)| GExpr::Leaf {
        field,
        kind,
        style,
    })
}

fn gexpr() -> impl Strategy<Value = GExpr> {
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

const SIZES: &[usize] = &[1, 2, 3, 5, 7, 10, 100, 1000];

fn gpaging() -> impl Strategy<Value = Paging> {
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
struct GQuery {
    ent: Ent,
    filter: Option<GExpr>,
    search: Option<Vec<Index>>,
    sort: Vec<(Index, bool, u8)>,
    fields: Option<Vec<Index>>,
    paging: Paging,
    with_total: bool,
    /// How the query is handed over (front-end details, walk variants).
    style: u64,
}

fn gent() -> impl Strategy<Value = Ent> {
    prop_oneof![6 => Just(Ent::User), 1 => Just(Ent::Role), 1 => Just(Ent::Client)]
}

fn gquery() -> impl Strategy<Value = GQuery> {
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

/// A resolved query.
#[derive(Clone, Debug)]
struct Q {
    ent: Ent,
    filter: Option<Ex>,
    search: Option<String>,
    sort: Vec<SortKey>,
    fields: Option<Vec<&'static str>>,
    paging: Paging,
    with_total: bool,
    style: u64,
}

#[derive(Clone, Debug)]
struct SortKey {
    path: &'static str,
    desc: bool,
    style: u8,
}

/// The page a query asks for (`None`: the parameter is left out).
#[derive(Clone, Copy, Debug)]
enum Paging {
    Default,
    Page(Option<u64>, Option<usize>),
    Offset(Option<u64>, Option<usize>),
}

impl Paging {
    /// (offset, size) of the page asked for.
    fn window(self) -> (usize, usize) {
        match self {
            Paging::Default => (0, 100),
            Paging::Page(p, s) => {
                let s = s.unwrap_or(100);
                ((p.unwrap_or(1) as usize - 1) * s, s)
            }
            Paging::Offset(o, l) => (o.unwrap_or(0) as usize, l.unwrap_or(100)),
        }
    }
}

const SEARCH_TERMS: &[&str] = &[
    "ann",
    "ANN",
    "zo",
    "Ë",
    "lo",
    "x.io",
    "example",
    "@",
    "straße",
    "o'b",
    "%",
    "_",
    "nic",
    "ops",
    "Team",
    "bill",
    "rc_",
    "ΟΔ",
    "ve",
    "SS",
    "ﬁ",
    "ος",
    "ΣΟ",
    "ｍａｘ",
    "ᏣᎳ",
];

/// Strings for fixed literals of string fields and `attributes`.
const STR_POOL: &[&str] = &[
    "ann",
    "Ann",
    "ZOË",
    "zoë",
    "lovelace",
    "hopper",
    "sales",
    "SALES",
    "eng",
    "R&D",
    "vip",
    "VIP",
    "a",
    "b",
    "abc",
    "ABC",
    "paris",
    "remote",
    "50%",
    "a_b",
    "c\\d",
    "",
    "m",
    "t1",
    "T2",
    "github",
    "ldap",
    "sso",
    "x_y",
    "admin",
    "ops",
    "*",
    "users:read",
    "Users:Write",
    "10.0.0.0/8",
    "::1",
    "O'Brien",
    "\"Q\"",
    "x,y",
    "eq:1",
    "in:a",
    "Ωmega",
    "ß",
    "STRASSE",
    "ｓａｌｅｓ",
    "οσ",
    "weiss",
    "zoe\u{308}",
    "kelvin",
    "ΟΣΟΣ",
];
const LIKE_POOL: &[&str] = &[
    "%",
    "_",
    "%%",
    "a%",
    "%n",
    "%a_b%",
    "\\%",
    "50\\%",
    "%\\_%",
    "c\\\\d",
    "__",
    "%o%e%",
    "_nn",
    "Z_Ë",
    "%ß%",
    "5%0",
    "\\a\\n\\n",
    "%.%",
    "",
    "ΟΣ%",
    "%ος",
    "%ss%",
    "zo_",
    "%ß_",
    "%💻",
    "_ max",
    "ᏣᎳ%",
    "i%",
    "_sa",
    "__",
    "wei_",
];
const NUM_POOL: &[&str] = &[
    "-3",
    "0",
    "1",
    "2",
    "2.5",
    "3",
    "3.0",
    "10",
    "9007199254740992",
    "9007199254740993",
    "18446744073709551614",
    "-9223372036854775807",
    "1e1",
    "-0.5",
];

fn fixed_lit(ty: Ty, op: Op, i: &Index) -> Lit {
    let text_op = matches!(op, Op::Like | Op::Co | Op::Sw | Op::Ew);
    match ty {
        Ty::Str | Ty::StrArr | Ty::Ident if op == Op::Like => {
            Lit::Str((*pick(LIKE_POOL, i)).into())
        }
        Ty::Str | Ty::StrArr | Ty::Ident => Lit::Str((*pick(STR_POOL, i)).into()),
        Ty::Int | Ty::IntArr => Lit::Num(Number::from(i.index(12) as u64)),
        Ty::Bool => Lit::Bool(i.index(2) == 1),
        Ty::Ts => Lit::Str(
            (*pick(
                &[
                    "2000-01-01",
                    "2100-01-01T00:00:00Z",
                    "1999-12-31T23:59:59.999999999-01:00",
                ],
                i,
            ))
            .into(),
        ),
        Ty::Json if op == Op::Like => Lit::Str((*pick(LIKE_POOL, i)).into()),
        Ty::Json if text_op => Lit::Str((*pick(STR_POOL, i)).into()),
        Ty::Json => match i.index(4) {
            0 | 1 => Lit::Str((*pick(STR_POOL, i)).into()),
            2 => Lit::Num(
                pick(NUM_POOL, i)
                    .parse::<Number>()
                    .expect("a number literal"),
            ),
            _ => Lit::Bool(i.index(8) % 2 == 1),
        },
    }
}

fn case_variant(s: &str, style: u8) -> String {
    match style % 4 {
        0 => s.to_owned(),
        1 => s.to_uppercase(),
        2 => s.to_lowercase(),
        _ => s
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i.is_multiple_of(2) {
                    c.to_uppercase().collect::<String>()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    }
}

/// Characters whose case mapping keeps them one character, so that `_`
/// and substrings stay aligned after a case change.
fn simple_case(s: &str) -> bool {
    s.chars()
        .all(|c| c.to_lowercase().count() == 1 && c.to_uppercase().count() == 1 && c != 'ß')
}

fn like_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A literal derived from a stored string, shaped for `op`.
fn derive_str(s: &str, op: Op, a: &Index, b: &Index, style: u8) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let start = if n == 0 { 0 } else { a.index(n) };
    let len = if n == start {
        0
    } else {
        1 + b.index(n - start)
    };
    let sub: String = chars[start..start + len].iter().collect();
    let recase = |t: &str| {
        if simple_case(t) {
            case_variant(t, style)
        } else {
            t.to_owned()
        }
    };
    match op {
        Op::Co => recase(&sub),
        Op::Sw => recase(&chars[..start.max(1).min(n)].iter().collect::<String>()),
        Op::Ew => recase(&chars[start..].iter().collect::<String>()),
        Op::Like => {
            let base = match (style / 4) % 4 {
                0 => s.to_owned(),
                1 => chars[..start.max(1).min(n)].iter().collect(),
                2 => chars[start..].iter().collect(),
                _ => sub,
            };
            let base = recase(&base);
            let mut pat = String::new();
            for (i, c) in base.chars().enumerate() {
                if (style / 16) % 3 == 1 && i == b.index(base.chars().count().max(1)) {
                    pat.push('_');
                } else if (style / 16) % 3 == 2 && c.is_alphabetic() && i.is_multiple_of(2) {
                    pat.push('\\');
                    pat.push(c);
                } else {
                    pat.push_str(&like_escape(&c.to_string()));
                }
            }
            match (style / 64) % 4 {
                0 => pat,
                1 => format!("{pat}%"),
                2 => format!("%{pat}"),
                _ => format!("%{pat}%"),
            }
        }
        _ if (style / 4) % 5 == 4 => recase(&sub),
        _ => recase(s),
    }
}

/// Shifts applied to stored timestamps to make literals near them.
///
/// Sub-millisecond shifts (±1 ns, [`SUB_MS_LITERALS`]) check that timestamp
/// literals keep their full precision (SPEC §13) against stored milliseconds.
const TS_DELTAS: &[i128] = &[
    0,
    0,
    0,
    -1_000_000,
    1_000_000,
    -NANOS_PER_DAY,
    3_600 * NANOS_PER_SEC,
];
const SUB_MS_DELTAS: &[i128] = &[1, -1, 999_999, -1_000];
const SUB_MS_LITERALS: bool = true;

/// Resolves a literal for `path` of `ent` against the live documents.
fn resolve_lit(model: &Model, ent: Ent, path: &str, op: Op, g: &GLit) -> Lit {
    let ty = ent.ty(path);
    let (doc, elem, a, b, style) = match g {
        GLit::Null => return Lit::Null,
        GLit::Fixed(i) => return fixed_lit(ty, op, i),
        GLit::FromDoc {
            doc,
            elem,
            a,
            b,
            style,
        } => (doc, elem, a, b, *style),
    };
    let docs = model.docs(ent);
    let fallback = || fixed_lit(ty, op, a);
    if docs.is_empty() {
        return fallback();
    }
    let d = pick(&docs, doc);
    let value = match reach(d, path, ty) {
        Got::Absent => return fallback(),
        Got::One(v) => v.clone(),
        Got::Many(items) if items.is_empty() => return fallback(),
        Got::Many(items) => (*pick(&items, elem)).clone(),
    };
    let text_op = matches!(op, Op::Like | Op::Co | Op::Sw | Op::Ew);
    match value {
        Value::String(s) if ty == Ty::Ts => {
            let deltas = if SUB_MS_LITERALS {
                [TS_DELTAS, SUB_MS_DELTAS].concat()
            } else {
                TS_DELTAS.to_vec()
            };
            let nanos = parse_ts(&s).expect("stored timestamp") + pick(&deltas, b);
            Lit::Str(format_ts(nanos, style))
        }
        Value::String(s) => Lit::Str(derive_str(&s, op, a, b, style)),
        _ if text_op => fallback(),
        Value::Number(n) => Lit::Num(n),
        Value::Bool(v) => Lit::Bool(v),
        _ => fallback(),
    }
}

fn resolve_expr(model: &Model, ent: Ent, g: &GExpr) -> Ex {
    match g {
        GExpr::And(parts, s) => Ex::And(
            parts.iter().map(|p| resolve_expr(model, ent, p)).collect(),
            *s,
        ),
        GExpr::Or(parts, s) => Ex::Or(
            parts.iter().map(|p| resolve_expr(model, ent, p)).collect(),
            *s,
        ),
        GExpr::Not(inner, s) => Ex::Not(Box::new(resolve_expr(model, ent, inner)), *s),
        GExpr::Leaf { field, kind, style } => {
            let (path, ty) = *pick(&ent.filter_choices(), field);
            let style = *style;
            match kind {
                GKind::Pr => Ex::Pr(path, style),
                GKind::IsNull => Ex::IsNull(path, style),
                GKind::Cmp(op, GLit::Null) => Ex::Cmp {
                    path,
                    op: *op,
                    lit: Lit::Null,
                    style,
                },
                GKind::Cmp(op, lit) => {
                    // Keep operators to what the field's type allows.
                    let op = match ty {
                        Ty::Str | Ty::StrArr | Ty::Ident | Ty::Json => *op,
                        _ => ORDER_OPS[ALL_OPS.iter().position(|o| o == op).unwrap_or(0) % 6],
                    };
                    Ex::Cmp {
                        path,
                        op,
                        lit: resolve_lit(model, ent, path, op, lit),
                        style,
                    }
                }
                GKind::In(lits) => Ex::In {
                    path,
                    lits: lits
                        .iter()
                        .map(|l| resolve_lit(model, ent, path, Op::Eq, l))
                        .collect(),
                    style,
                },
            }
        }
    }
}

fn resolve(model: &Model, g: &GQuery) -> Q {
    let ent = g.ent;
    let sort = g
        .sort
        .iter()
        .map(|(i, desc, style)| SortKey {
            path: {
                let keys = ent.sort_choices();
                keys[i.index(keys.len())]
            },
            desc: *desc,
            style: *style,
        })
        .collect();
    let fields = g
        .fields
        .as_ref()
        .map(|f| f.iter().map(|i| *pick(ent.top_level(), i)).collect());
    let search = g.search.as_ref().map(|terms| {
        terms
            .iter()
            .map(|t| *pick(SEARCH_TERMS, t))
            .collect::<Vec<_>>()
            .join(if g.style.is_multiple_of(3) { "  " } else { " " })
    });
    let paging = g.paging;
    Q {
        ent,
        filter: g.filter.as_ref().map(|f| resolve_expr(model, ent, f)),
        search,
        sort,
        fields,
        paging,
        with_total: g.with_total,
        style: g.style,
    }
}

// ---------------------------------------------------------------------------
// Printing a resolved query for both front ends.

fn field_name(path: &str, style: u8) -> String {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let head = match style % 4 {
        0 | 1 => head.to_owned(),
        2 => head.to_lowercase(),
        _ => head.to_uppercase(),
    };
    match rest {
        // Keys inside attributes are case-sensitive; the subfields of
        // externalIds are field names.
        Some(r) if head.eq_ignore_ascii_case("externalIds") && style % 8 >= 4 => {
            format!("{head}.{}", r.to_uppercase())
        }
        Some(r) => format!("{head}.{r}"),
        None => head,
    }
}

fn keyword(word: &str, style: u8) -> String {
    match style % 3 {
        0 => word.to_owned(),
        1 => word.to_uppercase(),
        _ => {
            let mut c = word.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

fn op_text(op: Op, style: u8) -> String {
    let choices: &[&str] = match op {
        Op::Eq => &["=", "eq"],
        Op::Ne => &["!=", "<>", "ne"],
        Op::Lt => &["<", "lt"],
        Op::Le => &["<=", "le"],
        Op::Gt => &[">", "gt"],
        Op::Ge => &[">=", "ge"],
        Op::Like => &["like"],
        Op::Co => &["co"],
        Op::Sw => &["sw"],
        Op::Ew => &["ew"],
    };
    keyword(choices[(style as usize / 3) % choices.len()], style / 7)
}

fn lit_text(lit: &Lit, style: u8) -> String {
    match lit {
        Lit::Str(s) if style.is_multiple_of(2) => format!("'{}'", s.replace('\'', "''")),
        Lit::Str(s) => serde_json::to_string(s).expect("json string"),
        Lit::Num(n) => n.to_string(),
        Lit::Bool(b) => keyword(&b.to_string(), style / 2),
        Lit::Null => keyword("null", style / 2),
    }
}

fn print_expr(ex: &Ex) -> String {
    let wrap = |e: &Ex| match e {
        Ex::And(..) | Ex::Or(..) => format!("({})", print_expr(e)),
        _ => print_expr(e),
    };
    match ex {
        Ex::And(parts, s) => parts
            .iter()
            .map(|p| match p {
                Ex::And(..) if s.is_multiple_of(2) => print_expr(p),
                _ => wrap(p),
            })
            .collect::<Vec<_>>()
            .join(&format!(" {} ", keyword("and", *s))),
        Ex::Or(parts, s) => parts
            .iter()
            .map(|p| match p {
                Ex::Or(..) | Ex::And(..) if s.is_multiple_of(2) => print_expr(p),
                _ => wrap(p),
            })
            .collect::<Vec<_>>()
            .join(&format!(" {} ", keyword("or", *s))),
        Ex::Not(inner, s) => format!("{} {}", keyword("not", *s), wrap(inner)),
        Ex::Cmp {
            path,
            op,
            lit,
            style,
        } => {
            let op = op_text(*op, *style);
            let symbolic = !op.starts_with(|c: char| c.is_alphabetic());
            let sep = if style.is_multiple_of(5) && symbolic {
                ""
            } else {
                " "
            };
            format!(
                "{}{sep}{op}{sep}{}",
                field_name(path, *style),
                lit_text(lit, style / 11)
            )
        }
        Ex::In { path, lits, style } => format!(
            "{} {} ({})",
            field_name(path, *style),
            keyword("in", *style),
            lits.iter()
                .map(|l| lit_text(l, style / 5))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Ex::Pr(path, s) => {
            if s.is_multiple_of(2) {
                format!("{} {}", field_name(path, *s), keyword("pr", s / 2))
            } else {
                format!(
                    "{} {} {} {}",
                    field_name(path, *s),
                    keyword("is", s / 2),
                    keyword("not", s / 3),
                    keyword("null", s / 5)
                )
            }
        }
        Ex::IsNull(path, s) => format!(
            "{} {} {}",
            field_name(path, *s),
            keyword("is", s / 2),
            keyword("null", s / 3)
        ),
    }
}

fn sort_text(sort: &[SortKey]) -> String {
    sort.iter()
        .map(|k| {
            let name = field_name(k.path, k.style);
            match (k.desc, k.style % 3) {
                (true, _) => format!("{name}:desc"),
                (false, 0) => format!("{name}:asc"),
                (false, _) => name,
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn fields_text(fields: &[&str], style: u64) -> String {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| field_name(f, (style >> (i * 2)) as u8))
        .collect::<Vec<_>>()
        .join(",")
}

const OP_PREFIXES: [&str; 8] = ["in", "like", "eq", "ne", "gt", "ge", "lt", "le"];

/// The parameter-form operand of a literal, when it reads back as the same literal.
fn param_operand(ty: Ty, lit: &Lit) -> Option<String> {
    match (ty, lit) {
        (Ty::Json, Lit::Str(s)) => {
            let reads_as_other = matches!(
                serde_json::from_str::<Value>(s),
                Ok(Value::Number(_) | Value::Bool(_) | Value::Null)
            );
            let odd = s.trim() != s
                || s.is_empty()
                || s.eq_ignore_ascii_case("true")
                || s.eq_ignore_ascii_case("false")
                || s.eq_ignore_ascii_case("null");
            (!reads_as_other && !odd).then(|| s.clone())
        }
        (Ty::Json, Lit::Null) => Some("null".into()),
        (_, Lit::Null) => None,
        (_, Lit::Str(s)) => Some(s.clone()),
        (_, Lit::Num(n)) => Some(n.to_string()),
        (_, Lit::Bool(b)) => Some(b.to_string()),
    }
}

fn param_op(op: Op) -> Option<&'static str> {
    Some(match op {
        Op::Eq => "eq",
        Op::Ne => "ne",
        Op::Lt => "lt",
        Op::Le => "le",
        Op::Gt => "gt",
        Op::Ge => "ge",
        Op::Like => "like",
        _ => return None,
    })
}

/// A test as one parameter pair, when the parameter form can say it.
fn as_param(ent: Ent, ex: &Ex) -> Option<(String, String)> {
    let (path, style, value) = match ex {
        Ex::Cmp {
            path,
            op,
            lit,
            style,
        } => {
            let ty = ent.ty(path);
            if *lit == Lit::Null && !matches!(op, Op::Eq | Op::Ne) {
                return None;
            }
            let operand = param_operand(ty, lit)?;
            let prefix = param_op(*op)?;
            let ambiguous = operand
                .split_once(':')
                .is_some_and(|(p, _)| OP_PREFIXES.contains(&p));
            let value = if *op == Op::Eq && !style.is_multiple_of(3) && !ambiguous {
                operand
            } else {
                format!("{prefix}:{operand}")
            };
            (*path, *style, value)
        }
        Ex::In { path, lits, style } => {
            let ty = ent.ty(path);
            let mut operands = Vec::new();
            for l in lits {
                let o = param_operand(ty, l)?;
                if o.contains(',') || *l == Lit::Null {
                    return None;
                }
                operands.push(o);
            }
            // `in:` with an empty item reads as no value at all.
            if operands.iter().any(String::is_empty) {
                return None;
            }
            (*path, *style, format!("in:{}", operands.join(",")))
        }
        _ => return None,
    };
    let name = field_name(path, style);
    let name = if style % 7 == 3 {
        format!("filter[{name}]")
    } else {
        name
    };
    Some((name, value))
}

fn and_parts(ex: &Ex) -> Vec<&Ex> {
    match ex {
        Ex::And(parts, _) => parts.iter().flat_map(and_parts).collect(),
        other => vec![other],
    }
}

/// The query in the parameter form.
fn to_params(q: &Q) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    if let Some(f) = &q.filter {
        let mut rest = Vec::new();
        for part in and_parts(f) {
            match as_param(q.ent, part) {
                Some(pair) if !q.style.is_multiple_of(5) => pairs.push(pair),
                _ => rest.push(format!("({})", print_expr(part))),
            }
        }
        if !rest.is_empty() {
            pairs.push(("where".into(), rest.join(" and ")));
        }
    }
    if let Some(s) = &q.search {
        pairs.push(("search".into(), s.clone()));
    }
    if !q.sort.is_empty() {
        pairs.push(("sort".into(), sort_text(&q.sort)));
    }
    if let Some(f) = &q.fields {
        pairs.push(("fields".into(), fields_text(f, q.style >> 8)));
    }
    match q.paging {
        Paging::Default => {}
        Paging::Page(p, s) => {
            if let Some(p) = p {
                pairs.push(("page".into(), p.to_string()));
            }
            if let Some(s) = s {
                pairs.push(("pageSize".into(), s.to_string()));
            }
        }
        Paging::Offset(o, l) => {
            if let Some(o) = o {
                pairs.push(("offset".into(), o.to_string()));
            }
            if let Some(l) = l {
                pairs.push(("limit".into(), l.to_string()));
            }
        }
    }
    if q.with_total {
        pairs.push(("withTotal".into(), "true".into()));
    } else if q.style % 4 == 1 {
        pairs.push(("withTotal".into(), "false".into()));
    }
    // Order does not matter.
    if q.style % 2 == 1 {
        pairs.reverse();
    }
    pairs
}

/// The query through `Query::parse` and the builder.
fn to_builder(q: &Q) -> Result<Query, String> {
    let parse = |text: &str| Query::parse(text).map_err(|e| format!("parse {text:?}: {e:?}"));
    let mut query = match &q.filter {
        None if q.style.is_multiple_of(3) => parse("  ")?,
        None => Query::all(),
        Some(f) => {
            let parts = and_parts(f);
            if q.style % 4 == 2 && parts.len() > 1 {
                let mut query = parse(&print_expr(parts[0]))?;
                for p in &parts[1..] {
                    query = query.and_where(&print_expr(p));
                }
                query
            } else if q.style % 4 == 3 {
                Query::all().and_where(&print_expr(f))
            } else {
                parse(&print_expr(f))?
            }
        }
    };
    if let Some(s) = &q.search {
        query = query.search(s);
    }
    if !q.sort.is_empty() {
        query = query.sort(&sort_text(&q.sort));
    }
    if let Some(f) = &q.fields {
        query = query.fields(&fields_text(f, q.style >> 8));
    }
    query = match q.paging {
        Paging::Default => query,
        Paging::Page(p, s) => query.page(p.unwrap_or(1), s.unwrap_or(100)),
        Paging::Offset(o, l) => query.offset(o.unwrap_or(0), l.unwrap_or(100)),
    };
    if q.with_total {
        query = query.with_total();
    }
    Ok(query)
}

// ---------------------------------------------------------------------------
// Running queries and comparing.

/// A page as plain data: item documents, total, next cursor, projection.
struct Listed {
    items: Vec<Value>,
    total: Option<u64>,
    next: Option<String>,
}

fn run_list(store: &Store, ent: Ent, query: &Query, via: u64) -> Result<Listed, String> {
    fn conv<E: serde::Serialize>(p: rosterdb::Result<Page<E>>) -> rosterdb::Result<Listed> {
        let p = p?;
        Ok(Listed {
            items: p.items_json()?,
            total: p.total,
            next: p.next_cursor,
        })
    }
    let out = match (ent, via % 4) {
        (Ent::User, 1) => store.read(|r| conv(r.users().list(query))),
        (Ent::User, 2) => store.write(|tx| conv(tx.users().list(query))),
        (Ent::User, _) => conv(store.users().list(query)),
        (Ent::Role, 1) => store.read(|r| conv(r.roles().list(query))),
        (Ent::Role, _) => conv(store.roles().list(query)),
        (Ent::Client, 1) => store.read(|r| conv(r.clients().list(query))),
        (Ent::Client, _) => conv(store.clients().list(query)),
    };
    out.map_err(|e| format!("list failed: {e:?}"))
}

fn run_count(store: &Store, ent: Ent, query: &Query) -> Result<(u64, bool), String> {
    let out = match ent {
        Ent::User => store
            .users()
            .count(query)
            .and_then(|c| Ok((c, store.users().exists(query)?))),
        Ent::Role => store
            .roles()
            .count(query)
            .and_then(|c| Ok((c, store.roles().exists(query)?))),
        Ent::Client => store
            .clients()
            .count(query)
            .and_then(|c| Ok((c, store.clients().exists(query)?))),
    };
    out.map_err(|e| format!("count/exists failed: {e:?}"))
}

fn run_explain(store: &Store, ent: Ent, query: &Query) -> Result<String, String> {
    let out = match ent {
        Ent::User => store.users().explain(query),
        Ent::Role => store.roles().explain(query),
        Ent::Client => store.clients().explain(query),
    };
    out.map_err(|e| format!("explain failed: {e:?}"))
}

fn ids(docs: &[Value]) -> Vec<u64> {
    docs.iter().map(id_of).collect()
}

/// The document as the projection returns it.
fn project(doc: &Value, fields: Option<&[&str]>) -> Value {
    match (fields, doc) {
        (Some(fields), Value::Object(map)) => Value::Object(
            map.iter()
                .filter(|(k, _)| *k == "id" || fields.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        _ => doc.clone(),
    }
}

fn describe(q: &Q, front: &str) -> String {
    let mut s = format!("{:?} via {front}", q.ent);
    if let Some(f) = &q.filter {
        s += &format!("\n  where: {}", print_expr(f));
    }
    s += &format!("\n  params: {:?}", to_params(q));
    s
}

/// Checks a page against the expected slice of `all` starting at `start`.
fn check_page(
    q: &Q,
    got: &Listed,
    rest: &[Value],
    size: usize,
    total: usize,
    ctx: &str,
) -> Result<(), TestCaseError> {
    let end = size.min(rest.len());
    let want: Vec<Value> = rest[..end]
        .iter()
        .map(|d| project(d, q.fields.as_deref()))
        .collect();
    prop_assert_eq!(
        ids(&got.items),
        ids(&want),
        "{}: ids of a page of size {} ({} matches from there, {} in all)",
        ctx,
        size,
        rest.len(),
        total
    );
    prop_assert_eq!(&got.items, &want, "{}: documents", ctx);
    prop_assert_eq!(
        got.next.is_some(),
        end < rest.len(),
        "{}: nextCursor presence ({} of {} remaining matches returned)",
        ctx,
        end,
        rest.len()
    );
    if q.with_total {
        prop_assert_eq!(got.total, Some(total as u64), "{}: total", ctx);
    } else {
        prop_assert_eq!(got.total, None, "{}: total not asked for", ctx);
    }
    Ok(())
}

/// Runs one query through both front ends and compares with the oracle,
/// including a full cursor walk from its first page.
fn check_query(w: &World, q: &Q) -> Result<(), TestCaseError> {
    check_query_walking(w, q, usize::MAX)
}

/// [`check_query`], following at most `max_steps` cursors per front end.
fn check_query_walking(w: &World, q: &Q, max_steps: usize) -> Result<(), TestCaseError> {
    let all = w.model.matches(q.ent, q);
    let (start, size) = q.paging.window();
    let fronts: Vec<(&str, Result<Query, String>)> = vec![
        ("expression", to_builder(q)),
        (
            "params",
            Query::from_params(&to_params(q)).map_err(|e| format!("from_params: {e:?}")),
        ),
    ];
    for (front, query) in fronts {
        let ctx = describe(q, front);
        let query = query.map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
        let original = &query;
        let page = run_list(&w.store, q.ent, &query, q.style >> 20)
            .map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
        check_page(
            q,
            &page,
            all.get(start..).unwrap_or_default(),
            size,
            all.len(),
            &ctx,
        )?;
        let (count, exists) = run_count(&w.store, q.ent, &query)
            .map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
        prop_assert_eq!(count, all.len() as u64, "{}: count", ctx);
        prop_assert_eq!(exists, !all.is_empty(), "{}: exists", ctx);
        let plan = run_explain(&w.store, q.ent, &query)
            .map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
        prop_assert!(!plan.trim().is_empty(), "{}: empty explain", ctx);
        // Walk the rest with cursors.
        let mut next = page.next;
        let mut at = start + page.items.len();
        let mut size = size;
        let mut step = 0u32;
        while let Some(token) = next {
            if step as usize >= max_steps {
                break;
            }
            step += 1;
            let variant = (q.style >> (24 + 2 * (step % 16))) % 5;
            let (query, new_size) = match variant {
                0 => (Query::all().cursor(&token), None),
                1 => (original.clone().cursor(&token), None),
                // The whole query again, written differently (SPEC §13: a
                // part sent again must mean the same, not read the same).
                4 => (resent(q, front, &token)?, None),
                2 => {
                    let s = SIZES[(step as usize + q.style as usize) % 6];
                    let q = Query::from_params(&[
                        ("cursor", token.clone()),
                        ("pageSize", s.to_string()),
                    ]);
                    (
                        q.map_err(|e| TestCaseError::fail(format!("{e:?}")))?,
                        Some(s),
                    )
                }
                _ => {
                    let q = Query::from_params(&[("cursor", token.clone())]);
                    (q.map_err(|e| TestCaseError::fail(format!("{e:?}")))?, None)
                }
            };
            if let Some(s) = new_size {
                size = s;
            }
            let ctx = format!("{ctx}\n  cursor step {step} (variant {variant})");
            let page = run_list(&w.store, q.ent, &query, u64::from(step))
                .map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
            check_page(q, &page, &all[at..], size, all.len(), &ctx)?;
            prop_assert!(!page.items.is_empty(), "{}: empty page after a cursor", ctx);
            at += page.items.len();
            next = page.next;
        }
    }
    Ok(())
}

/// The query `q` sent again with a cursor through the same front end,
/// written in another style: other keyword and field-name case, operator
/// spellings, quotes, `filter[x]` or `x`, `:asc` or not, fields and search
/// terms in another order. Its paging is left out (the cursor's applies).
fn resent(q: &Q, front: &str, token: &str) -> Result<Query, TestCaseError> {
    fn restyle(ex: &Ex) -> Ex {
        let next = |s: &u8| s.wrapping_mul(7).wrapping_add(1);
        match ex {
            Ex::And(parts, s) => Ex::And(parts.iter().map(restyle).collect(), next(s)),
            Ex::Or(parts, s) => Ex::Or(parts.iter().map(restyle).collect(), next(s)),
            Ex::Not(inner, s) => Ex::Not(Box::new(restyle(inner)), next(s)),
            Ex::Cmp {
                path,
                op,
                lit,
                style,
            } => Ex::Cmp {
                path,
                op: *op,
                lit: lit.clone(),
                style: next(style),
            },
            Ex::In { path, lits, style } => Ex::In {
                path,
                lits: lits.clone(),
                style: next(style),
            },
            Ex::Pr(path, s) => Ex::Pr(path, next(s)),
            Ex::IsNull(path, s) => Ex::IsNull(path, next(s)),
        }
    }
    let again = Q {
        filter: q.filter.as_ref().map(restyle),
        search: q.search.as_ref().map(|s| {
            let mut terms: Vec<&str> = s.split_whitespace().collect();
            terms.reverse();
            format!(" {} ", terms.join("\t"))
        }),
        sort: q
            .sort
            .iter()
            .map(|k| SortKey {
                style: k.style.wrapping_add(1),
                ..k.clone()
            })
            .collect(),
        fields: q.fields.as_ref().map(|f| f.iter().rev().copied().collect()),
        paging: Paging::Default,
        ..q.clone()
    };
    let fail = |e: String| TestCaseError::fail(format!("re-sending the query: {e}"));
    if front == "params" {
        let mut pairs = to_params(&again);
        pairs.push(("cursor".into(), token.to_owned()));
        Query::from_params(&pairs).map_err(|e| fail(format!("{e:?}")))
    } else {
        Ok(to_builder(&again).map_err(fail)?.cursor(token))
    }
}

/// `cases` cases, or `PROPTEST_CASES` when set (for longer soak runs).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        max_shrink_time: 30_000,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(40))]

    /// Random populations and queries, checked again after random changes.
    #[test]
    fn queries_equal_the_naive_evaluation(
        pop in population(60),
        queries in prop::collection::vec(gquery(), 1..7),
        changes in prop::collection::vec(mutation(), 0..8),
    ) {
        let mut w = build(&pop);
        for g in &queries {
            let q = resolve(&w.model, g);
            check_query(&w, &q)?;
        }
        for m in &changes {
            w.apply(m);
        }
        for g in &queries {
            let q = resolve(&w.model, g);
            check_query(&w, &q)?;
        }
    }
}

/// Follows a query's cursors while random writes land between the pages.
///
/// Every page must be the first matches after the last item returned so far
/// (its sort position at the time), in the store's current state; and the
/// matches that existed unchanged for the whole walk appear exactly once, in
/// order (SPEC §3.4).
fn walk_with_writes(
    w: &mut World,
    g: &GQuery,
    size: usize,
    writes: &[Vec<Mutation>],
) -> Result<(), TestCaseError> {
    let mut q = resolve(&w.model, g);
    q.paging = if g.style.is_multiple_of(2) {
        Paging::Page(Some(1), Some(size))
    } else {
        Paging::Offset(Some(0), Some(size))
    };
    let ent = q.ent;
    let before: BTreeMap<u64, Value> = w.model.docs.get(&ent).cloned().unwrap_or_default();
    let matched_before = w.model.matches(ent, &q);
    let ctx = describe(&q, "expression");
    let original = to_builder(&q).map_err(TestCaseError::fail)?;
    let page = run_list(&w.store, ent, &original, 0)
        .map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
    check_page(&q, &page, &matched_before, size, matched_before.len(), &ctx)?;
    let mut seen = ids(&page.items);
    let mut next = page.next;
    let mut step = 0usize;
    while let Some(token) = next {
        let last = *seen.last().expect("a page with a cursor has items");
        let last_pos = position(ent, &w.model.docs[&ent][&last], &q.sort);
        for m in writes.get(step).into_iter().flatten() {
            w.apply(m);
        }
        step += 1;
        prop_assert!(step < 500, "{}: the walk does not end", ctx);
        let query = if step.is_multiple_of(2) {
            Query::all().cursor(&token)
        } else {
            original.clone().cursor(&token)
        };
        let all = w.model.matches(ent, &q);
        let rest: Vec<Value> = all
            .iter()
            .filter(|d| {
                pos_cmp(&position(ent, d, &q.sort), &last_pos, &q.sort) == Ordering::Greater
            })
            .cloned()
            .collect();
        let ctx = format!("{ctx}\n  cursor step {step}, after id {last}");
        let page = run_list(&w.store, ent, &query, step as u64)
            .map_err(|e| TestCaseError::fail(format!("{ctx}\n{e}")))?;
        check_page(&q, &page, &rest, size, all.len(), &ctx)?;
        seen.extend(ids(&page.items));
        next = page.next;
    }
    let after = w.model.docs.get(&ent).cloned().unwrap_or_default();
    let stable: Vec<u64> = matched_before
        .iter()
        .map(id_of)
        .filter(|id| after.get(id) == before.get(id))
        .collect();
    let stable_seen: Vec<u64> = seen
        .iter()
        .copied()
        .filter(|id| stable.contains(id))
        .collect();
    prop_assert_eq!(
        stable_seen,
        stable,
        "{}: records unchanged during the walk, in the order seen (all seen: {:?})",
        ctx,
        seen
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(48))]

    /// Cursor walks with creates, deletes, re-creates and cascading role
    /// deletes between the pages.
    #[test]
    fn cursor_walks_survive_interleaved_writes(
        pop in population(40),
        mut g in gquery(),
        filtered in prop::bool::weighted(0.4),
        size in 1usize..6,
        writes in prop::collection::vec(prop::collection::vec(mutation(), 0..3), 0..20),
    ) {
        if !filtered {
            g.filter = None;
            g.search = None;
        }
        let mut w = build(&pop);
        walk_with_writes(&mut w, &g, size, &writes)?;
    }
}

proptest! {
    #![proptest_config(config(32))]

    /// Many single tests (one operator on one field) per population: every
    /// operator, field type and literal shape, without boolean composition.
    #[test]
    fn single_tests_equal_the_naive_evaluation(
        pop in population(50),
        tests in prop::collection::vec((gent(), gleaf(), any::<u64>()), 20..40),
    ) {
        let w = build(&pop);
        for (ent, leaf, style) in &tests {
            let g = GQuery {
                ent: *ent,
                filter: Some(leaf.clone()),
                search: None,
                sort: Vec::new(),
                fields: None,
                paging: Paging::Default,
                with_total: style.is_multiple_of(2),
                style: *style,
            };
            check_query(&w, &resolve(&w.model, &g))?;
        }
    }
}

proptest! {
    #![proptest_config(config(2))]

    /// Populations large enough (more than the planner's 256 "small"
    /// candidates) that indexed conditions stream, sorted pages come from
    /// indexes and counts come from index keys; then a cursor walk with
    /// writes between the pages.
    #[test]
    fn large_populations_equal_the_naive_evaluation(
        roles in prop::collection::vec(role_gen(), 2..6),
        users in prop::collection::vec(user_gen(), 280..400),
        queries in prop::collection::vec(gquery(), 10..16),
        (mut walk, size, writes) in (
            gquery(),
            20usize..120,
            prop::collection::vec(prop::collection::vec(mutation(), 0..4), 0..8),
        ),
    ) {
        let pop = Population { roles, users, clients: Vec::new() };
        let mut w = build(&pop);
        for g in &queries {
            let mut q = resolve(&w.model, &GQuery { ent: Ent::User, ..g.clone() });
            q.paging = match q.paging {
                Paging::Page(p, Some(s)) if s < 20 => Paging::Page(p, Some(s * 10)),
                Paging::Offset(o, Some(l)) if l < 20 => Paging::Offset(o.map(|o| o * 5), Some(l * 10)),
                other => other,
            };
            check_query_walking(&w, &q, 2)?;
        }
        walk.ent = Ent::User;
        if !walk.style.is_multiple_of(3) {
            walk.filter = None;
            walk.search = None;
        }
        walk_with_writes(&mut w, &walk, size, &writes)?;
    }
}

/// The cursor rules of SPEC §3.4 and §13: a cursor continues its own query
/// in its own collection; the same query may be given again, a different one
/// is refused naming the part that differs; a damaged token is refused;
/// none of it panics.
#[test]
fn cursors_continue_only_their_own_query() {
    let w = World::new();
    for i in 0..12 {
        let mut user = NewUser::new(
            format!("user{i}"),
            format!("user{i}@example.com"),
            "First",
            LAST_NAMES[i % LAST_NAMES.len()],
        );
        user.enabled = !i.is_multiple_of(3);
        w.store.users().create(user).unwrap();
    }
    w.store.roles().create(NewRole::new("staff")).unwrap();
    let query = || Query::parse("enabled = true").map(|q| q.sort("lastName:desc").page(1, 3));
    let first = w.store.users().list(&query().unwrap()).unwrap();
    let token = first.next_cursor.expect("more than one page");
    let invalid = |r: rosterdb::Result<Page<rosterdb::User>>, part: &str| match r {
        Err(rosterdb::Error::InvalidQuery { field: Some(f), .. }) if f == part => {}
        other => panic!("a changed {part}: expected InvalidQuery naming it, got {other:?}"),
    };

    // The same query again, with the cursor: the next page.
    let again = w
        .store
        .users()
        .list(&query().unwrap().cursor(&token))
        .unwrap();
    let alone = w.store.users().list(&Query::all().cursor(&token)).unwrap();
    assert_eq!(again.items, alone.items);
    assert_eq!(alone.items.len(), 3);
    // A different filter, sort, projection or search with the cursor: refused.
    invalid(
        w.store
            .users()
            .list(&Query::parse("enabled = false").unwrap().cursor(&token)),
        "where",
    );
    invalid(
        w.store
            .users()
            .list(&Query::all().sort("lastName").cursor(&token)),
        "sort",
    );
    invalid(
        w.store
            .users()
            .list(&Query::all().fields("id").cursor(&token)),
        "fields",
    );
    invalid(
        w.store
            .users()
            .list(&Query::all().search("ann").cursor(&token)),
        "search",
    );
    // Another collection: refused.
    let role_page = w.store.roles().list(&Query::all().cursor(&token));
    assert!(
        matches!(role_page, Err(rosterdb::Error::InvalidQuery { .. })),
        "a user cursor on roles: {role_page:?}"
    );
    // A page size may change with a cursor.
    let resized = Query::from_params(&[("cursor", token.as_str()), ("pageSize", "1")]).unwrap();
    let one = w.store.users().list(&resized).unwrap();
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.items[0].id, alone.items[0].id);
    // Damaged tokens: refused, never a panic.
    let mut damaged: Vec<String> = vec![String::new(), "x".into(), token[..token.len() / 2].into()];
    for i in 0..token.len() {
        let mut bytes = token.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        damaged.extend(String::from_utf8(bytes));
    }
    damaged.push(format!("{token}A"));
    for bad in damaged {
        let r = w.store.users().list(&Query::all().cursor(&bad));
        // A changed character may by chance still decode; it must then be
        // a valid page, not a panic.
        if let Err(e) = r {
            assert!(
                matches!(e, rosterdb::Error::InvalidQuery { .. }),
                "cursor {bad:?}: {e:?}"
            );
        }
    }
}

const JUNK: &[&str] = &[
    "username",
    "attributes.x",
    "roles",
    "createdAt",
    "enabled",
    "id",
    "=",
    "!=",
    "<>",
    "<",
    ">=",
    "like",
    "co",
    "in",
    "(",
    ")",
    ",",
    "pr",
    "is",
    "not",
    "null",
    "and",
    "or",
    "'a'",
    "'O''B'",
    "\"x\\\"y\"",
    "\"\\u00e9\"",
    "'",
    "\"",
    "1",
    "-2.5e3",
    "1e999",
    "99999999999999999999",
    "true",
    "FALSE",
    "'2014-01-15'",
    "\\",
    "%",
    "_",
    ".",
    "..",
    "attributes.",
    ":",
    "\u{0}",
    "é",
    "𝔘",
];

proptest! {
    #![proptest_config(config(256))]

    /// Malformed queries fail with `InvalidQuery`, never a panic or another
    /// kind of error (SPEC §3.3, §9).
    #[test]
    fn malformed_queries_are_invalid_query_errors(
        tokens in prop::collection::vec(prop::sample::select(JUNK), 0..10),
        spaced in any::<bool>(),
        key in prop::sample::select(vec![
            "where", "sort", "fields", "page", "pageSize", "offset", "limit", "cursor",
            "withTotal", "search", "username", "filter[id]", "attributes.x", "createdAt", "roles",
        ]),
    ) {
        let text = tokens.join(if spaced { " " } else { "" });
        let w = World::new();
        let kinds_ok = |r: rosterdb::Result<()>| match r {
            Ok(()) | Err(rosterdb::Error::InvalidQuery { .. }) => Ok(()),
            Err(e) => Err(TestCaseError::fail(format!("{text:?}: {e:?}"))),
        };
        let run = |q: rosterdb::Result<Query>| -> rosterdb::Result<()> {
            let q = q?;
            w.store.users().list(&q)?;
            w.store.users().count(&q)?;
            w.store.roles().exists(&q)?;
            w.store.clients().explain(&q)?;
            Ok(())
        };
        kinds_ok(run(Query::parse(&text)))?;
        kinds_ok(run(Query::from_params(&[(key, text.as_str())])))?;
        kinds_ok(run(Ok(Query::all().sort(&text).fields(&text))))?;
    }
}

/// Every pattern built from a set of texts whose folded form differs in
/// length or in characters per grapheme cluster (ß, ligatures, fullwidth,
/// final sigma, NFD, İ, flags, skin tones, ZWJ sequences, Cherokee): `_` at
/// every character position, prefixes and suffixes, through `like`, `sw`,
/// `ew` and `co` on an indexed (`lastName`) and a trigram-only
/// (`firstName`) field, must equal the naive evaluation. Deterministic, so
/// the cases that random pools reach only sometimes always run.
#[test]
fn caseless_patterns_equal_the_naive_evaluation() {
    const TEXTS: &[&str] = &[
        "Straße",
        "STRASSE",
        "Weiß",
        "ﬁle",
        "ａｄｍｉｎ",
        "ΟΣΟΣ",
        "οδος",
        "Zoe\u{308}",
        "Zoë",
        "İstanbul",
        "istanbul",
        "🇩🇪🇫🇷",
        "👍🏽 ok",
        "👩\u{200D}💻",
        "ᏣᎳᎩ",
        "\u{212A}elvin",
        "e\u{301}\u{323}x",
    ];
    let store = Store::memory_with(Options::default().with_argon2(Argon2Params {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    }))
    .unwrap();
    for (i, text) in TEXTS.iter().enumerate() {
        let name = format!("u{i}");
        store
            .users()
            .create(NewUser::new(&name, format!("{name}@x.io"), *text, *text))
            .unwrap();
    }
    let mut patterns: BTreeSet<(Op, String)> = BTreeSet::new();
    for text in TEXTS {
        let chars: Vec<char> = text.chars().collect();
        for i in 0..chars.len() {
            let head: String = chars[..i].iter().collect();
            let tail: String = chars[i + 1..].iter().collect();
            let (head, tail) = (like_escape(&head), like_escape(&tail));
            patterns.insert((Op::Like, format!("{head}_{tail}")));
            patterns.insert((Op::Like, format!("{head}%")));
            patterns.insert((Op::Like, format!("%_{tail}")));
            patterns.insert((Op::Like, format!("_%{tail}")));
            let head: String = chars[..i].iter().collect();
            let tail: String = chars[i..].iter().collect();
            patterns.insert((Op::Sw, head.clone()));
            patterns.insert((Op::Ew, tail.clone()));
            patterns.insert((Op::Co, chars[i..=i].iter().collect()));
            patterns.insert((Op::Co, head.to_uppercase()));
        }
    }
    for p in LIKE_POOL {
        patterns.insert((Op::Like, (*p).to_owned()));
    }
    let users: Vec<Value> = store
        .users()
        .list(&Query::from_params(&[("pageSize", "1000")]).unwrap())
        .unwrap()
        .items
        .iter()
        .map(|u| serde_json::to_value(u).unwrap())
        .collect();
    let mut failures = Vec::new();
    for (op, p) in &patterns {
        let word = match op {
            Op::Like => "like",
            Op::Sw => "sw",
            Op::Ew => "ew",
            _ => "co",
        };
        for field in ["firstName", "lastName"] {
            let lit = Lit::Str(p.clone());
            let want: Vec<u64> = users
                .iter()
                .filter(|u| holds(&u[field], Ty::Str, *op, &lit))
                .map(|u| u["id"].as_u64().unwrap())
                .collect();
            let expr = format!("{field} {word} '{}'", p.replace('\'', "''"));
            let got: Vec<u64> = store
                .users()
                .list(&Query::parse(&expr).unwrap())
                .unwrap()
                .items
                .iter()
                .map(|u| u.id)
                .collect();
            if got != want {
                failures.push(format!("{expr}: store {got:?}, naive {want:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(patterns.len() > 300, "{}", patterns.len());
}
