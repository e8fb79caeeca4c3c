//! Postings (docs/reference/storage.md, format 5): for each term of an index (a trigram of a
//! text field, or one value of a low-cardinality field), the ids of the
//! records that hold it, as compressed bitmaps.
//!
//! A posting table maps `term + chunk` to a serialized [`RoaringBitmap`] of
//! the low [`CHUNK_BITS`] bits of the ids in that chunk, where the chunk is
//! the id shifted right by [`CHUNK_BITS`] (8 bytes big-endian, so a term's
//! chunks follow each other in id order). A change to one record rewrites
//! one small entry; a write transaction gathers its changes
//! (`storage::pending`) and writes each touched entry once.
//!
//! Terms are index key prefixes (`storage::index`): the byte range of an
//! ordered-index access selects the same terms in the posting table.

use std::cell::RefCell;
use std::collections::BTreeMap;

use redb::{TableDefinition, TableHandle};
use roaring::{MultiOps, RoaringBitmap};

use crate::storage::keys::trailing_u64;
use crate::storage::tx::Tables;
use crate::{Error, Result};

/// A posting table: `term + chunk` (8 bytes big-endian) → serialized bitmap
/// of the low [`CHUNK_BITS`] bits of the ids of that chunk.
pub(crate) type PostingTable = TableDefinition<'static, &'static [u8], &'static [u8]>;

/// How many low bits of an id a chunk's bitmap holds.
pub const CHUNK_BITS: u32 = 16;

/// The mask of the low bits of an id a chunk's bitmap holds.
const LOW_MASK: u64 = (1 << CHUNK_BITS) - 1;

/// An id's chunk and its low bits.
pub(crate) fn split(id: u64) -> (u64, u32) {
    let low = u32::try_from(id & LOW_MASK).unwrap_or_default();
    (id >> CHUNK_BITS, low)
}

/// The id of `low` in `chunk`.
fn join(chunk: u64, low: u32) -> u64 {
    (chunk << CHUNK_BITS) | u64::from(low)
}

/// The position of a posting table in `schema::POSTING_TABLES` (past the
/// end for another table), which orders and tells tables apart.
pub(crate) fn slot(table: &PostingTable) -> usize {
    let name = table.name();
    crate::storage::schema::POSTING_TABLES
        .iter()
        .position(|t| t.name() == name)
        .unwrap_or(usize::MAX)
}

/// The key of one chunk of a term.
pub(crate) fn chunk_key(term: &[u8], chunk: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(term.len().saturating_add(8));
    key.extend_from_slice(term);
    key.extend_from_slice(&chunk.to_be_bytes());
    key
}

/// The term of a posting key (everything before its chunk).
pub(crate) fn term_of(key: &[u8]) -> &[u8] {
    key.get(..key.len().saturating_sub(8)).unwrap_or_default()
}

/// Decodes a stored bitmap; `Internal` naming the table when it is damaged.
/// Its containers are checked first in one pass
/// ([`crate::storage::bitmap_form`]), which `roaring`'s checked read
/// spends longer on, then read without those checks.
pub(crate) fn decode(table: &str, bytes: &[u8]) -> Result<RoaringBitmap> {
    use crate::storage::bitmap_form::{Form, well_formed};
    let read = match well_formed(bytes) {
        Form::WellFormed => RoaringBitmap::deserialize_unchecked_from(bytes),
        Form::Other => RoaringBitmap::deserialize_from(bytes),
        Form::Damaged => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "a container is damaged",
        )),
    };
    read.map_err(|e| Error::internal(format!("{table}: a posting bitmap does not decode ({e})")))
}

/// Encodes a bitmap as stored.
pub(crate) fn encode(bitmap: &RoaringBitmap) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bitmap.serialized_size());
    bitmap
        .serialize_into(&mut out)
        .map_err(|e| Error::internal(format!("a posting bitmap does not encode ({e})")))?;
    Ok(out)
}

/// A set of record ids: chunk → bitmap of the low bits (no empty bitmap).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IdSet(BTreeMap<u64, RoaringBitmap>);

impl IdSet {
    /// The empty set.
    pub fn new() -> IdSet {
        IdSet::default()
    }

    /// Adds one id.
    pub fn insert(&mut self, id: u64) {
        let (chunk, low) = split(id);
        self.0.entry(chunk).or_default().insert(low);
    }

