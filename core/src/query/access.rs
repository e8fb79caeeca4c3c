//! Access paths into the secondary indexes (docs/reference/queries.md, "Results, paging and
//! planning"): for one condition, the index keys that hold every record it can match, and how to
//! read their ids (counted, streamed in id order, or counted from keys alone).
//!
//! An access on a posting table (`storage::postings`: the trigram index,
//! and the postings of tenant, enabled and roles) reads its ids as a bitmap
//! set ([`IdSet`]): its ids come in order, its count and intersections
//! with other posting accesses read no record and no per-id key.

use std::fmt;

use super::check::{Cmp, Field, Filter, Scalar};
use super::filter_text::Quoted;
use super::pattern::Case;
use super::schema::FieldType;
use super::sort::SortValue;
use super::term_postings::{self, TermPostings};
use crate::documents::caseless::fold;
use crate::storage::index::{
    ABSENT, IndexDef, IndexStore, PRESENT, encode_bool, encode_int, encode_str, encode_time,
    index_of, trigram_index, trigram_prefix, trigram_start, trigrams,
};
use crate::storage::keys::{Key, prefix_end, trailing_u64};
use crate::storage::postings::{IdSet, PostingTable, RawPostings};
use crate::storage::schema::MultiTable;
use crate::storage::tx::Tables;
use crate::{EntityKind, Error, Result, Timestamp};
use roaring::{MultiOps, RoaringBitmap};

/// An index table, named in plans and compared by name: an ordered index
/// (keys ending in ids) or a posting table (terms → id bitmaps).
#[derive(Clone, Copy)]
pub enum IndexTable {
    /// An ordered index.
    Ordered(MultiTable),
    /// A posting table.
    Postings(PostingTable),
}

impl IndexTable {
    /// The table an index condition reads: the field's ordered index or
    /// its postings.
    pub fn of(def: &IndexDef) -> IndexTable {
        match def.store {
            IndexStore::Ordered { table, .. } => IndexTable::Ordered(table),
            IndexStore::Postings { table, .. } => IndexTable::Postings(table),
        }
    }

    /// The ordered table, to read; `Internal` for a posting table.
    pub fn table(self) -> Result<MultiTable> {
        match self {
            IndexTable::Ordered(table) => Ok(table),
            IndexTable::Postings(_) => Err(Error::internal(format!(
                "{} holds postings, not index keys",
                self.name()
            ))),
        }
    }

    /// Whether the table holds postings.
    pub fn is_postings(&self) -> bool {
        matches!(self, IndexTable::Postings(_))
    }

    /// The table's name, e.g. `idx.user.last_name`.
    pub fn name(&self) -> &str {
        match self {
            IndexTable::Ordered(table) => redb::TableHandle::name(table),
            IndexTable::Postings(table) => redb::TableHandle::name(table),
        }
    }
}

impl PartialEq for IndexTable {
    fn eq(&self, other: &IndexTable) -> bool {
        self.name() == other.name()
    }
}

impl fmt::Debug for IndexTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for IndexTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the keys of one index range stand for, as a plan shows them.
#[derive(Clone, Debug, PartialEq)]
pub enum Span {
    /// The records without the field (an empty list included).
    Absent,
    /// The records with the field, whatever its value.
    Present,
    /// One value (for text: every spelling of its folded form; for a
    /// timestamp: its millisecond).
    Equal(Scalar),
    /// The values starting with this text (folded, or exact for `tenant`).
    Prefix(String),
    /// The values `op` a literal (`<`, `<=`, `>`, `>=`), to the millisecond
    /// for timestamps.
    Compare(Cmp, Scalar),
    /// The records holding a trigram (three folded characters) in a field.
    Trigram {
        /// The field.
        field: &'static str,
        /// The trigram.
        gram: String,
    },
    /// The records holding a trigram that starts with these one or two
    /// folded characters in a field (a text ends with two markers, so
    /// every short substring starts a trigram).
    TrigramPrefix {
        /// The field.
        field: &'static str,
        /// The characters.
        text: String,
    },
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Span::Absent => f.write_str("is null"),
            Span::Present => f.write_str("is not null"),
            Span::Equal(value) => write!(f, "= {value}"),
            Span::Prefix(text) => write!(f, "prefix {}", Quoted(text)),
            Span::Compare(op, value) => write!(f, "{op} {value}"),
            Span::Trigram { field, gram } => write!(f, "{field} trigram {}", Quoted(gram)),
            Span::TrigramPrefix { field, text } => {
                write!(f, "{field} trigram prefix {}", Quoted(text))
            }
        }
    }
}

