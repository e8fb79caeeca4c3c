//! The planner (SPEC §3.4): which index finds the candidates, in which order
//! they are read, and what is left to check on each record.
//!
//! Every indexable conjunct of the filter gets an *access*: the index keys
//! that hold every record it can match. The planner counts each access's
//! candidates up to [`SMALL`]; the smallest becomes the *driver*. A small
//! driver's records are read, checked against the whole filter (the
//! residual) and sorted. Otherwise the page streams: in id order from the
//! driver or the record table, or in sort order from the index of the first
//! sort key, checking each record until the page is full, so page 10,000 of
//! a cursor walk costs what page 1 costs.

use super::check::{Cmp, Field, Filter, Scalar};
use super::index::{
    ABSENT, IndexDef, PRESENT, encode_bool, encode_int, encode_str, encode_time, index_of,
    trigram_index, trigram_prefix, trigrams,
};
use super::pattern::Case;
use super::schema::FieldType;
use super::sort::SortValue;
use crate::caseless::fold;
use crate::keys::{Key, prefix_end, trailing_u64};
use crate::schema::MultiTable;
use crate::tx::Tables;
use crate::{EntityKind, Result, Timestamp};

/// Drivers with fewer candidates than this are read whole and sorted.
pub const SMALL: usize = 256;

/// How one conjunct's candidates are found.
#[derive(Clone)]
pub enum Access {
    /// Keys in `[start, end)` of an index; each key ends with a record id.
    Range {
        /// The index table.
        table: MultiTable,
        /// The table's name, for explain.
        name: String,
        /// The first key.
        start: Vec<u8>,
        /// The key after the last (none: to the end).
        end: Option<Vec<u8>>,
        /// What the range stands for, for explain.
        what: String,
        /// Whether the range fixes everything but the id, so its ids come
        /// in ascending order.
        ordered: bool,
    },
    /// Any of several accesses.
    Union(Vec<Access>),
    /// Alternatives that each find every match alone (the trigrams of a
    /// pattern): the planner uses the smallest.
    AnyOf(Vec<Access>),
}

impl Access {
    pub fn describe(&self) -> String {
        match self {
            Access::Range { name, what, .. } => format!("index {name} ({what})"),
            Access::Union(parts) => {
                let parts: Vec<String> = parts.iter().map(Access::describe).collect();
                format!("union of [{}]", parts.join(", "))
            }
            Access::AnyOf(parts) => {
                let parts: Vec<String> = parts.iter().map(Access::describe).collect();
                format!("smallest of [{}]", parts.join(", "))
            }
        }
    }

    /// Whether its ids come in ascending order (a union merges them).
    pub fn is_ordered(&self) -> bool {
        match self {
            Access::Range { ordered, .. } => *ordered,
            Access::Union(parts) => parts.iter().all(Access::is_ordered),
            Access::AnyOf(_) => false,
        }
    }

    /// The next ids above `after`, ascending (up to `limit` of them, or
    /// fewer where a union's parts must catch up), and whether there are
    /// no more. Only for ordered accesses.
    pub fn ids_after(
        &self,
        tables: &dyn Tables,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<u64>, bool)> {
        match self {
            Access::Range {
                table, start, end, ..
            } => {
                let Some(next) = after.checked_add(1) else {
                    return Ok((Vec::new(), true));
                };
                let mut from = start.clone();
                from.extend_from_slice(&next.to_be_bytes());
                let keys = tables.keys_in_range(*table, &from, end.as_deref(), limit, false)?;
                let done = keys.len() < limit;
                Ok((keys.iter().filter_map(|k| trailing_u64(k)).collect(), done))
            }
            Access::Union(parts) => {
                let mut all = Vec::new();
                // Ids above the smallest last id of a part that has more are not final yet.
                let mut bound: Option<u64> = None;
                for part in parts {
                    let (ids, done) = part.ids_after(tables, after, limit)?;
                    if !done && let Some(&last) = ids.last() {
                        bound = Some(bound.map_or(last, |b| b.min(last)));
                    }
                    all.extend(ids);
                }
                all.sort_unstable();
                all.dedup();
                if let Some(bound) = bound {
                    all.retain(|&id| id <= bound);
                }
                Ok((all, bound.is_none()))
            }
            Access::AnyOf(_) => Err(crate::Error::internal("an unordered access was streamed")),
        }
    }

    /// The alternatives this access offers.
    fn options(&self) -> Vec<Access> {
        match self {
            Access::AnyOf(choices) => choices.clone(),
            other => vec![other.clone()],
        }
    }

