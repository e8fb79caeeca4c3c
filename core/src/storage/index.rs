//! Secondary indexes (docs/reference/queries.md, "Results, paging and planning"): which fields each
//! kind indexes, the keys a record puts in them, and the key prefixes the planner scans.
//!
//! An ordered index holds one key per value of its field: `0x00` + id when
//! the field is absent (or an empty list), else `0x01` + the value + id.
//! Values encode so that byte order is the sort order of docs/reference/queries.md:
//! integers big-endian, booleans one byte, timestamps as sign-flipped
//! integers, strings case-folded then exact (the exact form only when it
//! differs from the folded one: [`crate::storage::keys::push_text`],
//! format 11). A list field (`roles`) puts one
//! key per element. The low-cardinality fields (tenant, enabled, roles) keep
//! postings instead (`storage::postings`, format 9): each value part
//! (marker and value, as an ordered key would start) → the ids holding it,
//! which read in the order an ordered index would give (values, then ids
//! ascending). The trigram index is kept as
//! postings: (field number, three case-folded characters) → ids, for each
//! distinct trigram of each text field followed by two [`END`] markers, so
//! that every substring of one or two characters starts some trigram.

use std::fmt;
use std::sync::LazyLock;

use crate::documents::caseless::fold;
use crate::documents::fields::FieldLists;
use crate::documents::values::{FieldValue, Queryable};
use crate::storage::entity::MultiKey;
use crate::storage::keys::{Key, push_text};
use crate::storage::postings::PostingTable;
use crate::storage::schema::MultiTable;
use crate::{EntityKind, Timestamp};

/// The index over one field: ordered keys (value, id) in a table of its
/// own, or, for a low-cardinality field, postings (value → ids).
#[derive(Clone, Copy)]
pub struct IndexDef {
    /// The field's canonical name.
    pub field: &'static str,
    /// Where the index is kept.
    pub(crate) store: IndexStore,
}

/// Where one field's index is kept.
#[derive(Clone, Copy)]
pub(crate) enum IndexStore {
    /// Ordered keys, each a value part then the id.
    Ordered {
        /// The table.
        table: MultiTable,
        /// Its place in `schema::MULTI_TABLES` (`storage::pending` keeps
        /// a table's keys there).
        slot: usize,
    },
    /// Postings: each value part → the ids holding it.
    Postings {
        /// The table.
        table: PostingTable,
        /// Its place in `schema::POSTING_TABLES`.
        slot: usize,
    },
}

impl IndexDef {
    /// The name of the table holding the index, e.g. `idx.user.last_name`
    /// or `post.user.enabled`.
    pub fn table_name(&self) -> &str {
        match &self.store {
            IndexStore::Ordered { table, .. } => redb::TableHandle::name(table),
            IndexStore::Postings { table, .. } => redb::TableHandle::name(table),
        }
    }

    /// The ordered table, for an index kept as ordered keys.
    pub(crate) fn ordered(&self) -> Option<MultiTable> {
        match self.store {
            IndexStore::Ordered { table, .. } => Some(table),
            IndexStore::Postings { .. } => None,
        }
    }

    /// The posting table, for an index kept as postings.
    pub(crate) fn postings(&self) -> Option<PostingTable> {
        match self.store {
            IndexStore::Postings { table, .. } => Some(table),
            IndexStore::Ordered { .. } => None,
        }
    }
}

impl fmt::Debug for IndexDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.field, self.table_name())
    }
}

impl FieldLists {
    /// The field indexes, one per indexed field, in table order.
    pub fn indexes(&self) -> &'static [IndexDef] {
        indexes(self.kind())
    }
}

/// The field indexes of a kind: one per indexed row of its field table,
/// in table order, each in the table `storage::schema` keeps for it.
pub fn indexes(kind: EntityKind) -> &'static [IndexDef] {
    fn derive(kind: EntityKind) -> Vec<IndexDef> {
        FieldLists::of(kind)
            .table()
            .iter()
            .filter_map(|f| {
                let index = f.index?;
                let store = match (index.table(), index.postings()) {
                    (Some(table), _) => IndexStore::Ordered {
                        table: *table,
                        slot: crate::storage::pending::multi_slot(table),
                    },
                    (None, Some(table)) => IndexStore::Postings {
                        table: *table,
                        slot: crate::storage::postings::slot(table),
                    },
                    (None, None) => return None,
                };
                Some(IndexDef {
                    field: f.name,
                    store,
                })
            })
            .collect()
    }
    static USER: LazyLock<Vec<IndexDef>> = LazyLock::new(|| derive(EntityKind::User));
    static ROLE: LazyLock<Vec<IndexDef>> = LazyLock::new(|| derive(EntityKind::Role));
    static CLIENT: LazyLock<Vec<IndexDef>> = LazyLock::new(|| derive(EntityKind::Client));
    match kind {
        EntityKind::User => &USER,
        EntityKind::Role => &ROLE,
        EntityKind::Client => &CLIENT,
    }
}