    /// Adds the ids of a stored chunk bitmap.
    pub(crate) fn add_chunk(&mut self, chunk: u64, bitmap: RoaringBitmap) {
        if bitmap.is_empty() {
            return;
        }
        match self.0.entry(chunk) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(bitmap);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => *o.get_mut() |= bitmap,
        }
    }

    /// Whether the set holds `id`.
    pub fn contains(&self, id: u64) -> bool {
        let (chunk, low) = split(id);
        self.0.get(&chunk).is_some_and(|b| b.contains(low))
    }

    /// The number of ids.
    pub fn len(&self) -> u64 {
        self.0.values().map(RoaringBitmap::len).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Keeps only the ids `other` holds too.
    pub fn intersect_with(&mut self, other: &IdSet) {
        self.0.retain(|chunk, bitmap| match other.0.get(chunk) {
            Some(theirs) => {
                *bitmap &= theirs;
                !bitmap.is_empty()
            }
            None => false,
        });
    }

    /// Adds every id of `other`.
    pub fn union_with(&mut self, other: IdSet) {
        for (chunk, bitmap) in other.0 {
            self.add_chunk(chunk, bitmap);
        }
    }

    /// The number of ids both sets hold, without building their intersection.
    pub fn intersection_len(&self, other: &IdSet) -> u64 {
        self.0
            .iter()
            .filter_map(|(chunk, mine)| Some(mine.intersection_len(other.0.get(chunk)?)))
            .sum()
    }

    /// The ids in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.0
            .iter()
            .flat_map(|(&chunk, bitmap)| bitmap.iter().map(move |low| join(chunk, low)))
    }

    /// The ids above `after`, ascending.
    pub fn iter_after(&self, after: u64) -> impl Iterator<Item = u64> + '_ {
        // No id is above `u64::MAX`: then start past every chunk (a chunk
        // is an id shifted right, never `u64::MAX`).
        let (start_chunk, start_low) = after.checked_add(1).map_or((u64::MAX, 0), split);
        self.0
            .range(start_chunk..)
            .flat_map(move |(&chunk, bitmap)| {
                let from = if chunk == start_chunk { start_low } else { 0 };
                bitmap.range(from..).map(move |low| join(chunk, low))
            })
    }

    /// The largest id, if any.
    pub fn last(&self) -> Option<u64> {
        let (&chunk, bitmap) = self.0.iter().next_back()?;
        bitmap.max().map(|low| join(chunk, low))
    }

    /// Up to `limit` ids above `after`, ascending.
    pub fn ids_after(&self, after: u64, limit: usize) -> Vec<u64> {
        let Some(first) = after.checked_add(1) else {
            return Vec::new();
        };
        let (start_chunk, start_low) = split(first);
        let mut out = Vec::new();
        for (&chunk, bitmap) in self.0.range(start_chunk..) {
            let from = if chunk == start_chunk { start_low } else { 0 };
            for low in bitmap.range(from..) {
                if out.len() >= limit {
                    return out;
                }
                out.push(join(chunk, low));
            }
        }
        out
    }
}

/// Reads the union of the postings of every term in `[start, end)` (no
/// `end`: to the last key) of `table`.
///
/// Errors: `Storage` when the table cannot be read, `Internal` when a
/// bitmap does not decode.
pub(crate) fn read(
    tables: &dyn Tables,
    table: PostingTable,
    start: &[u8],
    end: Option<&[u8]>,
) -> Result<IdSet> {
    // Many terms (a short needle's trigrams) are unioned per chunk at once.
    let mut chunks: BTreeMap<u64, Vec<RoaringBitmap>> = BTreeMap::new();
    let name = table.name();
    tables.postings(table, start, end, &mut |key, value| {
        let chunk = trailing_u64(key).ok_or_else(|| {
            Error::internal(format!("{name}: a posting key is shorter than its chunk"))
        })?;
        chunks.entry(chunk).or_default().push(decode(name, value)?);
        Ok(())
    })?;
    let mut set = IdSet::new();
    for (chunk, bitmaps) in chunks {
        set.add_chunk(chunk, union_of(bitmaps));
    }
    Ok(set)
}

/// How many bytes of bitmaps [`read_raw`] copies in its pass over a range
/// besides each term's first: a small range is read once, a large one (a
/// common trigram, a short needle's many terms) first only as far as its
/// lowest chunks, which is all a first page mostly needs.
const EAGER_BYTES: usize = 8 * 1024;

/// The serialized bitmaps of one chunk, one per term: the term (its place
/// in the range's terms) and its bitmap, when it was copied.
type ChunkEntries = Vec<(usize, Option<Vec<u8>>)>;