    /// Up to `cap` candidate ids, ascending and distinct, and whether that is all of them.
    fn ids(&self, tables: &dyn Tables, cap: usize) -> Result<(Vec<u64>, bool)> {
        match self {
            Access::Range {
                table, start, end, ..
            } => {
                let keys = tables.keys_in_range(*table, start, end.as_deref(), cap + 1, false)?;
                let complete = keys.len() <= cap;
                let mut ids: Vec<u64> = keys
                    .iter()
                    .take(cap)
                    .filter_map(|k| trailing_u64(k))
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                Ok((ids, complete))
            }
            Access::AnyOf(_) => {
                // Resolved by `choose`, which tries each alternative.
                let mut best: Option<(Vec<u64>, bool)> = None;
                for option in self.options() {
                    let found = option.ids(tables, cap)?;
                    if best.as_ref().is_none_or(|b| found.0.len() < b.0.len()) {
                        best = Some(found);
                    }
                }
                Ok(best.unwrap_or((Vec::new(), true)))
            }
            Access::Union(parts) => {
                let mut all = Vec::new();
                let mut complete = true;
                for part in parts {
                    let (ids, done) = part.ids(tables, cap)?;
                    complete &= done;
                    all.extend(ids);
                }
                all.sort_unstable();
                all.dedup();
                if all.len() > cap {
                    all.truncate(cap);
                    complete = false;
                }
                Ok((all, complete))
            }
        }
    }
}

fn range(def: &IndexDef, start: Key, end: Option<Vec<u8>>, what: String) -> Access {
    Access::Range {
        table: def.table,
        name: redb::TableHandle::name(&def.table).to_owned(),
        start: start.into_bytes(),
        end,
        what,
        ordered: false,
    }
}

fn range_bytes(def: &IndexDef, start: Vec<u8>, end: Option<Vec<u8>>, what: String) -> Access {
    Access::Range {
        table: def.table,
        name: redb::TableHandle::name(&def.table).to_owned(),
        start,
        end,
        what,
        ordered: false,
    }
}

/// The range of keys that start with `prefix`.
fn prefix(def: &IndexDef, prefix: Key, what: String) -> Access {
    let end = prefix_end(prefix.bytes());
    range(def, prefix, end, what)
}

/// The keys of one whole value (everything but the id): ids ascending.
fn point(def: &IndexDef, prefix: Key, what: String) -> Access {
    let end = prefix_end(prefix.bytes());
    Access::Range {
        table: def.table,
        name: redb::TableHandle::name(&def.table).to_owned(),
        start: prefix.into_bytes(),
        end,
        what,
        ordered: true,
    }
}

/// The key part of a typed literal in an index of a field of type `ty`.
fn literal_key(ty: FieldType, value: &Scalar) -> Option<Key> {
    let present = Key::new().byte(PRESENT);
    match (ty, value) {
        (FieldType::Int | FieldType::Ints, Scalar::Int(v)) => Some(encode_int(present, *v)),
        (FieldType::Bool, Scalar::Bool(v)) => Some(encode_bool(present, *v)),
        // Ranges on the millisecond hold every match of a finer literal;
        // the residual check decides (and `exact_count` declines those).
        (FieldType::Time, Scalar::Time(v, _)) => Some(encode_time(present, *v)),
        (FieldType::Str | FieldType::Strs, Scalar::Str(folded)) => Some(present.str(folded)),
        // An identifier's keys hold its folded form and then its exact
        // form: the whole key picks exactly one value.
        (FieldType::Ident, Scalar::Ident(exact)) => Some(encode_str(present, exact)),
        _ => None,
    }
}