/// The ordered index of a field, if it has one.
pub fn index_of(kind: EntityKind, field: &str) -> Option<&'static IndexDef> {
    indexes(kind).iter().find(|i| i.field == field)
}

/// The trigram index of a kind and the fields it covers (its searchable
/// fields), in field-number order.
pub fn trigram_index(kind: EntityKind) -> Option<(PostingTable, &'static [&'static str])> {
    let lists = FieldLists::of(kind);
    let table = lists.trigrams()?.trigram_table()?;
    Some((*table, lists.searchable()))
}

/// The marker of an absent value.
pub const ABSENT: u8 = 0;
/// The marker of a present value.
pub const PRESENT: u8 = 1;

/// Appends an encoded value (after its `PRESENT` marker).
pub fn encode_int(key: Key, value: u64) -> Key {
    key.u64(value)
}

/// Appends an encoded timestamp.
pub fn encode_time(key: Key, value: Timestamp) -> Key {
    key.i64(value.as_millis())
}

/// Appends an encoded boolean.
pub fn encode_bool(key: Key, value: bool) -> Key {
    key.byte(u8::from(value))
}

/// Appends an encoded string: case-folded, then exact
/// ([`crate::storage::keys::push_text`]).
pub fn encode_str(key: Key, value: &str) -> Key {
    key.text(&fold(value), value)
}

/// The case-folded texts of one record, by field, each folded once and
/// reused by the record's ordered keys, posting terms and trigrams.
#[derive(Default)]
pub struct FoldedTexts {
    /// (field, folded text of its value), in the order first folded.
    texts: Vec<(&'static str, String)>,
}

impl FoldedTexts {
    /// The folded form of `text`, the value of `field`: folded on first
    /// use, then taken from the cache.
    pub(crate) fn get(&mut self, field: &'static str, text: &str) -> &str {
        let at = match self.texts.iter().position(|(f, _)| *f == field) {
            Some(at) => at,
            None => {
                self.texts.push((field, fold_remembered(text)));
                self.texts.len().saturating_sub(1)
            }
        };
        self.texts.get(at).map_or("", |(_, folded)| folded.as_str())
    }
}

/// Pieces of text beyond ASCII this thread folded lately
/// ([`fold_remembered`]), with their folded forms, at most
/// [`REMEMBERED`]: names and the pieces of usernames recur across records
/// (an import's), and folding beyond ASCII (NFD, case folding, NFC)
/// costs far more than a lookup.
const REMEMBERED: usize = 4096;

thread_local! {
    static FOLDED: std::cell::RefCell<std::collections::HashMap<Box<str>, Box<str>, foldhash::fast::RandomState>> =
        std::cell::RefCell::new(std::collections::HashMap::default());
}

/// [`fold`], a piece at a time, remembering the folds of the pieces
/// beyond ASCII; the set is emptied once it holds [`REMEMBERED`].
///
/// A text beyond ASCII is cut before each ASCII character that does not
/// precede one beyond ASCII (see [`fold_pieces`]): `fold(x + y)` is
/// `fold(x) + fold(y)` when `y` starts with an ASCII character, since
/// NFD reorders no mark across it (it is a starter), the mapping goes a
/// character at a time, and NFC composes nothing across it (no
/// canonical composition has an ASCII second character, and it blocks
/// what follows from what precedes it). So `jörg.müller12` folds as
/// `jö`, `rg.`, `mü`, `ller12`: the two short pieces with letters
/// beyond ASCII recur in other names and are looked up.
fn fold_remembered(text: &str) -> String {
    if text.is_ascii() {
        return fold(text);
    }
    FOLDED.with(|cell| {
        let Ok(mut known) = cell.try_borrow_mut() else {
            return fold(text);
        };
        let mut out = String::with_capacity(text.len());
        fold_pieces(text, &mut |piece| {
            if piece.is_ascii() {
                out.extend(piece.chars().map(|c| c.to_ascii_lowercase()));
                return;
            }
            if let Some(folded) = known.get(piece) {
                out.push_str(folded);
                return;
            }
            // Most pieces beyond ASCII (lower-case letters with accents)
            // fold to themselves: two quick checks instead of normalising
            // twice.
            let folded: Box<str> = if folds_to_itself(piece) {
                piece.into()
            } else {
                fold(piece).into()
            };
            out.push_str(&folded);
            if known.len() >= REMEMBERED {
                known.clear();
            }
            known.insert(piece.into(), folded);
        });
        out
    })
}

/// Calls `piece` with the pieces of `text`, in order: each run of ASCII
/// characters but the last before a character beyond ASCII, and each run
/// of characters beyond ASCII with the ASCII character before it (if
/// any), which an accent may combine with. Every piece after the first
/// starts with an ASCII character, so the folds of the pieces, one after
/// the other, are the fold of `text` ([`fold_remembered`]).
fn fold_pieces(text: &str, piece: &mut dyn FnMut(&str)) {
    let bytes = text.as_bytes();
    let ascii_from = |at: usize| {
        bytes
            .get(at..)
            .and_then(|rest| rest.iter().position(u8::is_ascii))
            .map_or(bytes.len(), |n| at.saturating_add(n))
    };
    let beyond_from = |at: usize| {
        bytes
            .get(at..)
            .and_then(|rest| rest.iter().position(|b| !b.is_ascii()))
            .map_or(bytes.len(), |n| at.saturating_add(n))
    };
    let mut at = 0;
    while at < bytes.len() {
        // The ASCII run from `at` (perhaps empty), then the run beyond
        // ASCII after it (perhaps empty: the text's end).
        let beyond = beyond_from(at);
        if beyond >= bytes.len() {
            piece(text.get(at..).unwrap_or_default());
            return;
        }
        // The run's last character goes with the run beyond ASCII.
        let split = if beyond > at {
            beyond.saturating_sub(1)
        } else {
            at
        };
        if split > at {
            piece(text.get(at..split).unwrap_or_default());
        }
        let end = ascii_from(beyond);
        piece(text.get(split..end).unwrap_or_default());
        at = end;
    }
}

/// Whether `text` is its own fold (`documents::caseless::fold`): it is in
/// NFC, and folding keeps every character of its NFD (ASCII other than
/// A–Z, or a character that Changes_When_NFKC_Casefolded does not mark).
/// `fold` maps each character of the NFD and composes the result to NFC,
/// so then it gives NFC(NFD(text)), which is `text`. False says nothing.
fn folds_to_itself(text: &str) -> bool {
    use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};
    use icu_properties::CodePointSetData;
    use icu_properties::props::ChangesWhenNfkcCasefolded;
    let changes = CodePointSetData::new::<ChangesWhenNfkcCasefolded>();
    // An ASCII capital (a capitalised name) stays in the NFD and folds:
    // a byte scan says so before any normalising.
    !text.bytes().any(|b| b.is_ascii_uppercase())
        && ComposingNormalizerBorrowed::new_nfc().is_normalized(text)
        && DecomposingNormalizerBorrowed::new_nfd()
            .normalize_iter(text.chars())
            .all(|c| {
                if c.is_ascii() {
                    !c.is_ascii_uppercase()
                } else {
                    !changes.contains(c)
                }
            })
}