/// The entries of a posting range grouped by chunk, their bitmaps not yet
/// decoded: every key read in one pass (term by term), but, for a range
/// whose bitmaps are larger than [`EAGER_BYTES`], only each term's first
/// bitmap copied. Chunks are then decoded one at a time in id order, so a
/// page that fills in its first chunks decodes no other; the first chunk
/// asked for whose bitmaps were not copied has the rest of the range read
/// in one more pass.
pub(crate) struct RawPostings {
    /// The table.
    table: PostingTable,
    /// The range: its first key, and the key after it (none: to the end).
    start: Vec<u8>,
    end: Option<Vec<u8>>,
    /// Chunk → its entries.
    chunks: RefCell<BTreeMap<u64, ChunkEntries>>,
}

impl RawPostings {
    /// The first chunk at or after `from` that holds an entry.
    pub(crate) fn next_chunk(&self, from: u64) -> Option<u64> {
        self.chunks
            .borrow()
            .range(from..)
            .next()
            .map(|(&chunk, _)| chunk)
    }

    /// The union of the range's bitmaps of one chunk (low bits of the ids),
    /// reading from `tables` those not copied yet (with every other one
    /// left, from this chunk on).
    ///
    /// Errors: `Storage` when the table cannot be read, `Internal` when a
    /// bitmap does not decode or the range changed between two passes.
    pub(crate) fn chunk(&self, tables: &dyn Tables, chunk: u64) -> Result<RoaringBitmap> {
        let name = self.table.name();
        let missing = self
            .chunks
            .borrow()
            .get(&chunk)
            .is_some_and(|entries| entries.iter().any(|(_, bytes)| bytes.is_none()));
        if missing {
            self.read_rest(tables, chunk)?;
        }
        let chunks = self.chunks.borrow();
        let Some(entries) = chunks.get(&chunk) else {
            return Ok(RoaringBitmap::new());
        };
        let bitmaps = entries
            .iter()
            .map(|(_, bytes)| match bytes {
                Some(bytes) => decode(name, bytes),
                None => Err(Error::internal(format!(
                    "{name}: a posting entry was not read"
                ))),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(union_of(bitmaps))
    }

    /// Copies every bitmap of the range in chunks from `from` on that the
    /// first pass left unread.
    fn read_rest(&self, tables: &dyn Tables, from: u64) -> Result<()> {
        let name = self.table.name();
        let mut chunks = self.chunks.borrow_mut();
        let mut term: Option<(Vec<u8>, usize)> = None;
        let mut terms: usize = 0;
        tables.postings(
            self.table,
            &self.start,
            self.end.as_deref(),
            &mut |key, value| {
                let chunk = chunk_of(name, key)?;
                let this = term_of(key);
                let index = match &term {
                    Some((last, index)) if last.as_slice() == this => *index,
                    _ => {
                        let index = terms;
                        terms = terms.saturating_add(1);
                        term = Some((this.to_vec(), index));
                        index
                    }
                };
                if chunk < from {
                    return Ok(());
                }
                let entry = chunks
                    .get_mut(&chunk)
                    .and_then(|entries| entries.iter_mut().find(|(t, _)| *t == index))
                    .ok_or_else(|| {
                        Error::internal(format!("{name}: a posting entry appeared during a read"))
                    })?;
                if entry.1.is_none() {
                    entry.1 = Some(value.to_vec());
                }
                Ok(())
            },
        )
    }
}

/// The chunk of a posting key; `Internal` naming the table when the key is
/// shorter than a chunk.
fn chunk_of(name: &str, key: &[u8]) -> Result<u64> {
    trailing_u64(key)
        .ok_or_else(|| Error::internal(format!("{name}: a posting key is shorter than its chunk")))
}

/// Reads the keys of every term in `[start, end)` (no `end`: to the last
/// key) of `table`, grouped by chunk, with their bitmaps left undecoded
/// (and, past [`EAGER_BYTES`], unread but each term's first).
///
/// Errors: `Storage` when the table cannot be read, `Internal` when a key
/// is shorter than its chunk.
pub(crate) fn read_raw(
    tables: &dyn Tables,
    table: PostingTable,
    start: &[u8],
    end: Option<&[u8]>,
) -> Result<RawPostings> {
    let mut chunks: BTreeMap<u64, ChunkEntries> = BTreeMap::new();
    let mut last_term: Vec<u8> = Vec::new();
    let mut terms: usize = 0;
    // Bytes copied of entries that are not their term's first; `None` once
    // past the budget (then those copies are dropped and no more made).
    let mut extra: Option<usize> = Some(0);
    let name = table.name();
    tables.postings(table, start, end, &mut |key, value| {
        let chunk = chunk_of(name, key)?;
        let term = term_of(key);
        let first = terms == 0 || last_term.as_slice() != term;
        if first {
            terms = terms.saturating_add(1);
            last_term.clear();
            last_term.extend_from_slice(term);
        }
        let copy = match extra {
            _ if first => true,
            Some(bytes) if bytes.saturating_add(value.len()) <= EAGER_BYTES => {
                extra = Some(bytes.saturating_add(value.len()));
                true
            }
            Some(_) => {
                extra = None;
                forget_later_entries(&mut chunks);
                false
            }
            None => false,
        };
        chunks
            .entry(chunk)
            .or_default()
            .push((terms.saturating_sub(1), copy.then(|| value.to_vec())));
        Ok(())
    })?;
    Ok(RawPostings {
        table,
        start: start.to_vec(),
        end: end.map(<[u8]>::to_vec),
        chunks: RefCell::new(chunks),
    })
}

/// Drops the copied bitmaps of every entry but each term's first (the one
/// in its lowest chunk).
fn forget_later_entries(chunks: &mut BTreeMap<u64, ChunkEntries>) {
    let mut seen = std::collections::HashSet::new();
    for entries in chunks.values_mut() {
        for (term, bytes) in entries.iter_mut() {
            if !seen.insert(*term) {
                *bytes = None;
            }
        }
    }
}

/// The union of one chunk's bitmaps (roaring's merge of many at once).
fn union_of(bitmaps: Vec<RoaringBitmap>) -> RoaringBitmap {
    bitmaps.union()
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)] // test arithmetic on small known values
mod tests {
    use super::*;