/// How one condition's candidates are found.
#[derive(Clone, Debug, PartialEq)]
pub enum Access {
    /// Keys in `[start, end)` of an index; each key ends with a record id.
    Range {
        /// The index.
        index: IndexTable,
        /// The first key.
        start: Vec<u8>,
        /// The key after the last (none: to the end).
        end: Option<Vec<u8>>,
        /// What the range stands for.
        span: Span,
        /// Whether the range fixes everything but the id, so its ids come
        /// in ascending order.
        ordered: bool,
    },
    /// Any of several accesses.
    Union(Vec<Access>),
    /// The ids every one of several posting accesses holds (the trigrams of
    /// a pattern, or several indexed conditions): their bitmaps intersected.
    All(Vec<Access>),
}

impl fmt::Display for Access {
    /// `idx.user.last_name = 'hopper'`; a union of ranges of one index as
    /// `idx.user.email.order (= 'a' or = 'b')`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Access::Range { index, span, .. } => write!(f, "{index} {span}"),
            Access::Union(parts) => {
                let spans: Option<Vec<(&IndexTable, &Span)>> = parts
                    .iter()
                    .map(|part| match part {
                        Access::Range { index, span, .. } => Some((index, span)),
                        _ => None,
                    })
                    .collect();
                match spans.as_deref() {
                    Some([]) => f.write_str("nothing"),
                    Some([(index, span)]) => write!(f, "{index} {span}"),
                    Some(all @ [(index, _), ..]) if all.iter().all(|(i, _)| i == index) => {
                        write!(f, "{index} (")?;
                        for (n, (_, span)) in all.iter().enumerate() {
                            if n > 0 {
                                f.write_str(" or ")?;
                            }
                            write!(f, "{span}")?;
                        }
                        f.write_str(")")
                    }
                    _ => write_list(f, "", parts, " or ", ""),
                }
            }
            Access::All(parts) => {
                // Parts on one index name it once: `idx (a and b)`.
                let texts: Vec<String> = parts.iter().map(ToString::to_string).collect();
                let index = match parts.first() {
                    Some(Access::Range { index, .. }) => Some(index.name().to_owned()),
                    Some(Access::Union(inner)) => match inner.first() {
                        Some(Access::Range { index, .. }) => Some(index.name().to_owned()),
                        _ => None,
                    },
                    _ => None,
                };
                let lead = index.map(|name| format!("{name} "));
                let rests: Option<Vec<&str>> = lead
                    .as_deref()
                    .and_then(|lead| texts.iter().map(|t| t.strip_prefix(lead)).collect());
                match (lead, rests) {
                    (Some(lead), Some(rests)) => write!(f, "{lead}({})", rests.join(" and ")),
                    _ => write_list(f, "", parts, " and ", ""),
                }
            }
        }
    }
}

fn write_list(
    f: &mut fmt::Formatter<'_>,
    open: &str,
    parts: &[Access],
    separator: &str,
    close: &str,
) -> fmt::Result {
    f.write_str(open)?;
    for (n, part) in parts.iter().enumerate() {
        if n > 0 {
            f.write_str(separator)?;
        }
        write!(f, "({part})")?;
    }
    f.write_str(close)
}

impl Access {
    /// Whether its ids come in ascending order (a union merges them; a
    /// posting access reads them as a set).
    pub fn is_ordered(&self) -> bool {
        match self {
            Access::Range { ordered, index, .. } => *ordered || index.is_postings(),
            Access::Union(parts) => parts.iter().all(Access::is_ordered),
            Access::All(_) => self.is_postings(),
        }
    }

    /// Whether it reads only posting tables (its ids are a bitmap set).
    pub fn is_postings(&self) -> bool {
        match self {
            Access::Range { index, .. } => index.is_postings(),
            Access::Union(parts) | Access::All(parts) => {
                !parts.is_empty() && parts.iter().all(Access::is_postings)
            }
        }
    }