/// The value parts (marker and value, without the id) a field value puts in an index.
fn value_keys(value: &FieldValue<'_>) -> Vec<Key> {
    value_keys_folded(value, None)
}

/// [`value_keys`], taking the folded form of a single text value of
/// `field` from `cache` (a list's texts are folded each time).
fn value_keys_folded(
    value: &FieldValue<'_>,
    cache: Option<(&'static str, &mut FoldedTexts)>,
) -> Vec<Key> {
    let present = || Key::new().byte(PRESENT);
    match value {
        FieldValue::Int(v) => vec![encode_int(present(), *v)],
        FieldValue::Bool(v) => vec![encode_bool(present(), *v)],
        FieldValue::Time(v) => vec![encode_time(present(), *v)],
        FieldValue::Str(v) => match cache {
            Some((field, cache)) => vec![present().text(cache.get(field, v), v)],
            None => vec![encode_str(present(), v)],
        },
        FieldValue::Ints(items) if !items.is_empty() => {
            items.iter().map(|v| encode_int(present(), *v)).collect()
        }
        FieldValue::Strs(items) if !items.is_empty() => {
            items.iter().map(|v| encode_str(present(), v)).collect()
        }
        _ => vec![Key::new().byte(ABSENT)],
    }
}

/// The marker that ends each indexed text (twice) before it is cut into
/// trigrams. A text holding it only gains candidates, never loses any.
pub const END: char = '\u{3}';

/// The distinct trigrams of a case-folded text (of a needle: no markers).
pub fn trigrams(folded: &str) -> Vec<String> {
    let chars: Vec<char> = folded.chars().collect();
    let mut out: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The distinct trigrams the index holds for a case-folded text: those of
/// the text followed by two [`END`] markers (none for an empty text), so
/// each substring of one to three characters starts one of them.
#[cfg(test)]
pub fn indexed_trigrams(folded: &str) -> Vec<String> {
    let padded = padded(folded);
    grams_of(&padded).into_iter().map(str::to_owned).collect()
}

/// A case-folded text followed by two [`END`] markers; empty for an empty text.
fn padded(folded: &str) -> String {
    if folded.is_empty() {
        return String::new();
    }
    let mut padded = String::with_capacity(folded.len().saturating_add(2));
    padded.push_str(folded);
    padded.push(END);
    padded.push(END);
    padded
}

/// The distinct three-character slices of a text, sorted.
fn grams_of(text: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    starts.push(text.len());
    let mut out: Vec<&str> = starts
        .windows(4)
        .filter_map(|w| text.get(*w.first()?..*w.get(3)?))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Calls `f` with each three-character slice of a text, in text order
/// (a slice that recurs comes again), allocating nothing.
fn each_gram(text: &str, mut f: impl FnMut(&str)) {
    // The starts of the last two characters seen, once there are two.
    let mut last: [Option<usize>; 2] = [None, None];
    for (at, c) in text.char_indices() {
        if let Some(start) = last[0]
            && let Some(gram) = text.get(start..at.saturating_add(c.len_utf8()))
        {
            f(gram);
        }
        last = [last[1], Some(at)];
    }
}

/// The key prefix of one trigram of one field in a trigram index.
pub fn trigram_prefix(field: usize, trigram: &str) -> Key {
    Key::new()
        .byte(u8::try_from(field).unwrap_or(u8::MAX))
        .str(trigram)
}

/// The instant index values are read at: they do not depend on the clock
/// (no indexed field is `lockedUntil`).
fn index_instant() -> Timestamp {
    Timestamp::from_millis(0).unwrap_or_else(Timestamp::now)
}

/// The start of the keys of every trigram that begins with `text` (one or
/// two characters) in one field of a trigram index.
pub fn trigram_start(field: usize, text: &str) -> Key {
    Key::new()
        .byte(u8::try_from(field).unwrap_or(u8::MAX))
        .str_prefix(text)
}

/// Every ordered-index entry of a record of `kind` with this `id`.
pub fn entries(kind: EntityKind, id: u64, record: &impl Queryable) -> Vec<MultiKey> {
    entries_folded(kind, id, record, &mut FoldedTexts::default())
}

/// The entries of the ordered index `table` that `values` give the
/// record `id`.
fn multi_keys(table: MultiTable, id: u64, values: Vec<Key>) -> impl Iterator<Item = MultiKey> {
    values.into_iter().map(move |key| MultiKey {
        table,
        key: key.u64(id).into_bytes(),
    })
}

/// The terms of the posting table `table` (at `slot`) that `values` give.
fn terms_of(
    table: PostingTable,
    slot: usize,
    values: Vec<Key>,
) -> impl Iterator<Item = PostingKey> {
    values.into_iter().map(move |key| PostingKey {
        slot,
        term: key.into_bytes(),
        table: PostingTableRef(table),
    })
}

/// The ordered-index entries and posting terms of a record of `kind`
/// with this `id` in the index tables `keep` accepts (by table name), as
/// [`entries`] and [`posting_keys`] give them: what a migration that
/// writes some tables again needs, without computing the others' keys
/// (the trigrams above all).
pub(crate) fn keys_in(
    kind: EntityKind,
    id: u64,
    record: &impl Queryable,
    keep: impl Fn(&str) -> bool,
) -> (Vec<MultiKey>, Vec<PostingKey>) {
    let now = index_instant();
    let (mut ordered, mut terms) = (Vec::new(), Vec::new());
    for def in indexes(kind).iter().filter(|d| keep(d.table_name())) {
        let values = value_keys(&record.value(def.field, now));
        match def.store {
            IndexStore::Ordered { table, .. } => ordered.extend(multi_keys(table, id, values)),
            IndexStore::Postings { table, slot } => terms.extend(terms_of(table, slot, values)),
        }
    }
    (ordered, terms)
}

/// [`entries`], folding each text once into `folded` (which
/// [`visit_postings_folded`] can then reuse for the same record).
pub fn entries_folded(
    kind: EntityKind,
    id: u64,
    record: &impl Queryable,
    folded: &mut FoldedTexts,
) -> Vec<MultiKey> {
    let now = index_instant();
    let mut out = Vec::new();
    for def in indexes(kind) {
        let Some(table) = def.ordered() else {
            continue;
        };
        let values = value_keys_folded(&record.value(def.field, now), Some((def.field, folded)));
        out.extend(multi_keys(table, id, values));
    }
    out
}

/// Calls `note` with every ordered-index entry of a record of `kind` with
/// this `id` (the table's place in `schema::MULTI_TABLES`, the table, the
/// key), the keys built in one reused buffer; each text folded once into
/// `folded` (which [`visit_postings_folded`] can then reuse).
pub fn visit_entries_folded(
    kind: EntityKind,
    id: u64,
    record: &impl Queryable,
    folded: &mut FoldedTexts,
    note: &mut dyn FnMut(usize, MultiTable, &[u8]),
) {
    let now = index_instant();
    let mut key = Vec::with_capacity(64);
    let id = id.to_be_bytes();
    let mut one = |slot: usize, table: MultiTable, key: &mut Vec<u8>| {
        key.extend_from_slice(&id);
        note(slot, table, key);
    };
    for def in indexes(kind) {
        let IndexStore::Ordered { table, slot } = def.store else {
            continue;
        };
        key.clear();
        match record.value(def.field, now) {
            FieldValue::Int(v) => {
                key.push(PRESENT);
                key.extend_from_slice(&v.to_be_bytes());
            }
            FieldValue::Bool(v) => key.extend_from_slice(&[PRESENT, u8::from(v)]),
            FieldValue::Time(v) => {
                key.push(PRESENT);
                let flipped = v.as_millis().cast_unsigned() ^ (1 << 63);
                key.extend_from_slice(&flipped.to_be_bytes());
            }
            FieldValue::Str(v) => {
                key.push(PRESENT);
                push_text(&mut key, folded.get(def.field, v), v);
            }
            FieldValue::Ints(items) if !items.is_empty() => {
                for v in items.iter() {
                    key.clear();
                    key.push(PRESENT);
                    key.extend_from_slice(&v.to_be_bytes());
                    one(slot, table, &mut key);
                }
                continue;
            }
            FieldValue::Strs(items) if !items.is_empty() => {
                for v in items.iter() {
                    key.clear();
                    key.push(PRESENT);
                    push_text(&mut key, &fold(v), v);
                    one(slot, table, &mut key);
                }
                continue;
            }
            _ => key.push(ABSENT),
        }
        one(slot, table, &mut key);
    }
}

/// One term a record holds in a posting table.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PostingKey {
    /// The table's place among the posting tables (orders and tells terms apart).
    pub(crate) slot: usize,
    /// The term: a value part, or a field number and trigram.
    pub(crate) term: Vec<u8>,
    /// The table.
    pub(crate) table: PostingTableRef,
}

/// A posting table, compared by name.
#[derive(Clone, Copy)]
pub struct PostingTableRef(pub(crate) PostingTable);

impl fmt::Debug for PostingTableRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(redb::TableHandle::name(&self.0))
    }
}

