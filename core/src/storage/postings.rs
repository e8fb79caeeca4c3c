//! Postings (SPEC §11, format 5): for each term of an index (a trigram of a
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

use std::collections::BTreeMap;

use redb::{TableDefinition, TableHandle};
use roaring::RoaringBitmap;

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

/// Decodes a stored bitmap; `Storage` naming the table when it is damaged.
pub(crate) fn decode(table: &str, bytes: &[u8]) -> Result<RoaringBitmap> {
    RoaringBitmap::deserialize_from(bytes)
        .map_err(|e| Error::internal(format!("{table}: a posting bitmap does not decode ({e})")))
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

/// The entries of a posting range grouped by chunk, their bitmaps not yet
/// decoded: read in one pass (term by term), then decoded a chunk at a
/// time in id order, so a page that fills in its first chunks decodes no
/// other.
pub(crate) struct RawPostings {
    /// The table's name, for errors.
    name: String,
    /// Chunk → the serialized bitmaps of that chunk, one per term.
    chunks: BTreeMap<u64, Vec<Vec<u8>>>,
}

impl RawPostings {
    /// The first chunk at or after `from` that holds an entry.
    pub(crate) fn next_chunk(&self, from: u64) -> Option<u64> {
        self.chunks.range(from..).next().map(|(&chunk, _)| chunk)
    }

    /// The union of the range's bitmaps of one chunk (low bits of the ids).
    ///
    /// Errors: `Internal` when a bitmap does not decode.
    pub(crate) fn chunk(&self, chunk: u64) -> Result<RoaringBitmap> {
        let Some(entries) = self.chunks.get(&chunk) else {
            return Ok(RoaringBitmap::new());
        };
        let bitmaps = entries
            .iter()
            .map(|bytes| decode(&self.name, bytes))
            .collect::<Result<Vec<_>>>()?;
        Ok(union_of(bitmaps))
    }
}

/// Reads the entries of every term in `[start, end)` (no `end`: to the
/// last key) of `table`, grouped by chunk and left undecoded.
///
/// Errors: `Storage` when the table cannot be read, `Internal` when a key
/// is shorter than its chunk.
pub(crate) fn read_raw(
    tables: &dyn Tables,
    table: PostingTable,
    start: &[u8],
    end: Option<&[u8]>,
) -> Result<RawPostings> {
    let mut chunks: BTreeMap<u64, Vec<Vec<u8>>> = BTreeMap::new();
    let name = table.name();
    tables.postings(table, start, end, &mut |key, value| {
        let chunk = trailing_u64(key).ok_or_else(|| {
            Error::internal(format!("{name}: a posting key is shorter than its chunk"))
        })?;
        chunks.entry(chunk).or_default().push(value.to_vec());
        Ok(())
    })?;
    Ok(RawPostings {
        name: name.to_owned(),
        chunks,
    })
}

/// The union of one chunk's bitmaps: a few merged directly, more through
/// one plain bit set of the chunk (one pass over their ids, no
/// intermediate containers).
fn union_of(bitmaps: Vec<RoaringBitmap>) -> RoaringBitmap {
    if bitmaps.len() <= 4 {
        let mut all = RoaringBitmap::new();
        for bitmap in bitmaps {
            all |= bitmap;
        }
        return all;
    }
    let mut words = vec![0_u64; 1 << (CHUNK_BITS - 6)];
    for bitmap in &bitmaps {
        for low in bitmap {
            let low = low as usize;
            if let Some(word) = words.get_mut(low >> 6) {
                *word |= 1_u64.wrapping_shl((low & 63) as u32);
            }
        }
    }
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    RoaringBitmap::from_lsb0_bytes(0, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

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