/// The access for one conjunct, if an index can find its candidates.
pub fn access(kind: EntityKind, filter: &Filter) -> Option<Access> {
    match filter {
        Filter::Or(parts) => parts
            .iter()
            .map(|p| access(kind, p))
            .collect::<Option<Vec<_>>>()
            .map(Access::Union),
        Filter::And(parts) => parts.iter().find_map(|p| access(kind, p)),
        Filter::Search(terms) => search_access(kind, terms),
        Filter::TenantIs(tenant) => {
            let index = index_of(kind, "tenant")?;
            Some(point(
                index,
                encode_str(Key::new().byte(PRESENT), tenant),
                format!("tenant {tenant:?}"),
            ))
        }
        Filter::Match {
            field: Field::Def(def),
            pattern,
            ..
        } => {
            if let Some(index) = index_of(kind, def.name)
                && let Some(start) = pattern.prefix()
            {
                // Index keys start with the folded value: an exact prefix
                // narrows to the keys with its folded form, a superset that
                // the residual check then holds to the exact case.
                let folded = match pattern.case() {
                    Case::Folded => start,
                    Case::Exact => fold(&start),
                };
                return Some(prefix(
                    index,
                    Key::new().byte(PRESENT).str_prefix(&folded),
                    format!("{} starts with {folded:?}", def.name),
                ));
            }
            trigram_access(kind, def.name, &pattern.literal_runs())
        }
        Filter::Absent(Field::Def(def)) => {
            let index = index_of(kind, def.name)?;
            Some(prefix(
                index,
                Key::new().byte(ABSENT),
                format!("{} is null", def.name),
            ))
        }
        Filter::Present(Field::Def(def)) => {
            let index = index_of(kind, def.name)?;
            Some(prefix(
                index,
                Key::new().byte(PRESENT),
                format!("{} is present", def.name),
            ))
        }
        Filter::Cmp {
            field: Field::Def(def),
            op,
            value,
        } => {
            let Some(index) = index_of(kind, def.name) else {
                // Equality implies containment: the trigram index can find it.
                return match (op, value) {
                    (Cmp::Eq, Scalar::Str(folded)) => {
                        trigram_access(kind, def.name, std::slice::from_ref(folded))
                    }
                    _ => None,
                };
            };
            let key = literal_key(def.ty, value)?;
            let what = format!("{} {op:?} {value:?}", def.name);
            // The index orders identifiers by their folded form, not by the
            // exact order their comparisons use: it answers only equality.
            if def.ty == FieldType::Ident && *op != Cmp::Eq {
                return None;
            }
            // `< t` with digits below the millisecond holds for that millisecond too.
            let op = match (op, value) {
                (Cmp::Lt, Scalar::Time(_, nanos)) if *nanos > 0 => &Cmp::Le,
                _ => op,
            };
            let present = Key::new().byte(PRESENT);
            let after_present = prefix_end(present.bytes());
            let after_key = prefix_end(key.bytes());
            match op {
                Cmp::Eq if matches!(def.ty, FieldType::Str | FieldType::Strs) => {
                    Some(prefix(index, key, what))
                }
                Cmp::Eq => Some(point(index, key, what)),
                Cmp::Ne => None,
                Cmp::Lt => Some(range(index, present, Some(key.into_bytes()), what)),
                Cmp::Le => Some(range(index, present, after_key, what)),
                Cmp::Gt => Some(range_bytes(index, after_key?, after_present, what)),
                Cmp::Ge => Some(range(index, key, after_present, what)),
            }
        }
        Filter::In {
            field: Field::Def(def),
            values,
            null,
        } => {
            let index = index_of(kind, def.name)?;
            let mut parts = Vec::new();
            for value in values {
                let key = literal_key(def.ty, value)?;
                let what = format!("{} = {value:?}", def.name);
                parts.push(if matches!(def.ty, FieldType::Str | FieldType::Strs) {
                    prefix(index, key, what)
                } else {
                    point(index, key, what)
                });
            }
            if *null {
                parts.push(prefix(
                    index,
                    Key::new().byte(ABSENT),
                    format!("{} is null", def.name),
                ));
            }
            Some(Access::Union(parts))
        }
        _ => None,
    }
}

/// Candidates for a text match through the trigram index: the records
/// holding the rarest trigram of the pattern's literal text.
fn trigram_access(kind: EntityKind, field: &str, runs: &[String]) -> Option<Access> {
    let (table, fields) = trigram_index(kind)?;
    let n = fields.iter().position(|f| *f == field)?;
    let grams: Vec<String> = runs.iter().flat_map(|r| trigrams(r)).collect();
    if grams.is_empty() {
        return None;
    }
    Some(trigram_choice(table, fields, &[n], &grams))
}

/// Candidates for `search`: for each term, the records holding one of its
/// trigrams in any search field; the planner picks the rarest.
fn search_access(kind: EntityKind, terms: &[String]) -> Option<Access> {
    let (table, fields) = trigram_index(kind)?;
    let grams: Vec<String> = terms.iter().flat_map(|t| trigrams(t)).collect();
    if grams.is_empty() {
        return None;
    }
    let all: Vec<usize> = (0..fields.len()).collect();
    Some(trigram_choice(table, fields, &all, &grams))
}

/// One trigram access per trigram (each a union over `fields`), wrapped so
/// the planner can pick the smallest: every matching record holds all of them.
fn trigram_choice(table: MultiTable, names: &[&str], fields: &[usize], grams: &[String]) -> Access {
    let name = redb::TableHandle::name(&table).to_owned();
    let options = grams
        .iter()
        .map(|g| {
            Access::Union(
                fields
                    .iter()
                    .map(|&f| {
                        let start = trigram_prefix(f, g);
                        let end = prefix_end(start.bytes());
                        Access::Range {
                            table,
                            name: name.clone(),
                            start: start.into_bytes(),
                            end,
                            what: format!("{} trigram {g:?}", names[f]),
                            ordered: true,
                        }
                    })
                    .collect(),
            )
        })
        .collect();
    Access::AnyOf(options)
}