    /// Its ids as a bitmap set, when it reads only posting tables; `None`
    /// otherwise (nothing read).
    ///
    /// Errors: `Storage` when a table cannot be read.
    pub fn id_set(&self, tables: &dyn Tables) -> Result<Option<IdSet>> {
        if !self.is_postings() {
            return Ok(None);
        }
        self.read_set(tables).map(Some)
    }

    /// Its ids, their keys read once and their bitmaps decoded (and, for a
    /// large range, read) a chunk at a time, in id order, when it reads
    /// only posting tables; `None` otherwise (nothing read).
    ///
    /// Errors: `Storage` when a table cannot be read.
    pub(crate) fn chunked(&self, tables: &dyn Tables) -> Result<Option<ChunkedIds>> {
        if !self.is_postings() {
            return Ok(None);
        }
        self.read_chunked(tables).map(Some)
    }

    /// The undecoded entries of an access that reads only posting tables.
    fn read_chunked(&self, tables: &dyn Tables) -> Result<ChunkedIds> {
        match self {
            // A whole trigram's range holds one term (`start`, terminated,
            // so no other term starts with it): read a chunk at a time.
            Access::Range {
                index: IndexTable::Postings(table),
                start,
                end,
                span: Span::Trigram { .. },
                ..
            } => Ok(ChunkedIds::Term(TermPostings::new(
                *table,
                start,
                end.as_deref(),
            ))),
            // Every trigram a short needle starts: terms found in one pass,
            // each then read a chunk at a time.
            Access::Range {
                index: IndexTable::Postings(table),
                start,
                end,
                span: Span::TrigramPrefix { .. },
                ..
            } => Ok(ChunkedIds::Union(
                term_postings::terms_in(tables, *table, start, end.as_deref())?
                    .into_iter()
                    .map(ChunkedIds::Term)
                    .collect(),
            )),
            Access::Range {
                index: IndexTable::Postings(table),
                start,
                end,
                ..
            } => crate::storage::postings::read_raw(tables, *table, start, end.as_deref())
                .map(ChunkedIds::Range),
            Access::Union(parts) => parts
                .iter()
                .map(|p| p.read_chunked(tables))
                .collect::<Result<Vec<_>>>()
                .map(ChunkedIds::Union),
            Access::All(parts) => parts
                .iter()
                .map(|p| p.read_chunked(tables))
                .collect::<Result<Vec<_>>>()
                .map(ChunkedIds::All),
            _ => Err(Error::internal(format!("{self} was read as postings"))),
        }
    }

    /// Its ids in id order until their number is above `cap` (the ids of
    /// whole chunks; or, when those of the first chunk's first quarter are
    /// above `cap` already, only those), and whether that is all of them; `None` when it does not read only
    /// posting tables. Later chunks are read but not decoded. Every id
    /// up to the set's last one is in it, so the ids after it continue it.
    ///
    /// Errors: `Storage` when a table cannot be read, `Internal` when a
    /// bitmap does not decode.
    pub(crate) fn first_ids(&self, tables: &dyn Tables, cap: u64) -> Result<Option<(IdSet, bool)>> {
        let Some(chunked) = self.chunked(tables)? else {
            return Ok(None);
        };
        let mut set = IdSet::new();
        let mut len: u64 = 0;
        let mut from = 0;
        let mut first = true;
        while let Some(chunk) = chunked.next_chunk(tables, from)? {
            // Only the first chunk's start is tried alone: for sparse ids,
            // which take many chunks, that reads one chunk twice at most.
            if std::mem::take(&mut first) {
                let start = chunked.chunk_below(tables, chunk, FIRST_PART)?;
                if start.len() > cap {
                    set.add_chunk(chunk, start);
                    return Ok(Some((set, false)));
                }
            }
            let bitmap = chunked.chunk(tables, chunk)?;
            len = len.saturating_add(bitmap.len());
            set.add_chunk(chunk, bitmap);
            if len > cap {
                // Whole only when no later chunk can hold an id.
                let whole = match chunk.checked_add(1) {
                    Some(next) => chunked.next_chunk(tables, next)?.is_none(),
                    None => true,
                };
                return Ok(Some((set, whole)));
            }
            match chunk.checked_add(1) {
                Some(next) => from = next,
                None => break,
            }
        }
        Ok(Some((set, true)))
    }

