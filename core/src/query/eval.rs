//! Evaluating a typed filter on one record (docs/reference/queries.md, Semantics): the residual
//! filter of every plan, and the whole of a scan.

use std::cmp::Ordering;

use super::check::{Cmp, Field, Filter, Scalar};
use super::pattern::folded_contains;
use crate::Timestamp;
use crate::documents::caseless::fold;
use crate::documents::json::Json;
use crate::documents::values::{FieldValue, Queryable};

/// Whether `record` satisfies `filter` at `now`.
pub fn matches(filter: &Filter, record: &impl Queryable, search: &[&str], now: Timestamp) -> bool {
    match filter {
        Filter::And(parts) => parts.iter().all(|p| matches(p, record, search, now)),
        Filter::Or(parts) => parts.iter().any(|p| matches(p, record, search, now)),
        Filter::Not(part) => !matches(part, record, search, now),
        Filter::Present(field)
        | Filter::Absent(field)
        | Filter::Cmp { field, .. }
        | Filter::In { field, .. }
        | Filter::Match { field, .. } => {
            value_matches(filter, &read(field, record, now)).unwrap_or(false)
        }
        Filter::TenantIs(tenant) => {
            matches!(record.value("tenant", now), FieldValue::Str(t) if t == tenant)
        }
        Filter::Search(terms) => search_matches(terms, record, search, now),
    }
}

/// Whether checking `filter` reads a record's `attributes` (a condition on
/// an `attributes.…` path).
pub(crate) fn reads_attributes(filter: &Filter) -> bool {
    match filter {
        Filter::And(parts) | Filter::Or(parts) => parts.iter().any(reads_attributes),
        Filter::Not(part) => reads_attributes(part),
        Filter::Present(field)
        | Filter::Absent(field)
        | Filter::Cmp { field, .. }
        | Filter::In { field, .. }
        | Filter::Match { field, .. } => matches!(field, Field::Attr(_)),
        Filter::TenantIs(_) | Filter::Search(_) => false,
    }
}

/// Whether `value`, the value of the one field a condition names,
/// satisfies it: for `Present`, `Absent`, `Cmp`, `In` and `Match` (what
/// [`matches`] decides for a record holding that value); `None` for any
/// other filter.
pub(crate) fn value_matches(filter: &Filter, value: &FieldValue<'_>) -> Option<bool> {
    Some(match filter {
        Filter::Present(_) => !is_absent(value),
        Filter::Absent(_) => is_absent(value),
        Filter::Cmp { op, value: x, .. } => compare(value, *op, x),
        Filter::In { values, null, .. } => {
            (*null && is_absent(value)) || values.iter().any(|x| compare(value, Cmp::Eq, x))
        }
        Filter::Match { pattern, .. } => any_text(value, &mut |s| pattern.matches(s)),
        _ => return None,
    })
}

/// Whether every term (folded) occurs in the folded text of one of the
/// `search` fields. For each term the fields whose text is ASCII, which
/// folds without being folded, are looked in first: the order of the
/// fields does not change the answer.
fn search_matches(
    terms: &[String],
    record: &impl Queryable,
    search: &[&str],
    now: Timestamp,
) -> bool {
    let text = |name: &&str| match record.value(name, now) {
        FieldValue::Str(s) => Some(s),
        _ => None,
    };
    terms.iter().all(|term| {
        search
            .iter()
            .filter_map(text)
            .any(|s| s.is_ascii() && folded_contains(s, term))
            || search
                .iter()
                .filter_map(text)
                .any(|s| !s.is_ascii() && folded_contains(s, term))
    })
}

/// A field's value, reaching into `attributes` for [`Field::Attr`].
pub fn read<'r>(field: &Field, record: &'r impl Queryable, now: Timestamp) -> FieldValue<'r> {
    match field {
        Field::Def(def) => record.value(def.name, now),
        Field::Attr(keys) => {
            let mut node = match record.attributes() {
                Some(a) => a,
                None => return FieldValue::Absent,
            };
            for key in keys {
                match node.get(key) {
                    Some(next) => node = next,
                    None => return FieldValue::Absent,
                }
            }
            match node {
                Json::Null => FieldValue::Absent,
                json => FieldValue::Json(json),
            }
        }
    }
}