/// The conjuncts of a filter.
fn conjuncts(filter: &Filter) -> Vec<&Filter> {
    match filter {
        Filter::And(parts) => parts.iter().flat_map(conjuncts).collect(),
        other => vec![other],
    }
}

/// The chosen way to find candidates.
pub enum Driver {
    /// Few enough candidates to read whole: these ids, ascending.
    Small {
        /// The candidate ids.
        ids: Vec<u64>,
        /// What found them.
        what: String,
    },
    /// Too many candidates to read whole: stream them.
    Stream {
        /// Why no index narrowed the search.
        why: String,
        /// An index whose ids come in ascending order and hold every match,
        /// to stream in id order instead of the whole record table.
        ordered: Option<Access>,
    },
}

/// Picks the driver: the access with the fewest candidates, if it has few.
pub fn choose(tables: &dyn Tables, kind: EntityKind, filter: Option<&Filter>) -> Result<Driver> {
    let Some(filter) = filter else {
        return Ok(Driver::Stream {
            why: "no filter".into(),
            ordered: None,
        });
    };
    if let Some(tenant) = conjuncts(filter).into_iter().find_map(|c| match c {
        Filter::TenantIs(t) => Some(t),
        _ => None,
    }) {
        return choose_scoped(tables, kind, filter, tenant);
    }
    let mut best: Option<(Vec<u64>, String)> = None;
    let mut seen_large = Vec::new();
    let mut ordered = None;
    for conjunct in conjuncts(filter) {
        let Some(access) = access(kind, conjunct) else {
            continue;
        };
        for candidate in access.options() {
            let (ids, complete) = candidate.ids(tables, SMALL)?;
            if !complete {
                seen_large.push(candidate.describe());
                if ordered.is_none() && candidate.is_ordered() {
                    ordered = Some(candidate);
                }
                continue;
            }
            if best.as_ref().is_none_or(|(b, _)| ids.len() < b.len()) {
                best = Some((ids, candidate.describe()));
            }
        }
    }
    Ok(match best {
        Some((ids, what)) => Driver::Small { ids, what },
        None if seen_large.is_empty() => Driver::Stream {
            why: "no indexed condition".into(),
            ordered: None,
        },
        None => Driver::Stream {
            why: format!(
                "every index matches {SMALL} or more: {}",
                seen_large.join(", ")
            ),
            ordered,
        },
    })
}

/// The tightest key range a conjunct puts on `table` (an index the page
/// streams in order), so the stream can start and stop there.
pub fn bounds(
    kind: EntityKind,
    filter: Option<&Filter>,
    table: MultiTable,
) -> (Vec<u8>, Option<Vec<u8>>) {
    let table_name = redb::TableHandle::name(&table);
    let mut start: Vec<u8> = Vec::new();
    let mut end: Option<Vec<u8>> = None;
    for conjunct in filter.map(conjuncts).unwrap_or_default() {
        if let Some(Access::Range {
            name,
            start: s,
            end: e,
            ..
        }) = access(kind, conjunct)
            && name == table_name
        {
            if s > start {
                start = s;
            }
            if let Some(e) = e
                && end.as_ref().is_none_or(|cur| e < *cur)
            {
                end = Some(e);
            }
        }
    }
    (start, end)
}

/// Conditions a record must meet that its id can be checked against in an
/// index without reading the record: `field = value` on indexed fields whose
/// keys hold the whole value (not strings, whose keys also hold the exact
/// spelling). Each is a key prefix to which the id is appended.
pub fn probes(kind: EntityKind, filter: Option<&Filter>) -> Vec<(MultiTable, Vec<u8>)> {
    let mut out = Vec::new();
    for conjunct in filter.map(conjuncts).unwrap_or_default() {
        if let Filter::TenantIs(tenant) = conjunct
            && let Some(index) = index_of(kind, "tenant")
        {
            out.push((
                index.table,
                encode_str(Key::new().byte(PRESENT), tenant).into_bytes(),
            ));
        }
        if let Filter::Cmp {
            field: Field::Def(def),
            op: Cmp::Eq,
            value,
        } = conjunct
            && !matches!(def.ty, FieldType::Str | FieldType::Strs)
            && let Some(index) = index_of(kind, def.name)
            && let Some(key) = literal_key(def.ty, value)
        {
            out.push((index.table, key.into_bytes()));
        }
    }
    out
}