    /// The ids of an access that reads only posting tables.
    fn read_set(&self, tables: &dyn Tables) -> Result<IdSet> {
        match self {
            Access::Range {
                index: IndexTable::Postings(table),
                start,
                end,
                ..
            } => crate::storage::postings::read(tables, *table, start, end.as_deref()),
            Access::Union(parts) => {
                let mut set = IdSet::new();
                for part in parts {
                    set.union_with(part.read_set(tables)?);
                }
                Ok(set)
            }
            Access::All(parts) => {
                let mut set: Option<IdSet> = None;
                for part in parts {
                    let next = part.read_set(tables)?;
                    match &mut set {
                        None => set = Some(next),
                        Some(set) => set.intersect_with(&next),
                    }
                    if set.as_ref().is_some_and(IdSet::is_empty) {
                        break;
                    }
                }
                Ok(set.unwrap_or_default())
            }
            _ => Err(Error::internal(format!("{self} was read as postings"))),
        }
    }

    /// The next ids above `after`, ascending (up to `limit` of them, or
    /// fewer where a union's parts must catch up), and whether there are
    /// no more. Only for ordered accesses: another is an `Internal` error.
    pub fn ids_after(
        &self,
        tables: &dyn Tables,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<u64>, bool)> {
        if let Some(set) = self.id_set(tables)? {
            let ids = set.ids_after(after, limit);
            let done = ids.len() < limit;
            return Ok((ids, done));
        }
        match self {
            Access::Range {
                index, start, end, ..
            } => {
                let Some(next) = after.checked_add(1) else {
                    return Ok((Vec::new(), true));
                };
                let mut from = start.clone();
                from.extend_from_slice(&next.to_be_bytes());
                let keys =
                    tables.keys_in_range(index.table()?, &from, end.as_deref(), limit, false)?;
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
            Access::All(_) => Err(Error::internal("an unordered access was streamed")),
        }
    }

    /// Up to `cap` candidate ids, ascending and distinct, and whether that is all of them.
    pub fn ids(&self, tables: &dyn Tables, cap: usize) -> Result<(Vec<u64>, bool)> {
        if let Some(set) = self.id_set(tables)? {
            let complete = set.len() <= cap as u64;
            return Ok((set.iter().take(cap).collect(), complete));
        }
        match self {
            Access::All(_) => Err(Error::internal("an intersection of index keys was read")),
            Access::Range {
                index, start, end, ..
            } => {
                let keys = tables.keys_in_range(
                    index.table()?,
                    start,
                    end.as_deref(),
                    cap.saturating_add(1),
                    false,
                )?;
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

    /// The number of keys in the access (for an exact access: of matches),
    /// read from the index alone. An intersection of index keys is an
    /// `Internal` error.
    pub fn count(&self, tables: &dyn Tables) -> Result<u64> {
        if let Some(set) = self.id_set(tables)? {
            return Ok(set.len());
        }
        match self {
            Access::Range {
                index, start, end, ..
            } => tables.count_range(index.table()?, start, end.as_deref()),
            Access::Union(parts) => {
                let mut n: u64 = 0;
                for part in parts {
                    n = n.saturating_add(part.count(tables)?);
                }
                Ok(n)
            }
            Access::All(_) => Err(Error::internal("an inexact access was counted")),
        }
    }
}

/// The ids of a posting access, its keys read once and its bitmaps read
/// (`RawPostings`) and decoded a chunk at a time: a union or intersection
/// built chunk by chunk in id order.
pub(crate) enum ChunkedIds {
    /// The entries of one posting range.
    Range(RawPostings),
    /// The entries of one term, read a few chunks at a time.
    Term(TermPostings),
    /// Any of several.
    Union(Vec<ChunkedIds>),
    /// Every one of several.
    All(Vec<ChunkedIds>),
}

/// The low bits of every id of a chunk lie below this.
const WHOLE_CHUNK: u32 = 1 << crate::storage::postings::CHUNK_BITS;

/// How far into a chunk [`Access::first_ids`] plans first: a quarter of
/// it, whose candidates are usually enough for a page.
const FIRST_PART: u32 = WHOLE_CHUNK / 4;

impl ChunkedIds {
    /// The first chunk at or after `from` that may hold ids (every part of
    /// an intersection has an entry there; the chunk may still be empty),
    /// reading from `tables` the entries of a term not read yet.
    ///
    /// Errors: `Storage` when a table cannot be read, `Internal` when a
    /// posting key is damaged.
    pub(crate) fn next_chunk(&self, tables: &dyn Tables, from: u64) -> Result<Option<u64>> {
        match self {
            ChunkedIds::Range(raw) => Ok(raw.next_chunk(from)),
            ChunkedIds::Term(term) => term.next_chunk(tables, from),
            ChunkedIds::Union(parts) => {
                let mut first: Option<u64> = None;
                for part in parts {
                    if let Some(chunk) = part.next_chunk(tables, from)? {
                        first = Some(first.map_or(chunk, |f| f.min(chunk)));
                    }
                }
                Ok(first)
            }
            ChunkedIds::All(parts) => {
                if parts.is_empty() {
                    return Ok(None);
                }
                // Leapfrog: the first chunk every part has an entry at.
                let mut at = from;
                loop {
                    let mut furthest = at;
                    for part in parts {
                        match part.next_chunk(tables, at)? {
                            Some(chunk) => furthest = furthest.max(chunk),
                            None => return Ok(None),
                        }
                    }
                    if furthest == at {
                        return Ok(Some(at));
                    }
                    at = furthest;
                }
            }
        }
    }

    /// The low bits of the ids of one chunk (reading, from `tables`, the
    /// entries of that chunk that were not read with the keys).
    ///
    /// Errors: `Storage` when a table cannot be read, `Internal` when a
    /// bitmap does not decode.
    pub(crate) fn chunk(&self, tables: &dyn Tables, chunk: u64) -> Result<RoaringBitmap> {
        self.chunk_below(tables, chunk, WHOLE_CHUNK)
    }

    /// [`ChunkedIds::chunk`], only the low bits below `below` (each part's
    /// bitmap cut before it is merged, so a first page planned on the
    /// start of a chunk merges only that start).
    ///
    /// Errors: as [`ChunkedIds::chunk`].
    pub(crate) fn chunk_below(
        &self,
        tables: &dyn Tables,
        chunk: u64,
        below: u32,
    ) -> Result<RoaringBitmap> {
        let cut = |mut bitmap: RoaringBitmap| {
            if below < WHOLE_CHUNK {
                bitmap.remove_range(below..);
            }
            bitmap
        };
        match self {
            ChunkedIds::Range(raw) => raw.chunk(tables, chunk).map(cut),
            ChunkedIds::Term(term) => term.chunk(tables, chunk).map(cut),
            ChunkedIds::Union(parts) => parts
                .iter()
                .map(|part| part.chunk_below(tables, chunk, below))
                .union(),
            ChunkedIds::All(parts) => {
                let mut all: Option<RoaringBitmap> = None;
                for part in parts {
                    let next = part.chunk_below(tables, chunk, below)?;
                    let both = match all {
                        None => next,
                        Some(mut so_far) => {
                            so_far &= next;
                            so_far
                        }
                    };
                    if both.is_empty() {
                        return Ok(both);
                    }
                    all = Some(both);
                }
                Ok(all.unwrap_or_default())
            }
        }
    }
}

fn range(def: &IndexDef, start: Vec<u8>, end: Option<Vec<u8>>, span: Span) -> Access {
    Access::Range {
        index: IndexTable::of(def),
        start,
        end,
        span,
        ordered: false,
    }
}

/// The range of keys that start with `prefix`.
fn prefix(def: &IndexDef, prefix: Key, span: Span) -> Access {
    let end = prefix_end(prefix.bytes());
    range(def, prefix.into_bytes(), end, span)
}

/// The keys of one whole value (everything but the id): ids ascending.
fn point(def: &IndexDef, prefix: Key, span: Span) -> Access {
    let end = prefix_end(prefix.bytes());
    Access::Range {
        index: IndexTable::of(def),
        start: prefix.into_bytes(),
        end,
        span,
        ordered: true,
    }
}

/// A literal as index keys hold it: a timestamp to the millisecond.
pub fn keyed(value: &Scalar) -> Scalar {
    match value {
        Scalar::Time(instant, _) => Scalar::Time(*instant, 0),
        other => other.clone(),
    }
}

/// The key part of a typed literal in an index of a field of type `ty`.
pub fn literal_key(ty: FieldType, value: &Scalar) -> Option<Key> {
    let present = Key::new().byte(PRESENT);
    match (ty, value) {
        (FieldType::Int | FieldType::Ints, Scalar::Int(v)) => Some(encode_int(present, *v)),
        (FieldType::Bool, Scalar::Bool(v)) => Some(encode_bool(present, *v)),
        // Ranges on the millisecond hold every match of a finer literal;
        // the residual check decides (and exact counts decline those).
        (FieldType::Time, Scalar::Time(v, _)) => Some(encode_time(present, *v)),
        (FieldType::Str | FieldType::Strs, Scalar::Str(folded)) => Some(present.str(folded)),
        // An identifier's keys hold its folded form and then its exact
        // form: the whole key picks exactly one value.
        (FieldType::Ident, Scalar::Ident(exact)) => Some(encode_str(present, exact)),
        _ => None,
    }
}

/// The access of a scoped view's own condition: the tenant's index keys.
pub fn tenant_access(kind: EntityKind, tenant: &str) -> Option<Access> {
    let index = index_of(kind, "tenant")?;
    Some(point(
        index,
        encode_str(Key::new().byte(PRESENT), tenant),
        Span::Equal(Scalar::Ident(tenant.to_owned())),
    ))
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
        Filter::TenantIs(tenant) => tenant_access(kind, tenant),
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
                    Span::Prefix(folded),
                ));
            }
            trigram_access(kind, def.name, &pattern.literal_runs())
        }
        Filter::Absent(Field::Def(def)) => {
            let index = index_of(kind, def.name)?;
            Some(prefix(index, Key::new().byte(ABSENT), Span::Absent))
        }
        Filter::Present(Field::Def(def)) => {
            let index = index_of(kind, def.name)?;
            Some(prefix(index, Key::new().byte(PRESENT), Span::Present))
        }
        Filter::Cmp {
            field: Field::Def(def),
            op,
            value,
        } => compare_access(kind, def.name, def.ty, *op, value),
        Filter::In {
            field: Field::Def(def),
            values,
            null,
        } => {
            let index = index_of(kind, def.name)?;
            let mut parts = Vec::new();
            for value in values {
                let key = literal_key(def.ty, value)?;
                let span = Span::Equal(keyed(value));
                parts.push(if matches!(def.ty, FieldType::Str | FieldType::Strs) {
                    prefix(index, key, span)
                } else {
                    point(index, key, span)
                });
            }
            if *null {
                parts.push(prefix(index, Key::new().byte(ABSENT), Span::Absent));
            }
            Some(Access::Union(parts))
        }
        _ => None,
    }
}

