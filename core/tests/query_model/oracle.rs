//! The oracle: a naive full-scan evaluator over the JSON documents
//! (`serde_json::to_value(&doc)`), written from docs/reference/ alone; the rules
//! are listed in `query_model_tests.rs`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{Number, Value};

use crate::query::{Ex, Lit, Op, Q, SortKey};
use crate::schema::{Ent, Ty};
use crate::timestamps::parse_ts;

pub fn fold(s: &str) -> String {
    rosterdb::fold(s)
}

/// The value(s) a path reaches in a document.
pub enum Got<'a> {
    Absent,
    One(&'a Value),
    Many(Vec<&'a Value>),
}

pub fn reach<'a>(doc: &'a Value, path: &str, ty: Ty) -> Got<'a> {
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

pub fn present(got: &Got) -> bool {
    match got {
        Got::Absent => false,
        Got::One(_) => true,
        Got::Many(items) => !items.is_empty(),
    }
}

pub fn num_cmp(a: &Number, b: &Number) -> Option<Ordering> {
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
pub fn value_cmp(v: &Value, ty: Ty, lit: &Lit) -> Option<Ordering> {
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

pub fn holds(v: &Value, ty: Ty, op: Op, lit: &Lit) -> bool {
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
pub enum Tok {
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
pub fn like(text: &str, pattern: &str, folded: bool) -> bool {
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

pub fn eval(ent: Ent, doc: &Value, ex: &Ex) -> bool {
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

pub fn search_matches(ent: Ent, doc: &Value, text: &str) -> bool {
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
pub enum SortVal {
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
    pub fn rank(&self) -> u8 {
        match self {
            SortVal::Null => 0,
            SortVal::Bool(_) => 1,
            SortVal::Num(_) | SortVal::Ts(_) => 2,
            SortVal::Str(_) | SortVal::Ident(_) => 3,
        }
    }
    pub fn cmp(&self, other: &SortVal) -> Ordering {
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

pub fn sort_val(ent: Ent, doc: &Value, path: &str) -> SortVal {
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
pub struct Pos {
    pub key: Vec<SortVal>,
    pub id: u64,
}

pub fn position(ent: Ent, doc: &Value, sort: &[SortKey]) -> Pos {
    Pos {
        key: sort.iter().map(|k| sort_val(ent, doc, k.path)).collect(),
        id: id_of(doc),
    }
}

pub fn pos_cmp(a: &Pos, b: &Pos, sort: &[SortKey]) -> Ordering {
    for (i, k) in sort.iter().enumerate() {
        let o = a.key[i].cmp(&b.key[i]);
        let o = if k.desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.id.cmp(&b.id)
}

pub fn id_of(doc: &Value) -> u64 {
    doc["id"].as_u64().expect("documents have ids")
}

/// What the oracle knows about the store: every live document.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub docs: BTreeMap<Ent, BTreeMap<u64, Value>>,
}

impl Model {
    pub fn docs(&self, ent: Ent) -> Vec<&Value> {
        self.docs
            .get(&ent)
            .map(|m| m.values().collect())
            .unwrap_or_default()
    }

    /// Every match of `q`, in sort order.
    pub fn matches(&self, ent: Ent, q: &Q) -> Vec<Value> {
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