impl PartialEq for PostingTableRef {
    fn eq(&self, other: &Self) -> bool {
        redb::TableHandle::name(&self.0) == redb::TableHandle::name(&other.0)
    }
}

impl Eq for PostingTableRef {}

impl PartialOrd for PostingTableRef {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PostingTableRef {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        redb::TableHandle::name(&self.0).cmp(redb::TableHandle::name(&other.0))
    }
}

/// Every posting term of a record of `kind`, sorted and distinct.
pub fn posting_keys(kind: EntityKind, record: &impl Queryable) -> Vec<PostingKey> {
    let now = index_instant();
    let mut out = Vec::new();
    for def in indexes(kind) {
        if let IndexStore::Postings { table, slot } = def.store {
            out.extend(terms_of(
                table,
                slot,
                value_keys(&record.value(def.field, now)),
            ));
        }
    }
    if let Some((table, fields)) = trigram_index(kind) {
        let slot = crate::storage::postings::slot(&table);
        for (n, field) in fields.iter().enumerate() {
            if let FieldValue::Str(text) = record.value(field, now) {
                let padded = padded(&fold(text));
                for trigram in grams_of(&padded) {
                    out.push(PostingKey {
                        slot,
                        term: trigram_prefix(n, trigram).into_bytes(),
                        table: PostingTableRef(table),
                    });
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Calls `note` with every posting term of a record of `kind` (table,
/// the table's slot, term), without gathering them: a term may come more
/// than once. One key buffer serves every trigram. Each text's folded form
/// comes from `folded` (the cache of the same record, e.g. filled by
/// [`entries_folded`]); only the texts it lacks are folded.
pub fn visit_postings_folded(
    kind: EntityKind,
    record: &impl Queryable,
    folded: &mut FoldedTexts,
    note: &mut dyn FnMut(PostingTable, usize, &[u8]),
) {
    let now = index_instant();
    for def in indexes(kind) {
        if let IndexStore::Postings { table, slot } = def.store {
            for key in value_keys_folded(&record.value(def.field, now), Some((def.field, folded))) {
                note(table, slot, key.bytes());
            }
        }
    }
    if let Some((table, fields)) = trigram_index(kind) {
        let slot = crate::storage::postings::slot(&table);
        let mut term = Key::new();
        let mut padded = String::new();
        for (n, field) in fields.iter().enumerate() {
            if let FieldValue::Str(text) = record.value(field, now) {
                let folded = folded.get(field, text);
                if folded.is_empty() {
                    continue;
                }
                padded.clear();
                padded.push_str(folded);
                padded.push(END);
                padded.push(END);
                each_gram(&padded, |trigram| {
                    term.restart(u8::try_from(n).unwrap_or(u8::MAX));
                    term.push_str(trigram);
                    note(table, slot, term.bytes());
                });
            }
        }
    }
}

/// What an update changes in a record's index entries: the ordered keys
/// it removes and inserts, and the posting terms it loses and gains (each
/// list of terms sorted and distinct).
#[derive(Default)]
pub struct IndexChanges {
    /// Ordered-index keys the old record had and the new one lacks.
    pub(crate) gone: Vec<MultiKey>,
    /// Ordered-index keys the new record has and the old one lacked.
    pub(crate) added: Vec<MultiKey>,
    /// Posting terms the record loses.
    pub(crate) lost: Vec<PostingKey>,
    /// Posting terms the record gains.
    pub(crate) gained: Vec<PostingKey>,
}

/// The index changes of the record `id` of `kind` going from `old` to
/// `new`: only the fields whose values differ are encoded, and only the
/// texts that differ are case-folded and cut into trigrams, so an update
/// of an unindexed field costs a comparison per indexed field.
pub fn changes<R: Queryable>(kind: EntityKind, id: u64, old: &R, new: &R) -> IndexChanges {
    let now = index_instant();
    let mut out = IndexChanges::default();
    for def in indexes(kind) {
        let (before, after) = (old.value(def.field, now), new.value(def.field, now));
        if before == after {
            continue;
        }
        let before: Vec<Vec<u8>> = value_keys(&before)
            .into_iter()
            .map(Key::into_bytes)
            .collect();
        let after: Vec<Vec<u8>> = value_keys(&after)
            .into_iter()
            .map(Key::into_bytes)
            .collect();
        let note = |part: &Vec<u8>, keys: &mut Vec<MultiKey>, terms: &mut Vec<PostingKey>| match def
            .store
        {
            IndexStore::Ordered { table, .. } => {
                let mut key = Vec::with_capacity(part.len().saturating_add(8));
                key.extend_from_slice(part);
                key.extend_from_slice(&id.to_be_bytes());
                keys.push(MultiKey { table, key });
            }
            IndexStore::Postings { table, slot } => terms.push(PostingKey {
                slot,
                term: part.clone(),
                table: PostingTableRef(table),
            }),
        };
        for part in before.iter().filter(|p| !after.contains(p)) {
            note(part, &mut out.gone, &mut out.lost);
        }
        for part in after.iter().filter(|p| !before.contains(p)) {
            note(part, &mut out.added, &mut out.gained);
        }
    }
    if let Some((table, fields)) = trigram_index(kind) {
        let slot = crate::storage::postings::slot(&table);
        for (n, field) in fields.iter().enumerate() {
            let (before, after) = (old.value(field, now), new.value(field, now));
            if before == after {
                continue;
            }
            let folded = |value: &FieldValue<'_>| match value {
                FieldValue::Str(text) => padded(&fold(text)),
                _ => String::new(),
            };
            let (before, after) = (folded(&before), folded(&after));
            let (before, after) = (grams_of(&before), grams_of(&after));
            let term = |gram: &&str| PostingKey {
                slot,
                term: trigram_prefix(n, gram).into_bytes(),
                table: PostingTableRef(table),
            };
            out.lost.extend(
                before
                    .iter()
                    .filter(|g| after.binary_search(g).is_err())
                    .map(term),
            );
            out.gained.extend(
                after
                    .iter()
                    .filter(|g| before.binary_search(g).is_err())
                    .map(term),
            );
        }
    }
    for terms in [&mut out.lost, &mut out.gained] {
        terms.sort_unstable();
        terms.dedup();
    }
    out
}

/// The key prefix under which an ordered `roles` index lists the holders of `role`.
pub fn holders_prefix(role: u64) -> Key {
    encode_int(Key::new().byte(PRESENT), role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_the_difference_of_the_whole_entries() {
        use crate::documents::header::Header;
        use crate::documents::input::FromDocument;
        use crate::documents::user::UserRecord;
        use serde_json::json;
        let at = |ms| Timestamp::from_millis(ms).unwrap();
        let user = |doc: serde_json::Value, updated| {
            let mut header = Header::new(7, at(1_000));
            header.touch(at(updated));
            UserRecord::create(crate::NewUser::from_document(&doc).unwrap(), header, None)
        };
        let old = user(
            json!({"username": "anna", "email": "anna@x.org", "firstName": "Anna", "lastName": "Müller",
                   "roles": [1, 2], "attributes": {"title": "a"}}),
            2_000,
        );
        let news = [
            json!({"username": "anna", "email": "anna@x.org", "firstName": "Anna", "lastName": "Müller",
                   "roles": [1, 2], "attributes": {"title": "b"}}),
            json!({"username": "anne", "email": "anna@x.org", "firstName": "Anne", "lastName": "Müllers",
                   "roles": [2, 3], "enabled": false}),
            json!({"username": "anna", "email": "anna@x.org", "firstName": "Anna", "lastName": "Meier"}),
        ];
        for doc in news {
            let new = user(doc, 3_000);
            let changes = changes(EntityKind::User, 7, &old, &new);
            let named =
                |m: &MultiKey| (redb::TableHandle::name(&m.table).to_owned(), m.key.clone());
            let keys = |r: &UserRecord| -> Vec<(String, Vec<u8>)> {
                let mut k: Vec<_> = entries(EntityKind::User, 7, r).iter().map(named).collect();
                k.sort();
                k
            };
            let (before, after) = (keys(&old), keys(&new));
            let mut gone: Vec<_> = changes.gone.iter().map(named).collect();
            let mut added: Vec<_> = changes.added.iter().map(named).collect();
            gone.sort();
            added.sort();
            let minus = |a: &[(String, Vec<u8>)], b: &[(String, Vec<u8>)]| -> Vec<_> {
                a.iter().filter(|k| !b.contains(k)).cloned().collect()
            };
            assert_eq!(gone, minus(&before, &after));
            assert_eq!(added, minus(&after, &before));
            let (before, after) = (
                posting_keys(EntityKind::User, &old),
                posting_keys(EntityKind::User, &new),
            );
            let minus = |a: &[PostingKey], b: &[PostingKey]| -> Vec<PostingKey> {
                a.iter().filter(|k| !b.contains(k)).cloned().collect()
            };
            assert_eq!(changes.lost, minus(&before, &after));
            assert_eq!(changes.gained, minus(&after, &before));
        }
    }

    #[test]
    fn a_shared_fold_cache_gives_the_entries_and_terms_of_each_record() {
        use crate::documents::header::Header;
        use crate::documents::input::FromDocument;
        use crate::documents::user::UserRecord;
        use serde_json::json;
        let docs = [
            json!({"username": "Anna", "email": "ANNA@x.org", "firstName": "Ånna", "lastName": "MÜLLER",
                   "roles": [1, 2]}),
            json!({"username": "ﬁ-straße", "email": "a@b.c", "firstName": "Ǆ", "lastName": "Ⅻ"}),
        ];
        for doc in docs {
            let header = Header::new(9, Timestamp::from_millis(1_000).unwrap());
            let record =
                UserRecord::create(crate::NewUser::from_document(&doc).unwrap(), header, None);
            let mut folded = FoldedTexts::default();
            let named =
                |m: &MultiKey| (redb::TableHandle::name(&m.table).to_owned(), m.key.clone());
            let cached: Vec<_> = entries_folded(EntityKind::User, 9, &record, &mut folded)
                .iter()
                .map(named)
                .collect();
            let fresh: Vec<_> = entries(EntityKind::User, 9, &record)
                .iter()
                .map(named)
                .collect();
            assert_eq!(cached, fresh, "{doc}");
            // The cache a create fills first, with its unique keys.
            let mut after_unique = FoldedTexts::default();
            let unique = <crate::User as crate::storage::entity::Entity>::unique_keys_folded(
                &record,
                &mut after_unique,
            );
            let fresh_unique =
                <crate::User as crate::storage::entity::Entity>::unique_keys(&record);
            assert_eq!(
                unique.iter().map(|u| u.key.clone()).collect::<Vec<_>>(),
                fresh_unique
                    .iter()
                    .map(|u| u.key.clone())
                    .collect::<Vec<_>>()
            );
            let mut visited = Vec::new();
            visit_entries_folded(
                EntityKind::User,
                9,
                &record,
                &mut after_unique,
                &mut |slot, table, key| {
                    assert_eq!(slot, crate::storage::pending::multi_slot(&table));
                    visited.push((redb::TableHandle::name(&table).to_owned(), key.to_vec()));
                },
            );
            assert_eq!(visited, fresh, "{doc}");
            let mut seen = Vec::new();
            visit_postings_folded(
                EntityKind::User,
                &record,
                &mut folded,
                &mut |t, slot, term| {
                    seen.push(PostingKey {
                        slot,
                        term: term.to_vec(),
                        table: PostingTableRef(t),
                    });
                },
            );
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen, posting_keys(EntityKind::User, &record), "{doc}");
        }
    }

    #[test]
    fn remembered_folds_are_the_folds() {
        let texts = [
            "Müller",
            "ΟΔΟΣ",
            "ﬁ-straße",
            "ǅemal",
            "Ａｄｍｉｎ",
            "plain",
            "",
        ];
        for _ in 0..2 {
            for text in texts {
                assert_eq!(fold_remembered(text), fold(text), "{text:?}");
            }
        }
        for n in 0..REMEMBERED + 10 {
            let text = format!("Ä{n}");
            assert_eq!(fold_remembered(&text), fold(&text));
        }
        assert_eq!(fold_remembered("ΟΔΟΣ"), fold("ΟΔΟΣ"));
    }

    #[test]
    fn a_text_said_to_fold_to_itself_does() {
        let mut said = 0;
        let texts = [
            "jörg.müller12",
            "Jörg",
            "J\u{30C}",
            "j\u{30C}",
            "\u{1F0}",
            "u\u{308}",
            "ΟΔΟΣ",
            "οδος",
            "ς",
            "ﬁ",
            "ι\u{345}",
            "α\u{345}",
            "李王",
            "ǅ",
            "straße",
            "Ａｄｍｉｎ",
            "\u{212B}",
            "å",
        ];
        let singles = (0..=0x10FFFF_u32)
            .filter_map(char::from_u32)
            .map(|c| c.to_string());
        let marks = (0x300..0x370_u32)
            .filter_map(char::from_u32)
            .flat_map(|m| ["J", "j", "A", "a", "ı", "I"].map(|base| format!("{base}{m}")));
        for text in texts
            .iter()
            .map(|t| (*t).to_owned())
            .chain(singles)
            .chain(marks)
        {
            if folds_to_itself(&text) {
                said += 1;
                assert_eq!(
                    fold(&text),
                    text,
                    "{text:?} {:?}",
                    text.chars().collect::<Vec<_>>()
                );
            }
            if !text.is_ascii() && text.len() > 3 {
                assert_eq!(fold_remembered(&text), fold(&text), "{text:?}");
            }
        }
        assert!(said > 100_000, "{said}");
        assert!(folds_to_itself("jörg.müller12"));
        assert!(!folds_to_itself("J\u{30C}"));
    }

    /// Folding a piece at a time gives the fold of the whole text, for
    /// texts that put characters of every kind (marks, letters that fold
    /// to several, ypogegrammeni, Hangul jamo, ...) next to ASCII ones, the
    /// pieces looked up once remembered.
    #[test]
    fn texts_folded_by_pieces_fold_as_a_whole() {
        let chars = (0x80..0x3000_u32)
            .step_by(3)
            .chain((0x3000..=0x10FFFF_u32).step_by(31))
            .chain([
                0x300, 0x301, 0x308, 0x30C, 0x338, 0x345, 0x1161, 0x11A8, 0x3099, 0x212A,
            ])
            .filter_map(char::from_u32);
        let mut checked = 0_usize;
        for c in chars {
            for text in [
                format!("a{c}"),
                format!("Ab{c}c"),
                format!("{c}{c}x{c}.Z"),
                format!("K{c}\u{301}é"),
                format!("<{c}\u{338}e\u{301}\u{345}"),
            ] {
                let whole = fold(&text);
                assert_eq!(fold_remembered(&text), whole, "{text:?}");
                assert_eq!(fold_remembered(&text), whole, "{text:?}, remembered");
                checked += 1;
            }
        }
        assert!(checked > 100_000, "{checked}");
    }

    /// The pieces a text is folded in make it up, and each after the
    /// first starts with an ASCII character.
    #[test]
    fn fold_pieces_cut_before_ascii() {
        for (text, expected) in [
            ("jörg.müller12", vec!["jö", "rg.", "mü", "ller12"]),
            ("Ελένη", vec!["Ελένη"]),
            ("Ελένη.x", vec!["Ελένη", ".x"]),
            ("ab", vec!["ab"]),
            ("aé", vec!["aé"]),
            ("éa", vec!["é", "a"]),
            ("e\u{301}\u{345}x", vec!["e\u{301}\u{345}", "x"]),
        ] {
            let mut pieces = Vec::new();
            fold_pieces(text, &mut |p| pieces.push(p.to_owned()));
            assert_eq!(pieces, expected, "{text:?}");
        }
    }

    #[test]
    fn each_gram_gives_the_slices_grams_of_gives() {
        for text in [
            "",
            "a",
            "ab",
            "abc",
            "abab\u{3}\u{3}",
            "müller\u{3}\u{3}",
            "ивaн42",
        ] {
            let mut seen = Vec::new();
            each_gram(text, |g| seen.push(g.to_owned()));
            assert_eq!(
                seen.len(),
                text.chars().count().saturating_sub(2),
                "{text:?}"
            );
            seen.sort();
            seen.dedup();
            assert_eq!(seen, grams_of(text), "{text:?}");
        }
    }

    #[test]
    fn every_short_substring_starts_an_indexed_trigram() {
        for text in ["", "a", "ab", "abc", "müller", "ab\u{3}c", "ивaн42"] {
            let grams = indexed_trigrams(text);
            let chars: Vec<char> = text.chars().collect();
            for len in 1..=3 {
                for start in 0..chars.len().saturating_sub(len - 1) {
                    let needle: String = chars[start..start + len].iter().collect();
                    assert!(
                        grams.iter().any(|g| g.starts_with(&needle)),
                        "{needle:?} of {text:?} starts none of {grams:?}"
                    );
                }
            }
        }
        assert!(indexed_trigrams("").is_empty());
        assert_eq!(indexed_trigrams("ab"), ["ab\u{3}", "b\u{3}\u{3}"]);
    }
}