/// The access of `name op value` on a declared field of type `ty`.
fn compare_access(
    kind: EntityKind,
    name: &'static str,
    ty: FieldType,
    op: Cmp,
    value: &Scalar,
) -> Option<Access> {
    let Some(index) = index_of(kind, name) else {
        // Equality implies containment: the trigram index can find it.
        return match (op, value) {
            (Cmp::Eq, Scalar::Str(folded)) => {
                trigram_access(kind, name, std::slice::from_ref(folded))
            }
            _ => None,
        };
    };
    let key = literal_key(ty, value)?;
    // The index orders identifiers by their folded form, not by the
    // exact order their comparisons use: it answers only equality.
    if ty == FieldType::Ident && op != Cmp::Eq {
        return None;
    }
    // `< t` with digits below the millisecond holds for that millisecond too.
    let op = match (op, value) {
        (Cmp::Lt, Scalar::Time(_, nanos)) if *nanos > 0 => Cmp::Le,
        _ => op,
    };
    let span = match op {
        Cmp::Eq => Span::Equal(keyed(value)),
        other => Span::Compare(other, keyed(value)),
    };
    let present = Key::new().byte(PRESENT);
    let after_present = prefix_end(present.bytes());
    let after_key = prefix_end(key.bytes());
    match op {
        Cmp::Eq if matches!(ty, FieldType::Str | FieldType::Strs) => Some(prefix(index, key, span)),
        Cmp::Eq => Some(point(index, key, span)),
        Cmp::Ne => None,
        Cmp::Lt => Some(range(
            index,
            present.into_bytes(),
            Some(key.into_bytes()),
            span,
        )),
        Cmp::Le => Some(range(index, present.into_bytes(), after_key, span)),
        Cmp::Gt => Some(range(index, after_key?, after_present, span)),
        Cmp::Ge => Some(range(index, key.into_bytes(), after_present, span)),
    }
}