    #[test]
    fn a_damaged_bitmap_is_an_error_naming_its_table_and_a_sound_one_reads_back() {
        let bitmap: RoaringBitmap = [4u32, 8, 15, 16, 23, 42, 70_000].into_iter().collect();
        let bytes = encode(&bitmap).unwrap();
        assert_eq!(decode("user_roles", &bytes).unwrap(), bitmap);
        // The first container's first two values (4 and 8) swapped.
        let mut swapped = bytes.clone();
        let at = 8 + 2 * 8;
        swapped.swap(at, at + 2);
        let err = decode("user_roles", &swapped).unwrap_err().to_string();
        assert!(
            err.contains("user_roles") && err.contains("damaged"),
            "{err}"
        );
        // Cut short, or not a bitmap at all.
        for bad in [&bytes[..bytes.len() - 1], &bytes[..2], b"not a bitmap"] {
            let err = decode("user_roles", bad).unwrap_err().to_string();
            assert!(err.contains("user_roles"), "{err}");
        }
    }

    #[test]
    fn id_sets_keep_ids_across_chunks_in_order() {
        let mut set = IdSet::new();
        for id in [5, 1 << 16, (1 << 16) + 7, 3, u64::from(u32::MAX) + 9] {
            set.insert(id);
        }
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [3, 5, 1 << 16, (1 << 16) + 7, u64::from(u32::MAX) + 9]
        );
        assert_eq!(set.len(), 5);
        assert!(set.contains(65_543) && !set.contains(65_544));
        assert_eq!(set.ids_after(5, 2), [1 << 16, (1 << 16) + 7]);
        assert_eq!(set.ids_after(65_543, 10), [u64::from(u32::MAX) + 9]);
        assert!(set.ids_after(u64::MAX, 10).is_empty());
        assert_eq!(
            set.iter_after(5).collect::<Vec<_>>(),
            [1 << 16, (1 << 16) + 7, u64::from(u32::MAX) + 9]
        );
        assert_eq!(set.iter_after(0).next(), Some(3));
        assert!(set.iter_after(u64::MAX).next().is_none());
        let mut other = IdSet::new();
        for id in [5, (1 << 16) + 7, 11] {
            other.insert(id);
        }
        assert_eq!(set.intersection_len(&other), 2);
        let mut both = set.clone();
        both.intersect_with(&other);
        assert_eq!(both.iter().collect::<Vec<_>>(), [5, (1 << 16) + 7]);
        both.union_with(other);
        assert_eq!(both.len(), 3);
    }

    #[test]
    fn unions_of_many_bitmaps_hold_every_id_once() {
        let bitmaps: Vec<RoaringBitmap> = (0..9_u32)
            .map(|k| (0..2000_u32).map(|i| (i * 31 + k * 7) % 65_536).collect())
            .collect();
        let mut want = RoaringBitmap::new();
        for b in &bitmaps {
            want |= b;
        }
        assert_eq!(union_of(bitmaps.clone()), want);
        assert_eq!(
            union_of(bitmaps[..3].to_vec()),
            &bitmaps[0] | &bitmaps[1] | &bitmaps[2]
        );
        assert_eq!(
            union_of(vec![RoaringBitmap::from_iter([65_535_u32])]).len(),
            1
        );
    }
}