/// The driver of a scoped view's query. It depends only on the tenant's own
/// records and on the query's shape, never on how many records other tenants
/// have, so neither its speed nor `explain` tells anything of them: the
/// tenant's records when they are few, else a stream from the first
/// condition whose index yields ids in order.
fn choose_scoped(
    tables: &dyn Tables,
    kind: EntityKind,
    filter: &Filter,
    tenant: &str,
) -> Result<Driver> {
    let own = access(kind, &Filter::TenantIs(tenant.to_owned()));
    if let Some(own) = &own {
        let (ids, complete) = own.ids(tables, SMALL)?;
        if complete {
            return Ok(Driver::Small {
                ids,
                what: own.describe(),
            });
        }
    }
    let ordered = conjuncts(filter)
        .into_iter()
        .filter(|c| !matches!(c, Filter::TenantIs(_)))
        .filter_map(|c| access(kind, c))
        .flat_map(|a| a.options())
        .find(Access::is_ordered)
        .or(own);
    Ok(Driver::Stream {
        why: "a scoped view".into(),
        ordered,
    })
}

/// The index that yields records in the order of the first sort key, if any.
///
/// Not for identifiers (`tenant`): their index is in folded order, their
/// sort exact (§2.5), so a page sorted by one reads every match and sorts.
pub fn sort_index(kind: EntityKind, sort: &[Field]) -> Option<&'static IndexDef> {
    match sort.first() {
        Some(Field::Def(def)) if def.ty != FieldType::Ident => {
            index_of(kind, def.name).filter(|_| def.ty.sortable())
        }
        _ => None,
    }
}

/// The index key (without the id) of a sort value of an indexed field.
pub fn sort_value_key(value: &SortValue) -> Key {
    let present = Key::new().byte(PRESENT);
    match value {
        SortValue::Absent => Key::new().byte(ABSENT),
        SortValue::Bool(b) => encode_bool(present, *b),
        SortValue::Int(v) => encode_int(present, *v),
        SortValue::Time(ms) => match Timestamp::from_millis(*ms) {
            Some(t) => encode_time(present, t),
            None => present,
        },
        SortValue::Str(_, exact) | SortValue::Ident(exact) => encode_str(present, exact),
        SortValue::Num(_) | SortValue::Other(_) => present,
    }
}

/// The number of matches counted from index keys alone, when the filter is
/// one condition an index answers exactly (no record needs reading).
pub fn exact_count(tables: &dyn Tables, kind: EntityKind, filter: &Filter) -> Result<Option<u64>> {
    if let Filter::TenantIs(_) = filter {
        return access(kind, filter)
            .map(|a| count_access(tables, &a))
            .transpose();
    }
    let (field, exact) = match filter {
        Filter::Cmp {
            value: Scalar::Time(_, nanos),
            ..
        } if *nanos > 0 => return Ok(None),
        Filter::Cmp { field, op, .. } => (field, *op != Cmp::Ne),
        Filter::Absent(field) | Filter::Present(field) => (field, true),
        Filter::In { field, values, .. } => {
            let distinct = values
                .iter()
                .enumerate()
                .all(|(i, v)| !values[..i].contains(v));
            let to_the_ms = !values
                .iter()
                .any(|v| matches!(v, Scalar::Time(_, n) if *n > 0));
            (field, distinct && to_the_ms)
        }
        // An exact pattern's index range also holds other cases of its prefix.
        Filter::Match { field, pattern, .. } => (
            field,
            pattern.prefix().is_some() && pattern.case() == Case::Folded,
        ),
        _ => return Ok(None),
    };
    let Field::Def(def) = field else {
        return Ok(None);
    };
    // Only an ordered index of the field itself answers exactly; a list
    // field puts one key per element, so only equality counts each record once.
    let indexed = index_of(kind, def.name).is_some();
    let scalar = def.ty.sortable() || matches!(filter, Filter::Cmp { op: Cmp::Eq, .. });
    if !exact || !scalar || !indexed {
        return Ok(None);
    }
    let Some(access) = access(kind, filter) else {
        return Ok(None);
    };
    count_access(tables, &access).map(Some)
}

fn count_access(tables: &dyn Tables, access: &Access) -> Result<u64> {
    match access {
        Access::Range {
            table, start, end, ..
        } => tables.count_range(*table, start, end.as_deref()),
        Access::Union(parts) => parts.iter().map(|a| count_access(tables, a)).sum(),
        Access::AnyOf(_) => Err(crate::Error::internal("an inexact access was counted")),
    }
}