/// Candidates for a text match through the trigram index: the records
/// holding every trigram of the pattern's literal text (runs of one or two
/// characters: a trigram starting with them).
fn trigram_access(kind: EntityKind, field: &str, runs: &[String]) -> Option<Access> {
    let (table, fields) = trigram_index(kind)?;
    let n = fields.iter().position(|f| *f == field)?;
    trigram_all(table, fields, &[n], runs)
}

/// Candidates for `search`: for each term, the records holding all of its
/// trigrams in one of the search fields.
fn search_access(kind: EntityKind, terms: &[String]) -> Option<Access> {
    let (table, fields) = trigram_index(kind)?;
    let all: Vec<usize> = (0..fields.len()).collect();
    trigram_all(table, fields, &all, terms)
}

/// The intersection, over the needles, of the records holding the
/// needle's trigrams in one of `fields`: per field, all of a needle's
/// trigrams there (when it has several and there are several fields),
/// else each trigram in any of the fields; a needle of one or two
/// characters stands for every trigram it starts. Needles of two or more characters
/// are used when there are any (a single character matches too widely to
/// narrow much); `None` when no needle has a character.
fn trigram_all(
    table: PostingTable,
    names: &'static [&'static str],
    fields: &[usize],
    needles: &[String],
) -> Option<Access> {
    let long = needles.iter().any(|n| n.chars().nth(1).is_some());
    let mut clauses = Vec::new();
    for needle in needles {
        let chars = needle.chars().count();
        if chars == 0 || (long && chars < 2) {
            continue;
        }
        if chars >= 3 {
            let grams = trigrams(needle);
            if fields.len() > 1 && grams.len() > 1 {
                // A needle lies within one field's text, so all of its
                // trigrams are in that field: per field, the intersection
                // of its trigrams (small), then their union; tighter and
                // cheaper than intersecting unions over the fields.
                clauses.push(Access::Union(
                    fields
                        .iter()
                        .filter_map(|&f| {
                            let each: Option<Vec<Access>> = grams
                                .iter()
                                .map(|gram| gram_range(table, names, f, gram, true))
                                .collect();
                            each.map(Access::All)
                        })
                        .collect(),
                ));
            } else {
                for gram in grams {
                    clauses.push(gram_union(table, names, fields, &gram, true));
                }
            }
        } else {
            clauses.push(gram_union(table, names, fields, needle, false));
        }
    }
    clauses.sort_by_key(ToString::to_string);
    clauses.dedup();
    match clauses.len() {
        0 => None,
        1 => clauses.pop(),
        _ => Some(Access::All(clauses)),
    }
}

/// The records holding a trigram (`whole`), or a trigram starting with
/// `text`, in any of `fields`.
fn gram_union(
    table: PostingTable,
    names: &'static [&'static str],
    fields: &[usize],
    text: &str,
    whole: bool,
) -> Access {
    Access::Union(
        fields
            .iter()
            .filter_map(|&f| gram_range(table, names, f, text, whole))
            .collect(),
    )
}

/// The records holding a trigram (`whole`), or a trigram starting with
/// `text`, in the field numbered `f` of the trigram index; `None` for a
/// number the index has no field for.
fn gram_range(
    table: PostingTable,
    names: &'static [&'static str],
    f: usize,
    text: &str,
    whole: bool,
) -> Option<Access> {
    let field = names.get(f)?;
    let start = if whole {
        trigram_prefix(f, text)
    } else {
        trigram_start(f, text)
    };
    let end = prefix_end(start.bytes());
    let span = if whole {
        Span::Trigram {
            field,
            gram: text.to_owned(),
        }
    } else {
        Span::TrigramPrefix {
            field,
            text: text.to_owned(),
        }
    };
    Some(Access::Range {
        index: IndexTable::Postings(table),
        start: start.into_bytes(),
        end,
        span,
        ordered: true,
    })
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
