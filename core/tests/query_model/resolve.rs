//! Resolving a generated query against the live documents: literals taken
//! from (or shaped after) stored values so that they often match, fixed
//! literals from pools of tricky values otherwise.

use proptest::sample::Index;
use serde_json::{Number, Value};

use crate::generators::{GExpr, GKind, GLit, GQuery, pick};
use crate::oracle::{Got, Model, reach};
use crate::query::{ALL_OPS, Ex, Lit, ORDER_OPS, Op, Q, SortKey};
use crate::schema::{Ent, Ty};
use crate::timestamps::{NANOS_PER_DAY, NANOS_PER_SEC, format_ts, parse_ts};

pub const SEARCH_TERMS: &[&str] = &[
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
pub const STR_POOL: &[&str] = &[
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
pub const LIKE_POOL: &[&str] = &[
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
pub const NUM_POOL: &[&str] = &[
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

pub fn fixed_lit(ty: Ty, op: Op, i: &Index) -> Lit {
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

pub fn case_variant(s: &str, style: u8) -> String {
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
pub fn simple_case(s: &str) -> bool {
    s.chars()
        .all(|c| c.to_lowercase().count() == 1 && c.to_uppercase().count() == 1 && c != 'ß')
}

pub fn like_escape(s: &str) -> String {
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
pub fn derive_str(s: &str, op: Op, a: &Index, b: &Index, style: u8) -> String {
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
/// literals keep their full precision (docs/reference/queries.md, Semantics) against stored
/// milliseconds.
pub const TS_DELTAS: &[i128] = &[
    0,
    0,
    0,
    -1_000_000,
    1_000_000,
    -NANOS_PER_DAY,
    3_600 * NANOS_PER_SEC,
];
pub const SUB_MS_DELTAS: &[i128] = &[1, -1, 999_999, -1_000];
pub const SUB_MS_LITERALS: bool = true;

/// Resolves a literal for `path` of `ent` against the live documents.
pub fn resolve_lit(model: &Model, ent: Ent, path: &str, op: Op, g: &GLit) -> Lit {
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

pub fn resolve_expr(model: &Model, ent: Ent, g: &GExpr) -> Ex {
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

pub fn resolve(model: &Model, g: &GQuery) -> Q {
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