fn is_absent(value: &FieldValue<'_>) -> bool {
    match value {
        FieldValue::Absent => true,
        FieldValue::Ints(items) => items.is_empty(),
        FieldValue::Strs(items) => items.is_empty(),
        FieldValue::Json(Json::Arr(items)) => items.is_empty(),
        _ => false,
    }
}

/// Whether any string in `value` satisfies `test`.
fn any_text(value: &FieldValue<'_>, test: &mut dyn FnMut(&str) -> bool) -> bool {
    match value {
        FieldValue::Str(s) => test(s),
        FieldValue::Strs(items) => items.iter().any(|s| test(s)),
        FieldValue::Json(json) => any_json(json, &mut |j| matches!(j, Json::Str(s) if test(s))),
        _ => false,
    }
}

/// Applies `test` to a JSON value, or to each element of an array.
fn any_json(json: &Json, test: &mut dyn FnMut(&Json) -> bool) -> bool {
    match json {
        Json::Arr(items) => items.iter().any(&mut *test),
        j => test(j),
    }
}

/// `value op literal`: false for absent values; on arrays any element
/// satisfies it (for `!=`: no element equals).
fn compare(value: &FieldValue<'_>, op: Cmp, literal: &Scalar) -> bool {
    if op == Cmp::Ne {
        return match value {
            FieldValue::Absent => false,
            FieldValue::Ints(_) | FieldValue::Strs(_) | FieldValue::Json(Json::Arr(_)) => {
                !compare(value, Cmp::Eq, literal)
            }
            FieldValue::Json(json) => {
                same_json_type(json, literal) && !compare(value, Cmp::Eq, literal)
            }
            _ => !compare(value, Cmp::Eq, literal),
        };
    }
    let ordering = |o: Option<Ordering>| o.is_some_and(|o| holds(op, o));
    match (value, literal) {
        (FieldValue::Int(v), Scalar::Int(x)) => holds(op, v.cmp(x)),
        (FieldValue::Ints(items), Scalar::Int(x)) => items.iter().any(|v| holds(op, v.cmp(x))),
        (FieldValue::Str(v), Scalar::Str(x)) => holds(op, fold(v).as_str().cmp(x.as_str())),
        // Identifiers compare exactly, by their characters
        // (docs/reference/documents.md, Caseless matching).
        (FieldValue::Str(v), Scalar::Ident(x)) => holds(op, (*v).cmp(x.as_str())),
        (FieldValue::Strs(items), Scalar::Str(x)) => items
            .iter()
            .any(|v| holds(op, fold(v).as_str().cmp(x.as_str()))),
        (FieldValue::Bool(v), Scalar::Bool(x)) => holds(op, v.cmp(x)),
        // A stored instant has no digits beyond the millisecond: it is
        // before a literal with some in the same millisecond.
        (FieldValue::Time(v), Scalar::Time(x, nanos)) => holds(
            op,
            v.cmp(x).then(if *nanos > 0 {
                Ordering::Less
            } else {
                Ordering::Equal
            }),
        ),
        (FieldValue::Json(json), Scalar::Json(x)) => {
            any_json(json, &mut |j| ordering(json_cmp(j, x)))
        }
        _ => false,
    }
}

fn holds(op: Cmp, ordering: Ordering) -> bool {
    match op {
        Cmp::Eq => ordering == Ordering::Equal,
        Cmp::Ne => ordering != Ordering::Equal,
        Cmp::Lt => ordering == Ordering::Less,
        Cmp::Le => ordering != Ordering::Greater,
        Cmp::Gt => ordering == Ordering::Greater,
        Cmp::Ge => ordering != Ordering::Less,
    }
}

fn same_json_type(json: &Json, literal: &Scalar) -> bool {
    let Scalar::Json(x) = literal else {
        return false;
    };
    json_cmp(json, x).is_some()
}

/// Compares a stored JSON scalar with a literal (whose strings are folded);
/// `None` when their types differ.
fn json_cmp(value: &Json, literal: &Json) -> Option<Ordering> {
    match (value, literal) {
        (Json::Str(v), Json::Str(x)) => Some(fold(v).as_str().cmp(x.as_str())),
        (Json::Bool(v), Json::Bool(x)) => Some(v.cmp(x)),
        (a, b) => Some(number_cmp(as_number(a)?, as_number(b)?)),
    }
}

pub(crate) use crate::documents::json::{Num, as_number, number_cmp};
