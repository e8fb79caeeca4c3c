//! Printing a resolved query for both front ends: an expression for
//! `Query::parse`, `and_where` and the builder, and the parameter pairs of
//! `Query::from_params`, each in many equivalent spellings.

use rosterdb::Query;
use serde_json::Value;

use crate::query::{Ex, Lit, Op, Paging, Q, SortKey};
use crate::schema::{Ent, Ty};

pub fn field_name(path: &str, style: u8) -> String {
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

pub fn keyword(word: &str, style: u8) -> String {
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

pub fn op_text(op: Op, style: u8) -> String {
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

pub fn lit_text(lit: &Lit, style: u8) -> String {
    match lit {
        Lit::Str(s) if style.is_multiple_of(2) => format!("'{}'", s.replace('\'', "''")),
        Lit::Str(s) => serde_json::to_string(s).expect("json string"),
        Lit::Num(n) => n.to_string(),
        Lit::Bool(b) => keyword(&b.to_string(), style / 2),
        Lit::Null => keyword("null", style / 2),
    }
}

pub fn print_expr(ex: &Ex) -> String {
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

pub fn sort_text(sort: &[SortKey]) -> String {
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

pub fn fields_text(fields: &[&str], style: u64) -> String {
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| field_name(f, (style >> (i * 2)) as u8))
        .collect::<Vec<_>>()
        .join(",")
}

pub const OP_PREFIXES: [&str; 8] = ["in", "like", "eq", "ne", "gt", "ge", "lt", "le"];

/// The parameter-form operand of a literal, when it reads back as the same literal.
pub fn param_operand(ty: Ty, lit: &Lit) -> Option<String> {
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

pub fn param_op(op: Op) -> Option<&'static str> {
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
pub fn as_param(ent: Ent, ex: &Ex) -> Option<(String, String)> {
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

pub fn and_parts(ex: &Ex) -> Vec<&Ex> {
    match ex {
        Ex::And(parts, _) => parts.iter().flat_map(and_parts).collect(),
        other => vec![other],
    }
}

/// The query in the parameter form.
pub fn to_params(q: &Q) -> Vec<(String, String)> {
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
pub fn to_builder(q: &Q) -> Result<Query, String> {
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
